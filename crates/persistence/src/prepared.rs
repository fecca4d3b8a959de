//! Statements diesel would prepare anew on every call, kept prepared instead.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::QueryResult;
use diesel::Table;

/// `UPDATE table SET set WHERE filter`, cached by its SQL text like other statements.
/// Diesel never keeps its own `UPDATE` prepared (`UpdateStatement` calls
/// `unsafe_to_cache_prepared`), since a changeset that skips `None` fields gives one
/// statement type several texts, which a cache keyed by type would mix up. This one
/// is keyed by its text (a non-static [`QueryId`]), so each text has its own entry.
///
/// Only for statements whose text takes a few shapes: each distinct text stays
/// prepared for the life of the connection. Our changesets write every column
/// (`treat_none_as_null`), so an update site has one text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CachedUpdate<F, V, W> {
    from: F,
    set: V,
    filter: W,
}

impl<F, V, W> CachedUpdate<F, V, W> {
    pub(crate) fn new<T>(table: T, set: V, filter: W) -> Self
    where
        T: Table<FromClause = F>,
    {
        CachedUpdate {
            from: table.from_clause(),
            set,
            filter,
        }
    }
}

impl<F, V, W> QueryId for CachedUpdate<F, V, W> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<F, V, W, DB> QueryFragment<DB> for CachedUpdate<F, V, W>
where
    DB: Backend,
    F: QueryFragment<DB>,
    V: QueryFragment<DB>,
    W: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.set.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())?;
        Ok(())
    }
}

impl<F, V, W, Conn> diesel::RunQueryDsl<Conn> for CachedUpdate<F, V, W> {}

/// `WITH a AS (<first>), b AS (<second>) <last>`: three PostgreSQL writes as one
/// statement, so one round trip and one execution. Data-modifying `WITH` is
/// PostgreSQL's: every part runs to completion, in the statement's one snapshot, and
/// foreign keys are checked at its end, so a later part may reference a row an
/// earlier one inserts. The parts cannot see each other's rows otherwise, so each
/// takes its values from binds, not from another part. Its id is its parts', so
/// diesel keeps it prepared like any typed statement.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub(crate) struct Together<A, B, C> {
    first: A,
    second: B,
    last: C,
}

impl<A, B, C> Together<A, B, C> {
    pub(crate) fn new(first: A, second: B, last: C) -> Self {
        Together {
            first,
            second,
            last,
        }
    }
}

impl<A, B, C> QueryFragment<diesel::pg::Pg> for Together<A, B, C>
where
    A: QueryFragment<diesel::pg::Pg>,
    B: QueryFragment<diesel::pg::Pg>,
    C: QueryFragment<diesel::pg::Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql("WITH a AS (");
        self.first.walk_ast(out.reborrow())?;
        out.push_sql("), b AS (");
        self.second.walk_ast(out.reborrow())?;
        out.push_sql(") ");
        self.last.walk_ast(out.reborrow())
    }
}

impl<A, B, C, Conn> diesel::RunQueryDsl<Conn> for Together<A, B, C> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::{Instrumentation, InstrumentationEvent};
    use diesel::prelude::*;
    use std::sync::{Arc, Mutex};

    diesel::table! {
        items (id) {
            id -> Integer,
            name -> Text,
            note -> Nullable<Text>,
        }
    }

    #[derive(AsChangeset)]
    #[diesel(table_name = items, treat_none_as_null = true)]
    struct Change {
        name: String,
        note: Option<String>,
    }

    /// Counts the statements the connection put in its cache.
    #[derive(Clone, Default)]
    struct Cached(Arc<Mutex<Vec<String>>>);

    impl Instrumentation for Cached {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                self.0.lock().unwrap().push(sql.to_string());
            }
        }
    }

    #[test]
    fn an_update_is_prepared_once_and_still_writes_its_values() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        diesel::sql_query(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)",
        )
        .execute(&mut conn)
        .unwrap();
        diesel::sql_query("INSERT INTO items (id, name, note) VALUES (1, 'a', 'x'), (2, 'b', 'y')")
            .execute(&mut conn)
            .unwrap();
        let cached = Cached::default();
        conn.set_instrumentation(cached.clone());
        let update = |conn: &mut SqliteConnection, id: i32, name: &str, note: Option<&str>| {
            let change = Change {
                name: name.into(),
                note: note.map(str::to_string),
            };
            CachedUpdate::new(items::table, change.as_changeset(), items::id.eq(id))
                .execute(conn)
                .unwrap()
        };
        assert_eq!(update(&mut conn, 1, "c", None), 1);
        assert_eq!(update(&mut conn, 2, "d", Some("z")), 1);
        assert_eq!(update(&mut conn, 1, "e", Some("w")), 1);
        // One text, prepared once and reused with the later values.
        assert_eq!(cached.0.lock().unwrap().len(), 1, "{:?}", cached.0);
        let rows: Vec<(i32, String, Option<String>)> =
            items::table.order(items::id).load(&mut conn).unwrap();
        assert_eq!(
            rows,
            vec![
                (1, "e".into(), Some("w".into())),
                (2, "d".into(), Some("z".into()))
            ]
        );

        // The same update without the wrapper is never cached: what this type is for.
        cached.0.lock().unwrap().clear();
        let change = Change {
            name: "f".into(),
            note: None,
        };
        diesel::update(items::table.find(1))
            .set(&change)
            .execute(&mut conn)
            .unwrap();
        assert!(cached.0.lock().unwrap().is_empty());
    }
}
