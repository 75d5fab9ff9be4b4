// 'SigmoidElementwiseLoss' (the elementwise losses on sigmoid probabilities, chosen by attrs.loss:
// sigmoid focal loss in its binary / multi-label, RetinaNet and Keras BinaryFocalCrossentropy
// forms, varifocal, quality focal and asymmetric loss) and its backward
// 'SigmoidElementwiseLossGrad', for the 'tensorflow' and 'cpu' backends, also registered under
// their earlier names 'SigmoidFocalLoss' and 'SigmoidFocalLossGrad'. Same structure as SoftmaxFocalLoss.ts: one fused native pass forward (loss, and
// dL/dlogits while a gradient is recorded), an in-place scale by dy backward.
import * as tf from '@tensorflow/tfjs';

import {ELEMENTWISE_LOSS_CODES, ELEMENTWISE_LOSS_FUNCTIONS, ResolvedSigmoidElementwiseLossAttrs, SigmoidElementwiseLoss, SigmoidElementwiseLossAttrs, SigmoidElementwiseLossGrad, SigmoidElementwiseLossInputs, SigmoidFocalLoss, SigmoidFocalLossGrad} from '../kernel_contract';
import {elementwiseLabelsGradient} from '../paths/labels_gradients';
import {runNativeForward} from '../paths/native_forward';
import type {AttrValue} from '../paths/tensorflow_op';
import {addon} from '../native';
import {fusedGradient, registerFusedKernel} from './backward';
import {gradientIsRecorded, KernelArgs} from './engine';
import {describeValue} from '../validation/describe';
import {checkKernelAttrs, kernelOptionAttrs, kernelOptionValues} from './options';

export {SigmoidElementwiseLoss, SigmoidElementwiseLossGrad, SigmoidFocalLoss, SigmoidFocalLossGrad};
export type {SigmoidElementwiseLossGradInputs, SigmoidElementwiseLossInputs, SigmoidFocalLossGradInputs, SigmoidFocalLossInputs} from '../kernel_contract';
const OP = 'sigmoidFocalLoss';
/** The addon's entry point, whose options table the kernel attrs follow. */
const ENTRY = 'sigmoidElementwiseLoss';

/**
 * The attrs with every field given: the losses pass them so; a direct runKernel call may leave the
 * optional ones out, and gets their defaults here, once.
 */
export function resolveSigmoidElementwiseLossAttrs(attrs: SigmoidElementwiseLossAttrs): ResolvedSigmoidElementwiseLossAttrs {
  // One spread, then the table's values in place (V8 builds a literal with two spreads slowly).
  return Object.assign({...attrs, loss: attrs.loss ?? 'focal', reduction: attrs.reduction ?? 'none'},
                       kernelOptionValues(ENTRY, attrs)) as ResolvedSigmoidElementwiseLossAttrs;
}

/** Class balancing of the focal loss: alpha >= 0; negative (torchvision's -1) or null: none. */
function classBalancing(attrs: ResolvedSigmoidElementwiseLossAttrs): boolean {
  return typeof attrs.alpha === 'number' && attrs.alpha >= 0;
}

/**
 * The attributes of the TensorFlow op (native/bindings), from the kernel's attrs: the options
 * table's, then class balancing and the loss's code.
 */
export function sigmoidElementwiseLossOpAttrs(attrs: ResolvedSigmoidElementwiseLossAttrs):
    {[name: string]: AttrValue} {
  const balancing = classBalancing(attrs);
  return kernelOptionAttrs(ENTRY, attrs, {
    alpha: {float: balancing ? attrs.alpha : 0},
    class_balancing: {bool: balancing},
    loss_kind: {int: ELEMENTWISE_LOSS_CODES[attrs.loss]},
  });
}

/**
 * A direct runKernel call's attrs (resolved): the table's options, alpha, and the loss name;
 * errors name `kernelName`, the name the caller ran.
 */
function checkAttrs(kernelName: string, attrs: ResolvedSigmoidElementwiseLossAttrs): void {
  checkKernelAttrs(kernelName, ENTRY, attrs);
  const alpha: unknown = attrs.alpha;
  const loss: unknown = attrs.loss;
  if (typeof loss !== 'string' || !Object.prototype.hasOwnProperty.call(ELEMENTWISE_LOSS_CODES, loss)) {
    throw new TypeError(`${kernelName}: attrs.loss must be one of ${Object.keys(ELEMENTWISE_LOSS_CODES).map((k) => `'${k}'`).join(', ')}` +
        ` (or left out: 'focal'); received ${describeValue(loss)}`);
  }
  if (loss === 'varifocal' ? !(typeof alpha === 'number' && alpha >= 0) : !(alpha === null || typeof alpha === 'number')) {
    throw new TypeError(`${kernelName}: attrs.alpha must be ${loss === 'varifocal' ?
        'a number >= 0 (the weight of the negatives) for loss \'varifocal\'' :
        'a number (negative: no class balancing) or null'}; received ${describeValue(alpha)}`);
  }
}

/**
 * The kernel registered as `kernelName`. Output: the elementwise loss (logits.shape), or its sum or
 * mean with attrs.reduction.
 */
const sigmoidElementwiseLossKernel = (kernelName: string) => ({inputs, backend, attrs}: KernelArgs): tf.TensorInfo => {
  const {labels, logits} = inputs as SigmoidElementwiseLossInputs;
  const a = resolveSigmoidElementwiseLossAttrs(attrs as unknown as SigmoidElementwiseLossAttrs);
  checkAttrs(kernelName, a);
  const shape = logits.shape.slice();
  const options = kernelOptionValues(ENTRY, a);  // the addon's keys of the table, read here once
  return runNativeForward({
    functionName: ELEMENTWISE_LOSS_FUNCTIONS[a.loss], backend, labels, logits,
    count: shape.reduce((x, y) => x * y, 1), lossShape: shape, reduction: a.reduction,
    wantGrad: gradientIsRecorded(), op: 'sigmoid', opAttrs: () => sigmoidElementwiseLossOpAttrs(a),
    onArrays: (arrays, lossOut, gradOut) => addon().sigmoidElementwiseLoss({
      logits: arrays.float32(logits),
      labels: arrays.denseLabels(labels),
      ...options,
      alpha: classBalancing(a) ? a.alpha : null,
      loss: ELEMENTWISE_LOSS_CODES[a.loss],
      lossOut,
      gradOut,
    }),
  });
};

/**
 * The gradient of `kernelName`: logits get the saved fused gradient; labels (soft targets) their
 * analytic derivative.
 */
function sigmoidElementwiseLossGradConfig(kernelName: string): tf.GradConfig {
  return fusedGradient(kernelName, SigmoidElementwiseLossGrad, resolveSigmoidElementwiseLossAttrs,
                       (a) => ELEMENTWISE_LOSS_FUNCTIONS[a.loss], elementwiseLabelsGradient);
}

registerFusedKernel([[SigmoidElementwiseLoss, SigmoidElementwiseLossGrad], [SigmoidFocalLoss, SigmoidFocalLossGrad]],
                    sigmoidElementwiseLossKernel, sigmoidElementwiseLossGradConfig, OP, false);
