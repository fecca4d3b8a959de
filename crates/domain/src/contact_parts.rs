//! What hangs under a contact: addresses, notes, interactions, payment methods and
//! the order statistics.

use chrono::{Datelike, TimeDelta};
use uuid::Uuid;

use crate::cards::contains_card_number;
use crate::contact::{
    merge, merge_required, missing_values, optional, parse_line, parse_text, set,
};
use crate::customer::Changes;
use crate::error::{Error, FieldError, Result, Validator};
use crate::geo::{self, CountryCode};
use crate::time::Timestamp;

/// How far ahead of our clock a client's "it happened at" may be: clocks drift.
pub const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// A required value: absent is an error naming `field`.
fn required<T>(
    value: std::result::Result<Option<T>, FieldError>,
    field: &str,
) -> std::result::Result<T, FieldError> {
    value?.ok_or_else(|| FieldError::new(field, "is required"))
}

/// Refuses a time in the future (beyond clock skew).
fn not_in_future(
    t: Timestamp,
    now: Timestamp,
    field: &str,
) -> std::result::Result<Timestamp, FieldError> {
    if t > now + CLOCK_SKEW {
        return Err(FieldError::new(field, "must not be in the future"));
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------

pub const ADDRESS_LINE_MAX: usize = 200;
pub const CITY_MAX: usize = 100;
pub const STATE_MAX: usize = 100;
pub const ADDRESS_NOTE_MAX: usize = 500;

text_enum! {
    pub enum AddressType {
        Shipping = "shipping",
        Billing = "billing",
    }
}

/// A postal address of a contact. At most one address per type is the default.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub address_type: AddressType,
    pub is_default: bool,
    pub is_verified: bool,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    /// Required in countries whose addresses name one (see [`geo::requires_state`]).
    pub state: Option<String>,
    /// In the country's conventional spelling; required where [`geo::requires_postal_code`].
    pub postal_code: Option<String>,
    pub country: CountryCode,
    pub note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// The fields of a new address; `is_default` and `is_verified` default to false.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressInput {
    pub address_type: Option<String>,
    pub is_default: Option<bool>,
    pub is_verified: Option<bool>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub note: Option<String>,
}

/// A JSON merge patch of an address (see [`crate::contact::ContactPatch`]);
/// `address_type`, `is_default` and `is_verified` cannot be null.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressPatch {
    pub address_type: Option<Option<String>>,
    pub is_default: Option<Option<bool>>,
    pub is_verified: Option<Option<bool>>,
    pub address_line1: Option<Option<String>>,
    pub address_line2: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub state: Option<Option<String>>,
    pub postal_code: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub note: Option<Option<String>>,
}

impl AddressPatch {
    fn merge_into(self, mut base: AddressInput, v: &mut Validator) -> AddressInput {
        merge_required(&mut base.address_type, self.address_type, "address_type", v);
        merge_required(&mut base.is_default, self.is_default, "is_default", v);
        merge_required(&mut base.is_verified, self.is_verified, "is_verified", v);
        merge(&mut base.address_line1, self.address_line1);
        merge(&mut base.address_line2, self.address_line2);
        merge(&mut base.city, self.city);
        merge(&mut base.state, self.state);
        merge(&mut base.postal_code, self.postal_code);
        merge(&mut base.country, self.country);
        merge(&mut base.note, self.note);
        base
    }
}

/// The validated fields of an address.
struct AddressFields {
    address_type: AddressType,
    is_default: bool,
    is_verified: bool,
    address_line1: String,
    address_line2: Option<String>,
    city: String,
    state: Option<String>,
    postal_code: Option<String>,
    country: CountryCode,
    note: Option<String>,
}

fn validate_address(input: &AddressInput, v: &mut Validator) -> Option<AddressFields> {
    let address_type = v.check(match input.address_type.as_deref() {
        None => Err(FieldError::new("address_type", "is required")),
        Some(raw) => AddressType::parse_field(raw, "address_type"),
    });
    let line =
        |raw: Option<&str>, field: &str, max: usize| optional(raw, |s| parse_line(s, field, max));
    let address_line1 = v.check(required(
        line(
            input.address_line1.as_deref(),
            "address_line1",
            ADDRESS_LINE_MAX,
        ),
        "address_line1",
    ));
    let address_line2 = v.check(line(
        input.address_line2.as_deref(),
        "address_line2",
        ADDRESS_LINE_MAX,
    ));
    let city = v.check(required(
        line(input.city.as_deref(), "city", CITY_MAX),
        "city",
    ));
    let country = v.check(required(
        optional(input.country.as_deref(), |s| {
            CountryCode::parse(s, "country")
        }),
        "country",
    ));
    let state = v.check(line(input.state.as_deref(), "state", STATE_MAX));
    // Without a valid country neither rule below can be decided; `country` is named.
    let (state, postal_code) = match country {
        Some(country) => (
            state.and_then(|s| v.check(state_for(country, s))),
            v.check(postal_code_for(country, input.postal_code.as_deref())),
        ),
        None => (None, None),
    };
    let note = v.check(optional(input.note.as_deref(), |s| {
        parse_text(s, "note", ADDRESS_NOTE_MAX)
    }));
    Some(AddressFields {
        address_type: address_type?,
        is_default: input.is_default.unwrap_or(false),
        is_verified: input.is_verified.unwrap_or(false),
        address_line1: address_line1?,
        address_line2: address_line2?,
        city: city?,
        state: state?,
        postal_code: postal_code?,
        country: country?,
        note: note?,
    })
}

fn state_for(
    country: CountryCode,
    state: Option<String>,
) -> std::result::Result<Option<String>, FieldError> {
    if state.is_none() && geo::requires_state(country) {
        return Err(FieldError::new(
            "state",
            format!("is required for addresses in {country}"),
        ));
    }
    Ok(state)
}

fn postal_code_for(
    country: CountryCode,
    raw: Option<&str>,
) -> std::result::Result<Option<String>, FieldError> {
    let code = optional(raw, |s| geo::parse_postal_code(country, s, "postal_code"))?;
    if code.is_none() && geo::requires_postal_code(country) {
        return Err(FieldError::new(
            "postal_code",
            format!("is required for addresses in {country}"),
        ));
    }
    Ok(code)
}

impl Address {
    pub fn create(contact_id: Uuid, input: AddressInput, at: Timestamp) -> Result<Address> {
        let mut v = Validator::new();
        let fields = validate_address(&input, &mut v);
        v.finish()?;
        let f = fields.ok_or_else(missing_values)?;
        Ok(Address {
            id: crate::new_id(),
            contact_id,
            address_type: f.address_type,
            is_default: f.is_default,
            is_verified: f.is_verified,
            address_line1: f.address_line1,
            address_line2: f.address_line2,
            city: f.city,
            state: f.state,
            postal_code: f.postal_code,
            country: f.country,
            note: f.note,
            created_at: at,
            updated_at: at,
            version: 1,
        })
    }

    pub fn to_input(&self) -> AddressInput {
        AddressInput {
            address_type: Some(self.address_type.as_str().into()),
            is_default: Some(self.is_default),
            is_verified: Some(self.is_verified),
            address_line1: Some(self.address_line1.clone()),
            address_line2: self.address_line2.clone(),
            city: Some(self.city.clone()),
            state: self.state.clone(),
            postal_code: self.postal_code.clone(),
            country: Some(self.country.as_str().into()),
            note: self.note.clone(),
        }
    }

    /// PATCH: a merge patch over the current fields, validated as a whole (a new
    /// country re-checks the postal code and state).
    pub fn patch(&mut self, patch: AddressPatch, at: Timestamp) -> Result<Changes> {
        let mut v = Validator::new();
        let input = patch.merge_into(self.to_input(), &mut v);
        let fields = validate_address(&input, &mut v);
        v.finish()?;
        let f = fields.ok_or_else(missing_values)?;
        let mut c = Changes::default();
        set(
            &mut self.address_type,
            f.address_type,
            "address_type",
            &mut c,
        );
        set(&mut self.is_default, f.is_default, "is_default", &mut c);
        set(&mut self.is_verified, f.is_verified, "is_verified", &mut c);
        set(
            &mut self.address_line1,
            f.address_line1,
            "address_line1",
            &mut c,
        );
        set(
            &mut self.address_line2,
            f.address_line2,
            "address_line2",
            &mut c,
        );
        set(&mut self.city, f.city, "city", &mut c);
        set(&mut self.state, f.state, "state", &mut c);
        set(&mut self.postal_code, f.postal_code, "postal_code", &mut c);
        set(&mut self.country, f.country, "country", &mut c);
        set(&mut self.note, f.note, "note", &mut c);
        if !c.is_empty() {
            self.updated_at = at.max(self.updated_at);
            self.version += 1;
        }
        Ok(c)
    }
}

/// When `chosen` is a default, the other addresses of its type that must stop being
/// the default (one default per type).
pub fn displaced_defaults(existing: &[Address], chosen: &Address) -> Vec<Uuid> {
    if !chosen.is_default {
        return Vec::new();
    }
    existing
        .iter()
        .filter(|a| a.id != chosen.id && a.is_default && a.address_type == chosen.address_type)
        .map(|a| a.id)
        .collect()
}

// ---------------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------------

pub const NOTE_MAX: usize = 10_000;

/// An internal note about a contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub note: String,
    /// The actor as recorded on events (`user:<id>`, `api_key:<id>`).
    pub author: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// Note text: trimmed, 1..=10 000 characters, line breaks allowed.
pub fn parse_note(raw: Option<&str>, field: &str) -> std::result::Result<String, FieldError> {
    required(optional(raw, |s| parse_text(s, field, NOTE_MAX)), field)
}

impl Note {
    pub fn create(
        contact_id: Uuid,
        note: Option<&str>,
        author: Option<String>,
        at: Timestamp,
    ) -> Result<Note> {
        let note = parse_note(note, "note").map_err(|e| Error::Validation(vec![e]))?;
        Ok(Note {
            id: crate::new_id(),
            contact_id,
            note,
            author,
            created_at: at,
            updated_at: at,
            version: 1,
        })
    }

    /// Replaces the text; returns whether it changed.
    pub fn edit(&mut self, note: Option<&str>, at: Timestamp) -> Result<bool> {
        let note = parse_note(note, "note").map_err(|e| Error::Validation(vec![e]))?;
        if note == self.note {
            return Ok(false);
        }
        self.note = note;
        self.updated_at = at.max(self.updated_at);
        self.version += 1;
        Ok(true)
    }
}

// ---------------------------------------------------------------------------------
// Interactions
// ---------------------------------------------------------------------------------

pub const SUBJECT_MAX: usize = 200;
pub const BODY_MAX: usize = 10_000;

text_enum! {
    /// How the contact and the tenant communicated (not to be confused with a
    /// project's channels).
    pub enum InteractionChannel {
        Email = "email",
        Call = "call",
        Meeting = "meeting",
        Sms = "sms",
        Chat = "chat",
    }
}

text_enum! {
    /// Who started the interaction: the contact (inbound) or the tenant (outbound).
    pub enum Direction {
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

/// One entry of the communication history.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub channel: InteractionChannel,
    pub direction: Direction,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub occurred_at: Timestamp,
    /// The actor as recorded on events.
    pub author: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct InteractionInput {
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    /// Defaults to the time of recording; may be in the past, not in the future.
    pub occurred_at: Option<Timestamp>,
}

impl Interaction {
    pub fn create(
        contact_id: Uuid,
        input: InteractionInput,
        author: Option<String>,
        at: Timestamp,
    ) -> Result<Interaction> {
        let mut v = Validator::new();
        let channel = v.check(required(
            optional(input.channel.as_deref(), |s| {
                InteractionChannel::parse_field(s, "channel")
            }),
            "channel",
        ));
        let direction = v.check(required(
            optional(input.direction.as_deref(), |s| {
                Direction::parse_field(s, "direction")
            }),
            "direction",
        ));
        let subject = v.check(optional(input.subject.as_deref(), |s| {
            parse_line(s, "subject", SUBJECT_MAX)
        }));
        let body = v.check(optional(input.body.as_deref(), |s| {
            parse_text(s, "body", BODY_MAX)
        }));
        let occurred_at = v.check(not_in_future(
            input.occurred_at.unwrap_or(at),
            at,
            "occurred_at",
        ));
        v.finish()?;
        let (Some(channel), Some(direction), Some(subject), Some(body), Some(occurred_at)) =
            (channel, direction, subject, body, occurred_at)
        else {
            return Err(missing_values());
        };
        Ok(Interaction {
            id: crate::new_id(),
            contact_id,
            channel,
            direction,
            subject,
            body,
            occurred_at,
            author,
            created_at: at,
        })
    }
}

// ---------------------------------------------------------------------------------
// Payment methods
// ---------------------------------------------------------------------------------

pub const PROVIDER_MAX: usize = 50;
pub const TOKEN_MAX: usize = 200;
pub const BRAND_MAX: usize = 50;
pub const EXP_YEAR_MIN: i64 = 2000;
pub const EXP_YEAR_MAX: i64 = 2100;

/// A payment method kept as the provider's token; card numbers are never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentMethod {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub provider: String,
    pub token: String,
    pub brand: Option<String>,
    pub last4: Option<String>,
    pub exp_month: Option<u32>,
    pub exp_year: Option<i32>,
    pub is_default: bool,
    pub created_at: Timestamp,
}

/// `exp_month` and `exp_year` come together or not at all (a bank account has none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaymentMethodInput {
    pub provider: Option<String>,
    pub token: Option<String>,
    pub brand: Option<String>,
    pub last4: Option<String>,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
    pub is_default: Option<bool>,
}

impl PaymentMethod {
    /// `at` is now: an expiry month before the current one is refused.
    pub fn create(
        contact_id: Uuid,
        input: PaymentMethodInput,
        at: Timestamp,
    ) -> Result<PaymentMethod> {
        let mut v = Validator::new();
        let provider = v.check(required(
            optional(input.provider.as_deref(), |s| {
                no_card_number(parse_line(s, "provider", PROVIDER_MAX)?, "provider")
            }),
            "provider",
        ));
        let token = v.check(required(
            optional(input.token.as_deref(), parse_token),
            "token",
        ));
        let brand = v.check(optional(input.brand.as_deref(), |s| {
            no_card_number(parse_line(s, "brand", BRAND_MAX)?, "brand")
        }));
        let last4 = v.check(optional(input.last4.as_deref(), parse_last4));
        let expiry = v.check(parse_expiry(input.exp_month, input.exp_year, at));
        v.finish()?;
        let (Some(provider), Some(token), Some(brand), Some(last4), Some(expiry)) =
            (provider, token, brand, last4, expiry)
        else {
            return Err(missing_values());
        };
        Ok(PaymentMethod {
            id: crate::new_id(),
            contact_id,
            provider,
            token,
            brand,
            last4,
            exp_month: expiry.map(|(month, _)| month),
            exp_year: expiry.map(|(_, year)| year),
            is_default: input.is_default.unwrap_or(false),
            created_at: at,
        })
    }
}

fn no_card_number(text: String, field: &str) -> std::result::Result<String, FieldError> {
    if contains_card_number(&text) {
        return Err(FieldError::new(field, "must not contain a card number"));
    }
    Ok(text)
}

/// A provider token: one word, and never a card number in disguise.
fn parse_token(raw: &str) -> std::result::Result<String, FieldError> {
    let token = parse_line(raw, "token", TOKEN_MAX)?;
    if token.chars().any(char::is_whitespace) {
        return Err(FieldError::new("token", "must not contain spaces"));
    }
    if contains_card_number(&token) {
        return Err(FieldError::new(
            "token",
            "must be the provider's token, not a card number",
        ));
    }
    Ok(token)
}

fn parse_last4(raw: &str) -> std::result::Result<String, FieldError> {
    if raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.to_string())
    } else {
        Err(FieldError::new("last4", "must be exactly 4 digits"))
    }
}

/// `(month, year)`, both or neither; a card is valid through the end of its month.
fn parse_expiry(
    month: Option<i64>,
    year: Option<i64>,
    now: Timestamp,
) -> std::result::Result<Option<(u32, i32)>, FieldError> {
    let (month, year) = match (month, year) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(FieldError::new("exp_year", "is required with exp_month")),
        (None, Some(_)) => return Err(FieldError::new("exp_month", "is required with exp_year")),
        (Some(month), Some(year)) => (month, year),
    };
    let month = u32::try_from(month)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| FieldError::new("exp_month", "must be between 1 and 12"))?;
    let year = i32::try_from(year)
        .ok()
        .filter(|y| (EXP_YEAR_MIN..=EXP_YEAR_MAX).contains(&i64::from(*y)))
        .ok_or_else(|| {
            FieldError::new(
                "exp_year",
                format!("must be between {EXP_YEAR_MIN} and {EXP_YEAR_MAX}"),
            )
        })?;
    if year < now.year() {
        return Err(FieldError::new("exp_year", "the card has expired"));
    }
    if year == now.year() && month < now.month() {
        return Err(FieldError::new("exp_month", "the card has expired"));
    }
    Ok(Some((month, year)))
}

// ---------------------------------------------------------------------------------
// Orders and statistics
// ---------------------------------------------------------------------------------

pub const ORDER_ID_MAX: usize = 100;

/// What a contact's orders add up to, in minor units of `currency`.
///
/// - `average_order_value` is `total_spent / total_orders`, truncated (amounts are
///   never negative, so this rounds down); 0 before the first order.
/// - `lifetime_value` is the revenue realized so far, i.e. `total_spent`: a forecast
///   would need churn and margin models that we do not have.
/// - `currency` is set by the first order; later orders in another currency are
///   refused, since converting would need exchange rates (and IO).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderStats {
    pub total_orders: i64,
    pub total_spent: i64,
    pub average_order_value: i64,
    pub lifetime_value: i64,
    pub currency: Option<String>,
    pub first_order_at: Option<Timestamp>,
    pub last_order_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderInput {
    pub order_id: Option<String>,
    /// Minor units (cents); 0 for a free order, never negative.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    /// Defaults to the time of recording; orders may arrive late and out of order.
    pub ordered_at: Option<Timestamp>,
}

/// A validated order, ready to be added to the statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_id: String,
    pub amount: i64,
    pub currency: String,
    pub ordered_at: Timestamp,
}

impl Order {
    /// `now` bounds `ordered_at` and is its default.
    pub fn parse(input: OrderInput, now: Timestamp) -> Result<Order> {
        let mut v = Validator::new();
        let order_id = v.check(required(
            optional(input.order_id.as_deref(), |s| {
                parse_line(s, "order_id", ORDER_ID_MAX)
            }),
            "order_id",
        ));
        let amount = v.check(match input.amount {
            None => Err(FieldError::new("amount", "is required")),
            Some(a) if a < 0 => Err(FieldError::new("amount", "must not be negative")),
            Some(a) => Ok(a),
        });
        let currency = v.check(required(
            optional(input.currency.as_deref(), |s| {
                crate::currency::parse_currency(s, "currency")
            }),
            "currency",
        ));
        let ordered_at = v.check(not_in_future(
            input.ordered_at.unwrap_or(now),
            now,
            "ordered_at",
        ));
        v.finish()?;
        let (Some(order_id), Some(amount), Some(currency), Some(ordered_at)) =
            (order_id, amount, currency, ordered_at)
        else {
            return Err(missing_values());
        };
        Ok(Order {
            order_id,
            amount,
            currency,
            ordered_at,
        })
    }
}

impl OrderStats {
    /// Adds `order`; on error nothing changes.
    pub fn record(&mut self, order: &Order) -> Result<()> {
        if let Some(currency) = &self.currency {
            if *currency != order.currency {
                return Err(Error::validation(
                    "currency",
                    format!("must be {currency}, the currency of this contact's orders"),
                ));
            }
        }
        let overflow = || Error::validation("amount", "is too large for the contact's totals");
        let total_orders = self.total_orders.checked_add(1).ok_or_else(overflow)?;
        let total_spent = self
            .total_spent
            .checked_add(order.amount)
            .ok_or_else(overflow)?;
        let at = order.ordered_at;
        self.total_orders = total_orders;
        self.total_spent = total_spent;
        self.average_order_value = total_spent / total_orders;
        self.lifetime_value = total_spent;
        self.currency = Some(order.currency.clone());
        self.first_order_at = Some(self.first_order_at.map_or(at, |t| t.min(at)));
        self.last_order_at = Some(self.last_order_at.map_or(at, |t| t.max(at)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn now() -> Timestamp {
        at("2026-03-15T12:00:00Z")
    }

    fn contact() -> Uuid {
        Uuid::from_u128(42)
    }

    fn fields<T: std::fmt::Debug>(result: Result<T>) -> Vec<String> {
        match result {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn seed_address() -> AddressInput {
        AddressInput {
            address_type: Some("shipping".into()),
            is_default: Some(true),
            address_line1: Some("123 Main St".into()),
            city: Some("San Francisco".into()),
            state: Some("CA".into()),
            postal_code: Some("94102".into()),
            country: Some("us".into()),
            ..AddressInput::default()
        }
    }

    #[test]
    fn seed_address_is_valid_and_normalized() {
        let a = Address::create(contact(), seed_address(), now()).unwrap();
        assert_eq!(a.address_type, AddressType::Shipping);
        assert!(a.is_default && !a.is_verified);
        assert_eq!(a.country.as_str(), "US");
        assert_eq!(a.postal_code.as_deref(), Some("94102"));
        assert_eq!(a.version, 1);
    }

    #[test]
    fn address_names_every_missing_field() {
        let empty = AddressInput {
            address_line1: Some("  ".into()),
            ..AddressInput::default()
        };
        assert_eq!(
            fields(Address::create(contact(), empty, now())),
            ["address_type", "address_line1", "city", "country"]
        );
    }

    #[test]
    fn address_names_every_bad_field() {
        let bad = AddressInput {
            address_type: Some("home".into()),
            address_line1: Some("x".repeat(ADDRESS_LINE_MAX + 1)),
            address_line2: Some("line\nbreak".into()),
            city: Some("c".repeat(CITY_MAX + 1)),
            state: None,
            postal_code: Some("ABCDE".into()),
            note: Some("n".repeat(ADDRESS_NOTE_MAX + 1)),
            ..seed_address()
        };
        assert_eq!(
            fields(Address::create(contact(), bad, now())),
            [
                "address_type",
                "address_line1",
                "address_line2",
                "city",
                "state",
                "postal_code",
                "note"
            ]
        );
    }

    #[test]
    fn state_and_postal_code_follow_the_country() {
        let us_without = AddressInput {
            state: None,
            postal_code: None,
            ..seed_address()
        };
        assert_eq!(
            fields(Address::create(contact(), us_without, now())),
            ["state", "postal_code"]
        );
        // Ireland: neither is required, and any plain postal code is kept.
        let ie = AddressInput {
            state: None,
            postal_code: Some("d02 x285".into()),
            country: Some("IE".into()),
            ..seed_address()
        };
        let a = Address::create(contact(), ie, now()).unwrap();
        assert_eq!(a.postal_code.as_deref(), Some("D02 X285"));
        // An unknown country is the only error: the postal code cannot be judged.
        let unknown = AddressInput {
            country: Some("XX".into()),
            postal_code: Some("anything?".into()),
            ..seed_address()
        };
        assert_eq!(
            fields(Address::create(contact(), unknown, now())),
            ["country"]
        );
        // The note may span lines.
        let noted = AddressInput {
            note: Some("Ring twice.\nLeave at the door.".into()),
            ..seed_address()
        };
        assert!(Address::create(contact(), noted, now()).is_ok());
    }

    #[test]
    fn address_patch_revalidates_against_the_new_country() {
        let mut a = Address::create(contact(), seed_address(), now()).unwrap();
        let to_uk = AddressPatch {
            country: Some(Some("GB".into())),
            ..AddressPatch::default()
        };
        assert_eq!(fields(a.patch(to_uk, now())), ["postal_code"]);
        let to_uk = AddressPatch {
            country: Some(Some("gb".into())),
            postal_code: Some(Some("sw1a1aa".into())),
            city: Some(Some("London".into())),
            state: Some(None),
            ..AddressPatch::default()
        };
        let changes = a.patch(to_uk, now()).unwrap();
        assert_eq!(changes.0, ["city", "state", "postal_code", "country"]);
        assert_eq!(a.postal_code.as_deref(), Some("SW1A 1AA"));
        assert_eq!(a.version, 2);
        let nulls = AddressPatch {
            address_type: Some(None),
            is_default: Some(None),
            address_line1: Some(None),
            ..AddressPatch::default()
        };
        assert_eq!(
            fields(a.patch(nulls, now())),
            ["address_type", "is_default", "address_line1"]
        );
        assert!(a.patch(AddressPatch::default(), now()).unwrap().is_empty());
        assert_eq!(a.version, 2);
    }

    #[test]
    fn one_default_per_address_type() {
        let make = |kind: &str, is_default: bool| {
            let input = AddressInput {
                address_type: Some(kind.into()),
                is_default: Some(is_default),
                ..seed_address()
            };
            Address::create(contact(), input, now()).unwrap()
        };
        let old_shipping = make("shipping", true);
        let billing = make("billing", true);
        let other_shipping = make("shipping", false);
        let existing = [old_shipping.clone(), billing, other_shipping];
        let new_default = make("shipping", true);
        assert_eq!(
            displaced_defaults(&existing, &new_default),
            [old_shipping.id]
        );
        assert!(displaced_defaults(&existing, &make("shipping", false)).is_empty());
        // Re-saving the current default displaces nothing.
        assert!(displaced_defaults(&existing, &old_shipping).is_empty());
    }

    #[test]
    fn notes_are_bounded_and_editable() {
        let mut note = Note::create(
            contact(),
            Some(" Customer requested expedited shipping\nby Friday "),
            Some("user:1".into()),
            now(),
        )
        .unwrap();
        assert_eq!(
            note.note,
            "Customer requested expedited shipping\nby Friday"
        );
        for bad in [None, Some(""), Some("  ")] {
            assert_eq!(fields(Note::create(contact(), bad, None, now())), ["note"]);
        }
        let long = "n".repeat(NOTE_MAX + 1);
        assert_eq!(
            fields(Note::create(contact(), Some(&long), None, now())),
            ["note"]
        );
        assert!(Note::create(contact(), Some(&long[1..]), None, now()).is_ok());
        let later = at("2026-03-16T00:00:00Z");
        assert!(note.edit(Some("Shipped"), later).unwrap());
        assert!(!note.edit(Some("Shipped "), later).unwrap());
        assert_eq!((note.version, note.updated_at), (2, later));
    }

    #[test]
    fn interactions_default_to_now_and_refuse_the_future() {
        let input = InteractionInput {
            channel: Some("call".into()),
            direction: Some("outbound".into()),
            subject: Some("Renewal".into()),
            body: Some("Discussed the renewal.\nFollow up next week.".into()),
            occurred_at: None,
        };
        let i = Interaction::create(contact(), input.clone(), None, now()).unwrap();
        assert_eq!(
            (i.channel, i.direction, i.occurred_at),
            (InteractionChannel::Call, Direction::Outbound, now())
        );
        let past = InteractionInput {
            occurred_at: Some(at("2025-01-01T00:00:00Z")),
            ..input.clone()
        };
        assert!(Interaction::create(contact(), past, None, now()).is_ok());
        let skewed = InteractionInput {
            occurred_at: Some(now() + TimeDelta::minutes(4)),
            ..input.clone()
        };
        assert!(Interaction::create(contact(), skewed, None, now()).is_ok());
        let bad = InteractionInput {
            channel: Some("fax".into()),
            direction: None,
            subject: Some("two\nlines".into()),
            body: Some("b".repeat(BODY_MAX + 1)),
            occurred_at: Some(now() + TimeDelta::hours(1)),
        };
        assert_eq!(
            fields(Interaction::create(contact(), bad, None, now())),
            ["channel", "direction", "subject", "body", "occurred_at"]
        );
    }

    fn card() -> PaymentMethodInput {
        PaymentMethodInput {
            provider: Some("stripe".into()),
            token: Some("pm_1NqYzL2eZvKYlo2C".into()),
            brand: Some("visa".into()),
            last4: Some("4242".into()),
            exp_month: Some(3),
            exp_year: Some(2026),
            is_default: Some(true),
        }
    }

    #[test]
    fn payment_method_keeps_only_the_token() {
        let pm = PaymentMethod::create(contact(), card(), now()).unwrap();
        assert_eq!(pm.token, "pm_1NqYzL2eZvKYlo2C");
        assert_eq!((pm.exp_month, pm.exp_year), (Some(3), Some(2026)));
        assert!(pm.is_default);
        let bank = PaymentMethodInput {
            brand: None,
            last4: None,
            exp_month: None,
            exp_year: None,
            ..card()
        };
        assert!(PaymentMethod::create(contact(), bank, now()).is_ok());
    }

    #[test]
    fn card_numbers_are_refused_without_echoing_them() {
        for token in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "tok_5555555555554444",
        ] {
            let input = PaymentMethodInput {
                token: Some(token.into()),
                ..card()
            };
            let Err(Error::Validation(errors)) = PaymentMethod::create(contact(), input, now())
            else {
                panic!("{token} should be refused");
            };
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "token");
            assert!(!errors[0].message.contains("1111") && !errors[0].message.contains("4444"));
        }
        let brand = PaymentMethodInput {
            brand: Some("visa 4111111111111111".into()),
            ..card()
        };
        assert_eq!(
            fields(PaymentMethod::create(contact(), brand, now())),
            ["brand"]
        );
    }

    #[test]
    fn payment_method_names_every_bad_field() {
        let bad = PaymentMethodInput {
            provider: None,
            token: Some("two words".into()),
            brand: Some("b".repeat(BRAND_MAX + 1)),
            last4: Some("12a4".into()),
            exp_month: Some(13),
            exp_year: Some(2026),
            is_default: None,
        };
        assert_eq!(
            fields(PaymentMethod::create(contact(), bad, now())),
            ["provider", "token", "brand", "last4", "exp_month"]
        );
        for last4 in ["123", "12345", "１２３４"] {
            let input = PaymentMethodInput {
                last4: Some(last4.into()),
                ..card()
            };
            assert_eq!(
                fields(PaymentMethod::create(contact(), input, now())),
                ["last4"]
            );
        }
    }

    #[test]
    fn expiry_is_checked_against_the_current_month() {
        let expiry = |month: Option<i64>, year: Option<i64>| {
            let input = PaymentMethodInput {
                exp_month: month,
                exp_year: year,
                ..card()
            };
            PaymentMethod::create(contact(), input, now())
        };
        // now() is March 2026: March is still valid, February has expired.
        assert!(expiry(Some(3), Some(2026)).is_ok());
        assert!(expiry(Some(1), Some(2100)).is_ok());
        assert_eq!(fields(expiry(Some(2), Some(2026))), ["exp_month"]);
        assert_eq!(fields(expiry(Some(12), Some(2025))), ["exp_year"]);
        assert_eq!(fields(expiry(Some(0), Some(2027))), ["exp_month"]);
        assert_eq!(fields(expiry(Some(-1), Some(2027))), ["exp_month"]);
        assert_eq!(fields(expiry(Some(5), Some(1999))), ["exp_year"]);
        assert_eq!(fields(expiry(Some(5), Some(2101))), ["exp_year"]);
        assert_eq!(fields(expiry(Some(5), Some(i64::MAX))), ["exp_year"]);
        assert_eq!(fields(expiry(Some(5), None)), ["exp_year"]);
        assert_eq!(fields(expiry(None, Some(2027))), ["exp_month"]);
    }

    fn order(id: &str, amount: i64, currency: &str, when: &str) -> Order {
        Order::parse(
            OrderInput {
                order_id: Some(id.into()),
                amount: Some(amount),
                currency: Some(currency.into()),
                ordered_at: Some(at(when)),
            },
            now(),
        )
        .unwrap()
    }

    #[test]
    fn order_input_names_every_bad_field() {
        assert_eq!(
            fields(Order::parse(OrderInput::default(), now())),
            ["order_id", "amount", "currency"]
        );
        let bad = OrderInput {
            order_id: Some("o".repeat(ORDER_ID_MAX + 1)),
            amount: Some(-1),
            currency: Some("EURO".into()),
            ordered_at: Some(now() + TimeDelta::days(1)),
        };
        assert_eq!(
            fields(Order::parse(bad, now())),
            ["order_id", "amount", "currency", "ordered_at"]
        );
        for bad in ["", "E1R", "€€€", "US"] {
            assert!(
                crate::currency::parse_currency(bad, "currency").is_err(),
                "{bad}"
            );
        }
        let defaulted = OrderInput {
            order_id: Some("o-1".into()),
            amount: Some(0),
            currency: Some(" usd ".into()),
            ordered_at: None,
        };
        let o = Order::parse(defaulted, now()).unwrap();
        assert_eq!(
            (o.currency.as_str(), o.ordered_at, o.amount),
            ("USD", now(), 0)
        );
    }

    #[test]
    fn stats_add_up_several_orders() {
        let mut stats = OrderStats::default();
        stats
            .record(&order("o-2", 10_000, "EUR", "2026-02-01T00:00:00Z"))
            .unwrap();
        stats
            .record(&order("o-1", 2_501, "EUR", "2026-01-01T00:00:00Z"))
            .unwrap();
        stats
            .record(&order("o-3", 0, "eur", "2026-03-01T00:00:00Z"))
            .unwrap();
        assert_eq!(
            stats,
            OrderStats {
                total_orders: 3,
                total_spent: 12_501,
                // 12 501 / 3 = 4 167, remainder dropped.
                average_order_value: 4_167,
                lifetime_value: 12_501,
                currency: Some("EUR".into()),
                first_order_at: Some(at("2026-01-01T00:00:00Z")),
                last_order_at: Some(at("2026-03-01T00:00:00Z")),
            }
        );
    }

    #[test]
    fn stats_refuse_another_currency_and_overflow_without_changing() {
        let mut stats = OrderStats::default();
        stats
            .record(&order("o-1", 100, "EUR", "2026-01-01T00:00:00Z"))
            .unwrap();
        let before = stats.clone();
        let usd = stats.record(&order("o-2", 100, "USD", "2026-01-02T00:00:00Z"));
        assert_eq!(fields(usd), ["currency"]);
        let huge = stats.record(&order("o-3", i64::MAX, "EUR", "2026-01-03T00:00:00Z"));
        assert_eq!(fields(huge), ["amount"]);
        assert_eq!(stats, before);
    }
}
