//! The payload: the session value as postcard bytes, and the limits that
//! keep decoding it bounded, applied the same way when sealing.
//!
//! postcard decodes by recursion, one or more stack frames per nested
//! value, and has no depth limit of its own. The server seals whatever
//! value it is given, so a session type that can nest (a recursive enum, a
//! tree of `Vec`s, a chain of `Option<Box<_>>`) filled with user-controlled
//! data could be sealed thousands of levels deep, and would then overflow
//! the stack on the next request that opens it: an abort of the whole
//! process, not a panic.
//!
//! Decoding ([`from_bytes`]) wraps postcard's deserializer in one that:
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
//! Sealing ([`encoded_len`], the size pass that runs before anything is
//! encrypted) counts the same levels and elements the same way and refuses
//! a value that decoding would refuse, so a codec never issues a cookie
//! that fails these limits when opened, for every type whose `Serialize`
//! and `Deserialize` have the same shape. A hand-written pair that writes a
//! flat sequence and reads it back as nested values can still seal a value
//! that decoding refuses; decoding stays bounded. Sealing also refuses what
//! postcard writes but cannot read back: a sequence or map of unknown
//! length (`#[serde(flatten)]`, an iterator serialized without a size), a
//! sequence, map or tuple with another number of elements than it declared,
//! and a named field skipped by `#[serde(skip_serializing_if = ...)]`
//! (postcard reads fields by position, so the next field would be read in
//! its place).
//!
//! What serializing cannot see, because the mismatch is in the type's
//! `Deserialize`: a variant with `#[serde(skip)]` or `skip_deserializing`
//! (serde numbers variants among all declared ones when writing, among the
//! deserializable ones when reading, so the variants after it are read as
//! their successors), `skip_serializing_if` on a tuple field (serde only
//! declares a shorter tuple), `skip_serializing` or `skip_deserializing`
//! alone on a field, and types whose `Deserialize` needs a self-describing
//! format (`#[serde(untagged)]` and internally or adjacently tagged enums,
//! `serde_json::Value`). They seal, and then fail to open
//! ([`Error::Deserialize`](crate::Error::Deserialize)) or open as another
//! value. The README's "Session types" section lists them.
//!
//! # Why the element budget refuses no valid value of non-zero size
//!
//! Every element or entry that takes at least one byte of the payload can
//! be given its first byte, and no two such elements share one: elements
//! of the same collection follow each other; an element nested inside
//! another starts after the length prefix of its own collection, so later
//! than the element containing it. Hence a payload of `n` bytes holds at
//! most `n` such elements in all its collections together, and the budget
//! (which counts them) never runs out for them.
//!
//! Elements that take no bytes at all are values of zero-sized types
//! (`()`, unit structs, `PhantomData`, empty arrays): a `Vec<()>` is only a
//! length. A value whose collection elements and map entries, counted at
//! every level together, outnumber its payload bytes (a `Vec<()>` of 10
//! elements is 1 byte; `vec![vec![()], vec![()]]` has 4 elements, the outer
//! two and one in each inner one, in 3 bytes) is refused when sealing, with
//! [`Unserializable::TooManyElements`](crate::error::Unserializable::TooManyElements).
//! Session types do not hold collections of zero-sized values in practice;
//! the alternative is a decode loop whose length an authenticated varint
//! chooses (up to 2^64).

mod de;
mod ser;

pub(crate) use de::from_bytes;
pub(crate) use ser::encoded_len;

/// The deepest nesting of compound values a session payload may have.
///
/// Each of these counts one level while its content is decoded: a sequence
/// (`Vec`, `VecDeque`, sets), a map, a tuple or array, a tuple struct, a
/// struct, the content of a newtype, tuple or struct enum variant, the
/// value inside `Some`, and a newtype struct. (A `Box`, a transparent
/// struct and a unit variant count nothing.) Sealing a value with more
/// levels fails with [`Unserializable::TooDeep`](crate::error::Unserializable::TooDeep),
/// and a cookie holding one (which only a holder of the secret could make)
/// fails to open with [`Error::Deserialize`](crate::Error::Deserialize).
///
/// 128 is far above what session data needs (a struct of `Vec`s of structs
/// of `Option`s is four or five levels); SECURITY.md gives the stack it
/// bounds.
///
/// Sealing and opening also charge every element of a length-prefixed
/// collection and every map entry, at every level, against the payload's
/// length in bytes: a value with more of them in total than its payload has
/// bytes, which only zero-sized elements (such as `()`) make possible, is
/// refused as well.
pub const MAX_NESTING: usize = 128;

#[cfg(test)]
mod tests;
