//! How state blobs are stored: the engine's bytes split into byte planes (byte k of every
//! value together: the sign/exponent bytes of f16/f32 values are far more regular than the
//! low mantissa bytes, so zstd compresses the planes better than the interleaved values),
//! then zstd. Whole states are mostly f16 window K/V (two planes: measured 8.5% → 15%
//! saving on a W = 1024 window state) and are kept exactly. AHN states alone ("as of page
//! N" checkpoints, approximate anyway since their window is re-read) keep their f32 values
//! as bfloat16 (rounded to nearest, relative error ≤ 2⁻⁹), half the bytes before zstd.

/// The codec of whole states (lossless).
pub(crate) const CODEC: &str = "zstd-shuffle2";

/// Lossless, four planes (f32 data); readable, not written.
const SHUFFLE4: &str = "zstd-shuffle4";

/// The codec of AHN states alone: f32 values as bfloat16 (lossy; what it decodes to is what
/// its checksum covers).
pub(crate) const MEMORY_CODEC: &str = "zstd-bf16";

/// zstd level: 3 is zstd's default; higher levels gain under 1% on these blobs.
const LEVEL: i32 = 3;

/// Encodes raw state bytes for storage with the whole-state codec.
#[cfg(test)]
pub(crate) fn encode(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    encode_with(CODEC, raw)
}

/// Encodes raw state bytes for storage with `codec` (one of this module's constants).
pub(crate) fn encode_with(codec: &str, raw: &[u8]) -> std::io::Result<Vec<u8>> {
    match codec {
        CODEC => zstd::bulk::compress(&shuffle(raw, 2), LEVEL),
        SHUFFLE4 => zstd::bulk::compress(&shuffle(raw, 4), LEVEL),
        MEMORY_CODEC => {
            let ranges = seahorse_engine::ahn_state_f32_ranges(raw).map_err(std::io::Error::other)?;
            zstd::bulk::compress(&shuffle(&to_bf16(raw, &ranges), 2), LEVEL)
        }
        _ => Err(std::io::Error::other(format!("unknown codec {codec:?}"))),
    }
}

/// Whether `codec` loses precision (then the stored checksum covers the decoded bytes).
pub(crate) fn is_lossy(codec: &str) -> bool {
    codec == MEMORY_CODEC
}

/// Decodes a blob stored with `codec`.
pub(crate) fn decode(codec: &str, blob: &[u8]) -> Result<Vec<u8>, String> {
    let unzstd = || zstd::stream::decode_all(blob).map_err(|e| format!("cannot decompress: {e}"));
    match codec {
        CODEC => Ok(unshuffle(&unzstd()?, 2)),
        SHUFFLE4 => Ok(unshuffle(&unzstd()?, 4)),
        MEMORY_CODEC => from_bf16(&unshuffle(&unzstd()?, 2)),
        other => Err(format!("unknown codec {other:?} (written by a newer Seahorse?)")),
    }
}

/// A range table (count, then start and length in bytes of each f32 range of `raw`), then
/// `raw` with each f32 of those ranges as the upper half of its bits, rounded to nearest
/// even (bfloat16).
fn to_bf16(raw: &[u8], ranges: &[std::ops::Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() / 2 + 16 * ranges.len() + 8);
    out.extend((ranges.len() as u64).to_le_bytes());
    for r in ranges {
        out.extend((r.start as u64).to_le_bytes());
        out.extend((r.len() as u64).to_le_bytes());
    }
    let mut at = 0;
    for r in ranges {
        out.extend_from_slice(&raw[at..r.start]);
        for v in raw[r.clone()].chunks_exact(4) {
            let bits = u32::from_le_bytes(v.try_into().expect("4 bytes"));
            let half = if (bits & 0x7fff_ffff) > 0x7f80_0000 {
                (bits >> 16) as u16 | 0x40 // NaN stays NaN
            } else {
                ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) as u16
            };
            out.extend(half.to_le_bytes());
        }
        at = r.end;
    }
    out.extend_from_slice(&raw[at..]);
    out
}

fn from_bf16(data: &[u8]) -> Result<Vec<u8>, String> {
    let bad = || "a damaged bfloat16 range table".to_owned();
    let u64_at = |i: usize| -> Result<usize, String> {
        let b = data.get(i..i + 8).ok_or_else(bad)?;
        usize::try_from(u64::from_le_bytes(b.try_into().expect("8 bytes"))).map_err(|_| bad())
    };
    let count = u64_at(0)?;
    let table_end =
        count.checked_mul(16).and_then(|n| n.checked_add(8)).filter(|&n| n <= data.len()).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(data.len() * 2);
    let (mut at, mut raw_at) = (table_end, 0usize);
    for k in 0..count {
        let (start, len) = (u64_at(8 + 16 * k)?, u64_at(16 + 16 * k)?);
        let gap = start.checked_sub(raw_at).ok_or_else(bad)?;
        out.extend_from_slice(data.get(at..at + gap).ok_or_else(bad)?);
        at += gap;
        let halves = data.get(at..at + len / 2).ok_or_else(bad)?;
        for h in halves.chunks_exact(2) {
            out.extend((u32::from(u16::from_le_bytes([h[0], h[1]])) << 16).to_le_bytes());
        }
        at += len / 2;
        raw_at = start + len;
    }
    out.extend_from_slice(&data[at..]);
    Ok(out)
}

/// Byte k of every `planes`-byte group together, plane after plane, then the bytes left
/// over after the last whole group.
fn shuffle(raw: &[u8], planes: usize) -> Vec<u8> {
    let n = raw.len() / planes * planes;
    let mut out = Vec::with_capacity(raw.len());
    for k in 0..planes {
        out.extend(raw[..n].iter().skip(k).step_by(planes));
    }
    out.extend_from_slice(&raw[n..]);
    out
}

fn unshuffle(data: &[u8], planes: usize) -> Vec<u8> {
    let n = data.len() / planes * planes;
    let groups = n / planes;
    let mut out = vec![0u8; data.len()];
    for k in 0..planes {
        for (i, &b) in data[k * groups..(k + 1) * groups].iter().enumerate() {
            out[i * planes + k] = b;
        }
    }
    out[n..].copy_from_slice(&data[n..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        for len in 0..40usize {
            let raw: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
            for planes in [2, 4] {
                assert_eq!(unshuffle(&shuffle(&raw, planes), planes), raw, "length {len}, {planes} planes");
            }
            assert_eq!(decode(CODEC, &encode(&raw).unwrap()).unwrap(), raw);
            assert_eq!(decode(SHUFFLE4, &encode_with(SHUFFLE4, &raw).unwrap()).unwrap(), raw);
        }
        assert_eq!(shuffle(&[1, 2, 3, 4, 5], 2), vec![1, 3, 2, 4, 5]);
        assert_eq!(shuffle(&[1, 2, 3, 4, 5, 6, 7, 8, 9], 4), vec![1, 5, 2, 6, 3, 7, 4, 8, 9]);
        assert!(decode("lz9", b"").is_err());
        assert!(encode_with("lz9", b"").is_err());
    }

    #[test]
    fn bfloat16_keeps_the_layout_and_rounds_the_values_to_nearest() {
        let header = b"layout!!".to_vec();
        let values = [1.0f32, -2.5, 1.0 + f32::EPSILON * 300.0, 3.0e-20, 0.0, 1.0e30, -7.0e-3];
        let mut raw = header.clone();
        raw.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        raw.extend(b"tail");
        let values_range = header.len()..header.len() + 4 * values.len();
        let back = from_bf16(&to_bf16(&raw, std::slice::from_ref(&values_range))).unwrap();
        assert_eq!(back.len(), raw.len());
        assert_eq!(&back[..8], b"layout!!");
        assert_eq!(&back[back.len() - 4..], b"tail");
        for (i, v) in values.iter().enumerate() {
            let got = f32::from_le_bytes(back[8 + 4 * i..12 + 4 * i].try_into().unwrap());
            assert!((got - v).abs() <= v.abs() / 256.0, "{v} → {got}");
            assert_eq!(got.to_bits() & 0xffff, 0);
        }
        // Nearest, not truncated: just under 1 + 2⁻⁸ rounds up to it.
        let x = f32::from_bits(0x3f80_8001);
        let r = from_bf16(&to_bf16(&x.to_le_bytes(), std::slice::from_ref(&(0..4)))).unwrap();
        assert_eq!(f32::from_le_bytes(r.try_into().unwrap()).to_bits(), 0x3f81_0000);
        assert!(from_bf16(&[1, 0, 0]).is_err());
        assert!(from_bf16(&[9, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
