// Sigmoid focal loss, elementwise (binary / multi-label; RetinaNet, torchvision
// sigmoid_focal_loss, Keras BinaryFocalCrossentropy): its options, the tfjs-style
// `sigmoidFocalLoss` and the Keras-style `binaryFocalCrossentropy`. The mathematics:
// docs/DESIGN.md#sigmoid-focal-loss.
import * as tf from '@tensorflow/tfjs';

import {ELEMENTWISE_OPTION_DEFAULTS, ResolvedSigmoidElementwiseLossAttrs} from '../kernel_contract';
import {SigmoidElementwiseLoss} from '../kernels/SigmoidElementwiseLoss';
import {elementwiseFamilyComposite} from '../paths/composite_family';
import {Caller, callerOf, checkBinaryTargets, kerasCall, validateElementwiseCall} from '../validation/inputs';
import {balancingAlpha, boolean, finiteNumber, nonNegativeNumber, reduction, resolveOptions, unitInterval, weights, withDefault} from '../validation/options';
import {FocalLossFunction, makeLossFunction} from './keras';
import {reducedKernelLoss, reduceWeightedLoss} from './reduction';
import {lossOrEmpty, runUserLoss} from './run';
import type {BinaryFocalCrossentropyConfig, ResolvedBinaryFocalCrossentropyConfig, SigmoidFocalLossOptions} from './option_types';

/** Every option of sigmoidFocalLoss: its valid values, default and meaning (README: Options). */
export const SIGMOID_FOCAL_LOSS_SCHEMA = {
  gamma: nonNegativeNumber(2, 'Focusing parameter γ; 0 gives (balanced) binary cross-entropy.'),
  alpha: balancingAlpha(0.25, 'Class balancing: α_t = α y + (1 − α)(1 − y); `null` turns it off (torchvision `alpha=-1`).'),
  weights: weights('Weights of the elementwise losses (shape `logits.shape` or broadcastable).'),
  reduction: reduction(tf.Reduction.SUM_BY_NONZERO_WEIGHTS,
                       'How the elementwise losses are reduced; not with `normalizeByPositives`.'),
  labelSmoothing: unitInterval(0, 'Binary label smoothing: y′ = y (1 − ls) + ls / 2.'),
  fromLogits: boolean(true, '`false`: `logits` are probabilities, clipped to [1e-7, 1 − 1e-7] (Keras).'),
  normalizeByPositives: boolean(false, 'RetinaNet: the (weighted) sum divided by max(1, number of labels > 0); replaces `reduction`.'),
  polyEpsilon: finiteNumber(0, 'Poly-1 (PolyLoss): adds ε (1 − p_t)^(γ+1), times α_t with balancing; 0: the focal loss.'),
};

export type {SigmoidFocalLossOptions};
export type {ElementwiseLossKind, SigmoidElementwiseLossAttrs, SigmoidFocalLossAttrs} from '../kernel_contract';

/**
 * Sigmoid focal loss, elementwise:
 * `L = alpha_t * BCE(x, y) * (1 - p_t)^gamma`, `p = sigmoid(x)`, `p_t = p y + (1 - p)(1 - y)`,
 * plus `alpha_t * polyEpsilon * (1 - p_t)^(gamma + 1)` (Poly-1) when polyEpsilon is not 0.
 *
 * @param labels float32 targets in [0, 1], same shape as logits (multi-hot for multi-label).
 * @param logits float32 of any shape (probabilities when `fromLogits` is false).
 * @param options see SIGMOID_FOCAL_LOSS_SCHEMA; unknown keys throw.
 * @returns the reduced loss (a scalar), or the elementwise loss with `reduction: NONE`.
 *
 * Differentiable with respect to logits (native fused gradient) and labels. NaN or infinite labels
 * or weights throw. An empty input gives an empty elementwise loss, and 0 for every reduction.
 */
export function sigmoidFocalLoss(labels: tf.Tensor, logits: tf.Tensor,
                                 options?: SigmoidFocalLossOptions): tf.Tensor {
  return sigmoidFocalLossAs(callerOf('sigmoidFocalLoss'), labels, logits, options);
}

/** sigmoidFocalLoss whose errors are reported as the caller `c` (the Keras-style object). */
function sigmoidFocalLossAs(c: Caller, labels: unknown, logits: unknown, options: unknown):
    tf.Tensor {
  const call = validateElementwiseCall(c, SIGMOID_FOCAL_LOSS_SCHEMA, labels, logits, options);
  const {weights, reduction, normalizeByPositives, ...focalOptions} = call.options;
  // Object.assign, not `{...defaults, ...options}`: V8 (Node 20) builds a literal with two spreads
  // on a slow path, several microseconds on every call.
  const attrs: ResolvedSigmoidElementwiseLossAttrs =
      Object.assign({}, ELEMENTWISE_OPTION_DEFAULTS, focalOptions, {loss: 'focal' as const, reduction: 'none' as const});
  const inputs = {labels: call.labels, logits: call.logits};
  const run = (a: ResolvedSigmoidElementwiseLossAttrs) =>
      runUserLoss(c, 'elementwise', true, SigmoidElementwiseLoss, inputs, a, elementwiseFamilyComposite);
  const reduced = reduction !== tf.Reduction.NONE || normalizeByPositives;
  // RetinaNet: the (weighted) sum over the number of labels > 0, counted as sign(relu(y)), whose
  // gradient (0) tfjs defines, unlike greater's: the loss stays differentiable in soft labels.
  const byPositives = !normalizeByPositives ? null : (losses: tf.Tensor, elementWeights: tf.Tensor | null) =>
      tf.div(reduceWeightedLoss(losses, elementWeights, tf.Reduction.SUM),
             tf.maximum(tf.sum(tf.sign(tf.relu(call.labels))), 1));
  return lossOrEmpty(inputs, reduced, call.logits.shape,
                     () => reducedKernelLoss(run, attrs, weights, reduction, byPositives));
}


// ---- Keras-style object ---------------------------------------------------------------------

/** The config of binaryFocalCrossentropy (Keras 3 defaults). */
export const BINARY_FOCAL_CROSSENTROPY_SCHEMA = {
  applyClassBalancing: boolean(false, 'Weight positives by `alpha` and negatives by 1 − `alpha`.'),
  alpha: unitInterval(0.25, 'The balancing weight, used only with `applyClassBalancing`.'),
  gamma: SIGMOID_FOCAL_LOSS_SCHEMA.gamma,
  fromLogits: withDefault(SIGMOID_FOCAL_LOSS_SCHEMA.fromLogits, false),
  labelSmoothing: SIGMOID_FOCAL_LOSS_SCHEMA.labelSmoothing,
  polyEpsilon: SIGMOID_FOCAL_LOSS_SCHEMA.polyEpsilon,
};

export type {BinaryFocalCrossentropyConfig, ResolvedBinaryFocalCrossentropyConfig};
type ResolvedBinaryConfig = ResolvedBinaryFocalCrossentropyConfig;

/**
 * Keras `BinaryFocalCrossentropy`: elementwise sigmoid focal loss averaged over the last axis.
 * `yTrue` in [0, 1] of the shape of `yPred` (or `yPred.shape[:-1]` when the last axis of `yPred`
 * is 1); `yPred` probabilities (default) or logits. Returns a loss of shape `yPred.shape[:-1]`.
 */
export function binaryFocalCrossentropy(config?: BinaryFocalCrossentropyConfig):
    FocalLossFunction<ResolvedBinaryConfig> {
  const fn = 'binaryFocalCrossentropy';
  const resolved = resolveOptions(fn, BINARY_FOCAL_CROSSENTROPY_SCHEMA, config, {}, 'config');
  const caller = callerOf(fn, {labels: 'yTrue', logits: 'yPred', options: 'config'});
  return makeLossFunction(fn, 'BinaryFocalCrossentropy', resolved, (yTrue, yPred) => tf.tidy(() => {
    const call = kerasCall(caller, checkBinaryTargets, yTrue, yPred);
    const elementwise = sigmoidFocalLossAs(call.caller, call.labels, call.logits, {
      alpha: resolved.applyClassBalancing ? resolved.alpha : null,
      gamma: resolved.gamma,
      fromLogits: resolved.fromLogits,
      labelSmoothing: resolved.labelSmoothing,
      polyEpsilon: resolved.polyEpsilon,
      reduction: tf.Reduction.NONE,
    });
    return tf.mean(elementwise, -1);
  }));
}
