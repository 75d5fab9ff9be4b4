// Detection metrics in plain JS: IoU, greedy non-maximum suppression, and average precision at an
// IoU threshold with all-point interpolation (PASCAL VOC 2010 and later).
//
// Matching, per class and image, follows VOC: detections are taken in decreasing score; each is a
// true positive when its best-overlapping ground truth of the class has IoU >= threshold and was not
// matched by a higher-scored detection, otherwise a false positive (a duplicate of a matched object
// is a false positive). AP is the area under the precision-recall curve after replacing each
// precision by the largest precision at any higher recall. COCO's AP50 uses the same threshold with
// 101 recall points, which differs from all-point AP by at most about 1/101 per step.
import {Box} from './data';

export interface Detection extends Box {
  image: number;
  label: number;
  score: number;
}

export interface ClassAp {
  label: number;
  /** NaN when the class has no ground-truth object (then it is left out of the mean). */
  ap: number;
  groundTruths: number;
  detections: number;
  truePositives: number;
}

export interface MapResult {
  /** Mean over the classes that have ground truth. */
  map: number;
  perClass: ClassAp[];
  iouThreshold: number;
}

/** Intersection over union of two boxes; 0 when both are empty. */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) {
    return 0;
  }
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Descending score; ties keep the input order, so results do not depend on the sort's stability. */
function byScore<T extends {score: number}>(items: T[]): T[] {
  return items.map((item, index) => ({item, index}))
      .sort((a, b) => b.item.score - a.item.score || a.index - b.index).map((e) => e.item);
}

/**
 * Greedy NMS: keeps the highest-scored box, drops every box with IoU > `iouThreshold` with a kept
 * one, repeats. Boxes of different labels or images never suppress each other. At most `maxKeep`
 * boxes per image and label.
 */
export function nonMaxSuppression(detections: Detection[], iouThreshold: number, maxKeep = Infinity): Detection[] {
  const groups = new Map<string, Detection[]>();
  for (const d of byScore(detections)) {
    const key = `${d.image}/${d.label}`;
    const kept = groups.get(key) ?? [];
    if (kept.length < maxKeep && kept.every((k) => iou(k, d) <= iouThreshold)) {
      kept.push(d);
    }
    groups.set(key, kept);
  }
  return byScore([...groups.values()].flat());
}

/** All-point interpolated AP from cumulative true/false positives in score order. */
export function averagePrecision(isTruePositive: boolean[], groundTruths: number): number {
  if (groundTruths === 0) {
    return NaN;
  }
  const recall: number[] = [];
  const precision: number[] = [];
  let tp = 0;
  for (let i = 0; i < isTruePositive.length; i++) {
    tp += isTruePositive[i] ? 1 : 0;
    recall.push(tp / groundTruths);
    precision.push(tp / (i + 1));
  }
  // Precision envelope: the best precision at this recall or any higher one.
  for (let i = precision.length - 2; i >= 0; i--) {
    precision[i] = Math.max(precision[i], precision[i + 1]);
  }
  let ap = 0;
  let previousRecall = 0;
  for (let i = 0; i < recall.length; i++) {
    ap += (recall[i] - previousRecall) * precision[i];
    previousRecall = recall[i];
  }
  return ap;
}

/**
 * Per-class AP at `iouThreshold` and its mean over classes with ground truth.
 * `groundTruth[i]` holds the objects of image i; `detections` refer to images by index.
 */
export function meanAveragePrecision(detections: Detection[], groundTruth: Array<Array<Box & {label: number}>>,
                                     classes: number, iouThreshold = 0.5): MapResult {
  if (!(iouThreshold > 0 && iouThreshold <= 1)) {
    throw new RangeError(`meanAveragePrecision: iouThreshold must be in (0, 1]; received ${iouThreshold}`);
  }
  for (const d of detections) {
    if (!Number.isInteger(d.image) || d.image < 0 || d.image >= groundTruth.length) {
      throw new RangeError(`meanAveragePrecision: detection image ${d.image} is not an index of the ` +
                           `${groundTruth.length} ground-truth images`);
    }
  }
  const perClass: ClassAp[] = [];
  for (let label = 0; label < classes; label++) {
    const truths = groundTruth.map((objects) => objects.filter((o) => o.label === label));
    const matched = truths.map((t) => new Array<boolean>(t.length).fill(false));
    const total = truths.reduce((n, t) => n + t.length, 0);
    const own = byScore(detections.filter((d) => d.label === label));
    const hits = own.map((d) => {
      let best = -1;
      let bestIou = 0;
      truths[d.image].forEach((t, j) => {
        const overlap = iou(d, t);
        if (overlap > bestIou) {
          bestIou = overlap;
          best = j;
        }
      });
      if (best >= 0 && bestIou >= iouThreshold && !matched[d.image][best]) {
        matched[d.image][best] = true;
        return true;
      }
      return false;
    });
    perClass.push({label, ap: averagePrecision(hits, total), groundTruths: total, detections: own.length,
                   truePositives: hits.filter((h) => h).length});
  }
  const present = perClass.filter((c) => c.groundTruths > 0);
  const map = present.length > 0 ? present.reduce((s, c) => s + c.ap, 0) / present.length : NaN;
  return {map, perClass, iouThreshold};
}
