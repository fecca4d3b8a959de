//! Billing accounts, and the billing system's view of a customer: status, accounts,
//! projects and usage.

use std::collections::HashMap;

use clientele_domain::access::{billing_access, customer_access, forbidden, Actor, Intent, Scope};
use clientele_domain::customer::{parse_name, Customer, CustomerStatus};
use clientele_domain::email::Email;
use clientele_domain::error::Validator;
use clientele_domain::event::EventDraft;
use clientele_domain::hierarchy::{check_version, touch, BillingCycle, BillingStatus};
use clientele_domain::identity::{BillingAccount, Project};
use clientele_domain::time::Timestamp;
use clientele_domain::{Error, Result};
use clientele_persistence::identity as people;
use clientele_persistence::{
    api_keys, billing_accounts, contacts, customers, events, projects, Db, DbConn,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    pub name: Option<String>,
    pub billing_email: Option<String>,
    pub currency: Option<String>,
    pub billing_cycle: Option<String>,
    pub status: Option<String>,
}

pub fn snapshot(b: &BillingAccount) -> Value {
    json!({
        "id": b.id, "name": b.name, "billing_email": b.billing_email.as_str(),
        "currency": b.currency, "billing_cycle": b.billing_cycle, "status": b.status,
        "version": b.version,
    })
}

fn event(b: &BillingAccount, event_type: &'static str, payload: Value) -> EventDraft {
    EventDraft {
        event_type,
        customer_id: b.customer_id,
        project_id: None,
        subject_id: b.id,
        payload,
    }
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    customer_id: Uuid,
    input: AccountInput,
) -> Result<BillingAccount> {
    billing_access(&actor.principal, customer_id, Intent::Write)?;
    let mut v = Validator::new();
    let name = v.check(parse_name(input.name.as_deref().unwrap_or(""), "name"));
    let email = v.check(Email::parse(
        input.billing_email.as_deref().unwrap_or(""),
        "billing_email",
    ));
    let currency = v.check(clientele_domain::currency::parse_currency(
        input.currency.as_deref().unwrap_or(""),
        "currency",
    ));
    let cycle = v.check(BillingCycle::parse_field(
        input.billing_cycle.as_deref().unwrap_or("monthly"),
        "billing_cycle",
    ));
    if input.status.is_some() {
        v.push("status", "a new billing account is always active");
    }
    v.finish()?;
    let (Some(name), Some(email), Some(currency), Some(cycle)) = (name, email, currency, cycle)
    else {
        return Err(Error::Internal(
            "validated billing account input is missing".into(),
        ));
    };
    let mut account = BillingAccount::default_for(customer_id, email, &currency);
    account.name = name;
    account.billing_cycle = cycle.as_str().to_string();
    let audit = actor.audit();
    db.write(move |conn| {
        customers::get(conn, customer_id)?;
        billing_accounts::insert(conn, &account)?;
        events::append(
            conn,
            &event(
                &account,
                "billing_account.created",
                json!({"billing_account": snapshot(&account)}),
            ),
            &audit,
        )?;
        Ok(account)
    })
    .await
}

pub async fn list(db: &Db, actor: &Actor, customer_id: Uuid) -> Result<Vec<BillingAccount>> {
    billing_access(&actor.principal, customer_id, Intent::Read)?;
    db.read(move |conn| {
        customers::get(conn, customer_id)?;
        billing_accounts::list(conn, customer_id)
    })
    .await
}

fn find(conn: &mut DbConn, actor: &Actor, id: Uuid, intent: Intent) -> Result<BillingAccount> {
    let account = billing_accounts::find(conn, actor.principal.tenant(), id)?
        .ok_or(Error::not_found("billing account"))?;
    billing_access(&actor.principal, account.customer_id, intent).map_err(|e| match e {
        Error::NotFound { .. } => Error::not_found("billing account"),
        other => other,
    })?;
    Ok(account)
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> Result<BillingAccount> {
    let actor = actor.clone();
    db.read_bounded(move |conn| find(conn, &actor, id, Intent::Read))
        .await
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    input: AccountInput,
    if_match: Option<i64>,
) -> Result<BillingAccount> {
    let mut v = Validator::new();
    let name = input
        .name
        .as_deref()
        .and_then(|n| v.check(parse_name(n, "name")));
    let email = input
        .billing_email
        .as_deref()
        .and_then(|e| v.check(Email::parse(e, "billing_email")));
    let currency = input
        .currency
        .as_deref()
        .and_then(|c| v.check(clientele_domain::currency::parse_currency(c, "currency")));
    let cycle = input
        .billing_cycle
        .as_deref()
        .and_then(|c| v.check(BillingCycle::parse_field(c, "billing_cycle")));
    let status = input
        .status
        .as_deref()
        .and_then(|s| v.check(BillingStatus::parse_field(s, "status")));
    let actor = actor.clone();
    db.write(move |conn| {
        let mut b = find(conn, &actor, id, Intent::Write)?;
        v.finish()?;
        check_version("billing account", b.version, if_match)?;
        let loaded = b.version;
        let mut changed = Map::new();
        if let Some(name) = name.filter(|n| *n != b.name) {
            changed.insert("name".into(), json!(name));
            b.name = name;
        }
        if let Some(email) = email.filter(|e| *e != b.billing_email) {
            changed.insert("billing_email".into(), json!(email.as_str()));
            b.billing_email = email;
        }
        if let Some(currency) = currency.filter(|c| *c != b.currency) {
            changed.insert("currency".into(), json!(currency));
            b.currency = currency;
        }
        if let Some(cycle) = cycle.filter(|c| c.as_str() != b.billing_cycle) {
            changed.insert("billing_cycle".into(), json!(cycle.as_str()));
            b.billing_cycle = cycle.as_str().to_string();
        }
        if let Some(status) = status.filter(|s| s.as_str() != b.status) {
            if status == BillingStatus::Closed && billing_accounts::active_projects(conn, b.id)? > 0
            {
                return Err(Error::Conflict {
                    code: "billing_account_in_use",
                    detail: "active projects bill to this account; move or archive them first"
                        .into(),
                    field: Some("status".into()),
                });
            }
            changed.insert("status".into(), json!(status.as_str()));
            b.status = status.as_str().to_string();
        }
        if changed.is_empty() {
            return Ok(b);
        }
        touch(&mut b.updated_at, &mut b.version);
        billing_accounts::update(conn, &b, loaded)?;
        let payload = json!({"billing_account": snapshot(&b), "changed": changed});
        events::append(
            conn,
            &event(&b, "billing_account.updated", payload),
            &actor.audit(),
        )?;
        Ok(b)
    })
    .await
}

/// Counts of what a customer uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Active (not archived) projects.
    pub projects: i64,
    /// People: of the customer in totals, with a project role per project and account.
    pub members: i64,
    /// Unrevoked API keys.
    pub api_keys: i64,
    /// Live (not deleted) contacts.
    pub contacts: i64,
}

#[derive(Debug, Clone)]
pub struct ProjectUsage {
    pub project: Project,
    pub usage: Usage,
}

#[derive(Debug, Clone)]
pub struct AccountUsage {
    pub account: BillingAccount,
    pub usage: Usage,
}

/// What the billing system reads about one customer.
#[derive(Debug, Clone)]
pub struct BillingView {
    pub customer: Customer,
    pub accounts: Vec<AccountUsage>,
    pub projects: Vec<ProjectUsage>,
    pub totals: Usage,
}

fn view(conn: &mut DbConn, customer: Customer) -> Result<BillingView> {
    let cid = customer.id;
    let members: HashMap<Uuid, i64> = projects::member_counts(conn, cid)?.into_iter().collect();
    let keys: HashMap<Option<Uuid>, i64> =
        api_keys::active_counts(conn, cid)?.into_iter().collect();
    let contacts: HashMap<Uuid, i64> = contacts::live_counts(conn, cid)?.into_iter().collect();
    let project_usage: Vec<ProjectUsage> = projects::list(conn, cid, None)?
        .into_iter()
        .map(|p| {
            let usage = Usage {
                projects: i64::from(p.status == "active"),
                members: members.get(&p.id).copied().unwrap_or(0),
                api_keys: keys.get(&Some(p.id)).copied().unwrap_or(0),
                contacts: contacts.get(&p.id).copied().unwrap_or(0),
            };
            ProjectUsage { project: p, usage }
        })
        .collect();
    let accounts = billing_accounts::list(conn, cid)?
        .into_iter()
        .map(|account| {
            let mut usage = Usage::default();
            for p in project_usage
                .iter()
                .filter(|p| p.project.billing_account_id == account.id)
            {
                usage.projects += p.usage.projects;
                usage.members += p.usage.members;
                usage.api_keys += p.usage.api_keys;
                usage.contacts += p.usage.contacts;
            }
            AccountUsage { account, usage }
        })
        .collect();
    let totals = Usage {
        projects: project_usage.iter().map(|p| p.usage.projects).sum(),
        members: people::count_members(conn, cid)?,
        api_keys: keys.values().sum(),
        contacts: contacts.values().sum(),
    };
    Ok(BillingView {
        customer,
        accounts,
        projects: project_usage,
        totals,
    })
}

/// `/customers/{id}/usage` and `/billing/customers/{id}`.
pub async fn customer_view(db: &Db, actor: &Actor, customer_id: Uuid) -> Result<BillingView> {
    billing_access(&actor.principal, customer_id, Intent::Read)?;
    db.read(move |conn| {
        let customer = customers::get(conn, customer_id)?;
        view(conn, customer)
    })
    .await
}

fn require_billing_system(actor: &Actor) -> Result<()> {
    if actor.principal.is_platform_admin() || actor.principal.has_scope(Scope::BillingRead) {
        Ok(())
    } else {
        Err(forbidden(
            "only platform admins and billing keys use the billing API; members use /customers/{id}/usage",
        ))
    }
}

/// `/billing/customers/{id}`: the same view, for the billing system only. Another
/// tenant's customer stays invisible (404); one's own gets the reason (403).
pub async fn billing_system_view(db: &Db, actor: &Actor, customer_id: Uuid) -> Result<BillingView> {
    customer_access(&actor.principal, customer_id, Intent::Read)?;
    require_billing_system(actor)?;
    customer_view(db, actor, customer_id).await
}

#[derive(Debug, Clone, Default)]
pub struct BillingQuery {
    pub status: Option<CustomerStatus>,
    pub changed_since: Option<Timestamp>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// Every customer, for the billing system and platform admins, by creation order.
pub async fn customers_page(db: &Db, actor: &Actor, q: BillingQuery) -> Result<Vec<BillingView>> {
    require_billing_system(actor)?;
    db.read(move |conn| {
        customers::page_for_billing(conn, q.status, q.changed_since, q.after, q.limit)?
            .into_iter()
            .map(|c| view(conn, c))
            .collect()
    })
    .await
}
