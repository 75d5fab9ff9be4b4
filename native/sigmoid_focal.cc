// sigmoid_focal_loss: argument checks, the parallel split, and the probability-input path
// (from_logits == false, Keras binary_focal_crossentropy semantics), computed here in double.
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

// Keras BinaryFocalCrossentropy on probabilities:
//   bce = -(y log pc + (1 - y) log(1 - pc)) with pc = clip(p, eps, 1 - eps),
//   1 - p_t = y (1 - p) + (1 - y) p from the unclipped p,
//   L = alpha_t (1 - p_t)^gamma bce.
// The gradient of bce goes through the clip (zero outside [eps, 1 - eps], TF clip_by_value).
void probability_elements(const SigmoidFocalArgs& a, int64_t begin, int64_t end, KernelError* error) {
  const double ls = a.label_smoothing, gamma = a.gamma;
  for (int64_t i = begin; i < end; ++i) {
    const float pf = a.logits[i], yf = a.labels[i];
    if (!(pf >= 0.0f && pf <= 1.0f)) {
      error->code = InputError::kProbabilityInvalid;
      error->index = i;
      error->value = pf;
      return;
    }
    if (!(yf >= 0.0f && yf <= 1.0f)) {
      error->code = InputError::kLabelOutOfRange;
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
    a.loss_out[i] = static_cast<float>(alpha_t * mod * bce);
    if (a.grad_out) {
      // d mod/dp = gamma q^(gamma-1) (1 - 2y). At q == 0 with 0 < gamma < 1 this is infinite, as
      // in TensorFlow (the derivative of q^gamma at 0); it needs p exactly 0 or 1.
      const double dmod = gamma == 0.0 ? 0.0 : gamma * std::pow(q, gamma - 1.0) * (1.0 - 2.0 * y);
      const double dbce = inside ? -y / pc + (1.0 - y) / (1.0 - pc) : 0.0;
      a.grad_out[i] = static_cast<float>(alpha_t * (dmod * bce + mod * dbce));
    }
  }
}

std::string check_args(const SigmoidFocalArgs& a) {
  if (a.count < 0) return "count must be >= 0, got " + std::to_string(a.count);
  if (a.count > 0 && (a.logits == nullptr || a.loss_out == nullptr))
    return "logits and loss_out must not be null";
  if (a.count > 0 && (a.labels == nullptr) == (a.labels_int32 == nullptr))
    return "exactly one of labels and labels_int32 must be given";
  if (!(a.gamma >= 0.0 && std::isfinite(a.gamma)))
    return "gamma must be a finite number >= 0, got " + detail::format_number(a.gamma);
  if (a.class_balancing && !(a.alpha >= 0.0 && a.alpha <= 1.0))
    return "alpha must be in [0, 1], got " + detail::format_number(a.alpha);
  if (!(a.label_smoothing >= 0.0 && a.label_smoothing <= 1.0))
    return "labelSmoothing must be in [0, 1], got " + detail::format_number(a.label_smoothing);
  return std::string();
}

}  // namespace

std::string sigmoid_focal_loss(const SigmoidFocalArgs& args) {
  detail::count_call();
  std::string bad = check_args(args);
  if (!bad.empty()) return bad;
  if (args.count == 0) return std::string();
  ErrorCollector errors;
  const auto& k = detail::kernels();
  // Chunks of whole 64-byte lines so two threads never write the same cache line.
  const int64_t blocks = (args.count + 15) / 16;
  const double ns_per_element =
      args.from_logits ? pool::kNsPerSigmoidElement : pool::kNsPerProbabilityElement;
  // Elements [first, last) of `a`, with float labels.
  auto run_elements = [&](const SigmoidFocalArgs& a, int64_t first, int64_t last, KernelError* error) {
    if (args.from_logits) {
      k.sigmoid_logits_elements(a, first, last, error);
    } else {
      probability_elements(a, first, last, error);
    }
  };
  pool::parallel_for(blocks, pool::work_ns(args.count, ns_per_element), [&](int64_t begin, int64_t end, int) {
    KernelError error;
    const int64_t first = begin * 16;
    const int64_t last = end * 16 < args.count ? end * 16 : args.count;
    if (!args.labels_int32) {
      run_elements(args, first, last, &error);
      errors.add(error);
      return;
    }
    // Integer labels: converted one block at a time (kernels.h), the block run with its slices.
    std::unique_ptr<float, void (*)(void*)> scratch(
        static_cast<float*>(std::malloc(detail::kLabelBlockElements * sizeof(float))), std::free);
    if (!scratch) {
      error.code = InputError::kOutOfMemory;
      error.index = first;
      errors.add(error);
      return;
    }
    float* labels = scratch.get();
    for (int64_t b = first; b < last && error.code == InputError::kNone; b += detail::kLabelBlockElements) {
      const int64_t n = last - b < detail::kLabelBlockElements ? last - b : detail::kLabelBlockElements;
      detail::int32_to_float(args.labels_int32 + b, n, labels);
      SigmoidFocalArgs block = args;
      block.count = n;
      block.logits = args.logits + b;
      block.labels_int32 = nullptr;
      block.labels = labels;
      block.loss_out = args.loss_out + b;
      if (args.grad_out) block.grad_out = args.grad_out + b;
      run_elements(block, 0, n, &error);
      if (error.code != InputError::kNone) error.index += b;  // back to the whole tensor's index
    }
    errors.add(error);
  });
  if (errors.has_error()) return errors.message(1);
  return std::string();
}

}  // namespace focal
