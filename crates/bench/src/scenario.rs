//! The scenarios: what each one sends, on how many connections.
//!
//! A scenario is one or more lanes (groups of connections sending one kind of request)
//! run at the same time; the first lane is the one the report's row describes. To add a
//! scenario: a variant here, its entry in `ALL`, `name` and `about`, and its lanes in
//! `plan` built from what [`Fixture`] holds.

use std::sync::Arc;

use clap::ValueEnum;
use serde_json::json;

use crate::http::build_request;
use crate::load::{Fixed, Lane, PerConnection};
use crate::seed::Fixture;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum)]
pub enum ScenarioId {
    /// GET /health: the framework ceiling (always run).
    Health,
    /// GET /api/v1/projects/{pid}/contacts/{id}: contacts spread over the project.
    GetContact,
    /// POST /api/v1/projects/{pid}/contacts: a durable insert (contact, tags, event).
    CreateContact,
    /// PATCH a contact with If-Match: each connection its own contact and version.
    UpdateContact,
    /// GET the first page of contacts (20, newest first).
    ListFirstPage,
    /// GET a page 10,000 rows deep by cursor.
    ListDeepPage,
    /// GET contacts whose email starts with a `first.last` prefix.
    SearchEmail,
    /// GET contacts that match a search of one to three letters (the first keystrokes
    /// in a search box): the start of a `first.last` prefix, so thousands match.
    SearchShort,
    /// GET contacts that match a whole first or last name (`anna`, then `weber`): what
    /// a search for a person by one name sends, each matching 2-3% of the contacts.
    SearchName,
    /// GET contacts that match a full name of several words, in turn `anna weber`,
    /// `weber anna` and `anna web` (typing the last name): each matches about 650.
    SearchFullName,
    /// POST an order to a contact: order row, statistics and event in one commit.
    RecordOrder,
    /// 90% reads (get, list, search), 10% writes (create), interleaved per connection.
    Mixed,
    /// POST /api/v1/auth/token: sign-in, bound by password hashing.
    Login,
    /// GET /api/v1/customers/{id} with the owner's JWT.
    GetCustomer,
    /// GET /api/v1/channels/{cid}/settings/effective: four levels merged.
    EffectiveSettings,
    /// PATCH /api/v1/channels/{cid}/settings: a durable write with one event.
    PatchChannelSettings,
    /// get-contact while other connections sign in non-stop.
    LoginFlood,
}

impl ScenarioId {
    /// Every scenario, in the order a run measures them: the ceiling first, reads before
    /// writes, the flood last so its hashing load does not spill into other figures.
    pub const ALL: [ScenarioId; 17] = [
        ScenarioId::Health,
        ScenarioId::GetContact,
        ScenarioId::GetCustomer,
        ScenarioId::EffectiveSettings,
        ScenarioId::ListFirstPage,
        ScenarioId::ListDeepPage,
        ScenarioId::SearchEmail,
        ScenarioId::SearchShort,
        ScenarioId::SearchName,
        ScenarioId::SearchFullName,
        ScenarioId::CreateContact,
        ScenarioId::UpdateContact,
        ScenarioId::RecordOrder,
        ScenarioId::PatchChannelSettings,
        ScenarioId::Mixed,
        ScenarioId::Login,
        ScenarioId::LoginFlood,
    ];

    /// Whether the scenario reads or writes seeded contacts.
    pub fn needs_contacts(self) -> bool {
        !matches!(
            self,
            ScenarioId::Health
                | ScenarioId::GetCustomer
                | ScenarioId::EffectiveSettings
                | ScenarioId::PatchChannelSettings
                | ScenarioId::Login
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            ScenarioId::Health => "health",
            ScenarioId::GetContact => "get-contact",
            ScenarioId::CreateContact => "create-contact",
            ScenarioId::UpdateContact => "update-contact",
            ScenarioId::ListFirstPage => "list-first-page",
            ScenarioId::ListDeepPage => "list-deep-page",
            ScenarioId::SearchEmail => "search-email",
            ScenarioId::SearchShort => "search-short",
            ScenarioId::SearchName => "search-name",
            ScenarioId::SearchFullName => "search-full-name",
            ScenarioId::RecordOrder => "record-order",
            ScenarioId::Mixed => "mixed",
            ScenarioId::Login => "login",
            ScenarioId::GetCustomer => "get-customer",
            ScenarioId::EffectiveSettings => "effective-settings",
            ScenarioId::PatchChannelSettings => "patch-channel-settings",
            ScenarioId::LoginFlood => "login-flood",
        }
    }

    /// The scenarios a selection really runs: the ceiling always, login-flood's baseline
    /// with it, each once, in the order of `ALL`.
    pub fn resolve(selected: &[ScenarioId]) -> Vec<ScenarioId> {
        let wanted = |s: ScenarioId| {
            selected.is_empty()
                || s == ScenarioId::Health
                || selected.contains(&s)
                || (s == ScenarioId::GetContact && selected.contains(&ScenarioId::LoginFlood))
        };
        ScenarioId::ALL.into_iter().filter(|s| wanted(*s)).collect()
    }

    /// The lanes of this scenario at `connections` connections in all, or why it cannot
    /// run (a contact scenario without seeded contacts).
    pub fn plan(self, p: &PlanInput) -> Result<Vec<Lane>, String> {
        let f = p.fixture;
        let host = p.host.as_str();
        let bearer = format!("Bearer {}", f.owner_token);
        let get = |path: &str| {
            build_request(
                "GET",
                path,
                host,
                &[("Authorization", &bearer), ("Accept", "application/json")],
                None,
            )
        };
        if self.needs_contacts() && f.contacts.is_none() {
            return Err(format!(
                "{} needs seeded contacts (--contacts)",
                self.name()
            ));
        }
        let contact_reqs = || ContactRequests::new(f, host);
        let lane =
            |name: &str, connections: usize, requests: Arc<dyn crate::load::RequestGen>| Lane {
                name: name.to_string(),
                connections,
                requests,
            };
        // One lane of this scenario's name on every connection, each request made by
        // `write` from the seeded contacts.
        let contact_lane = |write: fn(&ContactRequests, usize, u64, &mut Vec<u8>)| {
            let c = contact_reqs()?;
            let gen = move |conn: usize, seq: u64, out: &mut Vec<u8>| write(&c, conn, seq, out);
            Ok::<_, String>(vec![lane(self.name(), p.connections, Arc::new(gen))])
        };
        Ok(match self {
            ScenarioId::Health => vec![lane(
                "health",
                p.connections,
                Arc::new(Fixed(build_request("GET", "/health", host, &[], None))),
            )],
            ScenarioId::GetCustomer => vec![lane(
                "get-customer",
                p.connections,
                Arc::new(Fixed(get(&format!("/api/v1/customers/{}", f.customer_id)))),
            )],
            ScenarioId::EffectiveSettings => vec![lane(
                "effective-settings",
                p.connections,
                Arc::new(Fixed(get(&format!(
                    "/api/v1/channels/{}/settings/effective",
                    f.channel_ids[0]
                )))),
            )],
            ScenarioId::PatchChannelSettings => {
                // Per connection its own channel (cycling when there are more
                // connections than channels), and a value that changes every time so
                // every request is a real write.
                let channels = f.channel_ids.clone();
                let host = host.to_string();
                let bearer = bearer.clone();
                let gen = move |conn: usize, seq: u64, out: &mut Vec<u8>| {
                    let cid = &channels[conn % channels.len()];
                    let body = json!({"session_timeout": 1 + seq % 1440}).to_string();
                    out.extend_from_slice(&build_request(
                        "PATCH",
                        &format!("/api/v1/channels/{cid}/settings"),
                        &host,
                        &[
                            ("Authorization", &bearer),
                            ("Content-Type", "application/json"),
                            ("Accept", "application/json"),
                        ],
                        Some(body.as_bytes()),
                    ));
                };
                vec![lane("patch-channel-settings", p.connections, Arc::new(gen))]
            }
            ScenarioId::Login => vec![lane("login", p.connections, login_requests(f, host))],
            ScenarioId::LoginFlood => {
                let flood = p.flood_connections.min(p.connections.saturating_sub(1));
                let c = contact_reqs()?;
                vec![
                    lane(
                        "get-contact",
                        p.connections - flood,
                        Arc::new(move |conn: usize, seq: u64, out: &mut Vec<u8>| {
                            c.get(conn, seq, out)
                        }),
                    ),
                    lane("login", flood, login_requests(f, host)),
                ]
            }
            ScenarioId::GetContact => contact_lane(ContactRequests::get)?,
            ScenarioId::ListFirstPage => {
                let c = contact_reqs()?;
                vec![lane(
                    self.name(),
                    p.connections,
                    Arc::new(Fixed(c.list_first_page())),
                )]
            }
            ScenarioId::ListDeepPage => {
                let c = contact_reqs()?;
                vec![lane(
                    self.name(),
                    p.connections,
                    Arc::new(Fixed(c.list_deep_page())),
                )]
            }
            ScenarioId::SearchEmail => contact_lane(ContactRequests::search)?,
            ScenarioId::SearchShort => contact_lane(ContactRequests::search_short)?,
            ScenarioId::SearchName => contact_lane(ContactRequests::search_name)?,
            ScenarioId::SearchFullName => contact_lane(ContactRequests::search_full_name)?,
            ScenarioId::CreateContact => {
                contact_lane(|c, conn, seq, out| c.create("c", conn, seq, out))?
            }
            ScenarioId::UpdateContact => contact_lane(ContactRequests::update)?,
            ScenarioId::RecordOrder => contact_lane(ContactRequests::order)?,
            ScenarioId::Mixed => {
                let c = contact_reqs()?;
                let first = c.list_first_page();
                vec![lane(
                    "mixed",
                    p.connections,
                    Arc::new(move |conn: usize, seq: u64, out: &mut Vec<u8>| {
                        // Nine reads, then one write, on every connection.
                        match seq % 10 {
                            6 => out.extend_from_slice(&first),
                            7 => c.search(conn, seq / 10, out),
                            9 => c.create("m", conn, seq / 10, out),
                            _ => c.get(conn, seq, out),
                        }
                    }),
                )]
            }
        })
    }
}

/// The requests of the contact scenarios, over the fixture's seeded contacts.
struct ContactRequests {
    host: String,
    bearer: String,
    base: String,
    set: crate::seed::ContactSet,
    run_tag: String,
}

impl ContactRequests {
    fn new(f: &Fixture, host: &str) -> Result<ContactRequests, String> {
        Ok(ContactRequests {
            host: host.to_string(),
            bearer: format!("Bearer {}", f.owner_token),
            base: format!("/api/v1/projects/{}/contacts", f.project_id),
            set: f.contacts.clone().ok_or("no seeded contacts")?,
            run_tag: f.run_tag.clone(),
        })
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
        out: &mut Vec<u8>,
    ) {
        let mut headers = vec![
            ("Authorization", self.bearer.as_str()),
            ("Accept", "application/json"),
        ];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        headers.extend_from_slice(extra);
        out.extend_from_slice(&build_request(method, path, &self.host, &headers, body));
    }

    /// Contacts spread over the project; connections start at different places so they
    /// do not read the same rows in step.
    fn get(&self, conn: usize, seq: u64, out: &mut Vec<u8>) {
        let ids = &self.set.read_ids;
        let i = (conn as u64 * 7_919 + seq * 31) as usize % ids.len();
        self.send("GET", &format!("{}/{}", self.base, ids[i]), &[], None, out);
    }

    fn list_first_page(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.send(
            "GET",
            &format!("{}?limit=20", self.base),
            &[],
            None,
            &mut out,
        );
        out
    }

    fn list_deep_page(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let path = format!("{}?limit=20&cursor={}", self.base, self.set.deep_cursor);
        self.send("GET", &path, &[], None, &mut out);
        out
    }

    fn search(&self, conn: usize, seq: u64, out: &mut Vec<u8>) {
        let prefixes = &self.set.search_prefixes;
        let prefix = &prefixes[(conn + seq as usize) % prefixes.len()];
        self.send(
            "GET",
            &format!("{}?search={prefix}&limit=20", self.base),
            &[],
            None,
            out,
        );
    }

    /// One to three letters of a search prefix, in turn: `a`, `an`, `ann`.
    fn search_short(&self, conn: usize, seq: u64, out: &mut Vec<u8>) {
        let prefixes = &self.set.search_prefixes;
        let k = conn + seq as usize;
        let prefix = &prefixes[(k / 3) % prefixes.len()];
        let short: String = prefix.chars().take(1 + k % 3).collect();
        self.send(
            "GET",
            &format!("{}?search={short}&limit=20", self.base),
            &[],
            None,
            out,
        );
    }

    /// The full name of a search prefix, in turn: first and last, last and first, and
    /// first and the last's first three letters (`anna weber`, `weber anna`, `anna web`
    /// from `anna.weber`), the space sent as `%20`.
    fn search_full_name(&self, conn: usize, seq: u64, out: &mut Vec<u8>) {
        let prefixes = &self.set.search_prefixes;
        let k = conn + seq as usize;
        let prefix = &prefixes[(k / 3) % prefixes.len()];
        let (first, last) = prefix.split_once('.').unwrap_or((prefix, prefix));
        let typed: String = last.chars().take(3).collect();
        let text = match k % 3 {
            0 => format!("{first}%20{last}"),
            1 => format!("{last}%20{first}"),
            _ => format!("{first}%20{typed}"),
        };
        self.send(
            "GET",
            &format!("{}?search={text}&limit=20", self.base),
            &[],
            None,
            out,
        );
    }

    /// A whole name of a search prefix, in turn: the first name, then the last
    /// (`anna`, `weber` from `anna.weber`).
    fn search_name(&self, conn: usize, seq: u64, out: &mut Vec<u8>) {
        let prefixes = &self.set.search_prefixes;
        let k = conn + seq as usize;
        let prefix = &prefixes[(k / 2) % prefixes.len()];
        let mut names = prefix.split('.');
        let first = names.next().unwrap_or(prefix);
        let name = if k.is_multiple_of(2) {
            first
        } else {
            names.next().unwrap_or(first)
        };
        self.send(
            "GET",
            &format!("{}?search={name}&limit=20", self.base),
            &[],
            None,
            out,
        );
    }

    /// A new contact with an email no other request of any run uses, named like the
    /// seeded ones. Once a run's creates are the newest rows of a kept database, a
    /// later run's short and one-name searches look for their page among them first;
    /// under one fixed name that matched none of those searches, every such search
    /// then read all its matches (135 short searches a second against 3,816 on the
    /// fresh database: BENCHMARKS-HISTORY.md, twenty-fourth session).
    fn create(&self, kind: &str, conn: usize, seq: u64, out: &mut Vec<u8>) {
        let (first, last) = crate::bulk::name(((conn as u64) << 40) ^ seq);
        let body = json!({
            "first_name": first,
            "last_name": last,
            "email": format!("{kind}{conn}.{seq}.{}@new.bench.example.com", self.run_tag),
            "phone": "+49 30 1234567",
            "tags": ["bench", "new"],
            "source": "website",
        })
        .to_string();
        self.send("POST", &self.base, &[], Some(body.as_bytes()), out);
    }

    /// The connection's own contact, whose version is 1 + the updates it has had.
    fn update(&self, conn: usize, seq: u64, out: &mut Vec<u8>) {
        let id = &self.set.update_ids[conn % self.set.update_ids.len()];
        let tier = ["free", "basic", "pro", "enterprise"][seq as usize % 4];
        let body = json!({"tier": tier, "custom_attributes": {"bench_seq": seq}}).to_string();
        let if_match = format!("\"{}\"", seq + 1);
        self.send(
            "PATCH",
            &format!("{}/{id}", self.base),
            &[("If-Match", &if_match)],
            Some(body.as_bytes()),
            out,
        );
    }

    fn order(&self, conn: usize, seq: u64, out: &mut Vec<u8>) {
        let id = &self.set.order_ids[conn % self.set.order_ids.len()];
        let body = json!({
            "order_id": format!("bench-{}-{conn}-{seq}", self.run_tag),
            "amount": 1_999 + (seq % 100) as i64,
            "currency": "EUR",
        })
        .to_string();
        self.send(
            "POST",
            &format!("{}/{id}/orders", self.base),
            &[],
            Some(body.as_bytes()),
            out,
        );
    }
}

/// Sign-ins cycling over the fixture's members, one account per connection.
fn login_requests(f: &Fixture, host: &str) -> Arc<PerConnection> {
    let requests = f
        .members
        .iter()
        .map(|m| {
            let body = json!({"email": m.email, "password": m.password}).to_string();
            build_request(
                "POST",
                "/api/v1/auth/token",
                host,
                &[
                    ("Content-Type", "application/json"),
                    ("Accept", "application/json"),
                ],
                Some(body.as_bytes()),
            )
        })
        .collect();
    Arc::new(PerConnection(requests))
}

pub struct PlanInput<'a> {
    pub fixture: &'a Fixture,
    pub host: String,
    pub connections: usize,
    pub flood_connections: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Credentials;

    fn fixture() -> Fixture {
        Fixture {
            customer_id: "c1".into(),
            project_id: "p1".into(),
            channel_ids: vec!["ch0".into(), "ch1".into()],
            owner: Credentials {
                email: "o@x.com".into(),
                password: "pw".into(),
            },
            owner_token: "tok".into(),
            members: vec![
                Credentials {
                    email: "m0@x.com".into(),
                    password: "p0".into(),
                },
                Credentials {
                    email: "m1@x.com".into(),
                    password: "p1".into(),
                },
            ],
            contacts: Some(crate::seed::ContactSet {
                read_ids: vec!["r0".into(), "r1".into(), "r2".into()],
                update_ids: (0..8).map(|i| format!("u{i}")).collect(),
                order_ids: (0..8).map(|i| format!("o{i}")).collect(),
                search_prefixes: vec!["anna.weber".into(), "ben.koch".into()],
                deep_cursor: "CUR".into(),
                deep_rows: 500,
            }),
            run_tag: "run1".into(),
        }
    }

    fn request(lane: &Lane, conn: usize, seq: u64) -> String {
        let mut out = Vec::new();
        lane.requests.write(conn, seq, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn selection_always_has_the_ceiling_first() {
        use ScenarioId::*;
        assert_eq!(ScenarioId::resolve(&[]), ScenarioId::ALL.to_vec());
        assert_eq!(ScenarioId::resolve(&[Login]), vec![Health, Login]);
        assert_eq!(
            ScenarioId::resolve(&[LoginFlood, Health, LoginFlood]),
            vec![Health, GetContact, LoginFlood]
        );
        // Names on the command line are the report's names.
        for s in ScenarioId::ALL {
            assert_eq!(ScenarioId::from_str(s.name(), false), Ok(s));
        }
    }

    #[test]
    fn lanes_send_what_they_claim() {
        let f = fixture();
        let input = PlanInput {
            fixture: &f,
            host: "127.0.0.1:1".into(),
            connections: 8,
            flood_connections: 3,
        };
        let lanes = ScenarioId::GetCustomer.plan(&input).unwrap();
        assert_eq!(lanes.len(), 1);
        let r = request(&lanes[0], 0, 0);
        assert!(
            r.starts_with("GET /api/v1/customers/c1 HTTP/1.1\r\n"),
            "{r}"
        );
        assert!(r.contains("Authorization: Bearer tok\r\n"));

        let lanes = ScenarioId::PatchChannelSettings.plan(&input).unwrap();
        let a = request(&lanes[0], 0, 5);
        let b = request(&lanes[0], 1, 6);
        let c = request(&lanes[0], 2, 7);
        assert!(a.starts_with("PATCH /api/v1/channels/ch0/settings "), "{a}");
        assert!(b.starts_with("PATCH /api/v1/channels/ch1/settings "), "{b}");
        assert!(c.starts_with("PATCH /api/v1/channels/ch0/settings "), "{c}");
        assert!(a.ends_with("{\"session_timeout\":6}"), "{a}");
        assert!(a.contains("Content-Length: 21\r\n"), "{a}");

        let lanes = ScenarioId::LoginFlood.plan(&input).unwrap();
        assert_eq!(
            lanes
                .iter()
                .map(|l| (l.name.as_str(), l.connections))
                .collect::<Vec<_>>(),
            vec![("get-contact", 5), ("login", 3)]
        );
        let login0 = request(&lanes[1], 0, 0);
        let login1 = request(&lanes[1], 1, 0);
        assert!(login0.starts_with("POST /api/v1/auth/token "));
        assert!(
            login0.ends_with(r#"{"email":"m0@x.com","password":"p0"}"#),
            "{login0}"
        );
        assert!(login1.contains("m1@x.com"));
        assert!(!login0.contains("Authorization"));
    }

    #[test]
    fn contact_scenarios_send_what_they_claim() {
        let mut f = fixture();
        let input = PlanInput {
            fixture: &f,
            host: "h".into(),
            connections: 8,
            flood_connections: 3,
        };
        let one = |id: ScenarioId, conn: usize, seq: u64| {
            let lanes = id.plan(&input).unwrap();
            assert_eq!(lanes.len(), 1);
            request(&lanes[0], conn, seq)
        };
        let get = one(ScenarioId::GetContact, 1, 0);
        assert!(
            get.starts_with("GET /api/v1/projects/p1/contacts/r"),
            "{get}"
        );
        assert!(get.contains("Authorization: Bearer tok\r\n"));

        // Updates chain the connection's own contact's versions: 1, 2, 3...
        let u0 = one(ScenarioId::UpdateContact, 3, 0);
        let u1 = one(ScenarioId::UpdateContact, 3, 1);
        assert!(
            u0.starts_with("PATCH /api/v1/projects/p1/contacts/u3 "),
            "{u0}"
        );
        assert!(u0.contains("If-Match: \"1\"\r\n"), "{u0}");
        assert!(u1.contains("If-Match: \"2\"\r\n"), "{u1}");

        // Writes never repeat an email or order id across connections or requests.
        let c1 = one(ScenarioId::CreateContact, 0, 1);
        let c2 = one(ScenarioId::CreateContact, 1, 0);
        assert!(c1.starts_with("POST /api/v1/projects/p1/contacts "), "{c1}");
        assert!(c1.contains("c0.1.run1@"), "{c1}");
        assert!(c2.contains("c1.0.run1@"), "{c2}");
        // Named as the seeded contacts are: the searches' names, not one fixed name.
        let names: std::collections::HashSet<String> = (0..64)
            .map(|seq| {
                let c = one(ScenarioId::CreateContact, 3, seq);
                let body = c.split("\r\n\r\n").nth(1).unwrap().to_string();
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                format!("{} {}", v["first_name"], v["last_name"])
            })
            .collect();
        assert!(names.len() > 32, "{names:?}");
        assert!(
            names.iter().any(|n| n.starts_with("\"Anna\" ")),
            "{names:?}"
        );
        let o = one(ScenarioId::RecordOrder, 2, 9);
        assert!(
            o.starts_with("POST /api/v1/projects/p1/contacts/o2/orders "),
            "{o}"
        );
        assert!(o.contains("\"order_id\":\"bench-run1-2-9\""), "{o}");

        let deep = one(ScenarioId::ListDeepPage, 0, 0);
        assert!(deep.starts_with("GET /api/v1/projects/p1/contacts?limit=20&cursor=CUR "));
        let search = one(ScenarioId::SearchEmail, 0, 1);
        assert!(search.starts_with("GET /api/v1/projects/p1/contacts?search=ben.koch&limit=20 "));
        // Four requests in a row of each search that changes its text per request.
        for (scenario, texts) in [
            (ScenarioId::SearchShort, ["a", "an", "ann", "b"]),
            (ScenarioId::SearchName, ["anna", "weber", "ben", "koch"]),
            (
                ScenarioId::SearchFullName,
                ["anna%20weber", "weber%20anna", "anna%20web", "ben%20koch"],
            ),
        ] {
            for (seq, q) in texts.iter().enumerate() {
                let req = one(scenario, 0, seq as u64);
                let want = format!("GET /api/v1/projects/p1/contacts?search={q}&limit=20 ");
                assert!(req.starts_with(&want), "{req}");
            }
        }

        // Mixed: one write in ten.
        let writes = (0..100)
            .filter(|seq| one(ScenarioId::Mixed, 0, *seq).starts_with("POST "))
            .count();
        assert_eq!(writes, 10);

        f.contacts = None;
        let input = PlanInput {
            fixture: &f,
            host: "h".into(),
            connections: 8,
            flood_connections: 3,
        };
        let err = ScenarioId::GetContact.plan(&input).err().unwrap();
        assert!(err.contains("--contacts"), "{err}");
    }
}
