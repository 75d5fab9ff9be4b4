#!/usr/bin/env node
// A/B timing of two builds of the addon in one process: the kernel alone (softmaxFocalLoss, forward
// + gradient into preallocated outputs), calls alternating between the builds so that both see the
// same machine state. For kernel work: build the baseline first and keep a copy, e.g.
//   git stash && npm run build && cp build/Release/focal_loss.node /tmp/base.node && git stash pop
//   npm run build
//   node tools/compare-kernels.js /tmp/base.node build/Release/focal_loss.node
// Options: --shapes 65536x20,256x10 (rows x classes)  --labels sparse|one-hot  --threads N
//          --label-smoothing X
//          --copy  after every pair of calls, copy the logits into a third array (as the bench's
//                  kernel section does): the caches no longer hold the working set, as when
//                  memory is the limit; the copy's median is printed too
// Prints per shape the min and median microseconds of each build and the largest differences of
// their outputs (the builds need not agree bit for bit, only within the tests' tolerances).
'use strict';
const path = require('path');

function parseArgs(argv) {
  const options = {shapes: '65536x20,131072x21,256x10,1024x64,4096x1000', labels: 'sparse', threads: 1,
                   labelSmoothing: 0, copy: false, builds: []};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--shapes') options.shapes = value();
    else if (arg === '--labels') options.labels = value();
    else if (arg === '--threads') options.threads = Number(value());
    else if (arg === '--label-smoothing') options.labelSmoothing = Number(value());
    else if (arg === '--copy') options.copy = true;
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.builds.push(arg);
  }
  if (options.builds.length !== 2) throw new Error('give two addon builds: BASE.node NEW.node');
  if (!['sparse', 'one-hot'].includes(options.labels)) throw new Error('--labels must be sparse or one-hot');
  if (!Number.isInteger(options.threads) || options.threads < 1) throw new Error('--threads must be an integer >= 1');
  return options;
}

function statistics(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {min: sorted[0], median: sorted[sorted.length >> 1]};
}

function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`compare-kernels: ${e.message}`);
    process.exit(2);
  }
  const builds = options.builds.map((file) => require(path.resolve(file)));
  for (const shape of options.shapes.split(',')) {
    const [rows, classes] = shape.split('x').map(Number);
    const logits = new Float32Array(rows * classes);
    for (let i = 0; i < logits.length; i++) logits[i] = 3 * Math.sin(1.7 * i);
    const sparse = new Int32Array(rows);
    for (let r = 0; r < rows; r++) sparse[r] = (7 * r) % classes;
    let labels = sparse;
    if (options.labels === 'one-hot') {
      labels = new Float32Array(rows * classes);
      for (let r = 0; r < rows; r++) labels[r * classes + sparse[r]] = 1;
    }
    const outputs = builds.map(() => ({loss: new Float32Array(rows), grad: new Float32Array(rows * classes)}));
    const samples = builds.map(() => []);
    const copyOut = options.copy ? new Float32Array(rows * classes) : null;
    const copySamples = [];
    const calls = Math.max(30, Math.min(2000, Math.floor(2e8 / (rows * classes))));
    for (let call = 0; call < calls; call++) {
      // The build called first alternates, so neither always follows the copy.
      const order = call % 2 === 0 ? [0, 1] : [1, 0];
      order.forEach((k) => {
        const build = builds[k];
        build.setNumThreads(options.threads);
        const start = process.hrtime.bigint();
        build.softmaxFocalLoss({logits, labels, rows, classes, gamma: 2, alpha: 0.25,
                                labelSmoothing: options.labelSmoothing, ignoreIndex: null, fromLogits: true,
                                lossOut: outputs[k].loss, gradOut: outputs[k].grad});
        if (call >= 5) samples[k].push(Number(process.hrtime.bigint() - start) / 1e3);
      });
      if (copyOut) {
        const start = process.hrtime.bigint();
        copyOut.set(logits);
        if (call >= 5) copySamples.push(Number(process.hrtime.bigint() - start) / 1e3);
      }
    }
    let lossRel = 0;
    let gradAbs = 0;
    for (let r = 0; r < rows; r++) {
      lossRel = Math.max(lossRel, Math.abs(outputs[0].loss[r] - outputs[1].loss[r]) / Math.abs(outputs[0].loss[r]));
    }
    for (let i = 0; i < rows * classes; i++) gradAbs = Math.max(gradAbs, Math.abs(outputs[0].grad[i] - outputs[1].grad[i]));
    const [base, next] = samples.map(statistics);
    console.log(`${shape} ${options.labels}${options.labelSmoothing ? ` ls=${options.labelSmoothing}` : ''} ` +
                `${options.threads} thread(s): base min ${base.min.toFixed(1)} median ${base.median.toFixed(1)} us | ` +
                `new min ${next.min.toFixed(1)} median ${next.median.toFixed(1)} us | ` +
                (copyOut ? `copy median ${statistics(copySamples).median.toFixed(1)} us | ` : '') +
                `largest loss difference ${lossRel.toExponential(2)} (relative), gradient ${gradAbs.toExponential(2)} (absolute)`);
  }
}

main();
