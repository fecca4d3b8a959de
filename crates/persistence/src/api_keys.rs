//! API keys: stored as SHA-256 hashes, looked up by hash, revocable.

use chrono::NaiveDateTime;
use clientele_domain::time::{from_naive, to_naive, Timestamp};
use clientele_domain::{Error, Result};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::schema::api_keys;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub name: String,
    /// The first characters of the secret, to recognize a key in a list.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = api_keys)]
struct Row {
    id: String,
    customer_id: Option<String>,
    project_id: Option<String>,
    name: String,
    prefix: String,
    key_hash: String,
    scopes: String,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl Row {
    fn into_key(self) -> Result<ApiKey> {
        Ok(ApiKey {
            id: errors::stored_id(&self.id, "id")?,
            customer_id: self
                .customer_id
                .as_deref()
                .map(|s| errors::stored_id(s, "id"))
                .transpose()?,
            project_id: self
                .project_id
                .as_deref()
                .map(|s| errors::stored_id(s, "id"))
                .transpose()?,
            scopes: serde_json::from_str(&self.scopes)
                .map_err(|_| Error::Internal(format!("api key {}: bad scopes", self.id)))?,
            name: self.name,
            prefix: self.prefix,
            created_by: self.created_by,
            created_at: from_naive(self.created_at),
            last_used_at: self.last_used_at.map(from_naive),
            revoked_at: self.revoked_at.map(from_naive),
        })
    }
}

pub fn insert(conn: &mut DbConn, key: &ApiKey, key_hash: &str) -> Result<()> {
    diesel::insert_into(api_keys::table)
        .values(Row {
            id: key.id.to_string(),
            customer_id: key.customer_id.map(|c| c.to_string()),
            project_id: key.project_id.map(|p| p.to_string()),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            key_hash: key_hash.to_string(),
            scopes: serde_json::to_string(&key.scopes)
                .map_err(|e| Error::Internal(e.to_string()))?,
            created_by: key.created_by.clone(),
            created_at: to_naive(key.created_at),
            last_used_at: None,
            revoked_at: None,
        })
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

/// The unrevoked key with this hash.
pub fn find_active(conn: &mut DbConn, key_hash: &str) -> Result<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(Row::into_key)
        .transpose()
}

/// The keys of one customer (tenant-scoped: the customer id is required).
pub fn list_for_customer(conn: &mut DbConn, customer_id: Uuid) -> Result<Vec<ApiKey>> {
    api_keys::table
        .filter(api_keys::customer_id.eq(customer_id.to_string()))
        .order((api_keys::created_at.desc(), api_keys::id.desc()))
        .select(Row::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(Row::into_key)
        .collect()
}

/// Revokes a key of this customer; false when the customer has no such key.
pub fn revoke(conn: &mut DbConn, customer_id: Uuid, key_id: Uuid, at: Timestamp) -> Result<bool> {
    let n = diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(key_id.to_string()))
            .filter(api_keys::customer_id.eq(customer_id.to_string()))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(to_naive(at))))
    .execute(conn)
    .map_err(errors::db)?;
    Ok(n == 1)
}

/// Unrevoked keys of a customer per project (`None`: customer-wide keys).
pub fn active_counts(conn: &mut DbConn, customer_id: Uuid) -> Result<Vec<(Option<Uuid>, i64)>> {
    api_keys::table
        .filter(api_keys::customer_id.eq(customer_id.to_string()))
        .filter(api_keys::revoked_at.is_null())
        .group_by(api_keys::project_id)
        .select((api_keys::project_id, diesel::dsl::count_star()))
        .load::<(Option<String>, i64)>(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(|(p, n)| {
            Ok((
                p.as_deref()
                    .map(|s| errors::stored_id(s, "id"))
                    .transpose()?,
                n,
            ))
        })
        .collect()
}
