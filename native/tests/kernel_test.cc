// Standalone test of the C++ kernels (no Node): every result is compared with a straightforward
// long double reference written here (loss: relative error <= 1e-6), and every gradient with
// central finite differences of that reference. Also: error messages, bit-identical results for any
// thread count, each SIMD level the CPU supports, extreme logits (|z| up to 1e4) and gamma < 1.
//
// Built and run by scripts/check-native.sh (also with -fsanitize=address,undefined).
// `kernel_test --reduced` (.ci/platforms.sh, aarch64 under qemu-user, where long double is a
// software 128-bit float): every case and kernel still runs in full, but only a sample is checked
// against the reference: of each case's rows / elements the first 8, the last 2 and every 16th;
// of the softmax cases with more than 64 classes every 4th; of each row's gradient a sample of
// the classes.
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "include/focal_loss.h"
#include "kernels/isa_kernels.h"

namespace {

using LD = long double;
int g_failures = 0;
int g_checks = 0;
int64_t g_reference_stride = 1;  // --reduced: 16

// Whether row / element i of n is compared with the long double reference.
bool sampled(int64_t i, int64_t n) {
  return g_reference_stride == 1 || i < 8 || i >= n - 2 || i % g_reference_stride == 0;
}

void fail(const std::string& what) {
  ++g_failures;
  if (g_failures <= 40) std::fprintf(stderr, "FAIL: %s\n", what.c_str());
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

// |got - want| <= rel * |want| + abs_tol, and both finite unless want is infinite.
bool close(double got, LD want, double rel, double abs_tol) {
  ++g_checks;
  if (std::isinf(static_cast<double>(want))) return got == static_cast<double>(want);
  if (!std::isfinite(got)) return false;
  return std::fabs(static_cast<LD>(got) - want) <= rel * std::fabs(want) + abs_tol;
}

// ---------------------------------------------------------------------------------------------
// Long double references.

struct SoftmaxCase {
  int64_t rows = 0, classes = 0;
  std::vector<float> logits;
  std::vector<int32_t> sparse;
  std::vector<float> dense;
  std::vector<int32_t> dense_int32;  // the kernel's integer-held dense labels (not read by ref_label)
  std::vector<float> alpha;  // empty: scalar
  float alpha_scalar = 0.25f;
  double gamma = 2, ls = 0;
  bool has_ignore = false;
  int32_t ignore = -100;
  bool from_logits = true;
  double eps = 0;              // Poly-1 epsilon
  std::vector<float> offsets;  // logit adjustment: empty, or one per class
};

LD ref_label(const SoftmaxCase& c, int64_t r, int64_t j) {
  const LD C = static_cast<LD>(c.classes);
  LD y;
  if (!c.dense.empty()) y = c.dense[r * c.classes + j];
  else y = (c.sparse[r] == j) ? 1.0L : 0.0L;
  return y * (1.0L - c.ls) + c.ls / C;
}

LD ref_alpha(const SoftmaxCase& c, int64_t j) {
  return c.alpha.empty() ? static_cast<LD>(c.alpha_scalar) : static_cast<LD>(c.alpha[j]);
}

// Loss of row r with the row's inputs given as long doubles.
LD ref_softmax_row(const SoftmaxCase& c, int64_t r, const std::vector<LD>& z_raw) {
  const int64_t C = c.classes;
  if (!c.sparse.empty() && c.has_ignore && c.sparse[r] == c.ignore) return 0;
  LD loss = 0;
  std::vector<LD> z = z_raw;
  if (!c.offsets.empty())
    for (int64_t j = 0; j < C; ++j) z[j] += c.offsets[j];
  if (c.from_logits) {
    int64_t a = 0;
    for (int64_t j = 1; j < C; ++j)
      if (z[j] > z[a]) a = j;
    const LD m = z[a];
    LD others = 0;
    for (int64_t j = 0; j < C; ++j)
      if (j != a) others += std::exp(z[j] - m);
    const LD log_s = std::log1p(others);
    for (int64_t j = 0; j < C; ++j) {
      const LD y = ref_label(c, r, j);
      if (y == 0) continue;
      const LD lp = (z[j] - m) - log_s;
      const LD q = (j == a) ? others / (1 + others) : -std::expm1(lp);
      const LD mod = std::pow(q, static_cast<LD>(c.gamma));
      loss += ref_alpha(c, j) * y * (-mod * lp + static_cast<LD>(c.eps) * mod * q);
    }
  } else {
    LD s = 0;
    for (int64_t j = 0; j < C; ++j) s += z[j];
    const LD eps = 1e-7L;
    for (int64_t j = 0; j < C; ++j) {
      const LD y = ref_label(c, r, j);
      if (y == 0) continue;
      LD p = z[j] / s;
      p = p < eps ? eps : (p > 1 - eps ? 1 - eps : p);
      const LD mod = std::pow(1 - p, static_cast<LD>(c.gamma));
      loss += ref_alpha(c, j) * y * (-mod * std::log(p) + static_cast<LD>(c.eps) * mod * (1 - p));
    }
  }
  return loss;
}

// Probability path: which entries are clipped (and negatives), to keep difference quotients from
// straddling a clip boundary, where the loss is not differentiable.
std::vector<int> clip_state(const SoftmaxCase& c, const std::vector<LD>& z) {
  std::vector<int> st(z.size());
  if (c.from_logits) return st;
  LD s = 0;
  for (LD v : z) s += v;
  for (size_t j = 0; j < z.size(); ++j) {
    const LD u = z[j] / s;
    st[j] = z[j] < 0 ? 3 : (u < 1e-7L ? 1 : (u > 1 - 1e-7L ? 2 : 0));
  }
  return st;
}

struct SoftmaxResult {
  std::vector<float> loss, grad;
  std::string error;
};

SoftmaxResult run_softmax(const SoftmaxCase& c, bool with_grad,
                          void (*isa_rows)(const focal::SoftmaxFocalArgs&, int64_t, int64_t, float*,
                                           focal::detail::KernelError*) = nullptr) {
  SoftmaxResult res;
  res.loss.assign(c.rows, -12345.0f);
  if (with_grad) res.grad.assign(c.rows * c.classes, -12345.0f);
  focal::SoftmaxFocalArgs a;
  a.rows = c.rows;
  a.classes = c.classes;
  a.logits = c.logits.data();
  a.sparse_labels = c.sparse.empty() ? nullptr : c.sparse.data();
  a.dense_labels = c.dense.empty() ? nullptr : c.dense.data();
  a.dense_labels_int32 = c.dense_int32.empty() ? nullptr : c.dense_int32.data();
  a.alpha = c.alpha.empty() ? nullptr : c.alpha.data();
  a.alpha_scalar = c.alpha_scalar;
  a.gamma = c.gamma;
  a.label_smoothing = c.ls;
  a.has_ignore_index = c.has_ignore;
  a.ignore_index = c.ignore;
  a.from_logits = c.from_logits;
  a.poly_epsilon = c.eps;
  a.logit_offsets = c.offsets.empty() ? nullptr : c.offsets.data();
  a.loss_out = res.loss.data();
  a.grad_out = with_grad ? res.grad.data() : nullptr;
  if (isa_rows) {
    // Direct call of one ISA's row kernel (labels are valid in these cases).
    std::vector<float> scratch(2 * focal::detail::softmax_scratch_floats(c.classes));
    focal::detail::KernelError e;
    isa_rows(a, 0, c.rows, scratch.data(), &e);
    if (e.code != focal::ErrorCode::kNone) res.error = "kernel error";
  } else {
    res.error = focal::describe(focal::softmax_focal_loss(a));
  }
  return res;
}

// Checks loss against the reference and the gradient against central differences of it.
void check_softmax(const std::string& name, const SoftmaxCase& c, const SoftmaxResult& res,
                   bool check_grad = true, double loss_rel = 1e-6) {
  if (!res.error.empty()) {
    fail(name + ": unexpected error: " + res.error);
    return;
  }
  const int64_t C = c.classes;
  // --reduced: of the cases with many classes (an O(C) reference per difference quotient) every
  // 4th is compared with the reference.
  static int64_t large_cases = 0;
  if (g_reference_stride > 1 && C > 64 && large_cases++ % 4 != 0) return;
  std::vector<LD> z(C);
  for (int64_t r = 0; r < c.rows; ++r) {
    if (!sampled(r, c.rows)) continue;
    for (int64_t j = 0; j < C; ++j) z[j] = c.logits[r * C + j];
    const LD want = ref_softmax_row(c, r, z);
    if (!close(res.loss[r], want, loss_rel, 1e-37)) {
      fail(fmt("%s: loss[%lld] = %.9g, reference %.12Lg", name.c_str(), (long long)r,
               res.loss[r], want));
    }
    if (res.grad.empty() || !check_grad) continue;
    // Every class for small rows; for long rows a sample (both ends, the target, the argmax and
    // every 37th class): the O(C) reference per difference quotient makes all of them O(C^2).
    // --reduced: a sample at every class count (both ends, every 7th or 101st, target, argmax).
    const bool reduced = g_reference_stride > 1;
    std::vector<char> checked(C, C <= 64 && !reduced);
    if (C > 64 || reduced) {
      const int64_t ends = reduced ? 2 : 16, every = !reduced ? 37 : C > 64 ? 101 : 7;
      for (int64_t k = 0; k < C; ++k) checked[k] = k < ends || k >= C - ends || k % every == 0;
      if (!c.sparse.empty() && c.sparse[r] >= 0 && c.sparse[r] < C) checked[c.sparse[r]] = 1;
      int64_t am = 0;
      for (int64_t k = 1; k < C; ++k)
        if (z[k] > z[am]) am = k;
      checked[am] = 1;
    }
    std::vector<LD> fd(C);
    LD fd_max = 0;
    const std::vector<int> state = clip_state(c, z);
    for (int64_t k = 0; k < C; ++k) {
      if (std::isfinite(res.grad[r * C + k])) fd_max = std::fmax(fd_max, std::fabs(static_cast<LD>(res.grad[r * C + k])));
      if (!checked[k]) continue;
      const LD zk = z[k];
      const LD h = 1e-6L * std::fmax(1.0L, std::fabs(zk));
      z[k] = zk + h;
      const LD up = ref_softmax_row(c, r, z);
      z[k] = zk - h;
      const LD down = ref_softmax_row(c, r, z);
      const bool crosses_down = clip_state(c, z) != state;
      z[k] = zk + h;
      const bool crosses_up = clip_state(c, z) != state;
      z[k] = zk;
      if (crosses_down || crosses_up) {
        checked[k] = 0;
        continue;
      }
      fd[k] = (up - down) / (2 * h);
      if (std::isfinite(static_cast<double>(fd[k]))) fd_max = std::fmax(fd_max, std::fabs(fd[k]));
    }
    for (int64_t k = 0; k < C; ++k) {
      if (!checked[k]) continue;
      const double g = res.grad[r * C + k];
      // Where the logits are -inf the difference quotient is meaningless; the gradient is 0.
      if (std::isinf(c.logits[r * C + k])) {
        if (g != 0.0) fail(fmt("%s: grad[%lld,%lld] = %g at a -inf logit", name.c_str(), (long long)r, (long long)k, g));
        continue;
      }
      if (!close(g, fd[k], 2e-5, 2e-6 * fd_max + 1e-30)) {
        fail(fmt("%s: grad[%lld,%lld] = %.9g, finite difference %.12Lg (row max %.3Lg)", name.c_str(),
                 (long long)r, (long long)k, g, fd[k], fd_max));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

std::mt19937_64 rng(12345);

float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }
float normal(float sd) { return std::normal_distribution<float>(0.0f, sd)(rng); }
int32_t randint(int32_t n) { return std::uniform_int_distribution<int32_t>(0, n - 1)(rng); }

SoftmaxCase random_case(int64_t rows, int64_t classes, float sd) {
  SoftmaxCase c;
  c.rows = rows;
  c.classes = classes;
  c.logits.resize(rows * classes);
  for (auto& v : c.logits) v = normal(sd);
  c.sparse.resize(rows);
  for (auto& t : c.sparse) t = randint(static_cast<int32_t>(classes));
  return c;
}

void make_dense(SoftmaxCase& c, bool soft) {
  c.dense.assign(c.rows * c.classes, 0.0f);
  for (int64_t r = 0; r < c.rows; ++r) {
    if (soft) {
      float s = 0;
      for (int64_t j = 0; j < c.classes; ++j) s += (c.dense[r * c.classes + j] = uniform(0, 1));
      for (int64_t j = 0; j < c.classes; ++j) c.dense[r * c.classes + j] /= s;
    } else {
      c.dense[r * c.classes + c.sparse[r]] = 1.0f;
    }
  }
  c.sparse.clear();
}

void per_class_alpha(SoftmaxCase& c) {
  c.alpha.resize(c.classes);
  for (auto& a : c.alpha) a = uniform(0.05f, 2.0f);
}

using IsaRows = void (*)(const focal::SoftmaxFocalArgs&, int64_t, int64_t, float*, focal::detail::KernelError*);
struct Isa {
  const char* name;
  IsaRows rows;
};

// The tests run once per SIMD level (main switches with force_kernels); the kernels are called
// through the public API.
std::vector<Isa> available_isas() { return {{focal::simd_level(), nullptr}}; }

void test_softmax_random() {
  const int64_t class_counts[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 64, 100, 257, 1000, 1003};
  const double gammas[] = {0.0, 0.5, 1.0, 1.3, 2.0, 2.5, 5.0};
  for (const Isa& isa : available_isas()) {
    int variant = 0;
    for (int64_t C : class_counts) {
      for (double gamma : gammas) {
        ++variant;
        const int64_t rows = C >= 1000 ? 3 : 6;
        SoftmaxCase c = random_case(rows, C, variant % 3 == 0 ? 8.0f : 2.5f);
        c.gamma = gamma;
        if (variant % 2) per_class_alpha(c);
        c.alpha_scalar = variant % 4 == 0 ? 1.0f : 0.25f;
        const std::string base = fmt("[%s] C=%lld gamma=%g", isa.name, (long long)C, gamma);
        check_softmax(base + " sparse", c, run_softmax(c, true, isa.rows));
        {
          SoftmaxCase s = c;
          s.ls = 0.1;
          check_softmax(base + " sparse ls=0.1", s, run_softmax(s, true, isa.rows));
        }
        {
          SoftmaxCase d = c;
          make_dense(d, false);
          check_softmax(base + " one-hot", d, run_softmax(d, true, isa.rows));
          d.ls = 0.2;
          check_softmax(base + " one-hot ls=0.2", d, run_softmax(d, true, isa.rows));
        }
        {
          SoftmaxCase d = c;
          make_dense(d, true);
          check_softmax(base + " soft", d, run_softmax(d, true, isa.rows));
        }
        // Loss without gradient must be the same loss.
        SoftmaxResult with = run_softmax(c, true, isa.rows), without = run_softmax(c, false, isa.rows);
        ++g_checks;
        if (std::memcmp(with.loss.data(), without.loss.data(), sizeof(float) * c.rows) != 0)
          fail(base + ": loss differs with and without gradient");
      }
    }
  }
}

// With few classes rows run one per lane, kLanes (4, 8 or 16) rows at a time: 37 rows give whole
// blocks and a partial one, with ignored rows, non-finite rows and a confident row inside blocks;
// sparse labels, one-hot labels (which take the sparse block code), one-hot labels with one soft
// row (which do not), soft labels and smoothing.
void test_softmax_lane_blocks() {
  for (int64_t C : {1LL, 2LL, 3LL, 10LL, 16LL, 20LL, 21LL, 33LL, 64LL, 65LL}) {
    for (double gamma : {0.0, 0.5, 2.0, 2.7}) {
      SoftmaxCase sparse = random_case(37, C, C % 2 ? 6.0f : 2.5f);
      sparse.gamma = gamma;
      if (C % 3 == 0) per_class_alpha(sparse);
      for (int kind = 0; kind < 5; ++kind) {
      SoftmaxCase c = sparse;
      const char* kind_name[] = {"sparse", "one-hot", "one-hot, soft/two-hot/zero rows", "soft", "sparse ls=0.1"};
      if (kind == 1 || kind == 2) make_dense(c, false);
      if (kind == 2) {  // a soft row, a two-hot row and an all-zero row in three blocks
        for (int64_t j = 0; j < C; ++j) c.dense[5 * C + j] = 1.0f / static_cast<float>(C);
        if (C > 1) c.dense[17 * C + (sparse.sparse[17] + 1) % C] = 1.0f;
        for (int64_t j = 0; j < C; ++j) c.dense[33 * C + j] = 0.0f;
      }
      if (kind == 3) make_dense(c, true);
      if (kind == 4) c.ls = 0.1;
      const std::string base = fmt("lanes C=%lld gamma=%g %s", (long long)C, gamma, kind_name[kind]);
      check_softmax(base, c, run_softmax(c, true));
      SoftmaxCase confident = c;
      for (int64_t j = 0; j < C; ++j) confident.logits[20 * C + j] = -1.0f;
      confident.logits[20 * C + sparse.sparse[20]] = 40.0f;  // the label of row 20 (one-hot too)
      check_softmax(base + " confident row", confident, run_softmax(confident, true));
      if (c.dense.empty()) {
        SoftmaxCase ignored = c;
        ignored.has_ignore = true;
        ignored.ignore = -100;
        for (int r : {0, 17, 36}) ignored.sparse[r] = -100;
        SoftmaxResult res = run_softmax(ignored, true);
        check_softmax(base + " ignore_index", ignored, res);
        for (int r : {0, 17, 36}) {
          ++g_checks;
          bool zero = res.loss[r] == 0.0f;
          for (int64_t j = 0; j < C; ++j) zero = zero && res.grad[r * C + j] == 0.0f;
          if (!zero) fail(fmt("%s: ignored row %d not zero", base.c_str(), r));
        }
      }
      // A NaN row and a +inf row inside a block leave the other rows as they were.
      SoftmaxCase broken = c;
      broken.logits[3 * C] = NAN;
      broken.logits[18 * C + C - 1] = INFINITY;
      SoftmaxResult b = run_softmax(broken, true), clean = run_softmax(c, true);
      for (int r = 0; r < 37; ++r) {
        ++g_checks;
        const bool bad_row = r == 3 || r == 18;
        if (bad_row) {
          if (std::isfinite(b.loss[r]) || !std::isnan(b.grad[r * C])) fail(fmt("%s: row %d should be NaN/inf", base.c_str(), r));
        } else if (b.loss[r] != clean.loss[r] ||
                   std::memcmp(&b.grad[r * C], &clean.grad[r * C], sizeof(float) * C) != 0) {
          fail(fmt("%s: row %d changed by a non-finite row in its block", base.c_str(), r));
        }
      }
      }
    }
  }
}

void test_softmax_extreme() {
  for (const Isa& isa : available_isas()) {
    for (double gamma : {0.0, 0.25, 0.5, 1.0, 2.0, 3.7}) {
      const std::string base = fmt("[%s] extreme gamma=%g", isa.name, gamma);
      for (int64_t C : {2LL, 3LL, 17LL, 40LL}) {
        SoftmaxCase c;
        c.rows = 10;
        c.classes = C;
        c.gamma = gamma;
        c.logits.assign(c.rows * C, 0.0f);
        c.sparse.assign(c.rows, 1);
        auto row = [&](int64_t r) { return &c.logits[r * C]; };
        // 0: target certain (p_t = 1 exactly in any precision).
        for (int64_t j = 0; j < C; ++j) row(0)[j] = -1e4f;
        row(0)[1] = 1e4f;
        // 1: target impossible.
        for (int64_t j = 0; j < C; ++j) row(1)[j] = 1e4f;
        row(1)[1] = -1e4f;
        // 2: confident: 1 - p_t ~ 1e-13 (cancellation if computed as 1 - p).
        row(2)[1] = 30.0f;
        // 3: tie between target and another class at the max.
        row(3)[1] = 5.0f;
        row(3)[0] = 5.0f;
        // 4: large magnitudes, moderate differences.
        for (int64_t j = 0; j < C; ++j) row(4)[j] = 1e4f - static_cast<float>(j);
        // 5: masked classes (-inf), target finite.
        for (int64_t j = 0; j < C; ++j) row(5)[j] = (j % 2 == 0) ? -INFINITY : normal(3);
        // 6: slightly confident: 1 - p_t ~ 1e-5.
        row(6)[1] = 12.0f;
        // 7: target is the max by a tiny margin.
        for (int64_t j = 0; j < C; ++j) row(7)[j] = 1.0f;
        row(7)[1] = 1.0f + 1e-6f;
        // 8: very confident, but 1 - p_t still representable in float: ~1e-30.
        row(8)[1] = 70.0f;
        // 9: all equal.
        check_softmax(base + fmt(" C=%lld sparse", (long long)C), c, run_softmax(c, true, isa.rows));
        SoftmaxCase d = c;
        make_dense(d, false);
        check_softmax(base + fmt(" C=%lld one-hot", (long long)C), d, run_softmax(d, true, isa.rows));
        SoftmaxCase s = c;
        s.ls = 0.05;  // smoothing puts weight on every class: a -inf logit would make the loss inf
        for (auto& v : s.logits)
          if (v == -INFINITY) v = -1e4f;
        check_softmax(base + fmt(" C=%lld sparse ls", (long long)C), s, run_softmax(s, true, isa.rows));
        // All results finite except the loss of a -inf target (not present here).
        for (const SoftmaxCase* k : {&c, &d, &s}) {
          SoftmaxResult res = run_softmax(*k, true, isa.rows);
          for (float v : res.loss) {
            ++g_checks;
            if (!std::isfinite(v)) fail(base + ": non-finite loss");
          }
          for (float v : res.grad) {
            ++g_checks;
            if (!std::isfinite(v)) fail(base + ": non-finite gradient");
          }
        }
      }
    }
  }
}

void test_softmax_ignore_index() {
  SoftmaxCase c = random_case(20, 13, 3.0f);
  c.has_ignore = true;
  c.ignore = -1;
  for (int r = 0; r < 20; r += 3) c.sparse[r] = -1;
  for (double ls : {0.0, 0.1}) {
    c.ls = ls;
    SoftmaxResult res = run_softmax(c, true);
    check_softmax(fmt("ignore_index ls=%g", ls), c, res);
    for (int r = 0; r < 20; r += 3) {
      ++g_checks;
      bool zero = res.loss[r] == 0.0f;
      for (int j = 0; j < 13; ++j) zero = zero && res.grad[r * 13 + j] == 0.0f;
      if (!zero) fail(fmt("ignore_index: row %d not zero", r));
    }
  }
  // ignore_index inside [0, C) ignores that class index.
  c.ignore = 2;
  for (auto& t : c.sparse)
    if (t == -1) t = 0;
  c.sparse[1] = 2;
  c.ls = 0;
  SoftmaxResult res = run_softmax(c, true);
  ++g_checks;
  if (!res.error.empty() || res.loss[1] != 0.0f) fail("ignore_index = 2 did not ignore row 1");
  c.from_logits = false;
  for (auto& v : c.logits) v = uniform(0.0f, 1.0f);
  res = run_softmax(c, true);
  check_softmax("ignore_index probabilities", c, res);
}

void test_softmax_probabilities() {
  for (double gamma : {0.0, 0.5, 2.0, 3.0}) {
    for (int64_t C : {1LL, 2LL, 5LL, 33LL, 200LL}) {
      SoftmaxCase c = random_case(8, C, 1.0f);
      c.from_logits = false;
      c.gamma = gamma;
      c.eps = C == 5 ? 1.5 : C == 33 ? -0.5 : 0.0;  // Poly-1 on probabilities
      for (auto& v : c.logits) v = uniform(0.01f, 1.0f);
      // Unnormalised rows, and entries clipped at eps / 1 - eps (far from the boundaries, so that
      // the finite differences do not cross them).
      for (int64_t j = 0; j < C; ++j) c.logits[1 * C + j] *= 7.0f;
      if (C > 1) {
        for (int64_t j = 0; j < C; ++j) c.logits[2 * C + j] = 1e-12f;
        c.logits[2 * C + c.sparse[2]] = 1.0f;  // target clipped to 1 - eps
        c.logits[3 * C + 0] = 0.0f;             // exactly zero probability
        c.sparse[3] = 0;                        // ... as the target
      }
      const std::string base = fmt("probabilities C=%lld gamma=%g eps=%g", (long long)C, gamma, c.eps);
      if (C == 33) per_class_alpha(c);
      check_softmax(base + " sparse", c, run_softmax(c, true));
      SoftmaxCase s = c;
      s.ls = 0.1;
      check_softmax(base + " sparse ls", s, run_softmax(s, true));
      SoftmaxCase d = c;
      make_dense(d, true);
      check_softmax(base + " soft", d, run_softmax(d, true));
    }
  }
}

void expect_error(const std::string& name, const std::string& got, const std::string& want_substring) {
  ++g_checks;
  if (got.find(want_substring) == std::string::npos)
    fail(name + ": expected an error containing '" + want_substring + "', got '" + got + "'");
}

// The structured fields of an error (what the bindings pass on), and the TensorFlow status format.
void test_error_fields() {
  // (No random_case here: the other tests' random inputs stay as they are.)
  std::vector<float> logits(30 * 10, 0.5f);
  std::vector<int32_t> labels(30, 1);
  labels[3] = -100;  // ignored
  labels[21] = 10;
  labels[25] = -1;
  focal::SoftmaxFocalArgs a;
  std::vector<float> loss(30);
  a.rows = 30;
  a.classes = 10;
  a.logits = logits.data();
  a.sparse_labels = labels.data();
  a.has_ignore_index = true;
  a.ignore_index = -100;
  a.loss_out = loss.data();
  const focal::Error e = focal::softmax_focal_loss(a);
  ++g_checks;
  if (e.code != focal::ErrorCode::kLabelOutOfRange || std::strcmp(e.argument, "labels") != 0 ||
      e.index != 21 || e.value != 10 || e.classes != 10 || !e.has_ignore_index || e.ignore_index != -100)
    fail("label out of range: wrong fields: " + focal::describe(e));
  expect_error("tensorflow format", focal::to_tensorflow_message(e),
               "tfjs-focal-loss-error {\"code\":\"FOCAL_LABEL_OUT_OF_RANGE\",\"argument\":\"labels\","
               "\"index\":21,\"value\":10,\"classes\":10,\"ignoreIndex\":-100,\"detail\":\"\"}");
  focal::Error nan_value;
  nan_value.code = focal::ErrorCode::kLabelOutsideUnitInterval;
  nan_value.argument = "labels";
  nan_value.value = NAN;
  expect_error("tensorflow format, NaN", focal::to_tensorflow_message(nan_value), "\"value\":\"NaN\"");
  nan_value.value = -INFINITY;
  expect_error("tensorflow format, -Infinity", focal::to_tensorflow_message(nan_value), "\"value\":\"-Infinity\"");
  const focal::Error contract = focal::softmax_focal_loss(focal::SoftmaxFocalArgs{});
  expect_error("tensorflow format, detail", focal::to_tensorflow_message(contract),
               "\"code\":\"FOCAL_INVALID_ARGUMENT\"");
}

void test_softmax_errors() {
  SoftmaxCase c = random_case(30, 10, 1.0f);
  c.sparse[17] = 12;
  expect_error("label out of range", run_softmax(c, true).error, "FOCAL_LABEL_OUT_OF_RANGE: labels[17] = 12 (classes 10)");
  c.sparse[17] = -1;
  expect_error("negative label", run_softmax(c, true).error, "FOCAL_LABEL_OUT_OF_RANGE: labels[17] = -1 (classes 10)");
  c.sparse[17] = 3;
  // NaN logits, or a row of only -Inf: that row's loss and gradient are NaN (as TensorFlow's
  // softmax cross-entropy gives); a single +Inf logit whose class is not the target: loss +Inf,
  // gradient NaN. The other rows are unaffected.
  c.logits[5 * 10 + 3] = NAN;
  c.logits[9 * 10 + 1] = INFINITY;
  c.sparse[9] = 0;  // the +inf class is not the target
  for (int j = 0; j < 10; ++j) c.logits[7 * 10 + j] = -INFINITY;
  for (double ls : {0.0, 0.1}) {
    c.ls = ls;
    for (int threads : {1, 2}) {
      focal::set_num_threads(threads);
      SoftmaxResult res = run_softmax(c, true);
      ++g_checks;
      if (!res.error.empty()) fail("non-finite logits: unexpected error " + res.error);
      ++g_checks;  // with smoothing the +inf class has label weight too: inf - inf = NaN
      if (ls == 0.0 ? res.loss[9] != INFINITY : !std::isnan(res.loss[9]))
        fail(fmt("+inf logit off the target (ls=%g): loss %g", ls, res.loss[9]));
      for (int r : {5, 7, 9}) {
        bool nan = r == 9 || std::isnan(res.loss[r]);
        for (int j = 0; j < 10; ++j) nan = nan && std::isnan(res.grad[r * 10 + j]);
        ++g_checks;
        if (!nan) fail(fmt("non-finite logits (ls=%g): row %d is not NaN", ls, r));
      }
      SoftmaxCase rest = c;  // the other rows match the reference
      for (int r : {5, 7, 9})
        for (int j = 0; j < 10; ++j) rest.logits[r * 10 + j] = 0.0f;
      SoftmaxResult clean = run_softmax(rest, true);
      for (int r = 0; r < 30; ++r) {
        if (r == 5 || r == 7 || r == 9) continue;
        ++g_checks;
        if (res.loss[r] != clean.loss[r] || std::memcmp(&res.grad[r * 10], &clean.grad[r * 10], 40) != 0)
          fail(fmt("non-finite logits (ls=%g): row %d changed", ls, r));
      }
    }
  }
  c.ls = 0;
  for (int r : {5, 7, 9})
    for (int j = 0; j < 10; ++j) c.logits[r * 10 + j] = 0.5f;
  c.from_logits = false;
  for (auto& v : c.logits) v = 0.1f;
  c.logits[44] = -0.5f;
  expect_error("negative probability", run_softmax(c, true).error, "FOCAL_PROBABILITY_INVALID: logits[44] = -0.5 (classes 10)");
  c.logits[44] = 0.0f;
  for (int j = 0; j < 10; ++j) c.logits[40 + j] = 0.0f;
  expect_error("zero row", run_softmax(c, true).error, "FOCAL_PROBABILITY_ROW_SUM: logits[40] = 0 (classes 10)");
}

void test_softmax_thread_identity() {
  for (int variant = 0; variant < 4; ++variant) {
    const bool dense = variant == 1 || variant == 3;
    // Large enough (> pool::kMinParallelWork) to be split over threads; variants 2, 3: few classes
    // (rows in blocks, one per lane), chunks that do not start on a block boundary.
    SoftmaxCase c = variant >= 2 ? random_case(20011, 21, 4.0f) : random_case(1215, 301, 4.0f);
    if (dense) make_dense(c, true);
    c.gamma = 1.5;
    focal::set_num_threads(1);
    SoftmaxResult one = run_softmax(c, true);
    for (int t : {2, 3, 4, 7, 16}) {
      focal::set_num_threads(t);
      SoftmaxResult many = run_softmax(c, true);
      ++g_checks;
      if (std::memcmp(one.loss.data(), many.loss.data(), one.loss.size() * 4) != 0 ||
          std::memcmp(one.grad.data(), many.grad.data(), one.grad.size() * 4) != 0)
        fail(fmt("results differ between 1 and %d threads (dense=%d)", t, dense));
    }
    focal::set_num_threads(2);
  }
  // NaN rows in both halves of a parallel call.
  SoftmaxCase big = random_case(2000, 200, 2.0f);
  big.logits[1500 * 200 + 7] = NAN;
  big.logits[100 * 200 + 9] = INFINITY;
  for (int t : {1, 2, 3}) {
    focal::set_num_threads(t);
    SoftmaxResult res = run_softmax(big, true);
    ++g_checks;
    if (!res.error.empty() || !std::isnan(res.loss[1500]) || std::isfinite(res.loss[100]) ||
        !std::isfinite(res.loss[1499]) || !std::isfinite(res.loss[101]) || !std::isnan(res.grad[1500 * 200]))
      fail(fmt("parallel NaN propagation, %d threads", t));
  }
  // Sigmoid: elementwise, same bit-identity.
  std::vector<float> x(300001), y(300001), l1(x.size()), g1(x.size()), l2(x.size()), g2(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = normal(4);
    y[i] = static_cast<float>(randint(2));
  }
  focal::SigmoidElementwiseArgs a;
  a.count = static_cast<int64_t>(x.size());
  a.logits = x.data();
  a.labels = y.data();
  a.loss_out = l1.data();
  a.grad_out = g1.data();
  focal::set_num_threads(1);
  focal::sigmoid_elementwise_loss(a);
  a.loss_out = l2.data();
  a.grad_out = g2.data();
  for (int t : {2, 5}) {
    focal::set_num_threads(t);
    focal::sigmoid_elementwise_loss(a);
    ++g_checks;
    if (std::memcmp(l1.data(), l2.data(), l1.size() * 4) != 0 || std::memcmp(g1.data(), g2.data(), g1.size() * 4) != 0)
      fail(fmt("sigmoid results differ between 1 and %d threads", t));
  }
  focal::set_num_threads(2);
}

// Poly-1 (poly_epsilon) and logit adjustment (logit_offsets) on every kernel: lane kernels
// (C <= 64), grouped sparse rows, dense rows; sparse, one-hot, soft labels and smoothing; the
// thread split; eps = 0 and no offsets give the bits of the plain loss; offsets refused on
// probabilities.
void test_softmax_family() {
  // The other tests keep the random draws they had before this one existed.
  const std::mt19937_64 saved_rng = rng;
  int variant = 0;
  for (int64_t C : {1LL, 3LL, 10LL, 16LL, 21LL, 64LL, 65LL, 257LL, 1000LL}) {
    for (double gamma : {0.0, 0.5, 2.0, 2.5}) {
      for (double eps : {1.0, 2.5, -0.5}) {
        for (bool adjust : {false, true}) {
          ++variant;
          SoftmaxCase c = random_case(C >= 257 ? 5 : 37, C, variant % 3 == 0 ? 8.0f : 2.5f);
          c.gamma = gamma;
          c.eps = eps;
          if (variant % 2) per_class_alpha(c);
          if (adjust) {
            c.offsets.resize(C);
            for (int64_t j = 0; j < C; ++j) c.offsets[j] = static_cast<float>(-1.5 * std::log(1.0 + j));
          }
          // z + offset carries float32 rounding of the adjusted logits: 1e-5 relative.
          const double rel = adjust ? 1e-5 : 1e-6;
          const std::string base = fmt("[%s] family C=%lld gamma=%g eps=%g adjust=%d", focal::simd_level(),
                                       (long long)C, gamma, eps, adjust);
          check_softmax(base + " sparse", c, run_softmax(c, true), true, rel);
          SoftmaxCase s = c;
          s.ls = 0.1;
          check_softmax(base + " sparse ls=0.1", s, run_softmax(s, true), true, rel);
          SoftmaxCase d = c;
          make_dense(d, variant % 4 == 0);
          check_softmax(base + " dense", d, run_softmax(d, true), true, rel);
        }
      }
    }
  }
  // eps = 0 and no offsets: the plain loss, bit for bit.
  for (int64_t C : {5LL, 64LL, 300LL}) {
    SoftmaxCase c = random_case(50, C, 4.0f);
    c.eps = 0.0;
    SoftmaxResult plain = run_softmax(c, true);
    c.eps = 1.0;
    SoftmaxResult poly = run_softmax(c, true);
    ++g_checks;
    if (std::memcmp(plain.loss.data(), poly.loss.data(), plain.loss.size() * 4) == 0)
      fail(fmt("family C=%lld: eps = 1 gives the plain loss", (long long)C));
  }
  // The thread split, with eps and offsets.
  for (int64_t C : {21LL, 301LL}) {
    SoftmaxCase c = random_case(C == 21 ? 20011 : 1215, C, 4.0f);
    c.eps = 1.5;
    c.offsets.resize(C);
    for (int64_t j = 0; j < C; ++j) c.offsets[j] = static_cast<float>(-std::log(1.0 + j));
    for (bool dense : {false, true}) {
      SoftmaxCase d = c;
      if (dense) make_dense(d, true);
      focal::set_num_threads(1);
      SoftmaxResult one = run_softmax(d, true);
      for (int t : {2, 3, 7}) {
        focal::set_num_threads(t);
        SoftmaxResult many = run_softmax(d, true);
        ++g_checks;
        if (std::memcmp(one.loss.data(), many.loss.data(), one.loss.size() * 4) != 0 ||
            std::memcmp(one.grad.data(), many.grad.data(), one.grad.size() * 4) != 0)
          fail(fmt("family: results differ between 1 and %d threads (C=%lld dense=%d)", t, (long long)C, dense));
      }
    }
    focal::set_num_threads(2);
  }
  // Finite at |logit| = 1e4 for gamma in [0, 1), with offsets.
  for (double gamma : {0.0, 0.3, 0.9}) {
    SoftmaxCase c = random_case(4, 5, 1.0f);
    const float rows[4][5] = {{1e4f, -1e4f, 0, 3, 1e4f - 1}, {-1e4f, 1e4f, 1e4f, -5, 0},
                              {1e4f, 0, 0, 0, 0}, {0, 0, 0, 0, -1e4f}};
    for (int r = 0; r < 4; ++r)
      for (int j = 0; j < 5; ++j) c.logits[r * 5 + j] = rows[r][j];
    c.sparse = {0, 1, 0, 4};
    c.gamma = gamma;
    c.eps = -1.0;
    c.offsets = {-0.1f, -2.0f, -3.0f, -4.0f, -6.0f};
    for (bool dense : {false, true}) {
      SoftmaxCase d = c;
      if (dense) make_dense(d, false);
      SoftmaxResult res = run_softmax(d, true);
      for (float v : res.loss) {
        ++g_checks;
        if (!std::isfinite(v)) fail(fmt("family extreme gamma=%g: loss %g", gamma, v));
      }
      for (float v : res.grad) {
        ++g_checks;
        if (!std::isfinite(v)) fail(fmt("family extreme gamma=%g: grad %g", gamma, v));
      }
    }
  }
  SoftmaxCase p = random_case(3, 4, 1.0f);
  for (auto& v : p.logits) v = std::fabs(v) + 0.1f;
  p.from_logits = false;
  p.offsets = {0.0f, -1.0f, -2.0f, -3.0f};
  expect_error("logit offsets on probabilities", run_softmax(p, true).error, "from_logits must be true");
  rng = saved_rng;
}

// Integer-held dense labels (dense_labels_int32, labels_int32) give bit for bit what the same
// labels as floats give: shapes with one block, several blocks (a partial last one), blocks of one
// row and rows longer than a block, split over threads; errors report the whole tensor's index.
void test_integer_labels() {
  struct Shape { int64_t rows, classes; };
  for (Shape sh : {Shape{40000, 1}, Shape{12000, 3}, Shape{2000, 21}, Shape{1500, 65}, Shape{50, 1000},
                   Shape{3, 16385}}) {
    SoftmaxCase c = random_case(sh.rows, sh.classes, 3.0f);
    std::vector<int32_t> ints(sh.rows * sh.classes, 0);
    for (int64_t r = 0; r < sh.rows; ++r) {
      ints[r * sh.classes + c.sparse[r]] = 1;
      if (r % 7 == 3) ints[r * sh.classes + randint(static_cast<int32_t>(sh.classes))] = 1;  // two ones (labels stay in [0, 1])
      if (r % 11 == 5) ints[r * sh.classes + c.sparse[r]] = 0;                              // no label
    }
    c.sparse.clear();
    c.dense.assign(ints.begin(), ints.end());
    for (int variant = 0; variant < 4; ++variant) {
      SoftmaxCase v = c;
      v.ls = variant == 1 ? 0.1 : 0.0;
      v.gamma = variant == 2 ? 1.5 : 2.0;
      if (variant == 3) {
        v.from_logits = false;
        for (auto& x : v.logits) x = uniform(0.01f, 1.0f);
      }
      for (bool with_grad : {true, false}) {
        for (int threads : {1, 2, 3}) {
          focal::set_num_threads(threads);
          SoftmaxResult want = run_softmax(v, with_grad);
          SoftmaxCase as_int = v;
          as_int.dense.clear();
          as_int.dense_int32 = ints;
          SoftmaxResult got = run_softmax(as_int, with_grad);
          ++g_checks;
          if (!got.error.empty() || !want.error.empty() ||
              std::memcmp(got.loss.data(), want.loss.data(), got.loss.size() * 4) != 0 ||
              got.grad.size() != want.grad.size() ||
              (!got.grad.empty() && std::memcmp(got.grad.data(), want.grad.data(), got.grad.size() * 4) != 0)) {
            fail(fmt("int32 dense labels %lldx%lld variant %d grad=%d threads=%d differ from float "
                     "labels ('%s' / '%s')", (long long)sh.rows, (long long)sh.classes, variant,
                     with_grad, threads, got.error.c_str(), want.error.c_str()));
          }
          if (variant == 0 && threads == 1 && with_grad)  // the float run itself, loss only
            check_softmax(fmt("int32 dense labels %lldx%lld", (long long)sh.rows, (long long)sh.classes),
                          v, want, false);
        }
      }
    }
  }
  focal::set_num_threads(2);
  // A bad probability in a later block, and the argument checks.
  SoftmaxCase c = random_case(50, 1000, 1.0f);
  SoftmaxCase e = c;
  e.sparse.clear();
  e.dense_int32.assign(50 * 1000, 0);
  for (int64_t r = 0; r < 50; ++r) e.dense_int32[r * 1000 + c.sparse[r]] = 1;
  e.from_logits = false;
  for (auto& x : e.logits) x = 0.5f;
  e.logits[37 * 1000 + 5] = -0.5f;
  expect_error("int32 dense labels, bad probability", run_softmax(e, true).error,
               "FOCAL_PROBABILITY_INVALID: logits[37005] = -0.5 (classes 1000)");
  for (int j = 0; j < 1000; ++j) e.logits[41 * 1000 + j] = 0.0f;
  e.logits[37 * 1000 + 5] = 0.5f;
  expect_error("int32 dense labels, zero row", run_softmax(e, true).error, "FOCAL_PROBABILITY_ROW_SUM: logits[41000] = 0 (classes 1000)");
  e.from_logits = true;
  {
    // ignore_index applies to sparse labels only: with dense labels it changes nothing.
    const SoftmaxResult plain = run_softmax(e, true);
    e.has_ignore = true;
    e.ignore = 0;
    const SoftmaxResult with_ignore = run_softmax(e, true);
    e.has_ignore = false;
    ++g_checks;
    if (!plain.error.empty() || with_ignore.loss != plain.loss || with_ignore.grad != plain.grad)
      fail("int32 dense labels: ignore_index changed the result");
  }
  e.sparse = c.sparse;
  expect_error("two label arrays", run_softmax(e, true).error, "FOCAL_INVALID_ARGUMENT: exactly one of sparse_labels, dense_labels");

  // Sigmoid.
  const int64_t n = 40000;  // 3 blocks, the last partial
  std::vector<float> x(n), yf(n), l1(n), g1(n), l2(n), g2(n);
  std::vector<int32_t> yi(n);
  for (int64_t i = 0; i < n; ++i) {
    yi[i] = randint(2);
    yf[i] = static_cast<float>(yi[i]);
  }
  for (bool from_logits : {true, false}) {
    for (int64_t i = 0; i < n; ++i) x[i] = from_logits ? normal(4) : uniform(0.0f, 1.0f);
    for (int threads : {1, 2, 3}) {
      focal::set_num_threads(threads);
      focal::SigmoidElementwiseArgs s;
      s.count = n;
      s.logits = x.data();
      s.from_logits = from_logits;
      s.labels = yf.data();
      s.loss_out = l1.data();
      s.grad_out = g1.data();
      const std::string want = focal::describe(focal::sigmoid_elementwise_loss(s));
      s.labels = nullptr;
      s.labels_int32 = yi.data();
      s.loss_out = l2.data();
      s.grad_out = g2.data();
      const std::string got = focal::describe(focal::sigmoid_elementwise_loss(s));
      ++g_checks;
      if (!want.empty() || !got.empty() || std::memcmp(l1.data(), l2.data(), n * 4) != 0 ||
          std::memcmp(g1.data(), g2.data(), n * 4) != 0)
        fail(fmt("sigmoid int32 labels differ from float labels (from_logits=%d, threads=%d)", from_logits, threads));
    }
  }
  focal::set_num_threads(2);
  yi[35000] = 2;
  focal::SigmoidElementwiseArgs s;
  s.count = n;
  s.logits = x.data();
  s.labels_int32 = yi.data();
  s.loss_out = l2.data();
  expect_error("sigmoid int32 label range", focal::describe(focal::sigmoid_elementwise_loss(s)),
               "FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL: labels[35000] = 2");
  s.labels = yf.data();
  expect_error("sigmoid two label arrays", focal::describe(focal::sigmoid_elementwise_loss(s)),
               "FOCAL_INVALID_ARGUMENT: exactly one of labels and labels_int32");
}

// ---------------------------------------------------------------------------------------------
// Sigmoid.

struct SigmoidCase {
  std::vector<float> x, y;
  double gamma = 2, alpha = 0.25, ls = 0;
  bool balancing = true, from_logits = true;
  // The elementwise family.
  focal::ElementwiseLoss loss = focal::ElementwiseLoss::kFocal;
  double poly_epsilon = 0, gamma_neg = 4, clip = 0.05;
  bool iou_weighted = true;
};

// The family's definitions in long double, straight from the formulas (log1p forms for the logs).
LD ref_family(const SigmoidCase& c, LD x, LD y) {
  const LD e = std::exp(-std::fabs(x));
  const LD p = x >= 0 ? 1 / (1 + e) : e / (1 + e);
  const LD pm = x >= 0 ? e / (1 + e) : 1 / (1 + e);
  const LD nlogp = (x < 0 ? -x : 0) + std::log1p(e), nlog1mp = (x > 0 ? x : 0) + std::log1p(e);
  const LD bce = y * nlogp + (1 - y) * nlog1mp;
  switch (c.loss) {
    case focal::ElementwiseLoss::kVarifocal:
      return y > 0 ? (c.iou_weighted ? y : 1) * bce : c.alpha * std::pow(p, (LD)c.gamma) * nlog1mp;
    case focal::ElementwiseLoss::kQualityFocal: {
      const LD d = std::fabs(p > 0.5L ? (1 - y) - pm : p - y);  // no cancellation in 1 - p
      return (c.gamma == 0 ? 1 : std::pow(d, (LD)c.gamma)) * bce;
    }
    default: {
      const LD pmar = p > c.clip ? p - c.clip : 0;
      // -log(1 - p_m): with clip == 0 the exact -log(1 - p), else -log((1 - p) + clip).
      const LD nlog = c.clip == 0 ? nlog1mp : -std::log(pm + (LD)c.clip);
      const LD neg = y < 1 && pmar > 0 ? std::pow(pmar, (LD)c.gamma_neg) * nlog : 0;
      return y * std::pow(pm, (LD)c.gamma) * nlogp + (1 - y) * neg;
    }
  }
}

LD ref_sigmoid(const SigmoidCase& c, LD x, LD y0) {
  if (c.loss != focal::ElementwiseLoss::kFocal) return ref_family(c, x, y0);
  const LD y = y0 * (1 - c.ls) + 0.5L * c.ls;
  const LD at = c.balancing ? c.alpha * y + (1 - c.alpha) * (1 - y) : 1.0L;
  const LD g = c.gamma;
  if (c.from_logits) {
    const LD e = std::exp(-std::fabs(x));
    const LD p = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    const LD pm = x >= 0 ? e / (1 + e) : 1 / (1 + e);
    const LD ce = (x >= 0 ? x * (1 - y) : -x * y) + std::log1p(e);
    const LD q = y * pm + (1 - y) * p;
    return at * std::pow(q, g) * (ce + c.poly_epsilon * q);
  }
  const LD eps = 1e-7L;
  const LD pc = x < eps ? eps : (x > 1 - eps ? 1 - eps : x);
  const LD bce = -(y * std::log(pc) + (1 - y) * std::log(1 - pc));
  const LD q = 1 - (y * x + (1 - y) * (1 - x));
  return at * std::pow(q, g) * (bce + c.poly_epsilon * q);
}

// Relative tolerance of values: the focal loss's float kernel keeps 1e-6 (gamma <= 3; double above);
// the family's float form raises p, 1 - p, p - q or p - clip to exponents up to 4, whose rounding
// (a few ulp) it multiplies by the exponent + 1 (kernels/family_elements.h).
constexpr double kFocalValueRtol = 1e-6, kFamilyValueRtol = 3e-6;
// The worst relative error of the family's values per loss over all cases and ISAs (printed).
double g_family_worst[4] = {0, 0, 0, 0};

void check_sigmoid(const std::string& name, const SigmoidCase& c, bool check_grad = true) {
  const int64_t n = static_cast<int64_t>(c.x.size());
  std::vector<float> loss(n, -1), grad(n, -1);
  focal::SigmoidElementwiseArgs a;
  a.count = n;
  a.logits = c.x.data();
  a.labels = c.y.data();
  // The case's exponent goes to the loss's own parameter (focal and varifocal: gamma, quality
  // focal: beta, asymmetric: gamma+); gamma then holds a value that would show if it were read.
  a.gamma = c.gamma;
  if (c.loss == focal::ElementwiseLoss::kQualityFocal) a.beta = c.gamma, a.gamma = 7.0;
  if (c.loss == focal::ElementwiseLoss::kAsymmetric) a.gamma_pos = c.gamma, a.gamma = 7.0;
  a.alpha = c.alpha;
  a.class_balancing = c.balancing;
  a.label_smoothing = c.ls;
  a.from_logits = c.from_logits;
  a.loss = c.loss;
  a.poly_epsilon = c.poly_epsilon;
  a.gamma_neg = c.gamma_neg;
  a.clip = c.clip;
  a.iou_weighted = c.iou_weighted;
  a.loss_out = loss.data();
  a.grad_out = grad.data();
  std::string err = focal::describe(focal::sigmoid_elementwise_loss(a));
  if (!err.empty()) {
    fail(name + ": unexpected error " + err);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (!sampled(i, n)) continue;
    const LD want = ref_sigmoid(c, c.x[i], c.y[i]);
    const bool family = c.loss != focal::ElementwiseLoss::kFocal;
    if (family && std::fabs(want) > 1e-30L) {
      double& worst = g_family_worst[static_cast<int>(c.loss)];
      worst = std::fmax(worst, static_cast<double>(std::fabs(loss[i] - want) / std::fabs(want)));
    }
    if (!close(loss[i], want, family ? kFamilyValueRtol : kFocalValueRtol, 1e-37))
      fail(fmt("%s: loss[%lld] = %.9g, reference %.12Lg (x=%g y=%g)", name.c_str(), (long long)i, loss[i], want, c.x[i], c.y[i]));
    if (!check_grad) continue;
    const LD x = c.x[i];
    LD h = 1e-6L * std::fmax(1.0L, std::fabs(x));
    if (!c.from_logits) h = 1e-9L;
    const LD fd = (ref_sigmoid(c, x + h, c.y[i]) - ref_sigmoid(c, x - h, c.y[i])) / (2 * h);
    if (!close(grad[i], fd, 2e-5, 1e-7 * std::fmax(1.0L, std::fabs(fd)) + 1e-30))
      fail(fmt("%s: grad[%lld] = %.9g, finite difference %.12Lg (x=%g y=%g)", name.c_str(), (long long)i, grad[i], fd, c.x[i], c.y[i]));
  }
  // No gradient: same loss.
  std::vector<float> loss2(n);
  a.loss_out = loss2.data();
  a.grad_out = nullptr;
  focal::sigmoid_elementwise_loss(a);
  ++g_checks;
  if (std::memcmp(loss.data(), loss2.data(), n * 4) != 0) fail(name + ": loss differs without gradient");
}

void test_sigmoid() {
  for (double gamma : {0.0, 0.5, 1.0, 1.3, 2.0, 3.0, 4.5}) {
    for (bool balancing : {true, false}) {
      for (double ls : {0.0, 0.1}) {
        SigmoidCase c;
        c.gamma = gamma;
        c.balancing = balancing;
        c.ls = ls;
        for (int i = 0; i < 203; ++i) {
          c.x.push_back(i % 7 == 0 ? normal(15) : normal(3));
          c.y.push_back(i % 3 == 0 ? uniform(0, 1) : static_cast<float>(randint(2)));
        }
        for (float xv : {1e4f, -1e4f, 40.0f, -40.0f, 0.0f, 17.0f, -17.0f}) {
          for (float yv : {0.0f, 1.0f, 0.3f}) {
            c.x.push_back(xv);
            c.y.push_back(yv);
          }
        }
        const std::string base = fmt("sigmoid gamma=%g balancing=%d ls=%g", gamma, balancing, ls);
        check_sigmoid(base + " logits", c);
        SigmoidCase p = c;
        p.from_logits = false;
        p.x.clear();
        p.y.clear();
        for (int i = 0; i < 200; ++i) {
          p.x.push_back(uniform(0.001f, 0.999f));
          p.y.push_back(i % 3 == 0 ? uniform(0, 1) : static_cast<float>(randint(2)));
        }
        check_sigmoid(base + " probabilities", p);
        // Clipped and saturated probabilities: loss only (the derivative jumps at the clip).
        SigmoidCase e = p;
        e.x = {0.0f, 1.0f, 1e-9f, 1.0f - 1e-8f, 0.0f, 1.0f};
        e.y = {0.0f, 1.0f, 1.0f, 0.0f, 1.0f, 0.0f};
        check_sigmoid(base + " probabilities at 0/1", e, false);
      }
    }
  }
  // Errors.
  SigmoidCase c;
  c.x = {0.5f, 1.0f, 2.0f};
  c.y = {0.0f, 1.5f, 1.0f};
  std::vector<float> loss(3);
  focal::SigmoidElementwiseArgs a;
  a.count = 3;
  a.logits = c.x.data();
  a.labels = c.y.data();
  a.loss_out = loss.data();
  expect_error("sigmoid label range", focal::describe(focal::sigmoid_elementwise_loss(a)),
               "FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL: labels[1] = 1.5");
  c.y[1] = 1.0f;
  c.x[2] = NAN;
  a.grad_out = nullptr;
  ++g_checks;
  if (!focal::sigmoid_elementwise_loss(a).ok() || !std::isnan(loss[2]) || !std::isfinite(loss[0]))
    fail("sigmoid: a NaN logit must give a NaN loss for its element only");
  c.x[2] = 0.5f;
  c.x[1] = 1.5f;
  a.from_logits = false;
  expect_error("sigmoid probability > 1", focal::describe(focal::sigmoid_elementwise_loss(a)),
               "FOCAL_PROBABILITY_OUTSIDE_UNIT_INTERVAL: logits[1] = 1.5");
  c.x[1] = 0.2f;
  ++g_checks;
  if (!focal::sigmoid_elementwise_loss(a).ok()) fail("sigmoid: valid probabilities rejected");
}

// Poly-1 and the rest of the elementwise family against long double, values and central
// differences, away from the points where a loss is not differentiable (QFL at p = q, ASL at
// p = clip, varifocal's switch at q = 0 is a property of the target, not of x).
void test_family() {
  using focal::ElementwiseLoss;
  // Its own random stream: the other tests keep the inputs they had before these cases existed.
  const std::mt19937_64 saved_rng = rng;
  rng.seed(1717);
  auto fill = [](SigmoidCase* c, bool hard) {
    for (int i = 0; i < 301; ++i) {
      c->x.push_back(i % 7 == 0 ? normal(12) : normal(3));
      c->y.push_back(hard || i % 2 == 0 ? static_cast<float>(randint(2)) : uniform(0.05f, 0.95f));
    }
    for (float xv : {1e4f, -1e4f, 40.0f, -40.0f, 17.0f, -17.0f}) {
      for (float yv : {0.0f, 1.0f}) {
        c->x.push_back(xv);
        c->y.push_back(yv);
      }
    }
  };
  for (double eps : {1.0, 2.0, -0.5}) {
    for (double gamma : {0.0, 0.5, 2.0, 4.5}) {
      for (bool from_logits : {true, false}) {
        SigmoidCase c;
        c.gamma = gamma;
        c.poly_epsilon = eps;
        c.from_logits = from_logits;
        if (from_logits) {
          fill(&c, false);
        } else {
          for (int i = 0; i < 200; ++i) {
            c.x.push_back(uniform(0.001f, 0.999f));
            c.y.push_back(static_cast<float>(randint(2)));
          }
        }
        check_sigmoid(fmt("poly eps=%g gamma=%g from_logits=%d", eps, gamma, from_logits), c);
      }
    }
  }
  for (double gamma : {0.0, 0.5, 2.0}) {
    for (bool iou_weighted : {true, false}) {
      SigmoidCase v;
      v.loss = ElementwiseLoss::kVarifocal;
      v.alpha = 0.75;
      v.gamma = gamma;
      v.iou_weighted = iou_weighted;
      fill(&v, false);
      check_sigmoid(fmt("varifocal gamma=%g iou_weighted=%d", gamma, iou_weighted), v);
    }
  }
  for (double beta : {0.0, 0.5, 2.0}) {
    SigmoidCase q;
    q.loss = ElementwiseLoss::kQualityFocal;
    q.gamma = beta;
    fill(&q, true);  // hard targets: p never equals q
    check_sigmoid(fmt("quality focal beta=%g", beta), q);
  }
  for (double clip : {0.0, 0.05, 0.6}) {
    for (double gneg : {0.0, 0.5, 4.0}) {
      SigmoidCase a;
      a.loss = ElementwiseLoss::kAsymmetric;
      a.gamma = 0.5;
      a.gamma_neg = gneg;
      a.clip = clip;
      fill(&a, true);
      for (size_t i = 0; i < a.x.size(); ++i) {  // stay 1e-3 away from the kink at p = clip
        const LD p = 1 / (1 + std::exp(-(LD)a.x[i]));
        if (clip > 0 && std::fabs(p - clip) < 1e-3) a.x[i] += 0.1f;
      }
      check_sigmoid(fmt("asymmetric clip=%g gamma_neg=%g", clip, gneg), a);
    }
  }
  // Values where the float form needs care: soft targets with p near q (QFL, varifocal: lanes
  // redone in double), p next to the clip (asymmetric: the expm1 form of p - clip), soft
  // asymmetric targets; non-finite logits.
  // Loss only: the difference quotient is meaningless at the kinks.
  for (ElementwiseLoss loss : {ElementwiseLoss::kVarifocal, ElementwiseLoss::kQualityFocal, ElementwiseLoss::kAsymmetric}) {
    for (double g : {0.5, 2.0, 4.0}) {
      for (double clip : {0.05, 0.001, 0.5, 0.97}) {
        if (clip != 0.05 && loss != ElementwiseLoss::kAsymmetric) continue;
        SigmoidCase k;
        k.loss = loss;
        k.alpha = 0.75;
        k.gamma = g;
        k.gamma_neg = g;
        k.clip = clip;
        const double kink = std::log(clip / (1 - clip));
        for (int i = 0; i < 997; ++i) {
          const float q = uniform(0.01f, 0.99f);
          const float x = i % 3 == 0 ? normal(3) : std::log(q / (1 - q)) + normal(0.05);  // p ~ q
          const float near_kink = static_cast<float>(kink + (i % 4 == 1 ? uniform(-1e-3f, 1e-3f) : uniform(-0.1f, 1.0f)));
          k.x.push_back(loss == ElementwiseLoss::kAsymmetric && i % 2 ? near_kink : x);  // p ~ clip
          k.y.push_back(i % 5 == 0 ? 0.0f : i % 5 == 1 ? 1.0f : q);
        }
        check_sigmoid(fmt("family soft targets loss=%d g=%g clip=%g", static_cast<int>(loss), g, clip), k, false);
      }
    }
    SigmoidCase nf;
    nf.loss = loss;
    nf.x = {NAN, INFINITY, -INFINITY, 1.0f, NAN, INFINITY, -INFINITY};
    nf.y = {0.0f, 0.0f, 1.0f, 0.5f, 1.0f, 1.0f, 0.0f};
    std::vector<float> l(nf.x.size()), gr(nf.x.size());
    focal::SigmoidElementwiseArgs fa;
    fa.count = static_cast<int64_t>(nf.x.size());
    fa.logits = nf.x.data();
    fa.labels = nf.y.data();
    fa.loss = loss;
    fa.loss_out = l.data();
    fa.grad_out = gr.data();
    ++g_checks;
    if (!focal::sigmoid_elementwise_loss(fa).ok() || !std::isfinite(l[3]) || !std::isfinite(gr[3]))
      fail(fmt("family loss=%d: non-finite logits must not disturb their neighbours", static_cast<int>(loss)));
  }
  // Targets outside [0, 1], and the contract: no probabilities / smoothing for the family.
  SigmoidCase c;
  c.x = {0.5f, 1.0f};
  c.y = {0.0f, -0.25f};
  std::vector<float> loss(2);
  focal::SigmoidElementwiseArgs a;
  a.count = 2;
  a.logits = c.x.data();
  a.labels = c.y.data();
  a.loss_out = loss.data();
  a.loss = ElementwiseLoss::kVarifocal;
  expect_error("varifocal target range", focal::describe(focal::sigmoid_elementwise_loss(a)),
               "FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL: labels[1] = -0.25");
  c.y[1] = 0.5f;
  a.from_logits = false;
  expect_error("varifocal on probabilities", focal::describe(focal::sigmoid_elementwise_loss(a)),
               "FOCAL_INVALID_ARGUMENT: only the focal loss takes probabilities");
  rng = saved_rng;
}

void test_scale() {
  const int64_t rows = 333, classes = 77;
  std::vector<float> g(rows * classes), dy(rows), out(rows * classes);
  for (auto& v : g) v = normal(1);
  for (auto& v : dy) v = normal(1);
  for (int t : {1, 2}) {
    focal::set_num_threads(t);
    focal::scale_rows(g.data(), dy.data(), rows, classes, out.data());
    for (int64_t i = 0; i < rows * classes; ++i) {
      ++g_checks;
      if (out[i] != dy[i / classes] * g[i]) {
        fail("scale_rows");
        break;
      }
    }
    std::vector<float> dy2(rows * classes);
    for (auto& v : dy2) v = normal(1);
    focal::scale_elements(g.data(), dy2.data(), rows * classes, out.data());
    for (int64_t i = 0; i < rows * classes; ++i) {
      ++g_checks;
      if (out[i] != dy2[i] * g[i]) {
        fail("scale_elements");
        break;
      }
    }
  }
}

}  // namespace

// Dense softmax labels outside [0, 1] (NaN included) are an error naming the first such label, on
// every path: the lane kernels (few classes, with and without logit offsets), the row kernel (many
// classes), the probability rows and integer-held labels; for every thread count.
void test_dense_label_range() {
  const auto saved_rng = rng;
  for (int64_t C : {3, 10, 100}) {
    for (int variant = 0; variant < 5; ++variant) {
      SoftmaxCase c = random_case(70, C, 2.0f);
      make_dense(c, variant % 2 == 1);
      if (variant == 2) c.from_logits = false;
      if (variant == 2) for (auto& v : c.logits) v = std::fabs(v) + 0.01f;
      if (variant == 3) c.offsets.assign(C, 0.25f);
      const int64_t bad = 41 * C + C / 2;
      for (float value : {-2.0f, 1.5f, NAN, INFINITY}) {
        SoftmaxCase b = c;
        b.dense[bad] = value;
        b.dense[bad + C] = -1.0f;  // a later one: the first is reported
        if (variant == 4) {  // integer-held labels
          b.dense_int32.assign(b.dense.size(), 0);
          for (size_t k = 0; k < b.dense.size(); ++k) b.dense_int32[k] = b.dense[k] >= 0.5f ? 1 : 0;
          b.dense_int32[bad] = value > 1 ? 2 : -2;
          b.dense_int32[bad + C] = -1;
          b.dense.clear();
          if (value != value || value == INFINITY) continue;
        }
        for (int threads : {1, 2}) {
          focal::set_num_threads(threads);
          const float shown = variant == 4 ? (value > 1 ? 2.0f : -2.0f) : value;
          expect_error(fmt("dense label range C=%lld variant=%d threads=%d", static_cast<long long>(C), variant, threads),
                       run_softmax(b, threads == 1).error,
                       "FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL: labels[" + std::to_string(bad) + "] = " +
                           (shown != shown ? std::string("NaN") : shown == INFINITY ? std::string("Infinity") : fmt("%g", shown)));
        }
      }
      // The bounds themselves are fine.
      SoftmaxCase edge = c;
      if (!edge.dense.empty()) {
        edge.dense[bad] = 0.0f;
        edge.dense[bad + 1] = 1.0f;
      }
      ++g_checks;
      if (!run_softmax(edge, true).error.empty()) fail(fmt("dense labels 0 and 1 refused (C=%lld)", static_cast<long long>(C)));
    }
  }
  focal::set_num_threads(2);
  rng = saved_rng;
}

// NaN in, NaN out: a NaN logit gives a NaN loss and gradient for every elementwise loss, at every
// target (0, 1, soft), on the vector and the double forms, whatever clip or branch the loss has.
void test_nan_logits() {
  using focal::ElementwiseLoss;
  for (ElementwiseLoss loss : {ElementwiseLoss::kFocal, ElementwiseLoss::kVarifocal,
                               ElementwiseLoss::kQualityFocal, ElementwiseLoss::kAsymmetric}) {
    for (double gamma : {2.0, 20.0}) {  // 20: past kMaxVectorExponent, the double form only
      std::vector<float> x(40, 0.5f), y(40, 0.0f), l(40), gr(40);
      for (int i = 0; i < 40; ++i) y[i] = i % 3 == 0 ? 0.0f : i % 3 == 1 ? 1.0f : 0.3f;
      for (int i : {0, 1, 2, 17, 18, 19, 39}) x[i] = NAN;
      focal::SigmoidElementwiseArgs a;
      a.count = 40;
      a.logits = x.data();
      a.labels = y.data();
      a.loss = loss;
      a.gamma = gamma;
      a.beta = gamma;
      a.gamma_pos = gamma;
      a.gamma_neg = gamma;
      a.loss_out = l.data();
      for (bool grad : {false, true}) {
        a.grad_out = grad ? gr.data() : nullptr;
        ++g_checks;
        if (!focal::sigmoid_elementwise_loss(a).ok()) fail("NaN logits: unexpected error");
        for (int i : {0, 1, 2, 17, 18, 19, 39}) {
          ++g_checks;
          if (!std::isnan(l[i]) || (grad && !std::isnan(gr[i])))
            fail(fmt("NaN logit, loss=%d gamma=%g target %g: loss %g grad %g", static_cast<int>(loss), gamma, y[i], l[i],
                     grad ? gr[i] : NAN));
        }
        ++g_checks;
        if (!std::isfinite(l[3]) || !std::isfinite(l[5])) fail("NaN logits must not disturb their neighbours");
      }
    }
  }
}

// The probability hint (focal_loss.h): raised by inputs that look like probabilities, never by
// logits, taken once, and not raised while disarmed.
void test_probability_hint() {
  focal::take_probability_hint();
  SoftmaxCase c = random_case(50, 4, 2.0f);
  ++g_checks;
  if (!run_softmax(c, true).error.empty() || focal::take_probability_hint()) fail("hint: logits raised it");
  SoftmaxCase probs = c;
  for (int64_t r = 0; r < c.rows; ++r) {
    double s = 0;
    for (int64_t j = 0; j < 4; ++j) s += std::exp(static_cast<double>(c.logits[r * 4 + j]));
    for (int64_t j = 0; j < 4; ++j) probs.logits[r * 4 + j] = static_cast<float>(std::exp(static_cast<double>(c.logits[r * 4 + j])) / s);
  }
  ++g_checks;
  if (!run_softmax(probs, false).error.empty() || !focal::take_probability_hint() || focal::take_probability_hint())
    fail("hint: softmax probabilities did not raise it exactly once");
  SoftmaxCase later = probs;  // only a later row is not a probability row
  later.logits[40 * 4 + 1] = 3.0f;
  run_softmax(later, false);
  ++g_checks;
  if (focal::take_probability_hint()) fail("hint: raised though row 40 is not probabilities");
  SoftmaxCase as_probs = probs;
  as_probs.from_logits = false;
  run_softmax(as_probs, false);
  ++g_checks;
  if (focal::take_probability_hint()) fail("hint: raised with from_logits false");
  focal::set_probability_check(false);
  run_softmax(probs, false);
  ++g_checks;
  if (focal::take_probability_hint()) fail("hint: raised while disarmed");
  focal::set_probability_check(true);
  // Elementwise: >= 32 values in [0, 1], some inside, not all equal.
  std::vector<float> x(64), y(64, 1.0f), l(64);
  for (int i = 0; i < 64; ++i) x[i] = static_cast<float>(i) / 64.0f;
  focal::SigmoidElementwiseArgs a;
  a.count = 64;
  a.logits = x.data();
  a.labels = y.data();
  a.loss_out = l.data();
  focal::sigmoid_elementwise_loss(a);
  ++g_checks;
  if (!focal::take_probability_hint()) fail("hint: sigmoid probabilities did not raise it");
  for (auto& v : x) v = 0.0f;  // all equal: logits of 0 are common at initialisation
  focal::sigmoid_elementwise_loss(a);
  x[63] = 0.5f;
  a.count = 31;  // too few
  focal::sigmoid_elementwise_loss(a);
  a.count = 64;
  x[10] = -0.01f;
  focal::sigmoid_elementwise_loss(a);
  ++g_checks;
  if (focal::take_probability_hint()) fail("hint: raised by constant, too few or negative values");
}

const std::pair<const char*, void (*)()> kTests[] = {
    {"test_softmax_random", test_softmax_random},
    {"test_softmax_extreme", test_softmax_extreme},
    {"test_softmax_ignore_index", test_softmax_ignore_index},
    {"test_softmax_probabilities", test_softmax_probabilities},
    {"test_softmax_errors", test_softmax_errors},
    {"test_error_fields", test_error_fields},
    {"test_softmax_thread_identity", test_softmax_thread_identity},
    {"test_softmax_lane_blocks", test_softmax_lane_blocks},
    {"test_softmax_family", test_softmax_family},
    {"test_sigmoid", test_sigmoid},
    {"test_family", test_family},
    {"test_integer_labels", test_integer_labels},
    {"test_scale", test_scale},
    {"test_dense_label_range", test_dense_label_range},
    {"test_nan_logits", test_nan_logits},
    {"test_probability_hint", test_probability_hint},
};

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows in CI logs as it happens
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reduced") == 0) {
      g_reference_stride = 16;
    } else {
      std::fprintf(stderr, "usage: kernel_test [--reduced]\n");
      return 2;
    }
  }
  std::printf("default simd_level=%s threads=%d%s\n", focal::simd_level(), focal::num_threads(),
              g_reference_stride > 1 ? " (reduced: a sample of the results checked against the reference)" : "");
  for (const char* level : {"generic", "avx2", "avx512"}) {
    if (!focal::detail::force_kernels(level)) {
      std::printf("-- %s: not supported by this CPU, skipped\n", level);
      continue;
    }
    const int before = g_failures;
    focal::set_num_threads(2);
    for (const auto& [name, test] : kTests) {
      const auto start = std::chrono::steady_clock::now();
      test();
      // Where the time goes under emulation (--reduced); not a check.
      if (g_reference_stride > 1) {
        std::printf("   %s: %.1f s\n", name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    }
    std::printf("-- %s: %d failures\n", level, g_failures - before);
  }
  std::printf("family values, worst relative error against long double (all ISAs): varifocal %.2e, "
              "quality focal %.2e, asymmetric %.2e\n", g_family_worst[1], g_family_worst[2], g_family_worst[3]);
  std::printf("%d checks, %d failures\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
