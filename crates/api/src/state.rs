//! What every handler can reach.

use clientele_persistence::Db;

use crate::metrics::Metrics;
use crate::routing::RouteTable;

pub struct AppState {
    pub db: Db,
    pub metrics: Metrics,
    /// The OpenAPI document, serialized once.
    pub openapi_json: String,
    /// Known (method, path) pairs, to tell 404 from 405.
    pub routes: RouteTable,
}
