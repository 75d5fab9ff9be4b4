#include "core/thread_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace focal {
namespace pool {
namespace {

constexpr int kMaxThreads = 1024;

int clamp_threads(long n) {
  if (n < 1) return 1;
  if (n > kMaxThreads) return kMaxThreads;
  return static_cast<int>(n);
}

int default_threads() {
  if (const char* env = std::getenv("TFJS_FOCAL_LOSS_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1) return clamp_threads(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return clamp_threads(hw == 0 ? 1 : static_cast<long>(hw));
}

using Body = std::function<void(int64_t, int64_t, int)>;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

void run_chunk(const Body& body, int64_t items, int chunks, int chunk) {
  // Contiguous, balanced split; depends only on (items, chunks), so it is reproducible.
  const int64_t begin = items * chunk / chunks;
  const int64_t end = items * (chunk + 1) / chunks;
  if (begin < end) body(begin, end, chunk);
}

class Pool {
 public:
  Pool() : threads_(default_threads()) {}

  void set_threads(int n) { threads_.store(clamp_threads(n)); }
  int threads() const { return threads_.load(); }

  int run(int64_t items, int64_t work, const Body& body) {
    if (items <= 0) return 0;
    int chunks = threads_.load();
    if (work < kMinParallelWork || chunks <= 1) chunks = 1;
    if (chunks > items) chunks = static_cast<int>(items);
    std::unique_lock<std::mutex> job_lock(job_mutex_, std::defer_lock);
    if (chunks == 1 || !job_lock.try_lock()) {
      // Single chunk, or the pool is busy with another caller's job: do everything here.
      body(0, items, 0);
      return 1;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (static_cast<int>(workers_.size()) < chunks - 1) {
        const int id = static_cast<int>(workers_.size()) + 1;
        workers_.emplace_back([this, id] { worker_loop(id); });
      }
      body_ = &body;
      items_ = items;
      chunks_ = chunks;
      pending_ = chunks - 1;
      pending_atomic_.store(chunks - 1, std::memory_order_relaxed);
      ++generation_;
    }
    work_cv_.notify_all();
    run_chunk(body, items, chunks, 0);
    // The chunks are balanced, so the workers usually finish within microseconds of us: spin
    // briefly (the calling thread has nothing else to do) before sleeping on the condition variable.
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (pending_atomic_.load(std::memory_order_acquire) != 0 &&
           std::chrono::steady_clock::now() < spin_until) {
      cpu_relax();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [this] { return pending_ == 0; });
    body_ = nullptr;
    return chunks;
  }

 private:
  void worker_loop(int id) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_cv_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (id >= chunks_) continue;  // not needed for this job
      const Body* body = body_;
      const int64_t items = items_;
      const int chunks = chunks_;
      lock.unlock();
      run_chunk(*body, items, chunks, id);
      lock.lock();
      pending_atomic_.fetch_sub(1, std::memory_order_release);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }

  std::atomic<int> threads_;
  std::mutex job_mutex_;  // one parallel job at a time
  std::mutex mutex_;      // guards everything below
  std::condition_variable work_cv_, done_cv_;
  std::vector<std::thread> workers_;
  uint64_t generation_ = 0;
  const Body* body_ = nullptr;
  int64_t items_ = 0;
  int chunks_ = 0;
  int pending_ = 0;
  std::atomic<int> pending_atomic_{0};  // mirror of pending_ for the caller's lock-free spin
};

Pool& instance() {
  // Deliberately leaked: worker threads block forever on the condition variable, and joining them
  // from a static destructor at process exit (or while Node tears down) could hang.
  static Pool* pool = new Pool();
  return *pool;
}

}  // namespace

int parallel_for(int64_t items, int64_t work, const Body& body) {
  return instance().run(items, work, body);
}
void set_num_threads(int n) { instance().set_threads(n); }
int num_threads() { return instance().threads(); }

}  // namespace pool
}  // namespace focal
