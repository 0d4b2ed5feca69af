//! What a seal or an open may vary beyond the value, and what an open
//! returns.

use core::fmt;
use std::time::Duration;

use crate::algorithm::Algorithm;
use crate::envelope::Envelope;
use crate::key_id::KeyId;
use crate::wire::Binding;

/// How [`Codec::seal_with`](crate::Codec::seal_with) seals: into an existing
/// session or a new one, bound to a request context or not, with the
/// configured lifetime or its own. Every combination is allowed; the
/// default seals a new, unbound session with the configured lifetime, as
/// [`Codec::seal`](crate::Codec::seal) does.
///
/// ```
/// use sealed_session::{Binding, Codec, Keyring, OpenOptions, SealOptions};
/// use std::time::Duration;
///
/// let codec = Codec::new(Keyring::new([Keyring::generate_secret()?])?);
/// let binding = Binding::new("tenant-7");
/// // A new session bound to a tenant, living 30 days ("remember me").
/// let cookie = codec.seal_with(
///     &"alice",
///     &SealOptions::new()
///         .binding(binding)
///         .lifetime(Duration::from_secs(30 * 24 * 60 * 60)),
/// )?;
/// let opened = codec.open_with::<String>(&cookie, &OpenOptions::new().binding(binding))?;
/// assert_eq!(opened.value(), "alice");
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct SealOptions {
    pub(crate) envelope: Option<Envelope>,
    pub(crate) binding: Option<Binding>,
    pub(crate) lifetime: Option<Duration>,
}

impl SealOptions {
    /// A new, unbound session with the configured lifetime.
    pub fn new() -> Self {
        Self::default()
    }

    /// Seals into this existing session: its id, creation time and absolute
    /// deadline are kept and its idle window starts again. Without it, a new
    /// session (fresh random id, created now) is sealed.
    ///
    /// Sealing refuses an envelope that could not be opened now (past a
    /// deadline, created before the cut-off, last sealed too far ahead), so a
    /// seal never revives a session.
    pub fn envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = Some(envelope);
        self
    }

    /// Binds the cookie to a request context: it opens only with the same
    /// binding in [`OpenOptions::binding`] (see [`Binding`]).
    pub fn binding(mut self, binding: Binding) -> Self {
        self.binding = Some(binding);
        self
    }

    /// Gives the session its own absolute lifetime, counted from its
    /// creation (whole seconds), such as 30 days for "remember me". It is
    /// capped by the configured [maximum lifetime](crate::CodecBuilder::max_lifetime);
    /// a lifetime under one second makes a session that is already expired,
    /// which sealing refuses. With [`envelope`](Self::envelope) it changes
    /// that session's deadline.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }
}

/// How [`Codec::open_with`](crate::Codec::open_with) opens; the default
/// opens unbound cookies, as [`Codec::open`](crate::Codec::open) does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct OpenOptions {
    pub(crate) binding: Option<Binding>,
}

impl OpenOptions {
    /// Opens unbound cookies.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens cookies sealed with this binding. A cookie sealed with another
    /// binding, or with none, fails with
    /// [`Error::AuthenticationFailed`](crate::Error::AuthenticationFailed),
    /// and so does a bound cookie opened without one.
    pub fn binding(mut self, binding: Binding) -> Self {
        self.binding = Some(binding);
        self
    }
}

/// An opened cookie: the value, the session's envelope, and how the cookie
/// was sealed.
///
/// Change the value with [`Unsealed::value_mut`] and seal it again with
/// [`Codec::seal_with`](crate::Codec::seal_with) and
/// [`Unsealed::seal_options`], which keep the id, creation time, absolute
/// deadline and binding. `Debug` shows the envelope and how the cookie was
/// sealed, never the value.
#[derive(Clone)]
pub struct Unsealed<T> {
    pub(crate) value: T,
    pub(crate) envelope: Envelope,
    pub(crate) key_id: KeyId,
    pub(crate) algorithm: Algorithm,
    pub(crate) old_secret: bool,
    pub(crate) other_algorithm: bool,
    /// Sealed under a previous schema and converted.
    pub(crate) migrated: bool,
    /// The binding it was opened with, which resealing keeps.
    pub(crate) binding: Option<Binding>,
}

impl<T> fmt::Debug for Unsealed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value may hold personal data, and `T` need not be `Debug`.
        f.debug_struct("Unsealed")
            .field("value", &format_args!("<redacted>"))
            .field("envelope", &self.envelope)
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("old_secret", &self.old_secret)
            .field("migrated", &self.migrated)
            .field("bound", &self.binding.is_some())
            .finish()
    }
}

impl<T> Unsealed<T> {
    /// The session value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The session value, to change before sealing it again.
    pub fn value_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// The session value, dropping the envelope.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The value and the envelope.
    pub fn into_parts(self) -> (T, Envelope) {
        (self.value, self.envelope)
    }

    /// The session's id, creation time and deadlines.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The options that seal this session again: same envelope and the
    /// binding it was opened with.
    ///
    /// ```
    /// use sealed_session::{Codec, Keyring};
    ///
    /// let codec = Codec::new(Keyring::new([Keyring::generate_secret()?])?);
    /// let mut opened = codec.open::<u32>(&codec.seal(&1u32)?)?;
    /// *opened.value_mut() += 1;
    /// let cookie = codec.seal_with(opened.value(), &opened.seal_options())?;
    /// let again = codec.open::<u32>(&cookie)?;
    /// assert_eq!((again.value(), again.envelope().id()), (&2, opened.envelope().id()));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn seal_options(&self) -> SealOptions {
        SealOptions {
            envelope: Some(self.envelope),
            binding: self.binding,
            lifetime: None,
        }
    }

    /// The key id the cookie was sealed under.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The algorithm the cookie was sealed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether the cookie was sealed under a secret other than the current
    /// (first) one. Seal it again so that the old secret can be retired.
    pub fn sealed_with_old_secret(&self) -> bool {
        self.old_secret
    }

    /// Whether the cookie was sealed under a previous schema and converted
    /// by a [migration](crate::CodecBuilder::migrate_from).
    pub fn migrated(&self) -> bool {
        self.migrated
    }

    /// Whether the cookie should be sealed again even if the value did not
    /// change: it was sealed under an old secret, with an algorithm other
    /// than the configured one, or under a previous schema.
    ///
    /// With an idle timeout there is one more reason, which this does not
    /// report: a session that is not sealed again before its
    /// [idle deadline](Envelope::idle_deadline) expires, so seal active
    /// sessions again often enough (the http helper does, see
    /// [`Renewal`](crate::Renewal)).
    pub fn needs_reseal(&self) -> bool {
        self.old_secret || self.other_algorithm || self.migrated
    }
}
