//! Who is calling and what they may do: roles, principals and the rules of tenancy.
//!
//! Every use case asks these functions; no handler decides access on its own. Another
//! tenant's object is reported as missing (404), a role that is too weak as forbidden
//! (403), and a suspended or closed tenant as such, with its own problem type.

use uuid::Uuid;

use crate::customer::CustomerStatus;
use crate::error::{Error, Result};

text_enum! {
    /// A person's role in a customer. Declared weakest first: `>=` compares privilege.
    #[derive(PartialOrd, Ord)]
    pub enum CustomerRole {
        Member = "member",
        Billing = "billing",
        Admin = "admin",
        Owner = "owner",
    }
}

impl CustomerRole {
    /// Owners and admins manage the customer, its settings and its people.
    pub fn manages_customer(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

text_enum! {
    /// A person's role in one project, weakest first.
    #[derive(PartialOrd, Ord)]
    pub enum ProjectRole {
        Viewer = "viewer",
        Agent = "agent",
        ProjectAdmin = "project_admin",
    }
}

text_enum! {
    /// API key scopes.
    pub enum Scope {
        /// Platform-wide read of tenant status and usage (the billing system).
        BillingRead = "billing:read",
        ContactsRead = "contacts:read",
        ContactsWrite = "contacts:write",
    }
}

impl Scope {
    /// Platform scopes belong to keys without a customer; the others to a customer's key.
    pub fn is_platform(self) -> bool {
        matches!(self, Self::BillingRead)
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    PlatformAdmin {
        user_id: Uuid,
    },
    Member {
        user_id: Uuid,
        customer_id: Uuid,
        role: CustomerRole,
        /// The tenant's status when the request started: it decides read-only mode.
        tenant_status: CustomerStatus,
    },
    ApiKey {
        key_id: Uuid,
        /// `None` for platform keys.
        customer_id: Option<Uuid>,
        project_id: Option<Uuid>,
        scopes: Vec<Scope>,
        tenant_status: Option<CustomerStatus>,
    },
}

impl Principal {
    /// How the caller is recorded on events.
    pub fn actor(&self) -> String {
        match self {
            Principal::PlatformAdmin { user_id } => format!("platform_admin:{user_id}"),
            Principal::Member { user_id, .. } => format!("user:{user_id}"),
            Principal::ApiKey { key_id, .. } => format!("api_key:{key_id}"),
        }
    }

    pub fn is_platform_admin(&self) -> bool {
        matches!(self, Principal::PlatformAdmin { .. })
    }

    /// The signed-in person, or 403 naming `what` for API keys (machines have no user).
    pub fn person(&self, what: &str) -> Result<Uuid> {
        match self {
            Principal::PlatformAdmin { user_id } | Principal::Member { user_id, .. } => {
                Ok(*user_id)
            }
            Principal::ApiKey { .. } => Err(forbidden(format!("{what}: API keys are not people"))),
        }
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        matches!(self, Principal::ApiKey { scopes, .. } if scopes.contains(&scope))
    }

    fn tenant_status(&self) -> Option<CustomerStatus> {
        match self {
            Principal::PlatformAdmin { .. } => None,
            Principal::Member { tenant_status, .. } => Some(*tenant_status),
            Principal::ApiKey { tenant_status, .. } => *tenant_status,
        }
    }
}

/// The caller of a use case: who, and under which request (for the audit trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn audit(&self) -> crate::Audit {
        crate::Audit {
            actor: Some(self.principal.actor()),
            request_id: self.request_id.clone(),
        }
    }
}

/// What a request wants to do with a tenant's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Read,
    Write,
}

pub fn forbidden(detail: impl Into<String>) -> Error {
    Error::Forbidden {
        code: "forbidden",
        detail: detail.into(),
    }
}

/// Refuses a tenant's own caller while its tenant is closed, and writes while suspended.
pub fn check_tenant_mode(principal: &Principal, intent: Intent) -> Result<()> {
    match principal.tenant_status() {
        Some(CustomerStatus::Inactive) => Err(Error::Forbidden {
            code: "tenant_inactive",
            detail: "this customer account is closed; its members and keys have no access".into(),
        }),
        Some(CustomerStatus::Suspended) if intent == Intent::Write => Err(Error::Forbidden {
            code: "tenant_suspended",
            detail:
                "this customer account is suspended: its data is read-only until it is reactivated"
                    .into(),
        }),
        _ => Ok(()),
    }
}

/// Access to one customer record (`/customers/{id}` and its settings).
///
/// Platform admins: everything. `billing:read` keys: read. Members of that customer:
/// everyone reads; owners and admins write. Anyone else: not found.
pub fn customer_access(principal: &Principal, customer_id: Uuid, intent: Intent) -> Result<()> {
    match principal {
        Principal::PlatformAdmin { .. } => Ok(()),
        Principal::ApiKey {
            customer_id: None, ..
        } if principal.has_scope(Scope::BillingRead) => match intent {
            Intent::Read => Ok(()),
            Intent::Write => Err(forbidden("billing keys are read-only")),
        },
        Principal::Member {
            customer_id: own,
            role,
            ..
        } if *own == customer_id => {
            check_tenant_mode(principal, intent)?;
            if intent == Intent::Write && !role.manages_customer() {
                return Err(forbidden(format!(
                    "the {} role cannot change the customer; owner or admin is required",
                    role.as_str()
                )));
            }
            Ok(())
        }
        Principal::ApiKey {
            customer_id: Some(own),
            ..
        } if *own == customer_id => {
            check_tenant_mode(principal, intent)?;
            Err(forbidden("API keys cannot manage the customer account"))
        }
        _ => Err(Error::not_found("customer")),
    }
}

/// Platform-level operations: create and list customers, change a customer's status.
pub fn require_platform_admin(principal: &Principal, what: &str) -> Result<()> {
    if principal.is_platform_admin() {
        Ok(())
    } else {
        Err(forbidden(format!("only platform admins can {what}")))
    }
}

/// People management of a customer (`/customers/{id}/members`, its API keys).
///
/// Like [`customer_access`], except that API keys never see or manage people or keys:
/// a person's list carries emails, and a key that could mint keys would outlive its
/// revocation.
pub fn people_access(principal: &Principal, customer_id: Uuid, intent: Intent) -> Result<()> {
    match principal {
        Principal::ApiKey {
            customer_id: Some(own),
            ..
        } if *own != customer_id => Err(Error::not_found("customer")),
        Principal::ApiKey { .. } => {
            check_tenant_mode(principal, intent)?;
            Err(forbidden("API keys cannot read or manage people and keys"))
        }
        // Every member sees who their colleagues are; owners and admins manage them.
        _ => customer_access(principal, customer_id, intent),
    }
}

/// A customer's API keys: owners, admins and platform admins only, even to list them.
pub fn key_access(principal: &Principal, customer_id: Uuid, intent: Intent) -> Result<()> {
    people_access(principal, customer_id, intent)?;
    match principal.customer_role() {
        Some(role) if !role.manages_customer() => Err(forbidden(format!(
            "the {} role cannot see or manage API keys; owner or admin is required",
            role.as_str()
        ))),
        _ => Ok(()),
    }
}

/// What a caller wants to do inside one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectNeed {
    /// See the project, its channels, settings and members.
    Read,
    /// Change the project, its settings, channels and project roles.
    Manage,
    ContactsRead,
    ContactsWrite,
}

impl ProjectNeed {
    fn intent(self) -> Intent {
        match self {
            Self::Read | Self::ContactsRead => Intent::Read,
            Self::Manage | Self::ContactsWrite => Intent::Write,
        }
    }

    /// The weakest project role that may do this.
    fn min_role(self) -> ProjectRole {
        match self {
            Self::Read | Self::ContactsRead => ProjectRole::Viewer,
            Self::ContactsWrite => ProjectRole::Agent,
            Self::Manage => ProjectRole::ProjectAdmin,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read this project",
            Self::Manage => "manage this project",
            Self::ContactsRead => "read contacts",
            Self::ContactsWrite => "change contacts",
        }
    }
}

/// Access to one project of `customer_id`.
///
/// Platform admins: everything. Billing keys: read. Owners and admins of the customer:
/// everything. Billing members: read. Other members: what their project role allows
/// (viewer reads, agent also writes contacts, project_admin manages). A customer's key:
/// the contacts scopes it holds, on its project only. Anyone else: not found.
pub fn project_access(
    principal: &Principal,
    customer_id: Uuid,
    project_id: Uuid,
    project_role: Option<ProjectRole>,
    need: ProjectNeed,
) -> Result<()> {
    match principal {
        Principal::PlatformAdmin { .. } => Ok(()),
        Principal::ApiKey {
            customer_id: None, ..
        } if principal.has_scope(Scope::BillingRead) => match need {
            ProjectNeed::Read => Ok(()),
            _ => Err(forbidden(format!("billing keys cannot {}", need.as_str()))),
        },
        Principal::Member {
            customer_id: own,
            role,
            ..
        } if *own == customer_id => {
            check_tenant_mode(principal, need.intent())?;
            if role.manages_customer()
                || (*role == CustomerRole::Billing && need == ProjectNeed::Read)
            {
                return Ok(());
            }
            match project_role {
                Some(r) if r >= need.min_role() => Ok(()),
                Some(r) => Err(forbidden(format!(
                    "the {} project role cannot {}; {} is required",
                    r.as_str(),
                    need.as_str(),
                    need.min_role().as_str()
                ))),
                None => Err(forbidden(format!(
                    "no role in this project: cannot {}",
                    need.as_str()
                ))),
            }
        }
        Principal::ApiKey {
            customer_id: Some(own),
            project_id: key_project,
            ..
        } if *own == customer_id && key_project.is_none_or(|p| p == project_id) => {
            check_tenant_mode(principal, need.intent())?;
            let allowed = match need {
                ProjectNeed::Read | ProjectNeed::ContactsRead => {
                    principal.has_scope(Scope::ContactsRead)
                        || principal.has_scope(Scope::ContactsWrite)
                }
                ProjectNeed::ContactsWrite => principal.has_scope(Scope::ContactsWrite),
                ProjectNeed::Manage => false,
            };
            if allowed {
                Ok(())
            } else {
                Err(forbidden(format!(
                    "this API key's scopes do not allow it to {}",
                    need.as_str()
                )))
            }
        }
        _ => Err(Error::not_found("project")),
    }
}

/// Billing accounts and usage of a customer: platform admins; billing keys read; the
/// customer's owners, admins and billing members read and manage them.
pub fn billing_access(principal: &Principal, customer_id: Uuid, intent: Intent) -> Result<()> {
    match principal {
        Principal::Member {
            customer_id: own,
            role,
            ..
        } if *own == customer_id => {
            check_tenant_mode(principal, intent)?;
            if *role == CustomerRole::Member {
                return Err(forbidden(
                    "the member role cannot see billing; owner, admin or billing is required",
                ));
            }
            Ok(())
        }
        _ => customer_access(principal, customer_id, intent),
    }
}

/// The event feed (the audit log): every tenant for platform admins and billing keys,
/// the own tenant for its owners and admins. Returns the tenant to filter by.
pub fn feed_access(principal: &Principal, requested: Option<Uuid>) -> Result<Option<Uuid>> {
    match principal {
        Principal::PlatformAdmin { .. } => Ok(requested),
        Principal::ApiKey {
            customer_id: None, ..
        } if principal.has_scope(Scope::BillingRead) => Ok(requested),
        Principal::Member {
            customer_id, role, ..
        } => {
            if requested.is_some_and(|r| r != *customer_id) {
                return Err(Error::not_found("customer"));
            }
            if !role.manages_customer() {
                return Err(forbidden(format!(
                    "the {} role cannot read the event log; owner or admin is required",
                    role.as_str()
                )));
            }
            Ok(Some(*customer_id))
        }
        Principal::ApiKey { .. } => Err(forbidden("this API key cannot read the event log")),
    }
}

impl Principal {
    /// The only tenant whose data this caller may see; `None` for platform-wide callers.
    /// Repositories filter by it, so another tenant's row is simply not found.
    pub fn tenant(&self) -> Option<Uuid> {
        match self {
            Principal::PlatformAdmin { .. } => None,
            Principal::Member { customer_id, .. } => Some(*customer_id),
            Principal::ApiKey { customer_id, .. } => *customer_id,
        }
    }

    /// The customer role of a member; `None` for everyone else.
    pub fn customer_role(&self) -> Option<CustomerRole> {
        match self {
            Principal::Member { role, .. } => Some(*role),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(customer: Uuid, role: CustomerRole, status: CustomerStatus) -> Principal {
        Principal::Member {
            user_id: Uuid::now_v7(),
            customer_id: customer,
            role,
            tenant_status: status,
        }
    }

    fn code(r: Result<()>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(Error::NotFound { .. }) => "404",
            Err(Error::Forbidden { code, .. }) => code,
            Err(_) => "other",
        }
    }

    #[test]
    fn customer_access_table() {
        let own = Uuid::now_v7();
        let other = Uuid::now_v7();
        let active = CustomerStatus::Active;
        let billing_key = Principal::ApiKey {
            key_id: Uuid::now_v7(),
            customer_id: None,
            project_id: None,
            scopes: vec![Scope::BillingRead],
            tenant_status: None,
        };
        let admin = Principal::PlatformAdmin {
            user_id: Uuid::now_v7(),
        };
        let cases = [
            (admin.clone(), own, Intent::Write, "ok"),
            (billing_key.clone(), own, Intent::Read, "ok"),
            (billing_key, own, Intent::Write, "forbidden"),
            (
                member(own, CustomerRole::Owner, active),
                own,
                Intent::Write,
                "ok",
            ),
            (
                member(own, CustomerRole::Admin, active),
                own,
                Intent::Write,
                "ok",
            ),
            (
                member(own, CustomerRole::Member, active),
                own,
                Intent::Read,
                "ok",
            ),
            (
                member(own, CustomerRole::Member, active),
                own,
                Intent::Write,
                "forbidden",
            ),
            (
                member(own, CustomerRole::Billing, active),
                own,
                Intent::Write,
                "forbidden",
            ),
            (
                member(own, CustomerRole::Owner, active),
                other,
                Intent::Read,
                "404",
            ),
            (
                member(own, CustomerRole::Owner, active),
                other,
                Intent::Write,
                "404",
            ),
            (
                member(own, CustomerRole::Owner, CustomerStatus::Suspended),
                own,
                Intent::Read,
                "ok",
            ),
            (
                member(own, CustomerRole::Owner, CustomerStatus::Suspended),
                own,
                Intent::Write,
                "tenant_suspended",
            ),
            (
                member(own, CustomerRole::Owner, CustomerStatus::Inactive),
                own,
                Intent::Read,
                "tenant_inactive",
            ),
        ];
        for (i, (p, target, intent, expected)) in cases.into_iter().enumerate() {
            assert_eq!(
                code(customer_access(&p, target, intent)),
                expected,
                "case {i}"
            );
        }
    }

    #[test]
    fn roles_parse_and_order() {
        for &r in CustomerRole::ALL {
            assert_eq!(CustomerRole::parse(r.as_str()), Some(r));
        }
        for &r in ProjectRole::ALL {
            assert_eq!(ProjectRole::parse(r.as_str()), Some(r));
        }
        for &s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert!(CustomerRole::Owner > CustomerRole::Admin);
        assert!(ProjectRole::ProjectAdmin > ProjectRole::Agent);
        assert_eq!(CustomerRole::parse("root"), None);
    }
}
