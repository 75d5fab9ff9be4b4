// Summaries over seeds and the paired comparison of two contenders with its verdict. The rule: a
// difference *exceeds the seed-to-seed spread* only when the ranges [min, max] over seeds of the two
// contenders do not overlap (then every seed agrees on the direction); anything else is reported as
// no difference shown.
import {standardDeviation, Summary, summarize} from './stats';

export interface MetricSummary extends Summary {
  /** Per seed, in seed order. */
  values: number[];
}

export function metricSummary(values: number[]): MetricSummary {
  return {...summarize(values), values};
}

export interface PairedComparison<M extends string = string> {
  metric: M;
  /** The contender and the baseline it is compared with. */
  a: string;
  b: string;
  /** mean(a) − mean(b) over seeds. */
  meanDifference: number;
  /** Per seed a − b (same seed = same initial weights and batch order). */
  pairedDifferences: number[];
  pairedSd: number;
  /** Seeds where a > b, a < b. */
  seedsHigher: number;
  seedsLower: number;
  /** The ranges [min, max] over seeds of a and b do not overlap. */
  exceedsSpread: boolean;
  verdict: string;
}

export const VERDICT_RULE = 'a difference exceeds the seed-to-seed spread only when the ranges [min, max] over seeds ' +
    'of the two contenders do not overlap (then every seed agrees on the direction); anything else is reported as ' +
    'no difference shown.';

export function pairedComparison<M extends string>(metric: M, a: string, sa: MetricSummary, b: string,
                                                   sb: MetricSummary): PairedComparison<M> {
  const paired = sa.values.map((v, i) => v - sb.values[i]);
  const seedsHigher = paired.filter((d) => d > 0).length;
  const seedsLower = paired.filter((d) => d < 0).length;
  const exceedsSpread = sa.n >= 2 && (sa.min > sb.max || sa.max < sb.min);
  const meanDifference = sa.mean - sb.mean;
  let verdict: string;
  if (sa.n < 2) {
    verdict = 'one seed: spread not measured, no conclusion';
  } else if (exceedsSpread) {
    verdict = `${meanDifference > 0 ? 'higher' : 'lower'} on every seed and beyond the seed-to-seed spread`;
  } else {
    verdict = 'within the seed-to-seed spread (no difference shown)';
    // Worth knowing, not a claim: the paired seeds may still all point the same way.
    if (seedsHigher === paired.length || seedsLower === paired.length) {
      const seeds = paired.length === 2 ? 'both' : `all ${paired.length}`;
      verdict += `; ${seedsHigher > 0 ? 'higher' : 'lower'} on ${seeds} paired seeds`;
    }
  }
  return {
    metric, a, b, meanDifference, pairedDifferences: paired, pairedSd: standardDeviation(paired),
    seedsHigher, seedsLower, exceedsSpread, verdict,
  };
}
