//! People who log in, and the default structure sign-up creates for them.

use uuid::Uuid;

use crate::access::CustomerRole;
use crate::email::Email;
use crate::error::FieldError;
use crate::time::{now, Timestamp};

/// A user's place on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    PlatformAdmin,
    Customer(CustomerRole),
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::PlatformAdmin => "platform_admin",
            UserRole::Customer(r) => r.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<UserRole> {
        if s == "platform_admin" {
            Some(UserRole::PlatformAdmin)
        } else {
            CustomerRole::parse(s).map(UserRole::Customer)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    /// `None` for platform admins.
    pub customer_id: Option<Uuid>,
    pub email: Email,
    pub name: Option<String>,
    pub password_hash: String,
    pub role: UserRole,
    /// Bumped by a password change, a role change or "log out everywhere".
    pub token_version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl User {
    pub fn new(
        customer_id: Option<Uuid>,
        email: Email,
        name: Option<String>,
        password_hash: String,
        role: UserRole,
    ) -> User {
        let at = now();
        User {
            id: crate::new_id(),
            customer_id,
            email,
            name,
            password_hash,
            role,
            token_version: 1,
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }
}

/// An optional display name for a person.
pub fn parse_person_name(raw: Option<&str>, field: &str) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(name) => crate::customer::parse_name(name, field).map(Some),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BillingAccount {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub name: String,
    pub billing_email: Email,
    pub currency: String,
    pub billing_cycle: String,
    pub status: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl BillingAccount {
    /// The account sign-up creates: monthly, in the platform's default currency.
    pub fn default_for(customer_id: Uuid, billing_email: Email, currency: &str) -> BillingAccount {
        let at = now();
        BillingAccount {
            id: crate::new_id(),
            customer_id,
            name: "Default".into(),
            billing_email,
            currency: currency.to_string(),
            billing_cycle: "monthly".into(),
            status: "active".into(),
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub billing_account_id: Uuid,
    pub slug: String,
    pub name: String,
    pub status: String,
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl Project {
    /// The project sign-up creates.
    pub fn default_for(customer_id: Uuid, billing_account_id: Uuid) -> Project {
        let at = now();
        Project {
            id: crate::new_id(),
            customer_id,
            billing_account_id,
            slug: "default".into(),
            name: "Default".into(),
            status: "active".into(),
            settings: serde_json::Map::new(),
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }
}
