// Finding TensorFlow's C API among the loaded shared libraries. docs/DESIGN.md#tensorflow-ops
#include "bindings/tf_c_api.h"

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>

#include <cstring>
#include <type_traits>

namespace focal {
namespace tf {

TfApi g_tf;

namespace {

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
}  // namespace

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


}  // namespace tf
}  // namespace focal
#endif  // __linux__
