// The detection sweep (`--sections detection-sweep`): its estimate of what remains (an injected
// clock's numbers, not the machine's), the result writer on hand-made runs, the guard against
// resuming with other settings, and — on backend tensorflow — the resume path: the tiny --quick
// sweep run whole, then in pieces (interrupted after one run, resumed, a finished run deleted and
// resumed again), checking that finished runs are not trained again and that the result is the same.
//
// The training runs in a child process on the compiled CLI, as in bench_smoke.test.ts (tfjs-core's
// `instanceof Variable` check can fail across jest realms, and tf.tidy then disposes Adam's variables).
import * as childProcess from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import {BenchResults} from '../bench/report';
import {parseArgs} from '../bench/run';
import {estimateRemaining, runFile, runSweep, SWEEP_MANIFEST, SweepRunRecord, sweepProgressLine, sweepSettings,
        writeJsonAtomically} from '../bench/detection/sweep';
import {differenceFromBaseline, missingRuns, readSweep, sweepDifferenceChart, sweepMarkdown,
        writeSweepReport} from '../bench/detection/sweep_report';

const ROOT = path.resolve(__dirname, '..');
const backend = process.env.FOCAL_TEST_BACKEND ?? 'tensorflow';
const jsArrays = process.env.TFJS_FOCAL_LOSS_TF_OPS === '0';

function temporaryDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'focal-sweep-'));
}

describe('the estimate of what remains', () => {
  it('uses the seconds per step measured on each canvas, the full budget for every run left', () => {
    // 64 px: 100 s for 400 steps (0.25 s/step); 128 px: 300 s for 500 steps (0.6 s/step).
    const measured = [{canvas: 64, seconds: 60, steps: 200}, {canvas: 64, seconds: 40, steps: 200},
                      {canvas: 128, seconds: 300, steps: 500}];
    expect(estimateRemaining(measured, [64, 128, 128], 1000)).toBeCloseTo(1000 * (0.25 + 0.6 + 0.6), 9);
  });

  it('scales the nearest measured size by the area for a size not measured yet', () => {
    expect(estimateRemaining([{canvas: 64, seconds: 10, steps: 100}], [256], 50)).toBeCloseTo(50 * 0.1 * 16, 9);
    expect(estimateRemaining([{canvas: 64, seconds: 10, steps: 100}, {canvas: 200, seconds: 10, steps: 10}], [256], 1))
        .toBeCloseTo(1 * (256 / 200) ** 2, 9);
  });

  it('is unknown before a run was measured, zero when nothing remains', () => {
    expect(estimateRemaining([], [64], 10)).toBe(Infinity);
    expect(estimateRemaining([{canvas: 64, seconds: 0, steps: 0}], [64], 10)).toBe(Infinity);
    expect(estimateRemaining([], [], 10)).toBe(0);
  });

  it('prints setting, loss, seed, runs done and the time left', () => {
    const line = sweepProgressLine({canvas: 128, settingIndex: 1, settings: 3, loss: 'focal', seed: 2, finished: 20,
                                    total: 54, elapsedSeconds: 3725, remainingSeconds: 7260});
    expect(line).toBe('detection-sweep: canvas 128 (setting 2/3), focal, seed 2; 20/54 runs finished, ' +
                      '1 h 2 min elapsed, at most about 2 h 1 min left');
    expect(sweepProgressLine({canvas: 64, settingIndex: 0, settings: 3, loss: 'bce', seed: 1, finished: 0, total: 54,
                              elapsedSeconds: 0, remainingSeconds: Infinity})).toContain('at most about ? left');
  });
});

describe('sweep settings and arguments', () => {
  it('sweeps at least an order of magnitude of canvas area with every loss of issue 26 and one budget', () => {
    const full = sweepSettings(false);
    const sides = [...full.canvases].sort((a, b) => a - b);
    expect((sides[sides.length - 1] / sides[0]) ** 2).toBeGreaterThanOrEqual(10);
    expect(sides.length).toBeGreaterThanOrEqual(3);
    expect(full.losses).toEqual(['bce', 'alpha_bce', 'focal', 'focal_g1', 'varifocal', 'quality_focal']);
    expect(full.seeds.length).toBeGreaterThanOrEqual(3);
    expect(full.patience * full.evalEvery).toBeLessThan(full.maxSteps);
  });

  it('leaves the sweep out of a plain run and in a --quick run, with its folder and piece size', () => {
    expect(parseArgs([]).sections).not.toContain('detection-sweep');
    expect(parseArgs(['--quick']).sections).toContain('detection-sweep');
    expect(parseArgs(['--sections', 'detection-sweep']).sweepOut).toBe(path.resolve('bench/results/detection_sweep'));
    const o = parseArgs(['--quick', '--out', '/tmp/x', '--sweep-max-runs', '3']);
    expect([o.sweepOut, o.sweepMaxRuns, o.sweep.maxSteps]).toEqual([path.resolve('/tmp/x/detection_sweep'), 3, 8]);
    expect(() => parseArgs(['--sweep-max-runs', '0'])).toThrow(/--sweep-max-runs expects an integer >= 1; received 0/);
  });
});

/** A finished run as the sweep writes it, with the fields the report reads. */
function record(canvas: number, negativesPerPositive: number, loss: string, seed: number, map50: number): SweepRunRecord {
  return {
    imbalance: {canvas, grid: canvas / 4, outputsPerImage: (canvas / 4) ** 2 * 10, positivesPerImage: 12.5,
                negativesPerPositive},
    loss, seed, backend: 'tensorflow', commit: 'abc1234', finishedAt: '2026-01-01T00:00:00.000Z',
    run: {loss, seed, map50, apPerClass: [], trainSeconds: 100, evalSeconds: 20, curve: [], bestStep: 400,
          bestValidationMap50: map50, stepsTrained: 600},
  };
}

describe('the result writer, from whatever runs have finished', () => {
  let dir: string;
  beforeAll(() => {
    dir = temporaryDir();
    const settings = {...sweepSettings(true), canvases: [32, 48], losses: ['bce', 'focal', 'varifocal'], seeds: [1, 2]};
    writeJsonAtomically(path.join(dir, SWEEP_MANIFEST), {settings});
    const runs = [
      record(32, 60, 'bce', 1, 0.50), record(32, 60, 'bce', 2, 0.54),
      record(32, 60, 'focal', 1, 0.40), record(32, 60, 'focal', 2, 0.46),
      record(32, 60, 'varifocal', 1, 0.52),
      record(48, 108, 'bce', 1, 0.30), record(48, 108, 'focal', 1, 0.35),
    ];
    // Trained the whole budget (8 steps) with the best at the end: flagged as cut off.
    runs[6].run.stepsTrained = 8;
    runs[6].run.bestStep = 8;
    for (const r of runs) {
      writeJsonAtomically(runFile(dir, r.imbalance.canvas, r.loss, r.seed), r);
    }
  });

  it('pairs each loss with BCE by seed and applies the verdict rule', () => {
    const state = readSweep(dir);
    expect(state.records).toHaveLength(7);
    const focal = differenceFromBaseline(state.records, 32, 'focal')!;
    expect(focal.pairedDifferences.map((d) => +d.toFixed(9))).toEqual([-0.1, -0.08]);
    expect(focal.meanDifference).toBeCloseTo(-0.09, 12);
    expect(focal.exceedsSpread).toBe(true);  // [0.40, 0.46] against [0.50, 0.54]
    expect(differenceFromBaseline(state.records, 32, 'varifocal')!.pairedDifferences.map((d) => +d.toFixed(9))).toEqual([0.02]);
    expect(differenceFromBaseline(state.records, 48, 'varifocal')).toBeNull();
  });

  it('names the missing runs per setting', () => {
    const state = readSweep(dir);
    expect(missingRuns(state, 32)).toEqual(['varifocal seed 2']);
    expect(missingRuns(state, 48)).toEqual(['bce seed 2', 'focal seed 2', 'varifocal seed 1', 'varifocal seed 2']);
  });

  it('writes a table per setting with the measured imbalance, and the figure against negatives per positive', () => {
    const files = writeSweepReport(dir);
    expect(files.map((f) => path.basename(f))).toEqual(['SWEEP.md', 'sweep_map_difference.svg']);
    const md = fs.readFileSync(files[0], 'utf8');
    expect(md).toContain('Finished runs: 7 of 12.');
    expect(md).toContain('### Canvas 32×32: 60 negatives per positive');
    expect(md).toContain('### Canvas 48×48: 108 negatives per positive');
    expect(md).toContain('| focal (γ 2, α 0.25) | 43.0 ± 4.2 | 40.0 (s1), 46.0 (s2) | -9.0 (2 seeds); lower on every seed ' +
                         'and beyond the seed-to-seed spread | 400, 400 | 600, 600 | 100 |');
    expect(md).toContain('Missing (not finished yet): varifocal seed 2.');
    expect(md).toContain('| focal (γ 2, α 0.25) | 35.0 (1 seed) | 35.0 (s1) | +5.0 (1 seed); one seed: spread not ' +
                         'measured, no conclusion | 8 (budget) | 8 | 100 |');
    expect(md).toContain('Still improving when the budget ended (best validation at the last of 8 steps, marked ' +
                         '"(budget)"): focal seed 1; their mAP may be too low.');
    expect(md.match(/\(budget\)/g)).toHaveLength(2);
    expect(md).toContain('early stopping after 2 evaluations (4 steps) without a new best');
    const svg = fs.readFileSync(files[1], 'utf8');
    expect(svg).toContain('negative class outputs per positive (log scale)');
    expect(svg).toContain('varifocal (α 0.75, γ 2, IoU target)');
    expect(sweepMarkdown(readSweep(dir), null)).not.toContain('.svg');
    expect(sweepDifferenceChart(readSweep(dir))).toMatch(/^<svg|^<\?xml/);
  });

  it('refuses to resume a folder that holds a sweep with other settings (before any training)', () => {
    expect(() => runSweep({settings: sweepSettings(true), outDir: dir, backend: 'tensorflow', commit: null}))
        .toThrow(/holds a sweep with other settings .*resume it with those settings or choose another folder with --sweep-out/);
  });

  it('writes a run file whole or not at all (no temporary file left)', () => {
    const file = path.join(dir, 'atomic', 'x.json');
    writeJsonAtomically(file, {a: 1});
    writeJsonAtomically(file, {a: 2});
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({a: 2});
    expect(fs.readdirSync(path.dirname(file))).toEqual(['x.json']);
  });
});

const trains = backend === 'tensorflow' && !jsArrays;

(trains ? describe : describe.skip)('resume: the tiny sweep whole, then in pieces (backend tensorflow)', () => {
  let work: string;
  let compiled: string;

  function sweep(outDir: string, ...extra: string[]): BenchResults['detectionSweep'] {
    const out = path.join(work, `bench-${path.basename(outDir)}-${Math.random().toString(36).slice(2)}`);
    const run = childProcess.spawnSync(process.execPath, [
      path.join(compiled, 'bench', 'run.js'), '--quick', '--backend', 'tensorflow', '--sections', 'detection-sweep',
      '--out', out, '--sweep-out', outDir, ...extra,
    ], {
      cwd: ROOT, encoding: 'utf8', timeout: 240000,
      env: {...process.env, NODE_PATH: path.join(ROOT, 'node_modules'),
            TFJS_FOCAL_LOSS_ADDON: path.join(ROOT, 'build', 'Release', 'focal_loss.node')},
    });
    if (run.status !== 0) {
      throw new Error(`bench exited with ${run.status} ${run.signal ?? ''}:\n${run.stdout}\n${run.stderr}`);
    }
    return (JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as BenchResults).detectionSweep;
  }

  const runFiles = (dir: string) => ['32', '48'].flatMap((c) => ['bce', 'focal'].map(
      (loss) => path.relative(dir, runFile(dir, Number(c), loss, 1))));
  const trainedPart = (dir: string, file: string) => {
    const r = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as SweepRunRecord;
    const {trainSeconds: _t, evalSeconds: _e, ...rest} = r.run;
    return {imbalance: r.imbalance, run: rest};
  };

  beforeAll(() => {
    work = temporaryDir();
    compiled = path.join(work, 'dist');
    const tsc = childProcess.spawnSync(
        process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json'), '--outDir', compiled],
        {cwd: ROOT, encoding: 'utf8'});
    if (tsc.status !== 0) {
      throw new Error(`tsc failed (${tsc.status}):\n${tsc.stdout}${tsc.stderr}`);
    }
  });

  it('skips finished runs, trains the rest, and ends with the same result as one whole run', () => {
    const whole = path.join(work, 'whole');
    expect(sweep(whole)).toMatchObject({trained: ['32/bce/1', '32/focal/1', '48/bce/1', '48/focal/1'], skipped: [],
                                        remaining: 0});

    const pieces = path.join(work, 'pieces');
    // Interrupted after one run: one file, the report says which runs are missing.
    expect(sweep(pieces, '--sweep-max-runs', '1')).toMatchObject({trained: ['32/bce/1'], remaining: 3});
    expect(fs.readFileSync(path.join(pieces, 'SWEEP.md'), 'utf8')).toContain('Missing (not finished yet): focal seed 1.');
    const first = path.join(pieces, runFiles(pieces)[0]);
    const firstContent = fs.readFileSync(first, 'utf8');
    const firstTime = fs.statSync(first).mtimeMs;

    // Resumed: the finished run is skipped, not trained again (file untouched).
    expect(sweep(pieces)).toMatchObject({trained: ['32/focal/1', '48/bce/1', '48/focal/1'], skipped: ['32/bce/1'],
                                         remaining: 0});
    expect(fs.readFileSync(first, 'utf8')).toBe(firstContent);
    expect(fs.statSync(first).mtimeMs).toBe(firstTime);

    // A lost result: only that run is trained again.
    fs.rmSync(path.join(pieces, runFiles(pieces)[2]));
    expect(sweep(pieces)).toMatchObject({trained: ['48/bce/1'], skipped: ['32/bce/1', '32/focal/1', '48/focal/1']});

    // The same runs and the same report tables as the whole sweep (timings aside).
    for (const file of runFiles(whole)) {
      expect(trainedPart(pieces, file)).toEqual(trainedPart(whole, file));
    }
    const tables = (dir: string) => fs.readFileSync(path.join(dir, 'SWEEP.md'), 'utf8').split('\n')
                                        .filter((l) => l.startsWith('|')).map((l) => l.split(' | ').slice(0, 6).join(' | '));
    expect(tables(pieces)).toEqual(tables(whole));
    expect(tables(whole).length).toBeGreaterThan(0);
  });
});
