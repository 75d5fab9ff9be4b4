// Kernels for the generic instruction set. This translation unit is compiled with its own target
// flags (none (portable C++)); dispatch.cc calls it only on CPUs that support them.
#include "kernels/simd_generic.h"
#define FOCAL_ISA generic
#include "kernels/kernel_bodies.h"
