// Checks of the test oracles themselves, independent of the library: the float64 reference's
// analytic gradients against its own finite differences, the reference against Keras and
// torchvision numbers (fixtures), its reductions against tf.losses.computeWeightedLoss, and the
// composed-tfjs losses against the reference. If these fail, the library suites prove nothing.

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import './register_gradients';
import {
  KERAS_CLIP_FLOAT32,
  SigmoidFocalOptions,
  SoftmaxFocalOptions,
  SoftmaxLabels,
  Weights,
  centralDifferences,
  computeWeightedLoss,
  meanOverLastAxis,
  sigmoidFocalElement,
  sigmoidFocalElements,
  softmaxFocalRows,
  softmaxRowLossFunction,
} from './reference';
import { composedFocalLoss, composedSigmoidFocalLoss } from './composed';
import { Rng, expectAllClose, expectAllFinite, expectGradientClose, referenceReduction } from './numeric_helpers';

const FIXTURES = path.join(__dirname, 'fixtures');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON fixtures, read field by field
const readFixture = (name: string): { cases: any[] } => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
const flat = (x: unknown): number[] => (Array.isArray(x) ? (x as unknown[]).flatMap(flat) : [x as number]);

describe('float64 softmax focal reference: analytic gradient vs its own central differences', () => {
  const rows = 6;
  const classes = 5;
  const cases: Array<[string, SoftmaxFocalOptions, 'sparse' | 'onehot' | 'soft']> = [
    ['sparse gamma 2 alpha 0.25', { gamma: 2, alpha: 0.25 }, 'sparse'],
    ['sparse gamma 0', { gamma: 0, alpha: 1 }, 'sparse'],
    ['sparse gamma 0.5 per-class alpha', { gamma: 0.5, alpha: [0.1, 0.5, 1, 2, 0.3] }, 'sparse'],
    ['sparse label smoothing 0.2 gamma 3.5', { gamma: 3.5, alpha: 0.7, labelSmoothing: 0.2 }, 'sparse'],
    ['sparse ignoreIndex', { gamma: 2, alpha: 0.25, ignoreIndex: 3 }, 'sparse'],
    ['one-hot gamma 1', { gamma: 1, alpha: 0.4 }, 'onehot'],
    ['soft labels gamma 2 per-class alpha', { gamma: 2, alpha: [0.2, 0.4, 0.6, 0.8, 1] }, 'soft'],
    ['soft labels smoothing gamma 0.3', { gamma: 0.3, alpha: 0.25, labelSmoothing: 0.1 }, 'soft'],
    ['probabilities (Keras path) sparse', { gamma: 2, alpha: 0.25, fromLogits: false }, 'sparse'],
    ['probabilities (Keras path) soft, smoothing, gamma 0.7',
      { gamma: 0.7, alpha: [1, 2, 3, 4, 5], labelSmoothing: 0.3, fromLogits: false }, 'soft'],
  ];
  test.each(cases)('%s', (_name, options, labelKind) => {
    const rng = new Rng(1234);
    const input = options.fromLogits === false
      ? rng.float32Uniform(rows * classes, 0.05, 1)
      : rng.float32Normal(rows * classes, 2);
    const sparse = rng.sparseLabels(rows, classes);
    const labels: SoftmaxLabels = labelKind === 'sparse'
      ? { kind: 'sparse', values: sparse }
      : { kind: 'dense', values: labelKind === 'onehot' ? rng.oneHot(sparse, classes) : rng.softLabels(rows, classes) };
    const { grad } = softmaxFocalRows(input, rows, classes, labels, options);
    for (let i = 0; i < rows; i++) {
      const row = input.subarray(i * classes, (i + 1) * classes);
      const fd = centralDifferences(softmaxRowLossFunction(i, classes, labels, options), row,
        [0, 1, 2, 3, 4], (x) => (options.fromLogits === false ? 1e-6 : 1e-5 * Math.max(1, Math.abs(x))));
      expectGradientClose(`row ${i}`, grad.subarray(i * classes, (i + 1) * classes), fd, 1e-7, Math.max(1e-3, Math.max(...fd.map(Math.abs))));
    }
  });

  test('gamma 0, alpha 1 is exactly softmax cross-entropy (logsumexp(z) - z_t)', () => {
    const rng = new Rng(7);
    const z = rng.float32Normal(50 * 9, 4);
    const t = rng.sparseLabels(50, 9);
    const { loss } = softmaxFocalRows(z, 50, 9, { kind: 'sparse', values: t }, { gamma: 0, alpha: 1 });
    const ce = Array.from(t, (label, i) => {
      const row = Array.from(z.subarray(i * 9, i * 9 + 9));
      const m = Math.max(...row);
      return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[label];
    });
    expectAllClose('cross-entropy', loss, ce, 1e-13);
  });

  test('extreme logits (|z| up to 1e4, gamma 0.5): finite loss and gradient, right limits', () => {
    const z = Float32Array.from([1e4, -1e4, 0, 1e4, 1e4, -1e4, -1e4, 1e4, 0, 20, 0, 0]);
    const labels: SoftmaxLabels = { kind: 'sparse', values: [0, 0, 0, 0] };
    const { loss, grad } = softmaxFocalRows(z, 4, 3, labels, { gamma: 0.5, alpha: 0.25 });
    expectAllFinite('loss', loss);
    expectAllFinite('grad', grad);
    expect(loss[0]).toBe(0); // p_t = 1 to float64 precision
    expect(loss[1]).toBeCloseTo(0.25 * Math.SQRT1_2 * Math.LN2, 12); // two tied maxima: p_t = 1/2
    expect(loss[2]).toBeCloseTo(0.25 * 2e4, 6); // p_t = e^-2e4: -log p_t = 2e4, (1-p_t)^0.5 = 1
    // row 3: p_t -> 1 with 1 - p_t = 2e^-20; L ~ alpha (1-p_t)^1.5, gradient ~ -alpha 1.5 (1-p_t)^1.5
    const u = 2 * Math.exp(-20) / (1 + 2 * Math.exp(-20));
    expect(loss[3] / (0.25 * Math.pow(u, 0.5) * -Math.log1p(-u))).toBeCloseTo(1, 12);
    expect(grad[9] / (-0.25 * 1.5 * Math.pow(u, 1.5))).toBeCloseTo(1, 6);
  });
});

describe('float64 sigmoid focal reference: analytic gradient vs its own central differences', () => {
  const cases: Array<[string, SigmoidFocalOptions, 'hard' | 'soft']> = [
    ['torchvision default alpha 0.25 gamma 2', { gamma: 2, alpha: 0.25 }, 'hard'],
    ['no balancing (alpha null) gamma 0', { gamma: 0, alpha: null }, 'hard'],
    ['alpha -1 (off) gamma 0.5', { gamma: 0.5, alpha: -1 }, 'hard'],
    ['soft labels gamma 3.2 alpha 0.6', { gamma: 3.2, alpha: 0.6 }, 'soft'],
    ['label smoothing 0.1', { gamma: 2, alpha: 0.25, labelSmoothing: 0.1 }, 'hard'],
    ['probabilities (Keras) gamma 2', { gamma: 2, alpha: null, fromLogits: false }, 'hard'],
    ['probabilities (Keras) balanced smoothing soft gamma 1.5',
      { gamma: 1.5, alpha: 0.3, labelSmoothing: 0.2, fromLogits: false }, 'soft'],
  ];
  test.each(cases)('%s', (_name, options, labelKind) => {
    const rng = new Rng(99);
    const n = 64;
    const x = options.fromLogits === false ? rng.float32Uniform(n, 0.01, 0.99) : rng.float32Normal(n, 3);
    const y = labelKind === 'hard' ? Float32Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0)) : rng.float32Uniform(n, 0, 1);
    const { grad } = sigmoidFocalElements(x, y, options);
    const fd = Float64Array.from(x, (xi, i) =>
      centralDifferences((v) => sigmoidFocalElement(v[0], y[i], options)[0], [xi], [0],
        () => (options.fromLogits === false ? 1e-7 : 1e-5))[0]);
    expectGradientClose('sigmoid grad', grad, fd, 1e-7);
  });

  test('gamma 0 without balancing is BCE with logits; extreme logits stay finite', () => {
    const x = [-1e4, -50, -3, 0, 2.5, 60, 1e4];
    const y = [1, 0, 1, 0, 0.3, 1, 0];
    const { loss, grad } = sigmoidFocalElements(x, y, { gamma: 0, alpha: null });
    const bce = x.map((v, i) => Math.max(v, 0) - v * y[i] + Math.log1p(Math.exp(-Math.abs(v))));
    expectAllClose('bce', loss, bce, 1e-14);
    const extreme = sigmoidFocalElements(x, [1, 0, 1, 0, 1, 1, 1], { gamma: 0.5, alpha: 0.25 });
    expectAllFinite('loss', extreme.loss);
    expectAllFinite('grad', extreme.grad);
    expectAllFinite('grad gamma 0', grad);
  });
});

describe('reference reductions match tf.losses.computeWeightedLoss', () => {
  const shapes: Array<[number[], number[] | null]> = [
    [[12], null], [[12], [12]], [[12], []], [[3, 4], [3, 1]], [[3, 4], [1, 4]], [[2, 3, 4], [2, 1, 1]], [[2, 3, 4], [2, 3, 4]],
  ];
  const reductions = [tf.Reduction.NONE, tf.Reduction.SUM, tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS];
  for (const [lossShape, weightShape] of shapes) {
    for (const reduction of reductions) {
      test(`loss [${lossShape}], weights ${weightShape ? `[${weightShape}]` : 'none'}, ${tf.Reduction[reduction]}`, () => {
        const rng = new Rng(lossShape.length * 31 + reduction);
        const n = lossShape.reduce((a, b) => a * b, 1);
        const losses = rng.float32Uniform(n, 0, 3);
        let weights: Weights | null = null;
        if (weightShape) {
          const wn = weightShape.reduce((a, b) => a * b, 1);
          const values = rng.float32Uniform(wn, 0, 2);
          if (wn > 1) values[0] = 0; // a zero weight exercises SUM_BY_NONZERO_WEIGHTS' count
          weights = { values, shape: weightShape };
        }
        const got = tf.tidy(() => tf.losses.computeWeightedLoss(
          tf.tensor(losses, lossShape), weights ? tf.tensor(weights.values as Float32Array, weights.shape) : undefined, reduction).dataSync());
        const expected = computeWeightedLoss(losses, lossShape, weights, referenceReduction(reduction));
        expectAllClose('reduced loss', got, expected.value, 1e-6);
        // the coefficients are the gradient of sum(reduced) with respect to the losses
        // (l * 1: NONE without weights returns its input, which tf.grad cannot differentiate)
        const lossGrad = tf.tidy(() => tf.grad((l: tf.Tensor) => tf.losses.computeWeightedLoss(
          tf.mul(l, 1), weights ? tf.tensor(weights.values as Float32Array, weights.shape) : undefined, reduction))(tf.tensor(losses, lossShape)).dataSync());
        expectGradientClose('d reduced / d losses', lossGrad, expected.lossCoefficients, 1e-6);
      });
    }
  }
});

describe('float64 reference vs Keras and torchvision (fixtures)', () => {
  const categorical = readFixture('keras_categorical_focal.json');
  test.each(categorical.cases.map((c: { name: string }) => [c.name, c] as [string, any]))('Keras categorical %s', (_name, c) => {
    const shape: number[] = c.shape;
    const classes = shape[shape.length - 1];
    const rows = shape.reduce((a: number, b: number) => a * b, 1) / classes;
    // Keras turns a list alpha into a float32 tensor even when the loss runs in float64.
    const alpha = typeof c.options.alpha === 'number' ? c.options.alpha : c.options.alpha.map(Math.fround);
    const options: SoftmaxFocalOptions = {
      gamma: c.options.gamma, alpha, labelSmoothing: c.options.labelSmoothing, fromLogits: c.options.fromLogits,
    };
    const { loss } = softmaxFocalRows(flat(c.yPred), rows, classes, { kind: 'dense', values: flat(c.yTrue) }, options, false);
    // Keras clips softmax output even for from_logits=True; the reference (like the library) does not.
    expectAllClose(c.name, loss, flat(c.perSampleUnclipped ?? c.perSample), 1e-9);
    if (c.sparseLabels) {
      const sparse = softmaxFocalRows(flat(c.yPred), rows, classes, { kind: 'sparse', values: flat(c.sparseLabels) }, options, false);
      expectAllClose(`${c.name} (sparse labels)`, sparse.loss, loss, 1e-14);
    }
  });

  const binary = readFixture('keras_binary_focal.json');
  test.each(binary.cases.map((c: { name: string }) => [c.name, c] as [string, any]))('Keras binary %s', (_name, c) => {
    const shape: number[] = c.shape;
    const { loss } = sigmoidFocalElements(flat(c.yPred), flat(c.yTrue), {
      gamma: c.options.gamma,
      alpha: c.options.applyClassBalancing ? c.options.alpha : null,
      labelSmoothing: c.options.labelSmoothing,
      fromLogits: c.options.fromLogits,
    });
    expectAllClose(c.name, meanOverLastAxis(loss, shape[shape.length - 1]), flat(c.perSample), 1e-9);
    // and Keras' own float32 run, with the float32 clip bounds (Keras' float32 rounding elsewhere)
    const float32Keras = sigmoidFocalElements(flat(c.yPred), flat(c.yTrue), {
      gamma: c.options.gamma,
      alpha: c.options.applyClassBalancing ? c.options.alpha : null,
      labelSmoothing: c.options.labelSmoothing,
      fromLogits: c.options.fromLogits,
      clip: KERAS_CLIP_FLOAT32,
    });
    expectAllClose(`${c.name} (Keras float32)`, meanOverLastAxis(float32Keras.loss, shape[shape.length - 1]),
      flat(c.perSampleKerasFloat32), 1e-5);
  });

  const torchvision = readFixture('torchvision_sigmoid_focal.json');
  test.each(torchvision.cases.map((c: { name: string }) => [c.name, c] as [string, any]))('torchvision %s', (_name, c) => {
    const { loss } = sigmoidFocalElements(flat(c.logits), flat(c.targets), { gamma: c.options.gamma, alpha: c.options.alpha });
    // torchvision's own float64 value cancels for saturated logits; lossExact is its formula in
    // 60-digit arithmetic (see tools/gen_fixtures.py).
    expectAllClose(c.name, loss, flat(c.lossExact), 1e-12, 1e-300);
  });

  test('float32 Keras clip bound is 0.99999988, not 1 - 1e-7', () => {
    expect(KERAS_CLIP_FLOAT32.high).toBe(0.9999998807907104);
    expect(KERAS_CLIP_FLOAT32.low).toBe(Math.fround(1e-7));
  });
});

describe('composed tfjs losses (the autodiff oracle) agree with the float64 reference', () => {
  test.each([
    ['sparse, ignoreIndex, per-class alpha, MEAN', true],
    ['soft labels, smoothing, probabilities, SUM', false],
  ])('softmax: %s', (_name, sparseCase) => {
    const rng = new Rng(5);
    const rows = 40;
    const classes = 6;
    const fromLogits = sparseCase;
    const input = fromLogits ? rng.float32Normal(rows * classes, 2) : rng.float32Uniform(rows * classes, 0.05, 1);
    const sparse = rng.sparseLabels(rows, classes);
    const soft = rng.softLabels(rows, classes);
    const alpha = sparseCase ? [0.5, 1, 1.5, 0.25, 2, 0.75] : 0.25;
    const options = sparseCase
      ? { gamma: 1.5, alpha, ignoreIndex: 2, reduction: tf.Reduction.MEAN }
      : { gamma: 2.5, alpha, labelSmoothing: 0.1, fromLogits: false, reduction: tf.Reduction.SUM };
    const labelsTensor = () => (sparseCase ? tf.tensor1d(sparse, 'int32') : tf.tensor2d(soft, [rows, classes]));
    const [value, grad] = tf.tidy(() => {
      const f = (z: tf.Tensor) => composedFocalLoss(labelsTensor(), z, options);
      const x = tf.tensor2d(input, [rows, classes]);
      return [f(x).dataSync(), tf.grad(f)(x).dataSync()];
    });
    const ref = softmaxFocalRows(input, rows, classes, sparseCase ? { kind: 'sparse', values: sparse } : { kind: 'dense', values: soft }, options);
    const weights = sparseCase ? { values: Float64Array.from(ref.ignored, (v) => 1 - v), shape: [rows] } : null;
    const reduced = computeWeightedLoss(ref.loss, [rows], weights, referenceReduction(options.reduction));
    expectAllClose('value', value, reduced.value, 1e-5);
    const expectedGrad = ref.grad.map((g, k) => g * reduced.lossCoefficients[Math.floor(k / classes)]);
    expectGradientClose('gradient', grad, expectedGrad, 1e-5);
  });

  test('sigmoid, logits and probabilities', () => {
    const rng = new Rng(6);
    const n = 200;
    for (const fromLogits of [true, false]) {
      const x = fromLogits ? rng.float32Normal(n, 3) : rng.float32Uniform(n, 0.01, 0.99);
      const y = Float32Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
      const options = { gamma: 2, alpha: 0.25, labelSmoothing: 0.05, fromLogits, reduction: tf.Reduction.SUM };
      const [value, grad] = tf.tidy(() => {
        const f = (z: tf.Tensor) => composedSigmoidFocalLoss(tf.tensor1d(y), z, options);
        return [f(tf.tensor1d(x)).dataSync(), tf.grad(f)(tf.tensor1d(x)).dataSync()];
      });
      const ref = sigmoidFocalElements(x, y, options);
      expectAllClose(`value fromLogits=${fromLogits}`, value, [ref.loss.reduce((a, b) => a + b, 0)], 1e-5);
      expectGradientClose(`gradient fromLogits=${fromLogits}`, grad, ref.grad, 1e-5);
    }
  });
});
