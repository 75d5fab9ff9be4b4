// The detection section's figures: training curves (validation mAP@0.5 and the losses per step,
// mean over seeds with the min-max band) and a few test canvases with the true and predicted boxes.
import {escapeXml, LineSeries, linePanel, PALETTE, panelGrid, svgDocument} from '../../lib/compare/svg';
import {mean} from '../../lib/compare/stats';
import {CANVAS} from './data';
import {CurvePoint, DetectionResult} from './experiment';

function curveSeries(result: DetectionResult, pick: (p: CurvePoint) => number): LineSeries[] {
  const multiSeed = result.settings.seeds.length > 1;
  return result.rows.map((row, i) => {
    const runs = result.runs.filter((r) => r.loss === row.loss);
    const steps = runs[0].curve.map((p) => p.step);
    const values = (k: number) => runs.map((r) => pick(r.curve[k]));
    return {
      name: row.label,
      color: PALETTE[i % PALETTE.length],
      dashed: row.ablation,
      points: steps.map((step, k) => [step, mean(values(k))] as [number, number]),
      band: multiSeed ? steps.map((step, k) => [step, Math.min(...values(k)), Math.max(...values(k))] as
                                    [number, number, number]) : undefined,
    };
  });
}

export function detectionCurvesChart(result: DetectionResult): string {
  const seeds = result.settings.seeds.length;
  const band = seeds > 1 ? `mean of ${seeds} seeds, band = min–max` : '1 seed';
  const markers = result.runs[0].curve.length <= 30;
  const x = {label: 'optimizer step', integer: true, min: 0};
  return panelGrid(`Digits on a canvas: dense detector, only the classification loss differs (${band}; dashed = ablation)`, [
    (box) => linePanel({
      title: 'Validation mAP@0.5', x, y: {label: 'mAP@0.5', min: 0, max: 1},
      series: curveSeries(result, (p) => p.validationMap50), legend: 'bottom-right', markers,
    }, box),
    (box) => linePanel({
      title: 'Classification loss (each its own; / positives)', x, y: {label: 'mean batch loss (log scale)', log: true},
      series: curveSeries(result, (p) => p.classLoss), legend: 'top-right', markers,
    }, box),
    (box) => linePanel({
      title: 'Box loss (GIoU, the same for all)', x, y: {label: 'mean batch loss', min: 0},
      series: curveSeries(result, (p) => p.boxLoss), legend: 'top-right', markers,
    }, box),
  ], 3, 560, 440);
}

/** Grey levels (hex digits 0-f, see DetectionResult.examplePixels) as horizontal runs of equal level. */
function canvasRects(pixels: string, x0: number, y0: number, scale: number): string {
  const parts = [`<rect x="${x0}" y="${y0}" width="${CANVAS * scale}" height="${CANVAS * scale}" fill="black"/>`];
  const levels = 15;
  for (let y = 0; y < CANVAS; y++) {
    let x = 0;
    while (x < CANVAS) {
      const level = parseInt(pixels[y * CANVAS + x], 16);
      let end = x + 1;
      while (end < CANVAS && pixels[y * CANVAS + end] === pixels[y * CANVAS + x]) {
        end++;
      }
      if (level > 0) {
        parts.push(`<rect x="${x0 + x * scale}" y="${y0 + y * scale}" width="${(end - x) * scale}" height="${
            scale}" fill="white" fill-opacity="${(level / levels).toFixed(3)}"/>`);
      }
      x = end;
    }
  }
  return parts.join('');
}

function boxRect(b: {x1: number; y1: number; x2: number; y2: number}, x0: number, y0: number, scale: number,
                 color: string, dashed: boolean): string {
  const f = (v: number) => v.toFixed(1);
  return `<rect x="${f(x0 + b.x1 * scale)}" y="${f(y0 + b.y1 * scale)}" width="${f((b.x2 - b.x1) * scale)}" height="${
      f((b.y2 - b.y1) * scale)}" fill="none" stroke="${color}" stroke-width="${dashed ? 1.5 : 2}"${
      dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
}

function label(x: number, y: number, content: string, color: string, size = 11): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="Helvetica, Arial, sans-serif" font-size="${
      size}" fill="${color}">${escapeXml(content)}</text>`;
}

/** Rows: the main losses (first seed); columns: the example test canvases. */
export function detectionExamplesChart(result: DetectionResult): string {
  const scale = 4;
  const side = CANVAS * scale;
  const gap = 14;
  const header = 44;
  const rowLabel = 22;
  const rows = result.rows.filter((r) => !r.ablation);
  const images = result.examplePixels.length;
  const width = images * (side + gap) + gap;
  const height = header + rows.length * (side + rowLabel + gap) + 24;
  const body: string[] = [];
  body.push(`<text x="${width / 2}" y="20" font-family="Helvetica, Arial, sans-serif" font-size="16" font-weight="bold" ` +
            `text-anchor="middle">${escapeXml(`Test canvases, seed ${result.settings.seeds[0]}: true boxes dashed green, ` +
                                              'predictions (score ≥ 0.3, after NMS) orange with class:score')}</text>`);
  rows.forEach((row, r) => {
    const run = result.runs.find((x) => x.loss === row.loss && x.seed === result.settings.seeds[0])!;
    const y0 = header + r * (side + rowLabel + gap) + rowLabel;
    body.push(label(gap, y0 - 6, `${row.label} — test mAP@0.5 of this run ${run.map50.toFixed(3)}`, '#222', 13));
    for (let n = 0; n < images; n++) {
      const x0 = gap + n * (side + gap);
      body.push(canvasRects(result.examplePixels[n], x0, y0, scale));
      for (const t of result.exampleTruth[n]) {
        body.push(boxRect(t, x0, y0, scale, '#009E73', true));
      }
      for (const d of (run.examples ?? []).filter((e) => e.image === n)) {
        body.push(boxRect(d, x0, y0, scale, '#E69F00', false));
        body.push(label(x0 + Math.max(0, d.x1) * scale + 2, y0 + Math.max(0, d.y1) * scale + 11,
                        `${d.label}:${d.score.toFixed(2)}`, '#E69F00'));
      }
    }
  });
  body.push(label(gap, height - 8, `True classes per column: ${result.exampleTruth.map(
      (objects) => objects.map((o) => o.label).join(',')).join(' | ')}`, '#222', 12));
  return svgDocument(width, height, body.join('\n'), 'Detection examples');
}
