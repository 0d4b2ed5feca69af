//! The main job of the crate, end to end: seal a realistic session into a
//! cookie value, open it, rotate secrets, and watch bad cookies get rejected.
//!
//! Run with `cargo run --example quickstart`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealed_session::clock::ManualClock;
use sealed_session::limits::DEFAULT_MAX_COOKIE_SIZE;
use sealed_session::{Codec, Keyring};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Session {
    user_id: u64,
    email: String,
    roles: Vec<String>,
    csrf_token: [u8; 32],
    cart: Vec<CartItem>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CartItem {
    sku: String,
    qty: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In production the secrets come from the environment:
    // `Keyring::from_env("SESSION_SECRETS")`. Here we generate one.
    let first_secret = Keyring::generate_secret()?;
    let codec = Codec::builder(Keyring::new([first_secret.as_str()])?)
        .idle_timeout(Duration::from_secs(30 * 60))
        .build()?;

    let session = Session {
        user_id: 48_213,
        email: "ada@example.com".into(),
        roles: vec!["customer".into(), "beta".into()],
        csrf_token: [0x5a; 32],
        cart: (1..=5)
            .map(|i| CartItem {
                sku: format!("SKU-{:05}", i * 137),
                qty: i,
            })
            .collect(),
    };

    // 1. Seal: the whole session is the cookie value.
    let cookie = codec.seal(&session)?;
    println!("Set-Cookie: {}={cookie}", codec.cookie_name());
    println!(
        "cookie size: {} bytes of the {}-byte limit (name + value)\n",
        codec.cookie_name().len() + cookie.len(),
        DEFAULT_MAX_COOKIE_SIZE
    );

    // 2. Open it on the next request.
    let opened = codec.open::<Session>(&cookie)?;
    println!(
        "opened: user {} <{}>",
        opened.value().user_id,
        opened.value().email
    );
    let envelope = opened.envelope();
    println!("  session id:        {}", envelope.id());
    let created = envelope.created_at();
    let after_creation = |t: SystemTime| t.duration_since(created).unwrap_or_default().as_secs();
    println!("  created:           {} (Unix seconds)", unix_secs(created));
    println!(
        "  absolute deadline: created + {} s",
        after_creation(envelope.absolute_deadline())
    );
    if let Some(idle) = envelope.idle_deadline() {
        println!(
            "  idle deadline:     created + {} s\n",
            after_creation(idle)
        );
    }

    // 3. Rotate: a new secret goes in front, the old one stays to open.
    //    (This codec reads a manual clock so that step 4 can move time
    //    forward; without `.clock(..)` a codec reads the system clock.)
    let clock = ManualClock::new(SystemTime::now());
    let new_secret = Keyring::generate_secret()?;
    let rotated = Codec::builder(Keyring::new([new_secret.as_str(), first_secret.as_str()])?)
        .idle_timeout(Duration::from_secs(30 * 60))
        .clock(clock.clone())
        .build()?;
    let mut old = rotated.open::<Session>(&cookie)?;
    println!(
        "after rotation the old cookie still opens; sealed with old secret: {}",
        old.sealed_with_old_secret()
    );
    old.value_mut().cart.pop();
    // Same session (id, creation time, deadline), sealed under the new secret.
    let resealed = rotated.seal_with(old.value(), &old.seal_options())?;
    let again = rotated.open::<Session>(&resealed)?;
    println!(
        "re-sealed under the new secret: old secret? {}, same session id? {}\n",
        again.sealed_with_old_secret(),
        again.envelope().id() == old.envelope().id()
    );

    // 4. Bad cookies are rejected with typed errors.
    clock.advance(Duration::from_secs(8 * 24 * 60 * 60));
    match rotated.open::<Session>(&resealed) {
        Ok(_) => println!("unexpected: an expired cookie opened"),
        Err(e) => println!("expired cookie  -> {} ({e})", e.code()),
    }
    let mut tampered = resealed.into_bytes();
    if let Some(c) = tampered.get_mut(60) {
        *c = if *c == b'A' { b'B' } else { b'A' };
    }
    let tampered = String::from_utf8(tampered)?;
    match rotated.open::<Session>(&tampered) {
        Ok(_) => println!("unexpected: a tampered cookie opened"),
        Err(e) => println!("tampered cookie -> {} ({e})", e.code()),
    }
    Ok(())
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}
