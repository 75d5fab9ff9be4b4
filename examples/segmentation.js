// A segmentation-shaped output: per-pixel logits [B, H, W, 3] from a small conv net, on 16x16
// images with background (class 0), a square (class 1) and a rare 2x2 dot (class 2).
//   node examples/segmentation.js     (with @tensorflow/tfjs-node, or @tensorflow/tfjs)
//
// Two ways to train, both with the fused focal kernel:
//   1. model.fit with categoricalFocalCrossentropy on tf.oneHot(labels, 3) ([B, H, W, 3]): tfjs-layers
//      requires targets of the output's shape;
//   2. a custom loop, optimizer.minimize(() => focalLoss(labels, model.apply(x))), with the sparse
//      int32 labels [B, H, W] as they are (no one-hot tensor; sparseCategoricalFocalCrossentropy
//      works the same way in a loop or with model.fitDataset).
'use strict';
let tf;
try { tf = require('@tensorflow/tfjs-node'); } catch { tf = require('@tensorflow/tfjs'); }
const { categoricalFocalCrossentropy, focalLoss } = require('tfjs-focal-loss');

const SIZE = 16;
const CLASSES = 3;

/** n images [n, 16, 16, 1] and their int32 label maps [n, 16, 16], from a seeded generator. */
function images(n, seed) {
  let state = seed;
  const random = (k) => { state = (state * 1103515245 + 12345) % 2147483648; return Math.floor((state / 2147483648) * k); };
  const pixels = new Float32Array(n * SIZE * SIZE);
  const labels = new Int32Array(n * SIZE * SIZE);
  for (let i = 0; i < n; i++) {
    const paint = (top, left, side, cls, value) => {
      for (let y = top; y < top + side; y++) {
        for (let x = left; x < left + side; x++) {
          pixels[(i * SIZE + y) * SIZE + x] = value;
          labels[(i * SIZE + y) * SIZE + x] = cls;
        }
      }
    };
    paint(random(SIZE - 6), random(SIZE - 6), 6, 1, 0.5);
    paint(random(SIZE - 2), random(SIZE - 2), 2, 2, 1);
  }
  return {
    xs: tf.tensor4d(pixels, [n, SIZE, SIZE, 1]),
    labels: tf.tensor3d(labels, [n, SIZE, SIZE], 'int32'),
  };
}

function net() {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [SIZE, SIZE, 1], filters: 8, kernelSize: 3, padding: 'same',
    activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  model.add(tf.layers.conv2d({ filters: CLASSES, kernelSize: 1,
    kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));   // logits [B, H, W, 3]
  return model;
}

function perClassAccuracy(model, data) {
  const predicted = model.predict(data.xs).argMax(-1).dataSync();
  const truth = data.labels.dataSync();
  return [0, 1, 2].map((c) => {
    let hit = 0;
    let all = 0;
    truth.forEach((t, i) => { if (t === c) { all += 1; hit += predicted[i] === c ? 1 : 0; } });
    return `class ${c} ${(100 * hit / all).toFixed(1)}%`;
  }).join(', ');
}

async function main() {
  const train = images(64, 7);
  const test = images(16, 8);
  const options = { gamma: 2, alpha: [0.25, 1, 1] };

  // 1. model.fit: one-hot targets of the output's shape.
  const fitted = net();
  fitted.compile({ optimizer: tf.train.adam(0.05), loss: categoricalFocalCrossentropy({ fromLogits: true, ...options }) });
  const history = await fitted.fit(train.xs, tf.oneHot(train.labels, CLASSES), { epochs: 15, batchSize: 16, verbose: 0 });
  const fitLosses = history.history.loss;
  console.log(`backend ${tf.getBackend()}; model.fit, one-hot targets: loss ${fitLosses[0].toFixed(4)} -> ` +
    `${fitLosses[fitLosses.length - 1].toFixed(4)}; pixel accuracy ${perClassAccuracy(fitted, test)}`);

  // 2. A custom loop with the sparse labels.
  const looped = net();
  const optimizer = tf.train.adam(0.05);
  const loopLosses = [];
  for (let step = 0; step < 60; step++) {
    const loss = optimizer.minimize(() => focalLoss(train.labels, looped.apply(train.xs), options), true);
    loopLosses.push(loss.dataSync()[0]);
    loss.dispose();
  }
  console.log(`custom loop, sparse labels: loss ${loopLosses[0].toFixed(4)} -> ` +
    `${loopLosses[loopLosses.length - 1].toFixed(4)}; pixel accuracy ${perClassAccuracy(looped, test)}`);

  if (!(fitLosses[fitLosses.length - 1] < 0.5 * fitLosses[0]) || !(loopLosses[loopLosses.length - 1] < 0.5 * loopLosses[0])) {
    throw new Error('training did not lower the loss');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
