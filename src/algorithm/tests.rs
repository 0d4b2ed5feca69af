//! The two AEADs, as this crate keys and calls them, against their published
//! test vectors: C2SP's XAES-256-GCM vectors (the two fixed ones and the
//! 10 000-iteration accumulated one) and draft-irtf-cfrg-xchacha-03 A.3.1.

use sha3::Shake128;
use sha3::digest::{ExtendableOutput, Update, XofReader};

use super::*;

/// Keys for one algorithm (the other one gets an unrelated key).
fn keys(algorithm: Algorithm, key: &[u8; KEY_LEN]) -> AeadKeys {
    match algorithm {
        Algorithm::XAes256Gcm => AeadKeys::new(key, &[0x77; KEY_LEN]),
        Algorithm::XChaCha20Poly1305 => AeadKeys::new(&[0x77; KEY_LEN], key),
    }
}

/// Seals `message` and returns ciphertext | tag, after checking that it
/// opens again and that a flipped bit does not.
fn seal(
    algorithm: Algorithm,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    ad: &[u8],
    message: &[u8],
) -> Vec<u8> {
    let keys = keys(algorithm, key);
    let mut buffer = message.to_vec();
    let tag = keys
        .encrypt(algorithm, nonce, ad, &mut buffer)
        .expect("encrypts");
    let sealed = [buffer.as_slice(), &tag].concat();
    keys.decrypt(algorithm, nonce, ad, &mut buffer, &tag)
        .expect("opens");
    assert_eq!(buffer, message);
    let mut bad_tag = tag;
    bad_tag[0] ^= 1;
    assert!(
        keys.decrypt(
            algorithm,
            nonce,
            ad,
            &mut sealed[..message.len()].to_vec(),
            &bad_tag
        )
        .is_err()
    );
    sealed
}

#[test]
fn xaes_256_gcm_matches_the_c2sp_vectors() {
    let nonce = b"ABCDEFGHIJKLMNOPQRSTUVWX";
    let sealed = seal(
        Algorithm::XAes256Gcm,
        &[0x01; 32],
        nonce,
        b"",
        b"XAES-256-GCM",
    );
    assert_eq!(
        hex::encode(sealed),
        "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271"
    );
    let sealed = seal(
        Algorithm::XAes256Gcm,
        &[0x03; 32],
        nonce,
        b"c2sp.org/XAES-256-GCM",
        b"XAES-256-GCM",
    );
    assert_eq!(
        hex::encode(sealed),
        "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d"
    );
}

/// C2SP's accumulated vector: 10 000 random keys, nonces, messages and
/// associated data drawn from SHAKE-128, every ciphertext and tag absorbed
/// into another SHAKE-128.
#[test]
fn xaes_256_gcm_matches_the_c2sp_accumulated_vector() {
    let mut source = Shake128::default().finalize_xof();
    let mut digest = Shake128::default();
    for _ in 0..10_000 {
        let mut key = [0u8; 32];
        source.read(&mut key);
        let mut nonce = [0u8; 24];
        source.read(&mut nonce);
        let mut len = [0u8; 1];
        source.read(&mut len);
        let mut message = vec![0u8; usize::from(len[0])];
        source.read(&mut message);
        source.read(&mut len);
        let mut ad = vec![0u8; usize::from(len[0])];
        source.read(&mut ad);
        digest.update(&seal(Algorithm::XAes256Gcm, &key, &nonce, &ad, &message));
    }
    let mut out = [0u8; 32];
    digest.finalize_xof().read(&mut out);
    assert_eq!(
        hex::encode(out),
        "e6b9edf2df6cec60c8cbd864e2211b597fb69a529160cd040d56c0c210081939"
    );
}

#[test]
fn xchacha20_poly1305_matches_the_draft_vector() {
    let key: [u8; 32] = core::array::from_fn(|i| 0x80 + u8::try_from(i).expect("small"));
    let nonce: [u8; 24] = core::array::from_fn(|i| 0x40 + u8::try_from(i).expect("small"));
    let ad = hex::decode("50515253c0c1c2c3c4c5c6c7").expect("hex");
    let message = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip \
                    for the future, sunscreen would be it.";
    let sealed = seal(Algorithm::XChaCha20Poly1305, &key, &nonce, &ad, message);
    assert_eq!(
        hex::encode(sealed),
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb\
         731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452\
         2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9\
         21f9664c97637da9768812f615c68b13b52ec0875924c1c7987947deafd8780acf49"
    );
}
