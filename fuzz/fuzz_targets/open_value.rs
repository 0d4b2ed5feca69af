//! Fuzz target `open_value`: arbitrary bytes as a cookie value.
//!
//! The input is tried three ways: as the cookie value text itself (lossily
//! converted if it is not UTF-8, and also cut at its first invalid byte);
//! base64url-encoded, so that the fuzzer also explores the binary token
//! (version, algorithm, key id, length) behind a valid encoding; and, after
//! a valid header (version 1, the algorithm and the key id of one of the
//! keyring's secrets chosen by the first byte), as nonce, ciphertext and tag,
//! so that every input also reaches the AEAD check. Each text is
//! opened with every public opening call (`open_at` as a struct and as a
//! `u32`, `open_bytes_at`, `open_bound_at`) by two codecs over a keyring of two
//! secrets, one sealing with each algorithm.
//!
//! Properties: nothing panics; nothing opens (nobody sealed these values);
//! every rejection is exactly the one the spec prescribes for its input
//! (too large, encoding, truncated, version, algorithm, unknown key, or
//! otherwise an authentication failure), whichever call and binding is used.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use sealed_session::{Codec, Error};
use sealed_session_fuzz::{
    Fixture, Value, base64url_encode, expected_rejection, fixture, now, outcome,
};

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let lossy = String::from_utf8_lossy(data);
    let valid_prefix = match core::str::from_utf8(data) {
        Ok(_) => None,
        Err(e) => core::str::from_utf8(&data[..e.valid_up_to()]).ok(),
    };
    let encoded = base64url_encode(data);
    let with_header = data.split_first().map(|(&choice, rest)| {
        let [k0, k1, k2, k3] = f.reference_keys[usize::from(choice & 1)].id;
        let algorithm = if choice & 2 == 0 { 0x01 } else { 0x02 };
        let mut token = vec![0x01, algorithm, k0, k1, k2, k3];
        token.extend_from_slice(rest);
        base64url_encode(&token)
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
        for codec in [&f.primary, &f.secondary] {
            check_every_open(f, codec, text);
        }
    }
});

/// Opens `text` every way there is and checks each rejection.
fn check_every_open(f: &Fixture, codec: &Codec, text: &str) {
    let expected = expected_rejection(f, codec.cookie_name(), text);
    outcome(expected.kind());
    let outcomes: [(&str, Result<(), Error>); 5] = [
        (
            "open_at::<Value>",
            codec.open_at::<Value>(text, now()).map(drop),
        ),
        (
            "open_at::<u32>",
            codec.open_at::<u32>(text, now()).map(drop),
        ),
        ("open_bytes_at", codec.open_bytes_at(text, now()).map(drop)),
        (
            "open_bound_at::<Value>",
            codec
                .open_bound_at::<Value>(text, &f.binding, now())
                .map(drop),
        ),
        (
            "open_bound_at::<()>",
            codec.open_bound_at::<()>(text, &f.binding, now()).map(drop),
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
                    expected.matches(&error),
                    "{call} under {:?}: expected {expected:?}, got {error:?} for {text:?}",
                    codec.cookie_name()
                );
                // Formatting an error does not panic.
                assert!(!error.to_string().is_empty() && !error.code().is_empty());
            }
        }
    }
}
