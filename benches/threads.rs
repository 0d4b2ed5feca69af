//! Thread scaling: seal + open round trips of the typical session on one
//! thread, and on two threads sharing one [`Codec`].
//!
//! A codec is `Send + Sync` (checked at compile time below), cloning it
//! copies one reference count, and the hot path takes no lock and writes no
//! shared memory, so two threads should get twice the round trips of one on
//! a machine with two idle cores. As a control, two threads with one codec
//! each (no shared state at all) show what two threads can do here.
//!
//! Run with `cargo bench --bench threads` (about half a minute). After
//! criterion's output, the three cases run again interleaved, round after
//! round, so that drift in the speed of a shared machine hits them alike,
//! and a summary prints the throughput of each and its ratio to one thread.

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use sealed_session::{Codec, Keyring};

#[path = "../tests/support/sample.rs"]
mod sample;
use sample::{Session, session};

/// Compile-time check: a codec can be shared between threads and cloned.
const _: fn() = || {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Codec>();
};

/// A codec with default settings.
fn codec() -> Codec {
    Codec::new(Keyring::new(["the benchmark secret, at least 32 bytes long"]).expect("valid"))
}

/// `iters` seal + open round trips of `session` on each of `codecs.len()`
/// threads at once, started together; returns the wall time of the slowest
/// thread.
fn run(codecs: &[&Codec], session: &Session, iters: u64) -> Duration {
    let start = Barrier::new(codecs.len());
    thread::scope(|scope| {
        let workers: Vec<_> = codecs
            .iter()
            .map(|&codec| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    let began = Instant::now();
                    for _ in 0..iters {
                        let value = codec.seal(black_box(session)).expect("seal");
                        black_box(codec.open::<Session>(&value).expect("open"));
                    }
                    began.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker finished"))
            .max()
            .unwrap_or_default()
    })
}

/// The cases: name, how many threads, and whether they share one codec.
const CASES: [(&str, usize, bool); 3] = [
    ("1-thread", 1, true),
    ("2-threads-shared-codec", 2, true),
    ("2-threads-own-codec", 2, false),
];

/// Rounds of the interleaved measurement.
const ROUNDS: usize = 15;

/// The median of `values` (reordering them).
fn middle(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs the cases with criterion, then (unless criterion only tests or lists
/// them) the interleaved measurement and its summary.
fn main() {
    let shared = codec();
    let other = codec();
    let s = session(5);

    // A cookie sealed on one thread opens on another, through the same codec.
    let value = thread::scope(|scope| {
        scope
            .spawn(|| shared.seal(&s).expect("seal"))
            .join()
            .expect("sealing thread finished")
    });
    assert_eq!(shared.open::<Session>(&value).expect("open").value(), &s);

    let cases = CASES.map(|(case, threads, share)| {
        let codecs: Vec<&Codec> = (0..threads)
            .map(|i| if share || i == 0 { &shared } else { &other })
            .collect();
        (case, codecs)
    });
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let mut group = c.benchmark_group("threads");
    for (case, codecs) in &cases {
        group.throughput(Throughput::Elements(codecs.len() as u64));
        group.bench_function(BenchmarkId::new("round-trip", case), |b| {
            b.iter_custom(|iters| run(codecs, &s, iters));
        });
    }
    group.finish();
    c.final_summary();
    if std::env::args().any(|a| ["--test", "--list", "--profile-time"].contains(&a.as_str())) {
        return;
    }

    // The same cases again, interleaved: each round runs all three for about
    // 0.1 s each, so that drift in the machine's speed hits them alike.
    let calibration = run(&cases[0].1, &s, 1000);
    let iters = (Duration::from_millis(100).as_nanos() * 1000 / calibration.as_nanos().max(1))
        .max(1) as u64;
    let mut throughput = [(); 3].map(|()| Vec::with_capacity(ROUNDS));
    let mut scaling = [(); 3].map(|()| Vec::with_capacity(ROUNDS));
    let mut shared_over_own = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let mut this = [0.0; 3];
        for k in 0..3 {
            let i = (round + k) % 3;
            let codecs = &cases[i].1;
            let elapsed = run(codecs, &s, iters).as_secs_f64();
            this[i] = (codecs.len() as u64 * iters) as f64 / elapsed;
        }
        for i in 0..3 {
            throughput[i].push(this[i]);
            scaling[i].push(this[i] / this[0]);
        }
        shared_over_own.push(this[1] / this[2]);
    }

    println!("\n## Summary of this run\n");
    println!(
        "Seal + open round trips of the typical session per second, medians over \
         {ROUNDS} interleaved rounds.\n"
    );
    println!("| case | round trips / s | vs 1 thread |");
    println!("|---|---|---|");
    for (i, (case, _)) in cases.iter().enumerate() {
        let per_second = middle(&mut throughput[i]);
        println!(
            "| {case} | {per_second:.0} | {:.2}× |",
            middle(&mut scaling[i])
        );
    }
    // About 1 means sharing costs nothing, whatever two busy cores give
    // compared with one on this machine.
    println!(
        "\nshared codec / one codec per thread: {:.2}×",
        middle(&mut shared_over_own)
    );
}
