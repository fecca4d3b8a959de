//! Clientele HTTP API: actix-web handlers, extractors, problem+json errors, OpenAPI,
//! and the operations endpoints.

pub mod cursor;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod problem;
mod responses;
pub mod routes;
pub mod routing;
pub mod state;

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{body::BoxBody, web, App, Error};
use clientele_persistence::Db;
use utoipa_actix_web::AppExt;

pub use openapi::{openapi, openapi_json};
pub use state::AppState;

/// Everything the app needs, built once and shared by every worker.
pub fn state(
    db: Db,
    auth: std::sync::Arc<clientele_tenancy::identity::AuthService>,
    platform: std::sync::Arc<clientele_tenancy::settings::Platform>,
    signups_per_hour: u32,
) -> Result<web::Data<AppState>, String> {
    let api = openapi::openapi();
    let openapi_json = api
        .to_pretty_json()
        .map_err(|e| format!("cannot serialize the OpenAPI document: {e}"))?;
    Ok(web::Data::new(AppState {
        db,
        auth,
        platform,
        signup_limiter: state::RateLimiter::new(
            signups_per_hour,
            std::time::Duration::from_secs(3600),
        ),
        metrics: metrics::Metrics::new().map_err(|e| format!("cannot set up metrics: {e}"))?,
        routes: routing::RouteTable::from_openapi(&api),
        openapi_json,
    }))
}

/// The application: documented routes, docs UI, fallback, middleware.
pub fn app(
    state: web::Data<AppState>,
    body_limit: usize,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let (app, _) = openapi::register(App::new().into_utoipa_app()).split_for_parts();
    app.app_data(state)
        .app_data(extract::BodyLimit(body_limit))
        .configure(routes::docs::configure)
        .default_service(web::to(routing::fallback))
        .wrap(actix_web::middleware::from_fn(middleware::observe))
}
