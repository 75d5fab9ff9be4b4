#!/usr/bin/env node
// Developer tool: proves that two builds of the addon compute the same bits. Runs a fixed set of
// inputs through both (softmax: sparse, sparse with ignoreIndex, dense one-hot, dense soft and
// integer-held dense labels; few (C <= 64) and many classes; integer, quarter and other gamma
// (the separate gamma branches); scalar and per-class alpha; label smoothing; fromLogits false;
// rows with NaN / +Inf / -Inf logits; sigmoid with and without alpha, gamma above 3 (the double
// path); the backward scaling) for every SIMD level the CPU has (env TFJS_FOCAL_LOSS_SIMD) and 1
// and 2 threads, each level in its own process, and compares losses and gradients byte for byte.
//   node tools/bit-identity.js BEFORE.node AFTER.node
// Exit status 0 when every output is identical. Inputs both builds reject are compared as "threw".
'use strict';

const cp = require('child_process');
const crypto = require('crypto');
const path = require('path');

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function softmaxCases() {
  const cases = [];
  const shapes = [[67, 3], [67, 20], [67, 64], [67, 65], [67, 100], [19, 1000], [16384, 20], [2048, 1000]];
  const gammas = [0, 1, 2, 3, 0.5, 1.5, 2.7, 5];
  for (const [rows, classes] of shapes) {
    const large = rows * classes > 300000;
    for (const kind of ['sparse', 'ignore', 'onehot', 'soft', 'int32']) {
      for (const gamma of large ? [0, 2, 1.5] : gammas) {
        for (const alpha of ['scalar', 'perClass']) {
          for (const labelSmoothing of [0, 0.1]) {
            for (const special of large ? [false] : [false, true]) {
              for (const fromLogits of special || large ? [true] : [true, false]) {
                if (!fromLogits && gamma !== 2 && gamma !== 0.5) continue;
                cases.push({rows, classes, kind, gamma, alpha, labelSmoothing, special, fromLogits});
              }
            }
          }
        }
      }
    }
  }
  return cases;
}

function softmaxInputs(c, seed) {
  const r = rng(seed);
  const {rows, classes} = c;
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < logits.length; i++) {
    logits[i] = c.fromLogits ? (r() - 0.5) * 16 : 0.01 + r();
  }
  if (c.fromLogits && rows > 20) {
    // A confident row (the target far above the rest), the cancellation-prone case.
    for (let j = 0; j < classes; j++) logits[5 * classes + j] = j === 0 ? 30 : -5;
  }
  if (c.special) {
    logits[3 * classes + 1] = NaN;
    logits[7 * classes + (classes > 1 ? 1 : 0)] = Infinity;
    for (let j = 0; j < classes; j++) logits[11 * classes + j] = -Infinity;
    logits[13 * classes] = Infinity;
    if (classes > 1) logits[13 * classes + classes - 1] = Infinity;
  }
  const targets = Int32Array.from({length: rows}, () => Math.floor(r() * classes));
  targets[5] = 0;
  let labels;
  let denseLabels = false;
  if (c.kind === 'sparse' || c.kind === 'ignore') {
    labels = targets;
    if (c.kind === 'ignore') for (let i = 2; i < rows; i += 9) labels[i] = -100;
  } else if (c.kind === 'onehot' || c.kind === 'int32') {
    labels = c.kind === 'int32' ? new Int32Array(rows * classes) : new Float32Array(rows * classes);
    for (let i = 0; i < rows; i++) labels[i * classes + targets[i]] = 1;
    denseLabels = c.kind === 'int32';
  } else {
    labels = new Float32Array(rows * classes);
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (let j = 0; j < classes; j++) sum += (labels[i * classes + j] = r() < 0.3 ? r() : 0);
      if (sum === 0) labels[i * classes + targets[i]] = 1;
      else for (let j = 0; j < classes; j++) labels[i * classes + j] /= sum;
    }
  }
  const alpha = c.alpha === 'scalar' ? 0.25 :
      Float32Array.from({length: classes}, (_, j) => 0.1 + (j % 7) * 0.3);
  return {
    logits, labels, rows, classes, gamma: c.gamma, alpha, labelSmoothing: c.labelSmoothing,
    ignoreIndex: c.kind === 'ignore' ? -100 : null, fromLogits: c.fromLogits,
    ...(denseLabels ? {denseLabels: true} : {}),
  };
}

function sigmoidCases() {
  const cases = [];
  for (const n of [37, 1000, 200000]) {
    for (const labels of ['binary', 'soft', 'int32']) {
      for (const gamma of n > 1000 ? [2, 5] : [0, 1, 2, 3, 0.5, 1.5, 2.7, 5]) {
        for (const alpha of [null, 0.25, 0.9]) {
          for (const labelSmoothing of [0, 0.2]) {
            for (const fromLogits of [true, false]) {
              if (labels === 'soft' && labelSmoothing > 0 && !fromLogits) continue;
              cases.push({n, labels, gamma, alpha, labelSmoothing, fromLogits, special: fromLogits && n < 1000});
            }
          }
        }
      }
    }
  }
  return cases;
}

function sigmoidInputs(c, seed) {
  const r = rng(seed);
  const logits = Float32Array.from({length: c.n}, () => (c.fromLogits ? (r() - 0.5) * 24 : r()));
  if (c.special) {
    logits[1] = NaN;
    logits[2] = Infinity;
    logits[3] = -Infinity;
  }
  const labels = c.labels === 'int32' ? Int32Array.from({length: c.n}, () => (r() < 0.3 ? 1 : 0)) :
      Float32Array.from({length: c.n}, () => (c.labels === 'soft' ? r() : r() < 0.3 ? 1 : 0));
  return {logits, labels, gamma: c.gamma, alpha: c.alpha, labelSmoothing: c.labelSmoothing,
          fromLogits: c.fromLogits};
}

function digest(...arrays) {
  const h = crypto.createHash('sha256');
  for (const a of arrays) if (a) h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex').slice(0, 16);
}

// Worker: run every case with one addon, print {level, threads, results: [hash]}.
function worker(addonPath, threads) {
  const addon = require(path.resolve(addonPath));
  addon.setNumThreads(threads);
  const results = [];
  let bytes = 0;
  softmaxCases().forEach((c, i) => {
    for (const withGrad of [true, false]) {
      const args = softmaxInputs(c, 1000 + i);
      args.lossOut = new Float32Array(c.rows);
      args.gradOut = withGrad ? new Float32Array(c.rows * c.classes) : null;
      try {
        addon.softmaxFocalLoss(args);
        results.push(digest(args.lossOut, args.gradOut));
        bytes += args.lossOut.byteLength + (withGrad ? args.gradOut.byteLength : 0);
        if (withGrad) {
          const dy = Float32Array.from({length: c.rows}, (_, k) => 0.5 + (k % 5) * 0.25);
          const out = new Float32Array(c.rows * c.classes);
          addon.scaleRows(args.gradOut, dy, c.rows, c.classes, out);
          results.push(digest(out));
          bytes += out.byteLength;
        }
      } catch (e) {
        results.push('threw');
      }
    }
  });
  sigmoidCases().forEach((c, i) => {
    const args = sigmoidInputs(c, 5000 + i);
    args.lossOut = new Float32Array(c.n);
    args.gradOut = new Float32Array(c.n);
    try {
      addon.sigmoidElementwiseLoss(args);
      const out = new Float32Array(c.n);
      addon.scaleElements(args.gradOut, Float32Array.from({length: c.n}, (_, k) => 1 + (k % 3)), out);
      results.push(digest(args.lossOut, args.gradOut, out));
      bytes += 3 * args.lossOut.byteLength;
    } catch (e) {
      results.push('threw');
    }
  });
  process.stdout.write(JSON.stringify({level: addon.simdLevel(), threads, results, bytes}));
}

function main() {
  if (process.argv[2] === '--worker') {
    worker(process.argv[3], Number(process.argv[4]));
    return;
  }
  const [before, after] = process.argv.slice(2);
  if (!before || !after) {
    console.error('usage: node tools/bit-identity.js BEFORE.node AFTER.node');
    process.exit(2);
  }
  const run = (addonPath, level, threads) => {
    const env = {...process.env};
    if (level === 'default') delete env.TFJS_FOCAL_LOSS_SIMD;
    else env.TFJS_FOCAL_LOSS_SIMD = level;
    const out = cp.execFileSync(process.execPath, [__filename, '--worker', addonPath, String(threads)],
                                {env, maxBuffer: 1 << 28});
    return JSON.parse(out.toString());
  };
  const nSoftmax = softmaxCases().length;
  let failures = 0;
  for (const level of ['generic', 'avx2', 'default']) {
    for (const threads of [1, 2]) {
      const a = run(before, level, threads);
      const b = run(after, level, threads);
      if (a.level !== b.level) {
        console.log(`${level}: the builds run different SIMD levels (${a.level}, ${b.level})`);
        failures++;
        continue;
      }
      const differ = [];
      a.results.forEach((h, i) => { if (h !== b.results[i]) differ.push(i); });
      const threw = a.results.filter((h) => h === 'threw').length;
      console.log(`simd ${a.level.padEnd(7)} threads ${threads}: ${a.results.length} outputs ` +
          `(${nSoftmax} softmax cases with and without gradient, ${sigmoidCases().length} sigmoid), ` +
          `${(a.bytes / 1e6).toFixed(1)} MB compared, ${threw} rejected by both, ` +
          `${differ.length === 0 ? 'all identical' : `${differ.length} DIFFER (first: #${differ[0]})`}`);
      failures += differ.length;
    }
  }
  console.log(failures === 0 ? 'bit-identity: identical' : `bit-identity: ${failures} differences`);
  process.exit(failures === 0 ? 0 : 1);
}

main();
