//! Token bytes in and out: the v1 layout and its text encoding.
//!
//! ```text
//! token = version (1) | algorithm (1) | key id (4) | nonce (24) | ciphertext | tag (16)
//! associated data = token[0..6] | cookie name (UTF-8)
//!                   [ | 0x00 | SHA-256(context) ]   only for a bound session
//! cookie value = base64url(token), no padding, decoded strictly
//! ```
//!
//! This module checks the structure only; it holds no keys and does no
//! cryptography.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::algorithm::{Algorithm, NONCE_LEN, TAG_LEN};
use crate::error::{ConfigError, Error, Malformed};
use crate::key_id::KeyId;

/// The format version this module reads and writes.
pub(crate) const VERSION: u8 = 0x01;
/// Version, algorithm and key id: the bytes that are also associated data.
pub(crate) const HEADER_LEN: usize = 6;
/// Bytes of a token that are not ciphertext.
pub(crate) const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Longest cookie name accepted, so that associated data fits on the stack.
/// Real cookie names are a few dozen bytes at most.
pub(crate) const MAX_NAME_LEN: usize = 256;

const _: () = assert!(OVERHEAD == 46);

/// The clear-text part of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) algorithm: Algorithm,
    pub(crate) key_id: KeyId,
}

impl Header {
    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let [k0, k1, k2, k3] = self.key_id.to_bytes();
        [VERSION, self.algorithm.wire_id(), k0, k1, k2, k3]
    }
}

/// Length of a [`Binding`] digest.
const BINDING_LEN: usize = 32;

/// Extra request context bound into a seal, such as the client's IP address
/// or a device id: a cookie sealed with one binding opens only with the same
/// binding.
///
/// The context bytes are hashed with SHA-256 and the digest is appended to
/// the associated data (after a zero byte, which no cookie name contains), so
/// the context is never stored in the cookie and can be of any length. A
/// cookie sealed without a binding does not open with one, and the other way
/// round. A mismatch is indistinguishable from tampering:
/// [`Error::AuthenticationFailed`].
///
/// Binding trades availability for theft resistance: a stolen cookie is
/// useless from another context, but a user whose context changes (a phone
/// moving between networks, a dual-stack client, a proxy pool) is logged out.
/// Bind to something stable, and only what you can read reliably (a client IP
/// taken from `X-Forwarded-For` is only as trustworthy as your proxy). For a
/// client address, bind the IP in one canonical form
/// (`ip.to_canonical().to_string()`), never the socket address with its
/// port, which changes with every connection.
///
/// ```
/// use sealed_session::{Binding, Codec, Error, Keyring, OpenOptions, SealOptions};
///
/// let codec = Codec::new(Keyring::new([Keyring::generate_secret()?])?);
/// let home = Binding::new(b"203.0.113.7");
/// let cookie = codec.seal_with(&42u32, &SealOptions::new().binding(home))?;
///
/// let at_home = OpenOptions::new().binding(home);
/// assert_eq!(*codec.open_with::<u32>(&cookie, &at_home)?.value(), 42);
/// let elsewhere = OpenOptions::new().binding(Binding::new(b"198.51.100.20"));
/// assert_eq!(
///     codec.open_with::<u32>(&cookie, &elsewhere).unwrap_err(),
///     Error::AuthenticationFailed
/// );
/// assert!(codec.open::<u32>(&cookie).is_err()); // unbound open
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Binding([u8; BINDING_LEN]);

impl Binding {
    /// The binding for these context bytes.
    #[must_use]
    pub fn new(context: impl AsRef<[u8]>) -> Self {
        Self(Sha256::digest(context.as_ref()).into())
    }
}

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The digest of a client IP is still personal data: keep it out of logs.
        f.write_str("Binding(..)")
    }
}

/// Default cookie name. The `__Host-` prefix makes browsers refuse the
/// cookie unless it is `Secure`, has `Path=/` and no `Domain` (the defaults
/// of [`SessionConfig`](crate::SessionConfig)), so a sibling subdomain or a
/// plain-HTTP page cannot set or shadow it.
pub const DEFAULT_COOKIE_NAME: &str = "__Host-session";
/// Room for the longest associated data: the header, the longest cookie
/// name, a zero byte and a binding digest.
pub(crate) const MAX_AD_LEN: usize = HEADER_LEN + MAX_NAME_LEN + 1 + BINDING_LEN;

/// A cookie name that is an RFC 6265 token (visible ASCII except
/// separators) of 1 to [`MAX_NAME_LEN`] bytes, bound into every seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CookieName(String);

impl CookieName {
    /// Checks `name`.
    pub(crate) fn new(name: String) -> Result<Self, ConfigError> {
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if name.len() > MAX_NAME_LEN {
            Some("it is longer than 256 bytes")
        } else if !name.bytes().all(is_token_byte) {
            Some("it may only hold visible ASCII other than ()<>@,;:\\\"/[]?={}")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(ConfigError::InvalidCookieName { reason }),
            None => Ok(Self(name)),
        }
    }

    /// The default name, `__Host-session`.
    pub(crate) fn default_name() -> Self {
        Self(DEFAULT_COOKIE_NAME.into())
    }

    /// The name as configured.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

/// Writes the associated data (the header, the cookie name and, for a bound
/// session, a zero byte and the binding digest) into `buf`, on the
/// caller's stack, and returns the part written. The buffer holds the
/// longest name, so nothing is ever cut.
pub(crate) fn associated_data<'b>(
    buf: &'b mut [u8; MAX_AD_LEN],
    header: Header,
    cookie_name: &CookieName,
    binding: Option<&Binding>,
) -> &'b [u8] {
    // Every split point is within the buffer whatever the name: the header
    // fits, at most MAX_NAME_LEN name bytes are taken, and what is left
    // after them holds the separator and the digest.
    let name = cookie_name.as_str().as_bytes();
    let (head, rest) = buf.split_at_mut(HEADER_LEN);
    copy(head, &header.to_bytes());
    let (name_slot, rest) = rest.split_at_mut(name.len().min(MAX_NAME_LEN));
    copy(name_slot, name);
    let mut len = HEADER_LEN + name_slot.len();
    if let Some(Binding(digest)) = binding {
        let (separator, digest_slot) = rest.split_at_mut(1);
        copy(separator, &[0]);
        copy(digest_slot, digest);
        len += 1 + BINDING_LEN;
    }
    buf.split_at(len).0
}

/// Copies `from` into the start of `to` (as much as fits).
fn copy(to: &mut [u8], from: &[u8]) {
    for (slot, byte) in to.iter_mut().zip(from) {
        *slot = *byte;
    }
}

/// Length of the base64url (unpadded) text of `n` bytes, or `None` on
/// overflow.
pub(crate) const fn encoded_len(n: usize) -> Option<usize> {
    // ceil(4n / 3), computed as 4 * (n / 3) + (0, 2 or 3 for the remainder).
    let full = match (n / 3).checked_mul(4) {
        Some(v) => v,
        None => return None,
    };
    let tail = match n % 3 {
        0 => 0,
        1 => 2,
        _ => 3,
    };
    full.checked_add(tail)
}

/// The most bytes whose unpadded base64url text fits in `chars` characters.
pub(crate) const fn max_decoded_len(chars: usize) -> usize {
    // Each full group of 4 characters holds 3 bytes; a tail of 2 or 3
    // characters holds 1 or 2 bytes, and a tail of 1 holds none.
    let tail = match chars % 4 {
        2 => 1,
        3 => 2,
        _ => 0,
    };
    (chars / 4) * 3 + tail
}

/// Encodes a token as a cookie value, allocating exactly once.
pub(crate) fn encode(token: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(token)
}

/// Decodes a cookie value strictly: base64url alphabet only, no padding, no
/// whitespace, canonical trailing bits. The buffer is wiped on drop, since it
/// holds plaintext once decrypted in place.
pub(crate) fn decode(value: &str) -> Result<Zeroizing<Vec<u8>>, Malformed> {
    let mut out = Zeroizing::new(Vec::with_capacity(base64::decoded_len_estimate(
        value.len(),
    )));
    URL_SAFE_NO_PAD
        .decode_vec(value, &mut out)
        .map_err(|_| Malformed::Encoding)?;
    Ok(out)
}

/// A token split into its parts; the body is still ciphertext.
pub(crate) struct Parts<'a> {
    pub(crate) header: Header,
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) tag: [u8; TAG_LEN],
    pub(crate) body: &'a mut [u8],
}

/// Checks length, version and algorithm, in that order, and splits the token.
/// Whether the key id is known is for the caller to check next.
pub(crate) fn parse(token: &mut [u8]) -> Result<Parts<'_>, Error> {
    let (front, tag) = token
        .split_last_chunk_mut::<TAG_LEN>()
        .ok_or(Malformed::Truncated)?;
    let (header, rest) = front
        .split_first_chunk_mut::<HEADER_LEN>()
        .ok_or(Malformed::Truncated)?;
    let (nonce, body) = rest
        .split_first_chunk_mut::<NONCE_LEN>()
        .ok_or(Malformed::Truncated)?;
    let [version, algorithm, k0, k1, k2, k3] = *header;
    if version != VERSION {
        return Err(Error::UnsupportedVersion(version));
    }
    let algorithm = Algorithm::from_wire_id(algorithm).ok_or(Error::UnknownAlgorithm(algorithm))?;
    Ok(Parts {
        header: Header {
            algorithm,
            key_id: KeyId([k0, k1, k2, k3]),
        },
        nonce: *nonce,
        tag: *tag,
        body,
    })
}

/// Where the body (envelope and payload, then ciphertext) starts in a
/// token: after the header and the nonce.
pub(crate) const BODY_START: usize = HEADER_LEN + NONCE_LEN;

/// Starts a token being sealed: appends the header and the nonce. The body
/// and then the tag follow.
pub(crate) fn start_token(token: &mut Vec<u8>, header: Header, nonce: &[u8; NONCE_LEN]) {
    token.extend_from_slice(&header.to_bytes());
    token.extend_from_slice(nonce);
}

#[cfg(test)]
mod tests;
