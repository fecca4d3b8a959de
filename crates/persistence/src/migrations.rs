//! Migrations embedded in the binary, one set per backend.

use clientele_domain::{Error, Result};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::conn::DbConn;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Applies pending migrations; returns the versions applied.
pub fn run(conn: &mut DbConn) -> Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES),
    }
    .map_err(|e| Error::Unavailable(format!("migration failed: {e}")))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::SQLITE;
    use crate::conn::{DatabaseUrl, DbConn};
    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;
    use diesel_migrations::MigrationHarness;

    fn count(conn: &mut diesel::SqliteConnection, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
    }

    /// Whether migration `version` (its date and number without dashes) is applied.
    fn applied(c: &mut diesel::SqliteConnection, version: &str) -> bool {
        c.applied_migrations()
            .unwrap()
            .iter()
            .any(|v| v.to_string().replace('-', "") == version)
    }

    /// Applies migrations one by one up to `version`.
    fn migrate_to(c: &mut diesel::SqliteConnection, version: &str) {
        while !applied(c, version) {
            c.run_next_migration(SQLITE).unwrap();
        }
    }

    /// A SQLite file migrated up to 000008 (the triggers), with two customers, a
    /// project of the first and two of its contacts with a tag each and one note.
    fn at_migration_8(name: &str) -> (diesel::SqliteConnection, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("clientele-{name}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = DatabaseUrl::parse(dir.join("m.db").to_str().unwrap()).unwrap();
        let DbConn::Sqlite(mut c) = url.connect(5_000).unwrap() else {
            panic!("a SQLite url gave another backend")
        };
        // Up to the migration before the rebuild.
        migrate_to(&mut c, "20261202000008");
        let t = "'2026-12-03 00:00:00'";
        c.batch_execute(&format!(
            "INSERT INTO customers (id, name, email, status, created_at, updated_at, status_changed_at)
                 VALUES ('c1', 'A', 'a@x.com', 'active', {t}, {t}, {t}),
                        ('c2', 'B', 'b@x.com', 'active', {t}, {t}, {t});
             INSERT INTO billing_accounts (id, customer_id, name, billing_email, currency, billing_cycle, status, created_at, updated_at)
                 VALUES ('b1', 'c1', 'A', 'a@x.com', 'EUR', 'monthly', 'active', {t}, {t});
             INSERT INTO projects (id, customer_id, billing_account_id, slug, name, status, created_at, updated_at)
                 VALUES ('p1', 'c1', 'b1', 'main', 'Main', 'active', {t}, {t});
             INSERT INTO contacts (id, customer_id, project_id, kind, display_name, email, stage, status, tier, customer_type, created_at, updated_at)
                 VALUES ('k1', 'c1', 'p1', 'person', 'One', 'one@x.com', 'lead', 'active', 'standard', 'b2c', {t}, {t}),
                        ('k2', 'c1', 'p1', 'person', 'Two', 'two@x.com', 'lead', 'active', 'standard', 'b2c', {t}, {t});
             INSERT INTO contact_tags (project_id, tag, contact_id) VALUES ('p1', 'vip', 'k1'), ('p1', 'new', 'k2');
             INSERT INTO contact_notes (id, customer_id, project_id, contact_id, note, created_at, updated_at)
                 VALUES ('n1', 'c1', 'p1', 'k1', 'hello', {t}, {t});"
        ))
        .unwrap();
        (c, dir)
    }

    /// Contacts, tags, notes, and contact k1 as it was stored.
    fn kept(c: &mut diesel::SqliteConnection) -> [i64; 4] {
        [
            count(c, "SELECT count(*) AS n FROM contacts"),
            count(c, "SELECT count(*) AS n FROM contact_tags"),
            count(c, "SELECT count(*) AS n FROM contact_notes"),
            count(
                c,
                "SELECT count(*) AS n FROM contacts WHERE email = 'one@x.com' AND customer_id = 'c1'",
            ),
        ]
    }

    /// A contact of customer c1's project filed under customer c2.
    const STRAY: &str = "INSERT INTO contacts (id, customer_id, project_id, kind, display_name, stage, status, tier, customer_type, created_at, updated_at)
        VALUES ('k3', 'c2', 'p1', 'person', 'Stray', 'lead', 'active', 'standard', 'b2c', '2026-12-03', '2026-12-03')";

    /// Migration 000009 rebuilds SQLite's contacts table with foreign keys off: its
    /// contacts and what hangs on them (tags, notes, which cascade from a deleted
    /// contact) survive it, both up and down, and the key it adds refuses a contact
    /// whose customer is not its project's.
    #[test]
    fn the_contacts_rebuild_keeps_every_row() {
        let (mut c, dir) = at_migration_8("mig");
        c.run_next_migration(SQLITE).unwrap();
        assert_eq!(kept(&mut c), [2, 2, 1, 1]);
        assert_eq!(
            count(
                &mut c,
                "SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger'"
            ),
            0
        );
        assert_eq!(
            count(&mut c, "SELECT count(*) AS n FROM pragma_foreign_keys"),
            1,
            "foreign keys are on again"
        );
        let refused = c.batch_execute(STRAY).unwrap_err().to_string();
        assert!(refused.contains("FOREIGN KEY"), "{refused}");
        // Indexes as before the rebuild: the search's covering ones included.
        assert_eq!(count(&mut c, "SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contacts' AND sql IS NOT NULL"), 11);

        c.revert_last_migration(SQLITE).unwrap();
        assert_eq!(kept(&mut c), [2, 2, 1, 1]);
        assert!(c.batch_execute(STRAY).is_err(), "the triggers are back");
        c.run_pending_migrations(SQLITE).unwrap();
        assert_eq!(kept(&mut c), [2, 2, 1, 1]);
        // The later migrations 000013 (the time after the last name in the first
        // name's index), 000012 (the key, tested below), 000011 (the last name in the
        // first name's index) and 000010 (the list's index widened) go down and up too.
        let in_list_order = "SELECT count(*) AS n FROM sqlite_master WHERE name = 'contacts_first_name_idx' AND sql LIKE '%last_name_key, created_at, id%'";
        assert_eq!(count(&mut c, in_list_order), 1);
        c.revert_last_migration(SQLITE).unwrap();
        assert_eq!(count(&mut c, in_list_order), 0);
        c.revert_last_migration(SQLITE).unwrap();
        assert_eq!(kept(&mut c), [2, 2, 1, 1]);
        let name_index = "SELECT count(*) AS n FROM sqlite_master WHERE name = 'contacts_first_name_idx' AND sql LIKE '%first_name_key, last_name_key%'";
        let list_index = "SELECT count(*) AS n FROM sqlite_master WHERE name = 'contacts_created_idx' AND sql LIKE '%first_name_key%'";
        assert_eq!(count(&mut c, name_index), 1);
        assert_eq!(count(&mut c, list_index), 1);
        c.revert_last_migration(SQLITE).unwrap();
        assert_eq!(count(&mut c, name_index), 0);
        assert_eq!(count(&mut c, list_index), 1);
        c.revert_last_migration(SQLITE).unwrap();
        assert_eq!(count(&mut c, list_index), 0);
        c.run_pending_migrations(SQLITE).unwrap();
        assert_eq!(count(&mut c, name_index), 1);
        assert_eq!(count(&mut c, in_list_order), 1);
        assert_eq!(count(&mut c, list_index), 1);
        assert_eq!(kept(&mut c), [2, 2, 1, 1]);
        drop(c);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Migration 000012 keys SQLite's contacts by their ids, folded in SQL as
    /// `contacts::row_key` folds them (an id written in capitals too); ids that fold
    /// alike, or are not UUIDs at all, keep their rows under keys SQLite picks. Down
    /// and up again, every row stays.
    #[test]
    fn the_contacts_are_keyed_by_their_ids() {
        let (mut c, dir) = at_migration_8("mig-key");
        migrate_to(&mut c, "20261205000011");
        let a = uuid::Uuid::now_v7();
        let mut bytes = *a.as_bytes();
        bytes[15] ^= 0xff;
        let twin = uuid::Uuid::from_bytes(bytes);
        let upper = uuid::Uuid::now_v7();
        assert_eq!(crate::contacts::row_key(a), crate::contacts::row_key(twin));
        let upper_text = upper.to_string().to_uppercase();
        for (id, n) in [(a.to_string(), 3), (twin.to_string(), 4), (upper_text, 5)] {
            c.batch_execute(&format!(
                "INSERT INTO contacts (id, customer_id, project_id, kind, display_name, stage, status, tier, customer_type, created_at, updated_at)
                     VALUES ('{id}', 'c1', 'p1', 'person', 'N{n}', 'lead', 'active', 'standard', 'b2c', '2026-12-06', '2026-12-06')"
            ))
            .unwrap();
        }
        c.run_next_migration(SQLITE).unwrap();
        assert_eq!(kept(&mut c), [5, 2, 1, 1]);
        let key = |c: &mut diesel::SqliteConnection, name: &str| {
            count(
                c,
                &format!("SELECT row_key AS n FROM contacts WHERE display_name = '{name}'"),
            )
        };
        // The first of the two that fold alike is read first (the table's order).
        assert_eq!(key(&mut c, "N3"), crate::contacts::row_key(a));
        assert_ne!(key(&mut c, "N4"), crate::contacts::row_key(twin));
        assert_eq!(key(&mut c, "N5"), crate::contacts::row_key(upper));
        assert_eq!(
            count(&mut c, "SELECT count(DISTINCT row_key) AS n FROM contacts"),
            5
        );
        // The id stays unique, and the foreign keys that point at it still hold.
        assert!(c.batch_execute(&format!(
            "INSERT INTO contacts (id, customer_id, project_id, kind, display_name, stage, status, tier, customer_type, created_at, updated_at)
                 VALUES ('{a}', 'c1', 'p1', 'person', 'Again', 'lead', 'active', 'standard', 'b2c', '2026-12-06', '2026-12-06')"
        )).unwrap_err().to_string().contains("UNIQUE"));
        c.batch_execute("DELETE FROM contacts WHERE id = 'k2'")
            .unwrap();
        assert_eq!(kept(&mut c), [4, 1, 1, 1], "k2's tag went with it");

        c.revert_last_migration(SQLITE).unwrap();
        assert_eq!(kept(&mut c), [4, 1, 1, 1]);
        assert_eq!(
            count(
                &mut c,
                "SELECT count(*) AS n FROM pragma_table_info('contacts') WHERE name = 'row_key'"
            ),
            0
        );
        c.run_pending_migrations(SQLITE).unwrap();
        assert_eq!(kept(&mut c), [4, 1, 1, 1]);
        assert_eq!(key(&mut c, "N5"), crate::contacts::row_key(upper));
        drop(c);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A contact already filed under another customer than its project's (stored
    /// before the triggers, say) stops the rebuild with a named error, and leaves the
    /// database as it was: nothing half rebuilt, the triggers still there.
    #[test]
    fn a_contact_under_another_customer_stops_the_rebuild() {
        let (mut c, dir) = at_migration_8("mig-stray");
        // Stored past the trigger, which then comes back as migration 000008 made it.
        let trigger =
            "SELECT sql AS s FROM sqlite_master WHERE name = 'contacts_customer_of_project_insert'";
        #[derive(diesel::QueryableByName)]
        struct Sql {
            #[diesel(sql_type = diesel::sql_types::Text)]
            s: String,
        }
        let trigger = diesel::sql_query(trigger)
            .get_result::<Sql>(&mut c)
            .unwrap()
            .s;
        c.batch_execute("DROP TRIGGER contacts_customer_of_project_insert;")
            .unwrap();
        c.batch_execute(STRAY).unwrap();
        c.batch_execute(&trigger).unwrap();
        let failed = c.run_pending_migrations(SQLITE).unwrap_err().to_string();
        assert!(
            failed.contains("every_contact_has_its_projects_customer"),
            "{failed}"
        );
        // The migration's connection ends with the failure, as in `Db::open`.
        drop(c);
        let url = DatabaseUrl::parse(dir.join("m.db").to_str().unwrap()).unwrap();
        let DbConn::Sqlite(mut c) = url.connect(5_000).unwrap() else {
            panic!("a SQLite url gave another backend")
        };
        assert_eq!(kept(&mut c), [3, 2, 1, 1]);
        assert_eq!(
            count(
                &mut c,
                "SELECT count(*) AS n FROM sqlite_master WHERE name = 'contacts_customer_of_project_update'"
            ),
            1
        );
        assert!(!applied(&mut c, "20261203000009"));
        drop(c);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
