//! Configuration: embedded defaults, files, environment, flags. Unknown keys and bad
//! values stop start-up with a message that names the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clientele_persistence::DatabaseUrl;
use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    /// The platform level of settings inheritance, checked against the settings schema.
    #[serde(default)]
    pub platform_settings: serde_json::Map<String, serde_json::Value>,
    pub webhooks: WebhookSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub allow_private_targets: bool,
    pub poll_interval_ms: u64,
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
    pub request_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub keys: Vec<KeySettings>,
    pub active_kid: String,
    pub signups_per_hour: u32,
    pub default_currency: String,
    pub password: PasswordSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    pub kid: String,
    pub private_key_pem: Option<String>,
    pub private_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    pub workers: usize,
    pub body_limit_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub acquire_timeout_ms: u64,
    pub busy_timeout_ms: u32,
    pub migrate_on_start: bool,
    pub exclusive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// Values given on the command line; they win over every other source.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub bind: Option<String>,
}

impl Settings {
    /// Loads the layers from `dir` (usually `config/`) and the process environment.
    pub fn load(dir: &Path, overrides: &Overrides) -> Result<Settings, String> {
        Self::load_from(dir, std::env::var("CLIENTELE_ENV").ok(), overrides, None)
    }

    /// `env_vars` replaces the process environment (tests); `None` reads the real one.
    pub fn load_from(
        dir: &Path,
        environment: Option<String>,
        overrides: &Overrides,
        env_vars: Option<Vec<(String, String)>>,
    ) -> Result<Settings, String> {
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .add_source(File::from(dir.join("default.toml")).required(false));
        if let Some(env) = environment.filter(|e| !e.is_empty()) {
            let path: PathBuf = dir.join(format!("{env}.toml"));
            if !path.exists() {
                return Err(format!(
                    "CLIENTELE_ENV is `{env}` but {} does not exist",
                    path.display()
                ));
            }
            builder = builder.add_source(File::from(path));
        }
        let mut env_source = Environment::with_prefix("CLIENTELE")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true);
        if let Some(vars) = env_vars {
            env_source = env_source.source(Some(vars.into_iter().collect()));
        }
        builder = builder.add_source(env_source);
        if let Some(url) = &overrides.database_url {
            builder = builder
                .set_override("database.url", url.as_str())
                .map_err(|e| e.to_string())?;
        }
        if let Some(bind) = &overrides.bind {
            builder = builder
                .set_override("server.bind", bind.as_str())
                .map_err(|e| e.to_string())?;
        }
        let settings: Settings = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| format!("invalid configuration: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), String> {
        DatabaseUrl::parse(&self.database.url)
            .map_err(|e| format!("invalid configuration: key `database.url`: {e}"))?;
        if self.server.body_limit_bytes < 1024 {
            return Err(
                "invalid configuration: key `server.body_limit_bytes` must be at least 1024".into(),
            );
        }
        let a = &self.auth;
        if a.password.memory_kib < 19456 || a.password.iterations < 2 {
            return Err("invalid configuration: key `auth.password`: argon2 needs at least memory_kib = 19456 and iterations = 2".into());
        }
        if a.access_token_ttl_secs < 60 || a.refresh_token_ttl_secs < a.access_token_ttl_secs {
            return Err("invalid configuration: key `auth.access_token_ttl_secs`: at least 60, and no longer than auth.refresh_token_ttl_secs".into());
        }
        if a.default_currency.len() != 3
            || !a.default_currency.bytes().all(|b| b.is_ascii_uppercase())
        {
            return Err(
                "invalid configuration: key `auth.default_currency`: an ISO 4217 code such as USD"
                    .into(),
            );
        }
        for k in &a.keys {
            if k.private_key_pem.is_some() == k.private_key_file.is_some() {
                return Err(format!("invalid configuration: key `auth.keys` ({}): give exactly one of private_key_pem and private_key_file", k.kid));
            }
        }
        let w = &self.webhooks;
        if w.poll_interval_ms == 0 || w.max_attempts == 0 || w.request_timeout_ms == 0 {
            return Err("invalid configuration: key `webhooks`: poll_interval_ms, max_attempts and request_timeout_ms must be at least 1".into());
        }
        if w.backoff_cap_ms < w.backoff_base_ms {
            return Err("invalid configuration: key `webhooks.backoff_cap_ms` must be at least webhooks.backoff_base_ms".into());
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| format!("invalid configuration: key `log.level`: {e}"))?;
        Ok(())
    }

    pub fn db_options(&self) -> clientele_persistence::DbOptions {
        clientele_persistence::DbOptions {
            pool_size: self.database.pool_size,
            acquire_timeout: std::time::Duration::from_millis(self.database.acquire_timeout_ms),
            busy_timeout_ms: self.database.busy_timeout_ms,
            migrate: self.database.migrate_on_start,
            sqlite_exclusive: self.database.exclusive,
            ..Default::default()
        }
    }
}

impl Settings {
    /// Builds the password and token services from `[auth]`.
    pub fn auth_service(&self) -> Result<clientele_tenancy::identity::AuthService, String> {
        use clientele_tenancy::auth::{KeyConfig, PasswordConfig, Passwords, TokenConfig, Tokens};
        let a = &self.auth;
        let mut keys = Vec::new();
        for k in &a.keys {
            let pem = match (&k.private_key_pem, &k.private_key_file) {
                (Some(pem), _) => pem.clone(),
                (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                    format!(
                        "invalid configuration: key `auth.keys` ({}): cannot read {}: {e}",
                        k.kid,
                        path.display()
                    )
                })?,
                (None, None) => unreachable!("validated"),
            };
            keys.push(KeyConfig {
                kid: k.kid.clone(),
                private_key_pem: pem,
            });
        }
        let tokens = Tokens::new(&TokenConfig {
            issuer: a.issuer.clone(),
            audience: a.audience.clone(),
            access_ttl_secs: a.access_token_ttl_secs,
            keys,
            active_kid: a.active_kid.clone(),
        })
        .map_err(|e| format!("invalid configuration: key `auth.keys`: {e}"))?;
        let passwords = Passwords::new(&PasswordConfig {
            memory_kib: a.password.memory_kib,
            iterations: a.password.iterations,
            parallelism: a.password.parallelism,
            max_concurrent: a.password.max_concurrent,
        })
        .map_err(|e| format!("invalid configuration: key `auth.password`: {e}"))?;
        Ok(clientele_tenancy::identity::AuthService {
            passwords,
            tokens,
            states: clientele_tenancy::auth::AuthStates::default(),
            refresh_ttl_secs: a.refresh_token_ttl_secs,
            default_currency: a.default_currency.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)], overrides: Overrides) -> Result<Settings, String> {
        let vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load_from(Path::new("/nonexistent"), None, &overrides, Some(vars))
    }

    #[test]
    fn defaults_are_complete() {
        let s = load(&[], Overrides::default()).unwrap();
        assert_eq!(s.server.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database.url, "sqlite://data/clientele.db");
        assert_eq!(s.log.format, LogFormat::Text);
        assert!(!s.webhooks.allow_private_targets);
        // Other processes (the CLI, backups) may open the default database.
        assert!(!s.db_options().sqlite_exclusive);
    }

    #[test]
    fn environment_then_flags_win() {
        let s = load(
            &[
                ("CLIENTELE__SERVER__BIND", "0.0.0.0:9000"),
                ("CLIENTELE__DATABASE__URL", "sqlite://env.db"),
                ("CLIENTELE__DATABASE__POOL_SIZE", "3"),
                ("CLIENTELE__DATABASE__EXCLUSIVE", "true"),
            ],
            Overrides {
                database_url: Some("postgres://flag@localhost/db".into()),
                bind: None,
            },
        )
        .unwrap();
        assert_eq!(s.server.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(s.database.pool_size, 3);
        assert!(s.db_options().sqlite_exclusive);
        assert_eq!(s.database.url, "postgres://flag@localhost/db");
    }

    #[test]
    fn errors_name_the_key() {
        let e = load(
            &[("CLIENTELE__SERVER__BIND", "not-an-address")],
            Overrides::default(),
        )
        .unwrap_err();
        assert!(e.contains("server.bind"), "{e}");
        let e = load(
            &[("CLIENTELE__DATABASE__POOL_SIZE", "many")],
            Overrides::default(),
        )
        .unwrap_err();
        assert!(e.contains("database.pool_size"), "{e}");
        let e = load(&[("CLIENTELE__SERVER__BINDD", "x")], Overrides::default()).unwrap_err();
        assert!(e.contains("bindd"), "{e}");
        let e = load(
            &[("CLIENTELE__DATABASE__URL", "mysql://x")],
            Overrides::default(),
        )
        .unwrap_err();
        assert!(e.contains("database.url"), "{e}");
        let s = load(
            &[("CLIENTELE__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")],
            Overrides::default(),
        )
        .unwrap();
        assert!(s.webhooks.allow_private_targets);
        let e = load(
            &[("CLIENTELE__DATABASE__EXCLUSIVE", "maybe")],
            Overrides::default(),
        )
        .unwrap_err();
        assert!(e.contains("database.exclusive"), "{e}");
        let e = load(&[("CLIENTELE__LOG__FORMAT", "xml")], Overrides::default()).unwrap_err();
        assert!(e.contains("log.format"), "{e}");
    }
}
