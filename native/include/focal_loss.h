// Public C++ API of the focal-loss kernels. Plain functions over float buffers: nothing here knows
// about Node or TensorFlow, so the kernels can be tested and benchmarked alone (native/tests/,
// tools/kernel_bench.cc).
//
// Mathematics: docs/DESIGN.md#softmax-focal-loss and docs/DESIGN.md#sigmoid-focal-loss.
// Option values are not range-checked here (gamma >= 0, alpha, label_smoothing in [0, 1]): the
// TypeScript layer validates them once, for every path (docs/DESIGN.md#errors). The kernels check
// what memory safety needs and the data-dependent conditions only a pass over the data can see.
#ifndef TFJS_FOCAL_LOSS_FOCAL_LOSS_H_
#define TFJS_FOCAL_LOSS_FOCAL_LOSS_H_

#include <cstdint>
#include "include/focal_error.h"

namespace focal {

// The plain (scalar) options of each kernel entry point, one line each. Everything else follows
// from that line (docs/DESIGN.md#adding-an-option-or-a-loss): the field of the Args struct below
// with its default; the key of the N-API options object (bindings/addon.cc reads it in one loop and
// lists it in argumentKeys() and kernelOptions()); the TensorFlow op attribute named as the field
// (bindings/tensorflow_ops.cc registers it, reads it into the Args at kernel construction and
// lists it in tensorflowOpSpecs()); and the TypeScript layer's addon argument and op attribute
// (lib/kernels/options.ts, from kernelOptions()).
//   X(C++ type, field = TF attribute name, default, N-API key = kernel attr, kRequired | kOptional)
// double / float are "float" attributes (float32 in TensorFlow), bool "bool", int32_t / int64_t
// "int". A kRequired key must be given (undefined is refused); a kOptional one left out (undefined
// or null in the TS layer) takes the default. Options that are not plain scalars (alpha, labels,
// ignore_index, the logit offsets, the loss kind) are hand-written fields and bindings.
enum class OptionPresence : int { kRequired, kOptional };

#define FOCAL_SOFTMAX_OPTIONS(X)                                                                 \
  X(double, gamma, 2.0, "gamma", kRequired) /* >= 0 (validated by the caller) */                \
  /* Keras: y' = y (1 - ls) + ls / C (sparse: one-hot(t)) */                                     \
  X(double, label_smoothing, 0.0, "labelSmoothing", kRequired)                                   \
  /* false: Keras probability path, p = clip(x / sum(x), eps, 1 - eps), eps = 1e-7 */            \
  X(bool, from_logits, true, "fromLogits", kRequired)                                            \
  /* Poly-1: each weighted class term gains poly_epsilon (1 - p)^(gamma+1) (of the clipped */   \
  /* p on the probability path, like the focal factor) */                                        \
  X(double, poly_epsilon, 0.0, "polyEpsilon", kOptional)

#define FOCAL_SIGMOID_OPTIONS(X)                                                                 \
  X(double, gamma, 2.0, "gamma", kRequired)                                                      \
  X(double, label_smoothing, 0.0, "labelSmoothing", kRequired) /* y' = y (1 - ls) + 0.5 ls */   \
  /* false: Keras BinaryFocalCrossentropy on probabilities */                                    \
  X(bool, from_logits, true, "fromLogits", kRequired)                                            \
  /* kFocal: Poly-1 coefficient (0: the focal loss, bit for bit) */                              \
  X(double, poly_epsilon, 0.0, "polyEpsilon", kOptional)                                         \
  X(double, beta, 2.0, "beta", kOptional)                    /* kQualityFocal: |q - p|^beta */     \
  X(double, gamma_pos, 0.0, "gammaPos", kOptional) /* kAsymmetric: (1 - p)^gamma+ */               \
  X(double, gamma_neg, 4.0, "gammaNeg", kOptional) /* kAsymmetric */                               \
  X(double, clip, 0.05, "clip", kOptional)                   /* kAsymmetric, in [0, 1) */  \
  X(bool, iou_weighted, true, "iouWeighted", kOptional)      /* kVarifocal: positives times q */

// An option's field in its Args struct.
#define FOCAL_OPTION_FIELD(type, field, default_value, ...) type field = default_value;

struct SoftmaxFocalArgs {
  int64_t rows = 0, classes = 0;          // logits are [rows, classes], row-major, contiguous
  const float* logits = nullptr;           // logits, or probabilities when from_logits == false
  // Exactly one of the three label arrays:
  const int32_t* sparse_labels = nullptr;  // [rows] class indices
  const float* dense_labels = nullptr;     // [rows, classes] (one-hot or soft)
  // [rows, classes] dense labels held as integers: what tfjs's 'cpu' backend stores for a float32
  // tensor cast from int32 (tf.cast(tf.oneHot(t, C), 'float32')). Read as if converted to float
  // first (same results as dense_labels), one block of rows at a time, so no converted copy of the
  // whole tensor is ever made.
  const int32_t* dense_labels_int32 = nullptr;
  FOCAL_SOFTMAX_OPTIONS(FOCAL_OPTION_FIELD)  // gamma, label_smoothing, from_logits, poly_epsilon
  const float* alpha = nullptr;            // [classes] per-class alpha, or nullptr -> alpha_scalar
  float alpha_scalar = 0.25f;
  bool has_ignore_index = false;           // sparse only: rows whose label == ignore_index get
  int32_t ignore_index = -100;             //   loss 0 and a zero gradient row
  // Logit adjustment (logits path only): [classes] offsets (tau log pi) added to every row's
  // logits inside the kernel before the softmax, or nullptr: none.
  const float* logit_offsets = nullptr;
  float* loss_out = nullptr;               // [rows], per-row loss (unweighted, not reduced)
  float* grad_out = nullptr;               // [rows, classes] dL_row/dlogits, or nullptr: no gradient
};

// The elementwise losses of the sigmoid kernel, one formula each per element (x the logit, y the
// target, p = sigmoid(x)). docs/DESIGN.md#the-elementwise-family
// The codes cross to TypeScript (the N-API `loss` key, the TF op's `loss_kind` attribute) through
// lib/native_tables.ts, which tools/native-tables.js generates from this enum: each kName = code
// becomes the kind 'name'. kCount is no loss: the bindings refuse codes >= kCount.
enum class ElementwiseLoss : int {
  kFocal = 0,         // alpha_t BCE (1 - p_t)^gamma + alpha_t poly_epsilon (1 - p_t)^(gamma + 1)
  kVarifocal = 1,     // BCE(x, y) (y if y > 0 else alpha p^gamma)
  kQualityFocal = 2,  // |y - p|^beta BCE(x, y)
  kAsymmetric = 3,    // -y (1 - p)^gamma_pos log p - (1 - y) p_m^gamma_neg log(1 - p_m),
                      //   p_m = max(p - clip, 0)
  kCount              // the number of losses above
};

struct SigmoidElementwiseArgs {  // elementwise over `count` elements
  int64_t count = 0;
  const float* logits = nullptr;  // or probabilities when from_logits == false
  const float* labels = nullptr;  // same shape, values in [0, 1]; or, instead:
  const int32_t* labels_int32 = nullptr;  // labels held as integers (see dense_labels_int32)
  // gamma, label_smoothing, from_logits, poly_epsilon, beta, gamma_pos, gamma_neg, clip,
  // iou_weighted
  FOCAL_SIGMOID_OPTIONS(FOCAL_OPTION_FIELD)
  bool class_balancing = true;    // alpha_t = alpha y + (1 - alpha)(1 - y) when balancing
  double alpha = 0.25;
  // Which loss (kFocal: gamma, label_smoothing, from_logits, poly_epsilon, alpha). The other losses
  // take logits, no label smoothing and no class balancing; varifocal reads alpha, gamma and
  // iou_weighted, quality focal beta, asymmetric gamma_pos, gamma_neg and clip.
  ElementwiseLoss loss = ElementwiseLoss::kFocal;
  float* loss_out = nullptr;      // [count]
  float* grad_out = nullptr;      // [count] or nullptr
};

// Return Error::ok() on success, or the first error (the lowest flat index): a data-dependent code
// (focal_error.h) or kInvalidArgument for a broken contract (null buffers, negative sizes, sizes
// whose product overflows, not exactly one label array). Never throw, never abort. On error the
// outputs are unspecified.
Error softmax_focal_loss(const SoftmaxFocalArgs& args);
Error sigmoid_elementwise_loss(const SigmoidElementwiseArgs& args);

// Backward helpers (used by the registered gradients):
//   scale_rows:     out[i*C+j] = dy[i] * grad[i*C+j]
//   scale_elements: out[k]     = dy[k] * grad[k]
// `out` may alias `grad`.
void scale_rows(const float* grad, const float* dy, int64_t rows, int64_t classes, float* out);
void scale_elements(const float* grad, const float* dy, int64_t count, float* out);

// How a TensorFlow op reduces its per-sample losses (its `reduction` attribute; TypeScript reads
// the codes from lib/native_tables.ts, generated from this enum like ElementwiseLoss): per sample,
// or their sum or mean as a scalar. kCount is no reduction.
enum class Reduction : int {
  kNone = 0,
  kSum = 1,
  kMean = 2,
  kCount  // the number of reductions above
};

// The sum (mean: the sum divided by max(1, n)) of n per-sample losses, accumulated in double in
// index order, so the result is the same for every thread count. Used for losses reduced inside
// the op (the common unweighted reductions), where the per-sample losses never leave native code.
float reduce_losses(const float* losses, int64_t n, bool mean);

// Worker threads used by the kernels. Default: env TFJS_FOCAL_LOSS_NUM_THREADS, else the number of
// hardware threads. Values < 1 are treated as 1. Results are bit-identical for every thread count.
void set_num_threads(int n);
int num_threads();

// "avx512" | "avx2" | "generic": the instruction set the kernels run with. Chosen once from the CPU;
// env TFJS_FOCAL_LOSS_SIMD=generic|avx2 forces a lower level (never a higher one than the CPU has).
const char* simd_level();

// Probabilities given as logits. While the check is armed (the default), a softmax_focal_loss or
// sigmoid_elementwise_loss call with from_logits == true whose inputs look like probabilities raises a
// process-wide hint: softmax, every row in [0, 1] and summing to 1 within 1e-4 (classes >= 2);
// elementwise, at least 32 values, all in [0, 1], some strictly inside, not all equal (real
// logits essentially never are). Only the first row (the first 64 elements) is read on every call,
// the rest only when it passes. take_probability_hint() returns the hint and clears it;
// set_probability_check(false) disarms the check (and clears the hint). Nothing is ever reported
// as an error: the caller decides whether to warn.
void set_probability_check(bool armed);
bool take_probability_hint();

// Calls of the four kernel entry points above since the library was loaded, process-wide (the
// tests use it to prove that work goes through this code, whichever path called it).
int64_t call_count();

}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_FOCAL_LOSS_H_
