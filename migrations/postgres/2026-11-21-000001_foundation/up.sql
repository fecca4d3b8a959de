-- Tenant accounts (seed: Customer Aggregate). Same shape as the SQLite migration:
-- ids as TEXT (UUID v7), JSON as TEXT, timestamps UTC without zone.
CREATE TABLE customers (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'inactive')),
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    status_changed_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX customers_email_key ON customers (email);
CREATE INDEX customers_status_created_idx ON customers (status, created_at, id);
CREATE INDEX customers_created_idx ON customers (created_at, id);

-- The outbox and audit trail. Sequence values become visible in commit order, not in
-- allocation order, so each row also records the id of the transaction that wrote it:
-- readers only return rows older than every transaction still running
-- (pg_snapshot_xmin), which makes a resumed cursor never skip a late commit.
CREATE TABLE events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tx_id BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_type TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    project_id TEXT,
    subject_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    actor TEXT,
    request_id TEXT,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX events_customer_seq_idx ON events (customer_id, tx_id, seq);
CREATE INDEX events_feed_idx ON events (tx_id, seq);
CREATE INDEX events_subject_idx ON events (subject_id, seq);
