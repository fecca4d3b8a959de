//! Users, their project roles, refresh tokens, and the default billing account and
//! project created at sign-up.

use chrono::NaiveDateTime;
use clientele_domain::access::ProjectRole;
use clientele_domain::customer::CustomerStatus;
use clientele_domain::email::Email;
use clientele_domain::identity::{User, UserRole};
use clientele_domain::time::{from_naive, to_naive, Timestamp};
use clientele_domain::{Error, Result};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::schema::{customers, project_members, refresh_tokens, users};

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    customer_id: Option<String>,
    email: String,
    name: Option<String>,
    password_hash: String,
    role: String,
    token_version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl UserRow {
    fn from_domain(u: &User) -> UserRow {
        UserRow {
            id: u.id.to_string(),
            customer_id: u.customer_id.map(|c| c.to_string()),
            email: u.email.as_str().to_string(),
            name: u.name.clone(),
            password_hash: u.password_hash.clone(),
            role: u.role.as_str().to_string(),
            token_version: u.token_version,
            created_at: to_naive(u.created_at),
            updated_at: to_naive(u.updated_at),
            version: u.version,
        }
    }

    fn into_domain(self) -> Result<User> {
        Ok(User {
            id: errors::stored_id(&self.id, "user id")?,
            customer_id: self
                .customer_id
                .as_deref()
                .map(|c| errors::stored_id(c, "customer id"))
                .transpose()?,
            email: Email::parse(&self.email, "email")
                .map_err(|_| Error::Internal(format!("user {}: bad email", self.id)))?,
            role: UserRole::parse(&self.role)
                .ok_or_else(|| Error::Internal(format!("user {}: bad role", self.id)))?,
            name: self.name,
            password_hash: self.password_hash,
            token_version: self.token_version,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert_user(conn: &mut DbConn, user: &User) -> Result<()> {
    diesel::insert_into(users::table)
        .values(UserRow::from_domain(user))
        .execute(conn)
        .map_err(|e| {
            errors::unique(
                e,
                "email",
                "email_taken",
                "a user with this email already exists",
            )
        })?;
    Ok(())
}

pub fn email_taken(conn: &mut DbConn, email: &Email) -> Result<bool> {
    let n: i64 = users::table
        .filter(users::email.eq(email.as_str()))
        .count()
        .get_result(conn)
        .map_err(errors::db)?;
    Ok(n > 0)
}

/// Login bookkeeping of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginState {
    pub failed_logins: i32,
    pub locked_until: Option<Timestamp>,
}

/// A user found by email for login, with its throttle state and tenant status.
pub struct LoginCandidate {
    pub user: User,
    pub state: LoginState,
    pub tenant_status: Option<CustomerStatus>,
}

pub fn find_for_login(conn: &mut DbConn, email: &Email) -> Result<Option<LoginCandidate>> {
    let row: Option<(UserRow, i32, Option<NaiveDateTime>, Option<String>)> = users::table
        .left_join(customers::table)
        .filter(users::email.eq(email.as_str()))
        .select((
            UserRow::as_select(),
            users::failed_logins,
            users::locked_until,
            customers::status.nullable(),
        ))
        .first(conn)
        .optional()
        .map_err(errors::db)?;
    row.map(|(user, failed_logins, locked_until, status)| {
        Ok(LoginCandidate {
            user: user.into_domain()?,
            state: LoginState {
                failed_logins,
                locked_until: locked_until.map(from_naive),
            },
            tenant_status: status.as_deref().and_then(CustomerStatus::parse),
        })
    })
    .transpose()
}

pub fn get_user(conn: &mut DbConn, id: Uuid) -> Result<Option<User>> {
    users::table
        .find(id.to_string())
        .select(UserRow::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(UserRow::into_domain)
        .transpose()
}

/// What every authenticated request needs to know about its user, in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthState {
    pub token_version: i64,
    pub role: UserRole,
    pub customer_id: Option<Uuid>,
    pub tenant_status: Option<CustomerStatus>,
}

pub fn auth_state(conn: &mut DbConn, user_id: Uuid) -> Result<Option<AuthState>> {
    let row: Option<(i64, String, Option<String>, Option<String>)> = users::table
        .left_join(customers::table)
        .filter(users::id.eq(user_id.to_string()))
        .select((
            users::token_version,
            users::role,
            users::customer_id,
            customers::status.nullable(),
        ))
        .first(conn)
        .optional()
        .map_err(errors::db)?;
    row.map(|(token_version, role, customer_id, status)| {
        Ok(AuthState {
            token_version,
            role: UserRole::parse(&role)
                .ok_or_else(|| Error::Internal(format!("user {user_id}: bad role")))?,
            customer_id: customer_id
                .as_deref()
                .map(|c| errors::stored_id(c, "customer id"))
                .transpose()?,
            tenant_status: status.as_deref().and_then(CustomerStatus::parse),
        })
    })
    .transpose()
}

pub fn record_login_failure(
    conn: &mut DbConn,
    user_id: Uuid,
    failed_logins: i32,
    locked_until: Option<Timestamp>,
) -> Result<()> {
    diesel::update(users::table.find(user_id.to_string()))
        .set((
            users::failed_logins.eq(failed_logins),
            users::locked_until.eq(locked_until.map(to_naive)),
        ))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

pub fn record_login_success(conn: &mut DbConn, user_id: Uuid, at: Timestamp) -> Result<()> {
    diesel::update(users::table.find(user_id.to_string()))
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<NaiveDateTime>),
            users::last_login_at.eq(Some(to_naive(at))),
        ))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

/// Revokes every access token of the user issued so far.
pub fn bump_token_version(conn: &mut DbConn, user_id: Uuid) -> Result<i64> {
    crate::db::note_auth_change();
    diesel::update(users::table.find(user_id.to_string()))
        .set((
            users::token_version.eq(users::token_version + 1),
            users::version.eq(users::version + 1),
        ))
        .execute(conn)
        .map_err(errors::db)?;
    users::table
        .find(user_id.to_string())
        .select(users::token_version)
        .first(conn)
        .map_err(errors::db)
}

/// The project roles of a user, oldest first.
pub fn project_roles(conn: &mut DbConn, user_id: Uuid) -> Result<Vec<(Uuid, ProjectRole)>> {
    let rows: Vec<(String, String)> = project_members::table
        .filter(project_members::user_id.eq(user_id.to_string()))
        .order(project_members::created_at.asc())
        .select((project_members::project_id, project_members::role))
        .load(conn)
        .map_err(errors::db)?;
    rows.into_iter()
        .map(|(p, r)| {
            Ok((
                errors::stored_id(&p, "project id")?,
                ProjectRole::parse(&r)
                    .ok_or_else(|| Error::Internal(format!("bad project role {r}")))?,
            ))
        })
        .collect()
}

/// A stored refresh token.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn insert_refresh_token(conn: &mut DbConn, row: &RefreshTokenRow) -> Result<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row.clone())
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

pub fn find_refresh_token(conn: &mut DbConn, token_hash: &str) -> Result<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)
}

/// Marks a token spent; false if someone spent it first (a concurrent reuse).
pub fn spend_refresh_token(conn: &mut DbConn, id: &str, at: Timestamp) -> Result<bool> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(to_naive(at))))
    .execute(conn)
    .map_err(errors::db)?;
    Ok(n == 1)
}

pub fn revoke_refresh_family(conn: &mut DbConn, family_id: &str, at: Timestamp) -> Result<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(to_naive(at))))
    .execute(conn)
    .map_err(errors::db)
}

pub fn revoke_user_refresh_tokens(
    conn: &mut DbConn,
    user_id: Uuid,
    at: Timestamp,
) -> Result<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id.to_string()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(to_naive(at))))
    .execute(conn)
    .map_err(errors::db)
}

/// The people of a customer, oldest first (tenant-scoped: the customer id is required).
pub fn list_members(conn: &mut DbConn, customer_id: Uuid) -> Result<Vec<User>> {
    users::table
        .filter(users::customer_id.eq(customer_id.to_string()))
        .order((users::created_at.asc(), users::id.asc()))
        .select(UserRow::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(UserRow::into_domain)
        .collect()
}

/// A person of this customer, if there is one with this id.
pub fn find_member(conn: &mut DbConn, customer_id: Uuid, user_id: Uuid) -> Result<Option<User>> {
    users::table
        .filter(users::id.eq(user_id.to_string()))
        .filter(users::customer_id.eq(customer_id.to_string()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(UserRow::into_domain)
        .transpose()
}

/// How many owners a customer has: the last one may be neither demoted nor removed.
pub fn count_owners(conn: &mut DbConn, customer_id: Uuid) -> Result<i64> {
    users::table
        .filter(users::customer_id.eq(customer_id.to_string()))
        .filter(users::role.eq("owner"))
        .count()
        .get_result(conn)
        .map_err(errors::db)
}

/// Saves a changed user if nobody changed it since `loaded_version` was read.
pub fn update_user(conn: &mut DbConn, user: &User, loaded_version: i64) -> Result<()> {
    crate::db::note_auth_change();
    let n = diesel::update(
        users::table
            .filter(users::id.eq(user.id.to_string()))
            .filter(users::version.eq(loaded_version)),
    )
    .set((
        users::name.eq(&user.name),
        users::role.eq(user.role.as_str()),
        users::password_hash.eq(&user.password_hash),
        users::token_version.eq(user.token_version),
        users::updated_at.eq(to_naive(user.updated_at)),
        users::version.eq(user.version),
    ))
    .execute(conn)
    .map_err(errors::db)?;
    errors::one_updated(n, "member")
}

/// Removes a person of this customer; their project roles and refresh tokens go with
/// them (ON DELETE CASCADE; foreign keys are on for every SQLite connection we open).
pub fn delete_member(conn: &mut DbConn, customer_id: Uuid, user_id: Uuid) -> Result<bool> {
    crate::db::note_auth_change();
    let n = diesel::delete(
        users::table
            .filter(users::id.eq(user_id.to_string()))
            .filter(users::customer_id.eq(customer_id.to_string())),
    )
    .execute(conn)
    .map_err(errors::db)?;
    Ok(n == 1)
}

/// How many people a customer has.
pub fn count_members(conn: &mut DbConn, customer_id: Uuid) -> Result<i64> {
    users::table
        .filter(users::customer_id.eq(customer_id.to_string()))
        .count()
        .get_result(conn)
        .map_err(errors::db)
}
