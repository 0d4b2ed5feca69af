//! The public identifier of a secret, as tokens carry it.

use core::fmt;

/// The 4-byte public identifier of a secret, carried in every token so that
/// opening tries exactly one key.
///
/// It is derived from the secret (and the codec's application label) with
/// HKDF and reveals nothing about it. It prints as 8 lowercase hex digits,
/// which makes it useful in logs to see which secret a deployment seals
/// with.
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
