// The option schemas are the one declaration of every option: the README's tables, the defaults
// the functions use and the attributes that reach the kernels must all follow from them.
import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs-core';

import {binaryFocalCrossentropy, categoricalFocalCrossentropy, FocalLoss, focalLoss, SigmoidFocalLoss, sigmoidFocalLoss} from '../lib';
import {BINARY_FOCAL_CROSSENTROPY_SCHEMA, SIGMOID_FOCAL_LOSS_SCHEMA} from '../lib/losses/sigmoid_focal_loss';
import {CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA, FOCAL_LOSS_SCHEMA} from '../lib/losses/focal_loss';
import {focalLossOpAttrs} from '../lib/kernels/FocalLoss';
import {sigmoidFocalLossOpAttrs} from '../lib/kernels/SigmoidFocalLoss';
import {addon} from '../lib/native';
import {AttrValue, forwardOpAttrs} from '../lib/paths/tensorflow_op';
import {optionsTable, Schema} from '../lib/validation/options';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const reference = require('../tools/options-reference.js') as {
  schemas(libRoot: string): Array<{title: string, name: string, schema: Schema}>,
  render(libRoot: string): string,
};
const LIB = path.join(__dirname, '..', 'lib');
/** The tfjs-style functions, whose tables the README shows (the Keras objects: docs/OPTIONS.md). */
const IN_README = ['FOCAL_LOSS_SCHEMA', 'SIGMOID_FOCAL_LOSS_SCHEMA', 'VARIFOCAL_LOSS_SCHEMA',
  'QUALITY_FOCAL_LOSS_SCHEMA', 'ASYMMETRIC_LOSS_SCHEMA'];
const SCHEMAS: Array<[string, Schema]> =
    reference.schemas(LIB).filter((e) => IN_README.includes(e.name)).map((e) => [e.name, e.schema]);

function defaultsOf(schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema)) {
    out[key] = schema[key].defaultValue;
  }
  return out;
}

test('docs/OPTIONS.md is the options reference rendered from every schema', () => {
  const current = fs.readFileSync(path.join(__dirname, '..', 'docs', 'OPTIONS.md'), 'utf8');
  // Regenerate: npx tsc -p tsconfig.json && node tools/options-reference.js > docs/OPTIONS.md
  expect(current).toBe(reference.render(LIB));
  expect(reference.schemas(LIB).every((e) => e.schema !== undefined)).toBe(true);
});

describe('the README documents every option of the tfjs-style functions as its schema declares it', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  test.each(SCHEMAS)('%s', (name, schema) => {
    const table = optionsTable(schema);
    // The table to paste is in the failure message.
    expect({name, inReadme: readme.includes(table), table}).toEqual({name, inReadme: true, table});
  });
});

describe('the functions use the schema defaults', () => {
  const logits = tf.tensor2d([[1.5, -0.5, 0.25], [0, 2, -1], [3, 0.5, 0.5]]);
  const sparse = tf.tensor1d([0, 1, 2], 'int32');
  const targets = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0.5, 1]]);
  const probs = tf.softmax(logits);
  afterAll(() => tf.dispose([logits, sparse, targets, probs]));

  test('focalLoss without options equals focalLoss with the schema defaults', () => {
    const implicit = focalLoss(sparse, logits, {reduction: tf.Reduction.NONE});
    const {weights: _w, ...defaults} = defaultsOf(FOCAL_LOSS_SCHEMA);
    const explicit = focalLoss(sparse, logits, {...defaults, reduction: tf.Reduction.NONE});
    expect(Array.from(implicit.dataSync())).toEqual(Array.from(explicit.dataSync()));
    // and a default that differs changes the result (the comparison can fail)
    const other = focalLoss(sparse, logits, {gamma: 1, reduction: tf.Reduction.NONE});
    expect(Array.from(other.dataSync())).not.toEqual(Array.from(implicit.dataSync()));
    tf.dispose([implicit, explicit, other]);
  });

  test('sigmoidFocalLoss without options equals sigmoidFocalLoss with the schema defaults', () => {
    const implicit = sigmoidFocalLoss(targets, logits);
    const {weights: _w, reduction: _r, ...defaults} = defaultsOf(SIGMOID_FOCAL_LOSS_SCHEMA);
    const explicit = sigmoidFocalLoss(targets, logits,
                                      {...defaults, normalizeByPositives: false} as object);
    expect(implicit.dataSync()[0]).toBe(explicit.dataSync()[0]);
    tf.dispose([implicit, explicit]);
  });

  test('the Keras objects resolve their configs to the schema defaults', () => {
    expect(categoricalFocalCrossentropy().config)
        .toEqual(defaultsOf(CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA));
    expect(binaryFocalCrossentropy().config).toEqual(defaultsOf(BINARY_FOCAL_CROSSENTROPY_SCHEMA));
    expect(categoricalFocalCrossentropy().config.fromLogits).toBe(false);  // Keras, unlike focalLoss
    expect(FOCAL_LOSS_SCHEMA.fromLogits.defaultValue).toBe(true);
  });
});

describe('every option that is not about the reduction reaches the kernel as an attr', () => {
  const API_LEVEL = ['weights', 'reduction', 'normalizeByPositives'];

  function kernelAttrs(kernelName: string, run: () => tf.Tensor): string[] {
    const spy = jest.spyOn(tf.engine(), 'runKernel');
    try {
      tf.dispose(run());
      const call = spy.mock.calls.find((c) => c[0] === kernelName);
      expect(call).toBeDefined();
      return Object.keys(call![2] as object).sort();
    } finally {
      spy.mockRestore();
    }
  }

  test.each([
    ['FocalLoss', FOCAL_LOSS_SCHEMA, () => tf.tidy(() => focalLoss(
        tf.tensor1d([0, 1], 'int32'), tf.tensor2d([[1, 2], [3, 4]])))],
    ['SigmoidFocalLoss', SIGMOID_FOCAL_LOSS_SCHEMA, () => tf.tidy(() => sigmoidFocalLoss(
        tf.tensor1d([0, 1]), tf.tensor1d([1, 2])))],
  ] as Array<[string, Schema, () => tf.Tensor]>)('%s', (kernelName, schema, run) => {
    expect([FocalLoss, SigmoidFocalLoss]).toContain(kernelName);
    // logitAdjustment reaches the kernel as its per-class offsets τ log π.
    const expected = [...Object.keys(schema).filter((k) => !API_LEVEL.includes(k)), 'reduction']
        .map((k) => k === 'logitAdjustment' ? 'logitOffsets' : k);
    expect(kernelAttrs(kernelName, run)).toEqual(expected.sort());
  });
});

describe('what the kernels pass to native code is what native code declares it reads', () => {
  // The TensorFlow op attribute types as the addon registers them, per kind of AttrValue.
  const TF_TYPE: {[kind: string]: string} = {
    float: 'float', floats: 'list(float) >= 1', int: 'int', bool: 'bool', dtype: '{int32, float}',
  };
  const attrsOf = (values: {[name: string]: AttrValue}) => Object.keys(values).map(
      (name) => ({name, type: TF_TYPE[Object.keys(values[name])[0]]}));
  const byName = (a: {name: string}, b: {name: string}) => a.name.localeCompare(b.name);
  const specs = addon().tensorflowOpSpecs();
  const call = {wantGrad: true, reduction: 'none' as const};

  test('FocalLoss: the TensorFlow op attributes, sparse and dense labels', () => {
    const attrs = {gamma: 2, alpha: [1, 2], labelSmoothing: 0, ignoreIndex: 3, fromLogits: true,
                   polyEpsilon: 0, logitOffsets: null};
    for (const sparse of [true, false]) {
      for (const logitOffsets of [null, [-0.29, -1.39]]) {
        expect(attrsOf(forwardOpAttrs(focalLossOpAttrs({...attrs, logitOffsets}, sparse), call))
                   .sort(byName))
            .toEqual([...specs.softmax!].sort(byName));
      }
    }
  });

  test('SigmoidFocalLoss: the TensorFlow op attributes, with and without class balancing', () => {
    for (const alpha of [0.25, -1]) {
      const attrs = {gamma: 2, alpha, labelSmoothing: 0, fromLogits: true};
      expect(attrsOf(forwardOpAttrs(sigmoidFocalLossOpAttrs(attrs), call)).sort(byName))
          .toEqual([...specs.sigmoid!].sort(byName));
    }
  });

  test('the N-API entry points receive exactly the keys they read', async () => {
    const previous = tf.getBackend();
    await tf.setBackend('cpu');  // the JS-array path calls the entry points
    const softmax = jest.spyOn(addon(), 'softmaxFocalLoss');
    const sigmoid = jest.spyOn(addon(), 'sigmoidFocalLoss');
    try {
      tf.tidy(() => {
        const logits = tf.tensor2d([[1, 2], [3, 4]]);
        focalLoss(tf.tensor1d([0, 1], 'int32'), logits);
        focalLoss(tf.tensor2d([[0, 1], [1, 0]]), logits, {fromLogits: true});
        sigmoidFocalLoss(tf.tensor2d([[0, 1], [1, 0]]), logits);
      });
      const keys = addon().argumentKeys();
      expect(softmax.mock.calls.length).toBe(2);
      for (const [args] of softmax.mock.calls) {
        expect(Object.keys(args).sort()).toEqual([...keys.softmaxFocalLoss].sort());
      }
      expect(sigmoid.mock.calls.length).toBe(1);
      expect(Object.keys(sigmoid.mock.calls[0][0]).sort()).toEqual([...keys.sigmoidFocalLoss].sort());
    } finally {
      softmax.mockRestore();
      sigmoid.mockRestore();
      await tf.setBackend(previous);
    }
  });
});
