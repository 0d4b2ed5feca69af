//! The published test vectors for wire format v1, `tests/vectors/v1.json`,
//! checked against the crate. (`tests/vectors_reference.rs` checks them
//! against the independent implementation of the format in
//! `tests/support/reference.rs`, and that they are what the generator in
//! `tests/support/vectors.rs` writes.)
//!
//! * the crate opens every valid vector to the fields it lists, under the
//!   settings it lists (labels, idle timeout, maximum lifetime, cut-off),
//!   and only with its own context;
//! * the crate rejects every invalid vector with the listed error code;
//! * cookies freshly sealed by the crate, under every combination of the
//!   settings that reach the format, open with the reference to the
//!   payload and envelope the crate sealed;
//! * the same for chunked cookies, through `SessionConfig::load_with` with
//!   chunking on.
//!
//! (`src/codec/tests.rs` pins the crate's seal path to the vectors
//! byte for byte, through the private nonce seam.)

#[path = "support/reference.rs"]
mod reference;
#[path = "support/vectors.rs"]
mod vectors;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sealed_session::clock::ManualClock;
use sealed_session::limits::MAX_TIME;
use sealed_session::{
    Algorithm, Binding, Codec, ConfigError, Keyring, OpenOptions, SealOptions, SessionConfig,
    Unsealed,
};
use vectors::{Valid, context_bytes};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// A codec with the settings of a reference opener, its clock at the
/// opener's `now`: the crate's equivalent of opening with those settings.
fn codec(o: &reference::Opener) -> Codec {
    codec_and_clock(o).0
}

/// [`codec`] and a clone of its clock, to move it.
fn codec_and_clock(o: &reference::Opener) -> (Codec, ManualClock) {
    let clock = ManualClock::new(at(o.now));
    // Without a maximum lifetime, the format caps nothing: the crate's
    // largest one does the same.
    let max_lifetime = Duration::from_secs(o.max_lifetime.unwrap_or(MAX_TIME));
    let algorithms: Vec<Algorithm> = o
        .algorithms
        .iter()
        .map(|&id| Algorithm::from_wire_id(id).expect("a known algorithm"))
        .collect();
    let mut builder = Codec::builder(Keyring::new(&o.secrets).expect("valid secrets"))
        .cookie_name(o.cookie_name.as_str())
        .app_label(o.app_label.as_str())
        .schema(o.schema.as_str())
        .max_cookie_size(o.max_cookie_size)
        .lifetime(max_lifetime)
        .max_lifetime(max_lifetime)
        .idle_timeout(o.idle_timeout.map(Duration::from_secs))
        .algorithm(algorithms[0])
        .open_algorithms(algorithms)
        .clock(clock.clone());
    if let Some(cut) = o.reject_created_before {
        builder = builder.reject_created_before(at(cut));
    }
    (builder.build().expect("valid settings"), clock)
}

/// Opening options with the binding, if there is one.
fn open_options(binding: Option<Binding>) -> OpenOptions {
    match binding {
        Some(binding) => OpenOptions::new().binding(binding),
        None => OpenOptions::new(),
    }
}

/// What opening a valid vector tells, whatever the payload's type.
#[derive(Debug, PartialEq, Eq)]
struct Fields {
    payload: Vec<u8>,
    session_id: [u8; 16],
    created_at: SystemTime,
    renewed_at: SystemTime,
    absolute_deadline: SystemTime,
    idle_deadline: Option<SystemTime>,
    old_secret: bool,
    algorithm: String,
    key_id: [u8; 4],
}

impl Fields {
    /// The fields the vector lists, as its opener's settings govern them:
    /// the deadline capped at `created_at + max_lifetime`, the idle
    /// deadline the idle timeout after the last seal (never past the
    /// deadline).
    fn expected(v: &Valid) -> Self {
        let (session, index) = v.expected();
        let deadline = v.max_lifetime.map_or(v.absolute_deadline, |max| {
            v.absolute_deadline.min(v.created_at + max)
        });
        Self {
            payload: session.payload,
            session_id: session.session_id,
            created_at: at(v.created_at),
            renewed_at: at(v.renewed_at),
            absolute_deadline: at(deadline),
            idle_deadline: v
                .idle_timeout
                .map(|idle| at((v.renewed_at + idle).min(deadline))),
            old_secret: index != 0,
            algorithm: v.algorithm.clone(),
            key_id: session.key_id,
        }
    }

    /// The fields the crate reports, with the payload as given.
    fn opened<T>(opened: &Unsealed<T>, payload: Vec<u8>) -> Self {
        let envelope = opened.envelope();
        Self {
            payload,
            session_id: envelope.id().to_bytes(),
            created_at: envelope.created_at(),
            renewed_at: envelope.renewed_at(),
            absolute_deadline: envelope.absolute_deadline(),
            idle_deadline: envelope.idle_deadline(),
            old_secret: opened.sealed_with_old_secret(),
            algorithm: opened.algorithm().name().to_string(),
            key_id: opened.key_id().to_bytes(),
        }
    }
}

/// Opens a valid vector with the crate, at the vector's `now` (the codec's
/// clock). Unbound values are opened as raw
/// payload bytes; the crate opens bound values only as a serde type, so
/// every bound vector carries the postcard encoding of a string, which is
/// decoded and encoded again to compare the exact bytes.
fn crate_fields(v: &Valid) -> Result<Fields, sealed_session::Error> {
    let codec = codec(&v.opener());
    match context_bytes(v.context.as_ref()) {
        None => {
            let opened = codec.open_bytes(&v.value, &OpenOptions::new())?;
            Ok(Fields::opened(&opened, opened.value().to_vec()))
        }
        Some(context) => {
            let opened = codec.open_with::<String>(
                &v.value,
                &OpenOptions::new().binding(Binding::new(&context)),
            )?;
            let payload = postcard::to_allocvec(opened.value()).expect("serializes");
            Ok(Fields::opened(&opened, payload))
        }
    }
}

#[test]
fn crate_opens_every_valid_vector() {
    let vectors = vectors::load();
    assert!(vectors.valid.len() >= 10);
    for v in &vectors.valid {
        let d = &v.description;
        let fields = crate_fields(v).unwrap_or_else(|e| panic!("{d}: {e}"));
        assert_eq!(fields, Fields::expected(v), "{d}");
    }
}

/// A bound value opens with its context only: not unbound, not with a
/// context one byte longer, shorter or different; and an unbound value does
/// not open with any context, including the empty one. Checked with both
/// implementations.
#[test]
fn bound_vectors_open_only_with_their_context() {
    let vectors = vectors::load();
    let mut bound = 0;
    for v in &vectors.valid {
        let d = &v.description;
        let codec = codec(&v.opener());
        let open_both = |context: Option<&[u8]>| {
            let opener = reference::Opener {
                context: context.map(<[u8]>::to_vec),
                ..v.opener()
            };
            let reference = opener.open(&v.value).map(|_| ());
            let ours = match context {
                Some(c) => codec.open_with::<serde::de::IgnoredAny>(
                    &v.value,
                    &OpenOptions::new().binding(Binding::new(c)),
                ),
                None => codec.open::<serde::de::IgnoredAny>(&v.value),
            };
            (reference, ours.map(|_| ()).map_err(|e| e.code()))
        };
        let failed = (Err("authentication-failed"), Err("authentication-failed"));
        let context = context_bytes(v.context.as_ref());
        if context.is_some() {
            bound += 1;
        }
        for (what, wrong) in vectors::wrong_contexts(context.as_deref()) {
            assert_eq!(open_both(wrong.as_deref()), failed, "{d}: {what}");
        }
    }
    assert!(bound >= 2, "only {bound} bound vectors");
}

#[test]
fn the_realistic_payload_opens_as_its_type() {
    let expected = vectors::account();
    let encoded = postcard::to_allocvec(&expected).expect("serializes");
    let vectors = vectors::load();
    let v = vectors
        .valid
        .iter()
        .find(|v| hex::decode(&v.payload).expect("hex") == encoded)
        .expect("a valid vector carries the Account payload");
    let opened = codec(&v.opener())
        .open::<vectors::Account>(&v.value)
        .expect("opens as Account");
    assert_eq!(opened.value(), &expected);
}

#[test]
fn crate_rejects_every_invalid_vector_with_its_code() {
    let vectors = vectors::load();
    for v in &vectors.invalid {
        let codec = codec(&v.opener());
        // The vectors open as the unit type, whose encoding is empty.
        let result = match context_bytes(v.context.as_ref()) {
            Some(context) => {
                codec.open_with::<()>(&v.value, &OpenOptions::new().binding(Binding::new(context)))
            }
            None => codec.open::<()>(&v.value),
        };
        let err = result.map(|_| ()).expect_err(&v.description);
        assert_eq!(err.code(), v.error, "{}: {err}", v.description);
    }
    // Every code a cookie can fail with is exercised.
    for code in vectors::OPEN_ERROR_CODES {
        assert!(
            vectors.invalid.iter().any(|v| v.error == code),
            "no invalid vector for {code}"
        );
    }
}

/// Cookies the crate seals, under every combination of the settings that
/// reach the format, open with the reference to what the crate sealed.
#[test]
fn reference_opens_what_the_crate_seals() {
    let secrets = [
        "a current secret for the cross-check, 32+ bytes".to_string(),
        "an older secret for the cross-check, 32+ bytes!".to_string(),
    ];
    let cookie_name = "sid";
    let payloads: [Vec<u8>; 4] = [
        Vec::new(),
        b"x".to_vec(),
        postcard::to_allocvec(&vectors::account()).expect("serializes"),
        (0..=255).collect(),
    ];
    let now = 1_777_777_777;
    let long_context: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
    for algorithm in Algorithm::ALL {
        for idle_timeout in [None, Some(1800)] {
            for (app_label, schema) in [("", ""), ("shop", "cart-v2")] {
                let mut opener = reference::Opener::new(&secrets, cookie_name, now);
                opener.app_label = app_label.into();
                opener.schema = schema.into();
                opener.idle_timeout = idle_timeout;
                opener.algorithms = vec![algorithm.wire_id()];
                let (codec, clock) = codec_and_clock(&opener);
                let current_id = reference::derive(&secrets[0], app_label).id;
                // A new session created at `now` (the clock's time): what a
                // fresh seal makes, read back.
                let envelope = *codec
                    .open::<()>(&codec.seal(&()).expect("seals"))
                    .expect("opens")
                    .envelope();
                let context =
                    format!("{algorithm}, idle {idle_timeout:?}, labels {app_label:?}/{schema:?}");
                // What the reference must find in a cookie the crate sealed
                // at `seal_time` with `payload`.
                let check = |session: &reference::Session,
                             index: usize,
                             payload: &[u8],
                             seal_time: u64,
                             context: &str| {
                    assert_eq!(index, 0, "{context}");
                    assert_eq!(session.key_id, current_id, "{context}");
                    assert_eq!(session.algorithm, algorithm.wire_id(), "{context}");
                    assert_eq!(
                        reference::algorithm_name(session.algorithm),
                        algorithm.name()
                    );
                    assert_eq!(session.schema_id, reference::schema_id(schema), "{context}");
                    assert_eq!(session.payload, payload, "{context}");
                    assert_eq!(session.session_id, envelope.id().to_bytes(), "{context}");
                    assert_eq!(session.created_at, now, "{context}");
                    assert_eq!(session.created_at, unix(envelope.created_at()), "{context}");
                    assert_eq!(
                        session.absolute_deadline,
                        unix(envelope.absolute_deadline()),
                        "{context}"
                    );
                    assert_eq!(session.renewed_at, seal_time, "{context}");
                };
                for payload in &payloads {
                    // A fresh seal, and a later re-seal into the same session.
                    for seal_time in [now, now + 100] {
                        clock.set(at(seal_time));
                        let value = codec
                            .seal_bytes(payload, &SealOptions::new().envelope(envelope))
                            .expect("seals");
                        let opener = reference::Opener {
                            now: seal_time,
                            ..opener.clone()
                        };
                        let (session, index) = opener
                            .open(&value)
                            .unwrap_or_else(|e| panic!("{context}: reference says {e}"));
                        check(&session, index, payload, seal_time, &context);
                        let bound = reference::Opener {
                            context: Some(Vec::new()),
                            ..opener.clone()
                        };
                        assert_eq!(
                            bound.open(&value).map(|_| ()),
                            Err("authentication-failed"),
                            "{context}: an unbound cookie opened bound"
                        );
                        // Under any other label it does not open.
                        let other_app = reference::Opener {
                            app_label: format!("{app_label}x"),
                            ..opener.clone()
                        };
                        assert_eq!(
                            other_app.open(&value).map(|_| ()),
                            Err("unknown-key"),
                            "{context}"
                        );
                        let other_schema = reference::Opener {
                            schema: format!("{schema}x"),
                            ..opener.clone()
                        };
                        assert_eq!(
                            other_schema.open(&value).map(|_| ()),
                            Err("schema-mismatch"),
                            "{context}"
                        );
                    }
                }
                // Bound seals: empty, short and long contexts (the digest has
                // a fixed length whatever the context's).
                for bound_to in [&b""[..], b"203.0.113.7", &long_context] {
                    let binding = Binding::new(bound_to);
                    let expected = postcard::to_allocvec(&vectors::account()).expect("serializes");
                    for seal_time in [now, now + 100] {
                        clock.set(at(seal_time));
                        let value = codec
                            .seal_with(
                                &vectors::account(),
                                &SealOptions::new().envelope(envelope).binding(binding),
                            )
                            .expect("seals");
                        let context = format!("{context}, bound to {} bytes", bound_to.len());
                        let opener = reference::Opener {
                            now: seal_time,
                            context: Some(bound_to.to_vec()),
                            ..opener.clone()
                        };
                        let (session, index) = opener
                            .open(&value)
                            .unwrap_or_else(|e| panic!("{context}: reference says {e}"));
                        check(&session, index, &expected, seal_time, &context);
                        for other in [None, Some(&b"203.0.113.8"[..]), Some(b"\x00")] {
                            let opener = reference::Opener {
                                context: other.map(<[u8]>::to_vec),
                                ..opener.clone()
                            };
                            assert_eq!(
                                opener.open(&value).map(|_| ()),
                                Err("authentication-failed"),
                                "{context}: opened with {other:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Chunked cookies
// ---------------------------------------------------------------------------

/// A chunking configuration for an opener's settings.
fn chunk_config(
    opener: &reference::Opener,
    max_chunks: usize,
    header_budget: usize,
) -> Result<SessionConfig, ConfigError> {
    SessionConfig::builder(codec(opener))
        .max_chunks(max_chunks)
        .header_budget(header_budget)
        .build()
}

/// Request headers with one `Cookie` header holding `pairs` in order.
fn cookie_header(pairs: &[(String, String)]) -> HeaderMap {
    let line = pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::try_from(line).expect("valid header"));
    headers
}

/// The crate reads every chunked vector's chunk cookies, in index order
/// and reversed, to the vector's session, with `max_chunks` and the header
/// budget at exactly what the chunks need; one byte less of budget refuses
/// them, and fewer chunks allowed leave the higher ones unread. The joined
/// value is also an ordinary single-cookie value for a codec with room for
/// it.
#[test]
fn crate_opens_every_chunked_vector() {
    let vectors = vectors::load();
    assert!(vectors.chunked.len() >= 2);
    for c in &vectors.chunked {
        let d = &c.description;
        let n = c.chunks.len();
        let total = c.total();
        let valid = c.as_valid();
        let mut opener = valid.opener();
        opener.max_cookie_size = c.max_cookie_size;
        let binding = context_bytes(c.context.as_ref()).map(Binding::new);
        let config = chunk_config(&opener, n, total).unwrap_or_else(|e| panic!("{d}: {e}"));
        let expected = Fields::expected(&valid);
        let mut reversed = c.pairs();
        reversed.reverse();
        for cookies in [c.pairs(), reversed] {
            let session =
                config.load_with::<String>(&cookie_header(&cookies), &open_options(binding));
            assert_eq!(session.rejection(), None, "{d}");
            let value = session.get().unwrap_or_else(|| panic!("{d}: no session"));
            let envelope = session.envelope().expect("an envelope");
            let fields = Fields {
                payload: postcard::to_allocvec(&value).expect("serializes"),
                session_id: envelope.id().to_bytes(),
                created_at: envelope.created_at(),
                renewed_at: envelope.renewed_at(),
                absolute_deadline: envelope.absolute_deadline(),
                idle_deadline: envelope.idle_deadline(),
                ..Fields::expected(&valid)
            };
            assert_eq!(fields, expected, "{d}");
        }
        // Foreign cookies and chunk names at or above `max_chunks` change
        // nothing: they are other cookies.
        let mut with_others = c.pairs();
        with_others.insert(0, ("theme".into(), "dark".into()));
        for k in [n, n + 1, 63, 64, 1000] {
            with_others.push((format!("{}.{k}", c.cookie_name), "AAAA".into()));
        }
        let session =
            config.load_with::<String>(&cookie_header(&with_others), &open_options(binding));
        assert_eq!(
            session.rejection(),
            None,
            "{d}: foreign names spoiled the set"
        );
        assert!(!session.is_empty(), "{d}");

        let headers = cookie_header(&c.pairs());
        let tight = chunk_config(&opener, n, total - 1).expect("valid settings");
        let session = tight.load_with::<String>(&headers, &open_options(binding));
        assert_eq!(
            session.rejection(),
            Some(sealed_session::Error::TooLarge {
                size: total,
                limit: total - 1
            }),
            "{d}"
        );

        // The joined text is the single-cookie value of the same session.
        let wide = codec(&valid.opener());
        let opened = wide
            .open_with::<String>(&c.value, &open_options(binding))
            .unwrap_or_else(|e| panic!("{d}: {e}"));
        let payload = postcard::to_allocvec(opened.value()).expect("serializes");
        assert_eq!(Fields::opened(&opened, payload), expected, "{d}");
    }
}

#[test]
fn crate_rejects_every_invalid_chunk_set_with_its_code() {
    let vectors = vectors::load();
    assert!(!vectors.chunked_invalid.is_empty());
    for v in &vectors.chunked_invalid {
        let d = &v.description;
        let config = chunk_config(&v.opener(), v.max_chunks, v.header_budget)
            .unwrap_or_else(|e| panic!("{d}: {e}"));
        let binding = context_bytes(v.context.as_ref()).map(Binding::new);
        let session =
            config.load_with::<String>(&cookie_header(&v.pairs()), &open_options(binding));
        assert!(session.is_empty(), "{d}");
        assert_eq!(
            session.rejection().map(|e| e.code()),
            Some(v.error.as_str()),
            "{d}"
        );
    }
}
