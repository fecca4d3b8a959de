//! The gate of every project-scoped use case: find the project within the caller's
//! tenant, look up the caller's project role, and apply the access rule.

use clientele_domain::access::{project_access, Principal, ProjectNeed};
use clientele_domain::customer::Customer;
use clientele_domain::hierarchy::{Channel, ProjectStatus};
use clientele_domain::identity::Project;
use clientele_domain::{Error, Result};
use clientele_persistence::{channels, projects, DbConn};
use uuid::Uuid;

/// Loads project `id` for `need`: another tenant's project is not found, a role too
/// weak is forbidden, and an archived project refuses changes.
pub fn project(
    conn: &mut DbConn,
    principal: &Principal,
    id: Uuid,
    need: ProjectNeed,
) -> Result<Project> {
    let project = projects::get(conn, principal.tenant(), id)?;
    admit(conn, principal, project, need)
}

/// The gate of [`project`], with the project's customer read in the same query (for a
/// create that then checks the customer's limits).
pub fn project_with_customer(
    conn: &mut DbConn,
    principal: &Principal,
    id: Uuid,
    need: ProjectNeed,
) -> Result<(Project, Customer)> {
    let (project, customer) = projects::find_with_customer(conn, principal.tenant(), id)?
        .ok_or(Error::not_found("project"))?;
    Ok((admit(conn, principal, project, need)?, customer))
}

/// The gate of [`project`] for a project already read within the caller's tenant
/// (`projects::find` with `principal.tenant()`, or a query joining it).
pub fn admit(
    conn: &mut DbConn,
    principal: &Principal,
    project: Project,
    need: ProjectNeed,
) -> Result<Project> {
    check_access(conn, principal, &project, need)?;
    let writes = matches!(need, ProjectNeed::Manage | ProjectNeed::ContactsWrite);
    if writes && project.status == ProjectStatus::Archived.as_str() {
        return Err(Error::Conflict {
            code: "project_archived",
            detail: "the project is archived and read-only; restore it first".into(),
            field: None,
        });
    }
    Ok(project)
}

/// The caller's tenant when its claims alone admit it to read project `id` of that
/// tenant: no project role to look up, and a read, which an archived project allows.
/// The project itself is not read, so this does not say that it exists: a query
/// filtered to this tenant and project proves that by returning a row, and when it
/// returns none the caller must pass [`project`] (which answers 404 for a project that
/// is not the tenant's). `None`: use [`project`] first.
pub fn tenant_for_read(principal: &Principal, id: Uuid, need: ProjectNeed) -> Option<Uuid> {
    if !matches!(need, ProjectNeed::Read | ProjectNeed::ContactsRead) {
        return None;
    }
    let tenant = principal.tenant()?;
    project_access(principal, tenant, id, None, need)
        .ok()
        .map(|()| tenant)
}

/// Like [`project`], also for an archived project (to archive or restore it).
pub fn project_any_status(
    conn: &mut DbConn,
    principal: &Principal,
    id: Uuid,
    need: ProjectNeed,
) -> Result<Project> {
    let project = projects::get(conn, principal.tenant(), id)?;
    check_access(conn, principal, &project, need)?;
    Ok(project)
}

fn check_access(
    conn: &mut DbConn,
    principal: &Principal,
    project: &Project,
    need: ProjectNeed,
) -> Result<()> {
    // Only members below admin need their project role; skip the query for the rest.
    let role = match principal {
        Principal::Member { user_id, role, .. } if !role.manages_customer() => {
            projects::role_of(conn, project.id, *user_id)?
        }
        _ => None,
    };
    project_access(principal, project.customer_id, project.id, role, need)
}

/// Loads channel `id` and its project for `need`, with the project's rules.
pub fn channel(
    conn: &mut DbConn,
    principal: &Principal,
    id: Uuid,
    need: ProjectNeed,
) -> Result<(Channel, Project)> {
    let channel =
        channels::find(conn, principal.tenant(), id)?.ok_or(Error::not_found("channel"))?;
    let project = project(conn, principal, channel.project_id, need).map_err(|e| match e {
        // The channel is what was asked for: say so, not "project".
        Error::NotFound { .. } => Error::not_found("channel"),
        other => other,
    })?;
    Ok((channel, project))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_domain::access::{CustomerRole, Scope};
    use clientele_domain::customer::CustomerStatus;

    fn member(tenant: Uuid, role: CustomerRole, status: CustomerStatus) -> Principal {
        Principal::Member {
            user_id: Uuid::now_v7(),
            customer_id: tenant,
            role,
            tenant_status: status,
        }
    }

    fn key(tenant: Uuid, project: Option<Uuid>, scopes: Vec<Scope>) -> Principal {
        Principal::ApiKey {
            key_id: Uuid::now_v7(),
            customer_id: Some(tenant),
            project_id: project,
            scopes,
            tenant_status: Some(CustomerStatus::Active),
        }
    }

    #[test]
    fn only_reads_the_token_decides_skip_the_project() {
        let (tenant, project) = (Uuid::now_v7(), Uuid::now_v7());
        let active = CustomerStatus::Active;
        let read = ProjectNeed::ContactsRead;
        let skips = [
            member(tenant, CustomerRole::Owner, active),
            member(tenant, CustomerRole::Admin, CustomerStatus::Suspended),
            key(tenant, None, vec![Scope::ContactsRead]),
            key(tenant, Some(project), vec![Scope::ContactsWrite]),
        ];
        for p in &skips {
            assert_eq!(tenant_for_read(p, project, read), Some(tenant), "{p:?}");
        }
        // A project role to look up, a closed tenant, a key for another project or
        // without the scope, a platform caller, or a write: the project is read first.
        let reads_first = [
            member(tenant, CustomerRole::Member, active),
            member(tenant, CustomerRole::Owner, CustomerStatus::Inactive),
            key(tenant, Some(Uuid::now_v7()), vec![Scope::ContactsRead]),
            key(tenant, None, vec![]),
            Principal::PlatformAdmin {
                user_id: Uuid::now_v7(),
            },
        ];
        for p in &reads_first {
            assert_eq!(tenant_for_read(p, project, read), None, "{p:?}");
        }
        let owner = member(tenant, CustomerRole::Owner, active);
        for need in [ProjectNeed::ContactsWrite, ProjectNeed::Manage] {
            assert_eq!(tenant_for_read(&owner, project, need), None, "{need:?}");
        }
    }
}
