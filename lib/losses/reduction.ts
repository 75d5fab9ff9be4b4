// How the losses reduce their per-sample losses: tf.Reduction with tf.losses.computeWeightedLoss
// semantics, inside the kernel when there are no weights, with tfjs ops otherwise.
import * as tf from '@tensorflow/tfjs';

import type {KernelReduction} from '../kernel_contract';

/**
 * The unweighted tf.Reduction as an in-op reduction: without weights, MEAN and
 * SUM_BY_NONZERO_WEIGHTS are both the mean over the samples (0 for none, as below).
 */
function kernelReduction(reduction: tf.Reduction): KernelReduction {
  return reduction === tf.Reduction.NONE ? 'none' : reduction === tf.Reduction.SUM ? 'sum' : 'mean';
}

/**
 * Reduces `losses` like `tf.losses.computeWeightedLoss(losses, weights, reduction)`, with one
 * difference: a zero denominator (an empty batch, every row ignored, or all weights 0) gives 0
 * instead of NaN, as TensorFlow's own `compute_weighted_loss` does (div_no_nan). The numerator is
 * then 0 as well, so the result and its gradients are exact zeros rather than NaN that would poison
 * a training step. `weights` must already be rank 0 or broadcastable to `losses` (validated).
 */
export function reduceWeightedLoss(
    losses: tf.Tensor, weights: tf.Tensor | null, reduction: tf.Reduction): tf.Tensor {
  return tf.tidy(() => {
    const denominatorCanBeZero = losses.size === 0 ||
        (weights !== null &&
         (reduction === tf.Reduction.MEAN || reduction === tf.Reduction.SUM_BY_NONZERO_WEIGHTS));
    if (!denominatorCanBeZero) {
      return tf.losses.computeWeightedLoss(losses, weights ?? undefined, reduction);
    }
    const weighted = weights === null ? losses : tf.mul(losses, weights);
    // Denominators are built from losses.shape, never from the losses tensor itself: a path from
    // the logits through notEqual/where would need gradients tfjs does not define.
    switch (reduction) {
      case tf.Reduction.NONE:
        return weighted;
      case tf.Reduction.SUM:
        return tf.sum(weighted);
      case tf.Reduction.MEAN: {
        if (weights === null) {
          return tf.div(tf.sum(weighted), Math.max(1, losses.size));
        }
        const totalWeight = tf.sum(tf.mul(weights, tf.ones(losses.shape)));
        const safeTotal = tf.where(tf.equal(totalWeight, 0), tf.onesLike(totalWeight), totalWeight);
        return tf.div(tf.sum(weighted), safeTotal);
      }
      case tf.Reduction.SUM_BY_NONZERO_WEIGHTS: {
        if (weights === null) {
          return tf.div(tf.sum(weighted), Math.max(1, losses.size));
        }
        const nonZero = tf.sum(tf.cast(tf.notEqual(tf.mul(weights, tf.ones(losses.shape)), 0),
                                       'float32'));
        return tf.div(tf.sum(weighted), tf.maximum(nonZero, 1));
      }
      default:
        throw new TypeError(`unknown reduction ${String(reduction)}`);
    }
  });
}

/** A loss's `weights` option as a float32 tensor (null: none). */
function weightsTensor(weights: tf.Tensor | number | null): tf.Tensor | null {
  return weights === null ? null : typeof weights === 'number' ? tf.scalar(weights) : tf.cast(weights, 'float32');
}

/**
 * The loss of a kernel call, reduced as `reduction` says. Unweighted, the kernel reduces in its own
 * native pass (one op forward, one backward); with `weights`, or a loss's own weighting
 * (`reduceWeighted`: ignoreIndex, normalizeByPositives), the kernel's per-sample losses are
 * weighted and reduced with tfjs ops (reduceWeightedLoss unless `reduceWeighted` says otherwise).
 */
export function reducedKernelLoss<A extends {reduction: KernelReduction}>(
    run: (attrs: A) => tf.Tensor, attrs: A, weights: tf.Tensor | number | null, reduction: tf.Reduction,
    reduceWeighted: ((losses: tf.Tensor, weights: tf.Tensor | null) => tf.Tensor) | null = null): tf.Tensor {
  if (weights === null && reduceWeighted === null) {
    return run({...attrs, reduction: kernelReduction(reduction)});
  }
  return tf.tidy(() => {
    const losses = run(attrs);
    const lossWeights = weightsTensor(weights);
    return reduceWeighted === null ? reduceWeightedLoss(losses, lossWeights, reduction) :
                                     reduceWeighted(losses, lossWeights);
  });
}
