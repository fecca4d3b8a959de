//! Idempotency keys of creating requests, per tenant.

use chrono::NaiveDateTime;
use clientele_domain::time::{from_naive, to_naive, Timestamp};
use clientele_domain::Result;
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::schema::idempotency_keys;

/// The first request made with a key, and what it created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub customer_id: Uuid,
    pub key: String,
    pub request_path: String,
    pub fingerprint: String,
    pub resource_id: Uuid,
    pub created_at: Timestamp,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = idempotency_keys)]
struct Row {
    customer_id: String,
    idempotency_key: String,
    request_path: String,
    fingerprint: String,
    resource_id: String,
    created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, customer_id: Uuid, key: &str) -> Result<Option<Record>> {
    let row: Option<Row> = idempotency_keys::table
        .find((customer_id.to_string(), key))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?;
    row.map(|r| {
        Ok(Record {
            customer_id,
            resource_id: errors::stored_id(&r.resource_id, "resource id")?,
            key: r.idempotency_key,
            request_path: r.request_path,
            fingerprint: r.fingerprint,
            created_at: from_naive(r.created_at),
        })
    })
    .transpose()
}

/// Records a key; a concurrent request that recorded it first makes this a conflict
/// with code `idempotency_key_in_use`, so that its transaction (and its create) rolls
/// back and the caller can replay the winner.
pub fn insert(conn: &mut DbConn, r: &Record) -> Result<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(Row {
            customer_id: r.customer_id.to_string(),
            idempotency_key: r.key.clone(),
            request_path: r.request_path.clone(),
            fingerprint: r.fingerprint.clone(),
            resource_id: r.resource_id.to_string(),
            created_at: to_naive(r.created_at),
        })
        .execute(conn)
        .map_err(|e| {
            errors::unique(
                e,
                "Idempotency-Key",
                "idempotency_key_in_use",
                "a concurrent request with this Idempotency-Key was processed first",
            )
        })?;
    Ok(())
}

/// Forgets an expired key so that it can be used again.
pub fn delete(conn: &mut DbConn, customer_id: Uuid, key: &str) -> Result<()> {
    diesel::delete(idempotency_keys::table.find((customer_id.to_string(), key)))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}
