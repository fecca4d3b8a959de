//! What every handler can reach.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clientele_persistence::Db;
use clientele_tenancy::identity::AuthService;

use crate::metrics::Metrics;
use crate::routing::RouteTable;

pub struct AppState {
    pub db: Db,
    pub auth: Arc<AuthService>,
    /// The settings schema and platform defaults.
    pub platform: Arc<clientele_tenancy::settings::Platform>,
    pub metrics: Metrics,
    pub signup_limiter: RateLimiter,
    /// The OpenAPI document, serialized once.
    pub openapi_json: String,
    /// Known (method, path) pairs, to tell 404 from 405.
    pub routes: RouteTable,
}

/// A fixed-window limit per client address (sign-up is open to anyone).
pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    hits: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        Self {
            per_window,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when `ip` used up its window.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        // Forget finished windows so the map stays as small as the set of active clients.
        if hits.len() > 10_000 {
            hits.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = hits.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            let wait = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}
