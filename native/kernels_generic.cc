// STAGE 1 portable kernels: scalar, double precision. (Replaced by the vectorised template in
// stage 2; kept readable as the definition of the numerics.)
#include <math.h>

#include "kernels.h"

namespace focal {
namespace detail {
namespace generic {
namespace {

inline double pow_gamma(double q, double gamma) {
  if (gamma == 0.0) return 1.0;  // also for q == 0: (1 - p)^0 == 1
  if (gamma == 1.0) return q;
  if (gamma == 2.0) return q * q;
  return pow(q, gamma);
}

// One class with log-probability lp, probability p and q = 1 - p (each computed without
// cancellation). f = -(1 - p)^gamma log p and d = df/dlog p = q^gamma (gamma p r - 1), with
// r = log p / q, which tends to -1 as p -> 1 (so gamma < 1 stays finite).
inline void focal_terms(double lp, double p, double q, double gamma, double* f, double* d) {
  const double mod = pow_gamma(q, gamma);
  const double r = q > 0.0 ? lp / q : -1.0;
  const double pr = p > 0.0 ? p * r : 0.0;  // p log p / q -> 0 as p -> 0, also for lp = -inf
  *f = -mod * lp;
  *d = mod * (gamma * pr - 1.0);
}

// Max of the row; reports NaN/+Inf/all -Inf rows. Returns false on error.
bool row_max(const float* z, int64_t classes, int64_t row_offset, float* max_out, int64_t* argmax,
             KernelError* error) {
  float m = -INFINITY;
  int64_t a = 0;
  for (int64_t j = 0; j < classes; ++j) {
    const float v = z[j];
    if (v != v || v == INFINITY) {
      error->code = InputError::kLogitNotFinite;
      error->index = row_offset + j;
      error->value = v;
      return false;
    }
    if (v > m) {
      m = v;
      a = j;
    }
  }
  if (m == -INFINITY) {
    error->code = InputError::kLogitNotFinite;
    error->index = row_offset;
    error->value = -INFINITY;
    return false;
  }
  *max_out = m;
  *argmax = a;
  return true;
}

void sparse_row(const SoftmaxFocalArgs& a, int64_t row, KernelError* error) {
  const int64_t C = a.classes;
  const float* z = a.logits + row * C;
  float* g = a.grad_out ? a.grad_out + row * C : nullptr;
  const int32_t t = a.sparse_labels[row];
  if (a.has_ignore_index && t == a.ignore_index) {
    a.loss_out[row] = 0.0f;
    if (g) for (int64_t j = 0; j < C; ++j) g[j] = 0.0f;
    return;
  }
  float mf;
  int64_t argmax;
  if (!row_max(z, C, row * C, &mf, &argmax, error)) return;
  const double m = mf;
  const bool t_is_max = z[t] == mf;
  double others = 0.0;  // sum of exp(z_j - m) over j != t when t is a max, else over all j
  for (int64_t j = 0; j < C; ++j) {
    if (t_is_max && j == t) continue;
    others += exp(static_cast<double>(z[j]) - m);
  }
  double S, lp, p, q;
  if (t_is_max) {
    S = 1.0 + others;
    lp = -log1p(others);
    p = 1.0 / S;
    q = others / S;  // 1 - p without cancellation
  } else {
    S = others;
    lp = (static_cast<double>(z[t]) - m) - log(S);
    p = exp(lp);
    q = 1.0 - p;  // p <= 1/2 here, no cancellation
  }
  const double alpha_t = a.alpha ? a.alpha[t] : a.alpha_scalar;
  double f, d;
  focal_terms(lp, p, q, a.gamma, &f, &d);
  a.loss_out[row] = static_cast<float>(alpha_t * f);
  if (!g) return;
  const double c = alpha_t * d;  // dL/dlog p_t; dL/dz_j = c (delta_jt - p_j)
  const double k = -c / S;
  for (int64_t j = 0; j < C; ++j) g[j] = static_cast<float>(k * exp(static_cast<double>(z[j]) - m));
  g[t] = static_cast<float>(c * q);
}

// Dense labels (or sparse labels with label smoothing, given as `target` >= 0).
void dense_row(const SoftmaxFocalArgs& a, int64_t row, int32_t target, double* w,
               KernelError* error) {
  const int64_t C = a.classes;
  const float* z = a.logits + row * C;
  const float* y = a.dense_labels ? a.dense_labels + row * C : nullptr;
  float* g = a.grad_out ? a.grad_out + row * C : nullptr;
  float mf;
  int64_t am;
  if (!row_max(z, C, row * C, &mf, &am, error)) return;
  const double m = mf;
  double others = 0.0;
  for (int64_t j = 0; j < C; ++j)
    if (j != am) others += exp(static_cast<double>(z[j]) - m);
  const double S = 1.0 + others, logS = log1p(others);
  const double ls = a.label_smoothing, ls_c = ls / static_cast<double>(C);
  double loss = 0.0, w_others = 0.0, w_max = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    const double yj = y ? static_cast<double>(y[j]) * (1.0 - ls) + ls_c
                        : (j == target ? 1.0 - ls : 0.0) + ls_c;
    if (yj == 0.0) {
      w[j] = 0.0;
      continue;
    }
    double lp, p, q;
    if (j == am) {
      lp = -logS;
      p = 1.0 / S;
      q = others / S;
    } else {
      lp = (static_cast<double>(z[j]) - m) - logS;
      p = exp(lp);
      q = 1.0 - p;
    }
    const double aj = (a.alpha ? a.alpha[j] : a.alpha_scalar) * yj;
    double f, d;
    focal_terms(lp, p, q, a.gamma, &f, &d);
    loss += aj * f;
    w[j] = aj * d;
    if (j == am) w_max = w[j]; else w_others += w[j];
  }
  a.loss_out[row] = static_cast<float>(loss);
  if (!g) return;
  // dL/dz_k = w_k - p_k W; for the argmax (p may be ~1) as w_k (1 - p_k) - p_k (W - w_k).
  const double W = w_max + w_others;
  for (int64_t j = 0; j < C; ++j) {
    if (j == am) {
      g[j] = static_cast<float>(w_max * (others / S) - w_others / S);
    } else {
      const double p = exp(static_cast<double>(z[j]) - m) / S;
      g[j] = static_cast<float>(w[j] - p * W);
    }
  }
}

}  // namespace

void softmax_logits_rows(const SoftmaxFocalArgs& args, int64_t row_begin, int64_t row_end,
                         float* scratch, KernelError* error) {
  double* w = reinterpret_cast<double*>(scratch);
  const bool dense = args.dense_labels != nullptr || args.label_smoothing > 0.0;
  for (int64_t row = row_begin; row < row_end; ++row) {
    if (dense) {
      int32_t target = -1;
      if (!args.dense_labels) {
        target = args.sparse_labels[row];
        if (args.has_ignore_index && target == args.ignore_index) {
          args.loss_out[row] = 0.0f;
          if (args.grad_out)
            for (int64_t j = 0; j < args.classes; ++j) args.grad_out[row * args.classes + j] = 0.0f;
          continue;
        }
      }
      dense_row(args, row, target, w, error);
    } else {
      sparse_row(args, row, error);
    }
    if (error->code != InputError::kNone) return;
  }
}

void sigmoid_logits_elements(const SigmoidFocalArgs& a, int64_t begin, int64_t end,
                             KernelError* error) {
  const double ls = a.label_smoothing, gamma = a.gamma;
  for (int64_t i = begin; i < end; ++i) {
    const float xf = a.logits[i], yf = a.labels[i];
    if (!(xf - xf == 0.0f)) {  // NaN or +-Inf
      error->code = InputError::kSigmoidLogitNotFinite;
      error->index = i;
      error->value = xf;
      return;
    }
    if (!(yf >= 0.0f && yf <= 1.0f)) {
      error->code = InputError::kLabelOutOfRange;
      error->index = i;
      error->value = yf;
      return;
    }
    const double x = xf, y = yf * (1.0 - ls) + 0.5 * ls;
    // p = sigmoid(x) and pm = 1 - p = sigmoid(-x), each without cancellation.
    const double e = exp(-fabs(x));
    const double inv = 1.0 / (1.0 + e);
    const double p = x >= 0 ? inv : e * inv;
    const double pm = x >= 0 ? e * inv : inv;
    // BCE with logits: max(x, 0) - x y + log(1 + exp(-|x|)), written so that no inf - inf occurs.
    const double ce = (x >= 0 ? x * (1.0 - y) : -x * y) + log1p(e);
    const double q = y * pm + (1.0 - y) * p;  // 1 - p_t
    const double alpha_t = a.class_balancing ? a.alpha * y + (1.0 - a.alpha) * (1.0 - y) : 1.0;
    const double mod = pow_gamma(q, gamma);
    a.loss_out[i] = static_cast<float>(alpha_t * ce * mod);
    if (a.grad_out) {
      // dL/dx = alpha_t [q^g (p - y) - g q^(g-1) ce p (1-p) (2y - 1)], with q^(g-1) p (1-p) written
      // as q^g * (p pm / q): p pm / q <= 1, and the term is 0 when q == 0.
      const double ratio = q > 0.0 ? p * pm / q : 0.0;
      const double p_minus_y = p * (1.0 - y) - y * pm;
      a.grad_out[i] = static_cast<float>(
          alpha_t * mod * (p_minus_y - gamma * ratio * ce * (2.0 * y - 1.0)));
    }
  }
}

void scale_rows(const float* grad, const float* dy, int64_t row_begin, int64_t row_end,
                int64_t classes, float* out) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float s = dy[r];
    const float* gr = grad + r * classes;
    float* o = out + r * classes;
    for (int64_t j = 0; j < classes; ++j) o[j] = s * gr[j];
  }
}

void scale_elements(const float* grad, const float* dy, int64_t begin, int64_t end, float* out) {
  for (int64_t i = begin; i < end; ++i) out[i] = dy[i] * grad[i];
}

}  // namespace generic
}  // namespace detail
}  // namespace focal
