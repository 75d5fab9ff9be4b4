// `npm run bench`: speed of the loss (forward + gradient) against tfjs baselines and a composed
// tfjs implementation, the kernel alone against a memory copy, thread scaling, PyTorch, and the
// effect of focal loss on an imbalanced MNIST subset, and dense detection (mAP@0.5) trained with each
// classification loss. Writes bench/out/results.json, REPORT.md and
// SVG figures; prints tables on stdout and progress on stderr.
//
//   node dist/bench/run.js [--backend tensorflow|cpu|both] [--shapes 256x10,4096x1000]
//       [--reps N] [--warmup N] [--warmup-ms N] [--min-sample-ms N] [--seeds N] [--epochs N]
//       [--sections speed,kernel,torch,effect,detection,figures] [--thread-shapes LIST]
//       [--detection-seeds N] [--detection-steps N] [--detection-images N] [--detection-losses LIST]
//       [--out DIR] [--quick]
import * as childProcess from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs-core';

import * as focal from '../lib/index';
import {DetectionSettings} from './detection/experiment';
import {detectionTerminal} from './detection/report';
import {CLASSIFICATION_LOSSES} from './detection/losses';
import {detectionSettings, runDetectionSection} from './detection/section';
import {runSweep, sweepSettings, SweepSettings} from './detection/sweep';
import {writeSweepReport} from './detection/sweep_report';
import {measureEffect} from './effect';
import {curvesChart} from '../lib/compare/figures';
import {writeSvg} from '../lib/compare/svg';
import {focalCurveChart, speedChart} from './figures';
import {BenchResults, FigureInfo, markdownReport, terminalSummary} from './report';
import {BackendName, DEFAULT_WARMUP_MS, measureKernel, measureSpeed, measureThreadScaling, parseShape, ShapeSpec,
        TimingOptions} from './speed';
import {runTorch} from './torch';

export const SECTIONS = ['speed', 'kernel', 'torch', 'effect', 'detection', 'detection-sweep', 'figures'] as const;
/** Hours on 2 cores: run only when named (or, tiny, with --quick). */
const LONG_SECTIONS: readonly string[] = ['detection-sweep'];
export type Section = typeof SECTIONS[number];

export const FULL_SHAPES = ['256x10', '1024x100', '4096x1000', '65536x20', '8x128x128x21'];
/**
 * A small 2-D shape and a 4-D (spatial) one with many classes: the composed contenders on the pure-JS
 * cpu backend take seconds here, where 1024x100 and 4x32x32x21 took over 20 s.
 */
export const QUICK_SHAPES = ['256x10', '2x8x8x100'];
/** A memory-bandwidth-bound shape (many classes) and a compute-bound one (few classes, many rows). */
export const FULL_THREAD_SHAPES = ['4096x1000', '65536x20'];
export const QUICK_THREAD_SHAPES = ['1024x1000', '16384x20'];

export interface BenchOptions {
  backends: BackendName[];
  shapes: ShapeSpec[];
  /** Timed rounds per measurement (one sample of every case each). */
  reps: number;
  /** Least warm-up passes over all cases per measurement. */
  warmup: number;
  /** Least warm-up wall time per measurement, ms. */
  warmupMs: number;
  /** Shortest sample, ms: faster calls are repeated back to back within a sample. */
  minSampleMs: number;
  seeds: number;
  epochs: number;
  sections: Section[];
  outDir: string;
  quick: boolean;
  /** Shape of the kernel-alone and PyTorch measurements. */
  kernelShape: ShapeSpec;
  /** Shapes of the thread-scaling measurement (full tfjs step and kernel alone). */
  threadShapes: ShapeSpec[];
  /** Training images of the most common class in the effect section. */
  datasetMaxCount: number;
  testPerClass: number;
  /** Seconds of timed rounds per backend and shape before a slow one stops (at least 5 rounds). */
  budgetSeconds: number;
  detection: DetectionSettings;
  sweep: SweepSettings;
  /** The detection sweep's folder (runs, SWEEP.md, figure); resumed when it holds finished runs. */
  sweepOut: string;
  /** Train at most this many sweep runs in this call (the rest on the next). */
  sweepMaxRuns?: number;
  /** Nothing on stdout/stderr (tests). */
  quiet: boolean;
  command: string;
}

export const USAGE = `Usage: node dist/bench/run.js [options]
  --backend tensorflow|cpu|both   tfjs backends to measure (default both)
  --shapes LIST                   comma list of shapes, rows x classes, e.g. 256x10,4096x1000,8x128x128x21
  --reps N                        timed rounds per shape; each round takes one sample of every
                                  contender (default 20; --quick 5)
  --warmup N                      least warm-up passes (a batch of calls of every contender each)
                                  before the timed rounds (default 3; --quick 1)
  --warmup-ms N                   least warm-up wall time per measurement, ms: steady state, not cold
                                  JIT (default 2000; --quick 100)
  --min-sample-ms N               shortest sample, ms: a faster contender is called 1, 2, 5, 10, 20, ...
                                  times back to back per sample and the mean taken; 0 = one call per
                                  sample (default 5; --quick 2)
  --seeds N                       training seeds in the effect section (default 5; --quick 2)
  --epochs N                      training epochs per run (default 20; --quick 2)
  --sections LIST                 any of ${SECTIONS.join(',')} (default all but
                                  detection-sweep, which takes hours: name it; --quick runs a tiny one)
  --budget SECONDS                timed-round budget per backend and shape: slow ones stop early, after
                                  at least 5 rounds (default 30; --quick 5)
  --kernel-shape RxC              shape of the kernel-alone and PyTorch measurements (default
                                  4096x1000; --quick 1024x1000)
  --thread-shapes LIST            shapes of the thread scaling in the kernel section (default
                                  ${FULL_THREAD_SHAPES.join(',')}; --quick ${QUICK_THREAD_SHAPES.join(',')})
  --dataset-max N                 training images of the most common digit (default 800; --quick 200)
  --detection-seeds N             training seeds per loss in the detection section (default 3; --quick 1)
  --detection-steps N             optimizer steps per detection run (default 500; --quick 40)
  --detection-images N            training canvases of the detection section (default 2000; --quick 400)
  --detection-losses LIST         classification losses of the detection section, any of
                                  ${CLASSIFICATION_LOSSES.map((l) => l.id).join(',')}
                                  (default all; --quick the main losses, no ablations)
  --sweep-out DIR                 folder of the detection sweep's runs and report; a second call resumes
                                  there and skips finished runs (default bench/results/detection_sweep;
                                  --quick OUT/detection_sweep)
  --sweep-max-runs N              train at most N runs of the sweep in this call (run it in pieces)
  --out DIR                       output folder (default bench/out)
  --quick                         reduced run (well under a minute): small shapes, few reps, seeds, epochs
  --help                          this text
Environment: FOCAL_BENCH_PYTHON = Python with torch for the PyTorch comparison.`;

function positiveInteger(flag: string, value: string | undefined, allowZero = false): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new RangeError(`${flag} expects an integer >= ${allowZero ? 0 : 1}; received ${value ?? 'nothing'}`);
  }
  return n;
}

export function parseArgs(argv: string[]): BenchOptions {
  const values = new Map<string, string>();
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') {
      quick = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      values.set('--help', '1');
      continue;
    }
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const known = ['--backend', '--shapes', '--reps', '--warmup', '--warmup-ms', '--min-sample-ms', '--seeds',
                   '--epochs', '--sections', '--out', '--kernel-shape', '--thread-shapes', '--dataset-max', '--budget',
                   '--detection-seeds', '--detection-steps', '--detection-images', '--detection-losses',
                   '--sweep-out', '--sweep-max-runs'];
    if (!known.includes(flag)) {
      throw new RangeError(`unknown argument '${arg}'\n${USAGE}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined) {
      throw new RangeError(`${flag} needs a value\n${USAGE}`);
    }
    values.set(flag, value);
  }
  if (values.has('--help')) {
    throw new HelpRequested();
  }

  const backendArg = values.get('--backend') ?? 'both';
  if (!['tensorflow', 'cpu', 'both'].includes(backendArg)) {
    throw new RangeError(`--backend expects tensorflow, cpu or both; received '${backendArg}'`);
  }
  const backends: BackendName[] = backendArg === 'both' ? ['tensorflow', 'cpu'] : [backendArg as BackendName];
  const shapeList = (flag: string, defaults: string[]): ShapeSpec[] =>
      (values.get(flag)?.split(',') ?? defaults).filter((s) => s.trim() !== '').map(parseShape);
  const shapes = shapeList('--shapes', quick ? QUICK_SHAPES : FULL_SHAPES);
  const threadShapes = shapeList('--thread-shapes', quick ? QUICK_THREAD_SHAPES : FULL_THREAD_SHAPES);
  const sections = (values.get('--sections')?.split(',').map((s) => s.trim()).filter((s) => s !== '') ??
                    SECTIONS.filter((s) => quick || !LONG_SECTIONS.includes(s))) as Section[];
  for (const s of sections) {
    if (!SECTIONS.includes(s)) {
      throw new RangeError(`--sections: unknown section '${s}'; expected any of ${SECTIONS.join(', ')}`);
    }
  }
  const kernelShape = parseShape(values.get('--kernel-shape') ?? (quick ? '1024x1000' : '4096x1000'));
  const outDir = path.resolve(values.get('--out') ?? path.join('bench', 'out'));
  return {
    backends, shapes, sections, quick, kernelShape, threadShapes,
    reps: values.has('--reps') ? positiveInteger('--reps', values.get('--reps')) : quick ? 5 : 20,
    warmup: values.has('--warmup') ? positiveInteger('--warmup', values.get('--warmup'), true) : quick ? 1 : 3,
    warmupMs: values.has('--warmup-ms') ? positiveInteger('--warmup-ms', values.get('--warmup-ms'), true) :
                                          quick ? 100 : DEFAULT_WARMUP_MS,
    minSampleMs: values.has('--min-sample-ms') ?
        positiveInteger('--min-sample-ms', values.get('--min-sample-ms'), true) : quick ? 2 : 5,
    seeds: values.has('--seeds') ? positiveInteger('--seeds', values.get('--seeds')) : quick ? 2 : 5,
    epochs: values.has('--epochs') ? positiveInteger('--epochs', values.get('--epochs')) : quick ? 2 : 20,
    datasetMaxCount: values.has('--dataset-max') ? positiveInteger('--dataset-max', values.get('--dataset-max')) :
                                                   quick ? 200 : 800,
    testPerClass: 60,
    budgetSeconds: values.has('--budget') ? positiveInteger('--budget', values.get('--budget')) : quick ? 5 : 30,
    detection: detectionSettings(quick, ...(['--detection-seeds', '--detection-steps', '--detection-images'].map(
        (flag) => (values.has(flag) ? positiveInteger(flag, values.get(flag)) : undefined)) as [number?, number?, number?]),
        detectionLosses(values.get('--detection-losses'))),
    outDir,
    sweep: sweepSettings(quick),
    sweepOut: path.resolve(values.get('--sweep-out') ??
                           (quick ? path.join(outDir, 'detection_sweep') : path.join('bench', 'results', 'detection_sweep'))),
    sweepMaxRuns: values.has('--sweep-max-runs') ? positiveInteger('--sweep-max-runs', values.get('--sweep-max-runs')) :
                                                   undefined,
    quiet: false,
    command: ['node dist/bench/run.js', ...argv].join(' '),
  };
}

function detectionLosses(list: string | undefined): string[] | undefined {
  if (list === undefined) {
    return undefined;
  }
  const ids = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const known = CLASSIFICATION_LOSSES.map((l) => l.id);
  const unknown = ids.find((id) => !known.includes(id));
  if (unknown !== undefined || ids.length === 0) {
    throw new RangeError(`--detection-losses: ${unknown === undefined ? 'empty list' : `unknown loss '${unknown}'`}; ` +
                         `expected any of ${known.join(', ')}`);
  }
  return ids;
}

export class HelpRequested extends Error {
  constructor() {
    super(USAGE);
  }
}

/** Progress on stderr: one rewritten line on a terminal, otherwise a line every few seconds. */
class Progress {
  private lastPrint = 0;
  private lastStage = '';

  constructor(private readonly quiet: boolean) {}

  update = (message: string): void => {
    if (this.quiet) {
      return;
    }
    if (process.stderr.isTTY) {
      process.stderr.write(`\r\x1b[K${message}`);
      return;
    }
    const stage = message.split(':')[0];
    const now = Date.now();
    if (stage !== this.lastStage || now - this.lastPrint > 5000) {
      process.stderr.write(`${message}\n`);
      this.lastPrint = now;
      this.lastStage = stage;
    }
  };

  done(): void {
    if (!this.quiet && process.stderr.isTTY) {
      process.stderr.write('\r\x1b[K');
    }
  }
}

function gitCommit(): string | null {
  try {
    const commit = childProcess.execSync('git describe --always --dirty', {stdio: ['ignore', 'pipe', 'ignore']})
                       .toString().trim();
    return commit || null;
  } catch {
    return null;
  }
}

function tfjsNodeVersion(): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@tensorflow/tfjs-node/package.json') as {version: string}).version;
  } catch {
    return null;
  }
}

/** A fact from the addon, or `fallback` when it does not load (the sections then report the error). */
function addonInfo<T>(read: (api: typeof focal) => T, fallback: T): T {
  try {
    return read(focal);
  } catch {
    return fallback;
  }
}

let tfjsNodeLoadError: string | null | undefined;

/** Loads @tensorflow/tfjs-node once (registers backend 'tensorflow'); returns the error, if any. */
function loadTfjsNode(): string | null {
  if (tfjsNodeLoadError === undefined) {
    process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL ?? '2';
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-node');
      tfjsNodeLoadError = null;
    } catch (e) {
      tfjsNodeLoadError = (e as Error).message.split('\n')[0];
    }
  }
  return tfjsNodeLoadError;
}

async function activateBackend(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    const problem = loadTfjsNode();
    if (problem !== null) {
      throw new Error(`@tensorflow/tfjs-node does not load: ${problem}`);
    }
  }
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`could not activate tfjs backend '${name}' (active: ${tf.getBackend()})`);
  }
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const progress = new Progress(options.quiet);
  const print = (text: string) => {
    if (!options.quiet) {
      process.stdout.write(`${text}\n`);
    }
  };
  const has = (s: Section) => options.sections.includes(s);
  const timing: TimingOptions = {reps: options.reps, warmup: options.warmup, warmupMs: options.warmupMs,
                                 minSampleMs: options.minSampleMs};
  const cpus = os.cpus();
  const results: BenchResults = {
    meta: {
      startedAt: new Date(started).toISOString(),
      command: options.command,
      machine: {
        cpuModel: cpus.length > 0 ? cpus[0].model.trim() : 'unknown',
        logicalCores: cpus.length,
        totalMemoryGiB: os.totalmem() / 2 ** 30,
        platform: `${os.type()} ${os.release()} ${os.arch()}`,
        loadAverageAtStart: os.loadavg(),
      },
      node: process.version,
      tfjsCore: tf.version_core,
      tfjsNode: null,
      simdLevel: addonInfo((a) => a.simdLevel(), 'addon not loaded'),
      defaultThreads: addonInfo((a) => a.getNumThreads(), NaN),
      environment: Object.fromEntries(['TFJS_FOCAL_LOSS_SIMD', 'TFJS_FOCAL_LOSS_NUM_THREADS', 'TFJS_FOCAL_LOSS_ADDON']
                                          .filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!])),
      gitCommit: gitCommit(),
      quick: options.quick,
      sectionSeconds: {},
    },
    config: {
      backends: [...options.backends], shapes: options.shapes.map((s) => s.label), reps: options.reps,
      warmup: options.warmup, warmupMs: options.warmupMs, minSampleMs: options.minSampleMs, seeds: options.seeds,
      epochs: options.epochs, sections: [...options.sections], kernelShape: options.kernelShape.label,
      threadShapes: options.threadShapes.map((s) => s.label), outDir: options.outDir,
      budgetSeconds: options.budgetSeconds,
    },
    speed: [], threads: [], kernel: null, torch: null, effect: null, detection: null, figures: [], notes: [], errors: [],
  };
  if (os.loadavg()[0] > cpus.length * 0.5) {
    results.notes.push(`The machine was busy when the run started (1-minute load average ${os.loadavg()[0].toFixed(2)} on ` +
                       `${cpus.length} logical cores): timings are noisy; compare ratios within this run only.`);
  }

  // Backends that cannot be activated are reported and left out rather than silently replaced.
  const backends: BackendName[] = [];
  for (const backend of options.backends) {
    try {
      await activateBackend(backend);
      backends.push(backend);
    } catch (e) {
      results.errors.push({section: 'setup', message: `backend '${backend}' left out: ${(e as Error).message}`});
    }
  }
  if (backends.includes('tensorflow')) {
    results.meta.tfjsNode = tfjsNodeVersion();
  }
  const section = async (name: string, body: () => Promise<void> | void) => {
    const sectionStart = Date.now();
    try {
      await body();
      results.meta.sectionSeconds[name] = (Date.now() - sectionStart) / 1000;
    } catch (e) {
      const err = e as Error;
      results.errors.push({section: name, message: err.message, stack: err.stack});
      if (!options.quiet) {
        process.stderr.write(`\nsection ${name} failed: ${err.stack ?? err.message}\n`);
      }
    }
  };

  if (has('speed')) {
    for (const backend of backends) {
      await section(`speed/${backend}`, async () => {
        await activateBackend(backend);
        const result = measureSpeed({...timing, backend, shapes: options.shapes, progress: progress.update,
                                     budgetSeconds: options.budgetSeconds});
        results.speed.push(result);
        progress.done();
        print(terminalSummary({...results, speed: [result], threads: [], kernel: null, torch: null, effect: null, errors: []}));
      });
    }
  }
  if (has('kernel')) {
    await section('kernel', () => {
      results.kernel = measureKernel(options.kernelShape, timing, progress.update);
    });
    for (const backend of backends) {
      await section(`threads/${backend}`, async () => {
        await activateBackend(backend);
        for (const shape of options.threadShapes) {
          results.threads.push(measureThreadScaling(backend, shape, timing, progress.update));
        }
      });
    }
    progress.done();
    print(terminalSummary({...results, speed: [], torch: null, effect: null, errors: []}));
  }
  if (has('torch') && backends.length > 0) {
    await section('torch', async () => {
      await activateBackend(backends[0]);
      results.torch = runTorch(backends[0], options.kernelShape, timing, 2, progress.update);
      progress.done();
      print(terminalSummary({...results, speed: [], threads: [], kernel: null, effect: null, errors: []}));
    });
  }
  if (has('effect') && backends.length > 0) {
    await section('effect', async () => {
      await activateBackend(backends[0]);
      results.effect = await measureEffect({
        seeds: options.seeds, epochs: options.epochs, progress: progress.update,
        dataset: {maxCount: options.datasetMaxCount, testPerClass: options.testPerClass},
      });
      progress.done();
      print(terminalSummary({...results, speed: [], threads: [], kernel: null, torch: null, errors: []}));
    });
  }

  fs.mkdirSync(options.outDir, {recursive: true});
  if (has('detection') && !backends.includes('tensorflow')) {
    results.notes.push('Detection section skipped: it trains a conv net on backend tensorflow (@tensorflow/tfjs-node), ' +
                       `which this run does not use (backends: ${backends.join(', ') || 'none'}); the pure-JS cpu ` +
                       'backend is far too slow for it (not even 20 training steps in 9 minutes on 2 cores).');
    print(results.notes[results.notes.length - 1]);
  } else if (has('detection')) {
    await section('detection', async () => {
      await activateBackend('tensorflow');
      const detection = runDetectionSection(options.detection, 'tensorflow', options.outDir, progress.update, (line) => {
        progress.done();
        if (!options.quiet) {
          process.stderr.write(`${line}\n`);
        }
      });
      results.detection = detection.result;
      results.figures.push(...detection.figures);
      progress.done();
      print(`\n${detectionTerminal(detection.result)}`);
    });
  }
  if (has('detection-sweep') && !backends.includes('tensorflow')) {
    results.notes.push('Detection sweep skipped: it trains on backend tensorflow (@tensorflow/tfjs-node), which this ' +
                       `run does not use (backends: ${backends.join(', ') || 'none'}).`);
    print(results.notes[results.notes.length - 1]);
  } else if (has('detection-sweep')) {
    await section('detection-sweep', async () => {
      await activateBackend('tensorflow');
      const log = (line: string) => {
        progress.done();
        if (!options.quiet) {
          process.stderr.write(`${line}\n`);
        }
      };
      const writeReport = () => writeSweepReport(options.sweepOut);
      const outcome = runSweep({settings: options.sweep, outDir: options.sweepOut, backend: 'tensorflow',
                                commit: results.meta.gitCommit, maxRuns: options.sweepMaxRuns,
                                progress: progress.update, log, onRunFinished: writeReport});
      const files = writeReport();
      progress.done();
      results.detectionSweep = {outDir: options.sweepOut, ...outcome, files};
      print(`\nDetection sweep: ${outcome.trained.length} runs trained now, ${outcome.skipped.length} found finished, ` +
            `${outcome.remaining} still to do; report in ${files.join(', ')}` +
            (outcome.remaining > 0 ? '. Run the same command again to resume.' : ''));
    });
  }
  if (has('figures')) {
    await section('figures', () => {
      const add = (file: string, title: string, svg: string) => {
        writeSvg(options.outDir, file, svg);
        results.figures.push({file, title} as FigureInfo);
      };
      add('focal_loss_curves.svg', 'Focal loss against p_t for γ ∈ {0, 0.5, 1, 2, 5}', focalCurveChart());
      for (const speed of results.speed) {
        add(`speed_${speed.backend}.svg`, `Speed chart, backend ${speed.backend}`, speedChart(speed));
      }
      if (results.effect) {
        add('training_curves.svg', 'Training curves on imbalanced MNIST', curvesChart(results.effect));
      }
    });
  }

  results.meta.machine.loadAverageAtEnd = os.loadavg();
  results.meta.durationSeconds = (Date.now() - started) / 1000;
  fs.writeFileSync(path.join(options.outDir, 'results.json'), JSON.stringify(results, null, 1));
  fs.writeFileSync(path.join(options.outDir, 'REPORT.md'), markdownReport(results));
  for (const e of results.errors) {
    print(`ERROR in section ${e.section}: ${e.message}`);
  }
  print(`\nWrote ${path.join(options.outDir, 'results.json')}, REPORT.md and ${results.figures.length} SVG figures ` +
        `in ${results.meta.durationSeconds.toFixed(0)} s.`);
  return results;
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const results = await runBench(options);
  if (results.errors.length > 0) {
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exitCode = 1;
  });
}
