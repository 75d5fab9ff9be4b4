// .ci/platforms.sh: compares a platform's .ci/platform-check.js output with linux-x64's.
//   node platform-compare.js REFERENCE.json RESULT.json <platform>-<arch> BINARY_DIR
// Each must have computed natively (nativeStatus: path js-arrays, not the composite) with the
// binary expected (the reference: prebuilds/linux-x64; the result: a file in BINARY_DIR, e.g.
// prebuilds/linux-arm64 or build/Release), and every loss and gradient tensor
// must match the reference within 1e-5 of the tensor's scale (its largest magnitude). Prints the
// worst difference; exits 1 on any failure.
'use strict';
const fs = require('fs');

const [refFile, resultFile, expected, binaryDir] = process.argv.slice(2);
const read = (file) => {
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (data.error) throw new Error(`${file}: the check failed: ${data.error}`);
  return data;
};
const ref = read(refFile);
const result = read(resultFile);
const failures = [];
const inDir = (binary, dir) => typeof binary === 'string' &&
  binary.replace(/\\/g, '/').includes(`/${dir}/`);
for (const [data, platform, dir] of [[ref, 'linux-x64', 'prebuilds/linux-x64'], [result, expected, binaryDir]]) {
  const { status } = data;
  if (`${data.platform}-${data.arch}` !== platform) failures.push(`ran as ${data.platform}-${data.arch}, expected ${platform}`);
  if (status.path !== 'js-arrays' || !status.loaded || !inDir(status.binary, dir)) {
    failures.push(`${platform}: not the fused kernel from ${dir}: ${JSON.stringify(status)}`);
  }
}
let worst = { rel: 0, abs: 0, where: '' };
for (const [name, refCase] of Object.entries(ref.results)) {
  const got = result.results[name];
  if (!got) { failures.push(`${name}: missing`); continue; }
  for (const part of ['loss', 'grad']) {
    const a = refCase[part];
    const b = got[part];
    if (a.length !== b.length) { failures.push(`${name}.${part}: ${b.length} values, expected ${a.length}`); continue; }
    const scale = Math.max(...a.map(Math.abs), Number.MIN_VALUE);
    for (let i = 0; i < a.length; i++) {
      const abs = Math.abs(a[i] - b[i]);
      if (!(abs <= 1e-5 * scale)) failures.push(`${name}.${part}[${i}]: ${b[i]} vs ${a[i]} (scale ${scale})`);
      if (abs / scale > worst.rel) worst = { rel: abs / scale, abs, where: `${name}.${part}[${i}]` };
    }
  }
}
const count = Object.values(ref.results).reduce((n, c) => n + c.loss.length + c.grad.length, 0);
console.log(`${expected} vs linux-x64: ${count} values in ${Object.keys(ref.results).length} cases, worst ` +
  `difference ${worst.rel.toExponential(2)} of the tensor's scale (${worst.abs.toExponential(2)} absolute` +
  `${worst.where ? `, ${worst.where}` : ''}); simd ${result.status.simd}, binary ${result.status.binary}`);
if (failures.length > 0) {
  console.error(`${expected}: ${failures.length} failures\n${failures.slice(0, 20).join('\n')}`);
  process.exit(1);
}
