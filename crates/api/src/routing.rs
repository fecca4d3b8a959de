//! Tells "no such path" (404) from "no such method on this path" (405), from the
//! OpenAPI document so that it always matches the registered routes.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Default)]
pub struct RouteTable {
    /// (path segments, methods); `None` segments are `{params}`.
    routes: Vec<(Vec<Option<String>>, Vec<String>)>,
}

impl RouteTable {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> RouteTable {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = split(path)
                    .map(|s| {
                        if s.starts_with('{') {
                            None
                        } else {
                            Some(s.to_string())
                        }
                    })
                    .collect();
                let methods = [
                    (item.get.is_some(), "GET"),
                    (item.post.is_some(), "POST"),
                    (item.put.is_some(), "PUT"),
                    (item.patch.is_some(), "PATCH"),
                    (item.delete.is_some(), "DELETE"),
                ]
                .into_iter()
                .filter(|(has, _)| *has)
                .map(|(_, m)| m.to_string())
                .collect();
                (segments, methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods allowed on `path`, or `None` if no route has that path.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = split(path).collect();
        let mut found: Option<Vec<String>> = None;
        for (segments, methods) in &self.routes {
            let matches = segments.len() == parts.len()
                && segments
                    .iter()
                    .zip(&parts)
                    .all(|(seg, part)| seg.as_deref().is_none_or(|s| s == *part));
            if matches {
                found
                    .get_or_insert_with(Vec::new)
                    .extend(methods.iter().cloned());
            }
        }
        found
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The default service: a problem+json 404, or 405 with `Allow`.
pub async fn fallback(req: HttpRequest, state: Option<web::Data<AppState>>) -> HttpResponse {
    let allowed = state.and_then(|s| s.routes.allowed(req.path()));
    match allowed {
        // The method is allowed but nothing answered (e.g. a trailing slash): not found.
        Some(methods)
            if !methods.is_empty() && !methods.iter().any(|m| m == req.method().as_str()) =>
        {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            )
            .detail(format!(
                "{} is not allowed on {}; allowed: {}",
                req.method(),
                req.path(),
                methods.join(", ")
            ))
            .header(header::ALLOW, methods.join(", "))
            .error_response()
        }
        _ => ApiError::not_found(format!("no route for {}", req.path())).error_response(),
    }
}
