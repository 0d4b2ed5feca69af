//! `Keyring::from_env`.
//!
//! Environment variables are process-global, so everything is in one test.
//! The crate forbids `unsafe` code in every target (`[lints.rust]` in
//! Cargo.toml), which rules out `std::env::set_var` (unsafe since edition
//! 2024). Instead the test re-runs its own binary, filtered to itself, with
//! the variables set through `Command::env`, and the child does the checks.

use std::process::Command;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealed_session::limits::MIN_SECRET_LEN;
use sealed_session::{Codec, ConfigError, Error, Keyring};

#[path = "support/common.rs"]
mod common;
#[path = "support/reference.rs"]
mod reference;

/// Set in the child only.
const CHILD: &str = "SEALED_SESSION_FROM_ENV_TEST_CHILD";

const SECRET_1: &str = "from_env test secret number one; 32+ bytes";
const SECRET_2: &str = "from_env test secret number two; 32+ bytes";
const SECRET_3: &str = "from_env secret with  inner  spaces; 32+ bytes";
const SHORT: &str = "only twenty bytes!!!";

const PREFIX: &str = "SEALED_SESSION_FROM_ENV_TEST_";

fn var(name: &str) -> String {
    format!("{PREFIX}{name}")
}

fn b64(bytes: &[u8]) -> String {
    format!("base64:{}", STANDARD.encode(bytes))
}

/// 32 raw secret bytes, all distinct (a secret needs variety: at least 8
/// distinct bytes and no short repeated pattern).
fn raw_1() -> Vec<u8> {
    (0u8..32)
        .map(|i| i.wrapping_mul(29).wrapping_add(11))
        .collect()
}

/// 48 raw secret bytes, all distinct.
fn raw_2() -> Vec<u8> {
    (0u8..48)
        .map(|i| i.wrapping_mul(101).wrapping_add(200))
        .collect()
}

/// A secret with 8 distinct bytes that repeats an 8-byte pattern.
const PATTERN: &[u8] = b"0123abcd0123abcd0123abcd0123abcd";

/// The variables the child sees, by suffix.
fn variables() -> Vec<(String, String)> {
    let raw_1 = raw_1();
    let raw_2 = raw_2();
    [
        ("LIST", format!(" {SECRET_1} ,\t{SECRET_2}\n")),
        ("SINGLE", SECRET_1.to_string()),
        ("SPACES", format!("   {SECRET_3}   ")),
        ("TRAILING_COMMA", format!("{SECRET_1},{SECRET_2},")),
        ("DOUBLE_COMMA", format!("{SECRET_1},,{SECRET_2}")),
        ("EMPTY", String::new()),
        ("BASE64", format!("{}, {}", b64(&raw_1), b64(&raw_2))),
        ("MIXED", format!("{SECRET_2}, {}", b64(SECRET_1.as_bytes()))),
        ("SHORT", format!("{SECRET_1}, {SHORT}")),
        ("DUPLICATE", format!("{SECRET_1} , {SECRET_1}")),
        (
            "BAD_BASE64",
            format!("{SECRET_1},{SECRET_2}, base64:not*base64*at*all"),
        ),
        (
            "DOCUMENTED",
            format!("{SECRET_1}, an example secret that is 32+ bytes long"),
        ),
        (
            "WEAK_BASE64",
            format!("{SECRET_1},{SECRET_2},{}", b64(PATTERN)),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (var(k), v))
    .collect()
}

/// The key ids of the keyring's secrets (under the empty application
/// label), in order. The codec has no getter for them; its `Debug` lists
/// them (`key_ids: [KeyId(..), ..]`).
fn ids(keyring: &Keyring) -> Vec<[u8; 4]> {
    common::key_ids(&Codec::new(keyring.clone()))
}

/// The key ids the documented key schedule derives for these secrets
/// (`tests/support/reference.rs`), under the empty application label.
fn documented_ids(secrets: &[&str]) -> Vec<[u8; 4]> {
    secrets
        .iter()
        .map(|secret| reference::derive(secret, "").id)
        .collect()
}

fn config_err(result: Result<Keyring, ConfigError>) -> ConfigError {
    match result {
        Err(c) => c,
        Ok(k) => panic!("expected a configuration error, got {k:?}"),
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

fn checks() {
    let clock = common::clock();

    // Unset.
    let missing = var("NEVER_SET");
    assert!(std::env::var_os(&missing).is_none());
    let err = Keyring::from_env(&missing).expect_err("unset");
    assert_eq!(
        err,
        ConfigError::MissingEnvVar {
            name: missing.clone()
        }
    );
    assert!(err.to_string().contains(&missing), "{err}");
    let err = Error::from(err);
    assert_eq!(err.code(), "config");
    assert!(err.to_string().contains(&missing), "{err}");

    // Not Unicode.
    #[cfg(unix)]
    {
        let name = var("NOT_UNICODE");
        assert_eq!(
            config_err(Keyring::from_env(&name)),
            ConfigError::EnvVarNotUnicode { name: name.clone() }
        );
        assert!(
            Keyring::from_env(&name)
                .expect_err("not unicode")
                .to_string()
                .contains(&name)
        );
    }

    // A list, trimmed, in order.
    let list = Keyring::from_env(&var("LIST")).expect("two secrets");
    let expected = Keyring::new([SECRET_1, SECRET_2]).expect("valid");
    assert_eq!(list.len(), 2);
    assert_eq!(ids(&list), ids(&expected));
    assert_eq!(ids(&list), documented_ids(&[SECRET_1, SECRET_2]));
    let single = Keyring::from_env(&var("SINGLE")).expect("one secret");
    assert_eq!(ids(&single), ids(&Keyring::new([SECRET_1]).expect("valid")));

    // Only the ends are trimmed, not the inside.
    let spaces = Keyring::from_env(&var("SPACES")).expect("one secret");
    assert_eq!(ids(&spaces), ids(&Keyring::new([SECRET_3]).expect("valid")));
    let squeezed = SECRET_3.replace("  ", " ");
    assert_ne!(
        ids(&spaces),
        ids(&Keyring::new([squeezed.as_str()]).expect("valid"))
    );

    // Empty entries.
    assert_eq!(
        config_err(Keyring::from_env(&var("TRAILING_COMMA"))),
        too_short(2, 0)
    );
    assert_eq!(
        config_err(Keyring::from_env(&var("DOUBLE_COMMA"))),
        too_short(1, 0)
    );
    assert_eq!(
        config_err(Keyring::from_env(&var("EMPTY"))),
        too_short(0, 0)
    );

    // base64: entries decode to the raw key material.
    let base64 = Keyring::from_env(&var("BASE64")).expect("two secrets");
    let raw = Keyring::from_bytes([raw_1(), raw_2()]).expect("valid");
    assert_eq!(ids(&base64), ids(&raw));
    let mixed = Keyring::from_env(&var("MIXED")).expect("two secrets");
    assert_eq!(
        ids(&mixed),
        ids(&Keyring::new([SECRET_2, SECRET_1]).expect("valid"))
    );

    // Errors carry the position in the list.
    assert_eq!(
        config_err(Keyring::from_env(&var("SHORT"))),
        ConfigError::SecretTooShort {
            index: 1,
            len: SHORT.len(),
            min: 32
        }
    );
    assert_eq!(
        config_err(Keyring::from_env(&var("DUPLICATE"))),
        ConfigError::DuplicateKeyId {
            index: 1,
            earlier: 0
        }
    );
    assert_eq!(
        config_err(Keyring::from_env(&var("BAD_BASE64"))),
        ConfigError::InvalidBase64Secret { index: 2 }
    );
    // Weak secrets, by position, in either form (issue 11).
    assert_eq!(
        config_err(Keyring::from_env(&var("DOCUMENTED"))),
        ConfigError::WeakSecret {
            index: 1,
            reason: "it is an example from the documentation"
        }
    );
    assert_eq!(
        config_err(Keyring::from_env(&var("WEAK_BASE64"))),
        ConfigError::WeakSecret {
            index: 2,
            reason: "it repeats a pattern of 8 bytes or fewer"
        }
    );

    // The first secret seals; the others only open.
    let on_clock = |keyring: Keyring| {
        Codec::builder(keyring)
            .clock(clock.clone())
            .build()
            .expect("valid")
    };
    let from_env = on_clock(list);
    let cookie = from_env.seal(&("alice", 7u32)).expect("seals");
    let first_only = on_clock(Keyring::new([SECRET_1]).expect("valid"));
    let opened = first_only
        .open::<(String, u32)>(&cookie)
        .expect("sealed under the first secret");
    assert_eq!(opened.value(), &("alice".to_string(), 7));
    assert!(!opened.sealed_with_old_secret());
    assert_eq!(opened.key_id().to_bytes(), documented_ids(&[SECRET_1])[0]);
    let second_only = on_clock(Keyring::new([SECRET_2]).expect("valid"));
    assert!(matches!(
        second_only.open::<(String, u32)>(&cookie),
        Err(Error::UnknownKey(_))
    ));
    let old = second_only.seal(&("bob", 8u32)).expect("seals");
    let opened = from_env
        .open::<(String, u32)>(&old)
        .expect("the second secret still opens");
    assert!(opened.sealed_with_old_secret());
    assert!(opened.needs_reseal());
    assert_eq!(opened.key_id().to_bytes(), documented_ids(&[SECRET_2])[0]);
}

#[test]
fn keyring_from_env() {
    if std::env::var_os(CHILD).is_some() {
        checks();
        return;
    }

    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new(exe);
    child
        .args([
            "keyring_from_env",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove(var("NEVER_SET"));
    for (name, value) in variables() {
        child.env(name, value);
    }
    #[cfg(unix)]
    {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt as _;
        child.env(
            var("NOT_UNICODE"),
            OsString::from_vec(b"base64:\xff\xfe not unicode, at least 32 bytes".to_vec()),
        );
    }
    let started = SystemTime::now();
    let output = child.output().expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the checks failed in the child ({:?}):\n{stdout}\n{stderr}",
        started.elapsed()
    );
    // The child ran exactly this test, and it passed.
    assert!(
        stdout.contains("1 passed"),
        "the child did not run the checks:\n{stdout}\n{stderr}"
    );
}
