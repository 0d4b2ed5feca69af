//! Encoding under the limits: the size pass of sealing runs through a
//! wrapper around postcard's serializer that applies, before anything is
//! encrypted, every limit that decoding applies (see the parent module), and
//! refuses what postcard would write but never read back.

use core::cell::Cell;
use core::fmt;

use serde::ser::{
    self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant,
    SerializeTuple, SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

use super::MAX_NESTING;
use crate::error::{Error, Unserializable};

/// The exact length of the postcard encoding of `value`, after checking
/// that decoding will accept it: no deeper than [`MAX_NESTING`], no more
/// collection elements and map entries than bytes, every sequence and map
/// of known length, as many elements in every sequence, map and tuple as it
/// declared, no struct field skipped by `skip_serializing_if`.
///
/// # Errors
///
/// [`Error::Serialize`] with the reason.
pub(crate) fn encoded_len<T: Serialize + ?Sized>(value: &T) -> Result<usize, Error> {
    let counts = Counts::default();
    let mut size = postcard::Serializer {
        output: postcard::ser_flavors::Size::default(),
    };
    let written = value.serialize(Checked {
        inner: &mut size,
        counts: &counts,
    });
    // A refusal counts even when the value's `Serialize` swallowed the
    // error it was handed.
    match (written, counts.refused.get()) {
        (_, Some(reason)) => return Err(Error::Serialize(reason)),
        (Err(_), None) => return Err(Error::Serialize(Unserializable::Failed)),
        (Ok(_), None) => {}
    }
    let len = postcard::ser_flavors::Flavor::finalize(size.output)
        .map_err(|_| Error::Serialize(Unserializable::Failed))?;
    if counts.elements.get() > len {
        return Err(Error::Serialize(Unserializable::TooManyElements));
    }
    Ok(len)
}

/// The counters of one size pass, and why it was refused.
#[derive(Default)]
struct Counts {
    /// Levels entered and not yet left.
    depth: Cell<usize>,
    /// Sequence elements and map entries so far.
    elements: Cell<usize>,
    /// The reason this module refused the value, if it did.
    refused: Cell<Option<Unserializable>>,
}

impl Counts {
    /// Records why the value is refused and makes the error that stops
    /// serialization.
    fn refuse<E: ser::Error>(&self, reason: Unserializable) -> E {
        self.refused.set(Some(reason));
        E::custom(reason)
    }

    /// Enters one level, or refuses past [`MAX_NESTING`].
    fn enter<E: ser::Error>(&self) -> Result<(), E> {
        let depth = self.depth.get();
        if depth >= MAX_NESTING {
            return Err(self.refuse(Unserializable::TooDeep));
        }
        self.depth.set(depth + 1);
        Ok(())
    }

    fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    /// Runs `encode` one level deeper.
    fn nested<R, E: ser::Error>(&self, encode: impl FnOnce() -> Result<R, E>) -> Result<R, E> {
        self.enter()?;
        let result = encode();
        self.leave();
        result
    }

    /// Counts one sequence element or map entry.
    fn charge(&self) {
        self.elements.set(self.elements.get().saturating_add(1));
    }
}

/// A serializer (postcard's, by reference) under the checks.
struct Checked<'c, S> {
    inner: S,
    counts: &'c Counts,
}

/// A value to serialize under the checks: what compound serializers are
/// handed for their elements.
struct Wrapped<'a, 'c, T: ?Sized> {
    value: &'a T,
    counts: &'c Counts,
}

impl<T: Serialize + ?Sized> Serialize for Wrapped<'_, '_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Checked {
            inner: serializer,
            counts: self.counts,
        })
    }
}

impl<'c, S> Checked<'c, S> {
    fn wrap<'a, T: ?Sized>(&self, value: &'a T) -> Wrapped<'a, 'c, T> {
        Wrapped {
            value,
            counts: self.counts,
        }
    }
}

/// Forwards `serialize_*` methods of values without nested values.
macro_rules! leaves {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
            self.inner.$method($($arg),*)
        }
    )*};
}

impl<'c, S: Serializer> Serializer for Checked<'c, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<'c, S::SerializeSeq>;
    type SerializeTuple = Compound<'c, S::SerializeTuple>;
    type SerializeTupleStruct = Compound<'c, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<'c, S::SerializeTupleVariant>;
    type SerializeMap = Compound<'c, S::SerializeMap>;
    type SerializeStruct = Compound<'c, S::SerializeStruct>;
    type SerializeStructVariant = Compound<'c, S::SerializeStructVariant>;

    leaves! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let wrapped = self.wrap(value);
        self.counts.nested(|| self.inner.serialize_some(&wrapped))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let wrapped = self.wrap(value);
        self.counts
            .nested(|| self.inner.serialize_newtype_struct(name, &wrapped))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let wrapped = self.wrap(value);
        self.counts.nested(|| {
            self.inner
                .serialize_newtype_variant(name, index, variant, &wrapped)
        })
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        if len.is_none() {
            return Err(self.counts.refuse(Unserializable::LengthUnknown));
        }
        self.counts.enter()?;
        let counts = self.counts;
        let inner = self.inner.serialize_seq(len)?;
        Ok(Compound::new(inner, counts, len))
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.counts.enter()?;
        let counts = self.counts;
        let inner = self.inner.serialize_tuple(len)?;
        Ok(Compound::new(inner, counts, Some(len)))
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.counts.enter()?;
        let counts = self.counts;
        let inner = self.inner.serialize_tuple_struct(name, len)?;
        Ok(Compound::new(inner, counts, Some(len)))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.counts.enter()?;
        let counts = self.counts;
        let inner = self
            .inner
            .serialize_tuple_variant(name, index, variant, len)?;
        Ok(Compound::new(inner, counts, Some(len)))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        if len.is_none() {
            return Err(self.counts.refuse(Unserializable::LengthUnknown));
        }
        self.counts.enter()?;
        let counts = self.counts;
        let inner = self.inner.serialize_map(len)?;
        Ok(Compound::new(inner, counts, len))
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.counts.enter()?;
        let counts = self.counts;
        let inner = self.inner.serialize_struct(name, len)?;
        Ok(Compound::new(inner, counts, None))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.counts.enter()?;
        let counts = self.counts;
        let inner = self
            .inner
            .serialize_struct_variant(name, index, variant, len)?;
        Ok(Compound::new(inner, counts, None))
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A compound serializer whose elements are checked; it leaves its level
/// when it ends, and refuses to end with another number of elements than
/// it declared.
struct Compound<'c, C> {
    inner: C,
    counts: &'c Counts,
    /// The length declared when it began: postcard writes it for sequences
    /// and maps, and a tuple's `Deserialize` reads exactly that many
    /// elements. `None` for structs, whose fields are checked one by one.
    declared: Option<usize>,
    /// Elements, map entries or tuple fields written so far.
    written: usize,
}

impl<'c, C> Compound<'c, C> {
    fn new(inner: C, counts: &'c Counts, declared: Option<usize>) -> Self {
        Self {
            inner,
            counts,
            declared,
            written: 0,
        }
    }

    fn wrap<'a, T: ?Sized>(&self, value: &'a T) -> Wrapped<'a, 'c, T> {
        Wrapped {
            value,
            counts: self.counts,
        }
    }

    /// Counts one element, entry (once, for its key) or tuple field.
    fn count(&mut self) {
        self.written = self.written.saturating_add(1);
    }

    fn ended<R, E: ser::Error>(self, end: impl FnOnce(C) -> Result<R, E>) -> Result<R, E> {
        self.counts.leave();
        if self
            .declared
            .is_some_and(|declared| declared != self.written)
        {
            return Err(self.counts.refuse(Unserializable::LengthMismatch));
        }
        end(self.inner)
    }
}

impl<C: SerializeSeq> SerializeSeq for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.counts.charge();
        self.count();
        let wrapped = self.wrap(value);
        self.inner.serialize_element(&wrapped)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.ended(C::end)
    }
}

impl<C: SerializeTuple> SerializeTuple for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.count();
        let wrapped = self.wrap(value);
        self.inner.serialize_element(&wrapped)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.ended(C::end)
    }
}

impl<C: SerializeTupleStruct> SerializeTupleStruct for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.count();
        let wrapped = self.wrap(value);
        self.inner.serialize_field(&wrapped)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.ended(C::end)
    }
}

impl<C: SerializeTupleVariant> SerializeTupleVariant for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.count();
        let wrapped = self.wrap(value);
        self.inner.serialize_field(&wrapped)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.ended(C::end)
    }
}

impl<C: SerializeMap> SerializeMap for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        // An entry is charged once, for its key, as when decoding.
        self.counts.charge();
        self.count();
        let wrapped = self.wrap(key);
        self.inner.serialize_key(&wrapped)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let wrapped = self.wrap(value);
        self.inner.serialize_value(&wrapped)
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), C::Error> {
        self.counts.charge();
        self.count();
        let (key, value) = (self.wrap(key), self.wrap(value));
        self.inner.serialize_entry(&key, &value)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.ended(C::end)
    }
}

impl<C: SerializeStruct> SerializeStruct for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        let wrapped = self.wrap(value);
        self.inner.serialize_field(key, &wrapped)
    }

    fn skip_field(&mut self, _key: &'static str) -> Result<(), C::Error> {
        Err(self.counts.refuse(Unserializable::SkippedField))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.ended(C::end)
    }
}

impl<C: SerializeStructVariant> SerializeStructVariant for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        let wrapped = self.wrap(value);
        self.inner.serialize_field(key, &wrapped)
    }

    fn skip_field(&mut self, _key: &'static str) -> Result<(), C::Error> {
        Err(self.counts.refuse(Unserializable::SkippedField))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.ended(C::end)
    }
}
