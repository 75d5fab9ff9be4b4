// The two float64 references of the focal-loss family (issue 17) confirm each other: the plain-JS
// analytic reference (test/family_reference.ts) against PyTorch float64 autograd of the same
// definitions (test/fixtures/family_*.json, written by tools/gen_family_fixtures.py and there
// cross-checked against 50-digit mpmath). Values, gradients, weights and every reduction, sparse and
// dense labels, and the extreme cases (|logit| up to 1e4, gamma in [0, 1)). Also: the JS analytic
// gradients against their own central differences, and eps = 0 / logit adjustment against the
// existing focal-loss reference (test/reference.ts). Needs no library code.

import * as fs from 'fs';
import * as path from 'path';
import {
  FamilyReduction,
  FamilyWeights,
  LogitAdjustment,
  asymmetric,
  logitAdjustedFocal,
  logitAdjustmentShift,
  polySigmoidFocal,
  polySoftmaxFocal,
  qualityFocal,
  reduceLosses,
  varifocal,
} from './family_reference';
import { centralDifferences, sigmoidFocalElement, softmaxFocalRows } from './reference';
import { Rng, expectAllFinite } from './numeric_helpers';

const RTOL = 1e-9;
/** Errors below this fraction of a case's largest value are absolute noise (see the generator). */
const ABSOLUTE_FLOOR = 1e-13;
const FIXTURES = path.join(__dirname, 'fixtures');
const flat = (x: unknown): number[] => (Array.isArray(x) ? (x as unknown[]).flatMap(flat) : [x as number]);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const REDUCTIONS: Exclude<FamilyReduction, 'none'>[] = ['sum', 'mean', 'sumByNonzeroWeights'];

interface Reductions {
  weights: FamilyWeights;
  unweighted: Record<string, number>;
  weighted: Record<string, number | unknown[]>;
  weightedGrad: Record<string, unknown[]>;
}

interface FixtureCase {
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON options, read per loss
  options: any;
  shape: number[];
  logits: unknown;
  targets?: unknown;
  labels?: unknown;
  sparseLabels?: unknown;
  loss: unknown;
  grad: unknown;
  lossPublishedForm?: unknown;
  reductions: Reductions;
  reference?: string;
}

interface Fixture {
  generator: string;
  versions: Record<string, string>;
  mpmathCheck: { maxRelativeLossError: number; maxRelativeGradError: number };
  cases: FixtureCase[];
}

const readFixture = (name: string): Fixture => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));

/** Largest |got - expected| / max(|expected|, floor): over all comparisons of one loss. */
const worst: Record<string, { value: number; grad: number; where: string }> = {};

function compare(loss: string, what: string, got: ArrayLike<number>, expected: ArrayLike<number>, kind: 'value' | 'grad'): void {
  expect(got.length).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const floor = ABSOLUTE_FLOOR * scale;
  for (let i = 0; i < expected.length; i++) {
    const g = got[i];
    const e = expected[i];
    if (!Number.isFinite(g) || !Number.isFinite(e)) throw new Error(`${what}: element ${i}: got ${g}, expected ${e}`);
    const error = Math.abs(g - e) / Math.max(Math.abs(e), floor, Number.MIN_VALUE);
    const w = (worst[loss] ??= { value: 0, grad: 0, where: '' });
    if (error > w[kind]) {
      w[kind] = error;
      if (kind === 'grad') w.where = `${what}[${i}]`;
    }
    if (error > RTOL) {
      throw new Error(`${what}: element ${i}: got ${g}, expected ${e} (relative error ${error.toExponential(3)} > ${RTOL}, ` +
        `absolute floor ${floor.toExponential(3)})`);
    }
  }
}

/** The reductions of the JS per-element losses and their gradients against the fixture's. */
function checkReductions(loss: string, c: FixtureCase, perLoss: Float64Array, grad: Float64Array, lossShape: number[],
  rowMask: Float64Array | null): void {
  const classes = grad.length / perLoss.length; // 1 for the elementwise losses
  const maskWeights = rowMask && { values: rowMask, shape: lossShape };
  const weights = c.reductions.weights;
  const effective = rowMask
    ? { values: reduceLosses(rowMask, lossShape, weights, 'none').value, shape: lossShape }
    : weights;
  for (const r of REDUCTIONS) {
    compare(loss, `${c.name}: unweighted ${r}`, reduceLosses(perLoss, lossShape, maskWeights, r).value, [c.reductions.unweighted[r]], 'value');
    const { value, coefficients } = reduceLosses(perLoss, lossShape, effective, r);
    compare(loss, `${c.name}: weighted ${r}`, value, [c.reductions.weighted[r] as number], 'value');
    const reducedGrad = Float64Array.from(grad, (g, k) => g * coefficients[Math.floor(k / classes)]);
    compare(loss, `${c.name}: d(weighted ${r})/d logits`, reducedGrad, flat(c.reductions.weightedGrad[r]), 'grad');
  }
  compare(loss, `${c.name}: weighted none`, reduceLosses(perLoss, lossShape, effective, 'none').value,
    flat(c.reductions.weighted.none), 'value');
}

type Elementwise = (x: number, y: number, opts: never) => { loss: number; grad: number };

function checkElementwiseFile(file: string, loss: string, fn: Elementwise, optionsOf: (c: FixtureCase) => object) {
  const fixture = readFixture(file);
  describe(`${loss} (${file})`, () => {
    test('fixture provenance', () => {
      expect(fixture.generator).toBe('tools/gen_family_fixtures.py');
      expect(fixture.versions.torch).toMatch(/^2\.13\.0/);
      expect(fixture.mpmathCheck.maxRelativeLossError).toBeLessThan(1e-10);
      expect(fixture.mpmathCheck.maxRelativeGradError).toBeLessThan(1e-9);
      expect(fixture.cases.some((c) => c.name.startsWith('extreme_'))).toBe(true);
    });
    test.each(fixture.cases.map((c) => [c.name, c] as [string, FixtureCase]))('%s', (_name, c) => {
      const xs = flat(c.logits);
      const ys = flat(c.targets);
      const opts = optionsOf(c) as never;
      const perLoss = new Float64Array(xs.length);
      const grad = new Float64Array(xs.length);
      xs.forEach((x, i) => {
        const r = fn(x, ys[i], opts);
        perLoss[i] = r.loss;
        grad[i] = r.grad;
      });
      expectAllFinite(`${c.name}: loss`, perLoss);
      expectAllFinite(`${c.name}: grad`, grad);
      compare(loss, `${c.name}: loss`, perLoss, flat(c.loss), 'value');
      compare(loss, `${c.name}: grad`, grad, flat(c.grad), 'grad');
      checkReductions(loss, c, perLoss, grad, c.shape, null);
      if (c.lossPublishedForm !== undefined) {
        const published = xs.map((x, i) => polySigmoidFocal(x, ys[i], { ...(opts as object), alphaWeightsPolyTerm: false } as never).loss);
        compare(loss, `${c.name}: PolyLoss published form`, published, flat(c.lossPublishedForm), 'value');
        // the two forms differ wherever alpha_t != 1 and the poly term is not negligible
        expect(published.some((v, i) => Math.abs(v - perLoss[i]) > 1e-6 * Math.abs(v))).toBe(true);
      }
    });
  });
}

type RowFn = (row: ArrayLike<number>, label: number | ArrayLike<number>, opts: never) => { loss: number; grad: Float64Array };

function checkSoftmaxFile(file: string, loss: string, fn: RowFn, optionsOf: (c: FixtureCase) => object) {
  const fixture = readFixture(file);
  describe(`${loss} (${file})`, () => {
    test('fixture provenance', () => {
      expect(fixture.generator).toBe('tools/gen_family_fixtures.py');
      expect(fixture.versions.torch).toMatch(/^2\.13\.0/);
      expect(fixture.mpmathCheck.maxRelativeLossError).toBeLessThan(1e-10);
      expect(fixture.mpmathCheck.maxRelativeGradError).toBeLessThan(1e-9);
      expect(fixture.cases.some((c) => c.name.startsWith('extreme_'))).toBe(true);
    });
    test.each(fixture.cases.map((c) => [c.name, c] as [string, FixtureCase]))('%s', (_name, c) => {
      const classes = c.shape[c.shape.length - 1];
      const rowShape = c.shape.slice(0, -1);
      const rows = size(rowShape);
      const z = flat(c.logits);
      const opts = optionsOf(c) as never;
      const labelings: Array<[string, (i: number) => number | number[]]> = [];
      if (c.sparseLabels !== undefined) {
        const sparse = flat(c.sparseLabels);
        labelings.push(['sparse', (i) => sparse[i]]);
      }
      if (c.labels !== undefined) {
        const dense = flat(c.labels);
        labelings.push(['dense', (i) => dense.slice(i * classes, (i + 1) * classes)]);
      }
      expect(labelings.length).toBeGreaterThan(0);
      for (const [kind, labelOf] of labelings) {
        const perLoss = new Float64Array(rows);
        const grad = new Float64Array(rows * classes);
        for (let i = 0; i < rows; i++) {
          const r = fn(z.slice(i * classes, (i + 1) * classes), labelOf(i), opts);
          perLoss[i] = r.loss;
          grad.set(r.grad, i * classes);
        }
        expectAllFinite(`${c.name}: loss`, perLoss);
        expectAllFinite(`${c.name}: grad`, grad);
        compare(loss, `${c.name} (${kind}): loss`, perLoss, flat(c.loss), 'value');
        compare(loss, `${c.name} (${kind}): grad`, grad, flat(c.grad), 'grad');
        const ignoreIndex = c.options.ignoreIndex;
        const rowMask = ignoreIndex === undefined ? null
          : Float64Array.from(flat(c.sparseLabels), (t) => (t === ignoreIndex ? 0 : 1));
        checkReductions(loss, c, perLoss, grad, rowShape, rowMask);
      }
    });
  });
}

const softmaxOptions = (c: FixtureCase) => ({ ...c.options, ignoreIndex: c.options.ignoreIndex ?? null });
checkSoftmaxFile('family_poly_softmax_focal.json', 'polySoftmaxFocal', polySoftmaxFocal as RowFn, softmaxOptions);
checkSoftmaxFile('family_logit_adjusted_focal.json', 'logitAdjustedFocal', logitAdjustedFocal as RowFn, softmaxOptions);
checkElementwiseFile('family_poly_sigmoid_focal.json', 'polySigmoidFocal', polySigmoidFocal as Elementwise, (c) => c.options);
checkElementwiseFile('family_asymmetric.json', 'asymmetric', asymmetric as Elementwise, (c) => c.options);
checkElementwiseFile('family_varifocal.json', 'varifocal', varifocal as Elementwise, (c) => c.options);
checkElementwiseFile('family_quality_focal.json', 'qualityFocal', qualityFocal as Elementwise, (c) => c.options);

describe('fixture coverage: every option value the issue asks for is present', () => {
  const values = (file: string, key: string) => new Set(readFixture(file).cases.map((c) => JSON.stringify(c.options[key])));
  test('poly: gamma 0, 0.5, 2 and eps negative, zero, positive, on softmax and sigmoid', () => {
    for (const file of ['family_poly_softmax_focal.json', 'family_poly_sigmoid_focal.json']) {
      for (const g of ['0', '0.5', '2']) expect(values(file, 'gamma').has(g)).toBe(true);
      for (const e of ['-1', '0', '1']) expect(values(file, 'polyEpsilon').has(e)).toBe(true);
      expect([...values(file, 'alpha')].length).toBeGreaterThan(1);
      expect(values(file, 'labelSmoothing').size).toBeGreaterThan(1);
    }
    expect(values('family_poly_sigmoid_focal.json', 'alpha').has('null')).toBe(true);
  });
  test('asymmetric clip 0 and 0.05, varifocal gamma 0 / 0.5 / 2 and iouWeighted false, quality focal beta 0.5 / 1 / 2', () => {
    for (const v of ['0', '0.05']) expect(values('family_asymmetric.json', 'clip').has(v)).toBe(true);
    for (const v of ['0', '0.5', '2']) expect(values('family_varifocal.json', 'gamma').has(v)).toBe(true);
    expect(values('family_varifocal.json', 'iouWeighted').has('false')).toBe(true);
    for (const v of ['0.5', '1', '2']) expect(values('family_quality_focal.json', 'beta').has(v)).toBe(true);
  });
  test('logit adjustment: tau 0.5 / 1 / 2, class counts and priors', () => {
    const adjustments = readFixture('family_logit_adjusted_focal.json').cases.map((c) => c.options.logitAdjustment);
    for (const tau of [0.5, 1, 2]) expect(adjustments.some((a) => a.tau === tau)).toBe(true);
    expect(adjustments.some((a) => 'priors' in a)).toBe(true);
    expect(adjustments.some((a) => 'classCounts' in a && a.tau === undefined)).toBe(true);
  });
  test('quality focal: a target equal to p in float64 (x = 0, q = 0.5) takes the subgradient 0 for beta > 0', () => {
    for (const c of readFixture('family_quality_focal.json').cases.filter((k) => /^beta/.test(k.name))) {
      expect(flat(c.logits)[0]).toBe(0);
      expect(flat(c.targets)[0]).toBe(0.5);
      expect(Math.abs(flat(c.grad)[0])).toBe(0);
      expect(Math.abs(qualityFocal(0, 0.5, c.options).grad)).toBe(0);
    }
  });
});

describe('JS analytic gradients against their own central differences', () => {
  const rng = new Rng(17);
  const points = Array.from({ length: 40 }, () => rng.normal() * 4);
  const elementwise: Array<[string, (x: number, y: number) => { loss: number; grad: number }, () => number]> = [
    ['poly sigmoid gamma 2 eps 1 alpha 0.25', (x, y) => polySigmoidFocal(x, y, { gamma: 2, alpha: 0.25, polyEpsilon: 1 }), () => rng.int(0, 2)],
    ['poly sigmoid gamma 0.5 eps -1 soft', (x, y) => polySigmoidFocal(x, y, { gamma: 0.5, alpha: null, polyEpsilon: -1, labelSmoothing: 0.1 }), () => rng.next()],
    ['asymmetric defaults', (x, y) => asymmetric(x, y, { gammaPos: 0, gammaNeg: 4, clip: 0.05 }), () => rng.int(0, 2)],
    ['asymmetric gammaNeg 0.5 clip 0', (x, y) => asymmetric(x, y, { gammaPos: 1, gammaNeg: 0.5, clip: 0 }), () => rng.int(0, 2)],
    ['varifocal', (x, q) => varifocal(x, q, { alpha: 0.75, gamma: 2 }), () => (rng.next() < 0.5 ? 0 : rng.next())],
    ['varifocal iouWeighted false', (x, q) => varifocal(x, q, { alpha: 0.75, gamma: 2, iouWeighted: false }), () => (rng.next() < 0.5 ? 0 : rng.next())],
    ['quality focal beta 0.5', (x, q) => qualityFocal(x, q, { beta: 0.5 }), () => rng.next()],
    ['quality focal beta 2', (x, q) => qualityFocal(x, q, { beta: 2 }), () => rng.next()],
  ];
  test.each(elementwise)('%s', (_name, fn, target) => {
    for (const x of points) {
      const y = target();
      // keep the kinks (p = clip, p = q) out of the difference quotient's reach
      const p = 1 / (1 + Math.exp(-x));
      if (Math.abs(p - 0.05) < 1e-3 || Math.abs(p - y) < 1e-3) continue;
      const [fd] = centralDifferences((v) => fn(v[0], y).loss, [x], [0]);
      const g = fn(x, y).grad;
      expect(Math.abs(g - fd)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(fd)));
    }
  });
  test('softmax poly and logit-adjusted rows', () => {
    const adjustment: LogitAdjustment = { classCounts: [50, 20, 5, 1], tau: 1.5 };
    for (let trial = 0; trial < 20; trial++) {
      const z = Array.from({ length: 4 }, () => rng.normal() * 3);
      const label = rng.int(0, 4);
      const opts = { gamma: rng.pick([0, 0.5, 2]), alpha: [0.2, 0.4, 0.6, 0.8], polyEpsilon: rng.pick([-1, 0.5, 2]), labelSmoothing: 0.1 };
      for (const fn of [(r: ArrayLike<number>) => polySoftmaxFocal(r, label, opts),
        (r: ArrayLike<number>) => logitAdjustedFocal(r, label, { ...opts, logitAdjustment: adjustment })]) {
        const fd = centralDifferences((v) => fn(v).loss, z, [0, 1, 2, 3]);
        const g = fn(z).grad;
        g.forEach((gk, k) => expect(Math.abs(gk - fd[k])).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(fd[k]))));
      }
    }
  });
});

describe('agreement with the existing focal-loss reference (test/reference.ts)', () => {
  const rng = new Rng(99);
  test('eps = 0 is today\'s softmax focal loss (sparse, dense, smoothing, per-class alpha)', () => {
    const rows = 7;
    const classes = 5;
    const z = rng.float32Normal(rows * classes, 3);
    const labels = rng.sparseLabels(rows, classes);
    const soft = rng.softLabels(rows, classes);
    const options = { gamma: 0.7, alpha: [0.1, 0.5, 1, 2, 0.3], labelSmoothing: 0.15 };
    const sparseRef = softmaxFocalRows(z, rows, classes, { kind: 'sparse', values: labels }, options);
    const denseRef = softmaxFocalRows(z, rows, classes, { kind: 'dense', values: soft }, options);
    for (let i = 0; i < rows; i++) {
      const row = z.subarray(i * classes, (i + 1) * classes);
      const sparse = polySoftmaxFocal(row, labels[i], { ...options, polyEpsilon: 0 });
      const dense = polySoftmaxFocal(row, soft.subarray(i * classes, (i + 1) * classes), options);
      compare('existing reference', 'sparse loss', [sparse.loss], [sparseRef.loss[i]], 'value');
      compare('existing reference', 'sparse grad', sparse.grad, sparseRef.grad.subarray(i * classes, (i + 1) * classes), 'grad');
      compare('existing reference', 'dense loss', [dense.loss], [denseRef.loss[i]], 'value');
      compare('existing reference', 'dense grad', dense.grad, denseRef.grad.subarray(i * classes, (i + 1) * classes), 'grad');
    }
  });
  test('eps = 0 is today\'s sigmoid focal loss (torchvision form, alpha null, smoothing)', () => {
    for (let k = 0; k < 60; k++) {
      const x = rng.normal() * 5;
      const y = rng.pick([0, 1, rng.next()]);
      const options = { gamma: rng.pick([0, 0.5, 2, 3.5]), alpha: rng.pick([null, 0.25, 0.9]), labelSmoothing: rng.pick([0, 0.1]) };
      const [loss, grad] = sigmoidFocalElement(x, y, options);
      const got = polySigmoidFocal(x, y, options);
      compare('existing reference', 'sigmoid loss', [got.loss], [loss], 'value');
      // the existing reference writes dce/dx as p - y, which cancels where p is within ~1e-8 of y
      expect(Math.abs(got.grad - grad)).toBeLessThanOrEqual(1e-9 * Math.max(Math.abs(grad), 1e-6));
    }
  });
  test('logit adjustment is the focal loss of z + tau log(pi); gamma 0 and alpha 1 give logit-adjusted cross-entropy', () => {
    const counts = [300, 30, 3];
    const shift = logitAdjustmentShift({ classCounts: counts, tau: 0.8 }, 3);
    const total = counts.reduce((a, b) => a + b, 0);
    shift.forEach((s, j) => expect(s).toBeCloseTo(0.8 * Math.log(counts[j] / total), 14));
    // priors scaled by a common factor shift every logit equally: softmax (and the loss) unchanged
    const scaled = logitAdjustedFocal([0.3, -1, 2], 1, { gamma: 2, alpha: 0.25, logitAdjustment: { priors: [3, 0.3, 0.03], tau: 0.8 } });
    const viaCounts = logitAdjustedFocal([0.3, -1, 2], 1, { gamma: 2, alpha: 0.25, logitAdjustment: { classCounts: counts, tau: 0.8 } });
    compare('existing reference', 'scaled priors', [scaled.loss], [viaCounts.loss], 'value');
    const z = [0.3, -1, 2];
    const adjusted = z.map((v, j) => v + shift[j]);
    const ref = softmaxFocalRows(adjusted, 1, 3, { kind: 'sparse', values: [2] }, { gamma: 0, alpha: 1 });
    const got = logitAdjustedFocal(z, 2, { gamma: 0, alpha: 1, logitAdjustment: { classCounts: counts, tau: 0.8 } });
    compare('existing reference', 'logit-adjusted loss', [got.loss], ref.loss, 'value');
    compare('existing reference', 'logit-adjusted grad', got.grad, ref.grad, 'grad');
    const lse = Math.log(adjusted.reduce((s, v) => s + Math.exp(v), 0));
    expect(got.loss).toBeCloseTo(lse - adjusted[2], 13);
  });
});

describe('reduceLosses', () => {
  test('zero denominators give 0 with zero coefficients; tf.losses semantics otherwise', () => {
    const losses = [1, 2, 3, 4];
    const zero = { values: [0, 0], shape: [2, 1] };
    for (const r of ['mean', 'sumByNonzeroWeights'] as const) {
      const { value, coefficients } = reduceLosses(losses, [2, 2], zero, r);
      expect(Array.from(value)).toEqual([0]);
      expect(Array.from(coefficients)).toEqual([0, 0, 0, 0]);
    }
    const w = { values: [0, 2], shape: [2, 1] };
    expect(reduceLosses(losses, [2, 2], w, 'mean').value[0]).toBeCloseTo((3 * 2 + 4 * 2) / 4, 15);
    expect(reduceLosses(losses, [2, 2], w, 'sumByNonzeroWeights').value[0]).toBeCloseTo(14 / 2, 15);
    expect(reduceLosses(losses, [2, 2], w, 'sum').value[0]).toBe(14);
    expect(Array.from(reduceLosses(losses, [2, 2], w, 'none').value)).toEqual([0, 0, 6, 8]);
    expect(reduceLosses(losses, [2, 2], null, 'sumByNonzeroWeights').value[0]).toBe(2.5);
    expect(reduceLosses(losses, [2, 2], { values: [2], shape: [] }, 'mean').value[0]).toBe(2.5);
    expect(() => reduceLosses(losses, [2, 2], { values: [1, 2, 3], shape: [3] }, 'sum')).toThrow(/broadcast/);
  });
});

afterAll(() => {
  const lines = Object.entries(worst).map(([loss, w]) =>
    `${loss}: values ${w.value.toExponential(2)}, gradients ${w.grad.toExponential(2)}${w.where ? ` (at ${w.where})` : ''}`);
  if (process.env.FAMILY_REFERENCE_REPORT) console.log(`worst JS-vs-reference relative error:\n${lines.join('\n')}`);
});
