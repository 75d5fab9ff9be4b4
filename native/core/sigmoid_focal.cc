// sigmoid_elementwise_loss: the contract checks (what memory safety needs), the parallel split over
// elements and the block-wise conversion of integer-held labels.
// docs/DESIGN.md#data-flow, docs/DESIGN.md#threading-and-determinism
#include <cstdlib>
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
std::string check_contract(const SigmoidElementwiseArgs& a) {
  if (a.count < 0) return "count must be >= 0, got " + std::to_string(a.count);
  if (a.count > 0 && (a.logits == nullptr || a.loss_out == nullptr))
    return "logits and loss_out must not be null";
  if (a.count > 0 && (a.labels == nullptr) == (a.labels_int32 == nullptr))
    return "exactly one of labels and labels_int32 must be given";
  if (a.loss != ElementwiseLoss::kFocal && (!a.from_logits || a.label_smoothing != 0.0))
    return "only the focal loss takes probabilities or label smoothing";
  return std::string();
}

}  // namespace

Error sigmoid_elementwise_loss(const SigmoidElementwiseArgs& args) {
  detail::count_call();
  const std::string broken = check_contract(args);
  if (!broken.empty()) return detail::invalid_argument(broken);
  if (args.count == 0) return Error();
  ErrorCollector errors;
  const auto& k = detail::kernels();
  // Chunks of whole 64-byte lines so two threads never write the same cache line.
  const int64_t blocks = (args.count + 15) / 16;
  const double ns_per_element = args.loss != ElementwiseLoss::kFocal ? pool::kNsPerFamilyElement
                                : args.from_logits                    ? pool::kNsPerSigmoidElement
                                                                      : pool::kNsPerProbabilityElement;
  // Elements [first, last) of `a`, with float labels.
  auto run_elements = [&](const SigmoidElementwiseArgs& a, int64_t first, int64_t last, KernelError* error) {
    if (args.loss != ElementwiseLoss::kFocal) {
      k.family_logits_elements(a, first, last, error);
    } else if (args.from_logits) {
      k.sigmoid_logits_elements(a, first, last, error);
    } else {
      detail::probability_elements(a, first, last, error);
    }
  };
  pool::parallel_for(blocks, pool::work_ns(args.count, ns_per_element), [&](int64_t begin, int64_t end, int) {
    KernelError error;
    const int64_t first = begin * 16;
    const int64_t last = end * 16 < args.count ? end * 16 : args.count;
    if (!args.labels_int32) {
      run_elements(args, first, last, &error);
      errors.add(error);
      return;
    }
    // Integer labels: converted one block at a time (core/labels.h), the block run with its slices.
    std::unique_ptr<float, void (*)(void*)> scratch(
        static_cast<float*>(std::malloc(detail::kLabelBlockElements * sizeof(float))), std::free);
    if (!scratch) {
      error.code = ErrorCode::kOutOfMemory;
      error.index = first;
      errors.add(error);
      return;
    }
    float* labels = scratch.get();
    for (int64_t b = first; b < last && error.code == ErrorCode::kNone; b += detail::kLabelBlockElements) {
      const int64_t n = last - b < detail::kLabelBlockElements ? last - b : detail::kLabelBlockElements;
      detail::int32_to_float(args.labels_int32 + b, n, labels);
      SigmoidElementwiseArgs block = args;
      block.count = n;
      block.logits = args.logits + b;
      block.labels_int32 = nullptr;
      block.labels = labels;
      block.loss_out = args.loss_out + b;
      if (args.grad_out) block.grad_out = args.grad_out + b;
      run_elements(block, 0, n, &error);
      if (error.code != ErrorCode::kNone) error.index += b;  // back to the whole tensor's index
    }
    errors.add(error);
  });
  if (errors.has_error()) return errors.to_error(1);
  detail::probe_elementwise_inputs(args);
  return Error();
}

}  // namespace focal
