//! Authentication services: password hashing, access tokens, opaque secrets.

pub mod password;
pub mod secrets;
pub mod states;
pub mod tokens;

pub use password::{PasswordConfig, Passwords};
pub use states::AuthStates;
pub use tokens::{AccessClaims, KeyConfig, TokenConfig, Tokens};
