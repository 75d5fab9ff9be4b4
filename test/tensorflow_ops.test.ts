// The kernels as TensorFlow ops (native/bindings, lib/paths/tensorflow_op.ts): on the
// 'tensorflow' backend they must be active (unless TFJS_FOCAL_LOSS_TF_OPS=0 asks for the JS-array
// path), compute exactly what the addon's JS entry point computes, reduce inside the op like the
// composed reduction, and release every tensor they create, including saved gradients that are
// never used. On 'cpu' the status says why they are not used.
import * as tf from '@tensorflow/tfjs-core';
import './register_gradients';
import {focalLoss, sigmoidFocalLoss, tensorflowOpsStatus} from '../lib';
import {TF_OPS_ENV} from '../lib/paths/tensorflow_op';
import {addon} from '../lib/native';
import {Rng} from './numeric_helpers';

const backend = process.env.FOCAL_TEST_BACKEND ?? 'tensorflow';
const opsDisabled = process.env[TF_OPS_ENV] === '0';

function randomLogits(rng: Rng, rows: number, classes: number): Float32Array {
  return Float32Array.from({length: rows * classes}, () => 4 * rng.normal());
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('status', () => {
  test('reports whether the TensorFlow ops are used on this backend, and why not', () => {
    const status = tensorflowOpsStatus();
    if (backend === 'tensorflow' && !opsDisabled) {
      // tfjs-node is loaded: the ops must be active here, never a silent fallback.
      expect(status).toEqual({active: true, reason: ''});
      // Registration happens once per process; asking again is harmless.
      expect(addon().registerTensorflowOps().ok).toBe(true);
    } else if (opsDisabled) {
      expect(status.active).toBe(false);
      expect(status.reason).toContain(`${TF_OPS_ENV}=0`);
    } else {
      expect(typeof status.active).toBe('boolean');
    }
  });
});

describe('the active path computes exactly what the addon computes', () => {
  const rng = new Rng(20261123);
  const cases: Array<{name: string, rows: number, classes: number, dense: boolean,
                      options: Parameters<typeof focalLoss>[2]}> = [
    {name: 'sparse, defaults', rows: 37, classes: 11, dense: false, options: {}},
    {name: 'sparse, per-class alpha, gamma 0.5, smoothing', rows: 64, classes: 5, dense: false,
     options: {alpha: [0.1, 0.2, 0.3, 0.4, 0.5], gamma: 0.5, labelSmoothing: 0.1}},
    {name: 'dense soft labels, gamma 3', rows: 29, classes: 130, dense: true, options: {gamma: 3}},
  ];
  test.each(cases)('focalLoss $name: per-row and mean loss, and gradients, bit-identical', ({rows, classes, dense, options}) => {
    const logitValues = randomLogits(rng, rows, classes);
    const sparseLabels = Int32Array.from({length: rows}, () => rng.int(0, classes));
    let labelValues: Int32Array | Float32Array = sparseLabels;
    if (dense) {
      const soft = Float32Array.from({length: rows * classes}, () => rng.next());
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let j = 0; j < classes; j++) s += soft[r * classes + j];
        for (let j = 0; j < classes; j++) soft[r * classes + j] /= s;
      }
      labelValues = soft;
    }
    const alpha = options!.alpha ?? 0.25;
    const lossOut = new Float32Array(rows);
    const gradOut = new Float32Array(rows * classes);
    addon().softmaxFocalLoss({
      logits: logitValues, labels: labelValues, rows, classes, gamma: options!.gamma ?? 2,
      alpha: typeof alpha === 'number' ? alpha : Float32Array.from(alpha),
      labelSmoothing: options!.labelSmoothing ?? 0, ignoreIndex: null, fromLogits: true, lossOut,
      gradOut,
    });
    const logits = tf.tensor2d(logitValues, [rows, classes]);
    const labels = dense ? tf.tensor2d(labelValues as Float32Array, [rows, classes]) :
                           tf.tensor1d(sparseLabels, 'int32');
    const perRow = focalLoss(labels, logits, {...options, reduction: tf.Reduction.NONE});
    // With a summed loss dy is exactly 1, so the gradient is the kernel's gradient unscaled.
    const grad = tf.grad((x: tf.Tensor) => focalLoss(labels, x, {...options, reduction: tf.Reduction.SUM}))(logits);
    expect(firstDifference(perRow.dataSync(), lossOut)).toBe(-1);
    expect(firstDifference(grad.dataSync(), gradOut)).toBe(-1);
    // The mean: a double sum of the per-row losses rounded once, and the gradient scaled by the
    // float32 1/rows (dy = 1), on either path.
    const mean = focalLoss(labels, logits, options);
    const meanGrad = tf.grad((x: tf.Tensor) => focalLoss(labels, x, options))(logits);
    let sum = 0;
    for (const v of lossOut) sum += v;
    expect(mean.dataSync()[0]).toBe(Math.fround(sum / rows));
    const inverseRows = Math.fround(1 / rows);
    expect(firstDifference(meanGrad.dataSync(), gradOut.map((g) => Math.fround(g * inverseRows)))).toBe(-1);
    tf.dispose([logits, labels, perRow, grad, mean, meanGrad]);
  });

  test('sigmoidFocalLoss: elementwise loss and gradient bit-identical', () => {
    const count = 7 * 19;
    const logitValues = randomLogits(rng, 7, 19);
    const labelValues = Float32Array.from({length: count}, () => (rng.next() < 0.2 ? 1 : 0));
    const lossOut = new Float32Array(count);
    const gradOut = new Float32Array(count);
    addon().sigmoidElementwiseLoss({logits: logitValues, labels: labelValues, gamma: 2, alpha: 0.25,
                              labelSmoothing: 0, fromLogits: true, lossOut, gradOut});
    const logits = tf.tensor2d(logitValues, [7, 19]);
    const labels = tf.tensor2d(labelValues, [7, 19]);
    const elementwise = sigmoidFocalLoss(labels, logits, {reduction: tf.Reduction.NONE});
    const grad = tf.grad((x: tf.Tensor) => sigmoidFocalLoss(labels, x, {reduction: tf.Reduction.SUM}))(logits);
    expect(firstDifference(elementwise.dataSync(), lossOut)).toBe(-1);
    expect(firstDifference(grad.dataSync(), gradOut)).toBe(-1);
    tf.dispose([logits, labels, elementwise, grad]);
  });
});

describe('in-op reduction', () => {
  const rng = new Rng(7);
  const logits = tf.tensor3d(randomLogits(rng, 6 * 9, 4), [6, 9, 4]);
  const labels = tf.tensor2d(Int32Array.from({length: 54}, () => rng.int(0, 4)), [6, 9], 'int32');
  const targets = tf.tensor3d(Float32Array.from({length: 216}, () => rng.next()), [6, 9, 4]);
  afterAll(() => tf.dispose([logits, labels, targets]));

  // The unweighted reductions are computed inside the op (double sum, then one rounding); they
  // must agree with the same reduction composed from the per-sample losses, values and gradients.
  test.each([
    ['SUM', tf.Reduction.SUM, (t: tf.Tensor) => tf.sum(t)],
    ['MEAN', tf.Reduction.MEAN, (t: tf.Tensor) => tf.mean(t)],
    ['SUM_BY_NONZERO_WEIGHTS', tf.Reduction.SUM_BY_NONZERO_WEIGHTS, (t: tf.Tensor) => tf.mean(t)],
  ] as Array<[string, tf.Reduction, (t: tf.Tensor) => tf.Tensor]>)('%s matches the composed reduction', (_, reduction, compose) => {
    const pairs: Array<[(x: tf.Tensor) => tf.Tensor, (x: tf.Tensor) => tf.Tensor]> = [
      [(x) => focalLoss(labels, x, {reduction}),
       (x) => compose(focalLoss(labels, x, {reduction: tf.Reduction.NONE}))],
      [(x) => sigmoidFocalLoss(targets, x, {reduction}),
       (x) => compose(sigmoidFocalLoss(targets, x, {reduction: tf.Reduction.NONE}))],
    ];
    for (const [fused, composed] of pairs) {
      const [a, b] = [fused(logits), composed(logits)];
      expect(a.shape).toEqual([]);
      expect(a.dataSync()[0]).toBeCloseTo(b.dataSync()[0], 5);
      const [ga, gb] = [tf.grad(fused)(logits), tf.grad(composed)(logits)];
      const [va, vb] = [ga.dataSync(), gb.dataSync()];
      for (let i = 0; i < va.length; i++) {
        expect(Math.abs(va[i] - vb[i])).toBeLessThanOrEqual(1e-6 * Math.max(1e-3, Math.abs(vb[i])));
      }
      tf.dispose([a, b, ga, gb]);
    }
  });

  test('an upstream gradient other than 1 scales the in-op reduction\'s gradient', () => {
    const g1 = tf.grad((x: tf.Tensor) => focalLoss(labels, x))(logits);
    const g3 = tf.grad((x: tf.Tensor) => tf.mul(focalLoss(labels, x), -3))(logits);
    const [a, b] = [g1.dataSync(), g3.dataSync()];
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(-3 * a[i], 7);
    tf.dispose([g1, g3]);
  });
});

describe('memory', () => {
  const rng = new Rng(3);
  const logits = tf.tensor2d(randomLogits(rng, 16, 8), [16, 8]);
  const labels = tf.tensor1d(Int32Array.from({length: 16}, () => rng.int(0, 8)), 'int32');
  const targets = tf.tensor2d(Float32Array.from({length: 128}, () => (rng.next() < 0.3 ? 1 : 0)), [16, 8]);
  afterAll(() => tf.dispose([logits, labels, targets]));

  test('training steps release every backend buffer they create (saved gradients included)', () => {
    const steps: Array<(x: tf.Tensor) => tf.Tensor> = [
      (x) => focalLoss(labels, x),
      (x) => focalLoss(labels, x, {reduction: tf.Reduction.NONE}),
      (x) => focalLoss(labels, x, {weights: 2}),
      (x) => sigmoidFocalLoss(targets, x),
      (x) => sigmoidFocalLoss(targets, x, {normalizeByPositives: true}),
    ];
    for (const f of steps) tf.dispose(tf.grad(f)(logits));  // warm-up (kernel caches)
    const before = tf.memory();
    for (let i = 0; i < 25; i++) {
      for (const f of steps) tf.dispose(tf.grad(f)(logits));
    }
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect((after as {numDataBuffers: number}).numDataBuffers)
        .toBe((before as {numDataBuffers: number}).numDataBuffers);
  });

  test('a loss recorded but never differentiated does not keep its gradient once collected', async () => {
    const gc = (globalThis as {gc?: () => void}).gc;
    // run-tests.js starts jest with --expose-gc; without it this cannot be observed.
    expect(typeof gc).toBe('function');
    const before = (tf.memory() as {numDataBuffers: number}).numDataBuffers;
    for (let i = 0; i < 20; i++) {
      // The focal loss is computed while a gradient is recorded, but the differentiated function
      // returns another value: its saved gradient is never taken by a backward pass.
      tf.dispose(tf.grad((x: tf.Tensor) => {
        focalLoss(labels, x);
        sigmoidFocalLoss(targets, x);
        return tf.sum(x);
      })(logits));
    }
    for (let i = 0; i < 10 && (tf.memory() as {numDataBuffers: number}).numDataBuffers > before; i++) {
      gc!();
      await new Promise((resolve) => setTimeout(resolve, 10));  // finalizers run between tasks
    }
    expect((tf.memory() as {numDataBuffers: number}).numDataBuffers).toBe(before);
  });
});
