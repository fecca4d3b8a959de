//! Projects and the project roles of their members. Every lookup takes the caller's
//! tenant (`None` only for platform-wide callers), so another tenant's project is
//! simply not found.

use chrono::NaiveDateTime;
use clientele_domain::access::ProjectRole;
use clientele_domain::customer::Customer;
use clientele_domain::identity::Project;
use clientele_domain::time::{from_naive, to_naive, Timestamp};
use clientele_domain::{Error, Result};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::parsed::Parsed;
use crate::schema::{project_members, projects};
use crate::stamp::Stamp;

/// A project as written. Read back as a [`ReadRow`].
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = projects)]
pub(crate) struct Row {
    id: String,
    customer_id: String,
    billing_account_id: String,
    slug: String,
    name: String,
    status: String,
    settings: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl Row {
    fn from_domain(p: &Project) -> Result<Row> {
        Ok(Row {
            id: p.id.to_string(),
            customer_id: p.customer_id.to_string(),
            billing_account_id: p.billing_account_id.to_string(),
            slug: p.slug.clone(),
            name: p.name.clone(),
            status: p.status.clone(),
            settings: serde_json::to_string(&p.settings)
                .map_err(|e| Error::Internal(e.to_string()))?,
            created_at: to_naive(p.created_at),
            updated_at: to_naive(p.updated_at),
            version: p.version,
        })
    }
}

/// A project as read: ids and settings parsed from the row's own text ([`Parsed`]), as
/// a contact's are. Every request in a project reads it (a get-by-id with its contact).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = projects)]
pub(crate) struct ReadRow {
    id: Parsed<Uuid>,
    customer_id: Parsed<Uuid>,
    billing_account_id: Parsed<Uuid>,
    slug: String,
    name: String,
    status: String,
    settings: Parsed<serde_json::Map<String, serde_json::Value>>,
    #[diesel(deserialize_as = Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

impl ReadRow {
    pub(crate) fn into_domain(self) -> Project {
        Project {
            id: self.id.0,
            customer_id: self.customer_id.0,
            billing_account_id: self.billing_account_id.0,
            settings: self.settings.0,
            slug: self.slug,
            name: self.name,
            status: self.status,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            version: self.version,
        }
    }
}

fn slug_taken(e: diesel::result::Error) -> Error {
    errors::unique(
        e,
        "slug",
        "slug_taken",
        "a project with this slug already exists",
    )
}

pub fn insert(conn: &mut DbConn, p: &Project) -> Result<()> {
    diesel::insert_into(projects::table)
        .values(Row::from_domain(p)?)
        .execute(conn)
        .map_err(slug_taken)?;
    Ok(())
}

/// The project with this id, if it belongs to `tenant` (any tenant when `None`).
pub fn find(conn: &mut DbConn, tenant: Option<Uuid>, id: Uuid) -> Result<Option<Project>> {
    Ok(find_of_tenant!(conn, projects, ReadRow, tenant, id)
        .map_err(errors::db)?
        .map(ReadRow::into_domain))
}

/// The project with this id, if it belongs to `tenant` (any tenant when `None`), with
/// its customer: one query where a use case needs both (a create checks the customer's
/// limits after the project's gate).
pub fn find_with_customer(
    conn: &mut DbConn,
    tenant: Option<Uuid>,
    id: Uuid,
) -> Result<Option<(Project, Customer)>> {
    use crate::schema::customers;
    let q = projects::table
        .inner_join(customers::table.on(customers::id.eq(projects::customer_id)))
        .filter(projects::id.eq(id.to_string()));
    let found = first_of_tenant!(
        conn,
        q,
        projects::customer_id,
        tenant,
        (
            ReadRow::as_select(),
            crate::customers::CustomerRow::as_select()
        )
    )
    .map_err(errors::db)?;
    found
        .map(|(project, customer)| Ok((project.into_domain(), customer.into_domain()?)))
        .transpose()
}

/// Loads a project of `tenant` or answers "not found".
pub fn get(conn: &mut DbConn, tenant: Option<Uuid>, id: Uuid) -> Result<Project> {
    find(conn, tenant, id)?.ok_or(Error::not_found("project"))
}

/// The role of a user in a project, if any.
pub fn role_of(conn: &mut DbConn, project_id: Uuid, user_id: Uuid) -> Result<Option<ProjectRole>> {
    Ok(membership(conn, project_id, user_id)?.map(|m| m.role))
}

/// A user's membership of a project, if any.
pub fn membership(
    conn: &mut DbConn,
    project_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Membership>> {
    let q = project_members::table
        .filter(project_members::project_id.eq(project_id.to_string()))
        .filter(project_members::user_id.eq(user_id.to_string()));
    on_backend!(conn, |c| q
        .select(MemberRow::as_select())
        .first(c)
        .optional())
    .map_err(errors::db)?
    .map(MemberRow::into_domain)
    .transpose()
}

fn parse_role(r: &str) -> Result<ProjectRole> {
    ProjectRole::parse(r).ok_or_else(|| Error::Internal(format!("bad project role {r}")))
}

/// One person's role in a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub project_id: Uuid,
    pub user_id: Uuid,
    pub role: ProjectRole,
    pub created_at: Timestamp,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = project_members)]
struct MemberRow {
    project_id: String,
    user_id: String,
    customer_id: String,
    role: String,
    created_at: NaiveDateTime,
}

impl MemberRow {
    fn into_domain(self) -> Result<Membership> {
        Ok(Membership {
            project_id: errors::stored_id(&self.project_id, "project id")?,
            user_id: errors::stored_id(&self.user_id, "user id")?,
            role: parse_role(&self.role)?,
            created_at: from_naive(self.created_at),
        })
    }
}

/// The members of a project with their roles, oldest first.
pub fn members(conn: &mut DbConn, project_id: Uuid) -> Result<Vec<Membership>> {
    project_members::table
        .filter(project_members::project_id.eq(project_id.to_string()))
        .order((
            project_members::created_at.asc(),
            project_members::user_id.asc(),
        ))
        .select(MemberRow::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(MemberRow::into_domain)
        .collect()
}

/// Gives a user a role in a project of `customer_id`; 409 if it already has one.
pub fn add_member(conn: &mut DbConn, customer_id: Uuid, m: &Membership) -> Result<()> {
    diesel::insert_into(project_members::table)
        .values(MemberRow {
            project_id: m.project_id.to_string(),
            user_id: m.user_id.to_string(),
            customer_id: customer_id.to_string(),
            role: m.role.as_str().to_string(),
            created_at: to_naive(m.created_at),
        })
        .execute(conn)
        .map_err(|e| {
            errors::unique(
                e,
                "user_id",
                "already_member",
                "this user already has a role in the project; change it with PATCH",
            )
        })?;
    Ok(())
}

/// Changes a user's role in a project; false when the user has none there.
pub fn set_role(
    conn: &mut DbConn,
    project_id: Uuid,
    user_id: Uuid,
    role: ProjectRole,
) -> Result<bool> {
    let n = diesel::update(
        project_members::table
            .filter(project_members::project_id.eq(project_id.to_string()))
            .filter(project_members::user_id.eq(user_id.to_string())),
    )
    .set(project_members::role.eq(role.as_str()))
    .execute(conn)
    .map_err(errors::db)?;
    Ok(n == 1)
}

/// Takes a user's role in a project away; false when the user had none there.
pub fn remove_member(conn: &mut DbConn, project_id: Uuid, user_id: Uuid) -> Result<bool> {
    let n = diesel::delete(
        project_members::table
            .filter(project_members::project_id.eq(project_id.to_string()))
            .filter(project_members::user_id.eq(user_id.to_string())),
    )
    .execute(conn)
    .map_err(errors::db)?;
    Ok(n == 1)
}

/// The projects of a customer, oldest first; `only` narrows to the given ids.
pub fn list(conn: &mut DbConn, customer_id: Uuid, only: Option<&[Uuid]>) -> Result<Vec<Project>> {
    let mut q = projects::table
        .filter(projects::customer_id.eq(customer_id.to_string()))
        .order((projects::created_at.asc(), projects::id.asc()))
        .select(ReadRow::as_select())
        .into_boxed();
    if let Some(ids) = only {
        q = q.filter(projects::id.eq_any(ids.iter().map(Uuid::to_string).collect::<Vec<_>>()));
    }
    Ok(q.load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(ReadRow::into_domain)
        .collect())
}

/// The ids of the projects where a user has a role.
pub fn ids_with_role(conn: &mut DbConn, user_id: Uuid) -> Result<Vec<Uuid>> {
    project_members::table
        .filter(project_members::user_id.eq(user_id.to_string()))
        .select(project_members::project_id)
        .load::<String>(conn)
        .map_err(errors::db)?
        .iter()
        .map(|p| errors::stored_id(p, "project id"))
        .collect()
}

/// Active (not archived) projects of a customer: what `features.max_projects` limits.
pub fn count_active(conn: &mut DbConn, customer_id: Uuid) -> Result<i64> {
    projects::table
        .filter(projects::customer_id.eq(customer_id.to_string()))
        .filter(projects::status.eq("active"))
        .count()
        .get_result(conn)
        .map_err(errors::db)
}

/// Saves a changed project if nobody changed it since `loaded_version` was read.
pub fn update(conn: &mut DbConn, p: &Project, loaded_version: i64) -> Result<()> {
    let row = Row::from_domain(p)?;
    let n = diesel::update(
        projects::table
            .filter(projects::id.eq(&row.id))
            .filter(projects::version.eq(loaded_version)),
    )
    .set(&row)
    .execute(conn)
    .map_err(slug_taken)?;
    errors::one_updated(n, "project")
}

/// Project members per project of a customer.
pub fn member_counts(conn: &mut DbConn, customer_id: Uuid) -> Result<Vec<(Uuid, i64)>> {
    project_members::table
        .filter(project_members::customer_id.eq(customer_id.to_string()))
        .group_by(project_members::project_id)
        .select((project_members::project_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(|(p, n)| Ok((errors::stored_id(&p, "project id")?, n)))
        .collect()
}

/// Takes the row lock of a project for the rest of the transaction (see
/// `customers::lock`): concurrent changes queue instead of failing.
pub fn lock(conn: &mut DbConn, id: Uuid) -> Result<bool> {
    let n = diesel::update(projects::table.find(id.to_string()))
        .set(projects::version.eq(projects::version))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(n == 1)
}
