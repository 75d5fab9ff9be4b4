// The few tfjs ops whose autodiff gradient cannot be differentiated again (tfjs 4.x), in forms that
// can, with the same forward values and the same first-order gradients to the bit, so that the
// composites' second derivatives (tf.grad of tf.grad, Hessian-vector products, gradient penalties)
// are right:
//  - Sigmoid, Exp and logSoftmax compute their gradient from a saved copy of their output. tfjs
//    records that copy on the tape before the op itself, so its tape cannot connect the copy to x:
//    a second derivative silently drops the op's curvature (or finds "no path from x to y"). Here,
//    where the backward pass is itself recorded, the gradient recomputes the output from the input
//    through the same form again, so every order is connected (Softplus's and Expm1's gradients
//    are a Sigmoid and an Exp: their third derivatives had the flaw).
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
 * The unary op `forward` with the gradient `gradient(dy, x, y)`, in which `y()` is forward(x): the
 * saved output for a first derivative (as tfjs's own gradients use it, no extra work), recomputed
 * through this op where the backward pass is itself recorded (a second derivative is being taken),
 * so that the tape connects it to x. `gradient` may use differentiable ops of x (saved as tfjs
 * saves inputs).
 */
function unaryOp(forward: (x: tf.Tensor) => tf.Tensor,
                 gradient: (dy: tf.Tensor, x: tf.Tensor, y: () => tf.Tensor) => tf.Tensor):
    (x: tf.Tensor) => tf.Tensor {
  const custom = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const value = forward(x);
    save([x, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [savedX, savedY]: tf.Tensor[]) =>
          gradient(dy, savedX, () => (tf.engine().state.gradientDepth > 0 ? op(savedX) : savedY)),
    };
  }) as unknown as CustomGradFunction);
  const op = (x: tf.Tensor) => custom(x) as tf.Tensor;
  return op;
}

/** tf.sigmoid; gradient dy y (1 - y) (tfjs's Sigmoid gradient). */
export const sigmoid = unaryOp((x) => tf.sigmoid(x), (dy, x, y) => {
  const s = y();
  return tf.mul(dy, tf.mul(s, tf.sub(tf.scalar(1), s)));
});

/** tf.exp; gradient dy y (tfjs's Exp gradient). */
export const exp = unaryOp((x) => tf.exp(x), (dy, x, y) => tf.mul(dy, y()));

/** tf.softplus; gradient dy sigmoid(x) (tfjs's), through `sigmoid` above (a third derivative). */
export const softplus = unaryOp((x) => tf.softplus(x), (dy, x) => tf.mul(dy, sigmoid(x)));

/** tf.expm1; gradient dy exp(x) (tfjs's), through `exp` above (a third derivative). */
export const expm1 = unaryOp((x) => tf.expm1(x), (dy, x) => tf.mul(dy, exp(x)));

/** tf.logSoftmax over the last axis; gradient dy - sum(dy) exp(y) (tfjs's). */
export const logSoftmax = unaryOp(
    (x) => tf.logSoftmax(x), (dy, x, y) => tf.sub(dy, tf.mul(tf.sum(dy, -1, true), exp(y()))));

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
