// The composite path (lib/paths/composite.ts) on a real backend the native kernel does not serve,
// @tensorflow/tfjs-backend-wasm: focalLoss / sigmoidFocalLoss / the Keras-style losses must give
// the fused kernel's values and gradients (computed on the backend under test, 'cpu' or
// 'tensorflow') within float32 tolerance for every option, stay finite at extreme logits, throw
// the kernel's errors, and nativeStatus() must say which path runs and why.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {asymmetricLoss, categoricalFocalCrossentropy, focalLoss, FocalLossOptions, nativeStatus, qualityFocalLoss, selectPath, sigmoidFocalLoss, SigmoidFocalLossOptions, varifocalLoss} from '../lib';

const KERNEL_BACKEND = process.env.FOCAL_TEST_BACKEND ?? 'tensorflow';

let seed = 20240611;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const randoms = (n: number, scale: number, offset = 0) =>
    Array.from({length: n}, () => offset + (rand() - 0.5) * scale);

interface Spec {
  logitsShape: number[];
  logits: number[];
  labels: number[];
  labelsShape: number[];
  labelsDtype: 'int32' | 'float32';
  weights?: number[];
  weightsShape?: number[];
  noLabelsGradient?: boolean;
}

interface Result {
  value: Float32Array;
  dLogits: Float32Array;
  dLabels: Float32Array | null;
}

/** Value, d/dlogits and (dense labels) d/dlabels of `loss` on `backend`. */
async function evaluate(backend: string, spec: Spec,
                        loss: (labels: tf.Tensor, logits: tf.Tensor, weights?: tf.Tensor) => tf.Tensor):
    Promise<Result> {
  expect(await tf.setBackend(backend)).toBe(true);
  let result!: Result;
  tf.tidy(() => {
    const logits = tf.tensor(spec.logits, spec.logitsShape, 'float32');
    const labels = tf.tensor(spec.labels, spec.labelsShape, spec.labelsDtype);
    const weights = spec.weights ? tf.tensor(spec.weights, spec.weightsShape) : undefined;
    const value = loss(labels, logits, weights).dataSync() as Float32Array;
    const dense = spec.labelsDtype === 'float32';
    // d/dlabels: dense labels (sparse ones are indices); not through normalizeByPositives, whose
    // count of positive labels uses tf.greater, which has no gradient in tfjs.
    const withLabels = dense && !spec.noLabelsGradient;
    const grads = withLabels ?
        tf.grads((x: tf.Tensor, y: tf.Tensor) => loss(y, x, weights))([logits, labels]) :
        [tf.grad((x: tf.Tensor) => loss(labels, x, weights))(logits)];
    result = {
      value: Float32Array.from(value),
      dLogits: Float32Array.from(grads[0].dataSync() as Float32Array),
      dLabels: withLabels ? Float32Array.from(grads[1].dataSync() as Float32Array) : null,
    };
  });
  return result;
}

function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(1e-3, ...Array.from(expected, Math.abs));
  for (let i = 0; i < expected.length; i++) {
    const tol = 2e-4 * Math.abs(expected[i]) + 2e-6 * scale;
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`${what}[${i}]: composite ${actual[i]} vs fused kernel ${expected[i]} (tol ${tol})`);
    }
  }
}

async function compare(spec: Spec, loss: (labels: tf.Tensor, logits: tf.Tensor, weights?: tf.Tensor) => tf.Tensor) {
  const composite = await evaluate('wasm', spec, loss);
  const fused = await evaluate(KERNEL_BACKEND, spec, loss);
  expectClose(composite.value, fused.value, 'loss');
  expectClose(composite.dLogits, fused.dLogits, 'dLoss/dlogits');
  if (fused.dLabels !== null) expectClose(composite.dLabels!, fused.dLabels, 'dLoss/dlabels');
  expect(Array.from(fused.value).some((v) => v !== 0)).toBe(true);
}

afterAll(async () => {
  await tf.setBackend(KERNEL_BACKEND);
});

function softmaxSpec(rows: number, classes: number, kind: 'sparse' | 'dense' | 'probabilities',
                     weighted = false): Spec {
  const logitsShape = [rows, classes];
  let logits = randoms(rows * classes, 8);
  if (kind === 'probabilities') logits = logits.map((v) => Math.abs(v) + 0.05);
  let labels: number[];
  if (kind === 'sparse') {
    labels = Array.from({length: rows}, () => Math.floor(rand() * classes));
  } else {
    labels = [];
    for (let r = 0; r < rows; r++) {
      const row = randoms(classes, 1, 0.5).map(Math.abs);
      const sum = row.reduce((a, b) => a + b, 0);
      labels.push(...row.map((v) => v / sum));
    }
  }
  return {
    logitsShape, logits, labels,
    labelsShape: kind === 'sparse' ? [rows] : logitsShape,
    labelsDtype: kind === 'sparse' ? 'int32' : 'float32',
    ...(weighted ? {weights: randoms(rows, 2, 1), weightsShape: [rows]} : {}),
  };
}

describe('softmax composite vs fused kernel', () => {
  const reductions: Array<[string, tf.Reduction | undefined]> = [
    ['default', undefined], ['NONE', tf.Reduction.NONE], ['SUM', tf.Reduction.SUM],
    ['MEAN', tf.Reduction.MEAN], ['SUM_BY_NONZERO_WEIGHTS', tf.Reduction.SUM_BY_NONZERO_WEIGHTS]];
  const optionSets: Array<[string, FocalLossOptions]> = [
    ['defaults', {}],
    ['gamma 0', {gamma: 0}],
    ['gamma 0.5', {gamma: 0.5}],
    ['gamma 3.5, alpha 0.75', {gamma: 3.5, alpha: 0.75}],
    ['per-class alpha', {alpha: [0.1, 0.2, 0.3, 0.4, 0.5]}],
    ['label smoothing 0.2', {labelSmoothing: 0.2}],
  ];
  for (const kind of ['sparse', 'dense', 'probabilities'] as const) {
    for (const [name, options] of optionSets) {
      for (const [rname, reduction] of reductions) {
        test(`${kind} labels, ${name}, reduction ${rname}`, async () => {
          const spec = softmaxSpec(7, 5, kind);
          await compare(spec, (y, x) => focalLoss(y, x, {
            ...options, reduction, ...(kind === 'probabilities' ? {fromLogits: false} : {})}));
        });
      }
    }
    test(`${kind} labels with weights`, async () => {
      const spec = softmaxSpec(6, 5, kind, true);
      await compare(spec, (y, x, w) => focalLoss(y, x, {
        weights: w, gamma: 1.5, ...(kind === 'probabilities' ? {fromLogits: false} : {})}));
    });
  }
  test('ignoreIndex, with and without weights, every reduction', async () => {
    const spec = softmaxSpec(8, 4, 'sparse', true);
    spec.labels[1] = -100;
    spec.labels[5] = -100;
    for (const [, reduction] of reductions) {
      await compare(spec, (y, x) => focalLoss(y, x, {ignoreIndex: -100, reduction}));
      await compare(spec, (y, x, w) => focalLoss(y, x, {ignoreIndex: -100, weights: w, reduction}));
    }
  });
  test('rank-3 logits', async () => {
    const spec = softmaxSpec(6, 3, 'sparse');
    spec.logitsShape = [2, 3, 3];
    spec.labelsShape = [2, 3];
    await compare(spec, (y, x) => focalLoss(y, x, {reduction: tf.Reduction.NONE, gamma: 2}));
  });
  test('Keras-style categoricalFocalCrossentropy', async () => {
    const spec = softmaxSpec(5, 4, 'dense');
    const loss = categoricalFocalCrossentropy({fromLogits: true, alpha: 0.3, gamma: 1.5, labelSmoothing: 0.1});
    await compare(spec, (y, x) => loss(y, x));
  });
});

describe('sigmoid composite vs fused kernel', () => {
  const optionSets: Array<[string, SigmoidFocalLossOptions]> = [
    ['defaults', {}],
    ['gamma 0', {gamma: 0}],
    ['gamma 0.5', {gamma: 0.5}],
    ['alpha null (off)', {alpha: null}],
    ['alpha -1 (off), gamma 3', {alpha: -1, gamma: 3}],
    ['label smoothing 0.1', {labelSmoothing: 0.1}],
    ['SUM', {reduction: tf.Reduction.SUM}],
    ['NONE', {reduction: tf.Reduction.NONE}],
    ['MEAN', {reduction: tf.Reduction.MEAN}],
    ['normalizeByPositives', {normalizeByPositives: true}],
  ];
  for (const probabilities of [false, true]) {
    for (const [name, options] of optionSets) {
      test(`${probabilities ? 'probabilities' : 'logits'}, ${name}`, async () => {
        const n = 24;
        const logits = probabilities ? randoms(n, 0.9, 0.5) : randoms(n, 12);
        const labels = Array.from({length: n}, (_, i) => (i % 3 === 0 ? rand() : i % 2));
        const spec: Spec = {logitsShape: [4, 6], logits, labels, labelsShape: [4, 6], labelsDtype: 'float32',
                            noLabelsGradient: options.normalizeByPositives === true};
        await compare(spec, (y, x) => sigmoidFocalLoss(y, x, {...options, fromLogits: !probabilities}));
      });
    }
  }
  test('weights', async () => {
    const spec: Spec = {logitsShape: [3, 4], logits: randoms(12, 10), labels: randoms(12, 1, 0.5),
                        labelsShape: [3, 4], labelsDtype: 'float32', weights: randoms(4, 1, 1),
                        weightsShape: [1, 4]};
    await compare(spec, (y, x, w) => sigmoidFocalLoss(y, x, {weights: w}));
  });
});

describe('extreme logits: composite vs fused kernel', () => {
  for (const gamma of [0, 0.3, 2]) {
    test(`softmax and sigmoid at |logits| 1e4, gamma ${gamma}`, async () => {
      const logits = [1e4, 0, -1e4, -1e4, 1e4, 0, 0, 0, 0, 5e3, 5e3, -1e4];
      await compare({logitsShape: [4, 3], logits, labels: [0, 0, 2, 1], labelsShape: [4],
                     labelsDtype: 'int32'},
                    (y, x) => focalLoss(y, x, {gamma, labelSmoothing: 0.1, reduction: tf.Reduction.NONE}));
      await compare({logitsShape: [12], logits, labels: [1, 1, 0.5, 0, 1, 0, 1, 0, 0.5, 1, 0, 1],
                     labelsShape: [12], labelsDtype: 'float32'},
                    (y, x) => sigmoidFocalLoss(y, x, {gamma, reduction: tf.Reduction.NONE}));
    });
  }
});

describe('composite numerics and errors on wasm', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  test('finite values and gradients at |logits| up to 1e4, every gamma', () => {
    const logits = tf.tensor2d([[1e4, 0, -1e4], [-1e4, 1e4, 0], [0, 0, 0], [5e3, 5e3, -1e4]]);
    const sparse = tf.tensor1d([0, 0, 2, 1], 'int32');
    const x = tf.tensor1d([1e4, -1e4, 0, 30, -30, 1e4]);
    const y = tf.tensor1d([1, 1, 0.5, 0, 1, 0]);
    for (const gamma of [0, 0.3, 1, 2]) {
      for (const labelSmoothing of [0, 0.1]) {
        const [l1, g1] = [focalLoss(sparse, logits, {gamma, labelSmoothing, reduction: tf.Reduction.NONE}),
          tf.grad((t: tf.Tensor) => focalLoss(sparse, t, {gamma, labelSmoothing}))(logits)];
        const [l2, g2] = [sigmoidFocalLoss(y, x, {gamma, labelSmoothing, reduction: tf.Reduction.NONE}),
          tf.grad((t: tf.Tensor) => sigmoidFocalLoss(y, t, {gamma, labelSmoothing}))(x)];
        for (const t of [l1, g1, l2, g2]) {
          expect(Array.from(t.dataSync()).every(Number.isFinite)).toBe(true);
        }
        // Row 0: the target has all the probability: loss 0 without smoothing; row 1: ~1e4 * alpha.
        if (labelSmoothing === 0) expect(Math.abs(l1.dataSync()[0])).toBe(0);
        expect(l1.dataSync()[1]).toBeCloseTo(labelSmoothing === 0 ? 0.25 * 2e4 : 4750, -1);
        // At x = 0 the sigmoid cross-entropy's gradient is sigmoid(0) - y, not -y (softplus form).
        if (gamma === 0 && labelSmoothing === 0) {
          const perElement = tf.grad((t: tf.Tensor) => sigmoidFocalLoss(y, t, {gamma: 0, alpha: null, reduction: tf.Reduction.SUM}))(x);
          expect(perElement.dataSync()[2]).toBeCloseTo(0, 6);
          expect(perElement.dataSync()[0]).toBeCloseTo(0, 6);
          expect(perElement.dataSync()[1]).toBeCloseTo(-1, 6);
        }
      }
    }
  });

  test('sparse labels out of range throw the kernel\'s RangeError', () => {
    const logits = tf.zeros([2, 3, 4]);
    expect(() => focalLoss(tf.tensor2d([[0, 1, 2], [3, 9, 0]], [2, 3], 'int32'), logits))
        .toThrow(RangeError);
    expect(() => focalLoss(tf.tensor2d([[0, 1, 2], [3, 9, 0]], [2, 3], 'int32'), logits))
        .toThrow('focalLoss: labels[1, 1] = 9 is out of range [0, 4)');
    expect(() => focalLoss(tf.tensor1d([0, 5], 'int32'), tf.zeros([2, 3]), {ignoreIndex: -1}))
        .toThrow('labels[1] = 5 is out of range [0, 3) and is not ignoreIndex (-1)');
  });

  test('non-finite dense labels, invalid probabilities and sigmoid labels throw', () => {
    expect(() => focalLoss(tf.tensor2d([[0, NaN], [1, 0]]), tf.zeros([2, 2])))
        .toThrow(/^focalLoss: labels\[0, 1\] = NaN: labels must be in \[0, 1\]$/);
    expect(() => focalLoss(tf.tensor1d([0], 'int32'), tf.tensor2d([[0.5, -0.1]]), {fromLogits: false}))
        .toThrow(/logits\[0, 1\] \(row 0, class 1\) = -0.1[0-9]*: with fromLogits=false the inputs are probabilities/);
    expect(() => focalLoss(tf.tensor1d([0], 'int32'), tf.tensor2d([[0, 0]]), {fromLogits: false}))
        .toThrow('logits row 0 sums to 0: with fromLogits=false each row of probabilities must have a positive, finite sum');
    expect(() => sigmoidFocalLoss(tf.tensor1d([0, 1.5]), tf.zeros([2])))
        .toThrow('sigmoidFocalLoss: labels[1] = 1.5: labels must be in [0, 1]');
    expect(() => sigmoidFocalLoss(tf.tensor1d([0, 1]), tf.tensor1d([0.5, 2]), {fromLogits: false}))
        .toThrow('logits[1] = 2: with fromLogits=false the inputs are probabilities and must be in [0, 1]');
  });

  test('nativeStatus says the composite runs on wasm, and why', () => {
    const status = nativeStatus();
    expect(status.backend).toBe('wasm');
    expect(status.path).toBe('composite');
    expect(status.reason).toMatch(/backend 'wasm' has no native kernel/);
    expect(status.loaded).toBe(true);
    expect(selectPath('webgl').path).toBe('composite');
    expect(selectPath('cpu').path).toBe('js-arrays');
  });

  test('no tensors leak', () => {
    const logits = tf.randomNormal([4, 3]);
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    const before = tf.memory().numTensors;
    tf.dispose([focalLoss(labels, logits), tf.grad((t: tf.Tensor) => focalLoss(labels, t, {ignoreIndex: 1}))(logits),
      sigmoidFocalLoss(tf.onesLike(logits), logits, {gamma: 0.5})]);
    expect(tf.memory().numTensors).toBe(before + 1);  // the onesLike above
  });
});

test(`on '${KERNEL_BACKEND}' the native kernel runs`, async () => {
  await tf.setBackend(KERNEL_BACKEND);
  const status = nativeStatus();
  expect(status.loaded).toBe(true);
  expect(status.path).toBe(KERNEL_BACKEND === 'cpu' || process.env.TFJS_FOCAL_LOSS_TF_OPS === '0' ?
                           'js-arrays' : 'tensorflow-op');
  expect(status.simd).toMatch(/^(avx512|avx2|generic)$/);
});

describe('the focal-loss family: composite vs fused kernel', () => {
  const counts = [50, 5, 1, 20, 9];
  const softmaxFamily: Array<[string, FocalLossOptions]> = [
    ['Poly-1 epsilon 1', {polyEpsilon: 1}],
    ['Poly-1 epsilon -0.5, gamma 0.5', {polyEpsilon: -0.5, gamma: 0.5}],
    ['logit adjustment (counts, tau 1)', {logitAdjustment: {classCounts: counts}}],
    ['logit-adjusted CE (gamma 0, priors, tau 2)', {gamma: 0, alpha: 1,
      logitAdjustment: {priors: counts.map((c) => c / 85), tau: 2}}],
    ['Poly-1 with logit adjustment', {polyEpsilon: 2, logitAdjustment: {classCounts: counts}}],
  ];
  for (const kind of ['sparse', 'dense'] as const) {
    for (const [name, options] of softmaxFamily) {
      test(`focalLoss, ${kind} labels, ${name}`, async () => {
        await compare(softmaxSpec(7, 5, kind), (y, x) => focalLoss(y, x, options));
      });
    }
  }

  function targetsSpec(binary: boolean): Spec {
    const shape = [6, 4];
    const labels = Array.from({length: 24}, (_, i) =>
        binary ? (rand() < 0.3 ? 1 : 0) : (i % 3 === 0 ? 0 : Math.round(rand() * 1000) / 1000));
    return {logitsShape: shape, logits: randoms(24, 8), labels, labelsShape: shape,
            labelsDtype: 'float32'};
  }
  const elementwise: Array<[string, boolean, (y: tf.Tensor, x: tf.Tensor) => tf.Tensor]> = [
    ['sigmoidFocalLoss Poly-1', true, (y, x) => sigmoidFocalLoss(y, x, {polyEpsilon: 1.5})],
    ['varifocalLoss', false, (y, x) => varifocalLoss(y, x, {reduction: tf.Reduction.SUM})],
    ['qualityFocalLoss', false, (y, x) => qualityFocalLoss(y, x)],
    ['asymmetricLoss', true, (y, x) => asymmetricLoss(y, x, {gammaPos: 1})],
  ];
  for (const [name, binary, loss] of elementwise) {
    test(name, async () => {
      await compare(targetsSpec(binary), loss);
    });
  }

  test('a target outside [0, 1] is refused on the composite path too', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    tf.tidy(() => {
      expect(() => varifocalLoss(tf.tensor1d([0.5, 1.5]), tf.tensor1d([0, 1])))
          .toThrow(/^varifocalLoss: targets\[1\] = 1\.5: targets must be in \[0, 1\]/);
    });
  });
});
