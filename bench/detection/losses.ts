// The classification losses the detection bench compares: one table entry per loss. The model,
// data, optimizer, schedule and box loss are the same for all; only this term changes.
//
// Every entry is `(labels, logits, context) => scalar` on the dense class outputs
// ([N, GRID, GRID, classes], labels one-hot at positive cells), normalised by the number of
// positive cells as RetinaNet does (`normalizeByPositives`: the summed loss over max(1, labels > 0)).
// The IoU-aware losses (varifocal, quality focal loss) read their quality target, the IoU of the
// predicted box, from `context.predictedIou()`.
//
// Hyper-parameters are the paper's, not searched here (the same zero search budget for each loss):
// RetinaNet Table 1a gives alpha = 0.75 as the best alpha for gamma = 0 (alpha-balanced CE), and
// Table 1b gamma = 2, alpha = 0.25 for focal loss. Every main entry starts from the paper's prior
// initialisation (class bias so that p = 0.01 everywhere).
import * as tf from '@tensorflow/tfjs-core';

import * as focal from '../../lib/index';

export interface ClassificationContext {
  /** Positive cells in the batch (the normaliser). */
  positives: number;
  /**
   * IoU of each cell's predicted box with its assigned ground-truth box, [N, GRID, GRID], 0 at
   * negative cells; no gradient flows through it. The quality target of IoU-aware losses.
   */
  predictedIou(): tf.Tensor;
}

export type ClassificationLossFn = (labels: tf.Tensor, logits: tf.Tensor, context: ClassificationContext) => tf.Scalar;

export interface ClassificationLoss {
  id: string;
  label: string;
  /** The call, as a reader would write it. */
  description: string;
  /** Initial class probability of the logit bias (RetinaNet's pi); null = bias 0 (p = 0.5). */
  prior: number | null;
  /** Ablations run in the full section only, after the main comparison. */
  ablation: boolean;
  fn: ClassificationLossFn;
}

export const PRIOR = 0.01;

function sigmoidLoss(options: focal.SigmoidFocalLossOptions): ClassificationLossFn {
  return (labels, logits) => focal.sigmoidFocalLoss(labels, logits, {...options, normalizeByPositives: true}) as tf.Scalar;
}

/** A loss of IoU-aware targets: q = one-hot labels times the predicted box's IoU per cell. */
function qualityLoss(loss: (targets: tf.Tensor, logits: tf.Tensor) => tf.Tensor): ClassificationLossFn {
  return (labels, logits, context) => tf.tidy(() => {
    const targets = tf.mul(labels, tf.expandDims(context.predictedIou(), -1));
    return tf.div(loss(targets, logits), Math.max(1, context.positives)) as tf.Scalar;
  });
}

export const CLASSIFICATION_LOSSES: ClassificationLoss[] = [
  {id: 'bce', label: 'BCE', prior: PRIOR, ablation: false,
   description: 'sigmoidFocalLoss(gamma 0, alpha null, normalizeByPositives): BCE summed / positives',
   fn: sigmoidLoss({gamma: 0, alpha: null})},
  {id: 'alpha_bce', label: 'α-balanced BCE (α 0.75)', prior: PRIOR, ablation: false,
   description: 'sigmoidFocalLoss(gamma 0, alpha 0.75, normalizeByPositives)',
   fn: sigmoidLoss({gamma: 0, alpha: 0.75})},
  {id: 'focal', label: 'focal (γ 2, α 0.25)', prior: PRIOR, ablation: false,
   description: 'sigmoidFocalLoss(gamma 2, alpha 0.25, normalizeByPositives)',
   fn: sigmoidLoss({gamma: 2, alpha: 0.25})},
  // IoU-aware losses: the quality target q is the IoU of the cell's predicted box at its class
  // (0 everywhere else), summed and divided by the positives as mmdet's VFNet and GFL heads do.
  {id: 'varifocal', label: 'varifocal (α 0.75, γ 2, IoU target)', prior: PRIOR, ablation: false,
   description: 'varifocalLoss(q = IoU of the predicted box at the positive class, SUM) / positives',
   fn: qualityLoss((q, x) => focal.varifocalLoss(q, x, {reduction: tf.Reduction.SUM}))},
  {id: 'quality_focal', label: 'quality focal (β 2, IoU target)', prior: PRIOR, ablation: false,
   description: 'qualityFocalLoss(q = IoU of the predicted box at the positive class, SUM) / positives',
   fn: qualityLoss((q, x) => focal.qualityFocalLoss(q, x, {reduction: tf.Reduction.SUM}))},
  // Ablations: the focusing parameter, and the prior initialisation.
  {id: 'focal_g1', label: 'focal (γ 1, α 0.25)', prior: PRIOR, ablation: true,
   description: 'sigmoidFocalLoss(gamma 1, alpha 0.25, normalizeByPositives)',
   fn: sigmoidLoss({gamma: 1, alpha: 0.25})},
  {id: 'bce_no_prior', label: 'BCE, bias 0 (no prior)', prior: null, ablation: true,
   description: 'as bce, class bias initialised to 0 instead of the prior 0.01',
   fn: sigmoidLoss({gamma: 0, alpha: null})},
  {id: 'focal_no_prior', label: 'focal (γ 2, α 0.25), bias 0 (no prior)', prior: null, ablation: true,
   description: 'as focal, class bias initialised to 0 instead of the prior 0.01',
   fn: sigmoidLoss({gamma: 2, alpha: 0.25})},
];

export function classificationLoss(id: string): ClassificationLoss {
  const entry = CLASSIFICATION_LOSSES.find((l) => l.id === id);
  if (entry === undefined) {
    throw new RangeError(`detection: unknown classification loss '${id}'; expected one of ` +
                         `${CLASSIFICATION_LOSSES.map((l) => l.id).join(', ')}`);
  }
  return entry;
}

/** Losses named in the report as not yet in the table. */
export const PENDING_LOSSES: string[] = [];
