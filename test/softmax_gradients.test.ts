// Gradients of focalLoss (tf.grad through the library's registered gradient) against
// (a) central finite differences of the float64 reference, (b) tf.grad of the same loss composed
// from tfjs ops, and (c) the reference's analytic gradient; gamma = 0 against
// tf.losses.softmaxCrossEntropy; extreme logits; the dense-labels gradient.

import * as tf from '@tensorflow/tfjs-core';
import './register_gradients';
import { focalLoss } from '../lib';
import { centralDifferences, scaleRows, softmaxFocalLabelGradient, softmaxFocalRows, softmaxRowLossFunction } from './reference';
import { composedFocalLoss } from './composed';
import { Rng, expectAllFinite, expectGradientClose, maxAbs, sampleIndices, tidyRead } from './numeric_helpers';
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

const GRAD_TOL = 1e-5;

function libraryGradient(c: SoftmaxCase, reduction: tf.Reduction | undefined): Float32Array {
  return tidyRead(() => {
    const labels = labelsTensor(c);
    const options = libraryOptions(c, reduction);
    return [tf.grad((z: tf.Tensor) => focalLoss(labels, z, options))(logitsTensor(c))];
  })[0]!;
}

function composedGradient(c: SoftmaxCase, reduction: tf.Reduction | undefined): Float32Array {
  return tidyRead(() => {
    const labels = labelsTensor(c);
    const { weights } = libraryOptions(c, undefined) as { weights?: tf.Tensor | number };
    const options = { ...c.referenceOptions, alpha: c.alpha, ignoreIndex: c.config.ignoreIndex ?? null, weights, reduction };
    return [tf.grad((z: tf.Tensor) => composedFocalLoss(labels, z, options))(logitsTensor(c))];
  })[0]!;
}

/** Finite-difference step: probabilities that are exactly 0 must stay below the clip bound 1e-7. */
function stepFor(c: SoftmaxCase): (x: number) => number {
  if (c.config.fromLogits === false) return (x) => (x === 0 ? 1e-10 : 1e-6 * Math.max(Math.abs(x), 1e-3));
  return (x) => 1e-5 * Math.max(1, Math.abs(x));
}

/**
 * Central differences of the float64 reduced reference loss at sampled coordinates. The reduced
 * loss is sum_i coefficient_i loss_i(row i), so perturbing z[i, j] changes row i only.
 */
function finiteDifferenceGradient(c: SoftmaxCase, coefficients: ArrayLike<number>, indices: number[]): Float64Array {
  const out = new Float64Array(indices.length);
  indices.forEach((flat, k) => {
    const i = Math.floor(flat / c.classes);
    const j = flat % c.classes;
    const row = c.input.subarray(i * c.classes, (i + 1) * c.classes);
    const fd = centralDifferences(softmaxRowLossFunction(i, c.classes, c.referenceLabels, c.referenceOptions), row, [j], stepFor(c));
    out[k] = coefficients[i] * fd[0];
  });
  return out;
}

function checkGradients(c: SoftmaxCase, reduction: tf.Reduction | undefined, options: { composed: boolean; fdSamples: number }): void {
  const what = `${describeCase(c)}, reduction ${reduction}`;
  const got = libraryGradient(c, reduction);
  expect(got.length).toBe(c.input.length);
  const { lossCoefficients } = referenceReduced(c, reduction);
  const analytic = scaleRows(c.reference.grad, lossCoefficients, c.classes);
  const scale = maxAbs(analytic);

  // (a) central finite differences of the float64 reference
  const indices = sampleIndices(new Rng(c.rows * 7919 + c.classes), got.length, options.fdSamples);
  const fd = finiteDifferenceGradient(c, lossCoefficients, indices);
  expectGradientClose(`d focalLoss / d logits vs finite differences (${what})`, indices.map((k) => got[k]), fd, GRAD_TOL, scale);

  // (b) tf.grad of the composed tfjs loss
  if (options.composed) {
    const composed = composedGradient(c, reduction);
    expectGradientClose(`d focalLoss / d logits vs composed tfjs autodiff (${what})`, got, composed, GRAD_TOL, maxAbs(composed));
  }

  // (c) the reference's analytic gradient, at every coordinate
  expectGradientClose(`d focalLoss / d logits vs float64 analytic gradient (${what})`, got, analytic, GRAD_TOL, scale);
}

describe('focalLoss gradient: every option x every reduction', () => {
  test.each(optionGrid())('%s', (_name, config, reduction, seed) => {
    checkGradients(buildSoftmaxCase(config, seed), reduction, { composed: true, fdSamples: 60 });
  });
});

describe('focalLoss gradient at large N and C', () => {
  const big: Array<[string, SoftmaxCaseConfig, tf.Reduction | undefined, boolean]> = [
    ['N 4096 x C 10, rank 3, sparse, ignoreIndex, MEAN',
      { name: 'big-n', labels: 'sparse', rows: 4096, classes: 10, rank: 3, gamma: 2, ignoreIndex: 255, weights: 'full' }, tf.Reduction.MEAN, true],
    ['N 32 x C 1000, soft labels, per-class alpha, SUM',
      { name: 'big-c', labels: 'soft', rows: 32, classes: 1000, rank: 2, gamma: 0.5, alpha: 'perClass', labelSmoothing: 0.1 }, tf.Reduction.SUM, true],
    // (N 4096 x C 1000 together is in the values suite; a tf.grad over 4M elements alone takes
    // seconds on this 2-core machine, so the gradient suite keeps the product at 1M.)
    ['N 4096 x C 256, rank 4, sparse, default reduction',
      { name: 'big-both', labels: 'sparse', rows: 4096, classes: 256, rank: 4, gamma: 2, alpha: 0.25 }, undefined, false],
  ];
  test.each(big)('%s', (_name, config, reduction, composed) => {
    checkGradients(buildSoftmaxCase(config, 91), reduction, { composed, fdSamples: 40 });
  });
});

describe('gamma = 0 reproduces tf.losses.softmaxCrossEntropy (gradient)', () => {
  const cases: Array<[string, number[], number, boolean, boolean]> = [
    ['one-hot rank 3', [5, 8, 6], 0, false, false],
    ['sparse labels rank 3, weights', [5, 8, 6], 0, true, true],
    ['one-hot, label smoothing 0.2, weights', [40, 6], 0.2, false, true],
  ];
  for (const [name, shape, ls, sparseLabels, withWeights] of cases) {
    for (const [reductionName, reduction] of REDUCTIONS) {
      test(`${name} | ${reductionName}`, () => {
        const rng = new Rng(77 + (reduction ?? 9));
        const classes = shape[shape.length - 1];
        const lossShape = shape.slice(0, -1);
        const rows = lossShape.reduce((a, b) => a * b, 1);
        const logits = rng.float32Normal(rows * classes, 3);
        const indices = rng.sparseLabels(rows, classes);
        const oneHot = rng.oneHot(indices, classes);
        const weightValues = rng.float32Uniform(rows, 0, 2);
        const [ours, theirs] = tf.tidy(() => {
          const w = withWeights ? tf.tensor(weightValues, lossShape) : undefined;
          const labels = sparseLabels ? tf.tensor(indices, lossShape, 'int32') : tf.tensor(oneHot, shape);
          const options: Record<string, unknown> = { gamma: 0, alpha: 1, labelSmoothing: ls };
          if (w) options.weights = w;
          if (reduction !== undefined) options.reduction = reduction;
          const z = tf.tensor(logits, shape);
          return [
            tf.grad((x: tf.Tensor) => focalLoss(labels, x, options))(z).dataSync(),
            tf.grad((x: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.tensor(oneHot, shape), x, w, ls, reduction))(z).dataSync(),
          ];
        });
        expectGradientClose('d focalLoss(gamma 0, alpha 1) vs d softmaxCrossEntropy', ours, theirs, GRAD_TOL);
      });
    }
  }
});

describe('extreme logits (|z| up to 1e4): finite gradients that match the reference', () => {
  const configs: Array<[string, number, number | number[], number, boolean, number]> = [
    ['gamma 0.5, sparse (p_t -> 1)', 0.5, 0.25, 0, false, 8],
    ['gamma 0.5, one-hot, label smoothing 0.1', 0.5, 0.25, 0.1, true, 8],
    ['gamma 2, per-class alpha', 2, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], 0, false, 8],
    ['gamma 0', 0, 1, 0, true, 8],
    // (jest passes a done callback for a missing trailing argument, so every row names its classes)
    // 37 classes: a SIMD body plus a tail per row, with the extreme values in both
    ['gamma 0.5, sparse, 37 classes', 0.5, 0.25, 0, false, 37],
    ['gamma 0.5, one-hot, smoothing 0.05, 37 classes', 0.5, 0.25, 0.05, true, 37],
  ];
  test.each(configs)('%s', (name, gamma, alpha, labelSmoothing, dense, classCount) => {
    const rows = 60;
    const classes = classCount;
    const { logits, labels } = extremeLogits(rows, classes, 32);
    const oneHot = new Rng(0).oneHot(labels, classes);
    const reference = softmaxFocalRows(logits, rows, classes,
      dense ? { kind: 'dense', values: oneHot } : { kind: 'sparse', values: labels }, { gamma, alpha, labelSmoothing });
    expectAllFinite('reference gradient', reference.grad);
    for (const reduction of [tf.Reduction.SUM, tf.Reduction.NONE]) {
      const got = tf.tidy(() => {
        const y = dense ? tf.tensor2d(oneHot, [rows, classes]) : tf.tensor1d(labels, 'int32');
        return tf.grad((z: tf.Tensor) => focalLoss(y, z, { gamma, alpha, labelSmoothing, reduction }))(
          tf.tensor2d(logits, [rows, classes])).dataSync();
      });
      expectAllFinite(`focalLoss gradient (${name})`, got);
      expectGradientClose(`focalLoss gradient (${name}, reduction ${reduction})`, got, reference.grad, GRAD_TOL);
      // rows where p_t = 1 exactly (every 6th): without smoothing the gradient's limit there is 0
      if (labelSmoothing === 0) {
        for (let i = 0; i < rows; i += 6) {
          const row = Array.from(got.subarray(i * classes, (i + 1) * classes));
          if (maxAbs(row) > GRAD_TOL * maxAbs(reference.grad)) throw new Error(`row ${i} (p_t = 1): gradient [${row}] should be 0`);
        }
      }
    }
  });
});

describe('gradient with respect to dense labels', () => {
  test.each([
    ['logits, one-hot, smoothing 0.1, per-class alpha', true, 0.1, [0.5, 1, 1.5, 2, 0.25]],
    ['logits, soft labels, gamma 0.5', true, 0, 0.25],
    ['probabilities, soft labels, smoothing 0.2', false, 0.2, 0.6],
  ] as Array<[string, boolean, number, number | number[]]>)('%s', (_name, fromLogits, labelSmoothing, alpha) => {
    const rng = new Rng(11);
    const rows = 24;
    const classes = 5;
    const input = fromLogits ? rng.float32Normal(rows * classes, 2) : rng.float32Uniform(rows * classes, 0.05, 1);
    const soft = rng.softLabels(rows, classes);
    const gamma = _name.includes('gamma 0.5') ? 0.5 : 2;
    const options = { gamma, alpha, labelSmoothing, fromLogits, reduction: tf.Reduction.SUM };
    const [ours, composed] = tf.tidy(() => {
      const z = tf.tensor2d(input, [rows, classes]);
      const y = tf.tensor2d(soft, [rows, classes]);
      return [
        tf.grad((labels: tf.Tensor) => focalLoss(labels, z, options))(y).dataSync(),
        tf.grad((labels: tf.Tensor) => composedFocalLoss(labels, z, options))(y).dataSync(),
      ];
    });
    const expected = softmaxFocalLabelGradient(input, rows, classes, { gamma, alpha, labelSmoothing, fromLogits });
    expectGradientClose('d focalLoss / d labels vs float64 analytic', ours, expected, GRAD_TOL);
    expectGradientClose('d focalLoss / d labels vs composed tfjs autodiff', ours, composed, GRAD_TOL);
  });
});
