# Toolchain file for the shipped module: C++ core → wasm32-wasi reactor.
#
# Two setups are supported, chosen by cache variables so nothing here is hard-coded to one machine:
#   * Debian's multiarch packages (wasi-libc, libc++-14-dev-wasm32, ...): system clang finds headers and
#     libraries for the triple with no --sysroot. This is the default (all variables empty).
#   * A wasi-sdk: -DWASI_SDK_PREFIX=/opt/wasi-sdk uses its clang and its share/wasi-sysroot.
# Clang 14 knows the triple `wasm32-wasi`; newer clang prefers `wasm32-wasip1`: -DWASI_TRIPLE=wasm32-wasip1.

# CMake 3.25 has no Platform/WASI; Generic behaves the same for a static library + one executable.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(EDGE_CACHE_WASI ON)

set(WASI_TRIPLE "wasm32-wasi" CACHE STRING "Clang target triple for WASI (wasm32-wasi, or wasm32-wasip1 on newer clang)")
set(WASI_SDK_PREFIX "" CACHE PATH "Root of a wasi-sdk installation; empty uses the system clang")
set(WASI_SYSROOT "" CACHE PATH "WASI sysroot; empty means wasi-sdk's share/wasi-sysroot, or none (Debian multiarch)")

if(WASI_SDK_PREFIX)
  set(_wasi_bin "${WASI_SDK_PREFIX}/bin")
  set(CMAKE_C_COMPILER "${_wasi_bin}/clang")
  set(CMAKE_CXX_COMPILER "${_wasi_bin}/clang++")
  set(CMAKE_AR "${_wasi_bin}/llvm-ar" CACHE FILEPATH "")
  set(CMAKE_RANLIB "${_wasi_bin}/llvm-ranlib" CACHE FILEPATH "")
  if(NOT WASI_SYSROOT)
    set(WASI_SYSROOT "${WASI_SDK_PREFIX}/share/wasi-sysroot")
  endif()
else()
  find_program(_clang NAMES clang clang-14 REQUIRED)
  find_program(_clangxx NAMES clang++ clang++-14 REQUIRED)
  set(CMAKE_C_COMPILER "${_clang}")
  set(CMAKE_CXX_COMPILER "${_clangxx}")
  # GNU ar cannot index wasm or LLVM-bitcode objects; wasm-ld needs the index.
  find_program(_llvm_ar NAMES llvm-ar llvm-ar-14 REQUIRED)
  find_program(_llvm_ranlib NAMES llvm-ranlib llvm-ranlib-14 REQUIRED)
  set(CMAKE_AR "${_llvm_ar}" CACHE FILEPATH "")
  set(CMAKE_RANLIB "${_llvm_ranlib}" CACHE FILEPATH "")
endif()

if(WASI_SYSROOT)
  set(CMAKE_SYSROOT "${WASI_SYSROOT}")
endif()

set(CMAKE_C_COMPILER_TARGET "${WASI_TRIPLE}")
set(CMAKE_CXX_COMPILER_TARGET "${WASI_TRIPLE}")
# The compiler checks would try to link a command-style program; a static library is enough to probe.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
