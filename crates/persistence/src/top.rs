//! `clientele_top(id, key, want, skip, descending)`: an SQLite aggregate that keeps the
//! first `want` rows of its input in the order `(key, id)` (descending when asked),
//! drops repeated rows, and returns the ids of those after the first `skip` as a JSON
//! array, in that order.
//!
//! A search's first page is the first rows, in list order, of every contact a prefix
//! matches, and at a million contacts a prefix matches hundreds. Written as `ORDER BY …
//! LIMIT`, SQLite puts every match through its sorter: half of the instructions of a
//! term's scan (callgrind, 1,570 of 3,530 per index entry, BENCHMARKS.md). Here a match
//! that cannot make the page costs one comparison. PostgreSQL keeps `ORDER BY … LIMIT`,
//! whose top-N sort is cheap beside its executor's per-row work.
//!
//! Values are ordered as SQLite's `ORDER BY` orders them with the BINARY collation:
//! NULL, then numbers, then text, then blobs; text and blobs byte by byte. So the page
//! is the one the `ORDER BY` would give, ties included.

use std::cmp::Ordering;

use diesel::deserialize::{self, FromSql};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteAggregateFunction, SqliteType, SqliteValue};
use diesel::SqliteConnection;
use smallvec::SmallVec;

diesel::define_sql_function! {
    /// The ids of rows `skip .. want` of the input in `(key, id)` order, as a JSON
    /// array. SQLite only (see the module).
    #[aggregate]
    #[sql_name = "clientele_top"]
    fn clientele_top(
        id: Text,
        key: Text,
        want: diesel::sql_types::BigInt,
        skip: diesel::sql_types::BigInt,
        descending: diesel::sql_types::Bool,
    ) -> Text;
}

/// Makes `clientele_top` available on `conn`; every SQLite connection gets it.
pub(crate) fn register(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    clientele_top_utils::register_impl::<Top, _, _, _, _, _>(conn)
}

/// Bytes of text or a blob; ids and timestamps fit inline, so a row costs no allocation.
type Bytes = SmallVec<[u8; 40]>;

/// One SQLite value, whatever its column's declared type.
#[derive(Debug, Clone, diesel::deserialize::FromSqlRow)]
pub(crate) enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(Bytes),
    Blob(Bytes),
}

impl Value {
    /// SQLite's order of storage classes.
    fn class(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Integer(_) | Value::Real(_) => 1,
            Value::Text(_) => 2,
            Value::Blob(_) => 3,
        }
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
            (Value::Real(a), Value::Real(b)) => a.total_cmp(b),
            (Value::Integer(a), Value::Real(b)) => (*a as f64).total_cmp(b),
            (Value::Real(a), Value::Integer(b)) => a.total_cmp(&(*b as f64)),
            (Value::Text(a), Value::Text(b)) | (Value::Blob(a), Value::Blob(b)) => a.cmp(b),
            _ => self.class().cmp(&other.class()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl FromSql<Text, Sqlite> for Value {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Value> {
        Ok(match value.value_type() {
            None => Value::Null,
            Some(SqliteType::Integer | SqliteType::Long | SqliteType::SmallInt) => {
                Value::Integer(value.read_long())
            }
            Some(SqliteType::Double | SqliteType::Float) => Value::Real(value.read_double()),
            Some(SqliteType::Binary) => {
                Value::Blob(SmallVec::from_slice(&<Vec<u8> as FromSql<
                    diesel::sql_types::Binary,
                    Sqlite,
                >>::from_sql(value)?))
            }
            Some(_) => Value::Text(SmallVec::from_slice(value.read_text().as_bytes())),
        })
    }

    fn from_nullable_sql(value: Option<SqliteValue<'_, '_, '_>>) -> deserialize::Result<Value> {
        value.map_or(Ok(Value::Null), Self::from_sql)
    }
}

/// The aggregate's state: the best rows so far, in page order, at most `want`.
#[derive(Debug, Default)]
pub(crate) struct Top {
    want: usize,
    skip: usize,
    descending: bool,
    /// `(key, id)`, first row first.
    best: Vec<(Value, Value)>,
}

impl Top {
    /// Where `a` goes relative to `b` on the page.
    fn order(&self, a: &(Value, Value), b: &(Value, Value)) -> Ordering {
        if self.descending {
            b.cmp(a)
        } else {
            a.cmp(b)
        }
    }
}

impl SqliteAggregateFunction<(Value, Value, i64, i64, bool)> for Top {
    type Output = String;

    fn step(&mut self, (id, key, want, skip, descending): (Value, Value, i64, i64, bool)) {
        // The same on every row: bound parameters.
        self.want = usize::try_from(want).unwrap_or(0);
        self.skip = usize::try_from(skip).unwrap_or(0);
        self.descending = descending;
        let row = (key, id);
        if self.best.len() >= self.want {
            match self.best.last() {
                Some(last) if self.order(&row, last) == Ordering::Less => {}
                // Not before the last row kept (or nothing is wanted).
                _ => return,
            }
        }
        // A contact matched by two terms arrives twice, with the same key.
        if let Err(at) = self.best.binary_search_by(|kept| self.order(kept, &row)) {
            self.best.insert(at, row);
            self.best.truncate(self.want);
        }
    }

    fn finalize(top: Option<Top>) -> String {
        let ids: Vec<String> = top
            .map(|top| {
                top.best
                    .into_iter()
                    .skip(top.skip)
                    .map(|(_, id)| match id {
                        Value::Text(b) | Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
                        Value::Integer(i) => i.to_string(),
                        Value::Real(r) => r.to_string(),
                        Value::Null => String::new(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        serde_json::Value::from(ids).to_string()
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Bool, Text};

    use super::*;

    #[derive(QueryableByName)]
    struct Ids {
        #[diesel(sql_type = Text)]
        ids: String,
    }

    fn conn() -> SqliteConnection {
        let mut conn = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        register(&mut conn).expect("register clientele_top");
        conn.batch_execute(
            "CREATE TABLE t (id TEXT NOT NULL, k);
             INSERT INTO t VALUES
               ('a', '2025-01-01 00:00:00.5'), ('b', '2025-01-01 00:00:00.25'),
               ('c', '2025-01-01 00:00:00'), ('d', '2025-01-02 00:00:00'),
               ('e', '2025-01-01 00:00:00.5'), ('f', 7), ('g', -3), ('h', 2.5),
               ('i', NULL), ('j', X'00'), ('k', '2025-01-02 00:00:00');",
        )
        .expect("fixture");
        conn
    }

    /// What `clientele_top` gives and what `ORDER BY … LIMIT … OFFSET` gives, over `t`
    /// read twice (every row repeated, as two matching terms give it).
    fn both(conn: &mut SqliteConnection, want: i64, skip: i64, desc: bool) -> (String, String) {
        let dir = if desc { "DESC" } else { "ASC" };
        let top: Ids = diesel::sql_query(
            "SELECT clientele_top(id, k, ?, ?, ?) AS ids
             FROM (SELECT id, k FROM t UNION ALL SELECT id, k FROM t)",
        )
        .bind::<BigInt, _>(want)
        .bind::<BigInt, _>(skip)
        .bind::<Bool, _>(desc)
        .get_result(conn)
        .expect("clientele_top");
        let sorted: Ids = diesel::sql_query(format!(
            "SELECT coalesce(json_group_array(id), '[]') AS ids FROM
             (SELECT id FROM t ORDER BY k {dir}, id {dir} LIMIT ? OFFSET ?)"
        ))
        .bind::<BigInt, _>(want - skip)
        .bind::<BigInt, _>(skip)
        .get_result(conn)
        .expect("ORDER BY");
        (top.ids, sorted.ids)
    }

    #[test]
    fn keeps_the_rows_order_by_would_give_once_each() {
        let mut conn = conn();
        for desc in [true, false] {
            for (want, skip) in [(1, 0), (3, 0), (5, 2), (11, 0), (11, 4), (20, 0), (4, 4)] {
                let (top, sorted) = both(&mut conn, want, skip, desc);
                assert_eq!(top, sorted, "want {want}, skip {skip}, descending {desc}");
            }
        }
        // Spelled out once: newest first, ties by id, NULL last of all.
        let (top, _) = both(&mut conn, 4, 0, true);
        assert_eq!(top, r#"["j","k","d","e"]"#);
        let (top, _) = both(&mut conn, 11, 10, true);
        assert_eq!(top, r#"["i"]"#);
    }

    #[test]
    fn no_rows_and_nothing_wanted_are_an_empty_page() {
        let mut conn = conn();
        let empty: Ids = diesel::sql_query(
            "SELECT clientele_top(id, k, 5, 0, 1) AS ids FROM t WHERE id = 'none'",
        )
        .get_result(&mut conn)
        .expect("no rows");
        assert_eq!(empty.ids, "[]");
        let (top, _) = both(&mut conn, 0, 0, true);
        assert_eq!(top, "[]");
    }
}
