#!/usr/bin/env bash
# Proves that binding.gyp (the node-gyp fallback) builds the same sources as CMakeLists.txt (the
# cmake-js build): both must list the same native/*.cc files, and the node-gyp addon, built in a
# scratch copy so that build/ stays untouched, must compute the same bits as the cmake-js addon.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

list_sources() { grep -oE 'native/[A-Za-z0-9_/]+\.cc' "$1" | grep -v '/tests/' | sort -u; }
if ! diff <(list_sources "$root/CMakeLists.txt") <(list_sources "$root/binding.gyp"); then
  echo "check-gyp: CMakeLists.txt and binding.gyp list different sources (diff above)" >&2
  exit 1
fi

cp -r "$root/native" "$root/scripts" "$root/binding.gyp" "$root/package.json" "$work/"
ln -s "$root/node_modules" "$work/node_modules"
(cd "$work" && node scripts/build-addon.js --gyp > "$work/gyp.log" 2>&1) || { cat "$work/gyp.log"; exit 1; }

node - "$root/build/Release/focal_loss.node" "$work/build/Release/focal_loss.node" <<'JS'
const [cmakeAddon, gypAddon] = process.argv.slice(2).map((p) => require(p));
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const rows = 257, classes = 37;
const logits = Float32Array.from({ length: rows * classes }, () => (rand() - 0.5) * 20);
const labels = Int32Array.from({ length: rows }, () => Math.floor(rand() * classes));
function run(addon) {
  const lossOut = new Float32Array(rows), gradOut = new Float32Array(rows * classes);
  addon.softmaxFocalLoss({ logits, labels, rows, classes, gamma: 1.5, alpha: 0.25, labelSmoothing: 0.1,
    ignoreIndex: null, fromLogits: true, lossOut, gradOut });
  return [lossOut, gradOut];
}
const a = run(cmakeAddon), b = run(gypAddon);
for (let k = 0; k < 2; k++) {
  if (Buffer.compare(Buffer.from(a[k].buffer), Buffer.from(b[k].buffer)) !== 0) {
    console.error('check-gyp: the node-gyp addon computes different numbers from the cmake-js addon');
    process.exit(1);
  }
}
if (!a[0].every(Number.isFinite) || a[0].every((v) => v === 0)) { console.error('check-gyp: degenerate output'); process.exit(1); }
console.log(`check-gyp: binding.gyp builds the same ${require('fs').readFileSync(process.argv[2].replace(/build\/Release\/focal_loss.node$/, 'binding.gyp'), 'utf8').match(/native\/[A-Za-z0-9_/]+\.cc/g).filter((s) => !s.includes('/tests/')).length} sources; its addon matches the cmake-js addon bit for bit`);
JS
