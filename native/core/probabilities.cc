// The probability-input paths (from_logits == false), Keras semantics, in scalar double:
// categorical_focal_crossentropy (softmax) and binary_focal_crossentropy (sigmoid).
// docs/DESIGN.md#softmax-focal-loss, docs/DESIGN.md#sigmoid-focal-loss
#include "core/probabilities.h"

#include <atomic>
#include <cmath>
#include <limits>

namespace focal {
namespace detail {
namespace {

constexpr double kEpsilon = 1e-7;  // keras.backend.epsilon()

double pow_gamma(double q, double gamma) {
  if (gamma == 0.0) return 1.0;
  if (gamma == 2.0) return q * q;
  return std::pow(q, gamma);
}

}  // namespace

// Keras probability path for one row:
//   u = x / sum(x), p = clip(u, eps, 1 - eps), L = -sum_j alpha_j y_j (1 - p_j)^gamma log p_j,
//   plus Poly-1's sum_j alpha_j y_j poly_epsilon (1 - p_j)^(gamma + 1) (of the clipped p, like the
//   focal factor).
// The gradient goes through the clip (zero where u is outside [eps, 1 - eps], as TF's
// clip_by_value gradient) and through the normalisation: dL/dx_k = (g_k - sum_j g_j u_j) / s.
void probability_row(const SoftmaxFocalArgs& a, int64_t row, double* g, KernelError* error) {
  const int64_t C = a.classes;
  const float* x = a.logits + row * C;
  double s = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    const double v = x[j];
    if (!(v >= 0.0 && v < std::numeric_limits<double>::infinity())) {
      error->code = ErrorCode::kProbabilityInvalid;
      error->index = row * C + j;
      error->value = v;
      return;
    }
    s += v;
  }
  if (!(s > 0.0 && s < std::numeric_limits<double>::infinity())) {
    error->code = ErrorCode::kProbabilityRowSum;
    error->index = row * C;
    error->value = s;
    return;
  }
  int32_t target = -1;
  if (a.sparse_labels) target = a.sparse_labels[row];
  const double ls = a.label_smoothing, ls_c = ls / static_cast<double>(C), gamma = a.gamma;
  const double eps = a.poly_epsilon;
  double loss = 0.0, gu = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    if (a.dense_labels && !(a.dense_labels[row * C + j] >= 0.0f && a.dense_labels[row * C + j] <= 1.0f)) {
      error->code = ErrorCode::kLabelOutsideUnitInterval;  // the rule of vector_math.h
      error->index = row * C + j;
      error->value = a.dense_labels[row * C + j];
      return;
    }
    const double yj = a.dense_labels ? static_cast<double>(a.dense_labels[row * C + j]) * (1.0 - ls) + ls_c
                                     : (j == target ? 1.0 - ls : 0.0) + ls_c;
    g[j] = 0.0;
    if (yj == 0.0) continue;
    const double u = static_cast<double>(x[j]) / s;
    const bool inside = u >= kEpsilon && u <= 1.0 - kEpsilon;
    const double p = u < kEpsilon ? kEpsilon : (u > 1.0 - kEpsilon ? 1.0 - kEpsilon : u);
    const double q = 1.0 - p;  // >= 1e-7
    const double lp = std::log(p);
    const double mod = pow_gamma(q, gamma);
    const double aj = (a.alpha ? a.alpha[j] : a.alpha_scalar) * yj;
    loss += eps == 0.0 ? aj * (-mod * lp) : aj * (-mod * lp + eps * mod * q);
    if (inside) {
      // d/dp [-(1-p)^g log p] = g (1-p)^(g-1) log p - (1-p)^g / p;
      // d/dp [eps (1-p)^(g+1)] = -eps (g+1) (1-p)^g
      const double dmod = gamma == 0.0 ? 0.0 : gamma * std::pow(q, gamma - 1.0);
      g[j] = eps == 0.0 ? aj * (dmod * lp - mod / p) : aj * (dmod * lp - mod / p - eps * (gamma + 1.0) * mod);
      gu += g[j] * u;
    }
  }
  a.loss_out[row] = static_cast<float>(loss);
  if (!a.grad_out) return;
  float* out = a.grad_out + row * C;
  for (int64_t j = 0; j < C; ++j) out[j] = static_cast<float>((g[j] - gu) / s);
}

// Keras BinaryFocalCrossentropy on probabilities:
//   bce = -(y log pc + (1 - y) log(1 - pc)) with pc = clip(p, eps, 1 - eps),
//   1 - p_t = y (1 - p) + (1 - y) p from the unclipped p,
//   L = alpha_t (1 - p_t)^gamma bce.
// The gradient of bce goes through the clip (zero outside [eps, 1 - eps], TF clip_by_value).
void probability_elements(const SigmoidElementwiseArgs& a, int64_t begin, int64_t end, KernelError* error) {
  const double ls = a.label_smoothing, gamma = a.gamma;
  for (int64_t i = begin; i < end; ++i) {
    const float pf = a.logits[i], yf = a.labels[i];
    if (!(pf >= 0.0f && pf <= 1.0f)) {
      error->code = ErrorCode::kProbabilityOutsideUnitInterval;
      error->index = i;
      error->value = pf;
      return;
    }
    if (!(yf >= 0.0f && yf <= 1.0f)) {
      error->code = ErrorCode::kLabelOutsideUnitInterval;
      error->index = i;
      error->value = yf;
      return;
    }
    const double p = pf, y = yf * (1.0 - ls) + 0.5 * ls;
    const bool inside = p >= kEpsilon && p <= 1.0 - kEpsilon;
    const double pc = p < kEpsilon ? kEpsilon : (p > 1.0 - kEpsilon ? 1.0 - kEpsilon : p);
    const double bce = -(y * std::log(pc) + (1.0 - y) * std::log(1.0 - pc));
    const double q = y * (1.0 - p) + (1.0 - y) * p;
    const double mod = gamma == 0.0 ? 1.0 : (gamma == 2.0 ? q * q : std::pow(q, gamma));
    const double alpha_t = a.class_balancing ? a.alpha * y + (1.0 - a.alpha) * (1.0 - y) : 1.0;
    // Poly-1: + eps q^(gamma+1), d/dp = eps (gamma + 1) q^gamma (1 - 2y).
    const double poly = a.poly_epsilon * mod * q;
    a.loss_out[i] = static_cast<float>(a.poly_epsilon == 0.0 ? alpha_t * mod * bce : alpha_t * (mod * bce + poly));
    if (a.grad_out) {
      // d mod/dp = gamma q^(gamma-1) (1 - 2y). At q == 0 with 0 < gamma < 1 this is infinite, as
      // in TensorFlow (the derivative of q^gamma at 0); it needs p exactly 0 or 1.
      const double dmod = gamma == 0.0 ? 0.0 : gamma * std::pow(q, gamma - 1.0) * (1.0 - 2.0 * y);
      const double dbce = inside ? -y / pc + (1.0 - y) / (1.0 - pc) : 0.0;
      const double dpoly = a.poly_epsilon == 0.0 ? 0.0 : a.poly_epsilon * (gamma + 1.0) * mod * (1.0 - 2.0 * y);
      a.grad_out[i] = static_cast<float>(alpha_t * (dmod * bce + mod * dbce + dpoly));
    }
  }
}

namespace {

std::atomic<bool> g_probe_armed{true};
std::atomic<bool> g_probability_hint{false};

// Softmax rows [begin, end) of x: every value in [0, 1], each row summing to 1 within 1e-4.
bool rows_are_probabilities(const float* x, int64_t begin, int64_t end, int64_t C) {
  for (int64_t row = begin; row < end; ++row) {
    double sum = 0.0;
    for (int64_t j = row * C; j < (row + 1) * C; ++j) {
      if (!(x[j] >= 0.0f && x[j] <= 1.0f)) return false;
      sum += x[j];
    }
    if (!(std::fabs(sum - 1.0) <= 1e-4)) return false;
  }
  return true;
}

// Elements [begin, end) of x in [0, 1]; counts those strictly inside and whether any differs from x[0].
bool elements_in_unit_interval(const float* x, int64_t begin, int64_t end, bool* inside, bool* varied) {
  for (int64_t k = begin; k < end; ++k) {
    if (!(x[k] >= 0.0f && x[k] <= 1.0f)) return false;
    *inside = *inside || (x[k] > 0.0f && x[k] < 1.0f);
    *varied = *varied || x[k] != x[0];
  }
  return true;
}

}  // namespace

void probe_softmax_inputs(const SoftmaxFocalArgs& a) {
  if (!a.from_logits || a.classes < 2 || a.rows == 0 || !g_probe_armed.load(std::memory_order_relaxed)) return;
  if (!rows_are_probabilities(a.logits, 0, 1, a.classes)) return;  // real logits stop here
  if (rows_are_probabilities(a.logits, 1, a.rows, a.classes)) g_probability_hint.store(true, std::memory_order_relaxed);
}

void probe_elementwise_inputs(const SigmoidElementwiseArgs& a) {
  if (!a.from_logits || a.count < kProbeMinElements || !g_probe_armed.load(std::memory_order_relaxed)) return;
  bool inside = false, varied = false;
  const int64_t first = a.count < kProbeElements ? a.count : kProbeElements;
  if (!elements_in_unit_interval(a.logits, 0, first, &inside, &varied)) return;  // real logits stop here
  if (elements_in_unit_interval(a.logits, first, a.count, &inside, &varied) && inside && varied)
    g_probability_hint.store(true, std::memory_order_relaxed);
}

}  // namespace detail

void set_probability_check(bool armed) {
  detail::g_probe_armed.store(armed, std::memory_order_relaxed);
  if (!armed) detail::g_probability_hint.store(false, std::memory_order_relaxed);
}

bool take_probability_hint() { return detail::g_probability_hint.exchange(false, std::memory_order_relaxed); }

}  // namespace focal
