//! Contact use cases: create, read, list and search, replace and patch, lifecycle,
//! assignment, tier, tags, soft delete and restore.

use std::sync::Arc;

use clientele_domain::access::{Actor, ProjectNeed};
use clientele_domain::access::{CustomerRole, ProjectRole};
use clientele_domain::contact::{
    Contact, ContactInput, ContactPatch, SortBy, SortOrder, StageAction, Tier,
};
use clientele_domain::customer::Changes;
use clientele_domain::email::Email;
use clientele_domain::event::EventDraft;
use clientele_domain::identity::{Project, UserRole};
use clientele_domain::time::now;
use clientele_domain::{Audit, Error, Result};
use clientele_persistence::companies;
use clientele_persistence::contacts::{self as repo, After, Filter, Page};
use clientele_persistence::db::{in_one_read, transaction};
use clientele_persistence::identity as people;
use clientele_persistence::{events, projects, Db, DbConn};
use clientele_tenancy::limits;
use clientele_tenancy::settings::Platform;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::idempotency::{self, Created, Idempotency};
use crate::scope;

pub(crate) fn event(
    customer_id: Uuid,
    c: &Contact,
    event_type: &'static str,
    extra: Value,
) -> EventDraft {
    event_with(customer_id, c, event_type, extra, c.snapshot())
}

/// [`event`] with the contact's snapshot already taken.
fn event_with(
    customer_id: Uuid,
    c: &Contact,
    event_type: &'static str,
    extra: Value,
    snapshot: Value,
) -> EventDraft {
    let mut payload = Map::new();
    if let Value::Object(extra) = extra {
        payload.extend(extra);
    }
    payload.insert("contact".into(), snapshot);
    EventDraft {
        event_type,
        customer_id,
        project_id: Some(c.project_id),
        subject_id: c.id,
        payload: Value::Object(payload),
    }
}

/// Checks the references of a contact: the assignee is a member of the project with
/// role agent or above (owners and admins manage every project), the company is one
/// of this project's.
fn check_references(conn: &mut DbConn, project: &Project, c: &Contact) -> Result<()> {
    if let Some(user_id) = c.assigned_to {
        check_assignee(conn, project, user_id)?;
    }
    if let Some(company_id) = c.company_id {
        if companies::find(conn, project.customer_id, project.id, company_id)?.is_none() {
            return Err(Error::validation(
                "company_id",
                "is not a company of this project",
            ));
        }
    }
    Ok(())
}

fn check_assignee(conn: &mut DbConn, project: &Project, user_id: Uuid) -> Result<()> {
    let not_member = || Error::validation("assigned_to", "is not a member of this project");
    let user = people::find_member(conn, project.customer_id, user_id)?.ok_or_else(not_member)?;
    if let UserRole::Customer(role) = user.role {
        if role.manages_customer() {
            return Ok(());
        }
        if role == CustomerRole::Billing {
            return Err(Error::validation(
                "assigned_to",
                "billing members do not work on contacts",
            ));
        }
    }
    match projects::role_of(conn, project.id, user_id)? {
        None => Err(not_member()),
        Some(role) if role < ProjectRole::Agent => Err(Error::validation(
            "assigned_to",
            "must have the role agent or project_admin in this project",
        )),
        Some(_) => Ok(()),
    }
}

/// A new contact. Refused beyond `features.max_contacts`, with a taken email (409),
/// or with an assignee or company that does not belong to the project (422).
pub async fn create(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    project_id: Uuid,
    input: ContactInput,
    idem: Option<Idempotency>,
) -> Result<Created<Contact>> {
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    // Validating the input and writing the event need no database: done here, so that
    // SQLite's writer, which every write queues for, does only what needs it (they were
    // 5% of its time under creates, and its copies of them about 4% more). The
    // event is the tenant's when the credential names it; only a platform admin's
    // event waits for the project's customer. An invalid input is reported inside,
    // after the access check.
    let drafted = Contact::create(project_id, input.clone(), now())
        .ok()
        .map(|contact| {
            let event = principal.tenant().map(|tenant| {
                event_with(
                    tenant,
                    &contact,
                    "contact.created",
                    json!({}),
                    contact.snapshot(),
                )
            });
            Arc::new((contact, event))
        });
    let shared = drafted.clone();
    // The reads before the insert are checks that a READ COMMITTED transaction would
    // not hold either; the insert is one statement on PostgreSQL. Only a limit (which
    // locks and counts) or an idempotency key (a second row) needs a transaction.
    let created = db
        .write_autocommit(move |conn| {
            // Access first: a stranger learns nothing from a validation error.
            let need = ProjectNeed::ContactsWrite;
            let (project, customer) =
                scope::project_with_customer(conn, &principal, project_id, need)?;
            if let Some(id) = idempotency::earlier(conn, project.customer_id, idem.as_ref())? {
                return Ok(Created::Replayed(id));
            }
            let made;
            let contact = match &shared {
                Some(d) => &d.0,
                // Invalid: the same validation again gives its errors.
                None => {
                    made = Contact::create(project.id, input.clone(), now())?;
                    &made
                }
            };
            check_references(conn, &project, contact)?;
            let customer_id = project.customer_id;
            let own_event;
            let created = match shared.as_ref().and_then(|d| d.1.as_ref()) {
                Some(event) if event.customer_id == customer_id => event,
                _ => {
                    own_event = event(customer_id, contact, "contact.created", json!({}));
                    &own_event
                }
            };
            // Without a limit or a key the first two do nothing, and the insert is alone.
            let store = |conn: &mut DbConn| {
                limits::check_contacts_of(conn, &platform, &customer)?;
                idempotency::claim(conn, customer_id, idem.as_ref(), contact.id)?;
                repo::insert_with_event(conn, customer_id, contact, created, &audit)
            };
            if idem.is_some() || limits::contacts_limited(&platform, &customer) {
                transaction(conn, store)?;
            } else {
                store(conn)?;
            }
            // The drafted contact is the requester's own: only one made here is sent back.
            Ok(Created::New(shared.is_none().then(|| contact.clone())))
        })
        .await?;
    Ok(match created {
        Created::Replayed(id) => Created::Replayed(id),
        Created::New(Some(made)) => Created::New(made),
        Created::New(None) => {
            let drafted = drafted.ok_or_else(|| Error::Internal("no drafted contact".into()))?;
            // The job's closure, the other holder, was dropped once the write was answered.
            let (contact, _) = Arc::try_unwrap(drafted).unwrap_or_else(|d| (*d).clone());
            Created::New(contact)
        }
    })
}

/// A live contact; `deleted_too` also finds a deleted one.
pub async fn get(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    deleted_too: bool,
) -> Result<Contact> {
    let principal = actor.principal.clone();
    let need = ProjectNeed::ContactsRead;
    // When the token alone admits the read, the contact found within the tenant's
    // project is proof enough that the project is there: one read, which PostgreSQL
    // shares with the other gets waiting for a connection.
    if let Some(tenant) = scope::tenant_for_read(&principal, project_id, need) {
        if let Some(contact) = repo::find_coalesced(db, tenant, project_id, id).await? {
            return if deleted_too || !contact.is_deleted() {
                Ok(contact)
            } else {
                Err(Error::not_found("contact"))
            };
        }
    }
    // Not found (then the project's own read says which is missing), or a role to
    // look up first.
    db.read_bounded(move |conn| {
        Ok(scope::contact(conn, &principal, project_id, id, need, deleted_too)?.0)
    })
    .await
}

/// The live contact with this email (any case).
pub async fn get_by_email(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    email: &str,
) -> Result<Contact> {
    let email = Email::parse(email, "email").map_err(|e| Error::Validation(vec![e]))?;
    let principal = actor.principal.clone();
    db.read_bounded(move |conn| {
        in_one_read(conn, |conn| {
            let project = scope::project(conn, &principal, project_id, ProjectNeed::ContactsRead)?;
            repo::find_by_email(conn, project.customer_id, project.id, &email)?
                .filter(|c| !c.is_deleted())
                .ok_or(Error::not_found("contact"))
        })
    })
    .await
}

/// What a list asks for, beyond the filter.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Filter,
    pub sort_by: SortBy,
    pub sort_order: SortOrder,
    pub limit: i64,
    /// Keyset form: the cursor of the previous page.
    pub after: Option<After>,
    /// Page form (1-based) with a total; exclusive with `after`.
    pub page: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ContactPage {
    pub contacts: Vec<Contact>,
    pub next: Option<After>,
    /// Counted in the page form only: a count over a large project costs a scan.
    pub total: Option<i64>,
}

pub async fn list(db: &Db, actor: &Actor, query: ListQuery) -> Result<ContactPage> {
    let principal = actor.principal.clone();
    let counts = db.search_counts();
    db.read(move |conn| {
        let project_id = query.filter.project_id;
        let need = ProjectNeed::ContactsRead;
        // When the caller's claims decide, the project is not read before the page: a
        // row of the page, filtered to the tenant and project, shows it is the tenant's
        // (a statement fewer per page; on PostgreSQL a round trip).
        let known = scope::tenant_for_read(&principal, project_id, need);
        let tenant = match known {
            Some(tenant) => tenant,
            None => scope::project(conn, &principal, project_id, need)?.customer_id,
        };
        let page = match query.page {
            Some(n) => Page::Offset((n - 1).max(0).saturating_mul(query.limit)),
            None => Page::Keyset(query.after.as_ref()),
        };
        let (contacts, next) = repo::list(
            conn,
            &counts,
            tenant,
            &query.filter,
            query.sort_by,
            query.sort_order,
            page,
            query.limit,
        )?;
        if known.is_some() && contacts.is_empty() {
            // Nothing shows the project exists: another tenant's project is not found.
            scope::project(conn, &principal, project_id, need)?;
        }
        let total = match query.page {
            Some(_) => Some(repo::count(conn, tenant, &query.filter)?),
            None => None,
        };
        Ok(ContactPage {
            contacts,
            next,
            total,
        })
    })
    .await
}

/// Loads a live contact for writing, applies `change`, and saves it with its event when
/// something changed. `change` returns the event type and extra payload.
async fn modify<F>(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    if_match: Option<i64>,
    change: F,
) -> Result<Contact>
where
    F: Fn(&mut DbConn, &Project, &mut Contact) -> Result<Option<(&'static str, Value, bool)>>
        + Send
        + 'static,
{
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    // Repeatable: SQLite's writer may run it again when another job of its batch fails.
    db.write_repeatable(move |conn| {
        let need = ProjectNeed::ContactsWrite;
        let (mut contact, project) = scope::contact(conn, &principal, project_id, id, need, false)?;
        contact.check_version(if_match)?;
        let loaded = contact.version;
        if let Some((event_type, extra, tags_changed)) = change(conn, &project, &mut contact)? {
            save(
                conn,
                &project,
                &contact,
                loaded,
                tags_changed,
                event_type,
                extra,
                &audit,
            )?;
        }
        Ok(contact)
    })
    .await
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn save(
    conn: &mut DbConn,
    project: &Project,
    contact: &Contact,
    loaded: i64,
    tags_changed: bool,
    event_type: &'static str,
    extra: Value,
    audit: &Audit,
) -> Result<()> {
    repo::update(conn, project.customer_id, contact, loaded, tags_changed)?;
    events::append(
        conn,
        &event(project.customer_id, contact, event_type, extra),
        audit,
    )?;
    Ok(())
}

/// The outcome of a field change: `contact.updated` with the changed fields, or nothing.
fn updated(
    conn: &mut DbConn,
    project: &Project,
    c: &Contact,
    changes: Changes,
) -> Result<Option<(&'static str, Value, bool)>> {
    if changes.is_empty() {
        return Ok(None);
    }
    let touched = |name| changes.0.contains(&name);
    if touched("assigned_to") || touched("company_id") {
        check_references(conn, project, c)?;
    }
    let tags_changed = touched("tags");
    Ok(Some((
        "contact.updated",
        json!({"changed": changes.pick(&c.snapshot())}),
        tags_changed,
    )))
}

/// PUT: every field replaced.
pub async fn replace(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    input: ContactInput,
    if_match: Option<i64>,
) -> Result<Contact> {
    modify(db, actor, project_id, id, if_match, move |conn, p, c| {
        let changes = c.replace(input.clone(), now())?;
        updated(conn, p, c, changes)
    })
    .await
}

/// PATCH: a JSON merge patch.
pub async fn patch(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    patch: ContactPatch,
    if_match: Option<i64>,
) -> Result<Contact> {
    modify(db, actor, project_id, id, if_match, move |conn, p, c| {
        let changes = c.patch(patch.clone(), now())?;
        updated(conn, p, c, changes)
    })
    .await
}

/// qualify, convert, churn, reactivate: 409 naming the stage and the allowed actions
/// when the move does not apply.
pub async fn lifecycle(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    action: StageAction,
    if_match: Option<i64>,
) -> Result<Contact> {
    modify(db, actor, project_id, id, if_match, move |_, _, c| {
        let from = c.stage;
        c.apply(action, now())?;
        Ok(Some((
            "contact.stage_changed",
            json!({"action": action.as_str(), "from": from.as_str(), "to": c.stage.as_str()}),
            false,
        )))
    })
    .await
}

pub async fn assign(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    assigned_to: Option<Uuid>,
    if_match: Option<i64>,
) -> Result<Contact> {
    modify(db, actor, project_id, id, if_match, move |conn, p, c| {
        let changes = c.assign(assigned_to, now())?;
        updated(conn, p, c, changes)
    })
    .await
}

pub async fn set_tier(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    tier: &str,
    if_match: Option<i64>,
) -> Result<Contact> {
    let tier = tier.to_string();
    modify(db, actor, project_id, id, if_match, move |conn, p, c| {
        // Parsed behind the gate: a stranger learns nothing from a validation error.
        let tier = Tier::parse_field(&tier, "tier").map_err(|e| Error::Validation(vec![e]))?;
        let changes = c.set_tier(tier, now())?;
        updated(conn, p, c, changes)
    })
    .await
}

pub async fn set_tags(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    tags: Vec<String>,
    if_match: Option<i64>,
) -> Result<Contact> {
    modify(db, actor, project_id, id, if_match, move |conn, p, c| {
        let changes = c.set_tags(&tags, now())?;
        updated(conn, p, c, changes)
    })
    .await
}

/// Soft delete: hidden from reads and lists until restored; its email stays taken.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<()> {
    modify(db, actor, project_id, id, if_match, move |_, _, c| {
        c.soft_delete(now())?;
        Ok(Some(("contact.deleted", json!({}), false)))
    })
    .await
    .map(|_| ())
}

/// Undoes a soft delete (counted again against `features.max_contacts`).
pub async fn restore(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    project_id: Uuid,
    id: Uuid,
) -> Result<Contact> {
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        let need = ProjectNeed::ContactsWrite;
        let (mut contact, project) = scope::contact(conn, &principal, project_id, id, need, true)?;
        let loaded = contact.version;
        contact.restore(now())?;
        limits::check_contacts(conn, &platform, project.customer_id)?;
        save(
            conn,
            &project,
            &contact,
            loaded,
            false,
            "contact.restored",
            json!({}),
            &audit,
        )?;
        Ok(contact)
    })
    .await
}
