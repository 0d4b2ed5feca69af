//! Shared fixtures and reference code for the fuzz targets in `fuzz_targets/`.
//!
//! Everything here is fixed: one time, one keyring of two secrets, a few
//! codecs and configurations, so that a crash reproduces from its input file
//! alone. Besides the fixtures it holds an independent reading of the v1
//! format, written from the specification in the library's module docs
//! (`src/wire.rs`, `src/envelope.rs`, `src/keyring.rs`) and not from its code:
//! a strict base64url codec, the rejection a non-genuine cookie value must get,
//! the envelope rules, and a sealer that produces authentic tokens around any
//! plaintext. The targets compare the library against it.

#![forbid(unsafe_code)]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chacha20poly1305::XChaCha20Poly1305;
use hkdf::Hkdf;
use http::HeaderMap;
use http::header::SET_COOKIE;
use sealed_session::{
    Algorithm, Binding, Codec, Deadline, Envelope, Error, Keyring, Malformed, SameSite,
    SessionConfig,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use xaes_256_gcm::Xaes256Gcm;
use xaes_256_gcm::aead::{Aead as _, KeyInit as _, Payload};

/// The fixed "now" of every target: 2027-01-15T08:00:00Z.
pub const NOW_SECS: u64 = 1_800_000_000;
/// The idle timeout of [`Fixture::primary`].
pub const IDLE_SECS: u64 = 30 * 60;
/// The clock-skew leeway of every codec (the library's default).
pub const LEEWAY_SECS: u64 = 60;
/// [`Fixture::primary`] revokes sessions created before this instant.
pub const CUT_OFF_SECS: u64 = NOW_SECS - 30 * 24 * 60 * 60;
/// The format's largest time (the library's `MAX_TIME`, restated from the
/// spec so that a change to it shows up here).
pub const MAX_TIME: u64 = 253_402_300_799;
/// Every codec's maximum cookie size (the library's default).
pub const MAX_COOKIE_SIZE: usize = 4096;
/// The `max_chunks` of [`Fixture::chunked_config`].
pub const MAX_CHUNKS: usize = 4;

/// The current secret: seals, and opens.
pub const SECRET_NEW: &str = "fuzzing secret #1: not a real one, 32+ bytes";
/// The previous secret: opens only.
pub const SECRET_OLD: &str = "fuzzing secret #2: not a real one either, 32+";
/// A secret in no keyring of the fixture.
pub const SECRET_FOREIGN: &str = "a third fuzzing secret that nobody trusts....";

/// The context of [`Fixture::binding`].
pub const BINDING_CONTEXT: &[u8] = b"203.0.113.7";

/// Wire-format constants, restated from `src/wire.rs`.
pub mod wire {
    /// Version byte of the v1 format.
    pub const VERSION: u8 = 0x01;
    /// Version, algorithm and key id.
    pub const HEADER_LEN: usize = 6;
    /// Nonce length of both algorithms.
    pub const NONCE_LEN: usize = 24;
    /// Tag length of both algorithms.
    pub const TAG_LEN: usize = 16;
    /// The shortest token: header, nonce and tag around an empty ciphertext.
    pub const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
    /// Session id length inside the envelope.
    pub const ID_LEN: usize = 16;
}

/// The fixed instant every target runs at.
#[must_use]
pub fn now() -> SystemTime {
    at(NOW_SECS)
}

/// The instant `secs` seconds after the Unix epoch.
#[must_use]
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The session value the targets seal and open: a string, a number and a
/// sequence, so that postcard's length prefixes and varints are all in play.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    /// A user name.
    pub name: String,
    /// A counter.
    pub count: u64,
    /// A list of small numbers.
    pub tags: Vec<u16>,
}

impl Value {
    /// The value of the first genuine token.
    #[must_use]
    pub fn alice() -> Self {
        Self {
            name: "alice".into(),
            count: 42,
            tags: vec![1, 2, 3],
        }
    }

    /// The value of the other genuine tokens.
    #[must_use]
    pub fn bob() -> Self {
        Self {
            name: "bob, with a longer name".into(),
            count: u64::MAX - 7,
            tags: vec![65_535, 0, 300, 7, 7],
        }
    }
}

/// The keyrings, codecs and configurations shared by the targets, built once.
pub struct Fixture {
    /// `[SECRET_NEW, SECRET_OLD]`.
    pub keyring: Keyring,
    /// Name `session`, XAES-256-GCM, 30-minute idle timeout, cut-off
    /// [`CUT_OFF_SECS`].
    pub primary: Codec,
    /// Name `__Host-sid`, XChaCha20-Poly1305, no idle timeout, no cut-off.
    pub secondary: Codec,
    /// Like `primary` under the name `session2`: a token moved there must not open.
    pub renamed: Codec,
    /// Like `primary` with `[SECRET_OLD]` only: seals under the old secret.
    pub old_only: Codec,
    /// Like `primary` with [`SECRET_FOREIGN`] only.
    pub foreign: Codec,
    /// The default configuration around `primary`.
    pub primary_config: SessionConfig,
    /// `SameSite=Strict` around `secondary`.
    pub secondary_config: SessionConfig,
    /// `primary` with chunking: up to [`MAX_CHUNKS`] cookies `session.0`, ...
    pub chunked_config: SessionConfig,
    /// The binding of bound sessions.
    pub binding: Binding,
    /// The reference keys of `SECRET_NEW` and `SECRET_OLD`, in keyring order.
    pub reference_keys: [ReferenceKey; 2],
}

/// The fixture, built on first use.
///
/// # Panics
///
/// If the fixed settings are rejected, or the reference key ids differ from
/// the library's: both are bugs, not findings about hostile input.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> Fixture {
    let keyring = Keyring::new([SECRET_NEW, SECRET_OLD]).expect("fixed keyring");
    let primary_builder = |keyring: Keyring, name: &str| {
        Codec::builder(keyring)
            .cookie_name(name)
            .algorithm(Algorithm::XAes256Gcm)
            .idle_timeout(Duration::from_secs(IDLE_SECS))
            .leeway(Duration::from_secs(LEEWAY_SECS))
            .reject_created_before(at(CUT_OFF_SECS))
            .build()
            .expect("fixed codec")
    };
    let primary = primary_builder(keyring.clone(), "session");
    let renamed = primary_builder(keyring.clone(), "session2");
    let old_only = primary_builder(Keyring::new([SECRET_OLD]).expect("old"), "session");
    let foreign = primary_builder(Keyring::new([SECRET_FOREIGN]).expect("foreign"), "session");
    let secondary = Codec::builder(keyring.clone())
        .cookie_name("__Host-sid")
        .algorithm(Algorithm::XChaCha20Poly1305)
        .leeway(Duration::from_secs(LEEWAY_SECS))
        .build()
        .expect("fixed codec");
    let primary_config = SessionConfig::new(primary.clone());
    let secondary_config = SessionConfig::builder(secondary.clone())
        .same_site(SameSite::Strict)
        .build()
        .expect("fixed config");
    let chunked_config = SessionConfig::builder(primary.clone())
        .max_chunks(MAX_CHUNKS)
        .build()
        .expect("fixed config");
    let reference_keys = [
        ReferenceKey::derive(SECRET_NEW.as_bytes()),
        ReferenceKey::derive(SECRET_OLD.as_bytes()),
    ];
    // The reference derivation must name the same keys as the library.
    let library_ids: Vec<[u8; 4]> = keyring.key_ids().map(|id| id.to_bytes()).collect();
    let reference_ids: Vec<[u8; 4]> = reference_keys.iter().map(|k| k.id).collect();
    assert_eq!(library_ids, reference_ids, "key ids differ from the spec");
    Fixture {
        keyring,
        primary,
        secondary,
        renamed,
        old_only,
        foreign,
        primary_config,
        secondary_config,
        chunked_config,
        binding: Binding::new(BINDING_CONTEXT),
        reference_keys,
    }
}

impl Fixture {
    /// Whether `key_id` names a secret of [`Fixture::keyring`].
    #[must_use]
    pub fn knows_key(&self, key_id: [u8; 4]) -> bool {
        self.keyring.key_ids().any(|id| id.to_bytes() == key_id)
    }
}

/// With `SEALED_SESSION_FUZZ_STATS` set in the environment, prints
/// `outcome: <what>` to standard error, one line per check, so that running
/// a target over its corpus (`-runs=0`) shows which outcomes the corpus
/// reaches: `... 2>&1 | grep '^outcome:' | sort | uniq -c`.
pub fn outcome(what: &str) {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    if *ENABLED.get_or_init(|| std::env::var_os("SEALED_SESSION_FUZZ_STATS").is_some()) {
        eprintln!("outcome: {what}");
    }
}

/// Whether `error` is one that opening can give before the AEAD tag has
/// verified. Any other error while opening a value nobody sealed means a
/// forgery got through authentication.
#[must_use]
pub fn is_pre_authentication(error: &Error) -> bool {
    matches!(
        error,
        Error::TooLarge { .. }
            | Error::Malformed(Malformed::Encoding | Malformed::Truncated | Malformed::Chunks)
            | Error::UnsupportedVersion(_)
            | Error::UnknownAlgorithm(_)
            | Error::UnknownKey(_)
            | Error::AuthenticationFailed
    )
}

/// The outcome the spec prescribes for opening a cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Name plus value over the maximum cookie size.
    TooLarge {
        /// Name plus value bytes.
        size: usize,
    },
    /// Not strict unpadded base64url.
    Encoding,
    /// Shorter than [`wire::OVERHEAD`].
    Truncated,
    /// Version byte other than 1.
    UnsupportedVersion(u8),
    /// Algorithm byte other than 1 or 2.
    UnknownAlgorithm(u8),
    /// A key id the keyring does not hold.
    UnknownKey([u8; 4]),
    /// The tag does not verify.
    AuthenticationFailed,
    /// Authentic, but the envelope breaks the format rules.
    Envelope,
    /// Authentic, past its absolute deadline.
    ExpiredAbsolute,
    /// Authentic, past its idle deadline.
    ExpiredIdle,
    /// Authentic, created too far in the future.
    NotYetValid,
    /// Authentic, created before the cut-off.
    Revoked,
    /// Authentic, but the payload is not one value of the requested type.
    Deserialize,
}

impl Rejection {
    /// A short name of the variant, without its data.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too-large",
            Self::Encoding => "encoding",
            Self::Truncated => "truncated",
            Self::UnsupportedVersion(_) => "unsupported-version",
            Self::UnknownAlgorithm(_) => "unknown-algorithm",
            Self::UnknownKey(_) => "unknown-key",
            Self::AuthenticationFailed => "authentication-failed",
            Self::Envelope => "envelope",
            Self::ExpiredAbsolute => "expired-absolute",
            Self::ExpiredIdle => "expired-idle",
            Self::NotYetValid => "not-yet-valid",
            Self::Revoked => "revoked",
            Self::Deserialize => "deserialize",
        }
    }

    /// Whether the library's error is exactly this rejection (for
    /// `TooLarge`, with the fixture's limit).
    #[must_use]
    pub fn matches(&self, error: &Error) -> bool {
        match (self, error) {
            (Self::TooLarge { size }, Error::TooLarge { size: s, limit }) => {
                s == size && *limit == MAX_COOKIE_SIZE
            }
            (Self::Encoding, Error::Malformed(Malformed::Encoding))
            | (Self::Truncated, Error::Malformed(Malformed::Truncated))
            | (Self::AuthenticationFailed, Error::AuthenticationFailed)
            | (Self::Envelope, Error::Malformed(Malformed::Envelope))
            | (
                Self::ExpiredAbsolute,
                Error::Expired {
                    deadline: Deadline::Absolute,
                },
            )
            | (
                Self::ExpiredIdle,
                Error::Expired {
                    deadline: Deadline::Idle,
                },
            )
            | (Self::NotYetValid, Error::NotYetValid)
            | (Self::Revoked, Error::Revoked)
            | (Self::Deserialize, Error::Deserialize) => true,
            (Self::UnsupportedVersion(v), Error::UnsupportedVersion(w))
            | (Self::UnknownAlgorithm(v), Error::UnknownAlgorithm(w)) => v == w,
            (Self::UnknownKey(id), Error::UnknownKey(other)) => *id == other.to_bytes(),
            _ => false,
        }
    }
}

/// The rejection a cookie value that nobody sealed must get from a codec
/// named `cookie_name` over the fixture's keyring: the documented checks in
/// their documented order, ending in [`Rejection::AuthenticationFailed`]
/// (forging a tag is out of reach, so a structurally fine value fails there).
#[must_use]
pub fn expected_rejection(fixture: &Fixture, cookie_name: &str, value: &str) -> Rejection {
    let size = cookie_name.len() + value.len();
    if size > MAX_COOKIE_SIZE {
        return Rejection::TooLarge { size };
    }
    let Some(token) = base64url_decode(value) else {
        return Rejection::Encoding;
    };
    let [version, algorithm, k0, k1, k2, k3, ..] = token[..] else {
        return Rejection::Truncated;
    };
    if token.len() < wire::OVERHEAD {
        return Rejection::Truncated;
    }
    if version != wire::VERSION {
        return Rejection::UnsupportedVersion(version);
    }
    if !matches!(algorithm, 0x01 | 0x02) {
        return Rejection::UnknownAlgorithm(algorithm);
    }
    let key_id = [k0, k1, k2, k3];
    if !fixture.knows_key(key_id) {
        return Rejection::UnknownKey(key_id);
    }
    Rejection::AuthenticationFailed
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url, as the spec's cookie value encoding.
#[must_use]
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

/// Strict unpadded base64url: the 64 characters only, no padding, no
/// whitespace, no length of 1 mod 4, and zero trailing bits.
#[must_use]
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let sextets: Vec<u32> = text
        .bytes()
        .map(|c| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(sextets.len() / 4 * 3 + 2);
    for group in sextets.chunks(4) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &s)| n | (s << (18 - 6 * i)));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let (keep, spare_bits) = match group.len() {
            4 => (3, 0),
            3 => (2, 2),
            2 => (1, 4),
            _ => return None,
        };
        // The bits after the last whole byte must be zero (canonical form).
        if spare_bits > 0
            && group
                .last()
                .is_some_and(|&s| s & ((1 << spare_bits) - 1) != 0)
        {
            return None;
        }
        out.extend_from_slice(&bytes[..keep]);
    }
    Some(out)
}

/// One secret's keys, derived as `src/keyring.rs` specifies.
pub struct ReferenceKey {
    /// The 4-byte key id.
    pub id: [u8; 4],
    xaes: Xaes256Gcm,
    xchacha: XChaCha20Poly1305,
}

impl ReferenceKey {
    /// HKDF-SHA256 with salt `sealed-session v1` and the three info strings.
    ///
    /// # Panics
    ///
    /// Never for these output lengths (HKDF-SHA256 gives up to 8160 bytes).
    #[must_use]
    pub fn derive(secret: &[u8]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(b"sealed-session v1"), secret);
        let mut id = [0u8; 4];
        let mut xaes = [0u8; 32];
        let mut xchacha = [0u8; 32];
        hkdf.expand(b"sealed-session v1 key id", &mut id)
            .expect("4 bytes");
        hkdf.expand(b"sealed-session v1 key xaes256gcm", &mut xaes)
            .expect("32 bytes");
        hkdf.expand(b"sealed-session v1 key xchacha20poly1305", &mut xchacha)
            .expect("32 bytes");
        Self {
            id,
            xaes: Xaes256Gcm::new(&xaes.into()),
            xchacha: XChaCha20Poly1305::new(&xchacha.into()),
        }
    }

    /// An authentic cookie value around `plaintext` (envelope and payload),
    /// for a cookie named `cookie_name`, optionally bound to `context`.
    ///
    /// # Panics
    ///
    /// Never for cookie-sized plaintexts (the AEADs refuse only gigabytes).
    #[must_use]
    pub fn seal(
        &self,
        algorithm: Algorithm,
        nonce: &[u8; wire::NONCE_LEN],
        cookie_name: &str,
        context: Option<&[u8]>,
        plaintext: &[u8],
    ) -> String {
        let [k0, k1, k2, k3] = self.id;
        let header = [wire::VERSION, algorithm.wire_id(), k0, k1, k2, k3];
        let mut ad = header.to_vec();
        ad.extend_from_slice(cookie_name.as_bytes());
        if let Some(context) = context {
            ad.push(0);
            ad.extend_from_slice(&Sha256::digest(context));
        }
        let payload = Payload {
            msg: plaintext,
            aad: &ad,
        };
        // Both `encrypt`s append the 16-byte tag to the ciphertext.
        let sealed = match algorithm {
            Algorithm::XChaCha20Poly1305 => self.xchacha.encrypt(&(*nonce).into(), payload),
            _ => self.xaes.encrypt(&(*nonce).into(), payload),
        }
        .expect("cookie-sized plaintext");
        let mut token = header.to_vec();
        token.extend_from_slice(nonce);
        token.extend_from_slice(&sealed);
        base64url_encode(&token)
    }
}

/// An envelope as the spec reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceEnvelope {
    /// Creation time, Unix seconds.
    pub created_at: u64,
    /// Absolute deadline, Unix seconds.
    pub absolute_deadline: u64,
    /// Idle deadline, Unix seconds; 0 for none.
    pub idle_deadline: u64,
    /// Session id.
    pub id: [u8; wire::ID_LEN],
}

impl ReferenceEnvelope {
    /// Whether the library's envelope carries the same fields.
    #[must_use]
    pub fn matches(&self, envelope: &Envelope) -> bool {
        envelope.id().to_bytes() == self.id
            && envelope.created_at() == at(self.created_at)
            && envelope.absolute_deadline() == at(self.absolute_deadline)
            && envelope.idle_deadline() == (self.idle_deadline != 0).then(|| at(self.idle_deadline))
    }

    /// The envelope's bytes: three minimal varints and the id.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 * 10 + wire::ID_LEN);
        for v in [self.created_at, self.absolute_deadline, self.idle_deadline] {
            write_varint(&mut out, v);
        }
        out.extend_from_slice(&self.id);
        out
    }
}

/// Appends `v` as unsigned LEB128, the minimal form.
pub fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads one varint as the spec allows it: at most 10 bytes, within 64
/// bits, minimal. Returns the value and the rest.
#[must_use]
pub fn read_varint(input: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u128 = 0;
    for (i, &byte) in input.iter().enumerate() {
        if i >= 10 {
            return None;
        }
        value |= u128::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            // Minimal: a multi-byte varint does not end in a zero group.
            if i > 0 && byte == 0 {
                return None;
            }
            let value = u64::try_from(value).ok()?;
            return Some((value, &input[i + 1..]));
        }
    }
    None
}

/// Splits a plaintext into envelope and payload as the spec reads it, and
/// checks the well-formedness rules.
///
/// # Errors
///
/// [`Rejection::Envelope`] when the envelope is cut off or breaks a rule.
pub fn read_envelope(plaintext: &[u8]) -> Result<(ReferenceEnvelope, &[u8]), Rejection> {
    let (created_at, rest) = read_varint(plaintext).ok_or(Rejection::Envelope)?;
    let (absolute_deadline, rest) = read_varint(rest).ok_or(Rejection::Envelope)?;
    let (idle_deadline, rest) = read_varint(rest).ok_or(Rejection::Envelope)?;
    if rest.len() < wire::ID_LEN {
        return Err(Rejection::Envelope);
    }
    let (id, payload) = rest.split_at(wire::ID_LEN);
    let envelope = ReferenceEnvelope {
        created_at,
        absolute_deadline,
        idle_deadline,
        id: id.try_into().map_err(|_| Rejection::Envelope)?,
    };
    let well_formed = created_at <= absolute_deadline
        && absolute_deadline <= MAX_TIME
        && idle_deadline <= absolute_deadline;
    if well_formed {
        Ok((envelope, payload))
    } else {
        Err(Rejection::Envelope)
    }
}

/// The clock rules in their documented order, at `now`.
///
/// # Errors
///
/// The rejection of the first rule the envelope breaks.
pub fn check_clock(
    envelope: &ReferenceEnvelope,
    now: u64,
    cut_off: Option<u64>,
) -> Result<(), Rejection> {
    if now >= envelope.absolute_deadline {
        Err(Rejection::ExpiredAbsolute)
    } else if envelope.idle_deadline != 0 && now >= envelope.idle_deadline {
        Err(Rejection::ExpiredIdle)
    } else if envelope.created_at > now + LEEWAY_SECS {
        Err(Rejection::NotYetValid)
    } else if cut_off.is_some_and(|cut| envelope.created_at < cut) {
        Err(Rejection::Revoked)
    } else {
        Ok(())
    }
}

/// The `Set-Cookie` headers of one response, checked and sorted.
#[derive(Debug, Default)]
pub struct SetCookies {
    /// `name=value` of every cookie set, in order: what a browser sends back
    /// (join them with `; `).
    pub set: Vec<String>,
    /// Names of the cookies removed, in order.
    pub removed: Vec<String>,
}

impl SetCookies {
    /// Reads the `Set-Cookie` headers of `headers` for the session cookie
    /// `name`: each must be either a cookie with a value and a positive
    /// `Max-Age`, or a removal (empty value, `Max-Age=0`); each must be
    /// named `name` or, only with `chunked`, `name.k` for a decimal `k`
    /// below 64 without leading zeros; no name may appear twice.
    ///
    /// # Panics
    ///
    /// When one of these rules is broken: the finding.
    #[must_use]
    pub fn read(headers: &HeaderMap, name: &str, chunked: bool) -> Self {
        let mut out = Self::default();
        let mut names = Vec::new();
        for header in headers.get_all(SET_COOKIE) {
            let text = header.to_str().expect("Set-Cookie is visible ASCII");
            let cookie = cookie::Cookie::parse(text).expect("Set-Cookie parses");
            let cookie_name = cookie.name();
            let suffix = cookie_name.strip_prefix(name).map(|s| s.strip_prefix('.'));
            let allowed = match suffix {
                Some(None) => cookie_name == name,
                Some(Some(index)) => {
                    chunked
                        && (index == "0" || !index.starts_with('0'))
                        && index.parse::<u8>().is_ok_and(|k| k < 64)
                }
                None => false,
            };
            assert!(
                allowed,
                "unexpected Set-Cookie name {cookie_name:?} for {name:?}"
            );
            assert!(
                !names.contains(&cookie_name.to_owned()),
                "{cookie_name:?} set twice in one response"
            );
            names.push(cookie_name.to_owned());
            if cookie.value().is_empty() {
                assert_eq!(cookie.max_age(), Some(cookie::time::Duration::ZERO));
                out.removed.push(cookie_name.to_owned());
            } else {
                assert!(
                    cookie.max_age().is_some_and(|age| age.is_positive()),
                    "a cookie set without a positive Max-Age: {text}"
                );
                out.set.push(format!("{cookie_name}={}", cookie.value()));
            }
        }
        out
    }

    /// The `Cookie` header a browser sends back after this response (for a
    /// request that carried none of these cookies before).
    #[must_use]
    pub fn cookie_header(&self) -> String {
        self.set.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_and_is_strict() {
        for n in 0..50 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let text = base64url_encode(&bytes);
            assert_eq!(base64url_decode(&text), Some(bytes));
        }
        for bad in ["AAE=", "AA+C", "AA/C", "AA C", "AAEC\n", "A", "AAF"] {
            assert_eq!(base64url_decode(bad), None, "{bad:?}");
        }
        assert_eq!(base64url_decode("AAE"), Some(vec![0, 1]));
    }

    #[test]
    fn varints_round_trip() {
        for v in [0, 1, 127, 128, 16_383, 16_384, MAX_TIME, u64::MAX] {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            assert_eq!(read_varint(&out), Some((v, &[][..])));
        }
        assert_eq!(read_varint(&[0x80, 0x00]), None);
        assert_eq!(read_varint(&[0xff; 10]), None);
        assert_eq!(
            read_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            None
        );
    }

    #[test]
    fn reference_sealer_agrees_with_the_library() {
        let f = fixture();
        let envelope = ReferenceEnvelope {
            created_at: NOW_SECS - 10,
            absolute_deadline: NOW_SECS + 100,
            idle_deadline: NOW_SECS + 50,
            id: [9; 16],
        };
        let mut plaintext = envelope.to_bytes();
        plaintext.extend_from_slice(&postcard::to_allocvec(&Value::alice()).expect("postcard"));
        for algorithm in Algorithm::ALL {
            let token = f.reference_keys[1].seal(algorithm, &[3; 24], "session", None, &plaintext);
            let opened = f
                .primary
                .open_at::<Value>(&token, now())
                .expect("reference token opens");
            assert_eq!(opened.value(), &Value::alice());
            assert!(envelope.matches(opened.envelope()));
            assert!(opened.sealed_with_old_secret());
        }
    }
}
