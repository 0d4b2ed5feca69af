//! End to end in a real browser: `examples/app.rs` clicked through in
//! headless Chromium, driven through chromedriver's W3C WebDriver HTTP API.
//!
//! The app runs as a child process with `PORT=0` and
//! `SESSION_COOKIE_NAME=__Host-session`, with `Secure` left on: browsers keep
//! `Secure` (and `__Host-`) cookies from `http://localhost`, which they treat
//! as a secure context, so the browser is pointed at `localhost` and not at
//! `127.0.0.1`. The test checks what only a browser can show: that Chromium
//! accepts the cookie the crate writes (the `__Host-` prefix rules included),
//! sends it back, hides it from JavaScript, honours `Max-Age`, and drops it
//! on logout; and, with chunking on, that it stores a session of about
//! 10 KB as three chunk cookies, sends them all back, drops a leftover plain
//! cookie on the removal alone, keeps a cookie named like chunk 64, and
//! holds no stale chunk after the session shrinks.
//!
//! # Needs Chromium; never silently skipped in CI
//!
//! The test needs Debian's `chromium` and `chromium-driver` packages (the
//! `chromium` and `chromedriver` programs, looked up on `PATH` and in
//! `/usr/bin`): `sudo apt-get install chromium chromium-driver`.
//! What happens when they are missing depends on `SEALED_SESSION_BROWSER_TESTS`:
//!
//! - `require`: the test FAILS. `.ci/run` installs both packages and sets
//!   this, so CI can never pass without having run the browser.
//! - unset or empty: the test prints a loud notice to stderr (past the test
//!   harness's output capture) saying how to install them and how CI runs the
//!   test, and returns without checking anything, so that `cargo test` works
//!   on a machine without a browser.
//! - anything else: the test fails, so that a misspelt `require` cannot turn
//!   into a silent skip.
//!
//! The app binary is the one cargo reports after
//! `cargo build --example app` with the profile and feature set this test
//! was built with (`tests/support/app.rs`, shared with the other tests of
//! the app), a no-op when the binary is up to date (as after `cargo test`),
//! so that `cargo test --test browser` never runs a stale or missing app.
//!
//! The WebDriver client is the few endpoints of the W3C spec that the test
//! needs, spoken directly with `reqwest::blocking` and `serde_json`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

#[path = "support/app.rs"]
mod app;

/// Set to `require` (as `.ci/run` does) to make a missing browser a failure.
const POLICY_VAR: &str = "SEALED_SESSION_BROWSER_TESTS";

/// The session cookie's name, as passed to the app.
const COOKIE: &str = "__Host-session";

/// The key of a web element reference in W3C WebDriver JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long to wait for a page to show what the test expects.
const PAGE_TIMEOUT: Duration = Duration::from_secs(15);

/// How long to wait for a child process (app, chromedriver) to come up.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The app's "remember me" lifetime (the contract of `examples/app.rs`).
const IDLE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Browsers keep no cookie longer than this.
const MAX_BROWSER_LIFETIME: Duration = Duration::from_secs(400 * 24 * 60 * 60);

#[test]
fn login_cart_logout_in_headless_chromium() {
    let Some(tools) = browser_tools() else {
        return;
    };
    let app = App::start();
    let browser = Browser::start(&tools);
    let home = format!("http://localhost:{}/", app.port);
    let mut seen_cookies = Vec::new();

    // First visit: a fresh profile has no cookie, so a new anonymous session.
    browser.goto(&home);
    browser.wait_for_text("#user", "Not logged in");
    assert_eq!(
        visits(&browser),
        1,
        "first visit of a fresh browser profile"
    );
    let anonymous = session_cookie(&browser).expect("an anonymous visit stores a session cookie");
    assert_cookie_attributes(&anonymous);
    seen_cookies.push(cookie_value(&anonymous));
    // The browser sends the anonymous session back: the count goes on.
    browser.refresh();
    assert_eq!(
        visits(&browser),
        2,
        "the reload carried the anonymous session"
    );

    // Log in through the form. The name needs HTML escaping: unescaped, the
    // `<b>` would render as markup and the text below would not match.
    let name = r#"Ada "<b>Lovelace</b>" & Co"#;
    let input = browser.element("#login input[name=user]");
    browser.send_keys(&input, name);
    browser.click(&browser.element("#login button[type=submit]"));
    browser.wait_for_text("#user", &format!("Logged in as {name}"));
    assert!(
        browser.current_url().starts_with(&home),
        "login redirects to /, got {}",
        browser.current_url()
    );
    let logged_in = session_cookie(&browser).expect("the session cookie after login");
    assert_cookie_attributes(&logged_in);
    let logged_in_value = cookie_value(&logged_in);
    assert_ne!(
        logged_in_value, seen_cookies[0],
        "login writes a new cookie"
    );
    seen_cookies.push(logged_in_value.clone());
    let expiry = cookie_expiry(&logged_in);
    assert!(
        expiry > SystemTime::now() && expiry <= SystemTime::now() + MAX_BROWSER_LIFETIME,
        "the session cookie expires in the future, within 400 days: {logged_in}"
    );
    // HttpOnly: invisible to the page's scripts.
    let script_cookies = browser.execute("return document.cookie;", json!([]));
    let script_cookies = script_cookies
        .as_str()
        .expect("document.cookie is a string");
    assert!(
        !script_cookies.contains(COOKIE),
        "document.cookie shows the HttpOnly session cookie: {script_cookies:?}"
    );

    // Every load of / counts, exactly once, in the logged-in session.
    let before = visits(&browser);
    for load in 1..=2 {
        browser.refresh();
        browser.wait_for_text("#user", &format!("Logged in as {name}"));
        assert_eq!(
            visits(&browser),
            before + load,
            "visits after {load} reload(s)"
        );
    }

    // Two items into the cart through the form; the second needs escaping.
    let skus = ["apple-42", r#"<i>pear</i> & "fig""#];
    for (added, sku) in skus.iter().enumerate() {
        browser.goto(&home);
        browser.wait_for_text("#user", &format!("Logged in as {name}"));
        let input = browser.element("#add input[name=sku]");
        browser.send_keys(&input, sku);
        browser.click(&browser.element("#add button, #add input[type=submit]"));
        browser.wait_until("the cart page after adding an item", || {
            browser.current_url() == format!("{home}cart")
                && browser
                    .text_of("#count")
                    .is_some_and(|t| count(&t) == added + 1)
        });
    }
    seen_cookies.extend(session_cookie(&browser).map(|c| cookie_value(&c)));
    browser.goto(&format!("{home}cart"));
    assert_eq!(
        cart_items(&browser),
        skus,
        "the cart lists both items, in order"
    );
    assert_eq!(count(&browser.text_of("#count").expect("#count")), 2);

    // Log out through the form: the next page starts a new anonymous session.
    browser.goto(&home);
    browser.wait_for_text("#user", &format!("Logged in as {name}"));
    browser.click(&browser.element("#logout button, #logout input[type=submit]"));
    browser.wait_for_text("#user", "Not logged in");
    assert_eq!(
        visits(&browser),
        1,
        "the page after logout counts from zero: the browser no longer sent the old session"
    );
    let after_logout = session_cookie(&browser).expect("the new anonymous session's cookie");
    assert_cookie_attributes(&after_logout);
    assert!(
        !seen_cookies.contains(&cookie_value(&after_logout)),
        "the cookie after logout is a new one"
    );
    seen_cookies.push(cookie_value(&after_logout));
    // One more reload: still logged out, and the cart is gone.
    browser.refresh();
    browser.wait_for_text("#user", "Not logged in");
    assert_eq!(visits(&browser), 2, "the reload after logout");
    browser.goto(&format!("{home}cart"));
    assert_eq!(
        cart_items(&browser),
        Vec::<String>::new(),
        "logout empties the cart"
    );
    assert_eq!(count(&browser.text_of("#count").expect("#count")), 0);

    // "Remember me": the session lives 30 days (tests/e2e.rs opens it); the
    // cookie's Max-Age is the earlier of that and the app's 7-day idle
    // timeout.
    browser.goto(&home);
    browser.wait_for_text("#user", "Not logged in");
    let input = browser.element("#login input[name=user]");
    browser.send_keys(&input, "Grace");
    browser.click(&browser.element("#login input[name=remember]"));
    let login_time = SystemTime::now();
    browser.click(&browser.element("#login button[type=submit]"));
    browser.wait_for_text("#user", "Logged in as Grace");
    let remembered = session_cookie(&browser).expect("the session cookie after remember-me login");
    assert_cookie_attributes(&remembered);
    seen_cookies.push(cookie_value(&remembered));
    let expiry = cookie_expiry(&remembered);
    let expected = login_time + IDLE;
    let slack = Duration::from_secs(10 * 60);
    assert!(
        expiry > expected - slack && expiry < expected + slack,
        "a remember-me cookie expires with the 7-day idle window: {remembered}"
    );

    // Log out once more, this time not following the redirect, to see the
    // browser drop the cookie on the logout response itself (the page the
    // redirect leads to would store a new anonymous session at once). This
    // also shows that the removal cookie meets the `__Host-` rules, or the
    // browser would have ignored it.
    log_out_without_following_the_redirect(&browser);
    assert_eq!(
        session_cookie(&browser),
        None,
        "the browser dropped the session cookie on logout"
    );
    browser.refresh();
    browser.wait_for_text("#user", "Not logged in");
    assert_eq!(
        visits(&browser),
        1,
        "after logout the browser sends no session"
    );

    drop(browser);
    let log = app.stop();
    for value in &seen_cookies {
        assert!(
            !log.contains(value.as_str()),
            "the app's log contains a session cookie value"
        );
    }
}

/// Issue 6 in a real browser: with chunking on (`SESSION_MAX_CHUNKS=4`) and
/// the header budget raised for the test (`SESSION_HEADER_BUDGET=16000`), a
/// session of about 10 KB is stored by Chromium as three chunk cookies,
/// survives round trips, and every move between one cookie and chunks
/// leaves the browser holding exactly the cookies of the last write.
#[test]
fn chunked_session_in_headless_chromium() {
    let Some(tools) = browser_tools() else {
        return;
    };
    let app = App::start_with(&[
        ("SESSION_MAX_CHUNKS", "4"),
        ("SESSION_HEADER_BUDGET", "16000"),
    ]);
    let browser = Browser::start(&tools);
    let home = format!("http://localhost:{}/", app.port);
    let mut seen_cookies = Vec::new();
    let chunk = |k: usize| format!("{COOKIE}.{k}");

    browser.goto(&home);
    browser.wait_for_text("#user", "Not logged in");
    let input = browser.element("#login input[name=user]");
    browser.send_keys(&input, "Chunky");
    browser.click(&browser.element("#login button[type=submit]"));
    browser.wait_for_text("#user", "Logged in as Chunky");
    let mut expected_visits = visits(&browser);
    assert_eq!(filler(&browser), 0);
    let jar = session_cookies(&browser);
    assert_eq!(names(&jar), [COOKIE], "one plain cookie before growing");
    seen_cookies.push(cookie_value(&jar[0]));

    // About 10 KB of session: three chunks, the plain cookie removed.
    store_filler(&browser, &home, 7400);
    let jar = session_cookies(&browser);
    assert_eq!(
        names(&jar),
        [chunk(0), chunk(1), chunk(2)],
        "three chunks and no plain cookie"
    );
    let mut total = 0;
    for (index, cookie) in jar.iter().enumerate() {
        assert_cookie_attributes(cookie);
        let value = cookie_value(cookie);
        let size = chunk(index).len() + value.len();
        assert!(size <= 4096, "a chunk over the cookie limit: {size} bytes");
        if index < 2 {
            assert_eq!(size, 4096, "chunk {index} is filled up to the limit");
        }
        total += size;
        seen_cookies.push(value);
    }
    assert!(
        (9_800..=16_000).contains(&total),
        "about 10 KB of cookies, within the budget: {total} bytes"
    );
    // Every chunk carries the same Max-Age (the browser may date each
    // one by its own clock reading, hence a second of slack).
    let first_expiry = cookie_expiry(&jar[0]);
    assert!(first_expiry > SystemTime::now(), "{}", jar[0]);
    for cookie in &jar {
        let expiry = cookie_expiry(cookie);
        let gap = expiry
            .duration_since(first_expiry)
            .unwrap_or_else(|early| early.duration());
        assert!(
            gap <= Duration::from_secs(1),
            "every chunk expires together: {cookie}"
        );
    }

    // The browser sends all three back (a Cookie header of about 10 KB):
    // the session, filler included, survives two round trips.
    for _ in 0..2 {
        browser.goto(&home);
        browser.wait_for_text("#user", "Logged in as Chunky");
        expected_visits += 1;
        assert_eq!(visits(&browser), expected_visits);
        assert_eq!(filler(&browser), 7400);
        let jar = session_cookies(&browser);
        assert_eq!(names(&jar), [chunk(0), chunk(1), chunk(2)]);
        seen_cookies.extend(jar.iter().map(cookie_value));
    }

    // Two cookies the app did not set, next to the three chunks: a plain
    // `__Host-session` that does not open (as if left by another
    // deployment) and `__Host-session.64`, which is not a chunk name. Set
    // from script, so not HttpOnly.
    let before: Vec<String> = session_cookies(&browser).iter().map(cookie_value).collect();
    browser.execute(
        "document.cookie = arguments[0] + '=forged; Path=/; Secure; SameSite=Lax';
         document.cookie = arguments[0] + '.64=other; Path=/; Secure; SameSite=Lax';",
        json!([COOKIE]),
    );
    assert_eq!(
        names(&session_cookies(&browser)),
        [COOKIE.to_owned(), chunk(0), chunk(1), chunk(2), chunk(64)],
        "the browser took both"
    );
    // A read-only page: the chunks open, the response removes the plain
    // cookie alone (`LeftoversRemoved`), and the chunks are not sealed again. Twice,
    // as if the plain cookie came back in between.
    for round in 0..2 {
        if round == 1 {
            browser.execute(
                "document.cookie = arguments[0] + '=forged; Path=/; Secure; SameSite=Lax';",
                json!([COOKIE]),
            );
            assert_eq!(names(&session_cookies(&browser))[0], COOKIE);
        }
        browser.goto(&format!("{home}cart"));
        browser.wait_until("the cart page", || {
            browser.text_of("#count").is_some_and(|t| count(&t) == 0)
        });
        let jar = session_cookies(&browser);
        assert_eq!(
            names(&jar),
            [chunk(0), chunk(1), chunk(2), chunk(64)],
            "round {round}: the plain cookie removed, the others kept"
        );
        let values: Vec<String> = jar[..3].iter().map(cookie_value).collect();
        assert_eq!(
            values, before,
            "round {round}: the chunks are not re-sealed"
        );
        assert_eq!(cookie_value(&jar[3]), "other");
    }
    browser.goto(&home);
    browser.wait_for_text("#user", "Logged in as Chunky");
    expected_visits += 1;
    assert_eq!(visits(&browser), expected_visits);
    assert_eq!(filler(&browser), 7400);
    assert_eq!(
        names(&session_cookies(&browser)),
        [chunk(0), chunk(1), chunk(2), chunk(64)],
        "a re-seal removes no cookie of another name"
    );
    browser.execute(
        "document.cookie = arguments[0] + '.64=; Path=/; Secure; Max-Age=0';",
        json!([COOKIE]),
    );
    assert_eq!(
        names(&session_cookies(&browser)),
        [chunk(0), chunk(1), chunk(2)]
    );

    // Shrinking to one cookie: the browser holds the plain cookie only.
    store_filler(&browser, &home, 0);
    let jar = session_cookies(&browser);
    assert_eq!(names(&jar), [COOKIE], "no stale chunk survives");
    assert_cookie_attributes(&jar[0]);
    seen_cookies.push(cookie_value(&jar[0]));
    browser.goto(&home);
    browser.wait_for_text("#user", "Logged in as Chunky");
    expected_visits += 1;
    assert_eq!(visits(&browser), expected_visits);
    assert_eq!(filler(&browser), 0);

    // Growing again, then shrinking to two chunks: the third goes.
    store_filler(&browser, &home, 7400);
    assert_eq!(
        names(&session_cookies(&browser)),
        [chunk(0), chunk(1), chunk(2)]
    );
    store_filler(&browser, &home, 4500);
    let jar = session_cookies(&browser);
    assert_eq!(names(&jar), [chunk(0), chunk(1)], "chunk 2 removed");
    seen_cookies.extend(jar.iter().map(cookie_value));
    browser.goto(&home);
    browser.wait_for_text("#user", "Logged in as Chunky");
    expected_visits += 1;
    assert_eq!(visits(&browser), expected_visits);
    assert_eq!(filler(&browser), 4500);

    // Logging out, without following the redirect: the logout response
    // itself removes every chunk.
    log_out_without_following_the_redirect(&browser);
    assert_eq!(
        names(&session_cookies(&browser)),
        Vec::<String>::new(),
        "logout leaves no session cookie"
    );
    browser.refresh();
    browser.wait_for_text("#user", "Not logged in");
    assert_eq!(visits(&browser), 1);

    drop(browser);
    let log = app.stop();
    assert!(log.contains("SESSION_MAX_CHUNKS=4"), "{log}");
    for value in &seen_cookies {
        assert!(
            !log.contains(value.as_str()),
            "the app's log contains a session cookie value"
        );
    }
}

// ---------------------------------------------------------------------------
// Reading the app's pages and the browser's cookies.

/// The number in `<p id="visits">Visits: N</p>`.
fn visits(browser: &Browser) -> u64 {
    let text = browser.text_of("#visits").expect("the page has #visits");
    text.strip_prefix("Visits:")
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("#visits should read `Visits: N`, got {text:?}"))
}

/// The number at the start of `<p id="count">N items</p>`.
fn count(text: &str) -> usize {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("#count should read `N items`, got {text:?}"))
}

/// The texts of the `<li class="item">` entries in `<ul id="cart">`.
fn cart_items(browser: &Browser) -> Vec<String> {
    browser.element("#cart");
    browser
        .elements("#cart li.item")
        .iter()
        .map(|element| browser.text(element))
        .collect()
}

/// The number in `<p id="blob">Filler: N bytes</p>`.
fn filler(browser: &Browser) -> usize {
    let text = browser.text_of("#blob").expect("the page has #blob");
    text.strip_prefix("Filler:")
        .and_then(|rest| rest.trim().strip_suffix("bytes"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("#blob should read `Filler: N bytes`, got {text:?}"))
}

/// Posts the logout form from the page with `fetch`, without following the
/// redirect, so that the browser's cookies are the ones the logout response
/// itself left; asserts that the answer is a redirect.
fn log_out_without_following_the_redirect(browser: &Browser) {
    let outcome = browser.execute_async(
        "const done = arguments[arguments.length - 1];
         fetch('/logout', {
             method: 'POST',
             redirect: 'manual',
             credentials: 'same-origin',
             headers: {'Content-Type': 'application/x-www-form-urlencoded'},
             body: '',
         }).then(r => done({type: r.type}), e => done({error: String(e)}));",
    );
    assert_eq!(
        outcome,
        json!({"type": "opaqueredirect"}),
        "POST /logout answers with a redirect"
    );
}

/// Loads `/big?bytes=N` and waits for the app to confirm it stored them.
fn store_filler(browser: &Browser, home: &str, bytes: usize) {
    browser.goto(&format!("{home}big?bytes={bytes}"));
    let expected = format!("stored {bytes} bytes");
    browser.wait_until(&format!("the page to read {expected:?}"), || {
        browser
            .text_of("body")
            .is_some_and(|text| text.trim() == expected)
    });
}

/// The session's cookies in the browser: the plain `__Host-session` and
/// the chunks `__Host-session.k`, in that order and then by index.
fn session_cookies(browser: &Browser) -> Vec<Value> {
    let prefix = format!("{COOKIE}.");
    let mut cookies: Vec<(Option<usize>, Value)> = browser
        .cookies()
        .into_iter()
        .filter_map(|cookie| {
            let name = cookie["name"].as_str()?;
            if name == COOKIE {
                return Some((None, cookie));
            }
            let index = name.strip_prefix(&prefix)?.parse().unwrap_or(usize::MAX);
            Some((Some(index), cookie))
        })
        .collect();
    cookies.sort_by_key(|(index, _)| *index);
    cookies.into_iter().map(|(_, cookie)| cookie).collect()
}

/// The names of `cookies`.
fn names(cookies: &[Value]) -> Vec<String> {
    cookies
        .iter()
        .map(|c| c["name"].as_str().expect("a cookie name").to_owned())
        .collect()
}

/// The browser's `__Host-session` cookie for the current page, if any.
fn session_cookie(browser: &Browser) -> Option<Value> {
    let cookies = browser.cookies();
    let mut matching = cookies.into_iter().filter(|c| c["name"] == COOKIE);
    let cookie = matching.next();
    assert!(matching.next().is_none(), "more than one {COOKIE} cookie");
    cookie
}

fn cookie_value(cookie: &Value) -> String {
    let value = cookie["value"]
        .as_str()
        .expect("a cookie's value is a string");
    assert!(!value.is_empty(), "an empty session cookie: {cookie}");
    value.to_owned()
}

fn cookie_expiry(cookie: &Value) -> SystemTime {
    let secs = cookie["expiry"]
        .as_u64()
        .unwrap_or_else(|| panic!("the session cookie has a Max-Age, so an expiry: {cookie}"));
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// `Secure`, `HttpOnly`, `SameSite=Lax`, `Path=/`, host-only: as the browser
/// stored it, which for a `__Host-` cookie it does only if all of `Secure`,
/// `Path=/` and no `Domain` were there.
fn assert_cookie_attributes(cookie: &Value) {
    assert_eq!(cookie["secure"], true, "Secure: {cookie}");
    assert_eq!(cookie["httpOnly"], true, "HttpOnly: {cookie}");
    assert_eq!(cookie["sameSite"], "Lax", "SameSite=Lax: {cookie}");
    assert_eq!(cookie["path"], "/", "Path=/: {cookie}");
    // A host-only cookie is reported with the bare host; a domain cookie
    // (one set with a `Domain` attribute) with a leading dot.
    if let Some(domain) = cookie.get("domain") {
        assert_eq!(domain, "localhost", "a host-only cookie: {cookie}");
    }
}

// ---------------------------------------------------------------------------
// Finding the browser, and the skipping policy.

/// The two programs the test drives.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

/// The programs, or `None` (after a loud notice) when they are missing and
/// the policy allows it; panics when they are missing and required.
fn browser_tools() -> Option<Tools> {
    let policy = std::env::var_os(POLICY_VAR).unwrap_or_default();
    let required = match policy.to_str() {
        Some("") => false,
        Some("require") => true,
        _ => panic!("{POLICY_VAR} must be `require` or unset, not {policy:?}"),
    };
    let chromium = find_program("chromium");
    let chromedriver = find_program("chromedriver");
    if let (Some(chromium), Some(chromedriver)) = (&chromium, &chromedriver) {
        return Some(Tools {
            chromium: chromium.clone(),
            chromedriver: chromedriver.clone(),
        });
    }
    let missing: Vec<&str> = [("chromium", &chromium), ("chromedriver", &chromedriver)]
        .into_iter()
        .filter(|(_, path)| path.is_none())
        .map(|(name, _)| name)
        .collect();
    let missing = missing.join(" and ");
    if required {
        panic!(
            "{POLICY_VAR}=require, but {missing} cannot be found on PATH or in /usr/bin: \
             install Debian's `chromium` and `chromium-driver` packages"
        );
    }
    // Straight to stderr: the harness captures `eprintln!` of passing tests.
    let notice = format!(
        "\n\
         ************************************************************************\n\
         * tests/browser.rs: NOT RUN, {missing} not found.\n\
         * The real-browser test needs Debian's `chromium` and `chromium-driver`:\n\
         *     sudo apt-get install chromium chromium-driver\n\
         * CI (.ci/run) installs them and sets {POLICY_VAR}=require,\n\
         * which turns a missing browser into a failure.\n\
         ************************************************************************\n"
    );
    let _ = std::io::stderr().write_all(notice.as_bytes());
    None
}

/// `name` in a `PATH` directory, or in `/usr/bin`.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

// ---------------------------------------------------------------------------
// The app under test.

/// `examples/app` running as a child process, its stderr collected.
struct App {
    app: app::App,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl App {
    /// The app with its default settings (one cookie, no chunking).
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// The app with these `SESSION_*` variables on top of the cookie name.
    fn start_with(env: &[(&str, &str)]) -> Self {
        let binary = app::build(&app::this_build_features()).unwrap_or_else(|e| panic!("{e}"));
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        let stderr = app::Stderr::Lines(Box::new(move |line| {
            let mut log = sink.lock().expect("log lock");
            log.push_str(&line);
            log.push('\n');
        }));
        let env: Vec<(&str, &str)> = [("SESSION_COOKIE_NAME", COOKIE)]
            .into_iter()
            .chain(env.iter().copied())
            .collect();
        let app = app::App::start(&binary, &env, stderr, START_TIMEOUT).unwrap_or_else(|error| {
            panic!(
                "{error} (within {START_TIMEOUT:?}); stderr:\n{}",
                log.lock().map(|l| l.clone()).unwrap_or_default()
            )
        });
        App {
            port: app.port(),
            app,
            log,
        }
    }

    /// Everything the app wrote to stderr so far.
    fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Stops the app and returns everything it wrote to stderr.
    fn stop(mut self) -> String {
        self.app.stop();
        self.log()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.app.stop();
        if std::thread::panicking() {
            // Shown with the failure (the harness prints captured output).
            eprintln!("--- the app's stderr ---\n{}", self.log());
        }
    }
}

// ---------------------------------------------------------------------------
// A minimal W3C WebDriver client.

/// An error answer of the WebDriver server: its `error` code and `message`.
#[derive(Debug)]
struct WebDriverError {
    error: String,
    message: String,
}

/// One WebDriver request; returns the answer's `value`.
fn webdriver_request(
    http: &Client,
    method: Method,
    url: &str,
    body: Option<&Value>,
) -> Result<Value, WebDriverError> {
    let mut request = http.request(method.clone(), url);
    if let Some(body) = body {
        request = request
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .body(body.to_string());
    }
    let response = request.send().map_err(|e| WebDriverError {
        error: "http".into(),
        message: format!("{method} {url}: {e}"),
    })?;
    let status = response.status();
    let answer: Value = response
        .bytes()
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
        .map_err(|e| WebDriverError {
            error: "response".into(),
            message: format!("{method} {url} ({status}): {e}"),
        })?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    match value.get("error").and_then(Value::as_str) {
        Some(error) => Err(WebDriverError {
            error: error.to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        }),
        None if status.is_success() => Ok(value),
        None => Err(WebDriverError {
            error: status.to_string(),
            message: answer.to_string(),
        }),
    }
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// A web element reference.
struct Element(String);

/// A headless Chromium session through chromedriver; deletes the session
/// (which ends the browser) and stops chromedriver on drop.
struct Browser {
    http: Client,
    session: String,
    // Dropped after the session is deleted (in `Drop::drop`), in this order:
    // chromedriver first, then the browser profile it used.
    driver: Chromedriver,
    _profile: TempDir,
}

impl Browser {
    fn start(tools: &Tools) -> Self {
        let profile = TempDir::new("profile");
        let driver = Chromedriver::start(&tools.chromedriver, &profile.path);
        let http = Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        let user_data_dir = profile.path.join("chromium");
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": {"implicit": 0, "pageLoad": 30_000, "script": 15_000},
                    "goog:chromeOptions": {
                        "binary": tools.chromium,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--disable-quic",
                            "--no-first-run",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            format!("--user-data-dir={}", user_data_dir.display()),
                        ],
                    },
                },
            },
        });
        let url = format!("{}/session", driver.base);
        let value = webdriver_request(&http, Method::POST, &url, Some(&capabilities))
            .unwrap_or_else(|e| {
                panic!(
                    "new WebDriver session: {e}\nchromedriver log:\n{}",
                    driver.log_tail()
                )
            });
        let session = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {value}"))
            .to_owned();
        Browser {
            http,
            session,
            driver,
            _profile: profile,
        }
    }

    fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let url = format!("{}/session/{}{path}", self.driver.base, self.session);
        webdriver_request(&self.http, method, &url, body.as_ref())
    }

    fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let described = format!("{method} {path}");
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {described}: {e}"))
    }

    /// Navigates and waits for the page to load.
    fn goto(&self, url: &str) {
        self.call(Method::POST, "/url", Some(json!({ "url": url })));
    }

    /// Reloads and waits for the page to load.
    fn refresh(&self) {
        self.call(Method::POST, "/refresh", Some(json!({})));
    }

    fn current_url(&self) -> String {
        let url = self.call(Method::GET, "/url", None);
        url.as_str().expect("the URL is a string").to_owned()
    }

    fn try_element(&self, css: &str) -> Result<Element, WebDriverError> {
        let body = json!({"using": "css selector", "value": css});
        let value = self.try_call(Method::POST, "/element", Some(body))?;
        Ok(element_ref(&value))
    }

    /// The first element matching `css`, waiting for it to appear.
    fn element(&self, css: &str) -> Element {
        let mut found = None;
        self.wait_until(&format!("an element matching `{css}`"), || {
            found = self.try_element(css).ok();
            found.is_some()
        });
        found.expect("found")
    }

    /// All elements matching `css` (none is not an error).
    fn elements(&self, css: &str) -> Vec<Element> {
        let body = json!({"using": "css selector", "value": css});
        let value = self.call(Method::POST, "/elements", Some(body));
        value
            .as_array()
            .expect("a list of elements")
            .iter()
            .map(element_ref)
            .collect()
    }

    fn text(&self, element: &Element) -> String {
        let text = self.call(Method::GET, &format!("/element/{}/text", element.0), None);
        text.as_str().expect("element text is a string").to_owned()
    }

    /// The rendered text of the first element matching `css`, if there is
    /// one now (a page being replaced may have none, or a stale one).
    fn text_of(&self, css: &str) -> Option<String> {
        let element = self.try_element(css).ok()?;
        let path = format!("/element/{}/text", element.0);
        let text = self.try_call(Method::GET, &path, None).ok()?;
        text.as_str().map(str::to_owned)
    }

    fn send_keys(&self, element: &Element, text: &str) {
        let path = format!("/element/{}/value", element.0);
        self.call(Method::POST, &path, Some(json!({ "text": text })));
    }

    fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.call(Method::POST, &path, Some(json!({})));
    }

    fn source(&self) -> String {
        let source = self.call(Method::GET, "/source", None);
        source.as_str().unwrap_or_default().to_owned()
    }

    /// All cookies visible to the current page, HttpOnly ones included.
    fn cookies(&self) -> Vec<Value> {
        let cookies = self.call(Method::GET, "/cookie", None);
        cookies.as_array().expect("a list of cookies").clone()
    }

    fn execute(&self, script: &str, args: Value) -> Value {
        let body = json!({ "script": script, "args": args });
        self.call(Method::POST, "/execute/sync", Some(body))
    }

    /// Runs `script`, which calls its last argument with the result.
    fn execute_async(&self, script: &str) -> Value {
        let body = json!({ "script": script, "args": [] });
        self.call(Method::POST, "/execute/async", Some(body))
    }

    /// Polls `condition` until it holds; panics with the page after
    /// `PAGE_TIMEOUT`.
    fn wait_until(&self, what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        while !condition() {
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; at {}:\n{}",
                    self.current_url(),
                    self.source()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the element matching `css` reads exactly `expected`.
    fn wait_for_text(&self, css: &str, expected: &str) {
        self.wait_until(&format!("`{css}` to read {expected:?}"), || {
            self.text_of(css).as_deref() == Some(expected)
        });
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closes Chromium; chromedriver is stopped when `driver` drops.
        let _ = self.try_call(Method::DELETE, "", None);
        if std::thread::panicking() {
            eprintln!(
                "--- chromedriver log (tail) ---\n{}",
                self.driver.log_tail()
            );
        }
    }
}

fn element_ref(value: &Value) -> Element {
    let id = value[ELEMENT_KEY]
        .as_str()
        .unwrap_or_else(|| panic!("not an element reference: {value}"));
    Element(id.to_owned())
}

/// A chromedriver process on a free loopback port; killed on drop.
struct Chromedriver {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Chromedriver {
    fn start(program: &Path, dir: &Path) -> Self {
        let log = dir.join("chromedriver.log");
        let http = Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client");
        // The port is free when picked; should something take it before
        // chromedriver binds it, chromedriver exits and another is tried.
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(program)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
            let mut driver = Chromedriver {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log: log.clone(),
            };
            if driver.wait_ready(&http) {
                return driver;
            }
        }
        panic!("chromedriver did not start; log:\n{}", read_tail(&log));
    }

    /// Waits for `GET /status` to report ready; false if chromedriver exits.
    fn wait_ready(&mut self, http: &Client) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        let url = format!("{}/status", self.base);
        loop {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            if let Ok(status) = webdriver_request(http, Method::GET, &url, None)
                && status["ready"] == true
            {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready within {START_TIMEOUT:?}; log:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        read_tail(&self.log)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// The last 40 lines of a log file.
fn read_tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(label: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "sealed-session-browser-{label}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
