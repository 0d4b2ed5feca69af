//! What the http helper adds to the codec for one request: `load` of a
//! `Cookie` header (the session cookie between two others) and `write`
//! into a response, against the codec's own `open` (and `open` + re-seal
//! with `seal_with` and `Unsealed::seal_options`) of the same cookie.
//!
//! * **read**: `load`, read the value, `write` (nothing to write), against
//!   `Codec::open`;
//! * **change**: `load`, change the value, `write` (re-seal and one
//!   `Set-Cookie` with `Max-Age` and `Expires`), against `Codec::open` +
//!   `Codec::seal_with(opened.value(), &opened.seal_options())`.
//!
//! Run with `cargo bench --bench web`. After criterion's measurements, an
//! interleaved pass (short batches of each contender in turn, many rounds;
//! medians of the per-round times) prints the overhead of the web layer,
//! which is the number the README reports.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sealed_session::{Codec, Keyring, SessionConfig, Written};

#[path = "../tests/support/sample.rs"]
mod sample;
use sample::{Session, session};

/// The codec and configuration of the benchmark: every default
/// (`__Host-session`, 30-minute idle timeout, 12-hour lifetime).
fn config() -> SessionConfig {
    let keyring = Keyring::new(["the web benchmark's secret, 32+ bytes"]).expect("valid");
    SessionConfig::new(Codec::new(keyring))
}

/// A request carrying the session cookie between two other cookies.
fn request(config: &SessionConfig, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let line = format!(
        "theme=dark; {}={value}; _ga=GA1.2.1234567890.1700000000",
        config.codec().cookie_name()
    );
    headers.insert(COOKIE, HeaderValue::from_str(&line).expect("a header"));
    headers
}

/// `load`, read, `write`: nothing to write.
fn read(config: &SessionConfig, headers: &HeaderMap) -> usize {
    let session = config.load::<Session>(headers);
    let items = session.with(|s| s.map_or(0, |s| s.cart.len()));
    let mut out = HeaderMap::new();
    let written = session.write(&mut out).expect("writes");
    debug_assert_eq!(written, Written::Nothing);
    items + out.len()
}

/// `load`, change, `write`: a re-seal and one `Set-Cookie`.
fn change(config: &SessionConfig, headers: &HeaderMap) -> usize {
    let session = config.load::<Session>(headers);
    let _ = session.update(|s| s.cart[0].qty += 1);
    let mut out = HeaderMap::new();
    let written = session.write(&mut out).expect("writes");
    debug_assert_eq!(written, Written::Set);
    out.len()
}

fn open(codec: &Codec, value: &str) -> usize {
    codec
        .open::<Session>(value)
        .expect("opens")
        .value()
        .cart
        .len()
}

fn open_reseal(codec: &Codec, value: &str) -> usize {
    let mut opened = codec.open::<Session>(value).expect("opens");
    opened.value_mut().cart[0].qty += 1;
    codec
        .seal_with(opened.value(), &opened.seal_options())
        .expect("reseals")
        .len()
}

/// Median time per call of each contender over `rounds` rounds of
/// `batch` calls each, every contender in turn in every round.
fn interleaved(
    contenders: &mut [(&str, &mut dyn FnMut() -> usize)],
    rounds: usize,
    batch: usize,
) -> Vec<f64> {
    let mut times = vec![Vec::with_capacity(rounds); contenders.len()];
    for round in 0..rounds {
        for offset in 0..contenders.len() {
            // A different contender starts each round.
            let i = (round + offset) % contenders.len();
            let (_, run) = &mut contenders[i];
            let start = Instant::now();
            for _ in 0..batch {
                black_box(run());
            }
            times[i].push(start.elapsed().as_secs_f64() / batch as f64);
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect()
}

fn main() {
    let config = config();
    let codec = config.codec().clone();
    let value = codec.seal(&session(5)).expect("seals");
    let headers = request(&config, &value);
    // Each contender does what it is named for.
    assert_eq!(read(&config, &headers), 5);
    assert_eq!(change(&config, &headers), 1);

    let mut c = Criterion::default()
        .sample_size(40)
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = c.benchmark_group("web");
    group.bench_function("open", |b| b.iter(|| open(&codec, black_box(&value))));
    group.bench_function("load+write/read", |b| {
        b.iter(|| read(&config, black_box(&headers)))
    });
    group.bench_function("open+reseal", |b| {
        b.iter(|| open_reseal(&codec, black_box(&value)))
    });
    group.bench_function("load+write/change", |b| {
        b.iter(|| change(&config, black_box(&headers)))
    });
    group.finish();
    c.final_summary();

    let full = std::env::args().any(|arg| arg == "--bench");
    let (rounds, batch) = if full { (400, 200) } else { (4, 10) };
    let times = interleaved(
        &mut [
            ("open", &mut || open(&codec, black_box(&value))),
            ("read", &mut || read(&config, black_box(&headers))),
            ("open+reseal", &mut || {
                open_reseal(&codec, black_box(&value))
            }),
            ("change", &mut || change(&config, black_box(&headers))),
        ],
        rounds,
        batch,
    );
    let us = |t: f64| t * 1e6;
    println!(
        "\nweb layer, typical session, {rounds} interleaved rounds of {batch} calls (medians):"
    );
    println!(
        "  read:   Codec::open {:.2} µs, load + write {:.2} µs: the web layer adds {:.2} µs ({:.2}x the codec)",
        us(times[0]),
        us(times[1]),
        us(times[1] - times[0]),
        times[1] / times[0]
    );
    println!(
        "  change: open + reseal {:.2} µs, load + write {:.2} µs: the web layer adds {:.2} µs ({:.2}x the codec)",
        us(times[2]),
        us(times[3]),
        us(times[3] - times[2]),
        times[3] / times[2]
    );
}
