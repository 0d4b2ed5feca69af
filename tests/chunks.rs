//! Chunked sessions (issue 6) through the public API: a session too long for
//! one cookie is written to `name.0`, `name.1`, … by
//! `SessionConfigBuilder::max_chunks`, read back only as one exact,
//! contiguous set, and every write removes the session cookies the browser
//! holds that it does not set.
//!
//! Multi-step scenarios go through [`Jar`], a small model of a browser's
//! cookie store: it applies each response's `Set-Cookie` headers (a cookie is
//! identified by name, path and domain, as browsers do, so a removal with
//! another path or domain does not remove anything) and builds the next
//! request's `Cookie` header. After every step the tests assert that the jar
//! holds exactly the cookies the new layout uses.
//!
//! Most tests use a maximum cookie size of [`MAX`] = 300 bytes, so that
//! sessions of a few hundred bytes already need chunks and every boundary is
//! easy to reach. The expected layout of a value comes from [`plan`], an
//! independent statement of the split rule, and the expected value length
//! from [`value_len`], the README's length formula; both are checked against
//! what the crate writes. All tests run at explicit instants from [`t0`]:
//! every codec they build reads the test thread's [`ManualClock`]
//! ([`clock`]), which each load and write sets first.
//!
//! The codecs name their cookie `session` (not the default `__Host-session`,
//! so that the tests can also set a `Path` and a `Domain`), have no idle
//! timeout (so that nothing is renewed or expires between steps) and a 7-day
//! lifetime, all set explicitly in [`codec_builder`].
//!
//! Chunk names: only `name.k` with `k` below the configuration's
//! `max_chunks` are the session's chunks. A name with a higher index (up to
//! 63 and beyond) is another cookie: it neither spoils a valid set nor is it
//! ever removed, so one response removes at most `max_chunks + 1` cookies
//! (the plain name and the chunks below `max_chunks`).

#[path = "support/common.rs"]
mod common;
#[path = "support/reference.rs"]
mod reference;

use std::collections::BTreeSet;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{set_cookies, t0};
use cookie::Cookie;
use cookie::time::OffsetDateTime;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use sealed_session::clock::ManualClock;
use sealed_session::error::{Deadline, Malformed};
use sealed_session::limits::{
    DEFAULT_COOKIE_NAME, DEFAULT_HEADER_BUDGET, DEFAULT_MAX_COOKIE_SIZE, MAX_CHUNKS,
};
use sealed_session::{
    Algorithm, Binding, Codec, CodecBuilder, ConfigError, Error, KeyId, Keyring, OpenOptions,
    Renewal, Session, SessionConfig, SessionId, Written,
};

const SECRET: &str = "chunk test secret, which is longer than 32 bytes";
const OTHER_SECRET: &str = "another deployment's secret, also 32+ bytes long";
/// The cookie name of every test, set on every codec (the default is
/// `__Host-session`).
const NAME: &str = "session";
/// The lifetime of every session, set on every codec (the default is 12
/// hours).
const LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// The maximum cookie size (name plus value) of most tests.
const MAX: usize = 300;
/// Token bytes besides the payload, for a session sealed around [`t0`]
/// within 127 seconds of its creation, from the reference implementation:
/// header, nonce and tag (46), then the envelope: the creation time (a
/// 5-byte varint around 2027), the 7-day lifetime (604 800 s, a 3-byte
/// varint), the seconds from creation to the last seal (a 1-byte varint
/// below 128), the 4-byte schema id and the 16-byte session id (29).
fn fixed() -> usize {
    let created_at = t0()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let envelope = reference::plaintext(
        created_at,
        LIFETIME.as_secs(),
        127,
        &reference::schema_id(""),
        &[0; 16],
        &[],
    );
    let fixed = reference::MIN_TOKEN_LEN + envelope.len();
    assert_eq!(fixed, 46 + 29);
    fixed
}

/// `secs` seconds after [`t0`].
fn later(secs: u64) -> SystemTime {
    t0() + common::secs(secs)
}

thread_local! {
    /// The clock of every codec a test builds: one per test thread (each
    /// test, and each of its proptest cases, runs on one thread).
    static CLOCK: ManualClock = common::clock();
}

/// The test thread's clock (a clone sharing its time).
fn clock() -> ManualClock {
    CLOCK.with(ManualClock::clone)
}

/// Sets the test thread's clock, which every codec of the test reads.
fn set_now(now: SystemTime) {
    clock().set(now);
}

/// Loads the session of `headers` at `now`.
fn load(config: &SessionConfig, headers: &HeaderMap, now: SystemTime) -> Session<String> {
    set_now(now);
    config.load::<String>(headers)
}

/// Loads the session of `headers` bound to `binding` at `now`.
fn load_bound(
    config: &SessionConfig,
    headers: &HeaderMap,
    binding: Binding,
    now: SystemTime,
) -> Session<String> {
    set_now(now);
    config.load_with::<String>(headers, &OpenOptions::new().binding(binding))
}

fn keyring(secret: &str) -> Keyring {
    Keyring::new([secret]).expect("valid secret")
}

/// The settings every codec of these tests starts from: the cookie name
/// [`NAME`], no idle timeout, the [`LIFETIME`] and the test's [`clock`].
fn codec_builder(keyring: Keyring) -> CodecBuilder {
    Codec::builder(keyring)
        .cookie_name(NAME)
        .idle_timeout(None)
        .lifetime(LIFETIME)
        .clock(clock())
}

/// A codec over [`SECRET`] with the given maximum cookie size.
fn codec_with(max_cookie_size: usize) -> Codec {
    codec_builder(keyring(SECRET))
        .max_cookie_size(max_cookie_size)
        .build()
        .expect("valid codec settings")
}

/// A codec over `secret` with the default maximum cookie size.
fn codec_of(secret: &str) -> Codec {
    codec_builder(keyring(secret))
        .build()
        .expect("valid codec settings")
}

/// The key id `secret` seals under (no application label), as the crate
/// reports it for a cookie it sealed; the same as the reference derives.
fn key_id_of(secret: &str) -> KeyId {
    let codec = codec_of(secret);
    let sealed = codec.seal(&()).expect("seals");
    let id = codec.open::<()>(&sealed).expect("opens").key_id();
    assert_eq!(id.to_bytes(), reference::derive(secret, "").id);
    id
}

/// The maximum cookie size of `codec`, as its `Debug` shows it (the codec
/// has no getter for it).
fn max_cookie_size(codec: &Codec) -> usize {
    common::setting(codec, "max_cookie_size")
        .parse()
        .expect("a number")
}

/// A chunking configuration over [`SECRET`].
fn chunked(max_cookie_size: usize, max_chunks: usize, budget: usize) -> SessionConfig {
    SessionConfig::builder(codec_with(max_cookie_size))
        .max_chunks(max_chunks)
        .header_budget(budget)
        .build()
        .expect("valid chunking settings")
}

/// [`MAX`]-byte cookies, `max_chunks` of them, the default budget.
fn config(max_chunks: usize) -> SessionConfig {
    chunked(MAX, max_chunks, DEFAULT_HEADER_BUDGET)
}

/// A session value of `n` characters (its content does not matter: the
/// cookie is ciphertext).
fn text(n: usize) -> String {
    (0..n)
        .map(|i| char::from(b'a' + u8::try_from(i % 26).expect("below 26")))
        .collect()
}

/// The postcard payload length of [`text`]`(n)`: the LEB128 length prefix
/// (as the reference writes it) and the `n` bytes.
fn payload_len(n: usize) -> usize {
    let mut prefix = Vec::new();
    reference::write_varint(&mut prefix, u64::try_from(n).expect("small"));
    prefix.len() + n
}

/// [`fixed`], computed once ([`value_len`] is called hundreds of
/// thousands of times).
static FIXED: LazyLock<usize> = LazyLock::new(fixed);

/// The cookie value length of [`text`]`(n)` sealed around [`t0`]: the
/// README's `ceil(4 * (46 + plaintext) / 3)`.
fn value_len(n: usize) -> usize {
    (4 * (*FIXED + payload_len(n))).div_ceil(3)
}

fn chunk_name(index: usize) -> String {
    format!("{NAME}.{index}")
}

/// The session cookie names of a layout: the plain name for one cookie,
/// `name.0` through `name.(k-1)` for `k` chunks.
fn layout_names(chunks: usize) -> BTreeSet<String> {
    if chunks == 0 {
        BTreeSet::from([NAME.to_string()])
    } else {
        (0..chunks).map(chunk_name).collect()
    }
}

/// What a value of `value_len` characters should become, stated from the
/// issue's rules without the crate's arithmetic (the cut is the reference
/// implementation's [`reference::split`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    /// One cookie under the plain name.
    One,
    /// Chunks `0..len`, with these value lengths.
    Chunks(Vec<usize>),
    /// Too large: the chunk cookies would take `size` bytes, over `limit`.
    TooLarge { size: usize, limit: usize },
}

fn plan(value_len: usize, max_cookie_size: usize, max_chunks: usize, budget: usize) -> Plan {
    if NAME.len() + value_len <= max_cookie_size {
        return Plan::One;
    }
    if max_chunks == 1 {
        return Plan::TooLarge {
            size: NAME.len() + value_len,
            limit: max_cookie_size,
        };
    }
    // Greedy: every chunk as full as its own name allows.
    let chunks = reference::split(NAME, &"A".repeat(value_len), max_cookie_size);
    let lengths: Vec<usize> = chunks.iter().map(|(_, value)| value.len()).collect();
    let size: usize = chunks
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    let limit = budget.min(max_chunks * max_cookie_size);
    if lengths.len() > max_chunks || size > limit {
        Plan::TooLarge { size, limit }
    } else {
        Plan::Chunks(lengths)
    }
}

/// The smallest and largest `n` for which [`text`]`(n)` becomes exactly
/// `chunks` chunks under `max_cookie_size` (and enough room otherwise).
fn n_range(max_cookie_size: usize, chunks: usize) -> (usize, usize) {
    let fits = |n: usize| match plan(value_len(n), max_cookie_size, MAX_CHUNKS, usize::MAX) {
        Plan::Chunks(lengths) => lengths.len() == chunks,
        _ => false,
    };
    let low = (0..100_000).find(|&n| fits(n)).expect("reachable");
    let high = (low..100_000)
        .take_while(|&n| fits(n))
        .last()
        .expect("low fits");
    (low, high)
}

/// A payload length in the middle of the `chunks`-chunk range for [`MAX`].
fn n_for(chunks: usize) -> usize {
    let (low, high) = n_range(MAX, chunks);
    low + (high - low) / 2
}

/// The most chunks a configuration can ever write, from the split rule: the
/// largest `k` up to `max_chunks` for which the smallest value of `k`
/// chunks (`k - 1` full ones and one character more) gets exactly `k`
/// chunks from [`plan`]. A chunked write removes the plain name and every
/// index from its own count up to this one, since a concurrent response
/// may have set them.
fn most_chunks(max_cookie_size: usize, max_chunks: usize, budget: usize) -> usize {
    (2..=max_chunks)
        .filter(|&k| {
            let full: usize = (0..k - 1)
                .map(|index| max_cookie_size - chunk_name(index).len())
                .sum();
            // The shortest value that needs chunks at all is one character
            // too long for the plain cookie.
            let smallest = (full + 1).max(max_cookie_size - NAME.len() + 1);
            matches!(
                plan(smallest, max_cookie_size, max_chunks, budget),
                Plan::Chunks(lengths) if lengths.len() == k
            )
        })
        .max()
        .unwrap_or(1)
}

/// [`most_chunks`] of `config`.
fn most_chunks_of(config: &SessionConfig) -> usize {
    most_chunks(
        max_cookie_size(config.codec()),
        config.max_chunks(),
        config.header_budget(),
    )
}

/// What a write of `count` chunks removes besides what the request carried:
/// the plain name and chunks `count` up to the most `config` can use.
fn chunked_removals(config: &SessionConfig, count: usize) -> BTreeSet<String> {
    std::iter::once(NAME.to_string())
        .chain((count..most_chunks_of(config)).map(chunk_name))
        .collect()
}

// ---------------------------------------------------------------------------
// Responses and the browser model
// ---------------------------------------------------------------------------

fn is_removal(cookie: &Cookie<'_>) -> bool {
    cookie.max_age() == Some(cookie::time::Duration::ZERO)
}

/// The cookies a response sets (not removals), as (name, value), in order.
fn sets(response: &HeaderMap) -> Vec<(String, String)> {
    set_cookies(response)
        .iter()
        .filter(|c| !is_removal(c))
        .map(|c| (c.name().to_string(), c.value().to_string()))
        .collect()
}

/// The names of the cookies a response removes. Each is removed once.
fn removals(response: &HeaderMap) -> BTreeSet<String> {
    let names: Vec<String> = set_cookies(response)
        .iter()
        .filter(|c| is_removal(c))
        .map(|c| c.name().to_string())
        .collect();
    let set: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(set.len(), names.len(), "a cookie removed twice: {names:?}");
    set
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

/// Every `Set-Cookie` carries the configuration's path and domain, the sets
/// a positive `Max-Age` and the removals an empty value, `Max-Age=0` and an
/// `Expires` in 1970; and every cookie is within `max_cookie_size`.
fn check_attributes(
    response: &HeaderMap,
    path: &str,
    domain: Option<&str>,
    max_cookie_size: usize,
) {
    for cookie in set_cookies(response) {
        let name = cookie.name();
        assert_eq!(cookie.path(), Some(path), "{name}: path");
        assert_eq!(cookie.domain(), domain, "{name}: domain");
        assert_eq!(cookie.secure(), Some(true), "{name}: Secure");
        assert_eq!(cookie.http_only(), Some(true), "{name}: HttpOnly");
        assert!(
            name.len() + cookie.value().len() <= max_cookie_size,
            "{name}: {} bytes",
            name.len() + cookie.value().len()
        );
        let max_age = cookie.max_age().expect("every Set-Cookie has Max-Age");
        if is_removal(&cookie) {
            assert_eq!(cookie.value(), "", "{name}: a removal has no value");
            assert_eq!(
                cookie.expires_datetime(),
                Some(OffsetDateTime::UNIX_EPOCH),
                "{name}: a removal expires in 1970"
            );
        } else {
            assert!(max_age.is_positive(), "{name}: Max-Age {max_age}");
        }
    }
}

/// One cookie in the browser model.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    name: String,
    value: String,
    path: String,
    /// The `Domain` attribute without a leading dot, lowercase; empty for a
    /// host-only cookie.
    domain: String,
}

/// A browser's cookie store for one site, reduced to what matters here:
/// cookies are identified by (name, path, domain); a `Set-Cookie` with
/// `Max-Age` of 0 or less deletes the matching cookie, any other replaces
/// its value or adds it. Every request carries every cookie.
#[derive(Debug, Clone, Default)]
struct Jar {
    cookies: Vec<Stored>,
}

impl Jar {
    /// A jar holding one unrelated cookie, which must survive every step.
    fn with_other() -> Self {
        let mut jar = Self::default();
        jar.cookies.push(Stored {
            name: "other".into(),
            value: "1".into(),
            path: "/".into(),
            domain: String::new(),
        });
        jar
    }

    fn apply(&mut self, response: &HeaderMap) {
        for cookie in set_cookies(response) {
            let path = cookie.path().unwrap_or("/").to_string();
            let domain = cookie
                .domain()
                .unwrap_or("")
                .trim_start_matches('.')
                .to_ascii_lowercase();
            let max_age = cookie.max_age().expect("every Set-Cookie has Max-Age");
            let position = self
                .cookies
                .iter()
                .position(|s| s.name == cookie.name() && s.path == path && s.domain == domain);
            match (max_age.is_positive(), position) {
                (false, Some(index)) => {
                    self.cookies.remove(index);
                }
                (false, None) => {}
                (true, Some(index)) => self.cookies[index].value = cookie.value().to_string(),
                (true, None) => self.cookies.push(Stored {
                    name: cookie.name().to_string(),
                    value: cookie.value().to_string(),
                    path,
                    domain,
                }),
            }
        }
    }

    /// The next request's headers: one `Cookie` header with every cookie.
    fn request(&self) -> HeaderMap {
        let pairs: Vec<(String, String)> = self
            .cookies
            .iter()
            .map(|s| (s.name.clone(), s.value.clone()))
            .collect();
        request(&pairs)
    }

    /// The names of the session's cookies in the jar: the plain name and
    /// anything that looks like a chunk of it.
    fn session_names(&self) -> BTreeSet<String> {
        self.cookies
            .iter()
            .filter(|s| s.name == NAME || s.name.starts_with(&format!("{NAME}.")))
            .map(|s| s.name.clone())
            .collect()
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value.as_str())
    }

    fn has_other(&self) -> bool {
        self.value("other") == Some("1")
    }
}

/// Request headers with one `Cookie` header holding `pairs` in order.
fn request(pairs: &[(String, String)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if !pairs.is_empty() {
        let line = pairs
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        headers.insert(COOKIE, HeaderValue::try_from(line).expect("valid header"));
    }
    headers
}

/// Writes the session at `now` into a fresh response.
fn respond(session: &Session<String>, now: SystemTime) -> (Written, HeaderMap) {
    let mut response = HeaderMap::new();
    set_now(now);
    let written = session.write(&mut response).expect("writes");
    (written, response)
}

/// Asserts that a request with the cookies `pairs` alone, loaded at
/// `later(1)`, is no session to `config`: nothing loaded, nothing rejected,
/// nothing written.
fn assert_no_session(config: &SessionConfig, pairs: &[(String, String)]) {
    let session = load(config, &request(pairs), later(1));
    assert!(session.is_empty());
    assert_eq!(session.rejection(), None);
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::Nothing);
    assert!(response.is_empty());
}

/// A new session holding [`text`]`(n)`, written at `now`: the response.
fn new_session(config: &SessionConfig, n: usize, now: SystemTime) -> (SessionId, HeaderMap) {
    let session = load(config, &HeaderMap::new(), now);
    session.insert(text(n));
    let (written, response) = respond(&session, now);
    assert_eq!(written, Written::Set);
    (session.id().expect("sealed"), response)
}

/// The chunk values a fresh session of [`text`]`(n)` is written to, in
/// index order (asserting the response is exactly `name.0..name.(k-1)`).
fn sealed_chunks(config: &SessionConfig, n: usize, now: SystemTime) -> Vec<String> {
    let (_, response) = new_session(config, n, now);
    chunk_values(&response)
}

/// The values of a response that sets chunks, in index order.
fn chunk_values(response: &HeaderMap) -> Vec<String> {
    let set = sets(response);
    for (index, (name, _)) in set.iter().enumerate() {
        assert_eq!(name, &chunk_name(index));
    }
    set.into_iter().map(|(_, value)| value).collect()
}

/// (name.k, value) for each chunk value, in index order.
fn as_chunks(values: &[String]) -> Vec<(String, String)> {
    values
        .iter()
        .enumerate()
        .map(|(index, value)| (chunk_name(index), value.clone()))
        .collect()
}

/// The key id of [`SECRET`].
fn key_id() -> [u8; 4] {
    reference::derive(SECRET, "").id
}

/// The error the format's checks before the AEAD give for `joined` (strict
/// base64url, length, version, algorithm, key id, in that order, as the
/// reference states them), or `AuthenticationFailed` when it passes them
/// all: what a modified cookie under [`SECRET`] must be rejected with.
fn predicted(joined: &str) -> Error {
    let Some(token) = reference::decode(joined) else {
        return Error::Malformed(Malformed::Encoding);
    };
    if token.len() < reference::MIN_TOKEN_LEN {
        return Error::Malformed(Malformed::Truncated);
    }
    if token[0] != reference::VERSION {
        return Error::UnsupportedVersion(token[0]);
    }
    if !reference::ALGORITHMS.contains(&token[1]) {
        return Error::UnknownAlgorithm(token[1]);
    }
    if token[2..6] != key_id() {
        // `KeyId` has no public constructor; the caller compares codes.
        return Error::UnknownKey(key_id_of(OTHER_SECRET));
    }
    Error::AuthenticationFailed
}

/// Asserts that `actual` is the error `predicted` states (for an unknown
/// key, the same code and the key id in the token).
fn assert_predicted(actual: &Error, joined: &str, context: &str) {
    match predicted(joined) {
        Error::UnknownKey(_) => {
            let token = reference::decode(joined).expect("decodes");
            match actual {
                Error::UnknownKey(id) => assert_eq!(id.to_bytes()[..], token[2..6], "{context}"),
                other => panic!("{context}: {other:?}, expected unknown-key"),
            }
        }
        expected => assert_eq!(actual, &expected, "{context}"),
    }
}

// ---------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------

/// Checks one fresh session of [`text`]`(n)` against `expected`: the
/// cookies written, the joined text as a single-cookie value, and the round
/// trip through the browser model.
fn check_layout(config: &SessionConfig, wide: &Codec, n: usize, expected: &Plan) {
    let max = max_cookie_size(config.codec());
    let context = format!("max {max}, n {n}, value length {}", value_len(n));
    let session = load(config, &HeaderMap::new(), t0());
    session.insert(text(n));
    let mut response = HeaderMap::new();
    let written = session.write(&mut response);
    if let Plan::TooLarge { size, limit } = *expected {
        assert_eq!(written, Err(Error::TooLarge { size, limit }), "{context}");
        assert!(response.is_empty(), "{context}: nothing appended");
        return;
    }
    assert_eq!(written, Ok(Written::Set), "{context}");
    check_attributes(&response, "/", None, max);
    // The request carried nothing: one cookie removes nothing, chunks
    // remove the plain name and every higher index the configuration can
    // use (a concurrent response may have set them).
    let expected_removals = match expected {
        Plan::One => BTreeSet::new(),
        Plan::Chunks(lengths) => chunked_removals(config, lengths.len()),
        Plan::TooLarge { .. } => unreachable!(),
    };
    assert_eq!(removals(&response), expected_removals, "{context}");
    let set = sets(&response);
    let names: Vec<&str> = set.iter().map(|(name, _)| name.as_str()).collect();
    let lengths: Vec<usize> = set.iter().map(|(_, value)| value.len()).collect();
    match expected {
        Plan::One => {
            assert_eq!(names, [NAME], "{context}");
            assert_eq!(lengths, [value_len(n)], "{context}");
        }
        Plan::Chunks(expected_lengths) => {
            let expected_names: Vec<String> = (0..expected_lengths.len()).map(chunk_name).collect();
            assert_eq!(names, expected_names, "{context}");
            assert_eq!(&lengths, expected_lengths, "{context}");
        }
        Plan::TooLarge { .. } => unreachable!(),
    }

    // The joined chunks are exactly a single-cookie value: strict base64url
    // of version 1, XAES-256-GCM, the key id, and as long as the format
    // says; a codec with room for it opens it as one cookie.
    let joined: String = set.iter().map(|(_, value)| value.as_str()).collect();
    assert_eq!(joined.len(), value_len(n), "{context}");
    if let Plan::Chunks(_) = expected {
        // The reference reads the chunk cookies back as the same text.
        assert_eq!(
            reference::join(NAME, &set, max, config.max_chunks(), config.header_budget()),
            Some(Ok(joined.clone())),
            "{context}"
        );
    }
    let token = reference::decode(&joined).expect("strict base64url");
    assert_eq!(token[0], reference::VERSION, "{context}: version");
    assert_eq!(token[1], reference::XAES_256_GCM, "{context}");
    assert_eq!(token[1], Algorithm::XAes256Gcm.wire_id(), "{context}");
    assert_eq!(token[2..6], key_id(), "{context}: key id");
    assert_eq!(token.len(), *FIXED + payload_len(n), "{context}");
    set_now(t0());
    let opened = wide
        .open::<String>(&joined)
        .unwrap_or_else(|e| panic!("{context}: {e}"));
    assert_eq!(opened.value(), &text(n), "{context}");
    assert_eq!(Some(opened.envelope().id()), session.id(), "{context}");

    // Round trip: the browser sends the cookies back.
    let mut jar = Jar::default();
    jar.apply(&response);
    let again = load(config, &jar.request(), later(1));
    assert_eq!(again.rejection(), None, "{context}");
    assert_eq!(again.get(), Some(text(n)), "{context}");
    assert_eq!(again.id(), session.id(), "{context}: id kept");
    set_now(later(1));
    assert!(!again.needs_write(), "{context}");
}

/// For four cookie sizes and every payload length from empty to just past
/// three full chunks, the crate writes exactly the layout the split rule
/// gives, and each one round trips. Between them, the four sizes hit every
/// boundary exactly (a value that fills one cookie, two chunks, three
/// chunks) and one character past it: base64 lengths skip every fourth
/// number, so one size alone cannot.
#[test]
fn every_payload_length_gets_the_layout_of_the_split_rule() {
    let wide = codec_with(4096);
    let mut hits = BTreeSet::new();
    for max in [299, 300, 301, 302] {
        let config = chunked(max, 3, DEFAULT_HEADER_BUDGET);
        let one = max - NAME.len();
        let per_chunk = max - "session.0".len();
        let boundaries = [
            ("one", one),
            ("two", 2 * per_chunk),
            ("three", 3 * per_chunk),
        ];
        for n in 0..10_000 {
            let len = value_len(n);
            if len > 3 * per_chunk + 4 {
                break;
            }
            let expected = plan(len, max, 3, DEFAULT_HEADER_BUDGET);
            check_layout(&config, &wide, n, &expected);
            for (boundary, capacity) in boundaries {
                if len == capacity {
                    hits.insert((boundary, "exact"));
                }
                if len == capacity + 1 {
                    hits.insert((boundary, "one more"));
                }
            }
        }
    }
    for boundary in ["one", "two", "three"] {
        for which in ["exact", "one more"] {
            assert!(
                hits.contains(&(boundary, which)),
                "{boundary} {which} not hit"
            );
        }
    }
}

/// The boundaries spelled out for one cookie size each.
#[test]
fn exact_boundaries_one_cookie_two_chunks_three_chunks() {
    let wide = codec_with(4096);
    // 299 - 7 = 292 characters fill one cookie; 290 fill a chunk.
    let config = chunked(299, 3, DEFAULT_HEADER_BUDGET);
    let n = (0..10_000)
        .find(|&n| value_len(n) == 292)
        .expect("reachable");
    check_layout(&config, &wide, n, &Plan::One);
    // One byte of payload more: 294 characters, 290 + 4.
    assert_eq!(value_len(n + 1), 294);
    check_layout(&config, &wide, n + 1, &Plan::Chunks(vec![290, 4]));

    // 300: chunks hold 291; two full chunks are 582 characters.
    let config = chunked(300, 3, DEFAULT_HEADER_BUDGET);
    let n = (0..10_000)
        .find(|&n| value_len(n) == 582)
        .expect("reachable");
    check_layout(&config, &wide, n, &Plan::Chunks(vec![291, 291]));
    assert_eq!(value_len(n + 1), 583);
    check_layout(&config, &wide, n + 1, &Plan::Chunks(vec![291, 291, 1]));

    // 302: chunks hold 293; three full chunks (906 bytes, the limit of
    // three 302-byte cookies) fit, one character more does not.
    let config = chunked(302, 3, DEFAULT_HEADER_BUDGET);
    let n = (0..10_000)
        .find(|&n| value_len(n) == 879)
        .expect("reachable");
    check_layout(&config, &wide, n, &Plan::Chunks(vec![293, 293, 293]));
    assert_eq!(value_len(n + 1), 880);
    check_layout(
        &config,
        &wide,
        n + 1,
        &Plan::TooLarge {
            size: 906 + "session.3".len() + 1,
            limit: 906,
        },
    );
}

/// Chunk names get longer at index 10, so chunks 10 and up hold one
/// character less.
#[test]
fn two_digit_chunk_indexes_hold_one_character_less() {
    let wide = codec_with(4096);
    // The smallest cookie size the codec accepts for `session` is 114; with
    // 150, chunks 0..=9 hold 141 characters and chunks 10.. hold 140.
    let config = chunked(150, 12, DEFAULT_HEADER_BUDGET);
    let n = (0..10_000)
        .find(|&n| value_len(n) > 10 * 141 + 140 + 4)
        .expect("reachable");
    let expected = plan(value_len(n), 150, 12, DEFAULT_HEADER_BUDGET);
    let Plan::Chunks(lengths) = &expected else {
        panic!("{expected:?}");
    };
    assert_eq!(lengths.len(), 12);
    assert_eq!(lengths[9], 141);
    assert_eq!(lengths[10], 140);
    check_layout(&config, &wide, n, &expected);
}

/// With browser-sized cookies (4096 bytes) and the default budget of 8000
/// bytes, a session spreads over two chunks at most: two full chunks would
/// take 8192 bytes. The largest value that fits takes exactly the budget or
/// just under it; one byte of payload more is refused with the budget as
/// the limit.
#[test]
fn default_cookie_size_and_budget_allow_two_chunks() {
    let config = SessionConfig::builder(codec_with(DEFAULT_MAX_COOKIE_SIZE))
        .max_chunks(3)
        .build()
        .expect("valid settings");
    assert_eq!(max_cookie_size(config.codec()), 4096);
    assert_eq!(config.header_budget(), DEFAULT_HEADER_BUDGET);
    let wide = codec_with(65_536);
    let fits = |n: usize| {
        matches!(
            plan(value_len(n), 4096, 3, DEFAULT_HEADER_BUDGET),
            Plan::Chunks(_)
        )
    };
    let largest = (0..10_000).filter(|&n| fits(n)).max().expect("some fit");
    let expected = plan(value_len(largest), 4096, 3, DEFAULT_HEADER_BUDGET);
    assert_eq!(
        expected,
        Plan::Chunks(vec![4087, value_len(largest) - 4087])
    );
    let size = value_len(largest) + 2 * "session.0".len();
    assert!(size <= DEFAULT_HEADER_BUDGET && size > DEFAULT_HEADER_BUDGET - 3);
    check_layout(&config, &wide, largest, &expected);
    check_layout(
        &config,
        &wide,
        largest + 1,
        &Plan::TooLarge {
            size: value_len(largest + 1) + 2 * "session.0".len(),
            limit: DEFAULT_HEADER_BUDGET,
        },
    );
}

/// Without chunking, a value too long for one cookie is refused with the
/// single-cookie numbers.
#[test]
fn without_chunking_the_single_cookie_limit_applies() {
    let config = SessionConfig::new(codec_with(MAX));
    assert_eq!(config.max_chunks(), 1);
    assert_eq!(config.header_budget(), DEFAULT_HEADER_BUDGET);
    assert_eq!(DEFAULT_HEADER_BUDGET, 8000);
    let n = (0..10_000)
        .find(|&n| value_len(n) > MAX - NAME.len())
        .expect("reachable");
    check_layout(
        &config,
        &codec_with(4096),
        n,
        &Plan::TooLarge {
            size: NAME.len() + value_len(n),
            limit: MAX,
        },
    );
    check_layout(&config, &codec_with(4096), n - 1, &Plan::One);
}

// ---------------------------------------------------------------------------
// Cleanup
// ---------------------------------------------------------------------------

/// One request: load from the jar at `now`, let `handle` act on the
/// session, write the response and apply it to the jar.
fn step(
    config: &SessionConfig,
    jar: &mut Jar,
    now: SystemTime,
    handle: impl FnOnce(&Session<String>),
) -> (Session<String>, Written, HeaderMap) {
    let session = load(config, &jar.request(), now);
    handle(&session);
    let (written, response) = respond(&session, now);
    jar.apply(&response);
    (session, written, response)
}

/// Grows a plain session to three chunks, shrinks it to two, back to one
/// cookie, grows it again, regenerates it, and destroys it; after every
/// step the jar holds exactly the cookies of the new layout, every removal
/// carries the configuration's path and domain, and the unrelated cookie
/// survives. `config` allows four [`MAX`]-byte chunks: every chunked write
/// also removes the plain name and `session.3` if it does not set them.
fn cleanup_sequence(config: &SessionConfig, path: &str, domain: Option<&str>) {
    assert_eq!(most_chunks_of(config), 4);
    let check = |response: &HeaderMap| check_attributes(response, path, domain, MAX);
    let (small, two, three) = (10, n_for(2), n_for(3));
    let mut jar = Jar::with_other();

    // 1. A new session in one cookie.
    let (first, written, response) = step(config, &mut jar, t0(), |s| {
        s.insert(text(small));
    });
    assert_eq!(written, Written::Set);
    check(&response);
    assert_eq!(jar.session_names(), layout_names(0));
    let id = first.id();

    // 2. Grows to three chunks: the plain cookie is removed, and the one
    // chunk index above that this configuration could use.
    let (session, written, response) = step(config, &mut jar, later(10), |s| {
        assert_eq!(s.get(), Some(text(small)));
        s.insert(text(three));
    });
    assert_eq!(written, Written::Set);
    check(&response);
    assert_eq!(removals(&response), names(&[NAME, "session.3"]));
    assert_eq!(jar.session_names(), layout_names(3));
    assert_eq!(session.id(), id);

    // 3. Shrinks to two chunks: chunk 2 is removed (and the plain name and
    // chunk 3, which the browser does not hold).
    let (session, written, response) = step(config, &mut jar, later(20), |s| {
        assert_eq!(s.get(), Some(text(three)));
        s.insert(text(two));
    });
    assert_eq!(written, Written::Set);
    check(&response);
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.2", "session.3"])
    );
    assert_eq!(jar.session_names(), layout_names(2));
    assert_eq!(session.id(), id);

    // 4. Back to one cookie: every chunk the request carried is removed,
    // and nothing else.
    let (_, written, response) = step(config, &mut jar, later(30), |s| {
        assert_eq!(s.get(), Some(text(two)));
        s.insert(text(small));
    });
    assert_eq!(written, Written::Set);
    check(&response);
    assert_eq!(removals(&response), names(&["session.0", "session.1"]));
    assert_eq!(jar.session_names(), layout_names(0));

    // 5. Three chunks again.
    let (_, written, response) = step(config, &mut jar, later(40), |s| {
        assert_eq!(s.get(), Some(text(small)));
        s.insert(text(three));
    });
    assert_eq!(written, Written::Set);
    check(&response);
    assert_eq!(removals(&response), names(&[NAME, "session.3"]));
    assert_eq!(jar.session_names(), layout_names(3));
    let before: Vec<String> = (0..3)
        .map(|k| jar.value(&chunk_name(k)).expect("chunk").to_string())
        .collect();

    // 6. Regenerate: a new id, the same layout, every chunk replaced,
    // nothing the browser holds removed.
    let (session, written, response) = step(config, &mut jar, later(50), |s| {
        s.regenerate();
    });
    assert_eq!(written, Written::Set);
    check(&response);
    assert_eq!(removals(&response), names(&[NAME, "session.3"]));
    assert_eq!(jar.session_names(), layout_names(3));
    let new_id = session.id();
    assert_ne!(new_id, id);
    for (k, old) in before.iter().enumerate() {
        assert_ne!(jar.value(&chunk_name(k)), Some(old.as_str()), "chunk {k}");
    }
    let (session, written, _) = step(config, &mut jar, later(60), |_| {});
    assert_eq!(written, Written::Nothing);
    assert_eq!(session.get(), Some(text(three)));
    assert_eq!(session.id(), new_id);

    // 7. Destroy: the plain name and every chunk are removed.
    let (_, written, response) = step(config, &mut jar, later(70), Session::destroy);
    assert_eq!(written, Written::Removed);
    check(&response);
    assert!(sets(&response).is_empty());
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.0", "session.1", "session.2"])
    );
    assert!(jar.session_names().is_empty());
    assert!(jar.has_other());

    // 8. Nothing left: the next request has no session and writes nothing.
    let (session, written, _) = step(config, &mut jar, later(80), |_| {});
    assert!(session.is_empty());
    assert_eq!(session.rejection(), None);
    assert_eq!(written, Written::Nothing);
}

#[test]
fn every_write_leaves_exactly_the_cookies_of_its_layout() {
    cleanup_sequence(&config(4), "/", None);
}

/// The same sequence with a custom path and domain: a removal with any
/// other path or domain would not remove the browser's cookie, and the jar
/// would keep it.
#[test]
fn removals_carry_the_path_and_domain_of_the_sets() {
    let config = SessionConfig::builder(codec_with(MAX))
        .path("/app")
        .domain("example.com")
        .max_chunks(4)
        .build()
        .expect("valid settings");
    cleanup_sequence(&config, "/app", Some("example.com"));
}

/// `remove` and an expired chunked session remove every chunk too.
#[test]
fn remove_and_expiry_remove_every_chunk() {
    let config = config(4);
    let mut jar = Jar::with_other();
    step(&config, &mut jar, t0(), |s| {
        s.insert(text(n_for(3)));
    });
    assert_eq!(jar.session_names(), layout_names(3));
    let stored = jar.clone();

    let (_, written, response) = step(&config, &mut jar, later(1), |s| {
        assert_eq!(s.remove(), Some(text(n_for(3))));
    });
    assert_eq!(written, Written::Removed);
    check_attributes(&response, "/", None, MAX);
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.0", "session.1", "session.2"])
    );
    assert!(jar.session_names().is_empty());

    // The same cookies after the 7-day lifetime.
    let mut jar = stored;
    let (session, written, response) = step(&config, &mut jar, later(LIFETIME.as_secs()), |_| {});
    assert_eq!(
        session.rejection(),
        Some(Error::Expired {
            deadline: Deadline::Absolute
        })
    );
    assert_eq!(written, Written::Removed);
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.0", "session.1", "session.2"])
    );
    assert!(jar.session_names().is_empty());
    assert!(jar.has_other());
}

/// A second write in the same request cleans up relative to the first one:
/// the chunks it wrote are removed, the ones the request carried and the
/// first write already removed are not removed again.
#[test]
fn a_second_write_in_the_same_request_cleans_up_after_the_first() {
    let config = config(4);
    let mut jar = Jar::with_other();
    step(&config, &mut jar, t0(), |s| {
        s.insert(text(n_for(3)));
    });
    let session = load(&config, &jar.request(), later(1));
    session.insert(text(n_for(2)));
    let (written, first) = respond(&session, later(1));
    assert_eq!(written, Written::Set);
    assert_eq!(removals(&first), names(&[NAME, "session.2", "session.3"]));
    assert_eq!(sets(&first).len(), 2);

    session.insert(text(10));
    let (written, second) = respond(&session, later(1));
    assert_eq!(written, Written::Set);
    assert_eq!(removals(&second), names(&["session.0", "session.1"]));
    assert_eq!(
        sets(&second)
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        [NAME]
    );

    jar.apply(&first);
    jar.apply(&second);
    assert_eq!(jar.session_names(), layout_names(0));
    let again = load(&config, &jar.request(), later(2));
    assert_eq!(again.get(), Some(text(10)));
    assert_eq!(again.id(), session.id());

    // And a destroy after a write removes what that write set.
    let session = load(&config, &jar.request(), later(3));
    session.insert(text(n_for(3)));
    let (_, set) = respond(&session, later(3));
    assert_eq!(removals(&set), names(&[NAME, "session.3"]));
    session.destroy();
    let (written, removed) = respond(&session, later(3));
    assert_eq!(written, Written::Removed);
    assert_eq!(
        removals(&removed),
        names(&[NAME, "session.0", "session.1", "session.2"])
    );
    jar.apply(&set);
    jar.apply(&removed);
    assert!(jar.session_names().is_empty());
}

// ---------------------------------------------------------------------------
// Bounded reading
// ---------------------------------------------------------------------------

/// Loads `cookies` (plus an unrelated one) at `later(1)`: the session must
/// be empty with `rejection`, and its response must remove exactly
/// `removed` and set nothing.
fn assert_rejected(
    config: &SessionConfig,
    cookies: &[(String, String)],
    rejection: &Error,
    removed: &BTreeSet<String>,
) {
    let mut pairs = vec![("other".to_string(), "1".to_string())];
    pairs.extend_from_slice(cookies);
    let session = load(config, &request(&pairs), later(1));
    assert!(session.is_empty());
    assert!(!session.was_loaded());
    assert_eq!(session.rejection().as_ref(), Some(rejection));
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::Removed);
    assert!(sets(&response).is_empty());
    assert_eq!(&removals(&response), removed);
    check_attributes(&response, "/", None, max_cookie_size(config.codec()));
}

/// The session's removal names for the plain name and chunk `indexes`.
fn removed(indexes: impl IntoIterator<Item = usize>) -> BTreeSet<String> {
    std::iter::once(NAME.to_string())
        .chain(indexes.into_iter().map(chunk_name))
        .collect()
}

#[test]
fn chunk_sets_that_are_not_contiguous_from_zero_are_malformed() {
    let config = config(4);
    let chunks = as_chunks(&sealed_chunks(&config, n_for(3), t0()));
    assert_eq!(chunks.len(), 3);
    let bad = Error::Malformed(Malformed::Chunks);
    let pick = |indexes: &[usize]| -> Vec<(String, String)> {
        indexes.iter().map(|&k| chunks[k].clone()).collect()
    };
    // A gap.
    assert_rejected(&config, &pick(&[0, 2]), &bad, &removed([0, 2]));
    // No chunk 0.
    assert_rejected(&config, &pick(&[1, 2]), &bad, &removed([1, 2]));
    // A repeated index, with the same value and with another one.
    assert_rejected(&config, &pick(&[0, 1, 1, 2]), &bad, &removed([0, 1, 2]));
    let mut other = pick(&[0, 1, 2]);
    other.push(("session.1".into(), chunks[0].1.clone()));
    assert_rejected(&config, &other, &bad, &removed([0, 1, 2]));
    // A gap at the last index below max_chunks (4): chunk 3 without
    // chunk 2.
    let mut gap = pick(&[0, 1]);
    gap.push(("session.3".into(), "AAAA".into()));
    assert_rejected(&config, &gap, &bad, &removed([0, 1, 3]));
    // (Indexes from max_chunks up are other cookies and make no gap:
    // `chunk_indexes_from_max_chunks_up_are_ignored_and_never_removed`.)

    // The exact set in any header order opens.
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let session = load(&config, &request(&pick(&order)), later(1));
        assert_eq!(session.get(), Some(text(n_for(3))), "{order:?}");
    }
    // Also spread over two `Cookie` headers (HTTP/2 clients split them).
    let mut split = request(&pick(&[2]));
    split.append(
        COOKIE,
        HeaderValue::try_from(format!(
            "other=1; {}={}; {}={}",
            chunks[0].0, chunks[0].1, chunks[1].0, chunks[1].1
        ))
        .expect("valid header"),
    );
    let session = load(&config, &split, later(1));
    assert_eq!(session.get(), Some(text(n_for(3))));
}

/// A contiguous set with more chunks than `max_chunks` is read only up to
/// `max_chunks`: the chunks from `max_chunks` on are other cookies. A
/// session written under a larger `max_chunks` is then the text of its
/// first chunks, which is no token (here its length is not even base64url),
/// and only those chunks are removed; a valid set with one small chunk
/// appended at `max_chunks` is the valid set, and opens.
#[test]
fn chunks_of_a_set_longer_than_max_chunks_are_not_read() {
    let four = sealed_chunks(&config(4), n_for(4), t0());
    assert_eq!(four.len(), 4);
    let first_three = four[..3].concat();
    // Three full 291-character chunks: 873 characters, 1 mod 4.
    assert_eq!(first_three.len(), 873);
    let expected = predicted(&first_three);
    assert_eq!(expected, Error::Malformed(Malformed::Encoding));
    assert_rejected(&config(3), &as_chunks(&four), &expected, &removed(0..3));

    let two = sealed_chunks(&config(2), n_for(2), t0());
    let mut three = as_chunks(&two);
    three.push((chunk_name(2), "AAAA".to_string()));
    let session = load(&config(2), &request(&three), later(1));
    assert_eq!(session.rejection(), None);
    assert_eq!(session.get(), Some(text(n_for(2))));
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::Nothing);
    assert!(response.is_empty(), "chunk 2 is not removed");
}

/// The budget counts the chunk cookies as the request carries them, not as
/// this crate would have cut the same text: the same session cut into more
/// pieces takes more bytes (one more name per piece), and over the budget
/// it is too large even though the greedy cut of its text would fit.
#[test]
fn the_budget_counts_the_chunks_as_sent() {
    let n = n_for(2);
    let greedy = value_len(n) + 2 * "session.0".len();
    let budget = greedy + 10;
    let config = chunked(MAX, 8, budget);
    let joined = sealed_chunks(&config, n, t0()).concat();
    let cut = |pieces: usize| -> Vec<String> {
        joined
            .as_bytes()
            .chunks(joined.len().div_ceil(pieces))
            .map(|piece| String::from_utf8(piece.to_vec()).expect("ASCII"))
            .collect()
    };
    // Three pieces: 9 bytes more than the greedy cut, within the budget.
    let three = cut(3);
    assert_eq!(three.len(), 3);
    let session = load(&config, &request(&as_chunks(&three)), later(1));
    assert_eq!(session.get(), Some(text(n)));
    // Four pieces: 18 bytes more, over it.
    let four = cut(4);
    assert_eq!(four.len(), 4);
    let size = joined.len() + 4 * "session.0".len();
    assert!(size > budget);
    assert_rejected(
        &config,
        &as_chunks(&four),
        &Error::TooLarge {
            size,
            limit: budget,
        },
        &removed(0..4),
    );
}

/// Ten thousand chunk-shaped cookies: one pass; only chunks 0 to
/// `max_chunks - 1` are read, their joined text (32 times `AAAA`, a token
/// of version 0) is rejected, and the response removes the plain name and
/// those chunk names, `max_chunks + 1` cookies; `session.32` and up are
/// other cookies, neither read nor removed.
#[test]
fn ten_thousand_chunk_cookies_are_rejected_with_bounded_removals() {
    let config = config(MAX_CHUNKS);
    let many: Vec<(String, String)> = (0..10_000)
        .map(|k| (chunk_name(k), "AAAA".to_string()))
        .collect();
    assert_eq!(
        predicted(&"AAAA".repeat(MAX_CHUNKS)),
        Error::UnsupportedVersion(0)
    );
    assert_rejected(
        &config,
        &many,
        &Error::UnsupportedVersion(0),
        &removed(0..MAX_CHUNKS),
    );
    assert_eq!(removed(0..MAX_CHUNKS).len(), MAX_CHUNKS + 1);
    // The same index ten thousand times.
    let same: Vec<(String, String)> = (0..10_000)
        .map(|_| (chunk_name(0), "AAAA".to_string()))
        .collect();
    assert_rejected(
        &config,
        &same,
        &Error::Malformed(Malformed::Chunks),
        &removed([0]),
    );
}

/// A chunk whose cookie is over the size limit is refused before joining,
/// even when the joined text would open (here the first chunk took one
/// character of the second); so is a set over the header budget.
#[test]
fn oversized_chunks_and_sets_over_the_budget_are_too_large() {
    let config = config(4);
    let values = sealed_chunks(&config, n_for(2), t0());
    let mut moved = values.clone();
    let first = moved[1].remove(0);
    moved[0].push(first);
    assert_rejected(
        &config,
        &as_chunks(&moved),
        &Error::TooLarge {
            size: MAX + 1,
            limit: MAX,
        },
        &removed([0, 1]),
    );

    // Three chunks sealed under a budget of 1200 bytes, read by a
    // configuration whose budget was lowered to 700.
    let generous = chunked(MAX, 4, 1200);
    let n = n_for(3);
    let values = sealed_chunks(&generous, n, t0());
    let size = value_len(n) + 3 * "session.0".len();
    assert!(size > 700);
    assert_eq!(
        values.iter().map(String::len).sum::<usize>() + 27,
        size,
        "the chunk cookies take the bytes the split rule says"
    );
    let lowered = chunked(MAX, 4, 700);
    assert_rejected(
        &lowered,
        &as_chunks(&values),
        &Error::TooLarge { size, limit: 700 },
        &removed([0, 1, 2]),
    );
    // With max_chunks 3 and the default budget, the limit is 3 * 300.
    let opens = load(
        &chunked(MAX, 3, DEFAULT_HEADER_BUDGET),
        &request(&as_chunks(&values)),
        later(1),
    );
    assert_eq!(opens.get(), Some(text(n)));
}

/// Only `name.k` with `k` from 0 to 63 in canonical decimal is a chunk:
/// other names are other cookies, neither read nor removed.
#[test]
fn only_canonical_chunk_names_are_chunks() {
    let config = config(4);
    let lookalikes: Vec<(String, String)> = [
        "session.00",
        "session.01",
        "session.+1",
        "session.-0",
        "session.",
        "session.x",
        "session.0x",
        "session.1e1",
        "sessions.0",
        "session0",
        "Session.0",
        "session.64",
        "session.100",
        "session.99999999999999999999999",
    ]
    .iter()
    .map(|name| ((*name).to_string(), "AAAA".to_string()))
    .collect();

    // Alone: no session, nothing rejected, nothing written.
    assert_no_session(&config, &lookalikes);

    // Next to a valid plain session: it loads, needs no write, and its
    // removal touches only the plain name.
    let (_, set) = new_session(&config, 10, t0());
    let mut pairs = lookalikes.clone();
    pairs.extend(sets(&set));
    let session = load(&config, &request(&pairs), later(1));
    assert_eq!(session.get(), Some(text(10)));
    set_now(later(1));
    assert!(!session.needs_write());
    session.destroy();
    let (_, response) = respond(&session, later(1));
    assert_eq!(removals(&response), names(&[NAME]));
}

/// One cookie for a [`Jar`]: `domain` empty for a host-only cookie, path `/`.
fn stored(name: &str, value: &str, domain: &str) -> Stored {
    Stored {
        name: name.to_string(),
        value: value.to_string(),
        path: "/".to_string(),
        domain: domain.to_string(),
    }
}

/// A valid plain cookie next to chunk cookies (left by a lost removal, or
/// set by a concurrent response) loads, and the response only removes the
/// chunks: `Written::LeftoversRemoved`, nothing sealed, the plain cookie
/// untouched. Every chunk name below `max_chunks` the request carried goes;
/// an index at or beyond `max_chunks` (`session.5`) and `session.64` are
/// other cookies and stay. Valid chunks next to a plain cookie that does not
/// open: the same, removing the plain name. Once per handle: a second write
/// writes nothing.
#[test]
fn leftovers_of_the_other_layout_are_removed_without_a_seal() {
    let config = config(4);
    // The same session written first as three chunks, then as one cookie.
    let mut jar = Jar::with_other();
    step(&config, &mut jar, t0(), |s| {
        s.insert(text(n_for(3)));
    });
    let stale_chunks: Vec<Stored> = jar
        .cookies
        .iter()
        .filter(|s| s.name.starts_with("session."))
        .cloned()
        .collect();
    let (first, _, _) = step(&config, &mut jar, later(1), |s| {
        s.insert(text(10));
    });
    assert_eq!(jar.session_names(), layout_names(0));
    let plain = jar.value(NAME).expect("the plain cookie").to_string();
    // A browser that missed the removals, and two more names.
    jar.cookies.extend(stale_chunks);
    jar.cookies.push(stored("session.5", "AAAA", ""));
    jar.cookies.push(stored("session.64", "AAAA", ""));
    assert_eq!(
        jar.session_names(),
        names(&[
            NAME,
            "session.0",
            "session.1",
            "session.2",
            "session.5",
            "session.64"
        ])
    );

    let session = load(&config, &jar.request(), later(2));
    assert_eq!(
        session.get(),
        Some(text(10)),
        "the plain cookie is tried first"
    );
    assert_eq!(session.id(), first.id());
    assert_eq!(session.rejection(), None);
    assert!(session.was_loaded());
    set_now(later(2));
    assert!(session.needs_write());
    let (written, response) = respond(&session, later(2));
    assert_eq!(written, Written::LeftoversRemoved);
    assert!(
        sets(&response).is_empty(),
        "the plain cookie is not rewritten"
    );
    assert_eq!(
        removals(&response),
        names(&["session.0", "session.1", "session.2"])
    );
    check_attributes(&response, "/", None, MAX);
    set_now(later(2));
    assert!(!session.needs_write());
    let (written, again) = respond(&session, later(2));
    assert_eq!(written, Written::Nothing);
    assert!(again.is_empty());
    jar.apply(&response);
    assert_eq!(
        jar.session_names(),
        names(&[NAME, "session.5", "session.64"])
    );
    assert_eq!(jar.value(NAME), Some(plain.as_str()));
    assert!(jar.has_other());
    // The next request has nothing left to clean.
    let (session, written, response) = step(&config, &mut jar, later(3), |_| {});
    assert_eq!(session.get(), Some(text(10)));
    assert_eq!(written, Written::Nothing);
    assert!(response.is_empty());

    // The reverse: three valid chunks and a plain cookie from another
    // deployment (unknown key).
    let mut jar = Jar::with_other();
    let (id, response) = new_session(&config, n_for(3), t0());
    jar.apply(&response);
    let chunks = chunk_values(&response);
    let foreign = SessionConfig::new(codec_of(OTHER_SECRET));
    let (_, foreign_response) = new_session(&foreign, 10, t0());
    jar.apply(&foreign_response);
    assert_eq!(
        jar.session_names(),
        names(&[NAME, "session.0", "session.1", "session.2"])
    );

    let session = load(&config, &jar.request(), later(1));
    assert_eq!(session.get(), Some(text(n_for(3))));
    assert_eq!(session.id(), Some(id));
    assert_eq!(session.rejection(), None);
    set_now(later(1));
    assert!(session.needs_write());
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::LeftoversRemoved);
    assert!(sets(&response).is_empty(), "the chunks are not rewritten");
    assert_eq!(removals(&response), names(&[NAME]));
    check_attributes(&response, "/", None, MAX);
    let (written, again) = respond(&session, later(1));
    assert_eq!(written, Written::Nothing);
    assert!(again.is_empty());
    jar.apply(&response);
    assert_eq!(jar.session_names(), layout_names(3));
    for (k, value) in chunks.iter().enumerate() {
        assert_eq!(jar.value(&chunk_name(k)), Some(value.as_str()), "chunk {k}");
    }
    let again = load(&config, &jar.request(), later(2));
    assert_eq!(again.get(), Some(text(n_for(3))));
    set_now(later(2));
    assert!(!again.needs_write());
}

/// When the session is sealed anyway (changed, renewed on every response,
/// or sealed under an old secret), the seal's own removals cover the
/// leftovers: `Written::Set`, and no cookie of the other layout survives.
#[test]
fn leftovers_go_with_the_seal_when_the_session_is_sealed_anyway() {
    let config = config(4);
    // A valid plain cookie and stale chunks 0 to 2 of the same keyring.
    let (_, plain) = new_session(&config, 10, t0());
    let mut pairs = sets(&plain);
    pairs.extend(as_chunks(&sealed_chunks(&config, n_for(3), t0())));
    let headers = request(&pairs);
    let set_names = |response: &HeaderMap| -> Vec<String> {
        sets(response).into_iter().map(|(name, _)| name).collect()
    };

    // Changed, still one cookie: it is set, the chunks removed.
    let session = load(&config, &headers, later(1));
    session.insert(text(20));
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::Set);
    assert_eq!(set_names(&response), [NAME]);
    assert_eq!(
        removals(&response),
        names(&["session.0", "session.1", "session.2"])
    );

    // Changed into two chunks: chunks 0 and 1 are replaced; the plain
    // cookie, chunk 2 and chunk 3 are removed.
    let session = load(&config, &headers, later(1));
    session.insert(text(n_for(2)));
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::Set);
    assert_eq!(set_names(&response), ["session.0", "session.1"]);
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.2", "session.3"])
    );

    // Renewed on every response: unchanged, sealed again, the chunks
    // removed.
    let always = SessionConfig::builder(codec_with(MAX))
        .max_chunks(4)
        .renewal(Renewal::Always)
        .build()
        .expect("valid settings");
    let session = load(&always, &headers, later(1));
    assert_eq!(session.get(), Some(text(10)));
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::Set);
    assert_eq!(set_names(&response), [NAME]);
    assert_eq!(
        removals(&response),
        names(&["session.0", "session.1", "session.2"])
    );

    // A rotated keyring: sealed under the old secret, so sealed again
    // under the new one, the chunks removed.
    const NEWER: &str = "a newer chunk test secret, longer than 32 bytes";
    let rotated_codec = codec_builder(Keyring::new([NEWER, SECRET]).expect("valid secrets"))
        .max_cookie_size(MAX)
        .build()
        .expect("valid codec settings");
    let rotated = SessionConfig::builder(rotated_codec)
        .max_chunks(4)
        .build()
        .expect("valid settings");
    let session = load(&rotated, &headers, later(1));
    assert_eq!(session.get(), Some(text(10)));
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::Set);
    assert_eq!(set_names(&response), [NAME]);
    assert_eq!(
        removals(&response),
        names(&["session.0", "session.1", "session.2"])
    );
    let resealed = sets(&response).remove(0).1;
    let token = reference::decode(&resealed).expect("base64url");
    assert_eq!(token[2..6], key_id_of(NEWER).to_bytes());

    // And the other layout: old-secret chunks next to a plain cookie that
    // does not open are sealed again as chunks, the plain name removed.
    let mut pairs = vec![(NAME.to_string(), "forged".to_string())];
    pairs.extend(as_chunks(&sealed_chunks(&config, n_for(3), t0())));
    let session = load(&rotated, &request(&pairs), later(1));
    assert_eq!(session.get(), Some(text(n_for(3))));
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::Set);
    assert_eq!(
        set_names(&response),
        ["session.0", "session.1", "session.2"]
    );
    assert_eq!(removals(&response), names(&[NAME, "session.3"]));
}

/// A leftover the server cannot remove: a sibling application on the
/// parent domain, with its own secret, keeps a plain `session` cookie with
/// `Domain=example.com` in the browser, which this configuration's
/// host-only removals never match. Every response then removes it again (a
/// small header, `Written::LeftoversRemoved`) and never seals the chunked
/// session again: the chunks the browser holds stay the ones first written. The
/// same for a chunk cookie the server cannot remove next to a plain session.
#[test]
fn an_unremovable_leftover_costs_one_removal_per_response_never_a_seal() {
    let config = config(4);
    // The header a removal of the plain name takes: what an invalid plain
    // cookie alone gets.
    let removal_header = {
        let session = load(&config, &request(&[(NAME.into(), "forged".into())]), t0());
        let (written, response) = respond(&session, t0());
        assert_eq!(written, Written::Removed);
        let all: Vec<HeaderValue> = response.get_all(SET_COOKIE).iter().cloned().collect();
        assert_eq!(all.len(), 1);
        all.into_iter().next().expect("one header")
    };

    let mut jar = Jar::with_other();
    let (id, response) = new_session(&config, n_for(3), t0());
    jar.apply(&response);
    let chunks = chunk_values(&response);
    let sibling = SessionConfig::builder(codec_of(OTHER_SECRET))
        .domain("example.com")
        .build()
        .expect("valid settings");
    let (_, sibling_response) = new_session(&sibling, 10, t0());
    jar.apply(&sibling_response);
    let sibling_value = jar.value(NAME).expect("the sibling's cookie").to_string();
    assert_eq!(
        jar.session_names(),
        names(&[NAME, "session.0", "session.1", "session.2"])
    );

    for request_number in 1..=3u64 {
        let context = format!("request {request_number}");
        let now = later(60 * request_number);
        let session = load(&config, &jar.request(), now);
        assert_eq!(session.get(), Some(text(n_for(3))), "{context}");
        assert_eq!(session.id(), Some(id), "{context}");
        assert_eq!(session.rejection(), None, "{context}");
        set_now(now);
        assert!(session.needs_write(), "{context}");
        let (written, response) = respond(&session, now);
        assert_eq!(written, Written::LeftoversRemoved, "{context}");
        let all: Vec<&HeaderValue> = response.get_all(SET_COOKIE).iter().collect();
        assert_eq!(all, [&removal_header], "{context}: one removal, no seal");
        set_now(now);
        assert!(!session.needs_write(), "{context}");
        let (written, again) = respond(&session, now);
        assert_eq!(written, Written::Nothing, "{context}");
        assert!(again.is_empty(), "{context}");
        jar.apply(&response);
        assert_eq!(
            jar.value(NAME),
            Some(sibling_value.as_str()),
            "{context}: the sibling's cookie stays"
        );
        for (k, value) in chunks.iter().enumerate() {
            assert_eq!(
                jar.value(&chunk_name(k)),
                Some(value.as_str()),
                "{context}: chunk {k} as first written"
            );
        }
    }

    // When the session changes, its seal removes the plain name as part of
    // the write, and the session lives on next to the sibling's cookie.
    let (_, written, response) = step(&config, &mut jar, later(400), |s| {
        s.insert(text(n_for(2)));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.2", "session.3"])
    );
    assert_eq!(jar.value(NAME), Some(sibling_value.as_str()));
    let session = load(&config, &jar.request(), later(401));
    assert_eq!(session.get(), Some(text(n_for(2))));
    assert_eq!(session.id(), Some(id));

    // A plain session next to a chunk cookie set for the parent domain:
    // one removal of `session.0` per response, the plain cookie kept.
    let mut jar = Jar::with_other();
    let (id, response) = new_session(&config, 10, t0());
    jar.apply(&response);
    let plain = jar.value(NAME).expect("the plain cookie").to_string();
    jar.cookies.push(stored("session.0", "AAAA", "example.com"));
    for request_number in 1..=3u64 {
        let context = format!("request {request_number}");
        let now = later(60 * request_number);
        let (session, written, response) = step(&config, &mut jar, now, |_| {});
        assert_eq!(session.get(), Some(text(10)), "{context}");
        assert_eq!(session.id(), Some(id), "{context}");
        assert_eq!(written, Written::LeftoversRemoved, "{context}");
        assert_eq!(set_cookies(&response).len(), 1, "{context}");
        assert_eq!(removals(&response), names(&["session.0"]), "{context}");
        check_attributes(&response, "/", None, MAX);
        assert_eq!(jar.value(NAME), Some(plain.as_str()), "{context}");
        assert_eq!(jar.value("session.0"), Some("AAAA"), "{context}");
    }
}

/// `name.64` and up are other cookies, as are names with more digits than
/// any index: a browser may hold them (another application's, or a forged
/// one) and this crate could never remove them, so they neither spoil a
/// valid set nor get removed, by any write.
#[test]
fn names_from_64_up_are_other_cookies() {
    let config = config(4);
    const HUGE: &str = "session.99999999999999999999999";
    let mut jar = Jar::with_other();
    jar.cookies.push(stored("session.64", "x", ""));
    jar.cookies.push(stored(HUGE, "y", ""));
    let with_others = |layout: BTreeSet<String>| -> BTreeSet<String> {
        let mut all = layout;
        all.extend(["session.64".to_string(), HUGE.to_string()]);
        all
    };
    let check_others = |jar: &Jar, context: &str| {
        assert_eq!(jar.value("session.64"), Some("x"), "{context}");
        assert_eq!(jar.value(HUGE), Some("y"), "{context}");
        assert!(jar.has_other(), "{context}");
    };

    // Alone: no session, nothing rejected, nothing written.
    let (session, written, response) = step(&config, &mut jar, t0(), |_| {});
    assert!(session.is_empty());
    assert_eq!(session.rejection(), None);
    assert_eq!(written, Written::Nothing);
    assert!(response.is_empty());

    // A new two-chunk session next to them.
    let (first, written, response) = step(&config, &mut jar, later(1), |s| {
        s.insert(text(n_for(2)));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.2", "session.3"])
    );
    assert_eq!(jar.session_names(), with_others(layout_names(2)));
    check_others(&jar, "written");
    let id = first.id();

    // It loads as it is, with nothing to write.
    let (session, written, response) = step(&config, &mut jar, later(2), |_| {});
    assert_eq!(session.get(), Some(text(n_for(2))));
    assert_eq!(session.rejection(), None);
    assert_eq!(session.id(), id);
    assert_eq!(written, Written::Nothing);
    assert!(response.is_empty());

    // Grows to three chunks, shrinks to one cookie: each write removes
    // exactly what it removes without them.
    let (_, written, response) = step(&config, &mut jar, later(3), |s| {
        s.insert(text(n_for(3)));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(removals(&response), names(&[NAME, "session.3"]));
    assert_eq!(jar.session_names(), with_others(layout_names(3)));
    check_others(&jar, "grown");
    let (_, written, response) = step(&config, &mut jar, later(4), |s| {
        assert_eq!(s.get(), Some(text(n_for(3))));
        s.insert(text(10));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(
        removals(&response),
        names(&["session.0", "session.1", "session.2"])
    );
    assert_eq!(jar.session_names(), with_others(layout_names(0)));
    check_others(&jar, "shrunk");

    // Back to two chunks, then one chunk changed in the jar: the set does
    // not open and the response removes the carried chunks and the plain
    // name, not the others.
    step(&config, &mut jar, later(5), |s| {
        s.insert(text(n_for(2)));
    });
    let chunk_1 = jar
        .cookies
        .iter_mut()
        .find(|s| s.name == "session.1")
        .expect("chunk 1");
    chunk_1.value = flip(&chunk_1.value, 0);
    let (session, written, response) = step(&config, &mut jar, later(6), |_| {});
    assert!(session.is_empty());
    assert!(session.rejection().is_some());
    assert_eq!(written, Written::Removed);
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.0", "session.1"])
    );
    assert_eq!(jar.session_names(), with_others(BTreeSet::new()));
    check_others(&jar, "invalid");

    // A destroyed session: the same.
    step(&config, &mut jar, later(7), |s| {
        s.insert(text(n_for(2)));
    });
    let (_, written, response) = step(&config, &mut jar, later(8), Session::destroy);
    assert_eq!(written, Written::Removed);
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.0", "session.1"])
    );
    assert_eq!(jar.session_names(), with_others(BTreeSet::new()));
    check_others(&jar, "destroyed");
}

// ---------------------------------------------------------------------------
// Chunk indexes from max_chunks up
// ---------------------------------------------------------------------------

/// Tossed chunk cookies (set by a sibling subdomain, say): every index from
/// `max_chunks` up to 63, and beyond, with assorted values (empty, a copy
/// of a real chunk, garbage), each twice.
fn tossed_from(max_chunks: usize, copy: &str) -> Vec<(String, String)> {
    let values = ["AAAA", "", copy, "forged"];
    (max_chunks..=63)
        .chain([64, 100, 999])
        .flat_map(|index| {
            let value = values[index % values.len()];
            [
                (chunk_name(index), value.to_string()),
                (chunk_name(index), "x".to_string()),
            ]
        })
        .chain([(
            "session.99999999999999999999999".to_string(),
            "y".to_string(),
        )])
        .collect()
}

/// A valid chunked session next to tossed chunk cookies with indexes from
/// `max_chunks` up to 63 and beyond still opens, needs no write and writes
/// nothing; a change, a logout and an invalid set remove exactly what they
/// remove without them: no tossed name is ever removed.
#[test]
fn chunk_indexes_from_max_chunks_up_are_ignored_and_never_removed() {
    for max_chunks in [2, 3, 4, 8, MAX_CHUNKS] {
        let config = config(max_chunks);
        let count = max_chunks.min(3);
        let context = format!("max_chunks {max_chunks}");
        let (id, response) = new_session(&config, n_for(count), t0());
        let values = chunk_values(&response);
        assert_eq!(values.len(), count, "{context}");
        let tossed = tossed_from(max_chunks, &values[0]);
        // Tossed cookies before, between and after the real chunks.
        let mut cookies = tossed.clone();
        for (k, chunk) in as_chunks(&values).into_iter().enumerate() {
            cookies.insert(k * tossed.len() / count, chunk);
        }

        let session = load(&config, &request(&cookies), later(1));
        assert_eq!(session.rejection(), None, "{context}");
        assert_eq!(session.get(), Some(text(n_for(count))), "{context}");
        assert_eq!(session.id(), Some(id), "{context}");
        assert!(session.was_loaded(), "{context}");
        set_now(later(1));
        assert!(!session.needs_write(), "{context}");
        let (written, response) = respond(&session, later(1));
        assert_eq!(written, Written::Nothing, "{context}");
        assert!(response.is_empty(), "{context}");

        // A change to two chunks: the plain name and the unused indexes
        // below max_chunks, no tossed one.
        session.insert(text(n_for(2)));
        let (written, response) = respond(&session, later(1));
        assert_eq!(written, Written::Set, "{context}");
        assert_eq!(
            removals(&response),
            chunked_removals(&config, 2),
            "{context}"
        );
        assert!(
            removals(&response).len() <= max_chunks + 1,
            "{context}: {:?}",
            removals(&response)
        );

        // A logout: the plain name and the chunks the request carried.
        let session = load(&config, &request(&cookies), later(1));
        session.destroy();
        let (written, response) = respond(&session, later(1));
        assert_eq!(written, Written::Removed, "{context}");
        assert_eq!(removals(&response), removed(0..count), "{context}");

        // An invalid set (one character of chunk 0 changed): rejected by
        // the AEAD, and again only the session's own names removed.
        let mut broken = cookies.clone();
        let first = broken
            .iter_mut()
            .find(|(name, value)| *name == chunk_name(0) && *value == values[0])
            .expect("chunk 0");
        first.1 = flip(&first.1, first.1.len() / 2);
        let session = load(&config, &request(&broken), later(1));
        assert_eq!(
            session.rejection(),
            Some(Error::AuthenticationFailed),
            "{context}"
        );
        let (written, response) = respond(&session, later(1));
        assert_eq!(written, Written::Removed, "{context}");
        assert_eq!(removals(&response), removed(0..count), "{context}");
    }
}

/// Chunks left by an earlier configuration with a larger `max_chunks` are
/// other cookies to the new one: they are never removed, and stay in the
/// browser until they expire (their `Max-Age` is the lifetime they were
/// written with). The chunks below the new `max_chunks` are the new
/// configuration's: the set they form is rejected and removed, and a new
/// session lives next to the leftovers. Raised again, the configuration
/// reads them as chunks once more, and removes them.
#[test]
fn leftovers_of_a_larger_max_chunks_are_ignored_and_stay_until_they_expire() {
    let wide = config(8);
    let narrow = config(4);
    let leftovers = names(&["session.4", "session.5"]);
    let mut jar = Jar::with_other();
    let (_, written, response) = step(&wide, &mut jar, t0(), |s| {
        s.insert(text(n_for(6)));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(jar.session_names(), layout_names(6));
    for cookie in set_cookies(&response)
        .iter()
        .filter(|c| leftovers.contains(c.name()))
    {
        assert_eq!(
            cookie.max_age(),
            Some(cookie::time::Duration::seconds(
                i64::try_from(LIFETIME.as_secs()).expect("small")
            )),
            "{}",
            cookie.name()
        );
    }
    let old: Vec<String> = (0..6)
        .map(|k| jar.value(&chunk_name(k)).expect("chunk").to_string())
        .collect();

    // Under max_chunks 4: chunks 0 to 3 are the set, and their joined text
    // fails the AEAD; only they (and the plain name) are removed.
    let expected = predicted(&old[..4].concat());
    assert_eq!(expected, Error::AuthenticationFailed);
    let (session, written, response) = step(&narrow, &mut jar, later(1), |_| {});
    assert!(session.is_empty());
    assert_eq!(session.rejection(), Some(expected));
    assert_eq!(written, Written::Removed);
    assert_eq!(removals(&response), removed(0..4));
    assert_eq!(jar.session_names(), leftovers);

    // A new session next to the leftovers: written, loaded, grown to every
    // chunk the configuration allows, shrunk, destroyed; the leftovers are
    // never removed and never in the way.
    let (first, written, response) = step(&narrow, &mut jar, later(2), |s| {
        s.insert(text(n_for(2)));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(
        removals(&response),
        names(&[NAME, "session.2", "session.3"])
    );
    let mut expected_names = layout_names(2);
    expected_names.extend(leftovers.iter().cloned());
    assert_eq!(jar.session_names(), expected_names);
    let (session, written, response) = step(&narrow, &mut jar, later(3), |_| {});
    assert_eq!(session.get(), Some(text(n_for(2))));
    assert_eq!(session.id(), first.id());
    assert_eq!(written, Written::Nothing);
    assert!(response.is_empty());
    let (_, written, response) = step(&narrow, &mut jar, later(4), |s| {
        assert_eq!(s.get(), Some(text(n_for(2))));
        s.insert(text(n_for(4)));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(removals(&response), names(&[NAME]));
    let mut expected_names = layout_names(4);
    expected_names.extend(leftovers.iter().cloned());
    assert_eq!(jar.session_names(), expected_names);
    let (_, written, response) = step(&narrow, &mut jar, later(5), |s| {
        assert_eq!(s.get(), Some(text(n_for(4))));
        s.insert(text(10));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(
        removals(&response),
        names(&["session.0", "session.1", "session.2", "session.3"])
    );
    let (_, written, response) = step(&narrow, &mut jar, later(6), |s| {
        assert_eq!(s.get(), Some(text(10)));
        s.destroy();
    });
    assert_eq!(written, Written::Removed);
    assert_eq!(removals(&response), names(&[NAME]));
    assert_eq!(jar.session_names(), leftovers);
    for k in [4, 5] {
        assert_eq!(
            jar.value(&chunk_name(k)),
            Some(old[k].as_str()),
            "chunk {k}"
        );
    }
    assert!(jar.has_other());

    // Raised again to 8: the leftovers are chunks without chunk 0, a
    // malformed set, removed.
    let (session, written, response) = step(&wide, &mut jar, later(7), |_| {});
    assert_eq!(
        session.rejection(),
        Some(Error::Malformed(Malformed::Chunks))
    );
    assert_eq!(written, Written::Removed);
    assert_eq!(removals(&response), removed([4, 5]));
    assert!(jar.session_names().is_empty());
}

/// Grows a session from one cookie to `max_chunks` chunks one chunk at a
/// time, shrinks it back one at a time, jumps between the extremes,
/// regenerates and destroys it, next to tossed chunk cookies from
/// `max_chunks` up (host-only and for the parent domain) that stay
/// throughout: no response removes more than `max_chunks + 1` cookies (the
/// destroy of the largest layout removes exactly that many), and every
/// removal is the plain name or a chunk below `max_chunks`.
#[test]
fn one_response_removes_at_most_max_chunks_plus_one_cookies() {
    for max_chunks in [2, 3, 4, 8] {
        let config = config(max_chunks);
        assert_eq!(most_chunks_of(&config), max_chunks);
        let allowed = removed(0..max_chunks);
        let mut jar = Jar::with_other();
        let tossed = tossed_from(max_chunks, "AAAA");
        for (i, (name, value)) in tossed.iter().enumerate() {
            // A jar holds one cookie per name, path and domain.
            if jar.value(name).is_none() {
                jar.cookies.push(stored(
                    name,
                    value,
                    if i % 4 == 0 { "example.com" } else { "" },
                ));
            }
        }
        let tossed_names: BTreeSet<String> = jar
            .session_names()
            .into_iter()
            .filter(|name| !allowed.contains(name))
            .collect();
        assert_eq!(tossed_names, jar.session_names());

        // The layouts, in chunks (0 for one cookie): up one by one, down one
        // by one, then the extremes.
        let mut sizes: Vec<usize> = (0..=max_chunks).filter(|&c| c != 1).collect();
        sizes.extend(sizes.clone().into_iter().rev().skip(1));
        sizes.extend([max_chunks, 0, max_chunks]);
        let n_of = |chunks: usize| if chunks == 0 { 10 } else { n_for(chunks) };
        let mut most_removed = 0;
        let mut previous: Option<usize> = None;
        let mut now = 0;
        let mut check = |response: &HeaderMap, jar: &Jar, context: &str| {
            let removed = removals(response);
            assert!(removed.is_subset(&allowed), "{context}: {removed:?}");
            let count = set_cookies(response)
                .iter()
                .filter(|c| is_removal(c))
                .count();
            assert!(count <= max_chunks + 1, "{context}: {count} removals");
            most_removed = most_removed.max(count);
            for name in &tossed_names {
                assert!(jar.value(name).is_some(), "{context}: {name} removed");
            }
        };
        for &chunks in &sizes {
            now += 1;
            let context = format!("max_chunks {max_chunks}, to {chunks} chunks");
            let (_, written, response) = step(&config, &mut jar, later(now), |s| {
                assert_eq!(s.rejection(), None, "{context}");
                assert_eq!(s.get(), previous.map(|p| text(n_of(p))), "{context}");
                s.insert(text(n_of(chunks)));
            });
            assert_eq!(written, Written::Set, "{context}");
            check(&response, &jar, &context);
            let mut expected = layout_names(chunks);
            expected.extend(tossed_names.iter().cloned());
            assert_eq!(jar.session_names(), expected, "{context}");
            previous = Some(chunks);
        }
        let context = format!("max_chunks {max_chunks}, regenerate");
        let (_, written, response) = step(&config, &mut jar, later(now + 1), |s| {
            s.regenerate();
        });
        assert_eq!(written, Written::Set, "{context}");
        check(&response, &jar, &context);
        let context = format!("max_chunks {max_chunks}, destroy");
        let (_, written, response) = step(&config, &mut jar, later(now + 2), |s| {
            assert_eq!(s.get(), Some(text(n_for(max_chunks))), "{context}");
            s.destroy();
        });
        assert_eq!(written, Written::Removed, "{context}");
        assert_eq!(removals(&response), allowed, "{context}");
        check(&response, &jar, &context);
        assert_eq!(jar.session_names(), tossed_names, "{context}");
        assert_eq!(most_removed, max_chunks + 1, "max_chunks {max_chunks}");
    }
}

/// A repeated index below `max_chunks` still makes the set malformed, next
/// to tossed cookies from `max_chunks` up, and the response removes the
/// session's own names only; repeats from `max_chunks` up spoil nothing.
#[test]
fn repeated_indexes_below_max_chunks_are_still_malformed() {
    let config = config(4);
    let values = sealed_chunks(&config, n_for(3), t0());
    let tossed = tossed_from(4, &values[1]);
    for index in 0..4 {
        // The same value again, or another one; chunk 3, which the session
        // does not have, twice.
        for value in [
            values
                .get(index)
                .cloned()
                .unwrap_or_else(|| values[0].clone()),
            "AAAA".to_string(),
        ] {
            let mut cookies = as_chunks(&values);
            cookies.extend(tossed.iter().cloned());
            cookies.insert(2, (chunk_name(index), value.clone()));
            if index == 3 {
                cookies.push((chunk_name(index), "BBBB".to_string()));
            }
            let mut expected: Vec<usize> = (0..3).collect();
            expected.push(index);
            assert_rejected(
                &config,
                &cookies,
                &Error::Malformed(Malformed::Chunks),
                &removed(expected),
            );
        }
    }
    // The tossed ones alone repeat every index from 4 up: ignored.
    let mut cookies = as_chunks(&values);
    cookies.extend(tossed);
    let session = load(&config, &request(&cookies), later(1));
    assert_eq!(session.get(), Some(text(n_for(3))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_TOSSED))]

    /// For random tossed chunk names (any index from 0 to 99, random values,
    /// anywhere in the header) added to a valid chunked session's request,
    /// the session opens exactly when no tossed index is below
    /// `max_chunks`, and the removals of its response (and of a logout) are
    /// always within the plain name and the chunks below `max_chunks`:
    /// exactly the session's chunks and the tossed names below
    /// `max_chunks`.
    #[test]
    fn tossed_chunk_names_spoil_a_set_only_below_max_chunks(
        (max_chunks, chunks, fraction, tossed, order) in (2usize..=8).prop_flat_map(|max| (
            Just(max),
            2..=max,
            0usize..=100,
            proptest::collection::vec((0usize..100, "[A-Za-z0-9_-]{0,12}"), 0..12),
            any::<Vec<proptest::sample::Index>>(),
        ))
    ) {
        let config = config(max_chunks);
        let n = n_at(chunks, fraction);
        let (id, response) = new_session(&config, n, t0());
        let values = chunk_values(&response);
        prop_assert_eq!(values.len(), chunks);
        let mut cookies = as_chunks(&values);
        for (i, (index, value)) in tossed.iter().enumerate() {
            let at = order.get(i).map_or(0, |at| at.index(cookies.len() + 1));
            cookies.insert(at, (chunk_name(*index), value.clone()));
        }
        let allowed = removed(0..max_chunks);
        let spoiled: BTreeSet<usize> = tossed
            .iter()
            .map(|&(index, _)| index)
            .filter(|&index| index < max_chunks)
            .collect();

        let session = load(&config, &request(&cookies), later(1));
        let (written, response) = respond(&session, later(1));
        let removed_now = removals(&response);
        prop_assert!(removed_now.is_subset(&allowed), "{:?}", removed_now);
        if spoiled.is_empty() {
            prop_assert_eq!(session.rejection(), None);
            prop_assert_eq!(session.get(), Some(text(n)));
            prop_assert_eq!(session.id(), Some(id));
            prop_assert_eq!(written, Written::Nothing);
            prop_assert!(response.is_empty());
            session.destroy();
            let (written, response) = respond(&session, later(1));
            prop_assert_eq!(written, Written::Removed);
            let removed_now = removals(&response);
            prop_assert!(removed_now.is_subset(&allowed), "{:?}", removed_now);
            prop_assert_eq!(removed_now, removed(0..chunks));
        } else {
            prop_assert!(session.is_empty());
            prop_assert!(session.rejection().is_some());
            prop_assert_eq!(written, Written::Removed);
            prop_assert_eq!(removed_now, removed((0..chunks).chain(spoiled)));
        }
    }
}

/// Concurrent requests carrying the same two-chunk session, whose responses
/// the browser applies in either order: A grows it to three chunks, B
/// shrinks it to one cookie, C rewrites it as two chunks, D logs out.
/// Whichever response arrives last wins: its value is what the next request
/// loads. After a chunked response (A, C) the jar holds exactly its cookies:
/// a chunked write removes the plain name and every chunk index the
/// configuration could use, whatever the request carried. After a plain
/// write or a logout, which remove only what their request carried, a chunk
/// of A can be left over: next to B's plain cookie it is removed by the next
/// response (`LeftoversRemoved`); alone it is an invalid set, removed with
/// the plain name, and the logout holds.
#[test]
fn concurrent_responses_the_last_one_wins() {
    let config = config(4);
    let mut base = Jar::with_other();
    let (first, _, _) = step(&config, &mut base, t0(), |s| {
        s.insert(text(n_for(2)));
    });
    assert_eq!(base.session_names(), layout_names(2));
    let id = first.id();
    let carried = base.request();
    let respond_to = |change: &dyn Fn(&Session<String>)| -> (Written, HeaderMap) {
        let session = load(&config, &carried, later(1));
        assert_eq!(session.get(), Some(text(n_for(2))));
        change(&session);
        respond(&session, later(1))
    };
    let set_names = |response: &HeaderMap| -> Vec<String> {
        sets(response).into_iter().map(|(name, _)| name).collect()
    };

    let a_value = text(n_for(3));
    let (written, a) = respond_to(&|s| {
        s.insert(text(n_for(3)));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(set_names(&a), ["session.0", "session.1", "session.2"]);
    assert_eq!(removals(&a), names(&[NAME, "session.3"]));

    let b_value = text(10);
    let (written, b) = respond_to(&|s| {
        s.insert(text(10));
    });
    assert_eq!(written, Written::Set);
    assert_eq!(set_names(&b), [NAME]);
    assert_eq!(removals(&b), names(&["session.0", "session.1"]));

    let c_value = text(n_for(2)).to_uppercase();
    let (written, c) = respond_to(&|s| {
        s.insert(text(n_for(2)).to_uppercase());
    });
    assert_eq!(written, Written::Set);
    assert_eq!(set_names(&c), ["session.0", "session.1"]);
    assert_eq!(removals(&c), names(&[NAME, "session.2", "session.3"]));

    let (written, d) = respond_to(&|s| s.destroy());
    assert_eq!(written, Written::Removed);
    assert!(sets(&d).is_empty());
    assert_eq!(removals(&d), names(&[NAME, "session.0", "session.1"]));

    // (label, the value the next request loads, the response, its layout)
    let responses = [
        ("A", Some(a_value), &a, layout_names(3)),
        ("B", Some(b_value), &b, layout_names(0)),
        ("C", Some(c_value), &c, layout_names(2)),
        ("D", None, &d, BTreeSet::new()),
    ];
    for (earlier, _, earlier_response, _) in &responses {
        for (last, value, last_response, layout) in &responses {
            if earlier == last {
                continue;
            }
            let context = format!("{earlier} then {last}");
            let mut jar = base.clone();
            jar.apply(earlier_response);
            jar.apply(last_response);
            // Only A sets chunk 2, and only B and D leave it.
            let leftover = if *earlier == "A" && (*last == "B" || *last == "D") {
                names(&["session.2"])
            } else {
                BTreeSet::new()
            };
            let mut expected: BTreeSet<String> = layout.clone();
            expected.extend(leftover.iter().cloned());
            assert_eq!(jar.session_names(), expected, "{context}");
            for (name, set) in sets(last_response) {
                assert_eq!(jar.value(&name), Some(set.as_str()), "{context}: {name}");
            }

            let (session, written, response) = step(&config, &mut jar, later(2), |_| {});
            assert_eq!(&session.get(), value, "{context}");
            match (value.is_some(), leftover.is_empty()) {
                (true, true) => {
                    assert_eq!(session.id(), id, "{context}");
                    assert_eq!(written, Written::Nothing, "{context}");
                    assert!(response.is_empty(), "{context}");
                }
                (true, false) => {
                    assert_eq!(session.id(), id, "{context}");
                    assert_eq!(written, Written::LeftoversRemoved, "{context}");
                    assert!(sets(&response).is_empty(), "{context}");
                    assert_eq!(removals(&response), leftover, "{context}");
                }
                (false, false) => {
                    assert_eq!(
                        session.rejection(),
                        Some(Error::Malformed(Malformed::Chunks)),
                        "{context}"
                    );
                    assert_eq!(written, Written::Removed, "{context}");
                    assert_eq!(
                        removals(&response),
                        names(&[NAME, "session.2"]),
                        "{context}"
                    );
                }
                (false, true) => {
                    assert_eq!(session.rejection(), None, "{context}");
                    assert_eq!(written, Written::Nothing, "{context}");
                    assert!(response.is_empty(), "{context}");
                }
            }
            assert_eq!(jar.session_names(), *layout, "{context}: afterwards");
            assert!(jar.has_other(), "{context}");
        }
    }
}

/// A chunked write removes every chunk index up to the most chunks the
/// configuration can use: `max_chunks`, or fewer when the header budget
/// cannot hold that many. Exact at the budget's boundary: the smallest
/// four-chunk layout of 300-byte cookies is three full ones and
/// `session.3` with one character, 910 bytes.
#[test]
fn a_chunked_write_removes_every_index_the_configuration_can_use() {
    // The helper's count for the configurations of these tests (the e2e
    // test's 4096-byte cookies with the default and a 12 000-byte budget).
    assert_eq!(most_chunks(MAX, 4, DEFAULT_HEADER_BUDGET), 4);
    for max in [299, 300, 301, 302] {
        assert_eq!(most_chunks(max, 3, DEFAULT_HEADER_BUDGET), 3);
    }
    assert_eq!(most_chunks(150, 12, DEFAULT_HEADER_BUDGET), 12);
    assert_eq!(most_chunks(4096, 3, DEFAULT_HEADER_BUDGET), 2);
    assert_eq!(most_chunks(4096, 4, DEFAULT_HEADER_BUDGET), 2);
    assert_eq!(most_chunks(4096, 4, 12_000), 3);
    assert_eq!(most_chunks(MAX, 16, DEFAULT_HEADER_BUDGET), 16);

    let upto = |most: usize| -> BTreeSet<String> {
        std::iter::once(NAME.to_string())
            .chain((2..most).map(chunk_name))
            .collect()
    };
    let n = n_for(2);
    for (max_chunks, budget, most) in [
        (8, 909, 3),
        (8, 910, 4),
        (8, DEFAULT_HEADER_BUDGET, 8),
        (2, DEFAULT_HEADER_BUDGET, 2),
        (MAX_CHUNKS, usize::MAX, MAX_CHUNKS),
    ] {
        let context = format!("max_chunks {max_chunks}, budget {budget}");
        let config = chunked(MAX, max_chunks, budget);
        assert_eq!(most_chunks_of(&config), most, "{context}");
        let (_, response) = new_session(&config, n, t0());
        assert_eq!(chunk_values(&response).len(), 2, "{context}");
        assert_eq!(removals(&response), upto(most), "{context}");
        assert_eq!(chunked_removals(&config, 2), upto(most), "{context}");
        check_attributes(&response, "/", None, MAX);
    }
    // Under the 909-byte budget, four chunks never happen: the smallest
    // value that would need them is refused.
    let tight = chunked(MAX, 8, 909);
    let smallest_four = (0..10_000)
        .find(|&n| value_len(n) > 3 * (MAX - "session.0".len()))
        .expect("reachable");
    let session = load(&tight, &HeaderMap::new(), t0());
    set_now(t0());
    assert!(matches!(
        session.try_insert(text(smallest_four)),
        Err(Error::TooLarge { limit: 909, .. })
    ));
    let three = (0..smallest_four)
        .rev()
        .find(|&n| matches!(plan(value_len(n), MAX, 8, 909), Plan::Chunks(_)))
        .expect("three chunks fit");
    let (_, response) = new_session(&tight, three, t0());
    assert_eq!(chunk_values(&response).len(), 3);
    assert_eq!(removals(&response), names(&[NAME]));
}

// ---------------------------------------------------------------------------
// Header budget and configuration
// ---------------------------------------------------------------------------

#[test]
fn a_session_over_the_budget_is_refused_and_left_unchanged() {
    // Three chunks of the same value take `size` bytes; a budget of exactly
    // that fits, one byte less does not.
    let n = n_for(3);
    let size = value_len(n) + 3 * "session.0".len();
    assert_eq!(
        plan(value_len(n), MAX, 4, size),
        Plan::Chunks(vec![291, 291, value_len(n) - 582])
    );
    let exact = chunked(MAX, 4, size);
    let tight = chunked(MAX, 4, size - 1);

    let session = load(&exact, &HeaderMap::new(), t0());
    set_now(t0());
    assert_eq!(session.try_insert(text(n)), Ok(None));
    let (written, response) = respond(&session, t0());
    assert_eq!(written, Written::Set);
    assert_eq!(sets(&response).len(), 3);

    // Loaded under the tight budget, the same cookies are too large...
    let mut jar = Jar::default();
    jar.apply(&response);
    let refused = load(&tight, &jar.request(), later(1));
    assert_eq!(
        refused.rejection(),
        Some(Error::TooLarge {
            size,
            limit: size - 1
        })
    );

    // ...and a session holding a small value refuses to grow past it.
    let (_, small) = new_session(&tight, 10, t0());
    let mut jar = Jar::default();
    jar.apply(&small);
    let session = load(&tight, &jar.request(), later(1));
    let id = session.id();
    set_now(later(1));
    assert_eq!(
        session.try_insert(text(n)),
        Err(Error::TooLarge {
            size,
            limit: size - 1
        })
    );
    assert_eq!(session.get(), Some(text(10)), "the value is unchanged");
    assert_eq!(session.id(), id);
    assert!(!session.needs_write(), "nothing to write");
    assert_eq!(
        session.try_update(|value| *value = text(n)),
        Err(Error::TooLarge {
            size,
            limit: size - 1
        })
    );
    assert_eq!(session.get(), Some(text(10)));
    assert!(!session.needs_write());

    // An unchecked insert fails at write time and appends nothing: the
    // browser keeps its cookie.
    session.insert(text(n));
    let mut response = HeaderMap::new();
    assert_eq!(
        session.write(&mut response),
        Err(Error::TooLarge {
            size,
            limit: size - 1
        })
    );
    assert!(response.is_empty());
}

/// A chunked session that would outgrow `max_chunks` full cookies is
/// refused with that limit when it is below the budget, and writing it
/// appends nothing (the browser keeps its chunks).
#[test]
fn max_chunks_full_cookies_bound_the_size_below_the_budget() {
    let config = config(2);
    let n = n_for(3);
    let size = value_len(n) + 3 * "session.0".len();
    let mut jar = Jar::with_other();
    step(&config, &mut jar, t0(), |s| {
        s.insert(text(n_for(2)));
    });
    assert_eq!(jar.session_names(), layout_names(2));
    let session = load(&config, &jar.request(), later(1));
    set_now(later(1));
    assert_eq!(
        session.try_insert(text(n)),
        Err(Error::TooLarge {
            size,
            limit: 2 * MAX
        })
    );
    session.insert(text(n));
    let mut response = HeaderMap::new();
    assert_eq!(
        session.write(&mut response),
        Err(Error::TooLarge {
            size,
            limit: 2 * MAX
        })
    );
    assert!(response.is_empty());
}

#[test]
fn chunking_settings_out_of_range_are_refused() {
    let build = |max_chunks: usize, budget: usize| {
        SessionConfig::builder(codec_with(MAX))
            .max_chunks(max_chunks)
            .header_budget(budget)
            .build()
    };
    let chunking_error = |result: Result<SessionConfig, ConfigError>| {
        matches!(result, Err(ConfigError::Chunking { .. }))
    };
    assert_eq!(MAX_CHUNKS, 32);
    assert!(chunking_error(build(0, DEFAULT_HEADER_BUDGET)));
    assert!(chunking_error(build(MAX_CHUNKS + 1, DEFAULT_HEADER_BUDGET)));
    assert!(chunking_error(build(2, MAX - 1)));
    assert!(chunking_error(build(MAX_CHUNKS, MAX - 1)));
    // The smallest chunked session: a full `session.0` and 3 characters in
    // `session.1` ("session.1" is 9 bytes): MAX + 7 + 5 bytes. A budget
    // below it could never hold a chunked session.
    let smallest = MAX + NAME.len() + 5;
    assert!(chunking_error(build(2, MAX)));
    assert!(chunking_error(build(2, smallest - 1)));
    // In range.
    for (max_chunks, budget) in [
        (1, 0),
        (1, MAX - 1),
        (2, smallest),
        (MAX_CHUNKS, usize::MAX),
    ] {
        let config = build(max_chunks, budget).expect("in range");
        assert_eq!(config.max_chunks(), max_chunks);
        assert_eq!(config.header_budget(), budget);
    }
    // The budget is checked against the codec's own cookie size and name:
    // the default codec's are 4096 bytes and `__Host-session` (14 bytes).
    let default = Codec::new(keyring(SECRET));
    assert_eq!(default.cookie_name(), DEFAULT_COOKIE_NAME);
    assert_eq!(DEFAULT_COOKIE_NAME, "__Host-session");
    assert_eq!(max_cookie_size(&default), DEFAULT_MAX_COOKIE_SIZE);
    assert_eq!(DEFAULT_MAX_COOKIE_SIZE, 4096);
    let result = SessionConfig::builder(default.clone())
        .max_chunks(2)
        .header_budget(4096 + DEFAULT_COOKIE_NAME.len() + 4)
        .build();
    assert!(chunking_error(result));
    let result = SessionConfig::builder(default)
        .max_chunks(2)
        .header_budget(4096 + DEFAULT_COOKIE_NAME.len() + 5)
        .build();
    assert!(result.is_ok());
}

/// The smallest budget the configuration accepts holds a chunked session:
/// the shortest value too long for one cookie.
#[test]
fn the_smallest_accepted_budget_holds_the_smallest_chunked_session() {
    let smallest = MAX + NAME.len() + 5;
    let config = SessionConfig::builder(codec_with(MAX))
        .max_chunks(2)
        .header_budget(smallest)
        .build()
        .expect("in range");
    let mut n = 0;
    // The shortest payload whose cookie no longer fits in one.
    loop {
        let session = load(&config, &HeaderMap::new(), t0());
        session.insert(text(n));
        let (written, response) = respond(&session, t0());
        assert_eq!(written, Written::Set);
        if sets(&response).len() > 1 {
            let total: usize = sets(&response)
                .iter()
                .map(|(name, value)| name.len() + value.len())
                .sum();
            assert!(total <= smallest, "{total} > {smallest}");
            break;
        }
        n += 1;
        assert!(n < 10 * MAX, "never chunked");
    }
}

/// With `max_chunks(1)` cookies named `name.k` are none of the session's
/// business: not read, not rejected, not removed.
#[test]
fn without_chunking_chunk_cookies_are_ignored() {
    let one = SessionConfig::new(codec_with(MAX));
    let chunks = as_chunks(&sealed_chunks(&config(4), n_for(3), t0()));

    // A valid chunk set alone: no session, no rejection, nothing written.
    assert_no_session(&one, &chunks);

    // Next to a valid plain cookie: loads, needs no write; a change or a
    // destroy touches only the plain name.
    let (_, plain) = new_session(&one, 10, t0());
    let mut pairs = chunks.clone();
    pairs.extend(sets(&plain));
    let session = load(&one, &request(&pairs), later(1));
    assert_eq!(session.get(), Some(text(10)));
    set_now(later(1));
    assert!(!session.needs_write());
    session.insert(text(20));
    let (_, response) = respond(&session, later(1));
    assert!(removals(&response).is_empty());
    assert_eq!(
        sets(&response)
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        [NAME]
    );
    session.destroy();
    let (_, response) = respond(&session, later(1));
    assert_eq!(removals(&response), names(&[NAME]));

    // Next to an invalid plain cookie: only the plain name is rejected and
    // removed.
    let mut pairs = chunks;
    pairs.push((NAME.to_string(), "forged".to_string()));
    let session = load(&one, &request(&pairs), later(1));
    assert_eq!(
        session.rejection(),
        Some(Error::Malformed(Malformed::Encoding))
    );
    let (written, response) = respond(&session, later(1));
    assert_eq!(written, Written::Removed);
    assert_eq!(removals(&response), names(&[NAME]));
}

// ---------------------------------------------------------------------------
// Tampering, per chunk
// ---------------------------------------------------------------------------

/// Replaces the character at `at` with another base64url character.
fn flip(value: &str, at: usize) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// Every way of changing one chunk of a four-chunk session fails, with the
/// error the format's order of checks predicts, and the response removes
/// every session cookie the request carried.
#[test]
fn tampering_with_any_chunk_fails_and_is_removed() {
    // Six chunks allowed, so that an extra chunk after the last is
    // contiguous and reaches the AEAD.
    let config = config(6);
    let n = n_for(4);
    let (id, response) = new_session(&config, n, t0());
    let original = chunk_values(&response);
    assert_eq!(original.len(), 4);
    // Another session under the same keyring and of the same length, and
    // an older write of the same session (same id, same value length).
    let other = sealed_chunks(&config, n, t0());
    let mut jar = Jar::default();
    jar.apply(&response);
    let (_, _, rewritten) = step(&config, &mut jar, later(5), |s| {
        s.insert(text(n).to_uppercase());
    });
    let newer = chunk_values(&rewritten);
    assert_eq!(
        load(&config, &request(&as_chunks(&newer)), later(6)).id(),
        Some(id)
    );

    let mut seen = BTreeSet::new();
    for k in 0..4 {
        let mut cases: Vec<(String, Vec<(String, String)>)> = Vec::new();
        let replaced = |value: String| {
            let mut values = newer.clone();
            values[k] = value;
            as_chunks(&values)
        };
        cases.push((
            "flip the middle character".into(),
            replaced(flip(&newer[k], newer[k].len() / 2)),
        ));
        cases.push((
            "flip the first character".into(),
            replaced(flip(&newer[k], 0)),
        ));
        cases.push((
            "flip the last character".into(),
            replaced(flip(&newer[k], newer[k].len() - 1)),
        ));
        let mut dropped = as_chunks(&newer);
        dropped.remove(k);
        cases.push(("drop it".into(), dropped));
        let mut duplicated = as_chunks(&newer);
        duplicated.push(duplicated[k].clone());
        cases.push(("send it twice".into(), duplicated));
        let mut appended = newer.clone();
        appended.push(newer[k].clone());
        cases.push(("repeat its value as chunk 4".into(), as_chunks(&appended)));
        let mut swapped = newer.clone();
        swapped.swap(k, (k + 1) % 4);
        cases.push(("swap it with the next".into(), as_chunks(&swapped)));
        cases.push((
            "take it from another session".into(),
            replaced(other[k].clone()),
        ));
        cases.push((
            "take it from an older write".into(),
            replaced(original[k].clone()),
        ));

        for (what, cookies) in cases {
            let context = format!("chunk {k}: {what}");
            let session = load(&config, &request(&cookies), later(6));
            assert!(session.is_empty(), "{context}");
            let error = session
                .rejection()
                .unwrap_or_else(|| panic!("{context}: no rejection"));
            let indexes: Vec<usize> = cookies
                .iter()
                .map(|(name, _)| reference::chunk_index(NAME, name, usize::MAX).expect("index"))
                .collect();
            let contiguous = {
                let mut sorted = indexes.clone();
                sorted.sort_unstable();
                sorted == (0..indexes.len()).collect::<Vec<_>>()
            };
            if contiguous {
                let mut ordered: Vec<(usize, &str)> = indexes
                    .iter()
                    .zip(&cookies)
                    .map(|(&index, (_, value))| (index, value.as_str()))
                    .collect();
                ordered.sort_unstable_by_key(|&(index, _)| index);
                let joined: String = ordered.iter().map(|&(_, value)| value).collect();
                assert_predicted(&error, &joined, &context);
            } else {
                assert_eq!(error, Error::Malformed(Malformed::Chunks), "{context}");
            }
            seen.insert(error.code());
            if let Error::Malformed(kind) = &error {
                seen.insert(match kind {
                    Malformed::Chunks => "malformed: chunks",
                    Malformed::Encoding => "malformed: encoding",
                    _ => "malformed: other",
                });
            }
            let (written, response) = respond(&session, later(6));
            assert_eq!(written, Written::Removed, "{context}");
            assert_eq!(removals(&response), removed(indexes), "{context}");
            let mut jar = Jar::default();
            for (name, value) in &cookies {
                jar.apply(&request_as_set(name, value));
            }
            jar.apply(&response);
            assert!(jar.session_names().is_empty(), "{context}");
        }
    }
    // Each kind of failure the cases are built for did occur.
    for code in [
        "authentication-failed",
        "malformed: chunks",
        "unsupported-version",
    ] {
        assert!(seen.contains(code), "no {code} among {seen:?}");
    }
}

/// A `Set-Cookie` as the crate writes it for `name=value`, to seed a jar.
fn request_as_set(name: &str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        HeaderValue::try_from(format!(
            "{name}={value}; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=3600"
        ))
        .expect("valid header"),
    );
    headers
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// Cases per property (proptest's default is 256).
const CASES_RELABEL: u32 = 256;
const CASES_RECUT: u32 = 128;
const CASES_TOSSED: u32 = 256;

/// The configuration of the properties: up to 16 chunks, so that
/// re-cutting into smaller pieces stays within `max_chunks`.
fn property_config() -> SessionConfig {
    config(16)
}

/// A payload length giving `chunks` chunks, at `fraction` (0..=100) of the
/// way through that range.
fn n_at(chunks: usize, fraction: usize) -> usize {
    let (low, high) = n_range(MAX, chunks);
    low + (high - low) * fraction / 100
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_RELABEL))]

    /// For a session of `k` chunks, any non-empty list of (source chunk,
    /// index) pairs opens exactly when it is the original set (each chunk
    /// under its own index, once), in whatever header order; anything else
    /// (a subset, a repeat, a permutation, a relabelling) fails: as
    /// malformed when the indexes are not `0..m` each once, else as the
    /// format's checks predict for the joined text.
    #[test]
    fn only_the_exact_set_of_chunks_opens(
        (k, fraction, pairs, order) in (2usize..=6).prop_flat_map(|k| (
            Just(k),
            0usize..=100,
            proptest::collection::vec((0..k, 0..k + 2), 1..=k + 2),
            Just((0..k).collect::<Vec<usize>>()).prop_shuffle(),
        ))
    ) {
        let config = property_config();
        let n = n_at(k, fraction);
        let (id, response) = new_session(&config, n, t0());
        let values = chunk_values(&response);
        prop_assert_eq!(values.len(), k);

        // The exact set in a random header order opens.
        let exact: Vec<(String, String)> =
            order.iter().map(|&i| (chunk_name(i), values[i].clone())).collect();
        let session = load(&config, &request(&exact), later(1));
        prop_assert_eq!(session.get(), Some(text(n)));
        prop_assert_eq!(session.id(), Some(id));

        let cookies: Vec<(String, String)> = pairs
            .iter()
            .map(|&(source, index)| (chunk_name(index), values[source].clone()))
            .collect();
        let mut sorted = pairs.clone();
        sorted.sort_unstable_by_key(|&(_, index)| index);
        let is_exact = sorted == (0..k).map(|i| (i, i)).collect::<Vec<_>>();
        let session = load(&config, &request(&cookies), later(1));
        if is_exact {
            prop_assert_eq!(session.get(), Some(text(n)));
        } else {
            prop_assert!(session.is_empty());
            let error = session.rejection().expect("a rejection");
            let contiguous = sorted.iter().map(|&(_, index)| index).eq(0..sorted.len());
            if contiguous {
                let joined: String = sorted.iter().map(|&(source, _)| values[source].as_str()).collect();
                assert_predicted(&error, &joined, &format!("{pairs:?}"));
            } else {
                prop_assert_eq!(error, Error::Malformed(Malformed::Chunks));
            }
            let (written, response) = respond(&session, later(1));
            prop_assert_eq!(written, Written::Removed);
            prop_assert_eq!(removals(&response), removed(pairs.iter().map(|&(_, index)| index)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_RECUT))]

    /// The cut points are not authenticated: the joined text cut anywhere
    /// else into chunks that each fit a cookie, numbered from 0, opens to
    /// the same session. What is authenticated is the joined text.
    #[test]
    fn recutting_the_joined_text_opens_the_same_session(
        k in 2usize..=6,
        fraction in 0usize..=100,
        pieces in proptest::collection::vec(146usize..=290, 14),
    ) {
        let config = property_config();
        let n = n_at(k, fraction);
        let (id, response) = new_session(&config, n, t0());
        let joined: String = chunk_values(&response).concat();

        let mut recut = Vec::new();
        let mut rest = joined.as_str();
        for &len in pieces.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, tail) = rest.split_at(len.min(rest.len()));
            recut.push(piece.to_string());
            rest = tail;
        }
        prop_assert!(recut.len() <= 14);
        prop_assert_eq!(recut.concat(), joined.clone());
        let session = load(&config, &request(&as_chunks(&recut)), later(1));
        prop_assert_eq!(session.rejection(), None);
        prop_assert_eq!(session.get(), Some(text(n)));
        prop_assert_eq!(session.id(), Some(id));
        // A re-cut set was not written by this configuration's greedy
        // split, but it is a valid session: only the layout is refreshed
        // when the session is written for another reason.
        set_now(later(1));
        prop_assert!(!session.needs_write());
    }
}

/// An empty chunk would leave the joined text unchanged, but the sealer
/// never writes one, so a set with an empty chunk inserted (in the middle or
/// at the end) is not a set this crate wrote: it is refused as malformed
/// before any decoding, and the response removes what was sent.
#[test]
fn an_empty_chunk_is_refused() {
    let config = config(4);
    let n = n_for(2);
    let values = sealed_chunks(&config, n, t0());
    assert_eq!(values.len(), 2);
    for empty_at in [0, 1, 2] {
        let mut with_empty = values.clone();
        with_empty.insert(empty_at, String::new());
        let session = load(&config, &request(&as_chunks(&with_empty)), later(1));
        assert!(session.is_empty(), "empty chunk at {empty_at}");
        assert_eq!(
            session.rejection(),
            Some(Error::Malformed(Malformed::Chunks)),
            "empty chunk at {empty_at}"
        );
        let (written, _) = respond(&session, later(1));
        assert_eq!(written, Written::Removed, "empty chunk at {empty_at}");
    }
}

// ---------------------------------------------------------------------------
// Binding
// ---------------------------------------------------------------------------

#[test]
fn a_bound_chunked_session_opens_only_with_its_binding() {
    let config = config(4);
    let binding = Binding::new(b"203.0.113.7");
    let session = load_bound(&config, &HeaderMap::new(), binding, t0());
    session.insert(text(n_for(3)));
    let (written, response) = respond(&session, t0());
    assert_eq!(written, Written::Set);
    let values = chunk_values(&response);
    assert_eq!(values.len(), 3);
    let headers = request(&as_chunks(&values));

    let same = load_bound(&config, &headers, Binding::new(b"203.0.113.7"), later(1));
    assert_eq!(same.get(), Some(text(n_for(3))));
    assert_eq!(same.id(), session.id());

    for (what, other) in [
        ("another binding", Some(Binding::new(b"203.0.113.8"))),
        ("the empty binding", Some(Binding::new(b""))),
        ("unbound", None),
    ] {
        let loaded = match other {
            Some(other) => load_bound(&config, &headers, other, later(1)),
            None => load(&config, &headers, later(1)),
        };
        assert!(loaded.is_empty(), "{what}");
        assert_eq!(
            loaded.rejection(),
            Some(Error::AuthenticationFailed),
            "{what}"
        );
        let (written, response) = respond(&loaded, later(1));
        assert_eq!(written, Written::Removed, "{what}");
        assert_eq!(removals(&response), removed(0..3), "{what}");
    }
}

// ---------------------------------------------------------------------------
// Bound on work (with `--features tracing`)
// ---------------------------------------------------------------------------

#[cfg(feature = "tracing")]
mod work {
    //! The work one request can cause, as the public API shows it: with the
    //! `tracing` feature, `load` logs one event per request that had
    //! rejected (or untried) session cookies, whose `rejected` field counts
    //! the plain cookies and the chunk set it rejected, at WARN when one
    //! failed the AEAD. The garbage cookies here pass every check before
    //! the AEAD (strict base64url, version 1, a known algorithm, the
    //! keyring's key id), so each rejection is one AEAD attempt.

    use sealed_session::limits::MAX_SESSION_COOKIES_TRIED;

    use super::*;

    /// Runs `f` with the shared DEBUG-level subscriber on this thread and
    /// returns the lines it logged.
    fn captured(f: impl FnOnce()) -> Vec<String> {
        common::captured(f).lines().map(str::to_string).collect()
    }

    /// The message of a WARN event (at least one cookie failed the AEAD).
    const TAMPERING: &str =
        "session cookie rejected, at least one failing authentication (possible tampering)";
    /// The message of a DEBUG event (routine rejections only).
    const ROUTINE: &str = "session cookie rejected";

    /// The exact line `load` logs (target `sealed_session::cookies`) for the
    /// session cookie `session`: at WARN when `warn`, else at DEBUG.
    fn event_line(
        warn: bool,
        rejected: usize,
        reason: &str,
        untried: bool,
        loaded: bool,
    ) -> String {
        let (level, message) = if warn {
            (" WARN", TAMPERING)
        } else {
            ("DEBUG", ROUTINE)
        };
        format!(
            "{level} sealed_session::cookies: {message} cookie=\"session\" rejected={rejected} \
             reason=\"{reason}\" untried={untried} loaded={loaded}"
        )
    }

    /// A cookie value that reaches the AEAD under [`SECRET`] and fails it:
    /// version 1, XAES-256-GCM, the key id, then `body` pseudo-random bytes
    /// (nonce, ciphertext and tag) varied by `seed`.
    fn garbage(seed: u64, body: usize) -> String {
        let mut token = vec![reference::VERSION, reference::XAES_256_GCM];
        token.extend_from_slice(&key_id());
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for _ in 0..body {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            token.push(state.to_le_bytes()[0]);
        }
        reference::encode(&token)
    }

    /// The one event `load` logs for a request with rejected or untried
    /// session cookies (asserting that it logged exactly one line).
    fn the_event(lines: &[String]) -> &str {
        assert_eq!(lines.len(), 1, "one event per request: {lines:#?}");
        let line = lines[0].as_str();
        assert!(line.contains(" sealed_session::cookies: "), "{line}");
        assert!(line.contains("cookie=\"session\""), "{line}");
        line
    }

    /// Garbage plain cookies and a garbage chunk set: at most
    /// `MAX_SESSION_COOKIES_TRIED` plain attempts plus one for the joined
    /// chunks, however many cookies the request carries, reported in one
    /// WARN event whose `rejected` counts the attempts.
    #[test]
    fn garbage_costs_at_most_the_plain_bound_plus_one() {
        let config = config(4);
        let chunk_set = garbage(1, 600);
        assert!(chunk_set.len() > 2 * 291 && chunk_set.len() <= 3 * 291);
        assert_eq!(predicted(&chunk_set), Error::AuthenticationFailed);
        let chunks: Vec<(String, String)> = chunk_set
            .as_bytes()
            .chunks(291)
            .enumerate()
            .map(|(k, piece)| {
                (
                    chunk_name(k),
                    String::from_utf8(piece.to_vec()).expect("ASCII"),
                )
            })
            .collect();
        assert_eq!(chunks.len(), 3);

        for plain_count in [
            0,
            1,
            MAX_SESSION_COOKIES_TRIED,
            MAX_SESSION_COOKIES_TRIED + 1,
            1000,
        ] {
            let mut cookies: Vec<(String, String)> = (0..plain_count)
                .map(|i| (NAME.to_string(), garbage(100 + i as u64, 120)))
                .collect();
            cookies.extend(chunks.iter().cloned());
            let headers = request(&cookies);
            let mut session = None;
            let lines = captured(|| {
                session = Some(load(&config, &headers, later(1)));
            });
            let session = session.expect("loaded");
            let tried = plain_count.min(MAX_SESSION_COOKIES_TRIED);
            let untried = plain_count > MAX_SESSION_COOKIES_TRIED;
            let event = the_event(&lines);
            assert_eq!(
                event,
                event_line(true, tried + 1, "authentication-failed", untried, false)
            );
            assert!(session.is_empty());
            assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
            let (written, response) = respond(&session, later(1));
            if untried {
                // Untried duplicates: nothing is removed, since a valid
                // cookie might be among them.
                assert_eq!(written, Written::Nothing);
                assert!(response.is_empty());
            } else {
                assert_eq!(written, Written::Removed);
                assert_eq!(removals(&response), removed(0..3));
            }
        }
    }

    /// Ten thousand plain and ten thousand chunk cookies: eight plain
    /// attempts, then one for the chunks below `max_chunks` (the others are
    /// other cookies), whose joined text passes every check before the
    /// AEAD: nine attempts, one event.
    #[test]
    fn thousands_of_cookies_cost_no_more() {
        let config = config(MAX_CHUNKS);
        let mut cookies: Vec<(String, String)> = (0..10_000)
            .map(|i| (NAME.to_string(), garbage(i, 80)))
            .collect();
        cookies.extend((0..10_000).map(|k| (chunk_name(k), garbage(k as u64, 80))));
        let joined: String = (0..MAX_CHUNKS).map(|k| garbage(k as u64, 80)).collect();
        assert_eq!(predicted(&joined), Error::AuthenticationFailed);
        let headers = request(&cookies);
        let mut session = None;
        let lines = captured(|| {
            session = Some(load(&config, &headers, later(1)));
        });
        let event = the_event(&lines);
        assert_eq!(
            event,
            event_line(
                true,
                MAX_SESSION_COOKIES_TRIED + 1,
                "authentication-failed",
                true,
                false
            )
        );
        let session = session.expect("loaded");
        assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
        // Untried plain duplicates: nothing is removed.
        let (written, response) = respond(&session, later(1));
        assert_eq!(written, Written::Nothing);
        assert!(response.is_empty());
    }

    /// A valid chunked session next to garbage plain cookies and tossed
    /// chunk cookies from `max_chunks` up: it loads, and the one event
    /// counts the plain cookies only (the tossed chunks are no session
    /// cookies, so nothing is rejected for them) and says that a session
    /// loaded. Without the garbage, or with only tossed chunks, nothing is
    /// logged.
    #[test]
    fn one_event_per_request_and_none_for_tossed_chunks() {
        let config = config(4);
        let valid = as_chunks(&sealed_chunks(&config, n_for(3), t0()));
        let tossed: Vec<(String, String)> = (4..70)
            .map(|k| (chunk_name(k), garbage(k as u64, 80)))
            .collect();
        let load_logged = |cookies: &[(String, String)]| {
            let headers = request(cookies);
            let mut session = None;
            let lines = captured(|| {
                session = Some(load(&config, &headers, later(1)));
            });
            (session.expect("loaded"), lines)
        };

        let mut cookies: Vec<(String, String)> = (0..3)
            .map(|i| (NAME.to_string(), garbage(200 + i, 120)))
            .collect();
        cookies.extend(tossed.iter().cloned());
        cookies.extend(valid.iter().cloned());
        let (session, lines) = load_logged(&cookies);
        assert_eq!(session.get(), Some(text(n_for(3))));
        let event = the_event(&lines);
        assert_eq!(
            event,
            event_line(true, 3, "authentication-failed", false, true)
        );

        let mut cookies = tossed.clone();
        cookies.extend(valid.iter().cloned());
        let (session, lines) = load_logged(&cookies);
        assert_eq!(session.get(), Some(text(n_for(3))));
        assert!(lines.is_empty(), "{lines:#?}");

        let (session, lines) = load_logged(&tossed);
        assert!(session.is_empty());
        assert_eq!(session.rejection(), None);
        assert!(lines.is_empty(), "{lines:#?}");

        // A routine rejection (an expired session) is a DEBUG event.
        let (session, lines) = {
            let headers = request(&valid);
            let mut session = None;
            let lines = captured(|| {
                session = Some(load(&config, &headers, later(LIFETIME.as_secs())));
            });
            (session.expect("loaded"), lines)
        };
        assert_eq!(
            session.rejection(),
            Some(Error::Expired {
                deadline: Deadline::Absolute
            })
        );
        let event = the_event(&lines);
        assert_eq!(
            event,
            event_line(false, 1, "expired-absolute", false, false)
        );
    }
}
