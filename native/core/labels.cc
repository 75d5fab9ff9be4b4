#include "core/labels.h"

#include <cmath>

namespace focal {
namespace detail {

int64_t label_block_rows(int64_t classes) {
  const int64_t rows = kLabelBlockElements / (classes > 0 ? classes : 1);
  if (rows >= 16) return rows - rows % 16;
  return rows > 0 ? rows : 1;
}

void int32_to_float(const int32_t* in, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]);
}

Error check_sparse_labels(const SoftmaxFocalArgs& a) {
  Error e;
  for (int64_t r = 0; r < a.rows; ++r) {
    const int32_t t = a.sparse_labels[r];
    if (a.has_ignore_index && t == a.ignore_index) continue;
    if (t < 0 || t >= a.classes) {
      e.code = ErrorCode::kLabelOutOfRange;
      e.argument = "labels";
      e.index = r;
      e.value = t;
      e.classes = a.classes;
      e.has_ignore_index = a.has_ignore_index;
      e.ignore_index = a.ignore_index;
      return e;
    }
  }
  return e;
}

}  // namespace detail
}  // namespace focal
