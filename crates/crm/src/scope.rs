//! The gates of contact use cases: the project through the tenancy gate, then the
//! contact inside that project.

use clientele_domain::access::{Principal, ProjectNeed};
use clientele_domain::contact::Contact;
use clientele_domain::identity::Project;
use clientele_domain::{Error, Result};
use clientele_persistence::{contacts, DbConn};
use uuid::Uuid;

use clientele_tenancy::scope::admit;
pub use clientele_tenancy::scope::{project, project_with_customer, tenant_for_read};

/// Contact `id` of project `project_id` for `need`; for writes the contact's row is
/// locked first, so that a concurrent change is seen, never overwritten. A deleted contact is not found
/// unless `deleted_too` (restore, and reads that ask for deleted contacts).
pub fn contact(
    conn: &mut DbConn,
    principal: &Principal,
    project_id: Uuid,
    id: Uuid,
    need: ProjectNeed,
    deleted_too: bool,
) -> Result<(Contact, Project)> {
    let (project, contact) = if need == ProjectNeed::ContactsWrite {
        let project = project(conn, principal, project_id, need)?;
        contacts::lock(conn, project.id, id)?;
        let contact = contacts::find(conn, project.customer_id, project.id, id)?;
        (project, contact)
    } else {
        // A read needs no lock: the project and the contact come in one query.
        let (project, contact) =
            contacts::find_with_project(conn, principal.tenant(), project_id, id)?
                .ok_or(Error::not_found("project"))?;
        (admit(conn, principal, project, need)?, contact)
    };
    let contact = contact
        .filter(|c| deleted_too || !c.is_deleted())
        .ok_or(Error::not_found("contact"))?;
    Ok((contact, project))
}
