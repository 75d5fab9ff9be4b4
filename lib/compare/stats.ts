// Statistics of the comparison (shared with the bench): robust summaries of timing samples (median
// and quartiles, because timing noise is one-sided and heavy-tailed), mean/sd for seed-to-seed spread,
// and a seeded random generator so every data set, shuffle and initialisation is reproducible.

export interface Summary {
  n: number;
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
  mean: number;
  sd: number;
}

/** Quantile with linear interpolation between order statistics (numpy's default, "type 7"). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const fraction = position - lower;
  return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) {
    return NaN;
  }
  let total = 0;
  for (const v of values) {
    total += v;
  }
  return total / values.length;
}

/** Sample standard deviation (n - 1); 0 for a single value, so one seed shows "no spread measured". */
export function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) {
    return 0;
  }
  const m = mean(values);
  let squares = 0;
  for (const v of values) {
    squares += (v - m) * (v - m);
  }
  return Math.sqrt(squares / (values.length - 1));
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    min: sorted.length > 0 ? sorted[0] : NaN,
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
    mean: mean(sorted),
    sd: standardDeviation(sorted),
  };
}

/**
 * mulberry32: a tiny, fast 32-bit generator. Not for cryptography; good enough to make data sets,
 * shuffles and initial weights reproducible from a seed.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Mix the seed so that nearby seeds (0, 1, 2...) start far apart.
    this.state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  nextNormal(): number {
    let u = 0;
    while (u === 0) {
      u = this.next();
    }
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

/** Formats a duration in milliseconds with about three significant digits. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) {
    return 'n/a';
  }
  if (ms >= 100) {
    return ms.toFixed(0);
  }
  if (ms >= 10) {
    return ms.toFixed(1);
  }
  if (ms >= 1) {
    return ms.toFixed(2);
  }
  return ms.toFixed(3);
}

/** A fraction (0-1) as percent or points with one decimal: 0.1234 -> "12.3"; "n/a" when not finite. */
export function formatPoints(fraction: number): string {
  return Number.isFinite(fraction) ? (100 * fraction).toFixed(1) : 'n/a';
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) {
    return 'n/a';
  }
  return ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2);
}
