//! A kept database and what a later run needs to use it again (`--keep-database`, then
//! `--reuse DIR`): seeding a million contacts takes minutes, and two builds or two
//! settings compare best on the same data, in alternation.
//!
//! A run that keeps its database writes [`FILE`] into the kept folder once its set-up
//! and seeding are done: the database, the tenant (ids and credentials) and the contacts
//! the scenarios use. A reusing run signs in again and takes fresh contacts for the
//! write scenarios; what earlier runs wrote stays (created contacts, orders).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::DatabaseKind;
use crate::report::Seeding;
use crate::seed::Fixture;

/// The file in a kept folder.
pub const FILE: &str = "fixture.json";

/// What is stored; `format` changes when a field's meaning does.
#[derive(Debug, Serialize, Deserialize)]
pub struct Kept {
    pub format: u32,
    pub database: DatabaseKind,
    /// The kept database's name on the PostgreSQL server of `--postgres-url`.
    pub postgres_database: Option<String>,
    pub fixture: Fixture,
    pub seeding: Option<Seeding>,
    /// Contacts taken so far, from the end of the read set, by the update and order
    /// scenarios of reusing runs: an update needs a contact still at version 1.
    pub writers_taken: usize,
    /// Runs that have reused this database.
    pub reuses: u32,
}

const FORMAT: u32 = 1;

impl Kept {
    pub fn new(
        database: DatabaseKind,
        postgres_database: Option<String>,
        fixture: &Fixture,
        seeding: Option<&Seeding>,
    ) -> Kept {
        Kept {
            format: FORMAT,
            database,
            postgres_database,
            fixture: fixture.clone(),
            seeding: seeding.cloned(),
            writers_taken: 0,
            reuses: 0,
        }
    }

    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join(FILE);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| format!("cannot serialize {}: {e}", path.display()))?;
        // Written whole then renamed: an interrupted run never leaves half a file.
        let tmp = dir.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    pub fn load(dir: &Path) -> Result<Kept, String> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {} ({e}): --reuse takes a folder kept by --keep-database",
                path.display()
            )
        })?;
        let kept: Kept = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a kept run's file: {e}", path.display()))?;
        // The name goes into SQL (the server's URL; DROP for a database not kept).
        if let Some(name) = &kept.postgres_database {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(format!(
                    "{}: `{name}` is not a database this tool created",
                    path.display()
                ));
            }
        }
        if kept.format != FORMAT {
            return Err(format!(
                "{} was written by another version of this tool (format {}, this one reads {FORMAT})",
                path.display(),
                kept.format
            ));
        }
        Ok(kept)
    }

    /// The fixture for one more run with `connections` connections: a new run tag (the
    /// write scenarios' emails and order ids stay apart from earlier runs') and, when
    /// there are contacts, fresh ones for update-contact and record-order. Counts the
    /// run; the caller saves the file before the load, so an interrupted run's contacts
    /// are not handed out again.
    pub fn next_run(&mut self, connections: usize, run_tag: String) -> Result<Fixture, String> {
        let mut fixture = self.fixture.clone();
        fixture.run_tag = run_tag;
        if let Some(set) = fixture.contacts.as_mut() {
            let want = 2 * connections;
            // Always keep some contacts to read.
            let left = set.read_ids.len().saturating_sub(self.writers_taken + 16);
            if left < want {
                return Err(format!(
                    "the kept database's unused contacts for the write scenarios are used up \
                     after {} runs: seed a new one (--keep-database)",
                    self.reuses
                ));
            }
            let end = set.read_ids.len() - self.writers_taken;
            let fresh = &set.read_ids[end - want..end];
            let (update, order) = fresh.split_at(connections);
            set.update_ids = update.to_vec();
            set.order_ids = order.to_vec();
            self.writers_taken += want;
        }
        self.reuses += 1;
        Ok(fixture)
    }
}

/// The kept folder's SQLite file.
pub fn sqlite_file(dir: &Path) -> PathBuf {
    dir.join("bench.db")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{ContactSet, Credentials};

    fn kept(reads: usize) -> Kept {
        let who = |e: &str| Credentials {
            email: e.into(),
            password: format!("pw {e}"),
        };
        let fixture = Fixture {
            customer_id: "c".into(),
            project_id: "p".into(),
            channel_ids: vec!["ch".into()],
            owner: who("owner"),
            owner_token: "t".into(),
            members: vec![who("m")],
            contacts: Some(ContactSet {
                read_ids: (0..reads).map(|i| format!("r{i}")).collect(),
                update_ids: vec!["u0".into(), "u1".into()],
                order_ids: vec!["o0".into(), "o1".into()],
                search_prefixes: vec!["anna.weber".into()],
                deep_cursor: "cursor".into(),
                deep_rows: 100,
            }),
            run_tag: "first".into(),
        };
        Kept::new(DatabaseKind::Sqlite, None, &fixture, None)
    }

    /// Each reuse writes to contacts no earlier run wrote to (an update needs version
    /// 1), taken from the end of the read set, until too few are left.
    #[test]
    fn every_reuse_takes_unwritten_contacts() {
        let mut k = kept(40);
        let a = k.next_run(2, "a".into()).unwrap();
        let set = a.contacts.as_ref().unwrap();
        assert_eq!(set.update_ids, ["r36", "r37"]);
        assert_eq!(set.order_ids, ["r38", "r39"]);
        assert_eq!(a.run_tag, "a");
        let b = k.next_run(3, "b".into()).unwrap();
        let set = b.contacts.as_ref().unwrap();
        assert_eq!(set.update_ids, ["r30", "r31", "r32"]);
        assert_eq!(set.order_ids, ["r33", "r34", "r35"]);
        assert_eq!((k.writers_taken, k.reuses), (10, 2));
        // 40 - 10 taken - 16 kept for reads leaves 14: enough for 7 connections, not 8.
        assert!(k.next_run(8, "c".into()).is_err());
        assert!(k.next_run(7, "c".into()).is_ok());
        // The stored fixture itself is never changed but for the count.
        assert_eq!(k.fixture.run_tag, "first");
    }

    #[test]
    fn a_kept_file_reads_back_and_refuses_other_formats() {
        let dir = std::env::temp_dir().join(format!("kept-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut k = kept(20);
        k.writers_taken = 4;
        k.save(&dir).unwrap();
        let back = Kept::load(&dir).unwrap();
        assert_eq!(back.writers_taken, 4);
        assert_eq!(back.fixture.contacts.unwrap().read_ids.len(), 20);
        k.format = 99;
        k.save(&dir).unwrap();
        assert!(Kept::load(&dir).unwrap_err().contains("format 99"));
        let missing = Kept::load(&dir.join("nowhere")).unwrap_err();
        assert!(missing.contains("--keep-database"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
