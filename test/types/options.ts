// Type test, compiled by `npx tsc -p tsconfig.test.json --noEmit` (CI, .ci/run) and never run: the
// exported option interfaces are exactly the types their schemas accept and resolve to, and tsc
// catches misuse (each @ts-expect-error line must be an error, or tsc fails).
import * as tf from '@tensorflow/tfjs-core';

import {asymmetricCrossentropy, AsymmetricCrossentropyConfig, asymmetricLoss, AsymmetricLossOptions, binaryFocalCrossentropy, BinaryFocalCrossentropyConfig, categoricalFocalCrossentropy, CategoricalFocalCrossentropyConfig, focalLoss, FocalLossOptions, qualityFocalCrossentropy, QualityFocalCrossentropyConfig, qualityFocalLoss, QualityFocalLossOptions, ResolvedAsymmetricCrossentropyConfig, ResolvedBinaryFocalCrossentropyConfig, ResolvedCategoricalFocalCrossentropyConfig, ResolvedQualityFocalCrossentropyConfig, ResolvedVarifocalCrossentropyConfig, sigmoidFocalLoss, SigmoidFocalLossOptions, varifocalCrossentropy, VarifocalCrossentropyConfig, varifocalLoss, VarifocalLossOptions} from '../../lib';
import {ASYMMETRIC_CROSSENTROPY_SCHEMA, ASYMMETRIC_LOSS_SCHEMA} from '../../lib/losses/asymmetric_loss';
import {CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA, FOCAL_LOSS_SCHEMA} from '../../lib/losses/focal_loss';
import {QUALITY_FOCAL_CROSSENTROPY_SCHEMA, QUALITY_FOCAL_LOSS_SCHEMA} from '../../lib/losses/quality_focal_loss';
import {BINARY_FOCAL_CROSSENTROPY_SCHEMA, SIGMOID_FOCAL_LOSS_SCHEMA} from '../../lib/losses/sigmoid_focal_loss';
import {VARIFOCAL_CROSSENTROPY_SCHEMA, VARIFOCAL_LOSS_SCHEMA} from '../../lib/losses/varifocal_loss';
import type {OptionsOf, ResolvedOf} from '../../lib/validation/options';

/** true only when A and B are the same type (not merely assignable one way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function same<T extends true>(): T | undefined {
  return undefined;
}

// The generated interfaces (lib/losses/option_types.ts) against their schemas: a drift in an
// option's type (inType / outType in lib/validation/options.ts) fails here.
same<Equal<FocalLossOptions, OptionsOf<typeof FOCAL_LOSS_SCHEMA>>>();
same<Equal<SigmoidFocalLossOptions, OptionsOf<typeof SIGMOID_FOCAL_LOSS_SCHEMA>>>();
same<Equal<VarifocalLossOptions, OptionsOf<typeof VARIFOCAL_LOSS_SCHEMA>>>();
same<Equal<QualityFocalLossOptions, OptionsOf<typeof QUALITY_FOCAL_LOSS_SCHEMA>>>();
same<Equal<AsymmetricLossOptions, OptionsOf<typeof ASYMMETRIC_LOSS_SCHEMA>>>();
same<Equal<CategoricalFocalCrossentropyConfig, OptionsOf<typeof CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA>>>();
same<Equal<BinaryFocalCrossentropyConfig, OptionsOf<typeof BINARY_FOCAL_CROSSENTROPY_SCHEMA>>>();
same<Equal<VarifocalCrossentropyConfig, OptionsOf<typeof VARIFOCAL_CROSSENTROPY_SCHEMA>>>();
same<Equal<QualityFocalCrossentropyConfig, OptionsOf<typeof QUALITY_FOCAL_CROSSENTROPY_SCHEMA>>>();
same<Equal<AsymmetricCrossentropyConfig, OptionsOf<typeof ASYMMETRIC_CROSSENTROPY_SCHEMA>>>();
same<Equal<ResolvedCategoricalFocalCrossentropyConfig, ResolvedOf<typeof CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA>>>();
same<Equal<ResolvedBinaryFocalCrossentropyConfig, ResolvedOf<typeof BINARY_FOCAL_CROSSENTROPY_SCHEMA>>>();
same<Equal<ResolvedVarifocalCrossentropyConfig, ResolvedOf<typeof VARIFOCAL_CROSSENTROPY_SCHEMA>>>();
same<Equal<ResolvedQualityFocalCrossentropyConfig, ResolvedOf<typeof QUALITY_FOCAL_CROSSENTROPY_SCHEMA>>>();
same<Equal<ResolvedAsymmetricCrossentropyConfig, ResolvedOf<typeof ASYMMETRIC_CROSSENTROPY_SCHEMA>>>();
// The functions take and give the named interfaces.
same<Equal<Parameters<typeof focalLoss>[2], FocalLossOptions | undefined>>();
same<Equal<ReturnType<typeof categoricalFocalCrossentropy>['config'], Readonly<ResolvedCategoricalFocalCrossentropyConfig>>>();

/** Misuse tsc must refuse; never called. */
export function misuse(labels: tf.Tensor, logits: tf.Tensor): void {
  focalLoss(labels, logits, {gamma: 2, alpha: [0.5, 1], reduction: tf.Reduction.MEAN});  // fine
  // @ts-expect-error a misspelled option
  focalLoss(labels, logits, {gama: 2});
  // @ts-expect-error a wrong option type
  focalLoss(labels, logits, {gamma: '2'});
  // @ts-expect-error a missing argument
  focalLoss(labels);
  // @ts-expect-error a misspelled option
  sigmoidFocalLoss(labels, logits, {normaliseByPositives: true});
  // @ts-expect-error a wrong option type
  varifocalLoss(labels, logits, {iouWeighted: 1});
  // @ts-expect-error an option of another loss
  qualityFocalLoss(labels, logits, {gamma: 2});
  // @ts-expect-error a wrong option type
  asymmetricLoss(labels, logits, {clip: null});
  // @ts-expect-error a misspelled config key
  categoricalFocalCrossentropy({fromLogit: true});
  // @ts-expect-error a wrong config type
  binaryFocalCrossentropy({applyClassBalancing: 'yes'});
  // @ts-expect-error a missing argument of the loss function
  varifocalCrossentropy()(labels);
  // @ts-expect-error the validated config is read-only
  qualityFocalCrossentropy().config.beta = 3;
  // @ts-expect-error a misspelled config key
  asymmetricCrossentropy({gammaNegative: 2});
}
