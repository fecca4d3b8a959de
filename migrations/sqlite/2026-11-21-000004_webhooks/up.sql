-- Webhooks of a customer and their delivery log.
--
-- `secret` is the signing key (`whsec_<base64>`). Unlike API keys it cannot be stored
-- hashed: the worker needs the key itself to compute each HMAC signature. It is shown
-- once, in the creation response, and never returned by the API afterwards.
-- (cursor_tx, cursor_seq) is the feed position of the last event this webhook is done
-- with (delivered, or failed after every attempt); delivery resumes after it.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL DEFAULT '[]',
    secret TEXT NOT NULL,
    description TEXT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    cursor_tx BIGINT NOT NULL DEFAULT 0,
    cursor_seq BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX webhooks_customer_idx ON webhooks (customer_id, created_at, id);
-- The worker's scan: enabled webhooks.
CREATE INDEX webhooks_enabled_idx ON webhooks (enabled, customer_id);

-- One row per (webhook, event): retries update it, a replay sets it pending again.
-- `last_error` is a short description (status line, timeout, refused target), never a
-- secret or a response body.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_tx BIGINT NOT NULL,
    event_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE UNIQUE INDEX webhook_deliveries_event_key ON webhook_deliveries (webhook_id, event_id);
-- The delivery log, newest event first.
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, event_tx, event_seq);
-- The worker's queue: pending deliveries of a webhook in feed order.
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (webhook_id, status, event_tx, event_seq);
