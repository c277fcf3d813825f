//! Rate limits per client IP for the requests anyone can send without an
//! account: sign-ins and anonymous reads (docs/security.md). A token bucket
//! per address, refilled continuously; an empty bucket answers
//! `429 rate_limited` with `Retry-After`.
//!
//! Behind a proxy every request comes from the proxy's address, so the
//! client's address is read from a header the operator names
//! (`TUTORBOOK_CLIENT_IP_HEADER`, e.g. `X-Forwarded-For`: its last entry,
//! the one the proxy appended). Requests with no address at all (in-process
//! test clients) are not limited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use poem::http::{HeaderName, HeaderValue, Method, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::http::problem::Problem;
use crate::state::AppState;

/// Most client addresses remembered per limit; beyond, the buckets that
/// have refilled are forgotten (they hold no information), and if that is
/// not enough, all are.
const MAX_CLIENTS: usize = 100_000;

/// The rate limits of a service.
#[derive(Debug)]
pub struct RateLimits {
    sign_in: Limiter,
    anonymous_reads: Limiter,
    client_ip_header: Option<HeaderName>,
}

impl RateLimits {
    /// Limits of `sign_in` and `anonymous_reads` requests per minute per
    /// client address (0: no limit), the address read from
    /// `client_ip_header` when set.
    pub fn new(sign_in: u32, anonymous_reads: u32, client_ip_header: Option<HeaderName>) -> Self {
        Self {
            sign_in: Limiter::per_minute(sign_in),
            anonymous_reads: Limiter::per_minute(anonymous_reads),
            client_ip_header,
        }
    }

    /// The client's bucket key: the configured header's last entry when it
    /// holds an address, else the socket's peer (a missing or garbled header
    /// never escapes the limit). IPv6 clients are grouped by their /64, the
    /// block one subscriber holds.
    fn client(&self, req: &Request) -> Option<IpAddr> {
        let from_header = self.client_ip_header.as_ref().and_then(|name| {
            req.headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .next_back()
                .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
        });
        let peer = match req.remote_addr().0 {
            poem::Addr::SocketAddr(addr) => Some(addr.ip()),
            _ => None,
        };
        from_header.or(peer).map(|ip| match ip {
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
            v4 => v4,
        })
    }
}

impl Default for RateLimits {
    /// 20 sign-ins and 600 anonymous reads a minute per address.
    fn default() -> Self {
        Self::new(20, 600, None)
    }
}

/// A token bucket per client address.
#[derive(Debug)]
struct Limiter {
    /// Tokens a bucket holds when full (a minute's worth); 0 means no limit.
    capacity: f64,
    /// Tokens added per second.
    refill: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    fn per_minute(count: u32) -> Self {
        Self {
            capacity: f64::from(count),
            refill: f64::from(count) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client` at `now`; when none is left, how long
    /// until one is.
    fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.capacity == 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            let full = |b: &Bucket| b.tokens + now.duration_since(b.at).as_secs_f64() * self.refill >= self.capacity;
            buckets.retain(|_, b| !full(b));
            if buckets.len() >= MAX_CLIENTS {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.refill).min(self.capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.refill))
        }
    }
}

/// Which limit a request counts against, if any.
fn limit_of<'a>(limits: &'a RateLimits, req: &Request) -> Option<&'a Limiter> {
    let path = req.uri().path();
    if req.method() == Method::POST && path.starts_with("/api/v1/auth/") {
        Some(&limits.sign_in)
    } else if req.method() == Method::GET
        // Any other `Authorization` is read as anonymous by the operations.
        && path.starts_with("/api/v1/")
        && crate::http::auth::bearer_token(req.headers()).is_none()
    {
        Some(&limits.anonymous_reads)
    } else {
        None
    }
}

/// The `around` middleware.
pub async fn rate_limit<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    if let Some(state) = req.data::<AppState>()
        && let Some(limiter) = limit_of(&state.rate_limits, &req)
        && let Some(client) = state.rate_limits.client(&req)
        && let Err(wait) = limiter.take(client, Instant::now())
    {
        let seconds = wait.as_secs().max(1);
        let mut response = Problem::rate_limited(format!("too many requests from this address; retry in {seconds} s"))
            .into_poem_response();
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    next.call(req).await.map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn a_bucket_empties_refills_and_is_per_address() {
        let limiter = Limiter::per_minute(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(A, t0), Ok(()));
        }
        let wait = limiter.take(A, t0).unwrap_err();
        assert!(
            wait > Duration::from_secs(19) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert_eq!(limiter.take(B, t0), Ok(()), "another address has its own bucket");
        assert_eq!(
            limiter.take(A, t0 + Duration::from_secs(20)),
            Ok(()),
            "a token every 20 s"
        );
        assert!(limiter.take(A, t0 + Duration::from_secs(20)).is_err());
    }

    #[test]
    fn anything_but_a_bearer_token_reads_as_anonymous() {
        let limits = RateLimits::default();
        let read = |auth: Option<&str>| {
            let mut req = Request::builder().method(Method::GET).uri_str("/api/v1/slots");
            if let Some(auth) = auth {
                req = req.header(header::AUTHORIZATION, auth);
            }
            let req = req.finish();
            std::ptr::eq(
                limit_of(&limits, &req).unwrap_or(&limits.sign_in),
                &limits.anonymous_reads,
            )
        };
        assert!(read(None));
        assert!(read(Some("Basic dXNlcjpwdw==")));
        assert!(!read(Some("Bearer abc")));
        assert!(!read(Some("bearer abc")), "the scheme is case-insensitive");
    }

    #[test]
    fn the_client_is_the_proxy_header_else_the_peer_and_ipv6_by_its_64() {
        let limits = RateLimits::new(20, 600, Some(HeaderName::from_static("x-forwarded-for")));
        let with = |header: Option<&str>| {
            let mut req = Request::builder().uri_str("/api/v1/slots");
            if let Some(value) = header {
                req = req.header("x-forwarded-for", value);
            }
            limits.client(&req.finish())
        };
        assert_eq!(
            with(Some("203.0.113.9, 198.51.100.7")),
            Some("198.51.100.7".parse().unwrap())
        );
        let v6 = with(Some("2001:db8:1:2:3:4:5:6"));
        assert_eq!(
            v6,
            Some("2001:db8:1:2::".parse().unwrap()),
            "one subscriber's /64 is one bucket"
        );
        // A garbled header falls back to the peer (none here, in-process).
        assert_eq!(with(Some("not an address")), None);
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = Limiter::per_minute(0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| limiter.take(A, t0).is_ok()));
        assert!(limiter.buckets.lock().unwrap().is_empty());
    }

    #[test]
    fn memory_is_bounded_by_forgetting_full_buckets() {
        let limiter = Limiter::per_minute(60);
        let t0 = Instant::now();
        for n in 0..MAX_CLIENTS as u32 {
            limiter.take(IpAddr::V4(n.into()), t0).unwrap();
        }
        // A minute later every bucket is full again: they are forgotten.
        let later = t0 + Duration::from_secs(61);
        limiter.take(A, later).unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
