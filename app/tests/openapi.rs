//! The OpenAPI document: a committed snapshot (`app/openapi.json`) that must
//! match what the service serves, so API changes show up in review.
//! Regenerate with `TUTORBOOK_UPDATE_OPENAPI=1 cargo test -p tutorbook-app --test openapi`.

use serde_json::Value;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

fn spec() -> Value {
    serde_json::from_str(&tutorbook_app::http::openapi_json()).expect("the spec is JSON")
}

#[test]
fn the_committed_snapshot_matches_the_served_document() {
    let served = tutorbook_app::http::openapi_json();
    if std::env::var("TUTORBOOK_UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(SNAPSHOT, format!("{served}\n")).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        committed.trim_end() == served.trim_end(),
        "app/openapi.json is out of date with the API. Regenerate it with\n\n    \
         TUTORBOOK_UPDATE_OPENAPI=1 cargo test -p tutorbook-app --test openapi\n\n\
         then review and commit the diff."
    );
}

#[test]
fn every_refusal_is_documented_as_a_problem_and_every_post_takes_an_idempotency_key() {
    let spec = spec();
    let paths = spec["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            operations += 1;
            for (status, response) in op["responses"].as_object().expect("responses") {
                let content = response["content"].as_object();
                if status.starts_with('4') || status.starts_with('5') {
                    let types: Vec<&String> = content.map(|c| c.keys().collect()).unwrap_or_default();
                    assert_eq!(types, ["application/problem+json"], "{method} {path} {status}");
                }
            }
            let secured = op.get("security").is_some();
            let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            if secured {
                assert!(statuses.iter().any(|s| *s == "401"), "{method} {path} lists 401");
            }
            if method == "post" && !path.starts_with("/auth/") {
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
                    "{method} {path} documents Idempotency-Key"
                );
            }
        }
    }
    assert!(operations >= 25, "only {operations} operations");
    assert_eq!(spec["components"]["securitySchemes"]["BearerAuth"]["scheme"], "bearer");
}
