//! The `features.*` limits of a customer, enforced where the limited thing is created,
//! inside the creating transaction so that concurrent creates cannot both slip past.

use clientele_domain::customer::Customer;
use clientele_domain::{Error, Result};
use clientele_persistence::identity as people;
use clientele_persistence::{contacts, customers, projects, DbConn};
use uuid::Uuid;

use crate::settings::Platform;

fn reached(key: &str, max: u64, what: &str) -> Error {
    Error::Conflict {
        code: "limit_reached",
        detail: format!("the limit of {max} {what} (features.{key}) is reached"),
        field: Some(format!("features.{key}")),
    }
}

fn check(
    conn: &mut DbConn,
    platform: &Platform,
    customer_id: Uuid,
    key: &str,
    what: &str,
    count: impl FnOnce(&mut DbConn) -> Result<i64>,
) -> Result<()> {
    let customer = customers::get(conn, customer_id)?;
    check_of(conn, platform, &customer, key, what, count)
}

/// [`check`] for a customer already read in this transaction.
fn check_of(
    conn: &mut DbConn,
    platform: &Platform,
    customer: &Customer,
    key: &str,
    what: &str,
    count: impl FnOnce(&mut DbConn) -> Result<i64>,
) -> Result<()> {
    let Some(max) = platform.limit(&customer.settings, key) else {
        return Ok(());
    };
    if count(conn)?.max(0) as u64 >= max {
        return Err(reached(key, max, what));
    }
    Ok(())
}

/// Refuses a new member beyond `features.max_users`.
pub fn check_members(conn: &mut DbConn, platform: &Platform, customer_id: Uuid) -> Result<()> {
    check(conn, platform, customer_id, "max_users", "members", |c| {
        people::count_members(c, customer_id)
    })
}

/// Refuses a new (or restored) active project beyond `features.max_projects`.
pub fn check_projects(conn: &mut DbConn, platform: &Platform, customer_id: Uuid) -> Result<()> {
    check(
        conn,
        platform,
        customer_id,
        "max_projects",
        "projects",
        |c| projects::count_active(c, customer_id),
    )
}

/// Refuses a new (or restored) contact beyond `features.max_contacts`, counted over the
/// whole tenant. With a limit set, the customer row is locked first so that concurrent
/// creates on PostgreSQL count one after the other; without one nothing is counted.
pub fn check_contacts(conn: &mut DbConn, platform: &Platform, customer_id: Uuid) -> Result<()> {
    let customer = customers::get(conn, customer_id)?;
    check_contacts_of(conn, platform, &customer)
}

/// Whether `features.max_contacts` limits this customer: a create must then count, and
/// so run in a transaction ([`check_contacts_of`] locks the customer row).
pub fn contacts_limited(platform: &Platform, customer: &Customer) -> bool {
    platform.limit(&customer.settings, "max_contacts").is_some()
}

/// [`check_contacts`] for a customer already read in this transaction (with the
/// project, by [`crate::scope::project_with_customer`]): a query fewer per create.
pub fn check_contacts_of(
    conn: &mut DbConn,
    platform: &Platform,
    customer: &Customer,
) -> Result<()> {
    let id = customer.id;
    check_of(conn, platform, customer, "max_contacts", "contacts", |c| {
        customers::lock(c, id)?;
        contacts::count_live(c, id)
    })
}
