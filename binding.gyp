# node-gyp fallback build (`npx node-gyp rebuild`): the same sources as CMakeLists.txt, producing
# build/Release/focal_loss.node. The per-instruction-set kernels are separate static libraries,
# because gyp sets compiler flags per target, not per source file; dispatch.cc picks one at run
# time from the CPU's features (native/kernels/dispatch.cc).
{
  "target_defaults": {
    "include_dirs": [
      "<!(node -p \"require('path').dirname(require.resolve('node-addon-api/package.json'))\")",
      "native",
    ],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14", "-std=gnu++1y"],
    "cflags_cc": ["-O2", "-fno-math-errno", "-std=c++17", "-fvisibility=hidden"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "OTHER_CPLUSPLUSFLAGS": ["-fno-math-errno"],
    },
    "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"]}},
    "conditions": [
      ["target_arch != 'x64'", {"defines": ["FOCAL_NO_X86_KERNELS"]}],
    ],
  },
  "targets": [
    {
      "target_name": "focal_loss",
      "sources": [
        "native/bindings/addon.cc",
        "native/bindings/tensorflow_ops.cc",
        "native/bindings/tf_c_api.cc",
        "native/core/backward.cc",
        "native/core/errors.cc",
        "native/core/labels.cc",
        "native/core/probabilities.cc",
        "native/core/sigmoid_focal.cc",
        "native/core/softmax_focal.cc",
        "native/core/thread_pool.cc",
        "native/kernels/dispatch.cc",
        "native/kernels/kernels_generic.cc",
      ],
      "conditions": [
        ["target_arch == 'x64'", {"dependencies": ["focal_kernels_avx2", "focal_kernels_avx512"]}],
        # dlopen/dlsym find the TensorFlow C API at run time (bindings/tf_c_api.cc).
        ["OS == 'linux'", {"libraries": ["-ldl"]}],
      ],
    },
  ],
  "conditions": [
    ["target_arch == 'x64'", {
      "targets": [
        {
          "target_name": "focal_kernels_avx2",
          "type": "static_library",
          "sources": ["native/kernels/kernels_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma", "-fPIC"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"]},
        },
        {
          "target_name": "focal_kernels_avx512",
          "type": "static_library",
          "sources": ["native/kernels/kernels_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512dq", "-mfma", "-fPIC"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512dq", "-mfma"]},
        },
      ],
    }],
  ],
}
