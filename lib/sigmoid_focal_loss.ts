// sigmoidFocalLoss: elementwise sigmoid focal loss (binary / multi-label; RetinaNet, torchvision
// sigmoid_focal_loss, Keras BinaryFocalCrossentropy) as a tfjs op backed by the native kernel.
import * as tf from '@tensorflow/tfjs';

import {SigmoidFocalLossAttrs} from './kernels/SigmoidFocalLoss';
import {runSigmoidFocalLoss} from './paths/select';
import {checkBoolean, checkNonNegativeNumber, checkOptionKeys, checkReduction, checkTensor, checkUnitInterval, checkWeights, describeValue, shapeString} from './options';
import {kernelReduction} from './kernels/kernel_utils';
import {reduceWeightedLoss} from './reduction';

export interface SigmoidFocalLossOptions {
  /** Focusing parameter, a finite number >= 0. Default 2. */
  gamma?: number;
  /**
   * Class balancing alpha in [0, 1]: alpha_t = alpha y + (1 - alpha)(1 - y). null or a negative
   * number turns balancing off (torchvision's alpha = -1). Default 0.25.
   */
  alpha?: number | null;
  /**
   * Weights of the elementwise losses (shape logits.shape): a number, or a Tensor of rank 0 or of
   * the same rank with each dimension 1 or equal. Must be finite.
   */
  weights?: tf.Tensor | number;
  /** tf.Reduction; default SUM_BY_NONZERO_WEIGHTS. Not allowed with normalizeByPositives. */
  reduction?: tf.Reduction;
  /** Keras binary label smoothing in [0, 1]: y' = y (1 - ls) + ls / 2. Default 0. */
  labelSmoothing?: number;
  /** true (default): logits; false: probabilities, clipped to [1e-7, 1 - 1e-7] (Keras). */
  fromLogits?: boolean;
  /**
   * RetinaNet normalization: the (weighted) sum of the elementwise losses divided by
   * max(1, number of labels > 0). Replaces `reduction`. Default false.
   */
  normalizeByPositives?: boolean;
}

export const SIGMOID_FOCAL_LOSS_OPTION_KEYS: readonly string[] = ['gamma', 'alpha', 'weights',
  'reduction', 'labelSmoothing', 'fromLogits', 'normalizeByPositives'];

/** alpha in [0, 1], or null / negative for "no class balancing" (returned as -1). */
export function checkSigmoidAlpha(fn: string, argName: string, value: unknown): number {
  if (value === undefined) {
    return 0.25;
  }
  if (value === null) {
    return -1;
  }
  if (typeof value !== 'number') {
    throw new TypeError(`${fn}: ${argName} must be a number in [0, 1], or null / a negative ` +
        `number to turn class balancing off; received ${describeValue(value)}`);
  }
  if (!Number.isFinite(value) || value > 1) {
    throw new RangeError(`${fn}: ${argName} must be a number in [0, 1], or null / a negative ` +
        `number to turn class balancing off; received ${value}`);
  }
  return value < 0 ? -1 : value;
}

export function checkSigmoidLabelsAndLogits(fn: string, labels: unknown, logits: unknown):
    [tf.Tensor, tf.Tensor] {
  const $logits = checkTensor(fn, 'logits', logits);
  const $labels = checkTensor(fn, 'labels', labels);
  if ($logits.dtype !== 'float32') {
    throw new TypeError(`${fn}: logits must have dtype float32; received dtype ${
        $logits.dtype} (cast with tf.cast(logits, 'float32'))`);
  }
  if ($labels.dtype !== 'float32') {
    throw new TypeError(`${fn}: labels must be float32 targets in [0, 1] of the shape of logits ${
        shapeString($logits.shape)}; received dtype ${$labels.dtype} (cast with tf.cast(labels, ` +
        `'float32'))`);
  }
  if (!tf.util.arraysEqual($labels.shape, $logits.shape)) {
    throw new RangeError(`${fn}: labels must have the shape of logits ${
        shapeString($logits.shape)}; received shape ${shapeString($labels.shape)}`);
  }
  return [$labels, $logits];
}

/**
 * Sigmoid focal loss, elementwise:
 * `L = alpha_t * BCE(x, y) * (1 - p_t)^gamma`, `p = sigmoid(x)`, `p_t = p y + (1 - p)(1 - y)`.
 *
 * @param labels float32 targets in [0, 1], same shape as logits (multi-hot for multi-label).
 * @param logits float32 of any shape (probabilities when `fromLogits` is false).
 * @param options see SigmoidFocalLossOptions; unknown keys throw.
 * @returns the reduced loss (a scalar), or the elementwise loss with `reduction: NONE`.
 *
 * Differentiable with respect to logits (native fused gradient) and labels. NaN or infinite labels
 * or weights throw. An empty input gives an empty elementwise loss, and 0 for every reduction.
 */
export function sigmoidFocalLoss(labels: tf.Tensor, logits: tf.Tensor,
                                 options?: SigmoidFocalLossOptions): tf.Tensor {
  return sigmoidFocalLossAs('sigmoidFocalLoss', labels, logits, options);
}

/** sigmoidFocalLoss whose errors are reported under the name `fn` (the Keras-style wrappers). */
export function sigmoidFocalLossAs(fn: string, labels: unknown, logits: unknown,
                                   options?: SigmoidFocalLossOptions): tf.Tensor {
  const [$labels, $logits] = checkSigmoidLabelsAndLogits(fn, labels, logits);
  const given = checkOptionKeys<SigmoidFocalLossOptions>(fn, options,
                                                         SIGMOID_FOCAL_LOSS_OPTION_KEYS);
  const attrs: SigmoidFocalLossAttrs = {
    gamma: checkNonNegativeNumber(fn, 'options.gamma', given.gamma, 2),
    alpha: checkSigmoidAlpha(fn, 'options.alpha', given.alpha),
    labelSmoothing: checkUnitInterval(fn, 'options.labelSmoothing', given.labelSmoothing, 0),
    fromLogits: checkBoolean(fn, 'options.fromLogits', given.fromLogits, true),
  };
  const normalizeByPositives =
      checkBoolean(fn, 'options.normalizeByPositives', given.normalizeByPositives, false);
  const reduction =
      checkReduction(fn, 'options.reduction', given.reduction, tf.Reduction.SUM_BY_NONZERO_WEIGHTS);
  if (normalizeByPositives && given.reduction !== undefined) {
    throw new TypeError(`${fn}: options.reduction cannot be combined with ` +
        `options.normalizeByPositives (which already divides the summed loss by the number of ` +
        `positive labels); received reduction ${String(given.reduction)}`);
  }
  const weights = checkWeights(fn, 'options.weights', given.weights, $logits.shape);
  if (weights === null && !normalizeByPositives) {
    // Unweighted: the kernel reduces in the same native pass (one op forward, one backward).
    const reduced: SigmoidFocalLossAttrs = {...attrs, reduction: kernelReduction(reduction)};
    return runSigmoidFocalLoss($labels, $logits, reduced);
  }

  return tf.tidy(() => {
    const elementwise = runSigmoidFocalLoss($labels, $logits, attrs);
    const elementWeights = weights === null ? null :
        typeof weights === 'number' ? tf.scalar(weights) : tf.cast(weights, 'float32');
    if (normalizeByPositives) {
      const summed = reduceWeightedLoss(elementwise, elementWeights, tf.Reduction.SUM);
      const positives = tf.sum(tf.cast(tf.greater($labels, 0), 'float32'));
      return tf.div(summed, tf.maximum(positives, 1));
    }
    return reduceWeightedLoss(elementwise, elementWeights, reduction);
  });
}
