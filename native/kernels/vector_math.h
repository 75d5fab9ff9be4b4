// Vector exp, log, log1p and powers of (1 - p), written once against the primitives of the
// simd_<isa>.h included before this header, and the scalar focal terms used by the row kernels.
// Numerics: docs/DESIGN.md#numerics.
#ifndef TFJS_FOCAL_LOSS_KERNELS_VECTOR_MATH_H_
#define TFJS_FOCAL_LOSS_KERNELS_VECTOR_MATH_H_

#include <math.h>
#include <stdint.h>

#include "kernels/isa_kernels.h"

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

// Labels / targets in [0, 1] (NaN fails): the one rule for every loss that takes float labels
// (elementwise targets, dense softmax labels). The vector checks below test a whole block at once;
// only a block that fails is scanned again here, for the first bad element of labels[begin, end),
// reported in `error` (kLabelOutsideUnitInterval, its flat index and value).
inline bool report_outside_unit_interval(const float* labels, int64_t begin, int64_t end, KernelError* error) {
  for (int64_t k = begin; k < end; ++k) {
    const float yf = labels[k];
    if (!(yf >= 0.0f && yf <= 1.0f)) {
      error->code = ErrorCode::kLabelOutsideUnitInterval;
      error->index = k;
      error->value = yf;
      return false;
    }
  }
  return true;
}

// True if the n lanes of y, read from labels + i, all are in [0, 1]; otherwise the first bad one is
// reported in `error`.
inline bool unit_interval_labels(VF y, const float* labels, int64_t i, int n, KernelError* error) {
  if (!any(mnot(mand(le(set1(0.0f), y), le(y, set1(1.0f)))))) return true;
  return report_outside_unit_interval(labels, i, i + n, error);
}

// The same rule on a block of rows transposed into columns (lane r: row r of the block, columns
// j < C), rows [0, n) valid: read from labels + first, row-major.
inline bool unit_interval_columns(const VF* columns, int64_t C, int n, const float* labels, int64_t first,
                                  KernelError* error) {
  const VF zero = set1(0.0f), one = set1(1.0f);
  MF bad = mnone();
  for (int64_t j = 0; j < C; ++j) bad = mor(bad, mnot(mand(le(zero, columns[j]), le(columns[j], one))));
  if (!any(mand(bad, tail_mask(n)))) return true;
  return report_outside_unit_interval(labels, first, first + n * C, error);
}

// ---------------------------------------------------------------------------------------------
// gamma handling shared by scalar and vector code.

struct Gamma {
  double g;
  float gf;
  int integer;   // gamma as an integer in [0, 16], or -1
  int quarters;  // 4 gamma as an integer in [0, 64], or -1
  // Poly-1: a class term gains eps q^(gamma+1); its d/dlog p is -eps (gamma+1) q^gamma p.
  // `poly` is false at eps == 0, so that the loss is then computed exactly as without it.
  bool poly;
  double eps, eps_g1;  // eps, eps (gamma + 1)
  float epsf, eps_g1f;
};

inline Gamma make_gamma(double g, double eps = 0.0) {
  Gamma r;
  r.g = g;
  r.gf = static_cast<float>(g);
  r.poly = eps != 0.0;
  r.eps = eps;
  r.eps_g1 = eps * (g + 1.0);
  r.epsf = static_cast<float>(r.eps);
  r.eps_g1f = static_cast<float>(r.eps_g1);
  // (g >= 0: the conversions stay in range for any g the caller passes.)
  const bool in_table = g >= 0.0 && g <= 16.0;
  r.integer = (in_table && g == floor(g)) ? static_cast<int>(g) : -1;
  r.quarters = (in_table && 4.0 * g == floor(4.0 * g)) ? static_cast<int>(4.0 * g) : -1;
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

// ---------------------------------------------------------------------------------------------
// The softmax focal loss's per-class term, the one place its math is written: in scalar double for
// the row kernels (focal_terms) and in lanes for the lane and dense kernels (class_terms_v). A
// softmax option that changes the per-class math changes both, here.
// docs/DESIGN.md#softmax-focal-loss

// f = -(1 - p)^gamma log p and d = df/dlog p = q^gamma (gamma p r - 1), r = log p / q -> -1 as
// p -> 1, from lp = log p, p and q = 1 - p each computed without cancellation (scalar, double).
inline void focal_terms(double lp, double p, double q, const Gamma& gm, double* f, double* d) {
  const double mod = pow_gamma(q, gm);
  const double r = q > 0.0 ? lp / q : -1.0;
  const double pr = p > 0.0 ? p * r : 0.0;
  *f = -mod * lp;
  *d = mod * (gm.g * pr - 1.0);
  if (gm.poly) {  // + eps q^(gamma+1); d/dlog p: -eps (gamma+1) q^gamma p
    *f += gm.eps * mod * q;
    *d -= gm.eps_g1 * mod * p;
  }
}

// The same in lanes, without the factor q^gamma (the kernels apply it with alpha y): the class term
// is f = -q^gamma lq and d = q^gamma dlp, from lp = log p, p, q and pr = p r (0 where p = 0).
struct ClassTermsV {
  VF lq;   // log p, minus eps q with Poly-1
  VF dlp;  // gamma p r - 1, minus eps (gamma + 1) p with Poly-1
};
FOCAL_INLINE ClassTermsV class_terms_v(VF lp, VF p, VF q, VF pr, const Gamma& gm) {
  ClassTermsV t{lp, fma(set1(gm.gf), pr, set1(-1.0f))};
  if (gm.poly) {
    t.dlp = fnma(set1(gm.eps_g1f), p, t.dlp);
    t.lq = fnma(set1(gm.epsf), q, lp);
  }
  return t;
}

}  // namespace
}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_KERNELS_VECTOR_MATH_H_
