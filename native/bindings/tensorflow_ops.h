// The focal-loss kernels as TensorFlow ops, registered into the TensorFlow runtime that
// @tensorflow/tfjs-node has already loaded into this process.
//
// Why: on tfjs-node's 'tensorflow' backend a tensor's data lives inside TensorFlow. Reading it
// from JS copies it into a fresh ArrayBuffer, and handing a JS array back costs another copy when
// TensorFlow consumes it. As TensorFlow ops, the kernels read the logits where TensorFlow keeps
// them and write loss and gradient straight into TensorFlow-allocated outputs: each byte of the
// logits is read once and each byte of the gradient is written once.
//
// Nothing here knows about Node. TensorFlow is not linked at build time: its C API is looked up at
// run time among the shared libraries already loaded (tf_c_api.h). docs/DESIGN.md#tensorflow-ops
#ifndef TFJS_FOCAL_LOSS_TENSORFLOW_OPS_H_
#define TFJS_FOCAL_LOSS_TENSORFLOW_OPS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace focal {

// Op names, as passed to TFE_NewOp (tfjs-node's executeOp). Every op attribute is required (no
// defaults in the op definitions).
//
// kSoftmaxOpName: inputs logits: float [..., C], labels: TLabels (int32 [...] class indices or
//   float [..., C]); attrs TLabels, the options of FOCAL_SOFTMAX_OPTIONS (include/focal_loss.h,
//   each named as its field), alpha (list(float): 1 value or C values), has_ignore_index,
//   ignore_index, compute_gradient, reduction (0: none, 1: sum, 2: mean), has_logit_adjustment,
//   logit_offsets (list(float): C values when has_logit_adjustment, else one ignored value);
//   outputs loss: float [...] of the per-row losses (a scalar when reduced), gradient: float
//   [..., C] (or [0] when compute_gradient is false).
// kSigmoidOpName: inputs logits, labels: float, same shape; attrs the options of
//   FOCAL_SIGMOID_OPTIONS, alpha, class_balancing, loss_kind (ElementwiseLoss), compute_gradient,
//   reduction; outputs loss (same shape, or a scalar when reduced), gradient (same shape, or [0]).
// kScaleGradientOpName: inputs gradient: float, dy: float (one value per row when per_row, one per
//   element, or with `reduced` a scalar applied as dy * factor); attrs per_row, reduced, factor;
//   output: the scaled gradient, written over the gradient input, which must be a tensor that
//   only the caller holds (the saved gradient of a forward op).
extern const char* const kSoftmaxOpName;
extern const char* const kSigmoidOpName;
extern const char* const kScaleGradientOpName;

// Registers the three ops and their CPU kernels with the TensorFlow loaded in this process, once
// per process (later calls return the first call's result). Returns "" on success, or why the ops
// are unavailable (no TensorFlow loaded, a missing C API function, a registration error).
std::string register_tensorflow_ops();

// The attribute type of an option of the tables in include/focal_loss.h, from its C++ type
// ("float" attributes are float32 in TensorFlow). kernelOptions() reports the same names.
template <typename T>
constexpr const char* option_type_name() {
  static_assert(std::is_same_v<T, double> || std::is_same_v<T, float> || std::is_same_v<T, bool> ||
                    std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>,
                "an option is a double, float, bool, int32_t or int64_t");
  return std::is_same_v<T, bool> ? "bool" : std::is_integral_v<T> ? "int" : "float";
}

// One attribute of an op: registered as "name: type" and read at kernel construction by `read`
// (null for a type attribute, which selects the kernel instead). One table per op drives both:
// the op's options of include/focal_loss.h, then its own attributes.
class AttrReader;
struct AttrSpec {
  const char* name;
  const char* type;  // as in the op definition: "float", "bool", "int", "list(float) >= 1", ...
  void (*read)(AttrReader& reader, const char* name, void* config);
};
struct OpSpec {
  const char* key;  // "softmax", "sigmoid", "scaleGradient" (the names registerTensorflowOps returns)
  const char* op_name;
  const AttrSpec* attrs;
  size_t attr_count;
};
// The three ops' attribute tables (empty where the ops are not available: not Linux).
const std::vector<OpSpec>& tensorflow_op_specs();

}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_TENSORFLOW_OPS_H_
