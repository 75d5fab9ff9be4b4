// classBalancedAlpha: the two weightings against values worked out by hand, the normalization
// (weights average 1 over the classes present), the documented zero-count rule, counting from
// label tensors, every error, and a class-weighted focalLoss (value and gradient) against a
// float64 reference written here.
import * as tf from '@tensorflow/tfjs-core';

import {classBalancedAlpha, focalLoss} from '../lib';

function expectCloseArray(actual: number[], expected: number[], rtol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const tolerance = rtol * Math.max(1e-300, Math.abs(expected[i]));
    if (!(Math.abs(a - expected[i]) <= tolerance)) {
      throw new Error(`[${i}]: got ${a}, expected ${expected[i]}`);
    }
  });
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe("method 'inverse'", () => {
  test('n_max / n_c, normalized to average 1: hand-computed values', () => {
    // counts 10, 100, 50 -> n_max / n_c = 10, 1, 2 (sum 13) -> times 3 / 13.
    const alpha = classBalancedAlpha([10, 100, 50], {method: 'inverse'});
    expectCloseArray(alpha, [30 / 13, 3 / 13, 6 / 13]);
    expectCloseArray(alpha, [2.307692307692308, 0.23076923076923075, 0.4615384615384615], 1e-15);
    expect(mean(alpha)).toBeCloseTo(1, 14);
  });

  test('depends only on the class proportions', () => {
    const counts = [3, 17, 250, 1];
    const scaled = counts.map((n) => n * 7);
    expectCloseArray(classBalancedAlpha(scaled, {method: 'inverse'}),
                     classBalancedAlpha(counts, {method: 'inverse'}), 1e-14);
  });

  test('equal counts give equal weights of exactly 1', () => {
    expect(classBalancedAlpha([5, 5, 5, 5], {method: 'inverse'})).toEqual([1, 1, 1, 1]);
    expect(classBalancedAlpha([42], {method: 'inverse'})).toEqual([1]);
  });
});

describe("method 'effective' (Cui et al. 2019)", () => {
  test('(1 - beta) / (1 - beta^n_c), normalized to average 1: hand-computed values', () => {
    // beta 0.999: 1 - beta^10 = 0.0099551198..., 1 - beta^100 = 0.0952078..., 1 - beta^1000 =
    // 0.6323046...; raw weights 0.10045082541, 0.01050333528, 0.00158151631; times 3 / their sum.
    const alpha = classBalancedAlpha([10, 100, 1000], {method: 'effective', beta: 0.999});
    expectCloseArray(alpha, [2.6778394573384077, 0.2800001446173263, 0.042160398044265884], 1e-12);
    expect(mean(alpha)).toBeCloseTo(1, 14);
  });

  test('beta defaults to 0.999', () => {
    expect(classBalancedAlpha([10, 100, 1000], {method: 'effective'}))
        .toEqual(classBalancedAlpha([10, 100, 1000], {method: 'effective', beta: 0.999}));
  });

  test('matches the formula written with Math.pow for several betas', () => {
    const counts = [1, 2, 7, 40, 300, 5000];
    for (const beta of [0.5, 0.9, 0.99, 0.9999]) {
      const raw = counts.map((n) => (1 - beta) / (1 - Math.pow(beta, n)));
      const total = raw.reduce((a, b) => a + b, 0);
      expectCloseArray(classBalancedAlpha(counts, {method: 'effective', beta}),
                       raw.map((w) => (w * counts.length) / total), 1e-9);
    }
  });

  test('beta = 0 gives equal weights; beta -> 1 approaches inverse frequency', () => {
    expectCloseArray(classBalancedAlpha([1, 10, 1000], {method: 'effective', beta: 0}), [1, 1, 1]);
    const nearOne = classBalancedAlpha([1, 10, 1000], {method: 'effective', beta: 1 - 1e-9});
    expectCloseArray(nearOne, classBalancedAlpha([1, 10, 1000], {method: 'inverse'}), 1e-5);
  });
});

describe('classes with count 0 (documented: weight 0, normalization over the classes present)', () => {
  test('inverse', () => {
    // present: 10 and 30 -> n_max / n_c = 3 and 1 -> times 2 / 4.
    expectCloseArray(classBalancedAlpha([0, 10, 30], {method: 'inverse'}), [0, 1.5, 0.5]);
  });

  test('effective', () => {
    const alpha = classBalancedAlpha([5, 0, 50, 0], {method: 'effective', beta: 0.9});
    expect(alpha[1]).toBe(0);
    expect(alpha[3]).toBe(0);
    expectCloseArray([alpha[0], alpha[2]], classBalancedAlpha([5, 50], {method: 'effective',
                                                                        beta: 0.9}));
    expect((alpha[0] + alpha[2]) / 2).toBeCloseTo(1, 14);
    expect(alpha.every(Number.isFinite)).toBe(true);
  });
});

describe('counting label tensors', () => {
  test('int32 class indices (any shape) are counted with numClasses', () => {
    const labels = tf.tensor2d([[0, 2, 2], [2, 1, 2]], undefined, 'int32');  // counts 1, 1, 4, 0
    expect(classBalancedAlpha(labels, {method: 'inverse', numClasses: 4}))
        .toEqual(classBalancedAlpha([1, 1, 4, 0], {method: 'inverse'}));
    labels.dispose();
  });

  test('float32 one-hot or soft labels are summed over all but the last axis', () => {
    const oneHot = tf.oneHot(tf.tensor1d([0, 1, 1, 1, 2, 1], 'int32'), 3).toFloat();
    expect(classBalancedAlpha(oneHot, {method: 'effective', beta: 0.99}))
        .toEqual(classBalancedAlpha([1, 4, 1], {method: 'effective', beta: 0.99}));
    const soft = tf.tensor3d([[[0.5, 0.5], [0.25, 0.75]], [[1, 0], [0, 1]]]);  // sums 1.75, 2.25
    expectCloseArray(classBalancedAlpha(soft, {method: 'inverse', numClasses: 2}),
                     classBalancedAlpha([1.75, 2.25], {method: 'inverse'}));
    tf.dispose([oneHot, soft]);
  });
});

describe('errors', () => {
  test('counts: empty, negative, non-finite, non-numeric, all zero', () => {
    expect(() => classBalancedAlpha([], {method: 'inverse'}))
        .toThrow(new RangeError('classBalancedAlpha: counts must have one entry per class ' +
                                '(at least one); received an empty array'));
    expect(() => classBalancedAlpha([3, -1], {method: 'inverse'}))
        .toThrow(/^classBalancedAlpha: counts\[1\] must be a finite number >= 0; received -1$/);
    expect(() => classBalancedAlpha([3, NaN], {method: 'effective'})).toThrow(RangeError);
    expect(() => classBalancedAlpha([3, Infinity], {method: 'effective'}))
        .toThrow(/counts\[1\] must be a finite number >= 0; received Infinity/);
    expect(() => classBalancedAlpha([3, '4' as unknown as number], {method: 'inverse'}))
        .toThrow(/counts\[1\] must be a finite number >= 0; received the string '4'/);
    expect(() => classBalancedAlpha([0, 0], {method: 'inverse'}))
        .toThrow(/at least one class with a count > 0; received all zeros \[0, 0\]/);
    expect(() => classBalancedAlpha('3,4' as unknown as number[], {method: 'inverse'}))
        .toThrow(/counts must be an array of per-class counts or a label tensor; received the string/);
  });

  test('options: method, beta, numClasses, unknown keys', () => {
    expect(() => classBalancedAlpha([1, 2], undefined as unknown as {method: 'inverse'}))
        .toThrow(/options.method must be 'inverse' or 'effective'; received no options/);
    expect(() => classBalancedAlpha([1, 2], {method: 'log' as 'inverse'}))
        .toThrow(new TypeError("classBalancedAlpha: options.method must be 'inverse' or " +
                               "'effective'; received the string 'log'"));
    for (const beta of [1, -0.1, NaN, 1.5]) {
      expect(() => classBalancedAlpha([1, 2], {method: 'effective', beta}))
          .toThrow(new RangeError(`classBalancedAlpha: options.beta must be a number in [0, 1); ` +
                                  `received ${beta}`));
    }
    expect(() => classBalancedAlpha([1, 2], {method: 'inverse', beta: 0.9}))
        .toThrow(/options.beta applies only to method 'effective'; received method 'inverse'/);
    expect(() => classBalancedAlpha([1, 2], {method: 'inverse', numClasses: 3}))
        .toThrow(/options.numClasses \(3\) must equal the length of counts; received 2 counts/);
    expect(() => classBalancedAlpha([1, 2], {method: 'inverse', numClasses: 1.5}))
        .toThrow(/options.numClasses must be an integer >= 1; received number 1.5/);
    expect(() => classBalancedAlpha([1, 2], {methd: 'inverse'} as unknown as {method: 'inverse'}))
        .toThrow(/unknown option 'methd' in options \(did you mean 'method'\?\)/);
  });

  test('label tensors: missing numClasses, out-of-range labels, ambiguous float vectors', () => {
    const labels = tf.tensor1d([0, 1, 3], 'int32');
    expect(() => classBalancedAlpha(labels, {method: 'inverse'}))
        .toThrow(/options.numClasses is required to count int32 class-index labels/);
    expect(() => classBalancedAlpha(labels, {method: 'inverse', numClasses: 3}))
        .toThrow(new RangeError('classBalancedAlpha: label 3 at flat index 2 is out of range ' +
                                '[0, 3) (options.numClasses = 3)'));
    const floatVector = tf.tensor1d([0, 1, 2]);
    expect(() => classBalancedAlpha(floatVector, {method: 'inverse'}))
        .toThrow(/float32 labels are counted as one-hot .* received shape \[3\] .*tf.cast\(labels, 'int32'\)/);
    const oneHot = tf.tensor2d([[1, 0], [0, 1]]);
    expect(() => classBalancedAlpha(oneHot, {method: 'inverse', numClasses: 3}))
        .toThrow(/options.numClasses \(3\) must equal the last axis of the one-hot labels/);
    const negative = tf.tensor2d([[1, -1], [0, 1]]);
    expect(() => classBalancedAlpha(negative, {method: 'inverse'}))
        .toThrow(/one-hot \/ soft labels must be finite and >= 0; received -1 at flat index 1/);
    const disposed = tf.tensor1d([0], 'int32');
    disposed.dispose();
    expect(() => classBalancedAlpha(disposed, {method: 'inverse', numClasses: 2}))
        .toThrow(/counts must be a live tf.Tensor/);
    tf.dispose([labels, floatVector, oneHot, negative]);
  });
});

/** float64 sparse softmax focal loss with per-class alpha: mean value and its logits gradient. */
function referenceWeightedFocal(logits: number[][], labels: number[], alpha: number[],
                                gamma: number): {loss: number; grad: number[][]} {
  const n = logits.length;
  let total = 0;
  const grad = logits.map((row, i) => {
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0)) + max;
    const logP = row.map((z) => z - logSum);
    const p = logP.map(Math.exp);
    const t = labels[i];
    const oneMinusPt = -Math.expm1(logP[t]);
    total += -alpha[t] * Math.pow(oneMinusPt, gamma) * logP[t];
    // DESIGN.md: dL/dz_j = c (delta_jt - p_j),
    // c = alpha_t [gamma (1 - p_t)^(gamma - 1) p_t log p_t - (1 - p_t)^gamma].
    const c = alpha[t] * (gamma * Math.pow(oneMinusPt, gamma - 1) * p[t] * logP[t] -
                          Math.pow(oneMinusPt, gamma));
    return p.map((pj, j) => (c * ((j === t ? 1 : 0) - pj)) / n);
  });
  return {loss: total / n, grad};
}

describe('class-weighted focalLoss', () => {
  test('alpha from classBalancedAlpha weights each row by its class (value and gradient)', () => {
    const counts = [900, 90, 10];
    const alpha = classBalancedAlpha(counts, {method: 'effective', beta: 0.99});
    const logitRows = [[2.5, -1, 0.3], [0.2, 1.7, -0.4], [-1.2, 0.1, 0.8], [3, 2.9, -2],
                       [0.5, 0.5, 0.5], [-2, 4, 1]];
    const labelValues = [0, 1, 2, 1, 2, 0];
    const reference = referenceWeightedFocal(logitRows, labelValues, alpha, 2);

    const logits = tf.tensor2d(logitRows);
    const labels = tf.tensor1d(labelValues, 'int32');
    const {value, grads} = tf.valueAndGrads(
        (z: tf.Tensor) => focalLoss(labels, z, {alpha, gamma: 2}))([logits]);
    expect(Math.abs(value.dataSync()[0] - reference.loss)).toBeLessThan(2e-6 * reference.loss);
    const got = grads[0].arraySync() as number[][];
    const scale = Math.max(...reference.grad.flat().map(Math.abs));
    reference.grad.forEach((row, i) => row.forEach((g, j) => {
      expect(Math.abs(got[i][j] - g)).toBeLessThan(1e-5 * scale);
    }));

    // The same weights through dense one-hot labels give the same loss.
    const dense = focalLoss(tf.oneHot(labels, 3).toFloat(), logits, {alpha, gamma: 2});
    expect(Math.abs(dense.dataSync()[0] - reference.loss)).toBeLessThan(2e-6 * reference.loss);

    // Rare classes weigh more: the reference with uniform alpha differs.
    const uniform = referenceWeightedFocal(logitRows, labelValues, [1, 1, 1], 2);
    expect(Math.abs(uniform.loss - reference.loss)).toBeGreaterThan(1e-3);
    tf.dispose([logits, labels, value, ...grads, dense]);
  });
});
