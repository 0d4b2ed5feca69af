//! The `Set-Cookie` values, checked against the `cookie` crate (a
//! dev-dependency) that they replace.

use super::*;
use crate::envelope::MAX_TIME;

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
    let now = UNIX_EPOCH + Duration::from_secs(MAX_TIME + 86_400);
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
