//! The stamp written into each block by a `Pattern::Stamp` probe.
//!
//! Modelled on fio's verify header: a read-back must tell a block that was
//! written to the wrong place (a misdirected write, the typical bug of a
//! remapping target) from one whose data was damaged. Layout, little-endian:
//!
//! ```text
//! 0..8    magic     "DMBSTAMP"
//! 8..16   offset    u64  byte offset of this block on the device
//! 16..24  seq       u64  index of the block within the probe that wrote it
//! 24..28  bs        u32  block size of that probe
//! 28..32  version   u32  layout version (1)
//! 32..40  checksum  u64  over everything else in the block
//! 40..    payload
//! ```
//!
//! The payload is a fixed pseudo-random stream (by position in the block),
//! except that every further 512-byte sector of the block starts with a tag
//! naming that sector's own device offset. The payload is thus a function of
//! the block's offset, and when a target splits a bio and sends part of it
//! astray the tags say which sector went wrong.
//!
//! The checksum is built so that a writer pays O(bs/512) per block rather
//! than O(bs): each sector's digest hashes the sector body first (which is
//! the same in every block, so it is computed once per probe) and its
//! leading words (header or tag) last. Digests are folded in sector order.
//! The mixing steps are those of xxHash64.

use crate::exec::protocol::{ErrorKind, ExecError};

pub const MAGIC: [u8; 8] = *b"DMBSTAMP";
pub const HEADER_LEN: usize = 40;
pub const VERSION: u32 = 1;
const SECTOR: usize = 512;
/// Tags are `offset ^ TAG_KEY`: zeros and small garbage never decode as a
/// plausible offset (below 2^48) because the key's top bits are set.
const TAG_KEY: u64 = 0xA5C3_5EED_0000_0000;
const TAG_LIMIT: u64 = 1 << 48;
const STREAM_SEED: u64 = 0x6A09_E667_F3BC_C909;

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

/// Writes and checks stamps for one block size.
pub struct Stamper {
    bs: usize,
    /// Hash of each sector's body in the prepared buffer, by sector index.
    body_hashes: Vec<u64>,
}

impl Stamper {
    pub fn new(bs: usize) -> Result<Stamper, ExecError> {
        if bs < HEADER_LEN || bs > u32::MAX as usize {
            return Err(ExecError::new(
                ErrorKind::Invalid,
                format!("bs {bs} cannot hold a stamp (needs at least {HEADER_LEN} bytes)"),
            ));
        }
        let mut template = vec![0u8; bs];
        fill_stream(&mut template, STREAM_SEED);
        let body_hashes = sectors(bs)
            .map(|s| body_hash(s.index, &template[s.body_start..s.end]))
            .collect();
        Ok(Stamper { bs, body_hashes })
    }

    /// Fills a buffer with the part of a stamped block that is the same for
    /// every block. Once per buffer; [`Stamper::stamp`] does the rest.
    pub fn prepare(&self, buf: &mut [u8]) {
        fill_stream(buf, STREAM_SEED);
    }

    /// Turns a prepared buffer into the stamp of the block at `offset`.
    pub fn stamp(&self, buf: &mut [u8], offset: u64, seq: u64) {
        let header = [
            u64::from_le_bytes(MAGIC),
            offset,
            seq,
            self.bs as u64 | (u64::from(VERSION) << 32),
        ];
        for (i, w) in header.iter().enumerate() {
            put64(buf, i * 8, *w);
        }
        let mut c = block_seed(self.bs);
        for s in sectors(self.bs) {
            let body = self.body_hashes[s.index as usize];
            let digest = if s.index == 0 {
                header.iter().fold(body, |h, &w| absorb(h, w))
            } else if s.tagged {
                let tag = (offset + s.start as u64) ^ TAG_KEY;
                put64(buf, s.start, tag);
                absorb(body, tag)
            } else {
                body
            };
            c = absorb(c, digest);
        }
        put64(buf, 32, avalanche(c));
    }

    /// Checks a block read at `offset`. `expected` is a prepared buffer
    /// this call may overwrite. On failure returns what was found instead,
    /// as a short human description.
    pub fn verify(&self, block: &[u8], offset: u64, expected: &mut [u8]) -> Result<(), String> {
        // The sequence number depends on the order the writer visited
        // blocks, unknown here: take the block's own and check the rest.
        let seq = get64(block, 16);
        self.stamp(expected, offset, seq);
        if block == expected {
            Ok(())
        } else {
            Err(self.describe(block, offset, expected))
        }
    }

    fn describe(&self, block: &[u8], offset: u64, expected: &[u8]) -> String {
        if block[..8] != MAGIC {
            return describe_unstamped(block);
        }
        let found_offset = get64(block, 8);
        let found_bs = get32(block, 24) as usize;
        let version = get32(block, 28);
        if version != VERSION {
            return format!("stamp@{found_offset} of unknown version {version}");
        }
        if found_bs != self.bs {
            let why = if found_offset == offset {
                "written with another block size"
            } else {
                "misdirected write, another block size"
            };
            return format!("stamp@{found_offset} bs={found_bs} ({why})");
        }
        let intact = checksum_of(block) == get64(block, 32);
        match (found_offset == offset, intact) {
            (false, true) => format!("stamp@{found_offset} (misdirected write)"),
            (false, false) => format!("stamp@{found_offset}, bad checksum (misdirected write)"),
            (true, false) => format!(
                "bad checksum: {}",
                first_difference(block, offset, expected)
            ),
            (true, true) => format!(
                "stamp@{offset} with foreign payload: {}",
                first_difference(block, offset, expected)
            ),
        }
    }
}

/// `stamp@OFFSET`, the expected side of a mismatch.
pub fn label(offset: u64) -> String {
    format!("stamp@{offset}")
}

/// The checksum a stamped block should carry, computed from all its bytes
/// (the checksum field itself excluded). Equal to what [`Stamper::stamp`]
/// writes, which gets there with precomputed body hashes.
pub fn checksum_of(block: &[u8]) -> u64 {
    let bs = block.len();
    let mut c = block_seed(bs);
    for s in sectors(bs) {
        let body = body_hash(s.index, &block[s.body_start..s.end]);
        let digest = if s.index == 0 {
            (0..4).fold(body, |h, i| absorb(h, get64(block, i * 8)))
        } else if s.tagged {
            absorb(body, get64(block, s.start))
        } else {
            body
        };
        c = absorb(c, digest);
    }
    avalanche(c)
}

/// Fills `buf` with a xorshift64* stream: cheap, deterministic, and not
/// compressible or deduplicable the way zeros are.
pub fn fill_stream(buf: &mut [u8], seed: u64) {
    // A zero state would stay zero forever.
    let mut x = seed | 1;
    let (words, tail) = buf.as_chunks_mut::<8>();
    for w in words {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *w = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
    }
    x ^= x >> 12;
    let last = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
    let n = tail.len();
    tail.copy_from_slice(&last[..n]);
}

/// SplitMix64's finaliser: a good 64-bit mix of one value.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn describe_unstamped(block: &[u8]) -> String {
    if block.iter().all(|&b| b == 0) {
        return "zeros (never written)".into();
    }
    let shown: Vec<String> = block.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("no stamp: {} ...", shown.join(" "))
}

/// Where a block with an intact header departs from its expected content.
fn first_difference(block: &[u8], offset: u64, expected: &[u8]) -> String {
    let Some(pos) = block.iter().zip(expected).position(|(a, b)| a != b) else {
        return "no difference".into();
    };
    if (32..40).contains(&pos) {
        // The expected block reuses the found sequence number, so damage to
        // it, or to the checksum itself, shows up only here.
        return "header damaged (checksum does not match)".into();
    }
    let sector_start = pos / SECTOR * SECTOR;
    let sector_end = (sector_start + SECTOR).min(block.len());
    let at = offset + sector_start as u64;
    if block[sector_start..sector_end].iter().all(|&b| b == 0) {
        return format!("sector at {at} is zeros");
    }
    if sector_start > 0 && sector_end - sector_start >= 8 {
        let owner = get64(block, sector_start) ^ TAG_KEY;
        if owner < TAG_LIMIT && owner != at {
            return format!("sector at {at} holds data for {owner}");
        }
    }
    format!(
        "byte {} is 0x{:02x}, expected 0x{:02x}",
        offset + pos as u64,
        block[pos],
        expected[pos]
    )
}

#[derive(Clone, Copy)]
struct Sector {
    index: u64,
    start: usize,
    end: usize,
    /// First byte hashed as body (after the header or the tag).
    body_start: usize,
    tagged: bool,
}

/// The 512-byte sectors of a block (the last may be shorter).
fn sectors(bs: usize) -> impl Iterator<Item = Sector> {
    (0..bs.div_ceil(SECTOR)).map(move |i| {
        let start = i * SECTOR;
        let end = (start + SECTOR).min(bs);
        let tagged = i > 0 && end - start >= 8;
        let body_start = if i == 0 {
            HEADER_LEN
        } else if tagged {
            start + 8
        } else {
            start
        };
        Sector {
            index: i as u64,
            start,
            end,
            body_start,
            tagged,
        }
    })
}

fn block_seed(bs: usize) -> u64 {
    P5 ^ bs as u64
}

fn round(acc: u64, w: u64) -> u64 {
    acc.wrapping_add(w.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn absorb(h: u64, w: u64) -> u64 {
    (h ^ round(0, w))
        .rotate_left(27)
        .wrapping_mul(P1)
        .wrapping_add(P4)
}

fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// Four independent lanes (as xxHash64) so the multiplications overlap.
fn body_hash(sector: u64, body: &[u8]) -> u64 {
    let seed = sector.wrapping_mul(P5);
    let mut v = [
        seed.wrapping_add(P1).wrapping_add(P2),
        seed.wrapping_add(P2),
        seed,
        seed.wrapping_sub(P1),
    ];
    let (words, tail) = body.as_chunks::<8>();
    let (stripes, rest) = words.as_chunks::<4>();
    for stripe in stripes {
        for (lane, w) in v.iter_mut().zip(stripe) {
            *lane = round(*lane, u64::from_le_bytes(*w));
        }
    }
    // Leftover words continue the lane rotation; a partial word is padded.
    let mut lane = 0;
    for w in rest {
        v[lane] = round(v[lane], u64::from_le_bytes(*w));
        lane += 1;
    }
    if !tail.is_empty() {
        v[lane] = round(v[lane], get_padded(tail));
    }
    let mut h = v[0]
        .rotate_left(1)
        .wrapping_add(v[1].rotate_left(7))
        .wrapping_add(v[2].rotate_left(12))
        .wrapping_add(v[3].rotate_left(18));
    for x in v {
        h = (h ^ round(0, x)).wrapping_mul(P1).wrapping_add(P4);
    }
    h ^ body.len() as u64
}

fn get_padded(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(word)
}

fn get64(buf: &[u8], at: usize) -> u64 {
    get_padded(buf.get(at..).unwrap_or_default())
}

fn get32(buf: &[u8], at: usize) -> u32 {
    (get64(buf, at) & 0xFFFF_FFFF) as u32
}

fn put64(buf: &mut [u8], at: usize, value: u64) {
    buf[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamped(st: &Stamper, bs: usize, offset: u64, seq: u64) -> Vec<u8> {
        let mut buf = vec![0u8; bs];
        st.prepare(&mut buf);
        st.stamp(&mut buf, offset, seq);
        buf
    }

    #[test]
    fn fast_checksum_equals_full_checksum() {
        for bs in [40, 41, 64, 512, 515, 520, 1000, 4096, 65536 + 8] {
            let st = Stamper::new(bs).expect("bs ok");
            for (offset, seq) in [(0, 0), (bs as u64 * 7, 3), (1 << 40, 99)] {
                let b = stamped(&st, bs, offset, seq);
                assert_eq!(get64(&b, 32), checksum_of(&b), "bs {bs} offset {offset}");
            }
        }
    }

    #[test]
    fn header_layout_is_as_documented() {
        let st = Stamper::new(4096).expect("bs ok");
        let b = stamped(&st, 4096, 0x1234_5000, 17);
        assert_eq!(&b[..8], b"DMBSTAMP");
        assert_eq!(get64(&b, 8), 0x1234_5000);
        assert_eq!(get64(&b, 16), 17);
        assert_eq!(get32(&b, 24), 4096);
        assert_eq!(get32(&b, 28), VERSION);
        assert_eq!(get64(&b, 512) ^ TAG_KEY, 0x1234_5000 + 512);
    }

    #[test]
    fn stamp_verifies_at_its_own_offset() {
        let st = Stamper::new(512).expect("bs ok");
        let b = stamped(&st, 512, 5120, 4);
        let mut scratch = vec![0u8; 512];
        st.prepare(&mut scratch);
        assert_eq!(st.verify(&b, 5120, &mut scratch), Ok(()));
    }

    #[test]
    fn misdirected_block_names_its_offset() {
        let st = Stamper::new(512).expect("bs ok");
        let b = stamped(&st, 512, 0, 0);
        let mut scratch = vec![0u8; 512];
        st.prepare(&mut scratch);
        assert_eq!(
            st.verify(&b, 5120, &mut scratch),
            Err("stamp@0 (misdirected write)".into())
        );
    }

    #[test]
    fn zeros_and_foreign_data_are_told_apart() {
        let st = Stamper::new(512).expect("bs ok");
        let mut scratch = vec![0u8; 512];
        st.prepare(&mut scratch);
        let zeros = vec![0u8; 512];
        assert_eq!(
            st.verify(&zeros, 0, &mut scratch),
            Err("zeros (never written)".into())
        );
        let mut junk = vec![0u8; 512];
        junk[..3].copy_from_slice(&[0x3f, 0x00, 0xa1]);
        assert_eq!(
            st.verify(&junk, 0, &mut scratch),
            Err("no stamp: 3f 00 a1 00 00 00 00 00 ...".into())
        );
    }

    #[test]
    fn every_single_byte_corruption_is_caught() {
        let bs = 1536;
        let st = Stamper::new(bs).expect("bs ok");
        let good = stamped(&st, bs, 3 * bs as u64, 1);
        let mut scratch = vec![0u8; bs];
        st.prepare(&mut scratch);
        for pos in 0..bs {
            let mut bad = good.clone();
            bad[pos] ^= 0x01;
            let found = st
                .verify(&bad, 3 * bs as u64, &mut scratch)
                .expect_err("corruption must be caught");
            if (8..16).contains(&pos) {
                // A damaged offset field reads as another block's stamp.
                assert!(found.contains("bad checksum"), "{pos}: {found}");
            } else if pos >= 40 {
                assert!(found.starts_with("bad checksum: "), "{pos}: {found}");
            }
            // Every corruption must also break the checksum itself, unless
            // it hit the checksum field or the magic (then it is no stamp).
            if !(32..40).contains(&pos) && pos >= 8 {
                assert_ne!(checksum_of(&bad), get64(&bad, 32), "{pos}");
            }
        }
    }

    #[test]
    fn damaged_payload_names_the_byte() {
        let st = Stamper::new(4096).expect("bs ok");
        let mut b = stamped(&st, 4096, 8192, 0);
        b[1000] ^= 0xff;
        let mut scratch = vec![0u8; 4096];
        st.prepare(&mut scratch);
        let found = st.verify(&b, 8192, &mut scratch).expect_err("bad");
        assert!(
            found.starts_with("bad checksum: byte 9192 is 0x"),
            "{found}"
        );
    }

    #[test]
    fn a_sector_from_elsewhere_is_named() {
        // As if a target split the bio and sent the second sector astray:
        // the sector here holds what was meant for another block.
        let st = Stamper::new(4096).expect("bs ok");
        let mut b = stamped(&st, 4096, 8192, 0);
        let other = stamped(&st, 4096, 0, 0);
        b[512..1024].copy_from_slice(&other[512..1024]);
        let mut scratch = vec![0u8; 4096];
        st.prepare(&mut scratch);
        assert_eq!(
            st.verify(&b, 8192, &mut scratch),
            Err("bad checksum: sector at 8704 holds data for 512".into())
        );
        b[1024..1536].fill(0);
        b[512..1024].copy_from_slice(&stamped(&st, 4096, 8192, 0)[512..1024]);
        assert_eq!(
            st.verify(&b, 8192, &mut scratch),
            Err("bad checksum: sector at 9216 is zeros".into())
        );
    }

    #[test]
    fn other_block_size_is_reported() {
        let big = Stamper::new(1024).expect("bs ok");
        let b = stamped(&big, 1024, 0, 0);
        let small = Stamper::new(512).expect("bs ok");
        let mut scratch = vec![0u8; 512];
        small.prepare(&mut scratch);
        assert_eq!(
            small.verify(&b[..512], 0, &mut scratch),
            Err("stamp@0 bs=1024 (written with another block size)".into())
        );
    }

    #[test]
    fn tiny_block_sizes_are_refused() {
        assert!(Stamper::new(HEADER_LEN - 1).is_err());
        assert!(Stamper::new(HEADER_LEN).is_ok());
    }

    #[test]
    fn stream_is_deterministic_and_fills_tails() {
        let mut a = vec![0u8; 13];
        let mut b = vec![0u8; 13];
        fill_stream(&mut a, 5);
        fill_stream(&mut b, 5);
        assert_eq!(a, b);
        assert!(a[8..].iter().any(|&x| x != 0));
    }
}
