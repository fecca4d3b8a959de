-- A get by id read the id's index, then the table by the rowid it found: two b-tree
-- descents, and on a large table two leaf pages from the OS's cache. The table is now
-- keyed by the id itself, folded into 63 bits (`contacts::row_key` in the persistence
-- crate): the 48-bit millisecond of a version 7 id, then the low 15 bits of its
-- counter. A get reads the table alone, by that key, and keys grow with time, so new
-- contacts are still appended. Two ids may fold alike (made in the same millisecond by
-- two processes): the later one is stored under a key SQLite picks, and a get that
-- misses by the key looks again by the id's index, which stays (the foreign keys of
-- tags, addresses and notes point at it).
-- An INTEGER PRIMARY KEY: VACUUM keeps it, where it may renumber a plain rowid.
-- SQLite cannot change a table's key, so the table is rebuilt as in migration 000009.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE contacts_rebuilt (
    -- The contact's id folded into 63 bits (`contacts::row_key`): the table's own key.
    row_key INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
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
-- The same fold in SQL, hex digit by digit: 1-8 and 10-13 are the millisecond, 25 (its
-- low 3 bits) to 28 the counter's low 15 bits.
INSERT OR IGNORE INTO contacts_rebuilt (row_key, id, customer_id, project_id, kind, first_name, last_name, display_name, email, phone, first_name_key, last_name_key, phone_digits, stage, status, tier, customer_type, source, assigned_to, tags, marketing_opt_in, company_id, user_id, custom_attributes, total_orders, total_spent, average_order_value, lifetime_value, currency, first_order_at, last_order_at, last_order_key, created_at, updated_at, churned_at, deleted_at, version)
SELECT
    ((instr('0123456789abcdef', substr(lower(id), 1, 1)) - 1) << 59) |
    ((instr('0123456789abcdef', substr(lower(id), 2, 1)) - 1) << 55) |
    ((instr('0123456789abcdef', substr(lower(id), 3, 1)) - 1) << 51) |
    ((instr('0123456789abcdef', substr(lower(id), 4, 1)) - 1) << 47) |
    ((instr('0123456789abcdef', substr(lower(id), 5, 1)) - 1) << 43) |
    ((instr('0123456789abcdef', substr(lower(id), 6, 1)) - 1) << 39) |
    ((instr('0123456789abcdef', substr(lower(id), 7, 1)) - 1) << 35) |
    ((instr('0123456789abcdef', substr(lower(id), 8, 1)) - 1) << 31) |
    ((instr('0123456789abcdef', substr(lower(id), 10, 1)) - 1) << 27) |
    ((instr('0123456789abcdef', substr(lower(id), 11, 1)) - 1) << 23) |
    ((instr('0123456789abcdef', substr(lower(id), 12, 1)) - 1) << 19) |
    ((instr('0123456789abcdef', substr(lower(id), 13, 1)) - 1) << 15) |
    (((instr('0123456789abcdef', substr(lower(id), 25, 1)) - 1) & 7) << 12) |
    ((instr('0123456789abcdef', substr(lower(id), 26, 1)) - 1) << 8) |
    ((instr('0123456789abcdef', substr(lower(id), 27, 1)) - 1) << 4) |
    (instr('0123456789abcdef', substr(lower(id), 28, 1)) - 1),
    id, customer_id, project_id, kind, first_name, last_name, display_name, email, phone, first_name_key, last_name_key, phone_digits, stage, status, tier, customer_type, source, assigned_to, tags, marketing_opt_in, company_id, user_id, custom_attributes, total_orders, total_spent, average_order_value, lifetime_value, currency, first_order_at, last_order_at, last_order_key, created_at, updated_at, churned_at, deleted_at, version
FROM contacts;
-- Ids that fold alike: SQLite picks the key (the IGNORE above skips nothing else: the
-- old table held every other constraint).
INSERT INTO contacts_rebuilt (id, customer_id, project_id, kind, first_name, last_name, display_name, email, phone, first_name_key, last_name_key, phone_digits, stage, status, tier, customer_type, source, assigned_to, tags, marketing_opt_in, company_id, user_id, custom_attributes, total_orders, total_spent, average_order_value, lifetime_value, currency, first_order_at, last_order_at, last_order_key, created_at, updated_at, churned_at, deleted_at, version)
SELECT id, customer_id, project_id, kind, first_name, last_name, display_name, email, phone, first_name_key, last_name_key, phone_digits, stage, status, tier, customer_type, source, assigned_to, tags, marketing_opt_in, company_id, user_id, custom_attributes, total_orders, total_spent, average_order_value, lifetime_value, currency, first_order_at, last_order_at, last_order_key, created_at, updated_at, churned_at, deleted_at, version FROM contacts WHERE id NOT IN (SELECT id FROM contacts_rebuilt);
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
