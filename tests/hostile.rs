//! Hostile inputs (issue 5, point 3), through `Codec::open*` and through
//! `SessionConfig::load` + `Session::write`: a 1 MB value, 10 000
//! cookies in one header, 5 000 duplicate session cookies, huge postcard
//! lengths and deep nesting inside tokens (unauthenticated, authenticated,
//! and sealed by the server itself through a `Serialize` that hides the
//! nesting), non-UTF-8 bytes and empty names; and, with chunking on,
//! 10 000 chunk cookies, forged chunk sets and 10 000 names past the last
//! chunk index.
//!
//! Hostile values, refused when sealing (issue 11): a value nested deeper
//! than `MAX_NESTING`, more zero-sized collection elements than payload
//! bytes, a field skipped by `skip_serializing_if` and a `flatten`ed field
//! never become a cookie, through `Codec::seal*`, `Session::try_insert` and
//! `Session::write`, so no cookie that the next request cannot open is
//! ever issued.
//!
//! Each is rejected with a typed error (or ignored, where the input is not
//! a session cookie at all), never panics, leaves the session empty, and
//! writes what the response should: a removal for a bad cookie that was
//! tried, nothing when duplicates were left untried (a removal could
//! delete a valid one among them) or when nothing was a session cookie.
//!
//! "No large allocation" is measured with `allocation_counter::measure`
//! (per thread, like `tests/allocations.rs`): loading a hostile header
//! allocates exactly what loading an innocent one does, or a bounded amount
//! that does not grow with the input. Work is bounded the same way: the
//! allocations for 5 000 duplicates equal those for nine. The AEAD attempts
//! per request are counted in `src/cookies/tests.rs`, and the time in
//! `benches/hostile.rs`; no test here asserts on time.
//!
//! Every codec here reads a manual clock standing at `common::t0()`: every
//! test seals, opens, loads and writes at that instant.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::UNIX_EPOCH;

use allocation_counter::{AllocationInfo, measure};
use cookie::Cookie;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[path = "support/common.rs"]
mod common;
#[path = "support/reference.rs"]
mod reference;

use common::set_cookies;
use sealed_session::error::{Malformed, Unserializable};
use sealed_session::limits::{
    DEFAULT_HEADER_BUDGET, DEFAULT_MAX_COOKIE_SIZE, MAX_NESTING, MAX_SESSION_COOKIES_TRIED,
};
use sealed_session::{
    Algorithm, Binding, Codec, Envelope, Error, KeyId, Keyring, OpenOptions, SealOptions, Session,
    SessionConfig, Written,
};

/// The only secret of these tests.
const SECRET: &str = "a hostile-input test secret, longer than 32 bytes";

/// One mebibyte.
const MB: usize = 1 << 20;

/// The cookie name of these tests (the default is `__Host-session`).
const NAME: &str = "session";

/// A codec with every setting at its default but the cookie name
/// [`NAME`] and the clock: 4096 bytes, a 30-minute idle timeout, a manual
/// clock at [`common::t0`] (every test seals and opens then).
fn codec() -> Codec {
    codec_sized(DEFAULT_MAX_COOKIE_SIZE)
}

/// [`codec`] with another maximum cookie size.
fn codec_sized(max_cookie_size: usize) -> Codec {
    Codec::builder(Keyring::new([SECRET]).expect("a valid secret"))
        .cookie_name(NAME)
        .max_cookie_size(max_cookie_size)
        .clock(common::clock())
        .build()
        .expect("valid settings")
}

/// Every attribute at its default around [`codec`].
fn config() -> SessionConfig {
    SessionConfig::new(codec())
}

/// The key id the codec seals under: that of a cookie it sealed.
fn key_id(codec: &Codec) -> KeyId {
    let cookie = codec.seal(&()).expect("seals");
    let key_id = codec.open::<()>(&cookie).expect("opens").key_id();
    // The format's derivation of the only secret gives the same id.
    assert_eq!(key_id.to_bytes(), reference::derive(SECRET, "").id);
    key_id
}

/// A new session's envelope, created now (at [`common::t0`]): that of a
/// cookie the codec sealed.
fn new_envelope(codec: &Codec) -> Envelope {
    let cookie = codec.seal(&()).expect("seals");
    *codec.open::<()>(&cookie).expect("opens").envelope()
}

/// Postcard's varint (LEB128) of `n`, through the reference.
fn varint_of(n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    reference::write_varint(&mut out, n);
    out
}

/// A small deterministic generator (xorshift64*), so that failures
/// reproduce.
struct Filler(u64);

impl Filler {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn fill(&mut self, out: &mut [u8]) {
        for byte in out {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            *byte = (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8;
        }
    }
}

/// A token with a valid header (version 1, a known algorithm, `key_id`), a
/// nonce, `body` as the "ciphertext" and an arbitrary tag: it passes every
/// check before the AEAD and fails that one.
fn forged(key_id: KeyId, algorithm: Algorithm, body: &[u8], seed: u64) -> String {
    let mut token = reference::header(algorithm.wire_id(), key_id.to_bytes()).to_vec();
    let mut nonce_and_tag = [0u8; 24 + 16];
    Filler::new(seed).fill(&mut nonce_and_tag);
    token.extend_from_slice(&nonce_and_tag[..24]);
    token.extend_from_slice(body);
    token.extend_from_slice(&nonce_and_tag[24..]);
    reference::encode(&token)
}

/// A forged token whose body is `len` pseudo-random bytes.
fn garbage(key_id: KeyId, len: usize, seed: u64) -> String {
    let mut body = vec![0u8; len];
    Filler::new(seed).fill(&mut body);
    forged(key_id, Algorithm::ALL[seed as usize % 2], &body, seed)
}

/// A request with one `Cookie` header holding these bytes.
fn request(bytes: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        COOKIE,
        HeaderValue::from_bytes(bytes).expect("a header value"),
    );
    headers
}

/// A request with one `Cookie` header per entry.
fn request_split<S: AsRef<[u8]>>(headers: &[S]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for header in headers {
        map.append(
            COOKIE,
            HeaderValue::from_bytes(header.as_ref()).expect("a header value"),
        );
    }
    map
}

/// `pairs` joined into one `Cookie` header.
fn joined(pairs: &[String]) -> HeaderMap {
    request(pairs.join("; ").as_bytes())
}

/// Loads once uncounted (so that one-time initialisation is not charged),
/// then once counting allocations on this thread.
fn counted_load<T: DeserializeOwned + 'static>(
    config: &SessionConfig,
    headers: &HeaderMap,
) -> (Session<T>, AllocationInfo) {
    drop(config.load::<T>(headers));
    let mut session = None;
    let info = measure(|| session = Some(config.load::<T>(headers)));
    (session.expect("ran"), info)
}

/// What a load allocated: count, total bytes and peak bytes.
fn footprint(info: &AllocationInfo) -> (u64, u64, u64) {
    (info.count_total, info.bytes_total, info.bytes_max)
}

/// What loading a request without any cookie allocates: the session
/// handle. Loads that reject or ignore their input before decoding
/// anything must allocate exactly this.
fn baseline<T: DeserializeOwned + 'static>(config: &SessionConfig) -> (u64, u64, u64) {
    footprint(&counted_load::<T>(config, &HeaderMap::new()).1)
}

/// Writes the session's response headers.
fn write<T: Serialize>(session: &Session<T>) -> (Written, HeaderMap) {
    let mut headers = HeaderMap::new();
    let written = session.write(&mut headers).expect("writes");
    (written, headers)
}

/// The response removes the session cookie, and does nothing else.
fn assert_removes<T: Serialize>(session: &Session<T>) {
    let (written, headers) = write(session);
    assert_eq!(written, Written::Removed);
    let all = set_cookies(&headers);
    assert_eq!(all.len(), 1);
    let cookie = &all[0];
    assert_eq!(cookie.name(), "session");
    assert_eq!(cookie.value(), "");
    assert_eq!(cookie.max_age(), Some(cookie::time::Duration::ZERO));
}

/// The response carries no `Set-Cookie`.
fn assert_writes_nothing<T: Serialize>(session: &Session<T>) {
    let (written, headers) = write(session);
    assert_eq!(written, Written::Nothing);
    assert!(headers.is_empty(), "{headers:?}");
}

/// Opens `value` as a `T` while counting allocations.
fn counted_open<T: DeserializeOwned + 'static>(
    codec: &Codec,
    value: &str,
) -> (Result<(), Error>, AllocationInfo) {
    let mut result = None;
    let info = measure(|| result = Some(codec.open::<T>(value).map(drop)));
    (result.expect("ran"), info)
}

#[test]
fn a_1_mb_value_is_rejected_by_the_size_check_before_decoding() {
    let codec = codec();
    let valid = codec.seal(&7u32).expect("seals");
    let values = [
        "A".repeat(MB),                                     // valid base64url
        "!".repeat(MB),                                     // not base64url
        format!("{valid}{}", "A".repeat(MB - valid.len())), // a valid prefix
    ];
    let too_large = Error::TooLarge {
        size: "session".len() + MB,
        limit: DEFAULT_MAX_COOKIE_SIZE,
    };
    for value in &values {
        assert_eq!(value.len(), MB);
        // Nothing at all is allocated: the size check comes before the
        // base64 decoding, which would allocate about 768 KB.
        let (result, info) = counted_open::<u32>(&codec, value);
        assert_eq!(result, Err(too_large.clone()));
        assert_eq!(info.count_total, 0, "{info:?}");
        let mut others = Vec::with_capacity(2);
        let info = measure(|| {
            others.push(codec.open_bytes(value, &OpenOptions::new()).map(drop));
            others.push(
                codec
                    .open_with::<u32>(value, &OpenOptions::new().binding(Binding::new(b"ctx")))
                    .map(drop),
            );
        });
        assert_eq!(others, vec![Err(too_large.clone()); 2]);
        assert_eq!(info.count_total, 0, "{info:?}");
    }
    // The limit is exact: one character less than the limit is decoded
    // (and fails later), one more is not.
    let limit = DEFAULT_MAX_COOKIE_SIZE - "session".len();
    let fits = garbage(key_id(&codec), 3000, 1);
    assert!(fits.len() < limit);
    let at_limit = format!("{fits}{}", "A".repeat(limit - fits.len()));
    let over = format!("{at_limit}A");
    assert!(!matches!(
        codec.open::<u32>(&at_limit),
        Err(Error::TooLarge { .. })
    ));
    assert_eq!(
        codec.open::<u32>(&over).map(drop),
        Err(Error::TooLarge {
            size: DEFAULT_MAX_COOKIE_SIZE + 1,
            limit: DEFAULT_MAX_COOKIE_SIZE
        })
    );
}

#[test]
fn a_1_mb_session_cookie_is_rejected_and_removed_without_allocating_for_it() {
    let config = config();
    let empty = baseline::<u32>(&config);
    let headers = request(format!("session={}", "A".repeat(MB)).as_bytes());
    let (session, info) = counted_load::<u32>(&config, &headers);
    assert!(session.is_empty());
    assert!(!session.was_loaded());
    assert_eq!(
        session.rejection(),
        Some(Error::TooLarge {
            size: "session".len() + MB,
            limit: DEFAULT_MAX_COOKIE_SIZE
        })
    );
    // Exactly what a request without cookies allocates (the handle).
    assert_eq!(footprint(&info), empty);
    assert!(info.bytes_max < 1024, "{info:?}");
    assert_removes(&session);
}

#[test]
fn a_1_mb_cookie_of_another_name_does_not_hide_the_session() {
    let config = config();
    let valid = config.codec().seal(&7u32).expect("seals");
    let alone = request(format!("session={valid}").as_bytes());
    let (_, expected) = counted_load::<u32>(&config, &alone);
    for header in [
        format!("big={}; session={valid}", "A".repeat(MB)),
        format!("session={valid}; big={}", "!".repeat(MB)),
        format!("sessionbig={}; session={valid}", "A".repeat(MB)),
    ] {
        let (session, info) = counted_load::<u32>(&config, &request(header.as_bytes()));
        assert_eq!(session.get(), Some(7));
        assert_eq!(session.rejection(), None);
        assert_eq!(footprint(&info), footprint(&expected));
        assert_writes_nothing(&session);
    }
}

/// 10 000 cookies of other names, some sharing the session name's prefix
/// or differing from it only in case.
fn ten_thousand_other_cookies() -> Vec<String> {
    (0..10_000)
        .map(|i| match i % 4 {
            0 => format!("c{i}=v{i}"),
            1 => format!("session{i}={}", "A".repeat(60)),
            2 => format!("SESSION=x{i}"),
            _ => format!("sessio=y{i}"),
        })
        .collect()
}

#[test]
fn ten_thousand_other_cookies_are_skipped_without_allocating() {
    let config = config();
    let empty = baseline::<u32>(&config);
    let pairs = ten_thousand_other_cookies();
    let (session, info) = counted_load::<u32>(&config, &joined(&pairs));
    assert!(session.is_empty());
    assert_eq!(session.rejection(), None);
    assert_eq!(footprint(&info), empty);
    assert_writes_nothing(&session);

    // One per header: the same.
    let (session, info) = counted_load::<u32>(&config, &request_split(&pairs));
    assert_eq!(session.rejection(), None);
    assert_eq!(footprint(&info), empty);

    // With the session cookie last, it is found and opened, at the cost of
    // opening it alone.
    let valid = config.codec().seal(&7u32).expect("seals");
    let (_, alone) = counted_load::<u32>(&config, &request(format!("session={valid}").as_bytes()));
    let mut with_session = pairs;
    with_session.push(format!("session={valid}"));
    let (session, info) = counted_load::<u32>(&config, &joined(&with_session));
    assert_eq!(session.get(), Some(7));
    assert_eq!(footprint(&info), footprint(&alone));
    assert_writes_nothing(&session);
}

#[test]
fn ten_thousand_malformed_session_cookies_cost_as_much_as_nine() {
    let config = config();
    let pairs = |n: usize| -> Vec<String> { (0..n).map(|i| format!("session=*{i}*")).collect() };
    let (session, many) = counted_load::<u32>(&config, &joined(&pairs(10_000)));
    assert!(session.is_empty());
    assert_eq!(
        session.rejection(),
        Some(Error::Malformed(Malformed::Encoding))
    );
    // Untried duplicates: no removal, which could delete a valid one.
    assert_writes_nothing(&session);
    let (_, nine) = counted_load::<u32>(&config, &joined(&pairs(MAX_SESSION_COOKIES_TRIED + 1)));
    assert_eq!(footprint(&many), footprint(&nine));
}

#[test]
fn five_thousand_duplicates_are_rejected_with_bounded_work() {
    let config = config();
    let id = key_id(config.codec());
    let pairs = |n: usize| -> Vec<String> {
        (0..n)
            .map(|i| format!("session={}", garbage(id, 100, i as u64)))
            .collect()
    };
    let empty = baseline::<u32>(&config);
    let five_thousand = pairs(5_000);
    for headers in [joined(&five_thousand), request_split(&five_thousand)] {
        let (session, info) = counted_load::<u32>(&config, &headers);
        assert!(session.is_empty());
        assert!(!session.was_loaded());
        assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
        // One decoded token per cookie tried, each freed before the next,
        // whatever the number of duplicates.
        assert_eq!(
            info.count_total,
            empty.0 + MAX_SESSION_COOKIES_TRIED as u64,
            "{info:?}"
        );
        assert!(info.bytes_max < empty.2 + 1024, "{info:?}");
        let (_, nine) =
            counted_load::<u32>(&config, &joined(&pairs(MAX_SESSION_COOKIES_TRIED + 1)));
        assert_eq!(footprint(&info), footprint(&nine));
        assert_writes_nothing(&session);
    }

    // Exactly the limit: every one was tried, so the cookie is removed.
    let (session, _) = counted_load::<u32>(&config, &joined(&pairs(MAX_SESSION_COOKIES_TRIED)));
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
    assert_removes(&session);

    // A valid cookie in front of the 5 000 wins.
    let valid = config.codec().seal(&7u32).expect("seals");
    let mut with_valid = vec![format!("session={valid}")];
    with_valid.extend(five_thousand);
    let (session, _) = counted_load::<u32>(&config, &joined(&with_valid));
    assert_eq!(session.get(), Some(7));
    assert_eq!(session.rejection(), None);
    assert_writes_nothing(&session);
}

/// A plausible plaintext: an envelope (the creation time, the 12-hour
/// lifetime and the time since creation of the last seal as varints, a
/// 4-byte schema id, a 16-byte id) followed by `payload`.
fn plaintext(payload: &[u8]) -> Vec<u8> {
    let t0 = common::t0()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    reference::plaintext(t0, 12 * 3600, 0, &[0xa5; 4], &[0x5a; 16], payload)
}

/// Payloads whose postcard claims a length far beyond the cookie.
fn huge_length_payloads() -> Vec<Vec<u8>> {
    [1u64 << 32, 1 << 60, u64::MAX]
        .into_iter()
        .flat_map(|n| {
            let mut trailing = varint_of(n);
            trailing.extend([0xff; 32]);
            [varint_of(n), trailing]
        })
        .collect()
}

#[test]
fn an_unauthenticated_huge_length_is_never_read() {
    let codec = codec();
    let config = SessionConfig::new(codec.clone());
    for (i, payload) in huge_length_payloads().iter().enumerate() {
        for algorithm in Algorithm::ALL {
            let value = forged(key_id(&codec), algorithm, &plaintext(payload), i as u64);
            // Authentication fails before the payload is looked at, so the
            // only allocation is the decoded token, whatever type it is
            // opened as.
            let results = [
                counted_open::<Vec<u8>>(&codec, &value),
                counted_open::<String>(&codec, &value),
                counted_open::<HashMap<u64, u64>>(&codec, &value),
                counted_open::<Vec<Vec<u64>>>(&codec, &value),
            ];
            for (result, info) in results {
                assert_eq!(result, Err(Error::AuthenticationFailed));
                assert_eq!((info.count_total, info.count_current), (1, 0));
                assert!(info.bytes_total <= value.len() as u64, "{info:?}");
            }
            let (session, info) = counted_load::<HashMap<u64, u64>>(
                &config,
                &request(format!("session={value}").as_bytes()),
            );
            assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
            assert!(session.is_empty());
            assert!(info.bytes_max < 1024, "{info:?}");
            assert_removes(&session);
        }
    }
}

/// Opens an authenticated `payload` as a `T`: it must fail to deserialize,
/// allocating nothing beyond the size of the cookie.
fn assert_authenticated_payload_rejected<T: DeserializeOwned + 'static>(
    codec: &Codec,
    payload: &[u8],
) {
    let envelope = new_envelope(codec);
    let value = codec
        .seal_bytes(payload, &SealOptions::new().envelope(envelope))
        .expect("fits");
    let (result, info) = counted_open::<T>(codec, &value);
    let ty = std::any::type_name::<T>();
    assert_eq!(result, Err(Error::Deserialize), "{ty}, {payload:02x?}");
    assert!(
        info.bytes_max <= 2 * value.len() as u64,
        "{ty}, {payload:02x?}: {info:?}"
    );
    assert_eq!(info.count_current, 0);
}

#[test]
fn an_authenticated_huge_length_fails_to_deserialize_without_a_large_allocation() {
    let codec = codec();
    for payload in huge_length_payloads() {
        assert_authenticated_payload_rejected::<Vec<u8>>(&codec, &payload);
        assert_authenticated_payload_rejected::<Vec<u64>>(&codec, &payload);
        assert_authenticated_payload_rejected::<String>(&codec, &payload);
        assert_authenticated_payload_rejected::<Box<[u8]>>(&codec, &payload);
        assert_authenticated_payload_rejected::<Vec<String>>(&codec, &payload);
        assert_authenticated_payload_rejected::<Vec<Vec<u8>>>(&codec, &payload);
        assert_authenticated_payload_rejected::<HashSet<u64>>(&codec, &payload);
        assert_authenticated_payload_rejected::<VecDeque<u64>>(&codec, &payload);
        assert_authenticated_payload_rejected::<BTreeMap<u64, u64>>(&codec, &payload);
        // Inside a struct-like tuple, after a first field.
        let mut nested = vec![7];
        nested.extend_from_slice(&payload);
        assert_authenticated_payload_rejected::<(u8, Vec<u32>)>(&codec, &nested);
        assert_authenticated_payload_rejected::<(u8, String)>(&codec, &nested);
    }

    // Through the http helper: rejected, empty, removed.
    let config = SessionConfig::new(codec.clone());
    let envelope = new_envelope(&codec);
    let value = codec
        .seal_bytes(&varint_of(1 << 60), &SealOptions::new().envelope(envelope))
        .expect("fits");
    let (session, info) =
        counted_load::<Vec<String>>(&config, &request(format!("session={value}").as_bytes()));
    assert_eq!(session.rejection(), Some(Error::Deserialize));
    assert!(session.is_empty());
    assert!(info.bytes_max < 1024, "{info:?}");
    assert_removes(&session);
}

/// serde sizes a `HashMap` from the length the format reports for a map,
/// capped at 1 MiB worth of entries, and postcard reports the claimed map
/// length even when the input is far too short for it (it does not for
/// sequences): plain postcard preallocates about 2.2 MB for an
/// authenticated map length of 2^32 or more. The codec's decoding drops a
/// size hint the payload cannot cover (`src/payload/de.rs`).
#[test]
fn an_authenticated_huge_map_length_does_not_preallocate() {
    let codec = codec();
    for payload in huge_length_payloads() {
        assert_authenticated_payload_rejected::<HashMap<u64, u64>>(&codec, &payload);
        assert_authenticated_payload_rejected::<HashMap<String, Vec<u8>>>(&codec, &payload);
        // Postcard alone would: this test can tell.
        let info = measure(|| drop(postcard::take_from_bytes::<HashMap<u64, u64>>(&payload)));
        assert!(info.bytes_max > MB as u64, "{info:?}");
    }
}

#[test]
fn an_authenticated_huge_count_of_zero_sized_elements_is_refused() {
    // Plain postcard would loop 2^60 times; the element budget (one per
    // payload byte) stops it after as many elements as the payload has
    // bytes.
    let codec = codec();
    for payload in huge_length_payloads() {
        assert_authenticated_payload_rejected::<Vec<()>>(&codec, &payload);
        assert_authenticated_payload_rejected::<HashSet<()>>(&codec, &payload);
    }
}

/// A recursive session type: each `Branch` is one level of nesting
/// (a newtype variant) and one byte of postcard.
///
/// Deserialized as derived. Serialized and dropped without recursion (to
/// exactly the bytes the derived `Serialize` writes; checked below), so
/// that a test thread can build, seal and drop one 40 000 levels deep, as
/// a release build of a server can with the derived impls.
#[derive(Debug, Deserialize)]
enum Node {
    Leaf,
    Branch(Box<Node>),
}

impl Node {
    /// A chain of `depth` branches.
    fn new(depth: usize) -> Self {
        (0..depth).fold(Node::Leaf, |inner, _| Node::Branch(Box::new(inner)))
    }

    fn depth(&self) -> usize {
        let mut depth = 0;
        let mut node = self;
        while let Node::Branch(inner) = node {
            depth += 1;
            node = inner;
        }
        depth
    }
}

impl Serialize for Node {
    /// Variant index 1 (`Branch`) per level, then 0 (`Leaf`), each a
    /// one-byte varint; postcard writes a tuple's elements back to back.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple as _;
        let depth = self.depth();
        let mut tuple = serializer.serialize_tuple(depth + 1)?;
        for _ in 0..depth {
            tuple.serialize_element(&1u8)?;
        }
        tuple.serialize_element(&0u8)?;
        tuple.end()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let Node::Branch(inner) = self else {
            return;
        };
        let mut next = std::mem::replace(&mut **inner, Node::Leaf);
        while let Node::Branch(inner) = &mut next {
            let deeper = std::mem::replace(&mut **inner, Node::Leaf);
            // Drops a branch with a leaf inside.
            next = deeper;
        }
    }
}

/// `Node` with the derived `Serialize`, to check the hand-written one.
#[derive(Serialize)]
enum DerivedNode {
    Leaf,
    Branch(Box<DerivedNode>),
}

#[test]
fn the_test_node_serializes_as_derived() {
    let mut derived = DerivedNode::Leaf;
    for depth in 0..=300 {
        assert_eq!(
            postcard::to_allocvec(&Node::new(depth)).expect("serializes"),
            postcard::to_allocvec(&derived).expect("serializes"),
            "{depth}"
        );
        derived = DerivedNode::Branch(Box::new(derived));
    }
}

/// The deepest `Node` a 4096-byte cookie named `session` holds is 2 981
/// levels (one byte each, and the leaf), which plain postcard decodes on a
/// test thread; the codec refuses anything past `MAX_NESTING` levels, at
/// the level where it passes the limit.
#[test]
fn the_deepest_nesting_a_cookie_holds_is_rejected() {
    let codec = codec();
    let deepest = codec.max_payload_len();
    // 4089 characters hold 3066 bytes; less the 46 bytes of header, nonce
    // and tag and the longest envelope (three 6-byte times, the 4-byte
    // schema id and the 16-byte session id).
    assert_eq!(deepest, 3066 - 46 - (3 * 6 + 4 + 16));
    assert_eq!(deepest, 2982);
    // Under the default name, `__Host-session`, 7 bytes longer: 2977.
    let default = Codec::new(Keyring::new([SECRET]).expect("a valid secret"));
    assert_eq!(default.cookie_name(), "__Host-session");
    assert_eq!(default.max_payload_len(), 2977);
    let envelope = new_envelope(&codec);
    // Never terminated: the input ends inside the deepest branch.
    let unterminated = vec![1u8; deepest];
    assert_authenticated_payload_rejected::<Node>(&codec, &unterminated);
    // Terminated by a leaf: well-formed, too deep.
    let mut terminated = vec![1u8; deepest - 1];
    terminated.push(0);
    assert_eq!(
        postcard::from_bytes::<Node>(&terminated)
            .expect("plain postcard decodes it")
            .depth(),
        deepest - 1
    );
    assert_authenticated_payload_rejected::<Node>(&codec, &terminated);
    // An unknown variant index at the bottom.
    let mut bad_variant = vec![1u8; deepest - 1];
    bad_variant.push(2);
    assert_authenticated_payload_rejected::<Node>(&codec, &bad_variant);
    // At the limit, it opens.
    let mut at_limit = vec![1u8; MAX_NESTING];
    at_limit.push(0);
    let value = codec
        .seal_bytes(&at_limit, &SealOptions::new().envelope(envelope))
        .expect("fits");
    let opened = codec.open::<Node>(&value).expect("opens");
    assert_eq!(opened.value().depth(), MAX_NESTING);

    // Through the http helper.
    let config = SessionConfig::new(codec.clone());
    for payload in [unterminated, terminated] {
        let value = codec
            .seal_bytes(&payload, &SealOptions::new().envelope(envelope))
            .expect("fits");
        let session = config.load::<Node>(&request(format!("session={value}").as_bytes()));
        assert_eq!(session.rejection(), Some(Error::Deserialize));
        assert!(session.is_empty());
        assert_removes(&session);
    }
}

/// The `Cookie` header a browser sends back after this response.
fn cookie_header(response: &HeaderMap) -> HeaderMap {
    let pairs: Vec<String> = set_cookies(response)
        .iter()
        .filter(|c| !c.value().is_empty())
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    assert!(!pairs.is_empty());
    joined(&pairs)
}

/// The server itself seals a `Node` `depth` levels deep (from user data,
/// say) with `config`; the next request carries it back. Returns that
/// request's session and the number of cookies the seal took.
fn seal_then_load(config: &SessionConfig, depth: usize) -> (Session<Node>, usize) {
    let session = config.load::<Node>(&HeaderMap::new());
    assert_eq!(session.try_insert(Node::new(depth)).map(drop), Ok(()));
    let (written, response) = write(&session);
    assert_eq!(written, Written::Set);
    let header = cookie_header(&response);
    // The cookies set, not the removals a chunked write adds.
    let cookies = header
        .get(COOKIE)
        .expect("a Cookie header")
        .to_str()
        .expect("ASCII")
        .split("; ")
        .count();
    let next = config.load::<Node>(&header);
    (next, cookies)
}

/// `Node`'s hand-written `Serialize` writes a flat tuple of bytes, so the
/// seal-time check sees one level, not the nesting its `Deserialize` reads
/// (as with any `Serialize` that does not mirror its `Deserialize`, or a
/// cookie sealed by another implementation): such a value is sealed, and
/// the decoding limit is what stops it on the next request. (A value whose
/// derived `Serialize` shows the nesting is refused when sealing:
/// `a_value_nested_past_max_nesting_is_refused_when_sealing`.)
#[test]
fn a_value_the_server_sealed_too_deep_is_rejected_and_removed() {
    // At the limit, the session round-trips.
    let (session, cookies) = seal_then_load(&config(), MAX_NESTING);
    assert_eq!(cookies, 1);
    assert_eq!(session.rejection(), None);
    assert_eq!(session.with(|n| n.map(Node::depth)), Some(MAX_NESTING));
    assert_writes_nothing(&session);

    // Just past it: sealed, then rejected as undecodable on the next
    // request, the session empty and its cookie removed.
    let (session, cookies) = seal_then_load(&config(), MAX_NESTING + 1);
    assert_eq!(cookies, 1);
    assert_eq!(session.rejection(), Some(Error::Deserialize));
    assert!(session.is_empty());
    assert!(!session.was_loaded());
    assert_removes(&session);

    // Spread over chunks within the default header budget: deep enough to
    // overflow the stack of a debug build without the limit.
    let (session, cookies) = seal_then_load(&chunked_config(), 5_800);
    assert!(cookies >= 2, "{cookies}");
    assert_eq!(session.rejection(), Some(Error::Deserialize));
    assert!(session.is_empty());
    assert_removes_chunks(&session, 0..cookies);

    // 40 000 levels in one 65 536-byte cookie: deep enough to overflow a
    // 2 MiB stack in a release build without the limit.
    let (session, cookies) = seal_then_load(&SessionConfig::new(codec_sized(65_536)), 40_000);
    assert_eq!(cookies, 1);
    assert_eq!(session.rejection(), Some(Error::Deserialize));
    assert!(session.is_empty());
    assert_removes(&session);
}

/// Pairs that are not UTF-8, have an empty name, no `=`, or are empty.
const JUNK: [&[u8]; 12] = [
    b"\xff\xfe=\x80",
    b"bin=\xc3\x28",
    b"\x80\x81",
    b"=v",
    b"=",
    b"",
    b" ",
    b"novalue",
    b"session",
    b"=session",
    b"session\xff=x",
    b"session=\xff\xfe",
];

#[test]
fn non_utf8_bytes_and_empty_names_do_not_hide_a_valid_session() {
    let config = config();
    let valid = config.codec().seal(&7u32).expect("seals");
    let session_pair = format!("session={valid}");
    for junk in JUNK {
        let before: Vec<u8> = [junk, b"; ", session_pair.as_bytes()].concat();
        let after: Vec<u8> = [session_pair.as_bytes(), b";", junk, b";"].concat();
        for headers in [
            request(&before),
            request(&after),
            request_split(&[junk, session_pair.as_bytes()]),
        ] {
            let session = config.load::<u32>(&headers);
            assert_eq!(session.get(), Some(7), "{junk:02x?}");
            assert!(session.was_loaded());
            assert_eq!(session.rejection(), None, "{junk:02x?}");
            assert_writes_nothing(&session);
        }
    }
    // All the junk at once, and a megabyte of bytes that are not UTF-8.
    let mut all = JUNK.join(&b';');
    all.extend_from_slice(b"; ");
    all.extend_from_slice(session_pair.as_bytes());
    all.extend_from_slice(b"; ");
    all.extend(std::iter::repeat_n(0xa0u8, MB));
    let (_, alone) = counted_load::<u32>(&config, &request(session_pair.as_bytes()));
    let (session, info) = counted_load::<u32>(&config, &request(&all));
    assert_eq!(session.get(), Some(7));
    assert_eq!(footprint(&info), footprint(&alone));
}

#[test]
fn junk_alone_is_no_session_cookie() {
    let config = config();
    let empty = baseline::<u32>(&config);
    // None of these is a well-formed pair named `session`, so the request
    // has no session cookie: nothing to reject, nothing to remove. (A
    // session cookie whose value is not UTF-8 is skipped like any pair that
    // is not UTF-8.)
    for junk in JUNK {
        let (session, info) = counted_load::<u32>(&config, &request(junk));
        assert!(session.is_empty());
        assert_eq!(session.rejection(), None, "{junk:02x?}");
        assert_eq!(footprint(&info), empty, "{junk:02x?}");
        assert_writes_nothing(&session);
    }
    // Separators only, many of them.
    for header in [";".repeat(100_000), "; ".repeat(100_000), " ".repeat(MB)] {
        let (session, info) = counted_load::<u32>(&config, &request(header.as_bytes()));
        assert_eq!(session.rejection(), None);
        assert_eq!(footprint(&info), empty);
        assert_writes_nothing(&session);
    }
    // A session cookie with an empty value is a session cookie: rejected
    // as truncated and removed.
    let session = config.load::<u32>(&request(b"session="));
    assert_eq!(
        session.rejection(),
        Some(Error::Malformed(Malformed::Truncated))
    );
    assert_removes(&session);
    // A valid token under an empty name is not the session.
    let valid = config.codec().seal(&7u32).expect("seals");
    let session = config.load::<u32>(&request(format!("={valid}").as_bytes()));
    assert!(session.is_empty());
    assert_eq!(session.rejection(), None);
}

/// Sessions spread over up to four cookies, default header budget.
fn chunked_config() -> SessionConfig {
    SessionConfig::builder(codec())
        .max_chunks(4)
        .build()
        .expect("valid chunking settings")
}

/// The response only removes cookies: exactly the plain name and the chunk
/// names `session.k` for `indexes`, each once.
fn assert_removes_chunks<T: Serialize>(
    session: &Session<T>,
    indexes: impl IntoIterator<Item = usize>,
) {
    let (written, headers) = write(session);
    assert_eq!(written, Written::Removed);
    let removals: Vec<Cookie<'static>> = set_cookies(&headers);
    for cookie in &removals {
        assert_eq!(cookie.value(), "", "{cookie}");
        assert_eq!(
            cookie.max_age(),
            Some(cookie::time::Duration::ZERO),
            "{cookie}"
        );
    }
    let mut names: Vec<String> = removals.iter().map(|c| c.name().to_owned()).collect();
    names.sort();
    let mut expected: Vec<String> = std::iter::once("session".to_owned())
        .chain(indexes.into_iter().map(|k| format!("session.{k}")))
        .collect();
    expected.sort();
    assert_eq!(names, expected);
}

/// Ten thousand chunk cookies, `session.0` to `session.9999`: only the
/// chunks below `max_chunks` (4) are read, the rest are other cookies. The
/// load costs exactly what the four alone cost (one join and one decoded
/// token, refused by the AEAD), and the response removes only them and the
/// plain name: `max_chunks + 1` removals, whatever the request carried.
/// Ten thousand cookies repeating the indexes below `max_chunks` are
/// refused as malformed before anything is joined or allocated.
#[test]
fn ten_thousand_chunk_cookies_cost_what_the_chunks_below_max_chunks_cost() {
    let plain = config();
    let config = chunked_config();
    let empty = baseline::<u32>(&config);
    let id = key_id(config.codec());
    // Chunks 0 to 3 carry a forged token that reaches the AEAD.
    let forged = garbage(id, 600, 3);
    let pieces: Vec<&str> = (0..4)
        .map(|k| &forged[k * forged.len() / 4..(k + 1) * forged.len() / 4])
        .collect();
    let value = |i: usize| match pieces.get(i) {
        Some(piece) => (*piece).to_string(),
        None => garbage(id, 40, i as u64),
    };
    let many: Vec<String> = (0..10_000)
        .map(|i| format!("session.{i}={}", value(i)))
        .collect();
    let (session, info) = counted_load::<u32>(&config, &joined(&many));
    assert!(session.is_empty());
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
    let (alone, four) = counted_load::<u32>(&config, &joined(&many[..4]));
    assert_eq!(alone.rejection(), Some(Error::AuthenticationFailed));
    assert_eq!(footprint(&info), footprint(&four));
    // The handle, the joined text and the decoded token.
    assert_eq!(info.count_total, empty.0 + 2, "{info:?}");
    assert_removes_chunks(&session, 0..4);

    // The indexes below max_chunks, each 2 500 times: malformed. The chunk
    // values are remembered in a fixed array: nothing is allocated for
    // them, and nothing is joined or decoded.
    let repeated: Vec<String> = (0..10_000)
        .map(|i| format!("session.{}={}", i % 4, value(i % 4)))
        .collect();
    let (session, info) = counted_load::<u32>(&config, &joined(&repeated));
    assert_eq!(
        session.rejection(),
        Some(Error::Malformed(Malformed::Chunks))
    );
    assert_eq!(footprint(&info), empty);
    assert_removes_chunks(&session, 0..4);

    // Chunk cookies of a configuration without chunking are other cookies.
    let (session, info) = counted_load::<u32>(&plain, &joined(&many));
    assert_eq!(session.rejection(), None);
    assert_eq!(footprint(&info), baseline::<u32>(&plain));
    assert_writes_nothing(&session);
}

#[test]
fn a_forged_chunk_set_costs_at_most_the_budget() {
    let config = chunked_config();
    let id = key_id(config.codec());
    // Two chunks that join into a token too long for one cookie.
    let long = garbage(id, 4_500, 9);
    let chunks = vec![
        format!("session.0={}", &long[..4_000]),
        format!("session.1={}", &long[4_000..]),
    ];
    let (session, info) = counted_load::<u32>(&config, &joined(&chunks));
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
    // The handle, the joined text and its decoded token; the joined text
    // is within the header budget.
    assert!(info.count_total <= 3, "{info:?}");
    assert!(
        info.bytes_max <= (2 * DEFAULT_HEADER_BUDGET) as u64,
        "{info:?}"
    );
    assert_removes_chunks(&session, [0, 1]);

    // Behind 5 000 plain duplicates: the same as behind nine.
    let pairs = |n: usize| -> Vec<String> {
        let mut pairs: Vec<String> = (0..n)
            .map(|i| format!("session={}", garbage(id, 100, i as u64)))
            .collect();
        pairs.extend(chunks.iter().cloned());
        pairs
    };
    let (session, many) = counted_load::<u32>(&config, &joined(&pairs(5_000)));
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
    let (_, nine) = counted_load::<u32>(&config, &joined(&pairs(MAX_SESSION_COOKIES_TRIED + 1)));
    assert_eq!(footprint(&many), footprint(&nine));

    // A chunk set larger than the budget is refused before it is joined.
    let huge = garbage(id, 9_000, 10);
    let over: Vec<String> = huge
        .as_bytes()
        .chunks(4_000)
        .enumerate()
        .map(|(i, part)| format!("session.{i}={}", std::str::from_utf8(part).expect("ASCII")))
        .collect();
    assert_eq!(over.len(), 4);
    let (session, info) = counted_load::<u32>(&config, &joined(&over));
    assert!(
        matches!(session.rejection(), Some(Error::TooLarge { limit, .. }) if limit == DEFAULT_HEADER_BUDGET),
        "{:?}",
        session.rejection()
    );
    assert_eq!(footprint(&info), baseline::<u32>(&config));
}

/// Ten thousand cookies named `session.64` and up (and indexes too long
/// for any integer) are other cookies: not read, not rejected, not removed,
/// nothing allocated for them; next to a valid chunk set they spoil
/// nothing.
#[test]
fn ten_thousand_names_past_63_are_other_cookies() {
    let config = chunked_config();
    let id = key_id(config.codec());
    let others: Vec<String> = (64..10_064)
        .map(|i| format!("session.{i}={}", garbage(id, 40, i as u64)))
        .chain((0..100).map(|i| format!("session.{}{i}=AAAA", "9".repeat(30))))
        .collect();
    let (session, info) = counted_load::<u32>(&config, &joined(&others));
    assert!(session.is_empty());
    assert_eq!(session.rejection(), None);
    assert_eq!(footprint(&info), baseline::<u32>(&config));
    assert_writes_nothing(&session);

    // A valid two-chunk session among them.
    let sealer = config.load::<String>(&HeaderMap::new());
    sealer.insert("x".repeat(4_000));
    let (written, headers) = write(&sealer);
    assert_eq!(written, Written::Set);
    let chunks: Vec<String> = set_cookies(&headers)
        .iter()
        .filter(|c| c.max_age() != Some(cookie::time::Duration::ZERO))
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    assert_eq!(chunks.len(), 2);
    assert!(chunks[0].starts_with("session.0=") && chunks[1].starts_with("session.1="));
    let mut pairs = others;
    pairs.insert(5_000, chunks[1].clone());
    pairs.insert(0, chunks[0].clone());
    let session = config.load::<String>(&joined(&pairs));
    assert_eq!(session.rejection(), None);
    assert_eq!(session.get(), Some("x".repeat(4_000)));
    assert_eq!(session.id(), sealer.id());
    assert_writes_nothing(&session);
}

// ---------------------------------------------------------------------------
// Values refused when sealing
// ---------------------------------------------------------------------------

/// A recursive session type with the derived impls: each `Branch` is one
/// level of nesting (a newtype variant), `Leaf` none. Dropped without
/// recursion, so that a test thread can build and drop 40 000 levels;
/// serializing it recurses only until the seal-time check stops it.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Deep {
    Leaf,
    Branch(Box<Deep>),
}

impl Deep {
    /// A chain of `depth` branches.
    fn new(depth: usize) -> Self {
        (0..depth).fold(Deep::Leaf, |inner, _| Deep::Branch(Box::new(inner)))
    }

    fn depth(&self) -> usize {
        let mut depth = 0;
        let mut node = self;
        while let Deep::Branch(inner) = node {
            depth += 1;
            node = inner;
        }
        depth
    }
}

impl Drop for Deep {
    fn drop(&mut self) {
        let Deep::Branch(inner) = self else {
            return;
        };
        let mut next = std::mem::replace(&mut **inner, Deep::Leaf);
        while let Deep::Branch(inner) = &mut next {
            let deeper = std::mem::replace(&mut **inner, Deep::Leaf);
            next = deeper;
        }
    }
}

/// A session type with a field `skip_serializing_if` may skip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Profile {
    #[serde(skip_serializing_if = "Option::is_none")]
    nickname: Option<String>,
    visits: u32,
}

/// A session type with a flattened field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Flattened {
    user: u32,
    #[serde(flatten)]
    settings: Settings,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Settings {
    theme: String,
}

/// A zero-sized element that is not `()`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Marker;

/// `Codec::seal` and `Codec::seal_with` (into an existing session, into it
/// bound, a new bound session) all refuse `value` with
/// `Error::Serialize(reason)`, allocating nothing: the size pass runs
/// before anything is allocated, encrypted or drawn.
fn assert_codec_refuses<T: Serialize>(codec: &Codec, value: &T, reason: Unserializable) {
    let ty = std::any::type_name::<T>();
    let envelope = new_envelope(codec);
    let binding = Binding::new(b"ctx");
    let mut results = Vec::with_capacity(4);
    let info = measure(|| {
        results.push(codec.seal(value));
        results.push(codec.seal_with(value, &SealOptions::new().envelope(envelope)));
        results.push(codec.seal_with(
            value,
            &SealOptions::new().envelope(envelope).binding(binding),
        ));
        results.push(codec.seal_with(value, &SealOptions::new().binding(binding)));
    });
    assert_eq!(results, vec![Err(Error::Serialize(reason)); 4], "{ty}");
    assert_eq!(info.count_total, 0, "{ty}: {info:?}");
}

/// Seals `value` with `codec` and opens it again to an equal value.
fn assert_round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug + 'static>(
    codec: &Codec,
    value: &T,
) {
    let cookie = codec.seal(value).expect("seals");
    let opened = codec.open::<T>(&cookie).expect("opens");
    assert_eq!(opened.value(), value);
}

/// Through the http helper, under `config`: a session holding `old`
/// (written, and carried back by the next request) refuses `bad()` with
/// `Error::Serialize(reason)`: `try_insert` leaves it unchanged (same value,
/// same id, nothing to write), and an unchecked `insert` fails at `write`
/// with nothing appended, so the browser keeps its cookie, which still
/// opens to `old`. A new session refuses it the same way and stays new.
fn assert_session_refuses<T>(
    config: &SessionConfig,
    old: &T,
    bad: impl Fn() -> T,
    reason: Unserializable,
) where
    T: Serialize + DeserializeOwned + Clone + PartialEq + std::fmt::Debug + 'static,
{
    let ty = std::any::type_name::<T>();
    let refused = Err(Error::Serialize(reason));
    let first = config.load::<T>(&HeaderMap::new());
    assert_eq!(first.try_insert(old.clone()).map(drop), Ok(()), "{ty}");
    let (written, response) = write(&first);
    assert_eq!(written, Written::Set, "{ty}");
    let carried = cookie_header(&response);

    let session = config.load::<T>(&carried);
    assert_eq!(session.get().as_ref(), Some(old), "{ty}");
    let id = session.id();
    assert_eq!(id, first.id(), "{ty}");
    assert_eq!(session.try_insert(bad()).map(drop), refused, "{ty}");
    assert_eq!(session.get().as_ref(), Some(old), "{ty}: unchanged");
    assert_eq!(session.id(), id, "{ty}");
    assert!(!session.needs_write(), "{ty}: nothing to write");
    assert_writes_nothing(&session);

    session.insert(bad());
    let mut headers = HeaderMap::new();
    assert_eq!(
        session.write(&mut headers),
        Err(Error::Serialize(reason)),
        "{ty}"
    );
    assert!(headers.is_empty(), "{ty}: nothing written");
    let again = config.load::<T>(&carried);
    assert_eq!(again.rejection(), None, "{ty}");
    assert_eq!(
        again.get().as_ref(),
        Some(old),
        "{ty}: the old cookie still opens"
    );

    assert_new_session_refuses(config, bad, reason);
}

/// A new session (no cookie) refuses `bad()` with `Error::Serialize(reason)`
/// through `try_insert` (it stays new: no value, no id, nothing to write)
/// and through `write` (nothing appended).
fn assert_new_session_refuses<T: Serialize + DeserializeOwned + 'static>(
    config: &SessionConfig,
    bad: impl Fn() -> T,
    reason: Unserializable,
) {
    let ty = std::any::type_name::<T>();
    let fresh = config.load::<T>(&HeaderMap::new());
    assert_eq!(
        fresh.try_insert(bad()).map(drop),
        Err(Error::Serialize(reason)),
        "{ty}"
    );
    assert!(fresh.is_empty(), "{ty}");
    assert_eq!(fresh.envelope(), None, "{ty}: no session was started");
    assert!(!fresh.needs_write(), "{ty}");
    assert_writes_nothing(&fresh);
    fresh.insert(bad());
    let mut headers = HeaderMap::new();
    assert_eq!(
        fresh.write(&mut headers),
        Err(Error::Serialize(reason)),
        "{ty}"
    );
    assert!(headers.is_empty(), "{ty}");
}

/// A value nested deeper than `MAX_NESTING` (with the derived impls) is
/// refused when sealing, whatever room the cookie has (one 4096-byte
/// cookie, chunks, one 65 536-byte cookie) and however deep: it used to be
/// sealed and then fail to open on the next request. At the limit it
/// seals and opens.
#[test]
fn a_value_nested_past_max_nesting_is_refused_when_sealing() {
    let at_limit = Deep::new(MAX_NESTING);
    let sealer = codec();
    let cookie = sealer.seal(&at_limit).expect("seals");
    let opened = sealer.open::<Deep>(&cookie).expect("opens");
    assert_eq!(opened.value().depth(), MAX_NESTING);

    for sealer in [sealer, codec_sized(65_536)] {
        for depth in [MAX_NESTING + 1, MAX_NESTING + 2, 1_000, 40_000] {
            assert_codec_refuses(&sealer, &Deep::new(depth), Unserializable::TooDeep);
        }
    }
    // The same nesting inside other values: an `Option`, a tuple and a
    // `Vec` each add one level, so `MAX_NESTING - 1` branches inside one
    // of them are at the limit.
    let codec = codec();
    assert_round_trips(&codec, &Some(Deep::new(MAX_NESTING - 1)));
    assert_codec_refuses(
        &codec,
        &Some(Deep::new(MAX_NESTING)),
        Unserializable::TooDeep,
    );
    assert_codec_refuses(
        &codec,
        &(1u8, Deep::new(MAX_NESTING)),
        Unserializable::TooDeep,
    );
    assert_codec_refuses(
        &codec,
        &vec![Deep::new(MAX_NESTING)],
        Unserializable::TooDeep,
    );

    // Through the http helper, with and without chunks.
    let chunked = chunked_config();
    for config in [config(), chunked] {
        let session = config.load::<Deep>(&HeaderMap::new());
        assert_eq!(
            session.try_insert(Deep::new(5_800)).map(drop),
            Err(Error::Serialize(Unserializable::TooDeep))
        );
        assert!(session.is_empty());
        assert_writes_nothing(&session);
    }
}

/// `Deep` has no `Clone`; the session check needs one.
impl Clone for Deep {
    fn clone(&self) -> Self {
        Deep::new(self.depth())
    }
}

/// A too-deep value is refused by `Session::try_insert` (the session is
/// unchanged) and by `Session::write` (nothing is written, the browser
/// keeps its cookie), with and without chunking.
#[test]
fn a_too_deep_value_is_refused_by_the_session_which_keeps_its_cookie() {
    for config in [config(), chunked_config()] {
        assert_session_refuses(
            &config,
            &Deep::new(3),
            || Deep::new(MAX_NESTING + 1),
            Unserializable::TooDeep,
        );
        assert_session_refuses(
            &config,
            &Deep::new(MAX_NESTING),
            || Deep::new(40_000),
            Unserializable::TooDeep,
        );
    }
}

/// More collection elements than payload bytes, which only zero-sized
/// elements make possible, are refused when sealing: a `Vec<()>` of `n`
/// elements is a one-byte length for `n < 128`. Every element of every
/// collection counts against the one budget: 20 bytes and two length
/// prefixes hold 22 elements, not 23.
#[test]
fn more_zero_sized_elements_than_payload_bytes_are_refused_when_sealing() {
    let codec = codec();
    assert_round_trips(&codec, &Vec::<()>::new());
    assert_round_trips(&codec, &vec![()]);
    assert_round_trips(&codec, &vec![Marker]);
    for len in [2, 127, 128, 10_000] {
        assert_codec_refuses(&codec, &vec![(); len], Unserializable::TooManyElements);
        assert_codec_refuses(&codec, &vec![Marker; len], Unserializable::TooManyElements);
    }
    assert_round_trips(&codec, &(vec![7u8; 20], vec![(); 2]));
    assert_codec_refuses(
        &codec,
        &(vec![7u8; 20], vec![(); 3]),
        Unserializable::TooManyElements,
    );
    assert_codec_refuses(
        &codec,
        &vec![vec![()], vec![()]],
        Unserializable::TooManyElements,
    );

    for config in [config(), chunked_config()] {
        assert_session_refuses(
            &config,
            &vec![()],
            || vec![(); 1_000],
            Unserializable::TooManyElements,
        );
        // `try_update` too: the change is dropped.
        let session = config.load::<Vec<()>>(&HeaderMap::new());
        session.insert(vec![()]);
        assert_eq!(
            session.try_update(|v| v.push(())),
            Err(Error::Serialize(Unserializable::TooManyElements))
        );
        assert_eq!(session.get(), Some(vec![()]));
    }
}

/// A field `skip_serializing_if` skipped would make postcard read the next
/// field in its place: refused when it skips, sealed when it does not.
#[test]
fn a_skipped_field_is_refused_when_sealing() {
    let codec = codec();
    let present = Profile {
        nickname: Some("ada".into()),
        visits: 3,
    };
    assert_round_trips(&codec, &present);
    let skipped = Profile {
        nickname: None,
        visits: 3,
    };
    assert_codec_refuses(&codec, &skipped, Unserializable::SkippedField);
    assert_codec_refuses(
        &codec,
        &vec![present.clone(), skipped.clone()],
        Unserializable::SkippedField,
    );
    for config in [config(), chunked_config()] {
        assert_session_refuses(
            &config,
            &present,
            || skipped.clone(),
            Unserializable::SkippedField,
        );
    }
}

/// `#[serde(flatten)]` serializes a map of unknown length, which postcard
/// cannot write: refused as such (so no `Flattened` ever seals).
#[test]
fn a_flattened_field_is_refused_when_sealing() {
    let codec = codec();
    let flattened = Flattened {
        user: 7,
        settings: Settings {
            theme: "dark".into(),
        },
    };
    assert_codec_refuses(&codec, &flattened, Unserializable::LengthUnknown);
    assert_codec_refuses(&codec, &Flattened::default(), Unserializable::LengthUnknown);
    for config in [config(), chunked_config()] {
        assert_new_session_refuses(&config, || flattened.clone(), Unserializable::LengthUnknown);
    }
}
