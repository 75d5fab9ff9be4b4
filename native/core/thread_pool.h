// Persistent worker pool for the kernels: threads are created once and reused by every call (a
// kernel call on a 4096x1000 batch takes about a millisecond, thread creation would be a
// noticeable part of that).
//
// Why there is no oversubscription with TensorFlow: our kernel runs synchronously inside one tfjs
// op, between TensorFlow ops. While it runs, TensorFlow's own intra-op pool has no work (the next
// TF op cannot start before ours returns), so our threads use cores that would otherwise be idle,
// and they sleep on a condition variable as soon as the call returns.
#ifndef TFJS_FOCAL_LOSS_THREAD_POOL_H_
#define TFJS_FOCAL_LOSS_THREAD_POOL_H_

#include <cstdint>
#include <functional>

namespace focal {
namespace pool {

// `work` passed to parallel_for is an estimate of the single-thread time in nanoseconds (callers
// use per-element costs from tools/kernel_bench.cc). Below kMinParallelWork a call runs on the
// calling thread only: waking a sleeping worker takes tens of microseconds on a loaded machine,
// more than splitting a smaller job saves. docs/DESIGN.md#threading-and-determinism
constexpr int64_t kMinParallelWork = 150000;

// Approximate single-thread cost per element in nanoseconds, for `work` (AVX-512/AVX2 kernels;
// the portable kernels are slower, which only makes splitting more worthwhile).
constexpr double kNsPerSoftmaxElement = 0.5;
constexpr double kNsPerDenseSoftmaxElement = 1.0;
constexpr double kNsPerProbabilityElement = 5.0;
constexpr double kNsPerSigmoidElement = 2.0;
constexpr double kNsPerFamilyElement = 3.0;  // varifocal, quality focal, asymmetric
constexpr double kNsPerScaledElement = 0.2;
// Fixed cost per softmax row (horizontal sums, the per-row terms): with few classes it is most
// of a row's time.
constexpr double kNsPerSoftmaxRow = 15.0;

inline int64_t work_ns(int64_t elements, double ns_per_element) {
  return static_cast<int64_t>(static_cast<double>(elements) * ns_per_element);
}

// Runs body(begin, end, chunk_index) over [0, items), split into contiguous chunks, one per
// thread, the calling thread taking chunk 0. `work`: estimated single-thread nanoseconds (see
// above); small jobs run inline as a single chunk. Chunks never overlap, so a body that writes only the
// outputs of its own items needs no synchronisation. The body must not throw. If another thread is
// already running a parallel job (two JS worker threads calling at once), this call runs inline
// on its own thread: slower, same results. Returns the number of chunks used.
int parallel_for(int64_t items, int64_t work,
                 const std::function<void(int64_t begin, int64_t end, int chunk)>& body);

void set_num_threads(int n);
int num_threads();

}  // namespace pool
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_THREAD_POOL_H_
