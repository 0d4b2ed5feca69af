//! Integration tests for the framework-free http helper: `SessionConfig`
//! loading a `Session` from `Cookie` request headers, the session handle,
//! and `Session::write` adding the `Set-Cookie` response header.
//!
//! Every `Set-Cookie` is parsed back with `cookie::Cookie::parse` and every
//! attribute is compared. Every codec here reads a [`ManualClock`] that the
//! test sets (`clock.set(t)`) before each load, write or open, starting from
//! the shared `t0`, so no test depends on the wall clock: `regenerate`,
//! `try_update`, `load_with` and the cut-off check of the codec builder
//! read that clock too.

#[path = "support/common.rs"]
mod common;
#[path = "support/reference.rs"]
mod reference;

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cookie::Cookie;
use cookie::time::OffsetDateTime;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use sealed_session::clock::ManualClock;
use sealed_session::error::{Deadline, Malformed};
use sealed_session::limits::{
    DEFAULT_COOKIE_NAME, DEFAULT_HEADER_BUDGET, DEFAULT_IDLE_TIMEOUT, DEFAULT_LIFETIME, MAX_CHUNKS,
    MAX_COOKIE_AGE, MAX_SESSION_COOKIES_TRIED,
};
use sealed_session::{
    Algorithm, Binding, Codec, CodecBuilder, ConfigError, Error, Keyring, OpenOptions, Renewal,
    SameSite, SealOptions, Session, SessionConfig, Written,
};

use common::{secs, set_cookies, t0};

const SECRET_A: &str = "http test secret A, which is longer than 32 bytes";
const SECRET_B: &str = "http test secret B, which is longer than 32 bytes";

/// Seconds in a day.
const DAY: u64 = 24 * 60 * 60;

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

fn keyring(secrets: &[&str]) -> Keyring {
    Keyring::new(secrets).expect("valid secrets")
}

/// The key id `secret` derives under the empty app label, computed by the
/// reference implementation of the format.
fn key_id_of(secret: &str) -> [u8; 4] {
    reference::derive(secret, "").id
}

/// The settings most tests here were written against, which were the
/// defaults until issue 11: cookie `session`, a 7-day lifetime and no idle
/// timeout. Set explicitly, so that those tests check what their names say
/// whatever the defaults; the tests of the defaults use
/// [`default_builder`]. The codec reads `clock`.
fn legacy_builder(keyring: Keyring, clock: &ManualClock) -> CodecBuilder {
    Codec::builder(keyring)
        .cookie_name("session")
        .lifetime(secs(7 * DAY))
        .idle_timeout(None)
        .clock(clock.clone())
}

/// A codec builder over secret A with the [legacy](legacy_builder) settings.
fn codec_builder(clock: &ManualClock) -> CodecBuilder {
    legacy_builder(keyring(&[SECRET_A]), clock)
}

/// The [legacy](legacy_builder) settings over secret A, every cookie
/// attribute at its default.
fn legacy_config(clock: &ManualClock) -> SessionConfig {
    config_of(codec_builder(clock))
}

/// Every codec setting at its default (cookie `__Host-session`, 12-hour
/// lifetime, 30-minute idle timeout), over secret A, but for the clock.
fn default_builder(clock: &ManualClock) -> CodecBuilder {
    Codec::builder(keyring(&[SECRET_A])).clock(clock.clone())
}

/// Every setting at its default, over secret A, reading `clock`.
fn default_config(clock: &ManualClock) -> SessionConfig {
    config_of(default_builder(clock))
}

fn config_of(builder: CodecBuilder) -> SessionConfig {
    SessionConfig::new(builder.build().expect("valid codec settings"))
}

/// The session value of most tests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
struct Cart {
    user: String,
    items: Vec<u32>,
}

fn cart(user: &str, items: &[u32]) -> Cart {
    Cart {
        user: user.into(),
        items: items.to_vec(),
    }
}

/// A request with one `Cookie` header per entry.
fn request(cookie_headers: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for header in cookie_headers {
        headers.append(
            COOKIE,
            HeaderValue::from_str(header).expect("a header value"),
        );
    }
    headers
}

/// The request a browser sends after receiving `cookie`.
fn request_with(cookie: &Cookie<'_>) -> HeaderMap {
    request(&[&format!("{}={}", cookie.name(), cookie.value())])
}

/// The only `Set-Cookie` header of a response, parsed.
fn the_set_cookie(headers: &HeaderMap) -> Cookie<'static> {
    let mut all = set_cookies(headers);
    assert_eq!(all.len(), 1, "expected exactly one Set-Cookie");
    all.remove(0)
}

/// Writes the session at its codec's current time, which must set a
/// cookie, and returns it.
fn write_set<T: Serialize>(session: &Session<T>) -> Cookie<'static> {
    let mut headers = HeaderMap::new();
    assert_eq!(session.write(&mut headers), Ok(Written::Set));
    the_set_cookie(&headers)
}

/// Writes the session at its codec's current time, which must add nothing.
fn write_nothing<T: Serialize>(session: &Session<T>) {
    let mut headers = HeaderMap::new();
    assert_eq!(session.write(&mut headers), Ok(Written::Nothing));
    assert!(headers.is_empty(), "nothing written, yet {headers:?}");
}

/// Writes the session at its codec's current time, which must remove the
/// cookie, and returns the removal.
fn write_removed<T: Serialize>(session: &Session<T>) -> Cookie<'static> {
    let mut headers = HeaderMap::new();
    assert_eq!(session.write(&mut headers), Ok(Written::Removed));
    the_set_cookie(&headers)
}

/// A cookie sealing `value` as a new session at `now`, through the helper;
/// `clock` is the clock of `config`'s codec, and is left at `now`.
fn new_cookie<T: Serialize + DeserializeOwned + 'static>(
    config: &SessionConfig,
    clock: &ManualClock,
    value: T,
    now: SystemTime,
) -> Cookie<'static> {
    clock.set(now);
    let session = config.load::<T>(&HeaderMap::new());
    session.insert(value);
    write_set(&session)
}

/// A valid value with one character in the ciphertext changed: still strict
/// base64url, but it fails authentication.
fn tampered(value: &str) -> String {
    // Character 50 encodes bits of token byte 37, past the header and nonce
    // (30 bytes) and before the tag.
    let mut chars: Vec<char> = value.chars().collect();
    chars[50] = if chars[50] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// Every attribute of a `Set-Cookie`, compared in one assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attributes {
    name: String,
    value: String,
    path: Option<String>,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: Option<cookie::SameSite>,
    partitioned: bool,
    max_age: Option<i64>,
    expires: Option<OffsetDateTime>,
}

impl Attributes {
    fn of(cookie: &Cookie<'_>) -> Self {
        Self {
            name: cookie.name().into(),
            value: cookie.value().into(),
            path: cookie.path().map(Into::into),
            domain: cookie.domain().map(Into::into),
            secure: cookie.secure() == Some(true),
            http_only: cookie.http_only() == Some(true),
            same_site: cookie.same_site(),
            partitioned: cookie.partitioned() == Some(true),
            max_age: cookie.max_age().map(|d| d.whole_seconds()),
            expires: cookie.expires_datetime(),
        }
    }

    /// A session cookie with the default attributes (`Secure`, `HttpOnly`,
    /// `SameSite=Lax`, `Path=/`) named `session` (the name of the
    /// [legacy](legacy_builder) settings), set at `now` for `max_age`
    /// seconds.
    fn session(value: &str, now: SystemTime, max_age: u64) -> Self {
        Self::named("session", value, now, max_age)
    }

    /// [`Attributes::session`] for the cookie `name`.
    fn named(name: &str, value: &str, now: SystemTime, max_age: u64) -> Self {
        let expires =
            OffsetDateTime::from_unix_timestamp(i64::try_from(unix(now) + max_age).expect("small"))
                .expect("a valid date");
        Self {
            name: name.into(),
            value: value.into(),
            path: Some("/".into()),
            domain: None,
            secure: true,
            http_only: true,
            same_site: Some(cookie::SameSite::Lax),
            partitioned: false,
            max_age: Some(i64::try_from(max_age).expect("small")),
            expires: Some(expires),
        }
    }

    /// The same attributes as a removal: empty value, `Max-Age=0` and an
    /// `Expires` at the Unix epoch.
    fn removal(mut self) -> Self {
        self.value = String::new();
        self.max_age = Some(0);
        self.expires = Some(OffsetDateTime::UNIX_EPOCH);
        self
    }
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

#[test]
fn no_cookie_header_gives_an_empty_session_that_writes_nothing() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    for headers in [
        HeaderMap::new(),
        request(&["theme=dark; lang=en"]),
        request(&[""]),
    ] {
        clock.set(t0());
        let session = config.load::<Cart>(&headers);
        assert!(session.is_empty());
        assert_eq!(session.get(), None);
        assert_eq!(session.rejection(), None);
        assert!(!session.was_loaded());
        assert_eq!(session.envelope(), None);
        assert_eq!(session.id(), None);
        assert_eq!(session.created_at(), None);
        assert_eq!(session.expires_at(), None);
        assert!(!session.needs_write());
        write_nothing(&session);
    }
}

#[test]
fn every_cookie_header_is_read() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[1, 2]), t0());
    // HTTP/2 clients may send one `Cookie` header per cookie.
    let headers = request(&[
        "theme=dark; lang=en",
        &format!("session={}", cookie.value()),
        "tracking=1",
    ]);
    clock.set(t0() + secs(10));
    let session = config.load::<Cart>(&headers);
    assert_eq!(session.get(), Some(cart("ada", &[1, 2])));
    assert!(session.was_loaded());
    assert_eq!(session.rejection(), None);
    assert!(!session.needs_write());
    write_nothing(&session);
}

#[test]
fn junk_pairs_around_the_session_are_tolerated() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[7]), t0());
    let mut headers = HeaderMap::new();
    // Not UTF-8 (obs-text bytes), pairs without a name or without `=`,
    // empty pairs.
    headers.append(
        COOKIE,
        HeaderValue::from_bytes(b"=x;;a; \xff\xfe=\x80; bin=\xc3\x28; ;").expect("obs-text"),
    );
    headers.append(
        COOKIE,
        HeaderValue::from_str(&format!(
            "quoted=\"a b\"; empty=; =; session={} ; sessionx=junk; x=\"y",
            cookie.value()
        ))
        .expect("a header value"),
    );
    headers.append(
        COOKIE,
        HeaderValue::from_bytes(b"\x80\x81").expect("obs-text"),
    );
    clock.set(t0());
    let session = config.load::<Cart>(&headers);
    assert_eq!(session.get(), Some(cart("ada", &[7])));
    assert!(session.was_loaded());
    assert_eq!(session.rejection(), None);
    write_nothing(&session);
}

#[test]
fn a_quoted_session_value_is_not_unquoted() {
    let clock = common::clock();
    // The crate never writes quotes, so a quoted value is somebody else's
    // cookie: rejected (and removed), not opened.
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[]), t0());
    let headers = request(&[&format!("session=\"{}\"", cookie.value())]);
    clock.set(t0());
    let session = config.load::<Cart>(&headers);
    assert!(session.is_empty());
    assert_eq!(
        session.rejection(),
        Some(Error::Malformed(Malformed::Encoding))
    );
    write_removed(&session);
}

#[test]
fn a_bad_duplicate_before_the_good_cookie_is_skipped_without_removal() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let good = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    let expired = new_cookie(&config, &clock, cart("old", &[]), t0() - secs(8 * DAY));
    let bad_values = [
        "forged".to_string(),
        tampered(good.value()),
        expired.value().to_string(),
    ];
    for bad in &bad_values {
        let headers = request(&[&format!("session={bad}; session={}", good.value())]);
        clock.set(t0() + secs(1));
        let session = config.load::<Cart>(&headers);
        assert_eq!(session.get(), Some(cart("ada", &[1])), "{bad}");
        assert!(session.was_loaded());
        assert_eq!(session.rejection(), None);
        // A removal would delete the good cookie the browser also holds.
        assert!(!session.needs_write());
        write_nothing(&session);
    }
}

#[test]
fn only_bad_duplicates_give_the_first_error_and_a_removal() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let good = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    let expired = new_cookie(&config, &clock, cart("old", &[]), t0() - secs(8 * DAY));
    let forged = tampered(good.value());
    let now = t0() + secs(1);

    let headers = request(&[&format!("session={forged}; session={}", expired.value())]);
    clock.set(now);
    let session = config.load::<Cart>(&headers);
    assert!(session.is_empty());
    assert!(!session.was_loaded());
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
    assert!(session.needs_write());
    let removal = write_removed(&session);
    assert_eq!(
        Attributes::of(&removal),
        Attributes::session("", now, 0).removal()
    );

    // The other order: the first error is the expired one.
    let headers = request(&[
        &format!("session={}", expired.value()),
        &format!("session={forged}"),
    ]);
    let session = config.load::<Cart>(&headers);
    assert_eq!(
        session.rejection(),
        Some(Error::Expired {
            deadline: Deadline::Absolute
        })
    );
    write_removed(&session);
    // After the removal is written, the session is empty and clean.
    assert!(!session.needs_write());
    write_nothing(&session);
}

#[test]
fn at_most_max_session_cookies_tried_are_opened() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let good = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    let pairs = |bad: usize| {
        let mut pairs: Vec<String> = (0..bad).map(|i| format!("session=bad{i}")).collect();
        pairs.push(format!("session={}", good.value()));
        pairs.join("; ")
    };

    // The good cookie is the last one tried: it opens.
    let headers = request(&[&pairs(MAX_SESSION_COOKIES_TRIED - 1)]);
    clock.set(t0());
    let session = config.load::<Cart>(&headers);
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    write_nothing(&session);

    // Exactly the limit of bad ones and nothing else: all were tried, none
    // opened, so the response removes the cookie.
    let all_bad: Vec<String> = (0..MAX_SESSION_COOKIES_TRIED)
        .map(|i| format!("session=bad{i}"))
        .collect();
    let session = config.load::<Cart>(&request(&[&all_bad.join("; ")]));
    assert!(session.rejection().is_some());
    write_removed(&session);

    // One more bad duplicate pushes it past the limit: it is never tried
    // (bounded work per request), so the session is empty and the first
    // error is reported, and no removal is sent: it could delete the valid
    // cookie that was never tried.
    assert_eq!(MAX_SESSION_COOKIES_TRIED, 8);
    for bad in [MAX_SESSION_COOKIES_TRIED, 3 * MAX_SESSION_COOKIES_TRIED] {
        let headers = request(&[&pairs(bad)]);
        clock.set(t0());
        let session = config.load::<Cart>(&headers);
        assert!(session.is_empty(), "{bad} bad duplicates");
        assert!(!session.was_loaded());
        assert_eq!(
            session.rejection(),
            Some(Error::Malformed(Malformed::Truncated)),
            "{bad} bad duplicates"
        );
        write_nothing(&session);
        // Logging out still removes it explicitly.
        session.destroy();
        write_removed(&session);
    }

    // Split over several headers, the count is the same.
    let mut split: Vec<String> = (0..MAX_SESSION_COOKIES_TRIED)
        .map(|i| format!("session=bad{i}"))
        .collect();
    split.push(format!("session={}", good.value()));
    let split: Vec<&str> = split.iter().map(String::as_str).collect();
    clock.set(t0());
    let session = config.load::<Cart>(&request(&split));
    assert!(session.is_empty());
}

#[test]
fn cookies_with_other_names_are_ignored() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let good = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    // The same valid value under names that start with, end with or differ
    // in case from ours: none of them is the session cookie.
    for name in ["sessionx", "session_old", "xsession", "Session", "SESSION"] {
        let headers = request(&[&format!("{name}={}", good.value())]);
        clock.set(t0());
        let session = config.load::<Cart>(&headers);
        assert!(session.is_empty(), "{name}");
        assert_eq!(session.rejection(), None, "{name}");
        write_nothing(&session);
    }
}

// ---------------------------------------------------------------------------
// The session handle
// ---------------------------------------------------------------------------

#[test]
fn a_loaded_session_reports_its_cookie() {
    let clock = common::clock();
    let config = config_of(codec_builder(&clock).idle_timeout(secs(3600)));
    let cookie = new_cookie(&config, &clock, cart("ada", &[1, 2, 3]), t0());
    clock.set(t0());
    let opened = config.codec().open::<Cart>(cookie.value()).expect("opens");

    let now = t0() + secs(60);
    clock.set(now);
    let session = config.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.config().codec().cookie_name(), "session");
    assert!(!session.is_empty());
    assert!(session.was_loaded());
    assert_eq!(session.rejection(), None);
    assert_eq!(session.get(), Some(cart("ada", &[1, 2, 3])));
    assert_eq!(session.with(|c| c.map(|c| c.items.len())), Some(3));
    assert_eq!(session.envelope(), Some(*opened.envelope()));
    assert_eq!(session.id(), Some(opened.envelope().id()));
    assert_eq!(session.created_at(), Some(t0()));
    // The earlier of the absolute (7 days) and idle (1 hour) deadlines.
    assert_eq!(session.expires_at(), Some(t0() + secs(3600)));
    assert!(!session.needs_write());
    write_nothing(&session);
}

#[test]
fn a_new_session_is_set_once_after_a_change() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    write_nothing(&session);

    assert_eq!(session.insert(cart("ada", &[1])), None);
    assert!(session.needs_write());
    // The id is drawn when the session is first sealed.
    assert_eq!(session.id(), None);
    let cookie = write_set(&session);
    assert_eq!(
        Attributes::of(&cookie),
        Attributes::session(cookie.value(), t0(), 7 * DAY)
    );
    let opened = config.codec().open::<Cart>(cookie.value()).expect("opens");
    assert_eq!(opened.value(), &cart("ada", &[1]));
    assert_eq!(session.id(), Some(opened.envelope().id()));
    assert_eq!(session.created_at(), Some(t0()));
    assert_eq!(session.expires_at(), Some(t0() + secs(7 * DAY)));
    // After a write, nothing is left to write.
    assert!(!session.needs_write());
    write_nothing(&session);

    // `insert` returns the previous value; the next write continues the
    // same session.
    assert_eq!(
        session.insert(cart("ada", &[1, 2])),
        Some(cart("ada", &[1]))
    );
    clock.set(t0() + secs(5));
    let again = write_set(&session);
    let reopened = config.codec().open::<Cart>(again.value()).expect("opens");
    assert_eq!(reopened.value(), &cart("ada", &[1, 2]));
    assert_eq!(reopened.envelope().id(), opened.envelope().id());
}

#[test]
fn update_changes_only_an_existing_value() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    let mut called = false;
    assert_eq!(
        session.update(|c| {
            called = true;
            c.items.push(1);
        }),
        None
    );
    assert!(!called, "the closure must not run on an empty session");
    assert!(session.is_empty());
    assert!(!session.needs_write());
    write_nothing(&session);

    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    clock.set(t0());
    let session = config.load::<Cart>(&request_with(&cookie));
    assert_eq!(
        session.update(|c| {
            c.items.push(2);
            c.items.len()
        }),
        Some(2)
    );
    assert!(session.needs_write());
    let updated = write_set(&session);
    let opened = config.codec().open::<Cart>(updated.value()).expect("opens");
    assert_eq!(opened.value(), &cart("ada", &[1, 2]));
    assert_eq!(Some(opened.envelope().id()), session.id());
}

#[test]
fn update_or_default_starts_from_the_default() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    let len = session.update_or_default(|c| {
        assert_eq!(*c, Cart::default());
        c.items.push(9);
        c.items.len()
    });
    assert_eq!(len, 1);
    assert_eq!(session.get(), Some(cart("", &[9])));
    let cookie = write_set(&session);

    // On a loaded session it changes the loaded value.
    let session = config.load::<Cart>(&request_with(&cookie));
    session.update_or_default(|c| c.items.push(10));
    let cookie = write_set(&session);
    let opened = config.codec().open::<Cart>(cookie.value()).expect("opens");
    assert_eq!(opened.value(), &cart("", &[9, 10]));
}

#[test]
fn remove_deletes_the_cookie_but_keeps_the_session_id() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    clock.set(t0());
    let loaded_id = config
        .codec()
        .open::<Cart>(cookie.value())
        .expect("opens")
        .envelope()
        .id();

    let session = config.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.remove(), Some(cart("ada", &[1])));
    assert!(session.is_empty());
    assert_eq!(session.id(), Some(loaded_id));
    assert!(session.needs_write());
    let removal = write_removed(&session);
    assert_eq!(
        Attributes::of(&removal),
        Attributes::session("", t0(), 0).removal()
    );

    // Removed, then given a value again in the same request: the same
    // session continues, and only the new cookie is sent.
    let session = config.load::<Cart>(&request_with(&cookie));
    session.remove();
    session.insert(cart("ada", &[2]));
    let set = write_set(&session);
    let opened = config.codec().open::<Cart>(set.value()).expect("opens");
    assert_eq!(opened.envelope().id(), loaded_id);
    assert_eq!(opened.value(), &cart("ada", &[2]));

    // A new session with nothing in it has nothing to remove.
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(cart("x", &[]));
    assert_eq!(session.remove(), Some(cart("x", &[])));
    write_nothing(&session);
}

#[test]
fn destroy_sends_a_removal_matching_the_cookie() {
    let clock = common::clock();
    let codec = codec_builder(&clock)
        .cookie_name("__Secure-app")
        .build()
        .expect("valid");
    let config = SessionConfig::builder(codec)
        .domain("example.com")
        .path("/app")
        .same_site(SameSite::Strict)
        .http_only(false)
        .build()
        .expect("valid attributes");
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    let set = Attributes {
        name: "__Secure-app".into(),
        value: cookie.value().into(),
        path: Some("/app".into()),
        domain: Some("example.com".into()),
        secure: true,
        http_only: false,
        same_site: Some(cookie::SameSite::Strict),
        partitioned: false,
        max_age: Some(i64::try_from(7 * DAY).expect("small")),
        expires: Some(
            OffsetDateTime::from_unix_timestamp(
                i64::try_from(unix(t0()) + 7 * DAY).expect("small"),
            )
            .expect("a date"),
        ),
    };
    assert_eq!(Attributes::of(&cookie), set);

    let now = t0() + secs(30);
    clock.set(now);
    let session = config.load::<Cart>(&request_with(&cookie));
    assert!(session.was_loaded());
    session.destroy();
    assert!(session.is_empty());
    assert_eq!(session.get(), None);
    assert_eq!(session.id(), None);
    assert_eq!(session.envelope(), None);
    assert!(session.needs_write());
    let removal = write_removed(&session);
    assert_eq!(Attributes::of(&removal), set.clone().removal());
    assert_eq!(
        removal.expires_datetime().map(|e| e.year()),
        Some(1970),
        "Expires in the past"
    );

    // Logging out without a cookie still sends the removal (the browser may
    // hold one this request did not carry, for example on another path).
    let session = config.load::<Cart>(&HeaderMap::new());
    session.destroy();
    let removal = write_removed(&session);
    assert_eq!(Attributes::of(&removal), set.removal());
}

#[test]
fn destroy_then_insert_starts_a_new_session() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    let now = t0() + secs(100);
    clock.set(now);
    let session = config.load::<Cart>(&request_with(&cookie));
    let old_id = session.id().expect("loaded");

    session.destroy();
    session.insert(cart("bob", &[]));
    assert_eq!(session.id(), None);
    let set = write_set(&session);
    let opened = config.codec().open::<Cart>(set.value()).expect("opens");
    assert_ne!(opened.envelope().id(), old_id);
    assert_eq!(session.id(), Some(opened.envelope().id()));
    assert_eq!(opened.value(), &cart("bob", &[]));
    // Created by this write, with a full lifetime of its own.
    assert_eq!(opened.envelope().created_at(), now);
    assert_eq!(opened.envelope().absolute_deadline(), now + secs(7 * DAY));
    assert_eq!(
        Attributes::of(&set),
        Attributes::session(set.value(), now, 7 * DAY)
    );
}

/// `regenerate` reads the codec's clock: the new session is created at the
/// time of the call, not at the time of the load.
#[test]
fn regenerate_gives_a_new_id_and_creation_time_and_keeps_the_value() {
    let clock = common::clock();
    let config = config_of(codec_builder(&clock).lifetime(secs(DAY)));
    let base = t0() + secs(3600);
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), base - secs(3600));
    clock.set(base);
    let session = config.load::<Cart>(&request_with(&cookie));
    let old = session.envelope().expect("loaded");
    assert_eq!(old.created_at(), base - secs(3600));

    clock.set(base + secs(7));
    session.regenerate();
    let new = session.envelope().expect("a fresh envelope");
    assert_ne!(new.id(), old.id());
    assert_eq!(new.created_at(), base + secs(7));
    assert_ne!(new.created_at(), old.created_at());
    assert_eq!(new.absolute_deadline(), new.created_at() + secs(DAY));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert!(session.needs_write());

    let written_at = new.created_at();
    let set = write_set(&session);
    assert_eq!(
        Attributes::of(&set),
        Attributes::session(set.value(), written_at, DAY)
    );
    let opened = config.codec().open::<Cart>(set.value()).expect("opens");
    assert_eq!(opened.envelope().id(), new.id());
    assert_eq!(opened.envelope().created_at(), new.created_at());
    assert_eq!(
        opened.envelope().absolute_deadline(),
        new.created_at() + secs(DAY)
    );
    assert_eq!(opened.value(), &cart("ada", &[1]));
}

/// "Remember me": `regenerate` then `set_lifetime`.
#[test]
fn set_lifetime_after_regenerate_persists_across_requests() {
    let clock = common::clock();
    // The codec's lifetime is one day; this session gets 30, which the
    // codec's maximum lifetime allows.
    let config = config_of(
        codec_builder(&clock)
            .lifetime(secs(DAY))
            .max_lifetime(secs(30 * DAY)),
    );
    let cookie = new_cookie(&config, &clock, cart("ada", &[]), t0());
    clock.set(t0() + secs(60));
    let session = config.load::<Cart>(&request_with(&cookie));
    session.regenerate();
    session.set_lifetime(secs(30 * DAY));
    let created = session.created_at().expect("regenerated");
    assert_eq!(created, t0() + secs(60));
    assert_eq!(session.expires_at(), Some(created + secs(30 * DAY)));

    let set = write_set(&session);
    assert_eq!(
        Attributes::of(&set),
        Attributes::session(set.value(), created, 30 * DAY)
    );

    // Ten days later, past the codec's lifetime, the session still opens
    // and a re-seal keeps its deadline.
    let later = created + secs(10 * DAY);
    clock.set(later);
    let session = config.load::<Cart>(&request_with(&set));
    assert!(session.was_loaded(), "{:?}", session.rejection());
    assert_eq!(session.expires_at(), Some(created + secs(30 * DAY)));
    assert!(session.update(|c| c.items.push(1)).is_some());
    let resealed = write_set(&session);
    assert_eq!(
        Attributes::of(&resealed),
        Attributes::session(resealed.value(), later, 20 * DAY)
    );
    let opened = config
        .codec()
        .open::<Cart>(resealed.value())
        .expect("opens");
    assert_eq!(opened.envelope().created_at(), created);
    assert_eq!(
        opened.envelope().absolute_deadline(),
        created + secs(30 * DAY)
    );
}

#[test]
fn set_lifetime_on_a_new_session_applies_at_the_first_seal() {
    let clock = common::clock();
    let config = config_of(
        codec_builder(&clock)
            .lifetime(secs(DAY))
            .max_lifetime(secs(30 * DAY)),
    );
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(cart("ada", &[]));
    session.set_lifetime(secs(30 * DAY));
    let set = write_set(&session);
    assert_eq!(
        Attributes::of(&set),
        Attributes::session(set.value(), t0(), 30 * DAY)
    );

    // Later requests keep the 30-day deadline through re-seals, and it is
    // still exclusive.
    let later = t0() + secs(29 * DAY);
    clock.set(later);
    let session = config.load::<Cart>(&request_with(&set));
    assert!(session.was_loaded());
    assert!(session.update(|c| c.items.push(1)).is_some());
    let resealed = write_set(&session);
    assert_eq!(
        Attributes::of(&resealed),
        Attributes::session(resealed.value(), later, DAY)
    );
    let end = t0() + secs(30 * DAY);
    clock.set(end);
    let session = config.load::<Cart>(&request_with(&resealed));
    assert_eq!(
        session.rejection(),
        Some(Error::Expired {
            deadline: Deadline::Absolute
        })
    );
}

#[test]
fn max_age_is_the_sealed_deadline_capped_at_400_days() {
    let clock = common::clock();
    // The idle deadline comes first.
    let config = config_of(
        codec_builder(&clock)
            .lifetime(secs(DAY))
            .idle_timeout(secs(7200)),
    );
    let set = new_cookie(&config, &clock, cart("ada", &[]), t0());
    assert_eq!(
        Attributes::of(&set),
        Attributes::session(set.value(), t0(), 7200)
    );

    // The absolute deadline comes first (the idle one is clamped to it).
    let config = config_of(
        codec_builder(&clock)
            .lifetime(secs(3600))
            .idle_timeout(secs(7200)),
    );
    let set = new_cookie(&config, &clock, cart("ada", &[]), t0());
    assert_eq!(
        Attributes::of(&set),
        Attributes::session(set.value(), t0(), 3600)
    );
    // Later in the session, Max-Age counts down to the same deadline.
    clock.set(t0() + secs(1000));
    let session = config.load::<Cart>(&request_with(&set));
    assert!(session.update(|c| c.items.push(1)).is_some());
    let resealed = write_set(&session);
    assert_eq!(
        Attributes::of(&resealed),
        Attributes::session(resealed.value(), t0() + secs(1000), 2600)
    );

    // A 500-day lifetime: the browser is told 400 days, the seal keeps 500.
    assert_eq!(MAX_COOKIE_AGE, secs(400 * DAY));
    let config = config_of(codec_builder(&clock).lifetime(secs(500 * DAY)));
    let set = new_cookie(&config, &clock, cart("ada", &[]), t0());
    assert_eq!(
        Attributes::of(&set),
        Attributes::session(set.value(), t0(), 400 * DAY)
    );
    clock.set(t0() + secs(450 * DAY));
    let opened = config
        .codec()
        .open::<Cart>(set.value())
        .expect("the seal outlives the cookie's Max-Age");
    assert_eq!(
        opened.envelope().absolute_deadline(),
        t0() + secs(500 * DAY)
    );
}

// ---------------------------------------------------------------------------
// Renewal
// ---------------------------------------------------------------------------

fn renewal_config(
    clock: &ManualClock,
    renewal: Renewal,
    idle_timeout: Option<u64>,
    lifetime: u64,
) -> SessionConfig {
    let mut builder = codec_builder(clock).lifetime(secs(lifetime));
    if let Some(idle) = idle_timeout {
        builder = builder.idle_timeout(secs(idle));
    }
    SessionConfig::builder(builder.build().expect("valid codec settings"))
        .renewal(renewal)
        .build()
        .expect("valid attributes")
}

/// Loads `cookie` at `now` (setting `clock`, the clock of `config`'s
/// codec, and leaving it there) and writes the response; returns the
/// renewed cookie, if one was set. A renewed cookie must carry the same
/// session (id, creation time, absolute deadline, value) with its idle
/// deadline moved to `now` plus `idle_timeout` (the configured one, in
/// seconds; clamped to the absolute deadline).
fn renew_at(
    config: &SessionConfig,
    clock: &ManualClock,
    cookie: &Cookie<'_>,
    now: SystemTime,
    idle_timeout: Option<u64>,
) -> Option<Cookie<'static>> {
    let codec = config.codec();
    clock.set(now);
    let before = codec
        .open::<Cart>(cookie.value())
        .expect("the cookie opens");
    let session = config.load::<Cart>(&request_with(cookie));
    assert!(session.was_loaded());
    let due = session.needs_write();
    let mut headers = HeaderMap::new();
    let written = session.write(&mut headers).expect("writes");
    if !due {
        assert_eq!(written, Written::Nothing);
        assert!(headers.is_empty());
        return None;
    }
    assert_eq!(written, Written::Set);
    let renewed = the_set_cookie(&headers);
    let after = codec
        .open::<Cart>(renewed.value())
        .expect("the renewed cookie opens");
    assert_eq!(after.value(), before.value());
    let (before, after) = (before.envelope(), after.envelope());
    assert_eq!(after.id(), before.id());
    assert_eq!(after.created_at(), before.created_at());
    assert_eq!(after.absolute_deadline(), before.absolute_deadline());
    let idle = idle_timeout.map(|t| (now + secs(t)).min(before.absolute_deadline()));
    assert_eq!(after.idle_deadline(), idle);
    let expires = idle.unwrap_or(before.absolute_deadline());
    let max_age = expires.duration_since(now).expect("later").as_secs();
    assert_eq!(
        Attributes::of(&renewed),
        Attributes::named(codec.cookie_name(), renewed.value(), now, max_age)
    );
    Some(renewed)
}

#[test]
fn half_idle_renews_once_half_the_idle_window_passed() {
    let clock = common::clock();
    let config = renewal_config(&clock, Renewal::HalfIdle, Some(600), 7 * DAY);
    assert_eq!(config.renewal(), Renewal::HalfIdle);
    let cookie = new_cookie(&config, &clock, cart("ada", &[]), t0());
    for offset in [0, 1, 200, 299] {
        assert!(
            renew_at(&config, &clock, &cookie, t0() + secs(offset), Some(600)).is_none(),
            "renewed {offset} s after the seal"
        );
    }
    for offset in [300, 599] {
        assert!(
            renew_at(&config, &clock, &cookie, t0() + secs(offset), Some(600)).is_some(),
            "not renewed {offset} s after the seal"
        );
    }
    // At the idle deadline the old cookie no longer opens.
    clock.set(t0() + secs(600));
    let session = config.load::<Cart>(&request_with(&cookie));
    assert_eq!(
        session.rejection(),
        Some(Error::Expired {
            deadline: Deadline::Idle
        })
    );

    // An active user keeps the session going: each renewal moves the
    // window, and the count starts again from the renewal.
    let renewed = renew_at(&config, &clock, &cookie, t0() + secs(300), Some(600)).expect("renewed");
    assert!(renew_at(&config, &clock, &renewed, t0() + secs(500), Some(600)).is_none());
    assert!(renew_at(&config, &clock, &renewed, t0() + secs(599), Some(600)).is_none());
    let again =
        renew_at(&config, &clock, &renewed, t0() + secs(800), Some(600)).expect("renewed again");
    clock.set(t0() + secs(1000));
    let opened = config
        .codec()
        .open::<Cart>(again.value())
        .expect("still open past the first idle deadline");
    assert_eq!(opened.envelope().idle_deadline(), Some(t0() + secs(1400)));
}

#[test]
fn always_renews_every_response() {
    let clock = common::clock();
    for idle in [None, Some(600)] {
        let config = renewal_config(&clock, Renewal::Always, idle, 7 * DAY);
        let cookie = new_cookie(&config, &clock, cart("ada", &[]), t0());
        for offset in [0, 1, 100] {
            assert!(
                renew_at(&config, &clock, &cookie, t0() + secs(offset), idle).is_some(),
                "idle {idle:?}, {offset} s"
            );
        }
    }
}

#[test]
fn after_renews_from_the_exact_boundary() {
    let clock = common::clock();
    let config = renewal_config(&clock, Renewal::After(secs(100)), Some(600), 7 * DAY);
    let cookie = new_cookie(&config, &clock, cart("ada", &[]), t0());
    assert!(renew_at(&config, &clock, &cookie, t0() + secs(99), Some(600)).is_none());
    assert!(renew_at(&config, &clock, &cookie, t0() + secs(100), Some(600)).is_some());
    assert!(renew_at(&config, &clock, &cookie, t0() + secs(101), Some(600)).is_some());
}

#[test]
fn without_an_idle_timeout_only_always_renews() {
    let clock = common::clock();
    for renewal in [Renewal::HalfIdle, Renewal::After(secs(1))] {
        let config = renewal_config(&clock, renewal, None, 7 * DAY);
        let cookie = new_cookie(&config, &clock, cart("ada", &[]), t0());
        for offset in [1, 3600, 6 * DAY] {
            assert!(
                renew_at(&config, &clock, &cookie, t0() + secs(offset), None).is_none(),
                "{renewal:?} at {offset} s"
            );
        }
    }
}

#[test]
fn no_renewal_once_the_idle_deadline_reaches_the_absolute_one() {
    let clock = common::clock();
    // Lifetime 1000 s, idle 600 s: sealed at t0, idle deadline t0 + 600.
    let config = renewal_config(&clock, Renewal::HalfIdle, Some(600), 1000);
    let cookie = new_cookie(&config, &clock, cart("ada", &[]), t0());
    // At t0 + 450 a renewal moves the idle deadline to the absolute one.
    let renewed = renew_at(&config, &clock, &cookie, t0() + secs(450), Some(600)).expect("renewed");
    clock.set(t0() + secs(450));
    let opened = config.codec().open::<Cart>(renewed.value()).expect("opens");
    assert_eq!(opened.envelope().idle_deadline(), Some(t0() + secs(1000)));
    // From then on a re-seal cannot push anything: no pointless renewal,
    // however late.
    for offset in [750, 900, 999] {
        assert!(
            renew_at(&config, &clock, &renewed, t0() + secs(offset), Some(600)).is_none(),
            "renewed at {offset} s"
        );
    }
    // Even `After` with a tiny threshold does not renew it.
    let eager = renewal_config(&clock, Renewal::After(secs(1)), Some(600), 1000);
    assert!(renew_at(&eager, &clock, &renewed, t0() + secs(900), Some(600)).is_none());
}

// ---------------------------------------------------------------------------
// Rotation
// ---------------------------------------------------------------------------

#[test]
fn a_cookie_under_an_old_secret_is_resealed_under_the_new_one() {
    let clock = common::clock();
    let config_a = config_of(legacy_builder(keyring(&[SECRET_A]), &clock));
    let config_ba = config_of(legacy_builder(keyring(&[SECRET_B, SECRET_A]), &clock));
    let config_b = config_of(legacy_builder(keyring(&[SECRET_B]), &clock));
    // The key ids of the two secrets, as the format derives them.
    let id_a = key_id_of(SECRET_A);
    let id_b = key_id_of(SECRET_B);
    assert_ne!(id_a, id_b);

    let old = new_cookie(&config_a, &clock, cart("ada", &[1]), t0());
    clock.set(t0());
    let sealed = config_a.codec().open::<Cart>(old.value()).expect("opens");
    assert_eq!(sealed.key_id().to_bytes(), id_a);

    // Deploy step 3: B seals, A still opens.
    let now = t0() + secs(60);
    clock.set(now);
    let session = config_ba.load::<Cart>(&request_with(&old));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert!(session.was_loaded());
    assert!(session.needs_write());
    let new = write_set(&session);
    assert_eq!(
        Attributes::of(&new),
        Attributes::session(new.value(), now, 7 * DAY - 60)
    );
    let resealed = config_ba.codec().open::<Cart>(new.value()).expect("opens");
    assert_eq!(resealed.key_id().to_bytes(), id_b);
    assert!(!resealed.sealed_with_old_secret());
    assert!(!resealed.needs_reseal());
    assert_eq!(resealed.envelope().id(), sealed.envelope().id());
    assert_eq!(
        resealed.envelope().created_at(),
        sealed.envelope().created_at()
    );
    assert_eq!(
        resealed.envelope().absolute_deadline(),
        sealed.envelope().absolute_deadline()
    );
    assert_eq!(resealed.value(), &cart("ada", &[1]));
    // Nothing left to write, and the re-sealed cookie needs no reseal.
    write_nothing(&session);
    let session = config_ba.load::<Cart>(&request_with(&new));
    assert!(!session.needs_write());

    // Step 5: A retired. The re-sealed cookie opens; the old one is unknown
    // and removed.
    let session = config_b.load::<Cart>(&request_with(&new));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    write_nothing(&session);
    let session = config_b.load::<Cart>(&request_with(&old));
    assert!(session.is_empty());
    assert_eq!(
        session.rejection(),
        Some(Error::UnknownKey(sealed.key_id()))
    );
    assert_eq!(session.rejection().map(|e| e.code()), Some("unknown-key"));
    write_removed(&session);
}

#[test]
fn a_cookie_sealed_with_another_algorithm_is_resealed() {
    let clock = common::clock();
    let xchacha = config_of(codec_builder(&clock).algorithm(Algorithm::XChaCha20Poly1305));
    let xaes = legacy_config(&clock);
    // The legacy settings seal with XAES-256-GCM (the default algorithm).
    clock.set(t0());
    let probe = xaes.codec().seal(&0u8).expect("seals");
    assert_eq!(
        xaes.codec().open::<u8>(&probe).map(|o| o.algorithm()),
        Ok(Algorithm::XAes256Gcm)
    );

    let old = new_cookie(&xchacha, &clock, cart("ada", &[]), t0());
    clock.set(t0());
    let sealed = xchacha.codec().open::<Cart>(old.value()).expect("opens");
    assert_eq!(sealed.algorithm(), Algorithm::XChaCha20Poly1305);
    let session = xaes.load::<Cart>(&request_with(&old));
    assert!(session.was_loaded());
    assert!(session.needs_write());
    let new = write_set(&session);
    let resealed = xaes.codec().open::<Cart>(new.value()).expect("opens");
    assert_eq!(resealed.algorithm(), Algorithm::XAes256Gcm);
    assert!(!resealed.needs_reseal());
    assert_eq!(resealed.envelope().id(), sealed.envelope().id());
    assert_eq!(
        resealed.envelope().created_at(),
        sealed.envelope().created_at()
    );
    assert_eq!(
        resealed.envelope().absolute_deadline(),
        sealed.envelope().absolute_deadline()
    );
}

// ---------------------------------------------------------------------------
// Size
// ---------------------------------------------------------------------------

/// A cart whose cookie is far over 4096 bytes.
fn oversized() -> Cart {
    Cart {
        user: "x".repeat(5000),
        items: Vec::new(),
    }
}

/// The size `Error::TooLarge` reports for [`oversized`] sealed at `t0`
/// with a 7-day lifetime: the name (7) plus the base64url length (4n/3
/// rounded up, no padding) of the token: overhead (46), envelope (29:
/// varints of the creation time (5), the lifetime of 604800 s (3) and the
/// time since creation of the last seal, 0 (1), then the schema id (4) and
/// the session id (16)) and payload (a 2-byte length, 5000 bytes, an empty
/// list's 1-byte length).
const OVERSIZED_LEN: usize = 7 + ((46 + 29 + 5003usize) * 4).div_ceil(3);

#[test]
fn try_insert_refuses_an_oversized_value_and_keeps_the_session() {
    let clock = common::clock();
    let too_large = Error::TooLarge {
        size: OVERSIZED_LEN,
        limit: 4096,
    };
    let config = legacy_config(&clock);

    // A new session stays new: no value, no id, nothing to write.
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    assert_eq!(session.try_insert(oversized()), Err(too_large.clone()));
    assert!(session.is_empty());
    assert_eq!(
        session.envelope(),
        None,
        "a failed try_insert drew an envelope"
    );
    assert!(!session.needs_write());
    write_nothing(&session);

    // A loaded session keeps its value and writes nothing new.
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    clock.set(t0());
    let session = config.load::<Cart>(&request_with(&cookie));
    let envelope = session.envelope();
    assert_eq!(session.try_insert(oversized()), Err(too_large));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert_eq!(session.envelope(), envelope);
    assert!(!session.needs_write());
    write_nothing(&session);

    // A value that fits is accepted and returns the previous one.
    assert_eq!(
        session.try_insert(cart("ada", &[2])),
        Ok(Some(cart("ada", &[1])))
    );
    let set = write_set(&session);
    let opened = config.codec().open::<Cart>(set.value()).expect("opens");
    assert_eq!(opened.value(), &cart("ada", &[2]));
}

#[test]
fn a_write_that_does_not_fit_appends_nothing() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    clock.set(t0());
    let session = config.load::<Cart>(&request_with(&cookie));
    session.insert(oversized());

    let mut headers = HeaderMap::new();
    headers.append(SET_COOKIE, HeaderValue::from_static("theme=dark"));
    assert_eq!(
        session.write(&mut headers),
        Err(Error::TooLarge {
            size: OVERSIZED_LEN,
            limit: 4096
        })
    );
    assert_eq!(headers.len(), 1);
    assert_eq!(
        headers.get(SET_COOKIE),
        Some(&HeaderValue::from_static("theme=dark"))
    );
    // The session still holds the value; a smaller one then goes through,
    // in the same session.
    assert_eq!(session.get(), Some(oversized()));
    assert!(session.needs_write());
    session.insert(cart("ada", &[2]));
    let set = write_set(&session);
    let opened = config.codec().open::<Cart>(set.value()).expect("opens");
    assert_eq!(Some(opened.envelope().id()), session.id());
    assert_eq!(opened.value(), &cart("ada", &[2]));

    // A new session that never fits writes nothing either.
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(oversized());
    let mut headers = HeaderMap::new();
    assert!(session.write(&mut headers).is_err());
    assert!(headers.is_empty());
}

/// `try_update` seals at the codec's clock.
#[test]
fn try_update_keeps_the_session_unchanged_on_error() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let base = t0();
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), base);
    clock.set(base);
    let session = config.load::<Cart>(&request_with(&cookie));
    let envelope = session.envelope();

    let result = session.try_update(|c| {
        c.items.push(2);
        c.user = "x".repeat(5000);
        "ran"
    });
    assert!(
        matches!(result, Err(Error::TooLarge { size, limit: 4096 }) if size > 4096),
        "{result:?}"
    );
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert_eq!(session.envelope(), envelope);
    assert!(!session.needs_write());
    write_nothing(&session);

    assert_eq!(
        session.try_update(|c| {
            c.items.push(2);
            c.items.len()
        }),
        Ok(2)
    );
    assert_eq!(session.get(), Some(cart("ada", &[1, 2])));
    let set = write_set(&session);
    let opened = config.codec().open::<Cart>(set.value()).expect("opens");
    assert_eq!(opened.value(), &cart("ada", &[1, 2]));

    // On an empty session it starts from the default, and an error leaves
    // the session empty.
    let session = config.load::<Cart>(&HeaderMap::new());
    assert!(session.try_update(|c| c.user = "x".repeat(5000)).is_err());
    assert!(session.is_empty());
    assert_eq!(
        session.envelope(),
        None,
        "a failed try_update drew an envelope"
    );
    write_nothing(&session);
    assert_eq!(session.try_update(|c| c.items.push(3)), Ok(()));
    assert_eq!(session.get(), Some(cart("", &[3])));
}

#[test]
fn the_cookie_sealed_by_try_insert_is_the_one_written() {
    let clock = common::clock();
    let config = config_of(codec_builder(&clock).idle_timeout(secs(600)));
    let written_at = t0() + secs(100);

    // Sealed at t0, written at t0 + 100: the cookie carries the idle
    // deadline of the seal at t0, so it is the eager seal, not a new one.
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    assert_eq!(session.try_insert(cart("ada", &[1])), Ok(None));
    clock.set(written_at);
    let set = write_set(&session);
    let opened = config.codec().open::<Cart>(set.value()).expect("opens");
    assert_eq!(opened.value(), &cart("ada", &[1]));
    assert_eq!(opened.envelope().idle_deadline(), Some(t0() + secs(600)));
    assert_eq!(Some(opened.envelope().id()), session.id());
    assert_eq!(
        Attributes::of(&set),
        Attributes::session(set.value(), written_at, 500)
    );

    // Any later change drops the eager seal: the write seals the changed
    // value at its own time.
    type Change = fn(&Session<Cart>);
    let changes: [(&str, Change); 4] = [
        ("insert", |s| {
            s.insert(cart("ada", &[1, 2]));
        }),
        ("update", |s| {
            assert!(s.update(|c| c.items.push(2)).is_some());
        }),
        ("update_or_default", |s| {
            s.update_or_default(|c| c.items.push(2));
        }),
        ("set_lifetime", |s| {
            assert!(s.update(|c| c.items.push(2)).is_some());
            s.set_lifetime(secs(3 * DAY));
        }),
    ];
    for (name, change) in changes {
        clock.set(t0());
        let session = config.load::<Cart>(&HeaderMap::new());
        session.try_insert(cart("ada", &[1])).expect("fits");
        change(&session);
        clock.set(written_at);
        let set = write_set(&session);
        let opened = config.codec().open::<Cart>(set.value()).expect("opens");
        assert_eq!(opened.value(), &cart("ada", &[1, 2]), "{name}");
        assert_eq!(
            opened.envelope().idle_deadline(),
            Some(written_at + secs(600)),
            "{name}"
        );
        assert_eq!(Some(opened.envelope().id()), session.id(), "{name}");
    }

    // A removal after an eager seal writes the removal, not the seal.
    let cookie = new_cookie(&config, &clock, cart("ada", &[]), t0());
    clock.set(t0());
    let session = config.load::<Cart>(&request_with(&cookie));
    session.try_insert(cart("ada", &[1])).expect("fits");
    session.remove();
    clock.set(written_at);
    write_removed(&session);
}

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

fn named(clock: &ManualClock, name: &str) -> Codec {
    codec_builder(clock)
        .cookie_name(name)
        .build()
        .expect("valid name")
}

#[test]
fn host_prefix_rules() {
    let clock = common::clock();
    let host = ConfigError::CookiePrefix {
        prefix: "__Host-",
        requires: "Secure, Path=/ and no Domain",
    };
    for name in ["__Host-sid", "__host-sid", "__HOST-sid"] {
        let builder = || SessionConfig::builder(named(&clock, name));
        assert_eq!(
            builder().dangerous_allow_plain_http().build().map(|_| ()),
            Err(host.clone()),
            "{name}"
        );
        assert_eq!(
            builder().domain("example.com").build().map(|_| ()),
            Err(host.clone()),
            "{name}"
        );
        assert_eq!(
            builder().path("/app").build().map(|_| ()),
            Err(host.clone()),
            "{name}"
        );
        // The defaults fit, and so does an explicit Path=/.
        assert!(builder().build().is_ok(), "{name}");
        assert!(builder().path("/").build().is_ok(), "{name}");
        let config = SessionConfig::new(named(&clock, name));
        let set = new_cookie(&config, &clock, cart("ada", &[]), t0());
        let mut expected = Attributes::session(set.value(), t0(), 7 * DAY);
        expected.name = name.into();
        assert_eq!(Attributes::of(&set), expected);
    }
}

#[test]
fn secure_prefix_rules() {
    let clock = common::clock();
    let secure = ConfigError::CookiePrefix {
        prefix: "__Secure-",
        requires: "Secure",
    };
    for name in ["__Secure-sid", "__secure-sid"] {
        assert_eq!(
            SessionConfig::builder(named(&clock, name))
                .dangerous_allow_plain_http()
                .build()
                .map(|_| ()),
            Err(secure.clone()),
            "{name}"
        );
        // Unlike `__Host-`, a Domain and a Path are allowed.
        assert!(
            SessionConfig::builder(named(&clock, name))
                .domain("example.com")
                .path("/app")
                .build()
                .is_ok()
        );
    }
    // Names that merely contain the prefixes are not prefixed.
    for name in ["x__Host-sid", "__Hostsid", "__Secure_sid"] {
        assert!(
            SessionConfig::builder(named(&clock, name))
                .dangerous_allow_plain_http()
                .build()
                .is_ok(),
            "{name}"
        );
    }
}

#[test]
fn plain_http_cookies_are_not_secure() {
    let clock = common::clock();
    let config = SessionConfig::builder(codec_builder(&clock).build().expect("valid"))
        .dangerous_allow_plain_http()
        .build()
        .expect("valid attributes");
    let set = new_cookie(&config, &clock, cart("ada", &[]), t0());
    let mut expected = Attributes::session(set.value(), t0(), 7 * DAY);
    expected.secure = false;
    assert_eq!(Attributes::of(&set), expected);
}

#[test]
fn same_site_none_and_partitioned_require_secure() {
    let clock = common::clock();
    // Not a `__Host-` name: those refuse plain HTTP and other paths first.
    let builder = || SessionConfig::builder(codec_builder(&clock).build().expect("valid"));
    assert_eq!(
        builder()
            .dangerous_allow_plain_http()
            .same_site(SameSite::None)
            .build()
            .map(|_| ()),
        Err(ConfigError::CookieAttribute {
            attribute: "SameSite",
            reason: "SameSite=None requires Secure",
        })
    );
    assert_eq!(
        builder()
            .dangerous_allow_plain_http()
            .partitioned(true)
            .build()
            .map(|_| ()),
        Err(ConfigError::CookieAttribute {
            attribute: "Partitioned",
            reason: "Partitioned requires Secure",
        })
    );
    // Plain HTTP is fine with the other SameSite values.
    for same_site in [SameSite::Lax, SameSite::Strict] {
        assert!(
            builder()
                .dangerous_allow_plain_http()
                .same_site(same_site)
                .build()
                .is_ok()
        );
    }

    // With Secure, both appear in the Set-Cookie.
    let config = builder()
        .same_site(SameSite::None)
        .partitioned(true)
        .build()
        .expect("valid attributes");
    let mut headers = HeaderMap::new();
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(cart("ada", &[]));
    session.write(&mut headers).expect("fits");
    let raw = headers[SET_COOKIE].to_str().expect("ASCII");
    assert!(raw.contains("; Partitioned"), "{}", raw.len());
    let set = the_set_cookie(&headers);
    let mut expected = Attributes::session(set.value(), t0(), 7 * DAY);
    expected.same_site = Some(cookie::SameSite::None);
    expected.partitioned = true;
    assert_eq!(Attributes::of(&set), expected);
    // The removal carries them too, or the browser would not match it.
    let session = config.load::<Cart>(&request_with(&set));
    session.destroy();
    assert_eq!(Attributes::of(&write_removed(&session)), expected.removal());
}

#[test]
fn bad_paths_and_domains_are_refused() {
    let clock = common::clock();
    // Not a `__Host-` name: those refuse plain HTTP and other paths first.
    let builder = || SessionConfig::builder(codec_builder(&clock).build().expect("valid"));
    for path in ["", "app", "app/", "/a;b", "/a\nb", "/a\u{7f}", "/caf\u{e9}"] {
        assert!(
            matches!(
                builder().path(path).build(),
                Err(ConfigError::CookieAttribute {
                    attribute: "Path",
                    ..
                })
            ),
            "{path:?}"
        );
    }
    for path in ["/", "/app", "/app/", "/a b", "/~user/x"] {
        assert!(builder().path(path).build().is_ok(), "{path:?}");
    }
    let long_label = format!("{}.com", "a".repeat(64));
    for domain in [
        "",
        ".",
        "..",
        "example..com",
        "example.com.",
        "exa mple.com",
        "example.com;",
        "a_b.com",
        "caf\u{e9}.com",
        "example.com/",
        long_label.as_str(),
    ] {
        assert!(
            matches!(
                builder().domain(domain).build(),
                Err(ConfigError::CookieAttribute {
                    attribute: "Domain",
                    ..
                })
            ),
            "{domain:?}"
        );
    }
    for domain in [
        "example.com",
        ".example.com",
        "sub.example-1.com",
        "localhost",
    ] {
        assert!(builder().domain(domain).build().is_ok(), "{domain:?}");
    }
}

#[test]
fn other_set_cookie_headers_are_kept() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[]), t0());
    let theme = HeaderValue::from_static("theme=dark; Path=/");
    let lang = HeaderValue::from_static("lang=en; Path=/");

    // A set...
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(cart("ada", &[]));
    let mut headers = HeaderMap::new();
    headers.append(SET_COOKIE, theme.clone());
    headers.append(SET_COOKIE, lang.clone());
    assert_eq!(session.write(&mut headers), Ok(Written::Set));
    let all: Vec<_> = headers.get_all(SET_COOKIE).iter().collect();
    assert_eq!(all.len(), 3);
    assert_eq!((all[0], all[1]), (&theme, &lang));
    assert!(
        all[2].is_sensitive(),
        "the session cookie is marked sensitive"
    );
    assert_eq!(set_cookies(&headers)[2].name(), "session");

    // ... and a removal.
    let session = config.load::<Cart>(&request_with(&cookie));
    session.destroy();
    let mut headers = HeaderMap::new();
    headers.append(SET_COOKIE, theme.clone());
    assert_eq!(session.write(&mut headers), Ok(Written::Removed));
    let all = set_cookies(&headers);
    assert_eq!(all.len(), 2);
    assert_eq!(headers.get(SET_COOKIE), Some(&theme));
    assert_eq!(
        Attributes::of(&all[1]),
        Attributes::session("", t0(), 0).removal()
    );
}

// ---------------------------------------------------------------------------
// Binding
// ---------------------------------------------------------------------------

#[test]
fn a_bound_session_opens_only_with_its_binding() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let codec = config.codec();
    let home = Binding::new(b"203.0.113.7");
    let elsewhere = Binding::new(b"198.51.100.20");

    clock.set(t0());
    let session = config.load_with::<Cart>(&HeaderMap::new(), &OpenOptions::new().binding(home));
    session.insert(cart("ada", &[1]));
    let bound = write_set(&session);
    // The written cookie is bound: it opens with the binding only.
    let opened = codec
        .open_with::<Cart>(bound.value(), &OpenOptions::new().binding(home))
        .expect("opens bound");
    assert_eq!(opened.value(), &cart("ada", &[1]));
    assert_eq!(
        codec.open::<Cart>(bound.value()).map(|_| ()),
        Err(Error::AuthenticationFailed)
    );

    // Loaded with the same binding: the session, and a re-seal stays bound.
    let now = t0() + secs(10);
    clock.set(now);
    let session =
        config.load_with::<Cart>(&request_with(&bound), &OpenOptions::new().binding(home));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert!(session.update(|c| c.items.push(2)).is_some());
    let resealed = write_set(&session);
    assert_eq!(
        codec
            .open_with::<Cart>(resealed.value(), &OpenOptions::new().binding(home))
            .map(|o| o.into_value()),
        Ok(cart("ada", &[1, 2]))
    );
    assert_eq!(
        codec.open::<Cart>(resealed.value()).map(|_| ()),
        Err(Error::AuthenticationFailed)
    );

    // Another binding, or none: rejected as a possible forgery and removed.
    for binding in [Some(elsewhere), None] {
        let options = binding.map_or_else(OpenOptions::new, |b| OpenOptions::new().binding(b));
        clock.set(now);
        let session = config.load_with::<Cart>(&request_with(&bound), &options);
        assert!(session.is_empty(), "{binding:?}");
        assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
        write_removed(&session);
    }
    // An unbound cookie does not open bound.
    let unbound = new_cookie(&config, &clock, cart("ada", &[]), t0());
    clock.set(now);
    let session =
        config.load_with::<Cart>(&request_with(&unbound), &OpenOptions::new().binding(home));
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
}

/// `load_with` and a binding (the old `load_bound`).
#[test]
fn load_with_a_binding_uses_the_binding() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let device = Binding::new(b"device 5f2c");
    let bound_to = |binding| OpenOptions::new().binding(binding);
    clock.set(t0());
    let session = config.load_with::<Cart>(&HeaderMap::new(), &bound_to(device));
    session.insert(cart("ada", &[]));
    let bound = write_set(&session);

    let session = config.load_with::<Cart>(&request_with(&bound), &bound_to(device));
    assert_eq!(session.get(), Some(cart("ada", &[])));
    let session = config.load_with::<Cart>(
        &request_with(&bound),
        &bound_to(Binding::new(b"device 5f2d")),
    );
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
    let session = config.load::<Cart>(&request_with(&bound));
    assert_eq!(session.rejection(), Some(Error::AuthenticationFailed));
}

// ---------------------------------------------------------------------------
// Sharing and privacy
// ---------------------------------------------------------------------------

#[test]
fn clones_share_one_session() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    let clone = session.clone();
    clone.insert(cart("ada", &[1]));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert!(session.needs_write());
    assert!(session.update(|c| c.items.push(2)).is_some());
    assert_eq!(clone.get(), Some(cart("ada", &[1, 2])));

    // Written through one handle, the other has nothing left to write.
    let set = write_set(&session);
    assert!(!clone.needs_write());
    write_nothing(&clone);
    assert_eq!(clone.id(), session.id());

    // Across threads too.
    let loaded = config.load::<Cart>(&request_with(&set));
    let handle = loaded.clone();
    std::thread::spawn(move || handle.update(|c| c.items.push(3)))
        .join()
        .expect("the thread ran");
    assert_eq!(loaded.get(), Some(cart("ada", &[1, 2, 3])));
}

#[test]
fn sessions_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Session<Cart>>();
    send_sync::<SessionConfig>();
    // `Cell` is `Send` but not `Sync`: the session's lock makes it `Sync`.
    send_sync::<Session<Cell<u32>>>();
}

/// Personal data that must never reach a log through `Debug`.
const PERSONAL: &str = "PERSONAL-DATA-7f3e-do-not-log";

#[test]
fn debug_shows_neither_the_value_nor_the_cookie() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart(PERSONAL, &[]), t0());

    clock.set(t0());
    let loaded = config.load::<Cart>(&request_with(&cookie));
    // An eager seal holds a cookie value until the write: formatted before
    // the write, compared with the value the write then sends.
    let eager = config.load::<Cart>(&HeaderMap::new());
    eager.try_insert(cart(PERSONAL, &[1])).expect("fits");
    let eager_text = format!("{eager:?}");
    let eager_value = write_set(&eager).value().to_string();
    let forged = tampered(cookie.value());
    let rejected = config.load::<Cart>(&request(&[&format!("session={forged}")]));

    let shown = [
        (format!("{loaded:?}"), cookie.value().to_string()),
        (eager_text, eager_value),
        (format!("{rejected:?}"), forged),
    ];
    for (text, value) in &shown {
        assert!(text.starts_with("Session {"), "{text}");
        assert!(!text.contains(PERSONAL), "{text}");
        assert!(!text.contains("PERSONAL"), "{text}");
        // Not the cookie value, nor any 16-character piece of it.
        let chars: Vec<char> = value.chars().collect();
        for piece in chars.windows(16) {
            let piece: String = piece.iter().collect();
            assert!(!text.contains(&piece), "{text}");
        }
    }
    // The configuration shows no secret.
    let text = format!("{config:?}");
    assert!(!text.contains(SECRET_A) && !text.contains("http test secret"));
}

// ---------------------------------------------------------------------------
// Log events (with `--features tracing`)
// ---------------------------------------------------------------------------

#[cfg(feature = "tracing")]
mod log_events {
    //! The events `load` emits for rejected cookies, captured with a
    //! `tracing_subscriber::fmt` subscriber writing into a buffer
    //! (`common::captured`).

    use super::*;

    use common::captured;

    /// The one line `load` logs for a request whose session cookies did not
    /// all open, as the `fmt` subscriber of [`captured`] writes it: a warning when one
    /// failed authentication, otherwise a debug event.
    fn event(
        tampering: bool,
        cookie: &str,
        rejected: usize,
        reason: &str,
        untried: bool,
        loaded: bool,
    ) -> String {
        let (level, message) = if tampering {
            (
                " WARN",
                "session cookie rejected, at least one failing authentication (possible tampering)",
            )
        } else {
            ("DEBUG", "session cookie rejected")
        };
        format!(
            "{level} sealed_session::cookies: {message} cookie=\"{cookie}\" rejected={rejected} \
             reason=\"{reason}\" untried={untried} loaded={loaded}\n"
        )
    }

    /// `log` holds no 16-character piece of any of `values`.
    fn assert_no_value(log: &str, values: &[&str]) {
        for value in values {
            let chars: Vec<char> = value.chars().collect();
            for piece in chars.windows(16) {
                let piece: String = piece.iter().collect();
                assert!(!log.contains(&piece), "{log}");
            }
        }
    }

    #[test]
    fn rejected_cookies_are_logged_by_code_never_by_value() {
        let clock = common::clock();
        let config = legacy_config(&clock);
        let good = new_cookie(&config, &clock, cart("ada", &[]), t0());
        let expired = new_cookie(&config, &clock, cart("old", &[]), t0() - secs(8 * DAY));
        let forged = tampered(good.value());

        // One expired cookie: one debug event.
        let expired_log = captured(|| {
            clock.set(t0());
            let session = config.load::<Cart>(&request_with(&expired));
            assert!(session.is_empty());
        });
        assert_eq!(
            expired_log,
            event(false, "session", 1, "expired-absolute", false, false)
        );

        // One forged cookie: one warning.
        let forged_log = captured(|| {
            let headers = request(&[&format!("session={forged}")]);
            clock.set(t0());
            let session = config.load::<Cart>(&headers);
            assert!(session.is_empty());
        });
        assert_eq!(
            forged_log,
            event(true, "session", 1, "authentication-failed", false, false)
        );

        // Too many duplicates: still one event, counting those tried and
        // saying that some were not.
        let duplicates_log = captured(|| {
            let pairs: Vec<String> = (0..=MAX_SESSION_COOKIES_TRIED)
                .map(|_| format!("session={}", expired.value()))
                .collect();
            clock.set(t0());
            let session = config.load::<Cart>(&request(&[&pairs.join("; ")]));
            assert!(session.is_empty());
        });
        assert_eq!(
            duplicates_log,
            event(
                false,
                "session",
                MAX_SESSION_COOKIES_TRIED,
                "expired-absolute",
                true,
                false
            )
        );

        // A valid cookie logs nothing.
        let quiet = captured(|| {
            clock.set(t0());
            let session = config.load::<Cart>(&request_with(&good));
            assert!(session.was_loaded());
        });
        assert_eq!(quiet, "");

        for log in [&expired_log, &forged_log, &duplicates_log] {
            assert_no_value(log, &[expired.value(), forged.as_str(), good.value()]);
        }
    }

    /// Guards the one-event-per-request rule (issue 11): the previous
    /// release logged one event per rejected cookie (and one more about
    /// untried duplicates), so a request of forged cookies cost up to ten
    /// log lines. Now: exactly one, whatever the request carries.
    #[test]
    fn forged_duplicates_and_chunks_give_one_event_per_request() {
        let clock = common::clock();
        let config = SessionConfig::builder(codec_builder(&clock).build().expect("valid"))
            .max_chunks(2)
            .build()
            .expect("valid attributes");
        let good = new_cookie(&config, &clock, cart("ada", &[1]), t0());
        let forged = tampered(good.value());
        let chunks = "session.0=AAAA; session.1=AAAA";
        // `bad0` decodes to 3 bytes (truncated) and comes first: its code is
        // the reason; the forged copies make it a warning.
        let pairs = |duplicates: usize| {
            let mut pairs = vec!["session=bad0".to_string()];
            pairs.extend((1..duplicates).map(|_| format!("session={forged}")));
            pairs.push(chunks.to_string());
            pairs.join("; ")
        };

        // 8 duplicates, all tried, and the chunk set: 9 rejected.
        let mut headers = HeaderMap::new();
        let log = captured(|| {
            clock.set(t0());
            let session = config.load::<Cart>(&request(&[&pairs(8)]));
            assert!(session.is_empty());
            assert_eq!(
                session.rejection(),
                Some(Error::Malformed(Malformed::Truncated))
            );
            assert_eq!(session.write(&mut headers), Ok(Written::Removed));
        });
        assert_eq!(log, event(true, "session", 9, "malformed", false, false));
        let names: Vec<String> = set_cookies(&headers)
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        assert_eq!(names, ["session", "session.0", "session.1"]);

        // More than 8 duplicates: 8 tried, the rest untried, the chunk set
        // tried: still one event, with 9 rejected and `untried`.
        for duplicates in [9, 3 * MAX_SESSION_COOKIES_TRIED] {
            let log = captured(|| {
                let headers = request(&[&pairs(duplicates)]);
                clock.set(t0());
                let session = config.load::<Cart>(&headers);
                assert!(session.is_empty());
                // Untried duplicates: no removal, it could hit a valid one.
                write_nothing(&session);
            });
            assert_eq!(
                log,
                event(true, "session", 9, "malformed", true, false),
                "{duplicates} duplicates"
            );
            assert_no_value(&log, &[forged.as_str(), good.value()]);
        }

        // Expired or foreign cookies only (no forgery): a debug event.
        let expired = new_cookie(&config, &clock, cart("old", &[]), t0() - secs(8 * DAY));
        let log = captured(|| {
            let headers = request(&[&format!(
                "session={}; session=bad0; {chunks}",
                expired.value()
            )]);
            clock.set(t0());
            let session = config.load::<Cart>(&headers);
            assert!(session.is_empty());
        });
        assert_eq!(
            log,
            event(false, "session", 3, "expired-absolute", false, false)
        );

        // No session cookie (nor a chunk of one): no event at all.
        for headers in [
            HeaderMap::new(),
            request(&["theme=dark; lang=en"]),
            request(&["sessionx=junk; session_old=junk; session.x=junk; session.2=junk"]),
            request_with(&good),
        ] {
            let log = captured(|| {
                clock.set(t0());
                let session = config.load::<Cart>(&headers);
                assert_eq!(session.rejection(), None);
            });
            assert_eq!(log, "", "{headers:?}");
        }
    }

    /// Guards the `loaded` field (issue 11): a rejected cookie next to one
    /// that opens is one event saying the session loaded anyway; the
    /// previous release logged the rejection alone, without `loaded`.
    #[test]
    fn a_valid_cookie_after_a_forged_one_logs_one_event_with_loaded() {
        let clock = common::clock();
        let config = legacy_config(&clock);
        let good = new_cookie(&config, &clock, cart("ada", &[1]), t0());
        let forged = tampered(good.value());
        let log = captured(|| {
            let headers = request(&[&format!("session={forged}; session={}", good.value())]);
            clock.set(t0());
            let session = config.load::<Cart>(&headers);
            assert_eq!(session.get(), Some(cart("ada", &[1])));
        });
        assert_eq!(
            log,
            event(true, "session", 1, "authentication-failed", false, true)
        );
        assert_no_value(&log, &[forged.as_str(), good.value()]);

        // The same when the session that opens is a chunked one.
        let chunked = chunked_config(&clock, 2);
        let cookies = big_session_cookies(&chunked, &clock);
        let log = captured(|| {
            let headers = request(&[&format!("session={forged}; {}", pairs_of(&cookies))]);
            clock.set(t0());
            let session = chunked.load::<Cart>(&headers);
            assert_eq!(session.get(), Some(big_cart()));
        });
        assert_eq!(
            log,
            event(true, "session", 1, "authentication-failed", false, true)
        );
    }
}

// ---------------------------------------------------------------------------
// Edge cases found in review
// ---------------------------------------------------------------------------

#[test]
fn logout_is_not_lost_when_the_new_value_does_not_fit() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    clock.set(t0());
    let session = config.load::<Cart>(&request_with(&cookie));
    session.destroy();
    // Something too large for the cookie is put into the logged-out session.
    session.insert(Cart {
        user: "x".repeat(5000),
        items: vec![],
    });
    let mut headers = HeaderMap::new();
    let result = session.write(&mut headers);
    assert!(matches!(result, Err(Error::TooLarge { .. })), "{result:?}");
    // The error is reported, and the old (logged-in) cookie is removed all
    // the same.
    assert_eq!(
        Attributes::of(&the_set_cookie(&headers)),
        Attributes::session("", t0(), 0).removal()
    );
}

#[test]
fn a_failed_write_without_logout_appends_nothing() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    clock.set(t0());
    let session = config.load::<Cart>(&request_with(&cookie));
    session.remove();
    session.insert(Cart {
        user: "x".repeat(5000),
        items: vec![],
    });
    let mut headers = HeaderMap::new();
    assert!(matches!(
        session.write(&mut headers),
        Err(Error::TooLarge { .. })
    ));
    assert!(headers.is_empty());
}

#[test]
fn rolling_renewal_writes_once_per_handle() {
    let clock = common::clock();
    let config = SessionConfig::builder(default_builder(&clock).build().expect("valid"))
        .renewal(Renewal::Always)
        .build()
        .unwrap();
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    clock.set(t0() + secs(5));
    let session = config.load::<Cart>(&request_with(&cookie));
    assert!(session.needs_write());
    write_set(&session);
    // The browser now holds what this handle wrote: nothing more to do.
    clock.set(t0() + secs(6));
    assert!(!session.needs_write());
    write_nothing(&session);
    // A change still writes.
    assert!(session.update(|c| c.items.push(2)).is_some());
    clock.set(t0() + secs(7));
    write_set(&session);
}

#[test]
fn load_facts_survive_the_write() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    // A rejected cookie: the reason stays after the removal is written.
    clock.set(t0());
    let session = config.load::<Cart>(&request(&["session=junk"]));
    write_removed(&session);
    assert_eq!(
        session.rejection().map(|e| e.code()),
        Some("malformed"),
        "the reason is kept for logs and metrics"
    );
    assert!(!session.was_loaded());

    // A new session that gets written was still not loaded.
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(cart("ada", &[]));
    let cookie = write_set(&session);
    assert!(!session.was_loaded());

    // A loaded one stays loaded after it is removed.
    let session = config.load::<Cart>(&request_with(&cookie));
    session.destroy();
    write_removed(&session);
    assert!(session.was_loaded());
    assert_eq!(session.rejection(), None);
}

#[test]
fn shortening_the_lifetime_into_the_past_removes_the_cookie() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    let later = t0() + secs(2 * 3600);
    clock.set(later);
    let session = config.load::<Cart>(&request_with(&cookie));
    // "Remember me" off: the session may live one hour, but it is two hours
    // old already.
    session.set_lifetime(secs(3600));
    write_removed(&session);
    assert!(session.is_empty());
}

#[test]
fn a_cookie_with_less_than_a_second_left_is_removed_not_set() {
    let clock = common::clock();
    let config = config_of(codec_builder(&clock).lifetime(secs(100)));
    let cookie = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    let almost = t0() + Duration::from_millis(99_500);
    clock.set(almost);
    let session = config.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert!(session.update(|c| c.items.push(2)).is_some());
    // `Max-Age=0` would delete it anyway: the helper says so.
    write_removed(&session);
    // With a whole second left it is still set, with Max-Age=1.
    clock.set(t0() + secs(99));
    let session = config.load::<Cart>(&request_with(&cookie));
    assert!(session.update(|c| c.items.push(2)).is_some());
    assert_eq!(
        write_set(&session).max_age().map(|d| d.whole_seconds()),
        Some(1)
    );
}

#[test]
fn regenerate_keeps_a_remember_me_lifetime() {
    let clock = common::clock();
    let config = config_of(codec_builder(&clock).max_lifetime(secs(30 * DAY)));
    clock.set(t0());
    let login = config.load::<Cart>(&HeaderMap::new());
    login.insert(cart("ada", &[]));
    login.regenerate();
    login.set_lifetime(secs(30 * DAY));
    let cookie = write_set(&login);
    assert_eq!(
        cookie.max_age().map(|d| d.whole_seconds()),
        Some(i64::try_from(30 * DAY).unwrap())
    );

    // A later request regenerates (a privilege change): still 30 days, now
    // counted from the new creation time.
    let later = t0() + secs(DAY);
    clock.set(later);
    let session = config.load::<Cart>(&request_with(&cookie));
    let old_id = session.id();
    session.regenerate();
    assert_ne!(session.id(), old_id);
    let envelope = session.envelope().unwrap();
    assert_eq!(envelope.created_at(), later);
    assert_eq!(envelope.absolute_deadline(), later + secs(30 * DAY));
    let cookie = write_set(&session);
    assert_eq!(
        cookie.max_age().map(|d| d.whole_seconds()),
        Some(i64::try_from(30 * DAY).unwrap())
    );
}

#[test]
fn renewal_after_must_be_shorter_than_the_idle_timeout() {
    let clock = common::clock();
    let codec = codec_builder(&clock)
        .idle_timeout(secs(600))
        .build()
        .unwrap();
    for after in [secs(600), secs(3600)] {
        let error = SessionConfig::builder(codec.clone())
            .renewal(Renewal::After(after))
            .build()
            .unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::CookieAttribute {
                    attribute: "Renewal",
                    ..
                }
            ),
            "{error:?}"
        );
    }
    assert!(
        SessionConfig::builder(codec)
            .renewal(Renewal::After(secs(599)))
            .build()
            .is_ok()
    );
}

#[test]
fn debug_inside_a_closure_does_not_deadlock() {
    let clock = common::clock();
    let config = legacy_config(&clock);
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    // On another thread, so that a deadlock fails the test instead of
    // hanging it.
    let (done, result) = std::sync::mpsc::channel();
    let worker = session.clone();
    std::thread::spawn(move || {
        let clone = worker.clone();
        let text = worker.update_or_default(|_| format!("{clone:?}"));
        done.send(text).unwrap();
    });
    let text = result
        .recv_timeout(Duration::from_secs(10))
        .expect("Debug inside the session's own closure deadlocked");
    assert!(text.contains("<locked>"), "{text}");
    assert!(format!("{session:?}").contains("has_value: true"));
}

#[test]
fn reseal_keeps_the_binding() {
    let clock = common::clock();
    let codec = default_builder(&clock).build().unwrap();
    let home = Binding::new("203.0.113.7");
    let bound = OpenOptions::new().binding(home);
    // A new session, created at t0 and bound to `home`.
    let value = codec
        .seal_with(&5u32, &SealOptions::new().binding(home))
        .unwrap();
    let opened = codec.open_with::<u32>(&value, &bound).unwrap();
    clock.set(t0() + secs(1));
    let resealed = codec
        .seal_with(opened.value(), &opened.seal_options())
        .unwrap();
    let reopened = codec.open_with::<u32>(&resealed, &bound).unwrap();
    assert_eq!(*reopened.value(), 5);
    assert_eq!(reopened.envelope().id(), opened.envelope().id());
    assert_eq!(
        codec.open::<u32>(&resealed).unwrap_err(),
        Error::AuthenticationFailed
    );
}

// ---------------------------------------------------------------------------
// The defaults (issue 11)
// ---------------------------------------------------------------------------

/// The attributes after the value of every cookie the defaults set at `t0`:
/// `Max-Age` is the 30-minute idle timeout, `Expires` is `t0` + 1800 s
/// (2027-01-15 08:30:00 UTC, a Friday).
const DEFAULT_ATTRIBUTES_AT_T0: &str = "; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=1800; \
                                        Expires=Fri, 15 Jan 2027 08:30:00 GMT";

/// The attributes after the (empty) value of every removal the defaults
/// write.
const DEFAULT_REMOVAL_ATTRIBUTES: &str = "; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0; \
                                          Expires=Thu, 01 Jan 1970 00:00:00 GMT";

#[test]
fn the_defaults_are_a_host_cookie_with_a_30_minute_idle_timeout_and_a_12_hour_lifetime() {
    let clock = common::clock();
    let config = default_config(&clock);
    let codec = config.codec();
    assert_eq!(DEFAULT_COOKIE_NAME, "__Host-session");
    assert_eq!(DEFAULT_LIFETIME, secs(12 * 3600));
    assert_eq!(DEFAULT_IDLE_TIMEOUT, secs(1800));
    assert_eq!(codec.cookie_name(), "__Host-session");
    // The codec has no getters for its lifetimes: its Debug shows them, and
    // their effects are checked below.
    let settings = format!("{codec:?}");
    assert!(settings.contains(" lifetime_secs: 43200,"), "{settings}");
    assert!(
        settings.contains(" max_lifetime_secs: 43200,"),
        "{settings}"
    );
    assert!(
        settings.contains(" idle_timeout_secs: Some(1800),"),
        "{settings}"
    );
    assert_eq!(config.renewal(), Renewal::HalfIdle);
    assert_eq!(config.max_chunks(), 1);

    // A fresh session: the exact header, Max-Age from the idle timeout.
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(cart("ada", &[1]));
    let mut headers = HeaderMap::new();
    assert_eq!(session.write(&mut headers), Ok(Written::Set));
    let set = the_set_cookie(&headers);
    assert_eq!(
        headers[SET_COOKIE].to_str().expect("ASCII"),
        format!("__Host-session={}{DEFAULT_ATTRIBUTES_AT_T0}", set.value())
    );
    assert_eq!(
        Attributes::of(&set),
        Attributes::named("__Host-session", set.value(), t0(), 1800)
    );
    let opened = codec.open::<Cart>(set.value()).expect("opens");
    assert_eq!(opened.envelope().created_at(), t0());
    assert_eq!(
        opened.envelope().absolute_deadline(),
        t0() + secs(12 * 3600)
    );
    assert_eq!(opened.envelope().idle_deadline(), Some(t0() + secs(1800)));
    assert_eq!(session.expires_at(), Some(t0() + secs(1800)));
    // The maximum lifetime is the lifetime: a longer one is capped to it.
    let longer = codec
        .seal_with(&cart("ada", &[]), &SealOptions::new().lifetime(secs(DAY)))
        .expect("seals");
    assert_eq!(
        codec
            .open::<Cart>(&longer)
            .map(|o| o.envelope().absolute_deadline()),
        Ok(t0() + secs(12 * 3600))
    );

    // Idle for 30 minutes: expired, and the response removes it.
    clock.set(t0() + secs(1800));
    let idle = config.load::<Cart>(&request_with(&set));
    assert_eq!(
        idle.rejection(),
        Some(Error::Expired {
            deadline: Deadline::Idle
        })
    );
    let mut headers = HeaderMap::new();
    assert_eq!(idle.write(&mut headers), Ok(Written::Removed));
    assert_eq!(
        headers[SET_COOKIE].to_str().expect("ASCII"),
        format!("__Host-session={DEFAULT_REMOVAL_ATTRIBUTES}")
    );

    // An active user is renewed every 15 minutes (half the idle timeout)
    // with a fresh 30-minute Max-Age, up to the 12-hour absolute deadline;
    // the renewal that would not move the expiry is skipped.
    let mut cookie = set;
    assert!(renew_at(&config, &clock, &cookie, t0() + secs(899), Some(1800)).is_none());
    for k in 1..=46 {
        cookie = renew_at(&config, &clock, &cookie, t0() + secs(k * 900), Some(1800))
            .unwrap_or_else(|| panic!("not renewed after {k} quarter hours"));
        assert_eq!(
            cookie.max_age().map(|d| d.whole_seconds()),
            Some(1800),
            "{k}"
        );
    }
    // Renewed at 11 h 30 min: its idle deadline is the absolute one.
    assert!(renew_at(&config, &clock, &cookie, t0() + secs(47 * 900), Some(1800)).is_none());
    clock.set(t0() + secs(12 * 3600 - 1));
    let last = config.load::<Cart>(&request_with(&cookie));
    assert_eq!(last.get(), Some(cart("ada", &[1])));
    clock.set(t0() + secs(12 * 3600));
    let over = config.load::<Cart>(&request_with(&cookie));
    assert_eq!(
        over.rejection(),
        Some(Error::Expired {
            deadline: Deadline::Absolute
        })
    );

    // A `__Host-` name refuses plain HTTP, another path and a domain.
    let prefix = Err(ConfigError::CookiePrefix {
        prefix: "__Host-",
        requires: "Secure, Path=/ and no Domain",
    });
    let builder = || SessionConfig::builder(default_builder(&clock).build().expect("valid"));
    assert_eq!(
        builder().dangerous_allow_plain_http().build().map(|_| ()),
        prefix
    );
    assert_eq!(builder().path("/app").build().map(|_| ()), prefix);
    assert_eq!(builder().domain("example.com").build().map(|_| ()), prefix);
}

// ---------------------------------------------------------------------------
// Settings that govern cookies already issued (issue 11)
// ---------------------------------------------------------------------------

/// Guards "the configured idle timeout reaches issued cookies": the
/// previous release sealed the idle deadline into the cookie, so a cookie
/// sealed without one never expired by idleness, whatever was configured
/// later; this test then failed at `t0 + 600`, where the cookie still
/// opened.
#[test]
fn an_idle_timeout_enabled_later_applies_to_cookies_already_issued() {
    let clock = common::clock();
    let without = legacy_config(&clock);
    let with = config_of(codec_builder(&clock).idle_timeout(secs(600)));
    let cookie = new_cookie(&without, &clock, cart("ada", &[1]), t0());

    // Opens while its last seal plus 600 s lies ahead.
    let now = t0() + secs(599);
    clock.set(now);
    let session = with.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    let envelope = session.envelope().expect("loaded");
    assert_eq!(envelope.renewed_at(), t0());
    assert_eq!(envelope.idle_deadline(), Some(t0() + secs(600)));
    assert_eq!(session.expires_at(), Some(t0() + secs(600)));

    // Expired from then on: empty, and the response removes it.
    for offset in [600, 601, 3600] {
        let now = t0() + secs(offset);
        clock.set(now);
        let session = with.load::<Cart>(&request_with(&cookie));
        assert!(session.is_empty(), "{offset}");
        assert_eq!(
            session.rejection(),
            Some(Error::Expired {
                deadline: Deadline::Idle
            }),
            "{offset}"
        );
        assert_eq!(session.rejection().map(|e| e.code()), Some("expired-idle"));
        let removal = write_removed(&session);
        assert_eq!(
            Attributes::of(&removal),
            Attributes::session("", now, 0).removal()
        );
    }
    // The configuration without an idle timeout still opens it.
    clock.set(t0() + secs(3600));
    let session = without.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
}

/// Guards renewal of issued cookies under a newly configured idle timeout:
/// the previous release renewed by the idle deadline sealed in the cookie,
/// which a cookie sealed without idle timeout did not have, so nothing was
/// renewed and the cookie expired under an active user.
#[test]
fn a_cookie_issued_without_idle_timeout_is_renewed_once_half_the_new_one_passed() {
    let clock = common::clock();
    let without = legacy_config(&clock);
    let with = config_of(codec_builder(&clock).idle_timeout(secs(600)));
    assert_eq!(with.renewal(), Renewal::HalfIdle);
    let cookie = new_cookie(&without, &clock, cart("ada", &[1]), t0());

    // Read-only requests: nothing before 300 s ...
    assert!(renew_at(&with, &clock, &cookie, t0() + secs(299), Some(600)).is_none());
    // ... and a re-seal at 300 s, although nothing changed. `renew_at`
    // checks that it is the same session with Max-Age 600 (the configured
    // idle deadline).
    let renewed =
        renew_at(&with, &clock, &cookie, t0() + secs(300), Some(600)).expect("renewed at 300 s");
    assert_eq!(
        Attributes::of(&renewed),
        Attributes::session(renewed.value(), t0() + secs(300), 600)
    );
    clock.set(t0() + secs(899));
    let opened = with
        .codec()
        .open::<Cart>(renewed.value())
        .expect("the renewed cookie lives 600 s from its seal");
    assert_eq!(opened.envelope().renewed_at(), t0() + secs(300));
    assert_eq!(opened.envelope().idle_deadline(), Some(t0() + secs(900)));
    clock.set(t0() + secs(900));
    assert_eq!(
        with.codec().open::<Cart>(renewed.value()).map(|_| ()),
        Err(Error::Expired {
            deadline: Deadline::Idle
        })
    );
    // The original cookie is over at 600 s; the renewed one carries on.
    clock.set(t0() + secs(600));
    assert!(with.codec().open::<Cart>(cookie.value()).is_err());
}

/// Guards shortening the idle timeout: the previous release kept the idle
/// deadline sealed under 1800 s, so the cookie still opened at `t0 + 60`.
#[test]
fn shortening_the_idle_timeout_applies_at_once_to_issued_cookies() {
    let clock = common::clock();
    let long = config_of(codec_builder(&clock).idle_timeout(secs(1800)));
    let short = config_of(codec_builder(&clock).idle_timeout(secs(60)));
    let cookie = new_cookie(&long, &clock, cart("ada", &[1]), t0());
    assert_eq!(cookie.max_age().map(|d| d.whole_seconds()), Some(1800));

    clock.set(t0() + secs(59));
    let session = short.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert_eq!(session.expires_at(), Some(t0() + secs(60)));
    // A renewal under the short timeout carries its deadline.
    let renewed = renew_at(&short, &clock, &cookie, t0() + secs(30), Some(60))
        .expect("renewed at half of 60 s");
    assert_eq!(renewed.max_age().map(|d| d.whole_seconds()), Some(60));

    let now = t0() + secs(60);
    clock.set(now);
    let session = short.load::<Cart>(&request_with(&cookie));
    assert!(session.is_empty());
    assert_eq!(
        session.rejection(),
        Some(Error::Expired {
            deadline: Deadline::Idle
        })
    );
    write_removed(&session);
    // Under the long timeout it still opens: the cookie did not change.
    let session = long.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
}

/// Guards turning the idle timeout off: the previous release kept the
/// sealed idle deadline, so a cookie sealed with 600 s was `expired-idle`
/// an hour later even under a configuration without idle timeout.
#[test]
fn turning_the_idle_timeout_off_never_logs_out_an_active_user() {
    let clock = common::clock();
    let with = config_of(codec_builder(&clock).idle_timeout(secs(600)));
    let without = legacy_config(&clock);
    // No idle timeout: what it seals has no idle deadline.
    clock.set(t0());
    let probe = without.codec().seal(&0u8).expect("seals");
    assert_eq!(
        without
            .codec()
            .open::<u8>(&probe)
            .map(|o| o.envelope().idle_deadline()),
        Ok(None)
    );
    let cookie = new_cookie(&with, &clock, cart("ada", &[1]), t0());
    assert_eq!(cookie.max_age().map(|d| d.whole_seconds()), Some(600));

    for offset in [600, 3600, 7 * DAY - 1] {
        let now = t0() + secs(offset);
        clock.set(now);
        let session = without.load::<Cart>(&request_with(&cookie));
        assert_eq!(session.get(), Some(cart("ada", &[1])), "{offset}");
        let envelope = session.envelope().expect("loaded");
        assert_eq!(envelope.idle_deadline(), None);
        assert_eq!(session.expires_at(), Some(t0() + secs(7 * DAY)));
        // Nothing expires by idleness, so nothing is re-sealed for it.
        assert!(!session.needs_write(), "{offset}");
        write_nothing(&session);
    }
    // The lifetime still ends it.
    clock.set(t0() + secs(7 * DAY));
    let session = without.load::<Cart>(&request_with(&cookie));
    assert_eq!(
        session.rejection(),
        Some(Error::Expired {
            deadline: Deadline::Absolute
        })
    );
}

/// Guards `max_lifetime` on issued cookies (new in issue 11; the previous
/// release had no such setting, so a 30-day cookie lived its 30 days).
#[test]
fn max_lifetime_caps_cookies_already_issued() {
    let clock = common::clock();
    let remember = config_of(codec_builder(&clock).max_lifetime(secs(30 * DAY)));
    clock.set(t0());
    let session = remember.load::<Cart>(&HeaderMap::new());
    session.insert(cart("ada", &[1]));
    session.set_lifetime(secs(30 * DAY));
    let cookie = write_set(&session);
    assert_eq!(
        Attributes::of(&cookie),
        Attributes::session(cookie.value(), t0(), 30 * DAY)
    );
    let eight_days = t0() + secs(8 * DAY);
    clock.set(eight_days);
    let session = remember.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.get(), Some(cart("ada", &[1])));

    // Lowered to 7 days: the same cookie ends 7 days after its creation.
    let capped = config_of(codec_builder(&clock).max_lifetime(secs(7 * DAY)));
    let session = capped.load::<Cart>(&request_with(&cookie));
    assert!(session.is_empty());
    assert_eq!(
        session.rejection(),
        Some(Error::Expired {
            deadline: Deadline::Absolute
        })
    );
    assert_eq!(
        session.rejection().map(|e| e.code()),
        Some("expired-absolute")
    );
    write_removed(&session);
    let six_days = t0() + secs(6 * DAY);
    clock.set(six_days);
    let session = capped.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert_eq!(session.expires_at(), Some(t0() + secs(7 * DAY)));
    assert!(session.update(|c| c.items.push(2)).is_some());
    let resealed = write_set(&session);
    assert_eq!(
        Attributes::of(&resealed),
        Attributes::session(resealed.value(), six_days, DAY)
    );
}

/// Guards the cap on `Session::set_lifetime` (issue 11): the previous
/// release gave the session the 30 days it asked for.
#[test]
fn set_lifetime_above_max_lifetime_is_capped() {
    let clock = common::clock();
    let config = config_of(
        codec_builder(&clock)
            .lifetime(secs(DAY))
            .max_lifetime(secs(7 * DAY)),
    );
    // A new session: the cap shows in the cookie and the envelope.
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(cart("ada", &[]));
    session.set_lifetime(secs(30 * DAY));
    let cookie = write_set(&session);
    assert_eq!(
        Attributes::of(&cookie),
        Attributes::session(cookie.value(), t0(), 7 * DAY)
    );
    assert_eq!(session.expires_at(), Some(t0() + secs(7 * DAY)));

    // A loaded session: capped as soon as it is set.
    let later = t0() + secs(3600);
    clock.set(later);
    let session = config.load::<Cart>(&request_with(&cookie));
    session.set_lifetime(secs(400 * DAY));
    assert_eq!(session.expires_at(), Some(t0() + secs(7 * DAY)));
    let resealed = write_set(&session);
    assert_eq!(
        Attributes::of(&resealed),
        Attributes::session(resealed.value(), later, 7 * DAY - 3600)
    );

    // Without `max_lifetime`, the cap is the lifetime itself.
    let config = config_of(codec_builder(&clock).lifetime(secs(DAY)));
    clock.set(t0());
    let probe = config
        .codec()
        .seal_with(&0u8, &SealOptions::new().lifetime(secs(30 * DAY)))
        .expect("seals");
    assert_eq!(
        config
            .codec()
            .open::<u8>(&probe)
            .map(|o| o.envelope().absolute_deadline()),
        Ok(t0() + secs(DAY))
    );
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(cart("ada", &[]));
    session.set_lifetime(secs(30 * DAY));
    let cookie = write_set(&session);
    assert_eq!(
        Attributes::of(&cookie),
        Attributes::session(cookie.value(), t0(), DAY)
    );
}

// ---------------------------------------------------------------------------
// Chunk abuse (issue 11)
// ---------------------------------------------------------------------------

/// The [legacy](legacy_builder) settings with chunking up to `max_chunks`.
fn chunked_config(clock: &ManualClock, max_chunks: usize) -> SessionConfig {
    SessionConfig::builder(codec_builder(clock).build().expect("valid"))
        .max_chunks(max_chunks)
        .build()
        .expect("valid attributes")
}

/// A cart that needs two chunks under the name `session`: about 5400
/// characters of cookie value.
fn big_cart() -> Cart {
    cart(&"x".repeat(4000), &[1, 2, 3])
}

/// The chunk cookies of a new session holding [`big_cart`], written at
/// `t0` by `config` (which must allow two chunks).
fn big_session_cookies(config: &SessionConfig, clock: &ManualClock) -> Vec<Cookie<'static>> {
    clock.set(t0());
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(big_cart());
    let mut headers = HeaderMap::new();
    assert_eq!(session.write(&mut headers), Ok(Written::Set));
    let cookies = set_cookies(&headers);
    let names: Vec<&str> = cookies.iter().map(Cookie::name).collect();
    // Both chunks, then the removal of the plain name a chunked write sends.
    assert_eq!(names, ["session.0", "session.1", "session"]);
    cookies.into_iter().take(2).collect()
}

/// `name=value` pairs for a `Cookie` header.
fn pairs_of(cookies: &[Cookie<'_>]) -> String {
    cookies
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `session.k=junk` for every `k` in `indexes`.
fn junk_chunks(indexes: std::ops::Range<usize>) -> String {
    indexes
        .map(|k| format!("session.{k}=junk{k}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Guards the chunk-index rule (issue 11): the previous release tracked
/// every index below 64, so the first request below made its response
/// remove 64 chunk cookies (65 with the plain one), and any `session.k` at
/// or above `max_chunks` made a chunked session malformed.
#[test]
fn chunk_indexes_at_or_above_max_chunks_are_neither_read_nor_removed() {
    let clock = common::clock();
    let config = chunked_config(&clock, 2);
    let good = new_cookie(&config, &clock, cart("ada", &[1]), t0());
    let tossed = junk_chunks(0..64);

    // A valid plain cookie among 64 junk chunks: it opens, and the response
    // removes the two chunk names this configuration uses, no others.
    let headers = request(&[&format!("session={}; {tossed}", good.value())]);
    clock.set(t0());
    let session = config.load::<Cart>(&headers);
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    let mut out = HeaderMap::new();
    assert_eq!(session.write(&mut out), Ok(Written::LeftoversRemoved));
    let removals: Vec<Attributes> = set_cookies(&out).iter().map(Attributes::of).collect();
    assert_eq!(
        removals,
        ["session.0", "session.1"].map(|name| Attributes::named(name, "", t0(), 0).removal())
    );

    // Nothing opens: at most max_chunks + 1 removals, the plain name and
    // the chunks below max_chunks.
    let headers = request(&[&format!("session=junk; {tossed}")]);
    let session = config.load::<Cart>(&headers);
    assert!(session.is_empty());
    let mut out = HeaderMap::new();
    assert_eq!(session.write(&mut out), Ok(Written::Removed));
    let removals: Vec<Attributes> = set_cookies(&out).iter().map(Attributes::of).collect();
    assert_eq!(removals.len(), config.max_chunks() + 1);
    assert_eq!(
        removals,
        ["session", "session.0", "session.1"]
            .map(|name| Attributes::named(name, "", t0(), 0).removal())
    );

    // Chunks at or above max_chunks alone are no session cookie at all.
    let session = config.load::<Cart>(&request(&[&junk_chunks(2..64)]));
    assert_eq!(session.rejection(), None);
    write_nothing(&session);
}

/// Guards reading a chunked session next to tossed higher indexes: the
/// previous release refused the set as `Malformed::Chunks`.
#[test]
fn a_chunked_session_opens_next_to_tossed_chunks_beyond_max_chunks() {
    let clock = common::clock();
    let config = chunked_config(&clock, 2);
    let cookies = big_session_cookies(&config, &clock);
    let headers = request(&[&format!("{}; {}", pairs_of(&cookies), junk_chunks(2..64))]);
    clock.set(t0() + secs(1));
    let session = config.load::<Cart>(&headers);
    assert_eq!(session.rejection(), None);
    assert_eq!(session.get(), Some(big_cart()));
    // The tossed ones are not this session's: nothing to remove.
    write_nothing(&session);

    // A repeated index below max_chunks is still malformed.
    let headers = request(&[&format!("{}; session.1=junk", pairs_of(&cookies))]);
    let session = config.load::<Cart>(&headers);
    assert_eq!(
        session.rejection(),
        Some(Error::Malformed(Malformed::Chunks))
    );
}

/// The largest chunked write under the defaults (`__Host-session`,
/// 4096-byte cookies, the 8000-byte header budget), and the `Set-Cookie`
/// bytes of its response.
///
/// The budget binds before the cookie size: two chunks could hold 8192
/// bytes, and a third would need more than 8192. So the largest session is
/// two chunk cookies of 8000 bytes together (names `__Host-session.0` and
/// `.1` of 16 bytes each, 7968 characters of value, 5976 token bytes), and
/// the response carries three `Set-Cookie` headers: the two chunks and the
/// removal of the plain name. Their values total **8293 bytes**
/// (8000 + 2 × (1 + 93) for `=` and the attributes of each chunk, + 105 for
/// the removal), 8335 on the wire in HTTP/1.1 with `Set-Cookie: ` and CRLF.
/// That is over nginx's default `proxy_buffer_size` (one memory page, 4 KB
/// on most platforms), which answers 502 to an upstream response whose
/// headers do not fit; raise it (and `proxy_buffers`) when enabling chunks
/// behind nginx.
#[test]
fn the_largest_chunked_write_under_the_default_budget() {
    let clock = common::clock();
    assert_eq!(DEFAULT_HEADER_BUDGET, 8000);
    let config = SessionConfig::builder(default_builder(&clock).build().expect("valid"))
        .max_chunks(MAX_CHUNKS)
        .build()
        .expect("valid attributes");
    assert_eq!(config.header_budget(), DEFAULT_HEADER_BUDGET);

    let name = DEFAULT_COOKIE_NAME;
    let chunk_name_len = name.len() + 2; // `.0`, `.1`
    let value_chars = DEFAULT_HEADER_BUDGET - 2 * chunk_name_len;
    assert_eq!(value_chars % 4, 0);
    let token_len = value_chars / 4 * 3;
    // Overhead 46; envelope: creation time (5), 12-hour lifetime (3),
    // renewed 0 (1), schema id (4), session id (16); a 2-byte length prefix.
    let string_len = token_len - 46 - (5 + 3 + 1 + 4 + 16) - 2;
    assert_eq!(string_len, 5899);

    clock.set(t0());
    let session = config.load::<String>(&HeaderMap::new());
    assert_eq!(
        session.try_insert("x".repeat(string_len + 1)),
        Err(Error::TooLarge {
            size: 8002,
            limit: 8000
        })
    );
    session
        .try_insert("x".repeat(string_len))
        .expect("the largest value that fits");
    let mut headers = HeaderMap::new();
    assert_eq!(session.write(&mut headers), Ok(Written::Set));

    let raw: Vec<&str> = headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII"))
        .collect();
    let cookies = set_cookies(&headers);
    let names: Vec<&str> = cookies.iter().map(Cookie::name).collect();
    assert_eq!(names, ["__Host-session.0", "__Host-session.1", name]);
    // Chunk 0 is full (4096 bytes), chunk 1 takes the rest.
    let values: Vec<usize> = cookies.iter().map(|c| c.value().len()).collect();
    assert_eq!(values, [4096 - chunk_name_len, value_chars - 4080, 0]);
    let sizes: usize = cookies
        .iter()
        .take(2)
        .map(|c| c.name().len() + c.value().len())
        .sum();
    assert_eq!(sizes, DEFAULT_HEADER_BUDGET);
    for (raw, cookie) in raw.iter().zip(&cookies).take(2) {
        assert_eq!(
            *raw,
            format!(
                "{}={}{DEFAULT_ATTRIBUTES_AT_T0}",
                cookie.name(),
                cookie.value()
            )
        );
    }
    assert_eq!(raw[2], format!("{name}={DEFAULT_REMOVAL_ATTRIBUTES}"));

    // The bound: chunk cookie sizes, plus `=` and the attributes per chunk
    // header, plus the removal header.
    let total: usize = raw.iter().map(|r| r.len()).sum();
    let bound = sizes
        + 2 * (1 + DEFAULT_ATTRIBUTES_AT_T0.len())
        + (name.len() + 1 + DEFAULT_REMOVAL_ATTRIBUTES.len());
    assert_eq!(
        (
            DEFAULT_ATTRIBUTES_AT_T0.len(),
            DEFAULT_REMOVAL_ATTRIBUTES.len()
        ),
        (93, 90)
    );
    assert_eq!(total, bound);
    assert_eq!(total, 8293);

    // And it opens.
    let session = config.load::<String>(&request(&[&pairs_of(&cookies[..2])]));
    assert_eq!(session.get().map(|s| s.len()), Some(string_len));
}

// ---------------------------------------------------------------------------
// Cut-off, schema and algorithms (issue 11)
// ---------------------------------------------------------------------------

/// Guards `ConfigError::CutOffInFuture` (new in issue 11): the previous
/// release built the codec, and nobody could log in until the cut-off.
/// The builder compares with the time of the clock it was given.
#[test]
fn a_cut_off_later_than_now_plus_leeway_is_refused() {
    let clock = common::clock();
    let now = t0();
    assert_eq!(
        codec_builder(&clock)
            .reject_created_before(now + secs(120))
            .build()
            .map(|_| ()),
        Err(ConfigError::CutOffInFuture)
    );
    assert_eq!(
        codec_builder(&clock)
            .reject_created_before(now + secs(3600))
            .leeway(secs(600))
            .build()
            .map(|_| ()),
        Err(ConfigError::CutOffInFuture)
    );
    // A longer leeway admits it; a cut-off in the past is always fine.
    assert!(
        codec_builder(&clock)
            .reject_created_before(now + secs(120))
            .leeway(secs(300))
            .build()
            .is_ok()
    );
    assert!(
        codec_builder(&clock)
            .reject_created_before(UNIX_EPOCH + secs(1_750_000_000))
            .build()
            .is_ok()
    );
    // It is the builder's clock that counts: moved on by 70 s, the cut-off
    // refused above is within the leeway.
    clock.set(now + secs(70));
    assert!(
        codec_builder(&clock)
            .reject_created_before(now + secs(120))
            .build()
            .is_ok()
    );
}

/// Guards "a new session is created at the cut-off when that is later":
/// the previous release dated it `now`, before the cut-off, so the session
/// just made was `Revoked` on the next request.
#[test]
fn a_cut_off_within_the_leeway_dates_new_sessions_at_the_cut_off() {
    let clock = common::clock();
    let now = t0();
    let cut_off = now + secs(30);
    let config = config_of(codec_builder(&clock).reject_created_before(cut_off));

    clock.set(now);
    let session = config.load::<Cart>(&HeaderMap::new());
    session.insert(cart("ada", &[1]));
    let cookie = write_set(&session);
    assert_eq!(session.created_at(), Some(cut_off));
    // The lifetime counts from the cut-off.
    assert_eq!(
        Attributes::of(&cookie),
        Attributes::session(cookie.value(), now, 7 * DAY + 30)
    );
    let session = config.load::<Cart>(&request_with(&cookie));
    assert_eq!(session.rejection(), None);
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert_eq!(session.created_at(), Some(cut_off));

    // A session created before the cut-off by another instance is revoked.
    let before = new_cookie(
        &legacy_config(&clock),
        &clock,
        cart("old", &[]),
        now - secs(3600),
    );
    clock.set(now);
    let session = config.load::<Cart>(&request_with(&before));
    assert_eq!(session.rejection(), Some(Error::Revoked));
    write_removed(&session);
}

/// The session type under the schema `v1`, before a field was renamed and
/// its type widened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CartV1 {
    owner: String,
    items: Vec<u16>,
}

fn cart_from_v1(old: CartV1) -> Cart {
    Cart {
        user: old.owner,
        items: old.items.into_iter().map(u32::from).collect(),
    }
}

/// Guards the schema id in every cookie (issue 11): the previous release
/// decoded a `v1` cookie as whatever the new type read from its bytes.
#[test]
fn a_cookie_of_another_schema_is_refused_and_removed() {
    let clock = common::clock();
    let v1 = config_of(codec_builder(&clock).schema("v1"));
    let v2 = config_of(codec_builder(&clock).schema("v2"));
    let cookie = new_cookie(
        &v1,
        &clock,
        CartV1 {
            owner: "ada".into(),
            items: vec![1],
        },
        t0(),
    );
    let now = t0() + secs(10);
    clock.set(now);
    let session = v2.load::<Cart>(&request_with(&cookie));
    assert!(session.is_empty());
    assert!(!session.was_loaded());
    assert_eq!(session.rejection(), Some(Error::SchemaMismatch));
    assert_eq!(
        session.rejection().map(|e| e.code()),
        Some("schema-mismatch")
    );
    let removal = write_removed(&session);
    assert_eq!(
        Attributes::of(&removal),
        Attributes::session("", now, 0).removal()
    );
    // Nor does it open under the default (empty) schema label.
    let session = legacy_config(&clock).load::<CartV1>(&request_with(&cookie));
    assert_eq!(session.rejection(), Some(Error::SchemaMismatch));
}

/// Guards `migrate_from` (new in issue 11): a `v1` cookie opens converted,
/// and the response re-seals it under `v2` although the handler changed
/// nothing.
#[test]
fn a_migration_converts_and_reseals_under_the_new_schema() {
    let clock = common::clock();
    let v1 = config_of(codec_builder(&clock).schema("v1"));
    let v2_only = config_of(codec_builder(&clock).schema("v2"));
    let v2 = config_of(
        codec_builder(&clock)
            .schema("v2")
            .migrate_from("v1", cart_from_v1),
    );
    let old = CartV1 {
        owner: "ada".into(),
        items: vec![1, 65_535],
    };
    let cookie = new_cookie(&v1, &clock, old.clone(), t0());
    clock.set(t0());
    let sealed = v1.codec().open::<CartV1>(cookie.value()).expect("opens");

    let now = t0() + secs(10);
    clock.set(now);
    let opened = v2.codec().open::<Cart>(cookie.value()).expect("migrates");
    assert!(opened.migrated());
    assert!(opened.needs_reseal());
    // Only opens of the migration's target type use it.
    assert_eq!(
        v2.codec().open::<CartV1>(cookie.value()).map(|_| ()),
        Err(Error::SchemaMismatch)
    );

    let session = v2.load::<Cart>(&request_with(&cookie));
    assert!(session.was_loaded());
    assert_eq!(session.get(), Some(cart_from_v1(old)));
    assert_eq!(session.get(), Some(cart("ada", &[1, 65_535])));
    assert!(session.needs_write());
    let resealed = write_set(&session);
    assert_eq!(
        Attributes::of(&resealed),
        Attributes::session(resealed.value(), now, 7 * DAY - 10)
    );
    // Under v2 now: a v2-only codec opens it, same session.
    let reopened = v2_only
        .codec()
        .open::<Cart>(resealed.value())
        .expect("sealed under v2");
    assert!(!reopened.migrated());
    assert!(!reopened.needs_reseal());
    assert_eq!(reopened.value(), &cart("ada", &[1, 65_535]));
    assert_eq!(reopened.envelope().id(), sealed.envelope().id());
    assert_eq!(
        reopened.envelope().created_at(),
        sealed.envelope().created_at()
    );
    let session = v2_only.load::<Cart>(&request_with(&resealed));
    assert_eq!(session.get(), Some(cart("ada", &[1, 65_535])));
    write_nothing(&session);
}

/// Guards `open_algorithms` (new in issue 11): the previous release opened
/// both algorithms, always.
#[test]
fn a_cookie_sealed_with_a_disabled_algorithm_is_refused_and_removed() {
    let clock = common::clock();
    let xchacha = config_of(codec_builder(&clock).algorithm(Algorithm::XChaCha20Poly1305));
    let xaes_only = config_of(codec_builder(&clock).open_algorithms([Algorithm::XAes256Gcm]));
    // It opens what it seals, XAES-256-GCM, and nothing else (below).
    clock.set(t0());
    let own = xaes_only.codec().seal(&0u8).expect("seals");
    assert_eq!(
        xaes_only.codec().open::<u8>(&own).map(|o| o.algorithm()),
        Ok(Algorithm::XAes256Gcm)
    );
    let cookie = new_cookie(&xchacha, &clock, cart("ada", &[1]), t0());

    clock.set(t0());
    let session = xaes_only.load::<Cart>(&request_with(&cookie));
    assert!(session.is_empty());
    assert_eq!(
        session.rejection(),
        Some(Error::DisabledAlgorithm(Algorithm::XChaCha20Poly1305))
    );
    assert_eq!(
        session.rejection().map(|e| e.code()),
        Some("disabled-algorithm")
    );
    assert_eq!(
        session.rejection().map(|e| e.is_possible_tampering()),
        Some(false)
    );
    let removal = write_removed(&session);
    assert_eq!(
        Attributes::of(&removal),
        Attributes::session("", t0(), 0).removal()
    );
    // With both open (the default) it opens and is re-sealed with XAES.
    let session = legacy_config(&clock).load::<Cart>(&request_with(&cookie));
    assert_eq!(session.get(), Some(cart("ada", &[1])));
    assert!(session.needs_write());
}
