//! Sessions in a serverless function: no server, no async, no framework.
//!
//! A function platform hands the code one request and takes one response.
//! [`handler`] has that shape, `fn(&SessionConfig, http::Request<String>) ->
//! http::Response<String>`, and uses the crate's framework-free helper:
//! `config.load` on the request headers, then `session.write` on the response
//! headers. Because the whole session lives in the cookie, any instance that
//! shares the secrets serves any request, and nothing needs to be stored.
//!
//! `main` plays the platform and the browser in-process: a first visit (the
//! response sets the cookie), a second one that sends the cookie back (the
//! session is seen), a login, a logout (the cookie is removed) and a forged
//! cookie (rejected, fresh session). Run it with
//! `cargo run --example lambda_style`.

use cookie::Cookie;
use http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use sealed_session::{Codec, Keyring, SessionConfig};
use serde::{Deserialize, Serialize};

/// What the function remembers about a visitor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Visitor {
    /// The logged-in user, if any.
    user: Option<String>,
    /// How many times `GET /` was served in this session.
    visits: u64,
}

/// The function: one request in, one response out.
///
/// Routes: `GET /` counts the visit and greets the visitor; `POST /login`
/// with a form body `user=NAME` logs in; `POST /logout` logs out.
fn handler(config: &SessionConfig, request: Request<String>) -> Response<String> {
    // 1. Load the session from the Cookie headers. Never fails: no cookie,
    //    or one that does not open, is an empty session.
    let session = config.load::<Visitor>(request.headers());
    if let Some(error) = session.rejection() {
        // The stable error code, never the cookie value.
        eprintln!("  [function] ignored session cookie: {}", error.code());
    }

    // 2. Handle the request.
    let mut response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => {
            let (user, visits) = session.update_or_default(|v| {
                v.visits = v.visits.saturating_add(1);
                (v.user.clone(), v.visits)
            });
            let who = user.as_deref().unwrap_or("stranger");
            plain(StatusCode::OK, format!("hello {who}, visit {visits}"))
        }
        (&Method::POST, "/login") => {
            let user = form_urlencoded::parse(request.body().as_bytes())
                .find(|(key, _)| key == "user")
                .map(|(_, value)| value.trim().to_owned())
                .filter(|user| !user.is_empty());
            match user {
                Some(user) => {
                    session.update_or_default(|v| v.user = Some(user));
                    // New id after login (session fixation).
                    session.regenerate();
                    see_other("/")
                }
                None => plain(StatusCode::BAD_REQUEST, "a user is required".to_owned()),
            }
        }
        (&Method::POST, "/logout") => {
            session.destroy();
            see_other("/")
        }
        _ => plain(StatusCode::NOT_FOUND, "not found".to_owned()),
    };

    // 3. Write the Set-Cookie the response needs, if any. On error nothing
    //    is written (the browser keeps its previous cookie); log it and
    //    answer anyway.
    if let Err(error) = session.write(response.headers_mut()) {
        eprintln!("  [function] session not saved: {error}");
    }
    response
}

/// A plain-text response.
fn plain(status: StatusCode, body: String) -> Response<String> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A `303 See Other` to `location`.
fn see_other(location: &'static str) -> Response<String> {
    let mut response = plain(StatusCode::SEE_OTHER, String::new());
    response
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_static(location));
    response
}

/// The browser's side: the one cookie it keeps for this site.
#[derive(Default)]
struct Browser {
    /// `name=value` as the browser sends it back, if it has a cookie.
    cookie: Option<String>,
}

impl Browser {
    /// Sends a request through the function, applies the `Set-Cookie`
    /// headers of the response as a browser would, and prints both.
    fn send(
        &mut self,
        config: &SessionConfig,
        method: Method,
        path: &str,
        body: &str,
    ) -> Result<Response<String>, Box<dyn std::error::Error>> {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .body(body.to_owned())?;
        if let Some(cookie) = &self.cookie {
            request
                .headers_mut()
                .insert(COOKIE, HeaderValue::try_from(cookie.as_str())?);
        }
        println!(
            "{method} {path}{}",
            if self.cookie.is_some() {
                "  (with a session cookie)"
            } else {
                "  (no cookie)"
            }
        );

        let response = handler(config, request);

        println!("  -> {} {:?}", response.status().as_u16(), response.body());
        for header in response.headers().get_all(SET_COOKIE) {
            let cookie = Cookie::parse(header.to_str()?)?;
            let max_age = cookie.max_age().map_or(0, |age| age.whole_seconds());
            if cookie.value().is_empty() || max_age <= 0 {
                println!("  -> Set-Cookie removes `{}`", cookie.name());
                self.cookie = None;
            } else {
                // The value is opaque (encrypted); print its size, not it.
                println!(
                    "  -> Set-Cookie `{}`: {} bytes, Max-Age {} s, HttpOnly {}, Secure {}, SameSite {}",
                    cookie.name(),
                    cookie.value().len(),
                    max_age,
                    cookie.http_only().unwrap_or(false),
                    cookie.secure().unwrap_or(false),
                    cookie
                        .same_site()
                        .map_or_else(|| "unset".to_owned(), |s| s.to_string()),
                );
                self.cookie = Some(format!("{}={}", cookie.name(), cookie.value()));
            }
        }
        Ok(response)
    }
}

/// Turns an unexpected outcome into an error (and a non-zero exit code)
/// rather than a panic.
fn expect(condition: bool, what: &str) -> Result<(), Box<dyn std::error::Error>> {
    if condition {
        Ok(())
    } else {
        Err(format!("unexpected: {what}").into())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Cold start: build the configuration once and reuse it for every
    // invocation. In production the secrets come from the function's
    // environment: `Keyring::from_env("SESSION_SECRETS")`.
    let secret = Keyring::generate_secret()?;
    let config = SessionConfig::new(Codec::new(Keyring::new([secret.as_str()])?));
    let mut browser = Browser::default();

    println!("1. First visit: the response sets the session cookie.");
    let response = browser.send(&config, Method::GET, "/", "")?;
    expect(response.body() == "hello stranger, visit 1", "first visit")?;
    expect(browser.cookie.is_some(), "no cookie after the first visit")?;

    println!("\n2. Second visit, another invocation: the cookie carries the session.");
    let response = browser.send(&config, Method::GET, "/", "")?;
    expect(response.body() == "hello stranger, visit 2", "second visit")?;

    println!("\n3. Log in: the session gets a fresh id and remembers the user.");
    let before = browser.cookie.clone();
    browser.send(&config, Method::POST, "/login", "user=ada")?;
    expect(
        browser.cookie != before,
        "login did not re-issue the cookie",
    )?;
    let response = browser.send(&config, Method::GET, "/", "")?;
    expect(response.body() == "hello ada, visit 3", "visit after login")?;

    println!("\n4. A forged cookie is rejected, never trusted: a fresh session.");
    let mut forger = Browser {
        cookie: Some(format!("{}=AQFmb3JnZWQ", config.codec().cookie_name())),
    };
    let response = forger.send(&config, Method::GET, "/", "")?;
    expect(
        response.body() == "hello stranger, visit 1",
        "forged cookie",
    )?;

    println!("\n5. Log out: the response removes the cookie.");
    browser.send(&config, Method::POST, "/logout", "")?;
    expect(browser.cookie.is_none(), "cookie kept after logout")?;
    let response = browser.send(&config, Method::GET, "/", "")?;
    expect(
        response.body() == "hello stranger, visit 1",
        "visit after logout",
    )?;

    println!("\nDone: every invocation started from nothing but the request.");
    Ok(())
}
