pub mod auth;
pub mod customers;
pub mod docs;
pub mod ops;
