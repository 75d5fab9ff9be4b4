// The focal losses written with ordinary tfjs ops, so that tf.grad (tfjs' own autodiff through
// logSoftmax, pow, clipByValue, ...) gives an independent float32 gradient to compare the
// library's fused kernel and registered gradient against. Not numerically hardened: use it on
// moderate inputs only (no extreme logits).

import * as tf from '@tensorflow/tfjs-core';
import { KERAS_CLIP_FLOAT32 } from './reference';

// tfjs clips float32 tensors, so its bounds are KERAS_CLIP_FLOAT32; the composed oracle is used
// only on inputs well inside them, where that makes no difference.

export interface ComposedSoftmaxOptions {
  gamma: number;
  alpha: number | number[];
  labelSmoothing?: number;
  ignoreIndex?: number | null;
  fromLogits?: boolean;
  weights?: tf.Tensor | number;
  reduction?: tf.Reduction;
}

/** Per-row softmax focal loss and the weights the reduction uses (ignored rows weighted 0). */
export function composedSoftmaxFocalPerRow(
  labels: tf.Tensor,
  logits: tf.Tensor,
  options: ComposedSoftmaxOptions,
): { perRow: tf.Tensor; keep: tf.Tensor | null } {
  const classes = logits.shape[logits.rank - 1];
  let y: tf.Tensor;
  let keep: tf.Tensor | null = null;
  if (labels.dtype === 'int32') {
    let indices = labels;
    if (options.ignoreIndex != null) {
      keep = tf.cast(tf.notEqual(labels, options.ignoreIndex), 'float32');
      indices = tf.where(tf.notEqual(labels, options.ignoreIndex), labels, tf.zerosLike(labels));
    }
    y = tf.cast(tf.oneHot(indices as tf.Tensor, classes), 'float32');
  } else {
    y = labels;
  }
  const ls = options.labelSmoothing ?? 0;
  if (ls !== 0) y = tf.add(tf.mul(y, 1 - ls), ls / classes);

  let logP: tf.Tensor;
  let oneMinusP: tf.Tensor;
  if (options.fromLogits ?? true) {
    logP = tf.logSoftmax(logits);
    oneMinusP = tf.neg(tf.expm1(logP));
  } else {
    const p = tf.clipByValue(
      tf.div(logits, tf.sum(logits, -1, true)),
      KERAS_CLIP_FLOAT32.low,
      KERAS_CLIP_FLOAT32.high,
    );
    logP = tf.log(p);
    oneMinusP = tf.sub(1, p);
  }
  const alpha = typeof options.alpha === 'number' ? tf.scalar(options.alpha) : tf.tensor1d(options.alpha);
  // pow(x, 0)'s gradient is 0 * x^-1, NaN at x = 0: gamma = 0 is plain cross-entropy.
  const modulating = options.gamma === 0 ? tf.onesLike(oneMinusP) : tf.pow(oneMinusP, options.gamma);
  let perRow = tf.neg(tf.sum(tf.mul(tf.mul(tf.mul(alpha, y), modulating), logP), -1));
  if (keep) perRow = tf.mul(perRow, keep);
  return { perRow, keep };
}

function reduce(
  perElement: tf.Tensor,
  keep: tf.Tensor | null,
  weights: tf.Tensor | number | undefined,
  reduction: tf.Reduction | undefined,
): tf.Tensor {
  let w: tf.Tensor | number | undefined = weights;
  if (keep) {
    // Ignored rows get weight 0 (the library's documented semantics), on the full loss shape.
    // tf.ones(shape), not onesLike(perElement): the weights must not hang off the logits on the
    // tape, or tf.grad walks into computeWeightedLoss' notEqual, which has no gradient.
    const ones = tf.ones(perElement.shape);
    const full = weights === undefined ? ones : tf.mul(ones, weights);
    w = tf.mul(full, keep);
  }
  return tf.losses.computeWeightedLoss(perElement, w, reduction ?? tf.Reduction.SUM_BY_NONZERO_WEIGHTS);
}

export function composedFocalLoss(labels: tf.Tensor, logits: tf.Tensor, options: ComposedSoftmaxOptions): tf.Tensor {
  const { perRow, keep } = composedSoftmaxFocalPerRow(labels, logits, options);
  return reduce(perRow, keep, options.weights, options.reduction);
}

export interface ComposedSigmoidOptions {
  gamma: number;
  alpha: number | null;
  labelSmoothing?: number;
  fromLogits?: boolean;
  weights?: tf.Tensor | number;
  reduction?: tf.Reduction;
  normalizeByPositives?: boolean;
}

export function composedSigmoidFocalElements(
  labels: tf.Tensor,
  inputs: tf.Tensor,
  options: ComposedSigmoidOptions,
): tf.Tensor {
  const ls = options.labelSmoothing ?? 0;
  const y = ls !== 0 ? tf.add(tf.mul(labels, 1 - ls), 0.5 * ls) : labels;
  let ce: tf.Tensor;
  let oneMinusPt: tf.Tensor;
  if (options.fromLogits ?? true) {
    const p = tf.sigmoid(inputs);
    const q = tf.sigmoid(tf.neg(inputs));
    ce = tf.add(tf.sub(tf.relu(inputs), tf.mul(inputs, y)), tf.log1p(tf.exp(tf.neg(tf.abs(inputs)))));
    oneMinusPt = tf.add(tf.mul(y, q), tf.mul(tf.sub(1, y), p));
  } else {
    const pc = tf.clipByValue(inputs, KERAS_CLIP_FLOAT32.low, KERAS_CLIP_FLOAT32.high);
    ce = tf.neg(tf.add(tf.mul(y, tf.log(pc)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, pc)))));
    oneMinusPt = tf.add(tf.mul(y, tf.sub(1, inputs)), tf.mul(tf.sub(1, y), inputs));
  }
  const modulating = options.gamma === 0 ? tf.onesLike(oneMinusPt) : tf.pow(oneMinusPt, options.gamma);
  let loss = tf.mul(ce, modulating);
  if (options.alpha != null && options.alpha >= 0) {
    const alphaT = tf.add(tf.mul(y, options.alpha), tf.mul(tf.sub(1, y), 1 - options.alpha));
    loss = tf.mul(alphaT, loss);
  }
  return loss;
}

export function composedSigmoidFocalLoss(labels: tf.Tensor, inputs: tf.Tensor, options: ComposedSigmoidOptions): tf.Tensor {
  const perElement = composedSigmoidFocalElements(labels, inputs, options);
  if (options.normalizeByPositives) {
    const weighted = options.weights === undefined ? perElement : tf.mul(perElement, options.weights);
    const positives = tf.sum(tf.cast(tf.greater(labels, 0), 'float32'));
    return tf.div(tf.sum(weighted), tf.maximum(positives, 1));
  }
  return reduce(perElement, null, options.weights, options.reduction);
}
