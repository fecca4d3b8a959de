//! The data the scenarios run against, set up before any load.
//!
//! Stage 1, [`tenant`]: over HTTP, the way a user creates it: a sign-up (customer,
//! billing account, default project, owner), settings at customer and project level,
//! channels with their own overrides, and members who sign in during the login
//! scenarios. Few rows, so the API's own routes are fast enough and exercise the same
//! code the benchmark then measures.
//!
//! Stage 2, bulk data ([`crate::bulk`]): large volumes (1,000,000 contacts with tags,
//! addresses and orders) go straight through the persistence layer into the server's
//! database, into the fixture's project and a few other projects and tenants, and report
//! their own rate. Stage 3, [`contact_set`]: over HTTP again, what the contact scenarios
//! read (a cursor 10,000 rows deep, as a client would reach it).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::{build_request, Conn};

/// Channels written to by patch-channel-settings: one per connection up to this many, so
/// the figure is the durable write path, not a queue on one row's lock.
pub const MAX_CHANNELS: usize = 64;
/// Accounts that sign in during login and login-flood (one per connection, cycling), so
/// no single user row takes every login's write.
pub const MEMBERS: usize = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// What the scenarios need to know about the seeded data (kept with a kept database).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fixture {
    pub customer_id: String,
    pub project_id: String,
    /// `channel_ids[0]` is read by effective-settings; all are written by
    /// patch-channel-settings.
    pub channel_ids: Vec<String>,
    pub owner: Credentials,
    /// The owner's access token; renewed before every scenario by [`Fixture::renew_token`].
    #[serde(skip)]
    pub owner_token: String,
    /// Plain members who only sign in.
    pub members: Vec<Credentials>,
    /// Filled by the bulk stage.
    pub contacts: Option<ContactSet>,
    /// Unique per run: keeps the emails and order ids of the write scenarios apart from
    /// those of earlier runs against the same server.
    pub run_tag: String,
}

/// What the contact scenarios need to know about the seeded contacts of the fixture's
/// project.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContactSet {
    /// Contacts spread over the whole project, read by get-contact and mixed.
    pub read_ids: Vec<String>,
    /// One contact per connection, at version 1, for update-contact (a connection's
    /// n-th update sends `If-Match: "n+1"`).
    pub update_ids: Vec<String>,
    /// One contact per connection for record-order.
    pub order_ids: Vec<String>,
    /// `first.last` email prefixes, each matching hundreds of contacts.
    pub search_prefixes: Vec<String>,
    /// The `next_cursor` after `deep_rows` rows of the default order (newest first).
    pub deep_cursor: String,
    pub deep_rows: u64,
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

/// Signs a new tenant up; the answer holds its customer, project and tokens.
async fn signup(setup: &mut Setup, organization: &str, who: &Credentials) -> Result<Value, String> {
    let body = json!({
        "organization_name": organization,
        "email": who.email,
        "password": who.password,
    });
    setup
        .json("POST", "/api/v1/signup", None, Some(&body), 201)
        .await
        .map_err(|e| format!("sign-up of {}: {e}", who.email))
}

/// Unique per run, so that runs against a long-lived server (--url) or a kept database
/// (--reuse) do not collide: twelve random hex digits.
pub fn run_tag() -> String {
    let run = uuid::Uuid::now_v7().simple().to_string();
    run[run.len() - 12..].to_string()
}

/// Stage 1: one tenant set up over HTTP. `channels` is how many channels to create
/// (at least one, at most [`MAX_CHANNELS`]).
pub async fn tenant(setup: &mut Setup, channels: usize) -> Result<Fixture, String> {
    let tag = &run_tag();
    let owner = Credentials {
        email: format!("owner-{tag}@bench.example.com"),
        password: format!("bench owner password {tag}"),
    };
    let signed_up = signup(setup, &format!("Bench {tag}"), &owner).await?;
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
        contacts: None,
        run_tag: tag.to_string(),
    })
}

/// The other places contacts are seeded into, so that the fixture's project is not the
/// only data in the database: a second project of the fixture's tenant and the default
/// projects of two more tenants (signed up over HTTP). Returns (customer, project) ids.
pub async fn other_projects(
    setup: &mut Setup,
    fixture: &Fixture,
) -> Result<Vec<(String, String)>, String> {
    let t = Some(fixture.owner_token.as_str());
    let p = setup
        .json(
            "POST",
            &format!("/api/v1/customers/{}/projects", fixture.customer_id),
            t,
            Some(&json!({"name": "Bench second project", "slug": "bench-second"})),
            201,
        )
        .await
        .map_err(|e| format!("second project: {e}"))?;
    let mut out = vec![(
        fixture.customer_id.clone(),
        field(&p, "/id", "create project")?,
    )];
    for k in 0..2 {
        let neighbour = Credentials {
            email: format!("neighbour{k}-{}@bench.example.com", fixture.run_tag),
            password: format!("bench neighbour password {k} {}", fixture.run_tag),
        };
        let name = format!("Bench neighbour {k} {}", fixture.run_tag);
        let signed_up = signup(setup, &name, &neighbour).await?;
        out.push((
            field(&signed_up, "/customer/id", "sign-up")?,
            field(&signed_up, "/project/id", "sign-up")?,
        ));
    }
    Ok(out)
}

/// How deep the deep-page scenario reads (or half the project, when smaller).
pub const DEEP_ROWS: u64 = 10_000;

/// Stage 3: from the seeded sample of ids, the sets the scenarios use, and a cursor
/// `DEEP_ROWS` deep reached page by page as a client would.
pub async fn contact_set(
    setup: &mut Setup,
    fixture: &Fixture,
    seeded: &crate::bulk::Seeded,
    connections: usize,
) -> Result<ContactSet, String> {
    let ids: Vec<String> = seeded.sample.iter().map(|u| u.to_string()).collect();
    // Writers take their own contacts from the end of the sample, readers the rest.
    if ids.len() < 2 * connections + 16 {
        return Err(format!(
            "{} contacts are too few for {connections} connections: seed more (--contacts)",
            seeded.count
        ));
    }
    let (read, writers) = ids.split_at(ids.len() - 2 * connections);
    let (update_ids, order_ids) = writers.split_at(connections);
    let mut search_prefixes: Vec<String> = (0..256u64)
        .map(|k| {
            let email = crate::bulk::email(&seeded.label, k * 7_919 % seeded.count.max(1));
            let mut parts = email.splitn(3, '.');
            format!(
                "{}.{}",
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default()
            )
        })
        .collect();
    search_prefixes.dedup();

    let deep_rows = DEEP_ROWS.min(seeded.count / 2).max(100);
    let t = Some(fixture.owner_token.as_str());
    let base = format!("/api/v1/projects/{}/contacts?limit=100", fixture.project_id);
    let mut cursor: Option<String> = None;
    for page in 0..deep_rows / 100 {
        let path = match &cursor {
            Some(c) => format!("{base}&cursor={c}"),
            None => base.clone(),
        };
        let v = setup
            .json("GET", &path, t, None, 200)
            .await
            .map_err(|e| format!("walking to the deep page: {e}"))?;
        cursor = Some(field(&v, "/next_cursor", &format!("contacts page {page}"))?);
    }
    Ok(ContactSet {
        read_ids: read.to_vec(),
        update_ids: update_ids.to_vec(),
        order_ids: order_ids.to_vec(),
        search_prefixes,
        deep_cursor: cursor.ok_or("no deep cursor")?,
        deep_rows,
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
