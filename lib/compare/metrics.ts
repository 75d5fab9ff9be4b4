// Held-out metrics of one trained model, computed in float64 from its logits (plain arrays, no
// tensors): single-label (softmax) and binary / multi-label (sigmoid).
import {mean} from './stats';

/** Equal-width confidence bins of the expected calibration error (Guo et al. 2017 use 15). */
export const ECE_BINS = 15;

export interface Metrics {
  /** Single-label: share of rows whose arg-max is the label. Multi-label: share of correct 0/1 entries at 0.5. */
  accuracy: number;
  /** Mean over classes (labels) present in the held-out split of their recall (multi-label: (TPR + TNR) / 2). */
  balancedAccuracy: number;
  /** Mean F1 over the classes that occur in the held-out split or are predicted (F1 = 2TP / (2TP + FP + FN)). */
  macroF1: number;
  /** Mean recall of the rare classes (the report names them). */
  rareRecall: number;
  /** Expected calibration error: top-label confidence (multi-label: each entry's probability), ECE_BINS bins. */
  ece: number;
  recallPerClass: number[];
  precisionPerClass: number[];
  f1PerClass: number[];
  /** Binary / multi-label only: average precision per label (NaN for a label without positives) and their mean. */
  averagePrecisionPerClass?: number[];
  meanAveragePrecision?: number;
}

/** The scalar metrics a report summarises over seeds and compares with cross-entropy. */
export const SCALAR_METRICS = ['macroF1', 'balancedAccuracy', 'accuracy', 'rareRecall', 'ece', 'meanAveragePrecision'] as const;
export type MetricId = typeof SCALAR_METRICS[number];
export const METRIC_LABELS: Record<MetricId, string> = {
  accuracy: 'accuracy', macroF1: 'macro-F1', balancedAccuracy: 'balanced accuracy', rareRecall: 'rare-class recall',
  ece: 'ECE', meanAveragePrecision: 'mAP',
};
/** Lower is better for these; higher for the rest. */
export const LOWER_IS_BETTER: ReadonlySet<MetricId> = new Set<MetricId>(['ece']);

/** Recall, precision and F1 of one class from its counts; NaN where the ratio has no denominator. */
function classScores(truePositive: number, actual: number, predicted: number): [number, number, number] {
  const f1Denominator = actual + predicted;
  return [actual > 0 ? truePositive / actual : NaN, predicted > 0 ? truePositive / predicted : NaN,
          // F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (actual + predicted); NaN when the class neither occurs nor is predicted.
          f1Denominator > 0 ? 2 * truePositive / f1Denominator : NaN];
}

function present(values: number[]): number[] {
  return values.filter((v) => !Number.isNaN(v));
}

/**
 * Expected calibration error: the rows binned by confidence into `bins` equal-width bins of (0, 1]
 * (a confidence of exactly 0 goes to the first), ECE = Σ_b |B_b| / n · |accuracy(B_b) − confidence(B_b)|.
 */
export function expectedCalibrationError(confidence: ArrayLike<number>, correct: ArrayLike<boolean | number>,
                                         bins = ECE_BINS): number {
  const count = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  const confidenceSum = new Array<number>(bins).fill(0);
  for (let i = 0; i < confidence.length; i++) {
    const bin = Math.min(bins - 1, Math.max(0, Math.ceil(confidence[i] * bins) - 1));
    count[bin]++;
    hits[bin] += correct[i] ? 1 : 0;
    confidenceSum[bin] += confidence[i];
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b] > 0) {
      ece += Math.abs(hits[b] - confidenceSum[b]) / confidence.length;
    }
  }
  return ece;
}

/**
 * Average precision (area under the precision-recall curve, the step form of scikit-learn's
 * average_precision_score): AP = Σ_k (R_k − R_{k−1}) P_k over the distinct scores, highest first, so
 * tied scores enter together. NaN when there is no positive.
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  const order = Array.from({length: scores.length}, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < positive.length; i++) {
    positives += positive[i] ? 1 : 0;
  }
  if (positives === 0) {
    return NaN;
  }
  let ap = 0;
  let truePositive = 0;
  let seen = 0;
  let previousRecall = 0;
  for (let k = 0; k < order.length;) {
    const score = scores[order[k]];
    for (; k < order.length && scores[order[k]] === score; k++) {
      truePositive += positive[order[k]] ? 1 : 0;
      seen++;
    }
    const recall = truePositive / positives;
    ap += (recall - previousRecall) * (truePositive / seen);
    previousRecall = recall;
  }
  return ap;
}

/**
 * Single-label metrics from logits [rows, classes] (row-major) and class indices. The predicted
 * class is the arg-max of the logits (the first on ties); the confidence is its softmax probability.
 */
export function singleLabelMetrics(logits: ArrayLike<number>, truth: ArrayLike<number>, classes: number,
                                   rareClasses: readonly number[]): Metrics {
  const rows = truth.length;
  const truePositive = new Array<number>(classes).fill(0);
  const actual = new Array<number>(classes).fill(0);
  const predictedCount = new Array<number>(classes).fill(0);
  const confidence = new Float64Array(rows);
  const correct = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (logits[i * classes + c] > logits[i * classes + best]) {
        best = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      sum += Math.exp(logits[i * classes + c] - logits[i * classes + best]);
    }
    confidence[i] = 1 / sum;
    actual[truth[i]]++;
    predictedCount[best]++;
    if (best === truth[i]) {
      truePositive[best]++;
      correct[i] = 1;
    }
  }
  const scores = truePositive.map((tp, c) => classScores(tp, actual[c], predictedCount[c]));
  const recallPerClass = scores.map((s) => s[0]);
  return {
    accuracy: correct.reduce((a, b) => a + b, 0) / rows,
    balancedAccuracy: mean(present(recallPerClass)),
    macroF1: mean(present(scores.map((s) => s[2]))),
    rareRecall: mean(rareClasses.map((c) => recallPerClass[c])),
    ece: expectedCalibrationError(confidence, correct),
    recallPerClass, precisionPerClass: scores.map((s) => s[1]), f1PerClass: scores.map((s) => s[2]),
  };
}

/**
 * Binary / multi-label metrics from logits and 0/1 targets, both [rows, labels] row-major: each
 * entry is predicted positive when its sigmoid probability is above 0.5 (logit > 0). Per label:
 * recall, precision, F1 and average precision; balanced accuracy is the mean over labels of
 * (true-positive rate + true-negative rate) / 2.
 */
export function multiLabelMetrics(logits: ArrayLike<number>, targets: ArrayLike<number>, labels: number,
                                  rareClasses: readonly number[]): Metrics {
  const rows = targets.length / labels;
  const probability = new Float64Array(targets.length);
  const correct = new Uint8Array(targets.length);
  const truePositive = new Array<number>(labels).fill(0);
  const actual = new Array<number>(labels).fill(0);
  const predictedCount = new Array<number>(labels).fill(0);
  const trueNegative = new Array<number>(labels).fill(0);
  for (let i = 0; i < targets.length; i++) {
    const c = i % labels;
    probability[i] = 1 / (1 + Math.exp(-logits[i]));
    const predicted = logits[i] > 0;
    const positive = targets[i] > 0.5;
    actual[c] += positive ? 1 : 0;
    predictedCount[c] += predicted ? 1 : 0;
    truePositive[c] += predicted && positive ? 1 : 0;
    trueNegative[c] += !predicted && !positive ? 1 : 0;
    correct[i] = predicted === positive ? 1 : 0;
  }
  const scores = truePositive.map((tp, c) => classScores(tp, actual[c], predictedCount[c]));
  const recallPerClass = scores.map((s) => s[0]);
  const balanced = recallPerClass.map((recall, c) => {
    const negatives = rows - actual[c];
    const specificity = negatives > 0 ? trueNegative[c] / negatives : NaN;
    return mean(present([recall, specificity]));
  });
  const averagePrecisionPerClass = Array.from({length: labels}, (_, c) => {
    const column = Array.from({length: rows}, (_, r) => probability[r * labels + c]);
    const positive = Array.from({length: rows}, (_, r) => targets[r * labels + c] > 0.5);
    return averagePrecision(column, positive);
  });
  // The confidence of an entry is the probability of what it predicts; correct when that is the target.
  const confidence = probability.map((p) => Math.max(p, 1 - p));
  return {
    accuracy: correct.reduce((a, b) => a + b, 0) / targets.length,
    balancedAccuracy: mean(present(balanced)),
    macroF1: mean(present(scores.map((s) => s[2]))),
    rareRecall: mean(rareClasses.map((c) => recallPerClass[c])),
    ece: expectedCalibrationError(confidence, correct),
    recallPerClass, precisionPerClass: scores.map((s) => s[1]), f1PerClass: scores.map((s) => s[2]),
    averagePrecisionPerClass, meanAveragePrecision: mean(present(averagePrecisionPerClass)),
  };
}
