//! A small axum app with sealed-cookie sessions: log in, count visits, log
//! out. The whole session lives in the `session` cookie; the server keeps
//! no state.
//!
//! ```text
//! cargo run --example axum_app --features axum            # http://localhost:3001/
//! PORT=8080 SESSION_SECRETS="base64:..." cargo run --example axum_app --features axum
//! cargo run --example axum_app --features axum,tracing    # also log rejected cookies
//! ```
//!
//! `SESSION_SECRETS` is a comma-separated list of secrets, the sealing one
//! first (see "Rotating secrets" in the README). Without it the app makes
//! up a secret at start-up, so sessions do not survive a restart.
//!
//! The cookie is `Secure`: browsers store it over plain HTTP from
//! `localhost` and `127.0.0.1` (Chrome, Firefox), but some (Safari) need
//! HTTPS. Logging in takes any name: there are no passwords in this demo,
//! and no CSRF tokens on its forms (`SameSite=Lax` keeps other sites from
//! posting with the visitor's cookie, but a real login form needs a token).

use std::net::{Ipv4Addr, SocketAddr};

use axum::extract::{Form, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, http::StatusCode};
use sealed_session::layer::SessionLayer;
use sealed_session::zeroize::Zeroizing;
use sealed_session::{Codec, ConfigError, Error, Keyring, Session, SessionConfig};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Everything the app keeps about a visitor, sealed into the cookie.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AppSession {
    /// The logged-in user's name, if any.
    user: Option<String>,
    /// Page views in this session.
    visits: u64,
}

/// The login form.
#[derive(Deserialize)]
struct Login {
    /// Who to log in as.
    name: String,
}

/// Longest accepted user name, in characters.
const MAX_NAME_CHARS: usize = 64;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();

    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("PORT={port:?} is not a port number"))?,
        Err(_) => 3001,
    };

    let codec = Codec::builder(keyring()?)
        .idle_timeout(Duration::from_secs(30 * 60))
        .build()?;
    let layer = SessionLayer::<AppSession>::new(SessionConfig::new(codec));

    let app = Router::new()
        .route("/", get(index))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/metrics", get(metrics))
        .with_state(layer.clone())
        .layer(layer);

    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(address).await?;
    eprintln!("listening on http://localhost:{port}/ (and http://{address}/)");
    axum::serve(listener, app).await?;
    Ok(())
}

/// The secrets from `SESSION_SECRETS`, or a fresh one with a warning.
fn keyring() -> Result<Keyring, Error> {
    match Keyring::from_env("SESSION_SECRETS") {
        Err(ConfigError::MissingEnvVar { .. }) => {
            eprintln!(
                "WARNING: SESSION_SECRETS is not set; using a secret generated at start-up.\n\
                 WARNING: every session is lost when this process restarts, and other\n\
                 WARNING: instances cannot open its cookies. Set SESSION_SECRETS, e.g. to\n\
                 WARNING: the output of Keyring::generate_secret(), in production."
            );
            let secret: Zeroizing<String> = Keyring::generate_secret()?;
            Ok(Keyring::new([secret.as_str()])?)
        }
        other => other.map_err(Error::from),
    }
}

/// The home page: counts the visit and shows who is logged in.
async fn index(session: Session<AppSession>) -> Html<String> {
    // `try_update` seals now and refuses a change that would not fit in the
    // cookie, while the handler can still react; here a failure only means
    // that this visit is not counted.
    let state = session
        .try_update(|s| {
            s.visits += 1;
            s.clone()
        })
        .unwrap_or_else(|_| session.get().unwrap_or_default());

    let who = match &state.user {
        Some(user) => format!(
            "<p>Logged in as <b>{}</b>.</p>\
             <form method=post action=/logout><button>Log out</button></form>",
            escape_html(user)
        ),
        None => "<p>Not logged in.</p>\
             <form method=post action=/login>\
             <input name=name placeholder='any name' maxlength=64 required> \
             <button>Log in</button></form>"
            .to_owned(),
    };
    Html(format!(
        "<!doctype html><title>sealed-session demo</title>\
         <h1>sealed-session + axum</h1>{who}\
         <p>Visits in this session: {}.</p>",
        state.visits
    ))
}

/// Logs in as the posted name (no password: a demo).
async fn login(session: Session<AppSession>, Form(login): Form<Login>) -> Response {
    let name = login.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return (
            StatusCode::BAD_REQUEST,
            "the name must be 1 to 64 characters",
        )
            .into_response();
    }
    // A new id after login, so that an id planted earlier is worthless
    // (session fixation); the visit count carries over.
    session.regenerate();
    let logged_in = session.try_update(|s| s.user = Some(name.to_owned()));
    if logged_in.is_err() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not store the session",
        )
            .into_response();
    }
    Redirect::to("/").into_response()
}

/// Logs out: the response removes the cookie.
async fn logout(session: Session<AppSession>) -> Redirect {
    session.destroy();
    Redirect::to("/")
}

/// Sessions that could not be written, for monitoring; should stay 0.
async fn metrics(State(layer): State<SessionLayer<AppSession>>) -> String {
    format!("session_write_failures {}\n", layer.write_failures())
}

/// The text, safe to put between HTML tags.
fn escape_html(text: &str) -> String {
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
