//! The OpenAPI document, generated from the same registrations as the router.

use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::problem::{Problem, ProblemField};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Clientele API",
        description = "Multi-tenant customer management: tenants (customers), their projects and contacts.\n\nErrors are RFC 9457 problem documents (`application/problem+json`).",
        license(name = "Apache-2.0"),
    ),
    components(schemas(Problem, ProblemField)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-up, tokens and the current user"),
        (name = "customers", description = "Tenant accounts"),
        (name = "members", description = "The people of a customer and their project roles"),
        (name = "api-keys", description = "Machine credentials of a customer"),
        (name = "projects", description = "Projects of a customer and their channels"),
        (name = "settings", description = "Settings inheritance: overrides, locks, effective values, schema"),
        (name = "contacts", description = "The customer records of a project: lifecycle, tags, search and what hangs under a contact"),
        (name = "billing", description = "Billing accounts and the billing system's view"),
        (name = "events", description = "The event feed and audit log"),
        (name = "webhooks", description = "Signed delivery of a customer's events to its URLs"),
        (name = "ops", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

/// `Authorization: Bearer <token>`: a JWT for people, an API key (`clk_...`) for machines.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or API key")
                    .description(Some(
                        "An access token from /api/v1/auth/token or /api/v1/signup, or an API key",
                    ))
                    .build(),
            ),
        );
    }
}

/// Registers every documented route; used by the server and by [`openapi`].
pub fn register(
    app: utoipa_actix_web::UtoipaApp<
        impl actix_web::dev::ServiceFactory<
                actix_web::dev::ServiceRequest,
                Config = (),
                Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
    >,
) -> utoipa_actix_web::UtoipaApp<
    impl actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
> {
    app.openapi(ApiDoc::openapi())
        .configure(crate::routes::ops::configure)
        .service(crate::routes::auth::jwks)
        .service(
            // A request is matched against the registered paths in this order, one
            // pattern at a time: the CRM data, by far the most requested, goes first.
            // No two modules register overlapping paths, so the order decides nothing
            // else.
            utoipa_actix_web::scope("/api/v1")
                .configure(crate::routes::contacts::configure)
                .configure(crate::routes::contact_parts::configure)
                .configure(crate::routes::companies::configure)
                .configure(crate::routes::auth::configure)
                .configure(crate::routes::customers::configure)
                .configure(crate::routes::members::configure)
                .configure(crate::routes::api_keys::configure)
                .configure(crate::routes::projects::configure)
                .configure(crate::routes::billing::configure)
                .configure(crate::routes::events::configure)
                .configure(crate::routes::webhooks::configure),
        )
}

/// The OpenAPI document of this build.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = register(actix_web::App::new().into_utoipa_app()).split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_string();
    api
}

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn openapi_json() -> String {
    let mut s = openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
