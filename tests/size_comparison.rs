//! The README's cookie-size comparison, computed: the same session sealed by
//! this crate and by the `cookie` crate's private jar (AES-256-GCM over the
//! session as `serde_json` text, which is what `actix-session`'s cookie store
//! and `axum-extra`'s `PrivateCookieJar` users get).
//!
//! Sizes do not depend on the random nonce or key, only on lengths, so the
//! numbers are exact and the README quotes them. If this test fails after a
//! change, update the README table with the new numbers.

use cookie::{Cookie, CookieJar, Key};
use sealed_session::limits::DEFAULT_COOKIE_NAME;
use sealed_session::{Codec, Keyring};

#[path = "support/common.rs"]
mod common;
#[path = "support/sample.rs"]
mod sample;
use sample::{Session, session};

/// Name plus value bytes of the cookie the `cookie` crate's private jar sets,
/// under the same cookie name as this crate's default.
fn private_jar_size(session: &Session) -> usize {
    let json = serde_json::to_string(session).unwrap();
    let key = Key::generate();
    let mut jar = CookieJar::new();
    jar.private_mut(&key)
        .add(Cookie::new(DEFAULT_COOKIE_NAME, json));
    let cookie = jar.get(DEFAULT_COOKIE_NAME).unwrap();
    // It must really be the sealed value, and open again.
    let opened = jar.private(&key).get(DEFAULT_COOKIE_NAME).unwrap();
    assert_eq!(
        serde_json::from_str::<Session>(opened.value()).unwrap(),
        *session
    );
    cookie.name().len() + cookie.value().len()
}

/// Name plus value bytes of this crate's cookie, for a new session sealed at
/// `t0` (2027-01-15; any date from 1978 to 3058 gives the same sizes) with
/// the default settings (cookie `__Host-session`, a 12-hour lifetime and an
/// idle timeout: the envelope's times take 5 + 3 + 1 bytes, 3 more once
/// re-sealed later in the session).
fn sealed_size(session: &Session) -> usize {
    let codec = Codec::builder(Keyring::new(["the size comparison's secret, 32+ bytes"]).unwrap())
        .clock(common::clock())
        .build()
        .unwrap();
    let value = codec.seal(session).unwrap();
    let opened = codec.open::<Session>(&value).unwrap();
    assert_eq!(opened.value(), session);
    assert_eq!(opened.envelope().created_at(), common::t0());
    codec.cookie_name().len() + value.len()
}

#[test]
fn typical_session_is_much_smaller_than_the_private_jar() {
    let s = session(5);
    let (ours, theirs) = (sealed_size(&s), private_jar_size(&s));
    assert_eq!((ours, theirs), (277, 494), "update the README table");
    assert!(ours * 100 <= theirs * 60, "at least 40% smaller");
}

#[test]
fn large_session_is_much_smaller_than_the_private_jar() {
    let s = session(60);
    let (ours, theirs) = (sealed_size(&s), private_jar_size(&s));
    assert_eq!((ours, theirs), (1084, 2614), "update the README table");
    assert!(ours * 100 <= theirs * 55, "at least 45% smaller");
}
