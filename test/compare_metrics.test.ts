// The comparison's pieces that need no training, against hand-computed cases: every metric (ECE,
// average precision with ties, macro-F1 with an empty class, multi-label), the verdicts, the
// recommendation, the stratified split, the contender grids and the progress line. Plain JS
// arithmetic: the same on every backend.
import {expandContender, resolveContenders} from '../lib/compare/contenders';
import {classCounts, stratifiedSplit} from '../lib/compare/data';
import {SeededRandom} from '../lib/compare/stats';
import {averagePrecision, expectedCalibrationError, multiLabelMetrics, singleLabelMetrics} from '../lib/compare/metrics';
import {progressBar, progressLine} from '../lib/compare/progress';
import {metricSummary, pairedComparison} from '../lib/compare/verdict';
import {recommend} from '../lib/compare';
import {reachable} from './import_graph';

/** Logits whose arg-max is `predicted` and whose top softmax probability is `confidence` (3 classes). */
function logitsFor(predicted: number[], classes: number, confidence = 0.5): number[] {
  // p_top = e^a / (e^a + (C-1)) = confidence  =>  a = ln(confidence (C-1) / (1 - confidence)).
  const top = Math.log(confidence * (classes - 1) / (1 - confidence));
  return predicted.flatMap((p) => Array.from({length: classes}, (_, c) => (c === p ? top : 0)));
}

describe('expected calibration error', () => {
  it('weights each bin\'s |accuracy − confidence| by its share of the rows', () => {
    // 5 bins of width 0.2: 0.95 and 0.9 -> bin 4 (acc 1/2, conf 0.925), 0.55 -> bin 2, 0.15 -> bin 0.
    // ECE = 2/4 |0.5 − 0.925| + 1/4 |1 − 0.55| + 1/4 |0 − 0.15| = 0.2125 + 0.1125 + 0.0375.
    expect(expectedCalibrationError([0.95, 0.9, 0.55, 0.15], [1, 0, 1, 0], 5)).toBeCloseTo(0.3625, 12);
  });

  it('puts a confidence on a bin edge into the lower bin (bins (a, b]) and 0 into the first', () => {
    // 0.4 is in (0.2, 0.4] with 0.3: acc 1/2, conf 0.35 -> 2/3 |0.5 − 0.35|; 0 alone in bin 0 -> 1/3 |1 − 0|.
    expect(expectedCalibrationError([0.4, 0.3, 0], [1, 0, 1], 5)).toBeCloseTo(2 / 3 * 0.15 + 1 / 3, 12);
  });

  it('is 0 for a perfectly calibrated bin and uses the softmax confidence of the arg-max', () => {
    expect(expectedCalibrationError([0.5, 0.5], [1, 0])).toBe(0);
    // Two rows, confidence 0.75 each (logits [ln 3, 0] over 2 classes), one right: ECE = |0.5 − 0.75|.
    const m = singleLabelMetrics([Math.log(3), 0, Math.log(3), 0], [0, 1], 2, [1]);
    expect(m.ece).toBeCloseTo(0.25, 12);
  });
});

describe('average precision', () => {
  it('enters tied scores together (scikit-learn average_precision_score)', () => {
    // Thresholds 0.9 (R 1/2, P 1), 0.8 (both tied rows: R 1, P 2/3), 0.3: AP = 1/2 + 1/2 · 2/3.
    // Taking the tied positive first would give 1.
    expect(averagePrecision([0.9, 0.8, 0.8, 0.3], [1, 1, 0, 0])).toBeCloseTo(0.5 + 1 / 3, 12);
  });

  it('is 1 for a perfect ranking, NaN without positives, and the step sum otherwise', () => {
    expect(averagePrecision([0.1, 0.9, 0.8], [0, 1, 1])).toBe(1);
    expect(averagePrecision([0.1, 0.9], [0, 0])).toBeNaN();
    // Ranking: + - + -: 1/2 · 1 + 1/2 · 2/3.
    expect(averagePrecision([0.9, 0.7, 0.5, 0.3], [1, 0, 1, 0])).toBeCloseTo(0.5 + 1 / 3, 12);
  });
});

describe('single-label metrics', () => {
  it('computes accuracy, recall, precision, F1, balanced accuracy and rare recall', () => {
    const m = singleLabelMetrics(logitsFor([0, 0, 1, 0, 2, 1], 3), [0, 0, 1, 1, 2, 2], 3, [2]);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.recallPerClass).toEqual([1, 0.5, 0.5]);
    expect(m.precisionPerClass).toEqual([2 / 3, 0.5, 1]);
    expect(m.balancedAccuracy).toBeCloseTo(2 / 3, 12);
    expect(m.rareRecall).toBe(0.5);
    // F1: class 0: 2·2/(2+3) = 0.8; class 1: 2·1/(2+2) = 0.5; class 2: 2·1/(2+1) = 2/3.
    expect(m.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
  });

  it('leaves a class that neither occurs nor is predicted out of macro-F1, and counts one predicted but absent as 0', () => {
    const empty = singleLabelMetrics(logitsFor([0, 1, 1, 1], 3), [0, 0, 1, 1], 3, [0]);
    expect(empty.f1PerClass[2]).toBeNaN();
    expect(empty.recallPerClass[2]).toBeNaN();
    expect(empty.macroF1).toBeCloseTo((2 / 3 + 4 / 5) / 2, 12);
    expect(empty.balancedAccuracy).toBeCloseTo((0.5 + 1) / 2, 12);
    const predictedOnly = singleLabelMetrics(logitsFor([0, 1, 2, 1], 3), [0, 0, 1, 1], 3, [0]);
    expect(predictedOnly.f1PerClass[2]).toBe(0);
    expect(predictedOnly.precisionPerClass[2]).toBe(0);
    // class 0: TP 1, actual 2, predicted 1 -> 2/3; class 1: TP 1, 2, 2 -> 1/2; class 2: 0.
    expect(predictedOnly.macroF1).toBeCloseTo((2 / 3 + 1 / 2 + 0) / 3, 12);
  });

  it('takes the first class on tied logits', () => {
    expect(singleLabelMetrics([1, 1, 0], [1], 3, [1]).accuracy).toBe(0);
  });
});

describe('multi-label metrics', () => {
  it('thresholds at probability 0.5 and computes per-label scores, AP and mAP', () => {
    // Rows x labels (2 labels); logits > 0 are predicted positive.
    const logits = [2, -1, /**/ 1, 0.5, /**/ -2, 3, /**/ -0.5, -3];
    const targets = [1, 0, /**/ 0, 1, /**/ 0, 1, /**/ 1, 0];
    const m = multiLabelMetrics(logits, targets, 2, [0]);
    // Label 0: predicted + on rows 0, 1; positives rows 0, 3 -> TP 1, recall 1/2, precision 1/2, TN 1 of 2.
    // Label 1: predicted + on rows 1, 2; positives rows 1, 2 -> all right.
    expect(m.accuracy).toBeCloseTo(6 / 8, 12);
    expect(m.recallPerClass).toEqual([0.5, 1]);
    expect(m.precisionPerClass).toEqual([0.5, 1]);
    expect(m.macroF1).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(m.balancedAccuracy).toBeCloseTo(((0.5 + 0.5) / 2 + 1) / 2, 12);
    expect(m.rareRecall).toBe(0.5);
    // Label 0 ranks its rows 0 (+), 1 (−), 3 (+), 2 (−): AP = 1/2 · 1 + 1/2 · 2/3; label 1 ranks perfectly.
    expect(m.averagePrecisionPerClass![0]).toBeCloseTo(0.5 + 1 / 3, 12);
    expect(m.averagePrecisionPerClass![1]).toBe(1);
    expect(m.meanAveragePrecision).toBeCloseTo((0.5 + 1 / 3 + 1) / 2, 12);
    // ECE over the 8 entries with the probability of what each predicts.
    const p = logits.map((z) => 1 / (1 + Math.exp(-z)));
    const confidence = p.map((x) => Math.max(x, 1 - x));
    const correct = logits.map((z, i) => (z > 0) === (targets[i] === 1));
    expect(m.ece).toBeCloseTo(expectedCalibrationError(confidence, correct), 12);
  });
});

describe('verdicts and the recommendation', () => {
  const summary = (values: number[]) => metricSummary(values);

  it('says "beyond the spread" only when the seed ranges do not overlap', () => {
    const beyond = pairedComparison('macroF1', 'a', summary([0.8, 0.82, 0.81]), 'ce', summary([0.7, 0.72, 0.71]));
    expect(beyond.exceedsSpread).toBe(true);
    expect(beyond.verdict).toBe('higher on every seed and beyond the seed-to-seed spread');
    expect(beyond.pairedDifferences.map((d) => Number(d.toFixed(12)))).toEqual([0.1, 0.1, 0.1]);
    const within = pairedComparison('macroF1', 'a', summary([0.71, 0.75, 0.73]), 'ce', summary([0.7, 0.74, 0.72]));
    expect(within.exceedsSpread).toBe(false);
    expect(within.verdict).toBe('within the seed-to-seed spread (no difference shown); higher on all 3 paired seeds');
    expect(pairedComparison('macroF1', 'a', summary([0.69, 0.73]), 'ce', summary([0.7, 0.74])).verdict)
        .toBe('within the seed-to-seed spread (no difference shown); lower on both paired seeds');
    expect(pairedComparison('macroF1', 'a', summary([0.71, 0.73]), 'ce', summary([0.7, 0.74])).verdict)
        .toBe('within the seed-to-seed spread (no difference shown)');
    expect(pairedComparison('accuracy', 'a', summary([0.5]), 'ce', summary([0.4])).verdict)
        .toBe('one seed: spread not measured, no conclusion');
  });

  it('recommends the best contender beyond the spread, or says plainly that nothing beats cross-entropy', () => {
    const ce = summary([0.7, 0.72, 0.71]);
    const comparisons = [
      pairedComparison('macroF1' as const, 'small', summary([0.75, 0.76, 0.77]), 'cross-entropy', ce),
      pairedComparison('macroF1' as const, 'large', summary([0.8, 0.82, 0.81]), 'cross-entropy', ce),
      pairedComparison('accuracy' as const, 'large', summary([0.6, 0.61, 0.6]), 'cross-entropy', ce),
      pairedComparison('macroF1' as const, 'noise', summary([0.69, 0.73, 0.7]), 'cross-entropy', ce),
    ];
    expect(recommend(comparisons, 'macroF1', 'cross-entropy', 3)).toBe(
        'Use **large**: macro-F1 +10.0 points over cross-entropy, higher on every seed and beyond the seed-to-seed ' +
        'spread; it costs accuracy −10.7 points (also beyond the spread). Also beyond the spread: small (+5.0).');
    expect(recommend(comparisons.slice(3), 'macroF1', 'cross-entropy', 3)).toMatch(
        /^Nothing beats cross-entropy beyond the seed-to-seed spread on macro-F1 \(3 seeds\): keep cross-entropy/);
    expect(recommend(comparisons, 'macroF1', 'cross-entropy', 1)).toMatch(/^One seed only/);
  });
});

describe('the held-out split', () => {
  it('holds out the fraction of every class (at least one of a class with two rows), the same every time', () => {
    const labels = Int32Array.from([...Array(50).fill(0), ...Array(10).fill(1), 2, 2, 3]);
    const split = stratifiedSplit(labels, 'single-label', 4, 0.2);
    const held = classCounts(Int32Array.from(split.test.map((i) => labels[i])), 'single-label', 4);
    expect(held).toEqual([10, 2, 1, 0]);
    expect([...split.train, ...split.test].sort((a, b) => a - b)).toEqual(Array.from({length: labels.length}, (_, i) => i));
    expect(stratifiedSplit(labels, 'single-label', 4, 0.2)).toEqual(split);
  });

  /** Row-major 0/1 rows [rows, classes] from each row's positive labels. */
  const multiHot = (rows: number[][], classes: number) =>
      Float32Array.from(rows.flatMap((positives) => Array.from({length: classes}, (_, c) => (positives.includes(c) ? 1 : 0))));
  const heldPositives = (labels: Float32Array, classes: number, rows: number[]) =>
      Array.from({length: classes}, (_, c) => rows.filter((r) => labels[r * classes + c] === 1).length);

  it('stratifies multi-label data by label, rarest first: every label with two positives or more in both splits', () => {
    // 300 rows, 8 labels from common (p 0.4) to rare (p 0.01), co-occurring at random, many rows with no
    // positive; then labels 8-10 with exactly 2, 2 and 3 positives on rows that also carry common labels.
    const random = new SeededRandom(5);
    const rates = [0.4, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01];
    const rows = Array.from({length: 300}, () => rates.map((p, c) => (random.next() < p ? c : -1)).filter((c) => c >= 0));
    [[8, 3], [8, 17], [9, 40], [9, 41], [10, 7], [10, 99], [10, 250]].forEach(([c, r]) => rows[r].push(c));
    const classes = 11;
    const labels = multiHot(rows, classes);
    const totals = heldPositives(labels, classes, rows.map((_, r) => r));
    expect(totals.slice(8)).toEqual([2, 2, 3]);
    for (const fraction of [0.2, 0.5]) {
      for (const seed of [0, 1, 2]) {
        const split = stratifiedSplit(labels, 'multi-label', classes, fraction, seed);
        expect([...split.train, ...split.test].sort((a, b) => a - b)).toEqual(rows.map((_, r) => r));
        const held = heldPositives(labels, classes, split.test);
        totals.forEach((n, c) => {
          if (n >= 2) {
            expect({label: c, held: held[c] > 0, kept: held[c] < n}).toEqual({label: c, held: true, kept: true});
          }
          // Each label's share held out is close to the fraction (within 2 rows or 10% of its positives).
          expect(Math.abs(held[c] - fraction * n)).toBeLessThanOrEqual(Math.max(2, 0.1 * n));
        });
        expect(Math.abs(split.test.length - fraction * rows.length)).toBeLessThanOrEqual(3);
      }
    }
    // Deterministic under a seed; another seed draws another split.
    expect(stratifiedSplit(labels, 'multi-label', classes, 0.2, 1)).toEqual(stratifiedSplit(labels, 'multi-label', classes, 0.2, 1));
    expect(stratifiedSplit(labels, 'multi-label', classes, 0.2, 1).test)
        .not.toEqual(stratifiedSplit(labels, 'multi-label', classes, 0.2, 2).test);
  });

  it('stratifies binary labels: the positives and the negatives each held out by the fraction', () => {
    const labels = Float32Array.from({length: 200}, (_, r) => (r % 20 === 3 ? 1 : 0));   // 10 positives
    for (let seed = 0; seed < 6; seed++) {
      const split = stratifiedSplit(labels, 'multi-label', 1, 0.2, seed);
      expect(heldPositives(labels, 1, split.test)).toEqual([2]);
      expect(split.test).toHaveLength(40);
    }
    // A single positive stays in training (it cannot be in both).
    const one = Float32Array.from({length: 20}, (_, r) => (r === 5 ? 1 : 0));
    expect(stratifiedSplit(one, 'multi-label', 1, 0.25).train).toContain(5);
  });

  it('moves a row between the splits when the rarest-first pass leaves a label in one of them', () => {
    // Label 2 has two positives, rows 0 and 1; each also has a label of its own (0, 1) with a single
    // positive, which the first pass places first, in training (a single positive is never held out).
    const labels = multiHot([[0, 2], [1, 2], [], [], [], [], [], []], 3);
    const split = stratifiedSplit(labels, 'multi-label', 3, 0.25);
    expect(heldPositives(labels, 3, split.test)[2]).toBe(1);
    expect(split.test).toHaveLength(2);
    // No split puts each of three labels {a, b}, {b, c}, {a, c} in both: the best one is still a partition.
    const triangle = multiHot([[0, 2], [0, 1], [1, 2]], 3);
    const best = stratifiedSplit(triangle, 'multi-label', 3, 0.5);
    expect([...best.train, ...best.test].sort()).toEqual([0, 1, 2]);
    expect(heldPositives(triangle, 3, best.test).filter((n) => n === 1)).toHaveLength(2);
  });

  it('counts positives per label for multi-label data', () => {
    expect(classCounts(Float32Array.from([1, 0, 1, 1, 0, 0]), 'multi-label', 2)).toEqual([2, 1]);
  });
});

describe('contenders', () => {
  it('expands a grid into one named contender per point, with alpha 1 by default for softmax', () => {
    const grid = expandContender({gamma: [0.5, 1, 2]}, 'single-label', 0);
    expect(grid.map((c) => c.name)).toEqual(['focal γ 0.5', 'focal γ 1', 'focal γ 2']);
    expect(grid[0].description).toBe('focalLoss({"gamma":0.5,"polyEpsilon":0,"labelSmoothing":0, "alpha": 1})');
    expect(expandContender({gamma: 2, tau: [1, 0.5]}, 'single-label', 0).map((c) => [c.name, c.needsCounts]))
        .toEqual([['logit-adjusted focal γ 2 τ 1', true], ['logit-adjusted focal γ 2 τ 0.5', true]]);
    expect(expandContender({name: 'mine', gamma: 1}, 'single-label', 0)[0].name).toBe('mine');
    expect(expandContender({alpha: [0.25, 0.5]}, 'multi-label', 0).map((c) => c.name))
        .toEqual(['focal γ 2 α 0.25', 'focal γ 2 α 0.5']);
  });

  it('has defaults per task, the baseline first', () => {
    expect(resolveContenders(undefined, 'single-label').map((c) => c.name)).toEqual([
      'cross-entropy', 'focal γ 1', 'focal γ 2', 'class-balanced CE', 'class-balanced focal γ 2',
      'logit-adjusted CE τ 1', 'logit-adjusted CE τ 0.5', 'logit-adjusted focal γ 2 τ 1', 'Poly-1 CE']);
    expect(resolveContenders(undefined, 'multi-label').map((c) => c.name)).toEqual([
      'binary cross-entropy', 'focal γ 2 α 0.25', 'asymmetric', 'Poly-1 BCE']);
  });

  it('names the bad spec in its errors', () => {
    expect(() => expandContender({gamma: 'x'} as never, 'single-label', 2)).toThrow(
        'compareLosses: options.contenders[2].gamma: expected a finite number or a non-empty array of them; received "x"');
    expect(() => expandContender({gama: 1} as never, 'single-label', 0)).toThrow(
        /options.contenders\[0\]: unknown key 'gama'/);
    expect(() => expandContender({tau: 1}, 'multi-label', 1)).toThrow(
        /options.contenders\[1\]: classBalanced and tau are for single-label/);
    expect(() => expandContender({name: '', loss: () => null} as never, 'single-label', 0)).toThrow(
        /a custom contender needs a non-empty string 'name'/);
    expect(() => resolveContenders([{name: 'cross-entropy', loss: (() => 0) as never}], 'single-label')).toThrow(
        "compareLosses: options.contenders: two contenders are named 'cross-entropy' (the baseline is always included)");
  });
});

describe('progress', () => {
  it('shows the contender, seed, epoch, elapsed time and the estimate of what remains', () => {
    const event = {contender: 'focal γ 2', seed: 2, epoch: 3, epochs: 10, done: 13, total: 40, elapsedSeconds: 26,
                   remainingSeconds: 54};
    expect(progressLine(event)).toBe('focal γ 2, seed 2: epoch 3/10; 13/40 epochs in all, 26 s elapsed, about 54 s left');
    expect(progressBar(event, 8)).toBe(`[###.....] ${progressLine(event)}`);
    expect(progressLine({...event, elapsedSeconds: 3725, remainingSeconds: 61})).toMatch(/1 h 2 min elapsed, about 1 min 1 s left/);
  });
});

describe('layering', () => {
  it('keeps lib/compare out of the main import, and lib/compare on the public API only', () => {
    const main = [...reachable('lib/index.ts')];
    expect(main.filter((f) => f.includes(`${require('path').sep}compare${require('path').sep}`))).toEqual([]);
    const compareImports = [...reachable('lib/compare/index.ts'), ...reachable('lib/compare/cli.ts')]
        .filter((f) => !f.includes(`${require('path').sep}compare${require('path').sep}`));
    // Outside lib/compare it reaches lib/index.ts and what that imports, nothing else.
    expect(compareImports.every((f) => main.includes(f))).toBe(true);
    expect(compareImports).toContain(require('path').resolve(__dirname, '..', 'lib', 'index.ts'));
  });
});
