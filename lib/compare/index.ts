// `require('tfjs-focal-loss/compare')`: which loss helps *this* model on *this* data? Trains the
// user's model with cross-entropy and each contender under the same seeds, initial weights, batch
// order and budget, evaluates on a held-out split, and reports mean ± sd over seeds, the paired
// difference from cross-entropy with its verdict, and a plain recommendation (JSON, markdown, SVG).
// A layer above the losses: it imports the package's public API only (docs/DESIGN.md#layout).
import * as tf from '@tensorflow/tfjs';

import {Contender, ContenderSpec, resolveContenders} from './contenders';
import {classCounts, DataInput, detectTask, gatherData, PreparedData, prepareData, splitByFraction} from './data';
import {CompareError} from './errors';
import {LOWER_IS_BETTER, METRIC_LABELS, MetricId, SCALAR_METRICS} from './metrics';
import {printProgress, ProgressEvent} from './progress';
import {mean, summarize} from './stats';
import {RunRecord, SplitTensors, throwIfAborted, trainRun} from './train';
import {metricSummary, PairedComparison, pairedComparison} from './verdict';
import type {CompareReport, ContenderSummary} from './report_types';
import {writeReport} from './write';

export {CompareAbortedError, CompareError} from './errors';
export {CLASS_BALANCE, defaultContenders} from './contenders';
export type {Contender, ContenderLoss, ContenderSpec, CustomContender, FocalGridContender, Task} from './contenders';
export type {DataInput, TensorData} from './data';
export {averagePrecision, expectedCalibrationError, METRIC_LABELS, multiLabelMetrics, SCALAR_METRICS,
        singleLabelMetrics} from './metrics';
export type {Metrics, MetricId} from './metrics';
export {formatSeconds, printProgress, progressLine} from './progress';
export type {ProgressEvent} from './progress';
export {markdownReport, reportTable} from './report';
export type {EpochRecord, RunRecord} from './train';
export {pairedComparison, VERDICT_RULE} from './verdict';
export type {MetricSummary, PairedComparison} from './verdict';
export type {CompareReport, ContenderSummary} from './report_types';

/** What the model factory is told: it may ignore it (a plain `() => model` works). */
export interface ModelContext {
  seed: number;
  contender: string;
}

/** Builds a new, uncompiled model whose last layer outputs logits (no softmax / sigmoid). */
export type ModelFactory = (context: ModelContext) => tf.LayersModel;

export interface CompareOptions {
  /** Called once per contender and seed; must return a new model every time. */
  model: ModelFactory;
  /**
   * Training data: {x, y} tensors (y: int32 class indices, one-hot, or a 0/1 multi-label matrix) or a
   * tf.data.Dataset of {xs, ys}: batched (as model.fitDataset takes) or one example per element (tensors,
   * or the numbers / arrays tf.data.array yields before .batch()); gathered whole into tensors.
   */
  data: DataInput;
  /** The held-out split; without it, `validationSplit` of `data` is held out. */
  validation?: DataInput;
  /**
   * Fraction of `data` held out when `validation` is not given (default 0.2): stratified by class, or for
   * binary / multi-label data iteratively by label, rarest first, so every label with two or more
   * positives has one in both splits where the label sets allow it.
   */
  validationSplit?: number;
  /** Contenders besides the cross-entropy baseline (default: the task's defaults, `defaultContenders`). */
  contenders?: ContenderSpec[];
  /** Seeds: a count (seeds 1..n) or the seeds themselves (default 3). */
  seeds?: number | number[];
  /** Epochs per run (default 10). */
  epochs?: number;
  /** Batch size (default 32). */
  batchSize?: number;
  /** A new optimizer per run (default () => tf.train.adam(1e-3)). */
  optimizer?: () => tf.Optimizer;
  /** The classes whose recall the report singles out (default: the least common 30% in training, at least one). */
  rareClasses?: number[];
  /** Names of the classes for the report (default their indices). */
  classNames?: string[];
  /** Folder for report.json, REPORT.md and the SVG figures, written only when the run finishes. */
  outDir?: string;
  /** Cancels the run: it rejects with an AbortError, writes nothing and leaves no tensor behind. */
  signal?: AbortSignal;
  /** Called after every epoch (default: a line per contender and seed on stderr, a live bar on a TTY); false: silent. */
  progress?: false | ((event: ProgressEvent) => void);
  /** Milliseconds, for the timings and the estimate of what remains (default performance.now). */
  clock?: () => number;
  /** Lines the report shows under its settings (e.g. how the data was prepared). */
  notes?: string[];
}

const DEFAULTS = {seeds: 3, epochs: 10, batchSize: 32, validationSplit: 0.2};

function positiveInteger(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new CompareError(`${argument}: expected an integer >= 1; received ${JSON.stringify(value)}`);
  }
  return value;
}

function resolveSeeds(seeds: number | number[] | undefined): number[] {
  if (Array.isArray(seeds)) {
    if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s)) || new Set(seeds).size !== seeds.length) {
      throw new CompareError(`options.seeds: expected a count or distinct integer seeds; received ${JSON.stringify(seeds)}`);
    }
    return seeds;
  }
  return Array.from({length: positiveInteger(seeds ?? DEFAULTS.seeds, 'options.seeds')}, (_, i) => i + 1);
}

/** The model's single output width, checked to be logits. */
function outputWidth(model: unknown, context: ModelContext): number {
  if (!(model instanceof tf.LayersModel)) {
    throw new CompareError(`options.model returned ${model === null ? 'null' : typeof model} for contender ` +
                           `'${context.contender}', seed ${context.seed}; it must return a new tf.LayersModel ` +
                           '(e.g. () => tf.sequential({layers: [...]}))');
  }
  if (model.outputs.length !== 1 || model.outputs[0].shape.length !== 2) {
    throw new CompareError(`options.model: the model must have one output of shape [batch, classes]; it has ` +
                           model.outputs.map((o) => `[${o.shape.join(', ')}]`).join(', '));
  }
  const last = model.layers[model.layers.length - 1].getConfig() as {activation?: string};
  if (last.activation === 'softmax' || last.activation === 'sigmoid') {
    throw new CompareError(`options.model: the last layer applies '${last.activation}'; the losses take logits: ` +
                           "build the last layer with activation 'linear' (each loss applies softmax / sigmoid itself)");
  }
  return model.outputs[0].shape[1] as number;
}

/**
 * Calls the factory with Math.random seeded: tfjs initialisers without a seed draw theirs from
 * Math.random, so the same seed gives the same initial weights in every run of the comparison.
 */
function buildModel(factory: ModelFactory, context: ModelContext, seen: WeakSet<object>): tf.LayersModel {
  if (typeof factory !== 'function') {
    throw new CompareError(`options.model: expected a function returning a new tf.LayersModel; received ${typeof factory}`);
  }
  const random = Math.random;
  let state = (context.seed * 2654435761) >>> 0;
  Math.random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let model: tf.LayersModel;
  try {
    model = factory(context);
  } finally {
    Math.random = random;
  }
  if (model instanceof tf.LayersModel) {
    if (seen.has(model)) {
      throw new CompareError(`options.model returned the same model instance twice (contender '${context.contender}', ` +
                             `seed ${context.seed}); the factory must build a new model on every call`);
    }
    seen.add(model);
  }
  return model;
}

function defaultRareClasses(counts: number[]): number[] {
  const howMany = Math.max(1, Math.floor(counts.length * 0.3));
  return counts.map((n, c) => [n, c]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, howMany).map((p) => p[1]);
}

function summarise(contender: Contender, runs: RunRecord[], metrics: MetricId[], classes: number): ContenderSummary {
  const own = runs.filter((r) => r.contender === contender.name);
  const perClass = (pick: (r: RunRecord) => number[] | undefined) =>
      Array.from({length: classes}, (_, c) => mean(own.map((r) => pick(r)?.[c] ?? NaN)));
  const epochTimes = own.flatMap((r) => r.epochs.slice(r.epochs.length > 1 ? 1 : 0).map((e) => e.seconds));
  return {
    name: contender.name, description: contender.description,
    metrics: Object.fromEntries(metrics.map((m) => [m, metricSummary(own.map((r) => r.final[m] as number))])),
    recallPerClass: perClass((r) => r.final.recallPerClass),
    precisionPerClass: perClass((r) => r.final.precisionPerClass),
    averagePrecisionPerClass: own[0]?.final.averagePrecisionPerClass ? perClass((r) => r.final.averagePrecisionPerClass) :
                                                                        undefined,
    epochSeconds: summarize(epochTimes),
  };
}

function points(difference: number): string {
  return `${difference >= 0 ? '+' : '−'}${Math.abs(100 * difference).toFixed(1)}`;
}

/** The plain answer: the best contender beyond the spread on the primary metric, or "keep cross-entropy". */
export function recommend(comparisons: Array<PairedComparison<MetricId>>, primary: MetricId, baseline: string,
                          seeds: number): string {
  const label = METRIC_LABELS[primary];
  if (seeds < 2) {
    return `One seed only: the seed-to-seed spread is unknown, so no contender can be said to beat ${baseline}; ` +
           'run at least 3 seeds.';
  }
  const better = (c: PairedComparison<MetricId>) =>
      c.exceedsSpread && (LOWER_IS_BETTER.has(c.metric) ? c.meanDifference < 0 : c.meanDifference > 0);
  const winners = comparisons.filter((c) => c.metric === primary && better(c))
                      .sort((x, y) => y.meanDifference - x.meanDifference);
  if (winners.length === 0) {
    return `Nothing beats ${baseline} beyond the seed-to-seed spread on ${label} (${seeds} seeds): keep ${baseline} ` +
           '(or run more seeds or epochs to resolve smaller differences).';
  }
  const best = winners[0];
  const costs = comparisons.filter((c) => c.a === best.a && c.metric !== primary && c.exceedsSpread && !better(c))
                    .map((c) => `${METRIC_LABELS[c.metric]} ${points(c.meanDifference)}`);
  const others = winners.slice(1).map((c) => `${c.a} (${points(c.meanDifference)})`);
  return `Use **${best.a}**: ${label} ${points(best.meanDifference)} points over ${baseline}, higher on every seed and ` +
         'beyond the seed-to-seed spread' + (costs.length > 0 ? `; it costs ${costs.join(', ')} points (also beyond the spread)` : '') +
         '.' + (others.length > 0 ? ` Also beyond the spread: ${others.join(', ')}.` : '');
}

/** Trains every contender under every seed and reports the comparison with cross-entropy. */
export async function compareLosses(options: CompareOptions): Promise<CompareReport> {
  if (options === null || typeof options !== 'object') {
    throw new CompareError('expected an options object {model, data, ...}');
  }
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const seeds = resolveSeeds(options.seeds);
  const epochs = positiveInteger(options.epochs ?? DEFAULTS.epochs, 'options.epochs');
  const batchSize = positiveInteger(options.batchSize ?? DEFAULTS.batchSize, 'options.batchSize');
  const optimizer = options.optimizer ?? (() => tf.train.adam(1e-3));
  if (typeof optimizer !== 'function') {
    throw new CompareError('options.optimizer: expected a function returning a new tf.Optimizer per run ' +
                           '(e.g. () => tf.train.adam(1e-3))');
  }
  const fraction = options.validationSplit ?? DEFAULTS.validationSplit;
  if (options.validation === undefined && !(typeof fraction === 'number' && fraction > 0 && fraction < 1)) {
    throw new CompareError(`options.validationSplit: expected a fraction in (0, 1); received ${JSON.stringify(fraction)}`);
  }
  if (options.validation !== undefined && options.validationSplit !== undefined) {
    throw new CompareError('options.validation and options.validationSplit: give one of them, not both');
  }
  throwIfAborted(options.signal);
  const progress = options.progress === false ? undefined : options.progress ?? printProgress();
  const seen = new WeakSet<object>();

  // The first model (first seed, baseline) tells the output width, so it is built before the data is read.
  const owned: tf.Tensor[] = [];
  let firstModel: tf.LayersModel | undefined;
  let snapshot: tf.Tensor[] = [];
  try {
    const firstContext = {seed: seeds[0], contender: '(baseline)'};
    firstModel = buildModel(options.model, firstContext, seen);
    const width = outputWidth(firstModel, firstContext);
    const inputRank = firstModel.inputs[0].shape.length;
    const gathered = await gatherData(options.data, 'options.data', inputRank);
    if (gathered.owned) {
      owned.push(gathered.data.x, gathered.data.y);
    }
    const {task, classes} = detectTask(gathered.data.y, width, 'options.data');
    const contenders = resolveContenders(options.contenders, task);
    firstContext.contender = contenders[0].name;
    const all = prepareData(gathered.data, task, classes, 'options.data');
    owned.push(all.labels);

    let train: PreparedData;
    let test: PreparedData;
    let split: string;
    if (options.validation !== undefined) {
      const given = await gatherData(options.validation, 'options.validation', inputRank);
      if (given.owned) {
        owned.push(given.data.x, given.data.y);
      }
      if (given.data.y.rank !== gathered.data.y.rank ||
          (given.data.y.rank === 2 && given.data.y.shape[1] !== gathered.data.y.shape[1])) {
        throw new CompareError(`options.validation.y has shape [${given.data.y.shape.join(', ')}], unlike ` +
                               `options.data.y [${gathered.data.y.shape.join(', ')}]; give labels of the same form`);
      }
      train = all;
      test = prepareData(given.data, task, classes, 'options.validation');
      owned.push(test.labels);
      split = `given (options.validation, ${test.rows} rows)`;
    } else {
      ({train, test} = splitByFraction(all, task, classes, fraction));
      owned.push(train.x, train.labels, test.x, test.labels);
      split = `${task === 'single-label' ? 'stratified ' : 'iteratively stratified '}${fraction} of options.data ` +
              `(${test.rows} rows held out, fixed seed)`;
    }
    const testX = test.x;
    const testLabelValues = test.labelValues;

    const trainCounts = classCounts(train.labelValues, task, classes);
    const absent = trainCounts.findIndex((n) => n === 0);
    const needing = contenders.find((c) => c.needsCounts);
    if (absent >= 0 && needing !== undefined) {
      const name = options.classNames?.[absent];
      throw new CompareError(`class ${absent}${name === undefined ? '' : ` ('${name}')`} has no row in the training ` +
                             `split; contender '${needing.name}' needs every class's training count (class-balanced α, ` +
                             'logit adjustment): add rows of that class, or leave such contenders out');
    }
    const rareClasses = options.rareClasses ?? defaultRareClasses(trainCounts);
    if (!Array.isArray(rareClasses) || rareClasses.some((c) => !Number.isInteger(c) || c < 0 || c >= classes)) {
      throw new CompareError(`options.rareClasses: expected class indices in [0, ${classes}); received ${JSON.stringify(rareClasses)}`);
    }
    const losses = contenders.map((c) => c.build(trainCounts));
    const metrics = SCALAR_METRICS.filter((m) => task === 'multi-label' || m !== 'meanAveragePrecision');
    const primaryMetric: MetricId = task === 'single-label' ? 'macroF1' : 'meanAveragePrecision';

    const data: SplitTensors = {trainX: train.x, trainLabels: train.labels, testX, testLabelValues, trainRows: train.rows};
    const runs: RunRecord[] = [];
    const total = seeds.length * contenders.length * epochs;
    let done = 0;
    let trainingSeconds = 0;
    let evaluationSeconds = 0;
    for (const seed of seeds) {
      for (let index = 0; index < contenders.length; index++) {
        throwIfAborted(options.signal);
        const contender = contenders[index];
        const context = {seed, contender: contender.name};
        const model = firstModel ?? buildModel(options.model, context, seen);
        firstModel = undefined;
        try {
          const modelWidth = outputWidth(model, context);
          if (modelWidth !== width) {
            throw new CompareError(`options.model: the model for '${contender.name}', seed ${seed} has ${modelWidth} ` +
                                   `outputs, the first had ${width}; the factory must build the same architecture`);
          }
          if (index === 0) {
            // The seed's initial weights, copied into every contender's model under this seed.
            tf.dispose(snapshot);
            snapshot = model.getWeights().map((w) => w.clone());
          } else {
            const weights = model.getWeights();
            if (weights.length !== snapshot.length || weights.some((w, i) => !tf.util.arraysEqual(w.shape, snapshot[i].shape))) {
              throw new CompareError(`options.model: the model for '${contender.name}', seed ${seed} has other weights ` +
                                     'than the first; the factory must build the same architecture every time');
            }
            model.setWeights(snapshot);
          }
        } catch (e) {
          model.dispose();
          throw e;
        }
        const run = await trainRun(model, contender.name, seed, losses[index], data, {
          task, classes, rareClasses, epochs, batchSize, optimizer, clock, signal: options.signal,
          onEpoch: (record) => {
            done++;
            const elapsedSeconds = (clock() - started) / 1000;
            progress?.({contender: contender.name, seed, epoch: record.epoch, epochs, done, total, elapsedSeconds,
                        remainingSeconds: elapsedSeconds / done * (total - done)});
          },
        });
        runs.push(run);
        trainingSeconds += run.epochs.reduce((s, e) => s + e.seconds, 0);
        evaluationSeconds += run.evaluationSeconds;
      }
    }
    tf.dispose(snapshot);
    snapshot = [];

    const summaries = contenders.map((c) => summarise(c, runs, metrics, classes));
    const baseline = summaries[0];
    const comparisons = summaries.slice(1).flatMap((s) => metrics.map(
        (m) => pairedComparison(m, s.name, s.metrics[m]!, baseline.name, baseline.metrics[m]!)));
    const report: CompareReport = {
      task, classes, classNames: options.classNames ?? Array.from({length: classes}, (_, c) => String(c)),
      backend: tf.getBackend(), seeds, epochs, batchSize, trainRows: train.rows, testRows: testLabelValues.length /
          (task === 'single-label' ? 1 : classes),
      split, trainCounts, rareClasses, metrics, primaryMetric,
      fairness: 'Every contender trains the same model for the same epochs and batch size with a new optimizer; ' +
                'under one seed every contender starts from the same initial weights (the first model built ' +
                'under that seed, with Math.random seeded while the factory runs, copied into the others) and ' +
                'sees the same batches in the same order (a shuffle seeded by the seed).',
      contenders: contenders.map((c) => ({name: c.name, description: c.description})), baseline: baseline.name,
      runs, summaries, comparisons, recommendation: recommend(comparisons, primaryMetric, baseline.name, seeds.length),
      notes: options.notes ?? [],
      timing: {totalSeconds: 0, trainingSeconds, evaluationSeconds, harnessSeconds: 0},
      files: [],
    };
    const finish = () => {
      report.timing.totalSeconds = (clock() - started) / 1000;
      report.timing.harnessSeconds = report.timing.totalSeconds - trainingSeconds - evaluationSeconds;
    };
    finish();
    if (options.outDir !== undefined) {
      report.files = writeReport(report, options.outDir);
      finish();
    }
    return report;
  } finally {
    if (firstModel instanceof tf.LayersModel) {
      firstModel.dispose();
    }
    tf.dispose(snapshot);
    tf.dispose(owned);
  }
}
