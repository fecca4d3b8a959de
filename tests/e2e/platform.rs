//! Operations endpoints, request ids, routing errors, docs.

use actix_web::http::Method;
use serde_json::json;

use crate::support::spawn_app;

#[actix_web::test]
async fn health_and_ready() {
    let app = spawn_app().await;
    let res = app.get("/health").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, json!({"status": "ok"}));
    let res = app.get("/ready").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "ready");
    let expected = if std::env::var(crate::support::TEST_DB_ENV)
        .map(|u| u.starts_with("postgres"))
        .unwrap_or(false)
    {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(res.body["database"], expected);
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.create_customer("Acme", "a@acme.com").await;
    app.get("/api/v1/customers/not-a-uuid").await;
    app.get("/api/v1/customers/not-a-uuid").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status, 200);
    assert!(res
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = &res.text;
    assert!(
        text.contains(
            r#"http_requests_total{method="POST",route="/api/v1/customers",status="201"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/customers/{id}",status="400"} 2"#
        ),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket{"));
    assert!(text.contains("db_pool_max_connections 4"));
    assert!(text.contains("process_resident_memory_bytes"));
}

#[actix_web::test]
async fn every_response_has_a_request_id() {
    let app = spawn_app().await;
    for path in ["/health", "/api/v1/customers", "/nope"] {
        let res = app.get(path).await;
        let id = res.header("x-request-id").expect("x-request-id");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{path}: {id}");
    }
    let res = app
        .send(
            Method::GET,
            "/health",
            None,
            Vec::new(),
            &[("x-request-id", "abc-1")],
        )
        .await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("abc-1"));
    // Unprintable or oversized ids are replaced, not echoed.
    let long = "x".repeat(200);
    let res = app
        .send(
            Method::GET,
            "/health",
            None,
            Vec::new(),
            &[("x-request-id", long.as_str())],
        )
        .await;
    assert_ne!(res.header("x-request-id").as_deref(), Some(long.as_str()));
    // Error bodies carry it too.
    let res = app.get("/api/v1/customers/zzz").await;
    assert_eq!(
        res.body["request_id"].as_str(),
        res.header("x-request-id").as_deref()
    );
}

#[actix_web::test]
async fn unknown_routes_and_methods() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing-here").await;
    res.assert_problem(404);
    let res = app
        .send(Method::DELETE, "/api/v1/customers", None, Vec::new(), &[])
        .await;
    res.assert_problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST"));
    let id = uuid::Uuid::now_v7();
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/customers/{id}"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    res.assert_problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("GET, PUT"));
    let res = app
        .send(
            Method::GET,
            &format!("/api/v1/customers/{id}/suspend"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    res.assert_problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("POST"));
}

#[actix_web::test]
async fn docs_work_offline() {
    let app = spawn_app().await;
    let res = app.get("/docs").await;
    assert_eq!(res.status, 200);
    assert!(res.text.contains("/docs/swagger-ui-bundle.js"));
    assert!(res.text.contains("/openapi.json"));
    assert!(
        !res.text.contains("://"),
        "no external URL in the docs page"
    );
    // awc decompresses gzip itself only with its compress features; we check the raw
    // asset is served gzip-encoded and starts with the gzip magic bytes.
    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"] {
        let res = app
            .send(
                Method::GET,
                asset,
                None,
                Vec::new(),
                &[("accept-encoding", "gzip")],
            )
            .await;
        assert_eq!(res.status, 200, "{asset}");
        assert_eq!(res.header("content-encoding").as_deref(), Some("gzip"));
    }
    let spec = app.get("/openapi.json").await;
    assert_eq!(spec.status, 200);
    assert_eq!(spec.body["info"]["title"], "Clientele API");
}
