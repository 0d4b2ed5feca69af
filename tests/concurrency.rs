//! Concurrency: one [`Codec`] and one [`SessionConfig`] shared by more
//! threads than the machine has cores, sealing and opening thousands of
//! values with both algorithms under a keyring of several secrets, and one
//! [`Session`] handle cloned across threads.
//!
//! What must hold: every token opens (on its own thread and on another one)
//! to exactly the value sealed into it, with the secret it was sealed under;
//! no call fails; every new session gets its own id and every seal its own
//! token; concurrent users of one configuration never see each other's
//! sessions; and updates through clones of one handle are never lost, while
//! concurrent writes of that handle produce exactly one `Set-Cookie`.

#[path = "support/common.rs"]
mod common;
#[path = "support/reference.rs"]
mod reference;

use std::collections::HashSet;
use std::sync::Barrier;
use std::thread;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sealed_session::{
    Algorithm, Codec, CodecBuilder, Keyring, Session, SessionConfig, SessionId, Written,
};
use serde::{Deserialize, Serialize};

/// More threads than the 2 cores of the CI machine, so that the scheduler
/// preempts them in the middle of seals and opens.
const THREADS: usize = 12;

/// Seals (and opens) per thread and algorithm in the codec test.
const SEALS_PER_THREAD: usize = 500;

/// Request rounds per simulated user in the configuration test.
const ROUNDS_PER_USER: u64 = 200;

/// Threads sharing one session handle, and updates per thread.
const HANDLE_THREADS: u64 = 8;
/// Updates per thread through the shared handle.
const UPDATES_PER_THREAD: u64 = 1_000;

/// The keyring's secrets, newest (sealing) first.
const SECRETS: [&str; 3] = [
    "concurrency test secret 0, the current one (32+ bytes)",
    "concurrency test secret 1, the previous one (32+ bytes)",
    "concurrency test secret 2, an older one too (32+ bytes)",
];

/// A value that says which thread sealed it and when, with a
/// variable-length part so tokens differ in length too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Item {
    thread: u32,
    index: u32,
    label: String,
    bytes: Vec<u8>,
}

impl Item {
    fn new(thread: usize, index: usize) -> Self {
        let thread = u32::try_from(thread).unwrap();
        let index = u32::try_from(index).unwrap();
        Self {
            thread,
            index,
            label: format!("thread {thread} item {index}"),
            bytes: (0..(index % 97) as u8).map(|b| b ^ thread as u8).collect(),
        }
    }
}

/// The cookie name of these tests (the default is `__Host-session`).
const NAME: &str = "session";

/// The settings of every codec here: the cookie name [`NAME`] and no idle
/// timeout (the default is 30 minutes), so that a read-only request is
/// never renewed.
fn builder(secrets: &[&str], algorithm: Algorithm) -> CodecBuilder {
    Codec::builder(Keyring::new(secrets).unwrap())
        .cookie_name(NAME)
        .idle_timeout(None)
        .algorithm(algorithm)
}

/// The key id of `secret` (ids depend on the secret and the codec's
/// application label, empty here), as the reference implementation of the
/// format derives it.
fn key_id(secret: &str) -> [u8; 4] {
    reference::derive(secret, "").id
}

/// The current codec: all three secrets, sealing under the first.
fn current_codec(algorithm: Algorithm) -> Codec {
    builder(&SECRETS, algorithm).build().unwrap()
}

/// The codec of an earlier deployment, sealing under `SECRETS[1]`.
fn previous_codec(algorithm: Algorithm) -> Codec {
    builder(&[SECRETS[1], SECRETS[2]], algorithm)
        .build()
        .unwrap()
}

/// Whether index `i` is sealed by the previous deployment's codec.
fn sealed_by_previous(index: usize) -> bool {
    index % 4 == 3
}

/// One seal as its thread recorded it.
struct Sealed {
    token: String,
    id: SessionId,
    item: Item,
}

#[test]
fn one_codec_seals_and_opens_on_many_threads() {
    let current_key = key_id(SECRETS[0]);
    let previous_key = key_id(SECRETS[1]);
    assert_ne!(current_key, previous_key);

    for algorithm in [Algorithm::XAes256Gcm, Algorithm::XChaCha20Poly1305] {
        let codec = current_codec(algorithm);
        let previous = previous_codec(algorithm);
        let start = Barrier::new(THREADS);

        // Phase 1: every thread seals its values and opens them at once.
        let per_thread: Vec<Vec<Sealed>> = thread::scope(|scope| {
            let workers: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (codec, previous, start) = (&codec, &previous, &start);
                    scope.spawn(move || {
                        // Half the threads use a clone (which shares the
                        // keys), half the shared reference.
                        let own;
                        let codec = if t % 2 == 0 {
                            own = codec.clone();
                            &own
                        } else {
                            codec
                        };
                        start.wait();
                        (0..SEALS_PER_THREAD)
                            .map(|i| {
                                let item = Item::new(t, i);
                                let token = if sealed_by_previous(i) {
                                    previous.seal(&item)
                                } else {
                                    codec.seal(&item)
                                }
                                .unwrap_or_else(|e| panic!("seal {t}/{i}: {e}"));
                                let opened = codec
                                    .open::<Item>(&token)
                                    .unwrap_or_else(|e| panic!("open {t}/{i}: {e}"));
                                assert_eq!(opened.value(), &item);
                                assert_eq!(opened.algorithm(), algorithm);
                                assert_eq!(opened.sealed_with_old_secret(), sealed_by_previous(i));
                                let expected_key = if sealed_by_previous(i) {
                                    previous_key
                                } else {
                                    current_key
                                };
                                assert_eq!(opened.key_id().to_bytes(), expected_key);
                                Sealed {
                                    token,
                                    id: opened.envelope().id(),
                                    item,
                                }
                            })
                            .collect()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });

        // Phase 2: every thread opens the tokens another thread sealed.
        let start = Barrier::new(THREADS);
        thread::scope(|scope| {
            for t in 0..THREADS {
                let (codec, start, per_thread) = (&codec, &start, &per_thread);
                scope.spawn(move || {
                    let other = (t + 1) % THREADS;
                    start.wait();
                    for sealed in &per_thread[other] {
                        let opened = codec.open::<Item>(&sealed.token).unwrap_or_else(|e| {
                            panic!("thread {t} opening thread {other}'s token: {e}")
                        });
                        assert_eq!(opened.value(), &sealed.item);
                        assert_eq!(opened.envelope().id(), sealed.id);
                    }
                });
            }
        });

        // Every seal started a new session: all ids differ, across threads
        // too, and so do all tokens (fresh nonces).
        let total = THREADS * SEALS_PER_THREAD;
        let all = || per_thread.iter().flatten();
        let ids: HashSet<SessionId> = all().map(|s| s.id).collect();
        assert_eq!(ids.len(), total, "{algorithm}: a session id repeated");
        let tokens: HashSet<&str> = all().map(|s| s.token.as_str()).collect();
        assert_eq!(tokens.len(), total, "{algorithm}: a token repeated");
        // Each thread's values are its own, in order.
        for (t, sealed) in per_thread.iter().enumerate() {
            assert_eq!(sealed.len(), SEALS_PER_THREAD);
            for (i, s) in sealed.iter().enumerate() {
                assert_eq!(s.item, Item::new(t, i));
            }
        }
    }
}

/// A visit counter, the session of the configuration test.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Visits {
    user: u32,
    count: u64,
}

/// The `Cookie` header a browser sends back for the one `Set-Cookie` in
/// `headers` (its `name=value` pair).
fn cookie_from(headers: &HeaderMap) -> HeaderValue {
    let all = common::set_cookies(headers);
    assert_eq!(all.len(), 1, "not exactly one Set-Cookie: {all:?}");
    let cookie = &all[0];
    assert_eq!(cookie.name(), NAME, "{cookie}");
    HeaderValue::from_str(&format!("{}={}", cookie.name(), cookie.value())).unwrap()
}

/// Request headers carrying `cookie`, if any.
fn request_headers(cookie: Option<&HeaderValue>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(cookie) = cookie {
        headers.insert(COOKIE, cookie.clone());
    }
    headers
}

#[test]
fn one_session_config_serves_concurrent_users() {
    for algorithm in [Algorithm::XAes256Gcm, Algorithm::XChaCha20Poly1305] {
        let config = SessionConfig::new(current_codec(algorithm));
        let start = Barrier::new(THREADS);
        let ids: Vec<SessionId> = thread::scope(|scope| {
            let users: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (config, start) = (&config, &start);
                    scope.spawn(move || {
                        let user = u32::try_from(t).unwrap();
                        let mut cookie: Option<HeaderValue> = None;
                        let mut id = None;
                        start.wait();
                        for round in 1..=ROUNDS_PER_USER {
                            let session = config.load::<Visits>(&request_headers(cookie.as_ref()));
                            assert_eq!(session.rejection(), None, "user {t} round {round}");
                            assert_eq!(session.was_loaded(), round > 1);
                            let count = session.update_or_default(|v| {
                                if v.count == 0 {
                                    v.user = user;
                                }
                                assert_eq!(v.user, user, "another user's session");
                                v.count += 1;
                                v.count
                            });
                            assert_eq!(count, round, "user {t}: a visit was lost");
                            let mut response = HeaderMap::new();
                            assert_eq!(session.write(&mut response).unwrap(), Written::Set);
                            cookie = Some(cookie_from(&response));
                            // One session id for the whole visit.
                            let now = session.id().unwrap();
                            assert_eq!(*id.get_or_insert(now), now, "user {t}: the id changed");
                        }
                        // A read-only request sets nothing (no idle
                        // timeout, so no renewal) and sees the final count.
                        let session = config.load::<Visits>(&request_headers(cookie.as_ref()));
                        assert_eq!(
                            session.get(),
                            Some(Visits {
                                user,
                                count: ROUNDS_PER_USER
                            })
                        );
                        assert!(!session.needs_write());
                        id.unwrap()
                    })
                })
                .collect();
            users.into_iter().map(|u| u.join().unwrap()).collect()
        });
        let distinct: HashSet<SessionId> = ids.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            THREADS,
            "{algorithm}: two users shared an id"
        );
    }
}

#[test]
fn a_session_handle_cloned_across_threads_loses_no_update() {
    let config = SessionConfig::new(current_codec(Algorithm::XAes256Gcm));

    // A session that already has a cookie with a count of 0.
    let first = config.load::<u64>(&HeaderMap::new());
    first.insert(0);
    let mut response = HeaderMap::new();
    assert_eq!(first.write(&mut response).unwrap(), Written::Set);
    let cookie = cookie_from(&response);
    let id = first.id().unwrap();

    let session: Session<u64> = config.load(&request_headers(Some(&cookie)));
    assert_eq!(session.get(), Some(0));

    // Writers increment through clones; readers look at the value at the
    // same time and must only ever see it grow.
    let start = Barrier::new(HANDLE_THREADS as usize + 2);
    thread::scope(|scope| {
        for _ in 0..HANDLE_THREADS {
            let (session, start) = (session.clone(), &start);
            scope.spawn(move || {
                start.wait();
                for _ in 0..UPDATES_PER_THREAD {
                    session.update_or_default(|n| *n += 1);
                }
            });
        }
        for _ in 0..2 {
            let (session, start) = (session.clone(), &start);
            scope.spawn(move || {
                start.wait();
                let mut last = 0;
                for _ in 0..UPDATES_PER_THREAD {
                    let now = session.with(|n| *n.unwrap());
                    assert!(now >= last, "the count went back from {last} to {now}");
                    last = now;
                    assert_eq!(session.id(), Some(id));
                }
            });
        }
    });
    let total = HANDLE_THREADS * UPDATES_PER_THREAD;
    assert_eq!(session.get(), Some(total));
    assert!(session.needs_write());

    // Every clone writes at once (as nested layers or a spawned task
    // might): exactly one of them appends a Set-Cookie.
    let start = Barrier::new(HANDLE_THREADS as usize);
    let written: Vec<(Written, HeaderMap)> = thread::scope(|scope| {
        let writers: Vec<_> = (0..HANDLE_THREADS)
            .map(|_| {
                let (session, start) = (session.clone(), &start);
                scope.spawn(move || {
                    let mut headers = HeaderMap::new();
                    start.wait();
                    (session.write(&mut headers).unwrap(), headers)
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let set: Vec<&HeaderMap> = written
        .iter()
        .filter(|(w, _)| *w == Written::Set)
        .map(|(_, h)| h)
        .collect();
    assert_eq!(
        set.len(),
        1,
        "{:?}",
        written.iter().map(|w| w.0).collect::<Vec<_>>()
    );
    for (w, headers) in &written {
        if *w != Written::Set {
            assert_eq!(*w, Written::Nothing);
            assert!(headers.is_empty());
        }
    }

    // The next request sees every increment, in the same session.
    let next = config.load::<u64>(&request_headers(Some(&cookie_from(set[0]))));
    assert_eq!(next.get(), Some(total));
    assert_eq!(next.id(), Some(id));
}

#[test]
fn checked_and_unchecked_updates_interleave_without_loss() {
    // `try_update` seals under the lock and keeps the sealed cookie for the
    // response; any later `update_or_default` must drop it. Interleaved
    // from several threads, the written cookie must hold the last value.
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 60;
    let config = SessionConfig::new(current_codec(Algorithm::XChaCha20Poly1305));
    let session = config.load::<u64>(&HeaderMap::new());
    let start = Barrier::new(THREADS as usize);
    thread::scope(|scope| {
        for t in 0..THREADS {
            let (session, start) = (session.clone(), &start);
            scope.spawn(move || {
                start.wait();
                for round in 0..ROUNDS {
                    if (t + round) % 2 == 0 {
                        session.try_update(|n| *n += 1).unwrap();
                    } else {
                        session.update_or_default(|n| *n += 1);
                    }
                }
            });
        }
    });
    let total = THREADS * ROUNDS;
    assert_eq!(session.get(), Some(total));
    let mut response = HeaderMap::new();
    assert_eq!(session.write(&mut response).unwrap(), Written::Set);
    let next = config.load::<u64>(&request_headers(Some(&cookie_from(&response))));
    assert_eq!(next.get(), Some(total));
    assert_eq!(next.id(), session.id());
}
