//! Reading and writing GGUF metadata through the `gguf_*` functions of the one ggml that
//! llama-cpp-sys-2 links (no second GGUF implementation, no second ggml).

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;

use llama_cpp_sys_2 as sys;

use crate::error::{EngineError, Result};

/// An open GGUF file: its metadata, tensor infos and (no data) ggml tensor descriptors.
pub(crate) struct GgufFile {
    pub(crate) path: PathBuf,
    pub(crate) ctx: *mut sys::gguf_context,
    pub(crate) tensors: *mut sys::ggml_context,
}

impl Drop for GgufFile {
    fn drop(&mut self) {
        // SAFETY: both pointers come from gguf_init_from_file and are freed once.
        unsafe {
            sys::gguf_free(self.ctx);
            if !self.tensors.is_null() {
                sys::ggml_free(self.tensors);
            }
        }
    }
}

/// A metadata value we read.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    U32(u32),
    F32(f32),
    Str(String),
    Other,
}

impl GgufFile {
    /// Opens a GGUF file without reading tensor data. A file that is not GGUF, truncated or
    /// otherwise malformed gives an error, never a crash (gguf_init validates everything).
    pub(crate) fn open(path: &Path) -> Result<GgufFile> {
        let bad = |reason: &str| EngineError::BadGguf { path: path.to_owned(), reason: reason.to_owned() };
        let cpath = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| bad("path contains NUL"))?;
        std::fs::metadata(path).map_err(|source| EngineError::ModelFile { path: path.to_owned(), source })?;
        let mut tensors: *mut sys::ggml_context = ptr::null_mut();
        let params = sys::gguf_init_params { no_alloc: true, ctx: &mut tensors };
        // SAFETY: valid C string and params; returns null on any parse error.
        let ctx = unsafe { sys::gguf_init_from_file(cpath.as_ptr(), params) };
        if ctx.is_null() {
            return Err(bad("not a valid GGUF file (bad magic, version, metadata or tensor table)"));
        }
        let file = GgufFile { path: path.to_owned(), ctx, tensors };
        // gguf_init does not read tensor data without allocating it: check that it is all there.
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as usize;
        let end = (0..file.n_tensors()).map(|i| file.tensor(i)).map(|t| t.file_offset + t.size).max().unwrap_or(0);
        if end > len {
            return Err(bad(&format!("truncated: the tensor data ends at byte {end}, the file has {len} bytes")));
        }
        Ok(file)
    }

    pub(crate) fn find_key(&self, key: &str) -> Option<i64> {
        let ckey = CString::new(key).ok()?;
        // SAFETY: ctx is valid.
        let id = unsafe { sys::gguf_find_key(self.ctx, ckey.as_ptr()) };
        (id >= 0).then_some(id)
    }

    pub(crate) fn value(&self, key: &str) -> Option<Value> {
        let id = self.find_key(key)?;
        // SAFETY: id is a valid key index of ctx; getters match the reported type.
        unsafe {
            Some(match sys::gguf_get_kv_type(self.ctx, id) {
                sys::GGUF_TYPE_UINT32 => Value::U32(sys::gguf_get_val_u32(self.ctx, id)),
                sys::GGUF_TYPE_INT32 => {
                    let v = sys::gguf_get_val_i32(self.ctx, id);
                    if v < 0 {
                        Value::Other
                    } else {
                        Value::U32(v as u32)
                    }
                }
                sys::GGUF_TYPE_FLOAT32 => Value::F32(sys::gguf_get_val_f32(self.ctx, id)),
                sys::GGUF_TYPE_STRING => {
                    Value::Str(CStr::from_ptr(sys::gguf_get_val_str(self.ctx, id)).to_string_lossy().into_owned())
                }
                _ => Value::Other,
            })
        }
    }

    pub(crate) fn string(&self, key: &str) -> Option<String> {
        match self.value(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn u32(&self, key: &str) -> Option<u32> {
        match self.value(key)? {
            Value::U32(v) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn keys(&self) -> Vec<String> {
        // SAFETY: indices below gguf_get_n_kv are valid.
        unsafe {
            (0..sys::gguf_get_n_kv(self.ctx))
                .map(|i| CStr::from_ptr(sys::gguf_get_key(self.ctx, i)).to_string_lossy().into_owned())
                .collect()
        }
    }

    pub(crate) fn n_tensors(&self) -> i64 {
        // SAFETY: ctx is valid.
        unsafe { sys::gguf_get_n_tensors(self.ctx) }
    }

    /// Name, shape (ne), type, byte size and absolute file offset of tensor `i`.
    pub(crate) fn tensor(&self, i: i64) -> TensorInfo {
        // SAFETY: i < n_tensors; ne points at GGML_MAX_DIMS values.
        unsafe {
            let name = CStr::from_ptr(sys::gguf_get_tensor_name(self.ctx, i)).to_string_lossy().into_owned();
            let ne = std::slice::from_raw_parts(sys::gguf_get_tensor_ne(self.ctx, i), 4);
            TensorInfo {
                name,
                ne: [ne[0], ne[1], ne[2], ne[3]],
                ggml_type: sys::gguf_get_tensor_type(self.ctx, i),
                size: sys::gguf_get_tensor_size(self.ctx, i),
                file_offset: sys::gguf_get_data_offset(self.ctx) + sys::gguf_get_tensor_offset(self.ctx, i),
            }
        }
    }
}

/// Where a tensor is and what it is.
#[derive(Clone, Debug)]
pub(crate) struct TensorInfo {
    pub(crate) name: String,
    pub(crate) ne: [i64; 4],
    pub(crate) ggml_type: sys::ggml_type,
    pub(crate) size: usize,
    pub(crate) file_offset: usize,
}
