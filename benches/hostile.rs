//! What hostile `Cookie` headers cost to load (and reject) through
//! [`SessionConfig::load`], against loading one valid session.
//!
//! Cases (all with default settings, cookie name `session`):
//!
//! * `valid`: one valid cookie holding the typical sample session, the
//!   yardstick; `no-cookie`: a request without a `Cookie` header;
//! * `1mb-value`: `session=` followed by 1 MiB of base64url, rejected by the
//!   size check; `1mb-other-cookie`: a 1 MiB cookie of another name next to
//!   the valid session; `1mb-not-utf8`: a valid session after 1 MiB of bytes
//!   that are not UTF-8;
//! * `10k-cookies`: 10 000 cookies of other names (a quarter of them sharing
//!   the session name's prefix) in one header;
//! * `5k-duplicates`: 5 000 `session` cookies of forged tokens that pass
//!   every check before the AEAD, of which 8 are tried;
//! * with chunking on (4 chunks): `chunked/10k-chunk-cookies`, 10 000
//!   cookies `session.0` to `session.9999` (refused before joining);
//!   `chunked/5k-duplicates+chunks`, the 5 000 duplicates followed by a
//!   forged two-chunk set (8 plain attempts and the joined set);
//!   `chunked/valid`, the valid cookie under the chunked configuration;
//! * scaling: 1 000, 10 000 and 100 000 other cookies, and as many forged
//!   duplicates, to show that time grows linearly with the header (the
//!   duplicates past the eighth cost only the scan for the name).
//!
//! Every load runs at one instant: the codec reads a manual clock set to
//! the time the benchmark started, so no case's outcome can change while
//! it runs (the valid session's idle timeout is 30 minutes).
//!
//! Every case is checked once before anything is timed (the session is
//! loaded or rejected as expected). Run with `cargo bench --bench hostile`
//! (about a minute and a half). After criterion's output, a summary of this
//! run measures the cases again, interleaved round after round so that
//! drift in the speed of a shared machine hits them alike, and prints the
//! median time per load, its ratio to a valid load, and for the scaling
//! series the time per cookie and per header byte.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, Throughput};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sealed_session::clock::ManualClock;
use sealed_session::{Codec, Error, KeyId, Keyring, SessionConfig};

#[path = "../tests/support/sample.rs"]
mod sample;
use sample::{Session, session};

/// One mebibyte.
const MB: usize = 1 << 20;

/// Rounds of the interleaved measurement.
const ROUNDS: usize = 15;

/// Time per case and round in the interleaved measurement.
const SLICE: Duration = Duration::from_millis(40);

/// What a case's load must give, checked before timing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// The sample session.
    Loaded,
    /// No session cookie at all.
    Absent,
    /// Rejected with this error code.
    Rejected(&'static str),
}

/// One benchmark case: a name, the configuration that loads it, the
/// request headers, the header bytes, the number of cookies in them and the
/// expected outcome.
struct Case {
    name: String,
    config: SessionConfig,
    headers: HeaderMap,
    bytes: usize,
    cookies: usize,
    expect: Expect,
}

impl Case {
    fn new(
        name: impl Into<String>,
        config: &SessionConfig,
        header: Option<Vec<u8>>,
        expect: Expect,
    ) -> Self {
        let mut headers = HeaderMap::new();
        let (bytes, cookies) = match header {
            Some(header) => {
                let cookies = header.split(|&b| b == b';').count();
                let bytes = header.len();
                headers.insert(
                    COOKIE,
                    HeaderValue::from_bytes(&header).expect("a header value"),
                );
                (bytes, cookies)
            }
            None => (0, 0),
        };
        Self {
            name: name.into(),
            config: config.clone(),
            headers,
            bytes,
            cookies,
            expect,
        }
    }
}

/// A token with version 1, a known algorithm and `key_id`, and arbitrary
/// nonce, body and tag: it reaches the AEAD and fails there.
fn forged(key_id: KeyId, seed: usize) -> String {
    let mut token = vec![1, 1 + (seed % 2) as u8];
    token.extend_from_slice(&key_id.to_bytes());
    token.extend((0..24 + 200 + 16).map(|i| (i * 31 + seed * 7) as u8));
    URL_SAFE_NO_PAD.encode(token)
}

/// `n` cookies of other names; every fourth shares the session name's
/// prefix, so that it is parsed, not only skipped.
fn others(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i % 4 == 1 {
                format!("session{i}=v")
            } else {
                format!("c{i}=v{i}")
            }
        })
        .collect()
}

/// `n` forged `session` cookies.
fn duplicates(key_id: KeyId, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("session={}", forged(key_id, i)))
        .collect()
}

fn join(pairs: &[String]) -> Vec<u8> {
    pairs.join("; ").into_bytes()
}

/// Loads the case's headers once (at the time of the codec's clock).
fn load(case: &Case) -> Option<Error> {
    let session = case.config.load::<Session>(black_box(&case.headers));
    let rejection = session.rejection();
    black_box(session);
    rejection
}

/// `iters` loads of the case; the elapsed time.
fn run(case: &Case, iters: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..iters {
        black_box(load(case));
    }
    started.elapsed()
}

/// The median of `values` (reordering them).
fn middle(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A duration in seconds, printed with a fitting unit.
fn human(seconds: f64) -> String {
    if seconds < 1e-6 {
        format!("{:.0} ns", seconds * 1e9)
    } else if seconds < 1e-3 {
        format!("{:.2} µs", seconds * 1e6)
    } else {
        format!("{:.2} ms", seconds * 1e3)
    }
}

fn main() {
    let clock = ManualClock::new(SystemTime::now());
    let config = SessionConfig::builder(
        Codec::builder(
            Keyring::new(["the hostile benchmark secret, over 32 bytes"]).expect("valid"),
        )
        .cookie_name("session")
        .clock(clock)
        .build()
        .expect("valid"),
    )
    .dangerous_allow_plain_http()
    .build()
    .expect("valid");
    let sealed = config.codec().seal(&session(5)).expect("seals");
    // The key id the codec seals under, for the forged tokens.
    let key_id = config
        .codec()
        .open::<Session>(&sealed)
        .expect("opens")
        .key_id();
    let valid = format!("session={sealed}");

    let mut cases = vec![
        Case::new(
            "valid",
            &config,
            Some(valid.clone().into_bytes()),
            Expect::Loaded,
        ),
        Case::new("no-cookie", &config, None, Expect::Absent),
        Case::new(
            "1mb-value",
            &config,
            Some(format!("session={}", "A".repeat(MB)).into_bytes()),
            Expect::Rejected("too-large"),
        ),
        Case::new(
            "1mb-other-cookie",
            &config,
            Some(format!("big={}; {valid}", "A".repeat(MB)).into_bytes()),
            Expect::Loaded,
        ),
        Case::new(
            "1mb-not-utf8",
            &config,
            Some([vec![0xa0; MB], b"; ".to_vec(), valid.clone().into_bytes()].concat()),
            Expect::Loaded,
        ),
        Case::new(
            "10k-cookies",
            &config,
            Some(join(&others(10_000))),
            Expect::Absent,
        ),
        Case::new(
            "5k-duplicates",
            &config,
            Some(join(&duplicates(key_id, 5_000))),
            Expect::Rejected("authentication-failed"),
        ),
    ];
    // With chunking on: 10 000 chunk cookies repeating the indexes below
    // `max_chunks` (refused as an irregular set before anything is joined
    // or decoded), 10 000 with indexes from `max_chunks` up (other cookies,
    // skipped), and a forged two-chunk set behind 5 000 duplicates (8 plain
    // attempts, then the joined set).
    let chunked = SessionConfig::builder(config.codec().clone())
        .max_chunks(4)
        .build()
        .expect("valid chunking settings");
    let chunk_cookies: Vec<String> = (0..10_000)
        .map(|i| format!("session.{}={}", i % 4, forged(key_id, i)))
        .collect();
    cases.push(Case::new(
        "chunked/10k-chunk-cookies",
        &chunked,
        Some(join(&chunk_cookies)),
        Expect::Rejected("malformed"),
    ));
    let ignored: Vec<String> = (4..10_004)
        .map(|i| format!("session.{i}={}", forged(key_id, i)))
        .collect();
    cases.push(Case::new(
        "chunked/10k-ignored-chunk-names",
        &chunked,
        Some(join(&ignored)),
        Expect::Absent,
    ));
    let long: String = (0..25).map(|i| forged(key_id, i)).collect();
    let mut with_chunks = duplicates(key_id, 5_000);
    with_chunks.push(format!("session.0={}", &long[..4_000]));
    with_chunks.push(format!("session.1={}", &long[4_000..6_000]));
    cases.push(Case::new(
        "chunked/5k-duplicates+chunks",
        &chunked,
        Some(join(&with_chunks)),
        Expect::Rejected("authentication-failed"),
    ));
    cases.push(Case::new(
        "chunked/valid",
        &chunked,
        Some(valid.clone().into_bytes()),
        Expect::Loaded,
    ));
    let first_scaling = cases.len();
    for n in [1_000, 10_000, 100_000] {
        cases.push(Case::new(
            format!("others/{n}"),
            &config,
            Some(join(&others(n))),
            Expect::Absent,
        ));
    }
    for n in [1_000, 10_000, 100_000] {
        cases.push(Case::new(
            format!("duplicates/{n}"),
            &config,
            Some(join(&duplicates(key_id, n))),
            Expect::Rejected("authentication-failed"),
        ));
    }

    // Every case does what it is named for before it is timed.
    for case in &cases {
        let loaded = case.config.load::<Session>(&case.headers);
        let got = match (!loaded.is_empty(), loaded.rejection()) {
            (true, None) => Expect::Loaded,
            (false, None) => Expect::Absent,
            (false, Some(error)) => Expect::Rejected(error.code()),
            (true, Some(error)) => panic!("{}: loaded and rejected ({error})", case.name),
        };
        assert_eq!(got, case.expect, "{}", case.name);
        if case.expect == Expect::Loaded {
            assert!(
                loaded.with(|value| value == Some(&session(5))),
                "{}",
                case.name
            );
        }
    }

    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut group = c.benchmark_group("hostile-load");
    for case in &cases {
        group.throughput(Throughput::Bytes(case.bytes.max(1) as u64));
        group.bench_function(BenchmarkId::from_parameter(&case.name), |b| {
            b.iter(|| load(case));
        });
    }
    group.finish();
    c.final_summary();
    // Only `cargo bench` (which passes `--bench`) gets the summary; run as
    // a test, or to list or profile, criterion's part is all.
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench")
        || args
            .iter()
            .any(|a| ["--test", "--list", "--profile-time"].contains(&a.as_str()))
    {
        return;
    }

    // Interleaved: every case for about SLICE per round, round after round.
    let iters: Vec<u64> = cases
        .iter()
        .map(|case| {
            let once = run(case, 3).as_secs_f64() / 3.0;
            ((SLICE.as_secs_f64() / once.max(1e-9)) as u64).max(1)
        })
        .collect();
    let mut per_load = vec![Vec::with_capacity(ROUNDS); cases.len()];
    let mut ratio = vec![Vec::with_capacity(ROUNDS); cases.len()];
    for _ in 0..ROUNDS {
        let this: Vec<f64> = cases
            .iter()
            .zip(&iters)
            .map(|(case, &n)| run(case, n).as_secs_f64() / n as f64)
            .collect();
        for (i, t) in this.iter().enumerate() {
            per_load[i].push(*t);
            ratio[i].push(t / this[0]);
        }
    }
    let medians: Vec<f64> = per_load.iter_mut().map(|v| middle(v)).collect();

    println!("\n## Summary of this run\n");
    println!(
        "Median time per load over {ROUNDS} interleaved rounds; ratio to loading one valid session.\n"
    );
    println!("| case | header bytes | cookies | outcome | time per load | vs valid |");
    println!("|---|---|---|---|---|---|");
    for (i, case) in cases.iter().enumerate() {
        let outcome = match case.expect {
            Expect::Loaded => "loaded".to_string(),
            Expect::Absent => "no session".to_string(),
            Expect::Rejected(code) => code.to_string(),
        };
        println!(
            "| {} | {} | {} | {outcome} | {} | {:.2}× |",
            case.name,
            case.bytes,
            case.cookies,
            human(medians[i]),
            middle(&mut ratio[i])
        );
    }
    println!("\nScaling (time should grow linearly with the header):\n");
    println!("| case | per cookie | per header byte | vs the next smaller |");
    println!("|---|---|---|---|");
    for (i, case) in cases.iter().enumerate().skip(first_scaling) {
        let growth = if (i - first_scaling) % 3 == 0 {
            "".to_string()
        } else {
            format!(
                "{:.1}× time for {:.0}× the bytes",
                medians[i] / medians[i - 1],
                case.bytes as f64 / cases[i - 1].bytes as f64
            )
        };
        println!(
            "| {} | {} | {:.2} ns | {growth} |",
            case.name,
            human(medians[i] / case.cookies as f64),
            medians[i] * 1e9 / case.bytes as f64
        );
    }
}
