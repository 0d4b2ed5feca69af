//! The published test vectors of wire format v1, `tests/vectors/v1.json`,
//! checked with the reference implementation alone
//! (`tests/support/reference.rs`; this test does not use the crate, so it
//! builds whatever state the crate is in):
//!
//! * the committed file is byte for byte what the deterministic generator
//!   (`tests/support/vectors.rs`) writes;
//! * the reference reproduces every valid and chunked value from its fields
//!   and opens it back to the same session, and rejects every invalid value
//!   and chunk set with its error code;
//! * the vectors cover what they must (every error code, every way to be
//!   malformed, every setting);
//! * unit tests of the reference for the rules that are easy to get wrong.
//!
//! After changing the generator (or the format), rewrite the file with
//!
//! ```text
//! SEALED_SESSION_WRITE_VECTORS=1 cargo test --test vectors_reference
//! ```
//!
//! which writes `tests/vectors/v1.json` and then checks it as usual; run the
//! tests once more without the variable (the copy compiled in with
//! `include_str!` is the one from before the write), and review the diff.

#[path = "support/reference.rs"]
mod reference;
#[path = "support/vectors.rs"]
mod vectors;

use std::collections::{BTreeMap, BTreeSet};

use hkdf::Hkdf;
use reference::{MAX_TIME, Opener, Session, XAES_256_GCM, XCHACHA20_POLY1305};
use sha2::{Digest as _, Sha256};
use vectors::{Chunked, Valid, Vectors};

fn context_bytes(context: Option<&String>) -> Option<Vec<u8>> {
    vectors::context_bytes(context)
}

// ---------------------------------------------------------------------------
// The file is what the generator writes
// ---------------------------------------------------------------------------

#[test]
fn the_committed_file_is_what_the_generator_writes() {
    let generated = vectors::generate();
    let text = vectors::to_json(&generated);
    let writing = std::env::var_os("SEALED_SESSION_WRITE_VECTORS").is_some_and(|v| v == "1");
    if writing {
        std::fs::write(vectors::PATH, &text).expect("writes the vectors");
    }
    let committed = std::fs::read_to_string(vectors::PATH).expect("reads the vectors");
    let parsed: Vectors = serde_json::from_str(&committed).expect("the file parses");
    assert_eq!(
        parsed, generated,
        "v1.json is not what generate() computes; rewrite it with SEALED_SESSION_WRITE_VECTORS=1"
    );
    // Byte for byte (formatting, field order, trailing newline); not with
    // assert_eq, whose output would be two copies of the file.
    assert!(
        committed == text,
        "v1.json holds the vectors, but not as to_json writes them"
    );
    if !writing {
        assert_eq!(vectors::load(), generated, "the compiled-in copy differs");
    }
}

#[test]
fn the_generator_is_deterministic() {
    assert_eq!(
        vectors::to_json(&vectors::generate()),
        vectors::to_json(&vectors::generate())
    );
}

// ---------------------------------------------------------------------------
// The reference against the vectors
// ---------------------------------------------------------------------------

#[test]
fn reference_reproduces_and_opens_every_valid_vector() {
    for v in vectors::load().valid {
        let d = &v.description;
        let (session, index) = v.expected();
        let opener = v.opener();
        let keys = reference::derive(&v.secrets[index], &opener.app_label);
        assert_eq!(
            reference::seal(&keys, &v.cookie_name, opener.context.as_deref(), &session),
            v.value,
            "{d}"
        );
        // The length is known before encrypting: name aside,
        // ceil(4 * (46 + plaintext) / 3).
        let token_len = reference::MIN_TOKEN_LEN
            + reference::plaintext(
                session.created_at,
                session.absolute_deadline - session.created_at,
                session.renewed_at - session.created_at,
                &session.schema_id,
                &session.session_id,
                &session.payload,
            )
            .len();
        assert_eq!(v.value.len(), (4 * token_len).div_ceil(3), "{d}");
        assert_eq!(opener.open(&v.value), Ok((session, index)), "{d}");
    }
}

#[test]
fn reference_rejects_every_invalid_vector_with_its_code() {
    for v in vectors::load().invalid {
        let result = reference::expect_unit(v.opener().open(&v.value));
        assert_eq!(
            result.map(|_| ()),
            Err(v.error.as_str()),
            "{}",
            v.description
        );
    }
}

/// The reference seals every chunked vector's value from its fields, cuts
/// it into exactly the listed chunks, and reads them back, in any order,
/// with exactly the chunk count and budget they need, to the session.
#[test]
fn reference_reproduces_and_opens_every_chunked_vector() {
    for c in vectors::load().chunked {
        let d = &c.description;
        let v = c.as_valid();
        let (session, index) = v.expected();
        let opener = v.opener();
        let keys = reference::derive(&c.secrets[index], &opener.app_label);
        let value = reference::seal(&keys, &c.cookie_name, opener.context.as_deref(), &session);
        assert_eq!(value, c.value, "{d}");
        assert!(
            c.cookie_name.len() + c.value.len() > c.max_cookie_size,
            "{d}: the value would fit in one cookie"
        );
        assert_eq!(
            reference::split(&c.cookie_name, &c.value, c.max_cookie_size),
            c.pairs(),
            "{d}"
        );
        for (k, chunk) in c.chunks.iter().enumerate() {
            assert_eq!(chunk.name, format!("{}.{k}", c.cookie_name), "{d}");
            assert!(
                chunk.name.len() + chunk.value.len() <= c.max_cookie_size,
                "{d}"
            );
            assert!(!chunk.value.is_empty(), "{d}: an empty chunk");
        }
        let joined: String = c.chunks.iter().map(|chunk| chunk.value.as_str()).collect();
        assert_eq!(joined, c.value, "{d}");

        let n = c.chunks.len();
        let total = c.total();
        let mut reversed = c.pairs();
        reversed.reverse();
        for cookies in [c.pairs(), reversed] {
            let joined = reference::join(&c.cookie_name, &cookies, c.max_cookie_size, n, total);
            assert_eq!(joined, Some(Ok(c.value.clone())), "{d}");
        }
        assert_eq!(
            reference::join(&c.cookie_name, &c.pairs(), c.max_cookie_size, n, total - 1),
            Some(Err("too-large")),
            "{d}: one byte less of budget"
        );
        // With one chunk fewer allowed, the last is another cookie: what is
        // left is not the token.
        let fewer = reference::join(&c.cookie_name, &c.pairs(), c.max_cookie_size, n - 1, total)
            .expect("chunks")
            .expect("a set");
        assert_eq!(
            fewer.len(),
            c.value.len() - c.chunks[n - 1].value.len(),
            "{d}"
        );
        assert!(opener.open_joined(&fewer).is_err(), "{d}");

        assert_eq!(opener.open_joined(&c.value), Ok((session, index)), "{d}");
    }
}

#[test]
fn reference_rejects_every_invalid_chunk_set_with_its_code() {
    for v in vectors::load().chunked_invalid {
        let code = match reference::join(
            &v.cookie_name,
            &v.pairs(),
            v.max_cookie_size,
            v.max_chunks,
            v.header_budget,
        ) {
            None => "no chunks",
            Some(Err(code)) => code,
            Some(Ok(joined)) => match reference::expect_unit(v.opener().open_joined(&joined)) {
                Ok(_) => "opened",
                Err(code) => code,
            },
        };
        assert_eq!(code, v.error, "{}", v.description);
    }
}

/// A bound value opens with its context only: not unbound, not with a
/// context one byte longer, shorter or different; an unbound value does
/// not open with any context, including the empty one.
#[test]
fn bound_vectors_open_only_with_their_context() {
    let failed = Err("authentication-failed");
    let mut bound = 0;
    for v in vectors::load().valid {
        let d = &v.description;
        let open = |context: Option<&[u8]>| {
            let opener = Opener {
                context: context.map(<[u8]>::to_vec),
                ..v.opener()
            };
            opener.open(&v.value).map(|_| ())
        };
        let context = context_bytes(v.context.as_ref());
        if let Some(context) = &context {
            bound += 1;
            assert_eq!(open(Some(context)), Ok(()), "{d}");
        }
        for (what, wrong) in vectors::wrong_contexts(context.as_deref()) {
            assert_eq!(open(wrong.as_deref()), failed, "{d}: {what}");
        }
    }
    assert!(bound >= 3, "only {bound} bound vectors");
}

#[test]
fn the_realistic_payload_is_the_account() {
    let expected = vectors::account();
    let encoded = postcard::to_allocvec(&expected).expect("serializes");
    let vectors = vectors::load();
    let v = vectors
        .valid
        .iter()
        .find(|v| hex::decode(&v.payload).expect("hex") == encoded)
        .expect("a valid vector carries the Account payload");
    let (session, _) = v.opener().open(&v.value).expect("opens");
    let account: vectors::Account = postcard::from_bytes(&session.payload).expect("decodes");
    assert_eq!(account, expected);
}

// ---------------------------------------------------------------------------
// What the vectors cover
// ---------------------------------------------------------------------------

/// What is wrong with a plaintext whose envelope is not well-formed, read
/// without the reference's parser.
///
/// The lenient LEB128 reader below is deliberately not
/// `reference::read_varint`: that one refuses exactly the faults this
/// function must name (non-minimal, over 64 bits), so it cannot tell which
/// fault an invalid vector has; and classifying the vectors with the code
/// under test would only check it against itself.
fn envelope_fault(plaintext: &[u8]) -> &'static str {
    /// LEB128 accepting any form: (value, bytes, shortest form?).
    fn lenient(input: &[u8]) -> Result<(u128, usize, bool), &'static str> {
        let mut value = 0u128;
        for (i, &byte) in input.iter().enumerate() {
            if i >= 10 {
                return Err("over 64 bits");
            }
            value |= u128::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if value > u128::from(u64::MAX) {
                    return Err("over 64 bits");
                }
                return Ok((value, i + 1, byte != 0 || i == 0));
            }
        }
        Err("truncated varint")
    }
    let mut rest = plaintext;
    let mut fields = [0u128; 3];
    for field in &mut fields {
        let (value, len, shortest) = match lenient(rest) {
            Ok(read) => read,
            Err(fault) => return fault,
        };
        if !shortest {
            return "non-minimal varint";
        }
        *field = value;
        rest = &rest[len..];
    }
    let [created_at, lifetime, renewed] = fields;
    if rest.len() < 20 {
        "too short"
    } else if created_at > u128::from(MAX_TIME) {
        "created_at after MAX_TIME"
    } else if created_at + lifetime > u128::from(u64::MAX) {
        "deadline overflows"
    } else if created_at + lifetime > u128::from(MAX_TIME) {
        "deadline after MAX_TIME"
    } else if renewed > lifetime {
        "renewed after the deadline"
    } else {
        "well-formed"
    }
}

/// The plaintext of a token under the settings of an opener, if it
/// authenticates.
fn decrypt(opener: &Opener, value: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let token = reference::decode(value)?;
    if token.len() < reference::MIN_TOKEN_LEN
        || token[0] != reference::VERSION
        || !reference::ALGORITHMS.contains(&token[1])
    {
        return None;
    }
    opener.secrets.iter().find_map(|secret| {
        let keys = reference::derive(secret, &opener.app_label);
        if keys.id != token[2..6] {
            return None;
        }
        let plaintext = reference::open_token(
            &keys,
            &opener.cookie_name,
            opener.context.as_deref(),
            &token,
        )?;
        Some((token.clone(), plaintext))
    })
}

#[test]
fn the_vectors_cover_what_they_must() {
    let vectors = vectors::load();
    for needle in ["4096", "60 seconds", "SHA-256(context)", "max_lifetime"] {
        assert!(
            vectors.comment.contains(needle),
            "the comment lacks {needle}"
        );
    }

    let valid = &vectors.valid;
    assert!(valid.len() >= 6);
    let sessions: Vec<(Session, usize)> = valid.iter().map(Valid::expected).collect();
    for name in ["xaes-256-gcm", "xchacha20-poly1305"] {
        for bound in [true, false] {
            assert!(
                valid
                    .iter()
                    .any(|v| v.algorithm == name && v.context.is_some() == bound),
                "no {name} vector bound: {bound}"
            );
        }
    }
    let contexts: Vec<Vec<u8>> = valid
        .iter()
        .filter_map(|v| context_bytes(v.context.as_ref()))
        .collect();
    assert!(contexts.iter().any(Vec::is_empty), "no empty context");
    assert!(
        contexts.iter().any(|c| std::str::from_utf8(c).is_err()),
        "no context that is not text"
    );
    assert!(
        sessions.iter().any(|(_, i)| *i != 0),
        "no non-current secret"
    );
    assert!(
        sessions.iter().any(|(s, _)| s.payload.is_empty()),
        "no empty payload"
    );
    let base64_secrets: Vec<&str> = valid
        .iter()
        .flat_map(|v| &v.secrets)
        .filter_map(|s| s.strip_prefix("base64:"))
        .collect();
    assert!(
        base64_secrets.iter().any(|s| s.ends_with('=')),
        "no padded base64: secret"
    );
    assert!(
        base64_secrets.iter().any(|s| s.len() % 4 != 0),
        "no base64: secret without its padding"
    );
    assert!(
        valid.iter().flat_map(|v| &v.secrets).any(|s| !s.is_ascii()),
        "no non-ASCII text secret"
    );
    assert!(valid.iter().any(|v| v.app_label.is_some()), "no app label");
    assert!(valid.iter().any(|v| v.schema.is_some()), "no schema label");
    // Every clock rule at its boundary, on the side that opens.
    let at = |rule: &str, holds: &dyn Fn(&Valid) -> bool| {
        assert!(valid.iter().any(holds), "no valid vector: {rule}");
    };
    at("now = deadline - 1", &|v| v.now + 1 == v.absolute_deadline);
    at("now = created_at + max_lifetime - 1", &|v| {
        v.max_lifetime.is_some_and(|m| {
            v.created_at + m < v.absolute_deadline && v.now + 1 == v.created_at + m
        })
    });
    at("now = renewed_at + idle_timeout - 1", &|v| {
        v.renewed_at > v.created_at
            && v.idle_timeout
                .is_some_and(|i| v.now + 1 == v.renewed_at + i)
    });
    at("renewed long ago, no idle timeout", &|v| {
        v.idle_timeout.is_none()
            && v.renewed_at > v.created_at
            && v.now.saturating_sub(v.renewed_at) >= 1800
    });
    at("renewed_at = now + leeway", &|v| {
        v.renewed_at == v.now + reference::LEEWAY
    });
    at("created_at = cut-off", &|v| {
        v.reject_created_before == Some(v.created_at)
    });
    at("renewed_at = absolute_deadline", &|v| {
        v.renewed_at == v.absolute_deadline
    });
    at("absolute_deadline = MAX_TIME", &|v| {
        v.absolute_deadline == MAX_TIME
    });

    // Fixed, distinct nonces and session ids.
    let mut nonces = BTreeSet::new();
    let mut ids = BTreeSet::new();
    let chunked: Vec<Valid> = vectors.chunked.iter().map(Chunked::as_valid).collect();
    for (session, _) in valid.iter().chain(&chunked).map(Valid::expected) {
        assert_ne!(session.nonce, [0; 24]);
        assert!(nonces.insert(session.nonce), "nonce reused");
        assert!(ids.insert(session.session_id), "session id reused");
    }
    // No nonce seals two different authentic tokens anywhere in the file.
    let mut authentic: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let openers = valid
        .iter()
        .chain(&chunked)
        .map(|v| (v.opener(), v.value.clone()))
        .chain(
            vectors
                .invalid
                .iter()
                .map(|v| (v.opener(), v.value.clone())),
        );
    for (opener, value) in openers {
        if let Some((token, _)) = decrypt(&opener, &value) {
            let previous = authentic.insert(token[6..30].to_vec(), token.clone());
            assert!(previous.is_none_or(|p| p == token), "a nonce sealed twice");
        }
    }

    let invalid = &vectors.invalid;
    for code in vectors::OPEN_ERROR_CODES {
        assert!(
            invalid.iter().any(|v| v.error == code),
            "no invalid vector for {code}"
        );
    }
    for v in invalid {
        assert!(
            vectors::OPEN_ERROR_CODES.contains(&v.error.as_str()),
            "{}",
            v.description
        );
    }
    // Every way a value can be malformed.
    let malformed: Vec<_> = invalid.iter().filter(|v| v.error == "malformed").collect();
    assert!(malformed.iter().any(|v| v.value.contains('=')));
    assert!(malformed.iter().any(|v| v.value.contains(['+', '/'])));
    assert!(
        malformed
            .iter()
            .any(|v| v.value.contains(char::is_whitespace))
    );
    assert!(
        malformed
            .iter()
            .any(|v| v.value.len() + v.cookie_name.len() == reference::MAX_COOKIE_SIZE),
        "no value of exactly the maximum size"
    );
    assert!(
        malformed
            .iter()
            .any(|v| reference::decode(&v.value).is_some_and(|t| t.len() == 45))
    );
    let faults: BTreeSet<&str> = malformed
        .iter()
        .filter_map(|v| decrypt(&v.opener(), &v.value))
        .map(|(_, plaintext)| envelope_fault(&plaintext))
        .collect();
    for fault in [
        "truncated varint",
        "non-minimal varint",
        "over 64 bits",
        "too short",
        "created_at after MAX_TIME",
        "deadline overflows",
        "deadline after MAX_TIME",
        "renewed after the deadline",
    ] {
        assert!(faults.contains(fault), "no malformed envelope: {fault}");
    }
    assert!(!faults.contains("well-formed"), "{faults:?}");

    // Invalid vectors made of a valid value and other settings.
    let source = |v: &vectors::Invalid| valid.iter().find(|s| s.value == v.value);
    let with = |code: &str, what: &str, differs: &dyn Fn(&Valid, &vectors::Invalid) -> bool| {
        assert!(
            invalid
                .iter()
                .filter(|v| v.error == code)
                .any(|v| source(v).is_some_and(|s| differs(s, v))),
            "no valid value opened with {what} ({code})"
        );
    };
    let auth = "authentication-failed";
    with(auth, "another context", &|s, v| {
        s.context.is_some() && v.context.is_some() && s.context != v.context
    });
    with(auth, "no context", &|s, v| {
        s.context.is_some() && v.context.is_none()
    });
    with(auth, "a context", &|s, v| {
        s.context.is_none() && v.context.is_some()
    });
    with(auth, "the empty context", &|s, v| {
        s.context.is_none() && v.context.as_deref() == Some("")
    });
    with("unknown-key", "another app label", &|s, v| {
        s.app_label != v.app_label
    });
    with("unknown-key", "the default app label", &|s, v| {
        s.app_label.is_some() && v.app_label.is_none()
    });
    with("schema-mismatch", "another schema label", &|s, v| {
        s.schema.is_some() && v.schema.is_some() && s.schema != v.schema
    });
    with("schema-mismatch", "the default schema label", &|s, v| {
        s.schema.is_some() && v.schema.is_none()
    });
    with("expired-idle", "an idle timeout", &|s, v| {
        s.idle_timeout.is_none() && v.idle_timeout.is_some()
    });
    with(
        "expired-idle",
        "now = renewed_at + idle_timeout",
        &|s, v| v.idle_timeout.is_some_and(|i| v.now == s.renewed_at + i),
    );
    with(
        "expired-absolute",
        "now = created_at + max_lifetime",
        &|s, v| {
            v.max_lifetime.is_some_and(|m| {
                m < s.absolute_deadline - s.created_at && v.now == s.created_at + m
            })
        },
    );
    with(
        "expired-absolute",
        "a max lifetime over the lifetime",
        &|s, v| {
            v.max_lifetime
                .is_some_and(|m| m > s.absolute_deadline - s.created_at)
                && v.now == s.absolute_deadline
        },
    );
    with("revoked", "a cut-off of created_at + 1", &|s, v| {
        v.reject_created_before == Some(s.created_at + 1)
    });
    with("deserialize", "the unit type", &|s, _| {
        !s.payload.is_empty()
    });
    // A token of the default schema opened with a schema label.
    assert!(invalid.iter().any(|v| v.error == "schema-mismatch"
        && v.schema.is_some()
        && decrypt(&v.opener(), &v.value).is_some_and(|(_, p)| {
            let mut rest = &p[..];
            for _ in 0..3 {
                rest = reference::read_varint(rest).expect("varint").1;
            }
            rest[..4] == reference::schema_id("")
        })));
    // A restricted opener refusing an algorithm it does not accept.
    assert!(invalid.iter().any(|v| v.error == "disabled-algorithm"
        && v.algorithms.as_ref().is_some_and(|names| {
            let token = reference::decode(&v.value).expect("decodes");
            !names.contains(&reference::algorithm_name(token[1]).to_string())
        })));
    // The not-yet-valid rule through renewed_at, with created_at in the past.
    assert!(invalid.iter().any(|v| v.error == "not-yet-valid"
        && decrypt(&v.opener(), &v.value).is_some_and(|(_, p)| {
            let (created_at, _) = reference::read_varint(&p).expect("varint");
            created_at < v.now
        })));
}

#[test]
fn the_chunked_vectors_cover_what_they_must() {
    let vectors = vectors::load();
    for needle in ["`chunked`", "`chunked_invalid`", "below max_chunks"] {
        assert!(
            vectors.comment.contains(needle),
            "the comment lacks {needle}"
        );
    }
    let chunked = &vectors.chunked;
    let counts: Vec<usize> = chunked.iter().map(|c| c.chunks.len()).collect();
    assert!(counts.contains(&2), "no two-chunk vector: {counts:?}");
    assert!(counts.contains(&3), "no three-chunk vector");
    assert!(counts.iter().any(|&n| n > 10), "no two-digit chunk index");
    assert!(
        chunked.iter().any(|c| c.context.is_some()),
        "no bound chunked vector"
    );
    assert!(
        chunked.iter().any(|c| c.context.is_none()),
        "no unbound chunked vector"
    );
    assert!(
        chunked
            .iter()
            .any(|c| c.secrets.iter().any(|s| s.starts_with("base64:"))),
        "no chunked vector under a base64: secret"
    );
    for name in ["xaes-256-gcm", "xchacha20-poly1305"] {
        assert!(
            chunked.iter().any(|c| c.algorithm == name),
            "no chunked {name} vector"
        );
    }
    // One vector whose last chunk is full (no empty chunk after it), one
    // whose last chunk is partial.
    let last_full = |c: &Chunked| {
        let last = c.chunks.last().expect("chunks");
        last.name.len() + last.value.len() == c.max_cookie_size
    };
    assert!(chunked.iter().any(last_full));
    assert!(chunked.iter().any(|c| !last_full(c)));

    let invalid = &vectors.chunked_invalid;
    for code in [
        "malformed",
        "too-large",
        "authentication-failed",
        "unsupported-version",
        "expired-idle",
    ] {
        assert!(
            invalid.iter().any(|v| v.error == code),
            "no invalid chunk set for {code}"
        );
    }
    let indexes = |v: &vectors::ChunkedInvalid| -> Vec<usize> {
        v.chunks
            .iter()
            .filter_map(|c| reference::chunk_index(&v.cookie_name, &c.name, v.max_chunks))
            .collect()
    };
    let malformed: Vec<_> = invalid.iter().filter(|v| v.error == "malformed").collect();
    assert!(
        malformed.iter().any(|v| {
            let mut seen = indexes(v);
            seen.sort_unstable();
            seen.dedup();
            seen.len() < indexes(v).len()
        }),
        "no repeated index"
    );
    assert!(
        malformed.iter().any(|v| !indexes(v).contains(&0)),
        "no set without 0"
    );
    assert!(
        malformed
            .iter()
            .any(|v| indexes(v).contains(&0)
                && (0..indexes(v).len()).any(|k| !indexes(v).contains(&k))),
        "no gap"
    );
    assert!(
        malformed
            .iter()
            .any(|v| v.chunks.iter().any(|c| c.value.is_empty())),
        "no empty chunk"
    );
    assert!(
        invalid.iter().any(|v| indexes(v).len() < v.chunks.len()),
        "no chunk name at or beyond max_chunks"
    );
    assert!(
        invalid.iter().any(|v| v.error == "too-large"
            && v.chunks
                .iter()
                .any(|c| c.name.len() + c.value.len() > v.max_cookie_size)),
        "no chunk over the maximum cookie size"
    );
    assert!(
        invalid.iter().any(|v| v.error == "too-large"
            && v.chunks
                .iter()
                .map(|c| c.name.len() + c.value.len())
                .sum::<usize>()
                > v.header_budget),
        "no set over the budget"
    );
    // Each invalid set is made of pieces of the chunked vectors' text.
    for v in invalid {
        for chunk in &v.chunks {
            assert!(
                chunk.value.is_empty() || chunked.iter().any(|c| c.value.contains(&chunk.value)),
                "{}",
                v.description
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Unit tests of the reference
// ---------------------------------------------------------------------------

const SECRET: &str = "a reference unit-test secret, 32+ bytes long";

/// `reference::write_varint` and `reference::read_varint` against postcard's
/// own `u64` encoding: an independent computation, the point of the test.
#[test]
fn varints_are_postcards_u64() {
    let values = [
        0,
        1,
        127,
        128,
        300,
        16_383,
        16_384,
        u64::from(u32::MAX),
        MAX_TIME,
        1 << 63,
        u64::MAX,
    ];
    for value in values {
        let mut ours = Vec::new();
        reference::write_varint(&mut ours, value);
        assert_eq!(
            ours,
            postcard::to_allocvec(&value).expect("serializes"),
            "{value}"
        );
        assert!(ours.len() <= 10);
        ours.extend_from_slice(b"rest");
        assert_eq!(
            reference::read_varint(&ours),
            Some((value, &b"rest"[..])),
            "{value}"
        );
    }
}

/// `reference::read_varint` against hand-written bytes (not against
/// `write_varint`, which never writes the refused forms).
#[test]
fn varints_must_be_minimal_and_64_bit() {
    let mut max = vec![0xff; 9];
    max.push(0x01);
    assert_eq!(reference::read_varint(&max), Some((u64::MAX, &[][..])));
    let refused: [&[u8]; 9] = [
        &[],
        &[0x80],
        &[0xff, 0xff],
        &[0x80, 0x00],                                                 // 0 in two bytes
        &[0xac, 0x82, 0x00],                                           // 300 in three bytes
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], // bit 64
        &[
            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00,
        ], // 11 bytes
        &[
            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
        ], // 11 bytes
        &[0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], // 1 in 10 bytes
    ];
    for input in refused {
        assert_eq!(reference::read_varint(input), None, "{input:02x?}");
    }
}

#[test]
fn well_formed_envelopes() {
    assert!(reference::well_formed(0, 0, 0));
    assert!(reference::well_formed(MAX_TIME, 0, 0));
    assert!(!reference::well_formed(MAX_TIME + 1, 0, 0));
    assert!(reference::well_formed(1, MAX_TIME - 1, 0));
    assert!(!reference::well_formed(1, MAX_TIME, 0));
    assert!(!reference::well_formed(1, u64::MAX, 0), "overflow");
    assert!(reference::well_formed(10, 5, 5), "renewed = lifetime");
    assert!(!reference::well_formed(10, 5, 6));
}

/// `reference::derive` and `reference::schema_id` against HKDF and SHA-256
/// called here on the literal info and input bytes of the format's spec.
/// This HKDF stays local on purpose: the test checks the reference itself
/// against an independent computation, which calling `reference::derive`
/// (or `reference::info`) on both sides would not.
#[test]
fn the_info_strings_and_schema_ids_are_the_spec_bytes() {
    let secret = reference::secret_bytes(SECRET);
    let hkdf = Hkdf::<Sha256>::new(Some(b"sealed-session v1"), &secret);
    let expand = |info: &[u8], len: usize| {
        let mut out = vec![0; len];
        hkdf.expand(info, &mut out).expect("expands");
        out
    };
    assert_eq!(b"sealed-session v1 key id\0".len(), 25);
    let keys = reference::derive(SECRET, "");
    assert_eq!(keys.id[..], expand(b"sealed-session v1 key id\0", 4)[..]);
    assert_eq!(
        keys.xaes[..],
        expand(b"sealed-session v1 key xaes256gcm\0", 32)[..]
    );
    assert_eq!(
        keys.xchacha[..],
        expand(b"sealed-session v1 key xchacha20poly1305\0", 32)[..]
    );
    let labelled = reference::derive(SECRET, "shop.example");
    assert_eq!(
        labelled.id[..],
        expand(b"sealed-session v1 key id\0shop.example", 4)[..]
    );
    assert_eq!(
        labelled.xaes[..],
        expand(b"sealed-session v1 key xaes256gcm\0shop.example", 32)[..]
    );
    assert_ne!(labelled.id, keys.id);
    assert_ne!(keys.xaes, keys.xchacha);

    let digest = Sha256::digest(b"sealed-session v1 schema\0cart-v1");
    assert_eq!(reference::schema_id("cart-v1")[..], digest[..4]);
    let digest = Sha256::digest(b"sealed-session v1 schema\0");
    assert_eq!(reference::schema_id("")[..], digest[..4]);
}

#[test]
fn labels_are_up_to_64_visible_ascii_bytes() {
    for label in ["", "x", "shop.example", "!~", &"a".repeat(64)] {
        assert!(reference::valid_label(label), "{label:?}");
    }
    for label in [&"a".repeat(65), " ", "a b", "\x7f", "tab\t", "é", "\0"] {
        assert!(!reference::valid_label(label), "{label:?}");
    }
}

#[test]
fn base64_secrets_take_padding_or_not() {
    let padded = reference::secret_bytes(vectors::SECRET_BASE64);
    assert_eq!(padded, (0u8..32).collect::<Vec<_>>());
    assert_eq!(
        reference::secret_bytes(vectors::SECRET_BASE64_NO_PAD),
        padded
    );
    assert_eq!(reference::secret_bytes("plain text"), b"plain text");
    assert_eq!(reference::secret_bytes("ünï"), "ünï".as_bytes());
}

#[test]
fn values_are_strict_base64url() {
    let token: Vec<u8> = (0..74).collect();
    let value = reference::encode(&token);
    assert!(!value.contains('='));
    assert_eq!(reference::decode(&value), Some(token));
    for broken in [
        format!("{value}="),
        value.replace('-', "+").replace('_', "/"),
        format!(" {value}"),
        format!("{value}\n"),
    ] {
        if broken != value {
            assert_eq!(reference::decode(&broken), None, "{broken}");
        }
    }
    // 74 bytes are 99 characters; the last two bytes, 0x48 0x49, give
    // "SEk", and "k" (36 = 100100) carries two unused zero bits.
    let (head, last) = value.split_at(value.len() - 1);
    assert_eq!(last, "k");
    assert_eq!(
        reference::decode(&format!("{head}l")),
        None,
        "an unused bit set"
    );
    assert_eq!(reference::decode(&value[..97]), None, "a length of 1 mod 4");
}

/// A session of `SECRET` created at `created_at` with `lifetime`, last
/// sealed at `renewed_at`, and an opener of its settings at `now`.
fn sealed(created_at: u64, lifetime: u64, renewed_at: u64) -> (String, Opener) {
    let keys = reference::derive(SECRET, "");
    let session = Session {
        algorithm: XAES_256_GCM,
        key_id: keys.id,
        nonce: [7; 24],
        created_at,
        absolute_deadline: created_at + lifetime,
        renewed_at,
        schema_id: reference::schema_id(""),
        session_id: [9; 16],
        payload: Vec::new(),
    };
    let value = reference::seal(&keys, "sid", None, &session);
    (value, Opener::new(&[SECRET], "sid", created_at))
}

fn open_at(value: &str, opener: &Opener, now: u64) -> Result<(), &'static str> {
    Opener {
        now,
        ..opener.clone()
    }
    .open(value)
    .map(|_| ())
}

#[test]
fn clock_rules_at_their_boundaries() {
    let created_at = 1_000_000;
    let day = 86_400;
    let (value, opener) = sealed(created_at, day, created_at + 100);
    let deadline = created_at + day;
    // The absolute deadline is exclusive.
    assert_eq!(open_at(&value, &opener, deadline - 1), Ok(()));
    assert_eq!(open_at(&value, &opener, deadline), Err("expired-absolute"));
    // A max lifetime caps it, never extends it.
    let capped = Opener {
        max_lifetime: Some(3600),
        ..opener.clone()
    };
    assert_eq!(open_at(&value, &capped, created_at + 3599), Ok(()));
    assert_eq!(
        open_at(&value, &capped, created_at + 3600),
        Err("expired-absolute")
    );
    let longer = Opener {
        max_lifetime: Some(2 * day),
        ..opener.clone()
    };
    assert_eq!(open_at(&value, &longer, deadline), Err("expired-absolute"));
    // The idle timeout counts from renewed_at, exclusive.
    let idle = Opener {
        idle_timeout: Some(1800),
        ..opener.clone()
    };
    assert_eq!(open_at(&value, &idle, created_at + 100 + 1799), Ok(()));
    assert_eq!(
        open_at(&value, &idle, created_at + 100 + 1800),
        Err("expired-idle")
    );
    let forever = Opener {
        idle_timeout: Some(u64::MAX),
        ..opener.clone()
    };
    assert_eq!(
        open_at(&value, &forever, deadline - 1),
        Ok(()),
        "no overflow"
    );
    // The leeway: renewed_at may be 60 s ahead of now, not 61.
    assert_eq!(open_at(&value, &opener, created_at + 40), Ok(()));
    assert_eq!(
        open_at(&value, &opener, created_at + 39),
        Err("not-yet-valid")
    );
    // The cut-off: created at it is not revoked.
    let cut = |at: u64| Opener {
        reject_created_before: Some(at),
        ..opener.clone()
    };
    assert_eq!(open_at(&value, &cut(created_at), created_at + 100), Ok(()));
    assert_eq!(
        open_at(&value, &cut(created_at + 1), created_at + 100),
        Err("revoked")
    );
    // The order of the rules: absolute, idle, not yet valid, revoked,
    // schema.
    let everything = Opener {
        idle_timeout: Some(10),
        reject_created_before: Some(deadline + 10),
        schema: "other".to_string(),
        ..opener.clone()
    };
    assert_eq!(
        open_at(&value, &everything, deadline),
        Err("expired-absolute")
    );
    assert_eq!(
        open_at(&value, &everything, deadline - 1),
        Err("expired-idle")
    );
    let no_idle = Opener {
        idle_timeout: None,
        ..everything.clone()
    };
    assert_eq!(open_at(&value, &no_idle, created_at), Err("not-yet-valid"));
    assert_eq!(open_at(&value, &no_idle, created_at + 100), Err("revoked"));
    let no_cut = Opener {
        reject_created_before: None,
        ..no_idle
    };
    assert_eq!(
        open_at(&value, &no_cut, created_at + 100),
        Err("schema-mismatch")
    );
}

#[test]
fn the_order_of_the_header_checks() {
    let opener = Opener::new(&[SECRET], "sid", 0);
    let name = "sid".len();
    // Size before decoding; exactly the maximum is not too large.
    assert_eq!(opener.open(&"!".repeat(4097 - name)), Err("too-large"));
    assert_eq!(opener.open(&"!".repeat(4096 - name)), Err("malformed"));
    let token = |bytes: &[u8]| {
        let mut token = bytes.to_vec();
        token.resize(reference::MIN_TOKEN_LEN, 0);
        reference::encode(&token)
    };
    let only_xaes = Opener {
        algorithms: vec![XAES_256_GCM],
        ..opener.clone()
    };
    assert_eq!(
        opener.open(&token(&[0x02, 0x09])),
        Err("unsupported-version")
    );
    assert_eq!(
        only_xaes.open(&token(&[0x01, 0x09])),
        Err("unknown-algorithm")
    );
    assert_eq!(
        only_xaes.open(&token(&[0x01, 0x02])),
        Err("disabled-algorithm")
    );
    assert_eq!(only_xaes.open(&token(&[0x01, 0x01])), Err("unknown-key"));
    let id = reference::derive(SECRET, "").id;
    let known = token(&[0x01, 0x01, id[0], id[1], id[2], id[3]]);
    assert_eq!(only_xaes.open(&known), Err("authentication-failed"));
    let mut short = reference::decode(&known).expect("decodes");
    short.pop();
    assert_eq!(opener.open(&reference::encode(&short)), Err("malformed"));
}

#[test]
fn sealers_cap_clamp_and_renew() {
    use reference::envelope_times;
    assert_eq!(envelope_times(1000, 500, None, 1200), (1500, 1200));
    assert_eq!(envelope_times(1000, 500, Some(300), 1200), (1300, 1200));
    assert_eq!(envelope_times(1000, 500, Some(900), 1200), (1500, 1200));
    // A clock behind created_at renews at created_at.
    assert_eq!(envelope_times(1000, 500, None, 900), (1500, 1000));
    assert_eq!(
        envelope_times(MAX_TIME - 10, 500, None, MAX_TIME - 5),
        (MAX_TIME, MAX_TIME - 5)
    );
    assert_eq!(envelope_times(10, u64::MAX, None, 10), (MAX_TIME, 10));
    // What they write opens, unless the deadline has passed.
    let (deadline, renewed_at) = envelope_times(1000, 500, Some(300), 1200);
    let (value, opener) = sealed(1000, deadline - 1000, renewed_at);
    assert_eq!(open_at(&value, &opener, 1200), Ok(()));
    assert_eq!(open_at(&value, &opener, 1300), Err("expired-absolute"));
}

#[test]
fn xchacha_and_xaes_tokens_are_not_interchangeable() {
    let keys = reference::derive(SECRET, "");
    let plaintext = reference::plaintext(1, 100, 0, &reference::schema_id(""), &[1; 16], b"");
    for algorithm in [XAES_256_GCM, XCHACHA20_POLY1305] {
        let mut token = reference::seal_token(&keys, "sid", None, algorithm, &[3; 24], &plaintext);
        assert_eq!(
            reference::open_token(&keys, "sid", None, &token),
            Some(plaintext.clone())
        );
        assert_eq!(token.len(), reference::MIN_TOKEN_LEN + plaintext.len());
        token[1] ^= XAES_256_GCM ^ XCHACHA20_POLY1305;
        assert_eq!(reference::open_token(&keys, "sid", None, &token), None);
    }
}

#[test]
fn split_and_join_round_trip() {
    let name = "sid";
    for max_cookie_size in [9, 10, 20, 64] {
        for len in 1..300 {
            let value: String = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_"
                .chars()
                .cycle()
                .take(len)
                .collect();
            let chunks = reference::split(name, &value, max_cookie_size);
            for (k, (chunk_name, chunk)) in chunks.iter().enumerate() {
                assert_eq!(chunk_name, &format!("{name}.{k}"));
                assert!(!chunk.is_empty());
                assert!(chunk_name.len() + chunk.len() <= max_cookie_size);
                if k + 1 < chunks.len() {
                    assert_eq!(chunk_name.len() + chunk.len(), max_cookie_size, "full");
                }
            }
            let total = chunks.iter().map(|(n, v)| n.len() + v.len()).sum();
            assert_eq!(
                reference::join(name, &chunks, max_cookie_size, chunks.len(), total),
                Some(Ok(value))
            );
        }
    }
}

fn cookie(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// Names that are not chunk names of "session" under a max_chunks of 3 are
/// other cookies: next to a valid set, whatever their values, the set
/// opens, and they count neither as chunks nor against the budget.
#[test]
fn join_ignores_every_other_name() {
    let vectors = vectors::load();
    let c = vectors
        .chunked
        .iter()
        .find(|c| c.chunks.len() == 3 && c.cookie_name == "session")
        .expect("the three-chunk vector");
    let others = [
        "session.3",
        "session.4",
        "session.63",
        "session.64",
        "session.99999999999999999999999",
        "session.00",
        "session.01",
        "session.+1",
        "session.-1",
        "session. 1",
        "session.1 ",
        "session.",
        "session..1",
        "session.1.0",
        "session.0x1",
        "session.١",
        "session0",
        "Session.0",
        "session",
        "sessionx.0",
    ];
    let total = c.total();
    for other in others {
        for value in ["", "AAAA", c.chunks[1].value.as_str()] {
            let mut cookies = c.pairs();
            cookies.insert(1, cookie(other, value));
            let joined = reference::join("session", &cookies, c.max_cookie_size, 3, total);
            assert_eq!(joined, Some(Ok(c.value.clone())), "{other}={value}");
        }
        let alone = [cookie(other, "AAAA")];
        assert_eq!(
            reference::join("session", &alone, 300, 3, 8000),
            None,
            "{other}"
        );
    }
    // Index max_chunks - 1 is a chunk: a 2-chunk limit ignores session.2,
    // a 3-chunk one reads it.
    let two = reference::join("session", &c.pairs(), c.max_cookie_size, 2, total).expect("chunks");
    assert_ne!(two, Ok(c.value.clone()));
    // A repeated index below max_chunks is malformed, ignored names or not.
    let mut repeated = c.pairs();
    repeated.push(c.pairs()[0].clone());
    repeated.push(cookie("session.3", "AAAA"));
    assert_eq!(
        reference::join("session", &repeated, c.max_cookie_size, 3, 8000),
        Some(Err("malformed"))
    );
    // So is a gap, even when an ignored index fills it numerically.
    let gap = [
        c.pairs()[0].clone(),
        c.pairs()[2].clone(),
        cookie("session.01", "AAAA"),
    ];
    assert_eq!(
        reference::join("session", &gap, c.max_cookie_size, 3, 8000),
        Some(Err("malformed"))
    );
    // An empty chunk below max_chunks is malformed.
    let mut empty = c.pairs();
    empty[2].1.clear();
    assert_eq!(
        reference::join("session", &empty, c.max_cookie_size, 3, 8000),
        Some(Err("malformed"))
    );
}
