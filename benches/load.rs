//! Load benchmark of the example app (`examples/app.rs`, release build) from
//! a second process over loopback: requests per second, latency and memory
//! with and without the session, and the same correctness checks as
//! `tests/load.rs`.
//!
//! Run with `cargo bench --bench load` (about a minute, more with `wrk`).
//! It builds the app with `cargo build --release --example app`, starts it
//! on a free port, and drives it from this process with [`USERS`] virtual
//! users, each on its own keep-alive connection with its own session cookie,
//! through a minimal HTTP/1.1 client written here on tokio's `TcpStream`
//! (lighter than a full client, so that more of the machine is left to the
//! app). Three measured phases of [`REQUESTS`] requests each:
//!
//! - (a) `GET /health`: answered before the session is loaded (the app
//!   without the session);
//! - (b) `GET /`: the visit counter; every response re-seals the cookie
//!   (open + seal per request);
//! - (c) `GET /cart`: reads the session without changing it (open only, no
//!   `Set-Cookie`).
//!
//! For each it prints requests/s, p50/p99/max latency and errors, and the
//! app's resident set (`VmRSS`) at start, after the warm-up and after each
//! phase. It checks every response (status, body, `Set-Cookie` or its
//! absence), each user's final visit count and cart (opened here with the
//! app's secret) and the app's log (exactly one expected line per request,
//! nothing else), and exits non-zero if anything is off.
//!
//! If `wrk` is on the `PATH` (Debian: `apt-get install wrk`), it then runs
//! `wrk` for [`WRK_SECONDS`] against `/health`, `/cart` and `/` with a fixed
//! cookie, as a cross-check of the requests/s from an independent load
//! generator; without `wrk` it says so and skips only that part.
//!
//! The load generator and the app share the machine's cores: on a 2-core
//! machine each number is what the app does with what the generator leaves.
//!
//! Then the app's own CPU time per request ("server CPU"), the load
//! generator's excluded: a second instance of the app runs with
//! `SESSION_BENCH_BYPASS=1` (every route on a fixed session value in
//! memory, no cookie read or written), and both get the same requests, with
//! the same cookie, on `/health`, `/cart` and `/`, in interleaved rounds.
//! Each runs on one tokio worker (`TOKIO_WORKER_THREADS=1`), so that it keeps
//! to one core and the load generator to the other. The CPU time its threads
//! ran over each batch (the scheduler's `se.sum_exec_runtime` in
//! `/proc/<pid>/task/*/sched`, nanoseconds), divided by its requests, gives
//! the CPU per request with and without the session on the same route; their difference is what the session costs
//! the server, printed next to what the codec itself takes for that route
//! (open; open + re-seal), measured in this process.
//!
//! Run as a test (`cargo test --benches`, no `--bench` argument), it makes a
//! few thousand requests per phase with the same checks, and skips `wrk`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use std::sync::Arc;

use tokio::net::TcpStream;

#[path = "../tests/support/app.rs"]
mod app;
use app::{App, AppSession, Stderr};

/// The app's only secret here.
const SECRET: &str = "load bench secret of at least 32 bytes (no commas)";

/// Concurrent virtual users, each with its own connection and cookie.
const USERS: usize = 64;

/// Requests per measured phase (a multiple of [`USERS`]).
const REQUESTS: usize = 200_000;

/// Requests per measured phase when run as a test.
const QUICK_REQUESTS: usize = 3_200;

/// The measured phases run in this many interleaved rounds (it divides
/// `REQUESTS / USERS` and `QUICK_REQUESTS / USERS`).
const ROUNDS: usize = 5;

/// Warm-up requests per user and route before the memory reading.
const WARMUP_PER_USER: usize = 200;

/// The largest growth of the app's resident set allowed from the end of the
/// first measured round to the end of the last, in KiB. Measured (release,
/// on a 2-core machine busy with other builds, each user keeping its
/// connection): +60 KiB from the end of the warm-up to the end, +32 KiB
/// after the first round, over 480 000 requests. A leak of 3 bytes per
/// request would exceed this. (With a new connection per user for every
/// phase the RSS rose by up to 0.7 MiB over the same requests before
/// levelling off near 6 MiB: allocator growth with connection churn, the
/// same with `/health` alone, not a leak.)
const RSS_GROWTH_LIMIT_KB: u64 = 1024;

/// How long each `wrk` run lasts.
const WRK_SECONDS: u32 = 10;

/// How long the app may take to start, and one request to complete.
const PATIENCE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// The app process

/// The running app, killed when dropped. Its stderr (one line per request)
/// goes to a file, which costs the app less than a pipe this process would
/// have to drain during the measurement.
struct Server {
    app: App,
    /// `127.0.0.1:<port>`
    addr: String,
    /// The app's stderr.
    log_path: PathBuf,
}

impl Server {
    /// Starts `binary` on a free port with `SECRET` and cookies without
    /// `Secure` (the client speaks plain http); with `bypass`, the app runs
    /// every route on a fixed session value (`SESSION_BENCH_BYPASS=1`).
    fn start(binary: &Path, bypass: bool) -> Result<Self, String> {
        Self::start_with(binary, bypass, &[])
    }

    /// [`Server::start`] with more environment variables.
    fn start_with(binary: &Path, bypass: bool, extra: &[(&str, &str)]) -> Result<Self, String> {
        let log_path = std::env::temp_dir().join(format!(
            "sealed-session-load-bench-{}{}.log",
            std::process::id(),
            if bypass { "-bypass" } else { "" }
        ));
        let log =
            std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut env = vec![
            ("SESSION_SECRETS", SECRET),
            ("SESSION_ALLOW_PLAIN_HTTP", "1"),
        ];
        if bypass {
            env.push(("SESSION_BENCH_BYPASS", "1"));
        }
        env.extend_from_slice(extra);
        let app = App::start(binary, &env, Stderr::File(log), PATIENCE).map_err(|e| {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let _ = std::fs::remove_file(&log_path);
            format!("{e}; its log:\n{log}")
        })?;
        Ok(Self {
            addr: app.addr(),
            app,
            log_path,
        })
    }

    /// The app's resident set size in KiB.
    fn rss_kb(&self) -> Result<u64, String> {
        self.app.rss_kb()
    }

    /// The log so far: each distinct line with its count. The app writes a
    /// request's line before answering it, so every answered request is
    /// in the file.
    fn log(&self) -> Result<BTreeMap<String, u64>, String> {
        let text = std::fs::read_to_string(&self.log_path)
            .map_err(|e| format!("{}: {e}", self.log_path.display()))?;
        let mut counts = BTreeMap::new();
        for line in text.lines() {
            *counts.entry(line.to_owned()).or_insert(0) += 1;
        }
        Ok(counts)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.app.stop();
        let _ = std::fs::remove_file(&self.log_path);
    }
}

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 client: one request at a time on a keep-alive
// connection, responses with `Content-Length` (which is what the app sends).

/// One keep-alive connection.
struct Connection {
    stream: TcpStream,
    /// Bytes read and not yet consumed.
    buffer: Vec<u8>,
}

/// What the checks need of a response.
struct Response {
    status: u16,
    /// Every `Set-Cookie` value.
    set_cookies: Vec<String>,
    body: String,
}

impl Connection {
    async fn open(addr: &str) -> Result<Self, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("nodelay: {e}"))?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
        })
    }

    async fn write_all(&self, mut bytes: &[u8]) -> Result<(), String> {
        while !bytes.is_empty() {
            self.stream
                .writable()
                .await
                .map_err(|e| format!("write: {e}"))?;
            match self.stream.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        Ok(())
    }

    /// Reads at least one more byte into the buffer.
    async fn read_more(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 8 * 1024];
        loop {
            self.stream
                .readable()
                .await
                .map_err(|e| format!("read: {e}"))?;
            match self.stream.try_read(&mut chunk) {
                Ok(0) => return Err("the app closed the connection".to_owned()),
                Ok(n) => {
                    self.buffer.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    /// Sends one request and reads its whole response.
    async fn request(&mut self, request: &[u8]) -> Result<Response, String> {
        if !self.buffer.is_empty() {
            return Err("bytes left over from the previous response".to_owned());
        }
        self.write_all(request).await?;
        let head_len = loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            self.read_more().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_len])
            .map_err(|_| "response head is not UTF-8".to_owned())?;
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.strip_prefix("HTTP/1.1 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| format!("bad status line in {head:?}"))?;
        let mut content_length = None;
        let mut set_cookies = Vec::new();
        for line in lines.filter(|line| !line.is_empty()) {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("set-cookie") {
                set_cookies.push(value.to_owned());
            }
        }
        let content_length =
            content_length.ok_or_else(|| format!("no Content-Length in {head:?}"))?;
        let total = head_len + content_length;
        while self.buffer.len() < total {
            self.read_more().await?;
        }
        if self.buffer.len() > total {
            return Err("more bytes than the response's Content-Length".to_owned());
        }
        let body = String::from_utf8(self.buffer[head_len..].to_vec())
            .map_err(|_| "body is not UTF-8".to_owned())?;
        self.buffer.clear();
        Ok(Response {
            status,
            set_cookies,
            body,
        })
    }
}

// ---------------------------------------------------------------------------
// The virtual users

/// The routes the users request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Route {
    /// `GET /health`, no session.
    Health,
    /// `GET /`, counts a visit (open + seal).
    Counter,
    /// `GET /cart`, reads the session (open only).
    Cart,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Self::Health => "health",
            Self::Counter => "counter",
            Self::Cart => "cart",
        }
    }
}

/// One virtual user.
struct User {
    index: usize,
    addr: String,
    /// Its keep-alive connection, opened at the set-up (and again after an
    /// error). The app closes connections idle for 10 s; the phases follow
    /// each other closely enough that none is.
    conn: Option<Connection>,
    /// The `session=<value>` pair to send back.
    cookie: Option<String>,
    /// The name it logged in with, if it did.
    name: Option<String>,
    /// The SKU in its cart, once added.
    sku: Option<String>,
    visits: u64,
    requests: u64,
    error_count: u64,
    /// Errors per [`Route`] in the measured phases.
    route_errors: [u64; 3],
    /// The first few errors, for the report.
    errors: Vec<String>,
    /// Latencies of the current phase, in microseconds.
    latencies: Vec<u32>,
}

impl User {
    fn new(index: usize, addr: &str) -> Self {
        Self {
            index,
            addr: addr.to_owned(),
            conn: None,
            cookie: None,
            name: None,
            sku: None,
            visits: 0,
            requests: 0,
            error_count: 0,
            route_errors: [0; 3],
            errors: Vec::new(),
            latencies: Vec::new(),
        }
    }

    fn error(&mut self, what: String) {
        self.error_count += 1;
        if self.errors.len() < 5 {
            self.errors.push(format!("user {}: {what}", self.index));
        }
    }

    /// The request bytes for `method path` with this user's cookie.
    fn request_bytes(&self, method: &str, path: &str, form: Option<&str>) -> Vec<u8> {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if let Some(cookie) = &self.cookie {
            request.push_str("Cookie: ");
            request.push_str(cookie);
            request.push_str("\r\n");
        }
        if let Some(form) = form {
            request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            request.push_str(&format!("Content-Length: {}\r\n\r\n{form}", form.len()));
        } else {
            request.push_str("\r\n");
        }
        request.into_bytes()
    }

    /// Sends a request, timing it; `None` (and an error recorded) if it
    /// failed on the way.
    async fn send(
        &mut self,
        conn: &mut Connection,
        request: &[u8],
        what: &str,
    ) -> Option<Response> {
        self.requests += 1;
        let start = Instant::now();
        let response = tokio::time::timeout(PATIENCE, conn.request(request)).await;
        let micros = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
        self.latencies.push(micros);
        match response {
            Ok(Ok(response)) => Some(response),
            Ok(Err(error)) => {
                self.error(format!("{what}: {error}"));
                None
            }
            Err(_) => {
                self.error(format!("{what}: no response within {PATIENCE:?}"));
                None
            }
        }
    }

    /// Takes the session cookie from a response that must set one.
    fn take_cookie(&mut self, response: &Response, what: &str) {
        match response.set_cookies.as_slice() {
            [one] if one.starts_with("session=") && !one.contains("Max-Age=0") => {
                let pair = one.split(';').next().unwrap_or(one);
                self.cookie = Some(pair.to_owned());
            }
            other => self.error(format!(
                "{what}: expected one session cookie, got {other:?}"
            )),
        }
    }

    /// `POST /login`, then `POST /cart/add`: both 303 with a new cookie.
    async fn login_and_add(&mut self, conn: &mut Connection, login: bool) {
        if login {
            let name = format!("user-{}", self.index);
            let request = self.request_bytes("POST", "/login", Some(&format!("user={name}")));
            if let Some(response) = self.send(conn, &request, "login").await {
                if response.status != 303 {
                    self.error(format!("login: {} {:?}", response.status, response.body));
                }
                self.take_cookie(&response, "login");
            }
            self.name = Some(name);
        }
        let sku = format!("SKU-{}", self.index);
        let request = self.request_bytes("POST", "/cart/add", Some(&format!("sku={sku}")));
        if let Some(response) = self.send(conn, &request, "add to cart").await {
            if response.status != 303 {
                self.error(format!(
                    "add to cart: {} {:?}",
                    response.status, response.body
                ));
            }
            self.take_cookie(&response, "add to cart");
        }
        self.sku = Some(sku);
    }

    /// One request to `route`, checked.
    async fn hit(&mut self, conn: &mut Connection, route: Route) {
        let before = self.error_count;
        self.hit_checked(conn, route).await;
        self.route_errors[route as usize] += self.error_count - before;
    }

    async fn hit_checked(&mut self, conn: &mut Connection, route: Route) {
        let request = match route {
            Route::Health => self.request_bytes("GET", "/health", None),
            Route::Counter => self.request_bytes("GET", "/", None),
            Route::Cart => self.request_bytes("GET", "/cart", None),
        };
        let Some(response) = self.send(conn, &request, route.name()).await else {
            return;
        };
        if response.status != 200 {
            self.error(format!("{}: status {}", route.name(), response.status));
            return;
        }
        match route {
            Route::Health => {
                if response.body != "ok\n" || !response.set_cookies.is_empty() {
                    self.error(format!(
                        "health: {:?} {:?}",
                        response.set_cookies, response.body
                    ));
                }
            }
            Route::Counter => {
                self.visits += 1;
                let visits = format!("<p id=\"visits\">Visits: {}</p>", self.visits);
                if !response.body.contains(&visits) {
                    self.error(format!("counter: expected {visits} in {:?}", response.body));
                }
                self.take_cookie(&response, "counter");
            }
            Route::Cart => {
                let sku = self.sku.as_deref().unwrap_or("?");
                let item = format!("<li class=\"item\">{sku}</li>");
                if !response.body.contains(&item)
                    || !response.body.contains("<p id=\"count\">1 items</p>")
                    || !response.set_cookies.is_empty()
                {
                    self.error(format!(
                        "cart: {:?} {:?}",
                        response.set_cookies, response.body
                    ));
                }
            }
        }
    }
}

/// The outcome of one phase.
struct Phase {
    requests: u64,
    elapsed: Duration,
    /// All latencies, sorted, in microseconds.
    latencies: Vec<u32>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> u32 {
        if self.latencies.is_empty() {
            return 0;
        }
        let rank = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[rank.min(self.latencies.len() - 1)]
    }
}

/// Every user sends `per_user` requests to `route` on its keep-alive
/// connection, all users at once.
async fn run_phase(users: Vec<User>, route: Route, per_user: usize) -> (Vec<User>, Phase) {
    let before: u64 = users.iter().map(|u| u.requests).sum();
    // Connect whoever has no connection first, so that the timing is of
    // requests only.
    let mut connected = Vec::with_capacity(users.len());
    for mut user in users {
        if user.conn.is_none() {
            match Connection::open(&user.addr).await {
                Ok(conn) => user.conn = Some(conn),
                Err(error) => user.error(error),
            }
        }
        connected.push(user);
    }
    let start = Instant::now();
    let tasks: Vec<_> = connected
        .into_iter()
        .map(|mut user| {
            tokio::spawn(async move {
                user.latencies = Vec::with_capacity(per_user);
                if let Some(mut conn) = user.conn.take() {
                    let errors = user.error_count;
                    for _ in 0..per_user {
                        user.hit(&mut conn, route).await;
                    }
                    // After an error the connection may be out of step:
                    // the next phase starts on a new one.
                    if user.error_count == errors {
                        user.conn = Some(conn);
                    }
                }
                user
            })
        })
        .collect();
    let mut users = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(user) => users.push(user),
            Err(error) => panic!("a user task failed: {error}"),
        }
    }
    let elapsed = start.elapsed();
    let mut latencies: Vec<u32> = users
        .iter_mut()
        .flat_map(|u| std::mem::take(&mut u.latencies))
        .collect();
    latencies.sort_unstable();
    let requests = users.iter().map(|u| u.requests).sum::<u64>() - before;
    (
        users,
        Phase {
            requests,
            elapsed,
            latencies,
        },
    )
}

/// The 1, 5 and 15 minute load averages, to show what else ran.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Runs `wrk` against `path` (with `cookie`, if any) and returns its
/// summary, or why it could not.
fn wrk(addr: &str, path: &str, cookie: Option<&str>) -> Result<String, String> {
    let mut command = Command::new("wrk");
    command.args([
        "-t1",
        &format!("-c{USERS}"),
        &format!("-d{WRK_SECONDS}s"),
        "--latency",
    ]);
    if let Some(cookie) = cookie {
        command.args(["-H", &format!("Cookie: {cookie}")]);
    }
    let output = command
        .arg(format!("http://{addr}{path}"))
        .output()
        .map_err(|e| format!("run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!("wrk failed ({}): {text}", output.status));
    }
    let pick = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|line| line.starts_with(prefix))
            .map(str::to_owned)
    };
    let percentile = |p: &str| {
        pick(&format!("{p}%")).and_then(|line| {
            let value = line.split_whitespace().nth(1)?;
            Some(format!("p{p} {value}"))
        })
    };
    let mut summary = vec![
        pick("Requests/sec:").unwrap_or_default(),
        percentile("50").unwrap_or_default(),
        percentile("99").unwrap_or_default(),
    ];
    // wrk prints these only when something went wrong.
    for bad in ["Non-2xx or 3xx responses:", "Socket errors:"] {
        if let Some(line) = pick(bad) {
            return Err(format!("wrk reported problems: {line}\n{text}"));
        }
    }
    summary.retain(|s| !s.is_empty());
    Ok(summary.join(", "))
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`)
    // this is a quick check of the same code.
    let full = std::env::args().any(|arg| arg == "--bench");
    match run(full) {
        Ok(failures) if failures.is_empty() => ExitCode::SUCCESS,
        Ok(failures) => {
            eprintln!("\nFAILED:");
            for failure in failures {
                eprintln!("  - {failure}");
            }
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the benchmark; returns the failed checks.
fn run(full: bool) -> Result<Vec<String>, String> {
    let requests = if full { REQUESTS } else { QUICK_REQUESTS };
    // Whole rounds of whole requests per user.
    let per_user = requests / USERS / ROUNDS * ROUNDS;
    let app = app::build(&[])?;
    let server = Server::start(&app, false)?;
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "load: the example app ({}) on {} with {USERS} users, {} requests per phase",
        app.display(),
        server.addr,
        per_user * USERS
    );
    println!(
        "note: the load generator (this process, 1 thread) and the app (tokio, one worker per \
         core) share this machine's {cores} cores; the app logs one line per request to a file; \
         load average before: {}",
        load_average()
    );

    // One generator thread: it leaves the other core(s) to the app.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let (mut failures, cookie) = runtime.block_on(drive(&server, full, per_user))?;
    drop(server);
    match cookie {
        Some(cookie) => failures.extend(runtime.block_on(server_cpu(full, &app, &cookie))?),
        None => failures.push("no user's cookie to measure the server CPU with".to_owned()),
    }
    Ok(failures)
}

/// The phases, the checks and the report; returns the failed checks and the
/// last cookie of a logged-in user (for the server CPU measurement).
async fn drive(
    server: &Server,
    full: bool,
    per_user: usize,
) -> Result<(Vec<String>, Option<String>), String> {
    let mut failures = Vec::new();
    let rss_start = server.rss_kb()?;

    // Set-up: half the users log in, everyone puts one item in the cart.
    let mut users: Vec<User> = (0..USERS).map(|i| User::new(i, &server.addr)).collect();
    for user in &mut users {
        match Connection::open(&server.addr).await {
            Ok(mut conn) => {
                let login = user.index % 2 == 1;
                user.login_and_add(&mut conn, login).await;
                user.conn = Some(conn);
            }
            Err(error) => user.error(error),
        }
    }
    let setup_requests: u64 = users.iter().map(|u| u.requests).sum();

    // Warm-up: every route, with the same users.
    let warmup = if full { WARMUP_PER_USER } else { 20 };
    for route in [Route::Health, Route::Counter, Route::Cart] {
        (users, _) = run_phase(users, route, warmup).await;
    }
    let rss_warm = server.rss_kb()?;
    println!("RSS of the app: start {rss_start} KiB, after warm-up {rss_warm} KiB");
    // The measured phases, interleaved: each round runs every route in
    // turn, so that the speed drift of a shared machine hits all alike.
    let routes = [
        (Route::Health, "(a) GET /health: no session"),
        (Route::Counter, "(b) GET /: counter, open + re-seal"),
        (Route::Cart, "(c) GET /cart: read only, open"),
    ];
    let per_round = per_user / ROUNDS;
    let mut totals: Vec<Phase> = routes
        .iter()
        .map(|_| Phase {
            requests: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
        })
        .collect();
    let mut round_rates: Vec<[f64; 3]> = Vec::new();
    let mut rss_rounds = Vec::new();
    for _ in 0..ROUNDS {
        let mut rates = [0.0; 3];
        for (i, (route, _)) in routes.iter().enumerate() {
            let phase;
            (users, phase) = run_phase(users, *route, per_round).await;
            rates[i] = phase.rate();
            totals[i].requests += phase.requests;
            totals[i].elapsed += phase.elapsed;
            totals[i].latencies.extend(phase.latencies);
        }
        round_rates.push(rates);
        rss_rounds.push(server.rss_kb()?);
    }
    println!(
        "{:<38} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7}",
        "phase", "requests", "req/s", "p50 µs", "p99 µs", "max µs", "errors"
    );
    for ((route, label), total) in routes.iter().zip(&mut totals) {
        total.latencies.sort_unstable();
        let errors: u64 = users.iter().map(|u| u.route_errors[*route as usize]).sum();
        println!(
            "{label:<38} {:>9} {:>9.0} {:>8} {:>8} {:>8} {errors:>7}",
            total.requests,
            total.rate(),
            total.percentile(0.50),
            total.percentile(0.99),
            total.latencies.last().copied().unwrap_or(0),
        );
    }
    let median_ratio = |i: usize| {
        let mut ratios: Vec<f64> = round_rates.iter().map(|r| r[i] / r[0]).collect();
        ratios.sort_by(f64::total_cmp);
        ratios[ratios.len() / 2]
    };
    println!(
        "with the session, relative to /health (median of {ROUNDS} rounds): the counter runs at \
         {:.0}%, the cart at {:.0}% of its requests/s",
        100.0 * median_ratio(1),
        100.0 * median_ratio(2)
    );
    let rss_end = server.rss_kb()?;
    let measured: u64 = totals.iter().map(|t| t.requests).sum();
    println!(
        "RSS of the app: after warm-up {rss_warm} KiB, after each round {rss_rounds:?} KiB, \
         end {rss_end} KiB: {:+} KiB over {measured} requests",
        rss_end as i64 - rss_warm as i64
    );
    println!("load average at the end: {}", load_average());
    // Flat: from the end of the first round (by then the allocator has
    // settled) to the end of the last.
    let after_first = rss_rounds.first().copied().unwrap_or(rss_warm);
    let growth = rss_end.saturating_sub(after_first);
    let later = measured / ROUNDS as u64 * (ROUNDS as u64 - 1);
    println!(
        "RSS growth after the first round: {growth} KiB over {later} requests (limit \
         {RSS_GROWTH_LIMIT_KB} KiB)"
    );
    if growth >= RSS_GROWTH_LIMIT_KB {
        failures.push(format!(
            "the app's RSS grew by {growth} KiB over the last {later} requests"
        ));
    }

    // Zero errors.
    let errors: u64 = users.iter().map(|u| u.error_count).sum();
    if errors > 0 {
        let samples: Vec<&String> = users.iter().flat_map(|u| &u.errors).take(10).collect();
        failures.push(format!("{errors} errors, for example {samples:#?}"));
    }

    // Zero lost increments: every user's last cookie holds exactly its
    // visits, its name and its cart.
    let codec = app::codec(&[SECRET]);
    let expected_visits = (warmup + per_user) as u64;
    for user in &users {
        let opened = user
            .cookie
            .as_deref()
            .and_then(|c| c.strip_prefix("session="))
            .map(|value| codec.open::<AppSession>(value));
        match opened {
            Some(Ok(opened)) => {
                let session = opened.value();
                if user.visits != expected_visits
                    || session.visits != expected_visits
                    || session.user != user.name
                    || session.cart != user.sku.iter().cloned().collect::<Vec<_>>()
                {
                    failures.push(format!(
                        "user {}: {} visits made, {expected_visits} expected, session {session:?}",
                        user.index, user.visits
                    ));
                }
            }
            Some(Err(error)) => failures.push(format!("user {}: cookie: {error}", user.index)),
            None => failures.push(format!("user {}: no session cookie", user.index)),
        }
    }

    // The app's log: exactly one expected line per request, nothing else.
    let users_n = USERS as u64;
    let logged_in = users.iter().filter(|u| u.name.is_some()).count() as u64;
    let per_route = (warmup + per_user) as u64 * users_n;
    let expected: BTreeMap<String, u64> = [
        (
            "note: SESSION_ALLOW_PLAIN_HTTP=1, the session cookie is sent without Secure",
            1,
        ),
        ("POST /login -> 303 (session cookie: Set)", logged_in),
        ("POST /cart/add -> 303 (session cookie: Set)", users_n),
        ("GET /health -> 200 (no session)", per_route),
        ("GET / -> 200 (session cookie: Set)", per_route),
        ("GET /cart -> 200 (session cookie: Nothing)", per_route),
    ]
    .into_iter()
    .map(|(line, n)| (line.to_owned(), n))
    .collect();
    let total_requests: u64 = users.iter().map(|u| u.requests).sum();
    if expected.values().sum::<u64>() != total_requests + 1 {
        failures.push(format!(
            "the expected log does not add up: {total_requests} requests made ({setup_requests} \
             in the set-up)"
        ));
    }
    let log = server.log()?;
    if log != expected {
        failures.push(format!(
            "the app's log differs from the requests made:\nexpected {expected:#?}\ngot {log:#?}"
        ));
    }

    let cookie = users
        .iter()
        .find(|u| u.name.is_some())
        .and_then(|u| u.cookie.clone());

    // Cross-check with wrk, after the checks above (its requests are not
    // counted in them).
    if full {
        // Close the users' connections, which would otherwise sit idle
        // until the app times them out (and logs it).
        for user in &mut users {
            user.conn = None;
        }
        match Command::new("wrk").arg("--version").output() {
            Err(_) => {
                println!("wrk: not installed (Debian: apt-get install wrk), cross-check skipped")
            }
            Ok(_) => {
                println!(
                    "wrk -t1 -c{USERS} -d{WRK_SECONDS}s (a fixed cookie: wrk ignores Set-Cookie), \
                     same app:"
                );
                for (path, cookie, label) in [
                    ("/health", None, "(a) GET /health"),
                    (
                        "/",
                        cookie.as_deref(),
                        "(b) GET / (re-seals every response)",
                    ),
                    ("/cart", cookie.as_deref(), "(c) GET /cart"),
                ] {
                    match wrk(&server.addr, path, cookie) {
                        Ok(summary) => println!("  {label:<40} {summary}"),
                        Err(error) => failures.push(format!("wrk {path}: {error}")),
                    }
                }
                let log = server.log()?;
                // When its time is up, wrk closes its connections with
                // requests in flight; the app logs each of those.
                let cut_off = |line: &str| {
                    line.starts_with("connection from 127.0.0.1:")
                        && line.ends_with(": connection closed before message completed")
                };
                let cut: usize = log
                    .iter()
                    .filter(|(l, _)| cut_off(l))
                    .map(|(_, n)| *n as usize)
                    .sum();
                println!("  connections wrk closed with a request in flight: {cut}");
                let odd: Vec<&String> = log
                    .keys()
                    .filter(|line| !expected.contains_key(*line) && !cut_off(line))
                    .collect();
                if !odd.is_empty() {
                    failures.push(format!("unexpected log lines under wrk: {odd:#?}"));
                }
                println!("RSS of the app after wrk: {} KiB", server.rss_kb()?);
            }
        }
    }
    Ok((failures, cookie))
}

// ---------------------------------------------------------------------------
// The app's own CPU time per request, with and without the session

/// Requests per route and app in each round of the CPU measurement.
const CPU_REQUESTS: usize = 60_000;

/// The same when run as a test.
const QUICK_CPU_REQUESTS: usize = 1_600;

/// Rounds of the CPU measurement.
const CPU_ROUNDS: usize = 9;

/// Keep-alive connections of the CPU measurement, each sending its share
/// of a batch.
const CPU_CONNECTIONS: usize = 16;

/// Sends `request` `per_connection` times on each of `connections`
/// keep-alive connections, all at once; every response must be a 200 with
/// a `Set-Cookie` exactly when `sets_cookie`. Returns the requests answered.
async fn hammer(
    addr: &str,
    request: Arc<Vec<u8>>,
    connections: usize,
    per_connection: usize,
    sets_cookie: bool,
) -> Result<u64, String> {
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let addr = addr.to_owned();
            let request = Arc::clone(&request);
            tokio::spawn(async move {
                let mut conn = Connection::open(&addr).await?;
                for _ in 0..per_connection {
                    let response = conn.request(&request).await?;
                    if response.status != 200 || response.set_cookies.is_empty() == sets_cookie {
                        return Err(format!(
                            "status {}, Set-Cookie {:?}",
                            response.status, response.set_cookies
                        ));
                    }
                }
                Ok::<u64, String>(per_connection as u64)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.map_err(|e| format!("a task failed: {e}"))??;
    }
    Ok(total)
}

/// The median of `values`.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// What the codec itself takes, in µs per call, for `/cart` (open) and `/`
/// (open + re-seal) with this cookie: the median of `rounds` batches.
fn codec_cost(cookie: &str, rounds: usize, per_round: usize) -> Result<(f64, f64), String> {
    let codec = app::codec(&[SECRET]);
    let value = cookie
        .strip_prefix("session=")
        .ok_or_else(|| format!("not a session cookie: {cookie}"))?;
    let (mut open, mut reseal) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..per_round {
            let opened = codec.open::<AppSession>(std::hint::black_box(value));
            std::hint::black_box(opened.map_err(|e| e.to_string())?);
        }
        open.push(start.elapsed().as_secs_f64() * 1e6 / per_round as f64);
        let start = Instant::now();
        for _ in 0..per_round {
            let opened = codec
                .open::<AppSession>(std::hint::black_box(value))
                .map_err(|e| e.to_string())?;
            std::hint::black_box(
                codec
                    .seal_with(opened.value(), &opened.seal_options())
                    .map_err(|e| e.to_string())?,
            );
        }
        reseal.push(start.elapsed().as_secs_f64() * 1e6 / per_round as f64);
    }
    Ok((median(&mut open), median(&mut reseal)))
}

/// The server CPU measurement (see the module documentation); returns the
/// failed checks.
async fn server_cpu(full: bool, binary: &Path, cookie: &str) -> Result<Vec<String>, String> {
    let mut failures = Vec::new();
    // One worker thread each, so that each app keeps to one core and the
    // load generator to the other: less scheduling noise in the readings.
    let one = [("TOKIO_WORKER_THREADS", "1")];
    let with = Server::start_with(binary, false, &one)?;
    let without = Server::start_with(binary, true, &one)?;
    let per_round = if full {
        CPU_REQUESTS
    } else {
        QUICK_CPU_REQUESTS
    };
    let per_connection = per_round / CPU_CONNECTIONS;
    let requests = (per_connection * CPU_CONNECTIONS) as f64;
    let request = |path: &str| {
        Arc::new(
            format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\r\n",
                with.addr
            )
            .into_bytes(),
        )
    };
    // (path, label, whether the app with the session sets a cookie)
    let routes = [
        ("/health", "GET /health (no session either way)", false),
        ("/cart", "GET /cart (open, read)", false),
        ("/", "GET / (open, count, re-seal, Set-Cookie)", true),
    ];
    // µs of app CPU per request: [route][with, without] per round.
    let mut samples = vec![[Vec::new(), Vec::new()]; routes.len()];
    // A first round to warm up, not counted.
    for round in 0..=CPU_ROUNDS {
        for (i, (path, _, sets)) in routes.iter().enumerate() {
            for (j, server) in [&with, &without].into_iter().enumerate() {
                let before = server.app.cpu_ns()?;
                let answered = hammer(
                    &server.addr,
                    request(path),
                    CPU_CONNECTIONS,
                    per_connection,
                    *sets && j == 0,
                )
                .await
                .map_err(|e| format!("{path} ({}): {e}", ["with", "without"][j]))?;
                let after = server.app.cpu_ns()?;
                let (Some(before), Some(after)) = (before, after) else {
                    return Err(
                        "no se.sum_exec_runtime in /proc/<pid>/task/*/sched (a kernel without \
                         scheduler debugging): the server CPU cannot be measured"
                            .to_owned(),
                    );
                };
                if round > 0 {
                    samples[i][j].push((after - before) as f64 / 1e3 / answered as f64);
                }
            }
        }
    }
    let (open, reseal) = codec_cost(cookie, CPU_ROUNDS, if full { 20_000 } else { 500 })?;
    println!(
        "\nserver CPU per request (the app's own CPU time, se.sum_exec_runtime of its \
         threads; one tokio worker each; {} requests per route and app in each of \
         {CPU_ROUNDS} interleaved rounds, {CPU_CONNECTIONS} keep-alive connections, one \
         cookie; medians):",
        per_connection * CPU_CONNECTIONS
    );
    println!(
        "{:<44} {:>12} {:>12} {:>12} {:>12} {:>8}",
        "route", "with µs", "without µs", "session µs", "codec µs", "ratio"
    );
    for (i, (path, label, _)) in routes.iter().enumerate() {
        let with_us = median(&mut samples[i][0]);
        let without_us = median(&mut samples[i][1]);
        let added = with_us - without_us;
        let codec = match *path {
            "/cart" => Some(open),
            "/" => Some(reseal),
            _ => None,
        };
        let (codec_text, ratio_text) = match codec {
            Some(codec) => (format!("{codec:.2}"), format!("{:.2}", added / codec)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "{label:<44} {with_us:>12.2} {without_us:>12.2} {added:>12.2} {codec_text:>12}              {ratio_text:>8}"
        );
    }
    println!(
        "(session µs = with - without; codec µs = Codec::open, or open + reseal, of the same \
         cookie in this process; ratio = session / codec; {requests} requests per batch)"
    );
    for server in [&with, &without] {
        let unexpected: Vec<String> = server
            .log()?
            .into_keys()
            .filter(|line| {
                !line.starts_with("GET ")
                    && !line.starts_with("note: ")
                    && !line.ends_with(": connection closed before message completed")
            })
            .collect();
        if !unexpected.is_empty() {
            failures.push(format!("unexpected log lines: {unexpected:#?}"));
        }
    }
    Ok(failures)
}
