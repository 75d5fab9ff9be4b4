// The labels gradients of the fused kernels, composed of tfjs ops (the kernels compute only
// dL/dlogits): evaluated only when a gradient with respect to the labels is asked for, from the
// complete attrs and dy (per sample, or the scalar upstream gradient of an in-op sum or mean).
import * as tf from '@tensorflow/tfjs';

import type {ResolvedSoftmaxFocalLossAttrs, ResolvedSigmoidElementwiseLossAttrs} from '../kernel_contract';
import {KERAS_EPSILON, softmaxProbabilities} from './composite';
import {familyTargetsGradient} from './composite_family';
import {reductionFactor} from './in_op_reduction';

/**
 * dL/dy_j = (1 - ls) alpha_j [-(1 - p_j)^gamma log p_j + eps (1 - p_j)^(gamma + 1)] * dy for
 * dense labels (p of the adjusted logits), composed from tfjs ops and evaluated only when a
 * gradient with respect to the labels is requested.
 */
export function softmaxDenseLabelsGradient(logits: tf.Tensor, dy: tf.Tensor, attrs: ResolvedSoftmaxFocalLossAttrs): tf.Tensor {
  return tf.tidy(() => {
    const {logP, oneMinusP} = softmaxProbabilities(logits, attrs);
    const alpha = typeof attrs.alpha === 'number' ? tf.scalar(attrs.alpha) :
                                                    tf.tensor1d(attrs.alpha, 'float32');
    const modulation = attrs.gamma === 0 ? tf.onesLike(oneMinusP) : tf.pow(oneMinusP, attrs.gamma);
    let term = tf.neg(logP);
    if (attrs.polyEpsilon !== 0) {
      term = tf.add(term, tf.mul(attrs.polyEpsilon, oneMinusP));
    }
    const perClass = tf.mul(tf.mul(alpha, modulation), term);
    // dy is per row, or the scalar upstream gradient of an in-op sum or mean.
    const factor = reductionFactor(attrs.reduction, logits.size / logits.shape[logits.rank - 1]);
    const rowDy = factor === undefined ? tf.expandDims(dy, -1) : tf.mul(dy, factor);
    return tf.mul(tf.mul(perClass, rowDy), 1 - attrs.labelSmoothing);
  });
}

/**
 * With y' = y (1 - ls) + ls / 2, q = 1 - p_t = y' (1 - p) + (1 - y') p and
 * L = alpha_t ce q^gamma:
 *   dL/dy = (1 - ls) dy [alpha_t' ce q^g + alpha_t ce' q^g + alpha_t g ce q^(g-1) q'],
 * alpha_t' = 2 alpha - 1 (0 without balancing), q' = 1 - 2p, ce' = -x on the logits path and
 * log((1 - p) / p) on the probability path.
 */
function sigmoidFocalLabelsGradient(labels: tf.Tensor, logits: tf.Tensor, dy: tf.Tensor,
                        attrs: ResolvedSigmoidElementwiseLossAttrs): tf.Tensor {
  return tf.tidy(() => {
    const ls = attrs.labelSmoothing;
    const gamma = attrs.gamma;
    const y = ls > 0 ? tf.add(tf.mul(labels, 1 - ls), 0.5 * ls) : labels;
    let ce: tf.Tensor;
    let ceSlope: tf.Tensor;
    let q: tf.Tensor;
    let qSlope: tf.Tensor;
    let ceTimesQPowGammaMinus1: tf.Tensor | null = null;
    if (attrs.fromLogits) {
      const pos = tf.sigmoid(logits);
      const neg = tf.sigmoid(tf.neg(logits));
      ce = tf.sub(tf.softplus(logits), tf.mul(logits, y));
      ceSlope = tf.neg(logits);
      q = tf.add(tf.mul(y, neg), tf.mul(tf.sub(1, y), pos));
      qSlope = tf.sub(neg, pos);
      if (gamma > 0) {
        // ce q^(g-1) = q^g (ce / q); for hard labels ce / q -> 1 as q -> 0, which keeps g < 1
        // finite where 1 - p_t underflows to 0.
        const ratio = tf.where(tf.greater(q, 0), tf.div(ce, tf.maximum(q, 1e-30)), tf.onesLike(q));
        ceTimesQPowGammaMinus1 = tf.mul(tf.pow(q, gamma), ratio);
      }
    } else {
      const clipped = tf.clipByValue(logits, KERAS_EPSILON, 1 - KERAS_EPSILON);
      const logP = tf.log(clipped);
      const log1mP = tf.log(tf.sub(1, clipped));
      ce = tf.neg(tf.add(tf.mul(y, logP), tf.mul(tf.sub(1, y), log1mP)));
      ceSlope = tf.sub(log1mP, logP);
      q = tf.add(tf.mul(y, tf.sub(1, logits)), tf.mul(tf.sub(1, y), logits));
      qSlope = tf.sub(1, tf.mul(logits, 2));
      if (gamma > 0) {
        ceTimesQPowGammaMinus1 = tf.mul(ce, tf.pow(q, gamma - 1));
      }
    }
    const modulation = gamma === 0 ? tf.onesLike(q) : tf.pow(q, gamma);
    const balancing = attrs.alpha >= 0;
    const alphaT = balancing ? tf.add(tf.mul(y, attrs.alpha), tf.mul(tf.sub(1, y), 1 - attrs.alpha)) :
                               tf.onesLike(y);
    let slope = tf.mul(tf.mul(alphaT, ceSlope), modulation);
    if (balancing) {
      slope = tf.add(slope, tf.mul(tf.mul(ce, modulation), 2 * attrs.alpha - 1));
    }
    if (ceTimesQPowGammaMinus1 !== null) {
      slope = tf.add(slope, tf.mul(tf.mul(alphaT, ceTimesQPowGammaMinus1), tf.mul(qSlope, gamma)));
    }
    const eps = attrs.polyEpsilon;
    if (eps !== 0) {
      // Poly-1: d/dy alpha_t eps q^(g+1) = eps [alpha_t' q^(g+1) + alpha_t (g + 1) q^g q'].
      const qPowG1 = tf.mul(modulation, q);
      slope = tf.add(slope, tf.mul(tf.mul(tf.mul(alphaT, modulation), qSlope), eps * (gamma + 1)));
      if (balancing) slope = tf.add(slope, tf.mul(qPowG1, eps * (2 * attrs.alpha - 1)));
    }
    // dy is elementwise, or the scalar upstream gradient of an in-op sum or mean.
    const factor = reductionFactor(attrs.reduction, logits.size);
    return tf.mul(tf.mul(slope, factor === undefined ? dy : tf.mul(dy, factor)), 1 - ls);
  });
}

/** dL/dlabels of the elementwise kernel, for every loss it runs. */
export function elementwiseLabelsGradient(labels: tf.Tensor, logits: tf.Tensor, dy: tf.Tensor,
                                          attrs: ResolvedSigmoidElementwiseLossAttrs): tf.Tensor {
  if (attrs.loss === 'focal') return sigmoidFocalLabelsGradient(labels, logits, dy, attrs);
  // The rest of the family: the analytic derivative in tfjs ops (targets are rarely trained).
  return tf.tidy(() => {
    const factor = reductionFactor(attrs.reduction, logits.size);
    const slope = familyTargetsGradient(labels, logits, attrs);
    return tf.mul(slope, factor === undefined ? dy : tf.mul(dy, factor));
  });
}
