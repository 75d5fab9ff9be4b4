// N-API module (node-addon-api). This file only converts: it checks what the kernels need to stay
// memory-safe (types, typed-array types and lengths consistent with rows and classes, sizes that
// could overflow; napi_args.h), calls the plain C++ kernels of include/focal_loss.h, and turns
// their errors into JS exceptions whose properties carry the structured fields (code, argument,
// index, value, classes, ignoreIndex). lib/errors.ts formats the user's message from them.
// docs/DESIGN.md#errors
//
// Context-aware (NODE_API_MODULE), and it keeps no JS handles between calls, so it can be loaded
// in several worker_threads at once.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "bindings/napi_args.h"
#include "bindings/tensorflow_ops.h"
#include "include/focal_loss.h"

namespace focal {
namespace napi {
namespace {

// The keys each entry point reads from its options object: its buffers and other arguments, then
// its options (include/focal_loss.h). The entry points read through ArgObject, which refuses a key
// missing here, and argumentKeys() returns these lists, so the TypeScript layer can test that it
// passes exactly these. Unknown keys are not refused here.
struct KeyList {
  const char* const* keys;
  size_t count;
};
#define FOCAL_OPTION_KEY(type, field, default_value, key, ...) key,
constexpr const char* kSoftmaxKeyNames[] = {"logits", "labels", "denseLabels", "rows", "classes",
                                            "alpha", "ignoreIndex", "logitOffsets", "lossOut",
                                            "gradOut", FOCAL_SOFTMAX_OPTIONS(FOCAL_OPTION_KEY)};
constexpr const char* kSigmoidKeyNames[] = {"logits", "labels", "alpha", "lossOut", "gradOut",
                                            // the elementwise family (optional; default: focal)
                                            "loss", FOCAL_SIGMOID_OPTIONS(FOCAL_OPTION_KEY)};
#undef FOCAL_OPTION_KEY
constexpr KeyList kSoftmaxKeys{kSoftmaxKeyNames, sizeof kSoftmaxKeyNames / sizeof *kSoftmaxKeyNames};
constexpr KeyList kSigmoidKeys{kSigmoidKeyNames, sizeof kSigmoidKeyNames / sizeof *kSigmoidKeyNames};

class ArgObject {
 public:
  ArgObject(Napi::Object object, const KeyList& keys) : object_(object), keys_(keys) {}
  Napi::Value Get(const char* key) const {
    for (size_t i = 0; i < keys_.count; ++i) {
      if (std::strcmp(keys_.keys[i], key) == 0) return object_.Get(key);
    }
    throw Napi::Error::New(object_.Env(), std::string("internal error: key '") + key +
                                              "' is not in the entry point's key list");
  }

 private:
  Napi::Object object_;
  KeyList keys_;
};

// One option of an entry point's table from its options object: a kOptional key left out
// (undefined) keeps the Args default.
template <typename T>
void read_option(const Args& args, const ArgObject& o, const char* key, OptionPresence presence,
                 T* out) {
  const Napi::Value v = o.Get(key);
  if (presence == OptionPresence::kOptional && v.IsUndefined()) return;
  const std::string name = std::string("args.") + key;
  if constexpr (std::is_same_v<T, bool>) {
    *out = args.boolean(v, name);
  } else if constexpr (std::is_integral_v<T>) {
    const double d = args.number(v, name);
    if (!(std::floor(d) == d && d >= static_cast<double>(std::numeric_limits<T>::min()) &&
          d <= static_cast<double>(std::numeric_limits<T>::max()) && std::fabs(d) <= kMaxSafeInteger))
      args.range_error(name, "an integer", format_number(d));
    *out = static_cast<T>(d);
  } else {
    *out = static_cast<T>(args.number(v, name));
  }
}
#define FOCAL_READ_OPTION(type, field, default_value, key, presence) \
  read_option(args, o, key, OptionPresence::presence, &a->field);
void read_options(const Args& args, const ArgObject& o, SoftmaxFocalArgs* a) {
  FOCAL_SOFTMAX_OPTIONS(FOCAL_READ_OPTION)
}
void read_options(const Args& args, const ArgObject& o, SigmoidElementwiseArgs* a) {
  FOCAL_SIGMOID_OPTIONS(FOCAL_READ_OPTION)
}
#undef FOCAL_READ_OPTION

// An entry point's options as kernelOptions() describes them to the TypeScript layer:
// [{key, attr, type, default, required}], `attr` the TensorFlow op attribute, `type` its type.
class OptionList {
 public:
  explicit OptionList(Napi::Env env) : env_(env), array_(Napi::Array::New(env)) {}
  template <typename T>
  void add(const char* key, const char* attr, T default_value, OptionPresence presence) {
    Napi::Object o = Napi::Object::New(env_);
    o.Set("key", Napi::String::New(env_, key));
    o.Set("attr", Napi::String::New(env_, attr));
    o.Set("type", Napi::String::New(env_, option_type_name<T>()));
    if constexpr (std::is_same_v<T, bool>) {
      o.Set("default", Napi::Boolean::New(env_, default_value));
    } else {
      o.Set("default", Napi::Number::New(env_, static_cast<double>(default_value)));
    }
    o.Set("required", Napi::Boolean::New(env_, presence == OptionPresence::kRequired));
    array_.Set(array_.Length(), o);
  }
  Napi::Array array() const { return array_; }

 private:
  Napi::Env env_;
  Napi::Array array_;
};
#define FOCAL_DESCRIBE_OPTION(type, field, default_value, key, presence) \
  list.add<type>(key, #field, defaults.field, OptionPresence::presence);
Napi::Array describe_options(Napi::Env env, const SoftmaxFocalArgs& defaults) {
  OptionList list(env);
  FOCAL_SOFTMAX_OPTIONS(FOCAL_DESCRIBE_OPTION)
  return list.array();
}
Napi::Array describe_options(Napi::Env env, const SigmoidElementwiseArgs& defaults) {
  OptionList list(env);
  FOCAL_SIGMOID_OPTIONS(FOCAL_DESCRIBE_OPTION)
  return list.array();
}
#undef FOCAL_DESCRIBE_OPTION

Napi::Array to_array(Napi::Env env, const KeyList& list) {
  Napi::Array out = Napi::Array::New(env, list.count);
  for (size_t i = 0; i < list.count; ++i) out.Set(static_cast<uint32_t>(i), Napi::String::New(env, list.keys[i]));
  return out;
}

// A kernel error as a JS RangeError: the message is focal::describe's one line (for callers of
// the raw addon), the properties are the fields lib/errors.ts reads.
void throw_kernel_error(const Args& args, const Error& error) {
  if (error.ok()) return;
  Napi::Env env = args.env();
  Napi::Error e = Napi::RangeError::New(env, args.fn() + ": " + describe(error));
  e.Set("code", Napi::String::New(env, error_code_name(error.code)));
  if (error.argument[0] != '\0') e.Set("argument", Napi::String::New(env, error.argument));
  if (error.index >= 0) e.Set("index", Napi::Number::New(env, static_cast<double>(error.index)));
  e.Set("value", Napi::Number::New(env, error.value));
  if (error.classes > 0) e.Set("classes", Napi::Number::New(env, static_cast<double>(error.classes)));
  if (!error.message.empty()) e.Set("detail", Napi::String::New(env, error.message));
  e.Set("ignoreIndex", error.has_ignore_index ? Napi::Value(Napi::Number::New(env, error.ignore_index))
                                              : env.Null());
  throw e;
}

Napi::Value SoftmaxFocalLoss(const Napi::CallbackInfo& info) {
  Args args(info, "softmaxFocalLoss");
  const ArgObject o(args.object(info), kSoftmaxKeys);
  SoftmaxFocalArgs a;
  a.rows = args.size(o.Get("rows"), "args.rows");
  a.classes = args.size(o.Get("classes"), "args.classes");
  if (a.classes < 1) args.range_error("args.classes", "an integer >= 1", "0");
  const int64_t n = checked_product(args, a.rows, a.classes);

  Napi::Float32Array logits = args.f32(o.Get("logits"), "args.logits");
  args.expect_length(logits, "args.logits", n, "rows * classes");
  a.logits = logits.Data();
  std::vector<Span> inputs{span_of(logits, "args.logits")};

  // labels: an Int32Array of class indices (sparse), a Float32Array of rows * classes (dense), or,
  // with denseLabels: true, an Int32Array of rows * classes (dense labels that tfjs's 'cpu' backend
  // holds as integers; converted block by block in the kernel, never copied whole).
  Napi::Value labels_v = o.Get("labels");
  Napi::Value dense_v = o.Get("denseLabels");
  const bool int32_dense = !dense_v.IsUndefined() && args.boolean(dense_v, "args.denseLabels");
  const bool is_int32 = is_typed_array(labels_v, napi_int32_array);
  const bool is_float32 = is_typed_array(labels_v, napi_float32_array);
  if (is_int32 && int32_dense) {
    Napi::Int32Array dense = labels_v.As<Napi::Int32Array>();
    args.expect_length(dense, "args.labels (Int32Array: dense labels)", n, "rows * classes");
    a.dense_labels_int32 = dense.Data();
    inputs.push_back(span_of(dense, "args.labels"));
  } else if (is_int32) {
    Napi::Int32Array sparse = labels_v.As<Napi::Int32Array>();
    args.expect_length(sparse, "args.labels (Int32Array: sparse class indices)", a.rows, "rows");
    a.sparse_labels = sparse.Data();
    inputs.push_back(span_of(sparse, "args.labels"));
  } else if (is_float32) {
    Napi::Float32Array dense = labels_v.As<Napi::Float32Array>();
    args.expect_length(dense, "args.labels (Float32Array: dense labels)", n, "rows * classes");
    a.dense_labels = dense.Data();
    inputs.push_back(span_of(dense, "args.labels"));
  } else {
    args.type_error("args.labels",
                    int32_dense ? "an Int32Array or a Float32Array of rows * classes dense labels"
                                : "an Int32Array (sparse) or a Float32Array (dense)",
                    labels_v);
  }

  read_options(args, o, &a);

  Napi::Value alpha_v = o.Get("alpha");
  Napi::Float32Array alpha;
  if (alpha_v.IsNumber()) {
    a.alpha_scalar = static_cast<float>(alpha_v.As<Napi::Number>().DoubleValue());
  } else if (is_typed_array(alpha_v, napi_float32_array)) {
    alpha = alpha_v.As<Napi::Float32Array>();
    args.expect_length(alpha, "args.alpha (per-class Float32Array)", a.classes, "classes");
    a.alpha = alpha.Data();
    inputs.push_back(span_of(alpha, "args.alpha"));
  } else {
    args.type_error("args.alpha", "a number or a Float32Array of length classes", alpha_v);
  }

  Napi::Value ignore_v = o.Get("ignoreIndex");
  if (!ignore_v.IsNull() && !ignore_v.IsUndefined()) {
    const double ii = args.number(ignore_v, "args.ignoreIndex");
    // (An int32, or the conversion below would be undefined; dense labels ignore it.)
    if (!(std::floor(ii) == ii && ii >= -2147483648.0 && ii <= 2147483647.0))
      args.range_error("args.ignoreIndex", "an int32 integer or null", format_number(ii));
    a.has_ignore_index = a.sparse_labels != nullptr;
    a.ignore_index = static_cast<int32_t>(ii);
  }

  Napi::Value offsets_v = o.Get("logitOffsets");
  Napi::Float32Array offsets;
  if (!offsets_v.IsNull() && !offsets_v.IsUndefined()) {
    if (!is_typed_array(offsets_v, napi_float32_array))
      args.type_error("args.logitOffsets", "a Float32Array of length classes or null", offsets_v);
    offsets = offsets_v.As<Napi::Float32Array>();
    args.expect_length(offsets, "args.logitOffsets", a.classes, "classes");
    a.logit_offsets = offsets.Data();
    inputs.push_back(span_of(offsets, "args.logitOffsets"));
  }

  Napi::Float32Array loss_out = args.f32(o.Get("lossOut"), "args.lossOut");
  args.expect_length(loss_out, "args.lossOut", a.rows, "rows");
  a.loss_out = loss_out.Data();
  Span loss_span = span_of(loss_out, "args.lossOut");

  a.grad_out = optional_grad_out(args, o.Get("gradOut"), n, "rows * classes", inputs, loss_span);
  check_no_overlap(args, loss_span, inputs);

  throw_kernel_error(args, softmax_focal_loss(a));
  return info.Env().Undefined();
}

// The loss of the elementwise family (the ElementwiseLoss number; absent: the focal loss).
void read_loss(const Args& args, const ArgObject& o, SigmoidElementwiseArgs* a) {
  const Napi::Value loss_v = o.Get("loss");
  if (!loss_v.IsUndefined()) {
    const int64_t loss = args.size(loss_v, "args.loss");
    constexpr int64_t kCount = static_cast<int64_t>(ElementwiseLoss::kCount);
    if (loss >= kCount)
      args.range_error("args.loss", "an ElementwiseLoss code, 0 to " + std::to_string(kCount - 1),
                       std::to_string(loss));
    a->loss = static_cast<ElementwiseLoss>(loss);
  }
}

Napi::Value SigmoidElementwiseLoss(const Napi::CallbackInfo& info) {
  Args args(info, "sigmoidElementwiseLoss");
  const ArgObject o(args.object(info), kSigmoidKeys);
  SigmoidElementwiseArgs a;
  Napi::Float32Array logits = args.f32(o.Get("logits"), "args.logits");
  const int64_t n = static_cast<int64_t>(logits.ElementLength());
  a.count = n;
  a.logits = logits.Data();
  // labels: a Float32Array, or an Int32Array (labels that tfjs's 'cpu' backend holds as integers;
  // converted block by block in the kernel, never copied whole).
  Napi::Value labels_v = o.Get("labels");
  std::vector<Span> inputs{span_of(logits, "args.logits")};
  if (is_typed_array(labels_v, napi_int32_array)) {
    Napi::Int32Array labels = labels_v.As<Napi::Int32Array>();
    args.expect_length(labels, "args.labels", n, "logits.length");
    a.labels_int32 = labels.Data();
    inputs.push_back(span_of(labels, "args.labels"));
  } else {
    if (!is_typed_array(labels_v, napi_float32_array))
      args.type_error("args.labels", "a Float32Array or an Int32Array", labels_v);
    Napi::Float32Array labels = labels_v.As<Napi::Float32Array>();
    args.expect_length(labels, "args.labels", n, "logits.length");
    a.labels = labels.Data();
    inputs.push_back(span_of(labels, "args.labels"));
  }

  read_options(args, o, &a);

  Napi::Value alpha_v = o.Get("alpha");
  if (alpha_v.IsNull() || alpha_v.IsUndefined()) {
    a.class_balancing = false;
  } else {
    const double al = args.number(alpha_v, "args.alpha");
    a.class_balancing = al >= 0;  // negative (or null): no class balancing, alpha keeps its default
    if (a.class_balancing) a.alpha = al;
  }

  read_loss(args, o, &a);

  Napi::Float32Array loss_out = args.f32(o.Get("lossOut"), "args.lossOut");
  args.expect_length(loss_out, "args.lossOut", n, "logits.length");
  a.loss_out = loss_out.Data();
  Span loss_span = span_of(loss_out, "args.lossOut");
  check_no_overlap(args, loss_span, inputs);

  a.grad_out = optional_grad_out(args, o.Get("gradOut"), n, "logits.length", inputs, loss_span);

  throw_kernel_error(args, sigmoid_elementwise_loss(a));
  return info.Env().Undefined();
}

Napi::Value ScaleRows(const Napi::CallbackInfo& info) {
  Args args(info, "scaleRows");
  args.expect_count(info, 5, "(grad, dy, rows, classes, out)");
  Napi::Float32Array grad = args.f32(info[0], "grad");
  Napi::Float32Array dy = args.f32(info[1], "dy");
  const int64_t rows = args.size(info[2], "rows");
  const int64_t classes = args.size(info[3], "classes");
  Napi::Float32Array out = args.f32(info[4], "out");
  const int64_t n = checked_product(args, rows, classes);
  args.expect_length(grad, "grad", n, "rows * classes");
  args.expect_length(dy, "dy", rows, "rows");
  args.expect_length(out, "out", n, "rows * classes");
  Span grad_span = span_of(grad, "grad");
  check_no_overlap(args, span_of(out, "out"), {grad_span, span_of(dy, "dy")}, &grad_span);
  scale_rows(grad.Data(), dy.Data(), rows, classes, out.Data());
  return info.Env().Undefined();
}

Napi::Value ScaleElements(const Napi::CallbackInfo& info) {
  Args args(info, "scaleElements");
  args.expect_count(info, 3, "(grad, dy, out)");
  Napi::Float32Array grad = args.f32(info[0], "grad");
  Napi::Float32Array dy = args.f32(info[1], "dy");
  Napi::Float32Array out = args.f32(info[2], "out");
  const int64_t n = static_cast<int64_t>(grad.ElementLength());
  args.expect_length(dy, "dy", n, "grad.length");
  args.expect_length(out, "out", n, "grad.length");
  Span grad_span = span_of(grad, "grad");
  check_no_overlap(args, span_of(out, "out"), {grad_span, span_of(dy, "dy")}, &grad_span);
  scale_elements(grad.Data(), dy.Data(), n, out.Data());
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Args args(info, "setNumThreads");
  args.expect_count(info, 1, "(n)");
  const double n = args.number(info[0], "n");
  if (!(std::floor(n) == n && n >= 1 && n <= 1024))
    args.range_error("n", "an integer in [1, 1024]", format_number(n));
  set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), num_threads());
}

Napi::Value SimdLevel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), simd_level());
}

Napi::Value CallCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(call_count()));
}

// The probability hint (focal_loss.h): takeProbabilityHint() returns it and clears it;
// setProbabilityCheck(armed) arms or disarms the check.
Napi::Value TakeProbabilityHint(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), take_probability_hint());
}

Napi::Value SetProbabilityCheck(const Napi::CallbackInfo& info) {
  Args args(info, "setProbabilityCheck");
  args.expect_count(info, 1, "(armed)");
  set_probability_check(args.boolean(info[0], "armed"));
  return info.Env().Undefined();
}

// Registers the kernels as TensorFlow ops in the TensorFlow that tfjs-node loaded (once per
// process). Returns {ok, reason, ops: {softmax, sigmoid, scaleGradient}} with the op names.
Napi::Value RegisterTensorflowOps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string reason = register_tensorflow_ops();
  Napi::Object result = Napi::Object::New(env);
  result.Set("ok", Napi::Boolean::New(env, reason.empty()));
  result.Set("reason", Napi::String::New(env, reason));
  Napi::Object ops = Napi::Object::New(env);
  ops.Set("softmax", Napi::String::New(env, kSoftmaxOpName));
  ops.Set("sigmoid", Napi::String::New(env, kSigmoidOpName));
  ops.Set("scaleGradient", Napi::String::New(env, kScaleGradientOpName));
  result.Set("ops", ops);
  return result;
}

// The attributes each TensorFlow op registers, from the tables that drive both the registration
// and the attribute reading: {softmax, sigmoid, scaleGradient}: [{name, type}], `type` as in the
// op definition ("float", "bool", "int", "list(float) >= 1", "{int32, float}").
Napi::Value TensorflowOpSpecs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  for (const OpSpec& op : tensorflow_op_specs()) {
    Napi::Array attrs = Napi::Array::New(env, op.attr_count);
    for (size_t i = 0; i < op.attr_count; ++i) {
      Napi::Object attr = Napi::Object::New(env);
      attr.Set("name", Napi::String::New(env, op.attrs[i].name));
      attr.Set("type", Napi::String::New(env, op.attrs[i].type));
      attrs.Set(static_cast<uint32_t>(i), attr);
    }
    result.Set(op.key, attrs);
  }
  return result;
}

// The options of softmaxFocalLoss and sigmoidElementwiseLoss (include/focal_loss.h), for the TypeScript
// layer, which builds both the addon's arguments and the TensorFlow op attributes from them.
Napi::Value KernelOptions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("softmaxFocalLoss", describe_options(env, SoftmaxFocalArgs{}));
  result.Set("sigmoidElementwiseLoss", describe_options(env, SigmoidElementwiseArgs{}));
  return result;
}

// The keys softmaxFocalLoss and sigmoidElementwiseLoss read from their options object.
Napi::Value ArgumentKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("softmaxFocalLoss", to_array(env, kSoftmaxKeys));
  result.Set("sigmoidElementwiseLoss", to_array(env, kSigmoidKeys));
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("softmaxFocalLoss", Napi::Function::New(env, SoftmaxFocalLoss, "softmaxFocalLoss"));
  exports.Set("sigmoidElementwiseLoss", Napi::Function::New(env, SigmoidElementwiseLoss, "sigmoidElementwiseLoss"));
  exports.Set("scaleRows", Napi::Function::New(env, ScaleRows, "scaleRows"));
  exports.Set("scaleElements", Napi::Function::New(env, ScaleElements, "scaleElements"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("simdLevel", Napi::Function::New(env, SimdLevel, "simdLevel"));
  exports.Set("callCount", Napi::Function::New(env, CallCount, "callCount"));
  exports.Set("takeProbabilityHint", Napi::Function::New(env, TakeProbabilityHint, "takeProbabilityHint"));
  exports.Set("setProbabilityCheck", Napi::Function::New(env, SetProbabilityCheck, "setProbabilityCheck"));
  exports.Set("registerTensorflowOps",
              Napi::Function::New(env, RegisterTensorflowOps, "registerTensorflowOps"));
  exports.Set("tensorflowOpSpecs", Napi::Function::New(env, TensorflowOpSpecs, "tensorflowOpSpecs"));
  exports.Set("argumentKeys", Napi::Function::New(env, ArgumentKeys, "argumentKeys"));
  exports.Set("kernelOptions", Napi::Function::New(env, KernelOptions, "kernelOptions"));
  return exports;
}

}  // namespace
}  // namespace napi
}  // namespace focal

namespace {
Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return focal::napi::Init(env, exports); }
}  // namespace

NODE_API_MODULE(focal_loss, InitModule)
