// classBalancedAlpha: per-class alpha from class frequencies, for focalLoss({alpha}).
import * as tf from '@tensorflow/tfjs';

import {describeValue, shapeString} from '../validation/describe';
import {checkTensor} from '../validation/inputs';
import {checkOptionKeys} from '../validation/options';

export interface ClassBalancedAlphaOptions {
  /**
   * 'inverse': w_c proportional to n_max / n_c (inverse frequency).
   * 'effective': w_c proportional to (1 - beta) / (1 - beta^n_c), the inverse "effective number
   * of samples" of Cui et al., "Class-Balanced Loss Based on Effective Number of Samples" (2019).
   */
  method: 'inverse' | 'effective';
  /** 'effective' only: beta in [0, 1); 0 gives equal weights, beta -> 1 approaches 'inverse'. */
  beta?: number;
  /**
   * Number of classes. Required when `counts` is an int32 tensor of class indices; for float32
   * one-hot labels it must equal their last axis if given.
   */
  numClasses?: number;
}

const FN = 'classBalancedAlpha';
const OPTION_KEYS = ['method', 'beta', 'numClasses'];

/**
 * Per-class weights from class counts, normalized so that they average 1 over the classes that
 * occur (Cui et al.: sum_c w_c = number of classes), ready for `focalLoss(..., {alpha})`.
 *
 * @param counts the number of samples per class (finite, >= 0, at least one > 0), or a label
 *     tensor to count: int32 class indices of any shape (needs `numClasses`; values must lie in
 *     [0, numClasses)), or float32 one-hot / soft labels `[..., C]` (rank >= 2), summed over all
 *     but the last axis.
 * @param options `method` ('inverse' | 'effective'), `beta` (default 0.999), `numClasses`.
 * @returns one weight per class.
 *
 * A class with count 0 gets weight 0, and the normalization runs over the classes that do occur:
 * its inverse frequency would be infinite, and a class absent from the data being counted has no
 * samples whose loss it could weight. If that class can appear later (e.g. counts from a training
 * subset), give it a count of at least 1 instead.
 */
export function classBalancedAlpha(counts: number[] | tf.Tensor,
                                   options: ClassBalancedAlphaOptions): number[] {
  const given = checkOptionKeys<ClassBalancedAlphaOptions>(FN, options, OPTION_KEYS);
  if (options === undefined || options === null) {
    throw new TypeError(`${FN}: options.method must be 'inverse' or 'effective'; received ` +
        `no options`);
  }
  const method = given.method;
  if (method !== 'inverse' && method !== 'effective') {
    throw new TypeError(`${FN}: options.method must be 'inverse' or 'effective'; received ${
        describeValue(method)}`);
  }
  let beta = 0.999;
  if (given.beta !== undefined) {
    if (typeof given.beta !== 'number') {
      throw new TypeError(`${FN}: options.beta must be a number in [0, 1); received ${
          describeValue(given.beta)}`);
    }
    if (!(given.beta >= 0 && given.beta < 1)) {
      throw new RangeError(`${FN}: options.beta must be a number in [0, 1); received ${
          given.beta}`);
    }
    if (method !== 'effective') {
      throw new TypeError(`${FN}: options.beta applies only to method 'effective'; received ` +
          `method '${method}' with beta ${given.beta}`);
    }
    beta = given.beta;
  }
  let numClasses: number | undefined;
  if (given.numClasses !== undefined) {
    if (typeof given.numClasses !== 'number' || !Number.isInteger(given.numClasses) ||
        given.numClasses < 1) {
      throw new RangeError(`${FN}: options.numClasses must be an integer >= 1; received ${
          describeValue(given.numClasses)}`);
    }
    numClasses = given.numClasses;
  }

  const classCounts = counts instanceof tf.Tensor ? countLabels(counts, numClasses) :
                                                     checkCounts(counts, numClasses);
  const raw = classCounts.map((n) => {
    if (n === 0) {
      return 0;
    }
    if (method === 'inverse') {
      return 1 / n;  // n_max / n_c up to the constant n_max, which the normalization removes
    }
    // 1 - beta^n = -expm1(n log beta) keeps precision for beta close to 1; beta = 0 gives 1.
    return (1 - beta) / -Math.expm1(n * Math.log(beta));
  });
  const present = classCounts.filter((n) => n > 0).length;
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => (w * present) / total);
}

function checkCounts(counts: unknown, numClasses: number | undefined): number[] {
  if (!Array.isArray(counts) && !(counts instanceof Float32Array) &&
      !(counts instanceof Float64Array) && !(counts instanceof Int32Array)) {
    throw new TypeError(`${FN}: counts must be an array of per-class counts or a label tensor; ` +
        `received ${describeValue(counts)}`);
  }
  const values = Array.from(counts as ArrayLike<unknown>);
  if (values.length === 0) {
    throw new RangeError(`${FN}: counts must have one entry per class (at least one); received ` +
        `an empty array`);
  }
  values.forEach((n, i) => {
    if (typeof n !== 'number') {
      throw new TypeError(`${FN}: counts[${i}] must be a finite number >= 0; received ${
          describeValue(n)}`);
    }
    if (!Number.isFinite(n) || n < 0) {
      throw new RangeError(`${FN}: counts[${i}] must be a finite number >= 0; received ${n}`);
    }
  });
  if (numClasses !== undefined && numClasses !== values.length) {
    throw new RangeError(`${FN}: options.numClasses (${numClasses}) must equal the length of ` +
        `counts; received ${values.length} counts`);
  }
  const numbers = values as number[];
  if (!numbers.some((n) => n > 0)) {
    throw new RangeError(`${FN}: counts must contain at least one class with a count > 0; ` +
        `received all zeros [${numbers.join(', ')}]`);
  }
  return numbers;
}

/** Counts from a label tensor: int32 indices (bincount) or float32 [..., C] (column sums). */
function countLabels(labels: tf.Tensor, numClasses: number | undefined): number[] {
  const $labels = checkTensor(FN, 'counts', labels);
  let counts: number[];
  if ($labels.dtype === 'int32') {
    if (numClasses === undefined) {
      throw new TypeError(`${FN}: options.numClasses is required to count int32 class-index ` +
          `labels (classes that never occur would otherwise be invisible); received labels of ` +
          `shape ${shapeString($labels.shape)} and no numClasses`);
    }
    const values = $labels.dataSync();
    counts = new Array<number>(numClasses).fill(0);
    for (let i = 0; i < values.length; i++) {
      const c = values[i];
      if (c < 0 || c >= numClasses) {
        throw new RangeError(`${FN}: label ${c} at flat index ${i} is out of range [0, ${
            numClasses}) (options.numClasses = ${numClasses})`);
      }
      counts[c]++;
    }
  } else if ($labels.dtype === 'float32') {
    if ($labels.rank < 2) {
      throw new RangeError(`${FN}: float32 labels are counted as one-hot / soft labels ` +
          `[..., numClasses] and must have rank >= 2; received shape ${
              shapeString($labels.shape)} (class indices must be int32: tf.cast(labels, 'int32'))`);
    }
    const classes = $labels.shape[$labels.rank - 1];
    if (numClasses !== undefined && numClasses !== classes) {
      throw new RangeError(`${FN}: options.numClasses (${numClasses}) must equal the last axis ` +
          `of the one-hot labels; received labels of shape ${shapeString($labels.shape)}`);
    }
    const values = $labels.dataSync();
    counts = new Array<number>(classes).fill(0);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v) || v < 0) {
        throw new RangeError(`${FN}: one-hot / soft labels must be finite and >= 0; received ${
            v} at flat index ${i}`);
      }
      counts[i % classes] += v;
    }
  } else {
    throw new TypeError(`${FN}: a label tensor must be int32 class indices or float32 one-hot ` +
        `labels; received dtype ${$labels.dtype}`);
  }
  return checkCounts(counts, numClasses ?? counts.length);
}
