//! The event outbox: appended in the same transaction as the change it records.

use chrono::NaiveDateTime;
use clientele_domain::event::EventDraft;
use clientele_domain::time::{from_naive, now, to_naive, Timestamp};
use clientele_domain::{Audit, Error, Result};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::schema::events;

#[derive(Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = events)]
pub(crate) struct NewEventRow<'a> {
    id: String,
    event_type: &'a str,
    customer_id: String,
    project_id: Option<String>,
    subject_id: String,
    payload: String,
    actor: Option<&'a str>,
    request_id: Option<&'a str>,
    occurred_at: NaiveDateTime,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub seq: i64,
    pub tx_id: i64,
    pub id: Uuid,
    pub event_type: String,
    pub customer_id: Uuid,
    pub project_id: Option<Uuid>,
    pub subject_id: Uuid,
    pub payload: Value,
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub occurred_at: Timestamp,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = events)]
struct EventRow {
    seq: i64,
    tx_id: i64,
    id: String,
    event_type: String,
    customer_id: String,
    project_id: Option<String>,
    subject_id: String,
    payload: String,
    actor: Option<String>,
    request_id: Option<String>,
    occurred_at: NaiveDateTime,
}

impl EventRow {
    fn into_event(self) -> Result<Event> {
        let bad = |what: &str| Error::Internal(format!("event {}: bad {what}", self.seq));
        let uuid = |s: &str, what: &str| Uuid::parse_str(s).map_err(|_| bad(what));
        Ok(Event {
            seq: self.seq,
            tx_id: self.tx_id,
            id: uuid(&self.id, "id")?,
            customer_id: uuid(&self.customer_id, "customer_id")?,
            project_id: self
                .project_id
                .as_deref()
                .map(|p| uuid(p, "project_id"))
                .transpose()?,
            subject_id: uuid(&self.subject_id, "subject_id")?,
            payload: serde_json::from_str(&self.payload).map_err(|_| bad("payload"))?,
            occurred_at: from_naive(self.occurred_at),
            event_type: self.event_type,
            actor: self.actor,
            request_id: self.request_id,
        })
    }
}

/// Appends one event; call inside the transaction that made the change.
pub fn append(conn: &mut DbConn, draft: &EventDraft, audit: &Audit) -> Result<Uuid> {
    let (id, row) = new_row(draft, audit);
    let q = diesel::insert_into(events::table).values(row);
    on_backend!(conn, |c| q.execute(c)).map_err(errors::db)?;
    Ok(id)
}

/// The row of a new event and its id, for a caller that writes it in the statement
/// of the change it records (see `contacts::insert_with_event`).
pub(crate) fn new_row<'a>(draft: &'a EventDraft, audit: &'a Audit) -> (Uuid, NewEventRow<'a>) {
    let id = clientele_domain::new_id();
    let row = NewEventRow {
        id: id.to_string(),
        event_type: draft.event_type,
        customer_id: draft.customer_id.to_string(),
        project_id: draft.project_id.map(|p| p.to_string()),
        subject_id: draft.subject_id.to_string(),
        payload: draft.payload.to_string(),
        actor: audit.actor.as_deref(),
        request_id: audit.request_id.as_deref(),
        occurred_at: to_naive(now()),
    };
    (id, row)
}

/// Events about one subject, oldest first (used by tests and the audit view).
pub fn for_subject(conn: &mut DbConn, subject: Uuid, limit: i64) -> Result<Vec<Event>> {
    events::table
        .filter(events::subject_id.eq(subject.to_string()))
        .order(events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}

/// One event of a tenant by id (the webhook worker loads the event a delivery sends).
pub fn find(conn: &mut DbConn, tenant: Uuid, id: Uuid) -> Result<Option<Event>> {
    events::table
        .filter(events::id.eq(id.to_string()))
        .filter(events::customer_id.eq(tenant.to_string()))
        .select(EventRow::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(EventRow::into_event)
        .transpose()
}

/// A position in the feed: events are ordered by (transaction, sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FeedPosition {
    pub tx_id: i64,
    pub seq: i64,
}

impl Event {
    pub fn position(&self) -> FeedPosition {
        FeedPosition {
            tx_id: self.tx_id,
            seq: self.seq,
        }
    }
}

/// What a feed read asks for.
#[derive(Debug, Clone, Default)]
pub struct FeedQuery {
    /// `None`: every tenant (platform admins, the billing system, the webhook worker).
    pub tenant: Option<Uuid>,
    pub after: FeedPosition,
    /// Empty: every type.
    pub types: Vec<String>,
    pub limit: i64,
}

/// Events after a position, in feed order, such that a reader resuming from the last
/// position it saw never misses or repeats one.
///
/// On PostgreSQL, sequence numbers are taken before commit, so a lower one can become
/// visible after a higher one. The feed is therefore ordered by the writing transaction
/// first, and shows only events of transactions older than every transaction still
/// running (`pg_snapshot_xmin`): anything that commits later has a higher transaction id
/// and so sorts after every position already handed out. On SQLite one writer commits
/// in sequence order and `tx_id` is always 0.
pub fn feed(conn: &mut DbConn, q: &FeedQuery) -> Result<Vec<Event>> {
    let FeedPosition { tx_id, seq } = q.after;
    let mut query = events::table
        // The first filter repeats what the second implies: it gives the index a lower
        // bound, which the OR alone does not.
        .filter(events::tx_id.ge(tx_id))
        .filter(
            events::tx_id
                .gt(tx_id)
                .or(events::tx_id.eq(tx_id).and(events::seq.gt(seq))),
        )
        .order((events::tx_id.asc(), events::seq.asc()))
        .limit(q.limit)
        .select(EventRow::as_select())
        .into_boxed();
    if let Some(t) = q.tenant {
        query = query.filter(events::customer_id.eq(t.to_string()));
    }
    if !q.types.is_empty() {
        query = query.filter(events::event_type.eq_any(q.types.clone()));
    }
    if matches!(conn, DbConn::Pg(_)) {
        query = query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        ));
    }
    query
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::pg::Pg;
    use diesel::query_builder::QueryFragment;

    /// An event without project, actor or request id (bound as NULL, not written as
    /// DEFAULT) is appended by a statement PostgreSQL keeps prepared.
    #[test]
    fn an_events_insert_is_kept_prepared() {
        let row = NewEventRow {
            id: clientele_domain::new_id().to_string(),
            event_type: "customer.updated",
            customer_id: clientele_domain::new_id().to_string(),
            project_id: None,
            subject_id: clientele_domain::new_id().to_string(),
            payload: "{}".into(),
            actor: None,
            request_id: None,
            occurred_at: to_naive(now()),
        };
        let insert = diesel::insert_into(events::table).values(row);
        assert!(QueryFragment::<Pg>::is_safe_to_cache_prepared(&insert, &Pg).unwrap());
    }
}
