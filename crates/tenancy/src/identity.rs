//! Sign-up, login, token refresh and logout, and resolving a bearer credential into
//! the principal of a request.

use chrono::Duration;
use clientele_domain::access::{CustomerRole, Principal, Scope};
use clientele_domain::customer::{Customer, CustomerStatus};
use clientele_domain::email::Email;
use clientele_domain::error::Validator;
use clientele_domain::event::EventDraft;
use clientele_domain::identity::{parse_person_name, BillingAccount, Project, User, UserRole};
use clientele_domain::time::{now, to_naive, Timestamp};
use clientele_domain::{Audit, Error, Result};
use clientele_persistence::db::in_one_read;
use clientele_persistence::identity::{self as repo, RefreshTokenRow};
use clientele_persistence::{customers, events, Db, DbConn};
use serde_json::json;
use uuid::Uuid;

use crate::auth::password::check_policy;
use crate::auth::{secrets, AuthStates, Passwords, Tokens};

/// Failures before logins of an account slow down, and before it locks.
pub const SLOW_AFTER: i32 = 5;
pub const LOCK_AFTER: i32 = 10;
pub const LOCK_MINUTES: i64 = 15;
pub const REFRESH_PREFIX: &str = "clr_";
pub const API_KEY_PREFIX: &str = "clk_";

pub struct AuthService {
    pub passwords: Passwords,
    pub tokens: Tokens,
    /// Users' authentication state, remembered between requests.
    pub states: AuthStates,
    pub refresh_ttl_secs: i64,
    pub default_currency: String,
}

#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

#[derive(Debug, Clone)]
pub struct SignupInput {
    pub organization_name: String,
    pub email: String,
    pub password: String,
    pub name: Option<String>,
}

pub struct Signup {
    pub customer: Customer,
    pub billing_account: BillingAccount,
    pub project: Project,
    pub user: User,
    pub tokens: TokenPair,
}

fn draft(
    event_type: &'static str,
    customer_id: Uuid,
    project_id: Option<Uuid>,
    subject_id: Uuid,
    payload: serde_json::Value,
) -> EventDraft {
    EventDraft {
        event_type,
        customer_id,
        project_id,
        subject_id,
        payload,
    }
}

/// A new refresh token of `family`, stored hashed; returns the secret.
fn new_refresh_token(
    conn: &mut DbConn,
    auth: &AuthService,
    user_id: Uuid,
    family: &str,
) -> Result<String> {
    let secret = secrets::generate(REFRESH_PREFIX);
    let at = now();
    repo::insert_refresh_token(
        conn,
        &RefreshTokenRow {
            id: clientele_domain::new_id().to_string(),
            user_id: user_id.to_string(),
            family_id: family.to_string(),
            token_hash: secrets::digest(&secret),
            expires_at: to_naive(at + Duration::seconds(auth.refresh_ttl_secs)),
            used_at: None,
            revoked_at: None,
            created_at: to_naive(at),
        },
    )?;
    Ok(secret)
}

fn token_pair(
    conn: &mut DbConn,
    auth: &AuthService,
    user: &User,
    family: &str,
) -> Result<TokenPair> {
    Ok(TokenPair {
        access_token: auth.tokens.issue(
            user.id,
            user.customer_id,
            user.role.as_str(),
            user.token_version,
        )?,
        refresh_token: new_refresh_token(conn, auth, user.id, family)?,
        expires_in: auth.tokens.access_ttl_secs(),
    })
}

/// Creates, in one transaction, the customer, its default billing account and project,
/// and its owner; signs the owner in.
pub async fn signup(
    db: &Db,
    auth: std::sync::Arc<AuthService>,
    request_id: Option<String>,
    input: SignupInput,
) -> Result<Signup> {
    let mut v = Validator::new();
    let email = v.check(Email::parse(&input.email, "email"));
    v.check(check_policy(&input.password, "password"));
    let name = v
        .check(parse_person_name(input.name.as_deref(), "name"))
        .flatten();
    let org = v.check(clientele_domain::customer::parse_name(
        &input.organization_name,
        "organization_name",
    ));
    v.finish()?;
    let (Some(email), Some(org)) = (email, org) else {
        return Err(Error::Internal("validated sign-up input is missing".into()));
    };
    let customer = Customer::new(&org, email.as_str(), None)?;
    let hash = auth.passwords.hash(input.password).await?;
    db.write(move |conn| {
        if repo::email_taken(conn, &email)? || customers::find_by_email(conn, &email)?.is_some() {
            return Err(Error::Conflict {
                code: "email_taken",
                detail: "an account with this email already exists".into(),
                field: Some("email".into()),
            });
        }
        let billing = BillingAccount::default_for(customer.id, email.clone(), &auth.default_currency);
        let project = Project::default_for(customer.id, billing.id);
        let user = User::new(Some(customer.id), email, name, hash, UserRole::Customer(CustomerRole::Owner));
        customers::insert(conn, &customer)?;
        clientele_persistence::billing_accounts::insert(conn, &billing)?;
        clientele_persistence::projects::insert(conn, &project)?;
        repo::insert_user(conn, &user)?;
        let audit = Audit {
            actor: Some(format!("user:{}", user.id)),
            request_id,
        };
        let cid = customer.id;
        events::append(conn, &draft("customer.created", cid, None, cid, json!({"customer": customer.snapshot(), "via": "signup"})), &audit)?;
        events::append(conn, &draft("billing_account.created", cid, None, billing.id, json!({"billing_account_id": billing.id, "name": billing.name, "currency": billing.currency})), &audit)?;
        events::append(conn, &draft("project.created", cid, Some(project.id), project.id, json!({"project_id": project.id, "slug": project.slug, "billing_account_id": billing.id})), &audit)?;
        events::append(conn, &draft("member.added", cid, None, user.id, json!({"user_id": user.id, "email": user.email.as_str(), "role": user.role.as_str()})), &audit)?;
        let family = clientele_domain::new_id().to_string();
        let tokens = token_pair(conn, &auth, &user, &family)?;
        Ok(Signup {
            customer,
            billing_account: billing,
            project,
            user,
            tokens,
        })
    })
    .await
}

fn invalid_credentials() -> Error {
    Error::Unauthorized("invalid email or password".into())
}

/// Delay before answering the n-th consecutive failure: none at first, then doubling.
pub fn failure_delay(failed_logins: i32) -> std::time::Duration {
    if failed_logins < SLOW_AFTER {
        return std::time::Duration::ZERO;
    }
    let step = (failed_logins - SLOW_AFTER).min(4) as u32;
    std::time::Duration::from_millis(250 * 2u64.pow(step))
}

fn tenant_refusal(status: Option<CustomerStatus>) -> Result<()> {
    match status {
        Some(CustomerStatus::Suspended) => Err(Error::Forbidden {
            code: "tenant_suspended",
            detail: "this customer account is suspended: its members cannot sign in until it is reactivated".into(),
        }),
        Some(CustomerStatus::Inactive) => Err(Error::Forbidden {
            code: "tenant_inactive",
            detail: "this customer account is closed".into(),
        }),
        _ => Ok(()),
    }
}

/// Checks a password and signs the user in. Unknown emails and wrong passwords get the
/// same answer after the same work; repeated failures slow down, then lock the account.
pub async fn login(
    db: &Db,
    auth: std::sync::Arc<AuthService>,
    email: &str,
    password: String,
) -> Result<(User, TokenPair)> {
    let Ok(email) = Email::parse(email, "email") else {
        // Same cost as a real check, so malformed emails reveal nothing either.
        auth.passwords.verify(None, password).await?;
        return Err(invalid_credentials());
    };
    let lookup = email.clone();
    let candidate = db
        .read(move |conn| repo::find_for_login(conn, &lookup))
        .await?;
    let at = now();
    if let Some(c) = &candidate {
        if let Some(until) = c.state.locked_until.filter(|u| *u > at) {
            let secs = (until - at).num_seconds().max(1) as u64;
            tracing::warn!(user_id = %c.user.id, "login refused: account locked");
            return Err(Error::TooManyRequests {
                detail: "too many failed sign-in attempts; try again later".into(),
                retry_after_secs: secs,
            });
        }
    }
    let ok = auth
        .passwords
        .verify(
            candidate.as_ref().map(|c| c.user.password_hash.clone()),
            password,
        )
        .await?;
    let Some(candidate) = candidate else {
        tracing::info!("login failed: unknown account");
        return Err(invalid_credentials());
    };
    let user_id = candidate.user.id;
    if !ok {
        let failures = candidate.state.failed_logins + 1;
        let locked_until: Option<Timestamp> =
            (failures >= LOCK_AFTER).then(|| at + Duration::minutes(LOCK_MINUTES));
        db.write(move |conn| repo::record_login_failure(conn, user_id, failures, locked_until))
            .await?;
        tracing::info!(%user_id, failures, locked = locked_until.is_some(), "login failed: wrong password");
        tokio::time::sleep(failure_delay(failures)).await;
        return Err(invalid_credentials());
    }
    // Only after the password is right: a suspended tenant's members may not sign in.
    tenant_refusal(candidate.tenant_status)?;
    let user = candidate.user;
    let result = db
        .write(move |conn| {
            repo::record_login_success(conn, user.id, at)?;
            let family = clientele_domain::new_id().to_string();
            let tokens = token_pair(conn, &auth, &user, &family)?;
            Ok((user, tokens))
        })
        .await?;
    tracing::info!(%user_id, "login succeeded");
    Ok(result)
}

/// Trades a refresh token for a new pair. Each refresh token works once: presenting a
/// spent one means it was stolen or replayed, and revokes its whole family.
pub async fn refresh(
    db: &Db,
    auth: std::sync::Arc<AuthService>,
    refresh_token: String,
) -> Result<TokenPair> {
    let hash = secrets::digest(&refresh_token);
    db.write(move |conn| {
        let at = now();
        let row = repo::find_refresh_token(conn, &hash)?
            .ok_or_else(|| Error::Unauthorized("the refresh token is not valid".into()))?;
        if row.revoked_at.is_some() {
            return Err(Error::Unauthorized("the refresh token has been revoked".into()));
        }
        if row.used_at.is_some() || !repo::spend_refresh_token(conn, &row.id, at)? {
            repo::revoke_refresh_family(conn, &row.family_id, at)?;
            tracing::warn!(user_id = %row.user_id, family = %row.family_id, "refresh token reuse: family revoked");
            return Ok(Err(Error::Unauthorized(
                "the refresh token was already used; every token of this sign-in is revoked".into(),
            )));
        }
        if row.expires_at < to_naive(at) {
            return Err(Error::Unauthorized("the refresh token has expired".into()));
        }
        let user_id = Uuid::parse_str(&row.user_id).map_err(|_| Error::Internal("bad user id".into()))?;
        let state = repo::auth_state(conn, user_id)?
            .ok_or_else(|| Error::Unauthorized("the user no longer exists".into()))?;
        tenant_refusal(state.tenant_status)?;
        let user = repo::get_user(conn, user_id)?
            .ok_or_else(|| Error::Unauthorized("the user no longer exists".into()))?;
        Ok(Ok(token_pair(conn, &auth, &user, &row.family_id)?))
    })
    .await?
    // The revocation above must commit even though the request fails: hence the
    // nested Result, with the outer one deciding the transaction.
}

/// Ends a sign-in (the refresh token's family) or, with `everywhere`, every session
/// and every access token of the user.
pub async fn logout(
    db: &Db,
    principal: &Principal,
    refresh_token: Option<String>,
    everywhere: bool,
) -> Result<()> {
    let user_id = principal.person("there is no session to end")?;
    db.write(move |conn| {
        let at = now();
        if everywhere {
            repo::bump_token_version(conn, user_id)?;
            repo::revoke_user_refresh_tokens(conn, user_id, at)?;
            return Ok(());
        }
        if let Some(token) = refresh_token {
            let row = repo::find_refresh_token(conn, &secrets::digest(&token))?;
            match row {
                Some(row) if row.user_id == user_id.to_string() => {
                    repo::revoke_refresh_family(conn, &row.family_id, at)?;
                }
                _ => {
                    return Err(Error::validation(
                        "refresh_token",
                        "is not a refresh token of this user",
                    ))
                }
            }
        }
        Ok(())
    })
    .await
}

/// Creates a platform admin (used by the CLI).
pub async fn create_platform_admin(
    db: &Db,
    passwords: &Passwords,
    email: &str,
    password: String,
) -> Result<User> {
    let mut v = Validator::new();
    let email = v.check(Email::parse(email, "email"));
    v.check(check_policy(&password, "password"));
    v.finish()?;
    let Some(email) = email else {
        return Err(Error::Internal("validated email missing".into()));
    };
    let hash = passwords.hash(password).await?;
    db.write(move |conn| {
        if repo::email_taken(conn, &email)? {
            return Err(Error::Conflict {
                code: "email_taken",
                detail: "a user with this email already exists".into(),
                field: Some("email".into()),
            });
        }
        let user = User::new(None, email, None, hash, UserRole::PlatformAdmin);
        repo::insert_user(conn, &user)?;
        Ok(user)
    })
    .await
}

/// Resolves `Authorization: Bearer <credential>` into a principal: a JWT for people, an
/// API key (`clk_...`) for machines. Revoked or stale credentials are refused here.
pub async fn authenticate(db: &Db, auth: &AuthService, credential: &str) -> Result<Principal> {
    let principal = resolve(db, auth, credential).await?;
    // A closed tenant's members and keys have no access at all, on every route.
    clientele_domain::access::check_tenant_mode(
        &principal,
        clientele_domain::access::Intent::Read,
    )?;
    Ok(principal)
}

async fn resolve(db: &Db, auth: &AuthService, credential: &str) -> Result<Principal> {
    if credential.starts_with(API_KEY_PREFIX) {
        let hash = secrets::digest(credential);
        return db
            .read_bounded(move |conn| {
                in_one_read(conn, |conn| {
                    let key = clientele_persistence::api_keys::find_active(conn, &hash)?
                        .ok_or_else(|| Error::Unauthorized("the API key is not valid".into()))?;
                    let tenant_status = match key.customer_id {
                        Some(cid) => Some(customers::status(conn, cid)?.ok_or_else(|| {
                            Error::Unauthorized("the API key's customer no longer exists".into())
                        })?),
                        None => None,
                    };
                    Ok(Principal::ApiKey {
                        key_id: key.id,
                        customer_id: key.customer_id,
                        project_id: key.project_id,
                        scopes: key.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
                        tenant_status,
                    })
                })
            })
            .await;
    }
    let claims = auth.tokens.verify(credential)?;
    let user_id = claims.sub;
    // The epoch before the read: see AuthStates.
    let epoch = db.auth_epoch();
    let state = match auth.states.get(user_id, epoch) {
        Some(state) => state,
        None => {
            let state = db
                .read_bounded(move |conn| repo::auth_state(conn, user_id))
                .await?
                .ok_or_else(|| Error::Unauthorized("the user no longer exists".into()))?;
            auth.states.put(user_id, epoch, state.clone());
            state
        }
    };
    if state.token_version != claims.tv {
        return Err(Error::Unauthorized(
            "the access token has been revoked".into(),
        ));
    }
    match (state.role, state.customer_id, state.tenant_status) {
        (UserRole::PlatformAdmin, _, _) => Ok(Principal::PlatformAdmin { user_id }),
        (UserRole::Customer(role), Some(customer_id), Some(tenant_status)) => {
            Ok(Principal::Member {
                user_id,
                customer_id,
                role,
                tenant_status,
            })
        }
        _ => Err(Error::Internal(format!("user {user_id} has no customer"))),
    }
}

/// What `GET /me` shows.
pub struct Me {
    pub user: User,
    pub customer: Option<Customer>,
    pub project_roles: Vec<(Uuid, clientele_domain::access::ProjectRole)>,
}

pub async fn me(db: &Db, principal: &Principal) -> Result<Me> {
    let user_id = principal.person("/me describes a person")?;
    db.read(move |conn| {
        let user = repo::get_user(conn, user_id)?.ok_or(Error::not_found("user"))?;
        let customer = match user.customer_id {
            Some(cid) => Some(customers::get(conn, cid)?),
            None => None,
        };
        let project_roles = repo::project_roles(conn, user_id)?;
        Ok(Me {
            user,
            customer,
            project_roles,
        })
    })
    .await
}
