// Collecting the first kernel error of a parallel call, and the Error helpers of focal_error.h.
// docs/DESIGN.md#errors
#ifndef TFJS_FOCAL_LOSS_CORE_ERRORS_H_
#define TFJS_FOCAL_LOSS_CORE_ERRORS_H_

#include <cstdint>
#include <mutex>
#include <string>

#include "include/focal_error.h"
#include "kernels/isa_kernels.h"

namespace focal {
namespace detail {

// The first (lowest flat index) error over all chunks of a parallel call. The index is what makes
// the reported error the same for every thread count.
class ErrorCollector {
 public:
  void add(const KernelError& error);
  bool has_error() const { return first_.code != ErrorCode::kNone; }
  // The collected error as the API's Error: `argument` is the input its index refers to
  // ("logits" or "labels"), `classes` the row length (1 for elementwise kernels).
  Error to_error(int64_t classes) const;

 private:
  KernelError first_;
  std::mutex mutex_;
};

// An Error for a broken API contract (kInvalidArgument) or a failed allocation (kOutOfMemory).
Error invalid_argument(std::string message);
Error out_of_memory(std::string message);

// JS-style rendering of a number for descriptions: 12, 0.5, NaN, Infinity, -Infinity (%.9g).
std::string format_number(double v);

// Counts one call of a public kernel entry point (call_count()).
void count_call();

}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_CORE_ERRORS_H_
