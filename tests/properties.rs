//! Property tests (proptest): for random payloads, cookie names, keyrings,
//! algorithms and bindings, sealing and opening round-trip, and every change
//! to a sealed value, its name, its secret, its algorithm byte or its binding
//! makes it fail to open.
//!
//! Inputs:
//! * payloads: unicode strings, byte vectors, a small record and a unit
//!   variant, up to about 1.5 KB of postcard;
//! * cookie names: 1 to 64 RFC 6265 token characters, half of them with the
//!   `__Host-` prefix;
//! * keyrings: 1 to 4 distinct secrets of 32 to 64 random bytes, both
//!   algorithms;
//! * bindings: none, or 0 to 64 random context bytes;
//! * application and schema labels: 0 to 64 visible ASCII characters;
//! * clocks: seal times from 2001 to 2096, lifetimes, maximum lifetimes,
//!   per-session lifetimes and idle timeouts (or none) from a second to
//!   hundreds of days, for the sealing and the opening configuration
//!   independently.
//!
//! A mutation that happens to leave the value unchanged (swapping two equal
//! characters, say), or two labels that happen to be equal, is asserted to
//! open rather than skipped, so no case is thrown away. Every test sets its
//! case count; the counts are listed in `CASES_*` below and the whole file
//! runs in a few seconds in a debug build.
//!
//! Every codec reads a [`ManualClock`] of its case, which the helpers set
//! before each seal, open, load and write: values are sealed at [`t0`] and
//! opened at [`t1`] unless a property says otherwise. Key ids and schema ids
//! are checked against the reference implementation
//! (`tests/support/reference.rs`).

#[path = "support/common.rs"]
mod common;
#[path = "support/reference.rs"]
mod reference;

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::t0;
use cookie::Cookie;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use proptest::sample::Index;
use serde::{Deserialize, Serialize};

use sealed_session::clock::ManualClock;
use sealed_session::error::{Deadline, Malformed};
use sealed_session::limits::{DEFAULT_IDLE_TIMEOUT, DEFAULT_LIFETIME, DEFAULT_MAX_COOKIE_SIZE};
use sealed_session::{
    Algorithm, Binding, Codec, CodecBuilder, Envelope, Error, KeyId, Keyring, OpenOptions,
    SealOptions, Session, SessionConfig, Unsealed, Written,
};

/// Cases for the round-trip properties (codec and http helper).
const CASES_ROUND_TRIP: u32 = 256;
/// Cases for each mutation of the value string or the token.
const CASES_MUTATION: u32 = 256;
/// Cases for the properties that build two keyrings per case.
const CASES_KEYRINGS: u32 = 128;
/// Cases for name, algorithm and binding swaps.
const CASES_SWAP: u32 = 256;
/// Cases for each application and schema label property.
const CASES_LABELS: u32 = 256;
/// Cases for each clock property (idle timeout, maximum lifetime).
const CASES_CLOCK: u32 = 256;

/// When values are opened: one second after sealing (at [`t0`]).
fn t1() -> SystemTime {
    t0() + common::secs(1)
}

/// The base64url alphabet, for insertions that keep the value looking valid.
const URL_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The separators RFC 6265 (via RFC 2616) excludes from cookie names.
const SEPARATORS: &[u8] = b"()<>@,;:\\\"/[]?={}";

/// Every RFC 6265 token character: visible ASCII except separators.
fn token_chars() -> Vec<char> {
    (0x21u8..0x7f)
        .filter(|b| !SEPARATORS.contains(b))
        .map(char::from)
        .collect()
}

/// A small struct, as an application's session type might be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    user_id: u64,
    name: String,
    roles: Vec<String>,
    cart: Vec<(u32, u16)>,
    admin: bool,
    score: Option<i64>,
}

/// The session values: what applications put in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Payload {
    Text(String),
    Bytes(Vec<u8>),
    Record(Record),
    Unit,
}

/// Any of the payload variants, up to about 1.5 KB of postcard.
fn payload() -> impl Strategy<Value = Payload> {
    let record = (
        any::<u64>(),
        "\\PC{0,40}",
        prop::collection::vec("[a-z_]{0,20}", 0..5),
        prop::collection::vec(any::<(u32, u16)>(), 0..30),
        any::<bool>(),
        any::<Option<i64>>(),
    )
        .prop_map(|(user_id, name, roles, cart, admin, score)| Record {
            user_id,
            name,
            roles,
            cart,
            admin,
            score,
        });
    prop_oneof![
        "\\PC{0,200}".prop_map(Payload::Text),
        prop::collection::vec(any::<u8>(), 0..1_000).prop_map(Payload::Bytes),
        record.prop_map(Payload::Record),
        Just(Payload::Unit),
    ]
}

/// A valid cookie name: 1 to 64 token characters, maybe after `__Host-`.
fn cookie_name() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::collection::vec(prop::sample::select(token_chars()), 1..=64),
    )
        .prop_map(|(host, chars)| {
            let name: String = chars.into_iter().collect();
            if host { format!("__Host-{name}") } else { name }
        })
}

/// 1 to 4 distinct secrets of 32 to 64 bytes.
fn secrets() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 32..=64), 1..=4)
        .prop_filter("secrets must be distinct", |secrets| {
            secrets.iter().collect::<HashSet<_>>().len() == secrets.len()
        })
}

/// Either algorithm.
fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(Algorithm::ALL.to_vec())
}

/// No binding, or a context of 0 to 64 bytes.
fn context() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(prop::collection::vec(any::<u8>(), 0..=64))
}

/// A keyring of raw secrets, the first sealing.
fn keyring(secrets: &[Vec<u8>]) -> Keyring {
    Keyring::from_bytes(secrets).expect("distinct secrets of at least 32 bytes")
}

/// A raw secret as the reference implementation takes it.
fn secret_text(secret: &[u8]) -> String {
    format!("base64:{}", STANDARD.encode(secret))
}

/// The key ids of `secrets` under `app_label`, in keyring order, as the
/// reference implementation derives them.
fn key_ids(secrets: &[Vec<u8>], app_label: &str) -> Vec<[u8; 4]> {
    secrets
        .iter()
        .map(|secret| reference::derive(&secret_text(secret), app_label).id)
        .collect()
}

/// A codec for this name and algorithm reading `clock`, other settings at
/// their defaults.
fn codec(keyring: Keyring, name: &str, algorithm: Algorithm, clock: &ManualClock) -> Codec {
    Codec::builder(keyring)
        .cookie_name(name)
        .algorithm(algorithm)
        .clock(clock.clone())
        .build()
        .expect("valid settings")
}

/// What a property seals: a payload under a name, a keyring (the first
/// secret seals), an algorithm and an optional binding.
#[derive(Debug, Clone)]
struct Input {
    payload: Payload,
    name: String,
    secrets: Vec<Vec<u8>>,
    algorithm: Algorithm,
    context: Option<Vec<u8>>,
}

/// A random [`Input`].
fn input() -> impl Strategy<Value = Input> {
    (payload(), cookie_name(), secrets(), algorithm(), context()).prop_map(
        |(payload, name, secrets, algorithm, context)| Input {
            payload,
            name,
            secrets,
            algorithm,
            context,
        },
    )
}

/// A sealed value and what it takes to open it.
struct Sealed {
    codec: Codec,
    /// The clock of `codec` (and of any opener a property builds).
    clock: ManualClock,
    binding: Option<Binding>,
    value: String,
    /// The key id `value` was sealed under, as the crate reports it.
    key_id: KeyId,
}

impl Sealed {
    fn new(input: &Input) -> Self {
        let clock = common::clock();
        let codec = codec(
            keyring(&input.secrets),
            &input.name,
            input.algorithm,
            &clock,
        );
        let binding = input.context.as_deref().map(Binding::new);
        let value = seal(&codec, &clock, &input.payload, binding.as_ref());
        let key_id = key_id_of(&codec, &clock, &value, binding.as_ref());
        // The first secret seals, under the key id the reference derives.
        assert_eq!(key_id.to_bytes(), key_ids(&input.secrets, "")[0]);
        Self {
            codec,
            clock,
            binding,
            value,
            key_id,
        }
    }

    fn open(&self, value: &str) -> Result<Payload, Error> {
        open(&self.codec, &self.clock, value, self.binding.as_ref())
    }
}

/// Seals `payload` as a new session at `t0` (setting `clock`, the codec's),
/// bound if a binding is given.
fn seal(
    codec: &Codec,
    clock: &ManualClock,
    payload: &Payload,
    binding: Option<&Binding>,
) -> String {
    clock.set(t0());
    match binding {
        None => codec.seal(payload),
        Some(binding) => codec.seal_with(payload, &SealOptions::new().binding(*binding)),
    }
    .expect("a payload of this size fits")
}

/// Opens `value` at `now` (setting `clock`, the codec's), bound if a
/// binding is given.
fn unseal(
    codec: &Codec,
    clock: &ManualClock,
    value: &str,
    binding: Option<&Binding>,
    now: SystemTime,
) -> Result<Unsealed<Payload>, Error> {
    clock.set(now);
    match binding {
        None => codec.open::<Payload>(value),
        Some(binding) => codec.open_with::<Payload>(value, &OpenOptions::new().binding(*binding)),
    }
}

/// Opens `value` at `t1`, bound if a binding is given.
fn open(
    codec: &Codec,
    clock: &ManualClock,
    value: &str,
    binding: Option<&Binding>,
) -> Result<Payload, Error> {
    unseal(codec, clock, value, binding, t1()).map(Unsealed::into_value)
}

/// The key id `codec` reports for a `value` it opens (at `t1`).
fn key_id_of(codec: &Codec, clock: &ManualClock, value: &str, binding: Option<&Binding>) -> KeyId {
    unseal(codec, clock, value, binding, t1())
        .expect("the value opens")
        .key_id()
}

/// The envelope of a new session `codec` seals at `t0` (setting `clock`,
/// the codec's): an existing session to seal into.
fn created_at_t0(codec: &Codec, clock: &ManualClock, payload: &Payload) -> Envelope {
    clock.set(t0());
    let value = codec.seal(payload).expect("a payload of this size fits");
    *codec.open::<Payload>(&value).expect("opens").envelope()
}

/// Loads the session of `headers` at `now` (setting `clock`, the codec's),
/// bound if a binding is given.
fn load(
    config: &SessionConfig,
    clock: &ManualClock,
    headers: &HeaderMap,
    binding: Option<Binding>,
    now: SystemTime,
) -> Session<Payload> {
    clock.set(now);
    match binding {
        None => config.load::<Payload>(headers),
        Some(binding) => config.load_with::<Payload>(headers, &OpenOptions::new().binding(binding)),
    }
}

/// A changed value must fail at or before the AEAD check: nothing behind
/// the authentication (envelope, clock, payload) may ever be reached.
fn assert_rejected_before_trust(result: &Result<Payload, Error>) -> Result<(), TestCaseError> {
    match result {
        Err(
            Error::TooLarge { .. }
            | Error::Malformed(Malformed::Encoding | Malformed::Truncated)
            | Error::UnsupportedVersion(_)
            | Error::UnknownAlgorithm(_)
            | Error::UnknownKey(_)
            | Error::AuthenticationFailed,
        ) => Ok(()),
        other => Err(TestCaseError::fail(format!(
            "a changed value gave {other:?}"
        ))),
    }
}

/// Checks a mutated value: unchanged, it opens to the payload; changed, it
/// is rejected before anything authenticated is trusted.
fn check_mutation(input: &Input, sealed: &Sealed, mutated: &str) -> Result<(), TestCaseError> {
    let result = sealed.open(mutated);
    if mutated == sealed.value {
        prop_assert_eq!(&result, &Ok(input.payload.clone()));
    } else {
        assert_rejected_before_trust(&result)?;
    }
    Ok(())
}

/// The token of a sealed value.
fn decode(value: &str) -> Vec<u8> {
    reference::decode(value).expect("a sealed value decodes")
}

/// A token as a cookie value.
fn encode(token: &[u8]) -> String {
    reference::encode(token)
}

/// The value's character at `index`, replaced by `with`.
fn replace_char(value: &str, index: usize, with: char) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    chars[index] = with;
    chars.into_iter().collect()
}

/// The ways a base64url value can be re-encoded that a lenient decoder
/// would accept as the same bytes.
#[derive(Debug, Clone, Copy)]
enum Base64Variant {
    /// `-` and `_` replaced by the standard alphabet's `+` and `/`.
    StandardAlphabet,
    /// `=` padding appended (one `=` even when the length needs none).
    Padding,
    /// The unused low bits of the last character set (lenient decoders
    /// ignore them).
    TrailingBits(u8),
    /// A space, tab, CR or LF inserted (MIME decoders skip them).
    Whitespace(char, Index),
}

fn base64_variant() -> impl Strategy<Value = Base64Variant> {
    prop_oneof![
        Just(Base64Variant::StandardAlphabet),
        Just(Base64Variant::Padding),
        (1u8..16).prop_map(Base64Variant::TrailingBits),
        (
            prop::sample::select(vec![' ', '\t', '\r', '\n']),
            any::<Index>()
        )
            .prop_map(|(c, i)| Base64Variant::Whitespace(c, i)),
    ]
}

fn apply_base64_variant(value: &str, variant: Base64Variant) -> String {
    match variant {
        Base64Variant::StandardAlphabet => value.replace('-', "+").replace('_', "/"),
        Base64Variant::Padding => {
            // What a padded encoder writes, or one stray `=`.
            let padding = if value.len() % 4 == 2 { "==" } else { "=" };
            format!("{value}{padding}")
        }
        Base64Variant::TrailingBits(bits) => {
            // A final group of 2 characters carries 8 bits in 12 (4 unused),
            // one of 3 carries 16 in 18 (2 unused); a full group has none.
            let unused_mask = match value.len() % 4 {
                2 => 0b1111,
                3 => 0b11,
                _ => 0,
            };
            let last = value.len() - 1;
            let sextet = URL_ALPHABET
                .iter()
                .position(|&c| c == value.as_bytes()[last])
                .expect("a base64url character") as u8;
            let changed = sextet | (bits & unused_mask);
            replace_char(value, last, char::from(URL_ALPHABET[usize::from(changed)]))
        }
        Base64Variant::Whitespace(c, at) => {
            let mut out = value.to_string();
            out.insert(at.index(value.len() + 1), c);
            out
        }
    }
}

/// The one `Set-Cookie` of a response, parsed (asserting there is exactly
/// one).
fn the_set_cookie(response: &HeaderMap) -> Cookie<'static> {
    let mut all = common::set_cookies(response);
    assert_eq!(all.len(), 1, "one Set-Cookie: {all:?}");
    all.remove(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_ROUND_TRIP))]

    /// Sealed, then opened by a keyring holding the sealing secret at any
    /// position (a rotation in progress): the payload comes back, the old
    /// secret is reported, and the value is strict base64url within the
    /// cookie size limit.
    #[test]
    fn round_trip(input in input(), rotation in any::<Index>()) {
        let sealed = Sealed::new(&input);
        prop_assert!(input.name.len() + sealed.value.len() <= DEFAULT_MAX_COOKIE_SIZE);
        prop_assert!(sealed.value.bytes().all(|b| URL_ALPHABET.contains(&b)));
        prop_assert_eq!(sealed.open(&sealed.value), Ok(input.payload.clone()));

        let n = input.secrets.len();
        let shift = rotation.index(n);
        let mut rotated = input.secrets.clone();
        rotated.rotate_left(shift);
        let position = (n - shift) % n;
        let opener = codec(keyring(&rotated), &input.name, input.algorithm, &sealed.clock);
        let opened = unseal(&opener, &sealed.clock, &sealed.value, sealed.binding.as_ref(), t1())
            .map_err(|e| TestCaseError::fail(format!("rotated keyring: {e:?}")))?;
        prop_assert_eq!(opened.value(), &input.payload);
        prop_assert_eq!(opened.key_id(), sealed.key_id);
        prop_assert_eq!(opened.algorithm(), input.algorithm);
        prop_assert_eq!(opened.sealed_with_old_secret(), position != 0);
        prop_assert_eq!(opened.needs_reseal(), position != 0);
        prop_assert_eq!(opened.envelope().created_at(), t0());
    }

    /// Raw payload bytes round-trip through `seal_bytes` (into an existing
    /// session) and `open_bytes`, and the serde path reads what the bytes
    /// path sealed.
    #[test]
    fn bytes_round_trip(input in input()) {
        let sealed = Sealed::new(&input);
        let bytes = postcard::to_allocvec(&input.payload).expect("serializes");
        let envelope = created_at_t0(&sealed.codec, &sealed.clock, &input.payload);
        let value = sealed
            .codec
            .seal_bytes(&bytes, &SealOptions::new().envelope(envelope))
            .expect("fits");
        sealed.clock.set(t1());
        let opened = sealed.codec.open_bytes(&value, &OpenOptions::new()).expect("opens");
        prop_assert_eq!(opened.value().as_slice(), bytes.as_slice());
        prop_assert_eq!(opened.envelope().id(), envelope.id());
        prop_assert_eq!(opened.envelope().created_at(), t0());
        let typed = sealed.codec.open::<Payload>(&value).expect("opens typed");
        prop_assert_eq!(typed.value(), &input.payload);
    }

    /// Through the http helper: a session written into `Set-Cookie` under a
    /// random name, sent back among other cookies, loads the same payload.
    #[test]
    fn http_round_trip(input in input(), others in prop::collection::vec(cookie_name(), 0..4)) {
        let sealed = Sealed::new(&input);
        let config = SessionConfig::new(sealed.codec.clone());
        let session = load(&config, &sealed.clock, &HeaderMap::new(), sealed.binding, t0());
        prop_assert!(session.insert(input.payload.clone()).is_none());
        let mut response = HeaderMap::new();
        prop_assert_eq!(session.write(&mut response), Ok(Written::Set));
        let cookie = the_set_cookie(&response);
        prop_assert_eq!(cookie.name(), input.name.as_str());

        let mut pairs: Vec<String> = others
            .iter()
            .filter(|other| **other != input.name)
            .map(|other| format!("{other}=x"))
            .collect();
        pairs.insert(pairs.len() / 2, format!("{}={}", cookie.name(), cookie.value()));
        let mut request = HeaderMap::new();
        request.insert(COOKIE, HeaderValue::from_str(&pairs.join("; ")).expect("ASCII"));
        let loaded = load(&config, &sealed.clock, &request, sealed.binding, t1());
        prop_assert_eq!(loaded.rejection(), None);
        prop_assert_eq!(loaded.get(), Some(input.payload.clone()));
        prop_assert_eq!(loaded.id(), session.id());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_MUTATION))]

    /// One bit of one character flipped (staying ASCII).
    #[test]
    fn flipped_bit_in_the_value_fails(input in input(), at in any::<Index>(), bit in 0u8..7) {
        let sealed = Sealed::new(&input);
        let i = at.index(sealed.value.len());
        let flipped = char::from(sealed.value.as_bytes()[i] ^ (1 << bit));
        let mutated = replace_char(&sealed.value, i, flipped);
        prop_assert_ne!(&mutated, &sealed.value);
        check_mutation(&input, &sealed, &mutated)?;
    }

    /// One bit of the decoded token flipped and re-encoded: the error names
    /// the part that was hit.
    #[test]
    fn flipped_bit_in_the_token_fails_where_it_lands(
        input in input(),
        at in any::<Index>(),
        bit in 0u8..8,
    ) {
        let sealed = Sealed::new(&input);
        let mut token = decode(&sealed.value);
        let i = at.index(token.len());
        token[i] ^= 1 << bit;
        let result = sealed.open(&encode(&token));
        let known = key_ids(&input.secrets, "")
            .iter()
            .any(|id| id[..] == token[2..6]);
        match (i, result) {
            (0, Err(Error::UnsupportedVersion(v))) => prop_assert_eq!(v, token[0]),
            // One bit never turns 0x01 into 0x02 or back.
            (1, Err(Error::UnknownAlgorithm(a))) => prop_assert_eq!(a, token[1]),
            (2..=5, Err(Error::UnknownKey(id))) if !known => {
                prop_assert_eq!(&id.to_bytes()[..], &token[2..6]);
            }
            (2..=5, Err(Error::AuthenticationFailed)) if known => {}
            (6.., Err(Error::AuthenticationFailed)) => {}
            (i, other) => {
                return Err(TestCaseError::fail(format!("bit flip at byte {i} gave {other:?}")));
            }
        }
    }

    /// One character inserted anywhere: from the base64url alphabet (the
    /// value still looks valid) or any visible ASCII.
    #[test]
    fn inserted_character_fails(
        input in input(),
        at in any::<Index>(),
        c in prop_oneof![
            prop::sample::select(URL_ALPHABET.to_vec()),
            0x20u8..0x7f,
        ],
    ) {
        let sealed = Sealed::new(&input);
        let mut mutated = sealed.value.clone();
        mutated.insert(at.index(sealed.value.len() + 1), char::from(c));
        check_mutation(&input, &sealed, &mutated)?;
    }

    /// One character deleted anywhere.
    #[test]
    fn deleted_character_fails(input in input(), at in any::<Index>()) {
        let sealed = Sealed::new(&input);
        let mut mutated = sealed.value.clone();
        mutated.remove(at.index(sealed.value.len()));
        check_mutation(&input, &sealed, &mutated)?;
    }

    /// Truncated to any shorter prefix, or extended by base64url characters.
    #[test]
    fn truncated_or_extended_value_fails(
        input in input(),
        at in any::<Index>(),
        tail in "[A-Za-z0-9_-]{1,8}",
    ) {
        let sealed = Sealed::new(&input);
        let prefix = &sealed.value[..at.index(sealed.value.len())];
        check_mutation(&input, &sealed, prefix)?;
        check_mutation(&input, &sealed, &format!("{}{tail}", sealed.value))?;
    }

    /// Two characters swapped (unchanged if they are equal).
    #[test]
    fn swapped_characters_fail(input in input(), a in any::<Index>(), b in any::<Index>()) {
        let sealed = Sealed::new(&input);
        let mut bytes = sealed.value.clone().into_bytes();
        let (i, j) = (a.index(bytes.len()), b.index(bytes.len()));
        bytes.swap(i, j);
        let mutated = String::from_utf8(bytes).expect("ASCII");
        check_mutation(&input, &sealed, &mutated)?;
    }

    /// The case of one letter changed; and of the whole value.
    #[test]
    fn case_change_fails(input in input(), at in any::<Index>()) {
        let sealed = Sealed::new(&input);
        let letters: Vec<usize> = sealed
            .value
            .bytes()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_alphabetic())
            .map(|(i, _)| i)
            .collect();
        prop_assert!(!letters.is_empty(), "a sealed value has 62+ characters");
        let i = letters[at.index(letters.len())];
        let c = char::from(sealed.value.as_bytes()[i]);
        let swapped = if c.is_ascii_uppercase() {
            c.to_ascii_lowercase()
        } else {
            c.to_ascii_uppercase()
        };
        let mutated = replace_char(&sealed.value, i, swapped);
        prop_assert_ne!(&mutated, &sealed.value);
        check_mutation(&input, &sealed, &mutated)?;
        check_mutation(&input, &sealed, &sealed.value.to_ascii_uppercase())?;
        check_mutation(&input, &sealed, &sealed.value.to_ascii_lowercase())?;
    }

    /// Re-encodings a lenient base64 decoder would read as the same token
    /// are refused as malformed (unless the variant changes nothing).
    #[test]
    fn base64_variant_fails(input in input(), variant in base64_variant()) {
        let sealed = Sealed::new(&input);
        let mutated = apply_base64_variant(&sealed.value, variant);
        check_mutation(&input, &sealed, &mutated)?;
        if mutated != sealed.value {
            prop_assert_eq!(sealed.open(&mutated), Err(Error::Malformed(Malformed::Encoding)));
            // The variant really is the same token to a lenient decoder, so
            // only strictness stops it.
            let lenient = mutated.trim_end_matches('=').replace('+', "-").replace('/', "_");
            let lenient: String = lenient.chars().filter(|c| !c.is_whitespace()).collect();
            let len = lenient.len();
            let token = decode(&sealed.value);
            if let Base64Variant::TrailingBits(_) = variant {
                prop_assert_eq!(&lenient[..len - 1], &sealed.value[..len - 1]);
            } else {
                prop_assert_eq!(decode(&lenient), token);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_SWAP))]

    /// A value sealed under one cookie name does not open under another:
    /// a random one, the same in another case, with a `__Host-` prefix or
    /// with a character appended.
    #[test]
    fn another_cookie_name_fails(
        input in input(),
        other in cookie_name(),
        variant in 0usize..4,
    ) {
        let sealed = Sealed::new(&input);
        let other = match variant {
            0 => other,
            1 => input.name.to_ascii_uppercase(),
            2 => format!("__Host-{}", input.name),
            _ => format!("{}x", input.name),
        };
        let opener = codec(keyring(&input.secrets), &other, input.algorithm, &sealed.clock);
        let result = open(&opener, &sealed.clock, &sealed.value, sealed.binding.as_ref());
        if other == input.name {
            prop_assert_eq!(result, Ok(input.payload.clone()));
        } else {
            prop_assert_eq!(result, Err(Error::AuthenticationFailed));
        }
    }

    /// The algorithm byte switched to the other algorithm: the AEAD check
    /// fails (the byte is associated data), not a decryption with the
    /// other cipher.
    #[test]
    fn swapped_algorithm_byte_fails(input in input()) {
        let sealed = Sealed::new(&input);
        let mut token = decode(&sealed.value);
        prop_assert_eq!(token[1], input.algorithm.wire_id());
        let other = Algorithm::ALL
            .into_iter()
            .find(|a| *a != input.algorithm)
            .expect("two algorithms");
        token[1] = other.wire_id();
        prop_assert_eq!(sealed.open(&encode(&token)), Err(Error::AuthenticationFailed));
        // A codec configured for the other algorithm opens the original.
        let opener = codec(keyring(&input.secrets), &input.name, other, &sealed.clock);
        let opened = unseal(&opener, &sealed.clock, &sealed.value, sealed.binding.as_ref(), t1());
        prop_assert_eq!(opened.map(|o| o.needs_reseal()), Ok(true));
    }

    /// Bound to one context, a value opens only with that context: not
    /// with another, not unbound; an unbound value does not open bound.
    #[test]
    fn binding_mismatch_fails(
        input in input(),
        a in prop::collection::vec(any::<u8>(), 0..=64),
        b in prop::collection::vec(any::<u8>(), 0..=64),
    ) {
        let clock = common::clock();
        let codec = codec(keyring(&input.secrets), &input.name, input.algorithm, &clock);
        let (ba, bb) = (Binding::new(&a), Binding::new(&b));
        let bound = seal(&codec, &clock, &input.payload, Some(&ba));
        prop_assert_eq!(open(&codec, &clock, &bound, Some(&ba)), Ok(input.payload.clone()));
        let with_b = open(&codec, &clock, &bound, Some(&bb));
        if a == b {
            prop_assert_eq!(with_b, Ok(input.payload.clone()));
        } else {
            prop_assert_eq!(with_b, Err(Error::AuthenticationFailed));
        }
        prop_assert_eq!(open(&codec, &clock, &bound, None), Err(Error::AuthenticationFailed));

        let unbound = seal(&codec, &clock, &input.payload, None);
        prop_assert_eq!(open(&codec, &clock, &unbound, None), Ok(input.payload.clone()));
        prop_assert_eq!(
            open(&codec, &clock, &unbound, Some(&ba)),
            Err(Error::AuthenticationFailed)
        );
        // An empty context is a binding, not the absence of one.
        prop_assert_eq!(
            open(&codec, &clock, &unbound, Some(&Binding::new([]))),
            Err(Error::AuthenticationFailed)
        );
    }
}

/// Secrets for an opening keyring that lacks the sealing secret `x`: fresh
/// random ones, and near misses of `x` (one bit flipped, one byte longer,
/// one byte shorter).
fn opener_secrets(x: &[u8], fresh: Vec<Vec<u8>>, near: usize, bit: usize) -> Vec<Vec<u8>> {
    let mut near_miss = x.to_vec();
    match near % 3 {
        0 => near_miss[bit % x.len()] ^= 1 << (bit % 8),
        1 => near_miss.push(0),
        // One byte shorter; a 32-byte secret cannot be, so it gets a zero
        // byte in front instead.
        _ if near_miss.len() > 32 => drop(near_miss.pop()),
        _ => near_miss.insert(0, 0),
    }
    let mut secrets = vec![near_miss];
    for secret in fresh {
        if secret != x && !secrets.contains(&secret) {
            secrets.push(secret);
        }
    }
    secrets
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_KEYRINGS))]

    /// Sealed under secret X, the value never opens with a keyring lacking
    /// X (other secrets, near misses of X): the key id is unknown, and a
    /// value relabelled with a key id that keyring holds fails the AEAD.
    /// Tokens of different keyrings never cross.
    #[test]
    fn a_keyring_lacking_the_sealing_secret_fails(
        input in input(),
        fresh in secrets(),
        near in 0usize..3,
        bit in any::<usize>(),
        pick in any::<Index>(),
    ) {
        let sealed = Sealed::new(&input);
        let x = &input.secrets[0];
        let others = opener_secrets(x, fresh, near, bit);
        prop_assert!(!others.contains(x));
        let clock = &sealed.clock;
        let opener = codec(keyring(&others), &input.name, input.algorithm, clock);
        let opener_ids = key_ids(&others, "");
        prop_assert!(!opener_ids.contains(&sealed.key_id.to_bytes()));
        prop_assert_eq!(
            open(&opener, clock, &sealed.value, sealed.binding.as_ref()),
            Err(Error::UnknownKey(sealed.key_id))
        );

        // Relabelled to a key the opener holds.
        let mut token = decode(&sealed.value);
        let target = opener_ids[pick.index(opener_ids.len())];
        token[2..6].copy_from_slice(&target);
        prop_assert_eq!(
            open(&opener, clock, &encode(&token), sealed.binding.as_ref()),
            Err(Error::AuthenticationFailed)
        );

        // And the other way round: the opener's own values do not open
        // under the sealing keyring without their secret.
        let theirs = seal(&opener, clock, &input.payload, sealed.binding.as_ref());
        let their_key_id = key_id_of(&opener, clock, &theirs, sealed.binding.as_ref());
        prop_assert_eq!(their_key_id.to_bytes(), opener_ids[0]);
        let sealer_holds_theirs = input.secrets.contains(&others[0]);
        let result = sealed.open(&theirs);
        if sealer_holds_theirs {
            prop_assert_eq!(result, Ok(input.payload.clone()));
        } else {
            prop_assert_eq!(result, Err(Error::UnknownKey(their_key_id)));
        }
    }
}

/// The token characters are the 77 RFC 6265 allows, and the name strategy
/// only produces names the codec accepts.
#[test]
fn the_name_alphabet_is_rfc_6265_tokens() {
    let chars = token_chars();
    assert_eq!(chars.len(), 77);
    let name: String = chars.iter().collect();
    let codec = Codec::builder(Keyring::new(["a property test secret, over 32 bytes"]).unwrap())
        .cookie_name(name.as_str())
        .build();
    assert!(codec.is_ok(), "{codec:?}");
    for separator in SEPARATORS {
        let bad = Codec::builder(Keyring::new(["a property test secret, over 32 bytes"]).unwrap())
            .cookie_name(format!("a{}b", char::from(*separator)))
            .build();
        assert!(bad.is_err(), "{}", char::from(*separator));
    }
}

// ---------------------------------------------------------------------------
// Application and schema labels
// ---------------------------------------------------------------------------

/// An application or schema label: 0 to 64 visible ASCII characters.
fn label() -> impl Strategy<Value = String> {
    "[!-~]{0,64}"
}

/// The builder of [`codec`], with an application and a schema label.
fn labelled_builder(input: &Input, app: &str, schema: &str, clock: &ManualClock) -> CodecBuilder {
    Codec::builder(keyring(&input.secrets))
        .cookie_name(input.name.as_str())
        .algorithm(input.algorithm)
        .app_label(app)
        .schema(schema)
        .clock(clock.clone())
}

/// [`labelled_builder`], built.
fn labelled(input: &Input, app: &str, schema: &str, clock: &ManualClock) -> Codec {
    labelled_builder(input, app, schema, clock)
        .build()
        .expect("valid labels")
}

/// The codecs of the label properties keep the default times, which the
/// schema property relies on: a 12-hour lifetime (also the maximum) and a
/// 30-minute idle timeout. The codec has no getters for them: its `Debug`
/// shows them, and a session it seals carries them.
#[test]
fn labelled_codecs_have_the_default_clock() {
    let input = Input {
        payload: Payload::Unit,
        name: "id".into(),
        secrets: vec![(0u8..32).collect()],
        algorithm: Algorithm::XAes256Gcm,
        context: None,
    };
    let clock = common::clock();
    let codec = labelled(&input, "app", "schema", &clock);
    assert_eq!(DEFAULT_LIFETIME, Duration::from_secs(12 * 60 * 60));
    assert_eq!(DEFAULT_IDLE_TIMEOUT, Duration::from_secs(30 * 60));
    let debug = format!("{codec:?}");
    assert!(
        debug.contains(
            "lifetime_secs: 43200, max_lifetime_secs: 43200, idle_timeout_secs: Some(1800),"
        ),
        "{debug}"
    );

    // The lifetime and idle timeout of a new session.
    let envelope = created_at_t0(&codec, &clock, &input.payload);
    assert_eq!(envelope.created_at(), t0());
    assert_eq!(envelope.absolute_deadline(), t0() + DEFAULT_LIFETIME);
    assert_eq!(envelope.idle_deadline(), Some(t0() + DEFAULT_IDLE_TIMEOUT));
    // The maximum lifetime: a longer lifetime of its own is capped at it.
    clock.set(t0());
    let value = codec
        .seal_with(
            &input.payload,
            &SealOptions::new().lifetime(2 * DEFAULT_LIFETIME),
        )
        .expect("seals");
    let opened = codec.open::<Payload>(&value).expect("opens");
    assert_eq!(
        opened.envelope().absolute_deadline(),
        t0() + DEFAULT_LIFETIME
    );
}

/// One bit flipped after the token's header (version, algorithm, key id):
/// in the nonce, the ciphertext or the tag.
fn tampered(value: &str, at: Index, bit: u8) -> String {
    let mut token = decode(value);
    let i = 6 + at.index(token.len() - 6);
    token[i] ^= 1 << bit;
    encode(&token)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_LABELS))]

    /// Under any application label and schema label, a value round-trips
    /// through the codec (serde and bytes paths) and through the http
    /// helper, and it is sealed under the key id the codec reports for the
    /// label.
    #[test]
    fn round_trip_under_any_labels(input in input(), app in label(), schema in label()) {
        let clock = common::clock();
        let codec = labelled(&input, &app, &schema, &clock);
        // The codec has no label getters; its `Debug` shows them.
        let debug = format!("{codec:?}");
        prop_assert!(
            debug.contains(&format!("app_label: {app:?}, schema: {schema:?}, migrations:")),
            "{}",
            debug
        );
        let binding = input.context.as_deref().map(Binding::new);
        let value = seal(&codec, &clock, &input.payload, binding.as_ref());
        prop_assert_eq!(open(&codec, &clock, &value, binding.as_ref()), Ok(input.payload.clone()));
        // Sealed under the key id the reference derives for the label, and
        // the codec reports it; the plaintext carries the schema id the
        // reference derives for the schema label.
        let token = decode(&value);
        let keys = reference::derive(&secret_text(&input.secrets[0]), &app);
        prop_assert_eq!(&token[2..6], &keys.id[..]);
        prop_assert_eq!(key_id_of(&codec, &clock, &value, binding.as_ref()).to_bytes(), keys.id);
        let plaintext = reference::open_token(&keys, &input.name, input.context.as_deref(), &token)
            .expect("the reference opens it");
        let (_, rest) = reference::read_varint(&plaintext).expect("created_at");
        let (_, rest) = reference::read_varint(rest).expect("lifetime");
        let (_, rest) = reference::read_varint(rest).expect("renewed");
        prop_assert_eq!(&rest[..4], &reference::schema_id(&schema)[..]);

        let bytes = postcard::to_allocvec(&input.payload).expect("serializes");
        let envelope = created_at_t0(&codec, &clock, &input.payload);
        let sealed = codec
            .seal_bytes(&bytes, &SealOptions::new().envelope(envelope))
            .expect("fits");
        clock.set(t1());
        let opened = codec.open_bytes(&sealed, &OpenOptions::new()).expect("opens");
        prop_assert_eq!(opened.value().as_slice(), bytes.as_slice());

        let config = SessionConfig::new(codec);
        let session = load(&config, &clock, &HeaderMap::new(), binding, t0());
        session.insert(input.payload.clone());
        let mut response = HeaderMap::new();
        prop_assert_eq!(session.write(&mut response), Ok(Written::Set));
        let cookie = the_set_cookie(&response);
        let mut request = HeaderMap::new();
        request.insert(
            COOKIE,
            HeaderValue::from_str(&format!("{}={}", cookie.name(), cookie.value())).expect("ASCII"),
        );
        let loaded = load(&config, &clock, &request, binding, t1());
        prop_assert_eq!(loaded.rejection(), None);
        prop_assert_eq!(loaded.get(), Some(input.payload.clone()));
    }

    /// A token sealed under one application label never opens under
    /// another (same secrets, name and schema): the other label derives
    /// other key ids, so its key is unknown; relabelled with the opener's
    /// key id, it fails the AEAD (the keys differ too).
    #[test]
    fn another_app_label_fails_with_unknown_key(
        input in input(),
        a in label(),
        b in label(),
        pick in any::<Index>(),
    ) {
        let clock = common::clock();
        let sealer = labelled(&input, &a, "", &clock);
        let opener = labelled(&input, &b, "", &clock);
        let binding = input.context.as_deref().map(Binding::new);
        let value = seal(&sealer, &clock, &input.payload, binding.as_ref());
        let result = open(&opener, &clock, &value, binding.as_ref());
        if a == b {
            prop_assert_eq!(result, Ok(input.payload.clone()));
        } else {
            let sealer_key_id = key_id_of(&sealer, &clock, &value, binding.as_ref());
            prop_assert_eq!(result, Err(Error::UnknownKey(sealer_key_id)));
            let opener_ids = key_ids(&input.secrets, &b);
            prop_assert!(key_ids(&input.secrets, &a).iter().all(|id| !opener_ids.contains(id)));
            let mut token = decode(&value);
            token[2..6].copy_from_slice(&opener_ids[pick.index(opener_ids.len())]);
            prop_assert_eq!(
                open(&opener, &clock, &encode(&token), binding.as_ref()),
                Err(Error::AuthenticationFailed)
            );
        }
    }

    /// A token sealed under one schema label does not open under another
    /// (same secrets, name and application label): `SchemaMismatch`, for
    /// the serde and the bytes paths and through the http helper (which
    /// removes the cookie). The schema is checked only after the AEAD and
    /// the clock: the same token with one bit changed fails authentication,
    /// and once expired it is expired.
    #[test]
    fn another_schema_fails_only_after_authentication(
        input in input(),
        s in label(),
        t in label(),
        at in any::<Index>(),
        bit in 0u8..8,
    ) {
        let clock = common::clock();
        let sealer = labelled(&input, "", &s, &clock);
        let opener = labelled(&input, "", &t, &clock);
        let binding = input.context.as_deref().map(Binding::new);
        let value = seal(&sealer, &clock, &input.payload, binding.as_ref());
        let result = open(&opener, &clock, &value, binding.as_ref());
        if s == t {
            prop_assert_eq!(result, Ok(input.payload.clone()));
            return Ok(());
        }
        prop_assert_eq!(result, Err(Error::SchemaMismatch));
        prop_assert_eq!(Error::SchemaMismatch.code(), "schema-mismatch");
        prop_assert!(!Error::SchemaMismatch.is_possible_tampering());
        prop_assert_eq!(
            open(&opener, &clock, &tampered(&value, at, bit), binding.as_ref()),
            Err(Error::AuthenticationFailed)
        );
        // The default idle timeout and lifetime.
        let idle = t0() + DEFAULT_IDLE_TIMEOUT;
        let absolute = t0() + DEFAULT_LIFETIME;
        let at_time = |now: SystemTime| {
            unseal(&opener, &clock, &value, binding.as_ref(), now).map(Unsealed::into_value)
        };
        prop_assert_eq!(at_time(idle - Duration::from_secs(1)), Err(Error::SchemaMismatch));
        prop_assert_eq!(at_time(idle), Err(Error::Expired { deadline: Deadline::Idle }));
        prop_assert_eq!(at_time(absolute), Err(Error::Expired { deadline: Deadline::Absolute }));

        if binding.is_none() {
            clock.set(t1());
            prop_assert_eq!(
                opener.open_bytes(&value, &OpenOptions::new()).map(drop),
                Err(Error::SchemaMismatch)
            );
            let config = SessionConfig::new(opener);
            let mut request = HeaderMap::new();
            request.insert(
                COOKIE,
                HeaderValue::from_str(&format!("{}={value}", input.name)).expect("ASCII"),
            );
            let session = load(&config, &clock, &request, None, t1());
            prop_assert!(session.is_empty());
            prop_assert_eq!(session.rejection(), Some(Error::SchemaMismatch));
            let mut response = HeaderMap::new();
            prop_assert_eq!(session.write(&mut response), Ok(Written::Removed));
        }
    }
}

// ---------------------------------------------------------------------------
// The clock: the opening configuration's idle timeout and maximum lifetime
// ---------------------------------------------------------------------------

const DAY: u64 = 24 * 60 * 60;

/// Unix second `secs` as a `SystemTime`.
fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// One secret for the clock properties (their subject is not the keyring).
fn clock_keyring() -> Keyring {
    Keyring::from_bytes([(0u8..48)
        .map(|b| b.wrapping_mul(151) ^ 0x3c)
        .collect::<Vec<u8>>()])
    .expect("a varied secret")
}

/// A codec over [`clock_keyring`] with these times, in seconds, reading
/// `clock`.
fn clock_codec(lifetime: u64, max_lifetime: u64, idle: Option<u64>, clock: &ManualClock) -> Codec {
    Codec::builder(clock_keyring())
        .cookie_name("id")
        .lifetime(Duration::from_secs(lifetime))
        .max_lifetime(Duration::from_secs(max_lifetime))
        .idle_timeout(idle.map(Duration::from_secs))
        .clock(clock.clone())
        .build()
        .expect("valid clock settings")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_CLOCK))]

    /// The idle timeout that governs a cookie is the one configured where
    /// it is opened, counted from its last seal, whatever idle timeout (or
    /// none) it was sealed under: with idle timeout `I`, a cookie last
    /// sealed at `renewed_at` opens at `renewed_at + I - 1` and is expired
    /// (idle) at `renewed_at + I`, unless the absolute deadline comes first
    /// (then it is that one); with none, it opens until its absolute
    /// deadline.
    #[test]
    fn the_opening_idle_timeout_governs_every_cookie(
        payload in payload(),
        created in 1_000_000_000u64..=4_000_000_000,
        since_creation in 0u64..=30 * DAY,
        sealed_idle in prop::option::of(0u64..=60 * DAY),
        more_life in 0u64..=400 * DAY,
        idle in prop::option::of(1u64..=60 * DAY),
    ) {
        // The sealer's settings leave the cookie valid at its last seal.
        let lifetime = since_creation + 1 + more_life;
        let sealed_idle = sealed_idle.map(|extra| since_creation + 1 + extra);
        let clock = common::clock();
        let sealer = clock_codec(lifetime, lifetime, sealed_idle, &clock);
        // A session created at `created`, sealed again at `renewed`.
        clock.set(at(created));
        let first = sealer.seal(&payload).expect("seals");
        let envelope = *sealer.open::<Payload>(&first).expect("opens").envelope();
        prop_assert_eq!(envelope.created_at(), at(created));
        let renewed = created + since_creation;
        clock.set(at(renewed));
        let value = sealer
            .seal_with(&payload, &SealOptions::new().envelope(envelope))
            .expect("seals");

        let opener = clock_codec(lifetime, lifetime, idle, &clock);
        let absolute = created + lifetime;
        let (deadline, which) = match idle {
            Some(idle) if renewed + idle < absolute => (renewed + idle, Deadline::Idle),
            _ => (absolute, Deadline::Absolute),
        };
        clock.set(at(deadline - 1));
        let opened = opener
            .open::<Payload>(&value)
            .map_err(|e| TestCaseError::fail(format!("at the deadline - 1: {e:?}")))?;
        prop_assert_eq!(opened.value(), &payload);
        prop_assert_eq!(opened.envelope().id(), envelope.id());
        prop_assert_eq!(opened.envelope().renewed_at(), at(renewed));
        prop_assert_eq!(opened.envelope().created_at(), at(created));
        prop_assert_eq!(opened.envelope().absolute_deadline(), at(absolute));
        prop_assert_eq!(
            opened.envelope().idle_deadline(),
            idle.map(|idle| at((renewed + idle).min(absolute)))
        );
        prop_assert_eq!(opened.envelope().expires_at(), at(deadline));
        clock.set(at(deadline));
        prop_assert_eq!(
            opener.open::<Payload>(&value).map(drop),
            Err(Error::Expired { deadline: which })
        );
        let code = if which == Deadline::Idle { "expired-idle" } else { "expired-absolute" };
        prop_assert_eq!(Error::Expired { deadline: which }.code(), code);
    }

    /// The opening configuration's maximum lifetime `M` caps every cookie:
    /// one sealed with lifetime `L` (the sealer's own, or a per-session one
    /// capped at the sealer's maximum) is expired (absolute) at
    /// `created_at + min(L, M)`, and opens one second before. `set_lifetime`
    /// is capped at the codec's maximum lifetime the same way.
    #[test]
    fn the_opening_max_lifetime_caps_every_cookie(
        payload in payload(),
        created in 1_000_000_000u64..=4_000_000_000,
        lifetime in 1u64..=400 * DAY,
        sealer_extra in 0u64..=400 * DAY,
        per_session in prop::option::of(1u64..=800 * DAY),
        max_lifetime in 1u64..=800 * DAY,
    ) {
        let sealer_max = lifetime + sealer_extra;
        let clock = common::clock();
        let sealer = clock_codec(lifetime, sealer_max, None, &clock);
        // A new session created at `created`, with its own lifetime if any.
        let options = match per_session {
            Some(per_session) => SealOptions::new().lifetime(Duration::from_secs(per_session)),
            None => SealOptions::new(),
        };
        clock.set(at(created));
        let value = sealer.seal_with(&payload, &options).expect("seals");
        let sealed = per_session.map_or(lifetime, |p| p.min(sealer_max));
        let own = sealer.open::<Payload>(&value).expect("opens");
        prop_assert_eq!(own.envelope().created_at(), at(created));
        prop_assert_eq!(own.envelope().absolute_deadline(), at(created + sealed));

        let opener = clock_codec(1, max_lifetime, None, &clock);
        // No getter for the maximum lifetime: the `Debug` shows it.
        let debug = format!("{opener:?}");
        prop_assert!(
            debug.contains(&format!(" max_lifetime_secs: {max_lifetime},")),
            "{}",
            debug
        );
        let deadline = created + sealed.min(max_lifetime);
        clock.set(at(deadline - 1));
        let opened = opener
            .open::<Payload>(&value)
            .map_err(|e| TestCaseError::fail(format!("at the deadline - 1: {e:?}")))?;
        prop_assert_eq!(opened.value(), &payload);
        prop_assert_eq!(opened.envelope().absolute_deadline(), at(deadline));
        prop_assert_eq!(opened.envelope().idle_deadline(), None);
        clock.set(at(deadline));
        prop_assert_eq!(
            opener.open::<Payload>(&value).map(drop),
            Err(Error::Expired { deadline: Deadline::Absolute })
        );

        // Through the http helper: `set_lifetime` is capped at the sealer's
        // maximum lifetime, and the cookie written says so.
        if let Some(per_session) = per_session {
            let config = SessionConfig::new(sealer);
            let session = load(&config, &clock, &HeaderMap::new(), None, at(created));
            session.insert(payload.clone());
            session.set_lifetime(Duration::from_secs(per_session));
            let mut response = HeaderMap::new();
            clock.set(at(created));
            prop_assert_eq!(session.write(&mut response), Ok(Written::Set));
            let envelope = session.envelope().expect("sealed");
            prop_assert_eq!(envelope.created_at(), at(created));
            prop_assert_eq!(envelope.absolute_deadline(), at(created + sealed));
        }
    }
}
