// The probability-input paths (from_logits == false), Keras semantics, in scalar double. Shared by
// every instruction set (they are not vectorised: rarely used, and their cost is the libm calls).
#ifndef TFJS_FOCAL_LOSS_CORE_PROBABILITIES_H_
#define TFJS_FOCAL_LOSS_CORE_PROBABILITIES_H_

#include <cstdint>

#include "include/focal_loss.h"
#include "kernels/isa_kernels.h"

namespace focal {
namespace detail {

// One softmax row of probabilities. `g`: scratch of `classes` doubles. Reports a probability that
// is NaN, infinite or negative (kProbabilityInvalid), a row whose sum is not positive and finite
// (kProbabilityRowSum) or a dense label outside [0, 1] (kLabelOutsideUnitInterval) in `error`.
void probability_row(const SoftmaxFocalArgs& a, int64_t row, double* g, KernelError* error);

// Sigmoid elements [begin, end) of probabilities. Reports a probability outside [0, 1]
// (kProbabilityOutsideUnitInterval) or a label outside [0, 1] (kLabelOutsideUnitInterval).
void probability_elements(const SigmoidElementwiseArgs& a, int64_t begin, int64_t end, KernelError* error);

// Probabilities given as logits (set_probability_check, focal_loss.h): raises the hint when the
// call takes logits, the check is armed and the inputs look like probabilities. The first row (the
// first kProbeElements elements) is tested on every call; the rest only when it passes.
void probe_softmax_inputs(const SoftmaxFocalArgs& a);
void probe_elementwise_inputs(const SigmoidElementwiseArgs& a);
constexpr int64_t kProbeElements = 64;
// At least this many elementwise values before they are taken for probabilities.
constexpr int64_t kProbeMinElements = 32;

}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_CORE_PROBABILITIES_H_
