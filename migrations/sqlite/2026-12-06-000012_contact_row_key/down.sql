-- Back to the table keyed by a plain rowid, with the id as its primary key.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE contacts_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    display_name TEXT NOT NULL,
    -- Lower-case; '' when the contact has no email (unique only when set).
    email TEXT NOT NULL DEFAULT '',
    phone TEXT,
    first_name_key TEXT NOT NULL DEFAULT '',
    last_name_key TEXT NOT NULL DEFAULT '',
    -- The E.164 number without '+', for prefix search by digits.
    phone_digits TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    tier TEXT NOT NULL,
    customer_type TEXT NOT NULL,
    source TEXT,
    assigned_to TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    marketing_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
    company_id TEXT REFERENCES companies (id),
    user_id TEXT,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    total_orders BIGINT NOT NULL DEFAULT 0,
    total_spent BIGINT NOT NULL DEFAULT 0,
    average_order_value BIGINT NOT NULL DEFAULT 0,
    lifetime_value BIGINT NOT NULL DEFAULT 0,
    currency TEXT,
    first_order_at TIMESTAMP,
    last_order_at TIMESTAMP,
    -- last_order_at as microseconds since the epoch, 0 before the first order (sort key).
    last_order_key BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    churned_at TIMESTAMP,
    deleted_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    FOREIGN KEY (project_id, customer_id) REFERENCES projects (id, customer_id) ON DELETE CASCADE
);
INSERT INTO contacts_rebuilt (id, customer_id, project_id, kind, first_name, last_name, display_name, email, phone, first_name_key, last_name_key, phone_digits, stage, status, tier, customer_type, source, assigned_to, tags, marketing_opt_in, company_id, user_id, custom_attributes, total_orders, total_spent, average_order_value, lifetime_value, currency, first_order_at, last_order_at, last_order_key, created_at, updated_at, churned_at, deleted_at, version) SELECT id, customer_id, project_id, kind, first_name, last_name, display_name, email, phone, first_name_key, last_name_key, phone_digits, stage, status, tier, customer_type, source, assigned_to, tags, marketing_opt_in, company_id, user_id, custom_attributes, total_orders, total_spent, average_order_value, lifetime_value, currency, first_order_at, last_order_at, last_order_key, created_at, updated_at, churned_at, deleted_at, version FROM contacts ORDER BY row_key;
DROP TABLE contacts;
ALTER TABLE contacts_rebuilt RENAME TO contacts;
-- Every contact's customer is still its project's (fails the migration otherwise).
CREATE TEMP TABLE contacts_key_check (
    violations INTEGER CONSTRAINT every_contact_has_its_projects_customer CHECK (violations = 0)
);
INSERT INTO contacts_key_check SELECT count(*) FROM pragma_foreign_key_check('contacts');
DROP TABLE contacts_key_check;
CREATE UNIQUE INDEX contacts_email_uq ON contacts (project_id, email) WHERE email <> '';
CREATE INDEX contacts_created_idx ON contacts (project_id, created_at, id, email, first_name_key, last_name_key, phone_digits, deleted_at);
CREATE INDEX contacts_updated_idx ON contacts (project_id, updated_at, id);
CREATE INDEX contacts_last_name_idx ON contacts (project_id, last_name_key, id, created_at, deleted_at);
CREATE INDEX contacts_first_name_idx ON contacts (project_id, first_name_key, last_name_key, id, created_at, deleted_at);
CREATE INDEX contacts_email_idx ON contacts (project_id, email, id, created_at, deleted_at);
CREATE INDEX contacts_phone_idx ON contacts (project_id, phone_digits, id, created_at, deleted_at);
CREATE INDEX contacts_spent_idx ON contacts (project_id, total_spent, id);
CREATE INDEX contacts_last_order_idx ON contacts (project_id, last_order_key, id);
CREATE INDEX contacts_company_idx ON contacts (company_id);
CREATE INDEX contacts_customer_idx ON contacts (customer_id, deleted_at, project_id);
COMMIT;
PRAGMA foreign_keys = ON;
