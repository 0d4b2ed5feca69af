//! Integration tests for `Codec`: round trips, rotation, tampering,
//! truncation, clock rules, size limits, strict decoding, configuration
//! errors, (de)serialization failures and error codes.
//!
//! Every test runs at fixed instants (`t0` and offsets from it) through the
//! `*_at` methods, so nothing depends on the wall clock.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::{Deserialize, Serialize, Serializer};

#[path = "support/reference.rs"]
mod reference;

use sealed_session::{
    Algorithm, Codec, ConfigError, DEFAULT_COOKIE_NAME, DEFAULT_LEEWAY, DEFAULT_LIFETIME,
    DEFAULT_MAX_COOKIE_SIZE, Deadline, Error, KeyId, Keyring, MAX_COOKIE_SIZE_CEILING, MAX_TIME,
    Malformed, Opened, Unserializable,
};

const SECRET_A: &str = "codec test secret A, which is longer than 32 bytes";
const SECRET_B: &str = "codec test secret B, which is longer than 32 bytes";

const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);

/// Smallest token: header (6), nonce (24) and tag (16).
const OVERHEAD: usize = 46;

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn keyring(secrets: &[&str]) -> Keyring {
    Keyring::new(secrets).expect("valid secrets")
}

fn codec_with(alg: Algorithm) -> Codec {
    Codec::builder(keyring(&[SECRET_A]))
        .algorithm(alg)
        .build()
        .expect("valid settings")
}

/// The key id the keyring's first secret seals under, with no application
/// label.
fn first_id(keyring: &Keyring) -> KeyId {
    Codec::new(keyring.clone())
        .key_ids()
        .next()
        .expect("a keyring has a key")
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

/// `Err(e)` or a panic that shows what opened.
fn open_err(codec: &Codec, value: &str, now: SystemTime) -> Error {
    match codec.open_at::<UserSession>(value, now) {
        Err(e) => e,
        Ok(opened) => panic!("expected an error, opened {:?}", opened.value()),
    }
}

fn open_bytes_err(codec: &Codec, value: &str, now: SystemTime) -> Error {
    match codec.open_bytes_at(value, now) {
        Err(e) => e,
        Ok(opened) => panic!("expected an error, opened {} bytes", opened.value().len()),
    }
}

// ---------------------------------------------------------------------------
// Round trips and the opened session
// ---------------------------------------------------------------------------

#[test]
fn round_trips_under_both_algorithms_and_each_codec_opens_both() {
    let value = sample();
    let xaes = codec_with(Algorithm::XAes256Gcm);
    let xchacha = codec_with(Algorithm::XChaCha20Poly1305);
    assert_eq!(xaes.algorithm(), Algorithm::XAes256Gcm);
    assert_eq!(xchacha.algorithm(), Algorithm::XChaCha20Poly1305);

    for (sealer, alg) in [
        (&xaes, Algorithm::XAes256Gcm),
        (&xchacha, Algorithm::XChaCha20Poly1305),
    ] {
        let cookie = sealer.seal_at(&value, t0()).expect("seals");
        let token = decode(&cookie);
        assert_eq!(token[0], 0x01, "format version");
        assert_eq!(token[1], alg.wire_id(), "algorithm byte");
        assert_eq!(&token[2..6], &first_id(sealer.keyring()).to_bytes());
        // The plaintext does not show through.
        let email = value.email.as_bytes();
        assert!(!token.windows(email.len()).any(|w| w == email));

        for (opener, opener_alg) in [
            (&xaes, Algorithm::XAes256Gcm),
            (&xchacha, Algorithm::XChaCha20Poly1305),
        ] {
            let opened: Opened<UserSession> = opener
                .open_at(&cookie, t0() + MIN)
                .unwrap_or_else(|e| panic!("{alg} cookie under {opener_alg} codec: {e}"));
            assert_eq!(opened.value(), &value);
            assert_eq!(opened.algorithm(), alg);
            assert_eq!(opened.key_id(), first_id(opener.keyring()));
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
    let xaes = codec_with(Algorithm::XAes256Gcm);
    let xchacha = codec_with(Algorithm::XChaCha20Poly1305);
    let cookie = xaes.seal_at(&sample(), t0()).expect("seals");
    let opened = xchacha
        .open_at::<UserSession>(&cookie, t0())
        .expect("opens");
    assert!(opened.needs_reseal());
    let resealed = xchacha.reseal_at(&opened, t0() + MIN).expect("reseals");
    assert_eq!(decode(&resealed)[1], Algorithm::XChaCha20Poly1305.wire_id());
    let again = xchacha
        .open_at::<UserSession>(&resealed, t0() + MIN)
        .expect("opens");
    assert_eq!(again.algorithm(), Algorithm::XChaCha20Poly1305);
    assert!(!again.needs_reseal());
    assert_eq!(again.id(), opened.id());
    assert_eq!(again.value(), &sample());
}

#[test]
fn opened_getters_report_the_envelope() {
    let lifetime = 8 * HOUR;
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .lifetime(lifetime)
        .idle_timeout(None)
        .build()
        .expect("valid");
    assert_eq!(codec.lifetime(), lifetime);
    assert_eq!(codec.max_lifetime(), lifetime, "defaults to the lifetime");
    assert_eq!(codec.idle_timeout(), None);

    let cookie = codec.seal_at(&sample(), t0()).expect("seals");
    let opened = codec
        .open_at::<UserSession>(&cookie, t0() + secs(5))
        .expect("opens");
    assert_eq!(opened.created_at(), t0());
    assert_eq!(opened.envelope().renewed_at(), t0());
    assert_eq!(opened.absolute_deadline(), t0() + lifetime);
    assert_eq!(opened.idle_deadline(), None);
    assert_eq!(opened.envelope().expires_at(), t0() + lifetime);
    assert_eq!(opened.envelope().created_at(), t0());
    assert_eq!(opened.envelope().id(), opened.id());
    assert_eq!(opened.id().to_string().len(), 32);
    assert_eq!(opened.id().to_bytes().len(), 16);

    let idle = Codec::builder(keyring(&[SECRET_A]))
        .lifetime(lifetime)
        .idle_timeout(30 * MIN)
        .build()
        .expect("valid");
    assert_eq!(idle.idle_timeout(), Some(30 * MIN));
    let cookie = idle.seal_at(&sample(), t0()).expect("seals");
    let opened = idle
        .open_at::<UserSession>(&cookie, t0() + secs(5))
        .expect("opens");
    assert_eq!(opened.idle_deadline(), Some(t0() + 30 * MIN));
    assert_eq!(opened.absolute_deadline(), t0() + lifetime);
    assert_eq!(opened.envelope().expires_at(), t0() + 30 * MIN);
    // Resealed later: the last seal moves, and the idle deadline with it.
    let later = idle.reseal_at(&opened, t0() + 10 * MIN).expect("reseals");
    let later = idle
        .open_at::<UserSession>(&later, t0() + 11 * MIN)
        .expect("opens");
    assert_eq!(later.envelope().renewed_at(), t0() + 10 * MIN);
    assert_eq!(later.idle_deadline(), Some(t0() + 40 * MIN));
    assert_eq!(later.created_at(), t0());

    // into_parts / into_value hand back what was sealed.
    let (value, envelope) = opened.clone().into_parts();
    assert_eq!(value, sample());
    assert_eq!(&envelope, opened.envelope());
    assert_eq!(opened.into_value(), sample());
}

#[test]
fn session_ids_are_stable_across_reseals_and_fresh_for_new_sessions() {
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .idle_timeout(30 * MIN)
        .build()
        .expect("valid");
    let first = codec.seal_at(&sample(), t0()).expect("seals");
    let mut opened = codec
        .open_at::<UserSession>(&first, t0() + MIN)
        .expect("opens");
    let id = opened.id();

    // Change the value and reseal later: same id and creation time.
    opened.value_mut().cart.push(CartItem {
        sku: "NEW".into(),
        qty: 3,
    });
    let resealed = codec.reseal_at(&opened, t0() + 10 * MIN).expect("reseals");
    assert_ne!(resealed, first);
    let reopened = codec
        .open_at::<UserSession>(&resealed, t0() + 11 * MIN)
        .expect("opens");
    assert_eq!(reopened.id(), id);
    assert_eq!(reopened.created_at(), t0());
    assert_eq!(reopened.value().cart.len(), 4);

    // seal_with_at into the opened envelope keeps the id too.
    let with = codec
        .seal_with_at(&sample(), reopened.envelope(), t0() + 12 * MIN)
        .expect("seals");
    let with = codec
        .open_at::<UserSession>(&with, t0() + 12 * MIN)
        .expect("opens");
    assert_eq!(with.id(), id);

    // A fresh seal of the same value at the same instant is a new session,
    // and never the same cookie (random nonce).
    let second = codec.seal_at(&sample(), t0()).expect("seals");
    assert_ne!(second, first);
    let second = codec
        .open_at::<UserSession>(&second, t0() + MIN)
        .expect("opens");
    assert_ne!(second.id(), id);

    // new_envelope_at draws a new id each time, with the codec's deadlines.
    let e1 = codec.new_envelope_at(t0()).expect("random");
    let e2 = codec.new_envelope_at(t0()).expect("random");
    assert_ne!(e1.id(), e2.id());
    assert_eq!(e1.created_at(), t0());
    assert_eq!(e1.absolute_deadline(), t0() + DEFAULT_LIFETIME);
    assert_eq!(e1.idle_deadline(), Some(t0() + 30 * MIN));
    let sealed = codec.seal_with_at(&7u8, &e1, t0()).expect("seals");
    let opened = codec.open_at::<u8>(&sealed, t0()).expect("opens");
    assert_eq!(opened.id(), e1.id());
    assert_ne!(opened.id(), id);
}

#[test]
fn per_session_lifetime_from_with_lifetime() {
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .idle_timeout(None)
        .max_lifetime(30 * 24 * HOUR)
        .build()
        .expect("valid");
    assert_eq!(codec.lifetime(), DEFAULT_LIFETIME);
    let remember_me = codec
        .new_envelope_at(t0())
        .expect("random")
        .with_lifetime(30 * 24 * HOUR);
    let cookie = codec.seal_with_at(&1u8, &remember_me, t0()).expect("seals");
    let late = t0() + 30 * 24 * HOUR - secs(1);
    let opened = codec.open_at::<u8>(&cookie, late).expect("opens on day 30");
    assert_eq!(opened.absolute_deadline(), t0() + 30 * 24 * HOUR);
    assert_eq!(
        codec.open_at::<u8>(&cookie, late + secs(1)).unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );

    // Without a maximum lifetime that allows it, a per-session lifetime is
    // capped at the codec's lifetime when sealed.
    let capped = Codec::builder(keyring(&[SECRET_A]))
        .idle_timeout(None)
        .build()
        .expect("valid");
    let cookie = capped
        .seal_with_at(&1u8, &remember_me, t0())
        .expect("seals");
    let opened = capped.open_at::<u8>(&cookie, t0()).expect("opens");
    assert_eq!(opened.absolute_deadline(), t0() + DEFAULT_LIFETIME);
    // And a cookie sealed under the long maximum is capped where it is
    // opened under the short one: outstanding sessions shrink at once.
    let long = codec.seal_with_at(&1u8, &remember_me, t0()).expect("seals");
    assert_eq!(
        capped
            .open_at::<u8>(&long, t0() + DEFAULT_LIFETIME)
            .unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    assert_eq!(
        capped
            .open_at::<u8>(&long, t0() + DEFAULT_LIFETIME - secs(1))
            .expect("opens within the cap")
            .absolute_deadline(),
        t0() + DEFAULT_LIFETIME
    );

    // A zero lifetime is an already expired session, which sealing refuses.
    let dead = codec
        .new_envelope_at(t0())
        .expect("random")
        .with_lifetime(Duration::ZERO);
    assert_eq!(
        codec.seal_with_at(&1u8, &dead, t0()).unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    // So does sealing into an envelope at or past its deadline.
    let envelope = codec.new_envelope_at(t0()).expect("random");
    assert_eq!(
        codec
            .seal_with_at(&1u8, &envelope, t0() + DEFAULT_LIFETIME)
            .unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    codec
        .seal_with_at(&1u8, &envelope, t0() + DEFAULT_LIFETIME - secs(1))
        .expect("one second before the deadline still seals");
}

// ---------------------------------------------------------------------------
// Rotation
// ---------------------------------------------------------------------------

#[test]
fn rotation_opens_old_cookies_reseals_under_the_new_secret_and_retires_the_old() {
    let lifetime = 24 * HOUR;
    let build = |secrets: &[&str]| {
        Codec::builder(keyring(secrets))
            .lifetime(lifetime)
            .idle_timeout(2 * HOUR)
            .build()
            .expect("valid")
    };
    let only_a = build(&[SECRET_A]);
    let b_then_a = build(&[SECRET_B, SECRET_A]);
    let only_b = build(&[SECRET_B]);
    let id_a = first_id(&Keyring::new([SECRET_A]).expect("valid"));
    let id_b = first_id(&Keyring::new([SECRET_B]).expect("valid"));
    assert_ne!(id_a, id_b);

    let original = only_a.seal_at(&sample(), t0()).expect("seals");
    let opened = b_then_a
        .open_at::<UserSession>(&original, t0() + HOUR)
        .expect("the old secret still opens");
    assert!(opened.sealed_with_old_secret());
    assert!(opened.needs_reseal());
    assert_eq!(opened.key_id(), id_a);
    assert_eq!(opened.value(), &sample());

    let resealed = b_then_a.reseal_at(&opened, t0() + HOUR).expect("reseals");
    assert_eq!(&decode(&resealed)[2..6], &id_b.to_bytes());
    let reopened = only_b
        .open_at::<UserSession>(&resealed, t0() + HOUR + MIN)
        .expect("the new secret alone opens the resealed cookie");
    assert!(!reopened.sealed_with_old_secret());
    assert!(!reopened.needs_reseal());
    assert_eq!(reopened.key_id(), id_b);
    assert_eq!(reopened.created_at(), t0());
    assert_eq!(reopened.absolute_deadline(), t0() + lifetime);
    assert_eq!(reopened.idle_deadline(), Some(t0() + 3 * HOUR));
    assert_eq!(reopened.id(), opened.id());
    assert_eq!(reopened.value(), &sample());

    // Under [b, a] the resealed cookie is current.
    let current = b_then_a
        .open_at::<UserSession>(&resealed, t0() + HOUR + MIN)
        .expect("opens");
    assert!(!current.sealed_with_old_secret());

    // Once `a` is retired the original cookie names an unknown key.
    let err = open_err(&only_b, &original, t0() + HOUR);
    assert_eq!(err, Error::UnknownKey(id_a));
    match err {
        Error::UnknownKey(id) => {
            assert_eq!(id, first_id(&Keyring::new([SECRET_A]).expect("valid")))
        }
        other => panic!("{other:?}"),
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
fn key_id_from_bytes(bytes: [u8; 4]) -> KeyId {
    let mut token = vec![0u8; 80];
    token[0] = 0x01;
    token[1] = 0x01;
    token[2..6].copy_from_slice(&bytes);
    match Codec::new(keyring(&[SECRET_B])).open_bytes_at(&encode(&token), t0()) {
        Err(Error::UnknownKey(id)) => {
            assert_eq!(id.to_bytes(), bytes);
            id
        }
        other => panic!("expected UnknownKey, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn every_single_bit_flip_of_the_token_is_rejected_with_the_right_error() {
    for alg in Algorithm::ALL {
        let codec = codec_with(alg);
        let cookie = codec.seal_at(&sample(), t0()).expect("seals");
        let token = decode(&cookie);
        assert!(token.len() > 150, "a realistic session");
        let mut seen = BTreeSet::new();
        for index in 0..token.len() {
            for bit in 0..8 {
                let mut flipped = token.clone();
                flipped[index] ^= 1 << bit;
                let err = open_err(&codec, &encode(&flipped), t0());
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
    for alg in Algorithm::ALL {
        let codec = codec_with(alg);
        let mut token = decode(&codec.seal_at(&sample(), t0()).expect("seals"));
        token[1] = match alg {
            Algorithm::XAes256Gcm => Algorithm::XChaCha20Poly1305.wire_id(),
            _ => Algorithm::XAes256Gcm.wire_id(),
        };
        let err = open_err(&codec, &encode(&token), t0());
        assert_eq!(err, Error::AuthenticationFailed, "{alg}");
        assert!(err.is_possible_tampering());
        for unknown in [0x00, 0x03, 0x7f, 0xff] {
            token[1] = unknown;
            assert_eq!(
                open_err(&codec, &encode(&token), t0()),
                Error::UnknownAlgorithm(unknown)
            );
        }
    }
}

#[test]
fn every_character_substitution_in_the_value_is_rejected() {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for alg in Algorithm::ALL {
        let codec = codec_with(alg);
        let cookie = codec.seal_at(&sample(), t0()).expect("seals");
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
                let err = open_err(&codec, &tampered, t0());
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
                    open_err(&codec, &tampered, t0()),
                    Error::Malformed(Malformed::Encoding),
                    "{alg}: position {i} -> {outsider:?}"
                );
            }
        }
    }
}

#[test]
fn every_truncation_of_the_value_is_rejected() {
    for alg in Algorithm::ALL {
        let codec = codec_with(alg);
        let cookie = codec.seal_at(&sample(), t0()).expect("seals");
        for len in 0..cookie.len() {
            let prefix = &cookie[..len];
            let err = open_err(&codec, prefix, t0());
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
        assert_eq!(
            open_err(&codec, "", t0()),
            Error::Malformed(Malformed::Truncated)
        );
    }
}

#[test]
fn every_truncation_of_the_token_is_rejected() {
    for alg in Algorithm::ALL {
        let codec = codec_with(alg);
        let token = decode(&codec.seal_at(&sample(), t0()).expect("seals"));
        for len in 0..token.len() {
            let err = open_err(&codec, &encode(&token[..len]), t0());
            let expected = if len < OVERHEAD {
                Error::Malformed(Malformed::Truncated)
            } else {
                Error::AuthenticationFailed
            };
            assert_eq!(err, expected, "{alg}: {len} of {} bytes", token.len());
        }
        // Cutting from the front is just as fatal.
        for cut in 1..token.len() {
            let err = open_err(&codec, &encode(&token[cut..]), t0());
            assert!(
                err != Error::Malformed(Malformed::Encoding),
                "{alg}: re-encoded bytes always decode"
            );
        }
        // Appending bytes, too.
        let mut longer = token.clone();
        longer.push(0);
        assert_eq!(
            open_err(&codec, &encode(&longer), t0()),
            Error::AuthenticationFailed
        );
    }
}

#[test]
fn a_value_sealed_under_one_cookie_name_never_opens_under_another() {
    let ring = keyring(&[SECRET_A]);
    let named = |name: &str| {
        Codec::builder(ring.clone())
            .cookie_name(name)
            .build()
            .expect("valid")
    };
    let a = named("session_a");
    let b = named("session_b");
    assert_eq!(a.cookie_name(), "session_a");
    for alg in Algorithm::ALL {
        let sealer = Codec::builder(ring.clone())
            .cookie_name("session_a")
            .algorithm(alg)
            .build()
            .expect("valid");
        let cookie = sealer.seal_at(&sample(), t0()).expect("seals");
        a.open_at::<UserSession>(&cookie, t0())
            .expect("opens under its own name");
        for other in [
            &b,
            &named("session"),
            &named("session_a2"),
            &named("Session_a"),
        ] {
            let err = open_err(other, &cookie, t0());
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
    for lifetime in [secs(1), HOUR, DEFAULT_LIFETIME, 7 * 24 * HOUR] {
        let codec = Codec::builder(keyring(&[SECRET_A]))
            .lifetime(lifetime)
            .idle_timeout(None)
            .build()
            .expect("valid");
        let cookie = codec.seal_at(&sample(), t0()).expect("seals");
        let opened = codec
            .open_at::<UserSession>(&cookie, t0() + lifetime - secs(1))
            .expect("opens one second before the deadline");
        assert_eq!(opened.absolute_deadline(), t0() + lifetime);
        for late in [lifetime, lifetime + secs(1), lifetime + 365 * 24 * HOUR] {
            let err = open_err(&codec, &cookie, t0() + late);
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
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .lifetime(HOUR)
        .idle_timeout(None)
        .build()
        .expect("valid");
    let cookie = codec.seal_at(&1u8, t0()).expect("seals");
    codec
        .open_at::<u8>(&cookie, t0() + HOUR - Duration::from_millis(1))
        .expect("still in the last second");
    assert_eq!(
        codec
            .open_at::<u8>(&cookie, t0() + HOUR + Duration::from_millis(999))
            .unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
}

#[test]
fn the_idle_timeout_expires_sessions_and_reseals_move_it_up_to_the_absolute_deadline() {
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .lifetime(HOUR)
        .idle_timeout(30 * MIN)
        .build()
        .expect("valid");
    let cookie = codec.seal_at(&sample(), t0()).expect("seals");
    let opened = codec
        .open_at::<UserSession>(&cookie, t0() + 30 * MIN - secs(1))
        .expect("opens one second before the idle deadline");
    assert_eq!(opened.idle_deadline(), Some(t0() + 30 * MIN));
    let err = open_err(&codec, &cookie, t0() + 30 * MIN);
    assert_eq!(
        err,
        Error::Expired {
            deadline: Deadline::Idle
        }
    );
    assert_eq!(err.code(), "expired-idle");

    // Activity at +20 min moves the idle deadline to +50 min.
    let at20 = codec
        .open_at::<UserSession>(&cookie, t0() + 20 * MIN)
        .expect("opens");
    let resealed = codec.reseal_at(&at20, t0() + 20 * MIN).expect("reseals");
    let after = codec
        .open_at::<UserSession>(&resealed, t0() + 50 * MIN - secs(1))
        .expect("the reseal extended the idle deadline");
    assert_eq!(after.idle_deadline(), Some(t0() + 50 * MIN));
    assert_eq!(after.absolute_deadline(), t0() + HOUR);
    assert_eq!(after.created_at(), t0());
    assert_eq!(
        open_err(&codec, &resealed, t0() + 50 * MIN),
        Error::Expired {
            deadline: Deadline::Idle
        }
    );

    // Activity at +45 min would move it to +75 min, past the absolute
    // deadline: it stops at +60 min.
    let at45 = codec
        .open_at::<UserSession>(&resealed, t0() + 45 * MIN)
        .expect("opens");
    let last = codec.reseal_at(&at45, t0() + 45 * MIN).expect("reseals");
    let opened = codec
        .open_at::<UserSession>(&last, t0() + HOUR - secs(1))
        .expect("opens until the absolute deadline");
    assert_eq!(opened.idle_deadline(), Some(t0() + HOUR));
    assert_eq!(opened.absolute_deadline(), t0() + HOUR);
    assert_eq!(opened.created_at(), t0());
    assert_eq!(opened.envelope().expires_at(), t0() + HOUR);
    // The absolute deadline is checked first.
    assert_eq!(
        open_err(&codec, &last, t0() + HOUR),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );

    // Resealing ever more often never gets past the absolute deadline.
    let mut cookie = codec.seal_at(&sample(), t0()).expect("seals");
    let mut now = t0();
    for _ in 0..4 {
        now += 15 * MIN - secs(1);
        let opened = codec
            .open_at::<UserSession>(&cookie, now)
            .expect("active session opens");
        assert_eq!(opened.absolute_deadline(), t0() + HOUR);
        assert!(opened.idle_deadline().expect("idle deadline") <= t0() + HOUR);
        cookie = codec.reseal_at(&opened, now).expect("reseals");
    }
    assert!(now < t0() + HOUR);
    let err = codec
        .open_at::<UserSession>(&cookie, t0() + HOUR)
        .unwrap_err();
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
    let codec = Codec::new(keyring(&[SECRET_A]));
    let cookie = codec.seal_at(&sample(), t0()).expect("seals");
    codec
        .open_at::<UserSession>(&cookie, t0() - secs(60))
        .expect("60 s of skew is forgiven by default");
    let err = open_err(&codec, &cookie, t0() - secs(61));
    assert_eq!(err, Error::NotYetValid);
    assert_eq!(err.code(), "not-yet-valid");

    let strict = Codec::builder(keyring(&[SECRET_A]))
        .leeway(Duration::ZERO)
        .build()
        .expect("valid");
    strict
        .open_at::<UserSession>(&cookie, t0())
        .expect("created now is fine");
    assert_eq!(
        open_err(&strict, &cookie, t0() - secs(1)),
        Error::NotYetValid
    );

    let lenient = Codec::builder(keyring(&[SECRET_A]))
        .leeway(5 * MIN)
        .build()
        .expect("valid");
    lenient
        .open_at::<UserSession>(&cookie, t0() - 5 * MIN)
        .expect("within the custom leeway");
    assert_eq!(
        open_err(&lenient, &cookie, t0() - 5 * MIN - secs(1)),
        Error::NotYetValid
    );
}

#[test]
fn sessions_created_before_the_cut_off_are_revoked() {
    let cut = t0() + HOUR;
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .reject_created_before(cut)
        .build()
        .expect("valid");
    // Sessions from before the cut-off were issued by the deployment that
    // did not have it yet (same secret); the codec with the cut-off refuses
    // to issue one itself.
    let earlier_deployment = Codec::new(keyring(&[SECRET_A]));
    let before = earlier_deployment
        .seal_at(&sample(), cut - secs(1))
        .expect("seals");
    // A codec never issues a cookie it would reject: a new session made
    // just before the cut-off (within the leeway) is created at the
    // cut-off, and opens.
    let early = codec.seal_at(&sample(), cut - secs(1)).expect("seals");
    let opened = codec
        .open_at::<UserSession>(&early, cut - secs(1))
        .expect("opens at once");
    assert_eq!(opened.created_at(), cut);
    // Further ahead than the leeway it cannot be, and says so.
    assert_eq!(
        codec
            .seal_at(&sample(), cut - DEFAULT_LEEWAY - secs(1))
            .unwrap_err(),
        Error::Config(ConfigError::CutOffInFuture)
    );
    assert_eq!(
        codec
            .new_envelope_at(cut - DEFAULT_LEEWAY - secs(1))
            .unwrap_err(),
        Error::Config(ConfigError::CutOffInFuture)
    );
    let at = codec.seal_at(&sample(), cut).expect("seals");
    let after = codec.seal_at(&sample(), cut + secs(1)).expect("seals");
    let now = cut + MIN;
    let err = open_err(&codec, &before, now);
    assert_eq!(err, Error::Revoked);
    assert_eq!(err.code(), "revoked");
    codec
        .open_at::<UserSession>(&at, now)
        .expect("created at the cut-off opens");
    codec
        .open_at::<UserSession>(&after, now)
        .expect("created after the cut-off opens");

    // Resealing does not launder a revoked session: the creation time stays.
    let plain = Codec::new(keyring(&[SECRET_A]));
    let opened = plain
        .open_at::<UserSession>(&before, now)
        .expect("no cut-off here");
    let resealed = plain.reseal_at(&opened, now).expect("reseals");
    assert_eq!(open_err(&codec, &resealed, now), Error::Revoked);
}

#[test]
fn a_sub_second_cut_off_revokes_every_session_created_before_it() {
    // Creation times are whole seconds; the cut-off rounds up, so a session
    // created 300 ms before it cannot slip through.
    let cut = t0() + Duration::from_millis(500);
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .reject_created_before(cut)
        .build()
        .expect("valid");
    let earlier_deployment = Codec::new(keyring(&[SECRET_A]));
    let now = t0() + MIN;
    for (offset_ms, revoked) in [
        (0, true),
        (200, true),
        (499, true),
        (700, true),
        (1000, false),
    ] {
        let created = t0() + Duration::from_millis(offset_ms);
        let cookie = earlier_deployment
            .seal_at(&sample(), created)
            .expect("seals");
        // The codec with the cut-off makes new sessions created at the
        // cut-off (rounded up), which it opens.
        let own = codec.seal_at(&sample(), created).expect("seals");
        let opened = codec
            .open_at::<UserSession>(&own, now)
            .unwrap_or_else(|e| panic!("{offset_ms} ms: {e}"));
        assert_eq!(opened.created_at(), t0() + secs(1), "{offset_ms} ms");
        let result = codec.open_at::<UserSession>(&cookie, now);
        if revoked {
            assert_eq!(result.unwrap_err(), Error::Revoked, "{offset_ms} ms");
        } else {
            result.unwrap_or_else(|e| panic!("{offset_ms} ms: {e}"));
        }
    }
    // A cut-off on a whole second is not moved.
    let whole = Codec::builder(keyring(&[SECRET_A]))
        .reject_created_before(t0())
        .build()
        .expect("valid");
    let cookie = whole.seal_at(&sample(), t0()).expect("seals");
    whole
        .open_at::<UserSession>(&cookie, now)
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

/// The largest `n` for which `codec` seals `vec![0xA5; n]` at `t0`, by
/// binary search over `0..=hi`.
fn largest_sealable(codec: &Codec, hi: usize) -> usize {
    let fits = |n: usize| codec.seal_at(&vec![0xA5u8; n], t0()).is_ok();
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
    for name in [
        DEFAULT_COOKIE_NAME,
        "x",
        "a_much_longer_cookie_name_for_this_test",
    ] {
        for alg in Algorithm::ALL {
            let codec = Codec::builder(keyring(&[SECRET_A]))
                .cookie_name(name)
                .algorithm(alg)
                .build()
                .expect("valid");
            assert_eq!(codec.max_cookie_size(), DEFAULT_MAX_COOKIE_SIZE);
            let n = largest_sealable(&codec, 5000);
            // Linear confirmation around the search result.
            for m in n.saturating_sub(5)..=n {
                codec.seal_at(&vec![0xA5u8; m], t0()).expect("fits");
            }
            let value = codec.seal_at(&vec![0xA5u8; n], t0()).expect("fits");
            let size = name.len() + value.len();
            assert!(size <= 4096, "{name}/{alg}: {size}");
            assert!(size >= 4096 - 3, "{name}/{alg}: only {size} of 4096 used");
            codec
                .open_at::<Vec<u8>>(&value, t0())
                .expect("the largest cookie opens");

            match codec.seal_at(&vec![0xA5u8; n + 1], t0()) {
                Err(Error::TooLarge { size, limit }) => {
                    assert_eq!(limit, 4096);
                    assert!(size > limit, "{size}");
                    assert!(size <= limit + 3, "{size}");
                    // `size` is the size the cookie would have had.
                    let roomy = Codec::builder(keyring(&[SECRET_A]))
                        .cookie_name(name)
                        .algorithm(alg)
                        .max_cookie_size(8192)
                        .build()
                        .expect("valid");
                    let bigger = roomy.seal_at(&vec![0xA5u8; n + 1], t0()).expect("fits");
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
    let roomy = |name: &str| {
        Codec::builder(keyring(&[SECRET_A]))
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
            .seal_at(&payload, t0())
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
        let codec = Codec::builder(keyring(&[SECRET_A]))
            .cookie_name(name.clone())
            .build()
            .expect("valid");
        let value = codec
            .seal_at(&payload, t0())
            .expect("name + value == limit exactly fits");
        assert_eq!(name.len() + value.len(), 4096, "n = {n}");
        let opened = codec
            .open_at::<Vec<u8>>(&value, t0())
            .expect("a cookie of exactly the limit opens");
        assert_eq!(opened.value(), &payload);

        // One byte more of payload: over the limit.
        match codec.seal_at(&vec![0x3Cu8; n + 1], t0()) {
            Err(Error::TooLarge { size, limit }) => {
                assert_eq!(limit, 4096);
                assert!(size > 4096, "n = {n}: {size}");
            }
            other => panic!("n = {n}: expected TooLarge, got {:?}", other.map(|_| ())),
        }
        // One byte more of name: exactly one over.
        let longer = Codec::builder(keyring(&[SECRET_A]))
            .cookie_name(format!("{name}c"))
            .build()
            .expect("valid");
        assert_eq!(
            longer.seal_at(&payload, t0()).unwrap_err(),
            Error::TooLarge {
                size: 4097,
                limit: 4096
            }
        );
        // The same value offered under the longer name is refused before
        // decoding.
        assert_eq!(
            open_bytes_err(&longer, &value, t0()),
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
                let codec = Codec::builder(keyring(&[SECRET_A]))
                    .cookie_name(name)
                    .max_cookie_size(limit)
                    .algorithm(alg)
                    .lifetime(Duration::from_secs(MAX_TIME))
                    .idle_timeout(None)
                    .build()
                    .expect("valid");
                let max = codec.max_payload_len();
                let payload = vec![0x99u8; max];
                for now in [UNIX_EPOCH + secs(1), t0(), worst] {
                    let envelope = codec.new_envelope_at(now).expect("random");
                    let value = codec
                        .seal_bytes_with_at(&payload, &envelope, now)
                        .unwrap_or_else(|e| panic!("{name:.8}/{limit}/{alg} at {now:?}: {e}"));
                    assert!(name.len() + value.len() <= limit);
                    let opened = codec.open_bytes_at(&value, now).expect("opens");
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
                    let envelope = codec.new_envelope_at(created_late).expect("random");
                    codec
                        .seal_with_at(&vec![1u8; n], &envelope, worst)
                        .expect("serde payload of max_payload_len fits");
                }
                // In the worst case (every time a 6-byte varint) the bound
                // is tight: max_payload_len fits and one byte more does not.
                let envelope = codec.new_envelope_at(created_late).expect("random");
                let value = codec
                    .seal_bytes_with_at(&payload, &envelope, worst)
                    .expect("fits in the worst case");
                assert!(name.len() + value.len() <= limit);
                match codec.seal_bytes_with_at(&vec![0u8; max + 1], &envelope, worst) {
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
    let codec = Codec::new(keyring(&[SECRET_A]));
    let name = DEFAULT_COOKIE_NAME.len();
    let junk = "!".repeat(5000);
    assert_eq!(
        open_err(&codec, &junk, t0()),
        Error::TooLarge {
            size: name + 5000,
            limit: 4096
        }
    );
    // One over the limit, even of otherwise valid characters.
    let just_over = "A".repeat(4096 - name + 1);
    assert_eq!(
        open_err(&codec, &just_over, t0()),
        Error::TooLarge {
            size: 4097,
            limit: 4096
        }
    );
    // At the limit the same junk is decoded and found malformed.
    let at_limit = "!".repeat(4096 - name);
    assert_eq!(
        open_err(&codec, &at_limit, t0()),
        Error::Malformed(Malformed::Encoding)
    );
    // Multi-byte characters count as bytes.
    let wide = "é".repeat(2045);
    assert_eq!(
        open_err(&codec, &wide, t0()),
        Error::TooLarge {
            size: name + 4090,
            limit: 4096
        }
    );
    let err = open_err(&codec, &junk, t0());
    assert!(!err.is_possible_tampering());
    let msg = err.to_string();
    assert!(msg.contains("5014") && msg.contains("4096"), "{msg}");
}

#[test]
fn a_custom_max_cookie_size_is_enforced_both_ways() {
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .cookie_name("sid")
        .max_cookie_size(1024)
        .build()
        .expect("valid");
    assert_eq!(codec.max_cookie_size(), 1024);
    let max = codec.max_payload_len();
    // 1021 characters hold 255 groups of 3 bytes; the 1 left over holds none.
    assert_eq!(max, (1021 / 4) * 3 - 84, "max_decoded_len(1021) - 84");
    let fits = codec
        .seal_at(&vec![7u8; max - 2], t0())
        .expect("max_payload_len fits");
    assert!(3 + fits.len() <= 1024);
    match codec.seal_at(&vec![7u8; 2000], t0()) {
        Err(Error::TooLarge { size, limit }) => {
            assert_eq!(limit, 1024);
            assert!(size > 2000, "{size}");
        }
        other => panic!("expected TooLarge, got {:?}", other.map(|_| ())),
    }
    // A cookie sealed under the default limit is too large for this codec
    // before anything else is looked at.
    let default = Codec::builder(keyring(&[SECRET_A]))
        .cookie_name("sid")
        .build()
        .expect("valid");
    let big = default.seal_at(&vec![7u8; 1500], t0()).expect("fits 4096");
    assert_eq!(
        open_err(&codec, &big, t0()),
        Error::TooLarge {
            size: 3 + big.len(),
            limit: 1024
        }
    );
    assert_eq!(
        open_err(&codec, &"A".repeat(1022), t0()),
        Error::TooLarge {
            size: 1025,
            limit: 1024
        }
    );
}

#[test]
fn max_cookie_size_bounds_are_checked_at_build() {
    let build = |name: &str, limit: usize| {
        Codec::builder(keyring(&[SECRET_A]))
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
            Error::Config(ConfigError::CookieSizeTooSmall {
                limit: minimum - 1,
                minimum
            })
        );
        let msg = err.to_string();
        assert!(msg.contains(&minimum.to_string()), "{msg}");
        let codec = build(name, minimum).expect("the minimum is enough");
        assert_eq!(codec.max_payload_len(), 0);
        let worst = UNIX_EPOCH + Duration::from_secs(MAX_TIME - 100);
        let value = codec.seal_at(&(), worst).expect("an empty session fits");
        codec.open_at::<()>(&value, worst).expect("opens");
    }
    assert!(build("session", 0).is_err());
    build("session", MAX_COOKIE_SIZE_CEILING).expect("the ceiling itself is allowed");
}

#[test]
fn a_max_cookie_size_over_the_ceiling_is_reported_as_such() {
    let err = Codec::builder(keyring(&[SECRET_A]))
        .max_cookie_size(MAX_COOKIE_SIZE_CEILING + 1)
        .build()
        .expect_err("over the ceiling");
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(err.code(), "config");
    // The message must tell the user what is wrong: the value is too large,
    // and what the ceiling is.
    let msg = err.to_string();
    assert!(
        !msg.contains("too small"),
        "a size over the ceiling is reported as too small: {msg}"
    );
    assert!(
        msg.contains(&MAX_COOKIE_SIZE_CEILING.to_string()),
        "the message does not name the ceiling: {msg}"
    );
}

// ---------------------------------------------------------------------------
// Strict base64
// ---------------------------------------------------------------------------

#[test]
fn only_strict_unpadded_base64url_is_accepted() {
    let codec = Codec::new(keyring(&[SECRET_A]));
    let encoding = Error::Malformed(Malformed::Encoding);

    // Values of every length remainder (0, 2 and 3 mod 4).
    let mut remainders = BTreeSet::new();
    for n in 0..6usize {
        let cookie = codec.seal_at(&vec![0u8; n], t0()).expect("seals");
        codec.open_at::<Vec<u8>>(&cookie, t0()).expect("opens");
        remainders.insert(cookie.len() % 4);

        for padded in [
            format!("{cookie}="),
            format!("{cookie}=="),
            format!("{cookie}==="),
        ] {
            assert_eq!(open_bytes_err(&codec, &padded, t0()), encoding, "{padded}");
        }
        for (i, c) in cookie.char_indices() {
            let swap = match c {
                '-' => '+',
                '_' => '/',
                _ => continue,
            };
            let mut bad = cookie.clone();
            bad.replace_range(i..=i, &swap.to_string());
            assert_eq!(open_bytes_err(&codec, &bad, t0()), encoding, "{bad}");
        }
        for i in [0, 1, 5, cookie.len() / 2, cookie.len() - 1, cookie.len()] {
            for ws in [" ", "\n", "\r\n", "\t"] {
                let mut bad = cookie.clone();
                bad.insert_str(i, ws);
                assert_eq!(
                    open_bytes_err(&codec, &bad, t0()),
                    encoding,
                    "{ws:?} at {i}"
                );
            }
        }
        for quoted in [
            format!("\"{cookie}\""),
            format!(" {cookie}"),
            format!("{cookie} "),
        ] {
            assert_eq!(open_bytes_err(&codec, &quoted, t0()), encoding);
        }
    }
    assert_eq!(
        remainders,
        BTreeSet::from([0, 2, 3]),
        "payload sizes 0..6 cover every remainder"
    );

    // '+' and '/' anywhere, even where the value has no '-' or '_'.
    let cookie = codec.seal_at(&sample(), t0()).expect("seals");
    for i in [0, 10, 100, cookie.len() - 1] {
        for swap in ["+", "/"] {
            let mut bad = cookie.clone();
            bad.replace_range(i..=i, swap);
            assert_eq!(open_bytes_err(&codec, &bad, t0()), encoding);
        }
    }

    // Non-canonical trailing bits: for a length of 2 or 3 mod 4, the last
    // character carries unused low bits that must be zero.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut checked = 0;
    for n in 0..6usize {
        let cookie = codec.seal_at(&vec![0u8; n], t0()).expect("seals");
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
            assert_eq!(open_bytes_err(&codec, &bad, t0()), encoding, "{bad}");
            checked += 1;
        }
    }
    assert!(checked >= 6);

    // A length of 1 mod 4 never decodes.
    let mut one_over = cookie.clone();
    while one_over.len() % 4 != 1 {
        one_over.push('A');
    }
    assert_eq!(open_bytes_err(&codec, &one_over, t0()), encoding);

    // Standard base64 of a real token, with padding, is refused.
    let token = decode(&cookie);
    let standard = base64::engine::general_purpose::STANDARD.encode(&token);
    if standard != cookie {
        assert_eq!(open_bytes_err(&codec, &standard, t0()), encoding);
    }
}

// ---------------------------------------------------------------------------
// Configuration errors
// ---------------------------------------------------------------------------

#[test]
fn invalid_cookie_names_are_rejected() {
    let build = |name: String| {
        Codec::builder(keyring(&[SECRET_A]))
            .cookie_name(name)
            .build()
    };
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
            Err(Error::Config(ConfigError::InvalidCookieName { reason })) => {
                assert!(!reason.is_empty());
                let err = build(name.clone()).expect_err("invalid");
                assert!(err.to_string().contains(reason), "{err}");
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
        let cookie = codec.seal_at(&1u32, t0()).expect("seals");
        codec.open_at::<u32>(&cookie, t0()).expect("opens");
    }
}

#[test]
fn zero_durations_are_rejected() {
    let builder = || Codec::builder(keyring(&[SECRET_A]));
    for short in [Duration::ZERO, Duration::from_millis(999)] {
        assert_eq!(
            builder().lifetime(short).build().unwrap_err(),
            Error::Config(ConfigError::DurationTooShort {
                setting: "lifetime"
            })
        );
        assert_eq!(
            builder().idle_timeout(short).build().unwrap_err(),
            Error::Config(ConfigError::DurationTooShort {
                setting: "idle_timeout"
            })
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
    let cookie = codec.seal_at(&1u8, t0()).expect("seals");
    codec.open_at::<u8>(&cookie, t0()).expect("opens");
    assert_eq!(
        codec.open_at::<u8>(&cookie, t0() + secs(1)).unwrap_err(),
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
    let codec = Codec::new(keyring(&[SECRET_A]));
    let cookie = codec
        .seal_at(&(7u32, String::from("hello")), t0())
        .expect("seals");
    codec
        .open_at::<(u32, String)>(&cookie, t0())
        .expect("opens as itself");
    match codec.open_at::<Different>(&cookie, t0()) {
        Err(e) => assert_eq!(e, Error::Deserialize),
        Ok(o) => panic!("opened as {:?}", o.value()),
    }
    match codec.open_at::<UserSession>(&cookie, t0()) {
        Err(e) => assert_eq!(e, Error::Deserialize),
        Ok(o) => panic!("opened as {:?}", o.value()),
    }

    // Leftover bytes are an error, not silently ignored.
    let pair = codec.seal_at(&(1u8, 2u8), t0()).expect("seals");
    assert_eq!(
        codec.open_at::<u8>(&pair, t0()).unwrap_err(),
        Error::Deserialize
    );
    let opened = codec.open_at::<(u8, u8)>(&pair, t0()).expect("opens");
    assert_eq!(opened.value(), &(1, 2));

    // Clock rules come before deserialization.
    assert_eq!(
        codec
            .open_at::<u8>(&pair, t0() + DEFAULT_LIFETIME)
            .unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );

    // Raw bytes round-trip without postcard.
    let envelope = codec.new_envelope_at(t0()).expect("random");
    let raw = codec
        .seal_bytes_with_at(b"\xff\xfe not postcard", &envelope, t0())
        .expect("seals");
    let opened = codec.open_bytes_at(&raw, t0()).expect("opens");
    assert_eq!(opened.value().as_slice(), b"\xff\xfe not postcard");
    assert_eq!(opened.id(), envelope.id());
    assert_eq!(
        codec.open_at::<String>(&raw, t0()).unwrap_err(),
        Error::Deserialize
    );
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
    let codec = Codec::new(keyring(&[SECRET_A]));
    assert_eq!(
        codec.seal_at(&UnsizedSeq, t0()).unwrap_err(),
        Error::Serialize(Unserializable::LengthUnknown)
    );
    assert_eq!(
        codec.seal_at(&Failing, t0()).unwrap_err(),
        Error::Serialize(Unserializable::Failed)
    );
    for lens in [[10, 5], [10, 20], [10, 0]] {
        let shifty = Shifty {
            calls: Cell::new(0),
            lens,
        };
        assert_eq!(
            codec.seal_at(&shifty, t0()).unwrap_err(),
            Error::Serialize(Unserializable::Failed),
            "{lens:?}"
        );
    }
    // A stable one of the same shape seals.
    let stable = Shifty {
        calls: Cell::new(0),
        lens: [10, 10],
    };
    let cookie = codec.seal_at(&stable, t0()).expect("seals");
    let opened = codec.open_at::<Vec<u8>>(&cookie, t0()).expect("opens");
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

fn varint(v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    reference::write_varint(&mut out, v);
    out
}

#[test]
fn an_independently_built_token_opens_and_broken_envelopes_are_malformed() {
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .idle_timeout(10 * MIN)
        .max_lifetime(Duration::from_secs(MAX_TIME))
        .build()
        .expect("valid");
    let name = codec.cookie_name();
    let created = 1_750_000_000u64;
    let id = [0x5Eu8; 16];
    let payload = postcard::to_allocvec(&(42u32, "hi")).expect("serializes");
    for alg in Algorithm::ALL {
        let mut plaintext = envelope_bytes(created, 3600, 0, id);
        plaintext.extend_from_slice(&payload);
        let cookie = forge(SECRET_A, name, alg, &plaintext);
        let opened = codec
            .open_at::<(u32, String)>(&cookie, t0())
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(opened.value(), &(42, "hi".to_string()));
        assert_eq!(opened.id().to_bytes(), id);
        assert_eq!(opened.created_at(), t0());
        assert_eq!(opened.envelope().renewed_at(), t0());
        assert_eq!(opened.absolute_deadline(), t0() + HOUR);
        // The idle deadline is the codec's idle timeout after the last seal.
        assert_eq!(opened.idle_deadline(), Some(t0() + 10 * MIN));
        assert_eq!(opened.algorithm(), alg);
        assert_eq!(
            codec
                .open_at::<(u32, String)>(&cookie, t0() + 10 * MIN)
                .unwrap_err(),
            Error::Expired {
                deadline: Deadline::Idle
            }
        );

        // Under another cookie name, or another secret with the right key
        // id, it does not authenticate.
        let elsewhere = forge(SECRET_A, "other", alg, &plaintext);
        assert_eq!(
            open_err(&codec, &elsewhere, t0()),
            Error::AuthenticationFailed
        );

        // Authentic tokens whose envelope breaks the rules.
        // `created` with a redundant final zero group.
        let mut non_minimal = varint(created);
        *non_minimal.last_mut().expect("non-empty") |= 0x80;
        non_minimal.push(0x00);
        non_minimal.extend(varint(3600));
        non_minimal.extend(varint(0));
        non_minimal.extend(reference::schema_id(""));
        non_minimal.extend_from_slice(&id);
        // Zero written in two bytes.
        let mut overlong_zero = varint(created);
        overlong_zero.extend(varint(3600));
        overlong_zero.extend([0x80, 0x00]);
        overlong_zero.extend(reference::schema_id(""));
        overlong_zero.extend_from_slice(&id);
        let mut non_minimal_last = varint(created);
        non_minimal_last.extend(varint(3600));
        non_minimal_last.extend([0x81, 0x00]); // 1 with a redundant final group
        non_minimal_last.extend(reference::schema_id(""));
        non_minimal_last.extend_from_slice(&id);
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
            let err = open_bytes_err(&codec, &cookie, t0());
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
                .open_bytes_at(&cookie, t0())
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
    assert_error::<Error>();
    assert_error::<ConfigError>();

    let codec = Codec::new(keyring(&[SECRET_A]));
    let cookie = codec.seal_at(&sample(), t0()).expect("seals");
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let codec = codec.clone();
            let cookie = cookie.clone();
            std::thread::spawn(move || {
                let opened = codec
                    .open_at::<UserSession>(&cookie, t0())
                    .expect("opens on another thread");
                codec
                    .seal_at(&(i, opened.into_value().user_id), t0())
                    .expect("seals on another thread")
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        let sealed = handle.join().expect("no panic");
        let opened = codec.open_at::<(i32, u64)>(&sealed, t0()).expect("opens");
        assert_eq!(opened.value(), &(i as i32, 1_234_567));
    }
}

#[test]
fn every_producible_error_has_its_own_code_and_an_actionable_message() {
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .lifetime(HOUR)
        .idle_timeout(10 * MIN)
        .reject_created_before(t0())
        .build()
        .expect("valid");
    let cookie = codec.seal_at(&sample(), t0()).expect("seals");
    let token = decode(&cookie);
    let with = |i: usize, b: u8| {
        let mut t = token.clone();
        t[i] = b;
        encode(&t)
    };
    let old = Codec::new(keyring(&[SECRET_A]))
        .seal_at(&sample(), t0() - secs(1))
        .expect("seals");

    let produced: Vec<(Error, &[&str])> = vec![
        (
            open_err(&codec, &"!".repeat(5000), t0()),
            &["5014", "4096", "server-side"],
        ),
        (open_err(&codec, "a b", t0()), &["base64url"]),
        (open_err(&codec, "AAAA", t0()), &["shorter"]),
        (
            open_err(&codec, &with(0, 9), t0()),
            &["version 9", "version 1"],
        ),
        (open_err(&codec, &with(1, 0x7f), t0()), &["0x7f"]),
        (
            open_err(&codec, &with(2, token[2] ^ 1), t0()),
            &["not in the keyring"],
        ),
        (
            open_err(&codec, &with(40, token[40] ^ 1), t0()),
            &["modified"],
        ),
        (
            open_err(&codec, &cookie, t0() + HOUR),
            &["absolute lifetime"],
        ),
        (open_err(&codec, &cookie, t0() + 10 * MIN), &["idle"]),
        (open_err(&codec, &cookie, t0() - 2 * MIN), &["clock"]),
        (open_err(&codec, &old, t0()), &["cut-off"]),
        (
            codec.open_at::<u8>(&cookie, t0()).unwrap_err(),
            &["does not decode"],
        ),
        (codec.seal_at(&UnsizedSeq, t0()).unwrap_err(), &["postcard"]),
        (
            Codec::builder(keyring(&[SECRET_A]))
                .schema("another")
                .build()
                .expect("valid")
                .open_at::<UserSession>(&cookie, t0())
                .unwrap_err(),
            &["schema"],
        ),
        (
            Codec::builder(keyring(&[SECRET_A]))
                .open_algorithms([Algorithm::XChaCha20Poly1305])
                .algorithm(Algorithm::XChaCha20Poly1305)
                .build()
                .expect("valid")
                .open_at::<UserSession>(&cookie, t0())
                .unwrap_err(),
            &["xaes-256-gcm", "does not open"],
        ),
        (
            Codec::builder(keyring(&[SECRET_A]))
                .cookie_name("")
                .build()
                .unwrap_err(),
            &["cookie name", "empty"],
        ),
        (Error::Random, &["random"]),
    ];
    let forged = forge(SECRET_A, codec.cookie_name(), Algorithm::XAes256Gcm, &[]);
    let envelope = open_bytes_err(&codec, &forged, t0());
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
    let codec = Codec::builder(keyring(&[SECRET_A]))
        .idle_timeout(30 * MIN)
        .build()
        .expect("valid");
    let opened = codec
        .open_at::<UserSession>(&codec.seal_at(&sample(), t0()).expect("seals"), t0())
        .expect("opens");

    // Kept in memory past its idle deadline: resealing must not extend it.
    assert_eq!(
        codec.reseal_at(&opened, t0() + 30 * MIN).unwrap_err(),
        Error::Expired {
            deadline: Deadline::Idle
        }
    );
    // Just before the idle deadline it reseals, and the new cookie carries
    // the deadlines `sealed_envelope_at` predicts.
    let now = t0() + 30 * MIN - secs(1);
    let value = codec.reseal_at(&opened, now).expect("reseals");
    let predicted = codec.sealed_envelope_at(opened.envelope(), now);
    assert_eq!(predicted.idle_deadline(), Some(now + 30 * MIN));
    assert_eq!(
        codec
            .open_at::<UserSession>(&value, now)
            .expect("opens")
            .envelope(),
        &predicted
    );

    // Past the absolute deadline.
    assert_eq!(
        codec
            .reseal_at(&opened, opened.absolute_deadline())
            .unwrap_err(),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    // An envelope created further ahead than the leeway.
    let future = codec.new_envelope_at(t0() + 2 * MIN).expect("envelope");
    assert_eq!(
        codec.seal_with_at(&sample(), &future, t0()).unwrap_err(),
        Error::NotYetValid
    );
    codec
        .seal_with_at(&sample(), &future, t0() + MIN)
        .expect("within the leeway");
}

#[test]
fn every_new_session_gets_its_own_random_id_and_nonce() {
    let codec = Codec::new(Keyring::new(["a secret that is at least 32 bytes long"]).unwrap());
    let mut ids = std::collections::HashSet::new();
    let mut nonces = std::collections::HashSet::new();
    for _ in 0..64 {
        let value = codec.seal(&1u8).unwrap();
        let id = codec.open::<u8>(&value).unwrap().id().to_bytes();
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
    // The danger: same schema label, different meaning.
    let same = Codec::new(keyring(&[SECRET_A]));
    let cookie = same.seal_at(&RoleV1::User, t0()).expect("seals");
    let misread = same.open_at::<RoleV2>(&cookie, t0()).expect("decodes");
    assert_eq!(misread.value(), &RoleV2::Admin, "a User became an Admin");

    // With labels: refused, with its own code, never decoded.
    let v1 = Codec::builder(keyring(&[SECRET_A]))
        .schema("role-v1")
        .build()
        .expect("valid");
    let v2 = Codec::builder(keyring(&[SECRET_A]))
        .schema("role-v2")
        .build()
        .expect("valid");
    assert_eq!((v1.schema(), v2.schema()), ("role-v1", "role-v2"));
    let cookie = v1.seal_at(&RoleV1::User, t0()).expect("seals");
    let err = v2.open_at::<RoleV2>(&cookie, t0()).unwrap_err();
    assert_eq!(err, Error::SchemaMismatch);
    assert_eq!(err.code(), "schema-mismatch");
    assert!(!err.is_possible_tampering());
    assert_eq!(
        v2.open_bytes_at(&cookie, t0()).unwrap_err(),
        Error::SchemaMismatch,
        "raw payloads are not handed out under another schema either"
    );
    // The default (empty) label is a label like any other.
    assert_eq!(
        same.open_at::<RoleV1>(&cookie, t0()).unwrap_err(),
        Error::SchemaMismatch
    );
    let unlabelled = same.seal_at(&RoleV1::User, t0()).expect("seals");
    assert_eq!(
        v1.open_at::<RoleV1>(&unlabelled, t0()).unwrap_err(),
        Error::SchemaMismatch
    );
    // Under its own label it opens.
    assert_eq!(
        v1.open_at::<RoleV1>(&cookie, t0()).expect("opens").value(),
        &RoleV1::User
    );
}

/// The schema id is checked after authentication and after the clock: a
/// tampered cookie of another schema is tampering, an expired one expired.
#[test]
fn the_schema_is_checked_after_authentication_and_the_clock() {
    let v1 = Codec::builder(keyring(&[SECRET_A]))
        .schema("v1")
        .idle_timeout(None)
        .build()
        .expect("valid");
    let v2 = Codec::builder(keyring(&[SECRET_A]))
        .schema("v2")
        .idle_timeout(None)
        .build()
        .expect("valid");
    let cookie = v1.seal_at(&sample(), t0()).expect("seals");
    let mut token = decode(&cookie);
    token[40] ^= 1;
    assert_eq!(
        open_err(&v2, &encode(&token), t0()),
        Error::AuthenticationFailed
    );
    assert_eq!(
        open_err(&v2, &cookie, t0() + DEFAULT_LIFETIME),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    assert_eq!(open_err(&v2, &cookie, t0()), Error::SchemaMismatch);
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
    let v1 = Codec::builder(keyring(&[SECRET_A]))
        .schema("cart-v1")
        .build()
        .expect("valid");
    let v2 = Codec::builder(keyring(&[SECRET_A]))
        .schema("cart-v2")
        .migrate_from("cart-v1", migrate)
        .build()
        .expect("valid");
    let old = CartV1 {
        items: vec!["SKU-1".into(), "SKU-2".into()],
    };
    let cookie = v1.seal_at(&old, t0()).expect("seals");
    let opened = v2.open_at::<CartV2>(&cookie, t0() + MIN).expect("migrates");
    assert_eq!(opened.value(), &migrate(old.clone()));
    assert!(opened.migrated());
    assert!(opened.needs_reseal(), "a migrated cookie is sealed again");
    assert!(!opened.sealed_with_old_secret());
    // The session stays the same session.
    let original = v1.open_at::<CartV1>(&cookie, t0()).expect("opens");
    assert_eq!(opened.id(), original.id());
    assert_eq!(opened.created_at(), original.created_at());

    // Resealed, it is a v2 cookie: a codec without the migration opens it.
    let resealed = v2.reseal_at(&opened, t0() + MIN).expect("reseals");
    let v2_only = Codec::builder(keyring(&[SECRET_A]))
        .schema("cart-v2")
        .build()
        .expect("valid");
    let current = v2_only
        .open_at::<CartV2>(&resealed, t0() + MIN)
        .expect("opens");
    assert!(!current.migrated() && !current.needs_reseal());
    assert_eq!(current.value(), opened.value());
    assert_eq!(
        v2_only.open_at::<CartV2>(&cookie, t0()).unwrap_err(),
        Error::SchemaMismatch
    );

    // Only opens of the migration's target type use it.
    assert_eq!(
        v2.open_at::<CartV1>(&cookie, t0()).unwrap_err(),
        Error::SchemaMismatch
    );
    // An old payload that does not decode as the old type.
    let garbage = v1.seal_at(&(1u8, 2u8), t0()).expect("seals");
    assert_eq!(
        v2.open_at::<CartV2>(&garbage, t0()).unwrap_err(),
        Error::Deserialize
    );
    // Cookies of a schema with no migration still fail.
    let v0 = Codec::builder(keyring(&[SECRET_A]))
        .schema("cart-v0")
        .build()
        .expect("valid")
        .seal_at(&old, t0())
        .expect("seals");
    assert_eq!(
        v2.open_at::<CartV2>(&v0, t0()).unwrap_err(),
        Error::SchemaMismatch
    );
    let debug = format!("{v2:?}");
    assert!(
        debug.contains("cart-v1") && debug.contains("CartV2"),
        "{debug}"
    );
}

#[test]
fn labels_are_checked_when_building() {
    let build = |app: &str, schema: &str| {
        Codec::builder(keyring(&[SECRET_A]))
            .app_label(app)
            .schema(schema)
            .build()
    };
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
            Err(Error::Config(ConfigError::InvalidLabel { setting: s, .. })) => {
                assert_eq!(s, setting, "{app:?}/{schema:?}");
            }
            other => panic!("{app:?}/{schema:?}: {other:?}"),
        }
    }
    // A migration from the current schema, twice from one label, or from
    // an invalid label.
    let migration_err = |builder: sealed_session::CodecBuilder| match builder.build() {
        Err(Error::Config(ConfigError::InvalidLabel { setting, .. })) => setting,
        other => panic!("{other:?}"),
    };
    let base = || Codec::builder(keyring(&[SECRET_A])).schema("cart-v2");
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
    let shop = Codec::builder(keyring(&[SECRET_A, SECRET_B]))
        .app_label("shop")
        .build()
        .expect("valid");
    let blog = Codec::builder(keyring(&[SECRET_A, SECRET_B]))
        .app_label("blog")
        .build()
        .expect("valid");
    let plain = Codec::new(keyring(&[SECRET_A, SECRET_B]));
    assert_eq!(shop.app_label(), "shop");
    let ids = |c: &Codec| c.key_ids().collect::<Vec<_>>();
    assert_eq!(ids(&shop).len(), 2);
    for (a, b) in [(&shop, &blog), (&shop, &plain), (&blog, &plain)] {
        for id in ids(a) {
            assert!(!ids(b).contains(&id), "a key id is shared");
        }
    }
    let cookie = shop.seal_at(&sample(), t0()).expect("seals");
    assert_eq!(
        open_err(&blog, &cookie, t0()),
        Error::UnknownKey(ids(&shop)[0])
    );
    assert_eq!(
        open_err(&plain, &cookie, t0()),
        Error::UnknownKey(ids(&shop)[0])
    );
    shop.open_at::<UserSession>(&cookie, t0()).expect("opens");
    // The key schedule with the label, computed independently.
    let expected = reference::derive(SECRET_A, "shop");
    assert_eq!(ids(&shop)[0].to_bytes(), expected.id);
    let mut opener = reference::Opener::new(&[SECRET_A], DEFAULT_COOKIE_NAME, 1_750_000_000);
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
    let without = Codec::builder(keyring(&[SECRET_A]))
        .idle_timeout(None)
        .build()
        .expect("valid");
    let with = Codec::builder(keyring(&[SECRET_A]))
        .idle_timeout(10 * MIN)
        .build()
        .expect("valid");
    let stricter = Codec::builder(keyring(&[SECRET_A]))
        .idle_timeout(MIN)
        .build()
        .expect("valid");
    // Sealed where there was no idle timeout, then read where there is.
    let cookie = without.seal_at(&sample(), t0()).expect("seals");
    let opened = with
        .open_at::<UserSession>(&cookie, t0() + 10 * MIN - secs(1))
        .expect("within the window since its seal");
    assert_eq!(opened.idle_deadline(), Some(t0() + 10 * MIN));
    assert_eq!(
        open_err(&with, &cookie, t0() + 10 * MIN),
        Error::Expired {
            deadline: Deadline::Idle
        },
        "a copied cookie stops working once the configured window passed"
    );
    // A shorter timeout applies at once.
    assert_eq!(
        open_err(&stricter, &cookie, t0() + MIN),
        Error::Expired {
            deadline: Deadline::Idle
        }
    );
    // Sealed with an idle timeout, read where there is none: still opens,
    // long after its old idle deadline.
    let cookie = with.seal_at(&sample(), t0()).expect("seals");
    let opened = without
        .open_at::<UserSession>(&cookie, t0() + 6 * HOUR)
        .expect("turning the idle timeout off never logs anybody out");
    assert_eq!(opened.idle_deadline(), None);
    assert_eq!(opened.envelope().expires_at(), t0() + DEFAULT_LIFETIME);
}

#[test]
fn max_lifetime_is_checked_and_caps_issued_cookies() {
    assert_eq!(
        Codec::builder(keyring(&[SECRET_A]))
            .lifetime(2 * HOUR)
            .max_lifetime(HOUR)
            .build()
            .unwrap_err(),
        Error::Config(ConfigError::MaxLifetimeTooShort)
    );
    assert_eq!(
        Codec::builder(keyring(&[SECRET_A]))
            .max_lifetime(Duration::from_millis(500))
            .build()
            .unwrap_err(),
        Error::Config(ConfigError::DurationTooShort {
            setting: "max_lifetime"
        })
    );
    // A week-long cookie from a deployment that allowed it, opened where
    // sessions may live 12 hours: it ends 12 hours after its creation.
    let week = Codec::builder(keyring(&[SECRET_A]))
        .lifetime(7 * 24 * HOUR)
        .idle_timeout(None)
        .build()
        .expect("valid");
    let short = Codec::builder(keyring(&[SECRET_A]))
        .idle_timeout(None)
        .build()
        .expect("valid");
    let cookie = week.seal_at(&sample(), t0()).expect("seals");
    let opened = short
        .open_at::<UserSession>(&cookie, t0() + HOUR)
        .expect("opens");
    assert_eq!(opened.absolute_deadline(), t0() + DEFAULT_LIFETIME);
    assert_eq!(
        open_err(&short, &cookie, t0() + DEFAULT_LIFETIME),
        Error::Expired {
            deadline: Deadline::Absolute
        }
    );
    week.open_at::<UserSession>(&cookie, t0() + DEFAULT_LIFETIME)
        .expect("the week-long deployment still opens it");
}

#[test]
fn only_the_configured_algorithms_open() {
    let xaes_only = Codec::builder(keyring(&[SECRET_A]))
        .open_algorithms([Algorithm::XAes256Gcm])
        .build()
        .expect("valid");
    assert_eq!(
        xaes_only.open_algorithms().collect::<Vec<_>>(),
        [Algorithm::XAes256Gcm]
    );
    assert_eq!(
        Codec::new(keyring(&[SECRET_A]))
            .open_algorithms()
            .collect::<Vec<_>>(),
        Algorithm::ALL,
        "both open by default"
    );
    let xchacha = codec_with(Algorithm::XChaCha20Poly1305);
    let cookie = xchacha.seal_at(&sample(), t0()).expect("seals");
    let err = open_err(&xaes_only, &cookie, t0());
    assert_eq!(err, Error::DisabledAlgorithm(Algorithm::XChaCha20Poly1305));
    assert_eq!(err.code(), "disabled-algorithm");
    assert!(!err.is_possible_tampering());
    // Refused before any decryption: a forged token with that algorithm
    // byte gets the same error, not an authentication failure.
    let mut forged = decode(&cookie);
    forged[40] ^= 1;
    assert_eq!(
        open_err(&xaes_only, &encode(&forged), t0()),
        Error::DisabledAlgorithm(Algorithm::XChaCha20Poly1305)
    );
    xaes_only
        .open_at::<UserSession>(&xaes_only.seal_at(&sample(), t0()).expect("seals"), t0())
        .expect("XAES still opens");
    // The sealing algorithm must open.
    for opens in [vec![Algorithm::XChaCha20Poly1305], vec![]] {
        assert_eq!(
            Codec::builder(keyring(&[SECRET_A]))
                .open_algorithms(opens)
                .build()
                .unwrap_err(),
            Error::Config(ConfigError::SealingAlgorithmNotOpened)
        );
    }
}

#[test]
fn a_cut_off_in_the_future_is_refused_when_building() {
    let now = SystemTime::now();
    assert_eq!(
        Codec::builder(keyring(&[SECRET_A]))
            .reject_created_before(now + 2 * DEFAULT_LEEWAY)
            .build()
            .unwrap_err(),
        Error::Config(ConfigError::CutOffInFuture)
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
    assert!(opened.created_at() >= soon - secs(1));
    let msg = Error::Config(ConfigError::CutOffInFuture).to_string();
    assert!(msg.contains("reject_created_before"), "{msg}");
}

#[test]
fn opened_debug_never_shows_the_value() {
    /// A type without `Debug`: `Opened` prints all the same.
    #[derive(Serialize, Deserialize)]
    struct Secretive {
        password_hint: String,
    }
    let codec = Codec::new(keyring(&[SECRET_A]));
    let cookie = codec
        .seal_at(
            &Secretive {
                password_hint: "the cat's name".into(),
            },
            t0(),
        )
        .expect("seals");
    let opened = codec.open_at::<Secretive>(&cookie, t0()).expect("opens");
    let shown = format!("{opened:?}");
    assert!(!shown.contains("cat"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(shown.contains(&opened.id().to_string()), "{shown}");
    let alternate = format!("{opened:#?}");
    assert!(!alternate.contains("cat"), "{alternate}");
    let typed = codec.open_at::<UserSession>(&codec.seal_at(&sample(), t0()).expect("seals"), t0());
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
    let codec = Codec::new(keyring(&[SECRET_A]));
    assert_eq!(
        codec
            .seal_at(
                &Skips {
                    note: None,
                    count: 1
                },
                t0()
            )
            .unwrap_err(),
        Error::Serialize(Unserializable::SkippedField)
    );
    // Each `Nest` level is a newtype struct and a `Some`: two levels, so
    // MAX_NESTING of them nest twice as deep as decoding allows.
    #[derive(Serialize)]
    struct Nest(Option<Box<Nest>>);
    let nest =
        (0..sealed_session::MAX_NESTING).fold(Nest(None), |inner, _| Nest(Some(Box::new(inner))));
    assert_eq!(
        codec.seal_at(&nest, t0()).unwrap_err(),
        Error::Serialize(Unserializable::TooDeep)
    );
    assert_eq!(
        codec.seal_at(&vec![(); 10], t0()).unwrap_err(),
        Error::Serialize(Unserializable::TooManyElements)
    );
}
