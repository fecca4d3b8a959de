//! Channels of a project. Lookups take the caller's tenant, like every tenant table.

use chrono::NaiveDateTime;
use clientele_domain::hierarchy::{Channel, ChannelKind};
use clientele_domain::time::{from_naive, to_naive};
use clientele_domain::{Error, Result};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::schema::channels;
use crate::stamp::Stamp;

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = channels)]
struct Row {
    id: String,
    customer_id: String,
    project_id: String,
    kind: String,
    name: String,
    settings: String,
    #[diesel(deserialize_as = Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

impl Row {
    fn from_domain(c: &Channel) -> Result<Row> {
        Ok(Row {
            id: c.id.to_string(),
            customer_id: c.customer_id.to_string(),
            project_id: c.project_id.to_string(),
            kind: c.kind.as_str().to_string(),
            name: c.name.clone(),
            settings: serde_json::to_string(&c.settings)
                .map_err(|e| Error::Internal(e.to_string()))?,
            created_at: to_naive(c.created_at),
            updated_at: to_naive(c.updated_at),
            version: c.version,
        })
    }

    fn into_domain(self) -> Result<Channel> {
        Ok(Channel {
            id: errors::stored_id(&self.id, "channel id")?,
            customer_id: errors::stored_id(&self.customer_id, "customer id")?,
            project_id: errors::stored_id(&self.project_id, "project id")?,
            kind: ChannelKind::parse(&self.kind)
                .ok_or_else(|| Error::Internal(format!("channel {}: bad kind", self.id)))?,
            settings: serde_json::from_str(&self.settings)
                .map_err(|e| Error::Internal(format!("channel {}: bad settings: {e}", self.id)))?,
            name: self.name,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert(conn: &mut DbConn, c: &Channel) -> Result<()> {
    diesel::insert_into(channels::table)
        .values(Row::from_domain(c)?)
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

/// The channel with this id, if it belongs to `tenant` (any tenant when `None`).
pub fn find(conn: &mut DbConn, tenant: Option<Uuid>, id: Uuid) -> Result<Option<Channel>> {
    find_of_tenant!(conn, channels, Row, tenant, id)
        .map_err(errors::db)?
        .map(Row::into_domain)
        .transpose()
}

/// The channels of a project, oldest first.
pub fn list(conn: &mut DbConn, project_id: Uuid) -> Result<Vec<Channel>> {
    channels::table
        .filter(channels::project_id.eq(project_id.to_string()))
        .order((channels::created_at.asc(), channels::id.asc()))
        .select(Row::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(Row::into_domain)
        .collect()
}

/// Saves a changed channel if nobody changed it since `loaded_version` was read.
pub fn update(conn: &mut DbConn, c: &Channel, loaded_version: i64) -> Result<()> {
    let row = Row::from_domain(c)?;
    let n = diesel::update(
        channels::table
            .filter(channels::id.eq(&row.id))
            .filter(channels::version.eq(loaded_version)),
    )
    .set(&row)
    .execute(conn)
    .map_err(errors::db)?;
    errors::one_updated(n, "channel")
}

pub fn delete(conn: &mut DbConn, id: Uuid) -> Result<bool> {
    let n = diesel::delete(channels::table.filter(channels::id.eq(id.to_string())))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(n == 1)
}
