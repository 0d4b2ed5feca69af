//! The tower adapter: `SessionLayer` around a `tower::service_fn` handler,
//! driven request by request with `oneshot`, with cookies carried between
//! requests by hand as a browser would. Every codec reads a manual clock
//! standing at the shared `t0`, so Max-Age and Expires are exact.
#![cfg(feature = "tower")]

#[path = "support/common.rs"]
mod common;

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, UNIX_EPOCH};

use cookie::{Cookie, SameSite};
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderValue, Request, Response, StatusCode};
use sealed_session::layer::{SessionLayer, SessionService};
use sealed_session::limits::{DEFAULT_COOKIE_NAME, DEFAULT_IDLE_TIMEOUT};
use sealed_session::{Binding, Codec, CodecBuilder, Keyring, OpenOptions, Session, SessionConfig};
use tower::{Layer as _, Service, ServiceBuilder, ServiceExt as _, service_fn};

use common::{set_cookies, t0};

const SECRET: &str = "tower adapter test secret, at least 32 bytes";

/// The cookie name of most tests here.
const NAME: &str = "session";

fn keyring() -> Keyring {
    Keyring::new([SECRET]).unwrap()
}

/// The settings most tests here were written against, the defaults until
/// issue 11: cookie `session`, 7-day lifetime, no idle timeout (so an
/// unchanged session is never renewed); a clock standing at `t0`.
fn legacy_codec() -> CodecBuilder {
    Codec::builder(keyring())
        .cookie_name(NAME)
        .lifetime(Duration::from_secs(7 * 24 * 60 * 60))
        .idle_timeout(None)
        .clock(common::clock())
}

fn config() -> SessionConfig {
    SessionConfig::new(legacy_codec().build().unwrap())
}

/// Every setting at its default: cookie `__Host-session`, 30-minute idle
/// timeout; but a clock standing at `t0`.
fn default_config() -> SessionConfig {
    SessionConfig::new(
        Codec::builder(keyring())
            .clock(common::clock())
            .build()
            .unwrap(),
    )
}

/// What the handler answers with when asked to fail.
#[derive(Debug, PartialEq, Eq)]
struct HandlerFailed;

/// The inner service. The path says what to do with the session; the body
/// reports what the handler saw.
fn handler() -> impl Service<
    Request<()>,
    Response = Response<String>,
    Error = HandlerFailed,
    Future = impl Future<Output = Result<Response<String>, HandlerFailed>> + Send + use<>,
> + Clone
+ Send {
    service_fn(|request: Request<()>| async move {
        let mut response = Response::new(String::new());
        let Some(session) = request.extensions().get::<Session<String>>().cloned() else {
            *response.body_mut() = "no session".into();
            return Ok(response);
        };
        match request.uri().path() {
            "/set" => {
                let value = request.uri().query().unwrap_or_default().to_owned();
                session.insert(value);
            }
            "/own-cookies" => {
                session.insert("with own cookies".into());
                let headers = response.headers_mut();
                headers.append(SET_COOKIE, HeaderValue::from_static("theme=dark; Path=/"));
                headers.append(SET_COOKIE, HeaderValue::from_static("lang=en; Path=/"));
            }
            "/big" => {
                // Larger than the 4096-byte cookie limit once sealed.
                session.insert("x".repeat(5000));
                response
                    .headers_mut()
                    .append(SET_COOKIE, HeaderValue::from_static("theme=dark; Path=/"));
            }
            "/fail" => {
                session.insert("never written".into());
                return Err(HandlerFailed);
            }
            _ => {}
        }
        *response.body_mut() = format!(
            "value={:?} loaded={} rejection={:?}",
            session.get(),
            session.was_loaded(),
            session.rejection().map(|e| e.code()),
        );
        Ok(response)
    })
}

/// One request through `service`, with an optional `Cookie` header and
/// extra headers.
async fn send<S>(
    service: &S,
    path: &str,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Response<String>, HandlerFailed>
where
    S: Service<Request<()>, Response = Response<String>, Error = HandlerFailed> + Clone,
{
    let mut request = Request::builder().uri(path);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    service.clone().oneshot(request.body(()).unwrap()).await
}

/// The `Set-Cookie` headers of the cookie `name` only.
fn cookies_named(response: &Response<String>, name: &str) -> Vec<Cookie<'static>> {
    set_cookies(response.headers())
        .into_iter()
        .filter(|c| c.name() == name)
        .collect()
}

/// The `Set-Cookie` headers of the cookie `session` only.
fn session_cookies(response: &Response<String>) -> Vec<Cookie<'static>> {
    cookies_named(response, NAME)
}

/// The `Cookie` pair a browser sends back for the cookie `name` after
/// `response`: `name=value`.
fn pair_named(response: &Response<String>, name: &str) -> String {
    let cookies = cookies_named(response, name);
    assert_eq!(cookies.len(), 1, "exactly one {name} Set-Cookie");
    format!("{name}={}", cookies[0].value())
}

/// The `Cookie` header a browser sends back after `response`: the session
/// cookie's `name=value`.
fn cookie_header(response: &Response<String>) -> String {
    pair_named(response, NAME)
}

/// The defaults: a `__Host-session` cookie whose Max-Age is the 30-minute
/// idle timeout, read back by the layer.
#[tokio::test]
async fn new_session_sets_cookie_with_attributes() {
    let layer = SessionLayer::<String>::new(default_config());
    let app = layer.layer(handler());

    let response = send(&app, "/set?alice", None, &[]).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.body(),
        r#"value=Some("alice") loaded=false rejection=None"#
    );

    assert_eq!(DEFAULT_COOKIE_NAME, "__Host-session");
    assert_eq!(set_cookies(response.headers()).len(), 1);
    let cookies = cookies_named(&response, "__Host-session");
    assert_eq!(cookies.len(), 1);
    let cookie = &cookies[0];
    assert!(!cookie.value().is_empty());
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.domain(), None);
    // Max-Age is the idle timeout (30 minutes), the earlier deadline of a
    // new session; Expires is the time of the write (`t0`) plus that.
    let max_age = cookie.max_age().unwrap().whole_seconds();
    assert_eq!(DEFAULT_IDLE_TIMEOUT, Duration::from_secs(1800));
    assert_eq!(max_age, 1800);
    let expires = cookie.expires_datetime().unwrap().unix_timestamp();
    let expected = (t0() + DEFAULT_IDLE_TIMEOUT)
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(expires, i64::try_from(expected).unwrap());
    assert_eq!(layer.write_failures(), 0);

    // The browser sends it back: the layer opens it, and an unchanged,
    // freshly sealed session writes nothing.
    let back = pair_named(&response, "__Host-session");
    let next = send(&app, "/get", Some(&back), &[]).await.unwrap();
    assert_eq!(
        next.body(),
        r#"value=Some("alice") loaded=true rejection=None"#
    );
    assert!(next.headers().get(SET_COOKIE).is_none());
    // A `session=` cookie is not the default cookie.
    let legacy = format!("session={}", cookie.value());
    let other = send(&app, "/get", Some(&legacy), &[]).await.unwrap();
    assert_eq!(other.body(), "value=None loaded=false rejection=None");
}

#[tokio::test]
async fn empty_session_sets_nothing() {
    let app = SessionLayer::<String>::new(config()).layer(handler());
    let response = send(&app, "/get", None, &[]).await.unwrap();
    assert_eq!(response.body(), "value=None loaded=false rejection=None");
    assert!(response.headers().get(SET_COOKIE).is_none());
}

#[tokio::test]
async fn cookie_round_trip_and_unchanged_session_sets_nothing() {
    let app = SessionLayer::<String>::new(config()).layer(handler());
    let first = send(&app, "/set?bob", None, &[]).await.unwrap();
    let cookie = cookie_header(&first);

    let second = send(&app, "/get", Some(&cookie), &[]).await.unwrap();
    assert_eq!(
        second.body(),
        r#"value=Some("bob") loaded=true rejection=None"#
    );
    // Not changed, no idle timeout to renew: no Set-Cookie at all.
    assert!(second.headers().get(SET_COOKIE).is_none());

    // Among other cookies, in any position.
    let mixed = format!("theme=dark; {cookie}; lang=en");
    let third = send(&app, "/get", Some(&mixed), &[]).await.unwrap();
    assert_eq!(
        third.body(),
        r#"value=Some("bob") loaded=true rejection=None"#
    );

    // A change re-seals: a new value the next request sees.
    let fourth = send(&app, "/set?carol", Some(&cookie), &[]).await.unwrap();
    let cookie = cookie_header(&fourth);
    let fifth = send(&app, "/get", Some(&cookie), &[]).await.unwrap();
    assert_eq!(
        fifth.body(),
        r#"value=Some("carol") loaded=true rejection=None"#
    );
}

#[tokio::test]
async fn handler_set_cookies_are_kept() {
    let app = SessionLayer::<String>::new(config()).layer(handler());
    let response = send(&app, "/own-cookies", None, &[]).await.unwrap();
    let cookies = set_cookies(response.headers());
    let names: Vec<&str> = cookies.iter().map(Cookie::name).collect();
    // The handler's two, then the session's, appended.
    assert_eq!(names, ["theme", "lang", "session"]);
    assert_eq!(cookies[0].value(), "dark");
    assert_eq!(cookies[1].value(), "en");

    let cookie = cookie_header(&response);
    let next = send(&app, "/get", Some(&cookie), &[]).await.unwrap();
    assert_eq!(
        next.body(),
        r#"value=Some("with own cookies") loaded=true rejection=None"#
    );
}

#[tokio::test]
async fn oversized_session_keeps_response_and_counts_failure() {
    let layer = SessionLayer::<String>::new(config());
    let app = layer.clone().layer(handler());
    let other_app = layer.layer(handler());

    let first = send(&app, "/set?small", None, &[]).await.unwrap();
    let cookie = cookie_header(&first);
    assert_eq!(layer.write_failures(), 0);

    let response = send(&app, "/big", Some(&cookie), &[]).await.unwrap();
    // The handler's response, untouched but for the missing session cookie.
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.body().starts_with("value=Some(\"xxxx"));
    let cookies = set_cookies(response.headers());
    let names: Vec<&str> = cookies.iter().map(Cookie::name).collect();
    assert_eq!(
        names,
        ["theme"],
        "no session Set-Cookie, not even a removal"
    );

    // One counter, shared by the layer, its clones and all their services.
    assert_eq!(layer.write_failures(), 1);
    assert_eq!(app.write_failures(), 1);
    assert_eq!(other_app.write_failures(), 1);
    let _ = send(&other_app, "/big", None, &[]).await.unwrap();
    assert_eq!(layer.write_failures(), 2);

    // The browser kept its previous cookie, which still holds the old value.
    let next = send(&app, "/get", Some(&cookie), &[]).await.unwrap();
    assert_eq!(
        next.body(),
        r#"value=Some("small") loaded=true rejection=None"#
    );
    assert_eq!(layer.write_failures(), 2);
}

/// A failed write is one error event of the layer (target
/// `sealed_session::layer`), naming the cookie and the error code, never the
/// value.
#[cfg(feature = "tracing")]
#[test]
fn a_failed_write_logs_one_error_event_by_code() {
    let layer = SessionLayer::<String>::new(config());
    let app = layer.clone().layer(handler());
    // On this thread, where `captured` listens.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let log = common::captured(|| {
        let response = runtime.block_on(send(&app, "/big", None, &[])).unwrap();
        assert!(response.body().starts_with("value=Some(\"xxxx"));
        assert!(session_cookies(&response).is_empty());
    });
    assert_eq!(
        log,
        "ERROR sealed_session::layer: session could not be written; the response carries no \
         session cookie and the browser keeps its previous one cookie=\"session\" \
         code=\"too-large\"\n"
    );
    assert!(!log.contains("xxxx"), "{log}");
    assert_eq!(layer.write_failures(), 1);
}

#[tokio::test]
async fn tampered_cookie_gives_empty_session_and_removal() {
    let app = SessionLayer::<String>::new(config()).layer(handler());
    let first = send(&app, "/set?mallory", None, &[]).await.unwrap();
    let cookie = cookie_header(&first);

    // Change one base64url character in the middle of the ciphertext.
    let mut bytes = cookie.into_bytes();
    let middle = bytes.len() / 2 + 4;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();

    let response = send(&app, "/get", Some(&tampered), &[]).await.unwrap();
    assert_eq!(
        response.body(),
        r#"value=None loaded=false rejection=Some("authentication-failed")"#
    );
    let cookies = session_cookies(&response);
    assert_eq!(cookies.len(), 1);
    assert_eq!(cookies[0].value(), "");
    assert_eq!(cookies[0].max_age(), Some(cookie::time::Duration::ZERO));
    assert_eq!(cookies[0].path(), Some("/"));
}

#[tokio::test]
async fn bound_session_opens_only_in_same_context() {
    let layer = SessionLayer::<String>::new(config()).bind_with(|parts| {
        parts
            .headers
            .get("x-client-ip")
            .map(|ip| Binding::new(ip.as_bytes()))
    });
    let app = layer.layer(handler());
    let home = [("x-client-ip", "203.0.113.7")];
    let elsewhere = [("x-client-ip", "198.51.100.20")];

    let first = send(&app, "/set?bound", None, &home).await.unwrap();
    let cookie = cookie_header(&first);

    let same = send(&app, "/get", Some(&cookie), &home).await.unwrap();
    assert_eq!(
        same.body(),
        r#"value=Some("bound") loaded=true rejection=None"#
    );
    assert!(same.headers().get(SET_COOKIE).is_none());

    // From another address, the cookie does not open and is removed.
    let other = send(&app, "/get", Some(&cookie), &elsewhere).await.unwrap();
    assert_eq!(
        other.body(),
        r#"value=None loaded=false rejection=Some("authentication-failed")"#
    );
    let removal = session_cookies(&other);
    assert_eq!(removal.len(), 1);
    assert_eq!(removal[0].value(), "");

    // Without the context (closure returns None), a bound cookie does not
    // open either.
    let unbound = send(&app, "/get", Some(&cookie), &[]).await.unwrap();
    assert_eq!(
        unbound.body(),
        r#"value=None loaded=false rejection=Some("authentication-failed")"#
    );

    // And the same cookie through a layer without binding: no.
    let plain = SessionLayer::<String>::new(config()).layer(handler());
    let response = send(&plain, "/get", Some(&cookie), &home).await.unwrap();
    assert_eq!(
        response.body(),
        r#"value=None loaded=false rejection=Some("authentication-failed")"#
    );
}

#[tokio::test]
async fn inner_error_passes_through_without_write() {
    let layer = SessionLayer::<String>::new(config());
    let app = layer.layer(handler());
    assert_eq!(
        send(&app, "/fail", None, &[]).await.unwrap_err(),
        HandlerFailed
    );
    assert_eq!(layer.write_failures(), 0);
}

#[tokio::test]
async fn renewal_with_idle_timeout() {
    // Renewal::Always re-seals an unchanged session on every response.
    let codec = legacy_codec()
        .idle_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let config = SessionConfig::builder(codec)
        .renewal(sealed_session::Renewal::Always)
        .build()
        .unwrap();
    let app = SessionLayer::<String>::new(config).layer(handler());
    let first = send(&app, "/set?rolling", None, &[]).await.unwrap();
    let cookie = cookie_header(&first);
    let second = send(&app, "/get", Some(&cookie), &[]).await.unwrap();
    assert_eq!(
        second.body(),
        r#"value=Some("rolling") loaded=true rejection=None"#
    );
    let renewed = session_cookies(&second);
    assert_eq!(renewed.len(), 1);
    assert_ne!(format!("session={}", renewed[0].value()), cookie);
    // Max-Age follows the idle deadline, not the 7-day lifetime.
    let max_age = renewed[0].max_age().unwrap().whole_seconds();
    assert_eq!(max_age, 600);
}

fn assert_clone_send_sync<X: Clone + Send + Sync + 'static>() {}
fn assert_send<X: Send>(_: &X) {}

#[tokio::test]
async fn layer_service_and_future_are_clone_send_sync() {
    assert_clone_send_sync::<SessionLayer<String>>();
    // The layer holds no T: even a session type that is neither Sync nor
    // Clone leaves it Send + Sync + Clone.
    assert_clone_send_sync::<SessionLayer<Cell<u32>>>();

    let layer = SessionLayer::<String>::new(config());
    let app: SessionService<_, String> = layer.layer(handler());
    fn assert_value_clone_send_sync<X: Clone + Send + Sync + 'static>(_: &X) {}
    assert_value_clone_send_sync(&app);
    assert_clone_send_sync::<
        SessionService<
            tower::util::BoxCloneSyncService<Request<()>, Response<String>, Infallible>,
            String,
        >,
    >();

    // The response future can move to another thread (tokio::spawn).
    let mut service = app.clone();
    let future = service.call(Request::new(()));
    assert_send(&future);
    let response = tokio::spawn(future).await.unwrap().unwrap();
    assert_eq!(response.body(), "value=None loaded=false rejection=None");

    // get_ref / get_mut / into_inner reach the inner service: without the
    // layer the handler finds no session.
    let mut app = app;
    let through_ref = send(app.get_ref(), "/get", None, &[]).await.unwrap();
    assert_eq!(through_ref.body(), "no session");
    let through_mut = send(app.get_mut(), "/get", None, &[]).await.unwrap();
    assert_eq!(through_mut.body(), "no session");
    let inner = app.into_inner();
    let plain = send(&inner, "/get", None, &[]).await.unwrap();
    assert_eq!(plain.body(), "no session");
}

#[tokio::test]
async fn nested_layers_for_the_same_type_write_once() {
    // Rolling renewal makes every layer that loads the session want to write.
    let config = SessionConfig::builder(legacy_codec().build().unwrap())
        .renewal(sealed_session::Renewal::Always)
        .build()
        .unwrap();
    let outer = SessionLayer::<String>::new(config.clone());
    let inner = SessionLayer::<String>::new(config);
    let app = outer.layer(inner.layer(handler()));

    let first = send(&app, "/set?bob", None, &[]).await.unwrap();
    assert_eq!(set_cookies(first.headers()).len(), 1);
    let cookie = cookie_header(&first);
    // A change through the inner handle is written exactly once, by the
    // outer layer, with the new value.
    let second = send(&app, "/set?carol", Some(&cookie), &[]).await.unwrap();
    assert_eq!(session_cookies(&second).len(), 1);
    let cookie = cookie_header(&second);
    let third = send(&app, "/get", Some(&cookie), &[]).await.unwrap();
    assert_eq!(
        third.body(),
        r#"value=Some("carol") loaded=true rejection=None"#
    );
}

/// Guards nested layers on different cookie names (issue 11): the previous
/// release passed every request through an inner layer as soon as an outer
/// one had loaded a `Session<T>` of the same type, so the handler below the
/// `admin` layer saw the `user` session and no `admin` cookie was ever
/// written.
#[tokio::test]
async fn nested_layers_on_different_cookie_names_each_load_and_write_their_own() {
    let user_codec = legacy_codec().cookie_name("user").build().unwrap();
    let admin_codec = legacy_codec().cookie_name("admin").build().unwrap();
    let admin_config = SessionConfig::builder(admin_codec.clone())
        .path("/admin")
        .same_site(sealed_session::SameSite::Strict)
        .build()
        .unwrap();
    let user_layer = SessionLayer::<String>::new(SessionConfig::new(user_codec.clone()));
    let admin_layer = SessionLayer::<String>::new(admin_config).bind_with(|parts| {
        parts
            .headers
            .get("x-client-ip")
            .map(|ip| Binding::new(ip.as_bytes()))
    });
    // Between the two layers, the outer (user) session is the one in the
    // extensions: `x-user` changes it there.
    let app = ServiceBuilder::new()
        .layer(user_layer.clone())
        .map_request(|request: Request<()>| {
            if let Some(user) = request.headers().get("x-user") {
                let outer = request
                    .extensions()
                    .get::<Session<String>>()
                    .expect("the outer layer loaded the user session")
                    .clone();
                assert_eq!(outer.config().codec().cookie_name(), "user");
                outer.insert(user.to_str().unwrap().to_owned());
            }
            request
        })
        .layer(admin_layer.clone())
        .service(handler());
    let home = ("x-client-ip", "203.0.113.7");
    let elsewhere = ("x-client-ip", "198.51.100.20");
    let home_binding = Binding::new("203.0.113.7");

    // Both sessions change: one Set-Cookie per layer, the inner one first.
    let first = send(&app, "/set?root", None, &[home, ("x-user", "alice")])
        .await
        .unwrap();
    assert_eq!(
        first.body(),
        r#"value=Some("root") loaded=false rejection=None"#
    );
    let cookies = set_cookies(first.headers());
    let names: Vec<&str> = cookies.iter().map(Cookie::name).collect();
    assert_eq!(names, ["admin", "user"]);
    // Each cookie has its own layer's attributes ...
    let (admin, user) = (&cookies[0], &cookies[1]);
    assert_eq!(admin.path(), Some("/admin"));
    assert_eq!(admin.same_site(), Some(SameSite::Strict));
    assert_eq!(user.path(), Some("/"));
    assert_eq!(user.same_site(), Some(SameSite::Lax));
    // ... its own value, and its own binding.
    assert_eq!(
        user_codec.open::<String>(user.value()).unwrap().value(),
        "alice"
    );
    assert_eq!(
        admin_codec
            .open_with::<String>(admin.value(), &OpenOptions::new().binding(home_binding))
            .unwrap()
            .value(),
        "root"
    );
    assert_eq!(
        admin_codec.open::<String>(admin.value()).map(|_| ()),
        Err(sealed_session::Error::AuthenticationFailed)
    );
    assert!(user_codec.open::<String>(admin.value()).is_err());
    let both = format!("user={}; admin={}", user.value(), admin.value());

    // The handler behind the inner layer sees the admin session; nothing
    // changed, so nothing is written.
    let second = send(&app, "/get", Some(&both), &[home]).await.unwrap();
    assert_eq!(
        second.body(),
        r#"value=Some("root") loaded=true rejection=None"#
    );
    assert!(second.headers().get(SET_COOKIE).is_none());

    // Only the user cookie: the inner handler sees an empty admin session,
    // not the user one.
    let user_only = format!("user={}", user.value());
    let third = send(&app, "/get", Some(&user_only), &[home]).await.unwrap();
    assert_eq!(third.body(), "value=None loaded=false rejection=None");
    assert!(third.headers().get(SET_COOKIE).is_none());

    // Both change again: both written, each with the new value.
    let fourth = send(&app, "/set?second", Some(&both), &[home, ("x-user", "bob")])
        .await
        .unwrap();
    let admin_pair = pair_named(&fourth, "admin");
    let user_pair = pair_named(&fourth, "user");
    assert_eq!(set_cookies(fourth.headers()).len(), 2);
    let value_of = |pair: &str| pair.split_once('=').unwrap().1.to_owned();
    assert_eq!(
        user_codec
            .open::<String>(&value_of(&user_pair))
            .unwrap()
            .value(),
        "bob"
    );
    assert_eq!(
        admin_codec
            .open_with::<String>(
                &value_of(&admin_pair),
                &OpenOptions::new().binding(home_binding),
            )
            .unwrap()
            .value(),
        "second"
    );

    // From another address the bound admin cookie fails and the inner
    // layer removes it, on its own path; the user cookie is left alone.
    let fifth = send(&app, "/get", Some(&both), &[elsewhere]).await.unwrap();
    assert_eq!(
        fifth.body(),
        r#"value=None loaded=false rejection=Some("authentication-failed")"#
    );
    let cookies = set_cookies(fifth.headers());
    assert_eq!(cookies.len(), 1);
    assert_eq!(cookies[0].name(), "admin");
    assert_eq!(cookies[0].value(), "");
    assert_eq!(cookies[0].max_age(), Some(cookie::time::Duration::ZERO));
    assert_eq!(cookies[0].path(), Some("/admin"));
    assert_eq!(user_layer.write_failures(), 0);
    assert_eq!(admin_layer.write_failures(), 0);
}

/// A layer for a cookie that an outer layer already loads passes through
/// even with a layer on another cookie between them (found in review: the
/// check looked only at the innermost session, so the third layer loaded
/// and wrote `user` a second time and hid the `admin` session).
#[tokio::test]
async fn a_layer_for_a_cookie_loaded_further_out_passes_through_past_another_cookies_layer() {
    let user_codec = legacy_codec().cookie_name("user").build().unwrap();
    let admin_codec = legacy_codec().cookie_name("admin").build().unwrap();
    // Rolling renewal: every layer that loads the user session writes it.
    let user_config = SessionConfig::builder(user_codec.clone())
        .renewal(sealed_session::Renewal::Always)
        .build()
        .unwrap();
    let outer_user = SessionLayer::<String>::new(user_config.clone());
    let admin = SessionLayer::<String>::new(SessionConfig::new(admin_codec.clone()));
    let inner_user = SessionLayer::<String>::new(user_config);
    let app = ServiceBuilder::new()
        .layer(outer_user.clone())
        .layer(admin.clone())
        .layer(inner_user.clone())
        .service(handler());

    let user = user_codec.seal(&"alice".to_owned()).unwrap();
    let root = admin_codec.seal(&"root".to_owned()).unwrap();
    let both = format!("user={user}; admin={root}");
    for _ in 0..2 {
        let response = send(&app, "/get", Some(&both), &[]).await.unwrap();
        // The handler sees the admin session, the innermost one loaded.
        assert_eq!(
            response.body(),
            r#"value=Some("root") loaded=true rejection=None"#
        );
        // The user cookie is renewed once, by the outermost layer.
        let names: Vec<String> = set_cookies(response.headers())
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        assert_eq!(names, ["user"]);
        let renewed = pair_named(&response, "user");
        let value = renewed.split_once('=').unwrap().1;
        assert_eq!(user_codec.open::<String>(value).unwrap().value(), "alice");
    }

    // A change to the admin session is written once too, next to the
    // user renewal.
    let response = send(&app, "/set?admin2", Some(&both), &[]).await.unwrap();
    let mut names: Vec<String> = set_cookies(response.headers())
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["admin", "user"]);
    for layer in [&outer_user, &admin, &inner_user] {
        assert_eq!(layer.write_failures(), 0);
    }
}
