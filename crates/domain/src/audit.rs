//! Who made a change and under which request: written on every event row.

/// The origin of a change, recorded with its event (the audit trail).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    /// `user:<id>`, `api_key:<id>`, `platform_admin:<id>`, `system`; `None` when unknown.
    pub actor: Option<String>,
    pub request_id: Option<String>,
}

impl Audit {
    pub fn system() -> Self {
        Self {
            actor: Some("system".into()),
            request_id: None,
        }
    }
}
