//! The envelope: what is sealed next to the value, and the clock rules that
//! decide whether a session is still good.
//!
//! ```text
//! plaintext = varint(created_at) | varint(lifetime) | varint(renewed)
//!           | schema id (4) | session id (16) | payload
//! absolute deadline = created_at + lifetime
//! renewed_at        = created_at + renewed     (the time of the last seal)
//! ```
//!
//! Times are whole Unix seconds. A varint is unsigned LEB128 as postcard
//! writes it: 7 bits per byte, least significant group first, high bit set
//! on every byte but the last, at most 10 bytes, and minimal (no trailing
//! `0x80 0x00`-style padding). An envelope is well-formed when
//! `created_at <= MAX_TIME`, `created_at + lifetime <= MAX_TIME` and
//! `renewed <= lifetime`.
//!
//! The envelope carries no idle deadline: the idle timeout that governs a
//! cookie is the one configured where it is opened, counted from the last
//! seal, so that enabling, shortening or lengthening the idle timeout
//! applies at once to every cookie already issued, and turning it off never
//! expires one. Likewise the configured maximum lifetime caps the lifetime
//! sealed in a cookie.
//!
//! Clock rules, checked in this order when opening at time `now` with
//! idle timeout `I` (if any), maximum lifetime `M`, leeway and cut-off:
//!
//! 1. `now >= created_at + min(lifetime, M)`: expired ([`Deadline::Absolute`]);
//! 2. `I` set and `now >= renewed_at + I`: expired ([`Deadline::Idle`]);
//! 3. `renewed_at > now + leeway`: not yet valid (a fast clock sealed it);
//! 4. `created_at < cut-off`: revoked.
//!
//! A deadline is exclusive: a session whose deadline is `t` opens at `t - 1`
//! and is expired at `t`. The leeway only forgives times in the future; it
//! never extends a deadline.

use core::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

use crate::error::{Deadline, Error, Malformed};

/// The largest time the format carries: 9999-12-31T23:59:59Z in Unix seconds.
/// Later deadlines are clamped to it when sealing and rejected when opening,
/// so every time in an envelope is a valid [`SystemTime`] on every platform.
pub const MAX_TIME: u64 = 253_402_300_799;

/// Length of a session id in bytes.
pub(crate) const ID_LEN: usize = 16;
/// Length of a schema id in bytes.
pub(crate) const SCHEMA_ID_LEN: usize = 4;
/// Longest varint: ten 7-bit groups hold 64 bits.
const MAX_VARINT_LEN: usize = 10;
/// Envelope bytes when every time takes its longest varint (times up to
/// [`MAX_TIME`]): the worst case, for size guarantees that hold at any date.
pub(crate) const MAX_ENVELOPE_LEN: usize = 3 * varint_len(MAX_TIME) + SCHEMA_ID_LEN + ID_LEN;
const _: () = assert!(MAX_ENVELOPE_LEN == 38);

/// A random 128-bit identifier of one session, fixed from creation (or
/// [regeneration](crate::Session::regenerate)) until it expires.
///
/// It is sealed inside the cookie, so only the server sees it. Use it to
/// correlate log lines or as a key in a server-side deny list; it prints as
/// 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; ID_LEN]);

impl SessionId {
    /// The 16 bytes of the id.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; ID_LEN] {
        self.0
    }

    /// A fresh id from the operating system's random number generator.
    pub(crate) fn random() -> Result<Self, Error> {
        let mut id = [0u8; ID_LEN];
        getrandom::fill(&mut id).map_err(|_| Error::Random)?;
        Ok(Self(id))
    }

    /// An id made of bytes the caller drew from the operating system's
    /// random number generator.
    pub(crate) const fn from_random_bytes(id: [u8; ID_LEN]) -> Self {
        Self(id)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// The 4-byte id of a schema label, sealed into every cookie: the first four
/// bytes of `SHA-256("sealed-session v1 schema" | 0x00 | label)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SchemaId([u8; SCHEMA_ID_LEN]);

impl SchemaId {
    /// The id of `label`.
    pub(crate) fn of(label: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(b"sealed-session v1 schema\x00")
            .chain_update(label.as_bytes())
            .finalize();
        let mut id = [0u8; SCHEMA_ID_LEN];
        for (slot, byte) in id.iter_mut().zip(digest.iter()) {
            *slot = *byte;
        }
        Self(id)
    }
}

/// A session's identity and clock: its id, when it was created and last
/// sealed, and its deadlines.
///
/// A [`Session`](crate::Session) holds one; the codec's
/// [`open`](crate::Codec::open) returns the one of the cookie, and sealing
/// keeps the id, the creation time and the absolute deadline, and moves the
/// last-sealed time (and with it the idle deadline) to the time of the seal.
///
/// The deadlines are the ones the configuration that opened or made the
/// envelope applies: the idle deadline is the last seal plus the configured
/// idle timeout, and the absolute deadline is capped by the configured
/// [maximum lifetime](crate::CodecBuilder::max_lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Envelope {
    id: SessionId,
    created_at: u64,
    absolute_deadline: u64,
    /// When the session was last sealed.
    renewed_at: u64,
    /// The idle timeout of the configuration that made or opened this
    /// envelope, in seconds; 0 = none. Not sealed.
    idle_timeout: u64,
}

impl Envelope {
    /// The session id.
    #[must_use]
    pub const fn id(&self) -> SessionId {
        self.id
    }

    /// When the session was created (whole seconds).
    #[must_use]
    pub fn created_at(&self) -> SystemTime {
        to_system_time(self.created_at)
    }

    /// When the session was last sealed (whole seconds): the start of its
    /// idle window.
    #[must_use]
    pub fn renewed_at(&self) -> SystemTime {
        to_system_time(self.renewed_at)
    }

    /// When the session expires whatever its activity.
    #[must_use]
    pub fn absolute_deadline(&self) -> SystemTime {
        to_system_time(self.absolute_deadline)
    }

    /// When the session expires unless it is sealed again before, if the
    /// configuration has an idle timeout: the last seal plus the idle
    /// timeout, never after the absolute deadline.
    #[must_use]
    pub fn idle_deadline(&self) -> Option<SystemTime> {
        self.idle_secs().map(to_system_time)
    }

    /// The earlier of the two deadlines: when the cookie stops opening if it
    /// is not sealed again.
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        to_system_time(self.effective_deadline())
    }

    /// The same session with its absolute deadline set to `lifetime` after
    /// its creation (whole seconds, clamped to [`MAX_TIME`]): a per-session
    /// lifetime, such as 30 days for "remember me". Sealing caps it at the
    /// configured [maximum lifetime](crate::CodecBuilder::max_lifetime).
    ///
    /// A lifetime under one second makes a session that is already expired,
    /// which sealing refuses.
    #[must_use]
    pub(crate) fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.absolute_deadline = add_secs(self.created_at, lifetime.as_secs());
        self
    }

    /// An envelope with exactly these fields, for the vector tests.
    #[cfg(test)]
    pub(crate) fn from_parts(
        id: [u8; ID_LEN],
        created_at: u64,
        absolute_deadline: u64,
        renewed_at: u64,
    ) -> Self {
        Self {
            id: SessionId(id),
            created_at,
            absolute_deadline,
            renewed_at,
            idle_timeout: 0,
        }
    }

    /// The same envelope with another session id.
    pub(crate) const fn with_id(mut self, id: SessionId) -> Self {
        self.id = id;
        self
    }

    /// A new session sealed at `now`: created at `now`, or at the cut-off if
    /// that is later (within the leeway, which the configuration checks),
    /// so that the cut-off never revokes a session made after it.
    pub(crate) fn fresh(id: SessionId, now: u64, lifetime: u64, rules: &ClockRules) -> Self {
        let created_at = now.max(rules.not_before.unwrap_or(0)).min(MAX_TIME);
        Self {
            id,
            created_at,
            absolute_deadline: add_secs(created_at, lifetime),
            renewed_at: created_at,
            idle_timeout: 0,
        }
        .governed(rules)
    }

    /// The envelope as `rules` see it: the absolute deadline capped at the
    /// maximum lifetime, and the configured idle timeout. The time of the
    /// last seal stays as sealed, even past a capped deadline: the clock
    /// rules judge it as it is (a seal in the future is not yet valid).
    pub(crate) fn governed(mut self, rules: &ClockRules) -> Self {
        self.absolute_deadline = self
            .absolute_deadline
            .min(add_secs(self.created_at, rules.max_lifetime));
        self.idle_timeout = rules.idle_timeout.unwrap_or(0);
        self
    }

    /// The same session sealed at `now`: last sealed at `now` (never before
    /// its creation), under `rules`. Sealing checks the clock rules first,
    /// so `now` is before the absolute deadline.
    pub(crate) fn touched(mut self, now: u64, rules: &ClockRules) -> Self {
        self.renewed_at = now.max(self.created_at);
        self.governed(rules)
    }

    /// The idle deadline in Unix seconds, if there is an idle timeout.
    fn idle_secs(&self) -> Option<u64> {
        (self.idle_timeout != 0)
            .then(|| add_secs(self.renewed_at, self.idle_timeout).min(self.absolute_deadline))
    }

    /// The deadline that comes first, in Unix seconds.
    pub(crate) fn effective_deadline(&self) -> u64 {
        self.idle_secs().unwrap_or(self.absolute_deadline)
    }

    /// Bytes [`Envelope::write`] produces.
    pub(crate) fn encoded_len(&self) -> usize {
        let (lifetime, renewed) = self.deltas();
        varint_len(self.created_at)
            + varint_len(lifetime)
            + varint_len(renewed)
            + SCHEMA_ID_LEN
            + ID_LEN
    }

    /// The lifetime and the time since creation of the last seal, as sealed.
    fn deltas(&self) -> (u64, u64) {
        let lifetime = self.absolute_deadline.saturating_sub(self.created_at);
        let renewed = self
            .renewed_at
            .saturating_sub(self.created_at)
            .min(lifetime);
        (lifetime, renewed)
    }

    /// Appends the envelope's bytes (the times, the schema id and the
    /// session id), [`encoded_len`](Self::encoded_len) of them.
    pub(crate) fn push(&self, schema: SchemaId, out: &mut Vec<u8>) {
        let (lifetime, renewed) = self.deltas();
        push_varint(out, self.created_at);
        push_varint(out, lifetime);
        push_varint(out, renewed);
        out.extend_from_slice(&schema.0);
        out.extend_from_slice(&self.id.0);
    }

    /// Reads an envelope from the start of a plaintext and returns it as
    /// `rules` see it, with the schema id it was sealed under and the
    /// payload that follows.
    pub(crate) fn read<'a>(
        plaintext: &'a [u8],
        rules: &ClockRules,
    ) -> Result<(Self, SchemaId, &'a [u8]), Malformed> {
        let (created_at, rest) = read_varint(plaintext).ok_or(Malformed::Envelope)?;
        let (lifetime, rest) = read_varint(rest).ok_or(Malformed::Envelope)?;
        let (renewed, rest) = read_varint(rest).ok_or(Malformed::Envelope)?;
        let (schema, rest) = rest
            .split_first_chunk::<SCHEMA_ID_LEN>()
            .ok_or(Malformed::Envelope)?;
        let (id, payload) = rest
            .split_first_chunk::<ID_LEN>()
            .ok_or(Malformed::Envelope)?;
        let absolute_deadline = created_at
            .checked_add(lifetime)
            .filter(|&deadline| deadline <= MAX_TIME)
            .ok_or(Malformed::Envelope)?;
        if renewed > lifetime {
            return Err(Malformed::Envelope);
        }
        let envelope = Self {
            id: SessionId(*id),
            created_at,
            absolute_deadline,
            // `renewed <= lifetime`, so this is at most the deadline.
            renewed_at: created_at + renewed,
            idle_timeout: 0,
        };
        Ok((envelope.governed(rules), SchemaId(*schema), payload))
    }

    /// Applies the clock rules (see the module docs) at `now` to an envelope
    /// [`governed`](Envelope::governed) by `rules`.
    pub(crate) fn check(&self, now: u64, rules: &ClockRules) -> Result<(), Error> {
        if now >= self.absolute_deadline {
            return Err(Error::Expired {
                deadline: Deadline::Absolute,
            });
        }
        if self.idle_secs().is_some_and(|idle| now >= idle) {
            return Err(Error::Expired {
                deadline: Deadline::Idle,
            });
        }
        if self.renewed_at > now.saturating_add(rules.leeway) {
            return Err(Error::NotYetValid);
        }
        if rules.not_before.is_some_and(|cut| self.created_at < cut) {
            return Err(Error::Revoked);
        }
        Ok(())
    }
}

/// The configured part of the clock rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClockRules {
    /// Seconds a time may lie in the future.
    pub(crate) leeway: u64,
    /// Sessions created before this Unix second are revoked.
    pub(crate) not_before: Option<u64>,
    /// Seconds after the last seal that a session expires, if set.
    pub(crate) idle_timeout: Option<u64>,
    /// The longest lifetime any session may have, in seconds.
    pub(crate) max_lifetime: u64,
}

/// Unix seconds of `t`, clamped to `0..=MAX_TIME`.
pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(MAX_TIME)
}

/// Unix seconds of `t` rounded up to the next whole second, clamped to
/// `0..=MAX_TIME`. Used for the cut-off: creation times are stored in whole
/// seconds (rounded down), so rounding the cut-off up makes sure that every
/// session created before it is revoked.
pub(crate) fn unix_secs_ceil(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| {
        d.as_secs()
            .saturating_add(u64::from(d.subsec_nanos() > 0))
            .min(MAX_TIME)
    })
}

/// `secs` (at most [`MAX_TIME`], which every platform's `SystemTime` holds)
/// as a `SystemTime`.
fn to_system_time(secs: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs.min(MAX_TIME)))
        .unwrap_or(UNIX_EPOCH)
}

fn add_secs(t: u64, secs: u64) -> u64 {
    t.saturating_add(secs).min(MAX_TIME)
}

const fn varint_len(mut v: u64) -> usize {
    let mut len = 1;
    while v >= 0x80 {
        v >>= 7;
        len += 1;
    }
    len
}

/// Appends `v` as an unsigned LEB128 varint, as postcard writes a `u64`.
fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        // Truncation is the point: the low 7 bits of `v`.
        #[allow(clippy::cast_possible_truncation)]
        out.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.push(v as u8);
}

/// Reads one minimal varint; `None` if it is cut off, longer than 10 bytes,
/// overflows 64 bits, or has a redundant final zero group.
fn read_varint(input: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    for (i, &byte) in input.iter().enumerate().take(MAX_VARINT_LEN) {
        let group = u64::from(byte & 0x7f);
        let shift = 7 * i;
        // The tenth byte may only carry the single top bit of a u64.
        if i == MAX_VARINT_LEN - 1 && byte > 0x01 {
            return None;
        }
        value |= group << shift;
        if byte & 0x80 == 0 {
            if byte == 0 && i > 0 {
                return None;
            }
            return Some((value, input.get(i + 1..)?));
        }
    }
    None
}

#[cfg(test)]
mod tests;
