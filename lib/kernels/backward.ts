// The backward kernel every loss shares: dL/dlogits = dy * the gradient its forward kernel saved,
// per row (softmax: dy has no class axis) or per element, scaled in place by the path that saved
// it. The logits are not read again.
import * as tf from '@tensorflow/tfjs';

import {ReadableBackend, scaleGradientCopy} from '../paths/js_arrays';
import {KernelArgs, refuseRecordedBackward} from './engine';
import {checkDyShape, takeSavedGradient} from './saved_gradients';

export interface BackwardInputs extends tf.NamedTensorInfoMap {
  /** Upstream gradient: the loss's shape, or [] for a loss reduced inside the op. */
  dy: tf.TensorInfo;
  /**
   * Either `grad`: dL/dlogits of the logits' shape (a direct call; left untouched, the result is
   * a new tensor), or `loss`: the forward kernel's output, whose saved gradient is scaled in place
   * (the registered gradient).
   */
  grad?: tf.TensorInfo;
  loss?: tf.TensorInfo;
}

/** The kernel function of a backward kernel; errors are named after `opName`. */
export function backwardKernel(opName: string, perRow: boolean): tf.KernelFunc {
  return ({inputs, backend}: KernelArgs) => {
    const {dy, grad, loss} = inputs as BackwardInputs;
    if (grad !== undefined) {
      checkDyShape(opName, {shape: grad.shape}, dy, perRow);
      return scaleGradientCopy(opName, backend as ReadableBackend, grad, dy, perRow);
    }
    const saved = takeSavedGradient(opName, loss);
    checkDyShape(opName, saved, dy, perRow);
    return saved.scale(dy, perRow);
  };
}

/**
 * The registered gradient of a fused forward kernel: the logits get its saved gradient scaled by
 * dy (the backward kernel `backwardName`); the labels get `labelsGradient`, evaluated only when a
 * gradient with respect to them is asked for. `opName`: the function errors name, from the attrs.
 */
export function fusedGradient<A>(
    kernelName: string, backwardName: string, opName: (attrs: A) => string,
    labelsGradient: (labels: tf.Tensor, logits: tf.Tensor, dy: tf.Tensor, attrs: A) => tf.Tensor):
    tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['labels', 'logits'],
    outputsToSave: [true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [labels, logits, loss] = saved;
      refuseRecordedBackward(opName(attrs as unknown as A));
      return {
        logits: () => tf.engine().runKernel(backwardName, {dy, loss}) as tf.Tensor,
        labels: () => labelsGradient(labels, logits, dy, attrs as unknown as A),
      };
    },
  };
}
