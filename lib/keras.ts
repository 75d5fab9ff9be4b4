// Keras-style loss factories for tfjs-layers `model.compile({loss})`: each returns
// (yTrue, yPred) => per-sample loss, like the functions in tf.metrics / tf.losses of tfjs-layers,
// with Keras 3 defaults and semantics (`keras.losses.CategoricalFocalCrossentropy`, ...).
import * as tf from '@tensorflow/tfjs';

import {focalLossAs} from './focal_loss';
import {checkBoolean, checkNonNegativeNumber, checkOptionKeys, checkTensor, checkUnitInterval, describeValue, shapeString} from './options';
import {sigmoidFocalLossAs} from './sigmoid_focal_loss';

/** A loss function for `model.compile({loss})`, with a readable name and repr. */
export interface FocalLossFunction<C> {
  (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor;
  /** The validated configuration (defaults filled in). */
  readonly config: Readonly<C>;
  /** mmcv-style repr, e.g. `CategoricalFocalCrossentropy(alpha=0.25, gamma=2, ...)`. */
  toString(): string;
}

export interface CategoricalFocalCrossentropyConfig {
  /** A number, or one number >= 0 per class. Default 0.25 (Keras). */
  alpha?: number | number[];
  /** Focusing parameter >= 0. Default 2. */
  gamma?: number;
  /** Whether yPred holds logits (true) or probabilities (false, the Keras default). */
  fromLogits?: boolean;
  /** Label smoothing in [0, 1]: y' = y (1 - ls) + ls / C. Default 0. */
  labelSmoothing?: number;
}

export interface BinaryFocalCrossentropyConfig {
  /** Weight positives by alpha and negatives by 1 - alpha. Default false (Keras). */
  applyClassBalancing?: boolean;
  /** Balancing weight in [0, 1], used only with applyClassBalancing. Default 0.25. */
  alpha?: number;
  /** Focusing parameter >= 0. Default 2. */
  gamma?: number;
  /** Whether yPred holds logits (true) or probabilities (false, the Keras default). */
  fromLogits?: boolean;
  /** Label smoothing in [0, 1]: y' = y (1 - ls) + ls / 2. Default 0. */
  labelSmoothing?: number;
}

const CATEGORICAL_KEYS = ['alpha', 'gamma', 'fromLogits', 'labelSmoothing'];
const BINARY_KEYS = ['applyClassBalancing', 'alpha', 'gamma', 'fromLogits', 'labelSmoothing'];

function formatConfigValue(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.join(', ')}]`;
  }
  return String(value);
}

function makeLossFunction<C extends object>(
    name: string, className: string, config: C,
    compute: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor): FocalLossFunction<C> {
  const frozen = Object.freeze({...config});
  const repr = `${className}(${
      Object.entries(frozen).map(([k, v]) => `${k}=${formatConfigValue(v)}`).join(', ')})`;
  const lossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => compute(yTrue, yPred);
  // tfjs-layers reports losses and metrics by the function's name.
  Object.defineProperty(lossFunction, 'name', {value: name});
  Object.defineProperty(lossFunction, 'config', {value: frozen, enumerable: true});
  Object.defineProperty(lossFunction, 'toString', {value: () => repr});
  return lossFunction as FocalLossFunction<C>;
}

function validateCategoricalConfig(fn: string, config: unknown):
    Required<CategoricalFocalCrossentropyConfig> {
  const given = checkOptionKeys<CategoricalFocalCrossentropyConfig>(fn, config, CATEGORICAL_KEYS,
                                                                    'config');
  let alpha: number | number[] = 0.25;
  if (given.alpha !== undefined) {
    if (Array.isArray(given.alpha)) {
      // The length is checked against the number of classes at call time.
      alpha = given.alpha.map((a, i) => checkNonNegativeNumber(fn, `config.alpha[${i}]`, a, 0));
    } else if (typeof given.alpha === 'number') {
      alpha = checkNonNegativeNumber(fn, 'config.alpha', given.alpha, 0.25);
    } else {
      throw new TypeError(`${fn}: config.alpha must be a finite number >= 0 or an array of such ` +
          `numbers (one per class); received ${describeValue(given.alpha)}`);
    }
  }
  return {
    alpha,
    gamma: checkNonNegativeNumber(fn, 'config.gamma', given.gamma, 2),
    fromLogits: checkBoolean(fn, 'config.fromLogits', given.fromLogits, false),
    labelSmoothing: checkUnitInterval(fn, 'config.labelSmoothing', given.labelSmoothing, 0),
  };
}

/** yPred must be float32 with at least `minRank` axes (errors name yPred, not logits). */
function checkYPred(fn: string, yPred: unknown, minRank: number): tf.Tensor {
  const $yPred = checkTensor(fn, 'yPred', yPred);
  if ($yPred.dtype !== 'float32') {
    throw new TypeError(`${fn}: yPred must have dtype float32; received dtype ${$yPred.dtype}`);
  }
  if ($yPred.rank < minRank) {
    throw new RangeError(`${fn}: yPred must have rank >= ${minRank}${
        minRank === 2 ? ' ([..., numClasses], classes on the last axis)' :
                        ' (the loss is averaged over the last axis)'}; received shape ${
        shapeString($yPred.shape)}`);
  }
  return $yPred;
}

/** yTrue must be a numeric tensor. */
function checkYTrue(fn: string, yTrue: unknown): tf.Tensor {
  const $yTrue = checkTensor(fn, 'yTrue', yTrue);
  if ($yTrue.dtype !== 'float32' && $yTrue.dtype !== 'int32' && $yTrue.dtype !== 'bool') {
    throw new TypeError(`${fn}: yTrue must be numeric (float32, int32 or bool); received dtype ${
        $yTrue.dtype}`);
  }
  return $yTrue;
}

/** yTrue as float32 (Keras casts y_true to the dtype of y_pred). */
function asFloat32(yTrue: tf.Tensor): tf.Tensor {
  return yTrue.dtype === 'float32' ? yTrue : tf.cast(yTrue, 'float32');
}

/**
 * Keras `CategoricalFocalCrossentropy`: `yTrue` one-hot (or soft) labels of the shape of `yPred`,
 * `yPred` probabilities (default) or logits (`fromLogits: true`) with classes on the last axis.
 * Returns the per-sample loss `sum_j -alpha_j y_j (1 - p_j)^gamma log p_j` of shape
 * `yPred.shape[:-1]`.
 *
 * ```js
 * model.compile({optimizer: 'adam', loss: categoricalFocalCrossentropy({gamma: 2})});
 * ```
 */
export function categoricalFocalCrossentropy(config?: CategoricalFocalCrossentropyConfig):
    FocalLossFunction<Required<CategoricalFocalCrossentropyConfig>> {
  const fn = 'categoricalFocalCrossentropy';
  const resolved = validateCategoricalConfig(fn, config);
  return makeLossFunction(fn, 'CategoricalFocalCrossentropy', resolved, (yTrue, yPred) => {
    const $yPred = checkYPred(fn, yPred, 2);
    const $yTrue = checkYTrue(fn, yTrue);
    if (!tf.util.arraysEqual($yTrue.shape, $yPred.shape)) {
      throw new RangeError(`${fn}: yTrue must be one-hot (or soft) labels of the shape of yPred ${
          shapeString($yPred.shape)}; received shape ${shapeString($yTrue.shape)}${
          tf.util.arraysEqual($yTrue.shape, [...$yPred.shape.slice(0, -1), 1]) ||
                  tf.util.arraysEqual($yTrue.shape, $yPred.shape.slice(0, -1)) ?
              ' (class indices: use sparseCategoricalFocalCrossentropy)' : ''}`);
    }
    return tf.tidy(() => focalLossAs(fn, asFloat32($yTrue), $yPred,
                                     {...resolved, reduction: tf.Reduction.NONE}));
  });
}

/**
 * Checks that float class indices are integers and returns them as int32 of `targetShape`.
 * One boolean is read back; the values themselves only on the error path.
 */
function classIndicesAsInt32(fn: string, yTrue: tf.Tensor, targetShape: number[]): tf.Tensor {
  if (yTrue.dtype === 'int32') {
    return tf.reshape(yTrue, targetShape);
  }
  const integral = tf.tidy(() => tf.all(tf.logicalAnd(tf.isFinite(yTrue),
                                                       tf.equal(yTrue, tf.round(yTrue)))));
  const ok = integral.dataSync()[0] !== 0;
  integral.dispose();
  if (!ok) {
    const values = yTrue.dataSync();
    const bad = values.findIndex((v) => !Number.isInteger(v));
    throw new RangeError(`${fn}: yTrue must hold integer class indices; received yTrue[${bad}] = ${
        values[bad]}`);
  }
  return tf.reshape(tf.cast(yTrue, 'int32'), targetShape);
}

/**
 * Sparse variant of categoricalFocalCrossentropy: `yTrue` holds class indices, of shape
 * `yPred.shape[:-1]` or `yPred.shape[:-1] + [1]`, int32 or float32 with integer values (what
 * tfjs-layers feeds). Same config and result as the dense function on `oneHot(yTrue)`.
 *
 * tfjs-layers' `model.fit` checks targets against the model's output shape for every loss except
 * its own sparseCategoricalCrossentropy, so sparse targets `[N]` / `[N, 1]` are rejected there
 * before this function runs; train with `model.fitDataset` or an `optimizer.minimize` loop
 * instead (both pass targets through unchanged).
 */
export function sparseCategoricalFocalCrossentropy(config?: CategoricalFocalCrossentropyConfig):
    FocalLossFunction<Required<CategoricalFocalCrossentropyConfig>> {
  const fn = 'sparseCategoricalFocalCrossentropy';
  const resolved = validateCategoricalConfig(fn, config);
  return makeLossFunction(fn, 'SparseCategoricalFocalCrossentropy', resolved, (yTrue, yPred) => {
    const $yPred = checkYPred(fn, yPred, 2);
    const $yTrue = checkYTrue(fn, yTrue);
    const sparseShape = $yPred.shape.slice(0, -1);
    const withUnitAxis = [...sparseShape, 1];
    if (!tf.util.arraysEqual($yTrue.shape, sparseShape) &&
        !tf.util.arraysEqual($yTrue.shape, withUnitAxis)) {
      throw new RangeError(`${fn}: yTrue must hold class indices of shape ${
          shapeString(sparseShape)} or ${shapeString(withUnitAxis)} (yPred has shape ${
          shapeString($yPred.shape)}); received shape ${shapeString($yTrue.shape)}`);
    }
    if ($yTrue.dtype === 'bool') {
      throw new TypeError(`${fn}: yTrue must be int32 or float32 class indices; received dtype ` +
          `bool`);
    }
    return tf.tidy(() => focalLossAs(fn, classIndicesAsInt32(fn, $yTrue, sparseShape), $yPred,
                                     {...resolved, reduction: tf.Reduction.NONE}));
  });
}

/**
 * Keras `BinaryFocalCrossentropy`: elementwise sigmoid focal loss averaged over the last axis.
 * `yTrue` in [0, 1] of the shape of `yPred` (or `yPred.shape[:-1]` when the last axis of `yPred`
 * is 1); `yPred` probabilities (default) or logits. Returns a loss of shape `yPred.shape[:-1]`.
 */
export function binaryFocalCrossentropy(config?: BinaryFocalCrossentropyConfig):
    FocalLossFunction<Required<BinaryFocalCrossentropyConfig>> {
  const fn = 'binaryFocalCrossentropy';
  const given = checkOptionKeys<BinaryFocalCrossentropyConfig>(fn, config, BINARY_KEYS, 'config');
  const alpha = checkUnitInterval(fn, 'config.alpha', given.alpha, 0.25);
  const resolved: Required<BinaryFocalCrossentropyConfig> = {
    applyClassBalancing: checkBoolean(fn, 'config.applyClassBalancing',
                                      given.applyClassBalancing, false),
    alpha,
    gamma: checkNonNegativeNumber(fn, 'config.gamma', given.gamma, 2),
    fromLogits: checkBoolean(fn, 'config.fromLogits', given.fromLogits, false),
    labelSmoothing: checkUnitInterval(fn, 'config.labelSmoothing', given.labelSmoothing, 0),
  };
  return makeLossFunction(fn, 'BinaryFocalCrossentropy', resolved, (yTrue, yPred) => {
    const $yPred = checkYPred(fn, yPred, 1);
    const $yTrue = checkYTrue(fn, yTrue);
    const needsUnitAxis = $yPred.shape[$yPred.rank - 1] === 1 &&
        tf.util.arraysEqual($yTrue.shape, $yPred.shape.slice(0, -1));
    if (!needsUnitAxis && !tf.util.arraysEqual($yTrue.shape, $yPred.shape)) {
      throw new RangeError(`${fn}: yTrue must have the shape of yPred ${
          shapeString($yPred.shape)}; received shape ${shapeString($yTrue.shape)}`);
    }
    return tf.tidy(() => {
      const labels = needsUnitAxis ? tf.expandDims(asFloat32($yTrue), -1) : asFloat32($yTrue);
      const elementwise = sigmoidFocalLossAs(fn, labels, $yPred, {
        alpha: resolved.applyClassBalancing ? resolved.alpha : null,
        gamma: resolved.gamma,
        fromLogits: resolved.fromLogits,
        labelSmoothing: resolved.labelSmoothing,
        reduction: tf.Reduction.NONE,
      });
      return tf.mean(elementwise, -1);
    });
  });
}
