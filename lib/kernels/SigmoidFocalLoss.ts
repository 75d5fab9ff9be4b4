// 'SigmoidFocalLoss' kernel: elementwise sigmoid (binary / multi-label) focal loss, RetinaNet and
// Keras BinaryFocalCrossentropy form, with dL/dlogits written in the same native pass when the
// engine records a gradient. Registered for 'tensorflow' and 'cpu'.
import * as tf from '@tensorflow/tfjs';

import {addon} from '../native';
import {BACKENDS, gradientIsRecorded, makeFloat32Output, readFloat32, readFloat32Labels, ReadableBackend, refuseRecordedBackward, registerGradientOnce, registerKernelOnce, KernelReduction, reduceLosses, REDUCTION_CODES, reductionFactor, rethrowNative, runForwardOp, saveGradient} from './kernel_utils';
import {tensorflowOps} from './tensorflow_ops';
import {SigmoidFocalLossGrad} from './SigmoidFocalLossGrad';

export const SigmoidFocalLoss = 'SigmoidFocalLoss';

export interface SigmoidFocalLossInputs extends tf.NamedTensorInfoMap {
  /** float32 targets in [0, 1], same shape as logits. */
  labels: tf.TensorInfo;
  /** float32 logits, or probabilities when fromLogits is false. */
  logits: tf.TensorInfo;
}

export interface SigmoidFocalLossAttrs {
  gamma: number;
  /** alpha_t = alpha y + (1 - alpha)(1 - y); a negative value turns class balancing off. */
  alpha: number;
  labelSmoothing: number;
  fromLogits: boolean;
  /** 'none' (default): elementwise losses; 'sum' / 'mean': reduced inside the op to a scalar. */
  reduction?: KernelReduction;
}

/**
 * Output: the elementwise loss (logits.shape), or its sum or mean (a scalar) with
 * attrs.reduction; dL/dlogits is kept beside it while a gradient is recorded.
 */
export function sigmoidFocalLossKernel(
    args: {inputs: tf.NamedTensorInfoMap, backend: {}, attrs?: tf.NamedAttrMap}): tf.TensorInfo {
  const {labels, logits} = args.inputs as SigmoidFocalLossInputs;
  const attrs = args.attrs as unknown as SigmoidFocalLossAttrs;
  const backend = args.backend as ReadableBackend;

  const shape = logits.shape.slice();
  const count = shape.reduce((a, b) => a * b, 1);
  const wantGrad = gradientIsRecorded();
  const reduction = attrs.reduction ?? 'none';
  const factor = reductionFactor(reduction, count);
  const outShape = reduction === 'none' ? shape : [];
  if (count === 0) {
    const empty = makeFloat32Output(backend, outShape, reduceLosses(new Float32Array(0), reduction));
    if (wantGrad) saveGradient(empty.dataId, new Float32Array(0), logits.shape.slice(), factor);
    return empty;
  }
  const shapes = {labels: labels.shape, logits: logits.shape};
  const ops = tensorflowOps(backend);
  if (ops !== null) {
    return runForwardOp(ops, ops.sigmoid, 'sigmoidFocalLoss', {
      gamma: attrs.gamma,
      alpha: attrs.alpha < 0 ? 0 : attrs.alpha,
      class_balancing: attrs.alpha >= 0,
      label_smoothing: attrs.labelSmoothing,
      from_logits: attrs.fromLogits,
      compute_gradient: wantGrad,
      reduction: REDUCTION_CODES[reduction],
    }, [logits, labels], wantGrad, shapes, factor);
  }
  const lossOut = new Float32Array(count);
  const gradOut = wantGrad ? new Float32Array(count) : null;
  try {
    // The addon rejects labels outside [0, 1], NaN included, with their index.
    addon().sigmoidFocalLoss({
      logits: readFloat32(backend, logits),
      labels: readFloat32Labels(backend, labels),
      gamma: attrs.gamma,
      alpha: attrs.alpha < 0 ? null : attrs.alpha,
      labelSmoothing: attrs.labelSmoothing,
      fromLogits: attrs.fromLogits,
      lossOut,
      gradOut,
    });
  } catch (e) {
    rethrowNative('sigmoidFocalLoss', e, shapes);
  }
  const loss = makeFloat32Output(backend, outShape, reduceLosses(lossOut, reduction));
  if (gradOut !== null) saveGradient(loss.dataId, gradOut, logits.shape.slice(), factor);
  return loss;
}

/**
 * Gradient: logits get dy * saved grad through the native 'SigmoidFocalLossGrad' kernel; labels
 * (soft targets) get the analytic derivative, composed from tfjs ops and evaluated only when asked.
 */
export const sigmoidFocalLossGradConfig: tf.GradConfig = {
  kernelName: SigmoidFocalLoss,
  inputsToSave: ['labels', 'logits'],
  outputsToSave: [true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const dy = Array.isArray(dys) ? dys[0] : dys;
    const [labels, logits, loss] = saved;
    refuseRecordedBackward('sigmoidFocalLoss');
    return {
      logits: () => tf.engine().runKernel(SigmoidFocalLossGrad, {dy, loss}) as tf.Tensor,
      labels: () => labelsGradient(labels, logits, dy, attrs as unknown as SigmoidFocalLossAttrs),
    };
  },
};

const KERAS_EPSILON = 1e-7;

/**
 * With y' = y (1 - ls) + ls / 2, q = 1 - p_t = y' (1 - p) + (1 - y') p and
 * L = alpha_t ce q^gamma:
 *   dL/dy = (1 - ls) dy [alpha_t' ce q^g + alpha_t ce' q^g + alpha_t g ce q^(g-1) q'],
 * alpha_t' = 2 alpha - 1 (0 without balancing), q' = 1 - 2p, ce' = -x on the logits path and
 * log((1 - p) / p) on the probability path.
 */
function labelsGradient(labels: tf.Tensor, logits: tf.Tensor, dy: tf.Tensor,
                        attrs: SigmoidFocalLossAttrs): tf.Tensor {
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
    // dy is elementwise, or the scalar upstream gradient of an in-op sum or mean.
    const factor = reductionFactor(attrs.reduction ?? 'none', logits.size);
    return tf.mul(tf.mul(slope, factor === undefined ? dy : tf.mul(dy, factor)), 1 - ls);
  });
}

export const sigmoidFocalLossConfigs: tf.KernelConfig[] = BACKENDS.map(
    (backendName) =>
        ({kernelName: SigmoidFocalLoss, backendName, kernelFunc: sigmoidFocalLossKernel}));

sigmoidFocalLossConfigs.forEach(registerKernelOnce);
registerGradientOnce(sigmoidFocalLossGradConfig);
