//! The committed OpenAPI document must match what the code generates.

use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json")
}

#[test]
fn committed_spec_matches_the_code() {
    let generated = clientele_api::openapi_json();
    let path = committed_path();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p clientele-e2e openapi` \
         (or `cargo run -- openapi > openapi/openapi.json`) and commit it"
    );
}

#[test]
fn every_operation_documents_its_errors() {
    let spec: serde_json::Value = serde_json::from_str(&clientele_api::openapi_json()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/customers"));
    assert!(paths.contains_key("/api/v1/customers/{id}/settings"));
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            // Served from memory: nothing about the request can make it fail.
            let infallible = path == "/api/v1/settings/schema";
            if path.starts_with("/api/") && !infallible {
                let has_problem = responses.iter().any(|(code, r)| {
                    code.starts_with('4') && r["content"].get("application/problem+json").is_some()
                });
                assert!(has_problem, "{method} {path} documents no problem response");
            }
        }
    }
}
