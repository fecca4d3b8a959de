//! `clientele`: serve (default), migrate, openapi.

use std::path::PathBuf;
use std::process::ExitCode;

mod memory;

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
    /// Platform administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// API keys for machines (shown once at creation, stored hashed).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a platform admin (an operator of the service).
    CreatePlatformAdmin {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (required: never pass it as an argument).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print its secret (the only time it is shown).
    Create {
        #[arg(long)]
        name: String,
        /// billing:read (platform keys), contacts:read, contacts:write (customer keys). Repeatable.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// The customer owning the key; omit for a platform key.
        #[arg(long)]
        customer: Option<uuid::Uuid>,
        /// Limit a customer's key to one project.
        #[arg(long)]
        project: Option<uuid::Uuid>,
    },
}

fn main() -> ExitCode {
    memory::tune_allocator();
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
        Command::Admin {
            command:
                AdminCommand::CreatePlatformAdmin {
                    email,
                    password_stdin,
                },
        } => create_platform_admin(&settings, &email, password_stdin),
        Command::ApiKey {
            command:
                ApiKeyCommand::Create {
                    name,
                    scopes,
                    customer,
                    project,
                },
        } => create_api_key(&settings, name, scopes, customer, project),
        _ => serve(&settings),
    };
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("clientele: {e}");
            ExitCode::FAILURE
        }
    };
    // The last lines may still be in the log buffer.
    clientele::log_sink::flush();
    code
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
        memory::return_memory_when_idle();
        tracing::info!(
            addr = %started.addr,
            database = %started.db.url().redacted(),
            pool_size = started.db.pool_state().2,
            "listening on http://{}/ (API docs at /docs)",
            started.addr
        );
        let result = started
            .server
            .await
            .map_err(|e| format!("server stopped with an error: {e}"));
        started.webhooks.stop();
        result
    })
}

fn open_db(settings: &Settings) -> Result<clientele_persistence::Db, String> {
    clientele_persistence::Db::open(&settings.database.url, &settings.db_options())
        .map_err(|e| format!("cannot open the database: {e}"))
}

fn create_platform_admin(
    settings: &Settings,
    email: &str,
    password_stdin: bool,
) -> Result<(), String> {
    if !password_stdin {
        return Err("pass the password on standard input with --password-stdin".into());
    }
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    let auth = settings.auth_service()?;
    actix_web::rt::System::new().block_on(async {
        let db = open_db(settings)?;
        let user = clientele_tenancy::identity::create_platform_admin(
            &db,
            &auth.passwords,
            email,
            password,
        )
        .await
        .map_err(|e| e.to_string())?;
        println!("created platform admin {} ({})", user.email, user.id);
        Ok(())
    })
}

fn create_api_key(
    settings: &Settings,
    name: String,
    scopes: Vec<String>,
    customer: Option<uuid::Uuid>,
    project: Option<uuid::Uuid>,
) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async {
        let db = open_db(settings)?;
        let (key, secret) = clientele_tenancy::api_keys::create(
            &db,
            clientele_domain::Audit::system(),
            clientele_tenancy::api_keys::NewApiKey {
                name,
                scopes,
                customer_id: customer,
                project_id: project,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        println!("id:     {}", key.id);
        println!("scopes: {}", key.scopes.join(", "));
        println!("key:    {secret}");
        eprintln!("store the key now: it is not shown again");
        Ok(())
    })
}
