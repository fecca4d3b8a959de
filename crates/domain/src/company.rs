//! Companies: the B2B organizations that contacts of a project belong to. Companies
//! form a tree (a subsidiary names its parent); the tree never has a cycle.

use uuid::Uuid;

use crate::contact::{merge, optional, parse_line, set};
use crate::customer::Changes;
use crate::error::{Error, FieldError, Result, Validator};
use crate::time::Timestamp;

pub const NAME_MAX: usize = 200;
pub const TAX_ID_MAX: usize = 50;
pub const INDUSTRY_MAX: usize = 100;
pub const DOMAIN_MAX: usize = 253;
/// How deep a company tree may go; also bounds the cycle check.
pub const MAX_DEPTH: usize = 20;

text_enum! {
    /// Head count bands, as CRMs usually segment companies.
    pub enum CompanySize {
        Micro = "1-10",
        Small = "11-50",
        Medium = "51-200",
        Large = "201-1000",
        Enterprise = "1001-5000",
        Huge = "5000+",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Company {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    /// Lower-case host name (`acme.com`), unique within the project.
    pub domain: Option<String>,
    pub tax_id: Option<String>,
    pub industry: Option<String>,
    pub size: Option<CompanySize>,
    pub parent_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// The fields of a new company.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompanyInput {
    pub name: Option<String>,
    pub domain: Option<String>,
    pub tax_id: Option<String>,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub parent_id: Option<Uuid>,
}

/// A merge patch of a company: `None` keeps, `Some(None)` clears (not `name`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompanyPatch {
    pub name: Option<Option<String>>,
    pub domain: Option<Option<String>>,
    pub tax_id: Option<Option<String>>,
    pub industry: Option<Option<String>>,
    pub size: Option<Option<String>>,
    pub parent_id: Option<Option<Uuid>>,
}

/// A web domain, lower-cased and without a trailing dot. A URL is refused rather than
/// guessed at, so that what is stored is what was meant.
pub fn parse_domain(raw: &str, field: &str) -> std::result::Result<String, FieldError> {
    let host = raw.trim().trim_end_matches('.').to_lowercase();
    let bad = || FieldError::new(field, "must be a domain name like acme.com");
    if host.len() > DOMAIN_MAX || !host.contains('.') {
        return Err(bad());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !host.split('.').all(label_ok) {
        return Err(bad());
    }
    Ok(host)
}

struct Fields {
    name: String,
    domain: Option<String>,
    tax_id: Option<String>,
    industry: Option<String>,
    size: Option<CompanySize>,
    parent_id: Option<Uuid>,
}

fn validate(input: &CompanyInput, v: &mut Validator) -> Option<Fields> {
    let name = v.check(
        optional(input.name.as_deref(), |s| parse_line(s, "name", NAME_MAX))
            .and_then(|n| n.ok_or_else(|| FieldError::new("name", "is required"))),
    );
    let domain = v.check(optional(input.domain.as_deref(), |s| {
        parse_domain(s, "domain")
    }));
    let tax_id = v.check(optional(input.tax_id.as_deref(), |s| {
        parse_line(s, "tax_id", TAX_ID_MAX)
    }));
    let industry = v.check(optional(input.industry.as_deref(), |s| {
        parse_line(s, "industry", INDUSTRY_MAX)
    }));
    let size = v.check(optional(input.size.as_deref(), |s| {
        CompanySize::parse_field(s, "size")
    }));
    Some(Fields {
        name: name?,
        domain: domain?,
        tax_id: tax_id?,
        industry: industry?,
        size: size?,
        parent_id: input.parent_id,
    })
}

impl Company {
    pub fn create(project_id: Uuid, input: CompanyInput, at: Timestamp) -> Result<Company> {
        let mut v = Validator::new();
        let f = validate(&input, &mut v);
        v.finish()?;
        let f = f.ok_or_else(crate::contact::missing_values)?;
        Ok(Company {
            id: crate::new_id(),
            project_id,
            name: f.name,
            domain: f.domain,
            tax_id: f.tax_id,
            industry: f.industry,
            size: f.size,
            parent_id: f.parent_id,
            created_at: at,
            updated_at: at,
            version: 1,
        })
    }

    fn to_input(&self) -> CompanyInput {
        CompanyInput {
            name: Some(self.name.clone()),
            domain: self.domain.clone(),
            tax_id: self.tax_id.clone(),
            industry: self.industry.clone(),
            size: self.size.map(|s| s.as_str().to_string()),
            parent_id: self.parent_id,
        }
    }

    /// Applies a merge patch; the caller checks the new parent with [`check_parent`].
    pub fn patch(&mut self, patch: CompanyPatch, at: Timestamp) -> Result<Changes> {
        let mut v = Validator::new();
        let mut input = self.to_input();
        match patch.name {
            Some(None) => v.push("name", "must not be null"),
            other => merge(&mut input.name, other),
        }
        merge(&mut input.domain, patch.domain);
        merge(&mut input.tax_id, patch.tax_id);
        merge(&mut input.industry, patch.industry);
        merge(&mut input.size, patch.size);
        merge(&mut input.parent_id, patch.parent_id);
        let f = validate(&input, &mut v);
        v.finish()?;
        let f = f.ok_or_else(crate::contact::missing_values)?;
        let mut c = Changes::default();
        set(&mut self.name, f.name, "name", &mut c);
        set(&mut self.domain, f.domain, "domain", &mut c);
        set(&mut self.tax_id, f.tax_id, "tax_id", &mut c);
        set(&mut self.industry, f.industry, "industry", &mut c);
        set(&mut self.size, f.size, "size", &mut c);
        set(&mut self.parent_id, f.parent_id, "parent_id", &mut c);
        if !c.is_empty() {
            self.updated_at = at.max(self.updated_at);
            self.version += 1;
        }
        Ok(c)
    }
}

/// Checks that `company` may have `parent` as its parent, given the parent's chain of
/// ancestors (nearest first): not itself, not one of its own descendants, and not
/// deeper than [`MAX_DEPTH`].
pub fn check_parent(company: Uuid, parent: Uuid, ancestors_of_parent: &[Uuid]) -> Result<()> {
    if parent == company || ancestors_of_parent.contains(&company) {
        return Err(Error::validation(
            "parent_id",
            "would make the company its own ancestor",
        ));
    }
    if ancestors_of_parent.len() + 1 >= MAX_DEPTH {
        return Err(Error::validation(
            "parent_id",
            format!("company trees are at most {MAX_DEPTH} levels deep"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn fields<T: std::fmt::Debug>(r: Result<T>) -> Vec<String> {
        match r {
            Err(Error::Validation(e)) => e.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn create_normalizes_and_names_bad_fields() {
        let c = Company::create(
            Uuid::from_u128(1),
            CompanyInput {
                name: Some(" Acme Inc ".into()),
                domain: Some("Acme.COM.".into()),
                size: Some("51-200".into()),
                ..Default::default()
            },
            t0(),
        )
        .unwrap();
        assert_eq!(c.name, "Acme Inc");
        assert_eq!(c.domain.as_deref(), Some("acme.com"));
        assert_eq!(c.size, Some(CompanySize::Medium));
        let bad = Company::create(
            Uuid::from_u128(1),
            CompanyInput {
                name: Some("  ".into()),
                domain: Some("https://acme.com/".into()),
                size: Some("huge".into()),
                ..Default::default()
            },
            t0(),
        );
        assert_eq!(fields(bad), ["name", "domain", "size"]);
    }

    #[test]
    fn patch_keeps_clears_and_refuses_null_name() {
        let mut c = Company::create(
            Uuid::from_u128(1),
            CompanyInput {
                name: Some("Acme".into()),
                industry: Some("Retail".into()),
                ..Default::default()
            },
            t0(),
        )
        .unwrap();
        let changes = c
            .patch(
                CompanyPatch {
                    industry: Some(None),
                    tax_id: Some(Some("DE123".into())),
                    ..Default::default()
                },
                t0(),
            )
            .unwrap();
        assert_eq!(changes.0, ["tax_id", "industry"]);
        assert_eq!((c.industry.as_deref(), c.version), (None, 2));
        let none = c.patch(CompanyPatch::default(), t0()).unwrap();
        assert!(none.is_empty());
        assert_eq!(c.version, 2);
        let err = c.patch(
            CompanyPatch {
                name: Some(None),
                ..Default::default()
            },
            t0(),
        );
        assert_eq!(fields(err), ["name"]);
    }

    #[test]
    fn parents_never_make_a_cycle() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        // c's parent would be b, whose ancestors are [a]: fine.
        assert!(check_parent(c, b, &[a]).is_ok());
        // a's parent would be c, whose ancestors are [b, a]: a cycle.
        assert_eq!(fields(check_parent(a, c, &[b, a])), ["parent_id"]);
        assert_eq!(fields(check_parent(a, a, &[])), ["parent_id"]);
        let deep: Vec<Uuid> = (10..10 + MAX_DEPTH as u128).map(Uuid::from_u128).collect();
        assert_eq!(fields(check_parent(a, b, &deep)), ["parent_id"]);
    }
}
