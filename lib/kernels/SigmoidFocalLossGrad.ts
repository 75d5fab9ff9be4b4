// 'SigmoidFocalLossGrad' kernel: backward of 'SigmoidFocalLoss' with respect to the logits,
// out[k] = dy[k] * grad[k] (scaleGradientKernel: a TensorFlow op or the addon's scaleElements; the
// forward pass already wrote dL/dx).
import * as tf from '@tensorflow/tfjs';

import {BACKENDS, ReadableBackend, registerGradientOnce, registerKernelOnce, scaleGradientKernel} from './kernel_utils';

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
  return scaleGradientKernel('sigmoidFocalLoss', false, args.backend as ReadableBackend,
                             args.inputs as SigmoidFocalLossGradInputs);
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
