//! The people of a customer (`/customers/{id}/members`) and their project roles
//! (`/projects/{pid}/members`).

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_domain::identity::User;
use clientele_tenancy::members::{self as uc, MemberChanges, NewMember, ProjectMember};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::extract::{etag, path_id, Caller, IfMatch, Json};
use crate::problem::ApiResult;
use crate::responses::{AuthErrors, CreateErrors, ReadErrors, UpdateErrors};
use crate::state::AppState;

/// A person of a customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberBody {
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    pub email: String,
    pub name: Option<String>,
    /// `owner`, `admin`, `billing` or `member`.
    #[schema(example = "member")]
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; also the ETag.
    pub version: i64,
}

impl From<User> for MemberBody {
    fn from(u: User) -> Self {
        MemberBody {
            id: u.id,
            customer_id: u.customer_id,
            email: u.email.into_string(),
            name: u.name,
            role: u.role.as_str().to_string(),
            created_at: u.created_at,
            updated_at: u.updated_at,
            version: u.version,
        }
    }
}

fn member_response(mut res: actix_web::HttpResponseBuilder, u: User) -> HttpResponse {
    res.insert_header((header::ETAG, etag(u.version)))
        .json(MemberBody::from(u))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub members: Vec<MemberBody>,
}

/// The people of a customer, oldest first. Every member may see them.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The members", body = MemberList), ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let members = uc::list(&state.db, &caller.actor, id).await?;
    Ok(HttpResponse::Ok().json(MemberList {
        members: members.into_iter().map(MemberBody::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The sign-in name; unique across the platform.
    #[serde(default)]
    #[schema(example = "jane@acmecorp.com")]
    pub email: String,
    pub name: Option<String>,
    /// 8 to 128 characters.
    #[serde(default)]
    pub password: String,
    /// `owner` (only owners grant it), `admin`, `billing` or `member`.
    #[serde(default)]
    #[schema(example = "member")]
    pub role: String,
}

/// Add a person to a customer (owners and admins). Respects `features.max_users`.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added", body = MemberBody,
         headers(("ETag" = String, description = "Version tag for If-Match"),
                 ("Location" = String, description = "URL of the new member"))),
        CreateErrors, AuthErrors,
    )
)]
#[post("/customers/{id}/members")]
pub async fn add_member(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<AddMemberRequest>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let b = body.0;
    let user = uc::add(
        &state.db,
        &state.auth.passwords,
        state.platform.clone(),
        &caller.actor,
        id,
        NewMember {
            email: b.email,
            name: b.name,
            password: b.password,
            role: b.role,
        },
    )
    .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/api/v1/customers/{id}/members/{}", user.id),
    ));
    Ok(member_response(res, user))
}

fn ids(raw: &(String, String), second: &str) -> ApiResult<(Uuid, Uuid)> {
    Ok((path_id(&raw.0, "id")?, path_id(&raw.1, second)?))
}

/// Get one person of a customer.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("user_id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The member", body = MemberBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/members/{user_id}")]
pub async fn get_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = ids(&path, "user_id")?;
    let user = uc::get(&state.db, &caller.actor, id, user_id).await?;
    Ok(member_response(HttpResponse::Ok(), user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    /// An empty string clears the name.
    pub name: Option<String>,
    /// A new customer role (owners and admins; only owners touch owners).
    pub role: Option<String>,
    /// A new password. Changing it, or the role, signs the member out everywhere.
    pub password: Option<String>,
    /// Required when changing your own password.
    pub current_password: Option<String>,
}

/// Change a member's name, role or password. Owners and admins change anyone below
/// them; everyone changes their own name and password.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("user_id" = Uuid, Path, description = "User id"),
           ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = UpdateMemberRequest,
    responses((status = 200, description = "The member", body = MemberBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              UpdateErrors, AuthErrors)
)]
#[patch("/customers/{id}/members/{user_id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
    body: Json<UpdateMemberRequest>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = ids(&path, "user_id")?;
    let b = body.0;
    let user = uc::update(
        &state.db,
        &state.auth.passwords,
        &caller.actor,
        id,
        user_id,
        MemberChanges {
            name: b.name,
            role: b.role,
            password: b.password,
            current_password: b.current_password,
        },
        if_match.0,
    )
    .await?;
    Ok(member_response(HttpResponse::Ok(), user))
}

/// Remove a person from a customer (owners and admins; the last owner stays).
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"),
           ("user_id" = Uuid, Path, description = "User id")),
    responses((status = 204, description = "Removed"), UpdateErrors, AuthErrors)
)]
#[delete("/customers/{id}/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = ids(&path, "user_id")?;
    uc::remove(&state.db, &caller.actor, id, user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A person's role in a project.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectMemberBody {
    pub project_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    /// `project_admin`, `agent` or `viewer`.
    #[schema(example = "agent")]
    pub role: String,
    /// The person's role in the customer.
    pub customer_role: String,
    pub created_at: DateTime<Utc>,
}

impl From<ProjectMember> for ProjectMemberBody {
    fn from(m: ProjectMember) -> Self {
        ProjectMemberBody {
            project_id: m.membership.project_id,
            user_id: m.membership.user_id,
            email: m.user.email.into_string(),
            name: m.user.name,
            role: m.membership.role.as_str().to_string(),
            customer_role: m.user.role.as_str().to_string(),
            created_at: m.membership.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectMemberList {
    pub members: Vec<ProjectMemberBody>,
}

/// The people with a role in a project. Owners and admins of the customer act in
/// every project without one.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id")),
    responses((status = 200, description = "The project's members", body = ProjectMemberList), ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}/members")]
pub async fn list_project_members(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let members = uc::list_project(&state.db, &caller.actor, pid).await?;
    Ok(HttpResponse::Ok().json(ProjectMemberList {
        members: members.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddProjectMemberRequest {
    /// A member of the project's customer.
    pub user_id: Uuid,
    /// `project_admin`, `agent` or `viewer`.
    #[serde(default)]
    #[schema(example = "agent")]
    pub role: String,
}

/// Give a member of the customer a role in the project (owners, admins, project admins).
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id")),
    request_body = AddProjectMemberRequest,
    responses((status = 201, description = "Added", body = ProjectMemberBody), CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/projects/{pid}/members")]
pub async fn add_project_member(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
    body: Json<AddProjectMemberRequest>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let b = body.0;
    let m = uc::add_to_project(&state.db, &caller.actor, pid, b.user_id, &b.role).await?;
    Ok(HttpResponse::Created().json(ProjectMemberBody::from(m)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeProjectRoleRequest {
    #[serde(default)]
    #[schema(example = "viewer")]
    pub role: String,
}

/// Change a person's role in the project.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("user_id" = Uuid, Path, description = "User id")),
    request_body = ChangeProjectRoleRequest,
    responses((status = 200, description = "Changed", body = ProjectMemberBody), UpdateErrors, AuthErrors)
)]
#[patch("/projects/{pid}/members/{user_id}")]
pub async fn change_project_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<ChangeProjectRoleRequest>,
) -> ApiResult<HttpResponse> {
    let (pid, user_id) = (path_id(&path.0, "pid")?, path_id(&path.1, "user_id")?);
    let m = uc::change_project_role(&state.db, &caller.actor, pid, user_id, &body.0.role).await?;
    Ok(HttpResponse::Ok().json(ProjectMemberBody::from(m)))
}

/// Take a person's role in the project away.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("user_id" = Uuid, Path, description = "User id")),
    responses((status = 204, description = "Removed"), UpdateErrors, AuthErrors)
)]
#[delete("/projects/{pid}/members/{user_id}")]
pub async fn remove_project_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pid, user_id) = (path_id(&path.0, "pid")?, path_id(&path.1, "user_id")?);
    uc::remove_from_project(&state.db, &caller.actor, pid, user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_members)
        .service(add_member)
        .service(get_member)
        .service(update_member)
        .service(remove_member)
        .service(list_project_members)
        .service(add_project_member)
        .service(change_project_member)
        .service(remove_project_member);
}
