#!/usr/bin/env bash
# Builds and runs the standalone C++ kernel test (native/tests/kernel_test.cc) with g++, without
# Node. Usage:
#   scripts/check-native.sh            optimised build (-O2), run the test
#   scripts/check-native.sh --sanitize -O1 with -fsanitize=address,undefined
#   scripts/check-native.sh --bench    also build and run tools/kernel_bench.cc
#   scripts/check-native.sh --aarch64  cross-build for linux-arm64 (aarch64-linux-gnu-g++) and run
#                                      `kernel_test --reduced` under qemu-user (.ci/platforms.sh)
# Env: CXX (default g++), OUT (build dir, default build/native-tests).
set -euo pipefail
cd "$(dirname "$0")/.."

CXX="${CXX:-g++}"
OUT="${OUT:-build/native-tests}"
MODE=release
BENCH=0
RUN=()
TEST_ARGS=()
for arg in "$@"; do
  case "$arg" in
    --sanitize) MODE=sanitize ;;
    --bench) BENCH=1 ;;
    --aarch64)
      CXX="${CXX_AARCH64:-aarch64-linux-gnu-g++}"
      OUT="$OUT-aarch64"
      RUN=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
      TEST_ARGS=(--reduced) ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

COMMON=(-std=c++17 -fno-math-errno -Wall -Wextra -Inative -pthread)
if [ "$MODE" = sanitize ]; then
  COMMON+=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
  OUT="$OUT-sanitize"
else
  COMMON+=(-O2)
fi
mkdir -p "$OUT"

# The kernel library: every source of native/core and native/kernels (no Node, no TensorFlow), one
# object per source; the ISA kernels get their own target flags (as in CMakeLists.txt).
declare -A ISA_FLAGS=(
  [kernels_avx2]="-mavx2 -mfma"
  [kernels_avx512]="-mavx512f -mavx512dq -mfma"
)
OBJS=()
if [ ${#RUN[@]} -gt 0 ]; then
  COMMON+=(-DFOCAL_NO_X86_KERNELS -static-libstdc++)
fi
for src in native/core/*.cc native/kernels/*.cc; do
  base="$(basename "$src" .cc)"
  extra="${ISA_FLAGS[$base]:-}"
  # The x86 kernels only where they can run.
  if [ -n "$extra" ] && [ ${#RUN[@]} -gt 0 ]; then continue; fi
  # shellcheck disable=SC2086
  "$CXX" "${COMMON[@]}" $extra -c "$src" -o "$OUT/$base.o" &
  OBJS+=("$OUT/$base.o")
done
wait

"$CXX" "${COMMON[@]}" native/tests/kernel_test.cc "${OBJS[@]}" -o "$OUT/kernel_test"
echo "== kernel_test ($MODE${RUN[*]:+, ${RUN[*]}}${TEST_ARGS[*]:+ ${TEST_ARGS[*]}})"
"${RUN[@]}" "$OUT/kernel_test" "${TEST_ARGS[@]}"

if [ "$BENCH" = 1 ]; then
  "$CXX" "${COMMON[@]}" tools/kernel_bench.cc "${OBJS[@]}" -o "$OUT/kernel_bench"
  echo "== kernel_bench"
  "$OUT/kernel_bench"
fi
