//! The `clientele` server: configuration, start-up and the pieces the CLI runs.

pub mod config;
pub mod log_sink;
pub mod webhooks;

use std::net::SocketAddr;

use actix_web::dev::Server;
use actix_web::HttpServer;
use clientele_persistence::Db;

pub use crate::config::{LogFormat, Overrides, Settings};

/// A bound, not yet awaited server.
pub struct Started {
    pub server: Server,
    pub addr: SocketAddr,
    pub db: Db,
    pub auth: std::sync::Arc<clientele_tenancy::identity::AuthService>,
    /// The webhook delivery worker; `stop()` it after the server has finished.
    pub webhooks: webhooks::WebhookWorker,
}

/// Opens the database (applying migrations if configured), binds and builds the server.
/// The caller awaits (or spawns) `server`.
pub fn start(settings: &Settings) -> Result<Started, String> {
    let db = Db::open(&settings.database.url, &settings.db_options())
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let auth = std::sync::Arc::new(settings.auth_service()?);
    let platform = std::sync::Arc::new(clientele_tenancy::settings::Platform::new(
        settings.platform_settings.clone(),
    )?);
    let state = clientele_api::state(
        db.clone(),
        auth.clone(),
        platform,
        settings.auth.signups_per_hour,
    )?;
    let body_limit = settings.server.body_limit_bytes;
    let worker_config = webhooks::WorkerConfig::from_settings(&settings.webhooks);
    let target_policy = actix_web::web::Data::new(worker_config.policy);
    let mut http = HttpServer::new(move || {
        clientele_api::app(state.clone(), body_limit).app_data(target_policy.clone())
    });
    if settings.server.workers > 0 {
        http = http.workers(settings.server.workers);
    }
    let http = http
        .bind(settings.server.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", settings.server.bind))?;
    let addr = http
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| "the server bound no address".to_string())?;
    let webhooks = webhooks::WebhookWorker::start(db.clone(), worker_config)?;
    Ok(Started {
        server: http.run(),
        addr,
        db,
        auth,
        webhooks,
    })
}

/// Sets up tracing output: human-readable or JSON, filtered by RUST_LOG or config.
pub fn init_tracing(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a terminal: escape codes in a log file cost CPU on every line and
    // make the file harder to read.
    let builder = tracing_subscriber::fmt()
        .with_writer(log_sink::BufferedStdout)
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = match settings.log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}
