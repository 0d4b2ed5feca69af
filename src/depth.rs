//! Limits on decoding an authenticated payload: nesting depth, element
//! count and preallocation.
//!
//! postcard decodes by recursion, one or more stack frames per nested
//! value, and has no depth limit of its own. The server seals whatever
//! value it is given, so a session type that can nest (a recursive enum, a
//! tree of `Vec`s, a chain of `Option<Box<_>>`) filled with user-controlled
//! data can be sealed thousands of levels deep, and then overflows the
//! stack on the next request that opens it: an abort of the whole process,
//! not a panic. A forged payload needs the secret; this one only needs the
//! server's own seal.
//!
//! [`from_bytes`] wraps postcard's deserializer in one that:
//!
//! - counts nesting, and fails past [`MAX_NESTING`] levels, before the
//!   stack grows any deeper;
//! - charges every element of a sequence and every entry of a map (the
//!   collections whose length is read from the payload) to one budget for
//!   the whole payload, equal to its length in bytes, and fails when the
//!   budget runs out, so that a claimed length cannot make decoding loop
//!   longer than the payload is long;
//! - drops a collection's size hint when the budget cannot cover it, so
//!   that no collection preallocates for more elements than the payload
//!   could hold (postcard drops a sequence's hint longer than the bytes
//!   left, but passes a map's claimed length on as it is, and serde then
//!   preallocates up to 1 MiB of entries for a `HashMap`).
//!
//! Every other call is forwarded to postcard unchanged. The wrapper holds
//! two counters on the stack and allocates nothing.
//!
//! # Why the element budget refuses no valid value of non-zero size
//!
//! Every element or entry that takes at least one byte of the payload can
//! be given its first byte, and no two such elements share one: elements
//! of the same collection follow each other; an element nested inside
//! another starts after the length prefix of its own collection, so later
//! than the element containing it. Hence a payload of `n` bytes holds at
//! most `n` such elements in all its collections together, and the budget
//! (which counts them) never runs out for them, nor does a size hint
//! postcard reports for them exceed what is left of it.
//!
//! Elements that take no bytes at all are values of zero-sized types
//! (`()`, unit structs, `PhantomData`, empty arrays): a `Vec<()>` is only a
//! length. A value whose collection elements and map entries, counted at
//! every level together, outnumber its payload bytes (a `Vec<()>` of 10
//! elements is sealed in 1 byte; `vec![vec![()], vec![()]]` has 4 elements,
//! the outer two and one in each inner one, in 3 bytes, and fails too) is
//! sealed, but fails to open with [`Error::Deserialize`]. Only zero-sized
//! elements can get there, and session types do not hold collections of
//! zero-sized values in practice; the alternative is a decode loop whose
//! length an authenticated varint chooses (up to 2^64).

use core::cell::Cell;
use core::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use crate::error::Error;

/// The deepest nesting of compound values a session payload may have.
///
/// Each of these counts one level while its content is decoded: a sequence
/// (`Vec`, `VecDeque`, sets), a map, a tuple or array, a tuple struct, a
/// struct, the content of a newtype, tuple or struct enum variant, the
/// value inside `Some`, and a newtype struct. (A `Box`, a transparent
/// struct and a unit variant count nothing.) A value with more levels is sealed (the
/// limit is only checked when opening), but fails to open with
/// [`Error::Deserialize`], like any value that does not decode, and the
/// http helper removes its cookie.
///
/// 128 is far above what session data needs (a struct of `Vec`s of structs
/// of `Option`s is four or five levels) and is serde_json's default
/// recursion limit. It keeps the stack a payload can make decoding use a
/// small part of a thread's stack: for small recursive types, a level took
/// 63 to 167 bytes of stack in a release build and 0.8 to 1.6 KiB in a
/// debug build (rustc 1.95, x86-64; the unit tests of this module measure
/// it and assert that 128 levels stay under 512 KiB), so 128 levels take
/// at most about 21 KiB and 200 KiB, against 2 MiB for Rust's spawned
/// threads, tokio's workers and test threads. (A type with large fields
/// takes more per level: the limit bounds the count, the type the frame.)
/// Without the limit, a 4096-byte cookie holds about 3 000 levels, and a
/// larger maximum cookie size or a chunked session about 49 000, enough to
/// overflow a 2 MiB stack in a release build.
///
/// The same decoding also charges every element of a length-prefixed
/// collection and every map entry, at every level, against the payload's
/// length in bytes: a value with more of them in total than its payload has
/// bytes, which only zero-sized elements (such as `()`) make possible,
/// fails to open as well.
pub const MAX_NESTING: usize = 128;

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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
    use std::marker::PhantomData;
    use std::sync::mpsc;
    use std::time::Duration;

    use allocation_counter::measure;
    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};

    use super::*;

    /// What opening did before this module: plain postcard, nothing left.
    fn plain<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Error> {
        match postcard::take_from_bytes::<T>(payload) {
            Ok((value, [])) => Ok(value),
            _ => Err(Error::Deserialize),
        }
    }

    /// Postcard's varint (LEB128) of `n`.
    fn varint(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    /// A recursive type: each `Branch` is one level (a newtype variant)
    /// and one byte; `Leaf` is a unit variant, no level.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Node {
        Leaf,
        Branch(Box<Node>),
    }

    /// The postcard bytes of a `Node` with `levels` branches.
    fn chain(levels: usize) -> Vec<u8> {
        let mut bytes = vec![1; levels];
        bytes.push(0);
        bytes
    }

    /// A `Node` with `levels` branches.
    fn node(levels: usize) -> Node {
        (0..levels).fold(Node::Leaf, |inner, _| Node::Branch(Box::new(inner)))
    }

    #[test]
    fn exactly_max_nesting_opens_and_one_more_level_does_not() {
        assert_eq!(
            from_bytes::<Node>(&chain(MAX_NESTING)),
            Ok(node(MAX_NESTING))
        );
        assert_eq!(
            from_bytes::<Node>(&chain(MAX_NESTING + 1)),
            Err(Error::Deserialize)
        );
        // Plain postcard opens both: the limit is this module's.
        assert_eq!(
            plain::<Node>(&chain(MAX_NESTING + 1)),
            Ok(node(MAX_NESTING + 1))
        );
        // A box is no level of its own.
        assert_eq!(
            from_bytes::<Box<Box<Node>>>(&chain(MAX_NESTING)),
            Ok(Box::new(Box::new(node(MAX_NESTING))))
        );
    }

    #[test]
    fn far_deeper_nesting_fails_without_overflowing_the_stack() {
        // Far beyond what plain postcard decodes on a 2 MiB stack in any
        // build (about 5 400 levels in debug, 43 500 in release); the
        // decoding stops at level MAX_NESTING + 1.
        for levels in [1_000, 100_000, 1_000_000] {
            assert_eq!(from_bytes::<Node>(&chain(levels)), Err(Error::Deserialize));
            // Unterminated, too.
            assert_eq!(
                from_bytes::<Node>(&vec![1; levels]),
                Err(Error::Deserialize)
            );
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct NewtypeStruct(Node);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct TupleStruct(u8, Node);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Struct {
        first: u8,
        node: Node,
    }

    /// Transparent: no level of its own, as for a box.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(transparent)]
    struct Transparent {
        node: Node,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Variant {
        Unit,
        Newtype(Node),
        Tuple(u8, Node),
        Struct { first: u8, node: Node },
    }

    /// `wrap`ping a chain of `MAX_NESTING - levels` branches in `W` opens
    /// it as plain postcard does; one branch more fails.
    fn assert_levels<W>(levels: usize, wrap: impl Fn(Vec<u8>) -> Vec<u8>)
    where
        W: DeserializeOwned + PartialEq + fmt::Debug,
    {
        let name = std::any::type_name::<W>();
        let fits = wrap(chain(MAX_NESTING - levels));
        let opened = from_bytes::<W>(&fits);
        assert!(opened.is_ok(), "{name}");
        assert_eq!(opened, plain::<W>(&fits), "{name}");
        let over = wrap(chain(MAX_NESTING - levels + 1));
        assert_eq!(from_bytes::<W>(&over), Err(Error::Deserialize), "{name}");
        assert!(plain::<W>(&over).is_ok(), "{name}");
    }

    /// `prefix` followed by the bytes.
    fn after(prefix: &'static [u8]) -> impl Fn(Vec<u8>) -> Vec<u8> {
        move |bytes| [prefix, &bytes].concat()
    }

    #[test]
    fn each_compound_kind_counts_one_level() {
        // Length-prefixed sequences and maps (one element or entry).
        assert_levels::<Vec<Node>>(1, after(&[1]));
        assert_levels::<VecDeque<Node>>(1, after(&[1]));
        assert_levels::<BTreeMap<u8, Node>>(1, after(&[1, 9]));
        assert_levels::<HashMap<u8, Node>>(1, after(&[1, 9]));
        // Tuples, arrays, tuple structs and structs.
        assert_levels::<(Node,)>(1, after(&[]));
        assert_levels::<(u8, Node)>(1, after(&[9]));
        assert_levels::<[Node; 1]>(1, after(&[]));
        assert_levels::<TupleStruct>(1, after(&[9]));
        assert_levels::<Struct>(1, after(&[9]));
        // Some, newtype structs.
        assert_levels::<Option<Node>>(1, after(&[1]));
        assert_levels::<NewtypeStruct>(1, after(&[]));
        // Enum variants with content (index 0 is the unit variant).
        assert_levels::<Variant>(1, after(&[1]));
        assert_levels::<Variant>(1, after(&[2, 9]));
        assert_levels::<Variant>(1, after(&[3, 9]));
        // No level of their own: boxes, transparent structs.
        assert_levels::<Box<Node>>(0, after(&[]));
        assert_levels::<Transparent>(0, after(&[]));
        // Kinds add up.
        assert_levels::<Vec<Option<Node>>>(2, after(&[1, 1]));
        assert_levels::<Option<Struct>>(2, after(&[1, 9]));
        assert_levels::<BTreeMap<u8, Vec<Variant>>>(3, after(&[1, 9, 1, 1]));
        assert_levels::<((Node,),)>(2, after(&[]));
    }

    #[test]
    fn levels_are_left_again_after_each_value() {
        // Siblings each as deep as the limit allows: the depth counts the
        // nesting, not the values.
        let deep = chain(MAX_NESTING - 1);
        let pair = [deep.as_slice(), &deep].concat();
        assert_eq!(
            from_bytes::<(Node, Node)>(&pair),
            Ok((node(MAX_NESTING - 1), node(MAX_NESTING - 1)))
        );
        let three = [&[3], deep.as_slice(), &deep, &deep].concat();
        let opened = from_bytes::<Vec<Node>>(&three).expect("opens");
        assert_eq!(opened.len(), 3);
        assert!(opened.iter().all(|n| *n == node(MAX_NESTING - 1)));
        // A unit variant, a None, and a Some at the limit (the tuple is
        // one level, the Some another).
        let mixed = [&[0, 0, 1], &chain(MAX_NESTING - 2)[..]].concat();
        assert_eq!(
            from_bytes::<(Variant, Option<Node>, Option<Node>)>(&mixed),
            Ok((Variant::Unit, None, Some(node(MAX_NESTING - 2))))
        );
        // Too deep after a shallow sibling is still too deep.
        let over = [&[0u8][..], &chain(MAX_NESTING - 1)].concat();
        assert_eq!(
            from_bytes::<(Node, (Node,))>(&over),
            Err(Error::Deserialize)
        );
    }

    /// Runs `decode` on another thread, failing (instead of hanging) if it
    /// does not finish within a minute.
    fn promptly<R: Send + 'static>(decode: impl FnOnce() -> R + Send + 'static) -> R {
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || send.send(decode()));
        receive
            .recv_timeout(Duration::from_secs(60))
            .expect("decoding finished within a minute")
    }

    #[test]
    fn a_huge_count_of_zero_sized_elements_is_refused_promptly() {
        for claimed in [1u64 << 32, 1 << 60, u64::MAX] {
            let payload = varint(claimed);
            let result = promptly(move || from_bytes::<Vec<()>>(&payload));
            assert_eq!(result, Err(Error::Deserialize));
            let payload = varint(claimed);
            let result = promptly(move || from_bytes::<Vec<PhantomData<u8>>>(&payload));
            assert_eq!(result, Err(Error::Deserialize));
            // Inside other values.
            let payload = [&[1, 5][..], &varint(claimed)].concat();
            let result = promptly(move || from_bytes::<Vec<(u8, Vec<()>)>>(&payload));
            assert_eq!(result, Err(Error::Deserialize));
        }
    }

    #[test]
    fn zero_sized_elements_are_allowed_up_to_the_payload_length() {
        // Five bytes: the length and four bytes of array.
        let payload = |count: u8| [count, 1, 2, 3, 4];
        assert_eq!(
            from_bytes::<(Vec<()>, [u8; 4])>(&payload(5)),
            Ok((vec![(); 5], [1, 2, 3, 4]))
        );
        assert_eq!(
            from_bytes::<(Vec<()>, [u8; 4])>(&payload(6)),
            Err(Error::Deserialize)
        );
        assert!(plain::<(Vec<()>, [u8; 4])>(&payload(6)).is_ok());
        // One budget for the whole payload: two inner vectors (one byte
        // each) and their zero-sized elements.
        assert_eq!(
            from_bytes::<Vec<Vec<()>>>(&[2, 1, 0]),
            Ok(vec![vec![()], vec![]])
        );
        assert_eq!(
            from_bytes::<Vec<Vec<()>>>(&[2, 1, 1]),
            Err(Error::Deserialize)
        );
        assert!(plain::<Vec<Vec<()>>>(&[2, 1, 1]).is_ok());
    }

    #[test]
    fn elements_of_non_zero_size_never_exhaust_the_budget() {
        // The densest payloads: one byte per element, nested collections
        // that are empty or hold one element.
        let values: Vec<Vec<u8>> = vec![vec![]; 300];
        let bytes = postcard::to_allocvec(&values).expect("serializes");
        assert_eq!(bytes.len(), 302);
        assert_eq!(from_bytes::<Vec<Vec<u8>>>(&bytes), Ok(values));
        let options: Vec<Option<()>> = vec![None; 300];
        let bytes = postcard::to_allocvec(&options).expect("serializes");
        assert_eq!(from_bytes::<Vec<Option<()>>>(&bytes), Ok(options));
        let nested: Vec<Vec<Vec<u8>>> = vec![vec![vec![7]]; 100];
        let bytes = postcard::to_allocvec(&nested).expect("serializes");
        assert_eq!(from_bytes::<Vec<Vec<Vec<u8>>>>(&bytes), Ok(nested));
        let map: BTreeMap<u8, BTreeSet<u8>> = (0..=255).map(|k| (k, BTreeSet::new())).collect();
        let bytes = postcard::to_allocvec(&map).expect("serializes");
        assert_eq!(from_bytes::<BTreeMap<u8, BTreeSet<u8>>>(&bytes), Ok(map));
        let units: HashMap<u8, ()> = (0..=255).map(|k| (k, ())).collect();
        let bytes = postcard::to_allocvec(&units).expect("serializes");
        assert_eq!(from_bytes::<HashMap<u8, ()>>(&bytes), Ok(units));
    }

    #[test]
    fn a_huge_map_length_does_not_preallocate() {
        for claimed in [1u64 << 32, 1 << 60, u64::MAX] {
            for trailing in [0, 32, 1000] {
                let mut payload = varint(claimed);
                payload.resize(payload.len() + trailing, 0xff);
                let mut result = None;
                let info = measure(|| result = Some(from_bytes::<HashMap<u64, u64>>(&payload)));
                assert_eq!(result, Some(Err(Error::Deserialize)));
                assert!(
                    info.bytes_max <= 4 * payload.len() as u64,
                    "{claimed}, {trailing}: {info:?}"
                );
                // Plain postcard preallocates for 1 MiB of entries, which
                // is what this test would catch.
                let info = measure(|| drop(plain::<HashMap<u64, u64>>(&payload)));
                assert!(info.bytes_max > 1 << 20, "{info:?}");
            }
        }
    }

    #[test]
    fn a_length_the_payload_could_hold_preallocates_for_at_most_that() {
        // 201 bytes: a map claiming up to 200 entries is not refused up
        // front; its preallocation is bounded by the payload, not by the
        // claim.
        for claimed in [1u64, 50, 100, 200] {
            let mut payload = varint(claimed);
            payload.resize(201, 0xff);
            let mut result = None;
            let info = measure(|| result = Some(from_bytes::<HashMap<u64, u64>>(&payload)));
            assert_eq!(result, Some(Err(Error::Deserialize)));
            let entry = core::mem::size_of::<(u64, u64)>() as u64;
            assert!(
                info.bytes_max <= 4 * entry * payload.len() as u64,
                "{claimed}: {info:?}"
            );
        }
    }

    /// A byte string, encoded with `serialize_bytes` (not as a sequence).
    #[derive(Debug, PartialEq)]
    struct Bytes(Vec<u8>);

    impl Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for Bytes {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            /// Accepts bytes in any form.
            struct BytesVisitor;
            impl Visitor<'_> for BytesVisitor {
                type Value = Bytes;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                    Ok(Bytes(v.to_vec()))
                }
            }
            deserializer.deserialize_byte_buf(BytesVisitor)
        }
    }

    /// A float compared bit for bit, so that changed bytes decoding to a
    /// NaN compare equal to themselves.
    #[derive(Debug, Serialize, Deserialize)]
    #[serde(transparent)]
    struct Bits<F>(F);

    impl PartialEq for Bits<f32> {
        fn eq(&self, other: &Self) -> bool {
            self.0.to_bits() == other.0.to_bits()
        }
    }

    impl PartialEq for Bits<f64> {
        fn eq(&self, other: &Self) -> bool {
            self.0.to_bits() == other.0.to_bits()
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct UnitStruct;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Newtype(u32);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Tuple3(i8, String, Option<u16>);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Unit,
        Newtype(u64),
        Tuple(i32, char),
        Struct {
            name: String,
            inner: Option<Box<Shape>>,
        },
    }

    /// Every serde shape postcard supports (no zero-sized elements in
    /// collections, so that any bytes decode as with plain postcard).
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Everything {
        bool: bool,
        i8: i8,
        i16: i16,
        i32: i32,
        i64: i64,
        i128: i128,
        isize: isize,
        u8: u8,
        u16: u16,
        u32: u32,
        u64: u64,
        u128: u128,
        usize: usize,
        f32: Bits<f32>,
        f64: Bits<f64>,
        char: char,
        string: String,
        boxed: Box<str>,
        bytes: Bytes,
        unit: (),
        unit_struct: UnitStruct,
        phantom: PhantomData<String>,
        newtype: Newtype,
        tuple_struct: Tuple3,
        tuple: (u8, String, (bool, i64)),
        array: [u16; 4],
        none: Option<u8>,
        some: Option<Option<String>>,
        shapes: Vec<Shape>,
        nested: Vec<Vec<u32>>,
        map: HashMap<String, Vec<u8>>,
        tree: BTreeMap<u32, BTreeMap<String, Shape>>,
        set: HashSet<i32>,
        ordered: BTreeSet<char>,
        deque: VecDeque<u8>,
    }

    /// Ordinary values, small.
    fn everything() -> Everything {
        Everything {
            bool: true,
            i8: -5,
            i16: -300,
            i32: 70_000,
            i64: -1 << 40,
            i128: -(1 << 100),
            isize: -7,
            u8: 200,
            u16: 60_000,
            u32: 4_000_000_000,
            u64: 1 << 60,
            u128: 1 << 120,
            usize: 12_345,
            f32: Bits(1.5),
            f64: Bits(-0.25),
            char: 'é',
            string: "ada@example.com".into(),
            boxed: "boxed".into(),
            bytes: Bytes(vec![0, 1, 0xff]),
            unit: (),
            unit_struct: UnitStruct,
            phantom: PhantomData,
            newtype: Newtype(42),
            tuple_struct: Tuple3(-1, "t".into(), Some(9)),
            tuple: (3, "three".into(), (false, 33)),
            array: [1, 2, 300, 40_000],
            none: None,
            some: Some(Some("x".into())),
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(-2, '🦀'),
                Shape::Struct {
                    name: "outer".into(),
                    inner: Some(Box::new(Shape::Struct {
                        name: "inner".into(),
                        inner: None,
                    })),
                },
            ],
            nested: vec![vec![], vec![1], vec![2, 3]],
            map: [("a".to_string(), vec![1]), ("b".to_string(), vec![])].into(),
            tree: [
                (1, [("k".to_string(), Shape::Newtype(1))].into()),
                (2, BTreeMap::new()),
            ]
            .into(),
            set: [-1, 0, 1].into(),
            ordered: ['a', 'z'].into(),
            deque: [4, 5].into(),
        }
    }

    /// Extremes and empties.
    fn extremes() -> Everything {
        Everything {
            bool: false,
            i8: i8::MIN,
            i16: i16::MIN,
            i32: i32::MIN,
            i64: i64::MIN,
            i128: i128::MIN,
            isize: isize::MAX,
            u8: u8::MAX,
            u16: u16::MAX,
            u32: u32::MAX,
            u64: u64::MAX,
            u128: u128::MAX,
            usize: usize::MAX,
            f32: Bits(f32::MAX),
            f64: Bits(f64::MIN_POSITIVE),
            char: char::MAX,
            string: String::new(),
            boxed: "".into(),
            bytes: Bytes(vec![]),
            unit: (),
            unit_struct: UnitStruct,
            phantom: PhantomData,
            newtype: Newtype(0),
            tuple_struct: Tuple3(i8::MAX, String::new(), None),
            tuple: (0, String::new(), (true, i64::MAX)),
            array: [u16::MAX; 4],
            none: None,
            some: Some(None),
            shapes: vec![],
            nested: vec![],
            map: HashMap::new(),
            tree: BTreeMap::new(),
            set: HashSet::new(),
            ordered: BTreeSet::new(),
            deque: VecDeque::new(),
        }
    }

    #[test]
    fn every_serde_shape_round_trips_as_with_plain_postcard() {
        for value in [everything(), extremes()] {
            let bytes = postcard::to_allocvec(&value).expect("serializes");
            assert_eq!(from_bytes::<Everything>(&bytes), Ok(value));
            assert_eq!(
                plain::<Everything>(&bytes),
                from_bytes::<Everything>(&bytes)
            );
            // Trailing bytes, and every truncation, fail as before.
            let mut trailing = bytes.clone();
            trailing.push(0);
            assert_eq!(from_bytes::<Everything>(&trailing), Err(Error::Deserialize));
            for len in 0..bytes.len() {
                assert_eq!(
                    from_bytes::<Everything>(&bytes[..len]),
                    Err(Error::Deserialize)
                );
            }
        }
        // Zero-sized values outside and inside collections (within the
        // payload's length), top-level primitives and the empty payload.
        let zero_sized = (
            (),
            UnitStruct,
            PhantomData::<u8>,
            vec![(); 3],
            [(); 2],
            7u8,
            [0u8; 2],
        );
        let bytes = postcard::to_allocvec(&zero_sized).expect("serializes");
        assert_eq!(bytes.len(), 4);
        assert_eq!(from_bytes(&bytes), Ok(zero_sized));
        assert_eq!(from_bytes::<u128>(&varint(5)), Ok(5));
        assert_eq!(from_bytes::<()>(&[]), Ok(()));
        assert_eq!(from_bytes::<String>(&[]), Err(Error::Deserialize));
        assert_eq!(from_bytes::<()>(&[0]), Err(Error::Deserialize));
        // What postcard does not support stays unsupported.
        assert_eq!(
            from_bytes::<serde_json::Value>(&[0]),
            Err(Error::Deserialize)
        );
    }

    #[test]
    fn every_single_byte_change_decodes_as_with_plain_postcard() {
        for value in [everything(), extremes()] {
            let bytes = postcard::to_allocvec(&value).expect("serializes");
            for i in 0..bytes.len() {
                for new in [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, bytes[i] ^ 1] {
                    let mut changed = bytes.clone();
                    changed[i] = new;
                    assert_eq!(
                        from_bytes::<Everything>(&changed),
                        plain::<Everything>(&changed),
                        "byte {i} set to {new:#04x}"
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Any bytes (too few to nest `Shape` deep enough to reach the
        /// limit) decode as with plain postcard, successes and failures.
        #[test]
        fn arbitrary_bytes_decode_as_with_plain_postcard(
            bytes in proptest::collection::vec(any::<u8>(), 0..160),
        ) {
            prop_assert_eq!(from_bytes::<Everything>(&bytes), plain::<Everything>(&bytes));
            prop_assert_eq!(from_bytes::<Vec<Shape>>(&bytes), plain::<Vec<Shape>>(&bytes));
            prop_assert_eq!(
                from_bytes::<BTreeMap<String, Vec<Option<u16>>>>(&bytes),
                plain::<BTreeMap<String, Vec<Option<u16>>>>(&bytes)
            );
        }
    }

    #[test]
    fn decoding_allocates_exactly_what_plain_postcard_does() {
        for value in [everything(), extremes()] {
            let bytes = postcard::to_allocvec(&value).expect("serializes");
            let mut ours = None;
            let with_limits = measure(|| ours = Some(from_bytes::<Everything>(&bytes)));
            let mut theirs = None;
            let without = measure(|| theirs = Some(plain::<Everything>(&bytes)));
            assert_eq!(ours, theirs);
            assert_eq!(
                (with_limits.count_total, with_limits.bytes_total),
                (without.count_total, without.bytes_total)
            );
        }
    }

    thread_local! {
        /// The lowest stack address a [`Probe`] saw on this thread.
        static LOWEST: core::cell::Cell<usize> = const { core::cell::Cell::new(usize::MAX) };
    }

    /// The address of a local of this call: where the stack is.
    #[inline(never)]
    fn stack_address() -> usize {
        let marker = 0u8;
        std::hint::black_box(&marker);
        (&raw const marker).addr()
    }

    /// Decodes as `()` and notes how deep in the stack that happened.
    #[derive(Debug, PartialEq)]
    struct Probe;

    impl<'de> Deserialize<'de> for Probe {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let here = stack_address();
            LOWEST.with(|lowest| lowest.set(lowest.get().min(here)));
            <()>::deserialize(deserializer).map(|()| Probe)
        }
    }

    /// One level per step: a newtype variant.
    #[derive(Debug, PartialEq, Deserialize)]
    enum ByVariant {
        End(Probe),
        Next(Box<ByVariant>),
    }

    /// Two levels per step: a newtype variant and a sequence.
    #[derive(Debug, PartialEq, Deserialize)]
    enum BySeq {
        End(Probe),
        Next(Vec<BySeq>),
    }

    /// Two levels per step: a newtype variant and a map.
    #[derive(Debug, PartialEq, Deserialize)]
    enum ByMap {
        End(Probe),
        Next(BTreeMap<u8, ByMap>),
    }

    /// Two levels per step: a newtype variant and a Some.
    #[derive(Debug, PartialEq, Deserialize)]
    enum ByOption {
        End(Probe),
        Next(Option<Box<ByOption>>),
    }

    /// One level per step: a struct variant.
    #[derive(Debug, PartialEq, Deserialize)]
    enum ByStruct {
        End(Probe),
        Next { first: u8, next: Box<ByStruct> },
    }

    /// Decodes `steps` steps of `T` (each `step` bytes, `levels` levels)
    /// ended by a probe, and returns the levels used and the stack bytes
    /// the decoding took.
    fn stack_used<T: DeserializeOwned + fmt::Debug>(
        steps: usize,
        step: &[u8],
        levels: usize,
    ) -> (usize, usize) {
        let mut payload = step.repeat(steps);
        payload.push(0);
        LOWEST.with(|lowest| lowest.set(usize::MAX));
        let top = stack_address();
        let decoded = from_bytes::<T>(&payload);
        assert!(decoded.is_ok(), "{decoded:?}");
        let lowest = LOWEST.with(core::cell::Cell::get);
        (steps * levels + 1, top.saturating_sub(lowest))
    }

    /// The stack MAX_NESTING levels take, for each kind of level, stays
    /// far below the 2 MiB of a spawned thread (printed with
    /// `--nocapture`, the measurement behind MAX_NESTING's documentation).
    #[test]
    fn max_nesting_levels_take_a_small_part_of_a_thread_stack() {
        let mut worst = 0;
        for (name, (levels, bytes)) in [
            ("newtype variant", stack_used::<ByVariant>(127, &[1], 1)),
            ("variant + seq", stack_used::<BySeq>(63, &[1, 1], 2)),
            ("variant + map", stack_used::<ByMap>(63, &[1, 1, 5], 2)),
            ("variant + some", stack_used::<ByOption>(63, &[1, 1], 2)),
            ("struct variant", stack_used::<ByStruct>(127, &[1, 5], 1)),
        ] {
            assert!(levels <= MAX_NESTING, "{name}");
            let per_level = bytes / levels;
            println!("{name}: {levels} levels, {bytes} bytes of stack, {per_level} per level");
            worst = worst.max(bytes);
        }
        // One level more than the limit is refused in every case.
        assert_eq!(
            from_bytes::<ByVariant>(&[&[1; 128][..], &[0]].concat()),
            Err(Error::Deserialize)
        );
        assert_eq!(
            from_bytes::<BySeq>(&[&[1; 128][..], &[0]].concat()),
            Err(Error::Deserialize)
        );
        assert!(worst < 512 * 1024, "{worst} bytes");
    }
}
