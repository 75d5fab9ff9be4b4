/**
 * @jest-environment ./test/single_context_environment.js
 */
// (Jest 30 + jest-environment-node-single-context runs modules in a separate realm, which breaks
// tfjs's tf.Variable detection and with it model.fit; see test/single_context_environment.js.)
//
// Integration with training: tfjs-layers models trained with the Keras-style losses and with
// focalLoss lower their loss; optimizer.minimize and tf.variableGrads give the gradients of a
// composed-tfjs formulation; repeated forward + backward calls leak nothing; and on each backend
// the registered kernel really runs through the native addon.
import * as tf from '@tensorflow/tfjs-core';
import * as tfd from '@tensorflow/tfjs-data';
import * as tfl from '@tensorflow/tfjs-layers';

import {binaryFocalCrossentropy, categoricalFocalCrossentropy, FocalLoss, FocalLossGrad, focalLoss, SoftmaxFocalLoss, SoftmaxFocalLossGrad, sigmoidFocalLoss, SigmoidElementwiseLoss, SigmoidElementwiseLossGrad, SigmoidFocalLoss, SigmoidFocalLossGrad, sparseCategoricalFocalCrossentropy, tensorflowOpsStatus} from '../lib';
import {tensorflowOps} from '../lib/paths/tensorflow_op';
import {addon} from '../lib/native';

const CLASSES = 3;
const SAMPLES = 96;

/** Three separable 2-D Gaussian clusters, deterministic (no Math.random). */
function clusters(): {xs: number[][]; labels: number[]} {
  const centres = [[-2, 0], [2, 0], [0, 2.5]];
  const xs: number[][] = [];
  const labels: number[] = [];
  let state = 12345;
  const uniform = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  for (let i = 0; i < SAMPLES; i++) {
    const c = i % CLASSES;
    // Box-Muller, 0.6 standard deviation around the class centre.
    const r = Math.sqrt(-2 * Math.log(1 - uniform())) * 0.6;
    const theta = 2 * Math.PI * uniform();
    xs.push([centres[c][0] + r * Math.cos(theta), centres[c][1] + r * Math.sin(theta)]);
    labels.push(c);
  }
  return {xs, labels};
}

function classifier(activation: 'softmax' | 'linear'): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({
    units: 8, inputShape: [2], activation: 'tanh',
    kernelInitializer: tfl.initializers.glorotUniform({seed: 1}),
  }));
  model.add(tfl.layers.dense({
    units: CLASSES, activation,
    kernelInitializer: tfl.initializers.glorotUniform({seed: 2}),
  }));
  return model;
}

const {xs: pointArrays, labels: labelArray} = clusters();

describe('tfjs-layers model.fit / fitDataset', () => {
  test('categoricalFocalCrossentropy trains a softmax classifier with model.fit', async () => {
    const model = classifier('softmax');
    const lossFn = categoricalFocalCrossentropy();
    model.compile({optimizer: tf.train.adam(0.05), loss: lossFn});
    const x = tf.tensor2d(pointArrays);
    const y = tf.oneHot(tf.tensor1d(labelArray, 'int32'), CLASSES).toFloat();
    const before = (model.evaluate(x, y) as tf.Scalar).dataSync()[0];
    const history = await model.fit(x, y, {epochs: 30, batchSize: 32, shuffle: false, verbose: 0});
    const losses = history.history.loss as number[];
    const after = (model.evaluate(x, y) as tf.Scalar).dataSync()[0];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    expect(after).toBeLessThan(before * 0.5);
    // evaluate() is the mean of the per-sample loss the factory returns.
    const manual = tf.mean(lossFn(y, model.predict(x) as tf.Tensor)).dataSync()[0];
    expect(Math.abs(manual - after)).toBeLessThan(1e-5 * Math.max(1, after));
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(x) as tf.Tensor, -1),
                                              tf.tensor1d(labelArray, 'int32')), 'float32'));
    expect(accuracy.dataSync()[0]).toBeGreaterThan(0.9);
    tf.dispose([x, y, accuracy]);
    model.dispose();
  });

  test('sparseCategoricalFocalCrossentropy trains with model.fitDataset and float targets [N]',
       async () => {
         // model.fit checks targets against the output shape for every loss but tfjs-layers' own
         // sparseCategoricalCrossentropy; fitDataset hands the targets over as given.
         const model = classifier('softmax');
         const lossFn = sparseCategoricalFocalCrossentropy({gamma: 2, alpha: 0.25});
         model.compile({optimizer: tf.train.adam(0.05), loss: lossFn});
         const dataset = tfd.zip({xs: tfd.array(pointArrays), ys: tfd.array(labelArray)})
                             .batch(32) as unknown as tfd.Dataset<tf.TensorContainer>;
         const x = tf.tensor2d(pointArrays);
         const yFloat = tf.tensor1d(labelArray);  // float32 [N], as the dataset yields it
         const before = tf.mean(lossFn(yFloat, model.predict(x) as tf.Tensor)).dataSync()[0];
         const history = await model.fitDataset(dataset, {epochs: 30, verbose: 0});
         const losses = history.history.loss as number[];
         const after = tf.mean(lossFn(yFloat, model.predict(x) as tf.Tensor)).dataSync()[0];
         expect(losses.every(Number.isFinite)).toBe(true);
         expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
         expect(after).toBeLessThan(before * 0.5);
         tf.dispose([x, yFloat]);
         model.dispose();
       });

  test('focalLoss on logits works as a model.compile loss', async () => {
    const model = classifier('linear');
    model.compile({
      optimizer: tf.train.adam(0.05),
      loss: (yTrue: tf.Tensor, yPred: tf.Tensor) =>
          focalLoss(yTrue, yPred, {gamma: 2, alpha: 0.25, reduction: tf.Reduction.NONE}),
    });
    const x = tf.tensor2d(pointArrays);
    const y = tf.oneHot(tf.tensor1d(labelArray, 'int32'), CLASSES).toFloat();
    const history = await model.fit(x, y, {epochs: 30, batchSize: 32, shuffle: false, verbose: 0});
    const losses = history.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    tf.dispose([x, y]);
    model.dispose();
  });

  test('binaryFocalCrossentropy trains a sigmoid output with model.fit', async () => {
    const model = tfl.sequential();
    model.add(tfl.layers.dense({units: 1, inputShape: [2], activation: 'sigmoid',
                                kernelInitializer: tfl.initializers.glorotUniform({seed: 3})}));
    model.compile({optimizer: tf.train.adam(0.05),
                   loss: binaryFocalCrossentropy({applyClassBalancing: true})});
    const x = tf.tensor2d(pointArrays);
    const y = tf.tensor2d(labelArray.map((c) => [c === 1 ? 1 : 0]));
    const history = await model.fit(x, y, {epochs: 30, batchSize: 32, shuffle: false, verbose: 0});
    const losses = history.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    tf.dispose([x, y]);
    model.dispose();
  });
});

/** Sparse softmax focal loss written with ordinary tfjs ops (tfjs autodiff as the reference). */
function composedSparseFocal(labels: tf.Tensor, logits: tf.Tensor, gamma: number,
                             alpha: number): tf.Tensor {
  const logP = tf.logSoftmax(logits);
  const oneHot = tf.oneHot(labels as tf.Tensor1D, logits.shape[logits.rank - 1]).toFloat();
  const logPt = tf.sum(tf.mul(oneHot, logP), -1);
  const focal = tf.pow(tf.sub(1, tf.exp(logPt)), gamma);
  return tf.mean(tf.mul(tf.mul(focal, logPt), -alpha));
}

describe('optimizer.minimize and tf.variableGrads', () => {
  test('tf.variableGrads matches autodiff of a composed-tfjs focal loss', () => {
    const x = tf.tensor2d(pointArrays);
    const labels = tf.tensor1d(labelArray, 'int32');
    const w = tf.variable(tf.tensor2d([[0.3, -0.2, 0.1], [0.05, 0.4, -0.3]]), true, 'fl_w');
    const b = tf.variable(tf.tensor1d([0.1, 0, -0.1]), true, 'fl_b');
    const logits = () => tf.add(tf.matMul(x, w), b);
    const ours = tf.variableGrads(() => focalLoss(labels, logits(), {gamma: 2, alpha: 0.25}) as
                                      tf.Scalar);
    const reference = tf.variableGrads(() => composedSparseFocal(labels, logits(), 2, 0.25) as
                                           tf.Scalar);
    expect(Math.abs(ours.value.dataSync()[0] - reference.value.dataSync()[0]))
        .toBeLessThan(1e-6);
    for (const name of [w.name, b.name]) {
      const got = ours.grads[name].dataSync();
      const want = reference.grads[name].dataSync();
      const scale = Math.max(...Array.from(want).map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * scale);
      }
    }
    tf.dispose([x, labels, w, b, ours.value, reference.value, ...Object.values(ours.grads),
                ...Object.values(reference.grads)]);
  });

  test('optimizer.minimize lowers focalLoss and sigmoidFocalLoss on trainable variables', () => {
    const x = tf.tensor2d(pointArrays);
    const labels = tf.tensor1d(labelArray, 'int32');
    const targets = tf.oneHot(labels, CLASSES).toFloat();
    for (const loss of [
           (z: tf.Tensor) => focalLoss(labels, z),
           (z: tf.Tensor) => sigmoidFocalLoss(targets, z, {normalizeByPositives: true}),
         ]) {
      const w = tf.variable(tf.zeros([2, CLASSES]));
      const b = tf.variable(tf.zeros([CLASSES]));
      const optimizer = tf.train.sgd(0.5);
      const objective = () => loss(tf.add(tf.matMul(x, w), b)) as tf.Scalar;
      const costs: number[] = [];
      for (let step = 0; step < 50; step++) {
        const cost = optimizer.minimize(objective, true) as tf.Scalar;
        costs.push(cost.dataSync()[0]);
        cost.dispose();
      }
      expect(costs.every(Number.isFinite)).toBe(true);
      expect(costs[costs.length - 1]).toBeLessThan(costs[0] * 0.5);
      tf.dispose([w, b]);
      optimizer.dispose();
    }
    tf.dispose([x, labels, targets]);
  });
});

describe('memory', () => {
  /** numTensors and the backend's data buffers after `calls` forward + backward steps. */
  function countsAfter(calls: number, step: () => void): [number, number] {
    for (let i = 0; i < calls; i++) {
      step();
    }
    const memory = tf.memory();
    return [memory.numTensors, memory.numDataBuffers];
  }

  type Loss = (labels: tf.Tensor, targets: tf.Tensor, logits: tf.Tensor) => tf.Tensor;
  const cases: Array<[string, Loss]> = [
    ['focalLoss (sparse, ignoreIndex, weights)',
     (labels, _targets, logits) => focalLoss(labels, logits, {ignoreIndex: 1, weights: 2})],
    ['focalLoss (dense, label smoothing, MEAN)',
     (_labels, targets, logits) => focalLoss(targets, logits, {labelSmoothing: 0.1,
                                                                reduction: tf.Reduction.MEAN})],
    ['sigmoidFocalLoss', (_labels, targets, logits) => sigmoidFocalLoss(targets, logits)],
    ['sigmoidFocalLoss (normalizeByPositives, weights)',
     (_labels, targets, logits) => sigmoidFocalLoss(targets, logits, {normalizeByPositives: true,
                                                                      weights: 0.5})],
  ];

  test.each(cases)('%s: as many tensors after 1000 forward + backward calls as after 10',
                   (_name, loss) => {
                     const labels = tf.tensor1d([0, 3, 1, 2, 2], 'int32');
                     const targets = tf.oneHot(labels, 4).toFloat();
                     const logits = tf.randomNormal([5, 4], 0, 2, 'float32', 7);
                     const scale = tf.variable(tf.scalar(1.5));
                     // One step: a forward-only call, tf.variableGrads (through a variable) and
                     // tf.grad, everything returned disposed by the caller as a user would.
                     const step = () => {
                       const value = loss(labels, targets, logits);
                       const {value: v, grads} = tf.variableGrads(
                           () => loss(labels, targets, tf.mul(logits, scale)) as tf.Scalar);
                       const grad = tf.grad((z: tf.Tensor) => loss(labels, targets, z))(logits);
                       tf.dispose([value, v, grad, ...Object.values(grads)]);
                     };
                     const baseline = [tf.memory().numTensors, tf.memory().numDataBuffers];
                     const after10 = countsAfter(10, step);
                     const after1000 = countsAfter(990, step);
                     expect(after1000).toEqual(after10);
                     expect(after10).toEqual(baseline);
                     tf.dispose([labels, targets, logits, scale]);
                   });
});

describe('the registered kernels run through the native addon', () => {
  test('active backend is the one requested', () => {
    expect(tf.getBackend()).toBe(process.env.FOCAL_TEST_BACKEND ?? 'tensorflow');
  });

  test('kernels and gradients are registered for this backend', () => {
    const backend = tf.getBackend();
    for (const name of [SoftmaxFocalLoss, SoftmaxFocalLossGrad, SigmoidElementwiseLoss, SigmoidElementwiseLossGrad]) {
      const kernel = tf.getKernel(name, backend);
      expect(kernel).toBeDefined();
      expect(kernel.backendName).toBe(backend);
    }
    expect(tf.getGradient(SoftmaxFocalLoss)).toBeDefined();
    expect(tf.getGradient(SigmoidElementwiseLoss)).toBeDefined();
  });

  const sparseLabels = () => tf.tensor1d([2, 0], 'int32');
  const softTargets = () => tf.tensor2d([[0, 0.3, 1], [1, 0, 0.6]]);
  test.each([
    ['FocalLoss', SoftmaxFocalLoss, FocalLoss, SoftmaxFocalLossGrad, FocalLossGrad, sparseLabels, {ignoreIndex: null}, [2, 0.5]],
    ['SigmoidFocalLoss', SigmoidElementwiseLoss, SigmoidFocalLoss, SigmoidElementwiseLossGrad, SigmoidFocalLossGrad, softTargets,
     {loss: 'varifocal'}, [[2, 2, 2], [0.5, 0.5, 0.5]]],
  ] as const)('the earlier name %s runs the same kernel, gradient and backward', (
      alias, kernel, aliasKernel, backward, aliasBackward, makeLabels, extra, dyValues) => {
    expect([aliasKernel, aliasBackward]).toEqual([alias, `${alias}Grad`]);
    const labels = makeLabels();
    const logits = tf.tensor2d([[0.5, -1, 2], [3, 0, -2]]);
    const attrs = {gamma: 2, alpha: 0.25, labelSmoothing: 0, fromLogits: true, ...extra} as unknown as tf.NamedAttrMap;
    const run = (name: string) => tf.engine().runKernel(name, {labels, logits}, attrs) as tf.Tensor;
    const grad = (name: string) => tf.grad((z: tf.Tensor) => tf.engine().runKernel(
        name, {labels, logits: z}, {...attrs, reduction: 'sum'}) as tf.Tensor)(logits);
    const [loss, aliasLoss] = [run(kernel), run(aliasKernel)];
    const [g, aliasG] = [grad(kernel), grad(aliasKernel)];
    expect(Array.from(aliasLoss.dataSync())).toEqual(Array.from(loss.dataSync()));
    expect(Array.from(aliasG.dataSync())).toEqual(Array.from(g.dataSync()));
    expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    const dy = tf.tensor(dyValues as unknown as number[]);
    const scaled = [backward, aliasBackward].map((name) => tf.engine().runKernel(name, {dy, grad: logits}) as tf.Tensor);
    for (const out of scaled) expect(Array.from(out.dataSync())).toEqual([1, -2, 4, 1.5, 0, -1]);
    // A direct call's errors name the kernel the caller ran.
    for (const name of [kernel, aliasKernel]) {
      expect(() => tf.engine().runKernel(name, {labels, logits}, {...attrs, gamma: '2'} as unknown as tf.NamedAttrMap))
          .toThrow(new RegExp(`^${name}: attrs\\.gamma must be a number`));
    }
    tf.dispose([labels, logits, loss, aliasLoss, g, aliasG, dy, ...scaled]);
  });

  test('every forward call and every backward call goes through the addon once', () => {
    const labels = tf.tensor1d([0, 2], 'int32');
    const logits = tf.tensor2d([[1, 2, 3], [0.5, -1, 2]]);
    const targets = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);

    let calls = addon().callCount();
    const forward = focalLoss(labels, logits);
    expect(addon().callCount()).toBe(calls + 1);
    calls = addon().callCount();
    const grad = tf.grad((z: tf.Tensor) => focalLoss(labels, z))(logits);
    expect(addon().callCount()).toBe(calls + 2);  // SoftmaxFocalLoss + SoftmaxFocalLossGrad
    calls = addon().callCount();
    const sigmoid = sigmoidFocalLoss(targets, logits);
    expect(addon().callCount()).toBe(calls + 1);
    calls = addon().callCount();
    const sigmoidGrad = tf.grad((z: tf.Tensor) => sigmoidFocalLoss(targets, z))(logits);
    expect(addon().callCount()).toBe(calls + 2);
    expect(Array.from(grad.dataSync()).some((g) => g !== 0)).toBe(true);
    expect(Array.from(sigmoidGrad.dataSync()).some((g) => g !== 0)).toBe(true);
    tf.dispose([labels, logits, targets, forward, grad, sigmoid, sigmoidGrad]);
  });

  test('the kernel asks for a gradient only while one is being recorded', () => {
    const labels = tf.tensor1d([0, 2], 'int32');
    const logits = tf.tensor2d([[1, 2, 3], [0.5, -1, 2]]);
    const targets = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);
    // On tfjs-node the kernels run as TensorFlow ops (attr compute_gradient), else through the
    // addon's JS entry points (gradOut null or an array).
    const viaOps = tensorflowOpsStatus().active && tf.getBackend() === 'tensorflow';
    const softmax = jest.spyOn(addon(), 'softmaxFocalLoss');
    const sigmoid = jest.spyOn(addon(), 'sigmoidElementwiseLoss');
    // The backend's ops object is shared by every copy of the module (jest loads one per test
    // file), so spy on that instance rather than on this copy's class.
    const ops = tensorflowOps(tf.backend());
    const run = ops === null ? null : jest.spyOn(ops, 'run');
    const wantedGradient = (tfOpName: string): Array<boolean | undefined> => viaOps ?
        run!.mock.calls.filter((c) => c[0] === tfOpName).map((c) => (c[1].compute_gradient as {bool: boolean}).bool) :
        (tfOpName.includes('Softmax') ? softmax : sigmoid).mock.calls.map(
            (c) => c[0].gradOut === null ? false : c[0].gradOut!.length === 6 ? true : undefined);
    try {
      tf.dispose([focalLoss(labels, logits), sigmoidFocalLoss(targets, logits)]);
      tf.dispose([tf.grad((z: tf.Tensor) => focalLoss(labels, z))(logits),
                  tf.grad((z: tf.Tensor) => sigmoidFocalLoss(targets, z))(logits)]);
      expect(wantedGradient('TfjsSoftmaxFocalLoss')).toEqual([false, true]);
      expect(wantedGradient('TfjsSigmoidElementwiseLoss')).toEqual([false, true]);
      expect(viaOps ? softmax.mock.calls.length + sigmoid.mock.calls.length : run?.mock.calls.length ?? 0)
          .toBe(0);
    } finally {
      softmax.mockRestore();
      sigmoid.mockRestore();
      run?.mockRestore();
      tf.dispose([labels, logits, targets]);
    }
  });
});

describe('backward kernels and the saved gradient', () => {
  test('a direct runKernel call leaves its grad input untouched; the registered gradient scales the tape\'s own copy', () => {
    const grad = tf.tensor2d([[1, -2, 3], [4, 5, -6]]);
    const dy = tf.tensor1d([2, -0.5]);
    const out = tf.engine().runKernel(SoftmaxFocalLossGrad, {dy, grad}) as tf.Tensor;
    expect(Array.from(out.dataSync())).toEqual([2, -4, 6, -2, -2.5, 3]);
    expect(Array.from(grad.dataSync())).toEqual([1, -2, 3, 4, 5, -6]);
    const sOut = tf.engine().runKernel(SigmoidElementwiseLossGrad, {dy: tf.onesLike(grad).mul(3), grad}) as tf.Tensor;
    expect(Array.from(sOut.dataSync())).toEqual([3, -6, 9, 12, 15, -18]);
    expect(Array.from(grad.dataSync())).toEqual([1, -2, 3, 4, 5, -6]);
    // Through the tape the saved gradient is consumed in place; the result survives its disposal
    // and two gradients of the same forward graph stay independent.
    const logits = tf.tensor2d([[0.5, -1, 2], [3, 0, -2]]);
    const labels = tf.tensor1d([2, 0], 'int32');
    const g1 = tf.grad((z: tf.Tensor) => focalLoss(labels, z, {reduction: tf.Reduction.SUM}))(logits);
    const g2 = tf.grad((z: tf.Tensor) => tf.mul(focalLoss(labels, z, {reduction: tf.Reduction.SUM}), 2))(logits);
    const a = Array.from(g1.dataSync());
    expect(Array.from(g2.dataSync())).toEqual(a.map((v) => v * 2));
    expect(a.every(Number.isFinite) && a.some((v) => v !== 0)).toBe(true);
    // The forward kernel has one output (so the engine zero-fills no gradient-sized dy), and a
    // loss computed while nothing was recorded has no saved gradient to take.
    const single = tf.engine().runKernel(SoftmaxFocalLoss, {labels, logits},
        {gamma: 2, alpha: 0.25, labelSmoothing: 0, ignoreIndex: null, fromLogits: true} as unknown as tf.NamedAttrMap);
    expect(Array.isArray(single)).toBe(false);
    expect((single as tf.Tensor).shape).toEqual([2]);
    expect(() => tf.engine().runKernel(SoftmaxFocalLossGrad, {dy, loss: single as tf.Tensor})).toThrow(/no gradient was saved/);
    tf.dispose([grad, dy, out, sOut, logits, labels, g1, g2, single as tf.Tensor]);
  });
});
