// 'FocalLoss' (softmax focal loss over the last axis) and its backward 'FocalLossGrad', for the
// 'tensorflow' and 'cpu' backends. The forward kernel runs the fused native pass, as a TensorFlow
// op where the backend allows it, else on JS arrays; while a gradient is recorded the same pass
// writes dL_row/dlogits, which the backward kernel scales by dy in place.
import * as tf from '@tensorflow/tfjs';

import type {FocalLossAttrs} from '../losses/focal_loss';
import {ForwardCall, readFloat32, readFloat32Labels, readInt32, ReadableBackend, runOnArrays} from '../paths/js_arrays';
import {AttrValue, tensorflowOps} from '../paths/tensorflow_op';
import {addon} from '../native';
import {BackwardInputs, backwardKernel} from './backward';
import {gradientIsRecorded, KernelArgs, reductionFactor, refuseRecordedBackward, refuseSecondOrder, registerForBackends, registerGradientOnce} from './engine';

export const FocalLoss = 'FocalLoss';
export const FocalLossGrad = 'FocalLossGrad';
const OP = 'focalLoss';

export interface FocalLossInputs extends tf.NamedTensorInfoMap {
  /** int32 class indices of shape logits.shape[:-1], or float32 (soft) one-hot of logits.shape. */
  labels: tf.TensorInfo;
  /** float32 [..., C]: logits, or probabilities when fromLogits is false. */
  logits: tf.TensorInfo;
}

/** The inputs of the backward kernel (see BackwardInputs). */
export type FocalLossGradInputs = BackwardInputs;

/** The attributes of the TensorFlow op (native/bindings), from the kernel's attrs. */
export function focalLossOpAttrs(attrs: FocalLossAttrs, sparse: boolean):
    {[name: string]: AttrValue} {
  const ignore = sparse && attrs.ignoreIndex !== null;
  const offsets = offsetsOf(attrs);
  return {
    TLabels: {dtype: sparse ? 'int32' : 'float32'},
    gamma: {float: attrs.gamma},
    alpha: {floats: typeof attrs.alpha === 'number' ? [attrs.alpha] : attrs.alpha},
    label_smoothing: {float: attrs.labelSmoothing},
    has_ignore_index: {bool: ignore},
    ignore_index: {int: ignore ? attrs.ignoreIndex! : 0},
    from_logits: {bool: attrs.fromLogits},
    poly_epsilon: {float: attrs.polyEpsilon ?? 0},
    has_logit_adjustment: {bool: offsets !== null},
    logit_offsets: {floats: offsets ?? [0]},
  };
}

/** The logit offsets of a kernel's attrs, or null (attrs of a direct call may leave them out). */
function offsetsOf(attrs: FocalLossAttrs): number[] | null {
  return attrs.logitOffsets ?? null;
}

/** Output: the per-row loss, shape logits.shape[:-1], or its sum or mean with attrs.reduction. */
function focalLossKernel({inputs, backend, attrs}: KernelArgs): tf.TensorInfo {
  const {labels, logits} = inputs as FocalLossInputs;
  const a = attrs as unknown as FocalLossAttrs;
  const classes = logits.shape[logits.shape.length - 1];
  const lossShape = logits.shape.slice(0, -1);
  const rows = lossShape.reduce((x, y) => x * y, 1);
  const reduction = a.reduction ?? 'none';
  const sparse = labels.dtype === 'int32';
  const call: ForwardCall = {
    opName: OP, backend: backend as ReadableBackend, count: rows,
    outShape: reduction === 'none' ? lossShape : [], gradShape: logits.shape.slice(), reduction,
    factor: reductionFactor(reduction, rows), wantGrad: gradientIsRecorded(),
    shapes: {labels: labels.shape, logits: logits.shape},
  };
  const ops = rows > 0 ? tensorflowOps(backend) : null;
  if (ops !== null) {
    return ops.forward(ops.names.softmax, focalLossOpAttrs(a, sparse), [logits, labels], call);
  }
  const offsets = offsetsOf(a);
  return runOnArrays(call, rows * classes, (lossOut, gradOut) => addon().softmaxFocalLoss({
    logits: readFloat32(call.backend, logits),
    labels: sparse ? readInt32(call.backend, labels) : readFloat32Labels(call.backend, labels),
    denseLabels: !sparse,
    rows,
    classes,
    gamma: a.gamma,
    alpha: typeof a.alpha === 'number' ? a.alpha : Float32Array.from(a.alpha),
    labelSmoothing: a.labelSmoothing,
    ignoreIndex: sparse ? a.ignoreIndex : null,
    fromLogits: a.fromLogits,
    polyEpsilon: a.polyEpsilon ?? 0,
    logitOffsets: offsets === null ? null : Float32Array.from(offsets),
    lossOut,
    gradOut,
  }));
}


const KERAS_EPSILON = 1e-7;

/**
 * dL/dy_j = (1 - ls) alpha_j [-(1 - p_j)^gamma log p_j + eps (1 - p_j)^(gamma + 1)] * dy for
 * dense labels (p of the adjusted logits), composed from tfjs ops and evaluated only when a
 * gradient with respect to the labels is requested.
 */
function denseLabelsGradient(logits: tf.Tensor, dy: tf.Tensor, attrs: FocalLossAttrs): tf.Tensor {
  return tf.tidy(() => {
    let logP: tf.Tensor;
    let oneMinusP: tf.Tensor;
    if (attrs.fromLogits) {
      const offsets = offsetsOf(attrs);
      const adjusted = offsets === null ? logits : tf.add(logits, tf.tensor1d(offsets, 'float32'));
      logP = tf.logSoftmax(adjusted);
      // 1 - p = -expm1(log p): no cancellation as p -> 1.
      oneMinusP = tf.neg(tf.expm1(logP));
    } else {
      const p = tf.clipByValue(tf.div(logits, tf.sum(logits, -1, true)), KERAS_EPSILON,
                               1 - KERAS_EPSILON);
      logP = tf.log(p);
      oneMinusP = tf.sub(1, p);
    }
    const alpha = typeof attrs.alpha === 'number' ? tf.scalar(attrs.alpha) :
                                                    tf.tensor1d(attrs.alpha, 'float32');
    const modulation = attrs.gamma === 0 ? tf.onesLike(oneMinusP) : tf.pow(oneMinusP, attrs.gamma);
    let term = tf.neg(logP);
    if ((attrs.polyEpsilon ?? 0) !== 0) {
      term = tf.add(term, tf.mul(attrs.polyEpsilon, oneMinusP));
    }
    const perClass = tf.mul(tf.mul(alpha, modulation), term);
    // dy is per row, or the scalar upstream gradient of an in-op sum or mean.
    const factor = reductionFactor(attrs.reduction ?? 'none', logits.size / logits.shape[logits.rank - 1]);
    const rowDy = factor === undefined ? tf.expandDims(dy, -1) : tf.mul(dy, factor);
    return tf.mul(tf.mul(perClass, rowDy), 1 - attrs.labelSmoothing);
  });
}

/** Logits get the saved fused gradient; dense labels their analytic derivative; sparse labels 0. */
export const focalLossGradConfig: tf.GradConfig = {
  kernelName: FocalLoss,
  inputsToSave: ['labels', 'logits'],
  outputsToSave: [true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const dy = Array.isArray(dys) ? dys[0] : dys;
    const [labels, logits, loss] = saved;
    refuseRecordedBackward(OP);
    return {
      logits: () => tf.engine().runKernel(FocalLossGrad, {dy, loss}) as tf.Tensor,
      labels: () => labels.dtype === 'int32' ?
          tf.zeros(labels.shape, 'float32') :
          denseLabelsGradient(logits, dy, attrs as unknown as FocalLossAttrs),
    };
  },
};

registerForBackends(FocalLoss, focalLossKernel);
registerForBackends(FocalLossGrad, backwardKernel(OP, true));
registerGradientOnce(focalLossGradConfig);
refuseSecondOrder(FocalLossGrad, OP);
