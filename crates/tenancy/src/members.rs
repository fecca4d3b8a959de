//! The people of a customer and their roles in its projects.

use clientele_domain::access::{check_tenant_mode, CustomerRole};
use clientele_domain::access::{
    forbidden, people_access, Actor, Intent, Principal, ProjectNeed, ProjectRole,
};
use clientele_domain::email::Email;
use clientele_domain::error::Validator;
use clientele_domain::event::EventDraft;
use clientele_domain::identity::{check_role_change, parse_person_name, User, UserRole};
use clientele_domain::time::now;
use clientele_domain::{Error, Result};
use clientele_persistence::identity as repo;
use clientele_persistence::projects::{self, Membership};
use clientele_persistence::{customers, events, Db, DbConn};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::auth::password::check_policy;
use crate::auth::Passwords;
use crate::scope;
use crate::settings::Platform;

#[derive(Debug, Clone)]
pub struct NewMember {
    pub email: String,
    pub name: Option<String>,
    pub password: String,
    pub role: String,
}

#[derive(Debug, Clone, Default)]
pub struct MemberChanges {
    /// An empty name clears it.
    pub name: Option<String>,
    pub role: Option<String>,
    pub password: Option<String>,
    /// Required when people change their own password.
    pub current_password: Option<String>,
}

fn member_event(
    event_type: &'static str,
    user: &User,
    customer_id: Uuid,
    payload: Value,
) -> EventDraft {
    EventDraft {
        event_type,
        customer_id,
        project_id: None,
        subject_id: user.id,
        payload,
    }
}

fn snapshot(user: &User) -> Value {
    json!({"user_id": user.id, "email": user.email.as_str(), "name": user.name, "role": user.role.as_str()})
}

fn customer_role_of(user: &User) -> Result<CustomerRole> {
    match user.role {
        UserRole::Customer(r) => Ok(r),
        UserRole::PlatformAdmin => {
            Err(Error::Internal(format!("user {} is not a member", user.id)))
        }
    }
}

pub async fn list(db: &Db, actor: &Actor, customer_id: Uuid) -> Result<Vec<User>> {
    people_access(&actor.principal, customer_id, Intent::Read)?;
    db.read(move |conn| {
        customers::get(conn, customer_id)?;
        repo::list_members(conn, customer_id)
    })
    .await
}

pub async fn get(db: &Db, actor: &Actor, customer_id: Uuid, user_id: Uuid) -> Result<User> {
    people_access(&actor.principal, customer_id, Intent::Read)?;
    db.read(move |conn| {
        repo::find_member(conn, customer_id, user_id)?.ok_or(Error::not_found("member"))
    })
    .await
}

/// Adds a person to a customer with a password they can sign in with.
pub async fn add(
    db: &Db,
    passwords: &Passwords,
    platform: std::sync::Arc<Platform>,
    actor: &Actor,
    customer_id: Uuid,
    input: NewMember,
) -> Result<User> {
    people_access(&actor.principal, customer_id, Intent::Write)?;
    let mut v = Validator::new();
    let email = v.check(Email::parse(&input.email, "email"));
    let name = v
        .check(parse_person_name(input.name.as_deref(), "name"))
        .flatten();
    v.check(check_policy(&input.password, "password"));
    let role = v.check(CustomerRole::parse_field(&input.role, "role"));
    v.finish()?;
    let (Some(email), Some(role)) = (email, role) else {
        return Err(Error::Internal("validated member input is missing".into()));
    };
    if role == CustomerRole::Owner {
        check_role_change(
            actor.principal.customer_role(),
            CustomerRole::Member,
            Some(role),
            1,
        )?;
    }
    let hash = passwords.hash(input.password).await?;
    let audit = actor.audit();
    db.write(move |conn| {
        customers::get(conn, customer_id)?;
        if repo::email_taken(conn, &email)? {
            return Err(Error::Conflict {
                code: "email_taken",
                detail: "a user with this email already exists".into(),
                field: Some("email".into()),
            });
        }
        crate::limits::check_members(conn, &platform, customer_id)?;
        let user = User::new(
            Some(customer_id),
            email,
            name,
            hash,
            UserRole::Customer(role),
        );
        repo::insert_user(conn, &user)?;
        events::append(
            conn,
            &member_event("member.added", &user, customer_id, snapshot(&user)),
            &audit,
        )?;
        Ok(user)
    })
    .await
}

/// Changes a member's name, role or password. Owners and admins change others; anyone
/// changes their own name and, giving the current one, their own password. A new role
/// or password ends every session of that member.
pub async fn update(
    db: &Db,
    passwords: &Passwords,
    actor: &Actor,
    customer_id: Uuid,
    user_id: Uuid,
    changes: MemberChanges,
    if_match: Option<i64>,
) -> Result<User> {
    let principal = &actor.principal;
    let is_self = principal.person("members").ok() == Some(user_id);
    if is_self && changes.role.is_none() {
        people_access(principal, customer_id, Intent::Read)?;
        check_tenant_mode(principal, Intent::Write)?;
    } else {
        people_access(principal, customer_id, Intent::Write)?;
    }
    let mut v = Validator::new();
    let name = changes
        .name
        .as_deref()
        .and_then(|n| v.check(parse_person_name(Some(n), "name")));
    let role = changes
        .role
        .as_deref()
        .and_then(|r| v.check(CustomerRole::parse_field(r, "role")));
    if let Some(p) = &changes.password {
        v.check(check_policy(p, "password"));
        if is_self && changes.current_password.is_none() {
            v.push(
                "current_password",
                "is required to change your own password",
            );
        }
    }
    v.finish()?;

    if let (true, Some(current)) = (
        is_self && changes.password.is_some(),
        changes.current_password,
    ) {
        let stored = db
            .read(move |conn| repo::find_member(conn, customer_id, user_id))
            .await?
            .ok_or(Error::not_found("member"))?;
        if !passwords
            .verify(Some(stored.password_hash), current)
            .await?
        {
            return Err(Error::validation(
                "current_password",
                "is not your current password",
            ));
        }
    }
    let new_hash = match changes.password {
        Some(p) => Some(passwords.hash(p).await?),
        None => None,
    };
    let actor_role = principal.customer_role();
    let manages = !is_self || changes.role.is_some();
    let audit = actor.audit();
    db.write(move |conn| {
        let mut user =
            repo::find_member(conn, customer_id, user_id)?.ok_or(Error::not_found("member"))?;
        user.check_version(if_match)?;
        let current = customer_role_of(&user)?;
        if manages {
            let owners = if current == CustomerRole::Owner {
                repo::count_owners(conn, customer_id)?
            } else {
                0
            };
            check_role_change(actor_role, current, Some(role.unwrap_or(current)), owners)?;
        }
        let loaded = user.version;
        let mut changed = Map::new();
        if let Some(name) = name {
            if name != user.name {
                changed.insert("name".into(), json!(name));
                user.name = name;
            }
        }
        let mut revokes = false;
        if let Some(role) = role.filter(|r| *r != current) {
            changed.insert("role".into(), json!(role.as_str()));
            user.role = UserRole::Customer(role);
            revokes = true;
        }
        if let Some(hash) = new_hash {
            changed.insert("password_changed".into(), json!(true));
            user.password_hash = hash;
            revokes = true;
        }
        if changed.is_empty() {
            return Ok(user);
        }
        user.touch(revokes);
        repo::update_user(conn, &user, loaded)?;
        if revokes {
            repo::revoke_user_refresh_tokens(conn, user.id, now())?;
        }
        let payload = json!({"member": snapshot(&user), "changed": changed});
        events::append(
            conn,
            &member_event("member.updated", &user, customer_id, payload),
            &audit,
        )?;
        Ok(user)
    })
    .await
}

pub async fn remove(db: &Db, actor: &Actor, customer_id: Uuid, user_id: Uuid) -> Result<()> {
    people_access(&actor.principal, customer_id, Intent::Write)?;
    let actor_role = actor.principal.customer_role();
    let audit = actor.audit();
    db.write(move |conn| {
        let user =
            repo::find_member(conn, customer_id, user_id)?.ok_or(Error::not_found("member"))?;
        let current = customer_role_of(&user)?;
        let owners = if current == CustomerRole::Owner {
            repo::count_owners(conn, customer_id)?
        } else {
            0
        };
        check_role_change(actor_role, current, None, owners)?;
        repo::delete_member(conn, customer_id, user_id)?;
        events::append(
            conn,
            &member_event("member.removed", &user, customer_id, snapshot(&user)),
            &audit,
        )?;
        Ok(())
    })
    .await
}

/// A person's role in a project, with who they are.
#[derive(Debug, Clone)]
pub struct ProjectMember {
    pub membership: Membership,
    pub user: User,
}

fn project_member(
    conn: &mut DbConn,
    customer_id: Uuid,
    membership: Membership,
) -> Result<ProjectMember> {
    let user = repo::find_member(conn, customer_id, membership.user_id)?.ok_or_else(|| {
        Error::Internal(format!("project member {} has no user", membership.user_id))
    })?;
    Ok(ProjectMember { membership, user })
}

fn project_event(event_type: &'static str, customer_id: Uuid, m: &Membership) -> EventDraft {
    EventDraft {
        event_type,
        customer_id,
        project_id: Some(m.project_id),
        subject_id: m.user_id,
        payload: json!({"project_id": m.project_id, "user_id": m.user_id, "role": m.role.as_str()}),
    }
}

pub async fn list_project(db: &Db, actor: &Actor, project_id: Uuid) -> Result<Vec<ProjectMember>> {
    let principal = actor.principal.clone();
    db.read(move |conn| {
        let project = scope::project(conn, &principal, project_id, ProjectNeed::Read)?;
        if matches!(principal, Principal::ApiKey { .. }) {
            return Err(forbidden("API keys cannot read or manage people and keys"));
        }
        let users: std::collections::HashMap<Uuid, User> =
            repo::list_members(conn, project.customer_id)?
                .into_iter()
                .map(|u| (u.id, u))
                .collect();
        projects::members(conn, project_id)?
            .into_iter()
            .map(|m| {
                let user = users.get(&m.user_id).cloned().ok_or_else(|| {
                    Error::Internal(format!("project member {} has no user", m.user_id))
                })?;
                Ok(ProjectMember {
                    membership: m,
                    user,
                })
            })
            .collect()
    })
    .await
}

/// Gives a member of the project's customer a role in the project.
pub async fn add_to_project(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<ProjectMember> {
    let role = ProjectRole::parse_field(role, "role").map_err(|e| Error::Validation(vec![e]));
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        // Access first: a stranger learns nothing from a validation error.
        let project = scope::project(conn, &principal, project_id, ProjectNeed::Manage)?;
        let role = role?;
        if repo::find_member(conn, project.customer_id, user_id)?.is_none() {
            return Err(Error::validation(
                "user_id",
                "is not a member of this project's customer",
            ));
        }
        let m = Membership {
            project_id,
            user_id,
            role,
            created_at: now(),
        };
        projects::add_member(conn, project.customer_id, &m)?;
        events::append(
            conn,
            &project_event("project_member.added", project.customer_id, &m),
            &audit,
        )?;
        project_member(conn, project.customer_id, m)
    })
    .await
}

pub async fn change_project_role(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<ProjectMember> {
    let role = ProjectRole::parse_field(role, "role").map_err(|e| Error::Validation(vec![e]));
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        // Access first: a stranger learns nothing from a validation error.
        let project = scope::project(conn, &principal, project_id, ProjectNeed::Manage)?;
        let role = role?;
        if !projects::set_role(conn, project_id, user_id, role)? {
            return Err(Error::not_found("project member"));
        }
        let m = projects::membership(conn, project_id, user_id)?
            .ok_or(Error::not_found("project member"))?;
        events::append(
            conn,
            &project_event("project_member.updated", project.customer_id, &m),
            &audit,
        )?;
        project_member(conn, project.customer_id, m)
    })
    .await
}

pub async fn remove_from_project(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    user_id: Uuid,
) -> Result<()> {
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        let project = scope::project(conn, &principal, project_id, ProjectNeed::Manage)?;
        let m = projects::membership(conn, project_id, user_id)?
            .ok_or(Error::not_found("project member"))?;
        projects::remove_member(conn, project_id, user_id)?;
        events::append(
            conn,
            &project_event("project_member.removed", project.customer_id, &m),
            &audit,
        )?;
        Ok(())
    })
    .await
}
