//! The test harness: a real server on port 0 with its own fresh database.
//!
//! SQLite by default (a file in a temporary folder). When `CLIENTELE_TEST_DATABASE_URL`
//! names a PostgreSQL server, each test creates its own database there and drops it
//! afterwards, so runs and tests never see each other's rows.

use std::path::PathBuf;

use actix_web::http::Method;
use awc::http::header::HeaderMap;
use clientele::{Overrides, Settings};
use clientele_persistence::Db;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value;

pub const TEST_DB_ENV: &str = "CLIENTELE_TEST_DATABASE_URL";
pub const ADMIN_PASSWORD: &str = "operator password";
/// Pass as a header to send a request without credentials.
pub const ANONYMOUS: (&str, &str) = ("authorization", "");

enum TestDb {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    fn create() -> (TestDb, String) {
        match std::env::var(TEST_DB_ENV).ok().filter(|u| !u.is_empty()) {
            Some(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("clientele_t_{}", uuid::Uuid::now_v7().simple());
                let mut conn = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("cannot reach {admin_url}: {e}"));
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let url = replace_db_name(&admin_url, &name);
                (TestDb::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = std::env::temp_dir()
                    .join(format!("clientele-test-{}", uuid::Uuid::now_v7().simple()));
                let url = format!("sqlite://{}", dir.join("test.db").display());
                (TestDb::Sqlite { dir }, url)
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { admin_url, name } => {
                if let Ok(mut conn) = PgConnection::establish(admin_url) {
                    let _ =
                        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// `postgres://u@h:5432/test?x=y` with the database name replaced.
fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub auth: std::sync::Arc<clientele_tenancy::identity::AuthService>,
    /// A platform admin's access token, sent by default.
    pub admin_token: String,
    client: awc::Client,
    handle: actix_web::dev::ServerHandle,
    /// The webhook worker; dropping it stops it.
    _webhooks: clientele::webhooks::WebhookWorker,
    _test_db: TestDb,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Field names of a problem's `errors` array.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts a problem+json response with this status.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")));
        assert!(self.body["title"].is_string());
        self
    }
}

/// Starts a server with `extra` configuration pairs (`CLIENTELE__...` style keys).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let (test_db, url) = TestDb::create();
    let mut vars: Vec<(String, String)> = vec![
        ("CLIENTELE__SERVER__WORKERS".into(), "1".into()),
        ("CLIENTELE__DATABASE__POOL_SIZE".into(), "4".into()),
        ("CLIENTELE__LOG__LEVEL".into(), "warn".into()),
        // Tests deliver webhooks to receivers on 127.0.0.1, quickly.
        (
            "CLIENTELE__WEBHOOKS__ALLOW_PRIVATE_TARGETS".into(),
            "true".into(),
        ),
        ("CLIENTELE__WEBHOOKS__POLL_INTERVAL_MS".into(), "50".into()),
        ("CLIENTELE__WEBHOOKS__BACKOFF_BASE_MS".into(), "50".into()),
        ("CLIENTELE__WEBHOOKS__BACKOFF_CAP_MS".into(), "400".into()),
        ("CLIENTELE__WEBHOOKS__MAX_ATTEMPTS".into(), "4".into()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config");
    let settings = Settings::load_from(
        &config_dir,
        None,
        &Overrides {
            database_url: Some(url),
            bind: Some("127.0.0.1:0".into()),
        },
        Some(vars),
    )
    .expect("test settings");
    let started = clientele::start(&settings).expect("server starts");
    let handle = started.server.handle();
    actix_web::rt::spawn(started.server);
    let admin = clientele_tenancy::identity::create_platform_admin(
        &started.db,
        &started.auth.passwords,
        "operator@platform.test",
        ADMIN_PASSWORD.to_string(),
    )
    .await
    .expect("platform admin");
    let admin_token = started
        .auth
        .tokens
        .issue(admin.id, None, "platform_admin", admin.token_version)
        .expect("admin token");
    TestApp {
        base: format!("http://{}", started.addr),
        db: started.db,
        auth: started.auth,
        admin_token,
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish(),
        handle,
        _webhooks: started.webhooks,
        _test_db: test_db,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl TestApp {
    /// Sends any request; `content_type` None sends no Content-Type header.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(ct) = content_type {
            req = req.insert_header(("content-type", ct));
        }
        // The platform admin's token unless the test chose credentials (or none).
        let chose_auth = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        if !chose_auth {
            req = req.insert_header(("authorization", format!("Bearer {}", self.admin_token)));
        }
        for (k, v) in headers.iter().filter(|(_, v)| !v.is_empty()) {
            req = req.insert_header((*k, *v));
        }
        let mut res = req.send_body(body).await.expect("request sent");
        let bytes = res.body().limit(16 * 1024 * 1024).await.expect("body read");
        let text = String::from_utf8_lossy(&bytes).to_string();
        Resp {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text,
        }
    }

    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.send(
            method,
            path,
            Some("application/json"),
            body.to_string().into_bytes(),
            headers,
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, Vec::new(), &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.json(Method::POST, path, body, &[]).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.json(Method::PUT, path, body, &[]).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.json(Method::PATCH, path, body, &[]).await
    }

    /// Creates a customer and returns its body.
    pub async fn create_customer(&self, name: &str, email: &str) -> Value {
        let res = self
            .post(
                "/api/v1/customers",
                &serde_json::json!({"name": name, "email": email}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        res.body
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; its future only reports
        // completion, which nobody waits for here. The database goes when `_test_db` drops.
        drop(self.handle.stop(false));
    }
}

#[test]
fn replaces_database_names() {
    assert_eq!(
        replace_db_name("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        replace_db_name("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(replace_db_name("postgres://h", "x"), "postgres://h/x");
}

impl TestApp {
    /// GET with a chosen credential.
    pub async fn get_as(&self, token: &str, path: &str) -> Resp {
        let auth = format!("Bearer {token}");
        self.send(
            Method::GET,
            path,
            None,
            Vec::new(),
            &[("authorization", auth.as_str())],
        )
        .await
    }

    /// A JSON request with a chosen credential.
    pub async fn json_as(&self, token: &str, method: Method, path: &str, body: &Value) -> Resp {
        let auth = format!("Bearer {token}");
        self.json(method, path, body, &[("authorization", auth.as_str())])
            .await
    }

    /// Signs an organization up; returns the response body (tokens included).
    pub async fn signup(&self, org: &str, email: &str) -> Value {
        let res = self
            .json(
                Method::POST,
                "/api/v1/signup",
                &serde_json::json!({
                    "organization_name": org,
                    "email": email,
                    "password": "correct horse battery",
                }),
                &[ANONYMOUS],
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        res.body
    }
}
