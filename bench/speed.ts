// Speed of one training step's loss work: forward + gradient w.r.t. the logits, per call.
//
// Every contender is timed as one call of
//     g = tf.tidy(() => tf.grad(loss)(logits));  s = tf.sum(g);  s.dataSync();  dispose(g, s)
// The sum is the "consume" op: on the tensorflow backend's JS-array path (and on the cpu backend)
// the library's kernels hand their outputs over as JS arrays that TensorFlow only copies in when an
// op uses them, so stopping the clock at tf.grad would leave that copy untimed (with the TensorFlow
// ops, the default on tfjs-node, the gradient is already a TensorFlow tensor). A training step does consume the gradient (the
// matmul backward reads it); one cheap backend op whose scalar result we read forces the gradient
// to exist in the backend, and every contender pays the same op. Its cost alone is measured too.
//
// Contenders run round-robin (one call of each per round, the order rotated every round) after a
// warm-up, so slow drifts of a shared machine hit all of them alike; ratios against the baseline are
// taken per round (same moment) and summarised by their median.
import * as tf from '@tensorflow/tfjs-core';

import * as focal from '../lib/index';
import {addon} from '../lib/native';
import {composedFocalLoss, composedSigmoidFocalLoss} from './composed';
import {SeededRandom, Summary, summarize} from './stats';

export type BackendName = 'tensorflow' | 'cpu';

export const GAMMA = 2;
export const ALPHA = 0.25;

export interface ShapeSpec {
  label: string;      // "4096x1000"
  dims: number[];     // [4096, 1000]
}

export function parseShape(text: string): ShapeSpec {
  const dims = text.trim().toLowerCase().split('x').map((d) => Number(d));
  if (dims.length < 2 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RangeError(`shape '${text}' must be positive integers joined by 'x' with at least ` +
                         `two dimensions (rows x classes), e.g. 4096x1000 or 8x128x128x21`);
  }
  return {label: dims.join('x'), dims};
}

export function shapeRows(dims: number[]): number {
  return dims.slice(0, -1).reduce((a, b) => a * b, 1);
}

export function shapeClasses(dims: number[]): number {
  return dims[dims.length - 1];
}

export type Family = 'softmax' | 'sigmoid';

export interface ContenderInfo {
  id: string;
  label: string;
  family: Family;
  /** Which item of the brief it answers. */
  role: string;
}

/** Ordered as they appear in tables and charts. */
export const CONTENDERS: ContenderInfo[] = [
  {id: 'ce', label: 'tf.losses.softmaxCrossEntropy', family: 'softmax', role: 'baseline (one-hot labels)'},
  {id: 'focal_sparse', label: 'focalLoss, sparse int32 labels', family: 'softmax', role: 'library'},
  {id: 'focal_dense', label: 'focalLoss, one-hot labels', family: 'softmax', role: 'library'},
  {id: 'composed_focal', label: 'focal loss composed of tfjs ops', family: 'softmax', role: 'no library (autodiff)'},
  {id: 'sigmoid_ce', label: 'tf.losses.sigmoidCrossEntropy', family: 'sigmoid', role: 'sigmoid baseline'},
  {id: 'sigmoid_focal', label: 'sigmoidFocalLoss', family: 'sigmoid', role: 'library'},
  {id: 'composed_sigmoid_focal', label: 'sigmoid focal composed of tfjs ops', family: 'sigmoid', role: 'no library (autodiff)'},
];

export const BASELINE_ID = 'ce';
export const SIGMOID_BASELINE_ID = 'sigmoid_ce';

export interface ContenderResult extends ContenderInfo {
  samplesMs: number[];
  summary: Summary;
  /** Per-round time / softmax CE time. */
  ratioVsCe: Summary | null;
  /** Sigmoid contenders: per-round time / sigmoid CE time. */
  ratioVsSigmoidCe: Summary | null;
  error?: string;
}

export interface ShapeResult {
  shape: string;
  dims: number[];
  rows: number;
  classes: number;
  bytesLogits: number;
  contenders: ContenderResult[];
  /** tf.sum + dataSync of a fresh gradient-sized JS-held array: the consume op alone. */
  consumeOnly: Summary;
  /** tf.memory().numTensors after minus before the whole measurement (should be 0). */
  leakedTensors: number;
}

export interface BackendSpeedResult {
  backend: BackendName;
  shapes: ShapeResult[];
}

export interface TimedCase {
  id: string;
  run: () => void;
}

export type ProgressFn = (message: string) => void;

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function maybeCollectGarbage(): void {
  const gc = (globalThis as {gc?: () => void}).gc;
  if (typeof gc === 'function') {
    gc();
  }
}

/** Fewest timed rounds a time budget may cut a measurement down to. */
export const MIN_REPS = 5;

/**
 * Runs each case `warmup` times, then up to `reps` rounds of one call per case, rotating the order
 * every round. Returns the per-call milliseconds by case id, in round order (index r = round r).
 *
 * With `budgetMs`, a slow configuration (e.g. composed ops on the pure-JS backend at millions of
 * elements, seconds per call) stops early: warm-up passes stop once they used a quarter of the
 * budget (at least one pass), and rounds stop when the next one would overrun the budget, but never
 * before MIN_REPS rounds. Fast configurations get all `reps` rounds.
 */
export function runInterleaved(cases: TimedCase[], warmup: number, reps: number,
                               onRound?: (round: number) => void, budgetMs = Infinity): Map<string, number[]> {
  const warmupStart = nowMs();
  for (let pass = 0; pass < warmup; pass++) {
    for (const c of cases) {
      c.run();
    }
    if (nowMs() - warmupStart > budgetMs / 4) {
      break;
    }
  }
  const samples = new Map<string, number[]>(cases.map((c) => [c.id, []]));
  const start = nowMs();
  let lastRoundMs = 0;
  for (let round = 0; round < reps; round++) {
    if (round >= MIN_REPS && nowMs() - start + lastRoundMs > budgetMs) {
      break;
    }
    const roundStart = nowMs();
    // Garbage from the previous round is collected outside the timed calls when node exposes gc.
    maybeCollectGarbage();
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + round) % cases.length];
      const callStart = nowMs();
      c.run();
      samples.get(c.id)!.push(nowMs() - callStart);
    }
    lastRoundMs = nowMs() - roundStart;
    onRound?.(round + 1);
  }
  return samples;
}

/** Per-round ratios a[r] / b[r] of two interleaved sample lists. */
export function perRoundRatios(a: number[], b: number[]): number[] {
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(a[i] / b[i]);
  }
  return out;
}

export interface SpeedInputs {
  logits: tf.Tensor;
  sparseLabels: tf.Tensor;
  oneHotLabels: tf.Tensor;
  gradientSizedValues: Float32Array;
}

/** Logits ~ N(0, 2^2), labels uniform over the classes; fixed seed so every run sees the same data. */
export function makeSpeedInputs(dims: number[], seed = 1234): SpeedInputs {
  const rows = shapeRows(dims);
  const classes = shapeClasses(dims);
  const random = new SeededRandom(seed);
  const logitValues = new Float32Array(rows * classes);
  for (let i = 0; i < logitValues.length; i++) {
    logitValues[i] = 2 * random.nextNormal();
  }
  const labelValues = new Int32Array(rows);
  const oneHotValues = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    labelValues[r] = random.nextInt(classes);
    oneHotValues[r * classes + labelValues[r]] = 1;
  }
  return {
    logits: tf.tensor(logitValues, dims, 'float32'),
    sparseLabels: tf.tensor(labelValues, dims.slice(0, -1), 'int32'),
    oneHotLabels: tf.tensor(oneHotValues, dims, 'float32'),
    gradientSizedValues: new Float32Array(rows * classes).fill(0.5),
  };
}

export function disposeSpeedInputs(inputs: SpeedInputs): void {
  tf.dispose([inputs.logits, inputs.sparseLabels, inputs.oneHotLabels]);
}

/** The scalar loss each contender differentiates, as a function of the logits. */
export function lossFunction(id: string, inputs: SpeedInputs): (logits: tf.Tensor) => tf.Scalar {
  const {sparseLabels, oneHotLabels} = inputs;
  switch (id) {
    case 'ce':
      return (x) => tf.losses.softmaxCrossEntropy(oneHotLabels, x) as tf.Scalar;
    case 'focal_sparse':
      return (x) => focal.focalLoss(sparseLabels, x, {gamma: GAMMA, alpha: ALPHA}) as tf.Scalar;
    case 'focal_dense':
      return (x) => focal.focalLoss(oneHotLabels, x, {gamma: GAMMA, alpha: ALPHA}) as tf.Scalar;
    case 'composed_focal':
      return (x) => composedFocalLoss(oneHotLabels, x, GAMMA, ALPHA);
    case 'sigmoid_ce':
      // One positive per row (one-hot as multi-hot targets), the RetinaNet-style setting.
      return (x) => tf.losses.sigmoidCrossEntropy(oneHotLabels, x) as tf.Scalar;
    case 'sigmoid_focal':
      return (x) => focal.sigmoidFocalLoss(oneHotLabels, x, {gamma: GAMMA, alpha: ALPHA}) as tf.Scalar;
    case 'composed_sigmoid_focal':
      return (x) => composedSigmoidFocalLoss(oneHotLabels, x, GAMMA, ALPHA);
    default:
      throw new Error(`unknown contender '${id}'`);
  }
}

/** One training step's loss work: forward + gradient, then the consume op; everything disposed. */
export function trainingStepCall(loss: (logits: tf.Tensor) => tf.Scalar, logits: tf.Tensor): () => void {
  const gradient = tf.grad(loss);
  return () => {
    const g = tf.tidy(() => gradient(logits));
    const consumed = tf.sum(g);
    const value = consumed.dataSync()[0];
    tf.dispose([g, consumed]);
    if (!Number.isFinite(value)) {
      throw new Error(`gradient sum is ${value}`);
    }
  };
}

/** The consume op alone, on a fresh gradient-sized array held in JS (as the library outputs are). */
function consumeOnlyCall(inputs: SpeedInputs, dims: number[]): () => void {
  return () => {
    const g = tf.tensor(inputs.gradientSizedValues, dims, 'float32');
    const consumed = tf.sum(g);
    consumed.dataSync();
    tf.dispose([g, consumed]);
  };
}

export interface SpeedOptions {
  backend: BackendName;
  shapes: ShapeSpec[];
  reps: number;
  warmup: number;
  contenders?: string[];
  progress?: ProgressFn;
  /** Time budget per shape for the timed rounds, in seconds (see runInterleaved). */
  budgetSeconds?: number;
}

export function measureShape(options: SpeedOptions, shape: ShapeSpec): ShapeResult {
  const ids = options.contenders ?? CONTENDERS.map((c) => c.id);
  const before = tf.memory().numTensors;
  const inputs = makeSpeedInputs(shape.dims);
  const cases: TimedCase[] = [];
  const errors = new Map<string, string>();
  for (const id of ids) {
    try {
      const call = trainingStepCall(lossFunction(id, inputs), inputs.logits);
      call();  // a contender that cannot run at all is reported, not timed
      cases.push({id, run: call});
    } catch (e) {
      errors.set(id, (e as Error).message);
    }
  }
  cases.push({id: '__consume_only', run: consumeOnlyCall(inputs, shape.dims)});

  const samples = runInterleaved(cases, options.warmup, options.reps, (round) => {
    options.progress?.(`speed ${options.backend} ${shape.label}: round ${round}/${options.reps}`);
  }, (options.budgetSeconds ?? Infinity) * 1000);
  disposeSpeedInputs(inputs);
  const leakedTensors = tf.memory().numTensors - before;

  const ceSamples = samples.get(BASELINE_ID);
  const sigmoidCeSamples = samples.get(SIGMOID_BASELINE_ID);
  const contenders: ContenderResult[] = [];
  for (const info of CONTENDERS) {
    if (!ids.includes(info.id)) {
      continue;
    }
    const own = samples.get(info.id) ?? [];
    contenders.push({
      ...info,
      samplesMs: own,
      summary: summarize(own),
      ratioVsCe: ceSamples && own.length > 0 ? summarize(perRoundRatios(own, ceSamples)) : null,
      ratioVsSigmoidCe: info.family === 'sigmoid' && sigmoidCeSamples && own.length > 0 ?
          summarize(perRoundRatios(own, sigmoidCeSamples)) : null,
      ...(errors.has(info.id) ? {error: errors.get(info.id)} : {}),
    });
  }
  const rows = shapeRows(shape.dims);
  const classes = shapeClasses(shape.dims);
  return {
    shape: shape.label, dims: shape.dims, rows, classes, bytesLogits: rows * classes * 4,
    contenders, consumeOnly: summarize(samples.get('__consume_only') ?? []), leakedTensors,
  };
}

export function measureSpeed(options: SpeedOptions): BackendSpeedResult {
  const shapes: ShapeResult[] = [];
  for (const shape of options.shapes) {
    options.progress?.(`speed ${options.backend} ${shape.label}: preparing`);
    shapes.push(measureShape(options, shape));
  }
  return {backend: options.backend, shapes};
}

// ---------------------------------------------------------------------------------------------
// Thread scaling of the library's focalLoss (full tfjs call, as above) at 1 vs 2 threads.

export interface ThreadScalingResult {
  backend: BackendName;
  shape: string;
  threads: Array<{threads: number; summary: Summary}>;
  /** Per-round t(1 thread) / t(2 threads). */
  speedup: Summary;
}

export function measureThreadScaling(backend: BackendName, shape: ShapeSpec, reps: number,
                                     warmup: number, progress?: ProgressFn,
                                     threadCounts: number[] = [1, 2]): ThreadScalingResult {
  const original = focal.getNumThreads();
  const inputs = makeSpeedInputs(shape.dims);
  const call = trainingStepCall(lossFunction('focal_sparse', inputs), inputs.logits);
  const cases: TimedCase[] = threadCounts.map((n) => ({
    id: String(n),
    run: () => {
      focal.setNumThreads(n);
      call();
    },
  }));
  try {
    const samples = runInterleaved(cases, warmup, reps, (round) => {
      progress?.(`threads ${backend} ${shape.label}: round ${round}/${reps}`);
    });
    const first = samples.get(String(threadCounts[0]))!;
    const last = samples.get(String(threadCounts[threadCounts.length - 1]))!;
    return {
      backend, shape: shape.label,
      threads: threadCounts.map((n) => ({threads: n, summary: summarize(samples.get(String(n))!)})),
      speedup: summarize(perRoundRatios(first, last)),
    };
  } finally {
    focal.setNumThreads(original);
    disposeSpeedInputs(inputs);
  }
}

// ---------------------------------------------------------------------------------------------
// The kernel alone: one direct addon call (no tfjs) against copying the same bytes.

export interface KernelResult {
  shape: string;
  rows: number;
  classes: number;
  /** Bytes read (logits) + written (gradient) per call. */
  bytesMoved: number;
  defaultThreads: number;
  cases: Array<{id: string; label: string; summary: Summary; gigabytesPerSecond: number}>;
  /** Per-round kernel (forward + gradient, default threads) time / copy time. */
  kernelOverCopy: Summary;
}

export function measureKernel(shape: ShapeSpec, reps: number, warmup: number,
                              progress?: ProgressFn): KernelResult {
  const native = addon();
  const rows = shapeRows(shape.dims);
  const classes = shapeClasses(shape.dims);
  const random = new SeededRandom(99);
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < logits.length; i++) {
    logits[i] = 2 * random.nextNormal();
  }
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    labels[r] = random.nextInt(classes);
  }
  const lossOut = new Float32Array(rows);
  const gradOut = new Float32Array(rows * classes);
  const copyOut = new Float32Array(rows * classes);
  const defaultThreads = native.getNumThreads();
  const kernelCall = (withGradient: boolean) => () => native.softmaxFocalLoss({
    logits, labels, rows, classes, gamma: GAMMA, alpha: ALPHA, labelSmoothing: 0,
    ignoreIndex: null, fromLogits: true, lossOut, gradOut: withGradient ? gradOut : null,
  });
  const withThreads = (n: number, f: () => void) => () => {
    native.setNumThreads(n);
    f();
  };
  const labels_: Record<string, string> = {
    kernel: `kernel forward + gradient (${defaultThreads} threads)`,
    kernel_1t: 'kernel forward + gradient (1 thread)',
    kernel_forward: `kernel forward only (${defaultThreads} threads)`,
    copy: 'copy: Float32Array.set (read logits once, write gradient once)',
  };
  const cases: TimedCase[] = [
    {id: 'kernel', run: withThreads(defaultThreads, kernelCall(true))},
    {id: 'kernel_1t', run: withThreads(1, kernelCall(true))},
    {id: 'kernel_forward', run: withThreads(defaultThreads, kernelCall(false))},
    {id: 'copy', run: () => copyOut.set(logits)},
  ];
  try {
    const samples = runInterleaved(cases, warmup, reps, (round) => {
      progress?.(`kernel ${shape.label}: round ${round}/${reps}`);
    });
    const bytesMoved = 2 * rows * classes * 4;
    return {
      shape: shape.label, rows, classes, bytesMoved, defaultThreads,
      cases: cases.map((c) => {
        const summary = summarize(samples.get(c.id)!);
        // Forward only writes no gradient: it reads the logits once.
        const bytes = c.id === 'kernel_forward' ? bytesMoved / 2 : bytesMoved;
        return {id: c.id, label: labels_[c.id], summary, gigabytesPerSecond: bytes / (summary.median * 1e6)};
      }),
      kernelOverCopy: summarize(perRoundRatios(samples.get('kernel')!, samples.get('copy')!)),
    };
  } finally {
    native.setNumThreads(defaultThreads);
  }
}
