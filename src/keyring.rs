//! Secrets to keys: the ordered list of secrets and what is derived from them.
//!
//! Every secret goes through HKDF-SHA256. The extract step runs once, when
//! the keyring is built; the expand step runs then too for the empty
//! application label (the default, whose keys the keyring keeps and its
//! codecs share), and when a codec with another label is built, for that
//! label:
//!
//! ```text
//! PRK     = HKDF-Extract(salt = "sealed-session v1", IKM = secret)
//! info(x) = "sealed-session v1 " | x | 0x00 | app label
//! key id  = HKDF-Expand(PRK, info("key id"), 4)
//! K_xaes  = HKDF-Expand(PRK, info("key xaes256gcm"), 32)
//! K_xcha  = HKDF-Expand(PRK, info("key xchacha20poly1305"), 32)
//! ```
//!
//! The keyring keeps one HKDF state per secret (the HMAC keyed with the PRK)
//! and wipes its copy of the secret bytes; a codec keeps the two ciphers per
//! secret and the public key ids, and wipes the derived key bytes once the
//! ciphers are keyed. Nothing on the seal or open path runs HKDF.
//!
//! What is wiped, and what may not be: every buffer this module owns is
//! wiped when dropped, and the HKDF and cipher states wipe themselves
//! (`zeroize` features of `sha2`, `xaes-256-gcm` and `chacha20poly1305`).
//! Values are boxed before they are moved into the lists, so building a
//! keyring moves pointers, not keys. But Rust may leave copies of a value on
//! the stack when it moves or returns it (the PRK inside `hkdf`'s extract
//! step, a key schedule being built), and this crate cannot wipe those: a
//! memory dump of a running process can still find key material. Wiping
//! limits what outlives its use; it is not a defence against an attacker who
//! can read the process's memory.

use core::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::algorithm::{AeadKeys, KEY_LEN};
use crate::error::{ConfigError, Error};
use crate::key_id::KeyId;

/// The fewest bytes a secret may have. 32 bytes of random data is 256 bits of
/// key material; a text secret of 32 characters has far less entropy unless it
/// was generated randomly.
pub const MIN_SECRET_LEN: usize = 32;

/// Prefix marking a text secret as base64 (standard alphabet) key material.
pub const BASE64_SECRET_PREFIX: &str = "base64:";

/// The fewest distinct byte values a secret may have. A random 32-byte
/// secret has about 30; a hex string 16, a decimal one 10.
const MIN_DISTINCT_BYTES: usize = 8;

/// A secret that repeats a pattern this short (or shorter) over its whole
/// length, such as `abcabcabc...`, is refused.
const MAX_WEAK_PERIOD: usize = 8;

/// Secrets that appeared in this crate's documentation and examples, in this
/// release or earlier ones. Anyone who copied one into a deployment shares
/// it with every reader of the docs, so they are refused.
const DOCUMENTED_SECRETS: [&str; 5] = [
    "a secret of at least 32 bytes, from your vault",
    "an example secret that is 32+ bytes long",
    "a fresh secret of at least 32 bytes, newest first",
    "the previous secret, still accepted for opening..",
    "long enough secret of 32+ bytes!!",
];

const HKDF_SALT: &[u8] = b"sealed-session v1";
const INFO_KEY_ID: &[u8] = b"sealed-session v1 key id";
const INFO_XAES: &[u8] = b"sealed-session v1 key xaes256gcm";
const INFO_XCHACHA: &[u8] = b"sealed-session v1 key xchacha20poly1305";

/// An ordered list of secrets: the first seals, every one opens.
///
/// To rotate, put a new secret in front and keep the old ones behind it until
/// every cookie sealed under them has expired (with a rolling deploy, first
/// deploy it at the end of the list, so every instance opens it before any
/// seals with it; the README has the steps); cookies opened under an old
/// secret are re-sealed under the new one on their next write. Old secrets
/// are never used to seal.
///
/// Secrets must be at least [`MIN_SECRET_LEN`] bytes, have some variety
/// (at least 8 distinct bytes, and no pattern of 8 bytes or fewer repeated
/// over the whole secret), and must not be one of the example strings of
/// this crate's documentation. Those checks catch mistakes, not weak
/// passphrases: generate secrets with [`Keyring::generate_secret`] and use
/// the `base64:` form it returns.
///
/// Cloning is cheap (the list is shared). What the keyring holds is wiped
/// from memory when the last clone is dropped (SECURITY.md, "Secrets",
/// says what cannot be wiped), and `Debug` shows only how many secrets
/// there are.
///
/// ```
/// use sealed_session::Keyring;
///
/// // In production: Keyring::from_env("SESSION_SECRETS")?
/// let keyring = Keyring::new([Keyring::generate_secret()?, Keyring::generate_secret()?])?;
/// assert_eq!(keyring.len(), 2);
///
/// // Too short, and the message says which one:
/// let err = Keyring::new([Keyring::generate_secret()?.as_str(), "too short"]).unwrap_err();
/// assert_eq!(err.to_string(), "secret #1 is 9 bytes; every secret needs at least 32 \
///     bytes (generate one with Keyring::generate_secret)");
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct Keyring {
    // Boxed so that building the list moves pointers, never HKDF states.
    secrets: Arc<[Box<Hkdf<Sha256>>]>,
    /// The keys under the empty application label, derived once: what most
    /// codecs use.
    unlabelled: Keys,
}

impl Keyring {
    /// Builds a keyring from text secrets, newest first.
    ///
    /// Each secret is either text, whose UTF-8 bytes are the key material, or
    /// `base64:` followed by standard base64 (padding optional), whose decoded
    /// bytes are.
    ///
    /// The keyring copies what it needs and wipes its copies; the caller's
    /// strings are the caller's to wipe.
    ///
    /// # Errors
    ///
    /// [`ConfigError::NoSecrets`],
    /// [`ConfigError::SecretTooShort`], [`ConfigError::WeakSecret`],
    /// [`ConfigError::InvalidBase64Secret`] or
    /// [`ConfigError::DuplicateKeyId`].
    pub fn new<I>(secrets: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut list = Secrets::default();
        for (index, secret) in secrets.into_iter().enumerate() {
            let text = secret.as_ref();
            match text.strip_prefix(BASE64_SECRET_PREFIX) {
                Some(encoded) => {
                    let bytes = decode_base64_secret(encoded)
                        .ok_or(ConfigError::InvalidBase64Secret { index })?;
                    list.push(index, &bytes)?;
                }
                None => list.push(index, text.as_bytes())?,
            }
        }
        list.finish()
    }

    /// Builds a keyring from raw secret bytes, newest first, for key material
    /// that comes from a secrets manager as bytes. No `base64:` prefix is
    /// interpreted: the bytes are the key material.
    ///
    /// # Errors
    ///
    /// As [`Keyring::new`].
    pub fn from_bytes<I>(secrets: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut list = Secrets::default();
        for (index, secret) in secrets.into_iter().enumerate() {
            list.push(index, secret.as_ref())?;
        }
        list.finish()
    }

    /// Builds a keyring from an environment variable holding comma-separated
    /// secrets, newest first, each in the form [`Keyring::new`] accepts.
    ///
    /// Whitespace around each secret is trimmed, so
    /// `SESSION_SECRETS="base64:new..., base64:old..."` works. A text secret
    /// cannot contain a comma; use the `base64:` form for arbitrary bytes.
    ///
    /// ```
    /// use sealed_session::{ConfigError, Keyring};
    ///
    /// let err = Keyring::from_env("SEALED_SESSION_DOC_UNSET").unwrap_err();
    /// assert_eq!(err, ConfigError::MissingEnvVar {
    ///     name: "SEALED_SESSION_DOC_UNSET".into(),
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEnvVar`] or [`ConfigError::EnvVarNotUnicode`],
    /// then as [`Keyring::new`]; an empty entry (`"a,,b"`, a trailing comma)
    /// is reported as [`ConfigError::SecretTooShort`] with length 0.
    pub fn from_env(name: &str) -> Result<Self, ConfigError> {
        let value = match std::env::var(name) {
            Ok(v) => Zeroizing::new(v),
            Err(std::env::VarError::NotPresent) => {
                return Err(ConfigError::MissingEnvVar { name: name.into() });
            }
            Err(std::env::VarError::NotUnicode(raw)) => {
                raw.into_encoded_bytes().zeroize();
                return Err(ConfigError::EnvVarNotUnicode { name: name.into() });
            }
        };
        Self::new(value.split(',').map(str::trim))
    }

    /// Generates a new secret: 32 bytes from the operating system's random
    /// number generator, as `base64:` followed by standard padded base64
    /// (51 characters in all). Put it in front of your secrets list.
    ///
    /// ```
    /// use sealed_session::Keyring;
    ///
    /// let secret = Keyring::generate_secret()?;
    /// assert!(secret.starts_with("base64:"));
    /// assert_eq!(secret.len(), 51);
    /// let keyring = Keyring::new([secret.as_str()])?;
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Random`] if the random number generator fails.
    pub fn generate_secret() -> Result<Zeroizing<String>, Error> {
        let mut bytes = Zeroizing::new([0u8; MIN_SECRET_LEN]);
        getrandom::fill(bytes.as_mut()).map_err(|_| Error::Random)?;
        let mut out = Zeroizing::new(String::with_capacity(51));
        out.push_str(BASE64_SECRET_PREFIX);
        STANDARD.encode_string(bytes.as_ref(), &mut out);
        Ok(out)
    }

    /// Number of secrets (at least one).
    #[must_use]
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Always `false`: a keyring has at least one secret. Present because
    /// `len` is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The keys under the empty application label.
    pub(crate) fn unlabelled(&self) -> &Keys {
        &self.unlabelled
    }

    /// The keys of every secret for `app_label` (checked by the codec
    /// builder), in the order of the secrets.
    ///
    /// # Errors
    ///
    /// [`ConfigError::DuplicateKeyId`] if two secrets derive the same key
    /// id under this label (with negligible probability for distinct
    /// secrets).
    pub(crate) fn keys(&self, app_label: &str) -> Result<Keys, ConfigError> {
        if app_label.is_empty() {
            return Ok(self.unlabelled.clone());
        }
        derive_all(&self.secrets, app_label)
    }
}

/// The keys of every secret for `app_label`, in the order of the secrets.
fn derive_all(secrets: &[Box<Hkdf<Sha256>>], app_label: &str) -> Result<Keys, ConfigError> {
    let mut entries: Vec<Box<Entry>> = Vec::with_capacity(secrets.len());
    for (index, hkdf) in secrets.iter().enumerate() {
        let entry = derive_entry(hkdf, app_label);
        if let Some(earlier) = entries.iter().position(|e| e.id == entry.id) {
            return Err(ConfigError::DuplicateKeyId { index, earlier });
        }
        entries.push(entry);
    }
    let mut entries = entries.into_iter();
    match entries.next() {
        Some(current) => Ok(Keys {
            entries: Arc::new(KeyList {
                current,
                older: entries.collect(),
            }),
        }),
        None => Err(ConfigError::NoSecrets),
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

/// The list being built: checked secrets, extracted.
#[derive(Default)]
#[allow(
    clippy::vec_box,
    reason = "boxed so that growing the Vec moves pointers, not HKDF states"
)]
struct Secrets {
    list: Vec<Box<Hkdf<Sha256>>>,
}

impl Secrets {
    /// Checks one secret and runs the extract step.
    fn push(&mut self, index: usize, secret: &[u8]) -> Result<(), ConfigError> {
        check_secret(index, secret)?;
        // `extract` hands back the PRK as well as the HKDF state keyed with
        // it; wipe that copy. (A secret listed twice derives the same key
        // ids, which `finish` refuses.)
        let (mut prk, hkdf) = Hkdf::<Sha256>::extract(Some(HKDF_SALT), secret);
        prk.as_mut_slice().zeroize();
        self.list.push(Box::new(hkdf));
        Ok(())
    }

    fn finish(self) -> Result<Keyring, ConfigError> {
        // Refuses an empty list.
        let unlabelled = derive_all(&self.list, "")?;
        Ok(Keyring {
            secrets: self.list.into(),
            unlabelled,
        })
    }
}

/// The checks every secret must pass, in the order they are reported.
fn check_secret(index: usize, secret: &[u8]) -> Result<(), ConfigError> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(ConfigError::SecretTooShort {
            index,
            len: secret.len(),
            min: MIN_SECRET_LEN,
        });
    }
    let reason = if DOCUMENTED_SECRETS.iter().any(|s| s.as_bytes() == secret) {
        Some("it is an example from the documentation")
    } else if distinct_bytes(secret) < MIN_DISTINCT_BYTES {
        Some("it has fewer than 8 distinct bytes")
    } else if smallest_period(secret) <= MAX_WEAK_PERIOD {
        Some("it repeats a pattern of 8 bytes or fewer")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ConfigError::WeakSecret { index, reason }),
        None => Ok(()),
    }
}

/// How many distinct byte values `bytes` holds.
fn distinct_bytes(bytes: &[u8]) -> usize {
    let mut seen = [false; 256];
    for &b in bytes {
        if let Some(slot) = seen.get_mut(usize::from(b)) {
            *slot = true;
        }
    }
    seen.iter().filter(|&&s| s).count()
}

/// The smallest `p` such that `bytes[i] == bytes[i + p]` wherever both
/// exist (the length itself when there is no shorter one).
fn smallest_period(bytes: &[u8]) -> usize {
    (1..bytes.len())
        .find(|&p| bytes.iter().zip(bytes.iter().skip(p)).all(|(a, b)| a == b))
        .unwrap_or(bytes.len())
}

/// Strict-enough decoding of the `base64:` form: standard alphabet, padding
/// optional, canonical trailing bits. The output is wiped on drop.
fn decode_base64_secret(encoded: &str) -> Option<Zeroizing<Vec<u8>>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT_PADDING: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let mut out = Zeroizing::new(Vec::with_capacity(encoded.len()));
    LENIENT_PADDING.decode_vec(encoded, &mut out).ok()?;
    Some(out)
}

/// One secret's keys for one application label.
pub(crate) struct Entry {
    pub(crate) id: KeyId,
    pub(crate) keys: AeadKeys,
}

/// The keys of every secret of a keyring for one application label: what a
/// codec holds. Never empty, so there is always a key to seal with.
#[derive(Clone)]
pub(crate) struct Keys {
    entries: Arc<KeyList>,
}

#[allow(
    clippy::vec_box,
    reason = "boxed so that building the list moves pointers, not keys"
)]
struct KeyList {
    current: Box<Entry>,
    older: Vec<Box<Entry>>,
}

impl Keys {
    /// The entry used for sealing.
    pub(crate) fn current(&self) -> &Entry {
        &self.entries.current
    }

    /// The entry with this key id and its position (0 = current), if any.
    /// A linear scan over a handful of public ids; nothing secret is compared.
    pub(crate) fn find(&self, id: KeyId) -> Option<(usize, &Entry)> {
        self.iter().enumerate().find(|(_, e)| e.id == id)
    }

    /// The key ids, in the order of the secrets; the first seals.
    pub(crate) fn ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.iter().map(|e| e.id)
    }

    /// Every entry, the current one first.
    fn iter(&self) -> impl Iterator<Item = &Entry> + '_ {
        core::iter::once(&*self.entries.current).chain(self.entries.older.iter().map(|e| &**e))
    }
}

/// The expand step for one secret and application label.
fn derive_entry(hkdf: &Hkdf<Sha256>, app_label: &str) -> Box<Entry> {
    let label = app_label.as_bytes();
    let mut id = [0u8; 4];
    let mut xaes = Zeroizing::new([0u8; KEY_LEN]);
    let mut xchacha = Zeroizing::new([0u8; KEY_LEN]);
    expand(hkdf, INFO_KEY_ID, label, &mut id);
    expand(hkdf, INFO_XAES, label, xaes.as_mut());
    expand(hkdf, INFO_XCHACHA, label, xchacha.as_mut());
    Box::new(Entry {
        id: KeyId(id),
        keys: AeadKeys::new(&xaes, &xchacha),
    })
}

/// HKDF-Expand with `info | 0x00 | label` into `out`. Every caller passes a
/// fixed length of 4 or 32 bytes.
#[allow(
    clippy::expect_used,
    reason = "HKDF-Expand fails only for outputs over 255 * 32 bytes; the lengths here are \
              compile-time constants of at most 32 (pinned below), never input"
)]
fn expand(hkdf: &Hkdf<Sha256>, info: &[u8], label: &[u8], out: &mut [u8]) {
    hkdf.expand_multi_info(&[info, b"\x00", label], out)
        .expect("HKDF-SHA256 expands up to 8160 bytes");
}
const _: () = assert!(KEY_LEN <= 255 * 32);

#[cfg(test)]
mod tests;
