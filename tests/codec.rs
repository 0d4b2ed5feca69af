//! Integration tests for `Codec`: round trips, rotation, tampering,
//! truncation, clock rules, size limits, strict decoding, configuration
//! errors, (de)serialization failures and error codes.
//!
//! Every codec reads a `ManualClock` given to its builder, set to fixed
//! instants (`t0` and offsets from it), so nothing depends on the wall clock
//! (except where a test says it uses the system clock on purpose).

use std::cell::Cell;
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::{Deserialize, Serialize, Serializer};

#[path = "support/common.rs"]
mod common;
#[path = "support/reference.rs"]
mod reference;

use common::{secs, t0};
use sealed_session::clock::ManualClock;
use sealed_session::error::{Deadline, Malformed, Unserializable};
use sealed_session::limits::{
    DEFAULT_COOKIE_NAME, DEFAULT_LEEWAY, DEFAULT_LIFETIME, DEFAULT_MAX_COOKIE_SIZE,
    MAX_COOKIE_SIZE_CEILING, MAX_NESTING, MAX_TIME,
};
use sealed_session::{
    Algorithm, Codec, CodecBuilder, ConfigError, Envelope, Error, KeyId, Keyring, OpenOptions,
    SealOptions, Unsealed,
};

const SECRET_A: &str = "codec test secret A, which is longer than 32 bytes";
const SECRET_B: &str = "codec test secret B, which is longer than 32 bytes";

const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);

/// Smallest token: header (6), nonce (24) and tag (16).
const OVERHEAD: usize = reference::MIN_TOKEN_LEN;

fn keyring(secrets: &[&str]) -> Keyring {
    Keyring::new(secrets).expect("valid secrets")
}

/// A builder for `SECRET_A` whose codec reads `clock`.
fn builder(clock: &ManualClock) -> CodecBuilder {
    Codec::builder(keyring(&[SECRET_A])).clock(clock.clone())
}

/// The default settings for `SECRET_A`, on `clock`.
fn default_codec(clock: &ManualClock) -> Codec {
    builder(clock).build().expect("valid settings")
}

fn codec_with(clock: &ManualClock, alg: Algorithm) -> Codec {
    builder(clock)
        .algorithm(alg)
        .build()
        .expect("valid settings")
}

/// Unix seconds of an instant.
fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// The key id a secret seals under with no application label, from the
/// documented key schedule.
fn key_id_of(secret: &str) -> [u8; 4] {
    reference::derive(secret, "").id
}

/// The envelope of a new session created now on the codec's clock: what a
/// seal without an envelope makes, read back by opening it.
fn new_envelope(codec: &Codec) -> Envelope {
    let value = codec
        .seal_bytes(b"", &SealOptions::new())
        .expect("seals a new session");
    *codec
        .open_bytes(&value, &OpenOptions::new())
        .expect("opens")
        .envelope()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CartItem {
    sku: String,
    qty: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct UserSession {
    user_id: u64,
    email: String,
    roles: Vec<String>,
    csrf_token: [u8; 32],
    cart: Vec<CartItem>,
}

fn sample() -> UserSession {
    UserSession {
        user_id: 1_234_567,
        email: "ada.lovelace@example.com".into(),
        roles: vec!["customer".into(), "beta-tester".into()],
        csrf_token: core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11)),
        cart: vec![
            CartItem {
                sku: "BOOK-0001".into(),
                qty: 2,
            },
            CartItem {
                sku: "PEN-BLUE-12".into(),
                qty: 12,
            },
            CartItem {
                sku: "MUG-XL".into(),
                qty: 1,
            },
        ],
    }
}

fn decode(value: &str) -> Vec<u8> {
    reference::decode(value).expect("a sealed value is base64url")
}

use reference::encode;

/// `Err(e)` of an open at the codec's clock, or a panic that shows what
/// opened.
fn open_err(codec: &Codec, value: &str) -> Error {
    match codec.open::<UserSession>(value) {
        Err(e) => e,
        Ok(opened) => panic!("expected an error, opened {:?}", opened.value()),
    }
}

fn open_bytes_err(codec: &Codec, value: &str) -> Error {
    match codec.open_bytes(value, &OpenOptions::new()) {
        Err(e) => e,
        Ok(opened) => panic!("expected an error, opened {} bytes", opened.value().len()),
    }
}

// ---------------------------------------------------------------------------
// Round trips and the opened session
// ---------------------------------------------------------------------------

#[test]
fn round_trips_under_both_algorithms_and_each_codec_opens_both() {
    let clock = common::clock();
    let value = sample();
    let xaes = codec_with(&clock, Algorithm::XAes256Gcm);
    let xchacha = codec_with(&clock, Algorithm::XChaCha20Poly1305);
    // The sealing algorithm (no getter): in `Debug`, and in every token below.
    assert_eq!(common::setting(&xaes, "algorithm"), "XAes256Gcm");
    assert_eq!(common::setting(&xchacha, "algorithm"), "XChaCha20Poly1305");
    let key_a = key_id_of(SECRET_A);

    for (sealer, alg) in [
        (&xaes, Algorithm::XAes256Gcm),
        (&xchacha, Algorithm::XChaCha20Poly1305),
    ] {
        clock.set(t0());
        let cookie = sealer.seal(&value).expect("seals");
        let token = decode(&cookie);
        assert_eq!(token[0], 0x01, "format version");
        assert_eq!(token[1], alg.wire_id(), "algorithm byte");
        assert_eq!(&token[2..6], &key_a);
        // The plaintext does not show through.
        let email = value.email.as_bytes();
        assert!(!token.windows(email.len()).any(|w| w == email));

        clock.set(t0() + MIN);
        for (opener, opener_alg) in [
            (&xaes, Algorithm::XAes256Gcm),
            (&xchacha, Algorithm::XChaCha20Poly1305),
        ] {
            let opened: Unsealed<UserSession> = opener
                .open(&cookie)
                .unwrap_or_else(|e| panic!("{alg} cookie under {opener_alg} codec: {e}"));
            assert_eq!(opened.value(), &value);
            assert_eq!(opened.algorithm(), alg);
            assert_eq!(opened.key_id().to_bytes(), key_a);
            assert!(!opened.sealed_with_old_secret());
            assert_eq!(
                opened.needs_reseal(),
                alg != opener_alg,
                "{alg} cookie opened by a {opener_alg} codec"
            );
        }
    }
}

#[test]
fn resealing_with_the_configured_algorithm_clears_needs_reseal() {
    let clock = common::clock();
    let xaes = codec_with(&clock, Algorithm::XAes256Gcm);
    let xchacha = codec_with(&clock, Algorithm::XChaCha20Poly1305);
    let cookie = xaes.seal(&sample()).expect("seals");
    let opened = xchacha.open::<UserSession>(&cookie).expect("opens");
    assert!(opened.needs_reseal());
    clock.set(t0() + MIN);
    let resealed = xchacha
        .seal_with(opened.value(), &opened.seal_options())
        .expect("reseals");
    assert_eq!(decode(&resealed)[1], Algorithm::XChaCha20Poly1305.wire_id());
    let again = xchacha.open::<UserSession>(&resealed).expect("opens");
    assert_eq!(again.algorithm(), Algorithm::XChaCha20Poly1305);
    assert!(!again.needs_reseal());
    assert_eq!(again.envelope().id(), opened.envelope().id());
    assert_eq!(again.value(), &sample());
}

#[test]
fn opened_getters_report_the_envelope() {
    let clock = common::clock();
    let lifetime = 8 * HOUR;
    let codec = builder(&clock)
        .lifetime(lifetime)
        .idle_timeout(None)
        .build()
        .expect("valid");
    // No getters: the settings show in `Debug`, and their effect below.
    assert_eq!(common::setting(&codec, "lifetime_secs"), "28800");
    assert_eq!(
        common::setting(&codec, "max_lifetime_secs"),
        "28800",
        "defaults to the lifetime"
    );
    assert_eq!(common::setting(&codec, "idle_timeout_secs"), "None");

    let cookie = codec.seal(&sample()).expect("seals");
    clock.set(t0() + secs(5));
    let opened = codec.open::<UserSession>(&cookie).expect("opens");
    assert_eq!(opened.envelope().created_at(), t0());
    assert_eq!(opened.envelope().renewed_at(), t0());
    assert_eq!(opened.envelope().absolute_deadline(), t0() + lifetime);
    assert_eq!(opened.envelope().idle_deadline(), None);
    assert_eq!(opened.envelope().expires_at(), t0() + lifetime);
    assert_eq!(opened.envelope().id().to_string().len(), 32);
    assert_eq!(opened.envelope().id().to_bytes().len(), 16);
    assert_eq!(
        opened.envelope().id().to_string(),
        hex::encode(opened.envelope().id().to_bytes())
    );
    // The maximum lifetime defaults to the lifetime: a longer per-session
    // lifetime is capped at it.
    clock.set(t0());
    let longer = codec
        .seal_with(&sample(), &SealOptions::new().lifetime(2 * lifetime))
        .expect("seals");
    assert_eq!(
        codec
            .open::<UserSession>(&longer)
            .expect("opens")
            .envelope()
            .absolute_deadline(),
        t0() + lifetime
    );

    clock.set(t0());
    let idle = builder(&clock)
        .lifetime(lifetime)
        .idle_timeout(30 * MIN)
        .build()
        .expect("valid");
    assert_eq!(common::setting(&idle, "idle_timeout_secs"), "Some(1800)");
    let cookie = idle.seal(&sample()).expect("seals");
    clock.set(t0() + secs(5));
    let opened = idle.open::<UserSession>(&cookie).expect("opens");
    assert_eq!(opened.envelope().idle_deadline(), Some(t0() + 30 * MIN));
    assert_eq!(opened.envelope().absolute_deadline(), t0() + lifetime);
    assert_eq!(opened.envelope().expires_at(), t0() + 30 * MIN);
    // Resealed later: the last seal moves, and the idle deadline with it.
    clock.set(t0() + 10 * MIN);
    let later = idle
        .seal_with(opened.value(), &opened.seal_options())
        .expect("reseals");
    clock.set(t0() + 11 * MIN);
    let later = idle.open::<UserSession>(&later).expect("opens");
    assert_eq!(later.envelope().renewed_at(), t0() + 10 * MIN);
    assert_eq!(later.envelope().idle_deadline(), Some(t0() + 40 * MIN));
    assert_eq!(later.envelope().created_at(), t0());

    // into_parts / into_value hand back what was sealed.
    let (value, envelope) = opened.clone().into_parts();
    assert_eq!(value, sample());
    assert_eq!(&envelope, opened.envelope());
    assert_eq!(envelope.id(), opened.envelope().id());
    assert_eq!(opened.into_value(), sample());
}

#[test]
fn session_ids_are_stable_across_reseals_and_fresh_for_new_sessions() {
    let clock = common::clock();
    let codec = builder(&clock)
        .idle_timeout(30 * MIN)
        .build()
        .expect("valid");
    let first = codec.seal(&sample()).expect("seals");
    clock.set(t0() + MIN);
    let mut opened = codec.open::<UserSession>(&first).expect("opens");
    let id = opened.envelope().id();

    // Change the value and reseal later: same id and creation time.
    opened.value_mut().cart.push(CartItem {
        sku: "NEW".into(),
        qty: 3,
    });
    clock.set(t0() + 10 * MIN);
    let resealed = codec
        .seal_with(opened.value(), &opened.seal_options())
        .expect("reseals");
    assert_ne!(resealed, first);
    clock.set(t0() + 11 * MIN);
    let reopened = codec.open::<UserSession>(&resealed).expect("opens");
    assert_eq!(reopened.envelope().id(), id);
    assert_eq!(reopened.envelope().created_at(), t0());
    assert_eq!(reopened.value().cart.len(), 4);

    // Sealing another value into the opened envelope keeps the id too.
    clock.set(t0() + 12 * MIN);
    let with = codec
        .seal_with(
            &sample(),
            &SealOptions::new().envelope(*reopened.envelope()),
        )
        .expect("seals");
    let with = codec.open::<UserSession>(&with).expect("opens");
    assert_eq!(with.envelope().id(), id);

    // A fresh seal of the same value at the same instant is a new session,
    // and never the same cookie (random nonce).
    clock.set(t0());
    let second = codec.seal(&sample()).expect("seals");
    assert_ne!(second, first);
    clock.set(t0() + MIN);
    let second = codec.open::<UserSession>(&second).expect("opens");
    assert_ne!(second.envelope().id(), id);

    // Every new session draws a new id, with the codec's deadlines.
    clock.set(t0());
    let e1 = new_envelope(&codec);
    let e2 = new_envelope(&codec);
    assert_ne!(e1.id(), e2.id());
    assert_eq!(e1.created_at(), t0());
    assert_eq!(e1.absolute_deadline(), t0() + DEFAULT_LIFETIME);
    assert_eq!(e1.idle_deadline(), Some(t0() + 30 * MIN));
    let sealed = codec
        .seal_with(&7u8, &SealOptions::new().envelope(e1))
        .expect("seals");
    let opened = codec.open::<u8>(&sealed).expect("opens");
    assert_eq!(opened.envelope().id(), e1.id());
    assert_ne!(opened.envelope().id(), id);
}

#[test]
fn per_session_lifetime_from_seal_options() {
    let clock = common::clock();
    let codec = builder(&clock)
        .idle_timeout(None)
        .max_lifetime(30 * 24 * HOUR)
        .build()
        .expect("valid");
    // The configured lifetime stays the default; only the maximum is longer.
    assert_eq!(
        common::setting(&codec, "lifetime_secs"),
        DEFAULT_LIFETIME.as_secs().to_string()
    );
    let plain = codec.seal(&1u8).expect("seals");
    assert_eq!(
        codec
            .open::<u8>(&plain)
            .expect("opens")
            .envelope()
            .absolute_deadline(),
        t0() + DEFAULT_LIFETIME
    );
    let remember_me = SealOptions::new().lifetime(30 * 24 * HOUR);
    let cookie = codec.seal_with(&1u8, &remember_me).expect("seals");
    let late = t0() + 30 * 24 * HOUR - secs(1);
    clock.set(late);
    let opened = codec.open::<u8>(&cookie).expect("opens on day 30");
    assert_eq!(opened.envelope().absolute_deadline(), t0() + 30 * 24 * HOUR);
    clock.set(late + secs(1));
    assert_eq!(
        codec.open::<u8>(&cookie).unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );

    // Without a maximum lifetime that allows it, a per-session lifetime is
    // capped at the codec's lifetime when sealed.
    clock.set(t0());
    let capped = builder(&clock).idle_timeout(None).build().expect("valid");
    let cookie = capped.seal_with(&1u8, &remember_me).expect("seals");
    let opened = capped.open::<u8>(&cookie).expect("opens");
    assert_eq!(
        opened.envelope().absolute_deadline(),
        t0() + DEFAULT_LIFETIME
    );
    // And a cookie sealed under the long maximum is capped where it is
    // opened under the short one: outstanding sessions shrink at once.
    let long = codec.seal_with(&1u8, &remember_me).expect("seals");
    clock.set(t0() + DEFAULT_LIFETIME);
    assert_eq!(
        capped.open::<u8>(&long).unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    clock.set(t0() + DEFAULT_LIFETIME - secs(1));
    assert_eq!(
        capped
            .open::<u8>(&long)
            .expect("opens within the cap")
            .envelope()
            .absolute_deadline(),
        t0() + DEFAULT_LIFETIME
    );

    // A zero lifetime is an already expired session, which sealing refuses.
    clock.set(t0());
    assert_eq!(
        codec
            .seal_with(&1u8, &SealOptions::new().lifetime(Duration::ZERO))
            .unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    // So does sealing into an envelope at or past its deadline.
    let envelope = new_envelope(&codec);
    clock.set(t0() + DEFAULT_LIFETIME);
    assert_eq!(
        codec
            .seal_with(&1u8, &SealOptions::new().envelope(envelope))
            .unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    clock.set(t0() + DEFAULT_LIFETIME - secs(1));
    codec
        .seal_with(&1u8, &SealOptions::new().envelope(envelope))
        .expect("one second before the deadline still seals");
    // With an envelope, a lifetime changes that session's deadline: the
    // same session, now living 30 days from its creation.
    let extended = codec
        .seal_with(
            &1u8,
            &SealOptions::new()
                .envelope(envelope)
                .lifetime(30 * 24 * HOUR),
        )
        .expect("seals");
    clock.set(late);
    let opened = codec.open::<u8>(&extended).expect("opens on day 30");
    assert_eq!(opened.envelope().id(), envelope.id());
    assert_eq!(opened.envelope().created_at(), t0());
    assert_eq!(opened.envelope().absolute_deadline(), t0() + 30 * 24 * HOUR);
}

// ---------------------------------------------------------------------------
// Rotation
// ---------------------------------------------------------------------------

#[test]
fn rotation_opens_old_cookies_reseals_under_the_new_secret_and_retires_the_old() {
    let clock = common::clock();
    let lifetime = 24 * HOUR;
    let build = |secrets: &[&str]| {
        Codec::builder(keyring(secrets))
            .clock(clock.clone())
            .lifetime(lifetime)
            .idle_timeout(2 * HOUR)
            .build()
            .expect("valid")
    };
    let only_a = build(&[SECRET_A]);
    let b_then_a = build(&[SECRET_B, SECRET_A]);
    let only_b = build(&[SECRET_B]);
    assert_ne!(key_id_of(SECRET_A), key_id_of(SECRET_B));
    assert_eq!(
        common::key_ids(&b_then_a),
        [key_id_of(SECRET_B), key_id_of(SECRET_A)]
    );

    let original = only_a.seal(&sample()).expect("seals");
    let id_a = only_a
        .open::<UserSession>(&original)
        .expect("opens")
        .key_id();
    assert_eq!(id_a.to_bytes(), key_id_of(SECRET_A));
    clock.set(t0() + HOUR);
    let opened = b_then_a
        .open::<UserSession>(&original)
        .expect("the old secret still opens");
    assert!(opened.sealed_with_old_secret());
    assert!(opened.needs_reseal());
    assert_eq!(opened.key_id(), id_a);
    assert_eq!(opened.value(), &sample());

    let resealed = b_then_a
        .seal_with(opened.value(), &opened.seal_options())
        .expect("reseals");
    assert_eq!(&decode(&resealed)[2..6], &key_id_of(SECRET_B));
    clock.set(t0() + HOUR + MIN);
    let reopened = only_b
        .open::<UserSession>(&resealed)
        .expect("the new secret alone opens the resealed cookie");
    let id_b = reopened.key_id();
    assert_ne!(id_a, id_b);
    assert!(!reopened.sealed_with_old_secret());
    assert!(!reopened.needs_reseal());
    assert_eq!(id_b.to_bytes(), key_id_of(SECRET_B));
    assert_eq!(reopened.envelope().created_at(), t0());
    assert_eq!(reopened.envelope().absolute_deadline(), t0() + lifetime);
    assert_eq!(reopened.envelope().idle_deadline(), Some(t0() + 3 * HOUR));
    assert_eq!(reopened.envelope().id(), opened.envelope().id());
    assert_eq!(reopened.value(), &sample());

    // Under [b, a] the resealed cookie is current.
    let current = b_then_a.open::<UserSession>(&resealed).expect("opens");
    assert!(!current.sealed_with_old_secret());
    assert_eq!(current.key_id(), id_b);

    // Once `a` is retired the original cookie names an unknown key.
    clock.set(t0() + HOUR);
    let err = open_err(&only_b, &original);
    assert_eq!(err, Error::UnknownKey(id_a));
    match err {
        Error::UnknownKey(id) => assert_eq!(id.to_bytes(), key_id_of(SECRET_A)),
        ref other => panic!("{other:?}"),
    }
    assert!(!err.is_possible_tampering());
    assert!(err.to_string().contains(&id_a.to_string()), "{err}");
}

// ---------------------------------------------------------------------------
// Tampering and truncation
// ---------------------------------------------------------------------------

fn expected_after_flip(original: &[u8], index: usize, flipped: u8) -> Error {
    match index {
        0 => Error::UnsupportedVersion(flipped),
        1 => match Algorithm::from_wire_id(flipped) {
            Some(_) => Error::AuthenticationFailed,
            None => Error::UnknownAlgorithm(flipped),
        },
        2..=5 => {
            let bytes: Vec<u8> = original[2..6]
                .iter()
                .enumerate()
                .map(|(i, &b)| if i + 2 == index { flipped } else { b })
                .collect();
            // Build the KeyId the only public way: from a token the codec reports.
            Error::UnknownKey(key_id_from_bytes(bytes.try_into().expect("4 bytes")))
        }
        _ => Error::AuthenticationFailed,
    }
}

/// A `KeyId` with the given bytes, recovered through the public API: open a
/// token whose key-id field holds these bytes under a keyring without them.
/// (The key is looked up before any clock rule, so the system clock will
/// do.)
fn key_id_from_bytes(bytes: [u8; 4]) -> KeyId {
    let mut token = vec![0u8; 80];
    token[0] = 0x01;
    token[1] = 0x01;
    token[2..6].copy_from_slice(&bytes);
    match Codec::new(keyring(&[SECRET_B])).open_bytes(&encode(&token), &OpenOptions::new()) {
        Err(Error::UnknownKey(id)) => {
            assert_eq!(id.to_bytes(), bytes);
            id
        }
        other => panic!("expected UnknownKey, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn every_single_bit_flip_of_the_token_is_rejected_with_the_right_error() {
    let clock = common::clock();
    for alg in Algorithm::ALL {
        let codec = codec_with(&clock, alg);
        let cookie = codec.seal(&sample()).expect("seals");
        let token = decode(&cookie);
        assert!(token.len() > 150, "a realistic session");
        let mut seen = BTreeSet::new();
        for index in 0..token.len() {
            for bit in 0..8 {
                let mut flipped = token.clone();
                flipped[index] ^= 1 << bit;
                let err = open_err(&codec, &encode(&flipped));
                let expected = expected_after_flip(&token, index, flipped[index]);
                assert_eq!(err, expected, "{alg}: byte {index}, bit {bit}");
                assert_eq!(
                    err.is_possible_tampering(),
                    err == Error::AuthenticationFailed
                );
                seen.insert(err.code());
            }
        }
        assert_eq!(
            seen,
            BTreeSet::from([
                "unsupported-version",
                "unknown-algorithm",
                "unknown-key",
                "authentication-failed"
            ])
        );
    }
}

#[test]
fn swapping_the_algorithm_byte_fails_authentication() {
    let clock = common::clock();
    for alg in Algorithm::ALL {
        let codec = codec_with(&clock, alg);
        let mut token = decode(&codec.seal(&sample()).expect("seals"));
        token[1] = match alg {
            Algorithm::XAes256Gcm => Algorithm::XChaCha20Poly1305.wire_id(),
            _ => Algorithm::XAes256Gcm.wire_id(),
        };
        let err = open_err(&codec, &encode(&token));
        assert_eq!(err, Error::AuthenticationFailed, "{alg}");
        assert!(err.is_possible_tampering());
        for unknown in [0x00, 0x03, 0x7f, 0xff] {
            token[1] = unknown;
            assert_eq!(
                open_err(&codec, &encode(&token)),
                Error::UnknownAlgorithm(unknown)
            );
        }
    }
}

#[test]
fn every_character_substitution_in_the_value_is_rejected() {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let clock = common::clock();
    for alg in Algorithm::ALL {
        let codec = codec_with(&clock, alg);
        let cookie = codec.seal(&sample()).expect("seals");
        let chars: Vec<char> = cookie.chars().collect();
        for (i, &original) in chars.iter().enumerate() {
            // A few alphabet characters, chosen per position so that every
            // bit of the 6-bit group changes somewhere in the value.
            let pos = ALPHABET.find(original).expect("base64url character");
            for delta in [1, 2, 4, 8, 16, 32, 63] {
                let replacement = ALPHABET.as_bytes()[(pos + delta) % 64] as char;
                let mut tampered = chars.clone();
                tampered[i] = replacement;
                let tampered: String = tampered.into_iter().collect();
                let err = open_err(&codec, &tampered);
                assert!(
                    matches!(
                        err,
                        Error::Malformed(Malformed::Encoding)
                            | Error::UnsupportedVersion(_)
                            | Error::UnknownAlgorithm(_)
                            | Error::UnknownKey(_)
                            | Error::AuthenticationFailed
                    ),
                    "{alg}: position {i}, {original:?} -> {replacement:?}: {err:?}"
                );
                // Characters 8.. encode bytes 6.. only: past the header, any
                // change that still decodes is an authentication failure.
                if i >= 8 && err != Error::Malformed(Malformed::Encoding) {
                    assert_eq!(err, Error::AuthenticationFailed, "{alg}: position {i}");
                }
            }
            for outsider in ['+', '/', '=', '.', '~', '*', ' ', '\t', '\0'] {
                let mut tampered = chars.clone();
                tampered[i] = outsider;
                let tampered: String = tampered.into_iter().collect();
                assert_eq!(
                    open_err(&codec, &tampered),
                    Error::Malformed(Malformed::Encoding),
                    "{alg}: position {i} -> {outsider:?}"
                );
            }
        }
    }
}

#[test]
fn every_truncation_of_the_value_is_rejected() {
    let clock = common::clock();
    for alg in Algorithm::ALL {
        let codec = codec_with(&clock, alg);
        let cookie = codec.seal(&sample()).expect("seals");
        for len in 0..cookie.len() {
            let prefix = &cookie[..len];
            let err = open_err(&codec, prefix);
            match reference::decode(prefix) {
                None => assert_eq!(
                    err,
                    Error::Malformed(Malformed::Encoding),
                    "{alg}: {len} chars"
                ),
                Some(bytes) if bytes.len() < OVERHEAD => assert_eq!(
                    err,
                    Error::Malformed(Malformed::Truncated),
                    "{alg}: {len} chars"
                ),
                Some(_) => assert_eq!(err, Error::AuthenticationFailed, "{alg}: {len} chars"),
            }
            if len % 4 == 1 {
                assert_eq!(err, Error::Malformed(Malformed::Encoding), "{len} chars");
            }
        }
        assert_eq!(open_err(&codec, ""), Error::Malformed(Malformed::Truncated));
    }
}

#[test]
fn every_truncation_of_the_token_is_rejected() {
    let clock = common::clock();
    for alg in Algorithm::ALL {
        let codec = codec_with(&clock, alg);
        let token = decode(&codec.seal(&sample()).expect("seals"));
        for len in 0..token.len() {
            let err = open_err(&codec, &encode(&token[..len]));
            let expected = if len < OVERHEAD {
                Error::Malformed(Malformed::Truncated)
            } else {
                Error::AuthenticationFailed
            };
            assert_eq!(err, expected, "{alg}: {len} of {} bytes", token.len());
        }
        // Cutting from the front is just as fatal.
        for cut in 1..token.len() {
            let err = open_err(&codec, &encode(&token[cut..]));
            assert!(
                err != Error::Malformed(Malformed::Encoding),
                "{alg}: re-encoded bytes always decode"
            );
        }
        // Appending bytes, too.
        let mut longer = token.clone();
        longer.push(0);
        assert_eq!(
            open_err(&codec, &encode(&longer)),
            Error::AuthenticationFailed
        );
    }
}

#[test]
fn a_value_sealed_under_one_cookie_name_never_opens_under_another() {
    let clock = common::clock();
    let named = |name: &str| builder(&clock).cookie_name(name).build().expect("valid");
    let a = named("session_a");
    let b = named("session_b");
    assert_eq!(a.cookie_name(), "session_a");
    for alg in Algorithm::ALL {
        let sealer = builder(&clock)
            .cookie_name("session_a")
            .algorithm(alg)
            .build()
            .expect("valid");
        let cookie = sealer.seal(&sample()).expect("seals");
        a.open::<UserSession>(&cookie)
            .expect("opens under its own name");
        for other in [
            &b,
            &named("session"),
            &named("session_a2"),
            &named("Session_a"),
        ] {
            let err = open_err(other, &cookie);
            assert_eq!(
                err,
                Error::AuthenticationFailed,
                "{alg} under {}",
                other.cookie_name()
            );
            assert!(err.is_possible_tampering());
        }
    }
}

// ---------------------------------------------------------------------------
// Clock rules
// ---------------------------------------------------------------------------

#[test]
fn the_absolute_deadline_is_exclusive() {
    let clock = common::clock();
    for lifetime in [secs(1), HOUR, DEFAULT_LIFETIME, 7 * 24 * HOUR] {
        let codec = builder(&clock)
            .lifetime(lifetime)
            .idle_timeout(None)
            .build()
            .expect("valid");
        clock.set(t0());
        let cookie = codec.seal(&sample()).expect("seals");
        clock.set(t0() + lifetime - secs(1));
        let opened = codec
            .open::<UserSession>(&cookie)
            .expect("opens one second before the deadline");
        assert_eq!(opened.envelope().absolute_deadline(), t0() + lifetime);
        for late in [lifetime, lifetime + secs(1), lifetime + 365 * 24 * HOUR] {
            clock.set(t0() + late);
            let err = open_err(&codec, &cookie);
            assert_eq!(
                err,
                Error::Expired {
                    deadline: Deadline::Absolute
                },
                "lifetime {lifetime:?}, opened {late:?} after sealing"
            );
            assert_eq!(err.code(), "expired-absolute");
        }
    }
    // Sub-second parts of `now` are ignored: the deadline second is expired
    // from its first nanosecond.
    clock.set(t0());
    let codec = builder(&clock)
        .lifetime(HOUR)
        .idle_timeout(None)
        .build()
        .expect("valid");
    let cookie = codec.seal(&1u8).expect("seals");
    clock.set(t0() + HOUR - Duration::from_millis(1));
    codec.open::<u8>(&cookie).expect("still in the last second");
    clock.set(t0() + HOUR + Duration::from_millis(999));
    assert_eq!(
        codec.open::<u8>(&cookie).unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
}

#[test]
fn the_idle_timeout_expires_sessions_and_reseals_move_it_up_to_the_absolute_deadline() {
    let clock = common::clock();
    let codec = builder(&clock)
        .lifetime(HOUR)
        .idle_timeout(30 * MIN)
        .build()
        .expect("valid");
    let cookie = codec.seal(&sample()).expect("seals");
    clock.set(t0() + 30 * MIN - secs(1));
    let opened = codec
        .open::<UserSession>(&cookie)
        .expect("opens one second before the idle deadline");
    assert_eq!(opened.envelope().idle_deadline(), Some(t0() + 30 * MIN));
    clock.set(t0() + 30 * MIN);
    let err = open_err(&codec, &cookie);
    assert_eq!(
        err,
        Error::Expired {
            deadline: Deadline::Idle
        }
    );
    assert_eq!(err.code(), "expired-idle");

    // Activity at +20 min moves the idle deadline to +50 min.
    clock.set(t0() + 20 * MIN);
    let at20 = codec.open::<UserSession>(&cookie).expect("opens");
    let resealed = codec
        .seal_with(at20.value(), &at20.seal_options())
        .expect("reseals");
    clock.set(t0() + 50 * MIN - secs(1));
    let after = codec
        .open::<UserSession>(&resealed)
        .expect("the reseal extended the idle deadline");
    assert_eq!(after.envelope().idle_deadline(), Some(t0() + 50 * MIN));
    assert_eq!(after.envelope().absolute_deadline(), t0() + HOUR);
    assert_eq!(after.envelope().created_at(), t0());
    clock.set(t0() + 50 * MIN);
    assert_eq!(
        open_err(&codec, &resealed),
        Error::Expired {
            deadline: Deadline::Idle
        }
    );

    // Activity at +45 min would move it to +75 min, past the absolute
    // deadline: it stops at +60 min.
    clock.set(t0() + 45 * MIN);
    let at45 = codec.open::<UserSession>(&resealed).expect("opens");
    let last = codec
        .seal_with(at45.value(), &at45.seal_options())
        .expect("reseals");
    clock.set(t0() + HOUR - secs(1));
    let opened = codec
        .open::<UserSession>(&last)
        .expect("opens until the absolute deadline");
    assert_eq!(opened.envelope().idle_deadline(), Some(t0() + HOUR));
    assert_eq!(opened.envelope().absolute_deadline(), t0() + HOUR);
    assert_eq!(opened.envelope().created_at(), t0());
    assert_eq!(opened.envelope().expires_at(), t0() + HOUR);
    // The absolute deadline is checked first.
    clock.set(t0() + HOUR);
    assert_eq!(
        open_err(&codec, &last),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );

    // Resealing ever more often never gets past the absolute deadline.
    clock.set(t0());
    let mut cookie = codec.seal(&sample()).expect("seals");
    let mut now = t0();
    for _ in 0..4 {
        now += 15 * MIN - secs(1);
        clock.set(now);
        let opened = codec
            .open::<UserSession>(&cookie)
            .expect("active session opens");
        assert_eq!(opened.envelope().absolute_deadline(), t0() + HOUR);
        assert!(opened.envelope().idle_deadline().expect("idle deadline") <= t0() + HOUR);
        cookie = codec
            .seal_with(opened.value(), &opened.seal_options())
            .expect("reseals");
    }
    assert!(now < t0() + HOUR);
    clock.set(t0() + HOUR);
    let err = codec.open::<UserSession>(&cookie).unwrap_err();
    assert_eq!(
        err,
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
}

#[test]
fn creation_times_in_the_future_get_the_leeway_and_no_more() {
    assert_eq!(DEFAULT_LEEWAY, secs(60));
    let clock = common::clock();
    let codec = default_codec(&clock);
    let cookie = codec.seal(&sample()).expect("seals");
    clock.set(t0() - secs(60));
    codec
        .open::<UserSession>(&cookie)
        .expect("60 s of skew is forgiven by default");
    clock.set(t0() - secs(61));
    let err = open_err(&codec, &cookie);
    assert_eq!(err, Error::NotYetValid);
    assert_eq!(err.code(), "not-yet-valid");

    let strict = builder(&clock)
        .leeway(Duration::ZERO)
        .build()
        .expect("valid");
    clock.set(t0());
    strict
        .open::<UserSession>(&cookie)
        .expect("created now is fine");
    clock.set(t0() - secs(1));
    assert_eq!(open_err(&strict, &cookie), Error::NotYetValid);

    let lenient = builder(&clock).leeway(5 * MIN).build().expect("valid");
    clock.set(t0() - 5 * MIN);
    lenient
        .open::<UserSession>(&cookie)
        .expect("within the custom leeway");
    clock.set(t0() - 5 * MIN - secs(1));
    assert_eq!(open_err(&lenient, &cookie), Error::NotYetValid);
}

#[test]
fn sessions_created_before_the_cut_off_are_revoked() {
    let clock = common::clock();
    let cut = t0() + HOUR;
    let now = cut + MIN;
    // Built when the cut-off has passed (`build` refuses one later than its
    // clock's now plus the leeway).
    clock.set(now);
    let codec = builder(&clock)
        .reject_created_before(cut)
        .build()
        .expect("valid");
    // Sessions from before the cut-off were issued by the deployment that
    // did not have it yet (same secret); the codec with the cut-off refuses
    // to issue one itself.
    let earlier_deployment = default_codec(&clock);
    clock.set(cut - secs(1));
    let before = earlier_deployment.seal(&sample()).expect("seals");
    // A codec never issues a cookie it would reject: a new session made
    // just before the cut-off (within the leeway) is created at the
    // cut-off, and opens.
    let early = codec.seal(&sample()).expect("seals");
    let opened = codec.open::<UserSession>(&early).expect("opens at once");
    assert_eq!(opened.envelope().created_at(), cut);
    // Further ahead than the leeway it cannot be, and says so, whichever
    // way a new session is sealed.
    clock.set(cut - DEFAULT_LEEWAY - secs(1));
    assert_eq!(
        codec.seal(&sample()).unwrap_err(),
        Error::Config(ConfigError::CutOffInFuture)
    );
    assert_eq!(
        codec.seal_bytes(b"", &SealOptions::new()).unwrap_err(),
        Error::Config(ConfigError::CutOffInFuture)
    );
    clock.set(cut);
    let at = codec.seal(&sample()).expect("seals");
    clock.set(cut + secs(1));
    let after = codec.seal(&sample()).expect("seals");
    clock.set(now);
    let err = open_err(&codec, &before);
    assert_eq!(err, Error::Revoked);
    assert_eq!(err.code(), "revoked");
    codec
        .open::<UserSession>(&at)
        .expect("created at the cut-off opens");
    codec
        .open::<UserSession>(&after)
        .expect("created after the cut-off opens");

    // Resealing does not launder a revoked session: the creation time stays.
    let plain = default_codec(&clock);
    let opened = plain.open::<UserSession>(&before).expect("no cut-off here");
    let resealed = plain
        .seal_with(opened.value(), &opened.seal_options())
        .expect("reseals");
    assert_eq!(open_err(&codec, &resealed), Error::Revoked);
}

#[test]
fn a_sub_second_cut_off_revokes_every_session_created_before_it() {
    // Creation times are whole seconds; the cut-off rounds up, so a session
    // created 300 ms before it cannot slip through.
    let clock = common::clock();
    let cut = t0() + Duration::from_millis(500);
    let codec = builder(&clock)
        .reject_created_before(cut)
        .build()
        .expect("valid");
    let earlier_deployment = default_codec(&clock);
    let now = t0() + MIN;
    for (offset_ms, revoked) in [
        (0, true),
        (200, true),
        (499, true),
        (700, true),
        (1000, false),
    ] {
        clock.set(t0() + Duration::from_millis(offset_ms));
        let cookie = earlier_deployment.seal(&sample()).expect("seals");
        // The codec with the cut-off makes new sessions created at the
        // cut-off (rounded up), which it opens.
        let own = codec.seal(&sample()).expect("seals");
        clock.set(now);
        let opened = codec
            .open::<UserSession>(&own)
            .unwrap_or_else(|e| panic!("{offset_ms} ms: {e}"));
        assert_eq!(
            opened.envelope().created_at(),
            t0() + secs(1),
            "{offset_ms} ms"
        );
        let result = codec.open::<UserSession>(&cookie);
        if revoked {
            assert_eq!(result.unwrap_err(), Error::Revoked, "{offset_ms} ms");
        } else {
            result.unwrap_or_else(|e| panic!("{offset_ms} ms: {e}"));
        }
    }
    // A cut-off on a whole second is not moved.
    clock.set(t0());
    let whole = builder(&clock)
        .reject_created_before(t0())
        .build()
        .expect("valid");
    let cookie = whole.seal(&sample()).expect("seals");
    clock.set(now);
    whole
        .open::<UserSession>(&cookie)
        .expect("created at a whole-second cut-off opens");
}

// ---------------------------------------------------------------------------
// Size limits
// ---------------------------------------------------------------------------

/// Postcard length of a `Vec<u8>` of `n` bytes: varint length prefix plus data.
fn postcard_len(n: usize) -> usize {
    postcard::to_allocvec(&vec![0u8; n])
        .expect("serializes")
        .len()
}

/// The largest `n` for which `codec` seals `vec![0xA5; n]` now (on its
/// clock), by binary search over `0..=hi`.
fn largest_sealable(codec: &Codec, hi: usize) -> usize {
    let fits = |n: usize| codec.seal(&vec![0xA5u8; n]).is_ok();
    assert!(fits(0));
    assert!(!fits(hi));
    let (mut lo, mut hi) = (0, hi);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    lo
}

#[test]
fn the_largest_payload_fills_the_cookie_to_within_base64_granularity() {
    let clock = common::clock();
    for name in [
        DEFAULT_COOKIE_NAME,
        "x",
        "a_much_longer_cookie_name_for_this_test",
    ] {
        for alg in Algorithm::ALL {
            let codec = builder(&clock)
                .cookie_name(name)
                .algorithm(alg)
                .build()
                .expect("valid");
            assert_eq!(
                common::setting(&codec, "max_cookie_size"),
                DEFAULT_MAX_COOKIE_SIZE.to_string()
            );
            let n = largest_sealable(&codec, 5000);
            // Linear confirmation around the search result.
            for m in n.saturating_sub(5)..=n {
                codec.seal(&vec![0xA5u8; m]).expect("fits");
            }
            let value = codec.seal(&vec![0xA5u8; n]).expect("fits");
            let size = name.len() + value.len();
            assert!(size <= 4096, "{name}/{alg}: {size}");
            assert!(size >= 4096 - 3, "{name}/{alg}: only {size} of 4096 used");
            codec
                .open::<Vec<u8>>(&value)
                .expect("the largest cookie opens");

            match codec.seal(&vec![0xA5u8; n + 1]) {
                Err(Error::TooLarge { size, limit }) => {
                    assert_eq!(limit, 4096);
                    assert!(size > limit, "{size}");
                    assert!(size <= limit + 3, "{size}");
                    // `size` is the size the cookie would have had.
                    let roomy = builder(&clock)
                        .cookie_name(name)
                        .algorithm(alg)
                        .max_cookie_size(8192)
                        .build()
                        .expect("valid");
                    let bigger = roomy.seal(&vec![0xA5u8; n + 1]).expect("fits");
                    assert_eq!(size, name.len() + bigger.len());
                }
                other => panic!(
                    "{name}/{alg}: expected TooLarge, got {:?}",
                    other.map(|_| ())
                ),
            }

            // The documented margin: a new session sealed today fits exactly
            // 9 bytes more than max_payload_len: its envelope's times take
            // 5 + 3 + 1 bytes (creation, a 12-hour lifetime, sealed at
            // creation) instead of the worst-case 6 + 6 + 6.
            let extra = postcard_len(n) - codec.max_payload_len();
            assert_eq!(extra, 9, "{name}/{alg}: {extra} bytes over max_payload_len");
        }
    }
}

#[test]
fn a_cookie_of_exactly_the_limit_seals_and_opens_and_one_byte_more_does_not() {
    let clock = common::clock();
    let roomy = |name: &str| {
        builder(&clock)
            .cookie_name(name)
            .max_cookie_size(MAX_COOKIE_SIZE_CEILING)
            .build()
            .expect("valid")
    };
    let mut landed = 0;
    // Several payload sizes, so that every base64 remainder is exercised.
    for n in 2960..2990 {
        let payload = vec![0x3Cu8; n];
        let value_len = roomy("m")
            .seal(&payload)
            .expect("fits the roomy codec")
            .len();
        let Some(name_len) = 4096usize.checked_sub(value_len) else {
            continue;
        };
        if !(1..=256).contains(&name_len) {
            continue;
        }
        landed += 1;
        let name = "c".repeat(name_len);
        let codec = builder(&clock)
            .cookie_name(name.clone())
            .build()
            .expect("valid");
        let value = codec
            .seal(&payload)
            .expect("name + value == limit exactly fits");
        assert_eq!(name.len() + value.len(), 4096, "n = {n}");
        let opened = codec
            .open::<Vec<u8>>(&value)
            .expect("a cookie of exactly the limit opens");
        assert_eq!(opened.value(), &payload);

        // One byte more of payload: over the limit.
        match codec.seal(&vec![0x3Cu8; n + 1]) {
            Err(Error::TooLarge { size, limit }) => {
                assert_eq!(limit, 4096);
                assert!(size > 4096, "n = {n}: {size}");
            }
            other => panic!("n = {n}: expected TooLarge, got {:?}", other.map(|_| ())),
        }
        // One byte more of name: exactly one over.
        let longer = builder(&clock)
            .cookie_name(format!("{name}c"))
            .build()
            .expect("valid");
        assert_eq!(
            longer.seal(&payload).unwrap_err(),
            Error::TooLarge {
                size: 4097,
                limit: 4096
            }
        );
        // The same value offered under the longer name is refused before
        // decoding.
        assert_eq!(
            open_bytes_err(&longer, &value),
            Error::TooLarge {
                size: 4097,
                limit: 4096
            }
        );
    }
    assert!(landed >= 10, "only {landed} payload sizes landed exactly");
}

#[test]
fn max_payload_len_always_fits_at_any_date_and_is_tight() {
    assert_eq!(
        Codec::new(keyring(&[SECRET_A])).max_payload_len(),
        2977,
        "the documented default"
    );
    let clock = common::clock();
    let long_name = "n".repeat(256);
    // The worst case: every time of the envelope a 6-byte varint (at least
    // 2^35). A session created in 3058 that lives until 9999, sealed again
    // near the end.
    let created_late = UNIX_EPOCH + Duration::from_secs(1 << 35);
    let worst = UNIX_EPOCH + Duration::from_secs(MAX_TIME - 100);
    for name in ["session", "x", long_name.as_str()] {
        for limit in [
            name.len() + 112,
            name.len() + 113,
            name.len() + 114,
            name.len() + 115,
            1000,
            DEFAULT_MAX_COOKIE_SIZE,
            MAX_COOKIE_SIZE_CEILING,
        ] {
            for alg in Algorithm::ALL {
                let codec = builder(&clock)
                    .cookie_name(name)
                    .max_cookie_size(limit)
                    .algorithm(alg)
                    .lifetime(Duration::from_secs(MAX_TIME))
                    .idle_timeout(None)
                    .build()
                    .expect("valid");
                let max = codec.max_payload_len();
                let payload = vec![0x99u8; max];
                // A new session created at each of these instants.
                for now in [UNIX_EPOCH + secs(1), t0(), worst] {
                    clock.set(now);
                    let value = codec
                        .seal_bytes(&payload, &SealOptions::new())
                        .unwrap_or_else(|e| panic!("{name:.8}/{limit}/{alg} at {now:?}: {e}"));
                    assert!(name.len() + value.len() <= limit);
                    let opened = codec
                        .open_bytes(&value, &OpenOptions::new())
                        .expect("opens");
                    assert_eq!(opened.value().as_slice(), payload.as_slice());
                }
                // Through serde as well: a Vec<u8> whose postcard form is
                // max_payload_len bytes.
                if max > 0 {
                    let n = (0..=max)
                        .rev()
                        .find(|&n| postcard_len(n) == max)
                        .or_else(|| (0..=max).rev().find(|&n| postcard_len(n) <= max))
                        .expect("some length fits");
                    clock.set(created_late);
                    let envelope = new_envelope(&codec);
                    clock.set(worst);
                    codec
                        .seal_with(&vec![1u8; n], &SealOptions::new().envelope(envelope))
                        .expect("serde payload of max_payload_len fits");
                }
                // In the worst case (every time a 6-byte varint) the bound
                // is tight: max_payload_len fits and one byte more does not.
                clock.set(created_late);
                let envelope = new_envelope(&codec);
                clock.set(worst);
                let value = codec
                    .seal_bytes(&payload, &SealOptions::new().envelope(envelope))
                    .expect("fits in the worst case");
                assert!(name.len() + value.len() <= limit);
                match codec.seal_bytes(&vec![0u8; max + 1], &SealOptions::new().envelope(envelope))
                {
                    Err(Error::TooLarge { size, limit: l }) => {
                        assert_eq!(l, limit);
                        assert!(size > limit);
                    }
                    other => panic!(
                        "{name:.8}/{limit}/{alg}: expected TooLarge, got {:?}",
                        other.map(|_| ())
                    ),
                }
            }
        }
    }
}

#[test]
fn oversized_values_are_refused_before_any_decoding() {
    let clock = common::clock();
    let codec = default_codec(&clock);
    let name = DEFAULT_COOKIE_NAME.len();
    let junk = "!".repeat(5000);
    assert_eq!(
        open_err(&codec, &junk),
        Error::TooLarge {
            size: name + 5000,
            limit: 4096
        }
    );
    // One over the limit, even of otherwise valid characters.
    let just_over = "A".repeat(4096 - name + 1);
    assert_eq!(
        open_err(&codec, &just_over),
        Error::TooLarge {
            size: 4097,
            limit: 4096
        }
    );
    // At the limit the same junk is decoded and found malformed.
    let at_limit = "!".repeat(4096 - name);
    assert_eq!(
        open_err(&codec, &at_limit),
        Error::Malformed(Malformed::Encoding)
    );
    // Multi-byte characters count as bytes.
    let wide = "é".repeat(2045);
    assert_eq!(
        open_err(&codec, &wide),
        Error::TooLarge {
            size: name + 4090,
            limit: 4096
        }
    );
    let err = open_err(&codec, &junk);
    assert!(!err.is_possible_tampering());
    let msg = err.to_string();
    assert!(msg.contains("5014") && msg.contains("4096"), "{msg}");
}

#[test]
fn a_custom_max_cookie_size_is_enforced_both_ways() {
    let clock = common::clock();
    let codec = builder(&clock)
        .cookie_name("sid")
        .max_cookie_size(1024)
        .build()
        .expect("valid");
    assert_eq!(common::setting(&codec, "max_cookie_size"), "1024");
    let max = codec.max_payload_len();
    // 1021 characters hold 255 groups of 3 bytes; the 1 left over holds none.
    assert_eq!(max, (1021 / 4) * 3 - 84, "max_decoded_len(1021) - 84");
    let fits = codec
        .seal(&vec![7u8; max - 2])
        .expect("max_payload_len fits");
    assert!(3 + fits.len() <= 1024);
    match codec.seal(&vec![7u8; 2000]) {
        Err(Error::TooLarge { size, limit }) => {
            assert_eq!(limit, 1024);
            assert!(size > 2000, "{size}");
        }
        other => panic!("expected TooLarge, got {:?}", other.map(|_| ())),
    }
    // A cookie sealed under the default limit is too large for this codec
    // before anything else is looked at.
    let default = builder(&clock).cookie_name("sid").build().expect("valid");
    let big = default.seal(&vec![7u8; 1500]).expect("fits 4096");
    assert_eq!(
        open_err(&codec, &big),
        Error::TooLarge {
            size: 3 + big.len(),
            limit: 1024
        }
    );
    assert_eq!(
        open_err(&codec, &"A".repeat(1022)),
        Error::TooLarge {
            size: 1025,
            limit: 1024
        }
    );
}

#[test]
fn max_cookie_size_bounds_are_checked_at_build() {
    let clock = common::clock();
    let build = |name: &str, limit: usize| {
        builder(&clock)
            .cookie_name(name)
            .max_cookie_size(limit)
            .build()
    };
    // An empty session at the worst date needs 84 token bytes (46 of
    // token, 38 of envelope): 112 characters.
    for name in ["session", "x", "n".repeat(256).as_str()] {
        let minimum = name.len() + 112;
        let err = build(name, minimum - 1).expect_err("too small");
        assert_eq!(
            err,
            ConfigError::CookieSizeTooSmall {
                limit: minimum - 1,
                minimum
            }
        );
        let msg = err.to_string();
        assert!(msg.contains(&minimum.to_string()), "{msg}");
        let codec = build(name, minimum).expect("the minimum is enough");
        assert_eq!(codec.max_payload_len(), 0);
        let worst = UNIX_EPOCH + Duration::from_secs(MAX_TIME - 100);
        clock.set(worst);
        let value = codec.seal(&()).expect("an empty session fits");
        codec.open::<()>(&value).expect("opens");
        clock.set(t0());
    }
    assert!(build("session", 0).is_err());
    build("session", MAX_COOKIE_SIZE_CEILING).expect("the ceiling itself is allowed");
}

#[test]
fn a_max_cookie_size_over_the_ceiling_is_reported_as_such() {
    let config = Codec::builder(keyring(&[SECRET_A]))
        .max_cookie_size(MAX_COOKIE_SIZE_CEILING + 1)
        .build()
        .expect_err("over the ceiling");
    assert_eq!(
        config,
        ConfigError::CookieSizeTooLarge {
            limit: MAX_COOKIE_SIZE_CEILING + 1,
            ceiling: MAX_COOKIE_SIZE_CEILING
        }
    );
    // As an `Error` (what `?` makes of it in a function returning one).
    let err = Error::from(config.clone());
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(err.code(), "config");
    // The message must tell the user what is wrong: the value is too large,
    // and what the ceiling is.
    for msg in [err.to_string(), config.to_string()] {
        assert!(
            !msg.contains("too small"),
            "a size over the ceiling is reported as too small: {msg}"
        );
        assert!(
            msg.contains(&MAX_COOKIE_SIZE_CEILING.to_string()),
            "the message does not name the ceiling: {msg}"
        );
    }
}

// ---------------------------------------------------------------------------
// Strict base64
// ---------------------------------------------------------------------------

#[test]
fn only_strict_unpadded_base64url_is_accepted() {
    let clock = common::clock();
    let codec = default_codec(&clock);
    let encoding = Error::Malformed(Malformed::Encoding);

    // Values of every length remainder (0, 2 and 3 mod 4).
    let mut remainders = BTreeSet::new();
    for n in 0..6usize {
        let cookie = codec.seal(&vec![0u8; n]).expect("seals");
        codec.open::<Vec<u8>>(&cookie).expect("opens");
        remainders.insert(cookie.len() % 4);

        for padded in [
            format!("{cookie}="),
            format!("{cookie}=="),
            format!("{cookie}==="),
        ] {
            assert_eq!(open_bytes_err(&codec, &padded), encoding, "{padded}");
        }
        for (i, c) in cookie.char_indices() {
            let swap = match c {
                '-' => '+',
                '_' => '/',
                _ => continue,
            };
            let mut bad = cookie.clone();
            bad.replace_range(i..=i, &swap.to_string());
            assert_eq!(open_bytes_err(&codec, &bad), encoding, "{bad}");
        }
        for i in [0, 1, 5, cookie.len() / 2, cookie.len() - 1, cookie.len()] {
            for ws in [" ", "\n", "\r\n", "\t"] {
                let mut bad = cookie.clone();
                bad.insert_str(i, ws);
                assert_eq!(open_bytes_err(&codec, &bad), encoding, "{ws:?} at {i}");
            }
        }
        for quoted in [
            format!("\"{cookie}\""),
            format!(" {cookie}"),
            format!("{cookie} "),
        ] {
            assert_eq!(open_bytes_err(&codec, &quoted), encoding);
        }
    }
    assert_eq!(
        remainders,
        BTreeSet::from([0, 2, 3]),
        "payload sizes 0..6 cover every remainder"
    );

    // '+' and '/' anywhere, even where the value has no '-' or '_'.
    let cookie = codec.seal(&sample()).expect("seals");
    for i in [0, 10, 100, cookie.len() - 1] {
        for swap in ["+", "/"] {
            let mut bad = cookie.clone();
            bad.replace_range(i..=i, swap);
            assert_eq!(open_bytes_err(&codec, &bad), encoding);
        }
    }

    // Non-canonical trailing bits: for a length of 2 or 3 mod 4, the last
    // character carries unused low bits that must be zero.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut checked = 0;
    for n in 0..6usize {
        let cookie = codec.seal(&vec![0u8; n]).expect("seals");
        let unused_bits = match cookie.len() % 4 {
            2 => 4,
            3 => 2,
            _ => continue,
        };
        let last = *cookie.as_bytes().last().expect("non-empty");
        let index = ALPHABET.iter().position(|&c| c == last).expect("alphabet");
        assert_eq!(index % (1 << unused_bits), 0, "the encoder is canonical");
        for bit in 0..unused_bits {
            let mut bad = cookie.clone();
            bad.pop();
            bad.push(ALPHABET[index | (1 << bit)] as char);
            // The decoded bytes would be identical: only strictness rejects it.
            assert_eq!(open_bytes_err(&codec, &bad), encoding, "{bad}");
            checked += 1;
        }
    }
    assert!(checked >= 6);

    // A length of 1 mod 4 never decodes.
    let mut one_over = cookie.clone();
    while one_over.len() % 4 != 1 {
        one_over.push('A');
    }
    assert_eq!(open_bytes_err(&codec, &one_over), encoding);

    // Standard base64 of a real token, with padding, is refused.
    let token = decode(&cookie);
    let standard = base64::engine::general_purpose::STANDARD.encode(&token);
    if standard != cookie {
        assert_eq!(open_bytes_err(&codec, &standard), encoding);
    }
}

// ---------------------------------------------------------------------------
// Configuration errors
// ---------------------------------------------------------------------------

#[test]
fn invalid_cookie_names_are_rejected() {
    let clock = common::clock();
    let build = |name: String| builder(&clock).cookie_name(name).build();
    let bad = [
        String::new(),
        "my session".into(),
        "a;b".into(),
        "a=b".into(),
        "a,b".into(),
        "caf\u{e9}".into(),
        "\u{1f36a}".into(),
        "tab\there".into(),
        "new\nline".into(),
        "quote\"d".into(),
        "(paren)".into(),
        "a/b".into(),
        "a\\b".into(),
        "del\u{7f}".into(),
        "x".repeat(257),
    ];
    for name in bad {
        match build(name.clone()) {
            Err(ConfigError::InvalidCookieName { reason }) => {
                assert!(!reason.is_empty());
                let err = build(name.clone()).expect_err("invalid");
                assert!(err.to_string().contains(reason), "{err}");
                assert!(Error::from(err).to_string().contains(reason));
            }
            other => panic!("{name:?}: expected InvalidCookieName, got {other:?}"),
        }
    }
    for good in [
        "x".repeat(256),
        "__Host-session".into(),
        "sid".into(),
        "a.b-c_d!#$%&'*+^`|~".into(),
    ] {
        let codec = build(good.clone()).unwrap_or_else(|e| panic!("{good:?}: {e}"));
        let cookie = codec.seal(&1u32).expect("seals");
        codec.open::<u32>(&cookie).expect("opens");
    }
}

#[test]
fn zero_durations_are_rejected() {
    let clock = common::clock();
    let builder = || builder(&clock);
    for short in [Duration::ZERO, Duration::from_millis(999)] {
        assert_eq!(
            builder().lifetime(short).build().unwrap_err(),
            ConfigError::DurationTooShort {
                setting: "lifetime"
            }
        );
        assert_eq!(
            builder().idle_timeout(short).build().unwrap_err(),
            ConfigError::DurationTooShort {
                setting: "idle_timeout"
            }
        );
    }
    let msg = builder()
        .idle_timeout(Duration::ZERO)
        .build()
        .unwrap_err()
        .to_string();
    assert!(msg.contains("idle_timeout"), "{msg}");
    let codec = builder()
        .lifetime(secs(1))
        .idle_timeout(secs(1))
        .build()
        .expect("one second is enough");
    let cookie = codec.seal(&1u8).expect("seals");
    codec.open::<u8>(&cookie).expect("opens");
    clock.set(t0() + secs(1));
    assert_eq!(
        codec.open::<u8>(&cookie).unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
}

// ---------------------------------------------------------------------------
// Serialization and deserialization
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Different {
    flag: bool,
    when: u64,
    name: String,
}

#[test]
fn authentic_payloads_of_the_wrong_shape_fail_to_deserialize() {
    let clock = common::clock();
    let codec = default_codec(&clock);
    let cookie = codec.seal(&(7u32, String::from("hello"))).expect("seals");
    codec
        .open::<(u32, String)>(&cookie)
        .expect("opens as itself");
    match codec.open::<Different>(&cookie) {
        Err(e) => assert_eq!(e, Error::Deserialize),
        Ok(o) => panic!("opened as {:?}", o.value()),
    }
    match codec.open::<UserSession>(&cookie) {
        Err(e) => assert_eq!(e, Error::Deserialize),
        Ok(o) => panic!("opened as {:?}", o.value()),
    }

    // Leftover bytes are an error, not silently ignored.
    let pair = codec.seal(&(1u8, 2u8)).expect("seals");
    assert_eq!(codec.open::<u8>(&pair).unwrap_err(), Error::Deserialize);
    let opened = codec.open::<(u8, u8)>(&pair).expect("opens");
    assert_eq!(opened.value(), &(1, 2));

    // Clock rules come before deserialization.
    clock.set(t0() + DEFAULT_LIFETIME);
    assert_eq!(
        codec.open::<u8>(&pair).unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    clock.set(t0());

    // Raw bytes round-trip without postcard, into an existing session too.
    let envelope = new_envelope(&codec);
    let raw = codec
        .seal_bytes(
            b"\xff\xfe not postcard",
            &SealOptions::new().envelope(envelope),
        )
        .expect("seals");
    let opened = codec.open_bytes(&raw, &OpenOptions::new()).expect("opens");
    assert_eq!(opened.value().as_slice(), b"\xff\xfe not postcard");
    assert_eq!(opened.envelope().id(), envelope.id());
    assert_eq!(codec.open::<String>(&raw).unwrap_err(), Error::Deserialize);
}

/// A sequence that does not announce its length, which postcard cannot
/// write.
struct UnsizedSeq;

impl Serialize for UnsizedSeq {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        seq.serialize_element(&1u8)?;
        seq.end()
    }
}

/// A value whose `Serialize` always fails.
struct Failing;

impl Serialize for Failing {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refused"))
    }
}

/// A value that serializes to a different length every time.
struct Shifty {
    calls: Cell<usize>,
    lens: [usize; 2],
}

impl Serialize for Shifty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let call = self.calls.get();
        self.calls.set(call + 1);
        let len = self.lens[call.min(1)];
        s.serialize_bytes(&vec![0x42; len])
    }
}

#[test]
fn values_that_cannot_be_serialized_are_reported() {
    let clock = common::clock();
    let codec = default_codec(&clock);
    assert_eq!(
        codec.seal(&UnsizedSeq).unwrap_err(),
        Error::Serialize(Unserializable::LengthUnknown)
    );
    assert_eq!(
        codec.seal(&Failing).unwrap_err(),
        Error::Serialize(Unserializable::Failed)
    );
    for lens in [[10, 5], [10, 20], [10, 0]] {
        let shifty = Shifty {
            calls: Cell::new(0),
            lens,
        };
        assert_eq!(
            codec.seal(&shifty).unwrap_err(),
            Error::Serialize(Unserializable::Failed),
            "{lens:?}"
        );
    }
    // A stable one of the same shape seals.
    let stable = Shifty {
        calls: Cell::new(0),
        lens: [10, 10],
    };
    let cookie = codec.seal(&stable).expect("seals");
    let opened = codec.open::<Vec<u8>>(&cookie).expect("opens");
    assert_eq!(opened.value(), &vec![0x42; 10]);
    let msg = Error::Serialize(Unserializable::LengthUnknown).to_string();
    assert!(msg.contains("length"), "{msg}");
    let msg = Error::Serialize(Unserializable::SkippedField).to_string();
    assert!(msg.contains("skip_serializing_if"), "{msg}");
}

// ---------------------------------------------------------------------------
// A token built independently from the documented format
// ---------------------------------------------------------------------------

/// Seals `plaintext` (envelope and payload) with the independent
/// implementation of the format (`tests/support/reference.rs`), unbound,
/// under the empty application label.
fn forge(secret: &str, cookie_name: &str, alg: Algorithm, plaintext: &[u8]) -> String {
    let keys = reference::derive(secret, "");
    let token = reference::seal_token(
        &keys,
        cookie_name,
        None,
        alg.wire_id(),
        &[0x24; 24],
        plaintext,
    );
    reference::encode(&token)
}

/// An envelope of raw fields under the empty schema label, with no payload.
fn envelope_bytes(created: u64, lifetime: u64, renewed: u64, id: [u8; 16]) -> Vec<u8> {
    reference::plaintext(
        created,
        lifetime,
        renewed,
        &reference::schema_id(""),
        &id,
        &[],
    )
}

#[test]
fn an_independently_built_token_opens_and_broken_envelopes_are_malformed() {
    let clock = common::clock();
    let codec = builder(&clock)
        .idle_timeout(10 * MIN)
        .max_lifetime(Duration::from_secs(MAX_TIME))
        .build()
        .expect("valid");
    let name = codec.cookie_name();
    let created = unix(t0());
    let id = [0x5Eu8; 16];
    let payload = postcard::to_allocvec(&(42u32, "hi")).expect("serializes");
    for alg in Algorithm::ALL {
        clock.set(t0());
        let mut plaintext = envelope_bytes(created, 3600, 0, id);
        plaintext.extend_from_slice(&payload);
        let cookie = forge(SECRET_A, name, alg, &plaintext);
        let opened = codec
            .open::<(u32, String)>(&cookie)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(opened.value(), &(42, "hi".to_string()));
        assert_eq!(opened.envelope().id().to_bytes(), id);
        assert_eq!(opened.envelope().created_at(), t0());
        assert_eq!(opened.envelope().renewed_at(), t0());
        assert_eq!(opened.envelope().absolute_deadline(), t0() + HOUR);
        // The idle deadline is the codec's idle timeout after the last seal.
        assert_eq!(opened.envelope().idle_deadline(), Some(t0() + 10 * MIN));
        assert_eq!(opened.algorithm(), alg);
        clock.set(t0() + 10 * MIN);
        assert_eq!(
            codec.open::<(u32, String)>(&cookie).unwrap_err(),
            Error::Expired {
                deadline: Deadline::Idle
            }
        );
        clock.set(t0());

        // Under another cookie name, or another secret with the right key
        // id, it does not authenticate.
        let elsewhere = forge(SECRET_A, "other", alg, &plaintext);
        assert_eq!(open_err(&codec, &elsewhere), Error::AuthenticationFailed);

        // Authentic tokens whose envelope breaks the rules.
        let tail = |out: &mut Vec<u8>| {
            out.extend(reference::schema_id(""));
            out.extend_from_slice(&id);
        };
        // `created` with a redundant final zero group.
        let mut non_minimal = Vec::new();
        reference::write_varint(&mut non_minimal, created);
        *non_minimal.last_mut().expect("non-empty") |= 0x80;
        non_minimal.push(0x00);
        reference::write_varint(&mut non_minimal, 3600);
        reference::write_varint(&mut non_minimal, 0);
        tail(&mut non_minimal);
        // Zero written in two bytes.
        let mut overlong_zero = Vec::new();
        reference::write_varint(&mut overlong_zero, created);
        reference::write_varint(&mut overlong_zero, 3600);
        overlong_zero.extend([0x80, 0x00]);
        tail(&mut overlong_zero);
        let mut non_minimal_last = Vec::new();
        reference::write_varint(&mut non_minimal_last, created);
        reference::write_varint(&mut non_minimal_last, 3600);
        non_minimal_last.extend([0x81, 0x00]); // 1 with a redundant final group
        tail(&mut non_minimal_last);
        let full = envelope_bytes(created, 10, 0, id);
        let broken: Vec<(&str, Vec<u8>)> = vec![
            ("empty plaintext", Vec::new()),
            (
                "sealed after the absolute deadline",
                envelope_bytes(created, 10, 11, id),
            ),
            (
                "absolute deadline past MAX_TIME",
                envelope_bytes(created, MAX_TIME - created + 1, 0, id),
            ),
            (
                "lifetime overflows",
                envelope_bytes(created, u64::MAX, 0, id),
            ),
            (
                "created past MAX_TIME",
                envelope_bytes(MAX_TIME + 1, 0, 0, id),
            ),
            ("session id cut short", full[..full.len() - 1].to_vec()),
            ("schema id cut short", full[..full.len() - 17].to_vec()),
            ("varint cut off", vec![0x80]),
            ("eleven-byte varint", [vec![0xff; 10], vec![0x01]].concat()),
            ("non-minimal varint", non_minimal),
            ("overlong zero", overlong_zero),
            ("redundant final varint group", non_minimal_last),
        ];
        for (what, plaintext) in broken {
            let cookie = forge(SECRET_A, name, alg, &plaintext);
            let err = open_bytes_err(&codec, &cookie);
            assert_eq!(err, Error::Malformed(Malformed::Envelope), "{alg}: {what}");
            assert_eq!(err.code(), "malformed");
        }
        // Right at the rules' edges the envelope is fine.
        for (created_at, lifetime, renewed) in [
            // Sealed in the last second before its deadline.
            (created - 3590, 3600, 3600),
            (created, MAX_TIME - created, 0),
            (0, created + 3600, created),
        ] {
            let plaintext = envelope_bytes(created_at, lifetime, renewed, id);
            let cookie = forge(SECRET_A, name, alg, &plaintext);
            codec
                .open_bytes(&cookie, &OpenOptions::new())
                .unwrap_or_else(|e| panic!("{alg}: {created_at}/{lifetime}/{renewed}: {e}"));
        }
    }
}

// ---------------------------------------------------------------------------
// Types, codes and messages
// ---------------------------------------------------------------------------

#[test]
fn codec_and_keyring_are_shareable_across_threads() {
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_shareable::<Codec>();
    assert_shareable::<Keyring>();
    assert_shareable::<Error>();
    assert_shareable::<ConfigError>();
    assert_shareable::<ManualClock>();
    assert_error::<Error>();
    assert_error::<ConfigError>();

    // The clones on the other threads share the clock.
    let clock = common::clock();
    let codec = default_codec(&clock);
    let cookie = codec.seal(&sample()).expect("seals");
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let codec = codec.clone();
            let cookie = cookie.clone();
            std::thread::spawn(move || {
                let opened = codec
                    .open::<UserSession>(&cookie)
                    .expect("opens on another thread");
                codec
                    .seal(&(i, opened.into_value().user_id))
                    .expect("seals on another thread")
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        let sealed = handle.join().expect("no panic");
        let opened = codec.open::<(i32, u64)>(&sealed).expect("opens");
        assert_eq!(opened.value(), &(i as i32, 1_234_567));
        assert_eq!(opened.envelope().created_at(), t0());
    }
}

#[test]
fn every_producible_error_has_its_own_code_and_an_actionable_message() {
    let clock = common::clock();
    let codec = builder(&clock)
        .lifetime(HOUR)
        .idle_timeout(10 * MIN)
        .reject_created_before(t0())
        .build()
        .expect("valid");
    let cookie = codec.seal(&sample()).expect("seals");
    let token = decode(&cookie);
    let with = |i: usize, b: u8| {
        let mut t = token.clone();
        t[i] = b;
        encode(&t)
    };
    clock.set(t0() - secs(1));
    let old = default_codec(&clock).seal(&sample()).expect("seals");
    // The errors of the clock rules, each at its instant.
    clock.set(t0() + HOUR);
    let expired_absolute = open_err(&codec, &cookie);
    clock.set(t0() + 10 * MIN);
    let expired_idle = open_err(&codec, &cookie);
    clock.set(t0() - 2 * MIN);
    let not_yet_valid = open_err(&codec, &cookie);
    clock.set(t0());

    let produced: Vec<(Error, &[&str])> = vec![
        (
            open_err(&codec, &"!".repeat(5000)),
            &["5014", "4096", "server-side"],
        ),
        (open_err(&codec, "a b"), &["base64url"]),
        (open_err(&codec, "AAAA"), &["shorter"]),
        (open_err(&codec, &with(0, 9)), &["version 9", "version 1"]),
        (open_err(&codec, &with(1, 0x7f)), &["0x7f"]),
        (
            open_err(&codec, &with(2, token[2] ^ 1)),
            &["not in the keyring"],
        ),
        (open_err(&codec, &with(40, token[40] ^ 1)), &["modified"]),
        (expired_absolute, &["absolute lifetime"]),
        (expired_idle, &["idle"]),
        (not_yet_valid, &["clock"]),
        (open_err(&codec, &old), &["cut-off"]),
        (codec.open::<u8>(&cookie).unwrap_err(), &["does not decode"]),
        (codec.seal(&UnsizedSeq).unwrap_err(), &["postcard"]),
        (
            builder(&clock)
                .schema("another")
                .build()
                .expect("valid")
                .open::<UserSession>(&cookie)
                .unwrap_err(),
            &["schema"],
        ),
        (
            builder(&clock)
                .open_algorithms([Algorithm::XChaCha20Poly1305])
                .algorithm(Algorithm::XChaCha20Poly1305)
                .build()
                .expect("valid")
                .open::<UserSession>(&cookie)
                .unwrap_err(),
            &["xaes-256-gcm", "does not open"],
        ),
        (
            Error::from(
                Codec::builder(keyring(&[SECRET_A]))
                    .cookie_name("")
                    .build()
                    .unwrap_err(),
            ),
            &["cookie name", "empty"],
        ),
        (Error::Random, &["random"]),
    ];
    let forged = forge(SECRET_A, codec.cookie_name(), Algorithm::XAes256Gcm, &[]);
    let envelope = open_bytes_err(&codec, &forged);
    assert_eq!(envelope, Error::Malformed(Malformed::Envelope));
    assert!(envelope.to_string().contains("envelope"), "{envelope}");

    let mut codes = BTreeSet::new();
    let mut malformed_messages = BTreeSet::new();
    for (err, needles) in &produced {
        let msg = err.to_string();
        assert!(!msg.is_empty(), "{err:?}");
        assert!(msg.len() > 20, "{err:?}: too terse to act on: {msg}");
        for needle in *needles {
            assert!(msg.contains(needle), "{err:?}: {msg:?} lacks {needle:?}");
        }
        let code = err.code();
        assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{code}"
        );
        if let Error::Malformed(_) = err {
            malformed_messages.insert(msg);
        } else {
            assert!(codes.insert(code), "code {code} is shared by two variants");
        }
        assert_eq!(
            err.is_possible_tampering(),
            *err == Error::AuthenticationFailed
        );
    }
    assert_eq!(malformed_messages.len(), 2, "Encoding and Truncated differ");
    codes.insert("malformed");
    assert_eq!(
        codes,
        BTreeSet::from([
            "too-large",
            "malformed",
            "unsupported-version",
            "unknown-algorithm",
            "unknown-key",
            "authentication-failed",
            "expired-absolute",
            "expired-idle",
            "not-yet-valid",
            "revoked",
            "schema-mismatch",
            "disabled-algorithm",
            "deserialize",
            "serialize",
            "config",
            "random",
        ])
    );
    // The specific variants behind the messages.
    assert_eq!(produced[1].0, Error::Malformed(Malformed::Encoding));
    assert_eq!(produced[2].0, Error::Malformed(Malformed::Truncated));
    assert_eq!(produced[3].0, Error::UnsupportedVersion(9));
    assert_eq!(produced[4].0, Error::UnknownAlgorithm(0x7f));
    assert_eq!(produced[6].0, Error::AuthenticationFailed);
    assert_eq!(produced[9].0, Error::NotYetValid);
    assert_eq!(produced[10].0, Error::Revoked);
}

#[test]
fn sealing_never_revives_a_session_that_would_not_open() {
    let clock = common::clock();
    let codec = builder(&clock)
        .idle_timeout(30 * MIN)
        .build()
        .expect("valid");
    let opened = codec
        .open::<UserSession>(&codec.seal(&sample()).expect("seals"))
        .expect("opens");

    // Kept in memory past its idle deadline: resealing must not extend it.
    clock.set(t0() + 30 * MIN);
    assert_eq!(
        codec
            .seal_with(opened.value(), &opened.seal_options())
            .unwrap_err(),
        Error::Expired {
            deadline: Deadline::Idle
        }
    );
    // Just before the idle deadline it reseals, and the new cookie carries
    // the same session sealed now: same id, creation time and absolute
    // deadline, its idle window started again.
    let now = t0() + 30 * MIN - secs(1);
    clock.set(now);
    let value = codec
        .seal_with(opened.value(), &opened.seal_options())
        .expect("reseals");
    let resealed = codec.open::<UserSession>(&value).expect("opens");
    let (before, after) = (opened.envelope(), resealed.envelope());
    assert_eq!(after.id(), before.id());
    assert_eq!(after.created_at(), before.created_at());
    assert_eq!(after.absolute_deadline(), before.absolute_deadline());
    assert_eq!(after.renewed_at(), now);
    assert_eq!(after.idle_deadline(), Some(now + 30 * MIN));
    assert_eq!(after.expires_at(), now + 30 * MIN);

    // Past the absolute deadline.
    clock.set(opened.envelope().absolute_deadline());
    assert_eq!(
        codec
            .seal_with(opened.value(), &opened.seal_options())
            .unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    // An envelope created further ahead than the leeway.
    clock.set(t0() + 2 * MIN);
    let future = new_envelope(&codec);
    clock.set(t0());
    assert_eq!(
        codec
            .seal_with(&sample(), &SealOptions::new().envelope(future))
            .unwrap_err(),
        Error::NotYetValid
    );
    clock.set(t0() + MIN);
    codec
        .seal_with(&sample(), &SealOptions::new().envelope(future))
        .expect("within the leeway");
}

/// Uses the system clock on purpose: the ids and nonces are drawn whatever
/// the time.
#[test]
fn every_new_session_gets_its_own_random_id_and_nonce() {
    let codec = Codec::new(Keyring::new(["a secret that is at least 32 bytes long"]).unwrap());
    let mut ids = std::collections::HashSet::new();
    let mut nonces = std::collections::HashSet::new();
    for _ in 0..64 {
        let value = codec.seal(&1u8).unwrap();
        let id = codec.open::<u8>(&value).unwrap().envelope().id().to_bytes();
        assert_ne!(id, [0; 16], "the id is drawn, never the placeholder");
        assert!(ids.insert(id), "ids repeat");
        let token = decode(&value);
        assert!(nonces.insert(token[6..30].to_vec()), "nonces repeat");
        // The id and the nonce come from one draw but never overlap.
        assert!(!token[6..30].windows(16).any(|w| w == id));
    }
}

// ---------------------------------------------------------------------------
// Security review, round 2: schema labels, configured limits governing
// issued cookies, algorithms that open, application labels, cut-offs
// ---------------------------------------------------------------------------

/// The review's first case: postcard writes enum variants by index, so a
/// type whose variants are reordered reads old cookies with the new meaning.
/// Without a schema label the crate cannot tell (shown first, as the danger
/// the label exists for); with labels the old cookie is refused.
#[test]
fn a_reordered_enum_is_caught_by_the_schema_label() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum RoleV1 {
        User,
        Admin,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum RoleV2 {
        Admin,
        User,
    }
    let clock = common::clock();
    // The danger: same schema label, different meaning.
    let same = default_codec(&clock);
    let cookie = same.seal(&RoleV1::User).expect("seals");
    let misread = same.open::<RoleV2>(&cookie).expect("decodes");
    assert_eq!(misread.value(), &RoleV2::Admin, "a User became an Admin");

    // With labels: refused, with its own code, never decoded.
    let v1 = builder(&clock).schema("role-v1").build().expect("valid");
    let v2 = builder(&clock).schema("role-v2").build().expect("valid");
    assert_eq!(
        (
            common::setting(&v1, "schema"),
            common::setting(&v2, "schema")
        ),
        ("\"role-v1\"".to_string(), "\"role-v2\"".to_string())
    );
    let cookie = v1.seal(&RoleV1::User).expect("seals");
    let err = v2.open::<RoleV2>(&cookie).unwrap_err();
    assert_eq!(err, Error::SchemaMismatch);
    assert_eq!(err.code(), "schema-mismatch");
    assert!(!err.is_possible_tampering());
    assert_eq!(
        v2.open_bytes(&cookie, &OpenOptions::new()).unwrap_err(),
        Error::SchemaMismatch,
        "raw payloads are not handed out under another schema either"
    );
    // The default (empty) label is a label like any other.
    assert_eq!(common::setting(&same, "schema"), "\"\"");
    assert_eq!(
        same.open::<RoleV1>(&cookie).unwrap_err(),
        Error::SchemaMismatch
    );
    let unlabelled = same.seal(&RoleV1::User).expect("seals");
    assert_eq!(
        v1.open::<RoleV1>(&unlabelled).unwrap_err(),
        Error::SchemaMismatch
    );
    // Under its own label it opens.
    assert_eq!(
        v1.open::<RoleV1>(&cookie).expect("opens").value(),
        &RoleV1::User
    );
}

/// The schema id is checked after authentication and after the clock: a
/// tampered cookie of another schema is tampering, an expired one expired.
#[test]
fn the_schema_is_checked_after_authentication_and_the_clock() {
    let clock = common::clock();
    let v1 = builder(&clock)
        .schema("v1")
        .idle_timeout(None)
        .build()
        .expect("valid");
    let v2 = builder(&clock)
        .schema("v2")
        .idle_timeout(None)
        .build()
        .expect("valid");
    let cookie = v1.seal(&sample()).expect("seals");
    let mut token = decode(&cookie);
    token[40] ^= 1;
    assert_eq!(open_err(&v2, &encode(&token)), Error::AuthenticationFailed);
    clock.set(t0() + DEFAULT_LIFETIME);
    assert_eq!(
        open_err(&v2, &cookie),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    clock.set(t0());
    assert_eq!(open_err(&v2, &cookie), Error::SchemaMismatch);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CartV1 {
    items: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CartV2 {
    items: Vec<(String, u32)>,
    coupon: Option<String>,
}

fn migrate(old: CartV1) -> CartV2 {
    CartV2 {
        items: old.items.into_iter().map(|sku| (sku, 1)).collect(),
        coupon: None,
    }
}

#[test]
fn a_migration_converts_cookies_of_the_previous_schema() {
    let clock = common::clock();
    let v1 = builder(&clock).schema("cart-v1").build().expect("valid");
    let v2 = builder(&clock)
        .schema("cart-v2")
        .migrate_from("cart-v1", migrate)
        .build()
        .expect("valid");
    let old = CartV1 {
        items: vec!["SKU-1".into(), "SKU-2".into()],
    };
    let cookie = v1.seal(&old).expect("seals");
    clock.set(t0() + MIN);
    let opened = v2.open::<CartV2>(&cookie).expect("migrates");
    assert_eq!(opened.value(), &migrate(old.clone()));
    assert!(opened.migrated());
    assert!(opened.needs_reseal(), "a migrated cookie is sealed again");
    assert!(!opened.sealed_with_old_secret());
    // The session stays the same session.
    clock.set(t0());
    let original = v1.open::<CartV1>(&cookie).expect("opens");
    assert_eq!(opened.envelope().id(), original.envelope().id());
    assert_eq!(
        opened.envelope().created_at(),
        original.envelope().created_at()
    );

    // Resealed, it is a v2 cookie: a codec without the migration opens it.
    clock.set(t0() + MIN);
    let resealed = v2
        .seal_with(opened.value(), &opened.seal_options())
        .expect("reseals");
    let v2_only = builder(&clock).schema("cart-v2").build().expect("valid");
    let current = v2_only.open::<CartV2>(&resealed).expect("opens");
    assert!(!current.migrated() && !current.needs_reseal());
    assert_eq!(current.value(), opened.value());
    assert_eq!(current.envelope().id(), original.envelope().id());
    clock.set(t0());
    assert_eq!(
        v2_only.open::<CartV2>(&cookie).unwrap_err(),
        Error::SchemaMismatch
    );

    // Only opens of the migration's target type use it.
    assert_eq!(
        v2.open::<CartV1>(&cookie).unwrap_err(),
        Error::SchemaMismatch
    );
    // An old payload that does not decode as the old type.
    let garbage = v1.seal(&(1u8, 2u8)).expect("seals");
    assert_eq!(v2.open::<CartV2>(&garbage).unwrap_err(), Error::Deserialize);
    // Cookies of a schema with no migration still fail.
    let v0 = builder(&clock)
        .schema("cart-v0")
        .build()
        .expect("valid")
        .seal(&old)
        .expect("seals");
    assert_eq!(v2.open::<CartV2>(&v0).unwrap_err(), Error::SchemaMismatch);
    let debug = format!("{v2:?}");
    assert!(
        debug.contains("cart-v1") && debug.contains("CartV2"),
        "{debug}"
    );
}

#[test]
fn labels_are_checked_when_building() {
    let clock = common::clock();
    let build = |app: &str, schema: &str| builder(&clock).app_label(app).schema(schema).build();
    let longest = "l".repeat(64);
    build(&longest, &longest).expect("64 bytes are allowed");
    build("", "").expect("empty labels are the default");
    for (app, schema, setting) in [
        ("with space", "", "app_label"),
        ("", "with space", "schema"),
        (&"l".repeat(65), "", "app_label"),
        ("", "tab\t", "schema"),
        ("é", "", "app_label"),
    ] {
        match build(app, schema) {
            Err(ConfigError::InvalidLabel { setting: s, .. }) => {
                assert_eq!(s, setting, "{app:?}/{schema:?}");
            }
            other => panic!("{app:?}/{schema:?}: {other:?}"),
        }
    }
    // A migration from the current schema, twice from one label, or from
    // an invalid label.
    let migration_err = |builder: CodecBuilder| match builder.build() {
        Err(ConfigError::InvalidLabel { setting, .. }) => setting,
        other => panic!("{other:?}"),
    };
    let base = || builder(&clock).schema("cart-v2");
    assert_eq!(
        migration_err(base().migrate_from("cart-v2", migrate)),
        "migrate_from"
    );
    assert_eq!(
        migration_err(
            base()
                .migrate_from("cart-v1", migrate)
                .migrate_from("cart-v1", migrate)
        ),
        "migrate_from"
    );
    assert_eq!(
        migration_err(base().migrate_from("cart v1", migrate)),
        "migrate_from"
    );
}

#[test]
fn the_app_label_separates_applications_that_share_a_secret() {
    let clock = common::clock();
    let labelled = |label: &str| {
        Codec::builder(keyring(&[SECRET_A, SECRET_B]))
            .app_label(label)
            .clock(clock.clone())
            .build()
            .expect("valid")
    };
    let shop = labelled("shop");
    let blog = labelled("blog");
    let plain = Codec::builder(keyring(&[SECRET_A, SECRET_B]))
        .clock(clock.clone())
        .build()
        .expect("valid");
    assert_eq!(common::setting(&shop, "app_label"), "\"shop\"");
    assert_eq!(common::setting(&plain, "app_label"), "\"\"");
    assert_eq!(common::key_ids(&shop).len(), 2);
    for (a, b) in [(&shop, &blog), (&shop, &plain), (&blog, &plain)] {
        for id in common::key_ids(a) {
            assert!(!common::key_ids(b).contains(&id), "a key id is shared");
        }
    }
    let cookie = shop.seal(&sample()).expect("seals");
    let shop_id = shop.open::<UserSession>(&cookie).expect("opens").key_id();
    assert_eq!(shop_id.to_bytes(), common::key_ids(&shop)[0]);
    assert_eq!(open_err(&blog, &cookie), Error::UnknownKey(shop_id));
    assert_eq!(open_err(&plain, &cookie), Error::UnknownKey(shop_id));
    // The key schedule with the label, computed independently.
    let expected = reference::derive(SECRET_A, "shop");
    assert_eq!(
        common::key_ids(&shop),
        [expected.id, reference::derive(SECRET_B, "shop").id]
    );
    assert_eq!(
        common::key_ids(&plain),
        [key_id_of(SECRET_A), key_id_of(SECRET_B)]
    );
    let mut opener = reference::Opener::new(&[SECRET_A], DEFAULT_COOKIE_NAME, unix(t0()));
    opener.app_label = "shop".into();
    assert_eq!(
        opener
            .open(&cookie)
            .map(|(session, index)| (session.key_id, index)),
        Ok((expected.id, 0))
    );
}

/// The configured idle timeout is what governs, whatever a cookie was
/// sealed with: enabling it after an incident reaches every cookie already
/// issued, and turning it off expires none.
#[test]
fn the_configured_idle_timeout_reaches_cookies_already_issued() {
    let clock = common::clock();
    let without = builder(&clock).idle_timeout(None).build().expect("valid");
    let with = builder(&clock)
        .idle_timeout(10 * MIN)
        .build()
        .expect("valid");
    let stricter = builder(&clock).idle_timeout(MIN).build().expect("valid");
    // Sealed where there was no idle timeout, then read where there is.
    let cookie = without.seal(&sample()).expect("seals");
    clock.set(t0() + 10 * MIN - secs(1));
    let opened = with
        .open::<UserSession>(&cookie)
        .expect("within the window since its seal");
    assert_eq!(opened.envelope().idle_deadline(), Some(t0() + 10 * MIN));
    clock.set(t0() + 10 * MIN);
    assert_eq!(
        open_err(&with, &cookie),
        Error::Expired {
            deadline: Deadline::Idle
        },
        "a copied cookie stops working once the configured window passed"
    );
    // A shorter timeout applies at once.
    clock.set(t0() + MIN);
    assert_eq!(
        open_err(&stricter, &cookie),
        Error::Expired {
            deadline: Deadline::Idle
        }
    );
    // Sealed with an idle timeout, read where there is none: still opens,
    // long after its old idle deadline.
    clock.set(t0());
    let cookie = with.seal(&sample()).expect("seals");
    clock.set(t0() + 6 * HOUR);
    let opened = without
        .open::<UserSession>(&cookie)
        .expect("turning the idle timeout off never logs anybody out");
    assert_eq!(opened.envelope().idle_deadline(), None);
    assert_eq!(opened.envelope().expires_at(), t0() + DEFAULT_LIFETIME);
}

#[test]
fn max_lifetime_is_checked_and_caps_issued_cookies() {
    let clock = common::clock();
    assert_eq!(
        builder(&clock)
            .lifetime(2 * HOUR)
            .max_lifetime(HOUR)
            .build()
            .unwrap_err(),
        ConfigError::MaxLifetimeTooShort
    );
    assert_eq!(
        builder(&clock)
            .max_lifetime(Duration::from_millis(500))
            .build()
            .unwrap_err(),
        ConfigError::DurationTooShort {
            setting: "max_lifetime"
        }
    );
    // A week-long cookie from a deployment that allowed it, opened where
    // sessions may live 12 hours: it ends 12 hours after its creation.
    let week = builder(&clock)
        .lifetime(7 * 24 * HOUR)
        .idle_timeout(None)
        .build()
        .expect("valid");
    let short = builder(&clock).idle_timeout(None).build().expect("valid");
    let cookie = week.seal(&sample()).expect("seals");
    clock.set(t0() + HOUR);
    let opened = short.open::<UserSession>(&cookie).expect("opens");
    assert_eq!(
        opened.envelope().absolute_deadline(),
        t0() + DEFAULT_LIFETIME
    );
    clock.set(t0() + DEFAULT_LIFETIME);
    assert_eq!(
        open_err(&short, &cookie),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    week.open::<UserSession>(&cookie)
        .expect("the week-long deployment still opens it");
}

#[test]
fn only_the_configured_algorithms_open() {
    let clock = common::clock();
    let xaes_only = builder(&clock)
        .open_algorithms([Algorithm::XAes256Gcm])
        .build()
        .expect("valid");
    let default = default_codec(&clock);
    // `Codec::new` has the builder's defaults (its `Debug` shows every
    // setting), but the system clock.
    let new = Codec::new(keyring(&[SECRET_A]));
    assert_eq!(common::setting(&new, "clock"), "SystemClock");
    assert!(common::setting(&default, "clock").starts_with("ManualClock {"));
    let (new, default_debug) = (format!("{new:?}"), format!("{default:?}"));
    assert_eq!(
        new.split(", clock: ").next(),
        default_debug.split(", clock: ").next()
    );
    assert_ne!(
        common::setting(&xaes_only, "open_algorithms"),
        common::setting(&default, "open_algorithms")
    );
    // No getter for the algorithms that open: what each codec opens shows
    // them. Both open by default; only XAES where it alone is configured.
    for alg in Algorithm::ALL {
        let cookie = codec_with(&clock, alg).seal(&sample()).expect("seals");
        default
            .open::<UserSession>(&cookie)
            .unwrap_or_else(|e| panic!("both open by default: {alg}: {e}"));
        let opened = xaes_only
            .open::<UserSession>(&cookie)
            .map(|o| o.algorithm());
        match alg {
            Algorithm::XAes256Gcm => assert_eq!(opened, Ok(alg)),
            _ => assert_eq!(opened, Err(Error::DisabledAlgorithm(alg))),
        }
    }
    let xchacha = codec_with(&clock, Algorithm::XChaCha20Poly1305);
    let cookie = xchacha.seal(&sample()).expect("seals");
    let err = open_err(&xaes_only, &cookie);
    assert_eq!(err, Error::DisabledAlgorithm(Algorithm::XChaCha20Poly1305));
    assert_eq!(err.code(), "disabled-algorithm");
    assert!(!err.is_possible_tampering());
    // Refused before any decryption: a forged token with that algorithm
    // byte gets the same error, not an authentication failure.
    let mut forged = decode(&cookie);
    forged[40] ^= 1;
    assert_eq!(
        open_err(&xaes_only, &encode(&forged)),
        Error::DisabledAlgorithm(Algorithm::XChaCha20Poly1305)
    );
    xaes_only
        .open::<UserSession>(&xaes_only.seal(&sample()).expect("seals"))
        .expect("XAES still opens");
    // The sealing algorithm must open.
    for opens in [vec![Algorithm::XChaCha20Poly1305], vec![]] {
        assert_eq!(
            builder(&clock).open_algorithms(opens).build().unwrap_err(),
            ConfigError::SealingAlgorithmNotOpened
        );
    }
}

/// Uses the system clock on purpose: the default clock is what `build`
/// checks a cut-off against when no clock is given.
#[test]
fn a_cut_off_in_the_future_is_refused_when_building() {
    let now = SystemTime::now();
    assert_eq!(
        Codec::builder(keyring(&[SECRET_A]))
            .reject_created_before(now + 2 * DEFAULT_LEEWAY)
            .build()
            .unwrap_err(),
        ConfigError::CutOffInFuture
    );
    // Within the leeway it is allowed, and new sessions are created at the
    // cut-off: they open at once (nobody is locked out).
    let soon = now + DEFAULT_LEEWAY / 2;
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .reject_created_before(soon)
        .build()
        .expect("within the leeway");
    let cookie = codec.seal(&sample()).expect("seals");
    let opened = codec.open::<UserSession>(&cookie).expect("opens now");
    assert!(opened.envelope().created_at() >= soon - secs(1));
    let msg = ConfigError::CutOffInFuture.to_string();
    assert!(msg.contains("reject_created_before"), "{msg}");
    let msg = Error::Config(ConfigError::CutOffInFuture).to_string();
    assert!(msg.contains("reject_created_before"), "{msg}");
}

/// The cut-off check of `build` reads the builder's clock, not the system
/// clock; and a seal refuses to create a session once that clock went back
/// behind the cut-off further than the leeway.
#[test]
fn the_cut_off_check_when_building_reads_the_builders_clock() {
    let clock = common::clock();
    let cut = t0() + 2 * DEFAULT_LEEWAY;
    assert_eq!(
        builder(&clock)
            .reject_created_before(cut)
            .build()
            .unwrap_err(),
        ConfigError::CutOffInFuture
    );
    clock.set(cut - DEFAULT_LEEWAY);
    let codec = builder(&clock)
        .reject_created_before(cut)
        .build()
        .expect("within the leeway of the builder's clock");
    let cookie = codec.seal(&sample()).expect("seals");
    let opened = codec.open::<UserSession>(&cookie).expect("opens at once");
    assert_eq!(opened.envelope().created_at(), cut);
    // The clock goes back further than the leeway behind the cut-off: no
    // new session can be created, and the one sealed at the cut-off lies
    // too far ahead to open.
    clock.set(t0());
    assert_eq!(
        codec.seal(&sample()).unwrap_err(),
        Error::Config(ConfigError::CutOffInFuture)
    );
    assert_eq!(open_err(&codec, &cookie), Error::NotYetValid);
}

#[test]
fn opened_debug_never_shows_the_value() {
    /// A type without `Debug`: `Unsealed` prints all the same.
    #[derive(Serialize, Deserialize)]
    struct Secretive {
        password_hint: String,
    }
    let clock = common::clock();
    let codec = default_codec(&clock);
    let cookie = codec
        .seal(&Secretive {
            password_hint: "the cat's name".into(),
        })
        .expect("seals");
    let opened = codec.open::<Secretive>(&cookie).expect("opens");
    let shown = format!("{opened:?}");
    assert!(shown.starts_with("Unsealed {"), "{shown}");
    assert!(!shown.contains("cat"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(
        shown.contains(&opened.envelope().id().to_string()),
        "{shown}"
    );
    let alternate = format!("{opened:#?}");
    assert!(!alternate.contains("cat"), "{alternate}");
    let typed = codec.open::<UserSession>(&codec.seal(&sample()).expect("seals"));
    let shown = format!("{:?}", typed.expect("opens"));
    assert!(!shown.contains("ada.lovelace"), "{shown}");
}

/// Sealing refuses values that would not open again, through the codec.
#[test]
fn values_that_would_not_open_are_refused_when_sealing() {
    #[derive(Serialize)]
    struct Skips {
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        count: u8,
    }
    let clock = common::clock();
    let codec = default_codec(&clock);
    assert_eq!(
        codec
            .seal(&Skips {
                note: None,
                count: 1
            })
            .unwrap_err(),
        Error::Serialize(Unserializable::SkippedField)
    );
    // Each `Nest` level is a newtype struct and a `Some`: two levels, so
    // MAX_NESTING of them nest twice as deep as decoding allows.
    #[derive(Serialize)]
    struct Nest(Option<Box<Nest>>);
    let nest = (0..MAX_NESTING).fold(Nest(None), |inner, _| Nest(Some(Box::new(inner))));
    assert_eq!(
        codec.seal(&nest).unwrap_err(),
        Error::Serialize(Unserializable::TooDeep)
    );
    assert_eq!(
        codec.seal(&vec![(); 10]).unwrap_err(),
        Error::Serialize(Unserializable::TooManyElements)
    );
}
