// Random softmax focal-loss test cases (seeded), shared by softmax_values.test.ts and
// softmax_gradients.test.ts: the inputs as float32 arrays, the matching tensors and library options,
// and the float64 reference expectation for any reduction.

import * as tf from '@tensorflow/tfjs-core';
import {
  ReductionResult,
  SoftmaxFocalOptions,
  SoftmaxFocalResult,
  SoftmaxLabels,
  Weights,
  computeWeightedLoss,
  sizeOf,
  softmaxFocalRows,
  weightsWithIgnoredRows,
} from './reference';
import { Rng, referenceReduction } from './numeric_helpers';

export type LabelKind = 'sparse' | 'onehot' | 'soft';
export type WeightKind = 'none' | 'full' | 'broadcast' | 'number' | 'scalarTensor';

export interface SoftmaxCaseConfig {
  name: string;
  labels: LabelKind;
  /** undefined: leave the option out (library default 2). */
  gamma?: number;
  /** undefined: library default 0.25; 'perClass': random per-class vector. */
  alpha?: number | 'perClass';
  labelSmoothing?: number;
  /** Sparse only: this many percent of rows get the label ignoreIndex. */
  ignoreIndex?: number;
  fromLogits?: boolean;
  /** Probability path: put exact zeros in each row (Keras clips them to 1e-7). */
  zeroProbabilities?: boolean;
  /** Standard deviation of the logits. */
  logitScale?: number;
  weights?: WeightKind;
  rows?: number;
  classes?: number;
  rank?: number;
}

export interface SoftmaxCase {
  config: SoftmaxCaseConfig;
  shape: number[];
  lossShape: number[];
  rows: number;
  classes: number;
  input: Float32Array;
  sparse: Int32Array | null;
  dense: Float32Array | null;
  alpha: number | number[];
  gamma: number;
  referenceLabels: SoftmaxLabels;
  referenceOptions: SoftmaxFocalOptions;
  weightValues: Float32Array | null;
  weightShape: number[] | null;
  /** Per-row loss and row gradients in float64. */
  reference: SoftmaxFocalResult;
}

const ROW_CHOICES = [1, 2, 7, 16, 60, 128, 250, 512];
const CLASS_CHOICES = [2, 3, 5, 10, 33, 100];

export function buildSoftmaxCase(config: SoftmaxCaseConfig, seed: number): SoftmaxCase {
  const rng = new Rng(seed);
  const rows = config.rows ?? rng.pick(ROW_CHOICES);
  const classes = config.classes ?? rng.pick(CLASS_CHOICES);
  const rank = config.rank ?? rng.int(2, 5);
  const shape = rng.shapeFor(rows, classes, rank);
  const lossShape = shape.slice(0, -1);
  const fromLogits = config.fromLogits ?? true;

  let input: Float32Array;
  if (fromLogits) {
    input = rng.float32Normal(rows * classes, config.logitScale ?? 2);
  } else {
    // Unnormalised positive scores: the Keras path divides each row by its sum.
    input = rng.float32Uniform(rows * classes, 0.02, 1);
    if (config.zeroProbabilities) {
      for (let i = 0; i < rows; i++) input[i * classes + rng.int(0, classes)] = 0;
    }
  }

  let sparse: Int32Array | null = null;
  let dense: Float32Array | null = null;
  const indices = rng.sparseLabels(rows, classes);
  if (config.labels === 'sparse') {
    sparse = indices;
    if (config.ignoreIndex !== undefined) {
      for (let i = 0; i < rows; i++) if (rng.next() < 0.3) sparse[i] = config.ignoreIndex;
      // keep at least one row counted so MEAN / SUM_BY_NONZERO_WEIGHTS have a nonzero denominator
      if (sparse[0] === config.ignoreIndex) sparse[0] = config.ignoreIndex === 0 ? 1 : 0;
      if (rows > 1) sparse[rows - 1] = config.ignoreIndex;
    }
  } else {
    dense = config.labels === 'onehot' ? rng.oneHot(indices, classes) : rng.softLabels(rows, classes);
  }

  const alpha = config.alpha === 'perClass'
    ? Array.from({ length: classes }, () => Math.fround(rng.uniform(0.05, 2)))
    : config.alpha ?? 0.25;
  const gamma = config.gamma ?? 2;

  let weightValues: Float32Array | null = null;
  let weightShape: number[] | null = null;
  switch (config.weights ?? 'none') {
    case 'full':
      weightShape = lossShape;
      break;
    case 'broadcast':
      weightShape = lossShape.map((d, k) => (k === 0 ? d : 1));
      break;
    case 'scalarTensor':
    case 'number':
      weightShape = [];
      break;
    default:
      break;
  }
  if (weightShape) {
    weightValues = rng.float32Uniform(sizeOf(weightShape), 0.1, 2);
    if (weightValues.length > 2) {
      for (let i = 1; i < weightValues.length; i++) if (rng.next() < 0.1) weightValues[i] = 0;
    }
  }

  const referenceLabels: SoftmaxLabels = sparse ? { kind: 'sparse', values: sparse } : { kind: 'dense', values: dense! };
  const referenceOptions: SoftmaxFocalOptions = {
    gamma,
    alpha,
    labelSmoothing: config.labelSmoothing ?? 0,
    ignoreIndex: config.ignoreIndex ?? null,
    fromLogits,
  };
  const reference = softmaxFocalRows(input, rows, classes, referenceLabels, referenceOptions);
  return {
    config, shape, lossShape, rows, classes, input, sparse, dense, alpha, gamma,
    referenceLabels, referenceOptions, weightValues, weightShape, reference,
  };
}

export function labelsTensor(c: SoftmaxCase): tf.Tensor {
  return c.sparse ? tf.tensor(c.sparse, c.lossShape, 'int32') : tf.tensor(c.dense!, c.shape, 'float32');
}

export function logitsTensor(c: SoftmaxCase): tf.Tensor {
  return tf.tensor(c.input, c.shape, 'float32');
}

export function weightsOption(c: SoftmaxCase): tf.Tensor | number | undefined {
  if (!c.weightValues) return undefined;
  if (c.config.weights === 'number') return c.weightValues[0];
  return tf.tensor(c.weightValues, c.weightShape!, 'float32');
}

/** The library options for this case (create inside tf.tidy: weights may be a new tensor). */
export function libraryOptions(c: SoftmaxCase, reduction: tf.Reduction | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (c.config.gamma !== undefined) o.gamma = c.config.gamma;
  if (c.config.alpha !== undefined) o.alpha = c.alpha;
  if (c.config.labelSmoothing !== undefined) o.labelSmoothing = c.config.labelSmoothing;
  if (c.config.ignoreIndex !== undefined) o.ignoreIndex = c.config.ignoreIndex;
  if (c.config.fromLogits !== undefined) o.fromLogits = c.config.fromLogits;
  const w = weightsOption(c);
  if (w !== undefined) o.weights = w;
  if (reduction !== undefined) o.reduction = reduction;
  return o;
}

/** The float64 reduced loss and per-row coefficients (d reduced / d row loss). */
export function referenceReduced(c: SoftmaxCase, reduction: tf.Reduction | undefined): ReductionResult {
  let weights: Weights | null = c.weightValues ? { values: c.weightValues, shape: c.weightShape! } : null;
  if (c.config.ignoreIndex !== undefined) weights = weightsWithIgnoredRows(weights, c.lossShape, c.reference.ignored);
  return computeWeightedLoss(c.reference.loss, c.lossShape, weights, referenceReduction(reduction));
}

export function describeCase(c: SoftmaxCase): string {
  return `shape [${c.shape}] labels ${c.config.labels} gamma ${c.gamma} alpha ${
    Array.isArray(c.alpha) ? 'per-class' : c.alpha} ls ${c.config.labelSmoothing ?? 0} ignoreIndex ${
    c.config.ignoreIndex ?? 'none'} fromLogits ${c.config.fromLogits ?? true} weights ${c.config.weights ?? 'none'}`;
}

export const REDUCTIONS: Array<[string, tf.Reduction | undefined]> = [
  ['NONE', tf.Reduction.NONE],
  ['SUM', tf.Reduction.SUM],
  ['MEAN', tf.Reduction.MEAN],
  ['SUM_BY_NONZERO_WEIGHTS', tf.Reduction.SUM_BY_NONZERO_WEIGHTS],
  ['default reduction', undefined],
];

/** Every option, each in several combinations; weights rotate so each kind meets each reduction. */
export const OPTION_SETS: SoftmaxCaseConfig[] = [
  { name: 'all defaults (sparse)', labels: 'sparse' },
  { name: 'sparse gamma 0 alpha 1', labels: 'sparse', gamma: 0, alpha: 1 },
  { name: 'sparse gamma 0.5 per-class alpha', labels: 'sparse', gamma: 0.5, alpha: 'perClass' },
  { name: 'sparse gamma 3.7 alpha 0.6 label smoothing 0.1', labels: 'sparse', gamma: 3.7, alpha: 0.6, labelSmoothing: 0.1 },
  { name: 'sparse ignoreIndex -100', labels: 'sparse', gamma: 2, alpha: 0.25, ignoreIndex: -100 },
  { name: 'sparse ignoreIndex = class 1, per-class alpha, smoothing', labels: 'sparse', gamma: 1.5, alpha: 'perClass', ignoreIndex: 1, labelSmoothing: 0.05, classes: 5 },
  { name: 'one-hot dense, per-class alpha', labels: 'onehot', gamma: 2, alpha: 'perClass' },
  { name: 'soft dense gamma 1 smoothing 0.2', labels: 'soft', gamma: 1, alpha: 0.5, labelSmoothing: 0.2 },
  { name: 'probabilities sparse (Keras path)', labels: 'sparse', gamma: 2, fromLogits: false },
  { name: 'probabilities soft, per-class alpha, smoothing, gamma 0.5', labels: 'soft', gamma: 0.5, alpha: 'perClass', labelSmoothing: 0.05, fromLogits: false },
  { name: 'probabilities one-hot with exact zeros (clipped)', labels: 'onehot', gamma: 2, alpha: 0.3, fromLogits: false, zeroProbabilities: true },
  { name: 'confident logits (scale 12), gamma 2', labels: 'sparse', gamma: 2, alpha: 0.25, logitScale: 12 },
];

const WEIGHT_ROTATION: WeightKind[] = ['none', 'full', 'broadcast', 'number', 'scalarTensor'];

/** The (option set x reduction) grid, each with its own seed and weight kind. */
export function optionGrid(): Array<[string, SoftmaxCaseConfig, tf.Reduction | undefined, number]> {
  const grid: Array<[string, SoftmaxCaseConfig, tf.Reduction | undefined, number]> = [];
  OPTION_SETS.forEach((set, s) => {
    REDUCTIONS.forEach(([reductionName, reduction], r) => {
      const weights = WEIGHT_ROTATION[(s + r) % WEIGHT_ROTATION.length];
      grid.push([`${set.name} | ${reductionName} | weights ${weights}`, { ...set, weights }, reduction, 1000 + 37 * s + r]);
    });
  });
  return grid;
}

/** Rows of float32 logits with |z| up to 1e4, including p_t -> 1, p_t -> 0 and ties. */
export function extremeLogits(rows: number, classes: number, seed: number): { logits: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const logits = new Float32Array(rows * classes);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const kind = i % 6;
    const row = logits.subarray(i * classes, (i + 1) * classes);
    for (let j = 0; j < classes; j++) row[j] = rng.uniform(-1e4, 1e4);
    const top = rng.int(0, classes);
    const other = (top + 1 + rng.int(0, classes - 1)) % classes;
    switch (kind) {
      case 0: // p_t = 1 in float32 and float64: label on a far-ahead maximum
        row.fill(-1e4);
        row[top] = 1e4;
        labels[i] = top;
        break;
      case 1: // p_t -> 0: label 2e4 below the maximum
        row.fill(0);
        row[top] = 1e4;
        row[other] = -1e4;
        labels[i] = other;
        break;
      case 2: // p_t close to 1 but representable: margin 20 at magnitude 1e4
        row.fill(1e4 - 20);
        row[top] = 1e4;
        labels[i] = top;
        break;
      case 3: // tie at the maximum
        row[top] = 1e4;
        row[other] = 1e4;
        labels[i] = top;
        break;
      case 4: // uniform spread over [-1e4, 1e4], label at random
        labels[i] = rng.int(0, classes);
        break;
      default: // moderate margin at huge magnitude: p_t = sigmoid-like 1 - e^-3
        row.fill(-1e4);
        row[top] = -1e4 + 3;
        labels[i] = top;
        break;
    }
  }
  return { logits, labels };
}
