//! The real server over TCP: serving, and graceful shutdown that lets an
//! in-flight request finish.

use std::net::SocketAddr;
use std::time::Duration;

use poem::{EndpointExt, Route, get, handler};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tutorbook_app::build_app;
use tutorbook_app::server::{BoundListener, docs_url};

mod common;

/// Sends one `Connection: close` GET and returns the raw response.
async fn get_raw(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

async fn bind_loopback() -> BoundListener {
    BoundListener::bind("127.0.0.1:0".parse().unwrap()).await.expect("bind")
}

#[tokio::test]
async fn serves_healthz_over_tcp_and_stops_on_signal() {
    let listener = bind_loopback().await;
    let addr = listener.local_addr();
    assert_ne!(addr.port(), 0);

    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(listener.serve(
        build_app(common::state().await),
        async {
            let _ = stopped.await;
        },
        Duration::from_secs(5),
    ));

    let response = get_raw(addr, "/healthz").await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops promptly")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[handler]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(500)).await;
    "finished"
}

#[tokio::test]
async fn shutdown_lets_in_flight_request_finish() {
    let listener = bind_loopback().await;
    let addr = listener.local_addr();
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let started_tx = std::sync::Mutex::new(Some(started_tx));
    let app = Route::new().at("/slow", get(slow)).before(move |req| {
        if let Some(tx) = started_tx.lock().unwrap().take() {
            let _ = tx.send(());
        }
        async move { Ok(req) }
    });

    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(listener.serve(
        app,
        async {
            let _ = stopped.await;
        },
        Duration::from_secs(5),
    ));

    let request = tokio::spawn(get_raw(addr, "/slow"));
    started_rx.await.expect("request reached the handler");
    stop.send(()).unwrap();

    let response = request.await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("finished"), "{response}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops after draining")
        .unwrap()
        .unwrap();
}

#[test]
fn docs_url_points_at_a_reachable_host() {
    assert_eq!(
        docs_url("127.0.0.1:8080".parse().unwrap()),
        "http://127.0.0.1:8080/docs"
    );
    assert_eq!(docs_url("0.0.0.0:80".parse().unwrap()), "http://127.0.0.1:80/docs");
    assert_eq!(docs_url("[::]:8080".parse().unwrap()), "http://[::1]:8080/docs");
    assert_eq!(docs_url("10.1.2.3:9".parse().unwrap()), "http://10.1.2.3:9/docs");
}
