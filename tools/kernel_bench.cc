// Microbenchmark of the C++ kernels (no Node): kernel time against memcpy of the same bytes, for
// each SIMD level and thread count. Built and run by `scripts/check-native.sh --bench`.
// Env: BENCH_HEADLINE=1 (only the interleaved sparse-vs-memcpy comparison), BENCH_REPS (default 40), BENCH_LEVEL (generic|avx2|avx512), BENCH_THREADS (1|2),
// BENCH_CASE (substring of a case name) restrict the run; BENCH_ROWS, BENCH_CLASSES change the
// problem (default 4096 x 1000). Reports the median and the minimum of the repetitions.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "include/focal_loss.h"
#include "kernels/isa_kernels.h"

namespace {

struct Stat {
  double median_ms, min_ms;
};

Stat measure(const std::function<void()>& fn, int reps) {
  for (int i = 0; i < 3; ++i) fn();  // warm up: page faults, pool threads, caches
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    const auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t[0]};
}

float* alloc(size_t n) {
  float* p = static_cast<float*>(std::aligned_alloc(64, ((n * 4 + 63) / 64) * 64));
  std::memset(p, 0, n * 4);
  return p;
}

}  // namespace

int main() {
  const int reps = std::getenv("BENCH_REPS") ? std::atoi(std::getenv("BENCH_REPS")) : 40;
  const int64_t rows = std::getenv("BENCH_ROWS") ? std::atoll(std::getenv("BENCH_ROWS")) : 4096;
  const int64_t classes = std::getenv("BENCH_CLASSES") ? std::atoll(std::getenv("BENCH_CLASSES")) : 1000;
  const int64_t n = rows * classes;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  float* logits = alloc(n);
  float* grad = alloc(n);
  float* dense = alloc(n);
  float* soft = alloc(n);
  float* loss = alloc(rows);
  float* dy = alloc(rows);
  std::vector<int32_t> labels(rows), argmax_labels(rows);
  for (int64_t i = 0; i < n; ++i) logits[i] = nd(rng);
  for (int64_t r = 0; r < rows; ++r) {
    labels[r] = static_cast<int32_t>(rng() % classes);
    argmax_labels[r] = static_cast<int32_t>(std::max_element(logits + r * classes, logits + (r + 1) * classes) - (logits + r * classes));
    dense[r * classes + labels[r]] = 1.0f;
    dy[r] = 1.0f / rows;
    float s = 0;
    for (int64_t j = 0; j < classes; ++j) s += (soft[r * classes + j] = static_cast<float>(rng() % 1000) + 1.0f);
    for (int64_t j = 0; j < classes; ++j) soft[r * classes + j] /= s;
  }

  std::printf("%lld x %lld float32 (%.1f MB logits, %.1f MB gradient), %d reps, median (min) ms\n",
              (long long)rows, (long long)classes, n * 4 / 1e6, n * 4 / 1e6, reps);
  const Stat mc1 = measure([&] { std::memcpy(grad, logits, n * 4); }, reps);
  const Stat mc2 = measure([&] {
    std::thread t([&] { std::memcpy(grad + n / 2, logits + n / 2, (n - n / 2) * 4); });
    std::memcpy(grad, logits, (n / 2) * 4);
    t.join();
  }, reps);
  std::printf("memcpy 16 MB -> 16 MB, 1 thread:             %7.3f (%7.3f)\n", mc1.median_ms, mc1.min_ms);
  std::printf("memcpy 16 MB -> 16 MB, 2 threads (std::thread): %7.3f (%7.3f)\n", mc2.median_ms, mc2.min_ms);

  focal::SoftmaxFocalArgs sparse;
  sparse.rows = rows;
  sparse.classes = classes;
  sparse.logits = logits;
  sparse.sparse_labels = labels.data();
  sparse.loss_out = loss;
  sparse.grad_out = grad;
  struct Case {
    const char* name;
    std::function<void()> fn;
  };
  std::vector<Case> cases;
  cases.push_back({"softmax sparse fwd+grad", [&] { focal::softmax_focal_loss(sparse); }});
  // Every target at the row's max (a trained model): the compensated exp path.
  cases.push_back({"softmax sparse target=argmax", [&] {
                     auto a = sparse;
                     a.sparse_labels = argmax_labels.data();
                     focal::softmax_focal_loss(a);
                   }});
  cases.push_back({"softmax sparse fwd only", [&] {
                     auto a = sparse;
                     a.grad_out = nullptr;
                     focal::softmax_focal_loss(a);
                   }});
  cases.push_back({"softmax sparse gamma=1.5", [&] {
                     auto a = sparse;
                     a.gamma = 1.5;
                     focal::softmax_focal_loss(a);
                   }});
  cases.push_back({"softmax sparse ls=0.1", [&] {
                     auto a = sparse;
                     a.label_smoothing = 0.1;
                     focal::softmax_focal_loss(a);
                   }});
  cases.push_back({"softmax one-hot fwd+grad", [&] {
                     auto a = sparse;
                     a.sparse_labels = nullptr;
                     a.dense_labels = dense;
                     focal::softmax_focal_loss(a);
                   }});
  cases.push_back({"softmax soft fwd+grad", [&] {
                     auto a = sparse;
                     a.sparse_labels = nullptr;
                     a.dense_labels = soft;
                     focal::softmax_focal_loss(a);
                   }});
  cases.push_back({"sigmoid fwd+grad (4M)", [&] {
                     focal::SigmoidElementwiseArgs a;
                     a.count = n;
                     a.logits = logits;
                     a.labels = dense;
                     a.loss_out = soft;  // any 16 MB buffer
                     a.grad_out = grad;
                     focal::sigmoid_elementwise_loss(a);
                   }});
  cases.push_back({"scale_rows", [&] { focal::scale_rows(logits, dy, rows, classes, grad); }});

  const char* only_level = std::getenv("BENCH_LEVEL");    // e.g. avx512
  const char* only_case = std::getenv("BENCH_CASE");      // substring of a case name
  const char* only_threads = std::getenv("BENCH_THREADS");  // e.g. 1
  // Headline: sparse forward+gradient against memcpy of the same bytes, interleaved rep by rep so
  // that load from other processes hits both alike; the per-rep ratios are summarised.
  if (std::getenv("BENCH_HEADLINE")) {
    auto time_once = [](const std::function<void()>& fn) {
      const auto a = std::chrono::steady_clock::now();
      fn();
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
    };
    auto copy1 = [&] { std::memcpy(grad, logits, n * 4); };
    auto copy2 = [&] {
      std::thread t([&] { std::memcpy(grad + n / 2, logits + n / 2, (n - n / 2) * 4); });
      std::memcpy(grad, logits, (n / 2) * 4);
      t.join();
    };
    for (const char* level : {"generic", "avx2", "avx512"}) {
      if (only_level && std::strcmp(only_level, level) != 0) continue;
      if (!focal::detail::force_kernels(level)) continue;
      for (int threads : {1, 2}) {
        focal::set_num_threads(threads);
        std::vector<double> k, m1, m2, r1, r2;
        for (int i = 0; i < 3; ++i) cases[0].fn();
        for (int i = 0; i < reps; ++i) {
          m1.push_back(time_once(copy1));
          m2.push_back(time_once(copy2));
          k.push_back(time_once(cases[0].fn));
          r1.push_back(k.back() / m1.back());
          r2.push_back(k.back() / m2.back());
        }
        auto med = [](std::vector<double> v) {
          std::sort(v.begin(), v.end());
          return v[v.size() / 2];
        };
        std::printf("headline %-7s %d thread%s: kernel %.3f ms, memcpy %.3f ms (2 threads %.3f ms); "
                    "ratio kernel/memcpy median %.2f (vs 2-thread memcpy %.2f)\n",
                    level, threads, threads > 1 ? "s" : " ", med(k), med(m1), med(m2), med(r1), med(r2));
      }
    }
    return 0;
  }

  for (const char* level : {"generic", "avx2", "avx512"}) {
    if (only_level && std::strcmp(only_level, level) != 0) continue;
    if (!focal::detail::force_kernels(level)) continue;
    for (int threads : {1, 2}) {
      if (only_threads && std::atoi(only_threads) != threads) continue;
      focal::set_num_threads(threads);
      std::printf("-- %s, %d thread%s\n", level, threads, threads > 1 ? "s" : "");
      for (const Case& c : cases) {
        if (only_case && std::strstr(c.name, only_case) == nullptr) continue;
        const Stat s = measure(c.fn, reps);
        std::printf("  %-28s %8.3f (%8.3f)   %.2fx memcpy(1 thread)\n", c.name, s.median_ms, s.min_ms,
                    s.median_ms / mc1.median_ms);
      }
    }
  }
  return 0;
}
