//! The byte layout of a saved AHN state ([`crate::Session::save_memory`]), read so that a
//! store may keep its values at a lower precision: where the f32 values are.
//!
//! llama.cpp writes a sequence's recurrent memory as: the state magic (u32) and sequence id
//! (i32); the cell count (u32) and per cell its position (i32) and sequence-id count (u32,
//! followed by that many i32); the "transposed" flag (u32, 0) and layer count (u32); then,
//! for every layer that has them, its R rows and then its S rows, each written as the
//! ggml type (i32), the row size in bytes (u64) and `cells × row size` bytes. With an AHN
//! block the R rows are empty (no convolution state) and the S rows hold each layer's
//! `heads × d × d` f32 state.

use std::ops::Range;

use crate::error::{EngineError, Result};

/// The magic llama.cpp writes at the start of a sequence state.
const STATE_MAGIC: u32 = 0xaf14_3cd8;

/// ggml's type id of f32.
const GGML_TYPE_F32: i32 = 0;

/// The byte ranges of a saved AHN state that hold f32 values (each a multiple of 4 bytes),
/// in order; everything else is layout (magic, positions, types and sizes).
///
/// # Errors
///
/// [`EngineError::State`] when the bytes are not laid out as described in this module
/// (another llama.cpp, a whole state rather than the AHN state alone, or damaged bytes).
pub fn ahn_state_f32_ranges(bytes: &[u8]) -> Result<Vec<Range<usize>>> {
    let mut r = Reader { bytes, at: 0 };
    if r.u32()? != STATE_MAGIC {
        return Err(bad("no sequence state magic"));
    }
    r.u32()?; // sequence id
    let cells = r.u32()? as usize;
    if cells == 0 {
        return Err(bad("no cell"));
    }
    for _ in 0..cells {
        r.u32()?; // position
        let seq_ids = r.u32()? as usize;
        r.skip(seq_ids.checked_mul(4).ok_or_else(|| bad("sequence ids"))?)?;
    }
    if r.u32()? != 0 {
        return Err(bad("a transposed state"));
    }
    let layers = r.u32()? as usize;
    let mut ranges = Vec::new();
    let mut sections = 0;
    while r.at < bytes.len() {
        let ty = r.u32()? as i32;
        let row = r.u64()?;
        let len = usize::try_from(row).ok().and_then(|row| row.checked_mul(cells)).ok_or_else(|| bad("row size"))?;
        let start = r.at;
        r.skip(len)?;
        if len > 0 {
            if ty != GGML_TYPE_F32 || len % 4 != 0 {
                return Err(bad(&format!("rows of ggml type {ty}, {len} bytes (f32 expected)")));
            }
            ranges.push(start..start + len);
        }
        sections += 1;
    }
    if sections > 2 * layers || ranges.is_empty() {
        return Err(bad(&format!("{sections} sections for {layers} layers")));
    }
    Ok(ranges)
}

fn bad(what: &str) -> EngineError {
    EngineError::State(format!("not a saved AHN state as this llama.cpp writes it: {what}"))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn skip(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| bad("cut short"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.skip(4)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.skip(8)?.try_into().expect("8 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state as llama.cpp lays it out: one cell, `layers` layers of empty R rows and
    /// `values` f32 S values each.
    fn state(layers: u32, values: usize) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(STATE_MAGIC.to_le_bytes());
        b.extend(0i32.to_le_bytes());
        b.extend(1u32.to_le_bytes()); // cells
        b.extend(41i32.to_le_bytes()); // position
        b.extend(0u32.to_le_bytes()); // sequence ids
        b.extend(0u32.to_le_bytes()); // not transposed
        b.extend(layers.to_le_bytes());
        for _ in 0..layers {
            b.extend(GGML_TYPE_F32.to_le_bytes());
            b.extend(0u64.to_le_bytes());
        }
        for l in 0..layers {
            b.extend(GGML_TYPE_F32.to_le_bytes());
            b.extend((values as u64 * 4).to_le_bytes());
            b.extend((0..values).flat_map(|i| (i as f32 + l as f32).to_le_bytes()));
        }
        b
    }

    #[test]
    fn finds_the_f32_values_of_every_layer() {
        let b = state(3, 5);
        let ranges = ahn_state_f32_ranges(&b).unwrap();
        assert_eq!(ranges.len(), 3);
        let header = 4 * 7 + 3 * 12;
        assert_eq!(ranges[0], header + 12..header + 12 + 20);
        assert_eq!(ranges[2].end, b.len());
        let first: Vec<f32> =
            b[ranges[1].clone()].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(first, [1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn refuses_what_is_not_laid_out_so() {
        let b = state(2, 4);
        assert!(ahn_state_f32_ranges(&b[..b.len() - 1]).is_err(), "cut short");
        assert!(ahn_state_f32_ranges(&[b.as_slice(), &[0]].concat()).is_err(), "trailing byte");
        let mut other = b.clone();
        other[0] ^= 1;
        assert!(ahn_state_f32_ranges(&other).is_err(), "magic");
        let mut f16 = b.clone();
        let s_type = 4 * 7 + 2 * 12;
        f16[s_type..s_type + 4].copy_from_slice(&1i32.to_le_bytes());
        assert!(ahn_state_f32_ranges(&f16).is_err(), "f16 rows");
        let mut many = state(1, 4);
        many.extend(state(1, 4)[4 * 7 + 12..].iter());
        assert!(ahn_state_f32_ranges(&many).is_err(), "more sections than layers allow");
        assert!(ahn_state_f32_ranges(&[]).is_err());
    }
}
