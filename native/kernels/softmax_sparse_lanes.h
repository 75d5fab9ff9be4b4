// Sparse labels without smoothing, several rows at once: the lane kernels (few classes, one row
// per lane) and the grouped per-row terms (many classes). docs/DESIGN.md#softmax-focal-loss
#ifndef TFJS_FOCAL_LOSS_KERNELS_SOFTMAX_SPARSE_LANES_H_
#define TFJS_FOCAL_LOSS_KERNELS_SOFTMAX_SPARSE_LANES_H_

#include "kernels/softmax_row.h"

namespace focal {
namespace detail {
namespace FOCAL_ISA {
namespace {

// ---------------------------------------------------------------------------------------------
// Sparse labels, no label smoothing, few classes: one row per lane, kLanes rows at a time.
//
// With few classes a row is a chain of dependent steps (max, exp, horizontal sums, scalar log and
// exp, divisions, a masked tail store) whose latency, not the vector work, sets the time. Here
// lane i of every vector holds row row0 + i: the passes over the classes are plain vertical
// vector code on the block transposed in registers, the per-row terms are computed for kLanes
// rows at once in float (every quantity is computed without cancellation, as in sparse_row, so
// float keeps the loss and gradient within a few ulp of the float64 reference), and the gradient
// is written over the block's contiguous kLanes x C floats with full-width stores. Rows that need the special cases of sparse_row (ignored label, non-finite logits) are
// redone by sparse_row. A row's result does not depend on which block or chunk it falls in (lanes
// never mix), so results stay bit-identical whatever the thread count.

// Offsets of the rows of the block starting at row0 (n rows) from row0's: lanes past the last row
// read row row0 again, and their results are never stored.
inline void block_row_starts(int n, int64_t C, int32_t* row_start) {
  for (int i = 0; i < W; ++i) row_start[i] = static_cast<int32_t>((i < n ? i : 0) * C);
}

// column[j], lane i = base[row_start[i] + j] for j < C: the block transposed kLanes columns at a
// time, by row loads and an in-register transpose (cheaper than vector gathers or scalar
// copies). column must have room for C rounded up to a multiple of kLanes.
inline void transpose_block(const float* base, const int32_t* row_start, int64_t C, VF* column) {
  // The next block's rows, a block ahead: the loads of a block stride over its rows, which the
  // hardware prefetchers do not follow well. Prefetching past the end of the array is harmless.
  const float* next = base + W * C;
  for (int64_t k = 0; k < W * C; k += 64 / static_cast<int64_t>(sizeof(float))) __builtin_prefetch(next + k);
  for (int64_t j0 = 0; j0 < C; j0 += W) {
    const int width = C - j0 < W ? static_cast<int>(C - j0) : W;
    for (int i = 0; i < W; ++i) {
      const float* z = base + row_start[i] + j0;
      column[j0 + i] = width == W ? loadu(z) : load_partial(z, width, 0.0f);
    }
    transpose(column + j0);
  }
}

// The per-row terms of the sparse-label focal loss for kLanes rows at once, in float, from each
// row's max m, target logit zt and `others`, the sum of exp(z_j - m) over j != t. Every quantity is
// formed without cancellation (as sparse_row does in double), which keeps the loss and gradient
// within a few ulp of the float64 reference.
struct SparseTerms {
  VF loss;      // -alpha_t (1 - p_t)^gamma log p_t
  VF scale;     // gradient at j != t: scale * exp(z_j - m)  (= -c / S, c = alpha_t d)
  VF at_label;  // gradient at j = t: c (1 - p_t)
  VF S;         // sum of exp(z_j - m) over all j: NaN if a logit is NaN
};
inline SparseTerms sparse_terms(VF m, VF zt, VF others, VF alpha_t, const Gamma& gm) {
  const VF one = set1(1.0f), zero = set1(0.0f), minus_one = set1(-1.0f);
  const MF t_is_max = eq(zt, m);
  // t a max: S = 1 + others, log p_t = -log1p(others), 1 - p_t = others / S.
  // Otherwise: S = others + e_t >= 1 (it holds the max's exp(0)), p_t = e_t / S < 1/2.
  const VF e_t = vexp_diff(zt, m);
  const VF S = add(others, select(t_is_max, one, e_t));
  const VF inv_s = div(one, S);
  const VF lp = select(t_is_max, sub(zero, vlog1p(others)), sub(sub(zt, m), vlog(S)));
  const VF p = select(t_is_max, inv_s, mul(e_t, inv_s));
  const VF q = select(t_is_max, mul(others, inv_s), sub(one, p));
  // class_terms_v: f = -q^gamma lq, d = q^gamma dlp, r = log p / q.
  const VF mod = vpow_gamma_accurate(q, gm);
  const MF q_pos = gt(q, zero);
  const VF r = select(q_pos, div(lp, select(q_pos, q, one)), minus_one);
  const VF pr = zero_unless(gt(p, zero), mul(p, r));
  const ClassTermsV t = class_terms_v(lp, p, q, pr, gm);
  const VF loss = mul(alpha_t, mul(sub(zero, mod), t.lq));
  const VF c = mul(alpha_t, mul(mod, t.dlp));
  return {loss, mul(sub(zero, c), inv_s), mul(c, q), S};
}

// The sparse-label focal loss of one block of n rows (logits transposed in `column`, classes
// `label` in [0, C)): writes the rows' losses and gradients. A row with a NaN or infinite logit (a
// non-finite max or sum) gets nonfinite[i] = true (the function returns whether any has): its
// outputs must be recomputed by the row kernels.
inline bool sparse_block(const SoftmaxFocalArgs& a, int64_t row0, int n, const int32_t* row_start,
                         const int32_t* label, const int32_t* row_of, const VF* column,
                         const Gamma& gm, bool* nonfinite) {
  const int64_t C = a.classes;
  const float* zb = a.logits + row0 * C;
  int32_t label_index[W];
  for (int i = 0; i < W; ++i) label_index[i] = row_start[i] + label[i];
  VF m = set1(-kInf);
  for (int64_t j = 0; j < C; ++j) m = max(m, column[j]);
  const VF zt = gather(zb, label_index);
  const VF t = int_to_float(label);
  // Sum over j != t of exp(z_j - m). Compensated exps: when t is a max, 1 - p_t is this sum
  // over 1 + the sum, and its relative accuracy goes into the loss. Two float additions per
  // term at most (relative error <= 2^-23), then the sum in double, rounded to float once.
  SumD sum;
  int64_t j = 0;
  for (; j + 4 <= C; j += 4) {
    VF e[4];
    for (int u = 0; u < 4; ++u) {
      e[u] = zero_unless(neq(t, set1(static_cast<float>(j + u))), vexp_diff(column[j + u], m));
    }
    sum.add(add(add(e[0], e[1]), add(e[2], e[3])));
  }
  for (; j < C; ++j) sum.add(zero_unless(neq(t, set1(static_cast<float>(j))), vexp_diff(column[j], m)));
  const VF others = sum.lanes();
  const VF alpha_t = a.alpha ? gather(a.alpha, label) : set1(static_cast<float>(a.alpha_scalar));
  const SparseTerms terms = sparse_terms(m, zt, others, alpha_t, gm);
  store_partial(a.loss_out + row0, terms.loss, n);
  if (a.grad_out) {
    // dL/dz_j = c (delta_jt - p_j), c = alpha_t d: -c / S exp(z_j - m), and c q at j = t; over
    // the block's contiguous n x C floats, each lane's m and scale picked by its row.
    const VF scale = terms.scale;
    float* gb = a.grad_out + row0 * C;
    const int64_t block_floats = n * C;
    int64_t k = 0;
    for (; k + W <= block_floats; k += W) {
      const VF e = vexp_diff(loadu(zb + k), permute(m, row_of + k));
      storeu(gb + k, mul(e, permute(scale, row_of + k)));
    }
    if (k < block_floats) {
      const int rest = static_cast<int>(block_floats - k);
      const VF e = vexp_diff(load_partial(zb + k, rest, 0.0f), permute(m, row_of + k));
      store_partial(gb + k, mul(e, permute(scale, row_of + k)), rest);
    }
    float at_label[W];
    storeu(at_label, terms.at_label);
    for (int i = 0; i < n; ++i) gb[i * C + label[i]] = at_label[i];
  }
  const MF finite = mand(lt(abs(m), set1(kInf)), eq(terms.S, terms.S));
  if (!any(mand(mnot(finite), tail_mask(n)))) return false;
  float m_lanes[W], s_lanes[W];
  storeu(m_lanes, m);
  storeu(s_lanes, terms.S);
  for (int i = 0; i < W; ++i) nonfinite[i] = !(m_lanes[i] < kInf && m_lanes[i] > -kInf) || s_lanes[i] != s_lanes[i];
  return true;
}

// row_of[p]: the row (lane) of flat position p in a block of kLanes rows of C classes.
inline void block_row_of(int64_t C, int32_t* row_of) {
  for (int64_t p = 0; p < C * W; ++p) row_of[p] = static_cast<int32_t>(p / C);
}

// The sparse labels of the block's n rows into `label` (0 for ignored rows and lanes past n: a
// valid class to gather with); ignored rows get redo[i] = true. Returns whether any row is ignored.
inline bool block_sparse_labels(const SoftmaxFocalArgs& a, int64_t row0, int n, int32_t* label, bool* redo) {
  bool any_ignored = false;
  for (int i = 0; i < W; ++i) {
    const int32_t t = i < n ? a.sparse_labels[row0 + i] : 0;
    redo[i] = i < n && a.has_ignore_index && t == a.ignore_index;
    any_ignored |= redo[i];
    label[i] = redo[i] ? 0 : t;  // labels were validated: in [0, C) unless ignored
  }
  return any_ignored;
}

inline void sparse_rows_lanes(const SoftmaxFocalArgs& a, int64_t row_begin, int64_t row_end,
                              const Gamma& gm) {
  const int64_t C = a.classes;
  int32_t row_of[kMaxLaneClasses * W];
  block_row_of(C, row_of);
  VF column[kMaxLaneClasses + W];
  for (int64_t row0 = row_begin; row0 < row_end; row0 += W) {
    const int n = row_end - row0 < W ? static_cast<int>(row_end - row0) : W;
    int32_t row_start[W], label[W];
    bool redo[W];
    block_row_starts(n, C, row_start);
    bool any_redo = block_sparse_labels(a, row0, n, label, redo);
    transpose_block(a.logits + row0 * C, row_start, C, column);
    bool nonfinite[W];
    if (sparse_block(a, row0, n, row_start, label, row_of, column, gm, nonfinite)) {
      for (int i = 0; i < n; ++i) redo[i] = redo[i] || nonfinite[i];
      any_redo = true;
    }
    if (!any_redo) continue;
    // Ignored rows and rows with non-finite logits: sparse_row's special cases.
    for (int i = 0; i < n; ++i) {
      if (redo[i]) sparse_row(a, row0 + i, gm);
    }
  }
}

// Sparse labels, no label smoothing, more classes than the lane kernels take: the passes over a
// row's classes (max; exps into the gradient row) run one row at a time, as in sparse_row, but the
// per-row terms (log, exp, divisions, the focal power) are computed for kLanes rows at once by
// sparse_terms instead of in scalar double per row, whose libm calls and dependent divisions were
// about half of a row's fixed cost. A row's result does not depend on the other rows of its group,
// so results stay bit-identical whatever the thread count. Special rows (ignored label, non-finite
// logits) are redone by sparse_row.
inline void sparse_rows_grouped(const SoftmaxFocalArgs& a, int64_t row_begin, int64_t row_end,
                                const Gamma& gm) {
  const int64_t C = a.classes;
  for (int64_t row0 = row_begin; row0 < row_end; row0 += W) {
    const int n = row_end - row0 < W ? static_cast<int>(row_end - row0) : W;
    int32_t label[W];
    bool redo[W];
    bool any_redo = block_sparse_labels(a, row0, n, label, redo);
    // Lanes past n, and rows to redo, get harmless finite values (results not stored or overwritten).
    float m_lanes[W], zt_lanes[W], others_lanes[W];
    for (int i = 0; i < W; ++i) {
      m_lanes[i] = 0.0f;
      zt_lanes[i] = 0.0f;
      others_lanes[i] = 1.0f;
    }
    for (int i = 0; i < n; ++i) {
      if (redo[i]) continue;
      const int64_t row = row0 + i;
      const float* z = a.logits + row * C;
      float* g = a.grad_out ? a.grad_out + row * C : nullptr;
      const int32_t t = label[i];
      float mf;
      if (!row_max(z, C, &mf)) {
        redo[i] = any_redo = true;
        continue;
      }
      // The sum leaves the target out (sparse_terms adds it back); compensated exps when the
      // target is a max, as in sparse_row.
      const RowPrefetch pf = prefetch_for(a, row, row_end);
      const double others = z[t] == mf ? exp_pass<true>(z, C, mf, g, t, pf) : exp_pass<false>(z, C, mf, g, t, pf);
      if (others != others) {  // a NaN logit
        redo[i] = any_redo = true;
        continue;
      }
      m_lanes[i] = mf;
      zt_lanes[i] = z[t];
      others_lanes[i] = static_cast<float>(others);
    }
    const VF alpha_t = a.alpha ? gather(a.alpha, label) : set1(static_cast<float>(a.alpha_scalar));
    const SparseTerms terms = sparse_terms(loadu(m_lanes), loadu(zt_lanes), loadu(others_lanes), alpha_t, gm);
    store_partial(a.loss_out + row0, terms.loss, n);
    if (a.grad_out) {
      float scale[W], at_label[W];
      storeu(scale, terms.scale);
      storeu(at_label, terms.at_label);
      for (int i = 0; i < n; ++i) {
        if (redo[i]) continue;
        float* g = a.grad_out + (row0 + i) * C;
        scale_pass(g, C, scale[i]);
        g[label[i]] = at_label[i];
      }
    }
    if (!any_redo) continue;
    for (int i = 0; i < n; ++i) {
      if (redo[i]) sparse_row(a, row0 + i, gm);
    }
  }
}

}  // namespace
}  // namespace FOCAL_ISA
}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_KERNELS_SOFTMAX_SPARSE_LANES_H_
