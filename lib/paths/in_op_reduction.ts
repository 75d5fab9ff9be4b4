// The in-op reduction of a forward kernel ('none', 'sum', or 'mean' over max(1, n) losses), in the
// three forms the paths need it: on JS arrays (the same arithmetic as the native reduce_losses), as
// tfjs ops (the composites), and as the factor the backward pass applies to a scalar dy.
import * as tf from '@tensorflow/tfjs';

import type {KernelReduction} from '../kernel_contract';

/** The backward factor of an in-op reduction over `samples` losses (undefined: not reduced). */
export function reductionFactor(reduction: KernelReduction, samples: number): number | undefined {
  return reduction === 'none' ? undefined : reduction === 'sum' ? 1 : 1 / Math.max(1, samples);
}

/**
 * On JS arrays, the same arithmetic as the native reduce_losses: a double sum in index order,
 * divided by max(1, n) for the mean, rounded once to float32.
 */
export function reduceLossArray(losses: Float32Array, reduction: KernelReduction): Float32Array {
  if (reduction === 'none') {
    return losses;
  }
  let sum = 0;
  for (let i = 0; i < losses.length; i++) {
    sum += losses[i];
  }
  return Float32Array.of(reduction === 'mean' ? sum / Math.max(1, losses.length) : sum);
}

/**
 * As tfjs ops (the composites; tfjs autodiff differentiates it). The mean is sum / max(1, n) for
 * the focal losses and tf.mean (`mean: 'tf.mean'`) for the rest of the elementwise family: the two
 * round differently on 'cpu', and each composite keeps the bits it has always had.
 */
export function reduceLossTensor(losses: tf.Tensor, reduction: KernelReduction,
                                 mean: 'sum / n' | 'tf.mean' = 'sum / n'): tf.Tensor {
  switch (reduction) {
    case 'none':
      return losses;
    case 'sum':
      return tf.sum(losses);
    default:
      if (mean === 'tf.mean') return losses.size === 0 ? tf.scalar(0) : tf.mean(losses);
      return tf.div(tf.sum(losses), Math.max(1, losses.size));
  }
}
