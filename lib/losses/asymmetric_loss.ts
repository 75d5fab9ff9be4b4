// Asymmetric loss (Ridnik et al. 2021, ASL): multi-label classification with many negatives per
// positive. The tfjs-style `asymmetricLoss` and the Keras-style `asymmetricCrossentropy`.
// docs/DESIGN.md#asymmetric-loss
import * as tf from '@tensorflow/tfjs';

import {halfOpenUnitInterval, nonNegativeNumber} from '../validation/options';
import {elementwiseFamilyLoss, FAMILY_REDUCTION_OPTIONS, familyLossObject} from './elementwise_family';
import {Caller, callerOf} from '../validation/inputs';
import type {AsymmetricCrossentropyConfig, AsymmetricLossOptions, ResolvedAsymmetricCrossentropyConfig} from './option_types';
import type {FocalLossFunction} from './keras';

/** Every option of asymmetricLoss (README: Options). */
export const ASYMMETRIC_LOSS_SCHEMA = {
  gammaPos: nonNegativeNumber(0, 'Focusing exponent of the positives: (1 − p)^γ+.'),
  gammaNeg: nonNegativeNumber(4, 'Focusing exponent of the negatives: p_m^γ−.'),
  clip: halfOpenUnitInterval(0.05, 'Probability margin of the negatives: p_m = max(p − clip, 0).'),
  ...FAMILY_REDUCTION_OPTIONS,
};
export type {AsymmetricLossOptions};

/**
 * Asymmetric loss, elementwise:
 * `-y (1 - p)^gammaPos log p - (1 - y) p_m^gammaNeg log(1 - p_m)`, `p_m = max(p - clip, 0)`.
 *
 * @param labels float32 in [0, 1] (multi-hot; soft labels weight both terms), same shape as logits.
 * @param logits float32 logits of any shape.
 * @returns the reduced loss, or the elementwise loss with `reduction: NONE`.
 */
export function asymmetricLoss(labels: tf.Tensor, logits: tf.Tensor,
                               options?: AsymmetricLossOptions): tf.Tensor {
  return asymmetricLossAs(callerOf('asymmetricLoss'), labels, logits, options);
}

function asymmetricLossAs(c: Caller, labels: unknown, logits: unknown, options: unknown): tf.Tensor {
  return elementwiseFamilyLoss(c, 'asymmetric', ASYMMETRIC_LOSS_SCHEMA, labels, logits, options,
                               (o) => ({gammaPos: o.gammaPos, gammaNeg: o.gammaNeg, clip: o.clip}));
}

export const ASYMMETRIC_CROSSENTROPY_SCHEMA = {
  gammaPos: ASYMMETRIC_LOSS_SCHEMA.gammaPos,
  gammaNeg: ASYMMETRIC_LOSS_SCHEMA.gammaNeg,
  clip: ASYMMETRIC_LOSS_SCHEMA.clip,
};
export type {AsymmetricCrossentropyConfig, ResolvedAsymmetricCrossentropyConfig};

/** Keras-style asymmetric loss on logits, averaged over the last axis. */
export function asymmetricCrossentropy(config?: AsymmetricCrossentropyConfig):
    FocalLossFunction<ResolvedAsymmetricCrossentropyConfig> {
  return familyLossObject('asymmetricCrossentropy', 'AsymmetricCrossentropy',
                          ASYMMETRIC_CROSSENTROPY_SCHEMA, config, asymmetricLossAs,
                          (c) => ({...c, reduction: tf.Reduction.NONE}));
}
