//! Chunked cookies: a sealed token too long for one cookie, carried as
//! `name.0`, `name.1`, … instead.
//!
//! Only the text is split. The token is sealed once, exactly as for a single
//! cookie, so one AEAD tag covers the joined text: a chunk that is missing,
//! extra, reordered, repeated or taken from another session changes the
//! joined text and fails authentication. Where the text is cut is not
//! authenticated and needs not be: any cut of the same text is the same
//! session.
//!
//! This module holds the arithmetic (which layout a token of a given length
//! gets, and whether it fits), the split, and the bounded reading of chunk
//! cookies out of a request. The http helper decides when to use them.

use crate::error::{Error, Malformed};

/// The largest accepted [`max_chunks`](crate::SessionConfigBuilder::max_chunks).
///
/// Browsers keep about 50 cookies per site (at least; 180 in Chromium), and
/// the header budget runs out long before 32 chunks of 4 KB.
pub const MAX_CHUNKS: usize = 32;

/// The default [header budget](crate::SessionConfigBuilder::header_budget):
/// the most that all chunk cookies of a session may take together, counted
/// as browsers count cookie sizes (name plus value, per cookie).
///
/// Many proxies and servers refuse a request whose `Cookie` header is over
/// 8 KB (nginx's and Apache's defaults among them), answering 400, 431 or
/// 502 before the application sees it. 8000 bytes leaves a little room for
/// the `; ` separators and a few small cookies of other names.
pub const DEFAULT_HEADER_BUDGET: usize = 8000;

/// The width of the masks of chunk indexes (a `u64`, bit `k` for `name.k`):
/// more than [`MAX_CHUNKS`], the most chunks any configuration reads or
/// writes.
const TRACKED: u32 = u64::BITS;
const _: () = assert!(MAX_CHUNKS < TRACKED as usize);

/// How a session may be spread over cookies: the http helper's setting,
/// passed to the codec so that the size check happens before encrypting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunking {
    /// At most this many cookies; 1 means a single cookie, as without
    /// chunking.
    pub(crate) max_chunks: usize,
    /// With more than one chunk: the most all chunk cookies may take
    /// together (names plus values).
    pub(crate) budget: usize,
}

/// Which cookies a token of a given length is written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One cookie with the plain name.
    One,
    /// Cookies `name.0` through `name.(n-1)`.
    Chunks(usize),
}

impl Chunking {
    /// One cookie: today's behaviour, and what [`Codec`](crate::Codec)
    /// itself seals and opens.
    #[cfg(test)]
    pub(crate) const ONE: Self = Self {
        max_chunks: 1,
        budget: 0,
    };

    /// The layout of a cookie value of `value_len` characters under a
    /// cookie name of `name_len` bytes, or [`Error::TooLarge`] when it does
    /// not fit. A value that fits in one cookie always uses one.
    pub(crate) fn layout(
        self,
        name_len: usize,
        value_len: usize,
        max_cookie_size: usize,
    ) -> Result<Layout, Error> {
        let single = name_len.saturating_add(value_len);
        if single <= max_cookie_size {
            return Ok(Layout::One);
        }
        if self.max_chunks <= 1 {
            return Err(Error::TooLarge {
                size: single,
                limit: max_cookie_size,
            });
        }
        // Every chunk cookie holds at most `max_cookie_size` bytes, so the
        // chunks hold at most `max_chunks * max_cookie_size`; a value that
        // needs more chunks takes more bytes than that (see `chunked_size`).
        let limit = self
            .budget
            .min(self.max_chunks.saturating_mul(max_cookie_size));
        match chunked_size(name_len, value_len, max_cookie_size) {
            Some((chunks, size)) if size <= limit && chunks <= self.max_chunks => {
                Ok(Layout::Chunks(chunks))
            }
            Some((_, size)) => Err(Error::TooLarge { size, limit }),
            None => Err(Error::TooLarge {
                size: usize::MAX,
                limit,
            }),
        }
    }

    /// The most chunks a session can take under this setting: `max_chunks`,
    /// or fewer when the budget cannot hold that many (all chunks but the
    /// last are full). 1 without chunking.
    pub(crate) fn most_chunks(self, name_len: usize, max_cookie_size: usize) -> usize {
        let limit = self
            .budget
            .min(self.max_chunks.saturating_mul(max_cookie_size));
        (2..=self.max_chunks)
            .take_while(|&count| {
                // The smallest layout of `count` chunks: `count - 1` full
                // cookies and one character in the last.
                let smallest = (count - 1)
                    .saturating_mul(max_cookie_size)
                    .saturating_add(chunk_name_len(name_len, count - 1))
                    .saturating_add(1);
                smallest <= limit
            })
            .last()
            .unwrap_or(1)
    }
}

/// The number of decimal digits of `index`.
fn digits(index: usize) -> usize {
    let mut digits = 1;
    let mut rest = index / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    digits
}

/// The length of the name of chunk `index`: `name.index`.
fn chunk_name_len(name_len: usize, index: usize) -> usize {
    name_len.saturating_add(1).saturating_add(digits(index))
}

/// How many characters of the value chunk `index` holds at most.
fn chunk_capacity(name_len: usize, index: usize, max_cookie_size: usize) -> usize {
    max_cookie_size.saturating_sub(chunk_name_len(name_len, index))
}

/// The number of chunk cookies a value of `value_len` characters needs, each
/// filled up to the cookie size limit, and the bytes they take together
/// (names plus values). `None` when a chunk name alone fills a cookie or
/// the numbers overflow.
///
/// Computed per group of indexes with the same number of digits, so the
/// work does not depend on the value's length. If the value fits in `m`
/// chunks, the total is at most `m * max_cookie_size`; if it needs more than
/// `m`, the total is above that, since the first `m` chunks are full.
fn chunked_size(
    name_len: usize,
    value_len: usize,
    max_cookie_size: usize,
) -> Option<(usize, usize)> {
    let mut remaining = value_len;
    let mut chunks = 0usize;
    let mut size = 0usize;
    // Indexes with `d` digits: 0..=9, then 10..=99, and so on.
    let mut first = 0usize;
    let mut next = 10usize;
    while remaining > 0 {
        let name = chunk_name_len(name_len, first);
        let capacity = chunk_capacity(name_len, first, max_cookie_size);
        if capacity == 0 {
            return None;
        }
        let available = next.checked_sub(first)?;
        let needed = remaining.div_ceil(capacity);
        let used = needed.min(available);
        let chars = remaining.min(used.checked_mul(capacity)?);
        size = size
            .checked_add(used.checked_mul(name)?)?
            .checked_add(chars)?;
        chunks = chunks.checked_add(used)?;
        remaining -= chars;
        first = next;
        next = next.checked_mul(10)?;
    }
    Some((chunks, size))
}

/// The name of chunk `index` of the cookie `name`.
pub(crate) fn chunk_name(name: &str, index: usize) -> String {
    format!("{name}.{index}")
}

/// The chunks of `value` under the cookie `name`, in order: chunk `k` takes
/// as many characters as fit next to the name `name.k`. The values are
/// base64url text (ASCII), so every cut falls on a character boundary.
pub(crate) fn split<'a>(
    name_len: usize,
    value: &'a str,
    max_cookie_size: usize,
) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    let mut rest = value;
    let mut index = 0usize;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let capacity = chunk_capacity(name_len, index, max_cookie_size).max(1);
        let (chunk, tail) = rest.split_at_checked(capacity.min(rest.len()))?;
        rest = tail;
        let this = index;
        index += 1;
        Some((this, chunk))
    })
}

/// The chunk cookies of one request, read with bounded work.
#[derive(Debug)]
pub(crate) struct Found<'a> {
    /// The values of chunks `0..max_chunks`, by index.
    slots: [Option<&'a str>; MAX_CHUNKS],
    /// Which chunk indexes the request carried (bit `k` for `name.k`), for
    /// the removal cookies a write emits.
    pub(crate) seen: u64,
    /// An index was carried twice.
    irregular: bool,
}

impl<'a> Found<'a> {
    /// Picks the chunk cookies of `name` out of a request's cookies, given
    /// as `(name, value)` pairs (the http helper scans the `Cookie`
    /// headers). Only names `name.k`, with `k` below `max_chunks` written
    /// in decimal without leading zeros (as this crate writes them), count;
    /// other names are other cookies, neither read nor removed. One pass,
    /// and memory for at most [`MAX_CHUNKS`] values, however many cookies
    /// the request carries; a write removes at most `max_chunks` of them.
    pub(crate) fn read(
        cookies: impl Iterator<Item = (&'a str, &'a str)>,
        name: &str,
        max_chunks: usize,
    ) -> Self {
        let mut found = Found {
            slots: [None; MAX_CHUNKS],
            seen: 0,
            irregular: false,
        };
        let max_chunks = max_chunks.min(MAX_CHUNKS);
        let chunks = cookies
            .filter_map(|(cookie, value)| Some((chunk_index(cookie.strip_prefix(name)?)?, value)));
        for (index, value) in chunks {
            // An index this configuration never writes is another cookie:
            // counting it would let a cookie the response cannot remove
            // (set for a parent domain, say) spoil every chunked session,
            // and make every response remove it again.
            let Some(slot) = usize::try_from(index)
                .ok()
                .filter(|&index| index < max_chunks)
                .and_then(|index| found.slots.get_mut(index))
            else {
                continue;
            };
            found.seen |= 1u64 << index;
            match slot {
                None => *slot = Some(value),
                // Twice the same index.
                Some(_) => found.irregular = true,
            }
        }
        found
    }

    /// Whether the request carried any chunk cookie.
    pub(crate) fn any(&self) -> bool {
        self.seen != 0
    }

    /// The chunks joined in index order, after checking that they are
    /// exactly `name.0` through `name.(n-1)`, each once and each within the
    /// cookie size limit, and that together they stay within the budget.
    /// The joined text then goes to the codec, whose AEAD decides whether it
    /// is a session.
    pub(crate) fn join(
        &self,
        name_len: usize,
        chunking: Chunking,
        max_cookie_size: usize,
    ) -> Result<String, Error> {
        if self.irregular {
            return Err(Error::Malformed(Malformed::Chunks));
        }
        // Empty chunks count as present here and are refused below: the
        // sealer never writes one.
        let count = self.slots.iter().take_while(|slot| slot.is_some()).count();
        if count == 0 || self.slots.iter().skip(count).any(Option::is_some) {
            return Err(Error::Malformed(Malformed::Chunks));
        }
        let mut size = 0usize;
        let mut chars = 0usize;
        for (index, chunk) in self.slots.iter().take(count).flatten().enumerate() {
            if chunk.is_empty() {
                return Err(Error::Malformed(Malformed::Chunks));
            }
            let cookie = chunk_name_len(name_len, index).saturating_add(chunk.len());
            if cookie > max_cookie_size {
                return Err(Error::TooLarge {
                    size: cookie,
                    limit: max_cookie_size,
                });
            }
            size = size.saturating_add(cookie);
            chars = chars.saturating_add(chunk.len());
        }
        let limit = chunking
            .budget
            .min(chunking.max_chunks.saturating_mul(max_cookie_size));
        if size > limit {
            return Err(Error::TooLarge { size, limit });
        }
        let mut joined = String::with_capacity(chars);
        for chunk in self.slots.iter().take(count).flatten() {
            joined.push_str(chunk);
        }
        Ok(joined)
    }
}

/// The index in a chunk name's suffix `.k`, or `None` when the suffix is
/// not a chunk index as this crate writes them: `.0`, `.1`, … in decimal,
/// no sign, no leading zero, below 64 ([`TRACKED`]).
fn chunk_index(suffix: &str) -> Option<u32> {
    let digits = suffix.strip_prefix('.')?;
    let canonical = !digits.is_empty()
        && digits.len() <= 2
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    digits
        .parse()
        .ok()
        .filter(|&index| canonical && index < TRACKED)
}

/// The chunk indexes set in `seen`, in increasing order.
pub(crate) fn indexes(seen: u64) -> impl Iterator<Item = usize> {
    (0..TRACKED).filter_map(move |bit| {
        (seen & (1u64 << bit) != 0)
            .then(|| usize::try_from(bit).ok())
            .flatten()
    })
}

/// The bits of chunks `0..count`.
pub(crate) fn mask(count: usize) -> u64 {
    match u32::try_from(count) {
        Ok(count) if count < TRACKED => (1u64 << count) - 1,
        _ => u64::MAX,
    }
}

#[cfg(test)]
mod tests;
