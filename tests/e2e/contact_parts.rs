//! What hangs under a contact, over HTTP: addresses with one default per type, notes,
//! interactions, payment tokens (never card numbers) and order statistics.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{spawn_app, Resp, TestApp, ANONYMOUS};

const PASSWORD: &str = "correct horse battery";

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

/// A tenant with a contact: the owner's token, the project and the contact.
struct World {
    app: TestApp,
    owner: String,
    owner_id: String,
    customer: String,
    pid: String,
    contact: String,
}

impl World {
    async fn new() -> World {
        let app = spawn_app().await;
        let acme = app.signup("Acme", "owner@acme.com").await;
        let owner = s(&acme["access_token"]);
        let pid = s(&acme["project"]["id"]);
        let contact = new_contact(&app, &owner, &pid, "jane@example.com").await;
        World {
            owner_id: s(&acme["user"]["id"]),
            customer: s(&acme["customer"]["id"]),
            app,
            owner,
            pid,
            contact,
        }
    }

    /// `/api/v1/projects/{pid}/contacts/{contact}/{rest}`.
    fn url(&self, rest: &str) -> String {
        format!(
            "/api/v1/projects/{}/contacts/{}/{rest}",
            self.pid, self.contact
        )
    }

    fn url_of(&self, contact: &str, rest: &str) -> String {
        format!("/api/v1/projects/{}/contacts/{contact}/{rest}", self.pid)
    }

    async fn get(&self, path: &str) -> Resp {
        self.app.get_as(&self.owner, path).await
    }

    async fn post(&self, path: &str, body: &Value) -> Resp {
        self.app
            .json_as(&self.owner, Method::POST, path, body)
            .await
    }

    /// A request as the owner with extra headers.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let auth = format!("Bearer {}", self.owner);
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        match body {
            Some(b) => self.app.json(method, path, b, &all).await,
            None => self.app.send(method, path, None, Vec::new(), &all).await,
        }
    }

    /// The event types about the contact, oldest first, read from the database so that
    /// no feed delay matters.
    async fn events(&self) -> Vec<(String, Value)> {
        events_of(&self.app, &self.contact).await
    }
}

async fn events_of(app: &TestApp, contact: &str) -> Vec<(String, Value)> {
    let id = Uuid::parse_str(contact).unwrap();
    app.db
        .read(move |conn| clientele_persistence::events::for_subject(conn, id, 1000))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event_type, e.payload))
        .collect()
}

fn types(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(t, _)| t.as_str()).collect()
}

async fn new_contact(app: &TestApp, token: &str, pid: &str, email: &str) -> String {
    let res = app
        .json_as(
            token,
            Method::POST,
            &format!("/api/v1/projects/{pid}/contacts"),
            &json!({"email": email, "first_name": "Jane", "last_name": "Doe"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    s(&res.body["id"])
}

fn shipping(line1: &str) -> Value {
    json!({
        "address_type": "shipping",
        "address_line1": line1,
        "city": "San Francisco",
        "state": "CA",
        "postal_code": "94102",
        "country": "us",
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// Every address of the contact, by id: (address_type, is_default, version).
async fn address_map(w: &World) -> Vec<(String, String, bool, i64)> {
    let res = w.get(&w.url("addresses")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                s(&a["id"]),
                s(&a["address_type"]),
                a["is_default"].as_bool().unwrap(),
                a["version"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn default_of(map: &[(String, String, bool, i64)], kind: &str) -> Vec<String> {
    map.iter()
        .filter(|(_, t, d, _)| t == kind && *d)
        .map(|(id, ..)| id.clone())
        .collect()
}

#[actix_web::test]
async fn addresses_keep_one_default_per_type() {
    let w = World::new().await;
    let url = w.url("addresses");

    // The first address of a type becomes its default.
    let a = w.post(&url, &shipping("1 First St")).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["is_default"], true);
    assert_eq!(a.body["country"], "US");
    assert_eq!(a.body["contact_id"], w.contact.as_str());
    assert_eq!(a.header("etag").as_deref(), Some("\"1\""));
    let a_id = s(&a.body["id"]);
    assert_eq!(a.header("location"), Some(format!("{url}/{a_id}")));

    let billing = w
        .post(
            &url,
            &json!({
                "address_type": "billing", "address_line1": "10 Downing St", "city": "London",
                "postal_code": "sw1a2aa", "country": "GB",
            }),
        )
        .await;
    assert_eq!(billing.status, 201, "{}", billing.text);
    assert_eq!(billing.body["is_default"], true);
    assert_eq!(billing.body["postal_code"], "SW1A 2AA");
    let b_id = s(&billing.body["id"]);

    // A second shipping default unsets the first; billing is untouched.
    let c = w
        .post(
            &url,
            &with(shipping("2 Second St"), json!({"is_default": true})),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.text);
    let c_id = s(&c.body["id"]);
    let map = address_map(&w).await;
    assert_eq!(default_of(&map, "shipping"), [c_id.as_str()]);
    assert_eq!(default_of(&map, "billing"), [b_id.as_str()]);
    let version = |id: &str| map.iter().find(|m| m.0 == id).unwrap().3;
    assert_eq!(
        version(&a_id),
        2,
        "the displaced default moved to version 2"
    );
    assert_eq!(version(&b_id), 1);

    // Not the first of its type, and not asked: not the default.
    let d = w.post(&url, &shipping("3 Third St")).await;
    assert_eq!(d.status, 201, "{}", d.text);
    assert_eq!(d.body["is_default"], false);
    let d_id = s(&d.body["id"]);

    // PATCH makes the first one the default again; C stops being it.
    let res = w
        .send(
            Method::PATCH,
            &format!("{url}/{a_id}"),
            Some(&json!({"is_default": true, "note": "Ring twice"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["is_default"], true);
    assert_eq!(res.body["note"], "Ring twice");
    assert_eq!(res.header("etag").as_deref(), Some("\"3\""));
    let map = address_map(&w).await;
    assert_eq!(default_of(&map, "shipping"), [a_id.as_str()]);
    assert_eq!(default_of(&map, "billing"), [b_id.as_str()]);

    // A shipping address moved to billing as its default displaces the billing one.
    let res = w
        .send(
            Method::PATCH,
            &format!("{url}/{d_id}"),
            Some(&json!({"address_type": "billing", "is_default": true})),
            &[],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let map = address_map(&w).await;
    assert_eq!(default_of(&map, "billing"), [d_id.as_str()]);
    assert_eq!(default_of(&map, "shipping"), [a_id.as_str()]);

    // Stale If-Match: 412 with the current ETag, and nothing changes.
    let res = w
        .send(
            Method::PATCH,
            &format!("{url}/{a_id}"),
            Some(&json!({"city": "Oakland"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    res.assert_problem(412);
    assert_eq!(res.header("etag").as_deref(), Some("\"3\""));
    let res = w
        .send(
            Method::DELETE,
            &format!("{url}/{a_id}"),
            None,
            &[("if-match", "\"1\"")],
        )
        .await;
    res.assert_problem(412);
    assert_eq!(address_map(&w).await.len(), 4);

    // A PATCH that changes nothing keeps the version.
    let res = w
        .send(
            Method::PATCH,
            &format!("{url}/{a_id}"),
            Some(&json!({"city": "San Francisco"})),
            &[],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["version"], 3);

    // Removing the default leaves the type without one.
    let res = w
        .send(
            Method::DELETE,
            &format!("{url}/{a_id}"),
            None,
            &[("if-match", "\"3\"")],
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    let map = address_map(&w).await;
    assert_eq!(map.len(), 3);
    assert!(default_of(&map, "shipping").is_empty());
    w.send(Method::DELETE, &format!("{url}/{a_id}"), None, &[])
        .await
        .assert_problem(404);
    w.send(
        Method::PATCH,
        &format!("{url}/{a_id}"),
        Some(&json!({})),
        &[],
    )
    .await
    .assert_problem(404);

    let events = w.events().await;
    let t = types(&events);
    assert_eq!(
        t.iter().filter(|t| **t == "contact.address_added").count(),
        4
    );
    assert_eq!(
        t.iter()
            .filter(|t| **t == "contact.address_updated")
            .count(),
        2
    );
    assert_eq!(
        t.iter()
            .filter(|t| **t == "contact.address_removed")
            .count(),
        1
    );
    let third = events
        .iter()
        .filter(|(t, _)| t == "contact.address_added")
        .nth(2)
        .unwrap();
    assert_eq!(third.1["displaced_defaults"], json!([a_id]));
    assert_eq!(third.1["address"]["id"], c_id.as_str());
    assert_eq!(third.1["contact"]["id"], w.contact.as_str());
}

#[actix_web::test]
async fn bad_addresses_name_their_fields_and_store_nothing() {
    let w = World::new().await;
    let url = w.url("addresses");
    let cases: Vec<(Value, Vec<&str>)> = vec![
        // Missing required fields, every one named.
        (
            json!({}),
            vec!["address_type", "address_line1", "city", "country"],
        ),
        (
            json!({"address_type": "billing", "country": "DE", "postal_code": "10115"}),
            vec!["address_line1", "city"],
        ),
        (
            with(shipping("1 Main St"), json!({"city": "  "})),
            vec!["city"],
        ),
        // Unknown address type.
        (
            with(shipping("1 Main St"), json!({"address_type": "home"})),
            vec!["address_type"],
        ),
        // Not an ISO 3166-1 alpha-2 code.
        (
            with(shipping("1 Main St"), json!({"country": "XX"})),
            vec!["country"],
        ),
        (
            with(shipping("1 Main St"), json!({"country": "USA"})),
            vec!["country"],
        ),
        // Postal codes that do not match the country's format.
        (
            with(shipping("1 Main St"), json!({"postal_code": "1234"})),
            vec!["postal_code"],
        ),
        (
            json!({"address_type": "billing", "address_line1": "1 High St", "city": "London",
                   "postal_code": "XYZ", "country": "GB"}),
            vec!["postal_code"],
        ),
        // The US needs a state and a postal code.
        (
            with(
                shipping("1 Main St"),
                json!({"state": null, "postal_code": null}),
            ),
            vec!["state", "postal_code"],
        ),
        // Shapes: unknown fields, wrong types.
        (
            with(shipping("1 Main St"), json!({"zip": "94102"})),
            vec!["zip"],
        ),
        (
            with(shipping("1 Main St"), json!({"is_default": "yes"})),
            vec!["is_default"],
        ),
        (
            with(shipping("1 Main St"), json!({"note": "n".repeat(501)})),
            vec!["note"],
        ),
    ];
    for (body, fields) in &cases {
        let res = w.post(&url, body).await;
        res.assert_problem(422);
        assert_eq!(&res.error_fields(), fields, "{body}: {}", res.text);
    }

    // The postal formats of the countries we check, one good and one bad each.
    let formats = [
        ("US", "94102-1234", "9410", Some("CA")),
        ("CA", "K1A 0B1", "K1A 0B", Some("ON")),
        ("GB", "EC1A 1BB", "EC1A", None),
        ("DE", "10115", "1011", None),
        ("FR", "75008", "7500A", None),
        ("NL", "1012 AB", "1012", None),
        ("JP", "100-0001", "100-001", None),
        ("AU", "2000", "200", Some("NSW")),
        ("BR", "01310-100", "01310", Some("SP")),
        ("IN", "110001", "011000", Some("DL")),
    ];
    for (country, good, bad, state) in formats {
        let body = |postal: &str| {
            json!({"address_type": "billing", "address_line1": "1 Main St", "city": "City",
                   "state": state, "postal_code": postal, "country": country,
                   "is_default": false})
        };
        let res = w.post(&url, &body(bad)).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), ["postal_code"], "{country} {bad}");
        let res = w.post(&url, &body(good)).await;
        assert_eq!(res.status, 201, "{country} {good}: {}", res.text);
    }
    assert_eq!(address_map(&w).await.len(), formats.len());

    // A PATCH is checked as a whole: a new country re-checks the postal code.
    let first = address_map(&w).await[0].0.clone();
    let res = w
        .send(
            Method::PATCH,
            &format!("{url}/{first}"),
            Some(&json!({"country": "GB", "state": null})),
            &[],
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["postal_code"]);
    let res = w
        .send(
            Method::PATCH,
            &format!("{url}/{first}"),
            Some(&json!({"address_line1": null, "is_default": null, "bogus": 1})),
            &[],
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["bogus"]);
    let res = w
        .send(
            Method::PATCH,
            &format!("{url}/{first}"),
            Some(&json!({"address_line1": null, "is_default": null})),
            &[],
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["is_default", "address_line1"]);
    // Malformed JSON and bad ids are 400s naming what is wrong.
    let auth = format!("Bearer {}", w.owner);
    let res = w
        .app
        .send(
            Method::POST,
            &url,
            Some("application/json"),
            b"{\"address_type\": ".to_vec(),
            &[("authorization", auth.as_str())],
        )
        .await;
    res.assert_problem(400);
    let res = w
        .send(
            Method::PATCH,
            &format!("{url}/not-a-uuid"),
            Some(&json!({})),
            &[],
        )
        .await;
    res.assert_problem(400);
    assert_eq!(res.error_fields(), ["address_id"]);
    assert_eq!(address_map(&w).await.len(), formats.len());
    let added = w
        .events()
        .await
        .iter()
        .filter(|(t, _)| t == "contact.address_added")
        .count();
    assert_eq!(added, formats.len());
}

#[actix_web::test]
async fn notes_have_an_author_and_guard_their_versions() {
    let w = World::new().await;
    let url = w.url("notes");
    let mut ids = Vec::new();
    for text in [
        "First call went well",
        "Customer requested expedited shipping\nby Friday",
        "Third",
    ] {
        let res = w.post(&url, &json!({"note": format!("  {text}  ")})).await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(res.body["note"], text);
        assert_eq!(res.body["author"], format!("user:{}", w.owner_id));
        assert_eq!(res.body["version"], 1);
        assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
        assert_eq!(res.body["created_at"], res.body["updated_at"]);
        ids.push(s(&res.body["id"]));
    }
    for bad in [
        json!({}),
        json!({"note": "   "}),
        json!({"note": "n".repeat(10_001)}),
    ] {
        let res = w.post(&url, &bad).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), ["note"], "{}", res.text);
    }
    w.post(&url, &json!({"note": "x", "pinned": true}))
        .await
        .assert_problem(422);

    // Newest first, in pages.
    let res = w.get(&format!("{url}?limit=2")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let page: Vec<String> = res.body["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| s(&n["id"]))
        .collect();
    assert_eq!(page, [ids[2].clone(), ids[1].clone()]);
    let cursor = s(&res.body["next_cursor"]);
    let res = w.get(&format!("{url}?limit=2&cursor={cursor}")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let page: Vec<String> = res.body["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| s(&n["id"]))
        .collect();
    assert_eq!(page, [ids[0].clone()]);
    assert!(res.body["next_cursor"].is_null());

    // Edit with the current ETag; a stale one is 412.
    let note = format!("{url}/{}", ids[0]);
    let res = w
        .send(
            Method::PATCH,
            &note,
            Some(&json!({"note": "Edited"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["note"], "Edited");
    assert_eq!(res.body["version"], 2);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(res.body["author"], format!("user:{}", w.owner_id));
    let res = w
        .send(
            Method::PATCH,
            &note,
            Some(&json!({"note": "Lost update"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    res.assert_problem(412);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    w.send(Method::PATCH, &note, Some(&json!({"note": ""})), &[])
        .await
        .assert_problem(422);
    w.send(Method::DELETE, &note, None, &[("if-match", "\"1\"")])
        .await
        .assert_problem(412);
    let res = w
        .send(Method::DELETE, &note, None, &[("if-match", "\"2\"")])
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    w.send(Method::PATCH, &note, Some(&json!({"note": "gone"})), &[])
        .await
        .assert_problem(404);
    let res = w.get(&url).await;
    assert_eq!(res.body["notes"].as_array().unwrap().len(), 2);

    let events = w.events().await;
    let t = types(&events);
    assert_eq!(t.iter().filter(|t| **t == "contact.note_added").count(), 3);
    assert_eq!(
        t.iter().filter(|t| **t == "contact.note_updated").count(),
        1
    );
    assert_eq!(
        t.iter().filter(|t| **t == "contact.note_removed").count(),
        1
    );
}

#[actix_web::test]
async fn interactions_list_newest_first_in_pages() {
    let w = World::new().await;
    let url = w.url("interactions");
    // Recorded out of order; the list follows occurred_at.
    let times = [
        "2026-01-03T10:00:00Z",
        "2026-01-01T10:00:00Z",
        "2026-01-05T10:00:00Z",
        "2026-01-02T10:00:00Z",
        "2026-01-04T10:00:00Z",
    ];
    let channels = ["email", "call", "meeting", "sms", "chat"];
    for (i, t) in times.iter().enumerate() {
        let direction = if i % 2 == 0 { "inbound" } else { "outbound" };
        let body = json!({
            "channel": channels[i], "direction": direction, "subject": format!("Touch {i}"),
            "body": "Talked.\nFollow up.", "occurred_at": t,
        });
        let res = w.post(&url, &body).await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(res.body["author"], format!("user:{}", w.owner_id));
        assert_eq!(res.body["occurred_at"], *t);
    }
    // Without occurred_at it happened now: the newest.
    let now = w
        .post(&url, &json!({"channel": "call", "direction": "outbound"}))
        .await;
    assert_eq!(now.status, 201, "{}", now.text);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("{url}?limit=2&cursor={c}"),
            None => format!("{url}?limit=2"),
        };
        let res = w.get(&path).await;
        assert_eq!(res.status, 200, "{}", res.text);
        pages += 1;
        for i in res.body["interactions"].as_array().unwrap() {
            seen.push(s(&i["occurred_at"]));
        }
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0], s(&now.body["occurred_at"]));
    assert_eq!(
        &seen[1..],
        [
            "2026-01-05T10:00:00Z",
            "2026-01-04T10:00:00Z",
            "2026-01-03T10:00:00Z",
            "2026-01-02T10:00:00Z",
            "2026-01-01T10:00:00Z",
        ]
    );
    let res = w.get(&url).await;
    assert_eq!(res.body["interactions"].as_array().unwrap().len(), 6);
    assert!(res.body["next_cursor"].is_null());

    // Bad input.
    for (body, fields) in [
        (json!({}), vec!["channel", "direction"]),
        (
            json!({"channel": "fax", "direction": "sideways"}),
            vec!["channel", "direction"],
        ),
        (
            json!({"channel": "call", "direction": "inbound", "occurred_at": "2999-01-01T00:00:00Z"}),
            vec!["occurred_at"],
        ),
        (
            json!({"channel": "call", "direction": "inbound", "occurred_at": "yesterday"}),
            vec!["occurred_at"],
        ),
        (
            json!({"channel": "call", "direction": "inbound", "subject": "two\nlines"}),
            vec!["subject"],
        ),
    ] {
        let res = w.post(&url, &body).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), fields, "{body}: {}", res.text);
    }
    for query in ["limit=0", "limit=101", "limit=x", "colour=red"] {
        w.get(&format!("{url}?{query}")).await.assert_problem(422);
    }
    let res = w.get(&format!("{url}?cursor=garbage!")).await;
    res.assert_problem(400);
    assert_eq!(res.error_fields(), ["cursor"]);
    // A cursor of another list does not page this one.
    w.post(&w.url("notes"), &json!({"note": "a"})).await;
    w.post(&w.url("notes"), &json!({"note": "b"})).await;
    let notes = w.get(&format!("{}?limit=1", w.url("notes"))).await;
    let foreign = s(&notes.body["next_cursor"]);
    let res = w.get(&format!("{url}?cursor={foreign}")).await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["cursor"]);
    let recorded = types(&w.events().await)
        .iter()
        .filter(|t| **t == "contact.interaction_recorded")
        .count();
    assert_eq!(recorded, 6);
}

// ---------------------------------------------------------------------------------
// Payment methods
// ---------------------------------------------------------------------------------

/// What the server logs while this test binary runs: this module installs the
/// process-wide log subscriber (nothing else in the binary does); `None` if it could not.
fn captured_log() -> Option<Arc<Mutex<Vec<u8>>>> {
    static LOG: OnceLock<Option<Arc<Mutex<Vec<u8>>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,clientele=trace,clientele_api=trace,clientele_crm=trace,\
                 clientele_persistence=trace,clientele_tenancy=trace,clientele_domain=trace,\
                 actix_web=debug,actix_http=debug",
            ))
            .with_ansi(false)
            .with_writer(move || SharedWriter(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .ok()
            .map(|()| buffer)
    })
    .clone()
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn card() -> Value {
    json!({
        "provider": "stripe",
        "token": "pm_1NqYzL2eZvKYlo2C",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2099,
    })
}

#[actix_web::test]
async fn payment_methods_keep_tokens_and_refuse_card_numbers_everywhere() {
    let log = captured_log();
    let w = World::new().await;
    let url = w.url("payment-methods");

    // Card numbers wherever they hide: 422 naming the field, never echoed.
    let pans = [
        "4111111111111111",
        "5555 5555 5555 4444",
        "3782-822463-10005",
        "6011111111111117",
        "4012888888881881",
        "3530111333300000",
    ];
    let cases: Vec<(Value, &str)> = vec![
        (with(card(), json!({"token": pans[0]})), "token"),
        (
            with(card(), json!({"token": format!("tok_{}", pans[3])})),
            "token",
        ),
        (
            with(card(), json!({"brand": format!("visa {}", pans[1])})),
            "brand",
        ),
        (with(card(), json!({"card_number": pans[2]})), "card_number"),
        (
            with(
                card(),
                json!({"metadata": {"notes": [1, format!("pay with {}", pans[4])]}}),
            ),
            "metadata.notes[1]",
        ),
        // A number where a number goes, and a string where a number goes: refused
        // before the type is checked, so no "invalid type" message can quote it.
        (
            with(card(), json!({"exp_year": 3530111333300000_u64})),
            "exp_year",
        ),
        (with(card(), json!({"exp_month": pans[5]})), "exp_month"),
    ];
    for (body, field) in &cases {
        let res = w.post(&url, body).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), [*field], "{}", res.text);
        for pan in pans {
            let digits: String = pan.chars().filter(char::is_ascii_digit).collect();
            assert!(
                !res.text.contains(pan) && !res.text.contains(&digits),
                "{}",
                res.text
            );
        }
    }
    // With an Idempotency-Key the key is not recorded either: a clean body may use it.
    let res = w
        .send(
            Method::POST,
            &url,
            Some(&with(card(), json!({"token": pans[0]}))),
            &[("idempotency-key", "k-card")],
        )
        .await;
    res.assert_problem(422);
    let res = w
        .send(
            Method::POST,
            &url,
            Some(&card()),
            &[("idempotency-key", "k-card")],
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert!(res.header("idempotent-replayed").is_none());

    // The token is kept and shown (charges need it); the first method is the default.
    assert_eq!(res.body["token"], "pm_1NqYzL2eZvKYlo2C");
    assert_eq!(res.body["is_default"], true);
    assert_eq!(res.body["last4"], "4242");
    assert_eq!(res.body["exp_month"], 12);
    let first = s(&res.body["id"]);

    // Another provider token: not the default unless asked.
    let second = w
        .post(
            &url,
            &json!({"provider": "adyen", "token": "ba_1Nq0AdyenRef"}),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.body["is_default"], false);
    assert!(second.body["exp_month"].is_null());
    let third = w
        .post(
            &url,
            &with(card(), json!({"token": "pm_third", "is_default": true})),
        )
        .await;
    assert_eq!(third.status, 201, "{}", third.text);
    let third_id = s(&third.body["id"]);
    let list = w.get(&url).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let defaults: Vec<String> = list.body["payment_methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["is_default"] == true)
        .map(|p| s(&p["id"]))
        .collect();
    assert_eq!(defaults, [third_id.as_str()]);
    assert_eq!(list.body["payment_methods"].as_array().unwrap().len(), 3);

    // The same provider and token again: 409.
    let res = w.post(&url, &card()).await;
    res.assert_problem(409);
    assert_eq!(res.body["code"], "payment_method_exists");
    // Field rules of the domain.
    for (body, fields) in [
        (json!({}), vec!["provider", "token"]),
        (with(card(), json!({"last4": "42"})), vec!["last4"]),
        (with(card(), json!({"exp_month": 13})), vec!["exp_month"]),
        (with(card(), json!({"exp_year": null})), vec!["exp_year"]),
        (with(card(), json!({"token": "two words"})), vec!["token"]),
        (with(card(), json!({"cvv": "123"})), vec!["cvv"]),
    ] {
        let res = w.post(&url, &body).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), fields, "{body}: {}", res.text);
    }

    // Remove one; removing it again is 404.
    let res = w
        .send(Method::DELETE, &format!("{url}/{first}"), None, &[])
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    w.send(Method::DELETE, &format!("{url}/{first}"), None, &[])
        .await
        .assert_problem(404);
    assert_eq!(
        w.get(&url).await.body["payment_methods"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Nothing with a card number was stored, and events never carry tokens.
    let events = w.events().await;
    let t = types(&events);
    assert_eq!(
        t.iter()
            .filter(|t| **t == "contact.payment_method_added")
            .count(),
        3
    );
    assert_eq!(
        t.iter()
            .filter(|t| **t == "contact.payment_method_removed")
            .count(),
        1
    );
    let all_events =
        serde_json::to_string(&events.iter().map(|e| &e.1).collect::<Vec<_>>()).unwrap();
    assert!(!all_events.contains("pm_1NqYzL2eZvKYlo2C") && !all_events.contains("pm_third"));
    let added = &events
        .iter()
        .find(|e| e.0 == "contact.payment_method_added")
        .unwrap()
        .1;
    assert_eq!(added["payment_method"]["brand"], "visa");
    assert_eq!(added["payment_method"]["last4"], "4242");
    assert_eq!(added["payment_method"]["provider"], "stripe");
    // The tenant's feed over HTTP, all of it.
    let mut feed = String::new();
    let mut after = String::new();
    loop {
        let path = if after.is_empty() {
            "/api/v1/events?limit=100".to_string()
        } else {
            format!("/api/v1/events?limit=100&after={after}")
        };
        let res = w.get(&path).await;
        assert_eq!(res.status, 200, "{}", res.text);
        feed.push_str(&res.text);
        if res.body["events"].as_array().unwrap().is_empty() {
            break;
        }
        after = s(&res.body["next_cursor"]);
    }
    let stored = {
        let contact = Uuid::parse_str(&w.contact).unwrap();
        let customer = Uuid::parse_str(&w.customer).unwrap();
        w.app
            .db
            .read(move |conn| {
                clientele_persistence::contact_parts::payment_methods(conn, customer, contact)
            })
            .await
            .unwrap()
    };
    let stored = format!("{stored:?}");
    for pan in pans {
        let digits: String = pan.chars().filter(char::is_ascii_digit).collect();
        for haystack in [&all_events, &feed, &stored] {
            assert!(!haystack.contains(pan) && !haystack.contains(&digits));
        }
    }
    let log = log.expect("this module installs the only log subscriber of the test binary");
    let text = String::from_utf8_lossy(&log.lock().unwrap()).to_string();
    // The log does record these requests; it never holds their card numbers.
    assert!(text.contains("payment-methods"), "nothing was logged");
    for pan in pans {
        let digits: String = pan.chars().filter(char::is_ascii_digit).collect();
        assert!(
            !text.contains(pan) && !text.contains(&digits),
            "a card number was logged"
        );
    }
}

// ---------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------

fn order(id: &str, amount: i64, currency: &str, at: &str) -> Value {
    json!({"order_id": id, "amount": amount, "currency": currency, "ordered_at": at})
}

#[actix_web::test]
async fn orders_add_up_into_the_contact_statistics() {
    let w = World::new().await;
    let url = w.url("orders");
    // Out of order: the second order is the latest, the third the earliest.
    let res = w
        .post(&url, &order("o-1", 10_000, "eur", "2026-02-01T00:00:00Z"))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["recorded"], true);
    assert_eq!(res.body["order"]["currency"], "EUR");
    assert_eq!(res.body["stats"]["total_orders"], 1);
    assert_eq!(res.body["stats"]["contact_version"], 2);
    w.post(&url, &order("o-2", 2_501, "EUR", "2026-03-01T00:00:00Z"))
        .await;
    let res = w
        .post(&url, &order("o-3", 0, "EUR", "2026-01-01T00:00:00Z"))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let stats = &res.body["stats"];
    assert_eq!(stats["total_orders"], 3);
    assert_eq!(stats["total_spent"], 12_501);
    assert_eq!(
        stats["average_order_value"], 4_167,
        "12,501 / 3 rounded down"
    );
    assert_eq!(stats["lifetime_value"], 12_501);
    assert_eq!(stats["currency"], "EUR");
    assert_eq!(stats["first_order_at"], "2026-01-01T00:00:00Z");
    assert_eq!(stats["last_order_at"], "2026-03-01T00:00:00Z");

    // The contact shows the same numbers.
    let contact = w
        .get(&format!(
            "/api/v1/projects/{}/contacts/{}",
            w.pid, w.contact
        ))
        .await;
    assert_eq!(contact.status, 200, "{}", contact.text);
    for key in [
        "total_orders",
        "total_spent",
        "average_order_value",
        "lifetime_value",
        "currency",
        "first_order_at",
        "last_order_at",
    ] {
        assert_eq!(contact.body[key], stats[key], "{key}");
    }
    assert_eq!(contact.header("etag").as_deref(), Some("\"4\""));

    // The same order again changes nothing: 200, same shape, same numbers, no event.
    let before = w.events().await.len();
    let res = w
        .post(&url, &order("o-2", 2_501, "EUR", "2026-03-01T00:00:00Z"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["recorded"], false);
    assert_eq!(res.body["order"]["order_id"], "o-2");
    assert_eq!(res.body["stats"]["total_orders"], 3);
    assert_eq!(res.body["stats"]["contact_version"], 4);
    // A retry that leaves ordered_at out is the same order too.
    let res = w
        .post(
            &url,
            &json!({"order_id": "o-2", "amount": 2_501, "currency": "eur"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(w.events().await.len(), before);

    // The same order_id with other details, or for another contact: 409.
    let res = w
        .post(&url, &order("o-2", 2_502, "EUR", "2026-03-01T00:00:00Z"))
        .await;
    res.assert_problem(409);
    assert_eq!(res.body["code"], "order_exists");
    assert_eq!(res.error_fields(), ["order_id"]);
    w.post(&url, &order("o-2", 2_501, "EUR", "2026-03-02T00:00:00Z"))
        .await
        .assert_problem(409);
    let other = new_contact(&w.app, &w.owner, &w.pid, "other@example.com").await;
    let res = w
        .post(
            &w.url_of(&other, "orders"),
            &order("o-2", 2_501, "EUR", "2026-03-01T00:00:00Z"),
        )
        .await;
    res.assert_problem(409);
    assert_eq!(res.body["code"], "order_exists");

    // Another currency than the first order's: 422 on currency, nothing changes.
    let res = w
        .post(&url, &order("o-4", 100, "USD", "2026-03-05T00:00:00Z"))
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["currency"]);
    // The other contact has its own currency.
    let res = w
        .post(
            &w.url_of(&other, "orders"),
            &order("o-4", 100, "USD", "2026-03-05T00:00:00Z"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["stats"]["currency"], "USD");

    // Bad orders.
    for (body, fields) in [
        (json!({}), vec!["order_id", "amount", "currency"]),
        (
            order("o-9", -1, "EUR", "2026-01-01T00:00:00Z"),
            vec!["amount"],
        ),
        (
            order("o-9", 1, "EURO", "2026-01-01T00:00:00Z"),
            vec!["currency"],
        ),
        (
            order("o-9", 1, "EUR", "2999-01-01T00:00:00Z"),
            vec!["ordered_at"],
        ),
        (
            json!({"order_id": "o-9", "amount": 1.5, "currency": "EUR"}),
            vec!["amount"],
        ),
        (
            json!({"order_id": "o-9", "amount": 1, "currency": "EUR", "total": 1}),
            vec!["total"],
        ),
        (
            order("o-9", i64::MAX, "EUR", "2026-01-01T00:00:00Z"),
            vec!["amount"],
        ),
    ] {
        let res = w.post(&url, &body).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), fields, "{body}: {}", res.text);
    }

    // The list: newest first by ordered_at, in pages, with the statistics.
    let res = w.get(&format!("{url}?limit=2")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let ids = |r: &Resp| -> Vec<String> {
        r.body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| s(&o["order_id"]))
            .collect()
    };
    assert_eq!(ids(&res), ["o-2", "o-1"]);
    assert_eq!(res.body["stats"]["total_spent"], 12_501);
    let next = s(&res.body["next_cursor"]);
    let res = w.get(&format!("{url}?limit=2&cursor={next}")).await;
    assert_eq!(ids(&res), ["o-3"]);
    assert!(res.body["next_cursor"].is_null());

    let events = w.events().await;
    let recorded: Vec<&Value> = events
        .iter()
        .filter(|(t, _)| t == "contact.order_recorded")
        .map(|(_, p)| p)
        .collect();
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[2]["order"]["order_id"], "o-3");
    assert_eq!(recorded[2]["stats"]["total_spent"], 12_501);
}

#[actix_web::test]
async fn idempotency_keys_replay_creates_and_refuse_other_bodies() {
    let w = World::new().await;
    let cases = [
        ("addresses", shipping("1 Main St"), shipping("2 Main St")),
        ("notes", json!({"note": "Hello"}), json!({"note": "Bye"})),
        (
            "interactions",
            json!({"channel": "call", "direction": "inbound", "occurred_at": "2026-01-01T00:00:00Z"}),
            json!({"channel": "sms", "direction": "inbound", "occurred_at": "2026-01-01T00:00:00Z"}),
        ),
        (
            "payment-methods",
            card(),
            with(card(), json!({"token": "pm_other"})),
        ),
        (
            "orders",
            order("o-1", 500, "EUR", "2026-01-01T00:00:00Z"),
            order("o-2", 500, "EUR", "2026-01-01T00:00:00Z"),
        ),
    ];
    for (part, body, other) in &cases {
        let url = w.url(part);
        let key = format!("key-{part}");
        let headers = [("idempotency-key", key.as_str())];
        let first = w.send(Method::POST, &url, Some(body), &headers).await;
        assert_eq!(first.status, 201, "{part}: {}", first.text);
        assert!(first.header("idempotent-replayed").is_none());
        let again = w.send(Method::POST, &url, Some(body), &headers).await;
        assert_eq!(again.status, 201, "{part}: {}", again.text);
        assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(again.body, first.body, "{part}");
        let res = w.send(Method::POST, &url, Some(other), &headers).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), ["Idempotency-Key"], "{part}");
        // The same key on another route is another request too.
        w.send(
            Method::POST,
            &w.url("notes"),
            Some(&json!({"note": "x"})),
            &headers,
        )
        .await
        .assert_problem(422);
    }
    // One of each was created.
    let count = |r: Resp, key: &str| r.body[key].as_array().unwrap().len();
    assert_eq!(count(w.get(&w.url("addresses")).await, "addresses"), 1);
    assert_eq!(count(w.get(&w.url("notes")).await, "notes"), 1);
    assert_eq!(
        count(w.get(&w.url("interactions")).await, "interactions"),
        1
    );
    assert_eq!(
        count(w.get(&w.url("payment-methods")).await, "payment_methods"),
        1
    );
    let orders = w.get(&w.url("orders")).await;
    assert_eq!(orders.body["orders"].as_array().unwrap().len(), 1);
    assert_eq!(orders.body["stats"]["total_orders"], 1);
    let res = w
        .send(
            Method::POST,
            &w.url("notes"),
            Some(&json!({"note": "x"})),
            &[("idempotency-key", &"k".repeat(256))],
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["Idempotency-Key"]);
}

#[actix_web::test]
async fn other_tenants_viewers_and_suspended_tenants() {
    let w = World::new().await;
    // Something of each kind to find.
    let address = s(&w
        .post(&w.url("addresses"), &shipping("1 Main St"))
        .await
        .body["id"]);
    let note = s(&w.post(&w.url("notes"), &json!({"note": "n"})).await.body["id"]);
    let method = s(&w.post(&w.url("payment-methods"), &card()).await.body["id"]);
    w.post(
        &w.url("interactions"),
        &json!({"channel": "chat", "direction": "inbound"}),
    )
    .await;
    w.post(
        &w.url("orders"),
        &order("o-1", 1, "EUR", "2026-01-01T00:00:00Z"),
    )
    .await;
    let reads = [
        "addresses",
        "notes",
        "interactions",
        "payment-methods",
        "orders",
    ];
    let writes: Vec<(Method, String, Value)> = vec![
        (Method::POST, w.url("addresses"), shipping("9 Other St")),
        (
            Method::PATCH,
            w.url(&format!("addresses/{address}")),
            json!({"city": "Oakland"}),
        ),
        (
            Method::DELETE,
            w.url(&format!("addresses/{address}")),
            json!(null),
        ),
        (Method::POST, w.url("notes"), json!({"note": "x"})),
        (
            Method::PATCH,
            w.url(&format!("notes/{note}")),
            json!({"note": "y"}),
        ),
        (Method::DELETE, w.url(&format!("notes/{note}")), json!(null)),
        (
            Method::POST,
            w.url("interactions"),
            json!({"channel": "chat", "direction": "inbound"}),
        ),
        (
            Method::POST,
            w.url("payment-methods"),
            with(card(), json!({"token": "pm_x"})),
        ),
        (
            Method::DELETE,
            w.url(&format!("payment-methods/{method}")),
            json!(null),
        ),
        (
            Method::POST,
            w.url("orders"),
            order("o-2", 1, "EUR", "2026-01-01T00:00:00Z"),
        ),
    ];
    let send = |token: String, m: Method, path: String, body: Value| {
        let app = &w.app;
        async move {
            if body.is_null() {
                let auth = format!("Bearer {token}");
                app.send(
                    m,
                    &path,
                    None,
                    Vec::new(),
                    &[("authorization", auth.as_str())],
                )
                .await
            } else {
                app.json_as(&token, m, &path, &body).await
            }
        }
    };

    // Another tenant sees nothing: 404 everywhere.
    let globex = w.app.signup("Globex", "owner@globex.com").await;
    let stranger = s(&globex["access_token"]);
    for part in reads {
        w.app
            .get_as(&stranger, &w.url(part))
            .await
            .assert_problem(404);
    }
    for (m, path, body) in &writes {
        send(stranger.clone(), m.clone(), path.clone(), body.clone())
            .await
            .assert_problem(404);
    }
    // Its own project does not reach our contact either.
    let their_pid = s(&globex["project"]["id"]);
    let res = w
        .app
        .get_as(
            &stranger,
            &format!("/api/v1/projects/{their_pid}/contacts/{}/notes", w.contact),
        )
        .await;
    res.assert_problem(404);

    // A viewer reads but does not write.
    let member = w
        .app
        .json_as(
            &w.owner,
            Method::POST,
            &format!("/api/v1/customers/{}/members", w.customer),
            &json!({"email": "viewer@acme.com", "password": PASSWORD, "role": "member", "name": "Vi"}),
        )
        .await;
    assert_eq!(member.status, 201, "{}", member.text);
    let res = w
        .app
        .json_as(
            &w.owner,
            Method::POST,
            &format!("/api/v1/projects/{}/members", w.pid),
            &json!({"user_id": s(&member.body["id"]), "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let login = w
        .app
        .json(
            Method::POST,
            "/api/v1/auth/token",
            &json!({"email": "viewer@acme.com", "password": PASSWORD}),
            &[ANONYMOUS],
        )
        .await;
    let viewer = s(&login.body["access_token"]);
    for part in reads {
        let res = w.app.get_as(&viewer, &w.url(part)).await;
        assert_eq!(res.status, 200, "{part}: {}", res.text);
    }
    for (m, path, body) in &writes {
        send(viewer.clone(), m.clone(), path.clone(), body.clone())
            .await
            .assert_problem(403);
    }

    // Suspended: reads work, writes are refused as suspended.
    let res = w
        .app
        .post(
            &format!("/api/v1/customers/{}/suspend", w.customer),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let before = w.events().await.len();
    for part in reads {
        let res = w.get(&w.url(part)).await;
        assert_eq!(res.status, 200, "{part}: {}", res.text);
    }
    for (m, path, body) in &writes {
        let res = send(w.owner.clone(), m.clone(), path.clone(), body.clone()).await;
        res.assert_problem(403);
        assert_eq!(res.body["type"], "/problems/tenant-suspended", "{path}");
    }
    assert_eq!(w.events().await.len(), before);
    let res = w
        .app
        .post(
            &format!("/api/v1/customers/{}/activate", w.customer),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);

    // A deleted contact has nothing under it until it is restored; an unknown one neither.
    let res = w
        .send(
            Method::DELETE,
            &format!("/api/v1/projects/{}/contacts/{}", w.pid, w.contact),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    for part in reads {
        w.get(&w.url(part)).await.assert_problem(404);
    }
    w.post(&w.url("notes"), &json!({"note": "x"}))
        .await
        .assert_problem(404);
    let unknown = Uuid::now_v7().to_string();
    w.get(&w.url_of(&unknown, "notes"))
        .await
        .assert_problem(404);
    let res = w.get(&w.url_of("nope", "notes")).await;
    res.assert_problem(400);
    assert_eq!(res.error_fields(), ["contact_id"]);
    // Without credentials: 401.
    let res = w
        .app
        .send(Method::GET, &w.url("notes"), None, Vec::new(), &[ANONYMOUS])
        .await;
    res.assert_problem(401);
}
