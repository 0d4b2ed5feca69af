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
