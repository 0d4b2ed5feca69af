//! The crate's own seal path reproduces every valid published vector
//! (`tests/vectors/v1.json`) byte for byte, given the vector's nonce, and
//! bound to the vector's context when it has one; and every chunked vector:
//! the same seal under the vector's maximum cookie size with chunking on,
//! cut by [`crate::chunks::split`] into exactly the listed chunk cookies.
//!
//! The integration test `tests/vectors.rs` checks the vectors against an
//! independent implementation; this one pins the codec's sealing code to
//! them, which only a unit test can do because the nonce source is private.

use super::*;

use serde::Deserialize;

const VECTORS: &str = include_str!("../../tests/vectors/v1.json");

#[derive(Deserialize)]
struct Vectors {
    valid: Vec<Valid>,
    chunked: Vec<Chunked>,
}

/// A chunked vector: the fields of a valid one, the maximum cookie size it
/// was cut for, and its chunk cookies in index order.
#[derive(Deserialize)]
struct Chunked {
    #[serde(flatten)]
    valid: Valid,
    max_cookie_size: usize,
    chunks: Vec<ChunkCookie>,
}

#[derive(Deserialize)]
struct ChunkCookie {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct Valid {
    description: String,
    secrets: Vec<String>,
    cookie_name: String,
    /// Hex of the context bytes the value is bound to; absent = unbound.
    context: Option<String>,
    algorithm: String,
    nonce: String,
    session_id: String,
    created_at: u64,
    absolute_deadline: u64,
    idle_deadline: u64,
    payload: String,
    value: String,
}

fn hex_array<const N: usize>(text: &str) -> [u8; N] {
    let bytes = hex::decode(text).expect("hex");
    bytes
        .try_into()
        .unwrap_or_else(|b: Vec<u8>| panic!("expected {N} bytes, got {}", b.len()))
}

/// The secret whose key id is in the value's header: the one it was sealed
/// under.
fn sealing_secret(v: &Valid) -> &str {
    let token = wire::decode(&v.value).expect("valid vectors decode");
    let key_id = token.get(2..6).expect("a header");
    v.secrets
        .iter()
        .find(|s| {
            let keyring = Keyring::new([s.as_str()]).expect("valid secret");
            keyring
                .key_ids()
                .next()
                .is_some_and(|id| id.to_bytes() == key_id)
        })
        .unwrap_or_else(|| panic!("{}: no secret has the value's key id", v.description))
}

/// Seals the vector's payload into its envelope with its nonce, under a
/// codec with the vector's settings and `max_cookie_size` (the default when
/// `None`), with `chunking`.
fn seal_vector(
    v: &Valid,
    max_cookie_size: Option<usize>,
    chunking: Chunking,
) -> Result<String, Error> {
    let secret = sealing_secret(v);
    // The sealing secret first, the others behind it, as after a rotation
    // back to it.
    let secrets = std::iter::once(secret).chain(
        v.secrets
            .iter()
            .map(String::as_str)
            .filter(|s| *s != secret),
    );
    let algorithm: Algorithm = v.algorithm.parse().expect("known algorithm");
    let mut builder = Codec::builder(Keyring::new(secrets).expect("valid secrets"))
        .cookie_name(v.cookie_name.as_str())
        .algorithm(algorithm);
    if let Some(max) = max_cookie_size {
        builder = builder.max_cookie_size(max);
    }
    if v.idle_deadline != 0 {
        // Sealing at `created_at` writes idle = created_at + timeout
        // (below the absolute deadline, so not clamped).
        builder = builder.idle_timeout(Duration::from_secs(v.idle_deadline - v.created_at));
    }
    let codec = builder.build().expect("valid settings");

    let envelope = Envelope::from_parts(
        hex_array(&v.session_id),
        v.created_at,
        v.absolute_deadline,
        v.idle_deadline,
    );
    let payload = hex::decode(&v.payload).expect("hex");
    let nonce: [u8; NONCE_LEN] = hex_array(&v.nonce);
    let binding = v
        .context
        .as_ref()
        .map(|context| Binding::new(hex::decode(context).expect("hex")));
    codec
        .seal_payload(
            payload.len(),
            &envelope,
            binding.as_ref(),
            chunking,
            v.created_at,
            |out| {
                out.copy_from_slice(&payload);
                Ok(())
            },
            || Ok((nonce, None)),
        )
        .map(|(value, _)| value)
}

#[test]
fn seal_path_reproduces_every_valid_vector() {
    let vectors: Vectors = serde_json::from_str(VECTORS).expect("v1.json parses");
    assert!(!vectors.valid.is_empty());
    // Both kinds of seal path are exercised.
    assert!(vectors.valid.iter().any(|v| v.context.is_some()));
    assert!(vectors.valid.iter().any(|v| v.context.is_none()));
    for v in &vectors.valid {
        let d = &v.description;
        let value = seal_vector(v, None, Chunking::ONE).unwrap_or_else(|e| panic!("{d}: {e}"));
        assert_eq!(value, v.value, "{d}");
    }
}

/// Each chunked vector is sealed under its own maximum cookie size with
/// chunking allowing exactly its number of chunks and its total size, and
/// cut into exactly its chunks; one chunk or one byte less is refused
/// before sealing.
#[test]
fn seal_path_reproduces_every_chunked_vector() {
    let vectors: Vectors = serde_json::from_str(VECTORS).expect("v1.json parses");
    assert!(vectors.chunked.len() >= 2);
    for c in &vectors.chunked {
        let v = &c.valid;
        let d = &v.description;
        let n = c.chunks.len();
        let total: usize = c.chunks.iter().map(|k| k.name.len() + k.value.len()).sum();
        let exact = Chunking {
            max_chunks: n,
            budget: total,
        };
        let value =
            seal_vector(v, Some(c.max_cookie_size), exact).unwrap_or_else(|e| panic!("{d}: {e}"));
        assert_eq!(value, v.value, "{d}");
        // Without chunking it does not fit, as the vector says.
        assert!(matches!(
            seal_vector(v, Some(c.max_cookie_size), Chunking::ONE),
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
                seal_vector(v, Some(c.max_cookie_size), fewer),
                Err(Error::TooLarge { .. })
            ),
            "{d}"
        );
        let tight = Chunking {
            max_chunks: n,
            budget: total - 1,
        };
        assert_eq!(
            seal_vector(v, Some(c.max_cookie_size), tight),
            Err(Error::TooLarge {
                size: total,
                limit: total - 1
            }),
            "{d}"
        );
    }
}
