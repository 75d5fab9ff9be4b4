// sigmoidFocalLoss against the float64 reference (values and gradients), central finite
// differences, tf.grad of the loss composed from tfjs ops, tf.losses.sigmoidCrossEntropy at
// gamma = 0, extreme logits, normalizeByPositives, and the labels gradient.

import * as tf from '@tensorflow/tfjs-core';
import './register_gradients';
import { sigmoidFocalLoss } from '../lib';
import {
  SigmoidFocalOptions,
  Weights,
  centralDifferences,
  computeWeightedLoss,
  sigmoidFocalElement,
  sigmoidFocalElements,
  sizeOf,
} from './reference';
import { composedSigmoidFocalLoss } from './composed';
import {
  Rng,
  expectAllClose,
  expectAllFinite,
  expectGradientClose,
  maxAbs,
  referenceReduction,
  sampleIndices,
  tidyRead,
} from './numeric_helpers';
import { REDUCTIONS } from './softmax_cases';

const VALUE_RTOL = 1e-5;
const GRAD_TOL = 1e-5;

type WeightKind = 'none' | 'full' | 'broadcast' | 'number';

interface SigmoidCaseConfig {
  name: string;
  gamma?: number;
  /** undefined: library default 0.25. */
  alpha?: number | null;
  labelSmoothing?: number;
  fromLogits?: boolean;
  softLabels?: boolean;
  logitScale?: number;
  shape?: number[];
  weights?: WeightKind;
}

interface SigmoidCase {
  config: SigmoidCaseConfig;
  shape: number[];
  input: Float32Array;
  labels: Float32Array;
  referenceOptions: SigmoidFocalOptions;
  weightValues: Float32Array | null;
  weightShape: number[] | null;
}

const SHAPE_CHOICES = [[1], [37], [8, 5], [64, 20], [3, 7, 11], [2, 4, 6, 9], [250, 3]];

function buildCase(config: SigmoidCaseConfig, seed: number): SigmoidCase {
  const rng = new Rng(seed);
  const shape = config.shape ?? rng.pick(SHAPE_CHOICES);
  const n = sizeOf(shape);
  const fromLogits = config.fromLogits ?? true;
  const input = fromLogits ? rng.float32Normal(n, config.logitScale ?? 3) : rng.float32Uniform(n, 0.005, 0.995);
  const labels = config.softLabels
    ? rng.float32Uniform(n, 0, 1)
    : Float32Array.from({ length: n }, () => (rng.next() < 0.25 ? 1 : 0));
  let weightShape: number[] | null = null;
  switch (config.weights ?? 'none') {
    case 'full':
      weightShape = shape;
      break;
    case 'broadcast':
      weightShape = shape.map((d, k) => (k === shape.length - 1 ? d : 1));
      break;
    case 'number':
      weightShape = [];
      break;
    default:
      break;
  }
  let weightValues: Float32Array | null = null;
  if (weightShape) {
    weightValues = rng.float32Uniform(sizeOf(weightShape), 0.1, 2);
    for (let i = 1; i < weightValues.length; i++) if (rng.next() < 0.1) weightValues[i] = 0;
  }
  const referenceOptions: SigmoidFocalOptions = {
    gamma: config.gamma ?? 2,
    alpha: config.alpha === undefined ? 0.25 : config.alpha,
    labelSmoothing: config.labelSmoothing ?? 0,
    fromLogits,
  };
  return { config, shape, input, labels, referenceOptions, weightValues, weightShape };
}

function libraryOptions(c: SigmoidCase, reduction: tf.Reduction | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = { ...extra };
  if (c.config.gamma !== undefined) o.gamma = c.config.gamma;
  if (c.config.alpha !== undefined) o.alpha = c.config.alpha;
  if (c.config.labelSmoothing !== undefined) o.labelSmoothing = c.config.labelSmoothing;
  if (c.config.fromLogits !== undefined) o.fromLogits = c.config.fromLogits;
  if (c.weightValues) {
    o.weights = c.config.weights === 'number' ? c.weightValues[0] : tf.tensor(c.weightValues, c.weightShape!);
  }
  if (reduction !== undefined) o.reduction = reduction;
  return o;
}

function describe_(c: SigmoidCase): string {
  return `shape [${c.shape}] gamma ${c.referenceOptions.gamma} alpha ${c.referenceOptions.alpha} ls ${
    c.referenceOptions.labelSmoothing} fromLogits ${c.referenceOptions.fromLogits} soft ${!!c.config.softLabels} weights ${
    c.config.weights ?? 'none'}`;
}

function referenceWeights(c: SigmoidCase): Weights | null {
  return c.weightValues ? { values: c.weightValues, shape: c.weightShape! } : null;
}

/** RetinaNet normalisation: sum of weighted losses / max(1, count(labels > 0)). */
function normalizedByPositives(c: SigmoidCase, loss: Float64Array): { value: number; coefficients: Float64Array } {
  const positives = c.labels.reduce((count, y) => count + (y > 0 ? 1 : 0), 0);
  const { value, lossCoefficients } = computeWeightedLoss(loss, c.shape, referenceWeights(c), 'sum');
  const divisor = Math.max(1, positives);
  return { value: value[0] / divisor, coefficients: lossCoefficients.map((k) => k / divisor) };
}

const OPTION_SETS: SigmoidCaseConfig[] = [
  { name: 'all defaults' },
  { name: 'gamma 0, alpha null (plain BCE)', gamma: 0, alpha: null },
  { name: 'torchvision alpha -1 (off), gamma 2', gamma: 2, alpha: -1 },
  { name: 'alpha 0.75 gamma 0.5', gamma: 0.5, alpha: 0.75 },
  { name: 'soft labels gamma 3.3 alpha 0.4', gamma: 3.3, alpha: 0.4, softLabels: true },
  { name: 'label smoothing 0.1 gamma 1', gamma: 1, alpha: 0.25, labelSmoothing: 0.1 },
  { name: 'probabilities (Keras) gamma 2 no balancing', gamma: 2, alpha: null, fromLogits: false },
  { name: 'probabilities (Keras) balanced, smoothing 0.2, soft labels', gamma: 1.5, alpha: 0.3, labelSmoothing: 0.2, fromLogits: false, softLabels: true },
  { name: 'confident logits (scale 15)', gamma: 2, alpha: 0.25, logitScale: 15 },
];
const WEIGHT_ROTATION: WeightKind[] = ['none', 'full', 'broadcast', 'number'];

function grid(): Array<[string, SigmoidCaseConfig, tf.Reduction | undefined, number]> {
  const out: Array<[string, SigmoidCaseConfig, tf.Reduction | undefined, number]> = [];
  OPTION_SETS.forEach((set, s) => REDUCTIONS.forEach(([reductionName, reduction], r) => {
    const weights = WEIGHT_ROTATION[(s + r) % WEIGHT_ROTATION.length];
    out.push([`${set.name} | ${reductionName} | weights ${weights}`, { ...set, weights }, reduction, 500 + 13 * s + r]);
  }));
  return out;
}

function stepFor(c: SigmoidCase): (x: number) => number {
  return c.referenceOptions.fromLogits === false ? () => 1e-7 : (x) => 1e-5 * Math.max(1, Math.abs(x));
}

function checkCase(c: SigmoidCase, reduction: tf.Reduction | undefined, options: { normalizeByPositives?: boolean; fdSamples?: number; composed?: boolean; gradient?: boolean } = {}): void {
  const what = `${describe_(c)}, reduction ${reduction}${options.normalizeByPositives ? ', normalizeByPositives' : ''}`;
  const extra = options.normalizeByPositives ? { normalizeByPositives: true } : {};
  const before = tf.memory().numTensors;
  const withGradient = options.gradient ?? true;
  const withComposed = withGradient && (options.composed ?? true);
  let valueShape: number[] = [];
  const [value, grad, composedGrad] = tidyRead(() => {
    const y = tf.tensor(c.labels, c.shape);
    const x = tf.tensor(c.input, c.shape);
    const o = libraryOptions(c, reduction, extra);
    const out = sigmoidFocalLoss(y, x, o);
    valueShape = out.shape;
    const composedOptions = { ...c.referenceOptions, weights: o.weights as tf.Tensor | number | undefined, reduction, ...extra };
    return [
      out,
      withGradient ? tf.grad((z: tf.Tensor) => sigmoidFocalLoss(y, z, o))(x) : null,
      withComposed ? tf.grad((z: tf.Tensor) => composedSigmoidFocalLoss(y, z, composedOptions))(x) : null,
    ];
  }) as [Float32Array, Float32Array | null, Float32Array | null];
  expect(tf.memory().numTensors).toBe(before);

  const reference = sigmoidFocalElements(c.input, c.labels, c.referenceOptions);
  let expectedValue: ArrayLike<number>;
  let coefficients: ArrayLike<number>;
  if (options.normalizeByPositives) {
    const r = normalizedByPositives(c, reference.loss);
    expectedValue = [r.value];
    coefficients = r.coefficients;
  } else {
    const r = computeWeightedLoss(reference.loss, c.shape, referenceWeights(c), referenceReduction(reduction));
    expectedValue = r.value;
    coefficients = r.lossCoefficients;
  }
  expect(valueShape).toEqual(reduction === tf.Reduction.NONE && !options.normalizeByPositives ? c.shape : []);
  expectAllClose(`sigmoidFocalLoss value (${what})`, value, expectedValue, VALUE_RTOL);
  if (!grad) return;

  const analytic = reference.grad.map((g, i) => g * coefficients[i]);
  const scale = maxAbs(analytic);
  const indices = sampleIndices(new Rng(c.input.length), c.input.length, options.fdSamples ?? 60);
  const fd = indices.map((i) => coefficients[i] * centralDifferences(
    (v) => sigmoidFocalElement(v[0], c.labels[i], c.referenceOptions)[0], [c.input[i]], [0], stepFor(c))[0]);
  expectGradientClose(`d sigmoidFocalLoss / d logits vs finite differences (${what})`, indices.map((i) => grad[i]), fd, GRAD_TOL, scale);
  if (composedGrad) {
    expectGradientClose(`d sigmoidFocalLoss / d logits vs composed tfjs autodiff (${what})`, grad, composedGrad, GRAD_TOL, maxAbs(composedGrad));
  }
  expectGradientClose(`d sigmoidFocalLoss / d logits vs float64 analytic (${what})`, grad, analytic, GRAD_TOL, scale);
}

describe('sigmoidFocalLoss: every option x every reduction (value, finite differences, composed autodiff)', () => {
  test.each(grid())('%s', (_name, config, reduction, seed) => {
    checkCase(buildCase(config, seed), reduction);
  });
});

describe('sigmoidFocalLoss: normalizeByPositives (RetinaNet)', () => {
  test.each([
    ['hard labels, weights', { name: 'n', gamma: 2, alpha: 0.25, weights: 'full' as WeightKind, shape: [32, 9] }, 1],
    ['soft labels, smoothing', { name: 'n', gamma: 2, alpha: 0.25, softLabels: true, labelSmoothing: 0.1, shape: [6, 40] }, 2],
    ['RetinaNet scale N 4096 x 80 anchors-by-classes', { name: 'n', gamma: 2, alpha: 0.25, shape: [4096, 80] }, 3],
  ] as Array<[string, SigmoidCaseConfig, number]>)('%s', (_name, config, seed) => {
    // the composed oracle over 330k elements costs seconds on the JS cpu backend; the small cases
    // cover it
    checkCase(buildCase(config, seed), undefined, { normalizeByPositives: true, composed: sizeOf(config.shape!) < 10000 });
  });

  test('no positive label: divided by 1, not 0', () => {
    const c = buildCase({ name: 'no positives', gamma: 2, alpha: 0.25, shape: [10, 4] }, 4);
    c.labels.fill(0);
    checkCase(c, undefined, { normalizeByPositives: true });
  });
});

describe('sigmoidFocalLoss at large N and C', () => {
  // tf.grad over 4M elements spends ~20 s in tfjs' own JS kernels on the cpu backend (reduction
  // backward, ones, dataSync) on this 2-core machine, so N 4096 x C 1000 is checked for values, and
  // the gradient at 4096 x 80 (above) and 16 x 1000 (here).
  test.each([
    ['N 4096 x C 1000, values, SUM_BY_NONZERO_WEIGHTS', [4096, 1000], tf.Reduction.SUM_BY_NONZERO_WEIGHTS, 'none', false],
    ['N 4096 x C 1000, values, NONE, full weights', [4096, 1000], tf.Reduction.NONE, 'full', false],
    ['16 x 1000, broadcast weights, MEAN, gradient', [16, 1000], tf.Reduction.MEAN, 'broadcast', true],
  ] as Array<[string, number[], tf.Reduction, WeightKind, boolean]>)('%s', (_name, shape, reduction, weights, gradient) => {
    checkCase(buildCase({ name: 'big', gamma: 2, alpha: 0.25, shape, weights }, 8), reduction, { fdSamples: 40, gradient });
  });
});

describe('gamma = 0 without balancing reproduces tf.losses.sigmoidCrossEntropy', () => {
  const cases: Array<[string, number, boolean]> = [
    ['hard labels', 0, false],
    ['hard labels, label smoothing 0.2, weights', 0.2, true],
    ['soft labels, weights', 0, true],
  ];
  for (const [name, ls, withWeights] of cases) {
    for (const [reductionName, reduction] of REDUCTIONS) {
      test(`${name} | ${reductionName}`, () => {
        const rng = new Rng(3 + (reduction ?? 9));
        const shape = [12, 9];
        const x = rng.float32Normal(108, 4);
        const y = name.startsWith('soft') ? rng.float32Uniform(108, 0, 1) : Float32Array.from({ length: 108 }, () => (rng.next() < 0.3 ? 1 : 0));
        const weightValues = rng.float32Uniform(12, 0, 2);
        const [ours, theirs, ourGrad, theirGrad] = tf.tidy(() => {
          const w = withWeights ? tf.tensor(weightValues, [12, 1]) : undefined;
          const labels = tf.tensor(y, shape);
          const logits = tf.tensor(x, shape);
          const options: Record<string, unknown> = { gamma: 0, alpha: null, labelSmoothing: ls };
          if (w) options.weights = w;
          if (reduction !== undefined) options.reduction = reduction;
          const ourFn = (z: tf.Tensor) => sigmoidFocalLoss(labels, z, options);
          const theirFn = (z: tf.Tensor) => tf.losses.sigmoidCrossEntropy(labels, z, w, ls, reduction);
          return [ourFn(logits).dataSync(), theirFn(logits).dataSync(), tf.grad(ourFn)(logits).dataSync(), tf.grad(theirFn)(logits).dataSync()];
        });
        expectAllClose('sigmoidFocalLoss(gamma 0, alpha null) vs sigmoidCrossEntropy', ours, theirs, VALUE_RTOL);
        expectGradientClose('gradient vs sigmoidCrossEntropy gradient', ourGrad, theirGrad, GRAD_TOL);
      });
    }
  }
});

describe('extreme logits (|x| up to 1e4): finite loss and gradient matching the reference', () => {
  const x = Float32Array.from([1e4, -1e4, 1e4, -1e4, 60, -60, 88, -88, 104, -104, 20, -20, 0, 1e-3, -9999.5, 5000]);
  const hard = Float32Array.from([1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1]);
  const soft = Float32Array.from([0.9, 0.1, 0.5, 0.3, 1, 0, 0.7, 0.2, 1, 0, 0.5, 0.5, 0.5, 0.25, 0.75, 0.01]);
  test.each([
    ['gamma 0.5 hard labels', 0.5, 0.25, 0, hard],
    ['gamma 0.5 hard labels, no balancing, smoothing 0.1', 0.5, null, 0.1, hard],
    ['gamma 2 soft labels', 2, 0.25, 0, soft],
    ['gamma 0 hard labels', 0, null, 0, hard],
  ] as Array<[string, number, number | null, number, Float32Array]>)('%s', (name, gamma, alpha, labelSmoothing, labels) => {
    const options = { gamma, alpha, labelSmoothing };
    const reference = sigmoidFocalElements(x, labels, options);
    expectAllFinite('reference loss', reference.loss);
    expectAllFinite('reference gradient', reference.grad);
    const [loss, grad] = tf.tidy(() => {
      const y = tf.tensor1d(labels);
      const f = (z: tf.Tensor) => sigmoidFocalLoss(y, z, { ...options, reduction: tf.Reduction.NONE });
      return [f(tf.tensor1d(x)).dataSync(), tf.grad(f)(tf.tensor1d(x)).dataSync()];
    });
    expectAllFinite(`loss (${name})`, loss);
    expectAllFinite(`gradient (${name})`, grad);
    expectAllClose(`elementwise loss (${name})`, loss, reference.loss, VALUE_RTOL);
    expectGradientClose(`elementwise gradient (${name})`, grad, reference.grad, GRAD_TOL);
  });
});

describe('sigmoidFocalLoss gradient with respect to the labels', () => {
  test.each([
    ['logits, soft labels, smoothing 0.1', true, 0.1, 0.25],
    ['logits, hard labels, no balancing, gamma 0.5', true, 0, null],
    ['probabilities, soft labels', false, 0, 0.6],
  ] as Array<[string, boolean, number, number | null]>)('%s', (name, fromLogits, labelSmoothing, alpha) => {
    const rng = new Rng(21);
    const n = 60;
    const x = fromLogits ? rng.float32Normal(n, 3) : rng.float32Uniform(n, 0.01, 0.99);
    const y = name.includes('hard') ? Float32Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0)) : rng.float32Uniform(n, 0.02, 0.98);
    const gamma = name.includes('gamma 0.5') ? 0.5 : 2;
    const options = { gamma, alpha, labelSmoothing, fromLogits, reduction: tf.Reduction.SUM };
    const [ours, composed] = tf.tidy(() => {
      const logits = tf.tensor1d(x);
      return [
        tf.grad((labels: tf.Tensor) => sigmoidFocalLoss(labels, logits, options))(tf.tensor1d(y)).dataSync(),
        tf.grad((labels: tf.Tensor) => composedSigmoidFocalLoss(labels, logits, options))(tf.tensor1d(y)).dataSync(),
      ];
    });
    const fd = Float64Array.from(y, (yi, i) =>
      centralDifferences((v) => sigmoidFocalElement(x[i], v[0], options)[0], [yi], [0], () => 1e-6)[0]);
    expectGradientClose('d sigmoidFocalLoss / d labels vs finite differences', ours, fd, GRAD_TOL);
    expectGradientClose('d sigmoidFocalLoss / d labels vs composed tfjs autodiff', ours, composed, GRAD_TOL);
  });
});

describe('normalizeByPositives: differentiable with respect to the labels', () => {
  test('d/dy of sum / positives is d/dy of the sum divided by the (piecewise constant) count', () => {
    const x = [1.5, -0.5, 2, 0.25, -3, 0.75];
    const y = [0.9, 0, 0.3, 1, 0, 0.6];  // 4 labels > 0
    const [normalized, summed] = tf.tidy(() => {
      const logits = tf.tensor1d(x);
      return [
        tf.grad((labels: tf.Tensor) => sigmoidFocalLoss(labels, logits, { normalizeByPositives: true }))(tf.tensor1d(y)).dataSync(),
        tf.grad((labels: tf.Tensor) => sigmoidFocalLoss(labels, logits, { reduction: tf.Reduction.SUM }))(tf.tensor1d(y)).dataSync(),
      ];
    });
    expect(Array.from(normalized)).toEqual(Array.from(summed).map((g) => Math.fround(g / 4)));
    expect(summed.some((g) => g !== 0)).toBe(true);
  });
});
