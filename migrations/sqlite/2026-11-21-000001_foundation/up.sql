-- Tenant accounts (seed: Customer Aggregate). Ids are UUID v7 text, JSON is text,
-- timestamps are UTC, email is stored lower-case so the unique index is case-insensitive.
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

-- The outbox and audit trail. `seq` orders the feed; on SQLite a single writer commits
-- in seq order, so `tx_id` stays 0 (PostgreSQL fills it, see the postgres migration).
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tx_id BIGINT NOT NULL DEFAULT 0,
    event_type TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    project_id TEXT,
    subject_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    actor TEXT,
    request_id TEXT,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX events_customer_seq_idx ON events (customer_id, seq);
CREATE INDEX events_subject_idx ON events (subject_id, seq);
