// Effect of the loss on an imbalanced problem: the same small MLP (784 -> hidden -> 10, ReLU) is
// trained on the imbalanced MNIST subset of dataset.ts with four losses, with the same seeds (same
// initial weights and the same batch order for every loss under one seed), and evaluated on the
// balanced held-out digits.
import * as tf from '@tensorflow/tfjs-core';

import * as focal from '../lib/index';
import {DatasetOptions, ImbalancedMnist, loadImbalancedMnist, NUM_CLASSES, PIXELS} from './dataset';
import {ProgressFn} from './speed';
import {mean, SeededRandom, standardDeviation, Summary, summarize} from './stats';

export type EffectLossId = 'ce' | 'cb_ce' | 'focal' | 'cb_focal' | 'la_ce' | 'la_focal';

export interface EffectLossInfo {
  id: EffectLossId;
  label: string;
  description: string;
}

export const FOCAL_GAMMA = 2;
/** Class-balanced weights: Cui et al. (2019) inverse effective number of samples. */
export const CLASS_BALANCE = {method: 'effective' as const, beta: 0.999};

export const EFFECT_LOSSES: EffectLossInfo[] = [
  {id: 'ce', label: 'cross-entropy', description: 'tf.losses.softmaxCrossEntropy (one-hot labels)'},
  {id: 'cb_ce', label: 'class-balanced CE',
   description: `focalLoss(gamma=0, alpha=classBalancedAlpha(counts, effective, beta=${CLASS_BALANCE.beta}))`},
  {id: 'focal', label: 'focal', description: `focalLoss(gamma=${FOCAL_GAMMA}, alpha=1)`},
  {id: 'cb_focal', label: 'class-balanced focal',
   description: `focalLoss(gamma=${FOCAL_GAMMA}, alpha=classBalancedAlpha(counts, effective, beta=${CLASS_BALANCE.beta}))`},
  // The softmax family (issue 17): counts of the training split, tau 1.
  {id: 'la_ce', label: 'logit-adjusted CE', description: 'focalLoss(gamma=0, alpha=1, logitAdjustment={classCounts: counts})'},
  {id: 'la_focal', label: 'logit-adjusted focal',
   description: `focalLoss(gamma=${FOCAL_GAMMA}, alpha=1, logitAdjustment={classCounts: counts})`},
];

export const METRICS = ['accuracy', 'macroF1', 'balancedAccuracy', 'rareRecall'] as const;
export type MetricId = typeof METRICS[number];
export const METRIC_LABELS: Record<MetricId, string> = {
  accuracy: 'accuracy', macroF1: 'macro-F1', balancedAccuracy: 'balanced accuracy',
  rareRecall: 'rare-class recall',
};

export interface Metrics {
  accuracy: number;
  macroF1: number;
  balancedAccuracy: number;
  /** Mean recall over the rare classes. */
  rareRecall: number;
  recallPerClass: number[];
  f1PerClass: number[];
}

/** Metrics from true and predicted labels. */
export function classificationMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>,
                                      classes: number, rareClasses: number[]): Metrics {
  const truePositive = new Array<number>(classes).fill(0);
  const actual = new Array<number>(classes).fill(0);
  const predictedCount = new Array<number>(classes).fill(0);
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    actual[truth[i]]++;
    predictedCount[predicted[i]]++;
    if (truth[i] === predicted[i]) {
      truePositive[truth[i]]++;
      correct++;
    }
  }
  const recallPerClass = actual.map((n, c) => (n > 0 ? truePositive[c] / n : NaN));
  const f1PerClass = actual.map((n, c) => {
    const denominator = n + predictedCount[c];
    // F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (actual + predicted); 0 when a class is never hit.
    return denominator > 0 ? 2 * truePositive[c] / denominator : NaN;
  });
  const present = recallPerClass.filter((r) => !Number.isNaN(r));
  return {
    accuracy: correct / truth.length,
    macroF1: mean(f1PerClass.filter((f) => !Number.isNaN(f))),
    balancedAccuracy: mean(present),
    rareRecall: mean(rareClasses.map((c) => recallPerClass[c])),
    recallPerClass, f1PerClass,
  };
}

interface Mlp {
  w1: tf.Variable;
  b1: tf.Variable;
  w2: tf.Variable;
  b2: tf.Variable;
}

/** Glorot-uniform weights from a seeded generator, so every loss starts from the same network. */
function glorotUniform(random: SeededRandom, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < values.length; i++) {
    values[i] = (2 * random.next() - 1) * limit;
  }
  return values;
}

function createMlp(seed: number, hidden: number): Mlp {
  const random = new SeededRandom(seed);
  return {
    w1: tf.variable(tf.tensor2d(glorotUniform(random, PIXELS, hidden), [PIXELS, hidden])),
    b1: tf.variable(tf.zeros([hidden])),
    w2: tf.variable(tf.tensor2d(glorotUniform(random, hidden, NUM_CLASSES), [hidden, NUM_CLASSES])),
    b2: tf.variable(tf.zeros([NUM_CLASSES])),
  };
}

function mlpLogits(model: Mlp, x: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, model.w1), model.b1)) as tf.Tensor2D,
                                        model.w2), model.b2) as tf.Tensor2D);
}

function disposeMlp(model: Mlp): void {
  tf.dispose([model.w1, model.b1, model.w2, model.b2]);
}

export type LossFn = (sparseLabels: tf.Tensor, oneHotLabels: tf.Tensor, logits: tf.Tensor) => tf.Scalar;

export function effectLossFunction(id: EffectLossId, classAlpha: number[], classCounts: number[] = []): LossFn {
  switch (id) {
    case 'ce':
      return (_sparse, oneHot, logits) => tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
    case 'cb_ce':
      return (sparse, _oneHot, logits) => focal.focalLoss(sparse, logits, {gamma: 0, alpha: classAlpha}) as tf.Scalar;
    case 'focal':
      return (sparse, _oneHot, logits) => focal.focalLoss(sparse, logits, {gamma: FOCAL_GAMMA, alpha: 1}) as tf.Scalar;
    case 'cb_focal':
      return (sparse, _oneHot, logits) =>
          focal.focalLoss(sparse, logits, {gamma: FOCAL_GAMMA, alpha: classAlpha}) as tf.Scalar;
    case 'la_ce':
    case 'la_focal':
      return (sparse, _oneHot, logits) => focal.focalLoss(sparse, logits, {
        gamma: id === 'la_ce' ? 0 : FOCAL_GAMMA, alpha: 1, logitAdjustment: {classCounts},
      }) as tf.Scalar;
    default:
      throw new Error(`unknown loss '${String(id)}'`);
  }
}

export interface EpochRecord {
  epoch: number;
  /** Mean training objective over the epoch's batches (each loss its own objective). */
  trainLoss: number;
  seconds: number;
  metrics: Metrics;
}

export interface RunRecord {
  loss: EffectLossId;
  seed: number;
  epochs: EpochRecord[];
  final: Metrics;
}

export interface MetricSummary extends Summary {
  values: number[];   // per seed, in seed order
}

export interface LossSummary {
  loss: EffectLossId;
  label: string;
  description: string;
  metrics: Record<MetricId, MetricSummary>;
  /** Per-class recall, mean over seeds. */
  recallPerClassMean: number[];
  /** Seconds per epoch over all seeds and epochs except each run's first (warm-up) epoch. */
  epochSeconds: Summary;
}

export interface Comparison {
  metric: MetricId;
  a: EffectLossId;
  b: EffectLossId;
  /** mean(a) - mean(b) over seeds. */
  meanDifference: number;
  /** Per-seed a - b (same seed = same initial weights and batch order). */
  pairedDifferences: number[];
  pairedSd: number;
  /** Seeds where a > b, a < b. */
  seedsHigher: number;
  seedsLower: number;
  /** The ranges [min, max] over seeds of a and b do not overlap. */
  exceedsSpread: boolean;
  verdict: string;
}

export interface EffectResult {
  backend: string;
  seeds: number[];
  epochs: number;
  batchSize: number;
  hidden: number;
  learningRate: number;
  dataset: {
    counts: number[];
    classOrder: number[];
    rareClasses: number[];
    trainSize: number;
    testSize: number;
    testPerClass: number;
    imbalanceRatio: number;
  };
  classAlpha: number[];
  runs: RunRecord[];
  summaries: LossSummary[];
  comparisons: Comparison[];
}

export interface EffectOptions {
  seeds: number;
  epochs: number;
  batchSize?: number;
  hidden?: number;
  learningRate?: number;
  dataset?: DatasetOptions;
  losses?: EffectLossId[];
  backend: string;
  progress?: ProgressFn;
}

function evaluate(model: Mlp, testX: tf.Tensor, data: ImbalancedMnist): Metrics {
  const predicted = tf.tidy(() => tf.argMax(mlpLogits(model, testX), -1));
  const values = predicted.dataSync();
  predicted.dispose();
  return classificationMetrics(data.testY, values, NUM_CLASSES, data.rareClasses);
}

function trainOne(loss: EffectLossId, seed: number, data: ImbalancedMnist, classAlpha: number[],
                  options: Required<Pick<EffectOptions, 'epochs' | 'batchSize' | 'hidden' | 'learningRate'>>,
                  tensors: {trainX: tf.Tensor2D; trainY: tf.Tensor1D; testX: tf.Tensor2D},
                  progress?: ProgressFn): RunRecord {
  const model = createMlp(seed, options.hidden);
  const optimizer = tf.train.adam(options.learningRate);
  const lossFn = effectLossFunction(loss, classAlpha, data.counts);
  const order = Array.from({length: data.trainY.length}, (_, i) => i);
  // The batch order depends on the seed only, so every loss sees the same batches.
  const shuffler = new SeededRandom(seed * 7919 + 17);
  const epochs: EpochRecord[] = [];
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      shuffler.shuffle(order);
      const start = process.hrtime.bigint();
      let lossSum = 0;
      let batches = 0;
      for (let first = 0; first < order.length; first += options.batchSize) {
        const batchIndices = tf.tensor1d(order.slice(first, first + options.batchSize), 'int32');
        const value = tf.tidy(() => {
          const x = tf.gather(tensors.trainX, batchIndices);
          const y = tf.gather(tensors.trainY, batchIndices);
          const oneHot = tf.cast(tf.oneHot(y, NUM_CLASSES), 'float32');
          const cost = optimizer.minimize(() => lossFn(y, oneHot, mlpLogits(model, x)), true);
          return cost!;
        });
        lossSum += value.dataSync()[0];
        batches++;
        tf.dispose([value, batchIndices]);
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const metrics = evaluate(model, tensors.testX, data);
      epochs.push({epoch, trainLoss: lossSum / batches, seconds, metrics});
      progress?.(`effect: ${loss} seed ${seed} epoch ${epoch}/${options.epochs} ` +
                 `loss ${(lossSum / batches).toFixed(4)} rare recall ${metrics.rareRecall.toFixed(3)}`);
    }
  } finally {
    disposeMlp(model);
    optimizer.dispose();
  }
  return {loss, seed, epochs, final: epochs[epochs.length - 1].metrics};
}

function metricSummary(values: number[]): MetricSummary {
  return {...summarize(values), values};
}

export function compareLosses(summaries: LossSummary[], a: EffectLossId, b: EffectLossId,
                              metric: MetricId): Comparison {
  const sa = summaries.find((s) => s.loss === a)!.metrics[metric];
  const sb = summaries.find((s) => s.loss === b)!.metrics[metric];
  const paired = sa.values.map((v, i) => v - sb.values[i]);
  const seedsHigher = paired.filter((d) => d > 0).length;
  const seedsLower = paired.filter((d) => d < 0).length;
  const exceedsSpread = sa.n >= 2 && (sa.min > sb.max || sa.max < sb.min);
  const meanDifference = sa.mean - sb.mean;
  let verdict: string;
  if (sa.n < 2) {
    verdict = 'one seed: spread not measured, no conclusion';
  } else if (exceedsSpread) {
    verdict = `${meanDifference > 0 ? 'higher' : 'lower'} on every seed and beyond the seed-to-seed spread`;
  } else {
    verdict = 'within the seed-to-seed spread (no difference shown)';
    // Worth knowing, not a claim: the paired seeds may still all point the same way.
    if (seedsHigher === paired.length || seedsLower === paired.length) {
      verdict += `; ${seedsHigher > 0 ? 'higher' : 'lower'} on all ${paired.length} paired seeds`;
    }
  }
  return {
    metric, a, b, meanDifference, pairedDifferences: paired, pairedSd: standardDeviation(paired),
    seedsHigher, seedsLower, exceedsSpread, verdict,
  };
}

export const COMPARISON_PAIRS: Array<[EffectLossId, EffectLossId]> =
    [['focal', 'ce'], ['cb_ce', 'ce'], ['cb_focal', 'ce'], ['cb_focal', 'cb_ce'], ['la_ce', 'ce'], ['la_focal', 'ce']];

export function measureEffect(options: EffectOptions): EffectResult {
  const batchSize = options.batchSize ?? 64;
  const hidden = options.hidden ?? 128;
  const learningRate = options.learningRate ?? 1e-3;
  const losses = options.losses ?? EFFECT_LOSSES.map((l) => l.id);
  const data = loadImbalancedMnist(options.dataset);
  const classAlpha = focal.classBalancedAlpha(data.counts, CLASS_BALANCE);
  const seeds = Array.from({length: options.seeds}, (_, i) => i + 1);

  const tensors = {
    trainX: tf.tensor2d(data.trainX, [data.trainY.length, PIXELS]),
    trainY: tf.tensor1d(data.trainY, 'int32'),
    testX: tf.tensor2d(data.testX, [data.testY.length, PIXELS]),
  };
  const runs: RunRecord[] = [];
  try {
    for (const seed of seeds) {
      for (const loss of losses) {
        runs.push(trainOne(loss, seed, data, classAlpha,
                           {epochs: options.epochs, batchSize, hidden, learningRate}, tensors,
                           options.progress));
      }
    }
  } finally {
    tf.dispose([tensors.trainX, tensors.trainY, tensors.testX]);
  }

  const summaries: LossSummary[] = losses.map((loss) => {
    const info = EFFECT_LOSSES.find((l) => l.id === loss)!;
    const own = runs.filter((r) => r.loss === loss);
    const metrics = {} as Record<MetricId, MetricSummary>;
    for (const metric of METRICS) {
      metrics[metric] = metricSummary(own.map((r) => r.final[metric]));
    }
    const recallPerClassMean = Array.from({length: NUM_CLASSES},
                                          (_, c) => mean(own.map((r) => r.final.recallPerClass[c])));
    const epochTimes = own.flatMap((r) => r.epochs.slice(r.epochs.length > 1 ? 1 : 0).map((e) => e.seconds));
    return {loss, label: info.label, description: info.description, metrics, recallPerClassMean,
            epochSeconds: summarize(epochTimes)};
  });

  const comparisons: Comparison[] = [];
  for (const [a, b] of COMPARISON_PAIRS) {
    if (losses.includes(a) && losses.includes(b)) {
      for (const metric of METRICS) {
        comparisons.push(compareLosses(summaries, a, b, metric));
      }
    }
  }

  return {
    backend: options.backend, seeds, epochs: options.epochs, batchSize, hidden, learningRate,
    dataset: {
      counts: data.counts, classOrder: data.classOrder, rareClasses: data.rareClasses,
      trainSize: data.trainY.length, testSize: data.testY.length, testPerClass: data.testPerClass,
      imbalanceRatio: Math.max(...data.counts) / Math.min(...data.counts),
    },
    classAlpha, runs, summaries, comparisons,
  };
}

/** Mean and min-max over seeds of one per-epoch quantity, for the training-curve figure. */
export function curveOverSeeds(result: EffectResult, loss: EffectLossId,
                               pick: (e: EpochRecord) => number): {
  mean: Array<[number, number]>; band: Array<[number, number, number]>;
} {
  const own = result.runs.filter((r) => r.loss === loss);
  const meanCurve: Array<[number, number]> = [];
  const band: Array<[number, number, number]> = [];
  for (let e = 0; e < result.epochs; e++) {
    const values = own.map((r) => pick(r.epochs[e]));
    meanCurve.push([e + 1, mean(values)]);
    band.push([e + 1, Math.min(...values), Math.max(...values)]);
  }
  return {mean: meanCurve, band};
}
