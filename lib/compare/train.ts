// One training run: a model from the factory, started from the seed's initial weights, trained by a
// plain loop (Adam by default) over the seed's batch order with one contender's loss, evaluated on
// the held-out split after every epoch. Everything it creates is disposed before it returns.
import * as tf from '@tensorflow/tfjs';

import {ContenderLoss, Task} from './contenders';
import {CompareAbortedError, CompareError} from './errors';
import {Metrics, multiLabelMetrics, singleLabelMetrics} from './metrics';
import {SeededRandom} from './stats';

export interface EpochRecord {
  epoch: number;
  /** Mean training objective over the epoch's batches (each contender its own objective). */
  trainLoss: number;
  /** Training time of the epoch (batches and optimizer steps), seconds. */
  seconds: number;
  /** Held-out metrics after the epoch. */
  metrics: Metrics;
}

export interface RunRecord {
  contender: string;
  seed: number;
  epochs: EpochRecord[];
  final: Metrics;
  /** Seconds spent evaluating on the held-out split, all epochs. */
  evaluationSeconds: number;
  /** tf.memory().numTensors after the run minus before (0: nothing left behind). */
  leakedTensors: number;
}

export interface SplitTensors {
  trainX: tf.Tensor;
  trainLabels: tf.Tensor;
  testX: tf.Tensor;
  testLabelValues: Int32Array | Float32Array;
  trainRows: number;
}

export interface RunSettings {
  task: Task;
  classes: number;
  rareClasses: number[];
  epochs: number;
  batchSize: number;
  optimizer: () => tf.Optimizer;
  clock: () => number;
  signal?: AbortSignal;
  onEpoch?: (record: EpochRecord) => void;
}

/** Rows per forward pass when evaluating (bounds the memory of a large held-out split). */
const EVALUATION_BATCH = 4096;

/** The batch order of a seed: the same for every contender under that seed. */
export function batchShuffler(seed: number): SeededRandom {
  return new SeededRandom(seed * 7919 + 17);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new CompareAbortedError(signal.reason);
  }
}

/** The model's logits on `x`, as plain numbers (row-major). */
export function predictLogits(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  const rows = x.shape[0];
  const parts: Float32Array[] = [];
  for (let first = 0; first < rows; first += EVALUATION_BATCH) {
    const logits = tf.tidy(() => model.apply(x.slice(first, Math.min(EVALUATION_BATCH, rows - first)),
                                             {training: false}) as tf.Tensor);
    parts.push(logits.dataSync() as Float32Array);
    logits.dispose();
  }
  if (parts.length === 1) {
    return parts[0];
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (all.set(p, offset), offset + p.length), 0);
  return all;
}

export function evaluate(model: tf.LayersModel, data: SplitTensors, settings: RunSettings): Metrics {
  const logits = predictLogits(model, data.testX);
  return settings.task === 'single-label' ?
      singleLabelMetrics(logits, data.testLabelValues, settings.classes, settings.rareClasses) :
      multiLabelMetrics(logits, data.testLabelValues, settings.classes, settings.rareClasses);
}

/** The trainable variables of the model (what the optimizer updates). */
function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * One call of the loss on the first batch, outside any gradient tape: a loss that throws or returns
 * something other than a scalar is reported before training starts (a throw inside optimizer.minimize
 * would leave the tape's tensors behind).
 */
function checkLoss(model: tf.LayersModel, contender: string, loss: ContenderLoss, data: SplitTensors,
                   batchSize: number): void {
  tf.tidy(() => {
    const rows = Math.min(batchSize, data.trainRows);
    const cost = loss(data.trainLabels.slice(0, rows), model.apply(data.trainX.slice(0, rows)) as tf.Tensor);
    if (!(cost instanceof tf.Tensor) || cost.rank !== 0) {
      throw new CompareError(`contender '${contender}': its loss returned ${
          cost instanceof tf.Tensor ? `a tensor of shape [${cost.shape.join(', ')}]` : typeof cost}; ` +
          'a loss must return a scalar tensor (reduce it, e.g. with tf.mean)');
    }
  });
}

/** Trains `model` (already at the seed's initial weights) with `loss`; disposes the model. */
export async function trainRun(model: tf.LayersModel, contender: string, seed: number, loss: ContenderLoss,
                               data: SplitTensors, settings: RunSettings): Promise<RunRecord> {
  const tensorsBefore = tf.memory().numTensors - model.weights.length;
  const optimizer = settings.optimizer();
  if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.minimize !== 'function') {
    model.dispose();
    throw new CompareError('options.optimizer: expected a function returning a tf.Optimizer (e.g. () => tf.train.adam(1e-3))');
  }
  const variables = trainableVariables(model);
  try {
    checkLoss(model, contender, loss, data, settings.batchSize);
  } catch (e) {
    model.dispose();
    optimizer.dispose();
    throw e;
  }
  const order = Array.from({length: data.trainRows}, (_, i) => i);
  const shuffler = batchShuffler(seed);
  const epochs: EpochRecord[] = [];
  let evaluationSeconds = 0;
  try {
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      shuffler.shuffle(order);
      const start = settings.clock();
      let lossSum = 0;
      let batches = 0;
      for (let first = 0; first < order.length; first += settings.batchSize) {
        throwIfAborted(settings.signal);
        const batchIndices = tf.tensor1d(order.slice(first, first + settings.batchSize), 'int32');
        const value = tf.tidy(() => {
          const x = tf.gather(data.trainX, batchIndices);
          const labels = tf.gather(data.trainLabels, batchIndices);
          return optimizer.minimize(() => loss(labels, model.apply(x, {training: true}) as tf.Tensor), true, variables)!;
        });
        lossSum += value.dataSync()[0];
        batches++;
        tf.dispose([value, batchIndices]);
      }
      const seconds = (settings.clock() - start) / 1000;
      const evaluationStart = settings.clock();
      const metrics = evaluate(model, data, settings);
      evaluationSeconds += (settings.clock() - evaluationStart) / 1000;
      const record = {epoch, trainLoss: lossSum / batches, seconds, metrics};
      epochs.push(record);
      settings.onEpoch?.(record);
      // Lets a cancellation from elsewhere (a timer, a signal handler) reach the signal.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  return {contender, seed, epochs, final: epochs[epochs.length - 1].metrics, evaluationSeconds,
          leakedTensors: tf.memory().numTensors - tensorsBefore};
}
