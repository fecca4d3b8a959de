//! RFC 9457 problem details: the one shape of every error response.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use clientele_domain::{Error, FieldError};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

tokio::task_local! {
    /// The current request id, so that error bodies can carry it.
    pub(crate) static REQUEST_ID: String;
}

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    /// JSON path of the field (`settings.features.max_users`), query parameter, header or path segment.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation-error`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id (also in the `X-Request-Id` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every invalid field, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// Extension members of specific problem types (`allowed_actions`, `current_version`...).
    #[serde(flatten)]
    #[schema(additional_properties)]
    pub extensions: Map<String, Value>,
}

/// An error on its way to becoming a problem+json response. Boxed: it travels in
/// every `Result` of the request path and should cost one pointer there.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<FieldError>,
    extensions: Map<String, Value>,
    headers: Vec<(header::HeaderName, String)>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0.status.as_u16(), self.0.title)?;
        if let Some(d) = &self.0.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str) -> Self {
        ApiError(Box::new(Inner {
            status,
            kind,
            title,
            detail: None,
            errors: Vec::new(),
            extensions: Map::new(),
            headers: Vec::new(),
        }))
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub fn field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.0.errors.push(FieldError::new(field, message));
        self
    }

    pub fn extension(mut self, key: &str, value: Value) -> Self {
        self.0.extensions.insert(key.to_string(), value);
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.0.headers.push((name, value.into()));
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The names of the fields this error reports.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.errors.iter().map(|e| e.field.as_str())
    }

    /// 400 for input that cannot be read at all (malformed JSON, bad path id...).
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", "Bad request")
            .detail(message.clone())
            .field(field, message)
    }

    /// 422 naming one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::from(Error::Validation(vec![FieldError::new(field, message)]))
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found").detail(detail)
    }

    fn to_problem(&self) -> Problem {
        let e = &self.0;
        Problem {
            kind: format!("/problems/{}", e.kind),
            title: e.title.to_string(),
            status: e.status.as_u16(),
            detail: e.detail.clone(),
            request_id: REQUEST_ID.try_with(|id| id.clone()).ok(),
            errors: e
                .errors
                .iter()
                .map(|e| ProblemField {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            extensions: e.extensions.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.0.status);
        res.content_type(PROBLEM_JSON);
        for (name, value) in &self.0.headers {
            res.insert_header((name.clone(), value.clone()));
        }
        res.json(self.to_problem())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Validation(errors) => {
                let detail = if errors.len() == 1 {
                    format!("{}: {}", errors[0].field, errors[0].message)
                } else {
                    format!("{} fields are invalid", errors.len())
                };
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation-error",
                    "Invalid request",
                )
                .detail(detail);
                err.0.errors = errors;
                err
            }
            Error::NotFound { entity } => ApiError::not_found(format!("{entity} not found")),
            Error::Conflict {
                code,
                detail,
                field,
            } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "conflict", "Conflict")
                    .detail(detail.clone())
                    .extension("code", Value::from(code));
                if let Some(field) = field {
                    err = err.field(field, detail);
                }
                err
            }
            Error::InvalidTransition {
                entity,
                current,
                action,
                allowed,
            } => {
                let detail = format!(
                    "cannot {action} a {entity} that is {current}; allowed: {}",
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                );
                ApiError::new(
                    StatusCode::CONFLICT,
                    "invalid-transition",
                    "Transition not allowed",
                )
                .detail(detail)
                // A contact's lifecycle position is its stage (its status is another field).
                .extension(
                    if entity == "contact" {
                        "current_stage"
                    } else {
                        "current_status"
                    },
                    Value::from(current),
                )
                .extension("action", Value::from(action))
                .extension("allowed_actions", Value::from(allowed))
            }
            Error::PreconditionFailed {
                entity,
                current_version,
            } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Precondition failed",
            )
            .detail(format!(
                "the {entity} has changed; its current ETag is \"{current_version}\""
            ))
            .extension(
                "current_etag",
                Value::from(format!("\"{current_version}\"")),
            )
            .header(header::ETAG, format!("\"{current_version}\"")),
            Error::Unauthorized(why) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
                    .detail(why.clone())
                    .header(
                        header::WWW_AUTHENTICATE,
                        format!(
                    "Bearer realm=\"clientele\", error=\"invalid_token\", error_description=\"{}\"",
                    why.replace('"', "'")
                ),
                    )
            }
            Error::Forbidden { code, detail } => {
                ApiError::new(StatusCode::FORBIDDEN, problem_kind(code), "Forbidden").detail(detail)
            }
            Error::TooManyRequests {
                detail,
                retry_after_secs,
            } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
            )
            .detail(detail)
            .header(header::RETRY_AFTER, retry_after_secs.to_string()),
            Error::Unavailable(msg) => {
                tracing::warn!(error = %msg, "service unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service unavailable",
                )
                .detail("the database is not available right now; retry later")
                .header(header::RETRY_AFTER, "1")
            }
            Error::Internal(msg) => {
                // Never sent to the client: it may hold SQL or internal names.
                tracing::error!(error = %msg, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal server error",
                )
                .detail("an unexpected error occurred; quote the request id when reporting it")
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Problem type slugs of the 403 codes (`tenant_suspended` -> `tenant-suspended`).
fn problem_kind(code: &str) -> &'static str {
    match code {
        "tenant_suspended" => "tenant-suspended",
        "tenant_inactive" => "tenant-inactive",
        _ => "forbidden",
    }
}

/// 401 for a request without credentials.
pub fn missing_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
        .detail("this route needs `Authorization: Bearer <access token or API key>`")
        .header(header::WWW_AUTHENTICATE, "Bearer realm=\"clientele\"")
}
