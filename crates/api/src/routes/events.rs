//! `GET /api/v1/events`: the event feed and audit log.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_persistence::events::{Event, FeedPosition};
use clientele_tenancy::events as uc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::cursor;
use crate::extract::{Caller, Query};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{AuthErrors, ListErrors};
use crate::state::AppState;

/// Something that happened, written in the same transaction as the change.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    pub id: Uuid,
    /// For example `customer.suspended`, `project.created`, `member.updated`.
    #[serde(rename = "type")]
    #[schema(example = "customer.suspended")]
    pub event_type: String,
    pub customer_id: Uuid,
    pub project_id: Option<Uuid>,
    /// The object the event is about.
    pub subject_id: Uuid,
    /// The new state and, for updates, the changed fields.
    pub payload: Value,
    /// Who: `user:<id>`, `platform_admin:<id>`, `api_key:<id>` or `system`.
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// The feed position just after this event.
    pub cursor: String,
}

pub fn position_cursor(p: FeedPosition) -> String {
    cursor::encode(&[&p.tx_id.to_string(), &p.seq.to_string()])
}

pub fn parse_position(raw: &str, field: &str) -> Result<FeedPosition, ApiError> {
    let parts = cursor::decode(raw, 2, field)?;
    let num = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| ApiError::bad_request(field, "is not a cursor returned by this API"))
    };
    Ok(FeedPosition {
        tx_id: num(&parts[0])?,
        seq: num(&parts[1])?,
    })
}

impl From<Event> for EventBody {
    fn from(e: Event) -> Self {
        EventBody {
            cursor: position_cursor(e.position()),
            id: e.id,
            event_type: e.event_type,
            customer_id: e.customer_id,
            project_id: e.project_id,
            subject_id: e.subject_id,
            payload: e.payload,
            actor: e.actor,
            request_id: e.request_id,
            occurred_at: e.occurred_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Resume after this cursor (`next_cursor` of the previous page); absent: from the start.
    pub after: Option<String>,
    /// Only these event types, comma-separated (`customer.suspended,customer.activated`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
    /// Platform admins and billing keys: only this customer's events.
    pub customer_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<EventBody>,
    /// Pass as `after` to continue; equal to `after` when nothing new has happened yet.
    pub next_cursor: String,
}

/// Events in order. A reader that resumes from its last `next_cursor` never misses or
/// repeats one, also while many writers commit at once. Owners and admins read their
/// own customer's; platform admins and billing keys read every customer's.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(EventsQuery),
    responses((status = 200, description = "A page of events", body = EventPage),
              (status = 400, description = "The cursor is not one this API returned",
               body = crate::problem::Problem, content_type = "application/problem+json"),
              ListErrors, AuthErrors)
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<EventsQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 500"));
    }
    let after = match q.after.as_deref() {
        Some(raw) => parse_position(raw, "after")?,
        None => FeedPosition::default(),
    };
    let types: Vec<String> = q
        .event_type
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let events = uc::feed(&state.db, &caller.actor, q.customer_id, after, types, limit).await?;
    let next = events.last().map(|e| e.position()).unwrap_or(after);
    Ok(HttpResponse::Ok().json(EventPage {
        events: events.into_iter().map(Into::into).collect(),
        next_cursor: position_cursor(next),
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_events);
}
