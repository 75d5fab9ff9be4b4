// 'SigmoidFocalLoss' (elementwise sigmoid focal loss: binary / multi-label, RetinaNet and Keras
// BinaryFocalCrossentropy form) and its backward 'SigmoidFocalLossGrad', for the 'tensorflow' and
// 'cpu' backends. Same structure as FocalLoss.ts: one fused native pass forward (loss, and
// dL/dlogits while a gradient is recorded), an in-place scale by dy backward.
import * as tf from '@tensorflow/tfjs';

import {ELEMENTWISE_LOSS_CODES, ELEMENTWISE_LOSS_FUNCTIONS, ResolvedSigmoidFocalLossAttrs, SigmoidFocalLoss, SigmoidFocalLossAttrs, SigmoidFocalLossGrad, SigmoidFocalLossInputs} from '../kernel_contract';
import {familyTargetsGradient} from '../paths/composite_family';
import {ForwardCall, readFloat32, readFloat32Labels, ReadableBackend, runOnArrays} from '../paths/js_arrays';
import {AttrValue, tensorflowOps} from '../paths/tensorflow_op';
import {addon} from '../native';
import {backwardKernel, fusedGradient} from './backward';
import {gradientIsRecorded, KernelArgs, reductionFactor, refuseSecondOrder, registerForBackends, registerGradientOnce} from './engine';
import {describeValue} from '../validation/describe';
import {checkKernelAttrs, kernelOptionAttrs, kernelOptionValues} from './options';

export {SigmoidFocalLoss, SigmoidFocalLossGrad};
export type {SigmoidFocalLossGradInputs, SigmoidFocalLossInputs} from '../kernel_contract';
const OP = 'sigmoidFocalLoss';
/** The addon's entry point, whose options table the kernel attrs follow. */
const ENTRY = 'sigmoidFocalLoss';

/**
 * The attrs with every field given: the losses pass them so; a direct runKernel call may leave the
 * optional ones out, and gets their defaults here, once.
 */
export function resolveSigmoidFocalLossAttrs(attrs: SigmoidFocalLossAttrs): ResolvedSigmoidFocalLossAttrs {
  return {...attrs, ...kernelOptionValues(ENTRY, attrs), loss: attrs.loss ?? 'focal',
          reduction: attrs.reduction ?? 'none'} as ResolvedSigmoidFocalLossAttrs;
}

/** Class balancing of the focal loss: alpha >= 0; negative (torchvision's -1) or null: none. */
function classBalancing(attrs: ResolvedSigmoidFocalLossAttrs): boolean {
  return typeof attrs.alpha === 'number' && attrs.alpha >= 0;
}

/**
 * The attributes of the TensorFlow op (native/bindings), from the kernel's attrs: the options
 * table's, then class balancing and the loss's code.
 */
export function sigmoidFocalLossOpAttrs(attrs: ResolvedSigmoidFocalLossAttrs):
    {[name: string]: AttrValue} {
  const balancing = classBalancing(attrs);
  return {
    ...kernelOptionAttrs(ENTRY, attrs),
    alpha: {float: balancing ? attrs.alpha : 0},
    class_balancing: {bool: balancing},
    loss_kind: {int: ELEMENTWISE_LOSS_CODES[attrs.loss]},
  };
}

/** A direct runKernel call's attrs (resolved): the table's options, alpha, and the loss name. */
function checkAttrs(attrs: ResolvedSigmoidFocalLossAttrs): void {
  checkKernelAttrs(ENTRY, attrs);
  const alpha: unknown = attrs.alpha;
  const loss: unknown = attrs.loss;
  if (typeof loss !== 'string' || !Object.prototype.hasOwnProperty.call(ELEMENTWISE_LOSS_CODES, loss)) {
    throw new TypeError(`${SigmoidFocalLoss}: attrs.loss must be one of ${Object.keys(ELEMENTWISE_LOSS_CODES).map((k) => `'${k}'`).join(', ')}` +
        ` (or left out: 'focal'); received ${describeValue(loss)}`);
  }
  if (loss === 'varifocal' ? !(typeof alpha === 'number' && alpha >= 0) : !(alpha === null || typeof alpha === 'number')) {
    throw new TypeError(`${SigmoidFocalLoss}: attrs.alpha must be ${loss === 'varifocal' ?
        'a number >= 0 (the weight of the negatives) for loss \'varifocal\'' :
        'a number (negative: no class balancing) or null'}; received ${describeValue(alpha)}`);
  }
}

/** Output: the elementwise loss (logits.shape), or its sum or mean with attrs.reduction. */
function sigmoidFocalLossKernel({inputs, backend, attrs}: KernelArgs): tf.TensorInfo {
  const {labels, logits} = inputs as SigmoidFocalLossInputs;
  const a = resolveSigmoidFocalLossAttrs(attrs as unknown as SigmoidFocalLossAttrs);
  checkAttrs(a);
  const shape = logits.shape.slice();
  const count = shape.reduce((x, y) => x * y, 1);
  const reduction = a.reduction;
  const call: ForwardCall = {
    opName: ELEMENTWISE_LOSS_FUNCTIONS[a.loss], backend: backend as ReadableBackend, count,
    outShape: reduction === 'none' ? shape : [], gradShape: shape, reduction,
    factor: reductionFactor(reduction, count), wantGrad: gradientIsRecorded(),
    shapes: {labels: labels.shape, logits: logits.shape},
  };
  const ops = count > 0 ? tensorflowOps(backend) : null;
  if (ops !== null) {
    return ops.forward(ops.names.sigmoid, sigmoidFocalLossOpAttrs(a), [logits, labels], call);
  }
  return runOnArrays(call, count, (lossOut, gradOut) => addon().sigmoidFocalLoss({
    logits: readFloat32(call.backend, logits),
    labels: readFloat32Labels(call.backend, labels),
    ...kernelOptionValues(ENTRY, a),
    alpha: classBalancing(a) ? a.alpha : null,
    loss: ELEMENTWISE_LOSS_CODES[a.loss],
    lossOut,
    gradOut,
  }));
}


const KERAS_EPSILON = 1e-7;

/**
 * With y' = y (1 - ls) + ls / 2, q = 1 - p_t = y' (1 - p) + (1 - y') p and
 * L = alpha_t ce q^gamma:
 *   dL/dy = (1 - ls) dy [alpha_t' ce q^g + alpha_t ce' q^g + alpha_t g ce q^(g-1) q'],
 * alpha_t' = 2 alpha - 1 (0 without balancing), q' = 1 - 2p, ce' = -x on the logits path and
 * log((1 - p) / p) on the probability path.
 */
function labelsGradient(labels: tf.Tensor, logits: tf.Tensor, dy: tf.Tensor,
                        attrs: ResolvedSigmoidFocalLossAttrs): tf.Tensor {
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

/** Logits get the saved fused gradient; labels (soft targets) their analytic derivative. */
export const sigmoidFocalLossGradConfig = fusedGradient(
    SigmoidFocalLoss, SigmoidFocalLossGrad, resolveSigmoidFocalLossAttrs, (a) => ELEMENTWISE_LOSS_FUNCTIONS[a.loss],
    (labels, logits, dy, a) => {
      if (a.loss === 'focal') return labelsGradient(labels, logits, dy, a);
      // The rest of the family: the analytic derivative in tfjs ops (targets are rarely trained).
      return tf.tidy(() => {
        const factor = reductionFactor(a.reduction, logits.size);
        const slope = familyTargetsGradient(labels, logits, a);
        return tf.mul(slope, factor === undefined ? dy : tf.mul(dy, factor));
      });
    });

registerForBackends(SigmoidFocalLoss, sigmoidFocalLossKernel);
registerForBackends(SigmoidFocalLossGrad, backwardKernel(OP, false));
registerGradientOnce(sigmoidFocalLossGradConfig);
refuseSecondOrder(SigmoidFocalLossGrad, OP);
