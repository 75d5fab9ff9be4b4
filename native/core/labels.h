// Label handling that is the same for every instruction set: the checks that need a pass over the
// labels, and the block-wise conversion of integer-held labels. docs/DESIGN.md#data-flow
#ifndef TFJS_FOCAL_LOSS_CORE_LABELS_H_
#define TFJS_FOCAL_LOSS_CORE_LABELS_H_

#include <cstdint>

#include "include/focal_loss.h"

namespace focal {
namespace detail {

// Integer-held labels (SoftmaxFocalArgs::dense_labels_int32, SigmoidElementwiseArgs::labels_int32) are
// converted to float one block at a time, into per-chunk scratch that stays in L2, and the block
// goes through the float kernels. label_block_rows: rows of `classes` labels per block (about 64 KB
// of floats, a multiple of 16 rows when that many fit, at least one row); kLabelBlockElements:
// elements per block of the elementwise (sigmoid) kernels.
constexpr int64_t kLabelBlockElements = 16384;
int64_t label_block_rows(int64_t classes);
void int32_to_float(const int32_t* in, int64_t n, float* out);

// Sparse labels: every label in [0, classes) or equal to ignore_index (when has_ignore_index),
// else kLabelOutOfRange for the first that is not. The row kernels rely on it: they index the
// logits row with the label.
Error check_sparse_labels(const SoftmaxFocalArgs& args);

}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_CORE_LABELS_H_
