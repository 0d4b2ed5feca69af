//! The tower adapter (feature `tower`): a [`SessionLayer`] that loads the
//! session of every request into its extensions and writes the session
//! cookie into every response.
//!
//! It is a thin wrapper around [`SessionConfig::load`] and
//! [`Session::write`]; every decision about the cookie (what opens, when to
//! re-seal, when to remove) is theirs.

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::request::Parts;
use http::{Request, Response};
use pin_project_lite::pin_project;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_layer::Layer;
use tower_service::Service;

use crate::codec::OpenOptions;
use crate::config::SessionConfig;
use crate::error::Error;
use crate::session::Session;
use crate::wire::Binding;

/// The request context a session is bound to, computed per request.
type Binder = Arc<dyn Fn(&Parts) -> Option<Binding> + Send + Sync>;

/// A tower [`Layer`] that gives every request a [`Session<T>`] and writes it
/// back into the response.
///
/// For each request, [`SessionService`] loads the session from the `Cookie`
/// headers with [`SessionConfig::load`] (or [`SessionConfig::load_with`]
/// with [`SessionLayer::bind_with`]) and inserts it into the request's
/// [extensions](http::Request::extensions), where handlers find it
/// (`request.extensions().get::<Session<T>>()`, or the axum extractor with
/// the `axum` feature). When the inner service's response arrives, the
/// session is written with [`Session::write`]: a `Set-Cookie` is *appended*
/// when the session changed, needs renewal or re-sealing, or must be
/// removed, and nothing is added otherwise. `Set-Cookie` headers the
/// handler wrote itself are kept.
///
/// A session that cannot be written (most often [`Error::TooLarge`]: the
/// value outgrew the cookie) never turns the response into an error: the
/// response goes out as the handler made it, without a new session cookie,
/// so the browser keeps the cookie it had and that change is lost (after
/// [`Session::destroy`], the old cookie is still removed: a logout is never
/// lost). The failure
/// is counted ([`SessionLayer::write_failures`]) and, with the `tracing`
/// feature, logged at error level with the error's [`code`](Error::code)
/// (never the value). Handlers that can grow the session should use
/// [`Session::try_insert`] or [`Session::try_update`], which report the
/// size problem while the handler can still answer the user.
///
/// What is not written: changes made after the inner service's response
/// future has completed (for example from inside a streaming body), and
/// anything when the inner service returns an `Err` instead of a response.
///
/// Install one layer per cookie name. A layer for the same `T` and the same
/// cookie name inside another (a nested router, say), at any depth and with
/// other layers between them, passes requests through, since the outer one
/// already loads and writes the session. A layer for the same `T` on another cookie name (an `admin`
/// session inside a `user` one) is a session of its own: it loads and
/// writes its cookie with its own attributes and binding, and handlers
/// inside it see its session, not the outer one (extensions hold one value
/// per type; give the two sessions different types to reach both). Two
/// layers with different session types on the same cookie name would each
/// remove the other's cookie as undecodable.
///
/// Clones share the configuration, the binding closure and the failure
/// counter, so the layer can be cloned freely (axum clones it per route).
///
/// # Example
///
/// ```
/// use http::{Request, Response, header::SET_COOKIE};
/// use sealed_session::layer::SessionLayer;
/// use sealed_session::{Codec, Keyring, Session, SessionConfig};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = SessionConfig::new(Codec::new(Keyring::new([Keyring::generate_secret()?])?));
/// let layer = SessionLayer::<u32>::new(config);
///
/// let app = ServiceBuilder::new().layer(layer.clone()).service(service_fn(
///     |request: Request<String>| async move {
///         let session = request.extensions().get::<Session<u32>>().cloned();
///         let visits = session.map_or(0, |s| s.update_or_default(|v| { *v += 1; *v }));
///         Ok::<_, std::convert::Infallible>(Response::new(format!("visit {visits}")))
///     },
/// ));
///
/// let response = app.oneshot(Request::new(String::new())).await?;
/// assert_eq!(response.body(), "visit 1");
/// assert!(response.headers()[SET_COOKIE].to_str()?.starts_with("__Host-session="));
/// assert_eq!(layer.write_failures(), 0);
/// # Ok(())
/// # }
/// ```
pub struct SessionLayer<T> {
    config: SessionConfig,
    binder: Option<Binder>,
    write_failures: Arc<AtomicU64>,
    // `fn() -> T`: the layer holds no `T`, so it is Send, Sync and Clone
    // whatever `T` is.
    session_type: PhantomData<fn() -> T>,
}

impl<T> SessionLayer<T> {
    /// A layer that loads and writes `Session<T>` with `config`, with its
    /// own failure counter at zero.
    #[must_use]
    pub fn new(config: SessionConfig) -> Self {
        Self {
            config,
            binder: None,
            write_failures: Arc::new(AtomicU64::new(0)),
            session_type: PhantomData,
        }
    }

    /// Binds every session to request context computed by `bind` (see
    /// [`Binding`]): a cookie then opens only for a request whose context
    /// gives the same binding, and is sealed with it.
    ///
    /// `bind` sees the request's method, URI, headers and extensions. When
    /// it returns `None`, the session is loaded and sealed without a
    /// binding. A cookie sealed with a binding never opens without one (or
    /// with another one), so a missing context never unlocks a bound
    /// cookie; but such a request gets an empty session, and its response
    /// **removes** the bound cookie like any cookie that fails to open,
    /// logging the user out. Make sure every request that can carry the
    /// session yields the same binding (route health checks and other
    /// ingresses around the layer rather than returning `None` for them).
    /// Turning binding on for a live deployment logs everybody out once,
    /// with an `authentication-failed` rejection (a warning with the
    /// `tracing` feature) per user.
    ///
    /// Binding is only as strong as the context is trustworthy:
    ///
    /// * **The peer address** of the TCP connection cannot be forged, but
    ///   behind a reverse proxy it is the proxy's. With axum,
    ///   `into_make_service_with_connect_info::<SocketAddr>()` puts it into
    ///   the extensions as `axum::extract::ConnectInfo<SocketAddr>`. Bind
    ///   its IP address only, never the `SocketAddr` (the source port
    ///   changes with every connection), and in one canonical form
    ///   (`addr.ip().to_canonical()`, so that an IPv4-mapped IPv6 address and
    ///   the plain IPv4 address give the same binding).
    /// * **`X-Forwarded-For`** is written by the client as well as by
    ///   proxies: anyone who stole a cookie can send the victim's address
    ///   as the first entry. Use only the entries your own proxies
    ///   appended, counted from the right (with one trusted proxy, the last
    ///   entry), or a header your edge proxy overwrites unconditionally,
    ///   and strip it at the edge if the app can also be reached directly.
    ///
    /// Binding also costs availability: a user whose address changes
    /// (mobile networks, IPv6 privacy addresses, dual-stack clients, proxy
    /// pools) finds an empty session and must log in again. A bound cookie
    /// sent from another context is indistinguishable from a forged one:
    /// the session is empty, [`Session::rejection`] is
    /// [`Error::AuthenticationFailed`], and the response removes the
    /// cookie.
    ///
    /// # Example
    ///
    /// ```
    /// use sealed_session::layer::SessionLayer;
    /// use sealed_session::{Binding, Codec, Keyring, SessionConfig};
    ///
    /// let config = SessionConfig::new(Codec::new(Keyring::new([Keyring::generate_secret()?])?));
    /// // Behind exactly one trusted reverse proxy, which appends the peer
    /// // address to X-Forwarded-For: its entry is the last one.
    /// let layer = SessionLayer::<String>::new(config).bind_with(|parts| {
    ///     let header = parts.headers.get_all("x-forwarded-for").iter().next_back()?;
    ///     let last = header.to_str().ok()?.rsplit(',').next()?.trim();
    ///     Some(Binding::new(last))
    /// });
    /// # let _ = layer;
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn bind_with<F>(mut self, bind: F) -> Self
    where
        F: Fn(&Parts) -> Option<Binding> + Send + Sync + 'static,
    {
        self.binder = Some(Arc::new(bind));
        self
    }

    /// The configuration sessions are loaded and written with.
    #[must_use]
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// How many responses went out without the session cookie they needed
    /// because [`Session::write`] failed, across this layer, its clones and
    /// every service they made. Export it as a metric: it should stay at
    /// zero.
    #[must_use]
    pub fn write_failures(&self) -> u64 {
        self.write_failures.load(Ordering::Relaxed)
    }
}

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            binder: self.binder.clone(),
            write_failures: Arc::clone(&self.write_failures),
            session_type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("config", &self.config)
            .field("bound", &self.binder.is_some())
            .field("write_failures", &self.write_failures())
            .finish()
    }
}

impl<S, T> Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The [`Service`] made by [`SessionLayer`]: loads the session into the
/// request's extensions, calls the inner service and writes the session
/// into its response. See [`SessionLayer`] for the details.
pub struct SessionService<S, T> {
    inner: S,
    layer: SessionLayer<T>,
}

impl<S, T> SessionService<S, T> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The failure count shared with the layer that made this service (see
    /// [`SessionLayer::write_failures`]).
    #[must_use]
    pub fn write_failures(&self) -> u64 {
        self.layer.write_failures()
    }
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: fmt::Debug, T> fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, T>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // An outer layer for the same session type and the same cookie
        // already loaded the session and will write it: a second load and
        // write would append a second `Set-Cookie` for the same cookie (the
        // browser keeps the last, possibly stale one), so pass the request
        // through. The extensions hold the innermost `Session<T>`; sessions
        // it displaced are remembered in `Displaced<T>`, so a layer nested
        // inside another cookie's layer still sees an outer one on its own.
        let name = self.layer.config.codec().cookie_name();
        let extensions = request.extensions();
        let loaded_outside = extensions
            .get::<Session<T>>()
            .is_some_and(|outer| outer.config().codec().cookie_name() == name)
            || extensions
                .get::<Displaced<T>>()
                .is_some_and(|displaced| displaced.holds(name));
        if loaded_outside {
            return ResponseFuture {
                inner: self.inner.call(request),
                session: None,
                write_failures: Arc::clone(&self.layer.write_failures),
            };
        }
        let (mut parts, body) = request.into_parts();
        let binding = self.layer.binder.as_ref().and_then(|bind| bind(&parts));
        let config = &self.layer.config;
        let session: Session<T> = match binding {
            Some(binding) => config.load_with(&parts.headers, &OpenOptions::new().binding(binding)),
            None => config.load(&parts.headers),
        };
        // An outer layer on another cookie is another session: this one
        // takes its place in the extensions for the inner service, and the
        // outer layer still writes its own.
        if let Some(outer) = parts.extensions.get::<Session<T>>() {
            let outer = outer.config().clone();
            match parts.extensions.get_mut::<Displaced<T>>() {
                Some(displaced) => displaced.configs.push(outer),
                None => {
                    parts.extensions.insert(Displaced::<T> {
                        configs: vec![outer],
                        session_type: PhantomData,
                    });
                }
            }
        }
        parts.extensions.insert(session.clone());
        ResponseFuture {
            inner: self.inner.call(Request::from_parts(parts, body)),
            session: Some(session),
            write_failures: Arc::clone(&self.layer.write_failures),
        }
    }
}

/// The configurations of the outer layers for `Session<T>` whose session
/// an inner layer on another cookie name replaced in the request's
/// extensions (a request extension, set only under such nesting).
struct Displaced<T> {
    configs: Vec<SessionConfig>,
    session_type: PhantomData<fn() -> T>,
}

impl<T> Displaced<T> {
    /// Whether an outer layer already loads the cookie `name`.
    fn holds(&self, name: &str) -> bool {
        self.configs
            .iter()
            .any(|config| config.codec().cookie_name() == name)
    }
}

impl<T> Clone for Displaced<T> {
    fn clone(&self) -> Self {
        Self {
            configs: self.configs.clone(),
            session_type: PhantomData,
        }
    }
}

pin_project! {
    /// The response future of [`SessionService`]: the inner service's
    /// future, then the session written into the response headers.
    pub struct ResponseFuture<F, T> {
        #[pin]
        inner: F,
        // Taken when the response is written.
        session: Option<Session<T>>,
        write_failures: Arc<AtomicU64>,
    }
}

impl<F, T> fmt::Debug for ResponseFuture<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl<F, T, ResBody, E> Future for ResponseFuture<F, T>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    T: Serialize,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Ready(Ok(response)) => response,
        };
        if let Some(session) = this.session.take()
            && let Err(error) = session.write(response.headers_mut())
        {
            this.write_failures.fetch_add(1, Ordering::Relaxed);
            log_write_failure(session.config(), &error);
        }
        Poll::Ready(Ok(response))
    }
}

/// One error event per failed write: the cookie name and the error code,
/// never the value.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_write_failure(config: &SessionConfig, error: &Error) {
    #[cfg(feature = "tracing")]
    tracing::error!(
        cookie = config.codec().cookie_name(),
        code = error.code(),
        "session could not be written; the response carries no session cookie \
         and the browser keeps its previous one"
    );
}
