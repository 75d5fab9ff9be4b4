// Dense labels (or sparse labels with smoothing): the row kernel and the lane kernel for few
// classes. docs/DESIGN.md#softmax-focal-loss
#ifndef TFJS_FOCAL_LOSS_KERNELS_SOFTMAX_DENSE_H_
#define TFJS_FOCAL_LOSS_KERNELS_SOFTMAX_DENSE_H_

#include "kernels/softmax_sparse_lanes.h"

namespace focal {
namespace detail {
namespace FOCAL_ISA {
namespace {

// ---------------------------------------------------------------------------------------------
// Dense labels (or sparse labels with smoothing, as `target`):
//   L = -sum_j alpha_j y_j (1 - p_j)^gamma log p_j,  w_j = alpha_j y_j d_j,
//   dL/dz_k = w_k - p_k W (W = sum_j w_j); for the argmax a: w_a q_a - p_a (W - w_a).
// The argmax class (the only one whose p can be near 1) is done in scalar double; the others in
// float vectors, where q = 1 - p >= 1/2 has no cancellation. With one-hot labels (no smoothing)
// chunks whose labels are all zero are skipped.

struct DenseCtx {
  const float* z;
  const float* y;     // dense labels of the row, or null
  int32_t target;     // sparse target (with smoothing) when y is null
  const float* e;     // exp(z - m)
  float* w;           // scratch: w_j
  int64_t C, am;
  float m;
  float y_scale, y_add;
  bool skip_zero_chunks;
};

// Labels of one chunk after smoothing; lanes >= n are 0.
inline VF chunk_labels(const DenseCtx& c, int64_t j, int n) {
  if (c.y) {
    const VF y = n == W ? loadu(c.y + j) : load_partial(c.y + j, n, 0.0f);
    return zero_unless(tail_mask(n), fma(y, set1(c.y_scale), set1(c.y_add)));
  }
  VF y = set1(c.y_add);
  if (c.target >= j && c.target < j + W) y = select(lane_mask(static_cast<int>(c.target - j)), set1(c.y_add + c.y_scale), y);
  return zero_unless(tail_mask(n), y);
}

inline bool chunk_all_zero(const DenseCtx& c, int64_t j, int n) {
  if (!c.skip_zero_chunks) return false;
  const VF y = n == W ? loadu(c.y + j) : load_partial(c.y + j, n, 0.0f);
  return !any(neq(y, set1(0.0f)));
}

inline void dense_row(const SoftmaxFocalArgs& a, int64_t row, int32_t target, const Gamma& gm,
                      float* scratch_e, float* scratch_w, RowPrefetch pf, KernelError* error) {
  const int64_t C = a.classes;
  if (a.dense_labels) {
    // Dense labels in [0, 1] (vector_math.h), checked on the row before it is used: it stays in L1.
    const float* y = a.dense_labels + row * C;
    for (int64_t j = 0; j < C; j += W) {
      const int n = C - j < W ? static_cast<int>(C - j) : W;
      if (!unit_interval_labels(n == W ? loadu(y + j) : load_partial(y + j, n, 0.0f), a.dense_labels,
                                row * C + j, n, error))
        return;
    }
  }
  const float* z = a.logits + row * C;
  float* g = a.grad_out ? a.grad_out + row * C : nullptr;
  float mf;
  if (!row_max(z, C, &mf)) {
    if (mf == kInf) infinite_row(a, row, target);
    else poison_row(a, row);
    return;
  }
  const int64_t am = first_index_of(z, C, mf);
  float* e = g ? g : scratch_e;
  // Label weight on the argmax class (the only one whose p can be near 1)?
  const double ls = a.label_smoothing;
  const float* y_row = a.dense_labels ? a.dense_labels + row * C : nullptr;
  const bool am_weighted = ls > 0.0 || (y_row ? y_row[am] != 0.0f : am == target);
  const double others =
      am_weighted ? exp_pass<true>(z, C, mf, e, am, pf) : exp_pass<false>(z, C, mf, e, am, pf);
  if (others != others) {  // a NaN logit
    poison_row(a, row);
    return;
  }
  const double S = 1.0 + others, log_s = log1p(others), inv_s = 1.0 / S;

  DenseCtx c;
  c.z = z;
  c.y = y_row;
  c.target = target;
  c.e = e;
  c.w = scratch_w;
  c.C = C;
  c.am = am;
  c.m = mf;
  c.y_scale = static_cast<float>(1.0 - ls);
  c.y_add = static_cast<float>(ls / static_cast<double>(C));
  c.skip_zero_chunks = c.y != nullptr && ls == 0.0;

  const VF vm = set1(mf), vlog_s = set1(static_cast<float>(log_s)), vinv_s = set1(static_cast<float>(inv_s));
  const VF one = set1(1.0f), zero = set1(0.0f);
  SumD lp_sum, w_sum;  // sum of alpha y mod log p (= -loss), and of w over j != am
  for (int64_t j = 0; j < C; j += W) {
    const int n = C - j < W ? static_cast<int>(C - j) : W;
    if (chunk_all_zero(c, j, n)) continue;
    const VF y = chunk_labels(c, j, n);
    const VF zv = n == W ? loadu(z + j) : load_partial(z + j, n, 0.0f);
    const VF ev = n == W ? loadu(e + j) : load_partial(e + j, n, 0.0f);
    const VF al = a.alpha ? (n == W ? loadu(a.alpha + j) : load_partial(a.alpha + j, n, 0.0f))
                          : set1(a.alpha_scalar);
    const VF lp = sub(sub(zv, vm), vlog_s);
    const VF p = mul(ev, vinv_s);
    const VF q = sub(one, p);
    const VF mod = vpow_gamma(q, gm);
    const VF pr = zero_unless(gt(p, zero), mul(p, div(lp, q)));
    MF valid = neq(y, zero);
    if (am >= j && am < j + W) valid = mand(valid, not_lane_mask(static_cast<int>(am - j)));
    const VF aym = mul(mul(al, y), mod);
    const ClassTermsV t = class_terms_v(lp, p, q, pr, gm);
    const VF w = zero_unless(valid, mul(aym, t.dlp));
    lp_sum.add(zero_unless(valid, mul(aym, t.lq)));
    w_sum.add(w);
    if (n == W) storeu(scratch_w + j, w);
    else store_partial(scratch_w + j, w, n);
  }
  // The argmax class in double.
  double y_am;
  if (c.y) y_am = static_cast<double>(c.y[am]) * (1.0 - ls) + ls / static_cast<double>(C);
  else y_am = (am == target ? 1.0 - ls : 0.0) + ls / static_cast<double>(C);
  double f_am = 0.0, w_am = 0.0;
  const double q_am = others * inv_s;
  if (y_am != 0.0) {
    const double ay = (a.alpha ? a.alpha[am] : a.alpha_scalar) * y_am;
    double f, d;
    focal_terms(-log_s, inv_s, q_am, gm, &f, &d);
    f_am = ay * f;
    w_am = ay * d;
  }
  a.loss_out[row] = static_cast<float>(f_am - lp_sum.total());
  if (!g) return;
  const double w_others = w_sum.total();
  const VF kw = set1(static_cast<float>((w_am + w_others) * inv_s));
  for (int64_t j = 0; j < C; j += W) {
    const int n = C - j < W ? static_cast<int>(C - j) : W;
    const VF ev = n == W ? loadu(g + j) : load_partial(g + j, n, 0.0f);
    VF out;
    if (chunk_all_zero(c, j, n)) out = mul(ev, sub(zero, kw));
    else out = fnma(ev, kw, n == W ? loadu(scratch_w + j) : load_partial(scratch_w + j, n, 0.0f));
    if (n == W) storeu(g + j, out);
    else store_partial(g + j, out, n);
  }
  g[am] = static_cast<float>(w_am * q_am - inv_s * w_others);
}

// One row of the dense path: dense labels (a label outside [0, 1] is reported in `error`), or
// sparse labels with smoothing (an ignored label gives loss 0 and gradient 0).
inline void dense_path_row(const SoftmaxFocalArgs& a, int64_t row, const Gamma& gm, float* scratch_e,
                           float* scratch_w, KernelError* error, RowPrefetch pf = {}) {
  if (a.dense_labels) {
    dense_row(a, row, -1, gm, scratch_e, scratch_w, pf, error);
    return;
  }
  const int32_t t = a.sparse_labels[row];
  if (a.has_ignore_index && t == a.ignore_index) {
    a.loss_out[row] = 0.0f;
    if (a.grad_out) fill_zero(a.grad_out + row * a.classes, a.classes);
    return;
  }
  dense_row(a, row, t, gm, scratch_e, scratch_w, pf, error);
}

// Whether the first n lanes of the block's transposed dense labels are one-hot (a single 1, zeros
// elsewhere); if so their classes go to `label` (0 for lanes past n).
inline bool one_hot_block(const VF* labels, int64_t C, int n, int32_t* label) {
  const VF zero = set1(0.0f), one = set1(1.0f);
  VF count = zero, index = zero;
  MF other = mnone();  // a nonzero label that is not 1 (NaN included)
  for (int64_t j = 0; j < C; ++j) {
    const MF nonzero = neq(labels[j], zero);
    other = mor(other, mand(nonzero, neq(labels[j], one)));
    count = add(count, zero_unless(nonzero, one));
    index = add(index, zero_unless(nonzero, set1(static_cast<float>(j))));
  }
  if (any(mand(mor(other, neq(count, one)), tail_mask(n)))) return false;
  float index_lanes[W];
  storeu(index_lanes, index);
  for (int i = 0; i < W; ++i) label[i] = i < n ? static_cast<int32_t>(index_lanes[i]) : 0;
  return true;
}

// Dense labels (or sparse labels with smoothing), few classes: one row per lane, kLanes rows at a
// time, for the reasons and in the way of sparse_rows_lanes. The formulas are dense_row's: the
// argmax class a (the only one whose p can be near 1) gets 1 - p_a = others / S and
// log p_a = -log1p(others) from the sum over the other classes, the others q = 1 - p >= 1/2.
// The gradient is computed by columns and transposed back tile by tile. A block of one-hot labels
// without smoothing is the sparse case, and goes through sparse_block (half the work).
inline void dense_rows_lanes(const SoftmaxFocalArgs& a, int64_t row_begin, int64_t row_end,
                             const Gamma& gm, float* scratch_e, float* scratch_w, KernelError* error) {
  const int64_t C = a.classes;
  const double ls = a.label_smoothing;
  const VF y_scale = set1(static_cast<float>(1.0 - ls)), y_add = set1(static_cast<float>(ls / static_cast<double>(C)));
  const VF one = set1(1.0f), zero = set1(0.0f), minus_one = set1(-1.0f);
  int32_t row_of[kMaxLaneClasses * W];
  block_row_of(C, row_of);
  VF column[kMaxLaneClasses + W];    // logits, then the gradient, by column (lane i: row row0 + i)
  VF labels[kMaxLaneClasses + W];    // dense labels by column
  VF exps[kMaxLaneClasses];          // exp(z_j - m)
  VF weights[kMaxLaneClasses];       // w_j (dense_row)
  for (int64_t row0 = row_begin; row0 < row_end; row0 += W) {
    const int n = row_end - row0 < W ? static_cast<int>(row_end - row0) : W;
    int32_t row_start[W], label[W] = {};
    bool redo[W] = {};
    block_row_starts(n, C, row_start);
    bool any_redo = !a.dense_labels && block_sparse_labels(a, row0, n, label, redo);
    transpose_block(a.logits + row0 * C, row_start, C, column);
    if (a.dense_labels) {
      transpose_block(a.dense_labels + row0 * C, row_start, C, labels);
      // Dense labels in [0, 1] (vector_math.h), on the columns just loaded.
      if (!unit_interval_columns(labels, C, n, a.dense_labels, row0 * C, error)) return;
      bool nonfinite[W];
      if (ls == 0.0 && one_hot_block(labels, C, n, label)) {
        if (sparse_block(a, row0, n, row_start, label, row_of, column, gm, nonfinite)) {
          for (int i = 0; i < n; ++i) {
            if (nonfinite[i]) dense_path_row(a, row0 + i, gm, scratch_e, scratch_w, error);
          }
        }
        continue;
      }
    }
    VF m = set1(-kInf);
    for (int64_t j = 0; j < C; ++j) m = max(m, column[j]);
    VF am = set1(static_cast<float>(C));  // first class at the max
    for (int64_t j = C - 1; j >= 0; --j) am = select(eq(column[j], m), set1(static_cast<float>(j)), am);
    const VF t = int_to_float(label);
    // Sum of exp(z_j - m) over j != a; compensated exps, as the relative accuracy of this sum is
    // that of 1 - p_a. Two float additions per term at most, then double.
    SumD others_sum;
    for (int64_t j0 = 0; j0 < C; j0 += 4) {
      VF part = zero;
      for (int64_t j = j0; j < j0 + 4 && j < C; ++j) {
        exps[j] = vexp_diff(column[j], m);
        part = add(part, zero_unless(neq(am, set1(static_cast<float>(j))), exps[j]));
      }
      others_sum.add(part);
    }
    const VF others = others_sum.lanes();
    const VF S = add(one, others), inv_s = div(one, S);
    const VF log_s = vlog1p(others);
    const VF q_am = mul(others, inv_s);
    const VF mod_am = vpow_gamma_accurate(q_am, gm);  // q_am may be tiny: exact powers
    SumD lp_sum, w_others_sum;  // sum of alpha y mod log p (= -loss); sum of w over j != a
    VF w_am = zero;
    for (int64_t j = 0; j < C; ++j) {
      const VF vj = set1(static_cast<float>(j));
      const MF is_am = eq(am, vj);
      const VF y = a.dense_labels ? fma(labels[j], y_scale, y_add)
                                  : select(eq(t, vj), add(y_add, y_scale), y_add);
      const VF alpha = set1(a.alpha ? a.alpha[j] : static_cast<float>(a.alpha_scalar));
      const VF lp = select(is_am, sub(zero, log_s), sub(sub(column[j], m), log_s));
      const VF p = select(is_am, inv_s, mul(exps[j], inv_s));
      const VF q = select(is_am, q_am, sub(one, p));
      const VF mod = select(is_am, mod_am, vpow_gamma(q, gm));  // q >= 1/2 off the argmax
      const MF q_pos = gt(q, zero);
      const VF r = select(q_pos, div(lp, select(q_pos, q, one)), minus_one);
      const VF pr = zero_unless(gt(p, zero), mul(p, r));
      const MF weighted = neq(y, zero);  // (0 * log 0 of a -inf logit would be NaN)
      const VF aym = mul(mul(alpha, y), mod);
      const ClassTermsV ct = class_terms_v(lp, p, q, pr, gm);
      const VF w = zero_unless(weighted, mul(aym, ct.dlp));
      lp_sum.add(zero_unless(weighted, mul(aym, ct.lq)));
      w_others_sum.add(zero_unless(mnot(is_am), w));
      w_am = add(w_am, zero_unless(is_am, w));
      weights[j] = w;
    }
    store_partial(a.loss_out + row0, sub(zero, lp_sum.lanes()), n);
    if (a.grad_out) {
      // dL/dz_k = w_k - p_k W; at the argmax w_a q_a - p_a (W - w_a), W - w_a summed directly.
      const VF w_others = w_others_sum.lanes();
      const VF kw = mul(add(w_am, w_others), inv_s);
      const VF g_am = fnma(inv_s, w_others, mul(w_am, q_am));
      for (int64_t j = 0; j < C; ++j) {
        column[j] = select(eq(am, set1(static_cast<float>(j))), g_am, fnma(exps[j], kw, weights[j]));
      }
      float* gb = a.grad_out + row0 * C;
      for (int64_t j0 = 0; j0 < C; j0 += W) {
        const int width = C - j0 < W ? static_cast<int>(C - j0) : W;
        transpose(column + j0);
        for (int i = 0; i < n; ++i) {
          if (width == W) storeu(gb + i * C + j0, column[j0 + i]);
          else store_partial(gb + i * C + j0, column[j0 + i], width);
        }
      }
    }
    // Ignored rows and rows with a NaN or infinite logit (a non-finite max or sum): dense_row's
    // special cases.
    const MF finite = mand(lt(abs(m), set1(kInf)), eq(S, S));
    if (any(mand(mnot(finite), tail_mask(n)))) {
      float m_lanes[W], s_lanes[W];
      storeu(m_lanes, m);
      storeu(s_lanes, S);
      for (int i = 0; i < n; ++i) {
        redo[i] = redo[i] || !(m_lanes[i] < kInf && m_lanes[i] > -kInf) || s_lanes[i] != s_lanes[i];
      }
      any_redo = true;
    }
    if (!any_redo) continue;
    for (int i = 0; i < n; ++i) {
      if (redo[i]) dense_path_row(a, row0 + i, gm, scratch_e, scratch_w, error);
    }
  }
}

}  // namespace
}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_KERNELS_SOFTMAX_DENSE_H_
