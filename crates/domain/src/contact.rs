//! Contacts: the customer records a tenant manages inside a project (seed documents
//! "Customer Management", "Customers Service" and "Customer Domain"), with their
//! lifecycle stage, classification, tags and order statistics.
//!
//! Inputs are plain (`Option<String>`...) so the API maps its DTOs onto them; every
//! check runs and every bad field is named in one error. Text fields treat blank as
//! absent, as forms send `""` for an empty field.

use std::collections::HashSet;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::contact_parts::{Order, OrderStats};
use crate::customer::Changes;
use crate::email::Email;
use crate::error::{Error, FieldError, Result, Validator};
use crate::phone::Phone;
use crate::time::Timestamp;

pub const NAME_MAX: usize = 100;
pub const DISPLAY_NAME_MAX: usize = 200;
pub const TAG_MAX_LEN: usize = 50;
pub const TAGS_MAX: usize = 50;
pub const CUSTOM_ATTRIBUTES_MAX_KEYS: usize = 50;
/// Measured on the compact JSON text.
pub const CUSTOM_ATTRIBUTES_MAX_BYTES: usize = 16 * 1024;

text_enum! {
    /// B2C person or B2B business contact.
    #[derive(Default)]
    pub enum Kind {
        #[default]
        Individual = "individual",
        Business = "business",
    }
}

text_enum! {
    /// Where the contact is in the sales lifecycle.
    pub enum Stage {
        Lead = "lead",
        Prospect = "prospect",
        Customer = "customer",
        Churned = "churned",
    }
}

text_enum! {
    /// A lifecycle move, as named by the API routes.
    pub enum StageAction {
        Qualify = "qualify",
        Convert = "convert",
        Churn = "churn",
        Reactivate = "reactivate",
    }
}

text_enum! {
    /// Whether the tenant deals with the contact at all (independent of the stage).
    #[derive(Default)]
    pub enum ContactStatus {
        #[default]
        Active = "active",
        Inactive = "inactive",
        Blocked = "blocked",
    }
}

text_enum! {
    /// The contact's plan; it can change at any time.
    #[derive(Default)]
    pub enum Tier {
        #[default]
        Free = "free",
        Basic = "basic",
        Pro = "pro",
        Enterprise = "enterprise",
    }
}

text_enum! {
    #[derive(Default)]
    pub enum CustomerType {
        #[default]
        Retail = "retail",
        Wholesale = "wholesale",
        Vip = "vip",
    }
}

text_enum! {
    /// The orders a contact list can be sorted in (always then by id, for a stable
    /// keyset cursor).
    #[derive(Default)]
    pub enum SortBy {
        #[default]
        CreatedAt = "created_at",
        UpdatedAt = "updated_at",
        LastName = "last_name",
        Email = "email",
        TotalSpent = "total_spent",
        LastOrderAt = "last_order_at",
    }
}

text_enum! {
    #[derive(Default)]
    pub enum SortOrder {
        Asc = "asc",
        #[default]
        Desc = "desc",
    }
}

impl Stage {
    /// The stages a contact may be created in: `churned` only ever follows `customer`.
    pub const STARTING: [Stage; 3] = [Stage::Lead, Stage::Prospect, Stage::Customer];
}

impl StageAction {
    /// The only stage this action applies to.
    pub fn from(self) -> Stage {
        match self {
            Self::Qualify => Stage::Lead,
            Self::Convert => Stage::Prospect,
            Self::Churn => Stage::Customer,
            Self::Reactivate => Stage::Churned,
        }
    }

    pub fn target(self) -> Stage {
        match self {
            Self::Qualify => Stage::Prospect,
            Self::Convert => Stage::Customer,
            Self::Churn => Stage::Churned,
            Self::Reactivate => Stage::Prospect,
        }
    }
}

/// The lifecycle actions allowed from `stage`.
pub fn allowed_actions(stage: Stage) -> Vec<StageAction> {
    StageAction::ALL
        .iter()
        .copied()
        .filter(|a| a.from() == stage)
        .collect()
}

/// The stage after `action`, or a conflict naming the current stage and what is allowed.
pub fn transition(stage: Stage, action: StageAction) -> Result<Stage> {
    if action.from() == stage {
        return Ok(action.target());
    }
    Err(Error::InvalidTransition {
        entity: "contact",
        current: stage.as_str().into(),
        action: action.as_str().into(),
        allowed: allowed_actions(stage)
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
    })
}

/// Where the contact came from: a known channel or the tenant's own word for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    Website,
    Referral,
    ColdCall,
    Event,
    Import,
    Other(String),
}

impl Source {
    pub const MAX_LEN: usize = 50;
    const KNOWN: [Source; 5] = [
        Source::Website,
        Source::Referral,
        Source::ColdCall,
        Source::Event,
        Source::Import,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            Self::Website => "website",
            Self::Referral => "referral",
            Self::ColdCall => "cold-call",
            Self::Event => "event",
            Self::Import => "import",
            Self::Other(text) => text,
        }
    }

    /// A known source by its own spelling (`as_str`), as stored; `None` for any other
    /// text. Allocates nothing, unlike [`Source::parse`].
    pub fn known(text: &str) -> Option<Source> {
        Self::KNOWN.into_iter().find(|s| s.as_str() == text)
    }

    /// Known sources match case-insensitively (and `cold_call` for `cold-call`); any
    /// other text of at most 50 characters is kept as typed.
    pub fn parse(raw: &str, field: &str) -> std::result::Result<Source, FieldError> {
        let text = parse_line(raw, field, Self::MAX_LEN)?;
        let key = text.to_lowercase().replace('_', "-");
        Ok(Self::KNOWN
            .into_iter()
            .find(|s| s.as_str() == key)
            .unwrap_or(Source::Other(text)))
    }
}

/// A contact as stored. Money is in minor units of `stats.currency`.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: Uuid,
    pub project_id: Uuid,
    pub kind: Kind,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: String,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub stage: Stage,
    pub status: ContactStatus,
    pub tier: Tier,
    pub customer_type: CustomerType,
    pub source: Option<Source>,
    /// A project member with role agent or above (checked by the use case).
    pub assigned_to: Option<Uuid>,
    pub tags: Vec<String>,
    pub marketing_opt_in: bool,
    /// B2B: the company the contact belongs to. Never set together with `user_id`.
    pub company_id: Option<Uuid>,
    /// B2C: the user account of the contact.
    pub user_id: Option<Uuid>,
    pub custom_attributes: Map<String, Value>,
    pub stats: OrderStats,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set while the stage is `churned`; cleared by reactivation (events keep history).
    pub churned_at: Option<Timestamp>,
    /// Soft delete: the row stays, hidden from reads until restored.
    pub deleted_at: Option<Timestamp>,
    /// Incremented on every change; the ETag and `If-Match` compare it.
    pub version: i64,
}

/// The fields of a create (POST) or full replace (PUT). Absent fields take their
/// default on create and are cleared or reset on replace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactInput {
    pub kind: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Derived from the names, else the email, else the phone, when absent.
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// On create: `lead` (default), `prospect` or `customer`. On replace it may only
    /// repeat the current stage: stages move through the lifecycle actions.
    pub stage: Option<String>,
    pub status: Option<String>,
    pub tier: Option<String>,
    pub customer_type: Option<String>,
    pub source: Option<String>,
    pub assigned_to: Option<Uuid>,
    pub tags: Option<Vec<String>>,
    pub marketing_opt_in: Option<bool>,
    pub company_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub custom_attributes: Option<Value>,
}

/// A JSON merge patch (RFC 7396) of a contact: `None` keeps a field, `Some(None)` (JSON
/// `null`) clears it, `Some(Some(v))` sets it. `custom_attributes` merges deeply.
/// `kind`, `stage`, `status`, `tier`, `customer_type` and `marketing_opt_in` cannot be
/// null.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactPatch {
    pub kind: Option<Option<String>>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub display_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub stage: Option<Option<String>>,
    pub status: Option<Option<String>>,
    pub tier: Option<Option<String>>,
    pub customer_type: Option<Option<String>>,
    pub source: Option<Option<String>>,
    pub assigned_to: Option<Option<Uuid>>,
    pub tags: Option<Option<Vec<String>>>,
    pub marketing_opt_in: Option<Option<bool>>,
    pub company_id: Option<Option<Uuid>>,
    pub user_id: Option<Option<Uuid>>,
    pub custom_attributes: Option<Value>,
}

impl ContactPatch {
    /// Applies the patch to the current fields; nulls on required fields are recorded.
    fn merge_into(self, mut base: ContactInput, v: &mut Validator) -> ContactInput {
        merge_required(&mut base.kind, self.kind, "kind", v);
        merge(&mut base.first_name, self.first_name);
        merge(&mut base.last_name, self.last_name);
        merge(&mut base.display_name, self.display_name);
        merge(&mut base.email, self.email);
        merge(&mut base.phone, self.phone);
        merge_required(&mut base.stage, self.stage, "stage", v);
        merge_required(&mut base.status, self.status, "status", v);
        merge_required(&mut base.tier, self.tier, "tier", v);
        merge_required(
            &mut base.customer_type,
            self.customer_type,
            "customer_type",
            v,
        );
        merge(&mut base.source, self.source);
        merge(&mut base.assigned_to, self.assigned_to);
        merge(&mut base.tags, self.tags);
        merge_required(
            &mut base.marketing_opt_in,
            self.marketing_opt_in,
            "marketing_opt_in",
            v,
        );
        merge(&mut base.company_id, self.company_id);
        merge(&mut base.user_id, self.user_id);
        if let Some(patch) = self.custom_attributes {
            let mut merged = base
                .custom_attributes
                .take()
                .unwrap_or_else(|| Value::Object(Map::new()));
            crate::json::merge_patch(&mut merged, &patch);
            base.custom_attributes = Some(merged);
        }
        base
    }
}

/// Merge-patch semantics for a field that may be cleared.
pub(crate) fn merge<T>(current: &mut Option<T>, patch: Option<Option<T>>) {
    if let Some(value) = patch {
        *current = value;
    }
}

/// Merge-patch semantics for a field that may be changed but not cleared.
pub(crate) fn merge_required<T>(
    current: &mut Option<T>,
    patch: Option<Option<T>>,
    field: &str,
    v: &mut Validator,
) {
    match patch {
        None => {}
        Some(None) => v.push(field, "must not be null"),
        Some(value) => *current = value,
    }
}

/// The validated, normalized fields shared by create, replace and patch.
struct Profile {
    kind: Kind,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: String,
    email: Option<Email>,
    phone: Option<Phone>,
    status: ContactStatus,
    tier: Tier,
    customer_type: CustomerType,
    source: Option<Source>,
    assigned_to: Option<Uuid>,
    tags: Vec<String>,
    marketing_opt_in: bool,
    company_id: Option<Uuid>,
    user_id: Option<Uuid>,
    custom_attributes: Map<String, Value>,
}

/// Checks every field of `input`, recording each error; `None` if any failed.
fn validate_profile(input: &ContactInput, v: &mut Validator) -> Option<Profile> {
    let kind = choice(input.kind.as_deref(), "kind", Kind::parse_field, v);
    let first_name = v.check(optional(input.first_name.as_deref(), |s| {
        parse_line(s, "first_name", NAME_MAX)
    }));
    let last_name = v.check(optional(input.last_name.as_deref(), |s| {
        parse_line(s, "last_name", NAME_MAX)
    }));
    let display_name = v.check(optional(input.display_name.as_deref(), |s| {
        parse_line(s, "display_name", DISPLAY_NAME_MAX)
    }));
    let email = v.check(optional(input.email.as_deref(), |s| {
        Email::parse(s, "email")
    }));
    let phone = v.check(optional(input.phone.as_deref(), |s| {
        Phone::parse(s, "phone")
    }));
    if let (Some(None), Some(None)) = (&email, &phone) {
        v.push("email", "an email or a phone is required");
        v.push("phone", "an email or a phone is required");
    }
    let status = choice(
        input.status.as_deref(),
        "status",
        ContactStatus::parse_field,
        v,
    );
    let tier = choice(input.tier.as_deref(), "tier", Tier::parse_field, v);
    let customer_type = choice(
        input.customer_type.as_deref(),
        "customer_type",
        CustomerType::parse_field,
        v,
    );
    let source = v.check(optional(input.source.as_deref(), |s| {
        Source::parse(s, "source")
    }));
    let tags = check_tags(input.tags.as_deref().unwrap_or_default(), "tags", v);
    if input.company_id.is_some() && input.user_id.is_some() {
        let message = "a contact cannot have both a company_id and a user_id";
        v.push("company_id", message);
        v.push("user_id", message);
    }
    let custom_attributes = v.check(parse_custom_attributes(
        input.custom_attributes.clone(),
        "custom_attributes",
    ));

    let (first_name, last_name, email, phone) = (first_name?, last_name?, email?, phone?);
    let display_name = match display_name? {
        Some(name) => name,
        None => derive_display_name(
            first_name.as_deref(),
            last_name.as_deref(),
            email.as_ref(),
            phone.as_ref(),
        )?,
    };
    Some(Profile {
        kind: kind?,
        first_name,
        last_name,
        display_name,
        email,
        phone,
        status: status?,
        tier: tier?,
        customer_type: customer_type?,
        source: source?,
        assigned_to: input.assigned_to,
        tags: tags?,
        marketing_opt_in: input.marketing_opt_in.unwrap_or(false),
        company_id: input.company_id,
        user_id: input.user_id,
        custom_attributes: custom_attributes?,
    })
}

/// The name people see when none is given: the full name, else the email, else the phone.
fn derive_display_name(
    first_name: Option<&str>,
    last_name: Option<&str>,
    email: Option<&Email>,
    phone: Option<&Phone>,
) -> Option<String> {
    let full_name = [first_name, last_name]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !full_name.is_empty() {
        return Some(full_name);
    }
    email
        .map(|e| e.as_str().to_string())
        .or_else(|| phone.map(|p| p.as_str().to_string()))
}

/// An enum field that has a default when absent.
fn choice<T: Default>(
    raw: Option<&str>,
    field: &str,
    parse: fn(&str, &str) -> std::result::Result<T, FieldError>,
    v: &mut Validator,
) -> Option<T> {
    match raw {
        None => Some(T::default()),
        Some(raw) => v.check(parse(raw, field)),
    }
}

/// Blank text is absent; anything else must parse.
pub(crate) fn optional<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> std::result::Result<T, FieldError>,
) -> std::result::Result<Option<T>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => parse(text).map(Some),
    }
}

/// One line of text: trimmed, 1..=`max` characters, no control characters.
pub(crate) fn parse_line(
    raw: &str,
    field: &str,
    max: usize,
) -> std::result::Result<String, FieldError> {
    let text = parse_text(raw, field, max)?;
    if text.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text)
}

/// Free text that may span lines: trimmed, 1..=`max` characters, no control characters
/// other than line breaks and tabs.
pub(crate) fn parse_text(
    raw: &str,
    field: &str,
    max: usize,
) -> std::result::Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text.to_string())
}

/// Normalizes tags (trimmed, lower case, duplicates dropped in order) and checks them;
/// a bad tag is named by its index (`tags[2]`).
pub fn parse_tags(raw: &[String], field: &str) -> Result<Vec<String>> {
    let mut v = Validator::new();
    let tags = check_tags(raw, field, &mut v);
    v.finish()?;
    tags.ok_or_else(|| Error::Internal("tags failed without an error".into()))
}

fn check_tags(raw: &[String], field: &str, v: &mut Validator) -> Option<Vec<String>> {
    let mut tags = Vec::new();
    let mut seen = HashSet::new();
    let mut all_ok = true;
    for (i, tag) in raw.iter().enumerate() {
        match normalize_tag(tag) {
            Ok(tag) => {
                if seen.insert(tag.clone()) {
                    tags.push(tag);
                }
            }
            Err(message) => {
                v.push(format!("{field}[{i}]"), message);
                all_ok = false;
            }
        }
    }
    if tags.len() > TAGS_MAX {
        v.push(field, format!("must have at most {TAGS_MAX} tags"));
        all_ok = false;
    }
    all_ok.then_some(tags)
}

fn normalize_tag(raw: &str) -> std::result::Result<String, String> {
    let tag = raw.trim().to_lowercase();
    if tag.is_empty() {
        return Err("must not be empty".into());
    }
    if tag.chars().count() > TAG_MAX_LEN {
        return Err(format!("must be at most {TAG_MAX_LEN} characters"));
    }
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | ' ');
    if !tag.chars().all(allowed) {
        return Err("may contain only letters, digits, spaces, '-', '_' and ':'".into());
    }
    Ok(tag)
}

/// Free-form attributes: a JSON object, bounded so one contact cannot grow without
/// limit. Absent or `null` is an empty object.
pub fn parse_custom_attributes(
    value: Option<Value>,
    field: &str,
) -> std::result::Result<Map<String, Value>, FieldError> {
    let map = match value {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(FieldError::new(field, "must be a JSON object")),
    };
    if map.len() > CUSTOM_ATTRIBUTES_MAX_KEYS {
        return Err(FieldError::new(
            field,
            format!("must have at most {CUSTOM_ATTRIBUTES_MAX_KEYS} keys"),
        ));
    }
    let size = serde_json::to_string(&map).map_or(usize::MAX, |s| s.len());
    if size > CUSTOM_ATTRIBUTES_MAX_BYTES {
        return Err(FieldError::new(
            field,
            format!("must be at most {CUSTOM_ATTRIBUTES_MAX_BYTES} bytes as JSON"),
        ));
    }
    Ok(map)
}

/// The stage of a new contact.
fn starting_stage(raw: Option<&str>, field: &str) -> std::result::Result<Stage, FieldError> {
    let Some(raw) = raw else {
        return Ok(Stage::Lead);
    };
    let stage = Stage::parse_field(raw, field)?;
    if Stage::STARTING.contains(&stage) {
        Ok(stage)
    } else {
        Err(FieldError::new(
            field,
            "a new contact starts as lead, prospect or customer",
        ))
    }
}

/// Replaces `slot` with `value` and records `name` if they differ.
pub(crate) fn set<T: PartialEq>(slot: &mut T, value: T, name: &'static str, changes: &mut Changes) {
    if *slot != value {
        *slot = value;
        changes.0.push(name);
    }
}

pub(crate) fn missing_values() -> Error {
    Error::Internal("validator passed with missing values".into())
}

impl Contact {
    /// A new contact in `project_id`, or every problem with `input`.
    pub fn create(project_id: Uuid, input: ContactInput, at: Timestamp) -> Result<Contact> {
        let mut v = Validator::new();
        let stage = v.check(starting_stage(input.stage.as_deref(), "stage"));
        let profile = validate_profile(&input, &mut v);
        v.finish()?;
        let (Some(stage), Some(p)) = (stage, profile) else {
            return Err(missing_values());
        };
        Ok(Contact {
            id: crate::new_id(),
            project_id,
            kind: p.kind,
            first_name: p.first_name,
            last_name: p.last_name,
            display_name: p.display_name,
            email: p.email,
            phone: p.phone,
            stage,
            status: p.status,
            tier: p.tier,
            customer_type: p.customer_type,
            source: p.source,
            assigned_to: p.assigned_to,
            tags: p.tags,
            marketing_opt_in: p.marketing_opt_in,
            company_id: p.company_id,
            user_id: p.user_id,
            custom_attributes: p.custom_attributes,
            stats: OrderStats::default(),
            created_at: at,
            updated_at: at,
            churned_at: None,
            deleted_at: None,
            version: 1,
        })
    }

    /// The current fields as an input: the base that a merge patch applies to. A
    /// display name equal to the derived one is left out so that it follows the names.
    pub fn to_input(&self) -> ContactInput {
        let derived = derive_display_name(
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.email.as_ref(),
            self.phone.as_ref(),
        );
        ContactInput {
            kind: Some(self.kind.as_str().into()),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            display_name: (derived.as_ref() != Some(&self.display_name))
                .then(|| self.display_name.clone()),
            email: self.email.as_ref().map(|e| e.as_str().into()),
            phone: self.phone.as_ref().map(|p| p.as_str().into()),
            stage: Some(self.stage.as_str().into()),
            status: Some(self.status.as_str().into()),
            tier: Some(self.tier.as_str().into()),
            customer_type: Some(self.customer_type.as_str().into()),
            source: self.source.as_ref().map(|s| s.as_str().into()),
            assigned_to: self.assigned_to,
            tags: Some(self.tags.clone()),
            marketing_opt_in: Some(self.marketing_opt_in),
            company_id: self.company_id,
            user_id: self.user_id,
            custom_attributes: Some(Value::Object(self.custom_attributes.clone())),
        }
    }

    /// PUT: replaces every field (absent ones are cleared or reset to their default).
    pub fn replace(&mut self, input: ContactInput, at: Timestamp) -> Result<Changes> {
        self.ensure_live()?;
        self.update(input, Validator::new(), at)
    }

    /// PATCH: a JSON merge patch over the current fields.
    pub fn patch(&mut self, patch: ContactPatch, at: Timestamp) -> Result<Changes> {
        self.ensure_live()?;
        let mut v = Validator::new();
        let input = patch.merge_into(self.to_input(), &mut v);
        self.update(input, v, at)
    }

    fn update(&mut self, input: ContactInput, mut v: Validator, at: Timestamp) -> Result<Changes> {
        if let Some(raw) = input.stage.as_deref() {
            if let Some(stage) = v.check(Stage::parse_field(raw, "stage")) {
                if stage != self.stage {
                    v.push(
                        "stage",
                        "changes only through the qualify, convert, churn and reactivate actions",
                    );
                }
            }
        }
        let profile = validate_profile(&input, &mut v);
        v.finish()?;
        let profile = profile.ok_or_else(missing_values)?;
        Ok(self.apply_profile(profile, at))
    }

    fn apply_profile(&mut self, p: Profile, at: Timestamp) -> Changes {
        let mut c = Changes::default();
        set(&mut self.kind, p.kind, "kind", &mut c);
        set(&mut self.first_name, p.first_name, "first_name", &mut c);
        set(&mut self.last_name, p.last_name, "last_name", &mut c);
        set(
            &mut self.display_name,
            p.display_name,
            "display_name",
            &mut c,
        );
        set(&mut self.email, p.email, "email", &mut c);
        set(&mut self.phone, p.phone, "phone", &mut c);
        set(&mut self.status, p.status, "status", &mut c);
        set(&mut self.tier, p.tier, "tier", &mut c);
        set(
            &mut self.customer_type,
            p.customer_type,
            "customer_type",
            &mut c,
        );
        set(&mut self.source, p.source, "source", &mut c);
        set(&mut self.assigned_to, p.assigned_to, "assigned_to", &mut c);
        set(&mut self.tags, p.tags, "tags", &mut c);
        set(
            &mut self.marketing_opt_in,
            p.marketing_opt_in,
            "marketing_opt_in",
            &mut c,
        );
        set(&mut self.company_id, p.company_id, "company_id", &mut c);
        set(&mut self.user_id, p.user_id, "user_id", &mut c);
        set(
            &mut self.custom_attributes,
            p.custom_attributes,
            "custom_attributes",
            &mut c,
        );
        if !c.is_empty() {
            self.touch(at);
        }
        c
    }

    /// Moves the stage through the lifecycle, or explains which actions are allowed.
    pub fn apply(&mut self, action: StageAction, at: Timestamp) -> Result<()> {
        self.ensure_live()?;
        self.stage = transition(self.stage, action)?;
        self.churned_at = (self.stage == Stage::Churned).then_some(at);
        self.touch(at);
        Ok(())
    }

    pub fn set_tier(&mut self, tier: Tier, at: Timestamp) -> Result<Changes> {
        self.ensure_live()?;
        let mut changes = Changes::default();
        set(&mut self.tier, tier, "tier", &mut changes);
        self.touch_if_changed(&changes, at);
        Ok(changes)
    }

    /// Replaces the tags (normalized as on create).
    pub fn set_tags(&mut self, tags: &[String], at: Timestamp) -> Result<Changes> {
        self.ensure_live()?;
        let tags = parse_tags(tags, "tags")?;
        let mut changes = Changes::default();
        set(&mut self.tags, tags, "tags", &mut changes);
        self.touch_if_changed(&changes, at);
        Ok(changes)
    }

    /// Assigns the contact to a project member (`None` unassigns); the use case checks
    /// that the member exists with role agent or above.
    pub fn assign(&mut self, assigned_to: Option<Uuid>, at: Timestamp) -> Result<Changes> {
        self.ensure_live()?;
        let mut changes = Changes::default();
        set(
            &mut self.assigned_to,
            assigned_to,
            "assigned_to",
            &mut changes,
        );
        self.touch_if_changed(&changes, at);
        Ok(changes)
    }

    /// Adds an order to the statistics. Recording the same `order_id` twice must be
    /// prevented by the caller, which knows the orders already recorded.
    pub fn record_order(&mut self, order: &Order, at: Timestamp) -> Result<()> {
        self.ensure_live()?;
        self.stats.record(order)?;
        self.touch(at);
        Ok(())
    }

    /// Soft delete: the contact is hidden until restored.
    pub fn soft_delete(&mut self, at: Timestamp) -> Result<()> {
        self.ensure_live()?;
        self.deleted_at = Some(at);
        self.touch(at);
        Ok(())
    }

    pub fn restore(&mut self, at: Timestamp) -> Result<()> {
        if self.deleted_at.is_none() {
            return Err(Error::Conflict {
                code: "contact_not_deleted",
                detail: "the contact is not deleted".into(),
                field: None,
            });
        }
        self.deleted_at = None;
        self.touch(at);
        Ok(())
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Rejects a stale `If-Match` version.
    pub fn check_version(&self, expected: Option<i64>) -> Result<()> {
        match expected {
            Some(v) if v != self.version => Err(Error::PreconditionFailed {
                entity: "contact",
                current_version: self.version,
            }),
            _ => Ok(()),
        }
    }

    /// A deleted contact behaves as missing for everything but restore.
    fn ensure_live(&self) -> Result<()> {
        if self.is_deleted() {
            return Err(Error::not_found("contact"));
        }
        Ok(())
    }

    fn touch(&mut self, at: Timestamp) {
        self.updated_at = at.max(self.updated_at);
        self.version += 1;
    }

    fn touch_if_changed(&mut self, changes: &Changes, at: Timestamp) {
        if !changes.is_empty() {
            self.touch(at);
        }
    }

    /// The state carried in event payloads.
    pub fn snapshot(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "project_id": self.project_id,
            "kind": self.kind.as_str(),
            "first_name": self.first_name,
            "last_name": self.last_name,
            "display_name": self.display_name,
            "email": self.email.as_ref().map(Email::as_str),
            "phone": self.phone.as_ref().map(Phone::as_str),
            "stage": self.stage.as_str(),
            "status": self.status.as_str(),
            "tier": self.tier.as_str(),
            "customer_type": self.customer_type.as_str(),
            "source": self.source.as_ref().map(Source::as_str),
            "assigned_to": self.assigned_to,
            "tags": self.tags,
            "marketing_opt_in": self.marketing_opt_in,
            "company_id": self.company_id,
            "user_id": self.user_id,
            "custom_attributes": self.custom_attributes,
            "total_orders": self.stats.total_orders,
            "total_spent": self.stats.total_spent,
            "currency": self.stats.currency,
            "churned_at": self.churned_at,
            "deleted_at": self.deleted_at,
            "version": self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact_parts::OrderInput;
    use serde_json::json;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn t0() -> Timestamp {
        at("2025-12-30T10:00:00Z")
    }

    fn project() -> Uuid {
        Uuid::from_u128(7)
    }

    fn john() -> ContactInput {
        ContactInput {
            first_name: Some("John".into()),
            last_name: Some("Doe".into()),
            email: Some("John@Example.com".into()),
            phone: Some("+380123456789".into()),
            source: Some("website".into()),
            tier: Some("free".into()),
            ..ContactInput::default()
        }
    }

    fn create(input: ContactInput) -> Contact {
        Contact::create(project(), input, t0()).unwrap()
    }

    /// The fields named by a validation error, in order.
    fn fields<T: std::fmt::Debug>(result: Result<T>) -> Vec<String> {
        match result {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn create_applies_defaults_and_normalizes() {
        let c = create(john());
        assert_eq!(c.project_id, project());
        assert_eq!(c.kind, Kind::Individual);
        assert_eq!(c.display_name, "John Doe");
        assert_eq!(
            c.email.as_ref().map(Email::as_str),
            Some("john@example.com")
        );
        assert_eq!(c.phone.as_ref().map(Phone::as_str), Some("+380123456789"));
        assert_eq!(c.stage, Stage::Lead);
        assert_eq!(c.status, ContactStatus::Active);
        assert_eq!(c.tier, Tier::Free);
        assert_eq!(c.customer_type, CustomerType::Retail);
        assert_eq!(c.source, Some(Source::Website));
        assert!(!c.marketing_opt_in);
        assert!(c.tags.is_empty() && c.custom_attributes.is_empty());
        assert_eq!(c.stats, OrderStats::default());
        assert_eq!((c.created_at, c.updated_at, c.version), (t0(), t0(), 1));
        assert_eq!((c.churned_at, c.deleted_at), (None, None));
    }

    #[test]
    fn display_name_is_given_or_derived() {
        let named = |input: ContactInput| create(input).display_name;
        let email_only = ContactInput {
            email: Some("a@b.co".into()),
            ..ContactInput::default()
        };
        let phone_only = ContactInput {
            phone: Some("+49 30 901820".into()),
            ..ContactInput::default()
        };
        assert_eq!(named(email_only.clone()), "a@b.co");
        assert_eq!(named(phone_only), "+4930901820");
        assert_eq!(
            named(ContactInput {
                last_name: Some(" Doe ".into()),
                ..email_only.clone()
            }),
            "Doe"
        );
        assert_eq!(
            named(ContactInput {
                display_name: Some("  Acme Purchasing ".into()),
                ..john()
            }),
            "Acme Purchasing"
        );
    }

    #[test]
    fn create_names_every_bad_field() {
        let input = ContactInput {
            kind: Some("robot".into()),
            first_name: Some("x".repeat(NAME_MAX + 1)),
            last_name: Some("Doe\u{0}".into()),
            display_name: Some("y".repeat(DISPLAY_NAME_MAX + 1)),
            email: Some("nope".into()),
            phone: Some("123".into()),
            stage: Some("churned".into()),
            status: Some("gone".into()),
            tier: Some("gold".into()),
            customer_type: Some("reseller".into()),
            source: Some("s".repeat(Source::MAX_LEN + 1)),
            assigned_to: None,
            tags: Some(vec!["ok".into(), " ".into(), "bad!".into()]),
            marketing_opt_in: Some(true),
            company_id: Some(Uuid::from_u128(1)),
            user_id: Some(Uuid::from_u128(2)),
            custom_attributes: Some(json!([1])),
        };
        assert_eq!(
            fields(Contact::create(project(), input, t0())),
            [
                "stage",
                "kind",
                "first_name",
                "last_name",
                "display_name",
                "email",
                "phone",
                "status",
                "tier",
                "customer_type",
                "source",
                "tags[1]",
                "tags[2]",
                "company_id",
                "user_id",
                "custom_attributes",
            ]
        );
    }

    #[test]
    fn an_email_or_a_phone_is_required() {
        let none = ContactInput {
            first_name: Some("John".into()),
            ..ContactInput::default()
        };
        assert_eq!(
            fields(Contact::create(project(), none, t0())),
            ["email", "phone"]
        );
        // Blank is absent, as forms send it.
        let blank = ContactInput {
            email: Some("".into()),
            phone: Some("  ".into()),
            ..ContactInput::default()
        };
        assert_eq!(
            fields(Contact::create(project(), blank, t0())),
            ["email", "phone"]
        );
        // A bad email is named for what it is, not as missing.
        let bad = ContactInput {
            email: Some("nope".into()),
            ..ContactInput::default()
        };
        assert_eq!(fields(Contact::create(project(), bad, t0())), ["email"]);
    }

    #[test]
    fn company_and_user_are_exclusive() {
        let b2b = create(ContactInput {
            kind: Some("business".into()),
            company_id: Some(Uuid::from_u128(1)),
            ..john()
        });
        assert_eq!(b2b.kind, Kind::Business);
        let both = ContactInput {
            company_id: Some(Uuid::from_u128(1)),
            user_id: Some(Uuid::from_u128(2)),
            ..john()
        };
        assert_eq!(
            fields(Contact::create(project(), both, t0())),
            ["company_id", "user_id"]
        );
    }

    #[test]
    fn starting_stages() {
        for stage in Stage::STARTING {
            let c = create(ContactInput {
                stage: Some(stage.as_str().into()),
                ..john()
            });
            assert_eq!(c.stage, stage);
        }
        let churned = ContactInput {
            stage: Some("churned".into()),
            ..john()
        };
        assert_eq!(fields(Contact::create(project(), churned, t0())), ["stage"]);
    }

    #[test]
    fn every_lifecycle_move_is_allowed_or_refused_by_the_table() {
        let table = [
            (Stage::Lead, StageAction::Qualify, Stage::Prospect),
            (Stage::Prospect, StageAction::Convert, Stage::Customer),
            (Stage::Customer, StageAction::Churn, Stage::Churned),
            (Stage::Churned, StageAction::Reactivate, Stage::Prospect),
        ];
        for &stage in Stage::ALL {
            for &action in StageAction::ALL {
                let allowed = table.iter().find(|(s, a, _)| *s == stage && *a == action);
                match (transition(stage, action), allowed) {
                    (Ok(next), Some((_, _, expected))) => assert_eq!(next, *expected),
                    (
                        Err(Error::InvalidTransition {
                            entity,
                            current,
                            action: refused,
                            allowed,
                        }),
                        None,
                    ) => {
                        assert_eq!(entity, "contact");
                        assert_eq!(current, stage.as_str());
                        assert_eq!(refused, action.as_str());
                        let expected: Vec<_> = table
                            .iter()
                            .filter(|(s, _, _)| *s == stage)
                            .map(|(_, a, _)| a.as_str().to_string())
                            .collect();
                        assert_eq!(allowed, expected);
                    }
                    (result, _) => panic!("{stage} {action}: unexpected {result:?}"),
                }
            }
        }
    }

    #[test]
    fn seed_invalid_transitions_name_the_allowed_action() {
        // Lead -> Customer must qualify first; Churned -> Customer must reactivate.
        let cases = [
            (Stage::Lead, StageAction::Convert, "qualify"),
            (Stage::Churned, StageAction::Convert, "reactivate"),
        ];
        for (stage, action, allowed_action) in cases {
            let Err(Error::InvalidTransition { allowed, .. }) = transition(stage, action) else {
                panic!("{stage} {action} should be refused");
            };
            assert_eq!(allowed, [allowed_action]);
        }
        assert_eq!(allowed_actions(Stage::Customer), [StageAction::Churn]);
    }

    #[test]
    fn churn_and_reactivate_keep_churned_at_in_step() {
        let mut c = create(ContactInput {
            stage: Some("customer".into()),
            ..john()
        });
        let t1 = at("2026-01-01T00:00:00Z");
        c.apply(StageAction::Churn, t1).unwrap();
        assert_eq!(
            (c.stage, c.churned_at, c.updated_at),
            (Stage::Churned, Some(t1), t1)
        );
        c.apply(StageAction::Reactivate, t1).unwrap();
        assert_eq!((c.stage, c.churned_at), (Stage::Prospect, None));
        assert_eq!(c.version, 3);
        assert!(c.apply(StageAction::Reactivate, t1).is_err());
        assert_eq!(c.version, 3, "a refused move changes nothing");
    }

    #[test]
    fn complete_customer_flow_of_the_seed() {
        let mut c = create(john());
        let rep = Uuid::from_u128(0x019b6ec4);
        assert_eq!(c.assign(Some(rep), t0()).unwrap().0, ["assigned_to"]);
        c.apply(StageAction::Qualify, t0()).unwrap();
        c.apply(StageAction::Convert, t0()).unwrap();
        assert_eq!(c.set_tier(Tier::Pro, t0()).unwrap().0, ["tier"]);
        let tags = ["vip".to_string(), "high-value".to_string()];
        assert_eq!(c.set_tags(&tags, t0()).unwrap().0, ["tags"]);
        assert_eq!(c.stage, Stage::Customer);
        assert_eq!(c.tier, Tier::Pro);
        assert_eq!(c.assigned_to, Some(rep));
        assert_eq!(c.tags, tags);
        assert_eq!(c.version, 6);
    }

    #[test]
    fn tags_are_normalized_and_bounded() {
        let raw: Vec<String> = [
            " VIP ",
            "vip",
            "High-Value",
            "region:eu",
            "two words",
            "Café_1",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            parse_tags(&raw, "tags").unwrap(),
            ["vip", "high-value", "region:eu", "two words", "café_1"]
        );
        let fifty_one: Vec<String> = (0..=TAGS_MAX).map(|i| format!("t{i}")).collect();
        assert_eq!(fields(parse_tags(&fifty_one, "tags")), ["tags"]);
        // Duplicates do not count against the limit.
        let repeated: Vec<String> = (0..=TAGS_MAX).map(|i| format!("t{}", i % 2)).collect();
        assert_eq!(parse_tags(&repeated, "tags").unwrap().len(), 2);
        let bad = [
            "".into(),
            "x".repeat(TAG_MAX_LEN + 1),
            "a/b".into(),
            "ok".into(),
            "a.b".into(),
        ];
        assert_eq!(
            fields(parse_tags(&bad, "tags")),
            ["tags[0]", "tags[1]", "tags[2]", "tags[4]"]
        );
        assert_eq!(
            parse_tags(&["x".repeat(TAG_MAX_LEN)], "tags")
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn custom_attributes_are_a_bounded_object() {
        let parse = |v: Value| parse_custom_attributes(Some(v), "custom_attributes");
        assert!(parse(json!({"plan": {"seats": 3}})).is_ok());
        assert!(parse(Value::Null).unwrap().is_empty());
        assert!(parse_custom_attributes(None, "custom_attributes")
            .unwrap()
            .is_empty());
        for bad in [json!([1]), json!("x"), json!(3)] {
            assert_eq!(parse(bad).unwrap_err().field, "custom_attributes");
        }
        let keys = |n: usize| Value::Object((0..n).map(|i| (format!("k{i}"), json!(i))).collect());
        assert!(parse(keys(CUSTOM_ATTRIBUTES_MAX_KEYS)).is_ok());
        assert!(parse(keys(CUSTOM_ATTRIBUTES_MAX_KEYS + 1)).is_err());
        // {"a":"…"} is 8 bytes of JSON around the string.
        let fits = json!({"a": "x".repeat(CUSTOM_ATTRIBUTES_MAX_BYTES - 8)});
        assert!(parse(fits).is_ok());
        let too_big = json!({"a": "x".repeat(CUSTOM_ATTRIBUTES_MAX_BYTES - 7)});
        assert!(parse(too_big).is_err());
    }

    #[test]
    fn sources_known_or_free_text() {
        let parse = |s: &str| Source::parse(s, "source").unwrap();
        assert_eq!(parse("Website"), Source::Website);
        assert_eq!(parse("cold-call"), Source::ColdCall);
        assert_eq!(parse("cold_call"), Source::ColdCall);
        assert_eq!(parse("import"), Source::Import);
        assert_eq!(
            parse(" Trade Fair 2025 "),
            Source::Other("Trade Fair 2025".into())
        );
        assert_eq!(parse("Trade Fair 2025").as_str(), "Trade Fair 2025");
        assert_eq!(Source::ColdCall.as_str(), "cold-call");
        assert!(Source::parse(&"s".repeat(51), "source").is_err());
        assert!(Source::parse("a\tb", "source").is_err());
        // As stored: a known source's own spelling only; parse for anything else.
        for known in Source::KNOWN {
            assert_eq!(Source::known(known.as_str()), Some(known));
        }
        assert_eq!(Source::known("Website"), None);
        assert_eq!(Source::known("cold_call"), None);
        assert_eq!(Source::known("Trade Fair 2025"), None);
    }

    #[test]
    fn text_enums_round_trip() {
        for &tier in Tier::ALL {
            assert_eq!(Tier::parse(tier.as_str()), Some(tier));
            let json = serde_json::to_value(tier).unwrap();
            assert_eq!(json, json!(tier.as_str()));
            assert_eq!(serde_json::from_value::<Tier>(json).unwrap(), tier);
        }
        assert_eq!(Stage::parse("Lead"), None, "spellings are exact");
        assert_eq!(
            CustomerType::parse_field(" vip ", "customer_type"),
            Ok(CustomerType::Vip)
        );
        let err = Kind::parse_field("robot", "kind").unwrap_err();
        assert_eq!(err.message, "must be one of: individual, business");
        assert_eq!(ContactStatus::Blocked.to_string(), "blocked");
    }

    #[test]
    fn replace_resets_absent_fields_and_lists_changes() {
        let mut c = create(ContactInput {
            tags: Some(vec!["vip".into()]),
            marketing_opt_in: Some(true),
            ..john()
        });
        let t1 = at("2026-01-02T00:00:00Z");
        let changes = c
            .replace(
                ContactInput {
                    first_name: Some("Jane".into()),
                    email: Some("john@example.com".into()),
                    ..ContactInput::default()
                },
                t1,
            )
            .unwrap();
        // `tier` is absent too, but it already had the default.
        assert_eq!(
            changes.0,
            [
                "first_name",
                "last_name",
                "display_name",
                "phone",
                "source",
                "tags",
                "marketing_opt_in"
            ]
        );
        assert_eq!(c.display_name, "Jane");
        assert_eq!((c.version, c.updated_at), (2, t1));
        let same = c.to_input();
        assert!(c.replace(same, t1).unwrap().is_empty());
        assert_eq!(c.version, 2, "no change, no new version");
    }

    #[test]
    fn replace_cannot_move_the_stage() {
        let mut c = create(john());
        let ok = ContactInput {
            stage: Some("lead".into()),
            ..john()
        };
        assert!(c.replace(ok, t0()).is_ok());
        let moved = ContactInput {
            stage: Some("customer".into()),
            email: Some("bad".into()),
            ..john()
        };
        assert_eq!(fields(c.replace(moved, t0())), ["stage", "email"]);
        assert_eq!(c.stage, Stage::Lead);
    }

    #[test]
    fn patch_merges_and_keeps_the_rest() {
        let mut c = create(ContactInput {
            custom_attributes: Some(json!({"plan": {"seats": 3, "trial": true}, "x": 1})),
            ..john()
        });
        let changes = c
            .patch(
                ContactPatch {
                    first_name: Some(Some("Jane".into())),
                    phone: Some(None),
                    custom_attributes: Some(json!({"plan": {"trial": null}, "y": 2})),
                    ..ContactPatch::default()
                },
                t0(),
            )
            .unwrap();
        assert_eq!(
            changes.0,
            ["first_name", "display_name", "phone", "custom_attributes"]
        );
        assert_eq!(
            c.display_name, "Jane Doe",
            "a derived name follows the names"
        );
        assert_eq!(c.phone, None);
        assert_eq!(
            c.email.as_ref().map(Email::as_str),
            Some("john@example.com")
        );
        assert_eq!(
            Value::Object(c.custom_attributes.clone()),
            json!({"plan": {"seats": 3}, "x": 1, "y": 2})
        );
        assert_eq!(c.version, 2);
    }

    #[test]
    fn patch_keeps_an_explicit_display_name() {
        let mut c = create(ContactInput {
            display_name: Some("The Boss".into()),
            ..john()
        });
        let patch = ContactPatch {
            last_name: Some(Some("Smith".into())),
            ..ContactPatch::default()
        };
        c.patch(patch, t0()).unwrap();
        assert_eq!(c.display_name, "The Boss");
    }

    #[test]
    fn patch_names_nulls_on_required_fields_and_bad_values() {
        let mut c = create(john());
        let patch = ContactPatch {
            kind: Some(None),
            tier: Some(None),
            marketing_opt_in: Some(None),
            email: Some(None),
            phone: Some(None),
            custom_attributes: Some(json!(5)),
            ..ContactPatch::default()
        };
        assert_eq!(
            fields(c.patch(patch, t0())),
            [
                "kind",
                "tier",
                "marketing_opt_in",
                "email",
                "phone",
                "custom_attributes"
            ]
        );
        assert_eq!(c.version, 1);
        assert_eq!(
            c.email.as_ref().map(Email::as_str),
            Some("john@example.com")
        );
    }

    #[test]
    fn no_op_updates_do_not_bump_the_version() {
        let mut c = create(john());
        assert!(c.patch(ContactPatch::default(), t0()).unwrap().is_empty());
        assert!(c.set_tier(Tier::Free, t0()).unwrap().is_empty());
        assert!(c.set_tags(&[], t0()).unwrap().is_empty());
        assert!(c.assign(None, t0()).unwrap().is_empty());
        assert_eq!(c.version, 1);
        assert_eq!(fields(c.set_tags(&["no!".into()], t0())), ["tags[0]"]);
    }

    #[test]
    fn deleted_contacts_are_missing_until_restored() {
        let mut c = create(john());
        let t1 = at("2026-01-03T00:00:00Z");
        c.soft_delete(t1).unwrap();
        assert_eq!(c.deleted_at, Some(t1));
        assert!(matches!(
            c.apply(StageAction::Qualify, t1),
            Err(Error::NotFound { entity: "contact" })
        ));
        assert!(matches!(c.soft_delete(t1), Err(Error::NotFound { .. })));
        assert!(c.patch(ContactPatch::default(), t1).is_err());
        c.restore(t1).unwrap();
        assert!(!c.is_deleted());
        assert!(matches!(c.restore(t1), Err(Error::Conflict { .. })));
        assert_eq!(c.version, 3);
    }

    #[test]
    fn stale_version_is_refused() {
        let c = create(john());
        assert!(c.check_version(Some(1)).is_ok());
        assert!(c.check_version(None).is_ok());
        assert!(matches!(
            c.check_version(Some(2)),
            Err(Error::PreconditionFailed {
                entity: "contact",
                current_version: 1
            })
        ));
    }

    #[test]
    fn recording_an_order_updates_stats_and_version() {
        let mut c = create(john());
        let order = Order::parse(
            OrderInput {
                order_id: Some("o-1".into()),
                amount: Some(1999),
                currency: Some("eur".into()),
                ordered_at: None,
            },
            t0(),
        )
        .unwrap();
        c.record_order(&order, t0()).unwrap();
        assert_eq!(c.stats.total_orders, 1);
        assert_eq!(c.stats.currency.as_deref(), Some("EUR"));
        assert_eq!(c.version, 2);
    }

    #[test]
    fn snapshot_carries_the_state() {
        let c = create(john());
        let s = c.snapshot();
        assert_eq!(s["stage"], "lead");
        assert_eq!(s["email"], "john@example.com");
        assert_eq!(s["version"], 1);
    }
}
