//! Browse answers serialized once per page and sent as bytes.
//!
//! Why: a browse page kept by the use cases' cache (decision 0023) was
//! turned into views and serialized again on every request. poem-openapi
//! serializes through a `serde_json::Value` (a `BTreeMap` per object), so a
//! hundred-slot page cost thousands of allocations per request: under load
//! `malloc`, `free`, map inserts and escaping took 47 % of all samples of
//! a Postgres run (34 % of a SQLite one) (docs/performance.md, "Browse answers as
//! bytes"). An anonymous answer depends only on its page, so its bytes are
//! kept beside the page for as long as the page is.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use bytes::Bytes;
use poem::{IntoResponse, Response};
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use tutorbook_ports::BrowsePage;

/// A JSON body of type `T`, already serialized: the OpenAPI document
/// describes it as `Json<T>` does.
pub struct SerializedJson<T> {
    body: Bytes,
    schema: PhantomData<fn() -> T>,
}

impl<T: ToJSON> SerializedJson<T> {
    /// `value` serialized as `Json<T>` would send it.
    pub fn of(value: &T) -> Self {
        Self::from_bytes(Bytes::from(value.to_json_string()))
    }
}

impl<T> SerializedJson<T> {
    /// A body serialized before (by [`SerializedJson::of`]).
    pub fn from_bytes(body: Bytes) -> Self {
        Self {
            body,
            schema: PhantomData,
        }
    }

    /// The body, cheap to clone.
    pub fn bytes(&self) -> Bytes {
        self.body.clone()
    }
}

impl<T> std::fmt::Debug for SerializedJson<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerializedJson")
            .field("bytes", &self.body.len())
            .finish()
    }
}

impl<T: Type> Payload for SerializedJson<T> {
    const CONTENT_TYPE: &'static str = <Json<T> as Payload>::CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for SerializedJson<T> {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(<Json<serde_json::Value> as Payload>::CONTENT_TYPE)
            .body(self.body)
    }
}

/// The serialized anonymous answers of the browse pages the use cases keep,
/// at most [`BrowseBodies::MAX`], the least recently sent going first. An
/// answer is found by its page's identity: the same `Arc` as the page kept,
/// so a page read again (after a commit, or the cache's time to live) is a
/// new page and is serialized again. Each entry holds a `Weak` of its page,
/// which keeps the page's allocation, and so its address, from being reused
/// while the entry exists.
#[derive(Default)]
pub struct BrowseBodies {
    /// Least recently sent first.
    kept: Mutex<Vec<(Weak<BrowsePage>, Bytes)>>,
    /// Answers sent from kept bytes.
    sent_kept: AtomicU64,
    /// Answers serialized.
    built: AtomicU64,
}

impl BrowseBodies {
    /// Answers kept at once: a few per zone and day being browsed.
    pub const MAX: usize = 64;

    /// The answer serialized for `page`, if any; it becomes the most
    /// recently sent.
    pub fn get(&self, page: &Arc<BrowsePage>) -> Option<Bytes> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let at = kept.iter().position(|(held, _)| same_page(held, page))?;
        let entry = kept.remove(at);
        let body = entry.1.clone();
        kept.push(entry);
        self.sent_kept.fetch_add(1, Ordering::Relaxed);
        Some(body)
    }

    /// Keeps `body` as `page`'s answer, if the use cases keep the page too
    /// (a page read for this request alone, with the cache off, is not
    /// asked for again) and no request that read the same page kept its
    /// answer first. Answers of pages no longer kept go first, then the
    /// least recently sent.
    pub fn put(&self, page: &Arc<BrowsePage>, body: Bytes) {
        self.built.fetch_add(1, Ordering::Relaxed);
        if Arc::strong_count(page) < 2 {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.iter().any(|(held, _)| same_page(held, page)) {
            return;
        }
        kept.retain(|(held, _)| held.strong_count() > 0);
        if kept.len() >= Self::MAX {
            kept.remove(0);
        }
        kept.push((Arc::downgrade(page), body));
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Answers sent from kept bytes, and answers serialized, since start
    /// (for `/metrics`).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.sent_kept.load(Ordering::Relaxed),
            self.built.load(Ordering::Relaxed),
        )
    }
}

/// Whether `held` is `page` (not merely an equal page).
fn same_page(held: &Weak<BrowsePage>, page: &Arc<BrowsePage>) -> bool {
    std::ptr::eq(held.as_ptr(), Arc::as_ptr(page))
}

impl std::fmt::Debug for BrowseBodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (sent_kept, built) = self.counts();
        f.debug_struct("BrowseBodies")
            .field("kept", &self.len())
            .field("sent_kept", &sent_kept)
            .field("built", &built)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use poem::IntoResponse;
    use poem_openapi::payload::Json;
    use serde_json::json;
    use tutorbook_domain::Zone;
    use tutorbook_ports::BrowsePage;

    use super::{BrowseBodies, SerializedJson};

    #[tokio::test]
    async fn the_bytes_are_what_json_would_send() {
        let value = json!({"zone": "Asia/Seoul", "slots": [{"id": "a\"b", "seats": 3}], "next": null});
        let ours = SerializedJson::of(&value).into_response();
        let theirs = Json(value).into_response();
        assert_eq!(ours.content_type(), theirs.content_type());
        let ours = ours.into_body().into_bytes().await.unwrap();
        let theirs = theirs.into_body().into_bytes().await.unwrap();
        assert_eq!(ours, theirs);
    }

    fn page() -> Arc<BrowsePage> {
        Arc::new(BrowsePage {
            zone: Zone::default_zone(),
            days: Vec::new(),
            date: None,
            slots: Vec::new(),
            next: None,
        })
    }

    #[test]
    fn an_answer_is_kept_while_its_page_is_and_found_by_that_page_only() {
        let bodies = BrowseBodies::default();
        let (kept, alone) = (page(), page());
        let cache_holds = Arc::clone(&kept);
        bodies.put(&kept, "kept".into());
        bodies.put(&alone, "alone".into());
        assert_eq!(bodies.get(&kept).as_deref(), Some(&b"kept"[..]));
        assert_eq!(bodies.get(&alone), None, "a page held by no cache is not kept");
        assert_eq!(bodies.get(&page()), None, "an equal page is another page");

        // The cache lets the page go: the next answer kept drops its bytes.
        drop((kept, cache_holds));
        let (next, _held) = {
            let next = page();
            let held = Arc::clone(&next);
            (next, held)
        };
        bodies.put(&next, "next".into());
        assert_eq!(bodies.len(), 1);
        assert_eq!(bodies.get(&next).as_deref(), Some(&b"next"[..]));
    }

    #[test]
    fn at_most_max_answers_are_kept_the_oldest_going_first() {
        let bodies = BrowseBodies::default();
        let pages: Vec<Arc<BrowsePage>> = (0..=BrowseBodies::MAX).map(|_| page()).collect();
        let held: Vec<Arc<BrowsePage>> = pages.iter().map(Arc::clone).collect();
        for (i, page) in pages.iter().enumerate() {
            bodies.put(page, i.to_string().into());
        }
        assert_eq!(bodies.len(), BrowseBodies::MAX);
        assert_eq!(bodies.get(&pages[0]), None, "the oldest went");
        assert!(bodies.get(&pages[BrowseBodies::MAX]).is_some());
        drop(held);
    }

    #[test]
    fn a_page_keeps_one_answer_and_the_least_recently_sent_goes_first() {
        let bodies = BrowseBodies::default();
        let pages: Vec<Arc<BrowsePage>> = (0..BrowseBodies::MAX).map(|_| page()).collect();
        let held: Vec<Arc<BrowsePage>> = pages.iter().map(Arc::clone).collect();
        for page in &pages {
            bodies.put(page, "first".into());
        }
        // Requests that read the same page at once each serialize it.
        bodies.put(&pages[0], "second".into());
        assert_eq!(bodies.len(), BrowseBodies::MAX);
        assert_eq!(bodies.get(&pages[0]).as_deref(), Some(&b"first"[..]));
        // The page just sent stays; the least recently sent one goes.
        let newer = page();
        let _newer_held = Arc::clone(&newer);
        bodies.put(&newer, "newer".into());
        assert!(bodies.get(&pages[0]).is_some());
        assert_eq!(bodies.get(&pages[1]), None);
        assert_eq!(bodies.counts(), (2, BrowseBodies::MAX as u64 + 2));
        drop(held);
    }
}
