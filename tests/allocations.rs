//! What sealing and opening cost in heap allocations, and the check that no
//! key derivation runs per request.
//!
//! Allocations are counted by the `allocation-counter` dev-dependency, whose
//! global allocator counts per thread, so tests running in parallel do not
//! disturb each other. (A counting allocator needs `unsafe impl GlobalAlloc`,
//! which this crate forbids everywhere, tests included; the dev-dependency
//! holds that one impl.)
//!
//! Budget: sealing allocates at most twice (it takes exactly the token
//! buffer and the returned string; the size pass before them, which also
//! applies the seal-time checks of the payload, allocates nothing);
//! opening at most twice on top of what deserializing the value allocates
//! by itself, measured here with postcard alone (it takes one: the decoded
//! token). The counts were the same before the seal-time checks and the
//! new envelope (issue 11); only the byte counts grew, by the envelope's
//! two more bytes.

use std::time::{Duration, Instant};

use allocation_counter::{AllocationInfo, measure};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sealed_session::{Algorithm, Codec, Error, Keyring};

#[path = "support/common.rs"]
mod common;
#[path = "support/sample.rs"]
mod sample;
use sample::{Session, session};

/// Four secrets, newest first.
const SECRETS: [&str; 4] = [
    "the current secret, at least 32 bytes long",
    "the previous secret, at least 32 bytes long",
    "an older secret, also at least 32 bytes long",
    "the oldest secret, also at least 32 bytes long",
];

/// A codec with default settings but the algorithm.
fn codec(keyring: Keyring, algorithm: Algorithm) -> Codec {
    Codec::builder(keyring)
        .algorithm(algorithm)
        .build()
        .expect("valid settings")
}

/// Seals `session` once while counting, after one uncounted warm-up seal (so
/// that one-time initialisation, if any, is not charged to the request).
fn counted_seal(codec: &Codec, session: &Session) -> (String, AllocationInfo) {
    codec.seal(session).expect("warm-up seal");
    let mut value = None;
    let info = measure(|| value = Some(codec.seal(session)));
    (value.expect("ran").expect("seal"), info)
}

/// Opens `value` once while counting, after one uncounted warm-up open. The
/// opened session is dropped outside the count, so `count_current` is what
/// the result holds.
fn counted_open(codec: &Codec, value: &str) -> (Session, AllocationInfo) {
    codec.open::<Session>(value).expect("warm-up open");
    let mut opened = None;
    let info = measure(|| opened = Some(codec.open::<Session>(value)));
    (opened.expect("ran").expect("open").into_value(), info)
}

/// Allocations made by deserializing the session from postcard bytes alone:
/// the part of opening that belongs to the value, not to this crate.
fn deserialize_allocations(session: &Session) -> u64 {
    let bytes = postcard::to_allocvec(session).expect("serializes");
    let mut decoded = None;
    let info = measure(|| decoded = Some(postcard::from_bytes::<Session>(&bytes)));
    assert_eq!(decoded.expect("ran").expect("deserializes"), *session);
    info.count_total
}

#[test]
fn seal_allocates_at_most_twice() {
    for algorithm in Algorithm::ALL {
        for cart in [5, 60] {
            let codec = codec(Keyring::new(&SECRETS[..1]).expect("valid"), algorithm);
            let s = session(cart);
            let (value, info) = counted_seal(&codec, &s);
            assert!(
                info.count_total <= 2,
                "{algorithm}, {cart} items: seal made {} allocations",
                info.count_total
            );
            // Only the returned cookie value outlives the call: the token
            // buffer is freed, and nothing is cached per call.
            assert_eq!(info.count_current, 1, "{algorithm}, {cart} items");
            assert_eq!(info.bytes_current, value.capacity() as i64);
            assert_eq!(codec.open::<Session>(&value).expect("opens").value(), &s);
        }
    }
}

#[test]
fn open_allocates_at_most_twice_plus_the_value() {
    for algorithm in Algorithm::ALL {
        for cart in [5, 60] {
            let codec = codec(Keyring::new(&SECRETS[..1]).expect("valid"), algorithm);
            let s = session(cart);
            let value = codec.seal(&s).expect("seal");
            let own = deserialize_allocations(&s);
            // The typical session's own allocations: email, roles vector and
            // its two strings, cart vector and its five SKUs.
            if cart == 5 {
                assert_eq!(own, 10);
            }
            let (opened, info) = counted_open(&codec, &value);
            assert_eq!(opened, s);
            assert!(
                info.count_total <= own + 2,
                "{algorithm}, {cart} items: open made {} allocations, the value needs {own}",
                info.count_total
            );
            // What is left is the value itself; the decoded token is freed.
            assert_eq!(info.count_current, own as i64, "{algorithm}, {cart} items");
        }
    }
}

#[test]
fn rejecting_a_tampered_cookie_allocates_once_and_keeps_nothing() {
    let codec = codec(
        Keyring::new(&SECRETS[..1]).expect("valid"),
        Algorithm::XAes256Gcm,
    );
    let value = codec.seal(&session(5)).expect("seal");
    let mut bytes = value.into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).expect("ASCII");
    let mut result = None;
    let info = measure(|| result = Some(codec.open::<Session>(&tampered).map(|_| ())));
    assert_eq!(result, Some(Err(Error::AuthenticationFailed)));
    // The decoded token only; nothing outlives the rejection.
    assert_eq!((info.count_total, info.count_current), (1, 0));
}

#[test]
fn cloning_a_codec_allocates_nothing() {
    let codec = codec(Keyring::new(SECRETS).expect("valid"), Algorithm::XAes256Gcm);
    let mut clone = None;
    let info = measure(|| clone = Some(codec.clone()));
    assert_eq!(info.count_total, 0);
    let clone = clone.expect("ran");
    let value = clone.seal(&session(5)).expect("seal");
    assert_eq!(
        codec.open::<Session>(&value).expect("opens").value(),
        &session(5)
    );
}

/// Sealing and opening cost the same allocations whatever keyring the codec
/// was built from: one text secret, one `base64:` secret (whose decoding
/// allocates at construction), raw bytes, or four secrets with the cookie
/// sealed under the last. Work done when the keyring is built is not
/// repeated per request.
#[test]
fn allocations_do_not_depend_on_how_the_keyring_was_built() {
    let s = session(5);
    // 32 distinct bytes (a secret of one repeated byte is refused).
    let raw: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x42);
    let base64 = format!("base64:{}", STANDARD.encode(raw));
    let keyrings = [
        Keyring::new(&SECRETS[..1]).expect("text secret"),
        Keyring::new([base64.as_str()]).expect("base64 secret"),
        Keyring::from_bytes([raw]).expect("raw secret"),
    ];
    // Allocations and bytes of one seal by `sealer` and one open by `opener`.
    let costs = |sealer: &Codec, opener: &Codec| {
        let (value, seal) = counted_seal(sealer, &s);
        let (opened, open) = counted_open(opener, &value);
        assert_eq!(opened, s);
        [
            seal.count_total,
            seal.bytes_total,
            open.count_total,
            open.bytes_total,
        ]
    };
    let mut seen: Vec<_> = keyrings
        .into_iter()
        .map(|keyring| {
            let codec = codec(keyring, Algorithm::XAes256Gcm);
            costs(&codec, &codec)
        })
        .collect();
    // Four secrets, sealed under the last: opening finds the key by its id.
    let four = codec(Keyring::new(SECRETS).expect("valid"), Algorithm::XAes256Gcm);
    let last = codec(
        Keyring::new(&SECRETS[3..]).expect("valid"),
        Algorithm::XAes256Gcm,
    );
    seen.push(costs(&last, &four));
    let value = last.seal(&s).expect("seal");
    assert!(
        four.open::<Session>(&value)
            .expect("opens")
            .sealed_with_old_secret()
    );
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
}

/// No key derivation per request. HKDF-Extract reads the whole secret, so
/// with a 16 MiB secret building the keyring takes milliseconds (tens of them
/// in a debug build). If sealing or opening derived keys from the secret
/// again, each round trip would take about as long; instead the fastest of
/// 20 round trips must cost less than a tenth of building the keyring (it
/// costs about a thousandth). This catches any per-request work over the
/// secret. It would not catch an HKDF-Expand from a cached PRK, whose cost
/// does not grow with the secret: the keyring keeps no PRK (it is wiped as
/// soon as the keys are derived), and `benches/compare.rs` bounds what is
/// left by timing sealing against a floor that derives nothing.
#[test]
fn seal_and_open_do_not_derive_keys() {
    // Pseudo-random bytes (a secret repeating a short pattern is refused).
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let secret: Vec<u8> = (0..16 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let started = Instant::now();
    let keyring = Keyring::from_bytes([&secret]).expect("valid");
    let derivation = started.elapsed();
    let codec = codec(keyring, Algorithm::XAes256Gcm);
    let s = session(5);
    let fastest = (0..20)
        .map(|_| {
            let started = Instant::now();
            let value = codec.seal(&s).expect("seal");
            let opened = codec.open::<Session>(&value).expect("open");
            let elapsed = started.elapsed();
            assert_eq!(opened.value(), &s);
            elapsed
        })
        .min()
        .unwrap_or(Duration::MAX);
    assert!(
        fastest * 10 < derivation,
        "a round trip took {fastest:?}, building the keyring {derivation:?}"
    );
}

/// Sealing runs a size pass over the value before anything else: postcard's
/// size flavor under the seal-time checks of the payload (nesting depth,
/// element budget, skipped fields, lengths known up front). That pass
/// allocates nothing, for the typical and the large sample session:
///
/// * a seal the size check refuses (a maximum cookie size too small for the
///   session, known only once the whole value was walked) allocates
///   nothing at all;
/// * a seal that passes allocates what it allocated before the checks
///   existed: exactly two allocations, the token buffer and the returned
///   string, of exactly the token's and the cookie value's lengths, both
///   alive at the peak.
#[test]
fn the_size_pass_and_its_checks_allocate_nothing() {
    for algorithm in Algorithm::ALL {
        for cart in [5, 60] {
            let context = format!("{algorithm}, {cart} items");
            let s = session(cart);
            let payload = postcard::to_allocvec(&s).expect("serializes").len();

            // A clock fixed at `t0` (2027-01-15), so that the envelope's
            // length is known; reading it allocates nothing either.
            let clock = common::clock();
            let small = Codec::builder(Keyring::new(&SECRETS[..1]).expect("valid"))
                .algorithm(algorithm)
                .max_cookie_size(200)
                .clock(clock.clone())
                .build()
                .expect("valid settings");
            small.seal(&s).expect_err("warm-up: too large");
            let mut result = None;
            let info = measure(|| result = Some(small.seal(&s)));
            assert!(
                matches!(result, Some(Err(Error::TooLarge { limit: 200, .. }))),
                "{context}: {result:?}"
            );
            assert_eq!(
                (info.count_total, info.bytes_total),
                (0, 0),
                "{context}: {info:?}"
            );

            let codec = Codec::builder(Keyring::new(&SECRETS[..1]).expect("valid"))
                .algorithm(algorithm)
                .clock(clock.clone())
                .build()
                .expect("valid settings");
            codec.seal(&s).expect("warm-up seal");
            let mut value = None;
            let info = measure(|| value = Some(codec.seal(&s)));
            let value = value.expect("ran").expect("seals");
            let opened = codec.open::<Session>(&value).expect("opens");
            assert_eq!(opened.envelope().created_at(), common::t0(), "{context}");
            let token = URL_SAFE_NO_PAD.decode(&value).expect("base64url").len();
            // 46 bytes of header, nonce and tag; the envelope of a session
            // sealed at its creation in 2027 (a 5-byte creation time, the
            // 12-hour lifetime in 3 bytes, 0 seconds since creation in 1,
            // the 4-byte schema id and the 16-byte session id); the payload.
            assert_eq!(token, 46 + (5 + 3 + 1 + 4 + 16) + payload, "{context}");
            assert_eq!(info.count_total, 2, "{context}: {info:?}");
            assert_eq!(
                info.bytes_total,
                (token + value.capacity()) as u64,
                "{context}: {info:?}"
            );
            assert_eq!(info.bytes_max, info.bytes_total, "{context}: {info:?}");
            assert_eq!(info.count_current, 1, "{context}: the value is kept");
        }
    }
}
