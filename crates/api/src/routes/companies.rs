//! Companies (B2B) of a project, and their contacts.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_crm::companies as uc;
use clientele_crm::contacts::{self as contacts_uc, ListQuery};
use clientele_crm::idempotency::Created;
use clientele_domain::company::{Company, CompanyInput, CompanyPatch};
use clientele_persistence::contacts::Filter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cursor;
use crate::extract::{
    etag, path_id, project_path, Caller, IdempotencyKey, IfMatch, Json, Query, RawJson,
};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{AuthErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::routes::contacts::{created, nullable, ContactList};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyBody {
    pub id: Uuid,
    pub project_id: Uuid,
    #[schema(example = "Acme Inc")]
    pub name: String,
    /// Lower-case; unique within the project.
    #[schema(example = "acme.com")]
    pub domain: Option<String>,
    pub tax_id: Option<String>,
    pub industry: Option<String>,
    /// `1-10`, `11-50`, `51-200`, `201-1000`, `1001-5000` or `5000+`.
    pub size: Option<String>,
    /// The parent company, for a subsidiary.
    pub parent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Company> for CompanyBody {
    fn from(c: Company) -> Self {
        CompanyBody {
            id: c.id,
            project_id: c.project_id,
            name: c.name,
            domain: c.domain,
            tax_id: c.tax_id,
            industry: c.industry,
            size: c.size.map(|s| s.as_str().to_string()),
            parent_id: c.parent_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

fn company_response(mut res: actix_web::HttpResponseBuilder, c: Company) -> HttpResponse {
    res.insert_header((header::ETAG, etag(c.version)))
        .json(CompanyBody::from(c))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompanyRequest {
    #[schema(example = "Acme Inc")]
    pub name: Option<String>,
    #[schema(example = "acme.com")]
    pub domain: Option<String>,
    pub tax_id: Option<String>,
    pub industry: Option<String>,
    #[schema(example = "51-200")]
    pub size: Option<String>,
    /// A company of the same project.
    pub parent_id: Option<Uuid>,
}

/// A merge patch: absent fields are kept, `null` clears (not `name`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompanyRequest {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub tax_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub size: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub parent_id: Option<Option<Uuid>>,
}

fn ids(pid: &str, id: &str) -> Result<(Uuid, Uuid), ApiError> {
    project_path(pid, id, "company_id")
}

/// Create a company (agents and above). Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Replays the first result for a repeated request")),
    request_body = CreateCompanyRequest,
    responses((status = 201, description = "Created", body = CompanyBody,
               headers(("ETag" = String, description = "Version tag for If-Match"),
                       ("Location" = String, description = "URL of the new company"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/projects/{pid}/companies")]
pub async fn create_company(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    pid: web::Path<String>,
    key: IdempotencyKey,
    body: RawJson<CreateCompanyRequest>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let idem = key.bind(&req, &body.1)?;
    let b = body.0;
    let input = CompanyInput {
        name: b.name,
        domain: b.domain,
        tax_id: b.tax_id,
        industry: b.industry,
        size: b.size,
        parent_id: b.parent_id,
    };
    let outcome = create_once!(uc::create(
        &state.db,
        &caller.actor,
        pid,
        input.clone(),
        idem.clone()
    ))?;
    let (company, replayed) = match outcome {
        Created::New(c) => (c, false),
        Created::Replayed(id) => (uc::get(&state.db, &caller.actor, pid, id).await?, true),
    };
    let res = created(
        format!("/api/v1/projects/{pid}/companies/{}", company.id),
        replayed,
    );
    Ok(company_response(res, company))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCompaniesQuery {
    /// Prefix of the name, any case.
    pub search: Option<String>,
    /// Only the subsidiaries of this company.
    pub parent_id: Option<Uuid>,
    /// 1..100, default 20.
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyList {
    pub companies: Vec<CompanyBody>,
    pub next_cursor: Option<String>,
}

/// The project's companies by name.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"), ListCompaniesQuery),
    responses((status = 200, description = "A page of companies", body = CompanyList),
              ReadErrors, ListErrors, AuthErrors)
)]
#[get("/projects/{pid}/companies")]
pub async fn list_companies(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
    query: Query<ListCompaniesQuery>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let q = query.0;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let after = match q.cursor.as_deref() {
        None => None,
        Some(raw) => {
            let parts = cursor::decode(raw, 2, "cursor")?;
            let id = Uuid::parse_str(&parts[1]).map_err(|_| {
                ApiError::bad_request("cursor", "is not a cursor returned by this API")
            })?;
            Some((parts[0].clone(), id))
        }
    };
    let (items, next) = uc::list(
        &state.db,
        &caller.actor,
        pid,
        q.search,
        q.parent_id,
        after,
        limit,
    )
    .await?;
    Ok(HttpResponse::Ok().json(CompanyList {
        companies: items.into_iter().map(Into::into).collect(),
        next_cursor: next.map(|(key, id)| cursor::encode(&[&key, &id.to_string()])),
    }))
}

/// Get a company.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("company_id" = Uuid, Path, description = "Company id")),
    responses((status = 200, description = "The company", body = CompanyBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}/companies/{company_id}")]
pub async fn get_company(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let c = uc::get(&state.db, &caller.actor, pid, id).await?;
    Ok(company_response(HttpResponse::Ok(), c))
}

/// Change a company (merge patch). A parent that would make a cycle gets 422.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("company_id" = Uuid, Path, description = "Company id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being changed")),
    request_body = UpdateCompanyRequest,
    responses((status = 200, description = "The company", body = CompanyBody), UpdateErrors, AuthErrors)
)]
#[patch("/projects/{pid}/companies/{company_id}")]
pub async fn update_company(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    body: Json<UpdateCompanyRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    let b = body.0;
    let patch = CompanyPatch {
        name: b.name,
        domain: b.domain,
        tax_id: b.tax_id,
        industry: b.industry,
        size: b.size,
        parent_id: b.parent_id,
    };
    let c = uc::patch(&state.db, &caller.actor, pid, id, patch, if_match.0).await?;
    Ok(company_response(HttpResponse::Ok(), c))
}

/// Delete a company. Refused (409 `company_in_use`) while contacts or subsidiaries
/// refer to it.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("company_id" = Uuid, Path, description = "Company id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version being deleted")),
    responses((status = 204, description = "Deleted"), UpdateErrors, AuthErrors)
)]
#[delete("/projects/{pid}/companies/{company_id}")]
pub async fn delete_company(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    uc::delete(&state.db, &caller.actor, pid, id, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompanyContactsQuery {
    /// 1..100, default 20.
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The live contacts of a company, newest first.
#[utoipa::path(
    tag = "contacts",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("company_id" = Uuid, Path, description = "Company id"), CompanyContactsQuery),
    responses((status = 200, description = "A page of contacts", body = ContactList),
              ReadErrors, ListErrors, AuthErrors)
)]
#[get("/projects/{pid}/companies/{company_id}/contacts")]
pub async fn list_company_contacts(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    query: Query<CompanyContactsQuery>,
) -> ApiResult<HttpResponse> {
    let (pid, id) = ids(&path.0, &path.1)?;
    // The company must exist in this project: an empty list would hide a wrong id.
    uc::get(&state.db, &caller.actor, pid, id).await?;
    let q = query.0;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let (sort_by, sort_order) = Default::default();
    let after = q
        .cursor
        .as_deref()
        .map(|c| crate::routes::contacts::decode_cursor(c, sort_by, sort_order))
        .transpose()?;
    let page = contacts_uc::list(
        &state.db,
        &caller.actor,
        ListQuery {
            filter: Filter {
                project_id: pid,
                company_id: Some(id),
                ..Filter::default()
            },
            sort_by,
            sort_order,
            limit,
            after,
            page: None,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(ContactList {
        contacts: page.contacts.into_iter().map(Into::into).collect(),
        next_cursor: page
            .next
            .map(|a| crate::routes::contacts::encode_cursor(sort_by, sort_order, &a)),
        total: None,
        page: None,
        page_size: None,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_company)
        .service(list_companies)
        .service(get_company)
        .service(update_company)
        .service(delete_company)
        .service(list_company_contacts);
}
