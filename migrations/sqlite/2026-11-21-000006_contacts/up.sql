-- Contacts: the customer records a tenant keeps inside a project, and what hangs under
-- them. Every row carries customer_id (the tenant key) and project_id.
--
-- Sort and search columns are NOT NULL ('' or 0 for "none") so that NULL ordering, which
-- differs between SQLite and PostgreSQL, never matters and keyset pagination is one
-- (key, id) comparison served by an index. *_key columns are lower-case; on PostgreSQL
-- they use the "C" collation so that a prefix is a byte range, as on SQLite.

CREATE TABLE companies (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    domain TEXT,
    tax_id TEXT,
    industry TEXT,
    size TEXT,
    parent_id TEXT REFERENCES companies (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX companies_project_idx ON companies (project_id, name_key, id);
CREATE INDEX companies_parent_idx ON companies (parent_id);
CREATE UNIQUE INDEX companies_domain_uq ON companies (project_id, domain) WHERE domain IS NOT NULL;

CREATE TABLE contacts (
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
CREATE UNIQUE INDEX contacts_email_uq ON contacts (project_id, email) WHERE email <> '';
CREATE INDEX contacts_created_idx ON contacts (project_id, created_at, id);
CREATE INDEX contacts_updated_idx ON contacts (project_id, updated_at, id);
CREATE INDEX contacts_last_name_idx ON contacts (project_id, last_name_key, id);
CREATE INDEX contacts_first_name_idx ON contacts (project_id, first_name_key, id);
CREATE INDEX contacts_email_idx ON contacts (project_id, email, id);
CREATE INDEX contacts_phone_idx ON contacts (project_id, phone_digits, id);
CREATE INDEX contacts_spent_idx ON contacts (project_id, total_spent, id);
CREATE INDEX contacts_last_order_idx ON contacts (project_id, last_order_key, id);
CREATE INDEX contacts_company_idx ON contacts (company_id);
-- Covers the tenant-wide counts: max_contacts and usage per project.
CREATE INDEX contacts_customer_idx ON contacts (customer_id, deleted_at, project_id);

-- One row per tag of a contact, so that a tag filter is an index lookup.
CREATE TABLE contact_tags (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, tag, contact_id)
);
CREATE INDEX contact_tags_contact_idx ON contact_tags (contact_id);

CREATE TABLE contact_addresses (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    address_type TEXT NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    is_verified BOOLEAN NOT NULL DEFAULT FALSE,
    address_line1 TEXT NOT NULL,
    address_line2 TEXT,
    city TEXT NOT NULL,
    state TEXT,
    postal_code TEXT,
    country TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX contact_addresses_contact_idx ON contact_addresses (contact_id, created_at, id);
-- At most one default per type: the database enforces what the use case maintains.
CREATE UNIQUE INDEX contact_addresses_default_uq ON contact_addresses (contact_id, address_type) WHERE is_default;

CREATE TABLE contact_notes (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    note TEXT NOT NULL,
    author TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX contact_notes_contact_idx ON contact_notes (contact_id, created_at, id);

CREATE TABLE contact_interactions (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    occurred_at TIMESTAMP NOT NULL,
    author TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX contact_interactions_contact_idx ON contact_interactions (contact_id, occurred_at, id);

CREATE TABLE contact_payment_methods (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    token TEXT NOT NULL,
    brand TEXT,
    last4 TEXT,
    exp_month INTEGER,
    exp_year INTEGER,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX contact_payment_methods_contact_idx ON contact_payment_methods (contact_id, created_at, id);
CREATE UNIQUE INDEX contact_payment_methods_token_uq ON contact_payment_methods (contact_id, provider, token);
-- At most one default payment method per contact, like addresses per type.
CREATE UNIQUE INDEX contact_payment_methods_default_uq ON contact_payment_methods (contact_id) WHERE is_default;

-- Orders recorded into a contact's statistics; order_id is unique in the project, so a
-- repeated order changes nothing.
CREATE TABLE contact_orders (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    order_id TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    ordered_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, order_id)
);
CREATE INDEX contact_orders_contact_idx ON contact_orders (contact_id, ordered_at);

-- Idempotency-Key of creating POSTs: the first request's fingerprint and outcome, kept
-- in the creating transaction so that a retry can never create twice.
CREATE TABLE idempotency_keys (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    request_path TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_id, idempotency_key)
);
