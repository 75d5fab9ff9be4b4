// The detection sweep (`--sections detection-sweep`): the detection experiment over several levels of
// imbalance (the same digits on larger canvases: the same positives, more negative cells) with each
// loss trained until it stops improving (early stopping on validation mAP@0.5, the same budget and
// patience for every loss), one run per setting, seed and loss. Each finished run is written at
// once to its own JSON file (atomically), so an interrupted sweep resumes where it stopped: a run
// whose file exists is not trained again.
import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs-core';

import {ProgressFn} from '../speed';
import {formatSeconds} from '../../lib/compare/progress';
import {DetectionData, makeDetectionData, NUM_CLASSES} from './data';
import {DetectionRun, disposeSplit, gridOf, imageTensor, splitTensors, trainOne} from './experiment';
import {classificationLoss} from './losses';
import {disposeCellCentres} from './model';

export interface SweepSettings {
  /** Canvas sides, one imbalance setting each, run smallest first. */
  canvases: number[];
  losses: string[];
  seeds: number[];
  trainImages: number;
  validationImages: number;
  testImages: number;
  dataSeed: number;
  /** The most steps any run may train (the same budget for every loss). */
  maxSteps: number;
  /** Validation mAP@0.5 every this many steps. */
  evalEvery: number;
  /** Evaluations without a new best validation mAP before a run stops. */
  patience: number;
  batchSize: number;
  learningRate: number;
}

/** The losses of the sweep (issue 26): all with the prior initialisation. */
export const SWEEP_LOSSES = ['bce', 'alpha_bce', 'focal', 'focal_g1', 'varifocal', 'quality_focal'];

export function sweepSettings(quick: boolean): SweepSettings {
  return quick ? {
    canvases: [32, 48], losses: ['bce', 'focal'], seeds: [1], trainImages: 48, validationImages: 16, testImages: 16,
    dataSeed: 0, maxSteps: 8, evalEvery: 2, patience: 2, batchSize: 8, learningRate: 2e-3,
  } : {
    canvases: [64, 128, 256], losses: SWEEP_LOSSES, seeds: [1, 2, 3], trainImages: 2000, validationImages: 200,
    testImages: 500, dataSeed: 0, maxSteps: 8000, evalEvery: 200, patience: 5, batchSize: 16, learningRate: 2e-3,
  };
}

/** What a setting's data measure: the imbalance the classifier sees. */
export interface ImbalanceMeasure {
  canvas: number;
  grid: number;
  /** Class outputs per canvas (grid² × classes). */
  outputsPerImage: number;
  /** Positive class outputs per canvas, mean over the training canvases. */
  positivesPerImage: number;
  /** Negative class outputs per positive one, over all training canvases. */
  negativesPerPositive: number;
}

/** One finished run as written to its file. */
export interface SweepRunRecord {
  imbalance: ImbalanceMeasure;
  loss: string;
  seed: number;
  run: DetectionRun;
  backend: string;
  /** The commit of the code that trained this run. */
  commit: string | null;
  finishedAt: string;
}

export const SWEEP_MANIFEST = 'sweep.json';

export function runFile(outDir: string, canvas: number, loss: string, seed: number): string {
  return path.join(outDir, 'runs', `canvas${canvas}`, `${loss}_seed${seed}.json`);
}

/** Writes through a temporary file and a rename: a reader sees the whole file or none. */
export function writeJsonAtomically(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), {recursive: true});
  const temporary = `${file}.partial-${process.pid}`;
  fs.writeFileSync(temporary, `${JSON.stringify(value, null, 1)}\n`);
  fs.renameSync(temporary, file);
}

export function measureImbalance(data: DetectionData, positivesPerImage: Float32Array): ImbalanceMeasure {
  const grid = gridOf(data.train);
  const outputsPerImage = grid * grid * NUM_CLASSES;
  const positives = positivesPerImage.reduce((a, b) => a + b, 0);
  return {
    canvas: data.train.canvas, grid, outputsPerImage, positivesPerImage: positives / data.train.count,
    negativesPerPositive: (outputsPerImage * data.train.count - positives) / positives,
  };
}

/** Progress of a sweep: where it is, and an estimate of what remains. */
export interface SweepProgress {
  canvas: number;
  settingIndex: number;
  settings: number;
  loss: string;
  seed: number;
  /** Runs finished (trained now or found on disk), and in all. */
  finished: number;
  total: number;
  elapsedSeconds: number;
  /** At most this much (every remaining run at the full budget); Infinity until a run was trained. */
  remainingSeconds: number;
}

/** Seconds a canvas size has cost so far (training and evaluation) and the steps trained in them. */
export interface MeasuredCost {
  canvas: number;
  seconds: number;
  steps: number;
}

/**
 * What remains: each run still to do at the full budget, at the seconds per step measured on its
 * canvas size, or, for a size not measured yet, at the rate of the nearest measured size scaled by
 * the area (an overestimate for larger canvases: a step costs less than its area suggests). An upper
 * estimate: early stopping ends most runs sooner. Infinity until something was measured.
 */
export function estimateRemaining(measured: MeasuredCost[], remainingCanvases: number[], maxSteps: number): number {
  if (remainingCanvases.length === 0) {
    return 0;
  }
  const known = measured.filter((m) => m.steps > 0);
  if (known.length === 0) {
    return Infinity;
  }
  const perStep = (canvas: number) => {
    const same = known.filter((m) => m.canvas === canvas);
    if (same.length > 0) {
      return same.reduce((n, m) => n + m.seconds, 0) / same.reduce((n, m) => n + m.steps, 0);
    }
    const nearest = known.reduce((a, b) => (Math.abs(b.canvas - canvas) < Math.abs(a.canvas - canvas) ? b : a));
    return nearest.seconds / nearest.steps * (canvas / nearest.canvas) ** 2;
  };
  return remainingCanvases.reduce((total, canvas) => total + maxSteps * perStep(canvas), 0);
}

export function sweepProgressLine(p: SweepProgress): string {
  return `detection-sweep: canvas ${p.canvas} (setting ${p.settingIndex + 1}/${p.settings}), ${p.loss}, seed ${p.seed}; ` +
         `${p.finished}/${p.total} runs finished, ${formatSeconds(p.elapsedSeconds)} elapsed, ` +
         `at most about ${formatSeconds(p.remainingSeconds)} left`;
}

export interface SweepOptions {
  settings: SweepSettings;
  outDir: string;
  backend: string;
  commit: string | null;
  /** Stop after training this many runs (a piece of the sweep); the rest on the next call. */
  maxRuns?: number;
  /** Milliseconds, for the elapsed time and the estimate (injected in tests). */
  now?: () => number;
  /** Within a run, every validation evaluation. */
  progress?: ProgressFn;
  /** One line per finished or skipped run. */
  log?: (line: string) => void;
  /** Called after every finished run (the result writer). */
  onRunFinished?: () => void;
}

export interface SweepOutcome {
  /** Runs trained by this call and runs found finished on disk, as `canvas/loss/seed`. */
  trained: string[];
  skipped: string[];
  /** Runs still to do (maxRuns reached). */
  remaining: number;
}

function checkManifest(options: SweepOptions): void {
  const file = path.join(options.outDir, SWEEP_MANIFEST);
  if (fs.existsSync(file)) {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as {settings: SweepSettings};
    if (JSON.stringify(stored.settings) !== JSON.stringify(options.settings)) {
      throw new RangeError(`detection-sweep: ${options.outDir} holds a sweep with other settings ` +
                           `(${JSON.stringify(stored.settings)}); resume it with those settings or choose another ` +
                           'folder with --sweep-out');
    }
    return;
  }
  writeJsonAtomically(file, {
    settings: options.settings, backend: options.backend, startedBy: options.commit,
    layout: 'runs/canvas<side>/<loss>_seed<seed>.json, one file per finished run (SweepRunRecord)',
  });
}

export function runSweep(options: SweepOptions): SweepOutcome {
  const s = options.settings;
  const now = options.now ?? Date.now;
  const started = now();
  const canvases = [...s.canvases].sort((a, b) => a - b);
  const entries = s.losses.map(classificationLoss);
  checkManifest(options);
  const plan = canvases.flatMap((canvas) => s.seeds.flatMap((seed) => entries.map((entry) => ({canvas, seed, entry}))));
  const isDone = (p: typeof plan[number]) => fs.existsSync(runFile(options.outDir, p.canvas, p.entry.id, p.seed));
  const outcome: SweepOutcome = {trained: [], skipped: [], remaining: 0};
  const measured: MeasuredCost[] = [];
  let finished = plan.filter(isDone).length;
  for (const [settingIndex, canvas] of canvases.entries()) {
    const todo = plan.filter((p) => p.canvas === canvas && !isDone(p));
    for (const p of plan.filter((q) => q.canvas === canvas && isDone(q))) {
      outcome.skipped.push(`${canvas}/${p.entry.id}/${p.seed}`);
    }
    if (todo.length === 0) {
      continue;
    }
    if (options.maxRuns !== undefined && outcome.trained.length >= options.maxRuns) {
      outcome.remaining += todo.length;
      continue;
    }
    const data = makeDetectionData({train: s.trainImages, validation: s.validationImages, test: s.testImages,
                                    seed: s.dataSeed, canvas});
    const train = splitTensors(data.train);
    const validation = imageTensor(data.validation);
    const test = imageTensor(data.test);
    const imbalance = measureImbalance(data, train.positivesPerImage);
    options.log?.(`detection-sweep: canvas ${canvas}: ${imbalance.positivesPerImage.toFixed(1)} positives and ` +
                  `${imbalance.outputsPerImage} class outputs per canvas, ${imbalance.negativesPerPositive.toFixed(0)} ` +
                  'negatives per positive');
    try {
      for (const p of todo) {
        if (options.maxRuns !== undefined && outcome.trained.length >= options.maxRuns) {
          outcome.remaining++;
          continue;
        }
        const runStarted = now();
        const run = trainOne(p.entry, p.seed, data, train, validation, test, {
          steps: s.maxSteps, batchSize: s.batchSize, learningRate: s.learningRate, evalEvery: s.evalEvery,
          exampleImages: 0, patience: s.patience,
          progress: options.progress && ((line) => options.progress!(`detection-sweep canvas ${canvas}, ${line}`)),
        }, false, runStarted);
        delete run.examples;
        const record: SweepRunRecord = {imbalance, loss: p.entry.id, seed: p.seed, run, backend: options.backend,
                                        commit: options.commit, finishedAt: new Date(now()).toISOString()};
        writeJsonAtomically(runFile(options.outDir, canvas, p.entry.id, p.seed), record);
        outcome.trained.push(`${canvas}/${p.entry.id}/${p.seed}`);
        finished++;
        measured.push({canvas, seconds: (now() - runStarted) / 1000, steps: run.stepsTrained});
        const elapsedSeconds = (now() - started) / 1000;
        const left = plan.filter((q) => !isDone(q)).map((q) => q.canvas);
        options.log?.(`${sweepProgressLine({
          canvas, settingIndex, settings: canvases.length, loss: p.entry.id, seed: p.seed, finished, total: plan.length,
          elapsedSeconds, remainingSeconds: estimateRemaining(measured, left, s.maxSteps),
        })}: test mAP@0.5 ${run.map50.toFixed(3)} at the best validation step ${run.bestStep} of ` +
                      `${run.stepsTrained} trained, ${formatSeconds((now() - runStarted) / 1000)}`);
        options.onRunFinished?.();
      }
    } finally {
      disposeSplit(train);
      tf.dispose([validation, test]);
      disposeCellCentres();
    }
  }
  return outcome;
}
