//! The OpenAPI document as served at `/openapi.json`: poem-openapi's, plus
//! the answers that the layers in front of the operations give, which no
//! operation declares itself (docs/api.md):
//!
//! - `400 invalid_input` on every operation: a path, query or header value,
//!   or a body, that does not parse or lies outside its declared bounds;
//! - `413 payload_too_large` and `415 unsupported_media_type` on every
//!   operation that takes a body;
//! - `429 rate_limited` on sign-ins and reads (a read without a token is
//!   rate limited per client address);
//! - `503` on every operation (`timed_out`: the request ran past the time
//!   limit; or the store is unavailable).
//!
//! The same paths answer `Allow` on a `405` ([`allowed_methods`]).

use std::sync::OnceLock;

use serde_json::{Value, json};

/// The document, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc: Value = serde_json::from_str(&super::api_service().spec()).expect("poem-openapi writes JSON");
        add_layer_answers(&mut doc);
        serde_json::to_string_pretty(&doc).expect("a JSON value is text")
    })
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

fn add_layer_answers(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            let Some(operation) = item.get_mut(method) else {
                continue;
            };
            let takes_body = operation.get("requestBody").is_some();
            let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let mut add = |status: &str, description: &str| {
                responses.entry(status).or_insert_with(|| problem(description));
            };
            add(
                "400",
                "A value that does not parse or lies outside its declared bounds (`invalid_input`).",
            );
            if takes_body {
                add("413", "A body over 1 MiB (`payload_too_large`).");
                add(
                    "415",
                    "A body that is not `application/json` (`unsupported_media_type`).",
                );
            }
            if method == "get" || path.starts_with("/auth/") {
                add(
                    "429",
                    "Too many requests from this address (`rate_limited`); see `Retry-After`.",
                );
            }
            add(
                "503",
                "The request ran past the time limit (`timed_out`) or the store is unavailable; retry.",
            );
        }
    }
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {
            "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } }
        }
    })
}

/// The methods the API serves at `path` (under the API prefix), for the
/// `Allow` header of a `405`; `None` for a path it does not serve.
pub fn allowed_methods(path: &str) -> Option<String> {
    static ROUTES: OnceLock<Vec<(Vec<String>, Vec<String>)>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        let doc: Value = serde_json::from_str(document()).expect("the document is JSON");
        let paths = doc.get("paths").and_then(Value::as_object).cloned().unwrap_or_default();
        paths
            .into_iter()
            .map(|(pattern, item)| {
                let segments = pattern.split('/').map(str::to_owned).collect();
                let methods = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_uppercase())
                    .collect();
                (segments, methods)
            })
            .collect()
    });
    let asked: Vec<&str> = path.strip_prefix(super::API_PREFIX)?.split('/').collect();
    let matches = |segments: &Vec<String>| {
        segments.len() == asked.len()
            && segments
                .iter()
                .zip(&asked)
                .all(|(pattern, given)| pattern.starts_with('{') || pattern == given)
    };
    // A literal segment wins over a parameter (`/me/slots` over `/{id}/slots`).
    let (_, methods) = routes
        .iter()
        .filter(|(segments, _)| matches(segments))
        .min_by_key(|(segments, _)| segments.iter().filter(|s| s.starts_with('{')).count())?;
    Some(methods.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_declares_the_layers_answers() {
        let doc: Value = serde_json::from_str(document()).unwrap();
        let create = &doc["paths"]["/slots"]["post"]["responses"];
        for status in ["400", "413", "415"] {
            assert!(create.get(status).is_some(), "POST /slots lacks {status}");
        }
        let delete = &doc["paths"]["/promotions/{id}"]["delete"]["responses"];
        assert!(delete.get("400").is_some());
        assert!(delete.get("415").is_none(), "no body, no 415");
    }

    #[test]
    fn allow_lists_the_methods_of_the_path() {
        assert_eq!(allowed_methods("/api/v1/slots").as_deref(), Some("GET, POST"));
        let one = allowed_methods("/api/v1/promotions/0193e9c6-0000-7000-8000-000000000000");
        assert!(one.is_some_and(|m| m.contains("DELETE")));
        assert_eq!(allowed_methods("/api/v1/nowhere/at/all"), None);
        assert_eq!(allowed_methods("/elsewhere"), None);
    }
}
