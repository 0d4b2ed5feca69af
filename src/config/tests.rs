//! The hand-written `Set-Cookie` date and `Cookie` pair parsing, checked
//! against the `cookie` crate (a dev-dependency) that they replace.

use proptest::prelude::*;

use super::*;

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
    assert_eq!(date(crate::MAX_TIME), "Fri, 31 Dec 9999 23:59:59 GMT");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Every instant up to the format's last one is written as the
    /// `cookie` crate writes it.
    #[test]
    fn http_dates_match_the_cookie_crate(secs in 0u64..=crate::MAX_TIME) {
        prop_assert_eq!(date(secs), cookie_crate_date(secs));
    }

    /// Cookie pairs are split as the `cookie` crate parses them: at the
    /// first `=`, whitespace trimmed, an empty name or no `=` skipped.
    #[test]
    fn cookie_pairs_split_as_the_cookie_crate_parses_them(
        pair in "[ \t\u{a0}\u{2003}]{0,2}[a-z_.=\" \t\u{e9}]{0,8}[ \t\u{a0}]{0,2}",
        prefix in "|s|se|s.",
    ) {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_bytes(pair.as_bytes()).unwrap());
        let ours: Vec<(&str, &str)> = cookies_starting_with(&headers, &prefix).collect();
        let theirs = cookie::Cookie::parse(pair.as_str())
            .ok()
            .map(|c| (c.name_raw().unwrap().to_owned(), c.value_raw().unwrap().to_owned()))
            .filter(|(name, _)| name.starts_with(&prefix));
        let ours = ours.first().map(|(n, v)| ((*n).to_owned(), (*v).to_owned()));
        prop_assert_eq!(ours, theirs);
    }
}

#[test]
fn set_cookie_headers_are_the_cookie_crates() {
    let codec =
        Codec::builder(crate::Keyring::new(["http unit test secret, 32+ bytes long"]).unwrap())
            .cookie_name("sid")
            .build()
            .unwrap();
    for config in [
        SessionConfig::new(codec.clone()),
        SessionConfig::builder(codec.clone())
            .same_site(SameSite::Strict)
            .http_only(false)
            .path("/app")
            .domain("example.com")
            .build()
            .unwrap(),
        // The cookie crate drops a leading dot, as RFC 6265 asks.
        SessionConfig::builder(codec.clone())
            .domain(".example.com")
            .build()
            .unwrap(),
        SessionConfig::builder(codec.clone())
            .same_site(SameSite::None)
            .partitioned(true)
            .build()
            .unwrap(),
        SessionConfig::builder(codec)
            .dangerous_allow_plain_http()
            .build()
            .unwrap(),
    ] {
        let a = &*config.inner;
        let now = UNIX_EPOCH + Duration::from_millis(1_796_348_321_500);
        let header = config
            .set_cookie("sid", "VALUE", now + Duration::from_secs(1800), now)
            .unwrap();
        let mut cookie = cookie::Cookie::build(("sid", "VALUE"))
            .path(a.path.as_str())
            .secure(a.secure)
            .http_only(a.http_only)
            .same_site(match a.same_site {
                SameSite::Strict => cookie::SameSite::Strict,
                SameSite::Lax => cookie::SameSite::Lax,
                SameSite::None => cookie::SameSite::None,
            })
            .max_age(cookie::time::Duration::seconds(1800))
            .expires(cookie::time::OffsetDateTime::from_unix_timestamp(1_796_350_121).unwrap());
        if a.partitioned {
            cookie = cookie.partitioned(true);
        }
        if let Some(domain) = &a.domain {
            cookie = cookie.domain(domain.as_str());
        }
        assert_eq!(header.to_str().unwrap(), cookie.to_string());
        assert!(header.is_sensitive());
        let removal = config.removal("sid").unwrap();
        assert!(
            removal
                .to_str()
                .unwrap()
                .ends_with("; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            "{removal:?}"
        );
    }
}

/// A clock past the format's last second (a test clock, a broken host)
/// still writes a four-digit `Expires`: the format's last instant.
#[test]
fn expires_never_passes_the_formats_last_second() {
    let codec =
        Codec::builder(crate::Keyring::new(["http unit test secret, 32+ bytes long"]).unwrap())
            .cookie_name("sid")
            .build()
            .unwrap();
    let config = SessionConfig::new(codec);
    let now = UNIX_EPOCH + Duration::from_secs(crate::MAX_TIME + 86_400);
    let header = config
        .set_cookie("sid", "VALUE", now + Duration::from_secs(1800), now)
        .unwrap();
    assert!(
        header
            .to_str()
            .unwrap()
            .ends_with("; Max-Age=1800; Expires=Fri, 31 Dec 9999 23:59:59 GMT"),
        "{header:?}"
    );
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
