// softmax_focal_loss: the contract checks (what memory safety needs), the sparse-label check, the
// parallel split over rows and the block-wise conversion of integer-held dense labels.
// docs/DESIGN.md#data-flow, docs/DESIGN.md#threading-and-determinism
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>

#include "core/errors.h"
#include "core/labels.h"
#include "core/probabilities.h"
#include "core/thread_pool.h"
#include "kernels/isa_kernels.h"

namespace focal {
namespace {

using detail::ErrorCollector;
using detail::KernelError;

// The API contract, as far as memory safety needs it. Option values are the caller's to validate.
std::string check_contract(const SoftmaxFocalArgs& a) {
  if (a.rows < 0) return "rows must be >= 0, got " + std::to_string(a.rows);
  if (a.classes < 1) return "classes must be >= 1, got " + std::to_string(a.classes);
  if (a.rows > std::numeric_limits<int64_t>::max() / a.classes / 2)
    return "rows * classes is too large: " + std::to_string(a.rows) + " * " + std::to_string(a.classes);
  if ((a.sparse_labels != nullptr) + (a.dense_labels != nullptr) + (a.dense_labels_int32 != nullptr) != 1)
    return "exactly one of sparse_labels, dense_labels and dense_labels_int32 must be given";
  if (a.rows > 0 && (a.logits == nullptr || a.loss_out == nullptr))
    return "logits and loss_out must not be null";
  if (!a.from_logits && a.logit_offsets != nullptr)
    return "logit_offsets apply to logits only (from_logits must be true)";
  return std::string();
}
}  // namespace

Error softmax_focal_loss(const SoftmaxFocalArgs& args) {
  detail::count_call();
  const std::string broken = check_contract(args);
  if (!broken.empty()) return detail::invalid_argument(broken);
  if (args.rows == 0) return Error();
  if (args.sparse_labels) {
    Error bad_label = detail::check_sparse_labels(args);
    if (!bad_label.ok()) return bad_label;
  }
  ErrorCollector errors;
  const int64_t C = args.classes;
  const auto& k = detail::kernels();
  const bool probabilities = !args.from_logits;
  const double ns_per_element = probabilities ? pool::kNsPerProbabilityElement
                                : (!args.sparse_labels || args.label_smoothing > 0.0)
                                    ? pool::kNsPerDenseSoftmaxElement
                                    : pool::kNsPerSoftmaxElement;
  const int64_t work = pool::work_ns(args.rows * C, ns_per_element) + pool::work_ns(args.rows, pool::kNsPerSoftmaxRow);
  // Rows [begin, end) of `a`, with float or sparse labels.
  auto run_rows = [&](const SoftmaxFocalArgs& a, int64_t begin, int64_t end, float* scratch,
                      KernelError* error) {
    if (!probabilities) {
      k.softmax_logits_rows(a, begin, end, scratch, error);
      return;
    }
    double* g = reinterpret_cast<double*>(scratch);
    for (int64_t row = begin; row < end && error->code == ErrorCode::kNone; ++row) {
      if (a.sparse_labels && a.has_ignore_index && a.sparse_labels[row] == a.ignore_index) {
        a.loss_out[row] = 0.0f;
        if (a.grad_out)
          for (int64_t j = 0; j < C; ++j) a.grad_out[row * C + j] = 0.0f;
        continue;
      }
      detail::probability_row(a, row, g, error);
    }
  };
  // Integer dense labels: blocks of rows whose labels, converted, fill about 64 KB (at least one
  // row) go through the float path with the block's slices of every array.
  const int64_t block_rows = detail::label_block_rows(C);
  pool::parallel_for(args.rows, work, [&](int64_t begin, int64_t end, int) {
    KernelError error;
    // Per-chunk scratch (one row of doubles, then the converted labels of one block); malloc
    // failure is reported, never thrown.
    const size_t row_floats = static_cast<size_t>(2 * detail::softmax_scratch_floats(C) +
                                                  (args.logit_offsets ? detail::adjusted_scratch_floats(C) : 0));
    const size_t label_floats = args.dense_labels_int32 ? static_cast<size_t>(block_rows * C) : 0;
    std::unique_ptr<float, void (*)(void*)> scratch(
        static_cast<float*>(std::malloc((row_floats + label_floats) * sizeof(float))), std::free);
    if (!scratch) {
      error.code = ErrorCode::kOutOfMemory;
      error.index = begin * C;
      errors.add(error);
      return;
    }
    if (!args.dense_labels_int32) {
      run_rows(args, begin, end, scratch.get(), &error);
      errors.add(error);
      return;
    }
    float* labels = scratch.get() + row_floats;
    for (int64_t b = begin; b < end && error.code == ErrorCode::kNone; b += block_rows) {
      const int64_t n = end - b < block_rows ? end - b : block_rows;
      detail::int32_to_float(args.dense_labels_int32 + b * C, n * C, labels);
      SoftmaxFocalArgs block = args;
      block.rows = n;
      block.logits = args.logits + b * C;
      block.dense_labels_int32 = nullptr;
      block.dense_labels = labels;
      block.loss_out = args.loss_out + b;
      if (args.grad_out) block.grad_out = args.grad_out + b * C;
      run_rows(block, 0, n, scratch.get(), &error);
      if (error.code != ErrorCode::kNone) error.index += b * C;  // back to the whole tensor's index
    }
    errors.add(error);
  });
  if (errors.has_error()) return errors.to_error(C);
  detail::probe_softmax_inputs(args);
  return Error();
}

}  // namespace focal
