//! The people of a customer, their project roles, and API keys over HTTP.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::support::{spawn_app, Resp, TestApp, ANONYMOUS};

const PASSWORD: &str = "correct horse battery";

fn s(v: &Value) -> String {
    v.as_str().expect("string").to_string()
}

async fn login(app: &TestApp, email: &str, password: &str) -> Resp {
    app.json(
        Method::POST,
        "/api/v1/auth/token",
        &json!({"email": email, "password": password}),
        &[ANONYMOUS],
    )
    .await
}

async fn token_of(app: &TestApp, email: &str, password: &str) -> String {
    let res = login(app, email, password).await;
    assert_eq!(res.status, 200, "{}", res.text);
    s(&res.body["access_token"])
}

/// Adds a member as `token`; returns the response.
async fn add(app: &TestApp, token: &str, cid: &str, email: &str, role: &str) -> Resp {
    app.json_as(
        token,
        Method::POST,
        &format!("/api/v1/customers/{cid}/members"),
        &json!({"email": email, "password": PASSWORD, "role": role, "name": "Someone"}),
    )
    .await
}

async fn event_types(app: &TestApp, subject: &str) -> Vec<String> {
    let id = uuid::Uuid::parse_str(subject).unwrap();
    app.db
        .read(move |conn| clientele_persistence::events::for_subject(conn, id, 50))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

#[actix_web::test]
async fn owners_and_admins_manage_people() {
    let app = spawn_app().await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let cid = s(&acme["customer"]["id"]);
    let owner = s(&acme["access_token"]);
    let owner_id = s(&acme["user"]["id"]);

    let res = add(&app, &owner, &cid, "Jane@Acme.com", "admin").await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["email"], "jane@acme.com");
    assert_eq!(res.body["role"], "admin");
    assert_eq!(res.body["customer_id"], cid.as_str());
    assert!(res.header("etag").is_some());
    assert!(res.body.get("password_hash").is_none());
    let jane_id = s(&res.body["id"]);
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/customers/{cid}/members/{jane_id}")
    );
    let bob = add(&app, &owner, &cid, "bob@acme.com", "member").await;
    assert_eq!(bob.status, 201);
    let bob_id = s(&bob.body["id"]);

    // The new people can sign in.
    let jane = token_of(&app, "jane@acme.com", PASSWORD).await;
    let bob_token = token_of(&app, "bob@acme.com", PASSWORD).await;

    // Everyone sees the list; only owners and admins change it.
    let list = app
        .get_as(&bob_token, &format!("/api/v1/customers/{cid}/members"))
        .await;
    assert_eq!(list.status, 200);
    let emails: Vec<&str> = list.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["owner@acme.com", "jane@acme.com", "bob@acme.com"]);
    add(&app, &bob_token, &cid, "eve@acme.com", "member")
        .await
        .assert_problem(403);

    // Validation names every bad field; a taken email conflicts.
    let res = app
        .json_as(
            &owner,
            Method::POST,
            &format!("/api/v1/customers/{cid}/members"),
            &json!({"email": "nope", "password": "short", "role": "root"}),
        )
        .await;
    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["email", "password", "role"]);
    add(&app, &owner, &cid, "bob@acme.com", "member")
        .await
        .assert_problem(409);

    // Admins cannot make or touch owners; the last owner stays.
    add(&app, &jane, &cid, "boss@acme.com", "owner")
        .await
        .assert_problem(403);
    let member_url = |id: &str| format!("/api/v1/customers/{cid}/members/{id}");
    app.json_as(
        &jane,
        Method::PATCH,
        &member_url(&owner_id),
        &json!({"role": "member"}),
    )
    .await
    .assert_problem(403);
    let res = app
        .json_as(
            &owner,
            Method::PATCH,
            &member_url(&owner_id),
            &json!({"role": "admin"}),
        )
        .await;
    res.assert_problem(409);
    assert_eq!(res.body["code"], "last_owner", "{}", res.text);
    app.send(
        Method::DELETE,
        &member_url(&owner_id),
        None,
        vec![],
        &[("authorization", &format!("Bearer {owner}"))],
    )
    .await
    .assert_problem(409);

    // A role change ends the member's sessions.
    let res = app
        .json_as(
            &jane,
            Method::PATCH,
            &member_url(&bob_id),
            &json!({"role": "billing"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["role"], "billing");
    assert_eq!(res.body["version"], 2);
    app.get_as(&bob_token, "/api/v1/me")
        .await
        .assert_problem(401);
    let bob_token = token_of(&app, "bob@acme.com", PASSWORD).await;
    assert_eq!(
        app.get_as(&bob_token, "/api/v1/me").await.body["user"]["role"],
        "billing"
    );

    // A stale If-Match is refused.
    let stale = app
        .json(
            Method::PATCH,
            &member_url(&bob_id),
            &json!({"name": "Robert"}),
            &[
                ("authorization", &format!("Bearer {owner}")),
                ("if-match", "\"1\""),
            ],
        )
        .await;
    stale.assert_problem(412);

    // People change their own name and password, proving the current one.
    let res = app
        .json_as(
            &bob_token,
            Method::PATCH,
            &member_url(&bob_id),
            &json!({"password": "a new password"}),
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["current_password"]);
    let res = app
        .json_as(
            &bob_token,
            Method::PATCH,
            &member_url(&bob_id),
            &json!({"password": "a new password", "current_password": "wrong one!"}),
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["current_password"]);
    let res = app
        .json_as(
            &bob_token,
            Method::PATCH,
            &member_url(&bob_id),
            &json!({"name": "Robert", "password": "a new password", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["name"], "Robert");
    app.get_as(&bob_token, "/api/v1/me")
        .await
        .assert_problem(401);
    login(&app, "bob@acme.com", PASSWORD)
        .await
        .assert_problem(401);
    let bob_token = token_of(&app, "bob@acme.com", "a new password").await;
    // ...but not their own role.
    app.json_as(
        &bob_token,
        Method::PATCH,
        &member_url(&bob_id),
        &json!({"role": "admin"}),
    )
    .await
    .assert_problem(403);

    // Another tenant sees none of it.
    let globex = app.signup("Globex", "owner@globex.com").await;
    let other = s(&globex["access_token"]);
    app.get_as(&other, &member_url(&bob_id))
        .await
        .assert_problem(404);
    app.get_as(&other, &format!("/api/v1/customers/{cid}/members"))
        .await
        .assert_problem(404);
    // Nor can a customer reach another's member through its own customer id.
    let gid = s(&globex["customer"]["id"]);
    app.get_as(&other, &format!("/api/v1/customers/{gid}/members/{bob_id}"))
        .await
        .assert_problem(404);

    // Removal ends access at once.
    let del = app
        .send(
            Method::DELETE,
            &member_url(&bob_id),
            None,
            vec![],
            &[("authorization", &format!("Bearer {jane}"))],
        )
        .await;
    assert_eq!(del.status, 204, "{}", del.text);
    app.get_as(&bob_token, "/api/v1/me")
        .await
        .assert_problem(401);
    login(&app, "bob@acme.com", "a new password")
        .await
        .assert_problem(401);
    app.get_as(&owner, &member_url(&bob_id))
        .await
        .assert_problem(404);

    assert_eq!(
        event_types(&app, &bob_id).await,
        [
            "member.added",
            "member.updated",
            "member.updated",
            "member.removed"
        ]
    );
    // Events never carry a password or its hash.
    let events = app
        .db
        .read(move |conn| {
            clientele_persistence::events::for_subject(
                conn,
                uuid::Uuid::parse_str(&bob_id).unwrap(),
                50,
            )
        })
        .await
        .unwrap();
    for e in events {
        let text = e.payload.to_string();
        assert!(
            !text.contains("argon2") && !text.contains("new password"),
            "{text}"
        );
    }
}

#[actix_web::test]
async fn member_limit_is_enforced() {
    let app = spawn_app().await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let cid = s(&acme["customer"]["id"]);
    let owner = s(&acme["access_token"]);
    let res = app
        .json_as(
            &owner,
            Method::PATCH,
            &format!("/api/v1/customers/{cid}/settings"),
            &json!({"features": {"max_users": 2}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        add(&app, &owner, &cid, "two@acme.com", "member")
            .await
            .status,
        201
    );
    let res = add(&app, &owner, &cid, "three@acme.com", "member").await;
    res.assert_problem(409);
    assert_eq!(res.body["code"], "limit_reached");
    assert!(res.text.contains("features.max_users"), "{}", res.text);
}

#[actix_web::test]
async fn project_roles_decide_project_access() {
    let app = spawn_app().await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let cid = s(&acme["customer"]["id"]);
    let pid = s(&acme["project"]["id"]);
    let owner = s(&acme["access_token"]);
    let bob = add(&app, &owner, &cid, "bob@acme.com", "member").await;
    let bob_id = s(&bob.body["id"]);
    let jane = add(&app, &owner, &cid, "jane@acme.com", "member").await;
    let jane_id = s(&jane.body["id"]);
    let bob_token = token_of(&app, "bob@acme.com", PASSWORD).await;
    let url = format!("/api/v1/projects/{pid}/members");

    // Without a project role a plain member sees nothing of the project.
    app.get_as(&bob_token, &url).await.assert_problem(403);

    let res = app
        .json_as(
            &owner,
            Method::POST,
            &url,
            &json!({"user_id": bob_id, "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["role"], "viewer");
    assert_eq!(res.body["email"], "bob@acme.com");
    assert_eq!(res.body["customer_role"], "member");
    app.json_as(
        &owner,
        Method::POST,
        &url,
        &json!({"user_id": bob_id, "role": "agent"}),
    )
    .await
    .assert_problem(409);

    // A viewer reads but does not manage.
    let list = app.get_as(&bob_token, &url).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["members"].as_array().unwrap().len(), 1);
    app.json_as(
        &bob_token,
        Method::POST,
        &url,
        &json!({"user_id": jane_id, "role": "viewer"}),
    )
    .await
    .assert_problem(403);
    let me = app.get_as(&bob_token, "/api/v1/me").await;
    assert_eq!(me.body["project_roles"][0]["role"], "viewer", "{}", me.text);

    // Promoted to project admin, the same member manages the project's people.
    let res = app
        .json_as(
            &owner,
            Method::PATCH,
            &format!("{url}/{bob_id}"),
            &json!({"role": "project_admin"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app
        .json_as(
            &bob_token,
            Method::POST,
            &url,
            &json!({"user_id": jane_id, "role": "agent"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);

    // Bad input is named; people of other customers cannot be added.
    let res = app
        .json_as(
            &owner,
            Method::PATCH,
            &format!("{url}/{jane_id}"),
            &json!({"role": "boss"}),
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["role"]);
    let globex = app.signup("Globex", "owner@globex.com").await;
    let stranger = s(&globex["user"]["id"]);
    let res = app
        .json_as(
            &owner,
            Method::POST,
            &url,
            &json!({"user_id": stranger, "role": "agent"}),
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["user_id"]);
    app.get_as(&s(&globex["access_token"]), &url)
        .await
        .assert_problem(404);
    app.json_as(
        &owner,
        Method::PATCH,
        &format!("{url}/{stranger}"),
        &json!({"role": "agent"}),
    )
    .await
    .assert_problem(404);

    let auth = format!("Bearer {owner}");
    let del = app
        .send(
            Method::DELETE,
            &format!("{url}/{bob_id}"),
            None,
            vec![],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(del.status, 204, "{}", del.text);
    app.get_as(&bob_token, &url).await.assert_problem(403);
    let del = app
        .send(
            Method::DELETE,
            &format!("{url}/{bob_id}"),
            None,
            vec![],
            &[("authorization", &auth)],
        )
        .await;
    del.assert_problem(404);
}

#[actix_web::test]
async fn api_keys_are_shown_once_scoped_and_revocable() {
    let app = spawn_app().await;
    let acme = app.signup("Acme", "owner@acme.com").await;
    let cid = s(&acme["customer"]["id"]);
    let pid = s(&acme["project"]["id"]);
    let owner = s(&acme["access_token"]);
    let url = format!("/api/v1/customers/{cid}/api-keys");

    let res = app
        .json_as(
            &owner,
            Method::POST,
            &url,
            &json!({"name": "CRM sync", "scopes": ["contacts:read"], "project_id": pid}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let secret = s(&res.body["secret"]);
    assert!(secret.starts_with("clk_"));
    assert!(secret.starts_with(res.body["prefix"].as_str().unwrap()));
    assert_eq!(res.body["scopes"], json!(["contacts:read"]));
    assert_eq!(res.body["project_id"], pid.as_str());
    let key_id = s(&res.body["id"]);

    // Listed without the secret.
    let list = app.get_as(&owner, &url).await;
    assert_eq!(list.status, 200);
    let keys = list.body["api_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].get("secret").is_none());
    assert!(!list.text.contains(&secret));

    // The key works in its project, but not on people or the account.
    app.get_as(&secret, &format!("/api/v1/customers/{cid}"))
        .await
        .assert_problem(403);
    app.get_as(&secret, &format!("/api/v1/projects/{pid}/members"))
        .await
        .assert_problem(403);
    app.get_as(&secret, &url).await.assert_problem(403);

    // Scopes and projects are checked against the customer.
    let res = app
        .json_as(
            &owner,
            Method::POST,
            &url,
            &json!({"name": "x", "scopes": ["billing:read"]}),
        )
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["scopes"]);
    let globex = app.signup("Globex", "owner@globex.com").await;
    let res = app
        .json_as(&owner, Method::POST, &url, &json!({"name": "x", "scopes": ["contacts:write"], "project_id": globex["project"]["id"]}))
        .await;
    res.assert_problem(422);
    assert_eq!(res.error_fields(), ["project_id"]);

    // Members below admin do not see keys; other tenants do not find them.
    let bob = add(&app, &owner, &cid, "bob@acme.com", "billing").await;
    assert_eq!(bob.status, 201);
    let bob_token = token_of(&app, "bob@acme.com", PASSWORD).await;
    app.get_as(&bob_token, &url).await.assert_problem(403);
    let other = format!("Bearer {}", s(&globex["access_token"]));
    app.send(
        Method::DELETE,
        &format!("{url}/{key_id}"),
        None,
        vec![],
        &[("authorization", &other)],
    )
    .await
    .assert_problem(404);

    // Revoked: refused at once; a second revoke finds nothing.
    let auth = format!("Bearer {owner}");
    let del = app
        .send(
            Method::DELETE,
            &format!("{url}/{key_id}"),
            None,
            vec![],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(del.status, 204, "{}", del.text);
    app.get_as(&secret, &format!("/api/v1/projects/{pid}/members"))
        .await
        .assert_problem(401);
    app.send(
        Method::DELETE,
        &format!("{url}/{key_id}"),
        None,
        vec![],
        &[("authorization", &auth)],
    )
    .await
    .assert_problem(404);
    let list = app.get_as(&owner, &url).await;
    assert!(list.body["api_keys"][0]["revoked_at"].is_string());
    assert_eq!(
        event_types(&app, &key_id).await,
        ["api_key.created", "api_key.revoked"]
    );
}
