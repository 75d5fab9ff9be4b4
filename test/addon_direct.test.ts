// The N-API layer checks what memory safety needs (types, typed-array types and lengths, sizes that
// could overflow): calling the raw addon with wrong arguments throws a JS TypeError / RangeError
// naming the argument (code FOCAL_INVALID_ARGUMENT) — it never reaches C++ with a bad buffer, never
// crashes the process. Option values (gamma, alpha, labelSmoothing ranges, unknown keys) are the TS
// layer's to validate, not the addon's. What only the kernel pass can see (labels out of range,
// invalid probabilities) comes back as a RangeError whose properties carry a code and its fields.
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const addon = require(path.resolve(__dirname, '..', 'build', 'Release', 'focal_loss.node'));

const rows = 3;
const classes = 4;
function validSoftmaxArgs(): Record<string, unknown> {
  return {
    logits: new Float32Array(rows * classes), labels: new Int32Array([0, 1, 3]), rows, classes,
    gamma: 2, alpha: 0.25, labelSmoothing: 0, ignoreIndex: null, fromLogits: true,
    lossOut: new Float32Array(rows), gradOut: new Float32Array(rows * classes),
  };
}
function validSigmoidArgs(): Record<string, unknown> {
  return {
    logits: new Float32Array(6), labels: new Float32Array(6), gamma: 2, alpha: 0.25,
    labelSmoothing: 0, fromLogits: true, lossOut: new Float32Array(6), gradOut: new Float32Array(6),
  };
}

describe('raw addon: wrong arguments throw, never crash', () => {
  test('valid calls work (the baseline of the cases below)', () => {
    const a = validSoftmaxArgs();
    addon.softmaxFocalLoss(a);
    expect(Array.from(a.lossOut as Float32Array).every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    const s = validSigmoidArgs();
    addon.sigmoidElementwiseLoss(s);
    expect(Array.from(s.lossOut as Float32Array).every(Number.isFinite)).toBe(true);
  });

  const softmaxCases: Array<[string, (a: Record<string, unknown>) => void, RegExp]> = [
    ['no argument object', () => undefined, /object|argument/i],
    ['logits not a Float32Array', (a) => { a.logits = Array.from({ length: rows * classes }, () => 0); }, /logits/],
    ['logits a Float64Array', (a) => { a.logits = new Float64Array(rows * classes); }, /logits/],
    ['logits too short for rows*classes', (a) => { a.logits = new Float32Array(rows * classes - 1); }, /logits/],
    ['lossOut too short', (a) => { a.lossOut = new Float32Array(rows - 1); }, /lossOut/],
    ['gradOut too short', (a) => { a.gradOut = new Float32Array(5); }, /gradOut/],
    ['labels Int32Array too short', (a) => { a.labels = new Int32Array(2); }, /labels/],
    ['labels of another type', (a) => { a.labels = new Uint8Array(3); }, /labels/],
    ['rows negative', (a) => { a.rows = -3; }, /rows/],
    ['rows not an integer', (a) => { a.rows = 1.5; }, /rows/],
    ['rows * classes beyond the buffers', (a) => { a.rows = 2 ** 40; }, /rows|logits/],
    ['classes a string', (a) => { a.classes = '4'; }, /classes/],
    ['classes 0', (a) => { a.classes = 0; a.logits = new Float32Array(0); a.gradOut = null; }, /classes/],
    ['gamma a string', (a) => { a.gamma = '2'; }, /gamma/],
    ['alpha a Float64Array', (a) => { a.alpha = new Float64Array(classes); }, /alpha/],
    ['ignoreIndex not an int32', (a) => { a.ignoreIndex = 2 ** 40; }, /ignoreIndex/],
    ['lossOut sharing memory with logits', (a) => { a.lossOut = (a.logits as Float32Array).subarray(0, rows); }, /lossOut/],
    ['alpha of the wrong length', (a) => { a.alpha = new Float32Array(classes + 1); }, /alpha/],
    ['fromLogits not boolean', (a) => { a.fromLogits = 'yes'; }, /fromLogits/],
    ['denseLabels not boolean', (a) => { a.denseLabels = 1; }, /denseLabels/],
    ['denseLabels with an Int32Array of rows labels', (a) => { a.denseLabels = true; }, /labels.*rows \* classes/],
    ['denseLabels with labels of another type', (a) => { a.denseLabels = true; a.labels = new Uint8Array(rows * classes); }, /labels/],
  ];
  test.each(softmaxCases)('softmaxFocalLoss: %s', (_name, mutate, message) => {
    const args = validSoftmaxArgs();
    mutate(args);
    const call = _name === 'no argument object' ? () => addon.softmaxFocalLoss() : () => addon.softmaxFocalLoss(args);
    let thrown: unknown;
    try { call(); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toMatch(/^(TypeError|RangeError)$/);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as {code?: string}).code).toBe('FOCAL_INVALID_ARGUMENT');
  });

  const sigmoidCases: Array<[string, (a: Record<string, unknown>) => void, RegExp]> = [
    ['labels length differs from logits', (a) => { a.labels = new Float32Array(5); }, /labels/],
    ['gradOut too short', (a) => { a.gradOut = new Float32Array(2); }, /gradOut/],
    ['logits an Int32Array', (a) => { a.logits = new Int32Array(6); }, /logits/],
    ['Int32Array labels too short', (a) => { a.labels = new Int32Array(5); }, /labels/],
    ['labels a Float64Array', (a) => { a.labels = new Float64Array(6); }, /labels/],
    ['alpha a string', (a) => { a.alpha = '0.25'; }, /alpha/],
  ];
  test.each(sigmoidCases)('sigmoidElementwiseLoss: %s', (_name, mutate, message) => {
    const args = validSigmoidArgs();
    mutate(args);
    let thrown: unknown;
    try { addon.sigmoidElementwiseLoss(args); } catch (e) { thrown = e; }
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).name).toMatch(/^(TypeError|RangeError)$/);
    expect((thrown as {code?: string}).code).toBe('FOCAL_INVALID_ARGUMENT');
  });

  test('dense labels given as an Int32Array (denseLabels: true) give what the same Float32Array gives', () => {
    const ints = Int32Array.of(0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0);
    const logits = Float32Array.from({ length: rows * classes }, (_, i) => Math.sin(i) * 3);
    const run = (labels: Int32Array | Float32Array, denseLabels: boolean) => {
      const a: Record<string, unknown> = { ...validSoftmaxArgs(), logits, labels, denseLabels, labelSmoothing: 0.1 };
      addon.softmaxFocalLoss(a);
      return [a.lossOut, a.gradOut];
    };
    const want = run(Float32Array.from(ints), true);
    expect(Array.from(want[0] as Float32Array).every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    expect(run(ints, true)).toEqual(want);
    const s: Record<string, unknown> = { ...validSigmoidArgs(), logits: logits.slice(0, 6), labels: Int32Array.of(0, 1, 1, 0, 0, 1) };
    addon.sigmoidElementwiseLoss(s);
    const f: Record<string, unknown> = { ...validSigmoidArgs(), logits: logits.slice(0, 6), labels: Float32Array.of(0, 1, 1, 0, 0, 1) };
    addon.sigmoidElementwiseLoss(f);
    expect([s.lossOut, s.gradOut]).toEqual([f.lossOut, f.gradOut]);
  });

  test('scaleRows / scaleElements check their buffers', () => {
    const g = new Float32Array(12);
    expect(() => addon.scaleRows(g, new Float32Array(3), 3, 4, new Float32Array(11))).toThrow(/out/);
    expect(() => addon.scaleRows(g, new Float32Array(2), 3, 4, new Float32Array(12))).toThrow(/dy/);
    expect(() => addon.scaleRows(g, new Float32Array(3), 4, 4, new Float32Array(16))).toThrow(/grad/);
    expect(() => addon.scaleElements(g, new Float32Array(11), new Float32Array(12))).toThrow(/dy/);
    expect(() => addon.scaleElements(g, new Float32Array(12), [1, 2])).toThrow(/out/);
    expect(() => addon.setNumThreads(0)).toThrow();
    expect(() => addon.setNumThreads('2')).toThrow();
  });
});

/** Runs `call`, expects a RangeError whose properties are `fields` (and no others of note). */
function expectCode(call: () => void, fields: Record<string, unknown>): void {
  let thrown: unknown;
  try { call(); } catch (e) { thrown = e; }
  expect(thrown).toBeInstanceOf(RangeError);
  const got = thrown as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    expect([key, got[key]]).toEqual([key, value]);
  }
}

describe('raw addon: data-dependent errors carry a code and its fields', () => {
  test('sparse labels outside [0, classes) that are not ignoreIndex', () => {
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), labels: Int32Array.of(0, 4, 1) }),
               { code: 'FOCAL_LABEL_OUT_OF_RANGE', argument: 'labels', index: 1, value: 4, classes, ignoreIndex: null });
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), labels: Int32Array.of(0, 1, -1) }),
               { code: 'FOCAL_LABEL_OUT_OF_RANGE', index: 2, value: -1, classes });
    // -7 is ignored, -100 is not.
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), labels: Int32Array.of(-7, -100, 1), ignoreIndex: -7 }),
               { code: 'FOCAL_LABEL_OUT_OF_RANGE', index: 1, value: -100, ignoreIndex: -7 });
    // The first bad label by index, whatever the thread split.
    const big = 4096;
    const labels = new Int32Array(big).fill(1);
    labels[3001] = 9;
    labels[3999] = -5;
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), rows: big, labels,
      logits: new Float32Array(big * classes), lossOut: new Float32Array(big), gradOut: null }),
    { code: 'FOCAL_LABEL_OUT_OF_RANGE', index: 3001, value: 9 });
  });

  test('dense labels outside [0, 1]: NaN, infinite, negative, above 1 (the sigmoid rule)', () => {
    const dense = new Float32Array(rows * classes);
    dense[6] = NaN;
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), labels: dense }),
               { code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', argument: 'labels', index: 6, value: NaN });
    dense[6] = 0;
    dense[11] = -Infinity;
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), labels: dense }),
               { code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', index: 11, value: -Infinity });
    dense[11] = -2;
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), labels: dense, fromLogits: false,
                                             logits: new Float32Array(rows * classes).fill(0.25) }),
               { code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', index: 11, value: -2 });
    dense[11] = 1;
    dense[2] = 1.5;
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), labels: dense }),
               { code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', index: 2, value: 1.5 });
  });

  test('probabilities (fromLogits false): invalid values and rows that do not sum to > 0', () => {
    const p = new Float32Array(rows * classes).fill(0.25);
    p[9] = -0.5;
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), logits: p, fromLogits: false }),
               { code: 'FOCAL_PROBABILITY_INVALID', argument: 'logits', index: 9, value: -0.5, classes });
    p[9] = 0.25;
    p.fill(0, 4, 8);
    expectCode(() => addon.softmaxFocalLoss({ ...validSoftmaxArgs(), logits: p, fromLogits: false }),
               { code: 'FOCAL_PROBABILITY_ROW_SUM', argument: 'logits', index: 4, value: 0, classes });
    expectCode(() => addon.sigmoidElementwiseLoss({ ...validSigmoidArgs(), logits: Float32Array.of(0.5, 0.5, 1.5, 0, 1, 0), fromLogits: false }),
               { code: 'FOCAL_PROBABILITY_OUTSIDE_UNIT_INTERVAL', argument: 'logits', index: 2, value: 1.5 });
  });

  test('sigmoid labels outside [0, 1], as floats or integers', () => {
    expectCode(() => addon.sigmoidElementwiseLoss({ ...validSigmoidArgs(), labels: Float32Array.of(0, 1, 2, 0, 0, 0) }),
               { code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', argument: 'labels', index: 2, value: 2 });
    expectCode(() => addon.sigmoidElementwiseLoss({ ...validSigmoidArgs(), labels: Float32Array.of(0, NaN, 0, 0, 0, 0) }),
               { code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', index: 1, value: NaN });
    expectCode(() => addon.sigmoidElementwiseLoss({ ...validSigmoidArgs(), labels: Int32Array.of(0, 1, 0, 0, 3, 0) }),
               { code: 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL', index: 4, value: 3 });
  });

  test('option values are not range-checked by the addon (the TS layer validates them once)', () => {
    // Finite results, no throw: the kernels are memory-safe for any number.
    for (const change of [{ gamma: -1 }, { gamma: NaN }, { alpha: -0.5 }, { labelSmoothing: 2 }, { gama: 2 }]) {
      const a = { ...validSoftmaxArgs(), ...change };
      expect(() => addon.softmaxFocalLoss(a)).not.toThrow();
    }
    for (const change of [{ gamma: Infinity }, { alpha: 2 }, { labelSmoothing: -1 }]) {
      expect(() => addon.sigmoidElementwiseLoss({ ...validSigmoidArgs(), ...change })).not.toThrow();
    }
  });
});

describe('raw addon: what it exposes for the TS layer\'s checks', () => {
  type Option = { key: string, attr: string, type: string, default: number | boolean, required: boolean };
  const options = addon.kernelOptions() as Record<string, Option[]>;
  // What each entry point reads besides the plain options of its table (native/include/focal_loss.h).
  const OWN_KEYS: Record<string, string[]> = {
    softmaxFocalLoss: [...Object.keys(validSoftmaxArgs()).filter((k) => !options.softmaxFocalLoss.some((o) => o.key === k)),
                       'denseLabels', 'logitOffsets'],
    // The elementwise family's loss is optional (absent: the focal loss).
    sigmoidElementwiseLoss: [...Object.keys(validSigmoidArgs()).filter((k) => !options.sigmoidElementwiseLoss.some((o) => o.key === k)), 'loss'],
  };
  const entries: Array<[string, () => Record<string, unknown>]> =
      [['softmaxFocalLoss', validSoftmaxArgs], ['sigmoidElementwiseLoss', validSigmoidArgs]];

  test('kernelOptions(): one table per entry point, each option a key, its TF attribute (the key in snake_case), type and default', () => {
    expect(Object.keys(options).sort()).toEqual(['sigmoidElementwiseLoss', 'softmaxFocalLoss']);
    expect(OWN_KEYS.softmaxFocalLoss.sort()).toEqual(
      ['alpha', 'classes', 'denseLabels', 'gradOut', 'ignoreIndex', 'labels', 'logitOffsets', 'logits', 'lossOut', 'rows']);
    expect(OWN_KEYS.sigmoidElementwiseLoss.sort()).toEqual(['alpha', 'gradOut', 'labels', 'logits', 'loss', 'lossOut']);
    for (const [entry] of entries) {
      expect(options[entry].length).toBeGreaterThan(0);
      for (const o of options[entry]) {
        expect(o.attr).toBe(o.key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
        expect(['float', 'bool', 'int']).toContain(o.type);
        expect(typeof o.default).toBe(o.type === 'bool' ? 'boolean' : 'number');
        expect(typeof o.required).toBe('boolean');
      }
    }
    // What the TS layer's drift checks and the family's losses rely on.
    expect(options.sigmoidElementwiseLoss.filter((o) => !o.required).map((o) => [o.key, o.default]))
        .toEqual(expect.arrayContaining([['polyEpsilon', 0], ['gammaNeg', 4], ['clip', 0.05]]));
  });

  test('argumentKeys(): the keys each entry point reads, its own and its table\'s', () => {
    const keys = addon.argumentKeys();
    for (const [entry] of entries) {
      expect([...keys[entry]].sort()).toEqual([...OWN_KEYS[entry], ...options[entry].map((o) => o.key)].sort());
    }
    expect(() => addon.sigmoidElementwiseLoss({...validSigmoidArgs(), loss: 4}))
        .toThrow(/sigmoidElementwiseLoss: args.loss must be an ElementwiseLoss code, 0 to 3, got 4/);
  });

  describe.each(entries)('%s: the table\'s options as the entry point reads them', (entry, valid) => {
    const run = (args: Record<string, unknown>) => {
      addon[entry](args);
      return [Array.from(args.lossOut as Float32Array), Array.from(args.gradOut as Float32Array)];
    };
    const nonDefault = (o: Option) => o.type === 'bool' ? !o.default : (o.default as number) + 0.5;
    test.each(options[entry].map((o) => [o.key, o] as [string, Option]))('%s', (key, o) => {
      const args = valid();
      // A value of another type is refused, naming the key.
      expect(() => addon[entry]({ ...args, [key]: 'x' }))
          .toThrow(new RegExp(`${entry}: args.${key} must be an? ${o.type === 'bool' ? 'boolean' : 'number'}, got a string`));
      const withDefault = run({ ...valid(), [key]: o.default });
      const without = { ...valid() };
      delete without[key];
      if (o.required) {
        expect(() => addon[entry](without)).toThrow(new RegExp(`args.${key} must be .*, got undefined`));
      } else {
        // Left out (or undefined): the default.
        expect(run(without)).toEqual(withDefault);
        expect(run({ ...valid(), [key]: undefined })).toEqual(withDefault);
      }
      // The value reaches the kernel: another value changes the loss of the focal loss or (sigmoid)
      // of the quality focal or asymmetric loss. (fromLogits false needs probabilities: only its type is checked.)
      if (o.type !== 'bool') {
        const logits = Float32Array.from({ length: (args.logits as Float32Array).length }, (_, i) => Math.sin(i) * 3);
        const labels = entry === 'sigmoidElementwiseLoss' ? Float32Array.from(logits, (x) => (x > 0 ? 1 : 0)) : args.labels;
        const changes = (entry === 'sigmoidElementwiseLoss' ? [0, 2, 3] : [undefined]).map((loss) => {
          const base = { ...valid(), logits, labels, loss };
          try {
            return JSON.stringify(run({ ...base, [key]: nonDefault(o) })) !== JSON.stringify(run({ ...base, [key]: o.default }));
          } catch {
            return false;  // the asymmetric loss refuses label smoothing
          }
        });
        expect(changes).toContain(true);
      }
    });
  });

  test('tensorflowOpSpecs(): the attributes each TensorFlow op registers, its table\'s and its own', () => {
    const specs = addon.tensorflowOpSpecs();
    if (process.platform !== 'linux') {
      expect(specs).toEqual({});
      return;
    }
    const table = (entry: string) => options[entry].map((o) => ({ name: o.attr, type: o.type }));
    expect(specs).toEqual({
      softmax: [
        { name: 'TLabels', type: '{int32, float}' }, ...table('softmaxFocalLoss'),
        { name: 'alpha', type: 'list(float) >= 1' },
        { name: 'has_ignore_index', type: 'bool' }, { name: 'ignore_index', type: 'int' },
        { name: 'compute_gradient', type: 'bool' }, { name: 'reduction', type: 'int' },
        { name: 'has_logit_adjustment', type: 'bool' },
        { name: 'logit_offsets', type: 'list(float) >= 1' },
      ],
      sigmoid: [
        ...table('sigmoidElementwiseLoss'),
        { name: 'alpha', type: 'float' }, { name: 'class_balancing', type: 'bool' },
        { name: 'compute_gradient', type: 'bool' }, { name: 'reduction', type: 'int' },
        { name: 'loss_kind', type: 'int' },
      ],
      scaleGradient: [
        { name: 'per_row', type: 'bool' }, { name: 'reduced', type: 'bool' }, { name: 'factor', type: 'float' },
      ],
    });
  });
});
