-- Keys a customer locks so that no project or channel can override them (JSON array of
-- dotted keys).
ALTER TABLE customers ADD COLUMN settings_locks TEXT NOT NULL DEFAULT '[]';

CREATE INDEX projects_customer_idx ON projects (customer_id, created_at, id);
CREATE INDEX projects_billing_account_idx ON projects (billing_account_id);

-- Channels of a project: they inherit the project's settings and may override them.
CREATE TABLE channels (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'sms', 'chat', 'web', 'voice')),
    name TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX channels_project_idx ON channels (project_id, created_at, id);
CREATE INDEX customers_updated_idx ON customers (updated_at, id);
