//! `/customers/{id}/webhooks`: where a customer's events are delivered, and the log.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_persistence::webhooks::{Delivery, Webhook};
use clientele_tenancy::webhooks::{self as uc, NewWebhook, TargetPolicy, WebhookChanges};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::extract::{etag, path_id, Caller, IfMatch, Json, Query};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{AuthErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// A webhook, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: Uuid,
    pub customer_id: Uuid,
    #[schema(example = "https://example.com/hooks/clientele")]
    pub url: String,
    /// Only these event types are delivered; empty: every type.
    #[schema(example = json!(["contact.created", "customer.suspended"]))]
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; also the ETag.
    pub version: i64,
}

impl From<Webhook> for WebhookBody {
    fn from(w: Webhook) -> Self {
        WebhookBody {
            id: w.id,
            customer_id: w.customer_id,
            url: w.url,
            event_types: w.event_types,
            description: w.description,
            enabled: w.enabled,
            created_at: w.created_at,
            updated_at: w.updated_at,
            version: w.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookBody>,
}

fn policy(p: Option<web::Data<TargetPolicy>>) -> TargetPolicy {
    // Without configuration (the OpenAPI-only app), the safe default: refuse private targets.
    p.map(|p| **p).unwrap_or_default()
}

fn webhook_response(mut res: actix_web::HttpResponseBuilder, w: Webhook) -> HttpResponse {
    res.insert_header((header::ETAG, etag(w.version)))
        .json(WebhookBody::from(w))
}

fn ids(raw: &(String, String)) -> ApiResult<(Uuid, Uuid)> {
    Ok((path_id(&raw.0, "id")?, path_id(&raw.1, "wid")?))
}

/// A customer's webhooks, newest first (owners and admins).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The webhooks", body = WebhookList), ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let list = uc::list(&state.db, &caller.actor, id).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        webhooks: list.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// An http or https URL on a public address.
    #[serde(default)]
    #[schema(example = "https://example.com/hooks/clientele")]
    pub url: String,
    /// Deliver only these event types; absent or empty: every type.
    #[serde(default)]
    pub event_types: Vec<String>,
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// A new webhook with its signing secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookBody,
    /// `whsec_<base64 key>`: verify the `webhook-signature` header of each delivery with
    /// it (Standard Webhooks). Store it now: it cannot be shown again.
    pub secret: String,
}

/// Create a webhook (owners and admins). It receives the events that happen from now
/// on, in order, signed in the Standard Webhooks form (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = CreateWebhookRequest,
    responses((status = 201, description = "Created; the secret is in the body", body = CreatedWebhook,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/customers/{id}/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    target_policy: Option<web::Data<TargetPolicy>>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let b = body.0;
    let (w, secret) = uc::create(
        &state.db,
        policy(target_policy),
        &caller.actor,
        id,
        NewWebhook {
            url: b.url,
            event_types: b.event_types,
            description: b.description,
            enabled: b.enabled,
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ETAG, etag(w.version)))
        .insert_header((
            header::LOCATION,
            format!("/api/v1/customers/{id}/webhooks/{}", w.id),
        ))
        .json(CreatedWebhook {
            webhook: w.into(),
            secret,
        }))
}

/// One webhook (owners and admins).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("wid" = Uuid, Path, description = "Webhook id")),
    responses((status = 200, description = "The webhook", body = WebhookBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/webhooks/{wid}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, wid) = ids(&path)?;
    let w = uc::get(&state.db, &caller.actor, id, wid).await?;
    Ok(webhook_response(HttpResponse::Ok(), w))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    /// Empty: every type.
    pub event_types: Option<Vec<String>>,
    /// An empty string clears it.
    pub description: Option<String>,
    /// A disabled webhook keeps its position and resumes from it when enabled again.
    pub enabled: Option<bool>,
}

/// Change a webhook (owners and admins); absent fields stay as they are.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("wid" = Uuid, Path, description = "Webhook id"),
           ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = UpdateWebhookRequest,
    responses((status = 200, description = "The webhook", body = WebhookBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              UpdateErrors, AuthErrors)
)]
#[patch("/customers/{id}/webhooks/{wid}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    target_policy: Option<web::Data<TargetPolicy>>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    body: Json<UpdateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    let (id, wid) = ids(&path)?;
    let b = body.0;
    let w = uc::update(
        &state.db,
        policy(target_policy),
        &caller.actor,
        id,
        wid,
        WebhookChanges {
            url: b.url,
            event_types: b.event_types,
            description: b
                .description
                .map(|d| Some(d).filter(|d| !d.trim().is_empty())),
            enabled: b.enabled,
        },
        if_match.0,
    )
    .await?;
    Ok(webhook_response(HttpResponse::Ok(), w))
}

/// Delete a webhook and its delivery log (owners and admins).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("wid" = Uuid, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted"), UpdateErrors, AuthErrors)
)]
#[delete("/customers/{id}/webhooks/{wid}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, wid) = ids(&path)?;
    uc::delete(&state.db, &caller.actor, id, wid).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One delivery of one event to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The event sent (also the `webhook-id` header).
    pub event_id: Uuid,
    #[schema(example = "contact.created")]
    pub event_type: String,
    /// `pending`, `succeeded` or `failed` (after every attempt).
    #[schema(example = "succeeded")]
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last answer.
    pub last_status: Option<i32>,
    /// Why the last attempt failed, briefly.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryBody {
    fn from(d: Delivery) -> Self {
        DeliveryBody {
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// How many, 1 to 100 (default 20).
    pub limit: Option<i64>,
}

/// The delivery log of a webhook, newest event first (owners and admins).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("wid" = Uuid, Path, description = "Webhook id"),
           DeliveriesQuery),
    responses((status = 200, description = "The deliveries", body = DeliveryList),
              ListErrors, ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/webhooks/{wid}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    query: Query<DeliveriesQuery>,
) -> ApiResult<HttpResponse> {
    let (id, wid) = ids(&path)?;
    let limit = query.0.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let list = uc::deliveries(&state.db, &caller.actor, id, wid, limit).await?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        deliveries: list.into_iter().map(Into::into).collect(),
    }))
}

/// Send a delivery again (owners and admins): it becomes pending with a fresh attempt
/// budget and the worker sends it soon, beside the webhook's in-order stream.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("wid" = Uuid, Path, description = "Webhook id"),
           ("did" = Uuid, Path, description = "Delivery id")),
    responses((status = 202, description = "Queued", body = DeliveryBody), UpdateErrors, AuthErrors)
)]
#[post("/customers/{id}/webhooks/{wid}/deliveries/{did}/replay")]
pub async fn replay_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, wid, did) = (
        path_id(&path.0, "id")?,
        path_id(&path.1, "wid")?,
        path_id(&path.2, "did")?,
    );
    let d = uc::replay(&state.db, &caller.actor, id, wid, did).await?;
    Ok(HttpResponse::Accepted().json(DeliveryBody::from(d)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_webhooks)
        .service(create_webhook)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(list_deliveries)
        .service(replay_delivery);
}
