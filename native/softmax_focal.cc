// softmax_focal_loss: argument checks, label validation, the parallel split over rows, and the
// probability-input path (from_logits == false, Keras categorical_focal_crossentropy semantics),
// which is computed here in scalar double precision.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>

#include "kernels.h"
#include "thread_pool.h"

namespace focal {
namespace {

using detail::ErrorCollector;
using detail::InputError;
using detail::KernelError;

constexpr double kEpsilon = 1e-7;  // keras.backend.epsilon()

double pow_gamma(double q, double gamma) {
  if (gamma == 0.0) return 1.0;
  if (gamma == 2.0) return q * q;
  return std::pow(q, gamma);
}

// Keras probability path for one row:
//   u = x / sum(x), p = clip(u, eps, 1 - eps), L = -sum_j alpha_j y_j (1 - p_j)^gamma log p_j.
// The gradient goes through the clip (zero where u is outside [eps, 1 - eps], as TF's
// clip_by_value gradient) and through the normalisation: dL/dx_k = (g_k - sum_j g_j u_j) / s.
void probability_row(const SoftmaxFocalArgs& a, int64_t row, double* g, KernelError* error) {
  const int64_t C = a.classes;
  const float* x = a.logits + row * C;
  double s = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    const double v = x[j];
    if (!(v >= 0.0 && v < std::numeric_limits<double>::infinity())) {
      error->code = InputError::kProbabilityInvalid;
      error->index = row * C + j;
      error->value = v;
      return;
    }
    s += v;
  }
  if (!(s > 0.0 && s < std::numeric_limits<double>::infinity())) {
    error->code = InputError::kProbabilityRowSum;
    error->index = row * C;
    error->value = s;
    return;
  }
  int32_t target = -1;
  if (a.sparse_labels) target = a.sparse_labels[row];
  const double ls = a.label_smoothing, ls_c = ls / static_cast<double>(C), gamma = a.gamma;
  double loss = 0.0, gu = 0.0;
  for (int64_t j = 0; j < C; ++j) {
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
    loss += aj * (-mod * lp);
    if (inside) {
      // d/dp [-(1-p)^g log p] = g (1-p)^(g-1) log p - (1-p)^g / p
      const double dmod = gamma == 0.0 ? 0.0 : gamma * std::pow(q, gamma - 1.0);
      g[j] = aj * (dmod * lp - mod / p);
      gu += g[j] * u;
    }
  }
  a.loss_out[row] = static_cast<float>(loss);
  if (!a.grad_out) return;
  float* out = a.grad_out + row * C;
  for (int64_t j = 0; j < C; ++j) out[j] = static_cast<float>((g[j] - gu) / s);
}

std::string check_args(const SoftmaxFocalArgs& a) {
  if (a.rows < 0) return "rows must be >= 0, got " + std::to_string(a.rows);
  if (a.classes < 1) return "classes must be >= 1, got " + std::to_string(a.classes);
  if (a.rows > std::numeric_limits<int64_t>::max() / a.classes / 2)
    return "rows * classes is too large: " + std::to_string(a.rows) + " * " + std::to_string(a.classes);
  if ((a.sparse_labels != nullptr) + (a.dense_labels != nullptr) + (a.dense_labels_int32 != nullptr) != 1)
    return "exactly one of sparse_labels, dense_labels and dense_labels_int32 must be given";
  if (a.rows > 0 && (a.logits == nullptr || a.loss_out == nullptr))
    return "logits and loss_out must not be null";
  if (!(a.gamma >= 0.0 && std::isfinite(a.gamma)))
    return "gamma must be a finite number >= 0, got " + detail::format_number(a.gamma);
  if (!(a.label_smoothing >= 0.0 && a.label_smoothing <= 1.0))
    return "labelSmoothing must be in [0, 1], got " + detail::format_number(a.label_smoothing);
  if (a.alpha) {
    for (int64_t j = 0; j < a.classes; ++j)
      if (!std::isfinite(a.alpha[j]))
        return "alpha[" + std::to_string(j) + "] must be finite, got " + detail::format_number(a.alpha[j]);
  } else if (!std::isfinite(a.alpha_scalar)) {
    return "alpha must be finite, got " + detail::format_number(a.alpha_scalar);
  }
  if (a.has_ignore_index && !a.sparse_labels)
    return "ignoreIndex applies to sparse (int32) labels only, but dense labels were given";
  if (a.sparse_labels) {
    for (int64_t r = 0; r < a.rows; ++r) {
      const int32_t t = a.sparse_labels[r];
      if (a.has_ignore_index && t == a.ignore_index) continue;
      if (t < 0 || t >= a.classes) {
        std::string msg = "labels[" + std::to_string(r) + "] = " + std::to_string(t) +
                          " is out of range [0, " + std::to_string(a.classes) + ")";
        if (a.has_ignore_index) msg += " and is not ignoreIndex (" + std::to_string(a.ignore_index) + ")";
        return msg;
      }
    }
  }
  return std::string();
}

// A NaN or infinite dense label always makes its row's loss non-finite, so only rows whose loss
// is not finite need their labels looked at: O(rows) after the pass instead of a check per
// element inside it. A non-finite loss with finite labels comes from non-finite logits and
// propagates as in any tfjs op.
std::string check_dense_labels_finite(const SoftmaxFocalArgs& a) {
  const int64_t C = a.classes;
  for (int64_t row = 0; row < a.rows; ++row) {
    if (std::isfinite(a.loss_out[row])) continue;
    for (int64_t k = row * C; k < (row + 1) * C; ++k) {
      if (!std::isfinite(a.dense_labels[k])) {
        return "labels must contain only finite values; received labels[" + std::to_string(k) +
               "] = " + detail::format_number(a.dense_labels[k]);
      }
    }
  }
  return std::string();
}

}  // namespace

std::string softmax_focal_loss(const SoftmaxFocalArgs& args) {
  detail::count_call();
  std::string bad = check_args(args);
  if (!bad.empty()) return bad;
  if (args.rows == 0) return std::string();
  ErrorCollector errors;
  const int64_t C = args.classes;
  const auto& k = detail::kernels();
  const bool probabilities = !args.from_logits;
  const double ns_per_element = probabilities ? pool::kNsPerProbabilityElement
                                : (!args.sparse_labels || args.label_smoothing > 0.0)
                                    ? pool::kNsPerDenseSoftmaxElement
                                    : pool::kNsPerSoftmaxElement;
  const int64_t work = pool::work_ns(args.rows * C, ns_per_element) + pool::work_ns(args.rows, pool::kNsPerSoftmaxRow);
  // Rows [begin, end) of `a`, with float or sparse labels.
  auto run_rows = [&](const SoftmaxFocalArgs& a, int64_t begin, int64_t end, float* scratch,
                      KernelError* error) {
    if (!probabilities) {
      k.softmax_logits_rows(a, begin, end, scratch, error);
      return;
    }
    double* g = reinterpret_cast<double*>(scratch);
    for (int64_t row = begin; row < end && error->code == InputError::kNone; ++row) {
      if (a.sparse_labels && a.has_ignore_index && a.sparse_labels[row] == a.ignore_index) {
        a.loss_out[row] = 0.0f;
        if (a.grad_out)
          for (int64_t j = 0; j < C; ++j) a.grad_out[row * C + j] = 0.0f;
        continue;
      }
      probability_row(a, row, g, error);
    }
  };
  // Integer dense labels: blocks of rows whose labels, converted, fill about 64 KB (at least one
  // row) go through the float path with the block's slices of every array.
  const int64_t block_rows = detail::label_block_rows(C);
  pool::parallel_for(args.rows, work, [&](int64_t begin, int64_t end, int) {
    KernelError error;
    // Per-chunk scratch (one row of doubles, then the converted labels of one block); malloc
    // failure is reported, never thrown.
    const size_t row_floats = static_cast<size_t>(detail::softmax_scratch_floats(C)) * 2;
    const size_t label_floats = args.dense_labels_int32 ? static_cast<size_t>(block_rows * C) : 0;
    std::unique_ptr<float, void (*)(void*)> scratch(
        static_cast<float*>(std::malloc((row_floats + label_floats) * sizeof(float))), std::free);
    if (!scratch) {
      error.code = InputError::kOutOfMemory;
      error.index = begin * C;
      errors.add(error);
      return;
    }
    if (!args.dense_labels_int32) {
      run_rows(args, begin, end, scratch.get(), &error);
      errors.add(error);
      return;
    }
    float* labels = scratch.get() + row_floats;
    for (int64_t b = begin; b < end && error.code == InputError::kNone; b += block_rows) {
      const int64_t n = end - b < block_rows ? end - b : block_rows;
      detail::int32_to_float(args.dense_labels_int32 + b * C, n * C, labels);
      SoftmaxFocalArgs block = args;
      block.rows = n;
      block.logits = args.logits + b * C;
      block.dense_labels_int32 = nullptr;
      block.dense_labels = labels;
      block.loss_out = args.loss_out + b;
      if (args.grad_out) block.grad_out = args.grad_out + b * C;
      run_rows(block, 0, n, scratch.get(), &error);
      if (error.code != InputError::kNone) error.index += b * C;  // back to the whole tensor's index
    }
    errors.add(error);
  });
  if (errors.has_error()) return errors.message(C);
  if (args.dense_labels) return check_dense_labels_finite(args);
  return std::string();
}

}  // namespace focal
