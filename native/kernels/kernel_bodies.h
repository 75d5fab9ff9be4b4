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

namespace {

// Logit adjustment: each row's logits minus their max, plus the offsets, into the adjusted-logits
// scratch, then the usual kernels on a view of the arguments over those rows (softmax is
// shift-invariant). The max comes off first because z - max is exact for the classes that matter
// (Sterbenz), while z + offset rounded at |z| ~ 1e4 would move p by ~1e-4 relative. Few classes
// (C <= kMaxLaneClasses): blocks of kAdjustedBlockRows rows through the lane kernels; more: one row
// at a time through the row kernels (the grouped kernel would read the logits twice).
void adjusted_rows(const SoftmaxFocalArgs& args, int64_t row_begin, int64_t row_end, const Gamma& gm,
                   bool dense, float* scratch_e, float* scratch_w, float* scratch_z, KernelError* error) {
  const int64_t C = args.classes;
  const float* off = args.logit_offsets;
  const bool lanes = C <= kMaxLaneClasses;
  const int64_t block = lanes ? kAdjustedBlockRows : 1;
  for (int64_t first = row_begin; first < row_end; first += block) {
    const int64_t n = row_end - first < block ? row_end - first : block;
    for (int64_t i = 0; i < n; ++i) {
      const float* z = args.logits + (first + i) * C;
      float* out = scratch_z + i * C;
      float m;
      // A row without a finite max (NaN, +-Inf) is shifted by 0: the kernels see its specials.
      const VF vm = set1(row_max(z, C, &m) ? m : 0.0f);
      int64_t j = 0;
      for (; j + W <= C; j += W) storeu(out + j, add(sub(loadu(z + j), vm), loadu(off + j)));
      if (j < C) {
        const int k = static_cast<int>(C - j);
        store_partial(out + j, add(sub(load_partial(z + j, k, 0.0f), vm), load_partial(off + j, k, 0.0f)), k);
      }
    }
    SoftmaxFocalArgs r = args;
    r.rows = n;
    r.logits = scratch_z;
    r.logit_offsets = nullptr;
    if (args.sparse_labels) r.sparse_labels = args.sparse_labels + first;
    if (args.dense_labels) r.dense_labels = args.dense_labels + first * C;
    r.loss_out = args.loss_out + first;
    if (args.grad_out) r.grad_out = args.grad_out + first * C;
    if (lanes && dense) dense_rows_lanes(r, 0, n, gm, scratch_e, scratch_w, error);
    else if (lanes) sparse_rows_lanes(r, 0, n, gm);
    else if (dense) dense_path_row(r, 0, gm, scratch_e, scratch_w, error);
    else sparse_row(r, 0, gm);
    if (error->code != ErrorCode::kNone) {
      error->index += first * C;  // back to the whole tensor's index
      return;
    }
  }
}

}  // namespace

void softmax_logits_rows(const SoftmaxFocalArgs& args, int64_t row_begin, int64_t row_end,
                         float* scratch, KernelError* error /* a dense label outside [0, 1] */) {
  const Gamma gm = make_gamma(args.gamma, args.poly_epsilon);
  const bool dense = args.dense_labels != nullptr || args.label_smoothing > 0.0;
  const int64_t C = args.classes;
  float* scratch_e = scratch;
  float* scratch_w = scratch + softmax_scratch_floats(C);
  if (args.logit_offsets) {
    adjusted_rows(args, row_begin, row_end, gm, dense, scratch_e, scratch_w,
                  scratch + 2 * softmax_scratch_floats(C), error);
    return;
  }
  // The gradient is written with ordinary (not non-temporal) stores: it is still in cache for the
  // op that reads it next.
  if (!dense && C <= kMaxLaneClasses) {
    sparse_rows_lanes(args, row_begin, row_end, gm);
    return;
  }
  if (dense && C <= kMaxLaneClasses) {
    dense_rows_lanes(args, row_begin, row_end, gm, scratch_e, scratch_w, error);
    return;
  }
  if (!dense) {
    sparse_rows_grouped(args, row_begin, row_end, gm);
    return;
  }
  for (int64_t row = row_begin; row < row_end && error->code == ErrorCode::kNone; ++row) {
    dense_path_row(args, row, gm, scratch_e, scratch_w, error, prefetch_for(args, row, row_end));
  }
}

}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal

#include "kernels/sigmoid_elements.h"
#include "kernels/family_elements.h"

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
