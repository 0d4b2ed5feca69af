//! The one error type of the crate.
//!
//! Errors fall into three groups, and [`Error`] keeps them apart:
//!
//! * **Untrusted input**: the cookie value a client sent could not be opened
//!   ([`Error::Malformed`] through [`Error::Deserialize`], and [`Error::TooLarge`]
//!   when opening). These are expected in production: a web layer turns them into
//!   "no session" and logs [`Error::code`], never the cookie itself.
//! * **Sealing**: the value could not be turned into a cookie ([`Error::TooLarge`],
//!   [`Error::Serialize`], [`Error::Random`]).
//! * **Configuration**: a mistake in how the [`Keyring`](crate::Keyring) or
//!   [`Codec`](crate::Codec) was set up ([`Error::Config`]), reported once, at
//!   construction.

use core::fmt;

use crate::envelope::Deadline;
use crate::keyring::KeyId;

/// Everything that can go wrong when building, sealing or opening.
///
/// Use [`Error::code`] for logs and metrics: it is short, stable and never
/// contains data from the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The cookie name plus value is longer than the configured maximum cookie
    /// size.
    ///
    /// When sealing, the session holds too much data; nothing was encrypted and
    /// nothing should be sent (the browser would drop the cookie silently). When
    /// opening, the input was rejected before any decoding or cryptography.
    TooLarge {
        /// Bytes the cookie needs (name plus value), as browsers count them;
        /// for a [chunked](crate::SessionConfigBuilder::max_chunks) session,
        /// the bytes of all its chunk cookies together.
        size: usize,
        /// The configured maximum cookie size; for a chunked session, the
        /// most its chunk cookies may take together: the
        /// [header budget](crate::SessionConfigBuilder::header_budget), or
        /// `max_chunks` full cookies if that is less.
        limit: usize,
    },
    /// The cookie value is not a well-formed token: see [`Malformed`] for which
    /// part is wrong.
    Malformed(Malformed),
    /// The token's first byte names a format version this release cannot read.
    /// Happens when a newer release sealed the cookie, or the value is not ours.
    UnsupportedVersion(u8),
    /// The token's second byte names no algorithm this release knows.
    UnknownAlgorithm(u8),
    /// The token was sealed under a key id that is not in the keyring: the
    /// secret was retired, or the cookie comes from another deployment.
    UnknownKey(KeyId),
    /// The AEAD tag did not verify: the cookie was modified, truncated, sealed
    /// under another cookie name or context, or forged. Possible tampering.
    AuthenticationFailed,
    /// The session passed one of its deadlines.
    Expired {
        /// Which deadline passed.
        deadline: Deadline,
    },
    /// The session claims a creation time further in the future than the clock
    /// skew leeway allows. Usually a server whose clock runs fast sealed it.
    NotYetValid,
    /// The session was created before the codec's
    /// [`reject_created_before`](crate::CodecBuilder::reject_created_before)
    /// cut-off: everybody was logged out after it was issued.
    Revoked,
    /// The payload was authentic but does not decode as the requested type, or
    /// bytes are left over. The session type changed in a way postcard cannot
    /// read across (renamed enum variants, reordered or removed fields), or
    /// the value nests deeper than [`MAX_NESTING`](crate::MAX_NESTING) or
    /// holds more collection elements and map entries in total than its
    /// payload has bytes, which takes zero-sized elements (both sealed,
    /// refused when opening: see [`MAX_NESTING`](crate::MAX_NESTING)).
    Deserialize,
    /// The value could not be serialized with postcard (for example a sequence
    /// whose length is not known in advance, or a `Serialize` impl that failed).
    Serialize,
    /// The operating system's random number generator failed; no nonce or
    /// session id could be drawn, so nothing was sealed.
    Random,
    /// The keyring or codec configuration is invalid.
    Config(ConfigError),
}

/// Which part of a token is malformed; carried by [`Error::Malformed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    /// The value is not strict base64url without padding (padding, `+`, `/`,
    /// whitespace, non-canonical trailing bits or a length of 1 mod 4).
    Encoding,
    /// The decoded token is shorter than the smallest possible token.
    Truncated,
    /// The token authenticated but its envelope (timestamps and session id)
    /// breaks the format rules. Only a holder of the secret can produce this,
    /// so it points at a foreign implementation with a bug.
    Envelope,
    /// The chunk cookies of a [chunked](crate::SessionConfigBuilder::max_chunks)
    /// session are not exactly `name.0` through `name.(n-1)`, each once and
    /// none empty: one is missing, repeated, empty, or at or beyond
    /// `max_chunks`.
    Chunks,
}

/// A configuration mistake, reported when a [`Keyring`](crate::Keyring) or
/// [`Codec`](crate::Codec) is built; carried by [`Error::Config`].
///
/// Indexes count from 0 in the order the secrets were given (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The list of secrets is empty.
    NoSecrets,
    /// A secret is shorter than [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN) bytes.
    SecretTooShort {
        /// Position of the secret in the list.
        index: usize,
        /// Its length in bytes (after base64 decoding for `base64:` secrets).
        len: usize,
    },
    /// A secret starts with `base64:` but the rest is not standard base64.
    InvalidBase64Secret {
        /// Position of the secret in the list.
        index: usize,
    },
    /// Two secrets derive the same key id: the same secret is listed twice
    /// (or, with negligible probability, two secrets collide on 32 bits).
    DuplicateKeyId {
        /// Position of the later secret.
        index: usize,
        /// Position of the earlier secret with the same key id.
        earlier: usize,
    },
    /// The environment variable passed to
    /// [`Keyring::from_env`](crate::Keyring::from_env) is not set.
    MissingEnvVar {
        /// The variable's name.
        name: String,
    },
    /// The environment variable is set but is not valid Unicode.
    EnvVarNotUnicode {
        /// The variable's name.
        name: String,
    },
    /// The cookie name is not a valid cookie name.
    InvalidCookieName {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The maximum cookie size leaves no room for even an empty session.
    CookieSizeTooSmall {
        /// The configured maximum cookie size.
        limit: usize,
        /// The smallest size that fits an empty session under this cookie name.
        minimum: usize,
    },
    /// The maximum cookie size is over
    /// [`MAX_COOKIE_SIZE_CEILING`](crate::MAX_COOKIE_SIZE_CEILING). Browsers
    /// drop cookies over 4096 bytes anyway.
    CookieSizeTooLarge {
        /// The configured maximum cookie size.
        limit: usize,
        /// The largest accepted value.
        ceiling: usize,
    },
    /// A duration setting is shorter than one second.
    DurationTooShort {
        /// Which setting (`"lifetime"` or `"idle_timeout"`).
        setting: &'static str,
    },
    /// The cookie name starts with `__Host-` or `__Secure-` (in any case) but
    /// the cookie attributes break that prefix's rules, so browsers would
    /// silently refuse every `Set-Cookie`.
    CookiePrefix {
        /// The prefix, as browsers spell it.
        prefix: &'static str,
        /// What the prefix requires.
        requires: &'static str,
    },
    /// A `Set-Cookie` attribute setting is invalid or is one that browsers
    /// refuse in this combination.
    CookieAttribute {
        /// The attribute (`"Path"`, `"Domain"`, `"SameSite"`, ...).
        attribute: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The chunking settings ([`max_chunks`](crate::SessionConfigBuilder::max_chunks),
    /// [`header_budget`](crate::SessionConfigBuilder::header_budget)) are out
    /// of range.
    Chunking {
        /// What is wrong with them.
        reason: &'static str,
    },
}

impl Error {
    /// A short, stable, lowercase code for logs and metrics, such as
    /// `"authentication-failed"` or `"expired-idle"`.
    ///
    /// The codes are part of the published test vectors
    /// (`tests/vectors/v1.json`) and do not change within a major version.
    ///
    /// ```
    /// use sealed_session::{Deadline, Error};
    /// assert_eq!(Error::Expired { deadline: Deadline::Idle }.code(), "expired-idle");
    /// ```
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too-large",
            Self::Malformed(_) => "malformed",
            Self::UnsupportedVersion(_) => "unsupported-version",
            Self::UnknownAlgorithm(_) => "unknown-algorithm",
            Self::UnknownKey(_) => "unknown-key",
            Self::AuthenticationFailed => "authentication-failed",
            Self::Expired {
                deadline: Deadline::Absolute,
            } => "expired-absolute",
            Self::Expired {
                deadline: Deadline::Idle,
            } => "expired-idle",
            Self::NotYetValid => "not-yet-valid",
            Self::Revoked => "revoked",
            Self::Deserialize => "deserialize",
            Self::Serialize => "serialize",
            Self::Random => "random",
            Self::Config(_) => "config",
        }
    }

    /// Whether the error can only come from a modified or forged cookie (an
    /// AEAD failure), as opposed to an old, expired or foreign one. Worth a
    /// warning in logs.
    #[must_use]
    pub fn is_possible_tampering(&self) -> bool {
        matches!(self, Self::AuthenticationFailed)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { size, limit } => write!(
                f,
                "session cookie would be {size} bytes (name plus value, summed over the \
                 chunk cookies of a chunked session), over the limit of {limit}; store less in the session, or keep large data server-side and store \
                 its key"
            ),
            Self::Malformed(m) => write!(f, "session cookie is malformed: {m}"),
            Self::UnsupportedVersion(v) => write!(
                f,
                "session cookie has format version {v}, this release reads version 1 only"
            ),
            Self::UnknownAlgorithm(a) => {
                write!(f, "session cookie names unknown algorithm 0x{a:02x}")
            }
            Self::UnknownKey(id) => write!(
                f,
                "session cookie was sealed under key id {id}, which is not in the keyring \
                 (a retired secret or another deployment)"
            ),
            Self::AuthenticationFailed => f.write_str(
                "session cookie failed authentication: it was modified, forged, or sealed \
                 under another cookie name or context",
            ),
            Self::Expired {
                deadline: Deadline::Absolute,
            } => f.write_str("session expired: its absolute lifetime is over"),
            Self::Expired {
                deadline: Deadline::Idle,
            } => f.write_str("session expired: it was idle for longer than the idle timeout"),
            Self::NotYetValid => f.write_str(
                "session was created in the future beyond the clock-skew leeway; check the \
                 clocks of the servers that share the secrets",
            ),
            Self::Revoked => {
                f.write_str("session was created before the configured cut-off and is revoked")
            }
            Self::Deserialize => f.write_str(
                "session payload is authentic but does not decode as the requested type; the \
                 session type probably changed incompatibly between releases",
            ),
            Self::Serialize => f.write_str(
                "session value cannot be serialized with postcard (sequences and maps must \
                 know their length up front)",
            ),
            Self::Random => f.write_str("the operating system's random number generator failed"),
            Self::Config(c) => write!(f, "invalid session configuration: {c}"),
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Encoding => "value is not strict unpadded base64url",
            Self::Truncated => "token is shorter than the smallest valid token",
            Self::Envelope => "authenticated envelope breaks the format rules",
            Self::Chunks => {
                "chunk cookies are not one contiguous set name.0 .. name.(n-1) within max_chunks"
            }
        })
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSecrets => f.write_str("no secrets given; at least one is required"),
            Self::SecretTooShort { index, len } => write!(
                f,
                "secret #{index} is {len} bytes; every secret needs at least {} bytes \
                 (generate one with Keyring::generate_secret)",
                crate::keyring::MIN_SECRET_LEN
            ),
            Self::InvalidBase64Secret { index } => write!(
                f,
                "secret #{index} starts with \"base64:\" but the rest is not standard base64"
            ),
            Self::DuplicateKeyId { index, earlier } => write!(
                f,
                "secret #{index} derives the same key id as secret #{earlier}; the same \
                 secret is listed twice"
            ),
            Self::MissingEnvVar { name } => {
                write!(f, "environment variable {name} is not set")
            }
            Self::EnvVarNotUnicode { name } => {
                write!(f, "environment variable {name} is not valid Unicode")
            }
            Self::InvalidCookieName { reason } => write!(f, "invalid cookie name: {reason}"),
            Self::CookieSizeTooSmall { limit, minimum } => write!(
                f,
                "max cookie size {limit} is too small; an empty session under this name needs \
                 {minimum} bytes"
            ),
            Self::CookieSizeTooLarge { limit, ceiling } => write!(
                f,
                "max cookie size {limit} is over the ceiling of {ceiling} bytes; browsers \
                 drop cookies over 4096 bytes"
            ),
            Self::DurationTooShort { setting } => {
                write!(f, "{setting} must be at least one second")
            }
            Self::CookiePrefix { prefix, requires } => write!(
                f,
                "cookie names starting with {prefix} require {requires}; browsers refuse the \
                 cookie otherwise"
            ),
            Self::CookieAttribute { attribute, reason } => {
                write!(f, "invalid cookie attribute {attribute}: {reason}")
            }
            Self::Chunking { reason } => write!(f, "invalid chunking setting: {reason}"),
        }
    }
}

impl std::error::Error for Error {}
impl std::error::Error for ConfigError {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        Self::Malformed(m)
    }
}
