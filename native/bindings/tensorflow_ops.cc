// The TensorFlow ops around the kernels: op definitions and their attribute tables, kernel
// construction (reading the attributes), compute functions, and registration. This file only
// adapts: it reads TensorFlow tensors and attributes, allocates outputs through TensorFlow, calls
// the plain C++ kernels of include/focal_loss.h, and reports their errors as INVALID_ARGUMENT
// statuses in the machine format of include/focal_error.h. docs/DESIGN.md#tensorflow-ops
#include "bindings/tensorflow_ops.h"

#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "bindings/tf_c_api.h"
#include "include/focal_loss.h"

namespace focal {

// Each op is named "Tfjs" + the tfjs kernel it runs for (lib/kernel_contract.ts); the scale op
// serves both backward kernels. The prefix keeps them apart in TensorFlow's process-wide registry.
const char* const kSoftmaxOpName = "TfjsSoftmaxFocalLoss";
const char* const kSigmoidOpName = "TfjsSigmoidElementwiseLoss";
const char* const kScaleGradientOpName = "TfjsScaleGradient";

#if defined(__linux__)
namespace {

using tf::g_tf;
using tf::format_shape;
using tf::kTfFloat;
using tf::kTfInt32;
using tf::kTfInvalidArgument;
using tf::Status;
using tf::Tensor;

// Fails the op with INVALID_ARGUMENT and `error` in the machine format lib/errors.ts decodes.
void fail(TF_OpKernelContext* ctx, const Error& error) {
  Status status;
  g_tf.SetStatus(status.get(), kTfInvalidArgument, to_tensorflow_message(error).c_str());
  g_tf.ContextFailure(ctx, status.get());
}

Error message_error(ErrorCode code, const std::string& message) {
  Error e;
  e.code = code;
  e.message = message;
  return e;
}
Error out_of_memory_error(const std::string& message) { return message_error(ErrorCode::kOutOfMemory, message); }
void fail_invalid(TF_OpKernelContext* ctx, const std::string& message) {
  fail(ctx, message_error(ErrorCode::kInvalidArgument, message));
}

bool get_inputs(TF_OpKernelContext* ctx, Tensor* a, Tensor* b) {
  Status status;
  g_tf.GetInput(ctx, 0, a->out(), status.get());
  if (status.ok()) g_tf.GetInput(ctx, 1, b->out(), status.get());
  if (!status.ok()) {
    fail_invalid(ctx, status.message());
    return false;
  }
  return true;
}

// Allocates output `index` as float32 of `dims`; false (op failed) if TensorFlow could not.
bool allocate_float_output(TF_OpKernelContext* ctx, int index, const std::vector<int64_t>& dims,
                           Tensor* out) {
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  Status status;
  out->reset(g_tf.AllocateOutput(ctx, index, kTfFloat, dims.data(), static_cast<int>(dims.size()),
                                 static_cast<size_t>(count) * sizeof(float), status.get()));
  if (!status.ok()) {
    fail(ctx, out_of_memory_error(status.message()));
    return false;
  }
  return true;
}

}  // namespace

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
  // Into a field of the type an option table declares (option_type_name).
  void read(const char* name, double* v) { *v = get_float(name); }
  void read(const char* name, float* v) { *v = static_cast<float>(get_float(name)); }
  void read(const char* name, bool* v) { *v = get_bool(name); }
  void read(const char* name, int64_t* v) { *v = get_int(name); }
  void read(const char* name, int32_t* v) { *v = static_cast<int32_t>(get_int(name)); }
  void read(const char* name, std::vector<float>* v) { *v = get_float_list(name); }
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

namespace {

// Whether an int attribute holds one of an enum's codes, [0, E::kCount) (Reduction, ElementwiseLoss).
template <typename E>
bool is_code_of(int64_t code) {
  return code >= 0 && code < static_cast<int64_t>(E::kCount);
}

// Attribute `reduction` (include/focal_loss.h Reduction): per-sample losses of a reduced op live in
// this scratch buffer and are reduced into the scalar output; otherwise they are written straight
// into the output.
class LossBuffer {
 public:
  LossBuffer(Reduction reduction, int64_t n)
      : reduction_(reduction), scratch_(reduction == Reduction::kNone ? nullptr : new (std::nothrow) float[n > 0 ? n : 1]) {}
  bool ok() const { return reduction_ == Reduction::kNone || scratch_ != nullptr; }
  std::vector<int64_t> output_dims(const std::vector<int64_t>& per_sample) const {
    return reduction_ == Reduction::kNone ? per_sample : std::vector<int64_t>{};
  }
  float* samples(const Tensor& output) const {
    return reduction_ == Reduction::kNone ? output.data<float>() : scratch_.get();
  }
  void finish(const Tensor& output, int64_t n) const {
    if (reduction_ != Reduction::kNone) {
      *output.data<float>() = reduce_losses(scratch_.get(), n, reduction_ == Reduction::kMean);
    }
  }

 private:
  Reduction reduction_;
  std::unique_ptr<float[]> scratch_;
};

// The loss buffer of attribute `reduction`, or false (the op has failed) when it is no Reduction.
bool reduction_of(TF_OpKernelContext* ctx, int64_t reduction, Reduction* out) {
  if (!is_code_of<Reduction>(reduction)) {
    fail_invalid(ctx, "attribute reduction = " + std::to_string(reduction) + " is not a Reduction");
    return false;
  }
  *out = static_cast<Reduction>(reduction);
  return true;
}

// An attribute read straight into a field of the kernel's Args (Kernel::args), or of the kernel.
template <typename Kernel, auto Field>
void read_arg(AttrReader& r, const char* name, void* kernel) {
  r.read(name, &(static_cast<Kernel*>(kernel)->args.*Field));
}
template <typename Kernel, auto Member>
void read_member(AttrReader& r, const char* name, void* kernel) {
  r.read(name, &(static_cast<Kernel*>(kernel)->*Member));
}

// ------------------------------------------------------------------------------ softmax op ----

// A kernel instance: the options as read from the attributes, straight into the Args each call
// starts from (include/focal_loss.h FOCAL_SOFTMAX_OPTIONS, ignore_index), and the attributes that
// are no Args field.
struct SoftmaxKernel {
  SoftmaxFocalArgs args;
  std::vector<float> alpha;  // 1 value (scalar alpha) or one per class
  bool compute_gradient = false, has_logit_adjustment = false;
  std::vector<float> logit_offsets;  // one per class when has_logit_adjustment
  int64_t reduction = 0;  // Reduction, checked at each call
};

// The op's attributes: registered as "name: type", read into the SoftmaxKernel by `read`.
#define FOCAL_SOFTMAX_ATTR(type, field, ...) \
  {#field, option_type_name<type>(), read_arg<SoftmaxKernel, &SoftmaxFocalArgs::field>},
const AttrSpec kSoftmaxAttrs[] = {
    {"TLabels", "{int32, float}", nullptr},  // the labels' dtype: one kernel per type
    FOCAL_SOFTMAX_OPTIONS(FOCAL_SOFTMAX_ATTR)
    {"alpha", "list(float) >= 1", read_member<SoftmaxKernel, &SoftmaxKernel::alpha>},
    {"has_ignore_index", "bool", read_arg<SoftmaxKernel, &SoftmaxFocalArgs::has_ignore_index>},
    {"ignore_index", "int", read_arg<SoftmaxKernel, &SoftmaxFocalArgs::ignore_index>},
    {"compute_gradient", "bool", read_member<SoftmaxKernel, &SoftmaxKernel::compute_gradient>},
    {"reduction", "int", read_member<SoftmaxKernel, &SoftmaxKernel::reduction>},
    {"has_logit_adjustment", "bool", read_member<SoftmaxKernel, &SoftmaxKernel::has_logit_adjustment>},
    {"logit_offsets", "list(float) >= 1", read_member<SoftmaxKernel, &SoftmaxKernel::logit_offsets>},
};
#undef FOCAL_SOFTMAX_ATTR

void softmax_compute(void* kernel, TF_OpKernelContext* ctx) {
  const auto& c = *static_cast<const SoftmaxKernel*>(kernel);
  Tensor logits, labels;
  if (!get_inputs(ctx, &logits, &labels)) return;
  const std::vector<int64_t> dims = logits.shape();
  if (dims.empty() || dims.back() < 1) {
    return fail_invalid(ctx, "logits must have at least one axis with >= 1 classes, got shape " +
                             format_shape(dims));
  }
  const int64_t classes = dims.back();
  const std::vector<int64_t> row_dims(dims.begin(), dims.end() - 1);
  const bool sparse = g_tf.TensorType(labels.get()) == kTfInt32;
  if (labels.shape() != (sparse ? row_dims : dims)) {
    return fail_invalid(ctx, std::string("labels of shape ") + format_shape(labels.shape()) +
                             " do not match logits of shape " + format_shape(dims));
  }
  if (c.alpha.size() != 1 && static_cast<int64_t>(c.alpha.size()) != classes) {
    return fail_invalid(ctx, "alpha has " + std::to_string(c.alpha.size()) + " values for " +
                             std::to_string(classes) + " classes");
  }
  if (c.has_logit_adjustment && static_cast<int64_t>(c.logit_offsets.size()) != classes) {
    return fail_invalid(ctx, "logit_offsets has " + std::to_string(c.logit_offsets.size()) +
                             " values for " + std::to_string(classes) + " classes");
  }
  const int64_t rows = logits.size() / classes;
  Reduction reduction;
  if (!reduction_of(ctx, c.reduction, &reduction)) return;
  LossBuffer losses(reduction, rows);
  if (!losses.ok()) return fail(ctx, out_of_memory_error("out of memory for " + std::to_string(rows) + " losses"));
  Tensor loss, gradient;
  if (!allocate_float_output(ctx, 0, losses.output_dims(row_dims), &loss)) return;
  if (!allocate_float_output(ctx, 1, c.compute_gradient ? dims : std::vector<int64_t>{0},
                             &gradient)) {
    return;
  }
  SoftmaxFocalArgs a = c.args;  // the options
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
  a.has_ignore_index = sparse && c.args.has_ignore_index;
  if (c.has_logit_adjustment) a.logit_offsets = c.logit_offsets.data();
  a.loss_out = losses.samples(loss);
  a.grad_out = c.compute_gradient ? gradient.data<float>() : nullptr;
  const Error error = softmax_focal_loss(a);
  if (!error.ok()) return fail(ctx, error);
  losses.finish(loss, rows);
}

// ------------------------------------------------------------------------------ sigmoid op ----

// A kernel instance, as SoftmaxKernel: the options and class balancing read into the Args.
struct SigmoidKernel {
  SigmoidElementwiseArgs args;
  int64_t loss_kind = 0;  // the elementwise family: ElementwiseLoss, checked at each call
  bool compute_gradient = false;
  int64_t reduction = 0;  // Reduction, checked at each call
};

#define FOCAL_SIGMOID_ATTR(type, field, ...) \
  {#field, option_type_name<type>(), read_arg<SigmoidKernel, &SigmoidElementwiseArgs::field>},
const AttrSpec kSigmoidAttrs[] = {
    FOCAL_SIGMOID_OPTIONS(FOCAL_SIGMOID_ATTR)
    {"alpha", "float", read_arg<SigmoidKernel, &SigmoidElementwiseArgs::alpha>},
    {"class_balancing", "bool", read_arg<SigmoidKernel, &SigmoidElementwiseArgs::class_balancing>},
    {"compute_gradient", "bool", read_member<SigmoidKernel, &SigmoidKernel::compute_gradient>},
    {"reduction", "int", read_member<SigmoidKernel, &SigmoidKernel::reduction>},
    // The elementwise family (native/include/focal_loss.h ElementwiseLoss).
    {"loss_kind", "int", read_member<SigmoidKernel, &SigmoidKernel::loss_kind>},
};
#undef FOCAL_SIGMOID_ATTR

void sigmoid_compute(void* kernel, TF_OpKernelContext* ctx) {
  const auto& c = *static_cast<const SigmoidKernel*>(kernel);
  Tensor logits, labels;
  if (!get_inputs(ctx, &logits, &labels)) return;
  const std::vector<int64_t> dims = logits.shape();
  if (labels.shape() != dims) {
    return fail_invalid(ctx, std::string("labels of shape ") + format_shape(labels.shape()) +
                             " do not match logits of shape " + format_shape(dims));
  }
  const int64_t count = logits.size();
  if (!is_code_of<ElementwiseLoss>(c.loss_kind)) {
    return fail_invalid(ctx, "attribute loss_kind = " + std::to_string(c.loss_kind) + " is not an ElementwiseLoss");
  }
  Reduction reduction;
  if (!reduction_of(ctx, c.reduction, &reduction)) return;
  LossBuffer losses(reduction, count);
  if (!losses.ok()) return fail(ctx, out_of_memory_error("out of memory for " + std::to_string(count) + " losses"));
  Tensor loss, gradient;
  if (!allocate_float_output(ctx, 0, losses.output_dims(dims), &loss)) return;
  if (!allocate_float_output(ctx, 1, c.compute_gradient ? dims : std::vector<int64_t>{0},
                             &gradient)) {
    return;
  }
  SigmoidElementwiseArgs a = c.args;  // the options and class balancing
  a.count = count;
  a.logits = logits.data<float>();
  a.labels = labels.data<float>();
  a.loss = static_cast<ElementwiseLoss>(c.loss_kind);
  a.loss_out = losses.samples(loss);
  a.grad_out = c.compute_gradient ? gradient.data<float>() : nullptr;
  const Error error = sigmoid_elementwise_loss(a);
  if (!error.ok()) return fail(ctx, error);
  losses.finish(loss, count);
}

// ------------------------------------------------------------------------ scale-gradient op ----

struct ScaleConfig {
  bool per_row;  // dy holds one value per row (softmax), else one per element (sigmoid)
  bool reduced;  // dy is the scalar upstream gradient of a sum/mean-reduced loss
  float factor;  // reduced: the gradient is scaled by dy * factor (1, or 1/n for a mean)
};

const AttrSpec kScaleAttrs[] = {
    {"per_row", "bool", read_member<ScaleConfig, &ScaleConfig::per_row>},
    {"reduced", "bool", read_member<ScaleConfig, &ScaleConfig::reduced>},
    {"factor", "float", read_member<ScaleConfig, &ScaleConfig::factor>},
};

// Scales the gradient in place and returns that same buffer as the output. The gradient input is
// the saved output of a forward op that only the TypeScript layer holds and releases right after
// this call, so no one else can observe the write; in-place saves a gradient-sized allocation
// (page faults included) and a pass over memory per backward step.
void scale_compute(void* kernel, TF_OpKernelContext* ctx) {
  const auto& c = *static_cast<const ScaleConfig*>(kernel);
  Tensor gradient, dy;
  if (!get_inputs(ctx, &gradient, &dy)) return;
  const std::vector<int64_t> dims = gradient.shape();
  const int64_t count = gradient.size();
  float* g = gradient.data<float>();
  if (c.reduced) {
    if (dy.size() != 1) {
      return fail_invalid(ctx, "dy of shape " + format_shape(dy.shape()) + " must be a scalar for a " +
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
      return fail_invalid(ctx, "dy of shape " + format_shape(dy.shape()) +
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
  if (!status.ok()) fail_invalid(ctx, status.message());
}

// Kernel construction: a new kernel instance with every attribute of `attrs` read into it.
template <typename Config, size_t N>
void* create_from(TF_OpKernelConstruction* ctx, const AttrSpec (&attrs)[N]) {
  auto* config = new Config();
  AttrReader reader(ctx);
  for (const AttrSpec& attr : attrs) {
    if (attr.read != nullptr) attr.read(reader, attr.name, config);
  }
  return config;
}
void* softmax_create(TF_OpKernelConstruction* ctx) { return create_from<SoftmaxKernel>(ctx, kSoftmaxAttrs); }
void* sigmoid_create(TF_OpKernelConstruction* ctx) { return create_from<SigmoidKernel>(ctx, kSigmoidAttrs); }
void* scale_create(TF_OpKernelConstruction* ctx) { return create_from<ScaleConfig>(ctx, kScaleAttrs); }
void destroy_softmax(void* kernel) { delete static_cast<SoftmaxKernel*>(kernel); }
void destroy_sigmoid(void* kernel) { delete static_cast<SigmoidKernel*>(kernel); }
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

template <size_t N>
std::string register_op(const char* name, const AttrSpec (&attrs)[N],
                        const std::vector<const char*>& inputs,
                        const std::vector<const char*>& outputs) {
  TF_OpDefinitionBuilder* builder = g_tf.NewOpDefinitionBuilder(name);
  for (const AttrSpec& a : attrs) {
    g_tf.OpDefinitionBuilderAddAttr(builder, (std::string(a.name) + ": " + a.type).c_str());
  }
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
  std::string error = tf::load_api();
  if (!error.empty()) return error;
  if (op_is_registered(kSoftmaxOpName)) return std::string();  // another copy registered them
  const std::vector<std::string (*)()> steps = {
      [] {
        return register_op(kSoftmaxOpName, kSoftmaxAttrs, {"logits: float", "labels: TLabels"},
                           {"loss: float", "gradient: float"});
      },
      [] {
        return register_op(kSigmoidOpName, kSigmoidAttrs, {"logits: float", "labels: float"},
                           {"loss: float", "gradient: float"});
      },
      [] {
        return register_op(kScaleGradientOpName, kScaleAttrs, {"gradient: float", "dy: float"},
                           {"scaled: float"});
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

const std::vector<OpSpec>& tensorflow_op_specs() {
  static const std::vector<OpSpec> specs = {
      {"softmax", kSoftmaxOpName, kSoftmaxAttrs, sizeof kSoftmaxAttrs / sizeof *kSoftmaxAttrs},
      {"sigmoid", kSigmoidOpName, kSigmoidAttrs, sizeof kSigmoidAttrs / sizeof *kSigmoidAttrs},
      {"scaleGradient", kScaleGradientOpName, kScaleAttrs, sizeof kScaleAttrs / sizeof *kScaleAttrs},
  };
  return specs;
}
#else
// Finding the loaded TensorFlow uses dl_iterate_phdr and RTLD_NOLOAD (glibc); elsewhere the
// TypeScript layer keeps its JS-array path on the 'tensorflow' backend.
std::string register_tensorflow_ops() {
  return "TensorFlow ops are only registered on Linux";
}
const std::vector<OpSpec>& tensorflow_op_specs() {
  static const std::vector<OpSpec> specs;
  return specs;
}
#endif

}  // namespace focal
