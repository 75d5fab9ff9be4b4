// The comparison's figures: recall per class per contender, and the held-out curves over epochs.
import type {CompareReport} from './report_types';
import {METRIC_LABELS} from './metrics';
import {mean} from './stats';
import {barChart, LineSeries, linePanel, PALETTE, panelGrid} from './svg';
import type {EpochRecord} from './train';

/** Mean and min–max over seeds of one per-epoch quantity of one contender. */
export function curveOverSeeds(report: CompareReport, contender: string, pick: (e: EpochRecord) => number): {
  mean: Array<[number, number]>; band: Array<[number, number, number]>;
} {
  const own = report.runs.filter((r) => r.contender === contender);
  const meanCurve: Array<[number, number]> = [];
  const band: Array<[number, number, number]> = [];
  for (let e = 0; e < report.epochs; e++) {
    const values = own.map((r) => pick(r.epochs[e]));
    meanCurve.push([e + 1, mean(values)]);
    band.push([e + 1, Math.min(...values), Math.max(...values)]);
  }
  return {mean: meanCurve, band};
}

export function recallChart(report: CompareReport): string {
  return barChart({
    title: `Held-out recall per class (mean of ${report.seeds.length} seed${report.seeds.length > 1 ? 's' : ''}; ` +
           'whiskers: min–max)',
    groups: report.classNames.map((n, c) => `${n} (${report.trainCounts[c]})`),
    xLabel: 'class (training count)',
    y: {label: 'recall', min: 0, max: 1},
    series: report.summaries.map((s, i) => {
      const own = report.runs.filter((r) => r.contender === s.name);
      return {
        name: s.name, color: PALETTE[i % PALETTE.length], values: s.recallPerClass,
        low: s.recallPerClass.map((_, c) => Math.min(...own.map((r) => r.final.recallPerClass[c]))),
        high: s.recallPerClass.map((_, c) => Math.max(...own.map((r) => r.final.recallPerClass[c]))),
      };
    }),
  }, Math.max(900, 90 * report.classes * Math.max(1, report.summaries.length / 4)), 480);
}

/** Training objective, the primary metric and rare-class recall per epoch, mean over seeds with the min–max band. */
export function curvesChart(report: CompareReport): string {
  const series = (pick: (e: EpochRecord) => number): LineSeries[] => report.summaries.map((s, i) => {
    const curve = curveOverSeeds(report, s.name, pick);
    return {name: s.name, points: curve.mean, band: report.seeds.length > 1 ? curve.band : undefined,
            color: PALETTE[i % PALETTE.length], dashed: i >= PALETTE.length};
  });
  const band = report.seeds.length > 1 ? `mean of ${report.seeds.length} seeds, band = min–max` : '1 seed';
  const markers = report.epochs <= 30;
  const primary = report.primaryMetric;
  return panelGrid(`Held-out curves (${band}); rare classes ${report.rareClasses.map((c) => report.classNames[c]).join(', ')}`, [
    (box) => linePanel({title: 'Training objective (each loss its own)', x: {label: 'epoch', integer: true},
                        y: {label: 'mean batch loss (log scale)', log: true}, series: series((e) => e.trainLoss),
                        legend: 'top-right', markers}, box),
    (box) => linePanel({title: `${METRIC_LABELS[primary]} (held-out)`, x: {label: 'epoch', integer: true},
                        y: {label: METRIC_LABELS[primary], min: 0, max: 1},
                        series: series((e) => e.metrics[primary] as number), legend: 'bottom-right', markers}, box),
    (box) => linePanel({title: 'Rare-class recall (held-out)', x: {label: 'epoch', integer: true},
                        y: {label: 'mean recall of the rare classes', min: 0, max: 1},
                        series: series((e) => e.metrics.rareRecall), legend: 'bottom-right', markers}, box),
  ], 3, 540, 430);
}
