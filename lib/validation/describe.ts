// How error messages show what was received: values, shapes and the closest allowed key.
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

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
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
