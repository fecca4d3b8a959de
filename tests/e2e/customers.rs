//! The tenant account routes (seed: Customer Aggregate).

use actix_web::http::Method;
use clientele_persistence::events;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{spawn_app, TestApp};

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn event_types(app: &TestApp, subject: &str) -> Vec<events::Event> {
    let id = Uuid::parse_str(subject).unwrap();
    app.db
        .read(move |conn| events::for_subject(conn, id, 100))
        .await
        .expect("events load")
}

#[actix_web::test]
async fn create_and_read_back() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/customers",
            &json!({
                "name": "  Acme Corporation ",
                "email": "Admin@AcmeCorp.com",
                "settings": {"company": {"legal_name": "Acme Corporation Inc."}}
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let c = &res.body;
    assert_eq!(c["name"], "Acme Corporation");
    assert_eq!(c["email"], "admin@acmecorp.com");
    assert_eq!(c["status"], "active");
    assert_eq!(c["version"], 1);
    assert_eq!(
        c["settings"]["company"]["legal_name"],
        "Acme Corporation Inc."
    );
    let id = id_of(c);
    let parsed = Uuid::parse_str(&id).unwrap();
    assert_eq!(parsed.get_version_num(), 7, "ids are UUID v7");
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(
        res.header("location"),
        Some(format!("/api/v1/customers/{id}"))
    );
    for field in ["created_at", "updated_at", "status_changed_at"] {
        let ts = c[field].as_str().unwrap();
        assert!(ts.ends_with('Z'), "{field} is RFC 3339 UTC: {ts}");
    }

    let got = app.get(&format!("/api/v1/customers/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(&got.body, c, "read back exactly what was created");
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
}

#[actix_web::test]
async fn email_is_unique_case_insensitively() {
    let app = spawn_app().await;
    app.create_customer("Acme", "admin@acme.com").await;
    let res = app
        .post(
            "/api/v1/customers",
            &json!({"name": "Other", "email": "ADMIN@Acme.com"}),
        )
        .await;
    res.assert_problem(409);
    assert_eq!(res.error_fields(), ["email"]);
    assert_eq!(res.body["code"], "email_taken");
    let list = app.get("/api/v1/customers").await;
    assert_eq!(list.body["total"], 1, "the duplicate was not stored");
}

#[actix_web::test]
async fn create_validation_names_every_field() {
    let app = spawn_app().await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["name", "email"]),
        (json!({"name": "", "email": "x@y.co"}), vec!["name"]),
        (json!({"name": "A", "email": "not-an-email"}), vec!["email"]),
        (
            json!({"name": "A", "email": "a@b.co", "settings": [1]}),
            vec!["settings"],
        ),
        (
            json!({"name": "A", "email": "a@b.co", "settings": "x"}),
            vec!["settings"],
        ),
        (
            json!({"name": "A", "email": "a@b.co", "plan": "gold"}),
            vec!["plan"],
        ),
        (json!({"name": 5, "email": "a@b.co"}), vec!["name"]),
        (json!({"name": "A", "email": null}), vec!["email"]),
        (
            json!({"name": "x".repeat(201), "email": "a@b.co"}),
            vec!["name"],
        ),
        (
            json!({"name": "A\u{0007}", "email": "a@b.co"}),
            vec!["name"],
        ),
        (json!([1, 2]), vec!["body"]),
    ];
    for (body, fields) in cases {
        let res = app.post("/api/v1/customers", &body).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), fields, "body {body}: {}", res.text);
    }
    let list = app.get("/api/v1/customers").await;
    assert_eq!(list.body["total"], 0, "nothing invalid was stored");
}

#[actix_web::test]
async fn unreadable_bodies_are_answered_clearly() {
    let app = spawn_app().await;
    let post = |ct: Option<&'static str>, body: &'static [u8]| {
        app.send(Method::POST, "/api/v1/customers", ct, body.to_vec(), &[])
    };
    let res = post(Some("application/json"), br#"{"name": "A", "email": "#).await;
    res.assert_problem(400);
    assert_eq!(res.body["type"], "/problems/malformed-json");
    assert_eq!(res.error_fields(), ["body"]);

    post(Some("application/json"), b"")
        .await
        .assert_problem(400);
    post(
        Some("application/json"),
        br#"{"name":"A","email":"a@b.co"} {}"#,
    )
    .await
    .assert_problem(400);

    let res = post(Some("text/plain"), br#"{"name":"A","email":"a@b.co"}"#).await;
    res.assert_problem(415);
    let res = post(None, br#"{"name":"A","email":"a@b.co"}"#).await;
    res.assert_problem(415);
    let res = post(Some("application/xml"), b"<a/>").await;
    res.assert_problem(415);

    // Larger than the 256 KiB default body limit.
    let big = json!({"name": "A", "email": "a@b.co", "settings": {"blob": "x".repeat(300_000)}});
    let res = app.post("/api/v1/customers", &big).await;
    res.assert_problem(413);

    let list = app.get("/api/v1/customers").await;
    assert_eq!(list.body["total"], 0);
}

#[actix_web::test]
async fn bad_and_unknown_ids() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/customers/not-a-uuid",
        "/api/v1/customers/123",
        "/api/v1/customers/not-a-uuid/settings",
    ] {
        let res = app.get(path).await;
        res.assert_problem(400);
        assert_eq!(res.error_fields(), ["id"], "{path}");
    }
    let res = app.post("/api/v1/customers/zzz/suspend", &json!({})).await;
    res.assert_problem(400);

    let missing = Uuid::now_v7();
    for path in [
        format!("/api/v1/customers/{missing}"),
        format!("/api/v1/customers/{missing}/settings"),
    ] {
        app.get(&path).await.assert_problem(404);
    }
    app.put(
        &format!("/api/v1/customers/{missing}"),
        &json!({"name": "x"}),
    )
    .await
    .assert_problem(404);
    app.post(&format!("/api/v1/customers/{missing}/suspend"), &json!({}))
        .await
        .assert_problem(404);
    app.patch(
        &format!("/api/v1/customers/{missing}/settings"),
        &json!({"a": 1}),
    )
    .await
    .assert_problem(404);
}

#[actix_web::test]
async fn list_pages_filters_and_counts() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let c = app
            .create_customer(&format!("Customer {i}"), &format!("c{i}@example.com"))
            .await;
        ids.push(id_of(&c));
    }
    app.post(&format!("/api/v1/customers/{}/suspend", ids[1]), &json!({}))
        .await;
    app.post(&format!("/api/v1/customers/{}/suspend", ids[3]), &json!({}))
        .await;

    let all = app.get("/api/v1/customers").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["total"], 5);
    let listed: Vec<String> = all.body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first, "newest first");

    let page = app.get("/api/v1/customers?limit=2&offset=2").await;
    assert_eq!(page.body["total"], 5);
    let page_ids: Vec<String> = page.body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(page_ids, newest_first[2..4]);

    let suspended = app.get("/api/v1/customers?status=suspended").await;
    assert_eq!(suspended.body["total"], 2);
    assert!(suspended.body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "suspended"));
    let active = app.get("/api/v1/customers?status=active&limit=1").await;
    assert_eq!(active.body["total"], 3);
    assert_eq!(active.body["customers"].as_array().unwrap().len(), 1);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("status=frozen", "status"),
        ("colour=red", "colour"),
    ] {
        let res = app.get(&format!("/api/v1/customers?{query}")).await;
        res.assert_problem(422);
        assert_eq!(res.error_fields(), [field], "{query}: {}", res.text);
    }
}

#[actix_web::test]
async fn update_with_if_match() {
    let app = spawn_app().await;
    let c = app.create_customer("Acme", "admin@acme.com").await;
    let other = app.create_customer("Other", "other@example.com").await;
    let path = format!("/api/v1/customers/{}", id_of(&c));

    let res = app
        .json(
            Method::PUT,
            &path,
            &json!({"name": "Acme Corp"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["name"], "Acme Corp");
    assert_eq!(res.body["email"], "admin@acme.com");
    assert_eq!(res.body["version"], 2);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));

    // A stale tag is refused and changes nothing.
    let stale = app
        .json(
            Method::PUT,
            &path,
            &json!({"name": "Lost"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    stale.assert_problem(412);
    assert_eq!(stale.header("etag").as_deref(), Some("\"2\""));
    let weak = app
        .json(
            Method::PUT,
            &path,
            &json!({"name": "Lost"}),
            &[("if-match", "W/\"2\"")],
        )
        .await;
    weak.assert_problem(412);
    let bad = app
        .json(
            Method::PUT,
            &path,
            &json!({"name": "Lost"}),
            &[("if-match", "two")],
        )
        .await;
    bad.assert_problem(400);
    assert_eq!(bad.error_fields(), ["If-Match"]);
    assert_eq!(app.get(&path).await.body["name"], "Acme Corp");

    // Email: validated, unique, normalized.
    let res = app.put(&path, &json!({"email": "bad"})).await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["email"]);
    let res = app
        .put(
            &path,
            &json!({"email": other["email"].as_str().unwrap().to_uppercase()}),
        )
        .await;
    res.assert_problem(409);
    assert_eq!(res.error_fields(), ["email"]);
    let res = app.put(&path, &json!({"email": "New@Acme.com"})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["email"], "new@acme.com");
    assert_eq!(res.body["version"], 3);

    // Nothing to change: same version, no event.
    let res = app.put(&path, &json!({"name": "Acme Corp"})).await;
    assert_eq!(res.body["version"], 3);
    let res = app.put(&path, &json!({})).await;
    assert_eq!(res.body["version"], 3);

    let res = app.put(&path, &json!({"status": "inactive"})).await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["status"]);

    let types: Vec<String> = event_types(&app, &id_of(&c))
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        ["customer.created", "customer.updated", "customer.updated"]
    );
}

#[actix_web::test]
async fn settings_replace_and_merge_patch() {
    let app = spawn_app().await;
    let c = app.create_customer("Acme", "admin@acme.com").await;
    let path = format!("/api/v1/customers/{}/settings", id_of(&c));

    let res = app.get(&path).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, json!({"success": true, "settings": {}}));

    let full = json!({
        "company": {"legal_name": "Acme Corporation Inc.", "tax_id": "12-3456789"},
        "billing": {"currency": "USD", "auto_renew": true},
        "security": {"require_2fa": true, "session_timeout": 30},
        "features": {"max_projects": 10, "max_users": 50, "ai_enabled": true}
    });
    let res = app.put(&path, &full).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body, json!({"success": true, "settings": full}));

    // The seed's example: PUT replaces the whole object.
    let res = app
        .put(
            &path,
            &json!({"features": {"max_projects": 20, "max_users": 100}}),
        )
        .await;
    assert_eq!(
        res.body["settings"],
        json!({"features": {"max_projects": 20, "max_users": 100}})
    );

    // PATCH merges; null removes; arrays replace.
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some("application/merge-patch+json"),
            json!({"features": {"max_users": null, "ai_enabled": true}, "tags": ["a", "b"]})
                .to_string()
                .into_bytes(),
            &[],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body["settings"],
        json!({"features": {"max_projects": 20, "ai_enabled": true}, "tags": ["a", "b"]})
    );
    let res = app.patch(&path, &json!({"tags": ["c"]})).await;
    assert_eq!(res.body["settings"]["tags"], json!(["c"]));

    // Reading the customer shows the same settings.
    let customer = app.get(&format!("/api/v1/customers/{}", id_of(&c))).await;
    assert_eq!(customer.body["settings"], res.body["settings"]);

    for bad in [json!([1]), json!("x"), json!(5), json!(null)] {
        app.put(&path, &bad).await.assert_problem(422);
        app.patch(&path, &bad).await.assert_problem(422);
    }
    let stale = app
        .json(Method::PUT, &path, &json!({}), &[("if-match", "\"1\"")])
        .await;
    stale.assert_problem(412);

    let after = app.get(&path).await;
    assert_eq!(
        after.body["settings"], res.body["settings"],
        "bad input changed nothing"
    );

    let events = event_types(&app, &id_of(&c)).await;
    let settings_events: Vec<&events::Event> = events
        .iter()
        .filter(|e| e.event_type == "customer.settings_updated")
        .collect();
    assert_eq!(settings_events.len(), 4);
    assert_eq!(
        settings_events.last().unwrap().payload["settings"],
        res.body["settings"]
    );
}

#[actix_web::test]
async fn lifecycle_and_invalid_transitions() {
    let app = spawn_app().await;
    let c = app.create_customer("Acme", "admin@acme.com").await;
    let id = id_of(&c);
    let action = |name: &str| format!("/api/v1/customers/{id}/{name}");

    // No body at all is fine.
    let res = app
        .send(Method::POST, &action("suspend"), None, Vec::new(), &[])
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["success"], true);
    assert_eq!(res.body["customer_id"], id.as_str());
    assert_eq!(res.body["status"], "suspended");
    let suspended_at = res.body["suspended_at"].as_str().unwrap().to_string();

    let again = app.post(&action("suspend"), &json!({})).await;
    again.assert_problem(409);
    assert_eq!(again.body["type"], "/problems/invalid-transition");
    assert_eq!(again.body["current_status"], "suspended");
    assert_eq!(
        again.body["allowed_actions"],
        json!(["activate", "deactivate"])
    );

    let got = app.get(&format!("/api/v1/customers/{id}")).await;
    assert_eq!(got.body["status"], "suspended");
    assert_eq!(got.body["status_changed_at"], suspended_at.as_str());

    let res = app.post(&action("activate"), &json!({})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "active");
    assert!(res.body["activated_at"].is_string());
    let res = app.post(&action("activate"), &json!({})).await;
    res.assert_problem(409);
    assert_eq!(
        res.body["allowed_actions"],
        json!(["suspend", "deactivate"])
    );

    let res = app
        .post(&action("deactivate"), &json!({"reason": "contract ended"}))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "inactive");
    assert!(res.body["deactivated_at"].is_string());
    let res = app.post(&action("suspend"), &json!({})).await;
    res.assert_problem(409);
    assert_eq!(res.body["current_status"], "inactive");
    assert_eq!(res.body["allowed_actions"], json!(["activate"]));

    // Bad bodies on actions.
    let res = app.post(&action("activate"), &json!({"why": "x"})).await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["why"]);
    let res = app
        .post(&action("activate"), &json!({"reason": "x".repeat(501)}))
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["reason"]);
    let res = app
        .send(
            Method::POST,
            &action("activate"),
            Some("text/plain"),
            b"hi".to_vec(),
            &[],
        )
        .await;
    res.assert_problem(415);

    let events = event_types(&app, &id).await;
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "customer.created",
            "customer.suspended",
            "customer.activated",
            "customer.deactivated"
        ]
    );
    let deactivated = events.last().unwrap();
    assert_eq!(deactivated.payload["reason"], "contract ended");
    assert_eq!(deactivated.payload["from"], "active");
    assert_eq!(deactivated.customer_id.to_string(), id);
}

#[actix_web::test]
async fn events_carry_the_request_id() {
    let app = spawn_app().await;
    let res = app
        .json(
            Method::POST,
            "/api/v1/customers",
            &json!({"name": "Acme", "email": "a@acme.com"}),
            &[("x-request-id", "trace-abc-123")],
        )
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(res.header("x-request-id").as_deref(), Some("trace-abc-123"));
    let res2 = app
        .put(
            &format!("/api/v1/customers/{}", id_of(&res.body)),
            &json!({"name": "B"}),
        )
        .await;
    let generated = res2.header("x-request-id").expect("generated id");
    let events = event_types(&app, &id_of(&res.body)).await;
    assert_eq!(events[0].request_id.as_deref(), Some("trace-abc-123"));
    assert_eq!(events[1].request_id.as_deref(), Some(generated.as_str()));
    assert_eq!(events[0].payload["customer"]["email"], "a@acme.com");
    assert_eq!(events[1].payload["changed"], json!(["name"]));
}

#[actix_web::test]
async fn concurrent_writes_all_commit_and_none_is_lost() {
    let app = spawn_app().await;
    let creates = (0..24).map(|i| {
        let app = &app;
        async move {
            let body = json!({"name": format!("C{i}"), "email": format!("c{i}@example.com")});
            app.post("/api/v1/customers", &body).await
        }
    });
    let results = futures_util::future::join_all(creates).await;
    assert!(results.iter().all(|r| r.status == 201));
    assert_eq!(app.get("/api/v1/customers").await.body["total"], 24);

    // Everyone races with the same If-Match: exactly one wins.
    let c = &results[0].body;
    let path = format!("/api/v1/customers/{}", id_of(c));
    let updates = (0..8).map(|i| {
        let body = json!({"name": format!("Winner {i}")});
        let path = path.clone();
        let app = &app;
        async move {
            app.json(Method::PUT, &path, &body, &[("if-match", "\"1\"")])
                .await
        }
    });
    let results = futures_util::future::join_all(updates).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let stale = results.iter().filter(|r| r.status == 412).count();
    assert_eq!((ok, stale), (1, 7));
    assert_eq!(app.get(&path).await.body["version"], 2);
}

#[actix_web::test]
async fn every_customer_route_rejects_bad_ids_and_bodies() {
    let app = spawn_app().await;
    let c = app.create_customer("Acme", "a@acme.com").await;
    let id = id_of(&c);
    // A malformed id names the parameter on every route that takes one.
    for (method, path) in [
        (Method::GET, "/api/v1/customers/x"),
        (Method::PUT, "/api/v1/customers/x"),
        (Method::GET, "/api/v1/customers/x/settings"),
        (Method::PUT, "/api/v1/customers/x/settings"),
        (Method::PATCH, "/api/v1/customers/x/settings"),
        (Method::POST, "/api/v1/customers/x/suspend"),
        (Method::POST, "/api/v1/customers/x/activate"),
        (Method::POST, "/api/v1/customers/x/deactivate"),
    ] {
        let res = app.json(method.clone(), path, &json!({}), &[]).await;
        res.assert_problem(400);
        assert_eq!(res.error_fields(), ["id"], "{method} {path}");
    }
    // Malformed JSON and wrong content types on the settings routes.
    let settings = format!("/api/v1/customers/{id}/settings");
    for method in [Method::PUT, Method::PATCH] {
        let res = app
            .send(
                method.clone(),
                &settings,
                Some("application/json"),
                b"{\"a\":".to_vec(),
                &[],
            )
            .await;
        res.assert_problem(400);
        let res = app
            .send(
                method.clone(),
                &settings,
                Some("text/plain"),
                b"{}".to_vec(),
                &[],
            )
            .await;
        res.assert_problem(415);
        let big = json!({"blob": "x".repeat(300_000)});
        app.json(method.clone(), &settings, &big, &[])
            .await
            .assert_problem(413);
        let stale = app
            .json(
                method,
                &settings,
                &json!({"a": 1}),
                &[("if-match", "\"9\"")],
            )
            .await;
        stale.assert_problem(412);
    }
    let res = app
        .put(
            &format!("/api/v1/customers/{id}"),
            &json!({"name": "x".repeat(300_000)}),
        )
        .await;
    res.assert_problem(413);
    let after = app.get(&format!("/api/v1/customers/{id}")).await;
    assert_eq!(after.body, c, "nothing above changed the customer");
}

#[actix_web::test]
async fn a_failing_write_in_a_batch_does_not_undo_the_others() {
    let app = spawn_app().await;
    // Sixteen concurrent creates, half of them with the same email: on SQLite they
    // share group commits, so the conflicts roll back alone; on PostgreSQL the unique
    // index decides. Either way: one winner per email, 409 (never 500) for the rest.
    let creates = (0..16).map(|i| {
        let app = &app;
        async move {
            let email = if i % 2 == 0 {
                "same@example.com".to_string()
            } else {
                format!("u{i}@example.com")
            };
            app.post(
                "/api/v1/customers",
                &json!({"name": format!("C{i}"), "email": email}),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(creates).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let conflicts: Vec<_> = results.iter().filter(|r| r.status == 409).collect();
    assert_eq!(
        created, 9,
        "8 distinct emails and one winner of the shared one"
    );
    assert_eq!(conflicts.len(), 7);
    for c in conflicts {
        assert_eq!(c.error_fields(), ["email"]);
    }
    assert_eq!(app.get("/api/v1/customers").await.body["total"], 9);
}

#[actix_web::test]
async fn concurrent_patches_without_if_match_all_apply() {
    let app = spawn_app().await;
    let c = app.create_customer("Acme", "a@acme.com").await;
    let path = format!("/api/v1/customers/{}/settings", id_of(&c));
    let patches = (0..8).map(|i| {
        let (app, path) = (&app, path.clone());
        async move { app.patch(&path, &json!({ format!("k{i}"): i })).await }
    });
    let results = futures_util::future::join_all(patches).await;
    assert!(
        results.iter().all(|r| r.status == 200),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let settings = app.get(&path).await.body["settings"].clone();
    for i in 0..8 {
        assert_eq!(
            settings[format!("k{i}")],
            i,
            "patch {i} was lost: {settings}"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/customers/{}", id_of(&c)))
            .await
            .body["version"],
        9
    );
}
