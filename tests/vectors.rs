//! The published test vectors for wire format v1, `tests/vectors/v1.json`.
//!
//! This file holds a second, independent implementation of the format (the
//! `reference` module below), written from the format description alone and
//! calling the hash, KDF, AEAD and base64 crates directly. It is how the values
//! in the JSON file were computed, and it is meant to be read by anyone
//! implementing the format in another language.
//!
//! The tests check, in both directions, that the crate and the reference
//! agree:
//!
//! * the reference reproduces every valid vector's value from its fields, and
//!   gives every invalid vector its error code;
//! * the crate opens every valid vector to the same fields, and rejects every
//!   invalid vector with the listed error code;
//! * cookies freshly sealed by the crate, bound or not, open with the
//!   reference to the payload and envelope the crate sealed.
//!
//! A vector with a `context` (hex) is bound to those context bytes (see
//! `sealed_session::Binding`): a valid one was sealed with it and opens only
//! with it, an invalid one is opened with it. Without `context`, a vector is
//! unbound.
//!
//! Chunked cookies (`SessionConfigBuilder::max_chunks`) have two sections of
//! their own; `valid` and `invalid` are unchanged by them.
//!
//! * `chunked`: a value too long for one cookie under the vector's own
//!   `max_cookie_size`, with every field of a `valid` vector (the token is
//!   sealed exactly as a single cookie would be), plus `max_cookie_size` and
//!   `chunks`, the chunk cookies as `{ "name", "value" }` in index order.
//!   `value` is the joined text: the chunk values concatenated in index
//!   order. Chunk `k` is named `cookie_name.k` (decimal, no leading zeros)
//!   and holds the next `max_cookie_size - len("cookie_name.k")` characters
//!   of `value`, the last chunk the rest.
//! * `chunked_invalid`: chunk cookies in the order a request carries them,
//!   read with `max_cookie_size`, `max_chunks` and `header_budget` (the most
//!   all chunk cookies may take together, names plus values), that must fail
//!   with `error`: `malformed` unless the indexes are exactly `0..n`, each
//!   once, with `n <= max_chunks`; `too-large` for a chunk over
//!   `max_cookie_size` or a set over the budget; otherwise the error of
//!   opening the joined text as a single value (without the single-cookie
//!   size check).
//!
//! The tests check both with the reference and with the crate
//! (`SessionConfig::load_at` with chunking on).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sealed_session::{Algorithm, Binding, Codec, Keyring, Opened, SessionConfig};
use serde::{Deserialize, Serialize};

/// A small, separate implementation of wire format v1.
///
/// ```text
/// PRK    = HKDF-SHA256-Extract(salt = "sealed-session v1", IKM = secret bytes)
/// key id = HKDF-Expand(PRK, "sealed-session v1 key id", 4)
/// K_xaes = HKDF-Expand(PRK, "sealed-session v1 key xaes256gcm", 32)
/// K_xcha = HKDF-Expand(PRK, "sealed-session v1 key xchacha20poly1305", 32)
///
/// token     = 0x01 | algorithm | key id (4) | nonce (24) | ciphertext | tag (16)
/// AD        = token[0..6] | cookie name (UTF-8)
///             [ | 0x00 | SHA-256(context) ]   only for a bound session
/// plaintext = varint(created_at) | varint(absolute_deadline)
///           | varint(idle_deadline, 0 = none) | session id (16) | payload
/// value     = base64url(token), no padding
/// ```
mod reference {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use chacha20poly1305::XChaCha20Poly1305;
    use hkdf::Hkdf;
    use sha2::{Digest as _, Sha256};
    use xaes_256_gcm::Xaes256Gcm;
    use xaes_256_gcm::aead::{Aead, KeyInit, Payload};

    pub const VERSION: u8 = 0x01;
    pub const XAES_256_GCM: u8 = 0x01;
    pub const XCHACHA20_POLY1305: u8 = 0x02;
    /// The maximum cookie size the vectors assume (name plus value).
    pub const MAX_COOKIE_SIZE: usize = 4096;
    /// The clock-skew leeway the vectors assume, in seconds.
    pub const LEEWAY: u64 = 60;
    /// 9999-12-31T23:59:59Z: no time in an envelope may be later.
    pub const MAX_TIME: u64 = 253_402_300_799;
    /// Header (6) + nonce (24) + tag (16): the shortest possible token.
    pub const MIN_TOKEN_LEN: usize = 46;

    /// The algorithm byte for a name as written in the vectors.
    pub fn algorithm_id(name: &str) -> u8 {
        match name {
            "xaes-256-gcm" => XAES_256_GCM,
            "xchacha20-poly1305" => XCHACHA20_POLY1305,
            other => panic!("unknown algorithm name {other:?}"),
        }
    }

    /// The name of an algorithm byte as written in the vectors.
    pub fn algorithm_name(id: u8) -> &'static str {
        match id {
            XAES_256_GCM => "xaes-256-gcm",
            XCHACHA20_POLY1305 => "xchacha20-poly1305",
            other => panic!("unknown algorithm byte {other:#04x}"),
        }
    }

    /// What one secret derives.
    pub struct Keys {
        pub id: [u8; 4],
        xaes: [u8; 32],
        xchacha: [u8; 32],
    }

    /// Key material of a secret as configured: the UTF-8 bytes of the text,
    /// or the standard-base64-decoded bytes after a `base64:` prefix.
    pub fn secret_bytes(secret: &str) -> Vec<u8> {
        match secret.strip_prefix("base64:") {
            Some(encoded) => STANDARD.decode(encoded).expect("standard base64"),
            None => secret.as_bytes().to_vec(),
        }
    }

    pub fn derive(secret: &str) -> Keys {
        let hkdf = Hkdf::<Sha256>::new(Some(b"sealed-session v1"), &secret_bytes(secret));
        let mut keys = Keys {
            id: [0; 4],
            xaes: [0; 32],
            xchacha: [0; 32],
        };
        hkdf.expand(b"sealed-session v1 key id", &mut keys.id)
            .expect("4 bytes");
        hkdf.expand(b"sealed-session v1 key xaes256gcm", &mut keys.xaes)
            .expect("32 bytes");
        hkdf.expand(
            b"sealed-session v1 key xchacha20poly1305",
            &mut keys.xchacha,
        )
        .expect("32 bytes");
        keys
    }

    /// Unsigned LEB128, shortest form.
    pub fn write_varint(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(low);
                return;
            }
            out.push(low | 0x80);
        }
    }

    /// Reads a shortest-form unsigned LEB128 of at most 64 bits.
    pub fn read_varint(input: &[u8]) -> Option<(u64, &[u8])> {
        let mut value = 0u64;
        for (i, &byte) in input.iter().enumerate().take(10) {
            if i == 9 && byte > 1 {
                return None; // more than 64 bits
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    return None; // not the shortest form
                }
                return Some((value, &input[i + 1..]));
            }
        }
        None
    }

    /// Everything a token carries besides the cookie name it is bound to.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Session {
        pub algorithm: u8,
        pub key_id: [u8; 4],
        pub nonce: [u8; 24],
        pub created_at: u64,
        pub absolute_deadline: u64,
        pub idle_deadline: u64,
        pub session_id: [u8; 16],
        pub payload: Vec<u8>,
    }

    /// The plaintext of a token: the envelope, then the payload.
    pub fn plaintext(
        created_at: u64,
        absolute_deadline: u64,
        idle_deadline: u64,
        session_id: &[u8; 16],
        payload: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        write_varint(&mut out, created_at);
        write_varint(&mut out, absolute_deadline);
        write_varint(&mut out, idle_deadline);
        out.extend_from_slice(session_id);
        out.extend_from_slice(payload);
        out
    }

    fn header(algorithm: u8, key_id: [u8; 4]) -> [u8; 6] {
        let [k0, k1, k2, k3] = key_id;
        [VERSION, algorithm, k0, k1, k2, k3]
    }

    /// The header and the cookie name; for a session bound to a context,
    /// then a zero byte and the SHA-256 digest of the context bytes. The zero
    /// byte cannot occur in a cookie name, and the digest has a fixed length,
    /// so no two (name, context) pairs give the same associated data, and a
    /// bound session (even to an empty context) never matches an unbound one.
    pub fn associated_data(header: &[u8], cookie_name: &str, context: Option<&[u8]>) -> Vec<u8> {
        let mut ad = header.to_vec();
        ad.extend_from_slice(cookie_name.as_bytes());
        if let Some(context) = context {
            ad.push(0x00);
            ad.extend_from_slice(Sha256::digest(context).as_slice());
        }
        ad
    }

    /// Encrypts any plaintext into a token, bound to `context` if there is
    /// one; no rule about its content is checked, so that broken envelopes
    /// can be sealed for the vectors.
    pub fn seal_token(
        keys: &Keys,
        cookie_name: &str,
        context: Option<&[u8]>,
        algorithm: u8,
        nonce: &[u8; 24],
        plaintext: &[u8],
    ) -> Vec<u8> {
        let header = header(algorithm, keys.id);
        let ad = associated_data(&header, cookie_name, context);
        let payload = Payload {
            msg: plaintext,
            aad: &ad,
        };
        // Both AEADs return ciphertext followed by the 16-byte tag.
        let sealed = match algorithm {
            XAES_256_GCM => Xaes256Gcm::new_from_slice(&keys.xaes)
                .expect("32-byte key")
                .encrypt(&(*nonce).into(), payload),
            XCHACHA20_POLY1305 => XChaCha20Poly1305::new_from_slice(&keys.xchacha)
                .expect("32-byte key")
                .encrypt(&(*nonce).into(), payload),
            other => panic!("cannot seal with algorithm byte {other:#04x}"),
        }
        .expect("cookie-sized plaintext");
        let mut token = header.to_vec();
        token.extend_from_slice(nonce);
        token.extend_from_slice(&sealed);
        token
    }

    /// Seals a session under `keys` (whose id goes into the header), bound
    /// to `context` if there is one.
    pub fn seal(
        keys: &Keys,
        cookie_name: &str,
        context: Option<&[u8]>,
        session: &Session,
    ) -> String {
        assert_eq!(session.key_id, keys.id, "the session names another key");
        let plaintext = plaintext(
            session.created_at,
            session.absolute_deadline,
            session.idle_deadline,
            &session.session_id,
            &session.payload,
        );
        encode(&seal_token(
            keys,
            cookie_name,
            context,
            session.algorithm,
            &session.nonce,
            &plaintext,
        ))
    }

    pub fn encode(token: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(token)
    }

    /// Strict base64url without padding: no `=`, no `+` or `/`, no
    /// whitespace, unused trailing bits zero.
    pub fn decode(value: &str) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(value).ok()
    }

    /// Opens `value` at Unix time `now` with every check, in the order of
    /// the format, expecting it bound to `context` if there is one, and
    /// returns the session with the position of the secret that opened it
    /// (0 = current), or the error code.
    pub fn open(
        secrets: &[String],
        cookie_name: &str,
        context: Option<&[u8]>,
        value: &str,
        now: u64,
        reject_created_before: Option<u64>,
    ) -> Result<(Session, usize), &'static str> {
        if cookie_name.len() + value.len() > MAX_COOKIE_SIZE {
            return Err("too-large");
        }
        open_joined(
            secrets,
            cookie_name,
            context,
            value,
            now,
            reject_created_before,
        )
    }

    /// The chunk cookies of a value under `cookie_name`: chunk `k` is named
    /// `cookie_name.k` (decimal, no leading zeros) and takes the next
    /// `max_cookie_size - len(name)` characters, the last chunk the rest.
    pub fn split(cookie_name: &str, value: &str, max_cookie_size: usize) -> Vec<(String, String)> {
        let mut chunks = Vec::new();
        let mut rest = value;
        while !rest.is_empty() {
            let name = format!("{cookie_name}.{}", chunks.len());
            let take = (max_cookie_size - name.len()).min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            chunks.push((name, chunk.to_string()));
            rest = tail;
        }
        chunks
    }

    /// Reads the chunk cookies of `cookie_name` out of a request's cookies
    /// (in request order) and joins them, or gives the error code. Only
    /// names `cookie_name.` + a decimal index without sign or leading zero
    /// are chunks; `None` when there are none.
    pub fn join(
        cookie_name: &str,
        cookies: &[(String, String)],
        max_cookie_size: usize,
        max_chunks: usize,
        header_budget: usize,
    ) -> Option<Result<String, &'static str>> {
        let prefix = format!("{cookie_name}.");
        let mut chunks: Vec<(Option<usize>, &str, usize)> = Vec::new();
        for (name, value) in cookies {
            let Some(digits) = name.strip_prefix(&prefix) else {
                continue;
            };
            let canonical = !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (digits == "0" || !digits.starts_with('0'));
            if canonical {
                chunks.push((digits.parse().ok(), value, name.len() + value.len()));
            }
        }
        if chunks.is_empty() {
            return None;
        }
        chunks.sort_by_key(|&(index, _, _)| index.unwrap_or(usize::MAX));
        // Exactly 0..n, each once, n <= max_chunks.
        let exact = chunks
            .iter()
            .enumerate()
            .all(|(i, &(index, _, _))| index == Some(i));
        if !exact || chunks.len() > max_chunks {
            return Some(Err("malformed"));
        }
        if chunks.iter().any(|&(_, _, size)| size > max_cookie_size)
            || chunks.iter().map(|&(_, _, size)| size).sum::<usize>() > header_budget
        {
            return Some(Err("too-large"));
        }
        Some(Ok(chunks.iter().map(|&(_, value, _)| value).collect()))
    }

    /// [`open`] without the single-cookie size check: for the joined text
    /// of chunk cookies, whose sizes [`join`] checked.
    pub fn open_joined(
        secrets: &[String],
        cookie_name: &str,
        context: Option<&[u8]>,
        value: &str,
        now: u64,
        reject_created_before: Option<u64>,
    ) -> Result<(Session, usize), &'static str> {
        let token = decode(value).ok_or("malformed")?;
        if token.len() < MIN_TOKEN_LEN {
            return Err("malformed");
        }
        if token[0] != VERSION {
            return Err("unsupported-version");
        }
        let algorithm = token[1];
        if algorithm != XAES_256_GCM && algorithm != XCHACHA20_POLY1305 {
            return Err("unknown-algorithm");
        }
        let key_id: [u8; 4] = token[2..6].try_into().expect("4 bytes");
        let (index, keys) = secrets
            .iter()
            .map(|s| derive(s))
            .enumerate()
            .find(|(_, k)| k.id == key_id)
            .ok_or("unknown-key")?;
        let nonce: [u8; 24] = token[6..30].try_into().expect("24 bytes");
        let ad = associated_data(&token[..6], cookie_name, context);
        let payload = Payload {
            msg: &token[30..],
            aad: &ad,
        };
        let plaintext = match algorithm {
            XAES_256_GCM => Xaes256Gcm::new_from_slice(&keys.xaes)
                .expect("32-byte key")
                .decrypt(&nonce.into(), payload),
            _ => XChaCha20Poly1305::new_from_slice(&keys.xchacha)
                .expect("32-byte key")
                .decrypt(&nonce.into(), payload),
        }
        .map_err(|_| "authentication-failed")?;

        let (created_at, rest) = read_varint(&plaintext).ok_or("malformed")?;
        let (absolute_deadline, rest) = read_varint(rest).ok_or("malformed")?;
        let (idle_deadline, rest) = read_varint(rest).ok_or("malformed")?;
        if rest.len() < 16 {
            return Err("malformed");
        }
        let (session_id, payload) = rest.split_at(16);
        let well_formed = created_at <= MAX_TIME
            && absolute_deadline <= MAX_TIME
            && idle_deadline <= MAX_TIME
            && created_at <= absolute_deadline
            && (idle_deadline == 0 || idle_deadline <= absolute_deadline);
        if !well_formed {
            return Err("malformed");
        }

        if now >= absolute_deadline {
            return Err("expired-absolute");
        }
        if idle_deadline != 0 && now >= idle_deadline {
            return Err("expired-idle");
        }
        if created_at > now.saturating_add(LEEWAY) {
            return Err("not-yet-valid");
        }
        if reject_created_before.is_some_and(|cut| created_at < cut) {
            return Err("revoked");
        }
        let session = Session {
            algorithm,
            key_id,
            nonce,
            created_at,
            absolute_deadline,
            idle_deadline,
            session_id: session_id.try_into().expect("16 bytes"),
            payload: payload.to_vec(),
        };
        Ok((session, index))
    }
}

/// The JSON file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    comment: String,
    valid: Vec<Valid>,
    invalid: Vec<Invalid>,
    chunked: Vec<Chunked>,
    chunked_invalid: Vec<ChunkedInvalid>,
}

/// One chunk cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChunkCookie {
    name: String,
    value: String,
}

/// A value too long for one cookie, as the chunk cookies it is written to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Chunked {
    description: String,
    secrets: Vec<String>,
    cookie_name: String,
    /// Hex of the context bytes the value is bound to; absent = unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    algorithm: String,
    nonce: String,
    session_id: String,
    created_at: u64,
    absolute_deadline: u64,
    idle_deadline: u64,
    payload: String,
    now: u64,
    /// The maximum cookie size (name plus value) the value was split for.
    max_cookie_size: usize,
    /// The chunk cookies, in index order.
    chunks: Vec<ChunkCookie>,
    /// The joined text: the chunk values in index order.
    value: String,
}

/// Chunk cookies that must not open.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChunkedInvalid {
    description: String,
    secrets: Vec<String>,
    cookie_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    max_cookie_size: usize,
    max_chunks: usize,
    header_budget: usize,
    now: u64,
    /// The chunk cookies in request order.
    chunks: Vec<ChunkCookie>,
    error: String,
}

impl Chunked {
    /// The fields a single-cookie vector of the same token has.
    fn as_valid(&self) -> Valid {
        Valid {
            description: self.description.clone(),
            secrets: self.secrets.clone(),
            cookie_name: self.cookie_name.clone(),
            context: self.context.clone(),
            algorithm: self.algorithm.clone(),
            nonce: self.nonce.clone(),
            session_id: self.session_id.clone(),
            created_at: self.created_at,
            absolute_deadline: self.absolute_deadline,
            idle_deadline: self.idle_deadline,
            payload: self.payload.clone(),
            now: self.now,
            value: self.value.clone(),
        }
    }

    /// (name, value) of each chunk, in index order.
    fn pairs(&self) -> Vec<(String, String)> {
        pairs(&self.chunks)
    }

    /// The bytes all chunk cookies take together.
    fn total(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.name.len() + c.value.len())
            .sum()
    }
}

fn pairs(chunks: &[ChunkCookie]) -> Vec<(String, String)> {
    chunks
        .iter()
        .map(|c| (c.name.clone(), c.value.clone()))
        .collect()
}

/// A value that opens, with every field it carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Valid {
    description: String,
    secrets: Vec<String>,
    cookie_name: String,
    /// Hex of the context bytes the value is bound to; absent = unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    algorithm: String,
    nonce: String,
    session_id: String,
    created_at: u64,
    absolute_deadline: u64,
    idle_deadline: u64,
    payload: String,
    now: u64,
    value: String,
}

/// A value that fails to open under the listed conditions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Invalid {
    description: String,
    secrets: Vec<String>,
    cookie_name: String,
    /// Hex of the context bytes the value is opened with; absent = opened
    /// unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    now: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reject_created_before: Option<u64>,
    value: String,
    error: String,
}

/// The context bytes of a vector's `context` field, if it has one.
fn context_bytes(context: Option<&String>) -> Option<Vec<u8>> {
    context.map(|hex_text| hex::decode(hex_text).expect("hex context"))
}

/// The realistic payload of one valid vector, as an application would
/// declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Account {
    user_id: u64,
    name: String,
    roles: Vec<String>,
}

fn account() -> Account {
    Account {
        user_id: 48_151_623,
        name: "Ada Lovelace".into(),
        roles: vec!["admin".into(), "editor".into()],
    }
}

/// Every error code of a cookie that cannot be opened.
const OPEN_ERROR_CODES: [&str; 11] = [
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
    "deserialize",
];

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("vectors/v1.json")).expect("v1.json parses")
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

fn hex_array<const N: usize>(text: &str) -> [u8; N] {
    hex::decode(text)
        .expect("hex")
        .try_into()
        .unwrap_or_else(|v: Vec<u8>| panic!("expected {N} bytes, got {}", v.len()))
}

/// The session a valid vector describes, and the position of the secret it
/// was sealed under (found by the key id in its value).
fn expected_session(v: &Valid) -> (reference::Session, usize) {
    let token = reference::decode(&v.value).expect("valid vectors decode");
    let key_id: [u8; 4] = token[2..6].try_into().expect("4 bytes");
    let index = v
        .secrets
        .iter()
        .position(|s| reference::derive(s).id == key_id)
        .unwrap_or_else(|| panic!("{}: no secret has the key id of the value", v.description));
    let session = reference::Session {
        algorithm: reference::algorithm_id(&v.algorithm),
        key_id,
        nonce: hex_array(&v.nonce),
        created_at: v.created_at,
        absolute_deadline: v.absolute_deadline,
        idle_deadline: v.idle_deadline,
        session_id: hex_array(&v.session_id),
        payload: hex::decode(&v.payload).expect("hex"),
    };
    (session, index)
}

fn codec(secrets: &[String], cookie_name: &str) -> Codec {
    Codec::builder(Keyring::new(secrets).expect("valid secrets"))
        .cookie_name(cookie_name)
        .build()
        .expect("valid settings")
}

/// What opening a valid vector tells, whatever the payload's type.
#[derive(Debug, PartialEq, Eq)]
struct Fields {
    payload: Vec<u8>,
    session_id: [u8; 16],
    created_at: SystemTime,
    absolute_deadline: SystemTime,
    idle_deadline: Option<SystemTime>,
    old_secret: bool,
    algorithm: String,
    key_id: [u8; 4],
}

impl Fields {
    /// The fields the vector lists.
    fn expected(v: &Valid) -> Self {
        let (session, index) = expected_session(v);
        Self {
            payload: session.payload,
            session_id: session.session_id,
            created_at: at(v.created_at),
            absolute_deadline: at(v.absolute_deadline),
            idle_deadline: (v.idle_deadline != 0).then(|| at(v.idle_deadline)),
            old_secret: index != 0,
            algorithm: v.algorithm.clone(),
            key_id: session.key_id,
        }
    }

    /// The fields the crate reports, with the payload as given.
    fn opened<T>(opened: &Opened<T>, payload: Vec<u8>) -> Self {
        Self {
            payload,
            session_id: opened.id().to_bytes(),
            created_at: opened.created_at(),
            absolute_deadline: opened.absolute_deadline(),
            idle_deadline: opened.idle_deadline(),
            old_secret: opened.sealed_with_old_secret(),
            algorithm: opened.algorithm().name().to_string(),
            key_id: opened.key_id().to_bytes(),
        }
    }
}

#[test]
fn reference_reproduces_every_valid_value() {
    for v in vectors().valid {
        let (session, index) = expected_session(&v);
        let context = context_bytes(v.context.as_ref());
        let keys = reference::derive(&v.secrets[index]);
        assert_eq!(
            reference::seal(&keys, &v.cookie_name, context.as_deref(), &session),
            v.value,
            "{}",
            v.description
        );
        // And the reference opens it back at `now`.
        let opened = reference::open(
            &v.secrets,
            &v.cookie_name,
            context.as_deref(),
            &v.value,
            v.now,
            None,
        );
        assert_eq!(opened, Ok((session, index)), "{}", v.description);
    }
}

#[test]
fn reference_rejects_every_invalid_value_with_its_code() {
    for v in vectors().invalid {
        let context = context_bytes(v.context.as_ref());
        let result = reference::open(
            &v.secrets,
            &v.cookie_name,
            context.as_deref(),
            &v.value,
            v.now,
            v.reject_created_before,
        );
        // The vectors open as the unit type, whose encoding is empty.
        let code = match result {
            Ok((session, _)) if session.payload.is_empty() => "opened",
            Ok(_) => "deserialize",
            Err(code) => code,
        };
        assert_eq!(code, v.error, "{}", v.description);
    }
}

/// The crate opens every valid vector to the fields it lists. Unbound values
/// are opened as raw payload bytes; the crate opens bound values only as a
/// serde type, so every bound vector carries the postcard encoding of a
/// string, which is decoded and encoded again to compare the exact bytes.
#[test]
fn crate_opens_every_valid_vector() {
    for v in vectors().valid {
        let d = &v.description;
        let codec = codec(&v.secrets, &v.cookie_name);
        let fields = match context_bytes(v.context.as_ref()) {
            None => {
                let opened = codec
                    .open_bytes_at(&v.value, at(v.now))
                    .unwrap_or_else(|e| panic!("{d}: {e}"));
                Fields::opened(&opened, opened.value().to_vec())
            }
            Some(context) => {
                let opened = codec
                    .open_bound_at::<String>(&v.value, &Binding::new(&context), at(v.now))
                    .unwrap_or_else(|e| panic!("{d}: {e}"));
                let payload = postcard::to_allocvec(opened.value()).expect("serializes");
                Fields::opened(&opened, payload)
            }
        };
        assert_eq!(fields, Fields::expected(&v), "{d}");
    }
}

/// A bound value opens with its context only: not unbound, not with a
/// context one byte longer, shorter or different; and an unbound value does
/// not open with any context, including the empty one. Checked with both
/// implementations.
#[test]
fn bound_vectors_open_only_with_their_context() {
    let vectors = vectors();
    let mut bound = 0;
    for v in &vectors.valid {
        let d = &v.description;
        let codec = codec(&v.secrets, &v.cookie_name);
        let open_both = |context: Option<&[u8]>| {
            let reference =
                reference::open(&v.secrets, &v.cookie_name, context, &v.value, v.now, None)
                    .map(|_| ());
            let ours = match context {
                Some(c) => codec.open_bound_at::<serde::de::IgnoredAny>(
                    &v.value,
                    &Binding::new(c),
                    at(v.now),
                ),
                None => codec.open_at::<serde::de::IgnoredAny>(&v.value, at(v.now)),
            };
            (reference, ours.map(|_| ()).map_err(|e| e.code()))
        };
        let failed = (Err("authentication-failed"), Err("authentication-failed"));
        match context_bytes(v.context.as_ref()) {
            Some(context) => {
                bound += 1;
                assert_eq!(open_both(None), failed, "{d}: unbound");
                let mut longer = context.clone();
                longer.push(0);
                assert_eq!(open_both(Some(&longer)), failed, "{d}: longer");
                if let Some((last, shorter)) = context.split_last() {
                    assert_eq!(open_both(Some(shorter)), failed, "{d}: shorter");
                    let mut changed = context.clone();
                    *changed.last_mut().expect("not empty") = last ^ 1;
                    assert_eq!(open_both(Some(&changed)), failed, "{d}: changed");
                }
            }
            None => {
                for context in [&b""[..], b"\x00", b"203.0.113.7"] {
                    assert_eq!(open_both(Some(context)), failed, "{d}: {context:?}");
                }
            }
        }
    }
    assert!(bound >= 2, "only {bound} bound vectors");
}

#[test]
fn the_realistic_payload_opens_as_its_type() {
    let expected = account();
    let encoded = postcard::to_allocvec(&expected).expect("serializes");
    let vectors = vectors();
    let v = vectors
        .valid
        .iter()
        .find(|v| hex::decode(&v.payload).expect("hex") == encoded)
        .expect("a valid vector carries the Account payload");
    let opened = codec(&v.secrets, &v.cookie_name)
        .open_at::<Account>(&v.value, at(v.now))
        .expect("opens as Account");
    assert_eq!(opened.value(), &expected);
}

#[test]
fn crate_rejects_every_invalid_vector_with_its_code() {
    for v in vectors().invalid {
        let mut builder = Codec::builder(Keyring::new(&v.secrets).expect("valid secrets"))
            .cookie_name(&v.cookie_name);
        if let Some(secs) = v.reject_created_before {
            builder = builder.reject_created_before(at(secs));
        }
        let codec = builder.build().expect("valid settings");
        let result = match context_bytes(v.context.as_ref()) {
            Some(context) => codec.open_bound_at::<()>(&v.value, &Binding::new(context), at(v.now)),
            None => codec.open_at::<()>(&v.value, at(v.now)),
        };
        let err = result.map(|_| ()).expect_err(&v.description);
        assert_eq!(err.code(), v.error, "{}: {err}", v.description);
    }
}

#[test]
fn reference_opens_what_the_crate_seals() {
    let secrets = [
        "a current secret for the cross-check, 32+ bytes".to_string(),
        "an older secret for the cross-check, 32+ bytes!".to_string(),
    ];
    let cookie_name = "sid";
    let current_id = reference::derive(&secrets[0]).id;
    let payloads: [Vec<u8>; 4] = [
        Vec::new(),
        b"x".to_vec(),
        postcard::to_allocvec(&account()).expect("serializes"),
        (0..=255).collect(),
    ];
    let now = 1_777_777_777;
    for algorithm in Algorithm::ALL {
        for idle_timeout in [None, Some(1800)] {
            let mut builder = Codec::builder(Keyring::new(&secrets).expect("valid secrets"))
                .cookie_name(cookie_name)
                .algorithm(algorithm);
            if let Some(secs) = idle_timeout {
                builder = builder.idle_timeout(Duration::from_secs(secs));
            }
            let codec = builder.build().expect("valid settings");
            let envelope = codec.new_envelope_at(at(now)).expect("random id");
            // What the reference must find in a cookie the crate sealed at
            // `seal_time` with `payload`.
            let check = |session: &reference::Session,
                         index: usize,
                         payload: &[u8],
                         seal_time: u64,
                         context: &str| {
                assert_eq!(index, 0, "{context}");
                assert_eq!(session.key_id, current_id, "{context}");
                assert_eq!(session.algorithm, algorithm.wire_id(), "{context}");
                assert_eq!(
                    reference::algorithm_name(session.algorithm),
                    algorithm.name()
                );
                assert_eq!(session.payload, payload, "{context}");
                assert_eq!(session.session_id, envelope.id().to_bytes(), "{context}");
                assert_eq!(session.created_at, now, "{context}");
                assert_eq!(session.created_at, unix(envelope.created_at()), "{context}");
                let absolute = unix(envelope.absolute_deadline());
                assert_eq!(session.absolute_deadline, absolute, "{context}");
                let idle = idle_timeout.map_or(0, |t| (seal_time + t).min(absolute));
                assert_eq!(session.idle_deadline, idle, "{context}");
            };
            for payload in &payloads {
                // A fresh seal, and a later re-seal into the same session.
                for seal_time in [now, now + 100] {
                    let value = codec
                        .seal_bytes_with_at(payload, &envelope, at(seal_time))
                        .expect("seals");
                    let (session, index) =
                        reference::open(&secrets, cookie_name, None, &value, seal_time, None)
                            .unwrap_or_else(|e| panic!("{algorithm}: reference says {e}"));
                    let context = format!("{algorithm}, idle {idle_timeout:?}, at {seal_time}");
                    check(&session, index, payload, seal_time, &context);
                    assert_eq!(
                        reference::open(&secrets, cookie_name, Some(b""), &value, seal_time, None),
                        Err("authentication-failed"),
                        "{context}: an unbound cookie opened bound"
                    );
                }
            }
            // Bound seals: empty, short and long contexts (the digest has a
            // fixed length whatever the context's).
            let long_context: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
            for bound_to in [&b""[..], b"203.0.113.7", &long_context] {
                let binding = Binding::new(bound_to);
                let expected = postcard::to_allocvec(&account()).expect("serializes");
                for seal_time in [now, now + 100] {
                    let value = codec
                        .seal_bound_at(&account(), &envelope, &binding, at(seal_time))
                        .expect("seals");
                    let context = format!(
                        "{algorithm}, idle {idle_timeout:?}, at {seal_time}, bound to {} bytes",
                        bound_to.len()
                    );
                    let (session, index) = reference::open(
                        &secrets,
                        cookie_name,
                        Some(bound_to),
                        &value,
                        seal_time,
                        None,
                    )
                    .unwrap_or_else(|e| panic!("{context}: reference says {e}"));
                    check(&session, index, &expected, seal_time, &context);
                    for other in [None, Some(&b"203.0.113.8"[..]), Some(b"\x00")] {
                        assert_eq!(
                            reference::open(&secrets, cookie_name, other, &value, seal_time, None),
                            Err("authentication-failed"),
                            "{context}: opened with {other:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn the_vectors_cover_what_they_must() {
    let vectors = vectors();
    assert!(vectors.comment.contains("4096") && vectors.comment.contains("60"));
    assert!(vectors.comment.contains("SHA-256(context)"));

    let valid = &vectors.valid;
    assert!(valid.len() >= 6);
    let sessions: Vec<_> = valid.iter().map(expected_session).collect();
    for name in ["xaes-256-gcm", "xchacha20-poly1305"] {
        assert!(
            valid.iter().any(|v| v.algorithm == name),
            "no {name} vector"
        );
        assert!(
            valid
                .iter()
                .any(|v| v.algorithm == name && v.context.is_some()),
            "no bound {name} vector"
        );
        assert!(
            valid
                .iter()
                .any(|v| v.algorithm == name && v.context.is_none()),
            "no unbound {name} vector"
        );
    }
    let contexts: Vec<Vec<u8>> = valid
        .iter()
        .filter_map(|v| context_bytes(v.context.as_ref()))
        .collect();
    assert!(
        contexts.iter().any(Vec::is_empty),
        "no vector bound to the empty context"
    );
    assert!(
        contexts.iter().any(|c| std::str::from_utf8(c).is_err()),
        "no vector bound to a context that is not text"
    );
    assert!(
        sessions.iter().any(|(_, index)| *index != 0),
        "no vector sealed under a non-current secret"
    );
    assert!(
        valid.iter().any(|v| v.idle_deadline != 0),
        "no idle deadline"
    );
    assert!(
        sessions.iter().any(|(s, _)| s.payload.is_empty()),
        "no empty payload"
    );
    assert!(
        valid
            .iter()
            .any(|v| v.secrets.iter().any(|s| s.starts_with("base64:"))),
        "no base64: secret"
    );
    // Fixed but distinct nonces and session ids.
    for (i, (a, _)) in sessions.iter().enumerate() {
        assert_ne!(a.nonce, [0; 24]);
        assert_ne!(a.session_id, [0; 16]);
        for (b, _) in &sessions[i + 1..] {
            assert_ne!(a.nonce, b.nonce, "nonce reused");
            assert_ne!(a.session_id, b.session_id, "session id reused");
        }
    }

    for code in OPEN_ERROR_CODES {
        assert!(
            vectors.invalid.iter().any(|v| v.error == code),
            "no invalid vector for {code}"
        );
    }
    // Every way a value can be malformed has a vector: encoding, length and
    // envelope. The envelope one is the only malformed value that decrypts.
    let malformed: Vec<_> = vectors
        .invalid
        .iter()
        .filter(|v| v.error == "malformed")
        .collect();
    assert!(malformed.iter().any(|v| v.value.contains('=')));
    assert!(malformed.iter().any(|v| v.value.contains(['+', '/'])));
    assert!(
        malformed
            .iter()
            .any(|v| v.value.contains(char::is_whitespace))
    );
    assert!(
        malformed
            .iter()
            .any(|v| reference::decode(&v.value).is_some_and(|t| t.len() == 45))
    );
    assert!(malformed.iter().any(|v| {
        reference::decode(&v.value).is_some_and(|t| t.len() >= reference::MIN_TOKEN_LEN)
    }));
    let auth_failed: Vec<_> = vectors
        .invalid
        .iter()
        .filter(|v| v.error == "authentication-failed")
        .collect();
    assert!(auth_failed.len() >= 3);
    // Binding mismatches, each a value that is valid under its own context:
    // a bound value opened with another context and opened unbound, and an
    // unbound value opened with a context.
    let valid_context = |value: &str| {
        valid
            .iter()
            .find(|v| v.value == value)
            .map(|v| context_bytes(v.context.as_ref()))
    };
    assert!(
        auth_failed.iter().any(|v| {
            valid_context(&v.value).is_some_and(|sealed| {
                sealed.is_some()
                    && context_bytes(v.context.as_ref()).is_some()
                    && sealed != context_bytes(v.context.as_ref())
            })
        }),
        "no bound value opened with another context"
    );
    assert!(
        auth_failed.iter().any(|v| {
            v.context.is_none() && valid_context(&v.value).is_some_and(|sealed| sealed.is_some())
        }),
        "no bound value opened unbound"
    );
    assert!(
        auth_failed.iter().any(|v| {
            v.context.is_some() && valid_context(&v.value).is_some_and(|sealed| sealed.is_none())
        }),
        "no unbound value opened with a context"
    );
}

// ---------------------------------------------------------------------------
// Chunked cookies
// ---------------------------------------------------------------------------

/// A chunking configuration for a chunked vector's settings.
fn chunk_config(
    secrets: &[String],
    cookie_name: &str,
    max_cookie_size: usize,
    max_chunks: usize,
    header_budget: usize,
) -> Result<SessionConfig, sealed_session::Error> {
    let codec = Codec::builder(Keyring::new(secrets).expect("valid secrets"))
        .cookie_name(cookie_name)
        .max_cookie_size(max_cookie_size)
        .build()
        .expect("valid settings");
    SessionConfig::builder(codec)
        .max_chunks(max_chunks)
        .header_budget(header_budget)
        .build()
}

/// Request headers with one `Cookie` header holding `pairs` in order.
fn cookie_header(pairs: &[(String, String)]) -> HeaderMap {
    let line = pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::try_from(line).expect("valid header"));
    headers
}

/// The reference seals every chunked vector's value from its fields, and
/// cuts it into exactly the listed chunks; the listed chunks join back to
/// the value and open to the vector's session.
#[test]
fn reference_reproduces_every_chunked_vector() {
    for c in vectors().chunked {
        let d = &c.description;
        let v = c.as_valid();
        let (session, index) = expected_session(&v);
        let context = context_bytes(c.context.as_ref());
        let keys = reference::derive(&c.secrets[index]);
        let value = reference::seal(&keys, &c.cookie_name, context.as_deref(), &session);
        assert_eq!(value, c.value, "{d}");
        assert!(
            c.cookie_name.len() + c.value.len() > c.max_cookie_size,
            "{d}: the value would fit in one cookie"
        );
        assert_eq!(
            reference::split(&c.cookie_name, &c.value, c.max_cookie_size),
            c.pairs(),
            "{d}"
        );
        for (k, chunk) in c.chunks.iter().enumerate() {
            assert_eq!(chunk.name, format!("{}.{k}", c.cookie_name), "{d}");
            assert!(
                chunk.name.len() + chunk.value.len() <= c.max_cookie_size,
                "{d}: {} is too large",
                chunk.name
            );
            assert!(!chunk.value.is_empty(), "{d}: an empty chunk");
        }
        let joined: String = c.chunks.iter().map(|chunk| chunk.value.as_str()).collect();
        assert_eq!(joined, c.value, "{d}");
        // Read back in any order, with exactly as many chunks and bytes as
        // they need.
        let mut reversed = c.pairs();
        reversed.reverse();
        for cookies in [c.pairs(), reversed] {
            let joined = reference::join(
                &c.cookie_name,
                &cookies,
                c.max_cookie_size,
                c.chunks.len(),
                c.total(),
            );
            assert_eq!(joined, Some(Ok(c.value.clone())), "{d}");
        }
        let opened = reference::open_joined(
            &c.secrets,
            &c.cookie_name,
            context.as_deref(),
            &c.value,
            c.now,
            None,
        );
        assert_eq!(opened, Ok((session, index)), "{d}");
    }
}

/// The crate reads every chunked vector's chunk cookies, in index order
/// and reversed, to the vector's session, with `max_chunks` and the header
/// budget at exactly what the chunks need; one chunk fewer allowed or one
/// byte less of budget refuses them. The joined value is also an ordinary
/// single-cookie value for a codec with room for it.
#[test]
fn crate_opens_every_chunked_vector() {
    let vectors = vectors();
    for c in &vectors.chunked {
        let d = &c.description;
        let n = c.chunks.len();
        let total = c.total();
        let binding = context_bytes(c.context.as_ref()).map(Binding::new);
        let config = chunk_config(&c.secrets, &c.cookie_name, c.max_cookie_size, n, total)
            .unwrap_or_else(|e| panic!("{d}: {e}"));
        let expected = Fields::expected(&c.as_valid());
        let mut reversed = c.pairs();
        reversed.reverse();
        for cookies in [c.pairs(), reversed] {
            let session = config.load_at::<String>(&cookie_header(&cookies), binding, at(c.now));
            assert_eq!(session.rejection(), None, "{d}");
            let value = session.get().unwrap_or_else(|| panic!("{d}: no session"));
            let envelope = session.envelope().expect("an envelope");
            let fields = Fields {
                payload: postcard::to_allocvec(&value).expect("serializes"),
                session_id: envelope.id().to_bytes(),
                created_at: envelope.created_at(),
                absolute_deadline: envelope.absolute_deadline(),
                idle_deadline: envelope.idle_deadline(),
                ..Fields::expected(&c.as_valid())
            };
            assert_eq!(fields, expected, "{d}");
            // Nothing to rewrite, unless sealed with an algorithm other
            // than the codec's (the default, XAES-256-GCM).
            assert_eq!(
                session.needs_write_at(at(c.now)),
                c.algorithm != Algorithm::default().name(),
                "{d}"
            );
        }

        let headers = cookie_header(&c.pairs());
        if n > 2 {
            let fewer = chunk_config(&c.secrets, &c.cookie_name, c.max_cookie_size, n - 1, total)
                .expect("valid settings");
            let session = fewer.load_at::<String>(&headers, binding, at(c.now));
            assert_eq!(
                session.rejection().map(|e| e.code()),
                Some("malformed"),
                "{d}"
            );
        }
        let tight = chunk_config(&c.secrets, &c.cookie_name, c.max_cookie_size, n, total - 1)
            .expect("valid settings");
        let session = tight.load_at::<String>(&headers, binding, at(c.now));
        assert_eq!(
            session.rejection(),
            Some(sealed_session::Error::TooLarge {
                size: total,
                limit: total - 1
            }),
            "{d}"
        );

        // The joined text is the single-cookie value of the same session.
        let wide = codec(&c.secrets, &c.cookie_name);
        let opened = match &binding {
            Some(binding) => wide.open_bound_at::<String>(&c.value, binding, at(c.now)),
            None => wide.open_at::<String>(&c.value, at(c.now)),
        }
        .unwrap_or_else(|e| panic!("{d}: {e}"));
        let payload = postcard::to_allocvec(opened.value()).expect("serializes");
        assert_eq!(Fields::opened(&opened, payload), expected, "{d}");
    }
}

#[test]
fn reference_rejects_every_invalid_chunk_set_with_its_code() {
    for v in vectors().chunked_invalid {
        let d = &v.description;
        let context = context_bytes(v.context.as_ref());
        let code = match reference::join(
            &v.cookie_name,
            &pairs(&v.chunks),
            v.max_cookie_size,
            v.max_chunks,
            v.header_budget,
        ) {
            None => "no chunks",
            Some(Err(code)) => code,
            Some(Ok(joined)) => match reference::open_joined(
                &v.secrets,
                &v.cookie_name,
                context.as_deref(),
                &joined,
                v.now,
                None,
            ) {
                Ok(_) => "opened",
                Err(code) => code,
            },
        };
        assert_eq!(code, v.error, "{d}");
    }
}

#[test]
fn crate_rejects_every_invalid_chunk_set_with_its_code() {
    for v in vectors().chunked_invalid {
        let d = &v.description;
        let config = chunk_config(
            &v.secrets,
            &v.cookie_name,
            v.max_cookie_size,
            v.max_chunks,
            v.header_budget,
        )
        .unwrap_or_else(|e| panic!("{d}: {e}"));
        let binding = context_bytes(v.context.as_ref()).map(Binding::new);
        let session =
            config.load_at::<String>(&cookie_header(&pairs(&v.chunks)), binding, at(v.now));
        assert!(session.is_empty(), "{d}");
        assert_eq!(
            session.rejection().map(|e| e.code()),
            Some(v.error.as_str()),
            "{d}"
        );
    }
}

#[test]
fn the_chunked_vectors_cover_what_they_must() {
    let vectors = vectors();
    assert!(vectors.comment.contains("`chunked`"));
    assert!(vectors.comment.contains("`chunked_invalid`"));
    let chunked = &vectors.chunked;
    assert!(chunked.len() >= 2);
    let counts: Vec<usize> = chunked.iter().map(|c| c.chunks.len()).collect();
    assert!(counts.contains(&2), "no two-chunk vector: {counts:?}");
    assert!(counts.contains(&3), "no three-chunk vector");
    assert!(counts.iter().any(|&n| n > 10), "no two-digit chunk index");
    assert!(
        chunked.iter().any(|c| c.context.is_some()),
        "no bound chunked vector"
    );
    assert!(
        chunked.iter().any(|c| c.context.is_none()),
        "no unbound chunked vector"
    );
    for name in ["xaes-256-gcm", "xchacha20-poly1305"] {
        assert!(
            chunked.iter().any(|c| c.algorithm == name),
            "no chunked {name} vector"
        );
    }
    // One vector whose last chunk is full (no empty chunk after it), one
    // whose last chunk is partial.
    let last_full = |c: &Chunked| {
        let last = c.chunks.last().expect("chunks");
        last.name.len() + last.value.len() == c.max_cookie_size
    };
    assert!(chunked.iter().any(last_full));
    assert!(chunked.iter().any(|c| !last_full(c)));
    // Fixed nonces and session ids, distinct from every other vector's.
    let mut nonces: Vec<&str> = vectors.valid.iter().map(|v| v.nonce.as_str()).collect();
    nonces.extend(chunked.iter().map(|c| c.nonce.as_str()));
    let mut ids: Vec<&str> = vectors
        .valid
        .iter()
        .map(|v| v.session_id.as_str())
        .collect();
    ids.extend(chunked.iter().map(|c| c.session_id.as_str()));
    for list in [nonces, ids] {
        let distinct: std::collections::BTreeSet<&str> = list.iter().copied().collect();
        assert_eq!(distinct.len(), list.len(), "a nonce or session id reused");
    }

    let invalid = &vectors.chunked_invalid;
    for code in [
        "malformed",
        "too-large",
        "authentication-failed",
        "unsupported-version",
    ] {
        assert!(
            invalid.iter().any(|v| v.error == code),
            "no invalid chunk set for {code}"
        );
    }
    // Each invalid set is made of pieces of the valid chunked vectors' text
    // (and one filler chunk, "AAAA").
    for v in invalid {
        for chunk in &v.chunks {
            assert!(
                chunk.value == "AAAA" || chunked.iter().any(|c| c.value.contains(&chunk.value)),
                "{}",
                v.description
            );
        }
    }
}
