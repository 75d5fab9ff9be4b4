// The library's Keras-style losses and sigmoidFocalLoss against numbers produced by Keras 3
// (keras.losses.CategoricalFocalCrossentropy / BinaryFocalCrossentropy, reduction=None) and
// torchvision.ops.sigmoid_focal_loss on fixed inputs: test/fixtures/*.json, written by
// tools/gen_fixtures.py (Python is not needed at test time).
//
// Documented difference: Keras clips softmax probabilities to [1e-7, 1 - 1e-7] even when
// from_logits=True; the library does not clamp on the logits path (exact gradients for any logit).
// The fixtures keep every from_logits=True softmax probability inside the clip range, except the
// case `logits_clipped_by_keras`, which records the unclipped value as `perSampleUnclipped`.
// Probabilities (fromLogits=false) are clipped like Keras' formula with exact bounds; a float32
// Keras run rounds the upper bound to 0.99999988, which matters only for p >= 0.99999988 (the
// probs_at_* cases; see the test 'probability clip at the boundary').

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import './register_gradients';
import {
  binaryFocalCrossentropy,
  categoricalFocalCrossentropy,
  focalLoss,
  sigmoidFocalLoss,
  sparseCategoricalFocalCrossentropy,
} from '../lib';
import { expectAllClose, tidyRead } from './numeric_helpers';

const RTOL = 1e-5;
const FIXTURES = path.join(__dirname, 'fixtures');
const readFixture = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
const flat = (x: unknown): number[] => (Array.isArray(x) ? (x as unknown[]).flatMap(flat) : [x as number]);

interface CategoricalCase {
  name: string;
  options: { alpha: number | number[]; gamma: number; fromLogits: boolean; labelSmoothing: number };
  shape: number[];
  yTrue: unknown;
  yPred: unknown;
  sparseLabels?: unknown;
  perSample: unknown;
  perSampleKerasFloat32: unknown;
  perSampleUnclipped?: unknown;
  meanLoss: number;
}

interface BinaryCase {
  name: string;
  options: { applyClassBalancing: boolean; alpha: number; gamma: number; fromLogits: boolean; labelSmoothing: number };
  shape: number[];
  yTrue: unknown;
  yPred: unknown;
  perSample: unknown;
  perSampleKerasFloat32: unknown;
  meanLoss: number;
}

interface TorchvisionCase {
  name: string;
  options: { alpha: number; gamma: number };
  shape: number[];
  targets: unknown;
  logits: unknown;
  loss: unknown;
  lossExact: unknown;
  sum: number;
}

const categorical = readFixture('keras_categorical_focal.json') as { versions: Record<string, string>; cases: CategoricalCase[] };
const binary = readFixture('keras_binary_focal.json') as { cases: BinaryCase[] };
const torchvision = readFixture('torchvision_sigmoid_focal.json') as { cases: TorchvisionCase[] };

test('fixtures come from the intended Keras / torchvision versions', () => {
  expect(categorical.versions.keras).toBe('3.15.1');
  expect(categorical.versions.torchvision).toMatch(/^0\.\d+/);
  expect(categorical.cases.length).toBeGreaterThanOrEqual(10);
  expect(binary.cases.length).toBeGreaterThanOrEqual(10);
  expect(torchvision.cases.length).toBeGreaterThanOrEqual(7);
});

describe('categoricalFocalCrossentropy vs keras.losses.CategoricalFocalCrossentropy', () => {
  test.each(categorical.cases.map((c) => [c.name, c] as [string, CategoricalCase]))('%s', (_name, c) => {
    const sampleShape = c.shape.slice(0, -1);
    const expected = flat(c.perSampleUnclipped ?? c.perSample);
    const [perSample, viaFocalLoss, mean] = tidyRead(() => {
      const yTrue = tf.tensor(flat(c.yTrue), c.shape);
      const yPred = tf.tensor(flat(c.yPred), c.shape);
      const loss = categoricalFocalCrossentropy(c.options)(yTrue, yPred);
      expect(loss.shape).toEqual(sampleShape);
      return [
        loss,
        focalLoss(yTrue, yPred, { ...c.options, reduction: tf.Reduction.NONE }),
        // focalLoss' default reduction (mean over samples) is Keras' sum_over_batch_size
        focalLoss(yTrue, yPred, c.options),
      ];
    });
    expectAllClose(`${c.name}: per-sample loss`, perSample!, expected, RTOL);
    expectAllClose(`${c.name}: focalLoss(reduction NONE)`, viaFocalLoss!, expected, RTOL);
    if (!c.perSampleUnclipped) expectAllClose(`${c.name}: mean loss`, mean!, [c.meanLoss], RTOL);
  });

  test('logits_clipped_by_keras: the documented difference is real (Keras clips, the library does not)', () => {
    const c = categorical.cases.find((k) => k.name === 'logits_clipped_by_keras')!;
    const keras = flat(c.perSample);
    const unclipped = flat(c.perSampleUnclipped);
    // the clip changes the value by far more than the tolerance, so matching one excludes the other
    keras.forEach((k, i) => expect(Math.abs(k - unclipped[i]) / unclipped[i]).toBeGreaterThan(0.1));
  });

  const sparseCases = categorical.cases.filter((c) => c.sparseLabels !== undefined);
  test.each(sparseCases.map((c) => [c.name, c] as [string, CategoricalCase]))('sparseCategoricalFocalCrossentropy: %s', (_name, c) => {
    const sampleShape = c.shape.slice(0, -1);
    const expected = flat(c.perSampleUnclipped ?? c.perSample);
    const [int32Labels, floatLabelsWithUnitAxis] = tidyRead(() => {
      const yPred = tf.tensor(flat(c.yPred), c.shape);
      const loss = sparseCategoricalFocalCrossentropy(c.options);
      return [
        loss(tf.tensor(flat(c.sparseLabels), sampleShape, 'int32'), yPred),
        // what tfjs-layers feeds: float class indices with a trailing unit axis
        loss(tf.tensor(flat(c.sparseLabels), [...sampleShape, 1], 'float32'), yPred),
      ];
    });
    expectAllClose(`${c.name}: sparse int32 labels`, int32Labels!, expected, RTOL);
    expectAllClose(`${c.name}: sparse float [..., 1] labels`, floatLabelsWithUnitAxis!, expected, RTOL);
  });
});

describe('binaryFocalCrossentropy vs keras.losses.BinaryFocalCrossentropy', () => {
  test.each(binary.cases.map((c) => [c.name, c] as [string, BinaryCase]))('%s', (_name, c) => {
    const [perSample] = tidyRead(() => {
      const loss = binaryFocalCrossentropy(c.options)(tf.tensor(flat(c.yTrue), c.shape), tf.tensor(flat(c.yPred), c.shape));
      expect(loss.shape).toEqual(c.shape.slice(0, -1));
      return [loss];
    });
    expectAllClose(`${c.name}: per-sample loss`, perSample!, flat(c.perSample), RTOL);
    const mean = perSample!.reduce((a, b) => a + b, 0) / perSample!.length;
    expectAllClose(`${c.name}: mean loss`, [mean], [c.meanLoss], RTOL);
  });
});

describe('probability clip at the boundary p -> 1 (documented difference to Keras in float32)', () => {
  // Keras clips to [1e-7, 1 - 1e-7] in the tensor's dtype; for float32 the upper bound rounds to
  // 0.99999988. The library clips in double at 1 - 1e-7, i.e. it matches Keras' formula exactly
  // (Keras run in float64) and differs from a float32 Keras run only for p >= 0.99999988.
  test('binary: p = 1, y = 0 gives -log(1e-7) = 16.118, where float32 Keras gives -log(1.19e-7) = 15.942', () => {
    const c = binary.cases.find((k) => k.name === 'probs_at_boundaries')!;
    const [elementwise] = tidyRead(() => [sigmoidFocalLoss(tf.tensor(flat(c.yTrue), c.shape), tf.tensor(flat(c.yPred), c.shape),
      { gamma: 0, alpha: null, fromLogits: false, reduction: tf.Reduction.NONE })]);
    expectAllClose('p = 1, y = 0', [elementwise![0]], [-Math.log(1e-7)], RTOL);
    const float32Keras = flat(c.perSampleKerasFloat32);
    const float64Keras = flat(c.perSample);
    expect(Math.abs(float32Keras[0] - float64Keras[0]) / float64Keras[0]).toBeGreaterThan(1e-3);
  });
});

describe('sigmoidFocalLoss vs torchvision.ops.sigmoid_focal_loss', () => {
  test.each(torchvision.cases.map((c) => [c.name, c] as [string, TorchvisionCase]))('%s', (_name, c) => {
    const [elementwise, summed] = tidyRead(() => {
      const targets = tf.tensor(flat(c.targets), c.shape);
      const logits = tf.tensor(flat(c.logits), c.shape);
      return [
        sigmoidFocalLoss(targets, logits, { ...c.options, reduction: tf.Reduction.NONE }),
        sigmoidFocalLoss(targets, logits, { ...c.options, reduction: tf.Reduction.SUM }),
      ];
    });
    // lossExact: torchvision's formula in 60-digit arithmetic. torchvision's own float64 value
    // cancels in 1 - p_t and in log(1 + e^-|x|) for saturated logits (|x| >= 30 here), where it is
    // off by up to ~1e-2 relative; elsewhere it must agree with the library as well.
    const exact = flat(c.lossExact);
    const torch = flat(c.loss);
    expectAllClose(`${c.name}: elementwise vs torchvision formula (exact)`, elementwise!, exact, RTOL);
    const accurate = torch.map((t, i) => Math.abs(t - exact[i]) <= 1e-9 * Math.abs(exact[i]));
    expect(accurate.filter(Boolean).length).toBeGreaterThan(torch.length - 8);
    expectAllClose(`${c.name}: elementwise vs torchvision float64 (where it is accurate)`,
      Array.from(elementwise!).filter((_, i) => accurate[i]), torch.filter((_, i) => accurate[i]), RTOL);
    expectAllClose(`${c.name}: sum`, summed!, [c.sum], RTOL);
  });
});
