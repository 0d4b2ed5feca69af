//! The hand-written HTTP dates and decimals, checked against the `cookie`
//! crate (a dev-dependency) that they replace.

use proptest::prelude::*;

use super::*;
use crate::envelope::MAX_TIME;
fn date(secs: u64) -> String {
    let mut out = String::new();
    push_http_date(&mut out, secs);
    out
}

/// What the `cookie` crate (and `time`) write for these Unix seconds.
fn cookie_crate_date(secs: u64) -> String {
    let time =
        cookie::time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap()).unwrap();
    let cookie = cookie::Cookie::build(("n", "v")).expires(time).build();
    let text = cookie.to_string();
    text.strip_prefix("n=v; Expires=").unwrap().to_owned()
}

#[test]
fn http_dates_at_known_instants() {
    assert_eq!(date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    assert_eq!(date(1_796_348_321), "Fri, 04 Dec 2026 01:38:41 GMT");
    assert_eq!(date(4_107_542_399), "Sun, 28 Feb 2100 23:59:59 GMT");
    assert_eq!(date(4_107_542_400), "Mon, 01 Mar 2100 00:00:00 GMT");
    assert_eq!(date(MAX_TIME), "Fri, 31 Dec 9999 23:59:59 GMT");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Every instant up to the format's last one is written as the
    /// `cookie` crate writes it.
    #[test]
    fn http_dates_match_the_cookie_crate(secs in 0u64..=MAX_TIME) {
        prop_assert_eq!(date(secs), cookie_crate_date(secs));
    }
}

#[test]
fn decimals_are_padded_to_their_width() {
    let decimal = |n, width| {
        let mut out = String::new();
        push_decimal(&mut out, n, width);
        out
    };
    assert_eq!(decimal(0, 1), "0");
    assert_eq!(decimal(0, 2), "00");
    assert_eq!(decimal(7, 2), "07");
    assert_eq!(decimal(1800, 1), "1800");
    assert_eq!(decimal(1970, 4), "1970");
    assert_eq!(decimal(u64::MAX, 1), u64::MAX.to_string());
    for n in [1, 9, 10, 99, 100, 12_345_678] {
        assert_eq!(decimal(n, 1), n.to_string());
    }
}
