//! Side by side, in one run: this crate, the `cookie` crate's private jar and
//! the raw AEAD floor, sealing and opening the same session.
//!
//! * **sealed-session**: [`Codec::seal`] and [`Codec::open`], with each
//!   algorithm, default settings otherwise.
//! * **cookie jar + JSON**: the session as `serde_json` text in the `cookie`
//!   crate's `PrivateJar` (AES-256-GCM), which is what users of
//!   `actix-session`'s cookie store and `axum-extra`'s `PrivateCookieJar` get.
//! * **floor**: postcard, one call of the same AEAD with a random 24-byte
//!   nonce, and base64url; no envelope, key id, associated data, size limit or
//!   clock check. Nothing that seals a session can do less.
//!
//! Also: opening a tampered cookie, and opening under a four-secret keyring a
//! cookie sealed under the first and under the last secret.
//!
//! Run with `cargo bench --bench compare` (about two minutes on two cores).
//! Every contender's output is checked to open, and every tampered value to
//! be rejected, once, before anything is timed. After criterion's own
//! output, a summary of this run measures the contenders once more,
//! interleaved: short batches of each, round after round, so that a machine
//! whose speed drifts between benchmarks (a shared virtual machine does, by
//! tens of percent over seconds) slows them all alike instead of biasing a
//! comparison of two medians taken a minute apart. It prints the median time
//! per call, the ratio of each contender to this crate (the median of the
//! per-round ratios), the cookie value lengths, and whether the README's
//! targets hold.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::XChaCha20Poly1305;
use cookie::{Cookie, CookieJar, Key};
use criterion::{BenchmarkId, Criterion};
use sealed_session::{Algorithm, Codec, Error, Keyring};
use xaes_256_gcm::Xaes256Gcm;
use xaes_256_gcm::aead::array::Array;
use xaes_256_gcm::aead::consts::{U16, U24};
use xaes_256_gcm::aead::{AeadInOut, KeyInit};

#[path = "../tests/support/sample.rs"]
mod sample;
use sample::{Session, session};

/// The cookie name every contender uses.
const NAME: &str = "session";
/// The four secrets of the rotation benchmark, newest first.
const SECRETS: [&str; 4] = [
    "the current secret, at least 32 bytes long",
    "the previous secret, at least 32 bytes long",
    "an older secret, also at least 32 bytes long",
    "the oldest secret, also at least 32 bytes long",
];

/// Nonce length of both floor AEADs.
const NONCE_LEN: usize = 24;
/// Tag length of both floor AEADs.
const TAG_LEN: usize = 16;

/// The floor: what sealing a session costs with nothing but postcard, one
/// AEAD call (same algorithm and crate as this crate uses) and base64url.
struct Floor<A> {
    /// The AEAD, keyed once, as this crate's keyring keys it once.
    cipher: A,
}

impl<A: AeadInOut<NonceSize = U24, TagSize = U16>> Floor<A> {
    /// `nonce | ciphertext | tag`, base64url without padding: the same
    /// allocations as this crate (one buffer, one string).
    fn seal(&self, session: &Session) -> String {
        let len = postcard::serialize_with_flavor::<_, _, usize>(
            session,
            postcard::ser_flavors::Size::default(),
        )
        .expect("the session serializes");
        let mut token = vec![0u8; NONCE_LEN + len + TAG_LEN];
        let (nonce, rest) = token.split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(len);
        getrandom::fill(nonce).expect("the OS random number generator works");
        postcard::to_slice(session, body).expect("the session fits its exact size");
        let nonce = Array::<u8, U24>::try_from(&*nonce).expect("24 bytes");
        let computed = self
            .cipher
            .encrypt_inout_detached(&nonce, &[], body.into())
            .expect("a cookie-sized message is under the AEAD limits");
        tag.copy_from_slice(&computed);
        URL_SAFE_NO_PAD.encode(&token)
    }

    /// The inverse of [`Floor::seal`]; `None` for anything that does not
    /// decode, authenticate and deserialize.
    fn open(&self, value: &str) -> Option<Session> {
        let mut token = URL_SAFE_NO_PAD.decode(value).ok()?;
        if token.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, rest) = token.split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        let nonce = Array::<u8, U24>::try_from(&*nonce).ok()?;
        let tag = Array::<u8, U16>::try_from(&*tag).ok()?;
        self.cipher
            .decrypt_inout_detached(&nonce, &[], (&mut *body).into(), &tag)
            .ok()?;
        postcard::from_bytes(body).ok()
    }
}

/// Seals with the `cookie` crate's private jar, as `actix-session` and
/// `axum-extra` do: the session as JSON text, added to a jar. The sealed
/// value is read from the returned jar without copying it.
fn jar_seal(key: &Key, session: &Session) -> CookieJar {
    let json = serde_json::to_string(session).expect("the session serializes");
    let mut jar = CookieJar::new();
    jar.private_mut(key).add(Cookie::new(NAME, json));
    jar
}

/// The sealed value in a jar made by [`jar_seal`].
fn jar_value(jar: &CookieJar) -> &str {
    jar.get(NAME).expect("the jar holds the cookie").value()
}

/// Opens a private-jar value as a request handler does: an owned cookie
/// from the request, decrypted by the private jar, the JSON parsed.
fn jar_open(key: &Key, value: &str) -> Option<Session> {
    let cookie = CookieJar::new()
        .private(key)
        .decrypt(Cookie::new(NAME, value.to_owned()))?;
    serde_json::from_str(cookie.value()).ok()
}

/// A copy of `value` with one character in the middle of the ciphertext
/// changed: still valid base64url, so opening gets as far as the AEAD.
fn tamper(value: &str) -> String {
    let mut bytes = value.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("base64url is ASCII")
}

/// A codec with default settings under `secrets` and `algorithm`.
fn codec(secrets: &[&str], algorithm: Algorithm) -> Codec {
    Codec::builder(Keyring::new(secrets).expect("valid secrets"))
        .cookie_name(NAME)
        .algorithm(algorithm)
        .build()
        .expect("valid settings")
}

/// The contenders of the main table, in order.
const CONTENDERS: [&str; 5] = [
    "sealed-session-xaes",
    "sealed-session-xchacha",
    "cookie-jar-json",
    "floor-xaes",
    "floor-xchacha",
];
/// The operations every contender is timed on.
const OPS: [&str; 3] = ["seal", "open", "round-trip"];
/// The other benchmarks: rejection and rotation, as (function, operation).
const EXTRAS: [(&str, &str); 4] = [
    ("sealed-session-xaes", "open-tampered"),
    ("sealed-session-xchacha", "open-tampered"),
    ("keyring-of-4", "open-first-secret"),
    ("keyring-of-4", "open-last-secret"),
];

/// What a contender is compared with: this crate with the same algorithm
/// (the cookie jar, which has no choice, with the default). `None` for this
/// crate itself.
fn reference(contender: &str) -> Option<&'static str> {
    match contender {
        "cookie-jar-json" | "floor-xaes" => Some("sealed-session-xaes"),
        "floor-xchacha" => Some("sealed-session-xchacha"),
        _ => None,
    }
}

/// Everything one payload's benchmarks need, built and checked once.
struct Fixture {
    /// The session every contender seals.
    session: Session,
    /// This crate, XAES-256-GCM, one secret.
    xaes: Codec,
    /// This crate, XChaCha20-Poly1305, one secret.
    xchacha: Codec,
    /// This crate, four secrets.
    four: Codec,
    /// The cookie crate's key.
    key: Key,
    /// The floor with XAES-256-GCM.
    floor_xaes: Floor<Xaes256Gcm>,
    /// The floor with XChaCha20-Poly1305.
    floor_xchacha: Floor<XChaCha20Poly1305>,
    /// One sealed value per contender, in [`CONTENDERS`] order.
    values: [String; 5],
    /// This crate's values with one character changed, per algorithm.
    tampered: [String; 2],
    /// Sealed under the first and under the last of the four secrets.
    first_last: [String; 2],
}

impl Fixture {
    /// Seals the session with every contender and checks, before anything
    /// is timed, that each value opens to the same session and that each
    /// tampered value is rejected.
    fn new(cart_items: u32) -> Self {
        let session = session(cart_items);
        let xaes = codec(&SECRETS[..1], Algorithm::XAes256Gcm);
        let xchacha = codec(&SECRETS[..1], Algorithm::XChaCha20Poly1305);
        let four = codec(&SECRETS, Algorithm::XAes256Gcm);
        let key = Key::generate();
        let floor_xaes = Floor {
            cipher: Xaes256Gcm::new(&[0x11; 32].into()),
        };
        let floor_xchacha = Floor {
            cipher: XChaCha20Poly1305::new(&[0x22; 32].into()),
        };

        let ours = [&xaes, &xchacha].map(|c| c.seal(&session).expect("the session fits"));
        for (codec, value) in [&xaes, &xchacha].into_iter().zip(&ours) {
            assert_eq!(
                codec.open::<Session>(value).expect("opens").value(),
                &session
            );
        }
        let tampered = ours.clone().map(|v| tamper(&v));
        for (codec, value) in [&xaes, &xchacha].into_iter().zip(&tampered) {
            assert_eq!(
                codec.open::<Session>(value).map(|_| ()),
                Err(Error::AuthenticationFailed)
            );
        }
        let jar = jar_value(&jar_seal(&key, &session)).to_owned();
        assert_eq!(jar_open(&key, &jar).as_ref(), Some(&session));
        assert_eq!(jar_open(&key, &tamper(&jar)), None);
        let floors = [floor_xaes.seal(&session), floor_xchacha.seal(&session)];
        assert_eq!(floor_xaes.open(&floors[0]).as_ref(), Some(&session));
        assert_eq!(floor_xchacha.open(&floors[1]).as_ref(), Some(&session));
        assert_eq!(floor_xaes.open(&tamper(&floors[0])), None);
        assert_eq!(floor_xchacha.open(&tamper(&floors[1])), None);

        // Rotation: the key id names the key, so both cost one AEAD attempt.
        let first_last = [
            four.seal(&session).expect("the session fits"),
            codec(&SECRETS[3..], Algorithm::XAes256Gcm)
                .seal(&session)
                .expect("the session fits"),
        ];
        for (value, old) in first_last.iter().zip([false, true]) {
            let opened = four.open::<Session>(value).expect("opens");
            assert_eq!(
                (opened.value(), opened.sealed_with_old_secret()),
                (&session, old)
            );
        }

        let [a, b] = ours;
        let [c, d] = floors;
        Self {
            session,
            xaes,
            xchacha,
            four,
            key,
            floor_xaes,
            floor_xchacha,
            values: [a, b, jar, c, d],
            tampered,
            first_last,
        }
    }

    /// The cookie value length of a contender.
    fn length(&self, contender: &str) -> usize {
        let index = CONTENDERS.iter().position(|&c| c == contender);
        index.map_or(0, |i| self.values[i].len())
    }

    /// One operation of one contender, as a closure to time.
    fn routine(&self, function: &str, op: &str) -> Box<dyn FnMut() + '_> {
        let s = &self.session;
        let [
            xaes_value,
            xchacha_value,
            jar_value_,
            floor_xaes_value,
            floor_xchacha_value,
        ] = &self.values;
        let codec = |label| {
            if label == "sealed-session-xaes" {
                &self.xaes
            } else {
                &self.xchacha
            }
        };
        match (function, op) {
            ("sealed-session-xaes" | "sealed-session-xchacha", _) => {
                let codec = codec(function);
                let (value, tampered) = if function == "sealed-session-xaes" {
                    (xaes_value, &self.tampered[0])
                } else {
                    (xchacha_value, &self.tampered[1])
                };
                match op {
                    "seal" => Box::new(move || {
                        black_box(codec.seal(black_box(s)).expect("seal"));
                    }),
                    "open" => Box::new(move || {
                        black_box(codec.open::<Session>(black_box(value)).expect("open"));
                    }),
                    "round-trip" => Box::new(move || {
                        let value = codec.seal(black_box(s)).expect("seal");
                        black_box(codec.open::<Session>(&value).expect("open"));
                    }),
                    "open-tampered" => Box::new(move || {
                        black_box(codec.open::<Session>(black_box(tampered)).expect_err("bad"));
                    }),
                    _ => unreachable!("no operation {op}"),
                }
            }
            ("keyring-of-4", _) => {
                let value = if op == "open-first-secret" {
                    &self.first_last[0]
                } else {
                    &self.first_last[1]
                };
                Box::new(move || {
                    black_box(self.four.open::<Session>(black_box(value)).expect("open"));
                })
            }
            ("cookie-jar-json", "seal") => Box::new(move || {
                black_box(jar_seal(&self.key, black_box(s)));
            }),
            ("cookie-jar-json", "open") => Box::new(move || {
                black_box(jar_open(&self.key, black_box(jar_value_)).expect("open"));
            }),
            ("cookie-jar-json", "round-trip") => Box::new(move || {
                let jar = jar_seal(&self.key, black_box(s));
                black_box(jar_open(&self.key, jar_value(&jar)).expect("open"));
            }),
            ("floor-xaes", _) => floor_routine(&self.floor_xaes, s, floor_xaes_value, op),
            ("floor-xchacha", _) => floor_routine(&self.floor_xchacha, s, floor_xchacha_value, op),
            _ => unreachable!("no benchmark {function}/{op}"),
        }
    }
}

/// One operation of a floor contender, as a closure to time.
fn floor_routine<'a, A: AeadInOut<NonceSize = U24, TagSize = U16>>(
    floor: &'a Floor<A>,
    s: &'a Session,
    value: &'a str,
    op: &str,
) -> Box<dyn FnMut() + 'a> {
    match op {
        "seal" => Box::new(move || {
            black_box(floor.seal(black_box(s)));
        }),
        "open" => Box::new(move || {
            black_box(floor.open(black_box(value)).expect("open"));
        }),
        "round-trip" => Box::new(move || {
            black_box(floor.open(&floor.seal(black_box(s))).expect("open"));
        }),
        _ => unreachable!("no operation {op}"),
    }
}

/// Every benchmark of one payload, in the criterion group `payload`.
fn bench_payload(c: &mut Criterion, payload: &str, fixture: &Fixture) {
    let mut group = c.benchmark_group(payload);
    let all = CONTENDERS
        .iter()
        .flat_map(|&contender| OPS.map(|op| (contender, op)))
        .chain(EXTRAS);
    for (function, op) in all {
        group.bench_function(BenchmarkId::new(function, op), |b| {
            let mut routine = fixture.routine(function, op);
            b.iter(&mut routine);
        });
    }
    group.finish();
}

/// Rounds of the interleaved measurement.
const ROUNDS: usize = 600;

/// Per-call times, in nanoseconds, of `routines` measured interleaved: in
/// each of [`ROUNDS`] rounds, one batch of about a third of a millisecond of
/// each, in an order that rotates from round to round. Drift in the
/// machine's speed then hits every routine alike, and the ratio of two
/// routines' times in the same round cancels it. Returns one time per round
/// for each routine.
fn interleaved(mut routines: Vec<Box<dyn FnMut() + '_>>) -> Vec<Vec<f64>> {
    let batches: Vec<u32> = routines
        .iter_mut()
        .map(|routine| {
            let calibration = Instant::now();
            let mut calls = 0u32;
            while calibration.elapsed() < Duration::from_millis(10) {
                routine();
                calls += 1;
            }
            (calls / 30).max(1)
        })
        .collect();
    let n = routines.len();
    let mut times = vec![Vec::with_capacity(ROUNDS); n];
    for round in 0..ROUNDS {
        for k in 0..n {
            let i = (round + k) % n;
            let started = Instant::now();
            for _ in 0..batches[i] {
                routines[i]();
            }
            times[i].push(started.elapsed().as_secs_f64() * 1e9 / f64::from(batches[i]));
        }
    }
    times
}

/// The median of `values`.
fn middle(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The median over rounds of `a`'s time divided by `b`'s in the same round.
fn paired(a: &[f64], b: &[f64]) -> f64 {
    middle(a.iter().zip(b).map(|(a, b)| a / b))
}

/// A duration in nanoseconds, in µs with two decimals.
fn micros(ns: f64) -> String {
    format!("{:.2} µs", ns / 1000.0)
}

/// Measures one payload interleaved, prints its table, and returns its
/// targets as (description, value, pass).
fn summary(payload: &str, fixture: &Fixture) -> Vec<(String, f64, bool)> {
    // Times per (function, operation), and ratios to the reference.
    let mut times: HashMap<(&str, &str), f64> = HashMap::new();
    let mut ratios: HashMap<(&str, &str), f64> = HashMap::new();
    // XChaCha20-Poly1305's round trip against XAES-256-GCM's, per round.
    let mut xchacha_vs_xaes = f64::NAN;
    for op in OPS {
        let runs = interleaved(CONTENDERS.iter().map(|c| fixture.routine(c, op)).collect());
        let run_of = |name: &str| CONTENDERS.iter().position(|&c| c == name).map(|i| &runs[i]);
        if op == "round-trip"
            && let (Some(xchacha), Some(xaes)) = (
                run_of("sealed-session-xchacha"),
                run_of("sealed-session-xaes"),
            )
        {
            xchacha_vs_xaes = paired(xchacha, xaes);
        }
        for (contender, run) in CONTENDERS.iter().zip(&runs) {
            times.insert((contender, op), middle(run.iter().copied()));
            if let Some(reference) = reference(contender) {
                let r = CONTENDERS.iter().position(|&c| c == reference).unwrap_or(0);
                ratios.insert((contender, op), paired(run, &runs[r]));
            }
        }
    }
    // Rejection against a valid open, and the last secret against the first.
    let extras = [
        ("sealed-session-xaes", "open"),
        ("sealed-session-xaes", "open-tampered"),
        ("sealed-session-xchacha", "open"),
        ("sealed-session-xchacha", "open-tampered"),
        ("keyring-of-4", "open-first-secret"),
        ("keyring-of-4", "open-last-secret"),
    ];
    let runs = interleaved(
        extras
            .iter()
            .map(|(f, op)| fixture.routine(f, op))
            .collect(),
    );
    for (i, &(function, op)) in extras.iter().enumerate().skip(1).step_by(2) {
        times.insert((function, op), middle(runs[i].iter().copied()));
        ratios.insert((function, op), paired(&runs[i], &runs[i - 1]));
    }
    times.insert(extras[4], middle(runs[4].iter().copied()));

    let cell = |function: &str, op: &str| {
        let time = times
            .get(&(function, op))
            .map_or("–".into(), |&t| micros(t));
        match ratios.get(&(function, op)) {
            Some(ratio) => format!("{time} ({ratio:.2}×)"),
            None => time,
        }
    };
    println!(
        "### {payload} session ({} cart items)\n",
        fixture.session.cart.len()
    );
    println!("| contender | seal | open | seal + open | value length |");
    println!("|---|---|---|---|---|");
    for contender in CONTENDERS {
        let [seal, open, round_trip] = OPS.map(|op| cell(contender, op));
        let length = fixture.length(contender);
        println!("| {contender} | {seal} | {open} | {round_trip} | {length} |");
    }
    for (function, op) in EXTRAS {
        println!("| {function} {op} | | {} | | |", cell(function, op));
    }
    println!();

    // The targets of issue 14 (speed) and of the earlier issues (rejection,
    // rotation, length).
    let (jar_factor, saving) = if payload == "typical" {
        (1.5, 0.25)
    } else {
        (2.2, 0.45)
    };
    let get = |function, op| ratios.get(&(function, op)).copied().unwrap_or(f64::NAN);
    let jar = get("cookie-jar-json", "round-trip");
    let jar_seal = get("cookie-jar-json", "seal");
    let floor = 1.0 / get("floor-xaes", "round-trip");
    let tampered = get("sealed-session-xaes", "open-tampered");
    let rotation = get("keyring-of-4", "open-last-secret");
    let ours = fixture.length("sealed-session-xaes") as f64;
    let shorter = 1.0 - ours / fixture.length("cookie-jar-json") as f64;
    vec![
        (
            format!("{payload}: cookie jar round trip / sealed-session >= {jar_factor}"),
            jar,
            jar >= jar_factor,
        ),
        (
            format!("{payload}: cookie jar seal / sealed-session seal > 1"),
            jar_seal,
            jar_seal > 1.0,
        ),
        (
            format!("{payload}: sealed-session round trip / floor <= 1.15"),
            floor,
            floor <= 1.15,
        ),
        (
            format!("{payload}: XChaCha20-Poly1305 round trip / XAES-256-GCM round trip <= 1.5"),
            xchacha_vs_xaes,
            xchacha_vs_xaes <= 1.5,
        ),
        (
            format!("{payload}: tampered open / valid open <= 1"),
            tampered,
            tampered <= 1.0,
        ),
        (
            format!("{payload}: last-secret open / first-secret open <= 1.05"),
            rotation,
            rotation <= 1.05,
        ),
        (
            format!("{payload}: value shorter than the cookie jar's by >= {saving}"),
            shorter,
            shorter >= saving,
        ),
    ]
}

/// Runs every benchmark with criterion, then (unless criterion only tests
/// or lists them) the paired comparisons and the summary.
fn main() {
    let mut c = Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .nresamples(20_000)
        .configure_from_args();
    let payloads = [("typical", Fixture::new(5)), ("large", Fixture::new(60))];
    for (payload, fixture) in &payloads {
        bench_payload(&mut c, payload, fixture);
    }
    c.final_summary();
    if std::env::args().any(|a| ["--test", "--list", "--profile-time"].contains(&a.as_str())) {
        return;
    }

    println!("\n## Summary of this run\n");
    println!(
        "Median time per call over {ROUNDS} interleaved rounds; in parentheses, the \
         median ratio to sealed-session with the same algorithm in the same round.\n"
    );
    let mut targets = Vec::new();
    for (payload, fixture) in &payloads {
        targets.extend(summary(payload, fixture));
    }
    println!("### Targets\n");
    for (what, value, pass) in targets {
        let verdict = if pass { "pass" } else { "FAIL" };
        println!("- {what}: {value:.2} {verdict}");
    }
}
