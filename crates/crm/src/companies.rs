//! Company use cases: the B2B organizations of a project and their tree.

use clientele_domain::access::{Actor, ProjectNeed};
use clientele_domain::company::{check_parent, Company, CompanyInput, CompanyPatch};
use clientele_domain::event::EventDraft;
use clientele_domain::identity::Project;
use clientele_domain::time::now;
use clientele_domain::{Error, Result};
use clientele_persistence::companies as repo;
use clientele_persistence::{events, Db, DbConn};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::idempotency::{self, Created, Idempotency};
use crate::scope;

pub fn state(c: &Company) -> Value {
    json!({
        "id": c.id,
        "project_id": c.project_id,
        "name": c.name,
        "domain": c.domain,
        "tax_id": c.tax_id,
        "industry": c.industry,
        "size": c.size.map(|s| s.as_str()),
        "parent_id": c.parent_id,
        "version": c.version,
    })
}

fn event(customer_id: Uuid, c: &Company, event_type: &'static str, extra: Value) -> EventDraft {
    let mut payload = json!({"company": state(c)});
    if let (Value::Object(p), Value::Object(extra)) = (&mut payload, extra) {
        p.extend(extra);
    }
    EventDraft {
        event_type,
        customer_id,
        project_id: Some(c.project_id),
        subject_id: c.id,
        payload,
    }
}

/// The parent must be a company of the same project, and not make a cycle.
fn check_parent_of(conn: &mut DbConn, project: &Project, c: &Company) -> Result<()> {
    let Some(parent) = c.parent_id else {
        return Ok(());
    };
    if repo::find(conn, project.customer_id, project.id, parent)?.is_none() {
        return Err(Error::validation(
            "parent_id",
            "is not a company of this project",
        ));
    }
    let ancestors = repo::ancestors(conn, project.customer_id, project.id, parent)?;
    check_parent(c.id, parent, &ancestors)
}

fn company(conn: &mut DbConn, project: &Project, id: Uuid) -> Result<Company> {
    repo::find(conn, project.customer_id, project.id, id)?.ok_or(Error::not_found("company"))
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    input: CompanyInput,
    idem: Option<Idempotency>,
) -> Result<Created<Company>> {
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        let project = scope::project(conn, &principal, project_id, ProjectNeed::ContactsWrite)?;
        if let Some(id) = idempotency::earlier(conn, project.customer_id, idem.as_ref())? {
            return Ok(Created::Replayed(id));
        }
        let c = Company::create(project.id, input, now())?;
        check_parent_of(conn, &project, &c)?;
        idempotency::claim(conn, project.customer_id, idem.as_ref(), c.id)?;
        repo::insert(conn, project.customer_id, &c)?;
        events::append(
            conn,
            &event(project.customer_id, &c, "company.created", json!({})),
            &audit,
        )?;
        Ok(Created::New(c))
    })
    .await
}

pub async fn get(db: &Db, actor: &Actor, project_id: Uuid, id: Uuid) -> Result<Company> {
    let principal = actor.principal.clone();
    db.read(move |conn| {
        let project = scope::project(conn, &principal, project_id, ProjectNeed::ContactsRead)?;
        company(conn, &project, id)
    })
    .await
}

/// A page of companies by name, and the cursor (name key, id) of its last row when
/// there may be more.
pub async fn list(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    search: Option<String>,
    parent_id: Option<Uuid>,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> Result<(Vec<Company>, Option<(String, Uuid)>)> {
    let principal = actor.principal.clone();
    db.read(move |conn| {
        let project = scope::project(conn, &principal, project_id, ProjectNeed::ContactsRead)?;
        let after_ref = after.as_ref().map(|(k, id)| (k.as_str(), *id));
        let mut items = repo::list(
            conn,
            project.customer_id,
            project.id,
            search.as_deref(),
            parent_id,
            after_ref,
            limit + 1,
        )?;
        let more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        let next = items
            .last()
            .filter(|_| more)
            .map(|c| (repo::sort_key(c), c.id));
        Ok((items, next))
    })
    .await
}

pub async fn patch(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    patch: CompanyPatch,
    if_match: Option<i64>,
) -> Result<Company> {
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        let project = scope::project(conn, &principal, project_id, ProjectNeed::ContactsWrite)?;
        let mut c = company(conn, &project, id)?;
        clientele_domain::hierarchy::check_version("company", c.version, if_match)?;
        let loaded = c.version;
        let changes = c.patch(patch, now())?;
        if changes.is_empty() {
            return Ok(c);
        }
        if changes.0.contains(&"parent_id") {
            check_parent_of(conn, &project, &c)?;
        }
        repo::update(conn, project.customer_id, &c, loaded)?;
        events::append(
            conn,
            &event(
                project.customer_id,
                &c,
                "company.updated",
                json!({"changed": changes.pick(&state(&c))}),
            ),
            &audit,
        )?;
        Ok(c)
    })
    .await
}

/// Deletes a company that nothing points at any more: contacts and subsidiaries must be
/// moved first (409 `company_in_use` says how many), so no contact silently loses it.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<()> {
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        let project = scope::project(conn, &principal, project_id, ProjectNeed::ContactsWrite)?;
        let c = company(conn, &project, id)?;
        clientele_domain::hierarchy::check_version("company", c.version, if_match)?;
        let (contacts, children) = repo::references(conn, project.customer_id, id)?;
        if contacts > 0 || children > 0 {
            return Err(Error::Conflict {
                code: "company_in_use",
                detail: format!(
                    "{contacts} contact(s) and {children} subsidiary company(ies) refer to this company; move them first"
                ),
                field: None,
            });
        }
        repo::delete(conn, project.customer_id, id)?;
        events::append(
            conn,
            &event(project.customer_id, &c, "company.deleted", json!({})),
            &audit,
        )?;
        Ok(())
    })
    .await
}
