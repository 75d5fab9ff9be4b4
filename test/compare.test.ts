// compareLosses end to end on tiny problems whose answer is known: a 1:50 imbalance where the
// class-balanced and logit-adjusted contenders beat cross-entropy on macro-F1 beyond the seed spread,
// and a balanced one where nothing does and the report says so. Also: the same initial weights under
// a seed, tensors back to their count after every contender, cancellation, the files of a finished
// run only, binary / multi-label tasks, tf.data input, the progress events, and every bad input.
// Tiny MLPs and few epochs: a few seconds per test on every backend.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {CompareOptions, compareLosses, ProgressEvent} from '../lib/compare';
import {SeededRandom} from '../lib/compare/stats';

const CENTERS = [[0, 0], [2, 0], [0, 2], [2, 2]];

/** Gaussian blobs (sd 1) around CENTERS, `counts[c]` rows of class c. */
function blobs(counts: number[], seed: number): {x: tf.Tensor2D; y: tf.Tensor1D} {
  const random = new SeededRandom(seed);
  const x: number[] = [];
  const y: number[] = [];
  counts.forEach((n, c) => {
    for (let i = 0; i < n; i++) {
      x.push(CENTERS[c][0] + random.nextNormal(), CENTERS[c][1] + random.nextNormal());
      y.push(c);
    }
  });
  return {x: tf.tensor2d(x, [y.length, 2]), y: tf.tensor1d(y, 'int32')};
}

function mlp(outputs: number, inputs = 2, activation?: 'softmax'): tf.LayersModel {
  return tf.sequential({layers: [tf.layers.dense({inputShape: [inputs], units: 16, activation: 'relu'}),
                                 tf.layers.dense({units: outputs, activation})]});
}

const tensors: tf.Tensor[] = [];
function keep<T extends {x: tf.Tensor; y: tf.Tensor}>(data: T): T {
  tensors.push(data.x, data.y);
  return data;
}
afterAll(() => tf.dispose(tensors));

const QUICK = {seeds: 3, epochs: 6, batchSize: 32, optimizer: () => tf.train.adam(0.02), progress: false as const};

describe('known answers', () => {
  it('1:50 imbalance: class-balanced and logit-adjusted CE beat cross-entropy on macro-F1 beyond the spread', async () => {
    const report = await compareLosses({
      ...QUICK, model: () => mlp(3), data: keep(blobs([500, 100, 10], 1)), validation: keep(blobs([200, 200, 200], 2)),
      contenders: [{name: 'class-balanced CE', gamma: 0, classBalanced: true}, {name: 'logit-adjusted CE', gamma: 0, tau: 1}],
    });
    expect(report.task).toBe('single-label');
    expect(report.trainCounts).toEqual([500, 100, 10]);
    expect(report.rareClasses).toEqual([2]);
    expect(report.summaries.map((s) => s.name)).toEqual(['cross-entropy', 'class-balanced CE', 'logit-adjusted CE']);
    for (const name of ['class-balanced CE', 'logit-adjusted CE']) {
      const c = report.comparisons.find((x) => x.a === name && x.metric === 'macroF1')!;
      expect({name, exceedsSpread: c.exceedsSpread, higher: c.meanDifference > 0.1}).toEqual(
          {name, exceedsSpread: true, higher: true});
      expect(c.verdict).toBe('higher on every seed and beyond the seed-to-seed spread');
    }
    expect(report.recommendation).toMatch(/^Use \*\*(class-balanced|logit-adjusted) CE\*\*: macro-F1 \+\d+\.\d points over cross-entropy/);
    expect(report.runs.map((r) => r.leakedTensors)).toEqual(new Array(9).fill(0));
  });

  it('balanced classes: nothing beats cross-entropy beyond the spread, and the report says so', async () => {
    const report = await compareLosses({
      ...QUICK, model: () => mlp(3), data: keep(blobs([300, 300, 300], 3)), validation: keep(blobs([200, 200, 200], 4)),
      contenders: [{gamma: 2}, {name: 'class-balanced CE', gamma: 0, classBalanced: true}],
    });
    expect(report.comparisons.filter((c) => c.metric === 'macroF1').map((c) => c.exceedsSpread)).toEqual([false, false]);
    expect(report.recommendation).toMatch(
        /^Nothing beats cross-entropy beyond the seed-to-seed spread on macro-F1 \(3 seeds\): keep cross-entropy/);
  });
});

describe('fair by construction, and clean', () => {
  it('starts every contender from the same weights under a seed, reproducibly, and leaves no tensor', async () => {
    const data = keep(blobs([60, 40, 20], 5));
    const countsAtFactory: number[] = [];
    // A loss of 0 · Σ logits leaves the weights where they started (Adam's step of a zero gradient is 0).
    const frozen = (labels: tf.Tensor, logits: tf.Tensor) => tf.mul(tf.sum(logits), 0) as tf.Scalar;
    const options: CompareOptions = {
      ...QUICK, seeds: [7, 8], epochs: 2, validationSplit: 0.25,
      model: () => {
        countsAtFactory.push(tf.memory().numTensors);
        return mlp(3);
      },
      data, contenders: [{name: 'frozen a', loss: frozen}, {name: 'frozen b', loss: frozen}],
    };
    const before = tf.memory().numTensors;
    const first = await compareLosses(options);
    expect(tf.memory().numTensors).toBe(before);
    // After the first model, every model is built with the same tensors alive: nothing piles up.
    expect(new Set(countsAtFactory.slice(1)).size).toBe(1);
    const finals = (seed: number) => first.runs.filter((r) => r.seed === seed).map((r) => r.final);
    expect(finals(7)[1]).toEqual(finals(7)[2]);
    expect(finals(8)[1]).toEqual(finals(8)[2]);
    expect(finals(7)[1]).not.toEqual(finals(8)[1]);
    expect(first.split).toBe('stratified 0.25 of options.data (30 rows held out, fixed seed)');
    expect(first.fairness).toMatch(/same initial weights .* same batches in the same order/);
    const again = await compareLosses(options);
    expect(again.runs.map((r) => r.final)).toEqual(first.runs.map((r) => r.final));
    expect(again.runs.map((r) => r.epochs.map((e) => e.trainLoss))).toEqual(first.runs.map((r) => r.epochs.map((e) => e.trainLoss)));
  });

  it('cancels on the AbortSignal: rejects, writes nothing, leaves no tensor', async () => {
    const outDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compare-abort-')), 'out');
    const controller = new AbortController();
    const events: ProgressEvent[] = [];
    const data = keep(blobs([40, 30, 20], 6));
    const before = tf.memory().numTensors;
    await expect(compareLosses({
      ...QUICK, seeds: 2, epochs: 3, model: () => mlp(3), data, outDir,
      contenders: [{gamma: 2}], signal: controller.signal,
      progress: (e) => {
        events.push(e);
        if (events.length === 4) {
          controller.abort();
        }
      },
    })).rejects.toMatchObject({name: 'AbortError', message: expect.stringMatching(/^compareLosses: cancelled .*; nothing was written$/)});
    expect(events).toHaveLength(4);
    expect(tf.memory().numTensors).toBe(before);
    expect(fs.readdirSync(path.dirname(outDir))).toEqual([]);
  });

  it('writes report.json, REPORT.md and the figures for a finished run, and reports progress by the injected clock', async () => {
    const outDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compare-out-')), 'report');
    let now = 0;
    const events: ProgressEvent[] = [];
    const report = await compareLosses({
      ...QUICK, seeds: 2, epochs: 2, model: () => mlp(3), data: keep(blobs([40, 30, 20], 7)), outDir,
      contenders: [{gamma: [1, 2]}], clock: () => (now += 10), progress: (e) => events.push(e),
      classNames: ['a', 'b', 'c'],
    });
    expect(events.map((e) => [e.contender, e.seed, e.epoch, e.done, e.total])).toEqual([
      ['cross-entropy', 1, 1, 1, 12], ['cross-entropy', 1, 2, 2, 12], ['focal γ 1', 1, 1, 3, 12],
      ['focal γ 1', 1, 2, 4, 12], ['focal γ 2', 1, 1, 5, 12], ['focal γ 2', 1, 2, 6, 12],
      ['cross-entropy', 2, 1, 7, 12], ['cross-entropy', 2, 2, 8, 12], ['focal γ 1', 2, 1, 9, 12],
      ['focal γ 1', 2, 2, 10, 12], ['focal γ 2', 2, 1, 11, 12], ['focal γ 2', 2, 2, 12, 12]]);
    for (const e of events) {
      expect(e.remainingSeconds).toBeCloseTo(e.elapsedSeconds / e.done * (e.total - e.done), 12);
    }
    expect(events[11].remainingSeconds).toBe(0);
    // Every epoch's training time is one clock step (10 ms); the totals add up.
    expect(report.runs.flatMap((r) => r.epochs.map((e) => e.seconds))).toEqual(new Array(12).fill(0.01));
    const t = report.timing;
    expect(t.trainingSeconds).toBeCloseTo(0.12, 12);
    expect(t.trainingSeconds + t.evaluationSeconds + t.harnessSeconds).toBeCloseTo(t.totalSeconds, 12);

    expect(fs.readdirSync(outDir).sort()).toEqual(['REPORT.md', 'recall_per_class.svg', 'report.json', 'validation_curves.svg']);
    expect(fs.readdirSync(path.dirname(outDir))).toEqual(['report']);
    const json = JSON.parse(fs.readFileSync(path.join(outDir, 'report.json'), 'utf8'));
    expect(json.summaries.map((s: {name: string}) => s.name)).toEqual(['cross-entropy', 'focal γ 1', 'focal γ 2']);
    const markdown = fs.readFileSync(path.join(outDir, 'REPORT.md'), 'utf8');
    expect(markdown).toContain(`**Recommendation.** ${report.recommendation}`);
    expect(markdown).toMatch(/\| contender \| macro-F1 %, mean ± sd \|/);
    expect(markdown).toContain('Rare classes: c (n=');
    for (const svg of ['recall_per_class.svg', 'validation_curves.svg']) {
      const text = fs.readFileSync(path.join(outDir, svg), 'utf8');
      expect(text.startsWith('<?xml')).toBe(true);
      expect(text.trimEnd().endsWith('</svg>')).toBe(true);
      expect(text).not.toMatch(/NaN|undefined/);
    }
    expect(report.files.map((f) => path.basename(f))).toEqual(['report.json', 'REPORT.md', 'recall_per_class.svg',
                                                                'validation_curves.svg']);
  });
});

describe('tasks and inputs', () => {
  it('detects binary (one output, 0/1 labels) and multi-label (0/1 matrix) tasks and reports AP and mAP', async () => {
    const {x, y} = keep(blobs([60, 60, 60, 60], 8));
    const classes = y.dataSync();
    // Label 0: the point is right of x = 1; label 1: above y = 1 (several 1s per row: multi-label).
    const multi = tf.tensor2d(Array.from(classes).flatMap((c) => [c % 2, c >= 2 ? 1 : 0]), [classes.length, 2]);
    const binary = tf.tensor1d(Array.from(classes).map((c) => c % 2), 'float32');
    tensors.push(multi, binary);
    const multiReport = await compareLosses({...QUICK, seeds: 2, epochs: 3, model: () => mlp(2), data: {x, y: multi}});
    expect(multiReport.task).toBe('multi-label');
    expect(multiReport.split).toMatch(/^iteratively stratified 0.2 of options.data \(48 rows held out, fixed seed\)$/);
    expect(multiReport.primaryMetric).toBe('meanAveragePrecision');
    expect(multiReport.summaries.map((s) => s.name)).toEqual(['binary cross-entropy', 'focal γ 2 α 0.25', 'asymmetric', 'Poly-1 BCE']);
    for (const s of multiReport.summaries) {
      expect(s.metrics.meanAveragePrecision!.mean).toBeGreaterThan(0.7);
      expect(s.averagePrecisionPerClass).toHaveLength(2);
    }
    const binaryReport = await compareLosses({...QUICK, seeds: 2, epochs: 2, model: () => mlp(1), data: {x, y: binary},
                                              contenders: []});
    expect([binaryReport.task, binaryReport.classes]).toEqual(['multi-label', 1]);
    expect(binaryReport.summaries[0].metrics.meanAveragePrecision!.mean).toBeGreaterThan(0.8);
  });

  it('takes one-hot labels and a tf.data.Dataset, batched or not, with the same result as the tensors', async () => {
    const {x, y} = keep(blobs([50, 30, 20], 9));
    const oneHot = tf.oneHot(y, 3);
    tensors.push(oneHot);
    const common = {...QUICK, seeds: 2, epochs: 2, model: () => mlp(3), contenders: [{gamma: 1}]};
    const fromTensors = await compareLosses({...common, data: {x, y}});
    const fromOneHot = await compareLosses({...common, data: {x, y: oneHot}});
    const before = tf.memory().numTensors;
    const fromDataset = await compareLosses({...common, data: tf.data.zip({xs: tf.data.array(x.arraySync() as number[][]),
                                                                          ys: tf.data.array(Array.from(y.dataSync()))})
                                                           .batch(16) as never});
    expect(tf.memory().numTensors).toBe(before);
    expect(fromOneHot.runs.map((r) => r.final)).toEqual(fromTensors.runs.map((r) => r.final));
    expect(fromDataset.trainRows).toBe(fromTensors.trainRows);
    expect(fromDataset.runs.map((r) => r.final)).toEqual(fromTensors.runs.map((r) => r.final));
    // Unbatched: one example per element, stacked into the same tensors: plain arrays {xs: number[],
    // ys: number} as tf.data.array gives them before .batch(), or tensors {xs [2], ys []}.
    const rows = x.arraySync() as number[][];
    const labels = Array.from(y.dataSync());
    const unbatched = (keep: (i: number) => boolean) => tf.data.zip({xs: tf.data.array(rows.filter((_, i) => keep(i))),
                                                                     ys: tf.data.array(labels.filter((_, i) => keep(i)))});
    const all = () => true;
    const unbatchedTensors = unbatched(all).map(
        (e) => ({xs: tf.tensor1d((e as {xs: number[]}).xs), ys: tf.scalar((e as {ys: number}).ys)}));
    for (const data of [unbatched(all), unbatchedTensors]) {
      const tensorsBefore = tf.memory().numTensors;
      const fromUnbatched = await compareLosses({...common, data: data as never});
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(fromUnbatched.trainRows).toBe(fromTensors.trainRows);
      expect(fromUnbatched.split).toBe(fromTensors.split);
      expect(fromUnbatched.runs.map((r) => r.final)).toEqual(fromTensors.runs.map((r) => r.final));
    }
    // A given held-out split (every fifth row), as tensors and as unbatched Datasets.
    const isHeld = (i: number) => i % 5 === 0;
    const part = (keep: (i: number) => boolean) => {
      const index = tf.tensor1d(labels.map((_, i) => i).filter(keep), 'int32');
      const tensorsOfPart = {x: tf.gather(x, index), y: tf.gather(y, index)};
      index.dispose();
      tensors.push(tensorsOfPart.x, tensorsOfPart.y);
      return tensorsOfPart;
    };
    const fromGivenTensors = await compareLosses({...common, data: part((i) => !isHeld(i)), validation: part(isHeld)});
    const fromGivenDatasets = await compareLosses({...common, data: unbatched((i) => !isHeld(i)) as never,
                                                   validation: unbatched(isHeld) as never});
    expect(fromGivenDatasets.split).toBe('given (options.validation, 20 rows)');
    expect(fromGivenDatasets.runs.map((r) => r.final)).toEqual(fromGivenTensors.runs.map((r) => r.final));
  });
});

describe('bad input: a clear error naming the argument, no tensor left behind', () => {
  const x = tf.tensor2d([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
  const y = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
  afterAll(() => tf.dispose([x, y]));

  async function expectError(options: Partial<CompareOptions>, message: string | RegExp): Promise<void> {
    const before = tf.memory().numTensors;
    await expect(compareLosses({...QUICK, seeds: 1, epochs: 1, model: () => mlp(3), data: {x, y}, ...options}))
        .rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  }

  it('x and y of different lengths', () => expectError({data: {x, y: tf.tensor1d([0, 1, 2], 'int32')}},
      'compareLosses: options.data: x has 6 rows but y has 3; give one label row per feature row'));
  it('labels out of range', () => expectError({data: {x, y: tf.tensor1d([0, 1, 3, 0, 1, 2], 'int32')}},
      'compareLosses: options.data.y: label 3 at row 2; class indices must be integers in [0, 3) (the model\'s output has 3 units)'));
  it('non-integer labels', () => expectError({data: {x, y: tf.tensor1d([0, 1, 1.5, 0, 1, 2])}},
      /options.data.y: label 1.5 at row 2; class indices must be integers/));
  it('a model whose output width does not match the classes', () => expectError({data: {x, y: tf.oneHot(y, 4)}},
      'compareLosses: the model\'s output has 3 units but options.data.y has 4 columns (classes); make the last layer as wide as the label columns'));
  it('NaN features', () => expectError({data: {x: tf.tensor2d([[0, 0], [1, NaN], [2, 2], [3, 3], [4, 4], [5, 5]]), y}},
      'compareLosses: options.data.x: NaN at row 1, feature 1; the features must be finite numbers (fill or drop missing values first)'));
  it('a class absent from the training split when a contender needs counts', () => expectError(
      {data: {x, y: tf.tensor1d([0, 1, 0, 0, 1, 1], 'int32')}, validation: {x, y}, contenders: [{gamma: 0, tau: 1}],
       classNames: ['cat', 'dog', 'bird']},
      "compareLosses: class 2 ('bird') has no row in the training split; contender 'logit-adjusted CE τ 1' needs every class's training count"));
  it('a factory that returns the same model twice', async () => {
    const before = tf.memory().numTensors;
    await expect(compareLosses({...QUICK, seeds: 2, epochs: 1, model: (() => {
      const model = mlp(3);
      return () => model;
    })(), data: {x, y}, contenders: []})).rejects.toThrow(
        /options.model returned the same model instance twice \(contender 'cross-entropy', seed 2\); the factory must build a new model on every call/);
    // The one model was trained (and disposed) once.
    expect(tf.memory().numTensors).toBe(before);
  });
  it('a model with a softmax output, or not a model', async () => {
    await expectError({model: () => mlp(3, 2, 'softmax')}, /the last layer applies 'softmax'; the losses take logits/);
    await expectError({model: (() => ({})) as never}, /options.model returned object for contender '\(baseline\)', seed 1; it must return a new tf.LayersModel/);
  });
  it('bad settings', async () => {
    await expectError({seeds: 0}, 'compareLosses: options.seeds: expected an integer >= 1; received 0');
    await expectError({epochs: 1.5}, 'compareLosses: options.epochs: expected an integer >= 1; received 1.5');
    await expectError({batchSize: -1}, 'compareLosses: options.batchSize: expected an integer >= 1; received -1');
    await expectError({validationSplit: 1}, 'compareLosses: options.validationSplit: expected a fraction in (0, 1); received 1');
    await expectError({validation: {x, y}, validationSplit: 0.2}, /give one of them, not both/);
    await expectError({data: undefined}, /options.data: missing; give \{x, y\} tensors or a tf.data.Dataset/);
    await expectError({optimizer: (() => 'adam') as never}, /options.optimizer: expected a function returning a tf.Optimizer/);
  });
  it('a Dataset whose elements are not tensors or numbers, or do not join', async () => {
    const ragged = tf.data.zip({xs: tf.data.array([[0, 0], [1, 1, 1], [2, 2]]), ys: tf.data.array([0, 1, 2])});
    await expectError({data: ragged as never}, /options.data: the Dataset's elements do not join into one tensor/);
    const words = tf.data.zip({xs: tf.data.array(['a', 'b']), ys: tf.data.array([0, 1])});
    await expectError({data: words as never}, /options.data: the Dataset must yield at least one element \{xs, ys\} of tensors, numbers/);
  });

  it('a loss that does not return a scalar', () => expectError(
      {contenders: [{name: 'rows', loss: (labels, logits) => tf.sum(logits, -1) as tf.Scalar}]},
      "compareLosses: contender 'rows': its loss returned a tensor of shape [3]; a loss must return a scalar tensor"));
});
