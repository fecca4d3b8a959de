//! Identity and access: sign-up, tokens, tenant isolation, suspension.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::support::{spawn_app, spawn_app_with, TestApp, ANONYMOUS};

fn s(v: &Value) -> String {
    v.as_str().expect("string").to_string()
}

async fn login(app: &TestApp, email: &str, password: &str) -> crate::support::Resp {
    app.json(
        Method::POST,
        "/api/v1/auth/token",
        &json!({"email": email, "password": password}),
        &[ANONYMOUS],
    )
    .await
}

/// A platform key with billing:read, created as the CLI does.
async fn billing_key(app: &TestApp) -> String {
    let (_, secret) = clientele_tenancy::api_keys::create(
        &app.db,
        clientele_domain::Audit::system(),
        clientele_tenancy::api_keys::NewApiKey {
            name: "billing system".into(),
            scopes: vec!["billing:read".into()],
            customer_id: None,
            project_id: None,
        },
    )
    .await
    .expect("key");
    secret
}

#[actix_web::test]
async fn signup_creates_everything_and_signs_in() {
    let app = spawn_app().await;
    let res = app.signup("Acme Corporation", "Owner@Acme.com").await;
    for key in ["customer", "project", "billing_account", "user"] {
        assert!(res[key].is_object(), "{key}");
    }
    let cid = s(&res["customer"]["id"]);
    assert_eq!(res["customer"]["name"], "Acme Corporation");
    assert_eq!(res["customer"]["email"], "owner@acme.com");
    assert_eq!(res["project"]["customer_id"], cid.as_str());
    assert_eq!(res["project"]["slug"], "default");
    assert_eq!(
        res["project"]["billing_account_id"],
        res["billing_account"]["id"]
    );
    assert_eq!(res["billing_account"]["customer_id"], cid.as_str());
    assert_eq!(res["billing_account"]["currency"], "USD");
    assert_eq!(res["user"]["role"], "owner");
    assert_eq!(res["token_type"], "Bearer");
    assert!(res["expires_in"].as_i64().unwrap() > 0);
    let token = s(&res["access_token"]);

    let me = app.get_as(&token, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["role"], "owner");
    assert_eq!(me.body["customer"]["id"], cid.as_str());
    assert_eq!(me.body["user"]["email"], "owner@acme.com");

    // The password logs in too, case-insensitively on the email.
    let res = login(&app, "OWNER@acme.com", "correct horse battery").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body["refresh_token"]
        .as_str()
        .unwrap()
        .starts_with("clr_"));

    // Taken email, and bad input naming each field.
    let dup = app
        .json(
            Method::POST,
            "/api/v1/signup",
            &json!({"organization_name": "Other", "email": "owner@ACME.com", "password": "another password"}),
            &[ANONYMOUS],
        )
        .await;
    dup.assert_problem(409);
    assert_eq!(dup.error_fields(), ["email"]);
    let bad = app
        .json(
            Method::POST,
            "/api/v1/signup",
            &json!({"organization_name": "", "email": "nope", "password": "short"}),
            &[ANONYMOUS],
        )
        .await;
    bad.assert_problem(422);
    assert_eq!(
        bad.error_fields(),
        ["email", "password", "organization_name"]
    );
}

#[actix_web::test]
async fn signup_is_rate_limited_per_address() {
    let app = spawn_app_with(&[("CLIENTELE__AUTH__SIGNUPS_PER_HOUR", "2")]).await;
    app.signup("A", "a@a.example.com").await;
    app.signup("B", "b@b.example.com").await;
    let res = app
        .json(
            Method::POST,
            "/api/v1/signup",
            &json!({"organization_name": "C", "email": "c@c.example.com", "password": "long enough"}),
            &[ANONYMOUS],
        )
        .await;
    res.assert_problem(429);
    assert!(res.header("retry-after").is_some());
}

#[actix_web::test]
async fn wrong_passwords_and_unknown_emails_look_the_same() {
    let app = spawn_app().await;
    app.signup("Acme", "owner@acme.com").await;
    let wrong = login(&app, "owner@acme.com", "wrong password!").await;
    let unknown = login(&app, "nobody@acme.com", "wrong password!").await;
    let malformed = login(&app, "not an email", "wrong password!").await;
    for res in [&wrong, &unknown, &malformed] {
        res.assert_problem(401);
        assert_eq!(res.body["detail"], "invalid email or password");
        assert!(res
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer"));
    }
}

#[actix_web::test]
async fn repeated_failures_lock_the_account() {
    let app = spawn_app().await;
    app.signup("Acme", "owner@acme.com").await;
    for _ in 0..clientele_tenancy::identity::LOCK_AFTER {
        login(&app, "owner@acme.com", "wrong password!")
            .await
            .assert_problem(401);
    }
    // Locked: even the right password waits.
    let res = login(&app, "owner@acme.com", "correct horse battery").await;
    res.assert_problem(429);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 60 && retry <= 15 * 60, "{retry}");
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let signup = app.signup("Acme", "owner@acme.com").await;
    let first = s(&signup["refresh_token"]);
    let refresh = |token: String| {
        let app = &app;
        async move {
            app.json(
                Method::POST,
                "/api/v1/auth/refresh",
                &json!({"refresh_token": token}),
                &[ANONYMOUS],
            )
            .await
        }
    };
    let second = refresh(first.clone()).await;
    assert_eq!(second.status, 200, "{}", second.text);
    let second_token = s(&second.body["refresh_token"]);
    assert_ne!(second_token, first);
    assert_eq!(
        app.get_as(&s(&second.body["access_token"]), "/api/v1/me")
            .await
            .status,
        200
    );

    // Replaying the spent token revokes the whole family, including the new one.
    refresh(first).await.assert_problem(401);
    refresh(second_token).await.assert_problem(401);
    refresh("clr_not-a-token".into()).await.assert_problem(401);
}

#[actix_web::test]
async fn logout_everywhere_revokes_access_tokens() {
    let app = spawn_app().await;
    let signup = app.signup("Acme", "owner@acme.com").await;
    let token = s(&signup["access_token"]);
    let other = login(&app, "owner@acme.com", "correct horse battery").await;
    assert_eq!(app.get_as(&token, "/api/v1/me").await.status, 200);
    let res = app
        .json_as(
            &token,
            Method::POST,
            "/api/v1/auth/logout",
            &json!({"everywhere": true}),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    app.get_as(&token, "/api/v1/me").await.assert_problem(401);
    app.get_as(&s(&other.body["access_token"]), "/api/v1/me")
        .await
        .assert_problem(401);
    let res = app
        .json(
            Method::POST,
            "/api/v1/auth/refresh",
            &json!({"refresh_token": other.body["refresh_token"]}),
            &[ANONYMOUS],
        )
        .await;
    res.assert_problem(401);
}

#[actix_web::test]
async fn jwks_publishes_the_signing_key() {
    let app = spawn_app().await;
    let res = app
        .send(
            Method::GET,
            "/.well-known/jwks.json",
            None,
            Vec::new(),
            &[ANONYMOUS],
        )
        .await;
    assert_eq!(res.status, 200);
    let key = &res.body["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    let header = jsonwebtoken::decode_header(&app.admin_token).unwrap();
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    // Another service can verify the token with the published key alone.
    let decoding =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["clientele-api"]);
    let claims = jsonwebtoken::decode::<Value>(&app.admin_token, &decoding, &validation).unwrap();
    assert_eq!(claims.claims["role"], "platform_admin");
}

#[actix_web::test]
async fn two_tenants_see_only_their_own_data_and_billing_sees_both() {
    let app = spawn_app().await;
    let a = app.signup("Acme", "owner@acme.com").await;
    let b = app.signup("Globex", "owner@globex.com").await;
    let (a_token, b_token) = (s(&a["access_token"]), s(&b["access_token"]));
    let (a_id, b_id) = (s(&a["customer"]["id"]), s(&b["customer"]["id"]));

    assert_eq!(
        app.get_as(&a_token, &format!("/api/v1/customers/{a_id}"))
            .await
            .status,
        200
    );
    // The other tenant's customer does not exist for A: 404, not 403.
    for path in [
        format!("/api/v1/customers/{b_id}"),
        format!("/api/v1/customers/{b_id}/settings"),
    ] {
        app.get_as(&a_token, &path).await.assert_problem(404);
    }
    app.json_as(
        &a_token,
        Method::PUT,
        &format!("/api/v1/customers/{b_id}"),
        &json!({"name": "Hacked"}),
    )
    .await
    .assert_problem(404);
    app.json_as(
        &b_token,
        Method::PATCH,
        &format!("/api/v1/customers/{a_id}/settings"),
        &json!({"x": 1}),
    )
    .await
    .assert_problem(404);
    // Owners manage their own customer, but the platform decides its status.
    let res = app
        .json_as(
            &a_token,
            Method::PUT,
            &format!("/api/v1/customers/{a_id}"),
            &json!({"name": "Acme Inc"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    app.json_as(
        &a_token,
        Method::POST,
        &format!("/api/v1/customers/{a_id}/suspend"),
        &json!({}),
    )
    .await
    .assert_problem(403);
    app.get_as(&a_token, "/api/v1/customers")
        .await
        .assert_problem(403);
    app.json_as(
        &a_token,
        Method::POST,
        "/api/v1/customers",
        &json!({"name": "X", "email": "x@x.com"}),
    )
    .await
    .assert_problem(403);

    // The billing system reads both, and writes nothing.
    let key = billing_key(&app).await;
    let list = app.get_as(&key, "/api/v1/customers").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["total"], 2);
    for id in [&a_id, &b_id] {
        let res = app.get_as(&key, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body["status"], "active");
    }
    app.json_as(
        &key,
        Method::PUT,
        &format!("/api/v1/customers/{a_id}"),
        &json!({"name": "x"}),
    )
    .await
    .assert_problem(403);
}

#[actix_web::test]
async fn suspension_stops_logins_and_writes_but_not_reads() {
    let app = spawn_app().await;
    let a = app.signup("Acme", "owner@acme.com").await;
    let b = app.signup("Globex", "owner@globex.com").await;
    let token = s(&a["access_token"]);
    let id = s(&a["customer"]["id"]);
    let own = format!("/api/v1/customers/{id}");

    let res = app
        .post(
            &format!("{own}/suspend"),
            &json!({"reason": "payment failed"}),
        )
        .await;
    assert_eq!(res.status, 200);

    // No new sign-ins, no refresh.
    let res = login(&app, "owner@acme.com", "correct horse battery").await;
    res.assert_problem(403);
    assert_eq!(res.body["type"], "/problems/tenant-suspended");
    let res = app
        .json(
            Method::POST,
            "/api/v1/auth/refresh",
            &json!({"refresh_token": a["refresh_token"]}),
            &[ANONYMOUS],
        )
        .await;
    res.assert_problem(403);
    assert_eq!(res.body["type"], "/problems/tenant-suspended");
    // Existing tokens read, but every write is refused; the data is untouched.
    assert_eq!(app.get_as(&token, &own).await.status, 200);
    assert_eq!(app.get_as(&token, "/api/v1/me").await.status, 200);
    let res = app
        .json_as(&token, Method::PUT, &own, &json!({"name": "Renamed"}))
        .await;
    res.assert_problem(403);
    assert_eq!(res.body["type"], "/problems/tenant-suspended");
    let res = app
        .json_as(
            &token,
            Method::PATCH,
            &format!("{own}/settings"),
            &json!({"a": 1}),
        )
        .await;
    assert_eq!(res.body["type"], "/problems/tenant-suspended");
    assert_eq!(app.get_as(&token, &own).await.body["name"], "Acme");
    // The other tenant is not affected.
    assert_eq!(
        login(&app, "owner@globex.com", "correct horse battery")
            .await
            .status,
        200
    );
    let b_id = s(&b["customer"]["id"]);
    let res = app
        .json_as(
            &s(&b["access_token"]),
            Method::PUT,
            &format!("/api/v1/customers/{b_id}"),
            &json!({"name": "Globex 2"}),
        )
        .await;
    assert_eq!(res.status, 200);

    // Reactivation restores everything, without a new sign-up.
    assert_eq!(
        app.post(&format!("{own}/activate"), &json!({}))
            .await
            .status,
        200
    );
    let res = login(&app, "owner@acme.com", "correct horse battery").await;
    assert_eq!(res.status, 200);
    let res = app
        .json_as(&token, Method::PUT, &own, &json!({"name": "Renamed"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);

    // Closed: no access at all for members; the platform still reads.
    assert_eq!(
        app.post(&format!("{own}/deactivate"), &json!({}))
            .await
            .status,
        200
    );
    let res = app.get_as(&token, &own).await;
    res.assert_problem(403);
    assert_eq!(res.body["type"], "/problems/tenant-inactive");
    let res = login(&app, "owner@acme.com", "correct horse battery").await;
    assert_eq!(res.body["type"], "/problems/tenant-inactive");
    assert_eq!(app.get(&own).await.status, 200);
    let key = billing_key(&app).await;
    assert_eq!(app.get_as(&key, &own).await.body["status"], "inactive");
}
