//! Shared fixtures and expected-outcome helpers for the fuzz targets in
//! `fuzz_targets/`.
//!
//! The format itself is not restated here: [`reference`] is
//! `tests/support/reference.rs`, the repository's one independent
//! implementation of wire format v1 (written from the format section, not
//! from the library's code; it also generates `tests/vectors/v1.json`),
//! included with `#[path]`. What this file adds is specific to fuzzing:
//!
//! * fixed settings, secrets and one fixed time (every codec reads a
//!   [`ManualClock`] standing at [`NOW_SECS`]), so that a crash reproduces
//!   from its input file alone; each codec is made from a [`Settings`], the
//!   same value that makes the reference's [`Opener`] for it, so the two
//!   cannot drift apart;
//! * [`Rejection`]: the reference's error code for a cookie value, with the
//!   data the library's [`Error`] carries (which byte, which key id, which
//!   size), and [`expected_open`] / [`expected_typed`] /
//!   [`ExpectedEnvelope`] / [`assert_opens_as_expected`], which turn the
//!   reference's [`Opener::open`] into what the library must return;
//! * [`SetCookies`], which checks and sorts the `Set-Cookie` headers of a
//!   response for `load_header`.

#![forbid(unsafe_code)]

#[allow(
    missing_docs,
    reason = "test code shared with tests/, documented by its module docs"
)]
#[path = "../../tests/support/reference.rs"]
pub mod reference;

use std::fmt::Debug;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::{COOKIE, SET_COOKIE};
use sealed_session::clock::ManualClock;
use sealed_session::error::{Deadline, Malformed};
use sealed_session::limits::DEFAULT_LIFETIME;
use sealed_session::{
    Algorithm, Binding, Codec, ConfigError, Envelope, Error, Keyring, OpenOptions, SameSite,
    SessionConfig, Unsealed,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use reference::{MAX_TIME, Opener, Session};

/// The fixed "now" of every target: 2023-07-22T04:26:40Z, the time of
/// every codec's [`ManualClock`].
pub const NOW_SECS: u64 = 1_690_000_000;
/// The idle timeout of [`Settings::primary`].
pub const IDLE_SECS: u64 = 30 * 60;
/// The clock-skew leeway of every codec (the library's default, and the
/// one the reference assumes).
pub const LEEWAY_SECS: u64 = 60;
const _: () = assert!(LEEWAY_SECS == reference::LEEWAY);
/// [`Settings::primary`] revokes sessions created before this instant.
pub const CUT_OFF_SECS: u64 = NOW_SECS - 30 * 24 * 60 * 60;
/// The latest cut-off a target configures (2023-11-14T22:13:20Z). It
/// dates from when `CodecBuilder::build` read the real clock and is kept
/// so that the corpus inputs still mean the same settings; a cut-off later
/// than [`NOW_SECS`] plus the leeway is built as [`Settings::codec_with`]
/// describes.
pub const CUT_OFF_CEILING: u64 = 1_700_000_000;
/// Every codec's maximum cookie size (the library's default, and the one
/// the reference assumes).
pub const MAX_COOKIE_SIZE: usize = reference::MAX_COOKIE_SIZE;
/// The `max_chunks` of [`Fixture::chunked_config`].
pub const MAX_CHUNKS: usize = 4;

/// The current secret: seals, and opens.
pub const SECRET_NEW: &str = "fuzzing secret #1: not a real one, 32+ bytes";
/// The previous secret: opens only.
pub const SECRET_OLD: &str = "fuzzing secret #2: not a real one either, 32+";
/// A secret in no keyring of the fixture.
pub const SECRET_FOREIGN: &str = "a third fuzzing secret that nobody trusts....";

/// The context of [`Fixture::binding`].
pub const BINDING_CONTEXT: &[u8] = b"203.0.113.7";

/// The application labels the targets use: the default (empty) one first.
pub const APP_LABELS: [&str; 2] = ["", "fuzz-app"];
/// The schema labels the targets use: the default (empty) one first.
pub const SCHEMA_LABELS: [&str; 3] = ["", "fuzz-v1", "fuzz-v2"];

/// The fixed instant every target runs at.
#[must_use]
pub fn now() -> SystemTime {
    at(NOW_SECS)
}

/// Options that open with `binding`, or unbound.
pub fn open_options(binding: Option<Binding>) -> OpenOptions {
    match binding {
        Some(binding) => OpenOptions::new().binding(binding),
        None => OpenOptions::new(),
    }
}

/// The instant `secs` seconds after the Unix epoch.
#[must_use]
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The session value the targets seal and open: a string, a number and a
/// sequence, so that postcard's length prefixes and varints are all in play.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    /// A user name.
    pub name: String,
    /// A counter.
    pub count: u64,
    /// A list of small numbers.
    pub tags: Vec<u16>,
}

impl Value {
    /// The value of the first genuine token.
    #[must_use]
    pub fn alice() -> Self {
        Self {
            name: "alice".into(),
            count: 42,
            tags: vec![1, 2, 3],
        }
    }

    /// The value of the other genuine tokens.
    #[must_use]
    pub fn bob() -> Self {
        Self {
            name: "bob, with a longer name".into(),
            count: u64::MAX - 7,
            tags: vec![65_535, 0, 300, 7, 7],
        }
    }
}

/// The settings of one codec that reach the format, from which both the
/// library's [`Codec`] ([`Settings::codec`]) and the reference's
/// [`Opener`] ([`Settings::opener`]) are made. The leeway (60 s) and the
/// maximum cookie size (4096) are the defaults of both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The cookie name.
    pub cookie_name: &'static str,
    /// The secrets, newest first.
    pub secrets: Vec<&'static str>,
    /// The algorithm that seals.
    pub algorithm: Algorithm,
    /// The algorithms that open; must hold `algorithm`.
    pub open_algorithms: Vec<Algorithm>,
    /// The lifetime of new sessions, in seconds (at least 1).
    pub lifetime: u64,
    /// The cap on every session's lifetime, in seconds, at least
    /// `lifetime`; `None` for none (the library gets [`MAX_TIME`], which no
    /// well-formed envelope's lifetime exceeds). Equal to `lifetime`, the
    /// codec is built without setting it (the library's default).
    pub max_lifetime: Option<u64>,
    /// The idle timeout, in seconds (at least 1), or none.
    pub idle_timeout: Option<u64>,
    /// Sessions created before this Unix second are revoked; at most
    /// [`CUT_OFF_CEILING`].
    pub cut_off: Option<u64>,
    /// The application label.
    pub app_label: &'static str,
    /// The schema label.
    pub schema: &'static str,
}

impl Settings {
    /// Name `session`, `[SECRET_NEW, SECRET_OLD]`, XAES-256-GCM sealing,
    /// both algorithms opening, the default lifetime and max lifetime,
    /// a 30-minute idle timeout, cut-off [`CUT_OFF_SECS`], empty labels.
    #[must_use]
    pub fn primary() -> Self {
        Self {
            cookie_name: "session",
            secrets: vec![SECRET_NEW, SECRET_OLD],
            algorithm: Algorithm::XAes256Gcm,
            open_algorithms: Algorithm::ALL.to_vec(),
            lifetime: DEFAULT_LIFETIME.as_secs(),
            max_lifetime: Some(DEFAULT_LIFETIME.as_secs()),
            idle_timeout: Some(IDLE_SECS),
            cut_off: Some(CUT_OFF_SECS),
            app_label: "",
            schema: "",
        }
    }

    /// The keyring of [`Settings::secrets`].
    ///
    /// # Panics
    ///
    /// If the library refuses the secrets: a bug of the fixture.
    #[must_use]
    pub fn keyring(&self) -> Keyring {
        Keyring::new(&self.secrets).expect("fixed secrets")
    }

    /// The library's codec for these settings.
    ///
    /// # Panics
    ///
    /// If the library refuses the settings: a bug of the fixture or of the
    /// target that chose them.
    #[must_use]
    pub fn codec(&self) -> Codec {
        self.codec_with(self.keyring())
    }

    /// [`Settings::codec`] over an already built keyring of the same
    /// secrets. Its clock is a [`ManualClock`] at [`NOW_SECS`].
    ///
    /// `CodecBuilder::build` refuses a cut-off later than the builder's
    /// clock plus the leeway (checked here: with the clock at [`NOW_SECS`]
    /// such a cut-off fails with [`ConfigError::CutOffInFuture`]). Such a
    /// codec is built with its clock at the cut-off minus the leeway and then
    /// set back to [`NOW_SECS`]: a server whose clock went back after it
    /// started, which is what the targets had when `build` read the real
    /// clock and the opening calls took [`NOW_SECS`].
    ///
    /// # Panics
    ///
    /// As [`Settings::codec`], and if a cut-off in the future is not refused
    /// at [`NOW_SECS`].
    #[must_use]
    pub fn codec_with(&self, keyring: Keyring) -> Codec {
        let clock = ManualClock::new(now());
        let mut builder = Codec::builder(keyring)
            .cookie_name(self.cookie_name)
            .algorithm(self.algorithm)
            .open_algorithms(self.open_algorithms.iter().copied())
            .lifetime(secs(self.lifetime))
            .idle_timeout(self.idle_timeout.map(secs))
            .leeway(secs(LEEWAY_SECS))
            .app_label(self.app_label)
            .schema(self.schema);
        match self.max_lifetime {
            Some(max) if max == self.lifetime => {}
            Some(max) => builder = builder.max_lifetime(secs(max)),
            None => builder = builder.max_lifetime(secs(MAX_TIME)),
        }
        if let Some(cut_off) = self.cut_off {
            builder = builder.reject_created_before(at(cut_off));
            if cut_off > NOW_SECS + LEEWAY_SECS {
                let refused = builder.clone().clock(clock.clone()).build().map(drop);
                assert_eq!(
                    refused,
                    Err(ConfigError::CutOffInFuture),
                    "a cut-off after now plus the leeway for {self:?}"
                );
                clock.set(at(cut_off - LEEWAY_SECS));
            }
        }
        let codec = builder
            .clock(clock.clone())
            .build()
            .unwrap_or_else(|e| panic!("settings refused: {e:?} for {self:?}"));
        clock.set(now());
        codec
    }

    /// The reference's opener for these settings at the fixed time, bound to
    /// `context` (or unbound).
    #[must_use]
    pub fn opener(&self, context: Option<&[u8]>) -> Opener {
        let mut opener = Opener::new(&self.secrets, self.cookie_name, NOW_SECS);
        opener.app_label = self.app_label.to_owned();
        opener.schema = self.schema.to_owned();
        opener.context = context.map(<[u8]>::to_vec);
        opener.idle_timeout = self.idle_timeout;
        opener.max_lifetime = self.max_lifetime;
        opener.reject_created_before = self.cut_off;
        opener.algorithms = self.open_algorithms.iter().map(|a| a.wire_id()).collect();
        opener.max_cookie_size = MAX_COOKIE_SIZE;
        opener
    }

    /// The reference's keys of secret `index` under the app label.
    #[must_use]
    pub fn keys(&self, index: usize) -> reference::Keys {
        reference::derive(self.secrets[index], self.app_label)
    }
}

/// A codec and the settings it was made from.
pub struct Mirrored {
    /// The library's codec.
    pub codec: Codec,
    /// Its settings, for the reference.
    pub settings: Settings,
}

impl Mirrored {
    /// The codec for `settings`.
    #[must_use]
    pub fn new(settings: Settings) -> Self {
        Self {
            codec: settings.codec(),
            settings,
        }
    }

    /// The reference's opener, bound to [`BINDING_CONTEXT`] if `bound`.
    #[must_use]
    pub fn opener(&self, bound: bool) -> Opener {
        self.settings.opener(bound.then_some(BINDING_CONTEXT))
    }
}

/// The codecs and configurations shared by the targets, built once.
pub struct Fixture {
    /// `[SECRET_NEW, SECRET_OLD]`.
    pub keyring: Keyring,
    /// [`Settings::primary`].
    pub primary: Mirrored,
    /// Name `__Host-sid`, XChaCha20-Poly1305, no idle timeout, no cut-off.
    pub secondary: Mirrored,
    /// Like `secondary`, opening XChaCha20-Poly1305 only.
    pub xchacha_only: Mirrored,
    /// Like `primary`, opening XAES-256-GCM only.
    pub xaes_only: Mirrored,
    /// Like `primary` under the name `session2`: a token moved there must not open.
    pub renamed: Mirrored,
    /// Like `primary` with `[SECRET_OLD]` only: seals under the old secret.
    pub old_only: Mirrored,
    /// Like `primary` with [`SECRET_FOREIGN`] only.
    pub foreign: Mirrored,
    /// Like `primary`, sealing with XChaCha20-Poly1305.
    pub chacha: Mirrored,
    /// Like `primary` under the app label `fuzz-app`: other keys, other ids.
    pub other_app: Mirrored,
    /// Like `primary` under the schema label `fuzz-v1`.
    pub other_schema: Mirrored,
    /// The default configuration around `primary`.
    pub primary_config: SessionConfig,
    /// `SameSite=Strict` around `secondary`.
    pub secondary_config: SessionConfig,
    /// `primary` with chunking: up to [`MAX_CHUNKS`] cookies `session.0`, ...
    pub chunked_config: SessionConfig,
    /// The binding of bound sessions.
    pub binding: Binding,
    /// The reference's key ids of `[SECRET_NEW, SECRET_OLD]` under each of
    /// [`APP_LABELS`]: `key_ids[app label][secret]`.
    pub key_ids: [[[u8; 4]; 2]; 2],
}

/// The fixture, built on first use.
///
/// # Panics
///
/// If the fixed settings are rejected, or the reference key ids differ from
/// the library's: both are bugs, not findings about hostile input.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> Fixture {
    let primary = Settings::primary();
    let secondary = Settings {
        cookie_name: "__Host-sid",
        algorithm: Algorithm::XChaCha20Poly1305,
        idle_timeout: None,
        cut_off: None,
        ..Settings::primary()
    };
    let mirrored = [
        primary.clone(),
        secondary.clone(),
        Settings {
            open_algorithms: vec![Algorithm::XChaCha20Poly1305],
            ..secondary.clone()
        },
        Settings {
            open_algorithms: vec![Algorithm::XAes256Gcm],
            ..primary.clone()
        },
        Settings {
            cookie_name: "session2",
            ..primary.clone()
        },
        Settings {
            secrets: vec![SECRET_OLD],
            ..primary.clone()
        },
        Settings {
            secrets: vec![SECRET_FOREIGN],
            ..primary.clone()
        },
        Settings {
            algorithm: Algorithm::XChaCha20Poly1305,
            ..primary.clone()
        },
        Settings {
            app_label: APP_LABELS[1],
            ..primary.clone()
        },
        Settings {
            schema: SCHEMA_LABELS[1],
            ..primary.clone()
        },
    ]
    .map(Mirrored::new);
    // The reference derivation must name the same keys as the library.
    for m in &mirrored {
        assert_same_key_ids(m);
    }
    let [
        primary,
        secondary,
        xchacha_only,
        xaes_only,
        renamed,
        old_only,
        foreign,
        chacha,
        other_app,
        other_schema,
    ] = mirrored;
    let primary_config = SessionConfig::new(primary.codec.clone());
    let secondary_config = SessionConfig::builder(secondary.codec.clone())
        .same_site(SameSite::Strict)
        .build()
        .expect("fixed config");
    let chunked_config = SessionConfig::builder(primary.codec.clone())
        .max_chunks(MAX_CHUNKS)
        .build()
        .expect("fixed config");
    Fixture {
        keyring: primary.settings.keyring(),
        primary,
        secondary,
        xchacha_only,
        xaes_only,
        renamed,
        old_only,
        foreign,
        chacha,
        other_app,
        other_schema,
        primary_config,
        secondary_config,
        chunked_config,
        binding: Binding::new(BINDING_CONTEXT),
        key_ids: APP_LABELS
            .map(|label| [SECRET_NEW, SECRET_OLD].map(|s| reference::derive(s, label).id)),
    }
}

/// Asserts that the library's key ids for `m` are the reference's, in the
/// keyring's order: the codec's `Debug` lists exactly them; the codec
/// seals under the first; and a token the reference seals under secret `i`
/// opens, as sealed with an old secret exactly for `i > 0`.
///
/// # Panics
///
/// When they differ: a bug of the fixture or the library, not a finding
/// about hostile input.
fn assert_same_key_ids(m: &Mirrored) {
    let s = &m.settings;
    let reference: Vec<[u8; 4]> = (0..s.secrets.len()).map(|i| s.keys(i).id).collect();
    let listed = reference
        .iter()
        .map(|id| format!("KeyId({})", id.map(|b| format!("{b:02x}")).concat()))
        .collect::<Vec<_>>()
        .join(", ");
    let debug = format!("{:?}", m.codec);
    assert!(
        debug.contains(&format!("key_ids: [{listed}]")),
        "key ids differ for {s:?}: {debug}"
    );
    let sealed = m.codec.seal(&()).expect("seals");
    let opened = m.codec.open::<()>(&sealed).expect("opens");
    assert_eq!(
        opened.key_id().to_bytes(),
        reference[0],
        "sealing key of {s:?}"
    );
    for (index, id) in reference.iter().enumerate() {
        let session = Session {
            algorithm: s.algorithm.wire_id(),
            key_id: *id,
            nonce: [5; 24],
            created_at: NOW_SECS,
            absolute_deadline: NOW_SECS + 100,
            renewed_at: NOW_SECS,
            schema_id: reference::schema_id(s.schema),
            session_id: [index as u8; 16],
            payload: Vec::new(),
        };
        let token = reference::seal(&s.keys(index), s.cookie_name, None, &session);
        let opened = m
            .codec
            .open::<()>(&token)
            .unwrap_or_else(|e| panic!("secret #{index} of {s:?}: {e:?}"));
        assert_eq!(opened.key_id().to_bytes(), *id);
        assert_eq!(opened.sealed_with_old_secret(), index > 0, "{s:?}");
    }
}

/// With `SEALED_SESSION_FUZZ_STATS` set in the environment, prints
/// `outcome: <what>` to standard error, one line per check, so that running
/// a target over its corpus (`-runs=0`) shows which outcomes the corpus
/// reaches: `... 2>&1 | grep '^outcome:' | sort | uniq -c`.
pub fn outcome(what: &str) {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    if *ENABLED.get_or_init(|| std::env::var_os("SEALED_SESSION_FUZZ_STATS").is_some()) {
        eprintln!("outcome: {what}");
    }
}

/// Whether `error` is one that opening can give before the AEAD tag has
/// verified. Any other error while opening a value nobody sealed means a
/// forgery got through authentication.
#[must_use]
pub fn is_pre_authentication(error: &Error) -> bool {
    matches!(
        error,
        Error::TooLarge { .. }
            | Error::Malformed(Malformed::Encoding | Malformed::Truncated | Malformed::Chunks)
            | Error::UnsupportedVersion(_)
            | Error::UnknownAlgorithm(_)
            | Error::DisabledAlgorithm(_)
            | Error::UnknownKey(_)
            | Error::AuthenticationFailed
    )
}

/// Why a cookie value does not open: the reference's error code, with the
/// data the library's [`Error`] carries, and `malformed` told apart by the
/// part that is (encoding, length, or the authenticated envelope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Name plus value over the maximum cookie size.
    TooLarge {
        /// Name plus value bytes.
        size: usize,
    },
    /// Not strict unpadded base64url.
    Encoding,
    /// Shorter than the shortest token.
    Truncated,
    /// Version byte other than 1.
    UnsupportedVersion(u8),
    /// Algorithm byte other than 1 or 2.
    UnknownAlgorithm(u8),
    /// An algorithm byte the opener does not accept.
    DisabledAlgorithm(u8),
    /// A key id the keyring does not hold (under the opener's app label).
    UnknownKey([u8; 4]),
    /// The tag does not verify.
    AuthenticationFailed,
    /// Authentic, but the envelope breaks the format rules.
    Envelope,
    /// Authentic, past its (capped) absolute deadline.
    ExpiredAbsolute,
    /// Authentic, past its idle deadline.
    ExpiredIdle,
    /// Authentic, last sealed too far in the future.
    NotYetValid,
    /// Authentic, created before the cut-off.
    Revoked,
    /// Authentic, sealed under another schema.
    SchemaMismatch,
    /// Authentic, but the payload is not one value of the requested type.
    Deserialize,
}

impl Rejection {
    /// The rejection for the reference's error `code` for `value` opened by
    /// `opener`.
    ///
    /// # Panics
    ///
    /// For a code this helper does not know, or one whose data the value
    /// does not hold: the reference changed, and so must this.
    #[must_use]
    pub fn from_code(code: &str, opener: &Opener, value: &str) -> Self {
        let token = reference::decode(value);
        let byte = |i: usize| {
            token
                .as_ref()
                .and_then(|t| t.get(i).copied())
                .unwrap_or_else(|| panic!("{code} for a token without byte {i}"))
        };
        match code {
            "too-large" => Self::TooLarge {
                size: opener.cookie_name.len() + value.len(),
            },
            "malformed" => match &token {
                None => Self::Encoding,
                Some(t) if t.len() < reference::MIN_TOKEN_LEN => Self::Truncated,
                Some(_) => Self::Envelope,
            },
            "unsupported-version" => Self::UnsupportedVersion(byte(0)),
            "unknown-algorithm" => Self::UnknownAlgorithm(byte(1)),
            "disabled-algorithm" => Self::DisabledAlgorithm(byte(1)),
            "unknown-key" => Self::UnknownKey([byte(2), byte(3), byte(4), byte(5)]),
            "authentication-failed" => Self::AuthenticationFailed,
            "expired-absolute" => Self::ExpiredAbsolute,
            "expired-idle" => Self::ExpiredIdle,
            "not-yet-valid" => Self::NotYetValid,
            "revoked" => Self::Revoked,
            "schema-mismatch" => Self::SchemaMismatch,
            "deserialize" => Self::Deserialize,
            other => panic!("the reference gave an error code unknown here: {other:?}"),
        }
    }

    /// A short name of the variant, without its data.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too-large",
            Self::Encoding => "encoding",
            Self::Truncated => "truncated",
            Self::UnsupportedVersion(_) => "unsupported-version",
            Self::UnknownAlgorithm(_) => "unknown-algorithm",
            Self::DisabledAlgorithm(_) => "disabled-algorithm",
            Self::UnknownKey(_) => "unknown-key",
            Self::AuthenticationFailed => "authentication-failed",
            Self::Envelope => "envelope",
            Self::ExpiredAbsolute => "expired-absolute",
            Self::ExpiredIdle => "expired-idle",
            Self::NotYetValid => "not-yet-valid",
            Self::Revoked => "revoked",
            Self::SchemaMismatch => "schema-mismatch",
            Self::Deserialize => "deserialize",
        }
    }

    /// The error code of the format (what the reference returns, and what
    /// the library's [`Error::code`] must say).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Encoding | Self::Truncated | Self::Envelope => "malformed",
            other => other.kind(),
        }
    }

    /// Whether the library's error is exactly this rejection (for
    /// `TooLarge`, with the fixture's limit).
    #[must_use]
    pub fn matches(&self, error: &Error) -> bool {
        if error.code() != self.code() {
            return false;
        }
        match (self, error) {
            (Self::TooLarge { size }, Error::TooLarge { size: s, limit }) => {
                s == size && *limit == MAX_COOKIE_SIZE
            }
            (Self::Encoding, Error::Malformed(Malformed::Encoding))
            | (Self::Truncated, Error::Malformed(Malformed::Truncated))
            | (Self::AuthenticationFailed, Error::AuthenticationFailed)
            | (Self::Envelope, Error::Malformed(Malformed::Envelope))
            | (
                Self::ExpiredAbsolute,
                Error::Expired {
                    deadline: Deadline::Absolute,
                },
            )
            | (
                Self::ExpiredIdle,
                Error::Expired {
                    deadline: Deadline::Idle,
                },
            )
            | (Self::NotYetValid, Error::NotYetValid)
            | (Self::Revoked, Error::Revoked)
            | (Self::SchemaMismatch, Error::SchemaMismatch)
            | (Self::Deserialize, Error::Deserialize) => true,
            (Self::UnsupportedVersion(v), Error::UnsupportedVersion(w))
            | (Self::UnknownAlgorithm(v), Error::UnknownAlgorithm(w)) => v == w,
            (Self::DisabledAlgorithm(v), Error::DisabledAlgorithm(a)) => *v == a.wire_id(),
            (Self::UnknownKey(id), Error::UnknownKey(other)) => *id == other.to_bytes(),
            _ => false,
        }
    }
}

/// What the reference makes of a cookie value: the session and the
/// position of the secret that opened it, or the rejection.
pub type Expected = Result<(Session, usize), Rejection>;

/// [`Opener::open`], with the rejection in the library's terms.
pub fn expected_open(opener: &Opener, value: &str) -> Expected {
    opener
        .open(value)
        .map_err(|code| Rejection::from_code(code, opener, value))
}

/// Step 8 of opening, for the target's type: the payload must be exactly
/// one postcard value of `T`, nothing left over.
///
/// # Errors
///
/// [`Rejection::Deserialize`] otherwise.
pub fn decode_payload<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Rejection> {
    match postcard::take_from_bytes::<T>(payload) {
        Ok((value, [])) => Ok(value),
        _ => Err(Rejection::Deserialize),
    }
}

/// [`expected_open`] followed by decoding the payload as a `T`.
///
/// # Errors
///
/// The reference's rejection, or [`Rejection::Deserialize`].
pub fn expected_typed<T: DeserializeOwned>(
    expected: &Expected,
) -> Result<(Session, usize, T), Rejection> {
    let (session, index) = expected.clone()?;
    let value = decode_payload(&session.payload)?;
    Ok((session, index, value))
}

/// The envelope the library must report for a session the reference
/// opened: the sealed id, creation time and last seal; the absolute
/// deadline capped at `created_at + max_lifetime`; the idle deadline the
/// last seal plus the opener's idle timeout, capped at that deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedEnvelope {
    /// Session id.
    pub id: [u8; 16],
    /// Creation time, Unix seconds.
    pub created_at: u64,
    /// Last seal, Unix seconds.
    pub renewed_at: u64,
    /// Absolute deadline as the opener applies it, Unix seconds.
    pub absolute_deadline: u64,
    /// Idle deadline under the opener's idle timeout, Unix seconds.
    pub idle_deadline: Option<u64>,
}

impl ExpectedEnvelope {
    /// The envelope of `session` as `opener` governs it.
    #[must_use]
    pub fn of(session: &Session, opener: &Opener) -> Self {
        let absolute_deadline = opener
            .max_lifetime
            .map_or(session.absolute_deadline, |max| {
                session
                    .absolute_deadline
                    .min(session.created_at.saturating_add(max))
            });
        Self {
            id: session.session_id,
            created_at: session.created_at,
            renewed_at: session.renewed_at,
            absolute_deadline,
            idle_deadline: opener.idle_timeout.map(|idle| {
                session
                    .renewed_at
                    .saturating_add(idle)
                    .min(absolute_deadline)
            }),
        }
    }

    /// Whether the library's envelope carries exactly these fields.
    #[must_use]
    pub fn matches(&self, envelope: &Envelope) -> bool {
        envelope.id().to_bytes() == self.id
            && envelope.created_at() == at(self.created_at)
            && envelope.renewed_at() == at(self.renewed_at)
            && envelope.absolute_deadline() == at(self.absolute_deadline)
            && envelope.idle_deadline() == self.idle_deadline.map(at)
    }
}

/// Asserts that what the library opened is what the reference opened:
/// value, envelope, key id, algorithm, secret position, no migration, and
/// `needs_reseal` exactly for an old secret or another algorithm than
/// `sealing`, the one the opening codec seals with.
///
/// # Panics
///
/// When anything differs: the finding.
pub fn assert_opens_as_expected<T: PartialEq + Debug>(
    what: &str,
    opened: &Unsealed<T>,
    expected: &(Session, usize, T),
    opener: &Opener,
    sealing: Algorithm,
) {
    let (session, index, value) = expected;
    let envelope = ExpectedEnvelope::of(session, opener);
    assert!(
        envelope.matches(opened.envelope()),
        "{what}: envelope {:?}, expected {envelope:?} (sealed {session:?})",
        opened.envelope()
    );
    assert!(opened.value() == value, "{what}: the value differs");
    assert_eq!(opened.key_id().to_bytes(), session.key_id, "{what}: key id");
    assert_eq!(opened.algorithm().wire_id(), session.algorithm, "{what}");
    assert_eq!(opened.sealed_with_old_secret(), *index != 0, "{what}");
    assert!(!opened.migrated(), "{what}: migrated without a migration");
    assert_eq!(
        opened.needs_reseal(),
        *index != 0 || opened.algorithm() != sealing,
        "{what}: needs_reseal"
    );
}

/// The `Set-Cookie` headers of one response, checked and sorted.
#[derive(Debug, Default)]
pub struct SetCookies {
    /// `name=value` of every cookie set, in order: what a browser sends back
    /// (join them with `; `).
    pub set: Vec<String>,
    /// Names of the cookies removed, in order.
    pub removed: Vec<String>,
}

impl SetCookies {
    /// Reads the `Set-Cookie` headers of `headers` for the session cookie
    /// `name` under a configuration with `max_chunks`: each must be either
    /// a cookie with a value and a positive `Max-Age`, or a removal (empty
    /// value, `Max-Age=0`); each must be named `name` or, only with
    /// `max_chunks` above 1, a chunk name the reference reads
    /// (`name.k`, decimal `k` below `max_chunks` without leading zeros);
    /// no name may appear twice.
    ///
    /// # Panics
    ///
    /// When one of these rules is broken: the finding.
    #[must_use]
    pub fn read(headers: &HeaderMap, name: &str, max_chunks: usize) -> Self {
        let mut out = Self::default();
        let mut names = Vec::new();
        for header in headers.get_all(SET_COOKIE) {
            let text = header.to_str().expect("Set-Cookie is visible ASCII");
            let cookie = cookie::Cookie::parse(text).expect("Set-Cookie parses");
            let cookie_name = cookie.name();
            let allowed = cookie_name == name
                || (max_chunks > 1
                    && reference::chunk_index(name, cookie_name, max_chunks).is_some());
            assert!(
                allowed,
                "unexpected Set-Cookie name {cookie_name:?} for {name:?} (max_chunks {max_chunks})"
            );
            assert!(
                !names.contains(&cookie_name.to_owned()),
                "{cookie_name:?} set twice in one response"
            );
            names.push(cookie_name.to_owned());
            if cookie.value().is_empty() {
                assert_eq!(cookie.max_age(), Some(cookie::time::Duration::ZERO));
                out.removed.push(cookie_name.to_owned());
            } else {
                assert!(
                    cookie.max_age().is_some_and(|age| age.is_positive()),
                    "a cookie set without a positive Max-Age: {text}"
                );
                out.set.push(format!("{cookie_name}={}", cookie.value()));
            }
        }
        assert!(
            out.removed.len() <= max_chunks + 1,
            "more than max_chunks + 1 removals: {:?}",
            out.removed
        );
        out
    }

    /// The `Cookie` header a browser sends back after this response (for a
    /// request that carried none of these cookies before).
    #[must_use]
    pub fn cookie_header(&self) -> String {
        self.set.join("; ")
    }
}

/// Whether `name` occurs anywhere in the request's `Cookie` headers: a
/// response may only remove a cookie the request could have carried.
#[must_use]
pub fn request_mentions(headers: &HeaderMap, name: &str) -> bool {
    headers.get_all(COOKIE).iter().any(|value| {
        value
            .as_bytes()
            .windows(name.len())
            .any(|w| w == name.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fixture codec seals what its reference opener opens, with the
    /// same envelope, and the reference's seal opens in the library.
    #[test]
    fn each_codec_and_its_opener_agree_both_ways() {
        let f = fixture();
        for m in [
            &f.primary,
            &f.secondary,
            &f.xchacha_only,
            &f.xaes_only,
            &f.renamed,
            &f.old_only,
            &f.foreign,
            &f.chacha,
            &f.other_app,
            &f.other_schema,
        ] {
            let sealing = m.settings.algorithm;
            let token = m.codec.seal(&Value::alice()).expect("seals");
            let opener = m.opener(false);
            let expected = expected_typed::<Value>(&expected_open(&opener, &token))
                .unwrap_or_else(|r| panic!("{:?}: {r:?}", m.settings));
            let opened = m.codec.open::<Value>(&token).expect("opens");
            assert_opens_as_expected("library seal", &opened, &expected, &opener, sealing);
            assert_eq!(
                expected.0.algorithm,
                sealing.wire_id(),
                "seals with its algorithm"
            );
            assert_eq!(
                expected.0.schema_id,
                reference::schema_id(m.settings.schema)
            );
            assert_eq!(expected.0.created_at, NOW_SECS);
            assert_eq!(expected.0.renewed_at, NOW_SECS);

            let keys = m.settings.keys(0);
            let session = Session {
                algorithm: m.settings.algorithm.wire_id(),
                key_id: keys.id,
                nonce: [3; 24],
                created_at: NOW_SECS - 10,
                absolute_deadline: NOW_SECS + 100,
                renewed_at: NOW_SECS - 5,
                schema_id: reference::schema_id(m.settings.schema),
                session_id: [9; 16],
                payload: postcard::to_allocvec(&Value::bob()).expect("postcard"),
            };
            let token = reference::seal(&keys, m.settings.cookie_name, None, &session);
            let opened = m
                .codec
                .open::<Value>(&token)
                .expect("a reference token opens");
            let expected = expected_typed::<Value>(&expected_open(&opener, &token)).expect("opens");
            assert_opens_as_expected("reference seal", &opened, &expected, &opener, sealing);
            assert_eq!(opened.value(), &Value::bob());
        }
    }

    #[test]
    fn rejections_carry_the_data_of_the_library_errors() {
        let f = fixture();
        let opener = f.primary.opener(false);
        let token = |head: &[u8]| {
            let mut token = head.to_vec();
            token.resize(reference::MIN_TOKEN_LEN, 0);
            reference::encode(&token)
        };
        let cases = [
            ("AAE=".to_owned(), Rejection::Encoding),
            ("AAE".to_owned(), Rejection::Truncated),
            (token(&[2]), Rejection::UnsupportedVersion(2)),
            (token(&[1, 7]), Rejection::UnknownAlgorithm(7)),
            (token(&[1, 1, 9, 9, 9, 9]), Rejection::UnknownKey([9; 4])),
        ];
        for (value, rejection) in cases {
            let expected = expected_open(&opener, &value).map(drop);
            assert_eq!(expected, Err(rejection.clone()), "{value:?}");
            let error = f.primary.codec.open::<Value>(&value).unwrap_err();
            assert!(rejection.matches(&error), "{rejection:?} vs {error:?}");
        }
        let long = "A".repeat(5000);
        let error = f.primary.codec.open::<Value>(&long).unwrap_err();
        let expected = expected_open(&opener, &long).map(drop).unwrap_err();
        assert_eq!(expected, Rejection::TooLarge { size: 5007 });
        assert!(expected.matches(&error));

        // A token sealed with XChaCha20-Poly1305, opened by a codec that
        // accepts XAES-256-GCM only; and under another schema.
        let token = f.chacha.codec.seal(&Value::alice()).expect("seals");
        let expected = expected_open(&f.xaes_only.opener(false), &token).map(drop);
        assert_eq!(expected, Err(Rejection::DisabledAlgorithm(2)));
        let error = f.xaes_only.codec.open::<Value>(&token).unwrap_err();
        assert!(Rejection::DisabledAlgorithm(2).matches(&error), "{error:?}");
        let expected = expected_open(&f.other_schema.opener(false), &token).map(drop);
        assert_eq!(expected, Err(Rejection::SchemaMismatch));
        let error = f.other_schema.codec.open::<Value>(&token).unwrap_err();
        assert_eq!(error, Error::SchemaMismatch);
    }

    /// A cut-off later than now plus the leeway: `build` refuses it with the
    /// clock at now (`Settings::codec_with` asserts that), so the codec is
    /// built with its clock ahead and set back to now. It refuses to start a
    /// new session, and opens nothing, exactly as the reference: a session
    /// created at the cut-off was last sealed too far ahead, one created
    /// before it is revoked. At the boundary (cut-off = now + leeway) a new
    /// session seals, created at the cut-off, and opens.
    #[test]
    fn a_cut_off_after_now_builds_with_the_clock_set_back() {
        let boundary = Settings {
            cut_off: Some(NOW_SECS + LEEWAY_SECS),
            ..Settings::primary()
        };
        let codec = boundary.codec();
        let cookie = codec
            .seal(&Value::alice())
            .expect("a new session at the boundary");
        let opened = codec.open::<Value>(&cookie).expect("opens");
        assert_eq!(opened.envelope().created_at(), at(NOW_SECS + LEEWAY_SECS));
        let expected = expected_typed::<Value>(&expected_open(&boundary.opener(None), &cookie))
            .expect("the reference opens it");
        assert_opens_as_expected(
            "boundary",
            &opened,
            &expected,
            &boundary.opener(None),
            boundary.algorithm,
        );

        let ahead = Settings {
            cut_off: Some(NOW_SECS + LEEWAY_SECS + 1),
            ..Settings::primary()
        };
        let codec = ahead.codec();
        assert_eq!(
            codec.seal(&Value::alice()),
            Err(Error::Config(ConfigError::CutOffInFuture))
        );
        let keys = ahead.keys(0);
        let opener = ahead.opener(None);
        for (created_at, rejection) in [
            (NOW_SECS + LEEWAY_SECS + 1, Rejection::NotYetValid),
            (NOW_SECS + LEEWAY_SECS, Rejection::Revoked),
        ] {
            let session = Session {
                algorithm: ahead.algorithm.wire_id(),
                key_id: keys.id,
                nonce: [4; 24],
                created_at,
                absolute_deadline: created_at + 100,
                renewed_at: created_at,
                schema_id: reference::schema_id(ahead.schema),
                session_id: [2; 16],
                payload: postcard::to_allocvec(&Value::bob()).expect("postcard"),
            };
            let token = reference::seal(&keys, ahead.cookie_name, None, &session);
            let expected = expected_typed::<Value>(&expected_open(&opener, &token)).map(drop);
            assert_eq!(expected, Err(rejection.clone()));
            let error = codec.open::<Value>(&token).unwrap_err();
            assert!(rejection.matches(&error), "{rejection:?} vs {error:?}");
        }
    }

    #[test]
    fn the_capped_deadlines_are_the_documented_ones() {
        let session = Session {
            algorithm: 1,
            key_id: [0; 4],
            nonce: [0; 24],
            created_at: 1000,
            absolute_deadline: 5000,
            renewed_at: 4000,
            schema_id: [0; 4],
            session_id: [1; 16],
            payload: Vec::new(),
        };
        let mut opener = Opener::new(&[SECRET_NEW], "session", 2000);
        let e = ExpectedEnvelope::of(&session, &opener);
        assert_eq!((e.absolute_deadline, e.idle_deadline), (5000, None));
        opener.max_lifetime = Some(3500);
        opener.idle_timeout = Some(600);
        let e = ExpectedEnvelope::of(&session, &opener);
        assert_eq!((e.absolute_deadline, e.idle_deadline), (4500, Some(4500)));
        opener.idle_timeout = Some(100);
        let e = ExpectedEnvelope::of(&session, &opener);
        assert_eq!(e.idle_deadline, Some(4100));
    }

    #[test]
    fn set_cookies_accept_only_read_chunk_names() {
        let f = fixture();
        let session = f.chunked_config.load::<Value>(&HeaderMap::new());
        session.insert(Value {
            name: "y".repeat(5000),
            ..Value::bob()
        });
        let mut response = HeaderMap::new();
        session.write(&mut response).expect("writes");
        let cookies = SetCookies::read(&response, "session", MAX_CHUNKS);
        assert_eq!(cookies.set.len(), 2);
        assert_eq!(cookies.removed, ["session"]);
        let outside = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            SetCookies::read(&response, "session", 1)
        }));
        assert!(outside.is_err(), "chunk names without chunking");
    }
}
