// Run inside a user project made by .ci/user-projects.sh, with the user's tf:
//   node user-check.js <tf package> <expected backend> <expected path> [--save-load]
// focalLoss against a float64 value, tf.grad, a short model.fit with the Keras-style loss, exactly
// one @tensorflow/tfjs-core in node_modules, nativeStatus()'s path; --save-load: model.save ->
// tf.loadLayersModel -> fit without compile (must fail clearly) -> compile -> fit.
'use strict';
const assert = require('assert');
const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [tfPackage, expectedBackend, expectedPath, flag] = process.argv.slice(2);
const tf = require(tfPackage);
const fl = require('tfjs-focal-loss');

async function main() {
  // Before any tensor exists (no backend initialized yet), nativeStatus() initializes tfjs's.
  const status = fl.nativeStatus();
  assert.strictEqual(tf.getBackend(), expectedBackend, 'backend');
  assert.strictEqual(status.path, expectedPath, `path (${JSON.stringify(status)})`);
  if (expectedPath !== 'composite') {
    assert.ok(status.binary.includes(path.join('prebuilds', 'linux-x64')), `prebuilt binary (${status.binary})`);
  }
  if (expectedBackend === 'tensorflow') assert.strictEqual(fl.tensorflowOpsStatus().active, true, 'TF ops active');

  const cores = cp.execSync("find node_modules -path '*/@tensorflow/tfjs-core/package.json'", { encoding: 'utf8' })
    .trim().split('\n').filter(Boolean);
  assert.strictEqual(cores.length, 1, `exactly one @tensorflow/tfjs-core (${cores.join(', ')})`);

  // focalLoss on the user's tf, against the formula in float64.
  const logits = tf.tensor2d([[2, 1, 0], [0.5, -1, 3]]);
  const labels = tf.tensor1d([0, 1], 'int32');
  const expected = [[2, 1, 0, 0], [0.5, -1, 3, 1]].map(([a, b, c, t]) => {
    const m = Math.max(a, b, c);
    const lse = m + Math.log(Math.exp(a - m) + Math.exp(b - m) + Math.exp(c - m));
    const logp = [a, b, c][t] - lse;
    return -0.25 * (1 - Math.exp(logp)) ** 2 * logp;
  });
  const value = fl.focalLoss(labels, logits).dataSync()[0];
  const mean = (expected[0] + expected[1]) / 2;
  assert.ok(Math.abs(value - mean) < 1e-5 * mean, `focalLoss ${value} vs ${mean}`);
  const grad = tf.grad((x) => fl.focalLoss(labels, x))(logits).dataSync();
  assert.ok(grad.every(Number.isFinite) && grad.some((g) => g !== 0), 'tf.grad');
  // Each row's gradient sums to 0 (softmax).
  assert.ok(Math.abs(grad[0] + grad[1] + grad[2]) < 1e-6, 'gradient row sum');

  const model = () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ units: 3, inputShape: [4] }));
    return m;
  };
  const xs = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
  const ys = tf.oneHot(tf.argMax(tf.matMul(xs, tf.randomNormal([4, 3], 0, 1, 'float32', 2)), 1), 3).toFloat();
  const loss = fl.categoricalFocalCrossentropy({ fromLogits: true });
  const m = model();
  m.compile({ optimizer: tf.train.adam(0.05), loss });
  const history = await m.fit(xs, ys, { epochs: 8, batchSize: 16, verbose: 0 });
  const losses = history.history.loss;
  assert.ok(losses[losses.length - 1] < losses[0], `model.fit lowers the loss (${losses})`);

  if (flag === '--save-load') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'focal-model-'));
    await m.save(`file://${dir}`);
    const loaded = await tf.loadLayersModel(`file://${path.join(dir, 'model.json')}`);
    // tfjs-layers cannot serialize a function loss: a loaded model is not compiled.
    await assert.rejects(() => loaded.fit(xs, ys, { epochs: 1, verbose: 0 }), /needs to be compiled before being used/);
    loaded.compile({ optimizer: tf.train.adam(0.05), loss });
    const saved = m.evaluate(xs, ys).dataSync()[0];
    const reloaded = loaded.evaluate(xs, ys).dataSync()[0];
    assert.ok(Math.abs(reloaded - saved) <= 1e-6 * saved, `same weights after load (${reloaded} vs ${saved})`);
    const h = await loaded.fit(xs, ys, { epochs: 4, batchSize: 16, verbose: 0 });
    assert.ok(h.history.loss.every(Number.isFinite), 'fit after recompile');
    fs.rmSync(dir, { recursive: true, force: true });
    console.log('save -> loadLayersModel -> (fit without compile rejects) -> compile -> fit: ok');
  }
  console.log(`ok: backend ${tf.getBackend()}, path ${status.path}, tfjs-core ${tf.version_core}, one tfjs-core`);
}

main().catch((e) => {
  console.error(`user-check FAILED: ${e && e.stack}`);
  process.exit(1);
});
