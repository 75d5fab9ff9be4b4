// The focal losses composed of ordinary tfjs ops: the path for backends the native kernel does not
// serve (wasm, webgl, webgpu, or 'cpu' / 'tensorflow' where the binary cannot load). Each function
// takes the validated attrs the kernels take and returns the tensor the kernel returns (per-row /
// elementwise loss, or its in-op sum or mean); tfjs autodiff differentiates it. The input checks
// the kernels make on values (label ranges, probabilities) are made here on the same values, and
// reported with the same structured fields (lib/errors.ts formats both).
//
// Numerics, so that finite inputs give finite values and gradients (|logits| up to 1e4 and more):
// log p comes from logSoftmax (no log of an underflowed p), 1 - p = -expm1(log p) (no cancellation
// as p -> 1), the sigmoid cross-entropy is y softplus(-x) + (1 - y) softplus(x) (accurate in both
// tails, and its autodiff gradient sigmoid(x) - y is exact everywhere, x = 0 included), and
// (1 - p)^gamma with 0 < gamma < 1 is evaluated away from 1 - p = 0, where pow's derivative is
// infinite while the loss's is 0.
import * as tf from '@tensorflow/tfjs';

import {NativeError, rethrowNative} from '../errors';
import type {ResolvedSoftmaxFocalLossAttrs, ResolvedSigmoidElementwiseLossAttrs} from '../kernel_contract';
import {clipByValue, expm1, logSoftmax, sigmoid, softplus, where} from './composite_ops';
import {reduceLossTensor} from './in_op_reduction';

/** Keras's epsilon: probabilities (fromLogits false) are clipped to [EPSILON, 1 - EPSILON]. */
export const KERAS_EPSILON = 1e-7;

/**
 * Throws what the kernel throws for the same value: the error with the native structured fields,
 * formatted by the one decoder (lib/errors.ts).
 */
function valueError(op: string, shapes: {[name: string]: number[]},
                    fields: Pick<NativeError, 'code' | 'argument' | 'index' | 'value'> &
                        Partial<NativeError>): never {
  rethrowNative(op, {classes: 0, ignoreIndex: null, detail: '', ...fields}, shapes);
}

/**
 * Checks the values as the kernel does; for sparse labels with an ignoreIndex, returns which rows
 * are kept (a constant: the mask must not put tfjs's gradient-less comparison ops on the tape).
 */
function checkSoftmaxValues(labels: tf.Tensor, logits: tf.Tensor, attrs: ResolvedSoftmaxFocalLossAttrs):
    boolean[] | null {
  let kept: boolean[] | null = null;
  const shapes = {labels: labels.shape, logits: logits.shape};
  const classes = logits.shape[logits.rank - 1];
  if (labels.dtype === 'int32') {
    const values = labels.dataSync();
    const ignore = attrs.ignoreIndex;
    for (let r = 0; r < values.length; r++) {
      const t = values[r];
      if (ignore !== null) {
        (kept ??= []).push(t !== ignore);
      }
      if ((ignore === null || t !== ignore) && (t < 0 || t >= classes)) {
        valueError('focalLoss', shapes, {code: 'FOCAL_LABEL_OUT_OF_RANGE', argument: 'labels',
                                         index: r, value: t, classes, ignoreIndex: ignore});
      }
    }
  } else {
    checkUnitIntervalLabels('focalLoss', shapes, labels.dataSync());
  }
  if (!attrs.fromLogits) {
    const values = logits.dataSync();
    for (let row = 0; row * classes < values.length; row++) {
      let sum = 0;
      for (let k = row * classes; k < (row + 1) * classes; k++) {
        const v = values[k];
        if (!(Number.isFinite(v) && v >= 0)) {
          valueError('focalLoss', shapes, {code: 'FOCAL_PROBABILITY_INVALID', argument: 'logits',
                                           index: k, value: v, classes});
        }
        sum += v;
      }
      if (!(sum > 0 && Number.isFinite(Math.fround(sum)))) {
        valueError('focalLoss', shapes, {code: 'FOCAL_PROBABILITY_ROW_SUM', argument: 'logits',
                                         index: row * classes, value: sum, classes});
      }
    }
  }
  return kept;
}

/** The elementwise kernel's value checks: targets in [0, 1], probabilities in [0, 1]. */
/** Float labels in [0, 1] (NaN fails): the kernels' rule (native/kernels/vector_math.h). */
function checkUnitIntervalLabels(op: string, shapes: {[name: string]: number[]},
                                 y: ArrayLike<number>): void {
  for (let k = 0; k < y.length; k++) {
    if (!(y[k] >= 0 && y[k] <= 1)) {
      valueError(op, shapes, {code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL',
                              argument: 'labels', index: k, value: y[k]});
    }
  }
}

export function checkElementwiseValues(op: string, labels: tf.Tensor, logits: tf.Tensor,
                                       attrs: {fromLogits: boolean}): void {
  const shapes = {labels: labels.shape, logits: logits.shape};
  checkUnitIntervalLabels(op, shapes, labels.dataSync());
  if (!attrs.fromLogits) {
    const x = logits.dataSync();
    for (let k = 0; k < x.length; k++) {
      if (!(x[k] >= 0 && x[k] <= 1)) {
        valueError(op, shapes, {code: 'FOCAL_PROBABILITY_OUTSIDE_UNIT_INTERVAL',
                                                argument: 'logits', index: k, value: x[k]});
      }
    }
  }
}

/** (1 - p)^gamma, given 1 - p >= 0, with a finite derivative where 1 - p = 0. */
function modulatingFactor(oneMinusP: tf.Tensor, gamma: number): tf.Tensor {
  if (gamma === 0) {
    return tf.onesLike(oneMinusP);
  }
  if (gamma >= 1) {
    return tf.pow(oneMinusP, gamma);
  }
  // d/dx x^gamma is infinite at x = 0 for gamma < 1; pow is taken at 1 there and masked, so that
  // neither branch's gradient is Infinity * 0. The mask is sign(x) != 0 (x >= 0).
  const positive = () => tf.cast(tf.sign(oneMinusP), 'bool');
  const base = where(positive, oneMinusP, tf.onesLike(oneMinusP));
  return where(positive, tf.pow(base, gamma), tf.zerosLike(oneMinusP));
}

/**
 * log p and 1 - p of the softmax loss, in the forms the kernel uses: on logits (after the logit
 * adjustment z + tau log(pi)) log p from logSoftmax and 1 - p = -expm1(log p), without cancellation
 * as p -> 1; on probabilities Keras's row normalisation and clip.
 */
export function softmaxProbabilities(
    logits: tf.Tensor, attrs: Pick<ResolvedSoftmaxFocalLossAttrs, 'fromLogits' | 'logitOffsets'>):
    {logP: tf.Tensor, oneMinusP: tf.Tensor} {
  if (attrs.fromLogits) {
    const adjusted = attrs.logitOffsets === null ? logits :
        tf.add(logits, tf.tensor1d(attrs.logitOffsets, 'float32'));
    const logP = logSoftmax(adjusted);
    return {logP, oneMinusP: tf.neg(expm1(logP))};
  }
  const p = clipByValue(tf.div(logits, tf.sum(logits, -1, true)), KERAS_EPSILON, 1 - KERAS_EPSILON);
  return {logP: tf.log(p), oneMinusP: tf.sub(1, p)};
}

/**
 * Softmax focal loss over the last axis, as the 'SoftmaxFocalLoss' kernel computes it: per row
 * `-sum_j alpha_j y_j (1 - p_j)^gamma log p_j` (shape logits.shape[:-1]), or its sum / mean with
 * attrs.reduction. Sparse int32 labels equal to attrs.ignoreIndex give 0.
 */
export function compositeFocalLoss(labels: tf.Tensor, logits: tf.Tensor, attrs: ResolvedSoftmaxFocalLossAttrs):
    tf.Tensor {
  const keptRows = checkSoftmaxValues(labels, logits, attrs);
  return tf.tidy(() => {
    const classes = logits.shape[logits.rank - 1];
    let y: tf.Tensor;
    let kept: tf.Tensor | null = null;
    if (labels.dtype === 'int32') {
      let indices = labels;
      if (keptRows !== null) {
        kept = tf.tensor(keptRows, labels.shape, 'bool');
        indices = tf.where(kept, labels, tf.zerosLike(labels));
      }
      y = tf.cast(tf.oneHot(indices as tf.Tensor1D, classes), 'float32');
    } else {
      y = labels;
    }
    const ls = attrs.labelSmoothing;
    if (ls !== 0) {
      y = tf.add(tf.mul(y, 1 - ls), ls / classes);
    }
    const {logP, oneMinusP} = softmaxProbabilities(logits, attrs);
    const alpha = typeof attrs.alpha === 'number' ? tf.scalar(attrs.alpha) :
                                                    tf.tensor1d(attrs.alpha, 'float32');
    const modulation = modulatingFactor(oneMinusP, attrs.gamma);
    const weighted = tf.mul(tf.mul(alpha, y), modulation);
    let perClass = tf.neg(tf.mul(weighted, logP));
    const epsilon = attrs.polyEpsilon;
    if (epsilon !== 0) {
      // Poly-1: + alpha_j y_j eps (1 - p_j)^(gamma + 1).
      perClass = tf.add(perClass, tf.mul(tf.mul(weighted, oneMinusP), epsilon));
    }
    let perRow = tf.sum(perClass, -1);
    if (kept !== null) {
      perRow = tf.where(kept, perRow, tf.zerosLike(perRow));
    }
    return reduceLossTensor(perRow, attrs.reduction);
  });
}

/**
 * Sigmoid focal loss, elementwise, as the 'SigmoidElementwiseLoss' kernel computes it:
 * `alpha_t BCE(x, y) (1 - p_t)^gamma` (shape logits.shape), or its sum / mean with
 * attrs.reduction; alpha < 0 turns the class balancing alpha_t off.
 */
export function compositeSigmoidFocalLoss(labels: tf.Tensor, logits: tf.Tensor,
                                          attrs: ResolvedSigmoidElementwiseLossAttrs): tf.Tensor {
  checkElementwiseValues('sigmoidFocalLoss', labels, logits, attrs);
  return tf.tidy(() => {
    const ls = attrs.labelSmoothing;
    const y = ls !== 0 ? tf.add(tf.mul(labels, 1 - ls), 0.5 * ls) : labels;
    const notY = tf.sub(1, y);
    let crossEntropy: tf.Tensor;
    let oneMinusPt: tf.Tensor;
    if (attrs.fromLogits) {
      crossEntropy = tf.add(tf.mul(y, softplus(tf.neg(logits))), tf.mul(notY, softplus(logits)));
      oneMinusPt = tf.add(tf.mul(y, sigmoid(tf.neg(logits))), tf.mul(notY, sigmoid(logits)));
    } else {
      // Keras: the cross-entropy of the clipped probabilities, the focal factor of the given ones.
      const p = clipByValue(logits, KERAS_EPSILON, 1 - KERAS_EPSILON);
      crossEntropy = tf.neg(tf.add(tf.mul(y, tf.log(p)), tf.mul(notY, tf.log(tf.sub(1, p)))));
      oneMinusPt = tf.add(tf.mul(y, tf.sub(1, logits)), tf.mul(notY, logits));
    }
    const modulation = modulatingFactor(oneMinusPt, attrs.gamma);
    let loss = tf.mul(crossEntropy, modulation);
    const epsilon = attrs.polyEpsilon;
    if (epsilon !== 0) {
      // Poly-1: + eps (1 - p_t)^(gamma + 1), balanced by alpha_t with the focal term.
      loss = tf.add(loss, tf.mul(tf.mul(modulation, oneMinusPt), epsilon));
    }
    if (attrs.alpha >= 0) {
      loss = tf.mul(tf.add(tf.mul(y, attrs.alpha), tf.mul(notY, 1 - attrs.alpha)), loss);
    }
    return reduceLossTensor(loss, attrs.reduction);
  });
}
