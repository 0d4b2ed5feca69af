//! A small web app with a login, a visit counter and a shopping cart, all kept
//! in a sealed session cookie: no database, no session store.
//!
//! Plain hyper 1 (no framework) around the crate's framework-free helper. Per
//! request, [`handle`] does the three steps every app needs:
//!
//! 1. `config.load::<AppSession>(request.headers())`: never fails; a missing,
//!    expired or forged cookie is an empty session;
//! 2. the route's handler reads and changes the [`Session`];
//! 3. `session.write(response.headers_mut())` adds the `Set-Cookie` the
//!    response needs, if any.
//!
//! ```text
//! cargo run --example app
//! SESSION_SECRETS="$(openssl rand -base64 32 | sed 's/^/base64:/')" cargo run --example app
//! ```
//!
//! Environment:
//!
//! - `PORT`: port on 127.0.0.1 (default 3000; `0` picks a free one);
//! - `SESSION_SECRETS`: comma-separated secrets, newest first. Without it a
//!   secret is generated at start, and sessions do not survive a restart;
//! - `SESSION_COOKIE_NAME`: the cookie name (default `__Host-session`, or
//!   `session` with `SESSION_ALLOW_PLAIN_HTTP=1`, since a `__Host-` cookie
//!   must be `Secure`);
//! - `SESSION_ALLOW_PLAIN_HTTP=1`: cookies without `Secure`, for HTTP clients
//!   other than browsers over plain http (browsers already accept `Secure`
//!   cookies from `http://localhost` and `http://127.0.0.1`);
//! - `SESSION_IDLE_TIMEOUT_SECS`: log out sessions idle for this long
//!   (default 604800, a week; `0` for no idle timeout). The app keeps
//!   visitors logged in for up to 7 days, 30 with "remember me", as long as
//!   they come back within the idle timeout; the crate's own defaults are
//!   stricter (12 hours, 30 minutes idle).
//! - `SESSION_MAX_CHUNKS`: let a session too large for one cookie spread
//!   over up to this many cookies `NAME.0`, `NAME.1`, … (default 1: one
//!   cookie, no chunking; at most 32);
//! - `SESSION_HEADER_BUDGET`: with `SESSION_MAX_CHUNKS` above 1, the most
//!   bytes all chunk cookies may take together, names plus values (default
//!   8000, under the 8 KB request header limit of many proxies; at least the
//!   4096-byte cookie size limit).
//!
//! - `SESSION_BENCH_BYPASS=1`: for `benches/load.rs` only. Every route runs
//!   on a fixed session value held in memory: no cookie is read, nothing is
//!   sealed or written. The same routes with and without the session show
//!   what the session costs the server.
//!
//! Routes: `GET /` (visit counter), `POST /login`, `POST /logout`, `GET /cart`,
//! `POST /cart/add`, `GET /big?bytes=N`, and `GET /health`, which answers
//! `ok` without touching the session.
//!
//! On start it prints one line to stdout, `listening on http://127.0.0.1:PORT`
//! with the real port. Requests and rejected cookies are logged to stderr (the
//! error code, never the cookie).
//!
//! The forms carry no CSRF token: the cookie is `SameSite=Lax`, which browsers
//! do not send with cross-site form posts. An app that must also protect
//! older browsers, or uses `SameSite=None`, stores a random token in the
//! session and checks it on every form post.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use sealed_session::{Codec, ConfigError, Error, Keyring, Session, SessionConfig};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

/// Everything the app remembers about a visitor. postcard encodes the fields
/// by position, without names: after a change to this struct, cookies
/// sealed with the old layout fail with `Error::Deserialize` and those
/// visitors start a new session.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AppSession {
    /// The logged-in user's name, if any.
    user: Option<String>,
    /// How many times the home page was shown in this session.
    visits: u64,
    /// The SKUs in the shopping cart, in the order they were added.
    cart: Vec<String>,
    /// Filler set by `/big`, to watch the cookie size limit at work.
    blob: String,
}

/// "Remember me" sessions last 30 days instead of the default 7.
const REMEMBER_ME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The lifetime of a session without "remember me".
const LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The default idle timeout (`SESSION_IDLE_TIMEOUT_SECS`).
const IDLE_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Request bodies (the forms) are read up to this size; larger ones get 413.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// `/big?bytes=N` refuses larger N before allocating anything: no session
/// comes close to it anyway.
const MAX_BIG_BYTES: usize = 1_000_000;

/// The response type of every handler.
type Reply = Response<Full<Bytes>>;

/// The value every request gets with `SESSION_BENCH_BYPASS=1`: the shape of
/// the sessions the load benchmark's users carry.
fn bypass_session() -> AppSession {
    AppSession {
        user: Some("user-17".to_owned()),
        visits: 200,
        cart: vec!["SKU-17".to_owned()],
        blob: String::new(),
    }
}

/// Whether `SESSION_BENCH_BYPASS=1` is set (read once).
fn bypass() -> bool {
    static BYPASS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *BYPASS.get_or_init(|| std::env::var("SESSION_BENCH_BYPASS").is_ok_and(|v| v == "1"))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the configuration, binds the port and serves connections forever.
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = config_from_env()?;
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .parse::<u16>()
            .map_err(|_| format!("PORT must be a port number, got {port:?}"))?,
        Err(_) => 3000,
    };
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    // The real port, also when PORT=0 let the system pick one. Tests read
    // this line, so it is the only thing written to stdout.
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;

    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait a little
                // rather than spin.
                eprintln!("accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let config = config.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(config.clone(), request));
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await;
            // A keep-alive connection left idle past the header timeout is
            // closed on purpose (browsers leave them open): not worth a line.
            if let Err(error) = served
                && !error.is_timeout()
            {
                eprintln!("connection from {peer}: {error}");
            }
        });
    }
}

/// Builds the session configuration from the environment (see the module
/// documentation).
fn config_from_env() -> Result<SessionConfig, Box<dyn std::error::Error>> {
    let keyring = match Keyring::from_env("SESSION_SECRETS") {
        Ok(keyring) => keyring,
        Err(ConfigError::MissingEnvVar { .. }) => {
            eprintln!(
                "WARNING: SESSION_SECRETS is not set.\n\
                 WARNING: Using a secret generated for this process only: every session\n\
                 WARNING: (every login, every cart) is lost when the server restarts, and\n\
                 WARNING: other instances cannot read this one's cookies.\n\
                 WARNING: For anything but a quick try, set SESSION_SECRETS to one or more\n\
                 WARNING: secrets of 32+ bytes, newest first, e.g. from Keyring::generate_secret()."
            );
            Keyring::new([Keyring::generate_secret()?.as_str()])?
        }
        // The error names the variable and which secret is wrong, never a
        // secret itself.
        Err(error) => return Err(format!("SESSION_SECRETS: {error}").into()),
    };

    let plain_http = std::env::var("SESSION_ALLOW_PLAIN_HTTP").is_ok_and(|v| v == "1");
    let mut codec = Codec::builder(keyring)
        .lifetime(LIFETIME)
        .max_lifetime(REMEMBER_ME)
        .idle_timeout(IDLE_TIMEOUT);
    match std::env::var("SESSION_COOKIE_NAME") {
        Ok(name) => codec = codec.cookie_name(name),
        // The default `__Host-session` must be Secure.
        Err(_) if plain_http => codec = codec.cookie_name("session"),
        Err(_) => {}
    }
    if let Ok(secs) = std::env::var("SESSION_IDLE_TIMEOUT_SECS") {
        let secs = secs.parse::<u64>().map_err(|_| {
            format!("SESSION_IDLE_TIMEOUT_SECS must be a whole number of seconds, got {secs:?}")
        })?;
        codec = codec.idle_timeout((secs > 0).then(|| Duration::from_secs(secs)));
    }
    let codec = codec.build()?;

    let mut config = SessionConfig::builder(codec);
    if plain_http {
        eprintln!("note: SESSION_ALLOW_PLAIN_HTTP=1, the session cookie is sent without Secure");
        config = config.dangerous_allow_plain_http();
    }
    if let Ok(chunks) = std::env::var("SESSION_MAX_CHUNKS") {
        let chunks = chunks.parse::<usize>().map_err(|_| {
            format!("SESSION_MAX_CHUNKS must be a whole number of cookies, got {chunks:?}")
        })?;
        config = config.max_chunks(chunks);
    }
    if let Ok(bytes) = std::env::var("SESSION_HEADER_BUDGET") {
        let bytes = bytes.parse::<usize>().map_err(|_| {
            format!("SESSION_HEADER_BUDGET must be a whole number of bytes, got {bytes:?}")
        })?;
        config = config.header_budget(bytes);
    }
    let config = config
        .build()
        .map_err(|error| format!("session configuration: {error}"))?;
    if config.max_chunks() > 1 {
        eprintln!(
            "note: SESSION_MAX_CHUNKS={}, a large session spreads over up to that many \
             cookies, {} bytes at most together (SESSION_HEADER_BUDGET)",
            config.max_chunks(),
            config.header_budget()
        );
    }
    Ok(config)
}

/// The session wrapper around every route: load the session from the
/// request, let the route handle it, write the session into the response.
async fn handle(config: SessionConfig, request: Request<Incoming>) -> Result<Reply, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();

    // `GET /health` is answered before the session is loaded: no cookie is
    // read or written, so it measures the app without the session (see
    // `benches/load.rs`). Logged like every other request.
    if method == Method::GET && path == "/health" {
        eprintln!("{method} {path} -> 200 (no session)");
        return Ok(text(StatusCode::OK, "ok\n".to_owned()));
    }

    if bypass() {
        // The routes on a session that needs no cookie: no load, no write,
        // and the same log line's work as below.
        let session = config.load::<AppSession>(&hyper::HeaderMap::new());
        session.insert(bypass_session());
        let response = route(&session, request).await;
        let written = "bypassed".to_owned();
        eprintln!(
            "{method} {path} -> {} (session cookie: {written})",
            response.status().as_u16()
        );
        return Ok(response);
    }

    // 1. Load. A cookie that does not open (expired, retired secret,
    //    tampered) is an empty session; log why, never the value.
    let session = config.load::<AppSession>(request.headers());
    if let Some(error) = session.rejection() {
        let tampering = if error.is_possible_tampering() {
            " (possible tampering)"
        } else {
            ""
        };
        eprintln!(
            "{method} {path}: session cookie rejected: {}{tampering}; starting a new session",
            error.code()
        );
    }

    // 2. Route.
    let mut response = route(&session, request).await;

    // 3. Write. On error nothing is added, so the browser keeps the cookie
    //    it has and no earlier state is lost; the response goes out anyway.
    let written = match session.write(response.headers_mut()) {
        Ok(written) => format!("{written:?}"),
        Err(error) => {
            eprintln!("{method} {path}: session not saved: {error}");
            "not saved".to_owned()
        }
    };
    eprintln!(
        "{method} {path} -> {} (session cookie: {written})",
        response.status().as_u16()
    );
    Ok(response)
}

/// Picks the handler for the method and path. Form bodies are read here, so
/// the handlers are plain functions.
async fn route(session: &Session<AppSession>, request: Request<Incoming>) -> Reply {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    match (method, path.as_str()) {
        (Method::GET, "/") => home(session),
        (Method::GET, "/cart") => cart(session),
        (Method::GET, "/big") => big(session, query.as_deref()),
        (Method::POST, "/login") => match read_form(request.into_body()).await {
            Ok(form) => login(session, &form),
            Err(reply) => reply,
        },
        (Method::POST, "/logout") => logout(session),
        (Method::POST, "/cart/add") => match read_form(request.into_body()).await {
            Ok(form) => add_to_cart(session, &form),
            Err(reply) => reply,
        },
        _ => text(StatusCode::NOT_FOUND, "not found\n".to_owned()),
    }
}

// ---------------------------------------------------------------------------
// Handlers

/// `GET /`: counts the visit and shows who is logged in and how large the
/// `/big` filler is, with the forms.
fn home(session: &Session<AppSession>) -> Reply {
    let (user, visits, blob) = session.update_or_default(|s| {
        s.visits = s.visits.saturating_add(1);
        (s.user.clone(), s.visits, s.blob.len())
    });
    let user = match user {
        Some(name) => format!("Logged in as {}", escape(&name)),
        None => "Not logged in".to_owned(),
    };
    page(
        StatusCode::OK,
        "Home",
        &format!(
            r#"<p id="user">{user}</p>
<p id="visits">Visits: {visits}</p>
<p id="blob">Filler: {blob} bytes</p>
<form id="login" method="post" action="/login">
  <label>Name <input name="user" autocomplete="username"></label>
  <label><input type="checkbox" name="remember" value="on"> Remember me for 30 days</label>
  <button type="submit">Log in</button>
</form>
<form id="logout" method="post" action="/logout">
  <button type="submit">Log out</button>
</form>
<form id="add" method="post" action="/cart/add">
  <label>SKU <input name="sku"></label>
  <button type="submit">Add to cart</button>
</form>
<p><a href="/cart">Cart</a></p>"#
        ),
    )
}

/// `POST /login`: sets the user, then gives the session a fresh id.
fn login(session: &Session<AppSession>, form: &[(String, String)]) -> Reply {
    let Some(user) = field(form, "user").map(str::trim).filter(|u| !u.is_empty()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "a user name is required\n".to_owned(),
        );
    };
    let remember = field(form, "remember") == Some("on");
    // A fresh id and creation time after login, so that a session id planted
    // before the login is worthless after it (session fixation), and the
    // session's own lifetime: both before `try_update`, whose size check
    // then covers the envelope that is sent.
    session.regenerate();
    if remember {
        session.set_lifetime(REMEMBER_ME);
    }
    // `try_update` checks that the session still fits in a cookie and
    // leaves the value unchanged when it does not.
    if let Err(error) = session.try_update(|s| s.user = Some(user.to_owned())) {
        return not_stored(&error);
    }
    redirect("/")
}

/// `POST /logout`: drops the whole session; the response removes the cookie.
fn logout(session: &Session<AppSession>) -> Reply {
    session.destroy();
    redirect("/")
}

/// `POST /cart/add`: appends a SKU to the cart.
fn add_to_cart(session: &Session<AppSession>, form: &[(String, String)]) -> Reply {
    let Some(sku) = field(form, "sku").map(str::trim).filter(|s| !s.is_empty()) else {
        return text(StatusCode::BAD_REQUEST, "a SKU is required\n".to_owned());
    };
    match session.try_update(|s| s.cart.push(sku.to_owned())) {
        Ok(()) => redirect("/cart"),
        Err(error) => not_stored(&error),
    }
}

/// `GET /cart`: lists the cart. Reads only, so the response carries no
/// `Set-Cookie` (unless the cookie must be re-sealed or removed).
fn cart(session: &Session<AppSession>) -> Reply {
    let (list, count) = session.with(|s| {
        let cart = s.map_or(&[][..], |s| s.cart.as_slice());
        let mut list = String::new();
        for sku in cart {
            // Writing to a String cannot fail.
            let _ = writeln!(list, "  <li class=\"item\">{}</li>", escape(sku));
        }
        (list, cart.len())
    });
    page(
        StatusCode::OK,
        "Cart",
        &format!(
            "<ul id=\"cart\">\n{list}</ul>\n<p id=\"count\">{count} items</p>\n<p><a href=\"/\">Home</a></p>"
        ),
    )
}

/// `GET /big?bytes=N`: stores N bytes in the session if the cookie can hold
/// them, and says so plainly if it cannot.
fn big(session: &Session<AppSession>, query: Option<&str>) -> Reply {
    let bytes = query
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(key, _)| key == "bytes"))
        .and_then(|(_, value)| value.parse::<usize>().ok());
    let Some(bytes) = bytes.filter(|&n| n <= MAX_BIG_BYTES) else {
        return text(
            StatusCode::BAD_REQUEST,
            format!("usage: /big?bytes=N with N a whole number from 0 to {MAX_BIG_BYTES}\n"),
        );
    };
    match session.try_update(|s| s.blob = "x".repeat(bytes)) {
        Ok(()) => text(StatusCode::OK, format!("stored {bytes} bytes\n")),
        Err(error) => not_stored(&error),
    }
}

// ---------------------------------------------------------------------------
// Helpers

/// The answer when a change was refused by `try_update`. The session is
/// unchanged, so the response either carries no `Set-Cookie` or one for the
/// previous state.
fn not_stored(error: &Error) -> Reply {
    match error {
        Error::TooLarge { size, limit } => text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Not stored: with this change the session cookie would be {size} bytes, \
                 over the limit of {limit} bytes (the cookie size limit, or with \
                 SESSION_MAX_CHUNKS the header budget). Nothing was changed; your \
                 session is as it was.\n"
            ),
        ),
        other => {
            eprintln!("session change failed: {other}");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the session could not be saved; nothing was changed\n".to_owned(),
            )
        }
    }
}

/// Reads an `application/x-www-form-urlencoded` body of at most
/// [`MAX_FORM_BYTES`] into its fields.
async fn read_form(body: Incoming) -> Result<Vec<(String, String)>, Reply> {
    match Limited::new(body, MAX_FORM_BYTES).collect().await {
        Ok(collected) => Ok(form_urlencoded::parse(&collected.to_bytes())
            .into_owned()
            .collect()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the form is larger than {MAX_FORM_BYTES} bytes\n"),
        )),
        Err(_) => Err(text(
            StatusCode::BAD_REQUEST,
            "the request body could not be read\n".to_owned(),
        )),
    }
}

/// The first value of the form field `name`.
fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML page around `body` (already escaped).
fn page(status: StatusCode, title: &str, body: &str) -> Reply {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    );
    reply(status, "text/html; charset=utf-8", html)
}

/// A plain-text response.
fn text(status: StatusCode, message: String) -> Reply {
    reply(status, "text/plain; charset=utf-8", message)
}

/// `303 See Other` to `location`: after a form post the browser loads the
/// target with GET, so reloading it does not post the form again.
fn redirect(location: &'static str) -> Reply {
    let mut response = reply(
        StatusCode::SEE_OTHER,
        "text/plain; charset=utf-8",
        String::new(),
    );
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    response
}

/// A response with a body and the headers every response here carries.
/// `Cache-Control: no-store` keeps shared caches from storing a page (or a
/// `Set-Cookie`) meant for one visitor.
fn reply(status: StatusCode, content_type: &'static str, body: String) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
