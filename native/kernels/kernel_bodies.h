// The kernels, written once against the primitives of simd_<isa>.h and compiled once per
// instruction set. Included by kernels/kernels_{generic,avx2,avx512}.cc after their simd header, with
// FOCAL_ISA set to the ISA namespace. Everything lives in focal::detail::FOCAL_ISA; helpers have
// internal linkage, and no std:: templates are used (ODR safety across differently compiled TUs).
//
// Softmax row algorithm (logits path), one row at a time so the row stays in L1:
//   pass 1  max over the row (reads the row from memory; NaN/+Inf detection on the side)
//   pass 2  e_j = exp(z_j - m), written into the gradient row, summed in double
//   scalar  per-row loss and gradient scale in double (log1p/pow/...)
//   pass 3  gradient = e_j * scale over the row still in L1, one element fixed up
// Exp is computed once per element. docs/DESIGN.md#softmax-focal-loss, docs/DESIGN.md#numerics
#ifndef FOCAL_ISA
#error "define FOCAL_ISA before including kernel_bodies.h"
#endif

#include "kernels/softmax_dense.h"

namespace focal {
namespace detail {
namespace FOCAL_ISA {

// ---------------------------------------------------------------------------------------------
// Entry points.

void softmax_logits_rows(const SoftmaxFocalArgs& args, int64_t row_begin, int64_t row_end,
                         float* scratch, KernelError* /*error: logits rows cannot fail*/) {
  const Gamma gm = make_gamma(args.gamma);
  const bool dense = args.dense_labels != nullptr || args.label_smoothing > 0.0;
  const int64_t C = args.classes;
  float* scratch_e = scratch;
  float* scratch_w = scratch + softmax_scratch_floats(C);
  // The gradient is written with ordinary (not non-temporal) stores: it is still in cache for the
  // op that reads it next.
  if (!dense && C <= kMaxLaneClasses) {
    sparse_rows_lanes(args, row_begin, row_end, gm);
    return;
  }
  if (dense && C <= kMaxLaneClasses) {
    dense_rows_lanes(args, row_begin, row_end, gm, scratch_e, scratch_w);
    return;
  }
  if (!dense) {
    sparse_rows_grouped(args, row_begin, row_end, gm);
    return;
  }
  for (int64_t row = row_begin; row < row_end; ++row) {
    dense_path_row(args, row, gm, scratch_e, scratch_w, prefetch_for(args, row, row_end));
  }
}

}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal

#include "kernels/sigmoid_elements.h"

namespace focal {
namespace detail {
namespace FOCAL_ISA {

void scale_rows(const float* grad, const float* dy, int64_t row_begin, int64_t row_end,
                int64_t classes, float* out) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const VF s = set1(dy[r]);
    const float* gr = grad + r * classes;
    float* o = out + r * classes;
    int64_t j = 0;
    for (; j + W <= classes; j += W) storeu(o + j, mul(s, loadu(gr + j)));
    if (j < classes) {
      const int n = static_cast<int>(classes - j);
      store_partial(o + j, mul(s, load_partial(gr + j, n, 0.0f)), n);
    }
  }
}

void scale_elements(const float* grad, const float* dy, int64_t begin, int64_t end, float* out) {
  int64_t i = begin;
  for (; i + W <= end; i += W) storeu(out + i, mul(loadu(dy + i), loadu(grad + i)));
  if (i < end) {
    const int n = static_cast<int>(end - i);
    store_partial(out + i, mul(load_partial(dy + i, n, 0.0f), load_partial(grad + i, n, 0.0f)), n);
  }
}

}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal
