//! The `features.*` limits of a customer, enforced where the limited thing is created,
//! inside the creating transaction so that concurrent creates cannot both slip past.

use clientele_domain::{Error, Result};
use clientele_persistence::identity as people;
use clientele_persistence::{customers, DbConn};
use serde_json::{Map, Value};
use uuid::Uuid;

/// `features.<key>` of resolved settings, when it is a non-negative integer.
pub fn limit(settings: &Map<String, Value>, key: &str) -> Option<u64> {
    settings.get("features")?.get(key)?.as_u64()
}

fn reached(key: &str, max: u64, what: &str) -> Error {
    Error::Conflict {
        code: "limit_reached",
        detail: format!("the limit of {max} {what} (features.{key}) is reached"),
        field: Some(format!("features.{key}")),
    }
}

/// Refuses a new member beyond `features.max_users`.
pub fn check_members(conn: &mut DbConn, customer_id: Uuid) -> Result<()> {
    let customer = customers::get(conn, customer_id)?;
    let Some(max) = limit(&customer.settings, "max_users") else {
        return Ok(());
    };
    if people::count_members(conn, customer_id)? as u64 >= max {
        return Err(reached("max_users", max, "members"));
    }
    Ok(())
}
