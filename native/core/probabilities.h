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
// is NaN, infinite or negative (kProbabilityInvalid) or a row whose sum is not positive and finite
// (kProbabilityRowSum) in `error`.
void probability_row(const SoftmaxFocalArgs& a, int64_t row, double* g, KernelError* error);

// Sigmoid elements [begin, end) of probabilities. Reports a probability outside [0, 1]
// (kProbabilityOutsideUnitInterval) or a label outside [0, 1] (kLabelOutsideUnitInterval).
void probability_elements(const SigmoidFocalArgs& a, int64_t begin, int64_t end, KernelError* error);

}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_CORE_PROBABILITIES_H_
