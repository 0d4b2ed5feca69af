//! The codec: ties keyring, wire format and envelope together into `seal`
//! and `open`.

mod options;
mod settings;

use core::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::algorithm::NONCE_LEN;
use crate::envelope::{Envelope, ID_LEN, MAX_ENVELOPE_LEN, SchemaId, SessionId, unix_secs};
use crate::error::{ConfigError, Error, Unserializable};
use crate::keyring::{Keyring, Keys};
use crate::payload;
use crate::wire::{self, Header, MAX_AD_LEN, OVERHEAD};

pub use options::{OpenOptions, SealOptions, Unsealed};
pub(crate) use settings::Settings;
pub use settings::{
    CodecBuilder, DEFAULT_IDLE_TIMEOUT, DEFAULT_LEEWAY, DEFAULT_LIFETIME, DEFAULT_MAX_COOKIE_SIZE,
    MAX_COOKIE_SIZE_CEILING,
};

/// Seals serde values into cookie values and opens them again.
///
/// A codec holds the keys derived from a [`Keyring`] and the session
/// settings. It is `Send + Sync`, cheap to clone (one reference count), and
/// never locks: share one per cookie name across the whole application.
///
/// ```
/// use sealed_session::{Codec, Keyring};
/// use std::time::Duration;
///
/// let keyring = Keyring::new([Keyring::generate_secret()?])?;
/// let codec = Codec::builder(keyring)
///     .cookie_name("id")
///     .lifetime(Duration::from_secs(24 * 60 * 60))
///     .idle_timeout(Duration::from_secs(30 * 60))
///     .build()?;
///
/// let cookie = codec.seal(&("alice", 42u32))?;
/// let opened = codec.open::<(String, u32)>(&cookie)?;
/// assert_eq!(opened.value(), &("alice".to_string(), 42));
///
/// // Any change to the cookie is caught.
/// let mut tampered = cookie.clone();
/// tampered.replace_range(40..41, if &cookie[40..41] == "A" { "B" } else { "A" });
/// assert!(codec.open::<(String, u32)>(&tampered).is_err());
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct Codec {
    inner: Arc<Settings>,
}

/// Checks a cookie value's length (in characters) before anything is
/// decoded or encrypted: one cookie under the codec's own settings, or the
/// caller's layout (the http helper's chunk cookies).
pub(crate) type SizeRule<'a> = &'a dyn Fn(usize) -> Result<(), Error>;

impl CodecBuilder {
    /// Checks the settings and builds the codec.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidCookieName`], [`ConfigError::CookieSizeTooSmall`],
    /// [`ConfigError::CookieSizeTooLarge`], [`ConfigError::DurationTooShort`],
    /// [`ConfigError::MaxLifetimeTooShort`], [`ConfigError::CutOffInFuture`],
    /// [`ConfigError::InvalidLabel`], [`ConfigError::SealingAlgorithmNotOpened`]
    /// or (with an application label, with negligible probability)
    /// [`ConfigError::DuplicateKeyId`].
    pub fn build(self) -> Result<Codec, ConfigError> {
        Ok(Codec {
            inner: Arc::new(self.settings()?),
        })
    }
}

impl Codec {
    /// A codec with every setting at its default (see [`CodecBuilder`]).
    #[must_use]
    pub fn new(keyring: Keyring) -> Self {
        Self {
            inner: Arc::new(Settings::defaults(keyring)),
        }
    }

    /// Starts a [`CodecBuilder`] with every setting at its default.
    pub fn builder(keyring: Keyring) -> CodecBuilder {
        CodecBuilder::new(keyring)
    }

    /// The cookie name, bound into every seal.
    #[must_use]
    pub fn cookie_name(&self) -> &str {
        self.inner.cookie_name.as_str()
    }

    /// The largest payload (postcard bytes of the value) that always fits in
    /// one cookie under this codec's name and limit, whatever the algorithm
    /// and the date.
    ///
    /// With the defaults (name `__Host-session`, 4096 bytes) this is 2977
    /// bytes. It assumes the longest times the format allows (6 bytes each);
    /// a session sealed between 1978 and 3058 with a lifetime under 24 days
    /// has 5 + 3 + 3 bytes of times and fits 7 more. Sealing checks the
    /// exact size.
    ///
    /// ```
    /// use sealed_session::{Codec, Keyring};
    /// let codec = Codec::new(Keyring::new([Keyring::generate_secret()?])?);
    /// assert_eq!(codec.max_payload_len(), 2977);
    /// assert!(codec.seal(&vec![0u8; 2977 - 2]).is_ok()); // 2 bytes of length prefix
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn max_payload_len(&self) -> usize {
        let value_chars = self
            .inner
            .max_cookie_size
            .saturating_sub(self.inner.cookie_name.as_str().len());
        wire::max_decoded_len(value_chars).saturating_sub(OVERHEAD + MAX_ENVELOPE_LEN)
    }

    /// Seals `value` as a new session (fresh random id, created now,
    /// the configured lifetime) and returns the cookie value.
    ///
    /// ```
    /// use sealed_session::{Codec, Keyring};
    ///
    /// let codec = Codec::new(Keyring::new([Keyring::generate_secret()?])?);
    /// let cookie = codec.seal(&("alice", 42u32))?;
    /// assert_eq!(codec.open::<(String, u32)>(&cookie)?.value().1, 42);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] when the cookie would exceed the maximum size
    /// (checked before encrypting), [`Error::Serialize`], [`Error::Random`],
    /// or [`ConfigError::CutOffInFuture`] if the clock went back behind the
    /// cut-off since the codec was built.
    pub fn seal<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, Error> {
        self.seal_with(value, &SealOptions::new())
    }

    /// Seals `value` as [`SealOptions`] say: into an existing session or a
    /// new one, bound or not, with its own lifetime or the configured one.
    ///
    /// ```
    /// use sealed_session::{Codec, Keyring, SealOptions};
    ///
    /// let codec = Codec::new(Keyring::new([Keyring::generate_secret()?])?);
    /// let first = codec.open::<u32>(&codec.seal(&1u32)?)?;
    /// // The same session (id, creation time, deadline) with a new value.
    /// let cookie = codec.seal_with(&2u32, &SealOptions::new().envelope(*first.envelope()))?;
    /// assert_eq!(codec.open::<u32>(&cookie)?.envelope().id(), first.envelope().id());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Codec::seal`]; for an existing envelope also the errors opening
    /// would give for it now: [`Error::Expired`] once either deadline has
    /// passed (sealing never revives a session), [`Error::Revoked`] if it
    /// was created before the cut-off, [`Error::NotYetValid`] if it was last
    /// sealed further ahead than the leeway. Such a cookie could not be
    /// opened, so none is made.
    pub fn seal_with<T: Serialize + ?Sized>(
        &self,
        value: &T,
        options: &SealOptions,
    ) -> Result<String, Error> {
        self.seal_sized(value, options, &|len| self.fits_one(len))
            .map(|(token, _)| token)
    }

    /// Seals raw payload bytes, for callers that serialize with something
    /// other than serde and postcard: the bytes are the wire format's
    /// payload as they are. Otherwise as [`Codec::seal_with`].
    ///
    /// # Errors
    ///
    /// As [`Codec::seal_with`].
    pub fn seal_bytes(&self, payload: &[u8], options: &SealOptions) -> Result<String, Error> {
        self.seal_payload(
            payload.len(),
            options,
            &|len| self.fits_one(len),
            |out| {
                out.copy_from_slice(payload);
                Ok(())
            },
            draw_random,
        )
        .map(|(token, _)| token)
    }

    /// Opens a cookie value into a `T`.
    ///
    /// ```
    /// use sealed_session::{Codec, Error, Keyring};
    ///
    /// let codec = Codec::new(Keyring::new([Keyring::generate_secret()?])?);
    /// let cookie = codec.seal(&7u8)?;
    /// assert_eq!(codec.open::<u8>(&cookie)?.value(), &7);
    /// assert_eq!(codec.open::<u8>("forged").unwrap_err().code(), "malformed");
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// One variant per check, in this order: [`Error::TooLarge`] (before any
    /// decoding), [`Error::Malformed`], [`Error::UnsupportedVersion`],
    /// [`Error::UnknownAlgorithm`], [`Error::DisabledAlgorithm`],
    /// [`Error::UnknownKey`], [`Error::AuthenticationFailed`],
    /// [`Error::Malformed`] (envelope), [`Error::Expired`],
    /// [`Error::NotYetValid`], [`Error::Revoked`], [`Error::SchemaMismatch`],
    /// [`Error::Deserialize`].
    pub fn open<T: DeserializeOwned + 'static>(&self, value: &str) -> Result<Unsealed<T>, Error> {
        self.open_with(value, &OpenOptions::new())
    }

    /// Opens a cookie value as [`OpenOptions`] say (with a binding).
    ///
    /// # Errors
    ///
    /// As [`Codec::open`].
    pub fn open_with<T: DeserializeOwned + 'static>(
        &self,
        value: &str,
        options: &OpenOptions,
    ) -> Result<Unsealed<T>, Error> {
        self.open_sized(value, options, &|len| self.fits_one(len))
    }

    /// Opens a cookie value and returns the raw payload bytes (wiped on
    /// drop): the counterpart of [`Codec::seal_bytes`]; never
    /// [`Error::Deserialize`]. Only payloads of this codec's schema are
    /// handed out: migrations convert typed values, so a cookie of a
    /// previous schema fails with [`Error::SchemaMismatch`] here.
    ///
    /// # Errors
    ///
    /// As [`Codec::open`].
    pub fn open_bytes(
        &self,
        value: &str,
        options: &OpenOptions,
    ) -> Result<Unsealed<Zeroizing<Vec<u8>>>, Error> {
        self.open_payload(
            value,
            options,
            &|len| self.fits_one(len),
            |schema, payload| {
                if schema != self.inner.schema {
                    return Err(Error::SchemaMismatch);
                }
                Ok((Zeroizing::new(payload.to_vec()), false))
            },
        )
    }
}

/// The crate-internal surface the http helper builds on.
impl Codec {
    /// The checked settings.
    pub(crate) fn settings(&self) -> &Settings {
        &self.inner
    }

    /// The time on the configured clock.
    pub(crate) fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// A fresh envelope: new random session id, created now, deadlines from
    /// the settings.
    pub(crate) fn new_envelope(&self, now: SystemTime) -> Result<Envelope, Error> {
        let now = unix_secs(now);
        self.check_cut_off(now)?;
        Ok(self.inner.fresh(SessionId::random()?, now))
    }

    /// The envelope as a seal at `now` writes it: same id, creation time and
    /// absolute deadline, last seal at `now`.
    pub(crate) fn after_seal(&self, envelope: &Envelope, now: SystemTime) -> Envelope {
        envelope.touched(unix_secs(now), &self.inner.rules)
    }

    /// The serde seal path, with the caller's size rule: the cookie value and
    /// the envelope it carries.
    pub(crate) fn seal_sized<T: Serialize + ?Sized>(
        &self,
        value: &T,
        options: &SealOptions,
        fits: SizeRule<'_>,
    ) -> Result<(String, Envelope), Error> {
        let payload_len = payload::encoded_len(value)?;
        self.seal_payload(
            payload_len,
            options,
            fits,
            |out| match postcard::to_slice(value, out) {
                Ok(written) if written.len() == payload_len => Ok(()),
                // A `Serialize` impl that wrote something else the second time.
                _ => Err(Error::Serialize(Unserializable::Failed)),
            },
            draw_random,
        )
    }

    /// The serde open path, with the caller's size rule (the http helper's
    /// for the joined text of chunk cookies).
    pub(crate) fn open_sized<T: DeserializeOwned + 'static>(
        &self,
        value: &str,
        options: &OpenOptions,
        fits: SizeRule<'_>,
    ) -> Result<Unsealed<T>, Error> {
        self.open_payload(value, options, fits, |schema, payload| {
            self.inner.decode::<T>(schema, payload)
        })
    }
}

impl Codec {
    /// One cookie: its name plus a value of `value_len` characters within
    /// the maximum cookie size.
    pub(crate) fn fits_one(&self, value_len: usize) -> Result<(), Error> {
        let s = &*self.inner;
        let size = s.cookie_name.as_str().len().saturating_add(value_len);
        if size > s.max_cookie_size {
            return Err(Error::TooLarge {
                size,
                limit: s.max_cookie_size,
            });
        }
        Ok(())
    }

    /// Refuses to create a session when the cut-off is later than `now`
    /// plus the leeway (the clock went back since the codec was built): it
    /// would be created at the cut-off, in the future.
    fn check_cut_off(&self, now: u64) -> Result<(), Error> {
        let rules = &self.inner.rules;
        if rules
            .not_before
            .is_some_and(|cut| cut > now.saturating_add(rules.leeway))
        {
            return Err(ConfigError::CutOffInFuture.into());
        }
        Ok(())
    }

    /// The one seal path. `write_payload` gets a slice of exactly
    /// `payload_len` bytes to fill; `draw` gives the nonce (and, when asked
    /// to, the id of a new session) once the size check passed. Returns the
    /// cookie value and the envelope it carries.
    ///
    /// Callers pass [`draw_random`]; the unit tests pass the published
    /// vectors' nonces.
    fn seal_payload(
        &self,
        payload_len: usize,
        options: &SealOptions,
        fits: SizeRule<'_>,
        write_payload: impl FnOnce(&mut [u8]) -> Result<(), Error>,
        draw: impl FnOnce(bool) -> Result<Drawn, Error>,
    ) -> Result<(String, Envelope), Error> {
        let s = &*self.inner;
        let now = unix_secs(s.clock.now());
        let new_session = options.envelope.is_none();
        let envelope = match options.envelope {
            Some(envelope) => envelope,
            None => {
                // The id is a placeholder until the size check passed; then
                // one system call draws both the session id and the nonce
                // (on many machines a `getrandom` call costs as much as the
                // encryption).
                self.check_cut_off(now)?;
                s.fresh(SessionId::from_random_bytes([0; ID_LEN]), now)
            }
        };
        let envelope = match options.lifetime {
            Some(lifetime) => envelope.with_lifetime(lifetime),
            None => envelope,
        };
        // Refuse to make a cookie that would not open right now: an envelope
        // past a deadline (an `Unsealed` kept past its idle deadline must
        // not be revived), created before the cut-off, or sealed too far
        // ahead.
        let envelope = envelope.governed(&s.rules);
        envelope.check(now, &s.rules)?;
        let envelope = envelope.touched(now, &s.rules);

        // The size is known from the plaintext length alone: check it before
        // drawing randomness, allocating or encrypting.
        let token_len = envelope
            .encoded_len()
            .checked_add(payload_len)
            .and_then(|n| n.checked_add(OVERHEAD));
        let value_len = token_len.and_then(wire::encoded_len);
        let (Some(token_len), Some(value_len)) = (token_len, value_len) else {
            return Err(Error::TooLarge {
                size: usize::MAX,
                limit: s.max_cookie_size,
            });
        };
        fits(value_len)?;

        let key = s.keys.current();
        let header = Header {
            algorithm: s.algorithm,
            key_id: key.id,
        };
        let (nonce, new_id) = draw(new_session)?;
        let envelope = match new_id {
            Some(id) => envelope.with_id(id),
            None => envelope,
        };

        // One allocation for the token, of exactly its final length; it
        // holds plaintext until encrypted in place, and is wiped if dropped
        // before (`Plaintext`).
        let mut token = Plaintext(Vec::with_capacity(token_len));
        wire::start_token(&mut token.0, header, &nonce);
        envelope.push(s.schema, &mut token.0);
        let payload_start = token.0.len();
        token.0.resize(payload_start + payload_len, 0);
        write_payload(token.0.split_at_mut(payload_start).1)?;

        let mut ad = [0u8; MAX_AD_LEN];
        let ad = wire::associated_data(&mut ad, header, &s.cookie_name, options.binding.as_ref());
        // The AEADs refuse only plaintexts over their length limits
        // (gigabytes); a cookie-sized buffer never reaches them.
        let tag = key
            .keys
            .encrypt(
                s.algorithm,
                &nonce,
                ad,
                token.0.split_at_mut(wire::BODY_START).1,
            )
            .map_err(|_| Error::TooLarge {
                size: value_len,
                limit: s.max_cookie_size,
            })?;
        token.0.extend_from_slice(&tag);
        // Encrypted: the buffer now holds only what the cookie shows anyway,
        // so it is encoded and freed without the wipe.
        Ok((wire::encode(&token.encrypted()), envelope))
    }

    /// The open path shared by every `open*` method, in the documented
    /// order of checks.
    fn open_payload<T>(
        &self,
        value: &str,
        options: &OpenOptions,
        fits: SizeRule<'_>,
        read_payload: impl FnOnce(SchemaId, &[u8]) -> Result<(T, bool), Error>,
    ) -> Result<Unsealed<T>, Error> {
        let s = &*self.inner;
        fits(value.len())?;
        let binding = options.binding.as_ref();
        let mut token = wire::decode(value)?;
        let parts = wire::parse(&mut token)?;
        let header = parts.header;
        if !s.opens.contains(header.algorithm) {
            return Err(Error::DisabledAlgorithm(header.algorithm));
        }
        let (position, key) = s
            .keys
            .find(header.key_id)
            .ok_or(Error::UnknownKey(header.key_id))?;
        let mut ad = [0u8; MAX_AD_LEN];
        let ad = wire::associated_data(&mut ad, header, &s.cookie_name, binding);
        key.keys
            .decrypt(header.algorithm, &parts.nonce, ad, parts.body, &parts.tag)
            .map_err(|_| Error::AuthenticationFailed)?;
        let (envelope, schema, payload) = Envelope::read(parts.body, &s.rules)?;
        envelope.check(unix_secs(s.clock.now()), &s.rules)?;
        let (value, migrated) = read_payload(schema, payload)?;
        Ok(Unsealed {
            value,
            envelope,
            key_id: header.key_id,
            algorithm: header.algorithm,
            old_secret: position != 0,
            other_algorithm: header.algorithm != s.algorithm,
            migrated,
            binding: options.binding,
        })
    }
}

/// A token being sealed: it holds plaintext until it is encrypted in
/// place, so it is wiped if dropped before that (an error, or a panic in the
/// value's `Serialize`).
struct Plaintext(Vec<u8>);

impl Plaintext {
    /// The token once encrypted: it holds only what the cookie shows
    /// anyway, so it is released without the wipe.
    fn encrypted(mut self) -> Vec<u8> {
        core::mem::take(&mut self.0)
    }
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// What a seal draws once its size check passed: the nonce, and the id of
/// a new session (`None` keeps the envelope's id).
type Drawn = ([u8; NONCE_LEN], Option<SessionId>);

/// A nonce from the operating system's random number generator, and with
/// `new_id` a new session id, in one call.
fn draw_random(new_id: bool) -> Result<Drawn, Error> {
    let mut random = [0u8; NONCE_LEN + ID_LEN];
    let drawn = if new_id {
        random.as_mut_slice()
    } else {
        random.split_at_mut(NONCE_LEN).0
    };
    getrandom::fill(drawn).map_err(|_| Error::Random)?;
    // The first NONCE_LEN bytes are the nonce, the last ID_LEN (16) the id:
    // an array pattern splits them with no runtime check.
    const _: () = assert!(ID_LEN == 16);
    let [
        nonce @ ..,
        i0,
        i1,
        i2,
        i3,
        i4,
        i5,
        i6,
        i7,
        i8,
        i9,
        i10,
        i11,
        i12,
        i13,
        i14,
        i15,
    ] = random;
    let id = [
        i0, i1, i2, i3, i4, i5, i6, i7, i8, i9, i10, i11, i12, i13, i14, i15,
    ];
    Ok((nonce, new_id.then(|| SessionId::from_random_bytes(id))))
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &*self.inner;
        struct Ids<'a>(&'a Keys);
        impl fmt::Debug for Ids<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.ids()).finish()
            }
        }
        f.debug_struct("Codec")
            .field("cookie_name", &s.cookie_name.as_str())
            .field("algorithm", &s.algorithm)
            .field("open_algorithms", &s.opens)
            .field("lifetime_secs", &s.lifetime)
            .field("max_lifetime_secs", &s.rules.max_lifetime)
            .field("idle_timeout_secs", &s.rules.idle_timeout)
            .field("max_cookie_size", &s.max_cookie_size)
            .field("leeway_secs", &s.rules.leeway)
            .field("reject_created_before", &s.rules.not_before)
            .field("app_label", &s.app_label)
            .field("schema", &s.schema_label)
            .field("migrations", &s.migrations)
            .field("key_ids", &Ids(&s.keys))
            .field("clock", &s.clock)
            .finish()
    }
}

/// The published vectors, reproduced through the private nonce seam.
#[cfg(test)]
mod tests;
