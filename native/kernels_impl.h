// The kernels, written once against the primitives of simd_<isa>.h and compiled once per
// instruction set. Included by kernels_{generic,avx2,avx512}.cc after their simd header, with
// FOCAL_ISA set to the ISA namespace. Everything lives in focal::detail::FOCAL_ISA; helpers have
// internal linkage, and no std:: templates are used (ODR safety across differently compiled TUs).
//
// Softmax row algorithm (logits path), one row at a time so the row stays in L1:
//   pass 1  max over the row (reads the row from memory; NaN/+Inf detection on the side)
//   pass 2  e_j = exp(z_j - m), written into the gradient row, summed in double
//   scalar  per-row loss and gradient scale in double (log1p/pow/...)
//   pass 3  gradient = e_j * scale over the row still in L1, one element fixed up
// Exp is computed once per element. See DESIGN.md for the mathematics.
#include <math.h>
#include <stdint.h>

#include "kernels.h"

#ifndef FOCAL_ISA
#error "define FOCAL_ISA before including kernels_impl.h"
#endif

namespace focal {
namespace detail {
namespace FOCAL_ISA {
namespace {

constexpr int W = kLanes;
#define FOCAL_INLINE inline __attribute__((always_inline))
constexpr float kInf = __builtin_inff();

// ---------------------------------------------------------------------------------------------
// Vector exp and log (Cephes single precision polynomials, about 1-2 ulp on the ranges used).

// exp(xc + err) for xc already clamped to [kExpMinArg, 88.37]; in_range: lanes whose true
// argument is >= kExpMinArg or NaN (the others underflow to 0, and their err is ignored; NaN
// stays NaN).
// exp(x) = 2^n exp(r), r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 split in two for an exact
// reduction), exp(r) by a degree-6 polynomial fitted by Remez for minimal relative error
// (2.6e-9, far below float rounding; 6 FMAs in Horner form). About 1 ulp overall.
FOCAL_INLINE VF exp_reduced(VF xc, MF in_range, VF err, bool has_err) {
  const VF n = round_nearest(mul(xc, set1(1.44269504088896341f)));
  VF r = fnma(n, set1(0.693359375f), xc);
  r = fnma(n, set1(-2.12194440e-4f), r);
  if (has_err) r = add_if(in_range, r, err);
  VF y = fma(set1(1.4061240943421014e-3f), r, set1(8.3790111606123761e-3f));
  y = fma(y, r, set1(4.1664777289192912e-2f));
  y = fma(y, r, set1(1.6666365441313643e-1f));
  y = fma(y, r, set1(5.0000004343770578e-1f));
  y = fma(y, r, set1(1.0000000496403701f));
  y = fma(y, r, set1(1.0f));
  return exp_finish(y, n, in_range);
}

// exp(x) for x <= 88.37; 0 for x = -inf.
FOCAL_INLINE VF vexp(VF x) {
  const VF xc = max(min(x, set1(88.3762626647949f)), set1(kExpMinArg));
  return exp_reduced(xc, nlt(x, set1(kExpMinArg)), xc, false);
}

// exp(z - m) for z <= m, with the rounding error of the float subtraction carried into the
// reduced argument (TwoSum): for z - m = -30 that rounding alone would be a relative error of 2e-6
// in the result, and 1 - p_t of a confident prediction is a sum of such small exps.
FOCAL_INLINE VF vexp_diff(VF z, VF m) {
  const VF d = sub(z, m);
  const VF zz = add(d, m);  // TwoSum(z, -m): d + err == z - m exactly
  const VF mm = sub(zz, d);
  const VF err = add(sub(z, zz), sub(mm, m));
  // z = -inf (masked class, tail lane): d = -inf is out of range, so err (NaN) is not used and
  // the result is 0. z = NaN: d = NaN counts as in range and the NaN reaches the row sum, which
  // the row kernels check. (x86 max returns its second operand if either is NaN.)
  return exp_reduced(max(set1(kExpMinArg), d), nlt(d, set1(kExpMinArg)), err, true);
}

// exp(z - m) without the compensation: relative error up to |z - m| * 6e-8 from the rounding of
// z - m. Enough wherever no result depends on the relative accuracy of a sum of small exps (see
// exp_pass).
FOCAL_INLINE VF vexp_diff_fast(VF z, VF m) {
  const VF d = sub(z, m);
  return exp_reduced(max(set1(kExpMinArg), d), nlt(d, set1(kExpMinArg)), d, false);
}

// log(x) for x >= 0: -inf at 0, correct for subnormal x. (Negative or NaN x do not occur.)
inline VF vlog(VF x) {
  // Subnormals: scale by 2^23 first so the exponent/mantissa split sees a normal number.
  const MF tiny = lt(x, set1(1.17549435e-38f));
  const VF xs = select(tiny, mul(x, set1(8388608.0f)), x);
  VF mant, expo;
  frexp12(xs, &mant, &expo);
  expo = select(tiny, sub(expo, set1(23.0f)), expo);
  // mant in [1, 2); use f = mant - 1 on [sqrt(1/2), sqrt(2)) for the polynomial.
  const MF big = gt(mant, set1(1.41421356237309505f));
  const VF f = select(big, fma(mant, set1(0.5f), set1(-1.0f)), sub(mant, set1(1.0f)));
  const VF e = select(big, add(expo, set1(1.0f)), expo);
  const VF z = mul(f, f);
  VF y = set1(7.0376836292e-2f);
  y = fma(y, f, set1(-1.1514610310e-1f));
  y = fma(y, f, set1(1.1676998740e-1f));
  y = fma(y, f, set1(-1.2420140846e-1f));
  y = fma(y, f, set1(1.4249322787e-1f));
  y = fma(y, f, set1(-1.6668057665e-1f));
  y = fma(y, f, set1(2.0000714765e-1f));
  y = fma(y, f, set1(-2.4999993993e-1f));
  y = fma(y, f, set1(3.3333331174e-1f));
  y = mul(mul(y, f), z);
  y = fma(e, set1(-2.12194440e-4f), y);
  y = fnma(z, set1(0.5f), y);
  VF r = add(f, y);
  r = fma(e, set1(0.693359375f), r);
  return select(eq(x, set1(0.0f)), set1(-kInf), r);
}

// log(1 + x) for x >= 0 (Goldberg: log(u) * x / (u - 1) with u = 1 + x rounded).
inline VF vlog1p(VF x) {
  const VF u = add(x, set1(1.0f));
  const VF d = sub(u, set1(1.0f));
  const MF exact = eq(d, set1(0.0f));
  return select(exact, x, mul(vlog(u), div(x, select(exact, set1(1.0f), d))));
}

// ---------------------------------------------------------------------------------------------
// gamma handling shared by scalar and vector code.

struct Gamma {
  double g;
  float gf;
  int integer;   // gamma as an integer in [0, 16], or -1
  int quarters;  // 4 gamma as an integer in [0, 64], or -1
};

inline Gamma make_gamma(double g) {
  Gamma r;
  r.g = g;
  r.gf = static_cast<float>(g);
  r.integer = (g == floor(g) && g <= 16.0) ? static_cast<int>(g) : -1;
  r.quarters = (4.0 * g == floor(4.0 * g) && g <= 16.0) ? static_cast<int>(4.0 * g) : -1;
  return r;
}

inline double pow_gamma(double q, const Gamma& gm) {
  switch (gm.integer) {
    case 0: return 1.0;  // also at q == 0
    case 1: return q;
    case 2: return q * q;
    case 3: return q * q * q;
    default: return pow(q, gm.g);
  }
}

// q^gamma for q in [0, 1] lanes, float. Integer gamma by multiplication (exact to a few ulp);
// otherwise exp(gamma log q), which is accurate to ~|gamma log q| * 6e-8 relative: callers use
// it only where q >= 1/2.
inline VF vpow_gamma(VF q, const Gamma& gm) {
  if (gm.integer >= 0) {
    VF r = set1(1.0f), b = q;
    for (int e = gm.integer; e > 0; e >>= 1) {
      if (e & 1) r = mul(r, b);
      b = mul(b, b);
    }
    return r;
  }
  return vexp(mul(set1(gm.gf), vlog(q)));
}

// q^gamma accurate to a few ulp for any q in [0, 1] (where gamma log q can be large): integer and
// quarter-integer gamma (0.5, 1.5, 2.5, 0.25, ...) by products of q, sqrt(q), sqrt(sqrt(q));
// any other gamma by double-precision pow per lane (slower, exact).
inline VF vpow_gamma_accurate(VF q, const Gamma& gm) {
  if (gm.quarters >= 0) {
    VF r = set1(1.0f), b = q;
    for (int e = gm.quarters >> 2; e > 0; e >>= 1) {
      if (e & 1) r = mul(r, b);
      b = mul(b, b);
    }
    const int frac = gm.quarters & 3;
    if (frac) {
      const VF s = sqrt(q);
      if (frac & 2) r = mul(r, s);
      if (frac & 1) r = mul(r, sqrt(s));
    }
    return r;
  }
  float lanes[W];
  storeu(lanes, q);
  for (int i = 0; i < W; ++i) lanes[i] = static_cast<float>(pow(static_cast<double>(lanes[i]), gm.g));
  return loadu(lanes);
}

// f = -(1 - p)^gamma log p and d = df/dlog p = q^gamma (gamma p r - 1), r = log p / q -> -1 as
// p -> 1, from lp = log p, p and q = 1 - p each computed without cancellation (scalar, double).
inline void focal_terms(double lp, double p, double q, const Gamma& gm, double* f, double* d) {
  const double mod = pow_gamma(q, gm);
  const double r = q > 0.0 ? lp / q : -1.0;
  const double pr = p > 0.0 ? p * r : 0.0;
  *f = -mod * lp;
  *d = mod * (gm.g * pr - 1.0);
}

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
// hardware prefetchers stop at page boundaries, about one row of 1000 classes), so with two
// threads on a memory-bound shape the time was about the sum of the two. Prefetching the next
// rows' logits (and dense labels) from within the exp pass overlaps them: at 4096 x 1000 with 2
// threads, sparse labels, 6-22% faster when memory was slow, 2-6% slower when the data stayed in L3
// (A/B runs on the 2-core VM). Prefetching the gradient rows for writing was measured slower.
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

// ---------------------------------------------------------------------------------------------
// Sparse labels, no label smoothing, few classes: one row per lane, kLanes rows at a time.
//
// With few classes a row is a chain of dependent steps (max, exp, horizontal sums, scalar log and
// exp, divisions, a masked tail store) whose latency, not the vector work, sets the time: about
// 53 ns a row at C = 20 (2.6 ns per element, against 0.4 at C = 1000; 1 thread, AVX-512). Here
// lane i of every vector holds row row0 + i: the passes over the classes are plain vertical
// vector code on the block transposed in registers, the per-row terms are computed for kLanes
// rows at once in float (every quantity is computed without cancellation, as in sparse_row, so
// float keeps the loss and gradient within a few ulp of the float64 reference), and the gradient
// is written over the block's contiguous kLanes x C floats with full-width stores: 23 ns a row at
// C = 20. Rows that need the special cases of sparse_row (ignored label, non-finite logits) are
// redone by sparse_row. A row's result does not depend on which block or chunk it falls in (lanes
// never mix), so results stay bit-identical whatever the thread count.

// Up to this many classes rows go through the lane kernels (sparse_rows_lanes, dense_rows_lanes;
// a block is kept on the stack as kMaxLaneClasses vectors per operand).
constexpr int64_t kMaxLaneClasses = 64;

// Offsets of the rows of the block starting at row0 (n rows) from row0's: lanes past the last row
// read row row0 again, and their results are never stored.
inline void block_row_starts(int n, int64_t C, int32_t* row_start) {
  for (int i = 0; i < W; ++i) row_start[i] = static_cast<int32_t>((i < n ? i : 0) * C);
}

// column[j], lane i = base[row_start[i] + j] for j < C: the block transposed kLanes columns at a
// time, by row loads and an in-register transpose (vector gathers and scalar copies were both
// slower). column must have room for C rounded up to a multiple of kLanes.
inline void transpose_block(const float* base, const int32_t* row_start, int64_t C, VF* column) {
  // The next block's rows, a block ahead: the loads of a block stride over its rows, and the
  // hardware prefetchers alone left them waiting on memory (measured: the row loads took half of
  // the dense kernel's time at 65536 x 20). Prefetching past the end of the array is harmless.
  const float* next = base + W * C;
  for (int64_t k = 0; k < W * C; k += 64 / static_cast<int64_t>(sizeof(float))) __builtin_prefetch(next + k);
  for (int64_t j0 = 0; j0 < C; j0 += W) {
    const int width = C - j0 < W ? static_cast<int>(C - j0) : W;
    for (int i = 0; i < W; ++i) {
      const float* z = base + row_start[i] + j0;
      column[j0 + i] = width == W ? loadu(z) : load_partial(z, width, 0.0f);
    }
    transpose(column + j0);
  }
}

// The per-row terms of the sparse-label focal loss for kLanes rows at once, in float, from each
// row's max m, target logit zt and `others`, the sum of exp(z_j - m) over j != t. Every quantity is
// formed without cancellation (as sparse_row does in double), which keeps the loss and gradient
// within a few ulp of the float64 reference.
struct SparseTerms {
  VF loss;      // -alpha_t (1 - p_t)^gamma log p_t
  VF scale;     // gradient at j != t: scale * exp(z_j - m)  (= -c / S, c = alpha_t d)
  VF at_label;  // gradient at j = t: c (1 - p_t)
  VF S;         // sum of exp(z_j - m) over all j: NaN if a logit is NaN
};
inline SparseTerms sparse_terms(VF m, VF zt, VF others, VF alpha_t, const Gamma& gm) {
  const VF one = set1(1.0f), zero = set1(0.0f), minus_one = set1(-1.0f), vgamma = set1(gm.gf);
  const MF t_is_max = eq(zt, m);
  // t a max: S = 1 + others, log p_t = -log1p(others), 1 - p_t = others / S.
  // Otherwise: S = others + e_t >= 1 (it holds the max's exp(0)), p_t = e_t / S < 1/2.
  const VF e_t = vexp_diff(zt, m);
  const VF S = add(others, select(t_is_max, one, e_t));
  const VF inv_s = div(one, S);
  const VF lp = select(t_is_max, sub(zero, vlog1p(others)), sub(sub(zt, m), vlog(S)));
  const VF p = select(t_is_max, inv_s, mul(e_t, inv_s));
  const VF q = select(t_is_max, mul(others, inv_s), sub(one, p));
  // focal_terms, per lane: f = -q^gamma log p, d = q^gamma (gamma p r - 1), r = log p / q.
  const VF mod = vpow_gamma_accurate(q, gm);
  const MF q_pos = gt(q, zero);
  const VF r = select(q_pos, div(lp, select(q_pos, q, one)), minus_one);
  const VF pr = zero_unless(gt(p, zero), mul(p, r));
  const VF c = mul(alpha_t, mul(mod, fma(vgamma, pr, minus_one)));
  return {mul(alpha_t, mul(sub(zero, mod), lp)), mul(sub(zero, c), inv_s), mul(c, q), S};
}

// The sparse-label focal loss of one block of n rows (logits transposed in `column`, classes
// `label` in [0, C)): writes the rows' losses and gradients. A row with a NaN or infinite logit (a
// non-finite max or sum) gets nonfinite[i] = true (the function returns whether any has): its
// outputs must be recomputed by the row kernels.
inline bool sparse_block(const SoftmaxFocalArgs& a, int64_t row0, int n, const int32_t* row_start,
                         const int32_t* label, const int32_t* row_of, const VF* column,
                         const Gamma& gm, bool* nonfinite) {
  const int64_t C = a.classes;
  const float* zb = a.logits + row0 * C;
  int32_t label_index[W];
  for (int i = 0; i < W; ++i) label_index[i] = row_start[i] + label[i];
  VF m = set1(-kInf);
  for (int64_t j = 0; j < C; ++j) m = max(m, column[j]);
  const VF zt = gather(zb, label_index);
  const VF t = int_to_float(label);
  // Sum over j != t of exp(z_j - m). Compensated exps: when t is a max, 1 - p_t is this sum
  // over 1 + the sum, and its relative accuracy goes into the loss. Two float additions per
  // term at most (relative error <= 2^-23), then the sum in double, rounded to float once.
  SumD sum;
  int64_t j = 0;
  for (; j + 4 <= C; j += 4) {
    VF e[4];
    for (int u = 0; u < 4; ++u) {
      e[u] = zero_unless(neq(t, set1(static_cast<float>(j + u))), vexp_diff(column[j + u], m));
    }
    sum.add(add(add(e[0], e[1]), add(e[2], e[3])));
  }
  for (; j < C; ++j) sum.add(zero_unless(neq(t, set1(static_cast<float>(j))), vexp_diff(column[j], m)));
  const VF others = sum.lanes();
  const VF alpha_t = a.alpha ? gather(a.alpha, label) : set1(static_cast<float>(a.alpha_scalar));
  const SparseTerms terms = sparse_terms(m, zt, others, alpha_t, gm);
  store_partial(a.loss_out + row0, terms.loss, n);
  if (a.grad_out) {
    // dL/dz_j = c (delta_jt - p_j), c = alpha_t d: -c / S exp(z_j - m), and c q at j = t; over
    // the block's contiguous n x C floats, each lane's m and scale picked by its row.
    const VF scale = terms.scale;
    float* gb = a.grad_out + row0 * C;
    const int64_t block_floats = n * C;
    int64_t k = 0;
    for (; k + W <= block_floats; k += W) {
      const VF e = vexp_diff(loadu(zb + k), permute(m, row_of + k));
      storeu(gb + k, mul(e, permute(scale, row_of + k)));
    }
    if (k < block_floats) {
      const int rest = static_cast<int>(block_floats - k);
      const VF e = vexp_diff(load_partial(zb + k, rest, 0.0f), permute(m, row_of + k));
      store_partial(gb + k, mul(e, permute(scale, row_of + k)), rest);
    }
    float at_label[W];
    storeu(at_label, terms.at_label);
    for (int i = 0; i < n; ++i) gb[i * C + label[i]] = at_label[i];
  }
  const MF finite = mand(lt(abs(m), set1(kInf)), eq(terms.S, terms.S));
  if (!any(mand(mnot(finite), tail_mask(n)))) return false;
  float m_lanes[W], s_lanes[W];
  storeu(m_lanes, m);
  storeu(s_lanes, terms.S);
  for (int i = 0; i < W; ++i) nonfinite[i] = !(m_lanes[i] < kInf && m_lanes[i] > -kInf) || s_lanes[i] != s_lanes[i];
  return true;
}

// row_of[p]: the row (lane) of flat position p in a block of kLanes rows of C classes.
inline void block_row_of(int64_t C, int32_t* row_of) {
  for (int64_t p = 0; p < C * W; ++p) row_of[p] = static_cast<int32_t>(p / C);
}

// The sparse labels of the block's n rows into `label` (0 for ignored rows and lanes past n: a
// valid class to gather with); ignored rows get redo[i] = true. Returns whether any row is ignored.
inline bool block_sparse_labels(const SoftmaxFocalArgs& a, int64_t row0, int n, int32_t* label, bool* redo) {
  bool any_ignored = false;
  for (int i = 0; i < W; ++i) {
    const int32_t t = i < n ? a.sparse_labels[row0 + i] : 0;
    redo[i] = i < n && a.has_ignore_index && t == a.ignore_index;
    any_ignored |= redo[i];
    label[i] = redo[i] ? 0 : t;  // labels were validated: in [0, C) unless ignored
  }
  return any_ignored;
}

inline void sparse_rows_lanes(const SoftmaxFocalArgs& a, int64_t row_begin, int64_t row_end,
                              const Gamma& gm) {
  const int64_t C = a.classes;
  int32_t row_of[kMaxLaneClasses * W];
  block_row_of(C, row_of);
  VF column[kMaxLaneClasses + W];
  for (int64_t row0 = row_begin; row0 < row_end; row0 += W) {
    const int n = row_end - row0 < W ? static_cast<int>(row_end - row0) : W;
    int32_t row_start[W], label[W];
    bool redo[W];
    block_row_starts(n, C, row_start);
    bool any_redo = block_sparse_labels(a, row0, n, label, redo);
    transpose_block(a.logits + row0 * C, row_start, C, column);
    bool nonfinite[W];
    if (sparse_block(a, row0, n, row_start, label, row_of, column, gm, nonfinite)) {
      for (int i = 0; i < n; ++i) redo[i] = redo[i] || nonfinite[i];
      any_redo = true;
    }
    if (!any_redo) continue;
    // Ignored rows and rows with non-finite logits: sparse_row's special cases.
    for (int i = 0; i < n; ++i) {
      if (redo[i]) sparse_row(a, row0 + i, gm);
    }
  }
}

// Sparse labels, no label smoothing, more classes than the lane kernels take: the passes over a
// row's classes (max; exps into the gradient row) run one row at a time, as in sparse_row, but the
// per-row terms (log, exp, divisions, the focal power) are computed for kLanes rows at once by
// sparse_terms instead of in scalar double per row, whose libm calls and dependent divisions were
// about half of a row's fixed cost. A row's result does not depend on the other rows of its group,
// so results stay bit-identical whatever the thread count. Special rows (ignored label, non-finite
// logits) are redone by sparse_row.
inline void sparse_rows_grouped(const SoftmaxFocalArgs& a, int64_t row_begin, int64_t row_end,
                                const Gamma& gm) {
  const int64_t C = a.classes;
  for (int64_t row0 = row_begin; row0 < row_end; row0 += W) {
    const int n = row_end - row0 < W ? static_cast<int>(row_end - row0) : W;
    int32_t label[W];
    bool redo[W];
    bool any_redo = block_sparse_labels(a, row0, n, label, redo);
    // Lanes past n, and rows to redo, get harmless finite values (results not stored or overwritten).
    float m_lanes[W], zt_lanes[W], others_lanes[W];
    for (int i = 0; i < W; ++i) {
      m_lanes[i] = 0.0f;
      zt_lanes[i] = 0.0f;
      others_lanes[i] = 1.0f;
    }
    for (int i = 0; i < n; ++i) {
      if (redo[i]) continue;
      const int64_t row = row0 + i;
      const float* z = a.logits + row * C;
      float* g = a.grad_out ? a.grad_out + row * C : nullptr;
      const int32_t t = label[i];
      float mf;
      if (!row_max(z, C, &mf)) {
        redo[i] = any_redo = true;
        continue;
      }
      // The sum leaves the target out (sparse_terms adds it back); compensated exps when the
      // target is a max, as in sparse_row.
      const RowPrefetch pf = prefetch_for(a, row, row_end);
      const double others = z[t] == mf ? exp_pass<true>(z, C, mf, g, t, pf) : exp_pass<false>(z, C, mf, g, t, pf);
      if (others != others) {  // a NaN logit
        redo[i] = any_redo = true;
        continue;
      }
      m_lanes[i] = mf;
      zt_lanes[i] = z[t];
      others_lanes[i] = static_cast<float>(others);
    }
    const VF alpha_t = a.alpha ? gather(a.alpha, label) : set1(static_cast<float>(a.alpha_scalar));
    const SparseTerms terms = sparse_terms(loadu(m_lanes), loadu(zt_lanes), loadu(others_lanes), alpha_t, gm);
    store_partial(a.loss_out + row0, terms.loss, n);
    if (a.grad_out) {
      float scale[W], at_label[W];
      storeu(scale, terms.scale);
      storeu(at_label, terms.at_label);
      for (int i = 0; i < n; ++i) {
        if (redo[i]) continue;
        float* g = a.grad_out + (row0 + i) * C;
        scale_pass(g, C, scale[i]);
        g[label[i]] = at_label[i];
      }
    }
    if (!any_redo) continue;
    for (int i = 0; i < n; ++i) {
      if (redo[i]) sparse_row(a, row0 + i, gm);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Dense labels (or sparse labels with smoothing, as `target`):
//   L = -sum_j alpha_j y_j (1 - p_j)^gamma log p_j,  w_j = alpha_j y_j d_j,
//   dL/dz_k = w_k - p_k W (W = sum_j w_j); for the argmax a: w_a q_a - p_a (W - w_a).
// The argmax class (the only one whose p can be near 1) is done in scalar double; the others in
// float vectors, where q = 1 - p >= 1/2 has no cancellation. With one-hot labels (no smoothing)
// chunks whose labels are all zero are skipped.

struct DenseCtx {
  const float* z;
  const float* y;     // dense labels of the row, or null
  int32_t target;     // sparse target (with smoothing) when y is null
  const float* e;     // exp(z - m)
  float* w;           // scratch: w_j
  int64_t C, am;
  float m;
  float y_scale, y_add;
  bool skip_zero_chunks;
};

// Labels of one chunk after smoothing; lanes >= n are 0.
inline VF chunk_labels(const DenseCtx& c, int64_t j, int n) {
  if (c.y) {
    const VF y = n == W ? loadu(c.y + j) : load_partial(c.y + j, n, 0.0f);
    return zero_unless(tail_mask(n), fma(y, set1(c.y_scale), set1(c.y_add)));
  }
  VF y = set1(c.y_add);
  if (c.target >= j && c.target < j + W) y = select(lane_mask(static_cast<int>(c.target - j)), set1(c.y_add + c.y_scale), y);
  return zero_unless(tail_mask(n), y);
}

inline bool chunk_all_zero(const DenseCtx& c, int64_t j, int n) {
  if (!c.skip_zero_chunks) return false;
  const VF y = n == W ? loadu(c.y + j) : load_partial(c.y + j, n, 0.0f);
  return !any(neq(y, set1(0.0f)));
}

inline void dense_row(const SoftmaxFocalArgs& a, int64_t row, int32_t target, const Gamma& gm,
                      float* scratch_e, float* scratch_w, RowPrefetch pf) {
  const int64_t C = a.classes;
  const float* z = a.logits + row * C;
  float* g = a.grad_out ? a.grad_out + row * C : nullptr;
  float mf;
  if (!row_max(z, C, &mf)) {
    if (mf == kInf) infinite_row(a, row, target);
    else poison_row(a, row);
    return;
  }
  const int64_t am = first_index_of(z, C, mf);
  float* e = g ? g : scratch_e;
  // Label weight on the argmax class (the only one whose p can be near 1)?
  const double ls = a.label_smoothing;
  const float* y_row = a.dense_labels ? a.dense_labels + row * C : nullptr;
  const bool am_weighted = ls > 0.0 || (y_row ? y_row[am] != 0.0f : am == target);
  const double others =
      am_weighted ? exp_pass<true>(z, C, mf, e, am, pf) : exp_pass<false>(z, C, mf, e, am, pf);
  if (others != others) {  // a NaN logit
    poison_row(a, row);
    return;
  }
  const double S = 1.0 + others, log_s = log1p(others), inv_s = 1.0 / S;

  DenseCtx c;
  c.z = z;
  c.y = y_row;
  c.target = target;
  c.e = e;
  c.w = scratch_w;
  c.C = C;
  c.am = am;
  c.m = mf;
  c.y_scale = static_cast<float>(1.0 - ls);
  c.y_add = static_cast<float>(ls / static_cast<double>(C));
  c.skip_zero_chunks = c.y != nullptr && ls == 0.0;

  const VF vm = set1(mf), vlog_s = set1(static_cast<float>(log_s)), vinv_s = set1(static_cast<float>(inv_s));
  const VF one = set1(1.0f), zero = set1(0.0f), vgamma = set1(gm.gf), minus_one = set1(-1.0f);
  SumD lp_sum, w_sum;  // sum of alpha y mod log p (= -loss), and of w over j != am
  for (int64_t j = 0; j < C; j += W) {
    const int n = C - j < W ? static_cast<int>(C - j) : W;
    if (chunk_all_zero(c, j, n)) continue;
    const VF y = chunk_labels(c, j, n);
    const VF zv = n == W ? loadu(z + j) : load_partial(z + j, n, 0.0f);
    const VF ev = n == W ? loadu(e + j) : load_partial(e + j, n, 0.0f);
    const VF al = a.alpha ? (n == W ? loadu(a.alpha + j) : load_partial(a.alpha + j, n, 0.0f))
                          : set1(a.alpha_scalar);
    const VF lp = sub(sub(zv, vm), vlog_s);
    const VF p = mul(ev, vinv_s);
    const VF q = sub(one, p);
    const VF mod = vpow_gamma(q, gm);
    const VF pr = zero_unless(gt(p, zero), mul(p, div(lp, q)));
    MF valid = neq(y, zero);
    if (am >= j && am < j + W) valid = mand(valid, not_lane_mask(static_cast<int>(am - j)));
    const VF aym = mul(mul(al, y), mod);
    const VF w = zero_unless(valid, mul(aym, fma(vgamma, pr, minus_one)));
    lp_sum.add(zero_unless(valid, mul(aym, lp)));
    w_sum.add(w);
    if (n == W) storeu(scratch_w + j, w);
    else store_partial(scratch_w + j, w, n);
  }
  // The argmax class in double.
  double y_am;
  if (c.y) y_am = static_cast<double>(c.y[am]) * (1.0 - ls) + ls / static_cast<double>(C);
  else y_am = (am == target ? 1.0 - ls : 0.0) + ls / static_cast<double>(C);
  double f_am = 0.0, w_am = 0.0;
  const double q_am = others * inv_s;
  if (y_am != 0.0) {
    const double ay = (a.alpha ? a.alpha[am] : a.alpha_scalar) * y_am;
    double f, d;
    focal_terms(-log_s, inv_s, q_am, gm, &f, &d);
    f_am = ay * f;
    w_am = ay * d;
  }
  a.loss_out[row] = static_cast<float>(f_am - lp_sum.total());
  if (!g) return;
  const double w_others = w_sum.total();
  const VF kw = set1(static_cast<float>((w_am + w_others) * inv_s));
  for (int64_t j = 0; j < C; j += W) {
    const int n = C - j < W ? static_cast<int>(C - j) : W;
    const VF ev = n == W ? loadu(g + j) : load_partial(g + j, n, 0.0f);
    VF out;
    if (chunk_all_zero(c, j, n)) out = mul(ev, sub(zero, kw));
    else out = fnma(ev, kw, n == W ? loadu(scratch_w + j) : load_partial(scratch_w + j, n, 0.0f));
    if (n == W) storeu(g + j, out);
    else store_partial(g + j, out, n);
  }
  g[am] = static_cast<float>(w_am * q_am - inv_s * w_others);
}

// One row of the dense path: dense labels, or sparse labels with smoothing (an ignored label gives
// loss 0 and gradient 0).
inline void dense_path_row(const SoftmaxFocalArgs& a, int64_t row, const Gamma& gm, float* scratch_e,
                           float* scratch_w, RowPrefetch pf = {}) {
  if (a.dense_labels) {
    dense_row(a, row, -1, gm, scratch_e, scratch_w, pf);
    return;
  }
  const int32_t t = a.sparse_labels[row];
  if (a.has_ignore_index && t == a.ignore_index) {
    a.loss_out[row] = 0.0f;
    if (a.grad_out) fill_zero(a.grad_out + row * a.classes, a.classes);
    return;
  }
  dense_row(a, row, t, gm, scratch_e, scratch_w, pf);
}

// Whether the first n lanes of the block's transposed dense labels are one-hot (a single 1, zeros
// elsewhere); if so their classes go to `label` (0 for lanes past n).
inline bool one_hot_block(const VF* labels, int64_t C, int n, int32_t* label) {
  const VF zero = set1(0.0f), one = set1(1.0f);
  VF count = zero, index = zero;
  MF other = mnone();  // a nonzero label that is not 1 (NaN included)
  for (int64_t j = 0; j < C; ++j) {
    const MF nonzero = neq(labels[j], zero);
    other = mor(other, mand(nonzero, neq(labels[j], one)));
    count = add(count, zero_unless(nonzero, one));
    index = add(index, zero_unless(nonzero, set1(static_cast<float>(j))));
  }
  if (any(mand(mor(other, neq(count, one)), tail_mask(n)))) return false;
  float index_lanes[W];
  storeu(index_lanes, index);
  for (int i = 0; i < W; ++i) label[i] = i < n ? static_cast<int32_t>(index_lanes[i]) : 0;
  return true;
}

// Dense labels (or sparse labels with smoothing), few classes: one row per lane, kLanes rows at a
// time, for the reasons and in the way of sparse_rows_lanes. The formulas are dense_row's: the
// argmax class a (the only one whose p can be near 1) gets 1 - p_a = others / S and
// log p_a = -log1p(others) from the sum over the other classes, the others q = 1 - p >= 1/2.
// The gradient is computed by columns and transposed back tile by tile. A block of one-hot labels
// without smoothing is the sparse case, and goes through sparse_block (half the work). One-hot
// 65536 x 20, 1 thread: 78 ns a row with dense_row, 32 ns here.
inline void dense_rows_lanes(const SoftmaxFocalArgs& a, int64_t row_begin, int64_t row_end,
                             const Gamma& gm, float* scratch_e, float* scratch_w) {
  const int64_t C = a.classes;
  const double ls = a.label_smoothing;
  const VF y_scale = set1(static_cast<float>(1.0 - ls)), y_add = set1(static_cast<float>(ls / static_cast<double>(C)));
  const VF one = set1(1.0f), zero = set1(0.0f), minus_one = set1(-1.0f), vgamma = set1(gm.gf);
  int32_t row_of[kMaxLaneClasses * W];
  block_row_of(C, row_of);
  VF column[kMaxLaneClasses + W];    // logits, then the gradient, by column (lane i: row row0 + i)
  VF labels[kMaxLaneClasses + W];    // dense labels by column
  VF exps[kMaxLaneClasses];          // exp(z_j - m)
  VF weights[kMaxLaneClasses];       // w_j (dense_row)
  for (int64_t row0 = row_begin; row0 < row_end; row0 += W) {
    const int n = row_end - row0 < W ? static_cast<int>(row_end - row0) : W;
    int32_t row_start[W], label[W] = {};
    bool redo[W] = {};
    block_row_starts(n, C, row_start);
    bool any_redo = !a.dense_labels && block_sparse_labels(a, row0, n, label, redo);
    transpose_block(a.logits + row0 * C, row_start, C, column);
    if (a.dense_labels) {
      transpose_block(a.dense_labels + row0 * C, row_start, C, labels);
      bool nonfinite[W];
      if (ls == 0.0 && one_hot_block(labels, C, n, label)) {
        if (sparse_block(a, row0, n, row_start, label, row_of, column, gm, nonfinite)) {
          for (int i = 0; i < n; ++i) {
            if (nonfinite[i]) dense_path_row(a, row0 + i, gm, scratch_e, scratch_w);
          }
        }
        continue;
      }
    }
    VF m = set1(-kInf);
    for (int64_t j = 0; j < C; ++j) m = max(m, column[j]);
    VF am = set1(static_cast<float>(C));  // first class at the max
    for (int64_t j = C - 1; j >= 0; --j) am = select(eq(column[j], m), set1(static_cast<float>(j)), am);
    const VF t = int_to_float(label);
    // Sum of exp(z_j - m) over j != a; compensated exps, as the relative accuracy of this sum is
    // that of 1 - p_a. Two float additions per term at most, then double.
    SumD others_sum;
    for (int64_t j0 = 0; j0 < C; j0 += 4) {
      VF part = zero;
      for (int64_t j = j0; j < j0 + 4 && j < C; ++j) {
        exps[j] = vexp_diff(column[j], m);
        part = add(part, zero_unless(neq(am, set1(static_cast<float>(j))), exps[j]));
      }
      others_sum.add(part);
    }
    const VF others = others_sum.lanes();
    const VF S = add(one, others), inv_s = div(one, S);
    const VF log_s = vlog1p(others);
    const VF q_am = mul(others, inv_s);
    const VF mod_am = vpow_gamma_accurate(q_am, gm);  // q_am may be tiny: exact powers
    SumD lp_sum, w_others_sum;  // sum of alpha y mod log p (= -loss); sum of w over j != a
    VF w_am = zero;
    for (int64_t j = 0; j < C; ++j) {
      const VF vj = set1(static_cast<float>(j));
      const MF is_am = eq(am, vj);
      const VF y = a.dense_labels ? fma(labels[j], y_scale, y_add)
                                  : select(eq(t, vj), add(y_add, y_scale), y_add);
      const VF alpha = set1(a.alpha ? a.alpha[j] : static_cast<float>(a.alpha_scalar));
      const VF lp = select(is_am, sub(zero, log_s), sub(sub(column[j], m), log_s));
      const VF p = select(is_am, inv_s, mul(exps[j], inv_s));
      const VF q = select(is_am, q_am, sub(one, p));
      const VF mod = select(is_am, mod_am, vpow_gamma(q, gm));  // q >= 1/2 off the argmax
      const MF q_pos = gt(q, zero);
      const VF r = select(q_pos, div(lp, select(q_pos, q, one)), minus_one);
      const VF pr = zero_unless(gt(p, zero), mul(p, r));
      const MF weighted = neq(y, zero);  // (0 * log 0 of a -inf logit would be NaN)
      const VF aym = mul(mul(alpha, y), mod);
      const VF w = zero_unless(weighted, mul(aym, fma(vgamma, pr, minus_one)));
      lp_sum.add(zero_unless(weighted, mul(aym, lp)));
      w_others_sum.add(zero_unless(mnot(is_am), w));
      w_am = add(w_am, zero_unless(is_am, w));
      weights[j] = w;
    }
    store_partial(a.loss_out + row0, sub(zero, lp_sum.lanes()), n);
    if (a.grad_out) {
      // dL/dz_k = w_k - p_k W; at the argmax w_a q_a - p_a (W - w_a), W - w_a summed directly.
      const VF w_others = w_others_sum.lanes();
      const VF kw = mul(add(w_am, w_others), inv_s);
      const VF g_am = fnma(inv_s, w_others, mul(w_am, q_am));
      for (int64_t j = 0; j < C; ++j) {
        column[j] = select(eq(am, set1(static_cast<float>(j))), g_am, fnma(exps[j], kw, weights[j]));
      }
      float* gb = a.grad_out + row0 * C;
      for (int64_t j0 = 0; j0 < C; j0 += W) {
        const int width = C - j0 < W ? static_cast<int>(C - j0) : W;
        transpose(column + j0);
        for (int i = 0; i < n; ++i) {
          if (width == W) storeu(gb + i * C + j0, column[j0 + i]);
          else store_partial(gb + i * C + j0, column[j0 + i], width);
        }
      }
    }
    // Ignored rows and rows with a NaN or infinite logit (a non-finite max or sum): dense_row's
    // special cases.
    const MF finite = mand(lt(abs(m), set1(kInf)), eq(S, S));
    if (any(mand(mnot(finite), tail_mask(n)))) {
      float m_lanes[W], s_lanes[W];
      storeu(m_lanes, m);
      storeu(s_lanes, S);
      for (int i = 0; i < n; ++i) {
        redo[i] = redo[i] || !(m_lanes[i] < kInf && m_lanes[i] > -kInf) || s_lanes[i] != s_lanes[i];
      }
      any_redo = true;
    }
    if (!any_redo) continue;
    for (int i = 0; i < n; ++i) {
      if (redo[i]) dense_path_row(a, row0 + i, gm, scratch_e, scratch_w);
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Entry points.

void softmax_logits_rows(const SoftmaxFocalArgs& args, int64_t row_begin, int64_t row_end,
                         float* scratch, KernelError* /*error: logits rows cannot fail*/) {
  const Gamma gm = make_gamma(args.gamma);
  const bool dense = args.dense_labels != nullptr || args.label_smoothing > 0.0;
  const int64_t C = args.classes;
  float* scratch_e = scratch;
  float* scratch_w = scratch + softmax_scratch_floats(C);
  // (Non-temporal gradient stores were tried twice on the 2-core test VM, the second time with
  // the bench's interleaved copy evicting the caches: at 4096 x 1000, 2 threads, 1.5-1.7 ms against
  // 0.9-1.1 ms with ordinary stores. The gradient is written with ordinary stores, and is still in
  // cache for the op that reads it next.)
  if (!dense && C <= kMaxLaneClasses) {
    sparse_rows_lanes(args, row_begin, row_end, gm);
    return;
  }
  if (dense && C <= kMaxLaneClasses) {
    dense_rows_lanes(args, row_begin, row_end, gm, scratch_e, scratch_w);
    return;
  }
  if (!dense) {
    sparse_rows_grouped(args, row_begin, row_end, gm);
    return;
  }
  for (int64_t row = row_begin; row < row_end; ++row) {
    dense_path_row(args, row, gm, scratch_e, scratch_w, prefetch_for(args, row, row_end));
  }
}

namespace {

// Scalar double precision sigmoid focal loss, used for gamma > 3: the float vector code's relative
// error grows like gamma * 3e-7 (through q^gamma), which would exceed 1e-6 there.
void sigmoid_elements_double(const SigmoidFocalArgs& a, int64_t begin, int64_t end, const Gamma& gm,
                             KernelError* error) {
  const double ls = a.label_smoothing;
  for (int64_t i = begin; i < end; ++i) {
    const float xf = a.logits[i], yf = a.labels[i];
    if (!(yf >= 0.0f && yf <= 1.0f)) {
      error->code = InputError::kLabelOutOfRange;
      error->index = i;
      error->value = yf;
      return;
    }
    const double x = xf, y = yf * (1.0 - ls) + 0.5 * ls, y1 = (1.0 - yf) * (1.0 - ls) + 0.5 * ls;
    const double e = exp(-fabs(x));
    const double inv = 1.0 / (1.0 + e);
    const double p = x >= 0 ? inv : e * inv;
    const double pm = x >= 0 ? e * inv : inv;
    const double ce = (x >= 0 ? x * y1 : -x * y) + log1p(e);
    const double q = y * pm + y1 * p;
    const double alpha_t = a.class_balancing ? a.alpha * y + (1.0 - a.alpha) * y1 : 1.0;
    const double mod = pow_gamma(q, gm);
    a.loss_out[i] = static_cast<float>(alpha_t * ce * mod);
    if (a.grad_out) {
      const double ratio = q > 0.0 ? p * pm / q : 0.0;
      const double p_minus_y = p * y1 - y * pm;
      a.grad_out[i] = static_cast<float>(alpha_t * mod * (p_minus_y - gm.g * ratio * ce * (2.0 * y - 1.0)));
    }
  }
}

}  // namespace

void sigmoid_logits_elements(const SigmoidFocalArgs& a, int64_t begin, int64_t end,
                             KernelError* error) {
  const Gamma gm = make_gamma(a.gamma);
  if (gm.g > 3.0) {
    sigmoid_elements_double(a, begin, end, gm, error);
    return;
  }
  const float ls = static_cast<float>(a.label_smoothing);
  const VF y_scale = set1(1.0f - ls), y_add = set1(0.5f * ls);
  const VF one = set1(1.0f), zero = set1(0.0f), two = set1(2.0f), vgamma = set1(gm.gf);
  // alpha_t = alpha y + (1 - alpha)(1 - y) = (1 - alpha) + (2 alpha - 1) y, or 1.
  const VF at0 = set1(a.class_balancing ? static_cast<float>(1.0 - a.alpha) : 1.0f);
  const VF at1 = set1(a.class_balancing ? static_cast<float>(2.0 * a.alpha - 1.0) : 0.0f);
  for (int64_t i = begin; i < end; i += W) {
    const int n = end - i < W ? static_cast<int>(end - i) : W;
    const VF x = n == W ? loadu(a.logits + i) : load_partial(a.logits + i, n, 0.0f);
    const VF y0 = n == W ? loadu(a.labels + i) : load_partial(a.labels + i, n, 0.0f);
    // Labels in [0, 1] (NaN fails). A NaN logit gives a NaN loss and gradient for its element
    // (as TensorFlow's sigmoid cross-entropy), +-Inf follows the formula (NaN or Inf).
    const MF ok = mand(le(zero, y0), le(y0, one));
    if (any(mnot(ok))) {
      for (int64_t k = i; k < i + n; ++k) {
        const float yf = a.labels[k];
        if (!(yf >= 0.0f && yf <= 1.0f)) {
          error->code = InputError::kLabelOutOfRange;
          error->index = k;
          error->value = yf;
          return;
        }
      }
    }
    const VF y = fma(y0, y_scale, y_add);
    const VF y1 = fma(sub(one, y0), y_scale, y_add);  // 1 - y, without cancellation as y -> 1
    // p = sigmoid(x), pm = 1 - p = sigmoid(-x), each without cancellation.
    const VF e = vexp(sub(zero, abs(x)));
    const VF inv = div(one, add(one, e));
    const VF einv = mul(e, inv);
    const MF pos = le(zero, x);
    const VF p = select(pos, inv, einv);
    const VF pm = select(pos, einv, inv);
    // BCE with logits as a sum of non-negative terms: max(x, 0) - x y + log1p(exp(-|x|)).
    const VF ce = add(select(pos, mul(x, y1), mul(sub(zero, x), y)), vlog1p(e));
    const VF q = fma(y, pm, mul(y1, p));  // 1 - p_t
    const VF at = fma(at1, y, at0);
    const VF atm = mul(at, vpow_gamma_accurate(q, gm));
    const VF loss = mul(atm, ce);
    if (n == W) storeu(a.loss_out + i, loss);
    else store_partial(a.loss_out + i, loss, n);
    if (a.grad_out) {
      // dL/dx = alpha_t q^g [(p - y) - g (p pm / q) ce (2y - 1)]; p pm / q <= 1, and 0 at q == 0.
      const MF qpos = gt(q, zero);
      const VF ratio = zero_unless(qpos, div(mul(p, pm), select(qpos, q, one)));
      const VF p_minus_y = fnma(y, pm, mul(p, y1));
      const VF g = mul(atm, fnma(mul(vgamma, ratio), mul(ce, fma(two, y, set1(-1.0f))), p_minus_y));
      if (n == W) storeu(a.grad_out + i, g);
      else store_partial(a.grad_out + i, g, n);
    }
  }
}

void scale_rows(const float* grad, const float* dy, int64_t row_begin, int64_t row_end,
                int64_t classes, float* out) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const VF s = set1(dy[r]);
    const float* gr = grad + r * classes;
    float* o = out + r * classes;
    int64_t j = 0;
    for (; j + W <= classes; j += W) storeu(o + j, mul(s, loadu(gr + j)));
    if (j < classes) {
      const int n = static_cast<int>(classes - j);
      store_partial(o + j, mul(s, load_partial(gr + j, n, 0.0f)), n);
    }
  }
}

void scale_elements(const float* grad, const float* dy, int64_t begin, int64_t end, float* out) {
  int64_t i = begin;
  for (; i + W <= end; i += W) storeu(out + i, mul(loadu(dy + i), loadu(grad + i)));
  if (i < end) {
    const int n = static_cast<int>(end - i);
    store_partial(out + i, mul(load_partial(dy + i, n, 0.0f), load_partial(grad + i, n, 0.0f)), n);
  }
}

}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal
