//! End-to-end tests of the example app (`examples/app.rs`) over loopback.
//!
//! Each test starts its own app process on a free port (`PORT=0`, the port is
//! read from the app's `listening on` line) and talks to it with reqwest's
//! blocking client and its cookie jar, as a browser would: login, counter,
//! cart, logout, a tampered cookie, secret rotation across restarts, the
//! cookie size limit, "remember me", the idle timeout, the cookie
//! attributes, and a session chunked over several cookies
//! (`SESSION_MAX_CHUNKS`): round trip, growing, shrinking, the header
//! budget, and tampered, missing, extra or foreign chunks. Cookies are also opened here with a [`Codec`] on the same
//! secrets, to check what the server sealed, not only what it shows.
//!
//! The app binary is built with `cargo build --example app` on first use
//! (a no-op when it is up to date), so `cargo test --test e2e` works from a
//! fresh clone and never runs a stale binary.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::Cookie;
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, HeaderMap, LOCATION};
use reqwest::redirect::Policy;
use sealed_session::{Codec, Keyring, Unsealed};

#[path = "support/app.rs"]
mod app;
#[path = "support/common.rs"]
mod common;
#[path = "support/reference.rs"]
mod reference;
use app::{App, AppSession, StartError, Stderr};

/// The secret of a first deployment.
const SECRET_A: &str = "e2e test secret A of at least 32 bytes (no commas)";
/// The secret rotated in later.
const SECRET_B: &str = "e2e test secret B of at least 32 bytes (no commas)";

const DAY: u64 = 24 * 60 * 60;

/// How long to wait for the app to start or to log a line.
const PATIENCE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// The app process

/// The path of the example app, built once per test process.
fn app_binary() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| app::build(&app::this_build_features()).unwrap_or_else(|e| panic!("{e}")))
}

/// A running app process, killed when dropped.
struct Server {
    /// The process, kept to be killed on drop.
    _app: App,
    /// `http://127.0.0.1:<port>`
    base: String,
    /// Everything the app wrote to stderr so far.
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// The app with these secrets, cookies without `Secure`.
    fn with_secrets(secrets: &str) -> Self {
        Self::start(&[
            ("SESSION_SECRETS", secrets),
            ("SESSION_ALLOW_PLAIN_HTTP", "1"),
        ])
    }

    /// Starts the app with `PORT=0` and exactly the `SESSION_*` variables
    /// given; panics with its stderr if it does not start.
    fn start(env: &[(&str, &str)]) -> Self {
        Self::try_start(env).unwrap_or_else(|log| panic!("the app did not start:\n{log}"))
    }

    /// Starts the app; if it exits (or hangs) before naming its port,
    /// returns what it wrote to stderr.
    fn try_start(env: &[(&str, &str)]) -> Result<Self, String> {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        let stderr = Stderr::Lines(Box::new(move |line| sink.lock().unwrap().push(line)));
        match App::start(app_binary(), env, stderr, PATIENCE) {
            Ok(app) => Ok(Self {
                base: app.base(),
                _app: app,
                log,
            }),
            Err(StartError::NoPort) => Err(log.lock().unwrap().join("\n")),
            Err(error) => panic!("{error}; log:\n{}", log.lock().unwrap().join("\n")),
        }
    }

    /// `base` + `path`.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The stderr lines so far, joined.
    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits until a stderr line contains `needle`.
    fn wait_for_log(&self, needle: &str) {
        let start = Instant::now();
        while start.elapsed() < PATIENCE {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("the app never logged {needle:?}; log:\n{}", self.log_text());
    }
}

// ---------------------------------------------------------------------------
// The client

/// A client with a cookie jar, like a browser. Redirects are not followed,
/// so that each response's `Set-Cookie` can be checked. The jar keys
/// cookies by host, not port, so a browser keeps its cookies across app
/// restarts on new ports.
struct Browser {
    client: Client,
    jar: Arc<Jar>,
}

/// A response, read completely.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Browser {
    fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(Policy::none())
            .no_proxy()
            .timeout(PATIENCE)
            .build()
            .unwrap();
        Self { client, jar }
    }

    fn get(&self, server: &Server, path: &str) -> Reply {
        send(self.client.get(server.url(path)))
    }

    fn post(&self, server: &Server, path: &str, form: &[(&str, &str)]) -> Reply {
        send(self.client.post(server.url(path)).form(form))
    }

    /// Logs in as `user` and checks the redirect home.
    fn login(&self, server: &Server, user: &str) -> Reply {
        let reply = self.post(server, "/login", &[("user", user)]);
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert_eq!(reply.headers[LOCATION], "/");
        reply
    }

    /// The value of the cookie named `name` the jar would send to `server`.
    fn cookie_named(&self, server: &Server, name: &str) -> Option<String> {
        let header = self.jar.cookies(&server.base.parse().unwrap())?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    }

    /// The value of the `session` cookie in the jar.
    fn session_cookie(&self, server: &Server) -> Option<String> {
        self.cookie_named(server, "session")
    }
}

/// A GET with exactly this `Cookie` header, from a client without a jar.
fn get_with_cookie(server: &Server, path: &str, cookie: &str) -> Reply {
    let client = Client::builder()
        .redirect(Policy::none())
        .no_proxy()
        .timeout(PATIENCE)
        .build()
        .unwrap();
    send(client.get(server.url(path)).header(COOKIE, cookie))
}

fn send(request: RequestBuilder) -> Reply {
    let response = request.send().unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

impl Reply {
    /// Every `Set-Cookie` header, parsed.
    fn set_cookies(&self) -> Vec<Cookie<'static>> {
        common::set_cookies(&self.headers)
    }

    /// The one `Set-Cookie` for `name`, if any (panics on several).
    fn set_cookie_named(&self, name: &str) -> Option<Cookie<'static>> {
        let mut found: Vec<_> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.name() == name)
            .collect();
        assert!(found.len() <= 1, "several Set-Cookie for {name}: {found:?}");
        found.pop()
    }

    /// The `Set-Cookie` for `session`, if any.
    fn session_set_cookie(&self) -> Option<Cookie<'static>> {
        self.set_cookie_named("session")
    }

    /// The text of `<p id="ID">...</p>`.
    fn paragraph(&self, id: &str) -> &str {
        let open = format!("<p id=\"{id}\">");
        let start = self
            .body
            .find(&open)
            .unwrap_or_else(|| panic!("no {open} in:\n{}", self.body))
            + open.len();
        let len = self.body[start..].find("</p>").unwrap();
        &self.body[start..start + len]
    }

    /// The home page's user line.
    fn user(&self) -> &str {
        self.paragraph("user")
    }

    /// The home page's visit count.
    fn visits(&self) -> u64 {
        self.paragraph("visits")
            .strip_prefix("Visits: ")
            .unwrap()
            .parse()
            .unwrap()
    }

    /// The cart page's items, checked against its count line.
    fn cart(&self) -> Vec<String> {
        let items: Vec<String> = self
            .body
            .split("<li class=\"item\">")
            .skip(1)
            .map(|rest| rest[..rest.find("</li>").unwrap()].to_owned())
            .collect();
        assert!(self.body.contains("<ul id=\"cart\">"), "{}", self.body);
        assert_eq!(self.paragraph("count"), format!("{} items", items.len()));
        items
    }

    /// Checks the headers of an HTML page.
    fn assert_page(&self) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.headers[CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(self.headers[CACHE_CONTROL], "no-store");
    }
}

/// Whether a `Set-Cookie` deletes the cookie.
fn is_removal(cookie: &Cookie<'_>) -> bool {
    cookie.value().is_empty()
        && cookie.max_age() == Some(cookie::time::Duration::ZERO)
        && cookie
            .expires_datetime()
            .is_some_and(|t| t.unix_timestamp() == 0)
}

/// `Max-Age` in seconds.
fn max_age(cookie: &Cookie<'_>) -> u64 {
    u64::try_from(cookie.max_age().unwrap().whole_seconds()).unwrap()
}

/// Opens a cookie value with a codec on `secrets`, as the app would.
fn open(secrets: &[&str], value: &str) -> Result<Unsealed<AppSession>, sealed_session::Error> {
    app::codec(secrets).open(value)
}

/// The key id of a secret (no app label), derived by the reference
/// implementation of the format.
fn key_id(secret: &str) -> [u8; 4] {
    reference::derive(secret, "").id
}

/// Bytes 2..6 of the token: the key id, read straight off the wire format.
fn wire_key_id(value: &str) -> [u8; 4] {
    let token = URL_SAFE_NO_PAD.decode(value).unwrap();
    token[2..6].try_into().unwrap()
}

/// The value with its middle character replaced by another base64url one.
fn flip_one_char(value: &str) -> String {
    let mut bytes = value.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// Seconds from `from` to `to`.
fn secs_between(from: SystemTime, to: SystemTime) -> u64 {
    to.duration_since(from).unwrap().as_secs()
}

// ---------------------------------------------------------------------------
// Chunked sessions

/// The index `k` of a chunk cookie named `session.k`.
fn chunk_index(name: &str) -> Option<usize> {
    name.strip_prefix("session.")?.parse().ok()
}

impl Browser {
    /// The names of the session's cookies (`session`, `session.k`) that the
    /// jar would send to `server`, sorted.
    fn session_cookie_names(&self, server: &Server) -> Vec<String> {
        let Some(header) = self.jar.cookies(&server.base.parse().unwrap()) else {
            return Vec::new();
        };
        let mut names: Vec<String> = header
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|pair| pair.split_once('=').map(|(name, _)| name))
            .filter(|name| *name == "session" || name.starts_with("session."))
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    /// The values of the chunk cookies `session.0` .. `session.(n-1)` in
    /// the jar, in index order; panics unless the jar holds exactly these.
    fn chunks(&self, server: &Server) -> Vec<String> {
        let names = self.session_cookie_names(server);
        let expected: Vec<String> = (0..names.len()).map(|k| format!("session.{k}")).collect();
        assert_eq!(names, expected, "the jar's session cookies");
        names
            .iter()
            .map(|name| self.cookie_named(server, name).unwrap())
            .collect()
    }
}

impl Reply {
    /// The session's `Set-Cookie`s (`session` and `session.k`), as
    /// `(name, is_removal)`, sorted by name.
    fn session_writes(&self) -> Vec<(String, bool)> {
        let mut writes: Vec<(String, bool)> = self
            .set_cookies()
            .iter()
            .filter(|c| c.name() == "session" || chunk_index(c.name()).is_some())
            .map(|c| (c.name().to_owned(), is_removal(c)))
            .collect();
        writes.sort();
        writes
    }

    /// The values of the chunk cookies this response sets (removals
    /// excluded), in index order; panics unless they are exactly
    /// `session.0` .. `session.(n-1)`, each once.
    fn chunk_values(&self) -> Vec<String> {
        let mut chunks: Vec<(usize, Cookie<'static>)> = self
            .set_cookies()
            .into_iter()
            .filter(|c| !is_removal(c))
            .filter_map(|c| Some((chunk_index(c.name())?, c)))
            .collect();
        chunks.sort_by_key(|(index, _)| *index);
        let indexes: Vec<usize> = chunks.iter().map(|(index, _)| *index).collect();
        assert_eq!(
            indexes,
            (0..chunks.len()).collect::<Vec<_>>(),
            "chunks set by the response"
        );
        chunks
            .into_iter()
            .map(|(_, c)| c.value().to_owned())
            .collect()
    }

    /// The home page's filler size, in bytes.
    fn filler(&self) -> usize {
        self.paragraph("blob")
            .strip_prefix("Filler: ")
            .and_then(|rest| rest.strip_suffix(" bytes"))
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// `(name, is_removal)` pairs, for comparing with [`Reply::session_writes`].
fn writes(expected: &[(&str, bool)]) -> Vec<(String, bool)> {
    let mut writes: Vec<(String, bool)> = expected
        .iter()
        .map(|&(name, removal)| (name.to_owned(), removal))
        .collect();
    writes.sort();
    writes
}

/// The writes of a session sealed in `chunks` chunks: `session.0` to
/// `session.<chunks - 1>` set, and the plain name `session` removed (in
/// case a concurrent response set it).
fn chunked_writes(chunks: usize) -> Vec<(String, bool)> {
    let mut writes = vec![("session".to_owned(), true)];
    writes.extend((0..chunks).map(|i| (format!("session.{i}"), false)));
    writes.sort();
    writes
}

/// Opens the joined text of chunk cookies with a codec on `secrets`. The
/// chunks join to one token sealed under the plain name `session`; a codec
/// with a large cookie limit opens it in one piece, as the app's
/// configuration does after its own checks on each chunk.
fn open_chunks(secrets: &[&str], chunks: &[String]) -> Unsealed<AppSession> {
    app::codec_builder(secrets)
        .max_cookie_size(65_536)
        .build()
        .unwrap()
        .open(&chunks.concat())
        .unwrap()
}

/// A `Cookie` header with these `(name, value)` pairs.
fn cookie_header(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn login_shows_the_user_and_gives_a_fresh_session_id() {
    let server = Server::with_secrets(SECRET_A);
    let browser = Browser::new();

    let home = browser.get(&server, "/");
    home.assert_page();
    assert_eq!(home.user(), "Not logged in");
    assert_eq!(home.visits(), 1);
    for form in [
        r#"<form id="login" method="post" action="/login">"#,
        r#"<input name="user""#,
        r#"<input type="checkbox" name="remember" value="on">"#,
        r#"<form id="logout" method="post" action="/logout">"#,
        r#"<form id="add" method="post" action="/cart/add">"#,
        r#"<input name="sku">"#,
        r#"<a href="/cart">"#,
    ] {
        assert!(
            home.body.contains(form),
            "{form} missing from:\n{}",
            home.body
        );
    }
    let before = open(&[SECRET_A], &browser.session_cookie(&server).unwrap()).unwrap();
    assert_eq!(before.value().user, None);

    let login = browser.login(&server, "alice");
    let set = login.session_set_cookie().expect("login sets the cookie");
    assert!(!is_removal(&set));

    let home = browser.get(&server, "/");
    home.assert_page();
    assert_eq!(home.user(), "Logged in as alice");
    assert_eq!(home.visits(), 2);

    let after = open(&[SECRET_A], &browser.session_cookie(&server).unwrap()).unwrap();
    assert_eq!(after.value().user.as_deref(), Some("alice"));
    assert_eq!(after.value().visits, 2);
    // Session fixation: the id before login is not the id after it.
    assert_ne!(after.envelope().id(), before.envelope().id());
}

#[test]
fn user_supplied_text_is_html_escaped() {
    let server = Server::with_secrets(SECRET_A);
    let browser = Browser::new();

    browser.login(&server, r#"<script>alert("x")</script> & 'co'"#);
    let home = browser.get(&server, "/");
    assert_eq!(
        home.user(),
        "Logged in as &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;"
    );
    assert!(!home.body.contains("<script>"));

    let add = browser.post(&server, "/cart/add", &[("sku", "<img src=x>")]);
    assert_eq!(add.status, StatusCode::SEE_OTHER);
    let cart = browser.get(&server, "/cart");
    assert_eq!(cart.cart(), ["&lt;img src=x&gt;"]);
}

#[test]
fn visit_counter_increments_across_requests() {
    let server = Server::with_secrets(SECRET_A);
    let browser = Browser::new();

    for expected in 1..=5 {
        let home = browser.get(&server, "/");
        assert_eq!(home.visits(), expected);
        assert_eq!(home.user(), "Not logged in");
        assert!(home.session_set_cookie().is_some(), "each visit is stored");
    }
    let opened = open(&[SECRET_A], &browser.session_cookie(&server).unwrap()).unwrap();
    assert_eq!(opened.value().visits, 5);

    // Another browser has its own session.
    assert_eq!(Browser::new().get(&server, "/").visits(), 1);
}

#[test]
fn cart_survives_many_requests() {
    let server = Server::with_secrets(SECRET_A);
    let browser = Browser::new();

    let empty = browser.get(&server, "/cart");
    empty.assert_page();
    assert!(empty.cart().is_empty());

    for sku in ["SKU-1", "SKU-22", "SKU-333"] {
        let add = browser.post(&server, "/cart/add", &[("sku", sku)]);
        assert_eq!(add.status, StatusCode::SEE_OTHER, "{}", add.body);
        assert_eq!(add.headers[LOCATION], "/cart");
        assert!(add.session_set_cookie().is_some());
    }
    let rejected = browser.post(&server, "/cart/add", &[("sku", "  ")]);
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    assert!(rejected.session_set_cookie().is_none());

    for _ in 0..3 {
        browser.get(&server, "/");
        let cart = browser.get(&server, "/cart");
        cart.assert_page();
        assert_eq!(cart.cart(), ["SKU-1", "SKU-22", "SKU-333"]);
        // Reading the cart changes nothing: no Set-Cookie.
        assert!(cart.session_set_cookie().is_none());
    }
    let opened = open(&[SECRET_A], &browser.session_cookie(&server).unwrap()).unwrap();
    assert_eq!(opened.value().cart, ["SKU-1", "SKU-22", "SKU-333"]);
    assert_eq!(opened.value().visits, 3);
}

#[test]
fn logout_clears_the_session_and_removes_the_cookie() {
    let server = Server::with_secrets(SECRET_A);
    let browser = Browser::new();

    browser.login(&server, "bob");
    browser.post(&server, "/cart/add", &[("sku", "SKU-9")]);
    assert_eq!(browser.get(&server, "/").user(), "Logged in as bob");
    assert!(browser.session_cookie(&server).is_some());

    let logout = browser.post(&server, "/logout", &[]);
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(logout.headers[LOCATION], "/");
    let removal = logout.session_set_cookie().expect("logout sets a cookie");
    assert!(is_removal(&removal), "not a removal: {removal}");
    assert_eq!(removal.path(), Some("/"));
    assert_eq!(removal.domain(), None);
    assert_eq!(browser.session_cookie(&server), None, "still in the jar");

    let home = browser.get(&server, "/");
    assert_eq!(home.user(), "Not logged in");
    assert_eq!(home.visits(), 1);
    assert!(browser.get(&server, "/cart").cart().is_empty());
}

#[test]
fn tampered_cookie_gives_a_fresh_session_and_is_removed() {
    let server = Server::with_secrets(SECRET_A);
    let browser = Browser::new();
    browser.login(&server, "carol");
    browser.post(&server, "/cart/add", &[("sku", "SKU-1")]);
    let original = browser.session_cookie(&server).unwrap();
    let tampered = flip_one_char(&original);
    assert_ne!(tampered, original);

    // The untouched cookie works when sent by hand...
    let home = get_with_cookie(&server, "/", &format!("session={original}"));
    assert_eq!(home.user(), "Logged in as carol");

    // ...one changed character does not. A read-only page removes it.
    let cart = get_with_cookie(&server, "/cart", &format!("session={tampered}"));
    cart.assert_page();
    assert!(cart.cart().is_empty());
    let removal = cart
        .session_set_cookie()
        .expect("the bad cookie is removed");
    assert!(is_removal(&removal), "not a removal: {removal}");

    // The home page counts a visit in a new session, replacing the bad cookie.
    let home = get_with_cookie(&server, "/", &format!("session={tampered}"));
    home.assert_page();
    assert_eq!(home.user(), "Not logged in");
    assert_eq!(home.visits(), 1);
    let fresh = home.session_set_cookie().expect("a fresh cookie");
    let opened = open(&[SECRET_A], fresh.value()).unwrap();
    assert_eq!(opened.value().user, None);
    assert!(opened.value().cart.is_empty());
    assert_ne!(
        opened.envelope().id(),
        open(&[SECRET_A], &original).unwrap().envelope().id(),
        "the forged cookie's session id is not carried over"
    );

    // The log names the reason, never the cookie.
    server.wait_for_log("authentication-failed");
    let log = server.log_text();
    assert!(log.contains("possible tampering"), "{log}");
    assert!(
        !log.contains(&tampered) && !log.contains(&original),
        "{log}"
    );
}

#[test]
fn secret_rotation_across_restarts() {
    let browser = Browser::new();

    // Deployment 1: SESSION_SECRETS=A.
    let sealed_under_a = {
        let server = Server::with_secrets(SECRET_A);
        browser.login(&server, "dave");
        let value = browser.session_cookie(&server).unwrap();
        assert_eq!(wire_key_id(&value), key_id(SECRET_A));
        value
    };
    let session_id = open(&[SECRET_A], &sealed_under_a).unwrap().envelope().id();

    // Deployment 2: SESSION_SECRETS=B,A. The old cookie still opens, and
    // even a read-only request re-issues it under B.
    {
        let server = Server::with_secrets(&format!("{SECRET_B},{SECRET_A}"));
        let cart = browser.get(&server, "/cart");
        cart.assert_page();
        let reissued = cart
            .session_set_cookie()
            .expect("a cookie sealed under an old secret is re-sealed");
        assert!(!is_removal(&reissued));
        assert_eq!(wire_key_id(reissued.value()), key_id(SECRET_B));
        assert_ne!(key_id(SECRET_A), key_id(SECRET_B));
        let opened = open(&[SECRET_B], reissued.value()).expect("opens under B alone");
        assert_eq!(opened.key_id().to_bytes(), key_id(SECRET_B));
        assert_eq!(opened.value().user.as_deref(), Some("dave"));
        assert_eq!(
            opened.envelope().id(),
            session_id,
            "re-sealing keeps the session"
        );
        assert_eq!(
            browser.session_cookie(&server).as_deref(),
            Some(reissued.value())
        );

        let home = browser.get(&server, "/");
        assert_eq!(home.user(), "Logged in as dave");
        // Now sealed under B: a read-only request has nothing to re-issue.
        assert!(browser.get(&server, "/cart").session_set_cookie().is_none());
    }

    // Deployment 3: SESSION_SECRETS=B. The re-issued cookie still works.
    let server = Server::with_secrets(SECRET_B);
    let home = browser.get(&server, "/");
    assert_eq!(home.user(), "Logged in as dave");

    // A cookie only ever sealed under A is cleanly logged out.
    let cart = get_with_cookie(&server, "/cart", &format!("session={sealed_under_a}"));
    assert!(cart.cart().is_empty());
    let removal = cart
        .session_set_cookie()
        .expect("the old cookie is removed");
    assert!(is_removal(&removal), "not a removal: {removal}");
    let home = get_with_cookie(&server, "/", &format!("session={sealed_under_a}"));
    assert_eq!(home.user(), "Not logged in");
    assert_eq!(home.visits(), 1);
    server.wait_for_log("unknown-key");
}

#[test]
fn oversized_session_is_refused_and_the_cookie_kept() {
    let server = Server::with_secrets(SECRET_A);
    let browser = Browser::new();
    browser.login(&server, "erin");
    assert_eq!(browser.get(&server, "/").visits(), 1);

    // A large blob that still fits in a 4096-byte cookie.
    let fits = browser.get(&server, "/big?bytes=2800");
    assert_eq!(fits.status, StatusCode::OK, "{}", fits.body);
    assert_eq!(fits.body.trim(), "stored 2800 bytes");
    let set = fits.session_set_cookie().expect("the blob is stored");
    assert!(set.name().len() + set.value().len() <= 4096);
    let cookie_before = browser.session_cookie(&server).unwrap();
    assert_eq!(cookie_before, set.value());

    // One that does not: 413, and the response leaves the cookie alone.
    let too_big = browser.get(&server, "/big?bytes=3100");
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        too_big.set_cookies().is_empty(),
        "{:?}",
        too_big.set_cookies()
    );
    assert!(too_big.body.contains("4096"), "{}", too_big.body);
    assert!(
        too_big.body.contains("Nothing was changed"),
        "{}",
        too_big.body
    );
    assert_eq!(browser.session_cookie(&server), Some(cookie_before.clone()));

    // The next requests see the state from before the refused change.
    let cart = browser.get(&server, "/cart");
    cart.assert_page();
    assert!(cart.session_set_cookie().is_none());
    let home = browser.get(&server, "/");
    assert_eq!(home.user(), "Logged in as erin");
    assert_eq!(home.visits(), 2);
    let opened = open(&[SECRET_A], &browser.session_cookie(&server).unwrap()).unwrap();
    assert_eq!(opened.value().blob.len(), 2800);

    // Bad sizes are 400, without touching the session.
    for path in [
        "/big",
        "/big?bytes=",
        "/big?bytes=abc",
        "/big?bytes=-1",
        "/big?bytes=1000001",
    ] {
        let reply = browser.get(&server, path);
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(reply.set_cookies().is_empty(), "{path}");
    }
}

/// Remember me gives the session a 30-day lifetime instead of 7; the
/// cookie's `Max-Age` is the earlier of that and the 7-day idle timeout, so
/// a remembered user stays logged in for 30 days as long as they come back
/// every week.
#[test]
fn remember_me_lasts_30_days_instead_of_7() {
    let server = Server::with_secrets(SECRET_A);

    let plain = Browser::new().login(&server, "frank");
    let set = plain.session_set_cookie().unwrap();
    assert!((7 * DAY - 120..=7 * DAY).contains(&max_age(&set)), "{set}");
    let opened = open(&[SECRET_A], set.value()).unwrap();
    assert_eq!(
        secs_between(
            opened.envelope().created_at(),
            opened.envelope().absolute_deadline()
        ),
        7 * DAY
    );

    let browser = Browser::new();
    let remembered = browser.post(&server, "/login", &[("user", "frank"), ("remember", "on")]);
    assert_eq!(remembered.status, StatusCode::SEE_OTHER);
    let set = remembered.session_set_cookie().unwrap();
    assert!((7 * DAY - 120..=7 * DAY).contains(&max_age(&set)), "{set}");
    let expires = set.expires_datetime().unwrap().unix_timestamp();
    let now = cookie::time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((expires - now).abs_diff(7 * 86_400) <= 120, "{set}");
    let opened = open(&[SECRET_A], set.value()).unwrap();
    assert_eq!(
        secs_between(
            opened.envelope().created_at(),
            opened.envelope().absolute_deadline()
        ),
        30 * DAY
    );
    assert_eq!(
        secs_between(
            opened.envelope().created_at(),
            opened.envelope().idle_deadline().unwrap()
        ),
        7 * DAY
    );
    // Without a maximum lifetime that allows it, the 30 days are capped at
    // the 7 days of an ordinary session where the cookie is opened.
    let strict = app::codec_builder(&[SECRET_A])
        .max_lifetime(Duration::from_secs(7 * DAY))
        .build()
        .unwrap()
        .open::<AppSession>(set.value())
        .unwrap();
    assert_eq!(
        secs_between(
            strict.envelope().created_at(),
            strict.envelope().absolute_deadline()
        ),
        7 * DAY
    );

    // Later writes keep the session's own lifetime.
    let home = browser.get(&server, "/");
    assert_eq!(home.user(), "Logged in as frank");
    let set = home.session_set_cookie().unwrap();
    let opened = open(&[SECRET_A], set.value()).unwrap();
    assert_eq!(
        secs_between(
            opened.envelope().created_at(),
            opened.envelope().absolute_deadline()
        ),
        30 * DAY
    );
}

#[test]
fn idle_timeout_comes_from_the_environment() {
    let server = Server::start(&[
        ("SESSION_SECRETS", SECRET_A),
        ("SESSION_ALLOW_PLAIN_HTTP", "1"),
        ("SESSION_IDLE_TIMEOUT_SECS", "600"),
    ]);
    let browser = Browser::new();
    let set = browser.get(&server, "/").session_set_cookie().unwrap();
    assert!((540..=600).contains(&max_age(&set)), "{set}");
    // The cookie carries no idle deadline of its own: an opener with the
    // same idle timeout finds it 600 s after the seal.
    let opened = app::codec_builder(&[SECRET_A])
        .idle_timeout(Duration::from_secs(600))
        .build()
        .unwrap()
        .open::<AppSession>(set.value())
        .unwrap();
    let idle = opened
        .envelope()
        .idle_deadline()
        .expect("an idle timeout is configured");
    assert_eq!(secs_between(opened.envelope().renewed_at(), idle), 600);
    assert_eq!(
        opened.envelope().renewed_at(),
        opened.envelope().created_at()
    );
    drop(server);
    // `0` turns the idle timeout off: the cookie lives as long as the
    // session (7 days).
    let server = Server::start(&[
        ("SESSION_SECRETS", SECRET_A),
        ("SESSION_ALLOW_PLAIN_HTTP", "1"),
        ("SESSION_IDLE_TIMEOUT_SECS", "0"),
    ]);
    let set = Browser::new()
        .get(&server, "/")
        .session_set_cookie()
        .unwrap();
    assert!((7 * DAY - 120..=7 * DAY).contains(&max_age(&set)), "{set}");
}

#[test]
fn cookie_attributes_follow_the_configuration() {
    // Plain-http mode: everything but Secure.
    let server = Server::with_secrets(SECRET_A);
    let set = Browser::new()
        .get(&server, "/")
        .session_set_cookie()
        .unwrap();
    assert_eq!(set.secure(), None);
    assert_eq!(set.http_only(), Some(true));
    assert_eq!(set.same_site(), Some(cookie::SameSite::Lax));
    assert_eq!(set.path(), Some("/"));
    assert_eq!(set.domain(), None);
    drop(server);

    // The default, with a __Host- name: Secure, Path=/, no Domain.
    let server = Server::start(&[
        ("SESSION_SECRETS", SECRET_A),
        ("SESSION_COOKIE_NAME", "__Host-session"),
    ]);
    let browser = Browser::new();
    let home = browser.get(&server, "/");
    assert!(home.session_set_cookie().is_none());
    let set = home.set_cookie_named("__Host-session").unwrap();
    assert_eq!(set.secure(), Some(true));
    assert_eq!(set.http_only(), Some(true));
    assert_eq!(set.same_site(), Some(cookie::SameSite::Lax));
    assert_eq!(set.path(), Some("/"));
    assert_eq!(set.domain(), None);
    // The name is bound into the seal: it opens under this name only.
    let codec = Codec::builder(Keyring::new([SECRET_A]).unwrap())
        .cookie_name("__Host-session")
        .build()
        .unwrap();
    assert_eq!(
        codec
            .open::<AppSession>(set.value())
            .unwrap()
            .value()
            .visits,
        1
    );
    assert!(open(&[SECRET_A], set.value()).is_err());
    // reqwest's jar, like browsers, sends Secure cookies to loopback over
    // plain http, so the session carries on.
    assert!(browser.cookie_named(&server, "__Host-session").is_some());
    assert_eq!(browser.get(&server, "/").visits(), 2);
    drop(server);

    // __Host- cookies must be Secure: the app refuses to start without it.
    let refused = Server::try_start(&[
        ("SESSION_SECRETS", SECRET_A),
        ("SESSION_COOKIE_NAME", "__Host-session"),
        ("SESSION_ALLOW_PLAIN_HTTP", "1"),
    ]);
    let log = refused.err().expect("the app must not start");
    assert!(log.contains("__Host-"), "{log}");
}

#[test]
fn missing_secrets_warn_and_still_serve() {
    let server = Server::start(&[]);
    // The warning spans several stderr lines, which arrive one by one.
    server.wait_for_log("WARNING: SESSION_SECRETS is not set");
    server.wait_for_log("lost when the server restarts");
    let browser = Browser::new();
    assert_eq!(browser.get(&server, "/").visits(), 1);
    assert_eq!(browser.get(&server, "/").visits(), 2);
}

#[test]
fn bad_requests_are_refused_without_touching_the_session() {
    let server = Server::with_secrets(SECRET_A);
    let browser = Browser::new();
    browser.login(&server, "gina");
    let cookie = browser.session_cookie(&server);

    for path in ["/nope", "/login", "/cart/add", "/index.html"] {
        let reply = browser.get(&server, path);
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "GET {path}");
        assert!(reply.set_cookies().is_empty(), "GET {path}");
    }
    for form in [&[][..], &[("user", "")][..], &[("user", "   ")][..]] {
        let reply = browser.post(&server, "/login", form);
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{form:?}");
        assert!(reply.set_cookies().is_empty());
    }
    // A form over the 16 KiB limit.
    let huge = "x".repeat(20 * 1024);
    let reply = browser.post(&server, "/cart/add", &[("sku", huge.as_str())]);
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.set_cookies().is_empty());
    // A SKU that fits the form but not the cookie.
    let long = "y".repeat(5000);
    let reply = browser.post(&server, "/cart/add", &[("sku", long.as_str())]);
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.set_cookies().is_empty());

    assert_eq!(browser.session_cookie(&server), cookie);
    assert_eq!(browser.get(&server, "/").user(), "Logged in as gina");
    assert!(browser.get(&server, "/cart").cart().is_empty());

    // Headers the app never trusts blindly: garbage and duplicate cookies.
    let cookie = cookie.unwrap();
    let reply = get_with_cookie(
        &server,
        "/cart",
        &format!("session=%%%; theme=dark; session={cookie}"),
    );
    assert!(reply.cart().is_empty());
    assert!(reply.set_cookies().is_empty(), "the good duplicate is used");
    let reply = get_with_cookie(&server, "/", &format!("theme=dark; session={cookie}"));
    assert_eq!(reply.user(), "Logged in as gina");
}

/// `SESSION_MAX_CHUNKS=4` with the default 8000-byte header budget: a
/// session of about 6 KB moves from one cookie to two chunks, round-trips,
/// is refused above the budget without losing anything, and moves back to
/// one cookie. Every move removes the cookies it leaves behind.
#[test]
fn a_large_session_spreads_over_chunks_and_back_to_one_cookie() {
    let server = Server::start(&[
        ("SESSION_SECRETS", SECRET_A),
        ("SESSION_ALLOW_PLAIN_HTTP", "1"),
        ("SESSION_MAX_CHUNKS", "4"),
    ]);
    server.wait_for_log("SESSION_MAX_CHUNKS=4");
    let browser = Browser::new();
    browser.login(&server, "hana");
    let home = browser.get(&server, "/");
    assert_eq!(home.visits(), 1);
    assert_eq!(home.filler(), 0);
    assert_eq!(browser.session_cookie_names(&server), ["session"]);
    let plain = open(&[SECRET_A], &browser.session_cookie(&server).unwrap()).unwrap();
    let mut seen_values = vec![browser.session_cookie(&server).unwrap()];

    // Too large for one cookie: two chunks, and the plain cookie removed.
    let grow = browser.get(&server, "/big?bytes=4500");
    assert_eq!(grow.status, StatusCode::OK, "{}", grow.body);
    assert_eq!(grow.body.trim(), "stored 4500 bytes");
    assert_eq!(grow.session_writes(), chunked_writes(2));
    let removal = grow.session_set_cookie().unwrap();
    assert_eq!(removal.path(), Some("/"));
    assert_eq!(removal.domain(), None);
    let chunk_cookies: Vec<Cookie<'static>> = grow
        .set_cookies()
        .into_iter()
        .filter(|c| chunk_index(c.name()).is_some())
        .collect();
    for chunk in &chunk_cookies {
        assert_eq!(chunk.path(), Some("/"), "{chunk}");
        assert_eq!(chunk.domain(), None, "{chunk}");
        assert_eq!(chunk.http_only(), Some(true), "{chunk}");
        assert_eq!(chunk.same_site(), Some(cookie::SameSite::Lax), "{chunk}");
        assert_eq!(chunk.secure(), None, "{chunk}");
        assert!(chunk.name().len() + chunk.value().len() <= 4096, "{chunk}");
        assert!(
            (7 * DAY - 120..=7 * DAY).contains(&max_age(chunk)),
            "{chunk}"
        );
        assert_eq!(chunk.max_age(), chunk_cookies[0].max_age());
        assert_eq!(
            chunk.expires_datetime(),
            chunk_cookies[0].expires_datetime()
        );
    }
    let chunks = grow.chunk_values();
    // Chunk 0 is filled up to the 4096-byte cookie limit, chunk 1 has the
    // rest.
    assert_eq!("session.0".len() + chunks[0].len(), 4096);
    // The filler is incompressible as far as the cookie goes: 4500 bytes
    // take at least 6000 characters of base64.
    let total: usize = chunks.iter().map(|c| "session.0".len() + c.len()).sum();
    assert!(
        chunks.concat().len() >= 4500 * 4 / 3 && total <= 8000,
        "{total}"
    );
    assert_eq!(browser.chunks(&server), chunks, "the jar took both chunks");
    assert_eq!(browser.session_cookie(&server), None);
    let opened = open_chunks(&[SECRET_A], &chunks);
    assert_eq!(opened.value().user.as_deref(), Some("hana"));
    assert_eq!(opened.value().visits, 1);
    assert_eq!(opened.value().blob, "x".repeat(4500));
    assert_eq!(
        opened.envelope().id(),
        plain.envelope().id(),
        "the same session, now chunked"
    );
    // No chunk is a session by itself.
    for chunk in &chunks {
        assert!(open(&[SECRET_A], chunk).is_err());
    }
    seen_values.extend(chunks.iter().cloned());

    // The next request carries both chunks and the app sees the session.
    let home = browser.get(&server, "/");
    home.assert_page();
    assert_eq!(home.user(), "Logged in as hana");
    assert_eq!(home.visits(), 2);
    assert_eq!(home.filler(), 4500);
    assert_eq!(
        home.session_writes(),
        chunked_writes(2),
        "re-sealed as two chunks; the plain name removed, in case a \
         concurrent response set it (two chunks are the most the default \
         budget allows, so no higher index)"
    );
    let chunks = browser.chunks(&server);
    assert_eq!(chunks, home.chunk_values());
    assert_eq!(open_chunks(&[SECRET_A], &chunks).value().visits, 2);
    seen_values.extend(chunks.iter().cloned());
    // A read-only page carries no Set-Cookie.
    let cart = browser.get(&server, "/cart");
    cart.assert_page();
    assert!(cart.set_cookies().is_empty(), "{:?}", cart.set_cookies());

    // Over the header budget: 413, and both chunks stay as they were.
    let too_big = browser.get(&server, "/big?bytes=7000");
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_big.body.contains("8000"), "{}", too_big.body);
    assert!(
        too_big.body.contains("Nothing was changed"),
        "{}",
        too_big.body
    );
    assert!(
        too_big.set_cookies().is_empty(),
        "{:?}",
        too_big.set_cookies()
    );
    assert_eq!(browser.chunks(&server), chunks);
    let home = browser.get(&server, "/");
    assert_eq!(home.user(), "Logged in as hana");
    assert_eq!(home.visits(), 3);
    assert_eq!(home.filler(), 4500);
    seen_values.extend(browser.chunks(&server));

    // Shrinking: one plain cookie again, and every chunk removed, with the
    // cookies' path and domain.
    let shrink = browser.get(&server, "/big?bytes=0");
    assert_eq!(shrink.status, StatusCode::OK, "{}", shrink.body);
    assert_eq!(
        shrink.session_writes(),
        writes(&[("session", false), ("session.0", true), ("session.1", true)])
    );
    for removal in shrink.set_cookies().iter().filter(|c| is_removal(c)) {
        assert_eq!(removal.path(), Some("/"), "{removal}");
        assert_eq!(removal.domain(), None, "{removal}");
    }
    assert_eq!(
        browser.session_cookie_names(&server),
        ["session"],
        "no stale chunk in the jar"
    );
    let value = browser.session_cookie(&server).unwrap();
    assert_eq!(value, shrink.session_set_cookie().unwrap().value());
    let opened = open(&[SECRET_A], &value).unwrap();
    assert_eq!(opened.value().user.as_deref(), Some("hana"));
    assert_eq!(opened.value().visits, 3);
    assert!(opened.value().blob.is_empty());
    assert_eq!(opened.envelope().id(), plain.envelope().id());
    seen_values.push(value);

    // From now on one cookie, as without chunking.
    let home = browser.get(&server, "/");
    assert_eq!(home.visits(), 4);
    assert_eq!(home.filler(), 0);
    assert_eq!(home.session_writes(), writes(&[("session", false)]));

    let log = server.log_text();
    for value in &seen_values {
        assert!(!log.contains(value.as_str()), "a cookie value in the log");
    }
}

/// With a raised budget (`SESSION_HEADER_BUDGET=12000`) a session grows to
/// three chunks; shrinking to two removes the third, growing adds it back,
/// and logging out removes every chunk.
#[test]
fn chunks_grow_shrink_and_are_removed_on_logout() {
    let server = Server::start(&[
        ("SESSION_SECRETS", SECRET_A),
        ("SESSION_ALLOW_PLAIN_HTTP", "1"),
        ("SESSION_MAX_CHUNKS", "4"),
        ("SESSION_HEADER_BUDGET", "12000"),
    ]);
    let browser = Browser::new();

    // A new session straight into three chunks: the plain name is removed
    // all the same (a concurrent response may have set it). Three chunks
    // are the most the 12 000-byte budget allows, so no higher index.
    let three = browser.get(&server, "/big?bytes=7000");
    assert_eq!(three.status, StatusCode::OK, "{}", three.body);
    assert_eq!(three.session_writes(), chunked_writes(3));
    let chunks = browser.chunks(&server);
    assert_eq!(chunks.len(), 3);
    let total: usize = chunks.iter().map(|c| "session.0".len() + c.len()).sum();
    assert!(total > 8000 && total <= 12000, "{total}");
    let id = open_chunks(&[SECRET_A], &chunks).envelope().id();

    // Two chunks: `session.2` goes.
    let two = browser.get(&server, "/big?bytes=4500");
    assert_eq!(two.status, StatusCode::OK, "{}", two.body);
    assert_eq!(
        two.session_writes(),
        writes(&[
            ("session", true),
            ("session.0", false),
            ("session.1", false),
            ("session.2", true)
        ])
    );
    let chunks = browser.chunks(&server);
    assert_eq!(chunks.len(), 2);
    let opened = open_chunks(&[SECRET_A], &chunks);
    assert_eq!(opened.value().blob.len(), 4500);
    assert_eq!(opened.envelope().id(), id);

    // Three again, then over the raised budget.
    let three = browser.get(&server, "/big?bytes=7000");
    assert_eq!(three.session_writes(), chunked_writes(3));
    assert_eq!(browser.chunks(&server).len(), 3);
    let too_big = browser.get(&server, "/big?bytes=9500");
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_big.body.contains("12000"), "{}", too_big.body);
    assert!(too_big.set_cookies().is_empty());
    let home = browser.get(&server, "/");
    assert_eq!(home.visits(), 1);
    assert_eq!(home.filler(), 7000);

    // Logout removes the plain name and all three chunks.
    browser.login(&server, "ivo");
    assert_eq!(browser.get(&server, "/").user(), "Logged in as ivo");
    assert_eq!(browser.chunks(&server).len(), 3);
    let logout = browser.post(&server, "/logout", &[]);
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(
        logout.session_writes(),
        writes(&[
            ("session", true),
            ("session.0", true),
            ("session.1", true),
            ("session.2", true)
        ])
    );
    assert!(browser.session_cookie_names(&server).is_empty());
    let home = browser.get(&server, "/");
    assert_eq!(home.user(), "Not logged in");
    assert_eq!(home.visits(), 1);
    assert_eq!(home.filler(), 0);
}

/// Without `SESSION_MAX_CHUNKS` the same session is refused as before, and
/// chunk cookies are none of the app's business: not read, not removed.
#[test]
fn without_chunking_a_large_session_is_refused_and_chunks_are_ignored() {
    // Chunks sealed by an app that allows them, under the same secret.
    let chunks = {
        let server = Server::start(&[
            ("SESSION_SECRETS", SECRET_A),
            ("SESSION_ALLOW_PLAIN_HTTP", "1"),
            ("SESSION_MAX_CHUNKS", "4"),
        ]);
        let browser = Browser::new();
        browser.login(&server, "jo");
        assert_eq!(
            browser.get(&server, "/big?bytes=4500").status,
            StatusCode::OK
        );
        browser.chunks(&server)
    };
    assert_eq!(chunks.len(), 2);

    let server = Server::with_secrets(SECRET_A);
    let browser = Browser::new();
    browser.login(&server, "jo");
    let too_big = browser.get(&server, "/big?bytes=4500");
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_big.body.contains("4096"), "{}", too_big.body);
    assert!(too_big.set_cookies().is_empty());
    assert_eq!(browser.session_cookie_names(&server), ["session"]);
    assert!(!server.log_text().contains("SESSION_MAX_CHUNKS"));

    let header = cookie_header(&[("session.0", &chunks[0]), ("session.1", &chunks[1])]);
    let home = get_with_cookie(&server, "/", &header);
    assert_eq!(home.user(), "Not logged in");
    assert_eq!(home.visits(), 1);
    assert_eq!(home.session_writes(), writes(&[("session", false)]));
    let cart = get_with_cookie(&server, "/cart", &header);
    assert!(cart.cart().is_empty());
    assert!(cart.set_cookies().is_empty(), "{:?}", cart.set_cookies());
}

/// One AEAD covers all chunks: a changed, missing, extra, repeated,
/// swapped or foreign chunk is a fresh session, and the response removes
/// every chunk the request carried.
#[test]
fn tampered_missing_or_foreign_chunks_give_a_fresh_session() {
    let server = Server::start(&[
        ("SESSION_SECRETS", SECRET_A),
        ("SESSION_ALLOW_PLAIN_HTTP", "1"),
        ("SESSION_MAX_CHUNKS", "4"),
    ]);
    let browser = Browser::new();
    browser.login(&server, "kai");
    let plain = browser.session_cookie(&server).unwrap();
    assert_eq!(
        browser.get(&server, "/big?bytes=4500").status,
        StatusCode::OK
    );
    let chunks = browser.chunks(&server);
    assert_eq!(chunks.len(), 2);
    let (c0, c1) = (chunks[0].as_str(), chunks[1].as_str());
    let flipped = flip_one_char(c1);
    assert_ne!(flipped, c1);
    // Another visitor's session, chunked the same way.
    let other = Browser::new();
    other.login(&server, "kai");
    assert_eq!(other.get(&server, "/big?bytes=4500").status, StatusCode::OK);
    let foreign = other.chunks(&server);
    assert_eq!(foreign.len(), 2);

    // The exact pair opens, in whichever order the header lists it.
    for header in [
        cookie_header(&[("session.0", c0), ("session.1", c1)]),
        cookie_header(&[("session.1", c1), ("theme", "dark"), ("session.0", c0)]),
    ] {
        let home = get_with_cookie(&server, "/", &header);
        assert_eq!(home.user(), "Logged in as kai", "{header:.40}");
        assert_eq!(home.filler(), 4500);
        assert_eq!(home.session_writes(), chunked_writes(2));
    }

    // Names from `session.64` up are other cookies: next to them the pair
    // opens, a read-only page writes nothing and a re-seal removes only
    // the plain name.
    let header = cookie_header(&[
        ("session.64", "AAAA"),
        ("session.0", c0),
        ("session.99999999999999999999999", "AAAA"),
        ("session.1", c1),
    ]);
    let cart = get_with_cookie(&server, "/cart", &header);
    cart.assert_page();
    assert!(cart.set_cookies().is_empty(), "{:?}", cart.set_cookies());
    let home = get_with_cookie(&server, "/", &header);
    assert_eq!(home.user(), "Logged in as kai");
    assert_eq!(home.filler(), 4500);
    let mut all_writes: Vec<(String, bool)> = home
        .set_cookies()
        .iter()
        .map(|c| (c.name().to_owned(), is_removal(c)))
        .collect();
    all_writes.sort();
    assert_eq!(all_writes, chunked_writes(2));

    // A valid plain cookie next to valid chunks: the plain one is tried
    // first and wins; a read-only page only removes the chunks (the plain
    // cookie is not sealed again), so the browser does not keep two forms
    // of the session.
    let header = cookie_header(&[("session.0", c0), ("session", &plain), ("session.1", c1)]);
    let cart = get_with_cookie(&server, "/cart", &header);
    cart.assert_page();
    assert_eq!(
        cart.session_writes(),
        writes(&[("session.0", true), ("session.1", true)])
    );
    server.wait_for_log("GET /cart -> 200 (session cookie: LeftoversRemoved)");
    // A page that changes the session seals the plain cookie's state and
    // removes the chunks with the same write.
    let home = get_with_cookie(&server, "/", &header);
    assert_eq!(
        home.session_writes(),
        writes(&[("session", false), ("session.0", true), ("session.1", true)])
    );
    let rewritten = open(&[SECRET_A], home.session_set_cookie().unwrap().value()).unwrap();
    assert_eq!(rewritten.value().user.as_deref(), Some("kai"));
    assert!(
        rewritten.value().blob.is_empty(),
        "the plain cookie's state"
    );
    assert_eq!(
        rewritten.envelope().id(),
        open(&[SECRET_A], &plain).unwrap().envelope().id()
    );

    // Valid chunks next to a plain cookie the app cannot open (another
    // deployment's secret) and cannot remove (say it is set for a parent
    // domain, so the browser keeps sending it): every read-only response
    // removes it again with one small header and never re-seals the
    // chunks.
    let other_deployment = app::codec(&[SECRET_B]).seal(&("someone", 1u64)).unwrap();
    let header = cookie_header(&[
        ("session", &other_deployment),
        ("session.0", c0),
        ("session.1", c1),
    ]);
    for _ in 0..3 {
        let cart = get_with_cookie(&server, "/cart", &header);
        cart.assert_page();
        let all_writes: Vec<(String, bool)> = cart
            .set_cookies()
            .iter()
            .map(|c| (c.name().to_owned(), is_removal(c)))
            .collect();
        assert_eq!(all_writes, writes(&[("session", true)]));
        let removal = cart.session_set_cookie().unwrap();
        assert_eq!(removal.path(), Some("/"));
        assert_eq!(removal.domain(), None);
    }

    let cases: [(&str, Vec<(&str, &str)>); 7] = [
        (
            "one character changed",
            vec![("session.0", c0), ("session.1", &flipped)],
        ),
        ("chunk 0 missing", vec![("session.1", c1)]),
        ("chunk 1 missing", vec![("session.0", c0)]),
        ("values swapped", vec![("session.0", c1), ("session.1", c0)]),
        (
            "an extra chunk",
            vec![("session.0", c0), ("session.1", c1), ("session.2", "AAAA")],
        ),
        (
            "a chunk repeated",
            vec![("session.0", c0), ("session.1", c1), ("session.1", c1)],
        ),
        (
            "a chunk of another session",
            vec![("session.0", c0), ("session.1", &foreign[1])],
        ),
    ];
    for (case, pairs) in &cases {
        let header = cookie_header(pairs);
        let mut carried: Vec<&str> = pairs.iter().map(|(name, _)| *name).collect();
        carried.sort_unstable();
        carried.dedup();

        // A read-only page removes the plain name and every carried chunk.
        let cart = get_with_cookie(&server, "/cart", &header);
        cart.assert_page();
        assert!(cart.cart().is_empty(), "{case}");
        let mut expected: Vec<(&str, bool)> = vec![("session", true)];
        expected.extend(carried.iter().map(|name| (*name, true)));
        assert_eq!(cart.session_writes(), writes(&expected), "{case}");

        // The home page starts a new session in one plain cookie and
        // removes the carried chunks.
        let home = get_with_cookie(&server, "/", &header);
        assert_eq!(home.user(), "Not logged in", "{case}");
        assert_eq!(home.visits(), 1, "{case}");
        assert_eq!(home.filler(), 0, "{case}");
        let mut expected: Vec<(&str, bool)> = vec![("session", false)];
        expected.extend(carried.iter().map(|name| (*name, true)));
        assert_eq!(home.session_writes(), writes(&expected), "{case}");
        let fresh = open(&[SECRET_A], home.session_set_cookie().unwrap().value()).unwrap();
        assert_ne!(
            fresh.envelope().id(),
            open_chunks(&[SECRET_A], &chunks).envelope().id(),
            "{case}"
        );
    }

    // A name with an index at or past max_chunks (4) is another cookie: it
    // neither spoils the session nor is removed.
    let header = cookie_header(&[
        ("session.0", c0),
        ("session.1", c1),
        ("session.4", "AAAA"),
        ("session.63", "AAAA"),
    ]);
    let cart = get_with_cookie(&server, "/cart", &header);
    cart.assert_page();
    assert!(
        cart.session_writes().is_empty(),
        "{:?}",
        cart.session_writes()
    );
    let home = get_with_cookie(&server, "/", &header);
    assert!(home.filler() > 0, "the chunked session opened");
    assert_eq!(home.session_writes(), chunked_writes(2));

    // The same through the jar: one changed character in `session.1`, and
    // the next page leaves the jar with one fresh plain cookie.
    browser.jar.add_cookie_str(
        &format!("session.1={flipped}; Path=/"),
        &server.base.parse().unwrap(),
    );
    assert_eq!(
        browser.cookie_named(&server, "session.1").as_deref(),
        Some(flipped.as_str())
    );
    let home = browser.get(&server, "/");
    assert_eq!(home.user(), "Not logged in");
    assert_eq!(home.visits(), 1);
    assert_eq!(
        home.session_writes(),
        writes(&[("session", false), ("session.0", true), ("session.1", true)])
    );
    assert_eq!(browser.session_cookie_names(&server), ["session"]);

    server.wait_for_log("authentication-failed");
    server.wait_for_log("malformed");
    let log = server.log_text();
    for value in [c0, c1, flipped.as_str(), &foreign[0], &foreign[1]] {
        assert!(!log.contains(value), "a cookie value in the log");
    }
}

/// Bad chunking settings stop the app at start, naming the variable.
#[test]
fn bad_chunking_settings_are_refused_at_start() {
    for (env, needle) in [
        (vec![("SESSION_MAX_CHUNKS", "many")], "SESSION_MAX_CHUNKS"),
        (vec![("SESSION_MAX_CHUNKS", "0")], "max_chunks"),
        (vec![("SESSION_MAX_CHUNKS", "33")], "max_chunks"),
        (
            vec![("SESSION_HEADER_BUDGET", "8k")],
            "SESSION_HEADER_BUDGET",
        ),
        (
            vec![
                ("SESSION_MAX_CHUNKS", "4"),
                ("SESSION_HEADER_BUDGET", "4000"),
            ],
            "header budget",
        ),
    ] {
        let mut env = env;
        env.extend([
            ("SESSION_SECRETS", SECRET_A),
            ("SESSION_ALLOW_PLAIN_HTTP", "1"),
        ]);
        let log = Server::try_start(&env)
            .err()
            .unwrap_or_else(|| panic!("the app started with {env:?}"));
        assert!(log.contains(needle), "{env:?}: {log}");
    }
}
