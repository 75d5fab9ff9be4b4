// The elementwise family beyond the focal loss (varifocal, quality focal, asymmetric), on logits,
// in scalar double: one pass computes each element's loss and dL/dlogit. Shared by every
// instruction set (like the probability paths); the focal loss itself has the vector kernels.
// docs/DESIGN.md#the-elementwise-family
#ifndef TFJS_FOCAL_LOSS_CORE_FAMILY_ELEMENTS_H_
#define TFJS_FOCAL_LOSS_CORE_FAMILY_ELEMENTS_H_

#include <cstdint>

#include "include/focal_loss.h"
#include "kernels/isa_kernels.h"

namespace focal {
namespace detail {

// Elements [begin, end) of a.loss (not kFocal) with float labels. Reports a target outside [0, 1]
// or NaN (kLabelOutsideUnitInterval) in `error`.
void family_elements(const SigmoidFocalArgs& a, int64_t begin, int64_t end, KernelError* error);

}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_CORE_FAMILY_ELEMENTS_H_
