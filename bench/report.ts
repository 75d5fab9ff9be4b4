// Terminal tables and the markdown report (bench/out/REPORT.md) from the results object.
import {DetectionResult} from './detection/experiment';
import {detectionMarkdown, detectionTerminal} from './detection/report';
import {differenceTable, markdownReport as comparisonMarkdown, reportTable} from '../lib/compare/report';
import {EffectResult} from './effect';
import {BackendSpeedResult, CONTENDERS, KernelResult, MAX_CALLS_PER_SAMPLE, ShapeResult, ThreadCountTiming,
        ThreadScalingResult} from './speed';
import {formatMs, formatRatio, Summary} from '../lib/compare/stats';
import {markdownTable, textTable} from '../lib/compare/tables';
import {TorchResult} from './torch';

export interface MachineInfo {
  cpuModel: string;
  logicalCores: number;
  totalMemoryGiB: number;
  platform: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

export interface FigureInfo {
  title: string;
  file: string;   // relative to the output folder
}

export interface BenchMeta {
  startedAt: string;
  durationSeconds?: number;
  command: string;
  machine: MachineInfo;
  node: string;
  tfjsCore: string;
  tfjsNode: string | null;
  simdLevel: string;
  defaultThreads: number;
  /** The library's environment variables that were set (SIMD level, threads, addon path). */
  environment: Record<string, string>;
  gitCommit: string | null;
  quick: boolean;
  /** Wall-clock seconds per section. */
  sectionSeconds: Record<string, number>;
}

export interface BenchConfig {
  backends: string[];
  shapes: string[];
  reps: number;
  warmup: number;
  warmupMs: number;
  minSampleMs: number;
  seeds: number;
  epochs: number;
  sections: string[];
  kernelShape: string;
  threadShapes: string[];
  outDir: string;
  budgetSeconds: number;
}

export interface BenchResults {
  meta: BenchMeta;
  config: BenchConfig;
  speed: BackendSpeedResult[];
  threads: ThreadScalingResult[];
  kernel: KernelResult | null;
  torch: TorchResult | null;
  effect: EffectResult | null;
  detection: DetectionResult | null;
  /** The detection sweep's call: runs trained now, found finished, still to do, and its report files. */
  detectionSweep?: {outDir: string; trained: string[]; skipped: string[]; remaining: number; files: string[]};
  figures: FigureInfo[];
  notes: string[];
  errors: Array<{section: string; message: string; stack?: string}>;
}

// ---------------------------------------------------------------------------------------------
// Plain-text tables.

function spreadMs(s: Summary): string {
  return `${formatMs(s.q1)}–${formatMs(s.q3)}`;
}

function rangeMs(s: Summary): string {
  return `${formatMs(s.min)}–${formatMs(s.max)}`;
}

function ratioCell(s: Summary | null): string {
  if (s === null || s.n === 0) {
    return '';
  }
  return `${formatRatio(s.median)} (${formatRatio(s.q1)}–${formatRatio(s.q3)})`;
}

const SPEED_HEADER = ['shape', 'contender', 'n', 'calls/sample', 'median ms', 'IQR ms', 'min–max ms', '× softmax CE',
                      '× sigmoid CE'];
const SPEED_ALIGN = [false, false, true, true, true, true, true, true, true];

export function speedRows(shape: ShapeResult): string[][] {
  const rows: string[][] = [];
  for (const c of shape.contenders) {
    if (c.error !== undefined) {
      rows.push([shape.shape, c.label, '', '', 'error', c.error.slice(0, 60), '', '', '']);
      continue;
    }
    rows.push([shape.shape, c.label, String(c.summary.n), String(c.callsPerSample), formatMs(c.summary.median),
               spreadMs(c.summary), rangeMs(c.summary),
               c.id === 'ce' ? '1 (baseline)' : ratioCell(c.ratioVsCe),
               c.id === 'sigmoid_ce' ? '1 (baseline)' : ratioCell(c.ratioVsSigmoidCe)]);
  }
  rows.push([shape.shape, '(consume op alone: tf.sum of a JS-held array)', String(shape.consumeOnly.n),
             String(shape.consumeOnlyCallsPerSample), formatMs(shape.consumeOnly.median),
             spreadMs(shape.consumeOnly), rangeMs(shape.consumeOnly), '', '']);
  return rows;
}

export function speedTextTable(result: BackendSpeedResult, shapes = result.shapes): string {
  return textTable(SPEED_HEADER, shapes.flatMap(speedRows), SPEED_ALIGN);
}

export function kernelRows(kernel: KernelResult): string[][] {
  return kernel.cases.map((c) => [c.label, String(c.callsPerSample), formatMs(c.summary.median), spreadMs(c.summary),
                                  c.gigabytesPerSecond.toFixed(1)]);
}

const KERNEL_HEADER = ['case', 'calls/sample', 'median ms', 'IQR ms', 'GB/s'];
const KERNEL_ALIGN = [false, true, true, true, true];

/** Two rows per backend and shape: the full tfjs step and the kernel alone, at every thread count. */
export function threadRows(threads: ThreadScalingResult[]): string[][] {
  const row = (t: ThreadScalingResult, what: string, timings: ThreadCountTiming[]) => [
    t.backend, t.shape, what,
    ...timings.map((x) => `${formatMs(x.summary.median)} (${spreadMs(x.summary)})`),
    ...timings.slice(1).map((x) => ratioCell(x.speedup)),
    timings.map((x) => String(x.callsPerSample)).join(' / '),
  ];
  return threads.flatMap((t) => [row(t, 'focalLoss step (tfjs)', t.step), row(t, 'kernel alone', t.kernel)]);
}

function threadCounts(threads: ThreadScalingResult[]): number[] {
  return threads.length > 0 ? threads[0].step.map((t) => t.threads) : [1, 2];
}

function threadHeader(threads: ThreadScalingResult[]): string[] {
  const counts = threadCounts(threads);
  return ['backend', 'shape', 'measured', ...counts.map((n) => `${n} thread${n > 1 ? 's' : ''}: median ms (IQR)`),
          ...counts.slice(1).map((n) => `speedup ${counts[0]}→${n}`), 'calls/sample'];
}

function threadAlign(threads: ThreadScalingResult[]): boolean[] {
  return threadHeader(threads).map((_, i) => i >= 3);
}

export function terminalSummary(results: BenchResults): string {
  const parts: string[] = [];
  for (const backend of results.speed) {
    parts.push(`\nSpeed, backend '${backend.backend}' (forward + gradient + consume op per call):`);
    parts.push(speedTextTable(backend));
  }
  if (results.kernel) {
    parts.push(`\nKernel alone at ${results.kernel.shape} (sparse labels, gamma 2), direct addon call:`);
    parts.push(textTable(KERNEL_HEADER, kernelRows(results.kernel), KERNEL_ALIGN));
    parts.push(`kernel / copy: ${formatRatio(results.kernel.kernelOverCopy.median)} (per-round median)`);
  }
  if (results.threads.length > 0) {
    parts.push('\nThread scaling of focalLoss (sparse labels): full tfjs call and the kernel alone; speedup = ' +
               'per-round t(1 thread) / t(n threads), median (IQR):');
    parts.push(textTable(threadHeader(results.threads), threadRows(results.threads), threadAlign(results.threads)));
  }
  if (results.torch) {
    parts.push(`\nPyTorch comparison at ${results.torch.shape}:`);
    parts.push(torchLines(results.torch).join('\n'));
  }
  if (results.effect) {
    parts.push(`\nEffect on imbalanced MNIST (${results.effect.seeds.length} seeds × ${results.effect.epochs} epochs, ` +
               `backend ${results.effect.backend}; rare classes ${results.effect.dataset.rareClasses.join(', ')}):`);
    parts.push(reportTable(results.effect, 'text'));
    parts.push('');
    parts.push(differenceTable(results.effect, 'text'));
    parts.push('');
    parts.push(results.effect.recommendation);
  }
  if (results.detection) {
    parts.push(`\n${detectionTerminal(results.detection)}`);
  }
  for (const e of results.errors) {
    parts.push(`\nERROR in section ${e.section}: ${e.message}`);
  }
  return parts.join('\n');
}

function torchLines(torch: TorchResult): string[] {
  const lines: string[] = [];
  if (torch.library) {
    const l = torch.library;
    lines.push(`- this library (tfjs '${l.backend}', ${torch.threads} kernel threads): focalLoss sparse ` +
               `${formatMs(l.focalSparse.median)} ms (IQR ${spreadMs(l.focalSparse)}), ` +
               `tf.losses.softmaxCrossEntropy ${formatMs(l.softmaxCe.median)} ms, focal/CE ${formatRatio(l.focalOverCe.median)}`);
  }
  if (torch.torch) {
    const t = torch.torch;
    lines.push(`- PyTorch ${t.torch_version} (${t.threads} threads): focal as the source documents write it ` +
               `${formatMs(t.focal_ms.median)} ms (IQR ${spreadMs(t.focal_ms)}), F.cross_entropy ` +
               `${formatMs(t.ce_ms.median)} ms, focal/CE ${formatRatio(t.focal_over_ce.median)}`);
  }
  if (torch.skipped) {
    lines.push(`- PyTorch skipped: ${torch.skipped}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Markdown report.

export function markdownReport(results: BenchResults): string {
  const {meta, config} = results;
  const out: string[] = [];
  out.push('# tfjs-focal-loss benchmark report');
  out.push('');
  out.push(`Generated ${meta.startedAt} by \`${meta.command}\`${meta.quick ? ' (**--quick**: reduced sizes, ' +
           'not for quoting)' : ''}; took ${meta.durationSeconds?.toFixed(0) ?? '?'} s.`);
  out.push('');
  out.push('## Machine and software');
  out.push('');
  out.push(markdownTable(['item', 'value'], [
    ['CPU', meta.machine.cpuModel],
    ['logical cores', String(meta.machine.logicalCores)],
    ['memory', `${meta.machine.totalMemoryGiB.toFixed(1)} GiB`],
    ['OS', meta.machine.platform],
    ['load average (1, 5, 15 min) at start / end',
     `${meta.machine.loadAverageAtStart.map((v) => v.toFixed(2)).join(', ')} / ${
         (meta.machine.loadAverageAtEnd ?? []).map((v) => v.toFixed(2)).join(', ')}`],
    ['Node', meta.node],
    ['@tensorflow/tfjs-core', meta.tfjsCore],
    ['@tensorflow/tfjs-node', meta.tfjsNode ?? 'not loaded'],
    ['SIMD level of the kernel (simdLevel())', meta.simdLevel],
    ['kernel threads (getNumThreads() default)', String(meta.defaultThreads)],
    ['library environment variables', Object.entries(meta.environment).map(([k, v]) => `${k}=${v}`).join(', ') || 'none set'],
    ['git commit', meta.gitCommit ?? 'unknown'],
    ['seconds per section', Object.entries(meta.sectionSeconds).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')],
    ['settings', `backends ${config.backends.join(', ')}; reps ${config.reps}, warm-up at least ${config.warmup} ` +
                 `pass${config.warmup === 1 ? '' : 'es'} and ${config.warmupMs} ms, samples of at least ` +
                 `${config.minSampleMs} ms; ` +
                 `seeds ${config.seeds}, epochs ${config.epochs}; sections ${config.sections.join(', ')}`],
  ]));
  out.push('');
  if (results.notes.length > 0) {
    for (const note of results.notes) {
      out.push(`> ${note}`);
      out.push('');
    }
  }

  if (results.speed.length > 0) {
    out.push('## Speed: forward + gradient of the loss per call');
    out.push('');
    out.push('What is timed, per call: `g = tf.tidy(() => tf.grad(loss)(logits)); s = tf.sum(g); s.dataSync(); ' +
             'tf.dispose([g, s])`. The `tf.sum` is the *consume op*: on the `cpu` backend, and on `tensorflow` ' +
             'where the library falls back to JS arrays (`TFJS_FOCAL_LOSS_TF_OPS=0`), the library\'s kernels ' +
             'return their outputs as JS arrays that TensorFlow copies in only when an op uses them, so ' +
             'stopping the clock at `tf.grad` would not count that copy (with the TensorFlow ops, the default ' +
             'on tfjs-node, the gradient is already a TensorFlow tensor). A training step does consume the ' +
             'gradient (the next backward matmul reads it), so every contender pays the same cheap backend op ' +
             'whose scalar result is read; its cost alone, on a gradient-sized JS-held array (copy-in + sum), ' +
             'is the last row of each shape.');
    out.push('');
    out.push(`Loss settings: gamma ${2}, alpha 0.25 (scalar), mean over rows. Contenders: ` +
             CONTENDERS.map((c) => `**${c.label}** (${c.role})`).join('; ') + '. The composed versions and ' +
             'the CE baselines take one-hot labels; the sigmoid contenders take the one-hot matrix as ' +
             'multi-label targets; all of them use one-hot labels made from a JS Float32Array, ' +
             'except the contender that takes the same labels made by tfjs ops (as training code ' +
             'usually makes them: on `cpu` such a float32 tensor keeps the storage of the int32 ' +
             'one-hot tensor, which the library reads in place). Logits ~ N(0, 2²), labels uniform, ' +
             'fixed seed.');
    out.push('');
    out.push(methodText(config));
    out.push('');
    for (const backend of results.speed) {
      out.push(`### Backend \`${backend.backend}\``);
      out.push('');
      out.push(markdownTable(SPEED_HEADER, backend.shapes.flatMap(speedRows), SPEED_ALIGN));
      out.push('');
      const leaks = backend.shapes.filter((s) => s.leakedTensors !== 0);
      if (leaks.length > 0) {
        out.push(`**Tensor leak:** ${leaks.map((s) => `${s.shape}: ${s.leakedTensors} tensors`).join(', ')} left after the measurement.`);
      } else {
        out.push('No tensors leaked (tf.memory().numTensors unchanged after every shape).');
      }
      out.push('');
      const chart = results.figures.find((f) => f.file === `speed_${backend.backend}.svg`);
      if (chart) {
        out.push(`![${chart.title}](${chart.file})`);
        out.push('');
      }
    }
  }

  if (results.kernel) {
    const k = results.kernel;
    out.push(`## The kernel alone against a memory copy (${k.shape}, sparse labels)`);
    out.push('');
    out.push(`A direct call of the addon's \`softmaxFocalLoss\` (no tfjs): one pass per row computing the loss and ` +
             `the gradient, reading ${(k.bytesMoved / 2 / 1e6).toFixed(1)} MB of logits and writing ` +
             `${(k.bytesMoved / 2 / 1e6).toFixed(1)} MB of gradient. The copy reads and writes the same bytes ` +
             '(`Float32Array.prototype.set`, one thread): the floor for any implementation that reads the logits once ' +
             'and writes the gradient once. Same steady-state, interleaved method as in the speed section (warm-up, ' +
             'calls per sample, rotated rounds), except that every case gets the same calls per sample: 32 MB ' +
             'repeated back to back stays partly in the last-level cache, so unequal repetition would compare ' +
             'different cache states. GB/s counts bytes read + written.');
    out.push('');
    out.push(markdownTable(KERNEL_HEADER, kernelRows(k), KERNEL_ALIGN));
    out.push('');
    out.push(`Kernel (forward + gradient, ${k.defaultThreads} threads) / copy: **${formatRatio(k.kernelOverCopy.median)}** ` +
             `(per-round median; IQR ${formatRatio(k.kernelOverCopy.q1)}–${formatRatio(k.kernelOverCopy.q3)}).`);
    out.push('');
  }
  if (results.threads.length > 0) {
    out.push('## Thread scaling of focalLoss');
    out.push('');
    const counts = threadCounts(results.threads);
    out.push(`At each shape (${config.threadShapes.join(', ')}) and kernel thread count (${counts.join(', ')}: one, ` +
             'two, and all logical cores when the machine has more than two; set with `setNumThreads` before each ' +
             'call), two things in ' +
             'the same interleaved rounds, with the steady-state method of the speed section: **focalLoss step ' +
             '(tfjs)**, the full tfjs call as in the speed section (sparse labels), and **kernel alone**, the ' +
             'direct addon call as in the kernel section (forward + gradient into preallocated outputs). Speedup = ' +
             'per-round t(1 thread) / t(n threads), median (IQR); calls/sample lists the calls per sample at each ' +
             'thread count. The kernel alone shows what threads can do at that shape: with many classes per row ' +
             'the kernel streams many bytes per unit of work and is bound by memory bandwidth, which more threads ' +
             'may not raise (compare the copy in the kernel section); with few classes and many rows it is bound by ' +
             'computation and scales closer to the thread count. The tfjs bookkeeping and the consume op of the ' +
             'full step do not depend on the kernel\'s threads, which bounds its speedup further; on a machine with ' +
             'as many cores as threads, TensorFlow\'s own pool threads may still be busy (spinning) from the ' +
             'preceding ops — interleaved with the steps, they can also take cores from the kernel alone, which is ' +
             'why its rows, the same call under each backend, may differ between backends.');
    out.push('');
    out.push(markdownTable(threadHeader(results.threads), threadRows(results.threads), threadAlign(results.threads)));
    out.push('');
  }
  if (results.torch) {
    out.push(`## PyTorch comparison (${results.torch.shape})`);
    out.push('');
    out.push('`bench/torch_focal.py` computes the focal loss as the source documents write it ' +
             '(`ce = F.cross_entropy(reduction="none"); pt = exp(-ce); loss = (alpha * (1 - pt)**gamma * ce).mean()`), ' +
             `forward + backward (\`torch.autograd.grad\`), \`torch.set_num_threads(${results.torch.threads})\`, and ` +
             '`F.cross_entropy` as PyTorch\'s own baseline. This library was measured in this process just before, ' +
             'same shape and thread count, full tfjs call as in the speed section.');
    out.push('');
    out.push(...torchLines(results.torch));
    out.push('');
  }

  if (results.effect) {
    const e = results.effect;
    out.push('## Effect on an imbalanced problem (MNIST)');
    out.push('');
    out.push(`Training set: real MNIST digits from the \`mnist\` package with geometric class counts ` +
             `(digit: count) ${e.dataset.counts.map((n, d) => `${d}: ${n}`).join(', ')} — ${e.dataset.trainSize} images, ` +
             `most common / rarest = ${e.dataset.imbalanceRatio.toFixed(0)}. Which digit is rare is a fixed ` +
             `permutation (most to least common: ${e.dataset.classOrder.join(', ')}). **Rare classes** = the 3 smallest: ` +
             `digits ${e.dataset.rareClasses.join(', ')} (counts ${e.dataset.rareClasses.map((c) => e.dataset.counts[c]).join(', ')}). ` +
             `Test set: ${e.dataset.testPerClass} held-out images per digit (balanced, ${e.dataset.testSize} images, ` +
             'never used in training), so accuracy and balanced accuracy coincide up to rounding.');
    out.push('');
    out.push(`Model: MLP 784 → ${e.hidden} (ReLU) → 10, Glorot-uniform initialisation, Adam (lr ${e.learningRate}), ` +
             `batch ${e.batchSize}, ${e.epochs} epochs, backend \`${e.backend}\`. Seeds ${e.seeds.join(', ')}: under one ` +
             'seed every loss starts from the same weights and sees the same batch order (paired comparison). ' +
             `Class-balanced alpha (classBalancedAlpha(counts, {method: 'effective', beta: 0.999})) per digit: ` +
             `${e.classAlpha.map((a) => a.toFixed(3)).join(', ')}.`);
    out.push('');
    out.push(comparisonMarkdown(e).replace(/^# Loss comparison\n\n/, '').replace(/^Task: .*\n\n/m, '')
                 .replace(/^Training rows per class: .*\n\n/m, ''));
    out.push('');
    const curves = results.figures.find((f) => f.file === 'training_curves.svg');
    if (curves) {
      out.push(`![${curves.title}](${curves.file})`);
      out.push('');
    }
  }

  if (results.detection) {
    out.push(detectionMarkdown(results.detection, results.figures.filter((f) => f.file.startsWith('detection_'))));
  }

  if (results.figures.length > 0) {
    out.push('## Figures');
    out.push('');
    for (const f of results.figures) {
      out.push(`- [${f.title}](${f.file})`);
    }
    out.push('');
    const curve = results.figures.find((f) => f.file === 'focal_loss_curves.svg');
    if (curve) {
      out.push(`![${curve.title}](${curve.file})`);
      out.push('');
    }
  }
  if (results.errors.length > 0) {
    out.push('## Errors');
    out.push('');
    for (const err of results.errors) {
      out.push(`- section **${err.section}**: ${err.message}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** How the speed section times a call: warm-up, calls per sample, interleaved rounds, budget. */
function methodText(config: BenchConfig): string {
  return `Method (steady state: training runs thousands of steps, so what matters is the time per call once V8 has ` +
         `optimised the JS around the kernels): per shape, a warm-up of at least ${config.warmup} ` +
         `pass${config.warmup === 1 ? '' : 'es'} over all ` +
         `contenders and at least ${config.warmupMs} ms; in each pass every contender runs a batch of ` +
         'back-to-back calls as long as one sample (one call in the first pass), so fast contenders get as much of ' +
         'the warm-up time as slow ones, and many more calls. Each contender then keeps a number of ' +
         'back-to-back calls per sample (column calls/sample): the first of 1, 2, 5, 10, 20, 50, … (as Python\'s ' +
         `\`timeit\` autorange; at most ${MAX_CALLS_PER_SAMPLE}) that makes a sample last at least ` +
         `${config.minSampleMs} ms, judged by the fastest of its last warm-up batches, so sub-millisecond calls are not ` +
         'lost in timer and scheduling noise; contenders slower than that keep one call per sample. A sample is the ' +
         'mean time per call over its calls, which reuse the same inputs (in cache at small shapes, as in training, ' +
         `where the layer before has just written the logits). Then ${config.reps} rounds; each round takes one ` +
         'sample of every contender, in an order rotated every round, so slow drifts of the machine hit all alike; ' +
         'garbage is collected between rounds, outside the timed calls, when node runs with --expose-gc. ' +
         `A shape whose rounds would take more than ${config.budgetSeconds} s in all stops early, after at least 5 ` +
         'rounds (and its warm-up after one pass once that took a quarter of the budget); column n gives the rounds. ' +
         'Median and interquartile range (IQR) of the per-call times of the samples; ratios (× softmax CE, × sigmoid ' +
         'CE) are per-round ratios (same round, milliseconds to seconds apart) summarised by median (IQR). Below 1 = ' +
         'faster than the baseline.';
}
