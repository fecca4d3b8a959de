//! `clientele`: serve (default), migrate, openapi.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clientele::{Overrides, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "clientele",
    version,
    about = "Multi-tenant customer management server"
)]
struct Cli {
    /// Database URL: sqlite://PATH, a file path, or postgres://... (config `database.url`).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Folder with default.toml and per-environment files.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "CLIENTELE_CONFIG_DIR",
        default_value = "config"
    )]
    config_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve {
        /// Address to listen on (config `server.bind`).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { bind: None });
    if let Command::Openapi = command {
        print!("{}", clientele_api::openapi_json());
        return ExitCode::SUCCESS;
    }
    let overrides = Overrides {
        database_url: cli.database_url,
        bind: match &command {
            Command::Serve { bind } => bind.clone(),
            _ => None,
        },
    };
    let settings = match Settings::load(&cli.config_dir, &overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("clientele: {e}");
            return ExitCode::from(2);
        }
    };
    clientele::init_tracing(&settings);
    let result = match command {
        Command::Migrate => migrate(&settings),
        _ => serve(&settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("clientele: {e}");
            ExitCode::FAILURE
        }
    }
}

fn migrate(settings: &Settings) -> Result<(), String> {
    let url = clientele_persistence::DatabaseUrl::parse(&settings.database.url)?;
    let mut conn = url
        .connect(settings.database.busy_timeout_ms)
        .map_err(|e| e.to_string())?;
    let applied = clientele_persistence::migrations::run(&mut conn).map_err(|e| e.to_string())?;
    if applied.is_empty() {
        println!("{}: up to date", url.redacted());
    } else {
        for version in applied {
            println!("{}: applied {version}", url.redacted());
        }
    }
    Ok(())
}

fn serve(settings: &Settings) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async {
        let started = clientele::start(settings)?;
        tracing::info!(
            addr = %started.addr,
            database = %started.db.url().redacted(),
            "listening on http://{}/ (API docs at /docs)",
            started.addr
        );
        started
            .server
            .await
            .map_err(|e| format!("server stopped with an error: {e}"))
    })
}
