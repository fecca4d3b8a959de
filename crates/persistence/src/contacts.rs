//! Contacts of a project. Every lookup takes the project (and, where the caller is a
//! tenant, the tenant): there is no way to read a contact without saying whose it is.

use chrono::NaiveDateTime;
use clientele_domain::contact::{
    Contact, ContactStatus, CustomerType, Kind, SortBy, SortOrder, Source, Stage, Tier,
};
use clientele_domain::contact_parts::OrderStats;
use clientele_domain::email::Email;
use clientele_domain::event::EventDraft;
use clientele_domain::identity::Project;
use clientele_domain::phone::Phone;
use clientele_domain::time::{from_naive, to_naive, Timestamp};
use clientele_domain::{Audit, Error, Result};
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::sql_types::Bool;
use uuid::Uuid;

use crate::conn::{Backend, DbConn, MultiBackend};
use crate::db::Db;
use crate::parsed::{MaybeParsed, Parsed};
use crate::prepared::Together;
use crate::schema::{self, contact_tags, contacts};
use crate::search_counts::SearchCounts;
use crate::stamp::{MaybeStamp, Stamp};
use crate::{errors, events};

/// A contact as written (insert, update). Read back as a [`ReadRow`].
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = contacts, treat_none_as_null = true)]
struct Row {
    id: String,
    customer_id: String,
    project_id: String,
    kind: String,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: String,
    email: String,
    phone: Option<String>,
    first_name_key: String,
    last_name_key: String,
    phone_digits: String,
    stage: String,
    status: String,
    tier: String,
    customer_type: String,
    source: Option<String>,
    assigned_to: Option<String>,
    tags: String,
    marketing_opt_in: bool,
    company_id: Option<String>,
    user_id: Option<String>,
    custom_attributes: String,
    total_orders: i64,
    total_spent: i64,
    average_order_value: i64,
    lifetime_value: i64,
    currency: Option<String>,
    first_order_at: Option<NaiveDateTime>,
    last_order_at: Option<NaiveDateTime>,
    last_order_key: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    churned_at: Option<NaiveDateTime>,
    deleted_at: Option<NaiveDateTime>,
    version: i64,
}

/// A contact as read: the columns [`ReadRow::into_domain`] uses, each id, enum and JSON
/// value parsed from the row's own text ([`Parsed`]), not copied into a `String` to be
/// parsed and dropped. The search keys, `customer_id` (every read filters on it) and
/// `last_order_key` (a copy of `last_order_at` for sorting) are not read at all.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = contacts)]
struct ReadRow {
    id: Parsed<Uuid>,
    project_id: Parsed<Uuid>,
    kind: Parsed<Kind>,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: String,
    email: String,
    phone: Option<String>,
    stage: Parsed<Stage>,
    status: Parsed<ContactStatus>,
    tier: Parsed<Tier>,
    customer_type: Parsed<CustomerType>,
    source: MaybeParsed<Source>,
    assigned_to: MaybeParsed<Uuid>,
    tags: Parsed<Vec<String>>,
    marketing_opt_in: bool,
    company_id: MaybeParsed<Uuid>,
    user_id: MaybeParsed<Uuid>,
    custom_attributes: Parsed<serde_json::Map<String, serde_json::Value>>,
    total_orders: i64,
    total_spent: i64,
    average_order_value: i64,
    lifetime_value: i64,
    currency: Option<String>,
    #[diesel(deserialize_as = MaybeStamp)]
    first_order_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    last_order_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    updated_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    churned_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    deleted_at: Option<NaiveDateTime>,
    version: i64,
}

/// The SQL type of a whole [`ReadRow`], column by column.
type RowSql = diesel::dsl::SqlTypeOf<<ReadRow as Selectable<MultiBackend>>::SelectExpression>;

/// `"contacts"."id", "contacts"."project_id", …`: a [`ReadRow`]'s select list, built once
/// from the schema. A boxed query (a list, a search) has no type that fixes its SQL,
/// so diesel builds its text on every run to find the prepared statement. Column by
/// column (two quoted identifiers each) that was most of the tenth of a list's CPU
/// spent building SQL; one prebuilt string is one copy. Double-quoted identifiers are
/// valid on both backends.
static ROW_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let q = contacts::table.select(ReadRow::as_select());
    let sql = diesel::debug_query::<diesel::pg::Pg, _>(&q).to_string();
    let list = sql.strip_prefix("SELECT ").unwrap_or(&sql);
    list.split(" FROM ").next().unwrap_or(list).to_string()
});

/// A [`ReadRow`]'s columns, for boxed queries. Not diesel's `sql` literal: diesel never
/// keeps a statement with one of those prepared.
fn row_columns() -> RowColumns {
    RowColumns
}

#[derive(Debug, Clone, Copy)]
struct RowColumns;

/// The traits that let a hand-written fragment of `contacts` SQL stand in a query as an
/// expression of type `$sql`. No static query id: such a statement is kept prepared
/// under its SQL text.
macro_rules! contacts_fragment {
    ($ty:ty, $sql:ty) => {
        impl diesel::Expression for $ty {
            type SqlType = $sql;
        }

        impl diesel::expression::ValidGrouping<()> for $ty {
            type IsAggregate = diesel::expression::is_aggregate::Never;
        }

        impl diesel::AppearsOnTable<contacts::table> for $ty {}

        impl diesel::query_builder::QueryId for $ty {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    };
}

/// An expression of `contacts` written as fixed SQL (a select-list item, a condition):
/// the fragment's traits, and SQL text `$text` that diesel, unlike its `sql` literal,
/// keeps prepared.
macro_rules! contacts_selection {
    ($ty:ty, $sql:ty, $text:expr) => {
        contacts_fragment!($ty, $sql);

        impl diesel::SelectableExpression<contacts::table> for $ty {}

        impl QueryFragment<MultiBackend> for $ty {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
            ) -> QueryResult<()> {
                out.push_sql($text);
                Ok(())
            }
        }
    };
}

contacts_selection!(RowColumns, RowSql, &ROW_COLUMNS);

/// The traits that let a hand-written statement of `$sql` rows run on its own
/// (`load`, `get_result`). No static query id: it is kept prepared under its SQL
/// text, which must then depend only on the statement's shape, never on its values.
macro_rules! text_query {
    ($ty:ty, $sql:ty) => {
        impl diesel::query_builder::QueryId for $ty {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }

        impl diesel::query_builder::Query for $ty {
            type SqlType = $sql;
        }

        impl<Conn> RunQueryDsl<Conn> for $ty {}
    };
}

/// The lower-case form used for prefix search and name sorting.
pub fn search_key(text: &str) -> String {
    text.trim().to_lowercase()
}

fn micros(t: Option<Timestamp>) -> i64 {
    t.map_or(0, |t| t.timestamp_micros())
}

impl Row {
    fn from_domain(customer_id: Uuid, c: &Contact) -> Result<Row> {
        Ok(Row {
            id: c.id.to_string(),
            customer_id: customer_id.to_string(),
            project_id: c.project_id.to_string(),
            kind: c.kind.as_str().into(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            display_name: c.display_name.clone(),
            email: c
                .email
                .as_ref()
                .map(|e| e.as_str().to_string())
                .unwrap_or_default(),
            phone: c.phone.as_ref().map(|p| p.as_str().to_string()),
            first_name_key: c.first_name.as_deref().map(search_key).unwrap_or_default(),
            last_name_key: c.last_name.as_deref().map(search_key).unwrap_or_default(),
            phone_digits: c
                .phone
                .as_ref()
                .map(|p| p.digits().to_string())
                .unwrap_or_default(),
            stage: c.stage.as_str().into(),
            status: c.status.as_str().into(),
            tier: c.tier.as_str().into(),
            customer_type: c.customer_type.as_str().into(),
            source: c.source.as_ref().map(|s| s.as_str().to_string()),
            assigned_to: c.assigned_to.map(|u| u.to_string()),
            tags: json(&c.tags)?,
            marketing_opt_in: c.marketing_opt_in,
            company_id: c.company_id.map(|u| u.to_string()),
            user_id: c.user_id.map(|u| u.to_string()),
            custom_attributes: json(&c.custom_attributes)?,
            total_orders: c.stats.total_orders,
            total_spent: c.stats.total_spent,
            average_order_value: c.stats.average_order_value,
            lifetime_value: c.stats.lifetime_value,
            currency: c.stats.currency.clone(),
            first_order_at: c.stats.first_order_at.map(to_naive),
            last_order_at: c.stats.last_order_at.map(to_naive),
            last_order_key: micros(c.stats.last_order_at),
            created_at: to_naive(c.created_at),
            updated_at: to_naive(c.updated_at),
            churned_at: c.churned_at.map(to_naive),
            deleted_at: c.deleted_at.map(to_naive),
            version: c.version,
        })
    }
}

impl ReadRow {
    fn into_domain(self) -> Result<Contact> {
        let id = self.id.0;
        let bad = |what: &str| Error::Internal(format!("contact {id}: bad {what}"));
        Ok(Contact {
            id,
            project_id: self.project_id.0,
            kind: self.kind.0,
            // Stored normalized by their parsers; taken back as they are.
            email: match self.email.is_empty() {
                true => None,
                false => Some(Email::from_stored(self.email).ok_or_else(|| bad("email"))?),
            },
            phone: self
                .phone
                .map(|p| Phone::from_stored(p).ok_or_else(|| bad("phone")))
                .transpose()?,
            stage: self.stage.0,
            status: self.status.0,
            tier: self.tier.0,
            customer_type: self.customer_type.0,
            source: self.source.0,
            assigned_to: self.assigned_to.0,
            tags: self.tags.0,
            marketing_opt_in: self.marketing_opt_in,
            company_id: self.company_id.0,
            user_id: self.user_id.0,
            custom_attributes: self.custom_attributes.0,
            stats: OrderStats {
                total_orders: self.total_orders,
                total_spent: self.total_spent,
                average_order_value: self.average_order_value,
                lifetime_value: self.lifetime_value,
                currency: self.currency,
                first_order_at: self.first_order_at.map(from_naive),
                last_order_at: self.last_order_at.map(from_naive),
            },
            first_name: self.first_name,
            last_name: self.last_name,
            display_name: self.display_name,
            created_at: from_naive(self.created_at),
            updated_at: from_naive(self.updated_at),
            churned_at: self.churned_at.map(from_naive),
            deleted_at: self.deleted_at.map(from_naive),
            version: self.version,
        })
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))
}

fn email_taken(e: diesel::result::Error) -> Error {
    errors::unique(
        e,
        "email",
        "email_taken",
        "another contact of this project has this email (a deleted one can be restored)",
    )
}

/// The key SQLite stores contact `id` under (migration 000012, where SQL folds the
/// stored ids the same way): the 48-bit millisecond of a version 7 id, then the low 15
/// bits of its counter (bytes 10 and 11), which the id generator steps by one within a
/// millisecond. A get then reads the table alone, one b-tree descent instead of the
/// id's index and then the table; and keys grow with time, so inserts still append.
/// Any id folds to a key in `0..2^63`; two may fold alike (see [`free_row_key`]).
pub fn row_key(id: Uuid) -> i64 {
    let b = id.as_bytes();
    let millis = u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]);
    let counter = (u64::from(b[10] & 0x7f) << 8) | u64::from(b[11]);
    // 48 + 15 bits: always a non-negative i64.
    ((millis << 15) | counter) as i64
}

/// [`row_key`] of `id`, or `None` (SQLite then picks the key) when another contact
/// holds it: ids made in the same millisecond by two processes can fold alike. Such a
/// contact is found through the id's index instead ([`find`]).
fn free_row_key(conn: &mut diesel::SqliteConnection, id: Uuid) -> QueryResult<Option<i64>> {
    let key = row_key(id);
    let taken: bool = diesel::select(diesel::dsl::exists(
        contacts::table.filter(contacts::row_key.eq(key)),
    ))
    .get_result(conn)?;
    Ok((!taken).then_some(key))
}

/// Inserts a new contact of tenant `customer_id`, with its tags.
pub fn insert(conn: &mut DbConn, customer_id: Uuid, c: &Contact) -> Result<()> {
    let row = Row::from_domain(customer_id, c)?;
    match conn {
        DbConn::Sqlite(sqlite) => {
            let key = free_row_key(sqlite, c.id).map_err(errors::db)?;
            diesel::insert_into(contacts::table)
                .values((&row, contacts::row_key.eq(key)))
                .execute(sqlite)
        }
        DbConn::Pg(pg) => diesel::insert_into(contacts::table)
            .values(&row)
            .execute(pg),
    }
    .map_err(email_taken)?;
    insert_tags(conn, c)
}

/// [`insert`] and [`events::append`] of the event that announces the contact; the
/// event's id. On PostgreSQL the contact, its tags and the event are one statement
/// (a round trip and an execution instead of three, for any number of tags), atomic
/// by itself; on SQLite, in process, three as before, so call it in a transaction
/// there (as `Db::write` and `Db::write_autocommit` run every SQLite job).
pub fn insert_with_event(
    conn: &mut DbConn,
    customer_id: Uuid,
    c: &Contact,
    event: &EventDraft,
    audit: &Audit,
) -> Result<Uuid> {
    let DbConn::Pg(pg) = conn else {
        insert(conn, customer_id, c)?;
        return events::append(conn, event, audit);
    };
    let row = Row::from_domain(customer_id, c)?;
    let (id, event_row) = events::new_row(event, audit);
    // No tags is an empty array: the same statement, inserting no tag rows.
    Together::new(
        diesel::insert_into(contacts::table).values(&row),
        tags_as_array(c),
        diesel::insert_into(schema::events::table).values(event_row),
    )
    .execute(pg)
    .map_err(email_taken)?;
    Ok(id)
}

type TagRow = (
    diesel::dsl::Eq<contact_tags::project_id, String>,
    diesel::dsl::Eq<contact_tags::tag, String>,
    diesel::dsl::Eq<contact_tags::contact_id, String>,
);

fn tag_rows(c: &Contact) -> Vec<TagRow> {
    c.tags
        .iter()
        .map(|t| {
            (
                contact_tags::project_id.eq(c.project_id.to_string()),
                contact_tags::tag.eq(t.clone()),
                contact_tags::contact_id.eq(c.id.to_string()),
            )
        })
        .collect()
}

diesel::define_sql_function! {
    /// PostgreSQL's `unnest`: one row per element of the array.
    #[sql_name = "unnest"]
    fn unnest_text(tags: diesel::sql_types::Array<diesel::sql_types::Text>) -> diesel::sql_types::Text;
}

/// The tags of a new contact. On PostgreSQL one statement for any count, the tags
/// bound as one array (`INSERT … SELECT $1, unnest($2), $3`): its text never changes,
/// so it stays prepared, and a create makes one round trip fewer per tag beyond the
/// first. On SQLite, in process, one insert per tag: the same statement whatever the
/// count, so it stays prepared too (a multi-row insert's text depends on the count and
/// was prepared on every create: 8% of the SQLite writer's time).
fn insert_tags(conn: &mut DbConn, c: &Contact) -> Result<()> {
    if c.tags.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Pg(pg) => diesel::query_dsl::methods::ExecuteDsl::execute(tags_as_array(c), pg)
            .map_err(errors::db)?,
        DbConn::Sqlite(sqlite) => {
            for row in tag_rows(c) {
                diesel::insert_into(contact_tags::table)
                    .values(row)
                    .execute(sqlite)
                    .map_err(errors::db)?;
            }
            0
        }
    };
    Ok(())
}

/// PostgreSQL's insert of all of a contact's tags: `INSERT … SELECT $1, unnest($2), $3`.
fn tags_as_array(
    c: &Contact,
) -> impl diesel::query_dsl::methods::ExecuteDsl<diesel::PgConnection>
       + QueryFragment<diesel::pg::Pg>
       + diesel::query_builder::QueryId {
    use diesel::sql_types::Text;
    use diesel::IntoSql;
    let rows = diesel::select((
        c.project_id.to_string().into_sql::<Text>(),
        unnest_text(c.tags.clone()),
        c.id.to_string().into_sql::<Text>(),
    ));
    diesel::insert_into(contact_tags::table)
        .values(rows)
        .into_columns((
            contact_tags::project_id,
            contact_tags::tag,
            contact_tags::contact_id,
        ))
}

/// Rows per multi-row INSERT: 36 columns x 500 stays under SQLite's 32,766 bound
/// parameters (and PostgreSQL's 65,535).
const BULK_ROWS: usize = 500;

/// Inserts many new contacts of tenant `customer_id`, with their tags, in a few
/// multi-row statements: the bulk path (imports, the benchmark's seeding). Run it in a
/// transaction; an email already taken fails the whole call like [`insert`] does.
pub fn insert_many(conn: &mut DbConn, customer_id: Uuid, contacts: &[Contact]) -> Result<()> {
    for chunk in contacts.chunks(BULK_ROWS) {
        let rows = chunk
            .iter()
            .map(|c| Row::from_domain(customer_id, c))
            .collect::<Result<Vec<_>>>()?;
        match conn {
            DbConn::Sqlite(sqlite) => {
                let mut keyed = Vec::with_capacity(rows.len());
                let mut chunk_keys = std::collections::HashSet::with_capacity(rows.len());
                for (row, c) in rows.iter().zip(chunk) {
                    // A key taken in the table, or earlier in this same statement.
                    let key = free_row_key(sqlite, c.id)
                        .map_err(errors::db)?
                        .filter(|k| chunk_keys.insert(*k));
                    keyed.push((row, contacts::row_key.eq(key)));
                }
                diesel::insert_into(contacts::table)
                    .values(keyed)
                    .execute(sqlite)
            }
            DbConn::Pg(pg) => diesel::insert_into(contacts::table)
                .values(&rows)
                .execute(pg),
        }
        .map_err(email_taken)?;
    }
    let tags: Vec<TagRow> = contacts.iter().flat_map(tag_rows).collect();
    // Three columns a row.
    for chunk in tags.chunks(BULK_ROWS * 10) {
        insert_rows!(conn, contact_tags::table, chunk).map_err(errors::db)?;
    }
    Ok(())
}

/// The contact `id` of tenant `customer_id`'s project `project_id`, deleted or not.
pub fn find(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    id: Uuid,
) -> Result<Option<Contact>> {
    let key = row_key(id);
    let (id, customer_id, project_id) = (
        id.to_string(),
        customer_id.to_string(),
        project_id.to_string(),
    );
    if let DbConn::Sqlite(c) = conn {
        // By the table's key first: one descent. A miss (an id stored under a key
        // SQLite picked, or no such contact) looks again by the id's index below.
        let found = contacts::table
            .filter(contacts::row_key.eq(key))
            .filter(contacts::id.eq(&id))
            .filter(contacts::customer_id.eq(&customer_id))
            .filter(contacts::project_id.eq(&project_id))
            .select(ReadRow::as_select())
            .first(c)
            .optional()
            .map_err(errors::db)?;
        if let Some(row) = found {
            return row.into_domain().map(Some);
        }
    }
    on_backend!(conn, |c| contacts::table
        .filter(contacts::id.eq(id))
        .filter(contacts::customer_id.eq(customer_id))
        .filter(contacts::project_id.eq(project_id))
        .select(ReadRow::as_select())
        .first(c)
        .optional())
    .map_err(errors::db)?
    .map(ReadRow::into_domain)
    .transpose()
}

/// Contact `id` of tenant `customer_id`'s project `project_id`, deleted or not, as
/// [`find`] reads it. On PostgreSQL the gets waiting for a connection at the same time
/// are read together, one statement for each project among them
/// ([`Db::read_coalesced`]); on SQLite, where a read is in-process work without a hop
/// to save, it is a bounded read of its own.
pub async fn find_coalesced(
    db: &Db,
    customer_id: Uuid,
    project_id: Uuid,
    id: Uuid,
) -> Result<Option<Contact>> {
    match db.backend() {
        Backend::Sqlite => {
            db.read_bounded(move |conn| find(conn, customer_id, project_id, id))
                .await
        }
        Backend::Postgres => {
            db.read_coalesced(db.contact_reads(), (customer_id, project_id), id, find_many)
                .await
        }
    }
}

/// Contacts `ids` of tenant `tenant_project.0`'s project `tenant_project.1` that exist,
/// deleted or not, each with its id.
fn find_many(
    conn: &mut DbConn,
    tenant_project: &(Uuid, Uuid),
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Contact)>> {
    let customer_id = tenant_project.0.to_string();
    let project_id = tenant_project.1.to_string();
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    // On PostgreSQL `id = ANY($3)`, one statement prepared once for any number of ids.
    let rows = on_backend!(conn, |c| contacts::table
        .filter(contacts::customer_id.eq(customer_id))
        .filter(contacts::project_id.eq(project_id))
        .filter(contacts::id.eq_any(ids))
        .select(ReadRow::as_select())
        .load(c))
    .map_err(errors::db)?;
    rows.into_iter()
        .map(|r| r.into_domain().map(|c| (c.id, c)))
        .collect()
}

/// Project `project_id` of `tenant` (any tenant for `None`) with its contact `id`, if
/// the contact is there, deleted or not: the project gate and the contact read of a
/// request in one query (one round trip instead of two on PostgreSQL). `None` when the
/// project is not found.
pub fn find_with_project(
    conn: &mut DbConn,
    tenant: Option<Uuid>,
    project_id: Uuid,
    id: Uuid,
) -> Result<Option<(Project, Option<Contact>)>> {
    use crate::schema::projects;
    let q = projects::table
        .left_join(
            contacts::table.on(contacts::project_id
                .eq(projects::id)
                .and(contacts::customer_id.eq(projects::customer_id))
                .and(contacts::id.eq(id.to_string()))),
        )
        .filter(projects::id.eq(project_id.to_string()));
    let found = first_of_tenant!(
        conn,
        q,
        projects::customer_id,
        tenant,
        (
            crate::projects::ReadRow::as_select(),
            Option::<ReadRow>::as_select()
        )
    )
    .map_err(errors::db)?;
    found
        .map(|(project, contact)| {
            Ok((
                project.into_domain(),
                contact.map(ReadRow::into_domain).transpose()?,
            ))
        })
        .transpose()
}

/// The contact of tenant `customer_id`'s project `project_id` with this (lower-case)
/// email, deleted or not.
pub fn find_by_email(
    conn: &mut DbConn,
    customer_id: Uuid,
    project_id: Uuid,
    email: &Email,
) -> Result<Option<Contact>> {
    let (customer_id, project_id) = (customer_id.to_string(), project_id.to_string());
    on_backend!(conn, |c| contacts::table
        .filter(contacts::customer_id.eq(customer_id))
        .filter(contacts::project_id.eq(project_id))
        .filter(contacts::email.eq(email.as_str()))
        .select(ReadRow::as_select())
        .first(c)
        .optional())
    .map_err(errors::db)?
    .map(ReadRow::into_domain)
    .transpose()
}

/// Saves a changed contact if nobody changed it since `loaded_version` was read; the
/// tag rows follow when `tags_changed`.
pub fn update(
    conn: &mut DbConn,
    customer_id: Uuid,
    c: &Contact,
    loaded_version: i64,
    tags_changed: bool,
) -> Result<()> {
    let row = Row::from_domain(customer_id, c)?;
    // Prepared once per connection (diesel's own UPDATE is parsed on every call).
    let q = crate::prepared::CachedUpdate::new(
        contacts::table,
        (&row).as_changeset(),
        contacts::id
            .eq(&row.id)
            .and(contacts::version.eq(loaded_version)),
    );
    let n = on_backend!(&mut *conn, |c| q.execute(c)).map_err(email_taken)?;
    errors::one_updated(n, "contact")?;
    if tags_changed {
        diesel::delete(contact_tags::table.filter(contact_tags::contact_id.eq(&row.id)))
            .execute(conn)
            .map_err(errors::db)?;
        insert_tags(conn, c)?;
    }
    Ok(())
}

/// Takes the row lock of a contact for the rest of the transaction, so that concurrent
/// writers on PostgreSQL queue and each reads the version the previous one wrote
/// (SQLite's single writer already serializes; there it costs nothing).
pub fn lock(conn: &mut DbConn, project_id: Uuid, id: Uuid) -> Result<()> {
    if matches!(conn, DbConn::Sqlite(_)) {
        return Ok(());
    }
    diesel::update(
        contacts::table
            .filter(contacts::id.eq(id.to_string()))
            .filter(contacts::project_id.eq(project_id.to_string())),
    )
    .set(contacts::version.eq(contacts::version))
    .execute(conn)
    .map_err(errors::db)?;
    Ok(())
}

/// Live (not deleted) contacts of a tenant: what `features.max_contacts` limits.
pub fn count_live(conn: &mut DbConn, customer_id: Uuid) -> Result<i64> {
    contacts::table
        .filter(contacts::customer_id.eq(customer_id.to_string()))
        .filter(contacts::deleted_at.is_null())
        .count()
        .get_result(conn)
        .map_err(errors::db)
}

/// Live contacts per project of a tenant, for the usage view.
pub fn live_counts(conn: &mut DbConn, customer_id: Uuid) -> Result<Vec<(Uuid, i64)>> {
    let rows: Vec<(String, i64)> = contacts::table
        .filter(contacts::customer_id.eq(customer_id.to_string()))
        .filter(contacts::deleted_at.is_null())
        .group_by(contacts::project_id)
        .select((contacts::project_id, diesel::dsl::count_star()))
        .load(conn)
        .map_err(errors::db)?;
    rows.into_iter()
        .map(|(p, n)| Ok((errors::stored_id(&p, "project id")?, n)))
        .collect()
}

/// What a list asks for; every filter is optional except the project.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub project_id: Uuid,
    /// Prefix of the email, first or last name (any case), or of the phone digits.
    pub search: Option<String>,
    pub status: Option<ContactStatus>,
    pub stage: Option<Stage>,
    pub tier: Option<Tier>,
    pub customer_type: Option<CustomerType>,
    /// Contacts with every one of these tags.
    pub tags: Vec<String>,
    pub assigned_to: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    pub include_deleted: bool,
}

/// Where a keyset page starts: the sort value of the last row seen, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    /// The sort value as text: micros since the epoch for times, the number for
    /// amounts, the lower-case text for names and emails.
    pub key: String,
    pub id: Uuid,
}

/// One page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page<'a> {
    /// Keyset: the rows after `After` (from the start when `None`).
    Keyset(Option<&'a After>),
    /// Offset, for the page/page_size form.
    Offset(i64),
}

type Boxed<'a> = contacts::BoxedQuery<'a, MultiBackend>;

/// The upper bound of a prefix range: every string that starts with `prefix` sorts
/// below it (byte order on both backends).
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

type Condition = Box<dyn BoxableExpression<contacts::table, MultiBackend, SqlType = Bool>>;

/// A column a search term is matched against by prefix; each has its own index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchOn {
    Email,
    FirstName,
    LastName,
    Phone,
}

/// Words of a search that are also tried as a full name, at most: each way to split
/// them into a first and a last name is four more branches of the search's statement.
const NAME_WORDS: usize = 4;

/// One way a contact matches a search, each answered by one index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// The column starts with the text.
    Prefix(SearchOn, String),
    /// A full name: the first name is `first` (with `longer`: starts with it and is
    /// longer) and the last name starts with `last`. The first name's index holds the
    /// last name after it (migration 000011), so the common case, a whole first name
    /// and the start of the last, is one seek, kept apart from the longer first names:
    /// those are found one by one in the same index, up to [`LOOSE_NAMES`] of them
    /// ([`LongerFirstNames`]), each then one seek with its last name, so a word that
    /// starts the first names of many contacts costs a seek per distinct name, not one
    /// entry per contact.
    Name {
        first: String,
        longer: bool,
        last: String,
    },
}

impl Term {
    /// The term as a condition on a contact, naming the project when given (so that
    /// its index can answer), or only on its columns (rows known to be the project's).
    fn condition(&self, project: Option<&str>) -> Condition {
        let on_columns = match self {
            Term::Prefix(on, prefix) => prefix_range(*on, prefix),
            Term::Name {
                first,
                longer,
                last,
            } => name_range(first, *longer, last),
        };
        match project {
            Some(project) => Box::new(contacts::project_id.eq(project.to_string()).and(on_columns)),
            None => on_columns,
        }
    }
}

/// What a search is matched against: the email and both names (any case), and the
/// phone's digits when the search looks like a phone number. A search of two to
/// [`NAME_WORDS`] words is also a full name, in either order: `anna weber`, `weber
/// anna` and `anna web` find Anna Weber; with more words, each split of them into a
/// first and a last name is tried (`mary ann smith`: the first name Mary Ann and a last
/// name that starts with Smith, or the first name Mary and one that starts with Ann
/// Smith).
fn search_terms(search: Option<&str>) -> Vec<Term> {
    let Some(s) = search.map(search_key).filter(|s| !s.is_empty()) else {
        return Vec::new();
    };
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let phone_like = s
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut names = Vec::new();
    if !phone_like && (2..=NAME_WORDS).contains(&words.len()) {
        for split in 1..words.len() {
            let (a, b) = (words[..split].join(" "), words[split..].join(" "));
            for (first, last) in [(&a, &b), (&b, &a)] {
                for longer in [false, true] {
                    names.push(Term::Name {
                        first: first.clone(),
                        longer,
                        last: last.clone(),
                    });
                }
            }
        }
    }
    let mut terms = Vec::with_capacity(4 + names.len());
    // No email has white space (`Email::parse`), so a search with some leaves the
    // email's branch out: a full name is one index seek less.
    if words.len() == 1 {
        terms.push(Term::Prefix(SearchOn::Email, s.clone()));
    }
    terms.push(Term::Prefix(SearchOn::FirstName, s.clone()));
    terms.push(Term::Prefix(SearchOn::LastName, s));
    if phone_like && !digits.is_empty() {
        terms.push(Term::Prefix(SearchOn::Phone, digits));
    }
    terms.extend(names);
    terms
}

/// The prefix range of one search term on its column alone: for rows already known to
/// be the project's (a window of its list), where naming the project again only
/// compares its id once more per row and term.
fn prefix_range(on: SearchOn, prefix: &str) -> Condition {
    let end = prefix_end(prefix);
    let p = prefix.to_string();
    match on {
        SearchOn::Email => Box::new(contacts::email.ge(p).and(contacts::email.lt(end))),
        SearchOn::FirstName => Box::new(
            contacts::first_name_key
                .ge(p)
                .and(contacts::first_name_key.lt(end)),
        ),
        SearchOn::LastName => Box::new(
            contacts::last_name_key
                .ge(p)
                .and(contacts::last_name_key.lt(end)),
        ),
        SearchOn::Phone => Box::new(
            contacts::phone_digits
                .ge(p)
                .and(contacts::phone_digits.lt(end)),
        ),
    }
}

/// First names that start with `first` and are longer. Not [`prefix_range`]: that
/// range starts at `first` itself, whose entries the whole first name's seek reads.
fn longer_first_names(first: &str) -> Condition {
    Box::new(
        contacts::first_name_key
            .gt(first.to_string())
            .and(contacts::first_name_key.lt(prefix_end(first))),
    )
}

/// Last names that start with `last` and are longer (the Webers of `weber`).
fn longer_last_names(last: &str) -> Condition {
    Box::new(
        contacts::last_name_key
            .gt(last.to_string())
            .and(contacts::last_name_key.lt(prefix_end(last))),
    )
}

/// A [`Term::Name`] on the name columns alone.
fn name_range(first: &str, longer: bool, last: &str) -> Condition {
    let last_range = prefix_range(SearchOn::LastName, last);
    if longer {
        Box::new(longer_first_names(first).and(last_range))
    } else {
        Box::new(
            contacts::first_name_key
                .eq(first.to_string())
                .and(last_range),
        )
    }
}

/// Distinct first names a loose scan seeks at most before it reads the rest of the
/// range entry by entry: a seek per name costs about fourteen entries' reading (3.5 µs
/// against 0.24 µs on SQLite, BENCHMARKS-HISTORY.md, twenty-second session), so a
/// range of many names of a few contacts each is read faster whole.
const LOOSE_NAMES: usize = 100;

/// `"names" ("f", "d") AS (…)`: the project's first [`LOOSE_NAMES`] distinct first names
/// that start with `first` and are longer, in order, each with its rank `d`, for a
/// [`Term::Name`] with `longer` ([`Fenced`]).
///
/// With the names' range as a plain condition, the index is read entry by entry over
/// every contact whose first name extends `first`, each tested for its last name: a
/// word that starts many contacts' first names costs that many entries (`ben moeller`
/// after the benchmark's 470,000 contacts named Bench: 211 ms on SQLite for one
/// search). The distinct names are found instead by a loose scan, one seek per name,
/// and each is then one seek with its last name, as a whole first name is:
///
/// `WITH RECURSIVE names (f, d) AS (SELECT (<the first name after ? in the range>), 1
/// UNION ALL SELECT (<the first name after names.f in the range>), d + 1 FROM names
/// WHERE f IS NOT NULL AND d < 100)`, each step `SELECT first_name_key FROM contacts
/// WHERE project_id = ? AND first_name_key > … AND first_name_key < ? ORDER BY
/// first_name_key LIMIT 1`. Names after the hundredth are read as a range
/// ([`AfterNamed`]).
struct LongerFirstNames {
    project: String,
    first: String,
    end: String,
}

impl LongerFirstNames {
    /// `SELECT (SELECT first_name_key … > <after> … LIMIT 1)`: the project's next first
    /// name in the range after `after` (the recursion's last name when `None`), or NULL.
    fn next_name<'b>(
        &'b self,
        out: &mut diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
        after: Option<&'b String>,
    ) -> QueryResult<()> {
        out.push_sql(
            "SELECT (SELECT \"n\".\"first_name_key\" FROM \"contacts\" AS \"n\" \
             WHERE \"n\".\"project_id\" = ",
        );
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.project)?;
        out.push_sql(" AND \"n\".\"first_name_key\" > ");
        match after {
            Some(first) => out.push_bind_param::<diesel::sql_types::Text, _>(first)?,
            None => out.push_sql("\"names\".\"f\""),
        }
        out.push_sql(" AND \"n\".\"first_name_key\" < ");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.end)?;
        out.push_sql(" ORDER BY \"n\".\"first_name_key\" LIMIT 1)");
        Ok(())
    }
}

impl QueryFragment<MultiBackend> for LongerFirstNames {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> QueryResult<()> {
        out.push_sql("\"names\" (\"f\", \"d\") AS (");
        self.next_name(&mut out, Some(&self.first))?;
        out.push_sql(", 1 UNION ALL ");
        self.next_name(&mut out, None)?;
        out.push_sql(&format!(
            ", \"names\".\"d\" + 1 FROM \"names\" \
             WHERE \"names\".\"f\" IS NOT NULL AND \"names\".\"d\" < {LOOSE_NAMES})"
        ));
        Ok(())
    }
}

/// `contacts.first_name_key IN (SELECT f FROM names …)`: a first name the loose scan
/// found ([`LongerFirstNames`]).
struct NamedFirst;

contacts_selection!(
    NamedFirst,
    Bool,
    "\"contacts\".\"first_name_key\" IN (SELECT \"f\" FROM \"names\" WHERE \"f\" IS NOT NULL)"
);

/// `contacts.first_name_key > (<the loose scan's last name, when it stopped at its
/// bound>) AND contacts.first_name_key < ?`: the rest of the range, read entry by entry.
/// Empty (a comparison with NULL) when the scan found every name.
struct AfterNamed {
    end: String,
}

contacts_fragment!(AfterNamed, Bool);

impl diesel::SelectableExpression<contacts::table> for AfterNamed {}

impl QueryFragment<MultiBackend> for AfterNamed {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> QueryResult<()> {
        out.push_sql(&format!(
            "\"contacts\".\"first_name_key\" > \
             (SELECT \"f\" FROM \"names\" WHERE \"d\" = {LOOSE_NAMES}) \
             AND \"contacts\".\"first_name_key\" < "
        ));
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.end)?;
        Ok(())
    }
}

/// Every filter of `f` but the search, each a condition on a contact.
fn narrowing(f: &Filter) -> Vec<Condition> {
    let project = f.project_id.to_string();
    let mut all: Vec<Condition> = Vec::new();
    if let Some(v) = f.status {
        all.push(Box::new(contacts::status.eq(v.as_str())));
    }
    if let Some(v) = f.stage {
        all.push(Box::new(contacts::stage.eq(v.as_str())));
    }
    if let Some(v) = f.tier {
        all.push(Box::new(contacts::tier.eq(v.as_str())));
    }
    if let Some(v) = f.customer_type {
        all.push(Box::new(contacts::customer_type.eq(v.as_str())));
    }
    for tag in &f.tags {
        all.push(Box::new(
            contacts::id.eq_any(
                contact_tags::table
                    .filter(contact_tags::project_id.eq(project.clone()))
                    .filter(contact_tags::tag.eq(tag.clone()))
                    .select(contact_tags::contact_id),
            ),
        ));
    }
    // A NULL equals nothing either way: `assume_not_null` only types it as a condition.
    if let Some(v) = f.assigned_to {
        all.push(Box::new(
            contacts::assigned_to.assume_not_null().eq(v.to_string()),
        ));
    }
    if let Some(v) = f.company_id {
        all.push(Box::new(
            contacts::company_id.assume_not_null().eq(v.to_string()),
        ));
    }
    if let Some(t) = f.created_after {
        all.push(Box::new(contacts::created_at.gt(to_naive(t))));
    }
    if let Some(t) = f.created_before {
        all.push(Box::new(contacts::created_at.lt(to_naive(t))));
    }
    if !f.include_deleted {
        all.push(Box::new(contacts::deleted_at.is_null()));
    }
    all
}

/// `q` with every filter of `f` but the search.
fn narrowed(mut q: Boxed<'static>, f: &Filter) -> Boxed<'static> {
    for c in narrowing(f) {
        q = q.filter(c);
    }
    q
}

/// The search terms of a filter as one condition: any of them matches. Each names the
/// project when given (so that its index can answer), or only its columns.
fn any_term(project: Option<&str>, terms: &[Term]) -> Option<Condition> {
    let mut any: Option<Condition> = None;
    for term in terms {
        let this = term.condition(project);
        any = Some(match any {
            Some(earlier) => Box::new(earlier.or(this)),
            None => this,
        });
    }
    any
}

/// Tenant `customer_id`'s contacts that pass every filter of `f`, search included.
fn filtered(customer_id: Uuid, f: &Filter) -> Boxed<'static> {
    let project = f.project_id.to_string();
    let mut q = contacts::table
        .filter(contacts::project_id.eq(project.clone()))
        .filter(contacts::customer_id.eq(customer_id.to_string()))
        .into_boxed();
    if let Some(any) = any_term(Some(&project), &search_terms(f.search.as_deref())) {
        q = q.filter(any);
    }
    narrowed(q, f)
}

/// Starts after the cursor in (column, id) order, in either direction, without
/// ordering.
macro_rules! after_cursor {
    ($q:expr, $col:expr, $after:expr, $desc:expr) => {{
        let mut q = $q;
        if let Some((key, id)) = $after {
            let id: String = id;
            // The first bound alone is a range the index seeks to; the OR then settles
            // ties by id. Written as one OR, the database scans from the start.
            q = if $desc {
                q.filter($col.le(key.clone()))
                    .filter($col.lt(key).or(contacts::id.lt(id)))
            } else {
                q.filter($col.ge(key.clone()))
                    .filter($col.gt(key).or(contacts::id.gt(id)))
            };
        }
        q
    }};
}

/// Orders by (column, id) and starts after the cursor, in either direction.
macro_rules! keyset {
    ($q:expr, $col:expr, $after:expr, $desc:expr) => {{
        let q = after_cursor!($q, $col, $after, $desc);
        if $desc {
            q.order(($col.desc(), contacts::id.desc()))
        } else {
            q.order(($col.asc(), contacts::id.asc()))
        }
    }};
}

/// Calls `$then!(column, typed cursor)` for the sort column, with the
/// cursor's key parsed to the column's type (`?` on a cursor that does not parse).
macro_rules! with_sort {
    ($sort:expr, $after:expr, $then:ident) => {
        match $sort {
            SortBy::CreatedAt => $then!(contacts::created_at, typed($after, time_key)?),
            SortBy::UpdatedAt => $then!(contacts::updated_at, typed($after, time_key)?),
            SortBy::LastName => $then!(contacts::last_name_key, $after),
            SortBy::Email => $then!(contacts::email, $after),
            SortBy::TotalSpent => $then!(contacts::total_spent, typed($after, int_key)?),
            SortBy::LastOrderAt => $then!(contacts::last_order_key, typed($after, int_key)?),
        }
    };
}

fn bad_cursor() -> Error {
    Error::validation("cursor", "is not a cursor of this list and sort order")
}

fn time_key(raw: &str) -> Result<NaiveDateTime> {
    raw.parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|t| t.naive_utc())
        .ok_or_else(bad_cursor)
}

fn int_key(raw: &str) -> Result<i64> {
    raw.parse().map_err(|_| bad_cursor())
}

/// The cursor `(key, id)` with its key parsed by `parse`.
fn typed<K>(
    after: Option<(String, String)>,
    parse: fn(&str) -> Result<K>,
) -> Result<Option<(K, String)>> {
    after.map(|(k, id)| parse(&k).map(|k| (k, id))).transpose()
}

/// A page of tenant `customer_id`'s contacts and, when there may be more, the cursor
/// of its last row. A search reads and keeps its match count in `counts`.
#[allow(clippy::too_many_arguments)]
pub fn list(
    conn: &mut DbConn,
    counts: &SearchCounts,
    customer_id: Uuid,
    f: &Filter,
    sort: SortBy,
    order: SortOrder,
    page: Page<'_>,
    limit: i64,
) -> Result<(Vec<Contact>, Option<After>)> {
    let desc = order == SortOrder::Desc;
    let after = match page {
        Page::Keyset(after) => after.map(|a| (a.key.clone(), a.id.to_string())),
        Page::Offset(_) => None,
    };
    let terms = search_terms(f.search.as_deref());
    let rows = if terms.is_empty() {
        let q = filtered(customer_id, f);
        macro_rules! ordered {
            ($col:expr, $after:expr) => {
                keyset!(q, $col, $after, desc)
            };
        }
        let mut q = with_sort!(sort, after, ordered);
        if let Page::Offset(offset) = page {
            q = q.offset(offset);
        }
        q.select(row_columns())
            .limit(limit + 1)
            .load::<ReadRow>(conn)
            .map_err(errors::db)?
    } else {
        let offset = match page {
            Page::Offset(offset) => offset,
            Page::Keyset(_) => 0,
        };
        let q = SearchQuery {
            customer_id,
            f,
            terms: &terms,
            sort,
            desc,
            after,
            offset,
            limit,
        };
        // A full page from the window is exact; anything less may have missed matches
        // beyond it, and the terms' indexes answer instead.
        let near = match broad_window(conn, counts, &q)? {
            Some(window) => {
                Some(window_page(conn, &q, window)?).filter(|rows| rows.len() as i64 > limit)
            }
            None => None,
        };
        match near {
            Some(rows) => rows,
            None => search_page(conn, &q)?,
        }
    };
    let more = rows.len() as i64 > limit;
    let items = rows
        .into_iter()
        .take(limit as usize)
        .map(ReadRow::into_domain)
        .collect::<Result<Vec<_>>>()?;
    let next = match items.last() {
        Some(last) if more => Some(After {
            key: sort_key(last, sort),
            id: last.id,
        }),
        _ => None,
    };
    Ok((items, next))
}

/// What a search asks for: the tenant, the filter and its search terms, the order,
/// and which rows of the result.
struct SearchQuery<'a> {
    customer_id: Uuid,
    f: &'a Filter,
    terms: &'a [Term],
    sort: SortBy,
    desc: bool,
    after: Option<(String, String)>,
    offset: i64,
    limit: i64,
}

impl SearchQuery<'_> {
    /// Rows `offset .. offset + limit + 1`: one more than the page, to know whether
    /// another follows.
    fn want(&self) -> i64 {
        self.offset.saturating_add(self.limit).saturating_add(1)
    }
}

/// A search string this short is a prefix that most likely matches a large share of a
/// project (the first keystrokes of a search box: "a" matched 8% of the benchmark's
/// million contacts and took 36-137 ms through the terms' indexes on PostgreSQL, which
/// read and sort every match). Such a search first looks for its page among the first
/// rows of the list in list order; see [`window_page`].
const BROAD_PREFIX_CHARS: usize = 3;

/// Rows of the list read per row wanted, and at most, by [`window_page`]: a page of 20
/// is found there when at least one contact in 200 matches.
const WINDOW_PER_ROW: i64 = 200;
const MAX_WINDOW: i64 = 20_000;

/// Matches per row wanted from which a longer search counts as broad: a page of 20
/// tries the window when its terms match 2,100 contacts or more (see [`broad_window`]).
const BROAD_MATCHES_PER_ROW: i64 = 100;

/// How many rows of the list [`window_page`] reads for this search, or `None` when the
/// terms' indexes should answer at once: the page lies too deep for a window, or the
/// search is specific.
///
/// A search of at most three characters is taken as broad. A longer one can be broad
/// too: a whole first or last name ("anna", "weber" each matched 2-3% of the
/// benchmark's contacts, a common surname can be a third of a real project's), a
/// country code. Its terms' indexes are asked first how many contacts they match, up to
/// [`BROAD_MATCHES_PER_ROW`] per row wanted; reading at most that many index entries
/// costs a rare name little, and a broad one far less than reading and sorting every
/// match. A search with `@` or `.` is taken as specific (an email or its start, such as
/// `anna.weber`, which matched 650 of a million) and is not counted: that count would
/// read its matches twice. So is a search of several words (a full name, `anna weber`,
/// the same 650). A count read for the same project and key within
/// [`crate::search_counts::TTL`] is taken from `counts` instead of read again.
fn broad_window(
    conn: &mut DbConn,
    counts: &SearchCounts,
    q: &SearchQuery<'_>,
) -> Result<Option<i64>> {
    let want = q.want();
    let window = want.saturating_mul(WINDOW_PER_ROW).min(MAX_WINDOW);
    let Some(key) = q.f.search.as_deref().map(search_key) else {
        return Ok(None);
    };
    if want.saturating_mul(20) > window {
        return Ok(None);
    }
    if key.chars().count() <= BROAD_PREFIX_CHARS {
        return Ok(Some(window));
    }
    if key.contains(['@', '.']) || key.contains(char::is_whitespace) {
        return Ok(None);
    }
    let enough = want.saturating_mul(BROAD_MATCHES_PER_ROW);
    if let Some(broad) = counts.at_least(q.f.project_id, &key, enough) {
        return Ok(broad.then_some(window));
    }
    let project = q.f.project_id.to_string();
    let count = MatchCount {
        terms: q
            .terms
            .iter()
            .map(|term| term.condition(Some(&project)))
            .collect(),
        cap: enough,
    };
    let matched: i64 = count.get_result(conn).map_err(errors::db)?;
    counts.put(q.f.project_id, &key, matched, enough);
    Ok((matched >= enough).then_some(window))
}

/// `SELECT COUNT(*) FROM (SELECT 1 FROM contacts WHERE <term 1> UNION ALL SELECT 1 …
/// LIMIT cap) AS m`: how many contacts the terms match, up to `cap` in all. The
/// database reads the terms' indexes one after the other and stops at `cap` entries. A
/// contact matched by two terms counts twice, which only makes a search look broader.
/// The filters are left out: the window applies them. So is the tenant: the count only
/// chooses the page's source, is never answered, and the page's rows are checked.
struct MatchCount {
    terms: Vec<Condition>,
    cap: i64,
}

// Its text depends only on the number and kinds of terms.
text_query!(MatchCount, diesel::sql_types::BigInt);

impl QueryFragment<MultiBackend> for MatchCount {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> QueryResult<()> {
        out.push_sql("SELECT COUNT(*) FROM (");
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                out.push_sql(" UNION ALL ");
            }
            out.push_sql("SELECT 1 AS \"one\" FROM \"contacts\" WHERE ");
            term.walk_ast(out.reborrow())?;
        }
        out.push_sql(" LIMIT ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.cap)?;
        out.push_sql(") AS m");
        Ok(())
    }
}

/// The keys a search's branch gives for its rows of `$b`: (rowid, sort value, id) on
/// SQLite (`$by_rowid`), else (id, sort value).
macro_rules! branch_keys {
    ($b:expr, $col:expr, $by_rowid:expr) => {
        if $by_rowid {
            Box::new($b.select((RowId, $col, contacts::id))) as Box<dyn QueryFragment<MultiBackend>>
        } else {
            Box::new($b.select((contacts::id, $col)))
        }
    };
}

/// Rows `offset .. offset + limit + 1` of a search, in list order, in one statement.
///
/// Each search term takes its first rows in list order from its column's index (only
/// the id and the sort value); the page is the first of their union, and only its rows
/// are read whole. A single query with the terms OR-ed read every match from the table
/// to sort them: at a million contacts a common prefix matches hundreds, and that was
/// most of a search's time. One statement rather than one per term and one for the
/// page: on PostgreSQL each statement is a round trip and its own execution.
fn search_page(conn: &mut DbConn, q: &SearchQuery<'_>) -> Result<Vec<ReadRow>> {
    let reach = name_reach(conn, q)?;
    let branches = term_branches(q, matches!(conn, DbConn::Sqlite(_)), &reach)?;
    rows_of_page(conn, q, PageSource::Terms(branches))
}

/// What the project's names let each of a search's terms find ([`name_reach`]).
#[derive(Debug)]
struct Reach {
    /// For each term, whether it can match: false for a [`Term::Name`] with `longer`
    /// whose word starts no longer first name in the project, true for every other.
    can_match: Vec<bool>,
    /// For each term, the last names longer than a [`Term::Name`]'s own (without
    /// `longer`) that start with it among the contacts of its first name (`anna
    /// web`: Weber); [`LongerLast::No`] for every other term.
    longer_last: Vec<LongerLast>,
}

/// The longer last names of a full name's first name ([`Reach::longer_last`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum LongerLast {
    No,
    /// One name (`anna web`: only Weber among the Annas): a whole last name too, read
    /// in list order.
    One(String),
    /// Several: their range, read and sorted.
    Many,
}

/// What `q.terms` can find ([`Reach`]): one statement, one seek per longer first
/// names' word and two per full name's last word ([`ExtendedNames`]).
///
/// A whole first name that no longer one extends is the common case (`anna weber`),
/// and its longer names' branch ([`Fenced`]) finds nothing after a recursive query, a
/// materialization and a sort: left out, a full-name search costs what an email search
/// does (BENCHMARKS-HISTORY.md, twenty-third session). A whole last name's page is the
/// first entries of (first name, last name) in the first name's index, which keeps
/// them in list order (migration 000013), rather than every such contact read and
/// sorted; so is the page of a last name being typed (`anna web`) when one name among
/// the first name's contacts starts with it. A name added between this statement and
/// the search's is found by the next search, as one added just after it would be.
fn name_reach(conn: &mut DbConn, q: &SearchQuery<'_>) -> Result<Reach> {
    let n = q.terms.len();
    let mut reach = Reach {
        can_match: vec![true; n],
        longer_last: vec![LongerLast::No; n],
    };
    let project = q.f.project_id.to_string();
    let mut checks = Vec::new();
    for (i, term) in q.terms.iter().enumerate() {
        let Term::Name {
            first,
            longer,
            last,
        } = term
        else {
            continue;
        };
        // Even codes ask about a term's longer first names, odd ones its longer last.
        checks.push(match longer {
            true => NameCheck::FirstNames {
                code: 2 * i as i32,
                names: Box::new(
                    contacts::project_id
                        .eq(project.clone())
                        .and(longer_first_names(first)),
                ),
            },
            false => NameCheck::LastNames {
                code: 2 * i as i32 + 1,
                project: project.clone(),
                first: first.clone(),
                after: last.clone(),
                end: prefix_end(last),
            },
        });
    }
    if checks.is_empty() {
        return Ok(reach);
    }
    let found: Vec<(i32, Option<String>, Option<String>)> =
        ExtendedNames { checks }.load(conn).map_err(errors::db)?;
    for (i, term) in q.terms.iter().enumerate() {
        match term {
            Term::Name { longer: true, .. } => {
                reach.can_match[i] = found.iter().any(|(code, ..)| *code == 2 * i as i32);
            }
            Term::Name { longer: false, .. } => {
                let names = found.iter().find(|(code, ..)| *code == 2 * i as i32 + 1);
                reach.longer_last[i] = match names {
                    Some((_, Some(lo), Some(hi))) if lo == hi => LongerLast::One(lo.clone()),
                    Some((_, Some(_), _)) => LongerLast::Many,
                    _ => LongerLast::No,
                };
            }
            Term::Prefix(..) => {}
        }
    }
    Ok(reach)
}

/// One check of [`ExtendedNames`].
enum NameCheck {
    /// A row of `code` when the project has such names.
    FirstNames { code: i32, names: Condition },
    /// A row of `code` with the first and the last of the last names after `after` and
    /// before `end` among the project's contacts named `first` (NULL when none).
    LastNames {
        code: i32,
        project: String,
        first: String,
        after: String,
        end: String,
    },
}

/// `SELECT 4 AS "i", NULL, NULL WHERE EXISTS (SELECT 1 FROM contacts WHERE project_id
/// = ? AND first_name_key > ? AND first_name_key < ?) UNION ALL SELECT 7, (SELECT
/// last_name_key FROM contacts WHERE project_id = ? AND first_name_key = ? AND
/// last_name_key > ? AND last_name_key < ? ORDER BY last_name_key LIMIT 1), (… DESC
/// LIMIT 1)`: [`name_reach`]'s checks, each a seek of its index ([`longer_first_names`],
/// as in [`LongerFirstNames`]; the first name's index for the last names). The codes
/// are written into the text (not bound), which then depends only on them.
struct ExtendedNames {
    checks: Vec<NameCheck>,
}

text_query!(
    ExtendedNames,
    (
        diesel::sql_types::Integer,
        diesel::sql_types::Nullable<diesel::sql_types::Text>,
        diesel::sql_types::Nullable<diesel::sql_types::Text>
    )
);

impl QueryFragment<MultiBackend> for ExtendedNames {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> QueryResult<()> {
        for (n, check) in self.checks.iter().enumerate() {
            if n > 0 {
                out.push_sql(" UNION ALL ");
            }
            match check {
                NameCheck::FirstNames { code, names } => {
                    out.push_sql(&format!(
                        "SELECT {code} AS \"i\", CAST(NULL AS TEXT) AS \"lo\", \
                         CAST(NULL AS TEXT) AS \"hi\" \
                         WHERE EXISTS (SELECT 1 FROM \"contacts\" WHERE "
                    ));
                    names.walk_ast(out.reborrow())?;
                    out.push_sql(")");
                }
                NameCheck::LastNames {
                    code,
                    project,
                    first,
                    after,
                    end,
                } => {
                    out.push_sql(&format!("SELECT {code} AS \"i\""));
                    for (name, order) in [("lo", "ASC"), ("hi", "DESC")] {
                        out.push_sql(
                            ", (SELECT \"l\".\"last_name_key\" FROM \"contacts\" AS \"l\" \
                             WHERE \"l\".\"project_id\" = ",
                        );
                        out.push_bind_param::<diesel::sql_types::Text, _>(project)?;
                        out.push_sql(" AND \"l\".\"first_name_key\" = ");
                        out.push_bind_param::<diesel::sql_types::Text, _>(first)?;
                        out.push_sql(" AND \"l\".\"last_name_key\" > ");
                        out.push_bind_param::<diesel::sql_types::Text, _>(after)?;
                        out.push_sql(" AND \"l\".\"last_name_key\" < ");
                        out.push_bind_param::<diesel::sql_types::Text, _>(end)?;
                        out.push_sql(&format!(
                            " ORDER BY \"l\".\"last_name_key\" {order} LIMIT 1) AS \"{name}\""
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Each search term's first `q.want()` rows in list order, from its column's index,
/// keyed by rowid on SQLite (`by_rowid`): the branches of [`search_page`]'s union, but
/// for the terms `reach` rules out ([`name_reach`]). A full name with a whole first
/// name is one or two branches: its whole last name, whose entries the first name's
/// index keeps in list order, and, when its first name's contacts have any, the
/// longer last names: as a whole name too when they are one, else their range.
fn term_branches(
    q: &SearchQuery<'_>,
    by_rowid: bool,
    reach: &Reach,
) -> Result<Vec<Box<dyn QueryFragment<MultiBackend>>>> {
    let project = q.f.project_id.to_string();
    let want = q.want();
    let desc = q.desc;
    let mut branches: Vec<Box<dyn QueryFragment<MultiBackend>>> = Vec::new();
    for (i, term) in q.terms.iter().enumerate() {
        if !reach.can_match[i] {
            continue;
        }
        // The tenant is checked on the rows read whole: a project has one tenant, and
        // leaving it out here lets the index alone answer.
        if let Term::Name {
            first,
            longer: true,
            last,
        } = term
        {
            let part = |first_names: Condition| {
                narrowed(
                    contacts::table
                        .filter(contacts::project_id.eq(project.clone()))
                        .filter(first_names)
                        .filter(prefix_range(SearchOn::LastName, last))
                        .into_boxed(),
                    q.f,
                )
            };
            let end = prefix_end(first);
            let (named, after_named) = (
                part(Box::new(NamedFirst)),
                part(Box::new(AfterNamed { end: end.clone() })),
            );
            macro_rules! fenced {
                ($col:expr, $after:expr) => {{
                    // The cursor parsed once, for both parts.
                    let after = $after;
                    let named = after_cursor!(named, $col, after.clone(), desc);
                    let after_named = after_cursor!(after_named, $col, after, desc);
                    Box::new(Fenced {
                        names: LongerFirstNames {
                            project: project.clone(),
                            first: first.clone(),
                            end,
                        },
                        named: branch_keys!(named, $col, by_rowid),
                        after_named: branch_keys!(after_named, $col, by_rowid),
                        by_rowid,
                        desc,
                        limit: want,
                    }) as Box<dyn QueryFragment<MultiBackend>>
                }};
            }
            branches.push(with_sort!(q.sort, q.after.clone(), fenced));
            continue;
        }
        let conditions: Vec<Condition> = match term {
            Term::Name {
                first,
                longer: false,
                last,
            } => {
                let whole: Condition = Box::new(
                    contacts::first_name_key
                        .eq(first.clone())
                        .and(contacts::last_name_key.eq(last.clone())),
                );
                let longer: Option<Condition> = match &reach.longer_last[i] {
                    LongerLast::No => None,
                    LongerLast::One(name) => Some(Box::new(
                        contacts::first_name_key
                            .eq(first.clone())
                            .and(contacts::last_name_key.eq(name.clone())),
                    )),
                    LongerLast::Many => Some(Box::new(
                        contacts::first_name_key
                            .eq(first.clone())
                            .and(longer_last_names(last)),
                    )),
                };
                std::iter::once(whole).chain(longer).collect()
            }
            _ => vec![term.condition(None)],
        };
        for condition in conditions {
            let b = narrowed(
                contacts::table
                    .filter(contacts::project_id.eq(project.clone()))
                    .filter(condition)
                    .into_boxed(),
                q.f,
            );
            macro_rules! first_keys {
                ($col:expr, $after:expr) => {{
                    let b = keyset!(b, $col, $after, desc).limit(want);
                    branch_keys!(b, $col, by_rowid)
                }};
            }
            branches.push(with_sort!(q.sort, q.after.clone(), first_keys));
        }
    }
    Ok(branches)
}

/// Rows `offset .. offset + limit + 1` of a search among the first `window` rows of the
/// project's list (after the cursor, in list order), filters and search applied to
/// those rows only: exact when it finds them all, as every row it did not read comes
/// later in the list. Read in list order, the window stops at the page's last match,
/// so a prefix that matches one contact in ten reads about ten rows for each row of the
/// page, whatever the project's size; a rare prefix (or a rare filter beside it) reads
/// the whole window and finds too few, and [`search_page`] answers. The filters are
/// applied outside the window so that it bounds the rows read, not the rows that pass.
fn window_page(conn: &mut DbConn, q: &SearchQuery<'_>, window: i64) -> Result<Vec<ReadRow>> {
    let project = q.f.project_id.to_string();
    let by_rowid = matches!(conn, DbConn::Sqlite(_));
    let desc = q.desc;
    let base = contacts::table
        .filter(contacts::project_id.eq(project.clone()))
        .into_boxed();
    let columns = WindowColumns::for_query(q);
    macro_rules! first_rows {
        ($col:expr, $after:expr) => {{
            let b = keyset!(base, $col, $after, desc).limit(window);
            let rows = if by_rowid {
                Box::new(b.select((RowId, columns))) as Box<dyn QueryFragment<MultiBackend>>
            } else {
                Box::new(b.select(columns))
            };
            (rows, Box::new($col) as Box<dyn QueryFragment<MultiBackend>>)
        }};
    }
    let (rows, sort_column) = with_sort!(q.sort, q.after.clone(), first_rows);
    let mut conditions = narrowing(q.f);
    // The window holds only the project's rows.
    conditions.extend(any_term(None, q.terms));
    let source = PageSource::Window {
        rows,
        conditions,
        sort_column,
    };
    rows_of_page(conn, q, source)
}

/// The contacts of rows `offset .. offset + limit + 1` of `source`, read whole, in list
/// order; the tenant is checked here.
fn rows_of_page(
    conn: &mut DbConn,
    q: &SearchQuery<'_>,
    source: PageSource,
) -> Result<Vec<ReadRow>> {
    let desc = q.desc;
    let page = SearchPage {
        source,
        by_rowid: matches!(conn, DbConn::Sqlite(_)),
        desc,
        offset: q.offset,
        limit: q.limit.saturating_add(1),
    };
    let rows = contacts::table
        .filter(contacts::project_id.eq(q.f.project_id.to_string()))
        .filter(contacts::customer_id.eq(q.customer_id.to_string()))
        .filter(page);
    // The page's rows in list order, sorted by the database as the page was.
    macro_rules! rows_in_order {
        ($col:expr, $after:expr) => {
            if desc {
                rows.order(($col.desc(), contacts::id.desc()))
                    .select(row_columns())
                    .load::<ReadRow>(conn)
            } else {
                rows.order(($col.asc(), contacts::id.asc()))
                    .select(row_columns())
                    .load::<ReadRow>(conn)
            }
        };
    }
    // The cursor is already in the page; only the column is needed here.
    with_sort!(q.sort, None::<(String, String)>, rows_in_order).map_err(errors::db)
}

/// Where a page of search results comes from.
enum PageSource {
    /// Each term's first rows in list order, from its column's index ([`search_page`]).
    Terms(Vec<Box<dyn QueryFragment<MultiBackend>>>),
    /// The first rows of the project's list (the columns that filters, terms and sort
    /// name), then the filters and the search applied to them, in list order by the
    /// sort column ([`window_page`]).
    Window {
        rows: Box<dyn QueryFragment<MultiBackend>>,
        conditions: Vec<Condition>,
        sort_column: Box<dyn QueryFragment<MultiBackend>>,
    },
}

/// `contacts.id IN (<the page>)`, where the page is rows `offset .. offset + limit` of
/// the search's matches in list order. From the terms' indexes:
///
/// `SELECT id FROM (SELECT * FROM (<term 1>) AS t0 UNION SELECT * FROM (<term 2>) AS t1
/// … ORDER BY 2, 1 LIMIT ? OFFSET ?) AS page`
///
/// Each term is wrapped in a subquery so that its own ORDER BY and LIMIT are allowed in
/// the compound on both backends; UNION drops a contact matched by several terms (each
/// gives the same id and key). From a window of the list:
///
/// `SELECT id FROM (SELECT contacts.id FROM (<first rows>) AS contacts WHERE <filters>
/// AND (<term 1> OR …) ORDER BY contacts.<sort column>, contacts.id LIMIT ? OFFSET ?)
/// AS hits`, where naming the window `contacts` lets every filter and term be written as
/// on the table.
///
/// The SQL depends only on the number and kinds of terms and what they filter, so
/// diesel keeps it prepared by its text.
///
/// On SQLite the rows give each row's rowid too (every index entry holds it) and the
/// page is `contacts.rowid IN (…)`, ordered by columns 2 and 3 (key, id): each of the
/// page's rows is then read from the table directly, not found first through the id
/// index (7-11% less CPU per search at 1,000,000 contacts, BENCHMARKS-HISTORY.md).
struct SearchPage {
    source: PageSource,
    by_rowid: bool,
    desc: bool,
    offset: i64,
    limit: i64,
}

// Cached by its SQL text: the terms are boxed queries, whose type says nothing.
contacts_fragment!(SearchPage, Bool);

impl QueryFragment<MultiBackend> for SearchPage {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> QueryResult<()> {
        out.push_sql(if self.by_rowid {
            "\"contacts\".\"rowid\" IN (SELECT \"rid\" FROM ("
        } else {
            "\"contacts\".\"id\" IN (SELECT \"id\" FROM ("
        });
        match &self.source {
            PageSource::Terms(branches) => {
                for (i, branch) in branches.iter().enumerate() {
                    if i > 0 {
                        out.push_sql(" UNION ");
                    }
                    out.push_sql("SELECT * FROM (");
                    branch.walk_ast(out.reborrow())?;
                    out.push_sql(&format!(") AS t{i}"));
                }
                out.push_sql(by_position(self.by_rowid, self.desc));
            }
            PageSource::Window {
                rows,
                conditions,
                sort_column,
            } => {
                out.push_sql(if self.by_rowid {
                    "SELECT \"contacts\".\"rid\" AS \"rid\" FROM ("
                } else {
                    "SELECT \"contacts\".\"id\" AS \"id\" FROM ("
                });
                rows.walk_ast(out.reborrow())?;
                out.push_sql(") AS \"contacts\"");
                for (i, c) in conditions.iter().enumerate() {
                    out.push_sql(if i == 0 { " WHERE (" } else { " AND (" });
                    c.walk_ast(out.reborrow())?;
                    out.push_sql(")");
                }
                // In the window's own order, which the database can keep.
                out.push_sql(" ORDER BY ");
                sort_column.walk_ast(out.reborrow())?;
                out.push_sql(if self.desc {
                    " DESC, \"contacts\".\"id\" DESC"
                } else {
                    ", \"contacts\".\"id\""
                });
            }
        }
        out.push_sql(" LIMIT ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.limit)?;
        out.push_sql(" OFFSET ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.offset)?;
        out.push_sql(match self.source {
            PageSource::Terms(_) => ") AS page)",
            PageSource::Window { .. } => ") AS hits)",
        });
        Ok(())
    }
}

/// ` ORDER BY` of a search's branches and of their union, by position: the columns are
/// (id, sort value) in every branch, or (rowid, sort value, id); ties go by id either
/// way, as the branches' own order and the cursor.
fn by_position(by_rowid: bool, desc: bool) -> &'static str {
    match (by_rowid, desc) {
        (false, true) => " ORDER BY 2 DESC, 1 DESC",
        (false, false) => " ORDER BY 2, 1",
        (true, true) => " ORDER BY 2 DESC, 3 DESC",
        (true, false) => " ORDER BY 2, 3",
    }
}

/// The branch of a search for a full name's longer first names ([`Term::Name`] with
/// `longer`), its first rows in list order taken from its matches once they are all
/// found, not by walking the list:
///
/// `WITH RECURSIVE names (f, d) AS (<the loose scan>), matches AS MATERIALIZED
/// (<contacts of those names> UNION ALL <contacts of names after them>) SELECT * FROM
/// matches ORDER BY <sort value, id> LIMIT ?`
///
/// Both parts are the branch's keys (rowid or id, sort value, id) with every filter and
/// the cursor, neither ordered nor limited: given the order and the limit, a planner
/// that takes the project for small reads the project's list in order and tests every
/// contact against the names (SQLite did, on the sampled statistics the server keeps:
/// 0.5-1 s a search at 1,000,000 contacts), and would flatten a plain subquery into
/// the same. A materialized common table expression is planned on its own on both
/// backends (SQLite 3.35, PostgreSQL 12), with only its conditions to choose an index
/// by. The two parts find different names, so UNION ALL repeats no contact.
struct Fenced {
    names: LongerFirstNames,
    named: Box<dyn QueryFragment<MultiBackend>>,
    after_named: Box<dyn QueryFragment<MultiBackend>>,
    by_rowid: bool,
    desc: bool,
    limit: i64,
}

impl QueryFragment<MultiBackend> for Fenced {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> QueryResult<()> {
        out.push_sql("WITH RECURSIVE ");
        self.names.walk_ast(out.reborrow())?;
        out.push_sql(", \"matches\" AS MATERIALIZED (");
        self.named.walk_ast(out.reborrow())?;
        out.push_sql(" UNION ALL ");
        self.after_named.walk_ast(out.reborrow())?;
        out.push_sql(") SELECT * FROM \"matches\"");
        out.push_sql(by_position(self.by_rowid, self.desc));
        out.push_sql(" LIMIT ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.limit)?;
        Ok(())
    }
}

/// `"contacts"."rowid" AS "rid"`: SQLite's key of a contact's row, selected from an
/// index entry (every entry holds it), for the search on SQLite.
#[derive(Debug, Clone, Copy)]
struct RowId;

contacts_selection!(
    RowId,
    diesel::sql_types::BigInt,
    "\"contacts\".\"rowid\" AS \"rid\""
);

/// The columns a search's filters, terms and sort may name, for the window of a search
/// ([`window_page`]): not the whole row, which cost a tenth of the short search's rate
/// to pass along for every row the window reads. Never loaded into a type. A column
/// missing here fails the statement on PostgreSQL (SQLite would take it from the outer
/// query's row instead): the e2e test `a_short_search_looks_past_its_window` runs every
/// filter in every order.
#[derive(Debug, Clone, Copy)]
struct WindowColumns(&'static str);

/// Every column a filter, a term or a sort names.
const WINDOW_ALL: &str = "\"contacts\".\"id\", \"contacts\".\"project_id\", \
     \"contacts\".\"status\", \"contacts\".\"stage\", \"contacts\".\"tier\", \
     \"contacts\".\"customer_type\", \"contacts\".\"assigned_to\", \
     \"contacts\".\"company_id\", \"contacts\".\"email\", \"contacts\".\"first_name_key\", \
     \"contacts\".\"last_name_key\", \"contacts\".\"phone_digits\", \
     \"contacts\".\"total_spent\", \"contacts\".\"last_order_key\", \
     \"contacts\".\"created_at\", \"contacts\".\"updated_at\", \"contacts\".\"deleted_at\"";

/// The columns of `contacts_created_idx` (migration 000010): what the terms, the tag and
/// creation-time filters and the newest-first order name. A window of these is read
/// from that index alone, with no read of the table per row (at 1,000,000 contacts a
/// whole name's window, 700-1,300 rows for a page of 20, took 26-32% less time on
/// SQLite with this and terms that do not name the project again:
/// BENCHMARKS-HISTORY.md).
const WINDOW_BY_CREATION: &str = "\"contacts\".\"id\", \"contacts\".\"email\", \
     \"contacts\".\"first_name_key\", \"contacts\".\"last_name_key\", \
     \"contacts\".\"phone_digits\", \"contacts\".\"created_at\", \"contacts\".\"deleted_at\"";

impl WindowColumns {
    /// The list index's columns when they are all the search names, else every column.
    fn for_query(q: &SearchQuery<'_>) -> Self {
        let f = q.f;
        let covered = matches!(q.sort, SortBy::CreatedAt)
            && f.status.is_none()
            && f.stage.is_none()
            && f.tier.is_none()
            && f.customer_type.is_none()
            && f.assigned_to.is_none()
            && f.company_id.is_none();
        WindowColumns(if covered {
            WINDOW_BY_CREATION
        } else {
            WINDOW_ALL
        })
    }
}

contacts_fragment!(WindowColumns, diesel::sql_types::Text);

impl diesel::SelectableExpression<contacts::table> for WindowColumns {}

impl QueryFragment<MultiBackend> for WindowColumns {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> QueryResult<()> {
        out.push_sql(self.0);
        Ok(())
    }
}

/// The sort value of `c` as stored, in the cursor's text form.
fn sort_key(c: &Contact, sort: SortBy) -> String {
    match sort {
        SortBy::CreatedAt => c.created_at.timestamp_micros().to_string(),
        SortBy::UpdatedAt => c.updated_at.timestamp_micros().to_string(),
        SortBy::LastName => c.last_name.as_deref().map(search_key).unwrap_or_default(),
        SortBy::Email => c
            .email
            .as_ref()
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
        SortBy::TotalSpent => c.stats.total_spent.to_string(),
        SortBy::LastOrderAt => micros(c.stats.last_order_at).to_string(),
    }
}

/// How many contacts match the filter (the `total` of the page form).
pub fn count(conn: &mut DbConn, customer_id: Uuid, f: &Filter) -> Result<i64> {
    filtered(customer_id, f)
        .count()
        .get_result(conn)
        .map_err(errors::db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_domain::contact::ContactInput;
    use diesel::pg::Pg;
    use diesel::sqlite::Sqlite;

    /// A page's select list is the typed one, written once, without the columns a read
    /// does not use, and a boxed page that uses it stays prepared on both backends (diesel's `sql` literal would not).
    #[test]
    fn a_pages_select_list_is_the_rows_and_keeps_it_prepared() {
        let typed = contacts::table.select(ReadRow::as_select());
        assert_eq!(
            diesel::debug_query::<Pg, _>(&typed).to_string(),
            format!("SELECT {} FROM \"contacts\" -- binds: []", *ROW_COLUMNS)
        );
        assert!(ROW_COLUMNS.starts_with("\"contacts\".\"id\", \"contacts\".\"project_id\""));
        // What a contact read does not use is not read.
        for unused in [
            "customer_id",
            "first_name_key",
            "last_name_key",
            "phone_digits",
            "last_order_key",
        ] {
            assert!(!ROW_COLUMNS.contains(unused), "{unused}");
        }
        let page = || {
            contacts::table
                .filter(contacts::project_id.eq("p"))
                .into_boxed::<MultiBackend>()
        };
        let ours = page().select(row_columns()).limit(21);
        let literal = page()
            .select(diesel::dsl::sql::<RowSql>(&ROW_COLUMNS))
            .limit(21);
        // A search term's keys on SQLite, rowid first (`search_page`).
        let term = page()
            .select((RowId, contacts::created_at, contacts::id))
            .limit(21);
        for backend in [MultiBackend::Sqlite(Sqlite), MultiBackend::Pg(Pg)] {
            let cached = |q: &dyn QueryFragment<MultiBackend>| {
                q.is_safe_to_cache_prepared(&backend).unwrap()
            };
            assert!(cached(&ours));
            assert!(!cached(&literal));
            assert!(cached(&term));
        }
    }

    /// A create's inserts stay prepared on both backends: the contact row with its
    /// empty optional fields (bound as NULL, not written as DEFAULT) and its tags.
    #[test]
    fn a_new_contacts_inserts_are_kept_prepared() {
        let input = ContactInput {
            first_name: Some("Ada".into()),
            email: Some("ada@example.com".into()),
            tags: Some(vec!["vip".into(), "berlin".into()]),
            ..ContactInput::default()
        };
        let c = Contact::create(Uuid::now_v7(), input, clientele_domain::time::now()).unwrap();
        assert!(c.phone.is_none() && c.company_id.is_none() && c.last_name.is_none());
        let row = Row::from_domain(Uuid::now_v7(), &c).unwrap();
        let insert = diesel::insert_into(contacts::table).values(&row);
        assert!(QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&insert, &Sqlite).unwrap());
        assert!(QueryFragment::<Pg>::is_safe_to_cache_prepared(&insert, &Pg).unwrap());
        let tag = diesel::insert_into(contact_tags::table).values(tag_rows(&c).remove(0));
        assert!(QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&tag, &Sqlite).unwrap());
        let tags = tags_as_array(&c);
        assert!(tags.is_safe_to_cache_prepared(&Pg).unwrap());
        // One statement for any count of tags: the same text for one tag as for two.
        let one = Contact {
            tags: vec!["vip".into()],
            ..c.clone()
        };
        fn sql<Q: QueryFragment<Pg>>(q: &Q) -> String {
            let text = diesel::debug_query::<Pg, _>(q).to_string();
            text.split(" -- binds")
                .next()
                .unwrap_or_default()
                .to_string()
        }
        assert_eq!(sql(&tags), sql(&tags_as_array(&one)));
        assert!(sql(&tags).contains("unnest($2)"), "{}", sql(&tags));
    }

    /// `EXPLAIN QUERY PLAN <q>` on SQLite: one row per step, its text last.
    struct Explain<Q>(Q);

    impl<Q> diesel::query_builder::QueryId for Explain<Q> {
        type QueryId = ();
        const HAS_STATIC_QUERY_ID: bool = false;
    }

    impl<Q> diesel::query_builder::Query for Explain<Q> {
        type SqlType = (
            diesel::sql_types::Integer,
            diesel::sql_types::Integer,
            diesel::sql_types::Integer,
            diesel::sql_types::Text,
        );
    }

    impl<Q, C> RunQueryDsl<C> for Explain<Q> {}

    impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for Explain<Q> {
        fn walk_ast<'b>(
            &'b self,
            mut out: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
        ) -> QueryResult<()> {
            out.push_sql("EXPLAIN QUERY PLAN ");
            self.0.walk_ast(out.reborrow())
        }
    }

    /// The key SQLite stores `id`'s contact under, and whether it is `row_key(id)`.
    fn stored_key(conn: &mut DbConn, id: Uuid) -> (i64, bool) {
        let DbConn::Sqlite(c) = conn else {
            panic!("a SQLite test")
        };
        let key: Option<i64> = contacts::table
            .filter(contacts::id.eq(id.to_string()))
            .select(contacts::row_key)
            .first(c)
            .unwrap();
        let key = key.unwrap();
        (key, key == row_key(id))
    }

    /// A version 7 id folds to its millisecond, then its counter's low 15 bits: keys of
    /// ids made one after another are distinct and follow their time.
    #[test]
    fn a_contacts_key_is_its_ids_time_and_counter() {
        let ids: Vec<Uuid> = (0..2_000).map(|_| Uuid::now_v7()).collect();
        for id in &ids {
            let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
            let millis = secs as i64 * 1_000 + i64::from(nanos / 1_000_000);
            assert_eq!(row_key(*id) >> 15, millis, "{id}");
            let b = id.as_bytes();
            let counter = i64::from(u16::from_be_bytes([b[10], b[11]]) & 0x7fff);
            assert_eq!(row_key(*id) & 0x7fff, counter, "{id}");
        }
        let keys: std::collections::HashSet<i64> = ids.iter().map(|id| row_key(*id)).collect();
        assert_eq!(keys.len(), ids.len());
        // Any id, the largest too, folds to a key SQLite can hold.
        assert_eq!(row_key(Uuid::max()), i64::MAX);
        assert_eq!(row_key(Uuid::nil()), 0);
    }

    /// A contact is stored under its id's key, and a get reads the table by it (no
    /// index); one whose id folds like another's is stored under a key SQLite picks and
    /// still found, in its own project only.
    #[test]
    fn a_contact_is_found_by_its_key_and_by_its_id_when_the_key_was_taken() {
        let (dir, mut conn, customer, project, other) = two_projects("key");
        let first = person(project, "Ada", "One", 1);
        // Another id with the first's millisecond and counter bits: it folds alike.
        let mut bytes = *first.id.as_bytes();
        bytes[15] ^= 0xff;
        bytes[10] ^= 0x80;
        let twin = Contact {
            id: Uuid::from_bytes(bytes),
            ..person(project, "Ben", "Two", 2)
        };
        assert_eq!(row_key(first.id), row_key(twin.id));
        // An id of a later millisecond, so that its key is not the one SQLite would
        // pick next (the largest plus one), which an id made right after the first's
        // can be.
        let mut bulk = person(project, "Cleo", "Three", 3);
        let mut bytes = *bulk.id.as_bytes();
        bytes[0] += 1;
        bulk.id = Uuid::from_bytes(bytes);
        insert(&mut conn, customer, &first).unwrap();
        insert(&mut conn, customer, &twin).unwrap();
        // Two that fold alike in one bulk statement: both stored, the second under a
        // key SQLite picks.
        let mut bulk_twin = person(project, "Dora", "Four", 4);
        let mut bytes = *bulk.id.as_bytes();
        bytes[15] ^= 0xff;
        bulk_twin.id = Uuid::from_bytes(bytes);
        insert_many(&mut conn, customer, &[bulk.clone(), bulk_twin.clone()]).unwrap();
        assert_eq!(stored_key(&mut conn, first.id), (row_key(first.id), true));
        assert!(!stored_key(&mut conn, twin.id).1);
        assert!(stored_key(&mut conn, bulk.id).1);
        assert!(!stored_key(&mut conn, bulk_twin.id).1);
        for c in [&first, &twin, &bulk, &bulk_twin] {
            let found = find(&mut conn, customer, project, c.id).unwrap().unwrap();
            assert_eq!((found.id, found.email.as_ref()), (c.id, c.email.as_ref()));
            assert!(find(&mut conn, customer, other, c.id).unwrap().is_none());
            assert!(find(&mut conn, Uuid::now_v7(), project, c.id)
                .unwrap()
                .is_none());
        }
        assert!(find(&mut conn, customer, project, Uuid::now_v7())
            .unwrap()
            .is_none());
        let by_key = contacts::table
            .filter(contacts::row_key.eq(row_key(first.id)))
            .filter(contacts::id.eq(first.id.to_string()))
            .select(contacts::id);
        let plan: Vec<(i32, i32, i32, String)> = Explain(by_key).load(&mut conn).unwrap();
        assert_eq!(plan.len(), 1, "{plan:?}");
        assert!(plan[0].3.contains("INTEGER PRIMARY KEY"), "{plan:?}");
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A migrated SQLite database in a folder of its own, with one tenant and its two
    /// projects: (folder, connection, tenant, project, other project).
    fn two_projects(name: &str) -> (std::path::PathBuf, DbConn, Uuid, Uuid, Uuid) {
        use diesel::connection::SimpleConnection;
        let dir = std::env::temp_dir().join(format!("clientele-{name}-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = crate::conn::DatabaseUrl::parse(dir.join("s.db").to_str().unwrap()).unwrap();
        let mut conn = url.connect(5_000).unwrap();
        crate::migrations::run(&mut conn).unwrap();
        let (customer, project, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let t = "'2026-12-05 00:00:00'";
        conn.batch_execute(&format!(
            "INSERT INTO customers (id, name, email, status, created_at, updated_at, status_changed_at)
                 VALUES ('{customer}', 'A', 'a@x.com', 'active', {t}, {t}, {t});
             INSERT INTO billing_accounts (id, customer_id, name, billing_email, currency, billing_cycle, status, created_at, updated_at)
                 VALUES ('b1', '{customer}', 'A', 'a@x.com', 'EUR', 'monthly', 'active', {t}, {t});
             INSERT INTO projects (id, customer_id, billing_account_id, slug, name, status, created_at, updated_at)
                 VALUES ('{project}', '{customer}', 'b1', 'main', 'Main', 'active', {t}, {t}),
                        ('{other}', '{customer}', 'b1', 'other', 'Other', 'active', {t}, {t});"
        ))
        .unwrap();
        (dir, conn, customer, project, other)
    }

    /// A contact of `project` named `first last`, with a unique email.
    fn person(project: Uuid, first: &str, last: &str, i: usize) -> Contact {
        let input = ContactInput {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            email: Some(format!("{i}@x.com")),
            ..ContactInput::default()
        };
        Contact::create(project, input, clientele_domain::time::now()).unwrap()
    }

    /// A page of `limit` of `f`'s list after `after`, newest first, and the cursor of
    /// the next.
    fn newest_first(
        conn: &mut DbConn,
        counts: &SearchCounts,
        customer: Uuid,
        f: &Filter,
        after: Option<&After>,
        limit: i64,
    ) -> (Vec<Contact>, Option<After>) {
        let page = Page::Keyset(after);
        list(
            conn,
            counts,
            customer,
            f,
            SortBy::CreatedAt,
            SortOrder::Desc,
            page,
            limit,
        )
        .unwrap()
    }

    /// The first page of 20 of `f`'s search, newest first, as `list` asks for it.
    fn first_page<'a>(customer: Uuid, f: &'a Filter, terms: &'a [Term]) -> SearchQuery<'a> {
        SearchQuery {
            customer_id: customer,
            f,
            terms,
            sort: SortBy::CreatedAt,
            desc: true,
            after: None,
            offset: 0,
            limit: 20,
        }
    }

    /// A full name whose first word starts the first names of many contacts finds the
    /// longer first names one seek each, on the statistics the server gathers
    /// (`refresh_statistics`: sampled, they take a project for about a thousand
    /// contacts whatever its size), and the search does not walk the project's list
    /// instead: unfenced, SQLite planned that walk, 0.5-1 s a search at 1,000,000
    /// contacts (BENCHMARKS-HISTORY.md, twenty-first session).
    #[test]
    fn a_full_names_longer_first_names_are_sought_not_walked() {
        let (dir, mut conn, customer, project, other) = two_projects("loose");
        // Many contacts named Bench, as the benchmark's creates leave, and a few more.
        let mut all: Vec<Contact> = (0..4_000)
            .map(|i| person(project, "Bench", &format!("Writer {i}"), i))
            .collect();
        let found = [
            ("Ben", "Moeller"),
            ("Bench", "Moeller"),
            ("Benjamin", "Möller-Lang"),
            ("Benedikt", "Moellers"),
        ];
        for (i, (first, last)) in found.iter().enumerate() {
            all.push(person(project, first, last, 10_000 + i));
        }
        // More longer first names than the loose scan seeks: the rest is a range.
        let many = LOOSE_NAMES + 50;
        for i in 0..many {
            all.push(person(
                project,
                &format!("Benno{i:03}"),
                "Moeller",
                40_000 + i,
            ));
        }
        all.push(person(project, "Bernd", "Moeller", 20_000));
        let elsewhere = person(other, "Benno", "Moeller", 30_000);
        crate::db::transaction(&mut conn, |c| {
            insert_many(c, customer, &all)?;
            insert_many(c, customer, std::slice::from_ref(&elsewhere))
        })
        .unwrap();
        crate::db::refresh_statistics(&mut conn).unwrap();

        let f = Filter {
            project_id: project,
            search: Some("ben moeller".into()),
            ..Filter::default()
        };
        let counts = SearchCounts::default();
        let mut page = |after: Option<After>, limit: i64| {
            newest_first(&mut conn, &counts, customer, &f, after.as_ref(), limit)
        };
        let (everyone, next) = page(None, 1_000);
        assert!(next.is_none());
        let names: Vec<_> = everyone
            .iter()
            .map(|c| c.first_name.clone().unwrap_or_default())
            .collect();
        // Newest first; Möller-Lang's key is "möller-lang", not a "moeller" prefix, and
        // the other project's Benno is not this project's.
        let mut expected: Vec<String> = (0..many).rev().map(|i| format!("Benno{i:03}")).collect();
        expected.extend(["Benedikt", "Bench", "Ben"].map(String::from));
        assert_eq!(names, expected);
        // The same, twenty at a time: the cursor applies to both parts of the branch.
        let (mut walked, mut after) = (Vec::new(), None);
        loop {
            let (rows, next) = page(after, 20);
            walked.extend(rows);
            match next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(walked, everyone);

        let terms = search_terms(f.search.as_deref());
        assert!(terms
            .iter()
            .any(|t| matches!(t, Term::Name { longer: true, .. })));
        let q = first_page(customer, &f, &terms);
        let page = SearchPage {
            source: PageSource::Terms(
                term_branches(&q, true, &name_reach(&mut conn, &q).unwrap()).unwrap(),
            ),
            by_rowid: true,
            desc: true,
            offset: 0,
            limit: 21,
        };
        let plan: Vec<(i32, i32, i32, String)> =
            Explain(contacts::table.filter(page).select(contacts::id))
                .load(&mut conn)
                .unwrap();
        let steps: Vec<&str> = plan.iter().map(|(.., step)| step.as_str()).collect();
        assert!(
            !steps.iter().any(|s| s.contains("contacts_created_idx")),
            "{steps:#?}"
        );
        assert!(
            steps
                .iter()
                .any(|s| s.contains("contacts_first_name_idx") && s.contains("first_name_key=?")),
            "{steps:#?}"
        );
        drop(conn);
        std::fs::remove_dir_all(dir).ok();
    }

    /// A full name with a whole last name reads its first page from the first name's
    /// index in list order (migration 000013): no sort of every Anna Weber. Longer last
    /// names are a branch of their own once the project has one (another project's
    /// Webers change nothing), and pages follow the cursor across both.
    #[test]
    fn a_full_name_with_a_whole_last_name_is_read_in_list_order() {
        let (dir, mut conn, customer, project, other) = two_projects("whole-last");
        let mut people: Vec<Contact> = (0..30)
            .map(|i| person(project, "Anna", "Weber", i))
            .collect();
        people.push(person(project, "Weber", "Anna", 30));
        people.push(person(project, "Anna", "Wagner", 31));
        insert_many(&mut conn, customer, &people).unwrap();
        insert_many(&mut conn, customer, &[person(other, "Anna", "Webers", 32)]).unwrap();
        let f = Filter {
            project_id: project,
            search: Some("Anna Weber".into()),
            ..Filter::default()
        };
        let counts = SearchCounts::default();
        let walk = |conn: &mut DbConn| -> Vec<Uuid> {
            let (mut ids, mut after) = (Vec::new(), None::<After>);
            loop {
                let (rows, next) = newest_first(conn, &counts, customer, &f, after.as_ref(), 20);
                ids.extend(rows.iter().map(|c| c.id));
                match next {
                    Some(next) => after = Some(next),
                    None => return ids,
                }
            }
        };
        // Newest first, ties by id, as the list.
        let newest_first = |people: &[&Contact]| -> Vec<Uuid> {
            let mut v: Vec<&&Contact> = people.iter().collect();
            v.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.id)));
            v.into_iter().map(|c| c.id).collect()
        };
        let matching: Vec<&Contact> = people[..31].iter().collect();
        assert_eq!(walk(&mut conn), newest_first(&matching));

        let terms = search_terms(f.search.as_deref());
        let q = first_page(customer, &f, &terms);
        let reach = name_reach(&mut conn, &q).unwrap();
        assert!(
            reach.longer_last.iter().all(|l| *l == LongerLast::No),
            "{reach:?}"
        );
        // Whole-name branches of a search (the whole last name and, when its first
        // name's contacts have one longer last name, that one): each one seek of the
        // first name's index read in order, no sort. The count of them.
        let ordered_branches = |conn: &mut DbConn, q: &SearchQuery<'_>| -> usize {
            let reach = name_reach(conn, q).unwrap();
            let mut n = 0;
            for branch in term_branches(q, true, &reach).unwrap() {
                let plan: Vec<(i32, i32, i32, String)> = Explain(branch).load(conn).unwrap();
                let steps: Vec<&str> = plan.iter().map(|(.., step)| step.as_str()).collect();
                if steps
                    .iter()
                    .any(|s| s.contains("first_name_key=? AND last_name_key=?"))
                {
                    n += 1;
                    assert!(
                        !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                        "{steps:#?}"
                    );
                    assert!(steps[0].contains("contacts_first_name_idx"), "{steps:#?}");
                }
            }
            n
        };
        assert_eq!(
            ordered_branches(&mut conn, &q),
            2,
            "anna weber and weber anna"
        );

        let longer_of = |conn: &mut DbConn, q: &SearchQuery<'_>| -> Vec<(String, LongerLast)> {
            let reach = name_reach(conn, q).unwrap();
            q.terms
                .iter()
                .zip(reach.longer_last)
                .filter_map(|(t, l)| match t {
                    Term::Name { first, last, .. } if l != LongerLast::No => {
                        Some((format!("{first} {last}"), l))
                    }
                    _ => None,
                })
                .collect()
        };

        // One longer last name among this project's Annas (a Webers of another first
        // name does not count): a whole name too, read in order.
        let webers = person(project, "Anna", "Webers", 33);
        let other_first = person(project, "Berta", "Weberling", 34);
        insert_many(&mut conn, customer, &[webers.clone(), other_first]).unwrap();
        assert_eq!(
            longer_of(&mut conn, &q),
            [("anna weber".to_string(), LongerLast::One("webers".into()))]
        );
        assert_eq!(ordered_branches(&mut conn, &q), 3);
        let mut matching = matching;
        matching.push(&webers);
        assert_eq!(walk(&mut conn), newest_first(&matching));
        // A last name being typed: `anna web` finds Weber and Webers, two names, a range.
        let typed = Filter {
            search: Some("anna web".into()),
            ..f.clone()
        };
        let typed_terms = search_terms(typed.search.as_deref());
        let typed_q = first_page(customer, &typed, &typed_terms);
        assert_eq!(
            longer_of(&mut conn, &typed_q),
            [("anna web".to_string(), LongerLast::Many)]
        );
        // Several longer last names: their range, still in order across pages.
        let weberling = person(project, "Anna", "Weberling", 35);
        insert_many(&mut conn, customer, std::slice::from_ref(&weberling)).unwrap();
        assert_eq!(
            longer_of(&mut conn, &q),
            [("anna weber".to_string(), LongerLast::Many)]
        );
        assert_eq!(ordered_branches(&mut conn, &q), 2);
        matching.push(&weberling);
        assert_eq!(walk(&mut conn), newest_first(&matching));
        drop(conn);
        std::fs::remove_dir_all(dir).ok();
    }

    /// A full name's longer first names are looked for only when some first name of the
    /// project extends the word: `anna weber` with no Annabel in the project has no
    /// such branch (it would find nothing, at a cost), and gains it, finding her, once
    /// she is added. Another project's Annabel changes nothing.
    #[test]
    fn a_full_names_longer_first_names_are_looked_for_only_when_they_exist() {
        let (dir, mut conn, customer, project, other) = two_projects("extended");
        let (anna, elsewhere) = (
            person(project, "Anna", "Weber", 1),
            person(other, "Annabel", "Weber", 2),
        );
        insert_many(&mut conn, customer, &[anna.clone(), elsewhere]).unwrap();
        let f = Filter {
            project_id: project,
            search: Some("anna weber".into()),
            ..Filter::default()
        };
        let terms = search_terms(f.search.as_deref());
        let q = first_page(customer, &f, &terms);
        // (anna, longer, weber) and (weber, longer, anna) are the ones tested.
        let longer: Vec<bool> = terms
            .iter()
            .map(|t| matches!(t, Term::Name { longer: true, .. }))
            .collect();
        assert_eq!(longer.iter().filter(|l| **l).count(), 2);
        let reach = name_reach(&mut conn, &q).unwrap();
        assert_eq!(
            reach.can_match,
            longer.iter().map(|l| !l).collect::<Vec<_>>()
        );
        assert!(
            reach.longer_last.iter().all(|l| *l == LongerLast::No),
            "{reach:?}"
        );
        let branches = term_branches(&q, true, &reach).unwrap().len();
        assert_eq!(branches, terms.len() - 2);
        let names = |conn: &mut DbConn| -> Vec<String> {
            let (page, _) = newest_first(conn, &SearchCounts::default(), customer, &f, None, 20);
            page.into_iter()
                .map(|c| c.first_name.unwrap_or_default())
                .collect()
        };
        assert_eq!(names(&mut conn), ["Anna"]);

        insert_many(
            &mut conn,
            customer,
            &[person(project, "Annabel", "Weber", 3)],
        )
        .unwrap();
        let can_match = name_reach(&mut conn, &q).unwrap().can_match;
        let extended: Vec<&Term> = terms
            .iter()
            .zip(&can_match)
            .filter(|(t, can)| **can && matches!(t, Term::Name { longer: true, .. }))
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            extended,
            [&Term::Name {
                first: "anna".into(),
                longer: true,
                last: "weber".into()
            }]
        );
        assert_eq!(names(&mut conn), ["Annabel", "Anna"]);
        drop(conn);
        std::fs::remove_dir_all(dir).ok();
    }

    /// The names a search of several words is tried as, in both orders and at every
    /// split; none for one word, a phone number or more than [`NAME_WORDS`] words.
    #[test]
    fn a_search_of_several_words_is_also_a_full_name() {
        fn names(search: &str) -> Vec<(String, bool, String)> {
            search_terms(Some(search))
                .into_iter()
                .filter_map(|t| match t {
                    Term::Name {
                        first,
                        longer,
                        last,
                    } => Some((first, longer, last)),
                    Term::Prefix(..) => None,
                })
                .collect()
        }
        let n = |first: &str, longer, last: &str| (first.to_string(), longer, last.to_string());
        assert_eq!(
            names("  Anna   WEB "),
            [
                n("anna", false, "web"),
                n("anna", true, "web"),
                n("web", false, "anna"),
                n("web", true, "anna"),
            ]
        );
        // The whole search stays a prefix of each name ("mary ann"); not of the email,
        // which has no white space. One word is a prefix of all three.
        let terms = search_terms(Some("Anna WEB"));
        for on in [SearchOn::FirstName, SearchOn::LastName] {
            assert!(
                terms.contains(&Term::Prefix(on, "anna web".into())),
                "{on:?}"
            );
        }
        assert!(!terms
            .iter()
            .any(|t| matches!(t, Term::Prefix(SearchOn::Email, _))));
        assert_eq!(
            search_terms(Some(" Anna.W ")),
            [
                Term::Prefix(SearchOn::Email, "anna.w".into()),
                Term::Prefix(SearchOn::FirstName, "anna.w".into()),
                Term::Prefix(SearchOn::LastName, "anna.w".into()),
            ]
        );
        let phone = search_terms(Some("+49 170 12"));
        assert!(!phone
            .iter()
            .any(|t| matches!(t, Term::Prefix(SearchOn::Email, _))));
        let three = names("mary ann smith");
        assert_eq!(three.len(), 8);
        assert!(three.contains(&n("mary ann", false, "smith")));
        assert!(three.contains(&n("mary", false, "ann smith")));
        assert!(three.contains(&n("smith", true, "mary ann")));
        assert!(three.contains(&n("ann smith", false, "mary")));
        assert_eq!(names("a b c d").len(), 12);
        assert!(names("a b c d e").is_empty());
        assert!(names("anna").is_empty());
        let phone = search_terms(Some("+49 170 12"));
        assert!(phone.contains(&Term::Prefix(SearchOn::Phone, "4917012".into())));
        assert!(names("+49 170 12").is_empty());
        assert!(search_terms(Some("   ")).is_empty());
    }
}
