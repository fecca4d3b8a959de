//! What hangs under a contact: addresses, notes, interactions, payment methods and
//! orders, under `/projects/{pid}/contacts/{contact_id}/...`.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_crm::contact_parts::{self as uc, OrderOutcome, OrderResult};
use clientele_crm::idempotency::Created;
use clientele_domain::cards::refuse_card_numbers;
use clientele_domain::contact::Contact;
use clientele_domain::contact_parts::{
    Address, AddressInput, AddressPatch, Interaction, InteractionInput, Note, OrderInput,
    PaymentMethod, PaymentMethodInput,
};
use clientele_persistence::contact_parts::{Before, RecordedOrder};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cursor;
use crate::extract::{
    etag, parse_json, parse_query, path_id, Caller, IdempotencyKey, IfMatch, Json, RawJson,
};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{AuthErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::routes::contacts::{created, ids, nullable};
use crate::state::AppState;

/// `limit` and `cursor` of the newest-first lists under a contact.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1..100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The limit and starting point of a list; a cursor only works on the list (`kind`)
/// that made it.
fn page_of(q: &PageQuery, kind: &str) -> Result<(i64, Option<Before>), ApiError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let before = q
        .cursor
        .as_deref()
        .map(|raw| {
            let parts = cursor::decode(raw, 3, "cursor")?;
            if parts[0] != kind {
                return Err(ApiError::invalid("cursor", "belongs to another list"));
            }
            let at = parts[1]
                .parse::<i64>()
                .ok()
                .and_then(DateTime::from_timestamp_micros)
                .ok_or_else(|| {
                    ApiError::bad_request("cursor", "is not a cursor returned by this API")
                })?;
            Ok(Before {
                at,
                id: parts[2].clone(),
            })
        })
        .transpose()?;
    Ok((limit, before))
}

fn next_cursor(kind: &str, next: Option<Before>) -> Option<String> {
    next.map(|b| cursor::encode(&[kind, &b.at.timestamp_micros().to_string(), &b.id]))
}

// ---------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------

/// A postal address of a contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressBody {
    pub id: Uuid,
    pub contact_id: Uuid,
    /// `shipping` or `billing`.
    #[schema(example = "shipping")]
    pub address_type: String,
    /// At most one address per type is the default.
    pub is_default: bool,
    pub is_verified: bool,
    #[schema(example = "123 Main St")]
    pub address_line1: String,
    pub address_line2: Option<String>,
    #[schema(example = "San Francisco")]
    pub city: String,
    #[schema(example = "CA")]
    pub state: Option<String>,
    /// In the country's conventional spelling (`SW1A 1AA`, `94102`).
    #[schema(example = "94102")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[schema(example = "US")]
    pub country: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The ETag of this address is `"<version>"`.
    pub version: i64,
}

impl From<Address> for AddressBody {
    fn from(a: Address) -> Self {
        AddressBody {
            id: a.id,
            contact_id: a.contact_id,
            address_type: a.address_type.as_str().into(),
            is_default: a.is_default,
            is_verified: a.is_verified,
            address_line1: a.address_line1,
            address_line2: a.address_line2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country: a.country.as_str().into(),
            note: a.note,
            created_at: a.created_at,
            updated_at: a.updated_at,
            version: a.version,
        }
    }
}

fn address_response(mut res: actix_web::HttpResponseBuilder, a: Address) -> HttpResponse {
    res.insert_header((header::ETAG, etag(a.version)))
        .json(AddressBody::from(a))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressList {
    /// Oldest first.
    pub addresses: Vec<AddressBody>,
}

/// A new address. `address_type`, `address_line1`, `city` and `country` are required;
/// `state` is required in AU, BR, CA, IN and US; `postal_code` is required and checked
/// against the country's format in AU, BR, CA, DE, FR, GB, IN, JP, NL and US.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    /// `shipping` or `billing`.
    #[schema(example = "shipping")]
    pub address_type: Option<String>,
    /// Make this the default of its type (the old default stops being one). Left out,
    /// the address becomes the default when its type has none yet.
    pub is_default: Option<bool>,
    /// Default false.
    pub is_verified: Option<bool>,
    #[schema(example = "123 Main St")]
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    #[schema(example = "San Francisco")]
    pub city: Option<String>,
    #[schema(example = "CA")]
    pub state: Option<String>,
    #[schema(example = "94102")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 (any case).
    #[schema(example = "US")]
    pub country: Option<String>,
    /// Up to 500 characters, line breaks allowed.
    pub note: Option<String>,
}

impl From<AddressRequest> for AddressInput {
    fn from(r: AddressRequest) -> Self {
        AddressInput {
            address_type: r.address_type,
            is_default: r.is_default,
            is_verified: r.is_verified,
            address_line1: r.address_line1,
            address_line2: r.address_line2,
            city: r.city,
            state: r.state,
            postal_code: r.postal_code,
            country: r.country,
            note: r.note,
        }
    }
}

/// A JSON merge patch of an address: absent fields are kept, `null` clears one. The
/// result is checked as a whole (a new country re-checks the postal code and state).
/// `address_type`, `is_default`, `is_verified`, `address_line1`, `city` and `country`
/// cannot be null.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressPatchRequest {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub address_type: Option<Option<String>>,
    /// `true` makes this the default of its type and unsets the old default.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    pub is_default: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    pub is_verified: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub address_line1: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub address_line2: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub state: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub note: Option<Option<String>>,
}

impl From<AddressPatchRequest> for AddressPatch {
    fn from(r: AddressPatchRequest) -> Self {
        AddressPatch {
            address_type: r.address_type,
            is_default: r.is_default,
            is_verified: r.is_verified,
            address_line1: r.address_line1,
            address_line2: r.address_line2,
            city: r.city,
            state: r.state,
            postal_code: r.postal_code,
            country: r.country,
            note: r.note,
        }
    }
}

/// The addresses of a contact, oldest first (a contact has at most 50).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id")),
    responses((status = 200, description = "The addresses", body = AddressList), ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}/contacts/{contact_id}/addresses")]
pub async fn list_addresses(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let list = uc::list_addresses(&state.db, &caller.actor, pid, id).await?;
    Ok(HttpResponse::Ok().json(AddressList {
        addresses: list.into_iter().map(Into::into).collect(),
    }))
}

/// Add an address. One default per type: a new default unsets the old one in the same
/// transaction, and the first address of a type becomes its default unless it says
/// `is_default: false`. At most 50 addresses per contact (409 beyond).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("Idempotency-Key" = Option<String>, Header,
            description = "Repeating the request with the same key and body returns the first result instead of creating again; another body with the same key gets 422. Keys live 24 hours.")),
    request_body = AddressRequest,
    responses((status = 201, description = "Created (or replayed, with `Idempotent-Replayed: true`)", body = AddressBody,
               headers(("ETag" = String, description = "Version tag for If-Match"),
                       ("Location" = String, description = "URL of the new address"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/projects/{pid}/contacts/{contact_id}/addresses")]
pub async fn add_address(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    key: IdempotencyKey,
    body: RawJson<AddressRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let idem = key.bind(&req, &body.1)?;
    let input = AddressInput::from(body.0);
    let outcome = create_once!(uc::add_address(
        &state.db,
        &caller.actor,
        pid,
        id,
        input.clone(),
        idem.clone()
    ))?;
    let (address, replayed) = match outcome {
        Created::New(a) => (a, false),
        Created::Replayed(aid) => (
            uc::get_address(&state.db, &caller.actor, pid, id, aid).await?,
            true,
        ),
    };
    let url = format!(
        "/api/v1/projects/{pid}/contacts/{id}/addresses/{}",
        address.id
    );
    Ok(address_response(created(url, replayed), address))
}

/// Change an address (JSON merge patch). `is_default: true` unsets the old default of
/// its type in the same transaction.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("address_id" = Uuid, Path, description = "Address id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body(content = AddressPatchRequest, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The address", body = AddressBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              UpdateErrors, AuthErrors)
)]
#[patch("/projects/{pid}/contacts/{contact_id}/addresses/{address_id}")]
pub async fn update_address(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    if_match: IfMatch,
    body: Json<AddressPatchRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let aid = path_id(&path.2, "address_id")?;
    let a = uc::update_address(
        &state.db,
        &caller.actor,
        pid,
        id,
        aid,
        body.0.into(),
        if_match.0,
    )
    .await?;
    Ok(address_response(HttpResponse::Ok(), a))
}

/// Remove an address. Removing the default leaves its type without one until another
/// address is made the default.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("address_id" = Uuid, Path, description = "Address id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being removed")),
    responses((status = 204, description = "Removed"), UpdateErrors, AuthErrors)
)]
#[delete("/projects/{pid}/contacts/{contact_id}/addresses/{address_id}")]
pub async fn remove_address(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let aid = path_id(&path.2, "address_id")?;
    uc::remove_address(&state.db, &caller.actor, pid, id, aid, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------------

/// An internal note about a contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteBody {
    pub id: Uuid,
    pub contact_id: Uuid,
    #[schema(example = "Customer requested expedited shipping")]
    pub note: String,
    /// Who wrote it: `user:<id>` or `api_key:<id>`.
    #[schema(example = "user:0190c1d2-7e8f-7a00-9000-000000000001")]
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The ETag of this note is `"<version>"`.
    pub version: i64,
}

impl From<Note> for NoteBody {
    fn from(n: Note) -> Self {
        NoteBody {
            id: n.id,
            contact_id: n.contact_id,
            note: n.note,
            author: n.author,
            created_at: n.created_at,
            updated_at: n.updated_at,
            version: n.version,
        }
    }
}

fn note_response(mut res: actix_web::HttpResponseBuilder, n: Note) -> HttpResponse {
    res.insert_header((header::ETAG, etag(n.version)))
        .json(NoteBody::from(n))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteList {
    /// Newest first.
    pub notes: Vec<NoteBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// 1 to 10,000 characters after trimming; line breaks allowed.
    #[schema(example = "Customer requested expedited shipping")]
    pub note: Option<String>,
}

/// The notes of a contact, newest first.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"), PageQuery),
    responses((status = 200, description = "A page of notes", body = NoteList),
              ReadErrors, ListErrors, AuthErrors)
)]
#[get("/projects/{pid}/contacts/{contact_id}/notes")]
pub async fn list_notes(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let (limit, before) = page_of(&parse_query(&req, &[])?, "notes")?;
    let page = uc::list_notes(&state.db, &caller.actor, pid, id, before, limit).await?;
    Ok(HttpResponse::Ok().json(NoteList {
        notes: page.items.into_iter().map(Into::into).collect(),
        next_cursor: next_cursor("notes", page.next),
    }))
}

/// Add a note; its author is the caller.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("Idempotency-Key" = Option<String>, Header,
            description = "Repeating the request with the same key and body returns the first result instead of creating again; another body with the same key gets 422. Keys live 24 hours.")),
    request_body = NoteRequest,
    responses((status = 201, description = "Created (or replayed, with `Idempotent-Replayed: true`)", body = NoteBody,
               headers(("ETag" = String, description = "Version tag for If-Match"),
                       ("Location" = String, description = "URL of the new note"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/projects/{pid}/contacts/{contact_id}/notes")]
pub async fn add_note(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    key: IdempotencyKey,
    body: RawJson<NoteRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let idem = key.bind(&req, &body.1)?;
    let text = body.0.note;
    let outcome = create_once!(uc::add_note(
        &state.db,
        &caller.actor,
        pid,
        id,
        text.clone(),
        idem.clone()
    ))?;
    let (note, replayed) = match outcome {
        Created::New(n) => (n, false),
        Created::Replayed(nid) => (
            uc::get_note(&state.db, &caller.actor, pid, id, nid).await?,
            true,
        ),
    };
    let url = format!("/api/v1/projects/{pid}/contacts/{id}/notes/{}", note.id);
    Ok(note_response(created(url, replayed), note))
}

/// Replace the text of a note (its author stays who wrote it).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("note_id" = Uuid, Path, description = "Note id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body = NoteRequest,
    responses((status = 200, description = "The note", body = NoteBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              UpdateErrors, AuthErrors)
)]
#[patch("/projects/{pid}/contacts/{contact_id}/notes/{note_id}")]
pub async fn edit_note(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    if_match: IfMatch,
    body: Json<NoteRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let nid = path_id(&path.2, "note_id")?;
    let n = uc::edit_note(
        &state.db,
        &caller.actor,
        pid,
        id,
        nid,
        body.0.note,
        if_match.0,
    )
    .await?;
    Ok(note_response(HttpResponse::Ok(), n))
}

/// Remove a note.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("note_id" = Uuid, Path, description = "Note id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being removed")),
    responses((status = 204, description = "Removed"), UpdateErrors, AuthErrors)
)]
#[delete("/projects/{pid}/contacts/{contact_id}/notes/{note_id}")]
pub async fn remove_note(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let nid = path_id(&path.2, "note_id")?;
    uc::remove_note(&state.db, &caller.actor, pid, id, nid, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------
// Interactions
// ---------------------------------------------------------------------------------

/// One entry of a contact's communication history.
#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionBody {
    pub id: Uuid,
    pub contact_id: Uuid,
    /// `email`, `call`, `meeting`, `sms` or `chat`.
    #[schema(example = "call")]
    pub channel: String,
    /// `inbound` (the contact reached out) or `outbound`.
    #[schema(example = "outbound")]
    pub direction: String,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// Who recorded it: `user:<id>` or `api_key:<id>`.
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Interaction> for InteractionBody {
    fn from(i: Interaction) -> Self {
        InteractionBody {
            id: i.id,
            contact_id: i.contact_id,
            channel: i.channel.as_str().into(),
            direction: i.direction.as_str().into(),
            subject: i.subject,
            body: i.body,
            occurred_at: i.occurred_at,
            author: i.author,
            created_at: i.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionList {
    /// Newest first by `occurred_at`.
    pub interactions: Vec<InteractionBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionRequest {
    /// `email`, `call`, `meeting`, `sms` or `chat`.
    #[schema(example = "call")]
    pub channel: Option<String>,
    /// `inbound` or `outbound`.
    #[schema(example = "outbound")]
    pub direction: Option<String>,
    /// One line, up to 200 characters.
    #[schema(example = "Renewal")]
    pub subject: Option<String>,
    /// Up to 10,000 characters.
    pub body: Option<String>,
    /// When it happened (RFC 3339); default now; not in the future (5 minutes of clock
    /// skew allowed).
    pub occurred_at: Option<DateTime<Utc>>,
}

impl From<InteractionRequest> for InteractionInput {
    fn from(r: InteractionRequest) -> Self {
        InteractionInput {
            channel: r.channel,
            direction: r.direction,
            subject: r.subject,
            body: r.body,
            occurred_at: r.occurred_at,
        }
    }
}

/// The communication history of a contact, newest first by `occurred_at`.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"), PageQuery),
    responses((status = 200, description = "A page of interactions", body = InteractionList),
              ReadErrors, ListErrors, AuthErrors)
)]
#[get("/projects/{pid}/contacts/{contact_id}/interactions")]
pub async fn list_interactions(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let (limit, before) = page_of(&parse_query(&req, &[])?, "interactions")?;
    let page = uc::list_interactions(&state.db, &caller.actor, pid, id, before, limit).await?;
    Ok(HttpResponse::Ok().json(InteractionList {
        interactions: page.items.into_iter().map(Into::into).collect(),
        next_cursor: next_cursor("interactions", page.next),
    }))
}

/// Record an interaction (call, email, meeting, SMS or chat); the caller is its author.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("Idempotency-Key" = Option<String>, Header,
            description = "Repeating the request with the same key and body returns the first result instead of creating again; another body with the same key gets 422. Keys live 24 hours.")),
    request_body = InteractionRequest,
    responses((status = 201, description = "Recorded (or replayed, with `Idempotent-Replayed: true`)", body = InteractionBody,
               headers(("Location" = String, description = "URL of the interactions of the contact"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/projects/{pid}/contacts/{contact_id}/interactions")]
pub async fn record_interaction(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    key: IdempotencyKey,
    body: RawJson<InteractionRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let idem = key.bind(&req, &body.1)?;
    let input = InteractionInput::from(body.0);
    let outcome = create_once!(uc::record_interaction(
        &state.db,
        &caller.actor,
        pid,
        id,
        input.clone(),
        idem.clone()
    ))?;
    let (interaction, replayed) = match outcome {
        Created::New(i) => (i, false),
        Created::Replayed(iid) => (
            uc::get_interaction(&state.db, &caller.actor, pid, id, iid).await?,
            true,
        ),
    };
    let url = format!("/api/v1/projects/{pid}/contacts/{id}/interactions");
    Ok(created(url, replayed).json(InteractionBody::from(interaction)))
}

// ---------------------------------------------------------------------------------
// Payment methods
// ---------------------------------------------------------------------------------

/// A payment method kept as the payment provider's token. Card numbers are never
/// stored; `token` is the provider's reference, which charges need.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodBody {
    pub id: Uuid,
    pub contact_id: Uuid,
    #[schema(example = "stripe")]
    pub provider: String,
    #[schema(example = "pm_1NqYzL2eZvKYlo2C")]
    pub token: String,
    #[schema(example = "visa")]
    pub brand: Option<String>,
    #[schema(example = "4242")]
    pub last4: Option<String>,
    #[schema(example = 12)]
    pub exp_month: Option<u32>,
    #[schema(example = 2030)]
    pub exp_year: Option<i32>,
    /// At most one payment method per contact is the default.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

impl From<PaymentMethod> for PaymentMethodBody {
    fn from(p: PaymentMethod) -> Self {
        PaymentMethodBody {
            id: p.id,
            contact_id: p.contact_id,
            provider: p.provider,
            token: p.token,
            brand: p.brand,
            last4: p.last4,
            exp_month: p.exp_month,
            exp_year: p.exp_year,
            is_default: p.is_default,
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodList {
    /// Oldest first.
    pub payment_methods: Vec<PaymentMethodBody>,
}

/// A payment provider's token and what may be shown about the card. Any value that
/// looks like a card number (13 to 19 digits passing the Luhn check, together or in
/// groups) anywhere in the body is refused with 422 naming its field, and never stored,
/// logged or put in an event.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodRequest {
    /// Up to 50 characters.
    #[schema(example = "stripe")]
    pub provider: Option<String>,
    /// The provider's token: one word, up to 200 characters, never a card number.
    #[schema(example = "pm_1NqYzL2eZvKYlo2C")]
    pub token: Option<String>,
    #[schema(example = "visa")]
    pub brand: Option<String>,
    /// Exactly 4 digits.
    #[schema(example = "4242")]
    pub last4: Option<String>,
    /// 1..12, with `exp_year`; a card is valid through the end of its month.
    #[schema(example = 12)]
    pub exp_month: Option<i64>,
    /// 2000..2100, with `exp_month`.
    #[schema(example = 2030)]
    pub exp_year: Option<i64>,
    /// Make this the contact's default (the old default stops being one). Left out, it
    /// becomes the default when the contact has none.
    pub is_default: Option<bool>,
}

impl From<PaymentMethodRequest> for PaymentMethodInput {
    fn from(r: PaymentMethodRequest) -> Self {
        PaymentMethodInput {
            provider: r.provider,
            token: r.token,
            brand: r.brand,
            last4: r.last4,
            exp_month: r.exp_month,
            exp_year: r.exp_year,
            is_default: r.is_default,
        }
    }
}

/// The payment methods of a contact, oldest first (at most 20).
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id")),
    responses((status = 200, description = "The payment methods", body = PaymentMethodList),
              ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}/contacts/{contact_id}/payment-methods")]
pub async fn list_payment_methods(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let list = uc::list_payment_methods(&state.db, &caller.actor, pid, id).await?;
    Ok(HttpResponse::Ok().json(PaymentMethodList {
        payment_methods: list.into_iter().map(Into::into).collect(),
    }))
}

/// Add a payment method as the provider's token. A card number anywhere in the body is
/// refused (422) before anything else happens to the request. One default per contact:
/// the first method is the default unless it says otherwise, a new default unsets the
/// old one. The same provider and token twice on one contact is a 409; at most 20 per
/// contact.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("Idempotency-Key" = Option<String>, Header,
            description = "Repeating the request with the same key and body returns the first result instead of creating again; another body with the same key gets 422. Keys live 24 hours.")),
    request_body = PaymentMethodRequest,
    responses((status = 201, description = "Created (or replayed, with `Idempotent-Replayed: true`)", body = PaymentMethodBody,
               headers(("Location" = String, description = "URL of the new payment method"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/projects/{pid}/contacts/{contact_id}/payment-methods")]
pub async fn add_payment_method(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    key: IdempotencyKey,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    // First of all, on the document as sent: nothing below may see a card number, not
    // even a deserialization error message, which would quote the value.
    refuse_card_numbers(&body.0)?;
    let raw = body.0;
    let (pid, id) = ids(&path.0, &path.1)?;
    let request: PaymentMethodRequest = parse_json(&serde_json::to_vec(&raw).map_err(|e| {
        ApiError::from(clientele_domain::Error::Internal(format!(
            "re-encoding a parsed body: {e}"
        )))
    })?)?;
    let idem = key.bind(&req, &raw)?;
    let input = PaymentMethodInput::from(request);
    let outcome = create_once!(uc::add_payment_method(
        &state.db,
        &caller.actor,
        pid,
        id,
        input.clone(),
        idem.clone()
    ))?;
    let (method, replayed) = match outcome {
        Created::New(p) => (p, false),
        Created::Replayed(pmid) => (
            uc::get_payment_method(&state.db, &caller.actor, pid, id, pmid).await?,
            true,
        ),
    };
    let url = format!(
        "/api/v1/projects/{pid}/contacts/{id}/payment-methods/{}",
        method.id
    );
    Ok(created(url, replayed).json(PaymentMethodBody::from(method)))
}

/// Remove a payment method. Removing the default leaves the contact without one.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("payment_method_id" = Uuid, Path, description = "Payment method id")),
    responses((status = 204, description = "Removed"), UpdateErrors, AuthErrors)
)]
#[delete("/projects/{pid}/contacts/{contact_id}/payment-methods/{payment_method_id}")]
pub async fn remove_payment_method(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let pmid = path_id(&path.2, "payment_method_id")?;
    uc::remove_payment_method(&state.db, &caller.actor, pid, id, pmid).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------

/// An order recorded into a contact's statistics. Money is in minor units.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderBody {
    #[schema(example = "ord_1001")]
    pub order_id: String,
    #[schema(example = 4999)]
    pub amount: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    pub ordered_at: DateTime<Utc>,
    /// When it was recorded here.
    pub recorded_at: DateTime<Utc>,
}

impl From<RecordedOrder> for OrderBody {
    fn from(o: RecordedOrder) -> Self {
        OrderBody {
            order_id: o.order.order_id,
            amount: o.order.amount,
            currency: o.order.currency,
            ordered_at: o.order.ordered_at,
            recorded_at: o.recorded_at,
        }
    }
}

/// A contact's order statistics, in minor units of `currency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderStatsBody {
    pub contact_id: Uuid,
    pub total_orders: i64,
    pub total_spent: i64,
    /// `total_spent / total_orders`, rounded down; 0 before the first order.
    pub average_order_value: i64,
    /// Revenue realized so far (equal to `total_spent`).
    pub lifetime_value: i64,
    /// Set by the contact's first order.
    pub currency: Option<String>,
    /// The earliest and latest `ordered_at`, whatever order the orders arrived in.
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
    /// The contact's version (its ETag is `"<version>"`).
    pub contact_version: i64,
}

impl From<&Contact> for OrderStatsBody {
    fn from(c: &Contact) -> Self {
        OrderStatsBody {
            contact_id: c.id,
            total_orders: c.stats.total_orders,
            total_spent: c.stats.total_spent,
            average_order_value: c.stats.average_order_value,
            lifetime_value: c.stats.lifetime_value,
            currency: c.stats.currency.clone(),
            first_order_at: c.stats.first_order_at,
            last_order_at: c.stats.last_order_at,
            contact_version: c.version,
        }
    }
}

/// The order and the contact's statistics with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderRecordedBody {
    pub order: OrderBody,
    pub stats: OrderStatsBody,
    /// False when this order was already recorded and nothing changed.
    pub recorded: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderList {
    /// Newest first by `ordered_at`.
    pub orders: Vec<OrderBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub stats: OrderStatsBody,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The order's id in the shop; unique within the project, up to 100 characters.
    #[schema(example = "ord_1001")]
    pub order_id: Option<String>,
    /// Minor units (cents), 0 or more.
    #[schema(example = 4999)]
    pub amount: Option<i64>,
    /// ISO 4217; must be the currency of the contact's first order.
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    /// When the order was placed (RFC 3339); default now; may be in the past and arrive
    /// out of order, not in the future.
    pub ordered_at: Option<DateTime<Utc>>,
}

impl From<OrderRequest> for OrderInput {
    fn from(r: OrderRequest) -> Self {
        OrderInput {
            order_id: r.order_id,
            amount: r.amount,
            currency: r.currency,
            ordered_at: r.ordered_at,
        }
    }
}

/// Record an order into the contact's statistics: total_orders, total_spent,
/// average_order_value, lifetime_value and first/last order dates move in one
/// transaction with the order.
///
/// **Currency rule:** a contact's statistics are in one currency, set by its first
/// order. An order in another currency is refused with 422 on `currency` (it is not
/// converted: exchange rates would make the totals depend on when they were computed).
///
/// **Repeats:** `order_id` is unique in the project. The same order again for the same
/// contact (same amount, currency and, when given, `ordered_at`) changes nothing and
/// answers 200 with `recorded: false`. The same `order_id` with other details, or for
/// another contact, is 409 with code `order_exists`.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"),
           ("Idempotency-Key" = Option<String>, Header,
            description = "Repeating the request with the same key and body returns the first result instead of recording again; another body with the same key gets 422. Keys live 24 hours.")),
    request_body = OrderRequest,
    responses((status = 201, description = "Recorded (or replayed, with `Idempotent-Replayed: true`)", body = OrderRecordedBody,
               headers(("Location" = String, description = "URL of the contact's orders"))),
              (status = 200, description = "Already recorded: nothing changed", body = OrderRecordedBody),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/projects/{pid}/contacts/{contact_id}/orders")]
pub async fn record_order(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    key: IdempotencyKey,
    body: RawJson<OrderRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let idem = key.bind(&req, &body.1)?;
    let input = OrderInput::from(body.0);
    let OrderResult {
        outcome,
        order,
        contact,
    } = create_once!(uc::record_order(
        &state.db,
        &caller.actor,
        pid,
        id,
        input.clone(),
        idem.clone()
    ))?;
    let body = OrderRecordedBody {
        stats: OrderStatsBody::from(&contact),
        order: order.into(),
        recorded: outcome != OrderOutcome::AlreadyRecorded,
    };
    let url = format!("/api/v1/projects/{pid}/contacts/{id}/orders");
    Ok(match outcome {
        OrderOutcome::Recorded => created(url, false).json(body),
        OrderOutcome::Replayed => created(url, true).json(body),
        OrderOutcome::AlreadyRecorded => HttpResponse::Ok().json(body),
    })
}

/// The orders of a contact, newest first by `ordered_at`, with its statistics.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("contact_id" = Uuid, Path, description = "Contact id"), PageQuery),
    responses((status = 200, description = "A page of orders", body = OrderList),
              ReadErrors, ListErrors, AuthErrors)
)]
#[get("/projects/{pid}/contacts/{contact_id}/orders")]
pub async fn list_orders(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let (limit, before) = page_of(&parse_query(&req, &[])?, "orders")?;
    let (page, contact) = uc::list_orders(&state.db, &caller.actor, pid, id, before, limit).await?;
    Ok(HttpResponse::Ok().json(OrderList {
        orders: page.items.into_iter().map(Into::into).collect(),
        next_cursor: next_cursor("orders", page.next),
        stats: OrderStatsBody::from(&contact),
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_addresses)
        .service(add_address)
        .service(update_address)
        .service(remove_address)
        .service(list_notes)
        .service(add_note)
        .service(edit_note)
        .service(remove_note)
        .service(list_interactions)
        .service(record_interaction)
        .service(list_payment_methods)
        .service(add_payment_method)
        .service(remove_payment_method)
        .service(record_order)
        .service(list_orders);
}
