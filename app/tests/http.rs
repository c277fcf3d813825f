//! HTTP surface of the app, driven in-process through `poem::test::TestClient`.

use poem::http::StatusCode;
use poem::test::TestClient;
use tutorbook_app::build_app;

mod common;

async fn client() -> TestClient<impl poem::Endpoint> {
    TestClient::new(build_app(common::state().await))
}

#[tokio::test]
async fn healthz_answers_ok_json() {
    let resp = client().await.get("/healthz").send().await;
    resp.assert_status_is_ok();
    resp.assert_content_type("application/json; charset=utf-8");
    resp.assert_text(r#"{"status":"ok"}"#).await;
}

#[tokio::test]
async fn api_health_operation_answers_ok_json() {
    let resp = client().await.get("/api/v1/health").send().await;
    resp.assert_status_is_ok();
    let body: serde_json::Value = resp.json().await.value().deserialize();
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn openapi_document_describes_tutorbook() {
    let resp = client().await.get("/openapi.json").send().await;
    resp.assert_status_is_ok();
    resp.assert_content_type("application/json");
    let doc: serde_json::Value =
        serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).expect("/openapi.json is valid JSON");

    let openapi = doc["openapi"].as_str().expect("`openapi` field is a string");
    assert!(openapi.starts_with("3."), "unexpected openapi version {openapi}");
    assert_eq!(doc["info"]["title"], "tutorbook");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    assert!(doc["paths"]["/health"]["get"].is_object(), "health op missing: {doc}");
}

#[tokio::test]
async fn docs_serve_swagger_ui_html() {
    let resp = client().await.get("/docs").send().await;
    resp.assert_status_is_ok();
    let content_type = resp
        .0
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "content-type {content_type}");
    let html = resp.0.into_body().into_string().await.unwrap();
    assert!(html.contains("SwaggerUIBundle"), "not the Swagger UI page");
}

#[tokio::test]
async fn unknown_route_is_404() {
    let resp = client().await.get("/no/such/route").send().await;
    resp.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn readyz_pings_the_store() {
    let resp = client().await.get("/readyz").send().await;
    resp.assert_status_is_ok();
    resp.assert_text(r#"{"status":"ready"}"#).await;
}
