//! Use cases of the tenant account (seed: Customer Aggregate).

use clientele_domain::access::{
    customer_access, forbidden, require_platform_admin, Actor, Intent, Scope,
};
use clientele_domain::customer::{Customer, CustomerStatus, StatusAction};
use clientele_domain::email::Email;
use clientele_domain::event::EventDraft;
use clientele_domain::{Error, Result};
use clientele_persistence::{customers as repo, events, Db, DbConn};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::settings::{stored_locks, Platform};
use clientele_domain::settings::Locks;
use std::sync::Arc;

pub const REASON_MAX: usize = 500;

#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub name: String,
    pub email: String,
    pub settings: Option<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct CustomerChanges {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct CustomerQuery {
    pub status: Option<CustomerStatus>,
    pub limit: i64,
    pub offset: i64,
}

fn event(customer: &Customer, event_type: &'static str, payload: Value) -> EventDraft {
    EventDraft {
        event_type,
        customer_id: customer.id,
        project_id: None,
        subject_id: customer.id,
        payload,
    }
}

fn ensure_email_free(conn: &mut DbConn, email: &Email, except: Option<Uuid>) -> Result<()> {
    match repo::find_by_email(conn, email)? {
        Some(other) if Some(other.id) != except => Err(Error::Conflict {
            code: "email_taken",
            detail: "a customer with this email already exists".into(),
            field: Some("email".into()),
        }),
        _ => Ok(()),
    }
}

/// Attempts of an update without If-Match that loses a race on PostgreSQL.
const RETRIES: u32 = 3;

pub async fn create(
    db: &Db,
    platform: &Platform,
    actor: &Actor,
    input: NewCustomer,
) -> Result<Customer> {
    require_platform_admin(&actor.principal, "create customers")?;
    let audit = actor.audit();
    let customer = Customer::new(&input.name, &input.email, input.settings)?;
    platform.validate(&customer.settings, Some("settings"))?;
    db.write(move |conn| {
        ensure_email_free(conn, &customer.email, None)?;
        repo::insert(conn, &customer)?;
        let payload = json!({
            "customer": customer.snapshot(),
            "settings": customer.settings,
        });
        events::append(conn, &event(&customer, "customer.created", payload), &audit)?;
        Ok(customer)
    })
    .await
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> Result<Customer> {
    customer_access(&actor.principal, id, Intent::Read)?;
    db.read_bounded(move |conn| repo::get(conn, id)).await
}

/// Every customer: for platform admins and the billing system.
pub async fn list(db: &Db, actor: &Actor, query: CustomerQuery) -> Result<(Vec<Customer>, i64)> {
    if !actor.principal.is_platform_admin() && !actor.principal.has_scope(Scope::BillingRead) {
        return Err(forbidden(
            "only platform admins and billing keys list customers",
        ));
    }
    db.read(move |conn| repo::list(conn, query.status, query.limit, query.offset))
        .await
}

/// Loads, checks `If-Match`, applies `change`, saves and appends the event it returns.
/// Shared by every single-customer update so that each gets the same concurrency rules:
/// with If-Match a lost race is a 412; without it the update is simply retried on the
/// new state (merge patches and transitions compose; the state machine re-checks).
async fn modify<F>(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
    change: F,
) -> Result<Customer>
where
    F: Fn(&mut DbConn, &mut Customer) -> Result<Option<EventDraft>> + Clone + Send + 'static,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (change, audit) = (change.clone(), actor.audit());
        let result = db
            .write(move |conn| {
                if !repo::lock(conn, id)? {
                    return Err(Error::not_found("customer"));
                }
                let mut customer = repo::get(conn, id)?;
                customer.check_version(if_match)?;
                let loaded = customer.version;
                if let Some(draft) = change(conn, &mut customer)? {
                    match repo::update(conn, &customer, loaded) {
                        Err(Error::Conflict {
                            code: "concurrent_update",
                            ..
                        }) if if_match.is_some() => {
                            let current = repo::get(conn, id)?;
                            return Err(Error::PreconditionFailed {
                                entity: "customer",
                                current_version: current.version,
                            });
                        }
                        other => other?,
                    }
                    events::append(conn, &draft, &audit)?;
                }
                Ok(customer)
            })
            .await;
        match result {
            Err(Error::Conflict {
                code: "concurrent_update",
                ..
            }) if if_match.is_none() && attempt < RETRIES => continue,
            other => return other,
        }
    }
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    input: CustomerChanges,
    if_match: Option<i64>,
) -> Result<Customer> {
    customer_access(&actor.principal, id, Intent::Write)?;
    modify(db, actor, id, if_match, move |conn, customer| {
        let changes = customer.update(input.name.as_deref(), input.email.as_deref())?;
        if changes.is_empty() {
            return Ok(None);
        }
        if changes.0.contains(&"email") {
            ensure_email_free(conn, &customer.email, Some(customer.id))?;
        }
        let payload = json!({"customer": customer.snapshot(), "changed": changes.0});
        Ok(Some(event(customer, "customer.updated", payload)))
    })
    .await
}

fn settings_event(customer: &Customer) -> EventDraft {
    let payload = json!({
        "customer_id": customer.id,
        "settings": customer.settings,
        "version": customer.version,
    });
    event(customer, "customer.settings_updated", payload)
}

/// PUT: the body replaces the whole settings object.
pub async fn replace_settings(
    db: &Db,
    platform: &Platform,
    actor: &Actor,
    id: Uuid,
    settings: Value,
    if_match: Option<i64>,
) -> Result<Customer> {
    customer_access(&actor.principal, id, Intent::Write)?;
    let settings = clientele_domain::customer::parse_settings(settings, "body")
        .map_err(|e| Error::Validation(vec![e]))?;
    platform.validate(&settings, None)?;
    modify(db, actor, id, if_match, move |_, customer| {
        if customer.settings == settings {
            return Ok(None);
        }
        customer.replace_settings(settings.clone());
        Ok(Some(settings_event(customer)))
    })
    .await
}

/// PATCH: an RFC 7396 merge patch; `null` removes a key.
pub async fn patch_settings(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    id: Uuid,
    patch: Value,
    if_match: Option<i64>,
) -> Result<Customer> {
    customer_access(&actor.principal, id, Intent::Write)?;
    modify(db, actor, id, if_match, move |_, customer| {
        let merged = customer.merged_settings(&patch)?;
        platform.validate(&merged, None)?;
        if merged == customer.settings {
            return Ok(None);
        }
        customer.replace_settings(merged);
        Ok(Some(settings_event(customer)))
    })
    .await
}

/// Suspend, activate or deactivate, with an optional reason kept on the event.
pub async fn transition(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    action: StatusAction,
    reason: Option<String>,
) -> Result<Customer> {
    // Members never change their own tenant's status, whatever their role; another
    // tenant's caller learns nothing, not even that the customer exists.
    customer_access(&actor.principal, id, Intent::Read)?;
    require_platform_admin(&actor.principal, &format!("{} customers", action.as_str()))?;
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if let Some(r) = &reason {
        if r.chars().count() > REASON_MAX {
            return Err(Error::validation(
                "reason",
                format!("must be at most {REASON_MAX} characters"),
            ));
        }
    }
    modify(db, actor, id, None, move |_, customer| {
        let from = customer.status;
        customer.apply(action)?;
        let payload = json!({
            "customer_id": customer.id,
            "from": from.as_str(),
            "status": customer.status.as_str(),
            "reason": reason,
            "at": customer.status_changed_at,
        });
        Ok(Some(event(customer, action.event_type(), payload)))
    })
    .await
}

/// The keys a customer locked against overrides by its projects and channels.
pub async fn locks(db: &Db, actor: &Actor, id: Uuid) -> Result<(Locks, i64)> {
    customer_access(&actor.principal, id, Intent::Read)?;
    db.read(move |conn| {
        let version = repo::get(conn, id)?.version;
        Ok((stored_locks(repo::locks(conn, id)?)?, version))
    })
    .await
}

/// Replaces the locks. Overrides already stored below a new lock stay stored but no
/// longer count: the effective value of a locked key is always the customer's.
pub async fn set_locks(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    keys: Vec<String>,
    if_match: Option<i64>,
) -> Result<(Locks, i64)> {
    customer_access(&actor.principal, id, Intent::Write)?;
    let locks = Locks::parse(&keys, "locks").map_err(Error::Validation)?;
    let audit = actor.audit();
    db.write(move |conn| {
        if !repo::lock(conn, id)? {
            return Err(Error::not_found("customer"));
        }
        let customer = repo::get(conn, id)?;
        customer.check_version(if_match)?;
        let before = stored_locks(repo::locks(conn, id)?)?;
        if before == locks {
            return Ok((locks, customer.version));
        }
        repo::set_locks(conn, id, locks.keys(), clientele_domain::time::now())?;
        let payload = json!({"customer_id": id, "locks": locks.keys()});
        events::append(
            conn,
            &event(&customer, "customer.settings_locks_updated", payload),
            &audit,
        )?;
        Ok((locks, customer.version + 1))
    })
    .await
}
