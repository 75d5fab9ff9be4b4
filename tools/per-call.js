#!/usr/bin/env node
// Per-call cost of sigmoidFocalLoss and focalLoss at 256 x 10 (forward, default options), for one
// build of the library: medians over 21 blocks of 500 calls of the process's CPU time (user +
// system; steadier than wall time on a shared machine) and of wall time, in ms. Compare two builds
// by alternating runs of each (a busy machine moves every figure; only pairs mean anything):
//   for i in 1 2 3; do for lib in OLD/dist/lib dist/lib; do
//     echo "$lib $(node tools/per-call.js $lib tensorflow)"; done; done
// (TFJS_FOCAL_LOSS_ADDON=... points each run at its own build's addon.)
'use strict';

const path = require('path');

const [libDir, backend = 'tensorflow'] = process.argv.slice(2);
if (!libDir) {
  console.error('usage: node tools/per-call.js DIST_LIB_DIR [tensorflow|cpu]');
  process.exit(2);
}
if (backend === 'tensorflow') require('@tensorflow/tfjs-node');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const lib = require(path.resolve(libDir));

function median(values) {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

(async () => {
  await tf.setBackend(backend);
  const logits = tf.randomNormal([256, 10], 0, 1, 'float32', 1);
  const labelsOf = {
    sigmoidFocalLoss: tf.cast(tf.randomUniform([256, 10], 0, 1, 'float32', 2).greater(0.5), 'float32'),
    focalLoss: tf.randomUniform([256], 0, 10, 'int32', 3),
  };
  const block = (fn, calls) => {
    const labels = labelsOf[fn];
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) lib[fn](labels, logits).dispose();
    const cpu = process.cpuUsage(cpu0);
    return {cpu: (cpu.user + cpu.system) / 1e3 / calls, wall: Number(process.hrtime.bigint() - wall0) / 1e6 / calls};
  };
  const fns = Object.keys(labelsOf);
  for (const fn of fns) block(fn, 3000);  // warm-up: JIT, op registration, caches
  const samples = Object.fromEntries(fns.map((fn) => [fn, {cpu: [], wall: []}]));
  for (let round = 0; round < 21; round++) {
    for (const fn of fns) {
      const b = block(fn, 500);
      samples[fn].cpu.push(b.cpu);
      samples[fn].wall.push(b.wall);
    }
  }
  console.log(JSON.stringify(Object.fromEntries(fns.map((fn) => [fn, {
    cpuMs: Number(median(samples[fn].cpu).toFixed(4)), wallMs: Number(median(samples[fn].wall).toFixed(4)),
  }]))));
})();
