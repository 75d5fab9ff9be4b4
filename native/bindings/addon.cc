// N-API module (node-addon-api). This file only converts: it checks every argument's type, length
// and range, throws a JS TypeError/RangeError naming the argument, what was expected and what was
// received, calls the plain C++ kernels and turns their error strings into JS exceptions.
//
// Context-aware (NODE_API_MODULE), and it keeps no JS handles between calls, so it can be loaded
// in several worker_threads at once.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>

#include "focal_loss.h"
#include "tensorflow_ops.h"

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

const char* typed_array_name(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

bool is_typed_array(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// "a Float64Array of length 3", "the number 2.5", "null", "a string", ...
std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return std::string("the boolean ") + (v.As<Napi::Boolean>().Value() ? "true" : "false");
  if (v.IsNumber()) return "the number " + format_number(v.As<Napi::Number>().DoubleValue());
  if (v.IsString()) return "a string";
  if (v.IsBigInt()) return "a bigint";
  if (v.IsSymbol()) return "a symbol";
  if (v.IsFunction()) return "a function";
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    return std::string("a ") + typed_array_name(ta.TypedArrayType()) + " of length " +
           std::to_string(ta.ElementLength());
  }
  if (v.IsArray()) return "an Array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsArrayBuffer()) return "an ArrayBuffer";
  return "an object";
}

[[noreturn]] void throw_type(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}
[[noreturn]] void throw_range(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

// Argument access with the function name and argument path in every message.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : env_(info.Env()), fn_(fn) {}

  Napi::Env env() const { return env_; }

  [[noreturn]] void type_error(const std::string& name, const std::string& expected,
                               const Napi::Value& got) const {
    throw_type(env_, fn_ + ": " + name + " must be " + expected + ", got " + describe(got));
  }
  [[noreturn]] void range_error(const std::string& name, const std::string& expected,
                                const std::string& got) const {
    throw_range(env_, fn_ + ": " + name + " must be " + expected + ", got " + got);
  }

  Napi::Object object(const Napi::CallbackInfo& info, const std::set<std::string>& allowed) const {
    if (info.Length() != 1) {
      throw_type(env_, fn_ + ": expected exactly 1 argument (an options object), got " +
                           std::to_string(info.Length()));
    }
    Napi::Value v = info[0];
    if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction())
      type_error("args", "an object", v);
    Napi::Object obj = v.As<Napi::Object>();
    Napi::Array keys = obj.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      std::string key = keys.Get(i).ToString().Utf8Value();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
        throw_type(env_, fn_ + ": unknown argument '" + key + "' (expected keys: " + list + ")");
      }
    }
    return obj;
  }

  void expect_count(const Napi::CallbackInfo& info, size_t n, const char* signature) const {
    if (info.Length() != n) {
      throw_type(env_, fn_ + ": expected " + std::to_string(n) + " arguments " + signature +
                           ", got " + std::to_string(info.Length()));
    }
  }

  double number(const Napi::Value& v, const std::string& name) const {
    if (!v.IsNumber()) type_error(name, "a number", v);
    return v.As<Napi::Number>().DoubleValue();
  }

  // Non-negative safe integer (sizes).
  int64_t size(const Napi::Value& v, const std::string& name) const {
    const double d = number(v, name);
    if (!(d >= 0 && d <= kMaxSafeInteger && std::floor(d) == d))
      range_error(name, "a non-negative integer", format_number(d));
    return static_cast<int64_t>(d);
  }

  bool boolean(const Napi::Value& v, const std::string& name) const {
    if (!v.IsBoolean()) type_error(name, "a boolean", v);
    return v.As<Napi::Boolean>().Value();
  }

  template <typename T>
  Napi::TypedArrayOf<T> typed(const Napi::Value& v, const std::string& name, napi_typedarray_type type) const {
    if (!is_typed_array(v, type))
      type_error(name, std::string("a ") + typed_array_name(type), v);
    return v.As<Napi::TypedArrayOf<T>>();
  }
  Napi::Float32Array f32(const Napi::Value& v, const std::string& name) const {
    return typed<float>(v, name, napi_float32_array);
  }

  void expect_length(const Napi::TypedArray& a, const std::string& name, int64_t expected,
                     const std::string& formula) const {
    const int64_t got = static_cast<int64_t>(a.ElementLength());
    if (got != expected) {
      range_error(name, "of length " + formula + " = " + std::to_string(expected),
                  "length " + std::to_string(got));
    }
  }

  const std::string& fn() const { return fn_; }

 private:
  Napi::Env env_;
  std::string fn_;
};

struct Span {
  const void* begin;
  const void* end;
  std::string name;
};

template <typename T>
Span span_of(const Napi::TypedArrayOf<T>& a, const std::string& name) {
  const T* p = a.Data();
  return Span{p, p + a.ElementLength(), name};
}

// Outputs must not overlap any other buffer (the kernels read inputs after writing outputs);
// `allow_same` lets an output be exactly the same memory as one input (in-place scaling).
void check_no_overlap(const Args& args, const Span& out, const std::vector<Span>& others,
                      const Span* allow_same = nullptr) {
  if (out.begin == out.end) return;
  for (const Span& o : others) {
    if (o.begin == o.end) continue;
    if (allow_same && o.begin == allow_same->begin && o.name == allow_same->name &&
        out.begin == o.begin && out.end == o.end)
      continue;
    const bool overlap = out.begin < o.end && o.begin < out.end;
    if (overlap) {
      throw_range(args.env(), args.fn() + ": " + out.name + " must not share memory with " + o.name);
    }
  }
}

int64_t checked_product(const Args& args, int64_t rows, int64_t classes) {
  if (classes != 0 && rows > static_cast<int64_t>(kMaxSafeInteger) / classes) {
    throw_range(args.env(), args.fn() + ": rows * classes = " + std::to_string(rows) + " * " +
                                std::to_string(classes) + " is too large");
  }
  return rows * classes;
}

void throw_kernel_error(const Args& args, const std::string& err) {
  if (!err.empty()) throw_range(args.env(), args.fn() + ": " + err);
}

// The optional gradient output shared by both loss entry points: null/undefined means "no
// gradient"; otherwise a Float32Array of `n` elements that overlaps neither an input nor lossOut.
float* optional_grad_out(const Args& args, const Napi::Object& o, int64_t n, const char* n_name,
                         const std::vector<Span>& inputs, const Span& loss_span) {
  Napi::Value grad_v = o.Get("gradOut");
  if (grad_v.IsNull() || grad_v.IsUndefined()) return nullptr;
  if (!is_typed_array(grad_v, napi_float32_array))
    args.type_error("args.gradOut", "a Float32Array or null", grad_v);
  Napi::Float32Array grad_out = grad_v.As<Napi::Float32Array>();
  args.expect_length(grad_out, "args.gradOut", n, n_name);
  Span grad_span = span_of(grad_out, "args.gradOut");
  check_no_overlap(args, grad_span, inputs);
  check_no_overlap(args, grad_span, {loss_span});
  // The array stays alive while the caller's argument object holds it, i.e. for the whole call.
  return grad_out.Data();
}

Napi::Value SoftmaxFocalLoss(const Napi::CallbackInfo& info) {
  Args args(info, "softmaxFocalLoss");
  Napi::Object o = args.object(info, {"logits", "labels", "denseLabels", "rows", "classes", "gamma",
                                      "alpha", "labelSmoothing", "ignoreIndex", "fromLogits",
                                      "lossOut", "gradOut"});
  focal::SoftmaxFocalArgs a;
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

  a.gamma = args.number(o.Get("gamma"), "args.gamma");
  if (!(std::isfinite(a.gamma) && a.gamma >= 0))
    args.range_error("args.gamma", "a finite number >= 0", format_number(a.gamma));

  Napi::Value alpha_v = o.Get("alpha");
  Napi::Float32Array alpha;
  if (alpha_v.IsNumber()) {
    const double al = alpha_v.As<Napi::Number>().DoubleValue();
    // A negative class weight would turn the loss into a reward: refuse it here too.
    if (!std::isfinite(al) || al < 0)
      args.range_error("args.alpha", "a finite number >= 0", format_number(al));
    a.alpha_scalar = static_cast<float>(al);
    if (!std::isfinite(a.alpha_scalar))
      args.range_error("args.alpha", "a number representable as float32", format_number(al));
  } else if (is_typed_array(alpha_v, napi_float32_array)) {
    alpha = alpha_v.As<Napi::Float32Array>();
    args.expect_length(alpha, "args.alpha (per-class Float32Array)", a.classes, "classes");
    for (size_t j = 0; j < alpha.ElementLength(); ++j) {
      if (!std::isfinite(alpha[j]) || alpha[j] < 0)
        args.range_error("args.alpha[" + std::to_string(j) + "]", "finite and >= 0", format_number(alpha[j]));
    }
    a.alpha = alpha.Data();
    inputs.push_back(span_of(alpha, "args.alpha"));
  } else {
    args.type_error("args.alpha", "a number or a Float32Array of length classes", alpha_v);
  }

  a.label_smoothing = args.number(o.Get("labelSmoothing"), "args.labelSmoothing");
  if (!(a.label_smoothing >= 0 && a.label_smoothing <= 1))
    args.range_error("args.labelSmoothing", "a number in [0, 1]", format_number(a.label_smoothing));

  Napi::Value ignore_v = o.Get("ignoreIndex");
  if (!ignore_v.IsNull() && !ignore_v.IsUndefined()) {
    const double ii = args.number(ignore_v, "args.ignoreIndex");
    if (!(std::floor(ii) == ii && ii >= -2147483648.0 && ii <= 2147483647.0))
      args.range_error("args.ignoreIndex", "an int32 integer or null", format_number(ii));
    if (!a.sparse_labels) {
      throw_type(args.env(), args.fn() + ": args.ignoreIndex must be null with dense labels, got " +
                             format_number(ii));
    }
    a.has_ignore_index = true;
    a.ignore_index = static_cast<int32_t>(ii);
  }

  a.from_logits = args.boolean(o.Get("fromLogits"), "args.fromLogits");

  Napi::Float32Array loss_out = args.f32(o.Get("lossOut"), "args.lossOut");
  args.expect_length(loss_out, "args.lossOut", a.rows, "rows");
  a.loss_out = loss_out.Data();
  Span loss_span = span_of(loss_out, "args.lossOut");

  a.grad_out = optional_grad_out(args, o, n, "rows * classes", inputs, loss_span);
  check_no_overlap(args, loss_span, inputs);

  throw_kernel_error(args, focal::softmax_focal_loss(a));
  return info.Env().Undefined();
}

Napi::Value SigmoidFocalLoss(const Napi::CallbackInfo& info) {
  Args args(info, "sigmoidFocalLoss");
  Napi::Object o = args.object(info, {"logits", "labels", "gamma", "alpha", "labelSmoothing",
                                      "fromLogits", "lossOut", "gradOut"});
  focal::SigmoidFocalArgs a;
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

  a.gamma = args.number(o.Get("gamma"), "args.gamma");
  if (!(std::isfinite(a.gamma) && a.gamma >= 0))
    args.range_error("args.gamma", "a finite number >= 0", format_number(a.gamma));

  Napi::Value alpha_v = o.Get("alpha");
  if (alpha_v.IsNull() || alpha_v.IsUndefined()) {
    a.class_balancing = false;
  } else {
    const double al = args.number(alpha_v, "args.alpha");
    if (std::isnan(al) || al > 1)
      args.range_error("args.alpha", "a number in [0, 1], or negative or null for no class balancing",
                       format_number(al));
    a.class_balancing = al >= 0;
    a.alpha = a.class_balancing ? al : 0.25;
  }

  a.label_smoothing = args.number(o.Get("labelSmoothing"), "args.labelSmoothing");
  if (!(a.label_smoothing >= 0 && a.label_smoothing <= 1))
    args.range_error("args.labelSmoothing", "a number in [0, 1]", format_number(a.label_smoothing));
  a.from_logits = args.boolean(o.Get("fromLogits"), "args.fromLogits");

  Napi::Float32Array loss_out = args.f32(o.Get("lossOut"), "args.lossOut");
  args.expect_length(loss_out, "args.lossOut", n, "logits.length");
  a.loss_out = loss_out.Data();
  Span loss_span = span_of(loss_out, "args.lossOut");
  check_no_overlap(args, loss_span, inputs);

  a.grad_out = optional_grad_out(args, o, n, "logits.length", inputs, loss_span);

  throw_kernel_error(args, focal::sigmoid_focal_loss(a));
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
  focal::scale_rows(grad.Data(), dy.Data(), rows, classes, out.Data());
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
  focal::scale_elements(grad.Data(), dy.Data(), n, out.Data());
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Args args(info, "setNumThreads");
  args.expect_count(info, 1, "(n)");
  const double n = args.number(info[0], "n");
  if (!(std::floor(n) == n && n >= 1 && n <= 1024))
    args.range_error("n", "an integer in [1, 1024]", format_number(n));
  focal::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), focal::num_threads());
}

Napi::Value SimdLevel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), focal::simd_level());
}

Napi::Value CallCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(focal::call_count()));
}

// Registers the kernels as TensorFlow ops in the TensorFlow that tfjs-node loaded (once per
// process). Returns {ok, reason, ops: {softmax, sigmoid, scaleGradient}} with the op names.
Napi::Value RegisterTensorflowOps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string reason = focal::register_tensorflow_ops();
  Napi::Object result = Napi::Object::New(env);
  result.Set("ok", Napi::Boolean::New(env, reason.empty()));
  result.Set("reason", Napi::String::New(env, reason));
  Napi::Object ops = Napi::Object::New(env);
  ops.Set("softmax", Napi::String::New(env, focal::kSoftmaxOpName));
  ops.Set("sigmoid", Napi::String::New(env, focal::kSigmoidOpName));
  ops.Set("scaleGradient", Napi::String::New(env, focal::kScaleGradientOpName));
  result.Set("ops", ops);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("softmaxFocalLoss", Napi::Function::New(env, SoftmaxFocalLoss, "softmaxFocalLoss"));
  exports.Set("sigmoidFocalLoss", Napi::Function::New(env, SigmoidFocalLoss, "sigmoidFocalLoss"));
  exports.Set("scaleRows", Napi::Function::New(env, ScaleRows, "scaleRows"));
  exports.Set("scaleElements", Napi::Function::New(env, ScaleElements, "scaleElements"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("simdLevel", Napi::Function::New(env, SimdLevel, "simdLevel"));
  exports.Set("callCount", Napi::Function::New(env, CallCount, "callCount"));
  exports.Set("registerTensorflowOps",
              Napi::Function::New(env, RegisterTensorflowOps, "registerTensorflowOps"));
  return exports;
}

}  // namespace

NODE_API_MODULE(focal_loss, Init)
