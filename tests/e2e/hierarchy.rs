//! The Customer Aggregate document's scenarios: an enterprise customer with global
//! settings, several projects billed to one account, settings inheritance down to a
//! channel, locks, limits, and suspension making projects read-only.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::support::{spawn_app, TestApp};

fn s(v: &Value) -> String {
    v.as_str().expect("string").to_string()
}

async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> crate::support::Resp {
    match body {
        Some(b) => app.json_as(token, method, path, &b).await,
        None => {
            let auth = format!("Bearer {token}");
            app.send(method, path, None, vec![], &[("authorization", &auth)])
                .await
        }
    }
}

#[actix_web::test]
async fn enterprise_customer_with_projects_channels_and_inherited_settings() {
    let app = spawn_app().await;
    let acme = app.signup("Acme Corporation", "admin@acmecorp.com").await;
    let owner = s(&acme["access_token"]);
    let cid = s(&acme["customer"]["id"]);
    let account = s(&acme["billing_account"]["id"]);

    // Global settings of the customer.
    let res = call(&app, &owner, Method::PUT, &format!("/api/v1/customers/{cid}/settings"),
        Some(json!({"session_timeout": 30, "ai_enabled": true, "security": {"require_2fa": true}, "brand": {"color": "blue", "logo": "acme.png"}}))).await;
    assert_eq!(res.status, 200, "{}", res.text);

    // Several projects billed to the one account.
    let mut projects = Vec::new();
    for (slug, name) in [("emea-sales", "EMEA Sales"), ("support", "Support")] {
        let res = call(
            &app,
            &owner,
            Method::POST,
            &format!("/api/v1/customers/{cid}/projects"),
            Some(json!({"slug": slug, "name": name})),
        )
        .await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(res.body["billing_account_id"], account.as_str());
        assert_eq!(res.body["status"], "active");
        projects.push(s(&res.body["id"]));
    }
    let res = call(
        &app,
        &owner,
        Method::POST,
        &format!("/api/v1/customers/{cid}/projects"),
        Some(json!({"slug": "support", "name": "Again"})),
    )
    .await;
    res.assert_problem(409);
    let res = call(
        &app,
        &owner,
        Method::POST,
        &format!("/api/v1/customers/{cid}/projects"),
        Some(json!({"slug": "Bad Slug", "name": ""})),
    )
    .await;
    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["name", "slug"]);
    let list = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/customers/{cid}/projects"),
        None,
    )
    .await;
    assert_eq!(list.body["projects"].as_array().unwrap().len(), 3);
    let pid = projects[0].clone();

    // Project overrides 60; a channel without overrides inherits it.
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/projects/{pid}/settings"),
        Some(json!({"session_timeout": 60, "brand": {"color": "green"}})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body["settings"],
        json!({"session_timeout": 60, "brand": {"color": "green"}})
    );
    let res = call(
        &app,
        &owner,
        Method::POST,
        &format!("/api/v1/projects/{pid}/channels"),
        Some(json!({"kind": "email", "name": "Support inbox"})),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let chan = s(&res.body["id"]);
    let eff = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/channels/{chan}/settings/effective"),
        None,
    )
    .await;
    assert_eq!(eff.status, 200, "{}", eff.text);
    assert_eq!(eff.body["settings"]["session_timeout"], 60);
    assert_eq!(eff.body["sources"]["session_timeout"], "project");
    assert_eq!(eff.body["settings"]["ai_enabled"], true);
    assert_eq!(eff.body["sources"]["ai_enabled"], "customer");
    // Objects merge deeply: the project's colour, the customer's logo.
    assert_eq!(
        eff.body["settings"]["brand"],
        json!({"color": "green", "logo": "acme.png"})
    );
    assert_eq!(eff.body["sources"]["brand.color"], "project");
    assert_eq!(eff.body["sources"]["brand.logo"], "customer");

    // The channel overrides; null removes the override and the value falls back.
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/channels/{chan}/settings"),
        Some(json!({"session_timeout": 15})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let eff = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/channels/{chan}/settings/effective"),
        None,
    )
    .await;
    assert_eq!(
        (
            eff.body["settings"]["session_timeout"].clone(),
            eff.body["sources"]["session_timeout"].clone()
        ),
        (json!(15), json!("channel"))
    );
    call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/channels/{chan}/settings"),
        Some(json!({"session_timeout": null})),
    )
    .await;
    call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/projects/{pid}/settings"),
        Some(json!({"session_timeout": null})),
    )
    .await;
    let eff = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/channels/{chan}/settings/effective"),
        None,
    )
    .await;
    assert_eq!(
        (
            eff.body["settings"]["session_timeout"].clone(),
            eff.body["sources"]["session_timeout"].clone()
        ),
        (json!(30), json!("customer"))
    );
    let eff = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/projects/{pid}/settings/effective"),
        None,
    )
    .await;
    assert_eq!(eff.body["sources"]["security.require_2fa"], "customer");

    // The schema: served, and enforced with the path and the reason.
    let schema = app.get("/api/v1/settings/schema").await;
    assert_eq!(schema.status, 200);
    assert!(schema.body["properties"]["session_timeout"].is_object());
    let res = call(&app, &owner, Method::PATCH, &format!("/api/v1/projects/{pid}/settings"),
        Some(json!({"session_timeout": 5000, "billing": {"currency": "XYZ"}, "custom": {"kept": true}}))).await;
    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["billing.currency", "session_timeout"]);
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/projects/{pid}/settings"),
        Some(json!({"custom": {"kept": true}})),
    )
    .await;
    assert_eq!(
        res.body["settings"]["custom"],
        json!({"kept": true}),
        "{}",
        res.text
    );

    // Locks: lower levels cannot override, and the customer's value always wins.
    let res = call(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/v1/customers/{cid}/settings/locks"),
        Some(json!({"locks": ["security.require_2fa"]})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["locks"], json!(["security.require_2fa"]));
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/channels/{chan}/settings"),
        Some(json!({"security": {"require_2fa": false}})),
    )
    .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["security.require_2fa"]);
    let eff = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/channels/{chan}/settings/effective"),
        None,
    )
    .await;
    assert_eq!(eff.body["settings"]["security"]["require_2fa"], true);
    assert_eq!(eff.body["locked"], json!(["security.require_2fa"]));
    let res = call(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/v1/customers/{cid}/settings/locks"),
        Some(json!({"locks": ["bad key!"]})),
    )
    .await;
    res.assert_problem(422);

    // Channels and projects: rename, list, archive (read-only), restore.
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/channels/{chan}"),
        Some(json!({"name": "Inbox"})),
    )
    .await;
    assert_eq!(res.body["name"], "Inbox");
    let res = call(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/v1/channels/{chan}/settings"),
        Some(json!([1, 2])),
    )
    .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["body"]);
    let res = call(
        &app,
        &owner,
        Method::POST,
        &format!("/api/v1/projects/{pid}/channels"),
        Some(json!({"kind": "fax", "name": "x"})),
    )
    .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["kind"]);
    let archived = call(
        &app,
        &owner,
        Method::DELETE,
        &format!("/api/v1/projects/{pid}"),
        None,
    )
    .await;
    assert_eq!(archived.body["status"], "archived", "{}", archived.text);
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/projects/{pid}/settings"),
        Some(json!({"x": 1})),
    )
    .await;
    res.assert_problem(409);
    assert_eq!(
        call(
            &app,
            &owner,
            Method::GET,
            &format!("/api/v1/projects/{pid}"),
            None
        )
        .await
        .status,
        200
    );
    call(
        &app,
        &owner,
        Method::DELETE,
        &format!("/api/v1/projects/{pid}"),
        None,
    )
    .await
    .assert_problem(409);
    let restored = call(
        &app,
        &owner,
        Method::POST,
        &format!("/api/v1/projects/{pid}/restore"),
        None,
    )
    .await;
    assert_eq!(restored.body["status"], "active", "{}", restored.text);
    let del = call(
        &app,
        &owner,
        Method::DELETE,
        &format!("/api/v1/channels/{chan}"),
        None,
    )
    .await;
    assert_eq!(del.status, 204);
    call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/channels/{chan}"),
        None,
    )
    .await
    .assert_problem(404);

    // Another tenant sees none of it.
    let globex = app.signup("Globex", "owner@globex.com").await;
    let other = s(&globex["access_token"]);
    call(
        &app,
        &other,
        Method::GET,
        &format!("/api/v1/projects/{pid}/settings/effective"),
        None,
    )
    .await
    .assert_problem(404);
    let res = call(
        &app,
        &other,
        Method::POST,
        &format!(
            "/api/v1/customers/{}/projects",
            s(&globex["customer"]["id"])
        ),
        Some(json!({"slug": "x", "name": "X", "billing_account_id": account})),
    )
    .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["billing_account_id"]);
}

#[actix_web::test]
async fn billing_accounts_limits_usage_and_suspension() {
    let app = spawn_app().await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let owner = s(&acme["access_token"]);
    let cid = s(&acme["customer"]["id"]);
    let default_project = s(&acme["project"]["id"]);
    let first_account = s(&acme["billing_account"]["id"]);

    // A second account; move a project to it; the view counts per account.
    let res = call(&app, &owner, Method::POST, &format!("/api/v1/customers/{cid}/billing-accounts"),
        Some(json!({"name": "EMEA", "billing_email": "emea@acme.com", "currency": "eur", "billing_cycle": "yearly"}))).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["currency"], "EUR");
    let emea = s(&res.body["id"]);
    let res = call(&app, &owner, Method::POST, &format!("/api/v1/customers/{cid}/billing-accounts"),
        Some(json!({"name": "", "billing_email": "x", "currency": "EURO", "billing_cycle": "weekly"}))).await;
    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["billing_cycle", "billing_email", "currency", "name"]
    );
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/projects/{default_project}"),
        Some(json!({"billing_account_id": emea})),
    )
    .await;
    assert_eq!(
        res.body["billing_account_id"],
        emea.as_str(),
        "{}",
        res.text
    );
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/billing-accounts/{emea}"),
        Some(json!({"status": "closed"})),
    )
    .await;
    res.assert_problem(409);
    assert_eq!(res.body["code"], "billing_account_in_use");

    // Limits come from effective settings.
    call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/customers/{cid}/settings"),
        Some(json!({"features": {"max_projects": 2}})),
    )
    .await;
    let res = call(
        &app,
        &owner,
        Method::POST,
        &format!("/api/v1/customers/{cid}/projects"),
        Some(json!({"slug": "two", "name": "Two"})),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let two = s(&res.body["id"]);
    let res = call(
        &app,
        &owner,
        Method::POST,
        &format!("/api/v1/customers/{cid}/projects"),
        Some(json!({"slug": "three", "name": "Three"})),
    )
    .await;
    res.assert_problem(409);
    assert_eq!(res.body["code"], "limit_reached");
    assert!(res.text.contains("features.max_projects"));
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/customers/{cid}/settings"),
        Some(json!({"features": {"max_projects": -1}})),
    )
    .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["features.max_projects"]);

    let usage = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/customers/{cid}/usage"),
        None,
    )
    .await;
    assert_eq!(usage.status, 200, "{}", usage.text);
    assert_eq!(usage.body["status"], "active");
    assert_eq!(usage.body["usage"]["projects"], 2);
    assert_eq!(usage.body["usage"]["members"], 1);
    let per_account: Vec<(String, i64)> = usage.body["billing_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (s(&a["id"]), a["usage"]["projects"].as_i64().unwrap()))
        .collect();
    assert_eq!(per_account, [(first_account.clone(), 1), (emea.clone(), 1)]);

    // The billing system reads every customer; members below billing do not.
    let (_, key) = clientele_tenancy::api_keys::create(
        &app.db,
        clientele_domain::Audit::system(),
        clientele_tenancy::api_keys::NewApiKey {
            name: "billing".into(),
            scopes: vec!["billing:read".into()],
            customer_id: None,
            project_id: None,
        },
    )
    .await
    .unwrap();
    app.signup("Globex", "owner@globex.com").await;
    let page = app.get_as(&key, "/api/v1/billing/customers?limit=1").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["customers"].as_array().unwrap().len(), 1);
    let next = s(&page.body["next_cursor"]);
    let page2 = app
        .get_as(
            &key,
            &format!("/api/v1/billing/customers?limit=1&cursor={next}"),
        )
        .await;
    assert_eq!(page2.body["customers"].as_array().unwrap().len(), 1);
    assert_ne!(
        page.body["customers"][0]["customer_id"],
        page2.body["customers"][0]["customer_id"]
    );
    let one = app
        .get_as(&key, &format!("/api/v1/billing/customers/{cid}"))
        .await;
    assert_eq!(one.body["usage"], usage.body["usage"]);
    call(&app, &owner, Method::GET, "/api/v1/billing/customers", None)
        .await
        .assert_problem(403);
    // The owner of a customer learns why; another tenant's customer stays invisible.
    call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/billing/customers/{cid}"),
        None,
    )
    .await
    .assert_problem(403);
    let res = app
        .get_as(&key, "/api/v1/billing/customers?cursor=garbage")
        .await;
    res.assert_problem(400);
    assert_eq!(res.error_fields(), ["cursor"]);
    let res = app
        .get_as(&key, "/api/v1/billing/customers?limit=101")
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["limit"]);
    let res = app
        .get_as(&key, "/api/v1/billing/customers?changed_since=yesterday")
        .await;
    assert_eq!(res.error_fields(), ["changed_since"], "{}", res.text);
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/billing-accounts/{emea}"),
        Some(json!({"billing_cycle": "daily", "currency": "ABC"})),
    )
    .await;
    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["billing_cycle", "currency"]);

    // Suspension: projects read-only for the tenant, data untouched; activation restores.
    let res = app
        .post(
            &format!("/api/v1/customers/{cid}/suspend"),
            &json!({"reason": "payment failed"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/projects/{two}"),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    res.assert_problem(403);
    assert_eq!(res.body["type"], "/problems/tenant-suspended");
    call(
        &app,
        &owner,
        Method::POST,
        &format!("/api/v1/projects/{two}/channels"),
        Some(json!({"kind": "sms", "name": "s"})),
    )
    .await
    .assert_problem(403);
    assert_eq!(
        call(
            &app,
            &owner,
            Method::GET,
            &format!("/api/v1/projects/{two}/settings/effective"),
            None
        )
        .await
        .status,
        200
    );
    let suspended = app
        .get_as(&key, "/api/v1/billing/customers?status=suspended")
        .await;
    let ids: Vec<String> = suspended.body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(&c["customer_id"]))
        .collect();
    assert_eq!(ids, std::slice::from_ref(&cid));
    app.post(&format!("/api/v1/customers/{cid}/activate"), &json!({}))
        .await;
    let res = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/projects/{two}"),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    assert_eq!(res.body["name"], "Renamed", "{}", res.text);
}
