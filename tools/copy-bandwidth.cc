// What a copy of the kernel's bytes costs when they come from memory, one thread: memcpy, a loop of
// loads and ordinary stores, and a loop of loads and non-temporal stores, each over 16.4 MB (the
// logits of 4096 x 1000) into another 16.4 MB. Eight pairs of buffers (262 MB) are used in turn so
// that a pass does not find its data in the last-level cache. It answers whether the copy the bench
// compares the kernel with streams its writes (no read of each destination line first) or not:
// if memcpy takes as long as the ordinary-store loop, it does not.
//
//   g++ -O2 -mavx2 -mfma tools/copy-bandwidth.cc -o /tmp/copy-bandwidth && /tmp/copy-bandwidth
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr size_t kFloats = 4096 * 1000;
constexpr int kPairs = 8;
constexpr int kPasses = 80;

template <class Pass>
double median_ms(float* const* src, float* const* dst, Pass pass) {
  std::vector<double> ms;
  for (int i = 0; i < kPasses; ++i) {
    const int b = i % kPairs;
    const auto start = std::chrono::steady_clock::now();
    pass(src[b], dst[b]);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main() {
  float* src[kPairs];
  float* dst[kPairs];
  for (int b = 0; b < kPairs; ++b) {
    src[b] = static_cast<float*>(std::aligned_alloc(64, kFloats * sizeof(float)));
    dst[b] = static_cast<float*>(std::aligned_alloc(64, kFloats * sizeof(float)));
    for (size_t i = 0; i < kFloats; ++i) {
      src[b][i] = static_cast<float>(i % 97);
      dst[b][i] = 0.0f;
    }
  }
  for (int round = 0; round < 3; ++round) {
    const double copy = median_ms(src, dst, [](const float* s, float* d) { std::memcpy(d, s, kFloats * sizeof(float)); });
    const double ordinary = median_ms(src, dst, [](const float* s, float* d) {
      for (size_t i = 0; i < kFloats; i += 8) _mm256_store_ps(d + i, _mm256_load_ps(s + i));
    });
    const double streaming = median_ms(src, dst, [](const float* s, float* d) {
      for (size_t i = 0; i < kFloats; i += 8) _mm256_stream_ps(d + i, _mm256_load_ps(s + i));
      _mm_sfence();
    });
    std::printf("16.4 MB, 1 thread, median ms: memcpy %.3f  ordinary stores %.3f  non-temporal stores %.3f\n", copy,
                ordinary, streaming);
  }
  for (int b = 0; b < kPairs; ++b) {
    std::free(src[b]);
    std::free(dst[b]);
  }
  return 0;
}
