// lib/errors.ts: one decoder for both forms of a native error (the addon's Error with fields as
// properties, a TensorFlow op's status message in the machine format), and the user's messages
// made from them. The end-to-end messages (through focalLoss / sigmoidFocalLoss on every backend
// path) are in api_errors.test.ts; here each code and each form is checked directly.
import * as path from 'path';

import {decodeNativeError, formatIndex, NATIVE_ERROR_MARKER, rethrowNative} from '../lib/errors';
import {NATIVE_ERROR_CODES} from '../lib/native_tables';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const addon = require(path.resolve(__dirname, '..', 'build', 'Release', 'focal_loss.node'));

/** The error tfjs-node throws for a failed op whose status message is `status`. */
function tensorflowError(fields: Record<string, unknown>): Error {
  return new Error(`Invalid TF_Status: 3\nMessage: ${NATIVE_ERROR_MARKER} ${JSON.stringify(fields)}`);
}

function thrownBy(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('nothing thrown');
}

function addonError(args: Record<string, unknown>): Error {
  return thrownBy(() => addon.softmaxFocalLoss({
    logits: new Float32Array(12), labels: Int32Array.of(0, 1, 2), rows: 3, classes: 4, gamma: 2,
    alpha: 0.25, labelSmoothing: 0, ignoreIndex: null, fromLogits: true,
    lossOut: new Float32Array(3), gradOut: null, ...args,
  }));
}

describe('decodeNativeError', () => {
  test('the addon\'s form and the TensorFlow form decode to the same fields', () => {
    const fromAddon = decodeNativeError(addonError({labels: Int32Array.of(0, 9, -100), ignoreIndex: -100}));
    const fromTensorflow = decodeNativeError(tensorflowError({
      code: 'FOCAL_LABEL_OUT_OF_RANGE', argument: 'labels', index: 1, value: 9, classes: 4,
      ignoreIndex: -100, detail: '',
    }));
    expect(fromAddon).toEqual({code: 'FOCAL_LABEL_OUT_OF_RANGE', argument: 'labels', index: 1,
                               value: 9, classes: 4, ignoreIndex: -100, detail: ''});
    expect(fromTensorflow).toEqual(fromAddon);
  });

  test('values JSON cannot hold travel as strings', () => {
    for (const [text, value] of [['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
      expect(decodeNativeError(tensorflowError({code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', argument: 'labels',
                                                index: 3, value: text, classes: 2}))!.value)
          .toBe(value);
    }
  });

  test('errors that are not ours decode to null', () => {
    expect(decodeNativeError(new Error('Invalid TF_Status: 3\nMessage: something else'))).toBeNull();
    expect(decodeNativeError(Object.assign(new Error('x'), {code: 'ENOENT'}))).toBeNull();
    expect(decodeNativeError('a string')).toBeNull();
    expect(decodeNativeError(new Error(`${NATIVE_ERROR_MARKER} {not json`))).toBeNull();
    // A code no kernel raises any more (dense labels are now checked in [0, 1], NaN included).
    expect(decodeNativeError(tensorflowError({code: 'FOCAL_LABEL_NOT_FINITE', argument: 'labels', index: 0, value: 'NaN'}))).toBeNull();
  });
});

describe('rethrowNative: the user\'s message for every code, from either form', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, number[]>, string]> = [
    ['sparse label', {code: 'FOCAL_LABEL_OUT_OF_RANGE', argument: 'labels', index: 5, value: 9, classes: 4, ignoreIndex: null},
     {labels: [2, 3]}, 'focalLoss: labels[1, 2] = 9 is out of range [0, 4)'],
    ['sparse label with ignoreIndex', {code: 'FOCAL_LABEL_OUT_OF_RANGE', argument: 'labels', index: 1, value: -1, classes: 5, ignoreIndex: -100},
     {labels: [4]}, 'focalLoss: labels[1] = -1 is out of range [0, 5) and is not ignoreIndex (-100)'],
    ['dense label', {code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', argument: 'labels', index: 7, value: 'NaN', classes: 5},
     {labels: [4, 5]}, 'focalLoss: labels[1, 2] = NaN: labels must be in [0, 1]'],
    ['sigmoid label', {code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', argument: 'labels', index: 5, value: 1.5, classes: 1},
     {labels: [2, 3]}, 'focalLoss: labels[1, 2] = 1.5: labels must be in [0, 1]'],
    ['probability', {code: 'FOCAL_PROBABILITY_INVALID', argument: 'logits', index: 44, value: -0.5, classes: 10},
     {logits: [5, 10]}, 'focalLoss: logits[4, 4] (row 4, class 4) = -0.5: with fromLogits=false the inputs are probabilities and must be finite and >= 0'],
    ['sigmoid probability', {code: 'FOCAL_PROBABILITY_OUTSIDE_UNIT_INTERVAL', argument: 'logits', index: 1, value: 1.5, classes: 1},
     {}, 'focalLoss: logits[1] = 1.5: with fromLogits=false the inputs are probabilities and must be in [0, 1]'],
    ['row sum', {code: 'FOCAL_PROBABILITY_ROW_SUM', argument: 'logits', index: 40, value: 0, classes: 10},
     {logits: [5, 10]}, 'focalLoss: logits row 4 sums to 0: with fromLogits=false each row of probabilities must have a positive, finite sum'],
    ['a float32 value', {code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', argument: 'labels', index: 0, value: Math.fround(1.1), classes: 1},
     {}, 'focalLoss: labels[0] = 1.10000002: labels must be in [0, 1]'],
    ['a shape check of an op', {code: 'FOCAL_INVALID_ARGUMENT', argument: '', index: -1, value: 0, classes: 0, detail: 'labels of shape [3] do not match logits of shape [4,5]'},
     {}, 'focalLoss: labels of shape [3] do not match logits of shape [4,5]'],
    ['out of memory', {code: 'FOCAL_OUT_OF_MEMORY', argument: '', index: -1, value: 0, classes: 0, detail: 'out of memory allocating kernel scratch space'},
     {}, 'focalLoss: out of memory allocating kernel scratch space'],
  ];
  test('the cases cover every native code', () => {
    expect(new Set(cases.map(([, fields]) => fields.code))).toEqual(new Set(NATIVE_ERROR_CODES));
  });

  test.each(cases)('%s', (_name, fields, shapes, message) => {
    for (const error of [tensorflowError(fields), Object.assign(new RangeError('softmaxFocalLoss: x'), fields)]) {
      const thrown = thrownBy(() => rethrowNative('focalLoss', error, shapes));
      expect(thrown).toBeInstanceOf(RangeError);
      expect(thrown.message).toBe(message);
    }
  });

  test('the addon\'s memory-safety errors keep their message and type, the op name in front', () => {
    const typeError = addonError({logits: new Float64Array(12)});
    const thrown = thrownBy(() => rethrowNative('focalLoss', typeError));
    expect(thrown.constructor).toBe(TypeError);
    expect(thrown.message).toBe('focalLoss: args.logits must be a Float32Array, got a Float64Array of length 12');
    const rangeError = thrownBy(() => rethrowNative('focalLoss', addonError({lossOut: new Float32Array(2)})));
    expect(rangeError.constructor).toBe(RangeError);
    expect(rangeError.message).toMatch(/^focalLoss: args.lossOut must be of length rows = 3, got length 2$/);
  });

  test('any other error keeps its message and type', () => {
    const thrown = thrownBy(() => rethrowNative('sigmoidFocalLoss gradient', new Error('boom')));
    expect(thrown.constructor).toBe(Error);
    expect(thrown.message).toBe('sigmoidFocalLoss gradient: boom');
  });

  test('formatIndex', () => {
    expect(formatIndex(0, [2, 3])).toBe('[0, 0]');
    expect(formatIndex(5, [2, 3])).toBe('[1, 2]');
    expect(formatIndex(23, [2, 3, 4])).toBe('[1, 2, 3]');
  });
});
