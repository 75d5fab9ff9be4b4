// Second derivatives (tf.grad of tf.grad: Hessian-vector products, gradient penalties, mixed
// derivatives in the labels), and a third, of every loss and Keras-style object, on the native path of the
// backend under test and on the composite (@tensorflow/tfjs-backend-wasm), against central
// differences of the independent float64 reference gradients (test/family_reference.ts,
// test/reference.ts). The fused kernels give first derivatives only: inside a gradient that is
// itself differentiated the losses run as the composite (lib/losses/run.ts), whose tfjs ops are
// made differentiable twice by lib/paths/composite_ops.ts.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {asymmetricCrossentropy, asymmetricLoss, binaryFocalCrossentropy, categoricalFocalCrossentropy, focalLoss, nativeStatus, qualityFocalCrossentropy, qualityFocalLoss, sigmoidFocalLoss, sparseCategoricalFocalCrossentropy, varifocalCrossentropy, varifocalLoss} from '../lib';
import {SoftmaxFocalLoss} from '../lib/kernels/SoftmaxFocalLoss';
import {SigmoidElementwiseLoss} from '../lib/kernels/SigmoidElementwiseLoss';
import {addon} from '../lib/native';
import * as ref from './family_reference';
import {expectGradientClose} from './numeric_helpers';
import {sigmoidFocalElement, softmaxFocalRows} from './reference';

const KERNEL_BACKEND = process.env.FOCAL_TEST_BACKEND ?? 'tensorflow';
const NATIVE_PATH = KERNEL_BACKEND === 'tensorflow' && process.env.TFJS_FOCAL_LOSS_TF_OPS !== '0' ?
    'tensorflow-op' : 'js-arrays';
const ROWS = 3;
const CLASSES = 4;
const N = ROWS * CLASSES;

function uniform(n: number, seed: number, lo: number, hi: number): number[] {
  let s = seed >>> 0;
  return Array.from({length: n}, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 4294967296);
  });
}

const LOGITS = uniform(N, 1, -3, 3);
const PROBABILITIES = uniform(N, 2, 0.1, 0.9);
const DIRECTION = uniform(N, 3, -1, 1);
const SOFT = uniform(N, 4, 0.05, 0.95);
/** Soft targets with exact 0s and 1s (varifocal's negatives, hard positives). */
const MIXED = SOFT.map((q, i) => (i % 4 === 1 ? 0 : i % 5 === 2 ? 1 : q));
const HARD = uniform(N, 5, 0, 1).map(Math.round);
const SPARSE = [2, 0, 3];
const COUNTS = [5, 40, 12, 3];

type Gradient = (x: number[], labels: number[]) => number[];

/** The float64 gradient of an elementwise loss, summed, times `scale`. */
const elementwise = (f: (x: number, y: number) => number, scale = 1): Gradient =>
  (x, y) => x.map((xi, i) => scale * f(xi, y[i]));

/** The float64 gradient of a softmax loss given one row at a time, summed over the rows. */
const rowwise = (f: (row: number[], r: number) => ArrayLike<number>): Gradient => (x) => {
  const out: number[] = [];
  for (let r = 0; r < ROWS; r++) out.push(...Array.from(f(x.slice(r * CLASSES, (r + 1) * CLASSES), r)));
  return out;
};

interface Case {
  name: string;
  /** The summed loss, as the user calls it. */
  loss: (labels: tf.Tensor, x: tf.Tensor) => tf.Tensor;
  labels: number[];
  labelsDtype?: 'int32';
  /** Where the second derivative is taken: logits (default) or probabilities. */
  inputs?: number[];
  gradient: Gradient;
  /** Whether the loss is smooth in the labels there (the mixed derivative is checked). */
  mixed?: boolean;
}

const SUM = {reduction: tf.Reduction.SUM};
const shape = [ROWS, CLASSES];

const CASES: Case[] = [
  {name: 'focalLoss sparse', loss: (y, x) => focalLoss(y, x, SUM), labels: SPARSE, labelsDtype: 'int32',
   gradient: rowwise((row, r) => ref.polySoftmaxFocal(row, SPARSE[r], {gamma: 2, alpha: 0.25}).grad)},
  {name: 'focalLoss dense, gamma 0.5, per-class alpha, Poly-1, label smoothing',
   loss: (y, x) => focalLoss(y, x, {...SUM, gamma: 0.5, alpha: [0.5, 1, 2, 0.25], polyEpsilon: 1, labelSmoothing: 0.1}),
   labels: SOFT, mixed: true,
   gradient: (x, y) => rowwise((row, r) => ref.polySoftmaxFocal(row, y.slice(r * CLASSES, (r + 1) * CLASSES),
                                                               {gamma: 0.5, alpha: [0.5, 1, 2, 0.25], polyEpsilon: 1, labelSmoothing: 0.1}).grad)(x, y)},
  {name: 'focalLoss logitAdjustment', loss: (y, x) => focalLoss(y, x, {...SUM, logitAdjustment: {classCounts: COUNTS}}),
   labels: SPARSE, labelsDtype: 'int32',
   gradient: rowwise((row, r) => ref.logitAdjustedFocal(row, SPARSE[r], {gamma: 2, alpha: 0.25, logitAdjustment: {classCounts: COUNTS}}).grad)},
  {name: 'focalLoss ignoreIndex', loss: (y, x) => focalLoss(y, x, {...SUM, ignoreIndex: 0}), labels: SPARSE, labelsDtype: 'int32',
   gradient: rowwise((row, r) => ref.polySoftmaxFocal(row, SPARSE[r], {gamma: 2, alpha: 0.25, ignoreIndex: 0}).grad)},
  {name: 'focalLoss fromLogits false', loss: (y, x) => focalLoss(y, x, {...SUM, fromLogits: false}), labels: SPARSE,
   labelsDtype: 'int32', inputs: PROBABILITIES,
   gradient: (x) => Array.from(softmaxFocalRows(x, ROWS, CLASSES, {kind: 'sparse', values: SPARSE},
                                                {gamma: 2, alpha: 0.25, fromLogits: false}).grad)},
  {name: 'sigmoidFocalLoss, Poly-1, label smoothing',
   loss: (y, x) => sigmoidFocalLoss(y, x, {...SUM, polyEpsilon: 1, labelSmoothing: 0.1}), labels: SOFT, mixed: true,
   gradient: elementwise((x, y) => ref.polySigmoidFocal(x, y, {gamma: 2, alpha: 0.25, polyEpsilon: 1, labelSmoothing: 0.1}).grad)},
  {name: 'sigmoidFocalLoss gamma 0.5 without balancing', loss: (y, x) => sigmoidFocalLoss(y, x, {...SUM, gamma: 0.5, alpha: null}),
   labels: HARD, gradient: elementwise((x, y) => ref.polySigmoidFocal(x, y, {gamma: 0.5, alpha: null}).grad)},
  {name: 'sigmoidFocalLoss fromLogits false', loss: (y, x) => sigmoidFocalLoss(y, x, {...SUM, fromLogits: false}),
   labels: SOFT, inputs: PROBABILITIES,
   gradient: elementwise((x, y) => sigmoidFocalElement(x, y, {gamma: 2, alpha: 0.25, fromLogits: false})[1])},
  {name: 'varifocalLoss', loss: (y, x) => varifocalLoss(y, x, SUM), labels: MIXED,
   gradient: elementwise((x, q) => ref.varifocal(x, q, {alpha: 0.75, gamma: 2}).grad)},
  {name: 'varifocalLoss iouWeighted false, soft targets', loss: (y, x) => varifocalLoss(y, x, {...SUM, iouWeighted: false}),
   labels: SOFT, mixed: true, gradient: elementwise((x, q) => ref.varifocal(x, q, {alpha: 0.75, gamma: 2, iouWeighted: false}).grad)},
  {name: 'qualityFocalLoss', loss: (y, x) => qualityFocalLoss(y, x, SUM), labels: MIXED,
   gradient: elementwise((x, q) => ref.qualityFocal(x, q, {beta: 2}).grad)},
  {name: 'qualityFocalLoss beta 0.5', loss: (y, x) => qualityFocalLoss(y, x, {...SUM, beta: 0.5}), labels: SOFT, mixed: true,
   gradient: elementwise((x, q) => ref.qualityFocal(x, q, {beta: 0.5}).grad)},
  {name: 'asymmetricLoss', loss: (y, x) => asymmetricLoss(y, x, {...SUM, gammaPos: 1}), labels: SOFT, mixed: true,
   gradient: elementwise((x, y) => ref.asymmetric(x, y, {gammaPos: 1, gammaNeg: 4, clip: 0.05}).grad)},
  {name: 'asymmetricLoss clip 0', loss: (y, x) => asymmetricLoss(y, x, {...SUM, clip: 0}), labels: HARD,
   gradient: elementwise((x, y) => ref.asymmetric(x, y, {gammaPos: 0, gammaNeg: 4, clip: 0}).grad)},
  {name: 'binaryFocalCrossentropy', loss: (y, x) => tf.sum(binaryFocalCrossentropy({fromLogits: true})(y, x)),
   labels: SOFT, gradient: elementwise((x, y) => ref.polySigmoidFocal(x, y, {gamma: 2, alpha: null}).grad, 1 / CLASSES)},
  {name: 'categoricalFocalCrossentropy (probabilities)', loss: (y, x) => tf.sum(categoricalFocalCrossentropy()(y, x)),
   labels: SOFT, inputs: PROBABILITIES,
   gradient: (x, y) => Array.from(softmaxFocalRows(x, ROWS, CLASSES, {kind: 'dense', values: y},
                                                   {gamma: 2, alpha: 0.25, fromLogits: false}).grad)},
  {name: 'sparseCategoricalFocalCrossentropy', loss: (y, x) => tf.sum(sparseCategoricalFocalCrossentropy({fromLogits: true})(y, x)),
   labels: SPARSE, labelsDtype: 'int32',
   gradient: rowwise((row, r) => ref.polySoftmaxFocal(row, SPARSE[r], {gamma: 2, alpha: 0.25}).grad)},
  {name: 'varifocalCrossentropy', loss: (y, x) => tf.sum(varifocalCrossentropy()(y, x)), labels: MIXED,
   gradient: elementwise((x, q) => ref.varifocal(x, q, {alpha: 0.75, gamma: 2}).grad, 1 / CLASSES)},
  {name: 'qualityFocalCrossentropy', loss: (y, x) => tf.sum(qualityFocalCrossentropy()(y, x)), labels: SOFT,
   gradient: elementwise((x, q) => ref.qualityFocal(x, q, {beta: 2}).grad, 1 / CLASSES)},
  {name: 'asymmetricCrossentropy', loss: (y, x) => tf.sum(asymmetricCrossentropy()(y, x)), labels: HARD,
   gradient: elementwise((x, y) => ref.asymmetric(x, y, {gammaPos: 0, gammaNeg: 4, clip: 0.05}).grad, 1 / CLASSES)},
];

const H = 1e-6;
const dot = (a: number[], b: number[]) => a.reduce((s, ai, i) => s + ai * b[i], 0);
const step = (a: number[], i: number | null, h: number, dir = DIRECTION) =>
  a.map((ai, j) => (i === null ? ai + h * dir[j] : j === i ? ai + h : ai));

/** H v: the central difference of the float64 gradient along v. */
function referenceHessianVector(c: Case, x: number[]): number[] {
  const plus = c.gradient(step(x, null, H), c.labels);
  const minus = c.gradient(step(x, null, -H), c.labels);
  return plus.map((p, i) => (p - minus[i]) / (2 * H));
}

/** T[v, v]: the second central difference of the float64 gradient along v. */
function referenceThirdDerivative(c: Case, x: number[]): number[] {
  const h = 1e-4;
  const plus = c.gradient(step(x, null, h), c.labels);
  const mid = c.gradient(x, c.labels);
  const minus = c.gradient(step(x, null, -h), c.labels);
  return plus.map((p, i) => (p - 2 * mid[i] + minus[i]) / (h * h));
}

/** d/dlabels of v . dL/dx, by central differences in each label. */
function referenceMixed(c: Case, x: number[]): number[] {
  return c.labels.map((_, i) => (dot(c.gradient(x, step(c.labels, i, H)), DIRECTION) -
                                 dot(c.gradient(x, step(c.labels, i, -H)), DIRECTION)) / (2 * H));
}

/** tf.grad of v . tf.grad(loss), in the inputs and (mixed) in the labels. */
function secondDerivatives(c: Case, x0: number[]): {hv: Float32Array, mixed: Float32Array | null} {
  let out!: {hv: Float32Array, mixed: Float32Array | null};
  tf.tidy(() => {
    const x = tf.tensor(x0, shape);
    const labels = c.labelsDtype === 'int32' ? tf.tensor1d(c.labels, 'int32') : tf.tensor(c.labels, shape);
    const v = tf.tensor(DIRECTION, shape);
    const penalty = (y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.grad((w: tf.Tensor) => c.loss(y, w))(z), v));
    const hv = tf.grad((z: tf.Tensor) => penalty(labels, z))(x).dataSync() as Float32Array;
    const mixed = c.mixed ? tf.grad((y: tf.Tensor) => penalty(y, x))(labels).dataSync() as Float32Array : null;
    out = {hv: Float32Array.from(hv), mixed: mixed && Float32Array.from(mixed)};
  });
  return out;
}

/** tf.grad of v . (H v): the third derivative along v twice. */
function thirdDerivative(c: Case, x0: number[]): Float32Array {
  return tf.tidy(() => {
    const labels = c.labelsDtype === 'int32' ? tf.tensor1d(c.labels, 'int32') : tf.tensor(c.labels, shape);
    const v = tf.tensor(DIRECTION, shape);
    const along = (f: (z: tf.Tensor) => tf.Tensor) => (z: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(z), v));
    const t = tf.grad(along(along((w: tf.Tensor) => c.loss(labels, w))))(tf.tensor(x0, shape));
    return Float32Array.from(t.dataSync() as Float32Array);
  });
}

describe.each([[KERNEL_BACKEND], ['wasm']])('second derivatives on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend(KERNEL_BACKEND);
  });

  test('the path under test', () => {
    expect(nativeStatus().path).toBe(backend === 'wasm' ? 'composite' : NATIVE_PATH);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s: H v (and the mixed derivative in the labels) match float64 differences', (name, c) => {
    const x = c.inputs ?? LOGITS;
    const {hv, mixed} = secondDerivatives(c, x);
    const expected = referenceHessianVector(c, x);
    expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(1e-3);  // a test that can fail
    expectGradientClose(`${name} on ${backend}: H v`, hv, expected, 1e-4);
    if (c.mixed) {
      const expectedMixed = referenceMixed(c, x);
      expect(Math.max(...expectedMixed.map(Math.abs))).toBeGreaterThan(1e-3);
      expectGradientClose(`${name} on ${backend}: d/dlabels (v . dL/dx)`, mixed!, expectedMixed, 1e-4);
    }
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s: a third derivative matches float64 differences', (name, c) => {
    const x = c.inputs ?? LOGITS;
    const expected = referenceThirdDerivative(c, x);
    expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(1e-3);
    expectGradientClose(`${name} on ${backend}: T[v, v]`, thirdDerivative(c, x), expected, 1e-4);
  });
});

describe('the fused kernels', () => {
  beforeAll(async () => {
    expect(await tf.setBackend(KERNEL_BACKEND)).toBe(true);
  });

  test('still compute every first-order gradient; only a gradient of a gradient runs the composite', () => {
    tf.tidy(() => {
      const x = tf.tensor(LOGITS, shape);
      const labels = tf.tensor1d(SPARSE, 'int32');
      const calls = addon().callCount();
      tf.grad((z: tf.Tensor) => focalLoss(labels, z))(x);
      tf.grad((z: tf.Tensor) => sigmoidFocalLoss(tf.tensor(SOFT, shape), z))(x);
      // tensorflow-op runs the kernel inside TensorFlow, where the addon's counter does not see it.
      if (nativeStatus().path === 'js-arrays') expect(addon().callCount()).toBeGreaterThan(calls);
      const afterFirstOrder = addon().callCount();
      tf.grad((z: tf.Tensor) => tf.sum(tf.grad((w: tf.Tensor) => focalLoss(labels, w))(z)))(x);
      expect(addon().callCount()).toBe(afterFirstOrder);
    });
  });

  test('a kernel called directly refuses a gradient of its gradient, naming the loss', () => {
    tf.tidy(() => {
      const x = tf.tensor(LOGITS, shape);
      const sparse = tf.tensor1d(SPARSE, 'int32');
      const soft = tf.tensor(SOFT, shape);
      const kernel = (name: string, labels: tf.Tensor, attrs: object) => (z: tf.Tensor) =>
        tf.sum(tf.engine().runKernel(name, {labels, logits: z}, attrs as tf.NamedAttrMap) as tf.Tensor);
      const twice = (f: (z: tf.Tensor) => tf.Tensor) => () =>
        tf.grad((z: tf.Tensor) => tf.sum(tf.grad(f)(z)))(x);
      const softmax = {gamma: 2, alpha: 0.25, labelSmoothing: 0, ignoreIndex: null, fromLogits: true};
      const sigmoid = {gamma: 2, alpha: 0.25, labelSmoothing: 0, fromLogits: true};
      expect(twice(kernel(SoftmaxFocalLoss, sparse, softmax))).toThrow(/^focalLoss: second-order gradients .* are not supported/);
      expect(twice(kernel(SigmoidElementwiseLoss, soft, sigmoid))).toThrow(/^sigmoidFocalLoss: second-order gradients .* are not supported/);
      expect(twice(kernel(SigmoidElementwiseLoss, soft, {...sigmoid, loss: 'varifocal'})))
          .toThrow(/^varifocalLoss: second-order gradients .* are not supported/);
    });
  });
});
