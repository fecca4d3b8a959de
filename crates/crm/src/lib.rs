//! Clientele CRM: the contacts of each project and everything under them (companies,
//! addresses, notes, interactions, payment methods, orders).
//!
//! Every use case goes through [`scope`]: the project is found inside the caller's
//! tenant with the tenancy gate, so another tenant's contact is simply not found and a
//! suspended tenant cannot write. Each use case is one transaction that appends its
//! event.

pub mod companies;
pub mod contact_parts;
pub mod contacts;
pub mod idempotency;
pub mod scope;
