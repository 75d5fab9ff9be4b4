#!/usr/bin/env node
// Loss values and gradients of the public API on a fixed set of inputs, as SHA-256 digests of their
// float32 bytes: run it on two builds of the library and compare, to show a refactor changed no bit.
//   node tools/api-bit-identity.js DIST_LIB_DIR OUT.json [--backend cpu|tensorflow]
//   node tools/api-bit-identity.js --compare A.json B.json
// The addon is the same for both runs when TFJS_FOCAL_LOSS_ADDON points at one binary.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
if (args[0] === '--compare') {
  const [a, b] = [args[1], args[2]].map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const names = Object.keys(a.cases);
  const differ = names.filter((n) => a.cases[n] !== b.cases[n]);
  const missing = Object.keys(b.cases).filter((n) => !(n in a.cases));
  console.log(`${names.length} cases (${a.backend} / ${b.backend}): ${differ.length} differ, ${missing.length} only in the second`);
  for (const n of differ) console.log(`  differs: ${n}`);
  process.exit(differ.length || missing.length || a.backend !== b.backend ? 1 : 0);
}
const [libDir, outFile] = args;
const backendIndex = args.indexOf('--backend');
const backend = backendIndex >= 0 ? args[backendIndex + 1] : 'cpu';
if (!libDir || !outFile) {
  console.error('usage: node tools/api-bit-identity.js DIST_LIB_DIR OUT.json [--backend cpu|tensorflow]');
  process.exit(2);
}
if (backend === 'tensorflow') require('@tensorflow/tfjs-node');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const lib = require(path.resolve(libDir));

/** Deterministic values in [lo, hi) (a linear congruential generator; no dependence on Math.random). */
function values(n, seed, lo, hi) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (s / 4294967296);
  }
  return out;
}

function digest(tensors) {
  const h = crypto.createHash('sha256');
  for (const t of tensors) h.update(Buffer.from(t.dataSync().buffer.slice(0)));
  return h.digest('hex').slice(0, 16);
}

const cases = {};
function record(name, f) {
  const out = tf.tidy(() => f());
  cases[name] = digest(out);
  tf.dispose(out);
}

function valueAndGrad(loss, logits) {
  const r = tf.valueAndGrad(loss)(logits);
  return [r.value, r.grad];
}

async function main() {
  await tf.setBackend(backend);
  const shapes = [[7, 5], [37, 21], [3, 4, 70], [16, 1000]];
  const reductions = ['NONE', 'SUM', 'MEAN', 'SUM_BY_NONZERO_WEIGHTS'];
  for (const shape of shapes) {
    const C = shape[shape.length - 1];
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const logits = tf.tensor(values(rows * C, 7 + C, -6, 6), shape);
    const sparse = tf.tensor(Int32Array.from(values(rows, 11 + C, 0, C), Math.floor), shape.slice(0, -1), 'int32');
    const oneHot = tf.cast(tf.oneHot(tf.reshape(sparse, [-1]), C), 'float32').reshape(shape);
    const soft = tf.softmax(tf.tensor(values(rows * C, 13 + C, -2, 2), shape));
    const probs = tf.softmax(logits);
    const rowWeights = tf.tensor(values(rows, 17, 0, 2), shape.slice(0, -1));
    const perClass = Array.from(values(C, 19, 0.1, 2));
    for (const [labelName, labels] of [['sparse', sparse], ['oneHot', oneHot], ['soft', soft]]) {
      for (const gamma of [0, 0.5, 2, 2.7]) {
        for (const alpha of [0.25, perClass]) {
          for (const labelSmoothing of [0, 0.1]) {
            const opts = {gamma, alpha, labelSmoothing};
            const tag = `${shape.join('x')} ${labelName} g${gamma} a${Array.isArray(alpha) ? 'C' : alpha} ls${labelSmoothing}`;
            for (const r of reductions) {
              record(`focalLoss ${tag} ${r}`, () => valueAndGrad((z) => lib.focalLoss(labels, z, {...opts, reduction: tf.Reduction[r]}), logits));
            }
            record(`focalLoss ${tag} weights`, () => valueAndGrad((z) => lib.focalLoss(labels, z, {...opts, weights: rowWeights}), logits));
            record(`focalLoss ${tag} probs`, () => valueAndGrad((z) => lib.focalLoss(labels, z, {...opts, fromLogits: false}), probs));
            if (labelName === 'sparse') {
              record(`focalLoss ${tag} ignoreIndex`, () => valueAndGrad((z) => lib.focalLoss(labels, z, {...opts, ignoreIndex: 1}), logits));
            }
          }
        }
      }
    }
    const targets = tf.tensor(values(rows * C, 23 + C, 0, 1), shape).round();
    const softTargets = tf.tensor(values(rows * C, 29 + C, 0, 1), shape);
    const elementWeights = tf.tensor(values(rows * C, 31, 0, 2), shape);
    for (const [labelName, labels] of [['hard', targets], ['soft', softTargets]]) {
      for (const gamma of [0, 0.5, 2, 3.5]) {
        for (const alpha of [0.25, null]) {
          for (const labelSmoothing of [0, 0.1]) {
            const opts = {gamma, alpha, labelSmoothing};
            const tag = `${shape.join('x')} ${labelName} g${gamma} a${alpha} ls${labelSmoothing}`;
            for (const r of reductions) {
              record(`sigmoidFocalLoss ${tag} ${r}`, () => valueAndGrad((z) => lib.sigmoidFocalLoss(labels, z, {...opts, reduction: tf.Reduction[r]}), logits));
            }
            record(`sigmoidFocalLoss ${tag} weights`, () => valueAndGrad((z) => lib.sigmoidFocalLoss(labels, z, {...opts, weights: elementWeights}), logits));
            record(`sigmoidFocalLoss ${tag} positives`, () => valueAndGrad((z) => lib.sigmoidFocalLoss(labels, z, {...opts, normalizeByPositives: true}), logits));
            record(`sigmoidFocalLoss ${tag} probs`, () => valueAndGrad((z) => lib.sigmoidFocalLoss(labels, z, {...opts, fromLogits: false}), tf.sigmoid(logits)));
          }
        }
      }
    }
    // The family (issue 17): Poly-1, logit adjustment, varifocal, quality focal, asymmetric.
    const counts = Array.from(values(C, 37, 1, 50));
    for (const polyEpsilon of [-0.5, 1]) {
      record(`focalLoss ${shape.join('x')} poly${polyEpsilon}`, () => valueAndGrad((z) => lib.focalLoss(soft, z, {polyEpsilon}), logits));
      record(`sigmoidFocalLoss ${shape.join('x')} poly${polyEpsilon}`, () => valueAndGrad((z) => lib.sigmoidFocalLoss(softTargets, z, {polyEpsilon, weights: elementWeights}), logits));
    }
    for (const tau of [1, 0.5]) {
      record(`focalLoss ${shape.join('x')} logitAdjustment tau${tau}`, () => valueAndGrad((z) => lib.focalLoss(sparse, z, {logitAdjustment: {classCounts: counts, tau}}), logits));
    }
    const family = [
      ['varifocalLoss', [{}, {alpha: 0.5, gamma: 1.5}, {iouWeighted: false}]],
      ['qualityFocalLoss', [{}, {beta: 0.5}, {beta: 3}]],
      ['asymmetricLoss', [{}, {gammaPos: 1, gammaNeg: 2, clip: 0}, {clip: 0.2}]],
    ];
    for (const [loss, optionSets] of family) {
      optionSets.forEach((opts, k) => {
        for (const r of reductions) {
          record(`${loss} ${shape.join('x')} o${k} ${r}`, () => valueAndGrad((z) => lib[loss](softTargets, z, {...opts, reduction: tf.Reduction[r]}), logits));
        }
        record(`${loss} ${shape.join('x')} o${k} weights`, () => valueAndGrad((z) => lib[loss](softTargets, z, {...opts, weights: elementWeights}), logits));
        record(`${loss} ${shape.join('x')} o${k} hard`, () => valueAndGrad((z) => lib[loss](targets, z, opts), logits));
      });
    }
    record(`varifocalCrossentropy ${shape.join('x')}`, () => valueAndGrad((z) => tf.mean(lib.varifocalCrossentropy()(softTargets, z)), logits));
    record(`qualityFocalCrossentropy ${shape.join('x')}`, () => valueAndGrad((z) => tf.mean(lib.qualityFocalCrossentropy({beta: 1})(softTargets, z)), logits));
    record(`asymmetricCrossentropy ${shape.join('x')}`, () => valueAndGrad((z) => tf.mean(lib.asymmetricCrossentropy({gammaNeg: 3})(targets, z)), logits));
    record(`family labels gradient ${shape.join('x')}`, () => [tf.grad((y) => lib.varifocalLoss(y, logits))(softTargets), tf.grad((y) => lib.qualityFocalLoss(y, logits))(softTargets)]);
    record(`categorical ${shape.join('x')}`, () => valueAndGrad((z) => tf.mean(lib.categoricalFocalCrossentropy()(oneHot, z)), probs));
    record(`sparseCategorical ${shape.join('x')}`, () => valueAndGrad((z) => tf.mean(lib.sparseCategoricalFocalCrossentropy({fromLogits: true})(sparse, z)), logits));
    record(`binary ${shape.join('x')}`, () => valueAndGrad((z) => tf.mean(lib.binaryFocalCrossentropy({applyClassBalancing: true, fromLogits: true})(targets, z)), logits));
    record(`labels gradient ${shape.join('x')}`, () => [tf.grad((y) => lib.focalLoss(y, logits))(soft), tf.grad((y) => lib.sigmoidFocalLoss(y, logits))(softTargets)]);
    tf.dispose([logits, sparse, oneHot, soft, probs, rowWeights, targets, softTargets, elementWeights]);
  }
  fs.writeFileSync(outFile, JSON.stringify({backend, cases}, null, 1));
  console.log(`${Object.keys(cases).length} cases on ${backend} -> ${outFile}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
