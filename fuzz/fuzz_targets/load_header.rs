//! Fuzz target `load_header`: arbitrary `Cookie` request headers through
//! the http helper.
//!
//! The first input byte chooses the options:
//!
//! * bit 0: load with a binding;
//! * bit 1: put a genuine session cookie in a header before the hostile ones;
//! * bits 2-3: the form of each hostile header, made from one piece of the
//!   rest of the input split at `\n`: the piece as it is; `<name>=` and the
//!   piece (so that the session's name is in play without the fuzzer having
//!   to find it); `<name>=` and the piece in base64url (the token behind a
//!   valid encoding); or `<name>=` and the base64url of a valid token header
//!   (version 1, the key id and algorithm chosen by bits 4 and 5) followed
//!   by the piece (so that it reaches the AEAD check);
//! * bit 6: in those forms, the `n`-th piece uses the chunk name `<name>.k`
//!   with `k = n mod 6` instead: indexes 4 and 5 are at or above the
//!   `max_chunks` of 4, so they are other cookies, ignored (not malformed)
//!   and never removed.
//!
//! Each header is added as one `Cookie` header if `HeaderValue::from_bytes`
//! accepts it. Every header map is loaded by three configurations (cookie
//! names `session` and `__Host-sid`, and `session` with `max_chunks(4)`) at
//! the fixed time of their codecs' clocks, and the handle is exercised:
//! reads, `rejection`, `needs_write`, `write`, then a new value (a large one, in chunks,
//! for the chunked configuration), written and loaded back. For the chunked
//! configuration the same headers are loaded again with chunk names at and
//! above `max_chunks` added.
//!
//! Properties: nothing panics; without the genuine cookie the session is
//! empty and `was_loaded()` is false (no forgery opens), any rejection is one
//! that comes before authentication, and the response sets nothing or only
//! removes session cookies (exactly one removal of the plain name without
//! chunking), and removes only when a cookie was rejected; with the genuine
//! cookie first, its value is loaded whatever follows, and the response at
//! most removes leftover chunk cookies; every `Set-Cookie` is well-formed
//! and names the session cookie or one of its chunks below `max_chunks`
//! (the reference's `chunk_index`), none twice, at most `max_chunks + 1`
//! removals per response, each of a name the request carried; chunk names
//! at or above `max_chunks` added to a request change neither what loads,
//! nor the rejection, nor the removals; a value inserted afterwards is
//! sealed and opens on the next request.

#![no_main]
#![forbid(unsafe_code)]

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use sealed_session::{Binding, SessionConfig, Written};
use sealed_session_fuzz::{
    SetCookies, Value, fixture, is_pre_authentication, open_options, outcome, reference,
    request_mentions,
};

fuzz_target!(|data: &[u8]| {
    let Some((&options, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let binding = (options & 1 == 1).then_some(f.binding);
    let genuine_first = options & 2 == 2;
    let form = (options >> 2) & 3;
    let token_header = reference::header(
        1 + ((options >> 5) & 1),
        f.key_ids[0][usize::from((options >> 4) & 1)],
    );
    let chunk_names = options & 64 == 64;

    for config in [&f.primary_config, &f.secondary_config, &f.chunked_config] {
        let name = config.codec().cookie_name();
        let hostile = rest
            .split(|&b| b == b'\n')
            .enumerate()
            .filter_map(|(n, piece)| {
                let name = if chunk_names {
                    format!("{name}.{}", n % 6)
                } else {
                    name.to_owned()
                };
                let bytes = match form {
                    0 => piece.to_vec(),
                    1 => [name.as_bytes(), b"=", piece].concat(),
                    2 => format!("{name}={}", reference::encode(piece)).into_bytes(),
                    _ => {
                        let token = [&token_header, piece].concat();
                        format!("{name}={}", reference::encode(&token)).into_bytes()
                    }
                };
                HeaderValue::from_bytes(&bytes).ok()
            });
        let mut headers = HeaderMap::new();
        let genuine = genuine_first.then(|| genuine_cookie(config, binding));
        if let Some(cookie) = &genuine {
            headers.append(COOKIE, HeaderValue::from_str(cookie).expect("ASCII pair"));
        }
        for value in hostile {
            headers.append(COOKIE, value);
        }
        if genuine.is_some() {
            check_genuine_wins(config, &headers, binding);
        } else {
            check_hostile(config, &headers, binding);
        }
        if is_chunked(config) {
            check_ignored_indexes(config, &headers, binding);
        }
    }
});

/// Chunk names with an index at or above `max_chunks` are other cookies:
/// adding some to the request changes nothing, neither what loads, nor the
/// rejection, nor what the response removes.
fn check_ignored_indexes(config: &SessionConfig, headers: &HeaderMap, binding: Option<Binding>) {
    let name = config.codec().cookie_name();
    let max = config.max_chunks();
    let mut with_ignored = headers.clone();
    let extra = format!(
        "{name}.{max}=AAAA; {name}.{}=; {name}.63=x; {name}.64=y",
        max + 1
    );
    with_ignored.append(COOKIE, HeaderValue::from_str(&extra).expect("ASCII"));
    let plain = config.load_with::<Value>(headers, &open_options(binding));
    let more = config.load_with::<Value>(&with_ignored, &open_options(binding));
    assert_eq!(plain.rejection(), more.rejection());
    assert_eq!(plain.was_loaded(), more.was_loaded());
    assert_eq!(plain.get(), more.get());
    let (mut plain_response, mut more_response) = (HeaderMap::new(), HeaderMap::new());
    assert_eq!(
        plain.write(&mut plain_response),
        more.write(&mut more_response)
    );
    let plain_cookies = SetCookies::read(&plain_response, name, max);
    let more_cookies = SetCookies::read(&more_response, name, max);
    assert_eq!(plain_cookies.removed, more_cookies.removed);
    assert_eq!(plain_cookies.set.len(), more_cookies.set.len());
}

fn is_chunked(config: &SessionConfig) -> bool {
    config.max_chunks() > 1
}

/// A fresh genuine cookie (`name=value`) for `config`, with a binding if
/// given, sealed through the handle at the fixed time.
fn genuine_cookie(config: &SessionConfig, binding: Option<Binding>) -> String {
    let session = config.load_with::<Value>(&HeaderMap::new(), &open_options(binding));
    session.insert(Value::alice());
    let mut response = HeaderMap::new();
    assert_eq!(session.write(&mut response), Ok(Written::Set));
    let cookies = SetCookies::read(&response, config.codec().cookie_name(), config.max_chunks());
    assert!(cookies.removed.is_empty() && cookies.set.len() == 1);
    cookies.cookie_header()
}

/// A genuine cookie in the first header is used, whatever follows.
fn check_genuine_wins(config: &SessionConfig, headers: &HeaderMap, binding: Option<Binding>) {
    let name = config.codec().cookie_name();
    let session = config.load_with::<Value>(headers, &open_options(binding));
    assert!(session.was_loaded(), "a genuine cookie was not loaded");
    assert_eq!(session.rejection(), None);
    assert_eq!(session.get(), Some(Value::alice()));
    outcome("genuine");
    let mut response = HeaderMap::new();
    let written = session.write(&mut response);
    let cookies = SetCookies::read(&response, name, config.max_chunks());
    if is_chunked(config) && written == Ok(Written::LeftoversRemoved) {
        // Chunk cookies next to the valid plain one are leftovers: they are
        // removed, and the session cookie is left as it is.
        assert!(cookies.set.is_empty(), "set: {:?}", cookies.set);
        assert!(!cookies.removed.is_empty());
        assert!(
            cookies
                .removed
                .iter()
                .all(|n| n.starts_with(&format!("{name}.")) && request_mentions(headers, n)),
            "removed: {:?}",
            cookies.removed
        );
    } else {
        // Just sealed: nothing to renew, so nothing to write.
        assert_eq!(written, Ok(Written::Nothing));
        assert!(response.is_empty());
    }
}

/// Hostile headers alone: an empty session, and at most removals.
fn check_hostile(config: &SessionConfig, headers: &HeaderMap, binding: Option<Binding>) {
    let name = config.codec().cookie_name();
    let chunked = is_chunked(config);
    let session = config.load_with::<Value>(headers, &open_options(binding));
    assert!(
        !session.was_loaded(),
        "FORGERY: a hostile Cookie header loaded a session"
    );
    assert!(session.is_empty());
    assert_eq!(session.get(), None);
    assert!(session.with(|value| value.is_none()));
    assert_eq!(session.envelope(), None);
    assert_eq!(session.id(), None);
    let rejection = session.rejection();
    outcome(rejection.as_ref().map_or("no-cookie", |e| e.code()));
    if let Some(error) = &rejection {
        assert!(
            is_pre_authentication(error),
            "FORGERY: a hostile cookie got past authentication: {error:?}"
        );
    }
    // Debug output of the handle never panics.
    assert!(!format!("{session:?}").is_empty());

    let needs_write = session.needs_write();
    // With no cookie of the session's name, there is nothing to remove.
    assert!(rejection.is_some() || !needs_write);
    let mut response = HeaderMap::new();
    let written = session.write(&mut response);
    let cookies = SetCookies::read(&response, name, config.max_chunks());
    assert!(cookies.set.is_empty(), "a hostile request got a cookie set");
    // Only cookies the request carried are removed: the plain name, and
    // chunk names below max_chunks (SetCookies::read checks the index).
    for removed in &cookies.removed {
        assert!(
            request_mentions(headers, removed),
            "removed {removed:?}, which the request did not carry"
        );
    }
    if needs_write {
        assert_eq!(written, Ok(Written::Removed));
        assert_eq!(cookies.removed.first().map(String::as_str), Some(name));
        if !chunked {
            assert_eq!(cookies.removed.len(), 1);
        }
    } else {
        assert_eq!(written, Ok(Written::Nothing));
        assert!(response.is_empty(), "Set-Cookie without a need to write");
    }
    // The reason outlives the write; the session stays empty.
    assert_eq!(session.rejection(), rejection);
    assert!(!session.needs_write());

    // The handle still works: a value inserted now is sealed and opens on
    // the next request (with the same binding). For the chunked
    // configuration it is too large for one cookie.
    let value = if chunked {
        Value {
            name: "x".repeat(5000),
            ..Value::bob()
        }
    } else {
        Value::bob()
    };
    session.insert(value.clone());
    let mut response = HeaderMap::new();
    assert_eq!(session.write(&mut response), Ok(Written::Set));
    let cookies = SetCookies::read(&response, name, config.max_chunks());
    // A chunked write always removes the plain name (a concurrent response
    // may have set it), and no higher index of its own accord: with
    // 4096-byte cookies the default budget holds two chunks at most. After
    // a removal the browser holds nothing else; without one (duplicates
    // left untried), the chunk names the request carried (below max_chunks:
    // higher indexes are other cookies) are removed too, except the two just
    // set.
    if chunked {
        assert_eq!(cookies.removed.first().map(String::as_str), Some(name));
        if needs_write {
            assert_eq!(cookies.removed.len(), 1, "removed: {:?}", cookies.removed);
        }
        let written = [format!("{name}.0"), format!("{name}.1")];
        for (i, removed) in cookies.removed.iter().enumerate().skip(1) {
            assert!(
                removed.starts_with(&format!("{name}."))
                    && !written.contains(removed)
                    && request_mentions(headers, removed),
                "removed: {:?}",
                cookies.removed
            );
            assert!(
                !cookies.removed[..i].contains(removed),
                "removed twice: {removed}"
            );
        }
    } else {
        assert!(cookies.removed.is_empty(), "removed: {:?}", cookies.removed);
    }
    assert_eq!(cookies.set.len(), if chunked { 2 } else { 1 });
    let mut next = HeaderMap::new();
    next.append(
        COOKIE,
        HeaderValue::from_str(&cookies.cookie_header()).expect("ASCII cookies"),
    );
    let reloaded = config.load_with::<Value>(&next, &open_options(binding));
    assert!(reloaded.was_loaded(), "{:?}", reloaded.rejection());
    assert_eq!(reloaded.get(), Some(value));
    assert_eq!(reloaded.id(), session.id());
}
