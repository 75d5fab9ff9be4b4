// Effect of the loss on an imbalanced problem: the bench's call of compareLosses (lib/compare) on the
// imbalanced MNIST subset of dataset.ts. The same small MLP (784 -> hidden -> 10, ReLU) is trained
// with cross-entropy and five other losses under the same seeds, and evaluated on the balanced
// held-out digits. The bench keeps only its own here: the data set, the model and the settings.
import * as tf from '@tensorflow/tfjs';

import {compareLosses, CompareReport, ContenderSpec, ProgressEvent, progressLine} from '../lib/compare';
import {CLASS_BALANCE} from '../lib/compare/contenders';
import {SeededRandom} from '../lib/compare/stats';
import * as focal from '../lib/index';
import {DatasetOptions, loadImbalancedMnist, NUM_CLASSES, PIXELS} from './dataset';
import {ProgressFn} from './speed';

export const FOCAL_GAMMA = 2;

/** The losses besides cross-entropy (the baseline compareLosses always trains). */
export const EFFECT_CONTENDERS: ContenderSpec[] = [
  {name: 'class-balanced CE', gamma: 0, classBalanced: true},
  {name: 'focal', gamma: FOCAL_GAMMA},
  {name: 'class-balanced focal', gamma: FOCAL_GAMMA, classBalanced: true},
  // The softmax family (issue 17): counts of the training split, tau 1.
  {name: 'logit-adjusted CE', gamma: 0, tau: 1},
  {name: 'logit-adjusted focal', gamma: FOCAL_GAMMA, tau: 1},
];

export interface EffectResult extends CompareReport {
  hidden: number;
  learningRate: number;
  dataset: {
    counts: number[];
    classOrder: number[];
    rareClasses: number[];
    trainSize: number;
    testSize: number;
    testPerClass: number;
    imbalanceRatio: number;
  };
  classAlpha: number[];
}

export interface EffectOptions {
  seeds: number;
  epochs: number;
  batchSize?: number;
  hidden?: number;
  learningRate?: number;
  dataset?: DatasetOptions;
  progress?: ProgressFn;
}

/** Glorot-uniform weights from a seeded generator, so every loss starts from the same network. */
function glorotUniform(random: SeededRandom, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < values.length; i++) {
    values[i] = (2 * random.next() - 1) * limit;
  }
  return values;
}

/** The MLP 784 -> hidden (ReLU) -> 10 logits, its weights drawn from the seed as the bench always did. */
export function effectMlp(seed: number, hidden: number): tf.LayersModel {
  const model = tf.sequential({layers: [
    tf.layers.dense({inputShape: [PIXELS], units: hidden, activation: 'relu'}),
    tf.layers.dense({units: NUM_CLASSES}),
  ]});
  const random = new SeededRandom(seed);
  const weights = [tf.tensor2d(glorotUniform(random, PIXELS, hidden), [PIXELS, hidden]), tf.zeros([hidden]),
                   tf.tensor2d(glorotUniform(random, hidden, NUM_CLASSES), [hidden, NUM_CLASSES]), tf.zeros([NUM_CLASSES])];
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

export async function measureEffect(options: EffectOptions): Promise<EffectResult> {
  const batchSize = options.batchSize ?? 64;
  const hidden = options.hidden ?? 128;
  const learningRate = options.learningRate ?? 1e-3;
  const data = loadImbalancedMnist(options.dataset);
  const tensors = {
    x: tf.tensor2d(data.trainX, [data.trainY.length, PIXELS]), y: tf.tensor1d(data.trainY, 'int32'),
    testX: tf.tensor2d(data.testX, [data.testY.length, PIXELS]), testY: tf.tensor1d(data.testY, 'int32'),
  };
  try {
    const report = await compareLosses({
      model: ({seed}) => effectMlp(seed, hidden),
      data: {x: tensors.x, y: tensors.y}, validation: {x: tensors.testX, y: tensors.testY},
      contenders: EFFECT_CONTENDERS, seeds: options.seeds, epochs: options.epochs, batchSize,
      optimizer: () => tf.train.adam(learningRate), rareClasses: data.rareClasses,
      progress: options.progress === undefined ? false :
          (e: ProgressEvent) => options.progress!(`effect: ${progressLine(e)}`),
    });
    return {
      ...report, hidden, learningRate,
      dataset: {
        counts: data.counts, classOrder: data.classOrder, rareClasses: data.rareClasses,
        trainSize: data.trainY.length, testSize: data.testY.length, testPerClass: data.testPerClass,
        imbalanceRatio: Math.max(...data.counts) / Math.min(...data.counts),
      },
      classAlpha: focal.classBalancedAlpha(data.counts, CLASS_BALANCE),
    };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
