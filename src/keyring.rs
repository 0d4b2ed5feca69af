//! Secrets to keys: the ordered list of secrets and what is derived from them.
//!
//! Every secret goes through HKDF-SHA256 once, when the keyring is built:
//!
//! ```text
//! PRK    = HKDF-Extract(salt = "sealed-session v1", IKM = secret)
//! key id = HKDF-Expand(PRK, "sealed-session v1 key id", 4)
//! K_xaes = HKDF-Expand(PRK, "sealed-session v1 key xaes256gcm", 32)
//! K_xcha = HKDF-Expand(PRK, "sealed-session v1 key xchacha20poly1305", 32)
//! ```
//!
//! The secret bytes, the PRK and the derived key bytes are wiped as soon as the
//! two ciphers are keyed; only the ciphers (which wipe themselves on drop) and
//! the public key ids are kept. Nothing on the seal or open path runs HKDF.

use core::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::algorithm::{AeadKeys, KEY_LEN};
use crate::error::{ConfigError, Error};

/// The fewest bytes a secret may have. 32 bytes of random data is 256 bits of
/// key material; a text secret of 32 characters has far less entropy unless it
/// was generated randomly.
pub const MIN_SECRET_LEN: usize = 32;

/// Prefix marking a text secret as base64 (standard alphabet) key material.
pub const BASE64_SECRET_PREFIX: &str = "base64:";

const HKDF_SALT: &[u8] = b"sealed-session v1";
const INFO_KEY_ID: &[u8] = b"sealed-session v1 key id";
const INFO_XAES: &[u8] = b"sealed-session v1 key xaes256gcm";
const INFO_XCHACHA: &[u8] = b"sealed-session v1 key xchacha20poly1305";

/// The 4-byte public identifier of a secret, carried in every token so that
/// opening tries exactly one key.
///
/// It is derived from the secret with HKDF and reveals nothing about it. It
/// prints as 8 lowercase hex digits, which makes it useful in logs to see
/// which secret a deployment seals with.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub(crate) [u8; 4]);

impl KeyId {
    /// The four bytes as they appear in the token.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 4] {
        self.0
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// One secret, after derivation.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) id: KeyId,
    pub(crate) keys: AeadKeys,
}

/// An ordered list of secrets: the first seals, every one opens.
///
/// To rotate, put a new secret in front and keep the old ones behind it until
/// every cookie sealed under them has expired (with a rolling deploy, first
/// deploy it at the end of the list, so every instance opens it before any
/// seals with it; the README has the steps); cookies opened under an old
/// secret report [`Opened::sealed_with_old_secret`](crate::Opened::sealed_with_old_secret)
/// so that they are re-sealed under the new one. Old secrets are never used
/// to seal.
///
/// Cloning is cheap (the derived keys are shared). The derived keys are wiped
/// from memory when the last clone is dropped, and `Debug` shows only the
/// public key ids.
///
/// ```
/// use sealed_session::Keyring;
///
/// let keyring = Keyring::new([
///     "a fresh secret of at least 32 bytes, newest first",
///     "the previous secret, still accepted for opening..",
/// ])?;
/// assert_eq!(keyring.len(), 2);
///
/// // Too short, and the message says which one:
/// let err = Keyring::new(["long enough secret of 32+ bytes!!", "too short"]).unwrap_err();
/// assert_eq!(err.to_string(), "invalid session configuration: secret #1 is 9 bytes; \
///     every secret needs at least 32 bytes (generate one with Keyring::generate_secret)");
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct Keyring {
    // Boxed so that building the list moves pointers, never key schedules:
    // a `Vec<Entry>` growing, or turning into an `Arc<[Entry]>`, would copy
    // the ciphers and free the old buffer without wiping it.
    entries: Arc<[Box<Entry>]>,
}

impl Keyring {
    /// Builds a keyring from text secrets, newest first.
    ///
    /// Each secret is either text, whose UTF-8 bytes are the key material, or
    /// `base64:` followed by standard base64 (padding optional), whose decoded
    /// bytes are. Either way it must be at least [`MIN_SECRET_LEN`] bytes.
    ///
    /// The keyring copies what it needs and wipes its copies; the caller's
    /// strings are the caller's to wipe.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] with [`ConfigError::NoSecrets`],
    /// [`ConfigError::SecretTooShort`], [`ConfigError::InvalidBase64Secret`] or
    /// [`ConfigError::DuplicateKeyId`].
    pub fn new<I>(secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut entries = Vec::new();
        for (index, secret) in secrets.into_iter().enumerate() {
            let text = secret.as_ref();
            let entry = match text.strip_prefix(BASE64_SECRET_PREFIX) {
                Some(encoded) => {
                    let bytes = decode_base64_secret(encoded)
                        .ok_or(ConfigError::InvalidBase64Secret { index })?;
                    derive(index, &bytes)?
                }
                None => derive(index, text.as_bytes())?,
            };
            push_unique(&mut entries, index, entry)?;
        }
        Self::from_entries(entries)
    }

    /// Builds a keyring from raw secret bytes, newest first, for key material
    /// that comes from a secrets manager as bytes. No `base64:` prefix is
    /// interpreted: the bytes are the key material.
    ///
    /// # Errors
    ///
    /// As [`Keyring::new`].
    pub fn from_bytes<I>(secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut entries = Vec::new();
        for (index, secret) in secrets.into_iter().enumerate() {
            let entry = derive(index, secret.as_ref())?;
            push_unique(&mut entries, index, entry)?;
        }
        Self::from_entries(entries)
    }

    /// Builds a keyring from an environment variable holding comma-separated
    /// secrets, newest first, each in the form [`Keyring::new`] accepts.
    ///
    /// Whitespace around each secret is trimmed, so
    /// `SESSION_SECRETS="base64:new..., base64:old..."` works. A text secret
    /// cannot contain a comma; use the `base64:` form for arbitrary bytes.
    ///
    /// ```
    /// use sealed_session::{ConfigError, Error, Keyring};
    ///
    /// let err = Keyring::from_env("SEALED_SESSION_DOC_UNSET").unwrap_err();
    /// assert_eq!(err, Error::Config(ConfigError::MissingEnvVar {
    ///     name: "SEALED_SESSION_DOC_UNSET".into(),
    /// }));
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEnvVar`] or [`ConfigError::EnvVarNotUnicode`],
    /// then as [`Keyring::new`]; an empty entry (`"a,,b"`, a trailing comma)
    /// is reported as [`ConfigError::SecretTooShort`] with length 0.
    pub fn from_env(name: &str) -> Result<Self, Error> {
        let value = match std::env::var(name) {
            Ok(v) => Zeroizing::new(v),
            Err(std::env::VarError::NotPresent) => {
                return Err(ConfigError::MissingEnvVar { name: name.into() }.into());
            }
            Err(std::env::VarError::NotUnicode(raw)) => {
                raw.into_encoded_bytes().zeroize();
                return Err(ConfigError::EnvVarNotUnicode { name: name.into() }.into());
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

    /// Number of secrets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always `false`: a keyring has at least one secret. Present because
    /// `len` is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The key ids, in the order the secrets were given; the first seals.
    pub fn key_ids(&self) -> impl ExactSizeIterator<Item = KeyId> + '_ {
        self.entries.iter().map(|e| e.id)
    }

    /// The entry used for sealing.
    pub(crate) fn current(&self) -> Option<&Entry> {
        self.entries.first().map(|e| &**e)
    }

    /// The entry with this key id and its position (0 = current), if any.
    /// A linear scan over a handful of public ids; nothing secret is compared.
    pub(crate) fn find(&self, id: KeyId) -> Option<(usize, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.id == id)
            .map(|(i, e)| (i, &**e))
    }

    #[allow(
        clippy::vec_box,
        reason = "boxed so that growing the Vec moves pointers, not keys"
    )]
    fn from_entries(entries: Vec<Box<Entry>>) -> Result<Self, Error> {
        if entries.is_empty() {
            return Err(ConfigError::NoSecrets.into());
        }
        Ok(Self {
            entries: entries.into(),
        })
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Ids<'a>(&'a Keyring);
        impl fmt::Debug for Ids<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.key_ids()).finish()
            }
        }
        f.debug_struct("Keyring")
            .field("key_ids", &Ids(self))
            .finish_non_exhaustive()
    }
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

/// Runs the v1 key schedule for one secret.
fn derive(index: usize, secret: &[u8]) -> Result<Box<Entry>, Error> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(ConfigError::SecretTooShort {
            index,
            len: secret.len(),
        }
        .into());
    }
    // `extract` hands back the PRK as well; wipe it. The HMAC state inside
    // `hkdf` is wiped on drop by sha2's `zeroize` feature.
    let (mut prk, hkdf) = Hkdf::<Sha256>::extract(Some(HKDF_SALT), secret);
    prk.as_mut_slice().zeroize();

    let mut id = [0u8; 4];
    let mut xaes = Zeroizing::new([0u8; KEY_LEN]);
    let mut xchacha = Zeroizing::new([0u8; KEY_LEN]);
    expand(&hkdf, INFO_KEY_ID, &mut id);
    expand(&hkdf, INFO_XAES, xaes.as_mut());
    expand(&hkdf, INFO_XCHACHA, xchacha.as_mut());
    Ok(Box::new(Entry {
        id: KeyId(id),
        keys: AeadKeys::new(&xaes, &xchacha),
    }))
}

/// HKDF-Expand into `out`. Every caller passes a fixed length of 4 or 32 bytes.
#[allow(
    clippy::expect_used,
    reason = "HKDF-Expand fails only for outputs over 255 * 32 bytes; the lengths here are \
              compile-time constants of at most 32 (pinned below), never input"
)]
fn expand(hkdf: &Hkdf<Sha256>, info: &[u8], out: &mut [u8]) {
    hkdf.expand(info, out)
        .expect("HKDF-SHA256 expands up to 8160 bytes");
}
const _: () = assert!(KEY_LEN <= 255 * 32);

#[allow(
    clippy::vec_box,
    reason = "boxed so that growing the Vec moves pointers, not keys"
)]
fn push_unique(
    entries: &mut Vec<Box<Entry>>,
    index: usize,
    entry: Box<Entry>,
) -> Result<(), Error> {
    if let Some(earlier) = entries.iter().position(|e| e.id == entry.id) {
        return Err(ConfigError::DuplicateKeyId { index, earlier }.into());
    }
    entries.push(entry);
    Ok(())
}
