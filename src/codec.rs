//! The codec: ties keyring, wire format and envelope together into `seal` and
//! `open`, and holds the settings.

use core::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::algorithm::{Algorithm, NONCE_LEN};
use crate::chunks::Chunking;
use crate::envelope::{
    ClockRules, Envelope, ID_LEN, MAX_ENVELOPE_LEN, SessionId, unix_secs, unix_secs_ceil,
};
use crate::error::{ConfigError, Error};
use crate::keyring::{KeyId, Keyring};
use crate::wire::{self, AssociatedData, Binding, Header, MAX_NAME_LEN, OVERHEAD};

/// Default cookie name.
pub const DEFAULT_COOKIE_NAME: &str = "session";
/// Default absolute lifetime: 7 days.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Default maximum cookie size (name plus value), the limit every major
/// browser enforces per cookie.
pub const DEFAULT_MAX_COOKIE_SIZE: usize = 4096;
/// Largest accepted maximum cookie size. Browsers drop cookies over 4096
/// bytes; the higher ceiling exists for non-browser clients and tests.
pub const MAX_COOKIE_SIZE_CEILING: usize = 65_536;
/// Default clock-skew leeway for creation times in the future: 60 seconds.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// Seals serde values into cookie values and opens them again.
///
/// A codec holds a [`Keyring`] and the session settings. It is `Send + Sync`,
/// cheap to clone (one reference count), and never locks: share one per
/// cookie name across the whole application.
///
/// ```
/// use sealed_session::{Codec, Keyring};
/// use std::time::Duration;
///
/// let keyring = Keyring::new(["an example secret that is 32+ bytes long"])?;
/// let codec = Codec::builder(keyring)
///     .cookie_name("id")
///     .lifetime(Duration::from_secs(24 * 60 * 60))
///     .idle_timeout(Duration::from_secs(30 * 60))
///     .build()?;
///
/// let cookie = codec.seal(&("alice", 42u32))?;
/// let opened = codec.open::<(String, u32)>(&cookie)?;
/// assert_eq!(opened.value(), &("alice".to_string(), 42));
///
/// // Any change to the cookie is caught.
/// let mut tampered = cookie.clone();
/// tampered.replace_range(40..41, if &cookie[40..41] == "A" { "B" } else { "A" });
/// assert!(codec.open::<(String, u32)>(&tampered).is_err());
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct Codec {
    inner: Arc<Settings>,
}

struct Settings {
    keyring: Keyring,
    cookie_name: String,
    algorithm: Algorithm,
    lifetime: u64,
    idle_timeout: Option<u64>,
    max_cookie_size: usize,
    rules: ClockRules,
}

/// Settings for a [`Codec`]; start with [`Codec::builder`].
///
/// Every setting has a default: cookie name `session`, [`Algorithm::XAes256Gcm`],
/// 7-day lifetime, no idle timeout, 4096-byte maximum cookie size, 60-second
/// clock-skew leeway, no cut-off.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CodecBuilder {
    keyring: Keyring,
    cookie_name: String,
    algorithm: Algorithm,
    lifetime: Duration,
    idle_timeout: Option<Duration>,
    max_cookie_size: usize,
    leeway: Duration,
    reject_created_before: Option<SystemTime>,
}

impl CodecBuilder {
    /// The cookie name (default `session`). It is bound into every seal as
    /// associated data: a value sealed under one name never opens under
    /// another. Must be an RFC 6265 token (visible ASCII without separators)
    /// of at most 256 bytes.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// The algorithm new cookies are sealed with (default XAES-256-GCM).
    /// Opening accepts both.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Absolute lifetime of a session, counted from its creation and kept
    /// across re-seals (default 7 days). Whole seconds; at least one.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Idle timeout: a session not sealed again within this long expires
    /// (default: none). Whole seconds; at least one.
    pub fn idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = Some(idle_timeout);
        self
    }

    /// Maximum cookie size, counted as browsers do: name plus value bytes
    /// (default 4096, at most [`MAX_COOKIE_SIZE_CEILING`]).
    pub fn max_cookie_size(mut self, bytes: usize) -> Self {
        self.max_cookie_size = bytes;
        self
    }

    /// How far in the future a creation time may lie before the session is
    /// rejected as not yet valid (default 60 s). Covers clock skew between
    /// servers that share the secrets. Deadlines get no leeway.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Revokes every session created before `instant`: log everybody out
    /// without rotating secrets.
    ///
    /// Creation times are sealed in whole seconds, so the cut-off is rounded
    /// up to a whole second: every session created before `instant` is
    /// revoked, and so is one created later within the same second. Sessions
    /// created from the next whole second on open.
    pub fn reject_created_before(mut self, instant: SystemTime) -> Self {
        self.reject_created_before = Some(instant);
        self
    }

    /// Checks the settings and builds the codec.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] with [`ConfigError::InvalidCookieName`],
    /// [`ConfigError::CookieSizeTooSmall`], [`ConfigError::CookieSizeTooLarge`]
    /// or [`ConfigError::DurationTooShort`].
    pub fn build(self) -> Result<Codec, Error> {
        check_cookie_name(&self.cookie_name)?;
        let lifetime = self.lifetime.as_secs();
        if lifetime == 0 {
            return Err(ConfigError::DurationTooShort {
                setting: "lifetime",
            }
            .into());
        }
        let idle_timeout = match self.idle_timeout.map(|d| d.as_secs()) {
            Some(0) => {
                return Err(ConfigError::DurationTooShort {
                    setting: "idle_timeout",
                }
                .into());
            }
            other => other,
        };
        let minimum = self
            .cookie_name
            .len()
            .saturating_add(wire::encoded_len(OVERHEAD + MAX_ENVELOPE_LEN).unwrap_or(usize::MAX));
        if self.max_cookie_size < minimum {
            return Err(ConfigError::CookieSizeTooSmall {
                limit: self.max_cookie_size,
                minimum,
            }
            .into());
        }
        if self.max_cookie_size > MAX_COOKIE_SIZE_CEILING {
            return Err(ConfigError::CookieSizeTooLarge {
                limit: self.max_cookie_size,
                ceiling: MAX_COOKIE_SIZE_CEILING,
            }
            .into());
        }
        Ok(Codec {
            inner: Arc::new(Settings {
                keyring: self.keyring,
                cookie_name: self.cookie_name,
                algorithm: self.algorithm,
                lifetime,
                idle_timeout,
                max_cookie_size: self.max_cookie_size,
                rules: ClockRules {
                    leeway: self.leeway.as_secs(),
                    not_before: self.reject_created_before.map(unix_secs_ceil),
                },
            }),
        })
    }
}

/// An opened cookie: the value and the session's envelope.
///
/// Change the value with [`Opened::value_mut`] and seal it again with
/// [`Codec::reseal`], which keeps the id, creation time and absolute deadline.
#[derive(Debug, Clone)]
pub struct Opened<T> {
    value: T,
    envelope: Envelope,
    key_id: KeyId,
    algorithm: Algorithm,
    old_secret: bool,
    other_algorithm: bool,
    /// The binding it was opened with, which [`Codec::reseal`] keeps.
    binding: Option<Binding>,
}

impl<T> Opened<T> {
    /// The session value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The session value, to change before [`Codec::reseal`].
    pub fn value_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// The session value, dropping the envelope.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The value and the envelope, to seal later with [`Codec::seal_with`].
    pub fn into_parts(self) -> (T, Envelope) {
        (self.value, self.envelope)
    }

    /// The session's id, creation time and deadlines.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The 128-bit session id.
    pub fn id(&self) -> SessionId {
        self.envelope.id()
    }

    /// When the session was created.
    pub fn created_at(&self) -> SystemTime {
        self.envelope.created_at()
    }

    /// When the session expires whatever its activity.
    pub fn absolute_deadline(&self) -> SystemTime {
        self.envelope.absolute_deadline()
    }

    /// When the session expires unless sealed again, if it has an idle
    /// deadline.
    pub fn idle_deadline(&self) -> Option<SystemTime> {
        self.envelope.idle_deadline()
    }

    /// The key id the cookie was sealed under.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The algorithm the cookie was sealed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether the cookie was sealed under a secret other than the current
    /// (first) one. Re-seal it so that the old secret can be retired.
    pub fn sealed_with_old_secret(&self) -> bool {
        self.old_secret
    }

    /// Whether the cookie should be sealed again even if the value did not
    /// change: it was sealed under an old secret or with an algorithm other
    /// than the configured one.
    ///
    /// With an idle timeout there is one more reason, which this does not
    /// report: a session that is not resealed before its
    /// [idle deadline](Opened::idle_deadline) expires, so reseal active
    /// sessions often enough (for example once half the idle window passed).
    pub fn needs_reseal(&self) -> bool {
        self.old_secret || self.other_algorithm
    }
}

impl Codec {
    /// A codec with every setting at its default (see [`CodecBuilder`]).
    #[must_use]
    pub fn new(keyring: Keyring) -> Self {
        Self {
            inner: Arc::new(Settings {
                keyring,
                cookie_name: DEFAULT_COOKIE_NAME.into(),
                algorithm: Algorithm::default(),
                lifetime: DEFAULT_LIFETIME.as_secs(),
                idle_timeout: None,
                max_cookie_size: DEFAULT_MAX_COOKIE_SIZE,
                rules: ClockRules {
                    leeway: DEFAULT_LEEWAY.as_secs(),
                    not_before: None,
                },
            }),
        }
    }

    /// Starts a [`CodecBuilder`] with every setting at its default.
    pub fn builder(keyring: Keyring) -> CodecBuilder {
        CodecBuilder {
            keyring,
            cookie_name: DEFAULT_COOKIE_NAME.into(),
            algorithm: Algorithm::default(),
            lifetime: DEFAULT_LIFETIME,
            idle_timeout: None,
            max_cookie_size: DEFAULT_MAX_COOKIE_SIZE,
            leeway: DEFAULT_LEEWAY,
            reject_created_before: None,
        }
    }

    /// The cookie name, bound into every seal.
    #[must_use]
    pub fn cookie_name(&self) -> &str {
        &self.inner.cookie_name
    }

    /// The algorithm new cookies are sealed with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.inner.algorithm
    }

    /// The absolute lifetime of new sessions.
    #[must_use]
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(self.inner.lifetime)
    }

    /// The idle timeout, if any.
    #[must_use]
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.inner.idle_timeout.map(Duration::from_secs)
    }

    /// The maximum cookie size (name plus value bytes).
    #[must_use]
    pub fn max_cookie_size(&self) -> usize {
        self.inner.max_cookie_size
    }

    /// The keyring.
    #[must_use]
    pub fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }

    /// The largest payload (postcard bytes of the value) that always fits in
    /// one cookie under this codec's name and limit, whatever the algorithm
    /// and the date.
    ///
    /// With the defaults (name `session`, 4096 bytes) this is 2986 bytes. It
    /// assumes the longest timestamps the format allows (6 bytes each); a
    /// session sealed between 1978 and 3058 has 5-byte timestamps and fits 7
    /// more bytes without an idle timeout (3 with one). [`Codec::seal`]
    /// checks the exact size.
    ///
    /// ```
    /// use sealed_session::{Codec, Keyring};
    /// let codec = Codec::new(Keyring::new(["an example secret that is 32+ bytes long"])?);
    /// assert_eq!(codec.max_payload_len(), 2986);
    /// assert!(codec.seal(&vec![0u8; 2986 - 2]).is_ok()); // 2 bytes of length prefix
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn max_payload_len(&self) -> usize {
        let value_chars = self
            .inner
            .max_cookie_size
            .saturating_sub(self.inner.cookie_name.len());
        wire::max_decoded_len(value_chars).saturating_sub(OVERHEAD + MAX_ENVELOPE_LEN)
    }

    /// A fresh envelope: new random session id, created now, deadlines from
    /// the settings. Use it after login (session fixation defence) or to give
    /// one session its own lifetime with [`Envelope::with_lifetime`].
    ///
    /// # Errors
    ///
    /// [`Error::Random`] if the random number generator fails.
    pub fn new_envelope(&self) -> Result<Envelope, Error> {
        self.new_envelope_at(SystemTime::now())
    }

    /// [`Codec::new_envelope`] at an explicit time.
    ///
    /// # Errors
    ///
    /// As [`Codec::new_envelope`].
    pub fn new_envelope_at(&self, now: SystemTime) -> Result<Envelope, Error> {
        Ok(Envelope::fresh(
            SessionId::random()?,
            unix_secs(now),
            self.inner.lifetime,
            self.inner.idle_timeout,
        ))
    }

    /// The envelope as a seal at `now` writes it: same id, creation time and
    /// absolute deadline, idle deadline moved to `now` plus the idle timeout
    /// (never past the absolute deadline). Its [`Envelope::expires_at`] is
    /// when the cookie sealed at `now` stops opening.
    ///
    /// ```
    /// use sealed_session::{Codec, Keyring};
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let codec = Codec::builder(Keyring::new(["an example secret that is 32+ bytes long"])?)
    ///     .idle_timeout(Duration::from_secs(600))
    ///     .build()?;
    /// let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// let opened = codec.open_at::<u32>(&codec.seal_at(&1, t0)?, t0)?;
    /// let later = t0 + Duration::from_secs(300);
    /// let value = codec.reseal_at(&opened, later)?;
    /// let envelope = codec.sealed_envelope_at(opened.envelope(), later);
    /// assert_eq!(envelope.expires_at(), later + Duration::from_secs(600));
    /// assert_eq!(codec.open_at::<u32>(&value, later)?.envelope(), &envelope);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn sealed_envelope_at(&self, envelope: &Envelope, now: SystemTime) -> Envelope {
        envelope.touched(unix_secs(now), self.inner.idle_timeout)
    }

    /// Seals `value` as a new session (fresh id, created now) and returns the
    /// cookie value.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] when the cookie would exceed the maximum size (checked
    /// before encrypting), [`Error::Serialize`], or [`Error::Random`].
    pub fn seal<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, Error> {
        self.seal_at(value, SystemTime::now())
    }

    /// [`Codec::seal`] at an explicit time.
    ///
    /// # Errors
    ///
    /// As [`Codec::seal`].
    pub fn seal_at<T: Serialize + ?Sized>(
        &self,
        value: &T,
        now: SystemTime,
    ) -> Result<String, Error> {
        self.seal_session_at(value, None, None, None, Chunking::ONE, now)
            .map(|(token, _)| token)
    }

    /// Seals `value` into `envelope`, or into a new session (with its own
    /// `lifetime` if given) when `envelope` is `None`, and returns the cookie
    /// value with the envelope it carries. The seal path of [`Codec::seal`]
    /// and of the http helper's [`Session`](crate::Session).
    pub(crate) fn seal_session_at<T: Serialize + ?Sized>(
        &self,
        value: &T,
        envelope: Option<&Envelope>,
        lifetime: Option<Duration>,
        binding: Option<&Binding>,
        chunking: Chunking,
        now: SystemTime,
    ) -> Result<(String, Envelope), Error> {
        match envelope {
            Some(envelope) => {
                self.seal_value(value, envelope, binding, chunking, now, random_nonce)
            }
            None => {
                // The id is a placeholder until the size check passed; then
                // one system call draws both the session id and the nonce
                // (on many machines a `getrandom` call costs as much as the
                // encryption).
                let fresh = Envelope::fresh(
                    SessionId::from_random_bytes([0; ID_LEN]),
                    unix_secs(now),
                    self.inner.lifetime,
                    self.inner.idle_timeout,
                );
                let fresh = match lifetime {
                    Some(lifetime) => fresh.with_lifetime(lifetime),
                    None => fresh,
                };
                self.seal_value(value, &fresh, binding, chunking, now, random_id_and_nonce)
            }
        }
    }

    /// Seals `value` into an existing session: the envelope's id, creation
    /// time and absolute deadline are kept, and the idle deadline moves to
    /// now plus the idle timeout.
    ///
    /// Call [`Codec::sealed_envelope_at`] with the same instant to learn the
    /// deadlines the cookie carries (for its `Expires` attribute).
    ///
    /// # Errors
    ///
    /// As [`Codec::seal`], and the errors opening would give for this
    /// envelope at this instant: [`Error::Expired`] once either deadline has
    /// passed (resealing never revives a session), [`Error::Revoked`] if it
    /// was created before the cut-off, [`Error::NotYetValid`] if it was
    /// created further ahead than the leeway. Such a cookie could not be
    /// opened, so none is made.
    pub fn seal_with<T: Serialize + ?Sized>(
        &self,
        value: &T,
        envelope: &Envelope,
    ) -> Result<String, Error> {
        self.seal_with_at(value, envelope, SystemTime::now())
    }

    /// [`Codec::seal_with`] at an explicit time.
    ///
    /// # Errors
    ///
    /// As [`Codec::seal_with`].
    pub fn seal_with_at<T: Serialize + ?Sized>(
        &self,
        value: &T,
        envelope: &Envelope,
        now: SystemTime,
    ) -> Result<String, Error> {
        self.seal_value(value, envelope, None, Chunking::ONE, now, random_nonce)
            .map(|(token, _)| token)
    }

    /// The serde seal path shared by the `seal*` methods: the cookie value
    /// and the envelope it carries.
    fn seal_value<T: Serialize + ?Sized>(
        &self,
        value: &T,
        envelope: &Envelope,
        binding: Option<&Binding>,
        chunking: Chunking,
        now: SystemTime,
        nonce: impl FnOnce() -> Result<Drawn, Error>,
    ) -> Result<(String, Envelope), Error> {
        let payload_len = postcard::serialize_with_flavor::<T, _, usize>(
            value,
            postcard::ser_flavors::Size::default(),
        )
        .map_err(|_| Error::Serialize)?;
        self.seal_payload(
            payload_len,
            envelope,
            binding,
            chunking,
            unix_secs(now),
            |out| match postcard::to_slice(value, out) {
                Ok(written) if written.len() == payload_len => Ok(()),
                // A `Serialize` impl that wrote something else the second time.
                _ => Err(Error::Serialize),
            },
            nonce,
        )
    }

    /// Seals `value` into a session bound to a request context (see
    /// [`Binding`]): it opens only through [`Codec::open_bound`] with the
    /// same binding. Otherwise as [`Codec::seal_with`].
    ///
    /// # Errors
    ///
    /// As [`Codec::seal_with`].
    pub fn seal_bound<T: Serialize + ?Sized>(
        &self,
        value: &T,
        envelope: &Envelope,
        binding: &Binding,
    ) -> Result<String, Error> {
        self.seal_bound_at(value, envelope, binding, SystemTime::now())
    }

    /// [`Codec::seal_bound`] at an explicit time.
    ///
    /// # Errors
    ///
    /// As [`Codec::seal_with`].
    pub fn seal_bound_at<T: Serialize + ?Sized>(
        &self,
        value: &T,
        envelope: &Envelope,
        binding: &Binding,
        now: SystemTime,
    ) -> Result<String, Error> {
        self.seal_value(
            value,
            envelope,
            Some(binding),
            Chunking::ONE,
            now,
            random_nonce,
        )
        .map(|(token, _)| token)
    }

    /// Seals the opened session's value again: same id, creation time and
    /// absolute deadline, idle deadline moved forward, current secret and
    /// configured algorithm, and the same [`Binding`] if it was opened with
    /// [`Codec::open_bound`].
    ///
    /// # Errors
    ///
    /// As [`Codec::seal_with`].
    pub fn reseal<T: Serialize>(&self, opened: &Opened<T>) -> Result<String, Error> {
        self.reseal_at(opened, SystemTime::now())
    }

    /// [`Codec::reseal`] at an explicit time.
    ///
    /// # Errors
    ///
    /// As [`Codec::seal_with`].
    pub fn reseal_at<T: Serialize>(
        &self,
        opened: &Opened<T>,
        now: SystemTime,
    ) -> Result<String, Error> {
        self.seal_value(
            &opened.value,
            &opened.envelope,
            opened.binding.as_ref(),
            Chunking::ONE,
            now,
            random_nonce,
        )
        .map(|(token, _)| token)
    }

    /// Seals raw payload bytes into a session, for callers that serialize
    /// with something other than serde and postcard. The bytes are the
    /// payload of the wire format as they are.
    ///
    /// # Errors
    ///
    /// As [`Codec::seal_with`].
    pub fn seal_bytes_with_at(
        &self,
        payload: &[u8],
        envelope: &Envelope,
        now: SystemTime,
    ) -> Result<String, Error> {
        self.seal_payload(
            payload.len(),
            envelope,
            None,
            Chunking::ONE,
            unix_secs(now),
            |out| {
                out.copy_from_slice(payload);
                Ok(())
            },
            random_nonce,
        )
        .map(|(token, _)| token)
    }

    /// Opens a cookie value into a `T`.
    ///
    /// # Errors
    ///
    /// One variant per check, in this order: [`Error::TooLarge`] (before any
    /// decoding), [`Error::Malformed`], [`Error::UnsupportedVersion`],
    /// [`Error::UnknownAlgorithm`], [`Error::UnknownKey`],
    /// [`Error::AuthenticationFailed`], [`Error::Malformed`] (envelope),
    /// [`Error::Expired`], [`Error::NotYetValid`], [`Error::Revoked`],
    /// [`Error::Deserialize`].
    pub fn open<T: DeserializeOwned>(&self, value: &str) -> Result<Opened<T>, Error> {
        self.open_at(value, SystemTime::now())
    }

    /// [`Codec::open`] at an explicit time.
    ///
    /// # Errors
    ///
    /// As [`Codec::open`].
    pub fn open_at<T: DeserializeOwned>(
        &self,
        value: &str,
        now: SystemTime,
    ) -> Result<Opened<T>, Error> {
        self.open_value(value, None, Chunking::ONE, now)
    }

    /// Opens a cookie value sealed by [`Codec::seal_bound`] with the same
    /// binding. A different binding, or none at sealing time, gives
    /// [`Error::AuthenticationFailed`].
    ///
    /// # Errors
    ///
    /// As [`Codec::open`].
    pub fn open_bound<T: DeserializeOwned>(
        &self,
        value: &str,
        binding: &Binding,
    ) -> Result<Opened<T>, Error> {
        self.open_bound_at(value, binding, SystemTime::now())
    }

    /// [`Codec::open_bound`] at an explicit time.
    ///
    /// # Errors
    ///
    /// As [`Codec::open`].
    pub fn open_bound_at<T: DeserializeOwned>(
        &self,
        value: &str,
        binding: &Binding,
        now: SystemTime,
    ) -> Result<Opened<T>, Error> {
        self.open_value(value, Some(binding), Chunking::ONE, now)
    }

    /// The serde open path shared by the `open*` methods and the http
    /// helper, which passes its [`Chunking`] for the joined text of chunk
    /// cookies (and [`Chunking::ONE`] for a single cookie).
    pub(crate) fn open_value<T: DeserializeOwned>(
        &self,
        value: &str,
        binding: Option<&Binding>,
        chunking: Chunking,
        now: SystemTime,
    ) -> Result<Opened<T>, Error> {
        self.open_payload(value, binding, chunking, unix_secs(now), |payload| {
            crate::depth::from_bytes::<T>(payload)
        })
    }

    /// Opens a cookie value and returns the raw payload bytes (wiped on
    /// drop). The counterpart of [`Codec::seal_bytes_with_at`]; never returns
    /// [`Error::Deserialize`].
    ///
    /// # Errors
    ///
    /// As [`Codec::open`].
    pub fn open_bytes_at(
        &self,
        value: &str,
        now: SystemTime,
    ) -> Result<Opened<Zeroizing<Vec<u8>>>, Error> {
        self.open_payload(value, None, Chunking::ONE, unix_secs(now), |payload| {
            Ok(Zeroizing::new(payload.to_vec()))
        })
    }

    /// The seal path shared by every `seal*` method. `write_payload` gets a
    /// slice of exactly `payload_len` bytes to fill; `draw` gives the nonce
    /// (and the id of a new session), once the size check passed. Returns
    /// the cookie value and the envelope it carries.
    ///
    /// Callers pass [`random_nonce`] or [`random_id_and_nonce`]; the unit
    /// tests pass the published vectors' nonces.
    #[expect(
        clippy::too_many_arguments,
        reason = "private; the one seal path, each argument a separate input of it"
    )]
    fn seal_payload(
        &self,
        payload_len: usize,
        envelope: &Envelope,
        binding: Option<&Binding>,
        chunking: Chunking,
        now: u64,
        write_payload: impl FnOnce(&mut [u8]) -> Result<(), Error>,
        draw: impl FnOnce() -> Result<Drawn, Error>,
    ) -> Result<(String, Envelope), Error> {
        let s = &*self.inner;
        // Refuse to make a cookie that would not open right now: an envelope
        // past a deadline (an `Opened` kept past its idle deadline must not
        // be revived), created before the cut-off, or created too far ahead.
        envelope.check(now, &s.rules)?;
        let envelope = envelope.touched(now, s.idle_timeout);

        // The size is known from the plaintext length alone: check it before
        // drawing randomness, allocating or encrypting.
        let token_len = envelope
            .encoded_len()
            .checked_add(payload_len)
            .and_then(|n| n.checked_add(OVERHEAD));
        let value_len = token_len.and_then(wire::encoded_len);
        let (Some(token_len), Some(value_len)) = (token_len, value_len) else {
            return Err(Error::TooLarge {
                size: usize::MAX,
                limit: s.max_cookie_size,
            });
        };
        chunking.layout(s.cookie_name.len(), value_len, s.max_cookie_size)?;

        let key = s
            .keyring
            .current()
            .ok_or(Error::Config(ConfigError::NoSecrets))?;
        let header = Header {
            algorithm: s.algorithm,
            key_id: key.id,
        };
        let (nonce, new_id) = draw()?;
        let envelope = match new_id {
            Some(id) => envelope.with_id(id),
            None => envelope,
        };

        // One allocation for the token; it holds plaintext until encrypted in
        // place, and is wiped on drop whatever happens in between. `layout`
        // and `write` cannot fail here: `token_len` was computed from the
        // lengths they write, so a failure would mean a broken invariant, and
        // is reported rather than ignored.
        let mut token = Zeroizing::new(vec![0u8; token_len]);
        let parts = wire::layout(&mut token, header, &nonce).ok_or(Error::Serialize)?;
        let payload = envelope.write(parts.body).ok_or(Error::Serialize)?;
        write_payload(payload)?;

        let ad = associated_data(header, &s.cookie_name, binding)?;
        // The AEADs refuse only plaintexts over their length limits
        // (gigabytes); a cookie-sized buffer never reaches them.
        *parts.tag = key
            .keys
            .encrypt(s.algorithm, &nonce, ad.as_bytes(), parts.body)
            .map_err(|_| Error::TooLarge {
                size: value_len,
                limit: s.max_cookie_size,
            })?;
        // Encrypted: the buffer now holds only what the cookie shows anyway,
        // so it is encoded and freed without the (byte-by-byte) wipe.
        let token: Vec<u8> = core::mem::take(&mut *token);
        Ok((wire::encode(&token), envelope))
    }

    /// The open path shared by every `open*` method, in the documented
    /// order of checks.
    fn open_payload<T>(
        &self,
        value: &str,
        binding: Option<&Binding>,
        chunking: Chunking,
        now: u64,
        read_payload: impl FnOnce(&[u8]) -> Result<T, Error>,
    ) -> Result<Opened<T>, Error> {
        let s = &*self.inner;
        chunking.layout(s.cookie_name.len(), value.len(), s.max_cookie_size)?;
        let mut token = wire::decode(value)?;
        let parts = wire::parse(&mut token)?;
        let header = parts.header;
        let (position, key) = s
            .keyring
            .find(header.key_id)
            .ok_or(Error::UnknownKey(header.key_id))?;
        let ad = associated_data(header, &s.cookie_name, binding)?;
        key.keys
            .decrypt(
                header.algorithm,
                &parts.nonce,
                ad.as_bytes(),
                parts.body,
                &parts.tag,
            )
            .map_err(|_| Error::AuthenticationFailed)?;
        let (envelope, payload) = Envelope::read(parts.body)?;
        envelope.check(now, &s.rules)?;
        let value = read_payload(payload)?;
        Ok(Opened {
            value,
            envelope,
            key_id: header.key_id,
            algorithm: header.algorithm,
            old_secret: position != 0,
            other_algorithm: header.algorithm != s.algorithm,
            binding: binding.copied(),
        })
    }
}

/// What a seal draws once its size check passed: the nonce, and the id of
/// a new session (`None` keeps the envelope's id).
type Drawn = ([u8; NONCE_LEN], Option<SessionId>);

/// A nonce from the operating system's random number generator.
fn random_nonce() -> Result<Drawn, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| Error::Random)?;
    Ok((nonce, None))
}

/// A nonce and a new session id, in one call to the operating system's
/// random number generator.
fn random_id_and_nonce() -> Result<Drawn, Error> {
    let mut random = [0u8; NONCE_LEN + ID_LEN];
    getrandom::fill(&mut random).map_err(|_| Error::Random)?;
    let (nonce, id) = random.split_at(NONCE_LEN);
    match (
        <[u8; NONCE_LEN]>::try_from(nonce),
        <[u8; ID_LEN]>::try_from(id),
    ) {
        (Ok(nonce), Ok(id)) => Ok((nonce, Some(SessionId::from_random_bytes(id)))),
        // The lengths add up by construction.
        _ => Err(Error::Random),
    }
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &*self.inner;
        f.debug_struct("Codec")
            .field("cookie_name", &s.cookie_name)
            .field("algorithm", &s.algorithm)
            .field("lifetime_secs", &s.lifetime)
            .field("idle_timeout_secs", &s.idle_timeout)
            .field("max_cookie_size", &s.max_cookie_size)
            .field("leeway_secs", &s.rules.leeway)
            .field("reject_created_before", &s.rules.not_before)
            .field("keyring", &s.keyring)
            .finish()
    }
}

/// The associated data for a header under this codec's cookie name. Names
/// are checked at build time, so the error is unreachable through the
/// builder; it exists so that an invariant break is an error, not a panic.
fn associated_data(
    header: Header,
    cookie_name: &str,
    binding: Option<&Binding>,
) -> Result<AssociatedData, Error> {
    AssociatedData::new(header, cookie_name, binding).ok_or(Error::Config(
        ConfigError::InvalidCookieName {
            reason: "it is longer than 256 bytes",
        },
    ))
}

/// RFC 6265 `cookie-name = token`: visible ASCII except separators.
fn check_cookie_name(name: &str) -> Result<(), Error> {
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
        Some(reason) => Err(ConfigError::InvalidCookieName { reason }.into()),
        None => Ok(()),
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

/// The published vectors, reproduced through the private nonce seam.
#[cfg(test)]
mod vector_tests;
