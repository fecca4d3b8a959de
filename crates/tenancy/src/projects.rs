//! Projects of a customer: create, list, change, archive and restore, and the settings
//! each project overrides.

use std::sync::Arc;

use clientele_domain::access::{customer_access, forbidden, Actor, Intent, Principal, ProjectNeed};
use clientele_domain::customer::parse_name;
use clientele_domain::error::Validator;
use clientele_domain::event::EventDraft;
use clientele_domain::hierarchy::{
    check_version, merge_settings, parse_slug, project_transition, settings_object, touch,
    BillingStatus, ProjectStatus,
};
use clientele_domain::identity::Project;
use clientele_domain::settings::{Effective, Locks};
use clientele_domain::{Error, Result};
use clientele_persistence::{billing_accounts, customers, events, projects, Db, DbConn};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::scope;
use crate::settings::{stored_locks, Platform};

#[derive(Debug, Clone)]
pub struct NewProject {
    pub slug: String,
    pub name: String,
    pub billing_account_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub billing_account_id: Option<Uuid>,
}

pub fn snapshot(p: &Project) -> Value {
    json!({
        "id": p.id,
        "slug": p.slug,
        "name": p.name,
        "status": p.status,
        "billing_account_id": p.billing_account_id,
        "version": p.version,
    })
}

fn event(p: &Project, event_type: &'static str, payload: Value) -> EventDraft {
    EventDraft {
        event_type,
        customer_id: p.customer_id,
        project_id: Some(p.id),
        subject_id: p.id,
        payload,
    }
}

/// An active billing account of the customer, or 422 naming `billing_account_id`.
fn billing_account_of(conn: &mut DbConn, customer_id: Uuid, id: Uuid) -> Result<Uuid> {
    match billing_accounts::find(conn, Some(customer_id), id)? {
        Some(b) if b.status == BillingStatus::Active.as_str() => Ok(b.id),
        Some(_) => Err(Error::validation(
            "billing_account_id",
            "the billing account is closed",
        )),
        None => Err(Error::validation(
            "billing_account_id",
            "is not a billing account of this customer",
        )),
    }
}

/// Only people who manage the customer decide where a project is billed, and whether it
/// exists: a project admin runs the project, not the account.
fn require_customer_manager(principal: &Principal, what: &str) -> Result<()> {
    match principal.customer_role() {
        Some(role) if !role.manages_customer() => {
            Err(forbidden(format!("only owners and admins can {what}")))
        }
        _ => Ok(()),
    }
}

pub async fn create(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    customer_id: Uuid,
    input: NewProject,
) -> Result<Project> {
    customer_access(&actor.principal, customer_id, Intent::Write)?;
    let mut v = Validator::new();
    let slug = v.check(parse_slug(&input.slug, "slug"));
    let name = v.check(parse_name(&input.name, "name"));
    v.finish()?;
    let (Some(slug), Some(name)) = (slug, name) else {
        return Err(Error::Internal("validated project input is missing".into()));
    };
    let audit = actor.audit();
    db.write(move |conn| {
        customers::get(conn, customer_id)?;
        let account = match input.billing_account_id {
            Some(id) => billing_account_of(conn, customer_id, id)?,
            None => billing_accounts::list(conn, customer_id)?
                .into_iter()
                .find(|b| b.status == BillingStatus::Active.as_str())
                .map(|b| b.id)
                .ok_or_else(|| {
                    Error::validation(
                        "billing_account_id",
                        "the customer has no active billing account; create one first",
                    )
                })?,
        };
        crate::limits::check_projects(conn, &platform, customer_id)?;
        let mut project = Project::default_for(customer_id, account);
        project.slug = slug;
        project.name = name;
        projects::insert(conn, &project)?;
        events::append(
            conn,
            &event(
                &project,
                "project.created",
                json!({"project": snapshot(&project)}),
            ),
            &audit,
        )?;
        Ok(project)
    })
    .await
}

/// The projects the caller can see: all of them for those who manage or bill the
/// customer, the ones with a role for other members.
pub async fn list(db: &Db, actor: &Actor, customer_id: Uuid) -> Result<Vec<Project>> {
    customer_access(&actor.principal, customer_id, Intent::Read)?;
    let principal = actor.principal.clone();
    db.read(move |conn| {
        customers::get(conn, customer_id)?;
        match &principal {
            Principal::Member { user_id, role, .. }
                if *role == clientele_domain::access::CustomerRole::Member =>
            {
                let ids = projects::ids_with_role(conn, *user_id)?;
                projects::list(conn, customer_id, Some(&ids))
            }
            _ => projects::list(conn, customer_id, None),
        }
    })
    .await
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> Result<Project> {
    let principal = actor.principal.clone();
    db.read_bounded(move |conn| scope::project_any_status(conn, &principal, id, ProjectNeed::Read))
        .await
}

/// Loads a project for a change, checks `If-Match`, applies `change` and saves with the
/// event it returns (none: nothing changed).
async fn modify<F>(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    need_any_status: bool,
    if_match: Option<i64>,
    change: F,
) -> Result<Project>
where
    F: FnOnce(&mut DbConn, &mut Project) -> Result<Option<EventDraft>> + Send + 'static,
{
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        let gate = |conn: &mut DbConn| {
            if need_any_status {
                scope::project_any_status(conn, &principal, id, ProjectNeed::Manage)
            } else {
                scope::project(conn, &principal, id, ProjectNeed::Manage)
            }
        };
        gate(conn)?;
        // Lock, then read again: concurrent changes of one project queue up.
        projects::lock(conn, id)?;
        let mut project = gate(conn)?;
        check_version("project", project.version, if_match)?;
        let loaded = project.version;
        if let Some(draft) = change(conn, &mut project)? {
            touch(&mut project.updated_at, &mut project.version);
            projects::update(conn, &project, loaded)?;
            events::append(conn, &draft_with_version(draft, &project), &audit)?;
        }
        Ok(project)
    })
    .await
}

/// Events carry the version the change produced.
fn draft_with_version(mut draft: EventDraft, p: &Project) -> EventDraft {
    if let Value::Object(map) = &mut draft.payload {
        map.insert("project".into(), snapshot(p));
    }
    draft
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    input: ProjectChanges,
    if_match: Option<i64>,
) -> Result<Project> {
    let mut v = Validator::new();
    let slug = input
        .slug
        .as_deref()
        .and_then(|s| v.check(parse_slug(s, "slug")));
    let name = input
        .name
        .as_deref()
        .and_then(|n| v.check(parse_name(n, "name")));
    v.finish()?;
    if input.billing_account_id.is_some() {
        require_customer_manager(
            &actor.principal,
            "move a project to another billing account",
        )?;
    }
    modify(db, actor, id, false, if_match, move |conn, p| {
        let mut changed = Map::new();
        if let Some(slug) = slug.filter(|s| *s != p.slug) {
            changed.insert("slug".into(), json!(slug));
            p.slug = slug;
        }
        if let Some(name) = name.filter(|n| *n != p.name) {
            changed.insert("name".into(), json!(name));
            p.name = name;
        }
        if let Some(account) = input
            .billing_account_id
            .filter(|a| *a != p.billing_account_id)
        {
            let account = billing_account_of(conn, p.customer_id, account)?;
            changed.insert("billing_account_id".into(), json!(account));
            p.billing_account_id = account;
        }
        if changed.is_empty() {
            return Ok(None);
        }
        Ok(Some(event(
            p,
            "project.updated",
            json!({"changed": changed}),
        )))
    })
    .await
}

/// Archive (DELETE) or restore a project; an archived project is read-only.
pub async fn set_status(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    id: Uuid,
    to: ProjectStatus,
) -> Result<Project> {
    let what = match to {
        ProjectStatus::Archived => "archive projects",
        ProjectStatus::Active => "restore projects",
    };
    require_customer_manager(&actor.principal, what)?;
    modify(db, actor, id, true, None, move |conn, p| {
        project_transition(&p.status, to)?;
        if to == ProjectStatus::Active {
            crate::limits::check_projects(conn, &platform, p.customer_id)?;
        }
        p.status = to.as_str().to_string();
        let event_type = match to {
            ProjectStatus::Archived => "project.archived",
            ProjectStatus::Active => "project.restored",
        };
        Ok(Some(event(p, event_type, json!({}))))
    })
    .await
}

/// PUT replaces the project's overrides; PATCH merges into them (RFC 7396).
pub async fn write_settings(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    id: Uuid,
    body: Value,
    merge: bool,
    if_match: Option<i64>,
) -> Result<Project> {
    modify(db, actor, id, false, if_match, move |conn, p| {
        let next = if merge {
            merge_settings(&p.settings, &body)?
        } else {
            settings_object(body)?
        };
        let locks = stored_locks(customers::locks(conn, p.customer_id)?)?;
        platform.validate_override(&next, &locks)?;
        if next == p.settings {
            return Ok(None);
        }
        p.settings = next;
        Ok(Some(event(
            p,
            "project.settings_updated",
            json!({"settings": p.settings}),
        )))
    })
    .await
}

/// The project's resolved settings with the level every leaf came from.
pub async fn effective(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    id: Uuid,
) -> Result<(Project, Effective, Locks)> {
    let principal = actor.principal.clone();
    db.read(move |conn| {
        let p = scope::project_any_status(conn, &principal, id, ProjectNeed::Read)?;
        let customer = customers::get(conn, p.customer_id)?;
        let locks = stored_locks(customers::locks(conn, p.customer_id)?)?;
        let eff = platform.effective(&customer.settings, &locks, Some(&p.settings), None);
        Ok((p, eff, locks))
    })
    .await
}
