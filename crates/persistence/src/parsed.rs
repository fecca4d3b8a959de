//! Text columns parsed where the database returned them.
//!
//! Read as `String`, every id, enum and JSON column of a row is copied into its own
//! allocation only to be parsed and dropped: 17 of a contact's 23 text columns, about
//! 350 allocations and as many frees for a page of 20, with glibc's allocator a quarter
//! of the server's CPU on PostgreSQL's pages (BENCHMARKS.md). [`Parsed`] reads the
//! value from the row's own bytes (SQLite's text, PostgreSQL's binary text) and keeps
//! only what it parses to.
//!
//! A stored value that does not parse is a bug or corruption, not input: the row fails
//! to load with an error naming what the column holds and the value.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::Sqlite;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::conn::MultiBackend;

/// A value stored as text, parsed from it.
pub(crate) trait FromStoredText: Sized {
    /// What such a column holds, for the error when a value does not parse.
    const WHAT: &'static str;

    fn from_stored(text: &str) -> Option<Self>;
}

/// A text column's value, parsed.
#[derive(Debug, Clone, PartialEq, diesel::deserialize::FromSqlRow)]
pub(crate) struct Parsed<T>(pub T);

/// A nullable text column's value, parsed; `None` for NULL.
#[derive(Debug, Clone, PartialEq, diesel::deserialize::FromSqlRow)]
pub(crate) struct MaybeParsed<T>(pub Option<T>);

fn parse<T: FromStoredText>(text: &str) -> deserialize::Result<Parsed<T>> {
    T::from_stored(text)
        .map(Parsed)
        .ok_or_else(|| format!("stored {} is not valid: {text:?}", T::WHAT).into())
}

impl<T: FromStoredText> FromSql<Text, Sqlite> for Parsed<T> {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse(value.read_text())
    }
}

impl<T: FromStoredText> FromSql<Text, Pg> for Parsed<T> {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        parse(std::str::from_utf8(value.as_bytes())?)
    }
}

impl<T: FromStoredText> FromSql<Text, MultiBackend> for Parsed<T> {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Parsed<T>, Text>()
    }
}

/// On every backend where [`Parsed`] reads (as `MaybeStamp` does for timestamps).
impl<T, DB: Backend> FromSql<Nullable<Text>, DB> for MaybeParsed<T>
where
    Parsed<T>: FromSql<Text, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Parsed::<T>::from_sql(value).map(|p| MaybeParsed(Some(p.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(v) => Self::from_sql(v),
            None => Ok(MaybeParsed(None)),
        }
    }
}

impl FromStoredText for Uuid {
    const WHAT: &'static str = "id";

    fn from_stored(text: &str) -> Option<Self> {
        Uuid::try_parse(text).ok()
    }
}

/// A JSON array of strings (a contact's tags).
impl FromStoredText for Vec<String> {
    const WHAT: &'static str = "JSON array of strings";

    fn from_stored(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// A JSON object (a contact's custom attributes).
impl FromStoredText for Map<String, Value> {
    const WHAT: &'static str = "JSON object";

    fn from_stored(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// The domain's closed sets of values, stored as their text.
macro_rules! stored_enum {
    ($($ty:ty => $what:literal),+ $(,)?) => {
        $(impl FromStoredText for $ty {
            const WHAT: &'static str = $what;

            fn from_stored(text: &str) -> Option<Self> {
                <$ty>::parse(text)
            }
        })+
    };
}

use clientele_domain::contact::{ContactStatus, CustomerType, Kind, Source, Stage, Tier};

stored_enum!(
    Kind => "contact kind",
    Stage => "lifecycle stage",
    ContactStatus => "contact status",
    Tier => "tier",
    CustomerType => "customer type",
);

/// A known source as stored, else the tenant's own text (checked again by its parser).
impl FromStoredText for Source {
    const WHAT: &'static str = "source";

    fn from_stored(text: &str) -> Option<Self> {
        // Most contacts have a known source: no copy, case folding or search for them.
        Source::known(text).or_else(|| Source::parse(text, "source").ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::dsl::sql;
    use diesel::prelude::*;

    fn sqlite() -> diesel::SqliteConnection {
        diesel::SqliteConnection::establish(":memory:").unwrap()
    }

    /// Through SQLite: each kind of value as stored, NULL as none, and a value that
    /// does not parse as an error that says what was expected and what was found.
    #[test]
    fn reads_stored_text_in_place_and_refuses_what_does_not_parse() {
        let mut conn = sqlite();
        let id = Uuid::now_v7();
        let read: Parsed<Uuid> = diesel::select(sql::<Text>(&format!("'{id}'")))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(read, Parsed(id));
        let stage: Parsed<Stage> = diesel::select(sql::<Text>("'customer'"))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(stage, Parsed(Stage::Customer));
        let tags: Parsed<Vec<String>> = diesel::select(sql::<Text>(r#"'["vip","berlin"]'"#))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(tags.0, ["vip", "berlin"]);
        let attributes: Parsed<Map<String, Value>> =
            diesel::select(sql::<Text>(r#"'{"size":"L","visits":3}'"#))
                .get_result(&mut conn)
                .unwrap();
        assert_eq!(attributes.0["visits"], Value::from(3));
        let source: Parsed<Source> = diesel::select(sql::<Text>("'trade fair'"))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(source.0, Source::Other("trade fair".into()));
        let source: Parsed<Source> = diesel::select(sql::<Text>("'cold-call'"))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(source.0, Source::ColdCall);

        let none: MaybeParsed<Uuid> = diesel::select(sql::<Nullable<Text>>("NULL"))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(none, MaybeParsed(None));
        let some: MaybeParsed<Uuid> = diesel::select(sql::<Nullable<Text>>(&format!("'{id}'")))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(some, MaybeParsed(Some(id)));

        let bad = diesel::select(sql::<Text>("'not-a-uuid'"))
            .get_result::<Parsed<Uuid>>(&mut conn)
            .map_err(crate::errors::db)
            .unwrap_err()
            .to_string();
        // The cause once, after diesel's own words, which name only the column.
        assert_eq!(bad.matches("stored id is not valid").count(), 1, "{bad}");
        assert!(bad.contains("not-a-uuid"), "{bad}");
        let bad = diesel::select(sql::<Nullable<Text>>("'vip'"))
            .get_result::<MaybeParsed<Vec<String>>>(&mut conn)
            .map_err(crate::errors::db)
            .unwrap_err()
            .to_string();
        assert!(bad.contains("JSON array of strings"), "{bad}");
        let bad = diesel::select(sql::<Text>("'Customer'"))
            .get_result::<Parsed<Stage>>(&mut conn)
            .map_err(crate::errors::db)
            .unwrap_err()
            .to_string();
        assert!(bad.contains("lifecycle stage"), "{bad}");
    }
}
