//! Integration tests for `Keyring`: secret validation (length, variety,
//! documented examples), the `base64:` form, raw bytes, generated secrets,
//! the documented key schedule with and without an application label, and
//! redacted `Debug` output.

use std::collections::HashSet;
use std::time::UNIX_EPOCH;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use sealed_session::limits::{BASE64_SECRET_PREFIX, MIN_SECRET_LEN};
use sealed_session::{Algorithm, Codec, ConfigError, Error, KeyId, Keyring};

#[path = "support/common.rs"]
mod common;
#[path = "support/reference.rs"]
mod reference;

use common::t0;

const SECRET_A: &str = "keyring test secret A, comfortably over 32 bytes";
const SECRET_B: &str = "keyring test secret B, comfortably over 32 bytes";
const SECRET_C: &str = "keyring test secret C, comfortably over 32 bytes";

fn config_err(result: Result<Keyring, ConfigError>) -> ConfigError {
    match result {
        Err(c) => c,
        Ok(k) => panic!("expected a configuration error, got a keyring {k:?}"),
    }
}

/// `SecretTooShort` for the secret at `index` of `len` bytes.
fn too_short(index: usize, len: usize) -> ConfigError {
    ConfigError::SecretTooShort {
        index,
        len,
        min: MIN_SECRET_LEN,
    }
}

/// The key ids of the keyring's secrets under the empty application label
/// (what `Codec::new` uses), in order.
fn ids(keyring: &Keyring) -> Vec<[u8; 4]> {
    common::key_ids(&Codec::new(keyring.clone()))
}

/// The key id new cookies are sealed under, with the empty label: the one
/// a cookie sealed by the keyring's codec reports when opened (and the
/// first its `Debug` lists).
fn first_id(keyring: &Keyring) -> KeyId {
    let codec = Codec::builder(keyring.clone())
        .clock(common::clock())
        .build()
        .expect("valid");
    let opened = codec
        .open::<()>(&codec.seal(&()).expect("seals"))
        .expect("opens");
    assert!(!opened.sealed_with_old_secret());
    let id = opened.key_id();
    assert_eq!(id.to_bytes(), ids(keyring)[0], "the first secret seals");
    id
}

/// `len` distinct bytes (`len` at most 256), different for each `seed`: a
/// raw secret with the variety every secret needs.
fn varied(len: usize, seed: u8) -> Vec<u8> {
    // An odd multiplier permutes the bytes.
    (0..len)
        .map(|i| (i as u8).wrapping_mul(seed | 1).wrapping_add(seed))
        .collect()
}

/// The key schedule as the README documents it, computed independently by
/// `tests/support/reference.rs`, for raw key material: the reference takes
/// a secret as configured, so the bytes are handed to it in the `base64:`
/// form, which names exactly these bytes.
///
/// ```text
/// PRK     = HKDF-Extract(salt = "sealed-session v1", IKM = secret)
/// info(x) = "sealed-session v1 " | x | 0x00 | app label
/// key id  = HKDF-Expand(PRK, info("key id"), 4)
/// K_xaes  = HKDF-Expand(PRK, info("key xaes256gcm"), 32)
/// K_xcha  = HKDF-Expand(PRK, info("key xchacha20poly1305"), 32)
/// ```
fn documented_schedule(secret: &[u8], app_label: &str) -> reference::Keys {
    let configured = format!("{BASE64_SECRET_PREFIX}{}", STANDARD.encode(secret));
    assert_eq!(reference::secret_bytes(&configured), secret);
    reference::derive(&configured, app_label)
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
    // Also weak (one distinct byte): the length is reported first.
    let short = "x".repeat(31);
    assert_eq!(config_err(Keyring::new([short.as_str()])), too_short(0, 31));
    assert_eq!(
        config_err(Keyring::new([SECRET_A, SECRET_B, short.as_str()])),
        too_short(2, 31)
    );
    assert_eq!(
        config_err(Keyring::new([SECRET_A, "", SECRET_B])),
        too_short(1, 0)
    );
    // Lengths are in bytes, not characters: 15 two-byte characters and one
    // ASCII byte are 31 bytes.
    let multibyte_short = format!("{}a", "é".repeat(15));
    assert_eq!(multibyte_short.chars().count(), 16);
    assert_eq!(
        config_err(Keyring::new([multibyte_short.as_str()])),
        too_short(0, 31)
    );
    let multibyte_ok = "éèêëàâäôöûüçîïœæ";
    assert_eq!(multibyte_ok.chars().count(), 16);
    assert_eq!(multibyte_ok.len(), 32);
    Keyring::new([multibyte_ok]).expect("32 bytes in 16 characters are enough");
    // The first problem in list order is the one reported.
    assert_eq!(
        config_err(Keyring::new(["short", short.as_str()])),
        too_short(0, 5)
    );
}

#[test]
fn exactly_min_secret_len_bytes_is_enough() {
    assert_eq!(MIN_SECRET_LEN, 32);
    let exact = "exactly 32 bytes: keyring-test/1";
    assert_eq!(exact.len(), MIN_SECRET_LEN);
    let keyring = Keyring::new([exact]).expect("32 bytes are enough");
    assert_eq!(keyring.len(), 1);
    assert!(!keyring.is_empty());
    let keyring = Keyring::from_bytes([varied(32, 7)]).expect("32 raw bytes are enough");
    assert_eq!(keyring.len(), 1);
    assert_eq!(
        config_err(Keyring::from_bytes([varied(31, 7)])),
        too_short(0, 31)
    );
    assert_eq!(
        config_err(Keyring::new([&exact[..31]])),
        ConfigError::SecretTooShort {
            index: 0,
            len: 31,
            min: 32
        }
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
    let clock = common::clock();
    let on_clock = |keyring: Keyring| {
        Codec::builder(keyring)
            .clock(clock.clone())
            .build()
            .expect("valid")
    };
    let cookie = on_clock(text).seal(&42u32).expect("seals");
    let opened = on_clock(from_unpadded)
        .open::<u32>(&cookie)
        .expect("opens under the base64 form of the same secret");
    assert_eq!(*opened.value(), 42);
}

#[test]
fn invalid_base64_secrets_are_rejected_with_their_index() {
    let valid = format!("base64:{}", STANDARD.encode(varied(32, 9)));
    let mut url_safe_bytes = [0u8; 33];
    url_safe_bytes[0] = 0xfb; // encodes to "+" in the standard alphabet
    url_safe_bytes[1] = 0xff;
    let standard = STANDARD.encode(url_safe_bytes);
    assert!(standard.contains('+') || standard.contains('/'));
    let url_safe = format!("base64:{}", standard.replace('+', "-").replace('/', "_"));

    // "AB" alone decodes to one byte whose trailing bits are zero; "AF" sets
    // trailing bits, which a canonical decoder refuses.
    let canonical = format!("base64:{}AA", STANDARD.encode(varied(33, 1)));
    let non_canonical = format!("base64:{}AF", STANDARD.encode(varied(33, 1)));
    Keyring::new([canonical.as_str()]).expect("canonical trailing bits are accepted");

    let bad = [
        "base64:this is not base64 at all, not even close!!".to_string(),
        format!("base64:{}", "%".repeat(48)),
        url_safe,
        non_canonical,
        format!("base64: {}", STANDARD.encode(varied(32, 9))),
        format!("base64:{}\n", STANDARD.encode(varied(32, 9))),
        format!("base64:{}=", STANDARD.encode(varied(32, 9))),
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
    let thirty_one = format!("base64:{}", STANDARD.encode(varied(31, 5)));
    assert!(
        thirty_one.len() > 32,
        "the text is long, the key material is not"
    );
    assert_eq!(
        config_err(Keyring::new([SECRET_A, thirty_one.as_str()])),
        too_short(1, 31)
    );
    assert_eq!(config_err(Keyring::new(["base64:"])), too_short(0, 0));
    let thirty_two = format!("base64:{}", STANDARD.encode(varied(32, 5)));
    Keyring::new([thirty_two.as_str()]).expect("32 decoded bytes are enough");
}

#[test]
fn from_bytes_never_interprets_the_prefix() {
    let raw = varied(32, 0x5a);
    let encoded = format!("base64:{}", STANDARD.encode(&raw));

    // The same key material, given as raw bytes and as a base64 text secret.
    let from_raw = Keyring::from_bytes([&raw]).expect("valid");
    let from_text = Keyring::new([encoded.as_str()]).expect("valid");
    assert_eq!(first_id(&from_raw), first_id(&from_text));

    // The text "base64:..." given as bytes is its own (51-byte) secret.
    let literal = Keyring::from_bytes([encoded.as_bytes()]).expect("51 bytes of key material");
    assert_ne!(first_id(&literal), first_id(&from_text));
    let literal_id = documented_schedule(encoded.as_bytes(), "").id;
    assert_eq!(first_id(&literal).to_bytes(), literal_id);
    assert_eq!(
        first_id(&from_text).to_bytes(),
        documented_schedule(&raw, "").id
    );

    // Invalid base64 after the prefix is fine as raw bytes.
    let not_base64 = "base64:not*base64, but fine as 40 raw bytes".to_string();
    Keyring::from_bytes([not_base64.as_bytes()]).expect("raw bytes are not decoded");
    assert_eq!(
        config_err(Keyring::new([not_base64.as_str()])),
        ConfigError::InvalidBase64Secret { index: 0 }
    );

    // A short "base64:" byte string is measured as bytes.
    assert_eq!(
        config_err(Keyring::from_bytes([b"base64:AAAA".as_slice()])),
        too_short(0, 11)
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
    let ids = ids(&keyring);
    assert_eq!(ids.len(), 3);
    assert_eq!(keyring.len(), 3);
    let expected: Vec<[u8; 4]> = [SECRET_C, SECRET_A, SECRET_B]
        .iter()
        .map(|s| documented_schedule(s.as_bytes(), "").id)
        .collect();
    assert_eq!(ids, expected);
    // A text secret is its UTF-8 bytes.
    assert_eq!(reference::derive(SECRET_C, "").id, expected[0]);

    // Each id is the id of that secret alone: order does not change ids.
    for (secret, id) in [SECRET_C, SECRET_A, SECRET_B].iter().zip(&ids) {
        assert_eq!(
            first_id(&Keyring::new([*secret]).expect("valid")).to_bytes(),
            *id
        );
    }

    // Display is 8 lowercase hex digits of the bytes; Debug wraps it.
    let id = first_id(&keyring);
    assert_eq!(id.to_bytes(), ids[0]);
    let shown = id.to_string();
    assert_eq!(shown, hex(&id.to_bytes()));
    assert_eq!(shown.len(), 8);
    assert!(
        shown
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
    assert_eq!(format!("{id:?}"), format!("KeyId({shown})"));

    // Clones share the same keys, and a codec built with the default
    // (empty) label has the ids of `Codec::new`.
    let clone = keyring.clone();
    assert_eq!(common::key_ids(&Codec::new(clone.clone())), ids);
    let clock = common::clock();
    let built = Codec::builder(clone)
        .clock(clock.clone())
        .build()
        .expect("valid");
    assert_eq!(common::key_ids(&built), ids);
    // And they seal and open each other's cookies.
    let original = Codec::builder(keyring).clock(clock).build().expect("valid");
    let cookie = built.seal(&7u8).expect("seals");
    let opened = original.open::<u8>(&cookie).expect("opens");
    assert_eq!((*opened.value(), opened.key_id()), (7, id));
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
    let raw_b = varied(40, 0xc3);
    let text_secret = SECRET_A;
    let keyring = Keyring::from_bytes([text_secret.as_bytes(), raw_b.as_slice()]).expect("valid");
    let codec = Codec::builder(keyring.clone())
        .cookie_name("sid")
        .build()
        .expect("valid");
    let labelled = Codec::builder(keyring.clone())
        .cookie_name("sid")
        .app_label("shop")
        .build()
        .expect("valid");
    let builder = Codec::builder(keyring.clone()).cookie_name("sid");

    // The keyring shows how many secrets it holds, nothing else: its key
    // ids depend on the codec's application label.
    assert_eq!(format!("{keyring:?}"), "Keyring { secrets: 2, .. }");
    assert_eq!(
        format!("{keyring:#?}"),
        "Keyring {\n    secrets: 2,\n    ..\n}"
    );

    let outputs = [
        ("Keyring", format!("{keyring:?}")),
        ("Keyring (alternate)", format!("{keyring:#?}")),
        ("Codec", format!("{codec:?}")),
        ("Codec (alternate)", format!("{codec:#?}")),
        ("Codec (labelled)", format!("{labelled:?}")),
        ("CodecBuilder", format!("{builder:?}")),
    ];

    let mut forbidden: Vec<String> = vec![text_secret.to_string(), text_secret[..16].to_string()];
    forbidden.extend(renderings(text_secret.as_bytes()));
    forbidden.extend(renderings(&raw_b));
    for secret in [text_secret.as_bytes(), raw_b.as_slice()] {
        for label in ["", "shop"] {
            let keys = documented_schedule(secret, label);
            forbidden.extend(renderings(&keys.xaes));
            forbidden.extend(renderings(&keys.xchacha));
        }
    }
    for (what, out) in &outputs {
        for f in &forbidden {
            assert!(!out.contains(f.as_str()), "{what} Debug leaks {f:?}: {out}");
        }
    }

    // A codec shows the key ids it seals and opens with, under its label:
    // those of the documented schedule, the sealing one first.
    let expected_ids = |label: &str| -> Vec<String> {
        [text_secret.as_bytes(), raw_b.as_slice()]
            .iter()
            .map(|secret| hex(&documented_schedule(secret, label).id))
            .collect()
    };
    let unlabelled = expected_ids("");
    let shop = expected_ids("shop");
    assert_eq!(unlabelled.len(), 2);
    assert_eq!(shop.len(), 2);
    let clock = common::clock();
    for (built, label, ids) in [(&codec, "", &unlabelled), (&labelled, "shop", &shop)] {
        let on_clock = Codec::builder(keyring.clone())
            .cookie_name("sid")
            .app_label(label)
            .clock(clock.clone())
            .build()
            .expect("valid");
        // The same settings and keys; only the clock differs.
        let (shown, same) = (format!("{on_clock:?}"), format!("{built:?}"));
        assert!(shown.contains(", clock: ManualClock {"), "{shown}");
        assert!(same.ends_with(", clock: SystemClock }"), "{same}");
        assert_eq!(
            shown.split(", clock: ").next(),
            same.split(", clock: ").next()
        );
        let opened = on_clock
            .open::<u8>(&on_clock.seal(&1u8).expect("seals"))
            .expect("opens");
        assert_eq!(opened.key_id().to_string(), ids[0]);
    }
    let shows = |out: &str, ids: &[String]| ids.iter().all(|id| out.contains(id.as_str()));
    let shows_none = |out: &str, ids: &[String]| ids.iter().all(|id| !out.contains(id.as_str()));
    for (what, out) in &outputs {
        let (shown, hidden): (&[String], &[String]) = match *what {
            "Codec" | "Codec (alternate)" => (&unlabelled, &shop),
            "Codec (labelled)" => (&shop, &unlabelled),
            _ => (&[], &[]),
        };
        assert!(
            shows(out, shown),
            "{what} Debug lacks key ids {shown:?}: {out}"
        );
        assert!(
            shows_none(out, hidden),
            "{what} Debug shows {hidden:?}: {out}"
        );
        if shown.is_empty() {
            assert!(shows_none(out, &unlabelled), "{what}: {out}");
            assert!(shows_none(out, &shop), "{what}: {out}");
        }
    }
    assert!(outputs[2].1.contains("sid"), "{}", outputs[2].1);
    assert!(
        outputs[4].1.contains("app_label: \"shop\""),
        "{}",
        outputs[4].1
    );
    // The builder shows where its codec will read the time.
    assert!(
        outputs[5].1.contains("clock: SystemClock"),
        "{}",
        outputs[5].1
    );
}

// ---------------------------------------------------------------------------
// Weak secrets (issue 11)
// ---------------------------------------------------------------------------

/// The example secrets of this crate's documentation, current and earlier.
const DOCUMENTED: [&str; 5] = [
    "a secret of at least 32 bytes, from your vault",
    "an example secret that is 32+ bytes long",
    "a fresh secret of at least 32 bytes, newest first",
    "the previous secret, still accepted for opening..",
    "long enough secret of 32+ bytes!!",
];

const EXAMPLE: &str = "it is an example from the documentation";
const FEW_BYTES: &str = "it has fewer than 8 distinct bytes";
const PATTERN: &str = "it repeats a pattern of 8 bytes or fewer";

/// Checks that `secret` is refused as weak for `reason` in each of the
/// three ways of giving it (text, `base64:` text, raw bytes), at index 0
/// and behind a good secret at index 1, and that no message repeats it.
fn assert_weak(secret: &[u8], reason: &'static str) {
    let encoded = format!("{BASE64_SECRET_PREFIX}{}", STANDARD.encode(secret));
    let text = std::str::from_utf8(secret).ok();
    let mut attempts: Vec<(&str, usize, Result<Keyring, ConfigError>)> = vec![
        ("base64", 0, Keyring::new([encoded.as_str()])),
        ("base64", 1, Keyring::new([SECRET_A, encoded.as_str()])),
        ("bytes", 0, Keyring::from_bytes([secret])),
        (
            "bytes",
            1,
            Keyring::from_bytes([SECRET_A.as_bytes(), secret]),
        ),
    ];
    if let Some(text) = text {
        attempts.push(("text", 0, Keyring::new([text])));
        attempts.push(("text", 1, Keyring::new([SECRET_A, text])));
    }
    for (form, index, result) in attempts {
        let err = result.map(|_| ()).expect_err("a weak secret");
        assert_eq!(
            err,
            ConfigError::WeakSecret { index, reason },
            "{form} at {index}: {secret:?}"
        );
        let message = err.to_string();
        assert_eq!(
            message,
            format!(
                "secret #{index} is not a random secret: \
                 {reason} (generate one with Keyring::generate_secret)"
            )
        );
        // As an `Error` (what `?` makes of it), with the prefix.
        let as_error = Error::from(err).to_string();
        assert_eq!(
            as_error,
            format!("invalid session configuration: {message}")
        );
        let mut leaks = vec![encoded.clone(), STANDARD.encode(secret), hex(secret)];
        if let Some(text) = text {
            leaks.push(text.to_string());
            leaks.push(text[..16].to_string());
        }
        for leak in &leaks {
            assert!(!message.contains(leak.as_str()), "{message}");
            assert!(!as_error.contains(leak.as_str()), "{as_error}");
        }
    }
}

/// Guards the documented-example check (issue 11): the previous release
/// accepted every one of these, and anyone who copied one from the docs
/// shared their secret with every reader.
#[test]
fn documented_example_secrets_are_refused_in_every_form() {
    for secret in DOCUMENTED {
        assert!(secret.len() >= MIN_SECRET_LEN, "{secret}");
        assert_weak(secret.as_bytes(), EXAMPLE);
    }
    // The list is matched exactly: a secret that merely contains an example
    // is not refused for it.
    let longer = format!("{}, and more", DOCUMENTED[1]);
    Keyring::new([longer.as_str()]).expect("not an example");
}

/// Guards the variety checks (issue 11): the previous release accepted any
/// 32 bytes, `"x".repeat(32)` included. Also checks that they refuse no
/// generated secret.
#[test]
fn low_variety_secrets_are_refused() {
    // One repeated byte.
    assert_weak("x".repeat(32).as_bytes(), FEW_BYTES);
    assert_weak(&[7u8; 32], FEW_BYTES);
    assert_weak(&[0u8; 64], FEW_BYTES);
    // Two bytes alternating: too few distinct bytes is reported first.
    assert_weak("ab".repeat(16).as_bytes(), FEW_BYTES);
    // Seven distinct bytes, in no repeated pattern.
    let seven = b"abacabadabacabaeabacabafabacabag";
    assert_eq!(seven.len(), 32);
    assert_weak(seven, FEW_BYTES);
    // Short patterns with 8 distinct bytes, repeated over the whole secret,
    // also when the last repetition is cut off.
    assert_weak("abcdefgh".repeat(4).as_bytes(), PATTERN);
    assert_weak(format!("{}123", "12345678".repeat(5)).as_bytes(), PATTERN);
    assert_weak(&varied(8, 3).repeat(6), PATTERN);

    // Just past each limit: 8 distinct bytes in no pattern, a pattern of 9.
    let eight = b"abacabadabacabaeabacabafabacabagh";
    Keyring::new([std::str::from_utf8(eight).expect("ASCII")]).expect("8 distinct bytes");
    Keyring::from_bytes([eight]).expect("8 distinct bytes");
    let nine = "abcdefghi".repeat(4);
    Keyring::new([nine.as_str()]).expect("a pattern of 9 bytes");
    Keyring::from_bytes([varied(9, 3).repeat(4)]).expect("a pattern of 9 bytes");

    // And real secrets are never refused: a thousand generated ones pass,
    // as text and as bytes.
    let mut seen = HashSet::new();
    for _ in 0..1000 {
        let secret = Keyring::generate_secret().expect("the OS has randomness");
        let keyring = Keyring::new([secret.as_str()])
            .unwrap_or_else(|e| panic!("a generated secret was refused: {e}"));
        assert_eq!(keyring.len(), 1);
        assert!(seen.insert(secret.to_string()), "a repeated secret");
        let raw = STANDARD
            .decode(&secret[BASE64_SECRET_PREFIX.len()..])
            .expect("base64");
        Keyring::from_bytes([raw]).expect("the same secret as bytes");
    }
}

// ---------------------------------------------------------------------------
// Application labels and the documented key schedule (issue 11)
// ---------------------------------------------------------------------------

/// Guards `app_label` (new in issue 11): two applications on one secret
/// shared keys and key ids in the previous release, so each opened the
/// other's cookies.
#[test]
fn app_labels_separate_keys_and_key_ids() {
    let keyring = Keyring::new([SECRET_A, SECRET_B]).expect("valid");
    let clock = common::clock();
    let codec = |label: &str| {
        Codec::builder(keyring.clone())
            .app_label(label)
            .clock(clock.clone())
            .build()
            .expect("valid label")
    };
    let shop = codec("shop");
    let blog = codec("blog");
    let unlabelled = Codec::builder(keyring.clone())
        .clock(clock.clone())
        .build()
        .expect("valid");
    // No getter for the label: `Debug` shows it.
    assert!(format!("{shop:?}").contains("app_label: \"shop\","));
    assert!(format!("{unlabelled:?}").contains("app_label: \"\","));

    let shop_ids = common::key_ids(&shop);
    let blog_ids = common::key_ids(&blog);
    let plain_ids = common::key_ids(&unlabelled);
    assert_eq!(plain_ids, ids(&keyring), "Codec::new has the empty label");
    let all: HashSet<[u8; 4]> = shop_ids
        .iter()
        .chain(&blog_ids)
        .chain(&plain_ids)
        .copied()
        .collect();
    assert_eq!(all.len(), 6, "every label gives every secret its own id");
    assert_eq!(common::key_ids(&codec("")), plain_ids);
    assert_eq!(common::key_ids(&codec("shop")), shop_ids);
    let documented: Vec<[u8; 4]> = [SECRET_A, SECRET_B]
        .iter()
        .map(|s| documented_schedule(s.as_bytes(), "shop").id)
        .collect();
    assert_eq!(shop_ids, documented);

    // A cookie sealed under one label is a foreign key under the others.
    let cookie = shop.seal(&42u32).expect("seals");
    let opened = codec("shop").open::<u32>(&cookie).expect("same label");
    assert_eq!(*opened.value(), 42);
    let shop_id = opened.key_id();
    assert_eq!(shop_id.to_bytes(), shop_ids[0]);
    for other in [&blog, &unlabelled] {
        assert_eq!(
            other.open::<u32>(&cookie).map(|_| ()),
            Err(Error::UnknownKey(shop_id))
        );
    }
    let cookie = unlabelled.seal(&42u32).expect("seals");
    let plain_id: KeyId = first_id(&keyring);
    assert_eq!(plain_id.to_bytes(), plain_ids[0]);
    assert_eq!(
        shop.open::<u32>(&cookie).map(|_| ()),
        Err(Error::UnknownKey(plain_id))
    );

    // Labels are 0 to 64 bytes of visible ASCII.
    let long = "l".repeat(65);
    for (label, reason) in [
        (long.as_str(), "it is longer than 64 bytes"),
        ("my shop", "it may only hold visible ASCII, without spaces"),
        (
            "caf\u{e9}",
            "it may only hold visible ASCII, without spaces",
        ),
    ] {
        assert_eq!(
            Codec::builder(keyring.clone())
                .app_label(label)
                .build()
                .map(|_| ()),
            Err(ConfigError::InvalidLabel {
                setting: "app_label",
                reason
            }),
            "{label:?}"
        );
    }
    codec(&long[..64]);
}

/// The key schedule of `src/keyring.rs`, checked independently with the
/// reference implementation of the format (`tests/support/reference.rs`)
/// for an empty and a non-empty application label: the key id in every
/// cookie's header, and both keys, by decrypting a cookie of each
/// algorithm with them (the token layout is `version | algorithm | key id
/// | nonce (24) | ciphertext | tag (16)`, the associated data the first 6
/// bytes and the cookie name).
#[test]
fn the_documented_key_schedule_with_and_without_an_app_label() {
    let clock = common::clock();
    for label in ["", "shop-eu/2"] {
        let keys = documented_schedule(SECRET_C.as_bytes(), label);
        let id = keys.id;
        if !label.is_empty() {
            assert_ne!(id, documented_schedule(SECRET_C.as_bytes(), "").id);
        }
        for algorithm in Algorithm::ALL {
            let codec = Codec::builder(Keyring::new([SECRET_C]).expect("valid"))
                .cookie_name("sid")
                .app_label(label)
                .algorithm(algorithm)
                .clock(clock.clone())
                .build()
                .expect("valid");
            assert_eq!(common::key_ids(&codec), [id], "{label:?}");
            let cookie = codec.seal(&0x2au32).expect("seals");
            let token = URL_SAFE_NO_PAD.decode(&cookie).expect("base64url");
            assert_eq!(token[..2], [0x01, algorithm.wire_id()]);
            assert_eq!(token[2..6], id);
            let plaintext = reference::open_token(&keys, "sid", None, &token)
                .expect("the documented key opens the cookie");
            // It opens as the documented keys say, not only under this name.
            assert_eq!(reference::open_token(&keys, "other", None, &token), None);
            let created = t0()
                .duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_secs();
            assert_eq!(
                reference::read_varint(&plaintext).map(|(v, _)| v),
                Some(created),
                "{label:?}: the creation time comes first"
            );
            // The envelope (creation time, lifetime, renewed: 5 + 3 + 1
            // bytes at t0 with the 12-hour default; schema id 4; session
            // id 16), then postcard's one-byte varint of 42.
            assert_eq!(plaintext.len(), 5 + 3 + 1 + 4 + 16 + 1, "{label:?}");
            assert_eq!(plaintext.last(), Some(&0x2a));
        }
    }
}
