// Run inside a user project by .ci/platforms.sh, under each platform's Node (linux-x64, linux-arm64
// under qemu-user, win32-x64 under wine):
//   node platform-check.js OUT.json
// Computes every loss of the package (softmax focal: sparse, dense smoothed, ignoreIndex, on
// probabilities, many classes, Poly-1, logit-adjusted; sigmoid focal, its Poly-1 and RetinaNet
// normalisation; varifocal, quality focal, asymmetric) and its gradient (tf.grad) on fixed inputs on
// backend `cpu`, and writes them with nativeStatus() to OUT.json (a file, not stdout: under wine a
// pipe gives EBADF). .ci/platform-compare.js compares the files.
'use strict';
const fs = require('fs');
const tf = require('@tensorflow/tfjs');
const fl = require('tfjs-focal-loss');

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function uniform(seed, shape, lo, hi) {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => lo + (hi - lo) * r()), shape);
}

function integers(seed, n, classes) {
  const r = rng(seed);
  return tf.tensor1d(Int32Array.from({ length: n }, () => Math.floor(r() * classes)), 'int32');
}

function binary(seed, shape, fraction) {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => (r() < fraction ? 1 : 0)), shape);
}

const NONE = { reduction: tf.Reduction.NONE };
const [R, C] = [64, 10];
const logits = uniform(1, [R, C], -6, 6);
const sparse = integers(2, R, C);
const ignored = tf.where(tf.equal(tf.range(0, R, 1, 'int32').mod(7), 0), tf.fill([R], -1, 'int32'), sparse);
const dense = tf.oneHot(sparse, C).toFloat();
const probs = tf.softmax(logits);
const manyLogits = uniform(3, [8, 300], -8, 8);
const manyLabels = integers(4, 8, 300);
const counts = Array.from({ length: C }, (_, c) => 1000 / (c + 1));
const multiLabels = binary(5, [R, C], 0.2);
const quality = tf.mul(multiLabels, uniform(6, [R, C], 0, 1));

// name -> [loss function of the logits, the logits]
const CASES = {
  focal_sparse: [(x) => fl.focalLoss(sparse, x, NONE), logits],
  focal_dense_smoothed_per_class_alpha: [(x) => fl.focalLoss(dense, x,
    { ...NONE, labelSmoothing: 0.1, alpha: counts.map((n) => 1 / Math.sqrt(n)) }), logits],
  focal_gamma_1_5_ignore_index: [(x) => fl.focalLoss(ignored, x, { ...NONE, gamma: 1.5, ignoreIndex: -1 }), logits],
  focal_probabilities: [(x) => fl.focalLoss(sparse, x, { ...NONE, fromLogits: false, gamma: 2 }), probs],
  focal_many_classes: [(x) => fl.focalLoss(manyLabels, x, { ...NONE, gamma: 3 }), manyLogits],
  focal_poly1: [(x) => fl.focalLoss(sparse, x, { ...NONE, polyEpsilon: 1 }), logits],
  focal_logit_adjusted: [(x) => fl.focalLoss(sparse, x, { ...NONE, logitAdjustment: { classCounts: counts, tau: 1 } }), logits],
  sigmoid_focal: [(x) => fl.sigmoidFocalLoss(multiLabels, x, NONE), logits],
  sigmoid_focal_poly1_no_alpha: [(x) => fl.sigmoidFocalLoss(multiLabels, x, { ...NONE, alpha: null, polyEpsilon: 2, gamma: 4.5 }), logits],
  sigmoid_focal_normalize_by_positives: [(x) => fl.sigmoidFocalLoss(multiLabels, x, { normalizeByPositives: true }), logits],
  varifocal: [(x) => fl.varifocalLoss(quality, x, NONE), logits],
  quality_focal: [(x) => fl.qualityFocalLoss(quality, x, { ...NONE, beta: 2 }), logits],
  asymmetric: [(x) => fl.asymmetricLoss(multiLabels, x, NONE), logits],
};

async function main() {
  const out = process.argv[2];
  await tf.setBackend('cpu');
  const results = {};
  for (const [name, [loss, x]] of Object.entries(CASES)) {
    const value = loss(x);
    const grad = tf.grad((t) => tf.sum(loss(t)))(x);
    results[name] = { loss: Array.from(await value.data()), grad: Array.from(await grad.data()) };
  }
  const status = fl.nativeStatus();
  fs.writeFileSync(out, JSON.stringify({ platform: process.platform, arch: process.arch, status, results }));
}

main().catch((e) => {
  fs.writeFileSync(process.argv[2], JSON.stringify({ error: String(e && e.stack) }));
  process.exitCode = 1;
});
