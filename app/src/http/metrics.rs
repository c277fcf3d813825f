//! Prometheus metrics at `/metrics`, written by hand to keep the dependency
//! tree lean: one counter of answered requests by method and status, one
//! latency histogram, and a counter of anonymous browse answers by whether
//! they were sent from kept bytes. Text exposition format 0.0.4.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use poem::handler;
use poem::web::Data;

use crate::state::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The service's request metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests by (method, status).
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Requests per latency bucket (not cumulative; summed when rendered).
    buckets: [AtomicU64; BUCKETS.len()],
    /// Total latency in microseconds.
    sum_micros: AtomicU64,
    /// Requests observed.
    count: AtomicU64,
}

impl Metrics {
    /// Records one answered request.
    pub fn observe(&self, method: &str, status: u16, latency: Duration) {
        {
            let mut requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *requests.entry((method.to_owned(), status)).or_default() += 1;
        }
        let seconds = latency.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP tutorbook_http_requests_total HTTP requests answered, by method and status.\n");
        out.push_str("# TYPE tutorbook_http_requests_total counter\n");
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for ((method, status), n) in requests {
            let _ = writeln!(
                out,
                "tutorbook_http_requests_total{{method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP tutorbook_http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE tutorbook_http_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "tutorbook_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "tutorbook_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "tutorbook_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "tutorbook_http_request_duration_seconds_count {count}");
        out
    }
}

/// `GET /metrics`.
#[handler]
pub fn metrics(state: Data<&AppState>) -> poem::Response {
    let mut out = state.metrics.render();
    let (sent_kept, built) = state.browse_bodies.counts();
    out.push_str(
        "# HELP tutorbook_browse_answers_total Anonymous browse answers, sent from bytes kept with their page or serialized.\n",
    );
    out.push_str("# TYPE tutorbook_browse_answers_total counter\n");
    let _ = writeln!(out, "tutorbook_browse_answers_total{{answer=\"kept\"}} {sent_kept}");
    let _ = writeln!(out, "tutorbook_browse_answers_total{{answer=\"serialized\"}} {built}");
    poem::Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.observe("GET", 200, Duration::from_millis(3));
        m.observe("GET", 200, Duration::from_millis(30));
        m.observe("POST", 409, Duration::from_secs(20));
        let text = m.render();
        assert!(
            text.contains("tutorbook_http_requests_total{method=\"GET\",status=\"200\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("tutorbook_http_requests_total{method=\"POST\",status=\"409\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("_bucket{le=\"0.005\"} 1\n"), "{text}");
        assert!(text.contains("_bucket{le=\"0.05\"} 2\n"), "{text}");
        assert!(text.contains("_bucket{le=\"10\"} 2\n"), "{text}");
        assert!(text.contains("_bucket{le=\"+Inf\"} 3\n"), "{text}");
        assert!(
            text.contains("tutorbook_http_request_duration_seconds_count 3\n"),
            "{text}"
        );
    }
}
