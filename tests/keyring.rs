//! Integration tests for `Keyring`: secret validation, the `base64:` form,
//! raw bytes, generated secrets, the documented key schedule and redacted
//! `Debug` output.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hkdf::Hkdf;
use sealed_session::{
    BASE64_SECRET_PREFIX, Codec, ConfigError, Error, KeyId, Keyring, MIN_SECRET_LEN,
};
use sha2::Sha256;

const SECRET_A: &str = "keyring test secret A, comfortably over 32 bytes";
const SECRET_B: &str = "keyring test secret B, comfortably over 32 bytes";
const SECRET_C: &str = "keyring test secret C, comfortably over 32 bytes";

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn config_err(result: Result<Keyring, Error>) -> ConfigError {
    match result {
        Err(Error::Config(c)) => c,
        Err(other) => panic!("expected a configuration error, got {other:?}"),
        Ok(k) => panic!("expected a configuration error, got a keyring {k:?}"),
    }
}

fn first_id(keyring: &Keyring) -> KeyId {
    keyring.key_ids().next().expect("a keyring has a key")
}

/// The key schedule as `src/keyring.rs` documents it, computed independently.
fn documented_schedule(secret: &[u8]) -> ([u8; 4], [u8; 32], [u8; 32]) {
    let hkdf = Hkdf::<Sha256>::new(Some(b"sealed-session v1"), secret);
    let mut id = [0u8; 4];
    let mut xaes = [0u8; 32];
    let mut xchacha = [0u8; 32];
    hkdf.expand(b"sealed-session v1 key id", &mut id)
        .expect("4 bytes");
    hkdf.expand(b"sealed-session v1 key xaes256gcm", &mut xaes)
        .expect("32 bytes");
    hkdf.expand(b"sealed-session v1 key xchacha20poly1305", &mut xchacha)
        .expect("32 bytes");
    (id, xaes, xchacha)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn an_empty_list_is_rejected() {
    assert_eq!(
        config_err(Keyring::new(Vec::<&str>::new())),
        ConfigError::NoSecrets
    );
    assert_eq!(
        config_err(Keyring::from_bytes(Vec::<Vec<u8>>::new())),
        ConfigError::NoSecrets
    );
}

#[test]
fn short_secrets_are_rejected_with_their_index_and_length() {
    let short = "x".repeat(31);
    assert_eq!(
        config_err(Keyring::new([short.as_str()])),
        ConfigError::SecretTooShort { index: 0, len: 31 }
    );
    assert_eq!(
        config_err(Keyring::new([SECRET_A, SECRET_B, short.as_str()])),
        ConfigError::SecretTooShort { index: 2, len: 31 }
    );
    assert_eq!(
        config_err(Keyring::new([SECRET_A, "", SECRET_B])),
        ConfigError::SecretTooShort { index: 1, len: 0 }
    );
    // Lengths are in bytes, not characters: 15 two-byte characters and one
    // ASCII byte are 31 bytes.
    let multibyte_short = format!("{}a", "é".repeat(15));
    assert_eq!(multibyte_short.chars().count(), 16);
    assert_eq!(
        config_err(Keyring::new([multibyte_short.as_str()])),
        ConfigError::SecretTooShort { index: 0, len: 31 }
    );
    let multibyte_ok = "é".repeat(16);
    assert_eq!(multibyte_ok.len(), 32);
    Keyring::new([multibyte_ok.as_str()]).expect("32 bytes in 16 characters are enough");
    // The first problem in list order is the one reported.
    assert_eq!(
        config_err(Keyring::new(["short", short.as_str()])),
        ConfigError::SecretTooShort { index: 0, len: 5 }
    );
}

#[test]
fn exactly_min_secret_len_bytes_is_enough() {
    assert_eq!(MIN_SECRET_LEN, 32);
    let exact = "y".repeat(MIN_SECRET_LEN);
    let keyring = Keyring::new([exact.as_str()]).expect("32 bytes are enough");
    assert_eq!(keyring.len(), 1);
    assert!(!keyring.is_empty());
    let keyring = Keyring::from_bytes([[7u8; 32]]).expect("32 raw bytes are enough");
    assert_eq!(keyring.len(), 1);
    assert_eq!(
        config_err(Keyring::from_bytes([vec![7u8; 31]])),
        ConfigError::SecretTooShort { index: 0, len: 31 }
    );
}

#[test]
fn duplicate_secrets_are_rejected_with_both_positions() {
    assert_eq!(
        config_err(Keyring::new([SECRET_A, SECRET_A])),
        ConfigError::DuplicateKeyId {
            index: 1,
            earlier: 0
        }
    );
    assert_eq!(
        config_err(Keyring::new([SECRET_A, SECRET_B, SECRET_A])),
        ConfigError::DuplicateKeyId {
            index: 2,
            earlier: 0
        }
    );
    assert_eq!(
        config_err(Keyring::new([SECRET_A, SECRET_B, SECRET_B])),
        ConfigError::DuplicateKeyId {
            index: 2,
            earlier: 1
        }
    );
    assert_eq!(
        config_err(Keyring::from_bytes([
            SECRET_C.as_bytes(),
            SECRET_C.as_bytes()
        ])),
        ConfigError::DuplicateKeyId {
            index: 1,
            earlier: 0
        }
    );
}

#[test]
fn a_text_secret_and_its_base64_form_are_the_same_secret() {
    // 49 bytes, so that standard base64 pads.
    const TEXT: &str = "keyring test secret T, comfortably over 32 bytes!";
    assert_eq!(TEXT.len() % 3, 1);
    let padded = format!("{BASE64_SECRET_PREFIX}{}", STANDARD.encode(TEXT));
    let unpadded = format!("{BASE64_SECRET_PREFIX}{}", STANDARD_NO_PAD.encode(TEXT));
    assert_ne!(padded, unpadded, "the test needs a length that pads");

    let text = Keyring::new([TEXT]).expect("valid");
    let from_padded = Keyring::new([padded.as_str()]).expect("valid");
    let from_unpadded = Keyring::new([unpadded.as_str()]).expect("padding is optional");
    assert_eq!(first_id(&text), first_id(&from_padded));
    assert_eq!(first_id(&text), first_id(&from_unpadded));

    assert_eq!(
        config_err(Keyring::new([TEXT, padded.as_str()])),
        ConfigError::DuplicateKeyId {
            index: 1,
            earlier: 0
        }
    );
    assert_eq!(
        config_err(Keyring::new([unpadded.as_str(), SECRET_B, TEXT])),
        ConfigError::DuplicateKeyId {
            index: 2,
            earlier: 0
        }
    );

    // Not only the id: the derived keys are the same, so a cookie sealed under
    // one form opens under the other.
    let cookie = Codec::new(text).seal_at(&42u32, t0()).expect("seals");
    let opened = Codec::new(from_unpadded)
        .open_at::<u32>(&cookie, t0())
        .expect("opens under the base64 form of the same secret");
    assert_eq!(*opened.value(), 42);
}

#[test]
fn invalid_base64_secrets_are_rejected_with_their_index() {
    let valid = format!("base64:{}", STANDARD.encode([9u8; 32]));
    let mut url_safe_bytes = [0u8; 33];
    url_safe_bytes[0] = 0xfb; // encodes to "+" in the standard alphabet
    url_safe_bytes[1] = 0xff;
    let standard = STANDARD.encode(url_safe_bytes);
    assert!(standard.contains('+') || standard.contains('/'));
    let url_safe = format!("base64:{}", standard.replace('+', "-").replace('/', "_"));

    // "AB" alone decodes to one byte whose trailing bits are zero; "AF" sets
    // trailing bits, which a canonical decoder refuses.
    let canonical = format!("base64:{}AA", STANDARD.encode([1u8; 33]));
    let non_canonical = format!("base64:{}AF", STANDARD.encode([1u8; 33]));
    Keyring::new([canonical.as_str()]).expect("canonical trailing bits are accepted");

    let bad = [
        "base64:this is not base64 at all, not even close!!".to_string(),
        format!("base64:{}", "%".repeat(48)),
        url_safe,
        non_canonical,
        format!("base64: {}", STANDARD.encode([9u8; 32])),
        format!("base64:{}\n", STANDARD.encode([9u8; 32])),
        format!("base64:{}=", STANDARD.encode([9u8; 32])),
    ];
    for (i, secret) in bad.iter().enumerate() {
        assert_eq!(
            config_err(Keyring::new([secret.as_str()])),
            ConfigError::InvalidBase64Secret { index: 0 },
            "bad secret #{i}: {secret:?}"
        );
        assert_eq!(
            config_err(Keyring::new([
                SECRET_A,
                valid.as_str(),
                SECRET_B,
                secret.as_str()
            ])),
            ConfigError::InvalidBase64Secret { index: 3 },
            "bad secret #{i} at index 3: {secret:?}"
        );
    }
}

#[test]
fn base64_secrets_are_measured_after_decoding() {
    let thirty_one = format!("base64:{}", STANDARD.encode([5u8; 31]));
    assert!(
        thirty_one.len() > 32,
        "the text is long, the key material is not"
    );
    assert_eq!(
        config_err(Keyring::new([SECRET_A, thirty_one.as_str()])),
        ConfigError::SecretTooShort { index: 1, len: 31 }
    );
    assert_eq!(
        config_err(Keyring::new(["base64:"])),
        ConfigError::SecretTooShort { index: 0, len: 0 }
    );
    let thirty_two = format!("base64:{}", STANDARD.encode([5u8; 32]));
    Keyring::new([thirty_two.as_str()]).expect("32 decoded bytes are enough");
}

#[test]
fn from_bytes_never_interprets_the_prefix() {
    let raw = [0x5au8; 32];
    let encoded = format!("base64:{}", STANDARD.encode(raw));

    // The same key material, given as raw bytes and as a base64 text secret.
    let from_raw = Keyring::from_bytes([raw]).expect("valid");
    let from_text = Keyring::new([encoded.as_str()]).expect("valid");
    assert_eq!(first_id(&from_raw), first_id(&from_text));

    // The text "base64:..." given as bytes is its own (51-byte) secret.
    let literal = Keyring::from_bytes([encoded.as_bytes()]).expect("51 bytes of key material");
    assert_ne!(first_id(&literal), first_id(&from_text));
    let (literal_id, _, _) = documented_schedule(encoded.as_bytes());
    assert_eq!(first_id(&literal).to_bytes(), literal_id);

    // Invalid base64 after the prefix is fine as raw bytes.
    let not_base64 = format!("base64:{}", "!".repeat(40));
    Keyring::from_bytes([not_base64.as_bytes()]).expect("raw bytes are not decoded");
    assert_eq!(
        config_err(Keyring::new([not_base64.as_str()])),
        ConfigError::InvalidBase64Secret { index: 0 }
    );

    // A short "base64:" byte string is measured as bytes.
    assert_eq!(
        config_err(Keyring::from_bytes([b"base64:AAAA".as_slice()])),
        ConfigError::SecretTooShort { index: 0, len: 11 }
    );

    // Arbitrary bytes, not UTF-8, are fine.
    let binary: Vec<u8> = (0u8..=255).rev().take(40).collect();
    assert!(std::str::from_utf8(&binary).is_err());
    Keyring::from_bytes([binary]).expect("any bytes are key material");
}

#[test]
fn config_error_messages_name_the_entry() {
    let short = "z".repeat(20);
    let msg = Keyring::new([SECRET_A, SECRET_B, SECRET_C, short.as_str()])
        .expect_err("too short")
        .to_string();
    assert!(msg.contains("secret #3"), "{msg}");
    assert!(msg.contains("20 bytes"), "{msg}");
    assert!(msg.contains("32"), "{msg}");
    assert!(msg.contains("generate_secret"), "{msg}");

    let msg = Keyring::new([SECRET_A, "base64:@@@@"])
        .expect_err("bad base64")
        .to_string();
    assert!(msg.contains("secret #1"), "{msg}");
    assert!(msg.contains("base64"), "{msg}");

    let msg = Keyring::new([SECRET_B, SECRET_A, SECRET_C, SECRET_A])
        .expect_err("duplicate")
        .to_string();
    assert!(msg.contains("secret #3"), "{msg}");
    assert!(msg.contains("secret #1"), "{msg}");

    let msg = Keyring::new(Vec::<String>::new())
        .expect_err("empty")
        .to_string();
    assert!(msg.contains("no secrets"), "{msg}");

    // Messages never repeat the secret itself.
    let msg = Keyring::new([SECRET_A, SECRET_A])
        .expect_err("duplicate")
        .to_string();
    assert!(!msg.contains(SECRET_A), "{msg}");
}

#[test]
fn generated_secrets_are_51_chars_of_fresh_base64_and_usable() {
    let one = Keyring::generate_secret().expect("the OS has randomness");
    let two = Keyring::generate_secret().expect("the OS has randomness");
    assert_eq!(one.len(), 51);
    assert_eq!(two.len(), 51);
    assert!(one.starts_with("base64:"), "{}", one.as_str());
    assert_ne!(one.as_str(), two.as_str());

    let decoded = STANDARD
        .decode(&one["base64:".len()..])
        .expect("standard padded base64");
    assert_eq!(decoded.len(), 32);
    assert!(
        decoded.iter().any(|&b| b != 0),
        "32 zero bytes from a CSPRNG"
    );

    let keyring = Keyring::new([one.as_str(), two.as_str()]).expect("usable as secrets");
    assert_eq!(keyring.len(), 2);
    let from_raw = Keyring::from_bytes([&decoded]).expect("valid");
    assert_eq!(first_id(&keyring), first_id(&from_raw));
}

#[test]
fn key_ids_follow_the_documented_schedule_and_order() {
    let keyring = Keyring::new([SECRET_C, SECRET_A, SECRET_B]).expect("valid");
    let ids: Vec<KeyId> = keyring.key_ids().collect();
    assert_eq!(keyring.key_ids().len(), 3);
    assert_eq!(keyring.len(), 3);
    let expected: Vec<[u8; 4]> = [SECRET_C, SECRET_A, SECRET_B]
        .iter()
        .map(|s| documented_schedule(s.as_bytes()).0)
        .collect();
    let actual: Vec<[u8; 4]> = ids.iter().map(|id| id.to_bytes()).collect();
    assert_eq!(actual, expected);

    // Each id is the id of that secret alone: order does not change ids.
    for (secret, id) in [SECRET_C, SECRET_A, SECRET_B].iter().zip(&ids) {
        assert_eq!(first_id(&Keyring::new([*secret]).expect("valid")), *id);
    }

    // Display is 8 lowercase hex digits of the bytes; Debug wraps it.
    let id = ids[0];
    let shown = id.to_string();
    assert_eq!(shown, hex(&id.to_bytes()));
    assert_eq!(shown.len(), 8);
    assert!(
        shown
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
    assert_eq!(format!("{id:?}"), format!("KeyId({shown})"));

    // Clones share the same keys.
    let clone = keyring.clone();
    assert_eq!(clone.key_ids().collect::<Vec<_>>(), ids);
}

/// Every way the key material could be rendered by a careless `Debug`.
fn renderings(bytes: &[u8]) -> Vec<String> {
    let decimal_list = format!("{bytes:?}");
    let decimal_compact = decimal_list.replace(' ', "");
    let upper_hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    vec![
        hex(bytes),
        upper_hex,
        decimal_list,
        decimal_compact,
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        // A prefix of the hex is already a leak.
        hex(&bytes[..8]),
    ]
}

#[test]
fn debug_output_shows_key_ids_and_never_key_material() {
    let raw_b = [0xC3u8; 40];
    let text_secret = SECRET_A;
    let keyring = Keyring::from_bytes([text_secret.as_bytes(), raw_b.as_slice()]).expect("valid");
    let codec = Codec::builder(keyring.clone())
        .cookie_name("sid")
        .build()
        .expect("valid");
    let builder = Codec::builder(keyring.clone()).cookie_name("sid");

    let outputs = [
        ("Keyring", format!("{keyring:?}")),
        ("Keyring (alternate)", format!("{keyring:#?}")),
        ("Codec", format!("{codec:?}")),
        ("Codec (alternate)", format!("{codec:#?}")),
        ("CodecBuilder", format!("{builder:?}")),
    ];

    let mut forbidden: Vec<String> = vec![text_secret.to_string(), text_secret[..16].to_string()];
    forbidden.extend(renderings(text_secret.as_bytes()));
    forbidden.extend(renderings(&raw_b));
    for secret in [text_secret.as_bytes(), raw_b.as_slice()] {
        let (_, xaes, xchacha) = documented_schedule(secret);
        forbidden.extend(renderings(&xaes));
        forbidden.extend(renderings(&xchacha));
    }

    let ids: Vec<String> = keyring.key_ids().map(|id| id.to_string()).collect();
    for (what, out) in &outputs {
        for id in &ids {
            assert!(
                out.contains(id.as_str()),
                "{what} Debug lacks key id {id}: {out}"
            );
        }
        for f in &forbidden {
            assert!(!out.contains(f.as_str()), "{what} Debug leaks {f:?}: {out}");
        }
    }
    assert!(outputs[2].1.contains("sid"), "{}", outputs[2].1);
}
