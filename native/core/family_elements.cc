// Varifocal, quality focal and asymmetric loss per element, from the logit x in double:
//   e = exp(-|x|), p = sigmoid(x) and pm = 1 - p = sigmoid(-x) each without cancellation,
//   -log p = max(-x, 0) + log1p(e), -log(1 - p) = max(x, 0) + log1p(e),
//   BCE(x, y) = max(x, 0) - x y + log1p(e) as a sum of non-negative terms, dBCE/dx = p - y.
// Every power of a quantity that can reach 0 has a non-negative exponent: the derivatives are
// written so that no 0^(negative) is ever evaluated. docs/DESIGN.md#the-elementwise-family
#include "core/family_elements.h"

#include <cmath>

namespace focal {
namespace detail {
namespace {

struct Sigmoid {
  double p, pm, e;  // p, 1 - p, exp(-|x|)
  double log1p_e;   // log1p(e), when computed (`with_log`)
};

Sigmoid sigmoid_of(double x, bool with_log = true) {
  const double e = std::exp(-std::fabs(x));
  const double inv = 1.0 / (1.0 + e);
  return {x >= 0 ? inv : e * inv, x >= 0 ? e * inv : inv, e, with_log ? std::log1p(e) : 0.0};
}

// b^g for b >= 0, g >= 0, with 0^0 = 1; small integer exponents by repeated squaring (the
// defaults 2 and 4 are integers, and libm's pow is the costliest call of an element).
double power(double b, double g) {
  if (g == 0.0) return 1.0;
  if (g == static_cast<double>(static_cast<int>(g)) && g <= 16.0) {
    double r = 1.0, x = b;
    for (int e = static_cast<int>(g); e > 0; e >>= 1) {
      if (e & 1) r *= x;
      x *= x;
    }
    return r;
  }
  return std::pow(b, g);
}

double bce(double x, double y, const Sigmoid& s) {
  return (x >= 0 ? x * (1.0 - y) : -x * y) + s.log1p_e;
}

// L = BCE(x, q) q for q > 0; L = alpha p^gamma BCE(x, 0) for q == 0 (mmdet: the weight q is not
// detached, the weight alpha |p - q|^gamma is computed at q == 0 only).
//   q > 0:  dL/dx = q (p - q)
//   q == 0: dL/dx = alpha p^gamma (gamma pm softplus(x) + p)   [d p^gamma/dx = gamma p^gamma pm]
void varifocal(const SigmoidFocalArgs& a, double x, double q, double* loss, double* grad) {
  const Sigmoid s = sigmoid_of(x);
  if (q > 0.0) {
    *loss = q * bce(x, q, s);
    *grad = q * (s.p - q);
    return;
  }
  const double softplus = (x > 0 ? x : 0.0) + s.log1p_e;
  const double w = a.alpha * power(s.p, a.gamma);
  *loss = w * softplus;
  *grad = w * (a.gamma * s.pm * softplus + s.p);
}

// L = |d|^beta BCE(x, q), d = p - q:
//   dL/dx = beta |d|^(beta - 1) sign(d) p pm BCE + |d|^beta d       (d != 0)
// At d == 0 the loss is BCE for beta == 0 and 0 otherwise; the gradient there is 0 (for
// 0 < beta < 1 the derivative is unbounded: the subgradient 0 is used).
void quality_focal(const SigmoidFocalArgs& a, double x, double q, double* loss, double* grad) {
  const Sigmoid s = sigmoid_of(x);
  const double beta = a.gamma;
  // p - q with p near 1 computed as (1 - q) - pm, which keeps pm's relative accuracy.
  const double d = s.p > 0.5 ? (1.0 - q) - s.pm : s.p - q;
  const double ce = bce(x, q, s);
  if (d == 0.0) {
    *loss = beta == 0.0 ? ce : 0.0;
    *grad = 0.0;
    return;
  }
  const double ad = std::fabs(d);
  const double mod = power(ad, beta);
  *loss = mod * ce;
  const double slope = beta == 0.0 ? 0.0 : beta * (mod / ad) * (d > 0 ? 1.0 : -1.0) * s.p * s.pm * ce;
  *grad = slope + mod * d;
}

// L = y (1 - p)^g+ (-log p) + (1 - y) p_m^g- (-log(1 - p_m)), p_m = max(p - clip, 0):
//   positive: d/dx = -pm^g+ (g+ p (-log p) + pm)
//   negative (p > clip): d/dx = p_m^g- p (g- pm r + pm / (1 - p_m)), r = -log(1 - p_m) / p_m,
//     1 - p_m = pm + clip; with clip == 0, -log(1 - p) = softplus(x) and pm / (1 - p_m) = 1.
//   negative (p <= clip): 0.
void asymmetric(const SigmoidFocalArgs& a, double x, double y, double* loss, double* grad) {
  // log1p(e) only where a term needs it: the positive term, or the negative term with clip == 0.
  const Sigmoid s = sigmoid_of(x, y > 0.0 || a.clip == 0.0);
  double l = 0.0, g = 0.0;
  if (y > 0.0) {
    const double nlogp = (x < 0 ? -x : 0.0) + s.log1p_e;
    const double w = power(s.pm, a.gamma);
    l += y * w * nlogp;
    g -= y * w * (a.gamma * s.p * nlogp + s.pm);
  }
  if (y < 1.0 && s.p > a.clip) {
    const double pmar = s.p - a.clip;  // > 0
    double nlog1m, pm_ratio;
    if (a.clip > 0.0) {
      nlog1m = -std::log1p(-pmar);
      pm_ratio = s.pm / (s.pm + a.clip);
    } else {
      nlog1m = (x > 0 ? x : 0.0) + s.log1p_e;
      pm_ratio = 1.0;
    }
    const double w = power(pmar, a.gamma_negative);
    l += (1.0 - y) * w * nlog1m;
    g += (1.0 - y) * w * s.p * (a.gamma_negative * s.pm * (nlog1m / pmar) + pm_ratio);
  }
  *loss = l;
  *grad = g;
}

}  // namespace

void family_elements(const SigmoidFocalArgs& a, int64_t begin, int64_t end, KernelError* error) {
  void (*element)(const SigmoidFocalArgs&, double, double, double*, double*) =
      a.loss == ElementwiseLoss::kVarifocal      ? varifocal
      : a.loss == ElementwiseLoss::kQualityFocal ? quality_focal
                                                 : asymmetric;
  for (int64_t i = begin; i < end; ++i) {
    const float yf = a.labels[i];
    if (!(yf >= 0.0f && yf <= 1.0f)) {
      error->code = ErrorCode::kLabelOutsideUnitInterval;
      error->index = i;
      error->value = yf;
      return;
    }
    double loss, grad;
    element(a, a.logits[i], yf, &loss, &grad);
    a.loss_out[i] = static_cast<float>(loss);
    if (a.grad_out) a.grad_out[i] = static_cast<float>(grad);
  }
}

}  // namespace detail
}  // namespace focal
