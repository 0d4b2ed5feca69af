//! The axum adapter: a real `axum::Router` with `SessionLayer`, handlers
//! that take `Session<T>` as an extractor, driven with `oneshot`; and the
//! 500 when the layer is missing.
#![cfg(feature = "axum")]

#[path = "support/common.rs"]
mod common;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::routing::{get, post};
use http::header::{COOKIE, SET_COOKIE};
use http::{Request, Response, StatusCode};
use sealed_session::extract::MissingSessionLayer;
use sealed_session::layer::SessionLayer;
use sealed_session::limits::DEFAULT_COOKIE_NAME;
use sealed_session::{Codec, Keyring, Session, SessionConfig};
use serde::{Deserialize, Serialize};
use tower::ServiceExt as _;

const SECRET: &str = "axum adapter test secret, at least 32 bytes";

/// The session of the test app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct AppSession {
    user: Option<String>,
    visits: u32,
}

/// Every setting at its default: the extractor works with the default
/// cookie name, `__Host-session`. Only the clock is not the system's: it
/// stands at the shared `t0`, so that Max-Age is exact.
fn config() -> SessionConfig {
    let codec = Codec::builder(Keyring::new([SECRET]).unwrap())
        .clock(common::clock())
        .build()
        .unwrap();
    SessionConfig::new(codec)
}

/// The cookie name the tests expect.
const NAME: &str = "__Host-session";

async fn login(session: Session<AppSession>, body: String) -> &'static str {
    session.regenerate();
    session.update_or_default(|s| s.user = Some(body));
    "logged in"
}

async fn logout(session: Session<AppSession>) -> &'static str {
    session.destroy();
    "logged out"
}

async fn count(session: Session<AppSession>) -> String {
    let visits = session.update_or_default(|s| {
        s.visits += 1;
        s.visits
    });
    format!("visits={visits}")
}

/// Two extractions of the same session see the same handle.
async fn me(first: Session<AppSession>, second: Session<AppSession>) -> String {
    let user = first.with(|s| s.and_then(|s| s.user.clone()));
    assert_eq!(first.id(), second.id());
    format!("user={user:?}")
}

fn app(layer: SessionLayer<AppSession>) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/count", get(count))
        .route("/me", get(me))
        .layer(layer)
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> (Response<Body>, String) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let text = String::from_utf8(to_bytes(body, 1 << 16).await.unwrap().to_vec()).unwrap();
    (Response::from_parts(parts, Body::empty()), text)
}

/// The session cookies the response sets: `(name=value, Max-Age)`.
fn session_cookies(response: &Response<Body>) -> Vec<(String, Option<i64>)> {
    common::set_cookies(response.headers())
        .into_iter()
        .filter(|c| c.name() == NAME)
        .map(|c| {
            (
                format!("{NAME}={}", c.value()),
                c.max_age().map(|a| a.whole_seconds()),
            )
        })
        .collect()
}

fn only_cookie(response: &Response<Body>) -> String {
    let cookies = session_cookies(response);
    assert_eq!(cookies.len(), 1, "exactly one session Set-Cookie");
    cookies.into_iter().next().unwrap().0
}

#[tokio::test]
async fn login_count_logout() {
    assert_eq!(DEFAULT_COOKIE_NAME, NAME);
    assert_eq!(config().codec().cookie_name(), NAME);
    let layer = SessionLayer::<AppSession>::new(config());
    let app = app(layer.clone());

    // Anonymous: no session, nothing set.
    let (response, text) = send(&app, "GET", "/me", None, "").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text, "user=None");
    assert!(response.headers().get(SET_COOKIE).is_none());

    // Counting as an anonymous visitor.
    let (response, text) = send(&app, "GET", "/count", None, "").await;
    assert_eq!(text, "visits=1");
    let anonymous = only_cookie(&response);
    let (response, text) = send(&app, "GET", "/count", Some(&anonymous), "").await;
    assert_eq!(text, "visits=2");
    let anonymous = only_cookie(&response);

    // Logging in keeps the value but gives the session a new id.
    let (response, text) = send(&app, "POST", "/login", Some(&anonymous), "alice").await;
    assert_eq!(text, "logged in");
    // The default Max-Age: the 30-minute idle timeout.
    let max_age = session_cookies(&response)[0].1;
    assert_eq!(max_age, Some(1800));
    let logged_in = only_cookie(&response);
    let codec = config().codec().clone();
    let value = |c: &str| {
        c.strip_prefix(&format!("{NAME}="))
            .expect("the default cookie name")
            .to_owned()
    };
    let before = codec.open::<AppSession>(&value(&anonymous)).unwrap();
    let after = codec.open::<AppSession>(&value(&logged_in)).unwrap();
    assert_ne!(
        before.envelope().id(),
        after.envelope().id(),
        "login regenerates the session id"
    );
    assert_eq!(
        *after.value(),
        AppSession {
            user: Some("alice".into()),
            visits: 2
        }
    );

    let (response, text) = send(&app, "GET", "/me", Some(&logged_in), "").await;
    assert_eq!(text, r#"user=Some("alice")"#);
    assert!(response.headers().get(SET_COOKIE).is_none());
    // The same value under the old default name is not the session cookie.
    let old_name = format!("session={}", value(&logged_in));
    let (response, text) = send(&app, "GET", "/me", Some(&old_name), "").await;
    assert_eq!(text, "user=None");
    assert!(response.headers().get(SET_COOKIE).is_none());
    let (response, text) = send(&app, "GET", "/count", Some(&logged_in), "").await;
    assert_eq!(text, "visits=3");
    let logged_in = only_cookie(&response);

    // Logging out removes the cookie.
    let (response, text) = send(&app, "POST", "/logout", Some(&logged_in), "").await;
    assert_eq!(text, "logged out");
    assert_eq!(session_cookies(&response), [(format!("{NAME}="), Some(0))]);
    // Without a cookie the browser is anonymous again.
    let (_, text) = send(&app, "GET", "/me", None, "").await;
    assert_eq!(text, "user=None");

    assert_eq!(layer.write_failures(), 0);
}

#[tokio::test]
async fn tampered_cookie_is_anonymous_and_removed() {
    let app = app(SessionLayer::new(config()));
    let (response, _) = send(&app, "POST", "/login", None, "bob").await;
    let cookie = only_cookie(&response);
    let mut bytes = cookie.into_bytes();
    let middle = bytes.len() / 2 + 4;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();

    let (response, text) = send(&app, "GET", "/me", Some(&tampered), "").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text, "user=None");
    assert_eq!(session_cookies(&response), [(format!("{NAME}="), Some(0))]);
}

#[tokio::test]
async fn oversized_session_answers_and_counts() {
    let layer = SessionLayer::<AppSession>::new(config());
    let app = app(layer.clone());
    let (response, text) = send(&app, "POST", "/login", None, &"x".repeat(5000)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text, "logged in");
    assert!(session_cookies(&response).is_empty());
    assert_eq!(layer.write_failures(), 1);
}

#[tokio::test]
async fn missing_layer_is_a_500_naming_no_types() {
    let app = Router::new().route("/count", get(count));
    let (response, text) = send(&app, "GET", "/count", None, "").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Clients learn that the layer is missing, not the app's type names.
    assert!(text.contains("session layer is not installed"), "{text}");
    assert!(!text.contains("AppSession"), "{text}");
    assert!(!text.contains("::"), "{text}");
    assert!(response.headers().get(SET_COOKIE).is_none());

    // A layer for another session type does not satisfy the extractor.
    let app = Router::new()
        .route("/count", get(count))
        .layer(SessionLayer::<u64>::new(config()));
    let (response, _) = send(&app, "GET", "/count", None, "").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn result_extractor_sees_missing_layer() {
    async fn lenient(session: Result<Session<AppSession>, MissingSessionLayer>) -> String {
        match session {
            Ok(_) => "session".into(),
            Err(missing) => format!("missing {}", missing.session_type()),
        }
    }
    let without = Router::new().route("/", get(lenient));
    let (response, text) = send(&without, "GET", "/", None, "").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(text.starts_with("missing "), "{text}");
    assert!(text.ends_with("AppSession"), "{text}");

    // The developer's message (Display, logs) names the layer and the type.
    async fn display(session: Result<Session<AppSession>, MissingSessionLayer>) -> String {
        session.err().map(|e| e.to_string()).unwrap_or_default()
    }
    let (_, text) = send(
        &Router::new().route("/", get(display)),
        "GET",
        "/",
        None,
        "",
    )
    .await;
    assert!(text.contains("SessionLayer::<"), "{text}");
    assert!(text.contains("AppSession"), "{text}");

    let with = Router::new()
        .route("/", get(lenient))
        .layer(SessionLayer::<AppSession>::new(config()));
    let (_, text) = send(&with, "GET", "/", None, "").await;
    assert_eq!(text, "session");
}
