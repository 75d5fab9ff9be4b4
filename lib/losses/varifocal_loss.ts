// Varifocal loss (Zhang et al. 2021, VarifocalNet; mmdet's iou-weighted form): dense detection
// with IoU-aware classification targets. The tfjs-style `varifocalLoss` and the Keras-style
// `varifocalCrossentropy`. docs/DESIGN.md#varifocal-loss
import * as tf from '@tensorflow/tfjs';

import {boolean, nonNegativeNumber, unitInterval} from '../validation/options';
import {elementwiseFamilyLoss, FAMILY_REDUCTION_OPTIONS, familyLossObject} from './elementwise_family';
import {Caller, callerOf} from '../validation/inputs';
import type {VarifocalCrossentropyConfig, VarifocalLossOptions, ResolvedVarifocalCrossentropyConfig} from './option_types';
import type {FocalLossFunction} from './keras';

/** Every option of varifocalLoss (README: Options). */
export const VARIFOCAL_LOSS_SCHEMA = {
  alpha: unitInterval(0.75, 'Weight of the negatives (q = 0): α p^γ.'),
  gamma: nonNegativeNumber(2, 'Focusing exponent of the negatives.'),
  iouWeighted: boolean(true, 'Weight of the positives: their target q (mmdet `iou_weighted`), or 1 with `false`.'),
  ...FAMILY_REDUCTION_OPTIONS,
};
export type {VarifocalLossOptions};

/**
 * Varifocal loss, elementwise: `BCE(x, q) * (q if q > 0 else alpha * p^gamma)`, `p = sigmoid(x)`
 * (`1` instead of `q` with `iouWeighted: false`).
 *
 * @param targets float32 in [0, 1] (an IoU-aware score, 0 for negatives), same shape as logits.
 * @param logits float32 logits of any shape.
 * @returns the reduced loss, or the elementwise loss with `reduction: NONE`.
 */
export function varifocalLoss(targets: tf.Tensor, logits: tf.Tensor,
                              options?: VarifocalLossOptions): tf.Tensor {
  return varifocalLossAs(callerOf('varifocalLoss', {labels: 'targets'}), targets, logits, options);
}

function varifocalLossAs(c: Caller, targets: unknown, logits: unknown, options: unknown): tf.Tensor {
  return elementwiseFamilyLoss(c, 'varifocal', VARIFOCAL_LOSS_SCHEMA, targets, logits, options,
                               (o) => ({alpha: o.alpha, gamma: o.gamma, iouWeighted: o.iouWeighted}));
}

export const VARIFOCAL_CROSSENTROPY_SCHEMA = {
  alpha: VARIFOCAL_LOSS_SCHEMA.alpha,
  gamma: VARIFOCAL_LOSS_SCHEMA.gamma,
  iouWeighted: VARIFOCAL_LOSS_SCHEMA.iouWeighted,
};
export type {VarifocalCrossentropyConfig, ResolvedVarifocalCrossentropyConfig};

/** Keras-style varifocal loss on logits, averaged over the last axis. */
export function varifocalCrossentropy(config?: VarifocalCrossentropyConfig):
    FocalLossFunction<ResolvedVarifocalCrossentropyConfig> {
  return familyLossObject('varifocalCrossentropy', 'VarifocalCrossentropy',
                          VARIFOCAL_CROSSENTROPY_SCHEMA, config, varifocalLossAs,
                          (c) => ({...c, reduction: tf.Reduction.NONE}));
}
