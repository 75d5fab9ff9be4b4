// focalLoss values against the float64 reference: every option, every reduction, random shapes
// (rank 2 to 4, N up to 4096, C up to 1000), gamma = 0 against tf.losses.softmaxCrossEntropy, and
// extreme logits.

import * as tf from '@tensorflow/tfjs-core';
import './register_gradients';
import { focalLoss } from '../lib';
import { SoftmaxFocalOptions, SoftmaxLabels, computeWeightedLoss, softmaxFocalRows } from './reference';
import { Rng, expectAllClose, expectAllFinite, referenceReduction } from './numeric_helpers';
import {
  REDUCTIONS,
  SoftmaxCase,
  SoftmaxCaseConfig,
  buildSoftmaxCase,
  describeCase,
  extremeLogits,
  labelsTensor,
  libraryOptions,
  logitsTensor,
  optionGrid,
  referenceReduced,
} from './softmax_cases';

const VALUE_RTOL = 1e-5;

/** Runs focalLoss on the case and returns [values, shape]. */
function libraryValue(c: SoftmaxCase, reduction: tf.Reduction | undefined): [Float32Array, number[]] {
  return tf.tidy(() => {
    const out = focalLoss(labelsTensor(c), logitsTensor(c), libraryOptions(c, reduction));
    return [out.dataSync() as Float32Array, out.shape];
  });
}

function checkValue(c: SoftmaxCase, reduction: tf.Reduction | undefined): void {
  const before = tf.memory().numTensors;
  const [got, shape] = libraryValue(c, reduction);
  expect(tf.memory().numTensors).toBe(before); // focalLoss leaks nothing
  const expected = referenceReduced(c, reduction);
  expect(shape).toEqual(reduction === tf.Reduction.NONE ? c.lossShape : []);
  expectAllClose(`focalLoss value (${describeCase(c)}, reduction ${reduction})`, got, expected.value, VALUE_RTOL);
}

describe('focalLoss values vs float64 reference: every option x every reduction', () => {
  test.each(optionGrid())('%s', (_name, config, reduction, seed) => {
    checkValue(buildSoftmaxCase(config, seed), reduction);
  });
});

describe('focalLoss values at large N and C', () => {
  const big: Array<[string, SoftmaxCaseConfig, tf.Reduction[]]> = [
    ['N 4096 x C 16, rank 3, sparse, ignoreIndex',
      { name: 'big-n', labels: 'sparse', rows: 4096, classes: 16, rank: 3, gamma: 2, ignoreIndex: -1, weights: 'broadcast' },
      [tf.Reduction.NONE, tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS]],
    ['N 96 x C 1000, rank 4, soft labels, per-class alpha',
      { name: 'big-c', labels: 'soft', rows: 96, classes: 1000, rank: 4, gamma: 1.5, alpha: 'perClass', labelSmoothing: 0.1, weights: 'full' },
      [tf.Reduction.NONE, tf.Reduction.SUM]],
    ['N 4096 x C 1000, rank 2, sparse, gamma 2',
      { name: 'big-both', labels: 'sparse', rows: 4096, classes: 1000, rank: 2, gamma: 2, alpha: 0.25, logitScale: 3 },
      [tf.Reduction.NONE, tf.Reduction.SUM_BY_NONZERO_WEIGHTS]],
    ['N 1024 x C 1000 probabilities, sparse',
      { name: 'big-probs', labels: 'sparse', rows: 1024, classes: 1000, rank: 2, gamma: 2, fromLogits: false },
      [tf.Reduction.NONE, tf.Reduction.MEAN]],
  ];
  test.each(big)('%s', (_name, config, reductions) => {
    const c = buildSoftmaxCase(config, 77);
    for (const reduction of reductions) checkValue(c, reduction);
  });
});

describe('gamma = 0 reproduces tf.losses.softmaxCrossEntropy (value)', () => {
  // tf.losses.softmaxCrossEntropy smooths with numClasses = labels.shape[1], which is the class
  // count only for rank 2, so the smoothed cases are rank 2.
  const cases: Array<[string, number[], number, boolean, 'none' | 'full' | 'broadcast']> = [
    ['one-hot, rank 3', [6, 10, 7], 0, false, 'none'],
    ['sparse labels vs one-hot CE, rank 3', [6, 10, 7], 0, true, 'broadcast'],
    ['one-hot, label smoothing 0.1', [60, 7], 0.1, false, 'full'],
    ['sparse labels vs one-hot CE, smoothing 0.3', [60, 7], 0.3, true, 'broadcast'],
  ];
  for (const [name, shape, ls, sparseLabels, weightKind] of cases) {
    for (const [reductionName, reduction] of REDUCTIONS) {
      test(`${name} | ${reductionName} | weights ${weightKind}`, () => {
        const rng = new Rng(4242 + (reduction ?? 9));
        const classes = shape[shape.length - 1];
        const lossShape = shape.slice(0, -1);
        const rows = lossShape.reduce((a, b) => a * b, 1);
        const logits = rng.float32Normal(rows * classes, 3);
        const indices = rng.sparseLabels(rows, classes);
        const oneHot = rng.oneHot(indices, classes);
        const weightShape = weightKind === 'full' ? lossShape : lossShape.map((d, k) => (k === 0 ? d : 1));
        const weights = weightKind === 'none' ? null
          : { values: rng.float32Uniform(weightShape.reduce((a, b) => a * b, 1), 0, 2), shape: weightShape };
        const [ours, theirs] = tf.tidy(() => {
          const w = weights ? tf.tensor(weights.values, weights.shape) : undefined;
          const z = tf.tensor(logits, shape);
          const labels = sparseLabels ? tf.tensor(indices, lossShape, 'int32') : tf.tensor(oneHot, shape);
          const options: Record<string, unknown> = { gamma: 0, alpha: 1, labelSmoothing: ls };
          if (w) options.weights = w;
          if (reduction !== undefined) options.reduction = reduction;
          return [
            focalLoss(labels, z, options).dataSync(),
            tf.losses.softmaxCrossEntropy(tf.tensor(oneHot, shape), z, w, ls, reduction).dataSync(),
          ];
        });
        expectAllClose('focalLoss(gamma 0, alpha 1) vs softmaxCrossEntropy', ours, theirs, VALUE_RTOL);
      });
    }
  }

  test('alpha scales cross-entropy linearly', () => {
    const rng = new Rng(5);
    const z = rng.float32Normal(40 * 4, 2);
    const t = rng.sparseLabels(40, 4);
    const [ours, ce] = tf.tidy(() => [
      focalLoss(tf.tensor1d(t, 'int32'), tf.tensor2d(z, [40, 4]), { gamma: 0, alpha: 0.37, reduction: tf.Reduction.NONE }).dataSync(),
      tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(t, 'int32'), 4), tf.tensor2d(z, [40, 4]), undefined, 0, tf.Reduction.NONE).dataSync(),
    ]);
    expectAllClose('0.37 x CE', ours, Array.from(ce, (v) => 0.37 * v), VALUE_RTOL);
  });
});

describe('extreme logits (|z| up to 1e4): finite values that match the reference', () => {
  const configs: Array<[string, number, number | number[], number, boolean, number]> = [
    ['gamma 0.5, sparse', 0.5, 0.25, 0, false, 8],
    ['gamma 0.5, one-hot, label smoothing 0.1', 0.5, 0.25, 0.1, true, 8],
    ['gamma 2, per-class alpha', 2, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], 0, false, 8],
    ['gamma 0', 0, 1, 0, true, 8],
    // (jest passes a done callback for a missing trailing argument, so every row names its classes)
    // 37 classes: a SIMD body plus a tail per row, with the extreme values in both
    ['gamma 0.5, sparse, 37 classes', 0.5, 0.25, 0, false, 37],
    ['gamma 0.5, one-hot, smoothing 0.05, 37 classes', 0.5, 0.25, 0.05, true, 37],
  ];
  test.each(configs)('%s', (_name, gamma, alpha, labelSmoothing, dense, classCount) => {
    const rows = 60;
    const classes = classCount;
    const { logits, labels } = extremeLogits(rows, classes, 31);
    const oneHot = new Rng(0).oneHot(labels, classes);
    const referenceLabels: SoftmaxLabels = dense ? { kind: 'dense', values: oneHot } : { kind: 'sparse', values: labels };
    const options: SoftmaxFocalOptions = { gamma, alpha, labelSmoothing };
    const reference = softmaxFocalRows(logits, rows, classes, referenceLabels, options, false);
    expectAllFinite('reference', reference.loss);
    const perRow = tf.tidy(() => focalLoss(
      dense ? tf.tensor2d(oneHot, [rows, classes]) : tf.tensor1d(labels, 'int32'),
      tf.tensor2d(logits, [rows, classes]),
      { gamma, alpha, labelSmoothing, reduction: tf.Reduction.NONE },
    ).dataSync());
    expectAllFinite('focalLoss per-row', perRow);
    expectAllClose(`per-row loss (${_name})`, perRow, reference.loss, VALUE_RTOL);
    const mean = tf.tidy(() => focalLoss(
      dense ? tf.tensor2d(oneHot, [rows, classes]) : tf.tensor1d(labels, 'int32'),
      tf.tensor2d(logits, [rows, classes]), { gamma, alpha, labelSmoothing }).dataSync());
    expectAllClose('mean loss', mean, computeWeightedLoss(reference.loss, [rows], null, referenceReduction(undefined)).value, VALUE_RTOL);
  });
});
