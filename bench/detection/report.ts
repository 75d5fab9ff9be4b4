// Tables and the markdown section of the detection bench (also written alone as DETECTION.md). The
// paired comparisons, their verdicts and the table layouts are lib/compare's (as compareLosses').
import {formatPoints as points} from '../../lib/compare/stats';
import {markdownTable, textTable} from '../../lib/compare/tables';
import {PairedComparison} from '../../lib/compare/verdict';
import {DetectionResult, LossRow} from './experiment';

function meanSd(row: LossRow): string {
  return row.map50.length > 1 ? `${points(row.mean)} ± ${points(row.sd)}` : `${points(row.mean)} (1 seed)`;
}

function seconds(values: number[]): string {
  const total = values.reduce((a, b) => a + b, 0);
  return `${(total / values.length).toFixed(1)}`;
}

export const DETECTION_HEADER = ['loss', 'mAP@0.5 %, mean ± sd', 'per seed', 'train s / run (mean)', 'classification term'];

export function detectionRows(result: DetectionResult): string[][] {
  return result.rows.map((row) => [
    row.ablation ? `${row.label} (ablation)` : row.label, meanSd(row), row.map50.map(points).join(', '),
    seconds(row.trainSeconds), row.description,
  ]);
}

function labelOf(result: DetectionResult, id: string): string {
  return result.rows.find((r) => r.loss === id)?.label ?? id;
}

export function comparisonSentence(result: DetectionResult, c: PairedComparison): string {
  return `${labelOf(result, c.a)} − ${labelOf(result, c.b)}: ${c.meanDifference >= 0 ? '+' : ''}${points(c.meanDifference)} ` +
         `points (paired sd ${points(c.pairedSd)}); ${c.verdict}`;
}

export function detectionTerminal(result: DetectionResult): string {
  const lines = [`Detection (digits on a canvas, mAP@0.5 on ${result.settings.testImages} test canvases, ` +
                 `${result.settings.seeds.length} seed${result.settings.seeds.length > 1 ? 's' : ''} × ${result.settings.steps} steps, ` +
                 `backend ${result.backend}):`];
  lines.push(textTable(DETECTION_HEADER.slice(0, 4), detectionRows(result).map((row) => row.slice(0, 4))));
  for (const c of result.comparisons) {
    lines.push(`  ${comparisonSentence(result, c)}`);
  }
  return lines.join('\n');
}

/** Text in the first column (and the last when `textLast`), numbers right-aligned. */
function numbersRight(columns: number, textLast = false): boolean[] {
  return Array.from({length: columns}, (_, i) => !(i === 0 || (textLast && i === columns - 1)));
}

/** What the runs say about focal loss against BCE, from the numbers (no fixed wording of a result). */
export function detectionConclusion(result: DetectionResult): string {
  const find = (a: string, b: string) => result.comparisons.find((c) => c.a === a && c.b === b);
  const parts: string[] = [];
  const main = find('focal', 'bce');
  if (main !== undefined) {
    const beats = main.exceedsSpread && main.meanDifference > 0;
    parts.push(beats ? `On this data focal loss beats BCE: ${comparisonSentence(result, main)}.` :
                       `On this data focal loss does **not** beat BCE: ${comparisonSentence(result, main)}.`);
  }
  for (const [a, b, why] of [
    ['focal', 'alpha_bce', 'Focal loss against α-balancing alone'],
    ['focal_g1', 'focal', 'The focusing parameter (γ 1 against γ 2)'],
    ['focal_g1', 'bce', 'Focal loss with γ 1 against BCE'],
    ['bce_no_prior', 'bce', 'The prior initialisation, for BCE'],
    ['focal_no_prior', 'focal', 'The prior initialisation, for focal loss'],
  ] as const) {
    const c = find(a, b);
    if (c !== undefined) {
      parts.push(`${why}: ${comparisonSentence(result, c)}.`);
    }
  }
  const gains = result.rows.filter((r) => !r.ablation).map((row) => {
    const runs = result.runs.filter((r) => r.loss === row.loss && r.curve.length >= 2);
    const gain = runs.map((r) => r.curve[r.curve.length - 1].validationMap50 - r.curve[r.curve.length - 2].validationMap50);
    return runs.length > 0 ? `${row.label} ${gain.reduce((a, b) => a + b, 0) / gain.length >= 0 ? '+' : ''}${
        points(gain.reduce((a, b) => a + b, 0) / gain.length)}` : '';
  }).filter((g) => g !== '');
  const last = result.runs[0]?.curve;
  if (gains.length > 0 && last !== undefined && last.length >= 2) {
    parts.push(`Still learning at the end? Validation mAP@0.5 gained over the last ${
        last[last.length - 1].step - last[last.length - 2].step} steps (points, mean over seeds): ${gains.join(', ')}.`);
  }
  return parts.join(' ');
}

export function detectionMarkdown(result: DetectionResult, figures: Array<{file: string; title: string}> = []): string {
  const s = result.settings;
  const out: string[] = [];
  out.push('## Dense detection: mAP@0.5 on digits on a canvas', '');
  out.push(`A dense one-stage detector (FCOS-style, ${s.parameters} parameters: a conv backbone down to stride ${s.stride}, ` +
           `a ${s.grid}×${s.grid} grid, ${s.classes} sigmoid class logits and 4 box distances per cell) trained on ` +
           `${s.canvas}×${s.canvas} canvases with 1–3 MNIST digits scaled to 12–28 px ` +
           `(${s.trainImages} training canvases with ${result.data.trainObjects} digits; ${s.validationImages} validation, ` +
           `${s.testImages} test canvases with ${result.data.testObjects} digits; the test digits are MNIST images no ` +
           `training canvas uses). Per canvas ${result.data.outputsPerImage} class outputs against ` +
           `${result.data.positivesPerImage.toFixed(1)} positives on average (cells in the centre region of a digit's ` +
           'box; every other cell is a negative for every class).', '');
  out.push(`Everything but the classification term is the same for every loss: data, model, initial weights per seed ` +
           `(seeds ${s.seeds.join(', ')}), batch order, ${s.optimizer}, ${s.steps} steps, and the box loss (${s.boxLoss}). ` +
           `Prior: ${s.prior}. Search budget: ${s.searchBudget}. Evaluation: sigmoid scores > ${s.decode.scoreThreshold}, ` +
           `the top ${s.decode.preNmsTop} per canvas, per-class NMS at IoU ${s.decode.nmsIou}, at most ` +
           `${s.decode.maxPerImage} per canvas; AP per class at IoU 0.5 with all-point interpolation (VOC 2010+), mean ` +
           `over the ${s.classes} classes, on the test canvases with the final weights (no checkpoint selection; ` +
           `validation only draws the curves). Backend \`${result.backend}\`.`, '');
  out.push(markdownTable(DETECTION_HEADER, detectionRows(result), numbersRight(DETECTION_HEADER.length, true)), '');
  out.push(`Training time is the optimizer steps alone (${s.steps} steps of ${s.batchSize} canvases), evaluation excluded; ` +
           `the section took ${result.seconds.toFixed(0)} s in all.`, '');
  out.push(`**Result.** ${detectionConclusion(result)}`, '');
  if (result.pending.length > 0) {
    out.push(`Not yet included: ${result.pending.join(', ')}.`, '');
  }
  const ap = result.rows.map((r) => [r.label, ...r.apPerClassMean.map(points)]);
  out.push('AP@0.5 per digit (%, mean over seeds):', '');
  out.push(markdownTable(['loss', ...Array.from({length: s.classes}, (_, c) => String(c))], ap,
                         numbersRight(1 + s.classes)), '');
  for (const f of figures) {
    out.push(`![${f.title}](${f.file})`, '');
  }
  return out.join('\n');
}
