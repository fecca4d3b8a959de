//! The access table: every route of the OpenAPI document x every kind of caller.
//! A route that is not in the table fails the test, so new routes must be placed.

use actix_web::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clientele_domain::access::CustomerRole;
use clientele_domain::email::Email;
use clientele_domain::identity::{User, UserRole};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{spawn_app, TestApp};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// No credentials needed.
    Public,
    /// Any signed-in person (their own data).
    Person,
    /// Platform admins only (create/list customers, change a customer's status).
    Platform,
    /// Read a customer: its members (any role), platform admins, billing keys.
    CustomerRead,
    /// Change a customer: its owners and admins, platform admins.
    CustomerWrite,
    /// Read what plain members do not see (API keys; billing accounts and usage).
    ManagerRead,
    /// Read a project: owners, admins, billing members, members with a project role.
    ProjectRead,
    /// Change a project: owners, admins, its project admins.
    ProjectWrite,
    /// A collection scoped to the caller's own tenant, for its owners and admins.
    OwnManagerRead,
}

const TABLE: &[(&str, &str, Kind)] = &[
    ("GET", "/health", Kind::Public),
    ("GET", "/ready", Kind::Public),
    ("GET", "/metrics", Kind::Public),
    ("GET", "/openapi.json", Kind::Public),
    ("GET", "/.well-known/jwks.json", Kind::Public),
    ("POST", "/api/v1/signup", Kind::Public),
    ("POST", "/api/v1/auth/token", Kind::Public),
    ("POST", "/api/v1/auth/refresh", Kind::Public),
    ("POST", "/api/v1/auth/logout", Kind::Person),
    ("GET", "/api/v1/me", Kind::Person),
    ("POST", "/api/v1/customers", Kind::Platform),
    ("GET", "/api/v1/customers", Kind::Platform),
    ("GET", "/api/v1/customers/{id}", Kind::CustomerRead),
    ("PUT", "/api/v1/customers/{id}", Kind::CustomerWrite),
    ("GET", "/api/v1/customers/{id}/settings", Kind::CustomerRead),
    (
        "PUT",
        "/api/v1/customers/{id}/settings",
        Kind::CustomerWrite,
    ),
    (
        "PATCH",
        "/api/v1/customers/{id}/settings",
        Kind::CustomerWrite,
    ),
    ("POST", "/api/v1/customers/{id}/suspend", Kind::Platform),
    ("POST", "/api/v1/customers/{id}/activate", Kind::Platform),
    ("POST", "/api/v1/customers/{id}/deactivate", Kind::Platform),
    ("GET", "/api/v1/customers/{id}/members", Kind::CustomerRead),
    (
        "POST",
        "/api/v1/customers/{id}/members",
        Kind::CustomerWrite,
    ),
    (
        "GET",
        "/api/v1/customers/{id}/members/{user_id}",
        Kind::CustomerRead,
    ),
    (
        "PATCH",
        "/api/v1/customers/{id}/members/{user_id}",
        Kind::CustomerWrite,
    ),
    (
        "DELETE",
        "/api/v1/customers/{id}/members/{user_id}",
        Kind::CustomerWrite,
    ),
    ("GET", "/api/v1/customers/{id}/api-keys", Kind::ManagerRead),
    (
        "POST",
        "/api/v1/customers/{id}/api-keys",
        Kind::CustomerWrite,
    ),
    (
        "DELETE",
        "/api/v1/customers/{id}/api-keys/{key_id}",
        Kind::CustomerWrite,
    ),
    ("GET", "/api/v1/projects/{pid}/members", Kind::ProjectRead),
    ("POST", "/api/v1/projects/{pid}/members", Kind::ProjectWrite),
    (
        "PATCH",
        "/api/v1/projects/{pid}/members/{user_id}",
        Kind::ProjectWrite,
    ),
    (
        "DELETE",
        "/api/v1/projects/{pid}/members/{user_id}",
        Kind::ProjectWrite,
    ),
    ("GET", "/api/v1/events", Kind::OwnManagerRead),
    ("GET", "/api/v1/settings/schema", Kind::Public),
    (
        "GET",
        "/api/v1/customers/{id}/settings/locks",
        Kind::CustomerRead,
    ),
    (
        "PUT",
        "/api/v1/customers/{id}/settings/locks",
        Kind::CustomerWrite,
    ),
    (
        "POST",
        "/api/v1/customers/{id}/projects",
        Kind::CustomerWrite,
    ),
    ("GET", "/api/v1/customers/{id}/projects", Kind::CustomerRead),
    ("GET", "/api/v1/projects/{pid}", Kind::ProjectRead),
    ("PATCH", "/api/v1/projects/{pid}", Kind::ProjectWrite),
    ("DELETE", "/api/v1/projects/{pid}", Kind::ProjectWrite),
    ("POST", "/api/v1/projects/{pid}/restore", Kind::ProjectWrite),
    ("GET", "/api/v1/projects/{pid}/settings", Kind::ProjectRead),
    ("PUT", "/api/v1/projects/{pid}/settings", Kind::ProjectWrite),
    (
        "PATCH",
        "/api/v1/projects/{pid}/settings",
        Kind::ProjectWrite,
    ),
    (
        "GET",
        "/api/v1/projects/{pid}/settings/effective",
        Kind::ProjectRead,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/channels",
        Kind::ProjectWrite,
    ),
    ("GET", "/api/v1/projects/{pid}/channels", Kind::ProjectRead),
    ("GET", "/api/v1/channels/{cid}", Kind::ProjectRead),
    ("PATCH", "/api/v1/channels/{cid}", Kind::ProjectWrite),
    ("DELETE", "/api/v1/channels/{cid}", Kind::ProjectWrite),
    ("GET", "/api/v1/channels/{cid}/settings", Kind::ProjectRead),
    ("PUT", "/api/v1/channels/{cid}/settings", Kind::ProjectWrite),
    (
        "PATCH",
        "/api/v1/channels/{cid}/settings",
        Kind::ProjectWrite,
    ),
    (
        "GET",
        "/api/v1/channels/{cid}/settings/effective",
        Kind::ProjectRead,
    ),
    (
        "POST",
        "/api/v1/customers/{id}/billing-accounts",
        Kind::CustomerWrite,
    ),
    (
        "GET",
        "/api/v1/customers/{id}/billing-accounts",
        Kind::ManagerRead,
    ),
    ("GET", "/api/v1/billing-accounts/{bid}", Kind::ManagerRead),
    (
        "PATCH",
        "/api/v1/billing-accounts/{bid}",
        Kind::CustomerWrite,
    ),
    ("GET", "/api/v1/customers/{id}/usage", Kind::ManagerRead),
    ("GET", "/api/v1/billing/customers", Kind::Platform),
    ("GET", "/api/v1/billing/customers/{id}", Kind::Platform),
    ("GET", "/api/v1/customers/{id}/webhooks", Kind::ManagerRead),
    (
        "POST",
        "/api/v1/customers/{id}/webhooks",
        Kind::CustomerWrite,
    ),
    (
        "GET",
        "/api/v1/customers/{id}/webhooks/{wid}",
        Kind::ManagerRead,
    ),
    (
        "PATCH",
        "/api/v1/customers/{id}/webhooks/{wid}",
        Kind::CustomerWrite,
    ),
    (
        "DELETE",
        "/api/v1/customers/{id}/webhooks/{wid}",
        Kind::CustomerWrite,
    ),
    (
        "GET",
        "/api/v1/customers/{id}/webhooks/{wid}/deliveries",
        Kind::ManagerRead,
    ),
    (
        "POST",
        "/api/v1/customers/{id}/webhooks/{wid}/deliveries/{did}/replay",
        Kind::CustomerWrite,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts",
        Kind::ProjectWrite,
    ),
    ("GET", "/api/v1/projects/{pid}/contacts", Kind::ProjectRead),
    (
        "GET",
        "/api/v1/projects/{pid}/contacts/{contact_id}",
        Kind::ProjectRead,
    ),
    (
        "PUT",
        "/api/v1/projects/{pid}/contacts/{contact_id}",
        Kind::ProjectWrite,
    ),
    (
        "PATCH",
        "/api/v1/projects/{pid}/contacts/{contact_id}",
        Kind::ProjectWrite,
    ),
    (
        "DELETE",
        "/api/v1/projects/{pid}/contacts/{contact_id}",
        Kind::ProjectWrite,
    ),
    (
        "GET",
        "/api/v1/projects/{pid}/contacts/by-email/{email}",
        Kind::ProjectRead,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/restore",
        Kind::ProjectWrite,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/qualify",
        Kind::ProjectWrite,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/convert",
        Kind::ProjectWrite,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/churn",
        Kind::ProjectWrite,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/reactivate",
        Kind::ProjectWrite,
    ),
    (
        "PUT",
        "/api/v1/projects/{pid}/contacts/{contact_id}/assign",
        Kind::ProjectWrite,
    ),
    (
        "PUT",
        "/api/v1/projects/{pid}/contacts/{contact_id}/tier",
        Kind::ProjectWrite,
    ),
    (
        "PUT",
        "/api/v1/projects/{pid}/contacts/{contact_id}/tags",
        Kind::ProjectWrite,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/companies",
        Kind::ProjectWrite,
    ),
    ("GET", "/api/v1/projects/{pid}/companies", Kind::ProjectRead),
    (
        "GET",
        "/api/v1/projects/{pid}/companies/{company_id}",
        Kind::ProjectRead,
    ),
    (
        "PATCH",
        "/api/v1/projects/{pid}/companies/{company_id}",
        Kind::ProjectWrite,
    ),
    (
        "DELETE",
        "/api/v1/projects/{pid}/companies/{company_id}",
        Kind::ProjectWrite,
    ),
    (
        "GET",
        "/api/v1/projects/{pid}/companies/{company_id}/contacts",
        Kind::ProjectRead,
    ),
    (
        "GET",
        "/api/v1/projects/{pid}/contacts/{contact_id}/addresses",
        Kind::ProjectRead,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/addresses",
        Kind::ProjectWrite,
    ),
    (
        "PATCH",
        "/api/v1/projects/{pid}/contacts/{contact_id}/addresses/{address_id}",
        Kind::ProjectWrite,
    ),
    (
        "DELETE",
        "/api/v1/projects/{pid}/contacts/{contact_id}/addresses/{address_id}",
        Kind::ProjectWrite,
    ),
    (
        "GET",
        "/api/v1/projects/{pid}/contacts/{contact_id}/notes",
        Kind::ProjectRead,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/notes",
        Kind::ProjectWrite,
    ),
    (
        "PATCH",
        "/api/v1/projects/{pid}/contacts/{contact_id}/notes/{note_id}",
        Kind::ProjectWrite,
    ),
    (
        "DELETE",
        "/api/v1/projects/{pid}/contacts/{contact_id}/notes/{note_id}",
        Kind::ProjectWrite,
    ),
    (
        "GET",
        "/api/v1/projects/{pid}/contacts/{contact_id}/interactions",
        Kind::ProjectRead,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/interactions",
        Kind::ProjectWrite,
    ),
    (
        "GET",
        "/api/v1/projects/{pid}/contacts/{contact_id}/payment-methods",
        Kind::ProjectRead,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/payment-methods",
        Kind::ProjectWrite,
    ),
    (
        "DELETE",
        "/api/v1/projects/{pid}/contacts/{contact_id}/payment-methods/{payment_method_id}",
        Kind::ProjectWrite,
    ),
    (
        "GET",
        "/api/v1/projects/{pid}/contacts/{contact_id}/orders",
        Kind::ProjectRead,
    ),
    (
        "POST",
        "/api/v1/projects/{pid}/contacts/{contact_id}/orders",
        Kind::ProjectWrite,
    ),
];

/// The callers, each with the customer its `{id}` resolves to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Expired,
    UnknownKey,
    AlgNone,
    OtherTenant,
    WeakRole,
    Suspended,
    Inactive,
}

fn expected(kind: Kind, who: Who, method: &str, template: &str) -> u16 {
    let write = method != "GET";
    match who {
        Who::Anonymous | Who::Expired | Who::UnknownKey | Who::AlgNone => 401,
        // Closed tenants' members get nothing, anywhere.
        Who::Inactive => 403,
        Who::OtherTenant => match kind {
            Kind::OwnManagerRead => 200,
            Kind::Person => {
                if write {
                    204
                } else {
                    200
                }
            }
            // On another tenant's customer the object is invisible; the collection
            // routes are simply not theirs.
            Kind::Platform if template.contains("{id}") => 404,
            Kind::Platform => 403,
            _ => 404,
        },
        // A plain member without a project role.
        Who::WeakRole => match kind {
            Kind::Person => {
                if write {
                    204
                } else {
                    200
                }
            }
            Kind::CustomerRead => 200,
            _ => 403,
        },
        // The owner of a suspended customer: reads work, writes do not.
        Who::Suspended => match kind {
            Kind::Person => {
                if write {
                    204
                } else {
                    200
                }
            }
            Kind::CustomerRead | Kind::ManagerRead | Kind::ProjectRead | Kind::OwnManagerRead => {
                200
            }
            _ => 403,
        },
    }
}

fn body_for(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("GET", _) => None,
        ("POST", "/api/v1/customers") => Some(json!({"name": "New", "email": "new@example.com"})),
        ("PUT", "/api/v1/customers/{id}") => Some(json!({"name": "Changed"})),
        ("POST", "/api/v1/customers/{id}/members") => Some(
            json!({"email": "new.member@example.com", "password": "long enough", "role": "member"}),
        ),
        ("POST", "/api/v1/customers/{id}/api-keys") => {
            Some(json!({"name": "k", "scopes": ["contacts:read"]}))
        }
        ("POST", "/api/v1/projects/{pid}/members") => {
            Some(json!({"user_id": Uuid::now_v7(), "role": "viewer"}))
        }
        ("PATCH", "/api/v1/projects/{pid}/members/{user_id}") => Some(json!({"role": "viewer"})),
        ("PUT", "/api/v1/customers/{id}/settings/locks") => Some(json!({"locks": []})),
        ("POST", "/api/v1/customers/{id}/webhooks") => {
            Some(json!({"url": "http://127.0.0.1:9/hook"}))
        }
        ("PATCH", "/api/v1/customers/{id}/webhooks/{wid}") => Some(json!({"enabled": false})),
        ("POST", "/api/v1/customers/{id}/projects") => Some(json!({"slug": "new", "name": "New"})),
        ("POST", "/api/v1/projects/{pid}/channels") => Some(json!({"kind": "sms", "name": "SMS"})),
        ("POST", "/api/v1/customers/{id}/billing-accounts") => {
            Some(json!({"name": "B", "billing_email": "b@example.com", "currency": "EUR"}))
        }
        ("PUT", "/api/v1/projects/{pid}/contacts/{contact_id}/tags") => Some(json!({"tags": []})),
        _ => Some(json!({})),
    }
}

/// A tenant's ids that fill the path templates.
#[derive(Debug, Clone)]
struct Ids {
    customer: String,
    project: String,
    user: String,
    key: String,
    billing_account: String,
    channel: String,
    webhook: String,
    delivery: String,
    contact: String,
    company: String,
    address: String,
    note: String,
    payment_method: String,
}

impl Ids {
    fn path(&self, template: &str) -> String {
        template
            .replace("{id}", &self.customer)
            .replace("{pid}", &self.project)
            .replace("{user_id}", &self.user)
            .replace("{key_id}", &self.key)
            .replace("{bid}", &self.billing_account)
            .replace("{cid}", &self.channel)
            .replace("{wid}", &self.webhook)
            .replace("{did}", &self.delivery)
            .replace("{contact_id}", &self.contact)
            .replace("{company_id}", &self.company)
            .replace("{address_id}", &self.address)
            .replace("{note_id}", &self.note)
            .replace("{payment_method_id}", &self.payment_method)
            // The contact that `ids_of` creates.
            .replace("{email}", "known@example.com")
    }
}

struct World {
    tokens: Vec<(Who, String, Ids)>,
}

/// A tenant's ids, with a real API key so that key routes find one.
async fn ids_of(app: &TestApp, signup: &Value) -> Ids {
    let customer = signup["customer"]["id"].as_str().unwrap().to_string();
    let (key, _) = clientele_tenancy::api_keys::create(
        &app.db,
        clientele_domain::Audit::system(),
        clientele_tenancy::api_keys::NewApiKey {
            name: "sync".into(),
            scopes: vec!["contacts:read".into()],
            customer_id: Some(Uuid::parse_str(&customer).unwrap()),
            project_id: None,
        },
    )
    .await
    .unwrap();
    let project = Uuid::parse_str(signup["project"]["id"].as_str().unwrap()).unwrap();
    let channel = clientele_domain::hierarchy::Channel::new(
        Uuid::parse_str(&customer).unwrap(),
        project,
        clientele_domain::hierarchy::ChannelKind::Email,
        "Inbox".into(),
    );
    let c = channel.clone();
    app.db
        .write(move |conn| clientele_persistence::channels::insert(conn, &c))
        .await
        .unwrap();
    // A webhook so that its routes find one (disabled: nothing to deliver).
    let operator = clientele_domain::access::Actor {
        principal: clientele_domain::access::Principal::PlatformAdmin {
            user_id: Uuid::now_v7(),
        },
        request_id: None,
    };
    let (webhook, _) = clientele_tenancy::webhooks::create(
        &app.db,
        clientele_tenancy::webhooks::TargetPolicy {
            allow_private_targets: true,
        },
        &operator,
        Uuid::parse_str(&customer).unwrap(),
        clientele_tenancy::webhooks::NewWebhook {
            url: "http://127.0.0.1:9/hook".into(),
            enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A contact and a company in the project, so that their routes find them.
    let cust = Uuid::parse_str(&customer).unwrap();
    let now = clientele_domain::time::now();
    let contact = clientele_domain::contact::Contact::create(
        project,
        clientele_domain::contact::ContactInput {
            email: Some("known@example.com".into()),
            ..Default::default()
        },
        now,
    )
    .unwrap();
    let company = clientele_domain::company::Company::create(
        project,
        clientele_domain::company::CompanyInput {
            name: Some("Initech".into()),
            ..Default::default()
        },
        now,
    )
    .unwrap();
    let (c, co) = (contact.clone(), company.clone());
    app.db
        .write(move |conn| {
            clientele_persistence::contacts::insert(conn, cust, &c)?;
            clientele_persistence::companies::insert(conn, cust, &co)
        })
        .await
        .unwrap();
    let parts = parts_of(app, cust, project, contact.id).await;
    Ids {
        address: parts[0].clone(),
        note: parts[1].clone(),
        payment_method: parts[2].clone(),
        contact: contact.id.to_string(),
        company: company.id.to_string(),
        webhook: webhook.id.to_string(),
        delivery: Uuid::now_v7().to_string(),
        billing_account: signup["billing_account"]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        channel: channel.id.to_string(),
        customer,
        project: signup["project"]["id"].as_str().unwrap().to_string(),
        user: signup["user"]["id"].as_str().unwrap().to_string(),
        key: key.id.to_string(),
    }
}

/// An address, a note and a payment method of a contact, so that the routes under a
/// contact find them: their ids.
async fn parts_of(app: &TestApp, customer: Uuid, project: Uuid, contact: Uuid) -> Vec<String> {
    use clientele_domain::contact_parts::{
        Address, AddressInput, Note, PaymentMethod, PaymentMethodInput,
    };
    use clientele_persistence::contact_parts as parts;
    let at = clientele_domain::time::now();
    let address = Address::create(
        contact,
        AddressInput {
            address_type: Some("billing".into()),
            address_line1: Some("1 Rue de Rivoli".into()),
            city: Some("Paris".into()),
            postal_code: Some("75001".into()),
            country: Some("FR".into()),
            ..AddressInput::default()
        },
        at,
    )
    .unwrap();
    let note = Note::create(contact, Some("A note"), Some("system".into()), at).unwrap();
    let method = PaymentMethod::create(
        contact,
        PaymentMethodInput {
            provider: Some("stripe".into()),
            token: Some("pm_access_table".into()),
            ..PaymentMethodInput::default()
        },
        at,
    )
    .unwrap();
    let ids = vec![
        address.id.to_string(),
        note.id.to_string(),
        method.id.to_string(),
    ];
    app.db
        .write(move |conn| {
            parts::insert_address(conn, customer, project, &address)?;
            parts::insert_note(conn, customer, project, &note)?;
            parts::insert_payment_method(conn, customer, project, &method)
        })
        .await
        .unwrap();
    ids
}

async fn world(app: &TestApp) -> World {
    let a = app.signup("Acme", "owner@acme.com").await;
    let b = app.signup("Globex", "owner@globex.com").await;
    let s = app.signup("Suspended Co", "owner@suspended.com").await;
    let i = app.signup("Closed Co", "owner@closed.com").await;
    let id = |v: &Value| v["customer"]["id"].as_str().unwrap().to_string();
    let tok = |v: &Value| v["access_token"].as_str().unwrap().to_string();
    let (a_id, s_id, i_id) = (id(&a), id(&s), id(&i));
    let (a_ids, s_ids, i_ids) = (
        ids_of(app, &a).await,
        ids_of(app, &s).await,
        ids_of(app, &i).await,
    );
    assert_eq!(
        app.post(&format!("/api/v1/customers/{s_id}/suspend"), &json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        app.post(&format!("/api/v1/customers/{i_id}/deactivate"), &json!({}))
            .await
            .status,
        200
    );

    // A plain member of Acme.
    let a_uuid = Uuid::parse_str(&a_id).unwrap();
    let member = User::new(
        Some(a_uuid),
        Email::parse("member@acme.com", "email").unwrap(),
        None,
        "not-a-usable-hash".into(),
        UserRole::Customer(CustomerRole::Member),
    );
    let m = member.clone();
    app.db
        .write(move |conn| clientele_persistence::identity::insert_user(conn, &m))
        .await
        .unwrap();
    let weak = app
        .auth
        .tokens
        .issue(member.id, Some(a_uuid), "member", 1)
        .unwrap();

    // Bad tokens for Acme's owner.
    let owner_id = Uuid::parse_str(a["user"]["id"].as_str().unwrap()).unwrap();
    let mut claims = app.auth.tokens.verify(&tok(&a)).unwrap();
    claims.exp = chrono::Utc::now().timestamp() - 3600;
    let expired = app.auth.tokens.sign(&claims).unwrap();
    let stranger = clientele_tenancy::auth::Tokens::new(&clientele_tenancy::auth::TokenConfig {
        issuer: "clientele".into(),
        audience: "clientele-api".into(),
        access_ttl_secs: 900,
        keys: vec![],
        active_kid: String::new(),
    })
    .unwrap();
    let unknown = stranger.issue(owner_id, Some(a_uuid), "owner", 1).unwrap();
    let payload = tok(&a).split('.').nth(1).unwrap().to_string();
    let alg_none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    );

    World {
        tokens: vec![
            (Who::Anonymous, String::new(), a_ids.clone()),
            (Who::Expired, expired, a_ids.clone()),
            (Who::UnknownKey, unknown, a_ids.clone()),
            (Who::AlgNone, alg_none, a_ids.clone()),
            (Who::OtherTenant, tok(&b), a_ids.clone()),
            (Who::WeakRole, weak, a_ids),
            (Who::Suspended, tok(&s), s_ids),
            (Who::Inactive, tok(&i), i_ids),
        ],
    }
}

#[test]
fn every_documented_route_is_in_the_table() {
    let spec: Value = serde_json::from_str(&clientele_api::openapi_json()).unwrap();
    let mut missing = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let m = method.to_uppercase();
            if !TABLE.iter().any(|(tm, tp, _)| *tm == m && tp == path) {
                missing.push(format!("{m} {path}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from the access table: {missing:?}"
    );
    for (m, p, _) in TABLE {
        let documented = spec["paths"][p][m.to_lowercase()].is_object();
        assert!(documented, "{m} {p} is in the table but not in the API");
    }
}

#[actix_web::test]
async fn access_table() {
    let app = spawn_app().await;
    let world = world(&app).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, template, kind) in TABLE.iter().filter(|(_, _, k)| *k != Kind::Public) {
        for (who, token, ids) in &world.tokens {
            let want = expected(*kind, *who, method, template);
            let path = ids.path(template);
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let auth = if token.is_empty() {
                String::new()
            } else {
                format!("Bearer {token}")
            };
            let headers = [("authorization", auth.as_str())];
            let res = match body_for(method, template) {
                Some(body) => app.json(m, &path, &body, &headers).await,
                None => app.send(m, &path, None, Vec::new(), &headers).await,
            };
            let ok =
                res.status == want && (want != 401 || res.header("www-authenticate").is_some());
            if !ok {
                failures.push(format!(
                    "{method} {template} as {who:?}: want {want}, got {} {}",
                    res.status, res.text
                ));
            }
            if res.status >= 400 {
                assert_eq!(
                    res.header("content-type").as_deref(),
                    Some("application/problem+json"),
                    "{method} {template} as {who:?}"
                );
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        checked,
        TABLE.iter().filter(|r| r.2 != Kind::Public).count() * 8
    );
}
