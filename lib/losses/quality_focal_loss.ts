// Quality focal loss (Li et al. 2020, Generalized Focal Loss): dense detection with a joint
// classification-quality target. The tfjs-style `qualityFocalLoss` and the Keras-style
// `qualityFocalCrossentropy`. docs/DESIGN.md#quality-focal-loss
import * as tf from '@tensorflow/tfjs';

import {nonNegativeNumber} from '../validation/options';
import {elementwiseFamilyLoss, FAMILY_REDUCTION_OPTIONS, familyLossObject} from './elementwise_family';
import {Caller, callerOf} from '../validation/inputs';
import type {QualityFocalCrossentropyConfig, QualityFocalLossOptions, ResolvedQualityFocalCrossentropyConfig} from './option_types';
import type {FocalLossFunction} from './keras';

/** Every option of qualityFocalLoss (README: Options). */
export const QUALITY_FOCAL_LOSS_SCHEMA = {
  beta: nonNegativeNumber(2, 'Exponent β of the distance abs(q − p); at p = q the gradient is 0 (a subgradient for β < 1).'),
  ...FAMILY_REDUCTION_OPTIONS,
};
export type {QualityFocalLossOptions};

/**
 * Quality focal loss, elementwise: `|q - p|^beta * BCE(x, q)`, `p = sigmoid(x)`.
 *
 * @param targets float32 quality targets in [0, 1], same shape as logits.
 * @param logits float32 logits of any shape.
 * @returns the reduced loss, or the elementwise loss with `reduction: NONE`.
 */
export function qualityFocalLoss(targets: tf.Tensor, logits: tf.Tensor,
                                 options?: QualityFocalLossOptions): tf.Tensor {
  return qualityFocalLossAs(callerOf('qualityFocalLoss', {labels: 'targets'}), targets, logits, options);
}

function qualityFocalLossAs(c: Caller, targets: unknown, logits: unknown, options: unknown):
    tf.Tensor {
  return elementwiseFamilyLoss(c, 'qualityFocal', QUALITY_FOCAL_LOSS_SCHEMA, targets, logits,
                               options, (o) => ({beta: o.beta}));
}

export const QUALITY_FOCAL_CROSSENTROPY_SCHEMA = {beta: QUALITY_FOCAL_LOSS_SCHEMA.beta};
export type {QualityFocalCrossentropyConfig, ResolvedQualityFocalCrossentropyConfig};

/** Keras-style quality focal loss on logits, averaged over the last axis. */
export function qualityFocalCrossentropy(config?: QualityFocalCrossentropyConfig):
    FocalLossFunction<ResolvedQualityFocalCrossentropyConfig> {
  return familyLossObject('qualityFocalCrossentropy', 'QualityFocalCrossentropy',
                          QUALITY_FOCAL_CROSSENTROPY_SCHEMA, config, qualityFocalLossAs,
                          (c) => ({...c, reduction: tf.Reduction.NONE}));
}
