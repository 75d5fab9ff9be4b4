// Independent float64 reference for the focal-loss family (issue 17): Poly-1 focal (softmax and
// sigmoid), asymmetric loss, varifocal loss, quality focal loss and logit-adjusted focal loss, each
// with its analytic gradient, and the tf.Reduction reductions. Plain JS numbers only: no tfjs, no
// code shared with lib/ or with tools/gen_family_fixtures.py (whose torch autograd values it is
// checked against in family_reference.test.ts), so neither can mirror a bug of the other.
//
// Definitions (p = softmax / sigmoid of the logits, y' the label after label smoothing):
//   polySoftmaxFocal    sum_j alpha_j y'_j [ -(1 - p_j)^gamma log p_j + eps (1 - p_j)^(gamma + 1) ]
//                       For one-hot labels this is the alpha_t [ -(1 - p_t)^gamma log p_t +
//                       eps (1 - p_t)^(gamma + 1) ]. For soft labels / label smoothing every class with
//                       y'_j > 0 gets its own poly term: a choice made here. (PolyLoss' published
//                       poly-1 code instead uses one term eps (1 - sum_j y'_j p_j) there.)
//   polySigmoidFocal    alpha_t [ ce (1 - p_t)^gamma + eps (1 - p_t)^(gamma + 1) ], torchvision's ce,
//                       p_t, alpha_t (1 when alpha is null). The issue weights the eps term by alpha_t
//                       too; `alphaWeightsPolyTerm: false` gives PolyLoss' published form
//                       alpha_t ce (1 - p_t)^gamma + eps (1 - p_t)^(gamma + 1).
//   asymmetric          -y (1 - p)^gammaPos log p - (1 - y) p_m^gammaNeg log(1 - p_m),
//                       p_m = max(p - clip, 0); at p <= clip the negative part and its gradient are 0.
//   varifocal           BCE(x, q) * (q if q > 0 else alpha |p - q|^gamma); the second weight is used
//                       for q = 0 exactly (mmdet's `target <= 0` on targets in [0, 1]): alpha p^gamma.
//   qualityFocal        |q - p|^beta BCE(x, q); where q - p is 0 the gradient is the subgradient 0.
//   logitAdjustedFocal  polySoftmaxFocal of z + tau log(pi), pi = counts / sum(counts) or priors.
//
// Numerics: log p and log(1 - p) from softplus / log1p forms; 1 - p_t = y (1 - p) + (1 - y) p and
// q - p = q (1 - p) - (1 - q) p, so nothing cancels at saturated logits; no power with a negative
// exponent is ever formed (gamma (1 - p)^(gamma - 1) appears as gamma (1 - p)^gamma times a bounded
// ratio), so |logit| up to 1e4 and gamma in [0, 1) give finite losses and gradients.

// jest runs test code inside a vm context, where each lookup of a global (Math, ...) goes through an
// interceptor and costs ~20x the arithmetic around it; the loops use this module alias.
const M = Math;

export interface LossAndGradient {
  loss: number;
  /** d loss / d logit: a number for the elementwise losses, one entry per class for the softmax ones. */
  grad: number;
}

export interface RowLossAndGradient {
  loss: number;
  grad: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// sigmoid primitives

/** log(1 + e^t) without overflow or cancellation. */
function softplus(t: number): number {
  return M.max(t, 0) + M.log1p(M.exp(-M.abs(t)));
}

interface SigmoidTerms {
  /** sigma(x) */
  p: number;
  /** 1 - sigma(x) = sigma(-x) */
  q: number;
  logP: number;
  logQ: number;
}

function sigmoidTerms(x: number): SigmoidTerms {
  const e = M.exp(-M.abs(x));
  const big = 1 / (1 + e);
  const small = e / (1 + e);
  return x >= 0
    ? { p: big, q: small, logP: -softplus(-x), logQ: -softplus(x) }
    : { p: small, q: big, logP: -softplus(-x), logQ: -softplus(x) };
}

/** BCE(x, y) = -(y log p + (1 - y) log(1 - p)), skipping terms whose label weight is 0. */
function bce(s: SigmoidTerms, y: number): number {
  return -((y !== 0 ? y * s.logP : 0) + (y !== 1 ? (1 - y) * s.logQ : 0));
}

/** d BCE / dx = p - y, written (1 - y) p - y (1 - p) so that y in {0, 1} does not cancel. */
function bceGradient(s: SigmoidTerms, y: number): number {
  return (1 - y) * s.p - y * s.q;
}

function checkFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`family reference: ${name} must be finite, got ${value}`);
}

// ---------------------------------------------------------------------------------------------
// Poly-1 sigmoid focal

export interface PolySigmoidFocalOptions {
  gamma: number;
  /** alpha_t = alpha y' + (1 - alpha)(1 - y'); null: no class balancing (alpha_t = 1). */
  alpha: number | null;
  /** eps; 0 gives the focal loss of today. */
  polyEpsilon?: number;
  /** Keras binary smoothing: y' = y (1 - ls) + ls / 2. */
  labelSmoothing?: number;
  /** false: PolyLoss' published code (eps term not weighted by alpha_t). Default true (issue 17). */
  alphaWeightsPolyTerm?: boolean;
}

export function polySigmoidFocal(x: number, label: number, opts: PolySigmoidFocalOptions): LossAndGradient {
  const gamma = opts.gamma;
  const eps = opts.polyEpsilon ?? 0;
  const ls = opts.labelSmoothing ?? 0;
  checkFinite('polyEpsilon', eps);
  const y = ls !== 0 ? label * (1 - ls) + 0.5 * ls : label;
  const alphaT = opts.alpha === null ? 1 : opts.alpha * y + (1 - opts.alpha) * (1 - y);
  const s = sigmoidTerms(x);
  const ce = bce(s, y);
  const u = y * s.q + (1 - y) * s.p; // 1 - p_t
  const modulating = M.pow(u, gamma);
  const dU = s.p * s.q * (1 - 2 * y); // d(1 - p_t)/dx
  // gamma u^(gamma - 1) du ce = gamma u^gamma (p q / u)(1 - 2y) ce; where u underflows to 0 (hard
  // label, saturated logit) ce vanishes with it and the term's limit is 0.
  const focalTerm = gamma !== 0 && u > 0 ? gamma * modulating * ((s.p * s.q) / u) * (1 - 2 * y) * ce : 0;
  const focalLoss = ce * modulating;
  const focalGrad = modulating * bceGradient(s, y) + focalTerm;
  const polyLoss = eps * u * modulating;
  const polyGrad = eps * (gamma + 1) * modulating * dU;
  if (opts.alphaWeightsPolyTerm === false) {
    return { loss: alphaT * focalLoss + polyLoss, grad: alphaT * focalGrad + polyGrad };
  }
  return { loss: alphaT * (focalLoss + polyLoss), grad: alphaT * (focalGrad + polyGrad) };
}

// ---------------------------------------------------------------------------------------------
// Asymmetric loss

export interface AsymmetricOptions {
  gammaPos: number;
  gammaNeg: number;
  clip: number;
}

export function asymmetric(x: number, y: number, opts: AsymmetricOptions): LossAndGradient {
  const { gammaPos, gammaNeg, clip } = opts;
  const s = sigmoidTerms(x);
  let loss = 0;
  let grad = 0;
  if (y !== 0) {
    // -(1 - p)^g+ log p;  d/dx = g+ (1 - p)^g+ p log p - (1 - p)^(g+ + 1)
    const w = M.pow(s.q, gammaPos);
    loss -= y * w * s.logP;
    grad += y * (gammaPos * w * s.p * s.logP - w * s.q);
  }
  if (y !== 1) {
    if (clip === 0) {
      // p_m = p, log(1 - p_m) = log(1 - p):  d/dx [p^g- log(1 - p)] = g- p^g- (1 - p) log(1 - p) - p^(g- + 1)
      const w = M.pow(s.p, gammaNeg);
      loss -= (1 - y) * w * s.logQ;
      grad -= (1 - y) * (gammaNeg * w * s.q * s.logQ - w * s.p);
    } else if (s.p > clip) {
      const pm = s.p - clip;
      const oneMinusPm = s.q + clip; // 1 - p_m without cancellation
      const logOneMinusPm = M.log(oneMinusPm);
      const w = M.pow(pm, gammaNeg);
      const dPm = s.p * s.q;
      loss -= (1 - y) * w * logOneMinusPm;
      grad -= (1 - y) * (gammaNeg * (w / pm) * dPm * logOneMinusPm - (w * dPm) / oneMinusPm);
    }
  }
  return { loss, grad };
}

// ---------------------------------------------------------------------------------------------
// Varifocal loss

export interface VarifocalOptions {
  alpha: number;
  gamma: number;
  /** Weight of the positives: q (default), or 1 when false. */
  iouWeighted?: boolean;
}

export function varifocal(x: number, q: number, opts: VarifocalOptions): LossAndGradient {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`family reference: varifocal target must be in [0, 1], got ${q}`);
  const s = sigmoidTerms(x);
  const ce = bce(s, q);
  const w = (opts.iouWeighted ?? true) ? q : 1;
  if (q > 0) return { loss: w * ce, grad: w * bceGradient(s, q) };
  // q = 0: alpha p^gamma softplus(x);  d/dx = alpha p^gamma (gamma (1 - p) softplus(x) + p)
  const wn = opts.alpha * M.pow(s.p, opts.gamma);
  return { loss: wn * ce, grad: wn * (opts.gamma * s.q * ce + s.p) };
}

// ---------------------------------------------------------------------------------------------
// Quality focal loss

export interface QualityFocalOptions {
  beta: number;
}

export function qualityFocal(x: number, q: number, opts: QualityFocalOptions): LossAndGradient {
  const beta = opts.beta;
  const s = sigmoidTerms(x);
  const ce = bce(s, q);
  const d = q * s.q - (1 - q) * s.p; // q - p
  const dGrad = bceGradient(s, q); // p - q
  if (d === 0) {
    // |0|^beta = 0 (1 for beta = 0); the first gradient term takes the subgradient 0
    return beta === 0 ? { loss: ce, grad: dGrad } : { loss: 0, grad: 0 };
  }
  const a = M.abs(d);
  const w = M.pow(a, beta);
  // d/dx |q - p|^beta = beta |d|^(beta - 1) sign(d) (-p (1 - p))
  const dW = beta === 0 ? 0 : -beta * (w / a) * M.sign(d) * s.p * s.q;
  return { loss: w * ce, grad: dW * ce + w * dGrad };
}

// ---------------------------------------------------------------------------------------------
// Softmax: Poly-1 focal and logit-adjusted focal

export interface PolySoftmaxFocalOptions {
  gamma: number;
  /** Scalar, or one alpha per class. */
  alpha: number | ArrayLike<number>;
  polyEpsilon?: number;
  /** Keras: y' = y (1 - ls) + ls / C (for a sparse label: of its one-hot row). */
  labelSmoothing?: number;
  /** A sparse label equal to this gives loss 0 and a zero gradient. */
  ignoreIndex?: number | null;
}

function targetRow(label: number | ArrayLike<number>, classes: number, ls: number): Float64Array {
  const y = new Float64Array(classes);
  if (typeof label === 'number') {
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(`family reference: sparse label ${label} outside [0, ${classes})`);
    }
    y[label] = 1;
  } else {
    if (label.length !== classes) throw new RangeError(`family reference: ${label.length} labels for ${classes} classes`);
    for (let j = 0; j < classes; j++) y[j] = label[j];
  }
  if (ls !== 0) for (let j = 0; j < classes; j++) y[j] = y[j] * (1 - ls) + ls / classes;
  return y;
}

export function polySoftmaxFocal(
  logitsRow: ArrayLike<number>,
  label: number | ArrayLike<number>,
  opts: PolySoftmaxFocalOptions,
): RowLossAndGradient {
  const classes = logitsRow.length;
  const grad = new Float64Array(classes);
  if (typeof label === 'number' && opts.ignoreIndex != null && label === opts.ignoreIndex) return { loss: 0, grad };
  const gamma = opts.gamma;
  const eps = opts.polyEpsilon ?? 0;
  checkFinite('polyEpsilon', eps);
  const y = targetRow(label, classes, opts.labelSmoothing ?? 0);
  let argmax = 0;
  for (let j = 1; j < classes; j++) if (logitsRow[j] > logitsRow[argmax]) argmax = j;
  const zMax = logitsRow[argmax];
  let others = 0;
  for (let j = 0; j < classes; j++) if (j !== argmax) others += M.exp(logitsRow[j] - zMax);
  const logSum = M.log1p(others); // log sum exp(z - zMax), exact when the argmax dominates
  const p = new Float64Array(classes);
  const w = new Float64Array(classes); // w_j = p_j dL/dp_j, so dL/dz_k = w_k - p_k sum_j w_j
  let loss = 0;
  let wSum = 0;
  for (let j = 0; j < classes; j++) {
    const logP = logitsRow[j] - zMax - logSum;
    p[j] = M.exp(logP);
    if (y[j] === 0) continue;
    const u = -M.expm1(logP); // 1 - p_j
    const a = typeof opts.alpha === 'number' ? opts.alpha : opts.alpha[j];
    const modulating = M.pow(u, gamma);
    loss += a * y[j] * (-modulating * logP + eps * u * modulating);
    // p dL/dp = a y [gamma u^(gamma-1) p log p - u^gamma - eps (gamma+1) u^gamma p], with
    // u^(gamma-1) log p = u^gamma r, r = log p / u -> -1 as u -> 0.
    const r = u > 0 ? logP / u : -1;
    w[j] = a * y[j] * modulating * (gamma * r * p[j] - 1 - eps * (gamma + 1) * p[j]);
    wSum += w[j];
  }
  for (let k = 0; k < classes; k++) grad[k] = w[k] - p[k] * wSum;
  return { loss, grad };
}

export type LogitAdjustment =
  | { classCounts: ArrayLike<number>; tau?: number }
  | { priors: ArrayLike<number>; tau?: number };

export interface LogitAdjustedFocalOptions extends PolySoftmaxFocalOptions {
  logitAdjustment: LogitAdjustment;
}

/** tau log(pi_j): pi = counts / sum(counts), or the priors as given (a common factor cancels in softmax). */
export function logitAdjustmentShift(adjustment: LogitAdjustment, classes: number): Float64Array {
  const tau = adjustment.tau ?? 1;
  const source = 'priors' in adjustment ? adjustment.priors : adjustment.classCounts;
  if (source.length !== classes) throw new RangeError(`family reference: ${source.length} priors for ${classes} classes`);
  let total = 1;
  if (!('priors' in adjustment)) {
    total = 0;
    for (let j = 0; j < classes; j++) total += source[j];
  }
  const shift = new Float64Array(classes);
  for (let j = 0; j < classes; j++) {
    if (!(source[j] > 0)) throw new RangeError(`family reference: class prior ${j} must be > 0, got ${source[j]}`);
    shift[j] = tau * M.log(source[j] / total);
  }
  return shift;
}

/** The (poly) softmax focal loss of z + tau log(pi); the gradient is with respect to z. */
export function logitAdjustedFocal(
  logitsRow: ArrayLike<number>,
  label: number | ArrayLike<number>,
  opts: LogitAdjustedFocalOptions,
): RowLossAndGradient {
  const shift = logitAdjustmentShift(opts.logitAdjustment, logitsRow.length);
  const adjusted = Float64Array.from(logitsRow, (z, j) => z + shift[j]);
  return polySoftmaxFocal(adjusted, label, opts);
}

// ---------------------------------------------------------------------------------------------
// Reductions: tf.losses.computeWeightedLoss semantics, a zero denominator gives 0

export type FamilyReduction = 'none' | 'sum' | 'mean' | 'sumByNonzeroWeights';

export interface FamilyWeights {
  values: ArrayLike<number>;
  /** Broadcastable to the loss shape (right-aligned, each dimension 1 or equal). */
  shape: readonly number[];
}

export interface FamilyReductionResult {
  /** The weighted losses for 'none', else one number. */
  value: Float64Array;
  /** d sum(value) / d losses[i] (weights are constants). */
  coefficients: Float64Array;
}

function broadcastWeights(weights: FamilyWeights, lossShape: readonly number[]): Float64Array {
  const rank = lossShape.length;
  if (weights.shape.length > rank) throw new RangeError(`family reference: weights [${weights.shape}] do not broadcast to [${lossShape}]`);
  const shape = [...new Array(rank - weights.shape.length).fill(1), ...weights.shape];
  const strides = new Array(rank).fill(0);
  let stride = 1;
  for (let k = rank - 1; k >= 0; k--) {
    if (shape[k] !== 1 && shape[k] !== lossShape[k]) {
      throw new RangeError(`family reference: weights [${weights.shape}] do not broadcast to [${lossShape}]`);
    }
    strides[k] = shape[k] === 1 ? 0 : stride;
    stride *= shape[k];
  }
  const n = lossShape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rest = i;
    let source = 0;
    for (let k = rank - 1; k >= 0; k--) {
      source += (rest % lossShape[k]) * strides[k];
      rest = M.floor(rest / lossShape[k]);
    }
    out[i] = weights.values[source];
  }
  return out;
}

export function reduceLosses(
  losses: ArrayLike<number>,
  lossShape: readonly number[],
  weights: FamilyWeights | null,
  reduction: FamilyReduction,
): FamilyReductionResult {
  const n = losses.length;
  if (n !== lossShape.reduce((a, b) => a * b, 1)) throw new RangeError(`family reference: ${n} losses for shape [${lossShape}]`);
  const w = weights === null ? new Float64Array(n).fill(1) : broadcastWeights(weights, lossShape);
  if (reduction === 'none') return { value: Float64Array.from(losses, (l, i) => l * w[i]), coefficients: w };
  let denominator: number;
  if (reduction === 'sum') denominator = 1;
  else if (weights === null) denominator = n;
  else if (reduction === 'mean') denominator = w.reduce((a, b) => a + b, 0);
  else if (reduction === 'sumByNonzeroWeights') denominator = w.reduce((a, b) => a + (b !== 0 ? 1 : 0), 0);
  else throw new RangeError(`family reference: unknown reduction ${reduction as string}`);
  const coefficients = new Float64Array(n);
  if (denominator === 0) return { value: Float64Array.of(0), coefficients };
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += losses[i] * w[i];
    coefficients[i] = w[i] / denominator;
  }
  return { value: Float64Array.of(total / denominator), coefficients };
}
