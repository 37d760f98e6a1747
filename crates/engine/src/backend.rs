//! The process-wide llama.cpp backend and the checks that guard it.

use std::ffi::{c_char, CStr};
use std::sync::OnceLock;

use llama_cpp_2::llama_backend::LlamaBackend;

use crate::cpu;
use crate::error::{EngineError, Result};

extern "C" {
    /// Defined by ggml-patches/0001-seahorse-patch-rev.patch (src/seahorse-probe.cpp).
    fn seahorse_patch_rev() -> *const c_char;
}

/// The llama.cpp backend. One exists per process; get it with [`Engine::get`].
#[derive(Debug)]
pub struct Engine {
    pub(crate) backend: LlamaBackend,
}

/// What the running llama.cpp library is.
#[derive(Clone, Debug)]
pub struct BuildInfo {
    /// Patch revision compiled into the library (`seahorse_patch_rev()`).
    pub patch_rev: String,
    /// Patch revision of `ggml-patches/` this engine was compiled against.
    pub expected_patch_rev: &'static str,
    /// CPU features the llama.cpp build uses.
    pub cpu_features: Vec<&'static str>,
    /// llama.cpp's own `llama_print_system_info()`.
    pub system_info: String,
}

static ENGINE: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();

impl Engine {
    /// Initialises llama.cpp once per process and returns the shared backend.
    ///
    /// Fails, without calling into ggml, when the CPU lacks an instruction set the library
    /// was compiled for, and when the library was built from other patches than the engine.
    pub fn get() -> Result<&'static Engine> {
        let missing = cpu::missing_cpu_features();
        if !missing.is_empty() {
            return Err(EngineError::UnsupportedCpu { missing });
        }
        let built = Self::library_patch_rev();
        let expected = env!("SEAHORSE_EXPECTED_PATCH_REV");
        if built != expected {
            return Err(EngineError::StalePatches { built, expected: expected.to_owned() });
        }
        let engine = ENGINE.get_or_init(|| {
            let backend = LlamaBackend::init().map_err(|e| e.to_string())?;
            // llama.cpp's and ggml's log (every tensor at load time) goes to `tracing` as
            // events of target `llama-cpp-2`; the front end's subscriber decides what is shown.
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            Ok(Engine { backend })
        });
        engine.as_ref().map_err(|e| EngineError::Backend(e.clone()))
    }

    /// The patch revision compiled into the llama.cpp library.
    pub fn library_patch_rev() -> String {
        // SAFETY: seahorse_patch_rev returns a pointer to a static NUL-terminated string.
        unsafe { CStr::from_ptr(seahorse_patch_rev()) }.to_string_lossy().into_owned()
    }

    /// Describes the running library.
    pub fn build_info(&self) -> BuildInfo {
        // SAFETY: llama_print_system_info returns a pointer to a static std::string's buffer,
        // valid until the next call; we copy it at once. The backend is initialised.
        let system_info =
            unsafe { CStr::from_ptr(llama_cpp_sys_2::llama_print_system_info()) }.to_string_lossy().into_owned();
        BuildInfo {
            patch_rev: Self::library_patch_rev(),
            expected_patch_rev: env!("SEAHORSE_EXPECTED_PATCH_REV"),
            cpu_features: cpu::required_cpu_features(),
            system_info,
        }
    }
}

/// A GPU (or other accelerator) llama.cpp can offload layers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuDevice {
    /// llama.cpp's name for it ("CUDA0", "Vulkan0", "Metal").
    pub name: String,
    /// What it is ("NVIDIA H100 80GB HBM3").
    pub description: String,
    /// Its memory in bytes (0 where the backend does not say).
    pub memory_bytes: u64,
}

/// The GPUs this build of llama.cpp can use on this machine (none in a CPU-only build).
///
/// # Errors
///
/// [`Engine::get`]'s: llama.cpp could not be initialised.
pub fn gpu_devices() -> Result<Vec<GpuDevice>> {
    Engine::get()?;
    Ok(llama_cpp_2::list_llama_ggml_backend_devices()
        .into_iter()
        .filter(|d| {
            matches!(
                d.device_type,
                llama_cpp_2::LlamaBackendDeviceType::Gpu | llama_cpp_2::LlamaBackendDeviceType::IntegratedGpu
            )
        })
        .map(|d| GpuDevice { name: d.name, description: d.description, memory_bytes: d.memory_total as u64 })
        .collect())
}
