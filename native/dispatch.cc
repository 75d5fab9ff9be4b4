// Kernel selection (CPU features, env TFJS_FOCAL_LOSS_SIMD), error formatting, the backward
// helpers and the thread-count API.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernels.h"
#include "thread_pool.h"

namespace focal {
namespace detail {
namespace {

#define FOCAL_TABLE(ns)                                                                   \
  KernelTable {                                                                           \
    #ns, &ns::softmax_logits_rows, &ns::sigmoid_logits_elements, &ns::scale_rows,        \
        &ns::scale_elements                                                               \
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

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::atomic<int64_t> g_calls{0};

void count_call() { g_calls.fetch_add(1, std::memory_order_relaxed); }

void ErrorCollector::add(const KernelError& error) {
  if (error.code == InputError::kNone) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (first_.code == InputError::kNone || error.index < first_.index) first_ = error;
}

std::string ErrorCollector::message(int64_t classes) const {
  const KernelError& e = first_;
  const std::string where = "logits[" + std::to_string(e.index) + "]";
  const std::string value = format_number(e.value);
  std::string row_class;
  if (classes > 1) {
    row_class = " (row " + std::to_string(e.index / classes) + ", class " +
                std::to_string(e.index % classes) + ")";
  }
  switch (e.code) {
    case InputError::kNone:
      return std::string();
    case InputError::kProbabilityInvalid:
      if (classes > 1) {
        return where + row_class + " = " + value +
               ": with fromLogits=false the inputs are probabilities and must be finite and >= 0";
      }
      return where + " = " + value +
             ": with fromLogits=false the inputs are probabilities and must be in [0, 1]";
    case InputError::kProbabilityRowSum:
      return "logits row " + std::to_string(e.index / classes) + " sums to " + value +
             ": with fromLogits=false each row of probabilities must have a positive, finite sum";
    case InputError::kOutOfMemory:
      return "out of memory allocating kernel scratch space";
    case InputError::kLabelOutOfRange:
      return "labels[" + std::to_string(e.index) + "] = " + value +
             ": labels must be in [0, 1]";
  }
  return "unknown kernel error";
}

int64_t label_block_rows(int64_t classes) {
  const int64_t rows = kLabelBlockElements / (classes > 0 ? classes : 1);
  if (rows >= 16) return rows - rows % 16;
  return rows > 0 ? rows : 1;
}

void int32_to_float(const int32_t* in, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]);
}

}  // namespace detail

void scale_rows(const float* grad, const float* dy, int64_t rows, int64_t classes, float* out) {
  detail::count_call();
  if (rows <= 0 || classes <= 0) return;
  const auto& k = detail::kernels();
  pool::parallel_for(rows, pool::work_ns(rows * classes, pool::kNsPerScaledElement), [&](int64_t begin, int64_t end, int) {
    k.scale_rows(grad, dy, begin, end, classes, out);
  });
}

void scale_elements(const float* grad, const float* dy, int64_t count, float* out) {
  detail::count_call();
  if (count <= 0) return;
  const auto& k = detail::kernels();
  // Chunks of whole 64-byte lines so two threads never write the same cache line.
  const int64_t blocks = (count + 15) / 16;
  pool::parallel_for(blocks, pool::work_ns(count, pool::kNsPerScaledElement), [&](int64_t begin, int64_t end, int) {
    const int64_t first = begin * 16;
    const int64_t last = end * 16 < count ? end * 16 : count;
    k.scale_elements(grad, dy, first, last, out);
  });
}

float reduce_losses(const float* losses, int64_t n, bool mean) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += losses[i];
  return static_cast<float>(mean ? sum / static_cast<double>(n > 1 ? n : 1) : sum);
}

void set_num_threads(int n) { pool::set_num_threads(n); }
int num_threads() { return pool::num_threads(); }
const char* simd_level() { return detail::kernels().name; }
int64_t call_count() { return detail::g_calls.load(std::memory_order_relaxed); }

}  // namespace focal
