// 'SoftmaxFocalLoss' (softmax focal loss over the last axis) and its backward
// 'SoftmaxFocalLossGrad', for the 'tensorflow' and 'cpu' backends, also registered under their
// earlier names 'FocalLoss' and 'FocalLossGrad' for direct runKernel callers. The forward kernel runs the fused native pass, as a TensorFlow
// op where the backend allows it, else on JS arrays; while a gradient is recorded the same pass
// writes dL_row/dlogits, which the backward kernel scales by dy in place.
import * as tf from '@tensorflow/tfjs';

import {FocalLoss, FocalLossGrad, ResolvedSoftmaxFocalLossAttrs, SoftmaxFocalLoss, SoftmaxFocalLossAttrs, SoftmaxFocalLossGrad, SoftmaxFocalLossInputs} from '../kernel_contract';
import {softmaxDenseLabelsGradient} from '../paths/labels_gradients';
import {runNativeForward} from '../paths/native_forward';
import type {AttrValue} from '../paths/tensorflow_op';
import {addon} from '../native';
import {fusedGradient, registerFusedKernel} from './backward';
import {gradientIsRecorded, KernelArgs} from './engine';
import {describeValue} from '../validation/describe';
import {checkKernelAttrs, kernelOptionAttrs, kernelOptionValues} from './options';

export {FocalLoss, FocalLossGrad, SoftmaxFocalLoss, SoftmaxFocalLossGrad};
export type {FocalLossGradInputs, FocalLossInputs, SoftmaxFocalLossGradInputs, SoftmaxFocalLossInputs} from '../kernel_contract';
const OP = 'focalLoss';
/** The addon's entry point, whose options table the kernel attrs follow. */
const ENTRY = 'softmaxFocalLoss';

/**
 * The attributes of the TensorFlow op (native/bindings), from the kernel's attrs: the options
 * table's, then the labels' dtype, alpha (one value or one per class), ignoreIndex and the logit
 * offsets.
 */
export function softmaxFocalLossOpAttrs(attrs: ResolvedSoftmaxFocalLossAttrs, sparse: boolean):
    {[name: string]: AttrValue} {
  const ignore = sparse && attrs.ignoreIndex !== null;
  const offsets = attrs.logitOffsets;
  return kernelOptionAttrs(ENTRY, attrs, {
    TLabels: {dtype: sparse ? 'int32' : 'float32'},
    alpha: {floats: typeof attrs.alpha === 'number' ? [attrs.alpha] : attrs.alpha},
    has_ignore_index: {bool: ignore},
    ignore_index: {int: ignore ? attrs.ignoreIndex! : 0},
    has_logit_adjustment: {bool: offsets !== null},
    logit_offsets: {floats: offsets ?? [0]},
  });
}

/**
 * The attrs with every field given: the losses pass them so; a direct runKernel call may leave the
 * optional ones out, and gets their defaults here, once.
 */
export function resolveSoftmaxFocalLossAttrs(attrs: SoftmaxFocalLossAttrs): ResolvedSoftmaxFocalLossAttrs {
  // One spread, then the table's values in place (V8 builds a literal with two spreads slowly).
  return Object.assign({...attrs, logitOffsets: attrs.logitOffsets ?? null, reduction: attrs.reduction ?? 'none'},
                       kernelOptionValues(ENTRY, attrs)) as ResolvedSoftmaxFocalLossAttrs;
}

/**
 * A direct runKernel call's attrs: the table's options, and alpha (a number or one per class);
 * errors name `kernelName`, the name the caller ran.
 */
function checkAttrs(kernelName: string, attrs: SoftmaxFocalLossAttrs): void {
  checkKernelAttrs(kernelName, ENTRY, attrs);
  const alpha: unknown = attrs.alpha;
  const perClass = (Array.isArray(alpha) || alpha instanceof Float32Array) &&
      Array.from(alpha as ArrayLike<unknown>).every((v) => typeof v === 'number');
  if (typeof alpha !== 'number' && !perClass) {
    throw new TypeError(`${kernelName}: attrs.alpha must be a number or an array of numbers (one per class); ` +
        `received ${describeValue(alpha)}`);
  }
}

/**
 * The kernel registered as `kernelName`. Output: the per-row loss, shape logits.shape[:-1], or its
 * sum or mean with attrs.reduction.
 */
const softmaxFocalLossKernel = (kernelName: string) => ({inputs, backend, attrs}: KernelArgs): tf.TensorInfo => {
  const {labels, logits} = inputs as SoftmaxFocalLossInputs;
  checkAttrs(kernelName, attrs as unknown as SoftmaxFocalLossAttrs);
  const a = resolveSoftmaxFocalLossAttrs(attrs as unknown as SoftmaxFocalLossAttrs);
  const classes = logits.shape[logits.shape.length - 1];
  const lossShape = logits.shape.slice(0, -1);
  const rows = lossShape.reduce((x, y) => x * y, 1);
  const sparse = labels.dtype === 'int32';
  const options = kernelOptionValues(ENTRY, a);  // the addon's keys of the table, read here once
  return runNativeForward({
    functionName: OP, backend, labels, logits, count: rows, lossShape, reduction: a.reduction,
    wantGrad: gradientIsRecorded(), op: 'softmax', opAttrs: () => softmaxFocalLossOpAttrs(a, sparse),
    onArrays: (arrays, lossOut, gradOut) => addon().softmaxFocalLoss({
      logits: arrays.float32(logits),
      labels: sparse ? arrays.int32(labels) : arrays.denseLabels(labels),
      denseLabels: !sparse,
      rows,
      classes,
      ...options,
      alpha: typeof a.alpha === 'number' ? a.alpha : Float32Array.from(a.alpha),
      ignoreIndex: sparse ? a.ignoreIndex : null,
      logitOffsets: a.logitOffsets === null ? null : Float32Array.from(a.logitOffsets),
      lossOut,
      gradOut,
    }),
  });
};

/**
 * The gradient of `kernelName`: logits get the saved fused gradient; dense labels their analytic
 * derivative; sparse labels 0.
 */
function softmaxFocalLossGradConfig(kernelName: string): tf.GradConfig {
  return fusedGradient(kernelName, SoftmaxFocalLossGrad, resolveSoftmaxFocalLossAttrs, () => OP,
      (labels, logits, dy, a) => labels.dtype === 'int32' ?
          tf.zeros(labels.shape, 'float32') : softmaxDenseLabelsGradient(logits, dy, a));
}

registerFusedKernel([[SoftmaxFocalLoss, SoftmaxFocalLossGrad], [FocalLoss, FocalLossGrad]],
                    softmaxFocalLossKernel, softmaxFocalLossGradConfig, OP, true);
