//! Operations endpoints: liveness, readiness, metrics, the OpenAPI document.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyBody {
    #[schema(example = "ready")]
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// Liveness: the process answers. Also the framework ceiling for benchmarks.
#[utoipa::path(tag = "ops", responses((status = 200, description = "Up", body = HealthBody)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthBody {
        status: "ok".into(),
    })
}

/// Readiness: the database answers a query.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, description = "Ready", body = ReadyBody),
        (status = 503, description = "The database is unreachable", body = crate::problem::Problem,
         content_type = "application/problem+json"),
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state.db.ping().await?;
    let database = match state.db.backend() {
        clientele_persistence::Backend::Sqlite => "sqlite",
        clientele_persistence::Backend::Postgres => "postgres",
    };
    Ok(HttpResponse::Ok().json(ReadyBody {
        status: "ready".into(),
        database: database.into(),
    }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4"))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state.db.pool_state()))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
#[get("/openapi.json")]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.clone())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(health)
        .service(ready)
        .service(metrics)
        .service(openapi_json);
}
