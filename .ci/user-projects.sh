#!/usr/bin/env bash
# Installs the packed library (the tarball given as $1, or npm pack's when none is given: prepack
# builds the prebuilt addons) into fresh projects outside the repository, as users would:
#   (a) @tensorflow/tfjs-node through `npx tfjs-focal-loss setup-tfjs-node` (+ save / load / recompile),
#       then docs/INSTALL.md's clean reinstall (rm -rf node_modules; npm ci --ignore-scripts; setup)
#   (b) @tensorflow/tfjs with only node, npm and basic shell tools on PATH (no compiler, make, cmake,
#       python): the prebuilt binary must load
#   (c) @tensorflow/tfjs@4.20.0, the low end of the peer range
#   (d) npm install --ignore-scripts: the library loads and computes; without the binary the
#       composite path runs and says why; setup-tfjs-node's errors (no project, no pip)
# Each runs .ci/user-check.js (focalLoss, tf.grad, model.fit, one tfjs-core). Prints the figures
# the package's docs state: tarball size, (b)'s node_modules size and package count, install times.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/focal-user-projects.XXXXXX)
trap 'rm -rf "$work"' EXIT
check="$root/.ci/user-check.js"
summary=()
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
npm_i() { npm install --no-audit --no-fund --loglevel=error "$@"; }

if [ -n "${1:-}" ]; then
  tgz=$(readlink -f "$1")
else
  echo "== npm pack"
  (cd "$root" && npm pack --silent --pack-destination "$work" > "$work/pack.out")
  tgz="$work/$(tail -1 "$work/pack.out")"
fi
[ -f "$tgz" ] || { echo "npm pack produced no tarball"; exit 1; }
tar -tzf "$tgz" > "$work/files.txt"
for prebuilt in linux-x64/focal_loss.glibc.node linux-arm64/focal_loss.glibc.node win32-x64/focal_loss.node; do
  grep -q "^package/prebuilds/$prebuilt\$" "$work/files.txt" || { echo "no prebuilds/$prebuilt in the tarball"; exit 1; }
done
if grep -E '^package/(test|bench|build)/' "$work/files.txt" | grep -vE '^package/bench/results/([A-Z]+\.md|detection_sweep/(SWEEP\.md|[a-z_]+\.svg))$'; then
  echo "tarball ships tests, bench or build output"; exit 1
fi
# The shipped package.json has no scripts (the repository's prepare/prepack/test/... are dev-only).
tar -xzOf "$tgz" package/package.json | node -e "const m=JSON.parse(require('fs').readFileSync(0,'utf8'));
if ('scripts' in m) { console.error('the tarball package.json has scripts: ' + JSON.stringify(m.scripts)); process.exit(1); }"
# Every README link to unpkg names a file in the tarball; the README's size figure is npm pack's (10%).
for f in $(grep -o 'https://unpkg.com/tfjs-focal-loss@[^/]*/[^)#]*' "$root/README.md" | sed 's|https://unpkg.com/[^/]*/||' | sort -u); do
  grep -qx "package/$f" "$work/files.txt" || { echo "README links to $f, which the tarball does not ship"; exit 1; }
done
kib=$(( $(wc -c < "$tgz") / 1024 ))
stated=$(grep -o 'the [0-9]* KiB package' "$root/README.md" | grep -o '[0-9]*')
[ -n "$stated" ] && [ $(( (stated - kib) * 10 )) -le "$kib" ] && [ $(( (kib - stated) * 10 )) -le "$kib" ] ||
  { echo "README states the package is '${stated:-?}' KiB; npm pack made $kib KiB: update the README"; exit 1; }
summary+=("tarball: $(basename "$tgz") $kib KiB packed (README: $stated KiB), $(wc -l < "$work/files.txt") files")
tar -xzf "$tgz" -C "$work" package/prebuilds/linux-x64/focal_loss.glibc.node
floor=$(objdump -T "$work/package/prebuilds/linux-x64/focal_loss.glibc.node" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
cxx=$(objdump -T "$work/package/prebuilds/linux-x64/focal_loss.glibc.node" | grep -c 'GLIBCXX\|CXXABI' || true)
summary+=("prebuilt needs: $floor, libstdc++ symbols: $cxx")

# The check runs from inside the project, so that it resolves the project's packages only.
new_project() { mkdir -p "$work/$1" && cd "$work/$1" && npm init -y > /dev/null && cp "$check" user-check.js; }

echo "== (a) tfjs-node via setup-tfjs-node"
new_project a
t=$(now); npm install --no-audit --no-fund "$tgz" 2>&1 | tee "$work/a-install.log"; ta=$(elapsed "$t")
# npm lists packages whose install scripts it ran or skipped: this package must not be one of them.
if grep 'install-scripts' "$work/a-install.log" | grep 'tfjs-focal-loss'; then echo "npm sees install scripts in tfjs-focal-loss"; exit 1; fi
t=$(now); npx tfjs-focal-loss setup-tfjs-node; ts=$(elapsed "$t")
node -e "const p=require('./package.json'); if(!p.dependencies['@tensorflow/tfjs-node']) throw new Error('tfjs-node not recorded in package.json')"
node user-check.js @tensorflow/tfjs-node tensorflow tensorflow-op --save-load
summary+=("(a) install ${ta}s + setup-tfjs-node ${ts}s")
# docs/INSTALL.md's recipe for a clean reinstall (CI, Docker): tfjs-node's own install script would
# download libtensorflow again, so npm ci skips it and setup-tfjs-node restores the binding (cached).
rm -rf node_modules
t=$(now); npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && npx tfjs-focal-loss setup-tfjs-node; tr=$(elapsed "$t")
node user-check.js @tensorflow/tfjs-node tensorflow tensorflow-op
summary+=("(a) clean reinstall: npm ci --ignore-scripts && npx tfjs-focal-loss setup-tfjs-node ${tr}s")
# The README's examples, as shipped, against the installed package (what a user copies and runs).
t=$(now)
for example in imbalanced_classification segmentation; do
  cp "node_modules/tfjs-focal-loss/examples/$example.js" . && node "$example.js"
done
summary+=("(a) examples/imbalanced_classification.js + segmentation.js $(elapsed "$t")s")

echo "== (b) @tensorflow/tfjs, no compiler on PATH"
new_project b
mkdir "$work/bin"
for tool in node npm npx sh bash env cat ls mkdir rm cp mv ln chmod dirname basename readlink uname \
            grep sed find wc du sort head tail tr date mktemp tar gzip xargs; do
  ln -s "$(command -v "$tool")" "$work/bin/$tool"
done
for tool in cc c++ gcc g++ make cmake python3 python; do
  if PATH="$work/bin" command -v "$tool" > /dev/null; then echo "(b): $tool is on the restricted PATH"; exit 1; fi
done
t=$(now); env -i HOME="$HOME" PATH="$work/bin" npm install --no-audit --no-fund --loglevel=error @tensorflow/tfjs "$tgz"; tb=$(elapsed "$t")
env -i HOME="$HOME" PATH="$work/bin" node user-check.js @tensorflow/tfjs cpu js-arrays
summary+=("(b) install ${tb}s; node_modules $(du -sm node_modules | cut -f1) MiB, $(npm ls --all --parseable 2>/dev/null | tail -n +2 | wc -l) packages")

echo "== (c) @tensorflow/tfjs@4.20.0"
new_project c
t=$(now); npm_i @tensorflow/tfjs@4.20.0 "$tgz"; tc=$(elapsed "$t")
node -e "if(require('@tensorflow/tfjs-core').version_core!=='4.20.0') process.exit(1)" ||
  { npm ls --all @tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu; echo "(c): tfjs-core is not 4.20.0"; exit 1; }
node user-check.js @tensorflow/tfjs cpu js-arrays
summary+=("(c) install ${tc}s (tfjs 4.20.0)")

echo "== (d) --ignore-scripts"
new_project d
t=$(now); npm_i --ignore-scripts @tensorflow/tfjs "$tgz"; td=$(elapsed "$t")
node user-check.js @tensorflow/tfjs cpu js-arrays
summary+=("(d) install ${td}s (--ignore-scripts)")
# Without a loadable binary the losses still compute (composite) and nativeStatus says why.
mv node_modules/tfjs-focal-loss/prebuilds "$work/prebuilds-away"
node user-check.js @tensorflow/tfjs cpu composite
node -e "
const fl = require('tfjs-focal-loss'); const s = fl.nativeStatus();
if (!/no native binary for linux-x64/.test(s.error) || !/npx tfjs-focal-loss build/.test(s.error)) throw new Error(s.error);
try { fl.setNumThreads(2); throw new Error('no throw'); } catch (e) { if (!/npx tfjs-focal-loss build/.test(e.message)) throw e; }"
mv "$work/prebuilds-away" node_modules/tfjs-focal-loss/prebuilds
# setup-tfjs-node's one-line errors, and nothing half-written.
cp package.json "$work/d-package.json"
set +e
out=$(cd "$work" && mkdir -p noproject && cd noproject && "$work/d/node_modules/.bin/tfjs-focal-loss" setup-tfjs-node 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && grep -q 'not inside an npm project' <<< "$out" || { echo "no-project error: rc $rc: $out"; exit 1; }
set +e
out=$(env -i HOME="$HOME" PATH="$work/bin" TFJS_FOCAL_LOSS_CACHE="$work/empty-cache" npx tfjs-focal-loss setup-tfjs-node 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && grep -q 'no python3 with pip' <<< "$out" || { echo "no-pip error: rc $rc: $out"; exit 1; }
cmp package.json "$work/d-package.json" && [ ! -e node_modules/@tensorflow/tfjs-node ] || { echo "setup-tfjs-node left changes behind"; exit 1; }
echo "setup-tfjs-node errors: ok ($(tail -1 <<< "$out"))"

echo "== summary"
printf '%s\n' "${summary[@]}"
