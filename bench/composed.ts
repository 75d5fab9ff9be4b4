// Focal loss written with plain tfjs ops: what a user writes without this library. Its gradient
// comes from tfjs autodiff through every op (logSoftmax, exp, sub, pow, mul, sum, mean), so each
// op keeps its intermediate tensor alive for the backward pass. This is the "composed" contender of
// the speed section; it computes the same numbers as the library's dense-label path with a scalar
// alpha (up to float32 rounding).
import * as tf from '@tensorflow/tfjs-core';

/**
 * Softmax focal loss, mean over all rows (every axis but the last).
 * L_row = -sum_j alpha * y_j * (1 - p_j)^gamma * log p_j
 */
export function composedFocalLoss(
    oneHotLabels: tf.Tensor, logits: tf.Tensor, gamma: number, alpha: number): tf.Scalar {
  return tf.tidy(() => {
    const logProbabilities = tf.logSoftmax(logits);
    const probabilities = tf.exp(logProbabilities);
    const modulation = tf.pow(tf.sub(1, probabilities), gamma);
    const weighted = tf.mul(tf.mul(oneHotLabels, modulation), logProbabilities);
    const perRow = tf.neg(tf.sum(weighted, -1));
    return tf.mean(tf.mul(perRow, alpha));
  });
}

/**
 * Sigmoid focal loss (RetinaNet form), mean over all elements.
 * ce = max(x, 0) - x*y + log(1 + exp(-|x|));  p_t = p*y + (1-p)(1-y);  alpha_t = a*y + (1-a)(1-y)
 * L = alpha_t * ce * (1 - p_t)^gamma
 */
export function composedSigmoidFocalLoss(
    labels: tf.Tensor, logits: tf.Tensor, gamma: number, alpha: number): tf.Scalar {
  return tf.tidy(() => {
    const probabilities = tf.sigmoid(logits);
    const crossEntropy = tf.add(
        tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    const oneMinusLabels = tf.sub(1, labels);
    const pT = tf.add(tf.mul(probabilities, labels), tf.mul(tf.sub(1, probabilities), oneMinusLabels));
    const alphaT = tf.add(tf.mul(labels, alpha), tf.mul(oneMinusLabels, 1 - alpha));
    const modulation = tf.pow(tf.sub(1, pT), gamma);
    return tf.mean(tf.mul(tf.mul(alphaT, crossEntropy), modulation));
  });
}
