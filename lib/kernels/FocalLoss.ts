// 'FocalLoss' kernel: softmax focal loss over the last axis, one native pass per row that also
// writes dL_row/dlogits when the engine records a gradient. Registered for 'tensorflow' and 'cpu'.
import * as tf from '@tensorflow/tfjs';

import {addon} from '../native';
import {FocalLossGrad} from './FocalLossGrad';
import {BACKENDS, gradientIsRecorded, makeFloat32Output, readFloat32, readFloat32Labels, readInt32, ReadableBackend, refuseRecordedBackward, registerGradientOnce, registerKernelOnce, KernelReduction, reduceLosses, REDUCTION_CODES, reductionFactor, rethrowNative, runForwardOp, saveGradient} from './kernel_utils';
import {tensorflowOps} from './tensorflow_ops';

export const FocalLoss = 'FocalLoss';

export interface FocalLossInputs extends tf.NamedTensorInfoMap {
  /** int32 class indices of shape logits.shape[:-1], or float32 (soft) one-hot of logits.shape. */
  labels: tf.TensorInfo;
  /** float32 [..., C]: logits, or probabilities when fromLogits is false. */
  logits: tf.TensorInfo;
}

export interface FocalLossAttrs {
  gamma: number;
  /** Scalar alpha, or one alpha per class (length C). */
  alpha: number | number[];
  labelSmoothing: number;
  /** Sparse labels equal to this get loss 0 and gradient 0; null: none. */
  ignoreIndex: number | null;
  fromLogits: boolean;
  /** 'none' (default): per-row losses; 'sum' / 'mean': reduced inside the op to a scalar. */
  reduction?: KernelReduction;
}

/**
 * Output: the per-row loss, shape logits.shape[:-1] (or its sum or mean, a scalar, with
 * attrs.reduction). While a gradient is being recorded the same
 * pass writes dL_row/dlogits, kept beside the loss (saveGradient) for the backward kernel. On
 * tfjs-node the pass runs as a TensorFlow op where it can (tensorflow_ops.ts), else on JS arrays.
 */
export function focalLossKernel(
    args: {inputs: tf.NamedTensorInfoMap, backend: {}, attrs?: tf.NamedAttrMap}): tf.TensorInfo {
  const {labels, logits} = args.inputs as FocalLossInputs;
  const attrs = args.attrs as unknown as FocalLossAttrs;
  const backend = args.backend as ReadableBackend;

  const classes = logits.shape[logits.shape.length - 1];
  const lossShape = logits.shape.slice(0, -1);
  const rows = lossShape.reduce((a, b) => a * b, 1);
  const wantGrad = gradientIsRecorded();
  const reduction = attrs.reduction ?? 'none';
  const factor = reductionFactor(reduction, rows);
  const outShape = reduction === 'none' ? lossShape : [];
  if (rows === 0) {
    const empty = makeFloat32Output(backend, outShape, reduceLosses(new Float32Array(0), reduction));
    if (wantGrad) saveGradient(empty.dataId, new Float32Array(0), logits.shape.slice(), factor);
    return empty;
  }

  const sparse = labels.dtype === 'int32';
  const shapes = {labels: labels.shape, logits: logits.shape};
  const ops = tensorflowOps(backend);
  if (ops !== null) {
    return runForwardOp(ops, ops.softmax, 'focalLoss', {
      TLabels: {dtype: sparse ? 'int32' : 'float32'},
      gamma: attrs.gamma,
      alpha: typeof attrs.alpha === 'number' ? [attrs.alpha] : attrs.alpha,
      label_smoothing: attrs.labelSmoothing,
      has_ignore_index: sparse && attrs.ignoreIndex !== null,
      ignore_index: sparse && attrs.ignoreIndex !== null ? attrs.ignoreIndex : 0,
      from_logits: attrs.fromLogits,
      compute_gradient: wantGrad,
      reduction: REDUCTION_CODES[reduction],
    }, [logits, labels], wantGrad, shapes, factor);
  }

  const lossOut = new Float32Array(rows);
  const gradOut = wantGrad ? new Float32Array(rows * classes) : null;
  try {
    addon().softmaxFocalLoss({
      logits: readFloat32(backend, logits),
      labels: sparse ? readInt32(backend, labels) : readFloat32Labels(backend, labels),
      denseLabels: !sparse,
      rows,
      classes,
      gamma: attrs.gamma,
      alpha: typeof attrs.alpha === 'number' ? attrs.alpha : Float32Array.from(attrs.alpha),
      labelSmoothing: attrs.labelSmoothing,
      ignoreIndex: sparse ? attrs.ignoreIndex : null,
      fromLogits: attrs.fromLogits,
      lossOut,
      gradOut,
    });
  } catch (e) {
    rethrowNative('focalLoss', e, shapes);
  }
  const loss = makeFloat32Output(backend, outShape, reduceLosses(lossOut, reduction));
  if (gradOut !== null) saveGradient(loss.dataId, gradOut, logits.shape.slice(), factor);
  return loss;
}

/**
 * Gradient: logits get dy[..., None] * saved grad through the native 'FocalLossGrad' kernel (no
 * second pass over the logits). Dense labels get the analytic derivative
 * dL/dy_j = -(1 - ls) alpha_j (1 - p_j)^gamma log p_j * dy, composed from tfjs ops and only
 * evaluated when a gradient with respect to the labels is requested; sparse labels are indices and
 * get zeros.
 */
export const focalLossGradConfig: tf.GradConfig = {
  kernelName: FocalLoss,
  inputsToSave: ['labels', 'logits'],
  outputsToSave: [true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys);
    const [labels, logits, loss] = saved;
    refuseRecordedBackward('focalLoss');
    const focalAttrs = attrs as unknown as FocalLossAttrs;
    return {
      logits: () => tf.engine().runKernel(FocalLossGrad, {dy, loss}) as tf.Tensor,
      labels: () => labels.dtype === 'int32' ?
          tf.zeros(labels.shape, 'float32') :
          denseLabelsGradient(logits, dy, focalAttrs),
    };
  },
};

const KERAS_EPSILON = 1e-7;

function denseLabelsGradient(logits: tf.Tensor, dy: tf.Tensor, attrs: FocalLossAttrs): tf.Tensor {
  return tf.tidy(() => {
    let logP: tf.Tensor;
    let oneMinusP: tf.Tensor;
    if (attrs.fromLogits) {
      logP = tf.logSoftmax(logits);
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
    const perClass = tf.neg(tf.mul(tf.mul(alpha, modulation), logP));
    // dy is per row, or the scalar upstream gradient of an in-op sum or mean.
    const factor = reductionFactor(attrs.reduction ?? 'none', logits.size / logits.shape[logits.rank - 1]);
    const rowDy = factor === undefined ? tf.expandDims(dy, -1) : tf.mul(dy, factor);
    return tf.mul(tf.mul(perClass, rowDy), 1 - attrs.labelSmoothing);
  });
}

export const focalLossConfigs: tf.KernelConfig[] = BACKENDS.map(
    (backendName) => ({kernelName: FocalLoss, backendName, kernelFunc: focalLossKernel}));

focalLossConfigs.forEach(registerKernelOnce);
registerGradientOnce(focalLossGradConfig);
