//! The codec: ties keyring, wire format and envelope together into `seal` and
//! `open`, and holds the settings.

use core::any::{Any, TypeId};
use core::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::algorithm::{Algorithm, NONCE_LEN};
use crate::chunks::Chunking;
use crate::envelope::{
    ClockRules, Envelope, ID_LEN, MAX_ENVELOPE_LEN, MAX_TIME, SchemaId, SessionId, unix_secs,
    unix_secs_ceil,
};
use crate::error::{ConfigError, Error, Unserializable};
use crate::keyring::{KeyId, Keyring, Keys};
use crate::payload;
use crate::wire::{self, Binding, Header, MAX_AD_LEN, MAX_NAME_LEN, OVERHEAD};

/// Default cookie name. The `__Host-` prefix makes browsers refuse the
/// cookie unless it is `Secure`, has `Path=/` and no `Domain` (the defaults
/// of [`SessionConfig`](crate::SessionConfig)), so a sibling subdomain or a
/// plain-HTTP page cannot set or shadow it.
pub const DEFAULT_COOKIE_NAME: &str = "__Host-session";
/// Default absolute lifetime of a new session: 12 hours.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Default idle timeout: 30 minutes.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Default maximum cookie size (name plus value), the limit every major
/// browser enforces per cookie.
pub const DEFAULT_MAX_COOKIE_SIZE: usize = 4096;
/// Largest accepted maximum cookie size. Browsers drop cookies over 4096
/// bytes; the higher ceiling exists for non-browser clients and tests.
pub const MAX_COOKIE_SIZE_CEILING: usize = 65_536;
/// Default clock-skew leeway for times in the future: 60 seconds.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The longest application or schema label: 64 bytes of visible ASCII.
const MAX_LABEL_LEN: usize = 64;

/// Seals serde values into cookie values and opens them again.
///
/// A codec holds the keys derived from a [`Keyring`] and the session
/// settings. It is `Send + Sync`, cheap to clone (one reference count), and
/// never locks: share one per cookie name across the whole application.
///
/// ```
/// use sealed_session::{Codec, Keyring};
/// use std::time::Duration;
///
/// let keyring = Keyring::new([Keyring::generate_secret()?])?;
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
    keys: Keys,
    cookie_name: String,
    algorithm: Algorithm,
    opens: AlgorithmSet,
    lifetime: u64,
    max_cookie_size: usize,
    rules: ClockRules,
    app_label: String,
    schema_label: String,
    schema: SchemaId,
    migrations: Vec<Migration>,
}

/// Which algorithms open, by wire id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AlgorithmSet(u8);

impl AlgorithmSet {
    const ALL: Self = Self(0b11);

    fn of(algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        Self(algorithms.into_iter().fold(0, |set, a| set | Self::bit(a)))
    }

    fn bit(algorithm: Algorithm) -> u8 {
        1 << (algorithm.wire_id() - 1)
    }

    fn contains(self, algorithm: Algorithm) -> bool {
        self.0 & Self::bit(algorithm) != 0
    }

    fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(move |a| self.contains(*a))
    }
}

/// Decodes a payload of a previous schema and converts it to the current
/// session type, type-erased so that the codec is not generic over it.
type Convert = Arc<dyn Fn(&[u8]) -> Result<Box<dyn Any>, Error> + Send + Sync>;

/// A previous schema whose cookies still open, converted to the current
/// session type.
#[derive(Clone)]
struct Migration {
    label: String,
    schema: SchemaId,
    /// The type the conversion makes: only opens of that type use it.
    target: TypeId,
    target_name: &'static str,
    /// Decodes an old payload and converts it.
    convert: Convert,
}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration")
            .field("from", &self.label)
            .field("to", &self.target_name)
            .finish_non_exhaustive()
    }
}

/// Settings for a [`Codec`]; start with [`Codec::builder`].
///
/// | Setting | Default | Why |
/// |---|---|---|
/// | [`cookie_name`](Self::cookie_name) | `__Host-session` | the prefix stops subdomains and plain-HTTP pages from setting or shadowing it |
/// | [`algorithm`](Self::algorithm) | XAES-256-GCM | fastest with AES instructions, 192-bit random nonces |
/// | [`open_algorithms`](Self::open_algorithms) | both | rotating between them logs nobody out |
/// | [`lifetime`](Self::lifetime) | 12 hours | a stolen or copied cookie works at most this long (OWASP ASVS level 2 re-authentication) |
/// | [`max_lifetime`](Self::max_lifetime) | the lifetime | caps per-session lifetimes and cookies already issued |
/// | [`idle_timeout`](Self::idle_timeout) | 30 minutes | a cookie copied and left unused dies soon (ASVS level 2) |
/// | [`max_cookie_size`](Self::max_cookie_size) | 4096 | browsers drop larger cookies silently |
/// | [`leeway`](Self::leeway) | 60 s | clock skew between servers |
/// | [`reject_created_before`](Self::reject_created_before) | none | |
/// | [`app_label`](Self::app_label) | empty | |
/// | [`schema`](Self::schema) | empty | |
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CodecBuilder {
    keyring: Keyring,
    cookie_name: String,
    algorithm: Algorithm,
    opens: AlgorithmSet,
    lifetime: Duration,
    max_lifetime: Option<Duration>,
    idle_timeout: Option<Duration>,
    max_cookie_size: usize,
    leeway: Duration,
    reject_created_before: Option<SystemTime>,
    app_label: String,
    schema: String,
    migrations: Vec<Migration>,
}

impl CodecBuilder {
    /// The cookie name (default `__Host-session`). It is bound into every
    /// seal as associated data: a value sealed under one name never opens
    /// under another. Must be an RFC 6265 token (visible ASCII without
    /// separators) of at most 256 bytes.
    ///
    /// A `__Host-` name needs the default cookie attributes of
    /// [`SessionConfig`](crate::SessionConfig) (`Secure`, `Path=/`, no
    /// `Domain`); choose another name to set a path or domain, or to serve
    /// over plain HTTP.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// The algorithm new cookies are sealed with (default XAES-256-GCM).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The algorithms a cookie may be sealed with to open (default: both,
    /// so that switching [`algorithm`](Self::algorithm) logs nobody out). A
    /// cookie sealed with another one fails with
    /// [`Error::DisabledAlgorithm`] before any decryption. Take one out when
    /// its implementation has a flaw; the sealing algorithm must stay in.
    pub fn open_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.opens = AlgorithmSet::of(algorithms);
        self
    }

    /// Absolute lifetime of a new session, counted from its creation and kept
    /// across re-seals (default 12 hours). Whole seconds; at least one.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The longest any session may live, counted from its creation (default:
    /// the [lifetime](Self::lifetime)). It caps per-session lifetimes
    /// ([`Session::set_lifetime`](crate::Session::set_lifetime), "remember
    /// me"), so allow those here, and it applies to cookies already issued:
    /// lowering it shortens every outstanding session when it is next
    /// opened. A session sealed again under a lowered maximum keeps the
    /// capped lifetime: raising the maximum later does not give it back.
    /// Whole seconds; at least the lifetime.
    pub fn max_lifetime(mut self, max_lifetime: Duration) -> Self {
        self.max_lifetime = Some(max_lifetime);
        self
    }

    /// Idle timeout: a session not sealed again within this long expires
    /// (default 30 minutes; `None` for none). Whole seconds; at least one.
    ///
    /// It is counted from the last seal of each cookie and is the one
    /// configured where the cookie is opened, not the one it was sealed
    /// under: enabling or shortening it after an incident applies at once to
    /// every cookie already issued (logging out everyone whose cookie was
    /// last sealed longer ago), and turning it off never expires one. The
    /// http helper re-seals active sessions before it runs out (see
    /// [`Renewal`](crate::Renewal)).
    pub fn idle_timeout(mut self, idle_timeout: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = idle_timeout.into();
        self
    }

    /// Maximum cookie size, counted as browsers do: name plus value bytes
    /// (default 4096, at most [`MAX_COOKIE_SIZE_CEILING`]). Above 4096,
    /// browsers drop the cookie: larger limits are for other clients.
    pub fn max_cookie_size(mut self, bytes: usize) -> Self {
        self.max_cookie_size = bytes;
        self
    }

    /// How far in the future the time of a seal may lie before the session
    /// is rejected as not yet valid (default 60 s). Covers clock skew between
    /// servers that share the secrets. Deadlines get no leeway.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Revokes every session created before `instant`: log everybody out
    /// without rotating secrets. Use one fixed instant, the same on every
    /// instance, never the time of start-up.
    ///
    /// Creation times are sealed in whole seconds, so the cut-off is rounded
    /// up to a whole second; a session created after the cut-off within the
    /// same second is sealed with the cut-off as its creation time, so it is
    /// not revoked. An instant later than now plus the [leeway](Self::leeway)
    /// is refused by [`build`](Self::build): nobody could log in.
    pub fn reject_created_before(mut self, instant: SystemTime) -> Self {
        self.reject_created_before = Some(instant);
        self
    }

    /// A label for this application, mixed into the key derivation (default
    /// empty): two applications that share a secret but not a label share
    /// no keys and no key ids, so neither opens the other's cookies. 0 to 64
    /// bytes of visible ASCII. Changing it is like changing every secret at
    /// once: every outstanding cookie fails with [`Error::UnknownKey`].
    pub fn app_label(mut self, label: impl Into<String>) -> Self {
        self.app_label = label.into();
        self
    }

    /// The label of the session type, sealed into every cookie (default
    /// empty). A cookie sealed under another label fails to open with
    /// [`Error::SchemaMismatch`] instead of being decoded.
    ///
    /// postcard writes struct fields by position and enum variants by index,
    /// so a session type that changes its meaning without changing its
    /// shape (variants reordered, two fields of the same type swapped,
    /// a field's unit changed) would read every outstanding cookie with the
    /// new meaning: a `User` cookie could become an `Admin` one. Give the
    /// type a new label whenever it changes (`"cart-v2"`), and every old
    /// cookie is refused; to keep those users logged in, add a
    /// [migration](Self::migrate_from) from the previous label. 0 to 64
    /// bytes of visible ASCII.
    pub fn schema(mut self, label: impl Into<String>) -> Self {
        self.schema = label.into();
        self
    }

    /// Keeps cookies sealed under a previous schema `label` working: they
    /// are decoded as `Old`, converted with `convert` to the current type
    /// `New`, and (through the http helper) sealed again under the current
    /// schema on the same response. Only opens of type `New` use it; opening
    /// another type still fails with [`Error::SchemaMismatch`].
    ///
    /// Keep it until every cookie of the old schema has expired (the
    /// [maximum lifetime](Self::max_lifetime)), then remove it. Several
    /// migrations may be registered, one per previous label.
    ///
    /// ```
    /// use sealed_session::{Codec, Keyring};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// enum RoleV1 { User, Admin }
    /// #[derive(Debug, PartialEq, Serialize, Deserialize)]
    /// enum Role { Guest, User, Admin } // a new first variant: indexes moved
    ///
    /// let keyring = Keyring::new([Keyring::generate_secret()?])?;
    /// let v1 = Codec::builder(keyring.clone()).schema("role-v1").build()?;
    /// let cookie = v1.seal(&RoleV1::User)?;
    ///
    /// let v2 = Codec::builder(keyring)
    ///     .schema("role-v2")
    ///     .migrate_from("role-v1", |old: RoleV1| match old {
    ///         RoleV1::User => Role::User,
    ///         RoleV1::Admin => Role::Admin,
    ///     })
    ///     .build()?;
    /// let opened = v2.open::<Role>(&cookie)?;
    /// assert_eq!(opened.value(), &Role::User); // not Guest, not Admin
    /// assert!(opened.needs_reseal());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn migrate_from<Old, New>(
        mut self,
        label: impl Into<String>,
        convert: impl Fn(Old) -> New + Send + Sync + 'static,
    ) -> Self
    where
        Old: DeserializeOwned + 'static,
        New: 'static,
    {
        let label = label.into();
        self.migrations.push(Migration {
            schema: SchemaId::of(&label),
            label,
            target: TypeId::of::<New>(),
            target_name: core::any::type_name::<New>(),
            convert: Arc::new(move |payload| {
                let old = payload::from_bytes::<Old>(payload)?;
                Ok(Box::new(convert(old)) as Box<dyn Any>)
            }),
        });
        self
    }

    /// Checks the settings and builds the codec.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] with [`ConfigError::InvalidCookieName`],
    /// [`ConfigError::CookieSizeTooSmall`], [`ConfigError::CookieSizeTooLarge`],
    /// [`ConfigError::DurationTooShort`], [`ConfigError::MaxLifetimeTooShort`],
    /// [`ConfigError::CutOffInFuture`], [`ConfigError::InvalidLabel`],
    /// [`ConfigError::SealingAlgorithmNotOpened`] or (with an application
    /// label, with negligible probability) [`ConfigError::DuplicateKeyId`].
    pub fn build(self) -> Result<Codec, Error> {
        check_cookie_name(&self.cookie_name)?;
        let lifetime = at_least_one_second(self.lifetime, "lifetime")?;
        let max_lifetime = match self.max_lifetime {
            Some(max) => at_least_one_second(max, "max_lifetime")?,
            None => lifetime,
        };
        if max_lifetime < lifetime {
            return Err(ConfigError::MaxLifetimeTooShort.into());
        }
        let idle_timeout = match self.idle_timeout {
            Some(idle) => Some(at_least_one_second(idle, "idle_timeout")?),
            None => None,
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
        if !self.opens.contains(self.algorithm) {
            return Err(ConfigError::SealingAlgorithmNotOpened.into());
        }
        let leeway = self.leeway.as_secs();
        let not_before = self.reject_created_before.map(unix_secs_ceil);
        if not_before.is_some_and(|cut| cut > unix_secs(SystemTime::now()).saturating_add(leeway)) {
            return Err(ConfigError::CutOffInFuture.into());
        }
        check_label(&self.app_label, "app_label")?;
        check_label(&self.schema, "schema")?;
        let schema = SchemaId::of(&self.schema);
        for (index, migration) in self.migrations.iter().enumerate() {
            check_label(&migration.label, "migrate_from")?;
            let collides = migration.schema == schema
                || self
                    .migrations
                    .iter()
                    .take(index)
                    .any(|earlier| earlier.schema == migration.schema);
            if collides {
                return Err(ConfigError::InvalidLabel {
                    setting: "migrate_from",
                    reason: "it is the current schema or another migration's (or its schema \
                             id collides with theirs)",
                }
                .into());
            }
        }
        let keys = self.keyring.keys(&self.app_label)?;
        Ok(Codec {
            inner: Arc::new(Settings {
                keyring: self.keyring,
                keys,
                cookie_name: self.cookie_name,
                algorithm: self.algorithm,
                opens: self.opens,
                lifetime,
                max_cookie_size: self.max_cookie_size,
                rules: ClockRules {
                    leeway,
                    not_before,
                    idle_timeout,
                    max_lifetime,
                },
                app_label: self.app_label,
                schema_label: self.schema,
                schema,
                migrations: self.migrations,
            }),
        })
    }
}

/// `duration` in whole seconds, at least one and at most [`MAX_TIME`].
fn at_least_one_second(duration: Duration, setting: &'static str) -> Result<u64, Error> {
    match duration.as_secs() {
        0 => Err(ConfigError::DurationTooShort { setting }.into()),
        secs => Ok(secs.min(MAX_TIME)),
    }
}

/// An opened cookie: the value and the session's envelope.
///
/// Change the value with [`Opened::value_mut`] and seal it again with
/// [`Codec::reseal`], which keeps the id, creation time and absolute deadline.
/// `Debug` shows the envelope and how the cookie was sealed, never the value.
#[derive(Clone)]
pub struct Opened<T> {
    value: T,
    envelope: Envelope,
    key_id: KeyId,
    algorithm: Algorithm,
    old_secret: bool,
    other_algorithm: bool,
    /// Sealed under a previous schema and converted.
    migrated: bool,
    /// The binding it was opened with, which [`Codec::reseal`] keeps.
    binding: Option<Binding>,
}

impl<T> fmt::Debug for Opened<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value may hold personal data, and `T` need not be `Debug`.
        f.debug_struct("Opened")
            .field("value", &format_args!("<redacted>"))
            .field("envelope", &self.envelope)
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("old_secret", &self.old_secret)
            .field("migrated", &self.migrated)
            .field("bound", &self.binding.is_some())
            .finish()
    }
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

    /// When the session expires unless sealed again, if the codec has an
    /// idle timeout.
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

    /// Whether the cookie was sealed under a previous schema and converted
    /// by a [migration](CodecBuilder::migrate_from).
    pub fn migrated(&self) -> bool {
        self.migrated
    }

    /// Whether the cookie should be sealed again even if the value did not
    /// change: it was sealed under an old secret, with an algorithm other
    /// than the configured one, or under a previous schema.
    ///
    /// With an idle timeout there is one more reason, which this does not
    /// report: a session that is not resealed before its
    /// [idle deadline](Opened::idle_deadline) expires, so reseal active
    /// sessions often enough (the http helper does, see
    /// [`Renewal`](crate::Renewal)).
    pub fn needs_reseal(&self) -> bool {
        self.old_secret || self.other_algorithm || self.migrated
    }
}

impl Codec {
    /// A codec with every setting at its default (see [`CodecBuilder`]).
    #[must_use]
    pub fn new(keyring: Keyring) -> Self {
        let keys = keyring.unlabelled().clone();
        Self {
            inner: Arc::new(Settings {
                keyring,
                keys,
                cookie_name: DEFAULT_COOKIE_NAME.into(),
                algorithm: Algorithm::default(),
                opens: AlgorithmSet::ALL,
                lifetime: DEFAULT_LIFETIME.as_secs(),
                max_cookie_size: DEFAULT_MAX_COOKIE_SIZE,
                rules: ClockRules {
                    leeway: DEFAULT_LEEWAY.as_secs(),
                    not_before: None,
                    idle_timeout: Some(DEFAULT_IDLE_TIMEOUT.as_secs()),
                    max_lifetime: DEFAULT_LIFETIME.as_secs(),
                },
                app_label: String::new(),
                schema_label: String::new(),
                schema: SchemaId::of(""),
                migrations: Vec::new(),
            }),
        }
    }

    /// Starts a [`CodecBuilder`] with every setting at its default.
    pub fn builder(keyring: Keyring) -> CodecBuilder {
        CodecBuilder {
            keyring,
            cookie_name: DEFAULT_COOKIE_NAME.into(),
            algorithm: Algorithm::default(),
            opens: AlgorithmSet::ALL,
            lifetime: DEFAULT_LIFETIME,
            max_lifetime: None,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_cookie_size: DEFAULT_MAX_COOKIE_SIZE,
            leeway: DEFAULT_LEEWAY,
            reject_created_before: None,
            app_label: String::new(),
            schema: String::new(),
            migrations: Vec::new(),
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

    /// The algorithms cookies open with.
    pub fn open_algorithms(&self) -> impl Iterator<Item = Algorithm> {
        self.inner.opens.iter()
    }

    /// The absolute lifetime of new sessions.
    #[must_use]
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(self.inner.lifetime)
    }

    /// The longest lifetime any session may have.
    #[must_use]
    pub fn max_lifetime(&self) -> Duration {
        Duration::from_secs(self.inner.rules.max_lifetime)
    }

    /// The idle timeout, if any.
    #[must_use]
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.inner.rules.idle_timeout.map(Duration::from_secs)
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

    /// The key ids of the keyring's secrets under this codec's application
    /// label, in the order of the secrets; the first seals.
    pub fn key_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.inner.keys.ids()
    }

    /// The application label mixed into the key derivation.
    #[must_use]
    pub fn app_label(&self) -> &str {
        &self.inner.app_label
    }

    /// The schema label sealed into every cookie.
    #[must_use]
    pub fn schema(&self) -> &str {
        &self.inner.schema_label
    }

    /// The largest payload (postcard bytes of the value) that always fits in
    /// one cookie under this codec's name and limit, whatever the algorithm
    /// and the date.
    ///
    /// With the defaults (name `__Host-session`, 4096 bytes) this is 2977
    /// bytes. It assumes the longest times the format allows (6 bytes each);
    /// a session sealed between 1978 and 3058 with a lifetime under 24 days
    /// has 5 + 3 + 3 bytes of times and fits 7 more. Sealing checks the
    /// exact size.
    ///
    /// ```
    /// use sealed_session::{Codec, Keyring};
    /// let codec = Codec::new(Keyring::new([Keyring::generate_secret()?])?);
    /// assert_eq!(codec.max_payload_len(), 2977);
    /// assert!(codec.seal(&vec![0u8; 2977 - 2]).is_ok()); // 2 bytes of length prefix
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
    /// [`Error::Random`] if the random number generator fails;
    /// [`ConfigError::CutOffInFuture`] if the clock went back behind the
    /// cut-off since the codec was built.
    pub fn new_envelope(&self) -> Result<Envelope, Error> {
        self.new_envelope_at(SystemTime::now())
    }

    /// [`Codec::new_envelope`] at an explicit time.
    ///
    /// # Errors
    ///
    /// As [`Codec::new_envelope`].
    pub fn new_envelope_at(&self, now: SystemTime) -> Result<Envelope, Error> {
        let now = unix_secs(now);
        self.check_cut_off(now)?;
        Ok(Envelope::fresh(
            SessionId::random()?,
            now,
            self.inner.lifetime,
            &self.inner.rules,
        ))
    }

    /// Refuses to create a session when the cut-off is later than `now`
    /// plus the leeway (the clock went back since the codec was built): it
    /// would be created at the cut-off, in the future.
    fn check_cut_off(&self, now: u64) -> Result<(), Error> {
        let rules = &self.inner.rules;
        if rules
            .not_before
            .is_some_and(|cut| cut > now.saturating_add(rules.leeway))
        {
            return Err(ConfigError::CutOffInFuture.into());
        }
        Ok(())
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
    /// let codec = Codec::builder(Keyring::new([Keyring::generate_secret()?])?)
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
        envelope.touched(unix_secs(now), &self.inner.rules)
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
                let now_secs = unix_secs(now);
                self.check_cut_off(now_secs)?;
                let fresh = Envelope::fresh(
                    SessionId::from_random_bytes([0; ID_LEN]),
                    now_secs,
                    self.inner.lifetime,
                    &self.inner.rules,
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
    /// last sealed further ahead than the leeway. Such a cookie could not be
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
        let payload_len = payload::encoded_len(value)?;
        self.seal_payload(
            payload_len,
            envelope,
            binding,
            chunking,
            unix_secs(now),
            |out| match postcard::to_slice(value, out) {
                Ok(written) if written.len() == payload_len => Ok(()),
                // A `Serialize` impl that wrote something else the second time.
                _ => Err(Error::Serialize(Unserializable::Failed)),
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
    /// [`Error::UnknownAlgorithm`], [`Error::DisabledAlgorithm`],
    /// [`Error::UnknownKey`], [`Error::AuthenticationFailed`],
    /// [`Error::Malformed`] (envelope), [`Error::Expired`],
    /// [`Error::NotYetValid`], [`Error::Revoked`], [`Error::SchemaMismatch`],
    /// [`Error::Deserialize`].
    pub fn open<T: DeserializeOwned + 'static>(&self, value: &str) -> Result<Opened<T>, Error> {
        self.open_at(value, SystemTime::now())
    }

    /// [`Codec::open`] at an explicit time.
    ///
    /// # Errors
    ///
    /// As [`Codec::open`].
    pub fn open_at<T: DeserializeOwned + 'static>(
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
    pub fn open_bound<T: DeserializeOwned + 'static>(
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
    pub fn open_bound_at<T: DeserializeOwned + 'static>(
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
    pub(crate) fn open_value<T: DeserializeOwned + 'static>(
        &self,
        value: &str,
        binding: Option<&Binding>,
        chunking: Chunking,
        now: SystemTime,
    ) -> Result<Opened<T>, Error> {
        self.open_payload(
            value,
            binding,
            chunking,
            unix_secs(now),
            |schema, payload| self.decode::<T>(schema, payload),
        )
    }

    /// Decodes a payload sealed under `schema` as a `T`, through a
    /// migration when it is a previous schema's; `true` when migrated.
    fn decode<T: DeserializeOwned + 'static>(
        &self,
        schema: SchemaId,
        payload: &[u8],
    ) -> Result<(T, bool), Error> {
        if schema == self.inner.schema {
            return payload::from_bytes::<T>(payload).map(|value| (value, false));
        }
        let migration = self
            .inner
            .migrations
            .iter()
            .find(|m| m.schema == schema && m.target == TypeId::of::<T>())
            .ok_or(Error::SchemaMismatch)?;
        let converted = (migration.convert)(payload)?;
        converted
            .downcast::<T>()
            .map(|value| (*value, true))
            .map_err(|_| Error::SchemaMismatch)
    }

    /// Opens a cookie value and returns the raw payload bytes (wiped on
    /// drop). The counterpart of [`Codec::seal_bytes_with_at`]; never returns
    /// [`Error::Deserialize`]. Only payloads of this codec's schema are
    /// handed out: migrations convert typed values, so a cookie of a previous
    /// schema fails with [`Error::SchemaMismatch`] here.
    ///
    /// # Errors
    ///
    /// As [`Codec::open`].
    pub fn open_bytes_at(
        &self,
        value: &str,
        now: SystemTime,
    ) -> Result<Opened<Zeroizing<Vec<u8>>>, Error> {
        self.open_payload(
            value,
            None,
            Chunking::ONE,
            unix_secs(now),
            |schema, payload| {
                if schema != self.inner.schema {
                    return Err(Error::SchemaMismatch);
                }
                Ok((Zeroizing::new(payload.to_vec()), false))
            },
        )
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
        // be revived), created before the cut-off, or sealed too far ahead.
        let envelope = envelope.governed(&s.rules);
        envelope.check(now, &s.rules)?;
        let envelope = envelope.touched(now, &s.rules);

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

        let key = s.keys.current();
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
        // place, and is wiped if dropped before (`Plaintext`). `layout`
        // and `write` cannot fail here: `token_len` was computed from the
        // lengths they write, so a failure would mean a broken invariant, and
        // is reported rather than ignored.
        let mut token = Plaintext(vec![0u8; token_len]);
        let parts = wire::layout(&mut token.0, header, &nonce)
            .ok_or(Error::Serialize(Unserializable::Failed))?;
        let payload = envelope
            .write(s.schema, parts.body)
            .ok_or(Error::Serialize(Unserializable::Failed))?;
        write_payload(payload)?;

        let mut ad = [0u8; MAX_AD_LEN];
        let ad = associated_data(&mut ad, header, &s.cookie_name, binding)?;
        // The AEADs refuse only plaintexts over their length limits
        // (gigabytes); a cookie-sized buffer never reaches them.
        *parts.tag = key
            .keys
            .encrypt(s.algorithm, &nonce, ad, parts.body)
            .map_err(|_| Error::TooLarge {
                size: value_len,
                limit: s.max_cookie_size,
            })?;
        // Encrypted: the buffer now holds only what the cookie shows anyway,
        // so it is encoded and freed without the wipe.
        Ok((wire::encode(&token.encrypted()), envelope))
    }

    /// The open path shared by every `open*` method, in the documented
    /// order of checks.
    fn open_payload<T>(
        &self,
        value: &str,
        binding: Option<&Binding>,
        chunking: Chunking,
        now: u64,
        read_payload: impl FnOnce(SchemaId, &[u8]) -> Result<(T, bool), Error>,
    ) -> Result<Opened<T>, Error> {
        let s = &*self.inner;
        chunking.layout(s.cookie_name.len(), value.len(), s.max_cookie_size)?;
        let mut token = wire::decode(value)?;
        let parts = wire::parse(&mut token)?;
        let header = parts.header;
        if !s.opens.contains(header.algorithm) {
            return Err(Error::DisabledAlgorithm(header.algorithm));
        }
        let (position, key) = s
            .keys
            .find(header.key_id)
            .ok_or(Error::UnknownKey(header.key_id))?;
        let mut ad = [0u8; MAX_AD_LEN];
        let ad = associated_data(&mut ad, header, &s.cookie_name, binding)?;
        key.keys
            .decrypt(header.algorithm, &parts.nonce, ad, parts.body, &parts.tag)
            .map_err(|_| Error::AuthenticationFailed)?;
        let (envelope, schema, payload) = Envelope::read(parts.body, &s.rules)?;
        envelope.check(now, &s.rules)?;
        let (value, migrated) = read_payload(schema, payload)?;
        Ok(Opened {
            value,
            envelope,
            key_id: header.key_id,
            algorithm: header.algorithm,
            old_secret: position != 0,
            other_algorithm: header.algorithm != s.algorithm,
            migrated,
            binding: binding.copied(),
        })
    }
}

/// A token being sealed: it holds plaintext until it is encrypted in
/// place, so it is wiped if dropped before that (an error, or a panic in the
/// value's `Serialize`).
struct Plaintext(Vec<u8>);

impl Plaintext {
    /// The token once encrypted: it holds only what the cookie shows
    /// anyway, so it is released without the wipe.
    fn encrypted(mut self) -> Vec<u8> {
        core::mem::take(&mut self.0)
    }
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
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
        struct Ids<'a>(&'a Keys);
        impl fmt::Debug for Ids<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.ids()).finish()
            }
        }
        f.debug_struct("Codec")
            .field("cookie_name", &s.cookie_name)
            .field("algorithm", &s.algorithm)
            .field("open_algorithms", &s.opens)
            .field("lifetime_secs", &s.lifetime)
            .field("max_lifetime_secs", &s.rules.max_lifetime)
            .field("idle_timeout_secs", &s.rules.idle_timeout)
            .field("max_cookie_size", &s.max_cookie_size)
            .field("leeway_secs", &s.rules.leeway)
            .field("reject_created_before", &s.rules.not_before)
            .field("app_label", &s.app_label)
            .field("schema", &s.schema_label)
            .field("migrations", &s.migrations)
            .field("key_ids", &Ids(&s.keys))
            .finish()
    }
}

/// The associated data for a header under this codec's cookie name. Names
/// are checked at build time, so the error is unreachable through the
/// builder; it exists so that an invariant break is an error, not a panic.
fn associated_data<'b>(
    buf: &'b mut [u8; MAX_AD_LEN],
    header: Header,
    cookie_name: &str,
    binding: Option<&Binding>,
) -> Result<&'b [u8], Error> {
    wire::associated_data(buf, header, cookie_name, binding).ok_or(Error::Config(
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

/// An application or schema label: 0 to 64 bytes of visible ASCII.
fn check_label(label: &str, setting: &'static str) -> Result<(), Error> {
    let reason = if label.len() > MAX_LABEL_LEN {
        Some("it is longer than 64 bytes")
    } else if !label.bytes().all(|b| b.is_ascii_graphic()) {
        Some("it may only hold visible ASCII, without spaces")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ConfigError::InvalidLabel { setting, reason }.into()),
        None => Ok(()),
    }
}

/// The published vectors, reproduced through the private nonce seam.
#[cfg(test)]
mod vector_tests;
