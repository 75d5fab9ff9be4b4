// The bench's own figures (the focal-loss curve, the speed charts), drawn with the chart writer of
// the comparison module (lib/compare/svg.ts).
import {BackendSpeedResult, CONTENDERS} from './speed';
import {barPanel, BarSeries, lineChart, LineSeries, PALETTE, panelGrid} from '../lib/compare/svg';

/**
 * The classic figure of Lin et al. (2017), Fig. 1: FL(p_t) = -(1 - p_t)^gamma log(p_t) against
 * p_t, computed here in float64 from the formula (alpha = 1).
 */
export function focalCurveSeries(gammas: number[] = [0, 0.5, 1, 2, 5], points = 200): LineSeries[] {
  return gammas.map((gamma) => {
    const curve: Array<[number, number]> = [];
    for (let i = 1; i <= points; i++) {
      const pT = i / points;
      curve.push([pT, -Math.pow(1 - pT, gamma) * Math.log(pT)]);
    }
    return {name: gamma === 0 ? 'γ = 0 (cross-entropy)' : `γ = ${gamma}`, points: curve};
  });
}

export function focalCurveChart(gammas?: number[]): string {
  return lineChart({
    title: 'Focal loss FL(p_t) = −(1 − p_t)^γ · log p_t',
    x: {label: 'probability of the ground-truth class p_t', min: 0, max: 1},
    y: {label: 'loss', min: 0, max: 5},
    series: focalCurveSeries(gammas),
    legend: 'top-right',
  });
}

/** Short names for chart legends. */
export const CONTENDER_SHORT_NAMES: Record<string, string> = {
  ce: 'softmax CE (baseline)', focal_sparse: 'focalLoss sparse', focal_dense: 'focalLoss one-hot',
  focal_cast_onehot: 'focalLoss one-hot (tf.cast(tf.oneHot))',
  composed_focal: 'composed focal (tfjs ops)', sigmoid_ce: 'sigmoid CE', sigmoid_focal: 'sigmoidFocalLoss',
  composed_sigmoid_focal: 'composed sigmoid focal',
  poly_focal: 'focalLoss Poly-1', logit_adjusted_focal: 'focalLoss logit-adjusted',
};

/**
 * Speed chart for one backend: per shape, median time per call of every contender (log scale,
 * whiskers = IQR) above, the per-round ratio to softmax CE below.
 */
export function speedChart(result: BackendSpeedResult): string {
  const groups = result.shapes.map((s) => s.shape);
  const ids = CONTENDERS.map((c) => c.id).filter((id) => result.shapes.some((s) => s.contenders.some((c) => c.id === id)));
  const pick = (id: string) => result.shapes.map((s) => s.contenders.find((c) => c.id === id && c.error === undefined));
  const timeSeries: BarSeries[] = ids.map((id, i) => ({
    name: CONTENDER_SHORT_NAMES[id] ?? id,
    color: PALETTE[i % PALETTE.length],
    values: pick(id).map((c) => c?.summary.median ?? NaN),
    low: pick(id).map((c) => c?.summary.q1 ?? NaN),
    high: pick(id).map((c) => c?.summary.q3 ?? NaN),
  }));
  const ratioSeries: BarSeries[] = ids.filter((id) => id !== 'ce').map((id) => ({
    name: CONTENDER_SHORT_NAMES[id] ?? id,
    color: PALETTE[ids.indexOf(id) % PALETTE.length],
    values: pick(id).map((c) => c?.ratioVsCe?.median ?? NaN),
    low: pick(id).map((c) => c?.ratioVsCe?.q1 ?? NaN),
    high: pick(id).map((c) => c?.ratioVsCe?.q3 ?? NaN),
  }));
  return panelGrid(`Loss forward + gradient per call, backend '${result.backend}'`, [
    (box) => barPanel({
      title: 'Median time per call (whiskers: IQR) — lower is better',
      groups, series: timeSeries, y: {label: 'milliseconds (log scale)', log: true}, xLabel: 'shape (rows x classes)',
    }, box),
    (box) => barPanel({
      title: 'Time relative to tf.losses.softmaxCrossEntropy (per-round ratio)',
      groups, series: ratioSeries, y: {label: '× softmax CE (log scale)', log: true}, xLabel: 'shape (rows x classes)',
      referenceLine: {value: 1, label: 'softmax CE = 1'},
    }, box),
  ], 1, 1100, 440);
}

