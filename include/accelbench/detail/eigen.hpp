#pragma once

// Eigen, included once for the whole library. GCC before 13 warns that
// `__Y` is used uninitialised inside its own AVX-512 intrinsics
// (_mm512_undefined_ps, GCC bug 105593) wherever Eigen's AVX-512 kernels are
// inlined; the warning is silenced for those headers only.

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic pop
#endif
