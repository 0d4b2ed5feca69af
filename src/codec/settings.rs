//! The codec's settings: their defaults, the builder that checks them, and
//! what a built codec holds.

use core::any::{Any, TypeId};
use core::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;

use crate::algorithm::Algorithm;
use crate::clock::{Clock, SystemClock};
use crate::envelope::{
    ClockRules, Envelope, MAX_ENVELOPE_LEN, MAX_TIME, SchemaId, SessionId, unix_secs,
    unix_secs_ceil,
};
use crate::error::{ConfigError, Error};
use crate::keyring::{Keyring, Keys};
use crate::payload;
use crate::wire::{self, CookieName, DEFAULT_COOKIE_NAME, OVERHEAD};

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

/// A codec's checked settings and derived keys.
pub(crate) struct Settings {
    pub(crate) keys: Keys,
    pub(crate) cookie_name: CookieName,
    pub(crate) algorithm: Algorithm,
    pub(crate) opens: AlgorithmSet,
    pub(crate) lifetime: u64,
    pub(crate) max_cookie_size: usize,
    pub(crate) rules: ClockRules,
    pub(crate) app_label: String,
    pub(crate) schema_label: String,
    pub(crate) schema: SchemaId,
    pub(crate) migrations: Vec<Migration>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Settings {
    /// Every setting at its default.
    pub(crate) fn defaults(keyring: Keyring) -> Self {
        Self {
            keys: keyring.unlabelled().clone(),
            cookie_name: CookieName::default_name(),
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
            clock: Arc::new(SystemClock),
        }
    }

    /// The idle timeout, if any.
    pub(crate) fn idle_timeout(&self) -> Option<Duration> {
        self.rules.idle_timeout.map(Duration::from_secs)
    }

    /// A new session with this id, created at `now` (unix seconds), with
    /// the configured lifetime.
    pub(crate) fn fresh(&self, id: SessionId, now: u64) -> Envelope {
        Envelope::fresh(id, now, self.lifetime, &self.rules)
    }

    /// Decodes a payload sealed under `schema` as a `T`, through a
    /// migration when it is a previous schema's; `true` when migrated.
    pub(crate) fn decode<T: DeserializeOwned + 'static>(
        &self,
        schema: SchemaId,
        payload: &[u8],
    ) -> Result<(T, bool), Error> {
        if schema == self.schema {
            return payload::from_bytes::<T>(payload).map(|value| (value, false));
        }
        let migration = self
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
}

/// Which algorithms open, by wire id.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct AlgorithmSet(u8);

impl fmt::Debug for AlgorithmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = *self;
        f.debug_list()
            .entries(Algorithm::ALL.into_iter().filter(|a| set.contains(*a)))
            .finish()
    }
}

impl AlgorithmSet {
    pub(crate) const ALL: Self = Self(0b11);

    fn of(algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        Self(algorithms.into_iter().fold(0, |set, a| set | Self::bit(a)))
    }

    fn bit(algorithm: Algorithm) -> u8 {
        1 << (algorithm.wire_id() - 1)
    }

    pub(crate) fn contains(self, algorithm: Algorithm) -> bool {
        self.0 & Self::bit(algorithm) != 0
    }
}

/// Decodes a payload of a previous schema and converts it to the current
/// session type, type-erased so that the codec is not generic over it.
pub(crate) type Convert = Arc<dyn Fn(&[u8]) -> Result<Box<dyn Any>, Error> + Send + Sync>;

/// A previous schema whose cookies still open, converted to the current
/// session type.
#[derive(Clone)]
pub(crate) struct Migration {
    pub(crate) label: String,
    pub(crate) schema: SchemaId,
    /// The type the conversion makes: only opens of that type use it.
    pub(crate) target: TypeId,
    pub(crate) target_name: &'static str,
    /// Decodes an old payload and converts it.
    pub(crate) convert: Convert,
}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration")
            .field("from", &self.label)
            .field("to", &self.target_name)
            .finish_non_exhaustive()
    }
}

/// Settings for a [`Codec`](crate::Codec); start with
/// [`Codec::builder`](crate::Codec::builder).
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
/// | [`clock`](Self::clock) | the system clock | |
#[derive(Clone)]
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
    clock: Arc<dyn Clock>,
}

impl CodecBuilder {
    /// Every setting at its default.
    pub(crate) fn new(keyring: Keyring) -> Self {
        Self {
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
            clock: Arc::new(SystemClock),
        }
    }

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

    /// Where the codec reads the time (default: [`SystemClock`]). Every
    /// time rule (creation, deadlines, renewal, the cut-off check of
    /// [`build`](Self::build)) reads it; tests set a
    /// [`ManualClock`](crate::clock::ManualClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks the settings: the work of [`build`](Self::build).
    pub(crate) fn settings(self) -> Result<Settings, ConfigError> {
        let cookie_name = CookieName::new(self.cookie_name)?;
        let lifetime = at_least_one_second(self.lifetime, "lifetime")?;
        let max_lifetime = match self.max_lifetime {
            Some(max) => at_least_one_second(max, "max_lifetime")?,
            None => lifetime,
        };
        if max_lifetime < lifetime {
            return Err(ConfigError::MaxLifetimeTooShort);
        }
        let idle_timeout = match self.idle_timeout {
            Some(idle) => Some(at_least_one_second(idle, "idle_timeout")?),
            None => None,
        };
        let minimum = cookie_name
            .as_str()
            .len()
            .saturating_add(wire::encoded_len(OVERHEAD + MAX_ENVELOPE_LEN).unwrap_or(usize::MAX));
        if self.max_cookie_size < minimum {
            return Err(ConfigError::CookieSizeTooSmall {
                limit: self.max_cookie_size,
                minimum,
            });
        }
        if self.max_cookie_size > MAX_COOKIE_SIZE_CEILING {
            return Err(ConfigError::CookieSizeTooLarge {
                limit: self.max_cookie_size,
                ceiling: MAX_COOKIE_SIZE_CEILING,
            });
        }
        if !self.opens.contains(self.algorithm) {
            return Err(ConfigError::SealingAlgorithmNotOpened);
        }
        let leeway = self.leeway.as_secs();
        let not_before = self.reject_created_before.map(unix_secs_ceil);
        if not_before.is_some_and(|cut| cut > unix_secs(self.clock.now()).saturating_add(leeway)) {
            return Err(ConfigError::CutOffInFuture);
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
                });
            }
        }
        let keys = self.keyring.keys(&self.app_label)?;
        Ok(Settings {
            keys,
            cookie_name,
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
            clock: self.clock,
        })
    }
}

impl fmt::Debug for CodecBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodecBuilder")
            .field("keyring", &self.keyring)
            .field("cookie_name", &self.cookie_name)
            .field("algorithm", &self.algorithm)
            .field("open_algorithms", &self.opens)
            .field("lifetime", &self.lifetime)
            .field("max_lifetime", &self.max_lifetime)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_cookie_size", &self.max_cookie_size)
            .field("leeway", &self.leeway)
            .field("reject_created_before", &self.reject_created_before)
            .field("app_label", &self.app_label)
            .field("schema", &self.schema)
            .field("migrations", &self.migrations)
            .field("clock", &self.clock)
            .finish()
    }
}

/// `duration` in whole seconds, at least one and at most [`MAX_TIME`].
fn at_least_one_second(duration: Duration, setting: &'static str) -> Result<u64, ConfigError> {
    match duration.as_secs() {
        0 => Err(ConfigError::DurationTooShort { setting }),
        secs => Ok(secs.min(MAX_TIME)),
    }
}

/// An application or schema label: 0 to 64 bytes of visible ASCII.
fn check_label(label: &str, setting: &'static str) -> Result<(), ConfigError> {
    let reason = if label.len() > MAX_LABEL_LEN {
        Some("it is longer than 64 bytes")
    } else if !label.bytes().all(|b| b.is_ascii_graphic()) {
        Some("it may only hold visible ASCII, without spaces")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ConfigError::InvalidLabel { setting, reason }),
        None => Ok(()),
    }
}
