// Argument and option validation shared by the ops (sharp style): every check runs before any
// tensor is created or any native code runs, and every error names the function, the argument,
// what was expected and what was received.
import * as tf from '@tensorflow/tfjs';

/** Short human-readable description of a received value, for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (value === undefined) {
    return 'undefined';
  }
  if (value instanceof tf.Tensor) {
    return `a ${value.isDisposed ? 'disposed ' : ''}Tensor of dtype ${value.dtype} and shape [${
        value.shape.join(',')}]`;
  }
  if (typeof value === 'string') {
    return `the string '${value}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  if (typeof value === 'function') {
    return `a function${value.name ? ` (${value.name})` : ''}`;
  }
  if (Array.isArray(value)) {
    const shown = value.slice(0, 6).map((v) => (typeof v === 'object' ? describeValue(v) : String(v)));
    return `an array of length ${value.length} [${shown.join(', ')}${value.length > 6 ? ', ...' : ''}]`;
  }
  if (ArrayBuffer.isView(value)) {
    return `a ${value.constructor.name}`;
  }
  const ctor = (value as object).constructor;
  // Compared by name: objects from another realm have another Object constructor.
  return ctor && ctor.name && ctor.name !== 'Object' ? `an instance of ${ctor.name}` : 'an object';
}

function levenshtein(a: string, b: string): number {
  const previous = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) {
    previous[j] = j;
  }
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      const cost = a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1;
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length];
}

/** The allowed key closest to `key`, when it is close enough to be a plausible typo. */
export function closestKey(key: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = levenshtein(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(key.length / 3));
  return bestDistance <= tolerance ? best : null;
}

/**
 * Checks that `options` is undefined/null or a plain object whose keys are all in `allowed`.
 * A typo such as `gama` must not be silently ignored: it throws and suggests `gamma`.
 */
export function checkOptionKeys<T extends object>(
    fn: string, options: unknown, allowed: readonly string[], argName = 'options'): Partial<T> {
  if (options === undefined || options === null) {
    return {};
  }
  if (typeof options !== 'object' || Array.isArray(options) || options instanceof tf.Tensor) {
    throw new TypeError(`${fn}: ${argName} must be an object with the keys {${
        allowed.join(', ')}}; received ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const suggestion = closestKey(key, allowed);
      throw new TypeError(`${fn}: unknown option '${key}' in ${argName}${
          suggestion ? ` (did you mean '${suggestion}'?)` : ''}; expected only the keys {${
          allowed.join(', ')}}`);
    }
  }
  return options as Partial<T>;
}

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

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** A finite number >= 0 (gamma). */
export function checkNonNegativeNumber(
    fn: string, argName: string, value: unknown, defaultValue: number): number {
  if (value === undefined) {
    return defaultValue;
  }
  if (typeof value !== 'number') {
    throw new TypeError(`${fn}: ${argName} must be a finite number >= 0; received ${
        describeValue(value)}`);
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${fn}: ${argName} must be a finite number >= 0; received ${value}`);
  }
  return value;
}

/** A number in [0, 1] (label smoothing). */
export function checkUnitInterval(
    fn: string, argName: string, value: unknown, defaultValue: number): number {
  if (value === undefined) {
    return defaultValue;
  }
  if (typeof value !== 'number') {
    throw new TypeError(`${fn}: ${argName} must be a number in [0, 1]; received ${
        describeValue(value)}`);
  }
  if (!(value >= 0 && value <= 1)) {
    throw new RangeError(`${fn}: ${argName} must be a number in [0, 1]; received ${value}`);
  }
  return value;
}

export function checkBoolean(
    fn: string, argName: string, value: unknown, defaultValue: boolean): boolean {
  if (value === undefined) {
    return defaultValue;
  }
  if (typeof value !== 'boolean') {
    throw new TypeError(`${fn}: ${argName} must be a boolean (true or false); received ${
        describeValue(value)}`);
  }
  return value;
}

/**
 * Per-class or scalar alpha for the softmax loss: a finite number >= 0, or an array of exactly
 * `numClasses` finite numbers >= 0 (no upper bound: class-balanced weights average 1, so some
 * exceed 1).
 */
export function checkSoftmaxAlpha(
    fn: string, argName: string, value: unknown, numClasses: number,
    defaultValue: number): number | number[] {
  if (value === undefined) {
    return defaultValue;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${fn}: ${argName} must be a finite number >= 0 or an array of ${
          numClasses} such numbers (one per class); received ${value}`);
    }
    return value;
  }
  const isArrayLike = Array.isArray(value) || value instanceof Float32Array ||
      value instanceof Float64Array;
  if (!isArrayLike) {
    throw new TypeError(`${fn}: ${argName} must be a finite number >= 0 or an array of ${
        numClasses} such numbers (one per class); received ${describeValue(value)}${
        value instanceof tf.Tensor ? ' (pass await alpha.array() instead of a Tensor)' : ''}`);
  }
  const values = Array.from(value as ArrayLike<unknown>);
  if (values.length !== numClasses) {
    throw new RangeError(`${fn}: ${argName} must have one entry per class (length ${
        numClasses}, the size of the last axis of logits); received an array of length ${
        values.length}`);
  }
  values.forEach((v, i) => {
    if (typeof v !== 'number') {
      throw new TypeError(`${fn}: ${argName}[${i}] must be a finite number >= 0; received ${
          describeValue(v)}`);
    }
    if (!Number.isFinite(v) || v < 0) {
      throw new RangeError(`${fn}: ${argName}[${i}] must be a finite number >= 0; received ${v}`);
    }
  });
  return values as number[];
}

const REDUCTION_DESCRIPTION = 'one of tf.Reduction.NONE (0), MEAN (1), SUM (2), ' +
    'SUM_BY_NONZERO_WEIGHTS (3)';

export function checkReduction(
    fn: string, argName: string, value: unknown, defaultValue: tf.Reduction): tf.Reduction {
  if (value === undefined) {
    return defaultValue;
  }
  const valid = [tf.Reduction.NONE, tf.Reduction.MEAN, tf.Reduction.SUM,
    tf.Reduction.SUM_BY_NONZERO_WEIGHTS] as unknown[];
  if (!valid.includes(value)) {
    const hint = typeof value === 'string' && value.toUpperCase() in tf.Reduction ?
        ` (use tf.Reduction.${value.toUpperCase()})` : '';
    throw new TypeError(`${fn}: ${argName} must be ${REDUCTION_DESCRIPTION}; received ${
        describeValue(value)}${hint}`);
  }
  return value as tf.Reduction;
}

/** int32 range, for class indices coming from JS numbers. */
export function checkInt32(fn: string, argName: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${fn}: ${argName} must be an integer; received ${describeValue(value)}`);
  }
  if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    throw new RangeError(`${fn}: ${argName} must be an integer in the int32 range; received ${
        value}`);
  }
  return value;
}

/**
 * Weights for the per-sample (or per-element) loss: a finite number, or a live Tensor of numeric
 * dtype whose rank is 0 or the rank of the loss with every dimension 1 or equal to the loss's
 * (tf.losses semantics: no trailing-axis alignment that could silently pair a per-sample weight
 * with the wrong axis), and whose values are all finite (checked with one tfjs reduction and one
 * read of a boolean). Returns the validated value (not a copy), or null when none was given.
 */
export function checkWeights(
    fn: string, argName: string, value: unknown, lossShape: readonly number[]):
    tf.Tensor | number | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new RangeError(`${fn}: ${argName} must be finite; received ${value}`);
    }
    return value;
  }
  if (!(value instanceof tf.Tensor)) {
    throw new TypeError(`${fn}: ${argName} must be a tf.Tensor or a number broadcastable to the ` +
        `per-sample loss shape ${shapeString(lossShape)}; received ${describeValue(value)}`);
  }
  const weights = checkTensor(fn, argName, value);
  if (weights.dtype !== 'float32' && weights.dtype !== 'int32' && weights.dtype !== 'bool') {
    throw new TypeError(`${fn}: ${argName} must have a numeric dtype (float32, int32 or bool); ` +
        `received dtype ${weights.dtype}`);
  }
  const broadcastOk = weights.rank === 0 ||
      (weights.rank === lossShape.length &&
       weights.shape.every((d, i) => d === 1 || d === lossShape[i]));
  if (!broadcastOk) {
    throw new RangeError(`${fn}: ${argName} must be broadcastable to the per-sample loss shape ${
        shapeString(lossShape)} (rank 0, or rank ${lossShape.length} with each dimension 1 or ` +
        `equal to the loss's); received shape ${shapeString(weights.shape)}`);
  }
  if (weights.dtype === 'float32' && weights.size > 0) {
    const allFinite = tf.tidy(() => tf.all(tf.isFinite(weights)));
    const ok = allFinite.dataSync()[0] !== 0;
    allFinite.dispose();
    if (!ok) {
      throw new RangeError(`${fn}: ${argName} must contain only finite values; received a ` +
          `Tensor of shape ${shapeString(weights.shape)} containing NaN or Infinity`);
    }
  }
  return weights;
}

/** Multi-dimensional index of flat element `flat` in `shape`, as "[i, j, k]". */
export function formatIndex(flat: number, shape: readonly number[]): string {
  const index: number[] = new Array(shape.length);
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const size = shape[axis];
    index[axis] = size > 0 ? rest % size : 0;
    rest = size > 0 ? Math.floor(rest / size) : 0;
  }
  return `[${index.join(', ')}]`;
}
