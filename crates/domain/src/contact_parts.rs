//! What hangs under a contact: for now, the order statistics.

use chrono::TimeDelta;

use crate::contact::{missing_values, optional, parse_line};
use crate::error::{Error, FieldError, Result, Validator};
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

/// An ISO 4217 code by shape (three letters), upper-cased.
pub fn parse_currency(raw: &str, field: &str) -> std::result::Result<String, FieldError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(FieldError::new(
            field,
            "must be a three-letter ISO 4217 currency code (e.g. EUR)",
        ))
    }
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
            optional(input.currency.as_deref(), |s| parse_currency(s, "currency")),
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

    fn fields<T: std::fmt::Debug>(result: Result<T>) -> Vec<String> {
        match result {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
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
            assert!(parse_currency(bad, "currency").is_err(), "{bad}");
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
