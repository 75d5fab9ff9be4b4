// Kernel selection: the best kernel set the CPU supports, or a lower one forced by env
// TFJS_FOCAL_LOSS_SIMD. docs/DESIGN.md#simd-and-dispatch
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/isa_kernels.h"

namespace focal {
namespace detail {
namespace {

#define FOCAL_TABLE(ns)                                                                   \
  KernelTable {                                                                           \
    #ns, &ns::softmax_logits_rows, &ns::sigmoid_logits_elements, &ns::family_logits_elements, \
        &ns::scale_rows, &ns::scale_elements                                              \
  }

const KernelTable kGeneric = FOCAL_TABLE(generic);
#ifdef FOCAL_HAVE_X86_KERNELS
const KernelTable kAvx2 = FOCAL_TABLE(avx2);
const KernelTable kAvx512 = FOCAL_TABLE(avx512);
#endif

// The best kernel set this CPU (and OS: __builtin_cpu_supports checks that the OS saves the
// AVX/AVX-512 register state) supports, at most `limit` ("generic" < "avx2" < "avx512").
const KernelTable* best_kernels(const char* limit) {
  const int max_level = limit == nullptr ? 2
                        : std::strcmp(limit, "generic") == 0 ? 0
                        : std::strcmp(limit, "avx2") == 0    ? 1
                                                             : 2;
#if defined(FOCAL_HAVE_X86_KERNELS) && defined(__GNUC__)
  __builtin_cpu_init();
  if (max_level >= 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("fma"))
    return &kAvx512;
  if (max_level >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &kAvx2;
#else
  (void)max_level;
#endif
  return &kGeneric;
}

std::atomic<const KernelTable*> g_kernels{nullptr};

}  // namespace

const KernelTable& kernels() {
  const KernelTable* k = g_kernels.load(std::memory_order_acquire);
  if (k == nullptr) {
    // env TFJS_FOCAL_LOSS_SIMD=generic|avx2 forces a lower level (tests, benchmarks); it never
    // selects a level the CPU lacks. Other values are ignored.
    k = best_kernels(std::getenv("TFJS_FOCAL_LOSS_SIMD"));
    const KernelTable* expected = nullptr;
    if (!g_kernels.compare_exchange_strong(expected, k)) k = expected;
  }
  return *k;
}

bool force_kernels(const char* name) {
  const KernelTable* k = best_kernels(name);
  if (std::strcmp(k->name, name) != 0) return false;
  g_kernels.store(k, std::memory_order_release);
  return true;
}

}  // namespace detail

const char* simd_level() { return detail::kernels().name; }

}  // namespace focal
