//! The tower adapter: `SessionLayer` around a `tower::service_fn` handler,
//! driven request by request with `oneshot`, with cookies carried between
//! requests by hand as a browser would.
#![cfg(feature = "tower")]

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, SystemTime};

use cookie::{Cookie, SameSite};
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderValue, Request, Response, StatusCode};
use sealed_session::{
    Binding, Codec, DEFAULT_LIFETIME, Keyring, Session, SessionConfig, SessionLayer, SessionService,
};
use tower::{Layer as _, Service, ServiceExt as _, service_fn};

const SECRET: &str = "tower adapter test secret, at least 32 bytes";

fn config() -> SessionConfig {
    SessionConfig::new(Codec::new(Keyring::new([SECRET]).unwrap()))
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

/// Every `Set-Cookie` of the response, parsed.
fn set_cookies(response: &Response<String>) -> Vec<Cookie<'static>> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
        .collect()
}

/// The session's `Set-Cookie` headers only.
fn session_cookies(response: &Response<String>) -> Vec<Cookie<'static>> {
    set_cookies(response)
        .into_iter()
        .filter(|c| c.name() == "session")
        .collect()
}

/// The `Cookie` header a browser sends back after `response`: the session
/// cookie's `name=value`.
fn cookie_header(response: &Response<String>) -> String {
    let cookies = session_cookies(response);
    assert_eq!(cookies.len(), 1, "exactly one session Set-Cookie");
    format!("session={}", cookies[0].value())
}

#[tokio::test]
async fn new_session_sets_cookie_with_attributes() {
    let layer = SessionLayer::<String>::new(config());
    let app = layer.layer(handler());

    let before = SystemTime::now();
    let response = send(&app, "/set?alice", None, &[]).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.body(),
        r#"value=Some("alice") loaded=false rejection=None"#
    );

    let cookies = session_cookies(&response);
    assert_eq!(cookies.len(), 1);
    let cookie = &cookies[0];
    assert!(!cookie.value().is_empty());
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.domain(), None);
    // Max-Age is the sealed lifetime (7 days), give or take the rounding
    // of creation time to whole seconds.
    let max_age = cookie.max_age().unwrap().whole_seconds();
    let lifetime = i64::try_from(DEFAULT_LIFETIME.as_secs()).unwrap();
    assert!(
        (lifetime - 2..=lifetime).contains(&max_age),
        "Max-Age {max_age}"
    );
    let expires = cookie.expires_datetime().unwrap().unix_timestamp();
    let expected = (before + DEFAULT_LIFETIME)
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expected = i64::try_from(expected).unwrap();
    assert!(
        (expected - 2..=expected + 2).contains(&expires),
        "Expires {expires}, expected about {expected}"
    );
    assert_eq!(layer.write_failures(), 0);
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
    let cookies = set_cookies(&response);
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
    let cookies = set_cookies(&response);
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
    let codec = Codec::builder(Keyring::new([SECRET]).unwrap())
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
    assert!((598..=600).contains(&max_age), "Max-Age {max_age}");
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
    let config = SessionConfig::builder(Codec::new(Keyring::new([SECRET]).unwrap()))
        .renewal(sealed_session::Renewal::Always)
        .build()
        .unwrap();
    let outer = SessionLayer::<String>::new(config.clone());
    let inner = SessionLayer::<String>::new(config);
    let app = outer.layer(inner.layer(handler()));

    let first = send(&app, "/set?bob", None, &[]).await.unwrap();
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
