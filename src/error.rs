//! The errors of the crate: [`Error`] for sealing and opening,
//! [`ConfigError`] for building, and the types they carry.
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

use crate::algorithm::Algorithm;
pub use crate::algorithm::UnknownAlgorithmName;
use crate::key_id::KeyId;

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
    /// The token names an algorithm this codec does not open: it was taken
    /// out of [`open_algorithms`](crate::CodecBuilder::open_algorithms).
    DisabledAlgorithm(Algorithm),
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
    /// The session was last sealed (or created) further in the future than
    /// the clock-skew leeway allows. Usually a server whose clock runs fast
    /// sealed it.
    NotYetValid,
    /// The session was created before the codec's
    /// [`reject_created_before`](crate::CodecBuilder::reject_created_before)
    /// cut-off: everybody was logged out after it was issued.
    Revoked,
    /// The cookie is authentic but was sealed under another
    /// [schema label](crate::CodecBuilder::schema): its payload is a value of
    /// another session type (or of the same type with another meaning), so
    /// it is not decoded. Expected for every outstanding cookie right after
    /// the label changes, unless a [migration](crate::CodecBuilder::migrate_from)
    /// accepts the previous label.
    SchemaMismatch,
    /// The payload was authentic, under this codec's schema label, but does
    /// not decode as the requested type, or bytes are left over.
    ///
    /// The session type changed without a new
    /// [schema label](crate::CodecBuilder::schema) in a way postcard cannot
    /// read across, or the type needs a self-describing format to decode
    /// (see [`Unserializable`] for what is refused when sealing and the
    /// README's "Session types" for what is not). A change postcard *can*
    /// read across (reordered enum variants, two fields of the same type
    /// swapped) is not caught here: it reads old cookies with the wrong
    /// meaning. Change the schema label whenever the type changes.
    Deserialize,
    /// The value could not be turned into a payload that opens again; see
    /// [`Unserializable`] for why. Nothing was encrypted.
    Serialize(Unserializable),
    /// The operating system's random number generator failed; no nonce or
    /// session id could be drawn, so nothing was sealed.
    Random,
    /// The keyring or codec configuration is invalid.
    Config(ConfigError),
}

/// Which deadline a session passed; carried by
/// [`Error::Expired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Deadline {
    /// The absolute lifetime, counted from the session's creation.
    Absolute,
    /// The idle timeout, counted from the last time the session was sealed.
    Idle,
}

/// Why a value cannot be sealed; carried by [`Error::Serialize`].
///
/// Sealing refuses every value that the codec would not open again, when
/// that can be seen while serializing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unserializable {
    /// A sequence or map does not say its length up front: postcard needs
    /// it. `#[serde(flatten)]` does this, and so does an iterator serialized
    /// with `collect_seq` without an exact size hint.
    LengthUnknown,
    /// `#[serde(skip_serializing_if = ...)]` skipped a struct field. postcard
    /// reads fields by position, so the value would decode the next field in
    /// its place, or fail. Remove the attribute (use `Option` for optional
    /// fields).
    SkippedField,
    /// A sequence, map, tuple, tuple struct or tuple variant wrote another
    /// number of elements than it declared when it began (a hand-written
    /// `Serialize`, or an iterator whose exact size hint is wrong): postcard
    /// writes the declared length of a sequence or map, and a tuple is read
    /// back with exactly its own number of elements, so the value would be
    /// misread or fail to open.
    LengthMismatch,
    /// The value nests deeper than [`MAX_NESTING`](crate::limits::MAX_NESTING).
    TooDeep,
    /// The value holds more collection elements and map entries, counted at
    /// every level, than its payload has bytes (only collections of
    /// zero-sized values such as `()` can).
    TooManyElements,
    /// The value's `Serialize` implementation failed, or wrote something
    /// else the second time.
    Failed,
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
    /// none empty: one is missing, repeated or empty. (Names with an index
    /// at or beyond `max_chunks` are other cookies and ignored.)
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
    /// A secret is shorter than
    /// [`MIN_SECRET_LEN`](crate::limits::MIN_SECRET_LEN) bytes.
    SecretTooShort {
        /// Position of the secret in the list.
        index: usize,
        /// Its length in bytes (after base64 decoding for `base64:` secrets).
        len: usize,
        /// The shortest length accepted: `MIN_SECRET_LEN`.
        min: usize,
    },
    /// A secret is long enough but cannot be a random secret: it is one of
    /// the examples of this crate's documentation, has fewer than 8 distinct
    /// bytes, or repeats a pattern of 8 bytes or fewer.
    WeakSecret {
        /// Position of the secret in the list.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
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
    /// [`MAX_COOKIE_SIZE_CEILING`](crate::limits::MAX_COOKIE_SIZE_CEILING). Browsers
    /// drop cookies over 4096 bytes anyway.
    CookieSizeTooLarge {
        /// The configured maximum cookie size.
        limit: usize,
        /// The largest accepted value.
        ceiling: usize,
    },
    /// A duration setting is shorter than one second.
    DurationTooShort {
        /// Which setting (`"lifetime"`, `"max_lifetime"` or `"idle_timeout"`).
        setting: &'static str,
    },
    /// The [maximum lifetime](crate::CodecBuilder::max_lifetime) is shorter
    /// than the lifetime of new sessions.
    MaxLifetimeTooShort,
    /// The [cut-off](crate::CodecBuilder::reject_created_before) is later
    /// than now plus the leeway: no session could be created, so nobody
    /// could log in. At seal time (a clock that went back since the codec
    /// was built) no session is made and this is the error.
    CutOffInFuture,
    /// An application label, schema label or migration label is not 0 to 64
    /// bytes of visible ASCII, or two schema labels of one codec collide.
    InvalidLabel {
        /// Which setting (`"app_label"`, `"schema"` or `"migrate_from"`).
        setting: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The algorithm that seals is not among the algorithms that open
    /// ([`open_algorithms`](crate::CodecBuilder::open_algorithms)).
    SealingAlgorithmNotOpened,
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
    /// use sealed_session::error::{Deadline, Error};
    /// assert_eq!(Error::Expired { deadline: Deadline::Idle }.code(), "expired-idle");
    /// ```
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too-large",
            Self::Malformed(_) => "malformed",
            Self::UnsupportedVersion(_) => "unsupported-version",
            Self::UnknownAlgorithm(_) => "unknown-algorithm",
            Self::DisabledAlgorithm(_) => "disabled-algorithm",
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
            Self::SchemaMismatch => "schema-mismatch",
            Self::Deserialize => "deserialize",
            Self::Serialize(_) => "serialize",
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
            Self::DisabledAlgorithm(a) => write!(
                f,
                "session cookie was sealed with {a}, which this configuration does not open"
            ),
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
                "session was sealed in the future beyond the clock-skew leeway; check the \
                 clocks of the servers that share the secrets",
            ),
            Self::Revoked => {
                f.write_str("session was created before the configured cut-off and is revoked")
            }
            Self::SchemaMismatch => f.write_str(
                "session cookie is authentic but was sealed under another schema label (another \
                 session type); it is not decoded",
            ),
            Self::Deserialize => f.write_str(
                "session payload is authentic but does not decode as the requested type; the \
                 session type changed without a new schema label, or cannot be read by postcard",
            ),
            Self::Serialize(reason) => write!(f, "session value cannot be sealed: {reason}"),
            Self::Random => f.write_str("the operating system's random number generator failed"),
            Self::Config(c) => write!(f, "invalid session configuration: {c}"),
        }
    }
}

impl fmt::Display for Unserializable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LengthUnknown => {
                "a sequence or map has no length up front, which postcard needs \
                 (#[serde(flatten)], or an iterator without an exact size)"
            }
            Self::SkippedField => {
                "#[serde(skip_serializing_if)] skipped a field; postcard reads fields by position"
            }
            Self::LengthMismatch => {
                "a sequence, map or tuple wrote another number of elements than it declared"
            }
            Self::TooDeep => "the value nests deeper than MAX_NESTING (128) levels",
            Self::TooManyElements => {
                "the value has more collection elements than payload bytes (zero-sized elements)"
            }
            Self::Failed => "the value's Serialize implementation failed",
        })
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
            Self::SecretTooShort { index, len, min } => write!(
                f,
                "secret #{index} is {len} bytes; every secret needs at least {min} bytes \
                 (generate one with Keyring::generate_secret)"
            ),
            Self::WeakSecret { index, reason } => write!(
                f,
                "secret #{index} is not a random secret: {reason} (generate one with \
                 Keyring::generate_secret)"
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
            Self::MaxLifetimeTooShort => {
                f.write_str("max_lifetime must be at least the lifetime of new sessions")
            }
            Self::CutOffInFuture => f.write_str(
                "reject_created_before is later than now plus the leeway; no session could be \
                 created (use a fixed instant in the past)",
            ),
            Self::InvalidLabel { setting, reason } => write!(f, "invalid {setting}: {reason}"),
            Self::SealingAlgorithmNotOpened => {
                f.write_str("the algorithm that seals must be one of the algorithms that open")
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
