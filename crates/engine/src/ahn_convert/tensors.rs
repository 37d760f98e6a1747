//! The tensors of an official AHN checkpoint (ahn.md §4) and their AHN block names
//! (docs/ahn-gguf.md), per cell: the Rust form of `tools/ahn_ref/names.py`
//! (`AHN_OFFICIAL_BY_VARIANT`) and `cells.py` (`AHN_TENSORS`, `tensor_shapes`, `param_count`).

use crate::ahn_block::AhnType;

/// The shape of an AHN tensor, in PyTorch order, in terms of the layer's sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// `[H, D]`: a projection of the hidden state to one scalar per head.
    Proj,
    /// `[H]`: one value per head.
    PerHead,
    /// `[d]`: the output RMS norm shared by the heads (GDN, DN).
    HeadNorm,
    /// `[H*d]`: the output RMS norm over all heads (Mamba2).
    FullNorm,
    /// `[H, d, d]`: the GroupLinear `o_proj`, `[head, in, out]`.
    Out,
}

impl Shape {
    /// The PyTorch shape for `heads` heads of `head_dim` reading a `hidden`-wide state.
    pub(super) fn dims(self, hidden: u32, heads: u32, head_dim: u32) -> Vec<usize> {
        let (e, h, d) = (hidden as usize, heads as usize, head_dim as usize);
        match self {
            Shape::Proj => vec![h, e],
            Shape::PerHead => vec![h],
            Shape::HeadNorm => vec![d],
            Shape::FullNorm => vec![h * d],
            Shape::Out => vec![h, d, d],
        }
    }
}

/// One AHN tensor of a layer.
#[derive(Clone, Copy, Debug)]
pub(super) struct AhnTensor {
    /// Official name after `model.layers.{i}.ahn.fn.`.
    pub(super) official: &'static str,
    /// Block name after `blk.{i}.`.
    pub(super) block: &'static str,
    /// PyTorch shape.
    pub(super) shape: Shape,
}

const fn t(official: &'static str, block: &'static str, shape: Shape) -> AhnTensor {
    AhnTensor { official, block, shape }
}

const GDN: &[AhnTensor] = &[
    t("b_proj.weight", "ahn_beta.weight", Shape::Proj),
    t("a_proj.weight", "ahn_alpha.weight", Shape::Proj),
    t("A_log", "ahn_a_log", Shape::PerHead),
    t("dt_bias", "ahn_dt_bias", Shape::PerHead),
    t("g_proj.weight", "ahn_gate.weight", Shape::Proj),
    t("o_norm.weight", "ahn_norm.weight", Shape::HeadNorm),
    t("o_proj.weight", "ahn_out.weight", Shape::Out),
    t("D", "ahn_d", Shape::PerHead), // unused by the forward, kept so the count matches
];

const DN: &[AhnTensor] = &[
    t("b_proj.weight", "ahn_beta.weight", Shape::Proj),
    t("g_proj.weight", "ahn_gate.weight", Shape::Proj),
    t("o_norm.weight", "ahn_norm.weight", Shape::HeadNorm),
    t("o_proj.weight", "ahn_out.weight", Shape::Out),
];

const MAMBA2: &[AhnTensor] = &[
    t("dt_proj.weight", "ahn_dt.weight", Shape::Proj),
    t("dt_proj.bias", "ahn_dt.bias", Shape::PerHead),
    t("dt_bias", "ahn_dt_bias", Shape::PerHead),
    t("A_log", "ahn_a_log", Shape::PerHead),
    t("g_proj.weight", "ahn_gate.weight", Shape::Proj),
    t("g_proj.bias", "ahn_gate.bias", Shape::PerHead),
    t("norm.weight", "ahn_norm.weight", Shape::FullNorm),
    t("o_proj.weight", "ahn_out.weight", Shape::Out),
];

/// Every tensor a layer of `ahn_type` holds, in the order the Python writer puts them into a
/// block (`cells.AHN_TENSORS`), which the converter follows so that both write the same bytes.
pub(super) fn layer_tensors(ahn_type: AhnType) -> &'static [AhnTensor] {
    match ahn_type {
        AhnType::Gdn => GDN,
        AhnType::Dn => DN,
        AhnType::Mamba2 => MAMBA2,
    }
}

/// The block tensor that is stored per head transposed (docs/ahn-gguf.md).
pub(super) const TRANSPOSED: &str = "ahn_out.weight";

/// `config.json` `_ahn_implementation` values and their cells.
pub(super) const IMPLEMENTATIONS: [(&str, AhnType); 3] =
    [("DeltaNet", AhnType::Dn), ("GatedDeltaNet", AhnType::Gdn), ("Mamba2", AhnType::Mamba2)];

/// AHN parameters of a whole model by the formulas of ahn.md §6 (per layer, times `n_layer`):
/// GDN `3·D·H + 3·H + d + H·d²`, DN `2·D·H + d + H·d²`, Mamba2 `2·(D·H + H) + 2·H + H·d + H·d²`.
pub fn ahn_param_count(ahn_type: AhnType, n_layer: u32, hidden: u32, heads: u32, head_dim: u32) -> u64 {
    // In u128: no u32 sizes overflow it; a count beyond u64 (no real model) saturates.
    let (l, e, h, d) = (n_layer as u128, hidden as u128, heads as u128, head_dim as u128);
    let per_layer = match ahn_type {
        AhnType::Gdn => 3 * e * h + 3 * h + d + h * d * d,
        AhnType::Dn => 2 * e * h + d + h * d * d,
        AhnType::Mamba2 => 2 * (e * h + h) + 2 * h + h * d + h * d * d,
    };
    u64::try_from(l * per_layer).unwrap_or(u64::MAX)
}
