// Error codes, descriptions and the TensorFlow status format. docs/DESIGN.md#errors
#include "core/errors.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <utility>

namespace focal {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone: return "";
#define FOCAL_ERROR_CASE(name, string) \
  case ErrorCode::name: return string;
    FOCAL_ERROR_CODES(FOCAL_ERROR_CASE)
#undef FOCAL_ERROR_CASE
  }
  return "FOCAL_UNKNOWN_ERROR";
}

std::string describe(const Error& e) {
  if (e.ok()) return std::string();
  std::string s = error_code_name(e.code);
  if (!e.message.empty()) return s + ": " + e.message;
  s += std::string(": ") + e.argument + "[" + std::to_string(e.index) + "] = " + detail::format_number(e.value);
  if (e.classes > 0) s += " (classes " + std::to_string(e.classes) + ")";
  if (e.has_ignore_index) s += " (ignoreIndex " + std::to_string(e.ignore_index) + ")";
  return s;
}

namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A double as JSON: a number (17 significant digits, exact round trip), or a string for the
// values JSON has no number for.
std::string json_number(double v) {
  if (std::isnan(v)) return "\"NaN\"";
  if (std::isinf(v)) return v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::string to_tensorflow_message(const Error& e) {
  std::string s = std::string(kTensorflowErrorMarker) + " {\"code\":" + json_string(error_code_name(e.code));
  s += ",\"argument\":" + json_string(e.argument);
  s += ",\"index\":" + std::to_string(e.index);
  s += ",\"value\":" + json_number(e.value);
  s += ",\"classes\":" + std::to_string(e.classes);
  s += ",\"ignoreIndex\":" + (e.has_ignore_index ? std::to_string(e.ignore_index) : std::string("null"));
  s += ",\"detail\":" + json_string(e.message) + "}";
  return s;
}

namespace detail {

void ErrorCollector::add(const KernelError& error) {
  if (error.code == ErrorCode::kNone) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (first_.code == ErrorCode::kNone || error.index < first_.index) first_ = error;
}

Error ErrorCollector::to_error(int64_t classes) const {
  Error e;
  e.code = first_.code;
  e.index = first_.index;
  e.value = first_.value;
  e.classes = classes;
  switch (first_.code) {
    case ErrorCode::kLabelOutOfRange:
    case ErrorCode::kLabelOutsideUnitInterval:
      e.argument = "labels";
      break;
    case ErrorCode::kOutOfMemory:
      e.message = "out of memory allocating kernel scratch space";
      break;
    default:
      e.argument = "logits";
      break;
  }
  return e;
}

Error invalid_argument(std::string message) {
  Error e;
  e.code = ErrorCode::kInvalidArgument;
  e.message = std::move(message);
  return e;
}

Error out_of_memory(std::string message) {
  Error e;
  e.code = ErrorCode::kOutOfMemory;
  e.message = std::move(message);
  return e;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

namespace {
std::atomic<int64_t> g_calls{0};
}  // namespace

void count_call() { g_calls.fetch_add(1, std::memory_order_relaxed); }

}  // namespace detail

int64_t call_count() { return detail::g_calls.load(std::memory_order_relaxed); }

}  // namespace focal
