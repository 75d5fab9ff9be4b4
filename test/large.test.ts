// Logits of 2^27 elements (512 MiB of float32): forward + gradient work on the active backend and
// give the float64 reference's numbers at the first, middle and last rows, so no size or offset is
// held in 32 bits anywhere between the tensors and the kernel.
import * as tf from '@tensorflow/tfjs-core';
import { focalLoss, sigmoidFocalLoss } from '../lib';
import { sigmoidFocalElements, softmaxFocalRows } from './reference';
import { expectAllClose, expectGradientClose } from './numeric_helpers';

const ROWS = 1 << 20;
const CLASSES = 128; // ROWS * CLASSES = 2^27
const ELEMENTS = ROWS * CLASSES;

/** A cheap deterministic fill (random generators over 2^27 values would dominate the test). */
function pattern(count: number, period: number, scale: number, offset: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (((i * 7919) % period) / period) * scale + offset;
  return out;
}

const CHECK_ROWS = [0, 1, ROWS / 2, ROWS - 2, ROWS - 1];

describe('2^27-element inputs', () => {
  test('focalLoss forward + gradient at 2^20 x 128', () => {
    expect(ELEMENTS).toBe(2 ** 27);
    const logitValues = pattern(ELEMENTS, 1009, 12, -6);
    const labelValues = Int32Array.from({ length: ROWS }, (_, i) => (i * 31) % CLASSES);
    const logits = tf.tensor2d(logitValues, [ROWS, CLASSES]);
    const labels = tf.tensor1d(labelValues, 'int32');
    const { value, grads } = tf.tidy(() => {
      const perRow = (z: tf.Tensor) => focalLoss(labels, z, { reduction: tf.Reduction.NONE });
      const loss = perRow(logits);
      // Gradient of the sum: every row's own gradient, unscaled.
      const g = tf.grad((z: tf.Tensor) => tf.sum(perRow(z)))(logits);
      return { value: loss, grads: g };
    });
    expect(grads.shape).toEqual([ROWS, CLASSES]);
    const loss = value.dataSync();
    const grad = grads.dataSync();
    for (const row of CHECK_ROWS) {
      const rowLogits = logitValues.subarray(row * CLASSES, (row + 1) * CLASSES);
      const ref = softmaxFocalRows(rowLogits, 1, CLASSES, { kind: 'sparse', values: [labelValues[row]] }, { gamma: 2, alpha: 0.25 });
      expectAllClose(`loss row ${row}`, [loss[row]], ref.loss, 1e-5);
      expectGradientClose(`gradient row ${row}`, grad.subarray(row * CLASSES, (row + 1) * CLASSES), ref.grad, 1e-5);
    }
    tf.dispose([logits, labels, value, grads]);
  });

  test('sigmoidFocalLoss forward + gradient over 2^27 elements', () => {
    const logitValues = pattern(ELEMENTS, 997, 16, -8);
    const labelValues = pattern(ELEMENTS, 13, 13 / 12, 0).map((v) => (v >= 1 ? 1 : 0));
    const logits = tf.tensor2d(logitValues, [ROWS, CLASSES]);
    const labels = tf.tensor2d(labelValues, [ROWS, CLASSES]);
    // Reduction NONE: tf.grad seeds dy = 1 per element, so the gradient is each element's own.
    const grads = tf.tidy(() => tf.grad((z: tf.Tensor) => sigmoidFocalLoss(labels, z, { reduction: tf.Reduction.NONE }))(logits));
    const grad = grads.dataSync();
    for (const row of CHECK_ROWS) {
      const span = [row * CLASSES, (row + 1) * CLASSES] as const;
      const ref = sigmoidFocalElements(logitValues.subarray(...span), labelValues.subarray(...span), { gamma: 2, alpha: 0.25 });
      expectGradientClose(`sigmoid gradient row ${row}`, grad.subarray(...span), ref.grad, 1e-5);
    }
    tf.dispose([logits, labels, grads]);
  });
});
