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
import {estimateRemaining, ImbalanceLevel, levelKey, runFile, runSweep, SWEEP_MANIFEST, SweepRunRecord, sweepProgressLine,
        sweepSettings, writeJsonAtomically} from '../bench/detection/sweep';
import {differenceFromBaseline, missingRuns, readSweep, sweepDifferenceChart, sweepMarkdown,
        writeSweepReport} from '../bench/detection/sweep_report';

const ROOT = path.resolve(__dirname, '..');
const backend = process.env.FOCAL_TEST_BACKEND ?? 'tensorflow';
const jsArrays = process.env.TFJS_FOCAL_LOSS_TF_OPS === '0';

function temporaryDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'focal-sweep-'));
}

/** An anchor-free level (one anchor per cell) of a canvas side. */
const side = (canvas: number): ImbalanceLevel => ({canvas, anchors: 1});

describe('the estimate of what remains', () => {
  it('uses the seconds per step measured on each level, the full budget for every run left', () => {
    // 64 px: 100 s for 400 steps (0.25 s/step); 128 px: 300 s for 500 steps (0.6 s/step); 128 px with
    // 4 anchors: 70 s for 100 steps, apart from the anchor-free 128 px.
    const measured = [{level: side(64), seconds: 60, steps: 200}, {level: side(64), seconds: 40, steps: 200},
                      {level: side(128), seconds: 300, steps: 500}, {level: {canvas: 128, anchors: 4}, seconds: 70, steps: 100}];
    expect(estimateRemaining(measured, [side(64), side(128), side(128), {canvas: 128, anchors: 4}], 1000))
        .toBeCloseTo(1000 * (0.25 + 0.6 + 0.6 + 0.7), 9);
  });

  it('scales the nearest measured level by its class outputs (area × anchors) for a level not measured yet', () => {
    expect(estimateRemaining([{level: side(64), seconds: 10, steps: 100}], [side(256)], 50)).toBeCloseTo(50 * 0.1 * 16, 9);
    expect(estimateRemaining([{level: side(64), seconds: 10, steps: 100}, {level: side(200), seconds: 10, steps: 10}],
                             [side(256)], 1)).toBeCloseTo(1 * (256 / 200) ** 2, 9);
    expect(estimateRemaining([{level: side(64), seconds: 10, steps: 100}, {level: side(128), seconds: 40, steps: 100}],
                             [{canvas: 128, anchors: 4}], 10)).toBeCloseTo(10 * 0.4 * 4, 9);
  });

  it('is unknown before a run was measured, zero when nothing remains', () => {
    expect(estimateRemaining([], [side(64)], 10)).toBe(Infinity);
    expect(estimateRemaining([{level: side(64), seconds: 0, steps: 0}], [side(64)], 10)).toBe(Infinity);
    expect(estimateRemaining([], [], 10)).toBe(0);
  });

  it('prints setting, loss, seed, runs done and the time left', () => {
    const line = sweepProgressLine({level: side(128), settingIndex: 1, settings: 3, loss: 'focal', seed: 2, finished: 20,
                                    total: 54, elapsedSeconds: 3725, remainingSeconds: 7260});
    expect(line).toBe('detection-sweep: canvas 128 (setting 2/3), focal, seed 2; 20/54 runs finished, ' +
                      '1 h 2 min elapsed, at most about 2 h 1 min left');
    expect(sweepProgressLine({level: {canvas: 128, anchors: 4}, settingIndex: 2, settings: 3, loss: 'bce', seed: 1,
                              finished: 0, total: 54, elapsedSeconds: 0, remainingSeconds: Infinity}))
        .toBe('detection-sweep: canvas 128, 4 anchors per cell (setting 3/3), bce, seed 1; 0/54 runs finished, ' +
              '0 s elapsed, at most about ? left');
  });
});

describe('sweep settings and arguments', () => {
  it('sweeps at least an order of magnitude of class outputs with every loss of issue 26 and one budget', () => {
    const full = sweepSettings(false);
    const outputs = full.levels.map((l) => l.canvas ** 2 * l.anchors).sort((a, b) => a - b);
    expect(outputs[outputs.length - 1] / outputs[0]).toBeGreaterThanOrEqual(10);
    expect(new Set(outputs).size).toBeGreaterThanOrEqual(3);
    expect(new Set(full.levels.map(levelKey)).size).toBe(full.levels.length);
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
function record(level: ImbalanceLevel, negativesPerPositive: number, loss: string, seed: number,
                map50: number): SweepRunRecord {
  const {canvas, anchors} = level;
  return {
    imbalance: {canvas, anchors, grid: canvas / 4, anchorSizes: anchors > 1 ? [10, 20] : null,
                outputsPerImage: (canvas / 4) ** 2 * anchors * 10, positivesPerImage: 12.5, negativesPerPositive},
    loss, seed, backend: 'tensorflow', commit: 'abc1234', finishedAt: '2026-01-01T00:00:00.000Z',
    run: {loss, seed, map50, apPerClass: [], trainSeconds: 100, evalSeconds: 20, curve: [], bestStep: 400,
          bestValidationMap50: map50, stepsTrained: 600},
  };
}

const TWO_ANCHORS: ImbalanceLevel = {canvas: 48, anchors: 2};

describe('the result writer, from whatever runs have finished', () => {
  let dir: string;
  beforeAll(() => {
    dir = temporaryDir();
    const settings = {...sweepSettings(true), levels: [side(32), TWO_ANCHORS], losses: ['bce', 'focal', 'varifocal'],
                      seeds: [1, 2]};
    writeJsonAtomically(path.join(dir, SWEEP_MANIFEST), {settings});
    const runs = [
      record(side(32), 60, 'bce', 1, 0.50), record(side(32), 60, 'bce', 2, 0.54),
      record(side(32), 60, 'focal', 1, 0.40), record(side(32), 60, 'focal', 2, 0.46),
      record(side(32), 60, 'varifocal', 1, 0.52),
      record(TWO_ANCHORS, 108, 'bce', 1, 0.30), record(TWO_ANCHORS, 108, 'focal', 1, 0.35),
      // The same canvas with one anchor per cell: another level, not read for this sweep.
      record(side(48), 50, 'bce', 1, 0.99),
    ];
    // Trained the whole budget (8 steps) with the best at the end: flagged as cut off.
    runs[6].run.stepsTrained = 8;
    runs[6].run.bestStep = 8;
    for (const r of runs) {
      writeJsonAtomically(runFile(dir, r.imbalance, r.loss, r.seed), r);
    }
  });

  it('pairs each loss with BCE by seed and applies the verdict rule', () => {
    const state = readSweep(dir);
    expect(state.records).toHaveLength(7);
    const focal = differenceFromBaseline(state.records, side(32), 'focal')!;
    expect(focal.pairedDifferences.map((d) => +d.toFixed(9))).toEqual([-0.1, -0.08]);
    expect(focal.meanDifference).toBeCloseTo(-0.09, 12);
    expect(focal.exceedsSpread).toBe(true);  // [0.40, 0.46] against [0.50, 0.54]
    expect(differenceFromBaseline(state.records, side(32), 'varifocal')!.pairedDifferences.map((d) => +d.toFixed(9))).toEqual([0.02]);
    expect(differenceFromBaseline(state.records, TWO_ANCHORS, 'varifocal')).toBeNull();
    expect(differenceFromBaseline(state.records, TWO_ANCHORS, 'focal')!.pairedDifferences.map((d) => +d.toFixed(9)))
        .toEqual([0.05]);
  });

  it('names the missing runs per setting', () => {
    const state = readSweep(dir);
    expect(missingRuns(state, side(32))).toEqual(['varifocal seed 2']);
    expect(missingRuns(state, TWO_ANCHORS)).toEqual(['bce seed 2', 'focal seed 2', 'varifocal seed 1', 'varifocal seed 2']);
  });

  it('writes a table per setting with the measured imbalance, and the figure against negatives per positive', () => {
    const files = writeSweepReport(dir);
    expect(files.map((f) => path.basename(f))).toEqual(['SWEEP.md', 'sweep_map_difference.svg']);
    const md = fs.readFileSync(files[0], 'utf8');
    expect(md).toContain('Finished runs: 7 of 12.');
    expect(md).toContain('### Canvas 32×32: 60 negatives per positive');
    expect(md).toContain('### Canvas 48×48, 2 anchors per cell: 108 negatives per positive (measured: 12.5 positives ' +
                         'among 2880 class outputs per canvas, 12×12 grid × 2 anchors of 10.0, 20.0 px)');
    expect(md).toContain('at 2 levels of imbalance: canvases of 32 px (the positives stay, the negative cells grow ' +
                         'with the area), then 48 px with 2 anchors per cell');
    expect(md).not.toContain('99.0');
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

  const runFiles = (dir: string) => sweepSettings(true).levels.flatMap((level) => ['bce', 'focal'].map(
      (loss) => path.relative(dir, runFile(dir, level, loss, 1))));
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
    expect(sweep(whole)).toMatchObject({trained: ['canvas32/bce/1', 'canvas32/focal/1', 'canvas48_anchors2/bce/1',
                                                  'canvas48_anchors2/focal/1'], skipped: [],
                                        remaining: 0});

    const pieces = path.join(work, 'pieces');
    // Interrupted after one run: one file, the report says which runs are missing.
    expect(sweep(pieces, '--sweep-max-runs', '1')).toMatchObject({trained: ['canvas32/bce/1'], remaining: 3});
    expect(fs.readFileSync(path.join(pieces, 'SWEEP.md'), 'utf8')).toContain('Missing (not finished yet): focal seed 1.');
    const first = path.join(pieces, runFiles(pieces)[0]);
    const firstContent = fs.readFileSync(first, 'utf8');
    const firstTime = fs.statSync(first).mtimeMs;

    // Resumed: the finished run is skipped, not trained again (file untouched).
    expect(sweep(pieces)).toMatchObject({trained: ['canvas32/focal/1', 'canvas48_anchors2/bce/1', 'canvas48_anchors2/focal/1'],
                                         skipped: ['canvas32/bce/1'],
                                         remaining: 0});
    expect(fs.readFileSync(first, 'utf8')).toBe(firstContent);
    expect(fs.statSync(first).mtimeMs).toBe(firstTime);

    // A lost result: only that run is trained again.
    fs.rmSync(path.join(pieces, runFiles(pieces)[2]));
    expect(sweep(pieces)).toMatchObject({trained: ['canvas48_anchors2/bce/1'],
                                         skipped: ['canvas32/bce/1', 'canvas32/focal/1', 'canvas48_anchors2/focal/1']});

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
