//! The envelope: what is sealed next to the value, and the clock rules that
//! decide whether a session is still good.
//!
//! ```text
//! plaintext = varint(created_at) | varint(absolute_deadline) | varint(idle_deadline)
//!           | session id (16) | payload
//! ```
//!
//! Times are whole Unix seconds, and `idle_deadline = 0` means "no idle
//! timeout". A varint is unsigned LEB128 as postcard writes it: 7 bits per
//! byte, least significant group first, high bit set on every byte but the
//! last, at most 10 bytes, and minimal (no trailing `0x80 0x00`-style
//! padding). An envelope is well-formed when every time is at most
//! [`MAX_TIME`], `created_at <= absolute_deadline`, and the idle deadline is 0
//! or at most the absolute deadline.
//!
//! Clock rules, checked in this order when opening at time `now`:
//!
//! 1. `now >= absolute_deadline`: expired ([`Deadline::Absolute`]);
//! 2. `idle_deadline != 0` and `now >= idle_deadline`: expired ([`Deadline::Idle`]);
//! 3. `created_at > now + leeway`: not yet valid (a fast clock sealed it);
//! 4. `created_at < cut-off`: revoked.
//!
//! A deadline is exclusive: a session whose deadline is `t` opens at `t - 1`
//! and is expired at `t`. The leeway only forgives creation times in the
//! future; it never extends a deadline.

use core::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Malformed};

/// The largest time the format carries: 9999-12-31T23:59:59Z in Unix seconds.
/// Later deadlines are clamped to it when sealing and rejected when opening,
/// so every time in an envelope is a valid [`SystemTime`] on every platform.
pub const MAX_TIME: u64 = 253_402_300_799;

/// Length of a session id in bytes.
pub(crate) const ID_LEN: usize = 16;
/// Longest varint: ten 7-bit groups hold 64 bits.
const MAX_VARINT_LEN: usize = 10;
/// Envelope bytes when every time takes its longest varint (times up to
/// [`MAX_TIME`]): the worst case, for size guarantees that hold at any date.
pub(crate) const MAX_ENVELOPE_LEN: usize = 3 * varint_len(MAX_TIME) + ID_LEN;
const _: () = assert!(MAX_ENVELOPE_LEN == 34);

/// Which deadline a session passed; carried by
/// [`Error::Expired`](crate::Error::Expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Deadline {
    /// The absolute lifetime, counted from the session's creation.
    Absolute,
    /// The idle timeout, counted from the last time the session was sealed.
    Idle,
}

/// A random 128-bit identifier of one session, fixed from creation (or
/// [regeneration](crate::Codec::new_envelope)) until it expires.
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

/// A session's identity and clock: its id, when it was created, and its
/// deadlines.
///
/// Get a fresh one from [`Codec::new_envelope`](crate::Codec::new_envelope)
/// (at login) or the one of an opened cookie from
/// [`Opened::envelope`](crate::Opened::envelope); seal a value into it with
/// [`Codec::seal_with`](crate::Codec::seal_with). Sealing keeps the id, the
/// creation time and the absolute deadline, and moves the idle deadline
/// forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Envelope {
    id: SessionId,
    created_at: u64,
    absolute_deadline: u64,
    /// 0 = no idle deadline.
    idle_deadline: u64,
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

    /// When the session expires whatever its activity.
    #[must_use]
    pub fn absolute_deadline(&self) -> SystemTime {
        to_system_time(self.absolute_deadline)
    }

    /// When the session expires unless it is sealed again before, if the
    /// codec has an idle timeout.
    ///
    /// For an envelope from [`Codec::new_envelope`](crate::Codec::new_envelope)
    /// this is the deadline a seal at that instant would write; every seal
    /// recomputes it.
    #[must_use]
    pub fn idle_deadline(&self) -> Option<SystemTime> {
        (self.idle_deadline != 0).then(|| to_system_time(self.idle_deadline))
    }

    /// The earlier of the two deadlines: when the cookie stops opening if it
    /// is not sealed again.
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        to_system_time(self.effective_deadline())
    }

    /// The same session with its absolute deadline set to `lifetime` after
    /// its creation (whole seconds, clamped to [`MAX_TIME`]): a per-session
    /// lifetime, such as 30 days for "remember me".
    ///
    /// A lifetime under one second makes a session that is already expired,
    /// which [`Codec::seal_with`](crate::Codec::seal_with) refuses.
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.absolute_deadline = add_secs(self.created_at, lifetime.as_secs());
        if self.idle_deadline > self.absolute_deadline {
            self.idle_deadline = self.absolute_deadline;
        }
        self
    }

    /// An envelope with exactly these fields, for the vector tests.
    #[cfg(test)]
    pub(crate) fn from_parts(
        id: [u8; ID_LEN],
        created_at: u64,
        absolute_deadline: u64,
        idle_deadline: u64,
    ) -> Self {
        Self {
            id: SessionId(id),
            created_at,
            absolute_deadline,
            idle_deadline,
        }
    }

    /// The same envelope with another session id.
    pub(crate) const fn with_id(mut self, id: SessionId) -> Self {
        self.id = id;
        self
    }

    /// A new session created at `now`.
    pub(crate) fn fresh(id: SessionId, now: u64, lifetime: u64, idle_timeout: Option<u64>) -> Self {
        let now = now.min(MAX_TIME);
        let env = Self {
            id,
            created_at: now,
            absolute_deadline: add_secs(now, lifetime),
            idle_deadline: 0,
        };
        env.touched(now, idle_timeout)
    }

    /// The same session with its idle deadline moved to `now + idle_timeout`
    /// (never past the absolute deadline), or cleared without idle timeout.
    pub(crate) fn touched(mut self, now: u64, idle_timeout: Option<u64>) -> Self {
        self.idle_deadline = match idle_timeout {
            Some(t) => add_secs(now, t).min(self.absolute_deadline),
            None => 0,
        };
        self
    }

    /// The deadline that comes first, in Unix seconds.
    pub(crate) fn effective_deadline(&self) -> u64 {
        if self.idle_deadline == 0 {
            self.absolute_deadline
        } else {
            self.idle_deadline.min(self.absolute_deadline)
        }
    }

    /// Bytes [`Envelope::write`] produces.
    pub(crate) fn encoded_len(&self) -> usize {
        varint_len(self.created_at)
            + varint_len(self.absolute_deadline)
            + varint_len(self.idle_deadline)
            + ID_LEN
    }

    /// Writes the envelope at the start of `out` and returns the rest, or
    /// `None` if `out` is shorter than [`Envelope::encoded_len`].
    pub(crate) fn write<'a>(&self, out: &'a mut [u8]) -> Option<&'a mut [u8]> {
        let out = write_varint(out, self.created_at)?;
        let out = write_varint(out, self.absolute_deadline)?;
        let out = write_varint(out, self.idle_deadline)?;
        let (id, rest) = out.split_at_mut_checked(ID_LEN)?;
        id.copy_from_slice(&self.id.0);
        Some(rest)
    }

    /// Reads an envelope from the start of a plaintext and returns it with
    /// the payload that follows.
    pub(crate) fn read(plaintext: &[u8]) -> Result<(Self, &[u8]), Malformed> {
        let (created_at, rest) = read_varint(plaintext).ok_or(Malformed::Envelope)?;
        let (absolute_deadline, rest) = read_varint(rest).ok_or(Malformed::Envelope)?;
        let (idle_deadline, rest) = read_varint(rest).ok_or(Malformed::Envelope)?;
        let (id, payload) = rest
            .split_first_chunk::<ID_LEN>()
            .ok_or(Malformed::Envelope)?;
        let well_formed = created_at <= absolute_deadline
            && absolute_deadline <= MAX_TIME
            && idle_deadline <= absolute_deadline;
        if !well_formed {
            return Err(Malformed::Envelope);
        }
        let env = Self {
            id: SessionId(*id),
            created_at,
            absolute_deadline,
            idle_deadline,
        };
        Ok((env, payload))
    }

    /// Applies the clock rules (see the module docs) at `now`.
    pub(crate) fn check(&self, now: u64, rules: &ClockRules) -> Result<(), Error> {
        if now >= self.absolute_deadline {
            return Err(Error::Expired {
                deadline: Deadline::Absolute,
            });
        }
        if self.idle_deadline != 0 && now >= self.idle_deadline {
            return Err(Error::Expired {
                deadline: Deadline::Idle,
            });
        }
        if self.created_at > now.saturating_add(rules.leeway) {
            return Err(Error::NotYetValid);
        }
        if rules.not_before.is_some_and(|cut| self.created_at < cut) {
            return Err(Error::Revoked);
        }
        Ok(())
    }
}

/// The configurable part of the clock rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClockRules {
    /// Seconds a creation time may lie in the future.
    pub(crate) leeway: u64,
    /// Sessions created before this Unix second are revoked.
    pub(crate) not_before: Option<u64>,
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
/// session created before it is revoked, at the price of also revoking those
/// created in the same second after it.
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

fn write_varint(out: &mut [u8], mut v: u64) -> Option<&mut [u8]> {
    let (dst, rest) = out.split_at_mut_checked(varint_len(v))?;
    let mut bytes = dst.iter_mut().peekable();
    while let Some(b) = bytes.next() {
        // Truncation is the point: the low 7 bits of `v`.
        #[allow(clippy::cast_possible_truncation)]
        let low = (v & 0x7f) as u8;
        v >>= 7;
        *b = if bytes.peek().is_some() {
            low | 0x80
        } else {
            low
        };
    }
    Some(rest)
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
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_group_boundary() {
        let mut values = vec![0, 1, 127, 128, 16_383, 16_384, u64::MAX, MAX_TIME];
        values.extend((1..64).map(|s| 1u64 << s));
        values.extend((1..64).map(|s| (1u64 << s) - 1));
        for v in values {
            let mut buf = [0xAA; 12];
            let rest_len = write_varint(&mut buf, v).map(|r| r.len());
            assert_eq!(rest_len, Some(12 - varint_len(v)), "v = {v}");
            let (back, rest) = read_varint(&buf).expect("reads back");
            assert_eq!(back, v);
            assert_eq!(rest.len(), 12 - varint_len(v));
        }
    }

    #[test]
    fn varints_match_postcard() {
        for v in [0u64, 1, 300, 1_700_000_000, MAX_TIME, u64::MAX] {
            let mut ours = [0u8; 10];
            write_varint(&mut ours, v).expect("fits");
            let theirs = postcard::to_allocvec(&v).expect("serializes");
            assert_eq!(&ours[..varint_len(v)], theirs.as_slice());
        }
    }

    #[test]
    fn non_minimal_long_and_cut_varints_are_rejected() {
        assert_eq!(read_varint(&[0x80, 0x00]), None, "overlong zero");
        assert_eq!(read_varint(&[0x81, 0x00]), None, "redundant final group");
        assert_eq!(read_varint(&[0x80]), None, "cut off");
        assert_eq!(read_varint(&[]), None, "empty");
        let mut eleven = [0xff; 11];
        eleven[10] = 0x01;
        assert_eq!(read_varint(&eleven), None, "longer than 10 bytes");
        let mut overflow = [0xff; 10];
        overflow[9] = 0x02;
        assert_eq!(read_varint(&overflow), None, "65th bit");
        overflow[9] = 0x01;
        assert_eq!(read_varint(&overflow).map(|(v, _)| v), Some(u64::MAX));
    }

    fn env(created: u64, abs: u64, idle: u64) -> Envelope {
        Envelope {
            id: SessionId([7; ID_LEN]),
            created_at: created,
            absolute_deadline: abs,
            idle_deadline: idle,
        }
    }

    #[test]
    fn envelope_round_trips_and_rejects_broken_rules() {
        let e = env(1_700_000_000, 1_700_604_800, 1_700_001_800);
        let mut buf = vec![0u8; e.encoded_len() + 3];
        let rest = e.write(&mut buf).expect("fits");
        rest.copy_from_slice(b"xyz");
        assert_eq!(Envelope::read(&buf), Ok((e, &b"xyz"[..])));

        for bad in [env(10, 9, 0), env(0, MAX_TIME + 1, 0), env(0, 100, 101)] {
            let mut buf = vec![0u8; bad.encoded_len()];
            bad.write(&mut buf).expect("fits");
            assert_eq!(Envelope::read(&buf), Err(Malformed::Envelope), "{bad:?}");
        }
        assert_eq!(
            Envelope::read(&buf[..e.encoded_len() - 1]),
            Err(Malformed::Envelope)
        );
    }

    #[test]
    fn clock_rules_apply_in_order_with_exclusive_deadlines() {
        let rules = ClockRules {
            leeway: 60,
            not_before: Some(1000),
        };
        let e = env(1000, 2000, 1500);
        assert_eq!(e.check(1499, &rules), Ok(()));
        assert_eq!(
            e.check(1500, &rules),
            Err(Error::Expired {
                deadline: Deadline::Idle
            })
        );
        assert_eq!(
            e.check(2000, &rules),
            Err(Error::Expired {
                deadline: Deadline::Absolute
            })
        );
        assert_eq!(e.check(940, &rules), Ok(()), "60 s early is within leeway");
        assert_eq!(e.check(939, &rules), Err(Error::NotYetValid));
        let old = env(999, 2000, 0);
        assert_eq!(old.check(1100, &rules), Err(Error::Revoked));
    }

    #[test]
    fn cut_off_rounds_up_and_creation_rounds_down() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!((unix_secs(t), unix_secs_ceil(t)), (1_000, 1_000));
        let later = t + Duration::from_millis(500);
        assert_eq!((unix_secs(later), unix_secs_ceil(later)), (1_000, 1_001));
        let before_epoch = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(
            (unix_secs(before_epoch), unix_secs_ceil(before_epoch)),
            (0, 0)
        );
        let far = UNIX_EPOCH + Duration::from_secs(MAX_TIME + 10);
        assert_eq!((unix_secs(far), unix_secs_ceil(far)), (MAX_TIME, MAX_TIME));
    }

    #[test]
    fn touching_never_passes_the_absolute_deadline() {
        let e = Envelope::fresh(SessionId([1; ID_LEN]), 100, 50, Some(30));
        assert_eq!(
            (e.created_at, e.absolute_deadline, e.idle_deadline),
            (100, 150, 130)
        );
        assert_eq!(e.touched(140, Some(30)).idle_deadline, 150);
        assert_eq!(e.touched(140, None).idle_deadline, 0);
        assert_eq!(e.with_lifetime(Duration::from_secs(20)).idle_deadline, 120);
        let far = Envelope::fresh(SessionId([1; ID_LEN]), u64::MAX, u64::MAX, Some(1));
        assert_eq!(far.absolute_deadline, MAX_TIME);
    }
}
