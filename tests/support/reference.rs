//! An independent implementation of sealed-session wire format v1, written
//! from the format section of the README alone (not from the crate's
//! source), calling the hash, KDF, AEAD and base64 crates directly. It is
//! how `tests/vectors/v1.json` is computed (`tests/support/vectors.rs`), and
//! it is meant to be read by anyone implementing the format in another
//! language.
//!
//! ```text
//! PRK       = HKDF-SHA256-Extract(salt = "sealed-session v1", IKM = secret bytes)
//! info(x)   = "sealed-session v1 " | x | 0x00 | app label
//! key id    = HKDF-Expand(PRK, info("key id"), 4)
//! K_xaes    = HKDF-Expand(PRK, info("key xaes256gcm"), 32)
//! K_xcha    = HKDF-Expand(PRK, info("key xchacha20poly1305"), 32)
//! schema id = SHA-256("sealed-session v1 schema" | 0x00 | schema label)[0..4]
//!
//! token     = 0x01 | algorithm | key id (4) | nonce (24) | ciphertext | tag (16)
//! AD        = token[0..6] | cookie name (UTF-8)
//!             [ | 0x00 | SHA-256(context) ]   only for a bound session
//! plaintext = varint(created_at) | varint(lifetime) | varint(renewed)
//!           | schema id (4) | session id (16) | payload
//! value     = base64url(token), no padding
//! ```
//!
//! Times are Unix seconds: `absolute_deadline = created_at + lifetime`,
//! `renewed_at = created_at + renewed` (the time of the last seal).
//!
//! Test code: failures of the caller's own inputs (an invalid label, a
//! secret that is not base64) panic; failures of a cookie are the error
//! codes of the format (`"malformed"`, `"expired-idle"`, ...).
//!
//! Included with `#[path]` by several test crates and the fuzz package,
//! each of which uses only part of it.
#![allow(dead_code, reason = "each includer uses a different part of it")]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_NO_PAD};
use chacha20poly1305::XChaCha20Poly1305;
use hkdf::Hkdf;
use sha2::{Digest as _, Sha256};
use xaes_256_gcm::Xaes256Gcm;
use xaes_256_gcm::aead::{Aead, KeyInit, Payload};

pub const VERSION: u8 = 0x01;
pub const XAES_256_GCM: u8 = 0x01;
pub const XCHACHA20_POLY1305: u8 = 0x02;
/// Both algorithms: what an opener accepts by default.
pub const ALGORITHMS: [u8; 2] = [XAES_256_GCM, XCHACHA20_POLY1305];
/// The maximum cookie size (name plus value) the vectors assume.
pub const MAX_COOKIE_SIZE: usize = 4096;
/// The clock-skew leeway, in seconds.
pub const LEEWAY: u64 = 60;
/// 9999-12-31T23:59:59Z: no time in an envelope may be later.
pub const MAX_TIME: u64 = 253_402_300_799;
/// Header (6) + nonce (24) + tag (16): the shortest possible token.
pub const MIN_TOKEN_LEN: usize = 46;
/// The longest app or schema label, in bytes.
pub const MAX_LABEL_LEN: usize = 64;

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

/// An app or schema label: 0 to 64 bytes of visible ASCII (0x21..=0x7E).
pub fn valid_label(label: &str) -> bool {
    label.len() <= MAX_LABEL_LEN && label.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Key material of a secret as configured: the UTF-8 bytes of the text,
/// or the standard-base64-decoded bytes after a `base64:` prefix (padding
/// optional).
pub fn secret_bytes(secret: &str) -> Vec<u8> {
    match secret.strip_prefix("base64:") {
        Some(encoded) => STANDARD_PAD_INDIFFERENT
            .decode(encoded)
            .expect("standard base64"),
        None => secret.as_bytes().to_vec(),
    }
}

/// What one secret derives under one app label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub id: [u8; 4],
    pub xaes: [u8; 32],
    pub xchacha: [u8; 32],
}

/// The HKDF info string `"sealed-session v1 " | x | 0x00 | app label`.
pub fn info(x: &str, app_label: &str) -> Vec<u8> {
    let mut info = format!("sealed-session v1 {x}").into_bytes();
    info.push(0x00);
    info.extend_from_slice(app_label.as_bytes());
    info
}

pub fn derive(secret: &str, app_label: &str) -> Keys {
    assert!(valid_label(app_label), "invalid app label {app_label:?}");
    let hkdf = Hkdf::<Sha256>::new(Some(b"sealed-session v1"), &secret_bytes(secret));
    let mut keys = Keys {
        id: [0; 4],
        xaes: [0; 32],
        xchacha: [0; 32],
    };
    let expand = |x: &str, out: &mut [u8]| {
        hkdf.expand(&info(x, app_label), out)
            .expect("a short output");
    };
    expand("key id", &mut keys.id);
    expand("key xaes256gcm", &mut keys.xaes);
    expand("key xchacha20poly1305", &mut keys.xchacha);
    keys
}

/// The first 4 bytes of SHA-256("sealed-session v1 schema" | 0x00 | label).
pub fn schema_id(schema_label: &str) -> [u8; 4] {
    assert!(
        valid_label(schema_label),
        "invalid schema label {schema_label:?}"
    );
    let mut input = b"sealed-session v1 schema\x00".to_vec();
    input.extend_from_slice(schema_label.as_bytes());
    let digest = Sha256::digest(&input);
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Unsigned LEB128, shortest form (as postcard writes a `u64`).
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

/// Reads a shortest-form unsigned LEB128 of at most 64 bits (at most 10
/// bytes, the tenth at most 0x01), and the bytes after it.
pub fn read_varint(input: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &byte) in input.iter().enumerate().take(10) {
        if i == 9 && byte > 0x01 {
            return None; // more than 64 bits, or more than 10 bytes
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if byte == 0 && i > 0 {
                return None; // not the shortest form
            }
            return Some((value, &input[i + 1..]));
        }
    }
    None // ends inside the varint
}

/// The rules of a well-formed envelope.
pub fn well_formed(created_at: u64, lifetime: u64, renewed: u64) -> bool {
    created_at <= MAX_TIME
        && created_at
            .checked_add(lifetime)
            .is_some_and(|deadline| deadline <= MAX_TIME)
        && renewed <= lifetime
}

/// The plaintext of a token from its raw fields; no rule is checked, so
/// that broken envelopes can be sealed.
pub fn plaintext(
    created_at: u64,
    lifetime: u64,
    renewed: u64,
    schema_id: &[u8; 4],
    session_id: &[u8; 16],
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    write_varint(&mut out, created_at);
    write_varint(&mut out, lifetime);
    write_varint(&mut out, renewed);
    out.extend_from_slice(schema_id);
    out.extend_from_slice(session_id);
    out.extend_from_slice(payload);
    out
}

/// What a sealer writes for a session created at `created_at` with
/// `lifetime`, sealed at `now` by a sealer with the maximum lifetime
/// `max_lifetime`: `(absolute_deadline, renewed_at)`. The lifetime is capped
/// to `max_lifetime` and the deadline clamped to [`MAX_TIME`]; `renewed_at`
/// is `max(now, created_at)`. Past the deadline, the result is not
/// well-formed (renewed_at > absolute_deadline).
pub fn envelope_times(
    created_at: u64,
    lifetime: u64,
    max_lifetime: Option<u64>,
    now: u64,
) -> (u64, u64) {
    let lifetime = max_lifetime.map_or(lifetime, |max| lifetime.min(max));
    let absolute_deadline = created_at.saturating_add(lifetime).min(MAX_TIME);
    (absolute_deadline, now.max(created_at))
}

/// Everything a token carries besides the cookie name (and context) it is
/// bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub algorithm: u8,
    pub key_id: [u8; 4],
    pub nonce: [u8; 24],
    pub created_at: u64,
    /// `created_at + lifetime`, as sealed (an opener's max lifetime may
    /// end the session earlier).
    pub absolute_deadline: u64,
    /// `created_at + renewed`: the time of the last seal.
    pub renewed_at: u64,
    pub schema_id: [u8; 4],
    pub session_id: [u8; 16],
    pub payload: Vec<u8>,
}

pub fn header(algorithm: u8, key_id: [u8; 4]) -> [u8; 6] {
    let [k0, k1, k2, k3] = key_id;
    [VERSION, algorithm, k0, k1, k2, k3]
}

/// The header and the cookie name; for a session bound to a context, then
/// a zero byte and the SHA-256 digest of the context bytes. The zero byte
/// cannot occur in a cookie name, and the digest has a fixed length, so no
/// two (name, context) pairs give the same associated data, and a bound
/// session (even to an empty context) never matches an unbound one.
pub fn associated_data(header: &[u8], cookie_name: &str, context: Option<&[u8]>) -> Vec<u8> {
    let mut ad = header.to_vec();
    ad.extend_from_slice(cookie_name.as_bytes());
    if let Some(context) = context {
        ad.push(0x00);
        ad.extend_from_slice(&Sha256::digest(context));
    }
    ad
}

/// Encrypts any plaintext into a token, bound to `context` if there is one;
/// no rule about its content is checked, so that broken envelopes can be
/// sealed for the vectors.
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
    // Both AEADs return the ciphertext followed by the 16-byte tag.
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

/// Decrypts a token of at least [`MIN_TOKEN_LEN`] bytes whose algorithm
/// byte is known, or `None` when the AEAD check fails.
pub fn open_token(
    keys: &Keys,
    cookie_name: &str,
    context: Option<&[u8]>,
    token: &[u8],
) -> Option<Vec<u8>> {
    let nonce: [u8; 24] = token[6..30].try_into().expect("24 bytes");
    let ad = associated_data(&token[..6], cookie_name, context);
    let payload = Payload {
        msg: &token[30..],
        aad: &ad,
    };
    match token[1] {
        XAES_256_GCM => Xaes256Gcm::new_from_slice(&keys.xaes)
            .expect("32-byte key")
            .decrypt(&nonce.into(), payload),
        XCHACHA20_POLY1305 => XChaCha20Poly1305::new_from_slice(&keys.xchacha)
            .expect("32-byte key")
            .decrypt(&nonce.into(), payload),
        other => panic!("cannot open algorithm byte {other:#04x}"),
    }
    .ok()
}

/// Seals a well-formed session under `keys` (whose id the session names),
/// bound to `context` if there is one.
pub fn seal(keys: &Keys, cookie_name: &str, context: Option<&[u8]>, session: &Session) -> String {
    assert_eq!(session.key_id, keys.id, "the session names another key");
    let lifetime = session
        .absolute_deadline
        .checked_sub(session.created_at)
        .expect("absolute_deadline >= created_at");
    let renewed = session
        .renewed_at
        .checked_sub(session.created_at)
        .expect("renewed_at >= created_at");
    assert!(
        well_formed(session.created_at, lifetime, renewed),
        "not a well-formed envelope: {session:?}"
    );
    let plaintext = plaintext(
        session.created_at,
        lifetime,
        renewed,
        &session.schema_id,
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

/// Strict base64url without padding: no `=`, no `+` or `/`, no whitespace,
/// unused trailing bits zero.
pub fn decode(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value).ok()
}

/// The settings a value is opened with.
#[derive(Debug, Clone)]
pub struct Opener {
    /// Newest first; any of them opens.
    pub secrets: Vec<String>,
    pub app_label: String,
    pub schema: String,
    pub cookie_name: String,
    /// `Some` opens a session bound to those bytes, `None` an unbound one.
    pub context: Option<Vec<u8>>,
    /// Unix seconds.
    pub now: u64,
    pub idle_timeout: Option<u64>,
    pub max_lifetime: Option<u64>,
    /// The cut-off: sessions created before it are revoked.
    pub reject_created_before: Option<u64>,
    /// The accepted algorithm bytes.
    pub algorithms: Vec<u8>,
    pub max_cookie_size: usize,
}

impl Opener {
    /// The default settings: empty labels, unbound, no idle timeout, no
    /// max lifetime, no cut-off, both algorithms, 4096-byte cookies.
    pub fn new(secrets: &[impl AsRef<str>], cookie_name: &str, now: u64) -> Self {
        Self {
            secrets: secrets.iter().map(|s| s.as_ref().to_string()).collect(),
            app_label: String::new(),
            schema: String::new(),
            cookie_name: cookie_name.to_string(),
            context: None,
            now,
            idle_timeout: None,
            max_lifetime: None,
            reject_created_before: None,
            algorithms: ALGORITHMS.to_vec(),
            max_cookie_size: MAX_COOKIE_SIZE,
        }
    }

    /// Opens a cookie value with every check, in the order of the format,
    /// and returns the session with the position of the secret that opened
    /// it (0 = current), or the error code. The payload is returned as
    /// bytes: step 8 (decoding it) is the caller's, see [`expect_unit`].
    pub fn open(&self, value: &str) -> Result<(Session, usize), &'static str> {
        // 1. Size, before any decoding.
        if self.cookie_name.len() + value.len() > self.max_cookie_size {
            return Err("too-large");
        }
        self.open_joined(value)
    }

    /// [`Opener::open`] without the single-cookie size check: for the
    /// joined text of chunk cookies, whose sizes [`join`] checked.
    pub fn open_joined(&self, value: &str) -> Result<(Session, usize), &'static str> {
        // 2. Encoding.
        let token = decode(value).ok_or("malformed")?;
        // 3. Header.
        if token.len() < MIN_TOKEN_LEN {
            return Err("malformed");
        }
        if token[0] != VERSION {
            return Err("unsupported-version");
        }
        let algorithm = token[1];
        if !ALGORITHMS.contains(&algorithm) {
            return Err("unknown-algorithm");
        }
        if !self.algorithms.contains(&algorithm) {
            return Err("disabled-algorithm");
        }
        let key_id: [u8; 4] = token[2..6].try_into().expect("4 bytes");
        let (index, keys) = self
            .secrets
            .iter()
            .map(|secret| derive(secret, &self.app_label))
            .enumerate()
            .find(|(_, keys)| keys.id == key_id)
            .ok_or("unknown-key")?;
        // 4. Authentication.
        let plaintext = open_token(&keys, &self.cookie_name, self.context.as_deref(), &token)
            .ok_or("authentication-failed")?;
        // 5. Envelope.
        let (created_at, rest) = read_varint(&plaintext).ok_or("malformed")?;
        let (lifetime, rest) = read_varint(rest).ok_or("malformed")?;
        let (renewed, rest) = read_varint(rest).ok_or("malformed")?;
        if rest.len() < 4 + 16 || !well_formed(created_at, lifetime, renewed) {
            return Err("malformed");
        }
        let (schema, rest) = rest.split_at(4);
        let (session_id, payload) = rest.split_at(16);
        let renewed_at = created_at + renewed;
        // 6. Clock rules.
        let capped = self.max_lifetime.map_or(lifetime, |max| lifetime.min(max));
        if self.now >= created_at + capped {
            return Err("expired-absolute");
        }
        if self
            .idle_timeout
            .is_some_and(|idle| self.now >= renewed_at.saturating_add(idle))
        {
            return Err("expired-idle");
        }
        if renewed_at > self.now.saturating_add(LEEWAY) {
            return Err("not-yet-valid");
        }
        if self
            .reject_created_before
            .is_some_and(|cut_off| created_at < cut_off)
        {
            return Err("revoked");
        }
        // 7. Schema.
        if schema != schema_id(&self.schema) {
            return Err("schema-mismatch");
        }
        let session = Session {
            algorithm,
            key_id,
            nonce: token[6..30].try_into().expect("24 bytes"),
            created_at,
            absolute_deadline: created_at + lifetime,
            renewed_at,
            schema_id: schema.try_into().expect("4 bytes"),
            session_id: session_id.try_into().expect("16 bytes"),
            payload: payload.to_vec(),
        };
        Ok((session, index))
    }
}

/// Step 8 for the unit type `()`, whose postcard encoding is empty: a
/// session with a non-empty payload fails with `deserialize`.
pub fn expect_unit(
    opened: Result<(Session, usize), &'static str>,
) -> Result<(Session, usize), &'static str> {
    match opened {
        Ok((session, _)) if !session.payload.is_empty() => Err("deserialize"),
        other => other,
    }
}

/// The chunk cookies of a value under `cookie_name`: chunk `k` is named
/// `cookie_name.k` (decimal, no leading zeros) and takes the next
/// `max_cookie_size - len(name)` characters, the last chunk the rest.
pub fn split(cookie_name: &str, value: &str, max_cookie_size: usize) -> Vec<(String, String)> {
    let mut chunks = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let name = format!("{cookie_name}.{}", chunks.len());
        assert!(name.len() < max_cookie_size, "no room for chunk {name}");
        let take = (max_cookie_size - name.len()).min(rest.len());
        let (chunk, tail) = rest.split_at(take);
        chunks.push((name, chunk.to_string()));
        rest = tail;
    }
    chunks
}

/// The index of a chunk name of `cookie_name`: `cookie_name.` and a
/// decimal index without sign or leading zero, below `max_chunks`. Any
/// other name is another cookie.
pub fn chunk_index(cookie_name: &str, name: &str, max_chunks: usize) -> Option<usize> {
    let digits = name.strip_prefix(cookie_name)?.strip_prefix('.')?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    // Too many digits for a usize is far beyond any max_chunks too.
    digits.parse().ok().filter(|&index| index < max_chunks)
}

/// Reads the chunk cookies of `cookie_name` out of a request's cookies (in
/// request order) and joins them, or gives the error code; `None` when
/// there are none. The set must be exactly the indexes `0..n`, each once,
/// none empty (`malformed` otherwise), each chunk's name + value at most
/// `max_cookie_size`, and all of them together at most `header_budget`
/// (`too-large` otherwise). Since indexes of `max_chunks` or more are
/// other cookies, `n <= max_chunks` always holds.
pub fn join(
    cookie_name: &str,
    cookies: &[(String, String)],
    max_cookie_size: usize,
    max_chunks: usize,
    header_budget: usize,
) -> Option<Result<String, &'static str>> {
    let mut chunks: Vec<(usize, &str, &str)> = cookies
        .iter()
        .filter_map(|(name, value)| {
            let index = chunk_index(cookie_name, name, max_chunks)?;
            Some((index, name.as_str(), value.as_str()))
        })
        .collect();
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|&(index, _, _)| index);
    let exact = chunks
        .iter()
        .enumerate()
        .all(|(i, &(index, _, _))| index == i);
    if !exact || chunks.iter().any(|&(_, _, value)| value.is_empty()) {
        return Some(Err("malformed"));
    }
    let size = |&(_, name, value): &(usize, &str, &str)| name.len() + value.len();
    if chunks.iter().any(|chunk| size(chunk) > max_cookie_size)
        || chunks.iter().map(size).sum::<usize>() > header_budget
    {
        return Some(Err("too-large"));
    }
    Some(Ok(chunks.iter().map(|&(_, _, value)| value).collect()))
}
