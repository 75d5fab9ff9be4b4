// The detection bench's metrics (bench/detection/metrics.ts): IoU, NMS and AP@0.5 on hand-made
// cases whose answers are worked out by hand, and AP against an independent formulation on random
// rankings.
import {Box} from '../bench/detection/data';
import {averagePrecision, Detection, iou, meanAveragePrecision, nonMaxSuppression} from '../bench/detection/metrics';
import {SeededRandom} from '../lib/compare/stats';

const box = (x1: number, y1: number, x2: number, y2: number): Box => ({x1, y1, x2, y2});
const det = (image: number, label: number, score: number, b: Box): Detection => ({image, label, score, ...b});
const gt = (label: number, b: Box) => ({label, ...b});

describe('iou', () => {
  it('is 1 for identical boxes, 0 for disjoint or touching ones, and inter / union otherwise', () => {
    expect(iou(box(0, 0, 4, 4), box(0, 0, 4, 4))).toBe(1);
    expect(iou(box(0, 0, 4, 4), box(5, 5, 8, 8))).toBe(0);
    expect(iou(box(0, 0, 4, 4), box(4, 0, 8, 4))).toBe(0);
    // 2x2 boxes shifted by 1: intersection 2, union 6.
    expect(iou(box(0, 0, 2, 2), box(1, 0, 3, 2))).toBeCloseTo(1 / 3, 12);
    // A box inside another: inner area / outer area.
    expect(iou(box(0, 0, 10, 10), box(2, 2, 7, 6))).toBeCloseTo(20 / 100, 12);
    expect(iou(box(1, 1, 1, 1), box(1, 1, 1, 1))).toBe(0);
  });

  it('is symmetric', () => {
    const a = box(0.5, 1, 7, 9.5);
    const b = box(3, -2, 10, 4);
    expect(iou(a, b)).toBe(iou(b, a));
    // Intersection 4 x 3 = 12; areas 6.5 x 8.5 = 55.25 and 7 x 6 = 42.
    expect(iou(a, b)).toBeCloseTo(12 / (55.25 + 42 - 12), 12);
  });
});

describe('nonMaxSuppression', () => {
  it('drops a lower-scored box overlapping a kept one of the same image and label', () => {
    const kept = nonMaxSuppression([
      det(0, 1, 0.6, box(1, 0, 11, 10)),   // IoU 9/11 with the best: suppressed
      det(0, 1, 0.9, box(0, 0, 10, 10)),
      det(0, 2, 0.5, box(0, 0, 10, 10)),   // another label: kept
      det(1, 1, 0.4, box(0, 0, 10, 10)),   // another image: kept
      det(0, 1, 0.3, box(20, 20, 30, 30)), // no overlap: kept
    ], 0.5);
    expect(kept.map((d) => [d.image, d.label, d.score])).toEqual([[0, 1, 0.9], [0, 2, 0.5], [1, 1, 0.4], [0, 1, 0.3]]);
  });

  it('keeps a box whose IoU equals the threshold, and at most maxKeep per image and label', () => {
    // IoU exactly 1/3 (2x2 boxes shifted by 1).
    expect(nonMaxSuppression([det(0, 0, 0.9, box(0, 0, 2, 2)), det(0, 0, 0.8, box(1, 0, 3, 2))], 1 / 3)).toHaveLength(2);
    expect(nonMaxSuppression([det(0, 0, 0.9, box(0, 0, 2, 2)), det(0, 0, 0.8, box(1, 0, 3, 2))], 0.3)).toHaveLength(1);
    const many = [0, 1, 2, 3].map((k) => det(0, 0, 1 - k / 10, box(10 * k, 0, 10 * k + 5, 5)));
    expect(nonMaxSuppression(many, 0.5, 2).map((d) => d.score)).toEqual([1, 0.9]);
  });
});

describe('averagePrecision (all-point interpolation)', () => {
  it('is 1 for a perfect ranking and 0 with no true positive', () => {
    expect(averagePrecision([true, true, true], 3)).toBe(1);
    expect(averagePrecision([false, false], 2)).toBe(0);
    expect(averagePrecision([], 2)).toBe(0);
    expect(averagePrecision([], 0)).toBeNaN();
  });

  it('uses the precision envelope: a false positive between hits costs only the later recall', () => {
    // precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1: envelope 1 then 2/3 -> 1/2 + 1/2 * 2/3.
    expect(averagePrecision([true, false, true], 2)).toBeCloseTo(0.5 + 1 / 3, 12);
    // Recall that never reaches 1 (an object never found).
    expect(averagePrecision([true, false], 2)).toBeCloseTo(0.5, 12);
  });

  it('matches an independent formulation on random rankings: mean over objects of the best precision at or below rank', () => {
    const random = new SeededRandom(11);
    for (let trial = 0; trial < 200; trial++) {
      const length = random.nextInt(15);
      const hits = Array.from({length}, () => random.next() < 0.5);
      const found = hits.filter((h) => h).length;
      const groundTruths = found + random.nextInt(4);
      if (groundTruths === 0) {
        continue;
      }
      // AP = (1 / G) * sum over the hits k of max_{j >= k} precision(j).
      let expected = 0;
      hits.forEach((h, k) => {
        if (h) {
          let best = 0;
          for (let j = k; j < length; j++) {
            best = Math.max(best, hits.slice(0, j + 1).filter((x) => x).length / (j + 1));
          }
          expected += best / groundTruths;
        }
      });
      expect(averagePrecision(hits, groundTruths)).toBeCloseTo(expected, 12);
    }
  });
});

describe('meanAveragePrecision at IoU 0.5', () => {
  const truth = [
    [gt(0, box(0, 0, 10, 10)), gt(1, box(20, 20, 30, 30))],
    [gt(0, box(5, 5, 15, 15))],
  ];

  it('is 1 for a perfect detector', () => {
    const detections = [det(0, 0, 0.9, box(0, 0, 10, 10)), det(0, 1, 0.8, box(20, 20, 30, 30)),
                        det(1, 0, 0.7, box(5, 5, 15, 15))];
    const result = meanAveragePrecision(detections, truth, 3);
    expect(result.map).toBe(1);
    expect(result.perClass.map((c) => c.ap)).toEqual([1, 1, NaN]);   // class 2 has no object: left out
    expect(result.perClass.map((c) => c.truePositives)).toEqual([2, 1, 0]);
  });

  it('gives a missed object recall 1/2 and a class never detected AP 0', () => {
    const result = meanAveragePrecision([det(0, 0, 0.9, box(0, 0, 10, 10))], truth, 2);
    expect(result.perClass.map((c) => c.ap)).toEqual([0.5, 0]);
    expect(result.map).toBe(0.25);
  });

  it('counts a duplicate of a matched object as a false positive', () => {
    const detections = [det(0, 0, 0.9, box(0, 0, 10, 10)), det(0, 0, 0.8, box(0, 0, 10, 9.5)),
                        det(1, 0, 0.7, box(5, 5, 15, 15)), det(0, 1, 0.5, box(20, 20, 30, 30))];
    const result = meanAveragePrecision(detections, truth, 2);
    expect(result.perClass[0].ap).toBeCloseTo(0.5 + 1 / 3, 12);
    expect(result.perClass[0].truePositives).toBe(2);
    expect(result.map).toBeCloseTo((0.5 + 1 / 3 + 1) / 2, 12);
  });

  it('costs a false positive ranked first the whole precision curve, one ranked last nothing', () => {
    const fp = det(0, 1, 0.95, box(40, 40, 50, 50));
    const hit = det(0, 1, 0.5, box(20, 20, 30, 30));
    expect(meanAveragePrecision([fp, hit], truth, 2).perClass[1].ap).toBeCloseTo(0.5, 12);
    expect(meanAveragePrecision([{...fp, score: 0.1}, hit], truth, 2).perClass[1].ap).toBe(1);
  });

  it('needs IoU >= 0.5 with an object of the same class in the same image', () => {
    // 10x10 box shifted by 10/3 px: IoU (20/3) / (40/3) = 1/2 exactly -> a hit.
    const shifted = (dx: number) => det(0, 1, 0.9, box(20 + dx, 20, 30 + dx, 30));
    expect(meanAveragePrecision([shifted(10 / 3)], truth, 2).perClass[1].ap).toBe(1);
    expect(meanAveragePrecision([shifted(3.5)], truth, 2).perClass[1].ap).toBe(0);
    expect(meanAveragePrecision([det(0, 0, 0.9, box(20, 20, 30, 30))], truth, 2).perClass[1].ap).toBe(0);
    expect(meanAveragePrecision([det(1, 1, 0.9, box(20, 20, 30, 30))], truth, 2).perClass[1].ap).toBe(0);
    expect(meanAveragePrecision([shifted(3.5)], truth, 2, 0.4).perClass[1].ap).toBe(1);
  });

  it('matches a detection to its best-overlapping object, VOC style', () => {
    // Two objects of one class; the detection overlaps the second more.
    const objects = [[gt(0, box(0, 0, 10, 10)), gt(0, box(2, 0, 12, 10))]];
    const result = meanAveragePrecision([det(0, 0, 0.9, box(2, 0, 12, 10)), det(0, 0, 0.8, box(0, 0, 10, 10))],
                                        objects, 1);
    expect(result.perClass[0].ap).toBe(1);
  });

  it('rejects a bad threshold or image index with a clear message', () => {
    expect(() => meanAveragePrecision([], truth, 2, 0)).toThrow(/iouThreshold must be in \(0, 1\]; received 0/);
    expect(() => meanAveragePrecision([det(2, 0, 0.9, box(0, 0, 1, 1))], truth, 2))
        .toThrow(/detection image 2 is not an index of the 2 ground-truth images/);
  });
});
