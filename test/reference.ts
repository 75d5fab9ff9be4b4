// Independent float64 reference for the focal losses, their analytic gradients and the tf.Reduction
// reductions. Plain JS numbers and Float64Arrays only: no tfjs, no code shared with lib/, so a bug in
// the library cannot be mirrored here. The maths is shared/DESIGN.md (beside the repository); the Keras probability
// paths follow keras/src/losses/losses.py (keras 3.15) line by line.

// jest runs test code inside a vm context, where each lookup of a global (Math, Number, ...) goes
// through an interceptor and costs ~20x the arithmetic around it; hot loops use this module alias.
const M = Math;

/** Keras' backend.epsilon(). */
export const KERAS_EPSILON = 1e-7;

/**
 * Keras' probability clip [epsilon, 1 - epsilon] with the bounds taken exactly: Keras evaluated in
 * float64, and the library (which clips in double). The default of the probability paths here.
 */
export const KERAS_CLIP = Object.freeze({ low: KERAS_EPSILON, high: 1 - KERAS_EPSILON });

/**
 * The same clip as Keras applies it to float32 tensors (its default dtype): the bounds are rounded
 * to float32, and the upper one, 0.99999988, is 1.2e-7 from 1 instead of 1e-7. For an input p at
 * or above it with label 0, -log(1 - clip(p)) is 15.94 instead of 16.12. Only such inputs differ.
 */
export const KERAS_CLIP_FLOAT32 = Object.freeze({
  low: M.fround(KERAS_EPSILON),
  high: M.fround(1 - KERAS_EPSILON),
});

export interface ProbabilityClip {
  low: number;
  high: number;
}

/** Mirrors tf.Reduction without importing tfjs. */
export type ReferenceReduction = 'none' | 'sum' | 'mean' | 'sumByNonzeroWeights';

export type SoftmaxLabels =
  | { kind: 'sparse'; values: ArrayLike<number> } // [rows], class index per row
  | { kind: 'dense'; values: ArrayLike<number> }; // [rows, classes], one-hot or soft

export interface SoftmaxFocalOptions {
  gamma: number;
  /** Scalar, or one alpha per class. */
  alpha: number | ArrayLike<number>;
  /** Keras: y' = y (1 - ls) + ls / C; for sparse labels applied to one-hot(t). */
  labelSmoothing?: number;
  /** Sparse labels equal to this give a zero row loss and a zero gradient row. */
  ignoreIndex?: number | null;
  /** false: the inputs are (unnormalised) probabilities, Keras' path p = clip(x / sum x). */
  fromLogits?: boolean;
  /** Probability clip of the fromLogits=false path; defaults to KERAS_CLIP. */
  clip?: ProbabilityClip;
  /** Poly-1 on the probability path: + a y eps (1 - p)^(gamma + 1) of the clipped p. */
  polyEpsilon?: number;
}

export interface SoftmaxFocalResult {
  /** [rows]: per-row loss, unweighted and unreduced. */
  loss: Float64Array;
  /** [rows, classes]: d loss[row] / d input[row, :]. */
  grad: Float64Array;
  /** [rows]: 1 where the row's sparse label equals ignoreIndex. */
  ignored: Uint8Array;
}

/** r = log p / (1 - p), with its limit -1 at p = 1 (where 1 - p underflows to 0). */
function logRatio(logP: number, oneMinusP: number): number {
  return oneMinusP > 0 ? logP / oneMinusP : -1;
}

function alphaFor(alpha: number | ArrayLike<number>, classIndex: number): number {
  return typeof alpha === 'number' ? alpha : alpha[classIndex];
}

/**
 * Target distribution of one row after label smoothing, or null for an ignored row. Returned as
 * dense weights y'_j; sparse labels without smoothing give a one-hot row.
 */
function rowTargets(
  labels: SoftmaxLabels,
  row: number,
  classes: number,
  options: SoftmaxFocalOptions,
): Float64Array | null {
  const y = new Float64Array(classes);
  if (labels.kind === 'sparse') {
    const t = labels.values[row];
    if (options.ignoreIndex != null && t === options.ignoreIndex) return null;
    if (!Number.isInteger(t) || t < 0 || t >= classes) {
      throw new RangeError(`reference: sparse label ${t} in row ${row} is outside [0, ${classes})`);
    }
    y[t] = 1;
  } else {
    for (let j = 0; j < classes; j++) y[j] = labels.values[row * classes + j];
  }
  const ls = options.labelSmoothing ?? 0;
  if (ls !== 0) {
    for (let j = 0; j < classes; j++) y[j] = y[j] * (1 - ls) + ls / classes;
  }
  return y;
}

/**
 * Loss and gradient of one row from logits. Returns the loss; writes d loss / d z into gradOut
 * (length classes) when given.
 */
function softmaxRowFromLogits(
  z: ArrayLike<number>,
  offset: number,
  classes: number,
  y: Float64Array,
  options: SoftmaxFocalOptions,
  gradOut: Float64Array | null,
  gradOffset: number,
): number {
  const gamma = options.gamma;
  let argmax = offset;
  for (let j = 1; j < classes; j++) if (z[offset + j] > z[argmax]) argmax = offset + j;
  const zMax = z[argmax];
  // log S = log(1 + sum over the non-argmax exps): log1p keeps it exact when the argmax dominates.
  let othersSum = 0;
  for (let j = 0; j < classes; j++) {
    if (offset + j !== argmax) othersSum += M.exp(z[offset + j] - zMax);
  }
  const logS = M.log1p(othersSum);
  let loss = 0;
  let weightSum = 0;
  const w = new Float64Array(classes);
  const p = new Float64Array(classes);
  for (let j = 0; j < classes; j++) {
    const logP = z[offset + j] - zMax - logS;
    p[j] = M.exp(logP);
    if (y[j] === 0) continue;
    const oneMinusP = -M.expm1(logP);
    const a = alphaFor(options.alpha, j);
    const modulating = M.pow(oneMinusP, gamma);
    loss -= a * y[j] * modulating * logP;
    // w_j = a y_j [gamma (1-p)^(gamma-1) p log p - (1-p)^gamma], written with r = log p / (1 - p)
    // so that gamma < 1 stays finite at p = 1.
    w[j] = a * y[j] * (gamma * modulating * logRatio(logP, oneMinusP) * p[j] - modulating);
    weightSum += w[j];
  }
  if (gradOut) {
    for (let k = 0; k < classes; k++) gradOut[gradOffset + k] = w[k] - p[k] * weightSum;
  }
  return loss;
}

/**
 * Keras' probability path: p = clip(x / sum x, low, high), loss = -sum a y (1-p)^g log p, plus
 * Poly-1's sum a y eps (1-p)^(g+1).
 */
function softmaxRowFromProbabilities(
  x: ArrayLike<number>,
  offset: number,
  classes: number,
  y: Float64Array,
  options: SoftmaxFocalOptions,
  gradOut: Float64Array | null,
  gradOffset: number,
): number {
  const gamma = options.gamma;
  const clip = options.clip ?? KERAS_CLIP;
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += x[offset + j];
  let loss = 0;
  // d loss / d p_j (p clipped), and the clip mask: tf's clipByValue passes the gradient where
  // low <= value <= high.
  const dLossDp = new Float64Array(classes);
  const unclipped = new Float64Array(classes);
  for (let j = 0; j < classes; j++) {
    const pHat = x[offset + j] / sum;
    unclipped[j] = pHat;
    if (y[j] === 0) continue;
    const p = M.min(M.max(pHat, clip.low), clip.high);
    const a = alphaFor(options.alpha, j);
    const oneMinusP = 1 - p;
    const logP = M.log(p);
    const modulating = M.pow(oneMinusP, gamma);
    const eps = options.polyEpsilon ?? 0;
    loss -= a * y[j] * (modulating * logP - eps * modulating * oneMinusP);
    const inside = pHat >= clip.low && pHat <= clip.high;
    if (inside) {
      const focalTerm = gamma === 0 ? 0 : gamma * M.pow(oneMinusP, gamma - 1) * logP;
      dLossDp[j] = -a * y[j] * (modulating / p - focalTerm + eps * (gamma + 1) * modulating);
    }
  }
  if (gradOut) {
    // p_j = x_j / S  =>  d p_j / d x_k = (delta_jk - p_j) / S
    let weighted = 0;
    for (let j = 0; j < classes; j++) weighted += dLossDp[j] * unclipped[j];
    for (let k = 0; k < classes; k++) gradOut[gradOffset + k] = (dLossDp[k] - weighted) / sum;
  }
  return loss;
}

/** Softmax focal loss of every row of a row-major [rows, classes] input, and its gradient. */
export function softmaxFocalRows(
  input: ArrayLike<number>,
  rows: number,
  classes: number,
  labels: SoftmaxLabels,
  options: SoftmaxFocalOptions,
  computeGradient = true,
): SoftmaxFocalResult {
  const loss = new Float64Array(rows);
  const grad = new Float64Array(computeGradient ? rows * classes : 0);
  const ignored = new Uint8Array(rows);
  const fromLogits = options.fromLogits ?? true;
  for (let i = 0; i < rows; i++) {
    const y = rowTargets(labels, i, classes, options);
    if (y === null) {
      ignored[i] = 1;
      continue; // loss 0, gradient row 0
    }
    const rowFn = fromLogits ? softmaxRowFromLogits : softmaxRowFromProbabilities;
    loss[i] = rowFn(input, i * classes, classes, y, options, computeGradient ? grad : null, i * classes);
  }
  return { loss, grad, ignored };
}

/** The loss of row `row` as a function of that row's inputs alone (for finite differences). */
export function softmaxRowLossFunction(
  row: number,
  classes: number,
  labels: SoftmaxLabels,
  options: SoftmaxFocalOptions,
): (rowInput: ArrayLike<number>) => number {
  const y = rowTargets(labels, row, classes, options);
  const fromLogits = options.fromLogits ?? true;
  return (rowInput) => {
    if (y === null) return 0;
    const rowFn = fromLogits ? softmaxRowFromLogits : softmaxRowFromProbabilities;
    return rowFn(rowInput, 0, classes, y, options, null, 0);
  };
}

/**
 * d loss[row] / d labels[row, j] for dense labels: the loss is linear in the smoothed target
 * y' = y (1 - ls) + ls / C, so this is -(1 - ls) alpha_j (1 - p_j)^gamma log p_j, with p from the
 * logits (or Keras' clipped probabilities when fromLogits is false).
 */
export function softmaxFocalLabelGradient(
  input: ArrayLike<number>,
  rows: number,
  classes: number,
  options: SoftmaxFocalOptions,
): Float64Array {
  const out = new Float64Array(rows * classes);
  const smoothingFactor = 1 - (options.labelSmoothing ?? 0);
  const clip = options.clip ?? KERAS_CLIP;
  for (let i = 0; i < rows; i++) {
    const o = i * classes;
    const logP = new Float64Array(classes);
    const oneMinusP = new Float64Array(classes);
    if (options.fromLogits ?? true) {
      let argmax = o;
      for (let j = 1; j < classes; j++) if (input[o + j] > input[argmax]) argmax = o + j;
      let othersSum = 0;
      for (let j = 0; j < classes; j++) if (o + j !== argmax) othersSum += M.exp(input[o + j] - input[argmax]);
      const logS = M.log1p(othersSum);
      for (let j = 0; j < classes; j++) {
        logP[j] = input[o + j] - input[argmax] - logS;
        oneMinusP[j] = -M.expm1(logP[j]);
      }
    } else {
      let sum = 0;
      for (let j = 0; j < classes; j++) sum += input[o + j];
      for (let j = 0; j < classes; j++) {
        const p = M.min(M.max(input[o + j] / sum, clip.low), clip.high);
        logP[j] = M.log(p);
        oneMinusP[j] = 1 - p;
      }
    }
    for (let j = 0; j < classes; j++) {
      out[o + j] = -smoothingFactor * alphaFor(options.alpha, j) * M.pow(oneMinusP[j], options.gamma) * logP[j];
    }
  }
  return out;
}

export interface SigmoidFocalOptions {
  gamma: number;
  /** alpha_t = alpha y + (1 - alpha)(1 - y); null or negative: no class balancing (alpha_t = 1). */
  alpha: number | null;
  /** Keras binary: y' = y (1 - ls) + 0.5 ls. */
  labelSmoothing?: number;
  /** false: inputs are probabilities, Keras BinaryFocalCrossentropy(from_logits=False). */
  fromLogits?: boolean;
  clip?: ProbabilityClip;
}

export interface ElementwiseResult {
  loss: Float64Array;
  grad: Float64Array;
}

/** sigma(x) and 1 - sigma(x) = sigma(-x), each without cancellation. */
function sigmoidPair(x: number): [number, number] {
  if (x >= 0) {
    const e = M.exp(-x);
    return [1 / (1 + e), e / (1 + e)];
  }
  const e = M.exp(x);
  return [e / (1 + e), 1 / (1 + e)];
}

/** Loss and d loss / d input of one element. */
export function sigmoidFocalElement(
  input: number,
  label: number,
  options: SigmoidFocalOptions,
): [number, number] {
  const gamma = options.gamma;
  const ls = options.labelSmoothing ?? 0;
  const y = ls !== 0 ? label * (1 - ls) + 0.5 * ls : label;
  const balanced = options.alpha != null && options.alpha >= 0;
  const alphaT = balanced ? options.alpha! * y + (1 - options.alpha!) * (1 - y) : 1;
  if (options.fromLogits ?? true) {
    const x = input;
    const [p, q] = sigmoidPair(x);
    // BCE with logits, the stable form tf.nn.sigmoid_cross_entropy_with_logits uses.
    const ce = M.max(x, 0) - x * y + M.log1p(M.exp(-M.abs(x)));
    const oneMinusPt = y * q + (1 - y) * p; // 1 - p_t without cancellation
    const modulating = M.pow(oneMinusPt, gamma);
    const loss = alphaT * ce * modulating;
    // d(1 - p_t)/dx = p q (1 - 2y); the gamma term's limit is 0 where 1 - p_t underflows (hard
    // labels: ce -> 0 as fast as 1 - p_t).
    let focalTerm = 0;
    if (gamma !== 0 && oneMinusPt > 0) {
      focalTerm = gamma * M.pow(oneMinusPt, gamma - 1) * ce * p * q * (1 - 2 * y);
    }
    return [loss, alphaT * (modulating * (p - y) + focalTerm)];
  }
  // Keras: bce = -(y log pc + (1-y) log(1-pc)) with pc = clip(p); p_t uses the unclipped p.
  const clip = options.clip ?? KERAS_CLIP;
  const p = input;
  const pc = M.min(M.max(p, clip.low), clip.high);
  const inside = p >= clip.low && p <= clip.high;
  const bce = -(y * M.log(pc) + (1 - y) * M.log(1 - pc));
  const oneMinusPt = y * (1 - p) + (1 - y) * p;
  const modulating = M.pow(oneMinusPt, gamma);
  const loss = alphaT * modulating * bce;
  const dBce = inside ? -y / pc + (1 - y) / (1 - pc) : 0;
  // Unlike the logits path, bce stays >= -log(1 - 1e-7) > 0 where 1 - p_t = 0 (hard label, p at 0
  // or 1), so the derivative there really is gamma 0^(gamma-1) bce: infinite for gamma < 1 (as
  // Keras' autodiff gives), bce for gamma = 1, 0 above.
  const focalTerm = gamma === 0 ? 0 : gamma * M.pow(oneMinusPt, gamma - 1) * (1 - 2 * y) * bce;
  return [loss, alphaT * (modulating * dBce + focalTerm)];
}

/** Elementwise sigmoid focal loss (torchvision form / Keras binary) and its gradient. */
export function sigmoidFocalElements(
  inputs: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: SigmoidFocalOptions,
  computeGradient = true,
): ElementwiseResult {
  const n = inputs.length;
  if (labels.length !== n) throw new RangeError(`reference: ${labels.length} labels for ${n} inputs`);
  const loss = new Float64Array(n);
  const grad = new Float64Array(computeGradient ? n : 0);
  for (let i = 0; i < n; i++) {
    const [l, g] = sigmoidFocalElement(inputs[i], labels[i], options);
    loss[i] = l;
    if (computeGradient) grad[i] = g;
  }
  return { loss, grad };
}

// ---------------------------------------------------------------------------------------------
// Shapes and reductions (tf.losses.computeWeightedLoss semantics, tfjs-core 4.22)

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** numpy/tfjs broadcasting of `values` (shape `from`, right-aligned) to shape `to`. */
export function broadcastTo(values: ArrayLike<number>, from: readonly number[], to: readonly number[]): Float64Array {
  if (from.length > to.length) throw new RangeError(`reference: cannot broadcast [${from}] to [${to}]`);
  const padded = [...new Array(to.length - from.length).fill(1), ...from];
  padded.forEach((d, k) => {
    if (d !== 1 && d !== to[k]) throw new RangeError(`reference: cannot broadcast [${from}] to [${to}]`);
  });
  const out = new Float64Array(sizeOf(to));
  const fromStrides = new Array(to.length).fill(0);
  let stride = 1;
  for (let k = to.length - 1; k >= 0; k--) {
    fromStrides[k] = padded[k] === 1 ? 0 : stride;
    stride *= padded[k];
  }
  const index = new Array(to.length).fill(0);
  for (let flat = 0; flat < out.length; flat++) {
    let src = 0;
    for (let k = 0; k < to.length; k++) src += index[k] * fromStrides[k];
    out[flat] = values[src];
    for (let k = to.length - 1; k >= 0; k--) {
      if (++index[k] < to[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

export interface Weights {
  values: ArrayLike<number>;
  shape: number[];
}

export interface ReductionResult {
  /** The reduced loss: one number, or the weighted per-element losses for 'none'. */
  value: Float64Array;
  /**
   * d sum(value) / d losses[i]: what tf.grad (which seeds dy = 1) propagates to each per-element
   * loss. Weights are treated as constants.
   */
  lossCoefficients: Float64Array;
}

/** tf.losses.computeWeightedLoss(losses, weights, reduction) in float64. */
export function computeWeightedLoss(
  losses: ArrayLike<number>,
  lossShape: number[],
  weights: Weights | null,
  reduction: ReferenceReduction,
): ReductionResult {
  const n = sizeOf(lossShape);
  if (losses.length !== n) throw new RangeError(`reference: ${losses.length} losses for shape [${lossShape}]`);
  const w = weights ? broadcastTo(weights.values, weights.shape, lossShape) : new Float64Array(n).fill(1);
  const weighted = new Float64Array(n);
  for (let i = 0; i < n; i++) weighted[i] = losses[i] * w[i];
  const total = weighted.reduce((a, b) => a + b, 0);
  let divisor: number;
  switch (reduction) {
    case 'none':
      return { value: weighted, lossCoefficients: w };
    case 'sum':
      divisor = 1;
      break;
    case 'mean':
      if (weights === null) {
        divisor = n;
      } else {
        // tfjs: sum(weighted) / sum(weights as given), divided by losses.size / weights.size when > 1
        const weightSum = Array.from(weights.values).reduce((a, b) => a + b, 0);
        const broadcastFactor = n / weights.values.length;
        divisor = weightSum * (broadcastFactor > 1 ? broadcastFactor : 1);
      }
      break;
    case 'sumByNonzeroWeights':
      divisor = weights === null ? n : w.reduce((count, v) => count + (v !== 0 ? 1 : 0), 0);
      break;
    default:
      throw new RangeError(`reference: unknown reduction ${reduction as string}`);
  }
  const coefficients = new Float64Array(n);
  for (let i = 0; i < n; i++) coefficients[i] = w[i] / divisor;
  return { value: Float64Array.of(total / divisor), lossCoefficients: coefficients };
}

/**
 * The weights the library uses when ignoreIndex is set: the user's weights (or 1) broadcast to the
 * loss shape, times 0 on ignored rows, so ignored rows leave MEAN and SUM_BY_NONZERO_WEIGHTS.
 */
export function weightsWithIgnoredRows(weights: Weights | null, lossShape: number[], ignored: ArrayLike<number>): Weights {
  const n = sizeOf(lossShape);
  const w = weights ? broadcastTo(weights.values, weights.shape, lossShape) : new Float64Array(n).fill(1);
  for (let i = 0; i < n; i++) if (ignored[i]) w[i] = 0;
  return { values: w, shape: [...lossShape] };
}

/** Full gradient of the reduced loss: coefficient of each row times that row's gradient. */
export function scaleRows(rowGrad: ArrayLike<number>, coefficients: ArrayLike<number>, classes: number): Float64Array {
  const out = new Float64Array(rowGrad.length);
  for (let i = 0; i < coefficients.length; i++) {
    for (let j = 0; j < classes; j++) out[i * classes + j] = coefficients[i] * rowGrad[i * classes + j];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Finite differences

/**
 * Central differences (f(x + h e_i) - f(x - h e_i)) / 2h in float64 for the requested coordinates.
 * The step defaults to 1e-5 max(1, |x_i|); it is re-derived from the representable x_i +- h so that
 * rounding of the perturbed point does not bias the quotient.
 */
export function centralDifferences(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  indices: readonly number[],
  step: (xi: number) => number = (xi) => 1e-5 * M.max(1, M.abs(xi)),
): Float64Array {
  const point = Float64Array.from(x);
  const out = new Float64Array(indices.length);
  indices.forEach((i, k) => {
    const xi = point[i];
    const h = step(xi);
    const plus = xi + h;
    const minus = xi - h;
    point[i] = plus;
    const fPlus = f(point);
    point[i] = minus;
    const fMinus = f(point);
    point[i] = xi;
    out[k] = (fPlus - fMinus) / (plus - minus);
  });
  return out;
}

/**
 * Keras binary focal crossentropy per sample: the elementwise loss averaged over the last axis
 * (BinaryFocalCrossentropy(reduction=None)).
 */
export function meanOverLastAxis(values: ArrayLike<number>, lastDim: number): Float64Array {
  const rows = values.length / lastDim;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < lastDim; j++) s += values[i * lastDim + j];
    out[i] = s / lastDim;
  }
  return out;
}
