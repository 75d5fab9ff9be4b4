// The detection sweep's result, from whatever runs have finished: a table per imbalance setting, the
// paired differences with BCE (lib/compare's verdict rule), the runs still missing, and a figure of
// each loss's mAP@0.5 difference from BCE against negatives per positive. Written as SWEEP.md and
// sweep_map_difference.svg next to the runs, after every finished run.
import * as fs from 'fs';
import * as path from 'path';

import {formatPoints as points, mean} from '../../lib/compare/stats';
import {LineSeries, lineChart, PALETTE, writeSvg} from '../../lib/compare/svg';
import {markdownTable} from '../../lib/compare/tables';
import {metricSummary, pairedComparison, PairedComparison, VERDICT_RULE} from '../../lib/compare/verdict';
import {classificationLoss} from './losses';
import {anchorsPhrase, ImbalanceLevel, ImbalanceMeasure, runFile, sameLevel, SWEEP_MANIFEST, SweepRunRecord,
        SweepSettings} from './sweep';

export const SWEEP_FILES = {markdown: 'SWEEP.md', figure: 'sweep_map_difference.svg'};
const BASELINE = 'bce';

export interface SweepState {
  settings: SweepSettings;
  records: SweepRunRecord[];
}

/** The settings and every finished run of the sweep in `outDir`. */
export function readSweep(outDir: string): SweepState {
  const manifest = path.join(outDir, SWEEP_MANIFEST);
  if (!fs.existsSync(manifest)) {
    throw new RangeError(`detection-sweep: no ${SWEEP_MANIFEST} in ${outDir}; start the sweep there first`);
  }
  const settings = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as {settings: SweepSettings}).settings;
  const records: SweepRunRecord[] = [];
  for (const level of settings.levels) {
    for (const loss of settings.losses) {
      for (const seed of settings.seeds) {
        const file = runFile(outDir, level, loss, seed);
        if (fs.existsSync(file)) {
          records.push(JSON.parse(fs.readFileSync(file, 'utf8')) as SweepRunRecord);
        }
      }
    }
  }
  return {settings, records};
}

function signedPoints(v: number): string {
  return `${v >= 0 ? '+' : ''}${points(v)}`;
}

/** Paired with BCE over the seeds both finished; null when fewer than one pair. */
export function differenceFromBaseline(records: SweepRunRecord[], level: ImbalanceLevel, loss: string):
    PairedComparison<'map50'> | null {
  const of = (id: string) => records.filter((r) => sameLevel(r.imbalance, level) && r.loss === id);
  const base = of(BASELINE);
  const pairs = of(loss).map((r) => [r, base.find((b) => b.seed === r.seed)] as const)
                    .filter((p): p is readonly [SweepRunRecord, SweepRunRecord] => p[1] !== undefined)
                    .sort((x, y) => x[0].seed - y[0].seed);
  if (pairs.length === 0) {
    return null;
  }
  return pairedComparison('map50', loss, metricSummary(pairs.map((p) => p[0].run.map50)), BASELINE,
                          metricSummary(pairs.map((p) => p[1].run.map50)));
}

function imbalanceOf(records: SweepRunRecord[], level: ImbalanceLevel): ImbalanceMeasure | undefined {
  return records.find((r) => sameLevel(r.imbalance, level))?.imbalance;
}

export function missingRuns(state: SweepState, level: ImbalanceLevel): string[] {
  const {settings, records} = state;
  return settings.losses.flatMap((loss) => settings.seeds.filter(
      (seed) => !records.some((r) => sameLevel(r.imbalance, level) && r.loss === loss && r.seed === seed))
      .map((seed) => `${loss} seed ${seed}`));
}

export const SWEEP_HEADER = ['loss', 'test mAP@0.5 %, mean ± sd', 'per seed', '− BCE, points (paired)',
                             'best-validation step per seed', 'steps trained per seed', 'train s / run'];

/** The run trained the whole budget with its best validation at the last evaluation: it may still have been learning. */
export function cutOffByBudget(record: SweepRunRecord, settings: SweepSettings): boolean {
  return record.run.stepsTrained >= settings.maxSteps && record.run.bestStep === record.run.stepsTrained;
}

export function settingRows(state: SweepState, level: ImbalanceLevel): string[][] {
  return state.settings.losses.flatMap((loss) => {
    const own = state.records.filter((r) => sameLevel(r.imbalance, level) && r.loss === loss)
                    .sort((a, b) => a.seed - b.seed);
    if (own.length === 0) {
      return [];
    }
    const map = own.map((r) => r.run.map50);
    const summary = metricSummary(map);
    const difference = loss === BASELINE ? null : differenceFromBaseline(state.records, level, loss);
    return [[
      classificationLoss(loss).label,
      map.length > 1 ? `${points(summary.mean)} ± ${points(summary.sd)}` : `${points(summary.mean)} (1 seed)`,
      own.map((r) => `${points(r.run.map50)} (s${r.seed})`).join(', '),
      difference === null ? '' : `${signedPoints(difference.meanDifference)} (${
          difference.pairedDifferences.length} seed${difference.pairedDifferences.length > 1 ? 's' : ''}); ${difference.verdict}`,
      own.map((r) => `${r.run.bestStep}${cutOffByBudget(r, state.settings) ? ' (budget)' : ''}`).join(', '),
      own.map((r) => String(r.run.stepsTrained)).join(', '),
      mean(own.map((r) => r.run.trainSeconds)).toFixed(0),
    ]];
  });
}

/** Each loss − BCE (mean of the paired seeds, band = min–max of the paired differences) against negatives per positive. */
export function sweepDifferenceChart(state: SweepState): string {
  const measured = state.settings.levels.map((level) => imbalanceOf(state.records, level))
                       .filter((m): m is ImbalanceMeasure => m !== undefined);
  const series: LineSeries[] = state.settings.losses.filter((l) => l !== BASELINE).map((loss, i) => {
    const cells = measured.map((m) => [m, differenceFromBaseline(state.records, m, loss)] as const)
                      .filter((c): c is readonly [ImbalanceMeasure, PairedComparison<'map50'>] => c[1] !== null);
    return {
      name: classificationLoss(loss).label, color: PALETTE[(i + 1) % PALETTE.length],
      points: cells.map(([m, d]) => [m.negativesPerPositive, 100 * d.meanDifference] as [number, number]),
      band: cells.map(([m, d]) => [m.negativesPerPositive, 100 * Math.min(...d.pairedDifferences),
                                   100 * Math.max(...d.pairedDifferences)] as [number, number, number]),
    };
  }).filter((s) => s.points.length > 0);
  series.push({name: 'BCE (0)', color: PALETTE[0], dashed: true,
               points: measured.map((m) => [m.negativesPerPositive, 0] as [number, number])});
  return lineChart({
    title: 'Test mAP@0.5, each loss − BCE (same seed; band = min–max over seeds), best-validation checkpoint',
    x: {label: 'negative class outputs per positive (log scale)', log: true},
    y: {label: 'mAP@0.5 difference, points', includeZero: true},
    series, legend: 'bottom-left', markers: true,
  });
}

/** The levels in words: the canvases of the anchor-free detector, then those with several anchors. */
function describeLevels(levels: ImbalanceLevel[]): string {
  const sides = (list: ImbalanceLevel[]) => list.map((l) => l.canvas).join(', ').replace(/, (\d+)$/, ' and $1');
  const plain = levels.filter((l) => l.anchors === 1);
  const anchored = levels.filter((l) => l.anchors > 1);
  const parts = plain.length === 0 ? [] :
      [`canvases of ${sides(plain)} px (the positives stay, the negative cells grow with the area)`];
  for (const l of anchored) {
    parts.push(`${l.canvas} px with ${l.anchors} anchors per cell (each anchor predicts every class and a box; a ` +
               'digit goes to the one anchor nearest its size, the other anchors of its cells stay negatives, as ' +
               'in RetinaNet; the anchor sides are quantiles of the training boxes\' sizes)');
  }
  return parts.join(', then ');
}

export function sweepMarkdown(state: SweepState, figure: string | null): string {
  const s = state.settings;
  const total = s.levels.length * s.losses.length * s.seeds.length;
  const out: string[] = ['## Detection sweep: imbalance × training length', ''];
  out.push(`The detection experiment (DETECTION.md's detector, data generator, box loss and prior initialisation) ` +
           `with the same digits (1–3 per canvas, 12–28 px) at ${s.levels.length} levels of imbalance: ` +
           `${describeLevels(s.levels)}. Every loss gets the same budget: at most ` +
           `${s.maxSteps} steps of ${s.batchSize} canvases (Adam, learning rate ${s.learningRate}), validation mAP@0.5 on ` +
           `${s.validationImages} canvases every ${s.evalEvery} steps, early stopping after ${s.patience} evaluations ` +
           `(${s.patience * s.evalEvery} steps) without a new best, and the test mAP@0.5 (${s.testImages} canvases) of ` +
           `the best-validation checkpoint. ${s.trainImages} training canvases, data seed ${s.dataSeed}, seeds ` +
           `${s.seeds.join(', ')}; no per-loss search (the papers' hyper-parameters). Verdict rule: ${VERDICT_RULE}`, '');
  out.push(`Finished runs: ${state.records.length} of ${total}. Compute: ${
      (state.records.reduce((n, r) => n + r.run.trainSeconds + r.run.evalSeconds, 0) / 3600).toFixed(2)} h of ` +
           `training and evaluation; commits: ${[...new Set(state.records.map((r) => r.commit ?? 'unknown'))].join(', ') || 'none'}.`, '');
  for (const level of s.levels) {
    const m = imbalanceOf(state.records, level);
    const anchors = m?.anchorSizes ? ` × ${m.anchors} anchors of ${m.anchorSizes.map((a) => a.toFixed(1)).join(', ')} px` : '';
    out.push(`### Canvas ${level.canvas}×${level.canvas}${anchorsPhrase(level)}` +
             (m === undefined ? '' :
              `: ${m.negativesPerPositive.toFixed(0)} negatives per positive (measured: ${m.positivesPerImage.toFixed(1)} ` +
              `positives among ${m.outputsPerImage} class outputs per canvas, ${m.grid}×${m.grid} grid${anchors})`), '');
    const rows = settingRows(state, level);
    out.push(rows.length === 0 ? 'No run finished yet.' : markdownTable(SWEEP_HEADER, rows, [false, true, true, false, true, true, true]), '');
    const cut = state.records.filter((r) => sameLevel(r.imbalance, level) && cutOffByBudget(r, s));
    if (cut.length > 0) {
      out.push(`Still improving when the budget ended (best validation at the last of ${s.maxSteps} steps, marked ` +
               `"(budget)"): ${cut.map((r) => `${r.loss} seed ${r.seed}`).join(', ')}; their mAP may be too low.`, '');
    }
    const missing = missingRuns(state, level);
    if (missing.length > 0) {
      out.push(`Missing (not finished yet): ${missing.join(', ')}.`, '');
    }
  }
  if (figure !== null) {
    out.push(`![mAP@0.5 difference from BCE against negatives per positive](${figure})`, '');
  }
  return out.join('\n');
}

/** Writes SWEEP.md and the figure from the runs finished so far; returns the paths. */
export function writeSweepReport(outDir: string): string[] {
  const state = readSweep(outDir);
  const files = [path.join(outDir, SWEEP_FILES.markdown)];
  const hasFigure = state.records.length > 0;
  if (hasFigure) {
    files.push(writeSvg(outDir, SWEEP_FILES.figure, sweepDifferenceChart(state)));
  }
  fs.writeFileSync(files[0], sweepMarkdown(state, hasFigure ? SWEEP_FILES.figure : null));
  return files;
}
