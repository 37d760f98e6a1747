# Seahorse: apply ggml-patches/*.patch to the llama.cpp tree vendored by llama-cpp-sys-2.
#
# Why this file exists: we build llama.cpp through the `llama-cpp-sys-2` crate and do not
# vendor a copy of llama.cpp. The crate's build.rs forwards every CMAKE_* environment
# variable to CMake, and .cargo/config.toml sets CMAKE_PROJECT_INCLUDE to this file, so
# CMake runs it right after every `project()` call of the llama.cpp build.
#
# What it does, at the first `project(llama.cpp)`:
#   1. copies the source trees the patches touch (src/, ggml/src/) into <build>/seahorse-stage,
#   2. applies the patches there in order with `patch --fuzz=0` (a hunk that does not apply
#      exactly fails the configure step with the patch's name and patch's own message),
#   3. writes src/seahorse-patch-rev.inc (the content hash of the patch set),
#   4. syncs the stage into <build>/seahorse-src, touching only files whose content changed,
#      so an edit of one patch recompiles only the affected objects,
#   5. once all targets exist (cmake_language(DEFER)), points the sources and include
#      directories of the targets built from a patched tree at the mirror.
#
# The public headers (include/, ggml/include/) are never patched: bindgen and the Rust
# bindings see the originals, so the C API stays exactly the crate's.

if(NOT PROJECT_NAME STREQUAL "llama.cpp")
  # CMake also runs this include for project(ggml) and any nested project.
  return()
endif()
include_guard(GLOBAL)

if(CMAKE_VERSION VERSION_LESS 3.21)
  message(FATAL_ERROR "Seahorse patches need CMake >= 3.21 (for cmake_language(DEFER) and "
                      "file(COPY_FILE)); this is CMake ${CMAKE_VERSION}")
endif()

set(SEAHORSE_LLAMA_ROOT "${CMAKE_SOURCE_DIR}")
set(SEAHORSE_STAGE "${CMAKE_BINARY_DIR}/seahorse-stage")
set(SEAHORSE_MIRROR "${CMAKE_BINARY_DIR}/seahorse-src")

file(GLOB SEAHORSE_PATCHES CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/*.patch")
list(SORT SEAHORSE_PATCHES)
set_property(DIRECTORY "${SEAHORSE_LLAMA_ROOT}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${SEAHORSE_PATCHES} "${CMAKE_CURRENT_LIST_FILE}")

# The patch revision: sha256 over "<file name> <sha256 of file>\n" for every patch and this
# file, in name order. ggml-patches/update-rev writes it into .cargo/config.toml as
# GGML_SEAHORSE_PATCH_REV, whose change makes cargo re-run the llama-cpp-sys-2 build script;
# crates/engine/build.rs computes the same value, and the engine refuses a library whose
# compiled-in revision differs (a stale build).
set(_rev_input "")
foreach(f IN LISTS SEAHORSE_PATCHES CMAKE_CURRENT_LIST_FILE)
  file(SHA256 "${f}" _h)
  get_filename_component(_n "${f}" NAME)
  string(APPEND _rev_input "${_n} ${_h}\n")
endforeach()
string(SHA256 _rev_full "${_rev_input}")
string(SUBSTRING "${_rev_full}" 0 16 SEAHORSE_PATCH_REV)
# Compare with the file, not with the -D value: cmake-rs configures only once, so the cached
# GGML_SEAHORSE_PATCH_REV is stale after the first build.
set(_config "${CMAKE_CURRENT_LIST_DIR}/../.cargo/config.toml")
if(EXISTS "${_config}")
  set_property(DIRECTORY "${CMAKE_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_config}")
  file(STRINGS "${_config}" _rev_line REGEX "^GGML_SEAHORSE_PATCH_REV = ")
  string(REGEX REPLACE "^GGML_SEAHORSE_PATCH_REV = \"([0-9a-f]*)\".*" "\\1" _configured "${_rev_line}")
  if(NOT _configured STREQUAL SEAHORSE_PATCH_REV)
    message(FATAL_ERROR
      "Seahorse: ggml-patches/ changed (revision ${SEAHORSE_PATCH_REV}) but .cargo/config.toml "
      "says GGML_SEAHORSE_PATCH_REV = \"${_configured}\". Run ggml-patches/update-rev and build again.")
  endif()
endif()
message(STATUS "Seahorse: patch revision ${SEAHORSE_PATCH_REV}")

# Which trees do the patches touch? Anything outside src/ and ggml/src/ is refused.
set(SEAHORSE_TREES src)   # src/ always: it receives seahorse-patch-rev.inc
foreach(p IN LISTS SEAHORSE_PATCHES)
  file(STRINGS "${p}" _targets REGEX "^\\+\\+\\+ ")
  foreach(line IN LISTS _targets)
    string(REGEX REPLACE "^\\+\\+\\+ b/([^\t ]*).*" "\\1" f "${line}")
    if(f MATCHES "^src/")
      list(APPEND SEAHORSE_TREES src)
    elseif(f MATCHES "^ggml/src/")
      list(APPEND SEAHORSE_TREES ggml/src)
    else()
      message(FATAL_ERROR "Seahorse: ${p} patches '${f}'; only files under src/ and ggml/src/ "
                          "may be patched (public headers must stay as bindgen sees them)")
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES SEAHORSE_TREES)

# 1-2. A pristine copy of each touched tree, patched in order.
file(REMOVE_RECURSE "${SEAHORSE_STAGE}")
foreach(t IN LISTS SEAHORSE_TREES)
  get_filename_component(_parent "${SEAHORSE_STAGE}/${t}" DIRECTORY)
  file(COPY "${SEAHORSE_LLAMA_ROOT}/${t}" DESTINATION "${_parent}")
endforeach()
find_program(SEAHORSE_PATCH_EXE patch)
if(NOT SEAHORSE_PATCH_EXE)
  message(FATAL_ERROR "Seahorse: the 'patch' program is required (Debian: apt-get install patch)")
endif()
foreach(p IN LISTS SEAHORSE_PATCHES)
  execute_process(
    COMMAND "${SEAHORSE_PATCH_EXE}" -p1 --batch --forward --fuzz=0 --no-backup-if-mismatch -i "${p}"
    WORKING_DIRECTORY "${SEAHORSE_STAGE}"
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "Seahorse: patch ${p} does not apply to the vendored llama.cpp:\n${_out}")
  endif()
  message(STATUS "Seahorse: applied ${p}")
endforeach()

# 3. The revision, for the probe function in src/seahorse-probe.cpp.
file(WRITE "${SEAHORSE_STAGE}/src/seahorse-patch-rev.inc"
     "// generated by ggml-patches/inject.cmake\n#define SEAHORSE_PATCH_REV \"${SEAHORSE_PATCH_REV}\"\n")

# 4. Stage -> mirror, keeping the mtime of unchanged files.
file(GLOB_RECURSE _staged RELATIVE "${SEAHORSE_STAGE}" "${SEAHORSE_STAGE}/*")
foreach(f IN LISTS _staged)
  get_filename_component(_d "${SEAHORSE_MIRROR}/${f}" DIRECTORY)
  file(MAKE_DIRECTORY "${_d}")
  file(COPY_FILE "${SEAHORSE_STAGE}/${f}" "${SEAHORSE_MIRROR}/${f}" ONLY_IF_DIFFERENT)
endforeach()

# 5. Retarget the build at the mirror once every target has been defined.
function(seahorse_collect_targets dir out)
  get_property(_t DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(_subs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(s IN LISTS _subs)
    seahorse_collect_targets("${s}" _st)
    list(APPEND _t ${_st})
  endforeach()
  set(${out} ${_t} PARENT_SCOPE)
endfunction()

# Maps an absolute path inside a patched tree to the mirror; other paths are returned as is.
function(seahorse_mirror_path path out)
  set(_p "${path}")
  cmake_path(NORMAL_PATH _p)
  string(REGEX REPLACE "/$" "" _p "${_p}")
  foreach(t IN LISTS SEAHORSE_TREES)
    string(FIND "${_p}/" "${SEAHORSE_LLAMA_ROOT}/${t}/" _pos)
    if(_pos EQUAL 0)
      string(REPLACE "${SEAHORSE_LLAMA_ROOT}/${t}" "${SEAHORSE_MIRROR}/${t}" _p "${_p}")
      set(${out} "${_p}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "${path}" PARENT_SCOPE)
endfunction()

function(seahorse_retarget tgt)
  get_target_property(_type ${tgt} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY" OR _type STREQUAL "UTILITY")
    return()
  endif()
  get_target_property(_sdir ${tgt} SOURCE_DIR)
  seahorse_mirror_path("${_sdir}" _sdir_mirror)
  if(_sdir_mirror STREQUAL _sdir)
    return()   # not built from a patched tree
  endif()

  get_target_property(_srcs ${tgt} SOURCES)
  set(_new "")
  set(_seen "")
  foreach(s IN LISTS _srcs)
    if(s MATCHES "^\\$<")
      list(APPEND _new "${s}")
      continue()
    endif()
    set(_abs "${s}")
    if(NOT IS_ABSOLUTE "${s}")
      get_filename_component(_abs "${s}" ABSOLUTE BASE_DIR "${_sdir}")
    endif()
    file(RELATIVE_PATH _rel "${SEAHORSE_LLAMA_ROOT}" "${_abs}")
    if(NOT _rel MATCHES "^\\.\\." AND EXISTS "${SEAHORSE_MIRROR}/${_rel}")
      set(_m "${SEAHORSE_MIRROR}/${_rel}")
      foreach(prop SKIP_UNITY_BUILD_INCLUSION COMPILE_OPTIONS COMPILE_DEFINITIONS COMPILE_FLAGS
                   LANGUAGE HEADER_FILE_ONLY)
        get_source_file_property(_v "${_abs}" DIRECTORY "${_sdir}" ${prop})
        if(NOT _v STREQUAL "NOTFOUND")
          set_source_files_properties("${_m}" DIRECTORY "${_sdir}" PROPERTIES ${prop} "${_v}")
        endif()
      endforeach()
      list(APPEND _new "${_m}")
      list(APPEND _seen "${_rel}")
    else()
      list(APPEND _new "${s}")
    endif()
  endforeach()

  if(tgt STREQUAL "llama")
    # New .cpp files created by the patches join the llama library. Core files stay out of
    # the unity build (as upstream does for its core sources); model files join it.
    file(GLOB _added RELATIVE "${SEAHORSE_MIRROR}"
         "${SEAHORSE_MIRROR}/src/*.cpp" "${SEAHORSE_MIRROR}/src/models/*.cpp")
    foreach(a IN LISTS _added)
      if(NOT EXISTS "${SEAHORSE_LLAMA_ROOT}/${a}" AND NOT a IN_LIST _seen)
        list(APPEND _new "${SEAHORSE_MIRROR}/${a}")
        if(NOT a MATCHES "^src/models/")
          set_source_files_properties("${SEAHORSE_MIRROR}/${a}" DIRECTORY "${_sdir}"
                                      PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
        endif()
        message(STATUS "Seahorse: new source ${a} -> ${tgt}")
      endif()
    endforeach()
  endif()
  set_property(TARGET ${tgt} PROPERTY SOURCES "${_new}")

  foreach(prop INCLUDE_DIRECTORIES INTERFACE_INCLUDE_DIRECTORIES)
    get_target_property(_inc ${tgt} ${prop})
    if(NOT _inc)
      continue()
    endif()
    set(_out "")
    foreach(i IN LISTS _inc)
      if(i MATCHES "^\\$<BUILD_INTERFACE:(.*)>$")
        set(_p "${CMAKE_MATCH_1}")
        if(IS_ABSOLUTE "${_p}")
          seahorse_mirror_path("${_p}" _p)
        endif()
        set(i "$<BUILD_INTERFACE:${_p}>")
      elseif(IS_ABSOLUTE "${i}")
        seahorse_mirror_path("${i}" i)
      endif()
      list(APPEND _out "${i}")
    endforeach()
    set_property(TARGET ${tgt} PROPERTY ${prop} "${_out}")
  endforeach()
  message(STATUS "Seahorse: target ${tgt} builds from ${SEAHORSE_MIRROR}")
endfunction()

function(seahorse_apply_mirror)
  seahorse_collect_targets("${SEAHORSE_LLAMA_ROOT}" _all)
  foreach(tgt IN LISTS _all)
    seahorse_retarget(${tgt})
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY "${SEAHORSE_LLAMA_ROOT}" CALL seahorse_apply_mirror)
