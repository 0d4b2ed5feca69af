//! Unit tests of the payload limits, decoding and sealing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::sync::mpsc;
use std::time::Duration;

use allocation_counter::measure;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use core::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use super::*;
use crate::error::{Error, Unserializable};

/// What opening did before this module: plain postcard, nothing left.
fn plain<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Error> {
    match postcard::take_from_bytes::<T>(payload) {
        Ok((value, [])) => Ok(value),
        _ => Err(Error::Deserialize),
    }
}

use crate::reference;

/// Postcard's varint (LEB128) of `n`, as the reference writes it.
fn varint(n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    reference::write_varint(&mut out, n);
    out
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

// ---------------------------------------------------------------------------
// Sealing: `encoded_len` refuses exactly what decoding would refuse.
// ---------------------------------------------------------------------------

/// What sealing says of `value`, and whether its postcard bytes open: the
/// two must agree for every value this module does not refuse for a reason
/// of its own.
fn seal_and_open<T: Serialize + DeserializeOwned>(value: &T) -> (Result<usize, Error>, bool) {
    let sealed = encoded_len(value);
    let bytes = postcard::to_allocvec(value).expect("postcard serializes it");
    if let Ok(len) = sealed {
        assert_eq!(len, bytes.len(), "the size pass measures what is written");
    }
    (sealed, from_bytes::<T>(&bytes).is_ok())
}

#[test]
fn sealing_refuses_exactly_the_nesting_decoding_refuses() {
    let (sealed, opens) = seal_and_open(&node(MAX_NESTING));
    assert!(sealed.is_ok() && opens);
    let (sealed, opens) = seal_and_open(&node(MAX_NESTING + 1));
    assert_eq!(sealed, Err(Error::Serialize(Unserializable::TooDeep)));
    assert!(!opens);
    // Far deeper values are refused without trouble (serializing recursion
    // stops at the limit too).
    let deep = node(100_000);
    assert_eq!(
        encoded_len(&deep),
        Err(Error::Serialize(Unserializable::TooDeep))
    );
    // Dropping it recursively would overflow the stack of a test thread.
    let mut deep = deep;
    while let Node::Branch(inner) = deep {
        deep = *inner;
    }
}

/// Each compound kind counts one level on both sides: with the chain
/// inside it as deep as decoding allows, the value seals and opens; one
/// level more, sealing refuses it and decoding would too.
#[test]
fn each_compound_kind_counts_one_level_when_sealing() {
    fn check<W: Serialize + DeserializeOwned>(levels: usize, wrap: impl Fn(Node) -> W) {
        let name = std::any::type_name::<W>();
        let (sealed, opens) = seal_and_open(&wrap(node(MAX_NESTING - levels)));
        assert!(sealed.is_ok(), "{name}: {sealed:?}");
        assert!(opens, "{name}");
        let (sealed, opens) = seal_and_open(&wrap(node(MAX_NESTING - levels + 1)));
        assert_eq!(
            sealed,
            Err(Error::Serialize(Unserializable::TooDeep)),
            "{name}"
        );
        assert!(!opens, "{name}");
    }
    check(1, |n| vec![n]);
    check(1, |n| VecDeque::from([n]));
    check(1, |n| BTreeMap::from([(9u8, n)]));
    check(1, |n| HashMap::from([(9u8, n)]));
    check(1, |n| (n,));
    check(1, |n| (9u8, n));
    check(1, |n| [n]);
    check(1, |n| TupleStruct(9, n));
    check(1, |n| Struct { first: 9, node: n });
    check(1, Some);
    check(1, NewtypeStruct);
    check(1, Variant::Newtype);
    check(1, |n| Variant::Tuple(9, n));
    check(1, |n| Variant::Struct { first: 9, node: n });
    check(0, Box::new);
    check(0, |node| Transparent { node });
    check(2, |n| vec![Some(n)]);
    check(2, |n| Some(Struct { first: 9, node: n }));
    check(3, |n| BTreeMap::from([(9u8, vec![Variant::Newtype(n)])]));
    check(2, |n| ((n,),));
}

#[test]
fn sealing_refuses_exactly_the_zero_sized_elements_decoding_refuses() {
    // (Vec<()>, [u8; 4]): one length byte and four array bytes; five
    // elements fit, six do not.
    let (sealed, opens) = seal_and_open(&(vec![(); 5], [1u8, 2, 3, 4]));
    assert!(sealed.is_ok() && opens);
    let (sealed, opens) = seal_and_open(&(vec![(); 6], [1u8, 2, 3, 4]));
    assert_eq!(
        sealed,
        Err(Error::Serialize(Unserializable::TooManyElements))
    );
    assert!(!opens);
    let (sealed, opens) = seal_and_open(&vec![vec![()], vec![]]);
    assert!(sealed.is_ok() && opens);
    let (sealed, opens) = seal_and_open(&vec![vec![()], vec![()]]);
    assert_eq!(
        sealed,
        Err(Error::Serialize(Unserializable::TooManyElements))
    );
    assert!(!opens);
    // Map entries count once each.
    let map: BTreeMap<(), ()> = BTreeMap::from([((), ())]);
    let (sealed, opens) = seal_and_open(&map);
    assert!(sealed.is_ok() && opens);
    let (sealed, opens) = seal_and_open(&(map, PhantomData::<u8>));
    assert!(sealed.is_ok() && opens);
}

#[test]
fn ordinary_values_seal_to_their_postcard_length() {
    for value in [everything(), extremes()] {
        let (sealed, opens) = seal_and_open(&value);
        assert_eq!(
            sealed,
            Ok(postcard::to_allocvec(&value).expect("serializes").len())
        );
        assert!(opens);
    }
}

/// `skip_serializing_if` writes a struct without the field, which postcard
/// then reads in the wrong place: refused when sealing. Shown here on the
/// exact case that reads back wrong without an error.
#[test]
fn a_skipped_field_is_refused_when_sealing() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Skips {
        #[serde(skip_serializing_if = "Option::is_none")]
        discount: Option<u8>,
        quantity: u8,
    }
    let value = Skips {
        discount: None,
        quantity: 1,
    };
    // What plain postcard does: `quantity` (1) is read as `Some`, and the
    // value comes back changed, or not at all.
    let bytes = postcard::to_allocvec(&value).expect("postcard writes it");
    assert_ne!(
        postcard::from_bytes::<Skips>(&bytes).ok().as_ref(),
        Some(&value)
    );
    assert_eq!(
        encoded_len(&value),
        Err(Error::Serialize(Unserializable::SkippedField))
    );
    // Not skipped (Some): fine, as the attribute only bites sometimes; the
    // check is on every seal, so a test that seals `None` finds it.
    let present = Skips {
        discount: Some(5),
        quantity: 1,
    };
    assert!(encoded_len(&present).is_ok());

    #[derive(Serialize)]
    enum InVariant {
        S {
            #[serde(skip_serializing_if = "Vec::is_empty")]
            tags: Vec<u8>,
        },
    }
    assert_eq!(
        encoded_len(&InVariant::S { tags: vec![] }),
        Err(Error::Serialize(Unserializable::SkippedField))
    );
}

#[test]
fn unknown_lengths_are_refused_when_sealing() {
    #[derive(Serialize)]
    struct Inner {
        a: u8,
    }
    #[derive(Serialize)]
    struct Flattened {
        #[serde(flatten)]
        inner: Inner,
    }
    assert_eq!(
        encoded_len(&Flattened {
            inner: Inner { a: 1 }
        }),
        Err(Error::Serialize(Unserializable::LengthUnknown))
    );

    /// A sequence whose length is not known up front.
    struct Unsized;
    impl Serialize for Unsized {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq((0..3).filter(|n| n % 2 == 0))
        }
    }
    assert_eq!(
        encoded_len(&Unsized),
        Err(Error::Serialize(Unserializable::LengthUnknown))
    );

    /// A `Serialize` implementation that fails.
    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }
    assert_eq!(
        encoded_len(&Fails),
        Err(Error::Serialize(Unserializable::Failed))
    );
}

/// A sequence, map or tuple that writes another number of elements than it
/// declared would be misread (postcard writes the declared length, and a
/// tuple is read back with its own arity): refused when sealing (found in
/// review; before, such values sealed).
#[test]
fn a_declared_length_that_is_not_written_is_refused_when_sealing() {
    use serde::ser::{SerializeMap as _, SerializeSeq as _, SerializeTuple as _};

    /// Declares `declared` elements of one kind and writes `written`.
    struct Claims {
        kind: &'static str,
        declared: usize,
        written: usize,
    }
    impl Serialize for Claims {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self.kind {
                "seq" => {
                    let mut seq = serializer.serialize_seq(Some(self.declared))?;
                    for n in 0..self.written {
                        seq.serialize_element(&n)?;
                    }
                    seq.end()
                }
                "map" => {
                    let mut map = serializer.serialize_map(Some(self.declared))?;
                    for n in 0..self.written {
                        map.serialize_entry(&n, &n)?;
                    }
                    map.end()
                }
                _ => {
                    let mut tuple = serializer.serialize_tuple(self.declared)?;
                    for n in 0..self.written {
                        tuple.serialize_element(&n)?;
                    }
                    tuple.end()
                }
            }
        }
    }
    for kind in ["seq", "map", "tuple"] {
        for (declared, written) in [(1, 2), (2, 1), (0, 1), (1, 0)] {
            let value = Claims {
                kind,
                declared,
                written,
            };
            assert_eq!(
                encoded_len(&value),
                Err(Error::Serialize(Unserializable::LengthMismatch)),
                "{kind}: {declared} declared, {written} written"
            );
            // Postcard alone writes it.
            assert!(postcard::to_allocvec(&value).is_ok(), "{kind}");
        }
        for n in [0, 1, 3] {
            let value = Claims {
                kind,
                declared: n,
                written: n,
            };
            assert!(encoded_len(&value).is_ok(), "{kind}: {n}");
        }
    }
    // Inside a derived value, at any depth, and through `collect_seq` with a
    // wrong exact size hint.
    let nested = vec![
        Claims {
            kind: "tuple",
            declared: 2,
            written: 2,
        },
        Claims {
            kind: "seq",
            declared: 3,
            written: 1,
        },
    ];
    assert_eq!(
        encoded_len(&Some(nested)),
        Err(Error::Serialize(Unserializable::LengthMismatch))
    );
    struct WrongHint;
    impl Iterator for WrongHint {
        type Item = u8;
        fn next(&mut self) -> Option<u8> {
            None
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (2, Some(2))
        }
    }
    struct Collected;
    impl Serialize for Collected {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(WrongHint)
        }
    }
    assert_eq!(
        encoded_len(&Collected),
        Err(Error::Serialize(Unserializable::LengthMismatch))
    );
}

/// A `Serialize` that ignores the error it was handed for a refused part
/// and carries on is still refused (found in review: only a failed
/// serialization was checked for a refusal).
#[test]
fn a_swallowed_refusal_is_still_refused() {
    use serde::ser::SerializeStruct as _;

    struct Swallows;
    impl Serialize for Swallows {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut state = serializer.serialize_struct("Swallows", 1)?;
            let _ignored = state.skip_field("discount");
            state.serialize_field("quantity", &1u8)?;
            state.end()
        }
    }
    assert_eq!(
        encoded_len(&Swallows),
        Err(Error::Serialize(Unserializable::SkippedField))
    );
}

/// What the check cannot see, and the README warns of: serde numbers enum
/// variants by their position among all declared ones when serializing,
/// but among the deserializable ones when reading, and a skipped tuple
/// field only shortens the declared length. Both seal and open as another
/// value, without an error.
#[test]
fn skipped_variants_and_tuple_fields_seal_and_are_misread() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Role {
        #[serde(skip)]
        #[allow(dead_code, reason = "the skipped variant is the point")]
        Legacy,
        User,
        Admin,
    }
    assert!(encoded_len(&Role::User).is_ok());
    let bytes = postcard::to_allocvec(&Role::User).expect("writes");
    assert_eq!(from_bytes::<Role>(&bytes), Ok(Role::Admin));

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pair(
        #[serde(skip_serializing_if = "Option::is_none")] Option<u8>,
        u8,
    );
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        pair: Pair,
        tail: Vec<u8>,
    }
    let value = Holder {
        pair: Pair(None, 0),
        tail: vec![0],
    };
    assert!(encoded_len(&value).is_ok());
    let bytes = postcard::to_allocvec(&value).expect("writes");
    assert_eq!(
        from_bytes::<Holder>(&bytes),
        Ok(Holder {
            pair: Pair(None, 1),
            tail: vec![],
        })
    );
}

/// Types that need a self-describing format seal (nothing in serialization
/// tells), and never open: the documented limit of the check.
#[test]
fn self_describing_types_seal_but_do_not_open() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        Number(u32),
        Text(String),
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "kind")]
    enum Internal {
        A { x: u8 },
    }
    let (sealed, opens) = seal_and_open(&Untagged::Number(7));
    assert!(sealed.is_ok() && !opens);
    let (sealed, opens) = seal_and_open(&Internal::A { x: 1 });
    assert!(sealed.is_ok() && !opens);
    let json: serde_json::Value = serde_json::json!({"a": 1});
    let (sealed, opens) = seal_and_open(&json);
    assert!(sealed.is_ok() && !opens);
}

/// Values nested to random depths, with random zero-sized collections:
/// sealing accepts a value exactly when its bytes open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Tree {
    Leaf(u8),
    Units(Vec<()>),
    Many(Vec<Tree>),
    Maybe(Option<Box<Tree>>),
    Pair(Box<Tree>, Box<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        any::<u8>().prop_map(Tree::Leaf),
        (0usize..300).prop_map(|n| Tree::Units(vec![(); n])),
    ];
    leaf.prop_recursive(160, 400, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Tree::Many),
            proptest::option::of(inner.clone()).prop_map(|t| Tree::Maybe(t.map(Box::new))),
            (inner.clone(), inner).prop_map(|(a, b)| Tree::Pair(Box::new(a), Box::new(b))),
        ]
    })
}

/// A random tree under 52 to 69 `Maybe(Some(..))` (two levels each), so that about half
/// the values cross [`MAX_NESTING`].
fn deep_tree() -> impl Strategy<Value = Tree> {
    (tree(), 52usize..70).prop_map(|(tree, levels)| {
        (0..levels).fold(tree, |inner, _| Tree::Maybe(Some(Box::new(inner))))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sealing_accepts_a_value_exactly_when_it_opens(value in deep_tree()) {
        let (sealed, opens) = seal_and_open(&value);
        prop_assert_eq!(sealed.is_ok(), opens, "{:?}", sealed);
    }
}

/// The property above sees both outcomes, for both reasons.
#[test]
fn the_random_trees_cross_both_limits() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut deep, mut many) = (0, 0, 0);
    for _ in 0..512 {
        let value = deep_tree().new_tree(&mut runner).expect("a tree").current();
        match encoded_len(&value) {
            Ok(_) => ok += 1,
            Err(Error::Serialize(Unserializable::TooDeep)) => deep += 1,
            Err(Error::Serialize(Unserializable::TooManyElements)) => many += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(ok > 50 && deep > 50 && many > 5, "{ok} {deep} {many}");
}
