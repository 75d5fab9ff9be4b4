// The comparison's tables and markdown report, from the report object alone.
import type {CompareReport} from './report_types';
import {LOWER_IS_BETTER, METRIC_LABELS, MetricId} from './metrics';
import {formatSeconds} from './progress';
import {formatPoints as pct} from './stats';
import {markdownTable, textTable} from './tables';
import {VERDICT_RULE} from './verdict';

function signedPoints(v: number): string {
  return `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(1)}`;
}

/** The table's columns: the primary metric first. */
function columns(report: CompareReport): MetricId[] {
  return [report.primaryMetric, ...report.metrics.filter((m) => m !== report.primaryMetric)];
}

function rareLabel(report: CompareReport): string {
  return report.rareClasses.map((c) => `${report.classNames[c]} (n=${report.trainCounts[c]})`).join(', ');
}

/** Contender | each metric, mean ± sd over seeds (percent) | ms per epoch. */
export function reportTable(report: CompareReport, format: 'markdown' | 'text' = 'markdown'): string {
  const metrics = columns(report);
  const spread = report.seeds.length > 1 ? ' %, mean ± sd' : ' %';
  const header = ['contender', ...metrics.map((m) => `${METRIC_LABELS[m]}${spread}${LOWER_IS_BETTER.has(m) ? ' (lower is better)' : ''}`),
                  'ms / epoch'];
  const rows = report.summaries.map((s) => [
    s.name,
    ...metrics.map((m) => {
      const x = s.metrics[m]!;
      return report.seeds.length > 1 ? `${pct(x.mean)} ± ${pct(x.sd)}` : pct(x.mean);
    }),
    (1000 * s.epochSeconds.median).toFixed(0),
  ]);
  const align = header.map((_, i) => i > 0);
  return format === 'markdown' ? markdownTable(header, rows, align) : textTable(header, rows, align);
}

/** Per contender, per metric: the paired difference from the baseline (points) and whether it is beyond the spread. */
export function differenceTable(report: CompareReport, format: 'markdown' | 'text' = 'markdown'): string {
  const metrics = columns(report);
  const header = ['contender − ' + report.baseline, ...metrics.map((m) => `Δ ${METRIC_LABELS[m]}`)];
  const rows = report.summaries.slice(1).map((s) => [s.name, ...metrics.map((m) => {
    const c = report.comparisons.find((x) => x.a === s.name && x.metric === m)!;
    return `${signedPoints(c.meanDifference)} ${c.exceedsSpread ? '(beyond the spread)' : '(within)'}`;
  })]);
  const align = header.map((_, i) => i > 0);
  return format === 'markdown' ? markdownTable(header, rows, align) : textTable(header, rows, align);
}

export function markdownReport(report: CompareReport, figures: Array<{file: string; title: string}> = []): string {
  const out: string[] = [];
  const primary = METRIC_LABELS[report.primaryMetric];
  out.push('# Loss comparison');
  out.push('');
  out.push(`**Recommendation.** ${report.recommendation}`);
  out.push('');
  out.push(`Task: ${report.task === 'single-label' ? `single-label, ${report.classes} classes (softmax)` :
           report.classes === 1 ? 'binary (sigmoid)' : `multi-label, ${report.classes} labels (sigmoid)`}; ` +
           `backend \`${report.backend}\`; ${report.seeds.length} seeds (${report.seeds.join(', ')}) × ` +
           `${report.epochs} epochs, batch ${report.batchSize}; ${report.trainRows} training rows, ` +
           `${report.testRows} held out: ${report.split}.`);
  out.push('');
  out.push(`${report.task === 'single-label' ? 'Training rows per class' : 'Positives per label in training'}: ` +
           report.trainCounts.map((n, c) => `${report.classNames[c]}: ${n}`).join(', ') + `. Rare classes: ${rareLabel(report)}.`);
  out.push('');
  out.push(`Fair by construction: ${report.fairness}`);
  out.push('');
  for (const note of report.notes) {
    out.push(`> ${note}`);
    out.push('');
  }
  out.push(`Held-out metrics after the last epoch (percent; ${report.seeds.length > 1 ? 'mean ± sd over seeds' : 'one seed'}); ` +
           'ECE = expected calibration error (15 bins); ms / epoch = median training time per epoch, first epochs left out:');
  out.push('');
  out.push(reportTable(report));
  out.push('');
  out.push(`Paired differences from ${report.baseline} (percentage points, mean over seeds). Rule: ${VERDICT_RULE}`);
  out.push('');
  out.push(differenceTable(report));
  out.push('');
  out.push(`On ${primary}, seed by seed:`);
  out.push('');
  out.push(markdownTable(['contender', `Δ ${primary} (points)`, 'seeds higher/lower/equal', 'verdict'],
                         report.comparisons.filter((c) => c.metric === report.primaryMetric).map((c) => [
                           c.a, signedPoints(c.meanDifference),
                           `${c.seedsHigher}/${c.seedsLower}/${c.pairedDifferences.length - c.seedsHigher - c.seedsLower}`,
                           c.verdict,
                         ])));
  out.push('');
  out.push(`Recall per class (percent, mean over seeds; training count in brackets):`);
  out.push('');
  out.push(markdownTable(['contender', ...report.classNames.map((n, c) => `${n} (${report.trainCounts[c]})`)],
                         report.summaries.map((s) => [s.name, ...s.recallPerClass.map(pct)])));
  out.push('');
  out.push('Precision per class (percent, mean over seeds):');
  out.push('');
  out.push(markdownTable(['contender', ...report.classNames],
                         report.summaries.map((s) => [s.name, ...s.precisionPerClass.map(pct)])));
  out.push('');
  if (report.summaries[0].averagePrecisionPerClass) {
    out.push('Average precision per label (percent, mean over seeds; n/a: no positive in the held-out split):');
    out.push('');
    out.push(markdownTable(['contender', ...report.classNames],
                           report.summaries.map((s) => [s.name, ...s.averagePrecisionPerClass!.map(pct)])));
    out.push('');
  }
  out.push(markdownTable(['contender', 'definition'], report.contenders.map((c) => [c.name, `\`${c.description}\``])));
  out.push('');
  const t = report.timing;
  out.push(`Time: ${formatSeconds(t.totalSeconds)} in all: training ${t.trainingSeconds.toFixed(1)} s, held-out ` +
           `evaluation after every epoch ${t.evaluationSeconds.toFixed(1)} s, the rest (data, models, weights, ` +
           `statistics) ${t.harnessSeconds.toFixed(1)} s = ${(100 * t.harnessSeconds / t.trainingSeconds).toFixed(1)}% ` +
           'of the training time.');
  out.push('');
  for (const f of figures) {
    out.push(`![${f.title}](${f.file})`);
    out.push('');
  }
  return out.join('\n');
}
