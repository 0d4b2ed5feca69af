//! The crate's own seal path reproduces every published vector
//! (`tests/vectors/v1.json`) that a sealer can make, byte for byte, given
//! the vector's nonce, labels and context; and every chunked vector: the
//! same seal under the vector's maximum cookie size with chunking on, cut
//! by [`crate::chunks::split`] into exactly the listed chunk cookies.
//!
//! The integration tests `tests/vectors.rs` and `tests/vectors_reference.rs`
//! check the vectors against the crate's open path and an independent
//! implementation; this one pins the codec's sealing code to them, which
//! only a unit test can do because the nonce source is private.

use super::*;
use std::time::{Duration, UNIX_EPOCH};

use crate::algorithm::Algorithm;
use crate::chunks::Chunking;
use crate::clock::ManualClock;
use crate::envelope::MAX_TIME;
use crate::wire::Binding;

use crate::reference;
#[path = "../../tests/support/vectors.rs"]
mod vectors;

use vectors::{Valid, hex_array};

/// Seals the vector's payload into its envelope with its nonce at its
/// `renewed_at` (the codec's clock), under a codec with the vector's
/// sealing settings and `max_cookie_size` (the default when `None`), with
/// the size rule of `chunking`.
fn seal_vector(
    v: &Valid,
    max_cookie_size: Option<usize>,
    chunking: Chunking,
) -> Result<String, Error> {
    let (_, index) = v.expected();
    let secret = v.secrets.get(index).expect("the sealing secret");
    // The sealing secret first, the others behind it, as after a rotation
    // back to it.
    let secrets = std::iter::once(secret.as_str()).chain(
        v.secrets
            .iter()
            .map(String::as_str)
            .filter(|s| *s != secret),
    );
    let algorithm: Algorithm = v.algorithm.parse().expect("known algorithm");
    // No cap, idle timeout or cut-off: those are settings of the opener.
    let mut builder = Codec::builder(Keyring::new(secrets).expect("valid secrets"))
        .cookie_name(v.cookie_name.as_str())
        .app_label(v.app_label.as_deref().unwrap_or(""))
        .schema(v.schema.as_deref().unwrap_or(""))
        .algorithm(algorithm)
        .lifetime(Duration::from_secs(MAX_TIME))
        .idle_timeout(None)
        .clock(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(v.renewed_at),
        ));
    if let Some(max) = max_cookie_size {
        builder = builder.max_cookie_size(max);
    }
    let codec = builder.build().expect("valid settings");

    let envelope = Envelope::from_parts(
        hex_array(&v.session_id),
        v.created_at,
        v.absolute_deadline,
        v.renewed_at,
    );
    let payload = hex::decode(&v.payload).expect("hex");
    let nonce: [u8; NONCE_LEN] = hex_array(&v.nonce);
    let binding = vectors::context_bytes(v.context.as_ref()).map(Binding::new);
    let mut options = SealOptions::new().envelope(envelope);
    if let Some(binding) = binding {
        options = options.binding(binding);
    }
    let name_len = v.cookie_name.len();
    let max = codec.settings().max_cookie_size;
    codec
        .seal_payload(
            payload.len(),
            &options,
            &|len| chunking.layout(name_len, len, max).map(|_| ()),
            |out| {
                out.copy_from_slice(&payload);
                Ok(())
            },
            |new_id| {
                assert!(!new_id, "the vector's envelope is sealed, not a new one");
                Ok((nonce, None))
            },
        )
        .map(|(value, _)| value)
}

/// Whether a sealer can make this vector: a seal at or after the deadline
/// is refused (the vector with `renewed_at` at the deadline exists for
/// openers, which must accept it).
fn sealable(v: &Valid) -> bool {
    v.renewed_at < v.absolute_deadline
}

#[test]
fn seal_path_reproduces_every_valid_vector() {
    let vectors = vectors::load();
    assert!(!vectors.valid.is_empty());
    // Both kinds of seal path are exercised.
    assert!(vectors.valid.iter().any(|v| v.context.is_some()));
    assert!(vectors.valid.iter().any(|v| v.context.is_none()));
    let mut unsealable = 0;
    for v in &vectors.valid {
        let d = &v.description;
        let sealed = seal_vector(v, None, Chunking::ONE);
        if sealable(v) {
            assert_eq!(
                sealed.unwrap_or_else(|e| panic!("{d}: {e}")),
                v.value,
                "{d}"
            );
        } else {
            unsealable += 1;
            assert_eq!(
                sealed,
                Err(Error::Expired {
                    deadline: crate::error::Deadline::Absolute
                }),
                "{d}"
            );
        }
    }
    assert_eq!(unsealable, 1, "one vector is sealed at its deadline");
}

/// Each chunked vector is sealed under its own maximum cookie size with
/// chunking allowing exactly its number of chunks and its total size, and
/// cut into exactly its chunks; one chunk or one byte less is refused
/// before sealing.
#[test]
fn seal_path_reproduces_every_chunked_vector() {
    let vectors = vectors::load();
    assert!(vectors.chunked.len() >= 2);
    for c in &vectors.chunked {
        let v = c.as_valid();
        let d = &v.description;
        let n = c.chunks.len();
        let total = c.total();
        let exact = Chunking {
            max_chunks: n,
            budget: total,
        };
        let value =
            seal_vector(&v, Some(c.max_cookie_size), exact).unwrap_or_else(|e| panic!("{d}: {e}"));
        assert_eq!(value, v.value, "{d}");
        // Without chunking it does not fit, as the vector says.
        assert!(matches!(
            seal_vector(&v, Some(c.max_cookie_size), Chunking::ONE),
            Err(Error::TooLarge { .. })
        ));
        let chunks: Vec<(String, &str)> =
            crate::chunks::split(v.cookie_name.len(), &value, c.max_cookie_size)
                .map(|(index, chunk)| (crate::chunks::chunk_name(&v.cookie_name, index), chunk))
                .collect();
        assert_eq!(chunks.len(), n, "{d}");
        for ((name, chunk), listed) in chunks.iter().zip(&c.chunks) {
            assert_eq!(name, &listed.name, "{d}");
            assert_eq!(*chunk, listed.value, "{d}");
        }
        let fewer = Chunking {
            max_chunks: n - 1,
            budget: total,
        };
        assert!(
            matches!(
                seal_vector(&v, Some(c.max_cookie_size), fewer),
                Err(Error::TooLarge { .. })
            ),
            "{d}"
        );
        let tight = Chunking {
            max_chunks: n,
            budget: total - 1,
        };
        assert_eq!(
            seal_vector(&v, Some(c.max_cookie_size), tight),
            Err(Error::TooLarge {
                size: total,
                limit: total - 1
            }),
            "{d}"
        );
    }
}
