// The comparison's data: tensors or a tf.data.Dataset gathered into one pair of tensors, the task
// detected from the labels and the model's output width, the labels checked and put in the form the
// losses take, and the held-out split (given, or a stratified fraction).
import * as tf from '@tensorflow/tfjs';

import {Task} from './contenders';
import {CompareError} from './errors';
import {SeededRandom} from './stats';

/** Features `x` [rows, ...] and labels `y`: int32 class indices [rows], one-hot, or 0/1 multi-label [rows, labels]. */
export interface TensorData {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** Elements {xs, ys} as `model.fitDataset` takes them, batched or not. */
export type DataInput = TensorData | tf.data.Dataset<{xs: tf.Tensor; ys: tf.Tensor}>;

/** The data in the form training uses; the caller disposes x and labels. */
export interface PreparedData {
  x: tf.Tensor;
  /** int32 [rows] (single-label) or float32 [rows, classes] 0/1 (multi-label). */
  labels: tf.Tensor;
  /** The labels as plain numbers (row-major for multi-label). */
  labelValues: Int32Array | Float32Array;
  rows: number;
}

function isDataset(value: unknown): value is tf.data.Dataset<{xs: tf.Tensor; ys: tf.Tensor}> {
  return value instanceof tf.data.Dataset ||
         (value !== null && typeof value === 'object' && typeof (value as {iterator?: unknown}).iterator === 'function' &&
          typeof (value as {toArray?: unknown}).toArray === 'function');
}

/** Tensors of the caller's (kept) or a Dataset's elements (gathered into new tensors, owned by us). */
export async function gatherData(input: DataInput | undefined, argument: string,
                                 inputRank: number): Promise<{data: TensorData; owned: boolean}> {
  if (input === undefined || input === null) {
    throw new CompareError(`${argument}: missing; give {x, y} tensors or a tf.data.Dataset of {xs, ys}`);
  }
  if (isDataset(input)) {
    const elements = await input.toArray();
    // Unbatched tf.data.array elements hold plain numbers / arrays ({xs: number[], ys: number}) until
    // .batch() makes tensors of them; take those as model.fit would take the same arrays.
    const made: tf.Tensor[] = [];
    const asTensor = (value: unknown): tf.Tensor | null => {
      if (value instanceof tf.Tensor) {
        return value;
      }
      if (typeof value !== 'number' && !Array.isArray(value) && !ArrayBuffer.isView(value)) {
        return null;
      }
      try {
        const t = tf.tensor(value as number[]);
        made.push(t);
        return t;
      } catch {
        return null;   // ragged or non-numeric arrays
      }
    };
    const pairs = elements.map((e) => ({xs: asTensor(e?.xs), ys: asTensor(e?.ys)}));
    const held = [...(elements as unknown as Array<{xs?: unknown; ys?: unknown}>).flatMap((e) => [e?.xs, e?.ys])
                      .filter((t): t is tf.Tensor => t instanceof tf.Tensor), ...made];
    if (pairs.length === 0 || pairs.some((p) => p.xs === null || p.ys === null)) {
      tf.dispose(held);
      throw new CompareError(`${argument}: the Dataset must yield at least one element {xs, ys} of tensors, numbers ` +
                             'or arrays of numbers (batched as model.fitDataset takes, or one example each)');
    }
    // Batched elements have the model's input rank; single examples have one less.
    const batched = pairs[0].xs!.rank === inputRank;
    const join = (list: tf.Tensor[]) => (batched ? tf.concat(list) : tf.stack(list));
    let x: tf.Tensor | undefined;
    try {
      x = join(pairs.map((e) => e.xs!));
      return {data: {x, y: join(pairs.map((e) => e.ys!))}, owned: true};
    } catch (e) {
      tf.dispose(x);
      throw new CompareError(`${argument}: the Dataset's elements do not join into one tensor of xs and one of ys ` +
                             `(${(e as Error).message.split('\n')[0]}); give every element the same shape`);
    } finally {
      tf.dispose(held);
    }
  }
  const {x, y} = input as TensorData;
  if (!(x instanceof tf.Tensor) || !(y instanceof tf.Tensor)) {
    throw new CompareError(`${argument}: expected {x, y} with both tensors (or a tf.data.Dataset); received ` +
                           `x ${x instanceof tf.Tensor ? 'a tensor' : typeof x}, y ${y instanceof tf.Tensor ? 'a tensor' : typeof y}`);
  }
  return {data: {x, y}, owned: false};
}

/** The task and class count from the labels' shape and values and the model's output width. */
export function detectTask(y: tf.Tensor, outputWidth: number, argument: string): {task: Task; classes: number} {
  const flat = y.rank === 1 || (y.rank === 2 && y.shape[1] === 1);
  if (flat) {
    return outputWidth === 1 ? {task: 'multi-label', classes: 1} : {task: 'single-label', classes: outputWidth};
  }
  if (y.rank !== 2) {
    throw new CompareError(`${argument}.y: expected class indices [rows], one-hot or 0/1 labels [rows, classes]; ` +
                           `received shape [${y.shape.join(', ')}]`);
  }
  if (y.shape[1] !== outputWidth) {
    throw new CompareError(`the model's output has ${outputWidth} units but ${argument}.y has ${y.shape[1]} columns ` +
                           '(classes); make the last layer as wide as the label columns');
  }
  const values = y.dataSync();
  let oneHot = true;
  for (let r = 0; r < y.shape[0] && oneHot; r++) {
    let ones = 0;
    for (let c = 0; c < outputWidth; c++) {
      ones += values[r * outputWidth + c] === 1 ? 1 : 0;
    }
    oneHot = ones === 1;
  }
  return {task: oneHot && outputWidth > 1 ? 'single-label' : 'multi-label', classes: outputWidth};
}

/** Checks x and y of one split and converts the labels to the task's form. */
export function prepareData(data: TensorData, task: Task, classes: number, argument: string): PreparedData {
  const {x, y} = data;
  if (x.rank < 2) {
    throw new CompareError(`${argument}.x: expected features [rows, ...]; received shape [${x.shape.join(', ')}]`);
  }
  if (x.shape[0] !== y.shape[0]) {
    throw new CompareError(`${argument}: x has ${x.shape[0]} rows but y has ${y.shape[0]}; give one label row per ` +
                           'feature row');
  }
  if (x.shape[0] === 0) {
    throw new CompareError(`${argument}: no rows`);
  }
  if (x.dtype === 'string' || x.dtype === 'bool' || x.dtype === 'complex64') {
    throw new CompareError(`${argument}.x: expected numeric features; received dtype ${x.dtype}`);
  }
  const features = x.dataSync();
  const perRow = features.length / x.shape[0];
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) {
      throw new CompareError(`${argument}.x: ${features[i]} at row ${Math.floor(i / perRow)}, feature ${i % perRow}; ` +
                             'the features must be finite numbers (fill or drop missing values first)');
    }
  }
  const values = y.dataSync();
  const rows = x.shape[0];
  if (task === 'single-label') {
    const indices = new Int32Array(rows);
    if (y.rank === 2 && y.shape[1] === classes && classes > 1) {  // one-hot
      for (let r = 0; r < rows; r++) {
        indices[r] = Array.prototype.findIndex.call(values.subarray(r * classes, (r + 1) * classes), (v: number) => v === 1);
        if (indices[r] < 0 || values.subarray(r * classes, (r + 1) * classes).some((v, c) => c !== indices[r] && v !== 0)) {
          throw new CompareError(`${argument}.y: row ${r} is not one-hot; single-label one-hot rows hold one 1 and ` +
                                 'zeros (0/1 rows with several 1s are multi-label: the whole y must then be 0/1)');
        }
      }
    } else {
      for (let r = 0; r < rows; r++) {
        const v = values[r];
        if (!Number.isInteger(v) || v < 0 || v >= classes) {
          throw new CompareError(`${argument}.y: label ${v} at row ${r}; class indices must be integers in [0, ${classes}) ` +
                                 `(the model's output has ${classes} units)`);
        }
        indices[r] = v;
      }
    }
    return {x, labels: tf.tensor1d(indices, 'int32'), labelValues: indices, rows};
  }
  const targets = new Float32Array(rows * classes);
  for (let i = 0; i < targets.length; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1) {
      throw new CompareError(`${argument}.y: ${v} at row ${Math.floor(i / classes)}` +
                             `${classes > 1 ? `, label ${i % classes}` : ''}; binary / multi-label targets must be 0 or 1`);
    }
    targets[i] = v;
  }
  return {x, labels: tf.tensor2d(targets, [rows, classes]), labelValues: targets, rows};
}

/** Per class: training rows (single-label) or positives (multi-label). */
export function classCounts(labels: Int32Array | Float32Array, task: Task, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  labels.forEach((v, i) => {
    if (task === 'single-label') {
      counts[v]++;
    } else {
      counts[i % classes] += v;
    }
  });
  return counts;
}

/**
 * How many of `count` rows (of one class, or positives of one label) a `fraction` split holds out:
 * the fraction rounded, but at least one and at most count - 1 when there are two or more, so the
 * class is in both splits; none of a class with a single row.
 */
function heldOutCount(count: number, fraction: number): number {
  return count < 2 ? 0 : Math.min(count - 1, Math.max(1, Math.round(fraction * count)));
}

/**
 * Held-out rows, drawn with a fixed seed. Single-label: `heldOutCount` rows of every class.
 * Binary / multi-label: iterative stratification (Sechidis, Tsoumakas and Vlahavas 2011,
 * "On the stratification of multi-label data"), so that every label, the rare ones most of all,
 * keeps its share of positives in both splits; see `iterativeStratification`.
 */
export function stratifiedSplit(labels: Int32Array | Float32Array, task: Task, classes: number, fraction: number,
                                seed = 0): {train: number[]; test: number[]} {
  const random = new SeededRandom(seed);
  if (task !== 'single-label') {
    return iterativeStratification(labels, classes, fraction, random);
  }
  const groups: number[][] = Array.from({length: classes}, () => []);
  labels.forEach((v, i) => groups[v].push(i));
  const train: number[] = [];
  const test: number[] = [];
  for (const group of groups) {
    random.shuffle(group);
    const held = heldOutCount(group.length, fraction);
    test.push(...group.slice(0, held));
    train.push(...group.slice(held));
  }
  return {train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b)};
}

/**
 * A two-way split of 0/1 label rows [rows, classes] (row-major). Each label wants `heldOutCount`
 * of its positives held out, and the held-out split wants round(fraction * rows) rows. Rows are
 * visited in a seeded random order. Repeatedly, the label with the fewest positives not yet
 * placed is taken, and each of its unplaced rows goes to the split that still wants the most
 * positives of that label (ties: the split that wants more rows; then a coin flip); placing a row
 * counts it against every label it has. Rows without a positive fill the splits' remaining row
 * counts. Last, a repair pass: a label with two or more positives that ended up all in one split
 * gets one row moved to the other, provided the move takes no other label (of two or more
 * positives) out of the split it leaves (a row without positives, if any, moves the other way to
 * keep the sizes). Some label sets admit no split that puts every label in
 * both (three rows and the labels {a, b}, {b, c}, {a, c}); the repair then leaves the label where
 * it is, and the report's per-label AP says n/a for a label with no held-out positive.
 */
function iterativeStratification(labels: Int32Array | Float32Array, classes: number, fraction: number,
                                 random: SeededRandom): {train: number[]; test: number[]} {
  const rows = labels.length / classes;
  const positivesOf = Array.from({length: rows}, (_, r) =>
      Array.from({length: classes}, (_, c) => c).filter((c) => labels[r * classes + c] === 1));
  const rowsWith = Array.from({length: classes}, (): number[] => []);
  const order = random.shuffle(Array.from({length: rows}, (_, r) => r));
  for (const r of order) {
    positivesOf[r].forEach((c) => rowsWith[c].push(r));
  }
  const TEST = 0;
  const TRAIN = 1;
  // wanted[s][c]: positives of label c split s still wants; wantedRows[s]: rows it still wants.
  const wanted = [rowsWith.map((list) => heldOutCount(list.length, fraction)), [] as number[]];
  wanted[TRAIN] = rowsWith.map((list, c) => list.length - wanted[TEST][c]);
  const wantedRows = [Math.round(fraction * rows), 0];
  wantedRows[TRAIN] = rows - wantedRows[TEST];
  const side = new Int8Array(rows).fill(-1);
  const unplaced = rowsWith.map((list) => list.length);
  const place = (r: number, s: number) => {
    side[r] = s;
    wantedRows[s]--;
    for (const c of positivesOf[r]) {
      wanted[s][c]--;
      unplaced[c]--;
    }
  };
  const byRows = () => (wantedRows[TEST] !== wantedRows[TRAIN] ? (wantedRows[TEST] > wantedRows[TRAIN] ? TEST : TRAIN) :
                                                                  (random.next() < 0.5 ? TEST : TRAIN));
  for (;;) {
    let rarest = -1;
    let fewest = Infinity;
    for (let c = 0; c < classes; c++) {
      if (unplaced[c] > 0 && unplaced[c] < fewest) {
        rarest = c;
        fewest = unplaced[c];
      }
    }
    if (rarest < 0) {
      break;
    }
    for (const r of rowsWith[rarest].filter((row) => side[row] < 0)) {
      const [t, u] = [wanted[TEST][rarest], wanted[TRAIN][rarest]];
      place(r, t !== u ? (t > u ? TEST : TRAIN) : byRows());
    }
  }
  for (const r of order) {
    if (side[r] < 0) {
      place(r, byRows());
    }
  }
  // Repair: every label of two or more positives in both splits where a move allows it.
  const countIn = (c: number, s: number) => rowsWith[c].filter((r) => side[r] === s).length;
  for (let c = 0; c < classes; c++) {
    for (const lacking of [TEST, TRAIN]) {
      if (rowsWith[c].length < 2 || countIn(c, lacking) > 0) {
        continue;
      }
      const movable = rowsWith[c].find((r) => positivesOf[r].every(
          (k) => k === c || rowsWith[k].length < 2 || countIn(k, side[r]) > 1));
      if (movable !== undefined) {
        // A row without positives goes the other way, when there is one, to keep the split's size.
        const swap = order.find((r) => side[r] === lacking && positivesOf[r].length === 0);
        if (swap !== undefined) {
          side[swap] = side[movable];
        }
        side[movable] = lacking;
      }
    }
  }
  const split = {train: [] as number[], test: [] as number[]};
  side.forEach((s, r) => (s === TEST ? split.test : split.train).push(r));
  return split;
}

/** Training and held-out rows of `all` by `stratifiedSplit`, as new tensors (the caller disposes them). */
export function splitByFraction(all: PreparedData, task: Task, classes: number, fraction: number):
    {train: PreparedData; test: PreparedData} {
  const indices = stratifiedSplit(all.labelValues, task, classes, fraction);
  if (indices.test.length === 0) {
    throw new CompareError(`options.validationSplit: ${fraction} of ${all.rows} rows holds out no row; give more ` +
                           'data, a larger fraction or options.validation');
  }
  const width = task === 'single-label' ? 1 : classes;
  const part = (rows: number[]): PreparedData => {
    const values = new (all.labelValues.constructor as Int32ArrayConstructor | Float32ArrayConstructor)(rows.length * width);
    rows.forEach((r, i) => values.set(all.labelValues.subarray(r * width, (r + 1) * width), i * width));
    const index = tf.tensor1d(rows, 'int32');
    const tensors = tf.tidy(() => ({x: tf.gather(all.x, index), labels: tf.gather(all.labels, index)}));
    index.dispose();
    return {...tensors, labelValues: values, rows: rows.length};
  };
  return {train: part(indices.train), test: part(indices.test)};
}
