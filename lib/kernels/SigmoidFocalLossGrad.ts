// 'SigmoidFocalLossGrad' kernel: backward of 'SigmoidFocalLoss' with respect to the logits,
// out[k] = dy[k] * grad[k], by the addon's scaleElements (the forward pass already wrote dL/dx).
import * as tf from '@tensorflow/tfjs-core';

import {addon} from '../native';
import {backwardOutput, BACKENDS, makeFloat32Output, readFloat32, ReadableBackend, registerGradientOnce, registerKernelOnce, rethrowNative} from './kernel_utils';

export const SigmoidFocalLossGrad = 'SigmoidFocalLossGrad';

export interface SigmoidFocalLossGradInputs extends tf.NamedTensorInfoMap {
  /** Upstream gradient of the elementwise loss, shape logits.shape. */
  dy: tf.TensorInfo;
  /** dL/dlogits saved by the forward kernel, shape logits.shape. */
  grad: tf.TensorInfo;
}

export function sigmoidFocalLossGradKernel(
    args: {inputs: tf.NamedTensorInfoMap, backend: {}, attrs?: tf.NamedAttrMap}): tf.TensorInfo {
  const {dy, grad} = args.inputs as SigmoidFocalLossGradInputs;
  const backend = args.backend as ReadableBackend;
  if (!tf.util.arraysEqual(dy.shape, grad.shape)) {
    throw new Error(`sigmoidFocalLoss gradient: the saved gradient has shape [${
        grad.shape.join(',')}] and dy has shape [${dy.shape.join(',')}]; they must be equal ` +
        `(was the forward pass run while a gradient was recorded?)`);
  }
  const {gradValues, out} = backwardOutput(backend, grad, args.attrs);
  if (out.length > 0) {
    try {
      addon().scaleElements(gradValues, readFloat32(backend, dy), out);
    } catch (e) {
      rethrowNative('sigmoidFocalLoss gradient', e);
    }
  }
  return makeFloat32Output(backend, grad.shape.slice(), out);
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
