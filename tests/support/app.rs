//! The example app (`examples/app.rs`) as a child process, shared by
//! `tests/e2e.rs`, `tests/load.rs`, `tests/browser.rs` and `benches/load.rs`:
//! building it with cargo, starting it on a free port, reading its port,
//! its resident set, and killing it when done.
//!
//! What each caller does with the app's stderr (keeps the lines, counts
//! them, or sends them to a file) stays with the caller, through
//! [`Stderr`].
//!
//! Included with `#[path]` (it is not a test of its own). Every includer is
//! a crate of its own, so an item some of them do not use carries
//! `#[allow(dead_code)]`, with the reason next to it.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Every variable the app reads besides `PORT`. [`App::start`] removes each
/// one the caller does not set, so that the app's settings are exactly the
/// ones given, whatever the environment of the test run.
pub const SESSION_VARS: [&str; 7] = [
    "SESSION_SECRETS",
    "SESSION_COOKIE_NAME",
    "SESSION_ALLOW_PLAIN_HTTP",
    "SESSION_IDLE_TIMEOUT_SECS",
    "SESSION_MAX_CHUNKS",
    "SESSION_HEADER_BUDGET",
    "SESSION_BENCH_BYPASS",
];

/// The app's session type, field for field in the same order (postcard
/// encodes by position), to open the cookies it seals.
#[derive(Debug, Serialize, Deserialize)]
#[allow(dead_code)] // Not used by `tests/browser.rs`; `blob` (and in `tests/load.rs` `cart`) is read only by `Debug`.
pub struct AppSession {
    /// The logged-in user's name.
    pub user: Option<String>,
    /// The visit counter.
    pub visits: u64,
    /// The SKUs in the cart.
    pub cart: Vec<String>,
    /// The filler that makes a session large (chunking tests).
    pub blob: String,
}

/// The settings of the example app's codec when it runs with
/// `SESSION_ALLOW_PLAIN_HTTP=1` and no `SESSION_COOKIE_NAME` (how the tests
/// start it): cookie `session`, a 7-day lifetime, 30 days at most ("remember
/// me"), a 7-day idle timeout.
#[allow(dead_code)] // Not used by `tests/browser.rs`.
pub fn codec_builder(secrets: &[&str]) -> sealed_session::CodecBuilder {
    const DAY: Duration = Duration::from_secs(24 * 60 * 60);
    let keyring = sealed_session::Keyring::new(secrets).expect("valid secrets");
    sealed_session::Codec::builder(keyring)
        .cookie_name("session")
        .lifetime(7 * DAY)
        .max_lifetime(30 * DAY)
        .idle_timeout(7 * DAY)
}

/// A codec with the example app's settings ([`codec_builder`]): it opens the
/// cookies the app seals, as another instance of the app would.
#[allow(dead_code)] // Not used by `tests/browser.rs`.
pub fn codec(secrets: &[&str]) -> sealed_session::Codec {
    codec_builder(secrets).build().expect("the app's settings")
}

/// The features this crate (test or benchmark) was built with, to build the
/// app with the same ones: cargo then finds the library fresh instead of
/// building it again with another feature set.
#[allow(dead_code)] // `benches/load.rs` builds the app with no features.
pub fn this_build_features() -> Vec<&'static str> {
    [
        (cfg!(feature = "tracing"), "tracing"),
        (cfg!(feature = "tower"), "tower"),
        (cfg!(feature = "axum"), "axum"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

/// Runs `cargo build --example app` with the profile of the running binary
/// (found from its path, `target/<profile>/deps/<name>-<hash>`: `release`
/// under `cargo bench`) and `features`, and returns the executable cargo
/// reports.
///
/// `cargo test --test <name>` builds that test only, not the examples; a
/// binary found next to it could be stale or missing. Cargo finishes in a
/// fraction of a second when the app is up to date.
pub fn build(features: &[&str]) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("path of this binary: {e}"))?;
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or("debug");
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args([
        "build",
        "--example",
        "app",
        "--message-format=json-render-diagnostics",
        "--manifest-path",
        concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
    ]);
    match profile {
        "debug" => {}
        "release" => {
            cargo.arg("--release");
        }
        other => {
            cargo.args(["--profile", other]);
        }
    }
    if !features.is_empty() {
        cargo.args(["--features", &features.join(",")]);
    }
    let output = cargo
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("run cargo build --example app: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build --example app failed: {}",
            output.status
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == "app"
                && message["target"]["kind"][0] == "example"
        })
        .and_then(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo reported no executable for the example app".to_owned())
}

/// Where the app's stderr goes.
pub enum Stderr {
    /// To this file; nothing in this process reads it while the app runs.
    #[allow(dead_code)] // Used by `benches/load.rs` only.
    File(std::fs::File),
    /// Line by line to this function, called on a thread of its own as the
    /// lines come, so that the pipe never fills up (which would stall the
    /// app).
    #[allow(dead_code)] // Used by the tests only.
    Lines(Box<dyn FnMut(String) + Send>),
}

/// Why the app did not start.
#[derive(Debug)]
pub enum StartError {
    /// The process could not be spawned.
    Spawn(std::io::Error),
    /// It closed its stdout, or wrote nothing there within the patience
    /// given: it exited (as it does on bad settings) or hung. It has been
    /// killed, and its stderr read to the end.
    NoPort,
    /// Its first stdout line is not `listening on http://127.0.0.1:<port>`
    /// with a port other than 0.
    Unexpected(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Spawn(error) => write!(f, "cannot spawn the example app: {error}"),
            Self::NoPort => f.write_str("the app printed no `listening on` line"),
            Self::Unexpected(line) => write!(
                f,
                "the app's first line should be `listening on http://127.0.0.1:<port>`, \
                 got {line:?}"
            ),
        }
    }
}

/// The app running as a child process, killed when dropped.
pub struct App {
    child: Child,
    /// The port it listens on, on 127.0.0.1 (never 0).
    port: u16,
    /// The thread reading stderr, for [`Stderr::Lines`].
    stderr_reader: Option<JoinHandle<()>>,
}

impl App {
    /// Starts `binary` with `PORT=0`, exactly the `SESSION_*` variables in
    /// `env` (see [`SESSION_VARS`]) and its stderr sent to `stderr`, and
    /// waits up to `patience` for the `listening on` line that names its
    /// port. On failure the app is killed and, with [`Stderr::Lines`], all
    /// it wrote to stderr has been passed on.
    pub fn start(
        binary: &Path,
        env: &[(&str, &str)],
        stderr: Stderr,
        patience: Duration,
    ) -> Result<Self, StartError> {
        let mut command = Command::new(binary);
        for name in SESSION_VARS {
            command.env_remove(name);
        }
        command
            .env("PORT", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let sink = match stderr {
            Stderr::File(file) => {
                command.stderr(file);
                None
            }
            Stderr::Lines(sink) => {
                command.stderr(Stdio::piped());
                Some(sink)
            }
        };
        let mut child = command.spawn().map_err(StartError::Spawn)?;
        let stderr_reader = match (sink, child.stderr.take()) {
            (Some(mut sink), Some(stderr)) => Some(thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    sink(line);
                }
            })),
            _ => None,
        };

        // The first stdout line names the port; keep draining afterwards.
        let stdout = child.stdout.take().expect("piped stdout");
        let (first_line, port_line) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            if let Some(line) = lines.next() {
                let _ = first_line.send(line);
            }
            lines.for_each(drop);
        });
        let mut app = Self {
            child,
            port: 0,
            stderr_reader,
        };
        let line = port_line.recv_timeout(patience).map_err(|_| {
            app.stop();
            StartError::NoPort
        })?;
        app.port = line
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|port| port.parse().ok())
            .filter(|&port| port != 0)
            .ok_or_else(|| StartError::Unexpected(line.clone()))?;
        Ok(app)
    }

    /// The port it listens on.
    #[allow(dead_code)] // Used by `tests/browser.rs` only.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`
    #[allow(dead_code)] // Not used by `tests/browser.rs` and `benches/load.rs`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:<port>`
    #[allow(dead_code)] // Used by `benches/load.rs` only.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The app's resident set size in KiB, from `/proc/<pid>/status`.
    #[allow(dead_code)] // Used by the load test and benchmark only.
    pub fn rss_kb(&self) -> Result<u64, String> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path)
            .map_err(|e| format!("{path}: {e} (the memory check needs Linux's /proc)"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kb| kb.trim().parse().ok())
            .ok_or_else(|| format!("no VmRSS line in {path}:\n{status}"))
    }

    /// The CPU time the app's threads have run so far, in nanoseconds: the
    /// sum over `/proc/<pid>/task/*/sched` of `se.sum_exec_runtime` (the
    /// scheduler's own count, in milliseconds with six decimals; kernels
    /// with scheduler debugging, which Debian's have). `None` without it.
    #[allow(dead_code)] // Used by `benches/load.rs` only.
    pub fn cpu_ns(&self) -> Result<Option<u64>, String> {
        let tasks = format!("/proc/{}/task", self.child.id());
        let entries =
            std::fs::read_dir(&tasks).map_err(|e| format!("{tasks}: {e} (needs Linux's /proc)"))?;
        let mut total = 0u64;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("{tasks}: {e}"))?
                .path()
                .join("sched");
            // A thread may end between the listing and the read.
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Some(ms) = text
                .lines()
                .find_map(|line| line.strip_prefix("se.sum_exec_runtime"))
                .and_then(|rest| rest.trim().strip_prefix(':'))
                .map(str::trim)
            else {
                return Ok(None);
            };
            let (whole, fraction) = ms.split_once('.').unwrap_or((ms, "0"));
            let ns = whole.parse::<u64>().ok().zip(
                format!("{fraction:0<6}")
                    .get(..6)
                    .and_then(|f| f.parse::<u64>().ok()),
            );
            match ns {
                Some((whole, micro_ns)) => total += whole * 1_000_000 + micro_ns,
                None => return Err(format!("{}: unexpected {ms:?}", path.display())),
            }
        }
        Ok(Some(total))
    }

    /// Kills the app, waits for it, and waits until its stderr has been
    /// passed on to the end. Does nothing more the second time.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop();
    }
}
