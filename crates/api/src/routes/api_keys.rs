//! `/customers/{id}/api-keys`: machine credentials of a customer.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_persistence::api_keys::ApiKey;
use clientele_tenancy::api_keys as uc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::extract::{path_id, Caller, Json};
use crate::problem::ApiResult;
use crate::responses::{AuthErrors, CreateErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// An API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyBody {
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    /// When set, the key works only in this project.
    pub project_id: Option<Uuid>,
    pub name: String,
    /// The first characters of the secret, to recognize the key.
    #[schema(example = "clk_Zq3xY1ab")]
    pub prefix: String,
    #[schema(example = json!(["contacts:read"]))]
    pub scopes: Vec<String>,
    /// Who created it (`user:<id>`, `platform_admin:<id>` or `cli`).
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(k: ApiKey) -> Self {
        ApiKeyBody {
            id: k.id,
            customer_id: k.customer_id,
            project_id: k.project_id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            created_by: k.created_by,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKeyBody>,
}

/// A customer's API keys, newest first, revoked ones included (owners and admins).
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The keys", body = ApiKeyList), ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let keys = uc::list(&state.db, &caller.actor, id).await?;
    Ok(HttpResponse::Ok().json(ApiKeyList {
        api_keys: keys.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    #[serde(default)]
    #[schema(example = "CRM sync")]
    pub name: String,
    /// `contacts:read` and/or `contacts:write`.
    #[serde(default)]
    #[schema(example = json!(["contacts:read"]))]
    pub scopes: Vec<String>,
    /// Limit the key to one project of the customer.
    pub project_id: Option<Uuid>,
}

/// A new key with its secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKeyBody,
    /// Use as `Authorization: Bearer <secret>`. Store it now: it cannot be shown again.
    pub secret: String,
}

/// Create an API key for the customer (owners and admins).
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = CreateApiKeyRequest,
    responses((status = 201, description = "Created; the secret is in the body", body = CreatedApiKey),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/customers/{id}/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<CreateApiKeyRequest>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let b = body.0;
    let (key, secret) =
        uc::create_for_customer(&state.db, &caller.actor, id, b.name, b.scopes, b.project_id)
            .await?;
    // The secret must not linger in caches or proxies.
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedApiKey {
            key: key.into(),
            secret,
        }))
}

/// Revoke a key: its next request is refused.
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("key_id" = Uuid, Path, description = "API key id")),
    responses((status = 204, description = "Revoked"), UpdateErrors, AuthErrors)
)]
#[delete("/customers/{id}/api-keys/{key_id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, key_id) = (path_id(&path.0, "id")?, path_id(&path.1, "key_id")?);
    uc::revoke(&state.db, &caller.actor, id, key_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_api_keys)
        .service(create_api_key)
        .service(revoke_api_key);
}
