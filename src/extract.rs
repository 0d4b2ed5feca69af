//! The axum adapter (feature `axum`): [`Session<T>`] as an extractor.
//!
//! The session comes from the request extensions, where
//! [`SessionLayer`](crate::layer::SessionLayer) put it; the layer also writes it
//! back into the response. Without the layer the extractor fails with
//! [`MissingSessionLayer`], a 500: that is a mistake in the router, not in
//! the request.

use core::fmt;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::session::Session;

/// `Session<T>` as an axum extractor, taken from the request extensions
/// filled by [`SessionLayer<T>`](crate::layer::SessionLayer).
///
/// The extractor is a handle: changes made through it are written into the
/// response by the layer once the handler returns. Extracting it more than
/// once (in a handler and a middleware, say) gives handles to the same
/// session.
///
/// `Option<Session<T>>` is deliberately not an extractor: the session is
/// already empty when the request carried no valid cookie
/// ([`Session::is_empty`]), and a `None` for a missing layer would make a
/// broken router look like a logged-out user. Use
/// `Result<Session<T>, MissingSessionLayer>` to handle the missing layer
/// yourself.
///
/// # Example
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode};
/// use sealed_session::layer::SessionLayer;
/// use sealed_session::{Codec, Keyring, Session, SessionConfig};
/// use tower::ServiceExt;
///
/// async fn counter(session: Session<u64>) -> String {
///     let visits = session.update_or_default(|visits| {
///         *visits += 1;
///         *visits
///     });
///     format!("visit number {visits}")
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = SessionConfig::new(Codec::new(Keyring::new([Keyring::generate_secret()?])?));
/// let app = Router::new()
///     .route("/", get(counter))
///     .layer(SessionLayer::<u64>::new(config));
///
/// let response = app.oneshot(Request::new(Body::empty())).await?;
/// assert_eq!(response.status(), StatusCode::OK);
/// assert!(response.headers().contains_key(http::header::SET_COOKIE));
/// # Ok(())
/// # }
/// ```
impl<S, T> FromRequestParts<S> for Session<T>
where
    S: Send + Sync,
    T: Send + 'static,
{
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(MissingSessionLayer::new::<T>)
    }
}

/// The rejection of the [`Session<T>`] extractor when the request has no
/// session: [`SessionLayer<T>`](crate::layer::SessionLayer) is not installed for
/// this route, or was installed for another `T`.
///
/// As a response it is a `500 Internal Server Error` with a short
/// plain-text message that names no types; its `Display` (and, with the
/// `tracing` feature, an error-level log event) names `SessionLayer` and the
/// session type for the developer.
///
/// # Example
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode};
/// use sealed_session::Session;
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // No SessionLayer: every request to this route fails.
/// let app = Router::new().route("/", get(|_session: Session<u64>| async { "unreachable" }));
/// let response = app.oneshot(Request::new(Body::empty())).await?;
/// assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSessionLayer {
    session_type: &'static str,
}

impl MissingSessionLayer {
    fn new<T>() -> Self {
        Self {
            session_type: core::any::type_name::<T>(),
        }
    }

    /// The name of the session type `T` the extractor asked for.
    #[must_use]
    pub fn session_type(&self) -> &'static str {
        self.session_type
    }
}

impl fmt::Display for MissingSessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no Session<{ty}> in the request extensions: add \
             `.layer(SessionLayer::<{ty}>::new(config))` to the router for this route \
             (sealed-session)",
            ty = self.session_type
        )
    }
}

impl std::error::Error for MissingSessionLayer {}

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        #[cfg(feature = "tracing")]
        tracing::error!(
            session_type = self.session_type,
            "Session extractor used without SessionLayer; answering 500"
        );
        // The details (type names) are for the developer's logs and
        // `Display`, not for clients.
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error: the session layer is not installed for this route",
        )
            .into_response()
    }
}
