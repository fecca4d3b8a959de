//! Webhooks of a customer: managed by its owners and admins, delivered by the worker.
//!
//! The use cases here are the whole delivery logic except the HTTP request itself,
//! which the server's worker sends (it owns the HTTP client and the runtime it needs):
//! `next_delivery` picks what to send, `record_outcome` stores what happened.

use std::net::SocketAddr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clientele_domain::access::{key_access, Actor, Intent};
use clientele_domain::error::Validator;
use clientele_domain::event::EventDraft;
use clientele_domain::hierarchy::{check_version, touch};
use clientele_domain::time::now;
use clientele_domain::webhook::{self as rules, DeliveryStatus};
use clientele_domain::{Audit, Error, Result};
use clientele_persistence::events::{self, Event, FeedQuery};
use clientele_persistence::webhooks::{self as repo, Delivery, Target, Webhook};
use clientele_persistence::{customers, Db};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

pub const SECRET_PREFIX: &str = "whsec_";

/// How long a target's name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which targets webhooks may point at (config `webhooks.allow_private_targets`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetPolicy {
    pub allow_private_targets: bool,
}

/// A new signing secret: `whsec_` and 32 random bytes, base64 (Standard Webhooks form).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`, where the key is the
/// base64-decoded part of the secret after `whsec_`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| Error::Internal("a webhook secret is not base64".into()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| Error::Internal("bad webhook key".into()))?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Resolves the URL's host and checks every address it resolves to. Returns the
/// addresses to connect to (the worker connects to exactly these, so a name cannot
/// resolve to a public address for the check and a private one for the request).
pub async fn resolve_target(
    url: &str,
    policy: TargetPolicy,
) -> std::result::Result<Vec<SocketAddr>, String> {
    let parsed = rules::parse_url(url, "url").map_err(|e| e.message)?;
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| "has no port".to_string())?;
    let addrs: Vec<SocketAddr> = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Domain(name)) => {
            match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port))).await
            {
                Ok(Ok(addrs)) => addrs.collect(),
                Ok(Err(_)) => return Err(format!("the host `{name}` does not resolve")),
                Err(_) => return Err(format!("the host `{name}` did not resolve in time")),
            }
        }
        None => return Err("must name a host".into()),
    };
    if addrs.is_empty() {
        return Err("the host resolves to no address".into());
    }
    if !policy.allow_private_targets {
        for a in &addrs {
            if let Some(reason) = rules::forbidden_reason(a.ip()) {
                // The address itself stays out: it would map the internal network.
                return Err(format!(
                    "the host resolves to {reason}; webhooks only go to public addresses"
                ));
            }
        }
    }
    Ok(addrs)
}

async fn check_target(v: &mut Validator, url: &str, policy: TargetPolicy) {
    if let Err(e) = resolve_target(url, policy).await {
        v.push("url", e);
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// Creates a webhook that delivers what happens from now on; returns it with its
/// secret (the only time the secret is shown).
pub async fn create(
    db: &Db,
    policy: TargetPolicy,
    actor: &Actor,
    customer_id: Uuid,
    input: NewWebhook,
) -> Result<(Webhook, String)> {
    key_access(&actor.principal, customer_id, Intent::Write)?;
    let mut v = Validator::new();
    let url = v.check(rules::parse_url(&input.url, "url"));
    let types = v.check(rules::parse_event_types(&input.event_types, "event_types"));
    let description = v.check(rules::parse_description(
        input.description.as_deref().unwrap_or(""),
        "description",
    ));
    if url.is_some() {
        check_target(&mut v, &input.url, policy).await;
    }
    v.finish()?;
    let (Some(url), Some(event_types), Some(description)) = (url, types, description) else {
        return Err(Error::Internal("validated webhook input is missing".into()));
    };
    let at = now();
    let mut webhook = Webhook {
        id: clientele_domain::new_id(),
        customer_id,
        url: url.to_string(),
        event_types,
        description,
        enabled: input.enabled.unwrap_or(true),
        position: Default::default(),
        created_at: at,
        updated_at: at,
        version: 1,
    };
    let secret = generate_secret();
    let audit = actor.audit();
    db.write(move |conn| {
        customers::get(conn, customer_id)?;
        webhook.position = repo::feed_head(conn, customer_id)?;
        repo::insert(conn, &webhook, &secret)?;
        append(
            conn,
            "webhook.created",
            &webhook,
            json!({"webhook": snapshot(&webhook)}),
            &audit,
        )?;
        Ok((webhook, secret))
    })
    .await
}

fn snapshot(w: &Webhook) -> Value {
    json!({
        "id": w.id,
        "url": w.url,
        "event_types": w.event_types,
        "description": w.description,
        "enabled": w.enabled,
        "version": w.version,
    })
}

fn append(
    conn: &mut clientele_persistence::DbConn,
    event_type: &'static str,
    w: &Webhook,
    payload: Value,
    audit: &Audit,
) -> Result<()> {
    events::append(
        conn,
        &EventDraft {
            event_type,
            customer_id: w.customer_id,
            project_id: None,
            subject_id: w.id,
            payload,
        },
        audit,
    )?;
    Ok(())
}

pub async fn list(db: &Db, actor: &Actor, customer_id: Uuid) -> Result<Vec<Webhook>> {
    key_access(&actor.principal, customer_id, Intent::Read)?;
    db.read(move |conn| {
        customers::get(conn, customer_id)?;
        repo::list_for_customer(conn, customer_id)
    })
    .await
}

pub async fn get(db: &Db, actor: &Actor, customer_id: Uuid, id: Uuid) -> Result<Webhook> {
    key_access(&actor.principal, customer_id, Intent::Read)?;
    db.read(move |conn| repo::find(conn, customer_id, id)?.ok_or(Error::not_found("webhook")))
        .await
}

/// A merge-patch of a webhook: absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// `Some(None)`: clear it.
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

pub async fn update(
    db: &Db,
    policy: TargetPolicy,
    actor: &Actor,
    customer_id: Uuid,
    id: Uuid,
    changes: WebhookChanges,
    if_match: Option<i64>,
) -> Result<Webhook> {
    key_access(&actor.principal, customer_id, Intent::Write)?;
    let mut v = Validator::new();
    let url = changes
        .url
        .as_deref()
        .map(|u| v.check(rules::parse_url(u, "url")));
    let types = changes
        .event_types
        .as_deref()
        .map(|t| v.check(rules::parse_event_types(t, "event_types")));
    let description = changes.description.as_ref().map(|d| {
        v.check(rules::parse_description(
            d.as_deref().unwrap_or(""),
            "description",
        ))
    });
    if let (Some(Some(_)), Some(raw)) = (&url, &changes.url) {
        check_target(&mut v, raw, policy).await;
    }
    v.finish()?;
    let audit = actor.audit();
    db.write(move |conn| {
        let mut w = repo::find(conn, customer_id, id)?.ok_or(Error::not_found("webhook"))?;
        check_version("webhook", w.version, if_match)?;
        let loaded = w.version;
        let mut changed: Vec<&str> = Vec::new();
        if let Some(Some(u)) = url {
            if u.as_str() != w.url {
                w.url = u.to_string();
                changed.push("url");
            }
        }
        if let Some(Some(t)) = types {
            if t != w.event_types {
                w.event_types = t;
                changed.push("event_types");
            }
        }
        if let Some(Some(d)) = description {
            if d != w.description {
                w.description = d;
                changed.push("description");
            }
        }
        if let Some(e) = changes.enabled {
            if e != w.enabled {
                w.enabled = e;
                changed.push("enabled");
            }
        }
        if changed.is_empty() {
            return Ok(w);
        }
        touch(&mut w.updated_at, &mut w.version);
        repo::update(conn, &w, loaded)?;
        append(
            conn,
            "webhook.updated",
            &w,
            json!({"webhook": snapshot(&w), "changed": changed}),
            &audit,
        )?;
        Ok(w)
    })
    .await
}

pub async fn delete(db: &Db, actor: &Actor, customer_id: Uuid, id: Uuid) -> Result<()> {
    key_access(&actor.principal, customer_id, Intent::Write)?;
    let audit = actor.audit();
    db.write(move |conn| {
        let w = repo::find(conn, customer_id, id)?.ok_or(Error::not_found("webhook"))?;
        repo::delete(conn, customer_id, id)?;
        append(
            conn,
            "webhook.deleted",
            &w,
            json!({"webhook_id": id}),
            &audit,
        )?;
        Ok(())
    })
    .await
}

/// The delivery log of a webhook, newest event first.
pub async fn deliveries(
    db: &Db,
    actor: &Actor,
    customer_id: Uuid,
    id: Uuid,
    limit: i64,
) -> Result<Vec<Delivery>> {
    key_access(&actor.principal, customer_id, Intent::Read)?;
    db.read(move |conn| {
        repo::find(conn, customer_id, id)?.ok_or(Error::not_found("webhook"))?;
        repo::list_deliveries(conn, customer_id, id, limit)
    })
    .await
}

/// Sends a delivery again: it becomes pending with a fresh attempt budget, and the
/// worker sends it next (beside, not in place of, the webhook's in-order stream).
pub async fn replay(
    db: &Db,
    actor: &Actor,
    customer_id: Uuid,
    id: Uuid,
    delivery_id: Uuid,
) -> Result<Delivery> {
    key_access(&actor.principal, customer_id, Intent::Write)?;
    let audit = actor.audit();
    db.write(move |conn| {
        let w = repo::find(conn, customer_id, id)?.ok_or(Error::not_found("webhook"))?;
        let mut d = repo::find_delivery(conn, customer_id, id, delivery_id)?
            .ok_or(Error::not_found("delivery"))?;
        if d.status == DeliveryStatus::Pending {
            return Ok(d);
        }
        let at = now();
        d.status = DeliveryStatus::Pending;
        d.attempts = 0;
        d.next_attempt_at = Some(at);
        d.updated_at = at.max(d.updated_at);
        repo::save_delivery(conn, &d)?;
        // The audit trail: who sent an event to an outside URL again.
        append(
            conn,
            "webhook.delivery_replayed",
            &w,
            json!({"webhook_id": w.id, "delivery_id": d.id, "event_id": d.event_id}),
            &audit,
        )?;
        Ok(d)
    })
    .await
}

/// How the worker retries.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

/// Enabled webhooks of active customers: the worker's scan.
pub async fn active_targets(db: &Db) -> Result<Vec<Target>> {
    db.read(repo::active_targets).await
}

/// What to send next for one webhook, if anything is due: a replayed or retried
/// delivery whose time has come, else (when the webhook has no delivery in progress)
/// the next event of its feed. Nothing while the customer is not active or the webhook
/// is disabled: its position stays, so delivery resumes where it stopped.
pub async fn next_delivery(
    db: &Db,
    customer_id: Uuid,
    webhook_id: Uuid,
) -> Result<Option<(Target, Delivery, Event)>> {
    // Looking is a read: an idle webhook costs the (SQLite) writer nothing. Only one task
    // serves a webhook at a time, so nobody else inserts its next delivery meanwhile.
    let found = db
        .read(move |conn| {
            let Some(target) = repo::active_target(conn, customer_id, webhook_id)? else {
                return Ok(None);
            };
            let w = &target.webhook;
            let at = now();
            let pending = repo::pending(conn, customer_id, webhook_id)?;
            let in_progress = pending.iter().any(|d| d.position > w.position);
            let due = pending
                .into_iter()
                .find(|d| d.next_attempt_at.is_none_or(|t| t <= at));
            if let Some(d) = due {
                let event = events::find(conn, w.customer_id, d.event_id)?
                    .ok_or_else(|| Error::Internal(format!("delivery {}: event is gone", d.id)))?;
                return Ok(still_active(conn, customer_id, webhook_id)?
                    .then_some((target, d, event, false)));
            }
            if in_progress {
                return Ok(None);
            }
            let next = events::feed(
                conn,
                &FeedQuery {
                    tenant: Some(w.customer_id),
                    after: w.position,
                    types: w.event_types.clone(),
                    limit: 1,
                },
            )?;
            let Some(event) = next.into_iter().next() else {
                return Ok(None);
            };
            let d = Delivery {
                id: clientele_domain::new_id(),
                webhook_id,
                customer_id: w.customer_id,
                event_id: event.id,
                position: event.position(),
                event_type: event.event_type.clone(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: Some(at),
                last_status: None,
                last_error: None,
                created_at: at,
                updated_at: at,
                delivered_at: None,
            };
            Ok(still_active(conn, customer_id, webhook_id)?.then_some((target, d, event, true)))
        })
        .await?;
    let Some((target, delivery, event, is_new)) = found else {
        return Ok(None);
    };
    if is_new {
        let d = delivery.clone();
        db.write(move |conn| repo::insert_delivery(conn, &d))
            .await?;
    }
    Ok(Some((target, delivery, event)))
}

/// Checked after the event was read: each statement sees its own snapshot, so an event
/// written while the customer was suspended could otherwise be picked up by a read that
/// saw the customer active just before the suspension.
fn still_active(
    conn: &mut clientele_persistence::DbConn,
    customer_id: Uuid,
    webhook_id: Uuid,
) -> Result<bool> {
    Ok(repo::active_target(conn, customer_id, webhook_id)?.is_some())
}

/// The JSON body of a delivery.
pub fn payload(e: &Event) -> Value {
    json!({
        "id": e.id,
        "type": e.event_type,
        "customer_id": e.customer_id,
        "project_id": e.project_id,
        "subject_id": e.subject_id,
        "payload": e.payload,
        "actor": e.actor,
        "occurred_at": e.occurred_at,
    })
}

/// What one attempt ended with.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// A non-2xx answer (`status`) or none at all; `error` is short and has no secrets.
    Failed { status: Option<u16>, error: String },
}

/// Stores an attempt: success advances the webhook past the event; failure schedules
/// a retry with backoff, or after the last attempt marks it failed and moves on (a
/// replay can send it again).
pub async fn record_outcome(
    db: &Db,
    delivery: Delivery,
    outcome: Outcome,
    retry: RetryPolicy,
) -> Result<Delivery> {
    db.write(move |conn| {
        let mut d = delivery;
        let at = now();
        d.attempts += 1;
        d.updated_at = at.max(d.updated_at);
        let done = match outcome {
            Outcome::Delivered { status } => {
                d.status = DeliveryStatus::Succeeded;
                d.last_status = Some(i32::from(status));
                d.last_error = None;
                d.next_attempt_at = None;
                d.delivered_at = Some(at);
                true
            }
            Outcome::Failed { status, error } => {
                d.last_status = status.map(i32::from);
                d.last_error = Some(error.chars().take(200).collect());
                if d.attempts as u32 >= retry.max_attempts {
                    d.status = DeliveryStatus::Failed;
                    d.next_attempt_at = None;
                    true
                } else {
                    let wait =
                        rules::backoff(d.attempts as u32, retry.backoff_base, retry.backoff_cap);
                    d.next_attempt_at = Some(
                        at + chrono::Duration::from_std(wait)
                            .unwrap_or_else(|_| chrono::Duration::seconds(60)),
                    );
                    false
                }
            }
        };
        repo::save_delivery(conn, &d)?;
        if done {
            repo::advance(conn, d.customer_id, d.webhook_id, d.position)?;
        }
        Ok(d)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_have_the_prefix_and_enough_bytes() {
        let s = generate_secret();
        let key = STANDARD
            .decode(s.strip_prefix(SECRET_PREFIX).unwrap())
            .unwrap();
        assert!(key.len() >= 24);
        assert_ne!(s, generate_secret());
    }
}
