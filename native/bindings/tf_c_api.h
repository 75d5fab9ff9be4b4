// The subset of TensorFlow's C API the ops use (tensorflow/c/c_api.h, tf_tensor.h, tf_status.h,
// kernels.h, ops.h), looked up at run time in the TensorFlow libraries already loaded in this
// process, and small owning wrappers. TensorFlow's headers are not needed to build, and the addon
// loads, keeping its other paths, where TensorFlow is absent. docs/DESIGN.md#tensorflow-ops
#ifndef TFJS_FOCAL_LOSS_BINDINGS_TF_C_API_H_
#define TFJS_FOCAL_LOSS_BINDINGS_TF_C_API_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// Stable C declarations of the C API (opaque types, and TF_Buffer's layout).
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
namespace tf {

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

extern TfApi g_tf;  // filled once by load_api(), read-only afterwards

// Fills g_tf from the TensorFlow libraries already loaded (never loads one). "" on success, or why
// the C API is unavailable.
std::string load_api();

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

inline std::string format_shape(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

}  // namespace tf
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_BINDINGS_TF_C_API_H_
