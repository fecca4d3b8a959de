-- Back to the single-column keys and the triggers of migration 000008.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE contacts_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
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
    version BIGINT NOT NULL DEFAULT 1
);
INSERT INTO contacts_rebuilt SELECT * FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_rebuilt RENAME TO contacts;
CREATE UNIQUE INDEX contacts_email_uq ON contacts (project_id, email) WHERE email <> '';
CREATE INDEX contacts_created_idx ON contacts (project_id, created_at, id);
CREATE INDEX contacts_updated_idx ON contacts (project_id, updated_at, id);
CREATE INDEX contacts_last_name_idx ON contacts (project_id, last_name_key, id, created_at, deleted_at);
CREATE INDEX contacts_first_name_idx ON contacts (project_id, first_name_key, id, created_at, deleted_at);
CREATE INDEX contacts_email_idx ON contacts (project_id, email, id, created_at, deleted_at);
CREATE INDEX contacts_phone_idx ON contacts (project_id, phone_digits, id, created_at, deleted_at);
CREATE INDEX contacts_spent_idx ON contacts (project_id, total_spent, id);
CREATE INDEX contacts_last_order_idx ON contacts (project_id, last_order_key, id);
CREATE INDEX contacts_company_idx ON contacts (company_id);
CREATE INDEX contacts_customer_idx ON contacts (customer_id, deleted_at, project_id);
DROP INDEX projects_id_customer_key;
CREATE TRIGGER contacts_customer_of_project_insert
BEFORE INSERT ON contacts
WHEN NEW.customer_id IS NOT (SELECT customer_id FROM projects WHERE id = NEW.project_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a contact''s customer is its project''s');
END;

CREATE TRIGGER contacts_customer_of_project_update
BEFORE UPDATE OF project_id, customer_id ON contacts
WHEN NEW.customer_id IS NOT (SELECT customer_id FROM projects WHERE id = NEW.project_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a contact''s customer is its project''s');
END;
COMMIT;
PRAGMA foreign_keys = ON;
