// The option schemas are the one declaration of every option: the README's tables, the defaults
// the functions use and the attributes that reach the kernels must all follow from them.
import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs-core';

import {asymmetricLoss, binaryFocalCrossentropy, categoricalFocalCrossentropy, ElementwiseLossKind, SoftmaxFocalLoss, focalLoss, SoftmaxFocalLossAttrs, qualityFocalLoss, SigmoidElementwiseLoss, sigmoidFocalLoss, SigmoidElementwiseLossAttrs, varifocalLoss} from '../lib';
import {BINARY_FOCAL_CROSSENTROPY_SCHEMA, SIGMOID_FOCAL_LOSS_SCHEMA} from '../lib/losses/sigmoid_focal_loss';
import {CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA, FOCAL_LOSS_SCHEMA} from '../lib/losses/focal_loss';
import {softmaxFocalLossOpAttrs, resolveSoftmaxFocalLossAttrs} from '../lib/kernels/SoftmaxFocalLoss';
import {resolveSigmoidElementwiseLossAttrs, sigmoidElementwiseLossOpAttrs} from '../lib/kernels/SigmoidElementwiseLoss';
import {ELEMENTWISE_LOSS_CODES, ELEMENTWISE_OPTION_DEFAULTS} from '../lib/kernel_contract';
import {addon, KernelOption} from '../lib/native';
import {AttrValue, forwardOpAttrs} from '../lib/paths/tensorflow_op';
import {optionsTable, Schema} from '../lib/validation/options';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const reference = require('../tools/options-reference.js') as {
  schemas(libRoot: string): Array<{title: string, name: string, schema: Schema}>,
  render(libRoot: string): string,
};
const LIB = path.join(__dirname, '..', 'lib');
/** The two main functions, whose tables the README shows (every other: docs/OPTIONS.md). */
const IN_README = ['FOCAL_LOSS_SCHEMA', 'SIGMOID_FOCAL_LOSS_SCHEMA'];
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

test('lib/losses/option_types.ts is the option interfaces rendered from every schema', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const types = require('../tools/option-types.js') as {NAMES: {[schema: string]: string[]}, render(libRoot: string): string};
  const current = fs.readFileSync(path.join(LIB, 'losses', 'option_types.ts'), 'utf8');
  // Regenerate: npx tsc -p tsconfig.json && node tools/option-types.js > lib/losses/option_types.ts
  expect(current).toBe(types.render(LIB));
  // Every schema has its interface, each option its TSDoc (meaning, valid values, default).
  expect(Object.keys(types.NAMES).sort()).toEqual(reference.schemas(LIB).map((e) => e.name).sort());
  for (const {schema} of reference.schemas(LIB)) {
    for (const key of Object.keys(schema)) {
      expect(current).toContain(`   * ${schema[key].doc}\n   *\n   * Valid: ${schema[key].expected}. Default: ${
          schema[key].defaultText}.\n   */\n  ${key}?: ${schema[key].inType};`);
    }
  }
});

describe('the README documents every option of the tfjs-style functions as its schema declares it', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  test.each(SCHEMAS)('%s', (name, schema) => {
    const table = optionsTable(schema);
    // The table to paste is in the failure message.
    expect({name, inReadme: readme.includes(table), table}).toEqual({name, inReadme: true, table});
  });
});

describe('the README states the defaults of the elementwise family as their schemas declare them', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const FAMILY = reference.schemas(LIB).filter((e) =>
    ['VARIFOCAL_LOSS_SCHEMA', 'QUALITY_FOCAL_LOSS_SCHEMA', 'ASYMMETRIC_LOSS_SCHEMA'].includes(e.name));
  test('three schemas found', () => expect(FAMILY).toHaveLength(3));
  test.each(FAMILY.map((e) => [e.name, e.schema] as [string, Schema]))('%s', (_name, schema) => {
    const defaults = Object.keys(schema).filter((key) => key !== 'weights' && key !== 'reduction')
        .map((key) => `${key}: ${JSON.stringify(schema[key].defaultValue)}`).join(', ');
    expect(readme).toContain(`, {${defaults}})`);
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
    ['SoftmaxFocalLoss', FOCAL_LOSS_SCHEMA, () => tf.tidy(() => focalLoss(
        tf.tensor1d([0, 1], 'int32'), tf.tensor2d([[1, 2], [3, 4]])))],
    ['SigmoidElementwiseLoss', SIGMOID_FOCAL_LOSS_SCHEMA, () => tf.tidy(() => sigmoidFocalLoss(
        tf.tensor1d([0, 1]), tf.tensor1d([1, 2])))],
  ] as Array<[string, Schema, () => tf.Tensor]>)('%s', (kernelName, schema, run) => {
    expect([SoftmaxFocalLoss, SigmoidElementwiseLoss]).toContain(kernelName);
    // logitAdjustment reaches the kernel as its per-class offsets τ log π.
    const expected = [...Object.keys(schema).filter((k) => !API_LEVEL.includes(k)), 'reduction']
        .map((k) => k === 'logitAdjustment' ? 'logitOffsets' : k);
    // The attrs are complete (lib/kernel_contract.ts): the elementwise kernel also gets the loss
    // kind and the other losses' options at their native defaults.
    const complete = kernelName === SigmoidElementwiseLoss ? ['loss', ...Object.keys(ELEMENTWISE_OPTION_DEFAULTS)] : [];
    expect(kernelAttrs(kernelName, run)).toEqual([...new Set([...expected, ...complete])].sort());
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
  const table = addon().kernelOptions();
  const call = {wantGrad: true, reduction: 'none' as const};
  const focalAttrs = {gamma: 2, alpha: [1, 2], labelSmoothing: 0, ignoreIndex: 3, fromLogits: true,
                      polyEpsilon: 0, logitOffsets: null};

  test('SoftmaxFocalLoss: the TensorFlow op attributes, sparse and dense labels', () => {
    for (const sparse of [true, false]) {
      for (const logitOffsets of [null, [-0.29, -1.39]]) {
        expect(attrsOf(forwardOpAttrs(softmaxFocalLossOpAttrs(resolveSoftmaxFocalLossAttrs({...focalAttrs, logitOffsets}), sparse), call))
                   .sort(byName))
            .toEqual([...specs.softmax!].sort(byName));
      }
    }
  });

  test('SigmoidElementwiseLoss: the TensorFlow op attributes, with and without class balancing, every loss', () => {
    for (const alpha of [0.25, -1]) {
      for (const loss of [undefined, ...Object.keys(ELEMENTWISE_LOSS_CODES)] as Array<ElementwiseLossKind | undefined>) {
        // The options left out (polyEpsilon, gammaNeg, clip, loss) take the kernel defaults.
        const attrs = {gamma: 2, alpha, labelSmoothing: 0, fromLogits: true, ...(loss ? {loss} : {})};
        expect(attrsOf(forwardOpAttrs(sigmoidElementwiseLossOpAttrs(resolveSigmoidElementwiseLossAttrs(attrs)), call)).sort(byName))
            .toEqual([...specs.sigmoid!].sort(byName));
      }
    }
  });

  // A value for each option of the table, none its default.
  const distinct = (options: KernelOption[]) => Object.fromEntries(options.map(
      (o, i) => [o.key, o.type === 'bool' ? !o.default : (o.default as number) + 0.125 * (i + 1)]));

  test('each option of the native table reaches the op as its attribute, with its value', () => {
    const softmax = distinct(table.softmaxFocalLoss);
    const sigmoid = distinct(table.sigmoidElementwiseLoss);
    const opSoftmax = softmaxFocalLossOpAttrs(resolveSoftmaxFocalLossAttrs({...focalAttrs, ...softmax} as SoftmaxFocalLossAttrs), true);
    const opSigmoid = sigmoidElementwiseLossOpAttrs(resolveSigmoidElementwiseLossAttrs({gamma: 2, alpha: 0.25, labelSmoothing: 0, fromLogits: true, ...sigmoid}));
    for (const [options, values, op] of [[table.softmaxFocalLoss, softmax, opSoftmax],
                                         [table.sigmoidElementwiseLoss, sigmoid, opSigmoid]] as const) {
      for (const o of options) {
        expect([o.key, op[o.attr]]).toEqual([o.key, {[o.type]: values[o.key]}]);
      }
    }
    // Optional options left out (or null) take the kernel's default; required ones stay left out.
    const partial = sigmoidElementwiseLossOpAttrs(resolveSigmoidElementwiseLossAttrs({alpha: 0.25, polyEpsilon: null} as unknown as SigmoidElementwiseLossAttrs));
    for (const o of table.sigmoidElementwiseLoss) {
      expect([o.key, partial[o.attr]]).toEqual([o.key, {[o.type]: o.required ? undefined : o.default}]);
    }
  });

  test('an option the functions leave to the kernel means what the function\'s default means', () => {
    // The kernel attrs of each function called with its defaults: every optional option of the
    // native table they carry has the table's default (a direct runKernel call that leaves it out
    // computes what the function computes).
    const labels = tf.tensor2d([[1, 0], [0, 1]]);
    const logits = tf.tensor2d([[1, 2], [3, -4]]);
    const runs: Array<[string, KernelOption[], () => tf.Tensor]> = [
      ['SoftmaxFocalLoss', table.softmaxFocalLoss, () => focalLoss(tf.tensor1d([0, 1], 'int32'), logits)],
      ['SigmoidElementwiseLoss', table.sigmoidElementwiseLoss, () => sigmoidFocalLoss(labels, logits)],
      ['SigmoidElementwiseLoss', table.sigmoidElementwiseLoss, () => varifocalLoss(labels, logits)],
      ['SigmoidElementwiseLoss', table.sigmoidElementwiseLoss, () => qualityFocalLoss(labels, logits)],
      ['SigmoidElementwiseLoss', table.sigmoidElementwiseLoss, () => asymmetricLoss(labels, logits)],
    ];
    const checked = new Set<string>();
    for (const [kernelName, options, run] of runs) {
      const spy = jest.spyOn(tf.engine(), 'runKernel');
      try {
        tf.dispose(run());
        const attrs = spy.mock.calls.find((c) => c[0] === kernelName)![2] as Record<string, unknown>;
        for (const o of options.filter((opt) => !opt.required && opt.key in attrs)) {
          expect([kernelName, o.key, attrs[o.key]]).toEqual([kernelName, o.key, o.default]);
          checked.add(o.key);
        }
      } finally {
        spy.mockRestore();
      }
    }
    // Every optional option of the tables is one of them.
    const optional = [...table.softmaxFocalLoss, ...table.sigmoidElementwiseLoss].filter((o) => !o.required);
    expect([...checked].sort()).toEqual([...new Set(optional.map((o) => o.key))].sort());
    tf.dispose([labels, logits]);
  });
  test('the N-API entry points receive exactly the keys they read', async () => {
    const previous = tf.getBackend();
    await tf.setBackend('cpu');  // the JS-array path calls the entry points
    const softmax = jest.spyOn(addon(), 'softmaxFocalLoss');
    const sigmoid = jest.spyOn(addon(), 'sigmoidElementwiseLoss');
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
      expect(Object.keys(sigmoid.mock.calls[0][0]).sort()).toEqual([...keys.sigmoidElementwiseLoss].sort());
    } finally {
      softmax.mockRestore();
      sigmoid.mockRestore();
      await tf.setBackend(previous);
    }
  });
});

describe('a direct runKernel call with attrs of the wrong type or left out', () => {
  const logits = tf.tensor2d([[1.5, -0.5, 0.25], [0, 2, -1]]);
  const sparse = tf.tensor1d([0, 2], 'int32');
  const targets = tf.tensor2d([[1, 0, 0.5], [0, 0.3, 1]]);
  afterAll(() => tf.dispose([logits, sparse, targets]));
  const softmax = {gamma: 2, alpha: 0.25, labelSmoothing: 0, ignoreIndex: null, fromLogits: true};
  const sigmoid = {gamma: 2, alpha: 0.25, labelSmoothing: 0, fromLogits: true};
  test.each([
    ['SoftmaxFocalLoss', {...softmax, gamma: '2'}, /^SoftmaxFocalLoss: attrs\.gamma must be a number; received the string '2'$/],
    ['SoftmaxFocalLoss', {...softmax, fromLogits: 1}, /^SoftmaxFocalLoss: attrs\.fromLogits must be a boolean; received number 1$/],
    ['SoftmaxFocalLoss', {...softmax, polyEpsilon: 'x'}, /^SoftmaxFocalLoss: attrs\.polyEpsilon must be a number \(or left out: 0\); received the string 'x'$/],
    ['SoftmaxFocalLoss', {...softmax, alpha: null}, /^SoftmaxFocalLoss: attrs\.alpha must be a number or an array of numbers \(one per class\); received null$/],
    ['SigmoidElementwiseLoss', {...sigmoid, alpha: 'a'}, /^SigmoidElementwiseLoss: attrs\.alpha must be a number \(negative: no class balancing\) or null; received the string 'a'$/],
    ['SigmoidElementwiseLoss', {...sigmoid, alpha: -1, loss: 'varifocal'}, /^SigmoidElementwiseLoss: attrs\.alpha must be a number >= 0 \(the weight of the negatives\) for loss 'varifocal'; received number -1$/],
    ['SigmoidElementwiseLoss', {...sigmoid, loss: 'vari'}, /^SigmoidElementwiseLoss: attrs\.loss must be one of 'focal', 'varifocal', 'qualityFocal', 'asymmetric' \(or left out: 'focal'\); received the string 'vari'$/],
    ['SigmoidElementwiseLoss', {...sigmoid, iouWeighted: 1}, /^SigmoidElementwiseLoss: attrs\.iouWeighted must be a boolean \(or left out: true\); received number 1$/],
  ] as Array<[string, Record<string, unknown>, RegExp]>)('%s %j', (kernel, attrs, message) => {
    const inputs = {labels: kernel === 'SoftmaxFocalLoss' ? sparse : targets, logits};
    expect(() => tf.tidy(() => tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap))).toThrow(message);
  });
  test('alpha null and negative mean the same (no class balancing) on every path', () => {
    const run = (alpha: number | null) => tf.tidy(() => Array.from((tf.engine().runKernel(
        'SigmoidElementwiseLoss', {labels: targets, logits}, {...sigmoid, alpha} as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync()));
    expect(run(null)).toEqual(run(-1));
    expect(run(null)).not.toEqual(run(0.25));
  });
});

describe('a direct runKernel call with attrs left out', () => {
  const table = addon().kernelOptions();
  const logits = tf.tensor2d([[1.5, -0.5, 0.25], [0, 2, -1]]);
  const kernels: Array<[string, KernelOption[], tf.NamedTensorMap, Record<string, unknown>]> = [
    ['SoftmaxFocalLoss', table.softmaxFocalLoss, {labels: tf.tensor1d([0, 2], 'int32'), logits},
     {gamma: 2, alpha: 0.25, labelSmoothing: 0, ignoreIndex: null, fromLogits: true, polyEpsilon: 0.5}],
    ...['focal', 'asymmetric'].map((loss) => ['SigmoidElementwiseLoss', table.sigmoidElementwiseLoss,
      {labels: tf.tensor2d([[1, 0, 0.5], [0, 0.3, 1]]), logits},
      {gamma: 2, alpha: 0.25, labelSmoothing: 0, fromLogits: true, loss, polyEpsilon: 0.5,
       gammaNeg: 3, clip: 0.1}] as [string, KernelOption[], tf.NamedTensorMap, Record<string, unknown>]),
  ];
  afterAll(() => tf.dispose([logits, ...kernels.map((k) => k[2].labels)]));
  const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) => tf.tidy(() => {
    const f = (x: tf.Tensor) => tf.sum(tf.engine().runKernel(name, {...inputs, logits: x}, attrs as tf.NamedAttrMap) as tf.Tensor);
    const {value, grad} = tf.valueAndGrad(f)(inputs.logits);
    return [...value.dataSync(), ...grad.dataSync()];
  });

  test.each(kernels.map((k) => [`${k[0]} ${k[3].loss ?? ''}`, ...k] as const))(
      '%s: an optional option takes the kernel default, a required one is refused', (_name, kernel, options, inputs, attrs) => {
        for (const o of options) {
          const without = {...attrs};
          delete without[o.key];
          if (o.required) {
            expect(() => run(kernel, inputs, without)).toThrow(
                new RegExp(`^${kernel}: attrs\\.${o.key} must be a (number|boolean); received undefined$`));
          } else {
            expect([o.key, run(kernel, inputs, without)]).toEqual([o.key, run(kernel, inputs, {...attrs, [o.key]: o.default})]);
          }
        }
      });
});
