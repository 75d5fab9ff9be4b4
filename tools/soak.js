#!/usr/bin/env node
// Leak soak: forward + gradient of focalLoss and sigmoidFocalLoss, 10,000 iterations each, reporting
// tf.memory().numTensors and the process RSS along the way. Fails (exit 1) if the tensor count moves
// or RSS keeps growing after warm-up.
//   node tools/soak.js [--backend tensorflow|cpu] [--iterations 10000] [--rows 256] [--classes 100]
'use strict';
process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL || '2';
const path = require('path');

const argv = process.argv.slice(2);
const flag = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : dflt; };
const backend = flag('backend', 'tensorflow');
const iterations = Number(flag('iterations', 10000));
const rows = Number(flag('rows', 256));
const classes = Number(flag('classes', 100));

if (backend === 'tensorflow') require('@tensorflow/tfjs-node');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const { focalLoss, sigmoidFocalLoss } = require(path.resolve(__dirname, '..', 'dist', 'lib'));

async function main() {
  await tf.setBackend(backend);
  const logits = tf.randomNormal([rows, classes], 0, 3, 'float32', 1);
  const sparse = tf.randomUniform([rows], 0, classes, 'int32', 2);
  const multi = tf.cast(tf.greater(tf.randomUniform([rows, classes], 0, 1, 'float32', 3), 0.9), 'float32');
  const step = {
    focalLoss: tf.valueAndGrad((z) => focalLoss(sparse, z)),
    sigmoidFocalLoss: tf.valueAndGrad((z) => sigmoidFocalLoss(multi, z)),
  };
  const report = { backend, iterations, rows, classes, runs: {} };
  let failed = false;
  for (const [name, fn] of Object.entries(step)) {
    const once = () => { const { value, grad } = fn(logits); value.dataSync(); grad.dataSync(); value.dispose(); grad.dispose(); };
    for (let i = 0; i < 200; i++) once(); // warm-up: JIT, allocator pools, TF's caches
    if (global.gc) global.gc();
    const tensors0 = tf.memory().numTensors;
    const samples = [];
    const t0 = Date.now();
    for (let i = 1; i <= iterations; i++) {
      once();
      if (i % (iterations / 10) === 0) {
        if (global.gc) global.gc();
        samples.push({ iteration: i, numTensors: tf.memory().numTensors, rssMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1) });
      }
    }
    const seconds = (Date.now() - t0) / 1000;
    const rss = samples.map((s) => s.rssMiB);
    // RSS flat: the second half of the run may not sit more than 5% (and 20 MiB) above the first sample.
    const growth = Math.max(...rss.slice(rss.length / 2)) - rss[0];
    const tensorsStable = samples.every((s) => s.numTensors === tensors0);
    const rssFlat = growth <= Math.max(20, rss[0] * 0.05);
    if (!tensorsStable || !rssFlat) failed = true;
    report.runs[name] = { numTensorsBefore: tensors0, samples, rssGrowthMiB: +growth.toFixed(1), tensorsStable, rssFlat, seconds };
    console.log(`${name} on ${backend}: ${iterations} iterations in ${seconds.toFixed(1)} s; numTensors ${tensors0} → ${samples.map((s) => s.numTensors).join(', ')}; RSS MiB ${rss.join(', ')} (growth ${growth.toFixed(1)})${tensorsStable && rssFlat ? '' : '  <-- LEAK'}`);
  }
  if (flag('json')) require('fs').writeFileSync(flag('json'), JSON.stringify(report, null, 2));
  process.exit(failed ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
