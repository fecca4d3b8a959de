//! Sign-up, tokens, the current user and the public keys.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_domain::identity::{BillingAccount, Project, User};
use clientele_tenancy::identity::{self as uc, SignupInput, TokenPair};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::extract::{Caller, Json, OptionalJson, ReqId};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{AuthErrors, CreateErrors, LoginErrors};
use crate::routes::customers::CustomerBody;
use crate::state::AppState;

/// A person who logs in.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub id: Uuid,
    /// Absent for platform admins.
    pub customer_id: Option<Uuid>,
    pub email: String,
    pub name: Option<String>,
    /// `platform_admin`, or the customer role: `owner`, `admin`, `billing`, `member`.
    pub role: String,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserBody {
    fn from(u: User) -> Self {
        UserBody {
            id: u.id,
            customer_id: u.customer_id,
            email: u.email.into_string(),
            name: u.name,
            role: u.role.as_str().to_string(),
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectBody {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub billing_account_id: Uuid,
    pub slug: String,
    pub name: String,
    pub status: String,
    #[schema(additional_properties)]
    pub settings: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Project> for ProjectBody {
    fn from(p: Project) -> Self {
        ProjectBody {
            id: p.id,
            customer_id: p.customer_id,
            billing_account_id: p.billing_account_id,
            slug: p.slug,
            name: p.name,
            status: p.status,
            settings: p.settings,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingAccountBody {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub name: String,
    pub billing_email: String,
    pub currency: String,
    pub billing_cycle: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<BillingAccount> for BillingAccountBody {
    fn from(b: BillingAccount) -> Self {
        BillingAccountBody {
            id: b.id,
            customer_id: b.customer_id,
            name: b.name,
            billing_email: b.billing_email.into_string(),
            currency: b.currency,
            billing_cycle: b.billing_cycle,
            status: b.status,
            created_at: b.created_at,
            updated_at: b.updated_at,
            version: b.version,
        }
    }
}

/// Tokens of a sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenBody {
    /// A JWT (EdDSA) for `Authorization: Bearer`.
    pub access_token: String,
    /// Single use: trade it at /auth/refresh for a new pair.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl From<TokenPair> for TokenBody {
    fn from(t: TokenPair) -> Self {
        TokenBody {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "Bearer".into(),
            expires_in: t.expires_in,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    #[serde(default)]
    #[schema(example = "Acme Corporation")]
    pub organization_name: String,
    #[serde(default)]
    #[schema(example = "admin@acmecorp.com")]
    pub email: String,
    /// 8 to 128 characters.
    #[serde(default)]
    pub password: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub customer: CustomerBody,
    pub project: ProjectBody,
    pub billing_account: BillingAccountBody,
    pub user: UserBody,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: i64,
}

/// Sign an organization up: creates the customer, its default billing account and
/// project, and its owner, then signs the owner in. Rate limited per client address.
#[utoipa::path(
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Signed up", body = SignupResponse),
        (status = 429, description = "Too many sign-ups from this address", body = crate::problem::Problem,
         content_type = "application/problem+json"),
        CreateErrors,
    )
)]
#[post("/signup")]
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    request_id: ReqId,
    body: Json<SignupRequest>,
) -> ApiResult<HttpResponse> {
    if let Some(ip) = req.peer_addr().map(|a| a.ip()) {
        state.signup_limiter.check(ip).map_err(|secs| {
            ApiError::from(clientele_domain::Error::TooManyRequests {
                detail: "too many sign-ups from this address; try again later".into(),
                retry_after_secs: secs,
            })
        })?;
    }
    let b = body.0;
    let s = uc::signup(
        &state.db,
        state.auth.clone(),
        request_id.0,
        SignupInput {
            organization_name: b.organization_name,
            email: b.email,
            password: b.password,
            name: b.name,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(SignupResponse {
        customer: s.customer.into(),
        project: s.project.into(),
        billing_account: s.billing_account.into(),
        user: s.user.into(),
        access_token: s.tokens.access_token,
        refresh_token: s.tokens.refresh_token,
        token_type: "Bearer".into(),
        expires_in: s.tokens.expires_in,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
}

/// Sign in with email and password. Unknown emails and wrong passwords get the same
/// answer; repeated failures slow down, then lock the account for a while (429).
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    responses((status = 200, description = "Signed in", body = TokenBody), LoginErrors)
)]
#[post("/auth/token")]
pub async fn token(
    state: web::Data<AppState>,
    body: Json<TokenRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let (_, tokens) = uc::login(&state.db, state.auth.clone(), &b.email, b.password).await?;
    Ok(HttpResponse::Ok().json(TokenBody::from(tokens)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[serde(default)]
    pub refresh_token: String,
}

/// Trade a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one revokes every token of that sign-in.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, description = "New tokens", body = TokenBody), LoginErrors)
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let tokens = uc::refresh(&state.db, state.auth.clone(), body.0.refresh_token).await?;
    Ok(HttpResponse::Ok().json(TokenBody::from(tokens)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// The refresh token of the sign-in to end.
    pub refresh_token: Option<String>,
    /// End every sign-in of the user and revoke every access token issued so far.
    #[serde(default)]
    pub everywhere: bool,
}

/// Sign out: end one sign-in, or every sign-in with `everywhere`.
#[utoipa::path(
    tag = "auth",
    request_body(content = Option<LogoutRequest>),
    responses((status = 204, description = "Signed out"), AuthErrors),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    caller: Caller,
    body: OptionalJson<LogoutRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.0.unwrap_or_default();
    uc::logout(
        &state.db,
        &caller.actor.principal,
        b.refresh_token,
        b.everywhere,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectRoleBody {
    pub project_id: Uuid,
    /// `project_admin`, `agent` or `viewer`.
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserBody,
    /// The user's customer; absent for platform admins.
    pub customer: Option<CustomerBody>,
    pub role: String,
    pub project_roles: Vec<ProjectRoleBody>,
}

/// The signed-in user, its customer and its roles.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The current user", body = MeResponse), AuthErrors),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let me = uc::me(&state.db, &caller.actor.principal).await?;
    let role = me.user.role.as_str().to_string();
    Ok(HttpResponse::Ok().json(MeResponse {
        user: me.user.into(),
        customer: me.customer.map(Into::into),
        role,
        project_roles: me
            .project_roles
            .into_iter()
            .map(|(project_id, r)| ProjectRoleBody {
                project_id,
                role: r.as_str().to_string(),
            })
            .collect(),
    }))
}

/// The public keys that verify access tokens (JWK Set, Ed25519).
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "JWK Set", body = Object))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(state.auth.tokens.jwks())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(signup)
        .service(token)
        .service(refresh)
        .service(logout)
        .service(me);
}
