// The addon is context-aware: it loads in worker_threads, and several workers calling it at the same
// time (each with its own problem, all sharing the native thread pool) get exactly the results the
// main thread gets for the same inputs.
import * as path from 'path';
import { Worker } from 'worker_threads';

const addonPath = path.resolve(__dirname, '..', 'build', 'Release', 'focal_loss.node');

// Runs in every worker (and in the main thread): a seeded problem, forward + gradient, repeated.
const problemSource = `
function makeProblem(seed, rows, classes) {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const logits = Float32Array.from({ length: rows * classes }, () => (rand() - 0.5) * 12);
  const labels = Int32Array.from({ length: rows }, () => Math.floor(rand() * classes));
  return { logits, labels };
}
function solve(addon, seed, rows, classes, repeats) {
  const { logits, labels } = makeProblem(seed, rows, classes);
  let lossOut, gradOut;
  for (let r = 0; r < repeats; r++) {
    lossOut = new Float32Array(rows);
    gradOut = new Float32Array(rows * classes);
    addon.softmaxFocalLoss({ logits, labels, rows, classes, gamma: 2, alpha: 0.25, labelSmoothing: 0,
      ignoreIndex: null, fromLogits: true, lossOut, gradOut });
  }
  return { loss: Array.from(lossOut), grad: Array.from(gradOut) };
}
`;

function runWorker(seed: number, rows: number, classes: number, repeats: number) {
  const source = `${problemSource}
const { parentPort, workerData } = require('worker_threads');
const addon = require(workerData.addonPath);
parentPort.postMessage(solve(addon, workerData.seed, workerData.rows, workerData.classes, workerData.repeats));`;
  return new Promise<{ loss: number[]; grad: number[] }>((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { addonPath, seed, rows, classes, repeats } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`worker exited with code ${code}`)); });
  });
}

describe('worker_threads', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = require(addonPath);
  // eslint-disable-next-line no-new-func
  const solve = new Function(`${problemSource}; return solve;`)() as
    (a: unknown, seed: number, rows: number, classes: number, repeats: number) => { loss: number[]; grad: number[] };

  test('four workers at once compute what the main thread computes', async () => {
    // 300 x 700 is above the multi-threading threshold, so workers also share the native pool.
    const jobs = [1, 2, 3, 4].map((seed) => ({ seed, rows: 300, classes: 700 }));
    const results = await Promise.all(jobs.map((j) => runWorker(j.seed, j.rows, j.classes, 20)));
    jobs.forEach((j, k) => {
      const expected = solve(addon, j.seed, j.rows, j.classes, 1);
      expect(results[k].loss).toEqual(expected.loss);
      expect(results[k].grad).toEqual(expected.grad);
      expect(expected.loss.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    });
  });

  test('a worker can load, use and unload the addon repeatedly', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runWorker(10 + i, 8, 5, 1);
      expect(r.loss).toEqual(solve(addon, 10 + i, 8, 5, 1).loss);
    }
  });
});
