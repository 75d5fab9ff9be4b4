// TensorFlow ops around the focal-loss kernels (see tensorflow_ops.h for why and for the op
// signatures). This file only adapts: it reads TensorFlow tensors and attributes, allocates the
// outputs through TensorFlow, calls the plain C++ kernels of focal_loss.h and reports their errors
// as INVALID_ARGUMENT statuses.
#include "tensorflow_ops.h"

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>
#define FOCAL_HAVE_TF_OPS 1
#endif

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "focal_loss.h"

// ---------------------------------------------------------------------------------------------
// The subset of TensorFlow's C API used here (tensorflow/c/c_api.h, tf_tensor.h, tf_status.h,
// kernels.h, ops.h). These are stable C declarations; the library that provides them is found at
// run time, so TensorFlow's headers are not needed to build.
extern "C" {
struct TF_Status;
struct TF_Tensor;
struct TF_OpKernelConstruction;
struct TF_OpKernelContext;
struct TF_KernelBuilder;
struct TF_OpDefinitionBuilder;
struct TF_ShapeInferenceContext;
struct TF_Buffer {
  const void* data;
  size_t length;
  void (*data_deallocator)(void* data, size_t length);
};
}

namespace focal {

const char* const kSoftmaxOpName = "TfjsFocalLossSoftmax";
const char* const kSigmoidOpName = "TfjsFocalLossSigmoid";
const char* const kScaleGradientOpName = "TfjsFocalLossScaleGradient";

#if FOCAL_HAVE_TF_OPS
namespace {

// TF_DataType and TF_Code values (tf_datatype.h, tf_status.h); part of the C ABI.
constexpr int kTfFloat = 1;
constexpr int kTfInt32 = 3;
constexpr int kTfOk = 0;
constexpr int kTfInvalidArgument = 3;

struct TfApi {
  TF_Status* (*NewStatus)();
  void (*DeleteStatus)(TF_Status*);
  void (*SetStatus)(TF_Status*, int code, const char* msg);
  int (*GetCode)(const TF_Status*);
  const char* (*Message)(const TF_Status*);
  TF_Buffer* (*GetAllOpList)();
  void (*DeleteBuffer)(TF_Buffer*);

  TF_OpDefinitionBuilder* (*NewOpDefinitionBuilder)(const char* op_name);
  void (*OpDefinitionBuilderAddAttr)(TF_OpDefinitionBuilder*, const char* spec);
  void (*OpDefinitionBuilderAddInput)(TF_OpDefinitionBuilder*, const char* spec);
  void (*OpDefinitionBuilderAddOutput)(TF_OpDefinitionBuilder*, const char* spec);
  void (*OpDefinitionBuilderSetShapeInferenceFunction)(
      TF_OpDefinitionBuilder*, void (*fn)(TF_ShapeInferenceContext*, TF_Status*));
  void (*RegisterOpDefinition)(TF_OpDefinitionBuilder*, TF_Status*);
  void (*ShapeInferenceContextSetUnknownShape)(TF_ShapeInferenceContext*, TF_Status*);

  TF_KernelBuilder* (*NewKernelBuilder)(const char* op_name, const char* device_name,
                                        void* (*create)(TF_OpKernelConstruction*),
                                        void (*compute)(void*, TF_OpKernelContext*),
                                        void (*destroy)(void*));
  void (*KernelBuilder_TypeConstraint)(TF_KernelBuilder*, const char* attr, int type, TF_Status*);
  void (*RegisterKernelBuilder)(const char* kernel_name, TF_KernelBuilder*, TF_Status*);
  void (*DeleteKernelBuilder)(TF_KernelBuilder*);

  void (*GetAttrFloat)(TF_OpKernelConstruction*, const char*, float*, TF_Status*);
  void (*GetAttrBool)(TF_OpKernelConstruction*, const char*, unsigned char*, TF_Status*);
  void (*GetAttrInt64)(TF_OpKernelConstruction*, const char*, int64_t*, TF_Status*);
  void (*GetAttrSize)(TF_OpKernelConstruction*, const char*, int32_t* list_size,
                      int32_t* total_size, TF_Status*);
  void (*GetAttrFloatList)(TF_OpKernelConstruction*, const char*, float*, int max, TF_Status*);
  void (*ConstructionFailure)(TF_OpKernelConstruction*, TF_Status*);

  void (*GetInput)(TF_OpKernelContext*, int i, TF_Tensor**, TF_Status*);
  TF_Tensor* (*AllocateOutput)(TF_OpKernelContext*, int i, int dtype, const int64_t* dims,
                               int num_dims, size_t len, TF_Status*);
  void (*SetOutput)(TF_OpKernelContext*, int i, const TF_Tensor*, TF_Status*);
  void (*ContextFailure)(TF_OpKernelContext*, TF_Status*);

  int (*TensorType)(const TF_Tensor*);
  int (*NumDims)(const TF_Tensor*);
  int64_t (*Dim)(const TF_Tensor*, int);
  void* (*TensorData)(const TF_Tensor*);
  int64_t (*TensorElementCount)(const TF_Tensor*);
  void (*DeleteTensor)(TF_Tensor*);
};

TfApi g_tf;  // filled once by load_api(), read-only afterwards

// Shared libraries of this process whose path names TensorFlow (libtensorflow*.so*), in load order.
int collect_tensorflow_libraries(struct dl_phdr_info* info, size_t, void* data) {
  auto* paths = static_cast<std::vector<std::string>*>(data);
  if (info->dlpi_name != nullptr && std::strstr(info->dlpi_name, "tensorflow") != nullptr) {
    paths->push_back(info->dlpi_name);
  }
  return 0;
}

// Fills g_tf from the TensorFlow libraries already loaded (never loads one: RTLD_NOLOAD). The C
// API is split over libtensorflow*.so and libtensorflow_framework.so depending on the TensorFlow
// build, so every symbol is looked for in each of them.
std::string load_api() {
  std::vector<std::string> paths;
  dl_iterate_phdr(collect_tensorflow_libraries, &paths);
  std::vector<void*> handles;
  for (const std::string& path : paths) {
    if (void* handle = dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD)) handles.push_back(handle);
  }
  if (handles.empty()) return "no TensorFlow library is loaded in this process";
  std::string missing;
  auto find = [&](auto& slot, const char* name) {
    for (void* handle : handles) {
      if (void* symbol = dlsym(handle, name)) {
        slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(symbol);
        return;
      }
    }
    missing += missing.empty() ? name : std::string(", ") + name;
  };
  find(g_tf.NewStatus, "TF_NewStatus");
  find(g_tf.DeleteStatus, "TF_DeleteStatus");
  find(g_tf.SetStatus, "TF_SetStatus");
  find(g_tf.GetCode, "TF_GetCode");
  find(g_tf.Message, "TF_Message");
  find(g_tf.GetAllOpList, "TF_GetAllOpList");
  find(g_tf.DeleteBuffer, "TF_DeleteBuffer");
  find(g_tf.NewOpDefinitionBuilder, "TF_NewOpDefinitionBuilder");
  find(g_tf.OpDefinitionBuilderAddAttr, "TF_OpDefinitionBuilderAddAttr");
  find(g_tf.OpDefinitionBuilderAddInput, "TF_OpDefinitionBuilderAddInput");
  find(g_tf.OpDefinitionBuilderAddOutput, "TF_OpDefinitionBuilderAddOutput");
  find(g_tf.OpDefinitionBuilderSetShapeInferenceFunction, "TF_OpDefinitionBuilderSetShapeInferenceFunction");
  find(g_tf.RegisterOpDefinition, "TF_RegisterOpDefinition");
  find(g_tf.ShapeInferenceContextSetUnknownShape, "TF_ShapeInferenceContextSetUnknownShape");
  find(g_tf.NewKernelBuilder, "TF_NewKernelBuilder");
  find(g_tf.KernelBuilder_TypeConstraint, "TF_KernelBuilder_TypeConstraint");
  find(g_tf.RegisterKernelBuilder, "TF_RegisterKernelBuilder");
  find(g_tf.DeleteKernelBuilder, "TF_DeleteKernelBuilder");
  find(g_tf.GetAttrFloat, "TF_OpKernelConstruction_GetAttrFloat");
  find(g_tf.GetAttrBool, "TF_OpKernelConstruction_GetAttrBool");
  find(g_tf.GetAttrInt64, "TF_OpKernelConstruction_GetAttrInt64");
  find(g_tf.GetAttrSize, "TF_OpKernelConstruction_GetAttrSize");
  find(g_tf.GetAttrFloatList, "TF_OpKernelConstruction_GetAttrFloatList");
  find(g_tf.ConstructionFailure, "TF_OpKernelConstruction_Failure");
  find(g_tf.GetInput, "TF_GetInput");
  find(g_tf.AllocateOutput, "TF_AllocateOutput");
  find(g_tf.SetOutput, "TF_SetOutput");
  find(g_tf.ContextFailure, "TF_OpKernelContext_Failure");
  find(g_tf.TensorType, "TF_TensorType");
  find(g_tf.NumDims, "TF_NumDims");
  find(g_tf.Dim, "TF_Dim");
  find(g_tf.TensorData, "TF_TensorData");
  find(g_tf.TensorElementCount, "TF_TensorElementCount");
  find(g_tf.DeleteTensor, "TF_DeleteTensor");
  if (!missing.empty()) return "the loaded TensorFlow lacks C API functions: " + missing;
  return std::string();
}

// Owns a TF_Status.
class Status {
 public:
  Status() : status_(g_tf.NewStatus()) {}
  ~Status() { g_tf.DeleteStatus(status_); }
  Status(const Status&) = delete;
  Status& operator=(const Status&) = delete;
  TF_Status* get() const { return status_; }
  bool ok() const { return g_tf.GetCode(status_) == kTfOk; }
  std::string message() const { return g_tf.Message(status_); }

 private:
  TF_Status* status_;
};

// Owns a TF_Tensor wrapper from TF_GetInput / TF_AllocateOutput (the data belongs to TensorFlow).
class Tensor {
 public:
  Tensor() = default;
  ~Tensor() {
    if (tensor_ != nullptr) g_tf.DeleteTensor(tensor_);
  }
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
  TF_Tensor** out() { return &tensor_; }
  void reset(TF_Tensor* t) {
    if (tensor_ != nullptr) g_tf.DeleteTensor(tensor_);
    tensor_ = t;
  }
  TF_Tensor* get() const { return tensor_; }
  std::vector<int64_t> shape() const {
    std::vector<int64_t> dims(static_cast<size_t>(g_tf.NumDims(tensor_)));
    for (size_t i = 0; i < dims.size(); ++i) dims[i] = g_tf.Dim(tensor_, static_cast<int>(i));
    return dims;
  }
  int64_t size() const { return g_tf.TensorElementCount(tensor_); }
  template <typename T>
  T* data() const { return static_cast<T*>(g_tf.TensorData(tensor_)); }

 private:
  TF_Tensor* tensor_ = nullptr;
};

std::string format_shape(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

// Fails the op with INVALID_ARGUMENT. `fn` names the function as the addon does ("softmaxFocalLoss:
// ..."), so the TypeScript layer reports errors from either path the same way.
void fail(TF_OpKernelContext* ctx, const char* fn, const std::string& message) {
  Status status;
  g_tf.SetStatus(status.get(), kTfInvalidArgument, (std::string(fn) + ": " + message).c_str());
  g_tf.ContextFailure(ctx, status.get());
}

bool get_inputs(TF_OpKernelContext* ctx, const char* fn, Tensor* a, Tensor* b) {
  Status status;
  g_tf.GetInput(ctx, 0, a->out(), status.get());
  if (status.ok()) g_tf.GetInput(ctx, 1, b->out(), status.get());
  if (!status.ok()) {
    fail(ctx, fn, status.message());
    return false;
  }
  return true;
}

// Allocates output `index` as float32 of `dims`; false (op failed) if TensorFlow could not.
bool allocate_float_output(TF_OpKernelContext* ctx, const char* fn, int index,
                           const std::vector<int64_t>& dims, Tensor* out) {
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  Status status;
  out->reset(g_tf.AllocateOutput(ctx, index, kTfFloat, dims.data(), static_cast<int>(dims.size()),
                                 static_cast<size_t>(count) * sizeof(float), status.get()));
  if (!status.ok()) {
    fail(ctx, fn, status.message());
    return false;
  }
  return true;
}

// Attribute reading at kernel construction. TensorFlow's eager runtime caches a kernel per
// distinct attribute set, so this runs once per configuration, not once per call.
class AttrReader {
 public:
  AttrReader(TF_OpKernelConstruction* ctx) : ctx_(ctx) {}
  ~AttrReader() {
    if (!status_.ok()) g_tf.ConstructionFailure(ctx_, status_.get());
  }
  double get_float(const char* name) {
    float v = 0.0f;
    if (status_.ok()) g_tf.GetAttrFloat(ctx_, name, &v, status_.get());
    return v;
  }
  bool get_bool(const char* name) {
    unsigned char v = 0;
    if (status_.ok()) g_tf.GetAttrBool(ctx_, name, &v, status_.get());
    return v != 0;
  }
  int64_t get_int(const char* name) {
    int64_t v = 0;
    if (status_.ok()) g_tf.GetAttrInt64(ctx_, name, &v, status_.get());
    return v;
  }
  std::vector<float> get_float_list(const char* name) {
    int32_t list_size = 0, total_size = 0;
    if (status_.ok()) g_tf.GetAttrSize(ctx_, name, &list_size, &total_size, status_.get());
    std::vector<float> v(status_.ok() && list_size > 0 ? static_cast<size_t>(list_size) : 0);
    if (status_.ok() && !v.empty()) {
      g_tf.GetAttrFloatList(ctx_, name, v.data(), list_size, status_.get());
    }
    return v;
  }

 private:
  TF_OpKernelConstruction* ctx_;
  Status status_;
};

// ------------------------------------------------------------------------------ softmax op ----

// Attribute `reduction`: the loss output is per sample (0), or its sum (1) or mean (2) as a scalar.
enum Reduction : int64_t { kReductionNone = 0, kReductionSum = 1, kReductionMean = 2 };

// Per-sample losses of a reduced op live in this scratch buffer and are reduced into the scalar
// output; otherwise they are written straight into the output.
class LossBuffer {
 public:
  LossBuffer(int64_t reduction, int64_t n)
      : reduction_(reduction), scratch_(reduction == kReductionNone ? nullptr : new (std::nothrow) float[n > 0 ? n : 1]) {}
  bool ok() const { return reduction_ == kReductionNone || scratch_ != nullptr; }
  std::vector<int64_t> output_dims(const std::vector<int64_t>& per_sample) const {
    return reduction_ == kReductionNone ? per_sample : std::vector<int64_t>{};
  }
  float* samples(const Tensor& output) const {
    return reduction_ == kReductionNone ? output.data<float>() : scratch_.get();
  }
  void finish(const Tensor& output, int64_t n) const {
    if (reduction_ != kReductionNone) {
      *output.data<float>() = reduce_losses(scratch_.get(), n, reduction_ == kReductionMean);
    }
  }

 private:
  int64_t reduction_;
  std::unique_ptr<float[]> scratch_;
};

struct SoftmaxConfig {
  int64_t reduction;
  double gamma, label_smoothing;
  std::vector<float> alpha;  // 1 value (scalar alpha) or one per class
  bool has_ignore_index, from_logits, compute_gradient;
  int32_t ignore_index;
};

void* softmax_create(TF_OpKernelConstruction* ctx) {
  auto* c = new SoftmaxConfig();
  AttrReader attrs(ctx);
  c->gamma = attrs.get_float("gamma");
  c->label_smoothing = attrs.get_float("label_smoothing");
  c->alpha = attrs.get_float_list("alpha");
  c->has_ignore_index = attrs.get_bool("has_ignore_index");
  c->ignore_index = static_cast<int32_t>(attrs.get_int("ignore_index"));
  c->from_logits = attrs.get_bool("from_logits");
  c->compute_gradient = attrs.get_bool("compute_gradient");
  c->reduction = attrs.get_int("reduction");
  return c;
}

void softmax_compute(void* kernel, TF_OpKernelContext* ctx) {
  const char* fn = "softmaxFocalLoss";
  const auto& c = *static_cast<const SoftmaxConfig*>(kernel);
  Tensor logits, labels;
  if (!get_inputs(ctx, fn, &logits, &labels)) return;
  const std::vector<int64_t> dims = logits.shape();
  if (dims.empty() || dims.back() < 1) {
    return fail(ctx, fn, "logits must have at least one axis with >= 1 classes, got shape " +
                             format_shape(dims));
  }
  const int64_t classes = dims.back();
  const std::vector<int64_t> row_dims(dims.begin(), dims.end() - 1);
  const bool sparse = g_tf.TensorType(labels.get()) == kTfInt32;
  if (labels.shape() != (sparse ? row_dims : dims)) {
    return fail(ctx, fn, std::string("labels of shape ") + format_shape(labels.shape()) +
                             " do not match logits of shape " + format_shape(dims));
  }
  if (c.alpha.size() != 1 && static_cast<int64_t>(c.alpha.size()) != classes) {
    return fail(ctx, fn, "alpha has " + std::to_string(c.alpha.size()) + " values for " +
                             std::to_string(classes) + " classes");
  }
  const int64_t rows = logits.size() / classes;
  LossBuffer losses(c.reduction, rows);
  if (!losses.ok()) return fail(ctx, fn, "out of memory for " + std::to_string(rows) + " losses");
  Tensor loss, gradient;
  if (!allocate_float_output(ctx, fn, 0, losses.output_dims(row_dims), &loss)) return;
  if (!allocate_float_output(ctx, fn, 1, c.compute_gradient ? dims : std::vector<int64_t>{0},
                             &gradient)) {
    return;
  }
  SoftmaxFocalArgs a;
  a.rows = rows;
  a.classes = classes;
  a.logits = logits.data<float>();
  if (sparse) {
    a.sparse_labels = labels.data<int32_t>();
  } else {
    a.dense_labels = labels.data<float>();
  }
  if (c.alpha.size() == 1) {
    a.alpha_scalar = c.alpha[0];
  } else {
    a.alpha = c.alpha.data();
  }
  a.gamma = c.gamma;
  a.label_smoothing = c.label_smoothing;
  a.has_ignore_index = sparse && c.has_ignore_index;
  a.ignore_index = c.ignore_index;
  a.from_logits = c.from_logits;
  a.loss_out = losses.samples(loss);
  a.grad_out = c.compute_gradient ? gradient.data<float>() : nullptr;
  const std::string error = softmax_focal_loss(a);
  if (!error.empty()) return fail(ctx, fn, error);
  losses.finish(loss, rows);
}

// ------------------------------------------------------------------------------ sigmoid op ----

struct SigmoidConfig {
  int64_t reduction;
  double gamma, alpha, label_smoothing;
  bool class_balancing, from_logits, compute_gradient;
};

void* sigmoid_create(TF_OpKernelConstruction* ctx) {
  auto* c = new SigmoidConfig();
  AttrReader attrs(ctx);
  c->gamma = attrs.get_float("gamma");
  c->alpha = attrs.get_float("alpha");
  c->label_smoothing = attrs.get_float("label_smoothing");
  c->class_balancing = attrs.get_bool("class_balancing");
  c->from_logits = attrs.get_bool("from_logits");
  c->compute_gradient = attrs.get_bool("compute_gradient");
  c->reduction = attrs.get_int("reduction");
  return c;
}

void sigmoid_compute(void* kernel, TF_OpKernelContext* ctx) {
  const char* fn = "sigmoidFocalLoss";
  const auto& c = *static_cast<const SigmoidConfig*>(kernel);
  Tensor logits, labels;
  if (!get_inputs(ctx, fn, &logits, &labels)) return;
  const std::vector<int64_t> dims = logits.shape();
  if (labels.shape() != dims) {
    return fail(ctx, fn, std::string("labels of shape ") + format_shape(labels.shape()) +
                             " do not match logits of shape " + format_shape(dims));
  }
  const int64_t count = logits.size();
  LossBuffer losses(c.reduction, count);
  if (!losses.ok()) return fail(ctx, fn, "out of memory for " + std::to_string(count) + " losses");
  Tensor loss, gradient;
  if (!allocate_float_output(ctx, fn, 0, losses.output_dims(dims), &loss)) return;
  if (!allocate_float_output(ctx, fn, 1, c.compute_gradient ? dims : std::vector<int64_t>{0},
                             &gradient)) {
    return;
  }
  SigmoidFocalArgs a;
  a.count = count;
  a.logits = logits.data<float>();
  a.labels = labels.data<float>();
  a.gamma = c.gamma;
  a.class_balancing = c.class_balancing;
  a.alpha = c.alpha;
  a.label_smoothing = c.label_smoothing;
  a.from_logits = c.from_logits;
  a.loss_out = losses.samples(loss);
  a.grad_out = c.compute_gradient ? gradient.data<float>() : nullptr;
  const std::string error = sigmoid_focal_loss(a);
  if (!error.empty()) return fail(ctx, fn, error);
  losses.finish(loss, count);
}

// ------------------------------------------------------------------------ scale-gradient op ----

struct ScaleConfig {
  bool per_row;  // dy holds one value per row (softmax), else one per element (sigmoid)
  bool reduced;  // dy is the scalar upstream gradient of a sum/mean-reduced loss
  float factor;  // reduced: the gradient is scaled by dy * factor (1, or 1/n for a mean)
};

void* scale_create(TF_OpKernelConstruction* ctx) {
  auto* c = new ScaleConfig();
  AttrReader attrs(ctx);
  c->per_row = attrs.get_bool("per_row");
  c->reduced = attrs.get_bool("reduced");
  c->factor = static_cast<float>(attrs.get_float("factor"));
  return c;
}

// Scales the gradient in place and returns that same buffer as the output. The gradient input is
// the saved output of a forward op that only the TypeScript layer holds and releases right after
// this call, so no one else can observe the write; in-place saves a gradient-sized allocation
// (page faults included) and a pass over memory per backward step.
void scale_compute(void* kernel, TF_OpKernelContext* ctx) {
  const char* fn = kScaleGradientOpName;
  const auto& c = *static_cast<const ScaleConfig*>(kernel);
  Tensor gradient, dy;
  if (!get_inputs(ctx, fn, &gradient, &dy)) return;
  const std::vector<int64_t> dims = gradient.shape();
  const int64_t count = gradient.size();
  float* g = gradient.data<float>();
  if (c.reduced) {
    if (dy.size() != 1) {
      return fail(ctx, fn, "dy of shape " + format_shape(dy.shape()) + " must be a scalar for a " +
                               "reduced loss");
    }
    // The gradient viewed as rows of its last axis, each row scaled by the same dy * factor.
    const int64_t classes = dims.empty() || dims.back() < 1 ? 1 : dims.back();
    const int64_t rows = count / classes;
    const std::vector<float> row_scale(static_cast<size_t>(rows), *dy.data<float>() * c.factor);
    if (count > 0) scale_rows(g, row_scale.data(), rows, classes, g);
  } else {
    const int64_t classes = c.per_row ? (dims.empty() ? 0 : dims.back()) : 1;
    const int64_t rows = classes > 0 ? count / classes : 0;
    if (c.per_row ? (classes < 1 || dy.size() != rows) : dy.size() != count) {
      return fail(ctx, fn, "dy of shape " + format_shape(dy.shape()) +
                               " does not fit a gradient of shape " + format_shape(dims));
    }
    if (c.per_row) {
      scale_rows(g, dy.data<float>(), rows, classes, g);
    } else {
      scale_elements(g, dy.data<float>(), count, g);
    }
  }
  Status status;
  g_tf.SetOutput(ctx, 0, gradient.get(), status.get());
  if (!status.ok()) fail(ctx, fn, status.message());
}

void destroy_softmax(void* kernel) { delete static_cast<SoftmaxConfig*>(kernel); }
void destroy_sigmoid(void* kernel) { delete static_cast<SigmoidConfig*>(kernel); }
void destroy_scale(void* kernel) { delete static_cast<ScaleConfig*>(kernel); }

// Eager execution needs no output shapes ahead of time; graphs built around these ops (never
// done by tfjs-node's eager backend) would see unknown shapes.
void unknown_shape(TF_ShapeInferenceContext* ctx, TF_Status* status) {
  g_tf.ShapeInferenceContextSetUnknownShape(ctx, status);
}

// Whether TensorFlow's op registry already has `name`: registering an op twice aborts the process
// (TF_QCHECK in OpRegistry), and a second copy of this addon in the same process (another build, a
// bundler's copy) shares TensorFlow's registry but not our once-flag. The registry is read as the
// serialized OpList proto: each OpDef starts with its name field (tag 0x0a, length, bytes).
bool op_is_registered(const char* name) {
  TF_Buffer* list = g_tf.GetAllOpList();
  if (list == nullptr) return false;
  const size_t n = std::strlen(name);
  std::string needle = "\x0a";
  needle += static_cast<char>(n);  // names here are < 128 bytes: a one-byte varint
  needle += name;
  const std::string haystack(static_cast<const char*>(list->data), list->length);
  g_tf.DeleteBuffer(list);
  return haystack.find(needle) != std::string::npos;
}

std::string register_op(const char* name, const std::vector<const char*>& attrs,
                        const std::vector<const char*>& inputs,
                        const std::vector<const char*>& outputs) {
  TF_OpDefinitionBuilder* builder = g_tf.NewOpDefinitionBuilder(name);
  for (const char* a : attrs) g_tf.OpDefinitionBuilderAddAttr(builder, a);
  for (const char* i : inputs) g_tf.OpDefinitionBuilderAddInput(builder, i);
  for (const char* o : outputs) g_tf.OpDefinitionBuilderAddOutput(builder, o);
  g_tf.OpDefinitionBuilderSetShapeInferenceFunction(builder, unknown_shape);
  Status status;
  g_tf.RegisterOpDefinition(builder, status.get());  // frees the builder
  return status.ok() ? std::string() : std::string(name) + ": " + status.message();
}

std::string register_kernel(const char* name, void* (*create)(TF_OpKernelConstruction*),
                            void (*compute)(void*, TF_OpKernelContext*), void (*destroy)(void*),
                            const char* type_attr = nullptr, int type = 0) {
  TF_KernelBuilder* builder = g_tf.NewKernelBuilder(name, "CPU", create, compute, destroy);
  Status status;
  if (type_attr != nullptr) g_tf.KernelBuilder_TypeConstraint(builder, type_attr, type, status.get());
  if (!status.ok()) {
    g_tf.DeleteKernelBuilder(builder);
  } else {
    g_tf.RegisterKernelBuilder(name, builder, status.get());  // takes the builder
  }
  return status.ok() ? std::string() : std::string(name) + " kernel: " + status.message();
}

std::string register_all() {
  std::string error = load_api();
  if (!error.empty()) return error;
  if (op_is_registered(kSoftmaxOpName)) return std::string();  // another copy registered them
  const std::vector<std::string (*)()> steps = {
      [] {
        return register_op(kSoftmaxOpName,
                           {"TLabels: {int32, float}", "gamma: float", "alpha: list(float) >= 1",
                            "label_smoothing: float", "has_ignore_index: bool", "ignore_index: int",
                            "from_logits: bool", "compute_gradient: bool", "reduction: int"},
                           {"logits: float", "labels: TLabels"}, {"loss: float", "gradient: float"});
      },
      [] {
        return register_op(kSigmoidOpName,
                           {"gamma: float", "alpha: float", "class_balancing: bool",
                            "label_smoothing: float", "from_logits: bool", "compute_gradient: bool",
                            "reduction: int"},
                           {"logits: float", "labels: float"}, {"loss: float", "gradient: float"});
      },
      [] {
        return register_op(kScaleGradientOpName, {"per_row: bool", "reduced: bool", "factor: float"},
                           {"gradient: float", "dy: float"}, {"scaled: float"});
      },
      [] {
        return register_kernel(kSoftmaxOpName, softmax_create, softmax_compute, destroy_softmax,
                               "TLabels", kTfInt32);
      },
      [] {
        return register_kernel(kSoftmaxOpName, softmax_create, softmax_compute, destroy_softmax,
                               "TLabels", kTfFloat);
      },
      [] { return register_kernel(kSigmoidOpName, sigmoid_create, sigmoid_compute, destroy_sigmoid); },
      [] { return register_kernel(kScaleGradientOpName, scale_create, scale_compute, destroy_scale); },
  };
  for (auto step : steps) {
    error = step();
    if (!error.empty()) return error;
  }
  return std::string();
}

}  // namespace

std::string register_tensorflow_ops() {
  static std::once_flag once;
  static std::string result;
  std::call_once(once, [] { result = register_all(); });
  return result;
}
#else
// Finding the loaded TensorFlow uses dl_iterate_phdr and RTLD_NOLOAD (glibc); elsewhere the
// TypeScript layer keeps its JS-array path on the 'tensorflow' backend.
std::string register_tensorflow_ops() {
  return "TensorFlow ops are only registered on Linux";
}
#endif

}  // namespace focal
