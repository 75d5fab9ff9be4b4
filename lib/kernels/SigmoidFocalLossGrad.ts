// 'SigmoidFocalLossGrad' kernel: backward of 'SigmoidFocalLoss' with respect to the logits,
// out[k] = dy[k] * grad[k], by the addon's scaleElements (the forward pass already wrote dL/dx).
import * as tf from '@tensorflow/tfjs-core';

import {addon} from '../native';
import {backwardOperands, BACKENDS, makeFloat32Output, readFloat32, ReadableBackend, registerGradientOnce, registerKernelOnce, rethrowNative} from './kernel_utils';

export const SigmoidFocalLossGrad = 'SigmoidFocalLossGrad';

export interface SigmoidFocalLossGradInputs extends tf.NamedTensorInfoMap {
  /** Upstream gradient of the elementwise loss, shape logits.shape. */
  dy: tf.TensorInfo;
  /**
   * Either `grad`: dL/dlogits of shape logits.shape (a direct call; left untouched), or `loss`: the
   * forward kernel's output, whose saved gradient is scaled in place (the registered gradient).
   */
  grad?: tf.TensorInfo;
  loss?: tf.TensorInfo;
}

export function sigmoidFocalLossGradKernel(
    args: {inputs: tf.NamedTensorInfoMap, backend: {}, attrs?: tf.NamedAttrMap}): tf.TensorInfo {
  const inputs = args.inputs as SigmoidFocalLossGradInputs;
  const dy = inputs.dy;
  const backend = args.backend as ReadableBackend;
  const {gradValues, out, shape} = backwardOperands('sigmoidFocalLoss', backend, inputs);
  if (!tf.util.arraysEqual(dy.shape, shape)) {
    throw new Error(`sigmoidFocalLoss gradient: the saved gradient has shape [${
        shape.join(',')}] and dy has shape [${dy.shape.join(',')}]; they must be equal`);
  }
  if (out.length > 0) {
    try {
      addon().scaleElements(gradValues, readFloat32(backend, dy), out);
    } catch (e) {
      rethrowNative('sigmoidFocalLoss gradient', e);
    }
  }
  return makeFloat32Output(backend, shape, out);
}

export const sigmoidFocalLossGradConfigs: tf.KernelConfig[] = BACKENDS.map(
    (backendName) =>
        ({kernelName: SigmoidFocalLossGrad, backendName, kernelFunc: sigmoidFocalLossGradKernel}));

sigmoidFocalLossGradConfigs.forEach(registerKernelOnce);

// See FocalLossGrad.ts: a second-order gradient would silently drop terms.
registerGradientOnce({
  kernelName: SigmoidFocalLossGrad,
  gradFunc: () => {
    throw new Error('sigmoidFocalLoss: second-order gradients (a gradient of a gradient) are not ' +
        'supported; the fused kernel only provides first derivatives');
  },
});
