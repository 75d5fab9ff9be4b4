// What the elementwise family (varifocal, quality focal, asymmetric) shares: the call through the
// 'SigmoidElementwiseLoss' kernel with a `loss` attribute (one fused native pass forward and one scale
// backward), the reduction, and the Keras-style object averaging over the last axis.
// docs/DESIGN.md#the-elementwise-family
import * as tf from '@tensorflow/tfjs';

import {SigmoidElementwiseLoss} from '../kernels/SigmoidElementwiseLoss';
import {elementwiseFamilyComposite} from '../paths/composite_family';
import {Caller, callerOf, checkBinaryTargets, kerasCall, validateElementwiseCall} from '../validation/inputs';
import {reduction, resolveOptions, ResolvedOf, Schema, weights} from '../validation/options';
import {FocalLossFunction, makeLossFunction} from './keras';
import {reducedKernelLoss} from './reduction';
import {lossOrEmpty, runUserLoss} from './run';
import {ELEMENTWISE_OPTION_DEFAULTS, ElementwiseLossKind, ResolvedSigmoidElementwiseLossAttrs} from '../kernel_contract';

/** The options every loss of the family has. */
export const FAMILY_REDUCTION_OPTIONS = {
  weights: weights('Weights of the elementwise losses (shape `logits.shape` or broadcastable).'),
  reduction: reduction(tf.Reduction.SUM_BY_NONZERO_WEIGHTS, 'How the elementwise losses are reduced.'),
};

/** The loss's own kernel attributes, from its resolved options. */
export type FamilyAttrs = Omit<ResolvedSigmoidElementwiseLossAttrs, 'reduction' | 'loss'>;

/** The kernel attributes with the family's fixed ones: logits, no smoothing, no balancing. */
export function familyKernelAttrs(loss: ElementwiseLossKind, own: Partial<FamilyAttrs>):
    ResolvedSigmoidElementwiseLossAttrs {
  // Object.assign, not two spreads in one literal: V8 (Node 20) builds those on a slow path.
  return Object.assign({gamma: 2, alpha: -1, labelSmoothing: 0, fromLogits: true}, ELEMENTWISE_OPTION_DEFAULTS,
                       own, {loss, reduction: 'none' as const});
}

/** A tfjs-style call of loss `loss`: validation, the fused kernel, then the reduction. */
export function elementwiseFamilyLoss<S extends Schema>(
    c: Caller, loss: ElementwiseLossKind, schema: S, labels: unknown, logits: unknown,
    options: unknown, toAttrs: (resolved: ResolvedOf<S>) => Partial<FamilyAttrs>): tf.Tensor {
  const call = validateElementwiseCall(c, schema, labels, logits, options);
  const resolved = call.options as ResolvedOf<S> & {weights: tf.Tensor | number | null,
                                                   reduction: tf.Reduction};
  const attrs = familyKernelAttrs(loss, toAttrs(resolved));
  const inputs = {labels: call.labels, logits: call.logits};
  const run = (a: ResolvedSigmoidElementwiseLossAttrs) =>
      runUserLoss(c, 'elementwise', false, SigmoidElementwiseLoss, inputs, a, elementwiseFamilyComposite);
  return lossOrEmpty(inputs, resolved.reduction !== tf.Reduction.NONE, call.logits.shape,
                     () => reducedKernelLoss(run, attrs, resolved.weights, resolved.reduction));
}


/**
 * The Keras-style object of a family loss: `yTrue` targets of the shape of `yPred` (or
 * `yPred.shape[:-1]` when the last axis of `yPred` is 1), `yPred` logits; the elementwise loss
 * averaged over the last axis.
 */
export function familyLossObject<C extends Schema, O>(
    fn: string, className: string, configSchema: C, config: unknown,
    elementwise: (c: Caller, labels: tf.Tensor, logits: tf.Tensor, options: O) => tf.Tensor,
    toOptions: (resolved: ResolvedOf<C>) => O): FocalLossFunction<ResolvedOf<C>> {
  const resolved = resolveOptions(fn, configSchema, config, {}, 'config');
  const caller = callerOf(fn, {labels: 'yTrue', logits: 'yPred', options: 'config'});
  return makeLossFunction(fn, className, resolved, (yTrue, yPred) => tf.tidy(() => {
    const call = kerasCall(caller, checkBinaryTargets, yTrue, yPred);
    return tf.mean(elementwise(call.caller, call.labels, call.logits, toOptions(resolved)), -1);
  }));
}
