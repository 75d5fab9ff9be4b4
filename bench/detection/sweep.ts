// The detection sweep (`--sections detection-sweep`): the detection experiment over several levels of
// imbalance (the same digits on larger canvases, then several anchors per cell: the same positives,
// more negative outputs) with each
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
import {anchorSizes, disposeCellCentres} from './model';

/** One level of imbalance: the canvas side and the anchors per cell (1: the anchor-free detector). */
export interface ImbalanceLevel {
  canvas: number;
  anchors: number;
}

/** The level's folder under runs/: canvas<side>, with _anchors<k> for several anchors per cell. */
export function levelKey(level: ImbalanceLevel): string {
  return `canvas${level.canvas}${level.anchors > 1 ? `_anchors${level.anchors}` : ''}`;
}

/** ", <k> anchors per cell" for several anchors, nothing for the anchor-free detector. */
export function anchorsPhrase(level: ImbalanceLevel): string {
  return level.anchors > 1 ? `, ${level.anchors} anchors per cell` : '';
}

export function levelLabel(level: ImbalanceLevel): string {
  return `canvas ${level.canvas}${anchorsPhrase(level)}`;
}

export function sameLevel(a: ImbalanceLevel, b: ImbalanceLevel): boolean {
  return a.canvas === b.canvas && a.anchors === b.anchors;
}

/** Proportional to the class outputs per canvas (area × anchors): the order the levels run in. */
function outputScale(level: ImbalanceLevel): number {
  return level.canvas * level.canvas * level.anchors;
}

export interface SweepSettings {
  /** The imbalance settings, run in order of class outputs per canvas. */
  levels: ImbalanceLevel[];
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
    levels: [{canvas: 32, anchors: 1}, {canvas: 48, anchors: 2}], losses: ['bce', 'focal'], seeds: [1],
    trainImages: 48, validationImages: 16, testImages: 16, dataSeed: 0, maxSteps: 8, evalEvery: 2, patience: 2, batchSize: 8, learningRate: 2e-3,
  } : {
    levels: [{canvas: 64, anchors: 1}, {canvas: 128, anchors: 1}, {canvas: 128, anchors: 4}], losses: SWEEP_LOSSES,
    seeds: [1, 2, 3], trainImages: 2000, validationImages: 200, testImages: 500, dataSeed: 0, maxSteps: 8000, evalEvery: 200, patience: 5, batchSize: 16, learningRate: 2e-3,
  };
}

/** What a setting's data measure: the imbalance the classifier sees. */
export interface ImbalanceMeasure extends ImbalanceLevel {
  grid: number;
  /** The anchors' sides in pixels (anchorSizes of the training boxes); null with one anchor per cell. */
  anchorSizes: number[] | null;
  /** Class outputs per canvas (grid² × anchors × classes). */
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

export function runFile(outDir: string, level: ImbalanceLevel, loss: string, seed: number): string {
  return path.join(outDir, 'runs', levelKey(level), `${loss}_seed${seed}.json`);
}

/** Writes through a temporary file and a rename: a reader sees the whole file or none. */
export function writeJsonAtomically(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), {recursive: true});
  const temporary = `${file}.partial-${process.pid}`;
  fs.writeFileSync(temporary, `${JSON.stringify(value, null, 1)}\n`);
  fs.renameSync(temporary, file);
}

export function measureImbalance(data: DetectionData, anchors: number[] | null,
                                 positivesPerImage: Float32Array): ImbalanceMeasure {
  const grid = gridOf(data.train);
  const perCell = anchors?.length ?? 1;
  const outputsPerImage = grid * grid * perCell * NUM_CLASSES;
  const positives = positivesPerImage.reduce((a, b) => a + b, 0);
  return {
    canvas: data.train.canvas, anchors: perCell, grid, anchorSizes: anchors, outputsPerImage,
    positivesPerImage: positives / data.train.count,
    negativesPerPositive: (outputsPerImage * data.train.count - positives) / positives,
  };
}

/** Progress of a sweep: where it is, and an estimate of what remains. */
export interface SweepProgress {
  level: ImbalanceLevel;
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

/** Seconds a level has cost so far (training and evaluation) and the steps trained in them. */
export interface MeasuredCost {
  level: ImbalanceLevel;
  seconds: number;
  steps: number;
}

/**
 * What remains: each run still to do at the full budget, at the seconds per step measured on its
 * level, or, for a level not measured yet, at the rate of the nearest measured level scaled by the
 * class outputs (area × anchors; an overestimate: a step costs less than its outputs suggest). An
 * upper estimate: early stopping ends most runs sooner. Infinity until something was measured.
 */
export function estimateRemaining(measured: MeasuredCost[], remaining: ImbalanceLevel[], maxSteps: number): number {
  if (remaining.length === 0) {
    return 0;
  }
  const known = measured.filter((m) => m.steps > 0);
  if (known.length === 0) {
    return Infinity;
  }
  const perStep = (level: ImbalanceLevel) => {
    const same = known.filter((m) => sameLevel(m.level, level));
    if (same.length > 0) {
      return same.reduce((n, m) => n + m.seconds, 0) / same.reduce((n, m) => n + m.steps, 0);
    }
    const distance = (m: MeasuredCost) => Math.abs(Math.log(outputScale(m.level) / outputScale(level)));
    const nearest = known.reduce((a, b) => (distance(b) < distance(a) ? b : a));
    return nearest.seconds / nearest.steps * outputScale(level) / outputScale(nearest.level);
  };
  return remaining.reduce((total, level) => total + maxSteps * perStep(level), 0);
}

export function sweepProgressLine(p: SweepProgress): string {
  return `detection-sweep: ${levelLabel(p.level)} (setting ${p.settingIndex + 1}/${p.settings}), ${p.loss}, seed ${p.seed}; ` +
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
  /** Runs trained by this call and runs found finished on disk, as `<level folder>/<loss>/<seed>`. */
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
    layout: 'runs/canvas<side>[_anchors<k>]/<loss>_seed<seed>.json, one file per finished run (SweepRunRecord)',
  });
}

export function runSweep(options: SweepOptions): SweepOutcome {
  const s = options.settings;
  const now = options.now ?? Date.now;
  const started = now();
  const levels = [...s.levels].sort((a, b) => outputScale(a) - outputScale(b));
  const entries = s.losses.map(classificationLoss);
  checkManifest(options);
  const plan = levels.flatMap((level) => s.seeds.flatMap((seed) => entries.map((entry) => ({level, seed, entry}))));
  const isDone = (p: typeof plan[number]) => fs.existsSync(runFile(options.outDir, p.level, p.entry.id, p.seed));
  const name = (p: typeof plan[number]) => `${levelKey(p.level)}/${p.entry.id}/${p.seed}`;
  const outcome: SweepOutcome = {trained: [], skipped: [], remaining: 0};
  const measured: MeasuredCost[] = [];
  let finished = plan.filter(isDone).length;
  for (const [settingIndex, level] of levels.entries()) {
    const todo = plan.filter((p) => p.level === level && !isDone(p));
    for (const p of plan.filter((q) => q.level === level && isDone(q))) {
      outcome.skipped.push(name(p));
    }
    if (todo.length === 0) {
      continue;
    }
    if (options.maxRuns !== undefined && outcome.trained.length >= options.maxRuns) {
      outcome.remaining += todo.length;
      continue;
    }
    const data = makeDetectionData({train: s.trainImages, validation: s.validationImages, test: s.testImages,
                                    seed: s.dataSeed, canvas: level.canvas});
    const anchors = anchorSizes(data.train.objects, level.anchors);
    const train = splitTensors(data.train, anchors);
    const validation = imageTensor(data.validation);
    const test = imageTensor(data.test);
    const imbalance = measureImbalance(data, anchors, train.positivesPerImage);
    options.log?.(`detection-sweep: ${levelLabel(level)}: ${imbalance.positivesPerImage.toFixed(1)} positives and ` +
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
          progress: options.progress && ((line) => options.progress!(`detection-sweep ${levelLabel(level)}, ${line}`)),
        }, false, runStarted);
        delete run.examples;
        const record: SweepRunRecord = {imbalance, loss: p.entry.id, seed: p.seed, run, backend: options.backend,
                                        commit: options.commit, finishedAt: new Date(now()).toISOString()};
        writeJsonAtomically(runFile(options.outDir, level, p.entry.id, p.seed), record);
        outcome.trained.push(name(p));
        finished++;
        measured.push({level, seconds: (now() - runStarted) / 1000, steps: run.stepsTrained});
        const elapsedSeconds = (now() - started) / 1000;
        const left = plan.filter((q) => !isDone(q)).map((q) => q.level);
        options.log?.(`${sweepProgressLine({
          level, settingIndex, settings: levels.length, loss: p.entry.id, seed: p.seed, finished, total: plan.length,
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
