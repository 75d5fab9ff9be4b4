// Varifocal, quality focal and asymmetric loss on logits, elementwise: each loss's formula in
// scalar double and in float vectors, side by side. The vector form runs every element; lanes
// where float would lose the accuracy the loss needs (a difference of two nearly equal numbers
// that no other form avoids, see `redo` below) and non-finite logits are recomputed by the double form, and so are whole
// calls whose exponents are above kMaxVectorExponent. docs/DESIGN.md#the-elementwise-family
//
// Forms shared by both (x the logit, y the target):
//   e = exp(-|x|), p = sigmoid(x) and pm = 1 - p = sigmoid(-x) each without cancellation,
//   -log p = max(-x, 0) + log1p(e), -log(1 - p) = max(x, 0) + log1p(e),
//   BCE(x, y) = max(x, 0) - x y + log1p(e) as a sum of non-negative terms, dBCE/dx = p - y,
//   p - y = p (1 - y) - y pm, which keeps the relative accuracy of p and pm.
// Every power of a quantity that can reach 0 has a non-negative exponent: the derivatives are
// written so that no 0^(negative) is ever evaluated.
#ifndef TFJS_FOCAL_LOSS_KERNELS_FAMILY_ELEMENTS_H_
#define TFJS_FOCAL_LOSS_KERNELS_FAMILY_ELEMENTS_H_

#include "kernels/vector_math.h"

namespace focal {
namespace detail {
namespace FOCAL_ISA {
namespace {

// Above this exponent (gamma, beta, gamma+ or gamma-) the float form's relative error, which
// grows like exponent * 2e-7 through b^exponent, could pass 1e-6: such calls run in double.
constexpr double kMaxVectorExponent = 4.0;
// A lane is recomputed in double when the difference d that its result depends on is smaller than
// kRedoFraction of the sum S it was taken from: d carries float's rounding of S (about 3 ulp), so
// a kept lane has |d| relative error below 3 * 6e-8 / kRedoFraction, about 1e-6 (the exponent
// scales it where the loss raises d to a power; see each loss).
constexpr float kRedoFraction = 0.2f;

// ------------------------------------------------------------------------------ double form ----

struct SigmoidD {
  double p, pm, log1p_e;  // p, 1 - p, log1p(exp(-|x|))
};

inline SigmoidD sigmoid_d(double x) {
  const double e = exp(-fabs(x));
  const double inv = 1.0 / (1.0 + e);
  return {x >= 0 ? inv : e * inv, x >= 0 ? e * inv : inv, log1p(e)};
}

// b^g for b >= 0, g >= 0, with 0^0 = 1; small integer exponents by repeated squaring (the
// defaults 2 and 4 are integers, and libm's pow is the costliest call of an element).
inline double power_d(double b, double g) {
  if (g == 0.0) return 1.0;
  if (g == static_cast<double>(static_cast<int>(g)) && g <= 16.0) {
    double r = 1.0, x = b;
    for (int e = static_cast<int>(g); e > 0; e >>= 1) {
      if (e & 1) r *= x;
      x *= x;
    }
    return r;
  }
  return pow(b, g);
}

inline double bce_d(double x, double y, const SigmoidD& s) {
  return (x >= 0 ? x * (1.0 - y) : -x * y) + s.log1p_e;
}

// Varifocal: L = BCE(x, q) w for q > 0, w = q (iou_weighted) or 1; L = alpha p^gamma BCE(x, 0)
// for q == 0 (mmdet: the weight q is not detached, the weight alpha |p - q|^gamma is computed at
// q == 0 only).
//   q > 0:  dL/dx = w (p - q)
//   q == 0: dL/dx = alpha p^gamma (gamma pm softplus(x) + p)   [d p^gamma/dx = gamma p^gamma pm]
inline void varifocal_d(const SigmoidElementwiseArgs& a, double x, double q, double* loss, double* grad) {
  const SigmoidD s = sigmoid_d(x);
  if (q > 0.0) {
    const double w = a.iou_weighted ? q : 1.0;
    *loss = w * bce_d(x, q, s);
    *grad = w * (s.p * (1.0 - q) - q * s.pm);
    return;
  }
  const double softplus = (x > 0 ? x : 0.0) + s.log1p_e;
  const double w = a.alpha * power_d(s.p, a.gamma);
  *loss = w * softplus;
  *grad = w * (a.gamma * s.pm * softplus + s.p);
}

// Quality focal: L = |d|^beta BCE(x, q), d = p - q:
//   dL/dx = beta |d|^beta p pm BCE / d + |d|^beta d       (d != 0)
// At d == 0 the loss is BCE for beta == 0 and 0 otherwise; the gradient there is 0 (for
// 0 < beta < 1 the derivative is unbounded: the subgradient 0 is used).
inline void quality_focal_d(const SigmoidElementwiseArgs& a, double x, double q, double* loss, double* grad) {
  const SigmoidD s = sigmoid_d(x);
  const double beta = a.beta;
  const double d = s.p * (1.0 - q) - q * s.pm;
  const double ce = bce_d(x, q, s);
  if (d == 0.0) {
    *loss = beta == 0.0 ? ce : 0.0;
    *grad = 0.0;
    return;
  }
  const double mod = power_d(fabs(d), beta);
  *loss = mod * ce;
  *grad = (beta == 0.0 ? 0.0 : beta * mod * s.p * s.pm * ce / d) + mod * d;
}

// Asymmetric: L = y (1 - p)^g+ (-log p) + (1 - y) p_m^g- (-log(1 - p_m)), p_m = max(p - clip, 0):
//   positive: d/dx = -pm^g+ (g+ p (-log p) + pm)
//   negative (p > clip): d/dx = p_m^g- p (g- pm r + pm / (1 - p_m)), r = -log(1 - p_m) / p_m,
//     1 - p_m = pm + clip; with clip == 0, -log(1 - p) = softplus(x) and pm / (1 - p_m) = 1.
//   negative (p <= clip): 0.
inline void asymmetric_d(const SigmoidElementwiseArgs& a, double x, double y, double* loss, double* grad) {
  const SigmoidD s = sigmoid_d(x);
  double l = 0.0, g = 0.0;
  if (y > 0.0) {
    const double nlogp = (x < 0 ? -x : 0.0) + s.log1p_e;
    const double w = power_d(s.pm, a.gamma_pos);
    l += y * w * nlogp;
    g -= y * w * (a.gamma_pos * s.p * nlogp + s.pm);
  }
  if (y < 1.0 && s.p > a.clip) {
    const double pmar = s.p - a.clip;  // > 0
    double nlog1m, pm_ratio;
    if (a.clip > 0.0) {
      nlog1m = -log1p(-pmar);
      pm_ratio = s.pm / (s.pm + a.clip);
    } else {
      nlog1m = (x > 0 ? x : 0.0) + s.log1p_e;
      pm_ratio = 1.0;
    }
    const double w = power_d(pmar, a.gamma_neg);
    l += (1.0 - y) * w * nlog1m;
    g += (1.0 - y) * w * s.p * (a.gamma_neg * s.pm * (nlog1m / pmar) + pm_ratio);
  }
  *loss = l;
  *grad = g;
}

using ElementD = void (*)(const SigmoidElementwiseArgs&, double, double, double*, double*);

inline ElementD element_d(ElementwiseLoss loss) {
  return loss == ElementwiseLoss::kVarifocal      ? varifocal_d
         : loss == ElementwiseLoss::kQualityFocal ? quality_focal_d
                                                  : asymmetric_d;
}

inline void store_element_d(const SigmoidElementwiseArgs& a, ElementD element, int64_t i) {
  double loss, grad;
  const double x = a.logits[i];
  if (x != x) {
    // NaN in, NaN out, for every loss and target: a clip or a branch on p (asymmetric's
    // p > clip, a target of 0 that drops a term) must not turn a diverged logit into a loss of 0.
    loss = grad = x;
  } else {
    element(a, x, a.labels[i], &loss, &grad);
  }
  a.loss_out[i] = static_cast<float>(loss);
  if (a.grad_out) a.grad_out[i] = static_cast<float>(grad);
}

// ------------------------------------------------------------------------------ vector form ----

// One block of W lanes: the sigmoid terms every loss starts from.
struct SigmoidV {
  VF p, pm, log1p_e;
  MF x_nonneg;  // x >= 0
};

FOCAL_INLINE SigmoidV sigmoid_v(VF x) {
  const VF zero = set1(0.0f), one = set1(1.0f);
  const VF e = vexp(sub(zero, abs(x)));
  const VF inv = div(one, add(one, e));
  const VF einv = mul(e, inv);
  const MF pos = le(zero, x);
  return {select(pos, inv, einv), select(pos, einv, inv), vlog1p(e), pos};
}

FOCAL_INLINE VF bce_v(VF x, VF y, const SigmoidV& s) {
  const VF zero = set1(0.0f);
  return add(select(s.x_nonneg, mul(x, sub(set1(1.0f), y)), mul(sub(zero, x), y)), s.log1p_e);
}

// A block's results, and the lanes to recompute in double.
struct ResultV {
  VF loss, grad;
  MF redo;
};

// |d| < kRedoFraction * sum, on the lanes of `where`.
FOCAL_INLINE MF cancels(MF where, VF d, VF sum) {
  return mand(where, lt(abs(d), mul(set1(kRedoFraction), sum)));
}

// Redo (varifocal): q > 0 lanes whose gradient w (p - q) cancels. (Decided the same way whether or
// not the gradient is wanted, so that the loss never depends on it.)
FOCAL_INLINE ResultV varifocal_v(const SigmoidElementwiseArgs& a, const Gamma& gm, VF x, VF q, const SigmoidV& s) {
  const VF zero = set1(0.0f), one = set1(1.0f);
  const MF positive = gt(q, zero);
  const VF q1 = sub(one, q);
  const VF softplus = add(max(x, zero), s.log1p_e);
  const VF w = mul(set1(static_cast<float>(a.alpha)), vpow_gamma_accurate(s.p, gm));
  const VF d = fnma(q, s.pm, mul(s.p, q1));
  const VF wpos = a.iou_weighted ? q : one;
  const VF loss = select(positive, mul(wpos, bce_v(x, q, s)), mul(w, softplus));
  const VF grad = select(positive, mul(wpos, d), mul(w, fma(mul(set1(gm.gf), s.pm), softplus, s.p)));
  return {loss, grad, cancels(positive, d, fma(q, s.pm, mul(s.p, q1)))};
}

// Redo (quality focal): soft targets (0 < q < 1) where p - q cancels; the loss raises it to beta,
// so the fraction is scaled by beta + 1.
FOCAL_INLINE ResultV quality_focal_v(const Gamma& gm, VF x, VF q, const SigmoidV& s) {
  const VF zero = set1(0.0f), one = set1(1.0f);
  const VF q1 = sub(one, q);
  const VF d = fnma(q, s.pm, mul(s.p, q1));
  const VF ce = bce_v(x, q, s);
  const MF nonzero = neq(d, zero);
  const VF mod = vpow_gamma_accurate(abs(d), gm);  // 0^beta: 1 for beta == 0, else 0
  const VF slope = gm.g == 0.0 ? zero
      : zero_unless(nonzero, div(mul(mul(set1(gm.gf), mod), mul(mul(s.p, s.pm), ce)), select(nonzero, d, one)));
  const VF loss = mul(mod, ce);
  const VF grad = zero_unless(nonzero, fma(mod, d, slope));
  const MF soft = mand(gt(q, zero), lt(q, one));
  const VF sum = mul(set1(static_cast<float>(gm.g + 1.0)), fma(q, s.pm, mul(s.p, q1)));
  return {loss, grad, cancels(soft, d, sum)};
}

// expm1(d) for 0 <= d <= 1: d (1 + d/2 (1 + d/3 (... (1 + d/10)))), the Taylor polynomial of
// degree 10 (truncation below 3e-8 relative), no exp.
FOCAL_INLINE VF expm1_unit(VF d) {
  static const float kInverse[] = {1.0f / 9, 1.0f / 8, 1.0f / 7, 1.0f / 6, 1.0f / 5, 1.0f / 4, 1.0f / 3, 0.5f};
  VF t = fma(d, set1(0.1f), set1(1.0f));
  for (float inv : kInverse) t = fma(mul(d, set1(inv)), t, set1(1.0f));
  return mul(d, t);
}

// The asymmetric loss's clip as the vector form uses it: c = logit(clip) in two floats, so that
// x - c is exact to float rounding next to the kink x = c.
struct ClipV {
  float clip, one_minus_clip, c_hi, c_lo;
};

inline ClipV make_clip(double clip) {
  if (!(clip > 0.0)) return {0.0f, 1.0f, 0.0f, 0.0f};
  const double c = log(clip) - log1p(-clip);
  const float hi = static_cast<float>(c);
  return {static_cast<float>(clip), static_cast<float>(1.0 - clip), hi, static_cast<float>(c - hi)};
}

// Redo (asymmetric): soft targets whose gradient, a negative minus a positive term, cancels.
FOCAL_INLINE ResultV asymmetric_v(const Gamma& gpos, const Gamma& gneg, const ClipV& cv, VF x, VF y,
                                  const SigmoidV& s) {
  const VF zero = set1(0.0f), one = set1(1.0f);
  const VF y1 = sub(one, y);
  // positive term, weighted by y
  const VF nlogp = add(max(sub(zero, x), zero), s.log1p_e);
  const VF wpos = mul(y, vpow_gamma_accurate(s.pm, gpos));
  const VF lpos = mul(wpos, nlogp);
  const VF gpos_term = mul(wpos, fma(mul(set1(gpos.gf), s.p), nlogp, s.pm));  // subtracted
  // negative term, weighted by 1 - y, on lanes with p > clip
  MF active;
  VF pmar, nlog1m, pm_ratio;
  if (cv.clip > 0.0f) {
    // p - clip cancels next to the kink x = c; there (x - c < 1) sigmoid(x) - sigmoid(c) =
    // clip (1 - p) expm1(x - c) does not. Further out p - clip (x < 0) or (1 - clip) - (1 - p)
    // (x >= 0) cancels at most by a factor of ~2.
    const VF dx = sub(sub(x, set1(cv.c_hi)), set1(cv.c_lo));
    active = gt(dx, zero);
    const MF near = lt(dx, one);
    pmar = select(near, mul(mul(set1(cv.clip), s.pm), expm1_unit(select(near, dx, zero))),
                  select(s.x_nonneg, sub(set1(cv.one_minus_clip), s.pm), sub(s.p, set1(cv.clip))));
    // 1/2 on inactive lanes, whose weight is 0: every term below stays finite there.
    pmar = select(active, pmar, set1(0.5f));
    // -log(1 - p_m), 1 - p_m = pm + clip: log of the accurate sum where it is below 1/2, else
    // -log1p(-p_m), which keeps p_m's relative accuracy as p_m -> 0.
    const VF u = add(s.pm, set1(cv.clip));
    nlog1m = select(lt(u, set1(0.5f)), sub(zero, vlog(u)), sub(zero, vlog1p(sub(zero, pmar))));
    pm_ratio = div(s.pm, u);
  } else {
    active = gt(s.p, zero);
    pmar = select(active, s.p, set1(0.5f));
    nlog1m = add(max(x, zero), s.log1p_e);
    pm_ratio = one;
  }
  const VF wneg = zero_unless(active, mul(y1, vpow_gamma_accurate(pmar, gneg)));
  const VF lneg = mul(wneg, nlog1m);
  const VF gneg_term = mul(mul(wneg, s.p), fma(mul(set1(gneg.gf), s.pm), div(nlog1m, pmar), pm_ratio));
  const VF grad = sub(gneg_term, gpos_term);
  return {add(lpos, lneg), grad, cancels(mand(gt(y, zero), lt(y, one)), grad, add(gneg_term, gpos_term))};
}

}  // namespace

// Elements [begin, end) of a.loss (not kFocal) with float labels. Reports a target outside [0, 1]
// or NaN (kLabelOutsideUnitInterval) in `error`.
void family_logits_elements(const SigmoidElementwiseArgs& a, int64_t begin, int64_t end, KernelError* error) {
  const ElementD element = element_d(a.loss);
  const bool asymmetric = a.loss == ElementwiseLoss::kAsymmetric;
  // The loss's own exponent: varifocal's gamma, quality focal's beta, asymmetric's gamma+.
  const double exponent = a.loss == ElementwiseLoss::kQualityFocal ? a.beta : asymmetric ? a.gamma_pos : a.gamma;
  const double top = asymmetric ? (exponent > a.gamma_neg ? exponent : a.gamma_neg) : exponent;
  const bool vector = top <= kMaxVectorExponent;
  const Gamma gm = make_gamma(exponent), gneg = make_gamma(a.gamma_neg);
  const ClipV cv = make_clip(a.clip);
  for (int64_t i = begin; i < end; i += W) {
    const int n = end - i < W ? static_cast<int>(end - i) : W;
    const VF y = n == W ? loadu(a.labels + i) : load_partial(a.labels + i, n, 0.0f);
    if (!unit_interval_labels(y, a.labels, i, n, error)) return;
    if (!vector) {
      for (int64_t k = i; k < i + n; ++k) store_element_d(a, element, k);
      continue;
    }
    const VF x = n == W ? loadu(a.logits + i) : load_partial(a.logits + i, n, 0.0f);
    const SigmoidV s = sigmoid_v(x);
    const ResultV r = a.loss == ElementwiseLoss::kVarifocal      ? varifocal_v(a, gm, x, y, s)
                      : a.loss == ElementwiseLoss::kQualityFocal ? quality_focal_v(gm, x, y, s)
                                                                 : asymmetric_v(gm, gneg, cv, x, y, s);
    if (n == W) {
      storeu(a.loss_out + i, r.loss);
      if (a.grad_out) storeu(a.grad_out + i, r.grad);
    } else {
      store_partial(a.loss_out + i, r.loss, n);
      if (a.grad_out) store_partial(a.grad_out + i, r.grad, n);
    }
    // NaN and +-Inf logits (x - x is NaN) follow the double form's rules.
    MF redo = mand(mor(r.redo, is_nan(sub(x, x))), tail_mask(n));
    while (any(redo)) {
      const int lane = first_lane(redo);
      store_element_d(a, element, i + lane);
      redo = mand(redo, not_lane_mask(lane));
    }
  }
}

}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_KERNELS_FAMILY_ELEMENTS_H_
