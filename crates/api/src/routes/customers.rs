//! `/api/v1/customers`: tenant accounts (seed: Customer Aggregate).

use actix_web::http::header;
use actix_web::{get, patch, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_domain::customer::{Customer, CustomerStatus, StatusAction};
use clientele_tenancy::customers::{self as uc, CustomerChanges, CustomerQuery, NewCustomer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::extract::{etag, path_id, Caller, IfMatch, Json, OptionalJson, Query};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{
    AuthErrors, CreateErrors, ListErrors, ReadErrors, TransitionErrors, UpdateErrors,
};
use crate::state::AppState;

/// A tenant account.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerBody {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    #[schema(example = "active")]
    pub status: CustomerStatusBody,
    /// Global settings, inherited by every project.
    #[schema(additional_properties)]
    pub settings: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status_changed_at: DateTime<Utc>,
    /// Incremented on every change; also the ETag.
    pub version: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatusBody {
    Active,
    Suspended,
    Inactive,
}

impl From<CustomerStatus> for CustomerStatusBody {
    fn from(s: CustomerStatus) -> Self {
        match s {
            CustomerStatus::Active => Self::Active,
            CustomerStatus::Suspended => Self::Suspended,
            CustomerStatus::Inactive => Self::Inactive,
        }
    }
}

impl From<CustomerStatusBody> for CustomerStatus {
    fn from(s: CustomerStatusBody) -> Self {
        match s {
            CustomerStatusBody::Active => Self::Active,
            CustomerStatusBody::Suspended => Self::Suspended,
            CustomerStatusBody::Inactive => Self::Inactive,
        }
    }
}

impl From<Customer> for CustomerBody {
    fn from(c: Customer) -> Self {
        CustomerBody {
            id: c.id,
            name: c.name,
            email: c.email.into_string(),
            status: c.status.into(),
            settings: c.settings,
            created_at: c.created_at,
            updated_at: c.updated_at,
            status_changed_at: c.status_changed_at,
            version: c.version,
        }
    }
}

fn with_etag(mut res: actix_web::HttpResponseBuilder, c: Customer) -> HttpResponse {
    res.insert_header((header::ETAG, etag(c.version)))
        .json(CustomerBody::from(c))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerRequest {
    /// Company or organization name (1 to 200 characters).
    #[serde(default)]
    #[schema(example = "Acme Corporation")]
    pub name: String,
    /// Primary contact email; unique across customers, case-insensitively.
    #[serde(default)]
    #[schema(example = "admin@acmecorp.com")]
    pub email: String,
    /// Initial global settings (a JSON object).
    #[serde(default)]
    #[schema(additional_properties)]
    pub settings: Option<Map<String, Value>>,
}

/// Create a customer (tenant account). It starts `active`.
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    request_body = CreateCustomerRequest,
    responses(
        (status = 201, description = "Created", body = CustomerBody,
         headers(("ETag" = String, description = "Version tag for If-Match"),
                 ("Location" = String, description = "URL of the new customer"))),
        CreateErrors, AuthErrors,
    )
)]
#[post("/customers")]
pub async fn create_customer(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateCustomerRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let customer = uc::create(
        &state.db,
        &state.platform,
        &caller.actor,
        NewCustomer {
            name: body.name,
            email: body.email,
            settings: body.settings.map(Value::Object),
        },
    )
    .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/api/v1/customers/{}", customer.id),
    ));
    Ok(with_etag(res, customer))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCustomersQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    pub offset: Option<i64>,
    /// Only customers with this status.
    pub status: Option<CustomerStatusBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerList {
    pub customers: Vec<CustomerBody>,
    /// Customers matching the filter, across all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// List customers, newest first.
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    params(ListCustomersQuery),
    responses((status = 200, description = "A page of customers", body = CustomerList), ListErrors, AuthErrors)
)]
#[get("/customers")]
pub async fn list_customers(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListCustomersQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid("offset", "must not be negative"));
    }
    let (items, total) = uc::list(
        &state.db,
        &caller.actor,
        CustomerQuery {
            status: q.status.map(Into::into),
            limit,
            offset,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(CustomerList {
        customers: items.into_iter().map(CustomerBody::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// Get a customer.
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses(
        (status = 200, description = "The customer", body = CustomerBody,
         headers(("ETag" = String, description = "Version tag for If-Match"))),
        ReadErrors, AuthErrors,
    )
)]
#[get("/customers/{id}")]
pub async fn get_customer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let customer = uc::get(&state.db, &caller.actor, id).await?;
    Ok(with_etag(HttpResponse::Ok(), customer))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomerRequest {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Update a customer's name and/or email. Send `If-Match` to refuse a stale update.
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("If-Match" = Option<String>, Header, description = "ETag from a previous read"),
    ),
    request_body = UpdateCustomerRequest,
    responses(
        (status = 200, description = "The updated customer", body = CustomerBody,
         headers(("ETag" = String, description = "Version tag for If-Match"))),
        UpdateErrors, AuthErrors,
    )
)]
#[put("/customers/{id}")]
pub async fn update_customer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<UpdateCustomerRequest>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let body = body.0;
    let customer = uc::update(
        &state.db,
        &caller.actor,
        id,
        CustomerChanges {
            name: body.name,
            email: body.email,
        },
        if_match.0,
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), customer))
}

/// The settings envelope of the seed API.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsResponse {
    pub success: bool,
    #[schema(additional_properties)]
    pub settings: Map<String, Value>,
}

fn settings_response(c: Customer) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(c.version)))
        .json(SettingsResponse {
            success: true,
            settings: c.settings,
        })
}

/// Get a customer's global settings.
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The settings", body = SettingsResponse), ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    Ok(settings_response(
        uc::get(&state.db, &caller.actor, id).await?,
    ))
}

/// Replace a customer's global settings with the body (a JSON object).
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("If-Match" = Option<String>, Header, description = "ETag from a previous read"),
    ),
    request_body(content = Object, description = "The new settings object"),
    responses((status = 200, description = "The new settings", body = SettingsResponse), UpdateErrors, AuthErrors)
)]
#[put("/customers/{id}/settings")]
pub async fn replace_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let c = uc::replace_settings(
        &state.db,
        &state.platform,
        &caller.actor,
        id,
        body.0,
        if_match.0,
    )
    .await?;
    Ok(settings_response(c))
}

/// Change settings with an RFC 7396 JSON merge patch: objects merge, `null` removes a key.
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("If-Match" = Option<String>, Header, description = "ETag from a previous read"),
    ),
    request_body(content = Object, content_type = "application/merge-patch+json",
                 description = "A merge patch"),
    responses((status = 200, description = "The merged settings", body = SettingsResponse), UpdateErrors, AuthErrors)
)]
#[patch("/customers/{id}/settings")]
pub async fn patch_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let c = uc::patch_settings(
        &state.db,
        state.platform.clone(),
        &caller.actor,
        id,
        body.0,
        if_match.0,
    )
    .await?;
    Ok(settings_response(c))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChangeRequest {
    /// Why (kept on the event; at most 500 characters).
    pub reason: Option<String>,
}

/// The answer of a lifecycle action; the timestamp field is named after the action
/// (`suspended_at`, `activated_at`, `deactivated_at`).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChangeResponse {
    pub success: bool,
    pub customer_id: Uuid,
    pub status: CustomerStatusBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<DateTime<Utc>>,
}

async fn change_status(
    state: &AppState,
    caller: Caller,
    id: &str,
    action: StatusAction,
    body: Option<StatusChangeRequest>,
) -> ApiResult<HttpResponse> {
    let id = path_id(id, "id")?;
    let reason = body.and_then(|b| b.reason);
    let c = uc::transition(&state.db, &caller.actor, id, action, reason).await?;
    let at = Some(c.status_changed_at);
    let mut res = StatusChangeResponse {
        success: true,
        customer_id: c.id,
        status: c.status.into(),
        suspended_at: None,
        activated_at: None,
        deactivated_at: None,
    };
    match action {
        StatusAction::Suspend => res.suspended_at = at,
        StatusAction::Activate => res.activated_at = at,
        StatusAction::Deactivate => res.deactivated_at = at,
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(c.version)))
        .json(res))
}

/// Suspend a customer (payment failed, policy violation): its data is kept.
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body(content = Option<StatusChangeRequest>, description = "Optional reason"),
    responses((status = 200, description = "Suspended", body = StatusChangeResponse), TransitionErrors, AuthErrors)
)]
#[post("/customers/{id}/suspend")]
pub async fn suspend_customer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: OptionalJson<StatusChangeRequest>,
) -> ApiResult<HttpResponse> {
    change_status(&state, caller, &id, StatusAction::Suspend, body.0).await
}

/// Activate a suspended or inactive customer.
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body(content = Option<StatusChangeRequest>, description = "Optional reason"),
    responses((status = 200, description = "Active", body = StatusChangeResponse), TransitionErrors, AuthErrors)
)]
#[post("/customers/{id}/activate")]
pub async fn activate_customer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: OptionalJson<StatusChangeRequest>,
) -> ApiResult<HttpResponse> {
    change_status(&state, caller, &id, StatusAction::Activate, body.0).await
}

/// Deactivate (close) a customer: no access for its people, data kept.
#[utoipa::path(
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body(content = Option<StatusChangeRequest>, description = "Optional reason"),
    responses((status = 200, description = "Inactive", body = StatusChangeResponse), TransitionErrors, AuthErrors)
)]
#[post("/customers/{id}/deactivate")]
pub async fn deactivate_customer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: OptionalJson<StatusChangeRequest>,
) -> ApiResult<HttpResponse> {
    change_status(&state, caller, &id, StatusAction::Deactivate, body.0).await
}

/// Keys locked by the customer: no project or channel may override them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocksBody {
    /// Dotted keys, e.g. `security.require_2fa`.
    #[schema(example = json!(["security.require_2fa"]))]
    pub locks: Vec<String>,
}

fn locks_response(locks: clientele_domain::settings::Locks, version: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(LocksBody {
            locks: locks.keys().to_vec(),
        })
}

/// The keys the customer locked against overrides below it.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The locks", body = LocksBody), ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/settings/locks")]
pub async fn get_locks(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let (locks, version) = uc::locks(&state.db, &caller.actor, id).await?;
    Ok(locks_response(locks, version))
}

/// Replace the locks. A locked key's effective value is always the customer's, and
/// projects and channels that try to override it get 422 naming the key.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the customer")),
    request_body = LocksBody,
    responses((status = 200, description = "The locks", body = LocksBody), UpdateErrors, AuthErrors)
)]
#[put("/customers/{id}/settings/locks")]
pub async fn put_locks(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<LocksBody>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let (locks, version) =
        uc::set_locks(&state.db, &caller.actor, id, body.0.locks, if_match.0).await?;
    Ok(locks_response(locks, version))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_locks).service(put_locks);
    cfg.service(create_customer)
        .service(list_customers)
        .service(get_customer)
        .service(update_customer)
        .service(get_settings)
        .service(replace_settings)
        .service(patch_settings)
        .service(suspend_customer)
        .service(activate_customer)
        .service(deactivate_customer);
}
