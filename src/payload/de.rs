//! Decoding under the limits: a wrapper around postcard's deserializer that
//! counts nesting and charges collection elements (see the parent module).
use core::cell::Cell;
use core::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::MAX_NESTING;
use crate::error::Error;

/// Why decoding stopped; passed to the format's error type, which postcard
/// does not keep.
const TOO_DEEP: &str = "the value nests deeper than MAX_NESTING";
/// As [`TOO_DEEP`], for the element budget.
const TOO_MANY: &str = "the value has more collection elements than the payload has bytes";

/// Decodes a postcard `payload` as a `T` within the limits of this module.
/// Fails with [`Error::Deserialize`] when it does not decode, breaks a
/// limit, or leaves bytes over: for every payload within the limits, the
/// result is exactly that of `postcard::take_from_bytes` with nothing left.
pub(crate) fn from_bytes<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Error> {
    let limits = Limits::new(payload.len());
    let mut postcard = postcard::Deserializer::from_bytes(payload);
    let value =
        T::deserialize(Guarded::new(&mut postcard, &limits)).map_err(|_| Error::Deserialize)?;
    match postcard.finalize() {
        Ok([]) => Ok(value),
        _ => Err(Error::Deserialize),
    }
}

/// The counters shared by every wrapper of one decoding.
struct Limits {
    /// Levels entered and not yet left.
    depth: Cell<usize>,
    /// Elements and entries that may still be decoded.
    elements: Cell<usize>,
}

impl Limits {
    /// Limits for a payload of `len` bytes.
    #[inline]
    fn new(len: usize) -> Self {
        Self {
            depth: Cell::new(0),
            elements: Cell::new(len),
        }
    }

    /// Runs `decode` one level deeper, or fails if that is past
    /// [`MAX_NESTING`].
    #[inline]
    fn nested<R, E: de::Error>(&self, decode: impl FnOnce() -> Result<R, E>) -> Result<R, E> {
        let depth = self.depth.get();
        if depth >= MAX_NESTING {
            return Err(E::custom(TOO_DEEP));
        }
        self.depth.set(depth + 1);
        let result = decode();
        self.depth.set(depth);
        result
    }

    /// Takes one element from the budget, or fails if none is left.
    #[inline]
    fn charge<E: de::Error>(&self) -> Result<(), E> {
        match self.elements.get().checked_sub(1) {
            Some(left) => {
                self.elements.set(left);
                Ok(())
            }
            None => Err(E::custom(TOO_MANY)),
        }
    }

    /// `hint`, unless the budget cannot cover that many elements: a length
    /// that cannot be decoded within the budget, which the hint would only
    /// preallocate for.
    #[inline]
    fn cap(&self, hint: Option<usize>) -> Option<usize> {
        hint.filter(|&hint| hint <= self.elements.get())
    }
}

/// Whether the elements of a sequence or map are charged to the budget:
/// [`CHARGED`] when the payload chooses its length (sequences, maps, and
/// anything a self-describing format could hand over), [`FIXED`] when the
/// type does (tuples, arrays, structs, tuple and struct variants). A type
/// parameter, so that fixed-length values pay nothing for the check.
const CHARGED: bool = true;
/// See [`CHARGED`].
const FIXED: bool = false;

/// A deserializer (postcard's, or one postcard hands to a visitor) under
/// the limits.
struct Guarded<'l, D> {
    /// The deserializer everything is forwarded to.
    inner: D,
    /// The limits of this decoding.
    limits: &'l Limits,
}

impl<'l, D> Guarded<'l, D> {
    #[inline]
    fn new(inner: D, limits: &'l Limits) -> Self {
        Self { inner, limits }
    }

    /// `visitor`, wrapped so that what it is handed is guarded too.
    #[inline]
    fn visitor<V, const CHARGE: bool>(&self, visitor: V) -> GuardedVisitor<'l, V, CHARGE> {
        GuardedVisitor {
            inner: visitor,
            limits: self.limits,
        }
    }
}

/// Forwards `deserialize_*` methods, wrapping the visitor with the given
/// charging.
macro_rules! forward {
    ($charge:ident: $($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            let visitor = self.visitor::<V, $charge>(visitor);
            self.inner.$method($($arg,)* visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Guarded<'_, D> {
    type Error = D::Error;

    forward! { CHARGED:
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_map();
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    forward! { FIXED:
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor whose nested values are guarded and counted; a sequence or
/// map handed to it is charged if `CHARGE`.
struct GuardedVisitor<'l, V, const CHARGE: bool> {
    inner: V,
    limits: &'l Limits,
}

/// Forwards `visit_*` methods that carry no nested value.
macro_rules! forward_visits {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        #[inline]
        fn $method<E: de::Error>(self, $($arg: $ty),*) -> Result<V::Value, E> {
            self.inner.$method($($arg),*)
        }
    )*};
}

impl<'de, V: Visitor<'de>, const CHARGE: bool> Visitor<'de> for GuardedVisitor<'_, V, CHARGE> {
    type Value = V::Value;

    #[inline]
    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(formatter)
    }

    forward_visits! {
        visit_bool(v: bool);
        visit_i8(v: i8);
        visit_i16(v: i16);
        visit_i32(v: i32);
        visit_i64(v: i64);
        visit_i128(v: i128);
        visit_u8(v: u8);
        visit_u16(v: u16);
        visit_u32(v: u32);
        visit_u64(v: u64);
        visit_u128(v: u128);
        visit_f32(v: f32);
        visit_f64(v: f64);
        visit_char(v: char);
        visit_str(v: &str);
        visit_borrowed_str(v: &'de str);
        visit_string(v: String);
        visit_bytes(v: &[u8]);
        visit_borrowed_bytes(v: &'de [u8]);
        visit_byte_buf(v: Vec<u8>);
        visit_none();
        visit_unit();
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        let limits = self.limits;
        limits.nested(|| self.inner.visit_some(Guarded::new(deserializer, limits)))
    }

    #[inline]
    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<V::Value, D::Error> {
        let limits = self.limits;
        limits.nested(|| {
            self.inner
                .visit_newtype_struct(Guarded::new(deserializer, limits))
        })
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let limits = self.limits;
        let seq = GuardedAccess::<A, CHARGE> { inner: seq, limits };
        limits.nested(|| self.inner.visit_seq(seq))
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let limits = self.limits;
        let map = GuardedAccess::<A, CHARGE> { inner: map, limits };
        limits.nested(|| self.inner.visit_map(map))
    }

    #[inline]
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(GuardedEnum {
            inner: data,
            limits: self.limits,
        })
    }
}

/// A sequence or map whose elements are guarded and, if `CHARGE`, charged.
struct GuardedAccess<'l, A, const CHARGE: bool> {
    inner: A,
    limits: &'l Limits,
}

impl<'de, A: SeqAccess<'de>, const CHARGE: bool> SeqAccess<'de> for GuardedAccess<'_, A, CHARGE> {
    type Error = A::Error;

    #[inline]
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.inner.next_element_seed(GuardedSeed::<S, CHARGE> {
            inner: seed,
            limits: self.limits,
        })
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.limits.cap(self.inner.size_hint())
    }
}

impl<'de, A: MapAccess<'de>, const CHARGE: bool> MapAccess<'de> for GuardedAccess<'_, A, CHARGE> {
    type Error = A::Error;

    #[inline]
    fn next_key_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        // An entry is charged once, for its key.
        self.inner.next_key_seed(GuardedSeed::<S, CHARGE> {
            inner: seed,
            limits: self.limits,
        })
    }

    #[inline]
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(GuardedSeed::<S, FIXED> {
            inner: seed,
            limits: self.limits,
        })
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.limits.cap(self.inner.size_hint())
    }
}

/// One element, key or value: charged (if `CHARGE`) when the format
/// actually decodes it, then decoded under the limits.
struct GuardedSeed<'l, S, const CHARGE: bool> {
    inner: S,
    limits: &'l Limits,
}

impl<'de, S: DeserializeSeed<'de>, const CHARGE: bool> DeserializeSeed<'de>
    for GuardedSeed<'_, S, CHARGE>
{
    type Value = S::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        if CHARGE {
            self.limits.charge()?;
        }
        self.inner
            .deserialize(Guarded::new(deserializer, self.limits))
    }
}

/// An enum whose variant content is guarded.
struct GuardedEnum<'l, A> {
    inner: A,
    limits: &'l Limits,
}

impl<'de, 'l, A: EnumAccess<'de>> EnumAccess<'de> for GuardedEnum<'l, A> {
    type Error = A::Error;
    type Variant = GuardedVariant<'l, A::Variant>;

    #[inline]
    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        // The variant index is a plain integer: nothing to guard.
        let (index, variant) = self.inner.variant_seed(seed)?;
        Ok((
            index,
            GuardedVariant {
                inner: variant,
                limits: self.limits,
            },
        ))
    }
}

/// The content of one enum variant: one level of nesting, counted by the
/// visitor for tuple and struct variants (as for any tuple or struct) and
/// here for newtype variants.
struct GuardedVariant<'l, A> {
    inner: A,
    limits: &'l Limits,
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for GuardedVariant<'_, A> {
    type Error = A::Error;

    #[inline]
    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    #[inline]
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        let limits = self.limits;
        limits.nested(|| {
            self.inner.newtype_variant_seed(GuardedSeed::<S, FIXED> {
                inner: seed,
                limits,
            })
        })
    }

    #[inline]
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner.tuple_variant(
            len,
            GuardedVisitor::<V, FIXED> {
                inner: visitor,
                limits: self.limits,
            },
        )
    }

    #[inline]
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner.struct_variant(
            fields,
            GuardedVisitor::<V, FIXED> {
                inner: visitor,
                limits: self.limits,
            },
        )
    }
}
