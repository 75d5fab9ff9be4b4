// Every bad input to the public API must throw a JS error whose type fits and whose message names
// the function, the argument, what was expected and what was received; nothing may reach native
// code, leak tensors or come back as NaN. Also the empty-batch edge case, which must give exact
// empty/zero results without calling the addon.
import * as tf from '@tensorflow/tfjs-core';

import {binaryFocalCrossentropy, categoricalFocalCrossentropy, focalLoss, getNumThreads, setNumThreads, sigmoidFocalLoss, simdLevel, sparseCategoricalFocalCrossentropy} from '../lib';
import {addon} from '../lib/native';

type ErrorClass = new (...args: never[]) => Error;

/** Runs `f`, expects an error of exactly `type` whose message contains every fragment. */
function expectError(f: () => unknown, type: ErrorClass, ...fragments: Array<string | RegExp>):
    Error {
  let thrown: unknown = null;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  if (thrown === null) {
    throw new Error(`expected ${type.name} containing ${fragments.join(' / ')}, nothing thrown`);
  }
  const error = thrown as Error;
  expect(error).toBeInstanceOf(type);
  expect(error.constructor).toBe(type);  // RangeError, not a bare Error posing as one
  for (const fragment of fragments) {
    if (typeof fragment === 'string') {
      expect(error.message).toContain(fragment);
    } else {
      expect(error.message).toMatch(fragment);
    }
  }
  return error;
}

/**
 * Like expectError, and also checks that the failed call left no tensor behind. `makeInputs`
 * creates the call's tensor arguments before the count starts (and they are disposed after).
 */
function expectErrorNoLeak<T extends tf.Tensor>(
    makeInput: (() => T) | null, call: (input: T) => unknown, type: ErrorClass,
    ...fragments: Array<string | RegExp>): Error {
  const input = makeInput === null ? null : makeInput();
  const before = tf.memory().numTensors;
  const error = expectError(() => call(input as T), type, ...fragments);
  expect(tf.memory().numTensors).toBe(before);
  if (input !== null) {
    input.dispose();
  }
  return error;
}

let logits: tf.Tensor2D;
let sparse: tf.Tensor1D;
let dense: tf.Tensor2D;

beforeAll(() => {
  logits = tf.tensor2d([[1, 2, 3, 4, 5], [0, -1, 2, 0.5, 1], [3, 3, 3, 3, 3], [-2, 0, 2, 4, 6]]);
  sparse = tf.tensor1d([0, 4, 2, 1], 'int32');
  dense = tf.oneHot(sparse, 5).toFloat() as tf.Tensor2D;
});

afterAll(() => {
  tf.dispose([logits, sparse, dense]);
});

describe('focalLoss: labels and logits', () => {
  test('non-tensor arguments are TypeErrors naming the argument and what was received', () => {
    expectErrorNoLeak(null, () => focalLoss([0, 1] as unknown as tf.Tensor, logits), TypeError,
                      'focalLoss: labels must be a tf.Tensor', 'received an array of length 2',
                      'tf.tensor(');
    expectErrorNoLeak(null, () => focalLoss(sparse, null as unknown as tf.Tensor), TypeError,
                      'focalLoss: logits must be a tf.Tensor', 'received null');
    expectErrorNoLeak(null, () => focalLoss(sparse, {shape: [4, 5]} as unknown as tf.Tensor),
                      TypeError, 'logits must be a tf.Tensor', 'received an object');
  });

  test('disposed tensors are rejected before any work', () => {
    const gone = tf.tensor2d([[1, 2]]);
    gone.dispose();
    expectErrorNoLeak(() => tf.tensor1d([0], 'int32'), (bad) => focalLoss(bad, gone), Error,
                      'focalLoss: logits must be a live tf.Tensor', 'already been disposed');
    const goneLabels = tf.tensor1d([0, 1, 2, 3], 'int32');
    goneLabels.dispose();
    expectErrorNoLeak(null, () => focalLoss(goneLabels, logits), Error,
                      'focalLoss: labels must be a live tf.Tensor', 'shape [4]', 'disposed');
  });

  test('logits must be float32', () => {
    const intLogits = tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32');
    expectErrorNoLeak(() => tf.tensor1d([0, 1], 'int32'), (bad) => focalLoss(bad, intLogits), TypeError,
                      'focalLoss: logits must have dtype float32', 'received dtype int32');
    intLogits.dispose();
  });

  test('logits must have rank >= 2 and a non-empty class axis', () => {
    const vector = tf.tensor1d([1, 2, 3]);
    expectErrorNoLeak(() => tf.scalar(0, 'int32'), (bad) => focalLoss(bad, vector), RangeError,
                      'focalLoss: logits must have rank >= 2', 'received shape [3]',
                      'expandDims(0)');
    const noClasses = tf.zeros([3, 0]);
    expectErrorNoLeak(() => tf.tensor1d([0, 0, 0], 'int32'), (bad) => focalLoss(bad, noClasses), RangeError,
                      'class axis (last axis) of logits must have size > 0',
                      'received shape [3,0]');
    tf.dispose([vector, noClasses]);
  });

  test('sparse int32 labels must have shape logits.shape[:-1]', () => {
    expectErrorNoLeak(() => tf.tensor1d([0, 1, 2], 'int32'), (bad) => focalLoss(bad, logits), RangeError,
                      'sparse int32 labels must have shape logits.shape[:-1] = [4]',
                      'received shape [3]');
    // [N, 1] class indices: the message says how to fix it.
    expectErrorNoLeak(() => tf.tensor2d([[0], [1], [2], [3]], undefined, 'int32'), (bad) => focalLoss(bad,
                                      logits),
                      RangeError, 'received shape [4,1]', 'squeeze');
    // int32 one-hot: must be float32.
    expectErrorNoLeak(() => tf.cast(dense, 'int32'), (bad) => focalLoss(bad, logits), RangeError,
                      'received shape [4,5]', 'one-hot labels must be float32');
  });

  test('dense float32 labels must have the shape of logits', () => {
    expectErrorNoLeak(() => tf.ones([4, 3]), (bad) => focalLoss(bad, logits), RangeError,
                      'dense float32 labels must have the shape of logits [4,5]',
                      'received shape [4,3]');
    // float32 class indices: the message says to cast them to int32.
    expectErrorNoLeak(() => tf.tensor1d([0, 4, 2, 1]), (bad) => focalLoss(bad, logits), RangeError,
                      'received shape [4]', 'class-index labels must be int32');
  });

  test('labels of another dtype are a TypeError listing both accepted forms', () => {
    expectErrorNoLeak(() => tf.tensor1d([true, false, true, true], 'bool'), (bad) => focalLoss(bad, logits),
                      TypeError, 'labels must be int32 class indices of shape [4]',
                      'float32 (one-hot or soft) labels of shape [4,5]', 'received dtype bool');
  });

  test('NaN or infinite dense labels are reported with their index', () => {
    const withNaN = tf.tensor2d([[0, 1, 0, 0, 0], [0, 0, NaN, 0, 0], [1, 0, 0, 0, 0],
                                 [0, 0, 0, 0, 1]]);
    expectErrorNoLeak(null, () => focalLoss(withNaN, logits), RangeError,
                      'focalLoss: labels[1, 2] = NaN: labels must be in [0, 1]');
    const withInf = tf.tensor2d([[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [1, 0, 0, 0, 0],
                                 [0, 0, 0, Infinity, 1]]);
    expectErrorNoLeak(null, () => focalLoss(withInf, logits), RangeError, 'labels[3, 3] = Infinity');
    // Also while a gradient is being recorded (the kernel then also writes the gradient).
    expectError(() => tf.grad((x: tf.Tensor) => focalLoss(withNaN, x))(logits), RangeError,
                'labels[1, 2] = NaN');
    tf.dispose([withNaN, withInf]);
  });

  test('sparse labels out of [0, C) are reported by the native kernel as a RangeError', () => {
    expectErrorNoLeak(() => tf.tensor1d([0, 1, 7, 3], 'int32'), (bad) => focalLoss(bad, logits), RangeError,
                      'focalLoss:', 'labels[2] = 7', 'out of range [0, 5)');
    expectErrorNoLeak(() => tf.tensor1d([0, -1, 2, 3], 'int32'), (bad) => focalLoss(bad, logits), RangeError,
                      'labels[1] = -1', 'out of range [0, 5)');
    // -100 is only allowed when it is the ignoreIndex.
    expectErrorNoLeak(() => tf.tensor1d([0, -100, 2, 3], 'int32'), (bad) => focalLoss(bad, logits),
                      RangeError, 'labels[1] = -100');
    // For labels with several axes the position is given in the labels' own coordinates.
    const logits3 = tf.zeros([2, 3, 4]);
    expectErrorNoLeak(() => tf.tensor2d([[0, 1, 2], [3, 0, 9]], undefined, 'int32'),
                      (bad) => focalLoss(bad, logits3), RangeError, 'focalLoss:',
                      'labels[1, 2] = 9', 'out of range [0, 4)');
    logits3.dispose();
    const ignored = focalLoss(tf.tensor1d([0, -100, 2, 3], 'int32'), logits, {ignoreIndex: -100});
    expect(Number.isFinite(ignored.dataSync()[0])).toBe(true);
    ignored.dispose();
  });
});

describe('focalLoss: options', () => {
  test('options must be an object', () => {
    expectErrorNoLeak(null, () => focalLoss(sparse, logits, 2 as unknown as object), TypeError,
                      'focalLoss: options must be an object', 'received number 2');
    expectErrorNoLeak(null, () => focalLoss(sparse, logits, [1] as unknown as object), TypeError,
                      'options must be an object', 'received an array of length 1');
  });

  test('a misspelt option is rejected and the closest valid key suggested', () => {
    expectErrorNoLeak(null, () => focalLoss(sparse, logits, {gama: 2} as unknown as object),
                      TypeError, "focalLoss: unknown option 'gama'", "did you mean 'gamma'?",
                      'gamma, alpha, weights, reduction, labelSmoothing, ignoreIndex, fromLogits');
    expectError(() => focalLoss(sparse, logits, {label_smoothing: 0.1} as unknown as object),
                TypeError, "unknown option 'label_smoothing'", "did you mean 'labelSmoothing'?");
    expectError(() => focalLoss(sparse, logits, {from_logits: false} as unknown as object),
                TypeError, "did you mean 'fromLogits'?");
    // Nothing plausible: no suggestion, but the valid keys are listed.
    const error = expectError(
        () => focalLoss(sparse, logits, {temperature: 2} as unknown as object), TypeError,
        "unknown option 'temperature'", 'expected only the keys {gamma,');
    expect(error.message).not.toContain('did you mean');
  });

  test('gamma must be a finite number >= 0', () => {
    expectErrorNoLeak(null, () => focalLoss(sparse, logits, {gamma: -1}), RangeError,
                      'focalLoss: options.gamma must be a finite number >= 0', 'received -1');
    expectError(() => focalLoss(sparse, logits, {gamma: NaN}), RangeError, 'received NaN');
    // finite as a double, Infinity in the float32 the kernels compute in
    expectError(() => focalLoss(sparse, logits, {gamma: 1e39}), RangeError,
                'options.gamma must be a finite number >= 0', 'received 1e+39');
    expectError(() => focalLoss(sparse, logits, {alpha: 1e39}), RangeError,
                'options.alpha must be a finite number >= 0', 'received 1e+39');
    expectError(() => focalLoss(sparse, logits, {alpha: [1, 1e39, 1, 1, 1]}), RangeError,
                'options.alpha[1] must be a finite number >= 0', 'received 1e+39');
    expectError(() => sigmoidFocalLoss(dense, logits, {gamma: 3.5e38}), RangeError,
                'options.gamma must be a finite number >= 0');
    expectError(() => focalLoss(sparse, logits, {gamma: Infinity}), RangeError,
                'received Infinity');
    expectError(() => focalLoss(sparse, logits, {gamma: '2' as unknown as number}), TypeError,
                'options.gamma must be a finite number >= 0', "received the string '2'");
  });

  test('alpha must be a number >= 0 or one such number per class', () => {
    expectErrorNoLeak(null, () => focalLoss(sparse, logits, {alpha: -0.25}), RangeError,
                      'focalLoss: options.alpha must be a finite number >= 0', 'received -0.25');
    expectError(() => focalLoss(sparse, logits, {alpha: NaN}), RangeError, 'received NaN');
    expectError(() => focalLoss(sparse, logits, {alpha: [1, 1, 1]}), RangeError,
                'options.alpha must have one entry per class (length 5',
                'received an array of length 3');
    expectError(() => focalLoss(sparse, logits, {alpha: [1, -2, 1, 1, 1]}), RangeError,
                'options.alpha[1] must be a finite number >= 0', 'received -2');
    expectError(() => focalLoss(sparse, logits, {alpha: [1, 1, 1, Infinity, 1]}), RangeError,
                'options.alpha[3]', 'received Infinity');
    expectError(() => focalLoss(sparse, logits, {alpha: [1, 1, '1', 1, 1] as unknown as number[]}),
                TypeError, 'options.alpha[2] must be a finite number', "received the string '1'");
    const alphaTensor = tf.ones([5]);
    expectError(() => focalLoss(sparse, logits, {alpha: alphaTensor as unknown as number[]}),
                TypeError, 'options.alpha must be a finite number >= 0 or an array of 5',
                'received a Tensor of dtype float32 and shape [5]', 'alpha.array()');
    alphaTensor.dispose();
  });

  test('labelSmoothing must lie in [0, 1]', () => {
    expectErrorNoLeak(null, () => focalLoss(sparse, logits, {labelSmoothing: 1.5}), RangeError,
                      'focalLoss: options.labelSmoothing must be a number in [0, 1]',
                      'received 1.5');
    expectError(() => focalLoss(sparse, logits, {labelSmoothing: -0.1}), RangeError,
                'received -0.1');
    expectError(() => focalLoss(sparse, logits, {labelSmoothing: NaN}), RangeError,
                'received NaN');
    expectError(() => focalLoss(sparse, logits, {labelSmoothing: true as unknown as number}),
                TypeError, 'options.labelSmoothing', 'received boolean true');
  });

  test('reduction must be a tf.Reduction value', () => {
    expectErrorNoLeak(null, () => focalLoss(sparse, logits, {reduction: 'mean' as unknown as tf.Reduction}),
        TypeError, 'focalLoss: options.reduction must be one of tf.Reduction.NONE (0), MEAN (1)',
        "received the string 'mean'", 'use tf.Reduction.MEAN');
    expectError(() => focalLoss(sparse, logits, {reduction: 7 as tf.Reduction}), TypeError,
                'options.reduction', 'SUM_BY_NONZERO_WEIGHTS (3)', 'received number 7');
  });

  test('ignoreIndex must be an int32 integer and is only for sparse labels', () => {
    expectErrorNoLeak(null, () => focalLoss(sparse, logits, {ignoreIndex: 1.5}), RangeError,
                      'focalLoss: options.ignoreIndex must be an integer', 'received 1.5');
    expectError(() => focalLoss(sparse, logits, {ignoreIndex: 2 ** 31}), RangeError,
                'int32 range', 'received 2147483648');
    expectError(() => focalLoss(sparse, logits, {ignoreIndex: '3' as unknown as number}),
                TypeError, 'options.ignoreIndex must be an integer', "received the string '3'");
    expectErrorNoLeak(null, () => focalLoss(dense, logits, {ignoreIndex: 0}), TypeError,
                      'options.ignoreIndex applies only to sparse int32 labels',
                      'received dense float32 labels of shape [4,5]', 'options.weights');
  });

  test('fromLogits must be a boolean', () => {
    expectErrorNoLeak(null, () => focalLoss(sparse, logits, {fromLogits: 'yes' as unknown as boolean}),
                      TypeError, 'focalLoss: options.fromLogits must be a boolean',
                      "received the string 'yes'");
    expectError(() => focalLoss(sparse, logits, {fromLogits: 0 as unknown as boolean}), TypeError,
                'received number 0');
  });

  test('weights must be finite and broadcastable to the per-sample loss shape', () => {
    expectErrorNoLeak(() => tf.ones([3]), (bad) => focalLoss(sparse, logits, {weights: bad}), RangeError,
                      'focalLoss: options.weights must be broadcastable to the per-sample loss ' +
                          'shape [4]',
                      'received shape [3]');
    // [N, 1] would broadcast the [N] loss to [N, N]: refused.
    expectError(() => focalLoss(sparse, logits, {weights: tf.ones([4, 1])}), RangeError,
                'received shape [4,1]');
    expectErrorNoLeak(() => tf.tensor1d([1, NaN, 1, 1]), (bad) => focalLoss(sparse, logits, {weights: bad}),
                      RangeError, 'options.weights must contain only finite values',
                      'containing NaN or Infinity');
    expectError(() => focalLoss(sparse, logits, {weights: tf.tensor1d([1, 1, -Infinity, 1])}),
                RangeError, 'only finite values');
    expectError(() => focalLoss(sparse, logits, {weights: NaN}), RangeError,
                'options.weights must be finite', 'received NaN');
    expectError(() => focalLoss(sparse, logits, {weights: [1, 2, 3, 4] as unknown as tf.Tensor}),
                TypeError, 'options.weights must be a tf.Tensor or a number',
                'received an array of length 4');
    const stringWeights = tf.tensor1d(['a', 'b', 'c', 'd']);
    expectError(() => focalLoss(sparse, logits, {weights: stringWeights}), TypeError,
                'options.weights must have a numeric dtype', 'received dtype string');
    const disposed = tf.ones([4]);
    disposed.dispose();
    expectError(() => focalLoss(sparse, logits, {weights: disposed}), Error,
                'options.weights must be a live tf.Tensor', 'disposed');
  });

  test('valid weights of every accepted form work', () => {
    for (const weights of [tf.tensor1d([1, 0, 2, 1]), tf.scalar(2), 0.5,
                           tf.tensor1d([1, 0, 1, 1], 'int32')]) {
      const loss = focalLoss(sparse, logits, {weights});
      expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
      loss.dispose();
    }
  });
});

describe('sigmoidFocalLoss', () => {
  let x: tf.Tensor2D;
  let y: tf.Tensor2D;
  beforeAll(() => {
    x = tf.tensor2d([[1, -2, 0.5], [3, 0, -1]]);
    y = tf.tensor2d([[1, 0, 0], [0, 1, 1]]);
  });
  afterAll(() => tf.dispose([x, y]));

  test('labels must be float32 of the shape of logits', () => {
    expectErrorNoLeak(() => tf.cast(y, 'int32'), (bad) => sigmoidFocalLoss(bad, x), TypeError,
                      'sigmoidFocalLoss: labels must be float32 targets in [0, 1]',
                      'received dtype int32', "tf.cast(labels, 'float32')");
    expectErrorNoLeak(() => tf.ones([2, 2]), (bad) => sigmoidFocalLoss(bad, x), RangeError,
                      'sigmoidFocalLoss: labels must have the shape of logits [2,3]',
                      'received shape [2,2]');
    expectError(() => sigmoidFocalLoss(y, tf.cast(x, 'int32')), TypeError,
                'sigmoidFocalLoss: logits must have dtype float32', 'received dtype int32');
  });

  test('alpha must lie in [0, 1], or be null / negative for no balancing', () => {
    expectErrorNoLeak(null, () => sigmoidFocalLoss(y, x, {alpha: 1.5}), RangeError,
                      'sigmoidFocalLoss: options.alpha must be a number in [0, 1]',
                      'received 1.5');
    expectError(() => sigmoidFocalLoss(y, x, {alpha: NaN}), RangeError, 'received NaN');
    expectError(() => sigmoidFocalLoss(y, x, {alpha: 'x' as unknown as number}), TypeError,
                "received the string 'x'");
    for (const alpha of [null, -1, 0, 1]) {
      const loss = sigmoidFocalLoss(y, x, {alpha});
      expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
      loss.dispose();
    }
  });

  test('normalizeByPositives is a boolean and replaces reduction', () => {
    expectErrorNoLeak(null, () => sigmoidFocalLoss(y, x, {normalizeByPositives: true, reduction: tf.Reduction.SUM}),
        TypeError, 'options.reduction cannot be combined with options.normalizeByPositives',
        'received reduction 2');
    expectError(() => sigmoidFocalLoss(y, x,
                                       {normalizeByPositives: 'yes' as unknown as boolean}),
                TypeError, 'options.normalizeByPositives must be a boolean');
    expectError(() => sigmoidFocalLoss(y, x, {normaliseByPositives: true} as unknown as object),
                TypeError, "unknown option 'normaliseByPositives'",
                "did you mean 'normalizeByPositives'?");
  });

  test('NaN labels, labels outside [0, 1] and non-broadcastable weights are reported', () => {
    // The native kernel validates sigmoid targets (flat index), the JS scan covers what it lets
    // through: either way the message names labels, the position and the value.
    expectErrorNoLeak(() => tf.tensor2d([[1, 0, 0], [0, NaN, 1]]), (bad) => sigmoidFocalLoss(bad, x),
                      RangeError, 'sigmoidFocalLoss:', /labels\[(4|1, 1)\] = NaN/);
    expectErrorNoLeak(() => tf.tensor2d([[1, 0, 0], [0, 1, 1.5]]),
                      (bad) => sigmoidFocalLoss(bad, x), RangeError, 'sigmoidFocalLoss:',
                      /labels\[(5|1, 2)\] = 1.5/, 'must be in [0, 1]');
    const nanLabels = tf.tensor2d([[1, 0, 0], [0, Infinity, 1]]);
    expectErrorNoLeak(null, () => sigmoidFocalLoss(nanLabels, x), RangeError,
                      /labels\[(4|1, 1)\] = Infinity/);
    nanLabels.dispose();
    expectError(() => sigmoidFocalLoss(y, x, {weights: tf.ones([2])}), RangeError,
                'options.weights must be broadcastable to the per-sample loss shape [2,3]',
                'received shape [2]');
    expectError(() => sigmoidFocalLoss(y, x, {gamma: -2}), RangeError,
                'sigmoidFocalLoss: options.gamma', 'received -2');
  });
});

describe('Keras-style factories', () => {
  test('config typos and bad values are caught when the loss is created', () => {
    expectError(() => categoricalFocalCrossentropy({from_logits: true} as unknown as object),
                TypeError, "categoricalFocalCrossentropy: unknown option 'from_logits' in config",
                "did you mean 'fromLogits'?");
    expectError(() => binaryFocalCrossentropy({apply_class_balancing: true} as unknown as object),
                TypeError, "did you mean 'applyClassBalancing'?");
    expectError(() => sparseCategoricalFocalCrossentropy({gamma: -1}), RangeError,
                'sparseCategoricalFocalCrossentropy: config.gamma must be a finite number >= 0',
                'received -1');
    expectError(() => binaryFocalCrossentropy({alpha: 2}), RangeError,
                'binaryFocalCrossentropy: config.alpha must be a number in [0, 1]', 'received 2');
    expectError(() => categoricalFocalCrossentropy({alpha: 'a' as unknown as number}), TypeError,
                'config.alpha must be a finite number >= 0 or an array',
                "received the string 'a'");
    expectError(() => categoricalFocalCrossentropy({alpha: [0.5, -1]}), RangeError,
                'config.alpha[1]', 'received -1');
  });

  test('yTrue / yPred problems name yTrue / yPred', () => {
    const probs = tf.tensor2d([[0.2, 0.8], [0.6, 0.4]]);
    expectErrorNoLeak(() => tf.tensor1d([1, 0]), (bad) => categoricalFocalCrossentropy()(bad, probs),
                      RangeError, 'categoricalFocalCrossentropy: yTrue must be one-hot',
                      'received shape [2]', 'use sparseCategoricalFocalCrossentropy');
    expectError(() => categoricalFocalCrossentropy()(tf.ones([2, 2]), tf.ones([2, 2], 'int32')),
                TypeError, 'yPred must have dtype float32', 'received dtype int32');
    expectErrorNoLeak(() => tf.tensor1d([1, 0.5]), (bad) => sparseCategoricalFocalCrossentropy()(bad, probs),
                      RangeError, 'sparseCategoricalFocalCrossentropy: yTrue must hold integer ' +
                          'class indices',
                      'yTrue[1] = 0.5');
    expectError(() => sparseCategoricalFocalCrossentropy()(tf.tensor1d([1, NaN]), probs),
                RangeError, 'yTrue[1] = NaN');
    expectError(() => sparseCategoricalFocalCrossentropy()(tf.tensor1d([1, 0, 1]), probs),
                RangeError, 'yTrue must hold class indices of shape [2] or [2,1]',
                'received shape [3]');
    expectError(() => sparseCategoricalFocalCrossentropy()(tf.tensor1d([1, 2]), probs),
                RangeError, 'yTrue[1] = 2', 'out of range [0, 2)');
    expectError(() => binaryFocalCrossentropy()(tf.ones([2, 3]), probs), RangeError,
                'binaryFocalCrossentropy: yTrue must have the shape of yPred [2,2]',
                'received shape [2,3]');
    expectError(() => binaryFocalCrossentropy()(tf.ones([2]), tf.scalar(0.5)), RangeError,
                'yPred must have rank >= 1');
    expectError(() => categoricalFocalCrossentropy()('a' as unknown as tf.Tensor, probs),
                TypeError, 'categoricalFocalCrossentropy: yTrue must be a tf.Tensor');
    probs.dispose();
  });
});

describe('thread and SIMD controls', () => {
  test('setNumThreads validates its argument', () => {
    expectError(() => setNumThreads(0), RangeError, 'setNumThreads: n must be an integer in [1, ',
                'received 0');
    expectError(() => setNumThreads(1.5), RangeError, 'received 1.5');
    expectError(() => setNumThreads(NaN), RangeError, 'received NaN');
    expectError(() => setNumThreads('2' as unknown as number), TypeError,
                'setNumThreads: n must be an integer >= 1', "received the string '2'");
  });

  test('setNumThreads / getNumThreads round-trip and simdLevel is a known level', () => {
    const original = getNumThreads();
    expect(Number.isInteger(original) && original >= 1).toBe(true);
    try {
      setNumThreads(1);
      expect(getNumThreads()).toBe(1);
      setNumThreads(3);
      expect(getNumThreads()).toBe(3);
    } finally {
      setNumThreads(original);
    }
    expect(['avx512', 'avx2', 'generic']).toContain(simdLevel());
  });
});

// Second-order gradients (correct on every path; the kernels' own refusal): test/second_order.test.ts.

describe('empty batch', () => {
  test('N = 0 gives empty per-row losses and exact zeros, without calling the addon', () => {
    const emptyLogits = tf.zeros([0, 5]);
    const emptySparse = tf.zeros([0], 'int32');
    const emptyDense = tf.zeros([0, 5]);
    const callsBefore = addon().callCount();
    const none = focalLoss(emptySparse, emptyLogits, {reduction: tf.Reduction.NONE});
    expect(none.shape).toEqual([0]);
    expect(none.dtype).toBe('float32');
    for (const reduction of [tf.Reduction.SUM, tf.Reduction.MEAN,
                             tf.Reduction.SUM_BY_NONZERO_WEIGHTS]) {
      for (const labels of [emptySparse, emptyDense]) {
        const loss = focalLoss(labels, emptyLogits, {reduction});
        expect(loss.shape).toEqual([]);
        expect(loss.dataSync()[0]).toBe(0);  // not NaN from 0 / 0
        loss.dispose();
      }
      const weighted = focalLoss(emptySparse, emptyLogits, {reduction, weights: tf.zeros([0])});
      expect(weighted.dataSync()[0]).toBe(0);
      weighted.dispose();
      const sig = sigmoidFocalLoss(emptyDense, emptyLogits, {reduction});
      expect(sig.dataSync()[0]).toBe(0);
      sig.dispose();
    }
    const rank3 = focalLoss(tf.zeros([2, 0], 'int32'), tf.zeros([2, 0, 3]),
                            {reduction: tf.Reduction.NONE});
    expect(rank3.shape).toEqual([2, 0]);
    const positives = sigmoidFocalLoss(emptyDense, emptyLogits, {normalizeByPositives: true});
    expect(positives.dataSync()[0]).toBe(0);
    // The gradient of an empty batch is an empty gradient, not an error.
    const grad = tf.grad((x: tf.Tensor) => focalLoss(emptySparse, x))(emptyLogits);
    expect(grad.shape).toEqual([0, 5]);
    expect(addon().callCount()).toBe(callsBefore);
    tf.dispose([emptyLogits, emptySparse, emptyDense, none, rank3, positives, grad]);
  });

  test('a batch whose rows are all ignored or all zero-weighted gives 0, not NaN', () => {
    const labels = tf.tensor1d([-100, -100, -100, -100], 'int32');
    for (const reduction of [tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS,
                             tf.Reduction.SUM]) {
      const loss = focalLoss(labels, logits, {ignoreIndex: -100, reduction});
      expect(loss.dataSync()[0]).toBe(0);
      loss.dispose();
      const zeroWeighted = focalLoss(sparse, logits, {weights: tf.zeros([4]), reduction});
      expect(zeroWeighted.dataSync()[0]).toBe(0);
      zeroWeighted.dispose();
    }
    const grad = tf.grad((x: tf.Tensor) => focalLoss(labels, x, {ignoreIndex: -100}))(logits);
    expect(Array.from(grad.dataSync()).every((g) => g === 0)).toBe(true);
    tf.dispose([labels, grad]);
  });
});
