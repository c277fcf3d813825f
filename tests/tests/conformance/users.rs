//! Users, consents, the directory and idempotency keys: the same answers from
//! every store.

use time::Duration;
use tutorbook_domain::{Consent, ConsentDocument, Locale, Role, UserId, Zone, missing_consents};
use tutorbook_memory::MemoryStore;
use tutorbook_ports::{Claim, Directory, IdempotencyStore, ProfileUpdate, StoredResponse, User, UserStore};
use tutorbook_sql::SqlStore;
use uuid::Uuid;

use crate::backends::Store;
use crate::conformance;
use crate::world::{T0, code};

/// The account ports every store implements besides the booking ones.
pub trait AccountStore: Store + UserStore + Directory + IdempotencyStore {}
impl AccountStore for MemoryStore {}
impl AccountStore for SqlStore {}

fn new_user(subject: &str) -> User {
    User {
        id: UserId::from_uuid(Uuid::now_v7()),
        subject: subject.to_owned(),
        role: Role::Student,
        display_name: format!("user {subject}"),
        email: Some(format!("{}@example.com", subject.replace(':', "."))),
        zone: Zone::default(),
        locale: Locale::Ko,
        created_at: T0,
    }
}

async fn a_subject_signs_up_once<S: AccountStore>(store: S) {
    let first = store.create_user(new_user("google:1")).await.unwrap();
    assert_eq!(first.role, Role::Student);
    // A second sign-up of the same subject (another id) returns the first user.
    let again = store.create_user(new_user("google:1")).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(store.user_by_subject("google:1").await.unwrap(), Some(first.clone()));
    assert_eq!(store.user(first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(store.user_by_subject("google:2").await.unwrap(), None);
    assert_eq!(store.user(UserId::from_uuid(Uuid::now_v7())).await.unwrap(), None);
}

async fn concurrent_sign_ups_of_one_subject_make_one_user<S: AccountStore>(store: S) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.create_user(new_user("host:same")).await.unwrap() })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every sign-up returned the same user");
    assert_eq!(store.users(None, 100).await.unwrap().len(), 1);
}

async fn roles_and_profiles_change_and_show_in_the_directory<S: AccountStore>(store: S) {
    let user = store.create_user(new_user("google:3")).await.unwrap();
    let teacher = store.set_role(user.id, Role::Teacher).await.unwrap();
    assert_eq!(teacher.role, Role::Teacher);
    let manila = Zone::parse("Asia/Manila").unwrap();
    let updated = store
        .update_profile(
            user.id,
            ProfileUpdate {
                display_name: Some("Ms Kim".into()),
                zone: Some(manila),
                locale: Some(Locale::En),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.display_name.as_str(), updated.zone, updated.locale),
        ("Ms Kim", manila, Locale::En)
    );
    // An empty update changes nothing and still answers the user.
    assert_eq!(
        store.update_profile(user.id, ProfileUpdate::default()).await.unwrap(),
        updated
    );
    assert_eq!(store.user(user.id).await.unwrap(), Some(updated.clone()));

    let contact = store.contact(user.id).await.unwrap().expect("a contact");
    assert_eq!(contact.role, Role::Teacher);
    assert_eq!(contact.display_name, "Ms Kim");
    assert_eq!(contact.email.as_deref(), Some("google.3@example.com"));
    assert_eq!((contact.locale, contact.zone), (Locale::En, manila));

    let nobody = UserId::from_uuid(Uuid::now_v7());
    assert_eq!(store.contact(nobody).await.unwrap(), None);
    // Many at once: the known ones, each once, whatever the repeats.
    let other = store.create_user(new_user("google:4")).await.unwrap();
    let mut contacts = store.contacts(&[user.id, nobody, other.id, user.id]).await.unwrap();
    contacts.sort_by_key(|c| c.user);
    let mut expected = vec![contact, store.contact(other.id).await.unwrap().expect("a contact")];
    expected.sort_by_key(|c| c.user);
    assert_eq!(contacts, expected);
    assert!(store.contacts(&[]).await.unwrap().is_empty());
    assert_eq!(code(store.set_role(nobody, Role::Staff).await), "not_found");
    assert_eq!(
        code(store.update_profile(nobody, ProfileUpdate::default()).await),
        "not_found"
    );
}

async fn users_page_by_id<S: AccountStore>(store: S) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(store.create_user(new_user(&format!("google:p{n}"))).await.unwrap().id);
    }
    let first: Vec<_> = store.users(None, 2).await.unwrap().iter().map(|u| u.id).collect();
    assert_eq!(first, ids[..2]);
    let rest: Vec<_> = store
        .users(Some(ids[1]), 10)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(rest, ids[2..]);
}

async fn the_latest_consent_decision_per_document_counts<S: AccountStore>(store: S) {
    let user = store.create_user(new_user("google:4")).await.unwrap();
    assert_eq!(missing_consents(&store.consents(user.id).await.unwrap()).len(), 3);
    for document in [
        ConsentDocument::Terms,
        ConsentDocument::Privacy,
        ConsentDocument::CrossBorder,
    ] {
        let consent = Consent::decide(document, "v1.0", true, T0).unwrap();
        store.record_consent(user.id, consent).await.unwrap();
    }
    assert!(missing_consents(&store.consents(user.id).await.unwrap()).is_empty());

    // Withdrawing privacy overwrites the grant and blocks again.
    let withdrawal = Consent::decide(ConsentDocument::Privacy, "v1.0", false, T0 + Duration::hours(1)).unwrap();
    store.record_consent(user.id, withdrawal.clone()).await.unwrap();
    let consents = store.consents(user.id).await.unwrap();
    assert_eq!(consents.len(), 3, "one record per document");
    assert!(consents.contains(&withdrawal));
    assert_eq!(missing_consents(&consents), vec![ConsentDocument::Privacy]);

    let nobody = UserId::from_uuid(Uuid::now_v7());
    let consent = Consent::decide(ConsentDocument::Terms, "v1.0", true, T0).unwrap();
    assert_eq!(code(store.record_consent(nobody, consent).await), "not_found");

    // The one read every authenticated request makes agrees with the two.
    let sorted = |mut consents: Vec<Consent>| {
        consents.sort_by_key(|c| c.document.as_str());
        consents
    };
    let (found, with) = store.user_with_consents(user.id).await.unwrap().unwrap();
    assert_eq!((found, sorted(with)), (user.clone(), sorted(consents.clone())));
    let (found, with) = store.user_by_subject_with_consents("google:4").await.unwrap().unwrap();
    assert_eq!((found, sorted(with)), (user, sorted(consents)));
    let fresh = store.create_user(new_user("google:5")).await.unwrap();
    assert_eq!(
        store.user_with_consents(fresh.id).await.unwrap(),
        Some((fresh, Vec::new()))
    );
    assert_eq!(store.user_with_consents(nobody).await.unwrap(), None);
    assert_eq!(store.user_by_subject_with_consents("google:6").await.unwrap(), None);
}

/// The caller every authenticated request reads (`user_with_consents`)
/// shows each change to the user and their consents at once, whatever was
/// read before it (SQLite keeps callers in memory, docs/persistence.md).
async fn the_caller_shows_every_change_at_once<S: AccountStore>(store: S) {
    let user = store.create_user(new_user("host:caller")).await.unwrap();
    let caller = |store: S, id| async move { store.user_with_consents(id).await.unwrap().unwrap() };
    let by_subject = |store: S| async move {
        store
            .user_by_subject_with_consents("host:caller")
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(caller(store.clone(), user.id).await, (user.clone(), Vec::new()));
    assert_eq!(by_subject(store.clone()).await, (user.clone(), Vec::new()));

    let terms = Consent::decide(ConsentDocument::Terms, "v1.0", true, T0).unwrap();
    store.record_consent(user.id, terms.clone()).await.unwrap();
    assert_eq!(caller(store.clone(), user.id).await.1, vec![terms.clone()]);
    assert_eq!(by_subject(store.clone()).await.1, vec![terms.clone()]);

    let teacher = store.set_role(user.id, Role::Teacher).await.unwrap();
    assert_eq!(
        caller(store.clone(), user.id).await,
        (teacher.clone(), vec![terms.clone()])
    );
    assert_eq!(by_subject(store.clone()).await.0, teacher);

    let renamed = store
        .update_profile(
            user.id,
            ProfileUpdate {
                display_name: Some("Mr Lee".into()),
                ..ProfileUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(caller(store.clone(), user.id).await.0, renamed);
    assert_eq!(by_subject(store.clone()).await.0, renamed);

    let withdrawn = Consent::decide(ConsentDocument::Terms, "v1.0", false, T0 + Duration::hours(1)).unwrap();
    store.record_consent(user.id, withdrawn.clone()).await.unwrap();
    assert_eq!(caller(store.clone(), user.id).await.1, vec![withdrawn.clone()]);
    assert_eq!(by_subject(store).await.1, vec![withdrawn]);
}

/// Reads racing with consent changes never leave an older caller behind:
/// once the changes have ended, the caller is the stored user with the
/// latest decision.
async fn a_caller_read_during_a_change_is_not_kept_stale<S: AccountStore>(store: S) {
    let user = store.create_user(new_user("host:racer")).await.unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (store, done) = (store.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(std::sync::atomic::Ordering::Acquire) {
                    store.user_with_consents(user.id).await.unwrap().unwrap();
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let mut last = None;
    for n in 0..40 {
        let consent = Consent::decide(ConsentDocument::Privacy, "v1.0", n % 2 == 0, T0 + Duration::minutes(n)).unwrap();
        store.record_consent(user.id, consent.clone()).await.unwrap();
        last = Some(consent);
        tokio::task::yield_now().await;
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    for reader in readers {
        reader.await.unwrap();
    }
    let (found, consents) = store.user_with_consents(user.id).await.unwrap().unwrap();
    assert_eq!((found, consents), (user, vec![last.unwrap()]));
}

async fn an_idempotency_key_keeps_the_response_sent<S: AccountStore>(store: S) {
    let (alice, bob) = (UserId::from_uuid(Uuid::now_v7()), UserId::from_uuid(Uuid::now_v7()));
    let claim = |user, fingerprint: &str| Claim {
        user,
        key: "k1".into(),
        fingerprint: fingerprint.into(),
    };
    assert_eq!(store.record(alice, "k1").await.unwrap(), None);
    let answer = StoredResponse {
        status: 409,
        content_type: "application/problem+json".into(),
        body: br#"{"code":"slot_full"}"#.to_vec(),
    };
    store.complete(&claim(alice, "fp-a"), T0, answer.clone()).await.unwrap();
    let kept = store.record(alice, "k1").await.unwrap().expect("kept");
    assert_eq!(
        (kept.fingerprint.as_str(), kept.answer, kept.response, kept.created_at),
        ("fp-a", None, Some(answer.clone()), T0)
    );
    // The same key of another user is another key.
    assert_eq!(store.record(bob, "k1").await.unwrap(), None);
    // Another request under a used key leaves the first one's record alone.
    let other = StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: b"{}".to_vec(),
    };
    store.complete(&claim(alice, "fp-other"), T0, other).await.unwrap();
    assert_eq!(store.record(alice, "k1").await.unwrap().unwrap().response, Some(answer));
}

async fn old_idempotency_keys_are_purged<S: AccountStore>(store: S) {
    let user = UserId::from_uuid(Uuid::now_v7());
    let response = StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: b"{}".to_vec(),
    };
    for (key, at) in [("old", T0), ("new", T0 + Duration::days(2))] {
        let claim = Claim {
            user,
            key: key.into(),
            fingerprint: "fp".into(),
        };
        store.complete(&claim, at, response.clone()).await.unwrap();
    }
    assert_eq!(store.purge_before(T0 + Duration::days(1)).await.unwrap(), 1);
    assert_eq!(
        store.record(user, "old").await.unwrap(),
        None,
        "a purged key is free again"
    );
    assert!(store.record(user, "new").await.unwrap().is_some());
    assert_eq!(store.purge_before(T0).await.unwrap(), 0);
}

conformance!(
    old_idempotency_keys_are_purged,
    a_subject_signs_up_once,
    concurrent_sign_ups_of_one_subject_make_one_user,
    roles_and_profiles_change_and_show_in_the_directory,
    users_page_by_id,
    the_latest_consent_decision_per_document_counts,
    the_caller_shows_every_change_at_once,
    a_caller_read_during_a_change_is_not_kept_stale,
    an_idempotency_key_keeps_the_response_sent,
);
