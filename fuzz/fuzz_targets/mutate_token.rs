//! Fuzz target `mutate_token`: structure-aware mutations of genuine tokens.
//!
//! Five genuine cookie values are sealed once, at the fixed time of the
//! codecs' clocks, into one session (one envelope) under one keyring: the value `alice` with each algorithm, `alice` bound to a
//! context, and `bob` under the current and under the previous secret. The
//! input (decoded with `arbitrary`) picks one of them and a short list of
//! mutations, applied either to the cookie text or to the decoded token
//! bytes (then re-encoded, so the AEAD rather than the base64 decoder sees
//! the change): flip a bit, insert, delete or swap bytes, change ASCII case,
//! truncate, duplicate a range, turn base64url into its standard or padded
//! variants, and splice in part of another genuine token. Every index is
//! taken modulo the length, so the target's own code cannot panic.
//!
//! Every result is opened, bound and unbound, typed and raw, by the codec
//! that sealed the tokens and by one that opens XAES-256-GCM only, and
//! compared with the reference implementation (`tests/support/reference.rs`,
//! `Opener::open` with the same settings, then postcard).
//!
//! Properties: nothing panics; the library's outcome is exactly the
//! reference's (the same session, or the same rejection with the same data:
//! too large, encoding, truncated, version, algorithm, disabled algorithm,
//! unknown key, authentication failed); only a result equal to a genuine
//! token opens, with and only with that token's binding, to that token's
//! value, secret and algorithm (different text means different bytes under
//! strict base64url, and every byte is authenticated); a genuine token does
//! not open under another cookie name, with a binding it was not sealed
//! with or without its own, under another codec's name and algorithm,
//! another secret, another app label (unknown key) or another schema label
//! (schema mismatch: the one rejection after authentication a token can
//! reach without a forged plaintext; other schema ids inside authentic
//! tokens are `open_authentic`'s).

#![no_main]
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sealed_session::{Algorithm, Binding, Codec, Error, OpenOptions, SealOptions};
use sealed_session_fuzz::{
    BINDING_CONTEXT, Mirrored, Rejection, Value, assert_opens_as_expected, expected_open,
    expected_typed, fixture, open_options, outcome, reference,
};

/// A context no genuine token is bound to.
const OTHER_CONTEXT: &[u8] = b"198.51.100.20";

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
        // A new session, created now: the envelope of a cookie just sealed.
        let first = f.primary.codec.seal(&()).expect("seals");
        let envelope = *f
            .primary
            .codec
            .open::<()>(&first)
            .expect("opens")
            .envelope();
        let seal = |codec: &Codec, value: &Value, binding: Option<Binding>| {
            let options = SealOptions::new().envelope(envelope);
            let options = match binding {
                Some(b) => options.binding(b),
                None => options,
            };
            codec
                .seal_with(value, &options)
                .expect("a small value seals")
        };
        let genuine = |text: String, value, bound, old_secret, algorithm| {
            let g = Genuine {
                text,
                value,
                bound,
                old_secret,
                algorithm,
            };
            // The reference agrees with what each place must give.
            for (what, m, context, _, must) in elsewhere(&g) {
                let opener = m.settings.opener(context);
                let expected = expected_typed::<Value>(&expected_open(&opener, &g.text));
                assert_eq!(expected.map(drop), Err(must), "the reference, {what}");
            }
            g
        };
        [
            genuine(
                seal(&f.primary.codec, &Value::alice(), None),
                Value::alice(),
                false,
                false,
                Algorithm::XAes256Gcm,
            ),
            // Same name and keyring as `primary`, other algorithm.
            genuine(
                seal(&f.chacha.codec, &Value::alice(), None),
                Value::alice(),
                false,
                false,
                Algorithm::XChaCha20Poly1305,
            ),
            genuine(
                seal(&f.primary.codec, &Value::alice(), Some(f.binding)),
                Value::alice(),
                true,
                false,
                Algorithm::XAes256Gcm,
            ),
            genuine(
                seal(&f.primary.codec, &Value::bob(), None),
                Value::bob(),
                false,
                false,
                Algorithm::XAes256Gcm,
            ),
            genuine(
                seal(&f.old_only.codec, &Value::bob(), None),
                Value::bob(),
                false,
                true,
                Algorithm::XAes256Gcm,
            ),
        ]
    })
}

/// Where a genuine token must not open: what, codec, context (`None`:
/// unbound), `true` for a raw `open_bytes` (unbound) instead of a typed
/// open, and the rejection it must get there.
type Place = (
    &'static str,
    &'static Mirrored,
    Option<&'static [u8]>,
    bool,
    Rejection,
);

/// The places a genuine token does not open.
fn elsewhere(g: &Genuine) -> [Place; 9] {
    let f = fixture();
    let own = g.bound.then_some(BINDING_CONTEXT);
    let opposite = (!g.bound).then_some(BINDING_CONTEXT);
    let token = reference::decode(&g.text).expect("genuine tokens decode");
    let key_id = [token[2], token[3], token[4], token[5]];
    let auth = Rejection::AuthenticationFailed;
    [
        ("another cookie name", &f.renamed, None, false, auth.clone()),
        (
            "another name, bound",
            &f.renamed,
            Some(BINDING_CONTEXT),
            false,
            auth.clone(),
        ),
        (
            "another binding",
            &f.primary,
            Some(OTHER_CONTEXT),
            false,
            auth.clone(),
        ),
        (
            "the other binding state",
            &f.primary,
            opposite,
            false,
            auth.clone(),
        ),
        // `open_bytes` without options opens unbound tokens only.
        (
            "raw, under another name or unbound",
            if g.bound { &f.primary } else { &f.renamed },
            None,
            true,
            auth.clone(),
        ),
        // Same keyring, other name and algorithm.
        ("another codec", &f.secondary, own, false, auth),
        (
            "another secret",
            &f.foreign,
            own,
            false,
            Rejection::UnknownKey(key_id),
        ),
        (
            "another app label",
            &f.other_app,
            own,
            false,
            Rejection::UnknownKey(key_id),
        ),
        (
            "another schema label",
            &f.other_schema,
            own,
            !g.bound,
            Rejection::SchemaMismatch,
        ),
    ]
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
            let mut bytes = reference::decode(&original.text).expect("genuine tokens decode");
            for m in input.mutations.iter().take(MAX_MUTATIONS) {
                apply(&mut bytes, *m, Level::Token);
            }
            reference::encode(&bytes)
        }
    };
    check(&mutated);
    check_original_stays_put(original);
});

/// `mutated` opens iff it is a genuine token, to that token's value, and
/// fails exactly as the reference says otherwise.
fn check(mutated: &str) {
    let f = fixture();
    let genuine = genuine().iter().find(|g| g.text == mutated);
    for m in [&f.primary, &f.xaes_only] {
        for bound in [false, true] {
            let opener = m.opener(bound);
            let expected = expected_typed::<Value>(&expected_open(&opener, mutated));
            let opened = if bound {
                m.codec
                    .open_with::<Value>(mutated, &OpenOptions::new().binding(f.binding))
            } else {
                m.codec.open::<Value>(mutated)
            };
            let what = if bound { "bound" } else { "unbound" };
            if let Err(Rejection::DisabledAlgorithm(_)) = &expected
                && !bound
            {
                // Only the XAES-only codec gives it; the others are counted below.
                outcome("disabled-algorithm");
            }
            match (opened, expected) {
                (Ok(opened), Ok(expected)) => {
                    assert!(
                        genuine.is_some(),
                        "FORGERY: a mutated token opened in both implementations: {mutated:?}"
                    );
                    assert_opens_as_expected(
                        what,
                        &opened,
                        &expected,
                        &opener,
                        m.settings.algorithm,
                    );
                }
                (Err(error), Err(rejection)) => assert!(
                    rejection.matches(&error),
                    "{what} under {:?}: expected {rejection:?}, got {error:?} for {mutated:?}",
                    m.settings
                ),
                (Ok(_), Err(rejection)) => panic!(
                    "FORGERY: a mutated token opened ({what}), expected {rejection:?}: {mutated:?}"
                ),
                (Err(error), Ok(_)) => {
                    panic!("{what}: a genuine token failed with {error:?}: {mutated:?}")
                }
            }
        }
    }
    let expected = expected_open(&f.primary.opener(false), mutated);
    match (
        f.primary.codec.open_bytes(mutated, &OpenOptions::new()),
        &expected,
    ) {
        (Ok(opened), Ok((session, _))) => {
            assert!(genuine.is_some_and(|g| !g.bound));
            assert_eq!(opened.value().as_slice(), session.payload.as_slice());
        }
        (Err(error), Err(rejection)) => assert!(
            rejection.matches(&error),
            "open_bytes: expected {rejection:?}, got {error:?} for {mutated:?}"
        ),
        (opened, expected) => panic!(
            "open_bytes: {:?}, expected {:?}",
            opened.map(drop),
            expected.as_ref().map(drop)
        ),
    }

    match genuine {
        Some(g) => {
            outcome("genuine");
            let unbound = f.primary.codec.open::<Value>(mutated);
            let bound = f
                .primary
                .codec
                .open_with::<Value>(mutated, &OpenOptions::new().binding(f.binding));
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
        None => outcome(expected.as_ref().map_or_else(Rejection::kind, |_| "opens")),
    }
}

/// The name, the binding, the keys, the app label and the schema label are
/// all part of a seal: a genuine token does not open under another cookie
/// name, with the wrong binding, under another codec, secret, app label or
/// schema label, and fails exactly as the reference says.
fn check_original_stays_put(original: &Genuine) {
    let text = original.text.as_str();
    for (what, m, context, raw, rejection) in elsewhere(original) {
        let result = match (context, raw) {
            (_, true) => m.codec.open_bytes(text, &OpenOptions::new()).map(drop),
            (context, false) => m
                .codec
                .open_with::<Value>(text, &open_options(context.map(Binding::new)))
                .map(drop),
        };
        match result {
            Ok(()) => panic!("a genuine token opened under {what}"),
            Err(error) => assert!(
                rejection.matches(&error),
                "{what}: expected {rejection:?}, got {error:?}"
            ),
        }
    }
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
                Level::Token => reference::decode(donor).expect("genuine tokens decode"),
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
