// Imbalanced 3-class classification with model.fit: an MLP on 2-D points where class 2 is 90
// times rarer than class 0, trained with the focal loss and class-balanced α.
//   node examples/imbalanced_classification.js     (with @tensorflow/tfjs-node, or @tensorflow/tfjs)
//
// tfjs-layers' model.fit checks the targets against the model's output shape ([N, 3] here) for
// every loss but its own sparse one, so sparse class indices go in as tf.oneHot(labels, 3): the
// same loss values as the sparse form. (Sparse labels as they are: the custom loop of
// examples/segmentation.js.)
'use strict';
let tf;
try { tf = require('@tensorflow/tfjs-node'); } catch { tf = require('@tensorflow/tfjs'); }
const { categoricalFocalCrossentropy, classBalancedAlpha } = require('tfjs-focal-loss');

const CLASSES = 3;
const CENTERS = [[0, 0], [2.5, 0], [1.25, 2]];

/** counts[c] points around CENTERS[c]: features [N, 2] and int32 class indices [N]. */
function blobs(counts, seed) {
  const labels = counts.flatMap((n, c) => Array(n).fill(c));
  const centers = tf.tensor2d(labels.map((c) => CENTERS[c]));
  const xs = centers.add(tf.randomNormal(centers.shape, 0, 0.8, 'float32', seed));
  return { xs, labels: tf.tensor1d(labels, 'int32') };
}

async function main() {
  const counts = [1800, 180, 20];
  const train = blobs(counts, 1);
  const test = blobs([300, 300, 300], 2);

  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 16, activation: 'relu', inputShape: [2],
    kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  model.add(tf.layers.dense({ units: CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
  const alpha = classBalancedAlpha(counts, { method: 'effective', beta: 0.999 });
  model.compile({
    optimizer: tf.train.adam(0.02),
    loss: categoricalFocalCrossentropy({ fromLogits: true, gamma: 2, alpha }),
  });
  const targets = tf.oneHot(train.labels, CLASSES);
  // The training loss of the untrained model, not of epoch 1 (an average over a model already
  // learning, and it varies with model.fit's unseeded shuffle).
  const untrainedLoss = model.evaluate(train.xs, targets).dataSync()[0];
  const history = await model.fit(train.xs, targets, { epochs: 30, batchSize: 64, verbose: 0 });
  const trainedLoss = model.evaluate(train.xs, targets).dataSync()[0];

  const predicted = model.predict(test.xs).argMax(-1).dataSync();
  const truth = test.labels.dataSync();
  const recall = [0, 1, 2].map((c) => {
    let hit = 0;
    let all = 0;
    truth.forEach((t, i) => { if (t === c) { all += 1; hit += predicted[i] === c ? 1 : 0; } });
    return hit / all;
  });
  console.log(`backend ${tf.getBackend()}; class counts ${counts.join(':')}; alpha ${alpha.map((a) => a.toFixed(3)).join(', ')}`);
  console.log(`training loss ${untrainedLoss.toFixed(4)} -> ${trainedLoss.toFixed(4)} in ${history.epoch.length} epochs`);
  console.log(`recall on a balanced test set: ${recall.map((r, c) => `class ${c} ${(100 * r).toFixed(1)}%`).join(', ')}`);
  if (!(trainedLoss < 0.5 * untrainedLoss)) {
    throw new Error('training did not halve the training loss');
  }
  if (!(recall[2] > 0.5)) {
    throw new Error('training did not learn the rare class (recall of class 2 at most 50%)');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
