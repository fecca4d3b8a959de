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

/// Whether `actor` (`None`: a platform admin) may change a member whose role is
/// `current` to `new` (`None`: remove the member), given how many owners there are.
///
/// Owners are made, changed and removed only by owners, so an admin cannot take over
/// the account; and a customer always keeps one owner, so it cannot lock itself out.
pub fn check_role_change(
    actor: Option<CustomerRole>,
    current: CustomerRole,
    new: Option<CustomerRole>,
    owners: i64,
) -> crate::Result<()> {
    use crate::access::forbidden;
    if let Some(actor) = actor {
        if !actor.manages_customer() {
            return Err(forbidden(format!(
                "the {} role cannot manage members; owner or admin is required",
                actor.as_str()
            )));
        }
        let touches_owner = current == CustomerRole::Owner || new == Some(CustomerRole::Owner);
        if touches_owner && actor != CustomerRole::Owner {
            return Err(forbidden("only owners can make, change or remove owners"));
        }
    }
    if current == CustomerRole::Owner && new != Some(CustomerRole::Owner) && owners <= 1 {
        return Err(crate::Error::Conflict {
            code: "last_owner",
            detail: "a customer must keep at least one owner; make someone else owner first".into(),
            field: Some("role".into()),
        });
    }
    Ok(())
}

impl User {
    /// Refuses a stale `If-Match`.
    pub fn check_version(&self, expected: Option<i64>) -> crate::Result<()> {
        crate::hierarchy::check_version("member", self.version, expected)
    }

    /// Records a change; `revokes_tokens` for a new role or password, so that tokens
    /// issued before it stop working.
    pub fn touch(&mut self, revokes_tokens: bool) {
        crate::hierarchy::touch(&mut self.updated_at, &mut self.version);
        if revokes_tokens {
            self.token_version += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use CustomerRole::*;

    fn code(r: crate::Result<()>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(Error::Forbidden { .. }) => "forbidden",
            Err(Error::Conflict { code, .. }) => code,
            Err(_) => "other",
        }
    }

    #[test]
    fn role_changes() {
        let cases = [
            (Some(Owner), Member, Some(Admin), 1, "ok"),
            (Some(Admin), Member, Some(Billing), 1, "ok"),
            (Some(Admin), Member, Some(Owner), 1, "forbidden"),
            (Some(Admin), Owner, Some(Member), 2, "forbidden"),
            (Some(Admin), Owner, None, 2, "forbidden"),
            (Some(Admin), Member, None, 1, "ok"),
            (Some(Member), Member, Some(Admin), 1, "forbidden"),
            (Some(Owner), Owner, Some(Admin), 1, "last_owner"),
            (Some(Owner), Owner, None, 1, "last_owner"),
            (Some(Owner), Owner, Some(Admin), 2, "ok"),
            (Some(Owner), Owner, Some(Owner), 1, "ok"),
            (None, Owner, None, 1, "last_owner"),
            (None, Owner, None, 2, "ok"),
            (None, Member, Some(Owner), 1, "ok"),
        ];
        for (i, (actor, current, new, owners, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                code(check_role_change(actor, current, new, owners)),
                want,
                "case {i}"
            );
        }
    }

    #[test]
    fn touch_bumps_token_version_only_when_asked() {
        let mut u = User::new(
            None,
            Email::parse("a@example.com", "email").unwrap(),
            None,
            "h".into(),
            UserRole::PlatformAdmin,
        );
        u.touch(false);
        assert_eq!((u.version, u.token_version), (2, 1));
        u.touch(true);
        assert_eq!((u.version, u.token_version), (3, 2));
        assert!(u.check_version(Some(3)).is_ok());
        assert!(matches!(
            u.check_version(Some(2)),
            Err(Error::PreconditionFailed { .. })
        ));
    }
}
