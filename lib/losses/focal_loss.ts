// Softmax focal loss (Lin et al. 2017) over the last axis, with Poly-1 (polyEpsilon) and logit
// adjustment (logitAdjustment) as options: its options, the tfjs-style
// `focalLoss` and the Keras-style `categoricalFocalCrossentropy` and
// `sparseCategoricalFocalCrossentropy`. The mathematics: docs/DESIGN.md#softmax-focal-loss.
import * as tf from '@tensorflow/tfjs';

import type {ResolvedSoftmaxFocalLossAttrs} from '../kernel_contract';
import {SoftmaxFocalLoss} from '../kernels/SoftmaxFocalLoss';
import {compositeFocalLoss} from '../paths/composite';
import {Caller, callerOf, checkCategoricalTargets, checkLogitsOnlyOptions, checkSparseTargets, kerasCall, KerasTargetsCheck, validateSoftmaxCall} from '../validation/inputs';
import {boolean, classIndex, classWeights, finiteNumber, logitAdjustment, nonNegativeNumber, reduction, resolveOptions, unitInterval, weights, withDefault} from '../validation/options';
import {FocalLossFunction, makeLossFunction} from './keras';
import {reducedKernelLoss, reduceWeightedLoss} from './reduction';
import {lossOrEmpty, runUserLoss} from './run';
import type {CategoricalFocalCrossentropyConfig, FocalLossOptions, ResolvedCategoricalFocalCrossentropyConfig} from './option_types';

/** Every option of focalLoss: its valid values, default and meaning (README: Options). */
export const FOCAL_LOSS_SCHEMA = {
  gamma: nonNegativeNumber(2, 'Focusing parameter γ; 0 gives α-weighted cross-entropy.'),
  alpha: classWeights(0.25, 'Class weight α, for all classes or per class (see `classBalancedAlpha`).'),
  weights: weights('Weights of the per-row losses (shape `logits.shape[:-1]` or broadcastable).'),
  reduction: reduction(tf.Reduction.SUM_BY_NONZERO_WEIGHTS,
                       'How the per-row losses are reduced (`tf.losses` semantics; a zero denominator gives 0).'),
  labelSmoothing: unitInterval(0, 'Label smoothing: y′ = y (1 − ls) + ls / C.'),
  ignoreIndex: classIndex('Sparse labels equal to this get loss 0 and weight 0 (PyTorch `ignore_index`).'),
  fromLogits: boolean(true, '`false`: `logits` are probabilities (Keras: each row divided by its sum, clipped to [1e-7, 1 − 1e-7]).'),
  // The softmax family (issue 17); the logit adjustment needs fromLogits: true.
  polyEpsilon: finiteNumber(0, 'Poly-1 ε: each term gains ε (1 − p)^(γ+1) (Leng et al. 2022; of the clipped p on probabilities).'),
  logitAdjustment: logitAdjustment('Train on z + τ log π (Menon et al. 2021; π = counts / Σ counts, or the priors); outputs stay raw; needs `fromLogits`.'),
};


export type {FocalLossOptions};
export type {FocalLossAttrs, SoftmaxFocalLossAttrs} from '../kernel_contract';

/**
 * Softmax focal loss over the last axis:
 * `L = sum_j alpha_j y_j [-(1 - p_j)^gamma log p_j + eps (1 - p_j)^(gamma + 1)]` per row,
 * `p = softmax(logits + tau log pi)` (eps = polyEpsilon, 0 by default; tau log pi from
 * logitAdjustment, none by default).
 *
 * @param labels int32 class indices of shape `logits.shape[:-1]` (sparse), or float32 one-hot /
 *     soft labels of shape `logits.shape` (dense, Keras `categorical_focal_crossentropy`).
 * @param logits float32 `[..., C]` with C > 0 (probabilities when `fromLogits` is false).
 * @param options see FOCAL_LOSS_SCHEMA; unknown keys throw.
 * @returns the reduced loss (a scalar), or the per-row loss of shape `logits.shape[:-1]` with
 *     `reduction: tf.Reduction.NONE`.
 *
 * Differentiable with respect to logits (native fused gradient) and dense labels. Sparse labels out
 * of [0, C) (other than ignoreIndex) throw a RangeError; NaN or infinite labels or weights throw. An
 * empty batch gives an empty per-row loss, and 0 for every other reduction.
 */
export function focalLoss(labels: tf.Tensor, logits: tf.Tensor, options?: FocalLossOptions):
    tf.Tensor {
  return focalLossAs(callerOf('focalLoss'), labels, logits, options);
}

/** focalLoss whose errors are reported as the caller `c` (the Keras-style objects). */
function focalLossAs(c: Caller, labels: unknown, logits: unknown, options: unknown): tf.Tensor {
  const call = validateSoftmaxCall(c, FOCAL_LOSS_SCHEMA, labels, logits, options);
  const {weights, reduction, logitAdjustment: _adjustment, ...kernelOptions} = call.options;
  const attrs: ResolvedSoftmaxFocalLossAttrs = {...kernelOptions, logitOffsets: call.logitOffsets, reduction: 'none'};
  const inputs = {labels: call.labels, logits: call.logits};
  const run = (a: ResolvedSoftmaxFocalLossAttrs) =>
      runUserLoss(c, 'softmax', true, SoftmaxFocalLoss, inputs, a, compositeFocalLoss);
  // Sparse labels equal to ignoreIndex get weight 0.
  const ignoring = attrs.ignoreIndex === null ? null : (losses: tf.Tensor, rowWeights: tf.Tensor | null) => {
    const kept = tf.cast(tf.notEqual(call.labels, attrs.ignoreIndex!), 'float32');
    return reduceWeightedLoss(losses, rowWeights === null ? kept : tf.mul(rowWeights, kept), reduction);
  };
  return lossOrEmpty(inputs, reduction !== tf.Reduction.NONE, call.logits.shape.slice(0, -1),
                     () => reducedKernelLoss(run, attrs, weights, reduction, ignoring));
}


// ---- Keras-style objects --------------------------------------------------------------------

/** The config of categoricalFocalCrossentropy and its sparse variant (Keras 3 defaults). */
export const CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA = {
  alpha: FOCAL_LOSS_SCHEMA.alpha,
  gamma: FOCAL_LOSS_SCHEMA.gamma,
  fromLogits: withDefault(FOCAL_LOSS_SCHEMA.fromLogits, false),
  labelSmoothing: FOCAL_LOSS_SCHEMA.labelSmoothing,
  polyEpsilon: FOCAL_LOSS_SCHEMA.polyEpsilon,
  logitAdjustment: FOCAL_LOSS_SCHEMA.logitAdjustment,
};

export type {CategoricalFocalCrossentropyConfig, ResolvedCategoricalFocalCrossentropyConfig};
type ResolvedCategoricalConfig = ResolvedCategoricalFocalCrossentropyConfig;

function categoricalLoss(
    fn: string, className: string, config: unknown,
    targets: KerasTargetsCheck):
    FocalLossFunction<ResolvedCategoricalConfig> {
  // The per-class alpha's length is checked against the classes at each call.
  const resolved = resolveOptions(fn, CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA, config, {}, 'config');
  checkLogitsOnlyOptions(fn, 'config', resolved);
  const caller = callerOf(fn, {labels: 'yTrue', logits: 'yPred', options: 'config'});
  return makeLossFunction(fn, className, resolved, (yTrue, yPred) => tf.tidy(() => {
    const call = kerasCall(caller, targets, yTrue, yPred);
    return focalLossAs(call.caller, call.labels, call.logits, {...resolved, reduction: tf.Reduction.NONE});
  }));
}

/**
 * Keras `CategoricalFocalCrossentropy`: `yTrue` one-hot (or soft) labels of the shape of `yPred`,
 * `yPred` probabilities (default) or logits (`fromLogits: true`) with classes on the last axis.
 * Returns the per-sample loss `sum_j -alpha_j y_j (1 - p_j)^gamma log p_j` of shape
 * `yPred.shape[:-1]`.
 *
 * ```js
 * model.compile({optimizer: 'adam', loss: categoricalFocalCrossentropy({gamma: 2})});
 * ```
 */
export function categoricalFocalCrossentropy(config?: CategoricalFocalCrossentropyConfig):
    FocalLossFunction<ResolvedCategoricalConfig> {
  return categoricalLoss('categoricalFocalCrossentropy', 'CategoricalFocalCrossentropy', config,
                         checkCategoricalTargets);
}

/**
 * Sparse variant of categoricalFocalCrossentropy: `yTrue` holds class indices, of shape
 * `yPred.shape[:-1]` or `yPred.shape[:-1] + [1]`, int32 or float32 with integer values (what
 * tfjs-layers feeds). Same config and result as the dense function on `oneHot(yTrue)`.
 *
 * tfjs-layers' `model.fit` checks targets against the model's output shape for every loss except
 * its own sparseCategoricalCrossentropy, so sparse targets `[N]` / `[N, 1]` are rejected there
 * before this function runs; train with `model.fitDataset` or an `optimizer.minimize` loop
 * instead (both pass targets through unchanged).
 */
export function sparseCategoricalFocalCrossentropy(config?: CategoricalFocalCrossentropyConfig):
    FocalLossFunction<ResolvedCategoricalConfig> {
  return categoricalLoss('sparseCategoricalFocalCrossentropy', 'SparseCategoricalFocalCrossentropy',
                         config, checkSparseTargets);
}
