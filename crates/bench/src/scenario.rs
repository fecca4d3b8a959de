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
    /// POST /api/v1/auth/token: sign-in, bound by password hashing.
    Login,
    /// GET /api/v1/customers/{id} with the owner's JWT.
    GetCustomer,
    /// GET /api/v1/channels/{cid}/settings/effective: four levels merged.
    EffectiveSettings,
    /// PATCH /api/v1/channels/{cid}/settings: a durable write with one event.
    PatchChannelSettings,
    /// get-customer while other connections sign in non-stop.
    LoginFlood,
}

impl ScenarioId {
    /// Every scenario, in the order a run measures them: the ceiling first, reads before
    /// writes, the flood last so its hashing load does not spill into other figures.
    pub const ALL: [ScenarioId; 6] = [
        ScenarioId::Health,
        ScenarioId::GetCustomer,
        ScenarioId::EffectiveSettings,
        ScenarioId::PatchChannelSettings,
        ScenarioId::Login,
        ScenarioId::LoginFlood,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ScenarioId::Health => "health",
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
                || (s == ScenarioId::GetCustomer && selected.contains(&ScenarioId::LoginFlood))
        };
        ScenarioId::ALL.into_iter().filter(|s| wanted(*s)).collect()
    }

    /// The lanes of this scenario at `connections` connections in all.
    pub fn plan(self, p: &PlanInput) -> Vec<Lane> {
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
        let lane =
            |name: &str, connections: usize, requests: Arc<dyn crate::load::RequestGen>| Lane {
                name: name.to_string(),
                connections,
                requests,
            };
        match self {
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
                vec![
                    lane(
                        "get-customer",
                        p.connections - flood,
                        Arc::new(Fixed(get(&format!("/api/v1/customers/{}", f.customer_id)))),
                    ),
                    lane("login", flood, login_requests(f, host)),
                ]
            }
        }
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
            vec![Health, GetCustomer, LoginFlood]
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
        let lanes = ScenarioId::GetCustomer.plan(&input);
        assert_eq!(lanes.len(), 1);
        let r = request(&lanes[0], 0, 0);
        assert!(
            r.starts_with("GET /api/v1/customers/c1 HTTP/1.1\r\n"),
            "{r}"
        );
        assert!(r.contains("Authorization: Bearer tok\r\n"));

        let lanes = ScenarioId::PatchChannelSettings.plan(&input);
        let a = request(&lanes[0], 0, 5);
        let b = request(&lanes[0], 1, 6);
        let c = request(&lanes[0], 2, 7);
        assert!(a.starts_with("PATCH /api/v1/channels/ch0/settings "), "{a}");
        assert!(b.starts_with("PATCH /api/v1/channels/ch1/settings "), "{b}");
        assert!(c.starts_with("PATCH /api/v1/channels/ch0/settings "), "{c}");
        assert!(a.ends_with("{\"session_timeout\":6}"), "{a}");
        assert!(a.contains("Content-Length: 21\r\n"), "{a}");

        let lanes = ScenarioId::LoginFlood.plan(&input);
        assert_eq!(
            lanes
                .iter()
                .map(|l| (l.name.as_str(), l.connections))
                .collect::<Vec<_>>(),
            vec![("get-customer", 5), ("login", 3)]
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
}
