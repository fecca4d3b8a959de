//! Reading stored timestamps without chrono's format parser.
//!
//! SQLite keeps a `TIMESTAMP` as text, and diesel parses it with
//! `NaiveDateTime::parse_from_str` against a list of formats: a strftime interpreter
//! per value, 5% of the server's CPU for a page of 20 contacts (six timestamps each).
//! Every timestamp we write has one form, `YYYY-MM-DD HH:MM:SS[.ffffff]` (diesel's
//! encoding); [`Stamp`] reads that form directly and hands anything else to diesel's
//! parser, so a value written by another tool still reads. PostgreSQL's binary
//! timestamps go to diesel as before.
//!
//! Used as `#[diesel(deserialize_as = Stamp)]` / `MaybeStamp` on row fields.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

use crate::conn::MultiBackend;

/// A `TIMESTAMP` column's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

/// A nullable `TIMESTAMP` column's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct MaybeStamp(pub Option<NaiveDateTime>);

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> Self {
        s.0
    }
}

impl From<MaybeStamp> for Option<NaiveDateTime> {
    fn from(s: MaybeStamp) -> Self {
        s.0
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1 to 9 fraction digits; `None` for
/// any other text (including a `T` separator or an offset, which diesel's parser
/// accepts and we hand to it).
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if b.len() < 19 || separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let (h, m, s) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20, b.len())?;
            n * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    // Seconds stop at 59 here: a leap second goes through diesel's parser.
    let time = NaiveTime::from_hms_nano_opt(h, m, s, nanos).filter(|_| s < 60)?;
    Some(NaiveDateTime::new(date, time))
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        // Only a value stored as text is read here (`read_text` would convert a Julian
        // day number to text); everything else goes to diesel.
        if value.value_type() == Some(diesel::sqlite::SqliteType::Text) {
            if let Some(t) = parse(value.read_text()) {
                return Ok(Stamp(t));
            }
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Stamp, Timestamp>()
    }
}

/// On every backend where [`Stamp`] reads: the concrete connections (statements run
/// through `on_backend!`) and the multi-backend one.
impl<DB: Backend> FromSql<Nullable<Timestamp>, DB> for MaybeStamp
where
    Stamp: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Stamp::from_sql(value).map(|s| MaybeStamp(Some(s.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(v) => Self::from_sql(v),
            None => Ok(MaybeStamp(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_parse(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").expect("chrono parses it")
    }

    #[test]
    fn reads_what_diesel_writes_as_chrono_would() {
        for text in [
            "2026-12-01 10:54:10.430732",
            "2024-02-29 23:59:59.999999",
            "1970-01-01 00:00:00",
            "2026-12-01 10:54:10.4",
            "2026-12-01 10:54:10.123456789",
            "0001-01-01 00:00:00.000001",
        ] {
            assert_eq!(parse(text), Some(chrono_parse(text)), "{text}");
        }
        // Round trip through diesel's own encoding.
        let t = chrono_parse("2025-06-07 08:09:10.000042");
        let written = t.format("%F %T%.f").to_string();
        assert_eq!(parse(&written), Some(t));
    }

    #[test]
    fn leaves_other_forms_to_diesel() {
        for text in [
            "2026-12-01T10:54:10.430732",
            "2026-12-01 10:54",
            "2026-12-01 10:54:10.",
            "2026-12-01 10:54:10.1234567890",
            "2026-12-01 10:54:10+00:00",
            "2026-02-30 10:54:10",
            "2026-12-01 24:00:00",
            "2026-12-01 10:54:60",
            "2026-1a-01 10:54:10",
            "2459000.5",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    /// Through SQLite: our form by the fast path, other forms and a Julian day number
    /// by diesel's, NULL as none.
    #[test]
    fn reads_every_form_sqlite_returns() {
        use diesel::dsl::sql;
        use diesel::prelude::*;
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        let mut read = |expr: &str| -> Stamp {
            diesel::select(sql::<Timestamp>(expr))
                .get_result(&mut conn)
                .unwrap()
        };
        let ours = chrono_parse("2026-12-01 10:54:10.430732");
        assert_eq!(read("'2026-12-01 10:54:10.430732'"), Stamp(ours));
        assert_eq!(read("'2026-12-01T10:54:10.430732'"), Stamp(ours));
        assert_eq!(
            read("julianday('2026-12-01 12:00:00')"),
            Stamp(chrono_parse("2026-12-01 12:00:00"))
        );
        let none: MaybeStamp = diesel::select(sql::<Nullable<Timestamp>>("NULL"))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(none, MaybeStamp(None));
        let some: MaybeStamp = diesel::select(sql::<Nullable<Timestamp>>("'1970-01-01 00:00:00'"))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(some, MaybeStamp(Some(chrono_parse("1970-01-01 00:00:00"))));
    }
}
