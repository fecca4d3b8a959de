//! Use cases under a contact: addresses, notes, interactions, payment methods and
//! orders. Each one passes the contact gate ([`scope::contact`]) first, so another
//! tenant's contact is not found, a deleted contact is not found, a viewer cannot
//! write and a suspended tenant or an archived project cannot write. Each write is one
//! transaction with its event, whose subject is the contact.

use chrono::SubsecRound;
use clientele_domain::access::{Actor, ProjectNeed};
use clientele_domain::contact::Contact;
use clientele_domain::contact_parts::{
    displaced_defaults, Address, AddressInput, AddressPatch, Interaction, InteractionInput, Note,
    Order, OrderInput, PaymentMethod, PaymentMethodInput,
};
use clientele_domain::identity::Project;
use clientele_domain::time::{now, Timestamp};
use clientele_domain::{Audit, Error, Result};
use clientele_persistence::contact_parts::{self as repo, Before, Page, RecordedOrder};
use clientele_persistence::{events, Db, DbConn};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::contacts::{event, save};
use crate::idempotency::{self, Created, Idempotency};
use crate::scope;

/// Most addresses one contact may have: the list is returned whole.
pub const MAX_ADDRESSES: usize = 50;
/// Most payment methods one contact may have: the list is returned whole.
pub const MAX_PAYMENT_METHODS: usize = 20;

/// The live contact `contact_id` for writing, and its project.
fn writable(
    conn: &mut DbConn,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
) -> Result<(Contact, Project)> {
    scope::contact(
        conn,
        &actor.principal,
        project_id,
        contact_id,
        ProjectNeed::ContactsWrite,
        false,
    )
}

/// The live contact `contact_id` for reading, and its project.
fn readable(
    conn: &mut DbConn,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
) -> Result<(Contact, Project)> {
    scope::contact(
        conn,
        &actor.principal,
        project_id,
        contact_id,
        ProjectNeed::ContactsRead,
        false,
    )
}

/// Appends an event about `contact` that changes nothing on the contact itself.
fn append(
    conn: &mut DbConn,
    project: &Project,
    contact: &Contact,
    event_type: &'static str,
    extra: Value,
    audit: &Audit,
) -> Result<()> {
    events::append(
        conn,
        &event(project.customer_id, contact, event_type, extra),
        audit,
    )?;
    Ok(())
}

/// A client's time at the precision both databases keep, so that what is read back
/// (and compared when an order is repeated) is what was written.
fn micros(t: Timestamp) -> Timestamp {
    t.trunc_subsecs(6)
}

/// Rejects a stale `If-Match` version of a part of a contact.
fn check_version(entity: &'static str, current: i64, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != current => Err(Error::PreconditionFailed {
            entity,
            current_version: current,
        }),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------

/// An address as events carry it.
pub fn address_state(a: &Address) -> Value {
    json!({
        "id": a.id,
        "address_type": a.address_type.as_str(),
        "is_default": a.is_default,
        "is_verified": a.is_verified,
        "address_line1": a.address_line1,
        "address_line2": a.address_line2,
        "city": a.city,
        "state": a.state,
        "postal_code": a.postal_code,
        "country": a.country.as_str(),
        "note": a.note,
        "version": a.version,
    })
}

/// Makes the addresses that `chosen` displaces no longer the default. Runs before
/// `chosen` is written: the unique index allows one default per (contact, type) at
/// every moment, not only at commit.
fn clear_displaced(
    conn: &mut DbConn,
    project: &Project,
    existing: &[Address],
    chosen: &Address,
    at: Timestamp,
) -> Result<Vec<Uuid>> {
    let displaced = displaced_defaults(existing, chosen);
    for old in existing.iter().filter(|a| displaced.contains(&a.id)) {
        let mut old = old.clone();
        let loaded = old.version;
        old.is_default = false;
        old.updated_at = at.max(old.updated_at);
        old.version += 1;
        repo::update_address(conn, project.customer_id, project.id, &old, loaded)?;
    }
    Ok(displaced)
}

/// The addresses of a contact, oldest first.
pub async fn list_addresses(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
) -> Result<Vec<Address>> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (contact, project) = readable(conn, &actor, project_id, contact_id)?;
        repo::addresses(conn, project.customer_id, contact.id)
    })
    .await
}

/// One address of a contact (the answer to a replayed create).
pub async fn get_address(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
) -> Result<Address> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (contact, project) = readable(conn, &actor, project_id, contact_id)?;
        repo::addresses(conn, project.customer_id, contact.id)?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(Error::not_found("address"))
    })
    .await
}

/// A new address. It becomes the default of its type when it says so, or when its
/// type has no default yet and it does not say `is_default: false` (so the first
/// address of a type is its default). A new default unsets the old one.
pub async fn add_address(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    input: AddressInput,
    idem: Option<Idempotency>,
) -> Result<Created<Address>> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write(move |conn| {
        let (contact, project) = writable(conn, &actor, project_id, contact_id)?;
        if let Some(id) = idempotency::earlier(conn, project.customer_id, idem.as_ref())? {
            return Ok(Created::Replayed(id));
        }
        let at = now();
        let asked_default = input.is_default;
        let mut address = Address::create(contact.id, input, at)?;
        let existing = repo::addresses(conn, project.customer_id, contact.id)?;
        if existing.len() >= MAX_ADDRESSES {
            return Err(Error::Conflict {
                code: "too_many_addresses",
                detail: format!("a contact has at most {MAX_ADDRESSES} addresses"),
                field: None,
            });
        }
        let type_has_default = existing
            .iter()
            .any(|a| a.is_default && a.address_type == address.address_type);
        if asked_default.is_none() && !type_has_default {
            address.is_default = true;
        }
        // The key first: a concurrent retry waits on it and replays.
        idempotency::claim(conn, project.customer_id, idem.as_ref(), address.id)?;
        let displaced = clear_displaced(conn, &project, &existing, &address, at)?;
        repo::insert_address(conn, project.customer_id, project.id, &address)?;
        append(
            conn,
            &project,
            &contact,
            "contact.address_added",
            json!({"address": address_state(&address), "displaced_defaults": displaced}),
            &audit,
        )?;
        Ok(Created::New(address))
    })
    .await
}

/// PATCH an address (JSON merge patch). Becoming the default unsets the old default
/// of its (possibly new) type.
pub async fn update_address(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
    patch: AddressPatch,
    if_match: Option<i64>,
) -> Result<Address> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write(move |conn| {
        let (contact, project) = writable(conn, &actor, project_id, contact_id)?;
        let existing = repo::addresses(conn, project.customer_id, contact.id)?;
        let mut address = existing
            .iter()
            .find(|a| a.id == id)
            .cloned()
            .ok_or(Error::not_found("address"))?;
        check_version("address", address.version, if_match)?;
        let loaded = address.version;
        let at = now();
        let changes = address.patch(patch, at)?;
        if changes.is_empty() {
            return Ok(address);
        }
        let displaced = clear_displaced(conn, &project, &existing, &address, at)?;
        repo::update_address(conn, project.customer_id, project.id, &address, loaded)?;
        append(
            conn,
            &project,
            &contact,
            "contact.address_updated",
            json!({
                "address": address_state(&address),
                "changed": changes.0,
                "displaced_defaults": displaced,
            }),
            &audit,
        )?;
        Ok(address)
    })
    .await
}

/// Removes an address. Removing the default leaves its type without one until another
/// address is made the default or a new one is added.
pub async fn remove_address(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<()> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write(move |conn| {
        let (contact, project) = writable(conn, &actor, project_id, contact_id)?;
        let address = repo::addresses(conn, project.customer_id, contact.id)?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(Error::not_found("address"))?;
        check_version("address", address.version, if_match)?;
        repo::delete_address(conn, project.customer_id, contact.id, id, address.version)?;
        append(
            conn,
            &project,
            &contact,
            "contact.address_removed",
            json!({"address": address_state(&address)}),
            &audit,
        )
    })
    .await
}

// ---------------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------------

fn note_state(n: &Note) -> Value {
    json!({
        "id": n.id,
        "note": n.note,
        "author": n.author,
        "created_at": n.created_at,
        "updated_at": n.updated_at,
        "version": n.version,
    })
}

/// The notes of a contact, newest first.
pub async fn list_notes(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    before: Option<Before>,
    limit: i64,
) -> Result<Page<Note>> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (contact, project) = readable(conn, &actor, project_id, contact_id)?;
        repo::notes(
            conn,
            project.customer_id,
            contact.id,
            before.as_ref(),
            limit,
        )
    })
    .await
}

pub async fn get_note(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
) -> Result<Note> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (contact, project) = readable(conn, &actor, project_id, contact_id)?;
        repo::find_note(conn, project.customer_id, contact.id, id)?.ok_or(Error::not_found("note"))
    })
    .await
}

/// A new note, written by the caller (its actor string is the author).
pub async fn add_note(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    text: Option<String>,
    idem: Option<Idempotency>,
) -> Result<Created<Note>> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write(move |conn| {
        let (contact, project) = writable(conn, &actor, project_id, contact_id)?;
        if let Some(id) = idempotency::earlier(conn, project.customer_id, idem.as_ref())? {
            return Ok(Created::Replayed(id));
        }
        let note = Note::create(contact.id, text.as_deref(), audit.actor.clone(), now())?;
        // The key first: a concurrent retry waits on it and replays.
        idempotency::claim(conn, project.customer_id, idem.as_ref(), note.id)?;
        repo::insert_note(conn, project.customer_id, project.id, &note)?;
        append(
            conn,
            &project,
            &contact,
            "contact.note_added",
            json!({"note": note_state(&note)}),
            &audit,
        )?;
        Ok(Created::New(note))
    })
    .await
}

/// Replaces the text of a note; the author stays the one who wrote it.
pub async fn edit_note(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
    text: Option<String>,
    if_match: Option<i64>,
) -> Result<Note> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write(move |conn| {
        let (contact, project) = writable(conn, &actor, project_id, contact_id)?;
        let mut note = repo::find_note(conn, project.customer_id, contact.id, id)?
            .ok_or(Error::not_found("note"))?;
        check_version("note", note.version, if_match)?;
        let loaded = note.version;
        if !note.edit(text.as_deref(), now())? {
            return Ok(note);
        }
        repo::update_note(conn, project.customer_id, project.id, &note, loaded)?;
        append(
            conn,
            &project,
            &contact,
            "contact.note_updated",
            json!({"note": note_state(&note), "edited_by": audit.actor}),
            &audit,
        )?;
        Ok(note)
    })
    .await
}

pub async fn remove_note(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<()> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write(move |conn| {
        let (contact, project) = writable(conn, &actor, project_id, contact_id)?;
        let note = repo::find_note(conn, project.customer_id, contact.id, id)?
            .ok_or(Error::not_found("note"))?;
        check_version("note", note.version, if_match)?;
        repo::delete_note(conn, project.customer_id, contact.id, id, note.version)?;
        append(
            conn,
            &project,
            &contact,
            "contact.note_removed",
            json!({"note": {"id": note.id, "author": note.author}}),
            &audit,
        )
    })
    .await
}

// ---------------------------------------------------------------------------------
// Interactions
// ---------------------------------------------------------------------------------

/// The communication history of a contact, newest first by `occurred_at`.
pub async fn list_interactions(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    before: Option<Before>,
    limit: i64,
) -> Result<Page<Interaction>> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (contact, project) = readable(conn, &actor, project_id, contact_id)?;
        repo::interactions(
            conn,
            project.customer_id,
            contact.id,
            before.as_ref(),
            limit,
        )
    })
    .await
}

pub async fn get_interaction(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
) -> Result<Interaction> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (contact, project) = readable(conn, &actor, project_id, contact_id)?;
        repo::find_interaction(conn, project.customer_id, contact.id, id)?
            .ok_or(Error::not_found("interaction"))
    })
    .await
}

/// Records an interaction (the caller is its author).
pub async fn record_interaction(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    input: InteractionInput,
    idem: Option<Idempotency>,
) -> Result<Created<Interaction>> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write(move |conn| {
        let (contact, project) = writable(conn, &actor, project_id, contact_id)?;
        if let Some(id) = idempotency::earlier(conn, project.customer_id, idem.as_ref())? {
            return Ok(Created::Replayed(id));
        }
        let input = InteractionInput {
            occurred_at: input.occurred_at.map(micros),
            ..input
        };
        let interaction = Interaction::create(contact.id, input, audit.actor.clone(), now())?;
        // The key first: a concurrent retry waits on it and replays.
        idempotency::claim(conn, project.customer_id, idem.as_ref(), interaction.id)?;
        repo::insert_interaction(conn, project.customer_id, project.id, &interaction)?;
        append(
            conn,
            &project,
            &contact,
            "contact.interaction_recorded",
            json!({"interaction": {
                "id": interaction.id,
                "channel": interaction.channel.as_str(),
                "direction": interaction.direction.as_str(),
                "subject": interaction.subject,
                "occurred_at": interaction.occurred_at,
                "author": interaction.author,
            }}),
            &audit,
        )?;
        Ok(Created::New(interaction))
    })
    .await
}

// ---------------------------------------------------------------------------------
// Payment methods
// ---------------------------------------------------------------------------------

/// What events say about a payment method: never the token, which is what charges.
fn payment_method_summary(p: &PaymentMethod) -> Value {
    json!({
        "id": p.id,
        "provider": p.provider,
        "brand": p.brand,
        "last4": p.last4,
        "is_default": p.is_default,
    })
}

pub async fn list_payment_methods(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
) -> Result<Vec<PaymentMethod>> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (contact, project) = readable(conn, &actor, project_id, contact_id)?;
        repo::payment_methods(conn, project.customer_id, contact.id)
    })
    .await
}

pub async fn get_payment_method(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
) -> Result<PaymentMethod> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (contact, project) = readable(conn, &actor, project_id, contact_id)?;
        repo::payment_methods(conn, project.customer_id, contact.id)?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(Error::not_found("payment method"))
    })
    .await
}

/// A new payment method, kept as the provider's token. The caller has already refused
/// any card number in the raw request (`cards::refuse_card_numbers`); the domain checks
/// the fields again. It becomes the contact's default when it says so, or when the
/// contact has no default and it does not say `is_default: false`. The same provider
/// and token twice on one contact is a 409.
pub async fn add_payment_method(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    input: PaymentMethodInput,
    idem: Option<Idempotency>,
) -> Result<Created<PaymentMethod>> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write(move |conn| {
        let (contact, project) = writable(conn, &actor, project_id, contact_id)?;
        if let Some(id) = idempotency::earlier(conn, project.customer_id, idem.as_ref())? {
            return Ok(Created::Replayed(id));
        }
        let asked_default = input.is_default;
        let mut method = PaymentMethod::create(contact.id, input, now())?;
        let existing = repo::payment_methods(conn, project.customer_id, contact.id)?;
        if existing
            .iter()
            .any(|p| p.provider == method.provider && p.token == method.token)
        {
            return Err(Error::Conflict {
                code: "payment_method_exists",
                detail: "this contact already has a payment method with this provider and token"
                    .into(),
                field: Some("token".into()),
            });
        }
        if existing.len() >= MAX_PAYMENT_METHODS {
            return Err(Error::Conflict {
                code: "too_many_payment_methods",
                detail: format!("a contact has at most {MAX_PAYMENT_METHODS} payment methods"),
                field: None,
            });
        }
        let has_default = existing.iter().any(|p| p.is_default);
        if asked_default.is_none() && !has_default {
            method.is_default = true;
        }
        let displaced: Vec<Uuid> = if method.is_default {
            existing
                .iter()
                .filter(|p| p.is_default)
                .map(|p| p.id)
                .collect()
        } else {
            Vec::new()
        };
        // The key first: a concurrent retry waits on it and replays.
        idempotency::claim(conn, project.customer_id, idem.as_ref(), method.id)?;
        if !displaced.is_empty() {
            repo::clear_default_payment_methods(conn, project.customer_id, contact.id, method.id)?;
        }
        repo::insert_payment_method(conn, project.customer_id, project.id, &method)?;
        append(
            conn,
            &project,
            &contact,
            "contact.payment_method_added",
            json!({
                "payment_method": payment_method_summary(&method),
                "displaced_defaults": displaced,
            }),
            &audit,
        )?;
        Ok(Created::New(method))
    })
    .await
}

/// Removes a payment method. Removing the default leaves the contact without one.
pub async fn remove_payment_method(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
) -> Result<()> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write(move |conn| {
        let (contact, project) = writable(conn, &actor, project_id, contact_id)?;
        let method = repo::payment_methods(conn, project.customer_id, contact.id)?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(Error::not_found("payment method"))?;
        if !repo::delete_payment_method(conn, project.customer_id, contact.id, id)? {
            return Err(Error::not_found("payment method"));
        }
        append(
            conn,
            &project,
            &contact,
            "contact.payment_method_removed",
            json!({"payment_method": payment_method_summary(&method)}),
            &audit,
        )
    })
    .await
}

// ---------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------

/// What recording an order did.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderOutcome {
    /// Newly recorded: the statistics include it now.
    Recorded,
    /// The same order was recorded before for this contact: nothing changed.
    AlreadyRecorded,
    /// The same request with the same Idempotency-Key was answered before.
    Replayed,
}

/// An order and the contact's statistics after it.
#[derive(Debug, Clone)]
pub struct OrderResult {
    pub outcome: OrderOutcome,
    pub order: RecordedOrder,
    pub contact: Contact,
}

fn order_state(o: &Order) -> Value {
    json!({
        "order_id": o.order_id,
        "amount": o.amount,
        "currency": o.currency,
        "ordered_at": o.ordered_at,
    })
}

/// Whether a repeated order is the one recorded: same amount and currency, and the
/// same time when the request names one (a retry that leaves `ordered_at` out, so that
/// it defaulted to the time of the first request, is the same order).
fn same_order(recorded: &Order, again: &Order, time_given: bool) -> bool {
    recorded.amount == again.amount
        && recorded.currency == again.currency
        && (!time_given || recorded.ordered_at == again.ordered_at)
}

/// Records an order into the contact's statistics, in one transaction: the order row,
/// the contact's new totals (version-guarded) and `contact.order_recorded`.
///
/// The order id is unique in the project. The same order again for the same contact
/// changes nothing ([`OrderOutcome::AlreadyRecorded`]); the same id with other details,
/// or for another contact, is a 409 `order_exists`. An order in another currency than
/// the contact's first is refused (422 on `currency`): converting would need exchange
/// rates, which the statistics do not depend on.
pub async fn record_order(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    input: OrderInput,
    idem: Option<Idempotency>,
) -> Result<OrderResult> {
    let (actor, audit) = (actor.clone(), actor.audit());
    db.write_repeatable(move |conn| {
        let (mut contact, project) = writable(conn, &actor, project_id, contact_id)?;
        let replay = idempotency::earlier(conn, project.customer_id, idem.as_ref())?.is_some();
        let at = now();
        let time_given = input.ordered_at.is_some();
        let order = Order::parse(
            OrderInput {
                ordered_at: input.ordered_at.map(micros),
                ..input.clone()
            },
            at,
        )?;
        if let Some(recorded) =
            repo::find_order(conn, project.customer_id, project.id, &order.order_id)?
        {
            if recorded.contact_id != contact.id || !same_order(&recorded.order, &order, time_given)
            {
                return Err(Error::Conflict {
                    code: "order_exists",
                    detail: "an order with this order_id was already recorded in this project \
                             with other details or for another contact"
                        .into(),
                    field: Some("order_id".into()),
                });
            }
            let outcome = if replay {
                OrderOutcome::Replayed
            } else {
                OrderOutcome::AlreadyRecorded
            };
            return Ok(OrderResult {
                outcome,
                order: recorded,
                contact,
            });
        }
        let loaded = contact.version;
        contact.record_order(&order, at)?;
        // The key first: a concurrent retry waits on it and replays.
        idempotency::claim(conn, project.customer_id, idem.as_ref(), contact.id)?;
        repo::insert_order(
            conn,
            project.customer_id,
            project.id,
            contact.id,
            &order,
            at,
        )?;
        let s = &contact.stats;
        save(
            conn,
            &project,
            &contact,
            loaded,
            false,
            "contact.order_recorded",
            json!({
                "order": order_state(&order),
                "stats": {
                    "total_orders": s.total_orders,
                    "total_spent": s.total_spent,
                    "average_order_value": s.average_order_value,
                    "lifetime_value": s.lifetime_value,
                    "currency": s.currency,
                    "first_order_at": s.first_order_at,
                    "last_order_at": s.last_order_at,
                },
            }),
            &audit,
        )?;
        Ok(OrderResult {
            outcome: OrderOutcome::Recorded,
            order: RecordedOrder {
                contact_id: contact.id,
                order,
                recorded_at: at,
            },
            contact,
        })
    })
    .await
}

/// The orders of a contact, newest first by `ordered_at`.
pub async fn list_orders(
    db: &Db,
    actor: &Actor,
    project_id: Uuid,
    contact_id: Uuid,
    before: Option<Before>,
    limit: i64,
) -> Result<(Page<RecordedOrder>, Contact)> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (contact, project) = readable(conn, &actor, project_id, contact_id)?;
        let page = repo::orders(
            conn,
            project.customer_id,
            contact.id,
            before.as_ref(),
            limit,
        )?;
        Ok((page, contact))
    })
    .await
}
