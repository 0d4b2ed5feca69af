//! Unit tests of the secret checks and the derivation.

use super::*;

#[test]
fn distinct_bytes_counts_values() {
    assert_eq!(distinct_bytes(b""), 0);
    assert_eq!(distinct_bytes(b"aaaa"), 1);
    assert_eq!(distinct_bytes(b"abcabc"), 3);
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(distinct_bytes(&all), 256);
}

#[test]
fn smallest_period_finds_the_shortest_repeat() {
    assert_eq!(smallest_period(b"aaaaaaaa"), 1);
    assert_eq!(smallest_period(b"abababab"), 2);
    assert_eq!(smallest_period(b"abcabcab"), 3, "a partial last repeat");
    assert_eq!(smallest_period(b"abcdefgh"), 8, "no repeat: the length");
    assert_eq!(smallest_period(b"abcdabce"), 8);
    assert_eq!(smallest_period(b""), 0);
}

fn weak(secret: &[u8]) -> Option<&'static str> {
    match check_secret(0, secret) {
        Err(ConfigError::WeakSecret { index: 0, reason }) => Some(reason),
        Err(other) => panic!("unexpected {other:?}"),
        Ok(()) => None,
    }
}

#[test]
fn weak_secrets_are_refused_and_random_ones_pass() {
    assert_eq!(
        weak(&[b'x'; 32]),
        Some("it has fewer than 8 distinct bytes")
    );
    assert_eq!(
        weak(b"0123456701234567012345670123456701"),
        Some("it repeats a pattern of 8 bytes or fewer")
    );
    assert_eq!(
        weak(b"an example secret that is 32+ bytes long"),
        Some("it is an example from the documentation")
    );
    for documented in DOCUMENTED_SECRETS {
        assert!(weak(documented.as_bytes()).is_some(), "{documented}");
    }
    // A pattern of 9 bytes is not refused by the period rule (it has 9
    // distinct bytes), nor is a decimal or hex string.
    assert_eq!(weak(b"012345678012345678012345678012345678"), None);
    assert_eq!(weak(b"31415926535897932384626433832795028"), None);
    assert_eq!(
        weak(b"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        None
    );
    for _ in 0..1000 {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).expect("randomness");
        assert_eq!(weak(&random), None, "{random:?}");
    }
}

#[test]
fn the_app_label_separates_keys_and_ids() {
    let keyring =
        Keyring::from_bytes([b"keyring unit test secret, 32 bytes or more"]).expect("valid secret");
    let plain = keyring.keys("").expect("derives");
    let shop = keyring.keys("shop").expect("derives");
    let again = keyring.keys("shop").expect("derives");
    assert_ne!(plain.current().id, shop.current().id);
    assert_eq!(shop.current().id, again.current().id);
}
