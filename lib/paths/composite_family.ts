// The elementwise family composed of tfjs ops: the same losses as the fused 'SigmoidElementwiseLoss'
// kernel (same attrs, same output: the elementwise loss, or its sum / mean), for backends without
// the native kernel and as the reference the fused kernel is tested against. Every form is
// differentiable by tfjs autodiff and finite for hard targets at any logit:
//   -log p = softplus(-x), -log(1 - p) = softplus(x), p^g = exp(-g softplus(-x)),
//   BCE(x, q) = relu(x) - x q + log1p(exp(-|x|)) (no cancellation for q in {0, 1}),
// and every power whose base can be 0 is taken on a `where`-guarded base, so its gradient is never
// 0^(negative). docs/DESIGN.md#the-elementwise-family
import * as tf from '@tensorflow/tfjs';

import {ELEMENTWISE_LOSS_FUNCTIONS, ResolvedSigmoidElementwiseLossAttrs} from '../kernel_contract';
import {checkElementwiseValues, compositeSigmoidFocalLoss} from './composite';
import {exp, maximum, sigmoid, softplus, where} from './composite_ops';
import {reduceLossTensor} from './in_op_reduction';

/** log sigmoid(x) = -softplus(-x) (tf.logSigmoid's custom gradient loses its saved input in a tidy). */
function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.neg(softplus(tf.neg(x)));
}

/** t == 0 and t == 1 for t in [0, 1], as masks for composite_ops' `where`. */
function isZero(t: tf.Tensor): () => tf.Tensor {
  return () => tf.cast(tf.sub(1, tf.step(t)), 'bool');
}
function isOne(t: tf.Tensor): () => tf.Tensor {
  return () => isZero(tf.abs(tf.sub(t, 1)))();
}

function bce(x: tf.Tensor, q: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(x), tf.mul(x, q)), tf.log1p(exp(tf.neg(tf.abs(x)))));
}

/** exp(g * logS) = p^g for logS = log p; 1 at g == 0. */
function powFromLog(logS: tf.Tensor, g: number): tf.Tensor {
  return g === 0 ? tf.onesLike(logS) : exp(tf.mul(logS, g));
}

/** b > 0 as a mask for composite_ops' `where`. */
function isPositive(b: tf.Tensor): () => tf.Tensor {
  return () => tf.cast(tf.step(b), 'bool');
}

/** b^g for b >= 0 with a gradient that is 0 (not NaN) where b == 0. */
function guardedPow(b: tf.Tensor, g: number): tf.Tensor {
  if (g === 0) return tf.onesLike(b);
  const positive = isPositive(b);
  const safe = where(positive, b, tf.onesLike(b));
  return where(positive, tf.pow(safe, g), tf.zerosLike(b));
}

/**
 * NaN in, NaN out (as the kernels' store_element_d): a NaN logit gives a NaN loss at every target,
 * whatever a clip, a max or a `where` on p (asymmetric's p > clip, a target of 0 that drops a term)
 * would make of it on a given backend.
 */
function nanIn(loss: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.add(loss, where(() => tf.isNaN(logits), logits, tf.zerosLike(logits)));
}

function reduce(elementLoss: tf.Tensor, attrs: ResolvedSigmoidElementwiseLossAttrs, logits: tf.Tensor): tf.Tensor {
  return reduceLossTensor(nanIn(elementLoss, logits), attrs.reduction, 'tf.mean');
}

/**
 * Varifocal (mmdet): BCE(x, q) q for q > 0 (BCE(x, q) with iouWeighted false), alpha p^gamma
 * BCE(x, 0) for q == 0.
 */
export function varifocalComposite(targets: tf.Tensor, logits: tf.Tensor,
                                   attrs: ResolvedSigmoidElementwiseLossAttrs): tf.Tensor {
  return tf.tidy(() => {
    const negative = tf.mul(powFromLog(logSigmoid(logits), attrs.gamma),
                            tf.mul(softplus(logits), attrs.alpha));
    const positive = attrs.iouWeighted ? tf.mul(bce(logits, targets), targets) : bce(logits, targets);
    return reduce(where(isPositive(targets), positive, negative), attrs, logits);
  });
}

/** Quality focal (GFL): |q - p|^beta BCE(x, q); the gradient at p == q is 0. */
export function qualityFocalComposite(targets: tf.Tensor, logits: tf.Tensor,
                                      attrs: ResolvedSigmoidElementwiseLossAttrs): tf.Tensor {
  return tf.tidy(() => {
    const beta = attrs.beta;
    const p = sigmoid(logits);
    // |q - p|^beta, with the exact log forms at q == 0 (p^beta) and q == 1 ((1 - p)^beta).
    const general = guardedPow(tf.abs(tf.sub(targets, p)), beta);
    // At q == 0 and q == 1 the exact forms do not depend on q, so the slope in q is added as a
    // term that is 0 there: d|q - p|^beta/dq = -beta p^(beta-1) at q = 0, beta (1 - p)^(beta-1) at
    // q = 1. For beta < 1 that power grows without bound as p saturates: its log is clamped so it
    // stays finite in float32 (and so does its gradient, which a `where` would turn into NaN).
    const slope = (logS: tf.Tensor) => {
      const bounded = beta < 1 ? maximum(logS, -80 / (1 - beta)) : logS;
      return tf.mul(powFromLog(bounded, beta - 1), beta);
    };
    const logP = logSigmoid(logits);
    const log1mP = logSigmoid(tf.neg(logits));
    const atZero = tf.sub(powFromLog(logP, beta), tf.mul(targets, slope(logP)));
    const atOne = tf.add(powFromLog(log1mP, beta), tf.mul(tf.sub(targets, 1), slope(log1mP)));
    const mod = where(isZero(targets), atZero, where(isOne(targets), atOne, general));
    return reduce(tf.mul(mod, bce(logits, targets)), attrs, logits);
  });
}

/** Asymmetric (ASL): y (1 - p)^g+ (-log p) + (1 - y) p_m^g- (-log(1 - p_m)), p_m = max(p - clip, 0). */
export function asymmetricComposite(labels: tf.Tensor, logits: tf.Tensor,
                                    attrs: ResolvedSigmoidElementwiseLossAttrs): tf.Tensor {
  return tf.tidy(() => {
    const {clip, gammaNeg} = attrs;
    const positive = tf.mul(powFromLog(logSigmoid(tf.neg(logits)), attrs.gammaPos),
                            softplus(tf.neg(logits)));
    let negative: tf.Tensor;
    if (clip === 0) {
      negative = tf.mul(powFromLog(logSigmoid(logits), gammaNeg), softplus(logits));
    } else {
      const margin = tf.sub(sigmoid(logits), clip);
      const above = isPositive(margin);
      const safe = where(above, margin, tf.onesLike(margin));
      // -log(1 - p_m) = -log((1 - p) + clip)
      const nlog = tf.neg(tf.log(tf.add(sigmoid(tf.neg(logits)), clip)));
      negative = where(above, tf.mul(guardedPow(safe, gammaNeg), nlog), tf.zerosLike(margin));
    }
    const loss = tf.add(tf.mul(labels, positive), tf.mul(tf.sub(1, labels), negative));
    return reduce(loss, attrs, logits);
  });
}

/**
 * dL/dtargets of the elementwise loss (the kernel's 'none' output) for varifocal, quality focal and
 * asymmetric, from dBCE(x, q)/dq = -x:
 *   varifocal  BCE(x, q) - x q for q > 0 (-x with iouWeighted false), 0 at q == 0 (where the
 *              weight switches to alpha p^gamma);
 *   quality    beta |d|^(beta-1) sign(d) BCE - x |d|^beta, d = q - p (0 at d == 0 for beta > 0);
 *   asymmetric the positive term minus the negative term (the loss is linear in y).
 */
export function familyTargetsGradient(targets: tf.Tensor, logits: tf.Tensor,
                                      attrs: ResolvedSigmoidElementwiseLossAttrs): tf.Tensor {
  return tf.tidy(() => {
    switch (attrs.loss) {
      case 'varifocal':
        return where(isPositive(targets), attrs.iouWeighted ?
                         tf.sub(bce(logits, targets), tf.mul(logits, targets)) : tf.neg(logits),
                     tf.zerosLike(targets));
      case 'qualityFocal': {
        const beta = attrs.beta;
        const d = tf.sub(targets, sigmoid(logits));
        const ad = tf.abs(d);
        const nonzero = isPositive(ad);
        const safe = where(nonzero, ad, tf.onesLike(ad));
        const mod = beta === 0 ? tf.onesLike(ad) : where(nonzero, tf.pow(safe, beta), tf.zerosLike(ad));
        const slope = beta === 0 ? tf.zerosLike(ad) :
            tf.mul(tf.mul(tf.div(tf.mul(mod, beta), safe), tf.sign(d)), bce(logits, targets));
        return tf.sub(slope, tf.mul(logits, mod));
      }
      default: {
        const ones = tf.onesLike(targets);
        const zeros = tf.zerosLike(targets);
        const none = {...attrs, reduction: 'none' as const};
        return tf.sub(asymmetricComposite(ones, logits, none), asymmetricComposite(zeros, logits, none));
      }
    }
  });
}

/** The composite of the loss `attrs.loss` names (default: the sigmoid focal loss, composite.ts). */
export function elementwiseFamilyComposite(labels: tf.Tensor, logits: tf.Tensor,
                                           attrs: ResolvedSigmoidElementwiseLossAttrs): tf.Tensor {
  const kind = attrs.loss;
  if (kind === 'focal') {
    return compositeSigmoidFocalLoss(labels, logits, attrs);
  }
  checkElementwiseValues(ELEMENTWISE_LOSS_FUNCTIONS[kind], labels, logits, attrs);
  switch (kind) {
    case 'varifocal': return varifocalComposite(labels, logits, attrs);
    case 'qualityFocal': return qualityFocalComposite(labels, logits, attrs);
    case 'asymmetric': return asymmetricComposite(labels, logits, attrs);
  }
}
