// Smoke test of the benchmark (`npm run bench`): compiles bench/ and lib/ with tsc into a temporary
// folder and runs the CLI there as a child process, in quick mode on tiny sizes, on the backend this
// jest run uses (FOCAL_TEST_BACKEND); then checks that the JSON, markdown and SVG outputs exist and
// are well-formed. No timing assertions: only that every measurement is a finite positive number.
//
// A child process rather than an in-process call: it runs the compiled CLI exactly as `npm run bench`
// does, in plain node, independent of jest's module realms (where tfjs-core's `instanceof Variable`
// check can fail and tf.tidy then disposes the Adam optimizer's internal variables).
//
// Also checks, in-process, the pieces the numbers rest on: the composed tfjs focal loss (the "no
// library" contender) computes the same loss and gradient as the library, the statistics, the data
// set split, the metrics and the argument parser. The detection section runs at its real --quick
// size (its pieces are tested in detection_metrics.test.ts and detection_model.test.ts); on the cpu
// backend it is skipped with a stated reason.
import * as childProcess from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs-core';

import * as focal from '../lib/index';
import {composedFocalLoss, composedSigmoidFocalLoss} from '../bench/composed';
import {geometricCounts, loadImbalancedMnist, PIXELS} from '../bench/dataset';
import {BenchResults} from '../bench/report';
import {parseArgs} from '../bench/run';
import {autorangeCalls, CONTENDERS, MAX_CALLS_PER_SAMPLE, runInterleaved, threadCountsToMeasure,
        TimedCase} from '../bench/speed';
import {quantile, summarize} from '../lib/compare/stats';
import {makeScale} from '../lib/compare/svg';

const ROOT = path.resolve(__dirname, '..');
const backend = process.env.FOCAL_TEST_BACKEND ?? 'tensorflow';

/** The calls per sample autorange can choose: 1, 2, 5, 10, 20, 50, ..., 10000. */
const AUTORANGE_COUNTS = [0, 1, 2, 3].flatMap((e) => [1, 2, 5].map((m) => m * 10 ** e)).concat([MAX_CALLS_PER_SAMPLE]);

function expectCallsPerSample(calls: number): void {
  expect(AUTORANGE_COUNTS).toContain(calls);
}

/**
 * A fake clock for the timing harness (TimingOptions.clock): a case "takes" `ms` by advancing it,
 * so the harness's decisions are exact and independent of the machine's load.
 */
function fakeClock(): {now: () => number; spin: (ms: number) => void} {
  let t = 0;
  return {now: () => t, spin: (ms) => { t += ms; }};
}

/**
 * Minimal XML well-formedness check: every tag closed in order, attributes quoted, no raw '&' or
 * '<' in text, exactly one root <svg> with the SVG namespace. Returns the problems found.
 */
function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  if (!/^<svg\s[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/.test(body)) {
    problems.push('does not start with <svg xmlns="http://www.w3.org/2000/svg" ...>');
  }
  const stack: string[] = [];
  const tagPattern = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let position = 0;
  let roots = 0;
  for (let match = tagPattern.exec(body); match !== null; match = tagPattern.exec(body)) {
    const between = body.slice(position, match.index);
    if (/[<>]/.test(between)) {
      problems.push(`malformed markup near: ${between.slice(0, 60)}`);
    }
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(between)) {
      problems.push(`unescaped & in text: ${between.slice(0, 60)}`);
    }
    position = match.index + match[0].length;
    const [, closing, name, , selfClosing] = match;
    if (closing) {
      const open = stack.pop();
      if (open !== name) {
        problems.push(`</${name}> closes <${open}>`);
      }
    } else if (!selfClosing) {
      if (stack.length === 0) {
        roots++;
      }
      stack.push(name);
    } else if (stack.length === 0) {
      roots++;
    }
  }
  if (body.slice(position).trim() !== '') {
    problems.push(`trailing content: ${body.slice(position, position + 60)}`);
  }
  if (stack.length > 0) {
    problems.push(`unclosed tags: ${stack.join(', ')}`);
  }
  if (roots !== 1) {
    problems.push(`${roots} root elements`);
  }
  if (/NaN|Infinity|undefined/.test(body)) {
    problems.push('contains NaN, Infinity or undefined');
  }
  return problems;
}

describe(`bench smoke run (--quick, tiny sizes, backend ${backend})`, () => {
  let workDir: string;
  let outDir: string;
  let results: BenchResults;
  let stdout: string;
  let stderr: string;

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'focal-bench-smoke-'));
    const compiled = path.join(workDir, 'dist');
    outDir = path.join(workDir, 'out');
    const tsc = childProcess.spawnSync(
        process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json'),
                           '--outDir', compiled],
        {cwd: ROOT, encoding: 'utf8'});
    if (tsc.status !== 0) {
      throw new Error(`tsc failed (${tsc.status}):\n${tsc.stdout}${tsc.stderr}`);
    }
    const run = childProcess.spawnSync(process.execPath, [
      path.join(compiled, 'bench', 'run.js'),
      '--quick', '--backend', backend, '--shapes', '8x5,2x3x4x6', '--reps', '3', '--warmup', '1',
      '--warmup-ms', '20', '--min-sample-ms', '1', '--seeds', '2', '--epochs', '2', '--kernel-shape', '64x10',
      '--thread-shapes', '64x10,256x4', '--dataset-max', '40', '--out', outDir,
    ], {
      cwd: ROOT, encoding: 'utf8', timeout: 240000,
      env: {
        ...process.env,
        // The compiled copy lives outside the package: resolve packages and the addon from it.
        NODE_PATH: path.join(ROOT, 'node_modules'),
        TFJS_FOCAL_LOSS_ADDON: path.join(ROOT, 'build', 'Release', 'focal_loss.node'),
        // An interpreter that does not exist: the PyTorch section must be skipped with a stated
        // reason (and the smoke test stays fast and independent of the Python install).
        FOCAL_BENCH_PYTHON: path.join(workDir, 'no-such-python'),
      },
    });
    stdout = run.stdout ?? '';
    stderr = run.stderr ?? '';
    if (run.status !== 0) {
      throw new Error(`bench exited with ${run.status} ${run.signal ?? ''}:\n${stdout}\n${stderr}`);
    }
    results = JSON.parse(fs.readFileSync(path.join(outDir, 'results.json'), 'utf8')) as BenchResults;
  });

  afterAll(() => {
    fs.rmSync(workDir, {recursive: true, force: true});
  });

  it('prints the tables on stdout and progress on stderr', () => {
    expect(stdout).toContain(`Speed, backend '${backend}'`);
    expect(stdout).toMatch(/median ms/);
    expect(stdout).toContain('calls/sample');
    expect(stdout).toContain('Effect on imbalanced MNIST');
    expect(stdout).toContain('Wrote ');
    expect(stderr).toMatch(/speed .* 8x5/);
    if (backend === 'tensorflow') {
      expect(stdout).toContain('Detection (digits on a canvas, mAP@0.5 on 100 test canvases, 1 seed × 40 steps');
      for (const loss of ['bce', 'alpha_bce', 'focal', 'varifocal', 'quality_focal']) {
        expect(stderr).toMatch(new RegExp(`detection: ${loss} seed 1: test mAP@0.5 0\\.\\d{3}, train \\d+\\.\\d s.*elapsed \\d+ s`));
      }
    } else {
      expect(stdout).toContain('Detection section skipped: it trains a conv net on backend tensorflow');
    }
  });

  it('runs every section without errors', () => {
    expect(results.errors.map((e) => e.stack ?? e.message)).toEqual([]);
    expect(results.config.backends).toEqual([backend]);
    expect(['avx512', 'avx2', 'generic']).toContain(results.meta.simdLevel);
    expect(results.meta.defaultThreads).toBeGreaterThanOrEqual(1);
  });

  it('writes results.json with every section', () => {
    expect(results.config.shapes).toEqual(['8x5', '2x3x4x6']);
    expect([results.config.warmup, results.config.warmupMs, results.config.minSampleMs]).toEqual([1, 20, 1]);
    expect(results.config.threadShapes).toEqual(['64x10', '256x4']);
    expect(results.config.sections).toEqual(['speed', 'kernel', 'torch', 'effect', 'detection', 'detection-sweep', 'figures']);
    expect(results.speed.map((s) => s.backend)).toEqual([backend]);
    expect(results.effect?.summaries.map((s) => s.name)).toEqual(['cross-entropy', 'class-balanced CE', 'focal',
      'class-balanced focal', 'logit-adjusted CE', 'logit-adjusted focal']);
    expect(results.meta.tfjsNode === null).toBe(backend === 'cpu');
  });

  it('gives every speed contender a finite positive median and ratio, and leaks no tensors', () => {
    const [speed] = results.speed;
    expect(speed.shapes.map((s) => s.shape)).toEqual(['8x5', '2x3x4x6']);
    for (const shape of speed.shapes) {
      expect(shape.contenders.map((c) => c.id)).toEqual(CONTENDERS.map((c) => c.id));
      for (const c of shape.contenders) {
        expect({id: c.id, error: c.error}).toEqual({id: c.id, error: undefined});
        expect(c.samplesMs).toHaveLength(3);
        expectCallsPerSample(c.callsPerSample);
        expect(Number.isFinite(c.summary.median) && c.summary.median > 0).toBe(true);
        expect(c.ratioVsCe).not.toBeNull();
        expect(Number.isFinite(c.ratioVsCe!.median) && c.ratioVsCe!.median > 0).toBe(true);
        expect(c.ratioVsSigmoidCe === null).toBe(c.family === 'softmax');
      }
      expect(Number.isFinite(shape.consumeOnly.median)).toBe(true);
      expectCallsPerSample(shape.consumeOnlyCallsPerSample);
      expect(shape.leakedTensors).toBe(0);
    }
  });

  it('measures the kernel against a copy, thread scaling, and skips PyTorch with a reason', () => {
    const kernel = results.kernel!;
    expect(kernel.cases.map((c) => c.id)).toEqual(['kernel', 'kernel_1t', 'kernel_forward', 'copy']);
    for (const c of kernel.cases) {
      expect(Number.isFinite(c.summary.median) && c.summary.median > 0).toBe(true);
      expect(Number.isFinite(c.gigabytesPerSecond)).toBe(true);
      expectCallsPerSample(c.callsPerSample);
    }
    expect(Number.isFinite(kernel.kernelOverCopy.median)).toBe(true);
    // One result per thread shape (one backend), each with the full step and the kernel alone.
    expect(results.threads.map((t) => [t.backend, t.shape])).toEqual([[backend, '64x10'], [backend, '256x4']]);
    for (const t of results.threads) {
      for (const timings of [t.step, t.kernel]) {
        expect(timings.map((x) => x.threads)).toEqual(threadCountsToMeasure());
        for (const x of timings) {
          expect(x.summary.n).toBe(3);
          expect(Number.isFinite(x.summary.median) && x.summary.median > 0).toBe(true);
          expect(Number.isFinite(x.speedup.median) && x.speedup.median > 0).toBe(true);
          expectCallsPerSample(x.callsPerSample);
        }
        expect(timings[0].speedup.median).toBe(1);
      }
    }
    expect(results.torch?.skipped).toMatch(/no Python with torch .*no-such-python: not found/);
  });

  it('trains the six losses on the imbalanced set and compares them against the seed spread', () => {
    const effect = results.effect!;
    expect(effect.seeds).toEqual([1, 2]);
    expect(effect.runs).toHaveLength(12);
    expect(effect.dataset.imbalanceRatio).toBeGreaterThanOrEqual(10);
    expect(effect.dataset.rareClasses).toHaveLength(3);
    for (const s of effect.summaries) {
      for (const m of ['accuracy', 'macroF1', 'balancedAccuracy', 'rareRecall', 'ece'] as const) {
        expect(s.metrics[m]!.values).toHaveLength(2);
        expect(s.metrics[m]!.mean).toBeGreaterThanOrEqual(0);
        expect(s.metrics[m]!.mean).toBeLessThanOrEqual(1);
      }
      expect(s.epochSeconds.median).toBeGreaterThan(0);
    }
    expect(effect.comparisons).toHaveLength(25);  // 5 contenders - cross-entropy x 5 metrics
    for (const c of effect.comparisons) {
      expect(c.pairedDifferences).toHaveLength(2);
      expect(typeof c.verdict).toBe('string');
    }
    expect(effect.classAlpha).toHaveLength(10);
  });

  (backend === 'tensorflow' ? it : it.skip)('trains the detector with every main loss at --quick size: a real mAP@0.5', () => {
    const detection = results.detection!;
    expect(detection.backend).toBe('tensorflow');
    expect(detection.rows.map((r) => r.loss)).toEqual(['bce', 'alpha_bce', 'focal', 'varifocal', 'quality_focal']);
    expect(detection.settings.seeds).toEqual([1]);
    expect(detection.settings.steps).toBe(40);
    for (const row of detection.rows) {
      expect(row.map50).toHaveLength(1);
      expect(row.map50[0]).toBeGreaterThanOrEqual(0);
      expect(row.map50[0]).toBeLessThanOrEqual(1);
      expect(row.trainSeconds[0]).toBeGreaterThan(0);
      expect(row.apPerClassMean).toHaveLength(10);
    }
    // 40 steps are enough to learn something: BCE well above a detector that finds nothing (an
    // untrained one scores 0.000; seeds 1-6 gave 0.106-0.133), and its classification loss falls
    // (5.7-6.0 over the first 20 steps, 3.9-4.2 over the next 20, on those seeds).
    expect(detection.rows[0].map50[0]).toBeGreaterThan(0.05);
    const bceCurve = detection.runs.find((r) => r.loss === 'bce')!.curve;
    expect(bceCurve[1].classLoss).toBeLessThan(0.85 * bceCurve[0].classLoss);
    for (const run of detection.runs) {
      expect(run.curve.map((p) => p.step)).toEqual([20, 40]);
      for (const p of run.curve) {
        expect(Number.isFinite(p.classLoss) && p.classLoss > 0).toBe(true);
        expect(Number.isFinite(p.boxLoss) && p.boxLoss > 0).toBe(true);
      }
    }
    expect(detection.comparisons.map((c) => [c.a, c.b])).toEqual([['focal', 'bce'], ['focal', 'alpha_bce'],
                                                                  ['alpha_bce', 'bce']]);
    expect(detection.examplePixels).toHaveLength(4);
    for (const pixels of detection.examplePixels) {
      expect(pixels).toMatch(/^[0-9a-f]{4096}$/);
      expect(pixels).toMatch(/[1-9a-f]/);   // some ink
    }
    expect(detection.leakedTensors).toBe(0);
    expect(detection.data.outputsPerImage).toBe(2560);
    const section = fs.readFileSync(path.join(outDir, 'DETECTION.md'), 'utf8');
    expect(section).toContain('## Dense detection: mAP@0.5 on digits on a canvas');
    expect(section).toMatch(/\| BCE \| \d+\.\d \(1 seed\) \|/);
    expect(section).toMatch(/\| varifocal \(α 0.75, γ 2, IoU target\) \| \d+\.\d \(1 seed\) \|/);
    expect(section).not.toContain('Not yet included');
    // The verdicts are compareLosses' (lib/compare/verdict), written once.
    expect(section).toContain('focal (γ 2, α 0.25) − BCE: ');
    expect(section).toContain('one seed: spread not measured, no conclusion');
    expect(section).toContain('](detection_curves.svg)');
    expect(section).not.toMatch(/NaN|undefined/);
  });

  it('writes a markdown report with the tables and links to every SVG', () => {
    const report = fs.readFileSync(path.join(outDir, 'REPORT.md'), 'utf8');
    for (const heading of ['## Machine and software', `### Backend \`${backend}\``, '## The kernel alone',
                           '## Thread scaling', '## PyTorch comparison', '## Effect on an imbalanced problem',
                           '## Figures']) {
      expect(report).toContain(heading);
    }
    expect(report).toContain('| calls/sample |');
    expect(report).toMatch(/\| 256x4 \| kernel alone \|/);
    expect(report).toContain('at least 20 ms');
    expect(report).toContain('PyTorch skipped:');
    expect(report).toContain(results.meta.simdLevel);
    expect(report).not.toMatch(/NaN|undefined/);
    const files = results.figures.map((f) => f.file).sort();
    const detectionFiles = backend === 'tensorflow' ? ['detection_curves.svg', 'detection_examples.svg'] : [];
    expect(files).toEqual(['focal_loss_curves.svg', `speed_${backend}.svg`, 'training_curves.svg', ...detectionFiles].sort());
    if (backend === 'tensorflow') {
      expect(report).toContain('## Dense detection');
    }
    for (const file of files) {
      expect(report).toContain(`](${file})`);
    }
  });

  it('writes well-formed SVG files', () => {
    for (const figure of results.figures) {
      const svg = fs.readFileSync(path.join(outDir, figure.file), 'utf8');
      expect({file: figure.file, problems: xmlProblems(svg)}).toEqual({file: figure.file, problems: []});
      expect(svg).toMatch(/<text[^>]*>[^<]+<\/text>/);   // titles and labels are there
    }
  });
});

describe('the xml check used above', () => {
  it('rejects broken markup', () => {
    const good = '<svg xmlns="http://www.w3.org/2000/svg" width="1"><g><rect x="1"/></g><text x="0">a &amp; b</text></svg>';
    expect(xmlProblems(good)).toEqual([]);
    expect(xmlProblems(good.replace('</g>', ''))).not.toEqual([]);
    expect(xmlProblems(good.replace('&amp;', '&'))).not.toEqual([]);
    expect(xmlProblems(good.replace('x="1"', 'x="NaN"'))).not.toEqual([]);
  });
});

describe('the composed tfjs focal loss (the no-library contender)', () => {
  it('matches the library value and gradient (softmax, dense one-hot labels)', () => {
    const logits = tf.tensor2d([[1.5, -0.3, 0.2, 2.0], [0.1, 0.1, -1.2, 0.7], [-3, 4, 0.5, 0]]);
    const oneHot = tf.oneHot(tf.tensor1d([3, 0, 1], 'int32'), 4).cast('float32');
    const [composedValue, composedGrad] = tf.tidy(() => {
      const {value, grad} = tf.valueAndGrad((x: tf.Tensor) => composedFocalLoss(oneHot, x, 2, 0.25))(logits);
      return [value.dataSync()[0], Array.from(grad.dataSync())];
    });
    const [libraryValue, libraryGrad] = tf.tidy(() => {
      const {value, grad} = tf.valueAndGrad(
          (x: tf.Tensor) => focal.focalLoss(oneHot, x, {gamma: 2, alpha: 0.25}) as tf.Scalar)(logits);
      return [value.dataSync()[0], Array.from(grad.dataSync())];
    });
    expect(composedValue).toBeCloseTo(libraryValue, 5);
    composedGrad.forEach((g, i) => expect(g).toBeCloseTo(libraryGrad[i], 5));
    tf.dispose([logits, oneHot]);
  });

  it('matches the library value and gradient (sigmoid)', () => {
    const logits = tf.tensor2d([[1.5, -0.3, 0.2], [0.1, -2.5, 0.7]]);
    const labels = tf.tensor2d([[1, 0, 0], [0, 1, 1]]);
    const run = (f: (x: tf.Tensor) => tf.Scalar) => tf.tidy(() => {
      const {value, grad} = tf.valueAndGrad(f)(logits);
      return [value.dataSync()[0], Array.from(grad.dataSync())] as [number, number[]];
    });
    const [cv, cg] = run((x) => composedSigmoidFocalLoss(labels, x, 2, 0.25));
    const [lv, lg] = run((x) => focal.sigmoidFocalLoss(labels, x, {gamma: 2, alpha: 0.25}) as tf.Scalar);
    expect(cv).toBeCloseTo(lv, 5);
    cg.forEach((g, i) => expect(g).toBeCloseTo(lg[i], 5));
    tf.dispose([logits, labels]);
  });
});

describe('bench helpers', () => {
  it('computes quantiles with linear interpolation', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    const s = summarize([5, 1, 3]);
    expect([s.median, s.min, s.max, s.mean, s.sd]).toEqual([3, 1, 5, 3, 2]);
  });

  it('builds a 100:1 imbalanced MNIST training set disjoint from a balanced test set', () => {
    expect(geometricCounts(800, 100)).toEqual([800, 480, 288, 172, 103, 62, 37, 22, 13, 8]);
    const data = loadImbalancedMnist({maxCount: 100, testPerClass: 20});
    expect(Math.max(...data.counts) / Math.min(...data.counts)).toBe(100);
    expect(data.trainY.length).toBe(data.counts.reduce((a, b) => a + b, 0));
    expect(data.testY.length).toBe(200);
    for (let d = 0; d < 10; d++) {
      expect(Array.from(data.testY).filter((y) => y === d)).toHaveLength(20);
    }
    expect(data.rareClasses.map((c) => data.counts[c])).toEqual([3, 2, 1]);
    // No test image appears in the training set.
    const key = (x: Float32Array, i: number) => x.subarray(i * PIXELS, (i + 1) * PIXELS).join(',');
    const train = new Set(Array.from({length: data.trainY.length}, (_, i) => key(data.trainX, i)));
    const overlap = Array.from({length: data.testY.length}, (_, i) => key(data.testX, i)).filter((k) => train.has(k));
    expect(overlap).toHaveLength(0);
  });

  it('places log-scale ticks on powers of ten', () => {
    const scale = makeScale([0.3, 47], {label: 'ms', log: true}, 100, 0);
    expect(scale.ticks).toEqual([0.1, 1, 10, 100]);
    expect(scale.toPixel(0.1)).toBeCloseTo(100, 9);
    expect(scale.toPixel(100)).toBeCloseTo(0, 9);
  });

  it('rejects bad arguments with messages that name them', () => {
    expect(() => parseArgs(['--backend', 'gpu'])).toThrow(/--backend expects tensorflow, cpu or both; received 'gpu'/);
    expect(() => parseArgs(['--shapes', '10'])).toThrow(/shape '10'/);
    expect(() => parseArgs(['--reps', '0'])).toThrow(/--reps expects an integer >= 1; received 0/);
    expect(() => parseArgs(['--sections', 'speed,plots'])).toThrow(/unknown section 'plots'/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument '--fast'/);
    expect(() => parseArgs(['--warmup-ms', '-1'])).toThrow(/--warmup-ms expects an integer >= 0; received -1/);
    expect(() => parseArgs(['--min-sample-ms', 'x'])).toThrow(/--min-sample-ms expects an integer >= 0; received x/);
    expect(() => parseArgs(['--thread-shapes', '64'])).toThrow(/shape '64'/);
    const quick = parseArgs(['--quick']);
    expect([quick.reps, quick.seeds, quick.backends]).toEqual([5, 2, ['tensorflow', 'cpu']]);
    expect([quick.warmup, quick.warmupMs, quick.minSampleMs]).toEqual([1, 100, 2]);
    const full = parseArgs([]);
    expect([full.reps, full.warmup, full.warmupMs, full.minSampleMs]).toEqual([20, 3, 2000, 5]);
    expect(full.threadShapes.map((s) => s.label)).toEqual(['4096x1000', '65536x20']);
    // --quick shrinks the sizes only; the full run keeps its own.
    expect([full.seeds, full.epochs, full.datasetMaxCount, quick.epochs, quick.datasetMaxCount]).toEqual([5, 20, 800, 2, 200]);
    const sizes = (o: typeof full) => [o.shapes.map((s) => s.label), o.detection.steps, o.detection.trainImages,
                                       o.detection.validationImages, o.detection.testImages, o.detection.seeds.length,
                                       o.detection.batchSize, o.detection.learningRate];
    expect(sizes(full)).toEqual([['256x10', '1024x100', '4096x1000', '65536x20', '8x128x128x21'], 500, 2000, 200, 500, 3,
                                 16, 2e-3]);
    expect(sizes(quick)).toEqual([['256x10', '2x8x8x100'], 40, 400, 50, 100, 1, 16, 2e-3]);
    expect(parseArgs(['--warmup-ms=0', '--min-sample-ms', '0']).minSampleMs).toBe(0);
  });

  it('chooses calls per sample as timeit.autorange does (1, 2, 5, 10, ...), capped', () => {
    expect(autorangeCalls(12, 5)).toBe(1);          // slow: one call per sample
    expect(autorangeCalls(5, 5)).toBe(1);
    expect(autorangeCalls(3, 5)).toBe(2);
    expect(autorangeCalls(0.3, 5)).toBe(20);        // 10 calls = 3 ms < 5 ms, 20 calls = 6 ms
    expect(autorangeCalls(0.001, 5)).toBe(5000);
    expect(autorangeCalls(0, 5)).toBe(MAX_CALLS_PER_SAMPLE);
    expect(autorangeCalls(0.5, 0)).toBe(1);         // --min-sample-ms 0: one call per sample
  });

  it('warms up for the passes and the wall time asked, then times samples of several fast calls', () => {
    const calls = new Map<string, number>();
    const clock = fakeClock();
    const counted = (id: string, ms: number): TimedCase => {
      calls.set(id, 0);
      return {
        id,
        run: () => {
          calls.set(id, calls.get(id)! + 1);
          clock.spin(ms);
        },
      };
    };
    const cases = [counted('fast', 0.25), counted('slow', 3)];
    const started = clock.now();
    let warmupEnded = 0;
    let afterFirstRound = new Map<string, number>();
    const {samples, callsPerSample} = runInterleaved(cases,
                                                     {warmup: 2, reps: 4, warmupMs: 60, minSampleMs: 2, clock: clock.now},
                                                     (round) => {
      if (round === 1) {
        afterFirstRound = new Map(calls);
        warmupEnded = clock.now() - 3 - 10 * 0.25;   // less the first timed round
      }
    });
    expect(warmupEnded - started).toBeGreaterThanOrEqual(60);
    // 3 ms per call: one call per sample; 0.25 ms per call: 10 calls make the 2 ms sample (5 make 1.25 ms).
    expect(callsPerSample.get('slow')).toBe(1);
    expect(callsPerSample.get('fast')).toBe(10);
    for (const c of cases) {
      expect(samples.get(c.id)).toHaveLength(4);
      // Rounds 2..4 made callsPerSample calls each; the warm-up made at least 2 passes.
      expect(calls.get(c.id)! - afterFirstRound.get(c.id)!).toBe(3 * callsPerSample.get(c.id)!);
      expect(afterFirstRound.get(c.id)! - callsPerSample.get(c.id)!).toBeGreaterThanOrEqual(2);
    }
    // A sample is the mean time per call.
    for (const sample of samples.get('fast')!) expect(sample).toBe(0.25);
    expect(samples.get('slow')).toHaveLength(4);
    for (const sample of samples.get('slow')!) expect(sample).toBe(3);
  });

  it('gives every case the same calls per sample when asked (the most any case needs)', () => {
    const clock = fakeClock();
    const cases: TimedCase[] = [{id: 'fast', run: () => clock.spin(0.25)}, {id: 'slow', run: () => clock.spin(3)}];
    const timing = {warmup: 2, reps: 1, warmupMs: 0, minSampleMs: 2, clock: clock.now};
    const own = runInterleaved(cases, timing).callsPerSample;
    const same = runInterleaved(cases, {...timing, sameCallsPerSample: true}).callsPerSample;
    expect(own.get('slow')).toBe(1);
    expect(own.get('fast')).toBe(10);
    expect(same.get('fast')).toBe(10);
    expect(same.get('slow')).toBe(10);
  });

  it('without any warm-up times single cold calls', () => {
    const clock = fakeClock();
    const {samples, callsPerSample} = runInterleaved([{id: 'a', run: () => clock.spin(0.0625)}],
                                                     {warmup: 0, reps: 2, warmupMs: 0, minSampleMs: 5, clock: clock.now});
    expect(callsPerSample.get('a')).toBe(1);
    expect(samples.get('a')).toHaveLength(2);
    for (const sample of samples.get('a')!) expect(sample).toBe(0.0625);
  });
});
