//! Webhooks and their delivery log. Every function for one customer's rows takes the
//! customer id; the worker's scan (`due_targets`) is the only cross-tenant read.

use chrono::NaiveDateTime;
use clientele_domain::time::{from_naive, to_naive, Timestamp};
use clientele_domain::webhook::DeliveryStatus;
use clientele_domain::{Error, Result};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::events::FeedPosition;
use crate::schema::{customers, events, webhook_deliveries, webhooks};

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub url: String,
    /// Empty: every event type.
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// The last event this webhook is done with; delivery resumes after it.
    pub position: FeedPosition,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = webhooks)]
struct Row {
    id: String,
    customer_id: String,
    url: String,
    event_types: String,
    secret: String,
    description: Option<String>,
    enabled: bool,
    cursor_tx: i64,
    cursor_seq: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl Row {
    /// The webhook and its signing secret.
    fn into_parts(self) -> Result<(Webhook, String)> {
        let webhook = Webhook {
            id: errors::stored_id(&self.id, "id")?,
            customer_id: errors::stored_id(&self.customer_id, "id")?,
            event_types: serde_json::from_str(&self.event_types)
                .map_err(|_| Error::Internal(format!("webhook {}: bad event_types", self.id)))?,
            url: self.url,
            description: self.description,
            enabled: self.enabled,
            position: FeedPosition {
                tx_id: self.cursor_tx,
                seq: self.cursor_seq,
            },
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            version: self.version,
        };
        Ok((webhook, self.secret))
    }

    fn into_webhook(self) -> Result<Webhook> {
        self.into_parts().map(|(w, _)| w)
    }
}

fn types_json(types: &[String]) -> Result<String> {
    serde_json::to_string(types).map_err(|e| Error::Internal(e.to_string()))
}

/// Stores a new webhook with its signing secret. The secret is kept as is (not hashed)
/// because the worker needs it to sign; no read path of the API returns it.
pub fn insert(conn: &mut DbConn, w: &Webhook, secret: &str) -> Result<()> {
    diesel::insert_into(webhooks::table)
        .values(Row {
            id: w.id.to_string(),
            customer_id: w.customer_id.to_string(),
            url: w.url.clone(),
            event_types: types_json(&w.event_types)?,
            secret: secret.to_string(),
            description: w.description.clone(),
            enabled: w.enabled,
            cursor_tx: w.position.tx_id,
            cursor_seq: w.position.seq,
            created_at: to_naive(w.created_at),
            updated_at: to_naive(w.updated_at),
            version: w.version,
        })
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, customer_id: Uuid, id: Uuid) -> Result<Option<Webhook>> {
    webhooks::table
        .filter(webhooks::id.eq(id.to_string()))
        .filter(webhooks::customer_id.eq(customer_id.to_string()))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(Row::into_webhook)
        .transpose()
}

/// A customer's webhooks, newest first.
pub fn list_for_customer(conn: &mut DbConn, customer_id: Uuid) -> Result<Vec<Webhook>> {
    webhooks::table
        .filter(webhooks::customer_id.eq(customer_id.to_string()))
        .order((webhooks::created_at.desc(), webhooks::id.desc()))
        .select(Row::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(Row::into_webhook)
        .collect()
}

/// Saves url, filter, description and enabled if the row is still at `loaded_version`.
pub fn update(conn: &mut DbConn, w: &Webhook, loaded_version: i64) -> Result<()> {
    let n = diesel::update(
        webhooks::table
            .filter(webhooks::id.eq(w.id.to_string()))
            .filter(webhooks::customer_id.eq(w.customer_id.to_string()))
            .filter(webhooks::version.eq(loaded_version)),
    )
    .set((
        webhooks::url.eq(&w.url),
        webhooks::event_types.eq(types_json(&w.event_types)?),
        webhooks::description.eq(&w.description),
        webhooks::enabled.eq(w.enabled),
        webhooks::updated_at.eq(to_naive(w.updated_at)),
        webhooks::version.eq(w.version),
    ))
    .execute(conn)
    .map_err(errors::db)?;
    errors::one_updated(n, "webhook")
}

/// Deletes a webhook and its delivery log (explicitly: the log rows carry the tenant
/// too, and this keeps the delete filtered by it).
pub fn delete(conn: &mut DbConn, customer_id: Uuid, id: Uuid) -> Result<bool> {
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(id.to_string()))
            .filter(webhook_deliveries::customer_id.eq(customer_id.to_string())),
    )
    .execute(conn)
    .map_err(errors::db)?;
    let n = diesel::delete(
        webhooks::table
            .filter(webhooks::id.eq(id.to_string()))
            .filter(webhooks::customer_id.eq(customer_id.to_string())),
    )
    .execute(conn)
    .map_err(errors::db)?;
    Ok(n == 1)
}

/// Moves the webhook's position forward (never back).
pub fn advance(
    conn: &mut DbConn,
    customer_id: Uuid,
    webhook_id: Uuid,
    to: FeedPosition,
) -> Result<()> {
    diesel::update(
        webhooks::table
            .filter(webhooks::id.eq(webhook_id.to_string()))
            .filter(webhooks::customer_id.eq(customer_id.to_string()))
            .filter(
                webhooks::cursor_tx.lt(to.tx_id).or(webhooks::cursor_tx
                    .eq(to.tx_id)
                    .and(webhooks::cursor_seq.lt(to.seq))),
            ),
    )
    .set((
        webhooks::cursor_tx.eq(to.tx_id),
        webhooks::cursor_seq.eq(to.seq),
    ))
    .execute(conn)
    .map_err(errors::db)?;
    Ok(())
}

/// Where a webhook created in the current transaction starts: just before the events
/// of this transaction, so its own `webhook.created` is the first thing it receives.
///
/// SQLite: one writer commits in sequence order, so that is the customer's last event.
/// PostgreSQL: the feed is ordered by writing transaction, so it is the start of this
/// transaction: every transaction that starts later sorts after it, and every event
/// committed before it (history) sorts before it. Events of older transactions still
/// running at creation time are concurrent with it and are not delivered.
pub fn feed_head(conn: &mut DbConn, customer_id: Uuid) -> Result<FeedPosition> {
    if matches!(conn, DbConn::Pg(_)) {
        let tx_id: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "pg_current_xact_id()::text::bigint",
        ))
        .get_result(conn)
        .map_err(errors::db)?;
        return Ok(FeedPosition { tx_id, seq: 0 });
    }
    let head: Option<(i64, i64)> = events::table
        .filter(events::customer_id.eq(customer_id.to_string()))
        .order((events::tx_id.desc(), events::seq.desc()))
        .select((events::tx_id, events::seq))
        .first(conn)
        .optional()
        .map_err(errors::db)?;
    Ok(head
        .map(|(tx_id, seq)| FeedPosition { tx_id, seq })
        .unwrap_or_default())
}

/// What the worker needs to deliver for one webhook.
#[derive(Clone)]
pub struct Target {
    pub webhook: Webhook,
    pub secret: String,
}

// By hand, so that no `{:?}` ever prints the signing secret.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("webhook", &self.webhook)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Enabled webhooks of active customers (all tenants: this is the worker's scan).
pub fn active_targets(conn: &mut DbConn) -> Result<Vec<Target>> {
    webhooks::table
        .inner_join(customers::table)
        .filter(webhooks::enabled.eq(true))
        .filter(customers::status.eq("active"))
        .order(webhooks::id.asc())
        .select(Row::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(|r| {
            r.into_parts()
                .map(|(webhook, secret)| Target { webhook, secret })
        })
        .collect()
}

/// One webhook of an active customer, if it is still enabled (re-checked before sending).
pub fn active_target(
    conn: &mut DbConn,
    customer_id: Uuid,
    webhook_id: Uuid,
) -> Result<Option<Target>> {
    webhooks::table
        .inner_join(customers::table)
        .filter(webhooks::id.eq(webhook_id.to_string()))
        .filter(webhooks::customer_id.eq(customer_id.to_string()))
        .filter(webhooks::enabled.eq(true))
        .filter(customers::status.eq("active"))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(|r| {
            r.into_parts()
                .map(|(webhook, secret)| Target { webhook, secret })
        })
        .transpose()
}

/// One delivery of one event to one webhook; retries and replays update it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub customer_id: Uuid,
    pub event_id: Uuid,
    pub position: FeedPosition,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<Timestamp>,
    /// The HTTP status of the last answer, if there was one.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = webhook_deliveries, treat_none_as_null = true)]
struct DeliveryRow {
    id: String,
    webhook_id: String,
    customer_id: String,
    event_id: String,
    event_tx: i64,
    event_seq: i64,
    event_type: String,
    status: String,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
}

impl DeliveryRow {
    fn from_domain(d: &Delivery) -> Self {
        DeliveryRow {
            id: d.id.to_string(),
            webhook_id: d.webhook_id.to_string(),
            customer_id: d.customer_id.to_string(),
            event_id: d.event_id.to_string(),
            event_tx: d.position.tx_id,
            event_seq: d.position.seq,
            event_type: d.event_type.clone(),
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(to_naive),
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            created_at: to_naive(d.created_at),
            updated_at: to_naive(d.updated_at),
            delivered_at: d.delivered_at.map(to_naive),
        }
    }

    fn into_domain(self) -> Result<Delivery> {
        Ok(Delivery {
            id: errors::stored_id(&self.id, "id")?,
            webhook_id: errors::stored_id(&self.webhook_id, "id")?,
            customer_id: errors::stored_id(&self.customer_id, "id")?,
            event_id: errors::stored_id(&self.event_id, "id")?,
            position: FeedPosition {
                tx_id: self.event_tx,
                seq: self.event_seq,
            },
            status: DeliveryStatus::parse(&self.status)
                .ok_or_else(|| Error::Internal(format!("delivery {}: bad status", self.id)))?,
            event_type: self.event_type,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at.map(from_naive),
            last_status: self.last_status,
            last_error: self.last_error,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            delivered_at: self.delivered_at.map(from_naive),
        })
    }
}

pub fn insert_delivery(conn: &mut DbConn, d: &Delivery) -> Result<()> {
    diesel::insert_into(webhook_deliveries::table)
        .values(DeliveryRow::from_domain(d))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

pub fn save_delivery(conn: &mut DbConn, d: &Delivery) -> Result<()> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(d.id.to_string()))
            .filter(webhook_deliveries::customer_id.eq(d.customer_id.to_string())),
    )
    .set(DeliveryRow::from_domain(d))
    .execute(conn)
    .map_err(errors::db)?;
    Ok(())
}

/// Pending deliveries of a webhook in feed order (the worker's queue).
pub fn pending(conn: &mut DbConn, customer_id: Uuid, webhook_id: Uuid) -> Result<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id.to_string()))
        .filter(webhook_deliveries::customer_id.eq(customer_id.to_string()))
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .order((
            webhook_deliveries::event_tx.asc(),
            webhook_deliveries::event_seq.asc(),
        ))
        .limit(100)
        .select(DeliveryRow::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(DeliveryRow::into_domain)
        .collect()
}

pub fn find_delivery(
    conn: &mut DbConn,
    customer_id: Uuid,
    webhook_id: Uuid,
    id: Uuid,
) -> Result<Option<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(id.to_string()))
        .filter(webhook_deliveries::webhook_id.eq(webhook_id.to_string()))
        .filter(webhook_deliveries::customer_id.eq(customer_id.to_string()))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(DeliveryRow::into_domain)
        .transpose()
}

/// The delivery log of a webhook, newest first.
pub fn list_deliveries(
    conn: &mut DbConn,
    customer_id: Uuid,
    webhook_id: Uuid,
    limit: i64,
) -> Result<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id.to_string()))
        .filter(webhook_deliveries::customer_id.eq(customer_id.to_string()))
        .order((
            webhook_deliveries::event_tx.desc(),
            webhook_deliveries::event_seq.desc(),
        ))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(DeliveryRow::into_domain)
        .collect()
}
