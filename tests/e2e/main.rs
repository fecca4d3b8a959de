//! End-to-end tests: HTTP against a real server on port 0, on SQLite by default and on
//! PostgreSQL when CLIENTELE_TEST_DATABASE_URL is set.

mod auth;
mod contact_parts;
mod contacts;
mod customers;
mod events;
mod hierarchy;
mod members;
mod openapi;
mod platform;
mod security;
mod support;
mod webhooks;
