//! Where the codec reads the time: the system clock, or a clock the caller
//! sets (tests, replays, simulations).
//!
//! Every time-dependent rule (creation, deadlines, renewal, the cut-off)
//! reads the clock of the [`CodecBuilder`](crate::CodecBuilder) the codec
//! was built with, so no method takes a time of its own.
//!
//! ```
//! use sealed_session::clock::ManualClock;
//! use sealed_session::{Codec, Keyring};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
//! let codec = Codec::builder(Keyring::new([Keyring::generate_secret()?])?)
//!     .idle_timeout(Duration::from_secs(600))
//!     .clock(clock.clone())
//!     .build()?;
//! let cookie = codec.seal(&42u32)?;
//! clock.advance(Duration::from_secs(601));
//! assert_eq!(codec.open::<u32>(&cookie).unwrap_err().code(), "expired-idle");
//! # Ok::<(), sealed_session::Error>(())
//! ```

use core::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// A source of the current time.
///
/// Implement it to drive the codec from another time source; the crate
/// ships [`SystemClock`] (the default) and [`ManualClock`].
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock ([`SystemTime::now`]); the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until it is set or advanced. Clones share
/// one time, so a test keeps a clone and moves the codec's clock.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A clock showing `start`.
    #[must_use]
    pub fn new(start: SystemTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Sets the time (forwards or backwards).
    pub fn set(&self, now: SystemTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time forward by `by`; leaves it unchanged if the result is
    /// past what the platform's `SystemTime` can hold.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(later) = now.checked_add(by) {
            *now = later;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
