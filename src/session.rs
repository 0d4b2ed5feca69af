//! The session handle: the value of one request's session, what happened to
//! it, and whether the response needs a `Set-Cookie`.

use core::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{OpenOptions, SealOptions};
use crate::config::{Renewal, SessionConfig};
use crate::cookies::{self, Carried, Read, Token};
use crate::envelope::{Envelope, SessionId};
use crate::error::Error;
use crate::wire::Binding;

/// One request's session: a handle to the value, created by
/// [`SessionConfig::load`] and written back with [`Session::write`].
///
/// Clones share the same session (the handle is reference counted), which
/// is how the tower layer sees what a handler changed. Methods that take a
/// closure run it while holding the session's lock: do not call other
/// methods of the same session from inside the closure.
///
/// The response needs a `Set-Cookie` ([`Session::needs_write`]) when the
/// value changed, after [`Session::destroy`] or [`Session::regenerate`],
/// when the cookie was sealed under an older secret or another algorithm,
/// when the [renewal](crate::Renewal) point of the idle deadline has passed,
/// and when the request's cookie was invalid (it is removed). With
/// [chunking](crate::SessionConfigBuilder::max_chunks), also when a valid
/// cookie came with leftovers of the other layout (they are removed,
/// [`Written::LeftoversRemoved`]). A new session that was never given a value sets
/// nothing.
///
/// ```
/// use http::{HeaderMap, header::{COOKIE, SET_COOKIE}};
/// use sealed_session::{Codec, Keyring, SessionConfig, Written};
///
/// let config = SessionConfig::new(Codec::new(Keyring::new([Keyring::generate_secret()?])?));
///
/// // First request: no cookie. The handler stores a visit count.
/// let session = config.load::<u32>(&HeaderMap::new());
/// assert!(session.is_empty());
/// session.update_or_default(|visits| *visits += 1);
/// let mut response_headers = HeaderMap::new();
/// assert_eq!(session.write(&mut response_headers)?, Written::Set);
///
/// // The browser sends the cookie back.
/// let set_cookie = response_headers[SET_COOKIE].to_str().unwrap();
/// let mut request_headers = HeaderMap::new();
/// request_headers.insert(COOKIE, set_cookie.split(';').next().unwrap().parse().unwrap());
/// let session = config.load::<u32>(&request_headers);
/// assert_eq!(session.get(), Some(1));
///
/// // Nothing changed: no Set-Cookie.
/// assert_eq!(session.write(&mut HeaderMap::new())?, Written::Nothing);
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub struct Session<T> {
    config: SessionConfig,
    state: Arc<Mutex<State<T>>>,
}

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            state: Arc::clone(&self.state),
        }
    }
}

/// What [`Session::write`] put into the response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Written {
    /// Nothing: the browser's cookie (or its absence) is still right.
    Nothing,
    /// A `Set-Cookie` with the newly sealed session (one per chunk for a
    /// [chunked](crate::SessionConfigBuilder::max_chunks) session), and
    /// removals for the session's cookies the request carried that the new
    /// one does not use (for a chunked session, also for the plain name and
    /// every higher chunk index the configuration could use, which a
    /// concurrent response may have set).
    Set,
    /// `Set-Cookie` headers that delete the session cookie (and any chunk
    /// cookies the request carried).
    Removed,
    /// `Set-Cookie` headers that delete leftovers of the session's other
    /// layout: chunk cookies next to a valid plain cookie, or a plain cookie
    /// next to valid chunks (after a response whose removals were lost).
    /// The session's cookie itself is unchanged.
    LeftoversRemoved,
}

/// What the browser holds, as far as this handle knows: what the request
/// carried until the handle writes, then what it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Browser {
    /// No session cookie.
    Nothing,
    /// The valid cookie the request carried.
    Loaded {
        /// Sealed under an old secret or another algorithm.
        needs_reseal: bool,
        /// Cookies of the other layout next to it, to remove.
        leftovers: Carried,
    },
    /// Only cookies that did not open.
    Invalid {
        /// Whether the response may remove the cookie: not when duplicates
        /// were left untried, since the removal could delete a valid cookie
        /// among them.
        removable: bool,
    },
    /// The cookie this handle wrote last.
    Written,
}

struct State<T> {
    value: Option<T>,
    /// The session's id, creation time and deadlines: from the cookie, or
    /// drawn when a new session first gets a value or is regenerated.
    /// `None` means a fresh one is drawn when sealing.
    envelope: Option<Envelope>,
    binding: Option<Binding>,
    /// Whether the request carried a cookie that opened (never changes).
    loaded: bool,
    /// The session's cookie names the browser holds.
    carried: Carried,
    /// Why the request's cookies did not open, if they did not (never
    /// changes).
    rejection: Option<Error>,
    browser: Browser,
    changed: bool,
    destroyed: bool,
    /// A per-session lifetime to apply to the next fresh envelope.
    lifetime: Option<Duration>,
    /// A cookie value sealed ahead of time by `try_insert`/`try_update`,
    /// with the envelope it carries; dropped by any later change.
    pending: Option<(String, Envelope)>,
}

impl<T> Session<T> {
    /// The session a request's cookies gave.
    fn from_read(config: SessionConfig, read: Read<T>, binding: Option<Binding>) -> Self {
        let (value, envelope, browser) = match read.opened {
            Some(opened) => {
                let needs_reseal = opened.needs_reseal();
                let (value, envelope) = opened.into_parts();
                let browser = Browser::Loaded {
                    needs_reseal,
                    leftovers: read.leftovers,
                };
                (Some(value), Some(envelope), browser)
            }
            None if read.rejection.is_some() => (
                None,
                None,
                Browser::Invalid {
                    removable: !read.untried,
                },
            ),
            None => (None, None, Browser::Nothing),
        };
        Self::with_state(
            config,
            State {
                loaded: value.is_some(),
                value,
                envelope,
                binding,
                carried: read.carried,
                rejection: read.rejection,
                browser,
                changed: false,
                destroyed: false,
                lifetime: None,
                pending: None,
            },
        )
    }

    fn with_state(config: SessionConfig, state: State<T>) -> Self {
        Self {
            config,
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// The lock. A closure that panicked while holding it leaves the state
    /// as it was at the panic, which is still a consistent state, so a
    /// poisoned lock is used rather than turned into another panic.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The configuration this session was loaded with.
    #[must_use]
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Whether the session holds no value.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().value.is_none()
    }

    /// A copy of the value.
    #[must_use]
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.lock().value.clone()
    }

    /// Reads the value without copying it.
    ///
    /// The closure runs under the session's lock: calling a method of this
    /// session (or of a clone of it) from inside the closure deadlocks.
    pub fn with<R>(&self, read: impl FnOnce(Option<&T>) -> R) -> R {
        read(self.lock().value.as_ref())
    }

    /// Replaces the value and returns the previous one. The cookie is sealed
    /// when the response is written; use [`Session::try_insert`] to learn
    /// now whether it fits.
    pub fn insert(&self, value: T) -> Option<T> {
        let mut state = self.lock();
        state.mark_changed();
        state.value.replace(value)
    }

    /// Changes the value in place, if there is one, and marks the session
    /// changed. Returns what the closure returns, or `None` for an empty
    /// session (the closure is not called): a new session needs
    /// [`Session::insert`] or [`Session::update_or_default`].
    ///
    /// The closure runs under the session's lock: calling a method of this
    /// session (or of a clone of it) from inside the closure deadlocks.
    #[must_use = "`None` means the session was empty and nothing changed"]
    pub fn update<R>(&self, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut state = self.lock();
        let result = state.value.as_mut().map(change)?;
        state.mark_changed();
        Some(result)
    }

    /// Changes the value in place, starting from `T::default()` for an
    /// empty session, and marks the session changed.
    ///
    /// The closure runs under the session's lock: calling a method of this
    /// session (or of a clone of it) from inside the closure deadlocks.
    pub fn update_or_default<R>(&self, change: impl FnOnce(&mut T) -> R) -> R
    where
        T: Default,
    {
        let mut state = self.lock();
        state.mark_changed();
        change(state.value.get_or_insert_with(T::default))
    }

    /// Takes the value out. The response then removes the cookie (if the
    /// request had one); the session keeps its id, so a value inserted
    /// later in the same request continues the same session.
    pub fn remove(&self) -> Option<T> {
        let mut state = self.lock();
        state.mark_changed();
        state.value.take()
    }

    /// Logs out: drops the value and the session's id, and the response
    /// carries a removal cookie (same name, path and domain, `Max-Age=0`, an
    /// `Expires` in the past). A value inserted later in the same request
    /// starts a new session with a fresh id.
    pub fn destroy(&self) {
        let mut state = self.lock();
        state.mark_changed();
        state.value = None;
        state.envelope = None;
        state.lifetime = None;
        state.destroyed = true;
    }

    /// Gives the session a fresh id and creation time, keeping its value:
    /// call it right after login (and any privilege change) so that a
    /// session id planted before login is worthless after it (session
    /// fixation). The new absolute deadline counts from now, with the
    /// codec's lifetime or the one set by [`Session::set_lifetime`].
    pub fn regenerate(&self) {
        let codec = self.config.codec();
        let now = codec.now();
        let mut state = self.lock();
        state.mark_changed();
        // A session with its own lifetime ("remember me") keeps it.
        if state.lifetime.is_none() {
            state.lifetime = state
                .envelope
                .and_then(|e| e.absolute_deadline().duration_since(e.created_at()).ok());
        }
        // Drawn now so that `id()` shows the new id; if the random number
        // generator fails, it is drawn again (and the error reported) when
        // the response is written.
        state.envelope = codec
            .new_envelope(now)
            .ok()
            .map(|envelope| apply_lifetime(envelope, state.lifetime));
        state.destroyed = false;
    }

    /// Gives this session its own absolute lifetime, counted from its
    /// creation: for "remember me", call [`Session::regenerate`] and then
    /// this with 30 days. It is capped at the codec's
    /// [maximum lifetime](crate::CodecBuilder::max_lifetime) (by default the
    /// codec's lifetime, so allow long sessions there). Browsers keep no
    /// cookie past 400 days.
    pub fn set_lifetime(&self, lifetime: Duration) {
        let max_lifetime = self.config.codec().settings().rules.max_lifetime;
        let lifetime = lifetime.min(Duration::from_secs(max_lifetime));
        let mut state = self.lock();
        state.mark_changed();
        state.lifetime = Some(lifetime);
        state.envelope = state.envelope.map(|e| e.with_lifetime(lifetime));
    }

    /// The session's id, creation time and deadlines; `None` for a new
    /// session before it first gets a value.
    #[must_use]
    pub fn envelope(&self) -> Option<Envelope> {
        self.lock().envelope
    }

    /// The 128-bit session id, if the session has one yet (see
    /// [`Session::envelope`]).
    #[must_use]
    pub fn id(&self) -> Option<SessionId> {
        self.envelope().map(|e| e.id())
    }

    /// When the session was created, if it has been.
    #[must_use]
    pub fn created_at(&self) -> Option<SystemTime> {
        self.envelope().map(|e| e.created_at())
    }

    /// When the session stops opening unless it is sealed again: the earlier
    /// of its absolute and idle deadlines.
    #[must_use]
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.envelope().map(|e| e.expires_at())
    }

    /// Why the request's session cookie was not used, if it sent one that
    /// did not open (expired, sealed under a retired secret, tampered, ...).
    /// For logs and metrics: [`Error::code`] is stable and
    /// [`Error::is_possible_tampering`] flags forgeries. The session starts
    /// empty, and the response removes the bad cookie (unless more than
    /// [`MAX_SESSION_COOKIES_TRIED`](crate::limits::MAX_SESSION_COOKIES_TRIED)
    /// cookies with the name were sent, so some were never tried). The
    /// reason stays available after [`Session::write`].
    #[must_use]
    pub fn rejection(&self) -> Option<Error> {
        self.lock().rejection.clone()
    }

    /// Whether the request carried a session cookie that opened (whatever
    /// happened to the session since).
    #[must_use]
    pub fn was_loaded(&self) -> bool {
        self.lock().loaded
    }

    /// Whether writing the response now would add a `Set-Cookie`.
    #[must_use]
    pub fn needs_write(&self) -> bool {
        let now = self.config.codec().now();
        !matches!(self.lock().action(&self.config, now), Action::Nothing)
    }
}

impl<T: Serialize> Session<T> {
    /// Replaces the value after sealing it, so that a session too large for
    /// the cookie is refused here, where the handler can still answer the
    /// user, instead of when the response is written. On error the session
    /// is unchanged. The sealed cookie is kept and used for the response
    /// unless the session changes again.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] when the value does not fit in the cookie, and
    /// the other errors of [`Codec::seal_with`](crate::Codec::seal_with).
    pub fn try_insert(&self, value: T) -> Result<Option<T>, Error> {
        let mut state = self.lock();
        let sealed = state.seal(&self.config, &value)?;
        state.mark_changed();
        state.pending = Some(sealed);
        Ok(state.value.replace(value))
    }

    /// Changes a copy of the value (of `T::default()` for an empty session)
    /// and keeps the change only if the result fits in the cookie: the
    /// checked twin of [`Session::update_or_default`].
    ///
    /// The closure runs under the session's lock: calling a method of this
    /// session (or of a clone of it) from inside the closure deadlocks.
    ///
    /// # Errors
    ///
    /// As [`Session::try_insert`]; the session is then unchanged.
    pub fn try_update<R>(&self, change: impl FnOnce(&mut T) -> R) -> Result<R, Error>
    where
        T: Clone + Default,
    {
        let mut state = self.lock();
        let mut value = state.value.clone().unwrap_or_default();
        let result = change(&mut value);
        let sealed = state.seal(&self.config, &value)?;
        state.mark_changed();
        state.pending = Some(sealed);
        state.value = Some(value);
        Ok(result)
    }

    /// Appends the `Set-Cookie` header the response needs, if any, to
    /// `headers` (other `Set-Cookie` headers are kept).
    ///
    /// The cookie's `Max-Age` and `Expires` come from the deadlines sealed
    /// inside it (the earlier of absolute and idle), capped at
    /// [`MAX_COOKIE_AGE`](crate::limits::MAX_COOKIE_AGE).
    ///
    /// # Errors
    ///
    /// When the session cannot be sealed ([`Error::TooLarge`] and the other
    /// errors of [`Codec::seal_with`](crate::Codec::seal_with)), nothing is
    /// appended: the browser keeps the cookie it has, so no earlier state is
    /// lost, and the error is returned for the caller to log or answer.
    pub fn write(&self, headers: &mut HeaderMap) -> Result<Written, Error> {
        let now = self.config.codec().now();
        let mut state = self.lock();
        match state.action(&self.config, now) {
            Action::Nothing => Ok(Written::Nothing),
            Action::Remove => state.write_removal(&self.config, headers),
            Action::Clean => state.write_cleanup(&self.config, headers),
            Action::Seal => {
                let sealed = match state.pending.take() {
                    Some(pending) => Ok(pending),
                    None => {
                        // Out and back in, so that `seal` can borrow the
                        // state mutably; `action` only asks to seal a
                        // session with a value.
                        let Some(value) = state.value.take() else {
                            return Ok(Written::Nothing);
                        };
                        let sealed = state.seal(&self.config, &value);
                        state.value = Some(value);
                        sealed
                    }
                };
                let (token, sealed) = match sealed {
                    Ok(sealed) => sealed,
                    // The session is over (a deadline passed since it was
                    // loaded, or `set_lifetime` moved it into the past):
                    // there is nothing left to keep, so the cookie goes.
                    Err(Error::Expired { .. }) => {
                        return state.write_removal(&self.config, headers);
                    }
                    // A logout must not be lost because what was put into
                    // the session after it does not fit: the old cookie is
                    // removed all the same, and the error reported.
                    Err(error) if state.destroyed => {
                        state.append_removals(&self.config, headers)?;
                        state.browser = Browser::Nothing;
                        state.destroyed = false;
                        return Err(error);
                    }
                    Err(error) => return Err(error),
                };
                // A cookie with less than a second to live would be written
                // with `Max-Age=0`, which deletes it: say so.
                if sealed
                    .expires_at()
                    .duration_since(now)
                    .map_or(true, |left| left < Duration::from_secs(1))
                {
                    return state.write_removal(&self.config, headers);
                }
                state.append_cookies(
                    &self.config,
                    headers,
                    Token {
                        value: &token,
                        expires_at: sealed.expires_at(),
                        now,
                    },
                )?;
                state.envelope = Some(sealed);
                state.browser = Browser::Written;
                state.changed = false;
                state.destroyed = false;
                Ok(Written::Set)
            }
        }
    }
}

/// Where a request's session comes from.
impl SessionConfig {
    /// Loads the session from the request's `Cookie` headers. Never fails:
    /// a missing cookie gives an empty session, and a bad, expired or
    /// tampered one gives an empty session that remembers why
    /// ([`Session::rejection`]) and removes the cookie when written.
    ///
    /// Every `Cookie` header is read (HTTP/2 clients may split cookies over
    /// several), pairs that do not parse are skipped, and when the session's
    /// name appears more than once the first value that opens is used (up
    /// to [`MAX_SESSION_COOKIES_TRIED`](crate::limits::MAX_SESSION_COOKIES_TRIED)). When none of them opens, the
    /// response removes the cookie, except when duplicates were left
    /// untried: the removal might then delete a valid one among them.
    ///
    /// With [chunking](crate::SessionConfigBuilder::max_chunks), when no plain
    /// cookie opens, the chunk cookies `name.0`, `name.1`, … are joined and
    /// opened: one more authentication check, and only if they are exactly
    /// one contiguous set from 0 within `max_chunks` and the header budget.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, header::COOKIE};
    /// use sealed_session::{Codec, Keyring, SessionConfig};
    ///
    /// let config = SessionConfig::new(Codec::new(Keyring::new([Keyring::generate_secret()?])?));
    /// let mut headers = HeaderMap::new();
    /// headers.insert(COOKIE, HeaderValue::from_static("theme=dark; __Host-session=forged"));
    ///
    /// let session = config.load::<u32>(&headers);
    /// assert!(session.is_empty());
    /// assert_eq!(session.rejection().map(|e| e.code()), Some("malformed"));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use = "a session does nothing until it is written into the response"]
    pub fn load<T: DeserializeOwned + 'static>(&self, headers: &HeaderMap) -> Session<T> {
        self.load_with(headers, &OpenOptions::new())
    }

    /// [`SessionConfig::load`] as [`OpenOptions`] say: with a
    /// [`Binding`](crate::Binding), only cookies sealed with the same
    /// binding open, and the session is sealed with it when written.
    #[must_use = "a session does nothing until it is written into the response"]
    pub fn load_with<T: DeserializeOwned + 'static>(
        &self,
        headers: &HeaderMap,
        options: &OpenOptions,
    ) -> Session<T> {
        let read = cookies::read(self, headers, options);
        Session::from_read(self.clone(), read, options.binding)
    }
}

/// What the response needs.
enum Action {
    Nothing,
    Seal,
    Remove,
    /// Remove leftovers of the other layout; the session cookie stays.
    Clean,
}

impl<T> State<T> {
    fn mark_changed(&mut self) {
        self.changed = true;
        self.pending = None;
    }

    /// Appends the cookies of a sealed session and removals for every
    /// other session cookie the browser holds.
    fn append_cookies(
        &mut self,
        config: &SessionConfig,
        headers: &mut HeaderMap,
        token: Token<'_>,
    ) -> Result<(), Error> {
        self.carried = cookies::write(config, headers, Some(token), self.carried)?;
        Ok(())
    }

    /// Appends removals for the session cookie (always the plain name, as
    /// without chunking) and for every chunk the browser holds.
    fn append_removals(
        &mut self,
        config: &SessionConfig,
        headers: &mut HeaderMap,
    ) -> Result<(), Error> {
        cookies::write(config, headers, None, self.carried.with_plain())?;
        self.carried = Carried::default();
        Ok(())
    }

    /// Appends removals for the leftovers of the other layout next to the
    /// loaded cookie, which stays as it is.
    fn write_cleanup(
        &mut self,
        config: &SessionConfig,
        headers: &mut HeaderMap,
    ) -> Result<Written, Error> {
        let Browser::Loaded {
            needs_reseal,
            leftovers,
        } = self.browser
        else {
            return Ok(Written::Nothing);
        };
        cookies::write(config, headers, None, leftovers)?;
        self.carried = self.carried.without(leftovers);
        self.browser = Browser::Loaded {
            needs_reseal,
            leftovers: Carried::default(),
        };
        Ok(Written::LeftoversRemoved)
    }

    /// Appends the removal cookies and empties the session.
    fn write_removal(
        &mut self,
        config: &SessionConfig,
        headers: &mut HeaderMap,
    ) -> Result<Written, Error> {
        self.append_removals(config, headers)?;
        self.value = None;
        self.envelope = None;
        self.browser = Browser::Nothing;
        self.changed = false;
        self.destroyed = false;
        self.pending = None;
        Ok(Written::Removed)
    }

    fn action(&self, config: &SessionConfig, now: SystemTime) -> Action {
        if self.value.is_none() {
            let remove = match self.browser {
                Browser::Nothing => false,
                Browser::Loaded { .. } | Browser::Written => true,
                Browser::Invalid { removable } => removable,
            };
            return if self.destroyed || remove {
                Action::Remove
            } else {
                Action::Nothing
            };
        }
        let seal = self.changed
            || match self.browser {
                Browser::Nothing | Browser::Written => false,
                Browser::Invalid { .. } => true,
                Browser::Loaded { needs_reseal, .. } => {
                    needs_reseal
                        || self
                            .envelope
                            .is_some_and(|envelope| renewal_due(config, &envelope, now))
                }
            };
        if seal {
            Action::Seal
        } else if matches!(self.browser, Browser::Loaded { leftovers, .. } if !leftovers.is_empty())
        {
            Action::Clean
        } else {
            Action::Nothing
        }
    }

    /// Seals `value` into this session's envelope (a new session's is drawn
    /// with the nonce, and kept only if sealing succeeds), returning the
    /// cookie value and the envelope it carries.
    fn seal<V: Serialize + ?Sized>(
        &mut self,
        config: &SessionConfig,
        value: &V,
    ) -> Result<(String, Envelope), Error> {
        let options = SealOptions {
            envelope: self.envelope,
            binding: self.binding,
            // An existing envelope already carries the session's lifetime.
            lifetime: if self.envelope.is_none() {
                self.lifetime
            } else {
                None
            },
        };
        let (token, sealed) = config
            .codec()
            .seal_sized(value, &options, &|len| config.fits(len))?;
        self.envelope = Some(sealed);
        Ok((token, sealed))
    }
}

fn apply_lifetime(envelope: Envelope, lifetime: Option<Duration>) -> Envelope {
    match lifetime {
        Some(lifetime) => envelope.with_lifetime(lifetime),
        None => envelope,
    }
}

/// Whether an unchanged, valid session should be sealed again now to push
/// its idle deadline forward.
///
/// The idle window is the configured idle timeout counted from the cookie's
/// last seal, whatever timeout (if any) it was sealed under: a cookie
/// sealed before an idle timeout was configured is renewed like any other.
/// Without an idle timeout nothing expires through inactivity, so nothing
/// needs renewing.
fn renewal_due(config: &SessionConfig, envelope: &Envelope, now: SystemTime) -> bool {
    let renewal = config.renewal();
    if renewal == Renewal::Always {
        return true;
    }
    let codec = config.codec();
    let Some(idle_timeout) = codec.settings().idle_timeout() else {
        return false;
    };
    // Nothing to gain once the idle deadline has reached the absolute one.
    if codec.after_seal(envelope, now).expires_at() <= envelope.expires_at() {
        return false;
    }
    let threshold = match renewal {
        Renewal::After(after) => after,
        Renewal::Always | Renewal::HalfIdle => idle_timeout / 2,
    };
    now.duration_since(envelope.renewed_at())
        .is_ok_and(|elapsed| elapsed >= threshold)
}

impl<T> fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value may hold personal data: only its presence is shown. The
        // lock is only tried, so that formatting a session from inside one
        // of its own closures does not deadlock.
        let mut out = f.debug_struct("Session");
        match self.state.try_lock() {
            Ok(state) => out
                .field("has_value", &state.value.is_some())
                .field("envelope", &state.envelope)
                .field("loaded", &state.loaded)
                .field("rejection", &state.rejection)
                .field("changed", &state.changed)
                .field("destroyed", &state.destroyed),
            Err(_) => out.field("state", &format_args!("<locked>")),
        }
        .finish_non_exhaustive()
    }
}
