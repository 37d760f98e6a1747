//! The machine Seahorse runs on, and the catalogue model that suits it: the default model
//! of a new library is chosen here, with the reason in words, and the person may choose
//! another at any time (`Seahorse::update_settings`).

use serde::Serialize;

/// What matters about the machine for choosing a model.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// CPU threads available to Seahorse.
    pub cores: u32,
    /// Main memory in bytes, where the system says.
    pub memory_bytes: Option<u64>,
    /// GPUs this build can offload to (none in a CPU-only build).
    pub gpus: Vec<Gpu>,
}

/// A GPU this build can offload to.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gpu {
    /// What it is.
    pub description: String,
    /// Its memory in bytes (0 where unknown).
    pub memory_bytes: u64,
}

impl Machine {
    /// This machine: threads from the OS, memory from `/proc/meminfo` (Linux; elsewhere
    /// unknown), GPUs from llama.cpp.
    pub fn detect() -> Machine {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let memory_bytes = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| mem_total(&t));
        let gpus = seahorse_engine::gpu_devices()
            .unwrap_or_default()
            .into_iter()
            .map(|d| Gpu { description: d.description, memory_bytes: d.memory_bytes })
            .collect();
        Machine { cores, memory_bytes, gpus }
    }

    /// In words: "2 CPU threads, 23.4 GiB of memory, no GPU".
    pub fn describe(&self) -> String {
        let memory = self.memory_bytes.map_or("unknown memory".to_owned(), |b| format!("{} of memory", gib(b)));
        let gpus = match self.gpus.as_slice() {
            [] => "no GPU".to_owned(),
            gpus => gpus
                .iter()
                .map(|g| {
                    if g.memory_bytes > 0 {
                        format!("{} ({})", g.description, gib(g.memory_bytes))
                    } else {
                        g.description.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        format!("{} CPU thread{}, {memory}, {gpus}", self.cores, if self.cores == 1 { "" } else { "s" })
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// What was measured of a catalogue model, to explain a choice with numbers.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelFacts {
    /// The catalogue id.
    pub id: String,
    /// Share of the QA benchmark's answerable questions answered right (passages mode,
    /// 132 answerable questions over six documents: `docs/qa-eval.md`).
    pub correct_share: f64,
    /// Median time to the first answer token on the benchmark, seconds.
    pub first_token_s: f64,
    /// Where these were measured.
    pub measured_on: String,
}

/// Measured on this project's 2-core AMD EPYC (no GPU); see `docs/qa-eval.md`.
const MEASURED_ON: &str = "a 2-thread AMD EPYC without GPU";

/// The catalogue models' measured facts (`docs/qa-eval.md`).
fn facts() -> Vec<ModelFacts> {
    let f = |id: &str, correct_share, first_token_s| ModelFacts {
        id: id.to_owned(),
        correct_share,
        first_token_s,
        measured_on: MEASURED_ON.to_owned(),
    };
    vec![f(SMALL, 66.0 / 132.0, 2.72), f(LARGE, 105.0 / 132.0, 5.25)]
}

const SMALL: &str = "qwen2.5-coder-0.5b";
const LARGE: &str = "qwen2.5-coder-1.5b";

/// The model chosen for a machine, and why.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRecommendation {
    /// The catalogue id.
    pub model: String,
    /// Why, in words, with the numbers.
    pub reason: String,
    /// The machine it was chosen for.
    pub machine: Machine,
    /// What was measured of each catalogue model.
    pub facts: Vec<ModelFacts>,
}

/// Memory a machine needs for the 1.5B beside the system and the app: the model (1.04
/// GiB), its window cache and the rest of Seahorse, with room to spare.
const LARGE_MIN_MEMORY: u64 = 6 << 30;
/// GPU memory that holds the whole 1.5B with its cache.
const LARGE_MIN_GPU_MEMORY: u64 = 3 << 30;
/// CPU threads from which the 1.5B answers a question within seconds (on one, its first
/// answer token takes twice as long as on 2).
const LARGE_MIN_CORES: u32 = 2;

/// The catalogue model for `machine`: the 1.5B, which answers right far more often,
/// wherever it fits and runs — a GPU with room for it, or 2+ CPU threads, with 6+ GiB of
/// memory — else the 0.5B (about twice as fast on a CPU, in half the memory). On 2 CPU
/// threads the 1.5B's first answer token comes a few seconds later and reading a book into
/// memory takes about twice as long; a wrong answer costs a reader more.
pub fn recommend(machine: &Machine) -> ModelRecommendation {
    let facts = facts();
    let (small, large) = (&facts[0], &facts[1]);
    let enough_memory = machine.memory_bytes.is_none_or(|m| m >= LARGE_MIN_MEMORY);
    let gpu = machine.gpus.iter().find(|g| g.memory_bytes >= LARGE_MIN_GPU_MEMORY);
    let pct = |f: &ModelFacts| format!("{:.1} %", f.correct_share * 100.0);
    let measured = format!(
        "On {MEASURED_ON} the 1.5B answered {} of the benchmark's questions right against {} for the 0.5B, \
         and took {:.1} s to its first answer token against {:.1} s.",
        pct(large),
        pct(small),
        large.first_token_s,
        small.first_token_s,
    );
    let threads = |n: u32| format!("{n} CPU thread{}", if n == 1 { "" } else { "s" });
    let (model, why) = if let (Some(gpu), true) = (gpu, enough_memory) {
        (LARGE, format!("{} has room for the larger model, which answers better and runs fast on it.", gpu.description))
    } else if machine.cores >= LARGE_MIN_CORES && enough_memory {
        (
            LARGE,
            format!(
                "With {} and enough memory the larger model, which answers right far more often, is the better \
                 choice; reading a book into memory takes it about twice as long as the 0.5B, and Seahorse has no \
                 trained AHN block for it yet (its memory is the sliding window alone). Choose the 0.5B for \
                 quicker reading and answers if you can accept more wrong ones.",
                threads(machine.cores)
            ),
        )
    } else if !enough_memory {
        (SMALL, "With this little memory the smaller model is the safe choice.".to_owned())
    } else {
        (
            SMALL,
            format!(
                "With {} the larger model would be too slow; the smaller one keeps reading and answering quick.",
                threads(machine.cores)
            ),
        )
    };
    ModelRecommendation {
        model: model.to_owned(),
        reason: format!("{} for this machine ({}): {why} {measured}", model, machine.describe()),
        machine: machine.clone(),
        facts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(cores: u32, memory_gib: Option<u64>, gpu_gib: Option<u64>) -> Machine {
        Machine {
            cores,
            memory_bytes: memory_gib.map(|g| g << 30),
            gpus: gpu_gib
                .map(|g| Gpu { description: "NVIDIA H100".into(), memory_bytes: g << 30 })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn the_model_follows_cores_gpu_and_memory() {
        assert_eq!(recommend(&machine(2, Some(24), None)).model, LARGE);
        assert_eq!(recommend(&machine(1, Some(16), None)).model, SMALL, "one thread");
        assert_eq!(recommend(&machine(8, Some(16), None)).model, LARGE);
        assert_eq!(recommend(&machine(16, Some(4), None)).model, SMALL, "too little memory");
        assert_eq!(recommend(&machine(2, Some(16), Some(80))).model, LARGE, "a GPU with room");
        assert_eq!(recommend(&machine(1, Some(16), Some(2))).model, SMALL, "a GPU too small");
        assert_eq!(recommend(&machine(2, None, None)).model, LARGE, "unknown memory is not held against it");
        assert_eq!(recommend(&machine(1, Some(16), Some(80))).model, LARGE, "a GPU, whatever the threads");
        for id in [SMALL, LARGE] {
            assert!(seahorse_models::ModelSpec::by_id(id).is_some(), "{id} is in the catalogue");
        }
    }

    #[test]
    fn the_reason_names_the_machine_and_the_numbers() {
        let r = recommend(&machine(2, Some(24), None));
        assert!(
            r.reason.starts_with("qwen2.5-coder-1.5b for this machine (2 CPU threads, 24.0 GiB of memory, no GPU)"),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("twice as long"), "{}", r.reason);
        assert!(r.reason.contains("79.5 %") && r.reason.contains("50.0 %"), "{}", r.reason);
        assert!(r.reason.contains("5.2 s") && r.reason.contains("2.7 s"), "{}", r.reason);
        let r = recommend(&machine(1, Some(24), None));
        assert!(r.reason.starts_with("qwen2.5-coder-0.5b") && r.reason.contains("too slow"), "{}", r.reason);
        let r = recommend(&machine(2, Some(24), Some(80)));
        assert!(r.reason.contains("NVIDIA H100 (80.0 GiB)") && r.reason.contains("has room"), "{}", r.reason);
        assert_eq!(r.facts.len(), 2);
    }

    #[test]
    fn reads_memory_from_meminfo() {
        assert_eq!(mem_total("MemTotal:       24576000 kB\nMemFree: 1 kB\n"), Some(24_576_000 * 1024));
        assert_eq!(mem_total("nothing"), None);
        let here = Machine::detect();
        assert!(here.cores >= 1);
        assert!(here.describe().contains("CPU thread"));
    }
}
