// A small SVG chart writer (no dependencies): line charts and grouped bar charts with axes, ticks,
// labels, legend and title, on linear or log scales, and several panels side by side in one file.
// Charts are plain strings; `writeSvg` puts them on disk. Used by the comparison's figures and by
// the bench's own (speed, detection).
import * as fs from 'fs';
import * as path from 'path';

/** Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#8C8C8C',
                        '#000000'];

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export interface AxisSpec {
  label: string;
  log?: boolean;
  /** Fixed ends; otherwise taken from the data (linear axes include 0 when `includeZero`). */
  min?: number;
  max?: number;
  includeZero?: boolean;
  /** Ticks on whole numbers only (epochs). */
  integer?: boolean;
}

export interface LineSeries {
  name: string;
  points: Array<[number, number]>;
  color?: string;
  dashed?: boolean;
  /** Optional shaded band [x, low, high] (e.g. min-max over seeds). */
  band?: Array<[number, number, number]>;
}

export interface LineChartSpec {
  title: string;
  x: AxisSpec;
  y: AxisSpec;
  series: LineSeries[];
  legend?: 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left';
  /** Marker circles on the points (useful for few points per series). */
  markers?: boolean;
}

export interface BarSeries {
  name: string;
  values: number[];          // one per group; NaN = missing bar
  low?: number[];            // whisker ends (e.g. first quartile)
  high?: number[];           // (e.g. third quartile)
  color?: string;
}

export interface BarChartSpec {
  title: string;
  groups: string[];
  series: BarSeries[];
  y: AxisSpec;
  xLabel?: string;
  referenceLine?: {value: number; label: string};
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/\.?0+$/, '');
}

/** Tick label: short, without float noise (0.30000000000000004 -> 0.3). */
export function tickLabel(v: number): string {
  if (v === 0) {
    return '0';
  }
  const magnitude = Math.abs(v);
  if (magnitude >= 1e5 || magnitude < 1e-3) {
    return v.toExponential(0).replace('e+', 'e');
  }
  return String(Number(v.toPrecision(6)));
}

export interface Scale {
  toPixel(v: number): number;
  ticks: number[];
  min: number;
  max: number;
}

function niceStep(span: number, targetTicks: number): number {
  const raw = span / Math.max(1, targetTicks);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const unit = raw / power;
  const nice = unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10;
  return nice * power;
}

/** Maps data values in [lo, hi] (extended to nice ends) to pixels [p0, p1]. */
export function makeScale(
    values: number[], axis: AxisSpec, p0: number, p1: number, targetTicks = 5): Scale {
  const finite = values.filter((v) => Number.isFinite(v) && (!axis.log || v > 0));
  let lo = axis.min ?? (finite.length > 0 ? Math.min(...finite) : 0);
  let hi = axis.max ?? (finite.length > 0 ? Math.max(...finite) : 1);
  if (axis.log) {
    if (!(lo > 0)) {
      lo = hi > 0 ? hi / 10 : 1;
    }
    if (!(hi > lo)) {
      hi = lo * 10;
    }
    const logLo = axis.min !== undefined ? Math.log10(lo) : Math.floor(Math.log10(lo) + 1e-9);
    const logHi = axis.max !== undefined ? Math.log10(hi) : Math.ceil(Math.log10(hi) - 1e-9);
    const lo10 = logLo;
    const hi10 = logHi > logLo ? logHi : logLo + 1;
    const ticks: number[] = [];
    const decades = hi10 - lo10;
    // Few decades: label 1-2-5 steps too so a short axis still has several ticks.
    const mantissas = decades <= 2 ? [1, 2, 5] : [1];
    for (let e = Math.floor(lo10); e <= Math.ceil(hi10); e++) {
      for (const m of mantissas) {
        const v = m * Math.pow(10, e);
        const lv = Math.log10(v);
        if (lv >= lo10 - 1e-9 && lv <= hi10 + 1e-9) {
          ticks.push(Number(v.toPrecision(6)));
        }
      }
    }
    return {
      toPixel: (v: number) => p0 + (Math.log10(Math.max(v, 1e-300)) - lo10) / (hi10 - lo10) * (p1 - p0),
      ticks, min: Math.pow(10, lo10), max: Math.pow(10, hi10),
    };
  }
  if (axis.includeZero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (!(hi > lo)) {
    hi = lo + 1;
  }
  const step = axis.integer ? Math.max(1, Math.round(niceStep(hi - lo, targetTicks))) : niceStep(hi - lo, targetTicks);
  const niceLo = axis.min !== undefined ? lo : Math.floor(lo / step + 1e-9) * step;
  const niceHi = axis.max !== undefined ? hi : Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = Math.ceil(niceLo / step - 1e-9) * step; v <= niceHi + step * 1e-6; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return {
    toPixel: (v: number) => p0 + (v - niceLo) / (niceHi - niceLo) * (p1 - p0),
    ticks, min: niceLo, max: niceHi,
  };
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${fmt(x)}" y="${fmt(y)}" ${FONT} ${attrs}>${escapeXml(content)}</text>`;
}

interface PlotArea {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function plotArea(box: Box): PlotArea {
  return {left: box.x + 62, top: box.y + 40, right: box.x + box.width - 16, bottom: box.y + box.height - 52};
}

function axesSvg(area: PlotArea, xScale: Scale | null, yScale: Scale, xLabel: string, yLabel: string,
                 title: string, box: Box): string {
  const parts: string[] = [];
  parts.push(text((box.x + box.x + box.width) / 2, box.y + 22, title,
                  'font-size="15" font-weight="bold" text-anchor="middle"'));
  // Grid and y ticks.
  for (const t of yScale.ticks) {
    const py = yScale.toPixel(t);
    parts.push(`<line x1="${fmt(area.left)}" y1="${fmt(py)}" x2="${fmt(area.right)}" y2="${
        fmt(py)}" stroke="#e3e3e3" stroke-width="1"/>`);
    parts.push(text(area.left - 6, py + 4, tickLabel(t), 'font-size="11" text-anchor="end"'));
  }
  if (xScale !== null) {
    for (const t of xScale.ticks) {
      const px = xScale.toPixel(t);
      parts.push(`<line x1="${fmt(px)}" y1="${fmt(area.top)}" x2="${fmt(px)}" y2="${
          fmt(area.bottom)}" stroke="#efefef" stroke-width="1"/>`);
      parts.push(text(px, area.bottom + 16, tickLabel(t), 'font-size="11" text-anchor="middle"'));
    }
  }
  parts.push(`<rect x="${fmt(area.left)}" y="${fmt(area.top)}" width="${fmt(area.right - area.left)}" height="${
      fmt(area.bottom - area.top)}" fill="none" stroke="#333" stroke-width="1"/>`);
  parts.push(text((area.left + area.right) / 2, box.y + box.height - 10, xLabel,
                  'font-size="13" text-anchor="middle"'));
  const yMid = (area.top + area.bottom) / 2;
  parts.push(text(box.x + 16, yMid, yLabel,
                  `font-size="13" text-anchor="middle" transform="rotate(-90 ${fmt(box.x + 16)} ${fmt(yMid)})"`));
  return parts.join('\n');
}

interface LegendEntry {
  name: string;
  color: string;
  dashed?: boolean;
  kind: 'line' | 'box';
}

function legendSvg(entries: LegendEntry[], area: PlotArea,
                   position: 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left'): string {
  const lineHeight = 17;
  const width = 24 + Math.max(...entries.map((e) => e.name.length)) * 6.6 + 10;
  const height = entries.length * lineHeight + 8;
  const x = position.endsWith('right') ? area.right - width - 8 : area.left + 8;
  const y = position.startsWith('top') ? area.top + 8 : area.bottom - height - 8;
  const parts = [`<g class="legend"><rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(width)}" height="${
      fmt(height)}" fill="white" fill-opacity="0.9" stroke="#bbb"/>`];
  entries.forEach((e, i) => {
    const cy = y + 4 + lineHeight * i + lineHeight / 2;
    if (e.kind === 'line') {
      parts.push(`<line x1="${fmt(x + 6)}" y1="${fmt(cy)}" x2="${fmt(x + 24)}" y2="${fmt(cy)}" stroke="${
          e.color}" stroke-width="2.5"${e.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    } else {
      parts.push(`<rect x="${fmt(x + 8)}" y="${fmt(cy - 5)}" width="12" height="10" fill="${e.color}"/>`);
    }
    parts.push(text(x + 29, cy + 4, e.name, 'font-size="12"'));
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** A line chart drawn inside `box` (a fragment; wrap with `svgDocument`). */
export function linePanel(spec: LineChartSpec, box: Box): string {
  const area = plotArea(box);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    for (const [x, y] of s.points) {
      xs.push(x);
      ys.push(y);
    }
    for (const [x, lo, hi] of s.band ?? []) {
      xs.push(x);
      ys.push(lo, hi);
    }
  }
  const xScale = makeScale(xs, spec.x, area.left, area.right, 6);
  const yScale = makeScale(ys, spec.y, area.bottom, area.top, 6);
  const clipId = `clip${Math.round(box.x)}_${Math.round(box.y)}_${Math.round(box.width)}`;
  const parts = [axesSvg(area, xScale, yScale, spec.x.label, spec.y.label, spec.title, box)];
  parts.push(`<clipPath id="${clipId}"><rect x="${fmt(area.left)}" y="${fmt(area.top)}" width="${
      fmt(area.right - area.left)}" height="${fmt(area.bottom - area.top)}"/></clipPath>`);
  parts.push(`<g clip-path="url(#${clipId})">`);
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const visible = (y: number) => Number.isFinite(y) && (!spec.y.log || y > 0);
    if (s.band !== undefined && s.band.length > 1) {
      const upper = s.band.map(([x, , hi]) => `${fmt(xScale.toPixel(x))},${fmt(yScale.toPixel(hi))}`);
      const lower = [...s.band].reverse().map(([x, lo]) => `${fmt(xScale.toPixel(x))},${fmt(yScale.toPixel(lo))}`);
      parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
    }
    // Break the line at missing points rather than joining across them.
    let segment: string[] = [];
    const flush = () => {
      if (segment.length > 1) {
        parts.push(`<polyline points="${segment.join(' ')}" fill="none" stroke="${color}" stroke-width="2.2"${
            s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
      }
      segment = [];
    };
    for (const [x, y] of s.points) {
      if (!visible(y) || !Number.isFinite(x)) {
        flush();
        continue;
      }
      segment.push(`${fmt(xScale.toPixel(x))},${fmt(yScale.toPixel(y))}`);
    }
    flush();
    if (spec.markers) {
      for (const [x, y] of s.points) {
        if (visible(y)) {
          parts.push(`<circle cx="${fmt(xScale.toPixel(x))}" cy="${fmt(yScale.toPixel(y))}" r="2.8" fill="${color}"/>`);
        }
      }
    }
  });
  parts.push('</g>');
  parts.push(legendSvg(spec.series.map((s, i) => ({
    name: s.name, color: s.color ?? PALETTE[i % PALETTE.length], dashed: s.dashed, kind: 'line' as const,
  })), area, spec.legend ?? 'top-right'));
  return parts.join('\n');
}

/** Grouped bars (one group per category, one bar per series) with optional whiskers. */
const LEGEND_ROW = 16;

function legendEntryWidth(name: string): number {
  return 16 + name.length * 6.8 + 18;
}

/** Rows a one-line-per-row legend of these names needs within `width` pixels. */
function legendRowCount(names: string[], width: number): number {
  let rows = 1;
  let x = 0;
  for (const name of names) {
    const w = legendEntryWidth(name);
    if (x + w > width + 18 && x > 0) {
      rows++;
      x = 0;
    }
    x += w;
  }
  return rows;
}

export function barPanel(spec: BarChartSpec, box: Box): string {
  const probe = plotArea(box);
  const legendRows = legendRowCount(spec.series.map((s) => s.name), probe.right - probe.left);
  // Below the plot: group labels, the x-axis label, then the legend rows.
  const area = plotArea({...box, height: box.height - 6 - LEGEND_ROW * legendRows});
  const values: number[] = [];
  for (const s of spec.series) {
    values.push(...s.values, ...(s.low ?? []), ...(s.high ?? []));
  }
  if (spec.referenceLine) {
    values.push(spec.referenceLine.value);
  }
  const yScale = makeScale(values, {includeZero: !spec.y.log, ...spec.y}, area.bottom, area.top, 6);
  const parts = [axesSvg(area, null, yScale, '', spec.y.label, spec.title, box)];
  if (spec.xLabel) {
    parts.push(text((area.left + area.right) / 2, area.bottom + 34, spec.xLabel, 'font-size="13" text-anchor="middle"'));
  }
  const groupWidth = (area.right - area.left) / Math.max(1, spec.groups.length);
  const barWidth = groupWidth * 0.8 / Math.max(1, spec.series.length);
  const base = spec.y.log ? area.bottom : yScale.toPixel(0);
  spec.groups.forEach((group, g) => {
    const gx = area.left + groupWidth * g;
    parts.push(text(gx + groupWidth / 2, area.bottom + 16, group, 'font-size="11" text-anchor="middle"'));
    spec.series.forEach((s, i) => {
      const v = s.values[g];
      if (!Number.isFinite(v) || (spec.y.log && !(v > 0))) {
        return;
      }
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const x = gx + groupWidth * 0.1 + barWidth * i;
      const top = yScale.toPixel(v);
      parts.push(`<rect x="${fmt(x)}" y="${fmt(Math.min(top, base))}" width="${fmt(barWidth * 0.92)}" height="${
          fmt(Math.abs(base - top))}" fill="${color}"><title>${escapeXml(`${s.name} ${group}: ${tickLabel(v)}`)}</title></rect>`);
      const lo = s.low?.[g];
      const hi = s.high?.[g];
      if (lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi)) {
        const cx = x + barWidth * 0.46;
        parts.push(`<line x1="${fmt(cx)}" y1="${fmt(yScale.toPixel(lo))}" x2="${fmt(cx)}" y2="${
            fmt(yScale.toPixel(hi))}" stroke="#222" stroke-width="1.2"/>`);
      }
    });
  });
  if (spec.referenceLine) {
    const py = yScale.toPixel(spec.referenceLine.value);
    parts.push(`<line x1="${fmt(area.left)}" y1="${fmt(py)}" x2="${fmt(area.right)}" y2="${fmt(py)}" stroke="#444" stroke-dasharray="4 3"/>`);
    const labelWidth = spec.referenceLine.label.length * 6.2 + 8;
    parts.push(`<rect x="${fmt(area.left + 2)}" y="${fmt(py - 16)}" width="${fmt(labelWidth)}" height="14" fill="white" fill-opacity="0.85"/>`);
    parts.push(text(area.left + 6, py - 5, spec.referenceLine.label, 'font-size="11" fill="#444"'));
  }
  // Legend below the plot (wrapping onto more rows when needed), so it never covers bars.
  let lx = area.left;
  let ly = area.bottom + 58;
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const entryWidth = legendEntryWidth(s.name);
    if (lx + entryWidth > area.right + 18 && lx > area.left) {
      lx = area.left;
      ly += LEGEND_ROW;
    }
    parts.push(`<rect x="${fmt(lx)}" y="${fmt(ly - 9)}" width="12" height="10" fill="${color}"/>`);
    parts.push(text(lx + 16, ly, s.name, 'font-size="12"'));
    lx += entryWidth;
  });
  return parts.join('\n');
}

/** Wraps panel fragments into a complete SVG document (white background). */
export function svgDocument(width: number, height: number, body: string, description = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
${description ? `<desc>${escapeXml(description)}</desc>\n` : ''}<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>
${body}
</svg>
`;
}

export function lineChart(spec: LineChartSpec, width = 720, height = 460): string {
  return svgDocument(width, height, linePanel(spec, {x: 0, y: 0, width, height}), spec.title);
}

export function barChart(spec: BarChartSpec, width = 900, height = 460): string {
  return svgDocument(width, height, barPanel(spec, {x: 0, y: 0, width, height}), spec.title);
}

/** Panels on a grid of `columns` columns, each panelWidth x panelHeight, under an optional title. */
export function panelGrid(title: string, panels: Array<(box: Box) => string>, columns: number,
                          panelWidth = 560, panelHeight = 420): string {
  const top = title ? 30 : 0;
  const gridRows = Math.ceil(panels.length / columns);
  const width = panelWidth * Math.min(columns, panels.length);
  const height = panelHeight * gridRows + top;
  const body: string[] = [];
  if (title) {
    body.push(text(width / 2, 22, title, 'font-size="17" font-weight="bold" text-anchor="middle"'));
  }
  panels.forEach((panel, i) => {
    const column = i % columns;
    const row = Math.floor(i / columns);
    body.push(panel({x: panelWidth * column, y: top + panelHeight * row, width: panelWidth, height: panelHeight}));
  });
  return svgDocument(width, height, body.join('\n'), title);
}

export function writeSvg(dir: string, fileName: string, svg: string): string {
  fs.mkdirSync(dir, {recursive: true});
  const file = path.join(dir, fileName);
  fs.writeFileSync(file, svg);
  return file;
}

