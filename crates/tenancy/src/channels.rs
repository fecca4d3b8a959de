//! Channels of a project (email, sms, chat, web, voice) and their settings overrides.

use std::sync::Arc;

use clientele_domain::access::{Actor, ProjectNeed};
use clientele_domain::customer::parse_name;
use clientele_domain::error::Validator;
use clientele_domain::event::EventDraft;
use clientele_domain::hierarchy::{
    check_version, merge_settings, settings_object, touch, Channel, ChannelKind,
};
use clientele_domain::settings::Effective;
use clientele_domain::{Error, Result};
use clientele_persistence::db::in_one_read;
use clientele_persistence::{channels, customers, events, Db, DbConn};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::scope;
use crate::settings::{stored_locks, Platform};

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub kind: String,
    pub name: String,
    pub settings: Option<Value>,
}

pub fn snapshot(c: &Channel) -> Value {
    json!({"id": c.id, "project_id": c.project_id, "kind": c.kind.as_str(), "name": c.name, "version": c.version})
}

fn event(c: &Channel, event_type: &'static str, mut payload: Value) -> EventDraft {
    if let Value::Object(map) = &mut payload {
        map.insert("channel".into(), snapshot(c));
    }
    EventDraft {
        event_type,
        customer_id: c.customer_id,
        project_id: Some(c.project_id),
        subject_id: c.id,
        payload,
    }
}

fn locks_of(conn: &mut DbConn, customer_id: Uuid) -> Result<clientele_domain::settings::Locks> {
    stored_locks(customers::locks(conn, customer_id)?)
}

pub async fn create(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    project_id: Uuid,
    input: NewChannel,
) -> Result<Channel> {
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        // Access first: a stranger learns nothing from a validation error.
        let project = scope::project(conn, &principal, project_id, ProjectNeed::Manage)?;
        let mut v = Validator::new();
        let kind = v.check(ChannelKind::parse_field(&input.kind, "kind"));
        let name = v.check(parse_name(&input.name, "name"));
        let settings = match input.settings {
            None | Some(Value::Null) => Some(Map::new()),
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                v.push("settings", "must be a JSON object");
                None
            }
        };
        v.finish()?;
        let (Some(kind), Some(name), Some(settings)) = (kind, name, settings) else {
            return Err(Error::Internal("validated channel input is missing".into()));
        };
        platform
            .validate_override(&settings, &locks_of(conn, project.customer_id)?)
            .map_err(|e| prefix_fields(e, "settings"))?;
        let mut channel = Channel::new(project.customer_id, project.id, kind, name);
        channel.settings = settings;
        channels::insert(conn, &channel)?;
        events::append(
            conn,
            &event(
                &channel,
                "channel.created",
                json!({"settings": channel.settings}),
            ),
            &audit,
        )?;
        Ok(channel)
    })
    .await
}

/// Names fields of a nested object by their place in the request body.
fn prefix_fields(e: Error, prefix: &str) -> Error {
    match e {
        Error::Validation(errors) => Error::Validation(
            errors
                .into_iter()
                .map(|f| {
                    clientele_domain::FieldError::new(format!("{prefix}.{}", f.field), f.message)
                })
                .collect(),
        ),
        other => other,
    }
}

pub async fn list(db: &Db, actor: &Actor, project_id: Uuid) -> Result<Vec<Channel>> {
    let principal = actor.principal.clone();
    db.read(move |conn| {
        scope::project_any_status(conn, &principal, project_id, ProjectNeed::Read)?;
        channels::list(conn, project_id)
    })
    .await
}

pub async fn get(db: &Db, actor: &Actor, id: Uuid) -> Result<Channel> {
    let principal = actor.principal.clone();
    db.read_bounded(move |conn| {
        in_one_read(conn, |conn| {
            Ok(scope::channel(conn, &principal, id, ProjectNeed::Read)?.0)
        })
    })
    .await
}

async fn modify<F>(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
    change: F,
) -> Result<Channel>
where
    // The change returns the event type and payload; the event is built after the
    // version moved, so its snapshot shows the new version.
    F: FnOnce(&mut DbConn, &mut Channel) -> Result<Option<(&'static str, Value)>> + Send + 'static,
{
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        let (mut channel, _) = scope::channel(conn, &principal, id, ProjectNeed::Manage)?;
        check_version("channel", channel.version, if_match)?;
        let loaded = channel.version;
        if let Some((event_type, payload)) = change(conn, &mut channel)? {
            touch(&mut channel.updated_at, &mut channel.version);
            channels::update(conn, &channel, loaded)?;
            events::append(conn, &event(&channel, event_type, payload), &audit)?;
        }
        Ok(channel)
    })
    .await
}

pub async fn rename(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    name: Option<String>,
    if_match: Option<i64>,
) -> Result<Channel> {
    let name = name
        .as_deref()
        .map(|n| parse_name(n, "name"))
        .transpose()
        .map_err(|e| Error::Validation(vec![e]))?;
    modify(db, actor, id, if_match, move |_, c| {
        match name.filter(|n| *n != c.name) {
            Some(name) => {
                c.name = name.clone();
                Ok(Some((
                    "channel.updated",
                    json!({"changed": {"name": name}}),
                )))
            }
            None => Ok(None),
        }
    })
    .await
}

pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> Result<()> {
    let (principal, audit) = (actor.principal.clone(), actor.audit());
    db.write(move |conn| {
        let (channel, _) = scope::channel(conn, &principal, id, ProjectNeed::Manage)?;
        channels::delete(conn, id)?;
        events::append(conn, &event(&channel, "channel.deleted", json!({})), &audit)?;
        Ok(())
    })
    .await
}

pub async fn write_settings(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    id: Uuid,
    body: Value,
    merge: bool,
    if_match: Option<i64>,
) -> Result<Channel> {
    modify(db, actor, id, if_match, move |conn, c| {
        let next = if merge {
            merge_settings(&c.settings, &body)?
        } else {
            settings_object(body)?
        };
        platform.validate_override(&next, &locks_of(conn, c.customer_id)?)?;
        if next == c.settings {
            return Ok(None);
        }
        c.settings = next;
        Ok(Some((
            "channel.settings_updated",
            json!({"settings": c.settings}),
        )))
    })
    .await
}

/// The channel's resolved settings: platform, customer, project, channel.
pub async fn effective(
    db: &Db,
    platform: Arc<Platform>,
    actor: &Actor,
    id: Uuid,
) -> Result<(Channel, Effective, clientele_domain::settings::Locks)> {
    let principal = actor.principal.clone();
    // Four reads: one read transaction on SQLite (see `in_one_read`).
    db.read_bounded(move |conn| {
        in_one_read(conn, |conn| {
            let channel =
                channels::find(conn, principal.tenant(), id)?.ok_or(Error::not_found("channel"))?;
            let project =
                scope::project_any_status(conn, &principal, channel.project_id, ProjectNeed::Read)?;
            let customer = customers::get(conn, project.customer_id)?;
            let locks = locks_of(conn, project.customer_id)?;
            let eff = platform.effective(
                &customer.settings,
                &locks,
                Some(&project.settings),
                Some(&channel.settings),
            );
            Ok((channel, eff, locks))
        })
    })
    .await
}
