// Sigmoid focal loss (and its Poly-1 form) on logits, elementwise: float vectors for gamma <= 3,
// scalar double above.
// docs/DESIGN.md#sigmoid-focal-loss
#ifndef TFJS_FOCAL_LOSS_KERNELS_SIGMOID_ELEMENTS_H_
#define TFJS_FOCAL_LOSS_KERNELS_SIGMOID_ELEMENTS_H_

#include "kernels/vector_math.h"

namespace focal {
namespace detail {
namespace FOCAL_ISA {

namespace {

// Scalar double precision sigmoid focal loss, used for gamma > 3: the float vector code's relative
// error grows like gamma * 3e-7 (through q^gamma), which would exceed 1e-6 there.
void sigmoid_elements_double(const SigmoidElementwiseArgs& a, int64_t begin, int64_t end, const Gamma& gm,
                             KernelError* error) {
  const double ls = a.label_smoothing;
  for (int64_t i = begin; i < end; ++i) {
    const float xf = a.logits[i], yf = a.labels[i];
    if (!(yf >= 0.0f && yf <= 1.0f)) {
      error->code = ErrorCode::kLabelOutsideUnitInterval;
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
    const double eps = a.poly_epsilon;
    a.loss_out[i] = static_cast<float>(eps == 0.0 ? alpha_t * ce * mod : alpha_t * mod * (ce + eps * q));
    if (a.grad_out) {
      const double ratio = q > 0.0 ? p * pm / q : 0.0;
      const double p_minus_y = p * y1 - y * pm;
      // Poly-1: d/dx eps q^(g+1) = -eps (g + 1) q^g p pm (2y - 1).
      const double focusing = gm.g * ratio * ce + (eps == 0.0 ? 0.0 : eps * (gm.g + 1.0) * p * pm);
      a.grad_out[i] = static_cast<float>(alpha_t * mod * (p_minus_y - focusing * (2.0 * y - 1.0)));
    }
  }
}

}  // namespace

void sigmoid_logits_elements(const SigmoidElementwiseArgs& a, int64_t begin, int64_t end,
                             KernelError* error) {
  const Gamma gm = make_gamma(a.gamma);
  if (gm.g > 3.0) {
    sigmoid_elements_double(a, begin, end, gm, error);
    return;
  }
  const float ls = static_cast<float>(a.label_smoothing);
  const VF y_scale = set1(1.0f - ls), y_add = set1(0.5f * ls);
  const VF one = set1(1.0f), zero = set1(0.0f), two = set1(2.0f), vgamma = set1(gm.gf);
  // Poly-1 (eps != 0): + alpha_t eps q^(g+1); eps == 0 runs the focal loss's exact instructions.
  const bool poly = a.poly_epsilon != 0.0;
  const VF veps = set1(static_cast<float>(a.poly_epsilon));
  const VF veps1 = set1(static_cast<float>(a.poly_epsilon * (gm.g + 1.0)));
  // alpha_t = alpha y + (1 - alpha)(1 - y) = (1 - alpha) + (2 alpha - 1) y, or 1.
  const VF at0 = set1(a.class_balancing ? static_cast<float>(1.0 - a.alpha) : 1.0f);
  const VF at1 = set1(a.class_balancing ? static_cast<float>(2.0 * a.alpha - 1.0) : 0.0f);
  for (int64_t i = begin; i < end; i += W) {
    const int n = end - i < W ? static_cast<int>(end - i) : W;
    const VF x = n == W ? loadu(a.logits + i) : load_partial(a.logits + i, n, 0.0f);
    const VF y0 = n == W ? loadu(a.labels + i) : load_partial(a.labels + i, n, 0.0f);
    // Labels in [0, 1] (NaN fails). A NaN logit gives a NaN loss and gradient for its element
    // (as TensorFlow's sigmoid cross-entropy), +-Inf follows the formula (NaN or Inf).
    if (!unit_interval_labels(y0, a.labels, i, n, error)) return;
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
    const VF loss = poly ? mul(atm, fma(veps, q, ce)) : mul(atm, ce);
    if (n == W) storeu(a.loss_out + i, loss);
    else store_partial(a.loss_out + i, loss, n);
    if (a.grad_out) {
      // dL/dx = alpha_t q^g [(p - y) - g (p pm / q) ce (2y - 1)]; p pm / q <= 1, and 0 at q == 0.
      const MF qpos = gt(q, zero);
      const VF ratio = zero_unless(qpos, div(mul(p, pm), select(qpos, q, one)));
      const VF p_minus_y = fnma(y, pm, mul(p, y1));
      const VF twoy1 = fma(two, y, set1(-1.0f));
      const VF g = poly ?
          // Poly-1: d/dx eps q^(g+1) = -eps (g + 1) q^g p pm (2y - 1).
          mul(atm, fnma(fma(mul(vgamma, ratio), ce, mul(veps1, mul(p, pm))), twoy1, p_minus_y)) :
          mul(atm, fnma(mul(vgamma, ratio), mul(ce, twoy1), p_minus_y));
      if (n == W) storeu(a.grad_out + i, g);
      else store_partial(a.grad_out + i, g, n);
    }
  }
}

}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_KERNELS_SIGMOID_ELEMENTS_H_
