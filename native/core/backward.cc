// The backward helpers (the gradient saved by the forward pass, scaled by the upstream gradient),
// the in-op loss reduction, and the thread-count API. docs/DESIGN.md#reductions
#include "core/errors.h"
#include "core/thread_pool.h"
#include "include/focal_loss.h"
#include "kernels/isa_kernels.h"

namespace focal {

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

// In index order, in double, on one thread: the same bits for every thread count.
float reduce_losses(const float* losses, int64_t n, bool mean) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += losses[i];
  return static_cast<float>(mean ? sum / static_cast<double>(n > 1 ? n : 1) : sum);
}

void set_num_threads(int n) { pool::set_num_threads(n); }
int num_threads() { return pool::num_threads(); }

}  // namespace focal
