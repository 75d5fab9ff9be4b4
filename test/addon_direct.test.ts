// The N-API layer checks types, lengths and sizes itself: calling the raw addon with wrong arguments
// throws a JS TypeError / RangeError naming the argument — it never reaches C++ with a bad buffer,
// never crashes the process. (The TS layer validates first; this is the second line of defence.)
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
    addon.sigmoidFocalLoss(s);
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
    ['sparse label out of range', (a) => { a.labels = new Int32Array([0, 4, 1]); }, /labels\[1\]/],
    ['negative sparse label', (a) => { a.labels = new Int32Array([-1, 0, 1]); }, /labels\[0\]/],
    ['rows negative', (a) => { a.rows = -3; }, /rows/],
    ['rows not an integer', (a) => { a.rows = 1.5; }, /rows/],
    ['rows * classes beyond the buffers', (a) => { a.rows = 2 ** 40; }, /rows|logits/],
    ['classes a string', (a) => { a.classes = '4'; }, /classes/],
    ['gamma negative', (a) => { a.gamma = -1; }, /gamma/],
    ['gamma NaN', (a) => { a.gamma = NaN; }, /gamma/],
    ['alpha of the wrong length', (a) => { a.alpha = new Float32Array(classes + 1); }, /alpha/],
    ['alpha negative', (a) => { a.alpha = -0.5; }, /alpha/],
    ['labelSmoothing above 1', (a) => { a.labelSmoothing = 2; }, /labelSmoothing/],
    ['fromLogits not boolean', (a) => { a.fromLogits = 'yes'; }, /fromLogits/],
    ['an unknown key', (a) => { a.gama = 2; }, /gama/],
    ['denseLabels not boolean', (a) => { a.denseLabels = 1; }, /denseLabels/],
    ['denseLabels with an Int32Array of rows labels', (a) => { a.denseLabels = true; }, /labels.*rows \* classes/],
    ['denseLabels with labels of another type', (a) => { a.denseLabels = true; a.labels = new Uint8Array(rows * classes); }, /labels/],
    ['ignoreIndex with dense Int32Array labels', (a) => {
      a.denseLabels = true; a.labels = new Int32Array(rows * classes); a.ignoreIndex = 0;
    }, /ignoreIndex/],
  ];
  test.each(softmaxCases)('softmaxFocalLoss: %s', (_name, mutate, message) => {
    const args = validSoftmaxArgs();
    mutate(args);
    const call = _name === 'no argument object' ? () => addon.softmaxFocalLoss() : () => addon.softmaxFocalLoss(args);
    let thrown: unknown;
    try { call(); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toMatch(/TypeError|RangeError|Error/);
    expect((thrown as Error).message).toMatch(message);
  });

  const sigmoidCases: Array<[string, (a: Record<string, unknown>) => void, RegExp]> = [
    ['labels length differs from logits', (a) => { a.labels = new Float32Array(5); }, /labels/],
    ['labels outside [0, 1]', (a) => { a.labels = Float32Array.of(0, 1, 2, 0, 0, 0); }, /labels\[2\]/],
    ['labels NaN', (a) => { a.labels = Float32Array.of(0, NaN, 0, 0, 0, 0); }, /labels\[1\]/],
    ['gradOut too short', (a) => { a.gradOut = new Float32Array(2); }, /gradOut/],
    ['gamma Infinity', (a) => { a.gamma = Infinity; }, /gamma/],
    ['logits an Int32Array', (a) => { a.logits = new Int32Array(6); }, /logits/],
    ['Int32Array labels outside [0, 1]', (a) => { a.labels = Int32Array.of(0, 1, 0, 0, 3, 0); }, /labels\[4\] = 3/],
    ['Int32Array labels too short', (a) => { a.labels = new Int32Array(5); }, /labels/],
    ['labels a Float64Array', (a) => { a.labels = new Float64Array(6); }, /labels/],
  ];
  test.each(sigmoidCases)('sigmoidFocalLoss: %s', (_name, mutate, message) => {
    const args = validSigmoidArgs();
    mutate(args);
    expect(() => addon.sigmoidFocalLoss(args)).toThrow(message);
  });

  test('dense labels given as an Int32Array (denseLabels: true) give what the same Float32Array gives', () => {
    const ints = Int32Array.of(0, 1, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0);
    const logits = Float32Array.from({ length: rows * classes }, (_, i) => Math.sin(i) * 3);
    const run = (labels: Int32Array | Float32Array, denseLabels: boolean) => {
      const a = { ...validSoftmaxArgs(), logits, labels, denseLabels, labelSmoothing: 0.1 };
      addon.softmaxFocalLoss(a);
      return [a.lossOut, a.gradOut];
    };
    const want = run(Float32Array.from(ints), true);
    expect(Array.from(want[0] as Float32Array).every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    expect(run(ints, true)).toEqual(want);
    const s = { ...validSigmoidArgs(), logits: logits.slice(0, 6), labels: Int32Array.of(0, 1, 1, 0, 0, 1) };
    addon.sigmoidFocalLoss(s);
    const f = { ...validSigmoidArgs(), logits: logits.slice(0, 6), labels: Float32Array.of(0, 1, 1, 0, 0, 1) };
    addon.sigmoidFocalLoss(f);
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
