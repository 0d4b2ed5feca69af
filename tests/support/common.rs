//! Helpers every integration test shares: the time tests start at, a clock
//! set to it, the `Set-Cookie` headers of a response, and a buffer that
//! captures log events.
//!
//! Included with `#[path = "support/common.rs"] mod common;` (it is not a
//! test of its own); each test file uses what it needs.

#![allow(dead_code)]

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cookie::Cookie;
use http::HeaderMap;
use http::header::SET_COOKIE;
use sealed_session::Codec;
use sealed_session::clock::ManualClock;

/// The instant tests start at: 2027-01-15T08:00:00Z, a whole second.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// `n` seconds.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A manual clock showing [`t0`]; give a clone to the codec builder and move
/// this one.
pub fn clock() -> ManualClock {
    ManualClock::new(t0())
}

/// Every `Set-Cookie` of a response, parsed (panics on one that does not
/// parse: the crate must never write such a header).
pub fn set_cookies(headers: &HeaderMap) -> Vec<Cookie<'static>> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| {
            let text = value.to_str().expect("Set-Cookie is visible ASCII");
            Cookie::parse(text.to_owned()).expect("Set-Cookie parses")
        })
        .collect()
}

/// A writer appending to a shared buffer, for a `tracing_subscriber::fmt`
/// subscriber.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    /// What was written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8(bytes.clone()).expect("fmt writes UTF-8")
    }
}

/// Runs `f` with a DEBUG-level `fmt` subscriber (no time, no colours) on
/// this thread and returns what it logged.
pub fn captured(f: impl FnOnce()) -> String {
    use tracing_subscriber::util::SubscriberInitExt as _;

    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_ansi(false)
        .without_time()
        .finish();
    let guard = subscriber.set_default();
    f();
    drop(guard);
    buffer.text()
}

/// One setting as the codec's `Debug` prints it (the codec has no getters
/// for them): the text after `name: ` up to the comma (or brace) that ends
/// the field.
pub fn setting(codec: &Codec, name: &str) -> String {
    let debug = format!("{codec:?}");
    let start = [format!("{{ {name}: "), format!(", {name}: ")]
        .iter()
        .find_map(|field| debug.find(field.as_str()).map(|at| at + field.len()))
        .unwrap_or_else(|| panic!("no {name} in {debug}"));
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    let end = debug[start..]
        .char_indices()
        .find(|&(_, c)| {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                _ if quoted => {}
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth > 0 => depth -= 1,
                ',' | '}' => return true,
                _ => {}
            }
            false
        })
        .map_or(debug.len(), |(at, _)| start + at);
    debug[start..end].trim_end().to_string()
}

/// The key ids a codec seals and opens with, in order, as its `Debug` lists
/// them.
pub fn key_ids(codec: &Codec) -> Vec<[u8; 4]> {
    let debug = format!("{codec:?}");
    let list = debug
        .split("key_ids: [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("no key_ids in {debug}"));
    list.split(", ")
        .map(|entry| {
            let digits = entry
                .strip_prefix("KeyId(")
                .and_then(|rest| rest.strip_suffix(')'))
                .unwrap_or_else(|| panic!("not a key id: {entry:?} in {debug}"));
            hex::decode(digits)
                .expect("hex")
                .try_into()
                .expect("4 bytes")
        })
        .collect()
}
