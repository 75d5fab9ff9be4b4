// 'FocalLoss' (softmax focal loss over the last axis) and its backward 'FocalLossGrad', for the
// 'tensorflow' and 'cpu' backends. The forward kernel runs the fused native pass, as a TensorFlow
// op where the backend allows it, else on JS arrays; while a gradient is recorded the same pass
// writes dL_row/dlogits, which the backward kernel scales by dy in place.
import * as tf from '@tensorflow/tfjs';

import {FocalLoss, FocalLossAttrs, FocalLossGrad, FocalLossInputs, ResolvedFocalLossAttrs} from '../kernel_contract';
import {softmaxDenseLabelsGradient} from '../paths/labels_gradients';
import {runNativeForward} from '../paths/native_forward';
import type {AttrValue} from '../paths/tensorflow_op';
import {addon} from '../native';
import {backwardKernel, fusedGradient} from './backward';
import {gradientIsRecorded, KernelArgs, refuseSecondOrder, registerForBackends, registerGradientOnce} from './engine';
import {describeValue} from '../validation/describe';
import {checkKernelAttrs, kernelOptionAttrs, kernelOptionValues} from './options';

export {FocalLoss, FocalLossGrad};
export type {FocalLossGradInputs, FocalLossInputs} from '../kernel_contract';
const OP = 'focalLoss';
/** The addon's entry point, whose options table the kernel attrs follow. */
const ENTRY = 'softmaxFocalLoss';

/**
 * The attributes of the TensorFlow op (native/bindings), from the kernel's attrs: the options
 * table's, then the labels' dtype, alpha (one value or one per class), ignoreIndex and the logit
 * offsets.
 */
export function focalLossOpAttrs(attrs: ResolvedFocalLossAttrs, sparse: boolean):
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
export function resolveFocalLossAttrs(attrs: FocalLossAttrs): ResolvedFocalLossAttrs {
  // One spread, then the table's values in place (V8 builds a literal with two spreads slowly).
  return Object.assign({...attrs, logitOffsets: attrs.logitOffsets ?? null, reduction: attrs.reduction ?? 'none'},
                       kernelOptionValues(ENTRY, attrs)) as ResolvedFocalLossAttrs;
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
  checkAttrs(attrs as unknown as FocalLossAttrs);
  const a = resolveFocalLossAttrs(attrs as unknown as FocalLossAttrs);
  const classes = logits.shape[logits.shape.length - 1];
  const lossShape = logits.shape.slice(0, -1);
  const rows = lossShape.reduce((x, y) => x * y, 1);
  const sparse = labels.dtype === 'int32';
  const options = kernelOptionValues(ENTRY, a);  // the addon's keys of the table, read here once
  return runNativeForward({
    functionName: OP, backend, labels, logits, count: rows, lossShape, reduction: a.reduction,
    wantGrad: gradientIsRecorded(), op: 'softmax', opAttrs: () => focalLossOpAttrs(a, sparse),
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
}



/** Logits get the saved fused gradient; dense labels their analytic derivative; sparse labels 0. */
export const focalLossGradConfig = fusedGradient(
    FocalLoss, FocalLossGrad, resolveFocalLossAttrs, () => OP, (labels, logits, dy, a) => labels.dtype === 'int32' ?
        tf.zeros(labels.shape, 'float32') : softmaxDenseLabelsGradient(logits, dy, a));

registerForBackends(FocalLoss, focalLossKernel);
registerForBackends(FocalLossGrad, backwardKernel(OP, true));
registerGradientOnce(focalLossGradConfig);
refuseSecondOrder(FocalLossGrad, OP);
