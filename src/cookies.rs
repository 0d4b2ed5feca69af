//! The session cookies of one request: which names are read, which the
//! browser holds, and the `Set-Cookie` headers a write sends.
//!
//! A session is one cookie under the codec's name, or (with
//! [chunking](crate::SessionConfigBuilder::max_chunks)) the chunk cookies
//! `name.0`, `name.1`, … whose layout [`crate::chunks`] defines. The codec
//! sees one cookie value either way.

use std::time::SystemTime;

use http::HeaderMap;
use http::header::COOKIE;
use serde::de::DeserializeOwned;

use crate::chunks::{self, Found, Layout};
use crate::codec::{OpenOptions, Unsealed};
use crate::config::{SessionConfig, append_set_cookie};
use crate::error::Error;

/// At most this many cookies with the session's name are tried per request.
///
/// A browser sends the name more than once when a sibling subdomain or a
/// more specific path set a cookie with the same name ("cookie tossing").
/// The first one that opens wins, so a bad one never hides a good one among
/// the first eight; further duplicates are ignored, which bounds the work an
/// attacker can cause to eight decodings and eight AEAD checks per request.
/// A `__Host-` cookie name prevents tossing altogether.
pub const MAX_SESSION_COOKIES_TRIED: usize = 8;

/// Which of the session's cookie names the browser holds (or a write
/// removes): the plain name and chunk `name.k` for each bit `k` (indexes
/// below `max_chunks`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Carried {
    pub(crate) plain: bool,
    pub(crate) chunks: u64,
}

impl Carried {
    /// These names without those of `other`.
    pub(crate) fn without(self, other: Self) -> Self {
        Self {
            plain: self.plain && !other.plain,
            chunks: self.chunks & !other.chunks,
        }
    }

    /// These names and the plain one.
    pub(crate) fn with_plain(self) -> Self {
        Self {
            plain: true,
            ..self
        }
    }

    /// Whether no name is in the set.
    pub(crate) fn is_empty(self) -> bool {
        self == Self::default()
    }
}

/// What a request's session cookies gave.
pub(crate) struct Read<T> {
    /// The cookie that opened, if one did.
    pub(crate) opened: Option<Unsealed<T>>,
    /// Every session cookie name the request carried.
    pub(crate) carried: Carried,
    /// With a cookie that opened: those of the carried names that are not
    /// part of it (chunks next to a valid plain cookie, or a plain cookie
    /// next to valid chunks), for the response to remove.
    pub(crate) leftovers: Carried,
    /// Why the first cookie tried did not open, when none did.
    pub(crate) rejection: Option<Error>,
    /// Whether more cookies with the session's name were left untried (so
    /// removing the name could delete a valid one among them).
    pub(crate) untried: bool,
}

/// Reads the session from the request's `Cookie` headers: the first plain
/// cookie that opens (at most [`MAX_SESSION_COOKIES_TRIED`] are tried),
/// else, with chunking on, the chunk cookies joined. One log event for the
/// cookies that did not open.
pub(crate) fn read<T: DeserializeOwned + 'static>(
    config: &SessionConfig,
    headers: &HeaderMap,
    options: &OpenOptions,
) -> Read<T> {
    let codec = config.codec();
    let name = codec.cookie_name();
    let chunking = config.chunking();
    // Chunk cookies are read only when chunking is on: otherwise a cookie
    // named `name.0` is none of this crate's business.
    let found = (chunking.max_chunks > 1).then(|| {
        Found::read(
            cookies_starting_with(headers, name),
            name,
            chunking.max_chunks,
        )
    });
    let chunks_seen = found.as_ref().map_or(0, |found| found.seen);
    let one = |len| codec.fits_one(len);

    let mut rejected = Rejected::default();
    let mut plain = false;
    for (tried, value) in cookie_values(headers, name).enumerate() {
        plain = true;
        if tried == MAX_SESSION_COOKIES_TRIED {
            rejected.untried = true;
            break;
        }
        match codec.open_sized::<T>(value, options, &one) {
            Ok(opened) => {
                rejected.log(name, true);
                return Read {
                    opened: Some(opened),
                    carried: Carried {
                        plain: true,
                        chunks: chunks_seen,
                    },
                    // Chunks next to a valid plain cookie are leftovers.
                    leftovers: Carried {
                        plain: false,
                        chunks: chunks_seen,
                    },
                    rejection: None,
                    untried: false,
                };
            }
            Err(error) => rejected.add(error),
        }
    }
    let carried = Carried {
        plain,
        chunks: chunks_seen,
    };
    if let Some(found) = found.filter(Found::any) {
        let settings = codec.settings();
        let opened = found
            .join(name.len(), chunking, settings.max_cookie_size)
            .and_then(|joined| codec.open_sized::<T>(&joined, options, &|len| config.fits(len)));
        match opened {
            Ok(opened) => {
                rejected.log(name, true);
                return Read {
                    opened: Some(opened),
                    carried,
                    // A plain cookie next to valid chunks (it did not
                    // open) is a leftover.
                    leftovers: Carried { plain, chunks: 0 },
                    rejection: None,
                    untried: false,
                };
            }
            Err(error) => rejected.add(error),
        }
    }
    rejected.log(name, false);
    Read {
        opened: None,
        carried,
        leftovers: Carried::default(),
        rejection: rejected.first,
        untried: rejected.untried,
    }
}

/// A sealed cookie value to set, and until when.
pub(crate) struct Token<'a> {
    pub(crate) value: &'a str,
    pub(crate) expires_at: SystemTime,
    pub(crate) now: SystemTime,
}

/// Appends the `Set-Cookie` headers of one write: `token` (if any) under the
/// plain name, or cut into chunks when it does not fit in one cookie, and a
/// removal for every name in `remove` that the token does not set. Returns
/// the names set. Every header is built before any is appended, so an error
/// leaves `headers` as they were.
///
/// A chunked token also removes the plain name and every higher index the
/// configuration could use: a response to a concurrent request may have
/// set them, a plain cookie would shadow these chunks and a higher chunk
/// would spoil the set. The last response then wins whole, as with one
/// cookie.
pub(crate) fn write(
    config: &SessionConfig,
    headers: &mut HeaderMap,
    token: Option<Token<'_>>,
    remove: Carried,
) -> Result<Carried, Error> {
    let settings = config.codec().settings();
    let name = settings.cookie_name.as_str();
    let max_cookie_size = settings.max_cookie_size;
    let mut out = Vec::new();
    let mut set = Carried::default();
    let mut remove = remove;
    if let Some(token) = token {
        // The seal checked that the token fits this layout.
        let chunking = config.chunking();
        match chunking.layout(name.len(), token.value.len(), max_cookie_size)? {
            Layout::One => {
                out.push(config.set_cookie(name, token.value, token.expires_at, token.now)?);
                set.plain = true;
            }
            Layout::Chunks(count) => {
                for (index, chunk) in chunks::split(name.len(), token.value, max_cookie_size) {
                    let chunk_name = chunks::chunk_name(name, index);
                    out.push(config.set_cookie(&chunk_name, chunk, token.expires_at, token.now)?);
                }
                set.chunks = chunks::mask(count);
                let usable = chunking.most_chunks(name.len(), max_cookie_size);
                remove = Carried {
                    plain: true,
                    chunks: remove.chunks | chunks::mask(usable),
                };
            }
        }
    }
    let remove = remove.without(set);
    if remove.plain {
        out.push(config.removal(name)?);
    }
    for index in chunks::indexes(remove.chunks) {
        out.push(config.removal(&chunks::chunk_name(name, index))?);
    }
    for header in out {
        append_set_cookie(headers, header);
    }
    Ok(set)
}

/// The values of every cookie named `name` in the request's `Cookie`
/// headers, in order. Pairs that are not UTF-8 or do not parse are skipped.
fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    cookies_starting_with(headers, name)
        .filter_map(move |(cookie, value)| (cookie == name).then_some(value))
}

/// The name and value of every cookie in the request's `Cookie` headers
/// whose name starts with `prefix`, in order: every header (HTTP/2 clients
/// may split cookies over several), split at `;`. Pairs that are not UTF-8
/// or do not parse are skipped.
fn cookies_starting_with<'a>(
    headers: &'a HeaderMap,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|header| header.as_bytes().split(|&b| b == b';'))
        .filter_map(move |pair| {
            // Most pairs belong to other cookies: skip those before any
            // UTF-8 check. (Only a pair whose name starts with ASCII can be
            // ruled out on bytes; `str::trim` below also trims non-ASCII
            // whitespace.)
            let start = pair
                .iter()
                .position(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
                .unwrap_or(pair.len());
            let rest = pair.get(start..).unwrap_or_default();
            if rest.first().is_some_and(u8::is_ascii) && !rest.starts_with(prefix.as_bytes()) {
                return None;
            }
            let pair = core::str::from_utf8(pair).ok()?;
            // `name=value`, whitespace around each trimmed; a pair without
            // `=` or with an empty name is skipped.
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            if name.is_empty() || !name.starts_with(prefix) {
                return None;
            }
            Some((name, value.trim()))
        })
}

/// The cookies of one request that did not open: one log event for all of
/// them, so that a request with many forged cookies costs one line.
#[derive(Default)]
struct Rejected {
    /// How many were tried and failed.
    count: usize,
    /// Why the first one failed.
    first: Option<Error>,
    /// Whether any of them failed authentication (possible tampering).
    tampered: bool,
    /// Whether more cookies with the session's name were left untried.
    untried: bool,
}

impl Rejected {
    fn add(&mut self, error: Error) {
        self.count += 1;
        self.tampered |= error.is_possible_tampering();
        self.first.get_or_insert(error);
    }

    /// One event, if anything was rejected or left untried: the cookie's
    /// name, how many were rejected, the first error code, whether
    /// duplicates were left untried and whether another cookie opened
    /// (`loaded`); never a value. A warning when any of them failed
    /// authentication (possible tampering; the first error, the `reason`,
    /// may be another one), otherwise a debug event (expired, retired
    /// secret, foreign cookie: routine).
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    fn log(&self, cookie_name: &str, loaded: bool) {
        #[cfg(feature = "tracing")]
        if self.count > 0 || self.untried {
            let reason = self.first.as_ref().map_or("none", Error::code);
            if self.tampered {
                tracing::warn!(
                    cookie = cookie_name,
                    rejected = self.count,
                    reason,
                    untried = self.untried,
                    loaded,
                    "session cookie rejected, at least one failing authentication (possible tampering)"
                );
            } else {
                tracing::debug!(
                    cookie = cookie_name,
                    rejected = self.count,
                    reason,
                    untried = self.untried,
                    loaded,
                    "session cookie rejected"
                );
            }
        }
    }
}

/// The bound on work per request, counted in AEAD attempts.
#[cfg(test)]
mod tests;
