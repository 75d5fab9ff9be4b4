// focalLoss: softmax focal loss (Lin et al. 2017) over the last axis, as a tfjs op backed by the
// native 'FocalLoss' kernel.
import * as tf from '@tensorflow/tfjs';

import {FocalLossAttrs} from './kernels/FocalLoss';
import {runFocalLoss} from './paths/select';
import {checkBoolean, checkInt32, checkNonNegativeNumber, checkOptionKeys, checkReduction, checkSoftmaxAlpha, checkTensor, checkUnitInterval, checkWeights, shapeString} from './options';
import {kernelReduction} from './kernels/kernel_utils';
import {reduceWeightedLoss} from './reduction';

export interface FocalLossOptions {
  /** Focusing parameter, a finite number >= 0 (0 gives alpha-weighted cross-entropy). Default 2. */
  gamma?: number;
  /** Class weight: a number, or one finite number >= 0 per class (length C). Default 0.25. */
  alpha?: number | number[];
  /**
   * Weights of the per-sample losses (shape logits.shape[:-1]): a number, or a Tensor of rank 0 or
   * of the same rank with each dimension 1 or equal. Must be finite.
   */
  weights?: tf.Tensor | number;
  /** tf.Reduction; default SUM_BY_NONZERO_WEIGHTS (the mean over rows with nonzero weight). */
  reduction?: tf.Reduction;
  /** Keras label smoothing in [0, 1]: y' = y (1 - ls) + ls / C. Default 0. */
  labelSmoothing?: number;
  /**
   * Sparse labels only: rows whose label equals this get loss 0 and weight 0 (left out of MEAN
   * and SUM_BY_NONZERO_WEIGHTS), like PyTorch's ignore_index. Default: none.
   */
  ignoreIndex?: number | null;
  /**
   * true (default): `logits` are unnormalized scores. false: `logits` are probabilities (Keras
   * semantics: each row is divided by its sum and clipped to [1e-7, 1 - 1e-7]).
   */
  fromLogits?: boolean;
}

export const FOCAL_LOSS_OPTION_KEYS: readonly string[] =
    ['gamma', 'alpha', 'weights', 'reduction', 'labelSmoothing', 'ignoreIndex', 'fromLogits'];

/** Validated, defaulted focalLoss options. */
interface ResolvedOptions {
  attrs: FocalLossAttrs;
  weights: tf.Tensor | number | null;
  reduction: tf.Reduction;
}

function resolveOptions(fn: string, labels: tf.Tensor, logits: tf.Tensor, options: unknown):
    ResolvedOptions {
  const given = checkOptionKeys<FocalLossOptions>(fn, options, FOCAL_LOSS_OPTION_KEYS);
  const classes = logits.shape[logits.rank - 1];
  const sparse = labels.dtype === 'int32';
  let ignoreIndex: number | null = null;
  if (given.ignoreIndex !== undefined && given.ignoreIndex !== null) {
    ignoreIndex = checkInt32(fn, 'options.ignoreIndex', given.ignoreIndex);
    if (!sparse) {
      throw new TypeError(`${fn}: options.ignoreIndex applies only to sparse int32 labels; ` +
          `received dense ${labels.dtype} labels of shape ${shapeString(labels.shape)} ` +
          `(give ignored rows weight 0 through options.weights instead)`);
    }
  }
  return {
    attrs: {
      gamma: checkNonNegativeNumber(fn, 'options.gamma', given.gamma, 2),
      alpha: checkSoftmaxAlpha(fn, 'options.alpha', given.alpha, classes, 0.25),
      labelSmoothing: checkUnitInterval(fn, 'options.labelSmoothing', given.labelSmoothing, 0),
      ignoreIndex,
      fromLogits: checkBoolean(fn, 'options.fromLogits', given.fromLogits, true),
    },
    reduction: checkReduction(fn, 'options.reduction', given.reduction,
                              tf.Reduction.SUM_BY_NONZERO_WEIGHTS),
    weights: checkWeights(fn, 'options.weights', given.weights, logits.shape.slice(0, -1)),
  };
}

/** Checks dtypes and shapes of labels and logits (sparse vs dense is decided by the dtype). */
export function checkLabelsAndLogits(fn: string, labels: unknown, logits: unknown):
    [tf.Tensor, tf.Tensor] {
  const $logits = checkTensor(fn, 'logits', logits);
  const $labels = checkTensor(fn, 'labels', labels);
  if ($logits.dtype !== 'float32') {
    throw new TypeError(`${fn}: logits must have dtype float32; received dtype ${
        $logits.dtype} (cast with tf.cast(logits, 'float32'))`);
  }
  if ($logits.rank < 2) {
    throw new RangeError(`${fn}: logits must have rank >= 2 ([..., numClasses], class axis last); ` +
        `received shape ${shapeString($logits.shape)}${
            $logits.rank === 1 ? ' (for a single sample use logits.expandDims(0))' : ''}`);
  }
  const classes = $logits.shape[$logits.rank - 1];
  if (classes === 0) {
    throw new RangeError(`${fn}: the class axis (last axis) of logits must have size > 0; ` +
        `received shape ${shapeString($logits.shape)}`);
  }
  const sparseShape = $logits.shape.slice(0, -1);
  if ($labels.dtype === 'int32') {
    if (!tf.util.arraysEqual($labels.shape, sparseShape)) {
      throw new RangeError(`${fn}: sparse int32 labels must have shape logits.shape[:-1] = ${
          shapeString(sparseShape)}; received shape ${shapeString($labels.shape)}${
          tf.util.arraysEqual($labels.shape, $logits.shape) ?
              ' (one-hot labels must be float32: tf.cast(labels, \'float32\'))' :
              ($labels.rank === $logits.rank && $labels.shape[$labels.rank - 1] === 1 ?
                   ' (squeeze the last axis: labels.squeeze([-1]))' : '')}`);
    }
  } else if ($labels.dtype === 'float32') {
    if (!tf.util.arraysEqual($labels.shape, $logits.shape)) {
      throw new RangeError(`${fn}: dense float32 labels must have the shape of logits ${
          shapeString($logits.shape)}; received shape ${shapeString($labels.shape)}${
          tf.util.arraysEqual($labels.shape, sparseShape) ?
              ' (class-index labels must be int32: tf.cast(labels, \'int32\'))' : ''}`);
    }
  } else {
    throw new TypeError(`${fn}: labels must be int32 class indices of shape ${
        shapeString(sparseShape)} or float32 (one-hot or soft) labels of shape ${
        shapeString($logits.shape)}; received dtype ${$labels.dtype}`);
  }
  return [$labels, $logits];
}

/**
 * Softmax focal loss over the last axis:
 * `L = -sum_j alpha_j y_j (1 - p_j)^gamma log p_j` per row, `p = softmax(logits)`.
 *
 * @param labels int32 class indices of shape `logits.shape[:-1]` (sparse), or float32 one-hot /
 *     soft labels of shape `logits.shape` (dense, Keras `categorical_focal_crossentropy`).
 * @param logits float32 `[..., C]` with C > 0 (probabilities when `fromLogits` is false).
 * @param options see FocalLossOptions; unknown keys throw.
 * @returns the reduced loss (a scalar), or the per-row loss of shape `logits.shape[:-1]` with
 *     `reduction: tf.Reduction.NONE`.
 *
 * Differentiable with respect to logits (native fused gradient) and dense labels. Sparse labels out
 * of [0, C) (other than ignoreIndex) throw a RangeError; NaN or infinite labels or weights throw. An
 * empty batch gives an empty per-row loss, and 0 for every other reduction.
 */
export function focalLoss(labels: tf.Tensor, logits: tf.Tensor, options?: FocalLossOptions):
    tf.Tensor {
  return focalLossAs('focalLoss', labels, logits, options);
}

/** focalLoss whose errors are reported under the name `fn` (the Keras-style wrappers). */
export function focalLossAs(
    fn: string, labels: unknown, logits: unknown, options?: FocalLossOptions): tf.Tensor {
  const [$labels, $logits] = checkLabelsAndLogits(fn, labels, logits);
  const {attrs, weights, reduction} = resolveOptions(fn, $labels, $logits, options);
  if (weights === null && attrs.ignoreIndex === null) {
    // Unweighted: the kernel reduces in the same native pass (one op forward, one backward).
    const reduced: FocalLossAttrs = {...attrs, reduction: kernelReduction(reduction)};
    return runFocalLoss($labels, $logits, reduced);
  }
  return tf.tidy(() => {
    const perRow = runFocalLoss($labels, $logits, attrs);
    let rowWeights: tf.Tensor | null = weights === null ? null :
        typeof weights === 'number' ? tf.scalar(weights) :
        tf.cast(weights, 'float32');
    if (attrs.ignoreIndex !== null) {
      const kept = tf.cast(tf.notEqual($labels, attrs.ignoreIndex), 'float32');
      rowWeights = rowWeights === null ? kept : tf.mul(rowWeights, kept);
    }
    return reduceWeightedLoss(perRow, rowWeights, reduction);
  });
}
