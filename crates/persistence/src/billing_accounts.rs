//! Billing accounts of a customer. Lookups take the caller's tenant.

use chrono::NaiveDateTime;
use clientele_domain::email::Email;
use clientele_domain::identity::BillingAccount;
use clientele_domain::time::{from_naive, to_naive};
use clientele_domain::{Error, Result};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::schema::{billing_accounts, projects};

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = billing_accounts)]
struct Row {
    id: String,
    customer_id: String,
    name: String,
    billing_email: String,
    currency: String,
    billing_cycle: String,
    status: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl Row {
    fn from_domain(b: &BillingAccount) -> Row {
        Row {
            id: b.id.to_string(),
            customer_id: b.customer_id.to_string(),
            name: b.name.clone(),
            billing_email: b.billing_email.as_str().to_string(),
            currency: b.currency.clone(),
            billing_cycle: b.billing_cycle.clone(),
            status: b.status.clone(),
            created_at: to_naive(b.created_at),
            updated_at: to_naive(b.updated_at),
            version: b.version,
        }
    }

    fn into_domain(self) -> Result<BillingAccount> {
        Ok(BillingAccount {
            id: errors::stored_id(&self.id, "billing account id")?,
            customer_id: errors::stored_id(&self.customer_id, "customer id")?,
            billing_email: Email::parse(&self.billing_email, "billing_email")
                .map_err(|_| Error::Internal(format!("billing account {}: bad email", self.id)))?,
            name: self.name,
            currency: self.currency,
            billing_cycle: self.billing_cycle,
            status: self.status,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert(conn: &mut DbConn, b: &BillingAccount) -> Result<()> {
    diesel::insert_into(billing_accounts::table)
        .values(Row::from_domain(b))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

/// The account with this id, if it belongs to `tenant` (any tenant when `None`).
pub fn find(conn: &mut DbConn, tenant: Option<Uuid>, id: Uuid) -> Result<Option<BillingAccount>> {
    let mut q = billing_accounts::table
        .filter(billing_accounts::id.eq(id.to_string()))
        .select(Row::as_select())
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(billing_accounts::customer_id.eq(t.to_string()));
    }
    q.first(conn)
        .optional()
        .map_err(errors::db)?
        .map(Row::into_domain)
        .transpose()
}

/// The accounts of a customer, oldest first.
pub fn list(conn: &mut DbConn, customer_id: Uuid) -> Result<Vec<BillingAccount>> {
    billing_accounts::table
        .filter(billing_accounts::customer_id.eq(customer_id.to_string()))
        .order((
            billing_accounts::created_at.asc(),
            billing_accounts::id.asc(),
        ))
        .select(Row::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(Row::into_domain)
        .collect()
}

/// Saves a changed account if nobody changed it since `loaded_version` was read.
pub fn update(conn: &mut DbConn, b: &BillingAccount, loaded_version: i64) -> Result<()> {
    let row = Row::from_domain(b);
    let n = diesel::update(
        billing_accounts::table
            .filter(billing_accounts::id.eq(&row.id))
            .filter(billing_accounts::version.eq(loaded_version)),
    )
    .set(&row)
    .execute(conn)
    .map_err(errors::db)?;
    errors::one_updated(n, "billing account")
}

/// Active projects billed to an account: a closed account may have none.
pub fn active_projects(conn: &mut DbConn, id: Uuid) -> Result<i64> {
    projects::table
        .filter(projects::billing_account_id.eq(id.to_string()))
        .filter(projects::status.eq("active"))
        .count()
        .get_result(conn)
        .map_err(errors::db)
}
