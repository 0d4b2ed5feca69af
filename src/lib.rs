#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Nothing that handles a request may panic. Tests may.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod algorithm;
mod chunks;
pub mod clock;
mod codec;
mod config;
mod cookies;
mod date;
mod envelope;
pub mod error;
mod key_id;
mod keyring;
pub mod limits;
mod payload;
mod session;
mod wire;

#[cfg(feature = "axum")]
pub mod extract;
#[cfg(feature = "tower")]
pub mod layer;

pub use algorithm::Algorithm;
pub use codec::{Codec, CodecBuilder, OpenOptions, SealOptions, Unsealed};
pub use config::{Renewal, SameSite, SessionConfig, SessionConfigBuilder};
pub use envelope::{Envelope, SessionId};
pub use error::{ConfigError, Error};
pub use key_id::KeyId;
pub use keyring::Keyring;
pub use session::{Session, Written};
pub use wire::Binding;
pub use zeroize;
