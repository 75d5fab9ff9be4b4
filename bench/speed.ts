// Speed of one training step's loss work: forward + gradient w.r.t. the logits, per call.
//
// Every contender is timed as one call of
//     g = tf.tidy(() => tf.grad(loss)(logits));  s = tf.sum(g);  s.dataSync();  dispose(g, s)
// The sum is the "consume" op: on the tensorflow backend's JS-array path (and on the cpu backend)
// the library's kernels hand their outputs over as JS arrays that TensorFlow only copies in when an
// op uses them, so stopping the clock at tf.grad would leave that copy untimed (with the TensorFlow
// ops, the default on tfjs-node, the gradient is already a TensorFlow tensor). A training step
// does consume the gradient (the matmul backward reads it); one cheap backend op whose scalar
// result we read forces the gradient to exist in the backend, and every contender pays the same
// op. Its cost alone is measured too.
//
// Steady state, not cold calls: training runs thousands of steps, so what users see is the time per
// call once V8 has optimised the JS around the kernels (which takes thousands of calls) and caches
// are warm. Hence runInterleaved first warms up for at least `warmup` passes over all contenders AND
// at least `warmupMs` of wall time; then it picks per contender a number of back-to-back calls per
// sample (1, 2, 5, 10, 20, 50, ... as Python's timeit.autorange) so that one sample lasts at least
// `minSampleMs`: a single sub-millisecond call would mostly measure timer and scheduling noise. A
// sample is the mean time per call over its calls. Slow contenders keep one call per sample. The
// warm-up already calls each contender in such batches, so that a fast contender (which needs the
// most calls to reach steady state) gets as much of the warm-up time as a slow one.
//
// Contenders run round-robin (one sample of each per round, the order rotated every round), so slow
// drifts of a shared machine hit all of them alike; ratios against the baseline are taken per round
// (same moment) and summarised by their median.
import * as os from 'os';

import * as tf from '@tensorflow/tfjs-core';

import * as focal from '../lib/index';
import {addon} from '../lib/native';
import {ELEMENTWISE_OPTION_DEFAULTS} from '../lib/kernel_contract';
import {elementwiseFamilyComposite} from '../lib/paths/composite_family';
import {composedFocalLoss, composedSigmoidFocalLoss} from './composed';
import {SeededRandom, Summary, summarize} from '../lib/compare/stats';

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

/** The elementwise family's contenders: id, label and the kernel attrs of the loss. */
const FAMILY_CONTENDERS: Array<[string, string, focal.SigmoidFocalLossAttrs]> = [
  ['poly1_sigmoid_focal', 'sigmoidFocalLoss, polyEpsilon 1', {gamma: 2, alpha: 0.25, labelSmoothing: 0, fromLogits: true, polyEpsilon: 1}],
  ['varifocal', 'varifocalLoss', {loss: 'varifocal', gamma: 2, alpha: 0.75, labelSmoothing: 0, fromLogits: true}],
  ['quality_focal', 'qualityFocalLoss', {loss: 'qualityFocal', gamma: 2, alpha: -1, labelSmoothing: 0, fromLogits: true}],
  ['asymmetric', 'asymmetricLoss', {loss: 'asymmetric', gamma: 0, gammaPos: 0, gammaNeg: 4, clip: 0.05, alpha: -1, labelSmoothing: 0, fromLogits: true}],
];

/** Ordered as they appear in tables and charts. */
export const CONTENDERS: ContenderInfo[] = [
  {id: 'ce', label: 'tf.losses.softmaxCrossEntropy', family: 'softmax', role: 'baseline (one-hot labels)'},
  {id: 'focal_sparse', label: 'focalLoss, sparse int32 labels', family: 'softmax', role: 'library'},
  {id: 'focal_dense', label: 'focalLoss, one-hot labels', family: 'softmax', role: 'library'},
  {id: 'focal_cast_onehot', label: 'focalLoss, one-hot labels from tf.cast(tf.oneHot(…))', family: 'softmax',
   role: 'library (one-hot labels made by tfjs ops)'},
  {id: 'composed_focal', label: 'focal loss composed of tfjs ops', family: 'softmax', role: 'no library (autodiff)'},
  // The softmax family (issue 17), sparse labels.
  {id: 'poly_focal', label: 'focalLoss, Poly-1 (polyEpsilon 1)', family: 'softmax', role: 'library (family)'},
  {id: 'logit_adjusted_focal', label: 'focalLoss, logit-adjusted (long-tailed counts)', family: 'softmax',
   role: 'library (family)'},
  {id: 'sigmoid_ce', label: 'tf.losses.sigmoidCrossEntropy', family: 'sigmoid', role: 'sigmoid baseline'},
  {id: 'sigmoid_focal', label: 'sigmoidFocalLoss', family: 'sigmoid', role: 'library'},
  {id: 'composed_sigmoid_focal', label: 'sigmoid focal composed of tfjs ops', family: 'sigmoid', role: 'no library (autodiff)'},
  // The elementwise family (issue 17): each fused loss and its composite of tfjs ops.
  ...FAMILY_CONTENDERS.flatMap(([id, label]) => [
    {id, label, family: 'sigmoid' as Family, role: 'library (elementwise family)'},
    {id: `composed_${id}`, label: `${label} composed of tfjs ops`, family: 'sigmoid' as Family, role: 'no library (autodiff)'},
  ]),
];

export const BASELINE_ID = 'ce';
export const SIGMOID_BASELINE_ID = 'sigmoid_ce';

export interface ContenderResult extends ContenderInfo {
  /** One per round: the mean milliseconds per call over `callsPerSample` back-to-back calls. */
  samplesMs: number[];
  /** Back-to-back calls per sample, chosen after the warm-up (see runInterleaved). */
  callsPerSample: number;
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
  consumeOnlyCallsPerSample: number;
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

/** Default wall time of the warm-up per measurement (see runInterleaved). */
export const DEFAULT_WARMUP_MS = 2000;
/** Default shortest sample: calls faster than this are repeated back to back within one sample. */
export const DEFAULT_MIN_SAMPLE_MS = 5;
/** Most back-to-back calls in one sample. */
export const MAX_CALLS_PER_SAMPLE = 10000;
/** Last warm-up batches per case whose fastest time per call sets the calls per sample. */
const CALIBRATION_BATCHES = 5;

/** How many warm-up passes, timed rounds and calls per sample a measurement uses. */
export interface TimingOptions {
  /** Least number of warm-up passes over all cases. */
  warmup: number;
  /** Timed rounds (one sample of every case each). */
  reps: number;
  /** Least wall time of the warm-up, in ms (default DEFAULT_WARMUP_MS). */
  warmupMs?: number;
  /** Shortest sample in ms: faster cases get several calls per sample (default DEFAULT_MIN_SAMPLE_MS). */
  minSampleMs?: number;
  /**
   * Give every case the same calls per sample (the most any of them needs). For cases compared
   * as a ratio of costs that depend on the caches: a case repeated back to back finds more of its
   * data in the cache than one called once between others.
   */
  sameCallsPerSample?: boolean;
  /** Milliseconds since an arbitrary origin (default: the process's high-resolution clock); tests pass a fake one. */
  clock?: () => number;
}

export interface InterleavedSamples {
  /** Per case id, one sample per round (index r = round r): mean milliseconds per call. */
  samples: Map<string, number[]>;
  /** Per case id, the back-to-back calls each of its samples averages. */
  callsPerSample: Map<string, number>;
}

/**
 * The first of 1, 2, 5, 10, 20, 50, ... (as Python's timeit.autorange) whose calls take at least
 * `minSampleMs` at `perCallMs` each, at most MAX_CALLS_PER_SAMPLE.
 */
export function autorangeCalls(perCallMs: number, minSampleMs: number): number {
  for (let decade = 1; ; decade *= 10) {
    for (const step of [1, 2, 5]) {
      const calls = step * decade;
      if (calls >= MAX_CALLS_PER_SAMPLE || calls * perCallMs >= minSampleMs) {
        return Math.min(calls, MAX_CALLS_PER_SAMPLE);
      }
    }
  }
}

/**
 * Warms up, then runs up to `reps` rounds of one sample per case, rotating the order every round.
 *
 * Warm-up: passes over all cases until both `warmup` passes and `warmupMs` of wall time are done.
 * In a pass every case runs one batch of back-to-back calls, as many as a sample would take given
 * its calls so far (one call in the first pass): so each case gets a similar share of the warm-up
 * time rather than the same number of calls, and the fast ones, which take thousands of calls
 * before V8 has optimised the JS around them, get the most. After the warm-up each case keeps the
 * calls per sample given by the fastest time per call of its last few batches (autorangeCalls); a
 * sample is that many back-to-back calls timed together, divided by their number. With no warm-up
 * at all (`warmup` and `warmupMs` both 0) nothing is known about the cases and every sample is one
 * cold call.
 *
 * With `budgetMs`, a slow configuration (e.g. composed ops on the pure-JS backend at millions of
 * elements, seconds per call) stops early: warm-up passes stop once they used a quarter of the
 * budget (at least one pass), and rounds stop when the next one would overrun the budget, but never
 * before MIN_REPS rounds. Fast configurations get all `reps` rounds.
 */
export function runInterleaved(cases: TimedCase[], timing: TimingOptions, onRound?: (round: number) => void,
                               budgetMs = Infinity): InterleavedSamples {
  const warmupMs = timing.warmupMs ?? DEFAULT_WARMUP_MS;
  const minSampleMs = timing.minSampleMs ?? DEFAULT_MIN_SAMPLE_MS;
  const now = timing.clock ?? nowMs;
  const recentPerCallMs = new Map<string, number[]>(cases.map((c) => [c.id, []]));
  const callsFor = (id: string): number => {
    const recent = recentPerCallMs.get(id)!;
    // The fastest: GC pauses, preemption and a still-cold first call only ever make a batch slower.
    return recent.length === 0 ? 1 : autorangeCalls(Math.min(...recent), minSampleMs);
  };
  const warmupStart = now();
  for (let pass = 0; pass < timing.warmup || now() - warmupStart < warmupMs; pass++) {
    for (const c of cases) {
      const calls = callsFor(c.id);
      const batchStart = now();
      for (let i = 0; i < calls; i++) {
        c.run();
      }
      const recent = recentPerCallMs.get(c.id)!;
      recent.push((now() - batchStart) / calls);
      if (recent.length > CALIBRATION_BATCHES) {
        recent.shift();
      }
    }
    if (now() - warmupStart > budgetMs / 4) {
      break;
    }
  }
  const callsPerSample = new Map<string, number>(cases.map((c) => [c.id, callsFor(c.id)]));
  if (timing.sameCallsPerSample) {
    const most = Math.max(...callsPerSample.values());
    for (const id of callsPerSample.keys()) {
      callsPerSample.set(id, most);
    }
  }

  const samples = new Map<string, number[]>(cases.map((c) => [c.id, []]));
  const start = now();
  let lastRoundMs = 0;
  for (let round = 0; round < timing.reps; round++) {
    if (round >= MIN_REPS && now() - start + lastRoundMs > budgetMs) {
      break;
    }
    const roundStart = now();
    // Garbage from the previous round is collected outside the timed calls when node exposes gc.
    maybeCollectGarbage();
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + round) % cases.length];
      const calls = callsPerSample.get(c.id)!;
      const sampleStart = now();
      for (let i = 0; i < calls; i++) {
        c.run();
      }
      samples.get(c.id)!.push((now() - sampleStart) / calls);
    }
    lastRoundMs = now() - roundStart;
    onRound?.(round + 1);
  }
  return {samples, callsPerSample};
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
  /** The same one-hot labels as users make them with tfjs ops: tf.cast(tf.oneHot(...), 'float32'). */
  castOneHotLabels: tf.Tensor;
  /** 0.7 on the positives: quality targets for varifocal / quality focal. */
  qualityTargets: tf.Tensor;
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
  const sparseLabels = tf.tensor(labelValues, dims.slice(0, -1), 'int32');
  return {
    logits: tf.tensor(logitValues, dims, 'float32'),
    sparseLabels,
    oneHotLabels: tf.tensor(oneHotValues, dims, 'float32'),
    castOneHotLabels: tf.tidy(() => tf.cast(tf.oneHot(sparseLabels, classes), 'float32')),
    qualityTargets: tf.tensor(oneHotValues.map((v) => v * 0.7), dims, 'float32'),
    gradientSizedValues: new Float32Array(rows * classes).fill(0.5),
  };
}

export function disposeSpeedInputs(inputs: SpeedInputs): void {
  tf.dispose([inputs.logits, inputs.sparseLabels, inputs.oneHotLabels, inputs.castOneHotLabels,
              inputs.qualityTargets]);
}

/** The scalar loss each contender differentiates, as a function of the logits. */
export function lossFunction(id: string, inputs: SpeedInputs): (logits: tf.Tensor) => tf.Scalar {
  const {sparseLabels, oneHotLabels, castOneHotLabels} = inputs;
  switch (id) {
    case 'ce':
      return (x) => tf.losses.softmaxCrossEntropy(oneHotLabels, x) as tf.Scalar;
    case 'focal_sparse':
      return (x) => focal.focalLoss(sparseLabels, x, {gamma: GAMMA, alpha: ALPHA}) as tf.Scalar;
    case 'focal_dense':
      return (x) => focal.focalLoss(oneHotLabels, x, {gamma: GAMMA, alpha: ALPHA}) as tf.Scalar;
    case 'focal_cast_onehot':
      return (x) => focal.focalLoss(castOneHotLabels, x, {gamma: GAMMA, alpha: ALPHA}) as tf.Scalar;
    case 'composed_focal':
      return (x) => composedFocalLoss(oneHotLabels, x, GAMMA, ALPHA);
    case 'poly_focal':
      return (x) => focal.focalLoss(sparseLabels, x, {gamma: GAMMA, alpha: ALPHA, polyEpsilon: 1}) as tf.Scalar;
    case 'logit_adjusted_focal': {
      // Counts falling 100:1 from the first class to the last.
      const classes = inputs.logits.shape[inputs.logits.rank - 1];
      const classCounts = Array.from({length: classes}, (_, j) => Math.round(1000 * 100 ** (-j / Math.max(1, classes - 1))));
      return (z) => focal.focalLoss(sparseLabels, z, {gamma: GAMMA, alpha: ALPHA, logitAdjustment: {classCounts}}) as tf.Scalar;
    }
    case 'sigmoid_ce':
      // One positive per row (one-hot as multi-hot targets), the RetinaNet-style setting.
      return (x) => tf.losses.sigmoidCrossEntropy(oneHotLabels, x) as tf.Scalar;
    case 'sigmoid_focal':
      return (x) => focal.sigmoidFocalLoss(oneHotLabels, x, {gamma: GAMMA, alpha: ALPHA}) as tf.Scalar;
    case 'composed_sigmoid_focal':
      return (x) => composedSigmoidFocalLoss(oneHotLabels, x, GAMMA, ALPHA);
    default: {
      // The family: quality targets 0.7 on the positives (hard labels for the asymmetric loss).
      const entry = FAMILY_CONTENDERS.find(([fid]) => id === fid || id === `composed_${fid}`);
      if (entry === undefined) throw new Error(`unknown contender '${id}'`);
      const attrs = entry[2];
      const targets = attrs.loss === 'varifocal' || attrs.loss === 'qualityFocal' ? inputs.qualityTargets : oneHotLabels;
      if (id.startsWith('composed_')) {
        return (x) => elementwiseFamilyComposite(
            targets, x, {...ELEMENTWISE_OPTION_DEFAULTS, loss: 'focal', ...attrs, reduction: 'mean'}) as tf.Scalar;
      }
      switch (attrs.loss) {
        case 'varifocal': return (x) => focal.varifocalLoss(targets, x) as tf.Scalar;
        case 'qualityFocal': return (x) => focal.qualityFocalLoss(targets, x) as tf.Scalar;
        case 'asymmetric': return (x) => focal.asymmetricLoss(targets, x) as tf.Scalar;
        default: return (x) => focal.sigmoidFocalLoss(targets, x, {gamma: 2, alpha: 0.25, polyEpsilon: 1}) as tf.Scalar;
      }
    }
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

export interface SpeedOptions extends TimingOptions {
  backend: BackendName;
  shapes: ShapeSpec[];
  contenders?: string[];
  progress?: ProgressFn;
  /** Time budget per shape for the warm-up and timed rounds, in seconds (see runInterleaved). */
  budgetSeconds?: number;
}

const CONSUME_ONLY_ID = '__consume_only';

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
  cases.push({id: CONSUME_ONLY_ID, run: consumeOnlyCall(inputs, shape.dims)});

  const {samples, callsPerSample} = runInterleaved(cases, options, (round) => {
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
      // A contender that failed was not timed: 0 calls per sample.
      callsPerSample: callsPerSample.get(info.id) ?? 0,
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
    contenders, consumeOnly: summarize(samples.get(CONSUME_ONLY_ID) ?? []),
    consumeOnlyCallsPerSample: callsPerSample.get(CONSUME_ONLY_ID) ?? 0, leakedTensors,
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
// The kernel called directly (no tfjs), into preallocated outputs.

type Addon = ReturnType<typeof addon>;

interface KernelInputs {
  rows: number;
  classes: number;
  logits: Float32Array;
  labels: Int32Array;
  lossOut: Float32Array;
  gradOut: Float32Array;
}

/** Logits ~ N(0, 2^2), sparse labels uniform over the classes, fixed seed; outputs allocated once. */
function makeKernelInputs(dims: number[]): KernelInputs {
  const rows = shapeRows(dims);
  const classes = shapeClasses(dims);
  const random = new SeededRandom(99);
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < logits.length; i++) {
    logits[i] = 2 * random.nextNormal();
  }
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    labels[r] = random.nextInt(classes);
  }
  return {rows, classes, logits, labels, lossOut: new Float32Array(rows), gradOut: new Float32Array(rows * classes)};
}

/** One addon call (forward, plus the gradient when asked) on `threads` kernel threads. */
function kernelCall(native: Addon, inputs: KernelInputs, threads: number, withGradient: boolean): () => void {
  const {logits, labels, rows, classes, lossOut, gradOut} = inputs;
  return () => {
    // Only records the count the next call uses: cheap enough to repeat before every call.
    native.setNumThreads(threads);
    native.softmaxFocalLoss({
      logits, labels, rows, classes, gamma: GAMMA, alpha: ALPHA, labelSmoothing: 0,
      ignoreIndex: null, fromLogits: true, lossOut, gradOut: withGradient ? gradOut : null,
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Thread scaling of the library's focalLoss: the full tfjs call (as above) and the kernel alone,
// at 1, 2 and (on larger machines) all logical cores.

/** 1 and 2 kernel threads, and the machine's parallelism when it is larger (1→16 on 16 cores). */
export function threadCountsToMeasure(): number[] {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return cores > 2 ? [1, 2, cores] : [1, 2];
}

export interface ThreadCountTiming {
  threads: number;
  summary: Summary;
  callsPerSample: number;
  /** Per-round t(first thread count, 1) / t(this thread count). */
  speedup: Summary;
}

export interface ThreadScalingResult {
  backend: BackendName;
  shape: string;
  /** focalLoss with sparse labels, the full tfjs call as in the speed section. */
  step: ThreadCountTiming[];
  /** The kernel alone (direct addon call, forward + gradient), in the same rounds as `step`. */
  kernel: ThreadCountTiming[];
}

export function measureThreadScaling(backend: BackendName, shape: ShapeSpec, timing: TimingOptions,
                                     progress?: ProgressFn,
                                     threadCounts: number[] = threadCountsToMeasure()): ThreadScalingResult {
  const native = addon();
  const original = native.getNumThreads();
  const inputs = makeSpeedInputs(shape.dims);
  const kernelInputs = makeKernelInputs(shape.dims);
  const step = trainingStepCall(lossFunction('focal_sparse', inputs), inputs.logits);
  // Both kinds in one interleaved run: the step and kernel speedups are measured at the same moments.
  const cases: TimedCase[] = threadCounts.flatMap((n) => [
    {
      id: `step_${n}`,
      run: () => {
        native.setNumThreads(n);
        step();
      },
    },
    {id: `kernel_${n}`, run: kernelCall(native, kernelInputs, n, true)},
  ]);
  try {
    const {samples, callsPerSample} = runInterleaved(cases, timing, (round) => {
      progress?.(`threads ${backend} ${shape.label}: round ${round}/${timing.reps}`);
    });
    const timings = (kind: 'step' | 'kernel'): ThreadCountTiming[] => {
      const first = samples.get(`${kind}_${threadCounts[0]}`)!;
      return threadCounts.map((n) => {
        const own = samples.get(`${kind}_${n}`)!;
        return {threads: n, summary: summarize(own), callsPerSample: callsPerSample.get(`${kind}_${n}`)!,
                speedup: summarize(perRoundRatios(first, own))};
      });
    };
    return {backend, shape: shape.label, step: timings('step'), kernel: timings('kernel')};
  } finally {
    native.setNumThreads(original);
    disposeSpeedInputs(inputs);
  }
}

// ---------------------------------------------------------------------------------------------
// The kernel alone: one direct addon call (no tfjs) against copying the same bytes.

export interface KernelCaseResult {
  id: string;
  label: string;
  summary: Summary;
  callsPerSample: number;
  gigabytesPerSecond: number;
}

export interface KernelResult {
  shape: string;
  rows: number;
  classes: number;
  /** Bytes read (logits) + written (gradient) per call. */
  bytesMoved: number;
  defaultThreads: number;
  cases: KernelCaseResult[];
  /** Per-round kernel (forward + gradient, default threads) time / copy time. */
  kernelOverCopy: Summary;
}

export function measureKernel(shape: ShapeSpec, timing: TimingOptions, progress?: ProgressFn): KernelResult {
  const native = addon();
  const inputs = makeKernelInputs(shape.dims);
  const {rows, classes, logits} = inputs;
  const copyOut = new Float32Array(rows * classes);
  const defaultThreads = native.getNumThreads();
  const labels: Record<string, string> = {
    kernel: `kernel forward + gradient (${defaultThreads} threads)`,
    kernel_1t: 'kernel forward + gradient (1 thread)',
    kernel_forward: `kernel forward only (${defaultThreads} threads)`,
    copy: 'copy: Float32Array.set (read logits once, write gradient once)',
  };
  const cases: TimedCase[] = [
    {id: 'kernel', run: kernelCall(native, inputs, defaultThreads, true)},
    {id: 'kernel_1t', run: kernelCall(native, inputs, 1, true)},
    {id: 'kernel_forward', run: kernelCall(native, inputs, defaultThreads, false)},
    {id: 'copy', run: () => copyOut.set(logits)},
  ];
  try {
    // The kernel and the copy move the same bytes through the same caches: same repetition.
    const {samples, callsPerSample} = runInterleaved(cases, {...timing, sameCallsPerSample: true}, (round) => {
      progress?.(`kernel ${shape.label}: round ${round}/${timing.reps}`);
    });
    const bytesMoved = 2 * rows * classes * 4;
    return {
      shape: shape.label, rows, classes, bytesMoved, defaultThreads,
      cases: cases.map((c) => {
        const summary = summarize(samples.get(c.id)!);
        // Forward only writes no gradient: it reads the logits once.
        const bytes = c.id === 'kernel_forward' ? bytesMoved / 2 : bytesMoved;
        return {id: c.id, label: labels[c.id], summary, callsPerSample: callsPerSample.get(c.id)!,
                gigabytesPerSecond: bytes / (summary.median * 1e6)};
      }),
      kernelOverCopy: summarize(perRoundRatios(samples.get('kernel')!, samples.get('copy')!)),
    };
  } finally {
    native.setNumThreads(defaultThreads);
  }
}
