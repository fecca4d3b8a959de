//! Request extractors that turn every kind of bad input into a problem naming it.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use clientele_domain::access::Actor;

use crate::state::AppState;
use futures_util::future::{ready, LocalBoxFuture, Ready};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::problem::ApiError;

/// Largest JSON body accepted unless configured otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// The configured body limit, stored as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The request id assigned by the observing middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A JSON body: content type checked, size bounded, unknown fields rejected by the
/// target type, and every error naming the offending field.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            match body.await? {
                Some(bytes) => parse_json(&bytes).map(Json),
                None => Err(ApiError::bad_request(
                    "body",
                    "the request body is empty; expected JSON",
                )),
            }
        })
    }
}

/// A JSON body that may be left out entirely (no body and no Content-Type); when it
/// is present it gets every check of [`Json`].
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            match body.await? {
                Some(bytes) => parse_json(&bytes).map(|v| OptionalJson(Some(v))),
                None => Ok(OptionalJson(None)),
            }
        })
    }
}

/// A JSON body as [`Json`] gives it, together with the parsed document: what an
/// `Idempotency-Key` fingerprints and what the card-number check scans.
#[derive(Debug)]
pub struct RawJson<T>(pub T, pub serde_json::Value);

impl<T: DeserializeOwned + 'static> FromRequest for RawJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            let Some(bytes) = body.await? else {
                return Err(ApiError::bad_request(
                    "body",
                    "the request body is empty; expected JSON",
                ));
            };
            let raw: serde_json::Value = parse_json(&bytes)?;
            Ok(RawJson(parse_json(&bytes)?, raw))
        })
    }
}

/// The `Idempotency-Key` header of a creating POST, if any.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match req.headers().get(IDEMPOTENCY_KEY) {
            None => Ok(IdempotencyKey(None)),
            Some(v) => v
                .to_str()
                .map(|s| IdempotencyKey(Some(s.to_string())))
                .map_err(|_| ApiError::invalid(IDEMPOTENCY_KEY, "must be visible ASCII")),
        };
        ready(key)
    }
}

impl IdempotencyKey {
    /// The key bound to this request: its method and path, and the body's fingerprint.
    pub fn bind(
        &self,
        req: &HttpRequest,
        body: &serde_json::Value,
    ) -> Result<Option<clientele_crm::idempotency::Idempotency>, ApiError> {
        self.0
            .as_deref()
            .map(|key| {
                clientele_crm::idempotency::Idempotency::new(
                    key,
                    format!("{} {}", req.method(), req.path()),
                    body,
                )
            })
            .transpose()
            .map_err(ApiError::from)
    }
}

/// Reads a JSON body within the limit; `None` when there is no body at all.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<Option<Vec<u8>>, ApiError>> {
    let limit = req
        .app_data::<BodyLimit>()
        .map(|l| l.0)
        .unwrap_or(DEFAULT_BODY_LIMIT);
    let has_content_type = req.headers().contains_key(header::CONTENT_TYPE);
    let content_type_ok = is_json(req);
    let declared_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if declared_len.is_some_and(|n| n > limit) {
            return Err(too_large(limit));
        }
        let mut body = Vec::with_capacity(declared_len.unwrap_or(1024).min(limit));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::bad_request("body", format!("the request body could not be read: {e}"))
            })?;
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        if body.is_empty() && !has_content_type {
            return Ok(None);
        }
        if !content_type_ok {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            )
            .detail("the request body must be JSON (Content-Type: application/json)")
            .header(header::ACCEPT, "application/json"));
        }
        Ok(Some(body))
    })
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        "Payload too large",
    )
    .detail(format!("the request body is larger than {limit} bytes"))
}

fn is_json(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        }
        _ => false,
    }
}

/// Parses JSON into `T`, reporting the path of the first bad field.
pub fn parse_json<T: DeserializeOwned + 'static>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "body",
            "the request body is empty; expected JSON",
        ));
    }
    // Every request body of this API is an object. serde would otherwise read a struct
    // from an array, positionally, and report a confusing `[0]`.
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if std::any::TypeId::of::<T>() != std::any::TypeId::of::<serde_json::Value>()
        && first != Some(b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
    {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Data => data_error(&path, &strip_position(&inner.to_string())),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON")
                    .detail(format!("the request body is not valid JSON: {inner}"))
                    .field("body", inner.to_string())
            }
        }
    })?;
    de.end().map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON")
            .detail(format!("unexpected data after the JSON value: {e}"))
            .field("body", e.to_string())
    })?;
    Ok(value)
}

/// serde messages carry " at line 1 column 12": useless once the field is named.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn join_path(parent: &str, field: &str) -> String {
    if parent.is_empty() || parent == "." {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

/// Turns serde's data errors into a 422 naming the field.
fn data_error(path: &str, msg: &str) -> ApiError {
    let backticked = |prefix: &str| {
        msg.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(field) = backticked("unknown field `") {
        // serde_path_to_error's path already ends at the unknown key.
        let full = if path == field || path.ends_with(&format!(".{field}")) {
            path.to_string()
        } else {
            join_path(path, &field)
        };
        return ApiError::invalid(full, "is not a known field");
    }
    if let Some(field) = backticked("missing field `") {
        return ApiError::invalid(join_path(path, &field), "is required");
    }
    let field = if path.is_empty() || path == "." {
        "body".to_string()
    } else {
        path.to_string()
    };
    ApiError::invalid(field, msg)
}

/// Query parameters, with the same naming of bad fields as bodies.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req, &[]).map(Query))
    }
}

/// Parses the query string into `T`, leaving out the `skip` keys (repeatable ones that
/// [`query_values`] reads, which a struct cannot hold).
pub fn parse_query<T: DeserializeOwned>(req: &HttpRequest, skip: &[&str]) -> Result<T, ApiError> {
    // `?limit=&status=` (empty values) means "not given", as in the seed's examples.
    let pairs: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, v)| !v.is_empty() && !skip.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        match data_error(&path, &msg) {
            // Query errors without a path are about the query string, not a body.
            err if err.fields().any(|f| f == "body") => ApiError::invalid("query", msg),
            err => err,
        }
    })
}

/// Every non-empty value of a repeatable query parameter, in order.
pub fn query_values(req: &HttpRequest, name: &str) -> Vec<String> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// `If-Match: "<version>"`. Absent means "update whatever is current".
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(raw) = req.headers().get(header::IF_MATCH) else {
            return ready(Ok(IfMatch(None)));
        };
        let bad = || {
            ApiError::bad_request(
                "If-Match",
                "must be an entity tag from an ETag header, like \"3\"",
            )
        };
        let parsed = raw.to_str().map_err(|_| bad()).and_then(|s| {
            let s = s.trim();
            if s == "*" {
                return Ok(IfMatch(None));
            }
            // A weak tag never matches under If-Match (RFC 9110 13.1.1): report it as stale.
            if s.starts_with("W/") {
                return Ok(IfMatch(Some(-1)));
            }
            s.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .and_then(|s| s.parse::<i64>().ok())
                .map(|v| IfMatch(Some(v)))
                .ok_or_else(bad)
        });
        ready(parsed)
    }
}

/// The entity tag of a versioned object.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Parses a UUID path segment, naming the parameter when it is not one.
pub fn path_id(raw: &str, name: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::bad_request(name, "must be a UUID"))
}

/// The project and the object of a path under `/projects/{pid}/...`, each named when
/// it is not a UUID.
pub fn project_path(pid: &str, id: &str, name: &str) -> Result<(Uuid, Uuid), ApiError> {
    Ok((path_id(pid, "pid")?, path_id(id, name)?))
}

/// The authenticated caller of a request: handlers take it as an argument and pass its
/// actor to the use case, which decides what the principal may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
        let credential = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ApiError::from(clientele_domain::Error::Internal("no app state".into()))
            })?;
            let credential = credential?;
            let principal =
                clientele_tenancy::identity::authenticate(&state.db, &state.auth, &credential)
                    .await?;
            Ok(Caller {
                actor: Actor {
                    principal,
                    request_id,
                },
            })
        })
    }
}

/// The credential of `Authorization: Bearer <credential>`.
fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(crate::problem::missing_credentials());
    };
    let value = value.to_str().map_err(|_| {
        ApiError::from(clientele_domain::Error::Unauthorized(
            "the Authorization header is not readable".into(),
        ))
    })?;
    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || credential.trim().is_empty() {
        return Err(ApiError::from(clientele_domain::Error::Unauthorized(
            "use the Bearer scheme: `Authorization: Bearer <token>`".into(),
        )));
    }
    Ok(credential.trim().to_string())
}

/// The request id, for routes that do not authenticate.
#[derive(Debug, Clone)]
pub struct ReqId(pub Option<String>);

impl FromRequest for ReqId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ReqId(
            req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        count: u32,
    }

    fn fields(err: &ApiError) -> Vec<String> {
        err.fields().map(str::to_string).collect()
    }

    #[test]
    fn names_bad_fields() {
        let e = parse_json::<Body>(br#"{"name": 5}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&e), ["name"]);

        let e = parse_json::<Body>(br#"{"name": "a", "nested": {"count": "x"}}"#).unwrap_err();
        assert_eq!(fields(&e), ["nested.count"]);

        let e = parse_json::<Body>(br#"{"name": "a", "extra": 1}"#).unwrap_err();
        assert_eq!(fields(&e), ["extra"]);

        let e =
            parse_json::<Body>(br#"{"name": "a", "nested": {"count": 1, "x": 2}}"#).unwrap_err();
        assert_eq!(fields(&e), ["nested.x"]);

        let e = parse_json::<Body>(br#"{"name": "a", "nested": {}}"#).unwrap_err();
        assert_eq!(fields(&e), ["nested.count"]);

        let e = parse_json::<Body>(br#"{}"#).unwrap_err();
        assert_eq!(fields(&e), ["name"]);

        let e = parse_json::<Body>(br#"{"name": "#).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);

        let e = parse_json::<Body>(b"").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);

        let e = parse_json::<Body>(br#"{"name": "a"} trailing"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }
}
