//! Contacts: the customer records of a project, with their lifecycle.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_crm::contacts::{self as uc, ContactPage, ListQuery};
use clientele_crm::idempotency::Created;
use clientele_domain::contact::{
    allowed_actions, parse_tags, Contact, ContactInput, ContactPatch, ContactStatus, CustomerType,
    SortBy, SortOrder, Stage, StageAction, Tier,
};
use clientele_persistence::contacts::{After, Filter};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cursor;
use crate::extract::{
    etag, parse_query, path_id, project_path, query_values, Caller, IdempotencyKey, IfMatch, Json,
    RawJson,
};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{
    AuthErrors, CreateErrors, ListErrors, ReadErrors, TransitionErrors, UpdateErrors,
};
use crate::state::AppState;

/// Header set on a response replayed for a repeated `Idempotency-Key`.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// A customer record of a project. Money is in minor units of `currency`.
// The closed sets of values are their static text: no string allocated per contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactBody {
    pub id: Uuid,
    pub project_id: Uuid,
    /// `individual` or `business`.
    #[schema(example = "individual")]
    pub kind: &'static str,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[schema(example = "John Doe")]
    pub display_name: String,
    /// Lower-case; unique within the project.
    pub email: Option<String>,
    /// E.164.
    #[schema(example = "+380123456789")]
    pub phone: Option<String>,
    /// `lead`, `prospect`, `customer` or `churned`.
    #[schema(example = "lead")]
    pub stage: &'static str,
    /// The lifecycle actions allowed from the current stage.
    #[schema(example = json!(["qualify"]))]
    pub allowed_actions: Vec<&'static str>,
    /// `active`, `inactive` or `blocked`.
    pub status: &'static str,
    /// `free`, `basic`, `pro` or `enterprise`.
    pub tier: &'static str,
    /// `retail`, `wholesale` or `vip`.
    pub customer_type: &'static str,
    /// `website`, `referral`, `cold-call`, `event`, `import` or the tenant's own text.
    pub source: Option<String>,
    pub assigned_to: Option<Uuid>,
    pub tags: Vec<String>,
    pub marketing_opt_in: bool,
    pub company_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub custom_attributes: Map<String, Value>,
    pub total_orders: i64,
    pub total_spent: i64,
    pub average_order_value: i64,
    /// Revenue realized so far (equal to `total_spent`).
    pub lifetime_value: i64,
    /// Set by the first order; later orders must use it.
    pub currency: Option<String>,
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub churned_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl From<Contact> for ContactBody {
    fn from(c: Contact) -> Self {
        ContactBody {
            allowed_actions: allowed_actions(c.stage)
                .into_iter()
                .map(|a| a.as_str())
                .collect(),
            id: c.id,
            project_id: c.project_id,
            kind: c.kind.as_str(),
            first_name: c.first_name,
            last_name: c.last_name,
            display_name: c.display_name,
            email: c.email.map(|e| e.into_string()),
            phone: c.phone.map(|p| p.into_string()),
            stage: c.stage.as_str(),
            status: c.status.as_str(),
            tier: c.tier.as_str(),
            customer_type: c.customer_type.as_str(),
            source: c.source.map(|s| s.as_str().to_string()),
            assigned_to: c.assigned_to,
            tags: c.tags,
            marketing_opt_in: c.marketing_opt_in,
            company_id: c.company_id,
            user_id: c.user_id,
            custom_attributes: c.custom_attributes,
            total_orders: c.stats.total_orders,
            total_spent: c.stats.total_spent,
            average_order_value: c.stats.average_order_value,
            lifetime_value: c.stats.lifetime_value,
            currency: c.stats.currency,
            first_order_at: c.stats.first_order_at,
            last_order_at: c.stats.last_order_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
            churned_at: c.churned_at,
            deleted_at: c.deleted_at,
            version: c.version,
        }
    }
}

/// A contact with its ETag.
pub fn contact_response(mut res: actix_web::HttpResponseBuilder, c: Contact) -> HttpResponse {
    res.insert_header((header::ETAG, etag(c.version)));
    json_body(res, &ContactBody::from(c), CONTACT_JSON_BYTES)
}

/// About the size of one contact's JSON with a few tags and attributes.
const CONTACT_JSON_BYTES: usize = 1024;

/// `res` with `value` as its JSON body, written into a buffer of `capacity` bytes.
/// Actix's `json` grows its string from empty: for a page of contacts about ten
/// reallocations and copies (a profile of a list showed 7% of its CPU in `realloc`).
fn json_body<T: Serialize>(
    mut res: actix_web::HttpResponseBuilder,
    value: &T,
    capacity: usize,
) -> HttpResponse {
    use actix_web::ResponseError;
    let mut buf = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut buf, value) {
        Ok(()) => res.content_type("application/json").body(buf),
        Err(e) => ApiError::from(clientele_domain::Error::Internal(format!(
            "cannot write the response: {e}"
        )))
        .error_response(),
    }
}

/// The fields of a new contact (POST) or of a full replacement (PUT). An email or a
/// phone is required; `company_id` and `user_id` exclude each other.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    /// `individual` (default) or `business`.
    pub kind: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Default: the full name, else the email, else the phone.
    pub display_name: Option<String>,
    /// The full name in one field (the seed documents' form): split into first and
    /// last name at the last space when those are not given.
    #[schema(example = "John Doe")]
    pub name: Option<String>,
    #[schema(example = "john@example.com")]
    pub email: Option<String>,
    #[schema(example = "+380123456789")]
    pub phone: Option<String>,
    /// On create: `lead` (default), `prospect` or `customer`. On PUT it may only repeat
    /// the current stage: stages move through the lifecycle actions.
    pub stage: Option<String>,
    pub status: Option<String>,
    #[schema(example = "free")]
    pub tier: Option<String>,
    pub customer_type: Option<String>,
    #[schema(example = "website")]
    pub source: Option<String>,
    /// A member of the project with role agent or above.
    pub assigned_to: Option<Uuid>,
    pub tags: Option<Vec<String>>,
    pub marketing_opt_in: Option<bool>,
    /// A company of the same project.
    pub company_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    /// Any JSON object (at most 50 keys, 16 KiB).
    #[schema(value_type = Option<Object>)]
    pub custom_attributes: Option<Value>,
}

/// `name` fills the first and last name when neither is given.
fn split_name(name: Option<String>) -> (Option<String>, Option<String>) {
    let Some(name) = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return (None, None);
    };
    match name.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (Some(first.trim().to_string()), Some(last.to_string())),
        None => (Some(name), None),
    }
}

impl From<ContactRequest> for ContactInput {
    fn from(r: ContactRequest) -> Self {
        let (first_name, last_name) = if r.first_name.is_none() && r.last_name.is_none() {
            split_name(r.name)
        } else {
            (r.first_name, r.last_name)
        };
        ContactInput {
            kind: r.kind,
            first_name,
            last_name,
            display_name: r.display_name,
            email: r.email,
            phone: r.phone,
            stage: r.stage,
            status: r.status,
            tier: r.tier,
            customer_type: r.customer_type,
            source: r.source,
            assigned_to: r.assigned_to,
            tags: r.tags,
            marketing_opt_in: r.marketing_opt_in,
            company_id: r.company_id,
            user_id: r.user_id,
            custom_attributes: r.custom_attributes,
        }
    }
}

/// Absent stays `None`; `null` becomes `Some(None)`: what a merge patch needs.
pub(crate) fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A JSON merge patch (RFC 7396): absent fields are kept, `null` clears a field,
/// `custom_attributes` merges deeply. `kind`, `stage`, `status`, `tier`,
/// `customer_type` and `marketing_opt_in` cannot be null.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatchRequest {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub kind: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub stage: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub status: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tier: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub customer_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub assigned_to: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>, nullable)]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    pub marketing_opt_in: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub company_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub user_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>, nullable)]
    pub custom_attributes: Option<Option<Value>>,
}

impl From<ContactPatchRequest> for ContactPatch {
    fn from(r: ContactPatchRequest) -> Self {
        ContactPatch {
            kind: r.kind,
            first_name: r.first_name,
            last_name: r.last_name,
            display_name: r.display_name,
            email: r.email,
            phone: r.phone,
            stage: r.stage,
            status: r.status,
            tier: r.tier,
            customer_type: r.customer_type,
            source: r.source,
            assigned_to: r.assigned_to,
            tags: r.tags,
            marketing_opt_in: r.marketing_opt_in,
            company_id: r.company_id,
            user_id: r.user_id,
            // `null` replaces the whole object with nothing: an empty object.
            custom_attributes: r.custom_attributes.map(|v| v.unwrap_or(Value::Null)),
        }
    }
}

/// 201 for a new object, with its URL; replays say so in `Idempotent-Replayed`.
pub(crate) fn created(location: String, replayed: bool) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, location));
    if replayed {
        res.insert_header((REPLAYED, "true"));
    }
    res
}

pub(crate) fn ids(pid: &str, id: &str) -> Result<(Uuid, Uuid), ApiError> {
    project_path(pid, id, "contact_id")
}

/// Create a contact (agents and above). It starts as a `lead` unless `stage` says
/// `prospect` or `customer`. Respects `features.max_contacts` and `Idempotency-Key`.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("Idempotency-Key" = Option<String>, Header,
            description = "Repeating the request with the same key and body returns the first result instead of creating again; another body with the same key gets 422. Keys live 24 hours.")),
    request_body = ContactRequest,
    responses((status = 201, description = "Created (or replayed, with `Idempotent-Replayed: true`)", body = ContactBody,
               headers(("ETag" = String, description = "Version tag for If-Match"),
                       ("Location" = String, description = "URL of the new contact"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/projects/{pid}/contacts")]
pub async fn create_contact(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    pid: web::Path<String>,
    key: IdempotencyKey,
    body: RawJson<ContactRequest>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let idem = key.bind(&req, &body.1)?;
    let input = ContactInput::from(body.0);
    // A concurrent request with the same key won the race: replay what it created.
    let outcome = create_once!(uc::create(
        &state.db,
        state.platform.clone(),
        &caller.actor,
        pid,
        input.clone(),
        idem.clone()
    ))?;
    let (contact, replayed) = match outcome {
        Created::New(c) => (c, false),
        Created::Replayed(id) => (
            uc::get(&state.db, &caller.actor, pid, id, true).await?,
            true,
        ),
    };
    let res = created(
        format!("/api/v1/projects/{pid}/contacts/{}", contact.id),
        replayed,
    );
    Ok(contact_response(res, contact))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListContactsQuery {
    /// Prefix of the email, first or last name (any case), or of the phone digits.
    /// Two to four words also find a full name, in either order: one word or more
    /// start the first name and the rest the last (`anna web` and `weber anna` find
    /// Anna Weber; `mary ann smith` finds Mary Ann Smith).
    pub search: Option<String>,
    /// `active`, `inactive` or `blocked`.
    pub status: Option<String>,
    /// `lead`, `prospect`, `customer` or `churned`.
    pub stage: Option<String>,
    pub tier: Option<String>,
    pub customer_type: Option<String>,
    /// Contacts with this tag; repeat the parameter for contacts with all of them.
    pub tag: Option<String>,
    pub assigned_to: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Also list soft-deleted contacts.
    pub include_deleted: Option<bool>,
    /// `created_at` (default), `updated_at`, `last_name`, `email`, `total_spent` or
    /// `last_order_at`; ties are broken by id.
    pub sort_by: Option<String>,
    /// `desc` (default) or `asc`.
    pub sort_order: Option<String>,
    /// Keyset form: page size 1..100 (default 20).
    pub limit: Option<i64>,
    /// Keyset form: `next_cursor` of the previous page. As fast on page 10,000 as on
    /// the first.
    pub cursor: Option<String>,
    /// Page form (with `total`): page number from 1. Deep pages cost more than the
    /// cursor.
    pub page: Option<i64>,
    /// Page form: 1..100 (default 20).
    pub page_size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<ContactBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Contacts matching the filter (page form only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Page form only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
}

fn choice<T>(
    raw: Option<&str>,
    field: &str,
    parse: fn(&str, &str) -> Result<T, clientele_domain::FieldError>,
) -> Result<Option<T>, ApiError> {
    raw.map(|s| parse(s, field))
        .transpose()
        .map_err(|e| ApiError::invalid(e.field, e.message))
}

fn in_range(value: Option<i64>, field: &str, max: i64) -> Result<i64, ApiError> {
    let v = value.unwrap_or(20);
    if !(1..=max).contains(&v) {
        return Err(ApiError::invalid(
            field,
            format!("must be between 1 and {max}"),
        ));
    }
    Ok(v)
}

/// The cursor names the sort it belongs to, so that it cannot be replayed on another.
pub(crate) fn encode_cursor(sort: SortBy, order: SortOrder, after: &After) -> String {
    cursor::encode(&[
        sort.as_str(),
        order.as_str(),
        &after.key,
        &after.id.to_string(),
    ])
}

pub(crate) fn decode_cursor(raw: &str, sort: SortBy, order: SortOrder) -> Result<After, ApiError> {
    let parts = cursor::decode(raw, 4, "cursor")?;
    if parts[0] != sort.as_str() || parts[1] != order.as_str() {
        return Err(ApiError::invalid(
            "cursor",
            "belongs to another sort_by or sort_order",
        ));
    }
    let id = Uuid::parse_str(&parts[3])
        .map_err(|_| ApiError::bad_request("cursor", "is not a cursor returned by this API"))?;
    Ok(After {
        key: parts[2].clone(),
        id,
    })
}

/// List and search the project's contacts: filters, sort, and either a keyset cursor
/// (`limit` + `cursor`) or numbered pages with a total (`page` + `page_size`).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"), ListContactsQuery),
    responses((status = 200, description = "A page of contacts", body = ContactList),
              ReadErrors, ListErrors, AuthErrors)
)]
#[get("/projects/{pid}/contacts")]
pub async fn list_contacts(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    pid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let project_id = path_id(&pid, "pid")?;
    let q: ListContactsQuery = parse_query(&req, &["tag"])?;
    // The same normalization as stored tags, so that `VIP` finds `vip`.
    let tags = parse_tags(&query_values(&req, "tag"), "tag")?;
    let sort_by = choice(q.sort_by.as_deref(), "sort_by", SortBy::parse_field)?.unwrap_or_default();
    let sort_order = choice(
        q.sort_order.as_deref(),
        "sort_order",
        SortOrder::parse_field,
    )?
    .unwrap_or_default();
    let paged = q.page.is_some() || q.page_size.is_some();
    if paged && (q.cursor.is_some() || q.limit.is_some()) {
        return Err(ApiError::invalid(
            "page",
            "use either page and page_size, or limit and cursor",
        ));
    }
    let (limit, page) = if paged {
        let page = q.page.unwrap_or(1);
        if page < 1 {
            return Err(ApiError::invalid("page", "must be 1 or more"));
        }
        (in_range(q.page_size, "page_size", 100)?, Some(page))
    } else {
        (in_range(q.limit, "limit", 100)?, None)
    };
    let after = q
        .cursor
        .as_deref()
        .map(|c| decode_cursor(c, sort_by, sort_order))
        .transpose()?;
    let filter = Filter {
        project_id,
        search: q.search,
        status: choice(q.status.as_deref(), "status", ContactStatus::parse_field)?,
        stage: choice(q.stage.as_deref(), "stage", Stage::parse_field)?,
        tier: choice(q.tier.as_deref(), "tier", Tier::parse_field)?,
        customer_type: choice(
            q.customer_type.as_deref(),
            "customer_type",
            CustomerType::parse_field,
        )?,
        tags,
        assigned_to: q.assigned_to,
        company_id: q.company_id,
        created_after: q.created_after,
        created_before: q.created_before,
        include_deleted: q.include_deleted.unwrap_or(false),
    };
    let ContactPage {
        contacts,
        next,
        total,
    } = uc::list(
        &state.db,
        &caller.actor,
        ListQuery {
            filter,
            sort_by,
            sort_order,
            limit,
            after,
            page,
        },
    )
    .await?;
    let capacity = CONTACT_JSON_BYTES * (contacts.len() + 1);
    let list = ContactList {
        contacts: contacts.into_iter().map(Into::into).collect(),
        // The page form moves with `page`; a cursor there would mix the two.
        next_cursor: next
            .filter(|_| page.is_none())
            .map(|a| encode_cursor(sort_by, sort_order, &a)),
        total,
        page,
        page_size: page.map(|_| limit),
    };
    Ok(json_body(HttpResponse::Ok(), &list, capacity))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GetContactQuery {
    /// Also find a soft-deleted contact.
    pub include_deleted: Option<bool>,
}

/// Get a contact.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"), GetContactQuery),
    responses((status = 200, description = "The contact", body = ContactBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}/contacts/{contact_id}")]
pub async fn get_contact(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let q: GetContactQuery = parse_query(&req, &[])?;
    let deleted_too = q.include_deleted.unwrap_or(false);
    let c = uc::get(&state.db, &caller.actor, pid, id, deleted_too).await?;
    Ok(contact_response(HttpResponse::Ok(), c))
}

/// Get a contact by email (any case).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("email" = String, Path, description = "Email, any case")),
    responses((status = 200, description = "The contact", body = ContactBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              (status = 422, description = "Not an email address",
               body = crate::problem::Problem, content_type = "application/problem+json"),
              ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}/contacts/by-email/{email}")]
pub async fn get_contact_by_email(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&path.0, "pid")?;
    let c = uc::get_by_email(&state.db, &caller.actor, pid, &path.1).await?;
    Ok(contact_response(HttpResponse::Ok(), c))
}

/// Replace a contact's fields (absent fields are cleared or reset to their default).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being replaced")),
    request_body = ContactRequest,
    responses((status = 200, description = "The contact", body = ContactBody), UpdateErrors, AuthErrors)
)]
#[put("/projects/{pid}/contacts/{contact_id}")]
pub async fn replace_contact(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    body: Json<ContactRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let c = uc::replace(&state.db, &caller.actor, pid, id, body.0.into(), if_match.0).await?;
    Ok(contact_response(HttpResponse::Ok(), c))
}

/// Change some of a contact's fields (JSON merge patch).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = ContactPatchRequest, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The contact", body = ContactBody), UpdateErrors, AuthErrors)
)]
#[patch("/projects/{pid}/contacts/{contact_id}")]
pub async fn patch_contact(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    body: Json<ContactPatchRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let c = uc::patch(&state.db, &caller.actor, pid, id, body.0.into(), if_match.0).await?;
    Ok(contact_response(HttpResponse::Ok(), c))
}

/// Soft-delete a contact: hidden until restored; its email stays reserved.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being deleted")),
    responses((status = 204, description = "Deleted"), UpdateErrors, AuthErrors)
)]
#[delete("/projects/{pid}/contacts/{contact_id}")]
pub async fn delete_contact(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    uc::delete(&state.db, &caller.actor, pid, id, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore a soft-deleted contact (409 if it is not deleted).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id")),
    responses((status = 200, description = "The contact", body = ContactBody), TransitionErrors, AuthErrors)
)]
#[post("/projects/{pid}/contacts/{contact_id}/restore")]
pub async fn restore_contact(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let c = uc::restore(&state.db, state.platform.clone(), &caller.actor, pid, id).await?;
    Ok(contact_response(HttpResponse::Ok(), c))
}

async fn lifecycle(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    action: StageAction,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let c = uc::lifecycle(&state.db, &caller.actor, pid, id, action, if_match.0).await?;
    Ok(contact_response(HttpResponse::Ok(), c))
}

/// One route per lifecycle action, documented alike.
macro_rules! lifecycle_route {
    ($name:ident, $action:expr, $path:tt, $doc:tt) => {
        #[doc = $doc]
        #[utoipa::path(
            tag = "contacts",
            security(("bearer" = [])),
            params(("pid" = Uuid, Path, description = "Project id"),
                   ("contact_id" = Uuid, Path, description = "Contact id"),
                   ("If-Match" = Option<String>, Header, description = "ETag of the current version")),
            responses((status = 200, description = "The contact", body = ContactBody), TransitionErrors, AuthErrors)
        )]
        #[post($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            caller: Caller,
            path: web::Path<(String, String)>,
            if_match: IfMatch,
        ) -> ApiResult<HttpResponse> {
            lifecycle(state, caller, path, if_match, $action).await
        }
    };
}

lifecycle_route!(
    qualify_contact,
    StageAction::Qualify,
    "/projects/{pid}/contacts/{contact_id}/qualify",
    "Lead -> prospect. Any other stage gets 409 naming the stage and the allowed actions."
);
lifecycle_route!(
    convert_contact,
    StageAction::Convert,
    "/projects/{pid}/contacts/{contact_id}/convert",
    "Prospect -> customer. Any other stage gets 409 naming the stage and the allowed actions."
);
lifecycle_route!(
    churn_contact,
    StageAction::Churn,
    "/projects/{pid}/contacts/{contact_id}/churn",
    "Customer -> churned (sets `churned_at`)."
);
lifecycle_route!(
    reactivate_contact,
    StageAction::Reactivate,
    "/projects/{pid}/contacts/{contact_id}/reactivate",
    "Churned -> prospect (clears `churned_at`)."
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// A member of the project with role agent or above; `null` unassigns.
    pub assigned_to: Option<Uuid>,
}

/// Assign the contact to a sales rep (or unassign it with `null`).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the current version")),
    request_body = AssignRequest,
    responses((status = 200, description = "The contact", body = ContactBody), UpdateErrors, AuthErrors)
)]
#[put("/projects/{pid}/contacts/{contact_id}/assign")]
pub async fn assign_contact(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    body: Json<AssignRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let c = uc::assign(
        &state.db,
        &caller.actor,
        pid,
        id,
        body.0.assigned_to,
        if_match.0,
    )
    .await?;
    Ok(contact_response(HttpResponse::Ok(), c))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRequest {
    /// `free`, `basic`, `pro` or `enterprise`.
    #[serde(default)]
    #[schema(example = "pro")]
    pub tier: String,
}

/// Upgrade or downgrade the contact's tier (any time).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the current version")),
    request_body = TierRequest,
    responses((status = 200, description = "The contact", body = ContactBody), UpdateErrors, AuthErrors)
)]
#[put("/projects/{pid}/contacts/{contact_id}/tier")]
pub async fn set_contact_tier(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    body: Json<TierRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let c = uc::set_tier(&state.db, &caller.actor, pid, id, &body.0.tier, if_match.0).await?;
    Ok(contact_response(HttpResponse::Ok(), c))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsRequest {
    /// Replaces the tags: trimmed, lower-cased, duplicates dropped; at most 50.
    #[schema(example = json!(["vip", "high-value"]))]
    pub tags: Vec<String>,
}

/// Replace the contact's tags.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the current version")),
    request_body = TagsRequest,
    responses((status = 200, description = "The contact", body = ContactBody), UpdateErrors, AuthErrors)
)]
#[put("/projects/{pid}/contacts/{contact_id}/tags")]
pub async fn set_contact_tags(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    body: Json<TagsRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let c = uc::set_tags(&state.db, &caller.actor, pid, id, body.0.tags, if_match.0).await?;
    Ok(contact_response(HttpResponse::Ok(), c))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // actix tries the registered patterns in order, one regex each, until a path and
    // method match: the most requested comes first (three patterns before it were 3%
    // of a get's CPU, BENCHMARKS.md). A `{param}` is one segment, so no pattern here
    // matches another's paths and the order decides nothing else.
    cfg.service(get_contact)
        .service(create_contact)
        .service(list_contacts)
        .service(get_contact_by_email)
        .service(replace_contact)
        .service(patch_contact)
        .service(delete_contact)
        .service(restore_contact)
        .service(qualify_contact)
        .service(convert_contact)
        .service(churn_contact)
        .service(reactivate_contact)
        .service(assign_contact)
        .service(set_contact_tier)
        .service(set_contact_tags);
}
