// Seeded random data and error measures shared by the numerical test suites.

import * as tf from '@tensorflow/tfjs-core';
import type { ReferenceReduction } from './reference';

// jest runs test code inside a vm context, where each lookup of a global (Math, Number, ...) goes
// through an interceptor and costs ~20x the arithmetic around it; hot loops use this module alias.
const M = Math;
const isFiniteNumber = Number.isFinite;

/** mulberry32: small, fast, reproducible. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = M.imul(t ^ (t >>> 15), t | 1);
    t ^= t + M.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }
  /** Integer in [low, high). */
  int(low: number, high: number): number {
    return low + M.floor(this.next() * (high - low));
  }
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return M.sqrt(-2 * M.log(u)) * M.cos(2 * M.PI * v);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)];
  }
  float32Normal(count: number, scale: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.normal() * scale;
    return out;
  }
  float32Uniform(count: number, low: number, high: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.uniform(low, high);
    return out;
  }
  sparseLabels(count: number, classes: number): Int32Array {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.int(0, classes);
    return out;
  }
  oneHot(labels: Int32Array, classes: number): Float32Array {
    const out = new Float32Array(labels.length * classes);
    labels.forEach((t, i) => {
      out[i * classes + t] = 1;
    });
    return out;
  }
  /** Rows of a random probability distribution (soft labels). */
  softLabels(rows: number, classes: number): Float32Array {
    const out = new Float32Array(rows * classes);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      const row = new Float64Array(classes);
      for (let j = 0; j < classes; j++) {
        row[j] = -M.log(1 - this.next()); // Dirichlet(1): normalised exponentials
        s += row[j];
      }
      for (let j = 0; j < classes; j++) out[i * classes + j] = row[j] / s;
    }
    return out;
  }
  /** Split `rows` into a shape of the given rank whose last entry is `classes`. */
  shapeFor(rows: number, classes: number, rank: number): number[] {
    if (rank === 2) return [rows, classes];
    const divisors: number[] = [];
    for (let d = 1; d <= rows; d++) if (rows % d === 0) divisors.push(d);
    const first = this.pick(divisors);
    if (rank === 3) return [first, rows / first, classes];
    const restDivisors = divisors.filter((d) => (rows / first) % d === 0);
    const second = this.pick(restDivisors);
    return [first, second, rows / first / second, classes];
  }
}

export interface ErrorReport {
  worstIndex: number;
  got: number;
  expected: number;
  error: number;
  allowed: number;
}

/**
 * Elementwise check |got - expected| <= rtol |expected| + atol. Returns null when every element
 * passes, else the element that exceeds its allowance by the largest factor. Non-finite got values
 * fail unless expected is the same non-finite value.
 */
export function worstRelativeError(
  got: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol = 0,
): ErrorReport | null {
  if (got.length !== expected.length) {
    throw new Error(`length mismatch: got ${got.length} values, expected ${expected.length}`);
  }
  let worst: ErrorReport | null = null;
  let worstRatio = 1;
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const e = expected[i];
    if (!isFiniteNumber(g) || !isFiniteNumber(e)) {
      if (g === e || (g !== g && e !== e)) continue;
      return { worstIndex: i, got: g, expected: e, error: Infinity, allowed: 0 };
    }
    const error = M.abs(g - e);
    const allowed = rtol * M.abs(e) + atol;
    const ratio = allowed > 0 ? error / allowed : error > 0 ? Infinity : 0;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = { worstIndex: i, got: g, expected: e, error, allowed };
    }
  }
  return worst;
}

export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = M.max(m, M.abs(values[i]));
  return m;
}

/** The smallest normal float32: below it float32 results carry no relative precision. */
export const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * Throws a descriptive Error unless got matches expected elementwise within rtol (relative) and
 * atol (absolute). `what` names the quantity and the case so a failure says what, where, got and
 * expected.
 */
export function expectAllClose(
  what: string,
  got: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol = FLOAT32_MIN_NORMAL,
): void {
  const worst = worstRelativeError(got, expected, rtol, atol);
  if (worst) {
    throw new Error(
      `${what}: element ${worst.worstIndex}: got ${worst.got}, expected ${worst.expected} ` +
        `(|error| ${worst.error.toExponential(3)} > allowed ${worst.allowed.toExponential(3)}; ` +
        `rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Gradient check: every element within tol * max|expected| of the expected gradient. */
export function expectGradientClose(
  what: string,
  got: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  scale = maxAbs(expected),
): void {
  expectAllClose(`${what} (tolerance ${tol} x max|grad| = ${tol} x ${scale.toExponential(3)})`, got, expected, 0, tol * scale);
}

export function expectAllFinite(what: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!isFiniteNumber(values[i])) throw new Error(`${what}: element ${i} is ${values[i]}, expected a finite number`);
  }
}

/** tf.Reduction's numeric values (tfjs-core loss_ops_utils) mapped to the reference's names. */
export function referenceReduction(reduction: number | undefined): ReferenceReduction {
  switch (reduction) {
    case 0:
      return 'none';
    case 1:
      return 'mean';
    case 2:
      return 'sum';
    case undefined:
    case 3:
      return 'sumByNonzeroWeights';
    default:
      throw new Error(`unknown tf.Reduction ${reduction}`);
  }
}

/** Picks `count` distinct indices in [0, size), always including the first and the last. */
export function sampleIndices(rng: Rng, size: number, count: number): number[] {
  if (size <= count) return Array.from({ length: size }, (_, i) => i);
  const chosen = new Set<number>([0, size - 1]);
  while (chosen.size < count) chosen.add(rng.int(0, size));
  return [...chosen].sort((a, b) => a - b);
}

/**
 * Runs fn inside tf.tidy and returns the values of the tensors it returns (null stays null), then
 * disposes them. Returning dataSync() arrays from tf.tidy itself would make tidy walk every element
 * of them looking for tensors: seconds for millions of elements.
 */
export function tidyRead(fn: () => Array<tf.Tensor | null>): Array<Float32Array | null> {
  const tensors = tf.tidy(() => fn() as tf.TensorContainer) as Array<tf.Tensor | null>;
  try {
    return tensors.map((t) => (t ? (t.dataSync() as Float32Array) : null));
  } finally {
    tensors.forEach((t) => t?.dispose());
  }
}
