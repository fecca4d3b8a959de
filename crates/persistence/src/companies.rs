//! Companies of a project (B2B), a tree through `parent_id`.

use chrono::NaiveDateTime;
use clientele_domain::company::{Company, CompanySize, MAX_DEPTH};
use clientele_domain::time::{from_naive, to_naive};
use clientele_domain::{Error, Result};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::contacts::{prefix_end, search_key};
use crate::errors;
use crate::schema::{companies, contacts};

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = companies, treat_none_as_null = true)]
struct Row {
    id: String,
    customer_id: String,
    project_id: String,
    name: String,
    name_key: String,
    domain: Option<String>,
    tax_id: Option<String>,
    industry: Option<String>,
    size: Option<String>,
    parent_id: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl Row {
    fn from_domain(customer_id: Uuid, c: &Company) -> Row {
        Row {
            id: c.id.to_string(),
            customer_id: customer_id.to_string(),
            project_id: c.project_id.to_string(),
            name: c.name.clone(),
            name_key: search_key(&c.name),
            domain: c.domain.clone(),
            tax_id: c.tax_id.clone(),
            industry: c.industry.clone(),
            size: c.size.map(|s| s.as_str().to_string()),
            parent_id: c.parent_id.map(|p| p.to_string()),
            created_at: to_naive(c.created_at),
            updated_at: to_naive(c.updated_at),
            version: c.version,
        }
    }

    fn into_domain(self) -> Result<Company> {
        Ok(Company {
            id: errors::stored_id(&self.id, "company id")?,
            project_id: errors::stored_id(&self.project_id, "project id")?,
            size: self
                .size
                .as_deref()
                .map(|s| {
                    CompanySize::parse(s)
                        .ok_or_else(|| Error::Internal(format!("company {}: bad size", self.id)))
                })
                .transpose()?,
            parent_id: self
                .parent_id
                .as_deref()
                .map(|p| errors::stored_id(p, "parent id"))
                .transpose()?,
            name: self.name,
            domain: self.domain,
            tax_id: self.tax_id,
            industry: self.industry,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            version: self.version,
        })
    }
}

fn domain_taken(e: diesel::result::Error) -> Error {
    errors::unique(
        e,
        "domain",
        "domain_taken",
        "another company of this project has this domain",
    )
}

pub fn insert(conn: &mut DbConn, customer_id: Uuid, c: &Company) -> Result<()> {
    diesel::insert_into(companies::table)
        .values(Row::from_domain(customer_id, c))
        .execute(conn)
        .map_err(domain_taken)?;
    Ok(())
}

/// Company `id` of tenant `customer_id`'s project `project_id`.
pub fn find(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    id: Uuid,
) -> Result<Option<Company>> {
    companies::table
        .filter(companies::id.eq(id.to_string()))
        .filter(companies::customer_id.eq(customer_id.to_string()))
        .filter(companies::project_id.eq(project_id.to_string()))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(Row::into_domain)
        .transpose()
}

/// The ancestors of company `id`, nearest first, at most `MAX_DEPTH` of them (more
/// means the tree is already too deep, which the caller refuses).
pub fn ancestors(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    id: Uuid,
) -> Result<Vec<Uuid>> {
    let mut chain = Vec::new();
    let mut current = id;
    while chain.len() <= MAX_DEPTH {
        let parent: Option<Option<String>> = companies::table
            .filter(companies::id.eq(current.to_string()))
            .filter(companies::customer_id.eq(customer_id.to_string()))
            .filter(companies::project_id.eq(project_id.to_string()))
            .select(companies::parent_id)
            .first(conn)
            .optional()
            .map_err(errors::db)?;
        match parent.flatten() {
            Some(p) => {
                current = errors::stored_id(&p, "parent id")?;
                chain.push(current);
            }
            None => break,
        }
    }
    Ok(chain)
}

/// Companies of a project by name, after `(name_key, id)`; `search` is a name prefix,
/// `parent_id` lists the subsidiaries of one company.
pub fn list(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    search: Option<&str>,
    parent_id: Option<Uuid>,
    after: Option<(&str, Uuid)>,
    limit: i64,
) -> Result<Vec<Company>> {
    let mut q = companies::table
        .filter(companies::customer_id.eq(customer_id.to_string()))
        .filter(companies::project_id.eq(project_id.to_string()))
        .select(Row::as_select())
        .order((companies::name_key.asc(), companies::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(s) = search.map(search_key).filter(|s| !s.is_empty()) {
        let end = prefix_end(&s);
        q = q
            .filter(companies::name_key.ge(s))
            .filter(companies::name_key.lt(end));
    }
    if let Some(p) = parent_id {
        q = q.filter(companies::parent_id.eq(p.to_string()));
    }
    if let Some((key, id)) = after {
        q = q.filter(
            companies::name_key
                .gt(key.to_string())
                .or(companies::name_key
                    .eq(key.to_string())
                    .and(companies::id.gt(id.to_string()))),
        );
    }
    q.load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(Row::into_domain)
        .collect()
}

/// The sort key of a company in lists (and cursors).
pub fn sort_key(c: &Company) -> String {
    search_key(&c.name)
}

pub fn update(
    conn: &mut DbConn,
    customer_id: Uuid,
    c: &Company,
    loaded_version: i64,
) -> Result<()> {
    let row = Row::from_domain(customer_id, c);
    let n = diesel::update(
        companies::table
            .filter(companies::id.eq(&row.id))
            .filter(companies::version.eq(loaded_version)),
    )
    .set(&row)
    .execute(conn)
    .map_err(domain_taken)?;
    errors::one_updated(n, "company")
}

/// What still points at a company: (contacts, subsidiaries). Deleted contacts count,
/// since restoring one would bring its company back.
pub fn references(conn: &mut DbConn, customer_id: Uuid, id: Uuid) -> Result<(i64, i64)> {
    let contacts: i64 = contacts::table
        .filter(contacts::customer_id.eq(customer_id.to_string()))
        .filter(contacts::company_id.eq(id.to_string()))
        .count()
        .get_result(conn)
        .map_err(errors::db)?;
    let children: i64 = companies::table
        .filter(companies::customer_id.eq(customer_id.to_string()))
        .filter(companies::parent_id.eq(id.to_string()))
        .count()
        .get_result(conn)
        .map_err(errors::db)?;
    Ok((contacts, children))
}

pub fn delete(conn: &mut DbConn, customer_id: Uuid, id: Uuid) -> Result<()> {
    diesel::delete(
        companies::table
            .filter(companies::id.eq(id.to_string()))
            .filter(companies::customer_id.eq(customer_id.to_string())),
    )
    .execute(conn)
    .map_err(errors::db)?;
    Ok(())
}
