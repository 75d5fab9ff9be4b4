// Fuzz: random shapes, options and hostile values, fixed seeds and case counts (no time budget: the
// same cases run on a loaded machine). Every case is built
// with at most one deliberate defect, so the test knows what must happen:
//   - no defect        → a finite result equal to the float64 reference;
//   - one bad argument → a JS Error whose message names that argument (never a crash, never a NaN);
//   - NaN / +Inf in the logits → no error and no crash: like tfjs's own losses, the affected rows
//     come out NaN and the others stay correct (documented behaviour).
import * as tf from '@tensorflow/tfjs-core';
import { focalLoss, sigmoidFocalLoss } from '../lib';
import { computeWeightedLoss, sigmoidFocalElements, softmaxFocalRows, weightsWithIgnoredRows } from './reference';
import { Rng, worstRelativeError } from './numeric_helpers';

type Defect =
  | null
  | 'gamma' | 'alpha' | 'labelSmoothing' | 'reduction' | 'unknownOption' | 'weights'
  | 'labelsRange' | 'labelsDtype' | 'labelsShape' | 'labelsNaN' | 'logitsDtype' | 'logitsRank'
  | 'nanLogits' | 'infLogits';

/** The word the error message must contain for each defect. */
const NAMED_ARGUMENT: Record<Exclude<Defect, null | 'nanLogits' | 'infLogits'>, RegExp> = {
  gamma: /gamma/, alpha: /alpha/, labelSmoothing: /labelSmoothing/, reduction: /reduction/,
  unknownOption: /gama/, weights: /weights/, labelsRange: /label/, labelsDtype: /labels/,
  labelsShape: /labels/, labelsNaN: /labels/, logitsDtype: /logits/, logitsRank: /logits/,
};

const REDUCTIONS = [tf.Reduction.NONE, tf.Reduction.SUM, tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS];

function expectNamedError(run: () => unknown, defect: keyof typeof NAMED_ARGUMENT, where: string): void {
  let thrown: unknown = null;
  try {
    tf.tidy(() => { run(); });
  } catch (e) {
    thrown = e;
  }
  if (!(thrown instanceof Error)) throw new Error(`${where}: expected an Error naming ${NAMED_ARGUMENT[defect]}, got ${thrown === null ? 'no error' : String(thrown)}`);
  if (!NAMED_ARGUMENT[defect].test(thrown.message)) throw new Error(`${where}: error message does not name ${NAMED_ARGUMENT[defect]}: "${thrown.message}"`);
}

/** Reduced float64 reference; a zero denominator (empty batch, all ignored) gives 0 as the library documents. */
function reducedReference(rowLoss: Float64Array, lossShape: number[], weights: { values: Float32Array; shape: number[] } | null,
  ignored: Uint8Array | null, reduction: tf.Reduction): Float64Array {
  const names = { [tf.Reduction.NONE]: 'none', [tf.Reduction.SUM]: 'sum', [tf.Reduction.MEAN]: 'mean', [tf.Reduction.SUM_BY_NONZERO_WEIGHTS]: 'sumByNonzeroWeights' } as const;
  const w = ignored && ignored.some((v) => v) ? weightsWithIgnoredRows(weights, lossShape, ignored) : weights;
  const value = computeWeightedLoss(rowLoss, lossShape, w, names[reduction]).value;
  // Only a reduced value can come from a zero denominator; an elementwise NaN is a poisoned row.
  return reduction === tf.Reduction.NONE ? value : value.map((v) => (Number.isNaN(v) ? 0 : v));
}

function checkValues(where: string, got: ArrayLike<number>, expected: ArrayLike<number>): void {
  const worst = worstRelativeError(got, expected, 1e-5, 1e-6);
  if (worst) throw new Error(`${where}: element ${worst.worstIndex}: got ${worst.got}, expected ${worst.expected}`);
}

describe('fuzz', () => {
  test('focalLoss: random shapes, options and hostile values', () => {
    const rng = new Rng(20261123);
    const counts: Record<string, number> = {};
    for (let k = 0; k < 400; k++) {
      const defect = rng.pick<Defect>([null, null, null, null, 'gamma', 'alpha', 'labelSmoothing', 'reduction', 'unknownOption',
        'weights', 'labelsRange', 'labelsDtype', 'labelsShape', 'labelsNaN', 'logitsDtype', 'logitsRank', 'nanLogits', 'infLogits']);
      counts[String(defect)] = (counts[String(defect)] ?? 0) + 1;
      const rank = rng.int(2, 4);
      const batchShape = Array.from({ length: rank - 1 }, () => (rng.next() < 0.08 ? 0 : rng.int(1, 7)));
      const classes = rng.int(1, 40);
      const rows = batchShape.reduce((a, b) => a * b, 1);
      const logitShape = [...batchShape, classes];
      const scale = rng.pick([1, 5, 30, 1e4]);
      const logitValues = rng.float32Normal(rows * classes, scale);
      if (defect === 'nanLogits' && rows > 0) logitValues[rng.int(0, rows * classes)] = NaN;
      if (defect === 'infLogits' && rows > 0) logitValues[rng.int(0, rows * classes)] = Infinity;

      const sparse = rng.next() < 0.5;
      const labelValues = sparse
        ? Int32Array.from({ length: rows }, () => rng.int(0, classes))
        : (() => {
          const y = new Float32Array(rows * classes);
          const soft = rng.next() < 0.3;
          for (let i = 0; i < rows; i++) {
            if (soft) { let s = 0; for (let j = 0; j < classes; j++) s += (y[i * classes + j] = rng.next()); for (let j = 0; j < classes; j++) y[i * classes + j] /= s; }
            else y[i * classes + rng.int(0, classes)] = 1;
          }
          return y;
        })();
      if (defect === 'labelsRange' && !sparse) continue; // only sparse labels have a range
      if (defect === 'labelsNaN' && sparse) continue;
      if ((defect === 'labelsRange' || defect === 'labelsNaN') && rows === 0) continue;
      if (defect === 'labelsRange') (labelValues as Int32Array)[rng.int(0, rows)] = rng.pick([-1, classes, classes + 7]);
      if (defect === 'labelsNaN') (labelValues as Float32Array)[rng.int(0, rows * classes)] = NaN;

      const gamma = defect === 'gamma' ? rng.pick([-0.5, NaN, Infinity]) : rng.pick([0, 0.5, 1, 2, 3.3]);
      const alpha: number | number[] = defect === 'alpha'
        ? rng.pick<number | number[]>([-0.25, NaN, Array.from({ length: classes + 1 }, () => 0.5)])
        : rng.next() < 0.5 ? rng.uniform(0, 1) : Array.from({ length: classes }, () => rng.uniform(0.05, 2));
      const labelSmoothing = defect === 'labelSmoothing' ? rng.pick([-0.1, 1.5, NaN]) : rng.pick([0, 0, 0.1]);
      const reduction = defect === 'reduction' ? (7 as tf.Reduction) : rng.pick(REDUCTIONS);
      const ignoreIndex = sparse && defect === null && rng.next() < 0.3 && classes > 1 ? rng.int(0, classes) : undefined;
      const useWeights = defect === 'weights' || rng.next() < 0.3;
      const weightShape = defect === 'weights' && rng.next() < 0.5 ? [...batchShape, 3] : batchShape;
      const weightValues = Float32Array.from({ length: weightShape.reduce((a, b) => a * b, 1) }, () => rng.uniform(0, 2));
      if (defect === 'weights' && weightShape === batchShape) {
        if (rows === 0) continue;
        weightValues[rng.int(0, weightValues.length)] = NaN;
      }

      const where = `case ${k} (${defect ?? 'valid'}; shape [${logitShape}], ${sparse ? 'sparse' : 'dense'}, gamma ${gamma}, reduction ${reduction})`;
      const run = () => {
        const logits = defect === 'logitsDtype' ? tf.tensor(logitValues, logitShape, 'int32')
          : defect === 'logitsRank' ? tf.tensor1d(logitValues.slice(0, classes))
            : tf.tensor(logitValues, logitShape, 'float32');
        const labels = defect === 'labelsDtype' && sparse ? tf.tensor(Float32Array.from(labelValues), batchShape, 'float32')
          : defect === 'labelsShape' ? tf.zeros([...batchShape, classes + 1], sparse ? 'int32' : 'float32')
            : tf.tensor(labelValues, sparse ? batchShape : logitShape, sparse ? 'int32' : 'float32');
        const options: Record<string, unknown> = { gamma, alpha, labelSmoothing, reduction };
        if (ignoreIndex !== undefined) options.ignoreIndex = ignoreIndex;
        if (useWeights) options.weights = tf.tensor(weightValues, weightShape);
        if (defect === 'unknownOption') options.gama = 2;
        return focalLoss(labels, logits, options as Parameters<typeof focalLoss>[2]);
      };
      if (defect !== null && defect !== 'nanLogits' && defect !== 'infLogits') {
        if (defect === 'labelsDtype' && !sparse) continue; // dense float labels are valid
        expectNamedError(run, defect, where);
        continue;
      }
      const got = tf.tidy(() => run()).dataSync().slice();
      const ref = softmaxFocalRows(logitValues, rows, classes,
        sparse ? { kind: 'sparse', values: labelValues } : { kind: 'dense', values: labelValues },
        { gamma, alpha, labelSmoothing, ignoreIndex: ignoreIndex ?? null }, false);
      const expected = reducedReference(ref.loss, batchShape, useWeights ? { values: weightValues, shape: weightShape } : null,
        ignoreIndex !== undefined ? ref.ignored : null, reduction);
      if (defect === null) {
        checkValues(where, got, expected);
        if (!Array.from(got).every(Number.isFinite)) throw new Error(`${where}: non-finite result ${Array.from(got)}`);
      } else if (defect === 'nanLogits' || defect === 'infLogits') {
        // The poisoned row is not finite (NaN, or +Inf where the float64 reference is +Inf, as
        // tf.losses.softmaxCrossEntropy gives), and it poisons any reduction; every other row is right.
        if (rows > 0 && reduction !== tf.Reduction.NONE) {
          if (Number.isFinite(got[0])) throw new Error(`${where}: expected the non-finite row to propagate, got ${got[0]}`);
        }
        if (reduction === tf.Reduction.NONE) {
          for (let i = 0; i < rows; i++) {
            if (!Number.isFinite(expected[i])) { if (Number.isFinite(got[i])) throw new Error(`${where}: row ${i}: expected ${expected[i]}, got ${got[i]}`); }
            else checkValues(`${where} row ${i}`, [got[i]], [expected[i]]);
          }
        }
      }
    }
    // Every kind of case was exercised.
    for (const d of ['null', 'gamma', 'alpha', 'labelSmoothing', 'reduction', 'unknownOption', 'weights', 'labelsRange', 'labelsShape', 'logitsDtype', 'nanLogits']) {
      expect(counts[d] ?? 0).toBeGreaterThan(3);
    }
  });

  test('sigmoidFocalLoss: random shapes, options and hostile values', () => {
    const rng = new Rng(777);
    let valid = 0;
    let invalid = 0;
    for (let k = 0; k < 300; k++) {
      const defect = rng.pick<Defect>([null, null, null, 'gamma', 'labelSmoothing', 'reduction', 'unknownOption', 'weights', 'labelsShape', 'labelsNaN', 'logitsDtype', 'nanLogits']);
      const shape = Array.from({ length: rng.int(1, 4) }, () => (rng.next() < 0.05 ? 0 : rng.int(1, 9)));
      const size = shape.reduce((a, b) => a * b, 1);
      const x = rng.float32Normal(size, rng.pick([1, 8, 1e4]));
      const y = Float32Array.from({ length: size }, () => (rng.next() < 0.3 ? rng.next() : rng.next() < 0.2 ? 1 : 0));
      if ((defect === 'labelsNaN' || defect === 'nanLogits') && size === 0) continue;
      if (defect === 'labelsNaN') y[rng.int(0, size)] = NaN;
      if (defect === 'nanLogits') x[rng.int(0, size)] = NaN;
      const gamma = defect === 'gamma' ? rng.pick([-1, NaN]) : rng.pick([0, 0.5, 2, 4]);
      const alpha = rng.pick<number | null>([0.25, 0.8, -1, null]);
      const labelSmoothing = defect === 'labelSmoothing' ? rng.pick([2, -0.5]) : rng.pick([0, 0.2]);
      const reduction = defect === 'reduction' ? (-1 as tf.Reduction) : rng.pick(REDUCTIONS);
      const weightValues = Float32Array.from({ length: size }, () => rng.uniform(0, 1));
      if (defect === 'weights') { if (size === 0) continue; weightValues[0] = Infinity; }
      const useWeights = defect === 'weights' || rng.next() < 0.3;
      const where = `sigmoid case ${k} (${defect ?? 'valid'}; shape [${shape}], gamma ${gamma})`;
      const run = () => {
        const logits = defect === 'logitsDtype' ? tf.tensor(x, shape, 'int32') : tf.tensor(x, shape, 'float32');
        const labels = defect === 'labelsShape' ? tf.zeros([...shape, 2]) : tf.tensor(y, shape, 'float32');
        const options: Record<string, unknown> = { gamma, alpha, labelSmoothing, reduction };
        if (useWeights) options.weights = tf.tensor(weightValues, shape);
        if (defect === 'unknownOption') options.gama = 1;
        return sigmoidFocalLoss(labels, logits, options as Parameters<typeof sigmoidFocalLoss>[2]);
      };
      if (defect !== null && defect !== 'nanLogits') {
        expectNamedError(run, defect as keyof typeof NAMED_ARGUMENT, where);
        invalid++;
        continue;
      }
      const got = tf.tidy(() => run()).dataSync().slice();
      const ref = sigmoidFocalElements(x, y, { gamma, alpha, labelSmoothing }, false);
      const expected = reducedReference(ref.loss, shape, useWeights ? { values: weightValues, shape } : null, null, reduction);
      if (defect === 'nanLogits') {
        if (reduction !== tf.Reduction.NONE && !Number.isNaN(got[0])) throw new Error(`${where}: expected NaN to propagate, got ${got[0]}`);
        continue;
      }
      checkValues(where, got, expected);
      valid++;
    }
    expect(valid).toBeGreaterThan(30);
    expect(invalid).toBeGreaterThan(30);
  });
});
