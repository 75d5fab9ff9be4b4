// The focal-loss kernels as TensorFlow ops, registered into the TensorFlow runtime that
// @tensorflow/tfjs-node has already loaded into this process.
//
// Why: on tfjs-node's 'tensorflow' backend a tensor's data lives inside TensorFlow. Reading it
// from JS copies it into a fresh ArrayBuffer, and handing a JS array back costs another copy when
// TensorFlow consumes it. As TensorFlow ops, the kernels read the logits where TensorFlow keeps
// them and write loss and gradient straight into TensorFlow-allocated outputs: each byte of the
// logits is read once and each byte of the gradient is written once.
//
// Nothing here knows about Node. TensorFlow is not linked at build time: its C API (the stable
// kernel and op registration functions of tensorflow/c/kernels.h and ops.h) is looked up at run
// time among the shared libraries already loaded, so this file builds without TensorFlow's headers
// and the addon still loads, and keeps its other paths, where TensorFlow is absent.
#ifndef TFJS_FOCAL_LOSS_TENSORFLOW_OPS_H_
#define TFJS_FOCAL_LOSS_TENSORFLOW_OPS_H_

#include <string>

namespace focal {

// Op names, as passed to TFE_NewOp (tfjs-node's executeOp).
//
// kSoftmaxOpName: inputs logits: float [..., C], labels: TLabels (int32 [...] class indices or
//   float [..., C]); attrs TLabels, gamma, alpha (list(float): 1 value or C values),
//   label_smoothing, has_ignore_index, ignore_index, from_logits, compute_gradient, reduction
//   (0: none, 1: sum, 2: mean); outputs loss: float [...] (a scalar when reduced), gradient:
//   float [..., C] of the per-row losses (or [0] when compute_gradient is false).
// kSigmoidOpName: inputs logits, labels: float, same shape; attrs gamma, class_balancing, alpha,
//   label_smoothing, from_logits, compute_gradient, reduction; outputs loss (same shape, or a
//   scalar when reduced), gradient (same shape, or [0]).
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

}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_TENSORFLOW_OPS_H_
