// The errors the kernels report, as codes with fields, never as prose: the N-API binding puts the
// fields on the JS Error it throws, the TensorFlow ops put them in the TF_Status message in one
// machine format (kTensorflowErrorMarker + JSON), and lib/errors.ts turns either into the message
// the user sees. docs/DESIGN.md#errors
#ifndef TFJS_FOCAL_LOSS_FOCAL_ERROR_H_
#define TFJS_FOCAL_LOSS_FOCAL_ERROR_H_

#include <cstdint>
#include <string>

namespace focal {

// X(enumerator, code string). The code strings are the contract with lib/errors.ts, which reads
// them from lib/native_tables.ts (generated from this list by tools/native-tables.js).
#define FOCAL_ERROR_CODES(X)                                                                      \
  /* Sparse label outside [0, classes) that is not ignore_index. argument "labels": index, */    \
  /* value, classes, ignore_index (when has_ignore_index). */                                     \
  X(kLabelOutOfRange, "FOCAL_LABEL_OUT_OF_RANGE")                                                 \
  /* Sigmoid label outside [0, 1] or NaN. argument "labels": index, value. */                    \
  X(kLabelOutsideUnitInterval, "FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL")                               \
  /* from_logits == false softmax: a probability NaN, Infinity or negative. argument "logits": */ \
  /* index, value, classes. */                                                                    \
  X(kProbabilityInvalid, "FOCAL_PROBABILITY_INVALID")                                             \
  /* from_logits == false sigmoid: a probability outside [0, 1] or NaN. argument "logits": */    \
  /* index, value. */                                                                             \
  X(kProbabilityOutsideUnitInterval, "FOCAL_PROBABILITY_OUTSIDE_UNIT_INTERVAL")                   \
  /* from_logits == false softmax: a row whose sum is not positive and finite. argument */       \
  /* "logits": index (the row's first element), value (the sum), classes. */                     \
  X(kProbabilityRowSum, "FOCAL_PROBABILITY_ROW_SUM")                                              \
  /* Scratch or output memory could not be allocated. */                                         \
  X(kOutOfMemory, "FOCAL_OUT_OF_MEMORY")                                                          \
  /* The caller broke the API contract (null buffer, sizes, shapes): `message` says how. Never */ \
  /* caused by data values. */                                                                    \
  X(kInvalidArgument, "FOCAL_INVALID_ARGUMENT")

enum class ErrorCode : int {
  kNone = 0,
#define FOCAL_ERROR_ENUMERATOR(name, string) name,
  FOCAL_ERROR_CODES(FOCAL_ERROR_ENUMERATOR)
#undef FOCAL_ERROR_ENUMERATOR
};

// "FOCAL_LABEL_OUT_OF_RANGE", ...; "" for kNone.
const char* error_code_name(ErrorCode code);

// The first error of a call (the lowest flat index when several chunks fail).
struct Error {
  ErrorCode code = ErrorCode::kNone;
  const char* argument = "";  // "labels" or "logits": the input the index refers to
  int64_t index = -1;         // flat element index into `argument`
  double value = 0;           // the offending value (the row sum for kProbabilityRowSum)
  int64_t classes = 0;        // row length, for codes that name a row or the class range
  bool has_ignore_index = false;
  int32_t ignore_index = 0;
  std::string message;        // kInvalidArgument and kOutOfMemory only: what was wrong

  bool ok() const { return code == ErrorCode::kNone; }
};

// A one-line description for C++ callers and the raw addon, not the user's message (that is
// lib/errors.ts's): "FOCAL_LABEL_OUT_OF_RANGE: labels[17] = 12 (classes 10)", or the message.
std::string describe(const Error& error);

// The TF_Status message of a failed TensorFlow op: kTensorflowErrorMarker, a space, then one JSON
// object {"code", "argument", "index", "value", "classes", "ignoreIndex", "detail"} (value: a
// JSON number, or the string "NaN", "Infinity" or "-Infinity"; ignoreIndex: a number or null).
constexpr const char* kTensorflowErrorMarker = "tfjs-focal-loss-error";
std::string to_tensorflow_message(const Error& error);

}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_FOCAL_ERROR_H_
