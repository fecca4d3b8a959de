//! The data the scenarios run against, set up before any load.
//!
//! Stage 1, [`tenant`]: over HTTP, the way a user creates it: a sign-up (customer,
//! billing account, default project, owner), settings at customer and project level,
//! channels with their own overrides, and members who sign in during the login
//! scenarios. Few rows, so the API's own routes are fast enough and exercise the same
//! code the benchmark then measures.
//!
//! Stage 2, bulk data (contacts, to come): large volumes (1,000,000 contacts with tags,
//! addresses and orders) go straight through the persistence layer
//! (`clientele_persistence::contacts`) into the server's database, into the fixture's
//! customer and project, and report their own rate. See the note at the end.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::{build_request, Conn};

/// Channels written to by patch-channel-settings: one per connection up to this many, so
/// the figure is the durable write path, not a queue on one row's lock.
pub const MAX_CHANNELS: usize = 64;
/// Accounts that sign in during login and login-flood (one per connection, cycling), so
/// no single user row takes every login's write.
pub const MEMBERS: usize = 8;

#[derive(Debug, Clone)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// What the scenarios need to know about the seeded data.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub customer_id: String,
    pub project_id: String,
    /// `channel_ids[0]` is read by effective-settings; all are written by
    /// patch-channel-settings.
    pub channel_ids: Vec<String>,
    pub owner: Credentials,
    /// The owner's access token; renewed before every scenario by [`Fixture::renew_token`].
    pub owner_token: String,
    /// Plain members who only sign in.
    pub members: Vec<Credentials>,
    // Contacts: a `contacts: Option<ContactSet>` (ids to read, a project with a known
    // row count, cursors for deep pages) filled by the bulk stage goes here.
}

/// Set-up requests over one keep-alive connection.
pub struct Setup {
    addr: SocketAddr,
    host: String,
    conn: Option<Conn>,
    last_used: Instant,
}

/// A set-up connection idle longer than this is replaced before use: servers close idle
/// keep-alive connections (actix after 5 s), and a request written into a connection the
/// server is closing fails without an answer.
const MAX_IDLE: Duration = Duration::from_secs(1);

impl Setup {
    pub fn new(addr: SocketAddr, host: String) -> Setup {
        Setup {
            addr,
            host,
            conn: None,
            last_used: Instant::now(),
        }
    }

    /// Sends a JSON request and returns the JSON answer, or an error naming the request
    /// and the server's problem document when the status is not `expect`.
    pub async fn json(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        expect: u16,
    ) -> Result<Value, String> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Accept", "application/json")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        let body_bytes = body.map(|b| b.to_string().into_bytes());
        if body_bytes.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let req = build_request(method, path, &self.host, &headers, body_bytes.as_deref());
        if self.last_used.elapsed() > MAX_IDLE {
            self.conn = None;
        }
        let conn = match self.conn.as_mut() {
            Some(c) => c,
            None => self.conn.insert(
                Conn::connect(self.addr)
                    .await
                    .map_err(|e| format!("cannot connect to {}: {e}", self.addr))?,
            ),
        };
        let result = conn.fetch(&req).await;
        self.last_used = Instant::now();
        let (head, body) = match result {
            Ok(r) => r,
            Err(e) => {
                self.conn = None;
                return Err(format!("{method} {path}: {e}"));
            }
        };
        if head.close {
            self.conn = None;
        }
        if head.status != expect {
            return Err(format!(
                "{method} {path}: expected {expect}, got {}: {}",
                head.status,
                String::from_utf8_lossy(&body)
            ));
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body)
            .map_err(|e| format!("{method} {path}: the answer is not JSON: {e}"))
    }
}

/// Reads a string field at a JSON pointer (`/customer/id`), or says which is missing.
fn field(v: &Value, pointer: &str, what: &str) -> Result<String, String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("{what}: the answer has no `{pointer}`: {v}"))
}

/// Stage 1: one tenant set up over HTTP. `channels` is how many channels to create
/// (at least one, at most [`MAX_CHANNELS`]).
pub async fn tenant(setup: &mut Setup, channels: usize) -> Result<Fixture, String> {
    // Unique per run, so runs against a long-lived server (--url) do not collide.
    let run = uuid::Uuid::now_v7().simple().to_string();
    let tag = &run[run.len() - 12..];
    let owner = Credentials {
        email: format!("owner-{tag}@bench.example.com"),
        password: format!("bench owner password {tag}"),
    };
    let signed_up = setup
        .json(
            "POST",
            "/api/v1/signup",
            None,
            Some(&json!({
                "organization_name": format!("Bench {tag}"),
                "email": owner.email,
                "password": owner.password,
            })),
            201,
        )
        .await
        .map_err(|e| format!("sign-up: {e}"))?;
    let customer_id = field(&signed_up, "/customer/id", "sign-up")?;
    let project_id = field(&signed_up, "/project/id", "sign-up")?;
    let token = field(&signed_up, "/access_token", "sign-up")?;
    let t = Some(token.as_str());

    // Overrides at every level, so effective settings merge real layers.
    setup
        .json(
            "PATCH",
            &format!("/api/v1/customers/{customer_id}/settings"),
            t,
            Some(&json!({
                "session_timeout": 30,
                "locale": "en-US",
                "security": {"require_2fa": true},
                "features": {"ai_enabled": true},
            })),
            200,
        )
        .await?;
    setup
        .json(
            "PATCH",
            &format!("/api/v1/projects/{project_id}/settings"),
            t,
            Some(&json!({"session_timeout": 60, "timezone": "Europe/Berlin"})),
            200,
        )
        .await?;
    let mut channel_ids = Vec::new();
    for i in 0..channels.clamp(1, MAX_CHANNELS) {
        let c = setup
            .json(
                "POST",
                &format!("/api/v1/projects/{project_id}/channels"),
                t,
                Some(&json!({
                    "kind": "email",
                    "name": format!("Bench channel {i}"),
                    "settings": {"locale": "de-DE", "session_timeout": 45},
                })),
                201,
            )
            .await?;
        channel_ids.push(field(&c, "/id", "create channel")?);
    }
    let mut members = Vec::new();
    for i in 0..MEMBERS {
        let m = Credentials {
            email: format!("member{i}-{tag}@bench.example.com"),
            password: format!("bench member password {i} {tag}"),
        };
        setup
            .json(
                "POST",
                &format!("/api/v1/customers/{customer_id}/members"),
                t,
                Some(&json!({"email": m.email, "password": m.password, "role": "member"})),
                201,
            )
            .await?;
        members.push(m);
    }
    Ok(Fixture {
        customer_id,
        project_id,
        channel_ids,
        owner,
        owner_token: token,
        members,
    })
}

impl Fixture {
    /// Signs the owner in again: access tokens live 15 minutes, longer than some runs.
    pub async fn renew_token(&mut self, setup: &mut Setup) -> Result<(), String> {
        let t = setup
            .json(
                "POST",
                "/api/v1/auth/token",
                None,
                Some(&json!({"email": self.owner.email, "password": self.owner.password})),
                200,
            )
            .await
            .map_err(|e| format!("owner sign-in: {e}"))?;
        self.owner_token = field(&t, "/access_token", "sign-in")?;
        Ok(())
    }
}

// Stage 2, bulk data through the persistence layer (contacts are not built yet). It goes
// here as `pub fn contacts(database_url: &str, fixture: &mut Fixture, count: u64)
// -> Result<SeedReport, String>`: open `clientele_persistence::Db` on the server's
// database (managed mode knows the URL; with --url it needs --database-url as well),
// insert in large batched transactions into `fixture.customer_id` / `project_id`, store
// the ids and cursors the contact scenarios read in `Fixture`, and report rows/s. main.rs
// calls it right after `tenant`, before the ceiling is measured.
