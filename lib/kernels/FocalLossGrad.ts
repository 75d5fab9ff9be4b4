// 'FocalLossGrad' kernel: backward of 'FocalLoss' with respect to the logits,
// out[..., j] = dy[...] * grad[..., j] (scaleGradientKernel: a TensorFlow op or the addon's
// scaleRows). The forward kernel already wrote dL_row/dlogits, so backprop never reads the logits
// again.
import * as tf from '@tensorflow/tfjs';

import {BACKENDS, ReadableBackend, registerGradientOnce, registerKernelOnce, scaleGradientKernel} from './kernel_utils';

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
  return scaleGradientKernel('focalLoss', true, args.backend as ReadableBackend,
                             args.inputs as FocalLossGradInputs);
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
