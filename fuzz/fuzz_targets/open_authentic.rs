//! Fuzz target `open_authentic`: authentic tokens around hostile plaintexts.
//!
//! The other targets cannot get past the AEAD, so the envelope parser, the
//! clock rules and the payload decoding behind it are out of their reach.
//! This one seals with an independent implementation of the v1 format (see
//! `fuzz/src/lib.rs`, written from the spec: HKDF key derivation, header,
//! associated data with the cookie name and optional binding, both AEADs,
//! base64url), so every token it makes is authentic, around a plaintext the
//! fuzzer chooses: raw bytes, or an envelope built from fields (times near
//! the fixed "now" or anywhere, a session id) followed by either raw payload
//! bytes or a postcard-encoded `Value`.
//!
//! Properties: nothing panics; the library never rejects these tokens as
//! unauthentic (the two implementations agree on the format); the outcome
//! of `open_bytes_at`, `open_at::<Value>` and `open_bound_at::<Value>` is
//! exactly what the spec prescribes (the same envelope and payload, or the
//! first broken rule: envelope, absolute deadline, idle deadline, not yet
//! valid, revoked, deserialize); a session that opens re-seals and opens
//! again to the same value, id, creation time and absolute deadline.

#![no_main]
#![forbid(unsafe_code)]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sealed_session::{Algorithm, Error};
use sealed_session_fuzz::{
    BINDING_CONTEXT, CUT_OFF_SECS, MAX_COOKIE_SIZE, MAX_TIME, NOW_SECS, ReferenceEnvelope,
    Rejection, Value, check_clock, fixture, now, outcome, read_envelope,
};

/// A time field of the envelope.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Time {
    /// The fixed "now" plus this many seconds (may be negative).
    Near(i32),
    /// Exactly this value (mostly far away or out of range).
    Exact(u64),
    /// Zero (for the idle deadline: none).
    Zero,
    /// The largest time the format carries, plus 0 to 255.
    AroundMax(u8),
}

impl Time {
    fn secs(self) -> u64 {
        match self {
            Self::Near(offset) => NOW_SECS.saturating_add_signed(i64::from(offset)),
            Self::Exact(v) => v,
            Self::Zero => 0,
            Self::AroundMax(d) => MAX_TIME - 128 + u64::from(d),
        }
    }
}

/// What follows the envelope.
#[derive(Arbitrary, Debug)]
enum Payload {
    /// Raw bytes.
    Raw(Vec<u8>),
    /// A postcard-encoded session value, optionally with trailing bytes.
    Value {
        name: String,
        count: u64,
        tags: Vec<u16>,
        trailing: Vec<u8>,
    },
}

/// The plaintext to seal.
#[derive(Arbitrary, Debug)]
enum Plaintext {
    /// Raw bytes, envelope included.
    Raw(Vec<u8>),
    /// An envelope from fields, and a payload.
    Fields {
        created_at: Time,
        absolute_deadline: Time,
        idle_deadline: Time,
        id: [u8; 16],
        payload: Payload,
    },
}

/// The fuzz input.
#[derive(Arbitrary, Debug)]
struct Input {
    xchacha: bool,
    old_secret: bool,
    bound: bool,
    nonce: [u8; 24],
    plaintext: Plaintext,
}

fuzz_target!(|input: Input| {
    let f = fixture();
    let plaintext = match &input.plaintext {
        Plaintext::Raw(bytes) => bytes.clone(),
        Plaintext::Fields {
            created_at,
            absolute_deadline,
            idle_deadline,
            id,
            payload,
        } => {
            let mut bytes = ReferenceEnvelope {
                created_at: created_at.secs(),
                absolute_deadline: absolute_deadline.secs(),
                idle_deadline: idle_deadline.secs(),
                id: *id,
            }
            .to_bytes();
            match payload {
                Payload::Raw(raw) => bytes.extend_from_slice(raw),
                Payload::Value {
                    name,
                    count,
                    tags,
                    trailing,
                } => {
                    let value = Value {
                        name: name.clone(),
                        count: *count,
                        tags: tags.clone(),
                    };
                    bytes.extend(postcard::to_allocvec(&value).expect("postcard"));
                    bytes.extend_from_slice(trailing);
                }
            }
            bytes
        }
    };
    let algorithm = if input.xchacha {
        Algorithm::XChaCha20Poly1305
    } else {
        Algorithm::XAes256Gcm
    };
    let key = &f.reference_keys[usize::from(input.old_secret)];
    let context = input.bound.then_some(BINDING_CONTEXT);
    let name = f.primary.cookie_name();
    let token = key.seal(algorithm, &input.nonce, name, context, &plaintext);

    // What the spec says: too large before anything else, then the
    // envelope, the clock, and (for a typed open) the payload.
    let size = name.len() + token.len();
    let expected_bytes: Result<(ReferenceEnvelope, &[u8]), Rejection> = if size > MAX_COOKIE_SIZE {
        Err(Rejection::TooLarge { size })
    } else {
        read_envelope(&plaintext).and_then(|(envelope, payload)| {
            check_clock(&envelope, NOW_SECS, Some(CUT_OFF_SECS))?;
            Ok((envelope, payload))
        })
    };
    let expected_value: Result<(ReferenceEnvelope, Value), Rejection> =
        expected_bytes.clone().and_then(|(envelope, payload)| {
            match postcard::take_from_bytes::<Value>(payload) {
                Ok((value, [])) => Ok((envelope, value)),
                _ => Err(Rejection::Deserialize),
            }
        });

    outcome(match &expected_value {
        Ok(_) => "opens",
        Err(rejection) => rejection.kind(),
    });

    // Raw payload (no binding: only unbound tokens open this way).
    let raw = f.primary.open_bytes_at(&token, now());
    if input.bound {
        assert_eq!(raw.map(drop), Err(auth_failure_or_too_large(size)));
    } else {
        match (&raw, &expected_bytes) {
            (Ok(opened), Ok((envelope, payload))) => {
                assert!(
                    envelope.matches(opened.envelope()),
                    "{opened:?} vs {envelope:?}"
                );
                assert_eq!(opened.value().as_slice(), *payload);
                assert_eq!(opened.sealed_with_old_secret(), input.old_secret);
                assert_eq!(opened.algorithm(), algorithm);
            }
            (Err(error), Err(rejection)) => {
                assert!(
                    rejection.matches(error),
                    "open_bytes_at: {rejection:?} vs {error:?}"
                );
            }
            (outcome, expected) => panic!("open_bytes_at: {outcome:?}, expected {expected:?}"),
        }
    }

    // Typed, with the matching binding (or none).
    let typed = if input.bound {
        f.primary.open_bound_at::<Value>(&token, &f.binding, now())
    } else {
        f.primary.open_at::<Value>(&token, now())
    };
    // ... and the mismatched one, which must fail authentication.
    let mismatched = if input.bound {
        f.primary.open_at::<Value>(&token, now())
    } else {
        f.primary.open_bound_at::<Value>(&token, &f.binding, now())
    };
    assert_eq!(mismatched.map(drop), Err(auth_failure_or_too_large(size)));

    match (typed, expected_value) {
        (Ok(opened), Ok((envelope, value))) => {
            assert!(envelope.matches(opened.envelope()));
            assert_eq!(opened.value(), &value);
            // It re-seals (same id, creation time, absolute deadline) and
            // opens again, unless the value no longer fits.
            match f.primary.reseal_at(&opened, now()) {
                Ok(resealed) => {
                    let again = if input.bound {
                        f.primary
                            .open_bound_at::<Value>(&resealed, &f.binding, now())
                    } else {
                        f.primary.open_at::<Value>(&resealed, now())
                    }
                    .expect("a re-sealed session opens");
                    assert_eq!(again.value(), &value);
                    assert_eq!(again.id(), opened.id());
                    assert_eq!(again.created_at(), opened.created_at());
                    assert_eq!(again.absolute_deadline(), opened.absolute_deadline());
                    assert!(!again.sealed_with_old_secret());
                    assert_eq!(again.algorithm(), Algorithm::XAes256Gcm);
                }
                Err(Error::TooLarge { size, limit }) => {
                    assert!(size > limit, "TooLarge below the limit: {size} <= {limit}");
                }
                Err(error) => panic!("re-sealing an opened session failed: {error:?}"),
            }
        }
        (Err(error), Err(rejection)) => {
            assert!(
                rejection.matches(&error),
                "open: {rejection:?} vs {error:?}"
            );
        }
        (outcome, expected) => panic!(
            "open: {:?}, expected {expected:?}",
            outcome.map(|o| (o.envelope().to_owned(), o.into_value()))
        ),
    }
});

/// The error a token opened with the wrong binding gets: too large if it
/// is, otherwise an authentication failure.
fn auth_failure_or_too_large(size: usize) -> Error {
    if size > MAX_COOKIE_SIZE {
        Error::TooLarge {
            size,
            limit: MAX_COOKIE_SIZE,
        }
    } else {
        Error::AuthenticationFailed
    }
}
