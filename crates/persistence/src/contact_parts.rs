//! What hangs under a contact: addresses, notes, interactions, payment methods and the
//! orders recorded into its statistics.
//!
//! Every function takes the tenant (`customer_id`) and the contact (or, for orders, the
//! project): there is no way to reach a row without saying whose it is. The use cases
//! check the contact itself through the tenancy gate first.

use chrono::NaiveDateTime;
use clientele_domain::contact_parts::{
    Address, AddressType, Direction, Interaction, InteractionChannel, Note, Order, PaymentMethod,
};
use clientele_domain::geo::CountryCode;
use clientele_domain::time::{from_naive, to_naive, Timestamp};
use clientele_domain::{Error, Result};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::errors;
use crate::schema::{
    contact_addresses, contact_interactions, contact_notes, contact_orders, contact_payment_methods,
};

/// Where a newest-first keyset page starts: the time of the last row seen, and its id
/// (a UUID, or the order id for orders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub at: Timestamp,
    pub id: String,
}

/// A page of `items` and, when there may be more, where the next one starts.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Before>,
}

/// Cuts the `limit + 1` rows loaded into a page; `key` gives a row's (time, id).
fn page<T>(mut items: Vec<T>, limit: i64, key: impl Fn(&T) -> Before) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = items.len() > limit;
    items.truncate(limit);
    let next = match items.last() {
        Some(last) if more => Some(key(last)),
        _ => None,
    };
    Page { items, next }
}

/// Newest first by (time column, id column), starting below `before`.
macro_rules! newest_first {
    ($q:expr, $at:expr, $id:expr, $before:expr) => {{
        let mut q = $q;
        if let Some(b) = $before {
            let at = to_naive(b.at);
            q = q.filter($at.lt(at).or($at.eq(at).and($id.lt(b.id.clone()))));
        }
        q.order(($at.desc(), $id.desc()))
    }};
}

fn bad(entity: &str, id: &str, what: &str) -> Error {
    Error::Internal(format!("{entity} {id}: bad stored {what}"))
}

// ---------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = contact_addresses, treat_none_as_null = true)]
struct AddressRow {
    id: String,
    customer_id: String,
    project_id: String,
    contact_id: String,
    address_type: String,
    is_default: bool,
    is_verified: bool,
    address_line1: String,
    address_line2: Option<String>,
    city: String,
    state: Option<String>,
    postal_code: Option<String>,
    country: String,
    note: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl AddressRow {
    fn from_domain(customer_id: Uuid, project_id: Uuid, a: &Address) -> AddressRow {
        AddressRow {
            id: a.id.to_string(),
            customer_id: customer_id.to_string(),
            project_id: project_id.to_string(),
            contact_id: a.contact_id.to_string(),
            address_type: a.address_type.as_str().into(),
            is_default: a.is_default,
            is_verified: a.is_verified,
            address_line1: a.address_line1.clone(),
            address_line2: a.address_line2.clone(),
            city: a.city.clone(),
            state: a.state.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.as_str().into(),
            note: a.note.clone(),
            created_at: to_naive(a.created_at),
            updated_at: to_naive(a.updated_at),
            version: a.version,
        }
    }

    fn into_domain(self) -> Result<Address> {
        Ok(Address {
            id: errors::stored_id(&self.id, "address id")?,
            contact_id: errors::stored_id(&self.contact_id, "contact id")?,
            address_type: AddressType::parse(&self.address_type)
                .ok_or_else(|| bad("address", &self.id, "type"))?,
            country: CountryCode::parse(&self.country, "country")
                .map_err(|_| bad("address", &self.id, "country"))?,
            is_default: self.is_default,
            is_verified: self.is_verified,
            address_line1: self.address_line1,
            address_line2: self.address_line2,
            city: self.city,
            state: self.state,
            postal_code: self.postal_code,
            note: self.note,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            version: self.version,
        })
    }
}

/// The unique index allows one default per (contact, type); the use case clears the old
/// default first, so a violation means a concurrent request chose another default.
fn default_taken(e: diesel::result::Error) -> Error {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => Error::Conflict {
            code: "concurrent_update",
            detail: "a concurrent request changed the default at the same time; retry".into(),
            field: Some("is_default".into()),
        },
        other => errors::db(other),
    }
}

pub fn insert_address(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    a: &Address,
) -> Result<()> {
    diesel::insert_into(contact_addresses::table)
        .values(AddressRow::from_domain(customer_id, project_id, a))
        .execute(conn)
        .map_err(default_taken)?;
    Ok(())
}

/// Inserts many new addresses of tenant `customer_id`'s project in multi-row statements
/// (the bulk path: imports, the benchmark's seeding). At most one default per contact
/// and type, as for [`insert_address`].
pub fn insert_addresses(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    addresses: &[Address],
) -> Result<()> {
    // 17 columns a row: 1,000 rows stay under SQLite's 32,766 bound parameters.
    for chunk in addresses.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|a| AddressRow::from_domain(customer_id, project_id, a))
            .collect();
        insert_rows!(conn, contact_addresses::table, &rows).map_err(default_taken)?;
    }
    Ok(())
}

/// The addresses of a contact, oldest first.
pub fn addresses(conn: &mut DbConn, customer_id: Uuid, contact_id: Uuid) -> Result<Vec<Address>> {
    contact_addresses::table
        .filter(contact_addresses::customer_id.eq(customer_id.to_string()))
        .filter(contact_addresses::contact_id.eq(contact_id.to_string()))
        .order((
            contact_addresses::created_at.asc(),
            contact_addresses::id.asc(),
        ))
        .select(AddressRow::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(AddressRow::into_domain)
        .collect()
}

/// Saves a changed address if nobody changed it since `loaded_version` was read.
pub fn update_address(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    a: &Address,
    loaded_version: i64,
) -> Result<()> {
    let row = AddressRow::from_domain(customer_id, project_id, a);
    let n = diesel::update(
        contact_addresses::table
            .filter(contact_addresses::id.eq(&row.id))
            .filter(contact_addresses::customer_id.eq(&row.customer_id))
            .filter(contact_addresses::version.eq(loaded_version)),
    )
    .set(&row)
    .execute(conn)
    .map_err(default_taken)?;
    errors::one_updated(n, "address")
}

/// Removes an address if it is still at `loaded_version`.
pub fn delete_address(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
    loaded_version: i64,
) -> Result<()> {
    let n = diesel::delete(
        contact_addresses::table
            .filter(contact_addresses::id.eq(id.to_string()))
            .filter(contact_addresses::customer_id.eq(customer_id.to_string()))
            .filter(contact_addresses::contact_id.eq(contact_id.to_string()))
            .filter(contact_addresses::version.eq(loaded_version)),
    )
    .execute(conn)
    .map_err(errors::db)?;
    errors::one_updated(n, "address")
}

// ---------------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = contact_notes, treat_none_as_null = true)]
struct NoteRow {
    id: String,
    customer_id: String,
    project_id: String,
    contact_id: String,
    note: String,
    author: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl NoteRow {
    fn from_domain(customer_id: Uuid, project_id: Uuid, n: &Note) -> NoteRow {
        NoteRow {
            id: n.id.to_string(),
            customer_id: customer_id.to_string(),
            project_id: project_id.to_string(),
            contact_id: n.contact_id.to_string(),
            note: n.note.clone(),
            author: n.author.clone(),
            created_at: to_naive(n.created_at),
            updated_at: to_naive(n.updated_at),
            version: n.version,
        }
    }

    fn into_domain(self) -> Result<Note> {
        Ok(Note {
            id: errors::stored_id(&self.id, "note id")?,
            contact_id: errors::stored_id(&self.contact_id, "contact id")?,
            note: self.note,
            author: self.author,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert_note(conn: &mut DbConn, customer_id: Uuid, project_id: Uuid, n: &Note) -> Result<()> {
    diesel::insert_into(contact_notes::table)
        .values(NoteRow::from_domain(customer_id, project_id, n))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

/// Note `id` of the contact.
pub fn find_note(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
) -> Result<Option<Note>> {
    contact_notes::table
        .filter(contact_notes::id.eq(id.to_string()))
        .filter(contact_notes::customer_id.eq(customer_id.to_string()))
        .filter(contact_notes::contact_id.eq(contact_id.to_string()))
        .select(NoteRow::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(NoteRow::into_domain)
        .transpose()
}

/// The notes of a contact, newest first.
pub fn notes(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
    before: Option<&Before>,
    limit: i64,
) -> Result<Page<Note>> {
    let q = contact_notes::table
        .filter(contact_notes::customer_id.eq(customer_id.to_string()))
        .filter(contact_notes::contact_id.eq(contact_id.to_string()))
        .into_boxed();
    let rows: Vec<NoteRow> = newest_first!(q, contact_notes::created_at, contact_notes::id, before)
        .limit(limit + 1)
        .select(NoteRow::as_select())
        .load(conn)
        .map_err(errors::db)?;
    let items = rows
        .into_iter()
        .map(NoteRow::into_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok(page(items, limit, |n| Before {
        at: n.created_at,
        id: n.id.to_string(),
    }))
}

/// Saves an edited note if nobody changed it since `loaded_version` was read.
pub fn update_note(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    n: &Note,
    loaded_version: i64,
) -> Result<()> {
    let row = NoteRow::from_domain(customer_id, project_id, n);
    let count = diesel::update(
        contact_notes::table
            .filter(contact_notes::id.eq(&row.id))
            .filter(contact_notes::customer_id.eq(&row.customer_id))
            .filter(contact_notes::version.eq(loaded_version)),
    )
    .set(&row)
    .execute(conn)
    .map_err(errors::db)?;
    errors::one_updated(count, "note")
}

/// Removes a note if it is still at `loaded_version`.
pub fn delete_note(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
    loaded_version: i64,
) -> Result<()> {
    let n = diesel::delete(
        contact_notes::table
            .filter(contact_notes::id.eq(id.to_string()))
            .filter(contact_notes::customer_id.eq(customer_id.to_string()))
            .filter(contact_notes::contact_id.eq(contact_id.to_string()))
            .filter(contact_notes::version.eq(loaded_version)),
    )
    .execute(conn)
    .map_err(errors::db)?;
    errors::one_updated(n, "note")
}

// ---------------------------------------------------------------------------------
// Interactions
// ---------------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = contact_interactions)]
struct InteractionRow {
    id: String,
    customer_id: String,
    project_id: String,
    contact_id: String,
    channel: String,
    direction: String,
    subject: Option<String>,
    body: Option<String>,
    occurred_at: NaiveDateTime,
    author: Option<String>,
    created_at: NaiveDateTime,
}

impl InteractionRow {
    fn from_domain(customer_id: Uuid, project_id: Uuid, i: &Interaction) -> InteractionRow {
        InteractionRow {
            id: i.id.to_string(),
            customer_id: customer_id.to_string(),
            project_id: project_id.to_string(),
            contact_id: i.contact_id.to_string(),
            channel: i.channel.as_str().into(),
            direction: i.direction.as_str().into(),
            subject: i.subject.clone(),
            body: i.body.clone(),
            occurred_at: to_naive(i.occurred_at),
            author: i.author.clone(),
            created_at: to_naive(i.created_at),
        }
    }

    fn into_domain(self) -> Result<Interaction> {
        Ok(Interaction {
            id: errors::stored_id(&self.id, "interaction id")?,
            contact_id: errors::stored_id(&self.contact_id, "contact id")?,
            channel: InteractionChannel::parse(&self.channel)
                .ok_or_else(|| bad("interaction", &self.id, "channel"))?,
            direction: Direction::parse(&self.direction)
                .ok_or_else(|| bad("interaction", &self.id, "direction"))?,
            subject: self.subject,
            body: self.body,
            occurred_at: from_naive(self.occurred_at),
            author: self.author,
            created_at: from_naive(self.created_at),
        })
    }
}

pub fn insert_interaction(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    i: &Interaction,
) -> Result<()> {
    diesel::insert_into(contact_interactions::table)
        .values(InteractionRow::from_domain(customer_id, project_id, i))
        .execute(conn)
        .map_err(errors::db)?;
    Ok(())
}

/// Interaction `id` of the contact.
pub fn find_interaction(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
) -> Result<Option<Interaction>> {
    contact_interactions::table
        .filter(contact_interactions::id.eq(id.to_string()))
        .filter(contact_interactions::customer_id.eq(customer_id.to_string()))
        .filter(contact_interactions::contact_id.eq(contact_id.to_string()))
        .select(InteractionRow::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(InteractionRow::into_domain)
        .transpose()
}

/// The communication history of a contact, newest first by `occurred_at`.
pub fn interactions(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
    before: Option<&Before>,
    limit: i64,
) -> Result<Page<Interaction>> {
    let q = contact_interactions::table
        .filter(contact_interactions::customer_id.eq(customer_id.to_string()))
        .filter(contact_interactions::contact_id.eq(contact_id.to_string()))
        .into_boxed();
    let rows: Vec<InteractionRow> = newest_first!(
        q,
        contact_interactions::occurred_at,
        contact_interactions::id,
        before
    )
    .limit(limit + 1)
    .select(InteractionRow::as_select())
    .load(conn)
    .map_err(errors::db)?;
    let items = rows
        .into_iter()
        .map(InteractionRow::into_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok(page(items, limit, |i| Before {
        at: i.occurred_at,
        id: i.id.to_string(),
    }))
}

// ---------------------------------------------------------------------------------
// Payment methods
// ---------------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = contact_payment_methods)]
struct PaymentMethodRow {
    id: String,
    customer_id: String,
    project_id: String,
    contact_id: String,
    provider: String,
    token: String,
    brand: Option<String>,
    last4: Option<String>,
    exp_month: Option<i32>,
    exp_year: Option<i32>,
    is_default: bool,
    created_at: NaiveDateTime,
}

impl PaymentMethodRow {
    fn from_domain(customer_id: Uuid, project_id: Uuid, p: &PaymentMethod) -> Result<Self> {
        let month = p
            .exp_month
            .map(i32::try_from)
            .transpose()
            .map_err(|_| Error::validation("exp_month", "must be between 1 and 12"))?;
        Ok(PaymentMethodRow {
            id: p.id.to_string(),
            customer_id: customer_id.to_string(),
            project_id: project_id.to_string(),
            contact_id: p.contact_id.to_string(),
            provider: p.provider.clone(),
            token: p.token.clone(),
            brand: p.brand.clone(),
            last4: p.last4.clone(),
            exp_month: month,
            exp_year: p.exp_year,
            is_default: p.is_default,
            created_at: to_naive(p.created_at),
        })
    }

    fn into_domain(self) -> Result<PaymentMethod> {
        Ok(PaymentMethod {
            id: errors::stored_id(&self.id, "payment method id")?,
            contact_id: errors::stored_id(&self.contact_id, "contact id")?,
            exp_month: self
                .exp_month
                .map(u32::try_from)
                .transpose()
                .map_err(|_| bad("payment method", &self.id, "exp_month"))?,
            exp_year: self.exp_year,
            provider: self.provider,
            token: self.token,
            brand: self.brand,
            last4: self.last4,
            is_default: self.is_default,
            created_at: from_naive(self.created_at),
        })
    }
}

/// Inserts a payment method; the same (provider, token) twice on one contact is a
/// conflict naming `token`.
pub fn insert_payment_method(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    p: &PaymentMethod,
) -> Result<()> {
    diesel::insert_into(contact_payment_methods::table)
        .values(PaymentMethodRow::from_domain(customer_id, project_id, p)?)
        .execute(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                ref info,
            ) if is_default_index(info.as_ref()) => default_taken(e),
            other => errors::unique(
                other,
                "token",
                "payment_method_exists",
                "this contact already has a payment method with this provider and token",
            ),
        })?;
    Ok(())
}

/// Whether a unique violation is the one-default index rather than the token's.
/// PostgreSQL names the index; SQLite names the columns (only the token's has `token`).
fn is_default_index(info: &dyn diesel::result::DatabaseErrorInformation) -> bool {
    match info.constraint_name() {
        Some(name) => name.contains("default"),
        None => !info.message().contains("token"),
    }
}

/// The payment methods of a contact, oldest first.
pub fn payment_methods(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
) -> Result<Vec<PaymentMethod>> {
    contact_payment_methods::table
        .filter(contact_payment_methods::customer_id.eq(customer_id.to_string()))
        .filter(contact_payment_methods::contact_id.eq(contact_id.to_string()))
        .order((
            contact_payment_methods::created_at.asc(),
            contact_payment_methods::id.asc(),
        ))
        .select(PaymentMethodRow::as_select())
        .load(conn)
        .map_err(errors::db)?
        .into_iter()
        .map(PaymentMethodRow::into_domain)
        .collect()
}

/// Makes the contact's payment methods other than `keep` no longer the default.
pub fn clear_default_payment_methods(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
    keep: Uuid,
) -> Result<usize> {
    diesel::update(
        contact_payment_methods::table
            .filter(contact_payment_methods::customer_id.eq(customer_id.to_string()))
            .filter(contact_payment_methods::contact_id.eq(contact_id.to_string()))
            .filter(contact_payment_methods::id.ne(keep.to_string()))
            .filter(contact_payment_methods::is_default.eq(true)),
    )
    .set(contact_payment_methods::is_default.eq(false))
    .execute(conn)
    .map_err(errors::db)
}

/// Removes payment method `id` of the contact; whether there was one.
pub fn delete_payment_method(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
    id: Uuid,
) -> Result<bool> {
    let n = diesel::delete(
        contact_payment_methods::table
            .filter(contact_payment_methods::id.eq(id.to_string()))
            .filter(contact_payment_methods::customer_id.eq(customer_id.to_string()))
            .filter(contact_payment_methods::contact_id.eq(contact_id.to_string())),
    )
    .execute(conn)
    .map_err(errors::db)?;
    Ok(n == 1)
}

// ---------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------

/// An order as recorded: which contact it counted for, and when it was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOrder {
    pub contact_id: Uuid,
    pub order: Order,
    pub recorded_at: Timestamp,
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = contact_orders)]
struct OrderRow {
    project_id: String,
    order_id: String,
    customer_id: String,
    contact_id: String,
    amount: i64,
    currency: String,
    ordered_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

impl OrderRow {
    fn into_domain(self) -> Result<RecordedOrder> {
        Ok(RecordedOrder {
            contact_id: errors::stored_id(&self.contact_id, "contact id")?,
            order: Order {
                order_id: self.order_id,
                amount: self.amount,
                currency: self.currency,
                ordered_at: from_naive(self.ordered_at),
            },
            recorded_at: from_naive(self.created_at),
        })
    }
}

/// Records an order of `contact_id`; an order id already recorded in the project is a
/// conflict (`order_exists`), which the use case checks first.
pub fn insert_order(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    contact_id: Uuid,
    o: &Order,
    recorded_at: Timestamp,
) -> Result<()> {
    diesel::insert_into(contact_orders::table)
        .values(OrderRow {
            project_id: project_id.to_string(),
            order_id: o.order_id.clone(),
            customer_id: customer_id.to_string(),
            contact_id: contact_id.to_string(),
            amount: o.amount,
            currency: o.currency.clone(),
            ordered_at: to_naive(o.ordered_at),
            created_at: to_naive(recorded_at),
        })
        .execute(conn)
        .map_err(|e| {
            errors::unique(
                e,
                "order_id",
                "order_exists",
                "an order with this order_id was recorded in this project at the same time",
            )
        })?;
    Ok(())
}

/// Inserts many recorded orders of tenant `customer_id`'s project in multi-row
/// statements (the bulk path). The contacts' statistics are the caller's: bulk callers
/// write contacts whose statistics already count these orders.
pub fn insert_orders(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    orders: &[RecordedOrder],
) -> Result<()> {
    // 8 columns a row.
    for chunk in orders.chunks(2000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|r| OrderRow {
                project_id: project_id.to_string(),
                order_id: r.order.order_id.clone(),
                customer_id: customer_id.to_string(),
                contact_id: r.contact_id.to_string(),
                amount: r.order.amount,
                currency: r.order.currency.clone(),
                ordered_at: to_naive(r.order.ordered_at),
                created_at: to_naive(r.recorded_at),
            })
            .collect();
        insert_rows!(conn, contact_orders::table, &rows).map_err(|e| {
            errors::unique(
                e,
                "order_id",
                "order_exists",
                "an order with this order_id is already recorded in this project",
            )
        })?;
    }
    Ok(())
}

/// The order `order_id` of the project, whichever contact it counted for.
pub fn find_order(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    order_id: &str,
) -> Result<Option<RecordedOrder>> {
    contact_orders::table
        .filter(contact_orders::project_id.eq(project_id.to_string()))
        .filter(contact_orders::order_id.eq(order_id))
        .filter(contact_orders::customer_id.eq(customer_id.to_string()))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
        .map_err(errors::db)?
        .map(OrderRow::into_domain)
        .transpose()
}

/// The orders of a contact, newest first by `ordered_at`.
pub fn orders(
    conn: &mut DbConn,
    customer_id: Uuid,
    contact_id: Uuid,
    before: Option<&Before>,
    limit: i64,
) -> Result<Page<RecordedOrder>> {
    let q = contact_orders::table
        .filter(contact_orders::customer_id.eq(customer_id.to_string()))
        .filter(contact_orders::contact_id.eq(contact_id.to_string()))
        .into_boxed();
    let rows: Vec<OrderRow> = newest_first!(
        q,
        contact_orders::ordered_at,
        contact_orders::order_id,
        before
    )
    .limit(limit + 1)
    .select(OrderRow::as_select())
    .load(conn)
    .map_err(errors::db)?;
    let items = rows
        .into_iter()
        .map(OrderRow::into_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok(page(items, limit, |o| Before {
        at: o.order.ordered_at,
        id: o.order.order_id.clone(),
    }))
}
