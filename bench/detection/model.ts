// A dense one-stage detector in the style of FCOS / RetinaNet, small enough to train on 2 CPU cores:
// a conv backbone down to stride 4 (a 16x16 grid on a 64x64 canvas), a classification head of 10
// sigmoid logits per cell and a box head of 4 distances (left, top, right, bottom) from the cell
// centre to the box sides. Targets: a cell is a positive of a digit's class when its centre lies in
// the digit's box and within CENTRE_RADIUS of the box centre (FCOS centre sampling); a cell claimed
// by two digits goes to the smaller one; every other cell is a negative for every class.
//
// With several anchors per cell (the detection sweep's most imbalanced setting) each cell predicts
// one set of class logits and one box per anchor, and a positive cell's digit goes to the single
// anchor whose size is nearest its own (on a log scale): the other anchors of that cell stay
// negatives, as in RetinaNet, where most anchors near an object are negatives too. One anchor is the
// anchor-free detector above, unchanged.
import * as tf from '@tensorflow/tfjs-core';

import {SeededRandom} from '../../lib/compare/stats';
import {Box, CANVAS, GroundTruth, NUM_CLASSES} from './data';
import {Detection, nonMaxSuppression} from './metrics';

export const STRIDE = 4;
export const GRID = CANVAS / STRIDE;
/** FCOS centre sampling radius, 1.5 strides. */
export const CENTRE_RADIUS = 1.5 * STRIDE;
/** Box distances are exp(raw) * BOX_SCALE pixels, the raw value clipped to +-BOX_CLIP. */
const BOX_SCALE = STRIDE;
const BOX_CLIP = 4;

/** conv layers of the backbone: kernel size, output channels, stride. */
export const BACKBONE = [
  {kernel: 5, channels: 16, stride: 2},
  {kernel: 3, channels: 32, stride: 2},
  {kernel: 3, channels: 32, stride: 1},
  {kernel: 3, channels: 32, stride: 1},
  {kernel: 3, channels: 32, stride: 1},
];
const HEAD_KERNEL = 3;

export interface DetectorParams {
  /**
   * Box distances of anchor k are exp(raw) * boxScales[k] pixels; one entry: the anchor-free detector
   * (scale STRIDE), several: half of each anchor's side, so a raw 0 predicts the anchor itself.
   */
  boxScales: number[];
  backbone: Array<{filter: tf.Variable; bias: tf.Variable; stride: number}>;
  classFilter: tf.Variable;
  classBias: tf.Variable;
  boxFilter: tf.Variable;
  boxBias: tf.Variable;
}

/** The logit bias that makes every class probability `prior` at the start (RetinaNet, pi = 0.01). */
export function priorBias(prior: number): number {
  return -Math.log((1 - prior) / prior);
}

function normalFilter(random: SeededRandom, shape: [number, number, number, number], sd: number): tf.Tensor4D {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    values[i] = random.nextNormal() * sd;
  }
  return tf.tensor4d(values, shape);
}

/** A variable owning `initial` (tf.variable shares its data and leaves the tensor alive). */
function owned(initial: tf.Tensor): tf.Variable {
  const v = tf.variable(initial);
  initial.dispose();
  return v;
}

/**
 * Sides of `count` square anchors from the training boxes' sizes sqrt(w * h): the quantiles at
 * (k + 0.5) / count, so each anchor is the nearest for about as many digits (YOLOv2 derives its
 * anchors from the data too). One anchor: null, the anchor-free detector.
 */
export function anchorSizes(objects: Box[][], count: number): number[] | null {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`detection: anchors per cell must be an integer >= 1; received ${count}`);
  }
  if (count === 1) {
    return null;
  }
  const sizes = objects.flat().map(boxSize).sort((a, b) => a - b);
  const quantile = (q: number) => sizes[Math.min(sizes.length - 1, Math.floor(q * sizes.length))];
  return Array.from({length: count}, (_, k) => quantile((k + 0.5) / count));
}

function boxSize(b: Box): number {
  return Math.sqrt((b.x2 - b.x1) * (b.y2 - b.y1));
}

/** The anchor whose side is nearest the box's size on a log scale (the first of a tie). */
export function nearestAnchor(box: Box, sizes: number[]): number {
  const size = Math.log(boxSize(box));
  let best = 0;
  for (let k = 1; k < sizes.length; k++) {
    if (Math.abs(Math.log(sizes[k]) - size) < Math.abs(Math.log(sizes[best]) - size)) {
      best = k;
    }
  }
  return best;
}

/**
 * He-normal backbone, heads with N(0, 0.01) weights (RetinaNet), class bias from `prior` (null: 0),
 * all from `seed`: every loss starts from the same network. `anchors`: the sides of the anchors of
 * each cell (anchorSizes), null for the anchor-free detector.
 */
export function createDetector(seed: number, prior: number | null, anchors: number[] | null = null): DetectorParams {
  const perCell = anchors?.length ?? 1;
  const random = new SeededRandom(seed);
  let inChannels = 1;
  const backbone = BACKBONE.map((layer) => {
    const fanIn = layer.kernel * layer.kernel * inChannels;
    const filter = owned(normalFilter(random, [layer.kernel, layer.kernel, inChannels, layer.channels],
                                            Math.sqrt(2 / fanIn)));
    inChannels = layer.channels;
    return {filter, bias: owned(tf.zeros([layer.channels])), stride: layer.stride};
  });
  return {
    boxScales: anchors === null ? [BOX_SCALE] : anchors.map((side) => side / 2),
    backbone,
    classFilter: owned(normalFilter(random, [HEAD_KERNEL, HEAD_KERNEL, inChannels, perCell * NUM_CLASSES], 0.01)),
    classBias: owned(tf.fill([perCell * NUM_CLASSES], prior === null ? 0 : priorBias(prior))),
    boxFilter: owned(normalFilter(random, [HEAD_KERNEL, HEAD_KERNEL, inChannels, perCell * 4], 0.01)),
    boxBias: owned(tf.zeros([perCell * 4])),
  };
}

/** Every variable of the detector, in a fixed order (disposal, counting, checkpoints). */
export function detectorVariables(params: DetectorParams): tf.Variable[] {
  return [...params.backbone.flatMap((l) => [l.filter, l.bias]), params.classFilter, params.classBias,
          params.boxFilter, params.boxBias];
}

export function disposeDetector(params: DetectorParams): void {
  tf.dispose(detectorVariables(params));
}

export function parameterCount(params: DetectorParams): number {
  return detectorVariables(params).reduce((n, v) => n + v.size, 0);
}

let centresCache: {key: string; tensor: tf.Tensor} | null = null;

/** Cell centres in pixels, [1, grid, grid, 2] as (x, y); kept for the life of the backend (one grid at a time). */
function cellCentres(grid: number): tf.Tensor {
  const key = `${tf.getBackend()} ${grid}`;
  if (centresCache === null || centresCache.key !== key || centresCache.tensor.isDisposed) {
    centresCache?.tensor.dispose();
    const values = new Float32Array(grid * grid * 2);
    for (let i = 0; i < grid; i++) {
      for (let j = 0; j < grid; j++) {
        values[(i * grid + j) * 2] = (j + 0.5) * STRIDE;
        values[(i * grid + j) * 2 + 1] = (i + 0.5) * STRIDE;
      }
    }
    centresCache = {key, tensor: tf.keep(tf.tensor4d(values, [1, grid, grid, 2]))};
  }
  return centresCache.tensor;
}

/** Frees the cached cell centres (forward() makes them again when needed). */
export function disposeCellCentres(): void {
  centresCache?.tensor.dispose();
  centresCache = null;
}

export interface DetectorOutput {
  /** [N, GRID, GRID * anchors, NUM_CLASSES]: the anchors of a cell are adjacent. */
  classLogits: tf.Tensor4D;
  /** Decoded boxes [N, GRID, GRID * anchors, 4] as x1, y1, x2, y2 in pixels. */
  boxes: tf.Tensor4D;
}

/** images: [N, side, side, 1] with side a multiple of STRIDE (the grid is side / STRIDE). */
export function forward(params: DetectorParams, images: tf.Tensor4D): DetectorOutput {
  return tf.tidy(() => {
    let x: tf.Tensor4D = images;
    for (const layer of params.backbone) {
      x = tf.relu(tf.add(tf.conv2d(x, layer.filter as tf.Tensor4D, layer.stride, 'same'), layer.bias)) as tf.Tensor4D;
    }
    const [n, grid] = x.shape;
    const perCell = params.boxScales.length;
    const classLogits = tf.reshape(tf.add(tf.conv2d(x, params.classFilter as tf.Tensor4D, 1, 'same'), params.classBias),
                                   [n, grid, grid * perCell, NUM_CLASSES]) as tf.Tensor4D;
    // [N, grid, grid, anchors, 4] against each anchor's scale [anchors, 1].
    const raw = tf.reshape(tf.add(tf.conv2d(x, params.boxFilter as tf.Tensor4D, 1, 'same'), params.boxBias),
                           [n, grid, grid, perCell, 4]);
    const scales = tf.tensor2d(params.boxScales, [perCell, 1]);
    const distances = tf.mul(tf.exp(tf.clipByValue(raw, -BOX_CLIP, BOX_CLIP)), scales);
    const [left, top, right, bottom] = tf.split(distances, 4, 4);
    const [cx, cy] = tf.split(tf.expandDims(cellCentres(grid), 3), 2, 4);
    const boxes = tf.reshape(tf.concat([tf.sub(cx, left), tf.sub(cy, top), tf.add(cx, right), tf.add(cy, bottom)], 4),
                             [n, grid, grid * perCell, 4]) as tf.Tensor4D;
    return {classLogits, boxes};
  });
}

export interface Targets {
  /** [N, GRID, GRID * anchors, NUM_CLASSES] one-hot at positive anchors, 0 elsewhere. */
  classTargets: Float32Array;
  /** [N, GRID, GRID * anchors, 4] the assigned box at positive anchors (the cell's own point elsewhere). */
  boxTargets: Float32Array;
  /** [N, GRID, GRID * anchors] 1 at positive anchors. */
  positive: Float32Array;
  positives: number;
}

/** Which object (index) each cell of one image is a positive of, -1 for negatives. */
export function assignCells(objects: Box[], grid = GRID): Int32Array {
  const owner = new Int32Array(grid * grid).fill(-1);
  const area = (b: Box) => (b.x2 - b.x1) * (b.y2 - b.y1);
  objects.forEach((o, k) => {
    const gx = (o.x1 + o.x2) / 2;
    const gy = (o.y1 + o.y2) / 2;
    let claimed = 0;
    const claim = (i: number, j: number) => {
      const cell = i * grid + j;
      if (owner[cell] < 0 || area(objects[owner[cell]]) > area(o)) {
        owner[cell] = k;
      }
      claimed++;
    };
    for (let i = 0; i < grid; i++) {
      for (let j = 0; j < grid; j++) {
        const px = (j + 0.5) * STRIDE;
        const py = (i + 0.5) * STRIDE;
        if (px > o.x1 && px < o.x2 && py > o.y1 && py < o.y2 &&
            Math.abs(px - gx) < CENTRE_RADIUS && Math.abs(py - gy) < CENTRE_RADIUS) {
          claim(i, j);
        }
      }
    }
    // A box thinner than a stride (a small "1") may contain no cell centre: its centre cell.
    if (claimed === 0) {
      claim(Math.min(grid - 1, Math.floor(gy / STRIDE)), Math.min(grid - 1, Math.floor(gx / STRIDE)));
    }
  });
  return owner;
}

/** `anchors`: the sides of each cell's anchors (anchorSizes), null for the anchor-free detector. */
export function makeTargets(objects: GroundTruth[][], grid = GRID, anchors: number[] | null = null): Targets {
  const n = objects.length;
  const cells = grid * grid;
  const perCell = anchors?.length ?? 1;
  const outputs = n * cells * perCell;
  const classTargets = new Float32Array(outputs * NUM_CLASSES);
  const boxTargets = new Float32Array(outputs * 4);
  const positive = new Float32Array(outputs);
  let positives = 0;
  objects.forEach((imageObjects, image) => {
    const owner = assignCells(imageObjects, grid);
    const anchorOf = imageObjects.map((o) => (anchors === null ? 0 : nearestAnchor(o, anchors)));
    for (let cell = 0; cell < cells; cell++) {
      const k = owner[cell];
      for (let anchor = 0; anchor < perCell; anchor++) {
        const at = (image * cells + cell) * perCell + anchor;
        if (k >= 0 && anchorOf[k] === anchor) {
          const o = imageObjects[k];
          classTargets[at * NUM_CLASSES + o.label] = 1;
          boxTargets.set([o.x1, o.y1, o.x2, o.y2], at * 4);
          positive[at] = 1;
          positives++;
        } else {
          const px = (cell % grid + 0.5) * STRIDE;
          const py = (Math.floor(cell / grid) + 0.5) * STRIDE;
          boxTargets.set([px - 1, py - 1, px + 1, py + 1], at * 4);
        }
      }
    }
  });
  return {classTargets, boxTargets, positive, positives};
}

/** Elementwise IoU and GIoU of two box tensors [..., 4] (x1, y1, x2, y2). */
export function boxIouTensors(a: tf.Tensor, b: tf.Tensor): {iou: tf.Tensor; giou: tf.Tensor} {
  return tf.tidy(() => {
    const [ax1, ay1, ax2, ay2] = tf.split(a, 4, -1);
    const [bx1, by1, bx2, by2] = tf.split(b, 4, -1);
    const areaA = tf.mul(tf.sub(ax2, ax1), tf.sub(ay2, ay1));
    const areaB = tf.mul(tf.sub(bx2, bx1), tf.sub(by2, by1));
    const iw = tf.relu(tf.sub(tf.minimum(ax2, bx2), tf.maximum(ax1, bx1)));
    const ih = tf.relu(tf.sub(tf.minimum(ay2, by2), tf.maximum(ay1, by1)));
    const inter = tf.mul(iw, ih);
    const union = tf.sub(tf.add(areaA, areaB), inter);
    const iou = tf.div(inter, tf.maximum(union, 1e-6));
    const hull = tf.mul(tf.sub(tf.maximum(ax2, bx2), tf.minimum(ax1, bx1)),
                        tf.sub(tf.maximum(ay2, by2), tf.minimum(ay1, by1)));
    const giou = tf.sub(iou, tf.div(tf.sub(hull, union), tf.maximum(hull, 1e-6)));
    return {iou: tf.squeeze(iou, [-1]), giou: tf.squeeze(giou, [-1])};
  });
}

export interface DecodeOptions {
  scoreThreshold: number;
  /** Candidates per image before NMS (highest scores). */
  preNmsTop: number;
  nmsIou: number;
  maxPerImage: number;
}

export const DEFAULT_DECODE: DecodeOptions = {scoreThreshold: 0.05, preNmsTop: 200, nmsIou: 0.5, maxPerImage: 100};

/**
 * Detections of a batch from sigmoid scores [N, GRID, GRID * anchors, C] and boxes [N, GRID,
 * GRID * anchors, 4] (as flat arrays): every (anchor, class) above the score threshold, the top `preNmsTop` per image,
 * per-class NMS, then the best `maxPerImage`. `firstImage` offsets the image indices.
 */
export function decodeDetections(scores: Float32Array, boxes: Float32Array, images: number, firstImage: number,
                                 options: DecodeOptions = DEFAULT_DECODE): Detection[] {
  // The grid follows from the arrays (any canvas size and anchors per cell).
  const cells = scores.length / (images * NUM_CLASSES);
  const out: Detection[] = [];
  for (let n = 0; n < images; n++) {
    const candidates: Detection[] = [];
    for (let cell = 0; cell < cells; cell++) {
      const at = n * cells + cell;
      for (let c = 0; c < NUM_CLASSES; c++) {
        const score = scores[at * NUM_CLASSES + c];
        if (score > options.scoreThreshold) {
          candidates.push({image: firstImage + n, label: c, score, x1: boxes[at * 4], y1: boxes[at * 4 + 1],
                           x2: boxes[at * 4 + 2], y2: boxes[at * 4 + 3]});
        }
      }
    }
    candidates.sort((a, b) => b.score - a.score);
    const kept = nonMaxSuppression(candidates.slice(0, options.preNmsTop), options.nmsIou);
    out.push(...kept.slice(0, options.maxPerImage));
  }
  return out;
}
