# node-gyp fallback build (`npx node-gyp rebuild`): the same sources as CMakeLists.txt, producing
# build/Release/focal_loss.node.
{
  "variables": {
    "focal_cflags": ["-O2", "-fno-math-errno", "-std=c++17", "-fvisibility=hidden"],
  },
  "targets": [
    {
      "target_name": "focal_loss",
      "sources": [
        "native/addon.cc",
        "native/dispatch.cc",
        "native/softmax_focal.cc",
        "native/sigmoid_focal.cc",
        "native/thread_pool.cc",
        "native/kernels_generic.cc",
      ],
      "include_dirs": [
        "<!(node -p \"require('path').dirname(require.resolve('node-addon-api/package.json'))\")",
        "native",
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14", "-std=gnu++1y"],
      "cflags_cc": ["<@(focal_cflags)"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-fno-math-errno"],
      },
      "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"]}},
    }
  ]
}
