//! The cookie settings around a codec: attributes, renewal and chunking,
//! checked when built, and the `Set-Cookie` values they format.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};

use crate::chunks::{Chunking, DEFAULT_HEADER_BUDGET, MAX_CHUNKS};
use crate::codec::Codec;
use crate::date::{push_decimal, push_http_date};
use crate::envelope::MAX_TIME;
use crate::error::{ConfigError, Error};

/// The longest `Max-Age` / `Expires` written: 400 days, the cap browsers
/// apply to every cookie. A session with a longer lifetime still opens for
/// its whole lifetime; the browser just forgets the cookie after 400 days.
pub const MAX_COOKIE_AGE: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// The `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SameSite {
    /// Sent only with requests from the same site.
    Strict,
    /// Sent with same-site requests and top-level cross-site navigations
    /// (links), not with cross-site subrequests or form posts. The default.
    #[default]
    Lax,
    /// Sent with every request, including cross-site ones. Requires `Secure`,
    /// and needs a CSRF defence of its own.
    None,
}

/// When a session that did not change is sealed again to push its idle
/// deadline forward.
///
/// Only sessions with an [idle timeout](crate::CodecBuilder::idle_timeout)
/// have a deadline to push; without one, only [`Renewal::Always`] re-seals
/// unchanged sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Renewal {
    /// Re-seal on every response to a request that carried a valid session
    /// ("rolling" sessions). Every response then carries a `Set-Cookie`.
    Always,
    /// Re-seal once at least half of the idle window has passed since the
    /// cookie was sealed (the default): an active user never hits the idle
    /// deadline, and most responses carry no `Set-Cookie`.
    #[default]
    HalfIdle,
    /// Re-seal once at least this long has passed since the cookie was sealed.
    /// Must be shorter than the idle timeout (checked when the
    /// configuration is built).
    After(Duration),
}

/// The cookie attributes and renewal policy around a [`Codec`]: everything
/// needed to turn request headers into a [`Session`](crate::Session) and
/// back.
///
/// Cheap to clone (one reference count); build one at start-up and share it.
///
/// ```
/// use sealed_session::{Codec, Keyring, SameSite, SessionConfig};
///
/// let codec = Codec::builder(Keyring::new([Keyring::generate_secret()?])?)
///     .cookie_name("__Host-session")
///     .build()?;
/// let config = SessionConfig::builder(codec).same_site(SameSite::Strict).build()?;
/// assert_eq!(config.codec().cookie_name(), "__Host-session");
///
/// // `__Host-` cookies must be Secure, with Path=/ and no Domain.
/// let codec = config.codec().clone();
/// assert!(SessionConfig::builder(codec).domain("example.com").build().is_err());
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct SessionConfig {
    inner: Arc<Attributes>,
}

#[derive(Debug, Clone)]
struct Attributes {
    codec: Codec,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    path: String,
    domain: Option<String>,
    partitioned: bool,
    renewal: Renewal,
    chunking: Chunking,
    /// The attributes as they follow `name=value` in every `Set-Cookie`
    /// (before `Max-Age` and `Expires`), formatted once when built.
    suffix: String,
}

/// Settings for a [`SessionConfig`]; start with [`SessionConfig::builder`].
///
/// Defaults: `Secure`, `HttpOnly`, `SameSite=Lax`, `Path=/`, no `Domain`
/// (the cookie goes to the exact host only), not `Partitioned`,
/// [`Renewal::HalfIdle`], one cookie (no chunking).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct SessionConfigBuilder {
    attributes: Attributes,
}

impl SessionConfigBuilder {
    /// Sends the cookie without the `Secure` attribute, so that browsers
    /// also send it over plain `http://`.
    ///
    /// Only for local development on a host browsers do not treat as secure
    /// (a LAN address, say): browsers already accept `Secure` cookies from
    /// `http://localhost`. Over plain HTTP anyone on the path can read and
    /// replay the cookie. Not allowed with `__Host-` or `__Secure-` names,
    /// `SameSite=None` or `Partitioned`.
    pub fn dangerous_allow_plain_http(mut self) -> Self {
        self.attributes.secure = false;
        self
    }

    /// Whether the cookie carries `HttpOnly`, hiding it from JavaScript
    /// (default: yes). The value is encrypted either way; `HttpOnly` keeps a
    /// script injected into the page from stealing it.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.attributes.http_only = http_only;
        self
    }

    /// The `SameSite` attribute (default [`SameSite::Lax`]).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.attributes.same_site = same_site;
        self
    }

    /// The `Path` attribute (default `/`). Must start with `/`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.attributes.path = path.into();
        self
    }

    /// The `Domain` attribute (default: none, so the cookie is sent to the
    /// exact host that set it only). Setting it shares the cookie with every
    /// subdomain, which also lets each of them overwrite it. A leading dot
    /// is dropped: browsers ignore it, and RFC 6265 does not let servers
    /// send it.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.attributes.domain = Some(domain.into());
        self
    }

    /// Adds the `Partitioned` attribute (CHIPS), for a session inside a
    /// cross-site iframe: the browser keeps a separate cookie per top-level
    /// site. Requires `Secure`; usually paired with [`SameSite::None`].
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.attributes.partitioned = partitioned;
        self
    }

    /// When unchanged sessions are re-sealed (default [`Renewal::HalfIdle`]).
    pub fn renewal(mut self, renewal: Renewal) -> Self {
        self.attributes.renewal = renewal;
        self
    }

    /// Lets a session too large for one cookie spread over up to
    /// `max_chunks` cookies (default 1: one cookie, no chunking; at most
    /// [`MAX_CHUNKS`](crate::limits::MAX_CHUNKS)).
    ///
    /// A sealed value that fits in one cookie is still written to the plain
    /// name. A longer one is cut into `name.0`, `name.1`, …, each within the
    /// [maximum cookie size](crate::CodecBuilder::max_cookie_size). The value
    /// is sealed once and only its text is cut, so one authentication tag
    /// covers every chunk: a missing, extra, reordered or foreign chunk makes
    /// the session invalid. Every write removes the cookies the request
    /// carried that it no longer uses (leftover chunks below `max_chunks`,
    /// or the plain cookie when the session moves to chunks, and the other
    /// way round).
    ///
    /// All chunk cookies together stay within the
    /// [header budget](Self::header_budget); beyond it, sealing fails with
    /// [`Error::TooLarge`] as for one cookie. A session that needs chunks is
    /// a large `Cookie` header on every request to the cookie's path; keep
    /// large data server-side where you can.
    ///
    /// Names with an index from `max_chunks` up are other cookies: never
    /// read, never removed (so that one response removes at most
    /// `max_chunks + 1` cookies). After lowering `max_chunks` (or setting it
    /// back to 1), chunks written under the larger setting at those indexes
    /// stay in browsers, unused, until they expire, and a session that
    /// needed them fails to open once
    /// ([`AuthenticationFailed`](Error::AuthenticationFailed): its first
    /// chunks are the front of a longer token); see the README's chunking
    /// section.
    pub fn max_chunks(mut self, max_chunks: usize) -> Self {
        self.attributes.chunking.max_chunks = max_chunks;
        self
    }

    /// The most that all chunk cookies of a session may take together,
    /// names plus values (default
    /// [`DEFAULT_HEADER_BUDGET`](crate::limits::DEFAULT_HEADER_BUDGET), 8000 bytes).
    /// Only used with [`max_chunks`](Self::max_chunks) above 1; must be at
    /// least the smallest chunked session: the maximum cookie size plus the
    /// cookie name's length plus 5 (a full `name.0` and 3 characters in
    /// `name.1`).
    ///
    /// Many proxies and servers refuse requests with a `Cookie` header over
    /// 8 KB (400, 431 or 502, before the application sees them); raise it
    /// only when every hop in front of the application accepts larger
    /// headers, and lower it when other cookies share the site.
    pub fn header_budget(mut self, bytes: usize) -> Self {
        self.attributes.chunking.budget = bytes;
        self
    }

    /// Checks the attributes against each other, against the cookie name's
    /// prefix and against what browsers accept.
    ///
    /// # Errors
    ///
    /// [`ConfigError::CookiePrefix`] when a `__Host-` name is not `Secure`,
    /// has a `Domain` or a `Path` other than `/`, or a `__Secure-` name is
    /// not `Secure`; [`ConfigError::CookieAttribute`] for a `Path` that does
    /// not start with `/` or holds `;` or control characters, a `Domain`
    /// that is not a host name, `SameSite=None` or `Partitioned` without
    /// `Secure`, or a [`Renewal::After`] not shorter than the idle timeout;
    /// [`ConfigError::Chunking`] for a `max_chunks` of 0 or above
    /// [`MAX_CHUNKS`](crate::limits::MAX_CHUNKS), or chunks with a header budget
    /// too small for two chunks.
    pub fn build(self) -> Result<SessionConfig, ConfigError> {
        let a = &self.attributes;
        check_path(&a.path)?;
        check_chunking(
            a.chunking,
            a.codec.cookie_name().len(),
            a.codec.settings().max_cookie_size,
        )?;
        if let (Renewal::After(after), Some(idle)) = (a.renewal, a.codec.settings().idle_timeout())
            && after >= idle
        {
            return Err(ConfigError::CookieAttribute {
                attribute: "Renewal",
                reason: "Renewal::After must be shorter than the idle timeout, or active \
                         sessions expire",
            });
        }
        if let Some(domain) = &a.domain {
            check_domain(domain)?;
        }
        let name = a.codec.cookie_name();
        if starts_with_ignore_case(name, "__Host-")
            && (!a.secure || a.path != "/" || a.domain.is_some())
        {
            return Err(ConfigError::CookiePrefix {
                prefix: "__Host-",
                requires: "Secure, Path=/ and no Domain",
            });
        }
        if starts_with_ignore_case(name, "__Secure-") && !a.secure {
            return Err(ConfigError::CookiePrefix {
                prefix: "__Secure-",
                requires: "Secure",
            });
        }
        if a.same_site == SameSite::None && !a.secure {
            return Err(ConfigError::CookieAttribute {
                attribute: "SameSite",
                reason: "SameSite=None requires Secure",
            });
        }
        if a.partitioned && !a.secure {
            return Err(ConfigError::CookieAttribute {
                attribute: "Partitioned",
                reason: "Partitioned requires Secure",
            });
        }
        Ok(SessionConfig {
            inner: Arc::new(self.attributes.with_suffix()),
        })
    }
}

impl SessionConfig {
    /// A configuration with every attribute at its default (see
    /// [`SessionConfigBuilder`]). The defaults suit every valid cookie name,
    /// including `__Host-` and `__Secure-` ones, so this cannot fail.
    #[must_use]
    pub fn new(codec: Codec) -> Self {
        Self {
            inner: Arc::new(Attributes::defaults(codec)),
        }
    }

    /// Starts a configuration around `codec`, whose cookie name the session
    /// cookie uses.
    pub fn builder(codec: Codec) -> SessionConfigBuilder {
        SessionConfigBuilder {
            attributes: Attributes::defaults(codec),
        }
    }

    /// The codec that seals and opens the cookie.
    #[must_use]
    pub fn codec(&self) -> &Codec {
        &self.inner.codec
    }

    /// The renewal policy.
    #[must_use]
    pub fn renewal(&self) -> Renewal {
        self.inner.renewal
    }

    /// The most cookies one session may take (1 without chunking).
    #[must_use]
    pub fn max_chunks(&self) -> usize {
        self.inner.chunking.max_chunks
    }

    /// The most all chunk cookies of a session may take together; see
    /// [`SessionConfigBuilder::header_budget`].
    #[must_use]
    pub fn header_budget(&self) -> usize {
        self.inner.chunking.budget
    }

    pub(crate) fn chunking(&self) -> Chunking {
        self.inner.chunking
    }

    /// The size rule of this configuration's layout for a cookie value of
    /// `value_len` characters: one cookie, or the chunks it allows.
    pub(crate) fn fits(&self, value_len: usize) -> Result<(), Error> {
        let codec = self.codec().settings();
        self.inner
            .chunking
            .layout(
                codec.cookie_name.as_str().len(),
                value_len,
                codec.max_cookie_size,
            )
            .map(|_| ())
    }

    /// A `Set-Cookie` value for the cookie `name` carrying `value` until
    /// `expires_at`: `Max-Age` is the whole seconds from `now` (at most
    /// [`MAX_COOKIE_AGE`]), `Expires` is `now` plus that (at most
    /// [`MAX_TIME`](MAX_TIME), as every deadline is).
    pub(crate) fn set_cookie(
        &self,
        name: &str,
        value: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> Result<HeaderValue, Error> {
        let max_age = expires_at
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_COOKIE_AGE)
            .as_secs();
        let expires = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
            .saturating_add(max_age)
            .min(MAX_TIME);
        self.header(name, value, max_age, expires)
    }

    /// A `Set-Cookie` value that makes the browser delete the cookie
    /// `name`: same path and domain, empty value, `Max-Age=0` and an
    /// `Expires` in 1970.
    pub(crate) fn removal(&self, name: &str) -> Result<HeaderValue, Error> {
        self.header(name, "", 0, 0)
    }

    /// `name=value`, the configured attributes, `Max-Age` and `Expires`
    /// (Unix seconds), in one allocation.
    fn header(
        &self,
        name: &str,
        value: &str,
        max_age: u64,
        expires: u64,
    ) -> Result<HeaderValue, Error> {
        // "; Max-Age=" + 20 digits + "; Expires=" + 29 characters.
        const TIME_ATTRIBUTES: usize = 10 + 20 + 10 + 29;
        let attributes = &self.inner.suffix;
        let mut out = String::with_capacity(
            name.len() + 1 + value.len() + attributes.len() + TIME_ATTRIBUTES,
        );
        out.push_str(name);
        out.push('=');
        out.push_str(value);
        out.push_str(attributes);
        out.push_str("; Max-Age=");
        push_decimal(&mut out, max_age, 1);
        out.push_str("; Expires=");
        push_http_date(&mut out, expires);
        let mut header = HeaderValue::try_from(out).map_err(|_| {
            // Name, value, path and domain are all checked to be visible
            // ASCII, so this is an invariant break, reported rather than
            // ignored.
            Error::Config(ConfigError::CookieAttribute {
                attribute: "Set-Cookie",
                reason: "the header value is not valid",
            })
        })?;
        header.set_sensitive(true);
        Ok(header)
    }
}

/// The attributes every `Set-Cookie` of this configuration carries, before
/// `Max-Age` and `Expires`: `; HttpOnly; SameSite=...; Partitioned; Secure;
/// Path=...; Domain=...`, each only when set (the order browsers and the
/// `cookie` crate use).
fn attribute_suffix(a: &Attributes) -> String {
    let mut out = String::new();
    if a.http_only {
        out.push_str("; HttpOnly");
    }
    out.push_str(match a.same_site {
        SameSite::Strict => "; SameSite=Strict",
        SameSite::Lax => "; SameSite=Lax",
        SameSite::None => "; SameSite=None",
    });
    if a.partitioned {
        out.push_str("; Partitioned");
    }
    if a.secure {
        out.push_str("; Secure");
    }
    out.push_str("; Path=");
    out.push_str(&a.path);
    if let Some(domain) = &a.domain {
        out.push_str("; Domain=");
        out.push_str(domain.strip_prefix('.').unwrap_or(domain));
    }
    out
}

/// Appends a `Set-Cookie` header, never replacing existing ones.
pub(crate) fn append_set_cookie(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}

impl Attributes {
    fn defaults(codec: Codec) -> Self {
        Self {
            codec,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            path: "/".into(),
            domain: None,
            partitioned: false,
            renewal: Renewal::HalfIdle,
            chunking: Chunking {
                max_chunks: 1,
                budget: DEFAULT_HEADER_BUDGET,
            },
            suffix: String::new(),
        }
        .with_suffix()
    }

    /// The same attributes with the `Set-Cookie` suffix formatted for them.
    fn with_suffix(self) -> Self {
        Self {
            suffix: attribute_suffix(&self),
            ..self
        }
    }
}

impl core::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The codec's Debug shows key ids only, never key material.
        core::fmt::Debug::fmt(&*self.inner, f)
    }
}

fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn check_path(path: &str) -> Result<(), ConfigError> {
    let reason = if !path.starts_with('/') {
        Some("it must start with /")
    } else if !path.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';') {
        Some("it may only hold visible ASCII and spaces, without ;")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ConfigError::CookieAttribute {
            attribute: "Path",
            reason,
        }),
        None => Ok(()),
    }
}

fn check_chunking(
    chunking: Chunking,
    name_len: usize,
    max_cookie_size: usize,
) -> Result<(), ConfigError> {
    // The smallest chunked session: a value one character too long for one
    // cookie, which fills chunk 0 (`name.0`, `max_cookie_size` bytes) and
    // leaves 3 characters for chunk 1 (`name.1`).
    let smallest_chunked = max_cookie_size.saturating_add(name_len).saturating_add(5);
    let reason = if chunking.max_chunks == 0 {
        Some("max_chunks must be at least 1 (1 means one cookie, no chunking)")
    } else if chunking.max_chunks > MAX_CHUNKS {
        Some("max_chunks must be at most MAX_CHUNKS (32)")
    } else if chunking.max_chunks > 1 && chunking.budget < smallest_chunked {
        Some(
            "the header budget must hold two chunks: at least the maximum cookie size plus the \
             cookie name's length plus 5",
        )
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ConfigError::Chunking { reason }),
        None => Ok(()),
    }
}

fn check_domain(domain: &str) -> Result<(), ConfigError> {
    let host = domain.strip_prefix('.').unwrap_or(domain);
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid {
        Ok(())
    } else {
        Err(ConfigError::CookieAttribute {
            attribute: "Domain",
            reason: "it must be a host name (letters, digits, hyphens and dots)",
        })
    }
}

/// Unit tests of the `Set-Cookie` formatting and its dates, against the
/// `cookie` crate.
#[cfg(test)]
mod tests;
