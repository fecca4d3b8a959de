//! Webhooks over HTTP: a receiver started by the test verifies every signature and
//! sees every event exactly once, in order, across a suspension; retries, failures and
//! replays show in the delivery log; private targets are refused unless allowed.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::{Method, StatusCode};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::support::{spawn_app, spawn_app_with, Resp, TestApp};

/// Generous: the worker polls every 50 ms in tests, but CI machines can be slow.
const DEADLINE: Duration = Duration::from_secs(60);

fn s(v: &Value) -> String {
    v.as_str().expect("string").to_string()
}

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
    answered: u16,
}

#[derive(Default)]
struct Inbox {
    received: Mutex<Vec<Received>>,
    /// Answer 500 to this many requests, then 200.
    fail_next: AtomicU32,
}

struct Receiver {
    url: String,
    inbox: Arc<Inbox>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, inbox: web::Data<Inbox>) -> HttpResponse {
    let h = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let fail = inbox
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let answered = if fail { 500 } else { 200 };
    inbox.received.lock().unwrap().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        body: body.to_vec(),
        answered,
    });
    HttpResponse::build(StatusCode::from_u16(answered).unwrap()).finish()
}

async fn start_receiver() -> Receiver {
    let inbox = Arc::new(Inbox::default());
    let data = web::Data::from(inbox.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hook", web::post().to(receive))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("receiver binds");
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Receiver {
        url: format!("http://{addr}/hook"),
        inbox,
        handle,
    }
}

impl Receiver {
    fn all(&self) -> Vec<Received> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// Event ids of the requests answered 2xx, in arrival order.
    fn delivered(&self) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|r| r.answered == 200)
            .map(|r| r.id)
            .collect()
    }

    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) {
        let start = Instant::now();
        while !done(&self.all()) {
            assert!(
                start.elapsed() < DEADLINE,
                "timed out waiting for {what}; received: {:?}",
                self.all().iter().map(|r| &r.id).collect::<Vec<_>>()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Checks a delivery as a Standard Webhooks receiver would.
#[track_caller]
fn verify(secret: &str, r: &Received) -> Value {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 key");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert!(
        r.signature.split(' ').any(|sig| sig == expected),
        "bad signature on {}: {} (want {expected})",
        r.id,
        r.signature
    );
    let ts: i64 = r.timestamp.parse().expect("numeric timestamp");
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 600);
    let body: Value = serde_json::from_slice(&r.body).expect("JSON body");
    assert_eq!(body["id"], r.id.as_str(), "webhook-id is the event id");
    for field in [
        "type",
        "customer_id",
        "project_id",
        "subject_id",
        "payload",
        "actor",
        "occurred_at",
    ] {
        assert!(body.get(field).is_some(), "{field} missing in {body}");
    }
    body
}

async fn create_webhook(app: &TestApp, token: &str, cid: &str, body: Value) -> Resp {
    app.json_as(
        token,
        Method::POST,
        &format!("/api/v1/customers/{cid}/webhooks"),
        &body,
    )
    .await
}

/// The customer's events from the creation of webhook `wid` on, in feed order, once the
/// feed shows an event containing `last` (on PostgreSQL the feed holds events back
/// while older transactions, of any database of the cluster, are still running).
async fn events_since_creation_of(app: &TestApp, cid: &str, wid: &str, last: &str) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let res = app
            .get(&format!("/api/v1/events?customer_id={cid}&limit=500"))
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        let events = res.body["events"].as_array().unwrap().clone();
        if events.iter().any(|e| e.to_string().contains(last)) {
            let first = events
                .iter()
                .position(|e| e["type"] == "webhook.created" && e["subject_id"] == wid)
                .expect("webhook.created in the feed");
            return events[first..].to_vec();
        }
        assert!(start.elapsed() < DEADLINE, "the feed never showed {last}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn rename(app: &TestApp, token: &str, cid: &str, name: &str) {
    let res = app
        .json_as(
            token,
            Method::PUT,
            &format!("/api/v1/customers/{cid}"),
            &json!({"name": name}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

async fn deliveries(app: &TestApp, token: &str, cid: &str, wid: &str) -> Vec<Value> {
    let res = app
        .get_as(
            token,
            &format!("/api/v1/customers/{cid}/webhooks/{wid}/deliveries?limit=100"),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["deliveries"].as_array().unwrap().clone()
}

/// The delivery log once `done` holds: the worker records an attempt after the
/// receiver has answered it, so a log read right after a delivery can lag behind.
async fn deliveries_when(
    app: &TestApp,
    token: &str,
    (cid, wid): (&str, &str),
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let log = deliveries(app, token, cid, wid).await;
        if done(&log) {
            return log;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "timed out waiting for {what}: {log:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn every_event_arrives_once_in_order_across_a_suspension() {
    let app = spawn_app().await;
    let receiver = start_receiver().await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let cid = s(&acme["customer"]["id"]);
    let owner = s(&acme["access_token"]);

    let res = create_webhook(
        &app,
        &owner,
        &cid,
        json!({"url": receiver.url, "description": "all events"}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let secret = s(&res.body["secret"]);
    let wid = s(&res.body["id"]);

    for i in 1..=3 {
        rename(&app, &owner, &cid, &format!("Acme {i}")).await;
    }
    // webhook.created and three customer.updated.
    receiver
        .wait_for("the events before the suspension", |r| r.len() >= 4)
        .await;

    let res = app
        .post(&format!("/api/v1/customers/{cid}/suspend"), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    // The platform admin still changes the suspended customer: more events.
    for i in 1..=3 {
        rename(&app, &app.admin_token, &cid, &format!("Suspended {i}")).await;
    }
    let res = app
        .json(
            Method::PATCH,
            &format!("/api/v1/customers/{cid}/settings"),
            &json!({"company": {"legal_name": "Acme While Suspended"}}),
            &[],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let before = receiver.all().len();
    // Nothing is delivered while the customer is suspended (the worker polls every
    // 50 ms here: this is many polls).
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.all().len(),
        before,
        "delivered while suspended: {:?}",
        receiver.all()
    );

    let res = app
        .post(&format!("/api/v1/customers/{cid}/activate"), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    rename(&app, &owner, &cid, "Acme again").await;

    let expected: Vec<String> = events_since_creation_of(&app, &cid, &wid, "Acme again")
        .await
        .iter()
        .map(|e| s(&e["id"]))
        .collect();
    assert!(expected.len() >= 10, "{expected:?}");
    receiver
        .wait_for("every event", |r| r.len() >= expected.len())
        .await;
    // A little longer: anything extra (a duplicate) would show up now.
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.delivered(), expected, "exactly once, in order");
    let received = receiver.all();
    assert_eq!(received.len(), expected.len(), "no retries were needed");
    let types: Vec<String> = received
        .iter()
        .map(|r| s(&verify(&secret, r)["type"]))
        .collect();
    assert_eq!(types[0], "webhook.created");
    assert!(types.contains(&"customer.suspended".to_string()));
    assert!(types.contains(&"customer.activated".to_string()));
    let suspended_at = types
        .iter()
        .position(|t| t == "customer.suspended")
        .unwrap();
    assert_eq!(types[suspended_at + 1], "customer.updated");

    // The log: one succeeded delivery per event, newest first.
    let log = deliveries_when(&app, &owner, (&cid, &wid), "every delivery recorded", |l| {
        l.len() == expected.len() && l.iter().all(|d| d["status"] != "pending")
    })
    .await;
    assert_eq!(log[0]["event_id"], expected.last().unwrap().as_str());
    assert!(log
        .iter()
        .all(|d| d["status"] == "succeeded" && d["attempts"] == 1 && d["last_status"] == 200));
}

#[actix_web::test]
async fn failed_attempts_are_retried_logged_and_replayable() {
    let app = spawn_app().await;
    let receiver = start_receiver().await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let cid = s(&acme["customer"]["id"]);
    let owner = s(&acme["access_token"]);
    let res = create_webhook(
        &app,
        &owner,
        &cid,
        json!({"url": receiver.url, "event_types": ["customer.updated"]}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["event_types"], json!(["customer.updated"]));
    let (wid, secret) = (s(&res.body["id"]), s(&res.body["secret"]));

    // Two 500s, then success: three requests for the same event.
    receiver.inbox.fail_next.store(2, Ordering::SeqCst);
    rename(&app, &owner, &cid, "Acme 1").await;
    receiver
        .wait_for("a delivery after two failures", |r| {
            r.iter().any(|x| x.answered == 200)
        })
        .await;
    let all = receiver.all();
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.iter().all(|r| r.id == all[0].id), "retries keep the id");
    for r in &all {
        assert_eq!(verify(&secret, r)["type"], "customer.updated");
    }
    let log = deliveries_when(&app, &owner, (&cid, &wid), "the success recorded", |l| {
        l.iter().any(|d| d["status"] != "pending")
    })
    .await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["last_status"], 200);

    // Always failing: after max_attempts (4 in tests) the delivery is failed and the
    // webhook moves on.
    receiver.inbox.fail_next.store(1000, Ordering::SeqCst);
    rename(&app, &owner, &cid, "Acme 2").await;
    let log = deliveries_when(&app, &owner, (&cid, &wid), "a failed delivery", |l| {
        l.iter().any(|d| d["status"] == "failed")
    })
    .await;
    let failed = log
        .iter()
        .find(|d| d["status"] == "failed")
        .unwrap()
        .clone();
    assert_eq!(failed["attempts"], 4);
    assert_eq!(failed["last_status"], 500);
    assert!(failed["last_error"].as_str().unwrap().contains("500"));
    let failed_event = s(&failed["event_id"]);
    let failed_id = s(&failed["id"]);

    receiver.inbox.fail_next.store(0, Ordering::SeqCst);
    rename(&app, &owner, &cid, "Acme 3").await;
    receiver
        .wait_for("the event after the failed one", |r| {
            r.iter().filter(|x| x.answered == 200).count() == 2
        })
        .await;
    assert!(!receiver.delivered().contains(&failed_event));

    // Replay: sent again, and this time it succeeds.
    let res = app
        .json_as(
            &owner,
            Method::POST,
            &format!("/api/v1/customers/{cid}/webhooks/{wid}/deliveries/{failed_id}/replay"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text);
    assert_eq!(res.body["status"], "pending");
    receiver
        .wait_for("the replayed event", |r| {
            r.iter().any(|x| x.answered == 200 && x.id == failed_event)
        })
        .await;
    for r in receiver.all() {
        verify(&secret, &r);
    }
    let replayed = |l: &[Value]| -> Option<Value> {
        l.iter().find(|d| d["id"] == failed_id.as_str()).cloned()
    };
    let log = deliveries_when(&app, &owner, (&cid, &wid), "the replay recorded", |l| {
        replayed(l).is_some_and(|d| d["status"] != "pending")
    })
    .await;
    let d = replayed(&log).unwrap();
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempts"], 1);
    // The replay is in the audit trail.
    events_since_creation_of(&app, &cid, &wid, "webhook.delivery_replayed").await;
    // Unknown delivery: 404.
    let res = app
        .json_as(
            &owner,
            Method::POST,
            &format!(
                "/api/v1/customers/{cid}/webhooks/{wid}/deliveries/{}/replay",
                uuid::Uuid::now_v7()
            ),
            &json!({}),
        )
        .await;
    res.assert_problem(404);
}

#[actix_web::test]
async fn private_targets_are_refused_unless_allowed() {
    let app = spawn_app_with(&[("CLIENTELE__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "false")]).await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let cid = s(&acme["customer"]["id"]);
    let owner = s(&acme["access_token"]);
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.1/hook",
        "http://192.168.1.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://224.0.0.1/hook",
        "http://255.255.255.255/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let res = create_webhook(&app, &owner, &cid, json!({"url": url})).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), vec!["url"], "{url}: {}", res.text);
    }
    // A public address is accepted (an IP literal: no DNS needed).
    let res = create_webhook(
        &app,
        &owner,
        &cid,
        json!({"url": "https://93.184.215.14/hook"}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let wid = s(&res.body["id"]);
    // ... and cannot be moved to a private one.
    let res = app
        .json_as(
            &owner,
            Method::PATCH,
            &format!("/api/v1/customers/{cid}/webhooks/{wid}"),
            &json!({"url": "http://10.1.1.1/"}),
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), vec!["url"]);
    // Other fields are named too.
    let res = create_webhook(
        &app,
        &owner,
        &cid,
        json!({"url": "https://93.184.215.14/", "event_types": ["Not A Type"]}),
    )
    .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), vec!["event_types"]);
    let res = create_webhook(
        &app,
        &owner,
        &cid,
        json!({"url": "https://93.184.215.14/", "secret": "x"}),
    )
    .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), vec!["secret"], "{}", res.text);
    // A name that resolves inside is refused without telling which address it has.
    let res = create_webhook(&app, &owner, &cid, json!({"url": "http://localhost/hook"})).await;
    res.assert_problem(422);
    assert!(
        !res.text.contains("127.0.0.1") && !res.text.contains("::1"),
        "{}",
        res.text
    );
}

#[actix_web::test]
async fn the_secret_is_shown_once_and_other_tenants_see_nothing() {
    let app = spawn_app().await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let globex = app.signup("Globex", "owner@globex.com").await;
    let cid = s(&acme["customer"]["id"]);
    let owner = s(&acme["access_token"]);
    let stranger = s(&globex["access_token"]);

    let res = create_webhook(
        &app,
        &owner,
        &cid,
        json!({"url": "http://127.0.0.1:9/hook", "enabled": false}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let secret = s(&res.body["secret"]);
    assert!(secret.starts_with("whsec_"));
    let key = STANDARD.decode(&secret["whsec_".len()..]).unwrap();
    assert!(key.len() >= 24);
    let wid = s(&res.body["id"]);
    assert_eq!(res.body["enabled"], false);
    assert_eq!(res.body["event_types"], json!([]));
    let path = format!("/api/v1/customers/{cid}/webhooks/{wid}");
    assert_eq!(res.header("location").as_deref(), Some(path.as_str()));

    // Never again: not in the object, not in the list, not in the events.
    let one = app.get_as(&owner, &path).await;
    assert_eq!(one.status, 200);
    assert!(one.body.get("secret").is_none());
    assert!(!one.text.contains(&secret));
    let etag = one.header("etag").unwrap();
    let list = app
        .get_as(&owner, &format!("/api/v1/customers/{cid}/webhooks"))
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["webhooks"].as_array().unwrap().len(), 1);
    assert!(!list.text.contains(&secret));
    let feed = app
        .get(&format!("/api/v1/events?customer_id={cid}&limit=500"))
        .await;
    assert!(!feed.text.contains(&secret[6..]));

    // Another tenant: 404 everywhere.
    for (m, p) in [
        (Method::GET, path.clone()),
        (Method::PATCH, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::GET, format!("{path}/deliveries")),
        (Method::GET, format!("/api/v1/customers/{cid}/webhooks")),
    ] {
        let res = app.json_as(&stranger, m.clone(), &p, &json!({})).await;
        res.assert_problem(404);
    }
    // The same webhook id under the other tenant's customer: 404 too.
    let gid = s(&globex["customer"]["id"]);
    let res = app
        .get_as(
            &stranger,
            &format!("/api/v1/customers/{gid}/webhooks/{wid}"),
        )
        .await;
    res.assert_problem(404);

    // Changes: If-Match, events, delete.
    let res = app
        .json(
            Method::PATCH,
            &path,
            &json!({"description": "stale"}),
            &[
                ("authorization", &format!("Bearer {owner}")),
                ("if-match", "\"99\""),
            ],
        )
        .await;
    res.assert_problem(412);
    let res = app
        .json(
            Method::PATCH,
            &path,
            &json!({"description": "Orders", "event_types": ["contact.created"]}),
            &[
                ("authorization", &format!("Bearer {owner}")),
                ("if-match", etag.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["description"], "Orders");
    assert_eq!(res.body["version"], 2);
    let res = app.json_as(&owner, Method::DELETE, &path, &json!({})).await;
    assert_eq!(res.status, 204, "{}", res.text);
    app.get_as(&owner, &path).await.assert_problem(404);

    let start = Instant::now();
    loop {
        let feed = app
            .get(&format!("/api/v1/events?customer_id={cid}&limit=500"))
            .await;
        let types: Vec<String> = feed.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["subject_id"] == wid.as_str())
            .map(|e| s(&e["type"]))
            .collect();
        // On PostgreSQL the feed may hold the last events back for a moment.
        if types.len() == 3 || start.elapsed() > DEADLINE {
            assert_eq!(
                types,
                vec!["webhook.created", "webhook.updated", "webhook.deleted"]
            );
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// https targets speak TLS (rustls in the default build): a listener that is not a TLS
/// server sees a ClientHello, and the failed handshake is logged as the attempt's error.
#[actix_web::test]
async fn https_targets_are_reached_over_tls() {
    use std::io::Read;

    let app = spawn_app().await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let cid = s(&acme["customer"]["id"]);
    let owner = s(&acme["access_token"]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let first_bytes = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut buf = [0u8; 5];
        conn.read_exact(&mut buf).unwrap();
        buf
    });
    let res = create_webhook(
        &app,
        &owner,
        &cid,
        json!({"url": format!("https://127.0.0.1:{port}/hook")}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let wid = s(&res.body["id"]);
    let start = Instant::now();
    while !first_bytes.is_finished() {
        assert!(
            start.elapsed() < DEADLINE,
            "no connection to the https target"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let hello = first_bytes.join().unwrap();
    // A TLS record of type handshake (22), version 3.x.
    assert_eq!((hello[0], hello[1]), (22, 3), "{hello:?}");
    let log = deliveries_when(&app, &owner, (&cid, &wid), "an attempt logged", |l| {
        l.first().is_some_and(|d| d["last_error"].is_string())
    })
    .await;
    // The handshake failed (the target speaks no TLS back), and says so.
    assert!(!log[0]["last_error"].as_str().unwrap().is_empty());
    assert!(log[0]["attempts"].as_i64().unwrap_or(0) >= 1, "{log:?}");
}
