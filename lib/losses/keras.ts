// What the Keras-style loss objects share: a loss function for tfjs-layers `model.compile({loss})`
// that carries its validated config and an mmcv-style repr. Each loss file declares its own.
import * as tf from '@tensorflow/tfjs';

/** A loss function for `model.compile({loss})`, with a readable name and repr. */
export interface FocalLossFunction<C> {
  (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor;
  /** The validated configuration (defaults filled in). */
  readonly config: Readonly<C>;
  /** mmcv-style repr, e.g. `CategoricalFocalCrossentropy(alpha=0.25, gamma=2, ...)`. */
  toString(): string;
}

function formatConfigValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  if (value !== null && typeof value === 'object') {  // e.g. {classCounts=[...], tau=1}
    return `{${Object.entries(value).map(([k, v]) => `${k}=${formatConfigValue(v)}`).join(', ')}}`;
  }
  return String(value);
}

/**
 * Wraps `compute` as the loss named `name` (tfjs-layers reports losses and metrics by the
 * function's name) whose repr is `className(key=value, ...)`.
 */
export function makeLossFunction<C extends object>(
    name: string, className: string, config: C,
    compute: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor): FocalLossFunction<C> {
  const frozen = Object.freeze({...config});
  const repr = `${className}(${
      Object.entries(frozen).map(([k, v]) => `${k}=${formatConfigValue(v)}`).join(', ')})`;
  const lossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => compute(yTrue, yPred);
  Object.defineProperty(lossFunction, 'name', {value: name});
  Object.defineProperty(lossFunction, 'config', {value: frozen, enumerable: true});
  Object.defineProperty(lossFunction, 'toString', {value: () => repr});
  return lossFunction as FocalLossFunction<C>;
}
