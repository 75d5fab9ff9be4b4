// Generated from the option schemas by tools/option-types.js: do not edit by hand.
//   npx tsc -p tsconfig.json && node tools/option-types.js > lib/losses/option_types.ts
// test/schema.test.ts checks this file is current; test/types/options.ts that each interface
// is the type its schema accepts (or resolves to).
import type * as tf from '@tensorflow/tfjs';

import type {LogitAdjustment, ResolvedLogitAdjustment} from '../validation/options';

/** The options of `focalLoss(labels, logits, options?)`: every key optional; an unknown key throws. */
export interface FocalLossOptions {
  /**
   * Focusing parameter γ; 0 gives α-weighted cross-entropy.
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  gamma?: number;
  /**
   * Class weight α, for all classes or per class (see `classBalancedAlpha`).
   *
   * Valid: a finite number >= 0, or one per class. Default: 0.25.
   */
  alpha?: number | number[];
  /**
   * Weights of the per-row losses (shape `logits.shape[:-1]` or broadcastable).
   *
   * Valid: a finite number, or a Tensor broadcastable to the loss. Default: none.
   */
  weights?: tf.Tensor | number;
  /**
   * How the per-row losses are reduced (`tf.losses` semantics; a zero denominator gives 0).
   *
   * Valid: `tf.Reduction.*`. Default: `SUM_BY_NONZERO_WEIGHTS`.
   */
  reduction?: tf.Reduction;
  /**
   * Label smoothing: y′ = y (1 − ls) + ls / C.
   *
   * Valid: a number in [0, 1]. Default: 0.
   */
  labelSmoothing?: number;
  /**
   * Sparse labels equal to this get loss 0 and weight 0 (PyTorch `ignore_index`).
   *
   * Valid: an int32 integer, or `null`. Default: none.
   */
  ignoreIndex?: number | null;
  /**
   * `false`: `logits` are probabilities (Keras: each row divided by its sum, clipped to [1e-7, 1 − 1e-7]).
   *
   * Valid: `true` or `false`. Default: true.
   */
  fromLogits?: boolean;
  /**
   * Poly-1 ε: each term gains ε (1 − p)^(γ+1) (Leng et al. 2022; of the clipped p on probabilities).
   *
   * Valid: a finite number. Default: 0.
   */
  polyEpsilon?: number;
  /**
   * Train on z + τ log π (Menon et al. 2021; π = counts / Σ counts, or the priors); outputs stay raw; needs `fromLogits`.
   *
   * Valid: `{classCounts, tau?}` or `{priors, tau?}` (numbers > 0, one per class; tau finite, default 1), or `null`. Default: none.
   */
  logitAdjustment?: LogitAdjustment | null;
}

/** The config of `categoricalFocalCrossentropy(config?)`, `sparseCategoricalFocalCrossentropy(config?)`: every key optional; an unknown key throws. */
export interface CategoricalFocalCrossentropyConfig {
  /**
   * Class weight α, for all classes or per class (see `classBalancedAlpha`).
   *
   * Valid: a finite number >= 0, or one per class. Default: 0.25.
   */
  alpha?: number | number[];
  /**
   * Focusing parameter γ; 0 gives α-weighted cross-entropy.
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  gamma?: number;
  /**
   * `false`: `logits` are probabilities (Keras: each row divided by its sum, clipped to [1e-7, 1 − 1e-7]).
   *
   * Valid: `true` or `false`. Default: false.
   */
  fromLogits?: boolean;
  /**
   * Label smoothing: y′ = y (1 − ls) + ls / C.
   *
   * Valid: a number in [0, 1]. Default: 0.
   */
  labelSmoothing?: number;
  /**
   * Poly-1 ε: each term gains ε (1 − p)^(γ+1) (Leng et al. 2022; of the clipped p on probabilities).
   *
   * Valid: a finite number. Default: 0.
   */
  polyEpsilon?: number;
  /**
   * Train on z + τ log π (Menon et al. 2021; π = counts / Σ counts, or the priors); outputs stay raw; needs `fromLogits`.
   *
   * Valid: `{classCounts, tau?}` or `{priors, tau?}` (numbers > 0, one per class; tau finite, default 1), or `null`. Default: none.
   */
  logitAdjustment?: LogitAdjustment | null;
}

/** The validated config of `categoricalFocalCrossentropy(config?)`, `sparseCategoricalFocalCrossentropy(config?)`, defaults filled in (the loss function's `config`). */
export interface ResolvedCategoricalFocalCrossentropyConfig {
  /**
   * Class weight α, for all classes or per class (see `classBalancedAlpha`).
   *
   * Valid: a finite number >= 0, or one per class. Default: 0.25.
   */
  alpha: number | number[];
  /**
   * Focusing parameter γ; 0 gives α-weighted cross-entropy.
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  gamma: number;
  /**
   * `false`: `logits` are probabilities (Keras: each row divided by its sum, clipped to [1e-7, 1 − 1e-7]).
   *
   * Valid: `true` or `false`. Default: false.
   */
  fromLogits: boolean;
  /**
   * Label smoothing: y′ = y (1 − ls) + ls / C.
   *
   * Valid: a number in [0, 1]. Default: 0.
   */
  labelSmoothing: number;
  /**
   * Poly-1 ε: each term gains ε (1 − p)^(γ+1) (Leng et al. 2022; of the clipped p on probabilities).
   *
   * Valid: a finite number. Default: 0.
   */
  polyEpsilon: number;
  /**
   * Train on z + τ log π (Menon et al. 2021; π = counts / Σ counts, or the priors); outputs stay raw; needs `fromLogits`.
   *
   * Valid: `{classCounts, tau?}` or `{priors, tau?}` (numbers > 0, one per class; tau finite, default 1), or `null`. Default: none.
   */
  logitAdjustment: ResolvedLogitAdjustment | null;
}

/** The options of `sigmoidFocalLoss(labels, logits, options?)`: every key optional; an unknown key throws. */
export interface SigmoidFocalLossOptions {
  /**
   * Focusing parameter γ; 0 gives (balanced) binary cross-entropy.
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  gamma?: number;
  /**
   * Class balancing: α_t = α y + (1 − α)(1 − y); `null` turns it off (torchvision `alpha=-1`).
   *
   * Valid: a number in [0, 1]; `null` or < 0: off. Default: 0.25.
   */
  alpha?: number | null;
  /**
   * Weights of the elementwise losses (shape `logits.shape` or broadcastable).
   *
   * Valid: a finite number, or a Tensor broadcastable to the loss. Default: none.
   */
  weights?: tf.Tensor | number;
  /**
   * How the elementwise losses are reduced; not with `normalizeByPositives`.
   *
   * Valid: `tf.Reduction.*`. Default: `SUM_BY_NONZERO_WEIGHTS`.
   */
  reduction?: tf.Reduction;
  /**
   * Binary label smoothing: y′ = y (1 − ls) + ls / 2.
   *
   * Valid: a number in [0, 1]. Default: 0.
   */
  labelSmoothing?: number;
  /**
   * `false`: `logits` are probabilities, clipped to [1e-7, 1 − 1e-7] (Keras).
   *
   * Valid: `true` or `false`. Default: true.
   */
  fromLogits?: boolean;
  /**
   * RetinaNet: the (weighted) sum divided by max(1, number of labels > 0); replaces `reduction`.
   *
   * Valid: `true` or `false`. Default: false.
   */
  normalizeByPositives?: boolean;
  /**
   * Poly-1 (PolyLoss): adds ε (1 − p_t)^(γ+1), times α_t with balancing; 0: the focal loss.
   *
   * Valid: a finite number. Default: 0.
   */
  polyEpsilon?: number;
}

/** The config of `binaryFocalCrossentropy(config?)`: every key optional; an unknown key throws. */
export interface BinaryFocalCrossentropyConfig {
  /**
   * Weight positives by `alpha` and negatives by 1 − `alpha`.
   *
   * Valid: `true` or `false`. Default: false.
   */
  applyClassBalancing?: boolean;
  /**
   * The balancing weight, used only with `applyClassBalancing`.
   *
   * Valid: a number in [0, 1]. Default: 0.25.
   */
  alpha?: number;
  /**
   * Focusing parameter γ; 0 gives (balanced) binary cross-entropy.
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  gamma?: number;
  /**
   * `false`: `logits` are probabilities, clipped to [1e-7, 1 − 1e-7] (Keras).
   *
   * Valid: `true` or `false`. Default: false.
   */
  fromLogits?: boolean;
  /**
   * Binary label smoothing: y′ = y (1 − ls) + ls / 2.
   *
   * Valid: a number in [0, 1]. Default: 0.
   */
  labelSmoothing?: number;
  /**
   * Poly-1 (PolyLoss): adds ε (1 − p_t)^(γ+1), times α_t with balancing; 0: the focal loss.
   *
   * Valid: a finite number. Default: 0.
   */
  polyEpsilon?: number;
}

/** The validated config of `binaryFocalCrossentropy(config?)`, defaults filled in (the loss function's `config`). */
export interface ResolvedBinaryFocalCrossentropyConfig {
  /**
   * Weight positives by `alpha` and negatives by 1 − `alpha`.
   *
   * Valid: `true` or `false`. Default: false.
   */
  applyClassBalancing: boolean;
  /**
   * The balancing weight, used only with `applyClassBalancing`.
   *
   * Valid: a number in [0, 1]. Default: 0.25.
   */
  alpha: number;
  /**
   * Focusing parameter γ; 0 gives (balanced) binary cross-entropy.
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  gamma: number;
  /**
   * `false`: `logits` are probabilities, clipped to [1e-7, 1 − 1e-7] (Keras).
   *
   * Valid: `true` or `false`. Default: false.
   */
  fromLogits: boolean;
  /**
   * Binary label smoothing: y′ = y (1 − ls) + ls / 2.
   *
   * Valid: a number in [0, 1]. Default: 0.
   */
  labelSmoothing: number;
  /**
   * Poly-1 (PolyLoss): adds ε (1 − p_t)^(γ+1), times α_t with balancing; 0: the focal loss.
   *
   * Valid: a finite number. Default: 0.
   */
  polyEpsilon: number;
}

/** The options of `varifocalLoss(targets, logits, options?)`: every key optional; an unknown key throws. */
export interface VarifocalLossOptions {
  /**
   * Weight of the negatives (q = 0): α p^γ.
   *
   * Valid: a number in [0, 1]. Default: 0.75.
   */
  alpha?: number;
  /**
   * Focusing exponent of the negatives.
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  gamma?: number;
  /**
   * Weight of the positives: their target q (mmdet `iou_weighted`), or 1 with `false`.
   *
   * Valid: `true` or `false`. Default: true.
   */
  iouWeighted?: boolean;
  /**
   * Weights of the elementwise losses (shape `logits.shape` or broadcastable).
   *
   * Valid: a finite number, or a Tensor broadcastable to the loss. Default: none.
   */
  weights?: tf.Tensor | number;
  /**
   * How the elementwise losses are reduced.
   *
   * Valid: `tf.Reduction.*`. Default: `SUM_BY_NONZERO_WEIGHTS`.
   */
  reduction?: tf.Reduction;
}

/** The config of `varifocalCrossentropy(config?)`: every key optional; an unknown key throws. */
export interface VarifocalCrossentropyConfig {
  /**
   * Weight of the negatives (q = 0): α p^γ.
   *
   * Valid: a number in [0, 1]. Default: 0.75.
   */
  alpha?: number;
  /**
   * Focusing exponent of the negatives.
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  gamma?: number;
  /**
   * Weight of the positives: their target q (mmdet `iou_weighted`), or 1 with `false`.
   *
   * Valid: `true` or `false`. Default: true.
   */
  iouWeighted?: boolean;
}

/** The validated config of `varifocalCrossentropy(config?)`, defaults filled in (the loss function's `config`). */
export interface ResolvedVarifocalCrossentropyConfig {
  /**
   * Weight of the negatives (q = 0): α p^γ.
   *
   * Valid: a number in [0, 1]. Default: 0.75.
   */
  alpha: number;
  /**
   * Focusing exponent of the negatives.
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  gamma: number;
  /**
   * Weight of the positives: their target q (mmdet `iou_weighted`), or 1 with `false`.
   *
   * Valid: `true` or `false`. Default: true.
   */
  iouWeighted: boolean;
}

/** The options of `qualityFocalLoss(targets, logits, options?)`: every key optional; an unknown key throws. */
export interface QualityFocalLossOptions {
  /**
   * Exponent β of the distance abs(q − p); at p = q the gradient is 0 (a subgradient for β < 1).
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  beta?: number;
  /**
   * Weights of the elementwise losses (shape `logits.shape` or broadcastable).
   *
   * Valid: a finite number, or a Tensor broadcastable to the loss. Default: none.
   */
  weights?: tf.Tensor | number;
  /**
   * How the elementwise losses are reduced.
   *
   * Valid: `tf.Reduction.*`. Default: `SUM_BY_NONZERO_WEIGHTS`.
   */
  reduction?: tf.Reduction;
}

/** The config of `qualityFocalCrossentropy(config?)`: every key optional; an unknown key throws. */
export interface QualityFocalCrossentropyConfig {
  /**
   * Exponent β of the distance abs(q − p); at p = q the gradient is 0 (a subgradient for β < 1).
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  beta?: number;
}

/** The validated config of `qualityFocalCrossentropy(config?)`, defaults filled in (the loss function's `config`). */
export interface ResolvedQualityFocalCrossentropyConfig {
  /**
   * Exponent β of the distance abs(q − p); at p = q the gradient is 0 (a subgradient for β < 1).
   *
   * Valid: a finite number >= 0. Default: 2.
   */
  beta: number;
}

/** The options of `asymmetricLoss(labels, logits, options?)`: every key optional; an unknown key throws. */
export interface AsymmetricLossOptions {
  /**
   * Focusing exponent of the positives: (1 − p)^γ+.
   *
   * Valid: a finite number >= 0. Default: 0.
   */
  gammaPos?: number;
  /**
   * Focusing exponent of the negatives: p_m^γ−.
   *
   * Valid: a finite number >= 0. Default: 4.
   */
  gammaNeg?: number;
  /**
   * Probability margin of the negatives: p_m = max(p − clip, 0).
   *
   * Valid: a number in [0, 1). Default: 0.05.
   */
  clip?: number;
  /**
   * Weights of the elementwise losses (shape `logits.shape` or broadcastable).
   *
   * Valid: a finite number, or a Tensor broadcastable to the loss. Default: none.
   */
  weights?: tf.Tensor | number;
  /**
   * How the elementwise losses are reduced.
   *
   * Valid: `tf.Reduction.*`. Default: `SUM_BY_NONZERO_WEIGHTS`.
   */
  reduction?: tf.Reduction;
}

/** The config of `asymmetricCrossentropy(config?)`: every key optional; an unknown key throws. */
export interface AsymmetricCrossentropyConfig {
  /**
   * Focusing exponent of the positives: (1 − p)^γ+.
   *
   * Valid: a finite number >= 0. Default: 0.
   */
  gammaPos?: number;
  /**
   * Focusing exponent of the negatives: p_m^γ−.
   *
   * Valid: a finite number >= 0. Default: 4.
   */
  gammaNeg?: number;
  /**
   * Probability margin of the negatives: p_m = max(p − clip, 0).
   *
   * Valid: a number in [0, 1). Default: 0.05.
   */
  clip?: number;
}

/** The validated config of `asymmetricCrossentropy(config?)`, defaults filled in (the loss function's `config`). */
export interface ResolvedAsymmetricCrossentropyConfig {
  /**
   * Focusing exponent of the positives: (1 − p)^γ+.
   *
   * Valid: a finite number >= 0. Default: 0.
   */
  gammaPos: number;
  /**
   * Focusing exponent of the negatives: p_m^γ−.
   *
   * Valid: a finite number >= 0. Default: 4.
   */
  gammaNeg: number;
  /**
   * Probability margin of the negatives: p_m = max(p − clip, 0).
   *
   * Valid: a number in [0, 1). Default: 0.05.
   */
  clip: number;
}
