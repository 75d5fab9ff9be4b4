// The losses a comparison trains with: the defaults per task, the user's own `{name, loss}`, and
// small grids of the package's loss options (`{gamma: [0.5, 1, 2]}`), all resolved to one function
// (labels, logits) => scalar. Only the package's public API is used (lib/index.ts).
import * as tf from '@tensorflow/tfjs';

import {asymmetricLoss, classBalancedAlpha, focalLoss, sigmoidFocalLoss} from '../index';
import {CompareError} from './errors';

export type Task = 'single-label' | 'multi-label';

/**
 * A contender's loss: `labels` are int32 class indices [rows] (single-label) or float32 0/1 targets
 * [rows, labels] (binary / multi-label); `logits` are the model's raw outputs [rows, classes].
 */
export type ContenderLoss = (labels: tf.Tensor, logits: tf.Tensor) => tf.Scalar;

/** A loss of the user's own. */
export interface CustomContender {
  name: string;
  loss: ContenderLoss;
  /** One line for the report (default: "custom loss"). */
  description?: string;
}

/**
 * Options of the package's focal loss (`focalLoss` for single-label, `sigmoidFocalLoss` for binary /
 * multi-label); an array is a grid over that option (every combination becomes a contender), except
 * a single-label `alpha`, where an array is one weight per class as in `focalLoss`.
 */
export interface FocalGridContender {
  /** Prefix of the generated names (default "focal"). */
  name?: string;
  gamma?: number | number[];
  /** Single-label default 1 (no weighting); multi-label default 0.25 (RetinaNet), null: off. */
  alpha?: number | number[] | null | Array<number | null>;
  /** Single-label: α = classBalancedAlpha(training counts, effective number, β 0.999). */
  classBalanced?: boolean;
  /** Single-label: logit adjustment by the training counts with this τ. */
  tau?: number | number[];
  polyEpsilon?: number | number[];
  labelSmoothing?: number | number[];
}

export type ContenderSpec = CustomContender | FocalGridContender;

export interface Contender {
  name: string;
  description: string;
  /** Whether it needs every class in the training split (class-balanced α, logit adjustment). */
  needsCounts: boolean;
  /** Builds the loss once the training counts are known. */
  build(classCounts: number[]): ContenderLoss;
}

/** Class-balanced weights: Cui et al. (2019) inverse effective number of samples. */
export const CLASS_BALANCE = {method: 'effective' as const, beta: 0.999};

export const CROSS_ENTROPY: Contender = {
  name: 'cross-entropy', description: 'tf.losses.softmaxCrossEntropy (one-hot labels)', needsCounts: false,
  build: () => (labels, logits) => tf.losses.softmaxCrossEntropy(
      tf.cast(tf.oneHot(labels as tf.Tensor1D, logits.shape[logits.shape.length - 1]), 'float32'), logits) as tf.Scalar,
};

export const BINARY_CROSS_ENTROPY: Contender = {
  name: 'binary cross-entropy', description: 'tf.losses.sigmoidCrossEntropy', needsCounts: false,
  build: () => (labels, logits) => tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar,
};

const GRID_KEYS = ['name', 'gamma', 'alpha', 'classBalanced', 'tau', 'polyEpsilon', 'labelSmoothing'];

function isCustom(spec: ContenderSpec): spec is CustomContender {
  return typeof (spec as CustomContender).loss === 'function' || 'loss' in spec;
}

function valuesOf<T>(value: T | T[] | undefined, fallback: T, grid: boolean): T[] {
  if (value === undefined) {
    return [fallback];
  }
  return grid && Array.isArray(value) ? value : [value as T];
}

function cartesian(lists: Array<unknown[]>): unknown[][] {
  return lists.reduce<unknown[][]>((rows, list) => rows.flatMap((row) => list.map((v) => [...row, v])), [[]]);
}

/** A focal contender from one point of a grid. */
function focalContender(task: Task, prefix: string | undefined, point: {
  gamma: number; alpha: number | number[] | null; classBalanced: boolean; tau: number | undefined;
  polyEpsilon: number; labelSmoothing: number;
}): Contender {
  const {gamma, alpha, classBalanced, tau, polyEpsilon, labelSmoothing} = point;
  const parts: string[] = [];
  if (classBalanced) {
    parts.push('class-balanced');
  }
  if (tau !== undefined) {
    parts.push('logit-adjusted');
  }
  parts.push(prefix ?? (gamma === 0 && task === 'single-label' ? 'CE' : 'focal'));
  const details: string[] = [];
  if (prefix !== undefined || gamma !== 0 || task === 'multi-label') {
    details.push(`γ ${gamma}`);
  }
  if (task === 'multi-label' || (!classBalanced && alpha !== 1)) {
    details.push(`α ${alpha === null ? 'off' : Array.isArray(alpha) ? `[${alpha.join(', ')}]` : alpha}`);
  }
  if (tau !== undefined) {
    details.push(`τ ${tau}`);
  }
  if (polyEpsilon !== 0) {
    details.push(`Poly-1 ε ${polyEpsilon}`);
  }
  if (labelSmoothing !== 0) {
    details.push(`label smoothing ${labelSmoothing}`);
  }
  const name = [...parts, ...details].join(' ');
  const shared = {gamma, polyEpsilon, labelSmoothing};
  if (task === 'multi-label') {
    return {
      name, needsCounts: false,
      description: `sigmoidFocalLoss(${JSON.stringify({...shared, alpha})})`,
      build: () => (labels, logits) => sigmoidFocalLoss(labels, logits, {...shared, alpha: alpha as number | null}) as tf.Scalar,
    };
  }
  const alphaText = classBalanced ? `classBalancedAlpha(counts, ${JSON.stringify(CLASS_BALANCE)})` : JSON.stringify(alpha);
  const adjustmentText = tau === undefined ? '' : `, logitAdjustment: {classCounts: counts, tau: ${tau}}`;
  return {
    name, needsCounts: classBalanced || tau !== undefined,
    description: `focalLoss(${JSON.stringify(shared).slice(0, -1)}, "alpha": ${alphaText}${adjustmentText}})`,
    build: (counts) => {
      const classAlpha = classBalanced ? classBalancedAlpha(counts, CLASS_BALANCE) : alpha as number | number[];
      const options = {...shared, alpha: classAlpha,
                       ...(tau === undefined ? {} : {logitAdjustment: {classCounts: counts, tau}})};
      return (labels, logits) => focalLoss(labels, logits, options) as tf.Scalar;
    },
  };
}

/** Every contender of one spec (a grid gives several). */
export function expandContender(spec: ContenderSpec, task: Task, index: number): Contender[] {
  const where = `options.contenders[${index}]`;
  if (spec === null || typeof spec !== 'object') {
    throw new CompareError(`${where}: expected {name, loss} or focal options such as {gamma: [0.5, 1, 2]}; ` +
                           `received ${String(spec)}`);
  }
  if (isCustom(spec)) {
    if (typeof spec.name !== 'string' || spec.name.trim() === '' || typeof spec.loss !== 'function') {
      throw new CompareError(`${where}: a custom contender needs a non-empty string 'name' and a function ` +
                             "'loss(labels, logits)' returning a scalar tensor");
    }
    return [{name: spec.name, description: spec.description ?? 'custom loss', needsCounts: false,
             build: () => spec.loss}];
  }
  const unknown = Object.keys(spec).filter((k) => !GRID_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new CompareError(`${where}: unknown key '${unknown[0]}'; a grid takes ${GRID_KEYS.join(', ')} ` +
                           "(or give {name, loss} for a loss of your own)");
  }
  if (task === 'multi-label' && (spec.classBalanced || spec.tau !== undefined)) {
    throw new CompareError(`${where}: classBalanced and tau are for single-label (softmax) tasks; this task is ` +
                           'binary / multi-label (sigmoid): use alpha');
  }
  const single = task === 'single-label';
  const lists: Array<unknown[]> = [
    valuesOf(spec.gamma, 2, true),
    spec.classBalanced ? [null] : valuesOf<unknown>(spec.alpha, single ? 1 : 0.25, !single),
    spec.tau === undefined ? [undefined] : valuesOf(spec.tau, 1, true),
    valuesOf(spec.polyEpsilon, 0, true),
    valuesOf(spec.labelSmoothing, 0, true),
  ];
  for (const [key, list] of [['gamma', lists[0]], ['tau', lists[2]], ['polyEpsilon', lists[3]],
                             ['labelSmoothing', lists[4]]] as const) {
    if (list.length === 0 || list.some((v) => v !== undefined && (typeof v !== 'number' || !Number.isFinite(v)))) {
      throw new CompareError(`${where}.${key}: expected a finite number or a non-empty array of them; received ` +
                             JSON.stringify((spec as Record<string, unknown>)[key]));
    }
  }
  const points = cartesian(lists);
  return points.map(([gamma, alpha, tau, polyEpsilon, labelSmoothing]) => {
    const contender = focalContender(task, spec.name, {
      gamma: gamma as number, alpha: alpha as number | number[] | null, classBalanced: spec.classBalanced === true,
      tau: tau as number | undefined, polyEpsilon: polyEpsilon as number, labelSmoothing: labelSmoothing as number,
    });
    // A named single point keeps its name as given; a named grid uses it as the prefix of its points.
    return points.length === 1 && spec.name !== undefined ? {...contender, name: spec.name} : contender;
  });
}

/** The default contenders of a task (the first is the baseline). */
export function defaultContenders(task: Task): ContenderSpec[] {
  if (task === 'single-label') {
    return [
      {gamma: [1, 2]},
      {gamma: 0, classBalanced: true}, {gamma: 2, classBalanced: true},
      {gamma: 0, tau: [1, 0.5]}, {gamma: 2, tau: 1},
      {name: 'Poly-1 CE', gamma: 0, polyEpsilon: 1},
    ];
  }
  return [
    {gamma: 2, alpha: 0.25},
    {name: 'asymmetric', loss: (labels, logits) => asymmetricLoss(labels, logits) as tf.Scalar,
     description: 'asymmetricLoss (γ+ 0, γ− 4, clip 0.05)'},
    {name: 'Poly-1 BCE', gamma: 0, alpha: null, polyEpsilon: 1},
  ];
}

/** The baseline and every contender, names unique. */
export function resolveContenders(specs: ContenderSpec[] | undefined, task: Task): Contender[] {
  if (specs !== undefined && !Array.isArray(specs)) {
    throw new CompareError('options.contenders: expected an array of {name, loss} or focal options; received ' +
                           typeof specs);
  }
  const baseline = task === 'single-label' ? CROSS_ENTROPY : BINARY_CROSS_ENTROPY;
  const contenders = [baseline, ...(specs ?? defaultContenders(task)).flatMap((s, i) => expandContender(s, task, i))];
  const seen = new Set<string>();
  for (const c of contenders) {
    if (seen.has(c.name)) {
      throw new CompareError(`options.contenders: two contenders are named '${c.name}'` +
                             (c.name === baseline.name ? ' (the baseline is always included)' : '') +
                             '; give each a different name');
    }
    seen.add(c.name);
  }
  return contenders;
}
