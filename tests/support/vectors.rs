//! The published test vectors of wire format v1, `tests/vectors/v1.json`:
//! the serde structs of the file, [`load`] to read it, and [`generate`],
//! the deterministic generator that computes every vector from fixed inputs
//! with the reference implementation alone. The committed file is exactly
//! `to_json(&generate())` (checked by `tests/vectors_reference.rs`, which
//! also rewrites it when `SEALED_SESSION_WRITE_VECTORS=1`).
//!
//! Nonces and session ids are not random but fixed, and never reused: the
//! k-th token the generator seals takes the first 24 bytes of
//! SHA-256("sealed-session vector nonce " | k) as nonce and the first 16 of
//! SHA-256("sealed-session vector session id " | k) as session id (k in
//! decimal).
//!
//! Included with `#[path]`, next to `reference.rs` included as the sibling
//! module `reference`:
//!
//! ```ignore
//! #[path = "support/reference.rs"]
//! mod reference;
//! #[path = "support/vectors.rs"]
//! mod vectors;
//! ```
#![allow(dead_code, reason = "each includer uses a different part of it")]

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::reference::{self, Opener, Session, XAES_256_GCM, XCHACHA20_POLY1305};

/// Where the file is, for writing it.
pub const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/v1.json");

/// The committed file, as compiled in.
pub fn load() -> Vectors {
    serde_json::from_str(include_str!("../vectors/v1.json")).expect("v1.json parses")
}

/// The text of the file for `vectors`: pretty-printed JSON and a newline.
pub fn to_json(vectors: &Vectors) -> String {
    let mut text = serde_json::to_string_pretty(vectors).expect("serializes");
    text.push('\n');
    text
}

/// Every error code of a cookie that cannot be opened, in the order of the
/// checks.
pub const OPEN_ERROR_CODES: [&str; 13] = [
    "too-large",
    "malformed",
    "unsupported-version",
    "unknown-algorithm",
    "disabled-algorithm",
    "unknown-key",
    "authentication-failed",
    "expired-absolute",
    "expired-idle",
    "not-yet-valid",
    "revoked",
    "schema-mismatch",
    "deserialize",
];

/// The JSON file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vectors {
    pub comment: String,
    pub valid: Vec<Valid>,
    pub invalid: Vec<Invalid>,
    pub chunked: Vec<Chunked>,
    pub chunked_invalid: Vec<ChunkedInvalid>,
}

/// A value that opens, with every field it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Valid {
    pub description: String,
    /// Newest first.
    pub secrets: Vec<String>,
    /// Absent = the empty (default) label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_label: Option<String>,
    /// Absent = the empty (default) label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub cookie_name: String,
    /// Hex of the context bytes the value is bound to; absent = unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub algorithm: String,
    pub nonce: String,
    pub session_id: String,
    pub created_at: u64,
    pub absolute_deadline: u64,
    pub renewed_at: u64,
    pub payload: String,
    pub now: u64,
    /// The opener's idle timeout in seconds; absent = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    /// The opener's max lifetime in seconds; absent = no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<u64>,
    /// The opener's cut-off; absent = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_created_before: Option<u64>,
    pub value: String,
}

/// A value that fails to open under the listed settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invalid {
    pub description: String,
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub cookie_name: String,
    /// Hex of the context bytes the value is opened with; absent = opened
    /// unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub now: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_created_before: Option<u64>,
    /// The names of the accepted algorithms; absent = both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithms: Option<Vec<String>>,
    pub value: String,
    pub error: String,
}

/// One chunk cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkCookie {
    pub name: String,
    pub value: String,
}

/// A value too long for one cookie, as the chunk cookies a sealer writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chunked {
    pub description: String,
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub cookie_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub algorithm: String,
    pub nonce: String,
    pub session_id: String,
    pub created_at: u64,
    pub absolute_deadline: u64,
    pub renewed_at: u64,
    pub payload: String,
    pub now: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_created_before: Option<u64>,
    /// The maximum cookie size (name plus value) the value was split for.
    pub max_cookie_size: usize,
    /// The chunk cookies, in index order.
    pub chunks: Vec<ChunkCookie>,
    /// The joined text: the chunk values in index order.
    pub value: String,
}

/// Chunk cookies that must not open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkedInvalid {
    pub description: String,
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub cookie_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub max_cookie_size: usize,
    pub max_chunks: usize,
    pub header_budget: usize,
    pub now: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    /// The chunk cookies in request order.
    pub chunks: Vec<ChunkCookie>,
    pub error: String,
}

/// The context bytes of a vector's `context` field, if it has one.
pub fn context_bytes(context: Option<&String>) -> Option<Vec<u8>> {
    context.map(|text| hex::decode(text).expect("hex context"))
}

/// The contexts a vector must not open with, each with what it is: for a
/// bound vector no context and its context one byte longer, shorter or
/// with its last byte changed; for an unbound one any context, the empty
/// one included.
pub fn wrong_contexts(context: Option<&[u8]>) -> Vec<(&'static str, Option<Vec<u8>>)> {
    match context {
        Some(context) => {
            let mut wrong = vec![
                ("unbound", None),
                ("longer", Some([context, b"\x00"].concat())),
            ];
            if let Some((last, shorter)) = context.split_last() {
                let mut changed = context.to_vec();
                changed.pop();
                changed.push(last ^ 1);
                wrong.push(("shorter", Some(shorter.to_vec())));
                wrong.push(("changed", Some(changed)));
            }
            wrong
        }
        None => vec![
            ("empty", Some(Vec::new())),
            ("one zero byte", Some(vec![0])),
            ("an address", Some(b"203.0.113.7".to_vec())),
        ],
    }
}

/// A label field: absent = the empty label.
fn label(field: Option<&String>) -> String {
    field.cloned().unwrap_or_default()
}

pub fn hex_array<const N: usize>(text: &str) -> [u8; N] {
    hex::decode(text)
        .expect("hex")
        .try_into()
        .unwrap_or_else(|v: Vec<u8>| panic!("expected {N} bytes, got {}", v.len()))
}

/// (name, value) of each chunk, in the listed order.
pub fn pairs(chunks: &[ChunkCookie]) -> Vec<(String, String)> {
    chunks
        .iter()
        .map(|c| (c.name.clone(), c.value.clone()))
        .collect()
}

impl Valid {
    /// The settings the vector opens with.
    pub fn opener(&self) -> Opener {
        Opener {
            app_label: label(self.app_label.as_ref()),
            schema: label(self.schema.as_ref()),
            context: context_bytes(self.context.as_ref()),
            idle_timeout: self.idle_timeout,
            max_lifetime: self.max_lifetime,
            reject_created_before: self.reject_created_before,
            ..Opener::new(&self.secrets, &self.cookie_name, self.now)
        }
    }

    /// The session the vector describes, and the position of the secret it
    /// was sealed under (found by the key id in its value).
    pub fn expected(&self) -> (Session, usize) {
        let token = reference::decode(&self.value).expect("valid vectors decode");
        let key_id: [u8; 4] = token[2..6].try_into().expect("4 bytes");
        let app_label = label(self.app_label.as_ref());
        let index = self
            .secrets
            .iter()
            .position(|s| reference::derive(s, &app_label).id == key_id)
            .unwrap_or_else(|| panic!("{}: no secret has the key id", self.description));
        let session = Session {
            algorithm: reference::algorithm_id(&self.algorithm),
            key_id,
            nonce: hex_array(&self.nonce),
            created_at: self.created_at,
            absolute_deadline: self.absolute_deadline,
            renewed_at: self.renewed_at,
            schema_id: reference::schema_id(&label(self.schema.as_ref())),
            session_id: hex_array(&self.session_id),
            payload: hex::decode(&self.payload).expect("hex payload"),
        };
        (session, index)
    }
}

impl Invalid {
    /// The settings the vector is opened with.
    pub fn opener(&self) -> Opener {
        let algorithms = self.algorithms.as_ref().map_or_else(
            || reference::ALGORITHMS.to_vec(),
            |names| names.iter().map(|n| reference::algorithm_id(n)).collect(),
        );
        Opener {
            app_label: label(self.app_label.as_ref()),
            schema: label(self.schema.as_ref()),
            context: context_bytes(self.context.as_ref()),
            idle_timeout: self.idle_timeout,
            max_lifetime: self.max_lifetime,
            reject_created_before: self.reject_created_before,
            algorithms,
            ..Opener::new(&self.secrets, &self.cookie_name, self.now)
        }
    }
}

impl Chunked {
    /// The fields a single-cookie vector of the same token has.
    pub fn as_valid(&self) -> Valid {
        Valid {
            description: self.description.clone(),
            secrets: self.secrets.clone(),
            app_label: self.app_label.clone(),
            schema: self.schema.clone(),
            cookie_name: self.cookie_name.clone(),
            context: self.context.clone(),
            algorithm: self.algorithm.clone(),
            nonce: self.nonce.clone(),
            session_id: self.session_id.clone(),
            created_at: self.created_at,
            absolute_deadline: self.absolute_deadline,
            renewed_at: self.renewed_at,
            payload: self.payload.clone(),
            now: self.now,
            idle_timeout: self.idle_timeout,
            max_lifetime: self.max_lifetime,
            reject_created_before: self.reject_created_before,
            value: self.value.clone(),
        }
    }

    /// (name, value) of each chunk, in index order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        pairs(&self.chunks)
    }

    /// The bytes all chunk cookies take together, names plus values.
    pub fn total(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.name.len() + c.value.len())
            .sum()
    }
}

impl ChunkedInvalid {
    /// The settings the joined text is opened with.
    pub fn opener(&self) -> Opener {
        Opener {
            app_label: label(self.app_label.as_ref()),
            schema: label(self.schema.as_ref()),
            context: context_bytes(self.context.as_ref()),
            idle_timeout: self.idle_timeout,
            max_cookie_size: self.max_cookie_size,
            ..Opener::new(&self.secrets, &self.cookie_name, self.now)
        }
    }

    pub fn pairs(&self) -> Vec<(String, String)> {
        pairs(&self.chunks)
    }
}

/// The realistic payload of one valid vector, as an application would
/// declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub user_id: u64,
    pub name: String,
    pub roles: Vec<String>,
}

pub fn account() -> Account {
    Account {
        user_id: 48_151_623,
        name: "Ada Lovelace".into(),
        roles: vec!["admin".into(), "editor".into()],
    }
}

// ---------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------

pub const SECRET_A: &str = "vector secret A: at least 32 bytes of UTF-8 text";
pub const SECRET_B: &str = "vector secret B: the previous secret, kept to open";
pub const SECRET_C: &str = "vector secret C: ünïcødé text is keyed as its UTF-8 bytes";
/// In no keyring of the vectors.
pub const SECRET_D: &str = "vector secret D: in no keyring of these vectors";
/// The 32 bytes 00 01 ... 1f.
pub const SECRET_BASE64: &str = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The same bytes, without the padding.
pub const SECRET_BASE64_NO_PAD: &str = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;
const WEEK: u64 = 7 * DAY;
const IPV4: &[u8] = b"203.0.113.7";
const IPV4_OTHER: &[u8] = b"203.0.113.8";
/// 2001:db8::7.
const IPV6: &[u8] = &[
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07,
];

const COMMENT: &str = "Test vectors for sealed-session wire format v1 (the README section \"Wire format v1\"). \
The vectors in `valid` and `invalid` assume a maximum cookie size of 4096 bytes (cookie name plus value); all vectors assume a clock-skew leeway of 60 seconds. \
Times are Unix seconds; `now` is the time at which a value is opened. \
Optional fields, when absent: `app_label` and `schema` are the empty (default) label; `context` absent means unbound; `idle_timeout` absent means no idle timeout; `max_lifetime` absent means no cap on the lifetime; `reject_created_before` absent means no cut-off; `algorithms` absent means both algorithms are accepted. \
Secrets are listed newest first: the first one is the current secret, which seals new cookies, and the others only open; a value was sealed under the secret whose key id (derived with the vector's app label) is in bytes 2..6 of its token (one valid vector was sealed under an older, second secret). \
A secret written `base64:...` stands for its standard-base64-decoded bytes (the padding is optional), any other for its UTF-8 bytes. \
Reproducing a valid value: derive the keys of the sealing secret with HKDF-SHA256, salt \"sealed-session v1\", info \"sealed-session v1 \" | x | 0x00 | app label for x = \"key id\" (4 bytes), \"key xaes256gcm\" and \"key xchacha20poly1305\" (32 bytes each); \
build the plaintext varint(created_at) | varint(absolute_deadline - created_at) | varint(renewed_at - created_at) | schema id | session_id | payload, the varints minimal unsigned LEB128 and the schema id the first 4 bytes of SHA-256(\"sealed-session v1 schema\" | 0x00 | schema label); \
encrypt it with `algorithm` under the key for that algorithm and `nonce`, with associated data 0x01 | algorithm byte | key id | cookie_name, followed, for a vector with a `context`, by 0x00 | SHA-256(context); \
base64url-encode without padding 0x01 | algorithm byte | key id | nonce | ciphertext | tag. \
The result is `value`, and opening `value` at `now` with `secrets`, `cookie_name` and the vector's other settings gives back those fields. \
`absolute_deadline` is the one sealed: an opener with a `max_lifetime` expires a session at created_at + min(absolute_deadline - created_at, max_lifetime); an opener with an `idle_timeout` expires it at renewed_at + idle_timeout; renewed_at more than 60 seconds after `now` is not yet valid. \
Payloads are postcard encodings of the values the descriptions name. \
Invalid values must fail to open at `now`, with their settings, with `error`. They are opened expecting the unit type, whose postcard encoding is empty, so an authentic token that passes every other check but has a non-empty payload fails with deserialize. \
`context`, when present, is the hex of the context bytes a session is bound to (the client IP address, a device id; any bytes, possibly none): a valid value with `context` was sealed bound to it and opens only with exactly those bytes, and an invalid value with `context` is opened with it; a vector without `context` is unbound, which differs from bound to the empty context. \
Chunked cookies: each vector in `chunked` has the fields of a valid vector, sealed exactly the same way, plus `max_cookie_size`, which its value does not fit in (cookie_name + value is longer), and `chunks`, the chunk cookies a sealer writes, in index order, as {name, value}; `value` is the joined text, the chunk values concatenated in index order. \
Chunk k is named cookie_name + \".\" + k (decimal, no leading zeros) and holds the next max_cookie_size - len(name) characters of the value, the last chunk the rest; the associated data names the plain cookie_name. \
Each vector in `chunked_invalid` lists chunk cookies in the order a request carries them, read with `max_cookie_size`, `max_chunks` and `header_budget` (the most all chunk cookies may take together, names plus values), which must fail with `error`. \
A chunk name is cookie_name + \".\" + a decimal index without sign or leading zeros that is below max_chunks; any other name (session.01, or session.3 with a max_chunks of 3) is another cookie and is ignored. \
The chunks fail with malformed unless their indexes are exactly 0 .. n-1, each once and none with an empty value; with too-large when a chunk's name + value exceeds max_cookie_size or all of them together exceed header_budget; otherwise with the error of opening the joined text at `now` as a single value, without the single-cookie size check. \
The reference implementation that computes these values is tests/support/reference.rs of the sealed-session crate, and tests/support/vectors.rs generates this file.";

/// The postcard encoding of a value.
fn postcard<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("serializes")
}

/// What a valid vector is sealed from.
struct Spec {
    description: String,
    secrets: Vec<&'static str>,
    /// The position of the sealing secret in `secrets`.
    sealer: usize,
    app_label: &'static str,
    schema: &'static str,
    cookie_name: &'static str,
    context: Option<&'static [u8]>,
    algorithm: u8,
    created_at: u64,
    lifetime: u64,
    renewed: u64,
    payload: Vec<u8>,
    now: u64,
    idle_timeout: Option<u64>,
    max_lifetime: Option<u64>,
    reject_created_before: Option<u64>,
}

impl Spec {
    /// XAES-256-GCM under secret A, cookie "session", default labels,
    /// unbound, a 7-day lifetime, never renewed, default opener settings.
    fn new(description: &str, payload: Vec<u8>, created_at: u64, now: u64) -> Self {
        Self {
            description: description.to_string(),
            secrets: vec![SECRET_A],
            sealer: 0,
            app_label: "",
            schema: "",
            cookie_name: "session",
            context: None,
            algorithm: XAES_256_GCM,
            created_at,
            lifetime: WEEK,
            renewed: 0,
            payload,
            now,
            idle_timeout: None,
            max_lifetime: None,
            reject_created_before: None,
        }
    }
}

/// A label as an optional field.
fn label_field(label: &str) -> Option<String> {
    (!label.is_empty()).then(|| label.to_string())
}

/// Hands out nonces and session ids, each once.
struct Generator {
    tokens: u32,
}

impl Generator {
    fn fresh(&mut self) -> ([u8; 24], [u8; 16]) {
        let k = self.tokens;
        self.tokens += 1;
        let nonce = Sha256::digest(format!("sealed-session vector nonce {k}"));
        let id = Sha256::digest(format!("sealed-session vector session id {k}"));
        (
            nonce[..24].try_into().expect("24 bytes"),
            id[..16].try_into().expect("16 bytes"),
        )
    }

    fn valid(&mut self, spec: Spec) -> Valid {
        let (nonce, session_id) = self.fresh();
        let keys = reference::derive(spec.secrets[spec.sealer], spec.app_label);
        let session = Session {
            algorithm: spec.algorithm,
            key_id: keys.id,
            nonce,
            created_at: spec.created_at,
            absolute_deadline: spec.created_at + spec.lifetime,
            renewed_at: spec.created_at + spec.renewed,
            schema_id: reference::schema_id(spec.schema),
            session_id,
            payload: spec.payload,
        };
        let value = reference::seal(&keys, spec.cookie_name, spec.context, &session);
        Valid {
            description: spec.description,
            secrets: spec.secrets.iter().map(ToString::to_string).collect(),
            app_label: label_field(spec.app_label),
            schema: label_field(spec.schema),
            cookie_name: spec.cookie_name.to_string(),
            context: spec.context.map(hex::encode),
            algorithm: reference::algorithm_name(spec.algorithm).to_string(),
            nonce: hex::encode(session.nonce),
            session_id: hex::encode(session.session_id),
            created_at: session.created_at,
            absolute_deadline: session.absolute_deadline,
            renewed_at: session.renewed_at,
            payload: hex::encode(&session.payload),
            now: spec.now,
            idle_timeout: spec.idle_timeout,
            max_lifetime: spec.max_lifetime,
            reject_created_before: spec.reject_created_before,
            value,
        }
    }

    /// A token of any plaintext, unchecked, under `secret` with the default
    /// app label, cookie "session", unbound.
    fn token(&mut self, secret: &str, algorithm: u8, plaintext: &[u8]) -> Vec<u8> {
        let (nonce, _) = self.fresh();
        let keys = reference::derive(secret, "");
        reference::seal_token(&keys, "session", None, algorithm, &nonce, plaintext)
    }

    /// The plaintext of a fresh session id with the default schema and an
    /// empty payload.
    fn plaintext(&mut self, created_at: u64, lifetime: u64, renewed: u64) -> Vec<u8> {
        let (_, session_id) = self.fresh();
        reference::plaintext(
            created_at,
            lifetime,
            renewed,
            &reference::schema_id(""),
            &session_id,
            &[],
        )
    }
}

/// An invalid vector under secret A, cookie "session", default settings.
fn invalid_at(description: &str, now: u64, value: String, error: &str) -> Invalid {
    Invalid {
        description: description.to_string(),
        secrets: vec![SECRET_A.to_string()],
        app_label: None,
        schema: None,
        cookie_name: "session".to_string(),
        context: None,
        now,
        idle_timeout: None,
        max_lifetime: None,
        reject_created_before: None,
        algorithms: None,
        value,
        error: error.to_string(),
    }
}

/// An invalid vector of a valid vector's value, with its settings.
fn from_valid(v: &Valid, description: &str, error: &str) -> Invalid {
    Invalid {
        description: description.to_string(),
        secrets: v.secrets.clone(),
        app_label: v.app_label.clone(),
        schema: v.schema.clone(),
        cookie_name: v.cookie_name.clone(),
        context: v.context.clone(),
        now: v.now,
        idle_timeout: v.idle_timeout,
        max_lifetime: v.max_lifetime,
        reject_created_before: v.reject_created_before,
        algorithms: None,
        value: v.value.clone(),
        error: error.to_string(),
    }
}

/// A token's value with its bytes changed by `change`.
fn mutate(value: &str, change: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut token = reference::decode(value).expect("a valid value");
    change(&mut token);
    reference::encode(&token)
}

/// The postcard encoding of a `len`-character ASCII string (128 <= len <
/// 16384, so the length prefix takes 2 bytes) starting with `label`.
fn long_string(label: &str, len: usize) -> Vec<u8> {
    assert!((128..16_384).contains(&len));
    let text: String = label
        .chars()
        .chain("0123456789abcdefghijklmnopqrstuvwxyz ".chars().cycle())
        .take(len)
        .collect();
    postcard(text.as_str())
}

fn chunks_of(cookies: &[(String, String)]) -> Vec<ChunkCookie> {
    cookies
        .iter()
        .map(|(name, value)| ChunkCookie {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

fn chunked(g: &mut Generator, spec: Spec, max_cookie_size: usize, value_len: usize) -> Chunked {
    let v = g.valid(spec);
    assert_eq!(v.value.len(), value_len, "{}", v.description);
    let chunks = chunks_of(&reference::split(&v.cookie_name, &v.value, max_cookie_size));
    Chunked {
        description: v.description,
        secrets: v.secrets,
        app_label: v.app_label,
        schema: v.schema,
        cookie_name: v.cookie_name,
        context: v.context,
        algorithm: v.algorithm,
        nonce: v.nonce,
        session_id: v.session_id,
        created_at: v.created_at,
        absolute_deadline: v.absolute_deadline,
        renewed_at: v.renewed_at,
        payload: v.payload,
        now: v.now,
        idle_timeout: v.idle_timeout,
        max_lifetime: v.max_lifetime,
        reject_created_before: v.reject_created_before,
        max_cookie_size,
        chunks,
        value: v.value,
    }
}

/// A chunk set of a chunked vector's settings, with other chunks.
fn chunked_invalid(
    c: &Chunked,
    description: &str,
    max_chunks: usize,
    chunks: Vec<ChunkCookie>,
    error: &str,
) -> ChunkedInvalid {
    ChunkedInvalid {
        description: description.to_string(),
        secrets: c.secrets.clone(),
        app_label: c.app_label.clone(),
        schema: c.schema.clone(),
        cookie_name: c.cookie_name.clone(),
        context: c.context.clone(),
        max_cookie_size: c.max_cookie_size,
        max_chunks,
        header_budget: 8000,
        now: c.now,
        idle_timeout: c.idle_timeout,
        chunks,
        error: error.to_string(),
    }
}

/// Every vector, computed from fixed inputs.
pub fn generate() -> Vectors {
    let mut g = Generator { tokens: 0 };
    let (valid, invalid) = singles(&mut g);
    let (chunked, chunked_invalid) = chunk_vectors(&mut g);
    Vectors {
        comment: COMMENT.to_string(),
        valid,
        invalid,
        chunked,
        chunked_invalid,
    }
}

/// The `valid` and `invalid` sections.
fn singles(g: &mut Generator) -> (Vec<Valid>, Vec<Invalid>) {
    let hello = postcard("hello");
    let t = 1_700_000_000;
    let first = g.valid(Spec::new(
        "XAES-256-GCM, one text secret, default app and schema labels, cookie \"session\", 7-day lifetime, never renewed (renewed_at = created_at); the payload is the postcard encoding of the string \"hello\" (length 5, then the bytes)",
        hello.clone(),
        t,
        t + HOUR,
    ));
    let deadline = g.valid(Spec {
        algorithm: XCHACHA20_POLY1305,
        ..Spec::new(
            "XChaCha20-Poly1305, same secret and payload; opened one second before its absolute deadline (deadlines are exclusive)",
            hello.clone(),
            t,
            t + WEEK - 1,
        )
    });
    let t = 1_710_000_000;
    let old_secret = g.valid(Spec {
        secrets: vec![SECRET_B, SECRET_A],
        sealer: 1,
        ..Spec::new(
            "sealed under the second secret of the list, an old secret kept for opening: it opens, reported as sealed with an old secret; the payload is the postcard encoding of the u32 42",
            postcard(&42u32),
            t,
            t + DAY,
        )
    });
    let t = 1_720_000_000;
    let idle = g.valid(Spec {
        cookie_name: "__Host-sid",
        algorithm: XCHACHA20_POLY1305,
        lifetime: DAY,
        renewed: 2 * HOUR,
        idle_timeout: Some(1800),
        ..Spec::new(
            "renewed two hours after creation (renewed_at = created_at + 7200), 1-day lifetime, cookie \"__Host-sid\"; opened with an idle timeout of 1800 s one second before renewed_at + 1800 (the idle timeout counts from the last seal, not from creation); the payload is the postcard encoding of the u64 300 (varint ac 02)",
            postcard(&300u64),
            t,
            t + 2 * HOUR + 1799,
        )
    });
    let t = 1_730_000_000;
    let leeway = g.valid(Spec {
        lifetime: HOUR,
        ..Spec::new(
            "empty payload (the postcard encoding of the unit type); opened 60 seconds before its creation time (renewed_at = now + 60), the most the leeway allows",
            Vec::new(),
            t,
            t - 60,
        )
    });
    let t = 1_740_000_000;
    let base64 = g.valid(Spec {
        secrets: vec![SECRET_BASE64],
        renewed: HOUR,
        ..Spec::new(
            "a base64: secret (32 bytes 00 01 02 ... 1f, the decoded bytes are the key material), renewed an hour after creation; the payload is the postcard encoding of the byte sequence [1, 2, 3]",
            postcard(&[1u8, 2, 3][..]),
            t,
            t + HOUR + 60,
        )
    });
    let t = 1_745_000_000;
    let base64_no_pad = g.valid(Spec {
        secrets: vec![SECRET_BASE64_NO_PAD],
        algorithm: XCHACHA20_POLY1305,
        ..Spec::new(
            "the base64: secret of the previous vector written without its padding \"=\" (the padding is optional): the same 32 bytes of key material, so the same key id; XChaCha20-Poly1305; the payload is the postcard encoding of the u8 7",
            postcard(&7u8),
            t,
            t + 60,
        )
    });
    let t = 1_750_000_000;
    let realistic = g.valid(Spec {
        secrets: vec![SECRET_A, SECRET_B],
        algorithm: XCHACHA20_POLY1305,
        lifetime: 30 * DAY,
        renewed: DAY,
        idle_timeout: Some(2 * HOUR),
        ..Spec::new(
            "a realistic payload: the postcard encoding of struct { user_id: u64, name: String, roles: Vec<String> } with user_id 48151623, name \"Ada Lovelace\", roles [\"admin\", \"editor\"] (fields in order, no names: varint, length-prefixed UTF-8, count then length-prefixed strings); 30-day lifetime, renewed a day after creation, opened with a 2-hour idle timeout 10 minutes after that",
            postcard(&account()),
            t,
            t + DAY + 600,
        )
    });
    let t = 1_760_000_000;
    let unicode = g.valid(Spec {
        secrets: vec![SECRET_C],
        ..Spec::new(
            "a text secret with non-ASCII characters: its UTF-8 bytes are the key material; the payload is the postcard encoding of the bool true",
            postcard(&true),
            t,
            t + 1,
        )
    });
    let t = 1_770_000_000;
    let bound = g.valid(Spec {
        context: Some(IPV4),
        ..Spec::new(
            "bound to a context: the ASCII bytes of the client IP address \"203.0.113.7\"; the associated data is 0x01 | 0x01 | key id | \"session\" | 0x00 | SHA-256(context); the payload is the postcard encoding of the string \"alice\"",
            postcard("alice"),
            t,
            t + HOUR,
        )
    });
    let t = 1_780_000_000;
    let bound_ipv6 = g.valid(Spec {
        cookie_name: "__Host-sid",
        context: Some(IPV6),
        algorithm: XCHACHA20_POLY1305,
        lifetime: DAY,
        renewed: 600,
        idle_timeout: Some(1800),
        ..Spec::new(
            "XChaCha20-Poly1305 bound to a context that is not text: the 16 bytes of the IPv6 address 2001:db8::7; 1-day lifetime, renewed 10 minutes after creation, opened with an idle timeout of 1800 s, cookie name \"__Host-sid\"; the payload is the postcard encoding of the string \"bob\"",
            postcard("bob"),
            t,
            t + 900,
        )
    });
    let t = 1_790_000_000;
    let bound_empty = g.valid(Spec {
        context: Some(b""),
        ..Spec::new(
            "bound to the empty context: \"context\" is present but empty, so the associated data still ends with 0x00 and SHA-256 of no bytes (e3b0c442...b855), unlike an unbound value; the payload is the postcard encoding of the empty string (one byte, 00); opened at its creation time",
            postcard(""),
            t,
            t,
        )
    });
    let t = 1_800_000_000;
    let app_label = g.valid(Spec {
        app_label: "shop.example",
        ..Spec::new(
            "app label \"shop.example\": every HKDF info string ends with 0x00 | \"shop.example\" (the key id's is \"sealed-session v1 key id\" | 0x00 | \"shop.example\"), so the same secret has another key id and other keys than under the default, empty app label; the payload is the postcard encoding of the string \"dave\"",
            postcard("dave"),
            t,
            t + HOUR,
        )
    });
    let t = 1_810_000_000;
    let schema = g.valid(Spec {
        schema: "cart-v1",
        algorithm: XCHACHA20_POLY1305,
        ..Spec::new(
            "schema label \"cart-v1\": the schema id in the plaintext is the first 4 bytes of SHA-256(\"sealed-session v1 schema\" | 0x00 | \"cart-v1\"); the payload is the postcard encoding of the sequence of u32 [3, 1, 4]",
            postcard(&[3u32, 1, 4][..]),
            t,
            t + HOUR,
        )
    });
    let t = 1_820_000_000;
    let no_idle = g.valid(Spec {
        lifetime: DAY,
        renewed: 1000,
        ..Spec::new(
            "renewed 2000 seconds before now (renewed_at = created_at + 1000), opened without an idle timeout: only the absolute deadline applies (the same value opened with an idle timeout of 1800 s is expired, see `invalid`); the payload is the postcard encoding of the string \"idle\"",
            postcard("idle"),
            t,
            t + 3000,
        )
    });
    let t = 1_830_000_000;
    let capped = g.valid(Spec {
        algorithm: XCHACHA20_POLY1305,
        lifetime: 30 * DAY,
        max_lifetime: Some(WEEK),
        ..Spec::new(
            "sealed with a 30-day lifetime, opened with a max lifetime of 7 days one second before created_at + 7 days: the session ends at created_at + min(lifetime, max lifetime); absolute_deadline is still the sealed one, created_at + 30 days; the payload is the postcard encoding of the string \"eve\"",
            postcard("eve"),
            t,
            t + WEEK - 1,
        )
    });
    // The crate refuses a cut-off later than its clock's now plus the leeway
    // when a codec is built; tests/vectors.rs builds each codec with its
    // clock at the vector's `now`, which is after this cut-off. (The time
    // was chosen in the past of any real clock, when `build` read that.)
    let t = 1_740_000_000;
    let cut_off = g.valid(Spec {
        reject_created_before: Some(t),
        ..Spec::new(
            "opened while rejecting sessions created before its own created_at: a session created exactly at the cut-off is not revoked; empty payload",
            Vec::new(),
            t,
            t + HOUR,
        )
    });
    let t = 1_850_000_000;
    let renewed_at_deadline = g.valid(Spec {
        algorithm: XCHACHA20_POLY1305,
        lifetime: HOUR,
        renewed: HOUR,
        ..Spec::new(
            "renewed = lifetime (renewed_at = absolute_deadline), the largest well-formed renewal, as a sealer whose clock runs ahead may write it; opened one second before the deadline, within the leeway of renewed_at; empty payload",
            Vec::new(),
            t,
            t + HOUR - 1,
        )
    });
    let t = 1_860_000_000;
    let max_time = g.valid(Spec {
        lifetime: reference::MAX_TIME - t,
        ..Spec::new(
            "absolute_deadline = 253402300799, the latest well-formed one (created_at + lifetime = MAX_TIME; the lifetime varint takes 6 bytes); empty payload",
            Vec::new(),
            t,
            t + 1,
        )
    });

    let mut invalid = Vec::new();

    // -- Sizes and encoding ------------------------------------------------
    let t = 1_700_000_000;
    let now = t + 100;
    invalid.push(invalid_at(
        "value of 4090 characters under the 7-byte name \"session\": 4097 bytes, over the 4096-byte maximum cookie size; rejected before decoding",
        now,
        "A".repeat(4090),
        "too-large",
    ));
    invalid.push(invalid_at(
        "value of 4089 characters under the 7-byte name \"session\": exactly 4096 bytes, not too large; malformed, as no base64 text has a length of 1 modulo 4",
        now,
        "A".repeat(4089),
        "malformed",
    ));
    // The base token of most invalid vectors: XAES-256-GCM under secret A,
    // one hour from t, empty payload: it opens at `now` as the unit type.
    let base_plaintext = g.plaintext(t, HOUR, 0);
    let base_token = g.token(SECRET_A, XAES_256_GCM, &base_plaintext);
    assert_eq!(base_token.len(), 74, "one padding character in base64");
    let base = reference::encode(&base_token);
    invalid.push(invalid_at(
        "a valid token encoded with padding (\"=\")",
        now,
        format!("{base}="),
        "malformed",
    ));
    let standard = base.replace('-', "+").replace('_', "/");
    assert_ne!(standard, base, "the value must contain - or _");
    invalid.push(invalid_at(
        "a valid token encoded with the standard base64 alphabet (\"+\" and \"/\") instead of base64url",
        now,
        standard,
        "malformed",
    ));
    invalid.push(invalid_at(
        "a valid value with a space inserted",
        now,
        format!("{} {}", &base[..10], &base[10..]),
        "malformed",
    ));
    invalid.push(invalid_at(
        "a valid value whose last character has non-zero unused trailing bits (non-canonical base64url)",
        now,
        non_canonical(&base),
        "malformed",
    ));
    invalid.push(invalid_at(
        "a 45-byte token (the first 45 bytes of a valid token): one byte shorter than the shortest token",
        now,
        reference::encode(&base_token[..45]),
        "malformed",
    ));
    let empty = g.token(SECRET_A, XAES_256_GCM, &[]);
    invalid.push(invalid_at(
        "a 46-byte token, the shortest there is: it authenticates, but its plaintext is empty, too short for the envelope",
        now,
        reference::encode(&empty),
        "malformed",
    ));

    // -- Header --------------------------------------------------------------
    invalid.push(invalid_at(
        "a valid token with its version byte changed to 0x02",
        now,
        mutate(&base, |t| t[0] = 0x02),
        "unsupported-version",
    ));
    invalid.push(invalid_at(
        "a valid token with its algorithm byte changed to 0x03",
        now,
        mutate(&base, |t| t[1] = 0x03),
        "unknown-algorithm",
    ));
    invalid.push(invalid_at(
        "a valid token with its algorithm byte changed to 0x00",
        now,
        mutate(&base, |t| t[1] = 0x00),
        "unknown-algorithm",
    ));
    let xchacha = reference::encode(&g.token(SECRET_A, XCHACHA20_POLY1305, &base_plaintext));
    invalid.push(Invalid {
        algorithms: Some(vec!["xaes-256-gcm".to_string()]),
        ..invalid_at(
            "a valid XChaCha20-Poly1305 token (empty payload), opened accepting XAES-256-GCM only",
            now,
            xchacha,
            "disabled-algorithm",
        )
    });
    invalid.push(Invalid {
        algorithms: Some(vec!["xchacha20-poly1305".to_string()]),
        ..invalid_at(
            "a valid XAES-256-GCM token (empty payload), opened accepting XChaCha20-Poly1305 only",
            now,
            base.clone(),
            "disabled-algorithm",
        )
    });
    let unknown_xchacha =
        reference::encode(&g.token(SECRET_D, XCHACHA20_POLY1305, &base_plaintext));
    invalid.push(Invalid {
        algorithms: Some(vec!["xaes-256-gcm".to_string()]),
        ..invalid_at(
            "a XChaCha20-Poly1305 token sealed under a secret that is not in the list, opened accepting XAES-256-GCM only: the algorithm is checked before the key id",
            now,
            unknown_xchacha,
            "disabled-algorithm",
        )
    });
    invalid.push(invalid_at(
        "sealed under a secret that is not in the list",
        now,
        reference::encode(&g.token(SECRET_D, XAES_256_GCM, &base_plaintext)),
        "unknown-key",
    ));
    invalid.push(Invalid {
        app_label: None,
        ..from_valid(
            &app_label,
            "the valid value of app label \"shop.example\", opened with the default (empty) app label: the same secret derives another key id",
            "unknown-key",
        )
    });
    invalid.push(Invalid {
        app_label: Some("shop.example".to_string()),
        ..from_valid(
            &first,
            "the first valid value (default app label), opened with the app label \"shop.example\"",
            "unknown-key",
        )
    });

    // -- Authentication ------------------------------------------------------
    invalid.push(invalid_at(
        "a valid token with the lowest bit of its first ciphertext byte (token byte 30) flipped",
        now,
        mutate(&base, |t| t[30] ^= 0x01),
        "authentication-failed",
    ));
    invalid.push(invalid_at(
        "a valid token with the highest bit of its last tag byte flipped",
        now,
        mutate(&base, |t| *t.last_mut().expect("not empty") ^= 0x80),
        "authentication-failed",
    ));
    invalid.push(invalid_at(
        "a valid XAES-256-GCM token with its algorithm byte changed to 0x02 (XChaCha20-Poly1305): the header is authenticated",
        now,
        mutate(&base, |t| t[1] = XCHACHA20_POLY1305),
        "authentication-failed",
    ));
    let (nonce, _) = g.fresh();
    let other_name = reference::seal_token(
        &reference::derive(SECRET_A, ""),
        "other",
        None,
        XAES_256_GCM,
        &nonce,
        &base_plaintext,
    );
    invalid.push(invalid_at(
        "sealed under the cookie name \"other\", opened under \"session\": the name is associated data",
        now,
        reference::encode(&other_name),
        "authentication-failed",
    ));
    invalid.push(Invalid {
        context: Some(hex::encode(IPV4_OTHER)),
        ..from_valid(
            &bound,
            "the valid value bound to the client IP address \"203.0.113.7\", opened with the context \"203.0.113.8\": the digest in the associated data differs",
            "authentication-failed",
        )
    });
    invalid.push(Invalid {
        context: None,
        ..from_valid(
            &bound,
            "the valid value bound to the client IP address \"203.0.113.7\", opened without a context (unbound): the associated data lacks the zero byte and digest",
            "authentication-failed",
        )
    });
    invalid.push(Invalid {
        context: None,
        ..from_valid(
            &bound_empty,
            "the valid value bound to the empty context, opened without a context: an empty context is not the same as none",
            "authentication-failed",
        )
    });
    invalid.push(Invalid {
        context: Some(hex::encode(IPV4)),
        ..from_valid(
            &first,
            "the first valid value (unbound, XAES-256-GCM, payload \"hello\"), opened with the context \"203.0.113.7\": an unbound value does not open bound",
            "authentication-failed",
        )
    });
    invalid.push(Invalid {
        context: Some(String::new()),
        ..from_valid(
            &first,
            "the first valid value (unbound), opened bound to the empty context",
            "authentication-failed",
        )
    });

    // -- Envelope: authentic tokens whose plaintext is not well-formed --------
    let schema0 = reference::schema_id("");
    let envelope = |g: &mut Generator, description: &str, plaintext: Vec<u8>| {
        let token = g.token(SECRET_A, XAES_256_GCM, &plaintext);
        invalid_at(description, now, reference::encode(&token), "malformed")
    };
    let plaintext = g.plaintext(t, HOUR, HOUR + 1);
    invalid.push(envelope(
        g,
        "renewed = lifetime + 1 (3601 and 3600): the last seal lies after the absolute deadline",
        plaintext,
    ));
    let late = reference::MAX_TIME - 1000;
    let plaintext = g.plaintext(late, 1001, 0);
    invalid.push(envelope(
        g,
        "created_at + lifetime = 253402300800, one second after the latest time (MAX_TIME = 253402300799)",
        plaintext,
    ));
    let plaintext = g.plaintext(reference::MAX_TIME + 1, 0, 0);
    invalid.push(envelope(
        g,
        "created_at = 253402300800, one second after the latest time, with lifetime and renewed 0",
        plaintext,
    ));
    let plaintext = g.plaintext(t, u64::MAX, 0);
    invalid.push(envelope(
        g,
        "lifetime = 2^64 - 1 (the longest varint, 10 bytes ending in 0x01): created_at + lifetime overflows 64 bits",
        plaintext,
    ));
    let (_, id) = g.fresh();
    let mut non_minimal = Vec::new();
    reference::write_varint(&mut non_minimal, t);
    reference::write_varint(&mut non_minimal, HOUR);
    non_minimal.extend_from_slice(&[0x80, 0x00]); // 0 in two bytes
    non_minimal.extend_from_slice(&schema0);
    non_minimal.extend_from_slice(&id);
    invalid.push(envelope(
        g,
        "renewed 0 written in two bytes (80 00): a varint that is not the shortest form",
        non_minimal,
    ));
    let (_, id) = g.fresh();
    // t with every byte continued up to a tenth byte of 02: t + 2^64.
    let mut too_wide = Vec::new();
    reference::write_varint(&mut too_wide, t);
    *too_wide.last_mut().expect("not empty") |= 0x80;
    too_wide.resize(9, 0x80);
    too_wide.push(0x02);
    reference::write_varint(&mut too_wide, HOUR);
    reference::write_varint(&mut too_wide, 0);
    too_wide.extend_from_slice(&schema0);
    too_wide.extend_from_slice(&id);
    invalid.push(envelope(
        g,
        "created_at written as the 10-byte varint of 1700000000 + 2^64 (80 e2 cf aa 86 80 80 80 80 02): a tenth byte above 01 carries more than 64 bits; a decoder that drops the high bits would read a well-formed envelope",
        too_wide,
    ));
    let mut short = g.plaintext(t, HOUR, 0);
    short.pop();
    invalid.push(envelope(
        g,
        "three varints, then 19 bytes instead of the 4-byte schema id and 16-byte session id",
        short,
    ));
    invalid.push(envelope(
        g,
        "a 2-byte plaintext, 80 80: it ends inside the created_at varint",
        vec![0x80, 0x80],
    ));

    // -- Clock rules -----------------------------------------------------------
    invalid.push(invalid_at(
        "opened exactly at its absolute deadline (created_at + 3600)",
        t + HOUR,
        base.clone(),
        "expired-absolute",
    ));
    invalid.push(Invalid {
        now: capped.created_at + 8 * DAY,
        ..from_valid(
            &capped,
            "the valid value sealed with a 30-day lifetime, opened with a max lifetime of 7 days 8 days after its creation",
            "expired-absolute",
        )
    });
    invalid.push(Invalid {
        now: capped.created_at + WEEK,
        ..from_valid(
            &capped,
            "the valid value sealed with a 30-day lifetime, opened with a max lifetime of 7 days exactly at created_at + 7 days",
            "expired-absolute",
        )
    });
    invalid.push(Invalid {
        now: first.absolute_deadline,
        max_lifetime: Some(30 * DAY),
        ..from_valid(
            &first,
            "the first valid value (7-day lifetime), opened with a max lifetime of 30 days at its absolute deadline: a max lifetime caps the lifetime, never extends it",
            "expired-absolute",
        )
    });
    invalid.push(Invalid {
        idle_timeout: Some(1800),
        ..from_valid(
            &no_idle,
            "the valid value renewed 2000 seconds before now, opened with an idle timeout of 1800 s",
            "expired-idle",
        )
    });
    invalid.push(Invalid {
        now: idle.renewed_at + 1800,
        ..from_valid(
            &idle,
            "the valid value renewed two hours after creation, opened with an idle timeout of 1800 s exactly at renewed_at + 1800",
            "expired-idle",
        )
    });
    let plaintext = g.plaintext(t, HOUR, 161);
    invalid.push(envelope_clock(
        g,
        "created_at 100 seconds before now, but renewed_at = now + 61 (renewed 161): one second beyond the 60-second leeway",
        now,
        plaintext,
        "not-yet-valid",
    ));
    let plaintext = g.plaintext(now + 61, HOUR, 0);
    invalid.push(envelope_clock(
        g,
        "created_at (= renewed_at) is 61 seconds after now, one second beyond the 60-second leeway",
        now,
        plaintext,
        "not-yet-valid",
    ));
    // Found by the fuzz target open_authentic: a maximum lifetime that ends
    // the session within the leeway must not move the last seal back to
    // the capped deadline (where it would pass the not-yet-valid rule).
    let plaintext = g.plaintext(t, 30 * DAY, 200);
    invalid.push(Invalid {
        max_lifetime: Some(130),
        ..envelope_clock(
            g,
            "created_at 100 seconds before now, renewed_at = now + 100 (beyond the leeway), opened with a max lifetime of 130 s: the capped deadline (now + 30) is in the leeway, and the last seal is still judged as sealed: not yet valid",
            now,
            plaintext,
            "not-yet-valid",
        )
    });
    invalid.push(Invalid {
        reject_created_before: Some(cut_off.created_at + 1),
        ..from_valid(
            &cut_off,
            "opened while rejecting sessions created before one second after its created_at",
            "revoked",
        )
    });

    // -- Schema and payload --------------------------------------------------
    invalid.push(Invalid {
        schema: Some("cart-v2".to_string()),
        ..from_valid(
            &schema,
            "the valid value of schema \"cart-v1\", opened with the schema label \"cart-v2\" (its payload is not empty: the schema is checked before the payload)",
            "schema-mismatch",
        )
    });
    invalid.push(Invalid {
        schema: None,
        ..from_valid(
            &schema,
            "the valid value of schema \"cart-v1\", opened with the default (empty) schema label",
            "schema-mismatch",
        )
    });
    invalid.push(Invalid {
        schema: Some("x".to_string()),
        ..invalid_at(
            "a valid token of the default (empty) schema label and an empty payload, opened with the schema label \"x\"",
            now,
            base.clone(),
            "schema-mismatch",
        )
    });
    invalid.push(Invalid {
        schema: Some("x".to_string()),
        ..invalid_at(
            "the token of the previous vector, opened with the schema label \"x\" at its absolute deadline: the clock rules are checked before the schema",
            t + HOUR,
            base.clone(),
            "expired-absolute",
        )
    });
    invalid.push(from_valid(
        &first,
        "the first valid value, whose payload is the postcard encoding of the string \"hello\", opened as the unit type, which expects an empty payload",
        "deserialize",
    ));

    let valid = vec![
        first,
        deadline,
        old_secret,
        idle,
        leeway,
        base64,
        base64_no_pad,
        realistic,
        unicode,
        bound,
        bound_ipv6,
        bound_empty,
        app_label,
        schema,
        no_idle,
        capped,
        cut_off,
        renewed_at_deadline,
        max_time,
    ];
    (valid, invalid)
}

/// An authentic token of `plaintext` failing a clock rule at `now`.
fn envelope_clock(
    g: &mut Generator,
    description: &str,
    now: u64,
    plaintext: Vec<u8>,
    error: &str,
) -> Invalid {
    let token = g.token(SECRET_A, XAES_256_GCM, &plaintext);
    invalid_at(description, now, reference::encode(&token), error)
}

/// A value whose last character is the next one of the alphabet: for a
/// token of 3k + 2 bytes, the lowest of its two unused bits set.
fn non_canonical(value: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (head, last) = value.split_at(value.len() - 1);
    let position = ALPHABET
        .iter()
        .position(|&c| c == last.as_bytes()[0])
        .expect("base64url");
    assert_eq!(position % 4, 0, "two unused bits, both zero");
    format!("{head}{}", char::from(ALPHABET[position + 1]))
}

/// The `chunked` and `chunked_invalid` sections.
fn chunk_vectors(g: &mut Generator) -> (Vec<Chunked>, Vec<ChunkedInvalid>) {
    let t = 1_700_000_000;
    // 582 characters = 436 bytes = 46 + 29 (envelope) + 361 (payload).
    let two = chunked(
        g,
        Spec::new(
            "XAES-256-GCM, cookie \"session\", maximum cookie size 300: the 582-character value does not fit in one cookie (7 + 582 > 300), so it is cut into session.0 and session.1 of 300 - 9 = 291 characters each: two full chunks, and no empty third one; the payload is the postcard encoding of a 359-character string",
            long_string("chunked vector 1: ", 359),
            t,
            t + HOUR,
        ),
        300,
        582,
    );
    // 770 characters = 577 bytes = 46 + 30 + 501.
    let three = chunked(
        g,
        Spec {
            algorithm: XCHACHA20_POLY1305,
            lifetime: DAY,
            renewed: 600,
            idle_timeout: Some(1800),
            ..Spec::new(
                "XChaCha20-Poly1305, 1-day lifetime, renewed 10 minutes after creation, opened with an idle timeout of 1800 s, cookie \"session\", maximum cookie size 300: the 770-character value becomes session.0 and session.1 of 291 characters each and session.2 with the remaining 188; the payload is the postcard encoding of a 499-character string",
                long_string("chunked vector 2: ", 499),
                t,
                t + 900,
            )
        },
        300,
        770,
    );
    // 1300 characters = 975 bytes = 46 + 29 + 900.
    let twelve = chunked(
        g,
        Spec {
            secrets: vec![SECRET_BASE64],
            cookie_name: "s",
            context: Some(IPV4),
            ..Spec::new(
                "XAES-256-GCM under a base64: secret, cookie \"s\", maximum cookie size 120, bound to the context \"203.0.113.7\" (the associated data names the plain cookie \"s\", as for a single cookie): the 1300-character value becomes s.0 through s.9 of 120 - 3 = 117 characters each, s.10 of 120 - 4 = 116 (a two-digit index leaves one character less) and s.11 with the remaining 14; the payload is the postcard encoding of a 898-character string",
                long_string("chunked vector 3: ", 898),
                t,
                t + HOUR,
            )
        },
        120,
        1300,
    );
    assert_eq!(two.chunks.len(), 2);
    assert_eq!(three.chunks.len(), 3);
    assert_eq!(twelve.chunks.len(), 12);

    let mut invalid = Vec::new();
    let c = &three.chunks;
    invalid.push(chunked_invalid(
        &three,
        "the three-chunk vector without session.1: the indexes are not contiguous from 0",
        3,
        vec![c[0].clone(), c[2].clone()],
        "malformed",
    ));
    invalid.push(chunked_invalid(
        &three,
        "the three-chunk vector without session.0",
        3,
        vec![c[1].clone(), c[2].clone()],
        "malformed",
    ));
    invalid.push(chunked_invalid(
        &three,
        "the three-chunk vector with session.1 sent twice (the same value both times)",
        3,
        vec![c[0].clone(), c[1].clone(), c[1].clone(), c[2].clone()],
        "malformed",
    ));
    let mut with_empty = two.chunks.clone();
    with_empty.push(ChunkCookie {
        name: "session.2".to_string(),
        value: String::new(),
    });
    invalid.push(chunked_invalid(
        &two,
        "the two-chunk vector and an empty session.2, read with max_chunks 3: the joined text is unchanged (the authentic token), but no chunk may be empty",
        3,
        with_empty,
        "malformed",
    ));
    let mut mixed = vec![two.chunks[0].clone()];
    mixed.extend_from_slice(&c[1..]);
    invalid.push(chunked_invalid(
        &three,
        "session.0 of the two-chunk vector (another session under the same secret) with session.1 and session.2 of the three-chunk vector: the joined text is well-formed base64url but does not authenticate",
        3,
        mixed,
        "authentication-failed",
    ));
    let swapped = vec![
        ChunkCookie {
            name: c[0].name.clone(),
            value: c[1].value.clone(),
        },
        ChunkCookie {
            name: c[1].name.clone(),
            value: c[0].value.clone(),
        },
        c[2].clone(),
    ];
    invalid.push(chunked_invalid(
        &three,
        "the three-chunk vector with the values of session.0 and session.1 swapped: the joined text now starts with ciphertext, whose first byte is not version 0x01",
        3,
        swapped,
        "unsupported-version",
    ));
    let (first_char, rest) = c[1].value.split_at(1);
    let moved = vec![
        ChunkCookie {
            name: c[0].name.clone(),
            value: format!("{}{first_char}", c[0].value),
        },
        ChunkCookie {
            name: c[1].name.clone(),
            value: rest.to_string(),
        },
        c[2].clone(),
    ];
    invalid.push(chunked_invalid(
        &three,
        "the three-chunk vector with the first character of session.1 moved to the end of session.0: the joined text is unchanged (the authentic token), but session.0 takes 9 + 292 = 301 bytes, over the maximum cookie size of 300",
        3,
        moved,
        "too-large",
    ));
    let mut reversed = c.clone();
    reversed.reverse();
    invalid.push(ChunkedInvalid {
        header_budget: 796,
        ..chunked_invalid(
            &three,
            "the three-chunk vector (in reverse order, which does not matter), read with a header budget of 796: its chunk cookies take 797 bytes (9 + 291, 9 + 291, 9 + 188); with a budget of 797 they open",
            3,
            reversed,
            "too-large",
        )
    });
    invalid.push(ChunkedInvalid {
        idle_timeout: Some(300),
        ..chunked_invalid(
            &three,
            "the three-chunk vector read with an idle timeout of 300 s instead of 1800 s: its now, 15 minutes after creation, is exactly renewed_at + 300",
            3,
            c.clone(),
            "expired-idle",
        )
    });
    let c = &twelve.chunks;
    let mut swapped = c.clone();
    swapped[1].value.clone_from(&c[2].value);
    swapped[2].value.clone_from(&c[1].value);
    invalid.push(chunked_invalid(
        &twelve,
        "the twelve-chunk vector with the values of s.1 and s.2 swapped (117 characters each)",
        12,
        swapped,
        "authentication-failed",
    ));
    let mut repeated = c.clone();
    repeated[5].value = c[4].value.clone();
    invalid.push(chunked_invalid(
        &twelve,
        "the twelve-chunk vector with s.5 carrying the value of s.4",
        12,
        repeated,
        "authentication-failed",
    ));
    invalid.push(chunked_invalid(
        &twelve,
        "the twelve-chunk vector read with max_chunks 11: s.11 (an index of at least max_chunks) is not a chunk name and is ignored, so the chunks are s.0 through s.10, whose joined text (1286 characters) is not canonical base64url, its last character having non-zero unused bits",
        11,
        c.clone(),
        "malformed",
    ));
    invalid.push(ChunkedInvalid {
        context: None,
        ..chunked_invalid(
            &twelve,
            "the twelve-chunk vector opened without a context: it is bound to \"203.0.113.7\"",
            12,
            c.clone(),
            "authentication-failed",
        )
    });
    invalid.push(ChunkedInvalid {
        context: Some(hex::encode(IPV4_OTHER)),
        ..chunked_invalid(
            &twelve,
            "the twelve-chunk vector opened with the context \"203.0.113.8\" instead of \"203.0.113.7\"",
            12,
            c.clone(),
            "authentication-failed",
        )
    });
    (vec![two, three, twelve], invalid)
}
