// The few tfjs ops whose autodiff gradient cannot be differentiated again (tfjs 4.x), in forms that
// can, with the same forward values and the same first-order gradients to the bit, so that the
// composites' second derivatives (tf.grad of tf.grad, Hessian-vector products, gradient penalties)
// are right:
//  - Sigmoid, Exp and logSoftmax compute their gradient from a saved copy of their output. tfjs
//    records that copy on the tape before the op itself, so its tape cannot connect the copy to x:
//    a second derivative silently drops the op's curvature (or finds "no path from x to y"). Here
//    the gradient recomputes the output from the input, through the same form again, so every
//    order is connected (the gradients of Softplus and Expm1 are a Sigmoid and an Exp: their third derivatives had
//    the flaw).
//  - Select (tf.where), ClipByValue and Maximum build their gradient from comparisons and
//    logicalNot / logicalAnd, which tfjs cannot differentiate ("gradient function not found for
//    LogicalNot"). Their masks are taken off the tape here: the masks are locally constant, so
//    their derivative is 0, which is what tfjs would need to be told.
import * as tf from '@tensorflow/tfjs';

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/**
 * `compute()` as a constant to tfjs autodiff at every order: it is evaluated inside a custom op
 * with no inputs, so no tape path leads from any input to it (for masks: comparisons, isNaN).
 */
export function offTape<T extends tf.Tensor>(compute: () => T): T {
  const op = tf.customGrad((() => ({value: compute(), gradFunc: () => []})) as unknown as CustomGradFunction);
  return (op as unknown as () => T)();
}

/**
 * The unary op `forward` with the gradient `gradient(dy, x)`, which may itself use differentiable
 * ops of x (the input, saved as tfjs saves inputs): a gradient that autodiff can differentiate.
 */
function unaryOp(forward: (x: tf.Tensor) => tf.Tensor,
                 gradient: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {value: forward(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gradient(dy, saved[0])};
  }) as unknown as CustomGradFunction);
  return (x) => op(x) as tf.Tensor;
}

/** tf.sigmoid; gradient dy y (1 - y) (tfjs's Sigmoid gradient) with y recomputed from x. */
export const sigmoid: (x: tf.Tensor) => tf.Tensor = unaryOp(
    (x) => tf.sigmoid(x), (dy, x) => {
      const y = sigmoid(x);
      return tf.mul(dy, tf.mul(y, tf.sub(tf.scalar(1), y)));
    });

/** tf.softplus; gradient dy sigmoid(x) (tfjs's), through `sigmoid` above (a third derivative). */
export const softplus: (x: tf.Tensor) => tf.Tensor = unaryOp(
    (x) => tf.softplus(x), (dy, x) => tf.mul(dy, sigmoid(x)));

/** tf.exp; gradient dy exp(x) (tfjs's Exp gradient) with exp(x) recomputed. */
export const exp: (x: tf.Tensor) => tf.Tensor = unaryOp((x) => tf.exp(x), (dy, x) => tf.mul(dy, exp(x)));

/** tf.expm1; gradient dy exp(x) (tfjs's), through `exp` above (a third derivative). */
export const expm1: (x: tf.Tensor) => tf.Tensor = unaryOp((x) => tf.expm1(x), (dy, x) => tf.mul(dy, exp(x)));

/**
 * tf.logSoftmax over the last axis; gradient dy - sum(dy) exp(logSoftmax(x)) (tfjs's) with
 * logSoftmax(x) recomputed.
 */
export const logSoftmax: (x: tf.Tensor) => tf.Tensor = unaryOp(
    (x) => tf.logSoftmax(x),
    (dy, x) => tf.sub(dy, tf.mul(tf.sum(dy, -1, true), exp(logSoftmax(x)))));

/** tf.where(condition, a, b) with `condition` off the tape (tfjs's gradient takes its logicalNot). */
export function where(condition: () => tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.where(offTape(condition), a, b);
}

/** tf.clipByValue; gradient where(lo <= x <= hi, dy, 0) (tfjs's) with the mask off the tape. */
export function clipByValue(x: tf.Tensor, lo: number, hi: number): tf.Tensor {
  return unaryOp((v) => tf.clipByValue(v, lo, hi), (dy, v) => where(
      () => tf.logicalAnd(tf.greaterEqual(v, lo), tf.lessEqual(v, hi)), dy, tf.zerosLike(dy)))(x);
}

/** tf.maximum(x, bound) for a constant bound; gradient dy [x >= bound] (tfjs's), mask off the tape. */
export function maximum(x: tf.Tensor, bound: number): tf.Tensor {
  return unaryOp((v) => tf.maximum(v, bound), (dy, v) =>
      tf.mul(dy, tf.cast(offTape(() => tf.greaterEqual(v, bound)), 'float32')))(x);
}
