//! The two AEADs and the keys of one secret for both.
//!
//! Both algorithms take 24-byte nonces, drawn at random for every seal. At that
//! size the chance that two seals under one key ever share a nonce stays below
//! 2^-32 for up to 2^80 seals, so no deployment has to count messages. The
//! budgets are worked out in `SECURITY.md`.

use core::fmt;
use core::str::FromStr;

use chacha20poly1305::XChaCha20Poly1305;
use xaes_256_gcm::Xaes256Gcm;
use xaes_256_gcm::aead::{AeadInOut, KeyInit};

/// Length in bytes of the random nonce of both algorithms.
pub(crate) const NONCE_LEN: usize = 24;
/// Length in bytes of the authentication tag of both algorithms.
pub(crate) const TAG_LEN: usize = 16;
/// Length in bytes of an AEAD key of both algorithms.
pub(crate) const KEY_LEN: usize = 32;

/// The AEAD that seals new cookies. Opening accepts both, whichever the codec
/// is set to.
///
/// ```
/// use sealed_session::Algorithm;
/// assert_eq!(Algorithm::default(), Algorithm::XAes256Gcm);
/// assert_eq!("xchacha20-poly1305".parse::<Algorithm>(), Ok(Algorithm::XChaCha20Poly1305));
/// assert!("aes-128-gcm".parse::<Algorithm>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// XAES-256-GCM (C2SP): AES-256-GCM with a 24-byte nonce, through a fresh
    /// per-message key derived from the nonce. Fastest on CPUs with AES
    /// instructions (AES-NI on x86, the ARMv8 crypto extensions). Wire id `0x01`.
    #[default]
    XAes256Gcm,
    /// XChaCha20-Poly1305: constant-time in software everywhere, and the faster
    /// choice on CPUs without AES instructions. Wire id `0x02`.
    XChaCha20Poly1305,
}

impl Algorithm {
    /// Both algorithms, in wire-id order.
    pub const ALL: [Algorithm; 2] = [Algorithm::XAes256Gcm, Algorithm::XChaCha20Poly1305];

    /// The byte that names the algorithm in a token.
    #[must_use]
    pub const fn wire_id(self) -> u8 {
        match self {
            Self::XAes256Gcm => 0x01,
            Self::XChaCha20Poly1305 => 0x02,
        }
    }

    /// The algorithm a token byte names, if any.
    #[must_use]
    pub const fn from_wire_id(id: u8) -> Option<Self> {
        match id {
            0x01 => Some(Self::XAes256Gcm),
            0x02 => Some(Self::XChaCha20Poly1305),
            _ => None,
        }
    }

    /// The lowercase name used in configuration and in the test vectors:
    /// `"xaes-256-gcm"` or `"xchacha20-poly1305"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::XAes256Gcm => "xaes-256-gcm",
            Self::XChaCha20Poly1305 => "xchacha20-poly1305",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Returned when parsing an [`Algorithm`] from a name it does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownAlgorithmName;

impl fmt::Display for UnknownAlgorithmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown algorithm; expected \"xaes-256-gcm\" or \"xchacha20-poly1305\"")
    }
}

impl std::error::Error for UnknownAlgorithmName {}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithmName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or(UnknownAlgorithmName)
    }
}

/// One secret's AEAD instances, one per algorithm, keyed once at keyring
/// construction. Both cipher types zeroize their key material on drop (the
/// `zeroize` features of `xaes-256-gcm` and `chacha20poly1305` are enabled).
#[derive(Clone)]
pub(crate) struct AeadKeys {
    xaes: Xaes256Gcm,
    xchacha: XChaCha20Poly1305,
}

impl AeadKeys {
    /// Keys both ciphers. The caller zeroizes the key bytes.
    pub(crate) fn new(xaes_key: &[u8; KEY_LEN], xchacha_key: &[u8; KEY_LEN]) -> Self {
        Self {
            xaes: Xaes256Gcm::new(xaes_key.into()),
            xchacha: XChaCha20Poly1305::new(xchacha_key.into()),
        }
    }

    /// Encrypts `buffer` in place and returns the tag.
    ///
    /// Fails only if the buffer exceeds the algorithm's plaintext limit, which
    /// no cookie-sized buffer can.
    pub(crate) fn encrypt(
        &self,
        algorithm: Algorithm,
        nonce: &[u8; NONCE_LEN],
        associated_data: &[u8],
        buffer: &mut [u8],
    ) -> Result<[u8; TAG_LEN], xaes_256_gcm::aead::Error> {
        let nonce = (*nonce).into();
        let tag = match algorithm {
            Algorithm::XAes256Gcm => {
                self.xaes
                    .encrypt_inout_detached(&nonce, associated_data, buffer.into())?
            }
            Algorithm::XChaCha20Poly1305 => {
                self.xchacha
                    .encrypt_inout_detached(&nonce, associated_data, buffer.into())?
            }
        };
        Ok(tag.into())
    }

    /// Verifies `tag` and decrypts `buffer` in place. On failure the buffer
    /// content is unspecified and must not be used.
    pub(crate) fn decrypt(
        &self,
        algorithm: Algorithm,
        nonce: &[u8; NONCE_LEN],
        associated_data: &[u8],
        buffer: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), xaes_256_gcm::aead::Error> {
        #[cfg(test)]
        decrypt_calls::record();
        let nonce = (*nonce).into();
        let tag = (*tag).into();
        match algorithm {
            Algorithm::XAes256Gcm => {
                self.xaes
                    .decrypt_inout_detached(&nonce, associated_data, buffer.into(), &tag)
            }
            Algorithm::XChaCha20Poly1305 => {
                self.xchacha
                    .decrypt_inout_detached(&nonce, associated_data, buffer.into(), &tag)
            }
        }
    }
}

impl fmt::Debug for AeadKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AeadKeys(<redacted>)")
    }
}

/// A per-thread count of [`AeadKeys::decrypt`] calls, for the unit tests
/// that bound the AEAD attempts one request can cause
/// (`src/cookies/tests.rs`). Per thread, so tests running in
/// parallel do not see each other's calls.
#[cfg(test)]
pub(crate) mod decrypt_calls {
    use std::cell::Cell;

    std::thread_local! {
        static CALLS: Cell<usize> = const { Cell::new(0) };
    }

    /// Counts one call on this thread.
    pub(super) fn record() {
        CALLS.with(|calls| calls.set(calls.get().saturating_add(1)));
    }

    /// Sets this thread's count back to zero.
    pub(crate) fn reset() {
        CALLS.with(|calls| calls.set(0));
    }

    /// The calls on this thread since the last [`reset`].
    pub(crate) fn read() -> usize {
        CALLS.with(Cell::get)
    }
}

/// The AEADs against their published vectors.
#[cfg(test)]
mod tests;
