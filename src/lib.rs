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
mod codec;
mod envelope;
mod error;
mod http;
mod keyring;
mod payload;
mod session;
mod wire;

#[cfg(feature = "axum")]
mod axum;
#[cfg(feature = "tower")]
mod tower;

pub use algorithm::{Algorithm, UnknownAlgorithmName};
#[cfg(feature = "axum")]
pub use axum::MissingSessionLayer;
pub use chunks::{DEFAULT_HEADER_BUDGET, MAX_CHUNKS};
pub use codec::{
    Codec, CodecBuilder, DEFAULT_COOKIE_NAME, DEFAULT_IDLE_TIMEOUT, DEFAULT_LEEWAY,
    DEFAULT_LIFETIME, DEFAULT_MAX_COOKIE_SIZE, MAX_COOKIE_SIZE_CEILING, Opened,
};
pub use envelope::{Deadline, Envelope, MAX_TIME, SessionId};
pub use error::{ConfigError, Error, Malformed, Unserializable};
pub use http::{
    MAX_COOKIE_AGE, MAX_SESSION_COOKIES_TRIED, Renewal, SameSite, SessionConfig,
    SessionConfigBuilder,
};
pub use keyring::{BASE64_SECRET_PREFIX, KeyId, Keyring, MIN_SECRET_LEN};
pub use payload::MAX_NESTING;
pub use session::{Session, Written};
#[cfg(feature = "tower")]
pub use tower::{ResponseFuture, SessionLayer, SessionService};
pub use wire::Binding;
pub use zeroize::Zeroizing;
