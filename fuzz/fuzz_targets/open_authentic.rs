//! Fuzz target `open_authentic`: authentic tokens around hostile plaintexts,
//! opened under settings the fuzzer chooses.
//!
//! The other targets cannot get past the AEAD, so the envelope parser, the
//! clock rules, the schema check and the payload decoding behind it are out
//! of their reach. This one seals with the repository's independent
//! implementation of the v1 format (`tests/support/reference.rs`: HKDF key
//! derivation with the app label, header, associated data with the cookie
//! name and optional binding, both AEADs, base64url), so every token it
//! makes is authentic, around a plaintext the fuzzer chooses: raw bytes, or
//! an envelope in the revised layout built from fields (creation time near
//! the fixed "now", exact, or around `MAX_TIME`; lifetime and renewed
//! offsets as numbers of seconds, up to times near "now" or `MAX_TIME`, or
//! exact; a schema id: the opener's, another label's, or any 4 bytes; a
//! session id) followed by raw payload bytes or a postcard `Value` with
//! trailing bytes. The keys are derived under the opener's app label, or
//! under another one.
//!
//! The fuzzer also chooses the opener's settings that reach the format:
//! idle timeout (none or a number of seconds), maximum lifetime (the
//! default, none, or a number of seconds), schema label, app label, cut-off
//! (none, or an instant near "now" or anywhere up to `CUT_OFF_CEILING`),
//! and the accepted algorithms (and with them the one that seals). The
//! library's codec and the reference's `Opener` are made from the same
//! `Settings`; the codec reads a manual clock at the fixed "now" (one with a
//! cut-off after "now" plus the leeway, which `build` refuses at "now", is
//! built with its clock ahead and then set back, see
//! `Settings::codec_with`).
//!
//! Properties: nothing panics; the library never calls a token sealed under
//! its own app label unauthentic; `open_bytes`, `open` / `open_with` a
//! binding as `Value` and as `()`, with the token's own binding
//! state and with the other one, each give exactly what the reference's
//! `Opener::open` followed by postcard decoding gives (the same envelope as
//! the opener governs it, payload or value, key id, algorithm and secret;
//! or the same rejection: too large, disabled algorithm, unknown key,
//! authentication failed, envelope, absolute deadline, idle deadline, not
//! yet valid, revoked, schema mismatch, deserialize); a session that opens
//! re-seals (`seal_with` its `seal_options`), and the re-seal opens in both
//! implementations to the same value, id, creation time and absolute
//! deadline, last sealed at "now" (the reference's `envelope_times`),
//! under the current secret, the sealing algorithm and the codec's schema;
//! a new session is refused with `CutOffInFuture` exactly when the cut-off
//! is after "now" plus the leeway.

#![no_main]
#![forbid(unsafe_code)]

use core::fmt::Debug;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sealed_session::limits::DEFAULT_LIFETIME;
use sealed_session::{Algorithm, Codec, ConfigError, Error, OpenOptions, Unsealed};
use sealed_session_fuzz::{
    APP_LABELS, BINDING_CONTEXT, CUT_OFF_CEILING, Expected, ExpectedEnvelope, LEEWAY_SECS,
    MAX_TIME, NOW_SECS, Opener, Rejection, SCHEMA_LABELS, Settings, Value,
    assert_opens_as_expected, expected_open, expected_typed, fixture, outcome, reference,
};
use serde::de::DeserializeOwned;

/// A time of the envelope.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Time {
    /// The fixed "now" plus this many seconds (may be negative).
    Near(i32),
    /// Exactly this value (mostly far away or out of range).
    Exact(u64),
    /// Zero.
    Zero,
    /// The largest time the format carries, minus 128, plus 0 to 255.
    AroundMax(u8),
}

impl Time {
    fn secs(self) -> u64 {
        match self {
            Self::Near(offset) => NOW_SECS.saturating_add_signed(i64::from(offset)),
            Self::Exact(v) => v,
            Self::Zero => 0,
            Self::AroundMax(d) => MAX_TIME - 128 + u64::from(d),
        }
    }
}

/// An offset from the creation time (the lifetime, or the last seal).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Span {
    /// This many seconds.
    Secs(u32),
    /// Up to the fixed "now" plus this many seconds (0 if that is before
    /// the creation time).
    UntilNear(i32),
    /// Up to `MAX_TIME - 128 + d` (0 if that is before the creation time).
    UntilMax(u8),
    /// Exactly this value.
    Exact(u64),
}

impl Span {
    fn secs(self, created_at: u64) -> u64 {
        match self {
            Self::Secs(v) => u64::from(v),
            Self::UntilNear(offset) => NOW_SECS
                .saturating_add_signed(i64::from(offset))
                .saturating_sub(created_at),
            Self::UntilMax(d) => (MAX_TIME - 128 + u64::from(d)).saturating_sub(created_at),
            Self::Exact(v) => v,
        }
    }
}

/// The offset of the last seal.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Renewed {
    /// As any span.
    Span(Span),
    /// The lifetime plus this many seconds (the `renewed <= lifetime` rule).
    AroundLifetime(i8),
}

/// The schema id sealed into the envelope.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Schema {
    /// The opener's.
    Opener,
    /// The id of one of `SCHEMA_LABELS` (the opener's or another).
    Label(u8),
    /// These bytes.
    Raw([u8; 4]),
}

/// What follows the envelope.
#[derive(Arbitrary, Debug)]
enum Payload {
    /// Raw bytes.
    Raw(Vec<u8>),
    /// A postcard-encoded session value, optionally with trailing bytes.
    Value {
        name: String,
        count: u64,
        tags: Vec<u16>,
        trailing: Vec<u8>,
    },
}

/// The plaintext to seal.
#[derive(Arbitrary, Debug)]
enum Plaintext {
    /// Raw bytes, envelope included.
    Raw(Vec<u8>),
    /// An envelope from fields, and a payload.
    Fields {
        created_at: Time,
        lifetime: Span,
        renewed: Renewed,
        schema: Schema,
        id: [u8; 16],
        payload: Payload,
    },
}

/// The opener's maximum lifetime.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum MaxLifetime {
    /// Not set: the library's default, the lifetime (12 hours).
    Default,
    /// No cap.
    Unlimited,
    /// This many seconds (at least 1); the lifetime of new sessions is the
    /// smaller of this and 12 hours.
    Secs(u32),
}

/// The opener's cut-off.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum CutOff {
    /// None.
    None,
    /// The fixed "now" plus this many seconds, at most `CUT_OFF_CEILING`.
    Near(i32),
    /// This instant, at most `CUT_OFF_CEILING`.
    Exact(u32),
}

/// The opener's settings that reach the format.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct OpenerSettings {
    /// Seconds (at least 1), or none.
    idle_timeout: Option<u32>,
    max_lifetime: MaxLifetime,
    /// Index into `SCHEMA_LABELS`.
    schema: u8,
    /// `APP_LABELS[1]` instead of the empty label.
    app_label: bool,
    cut_off: CutOff,
    /// Open XAES-256-GCM (if neither, both).
    open_xaes: bool,
    /// Open XChaCha20-Poly1305 (if neither, both).
    open_xchacha: bool,
    /// Seal with XChaCha20-Poly1305 (if it opens).
    seal_xchacha: bool,
}

impl OpenerSettings {
    fn settings(self) -> Settings {
        let open_algorithms = match (self.open_xaes, self.open_xchacha) {
            (true, false) => vec![Algorithm::XAes256Gcm],
            (false, true) => vec![Algorithm::XChaCha20Poly1305],
            _ => Algorithm::ALL.to_vec(),
        };
        let xchacha_opens = open_algorithms.contains(&Algorithm::XChaCha20Poly1305);
        let xaes_opens = open_algorithms.contains(&Algorithm::XAes256Gcm);
        let algorithm = if xchacha_opens && (self.seal_xchacha || !xaes_opens) {
            Algorithm::XChaCha20Poly1305
        } else {
            Algorithm::XAes256Gcm
        };
        let default = DEFAULT_LIFETIME.as_secs();
        let (lifetime, max_lifetime) = match self.max_lifetime {
            MaxLifetime::Default => (default, Some(default)),
            MaxLifetime::Unlimited => (default, None),
            MaxLifetime::Secs(v) => {
                let max = u64::from(v.max(1));
                (max.min(default), Some(max))
            }
        };
        let cut_off = match self.cut_off {
            CutOff::None => None,
            CutOff::Near(offset) => Some(
                NOW_SECS
                    .saturating_add_signed(i64::from(offset))
                    .min(CUT_OFF_CEILING),
            ),
            CutOff::Exact(t) => Some(u64::from(t).min(CUT_OFF_CEILING)),
        };
        Settings {
            algorithm,
            open_algorithms,
            lifetime,
            max_lifetime,
            idle_timeout: self.idle_timeout.map(|v| u64::from(v.max(1))),
            cut_off,
            app_label: APP_LABELS[usize::from(self.app_label)],
            schema: SCHEMA_LABELS[usize::from(self.schema) % SCHEMA_LABELS.len()],
            ..Settings::primary()
        }
    }
}

/// The fuzz input.
#[derive(Arbitrary, Debug)]
struct Input {
    opener: OpenerSettings,
    /// Derive the sealing keys under the other app label.
    other_app_label: bool,
    xchacha: bool,
    old_secret: bool,
    bound: bool,
    nonce: [u8; 24],
    plaintext: Plaintext,
}

/// The plaintext's bytes, the envelope written by the reference.
fn plaintext(settings: &Settings, plaintext: &Plaintext) -> Vec<u8> {
    let (created_at, lifetime, renewed, schema, id, payload) = match plaintext {
        Plaintext::Raw(bytes) => return bytes.clone(),
        Plaintext::Fields {
            created_at,
            lifetime,
            renewed,
            schema,
            id,
            payload,
        } => (created_at, lifetime, renewed, schema, id, payload),
    };
    let created_at = created_at.secs();
    let lifetime = lifetime.secs(created_at);
    let renewed = match renewed {
        Renewed::Span(span) => span.secs(created_at),
        Renewed::AroundLifetime(d) => lifetime.saturating_add_signed(i64::from(*d)),
    };
    let schema = match schema {
        Schema::Opener => reference::schema_id(settings.schema),
        Schema::Label(i) => {
            reference::schema_id(SCHEMA_LABELS[usize::from(*i) % SCHEMA_LABELS.len()])
        }
        Schema::Raw(bytes) => *bytes,
    };
    let payload = match payload {
        Payload::Raw(raw) => raw.clone(),
        Payload::Value {
            name,
            count,
            tags,
            trailing,
        } => {
            let value = Value {
                name: name.clone(),
                count: *count,
                tags: tags.clone(),
            };
            let mut bytes = postcard::to_allocvec(&value).expect("postcard");
            bytes.extend_from_slice(trailing);
            bytes
        }
    };
    reference::plaintext(created_at, lifetime, renewed, &schema, id, &payload)
}

fuzz_target!(|input: Input| {
    let f = fixture();
    let settings = input.opener.settings();
    let codec = settings.codec_with(f.keyring.clone());
    let plaintext = plaintext(&settings, &input.plaintext);
    let algorithm = if input.xchacha {
        reference::XCHACHA20_POLY1305
    } else {
        reference::XAES_256_GCM
    };
    let sealer_label = if input.other_app_label {
        APP_LABELS[usize::from(settings.app_label == APP_LABELS[0])]
    } else {
        settings.app_label
    };
    let keys = reference::derive(
        settings.secrets[usize::from(input.old_secret)],
        sealer_label,
    );
    let context = input.bound.then_some(BINDING_CONTEXT);
    let name = settings.cookie_name;
    let token = reference::encode(&reference::seal_token(
        &keys,
        name,
        context,
        algorithm,
        &input.nonce,
        &plaintext,
    ));

    let unbound = settings.opener(None);
    let bound = settings.opener(Some(BINDING_CONTEXT));
    let expected_unbound = expected_open(&unbound, &token);
    let expected_bound = expected_open(&bound, &token);
    let (own, own_expected, other, other_expected) = if input.bound {
        (&bound, &expected_bound, &unbound, &expected_unbound)
    } else {
        (&unbound, &expected_unbound, &bound, &expected_bound)
    };
    outcome(match expected_typed::<Value>(own_expected) {
        Ok(_) => "opens",
        Err(rejection) => rejection.kind(),
    });

    // Raw payload (no binding: only unbound tokens open this way).
    match (
        codec.open_bytes(&token, &OpenOptions::new()),
        &expected_unbound,
    ) {
        (Ok(opened), Ok((session, index))) => {
            let envelope = ExpectedEnvelope::of(session, &unbound);
            assert!(
                envelope.matches(opened.envelope()),
                "open_bytes: {opened:?} vs {envelope:?}"
            );
            assert_eq!(opened.value().as_slice(), session.payload.as_slice());
            assert_eq!(opened.sealed_with_old_secret(), *index != 0);
            assert_eq!(opened.sealed_with_old_secret(), input.old_secret);
            assert_eq!(opened.algorithm().wire_id(), algorithm);
        }
        (Err(error), Err(rejection)) => assert!(
            rejection.matches(&error),
            "open_bytes: {rejection:?} vs {error:?}"
        ),
        (opened, expected) => panic!(
            "open_bytes: {:?}, expected {:?}",
            opened.map(|o| *o.envelope()),
            expected.as_ref().map(|(session, _)| session)
        ),
    }

    // Typed, with the token's own binding state and with the other one.
    let bound_options = OpenOptions::new().binding(f.binding);
    let open = |opener: &Opener| {
        if opener.context.is_some() {
            codec.open_with::<Value>(&token, &bound_options)
        } else {
            codec.open::<Value>(&token)
        }
    };
    let sealing = settings.algorithm;
    let opened = compare("own binding", open(own), own_expected, own, sealing);
    if !input.other_app_label {
        // Sealed under the opener's keys: authentic.
        assert_ne!(
            expected_typed::<Value>(own_expected).map(drop),
            Err(Rejection::AuthenticationFailed),
            "the reference calls its own token unauthentic"
        );
    }
    compare("other binding", open(other), other_expected, other, sealing);
    let unit = if input.bound {
        codec.open_with::<()>(&token, &bound_options)
    } else {
        codec.open::<()>(&token)
    };
    compare("as ()", unit, own_expected, own, sealing);

    if let Some((opened, (session, _, value))) = opened {
        check_reseal(&codec, &settings, own, &opened, &session, &value);
    }
    check_new_session(&codec, &settings);
});

/// A new session seals at "now" unless the cut-off is later than "now"
/// plus the leeway (the codec's clock went back behind it after `build`):
/// then `seal` refuses with `CutOffInFuture`, whatever the value.
fn check_new_session(codec: &Codec, settings: &Settings) {
    let in_future = settings
        .cut_off
        .is_some_and(|cut_off| cut_off > NOW_SECS + LEEWAY_SECS);
    match codec.seal(&Value::alice()) {
        Ok(cookie) => {
            assert!(!in_future, "a new session sealed before the cut-off");
            let opener = settings.opener(None);
            let (session, index) = expected_open(&opener, &cookie)
                .unwrap_or_else(|r| panic!("the reference does not open a new session: {r:?}"));
            assert_eq!(index, 0);
            // Created now, or at the cut-off when that is later (within the
            // leeway), and last sealed then, with the configured lifetime.
            let created_at = settings.cut_off.map_or(NOW_SECS, |c| c.max(NOW_SECS));
            assert_eq!(session.created_at, created_at);
            assert_eq!(
                (session.absolute_deadline, session.renewed_at),
                reference::envelope_times(
                    created_at,
                    settings.lifetime,
                    settings.max_lifetime,
                    NOW_SECS
                )
            );
            assert_eq!(session.renewed_at, created_at);
            assert_eq!(session.schema_id, reference::schema_id(settings.schema));
            assert_eq!(session.algorithm, settings.algorithm.wire_id());
            outcome("new session");
        }
        Err(error) => {
            assert!(in_future, "a new session failed: {error:?}");
            assert_eq!(error, Error::Config(ConfigError::CutOffInFuture));
            outcome("new session: cut-off in the future");
        }
    }
}

/// The library's typed outcome against the reference's; both opened
/// sessions when they did.
fn compare<T: DeserializeOwned + PartialEq + Debug>(
    what: &str,
    opened: Result<Unsealed<T>, Error>,
    expected: &Expected,
    opener: &Opener,
    sealing: Algorithm,
) -> Option<(Unsealed<T>, (reference::Session, usize, T))> {
    match (opened, expected_typed::<T>(expected)) {
        (Ok(opened), Ok(expected)) => {
            assert_opens_as_expected(what, &opened, &expected, opener, sealing);
            Some((opened, expected))
        }
        (Err(error), Err(rejection)) => {
            assert!(
                rejection.matches(&error),
                "{what}: {rejection:?} vs {error:?}"
            );
            None
        }
        (opened, expected) => panic!(
            "{what}: {:?}, expected {:?}",
            opened.map(|o| *o.envelope()),
            expected.map(|(session, index, _)| (session, index))
        ),
    }
}

/// An opened session re-seals (unless it no longer fits), and the re-seal
/// opens in both implementations: same value, id, creation time and
/// (capped) absolute deadline, last sealed now, under the current secret,
/// the codec's algorithm and schema.
fn check_reseal(
    codec: &Codec,
    settings: &Settings,
    opener: &Opener,
    opened: &Unsealed<Value>,
    session: &reference::Session,
    value: &Value,
) {
    let f = fixture();
    let resealed = match codec.seal_with(opened.value(), &opened.seal_options()) {
        Ok(resealed) => resealed,
        Err(Error::TooLarge { size, limit }) => {
            assert!(size > limit, "TooLarge below the limit: {size} <= {limit}");
            return;
        }
        Err(error) => panic!("re-sealing an opened session failed: {error:?}"),
    };
    let expected = expected_typed::<Value>(&expected_open(opener, &resealed))
        .unwrap_or_else(|r| panic!("the reference does not open the re-seal: {r:?}"));
    let again = if opener.context.is_some() {
        codec.open_with::<Value>(&resealed, &OpenOptions::new().binding(f.binding))
    } else {
        codec.open::<Value>(&resealed)
    }
    .expect("a re-sealed session opens");
    assert_opens_as_expected("re-sealed", &again, &expected, opener, settings.algorithm);
    let (sealed, index, again_value) = &expected;
    assert_eq!(again_value, value);
    let (envelope, before) = (again.envelope(), opened.envelope());
    assert_eq!(envelope.id(), before.id());
    assert_eq!(envelope.created_at(), before.created_at());
    assert_eq!(envelope.absolute_deadline(), before.absolute_deadline());
    assert_eq!(sealed.session_id, session.session_id);
    assert_eq!(sealed.created_at, session.created_at);
    // The re-seal carries the capped lifetime, and now as its last seal:
    // what the reference says a sealer writes.
    let (absolute_deadline, renewed_at) = reference::envelope_times(
        session.created_at,
        session.absolute_deadline - session.created_at,
        opener.max_lifetime,
        NOW_SECS,
    );
    assert_eq!(sealed.absolute_deadline, absolute_deadline);
    assert_eq!(
        sealed.absolute_deadline,
        ExpectedEnvelope::of(session, opener).absolute_deadline
    );
    assert_eq!(sealed.renewed_at, renewed_at);
    assert_eq!(sealed.renewed_at, NOW_SECS.max(session.created_at));
    assert_eq!(sealed.schema_id, reference::schema_id(settings.schema));
    assert_eq!(*index, 0, "re-sealed under an old secret");
    assert_eq!(sealed.algorithm, settings.algorithm.wire_id());
    assert!(!again.sealed_with_old_secret());
    assert!(!again.needs_reseal());
}
