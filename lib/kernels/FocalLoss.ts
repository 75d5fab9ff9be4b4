// 'FocalLoss' (softmax focal loss over the last axis) and its backward 'FocalLossGrad', for the
// 'tensorflow' and 'cpu' backends. The forward kernel runs the fused native pass, as a TensorFlow
// op where the backend allows it, else on JS arrays; while a gradient is recorded the same pass
// writes dL_row/dlogits, which the backward kernel scales by dy in place.
import * as tf from '@tensorflow/tfjs';

import type {FocalLossAttrs} from '../losses/focal_loss';
import {softmaxProbabilities} from '../paths/composite';
import {ForwardCall, readFloat32, readFloat32Labels, readInt32, ReadableBackend, runOnArrays} from '../paths/js_arrays';
import {AttrValue, tensorflowOps} from '../paths/tensorflow_op';
import {addon} from '../native';
import {BackwardInputs, backwardKernel, fusedGradient} from './backward';
import {gradientIsRecorded, KernelArgs, reductionFactor, refuseSecondOrder, registerForBackends, registerGradientOnce} from './engine';
import {describeValue} from '../validation/describe';
import {checkKernelAttrs, kernelOptionAttrs, kernelOptionValues, withKernelDefaults} from './options';

export const FocalLoss = 'FocalLoss';
export const FocalLossGrad = 'FocalLossGrad';
const OP = 'focalLoss';
/** The addon's entry point, whose options table the kernel attrs follow. */
const ENTRY = 'softmaxFocalLoss';

export interface FocalLossInputs extends tf.NamedTensorInfoMap {
  /** int32 class indices of shape logits.shape[:-1], or float32 (soft) one-hot of logits.shape. */
  labels: tf.TensorInfo;
  /** float32 [..., C]: logits, or probabilities when fromLogits is false. */
  logits: tf.TensorInfo;
}

/** The inputs of the backward kernel (see BackwardInputs). */
export type FocalLossGradInputs = BackwardInputs;

/**
 * The attributes of the TensorFlow op (native/bindings), from the kernel's attrs: the labels'
 * dtype, the options table's, then alpha (one value or one per class), ignoreIndex and the logit
 * offsets.
 */
export function focalLossOpAttrs(attrs: FocalLossAttrs, sparse: boolean):
    {[name: string]: AttrValue} {
  const ignore = sparse && attrs.ignoreIndex !== null;
  const offsets = offsetsOf(attrs);
  return {
    TLabels: {dtype: sparse ? 'int32' : 'float32'},
    ...kernelOptionAttrs(ENTRY, attrs),
    alpha: {floats: typeof attrs.alpha === 'number' ? [attrs.alpha] : attrs.alpha},
    has_ignore_index: {bool: ignore},
    ignore_index: {int: ignore ? attrs.ignoreIndex! : 0},
    has_logit_adjustment: {bool: offsets !== null},
    logit_offsets: {floats: offsets ?? [0]},
  };
}

/** The logit offsets of a kernel's attrs, or null (attrs of a direct call may leave them out). */
function offsetsOf(attrs: FocalLossAttrs): number[] | null {
  return attrs.logitOffsets ?? null;
}

/** A direct runKernel call's attrs: the table's options, and alpha (a number or one per class). */
function checkAttrs(attrs: FocalLossAttrs): void {
  checkKernelAttrs(ENTRY, attrs);
  const alpha: unknown = attrs.alpha;
  const perClass = (Array.isArray(alpha) || alpha instanceof Float32Array) &&
      Array.from(alpha as ArrayLike<unknown>).every((v) => typeof v === 'number');
  if (typeof alpha !== 'number' && !perClass) {
    throw new TypeError(`${FocalLoss}: attrs.alpha must be a number or an array of numbers (one per class); ` +
        `received ${describeValue(alpha)}`);
  }
}

/** Output: the per-row loss, shape logits.shape[:-1], or its sum or mean with attrs.reduction. */
function focalLossKernel({inputs, backend, attrs}: KernelArgs): tf.TensorInfo {
  const {labels, logits} = inputs as FocalLossInputs;
  const a = attrs as unknown as FocalLossAttrs;
  checkAttrs(a);
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
    ...kernelOptionValues(ENTRY, a),
    alpha: typeof a.alpha === 'number' ? a.alpha : Float32Array.from(a.alpha),
    ignoreIndex: sparse ? a.ignoreIndex : null,
    logitOffsets: offsets === null ? null : Float32Array.from(offsets),
    lossOut,
    gradOut,
  }));
}


/**
 * dL/dy_j = (1 - ls) alpha_j [-(1 - p_j)^gamma log p_j + eps (1 - p_j)^(gamma + 1)] * dy for
 * dense labels (p of the adjusted logits), composed from tfjs ops and evaluated only when a
 * gradient with respect to the labels is requested.
 */
function denseLabelsGradient(logits: tf.Tensor, dy: tf.Tensor, attrs: FocalLossAttrs): tf.Tensor {
  return tf.tidy(() => {
    const {logP, oneMinusP} = softmaxProbabilities(logits, attrs);
    const alpha = typeof attrs.alpha === 'number' ? tf.scalar(attrs.alpha) :
                                                    tf.tensor1d(attrs.alpha, 'float32');
    const modulation = attrs.gamma === 0 ? tf.onesLike(oneMinusP) : tf.pow(oneMinusP, attrs.gamma);
    let term = tf.neg(logP);
    if (attrs.polyEpsilon !== 0) {  // given: withKernelDefaults
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
export const focalLossGradConfig = fusedGradient<FocalLossAttrs>(
    FocalLoss, FocalLossGrad, () => OP, (labels, logits, dy, attrs) => labels.dtype === 'int32' ?
        tf.zeros(labels.shape, 'float32') :
        denseLabelsGradient(logits, dy, withKernelDefaults(ENTRY, attrs)));

registerForBackends(FocalLoss, focalLossKernel);
registerForBackends(FocalLossGrad, backwardKernel(OP, true));
registerGradientOnce(focalLossGradConfig);
refuseSecondOrder(FocalLossGrad, OP);
