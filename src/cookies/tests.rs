//! The bound on work per request, counted in AEAD attempts.
//!
//! `AeadKeys::decrypt` counts its calls per thread in test builds
//! (`crate::algorithm::decrypt_calls`). These tests load hostile `Cookie`
//! headers and assert how many AEAD checks one request costs: one per
//! session cookie that gets that far, never more than
//! [`MAX_SESSION_COOKIES_TRIED`] however many the request carries, and
//! exactly that many when there are more candidates.
//!
//! The garbage cookies are built to pass every check before the AEAD: strict
//! base64url, within the size limit, version 1, a known algorithm and the
//! key id of a secret in the keyring. So each one that is tried costs one
//! AEAD check, and the counts below are the number of cookies tried.
//!
//! With chunking on ([`max_chunks`](super::SessionConfigBuilder::max_chunks)
//! above 1), the chunk cookies `name.0`, `name.1`, ... are joined into one
//! more candidate, tried once when no plain cookie opened: one more attempt
//! at most, stated in [`attempt_bound`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use super::MAX_SESSION_COOKIES_TRIED;
use crate::algorithm::{Algorithm, NONCE_LEN, TAG_LEN, decrypt_calls};
use crate::clock::ManualClock;
use crate::codec::Codec;
use crate::codec::OpenOptions;
use crate::config::SessionConfig;
use crate::error::{Error, Malformed};
use crate::key_id::KeyId;
use crate::keyring::Keyring;
use crate::session::Session;
use crate::wire::{self, Binding};

/// AEAD attempts the joined chunk set may add to a request when chunking
/// is on: it is one candidate, tried once.
const CHUNK_SET_ATTEMPTS: usize = 1;

/// The most AEAD attempts one request may cause: the one place this bound
/// is stated.
fn attempt_bound(chunking: bool) -> usize {
    MAX_SESSION_COOKIES_TRIED + if chunking { CHUNK_SET_ATTEMPTS } else { 0 }
}

/// Four secrets, newest first.
const SECRETS: [&str; 4] = [
    "work bound test secret 0, longer than 32 bytes",
    "work bound test secret 1, longer than 32 bytes",
    "work bound test secret 2, longer than 32 bytes",
    "work bound test secret 3, longer than 32 bytes",
];

/// A fixed instant (2027-01-15).
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// A codec over these secrets with the cookie name the tests write,
/// `session`, its clock standing at [`t0`]; default settings otherwise.
fn codec(secrets: &[&str]) -> Codec {
    Codec::builder(Keyring::new(secrets).expect("valid secrets"))
        .cookie_name("session")
        .clock(ManualClock::new(t0()))
        .build()
        .expect("valid settings")
}

/// Default attributes over [`codec`].
fn config(secrets: &[&str]) -> SessionConfig {
    SessionConfig::new(codec(secrets))
}

/// The configuration's key ids, the sealing one first.
fn key_ids(config: &SessionConfig) -> Vec<KeyId> {
    config.codec().settings().keys.ids().collect()
}

/// A cookie value that passes every check before the AEAD under `key_id`
/// (strict base64url, 6 + 24 + `body_len` + 16 bytes, version 1, a known
/// algorithm) but fails it: random nonce, body and tag. `seed` varies the
/// algorithm so that both AEADs are exercised.
fn garbage(key_id: KeyId, body_len: usize, seed: usize) -> String {
    let algorithm = Algorithm::ALL[seed % Algorithm::ALL.len()];
    let mut token = vec![wire::VERSION, algorithm.wire_id()];
    token.extend_from_slice(&key_id.to_bytes());
    let mut random = vec![0u8; NONCE_LEN + body_len + TAG_LEN];
    getrandom::fill(&mut random).expect("random bytes");
    token.extend_from_slice(&random);
    wire::encode(&token)
}

/// One request carrying `pairs` in a single `Cookie` header.
fn one_header(pairs: &[String]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        COOKIE,
        HeaderValue::from_str(&pairs.join("; ")).expect("a header value"),
    );
    headers
}

/// Loads `headers` at `t0` and returns the session with the AEAD attempts
/// the load made on this thread.
fn load_counting(
    config: &SessionConfig,
    headers: &HeaderMap,
    binding: Option<Binding>,
) -> (Session<u32>, usize) {
    decrypt_calls::reset();
    let options = match binding {
        Some(binding) => OpenOptions::new().binding(binding),
        None => OpenOptions::new(),
    };
    let session = config.load_with::<u32>(headers, &options);
    (session, decrypt_calls::read())
}

/// A valid session cookie with value `value`.
fn valid(config: &SessionConfig, value: u32) -> String {
    format!("session={}", config.codec().seal(&value).expect("seals"))
}

#[test]
fn the_counter_counts_decrypt_calls_on_this_thread() {
    let config = config(&SECRETS[..1]);
    let value = config.codec().seal(&7u32).expect("seals");
    decrypt_calls::reset();
    assert_eq!(decrypt_calls::read(), 0);
    let opened = config.codec().open::<u32>(&value).expect("opens");
    assert_eq!(*opened.value(), 7);
    assert_eq!(decrypt_calls::read(), 1);
    // Another thread's calls are not counted here.
    std::thread::scope(|scope| {
        scope.spawn(|| {
            decrypt_calls::reset();
            drop(config.codec().open::<u32>(&value));
            assert_eq!(decrypt_calls::read(), 1);
        });
    });
    assert_eq!(decrypt_calls::read(), 1);
    decrypt_calls::reset();
    assert_eq!(decrypt_calls::read(), 0);
}

#[test]
fn one_bad_cookie_costs_one_attempt() {
    let config = config(&SECRETS[..1]);
    let id = key_ids(&config)[0];
    for seed in 0..2 {
        let headers = one_header(&[format!("session={}", garbage(id, 40, seed))]);
        let (session, attempts) = load_counting(&config, &headers, None);
        assert_eq!(attempts, 1, "seed {seed}");
        assert!(session.is_empty());
        assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
    }
    // Opening directly costs the same single attempt.
    decrypt_calls::reset();
    assert_eq!(
        config.codec().open::<u32>(&garbage(id, 40, 0)).map(|_| ()),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(decrypt_calls::read(), 1);
}

#[test]
fn the_key_id_picks_one_key_out_of_four() {
    let config = config(&SECRETS);
    for (position, id) in key_ids(&config).into_iter().enumerate() {
        let headers = one_header(&[format!("session={}", garbage(id, 40, position))]);
        let (session, attempts) = load_counting(&config, &headers, None);
        assert_eq!(attempts, 1, "key at position {position}");
        assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
    }
    // A valid cookie sealed under the last secret: one attempt, and it opens.
    let last = self::config(&SECRETS[3..]);
    let headers = one_header(&[valid(&last, 9)]);
    let (session, attempts) = load_counting(&config, &headers, None);
    assert_eq!(session.get(), Some(9));
    assert_eq!(attempts, 1);
}

#[test]
fn checks_before_the_aead_cost_no_attempt() {
    let config = config(&SECRETS[..1]);
    let id = key_ids(&config)[0];
    let unknown_key = garbage(KeyId([0xde, 0xad, 0xbe, 0xef]), 40, 0);
    let oversized = garbage(id, 4000, 0);
    let mut bad_version = wire::decode(&garbage(id, 40, 0)).expect("decodes").to_vec();
    bad_version[0] = 2;
    let mut bad_algorithm = bad_version.clone();
    bad_algorithm[0] = wire::VERSION;
    bad_algorithm[1] = 0x7f;
    let cases = [
        ("forged".to_string(), Error::Malformed(Malformed::Encoding)),
        (String::new(), Error::Malformed(Malformed::Truncated)),
        (
            wire::encode(&[1; 45]),
            Error::Malformed(Malformed::Truncated),
        ),
        (wire::encode(&bad_version), Error::UnsupportedVersion(2)),
        (wire::encode(&bad_algorithm), Error::UnknownAlgorithm(0x7f)),
        (
            unknown_key.clone(),
            Error::UnknownKey(KeyId([0xde, 0xad, 0xbe, 0xef])),
        ),
        (
            oversized.clone(),
            Error::TooLarge {
                size: "session".len() + oversized.len(),
                limit: 4096,
            },
        ),
    ];
    for (value, error) in cases {
        // Thousands of them: none reaches the AEAD.
        let pairs = vec![format!("session={value}"); 1_000];
        let (session, attempts) = load_counting(&config, &one_header(&pairs), None);
        assert_eq!(attempts, 0, "{}", error.code());
        assert_eq!(session.rejection(), Some(error));
        assert!(session.is_empty());
    }
}

#[test]
fn five_thousand_duplicates_cost_exactly_the_bound() {
    let config = config(&SECRETS[..1]);
    let id = key_ids(&config)[0];
    let pairs: Vec<String> = (0..5_000)
        .map(|i| format!("session={}", garbage(id, 40, i)))
        .collect();
    let (session, attempts) = load_counting(&config, &one_header(&pairs), None);
    assert_eq!(attempts, attempt_bound(false));
    assert!(session.is_empty());
    assert!(!session.was_loaded());
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));

    // The same cookies, one per `Cookie` header: the bound is per request,
    // not per header.
    let mut headers = HeaderMap::new();
    for pair in &pairs {
        headers.append(COOKIE, HeaderValue::from_str(pair).expect("a header value"));
    }
    let (session, attempts) = load_counting(&config, &headers, None);
    assert_eq!(attempts, attempt_bound(false));
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));

    // Bound sessions try the same number.
    let (session, attempts) =
        load_counting(&config, &one_header(&pairs), Some(Binding::new(b"ctx")));
    assert_eq!(attempts, attempt_bound(false));
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
}

#[test]
fn attempts_grow_with_the_candidates_up_to_the_bound_and_stop() {
    let config = config(&SECRETS[..1]);
    let id = key_ids(&config)[0];
    for n in [
        0,
        1,
        2,
        MAX_SESSION_COOKIES_TRIED - 1,
        MAX_SESSION_COOKIES_TRIED,
    ] {
        let pairs: Vec<String> = (0..n)
            .map(|i| format!("session={}", garbage(id, 40, i)))
            .collect();
        let headers = one_header(&pairs);
        let (session, attempts) = load_counting(&config, &headers, None);
        assert_eq!(attempts, n, "{n} candidates");
        assert_eq!(session.rejection().is_some(), n > 0);
    }
    for n in [MAX_SESSION_COOKIES_TRIED + 1, 100, 1_000] {
        let pairs: Vec<String> = (0..n)
            .map(|i| format!("session={}", garbage(id, 40, i)))
            .collect();
        let (_, attempts) = load_counting(&config, &one_header(&pairs), None);
        assert_eq!(attempts, attempt_bound(false), "{n} candidates");
    }
}

#[test]
fn ten_thousand_assorted_cookies_stay_within_the_bound() {
    let config = config(&SECRETS[..2]);
    let ids = key_ids(&config);
    // Other names (some sharing the session name's prefix), session cookies
    // that stop before the AEAD and session cookies that reach it, in a
    // fixed interleaving.
    let mut pairs = Vec::with_capacity(10_000);
    let mut reaching = Vec::new(); // whether each session cookie reaches the AEAD
    for i in 0..10_000usize {
        let pair = match i % 10 {
            0 => format!("theme{i}=dark"),
            1 => format!("sessionx={}", garbage(ids[0], 20, i)),
            2 => format!("session.{i}={}", garbage(ids[1], 20, i)),
            3 => format!("Session={}", garbage(ids[0], 20, i)),
            4 if i % 1_000 == 4 => {
                reaching.push(false);
                format!("session=not*base64*{i}")
            }
            5 if i % 1_000 == 5 => {
                reaching.push(true);
                format!("session={}", garbage(ids[i % 2], 20, i))
            }
            6 if i % 1_000 == 6 => {
                reaching.push(false);
                format!("session={}", garbage(KeyId([0, 0, 0, 0]), 20, i))
            }
            _ => format!("c{i}={i}"),
        };
        pairs.push(pair);
    }
    assert!(reaching.len() > MAX_SESSION_COOKIES_TRIED);
    let expected = reaching
        .iter()
        .take(MAX_SESSION_COOKIES_TRIED)
        .filter(|&&r| r)
        .count();
    let (session, attempts) = load_counting(&config, &one_header(&pairs), None);
    assert_eq!(attempts, expected);
    assert!(attempts <= attempt_bound(false));
    assert!(session.is_empty());
    // The first session cookie was not base64.
    assert_eq!(
        session.rejection(),
        Some(Error::Malformed(Malformed::Encoding))
    );

    // The same header with every session cookie reaching the AEAD.
    let pairs: Vec<String> = pairs
        .into_iter()
        .enumerate()
        .map(|(i, pair)| {
            if pair.starts_with("session=") {
                format!("session={}", garbage(ids[i % 2], 20, i))
            } else {
                pair
            }
        })
        .collect();
    let (session, attempts) = load_counting(&config, &one_header(&pairs), None);
    assert_eq!(attempts, attempt_bound(false));
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
}

#[test]
fn a_valid_cookie_among_garbage_costs_its_position() {
    let config = config(&SECRETS[..1]);
    let id = key_ids(&config)[0];
    let with_valid_at = |position: usize, total: usize| -> Vec<String> {
        (0..total)
            .map(|i| {
                if i == position {
                    valid(&config, 42)
                } else {
                    format!("session={}", garbage(id, 40, i))
                }
            })
            .collect()
    };
    // First: one attempt, whatever follows.
    let (session, attempts) = load_counting(&config, &one_header(&with_valid_at(0, 5_000)), None);
    assert_eq!(session.get(), Some(42));
    assert_eq!(attempts, 1);
    // Last of those tried: the bound, and it opens.
    let last = MAX_SESSION_COOKIES_TRIED - 1;
    let (session, attempts) =
        load_counting(&config, &one_header(&with_valid_at(last, 5_000)), None);
    assert_eq!(session.get(), Some(42));
    assert_eq!(attempts, attempt_bound(false));
    // Past the bound: never tried, so the session is empty.
    let (session, attempts) = load_counting(
        &config,
        &one_header(&with_valid_at(MAX_SESSION_COOKIES_TRIED, 5_000)),
        None,
    );
    assert!(session.is_empty());
    assert_eq!(attempts, attempt_bound(false));
}

/// A configuration that spreads sessions over up to four cookies.
fn chunked_config() -> SessionConfig {
    SessionConfig::builder(codec(&SECRETS[..1]))
        .max_chunks(4)
        .build()
        .expect("valid chunking settings")
}

/// `value` cut into chunk cookies `session.0`, `session.1`, ... of at most
/// `chunk` characters each.
fn chunk_pairs(value: &str, chunk: usize) -> Vec<String> {
    value
        .as_bytes()
        .chunks(chunk)
        .enumerate()
        .map(|(i, part)| {
            format!(
                "session.{i}={}",
                core::str::from_utf8(part).expect("base64url is ASCII")
            )
        })
        .collect()
}

#[test]
fn chunking_adds_at_most_one_attempt() {
    let config = chunked_config();
    assert_eq!(config.max_chunks(), 4);
    let id = key_ids(&config)[0];
    // A forged token too long for one cookie, in two chunks: they join
    // into one candidate that reaches the AEAD.
    let long = garbage(id, 4_500, 1);
    assert!(long.len() > 4096);
    let chunks = chunk_pairs(&long, 4_000);
    assert_eq!(chunks.len(), 2);

    // The chunks alone: one attempt.
    let (session, attempts) = load_counting(&config, &one_header(&chunks), None);
    assert_eq!(attempts, CHUNK_SET_ATTEMPTS);
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));

    // 5 000 plain duplicates and the chunks: the plain bound plus one,
    // the most a chunked configuration allows.
    let mut pairs: Vec<String> = (0..5_000)
        .map(|i| format!("session={}", garbage(id, 40, i)))
        .collect();
    pairs.splice(2_500..2_500, chunks.iter().cloned());
    let (session, attempts) = load_counting(&config, &one_header(&pairs), None);
    assert_eq!(attempts, attempt_bound(true));
    assert!(session.is_empty());
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));

    // A valid plain cookie first: one attempt, the chunks are not tried.
    let mut with_valid = vec![valid(&config, 5)];
    with_valid.extend(pairs);
    let (session, attempts) = load_counting(&config, &one_header(&with_valid), None);
    assert_eq!(session.get(), Some(5));
    assert_eq!(attempts, 1);

    // 10 000 names from `session.4` up (`max_chunks` is 4) are other
    // cookies: they do not spoil the set, which still costs its one
    // attempt, and no more.
    let mut with_others: Vec<String> = (4..10_004)
        .map(|i| format!("session.{i}={}", garbage(id, 40, i)))
        .collect();
    with_others.push(format!(
        "session.99999999999999999999999={}",
        garbage(id, 40, 0)
    ));
    with_others.splice(5_000..5_000, chunks.iter().cloned());
    let (session, attempts) = load_counting(&config, &one_header(&with_others), None);
    assert_eq!(attempts, CHUNK_SET_ATTEMPTS);
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
}

#[test]
fn irregular_chunk_sets_cost_no_attempt() {
    let config = chunked_config();
    let id = key_ids(&config)[0];
    let long = garbage(id, 4_500, 2);
    let chunks = chunk_pairs(&long, 4_000);
    // 10 000 chunk cookies (each index below `max_chunks` 2 500 times),
    // every chunk twice, a gap (no `session.0`), and a chunk over the
    // cookie size: each is refused before the AEAD.
    let many: Vec<String> = (0..10_000)
        .map(|i| format!("session.{}={}", i % 4, garbage(id, 40, i)))
        .collect();
    let twice: Vec<String> = chunks.iter().chain(&chunks).cloned().collect();
    let gap = vec![chunks[1].clone()];
    let oversized = vec![
        format!("session.0={}", garbage(id, 3_500, 3)),
        chunks[1].clone(),
    ];
    let oversized_size = oversized[0].len() - 1; // name and value, no `=`
    let irregular = Error::Malformed(Malformed::Chunks);
    for (label, pairs, error) in [
        ("10 000 chunks", many, irregular.clone()),
        ("every chunk twice", twice, irregular.clone()),
        ("no chunk 0", gap, irregular),
        (
            "an oversized chunk",
            oversized,
            Error::TooLarge {
                size: oversized_size,
                limit: 4096,
            },
        ),
    ] {
        let (session, attempts) = load_counting(&config, &one_header(&pairs), None);
        assert_eq!(attempts, 0, "{label}");
        assert!(session.is_empty(), "{label}");
        assert_eq!(session.rejection(), Some(error), "{label}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

    /// Cookie pairs are split as the `cookie` crate parses them: at the
    /// first `=`, whitespace trimmed, an empty name or no `=` skipped.
    #[test]
    fn cookie_pairs_split_as_the_cookie_crate_parses_them(
        pair in "[ \t\u{a0}\u{2003}]{0,2}[a-z_.=\" \t\u{e9}]{0,8}[ \t\u{a0}]{0,2}",
        prefix in "|s|se|s.",
    ) {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_bytes(pair.as_bytes()).unwrap());
        let ours: Vec<(&str, &str)> = super::cookies_starting_with(&headers, &prefix).collect();
        let theirs = cookie::Cookie::parse(pair.as_str())
            .ok()
            .map(|c| (c.name_raw().unwrap().to_owned(), c.value_raw().unwrap().to_owned()))
            .filter(|(name, _)| name.starts_with(&prefix));
        let ours = ours.first().map(|(n, v)| ((*n).to_owned(), (*v).to_owned()));
        proptest::prop_assert_eq!(ours, theirs);
    }
}
