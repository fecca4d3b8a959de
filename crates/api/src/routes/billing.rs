//! Billing accounts, and what the billing system reads: status, accounts, projects
//! and usage of every customer.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_domain::identity::BillingAccount;
use clientele_tenancy::billing::{self as uc, AccountInput, BillingQuery, BillingView, Usage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cursor;
use crate::extract::{etag, path_id, Caller, IfMatch, Json, Query};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{AuthErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::routes::auth::BillingAccountBody;
use crate::routes::customers::CustomerStatusBody;
use crate::state::AppState;

fn account_response(mut res: actix_web::HttpResponseBuilder, b: BillingAccount) -> HttpResponse {
    res.insert_header((header::ETAG, etag(b.version)))
        .json(BillingAccountBody::from(b))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingAccountList {
    pub billing_accounts: Vec<BillingAccountBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingAccountRequest {
    #[schema(example = "EMEA invoices")]
    pub name: Option<String>,
    #[schema(example = "billing@acmecorp.com")]
    pub billing_email: Option<String>,
    /// ISO 4217.
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    /// `monthly` (default) or `yearly`.
    pub billing_cycle: Option<String>,
    /// `active` or `closed` (updates only; an account with active projects stays open).
    pub status: Option<String>,
}

impl From<BillingAccountRequest> for AccountInput {
    fn from(b: BillingAccountRequest) -> Self {
        AccountInput {
            name: b.name,
            billing_email: b.billing_email,
            currency: b.currency,
            billing_cycle: b.billing_cycle,
            status: b.status,
        }
    }
}

/// Open a billing account for the customer (owners, admins, billing members).
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = BillingAccountRequest,
    responses((status = 201, description = "Created", body = BillingAccountBody,
               headers(("Location" = String, description = "URL of the new account"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/customers/{id}/billing-accounts")]
pub async fn create_account(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<BillingAccountRequest>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let b = uc::create(&state.db, &caller.actor, id, body.0.into()).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/api/v1/billing-accounts/{}", b.id),
    ));
    Ok(account_response(res, b))
}

/// The customer's billing accounts, oldest first.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The accounts", body = BillingAccountList), ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/billing-accounts")]
pub async fn list_accounts(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let list = uc::list(&state.db, &caller.actor, id).await?;
    Ok(HttpResponse::Ok().json(BillingAccountList {
        billing_accounts: list.into_iter().map(Into::into).collect(),
    }))
}

/// Get a billing account.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("bid" = Uuid, Path, description = "Billing account id")),
    responses((status = 200, description = "The account", body = BillingAccountBody), ReadErrors, AuthErrors)
)]
#[get("/billing-accounts/{bid}")]
pub async fn get_account(
    state: web::Data<AppState>,
    caller: Caller,
    bid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let bid = path_id(&bid, "bid")?;
    let b = uc::get(&state.db, &caller.actor, bid).await?;
    Ok(account_response(HttpResponse::Ok(), b))
}

/// Change a billing account; closing one that active projects bill to gets 409.
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("bid" = Uuid, Path, description = "Billing account id"),
           ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = BillingAccountRequest,
    responses((status = 200, description = "The account", body = BillingAccountBody), UpdateErrors, AuthErrors)
)]
#[patch("/billing-accounts/{bid}")]
pub async fn update_account(
    state: web::Data<AppState>,
    caller: Caller,
    bid: web::Path<String>,
    if_match: IfMatch,
    body: Json<BillingAccountRequest>,
) -> ApiResult<HttpResponse> {
    let bid = path_id(&bid, "bid")?;
    let b = uc::update(&state.db, &caller.actor, bid, body.0.into(), if_match.0).await?;
    Ok(account_response(HttpResponse::Ok(), b))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageBody {
    /// Active (not archived) projects.
    pub projects: i64,
    /// People: of the customer in totals; with a project role per project and account.
    pub members: i64,
    /// Unrevoked API keys (customer-wide keys count in the totals only).
    pub api_keys: i64,
    /// Live (not deleted) contacts.
    pub contacts: i64,
}

impl From<Usage> for UsageBody {
    fn from(u: Usage) -> Self {
        UsageBody {
            projects: u.projects,
            members: u.members,
            api_keys: u.api_keys,
            contacts: u.contacts,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountUsageBody {
    #[serde(flatten)]
    pub account: BillingAccountBody,
    pub usage: UsageBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectUsageBody {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub status: String,
    pub billing_account_id: Uuid,
    pub usage: UsageBody,
}

/// What the billing system reads about one customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillingViewBody {
    pub customer_id: Uuid,
    pub name: String,
    pub status: CustomerStatusBody,
    /// When the status last changed.
    pub status_since: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub billing_accounts: Vec<AccountUsageBody>,
    pub projects: Vec<ProjectUsageBody>,
    pub usage: UsageBody,
}

impl From<BillingView> for BillingViewBody {
    fn from(v: BillingView) -> Self {
        BillingViewBody {
            customer_id: v.customer.id,
            name: v.customer.name,
            status: v.customer.status.into(),
            status_since: v.customer.status_changed_at,
            updated_at: v.customer.updated_at,
            billing_accounts: v
                .accounts
                .into_iter()
                .map(|a| AccountUsageBody {
                    account: a.account.into(),
                    usage: a.usage.into(),
                })
                .collect(),
            projects: v
                .projects
                .into_iter()
                .map(|p| ProjectUsageBody {
                    id: p.project.id,
                    slug: p.project.slug,
                    name: p.project.name,
                    status: p.project.status,
                    billing_account_id: p.project.billing_account_id,
                    usage: p.usage.into(),
                })
                .collect(),
            usage: v.totals.into(),
        }
    }
}

/// Status, accounts, projects and usage of the caller's customer (owners, admins and
/// billing members).
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The billing view", body = BillingViewBody), ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/usage")]
pub async fn customer_usage(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let v = uc::customer_view(&state.db, &caller.actor, id).await?;
    Ok(HttpResponse::Ok().json(BillingViewBody::from(v)))
}

/// The billing view of one customer (billing keys and platform admins).
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The billing view", body = BillingViewBody), ReadErrors, AuthErrors)
)]
#[get("/billing/customers/{id}")]
pub async fn billing_customer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let v = uc::billing_system_view(&state.db, &caller.actor, id).await?;
    Ok(HttpResponse::Ok().json(BillingViewBody::from(v)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BillingCustomersQuery {
    pub status: Option<CustomerStatusBody>,
    /// Only customers changed at or after this time (RFC 3339).
    pub changed_since: Option<DateTime<Utc>>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingCustomerPage {
    pub customers: Vec<BillingViewBody>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

/// Every customer's status, accounts, projects and usage, in creation order (billing
/// keys and platform admins).
#[utoipa::path(
    tag = "billing",
    security(("bearer" = [])),
    params(BillingCustomersQuery),
    responses((status = 200, description = "A page of customers", body = BillingCustomerPage),
              (status = 400, description = "The cursor is not one this API returned",
               body = crate::problem::Problem, content_type = "application/problem+json"),
              ListErrors, AuthErrors)
)]
#[get("/billing/customers")]
pub async fn billing_customers(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<BillingCustomersQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let after = match q.cursor.as_deref() {
        Some(raw) => {
            let parts = cursor::decode(raw, 1, "cursor")?;
            Some(path_id(&parts[0], "cursor")?)
        }
        None => None,
    };
    let views = uc::customers_page(
        &state.db,
        &caller.actor,
        BillingQuery {
            status: q.status.map(Into::into),
            changed_since: q.changed_since,
            after,
            limit,
        },
    )
    .await?;
    let next_cursor = (views.len() as i64 == limit)
        .then(|| {
            views
                .last()
                .map(|v| cursor::encode(&[&v.customer.id.to_string()]))
        })
        .flatten();
    Ok(HttpResponse::Ok().json(BillingCustomerPage {
        customers: views.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_account)
        .service(list_accounts)
        .service(get_account)
        .service(update_account)
        .service(customer_usage)
        .service(billing_customers)
        .service(billing_customer);
}
