//! Fuzz target `open_value`: arbitrary bytes as a cookie value.
//!
//! The input is tried three ways: as the cookie value text itself (lossily
//! converted if it is not UTF-8, and also cut at its first invalid byte);
//! base64url-encoded, so that the fuzzer also explores the binary token
//! (version, algorithm, key id, length) behind a valid encoding; and, after
//! a valid header (version 1, either algorithm, and the key id of one of the
//! keyring's secrets under the empty or the `fuzz-app` app label, chosen by
//! the first byte), as nonce, ciphertext and tag, so that every input also
//! reaches the AEAD check. Each text is opened with every public opening
//! call (`open` as a struct and as a `u32`, `open_with` without options,
//! `open_bytes`, `open_with` a binding as a struct and as `()`) by four
//! codecs over a keyring of two secrets, their clocks at the fixed time:
//! one sealing with each algorithm and opening both, one opening
//! XChaCha20-Poly1305 only, and one under the app label `fuzz-app`.
//!
//! Properties: nothing panics; nothing opens (nobody sealed these values);
//! every rejection is exactly the one the reference implementation
//! (`tests/support/reference.rs`, `Opener::open` with the codec's
//! settings) gives for its input, with the same data (too large, encoding,
//! truncated, version, algorithm, disabled algorithm, unknown key, or
//! otherwise an authentication failure), whichever call and binding is used.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use sealed_session::{Error, OpenOptions};
use sealed_session_fuzz::{
    Fixture, Mirrored, Rejection, Value, expected_open, fixture, outcome, reference,
};

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let lossy = String::from_utf8_lossy(data);
    let valid_prefix = match core::str::from_utf8(data) {
        Ok(_) => None,
        Err(e) => core::str::from_utf8(&data[..e.valid_up_to()]).ok(),
    };
    let encoded = reference::encode(data);
    let with_header = data.split_first().map(|(&choice, rest)| {
        let key_id = f.key_ids[usize::from((choice >> 2) & 1)][usize::from(choice & 1)];
        let algorithm = if choice & 2 == 0 {
            reference::XAES_256_GCM
        } else {
            reference::XCHACHA20_POLY1305
        };
        let mut token = reference::header(algorithm, key_id).to_vec();
        token.extend_from_slice(rest);
        reference::encode(&token)
    });
    for text in [
        Some(&*lossy),
        valid_prefix,
        Some(encoded.as_str()),
        with_header.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        for codec in [&f.primary, &f.secondary, &f.xchacha_only, &f.other_app] {
            check_every_open(f, codec, text);
        }
    }
});

/// The reference's rejection of a value nobody sealed.
fn expected_rejection(codec: &Mirrored, bound: bool, text: &str) -> Rejection {
    match expected_open(&codec.opener(bound), text) {
        Ok(_) => panic!("the reference opened a value nobody sealed: {text:?}"),
        Err(rejection) => rejection,
    }
}

/// Opens `text` every way there is and checks each rejection.
fn check_every_open(f: &Fixture, m: &Mirrored, text: &str) {
    let codec = &m.codec;
    let unbound = expected_rejection(m, false, text);
    let bound = expected_rejection(m, true, text);
    outcome(unbound.kind());
    // Nobody sealed it, so the binding cannot change the rejection.
    assert_eq!(unbound, bound, "the binding changed the rejection");
    let bound_options = OpenOptions::new().binding(f.binding);
    let outcomes: [(&str, Result<(), Error>); 6] = [
        ("open::<Value>", codec.open::<Value>(text).map(drop)),
        ("open::<u32>", codec.open::<u32>(text).map(drop)),
        (
            "open_with::<Value>, no options",
            codec
                .open_with::<Value>(text, &OpenOptions::new())
                .map(drop),
        ),
        (
            "open_bytes",
            codec.open_bytes(text, &OpenOptions::new()).map(drop),
        ),
        (
            "open_with::<Value>, bound",
            codec.open_with::<Value>(text, &bound_options).map(drop),
        ),
        (
            "open_with::<()>, bound",
            codec.open_with::<()>(text, &bound_options).map(drop),
        ),
    ];
    for (call, outcome) in outcomes {
        match outcome {
            Ok(()) => panic!(
                "FORGERY: {call} opened a value nobody sealed under {:?}: {text:?}",
                codec.cookie_name()
            ),
            Err(error) => {
                assert!(
                    unbound.matches(&error),
                    "{call} under {:?}: expected {unbound:?}, got {error:?} for {text:?}",
                    m.settings
                );
                // Formatting an error does not panic.
                assert!(!error.to_string().is_empty() && !error.code().is_empty());
            }
        }
    }
}
