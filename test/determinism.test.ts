// The native kernels compute each row in one thread with the same code, so losses and gradients
// must be bit-identical whatever the thread count (SPEC). Checked on inputs large enough to be
// split across threads.

import * as tf from '@tensorflow/tfjs-core';
import './register_gradients';
import { focalLoss, getNumThreads, setNumThreads, sigmoidFocalLoss } from '../lib';
import { Rng, tidyRead } from './numeric_helpers';

const THREAD_COUNTS = [1, 2, 3, 8];

function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectIdenticalAcrossThreadCounts(what: string, run: () => Array<tf.Tensor | null>): void {
  const original = getNumThreads();
  try {
    setNumThreads(1);
    const baseline = tidyRead(run) as Float32Array[];
    for (const n of THREAD_COUNTS.slice(1)) {
      setNumThreads(n);
      const again = tidyRead(run) as Float32Array[];
      again.forEach((values, k) => {
        const at = firstDifference(values, baseline[k]);
        if (at !== -1) {
          throw new Error(`${what}, output ${k}: ${n} threads differ from 1 thread at element ${at}: ` +
            `${values[at]} vs ${baseline[k][at]}`);
        }
      });
    }
  } finally {
    setNumThreads(original);
  }
}

describe('bit-identical results for any thread count', () => {
  const rng = new Rng(2024);
  const rows = 4096;
  const classes = 64;
  const logits = rng.float32Normal(rows * classes, 4);
  const sparse = rng.sparseLabels(rows, classes);
  const soft = rng.softLabels(rows, classes);

  test.each([
    ['focalLoss sparse, gamma 2', false, { gamma: 2, alpha: 0.25 }],
    ['focalLoss soft labels, gamma 0.5, smoothing, per-class alpha', true,
      { gamma: 0.5, alpha: Array.from({ length: classes }, (_, j) => 0.1 + j / classes), labelSmoothing: 0.1 }],
    ['focalLoss probabilities, ignoreIndex', false, { gamma: 2, fromLogits: false, ignoreIndex: 3 }],
  ] as Array<[string, boolean, Record<string, unknown>]>)('%s', (name, dense, options) => {
    const probabilities = options.fromLogits === false;
    const input = probabilities ? Float32Array.from(logits, (v) => Math.abs(v) + 0.01) : logits;
    expectIdenticalAcrossThreadCounts(name, () => {
      const y = dense ? tf.tensor2d(soft, [rows, classes]) : tf.tensor1d(sparse, 'int32');
      const x = tf.tensor2d(input, [rows, classes]);
      const perRow = focalLoss(y, x, { ...options, reduction: tf.Reduction.NONE });
      const grad = tf.grad((z: tf.Tensor) => focalLoss(y, z, { ...options, reduction: tf.Reduction.SUM }))(x);
      return [perRow, grad];
    });
  });

  test('sigmoidFocalLoss, soft labels, gamma 1.5', () => {
    const targets = rng.float32Uniform(rows * classes, 0, 1);
    expectIdenticalAcrossThreadCounts('sigmoidFocalLoss', () => {
      const y = tf.tensor2d(targets, [rows, classes]);
      const x = tf.tensor2d(logits, [rows, classes]);
      const options = { gamma: 1.5, alpha: 0.25 };
      return [
        sigmoidFocalLoss(y, x, { ...options, reduction: tf.Reduction.NONE }),
        tf.grad((z: tf.Tensor) => sigmoidFocalLoss(y, z, { ...options, reduction: tf.Reduction.SUM }))(x),
      ];
    });
  });
});
