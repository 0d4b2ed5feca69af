//! Stateless, encrypted cookie sessions: a serde value sealed into the
//! cookie itself with XAES-256-GCM or XChaCha20-Poly1305, under keys derived
//! from an ordered list of secrets (the first seals, all open), with its
//! creation time and deadlines inside the seal and the 4 KB cookie limit
//! checked before anything is sent.
//!
//! * [`Keyring`]: the secrets, newest first, and the keys derived from them.
//! * [`Codec`]: seals a value into a cookie value and opens it again
//!   ([`Codec::seal`], [`Codec::open`]; [`SealOptions`] and [`OpenOptions`]
//!   for an existing session, a [`Binding`] or a lifetime of its own).
//! * [`SessionConfig`]: the cookie attributes around a codec; its
//!   [`load`](SessionConfig::load) reads a request's `Cookie` headers into a
//!   [`Session`] handle, whose [`write`](Session::write) appends the
//!   `Set-Cookie` the response needs.
//! * The modules `layer` and `extract` (features `tower`, `axum`): the same for
//!   tower services and axum handlers.
//! * [`clock`], [`limits`], [`error`]: where time comes from, every limit
//!   and default, and what can go wrong.
//!
//! # Examples
//!
//! ```
//! use sealed_session::{Codec, Keyring, SessionConfig};
//! use http::HeaderMap;
//!
//! // In production: Keyring::from_env("SESSION_SECRETS")?
//! let codec = Codec::new(Keyring::new([Keyring::generate_secret()?])?);
//!
//! // A cookie value by itself ...
//! let value = codec.seal(&("alice", 3u32))?;
//! assert_eq!(codec.open::<(String, u32)>(&value)?.value().1, 3);
//!
//! // ... or the whole request and response round.
//! let config = SessionConfig::new(codec);
//! let session = config.load::<u32>(&HeaderMap::new());
//! session.insert(1);
//! let mut response = HeaderMap::new();
//! session.write(&mut response)?;
//! assert!(response.contains_key(http::header::SET_COOKIE));
//! # Ok::<(), sealed_session::Error>(())
//! ```
//!
//! The README covers configuration, secret rotation, session types,
//! chunking, performance and the wire format; SECURITY.md the threat model.
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

/// The independent implementation of the format the tests share.
#[cfg(test)]
#[path = "../tests/support/reference.rs"]
mod reference;

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

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
