//! Identity over HTTP: Google sign-in against a local fake JWKS server with a
//! committed test RSA key, host tokens, the development auto-login, our own
//! tokens, the consent gate, profiles and staff role changes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use poem::web::Data;
use poem::{EndpointExt, Route, get, handler};
use serde_json::{Value, json};
use tutorbook_app::config::{AuthConfig, GoogleConfig};
use tutorbook_app::server::BoundListener;

mod common;

const CLIENT_ID: &str = "test-client.apps.googleusercontent.com";
const ISSUER: &str = "https://accounts.google.com";
const KEY: &[u8] = include_bytes!("fixtures/google-test-key.pem");
const JWKS: &str = include_str!("fixtures/google-test-jwks.json");

#[handler]
fn certs(fetches: Data<&Arc<AtomicUsize>>) -> poem::Response {
    fetches.fetch_add(1, Ordering::SeqCst);
    poem::Response::builder().content_type("application/json").body(JWKS)
}

/// A local stand-in for Google's key endpoint; returns its URL and a fetch counter.
async fn fake_google() -> (String, Arc<AtomicUsize>) {
    let listener = BoundListener::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}/certs", listener.local_addr());
    let fetches = Arc::new(AtomicUsize::new(0));
    let app = Route::new().at("/certs", get(certs)).data(fetches.clone());
    tokio::spawn(listener.serve(app, std::future::pending(), Duration::from_secs(1)));
    (url, fetches)
}

fn id_token(claims: Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    encode(&header, &claims, &EncodingKey::from_rsa_pem(KEY).unwrap()).unwrap()
}

fn google_claims(sub: &str) -> Value {
    let now = common::now().unix_timestamp();
    json!({
        "iss": ISSUER, "aud": CLIENT_ID, "sub": sub, "iat": now, "exp": now + 600,
        "email": "kim@example.com", "email_verified": true, "name": "Kim Min", "locale": "en-US",
    })
}

async fn google_api(jwks_url: String) -> common::Api<impl poem::Endpoint> {
    let auth = AuthConfig {
        google: Some(GoogleConfig {
            client_id: CLIENT_ID.into(),
            jwks_url,
            issuers: vec![ISSUER.into()],
        }),
        dev_login: false,
        ..common::auth_config()
    };
    common::api_on(common::state_with(auth).await)
}

#[tokio::test]
async fn google_sign_in_creates_a_student_and_issues_our_token() {
    let (url, fetches) = fake_google().await;
    let api = google_api(url).await;
    let signed_in = api
        .post(
            "/auth/google",
            None,
            json!({ "id_token": id_token(google_claims("g-1"), "test-key-1") }),
        )
        .await;
    let body = signed_in.ok(200).clone();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["user"]["role"], "student");
    assert_eq!(body["user"]["display_name"], "Kim Min");
    assert_eq!(body["user"]["email"], "kim@example.com");
    assert_eq!(body["user"]["locale"], "en");
    assert_eq!(body["user"]["zone"], "Asia/Seoul");
    assert_eq!(body["pending_consents"], json!(["terms", "privacy", "cross_border"]));

    // Our token works; a second sign-in is the same user; the keys were fetched once.
    let token = body["token"].as_str().unwrap();
    api.consent_all(token).await;
    assert_eq!(api.get("/me", Some(token)).await.ok(200)["id"], body["user"]["id"]);
    let again = api
        .post(
            "/auth/google",
            None,
            json!({ "id_token": id_token(google_claims("g-1"), "test-key-1") }),
        )
        .await;
    assert_eq!(again.ok(200)["user"]["id"], body["user"]["id"]);
    assert_eq!(again.body["pending_consents"], json!([]));
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "keys are cached");
    // The dev login is off beside Google.
    api.post("/auth/dev?as=teacher", None, json!({}))
        .await
        .refused(404, "sign_in_disabled");
}

#[tokio::test]
async fn google_tokens_with_a_wrong_audience_issuer_expiry_key_or_signature_are_refused() {
    let (url, _) = fake_google().await;
    let api = google_api(url).await;
    let now = common::now().unix_timestamp();
    let mut cases = Vec::new();
    let mut wrong_aud = google_claims("g");
    wrong_aud["aud"] = json!("someone-else");
    cases.push(id_token(wrong_aud, "test-key-1"));
    let mut wrong_iss = google_claims("g");
    wrong_iss["iss"] = json!("https://evil.example");
    cases.push(id_token(wrong_iss, "test-key-1"));
    let mut expired = google_claims("g");
    expired["exp"] = json!(now - 3600);
    cases.push(id_token(expired, "test-key-1"));
    cases.push(id_token(google_claims("g"), "unknown-kid"));
    // Signed with our HS256 secret instead of Google's key.
    cases.push(common::host_token("g", "student"));
    // One signature character changed (in the middle: the last one may only carry padding bits).
    let genuine = id_token(google_claims("g"), "test-key-1");
    let at = genuine.rfind('.').unwrap() + 20;
    let swapped = if &genuine[at..=at] == "A" { "B" } else { "A" };
    cases.push(format!("{}{swapped}{}", &genuine[..at], &genuine[at + 1..]));
    cases.push("not-a-jwt".into());
    for token in cases {
        api.post("/auth/google", None, json!({ "id_token": token }))
            .await
            .refused(401, "unauthorized");
    }
    api.post("/auth/google", None, json!({ "token": "missing field" }))
        .await
        .refused(400, "invalid_input");
}

#[tokio::test]
async fn google_keys_unavailable_is_a_503() {
    // Nothing listens on this port.
    let api = google_api("http://127.0.0.1:9/certs".into()).await;
    api.post(
        "/auth/google",
        None,
        json!({ "id_token": id_token(google_claims("g"), "test-key-1") }),
    )
    .await
    .refused(503, "identity_provider_unavailable");
}

#[tokio::test]
async fn google_sign_in_is_404_when_not_configured() {
    let api = common::api().await;
    api.post(
        "/auth/google",
        None,
        json!({ "id_token": id_token(google_claims("g"), "test-key-1") }),
    )
    .await
    .refused(404, "sign_in_disabled");
}

#[tokio::test]
async fn dev_login_signs_in_the_demo_users_only_when_enabled() {
    let api = common::api().await;
    let teacher = api.post("/auth/dev?as=teacher", None, json!({})).await;
    assert_eq!(teacher.ok(200)["user"]["role"], "teacher");
    let student = api.post("/auth/dev?as=student", None, json!({})).await;
    assert_eq!(student.ok(200)["user"]["role"], "student");
    let again = api.post("/auth/dev?as=teacher", None, json!({})).await;
    assert_eq!(again.ok(200)["user"]["id"], teacher.body["user"]["id"]);
    api.post("/auth/dev?as=staff", None, json!({}))
        .await
        .refused(400, "invalid_input");

    let off = common::api_on(
        common::state_with(AuthConfig {
            dev_login: false,
            ..common::auth_config()
        })
        .await,
    );
    off.post("/auth/dev?as=teacher", None, json!({}))
        .await
        .refused(404, "sign_in_disabled");
}

#[tokio::test]
async fn bad_missing_and_expired_tokens_are_401_problems() {
    let api = common::api().await;
    api.get("/me", None).await.refused(401, "unauthorized");
    api.get("/me", Some("garbage")).await.refused(401, "unauthorized");
    // A token signed with another secret.
    let foreign = encode(
        &Header::new(Algorithm::HS256),
        &json!({ "sub": uuid::Uuid::now_v7(), "iss": "tutorbook", "aud": "tutorbook-api", "iat": 1_000_000_000i64, "exp": 4_000_000_000i64 }),
        &EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .unwrap();
    api.get("/me", Some(&foreign)).await.refused(401, "unauthorized");
    // Our secret but expired.
    let expired = encode(
        &Header::new(Algorithm::HS256),
        &json!({ "sub": uuid::Uuid::now_v7(), "iss": "tutorbook", "aud": "tutorbook-api", "iat": 1_000_000_000i64, "exp": 1_000_000_000i64 }),
        &EncodingKey::from_secret(common::JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let answer = api.get("/me", Some(&expired)).await;
    answer.refused(401, "unauthorized");
    assert!(answer.str("detail").contains("expired"));
    // Ours and valid, but the user does not exist.
    let ghost = encode(
        &Header::new(Algorithm::HS256),
        &json!({ "sub": uuid::Uuid::now_v7(), "iss": "tutorbook", "aud": "tutorbook-api", "iat": 1_000_000_000i64, "exp": 4_000_000_000i64 }),
        &EncodingKey::from_secret(common::JWT_SECRET.as_bytes()),
    )
    .unwrap();
    api.get("/me", Some(&ghost)).await.refused(401, "unauthorized");
}

#[tokio::test]
async fn host_tokens_create_users_whose_role_follows_the_host() {
    let api = common::api().await;
    let token = common::host_token("h-7", "teacher");
    api.consent_all(&token).await;
    let me = api.get("/me", Some(&token)).await;
    assert_eq!(me.ok(200)["role"], "teacher");
    let id = me.str("id");
    // The host demotes them: the next request carries the new role.
    let demoted = common::host_token("h-7", "student");
    let me = api.get("/me", Some(&demoted)).await;
    assert_eq!((me.ok(200)["role"].clone(), me.str("id")), (json!("student"), id));
    // A host token without a role is refused.
    let exp = common::now().unix_timestamp() + 60;
    let bad = encode(
        &Header::new(Algorithm::HS256),
        &json!({ "sub": "h-8", "exp": exp }),
        &EncodingKey::from_secret(common::HOST_SECRET.as_bytes()),
    )
    .unwrap();
    api.get("/me", Some(&bad)).await.refused(401, "unauthorized");
}

#[tokio::test]
async fn the_consent_gate_blocks_until_all_required_documents_are_accepted() {
    let api = common::api().await;
    let token = common::host_token("c-1", "student");
    // Blocked everywhere but consent, legal and health.
    for path in ["/me", "/me/bookings", "/me/credits", "/slots"] {
        api.get(path, Some(&token)).await.refused(403, "consent_required");
    }
    api.post(
        &format!("/slots/{}/bookings", uuid::Uuid::now_v7()),
        Some(&token),
        json!({}),
    )
    .await
    .refused(403, "consent_required");
    api.get("/legal/terms", None).await.ok(200);
    api.get("/health", Some(&token)).await.ok(200);
    let consents = api.get("/me/consents", Some(&token)).await;
    assert_eq!(consents.ok(200)["pending"], json!(["terms", "privacy", "cross_border"]));

    // An old version is refused and changes nothing.
    api.put(
        "/me/consents/terms",
        Some(&token),
        json!({ "version": "v0.9", "granted": true }),
    )
    .await
    .refused(400, "invalid_input");
    api.put(
        "/me/consents/cookies",
        Some(&token),
        json!({ "version": "v1.0", "granted": true }),
    )
    .await
    .refused(400, "invalid_input");
    for doc in ["terms", "privacy"] {
        api.put(
            &format!("/me/consents/{doc}"),
            Some(&token),
            json!({ "version": "v1.0", "granted": true }),
        )
        .await
        .ok(200);
    }
    let answer = api.get("/me", Some(&token)).await;
    answer.refused(403, "consent_required");
    assert!(answer.str("detail").contains("cross_border"));
    // Marketing is optional.
    let after = api
        .put(
            "/me/consents/cross_border",
            Some(&token),
            json!({ "version": "v1.0", "granted": true }),
        )
        .await;
    assert_eq!(after.ok(200)["pending"], json!([]));
    api.get("/me", Some(&token)).await.ok(200);

    // Withdrawal is recorded (one record per document) and blocks again.
    let withdrawn = api
        .put(
            "/me/consents/privacy",
            Some(&token),
            json!({ "version": "v1.0", "granted": false }),
        )
        .await;
    let body = withdrawn.ok(200);
    assert_eq!(body["pending"], json!(["privacy"]));
    let privacy = &body["documents"][1];
    assert_eq!(
        (privacy["document"].clone(), privacy["granted"].clone()),
        (json!("privacy"), json!(false))
    );
    api.get("/me", Some(&token)).await.refused(403, "consent_required");
}

#[tokio::test]
async fn legal_pages_are_public() {
    let api = common::api().await;
    let page = api.get("/legal/cross_border", None).await;
    let body = page.ok(200);
    assert_eq!(
        (body["version"].clone(), body["required"].clone()),
        (json!("v1.0"), json!(true))
    );
    assert_eq!(api.get("/legal/marketing", None).await.ok(200)["required"], false);
    api.get("/legal/cookies", None).await.refused(400, "invalid_input");
}

#[tokio::test]
async fn profiles_change_and_an_invalid_zone_falls_back_to_seoul() {
    let api = common::api().await;
    let (token, _) = api.user("p-1", "student").await;
    let changed = api
        .patch(
            "/me",
            Some(&token),
            json!({ "display_name": " Lee ", "zone": "America/Vancouver", "locale": "en" }),
        )
        .await;
    let body = changed.ok(200);
    assert_eq!(
        (
            body["display_name"].clone(),
            body["zone"].clone(),
            body["locale"].clone()
        ),
        (json!("Lee"), json!("America/Vancouver"), json!("en"))
    );
    let fallback = api.patch("/me", Some(&token), json!({ "zone": "Not/AZone" })).await;
    assert_eq!(fallback.ok(200)["zone"], "Asia/Seoul");
    api.patch("/me", Some(&token), json!({ "display_name": "  " }))
        .await
        .refused(400, "invalid_input");
    api.patch("/me", Some(&token), json!({ "locale": "fr" }))
        .await
        .refused(400, "invalid_input");
    assert_eq!(
        api.get("/me", Some(&token)).await.ok(200)["display_name"],
        "Lee",
        "refusals changed nothing"
    );
}

#[tokio::test]
async fn staff_list_users_and_change_roles_others_cannot() {
    let api = common::api().await;
    let (staff, _) = api.user("s-1", "staff").await;
    let (student, student_id) = api.user("u-1", "student").await;
    let (teacher, _) = api.user("u-2", "teacher").await;

    let page = api.get("/users?limit=2", Some(&staff)).await;
    let body = page.ok(200).clone();
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let cursor = body["next_cursor"].as_str().expect("more users");
    let rest = api.get(&format!("/users?cursor={cursor}"), Some(&staff)).await;
    assert_eq!(rest.ok(200)["items"].as_array().unwrap().len(), 1);
    api.get("/users?limit=500", Some(&staff))
        .await
        .refused(400, "invalid_input");
    api.get("/users?cursor=x", Some(&staff))
        .await
        .refused(400, "invalid_input");

    for token in [&student, &teacher] {
        api.get("/users", Some(token)).await.refused(403, "forbidden");
        api.put(
            &format!("/users/{student_id}/role"),
            Some(token),
            json!({ "role": "staff" }),
        )
        .await
        .refused(403, "forbidden");
    }
    api.get("/users", None).await.refused(401, "unauthorized");

    let promoted = api
        .put(
            &format!("/users/{student_id}/role"),
            Some(&staff),
            json!({ "role": "teacher" }),
        )
        .await;
    assert_eq!(promoted.ok(200)["role"], "teacher");
    api.put(
        &format!("/users/{}/role", uuid::Uuid::now_v7()),
        Some(&staff),
        json!({ "role": "teacher" }),
    )
    .await
    .refused(404, "not_found");
    api.put(
        &format!("/users/{student_id}/role"),
        Some(&staff),
        json!({ "role": "admin" }),
    )
    .await
    .refused(400, "invalid_input");
}

#[tokio::test]
async fn host_tokens_may_be_rs256_checked_with_the_hosts_public_key() {
    use tutorbook_app::config::{HostConfig, HostKey};
    let pem = include_str!("fixtures/host-test-public.pem");
    let auth = AuthConfig {
        host: Some(HostConfig {
            key: HostKey::RsaPublicPem(pem.into()),
            issuer: Some("school".into()),
        }),
        ..common::auth_config()
    };
    let api = common::api_on(common::state_with(auth).await);
    let exp = common::now().unix_timestamp() + 600;
    let sign = |claims: Value| {
        encode(
            &Header::new(Algorithm::RS256),
            &claims,
            &EncodingKey::from_rsa_pem(KEY).unwrap(),
        )
        .unwrap()
    };
    let token = sign(json!({ "sub": "rs-1", "role": "teacher", "iss": "school", "exp": exp }));
    api.consent_all(&token).await;
    assert_eq!(api.get("/me", Some(&token)).await.ok(200)["role"], "teacher");
    // Another issuer, or the HS256 shared-secret kind, is refused.
    let wrong_issuer = sign(json!({ "sub": "rs-1", "role": "teacher", "iss": "elsewhere", "exp": exp }));
    api.get("/me", Some(&wrong_issuer)).await.refused(401, "unauthorized");
    api.get("/me", Some(&common::host_token("rs-1", "teacher")))
        .await
        .refused(401, "unauthorized");
    // A key that does not parse stops the set-up.
    let broken = AuthConfig {
        host: Some(HostConfig {
            key: HostKey::RsaPublicPem("not a key".into()),
            issuer: None,
        }),
        ..common::auth_config()
    };
    assert!(tutorbook_app::auth::Auth::new(&broken).is_err());
}
