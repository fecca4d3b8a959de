//! API keys for machines: created with scopes, shown once, stored hashed, revocable.

use clientele_domain::access::Scope;
use clientele_domain::access::{key_access, Actor, Intent};
use clientele_domain::error::Validator;
use clientele_domain::event::EventDraft;
use clientele_domain::time::now;
use clientele_domain::{Audit, Error, Result};
use clientele_persistence::api_keys::{self as repo, ApiKey};
use clientele_persistence::{customers, events, projects, Db};
use serde_json::json;
use uuid::Uuid;

use crate::auth::secrets;
use crate::identity::API_KEY_PREFIX;

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<String>,
    /// `None`: a platform key (only platform scopes).
    pub customer_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
}

/// Validates scopes against the key's owner: platform scopes only on platform keys,
/// tenant scopes only on a customer's keys.
pub fn parse_scopes(
    raw: &[String],
    customer: Option<Uuid>,
) -> std::result::Result<Vec<Scope>, String> {
    if raw.is_empty() {
        return Err("at least one scope is required".into());
    }
    let mut scopes = Vec::new();
    for s in raw {
        let scope = Scope::parse(s).ok_or_else(|| {
            let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown scope `{s}`; known: {}", known.join(", "))
        })?;
        if scope.is_platform() != customer.is_none() {
            return Err(if scope.is_platform() {
                format!("`{s}` is a platform scope: it cannot belong to a customer's key")
            } else {
                format!("`{s}` needs a customer: only a customer's keys can hold it")
            });
        }
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// Creates a key; returns it with its secret (the only time the secret is shown).
pub async fn create(db: &Db, audit: Audit, input: NewApiKey) -> Result<(ApiKey, String)> {
    let mut v = Validator::new();
    let name = v.check(clientele_domain::customer::parse_name(&input.name, "name"));
    let scopes = match parse_scopes(&input.scopes, input.customer_id) {
        Ok(s) => Some(s),
        Err(e) => {
            v.push("scopes", e);
            None
        }
    };
    if input.project_id.is_some() && input.customer_id.is_none() {
        v.push(
            "project_id",
            "a platform key cannot be limited to a project",
        );
    }
    v.finish()?;
    let (Some(name), Some(scopes)) = (name, scopes) else {
        return Err(Error::Internal("validated key input is missing".into()));
    };
    let secret = secrets::generate(API_KEY_PREFIX);
    let key = ApiKey {
        id: clientele_domain::new_id(),
        customer_id: input.customer_id,
        project_id: input.project_id,
        name,
        prefix: secret.chars().take(12).collect(),
        scopes: scopes.iter().map(|s| s.as_str().to_string()).collect(),
        created_by: audit.actor.clone(),
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    };
    let hash = secrets::digest(&secret);
    db.write(move |conn| {
        if let Some(cid) = key.customer_id {
            customers::get(conn, cid)?;
        }
        if let (Some(cid), Some(pid)) = (key.customer_id, key.project_id) {
            if projects::find(conn, Some(cid), pid)?.is_none() {
                return Err(Error::validation(
                    "project_id",
                    "is not a project of this customer",
                ));
            }
        }
        repo::insert(conn, &key, &hash)?;
        if let Some(cid) = key.customer_id {
            events::append(
                conn,
                &EventDraft {
                    event_type: "api_key.created",
                    customer_id: cid,
                    project_id: key.project_id,
                    subject_id: key.id,
                    payload: json!({"api_key_id": key.id, "name": key.name, "scopes": key.scopes}),
                },
                &audit,
            )?;
        }
        Ok((key, secret))
    })
    .await
}

/// A customer's key, created over the API by its owners and admins.
pub async fn create_for_customer(
    db: &Db,
    actor: &Actor,
    customer_id: Uuid,
    name: String,
    scopes: Vec<String>,
    project_id: Option<Uuid>,
) -> Result<(ApiKey, String)> {
    key_access(&actor.principal, customer_id, Intent::Write)?;
    create(
        db,
        actor.audit(),
        NewApiKey {
            name,
            scopes,
            customer_id: Some(customer_id),
            project_id,
        },
    )
    .await
}

/// A customer's keys, newest first, revoked ones included (without secrets).
pub async fn list(db: &Db, actor: &Actor, customer_id: Uuid) -> Result<Vec<ApiKey>> {
    key_access(&actor.principal, customer_id, Intent::Read)?;
    db.read(move |conn| {
        customers::get(conn, customer_id)?;
        repo::list_for_customer(conn, customer_id)
    })
    .await
}

/// Revokes a key of the customer: it stops working on its next request.
pub async fn revoke(db: &Db, actor: &Actor, customer_id: Uuid, key_id: Uuid) -> Result<()> {
    key_access(&actor.principal, customer_id, Intent::Write)?;
    let audit = actor.audit();
    db.write(move |conn| {
        if !repo::revoke(conn, customer_id, key_id, now())? {
            return Err(Error::not_found("API key"));
        }
        events::append(
            conn,
            &EventDraft {
                event_type: "api_key.revoked",
                customer_id,
                project_id: None,
                subject_id: key_id,
                payload: json!({"api_key_id": key_id}),
            },
            &audit,
        )?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_match_their_owner() {
        let c = Some(Uuid::now_v7());
        assert_eq!(
            parse_scopes(&["billing:read".into()], None),
            Ok(vec![Scope::BillingRead])
        );
        assert!(parse_scopes(&["billing:read".into()], c).is_err());
        assert!(parse_scopes(&["contacts:read".into()], None).is_err());
        assert_eq!(
            parse_scopes(&["contacts:read".into(), "contacts:read".into()], c),
            Ok(vec![Scope::ContactsRead])
        );
        assert!(parse_scopes(&[], c).is_err());
        assert!(parse_scopes(&["root".into()], None).is_err());
    }
}
