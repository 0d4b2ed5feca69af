//! The AEAD implementations this crate could seal with, side by side: the
//! evaluation behind the choice in `src/algorithm.rs` (README, "Choosing
//! the AEAD implementations").
//!
//! XAES-256-GCM (C2SP): a per-message AES-256-GCM key derived from the key
//! and the first 12 nonce bytes with two AES-256 block encryptions
//! (CMAC-based KDF), then AES-256-GCM with the last 12 nonce bytes.
//!
//! * `xaes-256-gcm 0.1`: the RustCrypto crate the library uses (on `aes`
//!   0.9 and `aes-gcm` 0.11);
//! * `composed over aes 0.8 + aes-gcm 0.10`: the same construction written
//!   here over the previous RustCrypto release line, whose single-block AES
//!   is cheaper on x86 (see below);
//! * `composed over aes 0.9 + aes-gcm 0.11`: the same over the current line,
//!   with the two KDF blocks in one call.
//!
//! XChaCha20-Poly1305:
//!
//! * `chacha20poly1305 0.11`: the RustCrypto crate the library uses;
//! * `graviola 0.4`: another pure-Rust implementation (Rust with inline
//!   assembly), on x86-64 and aarch64 CPUs with the features it needs
//!   (`graviola::util::is_cpu_supported`); skipped elsewhere.
//!
//! Every contender is checked first: the C2SP XAES-256-GCM vectors (and
//! draft-irtf-cfrg-xchacha A.3.1), and 1 000 random messages sealed by each
//! and opened by the library's implementation and the other way round.
//! Then each seals and opens 200- and 1100-byte messages with 32 bytes of
//! associated data, the typical and large session of the README, in
//! interleaved rounds (every contender a short batch in turn), and the
//! median time per call and the median per-round ratio to the library's
//! implementation are printed.
//!
//! Run with `cargo bench --bench aead` (about a minute). The per-package
//! `codegen-units = 1` for `xaes-256-gcm` in this crate's `Cargo.toml`
//! applies (README explains why); to see the default profile, run
//! `cargo bench --bench aead --config 'profile.release.package.xaes-256-gcm.codegen-units=16'`.

use std::hint::black_box;
use std::time::Instant;

use aead_eval::Contender;

/// The contenders behind one interface.
mod aead_eval {
    /// Seal and open with a 24-byte nonce and a detached 16-byte tag.
    pub trait Contender {
        /// For the report.
        const NAME: &'static str;
        /// Keyed once, as a keyring keys the library's ciphers once.
        fn new(key: &[u8; 32]) -> Self
        where
            Self: Sized;
        fn seal(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8]) -> [u8; 16];
        fn open(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8], tag: &[u8; 16]) -> bool;
    }

    /// `dbl(L)` in GF(2^128), CMAC's subkey K1, without a branch on L.
    fn k1_of(l: [u8; 16]) -> [u8; 16] {
        let v = u128::from_be_bytes(l);
        ((v << 1) ^ (0x87 * (v >> 127))).to_be_bytes()
    }

    /// The two KDF inputs before the XOR with K1: `0x00 0x01 'X' 0x00 |
    /// N[..12]` and `0x00 0x02 'X' 0x00 | N[..12]`.
    fn m_blocks(nonce: &[u8; 24]) -> [[u8; 16]; 2] {
        let mut m = [[0u8; 16]; 2];
        m[0][..4].copy_from_slice(&[0x00, 0x01, b'X', 0x00]);
        m[1][..4].copy_from_slice(&[0x00, 0x02, b'X', 0x00]);
        m[0][4..].copy_from_slice(&nonce[..12]);
        m[1][4..].copy_from_slice(&nonce[..12]);
        m
    }

    pub struct XaesCrate(xaes_256_gcm::Xaes256Gcm);

    impl Contender for XaesCrate {
        const NAME: &'static str = "XAES: xaes-256-gcm 0.1 (the library's)";
        fn new(key: &[u8; 32]) -> Self {
            use xaes_256_gcm::aead::KeyInit;
            Self(xaes_256_gcm::Xaes256Gcm::new(&(*key).into()))
        }
        fn seal(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8]) -> [u8; 16] {
            use xaes_256_gcm::aead::AeadInOut;
            self.0
                .encrypt_inout_detached(&(*nonce).into(), ad, buffer.into())
                .expect("cookie-sized")
                .into()
        }
        fn open(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8], tag: &[u8; 16]) -> bool {
            use xaes_256_gcm::aead::AeadInOut;
            self.0
                .decrypt_inout_detached(&(*nonce).into(), ad, buffer.into(), &(*tag).into())
                .is_ok()
        }
    }

    /// XAES-256-GCM over aes 0.8 and aes-gcm 0.10.
    pub struct XaesPrevious {
        aes: aes08::Aes256Enc,
        k1: [u8; 16],
    }

    type Gcm010 = aesgcm010::AesGcm<aes08::Aes256Enc, aesgcm010::aead::consts::U12>;

    impl XaesPrevious {
        fn per_message(&self, nonce: &[u8; 24]) -> Gcm010 {
            use aes08::cipher::generic_array::GenericArray;
            use aes08::cipher::{BlockEncrypt, KeyInit};
            let mut blocks = m_blocks(nonce);
            for block in &mut blocks {
                for (b, k) in block.iter_mut().zip(&self.k1) {
                    *b ^= k;
                }
            }
            let mut kx = [0u8; 32];
            for (half, block) in kx.chunks_mut(16).zip(&blocks) {
                half.copy_from_slice(block);
                self.aes.encrypt_block(GenericArray::from_mut_slice(half));
            }
            Gcm010::new(GenericArray::from_slice(&kx))
        }
    }

    impl Contender for XaesPrevious {
        const NAME: &'static str = "XAES: composed over aes 0.8 + aes-gcm 0.10";
        fn new(key: &[u8; 32]) -> Self {
            use aes08::cipher::generic_array::GenericArray;
            use aes08::cipher::{BlockEncrypt, KeyInit};
            let aes = aes08::Aes256Enc::new(GenericArray::from_slice(key));
            let mut l = GenericArray::default();
            aes.encrypt_block(&mut l);
            Self {
                aes,
                k1: k1_of(l.into()),
            }
        }
        fn seal(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8]) -> [u8; 16] {
            use aesgcm010::aead::AeadInPlace;
            use aesgcm010::aead::generic_array::GenericArray;
            self.per_message(nonce)
                .encrypt_in_place_detached(GenericArray::from_slice(&nonce[12..]), ad, buffer)
                .expect("cookie-sized")
                .into()
        }
        fn open(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8], tag: &[u8; 16]) -> bool {
            use aesgcm010::aead::AeadInPlace;
            use aesgcm010::aead::generic_array::GenericArray;
            self.per_message(nonce)
                .decrypt_in_place_detached(
                    GenericArray::from_slice(&nonce[12..]),
                    ad,
                    buffer,
                    GenericArray::from_slice(tag),
                )
                .is_ok()
        }
    }

    /// XAES-256-GCM over aes 0.9 and aes-gcm 0.11, the KDF's two blocks in
    /// one call.
    pub struct XaesCurrent {
        aes: aes09::Aes256Enc,
        k1: [u8; 16],
    }

    type Gcm011 = aesgcm011::AesGcm<aes09::Aes256Enc, aesgcm011::aead::consts::U12>;

    impl XaesCurrent {
        fn per_message(&self, nonce: &[u8; 24]) -> Gcm011 {
            use aes09::cipher::array::Array;
            use aes09::cipher::{BlockCipherEncrypt, KeyInit};
            let mut blocks = m_blocks(nonce).map(Array::from);
            for block in &mut blocks {
                for (b, k) in block.iter_mut().zip(&self.k1) {
                    *b ^= k;
                }
            }
            self.aes.encrypt_blocks(&mut blocks);
            let mut kx = [0u8; 32];
            kx[..16].copy_from_slice(&blocks[0]);
            kx[16..].copy_from_slice(&blocks[1]);
            Gcm011::new(&kx.into())
        }
    }

    impl Contender for XaesCurrent {
        const NAME: &'static str = "XAES: composed over aes 0.9 + aes-gcm 0.11";
        fn new(key: &[u8; 32]) -> Self {
            use aes09::cipher::array::Array;
            use aes09::cipher::{BlockCipherEncrypt, KeyInit};
            let aes = aes09::Aes256Enc::new(&(*key).into());
            let mut l = Array::default();
            aes.encrypt_block(&mut l);
            Self {
                aes,
                k1: k1_of(l.into()),
            }
        }
        fn seal(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8]) -> [u8; 16] {
            use aesgcm011::aead::AeadInOut;
            let n: [u8; 12] = nonce[12..].try_into().expect("12 bytes");
            self.per_message(nonce)
                .encrypt_inout_detached(&n.into(), ad, buffer.into())
                .expect("cookie-sized")
                .into()
        }
        fn open(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8], tag: &[u8; 16]) -> bool {
            use aesgcm011::aead::AeadInOut;
            let n: [u8; 12] = nonce[12..].try_into().expect("12 bytes");
            self.per_message(nonce)
                .decrypt_inout_detached(&n.into(), ad, buffer.into(), &(*tag).into())
                .is_ok()
        }
    }

    pub struct XChaChaCrate(chacha20poly1305::XChaCha20Poly1305);

    impl Contender for XChaChaCrate {
        const NAME: &'static str = "XChaCha20-Poly1305: chacha20poly1305 0.11 (the library's)";
        fn new(key: &[u8; 32]) -> Self {
            use chacha20poly1305::aead::KeyInit;
            Self(chacha20poly1305::XChaCha20Poly1305::new(&(*key).into()))
        }
        fn seal(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8]) -> [u8; 16] {
            use chacha20poly1305::aead::AeadInOut;
            self.0
                .encrypt_inout_detached(&(*nonce).into(), ad, buffer.into())
                .expect("cookie-sized")
                .into()
        }
        fn open(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8], tag: &[u8; 16]) -> bool {
            use chacha20poly1305::aead::AeadInOut;
            self.0
                .decrypt_inout_detached(&(*nonce).into(), ad, buffer.into(), &(*tag).into())
                .is_ok()
        }
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    pub struct XChaChaGraviola(graviola::aead::XChaCha20Poly1305);

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    impl Contender for XChaChaGraviola {
        const NAME: &'static str = "XChaCha20-Poly1305: graviola 0.4";
        fn new(key: &[u8; 32]) -> Self {
            Self(graviola::aead::XChaCha20Poly1305::new(*key))
        }
        fn seal(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8]) -> [u8; 16] {
            let mut tag = [0u8; 16];
            self.0.encrypt(nonce, ad, buffer, &mut tag);
            tag
        }
        fn open(&self, nonce: &[u8; 24], ad: &[u8], buffer: &mut [u8], tag: &[u8; 16]) -> bool {
            self.0.decrypt(nonce, ad, buffer, tag).is_ok()
        }
    }
}

use aead_eval::{XChaChaCrate, XaesCrate, XaesCurrent, XaesPrevious};

const KEY: [u8; 32] = [0x42; 32];
const AD: [u8; 32] = [0x41; 32];

/// The C2SP XAES-256-GCM vectors (key, associated data, ciphertext | tag
/// of "XAES-256-GCM" under nonce "ABCDEFGHIJKLMNOPQRSTUVWX").
fn check_c2sp<C: Contender>() {
    let nonce = b"ABCDEFGHIJKLMNOPQRSTUVWX";
    for (key, ad, expected) in [
        (
            [0x01; 32],
            &b""[..],
            "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271",
        ),
        (
            [0x03; 32],
            b"c2sp.org/XAES-256-GCM",
            "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d",
        ),
    ] {
        let c = C::new(&key);
        let mut buffer = b"XAES-256-GCM".to_vec();
        let tag = c.seal(nonce, ad, &mut buffer);
        buffer.extend_from_slice(&tag);
        assert_eq!(hex::encode(&buffer), expected, "{}", C::NAME);
    }
}

/// draft-irtf-cfrg-xchacha-03, A.3.1.
fn check_xchacha_vector<C: Contender>() {
    let key: [u8; 32] =
        hex::decode("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
            .expect("hex")
            .try_into()
            .expect("32 bytes");
    let nonce: [u8; 24] = hex::decode("404142434445464748494a4b4c4d4e4f5051525354555657")
        .expect("hex")
        .try_into()
        .expect("24 bytes");
    let ad = hex::decode("50515253c0c1c2c3c4c5c6c7").expect("hex");
    let mut buffer =
        b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip \
                       for the future, sunscreen would be it."
            .to_vec();
    let tag = C::new(&key).seal(&nonce, &ad, &mut buffer);
    assert_eq!(
        hex::encode(tag),
        "c0875924c1c7987947deafd8780acf49",
        "{}",
        C::NAME
    );
    assert!(hex::encode(&buffer).starts_with("bd6d179d3e83d43b9576579493c0e939"));
}

/// 1 000 random messages: sealed by `A`, opened by `B` and the other way,
/// and a flipped bit refused by both.
fn cross_check<A: Contender, B: Contender>() {
    for i in 0..1_000usize {
        let mut random = vec![0u8; 32 + 24 + 40 + i % 1200];
        getrandom::fill(&mut random).expect("randomness");
        let (key, rest) = random.split_at(32);
        let (nonce, rest) = rest.split_at(24);
        let (ad, message) = rest.split_at(40);
        let key: [u8; 32] = key.try_into().expect("32");
        let nonce: [u8; 24] = nonce.try_into().expect("24");
        let (a, b) = (A::new(&key), B::new(&key));
        let mut by_a = message.to_vec();
        let tag_a = a.seal(&nonce, ad, &mut by_a);
        let mut by_b = message.to_vec();
        let tag_b = b.seal(&nonce, ad, &mut by_b);
        assert_eq!((&by_a, tag_a), (&by_b, tag_b), "{} / {}", A::NAME, B::NAME);
        let mut opened = by_a.clone();
        assert!(b.open(&nonce, ad, &mut opened, &tag_a), "{}", B::NAME);
        assert_eq!(opened, message);
        let mut flipped = by_b.clone();
        if let Some(byte) = flipped.first_mut() {
            *byte ^= 1;
            assert!(!a.open(&nonce, ad, &mut flipped, &tag_b), "{}", A::NAME);
        }
    }
}

/// One contender's seal and open of one message size, timed in batches.
struct Timed {
    name: &'static str,
    size: usize,
    seal: Box<dyn FnMut(usize)>,
    open: Box<dyn FnMut(usize)>,
    seal_ns: Vec<f64>,
    open_ns: Vec<f64>,
}

fn timed<C: Contender + 'static>(size: usize) -> Timed {
    let sealer = C::new(&KEY);
    let opener = C::new(&KEY);
    let mut buffer = vec![0x5au8; size];
    let mut nonce = [0x24u8; 24];
    let sealed: Vec<([u8; 24], Vec<u8>, [u8; 16])> = (0..16u8)
        .map(|i| {
            let mut n = [0x24u8; 24];
            n[0] = i;
            let mut message = vec![0x5au8; size];
            let tag = opener.seal(&n, &AD, &mut message);
            (n, message, tag)
        })
        .collect();
    let mut scratch = vec![0u8; size];
    Timed {
        name: C::NAME,
        size,
        seal: Box::new(move |n| {
            for i in 0..n {
                nonce[0] = i as u8;
                black_box(sealer.seal(black_box(&nonce), &AD, &mut buffer));
            }
        }),
        open: Box::new(move |n| {
            for i in 0..n {
                let (nonce, message, tag) = &sealed[i % sealed.len()];
                scratch.copy_from_slice(message);
                assert!(opener.open(black_box(nonce), &AD, &mut scratch, tag));
            }
        }),
        seal_ns: Vec::new(),
        open_ns: Vec::new(),
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn main() {
    check_c2sp::<XaesCrate>();
    check_c2sp::<XaesPrevious>();
    check_c2sp::<XaesCurrent>();
    check_xchacha_vector::<XChaChaCrate>();
    cross_check::<XaesCrate, XaesPrevious>();
    cross_check::<XaesCrate, XaesCurrent>();
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    let graviola = graviola::util::is_cpu_supported();
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    if graviola {
        check_xchacha_vector::<aead_eval::XChaChaGraviola>();
        cross_check::<XChaChaCrate, aead_eval::XChaChaGraviola>();
    }
    println!("every contender reproduces the published vectors and the library's output");

    let full = std::env::args().any(|arg| arg == "--bench");
    let (rounds, batch) = if full { (400, 200) } else { (3, 5) };
    // Groups: (reference first) for each size.
    let mut groups: Vec<Vec<Timed>> = Vec::new();
    for size in [200, 1100] {
        groups.push(vec![
            timed::<XaesCrate>(size),
            timed::<XaesPrevious>(size),
            timed::<XaesCurrent>(size),
        ]);
        let mut xchacha = vec![timed::<XChaChaCrate>(size)];
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if graviola {
            xchacha.push(timed::<aead_eval::XChaChaGraviola>(size));
        }
        groups.push(xchacha);
    }
    for round in 0..rounds {
        for group in &mut groups {
            let n = group.len();
            for offset in 0..n {
                let t = &mut group[(round + offset) % n];
                let start = Instant::now();
                (t.seal)(batch);
                t.seal_ns
                    .push(start.elapsed().as_secs_f64() * 1e9 / batch as f64);
                let start = Instant::now();
                (t.open)(batch);
                t.open_ns
                    .push(start.elapsed().as_secs_f64() * 1e9 / batch as f64);
            }
        }
    }
    println!(
        "\n{rounds} interleaved rounds of {batch} calls; 32 bytes of associated data; median ns \
         per call (median per-round ratio to the library's implementation of the algorithm):"
    );
    println!(
        "{:<62} {:>5} {:>16} {:>16}",
        "contender", "bytes", "seal", "open"
    );
    for group in &groups {
        let (reference, others) = group.split_first().expect("a reference");
        for t in group {
            let ratio = |mine: &[f64], theirs: &[f64]| {
                let ratios: Vec<f64> = mine.iter().zip(theirs).map(|(m, r)| m / r).collect();
                median(&ratios)
            };
            println!(
                "{:<62} {:>5} {:>8.0} ({:.2}) {:>8.0} ({:.2})",
                t.name,
                t.size,
                median(&t.seal_ns),
                ratio(&t.seal_ns, &reference.seal_ns),
                median(&t.open_ns),
                ratio(&t.open_ns, &reference.open_ns),
            );
        }
        let _ = others;
    }
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    if !graviola {
        println!("graviola: this CPU lacks the features it needs; not measured");
    }
}
