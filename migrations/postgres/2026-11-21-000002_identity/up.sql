-- Billing accounts and projects: sign-up creates a default of each. Their full routes
-- arrive with the tenant hierarchy; the shape is final here.
CREATE TABLE billing_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    billing_email TEXT NOT NULL,
    currency TEXT NOT NULL,
    billing_cycle TEXT NOT NULL CHECK (billing_cycle IN ('monthly', 'yearly')),
    status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX billing_accounts_customer_idx ON billing_accounts (customer_id, created_at, id);

CREATE TABLE projects (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    billing_account_id TEXT NOT NULL REFERENCES billing_accounts (id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX projects_customer_slug_key ON projects (customer_id, slug);

-- People who log in. customer_id is NULL for platform admins. Email is unique across
-- the platform (stored lower-case) because it is the login name.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT REFERENCES customers (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('platform_admin', 'owner', 'admin', 'billing', 'member')),
    token_version BIGINT NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    CHECK ((customer_id IS NULL) = (role = 'platform_admin'))
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_customer_idx ON users (customer_id, created_at, id);

CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('project_admin', 'agent', 'viewer')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user_idx ON project_members (user_id);

-- Rotating refresh tokens, stored as SHA-256 hashes. A family is one login; reusing a
-- spent token revokes the whole family.
CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Machine credentials, stored as SHA-256 hashes; shown once at creation.
-- customer_id NULL: a platform key (e.g. billing:read for the billing system).
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT REFERENCES customers (id) ON DELETE CASCADE,
    project_id TEXT REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_customer_idx ON api_keys (customer_id, created_at, id);
