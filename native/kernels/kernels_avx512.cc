// GCC 12 reports false -Wmaybe-uninitialized warnings from inside its own AVX-512 intrinsics
// (the _mm512_undefined_* self-initialisation idiom); fixed in GCC 13.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// Kernels for the avx512 instruction set. This translation unit is compiled with its own target
// flags (-mavx512f -mavx512dq -mfma); dispatch.cc calls it only on CPUs that support them.
#include "kernels/simd_avx512.h"
#define FOCAL_ISA avx512
#include "kernels/kernel_bodies.h"
