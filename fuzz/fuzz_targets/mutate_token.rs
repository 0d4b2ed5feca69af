//! Fuzz target `mutate_token`: structure-aware mutations of genuine tokens.
//!
//! Five genuine cookie values are sealed once, at a fixed time, under one
//! keyring: the value `alice` with each algorithm, `alice` bound to a
//! context, and `bob` under the current and under the previous secret. The
//! input (decoded with `arbitrary`) picks one of them and a short list of
//! mutations, applied either to the cookie text or to the decoded token
//! bytes (then re-encoded, so the AEAD rather than the base64 decoder sees
//! the change): flip a bit, insert, delete or swap bytes, change ASCII case,
//! truncate, duplicate a range, turn base64url into its standard or padded
//! variants, and splice in part of another genuine token. Every index is
//! taken modulo the length, so the target's own code cannot panic.
//!
//! Properties: nothing panics; a result equal to a genuine token opens, with
//! and only with that token's binding, to that token's value; any other
//! result fails to open with exactly the rejection the spec prescribes
//! (different text means different bytes under strict base64url, and every
//! byte is authenticated); a genuine token does not open under another cookie
//! name, with a binding it was not sealed with, or without its own.

#![no_main]
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sealed_session::{Algorithm, Binding, Codec, Error};
use sealed_session_fuzz::{
    Value, base64url_decode, base64url_encode, expected_rejection, fixture, now, outcome,
};

/// A genuine cookie value and what it must open to.
struct Genuine {
    text: String,
    value: Value,
    bound: bool,
    old_secret: bool,
    algorithm: Algorithm,
}

/// The genuine tokens, sealed once.
fn genuine() -> &'static [Genuine; 5] {
    static TOKENS: OnceLock<[Genuine; 5]> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let f = fixture();
        let envelope = f.primary.new_envelope_at(now()).expect("random id");
        let seal = |codec: &Codec, value: &Value, binding: Option<&Binding>| {
            match binding {
                Some(b) => codec.seal_bound_at(value, &envelope, b, now()),
                None => codec.seal_with_at(value, &envelope, now()),
            }
            .expect("a small value seals")
        };
        // Same name and keyring as `primary`, other algorithm.
        let chacha = Codec::builder(f.keyring.clone())
            .algorithm(Algorithm::XChaCha20Poly1305)
            .idle_timeout(f.primary.idle_timeout().expect("primary has one"))
            .build()
            .expect("fixed codec");
        let genuine = |text, value, bound, old_secret, algorithm| Genuine {
            text,
            value,
            bound,
            old_secret,
            algorithm,
        };
        [
            genuine(
                seal(&f.primary, &Value::alice(), None),
                Value::alice(),
                false,
                false,
                Algorithm::XAes256Gcm,
            ),
            genuine(
                seal(&chacha, &Value::alice(), None),
                Value::alice(),
                false,
                false,
                Algorithm::XChaCha20Poly1305,
            ),
            genuine(
                seal(&f.primary, &Value::alice(), Some(&f.binding)),
                Value::alice(),
                true,
                false,
                Algorithm::XAes256Gcm,
            ),
            genuine(
                seal(&f.primary, &Value::bob(), None),
                Value::bob(),
                false,
                false,
                Algorithm::XAes256Gcm,
            ),
            genuine(
                seal(&f.old_only, &Value::bob(), None),
                Value::bob(),
                false,
                true,
                Algorithm::XAes256Gcm,
            ),
        ]
    })
}

/// Where the mutations apply.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Level {
    /// The cookie value text.
    Text,
    /// The decoded token bytes, re-encoded afterwards.
    Token,
}

/// One base64 variant to introduce.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Variant {
    /// `-` to `+` and `_` to `/` everywhere (standard alphabet).
    StandardAlphabet,
    /// The standard alphabet at one position only.
    StandardAt(u16),
    /// Append `=` padding (one or two).
    Pad(bool),
    /// Insert a character base64url does not use at a position.
    Foreign(u16, ForeignChar),
}

/// Characters outside the base64url alphabet that look plausible.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum ForeignChar {
    Plus,
    Slash,
    Equals,
    Space,
    Dot,
    Percent,
    Quote,
    Nul,
}

impl ForeignChar {
    fn byte(self) -> u8 {
        match self {
            Self::Plus => b'+',
            Self::Slash => b'/',
            Self::Equals => b'=',
            Self::Space => b' ',
            Self::Dot => b'.',
            Self::Percent => b'%',
            Self::Quote => b'"',
            Self::Nul => 0,
        }
    }
}

/// One mutation; indexes are reduced modulo the current length.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Mutation {
    FlipBit {
        index: u16,
        bit: u8,
    },
    Insert {
        index: u16,
        byte: u8,
    },
    Delete {
        index: u16,
    },
    Swap {
        a: u16,
        b: u16,
    },
    ToggleCase {
        index: u16,
    },
    Truncate {
        len: u16,
    },
    Duplicate {
        start: u16,
        len: u8,
        at: u16,
    },
    Base64(Variant),
    Splice {
        other: u8,
        start: u16,
        len: u16,
        at: u16,
        replace: bool,
    },
}

/// The fuzz input.
#[derive(Arbitrary, Debug)]
struct Input {
    original: u8,
    level: Level,
    mutations: Vec<Mutation>,
}

/// At most this many mutations are applied per input.
const MAX_MUTATIONS: usize = 16;

fuzz_target!(|input: Input| {
    let tokens = genuine();
    let original = &tokens[usize::from(input.original) % tokens.len()];
    let mutated = match input.level {
        Level::Text => {
            let mut bytes = original.text.clone().into_bytes();
            for m in input.mutations.iter().take(MAX_MUTATIONS) {
                apply(&mut bytes, *m, Level::Text);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Level::Token => {
            let mut bytes = base64url_decode(&original.text).expect("genuine tokens decode");
            for m in input.mutations.iter().take(MAX_MUTATIONS) {
                apply(&mut bytes, *m, Level::Token);
            }
            base64url_encode(&bytes)
        }
    };
    check(&mutated);
    check_original_stays_put(original);
});

/// `mutated` opens iff it is a genuine token, to that token's value.
fn check(mutated: &str) {
    let f = fixture();
    let unbound = f.primary.open_at::<Value>(mutated, now());
    let bound = f.primary.open_bound_at::<Value>(mutated, &f.binding, now());
    match genuine().iter().find(|g| g.text == mutated) {
        Some(g) => {
            outcome("genuine");
            let (opens, fails) = if g.bound {
                (bound, unbound)
            } else {
                (unbound, bound)
            };
            let opened = opens.expect("an unchanged genuine token opens");
            assert_eq!(opened.value(), &g.value);
            assert_eq!(opened.sealed_with_old_secret(), g.old_secret);
            assert_eq!(opened.algorithm(), g.algorithm);
            assert_eq!(fails.map(drop), Err(Error::AuthenticationFailed));
        }
        None => {
            let expected = expected_rejection(f, f.primary.cookie_name(), mutated);
            outcome(expected.kind());
            for (binding, outcome) in [("unbound", unbound), ("bound", bound)] {
                match outcome {
                    Ok(opened) => panic!(
                        "FORGERY: a mutated token opened ({binding}) to {:?}: {mutated:?}",
                        opened.value()
                    ),
                    Err(error) => assert!(
                        expected.matches(&error),
                        "{binding}: expected {expected:?}, got {error:?} for {mutated:?}"
                    ),
                }
            }
            let bytes = f.primary.open_bytes_at(mutated, now());
            assert!(bytes.is_err_and(|e| expected.matches(&e)));
        }
    }
}

/// The name and the binding are authenticated: a genuine token does not
/// open under another cookie name, nor with the wrong binding.
fn check_original_stays_put(original: &Genuine) {
    let f = fixture();
    let other = Binding::new(b"198.51.100.20");
    let text = original.text.as_str();
    let auth = Err(Error::AuthenticationFailed);
    assert_eq!(f.renamed.open_at::<Value>(text, now()).map(drop), auth);
    assert_eq!(
        f.renamed
            .open_bound_at::<Value>(text, &f.binding, now())
            .map(drop),
        auth
    );
    assert_eq!(
        f.primary
            .open_bound_at::<Value>(text, &other, now())
            .map(drop),
        auth
    );
    // Same keyring, other name and algorithm.
    assert_eq!(f.secondary.open_at::<Value>(text, now()).map(drop), auth);
}

/// `index` reduced into `0..len`, or 0 for an empty buffer.
fn wrap(index: u16, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        usize::from(index) % len
    }
}

fn apply(bytes: &mut Vec<u8>, mutation: Mutation, level: Level) {
    let len = bytes.len();
    match mutation {
        Mutation::FlipBit { index, bit } => {
            if let Some(b) = bytes.get_mut(wrap(index, len)) {
                *b ^= 1 << (bit % 8);
            }
        }
        Mutation::Insert { index, byte } => bytes.insert(wrap(index, len + 1), byte),
        Mutation::Delete { index } => {
            if len > 0 {
                bytes.remove(wrap(index, len));
            }
        }
        Mutation::Swap { a, b } => {
            if len > 0 {
                bytes.swap(wrap(a, len), wrap(b, len));
            }
        }
        Mutation::ToggleCase { index } => {
            if let Some(b) = bytes.get_mut(wrap(index, len))
                && b.is_ascii_alphabetic()
            {
                *b ^= 0x20;
            }
        }
        Mutation::Truncate { len: keep } => bytes.truncate(wrap(keep, len + 1)),
        Mutation::Duplicate { start, len: n, at } => {
            let start = wrap(start, len);
            let end = start.saturating_add(usize::from(n)).min(len);
            let copy: Vec<u8> = bytes.get(start..end).unwrap_or_default().to_vec();
            let at = wrap(at, len + 1);
            bytes.splice(at..at, copy);
        }
        Mutation::Base64(variant) => apply_variant(bytes, variant),
        Mutation::Splice {
            other,
            start,
            len: n,
            at,
            replace,
        } => {
            let tokens = genuine();
            let donor = &tokens[usize::from(other) % tokens.len()].text;
            let donor: Vec<u8> = match level {
                Level::Text => donor.as_bytes().to_vec(),
                Level::Token => base64url_decode(donor).expect("genuine tokens decode"),
            };
            let start = wrap(start, donor.len());
            let end = start.saturating_add(usize::from(n)).min(donor.len());
            let piece = donor.get(start..end).unwrap_or_default();
            let at = wrap(at, len + 1);
            // Replace the same number of bytes (as far as there are any), or insert.
            let until = if replace {
                at.saturating_add(piece.len()).min(len)
            } else {
                at
            };
            bytes.splice(at..until, piece.iter().copied());
        }
    }
}

fn apply_variant(bytes: &mut Vec<u8>, variant: Variant) {
    let standard = |b: &mut u8| match *b {
        b'-' => *b = b'+',
        b'_' => *b = b'/',
        _ => {}
    };
    let len = bytes.len();
    match variant {
        Variant::StandardAlphabet => bytes.iter_mut().for_each(standard),
        Variant::StandardAt(index) => {
            if let Some(b) = bytes.get_mut(wrap(index, len)) {
                standard(b);
            }
        }
        Variant::Pad(two) => {
            bytes.push(b'=');
            if two {
                bytes.push(b'=');
            }
        }
        Variant::Foreign(index, c) => bytes.insert(wrap(index, len + 1), c.byte()),
    }
}
