//! The outermost middleware: request id, tracing span, access log and metrics.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use tracing::Instrument;

use crate::extract::RequestId;
use crate::problem::REQUEST_ID;
use crate::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Accepts a caller's request id if it is short and printable; otherwise makes one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| clientele_domain::new_id().to_string())
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let span =
        tracing::info_span!("request", request_id = %id, method = %method, path = %req.path());

    let result = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await;
    let mut res = match result {
        Ok(res) => res.map_into_boxed_body(),
        Err(err) => {
            // Handlers turn their errors into responses; only a failure inside the
            // framework gets here. Count it, then let actix render it.
            let status = err.as_response_error().status_code().as_u16();
            if let Some(state) = &state {
                let seconds = started.elapsed().as_secs_f64();
                state.metrics.observe(&method, "unmatched", status, seconds);
            }
            return Err(err);
        }
    };

    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state
            .metrics
            .observe(&method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            route = %route,
            latency_us = elapsed.as_micros() as u64,
            "request completed"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(res)
}
