// Kernels for the avx2 instruction set. This translation unit is compiled with its own target
// flags (-mavx2 -mfma); dispatch.cc calls it only on CPUs that support them.
#include "kernels/simd_avx2.h"
#define FOCAL_ISA avx2
#include "kernels/kernel_bodies.h"
