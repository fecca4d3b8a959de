//! Stage 2 of the set-up: contacts in bulk, straight through the persistence layer.
//!
//! A million contacts over HTTP would take longer than the benchmark itself, so they go
//! through `clientele_persistence` (the same repositories and row mapping the server
//! uses) into the server's database, in large transactions of multi-row inserts. Every
//! contact is built by the domain's own `Contact::create`, so the data is what the API
//! would have accepted. The data is deterministic: the same count gives the same names,
//! tags, addresses and orders.

use std::time::{Duration, Instant};

use clientele_domain::contact::{Contact, ContactInput};
use clientele_domain::contact_parts::{Address, AddressInput, Order, OrderStats};
use clientele_domain::time::Timestamp;
use clientele_persistence::contact_parts::{self, RecordedOrder};
use clientele_persistence::{contacts, db, DatabaseUrl, DbConn};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Contacts written per transaction: large enough that commits are rare, small enough
/// that the memory of one batch stays a few MB.
const BATCH: usize = 5_000;

const FIRST: [&str; 32] = [
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Karla",
    "Lukas", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Simon", "Tara", "Uwe", "Vera", "Wim",
    "Xenia", "Yusuf", "Zoe", "Amir", "Bea", "Chen", "Dana", "Eli", "Fatima",
];
const LAST: [&str; 48] = [
    "Schmidt",
    "Meyer",
    "Weber",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krueger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Werner",
    "Krause",
    "Lehmann",
    "Koehler",
    "Maier",
    "Fuchs",
    "Peters",
    "Lang",
    "Scholz",
    "Moeller",
    "Weiss",
    "Jung",
    "Hahn",
    "Vogel",
    "Friedrich",
    "Keller",
    "Guenther",
    "Frank",
    "Berger",
    "Winkler",
    "Roth",
    "Beck",
    "Lorenz",
    "Baumann",
    "Franke",
    "Albrecht",
    "Smith",
    "Garcia",
    "Nguyen",
    "Okafor",
];
/// Tags with a spread of frequencies: `vip` on about 5%, `newsletter` on about 40%.
const TAGS: [(&str, u64); 6] = [
    ("newsletter", 40),
    ("b2b", 20),
    ("webinar", 15),
    ("trial", 10),
    ("vip", 5),
    ("churn-risk", 3),
];
/// City, country, postal code and state (where the country requires one).
const CITIES: [(&str, &str, &str, Option<&str>); 4] = [
    ("Berlin", "DE", "10115", None),
    ("Hamburg", "DE", "20095", None),
    ("Paris", "FR", "75001", None),
    ("Austin", "US", "78701", Some("TX")),
];

/// Where the contacts go: one tenant's project, and how many.
pub struct Target {
    pub customer_id: Uuid,
    pub project_id: Uuid,
    pub count: u64,
    /// Distinguishes the emails of several projects seeded in one run.
    pub label: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SeedReport {
    pub contacts: u64,
    pub tags: u64,
    pub addresses: u64,
    pub orders: u64,
    pub seconds: f64,
    pub contacts_per_sec: f64,
    /// Every row written (contacts, tag rows, addresses, orders) per second.
    pub rows_per_sec: f64,
}

impl SeedReport {
    fn add(&mut self, other: &SeedReport) {
        self.contacts += other.contacts;
        self.tags += other.tags;
        self.addresses += other.addresses;
        self.orders += other.orders;
    }

    fn finish(&mut self, elapsed: Duration) {
        self.seconds = elapsed.as_secs_f64();
        let rows = self.contacts + self.tags + self.addresses + self.orders;
        if self.seconds > 0.0 {
            self.contacts_per_sec = self.contacts as f64 / self.seconds;
            self.rows_per_sec = rows as f64 / self.seconds;
        }
    }
}

/// Ids kept from the first target, spread evenly over it: what the scenarios read.
const SAMPLE: u64 = 8_192;

/// What the scenarios need from the seeding of the first target.
pub struct Seeded {
    pub count: u64,
    pub label: String,
    /// Up to [`SAMPLE`] contact ids spread over the target, in insertion order.
    pub sample: Vec<Uuid>,
}

/// Seeds every target on one connection to `database_url`, then refreshes the planner's
/// statistics (as an import would): a plan chosen on the statistics of an empty table
/// would measure the wrong thing.
pub fn seed(
    database_url: &str,
    targets: &[Target],
    now: Timestamp,
) -> Result<(SeedReport, Seeded), String> {
    let first = targets.first().ok_or("nothing to seed")?;
    let mut seeded = Seeded {
        count: first.count,
        label: first.label.clone(),
        sample: Vec::new(),
    };
    let step = (first.count / SAMPLE).max(1);
    let url = DatabaseUrl::parse(database_url)?;
    let mut conn = url
        .connect(30_000)
        .map_err(|e| format!("cannot open the database for seeding: {e}"))?;
    let started = Instant::now();
    let mut total = SeedReport::default();
    for (k, t) in targets.iter().enumerate() {
        let mut next = 0u64;
        while next < t.count {
            let n = (t.count - next).min(BATCH as u64);
            let batch = build_batch(t, next, n, now)?;
            db::transaction(&mut conn, |c| write_batch(c, t, &batch))
                .map_err(|e| format!("seeding failed at contact {next}: {e}"))?;
            total.add(&batch.counts());
            if k == 0 {
                seeded.sample.extend(
                    (next..next + n)
                        .zip(&batch.contacts)
                        .filter(|(i, _)| i % step == 0)
                        .map(|(_, c)| c.id),
                );
            }
            next += n;
        }
    }
    total.finish(started.elapsed());
    let after = Instant::now();
    db::refresh_statistics(&mut conn)
        .map_err(|e| format!("cannot refresh statistics after seeding: {e}"))?;
    settle(&mut conn);
    eprintln!(
        "statistics refreshed and the import written back in {:.1}s (not in the seeding rate)",
        after.elapsed().as_secs_f64()
    );
    Ok((total, seeded))
}

/// Writes the import back to disk before anything is measured. On PostgreSQL the
/// seeding and its VACUUM leave gigabytes of dirty pages; written back during the
/// scenarios, they made every commit wait on the disk: the later write scenarios ran
/// at a quarter of their rate with the CPU idle. `CHECKPOINT` writes and syncs them
/// now. It needs a superuser (or `pg_checkpoint`); without one the run goes on and
/// says so. SQLite's seeding connection checkpoints its WAL when it closes.
fn settle(conn: &mut DbConn) {
    use diesel::connection::SimpleConnection;
    if let DbConn::Pg(_) = conn {
        if let Err(e) = conn.batch_execute("CHECKPOINT;") {
            eprintln!(
                "note: CHECKPOINT after seeding failed ({e}); write-back may overlap the scenarios"
            );
        }
    }
}

struct Batch {
    contacts: Vec<Contact>,
    addresses: Vec<Address>,
    orders: Vec<RecordedOrder>,
}

impl Batch {
    fn counts(&self) -> SeedReport {
        SeedReport {
            contacts: self.contacts.len() as u64,
            tags: self.contacts.iter().map(|c| c.tags.len() as u64).sum(),
            addresses: self.addresses.len() as u64,
            orders: self.orders.len() as u64,
            ..SeedReport::default()
        }
    }
}

fn write_batch(conn: &mut DbConn, t: &Target, b: &Batch) -> clientele_domain::Result<()> {
    contacts::insert_many(conn, t.customer_id, &b.contacts)?;
    contact_parts::insert_addresses(conn, t.customer_id, t.project_id, &b.addresses)?;
    contact_parts::insert_orders(conn, t.customer_id, t.project_id, &b.orders)
}

/// SplitMix64: a well-mixed, reproducible number per contact without a dependency.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The first and last name of contact `i`, drawn from the fixed lists: what every
/// search scenario's text matches. The create scenarios name their contacts the same
/// way ([`crate::scenario`]), so that the newest rows of a kept database stay like the
/// seeded ones.
pub fn name(i: u64) -> (&'static str, &'static str) {
    let r = mix(i);
    (
        FIRST[(r % FIRST.len() as u64) as usize],
        LAST[((r >> 8) % LAST.len() as u64) as usize],
    )
}

/// The email of contact `i` of a target: what the search scenario's prefixes match.
pub fn email(label: &str, i: u64) -> String {
    let (first, last) = name(i);
    let (first, last) = (first.to_lowercase(), last.to_lowercase());
    format!("{first}.{last}.{i}@{label}.example.com")
}

fn build_batch(t: &Target, start: u64, n: u64, now: Timestamp) -> Result<Batch, String> {
    let mut b = Batch {
        contacts: Vec::with_capacity(n as usize),
        addresses: Vec::new(),
        orders: Vec::new(),
    };
    // Created over the last two years, oldest first, so that created_at order is the
    // order of insertion, as in a real table.
    let span = chrono::Duration::days(730).num_seconds().max(1) as u64;
    for i in start..start + n {
        let r = mix(i);
        let created = now
            - chrono::Duration::seconds((span - span * i / t.count.max(1)) as i64)
            - chrono::Duration::seconds(1);
        let tags: Vec<String> = TAGS
            .iter()
            .enumerate()
            .filter(|(k, (_, pct))| mix(r ^ (*k as u64 + 1)) % 100 < *pct)
            .map(|(_, (tag, _))| (*tag).to_string())
            .collect();
        let stage = match r % 100 {
            0..=49 => "lead",
            50..=69 => "prospect",
            _ => "customer",
        };
        let tier = match (r >> 16) % 100 {
            0..=69 => "free",
            70..=89 => "basic",
            90..=97 => "pro",
            _ => "enterprise",
        };
        let (first, last) = name(i);
        let input = ContactInput {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            email: Some(email(&t.label, i)),
            phone: (i % 2 == 0).then(|| format!("+49 30 {:08}", i % 100_000_000)),
            stage: Some(stage.into()),
            tier: Some(tier.into()),
            source: Some(["website", "referral", "event", "import"][(r >> 24) as usize % 4].into()),
            tags: Some(tags),
            marketing_opt_in: Some((r >> 32).is_multiple_of(3)),
            ..ContactInput::default()
        };
        let mut c = Contact::create(t.project_id, input, created)
            .map_err(|e| format!("contact {i} is not valid: {e}"))?;
        if i % 2 == 1 {
            let (city, country, postal, state) = CITIES[(r >> 40) as usize % CITIES.len()];
            let a = Address::create(
                c.id,
                AddressInput {
                    address_type: Some("billing".into()),
                    is_default: Some(true),
                    address_line1: Some(format!("{} Main Street", 1 + (r >> 44) % 200)),
                    city: Some(city.into()),
                    postal_code: Some(postal.into()),
                    state: state.map(str::to_string),
                    country: Some(country.into()),
                    ..AddressInput::default()
                },
                created,
            )
            .map_err(|e| format!("address of contact {i} is not valid: {e}"))?;
            b.addresses.push(a);
        }
        if stage == "customer" {
            let mut stats = OrderStats::default();
            for k in 0..1 + (r >> 48) % 3 {
                let order = Order {
                    order_id: format!("{}-{i}-{k}", t.label),
                    amount: 1_000 + (mix(r + k) % 50_000) as i64,
                    currency: "EUR".into(),
                    ordered_at: created + chrono::Duration::hours(k as i64 + 1),
                };
                stats
                    .record(&order)
                    .map_err(|e| format!("order of contact {i}: {e}"))?;
                b.orders.push(RecordedOrder {
                    contact_id: c.id,
                    order,
                    recorded_at: created,
                });
            }
            c.stats = stats;
        }
        b.contacts.push(c);
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_valid_deterministic_and_consistent() {
        let t = Target {
            customer_id: Uuid::now_v7(),
            project_id: Uuid::now_v7(),
            count: 1_000,
            label: "p0".into(),
        };
        let now = clientele_domain::time::now();
        let a = build_batch(&t, 0, 1_000, now).unwrap();
        let b = build_batch(&t, 0, 1_000, now).unwrap();
        assert_eq!(a.contacts.len(), 1_000);
        // Same count, same data (ids apart, which are fresh).
        let emails = |x: &Batch| {
            x.contacts
                .iter()
                .map(|c| c.email.as_ref().unwrap().as_str().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(emails(&a), emails(&b));
        assert_eq!(emails(&a)[7], email("p0", 7));
        // Oldest first, all in the past.
        assert!(a
            .contacts
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at));
        assert!(a.contacts.iter().all(|c| c.created_at < now));
        // Every other contact has an address; customers have orders that their
        // statistics count.
        assert_eq!(a.addresses.len(), 500);
        for c in &a.contacts {
            let orders: Vec<_> = a.orders.iter().filter(|o| o.contact_id == c.id).collect();
            assert_eq!(c.stats.total_orders, orders.len() as i64);
            let spent: i64 = orders.iter().map(|o| o.order.amount).sum();
            assert_eq!(c.stats.total_spent, spent);
        }
        let vip = a
            .contacts
            .iter()
            .filter(|c| c.tags.iter().any(|t| t == "vip"))
            .count();
        assert!((20..=90).contains(&vip), "vip on {vip} of 1000");
        let customers = a
            .contacts
            .iter()
            .filter(|c| c.stats.total_orders > 0)
            .count();
        assert!((200..=400).contains(&customers), "{customers} customers");
    }
}
