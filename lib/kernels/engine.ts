// What every kernel of this package shares with the tfjs engine: the backends it registers for,
// idempotent registration, whether a gradient is being recorded, and the in-op reductions.
import * as tf from '@tensorflow/tfjs';

import {BACKENDS} from '../kernel_contract';

/** The signature of a kernel function as tfjs calls it. */
export type KernelArgs = {inputs: tf.NamedTensorInfoMap, backend: {}, attrs?: tf.NamedAttrMap};

/**
 * Registers `config` unless a kernel of that name is already registered for that backend: a test
 * runner that re-evaluates this package against the same global tfjs registry must not trigger
 * tfjs's "already registered" warnings.
 */
export function registerKernelOnce(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) === undefined) {
    tf.registerKernel(config);
  }
}

export function registerGradientOnce(config: tf.GradConfig): void {
  if (tf.getGradient(config.kernelName) === undefined) {
    tf.registerGradient(config);
  }
}

/** Registers `kernelFunc` as `kernelName` for every backend in BACKENDS. */
export function registerForBackends(kernelName: string, kernelFunc: tf.KernelFunc): void {
  for (const backendName of BACKENDS) {
    registerKernelOnce({kernelName, backendName, kernelFunc});
  }
}

/**
 * Whether the engine will keep this kernel's outputs for backprop. The engine runs a kernel with
 * kernelDepth incremented and records it on the tape only when `gradientDepth > 0` and the kernel
 * was invoked from outside any other kernel (kernelDepth 1 while it runs); a call nested in a
 * customGrad forward function is not taped, so computing its gradient would be wasted work.
 */
export function gradientIsRecorded(): boolean {
  const state = tf.engine().state;
  return state.gradientDepth > 0 && state.kernelDepth <= 1;
}

/**
 * Called at the start of a registered gradient. The saved gradient is an output of the forward
 * kernel that tfjs's tape cannot connect back to the logits, so a gradient of this backward pass
 * (a second-order gradient, e.g. a gradient penalty) would silently miss the Hessian term. When
 * the backward pass is itself being recorded (an enclosing tf.grad / variableGrads), refuse.
 */
export function refuseRecordedBackward(functionNameOf: () => string): void {
  if (tf.engine().state.gradientDepth > 0) {
    const functionName = functionNameOf();
    throw new Error(`${functionName}: second-order gradients (differentiating a gradient of ${
        functionName}, e.g. tf.grad inside tf.grad) are not supported; the fused kernel only provides ` +
        `first derivatives`);
  }
}

/**
 * Registers, for a backward kernel, a gradient that refuses: its input is the saved gradient, an
 * output of the forward kernel whose own derivative is not defined, so a second-order gradient
 * would silently drop terms.
 */
export function refuseSecondOrder(kernelName: string, functionName: string): void {
  registerGradientOnce({
    kernelName,
    gradFunc: () => {
      throw new Error(`${functionName}: second-order gradients (a gradient of a gradient) are not ` +
          'supported; the fused kernel only provides first derivatives');
    },
  });
}
