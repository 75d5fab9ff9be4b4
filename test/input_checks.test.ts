// Issue 24, items 1 and 7, on every path: the backend under test (FOCAL_TEST_BACKEND: 'tensorflow'
// runs the TensorFlow ops, or the JS arrays with TFJS_FOCAL_LOSS_TF_OPS=0; 'cpu' the JS arrays)
// and the composite on @tensorflow/tfjs-backend-wasm, plus the composite on 'cpu' without the
// addon in a fresh process. Each test asserts which path ran.
//   item 1: dense softmax labels outside [0, 1] are an error; swapped arguments are named as such;
//           probabilities given as logits get one warning per process.
//   item 7: NaN in, NaN out; empty in, zero out (and a zero-size gradient); errors name what the
//           user called; the status functions never throw.
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import {asymmetricCrossentropy, asymmetricLoss, binaryFocalCrossentropy, categoricalFocalCrossentropy, focalLoss, nativeStatus, qualityFocalCrossentropy, qualityFocalLoss, setProbabilityWarning, sigmoidFocalLoss, sparseCategoricalFocalCrossentropy, varifocalCrossentropy, varifocalLoss} from '../lib';

const KERNEL_BACKEND = process.env.FOCAL_TEST_BACKEND ?? 'tensorflow';
const EXPECTED_PATH = KERNEL_BACKEND === 'tensorflow' && process.env.TFJS_FOCAL_LOSS_TF_OPS !== '0' ?
    'tensorflow-op' : 'js-arrays';
const PATHS: Array<[string, string]> = [[KERNEL_BACKEND, EXPECTED_PATH], ['wasm', 'composite']];

/** Runs `body` on each path, after checking that the path is the one named. */
function onEveryPath(name: string, body: (backend: string) => void): void {
  describe.each(PATHS)('%s (%s)', (backend, expectedPath) => {
    test(name, async () => {
      expect(await tf.setBackend(backend)).toBe(true);
      expect(nativeStatus().path).toBe(expectedPath);
      body(backend);
    });
  });
}

function thrown(f: () => unknown): Error {
  try {
    tf.tidy(() => {
      f();
    });
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

const LOGITS = [[2, -1, 0.5], [0.1, 3, -2]];
const ONE_HOT = [[1, 0, 0], [0, 1, 0]];

describe('item 1: no silent wrong answer', () => {
  onEveryPath('dense softmax labels outside [0, 1] are an error naming labels (the sigmoid rule)', () => {
    const e = thrown(() => focalLoss(tf.tensor2d([[-2, 1]]), tf.tensor2d([[-10, 0]]), {gamma: 0, alpha: 1}));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('focalLoss: labels[0, 0] = -2: labels must be in [0, 1]');
    expect(thrown(() => focalLoss(tf.tensor2d([[0.5, 1.25]]), tf.tensor2d([[-10, 0]]))).message)
        .toBe('focalLoss: labels[0, 1] = 1.25: labels must be in [0, 1]');
    // The probability path, a later row of many classes, the Keras object.
    const many = tf.buffer([70, 100]);
    many.set(1, 3, 7);
    many.set(-0.5, 41, 50);
    expect(thrown(() => focalLoss(many.toTensor(), tf.randomNormal([70, 100], 0, 1, 'float32', 3))).message)
        .toBe('focalLoss: labels[41, 50] = -0.5: labels must be in [0, 1]');
    expect(thrown(() => focalLoss(tf.tensor2d([[2, 0]]), tf.tensor2d([[0.25, 0.75]]), {fromLogits: false})).message)
        .toMatch(/^focalLoss: labels\[0, 0\] = 2: labels must be in \[0, 1\]/);
    expect(thrown(() => categoricalFocalCrossentropy()(tf.tensor2d([[-1, 1]]), tf.tensor2d([[0.25, 0.75]]))).message)
        .toBe('categoricalFocalCrossentropy: yTrue[0, 0] = -1: yTrue must be in [0, 1]');
    // The bounds and soft labels inside them are fine.
    tf.tidy(() => {
      const soft = focalLoss(tf.tensor2d([[0, 1], [0.3, 0.7]]), tf.tensor2d([[-1, 0], [2, 1]]));
      expect(Number.isFinite(soft.dataSync()[0]) && soft.dataSync()[0] > 0).toBe(true);
    });
  });

  onEveryPath('swapped arguments: the message says the order is (labels, logits)', () => {
    const e = thrown(() => focalLoss(tf.tensor2d(LOGITS), tf.tensor2d(ONE_HOT)));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('focalLoss: labels[0, 0] = 2: labels must be in [0, 1] — the arguments ' +
                           'look swapped: focalLoss takes (labels, logits), labels first');
    const ints = thrown(() => focalLoss(tf.tensor2d(LOGITS), tf.tensor1d([0, 1], 'int32')));
    expect(ints).toBeInstanceOf(TypeError);
    expect(ints.message).toBe('focalLoss: logits must have dtype float32; received dtype int32 — the ' +
                              'arguments look swapped: focalLoss takes (labels, logits), labels first');
    expect(thrown(() => sigmoidFocalLoss(tf.tensor2d(LOGITS), tf.tensor2d(ONE_HOT))).message)
        .toBe('sigmoidFocalLoss: labels[0, 0] = 2: labels must be in [0, 1] — the arguments look ' +
              'swapped: sigmoidFocalLoss takes (labels, logits), labels first');
    expect(thrown(() => varifocalLoss(tf.tensor2d(LOGITS), tf.tensor2d(ONE_HOT))).message)
        .toBe('varifocalLoss: targets[0, 0] = 2: targets must be in [0, 1] — the arguments look ' +
              'swapped: varifocalLoss takes (targets, logits), targets first');
    expect(thrown(() => qualityFocalLoss(tf.tensor1d([0, 1], 'int32'), tf.tensor1d([0.5, 0.5]))).message)
        .toBe('qualityFocalLoss: targets must be float32 targets in [0, 1] of the shape of logits [2]; ' +
              'received dtype int32 (cast with tf.cast(targets, \'float32\'))');
    // No hint where the "logits" are not inside [0, 1], or the bad label is NaN.
    expect(thrown(() => focalLoss(tf.tensor2d([[3, 0, 0]]), tf.tensor2d([[2, -1, 0.5]]))).message)
        .toBe('focalLoss: labels[0, 0] = 3: labels must be in [0, 1]');
    expect(thrown(() => focalLoss(tf.tensor2d([[NaN, 0]]), tf.tensor2d([[0, 1]]))).message)
        .toBe('focalLoss: labels[0, 0] = NaN: labels must be in [0, 1]');
    // int32 logits next to int32 labels: the cast hint.
    expect(thrown(() => focalLoss(tf.tensor1d([0], 'int32'), tf.tensor2d([[1, 0]], [1, 2], 'int32'))).message)
        .toBe('focalLoss: logits must have dtype float32; received dtype int32 (cast with tf.cast(logits, \'float32\'))');
  });

  onEveryPath('float [N, 1] labels get the squeeze hint int32 ones get', () => {
    expect(thrown(() => focalLoss(tf.tensor2d([[0], [1]]), tf.tensor2d(LOGITS))).message)
        .toBe('focalLoss: dense float32 labels must have the shape of logits [2,3]; received shape ' +
              '[2,1] (class-index labels: squeeze the last axis and cast, tf.cast(labels.squeeze([-1]), \'int32\'))');
    expect(thrown(() => focalLoss(tf.tensor2d([[0], [1]], [2, 1], 'int32'), tf.tensor2d(LOGITS))).message)
        .toContain('(squeeze the last axis: labels.squeeze([-1]))');
  });

  describe('probabilities given as logits: one warning per process', () => {
    let warnings: Array<{message: string, code: unknown, type: unknown}> = [];
    let spy: jest.SpyInstance;
    beforeEach(() => {
      warnings = [];
      spy = jest.spyOn(process, 'emitWarning').mockImplementation(((message: string, options?: {code?: string, type?: string}) => {
        warnings.push({message, code: options?.code, type: options?.type});
      }) as typeof process.emitWarning);
      setProbabilityWarning(true);  // re-arms: each test starts as a fresh process would
    });
    afterEach(() => {
      spy.mockRestore();
      setProbabilityWarning(true);
    });

    onEveryPath('softmax probabilities with fromLogits true warn once, naming fromLogits: false', () => {
      const logits = tf.randomNormal([64, 5], 0, 2, 'float32', 11);
      const labels = tf.tensor1d(Array.from({length: 64}, (_, i) => i % 5), 'int32');
      // The composite reads the logits on the first call of each function only: that call is the
      // evident one here.
      tf.tidy(() => focalLoss(labels, tf.softmax(logits)));
      tf.tidy(() => focalLoss(labels, tf.softmax(logits)));
      expect(warnings).toEqual([{
        message: 'focalLoss: logits look like probabilities (every row is in [0, 1] and sums to 1) but ' +
            'are taken as logits (fromLogits: true, the default), which gives a wrong loss; if they ' +
            'are probabilities, pass options {fromLogits: false}. If they are logits, silence this ' +
            'warning with setProbabilityWarning(false) or TFJS_FOCAL_LOSS_NO_WARNINGS=1.',
        code: 'FOCAL_PROBABILITIES_AS_LOGITS', type: 'TfjsFocalLossWarning',
      }]);
      // Real logits, and fromLogits false (what the warning asks for): nothing.
      setProbabilityWarning(true);
      tf.tidy(() => focalLoss(labels, logits));
      setProbabilityWarning(true);
      tf.tidy(() => focalLoss(labels, tf.softmax(logits), {fromLogits: false}));
      expect(warnings).toHaveLength(1);
      // Silenced: nothing, even on the first evident call.
      setProbabilityWarning(false);
      tf.tidy(() => focalLoss(labels, tf.softmax(logits)));
      expect(warnings).toHaveLength(1);
      logits.dispose();
      labels.dispose();
    });

    onEveryPath('elementwise probabilities warn (the family: pass the logits before the sigmoid)', () => {
      const x = tf.randomNormal([8, 8], 0, 2, 'float32', 5);
      const targets = tf.zeros([8, 8]);
      tf.tidy(() => sigmoidFocalLoss(targets, x));
      tf.tidy(() => varifocalLoss(targets, tf.sigmoid(tf.neg(tf.abs(x)))));  // p in (0, 0.5]
      expect(warnings.map((w) => w.message)).toEqual([
        'varifocalLoss: logits look like probabilities (every value is in [0, 1]) but are taken as ' +
            'logits (fromLogits: true), which gives a wrong loss; varifocalLoss takes logits: pass the ' +
            'values before the sigmoid. If they are logits, silence this warning with ' +
            'setProbabilityWarning(false) or TFJS_FOCAL_LOSS_NO_WARNINGS=1.']);
      setProbabilityWarning(true);
      // A constant block (logits of 0 at initialisation) or too few values: no warning.
      tf.tidy(() => sigmoidFocalLoss(targets, tf.fill([8, 8], 0.5)));
      tf.tidy(() => sigmoidFocalLoss(tf.zeros([31]), tf.linspace(0.1, 0.9, 31)));
      expect(warnings).toHaveLength(1);
      tf.tidy(() => binaryFocalCrossentropy({fromLogits: true})(targets, tf.sigmoid(x)));
      expect(warnings[1].message).toMatch(/^binaryFocalCrossentropy: yPred look like probabilities .* pass config \{fromLogits: false\}/);
      x.dispose();
      targets.dispose();
    });
  });
});

describe('item 7: NaN in, NaN out; empty in, zero out', () => {
  type Loss = (labels: tf.Tensor, logits: tf.Tensor, options?: {reduction?: tf.Reduction, weights?: tf.Tensor}) => tf.Tensor;
  const ELEMENTWISE: Array<[string, Loss]> = [
    ['sigmoidFocalLoss', sigmoidFocalLoss as Loss],
    ['sigmoidFocalLoss (Poly-1)', (y, x, o) => sigmoidFocalLoss(y, x, {...o, polyEpsilon: 1})],
    ['varifocalLoss', varifocalLoss as Loss],
    ['qualityFocalLoss', qualityFocalLoss as Loss],
    ['asymmetricLoss', asymmetricLoss as Loss],
    ['asymmetricLoss (clip 0)', (y, x, o) => asymmetricLoss(y, x, {...o, clip: 0})],
  ];

  onEveryPath('a NaN logit gives a NaN loss and gradient for every loss and every label', () => {
    for (const [name, loss] of ELEMENTWISE) {
      for (const y of [0, 1, 0.3]) {
        tf.tidy(() => {
          const labels = tf.tensor1d([y, y]);
          const logits = tf.tensor1d([NaN, 0.5]);
          const value = loss(labels, logits, {reduction: tf.Reduction.NONE}).dataSync();
          const grad = tf.grad((x: tf.Tensor) => loss(labels, x, {reduction: tf.Reduction.NONE}))(logits).dataSync();
          expect([name, y, Number.isNaN(value[0]), Number.isNaN(grad[0]), Number.isFinite(value[1])])
              .toEqual([name, y, true, true, true]);
        });
      }
    }
    for (const labels of [[0, 1], [1, 0], [0.3, 0.7]]) {
      tf.tidy(() => {
        const dense = tf.tensor2d([labels]);
        const logits = tf.tensor2d([[NaN, 0.5]]);
        expect(Number.isNaN(focalLoss(dense, logits).dataSync()[0])).toBe(true);
        expect(Number.isNaN(focalLoss(tf.tensor1d([labels[0] === 1 ? 0 : 1], 'int32'), logits).dataSync()[0])).toBe(true);
      });
    }
  });

  onEveryPath('an empty input gives exactly 0 (an empty tensor for NONE) and a zero-size gradient', () => {
    const reductions = [tf.Reduction.NONE, tf.Reduction.SUM, tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS];
    for (const reduction of reductions) {
      for (const [name, loss] of ELEMENTWISE) {
        for (const weighted of [false, true]) {
          tf.tidy(() => {
            const labels = tf.zeros([0, 3]);
            const logits = tf.zeros([0, 3]);
            const options = {reduction, ...(weighted ? {weights: tf.zeros([0, 3])} : {})};
            const value = loss(labels, logits, options);
            expect([name, reduction, weighted, value.shape]).toEqual(
                [name, reduction, weighted, reduction === tf.Reduction.NONE ? [0, 3] : []]);
            if (reduction !== tf.Reduction.NONE) expect(value.dataSync()[0]).toBe(0);
            const [dx, dy] = tf.grads((x: tf.Tensor, y: tf.Tensor) => loss(y, x, options))([logits, labels]);
            expect([dx.shape, dy.shape]).toEqual([[0, 3], [0, 3]]);
          });
        }
      }
      tf.tidy(() => {
        const logits = tf.zeros([0, 3]);
        for (const labels of [tf.zeros([0], 'int32'), tf.zeros([0, 3])]) {
          const value = focalLoss(labels, logits, {reduction});
          expect(value.shape).toEqual(reduction === tf.Reduction.NONE ? [0] : []);
          if (reduction !== tf.Reduction.NONE) expect(value.dataSync()[0]).toBe(0);
          expect(tf.grad((x: tf.Tensor) => focalLoss(labels, x, {reduction}))(logits).shape).toEqual([0, 3]);
        }
        expect(sigmoidFocalLoss(tf.zeros([0]), tf.zeros([0]), {normalizeByPositives: true}).dataSync()[0]).toBe(0);
      });
    }
    tf.tidy(() => {
      expect(varifocalCrossentropy()(tf.zeros([0, 4]), tf.zeros([0, 4])).shape).toEqual([0]);
      expect(asymmetricCrossentropy()(tf.zeros([0, 4]), tf.zeros([0, 4])).shape).toEqual([0]);
    });
  });

  onEveryPath('errors name the function the user called and its argument', (backend) => {
    expect(thrown(() => binaryFocalCrossentropy()(tf.tensor2d([[0, 1]]), tf.tensor2d([[0.5, 1.5]]))).message)
        .toBe('binaryFocalCrossentropy: yPred[0, 1] = 1.5: with fromLogits=false the inputs are ' +
              'probabilities and must be in [0, 1]');
    expect(thrown(() => sparseCategoricalFocalCrossentropy()(tf.tensor1d([0, 5]), tf.tensor2d([[0.5, 0.5], [0.5, 0.5]]))).message)
        .toBe('sparseCategoricalFocalCrossentropy: yTrue[1] = 5 is out of range [0, 2)');
    expect(thrown(() => categoricalFocalCrossentropy({fromLogits: true, logitAdjustment: {classCounts: [1, 2]}})(
        tf.tensor2d(ONE_HOT), tf.tensor2d(LOGITS))).message)
        .toBe('categoricalFocalCrossentropy: config.logitAdjustment.classCounts must have one entry per ' +
              'class (length 3, the size of the last axis of yPred); received an array of length 2');
    expect(thrown(() => focalLoss(tf.tensor1d([0, 1], 'int32'), tf.tensor2d(LOGITS),
                                  {logitAdjustment: {classCounts: [1e308, 1e308, 1e308]}})).message)
        .toBe('focalLoss: the sum of options.logitAdjustment.classCounts must be finite (the counts are ' +
              'normalised by it); received counts whose sum overflows a double (rescale them, or give priors)');
    expect(thrown(() => varifocalLoss(tf.tensor1d([0.5]), tf.tensor1d([0.5, 0.1]))).message)
        .toBe('varifocalLoss: targets must have the shape of logits [2]; received shape [1]');
  });

  onEveryPath('errors index yTrue in the shape the user passed, not the reshaped one', () => {
    // yTrue [N] next to yPred [N, 1]: the kernel gets yTrue as [N, 1]; the user reads yTrue[3].
    const soft = tf.tensor1d([0, 1, 0, 1.5]);
    const logits = tf.tensor2d([[2], [-1], [0.5], [3]]);
    expect(thrown(() => binaryFocalCrossentropy()(soft, tf.fill([4, 1], 0.5))).message)
        .toBe('binaryFocalCrossentropy: yTrue[3] = 1.5: yTrue must be in [0, 1]');
    expect(thrown(() => binaryFocalCrossentropy({fromLogits: true})(tf.tensor1d([0, NaN, 0, 1]), logits)).message)
        .toBe('binaryFocalCrossentropy: yTrue[1] = NaN: yTrue must be in [0, 1]');
    for (const [name, loss] of [['varifocalCrossentropy', varifocalCrossentropy()],
                                ['qualityFocalCrossentropy', qualityFocalCrossentropy()],
                                ['asymmetricCrossentropy', asymmetricCrossentropy()]] as const) {
      expect(thrown(() => loss(soft, logits)).message).toBe(`${name}: yTrue[3] = 1.5: yTrue must be in [0, 1]`);
    }
    // yPred keeps its own shape; yTrue of the shape of yPred keeps its index.
    expect(thrown(() => binaryFocalCrossentropy()(tf.tensor1d([0, 1, 0, 1]), tf.tensor2d([[0.5], [0.5], [1.5], [0.5]]))).message)
        .toBe('binaryFocalCrossentropy: yPred[2, 0] = 1.5: with fromLogits=false the inputs are probabilities and must be in [0, 1]');
    expect(thrown(() => binaryFocalCrossentropy()(tf.tensor2d([[0], [1], [0], [1.5]]), tf.fill([4, 1], 0.5))).message)
        .toBe('binaryFocalCrossentropy: yTrue[3, 0] = 1.5: yTrue must be in [0, 1]');
    // Sparse yTrue [N, 1] (what tfjs-layers feeds): the kernel gets [N]; the user reads yTrue[1, 0].
    const uniform = tf.fill([2, 3], 1 / 3);
    expect(thrown(() => sparseCategoricalFocalCrossentropy()(tf.tensor2d([[0], [5]], [2, 1], 'int32'), uniform)).message)
        .toBe('sparseCategoricalFocalCrossentropy: yTrue[1, 0] = 5 is out of range [0, 3)');
    expect(thrown(() => sparseCategoricalFocalCrossentropy()(tf.tensor2d([[0], [1.5]]), uniform)).message)
        .toBe('sparseCategoricalFocalCrossentropy: yTrue must hold integer class indices; received yTrue[1, 0] = 1.5');
    expect(thrown(() => sparseCategoricalFocalCrossentropy()(tf.tensor1d([0, 5]), uniform)).message)
        .toBe('sparseCategoricalFocalCrossentropy: yTrue[1] = 5 is out of range [0, 3)');
    // Several axes: the index in yTrue's own axes, not a flat one.
    const volume = tf.fill([2, 2, 3], 1 / 3);
    expect(thrown(() => sparseCategoricalFocalCrossentropy()(tf.tensor2d([[0, 1], [2, 1.5]]), volume)).message)
        .toBe('sparseCategoricalFocalCrossentropy: yTrue must hold integer class indices; received yTrue[1, 1] = 1.5');
    expect(thrown(() => sparseCategoricalFocalCrossentropy()(tf.tensor3d([[[0], [1]], [[2], [7]]], [2, 2, 1], 'int32'), volume)).message)
        .toBe('sparseCategoricalFocalCrossentropy: yTrue[1, 1, 0] = 7 is out of range [0, 3)');
    expect(thrown(() => categoricalFocalCrossentropy()(tf.tensor2d([[0, 1, 0], [0, 2, 0]]), uniform)).message)
        .toBe('categoricalFocalCrossentropy: yTrue[1, 1] = 2: yTrue must be in [0, 1]');
  });
});

describe('status functions never throw (a fresh process)', () => {
  const DIST = path.resolve(__dirname, '..', 'dist', 'lib', 'index.js');
  (fs.existsSync(DIST) ? test : test.skip)('a missing binary is reported by tensorflowOpsStatus and nativeStatus', () => {
    const script = `
      const tf = require('@tensorflow/tfjs');
      require('@tensorflow/tfjs-node');
      const fl = require(${JSON.stringify(DIST)});
      const ops = fl.tensorflowOpsStatus();
      const native = fl.nativeStatus();
      const loss = fl.focalLoss(tf.tensor1d([0], 'int32'), tf.tensor2d([[0.9, 0.1]])).dataSync()[0];
      console.log(JSON.stringify({ops, path: native.path, loaded: native.loaded, loss}));`;
    const r = cp.spawnSync(process.execPath, ['-e', script], {
      cwd: path.resolve(__dirname, '..'), encoding: 'utf8',
      env: {...process.env, TFJS_FOCAL_LOSS_ADDON: '/nonexistent/focal_loss.node', TFJS_FOCAL_LOSS_NO_WARNINGS: '1',
            TFJS_FOCAL_LOSS_TF_OPS: ''},
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.ops.active).toBe(false);
    expect(out.ops.reason).toMatch(/TFJS_FOCAL_LOSS_ADDON points at \/nonexistent\/focal_loss.node/);
    expect(out.path).toBe('composite');
    expect(out.loaded).toBe(false);
    expect(out.loss).toBeGreaterThan(0);
    // The composite on 'tensorflow' without the addon, with probabilities: silenced by the env.
    expect(r.stderr).not.toContain('FOCAL_PROBABILITIES_AS_LOGITS');
  });

  (fs.existsSync(DIST) ? test : test.skip)('the composite without the addon warns once, on its first call', () => {
    const script = `
      const tf = require('@tensorflow/tfjs');
      const fl = require(${JSON.stringify(DIST)});
      tf.setBackend('cpu');
      const p = tf.softmax(tf.randomNormal([16, 4], 0, 2, 'float32', 1));
      const labels = tf.zeros([16], 'int32');
      for (let i = 0; i < 3; i++) fl.focalLoss(labels, p);
      console.log(JSON.stringify({path: fl.nativeStatus().path}));`;
    const run = (env: {[k: string]: string}) => cp.spawnSync(process.execPath, ['-e', script], {
      cwd: path.resolve(__dirname, '..'), encoding: 'utf8',
      env: {...process.env, TFJS_FOCAL_LOSS_ADDON: '/nonexistent/focal_loss.node', ...env},
    });
    const warned = run({TFJS_FOCAL_LOSS_NO_WARNINGS: ''});
    expect(JSON.parse(warned.stdout.trim().split('\n').pop()!).path).toBe('composite');
    expect(warned.stderr.match(/\[FOCAL_PROBABILITIES_AS_LOGITS\] TfjsFocalLossWarning: focalLoss: logits look like probabilities/g))
        .toHaveLength(1);
    expect(run({TFJS_FOCAL_LOSS_NO_WARNINGS: '1'}).stderr).not.toContain('FOCAL_PROBABILITIES_AS_LOGITS');
  });
});
