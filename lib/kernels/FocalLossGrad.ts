// 'FocalLossGrad' kernel: backward of 'FocalLoss' with respect to the logits,
// out[..., j] = dy[...] * grad[..., j], by the addon's scaleRows. The forward kernel already wrote
// dL_row/dlogits, so backprop never reads the logits again.
import * as tf from '@tensorflow/tfjs-core';

import {addon} from '../native';
import {backwardOperands, BACKENDS, makeFloat32Output, readFloat32, ReadableBackend, registerGradientOnce, registerKernelOnce, rethrowNative} from './kernel_utils';

export const FocalLossGrad = 'FocalLossGrad';

export interface FocalLossGradInputs extends tf.NamedTensorInfoMap {
  /** Upstream gradient of the per-row loss, shape logits.shape[:-1]. */
  dy: tf.TensorInfo;
  /**
   * Either `grad`: dL_row/dlogits of shape logits.shape (a direct call; left untouched), or
   * `loss`: the forward kernel's output, whose saved gradient is scaled in place (the registered
   * gradient).
   */
  grad?: tf.TensorInfo;
  loss?: tf.TensorInfo;
}

export function focalLossGradKernel(
    args: {inputs: tf.NamedTensorInfoMap, backend: {}, attrs?: tf.NamedAttrMap}): tf.TensorInfo {
  const inputs = args.inputs as FocalLossGradInputs;
  const dy = inputs.dy;
  const backend = args.backend as ReadableBackend;
  const {gradValues, out, shape} = backwardOperands('focalLoss', backend, inputs);
  const expectedDyShape = shape.slice(0, -1);
  if (shape.length === 0 || !tf.util.arraysEqual(dy.shape, expectedDyShape)) {
    throw new Error(`focalLoss gradient: the saved gradient has shape [${shape.join(',')}] ` +
        `and dy has shape [${dy.shape.join(',')}]; expected dy of shape [${
            expectedDyShape.join(',')}]`);
  }
  const classes = shape[shape.length - 1];
  const rows = dy.shape.reduce((a, b) => a * b, 1);
  if (out.length > 0) {
    try {
      addon().scaleRows(gradValues, readFloat32(backend, dy), rows, classes, out);
    } catch (e) {
      rethrowNative('focalLoss gradient', e);
    }
  }
  return makeFloat32Output(backend, shape, out);
}

export const focalLossGradConfigs: tf.KernelConfig[] = BACKENDS.map(
    (backendName) => ({kernelName: FocalLossGrad, backendName, kernelFunc: focalLossGradKernel}));

focalLossGradConfigs.forEach(registerKernelOnce);

// The saved gradient is an output of 'FocalLoss' whose own derivative is not defined, so a
// second-order gradient would silently drop terms: refuse it with a clear message instead.
registerGradientOnce({
  kernelName: FocalLossGrad,
  gradFunc: () => {
    throw new Error('focalLoss: second-order gradients (a gradient of a gradient) are not ' +
        'supported; the fused kernel only provides first derivatives');
  },
});
