// The detection bench's data, targets, box decoding, loss table and options
// (bench/detection/*.ts), against hand-worked cases and float64 references.
import * as tf from '@tensorflow/tfjs-core';

import {CANVAS, inkBox, INK_THRESHOLD, makeDetectionData, MAX_OVERLAP, resizeSquare} from '../bench/detection/data';
import {CLASSIFICATION_LOSSES, classificationLoss, PRIOR} from '../bench/detection/losses';
import {iou} from '../bench/detection/metrics';
import {anchorSizes, assignCells, boxIouTensors, createDetector, decodeDetections, disposeDetector, forward, GRID,
        makeTargets, nearestAnchor, priorBias, STRIDE} from '../bench/detection/model';
import {parseArgs} from '../bench/run';
import {SeededRandom} from '../lib/compare/stats';

describe('digits on a canvas', () => {
  const data = makeDetectionData({train: 60, validation: 10, test: 20, seed: 3});

  it('is deterministic from the seed', () => {
    const again = makeDetectionData({train: 60, validation: 10, test: 20, seed: 3});
    expect(Array.from(again.train.images)).toEqual(Array.from(data.train.images));
    expect(again.test.objects).toEqual(data.test.objects);
    const other = makeDetectionData({train: 60, validation: 10, test: 20, seed: 4});
    expect(other.train.objects).not.toEqual(data.train.objects);
    // The test canvases do not depend on the size of the training set.
    expect(makeDetectionData({train: 5, validation: 10, test: 20, seed: 3}).test.objects).toEqual(data.test.objects);
  });

  it('puts 1 to 3 digits of 10 classes in the canvas, every ink pixel inside a box, without heavy overlap', () => {
    const labels = new Set<number>();
    for (const split of [data.train, data.validation, data.test]) {
      expect(split.images).toHaveLength(split.count * CANVAS * CANVAS);
      split.objects.forEach((objects, n) => {
        expect(objects.length).toBeGreaterThanOrEqual(1);
        expect(objects.length).toBeLessThanOrEqual(3);
        for (const o of objects) {
          labels.add(o.label);
          expect(o.x1).toBeGreaterThanOrEqual(0);
          expect(o.y1).toBeGreaterThanOrEqual(0);
          expect(o.x2).toBeLessThanOrEqual(CANVAS);
          expect(o.y2).toBeLessThanOrEqual(CANVAS);
          expect(Math.max(o.x2 - o.x1, o.y2 - o.y1)).toBeLessThanOrEqual(28);
          expect(Math.max(o.x2 - o.x1, o.y2 - o.y1)).toBeGreaterThanOrEqual(6);
        }
        for (let a = 0; a < objects.length; a++) {
          for (let b = a + 1; b < objects.length; b++) {
            const inter = iou(objects[a], objects[b]);
            expect(inter).toBeLessThan(MAX_OVERLAP + 1e-9);
          }
        }
        const image = split.images.subarray(n * CANVAS * CANVAS, (n + 1) * CANVAS * CANVAS);
        let outside = 0;
        for (let y = 0; y < CANVAS; y++) {
          for (let x = 0; x < CANVAS; x++) {
            const covered = objects.some((o) => x >= o.x1 && x < o.x2 && y >= o.y1 && y < o.y2);
            if (!covered && image[y * CANVAS + x] >= INK_THRESHOLD) {
              outside++;
            }
          }
        }
        expect(outside).toBe(0);
      });
    }
    expect(labels.size).toBe(10);
  });

  it('resizes and finds the ink box', () => {
    const ramp = Float32Array.from({length: 9}, (_, i) => i / 8);
    expect(Array.from(resizeSquare(ramp, 3, 3))).toEqual(Array.from(ramp));
    expect(Array.from(resizeSquare(new Float32Array(16).fill(0.5), 4, 7))).toEqual(new Array(49).fill(0.5));
    // 2x2 -> 4x4 with half-pixel centres: the first row is 0, 0.25, 0.75, 1 for a 0 | 1 row.
    expect(Array.from(resizeSquare([0, 1, 0, 1], 2, 4).slice(0, 4))).toEqual([0, 0.25, 0.75, 1]);
    const patch = new Float32Array(25);
    patch[1 * 5 + 2] = 0.9;
    patch[3 * 5 + 3] = 0.3;
    patch[4 * 5 + 0] = 0.1;   // below the threshold
    expect(inkBox(patch, 5)).toEqual({x1: 2, y1: 1, x2: 4, y2: 4});
    expect(inkBox(new Float32Array(4), 2)).toBeNull();
  });

  it('rejects bad sizes with the option named', () => {
    expect(() => makeDetectionData({train: 0, validation: 1, test: 1, seed: 0})).toThrow(/train must be an integer >= 1; received 0/);
    expect(() => makeDetectionData({train: 1, validation: 1.5, test: 1, seed: 0})).toThrow(/validation must be an integer/);
  });
});

describe('targets', () => {
  const cell = (i: number, j: number) => i * GRID + j;

  it('makes the cells within 1.5 strides of the box centre positives', () => {
    const owner = assignCells([{x1: 8, y1: 8, x2: 24, y2: 24}]);
    // Centre (16, 16); cell centres 14 and 18 are within 6 px, 10 and 22 are not.
    const positives = Array.from(owner).map((o, c) => (o === 0 ? c : -1)).filter((c) => c >= 0);
    expect(positives).toEqual([cell(3, 3), cell(3, 4), cell(4, 3), cell(4, 4)]);
  });

  it('gives a box thinner than a stride its centre cell, and a shared cell to the smaller box', () => {
    const thin = assignCells([{x1: 30, y1: 10, x2: 31.5, y2: 30}]);
    expect(Array.from(thin).filter((o) => o === 0)).toHaveLength(1);
    expect(thin[cell(5, 7)]).toBe(0);
    // The large box claims cells 4-5, the small one (centre 24) cells 5-6 of each axis: (5, 5) is shared.
    const nested = assignCells([{x1: 0, y1: 0, x2: 40, y2: 40}, {x1: 16, y1: 16, x2: 32, y2: 32}]);
    expect(nested[cell(5, 5)]).toBe(1);
    expect(nested[cell(6, 6)]).toBe(1);
    expect(nested[cell(4, 4)]).toBe(0);
    expect(nested[cell(4, 5)]).toBe(0);
    expect(Array.from(nested).filter((o) => o >= 0)).toHaveLength(7);
  });

  it('one-hot class targets and the box at positive cells', () => {
    const t = makeTargets([[{x1: 8, y1: 8, x2: 24, y2: 24, label: 7}], []]);
    expect(t.positives).toBe(4);
    expect(t.classTargets.reduce((a, b) => a + b, 0)).toBe(4);
    expect(t.classTargets[cell(3, 3) * 10 + 7]).toBe(1);
    expect(Array.from(t.boxTargets.slice(cell(3, 4) * 4, cell(3, 4) * 4 + 4))).toEqual([8, 8, 24, 24]);
    expect(t.positive.slice(GRID * GRID).every((v) => v === 0)).toBe(true);
  });
});

describe('several anchors per cell', () => {
  const square = (side: number) => ({x1: 0, y1: 0, x2: side, y2: side});

  it('takes the anchor sides from quantiles of the training boxes\' sizes, none for one anchor', () => {
    // Sizes sqrt(w h) 1..8: the quantiles at 1/8, 3/8, 5/8, 7/8 pick sizes 2, 4, 6, 8.
    const boxes = [[1, 2, 3, 4].map(square), [5, 6, 7, 8].map(square)];
    expect(anchorSizes(boxes, 4)).toEqual([2, 4, 6, 8]);
    expect(anchorSizes([[{x1: 0, y1: 0, x2: 4, y2: 16}]], 2)).toEqual([8, 8]);
    expect(anchorSizes(boxes, 1)).toBeNull();
    expect(() => anchorSizes(boxes, 0)).toThrow(/anchors per cell must be an integer >= 1; received 0/);
  });

  it('gives a digit the anchor nearest its size on a log scale', () => {
    expect(nearestAnchor(square(5), [4, 8, 16])).toBe(0);   // log 5 is nearer log 4 than log 8
    expect(nearestAnchor(square(6), [4, 8, 16])).toBe(1);   // 6/4 = 1.5 > 8/6 = 1.33
    expect(nearestAnchor({x1: 0, y1: 0, x2: 8, y2: 32}, [4, 8, 16])).toBe(2);   // size 16
    expect(nearestAnchor(square(8), [8, 8])).toBe(0);
  });

  it('makes one anchor of each positive cell positive, the others negatives with the cell\'s point', () => {
    const anchors = [6, 12, 24];
    const one = makeTargets([[{x1: 8, y1: 8, x2: 24, y2: 24, label: 7}]]);
    const t = makeTargets([[{x1: 8, y1: 8, x2: 24, y2: 24, label: 7}], []], GRID, anchors);
    // The same 4 positive cells as with one anchor (3-4 of each axis), each at anchor 1: size 16 is
    // nearer 12 than 24 on a log scale (16/12 = 1.33 < 24/16 = 1.5).
    expect(t.positives).toBe(one.positives);
    expect(t.classTargets).toHaveLength(2 * GRID * GRID * 3 * 10);
    const cell = (i: number, j: number) => i * GRID + j;
    const positiveAt = Array.from(t.positive).map((v, i) => (v === 1 ? i : -1)).filter((i) => i >= 0);
    expect(positiveAt).toEqual([cell(3, 3), cell(3, 4), cell(4, 3), cell(4, 4)].map((c) => c * 3 + 1));
    const at = cell(3, 3) * 3 + 1;
    expect(t.classTargets[at * 10 + 7]).toBe(1);
    expect(Array.from(t.boxTargets.slice(at * 4, at * 4 + 4))).toEqual([8, 8, 24, 24]);
    // Anchors 0 and 2 of the same cell: negatives for every class, their box target the cell's point.
    for (const other of [at - 1, at + 1]) {
      expect(t.classTargets.slice(other * 10, (other + 1) * 10).every((v) => v === 0)).toBe(true);
      expect(Array.from(t.boxTargets.slice(other * 4, (other + 1) * 4))).toEqual([13, 13, 15, 15]);
    }
  });

  it('predicts every class and a box per anchor, a raw 0 giving the anchor itself', () => {
    const anchors = [8, 16];
    const detector = createDetector(1, PRIOR, anchors);
    const plain = createDetector(1, PRIOR);
    const images = tf.zeros([1, CANVAS, CANVAS, 1]) as tf.Tensor4D;
    const out = forward(detector, images);
    expect(out.classLogits.shape).toEqual([1, GRID, GRID * 2, 10]);
    expect(out.boxes.shape).toEqual([1, GRID, GRID * 2, 4]);
    // Zero images: every head output is its bias (0 for the box), so anchor k's box is its square
    // of side anchors[k] around the cell centre, and every class starts at the prior.
    const boxes = out.boxes.arraySync()[0];
    expect(boxes[0][0]).toEqual([-2, -2, 6, 6]);
    expect(boxes[0][1]).toEqual([-6, -6, 10, 10]);
    expect(boxes[1][2 * 3 + 1]).toEqual([14 - 8, 6 - 8, 14 + 8, 6 + 8]);
    expect(out.classLogits.dataSync().every((v) => Math.abs(v - priorBias(PRIOR)) < 1e-6)).toBe(true);
    // The backbone is the same network from the same seed; only the heads are wider.
    expect(Array.from(detector.backbone[0].filter.dataSync())).toEqual(Array.from(plain.backbone[0].filter.dataSync()));
    expect(detector.classFilter.shape).toEqual([3, 3, 32, 20]);
    tf.dispose([images, out.classLogits, out.boxes]);
    disposeDetector(detector);
    disposeDetector(plain);
  });
});

describe('boxes as tensors and decoding', () => {
  it('computes IoU as the JS reference, and GIoU below 0 for disjoint boxes', () => {
    const random = new SeededRandom(5);
    const boxes = Array.from({length: 40}, () => {
      const x = random.next() * 50;
      const y = random.next() * 50;
      return [x, y, x + 1 + random.next() * 20, y + 1 + random.next() * 20];
    });
    const a = tf.tensor2d(boxes.slice(0, 20));
    const b = tf.tensor2d(boxes.slice(20));
    const {iou: iouT, giou} = boxIouTensors(a, b);
    const values = iouT.dataSync();
    boxes.slice(0, 20).forEach((p, k) => {
      const q = boxes[20 + k];
      expect(values[k]).toBeCloseTo(iou({x1: p[0], y1: p[1], x2: p[2], y2: p[3]}, {x1: q[0], y1: q[1], x2: q[2], y2: q[3]}), 5);
    });
    const disjoint = boxIouTensors(tf.tensor2d([[0, 0, 1, 1]]), tf.tensor2d([[2, 0, 3, 1]]));
    expect(disjoint.giou.dataSync()[0]).toBeCloseTo(-1 / 3, 6);
    tf.dispose([a, b, iouT, giou, disjoint.iou, disjoint.giou]);
  });

  it('decodes scores above the threshold into boxes, with per-class NMS', () => {
    const cells = GRID * GRID;
    const scores = new Float32Array(2 * cells * 10);
    const boxes = new Float32Array(2 * cells * 4);
    scores[5 * 10 + 3] = 0.9;
    boxes.set([1, 2, 11, 12], 5 * 4);
    scores[6 * 10 + 3] = 0.6;                // overlaps the first: suppressed
    boxes.set([1, 2, 11, 13], 6 * 4);
    scores[6 * 10 + 4] = 0.5;                // the same box, another class: kept
    scores[(cells + 9) * 10 + 0] = 0.04;     // image 1, below the threshold
    const detections = decodeDetections(scores, boxes, 2, 10);
    expect(detections.map((d) => [d.image, d.label, d.score.toFixed(2), d.x1, d.y2])).toEqual([
      [10, 3, '0.90', 1, 12], [10, 4, '0.50', 1, 13],
    ]);
  });

  it('starts every class probability at the prior, from the same weights for the same seed', () => {
    const a = createDetector(1, PRIOR);
    const b = createDetector(1, PRIOR);
    const images = tf.randomUniform([2, CANVAS, CANVAS, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const outA = forward(a, images);
    const outB = forward(b, images);
    expect(outA.classLogits.shape).toEqual([2, GRID, GRID, 10]);
    expect(outA.boxes.shape).toEqual([2, GRID, GRID, 4]);
    expect(Array.from(outA.classLogits.dataSync())).toEqual(Array.from(outB.classLogits.dataSync()));
    const p = tf.sigmoid(outA.classLogits);
    const probabilities = p.dataSync() as Float32Array;
    const meanProbability = probabilities.reduce((x, y) => x + y, 0) / probabilities.length;
    expect(meanProbability).toBeGreaterThan(0.009);
    expect(meanProbability).toBeLessThan(0.011);
    expect(Math.min(...probabilities)).toBeGreaterThan(0.005);
    expect(Math.max(...probabilities)).toBeLessThan(0.02);
    expect(priorBias(0.01)).toBeCloseTo(-Math.log(99), 12);
    // Boxes are around each cell's centre: x1 < centre < x2.
    const box = outA.boxes.dataSync();
    expect(box[0]).toBeLessThan(STRIDE / 2);
    expect(box[2]).toBeGreaterThan(STRIDE / 2);
    tf.dispose([images, outA.classLogits, outA.boxes, outB.classLogits, outB.boxes, p]);
    disposeDetector(a);
    disposeDetector(b);
  });
});

describe('the classification loss table', () => {
  // float64: sum over outputs of alpha_t (1 - p_t)^gamma BCE, divided by max(1, positives).
  function reference(labels: number[], logits: number[], gamma: number, alpha: number | null): number {
    let total = 0;
    labels.forEach((y, i) => {
      const p = 1 / (1 + Math.exp(-logits[i]));
      const pt = y * p + (1 - y) * (1 - p);
      const alphaT = alpha === null ? 1 : y * alpha + (1 - y) * (1 - alpha);
      total += -alphaT * Math.pow(1 - pt, gamma) * Math.log(pt);
    });
    return total / Math.max(1, labels.filter((y) => y > 0).length);
  }

  const expected: Record<string, [number, number | null]> = {
    bce: [0, null], alpha_bce: [0, 0.75], focal: [2, 0.25], focal_g1: [1, 0.25], bce_no_prior: [0, null],
    focal_no_prior: [2, 0.25],
  };
  const QUALITY = ['varifocal', 'quality_focal'];

  // float64: varifocal / quality focal of q = labels * iou (per cell), divided by max(1, positives).
  function qualityReference(id: string, labels: number[], logits: number[], iou: number[],
                            classes: number): number {
    let total = 0;
    labels.forEach((y, i) => {
      const q = y * iou[Math.floor(i / classes)];
      const p = 1 / (1 + Math.exp(-logits[i]));
      const bce = -(q * Math.log(p) + (1 - q) * Math.log(1 - p));
      total += id === 'varifocal' ? bce * (q > 0 ? q : 0.75 * Math.pow(p, 2)) :
                                    Math.pow(Math.abs(q - p), 2) * bce;
    });
    return total / Math.max(1, labels.filter((y) => y > 0).length);
  }

  it('each entry is its formula, normalised by the positives', () => {
    const random = new SeededRandom(9);
    const shape = [2, 3, 3, 10];
    const size = shape.reduce((a, b) => a * b, 1);
    const logits = Array.from({length: size}, () => random.nextNormal() * 3 - 2);
    const labels = Array.from({length: size}, () => (random.next() < 0.05 ? 1 : 0));
    const context = {positives: labels.filter((y) => y > 0).length, predictedIou: () => tf.zeros([2, 3, 3])};
    expect(CLASSIFICATION_LOSSES.map((l) => l.id).filter((id) => !QUALITY.includes(id)))
        .toEqual(Object.keys(expected));
    const iou = Array.from({length: 18}, () => random.next());
    const withIou = {...context, predictedIou: () => tf.tensor(iou, [2, 3, 3])};
    for (const id of QUALITY) {
      const entry = classificationLoss(id);
      const value = tf.tidy(() => entry.fn(tf.tensor(labels, shape), tf.tensor(logits, shape), withIou).dataSync()[0]);
      expect({id, value}).toEqual({id, value: expect.closeTo(qualityReference(id, labels, logits, iou, 10), 4)});
      expect(entry.prior).toBe(PRIOR);
    }
    for (const entry of CLASSIFICATION_LOSSES.filter((l) => !QUALITY.includes(l.id))) {
      const [gamma, alpha] = expected[entry.id];
      const value = tf.tidy(() => entry.fn(tf.tensor(labels, shape), tf.tensor(logits, shape), context).dataSync()[0]);
      expect({id: entry.id, value}).toEqual({id: entry.id, value: expect.closeTo(reference(labels, logits, gamma, alpha), 4)});
      expect(entry.prior).toBe(entry.id.endsWith('no_prior') ? null : PRIOR);
    }
    expect(CLASSIFICATION_LOSSES.filter((l) => !l.ablation).map((l) => l.id))
        .toEqual(['bce', 'alpha_bce', 'focal', 'varifocal', 'quality_focal']);
  });

  it('names the known losses when asked for an unknown one', () => {
    expect(() => classificationLoss('vfl')).toThrow(/unknown classification loss 'vfl'; expected one of bce, alpha_bce, focal, varifocal/);
  });
});

describe('detection options', () => {
  it('has full and quick sizes, flags that override them, and clear errors', () => {
    const full = parseArgs(['--sections', 'detection']);
    expect(full.sections).toEqual(['detection']);
    expect(full.detection.seeds).toEqual([1, 2, 3]);
    expect(full.detection.losses).toEqual(CLASSIFICATION_LOSSES.map((l) => l.id));
    const quick = parseArgs(['--quick']).detection;
    expect(quick.losses).toEqual(['bce', 'alpha_bce', 'focal', 'varifocal', 'quality_focal']);
    expect(quick.steps).toBeLessThan(full.detection.steps);
    expect(quick.trainImages).toBeLessThan(full.detection.trainImages);
    const custom = parseArgs(['--detection-seeds', '5', '--detection-steps=40', '--detection-images', '100']).detection;
    expect([custom.seeds.length, custom.steps, custom.trainImages]).toEqual([5, 40, 100]);
    expect(() => parseArgs(['--detection-steps', '0'])).toThrow(/--detection-steps expects an integer >= 1; received 0/);
    expect(() => parseArgs(['--detection-seeds'])).toThrow(/--detection-seeds needs a value/);
    expect(() => parseArgs(['--sections', 'detect'])).toThrow(/unknown section 'detect'; expected any of .*detection/);
    expect(() => parseArgs(['--detection-epochs', '3'])).toThrow(/unknown argument '--detection-epochs'/);
    expect(parseArgs(['--detection-losses', 'focal,bce']).detection.losses).toEqual(['focal', 'bce']);
    expect(() => parseArgs(['--detection-losses', 'bce,vfl']))
        .toThrow(/--detection-losses: unknown loss 'vfl'; expected any of bce, alpha_bce, focal, varifocal, quality_focal, focal_g1/);
    expect(() => parseArgs(['--detection-losses', ','])).toThrow(/--detection-losses: empty list/);
  });
});
