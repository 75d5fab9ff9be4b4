// Buffer plumbing shared by the kernels: read input buffers without copying where the backend
// allows it, hand output buffers to the backend without copying, and decide whether the gradient
// has to be produced.
import * as tf from '@tensorflow/tfjs';

import {addon} from '../native';
import {formatIndex} from '../options';
import {AttrValue, TensorflowOps} from './tensorflow_ops';

/** The part of a tfjs backend the kernels use ('cpu' and 'tensorflow' both provide readSync). */
export interface ReadableBackend {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues):
      tf.TensorInfo;
}

function isTypedArrayOf(values: unknown, name: 'Float32Array' | 'Int32Array'): boolean {
  return Object.prototype.toString.call(values) === `[object ${name}]`;
}

/**
 * The float32 values of `info`. On 'cpu' this is the backend's own array (zero-copy); on
 * 'tensorflow' it is the pending JS array of a tensor not yet handed to TensorFlow, or one copy out
 * of the TF tensor. Native code only reads it.
 */
export function readFloat32(backend: ReadableBackend, info: tf.TensorInfo): Float32Array {
  const values = backend.readSync(info.dataId);
  // The tag check also accepts a Float32Array from another realm (tfjs-node creates its arrays in
  // native code); any other array type is converted once for the addon, which checks exact types.
  return isTypedArrayOf(values, 'Float32Array') ? values as Float32Array :
                                                   new Float32Array(values as ArrayLike<number>);
}

/** The 'cpu' backend's storage (MathBackendCPU.data); other backends have none. */
interface BackendStorage {
  data?: {get?(dataId: tf.DataId): {values?: unknown} | undefined};
}

/**
 * The values of a float32 labels tensor as the addon takes them: on 'cpu', the backend's own array,
 * as its kernels read it. A float32 tensor cast from int32 shares the int32 tensor's storage there,
 * and readSync converts that storage into a new array on every call: tf.cast(tf.oneHot(t, C),
 * 'float32') is stored as a Float32Array marked int32, which readSync turned into an Int32Array and
 * readFloat32 back into a Float32Array, 90 ms per call at 4096x1000 on the 2-core VM (the kernel
 * takes 1-2 ms), mostly the first touch of the fresh memory. The addon takes a Float32Array as is
 * and reads an Int32Array itself, block by block.
 */
export function readFloat32Labels(backend: ReadableBackend, info: tf.TensorInfo):
    Float32Array | Int32Array {
  const storage = (backend as BackendStorage).data;
  const stored = typeof storage?.get === 'function' ? storage.get(info.dataId)?.values : undefined;
  if (isTypedArrayOf(stored, 'Float32Array')) return stored as Float32Array;
  if (isTypedArrayOf(stored, 'Int32Array')) return stored as Int32Array;
  return readFloat32(backend, info);
}

export function readInt32(backend: ReadableBackend, info: tf.TensorInfo): Int32Array {
  const values = backend.readSync(info.dataId);
  return isTypedArrayOf(values, 'Int32Array') ? values as Int32Array :
                                                 new Int32Array(values as ArrayLike<number>);
}

/**
 * Wraps `values` as a float32 output without copying. tfjs-node's backend has no makeTensorInfo,
 * but its write() stores the JS array lazily (TensorFlow only gets a copy if a TF op consumes it).
 */
export function makeFloat32Output(
    backend: ReadableBackend, shape: number[], values: Float32Array): tf.TensorInfo {
  if (typeof backend.makeTensorInfo === 'function') {
    return backend.makeTensorInfo(shape, 'float32', values);
  }
  return {dataId: backend.write(values, shape, 'float32'), shape, dtype: 'float32'};
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
 * Rethrows an error from the addon with the op name in front, keeping its type. The addon indexes
 * the flat buffers it was given ("labels[17] = 12 ..."); `shapes` turns those into the index of the
 * user's tensor ("labels[2, 5] = 12 ...") when it has more than one axis.
 */
export function rethrowNative(
    opName: string, error: unknown, shapes: {[name: string]: number[]} = {}): never {
  const err = error as Error;
  const nativeMessage = err && err.message !== undefined ? err.message : String(error);
  // The addon names its own entry point ("softmaxFocalLoss: labels[2] = 7 ..."); the user called
  // the op, so the op's name replaces it.
  let message = nativeMessage.replace(
      /^(softmaxFocalLoss|sigmoidFocalLoss|scaleRows|scaleElements|TfjsFocalLoss\w*): /, '');
  message = message.replace(/\b([A-Za-z]+)\[(\d+)\]/g, (match, name: string, flat: string) => {
    const shape = shapes[name];
    return shape !== undefined && shape.length > 1 ? `${name}${formatIndex(Number(flat), shape)}` :
                                                     match;
  });
  message = `${opName}: ${message}`;
  if (err instanceof RangeError) {
    throw new RangeError(message);
  }
  if (err instanceof TypeError) {
    throw new TypeError(message);
  }
  throw new Error(message);
}

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

/**
 * Gradients the forward kernels computed while a tape was recording, keyed by the dataId of the
 * loss output they belong to (the engine's saved clone of that output shares its dataId).
 *
 * Why not a second kernel output: for every output that receives no upstream gradient, tfjs's
 * engine zero-fills a `dy` of that output's full size, so a saved-gradient output would cost an
 * extra rows*classes allocation and fill on every backward step. The backward kernel takes its
 * entry and scales it in place. Kept on globalThis so that a module registry that loads this file
 * twice (jest) still pairs forward and backward kernels.
 *
 * A saved gradient is either a JS array (the JS-array path: it goes with its dataId, like any
 * JS-held tensor data) or a tensor inside TensorFlow (the TensorFlow-op path: registered with the
 * backend but not with the engine, so a loss that is never differentiated releases it through a
 * FinalizationRegistry once its dataId is collected).
 */
export interface SavedGradient {
  shape: number[];
  values?: Float32Array;
  tensor?: tf.TensorInfo;
  ops?: TensorflowOps;
  /** Set when the loss was reduced inside the op: dy is a scalar, applied as dy * factor. */
  factor?: number;
}
interface SavedGradientStore {
  byLoss: WeakMap<object, SavedGradient>;
  orphans: FinalizationRegistry<SavedGradient>;
}
const SAVED_GRADIENTS_KEY = Symbol.for('tfjs-focal-loss.savedGradients.v2');
const store: SavedGradientStore =
    ((globalThis as unknown as {[k: symbol]: SavedGradientStore})[SAVED_GRADIENTS_KEY] ??= {
      byLoss: new WeakMap<object, SavedGradient>(),
      orphans: new FinalizationRegistry<SavedGradient>((saved) => saved.ops?.dispose(saved.tensor!)),
    });

export function saveGradient(
    lossDataId: object, values: Float32Array, shape: number[], factor?: number): void {
  store.byLoss.set(lossDataId, {values, shape, factor});
}

function saveGradientTensor(
    lossDataId: object, tensor: tf.TensorInfo, ops: TensorflowOps, factor?: number): void {
  const saved: SavedGradient = {tensor, ops, shape: tensor.shape.slice(), factor};
  store.byLoss.set(lossDataId, saved);
  store.orphans.register(lossDataId, saved, saved);
}

/** Takes the gradient saved for `loss` out of the store (each forward pass has one backward pass). */
function takeSavedGradient(opName: string, loss: tf.TensorInfo | undefined): SavedGradient {
  const saved = loss === undefined ? undefined : store.byLoss.get(loss.dataId);
  if (saved === undefined) {
    throw new Error(`${opName} gradient: no gradient was saved for this loss (the forward pass ` +
        `must run while a gradient is recorded, and each forward pass supports one backward pass)`);
  }
  store.byLoss.delete(loss!.dataId);
  if (saved.tensor !== undefined) {
    store.orphans.unregister(saved);
  }
  return saved;
}

/**
 * Runs a forward TensorFlow op (outputs: loss, gradient) and keeps the gradient for the backward
 * kernel when a gradient is recorded; otherwise the op wrote none ([0]) and it is released.
 */
export function runForwardOp(
    ops: TensorflowOps, opName: string, userOpName: string, attrs: {[name: string]: AttrValue},
    inputs: tf.TensorInfo[], wantGrad: boolean, shapes: {[name: string]: number[]},
    factor: number | undefined): tf.TensorInfo {
  let outputs: tf.TensorInfo[];
  try {
    outputs = ops.run(opName, attrs, inputs, 2);
  } catch (e) {
    rethrowNative(userOpName, e, shapes);
  }
  const [loss, gradient] = outputs;
  if (wantGrad) {
    saveGradientTensor(loss.dataId, gradient, ops, factor);
  } else {
    ops.dispose(gradient);
  }
  return loss;
}

/**
 * The body of both backward kernels: out = dy * grad, per row of the gradient (`perRow`, softmax:
 * dy has the gradient's shape without its last axis) or per element (sigmoid: the same shape); for
 * a loss reduced inside the op, dy is a scalar applied as dy * factor.
 *
 * With input `grad` (a direct call) that tensor is left untouched and a fresh output is returned.
 * With input `loss` (the registered gradient) the gradient saved for that loss is scaled in place:
 * by the TensorFlow op when it lives in TensorFlow, else by the addon on its JS array.
 */
export function scaleGradientKernel(
    opName: string, perRow: boolean, backend: ReadableBackend,
    inputs: {dy: tf.TensorInfo, grad?: tf.TensorInfo, loss?: tf.TensorInfo}): tf.TensorInfo {
  const dy = inputs.dy;
  const saved: SavedGradient = inputs.grad !== undefined ?
      {shape: inputs.grad.shape.slice(), values: readFloat32(backend, inputs.grad)} :
      takeSavedGradient(opName, inputs.loss);
  const shape = saved.shape;
  const reduced = saved.factor !== undefined;
  const expectedDyShape = reduced ? [] : perRow ? shape.slice(0, -1) : shape;
  if ((perRow && shape.length === 0) || !tf.util.arraysEqual(dy.shape, expectedDyShape)) {
    saved.ops?.dispose(saved.tensor!);
    throw new Error(`${opName} gradient: the saved gradient has shape [${shape.join(',')}] ` +
        `and dy has shape [${dy.shape.join(',')}]; expected dy of shape [${
            expectedDyShape.join(',')}]`);
  }
  if (saved.tensor !== undefined) {
    const ops = saved.ops!;
    try {
      return ops.run(ops.scaleGradient, {per_row: perRow, reduced, factor: saved.factor ?? 1},
                     [saved.tensor, dy], 1)[0];
    } catch (e) {
      rethrowNative(`${opName} gradient`, e);
    } finally {
      // The op's output shares the buffer; this only drops the input's TensorFlow handle.
      ops.dispose(saved.tensor);
    }
  }
  const values = saved.values!;
  const out = inputs.grad !== undefined ? new Float32Array(values.length) : values;
  if (out.length > 0) {
    try {
      const dyValues = readFloat32(backend, dy);
      if (reduced) {
        // Every row of the last axis scaled by the same dy * factor, a float32 product as in the
        // TensorFlow op (the fill rounds the exact double product of two float32 values).
        const classes = Math.max(1, shape[shape.length - 1] ?? 1);
        const rows = out.length / classes;
        const scale = dyValues[0] * Math.fround(saved.factor!);
        addon().scaleRows(values, new Float32Array(rows).fill(scale), rows, classes, out);
      } else if (perRow) {
        const classes = shape[shape.length - 1];
        addon().scaleRows(values, dyValues, out.length / classes, classes, out);
      } else {
        addon().scaleElements(values, dyValues, out);
      }
    } catch (e) {
      rethrowNative(`${opName} gradient`, e);
    }
  }
  return makeFloat32Output(backend, shape, out);
}

/**
 * How a forward kernel reduces its per-sample losses: 'none' (the loss output is per sample), or
 * 'sum' / 'mean' inside the op (a scalar output). The API uses the in-op reduction for the
 * unweighted reductions: it saves the engine several small ops per step, forward and backward.
 */
export type KernelReduction = 'none' | 'sum' | 'mean';

/** The code of the ops' `reduction` attribute. */
export const REDUCTION_CODES: {[r in KernelReduction]: number} = {none: 0, sum: 1, mean: 2};

/**
 * The unweighted tf.Reduction as an in-op reduction: without weights, MEAN and
 * SUM_BY_NONZERO_WEIGHTS are both the mean over the samples (0 for none, see reduction.ts).
 */
export function kernelReduction(reduction: tf.Reduction): KernelReduction {
  return reduction === tf.Reduction.NONE ? 'none' : reduction === tf.Reduction.SUM ? 'sum' : 'mean';
}

/** The backward factor of an in-op reduction over `samples` losses (undefined: not reduced). */
export function reductionFactor(reduction: KernelReduction, samples: number): number | undefined {
  return reduction === 'none' ? undefined : reduction === 'sum' ? 1 : 1 / Math.max(1, samples);
}

/**
 * The JS-array path's in-op reduction, the same arithmetic as the native reduce_losses: a double
 * sum in index order, divided by max(1, n) for the mean, rounded once to float32.
 */
export function reduceLosses(losses: Float32Array, reduction: KernelReduction): Float32Array {
  if (reduction === 'none') {
    return losses;
  }
  let sum = 0;
  for (let i = 0; i < losses.length; i++) {
    sum += losses[i];
  }
  return Float32Array.of(reduction === 'mean' ? sum / Math.max(1, losses.length) : sum);
}

/** The backends this package registers its kernels for. */
export const BACKENDS = ['tensorflow', 'cpu'] as const;

/**
 * Called at the start of a registered gradient. The saved gradient is an output of the forward
 * kernel that tfjs's tape cannot connect back to the logits, so a gradient of this backward pass
 * (a second-order gradient, e.g. a gradient penalty) would silently miss the Hessian term. When
 * the backward pass is itself being recorded (an enclosing tf.grad / variableGrads), refuse.
 */
export function refuseRecordedBackward(opName: string): void {
  if (tf.engine().state.gradientDepth > 0) {
    throw new Error(`${opName}: second-order gradients (differentiating a gradient of ${
        opName}, e.g. tf.grad inside tf.grad) are not supported; the fused kernel only provides ` +
        `first derivatives`);
  }
}
