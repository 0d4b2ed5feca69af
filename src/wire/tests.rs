use super::*;

#[test]
fn associated_data_layout() {
    let header = Header {
        algorithm: Algorithm::XAes256Gcm,
        key_id: KeyId([1, 2, 3, 4]),
    };
    // A buffer full of junk: what is returned is exactly what was
    // written.
    let mut buf = [0xEEu8; MAX_AD_LEN];
    let sid = CookieName::new("sid".into()).unwrap();
    let plain = associated_data(&mut buf, header, &sid, None);
    assert_eq!(plain, b"\x01\x01\x01\x02\x03\x04sid");

    let binding = Binding::new(b"ctx");
    let bound = associated_data(&mut buf, header, &sid, Some(&binding));
    let digest: [u8; 32] = Sha256::digest(b"ctx").into();
    let mut expected = b"\x01\x01\x01\x02\x03\x04sid\x00".to_vec();
    expected.extend_from_slice(&digest);
    assert_eq!(bound, expected.as_slice());

    let longest = CookieName::new("n".repeat(MAX_NAME_LEN)).unwrap();
    let ad = associated_data(&mut buf, header, &longest, Some(&binding));
    assert_eq!(ad.len(), HEADER_LEN + MAX_NAME_LEN + 1 + 32);
    assert_eq!(
        ad.len(),
        MAX_AD_LEN,
        "the longest name with a binding fills the buffer"
    );
    assert_eq!(
        CookieName::new("n".repeat(MAX_NAME_LEN + 1)),
        Err(ConfigError::InvalidCookieName {
            reason: "it is longer than 256 bytes"
        })
    );
    assert_eq!(format!("{binding:?}"), "Binding(..)");
}

#[test]
fn encoded_len_matches_the_encoder() {
    for n in 0..200 {
        let bytes = vec![0xA5; n];
        assert_eq!(encoded_len(n), Some(encode(&bytes).len()), "n = {n}");
    }
    assert_eq!(encoded_len(usize::MAX), None);
}

#[test]
fn max_decoded_len_is_the_inverse_of_encoded_len() {
    for chars in 0..400 {
        let n = max_decoded_len(chars);
        assert!(
            encoded_len(n).is_some_and(|e| e <= chars),
            "chars = {chars}"
        );
        assert!(
            encoded_len(n + 1).is_some_and(|e| e > chars),
            "chars = {chars}"
        );
    }
}

#[test]
fn decode_is_strict() {
    assert_eq!(decode("AAEC").map(|v| v.to_vec()), Ok(vec![0, 1, 2]));
    for bad in ["AAE=", "AA+C", "AA/C", "AA C", "AAEC\n", "A", "AAF"] {
        assert_eq!(
            decode(bad).map(|v| v.to_vec()),
            Err(Malformed::Encoding),
            "{bad:?}"
        );
    }
    // "AAE" is [0, 1]; "AAF" differs only in trailing bits that must be zero.
    assert_eq!(decode("AAE").map(|v| v.to_vec()), Ok(vec![0, 1]));
}
