// Validation of a loss call: the tensors, their dtypes and shapes, and the options through the
// loss's schema (./options.ts). Every check runs before any tensor is created or any path is
// chosen, and every error names the function, the argument, what was expected and what was
// received. The kernels and the native code trust what passes here.
import * as tf from '@tensorflow/tfjs';

import {formatIndex, nativeFieldsOf, renameNativeError} from '../errors';
import {describeValue, shapeString} from './describe';
import {logitOffsets, ResolvedLogitAdjustment, resolveOptions, ResolvedOf, Schema} from './options';

/** Checks that `x` is a live tf.Tensor. */
export function checkTensor(fn: string, argName: string, x: unknown): tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    throw new TypeError(`${fn}: ${argName} must be a tf.Tensor; received ${describeValue(x)}${
        Array.isArray(x) || typeof x === 'number' ? ` (wrap it with tf.tensor(...))` : ''}`);
  }
  if (x.isDisposed) {
    throw new Error(`${fn}: ${argName} must be a live tf.Tensor; received a Tensor of shape [${
        x.shape.join(',')}] that has already been disposed`);
  }
  return x;
}

/**
 * Who is validating: the function the user called and its documented names for the kernel's
 * inputs and options (varifocalLoss's `targets`; the Keras objects' `yTrue`, `yPred`, `config`).
 */
export interface Caller {
  fn: string;
  labels: string;
  logits: string;
  options: string;
  /**
   * The shapes of the user's own tensors, by kernel input, where the kernel gets them reshaped (a
   * Keras object's yTrue [N] for yPred [N, 1]): errors give indices in these.
   */
  shapes?: {[kernelInput: string]: number[]};
}

/** The Caller of a function that takes (labels, logits, options), or those it renames. */
export function callerOf(fn: string, names: Partial<Omit<Caller, 'fn'>> = {}): Caller {
  return {fn, labels: 'labels', logits: 'logits', options: 'options', ...names};
}

/** Every loss that takes (labels, logits): the order, said when a call looks swapped. */
function swappedHint(c: Caller): string {
  return ` — the arguments look swapped: ${c.fn} takes (${c.labels}, ${c.logits}), ${c.labels} first`;
}

function checkFloatLogits(c: Caller, logits: unknown, labels: unknown): tf.Tensor {
  const $logits = checkTensor(c.fn, c.logits, logits);
  if ($logits.dtype !== 'float32') {
    // int32 "logits" next to float "labels": class indices given first is the likely cause.
    const swapped = $logits.dtype === 'int32' && labels instanceof tf.Tensor && labels.dtype === 'float32';
    throw new TypeError(`${c.fn}: ${c.logits} must have dtype float32; received dtype ${$logits.dtype}${
        swapped ? swappedHint(c) : ` (cast with tf.cast(${c.logits}, 'float32'))`}`);
  }
  return $logits;
}

/**
 * The hint for a float "labels" tensor with values outside [0, 1]: when the "logits" next to it
 * are all inside [0, 1] (one-hot or probabilities), the arguments were most likely swapped. Reads
 * the logits' values: call it on the error path only.
 */
export function swappedValuesHint(c: Caller, labels: tf.Tensor, logits: tf.Tensor): string {
  if (labels.dtype !== 'float32' || logits.dtype !== 'float32' || logits.isDisposed) {
    return '';
  }
  const inside = tf.tidy(() => tf.all(tf.logicalAnd(tf.greaterEqual(logits, 0), tf.lessEqual(logits, 1))));
  const swapped = inside.dataSync()[0] !== 0;
  inside.dispose();
  return swapped ? swappedHint(c) : '';
}

/**
 * An error from the kernel or the composite (lib/errors.ts rethrowNative), reported as `c.fn` with
 * its argument names, and for labels outside [0, 1] next to logits (`fromLogits`) the
 * swapped-arguments hint where it applies.
 */
export function inputError(c: Caller, error: unknown, labels: tf.Tensor, logits: tf.Tensor,
                           fromLogits: boolean): unknown {
  const native = nativeFieldsOf(error);
  if (native === null) {
    return error;
  }
  const {code, argument} = native.error;
  // A finite value outside [0, 1]: a logit given as a label (NaN or Infinity is no such sign);
  // probabilities (fromLogits false) are inside [0, 1] anyway, so they are no sign either.
  const hint = code === 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL' && argument === 'labels' &&
          Number.isFinite(native.error.value) && fromLogits ?
      swappedValuesHint(c, labels, logits) : '';
  return renameNativeError(error, c.fn, {labels: c.labels, logits: c.logits}, hint, c.shapes);
}

/** Softmax losses: sparse int32 labels of logits.shape[:-1] or dense float32 of logits.shape. */
function checkSoftmaxInputs(c: Caller, labels: unknown, logits: unknown): [tf.Tensor, tf.Tensor] {
  const fn = c.fn;
  const $logits = checkFloatLogits(c, logits, labels);
  const $labels = checkTensor(fn, c.labels, labels);
  if ($logits.rank < 2) {
    throw new RangeError(`${fn}: logits must have rank >= 2 ([..., numClasses], class axis last); ` +
        `received shape ${shapeString($logits.shape)}${
            $logits.rank === 1 ? ' (for a single sample use logits.expandDims(0))' : ''}`);
  }
  const classes = $logits.shape[$logits.rank - 1];
  if (classes === 0) {
    throw new RangeError(`${fn}: the class axis (last axis) of logits must have size > 0; ` +
        `received shape ${shapeString($logits.shape)}`);
  }
  const sparseShape = $logits.shape.slice(0, -1);
  if ($labels.dtype === 'int32') {
    if (!tf.util.arraysEqual($labels.shape, sparseShape)) {
      throw new RangeError(`${fn}: sparse int32 labels must have shape logits.shape[:-1] = ${
          shapeString(sparseShape)}; received shape ${shapeString($labels.shape)}${
          tf.util.arraysEqual($labels.shape, $logits.shape) ?
              ' (one-hot labels must be float32: tf.cast(labels, \'float32\'))' :
              ($labels.rank === $logits.rank && $labels.shape[$labels.rank - 1] === 1 ?
                   ' (squeeze the last axis: labels.squeeze([-1]))' : '')}`);
    }
  } else if ($labels.dtype === 'float32') {
    if (!tf.util.arraysEqual($labels.shape, $logits.shape)) {
      const unitAxis = $labels.rank === $logits.rank && $labels.shape[$labels.rank - 1] === 1 &&
          tf.util.arraysEqual($labels.shape.slice(0, -1), sparseShape);
      throw new RangeError(`${fn}: dense float32 labels must have the shape of logits ${
          shapeString($logits.shape)}; received shape ${shapeString($labels.shape)}${
          tf.util.arraysEqual($labels.shape, sparseShape) ?
              ' (class-index labels must be int32: tf.cast(labels, \'int32\'))' :
              unitAxis ? ' (class-index labels: squeeze the last axis and cast, ' +
                      'tf.cast(labels.squeeze([-1]), \'int32\'))' : ''}`);
    }
  } else {
    throw new TypeError(`${fn}: labels must be int32 class indices of shape ${
        shapeString(sparseShape)} or float32 (one-hot or soft) labels of shape ${
        shapeString($logits.shape)}; received dtype ${$labels.dtype}`);
  }
  return [$labels, $logits];
}

/** Elementwise (sigmoid) losses: float32 targets of the shape of the logits. */
function checkElementwiseInputs(c: Caller, labels: unknown, logits: unknown):
    [tf.Tensor, tf.Tensor] {
  const {fn, labels: name} = c;
  const $logits = checkFloatLogits(c, logits, labels);
  const $labels = checkTensor(fn, name, labels);
  if ($labels.dtype !== 'float32') {
    throw new TypeError(`${fn}: ${name} must be float32 targets in [0, 1] of the shape of ${c.logits} ${
        shapeString($logits.shape)}; received dtype ${$labels.dtype} (cast with tf.cast(${name}, ` +
        `'float32'))`);
  }
  if (!tf.util.arraysEqual($labels.shape, $logits.shape)) {
    throw new RangeError(`${fn}: ${name} must have the shape of ${c.logits} ${
        shapeString($logits.shape)}; received shape ${shapeString($labels.shape)}`);
  }
  return [$labels, $logits];
}

/** A validated call: the tensors and the options with defaults filled in. */
export interface ValidatedCall<S extends Schema> {
  labels: tf.Tensor;
  logits: tf.Tensor;
  options: ResolvedOf<S>;
}

/**
 * The logit adjustment acts on the logits: it needs `fromLogits: true`; `argName` is 'options' or
 * 'config'.
 */
export function checkLogitsOnlyOptions(
    fn: string, argName: string, o: {fromLogits: boolean, logitAdjustment?: unknown}): void {
  if (!o.fromLogits && o.logitAdjustment != null) {
    throw new TypeError(`${fn}: ${argName}.logitAdjustment applies only to logits (${argName}.fromLogits ` +
        `true); received fromLogits false`);
  }
}

/**
 * A softmax loss call (class axis last). `ignoreIndex`, where the schema has it, applies to
 * sparse labels only; the logit adjustment, where given, is returned as its per-class offsets.
 */
export function validateSoftmaxCall<S extends Schema>(
    c: Caller, schema: S, labels: unknown, logits: unknown, options: unknown):
    ValidatedCall<S> & {logitOffsets: number[] | null} {
  const fn = c.fn;
  const [$labels, $logits] = checkSoftmaxInputs(c, labels, logits);
  const resolved = resolveOptions(fn, schema, options, {
    classes: $logits.shape[$logits.rank - 1],
    lossShape: $logits.shape.slice(0, -1),
  }, c.options);
  const ignoreIndex = (resolved as {ignoreIndex?: number | null}).ignoreIndex;
  if (ignoreIndex != null && $labels.dtype !== 'int32') {
    throw new TypeError(`${fn}: ${c.options}.ignoreIndex applies only to sparse int32 labels; ` +
        `received dense ${$labels.dtype} labels of shape ${shapeString($labels.shape)} ` +
        `(give ignored rows weight 0 through options.weights instead)`);
  }
  const logitsOnly = resolved as {fromLogits: boolean, logitAdjustment?: ResolvedLogitAdjustment | null};
  checkLogitsOnlyOptions(fn, c.options, logitsOnly);
  const adjustment = logitsOnly.logitAdjustment ?? null;
  return {labels: $labels, logits: $logits, options: resolved,
          logitOffsets: adjustment === null ? null : logitOffsets(adjustment)};
}

/**
 * An elementwise (sigmoid) loss call. `normalizeByPositives`, where the schema has it, replaces
 * `reduction`, so the two cannot be given together.
 */
export function validateElementwiseCall<S extends Schema>(
    c: Caller, schema: S, labels: unknown, logits: unknown, options: unknown): ValidatedCall<S> {
  const fn = c.fn;
  const [$labels, $logits] = checkElementwiseInputs(c, labels, logits);
  const resolved = resolveOptions(fn, schema, options, {lossShape: $logits.shape}, c.options);
  const given = (options ?? {}) as {reduction?: unknown};
  if ((resolved as {normalizeByPositives?: boolean}).normalizeByPositives &&
      given.reduction !== undefined) {
    throw new TypeError(`${fn}: options.reduction cannot be combined with ` +
        `options.normalizeByPositives (which already divides the summed loss by the number of ` +
        `positive labels); received reduction ${String(given.reduction)}`);
  }
  return {labels: $labels, logits: $logits, options: resolved};
}

// ---- Keras-style objects: (yTrue, yPred) -------------------------------------------------------

/** yPred must be float32 with at least `minRank` axes (errors name yPred, not logits). */
function checkYPred(fn: string, yPred: unknown, minRank: number): tf.Tensor {
  const $yPred = checkTensor(fn, 'yPred', yPred);
  if ($yPred.dtype !== 'float32') {
    throw new TypeError(`${fn}: yPred must have dtype float32; received dtype ${$yPred.dtype}`);
  }
  if ($yPred.rank < minRank) {
    throw new RangeError(`${fn}: yPred must have rank >= ${minRank}${
        minRank === 2 ? ' ([..., numClasses], classes on the last axis)' :
                        ' (the loss is averaged over the last axis)'}; received shape ${
        shapeString($yPred.shape)}`);
  }
  return $yPred;
}

/** yTrue must be a numeric tensor. */
function checkYTrue(fn: string, yTrue: unknown): tf.Tensor {
  const $yTrue = checkTensor(fn, 'yTrue', yTrue);
  if ($yTrue.dtype !== 'float32' && $yTrue.dtype !== 'int32' && $yTrue.dtype !== 'bool') {
    throw new TypeError(`${fn}: yTrue must be numeric (float32, int32 or bool); received dtype ${
        $yTrue.dtype}`);
  }
  return $yTrue;
}

/**
 * Float class indices must be integers; returns them as int32 of `targetShape`. One boolean is
 * read back; the values themselves only on the error path.
 */
function classIndicesAsInt32(fn: string, yTrue: tf.Tensor, targetShape: number[]):
    tf.Tensor {
  if (yTrue.dtype === 'int32') {
    return tf.reshape(yTrue, targetShape);
  }
  const integral = tf.tidy(() => tf.all(tf.logicalAnd(tf.isFinite(yTrue),
                                                       tf.equal(yTrue, tf.round(yTrue)))));
  const ok = integral.dataSync()[0] !== 0;
  integral.dispose();
  if (!ok) {
    const values = yTrue.dataSync();
    const bad = values.findIndex((v) => !Number.isInteger(v));
    throw new RangeError(`${fn}: yTrue must hold integer class indices; received yTrue${
        formatIndex(bad, yTrue.shape)} = ${values[bad]}`);
  }
  return tf.reshape(tf.cast(yTrue, 'int32'), targetShape);
}

/**
 * Keras categorical: yTrue one-hot (or soft) labels of the shape of yPred, returned as float32
 * (Keras casts y_true to the dtype of y_pred). Call inside tf.tidy, as the other target checks.
 */
export function checkCategoricalTargets(fn: string, yTrue: unknown, yPred: unknown):
    [tf.Tensor, tf.Tensor] {
  const $yPred = checkYPred(fn, yPred, 2);
  const $yTrue = checkYTrue(fn, yTrue);
  if (!tf.util.arraysEqual($yTrue.shape, $yPred.shape)) {
    throw new RangeError(`${fn}: yTrue must be one-hot (or soft) labels of the shape of yPred ${
        shapeString($yPred.shape)}; received shape ${shapeString($yTrue.shape)}${
        tf.util.arraysEqual($yTrue.shape, [...$yPred.shape.slice(0, -1), 1]) ||
                tf.util.arraysEqual($yTrue.shape, $yPred.shape.slice(0, -1)) ?
            ' (class indices: use sparseCategoricalFocalCrossentropy)' : ''}`);
  }
  return [$yTrue.dtype === 'float32' ? $yTrue : tf.cast($yTrue, 'float32'), $yPred];
}

/**
 * Keras sparse categorical: yTrue class indices of shape yPred.shape[:-1] (or with a unit last
 * axis), int32 or float32 holding integers; returned as int32 of shape yPred.shape[:-1].
 */
export function checkSparseTargets(fn: string, yTrue: unknown, yPred: unknown):
    [tf.Tensor, tf.Tensor] {
  const $yPred = checkYPred(fn, yPred, 2);
  const $yTrue = checkYTrue(fn, yTrue);
  const sparseShape = $yPred.shape.slice(0, -1);
  const withUnitAxis = [...sparseShape, 1];
  if (!tf.util.arraysEqual($yTrue.shape, sparseShape) &&
      !tf.util.arraysEqual($yTrue.shape, withUnitAxis)) {
    throw new RangeError(`${fn}: yTrue must hold class indices of shape ${
        shapeString(sparseShape)} or ${shapeString(withUnitAxis)} (yPred has shape ${
        shapeString($yPred.shape)}); received shape ${shapeString($yTrue.shape)}`);
  }
  if ($yTrue.dtype === 'bool') {
    throw new TypeError(`${fn}: yTrue must be int32 or float32 class indices; received dtype ` +
        `bool`);
  }
  return [classIndicesAsInt32(fn, $yTrue, sparseShape), $yPred];
}

/**
 * Keras binary: yTrue of the shape of yPred, or of yPred.shape[:-1] when the last axis of yPred
 * is 1 (returned with that unit axis), as float32.
 */
export function checkBinaryTargets(fn: string, yTrue: unknown, yPred: unknown):
    [tf.Tensor, tf.Tensor] {
  const $yPred = checkYPred(fn, yPred, 1);
  const $yTrue = checkYTrue(fn, yTrue);
  const needsUnitAxis = $yPred.shape[$yPred.rank - 1] === 1 &&
      tf.util.arraysEqual($yTrue.shape, $yPred.shape.slice(0, -1));
  if (!needsUnitAxis && !tf.util.arraysEqual($yTrue.shape, $yPred.shape)) {
    throw new RangeError(`${fn}: yTrue must have the shape of yPred ${
        shapeString($yPred.shape)}; received shape ${shapeString($yTrue.shape)}`);
  }
  const asFloat = $yTrue.dtype === 'float32' ? $yTrue : tf.cast($yTrue, 'float32');
  return [needsUnitAxis ? tf.expandDims(asFloat, -1) : asFloat, $yPred];
}

/** Checks a Keras object's (yTrue, yPred) and returns them as the kernel's (labels, logits). */
export type KerasTargetsCheck = (fn: string, yTrue: unknown, yPred: unknown) => [tf.Tensor, tf.Tensor];

/**
 * A Keras object's call `c`: yTrue and yPred through `check`, and the caller whose errors give
 * yTrue's indices in the shape the user passed, not in the kernel's.
 */
export function kerasCall(c: Caller, check: KerasTargetsCheck, yTrue: unknown, yPred: unknown):
    {labels: tf.Tensor, logits: tf.Tensor, caller: Caller} {
  const [labels, logits] = check(c.fn, yTrue, yPred);
  return {labels, logits, caller: {...c, shapes: {labels: (yTrue as tf.Tensor).shape}}};
}
