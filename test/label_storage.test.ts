// Labels whose backend storage is not a Float32Array of their values. On 'cpu' a float32 tensor
// cast from int32 shares the int32 tensor's storage: tf.cast(tf.tensor(ints, shape, 'int32'),
// 'float32') is an Int32Array there, and tf.cast(tf.oneHot(t, C), 'float32') a Float32Array marked
// int32, which tfjs's readSync converts into a new array on every read. The kernels read that
// storage in place (the addon converts integer labels block by block) and must give exactly what
// the same labels held as floats give, loss and gradient, on every backend.

import * as tf from '@tensorflow/tfjs-core';
import './register_gradients';
import { focalLoss, sigmoidFocalLoss } from '../lib';
import { addon } from '../lib/native';
import { Rng, tidyRead } from './numeric_helpers';

interface Shape {
  name: string;
  dims: number[];
}
// [3, 20000]: rows longer than the addon's 16384-element conversion block; [700, 50]: several
// blocks of rows, the last one partial.
const SHAPES: Shape[] = [
  { name: '40x7', dims: [40, 7] },
  { name: '2x16x5 (rank 3)', dims: [2, 16, 5] },
  { name: '700x50', dims: [700, 50] },
  { name: '3x20000', dims: [3, 20000] },
];

function integerLabels(rng: Rng, dims: number[]): { ints: Int32Array; classIndex: Int32Array } {
  const classes = dims[dims.length - 1];
  const rows = dims.slice(0, -1).reduce((a, b) => a * b, 1);
  const ints = new Int32Array(rows * classes);
  const classIndex = new Int32Array(rows);
  for (let r = 0; r < rows; ++r) {
    classIndex[r] = rng.int(0, classes);
    ints[r * classes + classIndex[r]] = 1;
    if (r % 5 === 2) ints[r * classes + rng.int(0, classes)] = 1;  // a second 1 (labels stay in [0, 1])
  }
  return { ints, classIndex };
}

type LossFn = (labels: tf.Tensor, logits: tf.Tensor) => tf.Tensor;
function lossAndGradient(fn: LossFn, labels: tf.Tensor, logits: tf.Tensor): Float32Array[] {
  return tidyRead(() => {
    const { value, grads } = tf.variableGrads(() => fn(labels, tf.add(logits, 0)) as tf.Scalar);
    return [value, ...Object.values(grads)];
  }) as Float32Array[];
}

function gradOfLogits(fn: LossFn, labels: tf.Tensor, logits: tf.Tensor): Float32Array[] {
  return tidyRead(() => {
    const perRow = fn(labels, logits);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(fn(labels, x)))(logits);
    return [perRow, grad];
  }) as Float32Array[];
}

describe('labels stored as integers give the results of the same labels stored as floats', () => {
  const softmax: LossFn = (y, x) => focalLoss(y, x, { gamma: 2, alpha: 0.25, reduction: tf.Reduction.NONE });
  const softmaxSmoothed: LossFn =
      (y, x) => focalLoss(y, x, { gamma: 1.5, labelSmoothing: 0.1, reduction: tf.Reduction.NONE });
  const sigmoid: LossFn = (y, x) => sigmoidFocalLoss(y, x, { gamma: 2, reduction: tf.Reduction.NONE });

  test.each(SHAPES)('focalLoss and sigmoidFocalLoss, $name', ({ dims }) => {
    const rng = new Rng(dims.reduce((a, b) => a * b, 1));
    const size = dims.reduce((a, b) => a * b, 1);
    const { ints, classIndex } = integerLabels(rng, dims);
    const logits = tf.tensor(rng.float32Normal(size, 3), dims, 'float32');
    const asFloats = tf.tensor(Float32Array.from(ints), dims, 'float32');
    const castInts = tf.cast(tf.tensor(ints, dims, 'int32'), 'float32');
    const oneHot = tf.cast(tf.oneHot(tf.tensor(classIndex, dims.slice(0, -1), 'int32'),
                                     dims[dims.length - 1]), 'float32');
    const oneHotAsFloats = tf.tensor(oneHot.dataSync(), dims, 'float32');
    // 0/1 targets for the sigmoid (it rejects labels above 1).
    const binary = tf.cast(tf.tensor(ints.map((v) => (v > 0 ? 1 : 0)), dims, 'int32'), 'float32');
    const binaryAsFloats = tf.tensor(binary.dataSync(), dims, 'float32');
    try {
      for (const fn of [softmax, softmaxSmoothed]) {
        const want = gradOfLogits(fn, asFloats, logits);
        expect(want[0].every(Number.isFinite)).toBe(true);
        expect(gradOfLogits(fn, castInts, logits)).toEqual(want);
        expect(gradOfLogits(fn, oneHot, logits)).toEqual(gradOfLogits(fn, oneHotAsFloats, logits));
      }
      expect(gradOfLogits(sigmoid, binary, logits))
          .toEqual(gradOfLogits(sigmoid, binaryAsFloats, logits));
    } finally {
      tf.dispose([logits, asFloats, castInts, oneHot, oneHotAsFloats, binary, binaryAsFloats]);
    }
  });

  test('inside a model-style step (variableGrads, mean reduction)', () => {
    const rng = new Rng(7);
    const dims = [64, 10];
    const { ints } = integerLabels(rng, dims);
    const logits = tf.variable(tf.tensor(rng.float32Normal(640, 2), dims, 'float32'));
    const castInts = tf.cast(tf.tensor(ints, dims, 'int32'), 'float32');
    const asFloats = tf.tensor(Float32Array.from(ints), dims, 'float32');
    const mean: LossFn = (y, x) => focalLoss(y, x, { gamma: 2 });
    try {
      expect(lossAndGradient(mean, castInts, logits)).toEqual(lossAndGradient(mean, asFloats, logits));
    } finally {
      tf.dispose([logits, castInts, asFloats]);
    }
  });

  test('an integer label out of [0, 1] is reported with its index (sigmoid and dense softmax)', () => {
    const labels = tf.cast(tf.tensor([[0, 1], [2, 0]], [2, 2], 'int32'), 'float32');
    const logits = tf.zeros([2, 2]);
    try {
      expect(() => sigmoidFocalLoss(labels, logits)).toThrow(/labels\[1, 0\] = 2/);
      expect(() => focalLoss(labels, logits)).toThrow(/^focalLoss: labels\[1, 0\] = 2: labels must be in \[0, 1\]/);
    } finally {
      tf.dispose([labels, logits]);
    }
  });
});

// The part that only the 'cpu' backend has: its kernels get the backend's own storage. (On
// 'tensorflow' the labels are a TensorFlow tensor: the TensorFlow op reads them, or, with the ops
// disabled, readSync copies them out of TensorFlow once.)
const onCpu = process.env.FOCAL_TEST_BACKEND === 'cpu' ? describe : describe.skip;
onCpu('cpu backend: the addon reads the labels\' storage in place', () => {
  test.each([
    ['tf.cast(int32 tensor)', (ints: Int32Array, dims: number[]) =>
        tf.cast(tf.tensor(ints, dims, 'int32'), 'float32'), 'Int32Array'],
    ['tf.cast(tf.oneHot(...))', (_ints: Int32Array, dims: number[]) =>
        tf.cast(tf.oneHot(tf.tensor1d([1, 0, 3], 'int32'), dims[1]), 'float32'), 'Float32Array'],
  ] as Array<[string, (ints: Int32Array, dims: number[]) => tf.Tensor, string]>)(
      '%s', (_name, make, storedType) => {
        const dims = [3, 4];
        const labels = make(Int32Array.of(0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1), dims);
        const logits = tf.randomNormal(dims, 0, 1, 'float32', 3);
        const stored = (tf.backend() as unknown as {data: {get(id: tf.DataId): {values: unknown}}})
                           .data.get(labels.dataId).values;
        expect(Object.prototype.toString.call(stored)).toBe(`[object ${storedType}]`);
        const softmaxSpy = jest.spyOn(addon(), 'softmaxFocalLoss');
        const sigmoidSpy = jest.spyOn(addon(), 'sigmoidElementwiseLoss');
        try {
          tf.dispose([focalLoss(labels, logits), sigmoidFocalLoss(labels, logits)]);
          expect(softmaxSpy).toHaveBeenCalledTimes(1);
          expect(softmaxSpy.mock.calls[0][0].labels).toBe(stored);
          expect(softmaxSpy.mock.calls[0][0].denseLabels).toBe(true);
          expect(sigmoidSpy).toHaveBeenCalledTimes(1);
          expect(sigmoidSpy.mock.calls[0][0].labels).toBe(stored);
        } finally {
          softmaxSpy.mockRestore();
          sigmoidSpy.mockRestore();
          tf.dispose([labels, logits]);
        }
      });
});
