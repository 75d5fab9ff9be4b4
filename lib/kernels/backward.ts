// The backward kernel every loss shares: dL/dlogits = dy * the gradient its forward kernel saved,
// per row (softmax: dy has no class axis) or per element, scaled in place by the path that saved
// it. The logits are not read again.
import * as tf from '@tensorflow/tfjs';

import type {BackwardInputs} from '../kernel_contract';
import {ReadableBackend, scaleGradientCopy} from '../paths/js_arrays';
import {KernelArgs, refuseRecordedBackward, refuseSecondOrder, registerForBackends, registerGradientOnce} from './engine';
import {checkDyShape, takeSavedGradient} from '../paths/saved_gradients';


/** The kernel function of a backward kernel; errors are named after `functionName`. */
export function backwardKernel(functionName: string, perRow: boolean): tf.KernelFunc {
  return ({inputs, backend}: KernelArgs) => {
    const {dy, grad, loss} = inputs as BackwardInputs;
    if (grad !== undefined) {
      checkDyShape(functionName, {shape: grad.shape}, dy, perRow);
      return scaleGradientCopy(functionName, backend as ReadableBackend, grad, dy, perRow);
    }
    const saved = takeSavedGradient(functionName, loss);
    checkDyShape(functionName, saved, dy, perRow);
    return saved.scale(dy, perRow);
  };
}

/**
 * The registered gradient of a fused forward kernel: the logits get its saved gradient scaled by
 * dy (the backward kernel `backwardName`); the labels get `labelsGradient`, evaluated only when a
 * gradient with respect to them is asked for. `resolve` completes the forward call's attrs (a
 * direct runKernel call may leave some out); `functionName`: the function errors name, from them.
 */
export function fusedGradient<D, A>(
    kernelName: string, backwardName: string, resolve: (attrs: D) => A, functionName: (attrs: A) => string,
    labelsGradient: (labels: tf.Tensor, logits: tf.Tensor, dy: tf.Tensor, attrs: A) => tf.Tensor):
    tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['labels', 'logits'],
    outputsToSave: [true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [labels, logits, loss] = saved;
      refuseRecordedBackward(() => functionName(resolve(attrs as unknown as D)));
      return {
        logits: () => tf.engine().runKernel(backwardName, {dy, loss}) as tf.Tensor,
        labels: () => labelsGradient(labels, logits, dy, resolve(attrs as unknown as D)),
      };
    },
  };
}

/**
 * Registers a fused forward kernel with its backward kernel and gradient under each
 * [forward, backward] pair of `names`: the kernel's own names first, then earlier names kept as
 * aliases for direct runKernel callers. `kernel` and `gradient` are given the forward name they
 * serve (errors name the kernel the caller ran); `functionName`: the user's function, for errors.
 */
export function registerFusedKernel(
    names: ReadonlyArray<readonly [forward: string, backward: string]>, kernel: (kernelName: string) => tf.KernelFunc,
    gradient: (kernelName: string) => tf.GradConfig, functionName: string, perRow: boolean): void {
  for (const [forward, backward] of names) {
    registerForBackends(forward, kernel(forward));
    registerForBackends(backward, backwardKernel(functionName, perRow));
    registerGradientOnce(gradient(forward));
    refuseSecondOrder(backward, functionName);
  }
}
