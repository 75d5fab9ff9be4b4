// The kernels' contract, at the bottom of lib/ (in the spirit of tfjs-core's kernel_names.ts): every
// kernel's name, inputs and attrs, the elementwise loss kinds and their native codes, the in-op
// reductions and the backends the kernels are registered for. The losses build attrs of these
// types, the kernels, paths and gradients read them. The codes and defaults that cross to native
// code come from native_tables.ts, generated from the native headers (tools/native-tables.js); this
// file imports nothing else from lib/.
import type * as tf from '@tensorflow/tfjs';

import {ELEMENTWISE_LOSS_CODES, ELEMENTWISE_OPTION_DEFAULTS, REDUCTION_CODES} from './native_tables';

export {ELEMENTWISE_LOSS_CODES, ELEMENTWISE_OPTION_DEFAULTS, REDUCTION_CODES};

/** The backends this package registers its kernels for. */
export const BACKENDS = ['tensorflow', 'cpu'] as const;

/**
 * How a forward kernel reduces its per-sample losses: 'none' (the loss output is per sample), or
 * 'sum' / 'mean' inside the op (a scalar output). The losses use the in-op reduction when there
 * are no weights: it saves the engine several small ops per step, forward and backward.
 */
export type KernelReduction = keyof typeof REDUCTION_CODES;

/** The losses the elementwise kernel computes (docs/DESIGN.md#the-elementwise-family). */
export type ElementwiseLossKind = keyof typeof ELEMENTWISE_LOSS_CODES;

/** The public function each elementwise loss's errors are reported under. */
export const ELEMENTWISE_LOSS_FUNCTIONS: {[k in ElementwiseLossKind]: string} = {
  focal: 'sigmoidFocalLoss', varifocal: 'varifocalLoss', qualityFocal: 'qualityFocalLoss',
  asymmetric: 'asymmetricLoss',
};

// ---- 'SoftmaxFocalLoss': softmax focal loss over the last axis ----------------------------------
// Names follow one rule: the tfjs kernel `SoftmaxFocalLoss`, its backward `SoftmaxFocalLossGrad`,
// the addon entry point `softmaxFocalLoss` (the kernel name with a lower-case first letter) and
// the TensorFlow op `TfjsSoftmaxFocalLoss` ("Tfjs" + the kernel name, native/bindings).

export const SoftmaxFocalLoss = 'SoftmaxFocalLoss';
export const SoftmaxFocalLossGrad = 'SoftmaxFocalLossGrad';
/**
 * The names of 0.1, registered as aliases (the same kernel and gradient) so that direct
 * `runKernel('FocalLoss', ...)` calls keep working.
 * @deprecated Use SoftmaxFocalLoss / SoftmaxFocalLossGrad.
 */
export const FocalLoss = 'FocalLoss';
/** @deprecated Use SoftmaxFocalLossGrad. */
export const FocalLossGrad = 'FocalLossGrad';

export interface SoftmaxFocalLossInputs extends tf.NamedTensorInfoMap {
  /** int32 class indices of shape logits.shape[:-1], or float32 (soft) one-hot of logits.shape. */
  labels: tf.TensorInfo;
  /** float32 [..., C]: logits, or probabilities when fromLogits is false. */
  logits: tf.TensorInfo;
}

/** The attrs of 'SoftmaxFocalLoss' as the losses pass them: every field given. */
export interface ResolvedSoftmaxFocalLossAttrs {
  gamma: number;
  /** One class weight, or one per class. */
  alpha: number | number[];
  labelSmoothing: number;
  /** Sparse labels equal to it get loss 0 (null: none). */
  ignoreIndex: number | null;
  fromLogits: boolean;
  /** Poly-1 coefficient. */
  polyEpsilon: number;
  /** τ log π per class, from logitAdjustment (null: none). */
  logitOffsets: number[] | null;
  /** 'none': per-row losses; 'sum' / 'mean': reduced inside the op to a scalar. */
  reduction: KernelReduction;
}

/**
 * The attrs of a direct `runKernel('SoftmaxFocalLoss', ...)` call: the optional ones may be left out
 * (logitOffsets: none, reduction: 'none'; polyEpsilon: the native table's default).
 */
export type SoftmaxFocalLossAttrs = Omit<ResolvedSoftmaxFocalLossAttrs, 'logitOffsets' | 'reduction'> &
    Partial<Pick<ResolvedSoftmaxFocalLossAttrs, 'logitOffsets' | 'reduction'>>;

// ---- 'SigmoidElementwiseLoss': the elementwise losses ------------------------------------------
// One kernel for every elementwise loss on sigmoid probabilities (attrs.loss: sigmoid focal,
// varifocal, quality focal, asymmetric); named by the rule above: addon entry
// `sigmoidElementwiseLoss`, TensorFlow op `TfjsSigmoidElementwiseLoss`.

export const SigmoidElementwiseLoss = 'SigmoidElementwiseLoss';
export const SigmoidElementwiseLossGrad = 'SigmoidElementwiseLossGrad';
/**
 * The names of 0.1, registered as aliases (the same kernel and gradient) so that direct
 * `runKernel('SigmoidFocalLoss', ...)` calls keep working.
 * @deprecated Use SigmoidElementwiseLoss.
 */
export const SigmoidFocalLoss = 'SigmoidFocalLoss';
/** @deprecated Use SigmoidElementwiseLossGrad. */
export const SigmoidFocalLossGrad = 'SigmoidFocalLossGrad';

export interface SigmoidElementwiseLossInputs extends tf.NamedTensorInfoMap {
  /** float32 targets in [0, 1], same shape as logits. */
  labels: tf.TensorInfo;
  /** float32 logits, or probabilities when fromLogits is false. */
  logits: tf.TensorInfo;
}

/** The attrs of 'SigmoidElementwiseLoss' as the losses pass them: every field given. */
export interface ResolvedSigmoidElementwiseLossAttrs {
  /** Which loss. 'varifocal' reads alpha, gamma and iouWeighted, 'qualityFocal' beta,
   * 'asymmetric' gammaPos, gammaNeg and clip; they take logits and no smoothing. */
  loss: ElementwiseLossKind;
  /** 'focal' and 'varifocal': the focusing exponent. */
  gamma: number;
  /** Class balancing weight (< 0: none); for 'varifocal' the weight of the negatives. */
  alpha: number;
  labelSmoothing: number;
  fromLogits: boolean;
  /** Poly-1 coefficient of the focal loss. */
  polyEpsilon: number;
  /** 'qualityFocal': β of |q − p|^β. */
  beta: number;
  /** 'asymmetric': γ+ and γ− of the positives and negatives, and the probability margin. */
  gammaPos: number;
  gammaNeg: number;
  clip: number;
  /** 'varifocal': positives weighted by their target q, else by 1. */
  iouWeighted: boolean;
  /** 'none': elementwise losses; 'sum' / 'mean': reduced inside the op to a scalar. */
  reduction: KernelReduction;
}

/**
 * The attrs of a direct `runKernel('SigmoidElementwiseLoss', ...)` call: the optional ones may be
 * left out (loss: 'focal', reduction: 'none', the rest: the native table's defaults).
 */
export type SigmoidElementwiseLossAttrs = Pick<ResolvedSigmoidElementwiseLossAttrs, 'gamma' | 'alpha' | 'labelSmoothing' | 'fromLogits'> &
    Partial<Omit<ResolvedSigmoidElementwiseLossAttrs, 'gamma' | 'alpha' | 'labelSmoothing' | 'fromLogits'>>;

// ---- The backward kernels ------------------------------------------------------------------------

export interface BackwardInputs extends tf.NamedTensorInfoMap {
  /** Upstream gradient: the loss's shape, or [] for a loss reduced inside the op. */
  dy: tf.TensorInfo;
  /**
   * Either `grad`: dL/dlogits of the logits' shape (a direct call; left untouched, the result is
   * a new tensor), or `loss`: the forward kernel's output, whose saved gradient is scaled in place
   * (the registered gradient).
   */
  grad?: tf.TensorInfo;
  loss?: tf.TensorInfo;
}

export type SoftmaxFocalLossGradInputs = BackwardInputs;
/** @deprecated Use SoftmaxFocalLossInputs. */
export type FocalLossInputs = SoftmaxFocalLossInputs;
/** @deprecated Use SoftmaxFocalLossAttrs. */
export type FocalLossAttrs = SoftmaxFocalLossAttrs;
/** @deprecated Use SoftmaxFocalLossGradInputs. */
export type FocalLossGradInputs = SoftmaxFocalLossGradInputs;
export type SigmoidElementwiseLossGradInputs = BackwardInputs;
/** @deprecated Use SigmoidElementwiseLossInputs. */
export type SigmoidFocalLossInputs = SigmoidElementwiseLossInputs;
/** @deprecated Use SigmoidElementwiseLossAttrs. */
export type SigmoidFocalLossAttrs = SigmoidElementwiseLossAttrs;
/** @deprecated Use SigmoidElementwiseLossGradInputs. */
export type SigmoidFocalLossGradInputs = SigmoidElementwiseLossGradInputs;
