//! The webhook worker: delivers each customer's events to its webhooks.
//!
//! What to send and what an attempt changes are use cases of `clientele_tenancy::webhooks`
//! (one transaction each); this module only runs them on a schedule and sends the HTTP
//! requests. The sending lives here rather than in tenancy because it needs an HTTP
//! client and the actix runtime that client runs on, which belong to the binary.
//!
//! The worker runs on its own thread with its own single-threaded runtime, so a slow or
//! hanging receiver can never take time from the HTTP workers; database work goes
//! through `Db` (blocking pool / SQLite writer) as everywhere else. Each webhook is
//! served by at most one task at a time, which sends one event at a time, in feed
//! order. Delivery is at least once: a request that was sent but whose outcome was
//! not recorded (the process stopped in between) is sent again, with the same
//! `webhook-id`, so receivers can drop duplicates.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use clientele_persistence::events::Event;
use clientele_persistence::webhooks::Target;
use clientele_persistence::Db;
use clientele_tenancy::webhooks::{self as uc, Outcome, RetryPolicy, TargetPolicy};
use tokio::sync::watch;
use uuid::Uuid;

/// Most deliveries one webhook task sends before it yields its slot until the next poll.
const BATCH: usize = 200;

#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    pub policy: TargetPolicy,
    pub retry: RetryPolicy,
    pub poll_interval: Duration,
    pub request_timeout: Duration,
}

impl WorkerConfig {
    pub fn from_settings(s: &crate::config::WebhookSettings) -> Self {
        WorkerConfig {
            policy: TargetPolicy {
                allow_private_targets: s.allow_private_targets,
            },
            retry: RetryPolicy {
                max_attempts: s.max_attempts,
                backoff_base: Duration::from_millis(s.backoff_base_ms),
                backoff_cap: Duration::from_millis(s.backoff_cap_ms),
            },
            poll_interval: Duration::from_millis(s.poll_interval_ms),
            request_timeout: Duration::from_millis(s.request_timeout_ms),
        }
    }
}

/// The running worker. `stop` ends it and waits; dropping it only asks it to end.
pub struct WebhookWorker {
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WebhookWorker {
    pub fn start(db: Db, config: WorkerConfig) -> Result<WebhookWorker, String> {
        let client_config = tls_config()?;
        let (stop, stopped) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("webhooks".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(run(db, config, client_config, stopped));
            })
            .map_err(|e| format!("cannot start the webhook worker: {e}"))?;
        Ok(WebhookWorker {
            stop,
            thread: Some(thread),
        })
    }

    /// Asks the worker to end and waits for it. Requests in flight are abandoned; their
    /// deliveries are still pending and are sent again after the next start.
    pub fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WebhookWorker {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// TLS for https targets: rustls with the ring provider and the Mozilla roots
/// (webpki-roots), so the default build needs no system OpenSSL and no cmake.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("cannot set up TLS for webhooks: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

async fn run(
    db: Db,
    config: WorkerConfig,
    tls: Arc<rustls::ClientConfig>,
    mut stopped: watch::Receiver<bool>,
) {
    let client = awc::Client::builder()
        .connector(
            awc::Connector::new()
                .rustls_0_23(tls)
                .timeout(config.request_timeout),
        )
        .timeout(config.request_timeout)
        // A redirect could lead to an address that was never checked.
        .disable_redirects()
        .finish();
    let busy: Rc<RefCell<HashSet<Uuid>>> = Rc::default();
    loop {
        if *stopped.borrow() {
            break;
        }
        match uc::active_targets(&db).await {
            Ok(targets) => {
                for t in targets {
                    let (customer, id) = (t.webhook.customer_id, t.webhook.id);
                    if !busy.borrow_mut().insert(id) {
                        continue;
                    }
                    let (db, client, busy) = (db.clone(), client.clone(), busy.clone());
                    actix_web::rt::spawn(async move {
                        serve_webhook(&db, &client, &config, customer, id).await;
                        busy.borrow_mut().remove(&id);
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "webhook worker: cannot list webhooks"),
        }
        tokio::select! {
            _ = stopped.changed() => break,
            _ = tokio::time::sleep(config.poll_interval) => {}
        }
    }
}

/// Sends what is due for one webhook, one delivery at a time, until nothing is.
async fn serve_webhook(
    db: &Db,
    client: &awc::Client,
    config: &WorkerConfig,
    customer: Uuid,
    id: Uuid,
) {
    for _ in 0..BATCH {
        let (target, delivery, event) = match uc::next_delivery(db, customer, id).await {
            Ok(Some(next)) => next,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(webhook = %id, error = %e, "webhook worker: cannot pick a delivery");
                return;
            }
        };
        let outcome = send(client, config, &target, &event).await;
        let failed = matches!(outcome, Outcome::Failed { .. });
        if let Err(e) = uc::record_outcome(db, delivery, outcome, config.retry).await {
            tracing::warn!(webhook = %id, error = %e, "webhook worker: cannot record a delivery");
            return;
        }
        if failed {
            // A retry waits for its time; the next poll picks it (or a due replay) up.
            return;
        }
    }
}

async fn send(
    client: &awc::Client,
    config: &WorkerConfig,
    target: &Target,
    event: &Event,
) -> Outcome {
    let failed = |error: String| Outcome::Failed {
        status: None,
        error,
    };
    // Checked again at every attempt: the name may resolve elsewhere by now. The request
    // goes to the address checked here, not to a second lookup.
    let addrs = match uc::resolve_target(&target.webhook.url, config.policy).await {
        Ok(a) => a,
        Err(e) => return failed(format!("target refused: {e}")),
    };
    let body = match serde_json::to_vec(&uc::payload(event)) {
        Ok(b) => b,
        Err(e) => return failed(format!("cannot encode the event: {e}")),
    };
    let msg_id = event.id.to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match uc::sign(&target.secret, &msg_id, timestamp, &body) {
        Ok(s) => s,
        Err(_) => return failed("the webhook's secret is unusable".into()),
    };
    let request = client
        .post(&target.webhook.url)
        .address(addrs[0])
        .insert_header(("content-type", "application/json"))
        .insert_header((
            "user-agent",
            concat!("clientele-webhooks/", env!("CARGO_PKG_VERSION")),
        ))
        .insert_header(("webhook-id", msg_id))
        .insert_header(("webhook-timestamp", timestamp.to_string()))
        .insert_header(("webhook-signature", signature));
    match request.send_body(body).await {
        Ok(mut res) => {
            let status = res.status().as_u16();
            // Read (a bounded part of) the answer so the connection can be reused.
            let _ = res.body().limit(64 * 1024).await;
            if (200..300).contains(&status) {
                Outcome::Delivered { status }
            } else {
                Outcome::Failed {
                    status: Some(status),
                    error: format!("the receiver answered HTTP {status}"),
                }
            }
        }
        Err(e) => failed(short_error(&e)),
    }
}

fn short_error(e: &awc::error::SendRequestError) -> String {
    use awc::error::SendRequestError as E;
    match e {
        E::Timeout => "timed out".into(),
        E::Connect(c) => format!("cannot connect: {c}"),
        other => format!("request failed: {other}"),
    }
    .chars()
    .take(200)
    .collect()
}
