// Softmax focal loss one row at a time: the row passes (max, exps, scaling), the special rows
// (NaN, +Inf), and the sparse-label row kernel. docs/DESIGN.md#softmax-focal-loss
#ifndef TFJS_FOCAL_LOSS_KERNELS_SOFTMAX_ROW_H_
#define TFJS_FOCAL_LOSS_KERNELS_SOFTMAX_ROW_H_

#include "kernels/vector_math.h"

namespace focal {
namespace detail {
namespace FOCAL_ISA {
namespace {

// ---------------------------------------------------------------------------------------------
// Row passes.

// Pass 1: max of the row. NaN is not tracked here (the exp pass propagates it into the row sum,
// which is checked); +Inf and an all -Inf row are (false: see poison_row).
inline bool row_max(const float* z, int64_t C, float* out) {
  VF m0 = set1(-kInf), m1 = set1(-kInf);
  int64_t j = 0;
  for (; j + 2 * W <= C; j += 2 * W) {
    m0 = max(m0, loadu(z + j));
    m1 = max(m1, loadu(z + j + W));
  }
  for (; j + W <= C; j += W) m0 = max(m0, loadu(z + j));
  if (j < C) m0 = max(m0, load_partial(z + j, static_cast<int>(C - j), -kInf));
  const float m = hmax(max(m0, m1));
  *out = m;
  return m == m && m != kInf && m != -kInf;
}

// A row with a NaN logit, or only -Inf logits, has no defined softmax: its loss and gradient are
// NaN, as TensorFlow's softmax cross-entropy gives (NaN propagates; the other rows are unaffected).
inline void poison_row(const SoftmaxFocalArgs& a, int64_t row) {
  a.loss_out[row] = __builtin_nanf("");
  if (a.grad_out) {
    const VF nan = set1(__builtin_nanf(""));
    float* g = a.grad_out + row * a.classes;
    int64_t j = 0;
    for (; j + W <= a.classes; j += W) storeu(g + j, nan);
    if (j < a.classes) store_partial(g + j, nan, static_cast<int>(a.classes - j));
  }
}

// A row whose max is +Inf: the limit of the formulas, as the float64 reference evaluates them
// (p = 1 for a single +Inf class, 0 for the others): the loss is NaN if the +Inf class has label
// weight (inf - inf), +Inf if another class has (log 0), and NaN with NaN logits or several +Inf.
// The gradient row is NaN. `target` is the sparse label, or -1 for dense labels.
inline void infinite_row(const SoftmaxFocalArgs& a, int64_t row, int32_t target) {
  const int64_t C = a.classes;
  const float* z = a.logits + row * C;
  int64_t k = -1;
  bool nan = false;
  for (int64_t j = 0; j < C; ++j) {
    if (z[j] != z[j]) nan = true;
    if (z[j] == kInf) {
      if (k >= 0) nan = true;
      k = j;
    }
  }
  const double ls = a.label_smoothing, ls_c = ls / static_cast<double>(C);
  double loss = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    const double y = a.dense_labels ? static_cast<double>(a.dense_labels[row * C + j]) * (1.0 - ls) + ls_c
                                    : (j == target ? 1.0 - ls : 0.0) + ls_c;
    if (y == 0.0) continue;
    const double lp = (nan || j == k) ? __builtin_nan("") : -__builtin_inf();
    loss -= (a.alpha ? a.alpha[j] : a.alpha_scalar) * y * lp;
  }
  poison_row(a, row);
  a.loss_out[row] = static_cast<float>(loss);
}

inline int64_t first_index_of(const float* z, int64_t C, float m) {
  const VF vm = set1(m);
  int64_t j = 0;
  for (; j + W <= C; j += W) {
    const MF hit = eq(loadu(z + j), vm);
    if (any(hit)) return j + first_lane(hit);
  }
  for (; j < C; ++j)
    if (z[j] == m) return j;
  return 0;  // unreachable: m is an element of z
}

// A later row's inputs, brought into L1 while this row's exps are computed (null: nothing).
// The row kernels read a row in three passes: the max pass streams it from memory, the exp and
// gradient passes work in L1. Without help the memory sits idle during the two compute passes (the
// hardware prefetchers stop at page boundaries, about one row of 1000 classes). Prefetching the
// next rows' logits (and dense labels) from within the exp pass overlaps memory with compute. The
// gradient rows are not prefetched for writing.
struct RowPrefetch {
  const float* logits = nullptr;
  const float* labels = nullptr;
};

// How far ahead rows are prefetched: about 4 KB of logits, at least one row.
constexpr int64_t kPrefetchAheadFloats = 1024;
inline RowPrefetch prefetch_for(const SoftmaxFocalArgs& a, int64_t row, int64_t row_end) {
  const int64_t C = a.classes;
  const int64_t ahead = row + (C >= kPrefetchAheadFloats ? 1 : kPrefetchAheadFloats / (C > 0 ? C : 1));
  RowPrefetch pf;
  if (ahead < row_end) {
    pf.logits = a.logits + ahead * C;
    if (a.dense_labels) pf.labels = a.dense_labels + ahead * C;
  }
  return pf;
}

constexpr int kFloatsPerCacheLine = 16;  // 64-byte lines

// exp(z_j - m) for the 4 W classes from j: stored to e + j (kStore), and summed over all but
// class `skip` (no class left out if skip is outside the four vectors). The same classes of the
// row in `pf` are prefetched.
template <bool kCompensated, bool kStore>
FOCAL_INLINE VF exp_quad(const float* z, float* e, int64_t j, VF vm, int64_t skip, RowPrefetch pf) {
  if (pf.logits) {
    for (int k = 0; k < 4 * W; k += kFloatsPerCacheLine) {
      __builtin_prefetch(pf.logits + j + k, 0, 3);
      if (pf.labels) __builtin_prefetch(pf.labels + j + k, 0, 3);
    }
  }
  VF v[4];
#pragma GCC unroll 4
  for (int u = 0; u < 4; ++u) {
    const VF zv = loadu(z + j + u * W);
    v[u] = kCompensated ? vexp_diff(zv, vm) : vexp_diff_fast(zv, vm);
    if (kStore) storeu(e + j + u * W, v[u]);
  }
#pragma GCC unroll 4
  for (int u = 0; u < 4; ++u) {
    if (skip >= j + u * W && skip < j + (u + 1) * W) {
      v[u] = zero_unless(not_lane_mask(static_cast<int>(skip - j - u * W)), v[u]);
    }
  }
  // Two float additions per term at most (relative error <= 2^-23); the caller sums in double.
  return add(add(v[0], v[1]), add(v[2], v[3]));
}

template <bool kCompensated, bool kStore>
inline double exp_pass_impl(const float* z, int64_t C, float m, float* e, int64_t skip, RowPrefetch pf) {
  const VF vm = set1(m);
  SumD sum;
  const int64_t quads_end = C - C % (4 * W);
  // Only the group of four vectors holding `skip` has a lane to leave out: the loops around it
  // carry no per-vector test.
  const int64_t skip_quad = skip >= 0 && skip < quads_end ? skip - skip % (4 * W) : quads_end;
  int64_t j = 0;
  for (; j < skip_quad; j += 4 * W) sum.add(exp_quad<kCompensated, kStore>(z, e, j, vm, -1, pf));
  if (j < quads_end) {
    sum.add(exp_quad<kCompensated, kStore>(z, e, j, vm, skip, pf));
    for (j += 4 * W; j < quads_end; j += 4 * W) sum.add(exp_quad<kCompensated, kStore>(z, e, j, vm, -1, pf));
  }
  for (; j < C; j += W) {
    const int n = C - j < W ? static_cast<int>(C - j) : W;
    // Lanes past the row are exp(-inf) = 0.
    const VF zv = n == W ? loadu(z + j) : load_partial(z + j, n, -kInf);
    VF a = kCompensated ? vexp_diff(zv, vm) : vexp_diff_fast(zv, vm);
    if (kStore) {
      if (n == W) storeu(e + j, a);
      else store_partial(e + j, a, n);
    }
    if (skip >= j && skip < j + W) a = zero_unless(not_lane_mask(static_cast<int>(skip - j)), a);
    sum.add(a);
  }
  return sum.total();
}

// Pass 2: e_j = exp(z_j - m) into `e` (if not null); returns the sum over j != skip in double.
// kCompensated: exps accurate to ~1 ulp whatever |z - m|. Needed when a class at the max carries
// label weight: then 1 - p of that class is (sum of the other exps) / S, and that sum's relative
// accuracy goes straight into the loss (and is multiplied by gamma). Otherwise the sum only enters
// through log S with S >= 1 and p <= 1/2, where the uncompensated exps are accurate enough and
// save a fifth of the work.
template <bool kCompensated>
inline double exp_pass(const float* z, int64_t C, float m, float* e, int64_t skip, RowPrefetch pf) {
  return e ? exp_pass_impl<kCompensated, true>(z, C, m, e, skip, pf)
           : exp_pass_impl<kCompensated, false>(z, C, m, e, skip, pf);
}

inline void fill_zero(float* p, int64_t n) {
  const VF z = set1(0.0f);
  int64_t j = 0;
  for (; j + W <= n; j += W) storeu(p + j, z);
  if (j < n) store_partial(p + j, z, static_cast<int>(n - j));
}

// g_j = e_j * k (in place).
inline void scale_pass(float* g, int64_t C, float k) {
  const VF vk = set1(k);
  int64_t j = 0;
  for (; j + 2 * W <= C; j += 2 * W) {
    storeu(g + j, mul(loadu(g + j), vk));
    storeu(g + j + W, mul(loadu(g + j + W), vk));
  }
  for (; j < C; j += W) {
    const int n = C - j < W ? static_cast<int>(C - j) : W;
    store_partial(g + j, mul(load_partial(g + j, n, 0.0f), vk), n);
  }
}

// ---------------------------------------------------------------------------------------------
// Sparse labels, no label smoothing: L = -alpha_t (1 - p_t)^gamma log p_t,
// dL/dz_j = c (delta_jt - p_j) with c = alpha_t d (focal_terms).

inline void sparse_row(const SoftmaxFocalArgs& a, int64_t row, const Gamma& gm, RowPrefetch pf = {}) {
  const int64_t C = a.classes;
  const float* z = a.logits + row * C;
  float* g = a.grad_out ? a.grad_out + row * C : nullptr;
  const int32_t t = a.sparse_labels[row];
  if (a.has_ignore_index && t == a.ignore_index) {
    a.loss_out[row] = 0.0f;
    if (g) fill_zero(g, C);
    return;
  }
  float mf;
  if (!row_max(z, C, &mf)) {
    if (mf == kInf) infinite_row(a, row, t);
    else poison_row(a, row);
    return;
  }
  const double m = mf;
  // If the target is a max, leave it out of the sum: then 1 - p_t = others / (1 + others) and
  // log p_t = -log1p(others) keep full precision as p_t -> 1.
  const bool t_is_max = z[t] == mf;
  const double others =
      t_is_max ? exp_pass<true>(z, C, mf, g, t, pf) : exp_pass<false>(z, C, mf, g, -1, pf);
  if (others != others) {  // a NaN logit
    poison_row(a, row);
    return;
  }
  double S, lp, p, q;
  if (t_is_max) {
    S = 1.0 + others;
    lp = -log1p(others);
    p = 1.0 / S;
    q = others / S;
  } else {
    S = others;  // includes the max's exp(0) = 1, so S >= 1
    lp = (static_cast<double>(z[t]) - m) - log(S);
    p = exp(lp);
    q = 1.0 - p;  // p < 1/2 here
  }
  const double alpha_t = a.alpha ? a.alpha[t] : a.alpha_scalar;
  double f, d;
  focal_terms(lp, p, q, gm, &f, &d);
  a.loss_out[row] = static_cast<float>(alpha_t * f);
  if (!g) return;
  const double c = alpha_t * d;
  scale_pass(g, C, static_cast<float>(-c / S));
  g[t] = static_cast<float>(c * q);
}

}  // namespace
}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_KERNELS_SOFTMAX_ROW_H_
