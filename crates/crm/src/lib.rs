//! clientele-crm
