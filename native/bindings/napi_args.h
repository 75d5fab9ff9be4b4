// Argument conversion for the N-API entry points (addon.cc): type, length and size checks that
// keep the kernels memory-safe, each failure a JS TypeError / RangeError naming the argument, what
// was expected and what was received. Option values (gamma >= 0, alpha, labelSmoothing) are not
// range-checked here: the TypeScript layer validates them once (docs/DESIGN.md#errors).
#ifndef TFJS_FOCAL_LOSS_BINDINGS_NAPI_ARGS_H_
#define TFJS_FOCAL_LOSS_BINDINGS_NAPI_ARGS_H_

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace focal {
namespace napi {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

inline const char* typed_array_name(napi_typedarray_type type) {
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

inline bool is_typed_array(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

inline std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// "a Float64Array of length 3", "the number 2.5", "null", "a string", ...
inline std::string describe(const Napi::Value& v) {
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

// Memory-safety failures carry code FOCAL_INVALID_ARGUMENT (the same code as a TensorFlow op's
// shape failure), so that lib/errors.ts can tell them from the data-dependent codes.
[[noreturn]] inline void throw_invalid(Napi::Error error) {
  error.Set("code", Napi::String::New(error.Env(), "FOCAL_INVALID_ARGUMENT"));
  throw error;
}
[[noreturn]] inline void throw_type(Napi::Env env, const std::string& msg) {
  throw_invalid(Napi::TypeError::New(env, msg));
}
[[noreturn]] inline void throw_range(Napi::Env env, const std::string& msg) {
  throw_invalid(Napi::RangeError::New(env, msg));
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

  // The single options-object argument of softmaxFocalLoss / sigmoidElementwiseLoss.
  Napi::Object object(const Napi::CallbackInfo& info) const {
    if (info.Length() != 1) {
      throw_type(env_, fn_ + ": expected exactly 1 argument (an options object), got " +
                           std::to_string(info.Length()));
    }
    Napi::Value v = info[0];
    if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction())
      type_error("args", "an object", v);
    return v.As<Napi::Object>();
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
inline void check_no_overlap(const Args& args, const Span& out, const std::vector<Span>& others,
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

inline int64_t checked_product(const Args& args, int64_t rows, int64_t classes) {
  if (classes != 0 && rows > static_cast<int64_t>(kMaxSafeInteger) / classes) {
    throw_range(args.env(), args.fn() + ": rows * classes = " + std::to_string(rows) + " * " +
                                std::to_string(classes) + " is too large");
  }
  return rows * classes;
}

// The optional gradient output shared by both loss entry points: null/undefined means "no
// gradient"; otherwise a Float32Array of `n` elements that overlaps neither an input nor lossOut.
inline float* optional_grad_out(const Args& args, const Napi::Value& grad_v, int64_t n, const char* n_name,
                                const std::vector<Span>& inputs, const Span& loss_span) {
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

}  // namespace napi
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_BINDINGS_NAPI_ARGS_H_
