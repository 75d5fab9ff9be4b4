// Internal interface between the ISA-independent code (core/, kernels/dispatch.cc) and the
// per-instruction-set kernel translation units (kernels/kernels_{generic,avx2,avx512}.cc).
// docs/DESIGN.md#simd-and-dispatch
//
// Each ISA translation unit defines the same functions in its own namespace (focal::generic,
// focal::avx2, focal::avx512) and is compiled with its own target flags. Only plain functions
// cross this boundary, so no inline function or template instantiated with AVX-512 instructions can
// be picked by the linker for code running on a CPU without them (ODR safety).
#ifndef TFJS_FOCAL_LOSS_KERNELS_H_
#define TFJS_FOCAL_LOSS_KERNELS_H_

#include <cstdint>

#include "include/focal_loss.h"

namespace focal {
namespace detail {

// The first bad input a kernel met. Kernels do not build strings (no std:: in ISA code); the
// ISA-independent code turns this into an Error (core/errors.h).
struct KernelError {
  ErrorCode code = ErrorCode::kNone;
  int64_t index = -1;  // flat element index (for kProbabilityRowSum: of the row's first element)
  double value = 0;
};

// Scratch a softmax row kernel may use for one row of `classes` classes, in floats (the buffer is
// allocated with twice that many floats, so a kernel may also use it as `classes` doubles).
static inline int64_t softmax_scratch_floats(int64_t classes) { return classes + 64; }
// Up to this many classes rows go through the lane kernels (sparse_rows_lanes, dense_rows_lanes;
// a block is kept on the stack as kMaxLaneClasses vectors per operand).
constexpr int64_t kMaxLaneClasses = 64;
// With logit offsets the buffer has a third part, for the adjusted logits of up to
// kAdjustedBlockRows rows of few classes (blocks for the lane kernels) or one row of many.
constexpr int64_t kAdjustedBlockRows = 64;
static inline int64_t adjusted_scratch_floats(int64_t classes) {
  return classes <= kMaxLaneClasses ? kAdjustedBlockRows * classes : softmax_scratch_floats(classes);
}

#define FOCAL_DECLARE_ISA_KERNELS(ns)                                                           \
  namespace ns {                                                                                \
  /* Softmax focal loss on logits for rows [row_begin, row_end). Sparse labels already     \
     validated; a dense label outside [0, 1] (NaN included) is reported in `error`; rows with  \
     NaN/+Inf logits get NaN outputs (no error). */                                             \
  void softmax_logits_rows(const SoftmaxFocalArgs& args, int64_t row_begin, int64_t row_end,  \
                           float* scratch, KernelError* error);                                 \
  /* Sigmoid focal loss on logits for elements [begin, end). */                                \
  void sigmoid_logits_elements(const SigmoidElementwiseArgs& args, int64_t begin, int64_t end,       \
                               KernelError* error);                                             \
  /* The elementwise family beyond the focal loss (args.loss != kFocal), on logits, float   \
     labels. */                                                                                 \
  void family_logits_elements(const SigmoidElementwiseArgs& args, int64_t begin, int64_t end,        \
                              KernelError* error);                                              \
  void scale_rows(const float* grad, const float* dy, int64_t row_begin, int64_t row_end,      \
                  int64_t classes, float* out);                                                 \
  void scale_elements(const float* grad, const float* dy, int64_t begin, int64_t end,          \
                      float* out);                                                              \
  }

FOCAL_DECLARE_ISA_KERNELS(generic)
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(FOCAL_NO_X86_KERNELS)
#define FOCAL_HAVE_X86_KERNELS 1
FOCAL_DECLARE_ISA_KERNELS(avx2)
FOCAL_DECLARE_ISA_KERNELS(avx512)
#endif

// The kernel set selected for this process (CPU features, env TFJS_FOCAL_LOSS_SIMD).
struct KernelTable {
  const char* name;
  decltype(&generic::softmax_logits_rows) softmax_logits_rows;
  decltype(&generic::sigmoid_logits_elements) sigmoid_logits_elements;
  decltype(&generic::family_logits_elements) family_logits_elements;
  decltype(&generic::scale_rows) scale_rows;
  decltype(&generic::scale_elements) scale_elements;
};
const KernelTable& kernels();
// Tests and benchmarks: switch to the kernel set `name` ("generic", "avx2", "avx512"); false if
// this CPU cannot run it.
bool force_kernels(const char* name);

}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_KERNELS_H_
