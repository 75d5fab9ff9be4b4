// PyTorch comparison: runs bench/torch_focal.py (the focal loss as the source documents write it,
// forward + backward, torch.set_num_threads(2)) and measures this library on the same shape in the
// same way, so the report can put both figures side by side.
import * as childProcess from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import * as focal from '../lib/index';
import {BackendName, lossFunction, makeSpeedInputs, disposeSpeedInputs, perRoundRatios, ProgressFn, runInterleaved, ShapeSpec, shapeClasses, shapeRows, TimingOptions, trainingStepCall} from './speed';
import {Summary, summarize} from '../lib/compare/stats';

export interface TorchScriptOutput {
  torch_version: string;
  python_version: string;
  threads: number;
  rows: number;
  classes: number;
  reps: number;
  warmup: number;
  focal_ms: Summary;
  ce_ms: Summary;
  focal_over_ce: Summary;
}

export interface TorchResult {
  skipped?: string;
  python?: string;
  shape: string;
  threads: number;
  torch?: TorchScriptOutput;
  /** This library on the same shape, measured in this process right before PyTorch ran. */
  library?: {
    backend: BackendName;
    focalSparse: Summary;
    softmaxCe: Summary;
    focalOverCe: Summary;
  };
}

/** Candidate interpreters: env FOCAL_BENCH_PYTHON, a .venv in the repository, python3 on PATH. */
export function pythonCandidates(): string[] {
  const fromEnv = process.env.FOCAL_BENCH_PYTHON;
  if (fromEnv) {
    return [fromEnv];
  }
  // Compiled to dist/bench, so the repository root is two levels up.
  return [path.resolve(__dirname, '..', '..', '.venv', 'bin', 'python'), 'python3'];
}

/** The first interpreter that imports torch, or the reason none does. */
export function findTorchPython(candidates = pythonCandidates()): {python?: string; reason?: string} {
  const reasons: string[] = [];
  for (const python of candidates) {
    if (path.isAbsolute(python) && !fs.existsSync(python)) {
      reasons.push(`${python}: not found`);
      continue;
    }
    const probe = childProcess.spawnSync(python, ['-c', 'import torch; print(torch.__version__)'],
                                         {encoding: 'utf8', timeout: 60000});
    if (probe.error) {
      reasons.push(`${python}: ${probe.error.message}`);
    } else if (probe.status !== 0) {
      const lastLine = (probe.stderr || '').trim().split('\n').pop() ?? `exit ${probe.status}`;
      reasons.push(`${python}: ${lastLine}`);
    } else {
      return {python};
    }
  }
  return {reason: `no Python with torch (${reasons.join('; ')})`};
}

export function runTorch(backend: BackendName, shape: ShapeSpec, timing: TimingOptions,
                         threads: number, progress?: ProgressFn): TorchResult {
  const base: TorchResult = {shape: shape.label, threads};
  if (shape.dims.length !== 2) {
    return {...base, skipped: 'the PyTorch comparison takes a rank-2 shape (rows x classes)'};
  }
  const found = findTorchPython();
  if (found.python === undefined) {
    return {...base, skipped: found.reason};
  }

  progress?.(`torch: library at ${shape.label} on ${backend}`);
  const original = focal.getNumThreads();
  focal.setNumThreads(threads);
  const inputs = makeSpeedInputs(shape.dims);
  let library: TorchResult['library'];
  try {
    const {samples} = runInterleaved([
      {id: 'focal', run: trainingStepCall(lossFunction('focal_sparse', inputs), inputs.logits)},
      {id: 'ce', run: trainingStepCall(lossFunction('ce', inputs), inputs.logits)},
    ], timing);
    library = {
      backend,
      focalSparse: summarize(samples.get('focal')!),
      softmaxCe: summarize(samples.get('ce')!),
      focalOverCe: summarize(perRoundRatios(samples.get('focal')!, samples.get('ce')!)),
    };
  } finally {
    disposeSpeedInputs(inputs);
    focal.setNumThreads(original);
  }

  progress?.(`torch: PyTorch at ${shape.label} (${found.python})`);
  const script = path.join(__dirname, '..', '..', 'bench', 'torch_focal.py');
  const scriptPath = fs.existsSync(script) ? script : path.join(__dirname, 'torch_focal.py');
  const run = childProcess.spawnSync(found.python, [
    scriptPath, '--rows', String(shapeRows(shape.dims)), '--classes', String(shapeClasses(shape.dims)),
    '--reps', String(timing.reps), '--warmup', String(timing.warmup), '--threads', String(threads),
  ], {encoding: 'utf8', timeout: 600000});
  if (run.status !== 0) {
    return {...base, python: found.python, library,
            skipped: `torch_focal.py failed: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`};
  }
  try {
    const torch = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as TorchScriptOutput;
    return {...base, python: found.python, torch, library};
  } catch (e) {
    return {...base, python: found.python, library,
            skipped: `torch_focal.py printed no JSON: ${(e as Error).message}`};
  }
}
