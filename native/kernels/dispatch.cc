// Kernel selection: the best kernel set the CPU supports, or a lower one forced by env
// TFJS_FOCAL_LOSS_SIMD. docs/DESIGN.md#simd-and-dispatch
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels/isa_kernels.h"

#ifdef FOCAL_HAVE_X86_KERNELS
#ifdef _MSC_VER
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#ifdef __APPLE__
#include <sys/sysctl.h>
#endif
#endif

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

#ifdef FOCAL_HAVE_X86_KERNELS
// What the CPU has and the OS saves on a context switch, read with cpuid and xgetbv directly: no
// compiler runtime is involved (__builtin_cpu_supports needs libgcc's __cpu_model, which musl
// links, mingw and darwin lack or hide), so every toolchain gets the same choice.
struct X86Features {
  bool avx2_fma = false;    // AVX2 + FMA + AVX, YMM state enabled by the OS
  bool avx512_dq = false;   // AVX-512F + AVX-512DQ + FMA, ZMM and opmask state enabled by the OS
};

void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) {
#ifdef _MSC_VER
  int r[4];
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(subleaf));
  for (int i = 0; i < 4; ++i) regs[i] = static_cast<uint32_t>(r[i]);
#else
  __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
#endif
}

// XCR0: which register states the OS saves (only valid when cpuid reports OSXSAVE).
uint64_t xcr0() {
#ifdef _MSC_VER
  return _xgetbv(0);
#else
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
#endif
}

#ifdef __APPLE__
// macOS enables the AVX-512 state on a thread's first AVX-512 instruction, so XCR0 does not show
// it beforehand; the kernel publishes the capability instead.
bool apple_reports(const char* name) {
  int value = 0;
  size_t size = sizeof value;
  return sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value != 0;
}
#endif

X86Features detect_x86_features() {
  X86Features f;
  uint32_t r[4];
  cpuid(0, 0, r);
  const uint32_t max_leaf = r[0];
  if (max_leaf < 7) return f;
  cpuid(1, 0, r);
  const uint32_t ecx1 = r[2];
  const bool fma = (ecx1 >> 12) & 1, osxsave = (ecx1 >> 27) & 1, avx = (ecx1 >> 28) & 1;
  if (!osxsave || !avx || !fma) return f;
  const uint64_t xcr = xcr0();
  const bool os_ymm = (xcr & 0x6) == 0x6;  // SSE and AVX state
  // opmask, upper halves of ZMM0-15, ZMM16-31 (bits 5-7) on top of the SSE/AVX state.
  bool os_zmm = (xcr & 0xe6) == 0xe6;
#ifdef __APPLE__
  os_zmm = os_zmm || (os_ymm && apple_reports("hw.optional.avx512f"));
#endif
  if (!os_ymm) return f;
  cpuid(7, 0, r);
  const uint32_t ebx7 = r[1];
  f.avx2_fma = (ebx7 >> 5) & 1;
  f.avx512_dq = os_zmm && ((ebx7 >> 16) & 1) && ((ebx7 >> 17) & 1);
  return f;
}
#endif

// The best kernel set this CPU and OS support, at most `limit` ("generic" < "avx2" < "avx512").
const KernelTable* best_kernels(const char* limit) {
  const int max_level = limit == nullptr ? 2
                        : std::strcmp(limit, "generic") == 0 ? 0
                        : std::strcmp(limit, "avx2") == 0    ? 1
                                                             : 2;
#ifdef FOCAL_HAVE_X86_KERNELS
  const X86Features features = detect_x86_features();
  if (max_level >= 2 && features.avx512_dq) return &kAvx512;
  if (max_level >= 1 && features.avx2_fma) return &kAvx2;
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
