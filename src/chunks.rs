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
mod tests {
    use super::*;

    const NAME: &str = "session";

    #[test]
    fn digits_counts_decimal_digits() {
        assert_eq!(digits(0), 1);
        assert_eq!(digits(9), 1);
        assert_eq!(digits(10), 2);
        assert_eq!(digits(99), 2);
        assert_eq!(digits(100), 3);
        assert_eq!(digits(usize::MAX), 20);
    }

    /// The closed form agrees with filling chunks one by one.
    #[test]
    fn chunked_size_matches_a_chunk_by_chunk_count() {
        for max in [200, 257, 4096] {
            for value_len in (1..40_000).step_by(97).chain([max * 11, max * 11 + 1]) {
                let mut remaining = value_len;
                let (mut chunks, mut size) = (0, 0);
                while remaining > 0 {
                    let take = remaining.min(max - (NAME.len() + 1 + digits(chunks)));
                    size += NAME.len() + 1 + digits(chunks) + take;
                    remaining -= take;
                    chunks += 1;
                }
                assert_eq!(
                    chunked_size(NAME.len(), value_len, max),
                    Some((chunks, size)),
                    "max {max}, value_len {value_len}"
                );
            }
        }
    }

    #[test]
    fn split_fills_each_chunk_up_to_the_cookie_limit_and_joins_back() {
        let max = 100;
        // Chunks 0..=9 hold 100 - 9 = 91 characters, chunks 10.. hold 90.
        let value: String = (0..2000u32)
            .map(|i| char::from(b'a' + u8::try_from(i % 26).unwrap()))
            .collect();
        let chunks: Vec<(usize, &str)> = split(NAME.len(), &value, max).collect();
        // 10 * 91 = 910 characters, then ceil(1090 / 90) = 13 more chunks.
        assert_eq!(chunks.len(), 23);
        for (index, chunk) in &chunks {
            assert!(chunk_name(NAME, *index).len() + chunk.len() <= max);
        }
        assert_eq!(chunks[0].1.len(), 91);
        assert_eq!(chunks[9].1.len(), 91);
        assert_eq!(chunks[10].1.len(), 90);
        assert_eq!(
            chunks.iter().map(|(_, c)| *c).collect::<String>(),
            value,
            "the chunks join back to the value"
        );
        let indexes: Vec<usize> = chunks.iter().map(|(i, _)| *i).collect();
        assert_eq!(indexes, (0..23).collect::<Vec<_>>());
        assert_eq!(split(NAME.len(), "", max).count(), 0);
    }

    /// At the exact boundaries: one cookie up to `max`, then two chunks up
    /// to twice their capacity, then three.
    #[test]
    fn layout_at_exact_boundaries() {
        let max = 100;
        let chunking = Chunking {
            max_chunks: 3,
            budget: 10_000,
        };
        let one = max - NAME.len();
        assert_eq!(chunking.layout(NAME.len(), one, max).unwrap(), Layout::One);
        assert_eq!(
            chunking.layout(NAME.len(), one + 1, max).unwrap(),
            Layout::Chunks(2)
        );
        let per_chunk = max - "session.0".len();
        assert_eq!(
            chunking.layout(NAME.len(), 2 * per_chunk, max).unwrap(),
            Layout::Chunks(2)
        );
        assert_eq!(
            chunking.layout(NAME.len(), 2 * per_chunk + 1, max).unwrap(),
            Layout::Chunks(3)
        );
        assert_eq!(
            chunking.layout(NAME.len(), 3 * per_chunk, max).unwrap(),
            Layout::Chunks(3)
        );
        // Three full chunks take exactly 3 * max bytes; one more character
        // needs a fourth chunk.
        assert_eq!(
            chunking.layout(NAME.len(), 3 * per_chunk + 1, max),
            Err(Error::TooLarge {
                size: 3 * max + "session.3".len() + 1,
                limit: 3 * max,
            })
        );
        // Without chunking, the single-cookie limit.
        assert_eq!(
            Chunking::ONE.layout(NAME.len(), one + 1, max),
            Err(Error::TooLarge {
                size: max + 1,
                limit: max,
            })
        );
    }

    #[test]
    fn the_budget_bounds_the_total_size() {
        let max = 100;
        let per_chunk = max - "session.0".len();
        let chunking = Chunking {
            max_chunks: 8,
            budget: 250,
        };
        // Two full chunks: 200 bytes. Two full and 41 characters: 250.
        assert_eq!(
            chunking
                .layout(NAME.len(), 2 * per_chunk + 41, max)
                .unwrap(),
            Layout::Chunks(3)
        );
        assert_eq!(
            chunking.layout(NAME.len(), 2 * per_chunk + 42, max),
            Err(Error::TooLarge {
                size: 251,
                limit: 250,
            })
        );
        // A length no cookie jar could hold does not overflow.
        assert!(matches!(
            chunking.layout(NAME.len(), usize::MAX, max),
            Err(Error::TooLarge { .. })
        ));
    }

    /// The `(name, value)` pairs of a `Cookie` header, as the http helper
    /// passes them.
    fn pairs(cookie: &str) -> Vec<(&str, &str)> {
        cookie
            .split("; ")
            .map(|pair| pair.split_once('=').unwrap())
            .collect()
    }

    const WIDE: Chunking = Chunking {
        max_chunks: 4,
        budget: 100_000,
    };

    #[test]
    fn reading_joins_a_contiguous_set_in_index_order() {
        let h = pairs("other=1; session.2=cc; session=plain; session.0=aa; session.1=bb");
        let found = Found::read(h.iter().copied(), NAME, 4);
        assert_eq!(found.seen, 0b111);
        assert_eq!(found.join(NAME.len(), WIDE, 4096).unwrap(), "aabbcc");
    }

    #[test]
    fn reading_rejects_gaps_repeats_and_empty_chunks() {
        for cookie in [
            "session.1=bb",                            // no chunk 0
            "session.0=aa; session.2=cc",              // a gap
            "session.0=aa; session.0=aa",              // a repeat
            "session.0=aa; session.1=bb; session.1=b", // a repeat
            "session.0=aa; session.1=; session.2=cc",  // an empty chunk
            "session.0=aa; session.1=",                // an empty last chunk
            "session.0=aa; session.3=x",               // a gap below max_chunks
        ] {
            let h = pairs(cookie);
            let found = Found::read(h.iter().copied(), NAME, 4);
            assert!(found.any(), "{cookie}");
            assert_eq!(
                found.join(NAME.len(), WIDE, 4096),
                Err(Error::Malformed(Malformed::Chunks)),
                "{cookie}"
            );
        }
    }

    #[test]
    fn only_canonical_chunk_names_below_64_count() {
        let h = pairs(
            "session.00=a; session.01=b; session.+1=c; session.=d; session.x=e; sessions.0=f; \
             session0=g; session.64=h; session.100=i; session.99999999999999999999999=j",
        );
        let found = Found::read(h.iter().copied(), NAME, 4);
        assert!(!found.any());
        assert_eq!(found.seen, 0);
    }

    /// Names that are not chunk names, and chunk names at or above
    /// `max_chunks`, do not spoil a valid set: a cookie this crate could
    /// never remove (or never writes) must not make every session invalid.
    #[test]
    fn other_names_next_to_a_set_are_ignored() {
        let h = pairs(
            "session.0=aa; session.64=x; session.007=y; session.1=bb; session.99999999999999999999999=z; \
             session.4=w; session.31=v",
        );
        let found = Found::read(h.iter().copied(), NAME, 4);
        assert_eq!(found.seen, 0b11);
        assert_eq!(found.join(NAME.len(), WIDE, 4096).unwrap(), "aabb");
    }

    /// Only indexes the configuration can read count, and only those are
    /// removed: a response never removes more than `max_chunks` chunks,
    /// whatever the request carried.
    #[test]
    fn indexes_below_max_chunks_are_remembered_for_removal() {
        let h = pairs("session.0=a; session.3=b; session.4=c; session.31=c; session.63=c");
        let found = Found::read(h.iter().copied(), NAME, 4);
        assert_eq!(indexes(found.seen).collect::<Vec<_>>(), [0, 3]);
        assert!(found.any());
        let all: Vec<String> = (0..64).map(|i| format!("session.{i}=x")).collect();
        let all = all.join("; ");
        let h = pairs(&all);
        for max_chunks in [2, 4, MAX_CHUNKS] {
            let found = Found::read(h.iter().copied(), NAME, max_chunks);
            assert_eq!(indexes(found.seen).count(), max_chunks);
        }
        // Indexes from max_chunks on are neither read nor tracked.
        let h = pairs("session.4=a; session.5=b");
        let found = Found::read(h.iter().copied(), NAME, 4);
        assert!(!found.any());
    }

    #[test]
    fn reading_checks_each_chunk_and_the_budget() {
        let h = pairs("session.0=aaaa; session.1=bbbb");
        let found = Found::read(h.iter().copied(), NAME, 4);
        // Each chunk cookie takes 13 bytes: "session.0" and 4 characters.
        assert_eq!(
            found.join(NAME.len(), WIDE, 12),
            Err(Error::TooLarge {
                size: 13,
                limit: 12,
            })
        );
        let tight = Chunking {
            max_chunks: 4,
            budget: 25,
        };
        assert_eq!(
            found.join(NAME.len(), tight, 4096),
            Err(Error::TooLarge {
                size: 26,
                limit: 25,
            })
        );
        let exact = Chunking {
            max_chunks: 4,
            budget: 26,
        };
        assert_eq!(found.join(NAME.len(), exact, 4096).unwrap(), "aaaabbbb");
    }

    #[test]
    fn masks_and_indexes() {
        assert_eq!(mask(0), 0);
        assert_eq!(mask(3), 0b111);
        assert_eq!(mask(64), u64::MAX);
        assert_eq!(indexes(mask(3)).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(indexes(0).count(), 0);
    }

    /// Chunk names end in `.0` through `.63`, written as this crate writes
    /// them; every other suffix is another cookie's name.
    #[test]
    fn chunk_indexes_are_0_to_63_in_canonical_decimal() {
        for (suffix, index) in [(".0", 0), (".1", 1), (".9", 9), (".10", 10), (".63", 63)] {
            assert_eq!(chunk_index(suffix), Some(index), "{suffix}");
        }
        for suffix in [
            ".64",
            ".99",
            ".100",
            ".18446744073709551615",
            ".99999999999999999999999",
            ".00",
            ".01",
            ".063",
            ".+1",
            ".-1",
            ". 1",
            ".1 ",
            ".",
            "",
            "0",
            ".x",
            ".1x",
        ] {
            assert_eq!(chunk_index(suffix), None, "{suffix:?}");
        }
    }

    /// The most chunks a setting can use, at the exact budget boundaries:
    /// the smallest layout of `k >= 3` chunks is `k - 1` full cookies and
    /// one character in chunk `k - 1`.
    #[test]
    fn most_chunks_at_exact_budget_boundaries() {
        let max = 100;
        let at = |max_chunks: usize, budget: usize| {
            Chunking { max_chunks, budget }.most_chunks(NAME.len(), max)
        };
        // Three chunks: 200 + len("session.2") + 1 = 210 bytes.
        assert_eq!(at(8, 210), 3);
        assert_eq!(at(8, 209), 2);
        // Eleven chunks: the name of chunk 10 is one byte longer,
        // 1000 + len("session.10") + 1 = 1011 bytes.
        assert_eq!(at(32, 1011), 11);
        assert_eq!(at(32, 1010), 10);
        // Two chunks: the shortest chunked value is one character too long
        // for the plain cookie (94), cut 91 + 3: 100 + 9 + 3 = 112 bytes.
        assert_eq!(at(8, 112), 2);
        // Below the smallest two-chunk layout counted as one full cookie
        // and one character (110), one cookie.
        assert_eq!(at(8, 109), 1);
        assert_eq!(at(2, 109), 1);
        // `max_chunks` bounds it, whatever the budget; so does the limit of
        // `max_chunks` full cookies (three of them hold the smallest
        // three-chunk layout).
        assert_eq!(at(5, usize::MAX), 5);
        assert_eq!(at(MAX_CHUNKS, usize::MAX), MAX_CHUNKS);
        assert_eq!(at(3, 300), 3);
        // Without chunking, one cookie.
        assert_eq!(at(1, usize::MAX), 1);
        assert_eq!(Chunking::ONE.most_chunks(NAME.len(), max), 1);
    }

    /// `most_chunks` is exactly the most chunks `layout` gives any value
    /// length under the same setting whenever some value is chunked: never
    /// fewer (a concurrent response could have written that many), never
    /// more (each index above is one more removal cookie on every chunked
    /// write).
    #[test]
    fn most_chunks_is_the_most_any_value_gets() {
        for max in [100usize, 150] {
            for max_chunks in 1..=12usize {
                let mut budgets: Vec<usize> = vec![max, max_chunks * max, usize::MAX];
                // Around the smallest layout of every count.
                for count in 2..=max_chunks {
                    let smallest = (count - 1) * max + chunk_name(NAME, count - 1).len() + 1;
                    budgets.extend([smallest - 1, smallest, smallest + 1]);
                }
                for budget in budgets {
                    let chunking = Chunking { max_chunks, budget };
                    let most = (1..=max_chunks * max)
                        .filter_map(
                            |value_len| match chunking.layout(NAME.len(), value_len, max) {
                                Ok(Layout::One) => Some(1),
                                Ok(Layout::Chunks(count)) => Some(count),
                                Err(_) => None,
                            },
                        )
                        .max()
                        .expect("a short value fits");
                    let context = format!("max {max}, max_chunks {max_chunks}, budget {budget}");
                    let counted = chunking.most_chunks(NAME.len(), max);
                    if most >= 2 {
                        assert_eq!(counted, most, "{context}");
                    } else {
                        // No value is chunked, so no chunked write ever
                        // uses the count. Just above 110 bytes (one full
                        // cookie and one character, though a value that
                        // short fits the plain cookie) it counts 2.
                        let two = max + chunk_name(NAME, 1).len() + 1;
                        let limit = budget.min(max_chunks * max);
                        let expected = if max_chunks >= 2 && limit >= two {
                            2
                        } else {
                            1
                        };
                        assert_eq!(counted, expected, "{context}");
                    }
                }
            }
        }
    }
}
