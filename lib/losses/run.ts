// What every loss function does around its kernel, in one place: an empty input decided here
// (exactly 0, or an empty loss, with a zero gradient) before any path or backend sees it; errors
// from the kernel or the composite reported under the user's function and argument names (with the
// swapped-arguments hint); the warning for probabilities passed as logits; and the composite
// wherever a second derivative may be taken.
import * as tf from '@tensorflow/tfjs';

import {usesComposite} from '../paths/select';
import {Caller, inputError} from '../validation/inputs';
import {noteLogits, probabilityWarningMessage, ProbabilityKind} from '../validation/probability_warning';

/**
 * The loss of an empty input (logits.size 0): zeros of `lossShape` ([] for a reduced loss), whose
 * gradient is zero for both inputs. No backend reduces the empty tensor (some return uninitialised
 * memory for it), and tf.grad finds the inputs connected on every path.
 */
export function emptyLoss(labels: tf.Tensor, logits: tf.Tensor, lossShape: number[]): tf.Tensor {
  const loss = tf.customGrad(((lab: tf.Tensor, log: tf.Tensor) => ({
    value: tf.zeros(lossShape),
    gradFunc: () => [tf.zeros(lab.shape, 'float32'), tf.zerosLike(log)],
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return loss(labels, logits);
}

/**
 * `compute()` for a non-empty input, else emptyLoss: `reduced` says whether the loss is a scalar,
 * `lossShape` is its unreduced shape.
 */
export function lossOrEmpty(call: {labels: tf.Tensor, logits: tf.Tensor}, reduced: boolean,
                            lossShape: number[], compute: () => tf.Tensor): tf.Tensor {
  if (call.logits.size === 0) {
    return emptyLoss(call.labels, call.logits, reduced ? [] : lossShape);
  }
  return compute();
}

/**
 * Whether this forward pass is recorded by a gradient that is itself recorded (tf.grad inside
 * tf.grad, a Hessian-vector product, a gradient penalty): tfjs runs a nested tf.grad's function
 * at gradient depth 2. The fused kernels give first derivatives only, so there the loss is
 * composed of tfjs ops, which autodiff differentiates again (paths/composite_ops.ts).
 */
function gradientOfGradient(): boolean {
  return tf.engine().state.gradientDepth > 1;
}

/**
 * The loss's kernel `kernelName` (one op on the tape), or `composite` (the same loss of tfjs ops,
 * given the same inputs and attrs) where the native kernel does not run (paths/select.ts
 * usesComposite) or a second derivative may be taken, for the user's call `c`: errors under c's
 * names, and with `attrs.fromLogits` the probability warning. `kind` picks the warning's criterion;
 * `hasFromLogits`: whether c has the option (the family's losses always take logits).
 */
export function runUserLoss<A extends {fromLogits: boolean}>(
    c: Caller, kind: ProbabilityKind, hasFromLogits: boolean, kernelName: string,
    inputs: {labels: tf.Tensor, logits: tf.Tensor}, attrs: A,
    composite: (labels: tf.Tensor, logits: tf.Tensor, attrs: A) => tf.Tensor): tf.Tensor {
  let loss: tf.Tensor;
  const onComposite = usesComposite() || gradientOfGradient();
  try {
    loss = onComposite ? composite(inputs.labels, inputs.logits, attrs) :
        tf.engine().runKernel(kernelName, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  } catch (e) {
    throw inputError(c, e, inputs.labels, inputs.logits, attrs.fromLogits);
  }
  if (attrs.fromLogits) {
    noteLogits(c.fn, onComposite, kind, inputs.logits,
               () => probabilityWarningMessage(c.fn, c.logits, c.options, kind, hasFromLogits));
  }
  return loss;
}
