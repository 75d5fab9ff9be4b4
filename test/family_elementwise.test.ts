// The elementwise family (issue 17) through the library on the active backend: Poly-1 sigmoid
// focal loss (polyEpsilon), varifocal, quality focal and asymmetric loss against the PyTorch
// float64 fixtures (test/fixtures/family_*.json): values and gradients of the elementwise loss,
// every reduction, weights and the gradients of the weighted reductions; the extreme cases are
// finite; the composed tfjs forms (lib/paths/composite_family.ts) against the fused kernel; Keras
// objects; polyEpsilon = 0 bit-identical to the focal loss; thread-count bit-identity; errors.

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import './register_gradients';
import {ELEMENTWISE_OPTION_DEFAULTS, ResolvedSigmoidElementwiseLossAttrs} from '../lib/kernel_contract';
import {elementwiseFamilyComposite} from '../lib/paths/composite_family';
import {
  asymmetricCrossentropy,
  asymmetricLoss,
  binaryFocalCrossentropy,
  getNumThreads,
  qualityFocalCrossentropy,
  qualityFocalLoss,
  setNumThreads,
  SigmoidElementwiseLossAttrs,
  sigmoidFocalLoss,
  varifocalCrossentropy,
  varifocalLoss,
} from '../lib';
import { addon } from '../lib/native';
import { Rng, expectAllClose, expectAllFinite, maxAbs, tidyRead } from './numeric_helpers';

const RTOL = 1e-5;
const FIXTURES = path.join(__dirname, 'fixtures');
const flat = (x: unknown): number[] => (Array.isArray(x) ? (x as unknown[]).flatMap(flat) : [x as number]);

/* eslint-disable @typescript-eslint/no-explicit-any -- fixture JSON */
interface FixtureCase {
  name: string;
  options: any;
  shape: number[];
  logits: unknown;
  targets: unknown;
  loss: unknown;
  grad: unknown;
  reductions: any;
  reference?: string;
}

type LossFn = (t: tf.Tensor, x: tf.Tensor, options: any) => tf.Tensor;

interface Family {
  file: string;
  fn: LossFn;
  /** The fixture's options as the library's options. */
  options: (o: any) => any;
  /** The kernel attrs of the same loss (for the composed form). */
  attrs: (o: any) => SigmoidElementwiseLossAttrs;
  /** Absolute floor, as a fraction of the case's largest value (family-notes: ill-conditioned cases). */
  floor: (c: FixtureCase) => number;
}

const FAMILIES: Family[] = [
  {
    file: 'family_poly_sigmoid_focal.json',
    fn: sigmoidFocalLoss,
    options: (o) => ({ gamma: o.gamma, alpha: o.alpha, labelSmoothing: o.labelSmoothing, polyEpsilon: o.polyEpsilon }),
    attrs: (o) => ({ gamma: o.gamma, alpha: o.alpha === null ? -1 : o.alpha, labelSmoothing: o.labelSmoothing, fromLogits: true, polyEpsilon: o.polyEpsilon }),
    // eps = -1, gamma = 0: CE - (1 - p_t) cancels to (1 - p_t)^2 / 2 in float32.
    // eps < 0: BCE + eps (1 - p_t) cancels as 1 - p_t -> 0 (to (1 - p_t)^2 / 2 at eps = -1).
    floor: (c) => (c.options.polyEpsilon < 0 ? 1e-6 : 0),
  },
  {
    file: 'family_varifocal.json',
    fn: varifocalLoss,
    options: (o) => ({ alpha: o.alpha, gamma: o.gamma, iouWeighted: o.iouWeighted }),
    attrs: (o) => ({ loss: 'varifocal', alpha: o.alpha, gamma: o.gamma, iouWeighted: o.iouWeighted ?? true, labelSmoothing: 0, fromLogits: true }),
    floor: () => 0,
  },
  {
    file: 'family_quality_focal.json',
    fn: qualityFocalLoss,
    options: (o) => ({ beta: o.beta }),
    // gamma: required of a direct call, not read by this loss (NaN would show if it were).
    attrs: (o) => ({ loss: 'qualityFocal', beta: o.beta, gamma: NaN, alpha: -1, labelSmoothing: 0, fromLogits: true }),
    // q within 1e-5 of p: |q - p| carries float32 p's rounding (family-notes, decision 3).
    floor: () => 1e-6,
  },
  {
    file: 'family_asymmetric.json',
    fn: asymmetricLoss,
    options: (o) => ({ gammaPos: o.gammaPos, gammaNeg: o.gammaNeg, clip: o.clip }),
    attrs: (o) => ({ loss: 'asymmetric', gammaPos: o.gammaPos, gamma: NaN, gammaNeg: o.gammaNeg, clip: o.clip, alpha: -1, labelSmoothing: 0, fromLogits: true }),
    floor: () => 0,
  },
];

const REDUCTIONS: Array<[string, tf.Reduction]> = [
  ['sum', tf.Reduction.SUM],
  ['mean', tf.Reduction.MEAN],
  ['sumByNonzeroWeights', tf.Reduction.SUM_BY_NONZERO_WEIGHTS],
];

/** The worst relative error seen per loss (printed at the end: the closing table). */
const worst: Record<string, { value: number; grad: number }> = {};
function record(file: string, kind: "value" | "grad", got: ArrayLike<number>, want: ArrayLike<number>) {
  const w = (worst[file] ??= { value: 0, grad: 0 });
  const scale = maxAbs(want);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    // Relative errors of elements below the floor (or 1e-4 of the largest) are not reported.
    if (Math.abs(want[i]) < 1e-4 * scale) continue;
    w[kind] = Math.max(w[kind], err / Math.max(Math.abs(want[i]), 1e-300));
  }
}

function check(file: string, kind: 'value' | 'grad', what: string, got: ArrayLike<number>, want: number[], floor: number) {
  const atol = Math.max(floor * maxAbs(want), 1e-30);
  record(file, kind, got, want);
  expectAllClose(what, got, want, RTOL, atol);
}

function readValues(fn: () => tf.Tensor): Float32Array {
  return tidyRead(() => [fn()])[0] as Float32Array;
}

afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`worst relative errors (${tf.getBackend()}${process.env.TFJS_FOCAL_LOSS_TF_OPS === '0' ? ', JS arrays' : ''}): ` +
    JSON.stringify(worst));
});

for (const family of FAMILIES) {
  const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, family.file), 'utf8')) as { cases: FixtureCase[] };
  describe(family.file, () => {
    for (const c of fixture.cases) {
      const extreme = c.reference !== undefined;
      const floor = family.floor(c);
      test(`${c.name}: elementwise values and gradient`, () => {
        const x = tf.tensor(flat(c.logits), c.shape);
        const t = tf.tensor(flat(c.targets), c.shape);
        const options = { ...family.options(c.options), reduction: tf.Reduction.NONE };
        const loss = readValues(() => family.fn(t, x, options));
        const grad = readValues(() => tf.grad((z: tf.Tensor) => tf.sum(family.fn(t, z, options)))(x));
        if (extreme) {
          expectAllFinite(`${c.name} loss`, loss);
          expectAllFinite(`${c.name} grad`, grad);
        }
        check(family.file, 'value', `${c.name} loss`, loss, flat(c.loss), floor);
        check(family.file, 'grad', `${c.name} grad`, grad, flat(c.grad), Math.max(floor, 1e-7));
        tf.dispose([x, t]);
      });
      if (extreme) continue;
      test(`${c.name}: reductions, weights and weighted gradients`, () => {
        const x = tf.tensor(flat(c.logits), c.shape);
        const t = tf.tensor(flat(c.targets), c.shape);
        const r = c.reductions;
        const w = tf.tensor(r.weights.values, r.weights.shape);
        const base = family.options(c.options);
        for (const [name, reduction] of REDUCTIONS) {
          const unweighted = readValues(() => family.fn(t, x, { ...base, reduction }));
          check(family.file, 'value', `${c.name} unweighted ${name}`, unweighted, [r.unweighted[name]], floor);
          const weighted = readValues(() => family.fn(t, x, { ...base, reduction, weights: w }));
          check(family.file, 'value', `${c.name} weighted ${name}`, weighted, [r.weighted[name]], floor);
          const g = readValues(() => tf.grad((z: tf.Tensor) => family.fn(t, z, { ...base, reduction, weights: w }))(x));
          check(family.file, 'grad', `${c.name} weighted ${name} grad`, g, flat(r.weightedGrad[name]), Math.max(floor, 1e-7));
        }
        const none = readValues(() => family.fn(t, x, { ...base, reduction: tf.Reduction.NONE, weights: w }));
        check(family.file, 'value', `${c.name} weighted none`, none, flat(r.weighted.none), floor);
        tf.dispose([x, t, w]);
      });
    }

    test('the composed tfjs form matches the fused kernel (values and gradients)', () => {
      for (const c of fixture.cases) {
        const x = tf.tensor(flat(c.logits), c.shape);
        const t = tf.tensor(flat(c.targets), c.shape);
        // The attrs as the functions pass them: complete (loss 'focal' and the native defaults unless set).
        const attrs: ResolvedSigmoidElementwiseLossAttrs = {...ELEMENTWISE_OPTION_DEFAULTS, loss: 'focal', reduction: 'none', ...family.attrs(c.options)};
        const composed = readValues(() => elementwiseFamilyComposite(t, x, attrs));
        const composedGrad = readValues(() => tf.grad((z: tf.Tensor) => tf.sum(elementwiseFamilyComposite(t, z, attrs)))(x));
        expectAllFinite(`${c.name} composed loss`, composed);
        expectAllFinite(`${c.name} composed grad`, composedGrad);
        if (c.reference === undefined) {
          // The composite computes in float32 tfjs ops: a looser bound than the fused kernel's.
          expectAllClose(`${c.name} composed loss`, composed, flat(c.loss), 1e-4, 1e-5 * maxAbs(flat(c.loss)));
          // Quality focal with beta < 1 near p = q: the gradient ~ |q - p|^(beta - 1) is
          // ill-conditioned in float32 ops; those elements are left out of the composite check.
          const grad = flat(c.grad);
          const xs = flat(c.logits);
          const ts = flat(c.targets);
          const keep = grad.map((_, i) => !(family.file.includes('quality') && c.options.beta < 1 &&
              Math.abs(1 / (1 + Math.exp(-xs[i])) - ts[i]) < 1e-2));
          expectAllClose(`${c.name} composed grad`, Array.from(composedGrad).filter((_, i) => keep[i]),
                         grad.filter((_, i) => keep[i]), 1e-4, 1e-5 * maxAbs(grad));
        }
        for (const reduction of ['sum', 'mean'] as const) {
          const reduced = readValues(() => elementwiseFamilyComposite(t, x, { ...attrs, reduction }));
          const fused = readValues(() => family.fn(t, x, { ...family.options(c.options), reduction: reduction === 'sum' ? tf.Reduction.SUM : tf.Reduction.MEAN }));
          expectAllClose(`${c.name} composed ${reduction}`, reduced, fused, 1e-4, 1e-6 * Math.abs(fused[0]));
        }
        tf.dispose([x, t]);
      }
    });
  });
}

describe('polyEpsilon = 0 is the focal loss, bit for bit', () => {
  test('sigmoidFocalLoss and binaryFocalCrossentropy', () => {
    const rng = new Rng(17);
    const n = 1000;
    const x = tf.tensor(Array.from({ length: n }, () => rng.normal() * 4), [50, 20]);
    const y = tf.tensor(Array.from({ length: n }, () => (rng.uniform(0, 1) < 0.3 ? 1 : 0)), [50, 20]);
    const p = tf.sigmoid(x);
    for (const gamma of [0, 0.5, 2, 4]) {
      for (const alpha of [0.25, null]) {
        const base = { gamma, alpha, reduction: tf.Reduction.NONE };
        const [a, b, ga, gb] = tidyRead(() => [
          sigmoidFocalLoss(y, x, base),
          sigmoidFocalLoss(y, x, { ...base, polyEpsilon: 0 }),
          tf.grad((z: tf.Tensor) => tf.sum(sigmoidFocalLoss(y, z, base)))(x),
          tf.grad((z: tf.Tensor) => tf.sum(sigmoidFocalLoss(y, z, { ...base, polyEpsilon: 0 })))(x),
        ]) as Float32Array[];
        expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
        expect(Buffer.from(gb.buffer).equals(Buffer.from(ga.buffer))).toBe(true);
      }
    }
    const [k0, k1] = tidyRead(() => [binaryFocalCrossentropy({ gamma: 2 })(y, p), binaryFocalCrossentropy({ gamma: 2, polyEpsilon: 0 })(y, p)]) as Float32Array[];
    expect(Buffer.from(k1.buffer).equals(Buffer.from(k0.buffer))).toBe(true);
    tf.dispose([x, y, p]);
  });

  test('binaryFocalCrossentropy on probabilities adds eps alpha_t (1 - p_t)^(gamma + 1)', () => {
    const rng = new Rng(3);
    const p = tf.tensor(Array.from({ length: 24 }, () => 0.02 + 0.96 * rng.uniform(0, 1)), [4, 6]);
    const y = tf.tensor(Array.from({ length: 24 }, () => (rng.uniform(0, 1) < 0.5 ? 1 : 0)), [4, 6]);
    const cfg = { gamma: 1.5, applyClassBalancing: true, alpha: 0.3 };
    const [withPoly, without] = tidyRead(() => [binaryFocalCrossentropy({ ...cfg, polyEpsilon: 2 })(y, p), binaryFocalCrossentropy(cfg)(y, p)]) as Float32Array[];
    const pv = p.dataSync();
    const yv = y.dataSync();
    for (let row = 0; row < 4; row++) {
      let extra = 0;
      for (let j = 0; j < 6; j++) {
        const k = row * 6 + j;
        const q = yv[k] * (1 - pv[k]) + (1 - yv[k]) * pv[k];
        extra += (yv[k] ? 0.3 : 0.7) * 2 * Math.pow(q, 2.5);
      }
      expect(Math.abs(withPoly[row] - without[row] - extra / 6)).toBeLessThan(1e-5 * Math.max(1, withPoly[row]));
    }
    // The gradient wrt the probabilities matches central differences of the float64 formula.
    const g = readValues(() => tf.grad((z: tf.Tensor) => tf.sum(binaryFocalCrossentropy({ ...cfg, polyEpsilon: 2 })(y, z)))(p));
    const f = (pk: number, yk: number) => {
      const q = yk * (1 - pk) + (1 - yk) * pk;
      const at = yk ? 0.3 : 0.7;
      const bce = -(yk * Math.log(pk) + (1 - yk) * Math.log(1 - pk));
      return (at * (Math.pow(q, 1.5) * bce + 2 * Math.pow(q, 2.5))) / 6;
    };
    for (let k = 0; k < 24; k++) {
      const h = 1e-6;
      const fd = (f(pv[k] + h, yv[k]) - f(pv[k] - h, yv[k])) / (2 * h);
      expect(Math.abs(g[k] - fd)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
    }
    tf.dispose([p, y]);
  });
});

describe('labels gradient (soft targets)', () => {
  test('matches central differences of the loss for every member', () => {
    const rng = new Rng(5);
    const n = 12;
    const x = tf.tensor(Array.from({ length: n }, () => rng.normal() * 2), [n]);
    const t = tf.tensor(Array.from({ length: n }, () => 0.1 + 0.8 * rng.uniform(0, 1)), [n]);
    const calls: Array<[string, (tt: tf.Tensor) => tf.Tensor]> = [
      ['poly', (tt) => sigmoidFocalLoss(tt, x, { polyEpsilon: 1.5, reduction: tf.Reduction.SUM })],
      ['varifocal', (tt) => varifocalLoss(tt, x, { reduction: tf.Reduction.SUM })],
      ['varifocal iouWeighted false', (tt) => varifocalLoss(tt, x, { iouWeighted: false, reduction: tf.Reduction.SUM })],
      ['qualityFocal', (tt) => qualityFocalLoss(tt, x, { reduction: tf.Reduction.SUM })],
      ['asymmetric', (tt) => asymmetricLoss(tt, x, { gammaPos: 1, reduction: tf.Reduction.SUM })],
    ];
    const tv = t.dataSync();
    for (const [name, fn] of calls) {
      const g = readValues(() => tf.grad(fn)(t));
      for (const k of [0, 5, 11]) {
        const h = 1e-2;
        const at = (d: number) => readValues(() => fn(tf.tensor(Array.from(tv, (v, i) => (i === k ? v + d : v)), [n])))[0];
        const fd = (at(h) - at(-h)) / (2 * h);
        expect({ name, k, diff: Math.abs(g[k] - fd) < 2e-3 * Math.max(1, Math.abs(fd)) }).toEqual({ name, k, diff: true });
      }
    }
    tf.dispose([x, t]);
  });
});

describe('Keras-style objects', () => {
  test('the elementwise loss averaged over the last axis; repr and config', () => {
    const rng = new Rng(9);
    const x = tf.tensor(Array.from({ length: 30 }, () => rng.normal() * 3), [5, 6]);
    const q = tf.tensor(Array.from({ length: 30 }, () => (rng.uniform(0, 1) < 0.5 ? 0 : rng.uniform(0, 1))), [5, 6]);
    const y = tf.tensor(Array.from({ length: 30 }, () => (rng.uniform(0, 1) < 0.3 ? 1 : 0)), [5, 6]);
    const cases: Array<[{ (a: tf.Tensor, b: tf.Tensor): tf.Tensor; toString(): string }, tf.Tensor]> = [];
    const vf = varifocalCrossentropy({ alpha: 0.5, gamma: 1 });
    const qf = qualityFocalCrossentropy({ beta: 1.5 });
    const asl = asymmetricCrossentropy({ gammaNeg: 2, clip: 0.1 });
    const vfUnweighted = varifocalCrossentropy({ iouWeighted: false });
    cases.push([vf, q], [qf, q], [asl, y], [vfUnweighted, q]);
    const direct = [
      () => varifocalLoss(q, x, { alpha: 0.5, gamma: 1, reduction: tf.Reduction.NONE }),
      () => qualityFocalLoss(q, x, { beta: 1.5, reduction: tf.Reduction.NONE }),
      () => asymmetricLoss(y, x, { gammaNeg: 2, clip: 0.1, reduction: tf.Reduction.NONE }),
      () => varifocalLoss(q, x, { iouWeighted: false, reduction: tf.Reduction.NONE }),
    ];
    cases.forEach(([fn, target], i) => {
      const [got, want] = tidyRead(() => [fn(target, x), tf.mean(direct[i](), -1)]) as Float32Array[];
      expect(got.length).toBe(5);
      expectAllClose(`keras ${i}`, got, want, 1e-6);
    });
    expect(vf.toString()).toBe('VarifocalCrossentropy(alpha=0.5, gamma=1, iouWeighted=true)');
    expect(vfUnweighted.toString()).toBe('VarifocalCrossentropy(alpha=0.75, gamma=2, iouWeighted=false)');
    expect(asl.toString()).toBe('AsymmetricCrossentropy(gammaPos=0, gammaNeg=2, clip=0.1)');
    expect(qf.config).toEqual({ beta: 1.5 });
    expect(() => varifocalCrossentropy({ gama: 2 } as never)).toThrow(/unknown option 'gama' in config.*did you mean 'gamma'/);
    tf.dispose([x, q, y]);
  });
});

describe('bit-identical whatever the thread count', () => {
  test('every member, loss and gradient', () => {
    const rng = new Rng(11);
    const n = 200003;
    const x = tf.tensor(Array.from({ length: n }, () => rng.normal() * 5), [n]);
    const q = tf.tensor(Array.from({ length: n }, () => (rng.uniform(0, 1) < 0.5 ? 0 : rng.uniform(0, 1))), [n]);
    const runs: Array<(z: tf.Tensor) => tf.Tensor> = [
      (z) => sigmoidFocalLoss(q, z, { polyEpsilon: 1, reduction: tf.Reduction.NONE }),
      (z) => sigmoidFocalLoss(q, z, { polyEpsilon: -0.5, gamma: 4.5, reduction: tf.Reduction.NONE }),
      (z) => varifocalLoss(q, z, { reduction: tf.Reduction.NONE }),
      (z) => qualityFocalLoss(q, z, { reduction: tf.Reduction.NONE }),
      (z) => asymmetricLoss(tf.round(q), z, { reduction: tf.Reduction.NONE }),
      (z) => qualityFocalLoss(q, z, { reduction: tf.Reduction.MEAN }),
    ];
    const original = getNumThreads();
    try {
      for (const [k, run] of runs.entries()) {
        const both = () => [run(x), tf.grad((z: tf.Tensor) => tf.sum(run(z)))(x)];
        setNumThreads(1);
        const base = tidyRead(both) as Float32Array[];
        for (const threads of [2, 3, 8]) {
          setNumThreads(threads);
          const again = tidyRead(both) as Float32Array[];
          again.forEach((v, i) => expect({ k, threads, i, same: Buffer.from(v.buffer).equals(Buffer.from(base[i].buffer)) }).toEqual({ k, threads, i, same: true }));
        }
      }
    } finally {
      setNumThreads(original);
    }
    tf.dispose([x, q]);
  });
});

describe('fused: one native kernel forward, one backward', () => {
  test.each([
    ['poly', (t: tf.Tensor, z: tf.Tensor) => sigmoidFocalLoss(t, z, { polyEpsilon: 1 })],
    ['varifocal', (t: tf.Tensor, z: tf.Tensor) => varifocalLoss(t, z)],
    ['qualityFocal', (t: tf.Tensor, z: tf.Tensor) => qualityFocalLoss(t, z)],
    ['asymmetric', (t: tf.Tensor, z: tf.Tensor) => asymmetricLoss(tf.round(t), z)],
    ['asymmetric weighted', (t: tf.Tensor, z: tf.Tensor) => asymmetricLoss(tf.round(t), z, { weights: 2 })],
  ])('%s', (_name, fn) => {
    const x = tf.tensor2d([[1, -2, 3], [0.5, -1, 2]]);
    const t = tf.tensor2d([[0.9, 0, 0], [0, 0, 0.6]]);
    let calls = addon().callCount();
    const forward = fn(t, x);
    expect(addon().callCount()).toBe(calls + 1);
    calls = addon().callCount();
    const grad = tf.grad((z: tf.Tensor) => fn(t, z))(x);
    expect(addon().callCount()).toBe(calls + 2);  // the forward kernel and its scale
    expect(Array.from(grad.dataSync()).some((g) => g !== 0)).toBe(true);
    tf.dispose([x, t, forward, grad]);
  });
});

describe('errors', () => {
  const x = tf.tensor([[0.5, -1], [2, 0]]);
  const q = tf.tensor([[0.5, 0], [1, 0.2]]);
  test('targets outside [0, 1] name the element', () => {
    const bad = tf.tensor([[0.5, 0], [1.5, 0.2]]);
    expect(() => varifocalLoss(bad, x)).toThrow(/varifocalLoss: targets\[1, 0\] = 1.5: targets must be in \[0, 1\]/);
    expect(() => qualityFocalLoss(tf.tensor([[0.5, NaN], [1, 0.2]]), x)).toThrow(/^qualityFocalLoss: targets\[0, 1\] = NaN: targets must be in \[0, 1\]$/);
    expect(() => asymmetricLoss(tf.tensor([[-1, 0], [1, 0]]), x)).toThrow(/labels\[0, 0\] = -1: labels must be in \[0, 1\]/);
    tf.dispose(bad);
  });
  test('option ranges and unknown keys', () => {
    expect(() => varifocalLoss(q, x, { gamma: -1 })).toThrow(/varifocalLoss: options.gamma must be a finite number >= 0; received -1/);
    expect(() => varifocalLoss(q, x, { alpha: 1.5 })).toThrow(/options.alpha must be a number in \[0, 1\]; received 1.5/);
    expect(() => qualityFocalLoss(q, x, { beta: -0.5 })).toThrow(/qualityFocalLoss: options.beta must be a finite number >= 0; received -0.5/);
    expect(() => asymmetricLoss(q, x, { gammaNeg: -2 })).toThrow(/options.gammaNeg must be a finite number >= 0/);
    expect(() => asymmetricLoss(q, x, { gammaPos: NaN })).toThrow(/options.gammaPos must be a finite number >= 0; received NaN/);
    expect(() => asymmetricLoss(q, x, { clip: 1 })).toThrow(/asymmetricLoss: options.clip must be a number in \[0, 1\); received 1/);
    expect(() => asymmetricLoss(q, x, { clip: -0.1 })).toThrow(/options.clip must be a number in \[0, 1\); received -0.1/);
    expect(() => asymmetricLoss(q, x, { clip: '0.1' as never })).toThrow(TypeError);
    expect(() => sigmoidFocalLoss(q, x, { polyEpsilon: Infinity })).toThrow(/sigmoidFocalLoss: options.polyEpsilon must be a finite number; received Infinity/);
    expect(() => sigmoidFocalLoss(q, x, { polyEpsilon: 1e39 })).toThrow(/options.polyEpsilon must be a finite number; received 1e\+39/);
    expect(() => binaryFocalCrossentropy({ polyEpsilon: NaN })).toThrow(/binaryFocalCrossentropy: config.polyEpsilon must be a finite number/);
    expect(() => qualityFocalLoss(q, x, { betta: 2 } as never)).toThrow(/unknown option 'betta' in options \(did you mean 'beta'\?\)/);
    expect(() => asymmetricLoss(q, x, { gamma: 2 } as never)).toThrow(/unknown option 'gamma'/);
    expect(() => qualityFocalCrossentropy({ beta: -1 })).toThrow(/qualityFocalCrossentropy: config.beta must be a finite number >= 0/);
    expect(() => asymmetricCrossentropy({ clip: 2 })).toThrow(/config.clip must be a number in \[0, 1\)/);
    expect(() => varifocalLoss(q, tf.tensor([1, 2]))).toThrow(/varifocalLoss/);
  });
});
