//! Projects and channels of a customer, and the settings they override.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_domain::hierarchy::{Channel, ProjectStatus};
use clientele_domain::settings::{Effective, Level};
use clientele_tenancy::channels::{self as channels_uc, NewChannel};
use clientele_tenancy::projects::{self as uc, NewProject, ProjectChanges};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::extract::{etag, path_id, Caller, IfMatch, Json};
use crate::problem::ApiResult;
use crate::responses::{AuthErrors, CreateErrors, ReadErrors, TransitionErrors, UpdateErrors};
use crate::routes::auth::ProjectBody;
use crate::state::AppState;

fn project_response(
    mut res: actix_web::HttpResponseBuilder,
    p: clientele_domain::identity::Project,
) -> HttpResponse {
    res.insert_header((header::ETAG, etag(p.version)))
        .json(ProjectBody::from(p))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectList {
    pub projects: Vec<ProjectBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    /// Lowercase letters, digits and `-`; unique within the customer.
    #[serde(default)]
    #[schema(example = "emea-sales")]
    pub slug: String,
    #[serde(default)]
    #[schema(example = "EMEA Sales")]
    pub name: String,
    /// An active account of the same customer; default: the customer's first.
    pub billing_account_id: Option<Uuid>,
}

/// Create a project (owners and admins). Respects `features.max_projects`.
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = CreateProjectRequest,
    responses((status = 201, description = "Created", body = ProjectBody,
               headers(("ETag" = String, description = "Version tag for If-Match"),
                       ("Location" = String, description = "URL of the new project"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/customers/{id}/projects")]
pub async fn create_project(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<CreateProjectRequest>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let b = body.0;
    let p = uc::create(
        &state.db,
        state.platform.clone(),
        &caller.actor,
        id,
        NewProject {
            slug: b.slug,
            name: b.name,
            billing_account_id: b.billing_account_id,
        },
    )
    .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/projects/{}", p.id)));
    Ok(project_response(res, p))
}

/// The customer's projects the caller can see, oldest first (plain members: those where
/// they have a role).
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The projects", body = ProjectList), ReadErrors, AuthErrors)
)]
#[get("/customers/{id}/projects")]
pub async fn list_projects(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "id")?;
    let projects = uc::list(&state.db, &caller.actor, id).await?;
    Ok(HttpResponse::Ok().json(ProjectList {
        projects: projects.into_iter().map(Into::into).collect(),
    }))
}

/// Get a project.
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id")),
    responses((status = 200, description = "The project", body = ProjectBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}")]
pub async fn get_project(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let p = uc::get(&state.db, &caller.actor, pid).await?;
    Ok(project_response(HttpResponse::Ok(), p))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProjectRequest {
    pub slug: Option<String>,
    pub name: Option<String>,
    /// Move the project to another account of the same customer (owners and admins).
    pub billing_account_id: Option<Uuid>,
}

/// Change a project's slug, name or billing account.
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = UpdateProjectRequest,
    responses((status = 200, description = "The project", body = ProjectBody,
               headers(("ETag" = String, description = "Version tag for If-Match"))),
              UpdateErrors, AuthErrors)
)]
#[patch("/projects/{pid}")]
pub async fn update_project(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
    if_match: IfMatch,
    body: Json<UpdateProjectRequest>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let b = body.0;
    let p = uc::update(
        &state.db,
        &caller.actor,
        pid,
        ProjectChanges {
            slug: b.slug,
            name: b.name,
            billing_account_id: b.billing_account_id,
        },
        if_match.0,
    )
    .await?;
    Ok(project_response(HttpResponse::Ok(), p))
}

/// Archive a project: its data stays, read-only, until it is restored.
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id")),
    responses((status = 200, description = "Archived", body = ProjectBody), TransitionErrors, AuthErrors)
)]
#[delete("/projects/{pid}")]
pub async fn archive_project(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let p = uc::set_status(
        &state.db,
        state.platform.clone(),
        &caller.actor,
        pid,
        ProjectStatus::Archived,
    )
    .await?;
    Ok(project_response(HttpResponse::Ok(), p))
}

/// Restore an archived project. Respects `features.max_projects`.
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id")),
    responses((status = 200, description = "Active again", body = ProjectBody), TransitionErrors, AuthErrors)
)]
#[post("/projects/{pid}/restore")]
pub async fn restore_project(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let p = uc::set_status(
        &state.db,
        state.platform.clone(),
        &caller.actor,
        pid,
        ProjectStatus::Active,
    )
    .await?;
    Ok(project_response(HttpResponse::Ok(), p))
}

/// The overrides a level stores.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverridesBody {
    #[schema(additional_properties)]
    pub settings: Map<String, Value>,
    pub version: i64,
}

fn overrides(settings: Map<String, Value>, version: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(OverridesBody { settings, version })
}

/// Resolved settings, and for every leaf (dotted path) the level it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectiveBody {
    #[schema(additional_properties)]
    pub settings: Map<String, Value>,
    /// `platform`, `customer`, `project` or `channel` per dotted key.
    #[schema(value_type = BTreeMap<String, String>, example = json!({"session_timeout": "project"}))]
    pub sources: BTreeMap<String, Level>,
    /// Keys the customer locked: their value is always the customer's.
    pub locked: Vec<String>,
}

fn effective_body(e: Effective, locked: Vec<String>) -> EffectiveBody {
    EffectiveBody {
        settings: e.settings,
        sources: e.sources,
        locked,
    }
}

/// A project's settings overrides (what it sets itself).
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id")),
    responses((status = 200, description = "The overrides", body = OverridesBody), ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}/settings")]
pub async fn get_project_settings(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let p = uc::get(&state.db, &caller.actor, pid).await?;
    Ok(overrides(p.settings, p.version))
}

async fn write_project_settings(
    state: &AppState,
    caller: Caller,
    pid: &str,
    body: Value,
    merge: bool,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let pid = path_id(pid, "pid")?;
    let p = uc::write_settings(
        &state.db,
        state.platform.clone(),
        &caller.actor,
        pid,
        body,
        merge,
        if_match.0,
    )
    .await?;
    Ok(overrides(p.settings, p.version))
}

/// Replace a project's overrides. Keys locked by the customer are refused (422 naming
/// them); known keys are checked against the settings schema.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body(content = Object, description = "The new overrides"),
    responses((status = 200, description = "The overrides", body = OverridesBody), UpdateErrors, AuthErrors)
)]
#[put("/projects/{pid}/settings")]
pub async fn put_project_settings(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
    if_match: IfMatch,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    write_project_settings(&state, caller, &pid, body.0, false, if_match).await
}

/// Merge-patch a project's overrides (RFC 7396): `null` removes an override and the
/// value falls back to the customer's.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id"),
           ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body(content = Object, content_type = "application/merge-patch+json", description = "A merge patch"),
    responses((status = 200, description = "The overrides", body = OverridesBody), UpdateErrors, AuthErrors)
)]
#[patch("/projects/{pid}/settings")]
pub async fn patch_project_settings(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
    if_match: IfMatch,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    write_project_settings(&state, caller, &pid, body.0, true, if_match).await
}

/// A project's resolved settings: platform -> customer -> project.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id")),
    responses((status = 200, description = "Resolved settings with sources", body = EffectiveBody), ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}/settings/effective")]
pub async fn project_effective(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let (_, e, locks) =
        uc::effective(&state.db, state.platform.clone(), &caller.actor, pid).await?;
    Ok(HttpResponse::Ok().json(effective_body(e, locks.keys().to_vec())))
}

/// A channel of a project.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelBody {
    pub id: Uuid,
    pub project_id: Uuid,
    /// `email`, `sms`, `chat`, `web` or `voice`.
    #[schema(example = "email")]
    pub kind: String,
    pub name: String,
    /// The channel's own overrides.
    #[schema(additional_properties)]
    pub settings: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Channel> for ChannelBody {
    fn from(c: Channel) -> Self {
        ChannelBody {
            id: c.id,
            project_id: c.project_id,
            kind: c.kind.as_str().to_string(),
            name: c.name,
            settings: c.settings,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

fn channel_response(mut res: actix_web::HttpResponseBuilder, c: Channel) -> HttpResponse {
    res.insert_header((header::ETAG, etag(c.version)))
        .json(ChannelBody::from(c))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    pub channels: Vec<ChannelBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    #[serde(default)]
    #[schema(example = "email")]
    pub kind: String,
    #[serde(default)]
    #[schema(example = "Support inbox")]
    pub name: String,
    /// Initial overrides.
    pub settings: Option<Value>,
}

/// Add a channel to a project (owners, admins, project admins).
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id")),
    request_body = CreateChannelRequest,
    responses((status = 201, description = "Created", body = ChannelBody,
               headers(("Location" = String, description = "URL of the new channel"))),
              CreateErrors, ReadErrors, AuthErrors)
)]
#[post("/projects/{pid}/channels")]
pub async fn create_channel(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
    body: Json<CreateChannelRequest>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let b = body.0;
    let c = channels_uc::create(
        &state.db,
        state.platform.clone(),
        &caller.actor,
        pid,
        NewChannel {
            kind: b.kind,
            name: b.name,
            settings: b.settings,
        },
    )
    .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/channels/{}", c.id)));
    Ok(channel_response(res, c))
}

/// The channels of a project, oldest first.
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("pid" = Uuid, Path, description = "Project id")),
    responses((status = 200, description = "The channels", body = ChannelList), ReadErrors, AuthErrors)
)]
#[get("/projects/{pid}/channels")]
pub async fn list_channels(
    state: web::Data<AppState>,
    caller: Caller,
    pid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = path_id(&pid, "pid")?;
    let list = channels_uc::list(&state.db, &caller.actor, pid).await?;
    Ok(HttpResponse::Ok().json(ChannelList {
        channels: list.into_iter().map(Into::into).collect(),
    }))
}

/// Get a channel.
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("cid" = Uuid, Path, description = "Channel id")),
    responses((status = 200, description = "The channel", body = ChannelBody), ReadErrors, AuthErrors)
)]
#[get("/channels/{cid}")]
pub async fn get_channel(
    state: web::Data<AppState>,
    caller: Caller,
    cid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let cid = path_id(&cid, "cid")?;
    let c = channels_uc::get(&state.db, &caller.actor, cid).await?;
    Ok(channel_response(HttpResponse::Ok(), c))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannelRequest {
    pub name: Option<String>,
}

/// Rename a channel.
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("cid" = Uuid, Path, description = "Channel id"),
           ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = UpdateChannelRequest,
    responses((status = 200, description = "The channel", body = ChannelBody), UpdateErrors, AuthErrors)
)]
#[patch("/channels/{cid}")]
pub async fn update_channel(
    state: web::Data<AppState>,
    caller: Caller,
    cid: web::Path<String>,
    if_match: IfMatch,
    body: Json<UpdateChannelRequest>,
) -> ApiResult<HttpResponse> {
    let cid = path_id(&cid, "cid")?;
    let c = channels_uc::rename(&state.db, &caller.actor, cid, body.0.name, if_match.0).await?;
    Ok(channel_response(HttpResponse::Ok(), c))
}

/// Delete a channel (its settings go with it; its events stay).
#[utoipa::path(
    tag = "projects",
    security(("bearer" = [])),
    params(("cid" = Uuid, Path, description = "Channel id")),
    responses((status = 204, description = "Deleted"), UpdateErrors, AuthErrors)
)]
#[delete("/channels/{cid}")]
pub async fn delete_channel(
    state: web::Data<AppState>,
    caller: Caller,
    cid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let cid = path_id(&cid, "cid")?;
    channels_uc::delete(&state.db, &caller.actor, cid).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A channel's settings overrides.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("cid" = Uuid, Path, description = "Channel id")),
    responses((status = 200, description = "The overrides", body = OverridesBody), ReadErrors, AuthErrors)
)]
#[get("/channels/{cid}/settings")]
pub async fn get_channel_settings(
    state: web::Data<AppState>,
    caller: Caller,
    cid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let cid = path_id(&cid, "cid")?;
    let c = channels_uc::get(&state.db, &caller.actor, cid).await?;
    Ok(overrides(c.settings, c.version))
}

async fn write_channel_settings(
    state: &AppState,
    caller: Caller,
    cid: &str,
    body: Value,
    merge: bool,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let cid = path_id(cid, "cid")?;
    let c = channels_uc::write_settings(
        &state.db,
        state.platform.clone(),
        &caller.actor,
        cid,
        body,
        merge,
        if_match.0,
    )
    .await?;
    Ok(overrides(c.settings, c.version))
}

/// Replace a channel's overrides (locked keys refused, known keys checked).
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("cid" = Uuid, Path, description = "Channel id"),
           ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body(content = Object, description = "The new overrides"),
    responses((status = 200, description = "The overrides", body = OverridesBody), UpdateErrors, AuthErrors)
)]
#[put("/channels/{cid}/settings")]
pub async fn put_channel_settings(
    state: web::Data<AppState>,
    caller: Caller,
    cid: web::Path<String>,
    if_match: IfMatch,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    write_channel_settings(&state, caller, &cid, body.0, false, if_match).await
}

/// Merge-patch a channel's overrides (RFC 7396; `null` falls back to the project).
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("cid" = Uuid, Path, description = "Channel id"),
           ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body(content = Object, content_type = "application/merge-patch+json", description = "A merge patch"),
    responses((status = 200, description = "The overrides", body = OverridesBody), UpdateErrors, AuthErrors)
)]
#[patch("/channels/{cid}/settings")]
pub async fn patch_channel_settings(
    state: web::Data<AppState>,
    caller: Caller,
    cid: web::Path<String>,
    if_match: IfMatch,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    write_channel_settings(&state, caller, &cid, body.0, true, if_match).await
}

/// A channel's resolved settings: platform -> customer -> project -> channel.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    params(("cid" = Uuid, Path, description = "Channel id")),
    responses((status = 200, description = "Resolved settings with sources", body = EffectiveBody), ReadErrors, AuthErrors)
)]
#[get("/channels/{cid}/settings/effective")]
pub async fn channel_effective(
    state: web::Data<AppState>,
    caller: Caller,
    cid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let cid = path_id(&cid, "cid")?;
    let (_, e, locks) =
        channels_uc::effective(&state.db, state.platform.clone(), &caller.actor, cid).await?;
    Ok(HttpResponse::Ok().json(effective_body(e, locks.keys().to_vec())))
}

/// The JSON Schema of known settings keys (as kept in `config/settings.schema.json`).
#[utoipa::path(
    tag = "settings",
    responses((status = 200, description = "A JSON Schema (Draft 2020-12)", body = Object))
)]
#[get("/settings/schema")]
pub async fn settings_schema(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/schema+json")
        .json(state.platform.schema_json())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_project)
        .service(list_projects)
        .service(get_project)
        .service(update_project)
        .service(archive_project)
        .service(restore_project)
        .service(get_project_settings)
        .service(put_project_settings)
        .service(patch_project_settings)
        .service(project_effective)
        .service(create_channel)
        .service(list_channels)
        .service(get_channel)
        .service(update_channel)
        .service(delete_channel)
        .service(get_channel_settings)
        .service(put_channel_settings)
        .service(patch_channel_settings)
        .service(channel_effective)
        .service(settings_schema);
}
