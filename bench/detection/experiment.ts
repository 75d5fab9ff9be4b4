// The detection experiment: the detector of model.ts trained on "digits on a canvas" (data.ts) once
// per classification loss (losses.ts) and seed, evaluated as mAP@0.5 (metrics.ts) on held-out test
// canvases. Under one seed every loss starts from the same weights (same seed, same prior) and sees
// the same batches in the same order; the data set is the same for all seeds.
import * as tf from '@tensorflow/tfjs-core';

import {ProgressFn} from '../speed';
import {mean, SeededRandom, standardDeviation} from '../../lib/compare/stats';
import {metricSummary, pairedComparison, PairedComparison} from '../../lib/compare/verdict';
import {CANVAS, DetectionData, DetectionSplit, GroundTruth, makeDetectionData, NUM_CLASSES} from './data';
import {classificationLoss, ClassificationLoss, PENDING_LOSSES} from './losses';
import {Detection, meanAveragePrecision} from './metrics';
import {boxIouTensors, createDetector, DEFAULT_DECODE, decodeDetections, detectorVariables, DetectorParams, disposeCellCentres,
        disposeDetector,
        forward,
        GRID, makeTargets, parameterCount, STRIDE} from './model';

export interface DetectionSettings {
  seeds: number[];
  losses: string[];
  trainImages: number;
  validationImages: number;
  testImages: number;
  dataSeed: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Validation mAP and mean training losses every this many steps (the training curves). */
  evalEvery: number;
  /** Test images kept with their detections for the example figure. */
  exampleImages: number;
}

export interface CurvePoint {
  step: number;
  /** Means over the steps since the previous point. */
  classLoss: number;
  boxLoss: number;
  validationMap50: number;
}

export interface DetectionRun {
  loss: string;
  seed: number;
  map50: number;
  apPerClass: number[];
  trainSeconds: number;
  evalSeconds: number;
  curve: CurvePoint[];
  /** The step of the best validation mAP@0.5, that mAP, and the steps trained (fewer than the budget when stopped early). */
  bestStep: number;
  bestValidationMap50: number;
  stepsTrained: number;
  /** Detections on the first `exampleImages` test images (first seed only), score >= 0.3. */
  examples?: Detection[];
}

export interface LossRow {
  loss: string;
  label: string;
  description: string;
  prior: number | null;
  ablation: boolean;
  /** Test mAP@0.5 per seed, in seed order. */
  map50: number[];
  mean: number;
  sd: number;
  /** Training seconds per seed (optimizer steps only, no evaluation). */
  trainSeconds: number[];
  apPerClassMean: number[];
}

export interface DetectionResult {
  backend: string;
  settings: DetectionSettings & {
    stride: number; grid: number; canvas: number; classes: number; parameters: number;
    decode: typeof DEFAULT_DECODE; optimizer: string; boxLoss: string; prior: string;
    searchBudget: string;
  };
  data: {trainObjects: number; testObjects: number; positivesPerImage: number; outputsPerImage: number};
  rows: LossRow[];
  /** Paired per-seed comparisons of mAP@0.5 with their verdicts (lib/compare/verdict, as compareLosses). */
  comparisons: Array<PairedComparison<'map50'>>;
  runs: DetectionRun[];
  /** Ground truth of the example images. */
  exampleTruth: GroundTruth[][];
  /** The example images, one string each: CANVAS * CANVAS hex digits, row-major, pixel value * 15 rounded. */
  examplePixels: string[];
  pending: string[];
  /** Tensors alive after the section minus before (0: memory stays flat). */
  leakedTensors: number;
  seconds: number;
}

export interface DetectionOptions extends DetectionSettings {
  backend: string;
  progress?: ProgressFn;
  /** One line per finished loss and seed (never throttled). */
  log?: (line: string) => void;
}

export interface SplitTensors {
  /** The sides of each cell's anchors the targets were made for (anchorSizes); null: anchor-free. */
  anchors: number[] | null;
  images: tf.Tensor4D;
  classTargets: tf.Tensor4D;
  boxTargets: tf.Tensor4D;
  positive: tf.Tensor3D;
  positivesPerImage: Float32Array;
}

/** The grid of the detector on a split's canvases. */
export function gridOf(split: DetectionSplit): number {
  if (split.canvas % STRIDE !== 0) {
    throw new RangeError(`detection: the canvas side must be a multiple of the stride ${STRIDE}; received ${split.canvas}`);
  }
  return split.canvas / STRIDE;
}

/** The training tensors of a split; `anchors`: the sides of each cell's anchors (null: anchor-free). */
export function splitTensors(split: DetectionSplit, anchors: number[] | null = null): SplitTensors {
  const grid = gridOf(split);
  const outputs = grid * grid * (anchors?.length ?? 1);
  const targets = makeTargets(split.objects, grid, anchors);
  const positivesPerImage = new Float32Array(split.count);
  for (let n = 0; n < split.count; n++) {
    let p = 0;
    for (let o = 0; o < outputs; o++) {
      p += targets.positive[n * outputs + o];
    }
    positivesPerImage[n] = p;
  }
  const width = outputs / grid;
  return {
    anchors,
    images: imageTensor(split),
    classTargets: tf.tensor4d(targets.classTargets, [split.count, grid, width, NUM_CLASSES]),
    boxTargets: tf.tensor4d(targets.boxTargets, [split.count, grid, width, 4]),
    positive: tf.tensor3d(targets.positive, [split.count, grid, width]),
    positivesPerImage,
  };
}

export function imageTensor(split: DetectionSplit): tf.Tensor4D {
  return tf.tensor4d(split.images, [split.count, split.canvas, split.canvas, 1]);
}

export function disposeSplit(s: SplitTensors): void {
  tf.dispose([s.images, s.classTargets, s.boxTargets, s.positive]);
}

/** The same values, no gradient (tfjs has no stop_gradient op). */
const detached = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/** Detections and mAP@0.5 on a split, in batches. */
export function evaluate(params: DetectorParams, split: DetectionSplit, images: tf.Tensor4D): {
  map50: number; apPerClass: number[]; detections: Detection[];
} {
  const detections: Detection[] = [];
  const batch = 64;
  for (let first = 0; first < split.count; first += batch) {
    const size = Math.min(batch, split.count - first);
    const [scores, boxes] = tf.tidy(() => {
      const out = forward(params, tf.slice(images, [first, 0, 0, 0], [size, -1, -1, -1]));
      return [tf.sigmoid(out.classLogits), out.boxes];
    });
    detections.push(...decodeDetections(scores.dataSync() as Float32Array, boxes.dataSync() as Float32Array, size, first));
    tf.dispose([scores, boxes]);
  }
  const result = meanAveragePrecision(detections, split.objects, NUM_CLASSES, 0.5);
  return {map50: result.map, apPerClass: result.perClass.map((c) => c.ap), detections};
}

/** How one run trains: DetectionSettings' fields, and early stopping for the sweep. */
export interface TrainSchedule {
  steps: number;
  batchSize: number;
  learningRate: number;
  evalEvery: number;
  exampleImages: number;
  /**
   * Early stopping: stop after this many validation evaluations without a new best, and report the
   * test mAP of the best-validation checkpoint. Absent: train all steps, test the final weights.
   */
  patience?: number;
  progress?: ProgressFn;
}

export function trainOne(entry: ClassificationLoss, seed: number, data: DetectionData, train: SplitTensors,
                         validation: tf.Tensor4D, test: tf.Tensor4D, options: TrainSchedule, keepExamples: boolean,
                         started: number): DetectionRun {
  const params = createDetector(seed, entry.prior, train.anchors);
  const earlyStopping = options.patience !== undefined;
  let best = {map50: -Infinity, step: 0, weights: [] as tf.Tensor[]};
  let stepsTrained = 0;
  const optimizer = tf.train.adam(options.learningRate);
  const shuffler = new SeededRandom(seed * 7919 + 17);
  const order = Array.from({length: data.train.count}, (_, i) => i);
  let cursor = order.length;
  const curve: CurvePoint[] = [];
  let classSum = 0;
  let boxSum = 0;
  let sinceEval = 0;
  let trainSeconds = 0;
  let evalSeconds = 0;
  try {
    for (let step = 1; step <= options.steps; step++) {
      if (cursor + options.batchSize > order.length) {
        shuffler.shuffle(order);
        cursor = 0;
      }
      const indices = order.slice(cursor, cursor + options.batchSize);
      cursor += options.batchSize;
      const positives = indices.reduce((n, i) => n + train.positivesPerImage[i], 0);
      const stepStart = process.hrtime.bigint();
      const index = tf.tensor1d(indices, 'int32');
      const kept: tf.Scalar[] = [];
      tf.tidy(() => {
        const images = tf.gather(train.images, index) as tf.Tensor4D;
        const labels = tf.gather(train.classTargets, index);
        const boxTargets = tf.gather(train.boxTargets, index);
        const positive = tf.gather(train.positive, index);
        optimizer.minimize(() => {
          const out = forward(params, images);
          const {iou, giou} = boxIouTensors(out.boxes, boxTargets);
          const context = {positives, predictedIou: () => tf.mul(detached(iou), positive)};
          const cls = entry.fn(labels, out.classLogits, context);
          // GIoU loss on the positive cells, normalised by the positives as the class term.
          const box = tf.div(tf.sum(tf.mul(tf.sub(1, giou), positive)), Math.max(1, positives)) as tf.Scalar;
          kept.push(tf.keep(cls), tf.keep(box));
          return tf.add(cls, box) as tf.Scalar;
        });
      });
      classSum += kept[0].dataSync()[0];
      boxSum += kept[1].dataSync()[0];
      tf.dispose([...kept, index]);
      trainSeconds += Number(process.hrtime.bigint() - stepStart) / 1e9;
      sinceEval++;
      if (step % options.evalEvery === 0 || step === options.steps) {
        const evalStart = process.hrtime.bigint();
        const val = evaluate(params, data.validation, validation);
        evalSeconds += Number(process.hrtime.bigint() - evalStart) / 1e9;
        curve.push({step, classLoss: classSum / sinceEval, boxLoss: boxSum / sinceEval, validationMap50: val.map50});
        options.progress?.(`detection: ${entry.id} seed ${seed} step ${step}/${options.steps} ` +
                           `val mAP@0.5 ${val.map50.toFixed(3)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
        classSum = 0;
        boxSum = 0;
        sinceEval = 0;
        if (val.map50 > best.map50) {
          tf.dispose(best.weights);
          best = {map50: val.map50, step, weights: earlyStopping ? detectorVariables(params).map((v) => tf.keep(tf.clone(v))) : []};
        } else if (earlyStopping && curve.length - curve.findIndex((p) => p.step === best.step) - 1 >= options.patience!) {
          stepsTrained = step;
          break;
        }
      }
      stepsTrained = step;
    }
    if (earlyStopping) {
      detectorVariables(params).forEach((v, i) => v.assign(best.weights[i]));
    }
    const evalStart = process.hrtime.bigint();
    const final = evaluate(params, data.test, test);
    evalSeconds += Number(process.hrtime.bigint() - evalStart) / 1e9;
    return {
      loss: entry.id, seed, map50: final.map50, apPerClass: final.apPerClass, trainSeconds, evalSeconds, curve,
      bestStep: best.step, bestValidationMap50: best.map50, stepsTrained,
      examples: keepExamples ?
          final.detections.filter((d) => d.image < options.exampleImages && d.score >= 0.3) : undefined,
    };
  } finally {
    tf.dispose(best.weights);
    disposeDetector(params);
    optimizer.dispose();
  }
}

/** a against b on test mAP@0.5, seed by seed; null when either loss was not trained. */
function compareRows(rows: LossRow[], a: string, b: string): PairedComparison<'map50'> | null {
  const ra = rows.find((r) => r.loss === a);
  const rb = rows.find((r) => r.loss === b);
  return ra === undefined || rb === undefined ? null :
      pairedComparison('map50', a, metricSummary(ra.map50), b, metricSummary(rb.map50));
}

export const COMPARISONS: Array<[string, string]> = [
  ['focal', 'bce'], ['focal', 'alpha_bce'], ['alpha_bce', 'bce'], ['focal_g1', 'focal'], ['focal_g1', 'bce'],
  ['bce_no_prior', 'bce'],
  ['focal_no_prior', 'focal'],
];

export function measureDetection(options: DetectionOptions): DetectionResult {
  const started = Date.now();
  const tensorsBefore = tf.memory().numTensors;
  const entries = options.losses.map(classificationLoss);
  const data = makeDetectionData({train: options.trainImages, validation: options.validationImages,
                                  test: options.testImages, seed: options.dataSeed});
  const train = splitTensors(data.train);
  const validation = imageTensor(data.validation);
  const test = imageTensor(data.test);
  const runs: DetectionRun[] = [];
  let parameters = 0;
  try {
    const probe = createDetector(0, null);
    parameters = parameterCount(probe);
    disposeDetector(probe);
    for (const seed of options.seeds) {
      for (const entry of entries) {
        const run = trainOne(entry, seed, data, train, validation, test, options, seed === options.seeds[0], started);
        runs.push(run);
        options.log?.(`detection: ${entry.id} seed ${seed}: test mAP@0.5 ${run.map50.toFixed(3)}, ` +
                      `train ${run.trainSeconds.toFixed(1)} s, eval ${run.evalSeconds.toFixed(1)} s ` +
                      `(elapsed ${((Date.now() - started) / 1000).toFixed(0)} s)`);
      }
    }
  } finally {
    disposeSplit(train);
    tf.dispose([validation, test]);
    disposeCellCentres();
  }
  const leakedTensors = tf.memory().numTensors - tensorsBefore;

  const rows: LossRow[] = entries.map((entry) => {
    const own = runs.filter((r) => r.loss === entry.id);
    const map50 = own.map((r) => r.map50);
    return {
      loss: entry.id, label: entry.label, description: entry.description, prior: entry.prior,
      ablation: entry.ablation, map50, mean: mean(map50), sd: standardDeviation(map50),
      trainSeconds: own.map((r) => r.trainSeconds),
      apPerClassMean: Array.from({length: NUM_CLASSES}, (_, c) => mean(own.map((r) => r.apPerClass[c]))),
    };
  });
  const comparisons = COMPARISONS.map(([a, b]) => compareRows(rows, a, b))
                          .filter((c): c is PairedComparison<'map50'> => c !== null);
  const countObjects = (s: DetectionSplit) => s.objects.reduce((n, o) => n + o.length, 0);
  const examples = Math.min(options.exampleImages, data.test.count);
  const pixels = (n: number) => Array.from(data.test.images.subarray(n * CANVAS * CANVAS, (n + 1) * CANVAS * CANVAS),
                                           (v) => Math.round(v * 15).toString(16)).join('');
  const {progress: _progress, log: _log, backend, ...settings} = options;
  return {
    backend,
    settings: {
      ...settings, stride: STRIDE, grid: GRID, canvas: CANVAS, classes: NUM_CLASSES, parameters,
      decode: DEFAULT_DECODE, optimizer: `Adam, learning rate ${options.learningRate}, batch ${options.batchSize}`,
      boxLoss: 'GIoU loss on positive cells, summed / positives (FCOS distances to the four sides, exp-encoded)',
      prior: 'class-logit bias initialised to -log((1 - 0.01) / 0.01) (RetinaNet prior 0.01) for every main loss; ' +
             'the *_no_prior ablations use bias 0',
      searchBudget: 'no per-loss search: every loss uses the paper\'s hyper-parameters; the shared settings ' +
                    '(model, optimizer, steps, learning rate) are the same for all losses',
    },
    data: {
      trainObjects: countObjects(data.train), testObjects: countObjects(data.test),
      positivesPerImage: mean(Array.from(train.positivesPerImage)), outputsPerImage: GRID * GRID * NUM_CLASSES,
    },
    rows, comparisons, runs,
    exampleTruth: data.test.objects.slice(0, examples),
    examplePixels: Array.from({length: examples}, (_, n) => pixels(n)),
    pending: PENDING_LOSSES, leakedTensors,
    seconds: (Date.now() - started) / 1000,
  };
}
