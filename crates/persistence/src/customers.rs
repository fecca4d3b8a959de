//! Customers (tenant accounts). The tenant is the row itself, so these functions are
//! the platform-level ones; tenant-owned tables take the customer id as an argument.

use chrono::NaiveDateTime;
use clientele_domain::customer::{Customer, CustomerStatus};
use clientele_domain::email::Email;
use clientele_domain::time::{from_naive, to_naive, Timestamp};
use clientele_domain::{Error, Result};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::schema::customers;
use crate::stamp::Stamp;

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = customers)]
pub(crate) struct CustomerRow {
    id: String,
    name: String,
    email: String,
    status: String,
    settings: String,
    #[diesel(deserialize_as = Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    updated_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    status_changed_at: NaiveDateTime,
    version: i64,
}

impl CustomerRow {
    fn from_domain(c: &Customer) -> Result<Self> {
        Ok(CustomerRow {
            id: c.id.to_string(),
            name: c.name.clone(),
            email: c.email.as_str().to_string(),
            status: c.status.as_str().to_string(),
            settings: serde_json::to_string(&c.settings)
                .map_err(|e| Error::Internal(format!("settings do not serialize: {e}")))?,
            created_at: to_naive(c.created_at),
            updated_at: to_naive(c.updated_at),
            status_changed_at: to_naive(c.status_changed_at),
            version: c.version,
        })
    }

    pub(crate) fn into_domain(self) -> Result<Customer> {
        let corrupt = |what: &str| Error::Internal(format!("customer {}: bad {what}", self.id));
        Ok(Customer {
            id: Uuid::parse_str(&self.id).map_err(|_| corrupt("id"))?,
            email: Email::parse(&self.email, "email").map_err(|_| corrupt("email"))?,
            status: CustomerStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            settings: serde_json::from_str(&self.settings).map_err(|_| corrupt("settings"))?,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            status_changed_at: from_naive(self.status_changed_at),
            version: self.version,
            name: self.name,
        })
    }
}

fn email_taken(e: diesel::result::Error) -> Error {
    errors::unique(
        e,
        "email",
        "email_taken",
        "a customer with this email already exists",
    )
}

pub fn insert(conn: &mut DbConn, customer: &Customer) -> Result<()> {
    diesel::insert_into(customers::table)
        .values(CustomerRow::from_domain(customer)?)
        .execute(conn)
        .map_err(email_taken)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: Uuid) -> Result<Option<Customer>> {
    let q = customers::table.find(id.to_string());
    on_backend!(conn, |c| q
        .select(CustomerRow::as_select())
        .first(c)
        .optional())
    .map_err(errors::db)?
    .map(CustomerRow::into_domain)
    .transpose()
}

/// Loads a customer or answers "not found".
pub fn get(conn: &mut DbConn, id: Uuid) -> Result<Customer> {
    find(conn, id)?.ok_or(Error::not_found("customer"))
}

/// Only the status of a customer: what every request of its keys needs to know.
pub fn status(conn: &mut DbConn, id: Uuid) -> Result<Option<CustomerStatus>> {
    let q = customers::table
        .find(id.to_string())
        .select(customers::status);
    let raw: Option<String> = on_backend!(conn, |c| q.first(c).optional()).map_err(errors::db)?;
    raw.map(|s| {
        CustomerStatus::parse(&s)
            .ok_or_else(|| Error::Internal(format!("customer {id}: bad status")))
    })
    .transpose()
}

pub fn find_by_email(conn: &mut DbConn, email: &Email) -> Result<Option<Customer>> {
    customers::table
        .filter(customers::email.eq(email.as_str()))
        .select(CustomerRow::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(CustomerRow::into_domain)
        .transpose()
}

/// A page of customers, newest first, with the total matching the filter.
pub fn list(
    conn: &mut DbConn,
    status: Option<CustomerStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Customer>, i64)> {
    let mut page = customers::table
        .select(CustomerRow::as_select())
        .order((customers::created_at.desc(), customers::id.desc()))
        .limit(limit)
        .offset(offset)
        .into_boxed();
    let mut count = customers::table.count().into_boxed();
    if let Some(status) = status {
        page = page.filter(customers::status.eq(status.as_str()));
        count = count.filter(customers::status.eq(status.as_str()));
    }
    let rows = page.load(conn).map_err(errors::db)?;
    let total = count.get_result(conn).map_err(errors::db)?;
    let items = rows
        .into_iter()
        .map(CustomerRow::into_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok((items, total))
}

/// Takes the row lock of a customer for the rest of the transaction, so that concurrent
/// modifiers queue instead of racing (PostgreSQL; SQLite's single writer already
/// serializes). A no-op UPDATE is the portable way to lock a row: `FOR UPDATE` is not
/// SQLite syntax. Returns false if there is no such customer.
pub fn lock(conn: &mut DbConn, id: Uuid) -> Result<bool> {
    let q = diesel::update(customers::table.find(id.to_string()))
        .set(customers::version.eq(customers::version));
    let n = on_backend!(conn, |c| q.execute(c)).map_err(errors::db)?;
    Ok(n == 1)
}

/// Saves a changed customer if nobody changed it since it was loaded.
///
/// `loaded_version` is the version read in this transaction; a concurrent writer on
/// PostgreSQL that got there first makes this a conflict instead of a lost update.
pub fn update(conn: &mut DbConn, customer: &Customer, loaded_version: i64) -> Result<()> {
    // The status is part of every member's access check.
    crate::db::note_auth_change();
    let row = CustomerRow::from_domain(customer)?;
    let n = diesel::update(
        customers::table
            .filter(customers::id.eq(&row.id))
            .filter(customers::version.eq(loaded_version)),
    )
    .set(&row)
    .execute(conn)
    .map_err(email_taken)?;
    errors::one_updated(n, "customer")
}

/// The keys a customer locked against overrides below it (stored as a JSON array).
pub fn locks(conn: &mut DbConn, id: Uuid) -> Result<Vec<String>> {
    let q = customers::table
        .find(id.to_string())
        .select(customers::settings_locks);
    let raw: Option<String> = on_backend!(conn, |c| q.first(c).optional()).map_err(errors::db)?;
    let raw = raw.ok_or(Error::not_found("customer"))?;
    serde_json::from_str(&raw)
        .map_err(|e| Error::Internal(format!("customer {id}: bad settings locks: {e}")))
}

/// Replaces a customer's locks and counts it as a change of the customer.
pub fn set_locks(conn: &mut DbConn, id: Uuid, locks: &[String], at: Timestamp) -> Result<()> {
    let raw = serde_json::to_string(locks).map_err(|e| Error::Internal(e.to_string()))?;
    diesel::update(customers::table.find(id.to_string()))
        .set((
            customers::settings_locks.eq(raw),
            customers::updated_at.eq(to_naive(at)),
            customers::version.eq(customers::version + 1),
        ))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

/// A page of customers for the billing system, by id (creation order), after `after`,
/// optionally only those changed since a time.
pub fn page_for_billing(
    conn: &mut DbConn,
    status: Option<CustomerStatus>,
    changed_since: Option<Timestamp>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Customer>> {
    let mut q = customers::table
        .select(CustomerRow::as_select())
        .order(customers::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(customers::status.eq(s.as_str()));
    }
    if let Some(t) = changed_since {
        q = q.filter(customers::updated_at.ge(to_naive(t)));
    }
    if let Some(a) = after {
        q = q.filter(customers::id.gt(a.to_string()));
    }
    q.load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(CustomerRow::into_domain)
        .collect()
}
