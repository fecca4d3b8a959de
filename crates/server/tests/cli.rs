//! The `clientele` command line: migrate, openapi, and refusing bad configuration.

use std::process::Command;

fn clientele() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clientele"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--config-dir")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"))
        .env_remove("CLIENTELE_ENV")
        .env_remove("RUST_LOG");
    cmd
}

fn temp_db() -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("clientele-cli-{}", std::process::id()));
    let url = format!("sqlite://{}/sub/dir/c.db", dir.display());
    (dir, url)
}

#[test]
fn migrate_creates_the_database_and_is_idempotent() {
    let (dir, url) = temp_db();
    let _ = std::fs::remove_dir_all(&dir);
    let out = clientele()
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("applied"), "{stdout}");
    assert!(dir.join("sub/dir/c.db").exists(), "the folder was created");

    let again = clientele()
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openapi_prints_the_committed_document() {
    let out = clientele().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/openapi.json"
    ))
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), committed);
}

#[test]
fn bad_configuration_stops_start_up_naming_the_key() {
    let cases = [
        ("CLIENTELE__SERVER__BIND", "nowhere", "server.bind"),
        (
            "CLIENTELE__DATABASE__POOL_SIZE",
            "lots",
            "database.pool_size",
        ),
        ("CLIENTELE__DATABASE__URL", "mysql://db", "database.url"),
        ("CLIENTELE__SERVER__PORT", "80", "port"),
    ];
    for (key, value, named) in cases {
        let out = clientele().arg("serve").env(key, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{key}={value}: {stderr}");
    }
    let out = clientele()
        .arg("serve")
        .env("CLIENTELE_ENV", "does-not-exist")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist.toml"));
}

#[test]
fn help_lists_the_commands() {
    let out = clientele().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "migrate", "openapi", "--database-url"] {
        assert!(text.contains(word), "{text}");
    }
    let out = clientele().args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--bind"));
}

/// A database the server holds alone (`database.exclusive`) keeps the other commands
/// out, with a message that says why, until it is closed; and a server asked to hold
/// alone a file that another process has open refuses to start, saying so.
#[test]
fn an_exclusive_database_keeps_other_processes_out_while_open() {
    let dir = std::env::temp_dir().join(format!("clientele-cli-excl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/e.db", dir.display());
    let migrate = |busy_ms: &str| {
        let mut cmd = clientele();
        cmd.args(["migrate", "--database-url", &url])
            .env("CLIENTELE__DATABASE__BUSY_TIMEOUT_MS", busy_ms);
        cmd
    };

    let options = clientele_persistence::DbOptions {
        sqlite_exclusive: true,
        ..Default::default()
    };
    let db = clientele_persistence::Db::open(&url, &options).unwrap();
    let out = migrate("200").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("database is locked") && stderr.contains("database.exclusive"),
        "{stderr}"
    );
    // A command started while the file is held waits for it (busy_timeout), and runs
    // once the holder has let go: its threads close their connections as they end,
    // and the lock goes with the last.
    let waiting = migrate("10000")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    drop(db);
    let out = waiting.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));

    let shared = clientele_persistence::DatabaseUrl::parse(&url)
        .unwrap()
        .connect(1_000)
        .unwrap();
    let out = clientele()
        .arg("serve")
        .env("CLIENTELE__DATABASE__URL", &url)
        .env("CLIENTELE__DATABASE__EXCLUSIVE", "true")
        .env("CLIENTELE__DATABASE__BUSY_TIMEOUT_MS", "200")
        .env("CLIENTELE__SERVER__BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("another process has it open"), "{stderr}");
    drop(shared);
    let _ = std::fs::remove_dir_all(&dir);
}
