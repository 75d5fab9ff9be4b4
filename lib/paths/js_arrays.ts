// The JS-array path: the kernels read the backend's input arrays (without copying where the
// backend allows it), the addon computes into fresh Float32Arrays, and those become the outputs.
// Serves 'cpu', and 'tensorflow' where the kernels cannot run as TensorFlow ops.
import * as tf from '@tensorflow/tfjs';

import {rethrowNative} from '../errors';
import type {KernelReduction} from '../kernel_contract';
import {SavedGradient, saveGradient} from './saved_gradients';
import {addon} from '../native';
import {reduceLossArray} from './in_op_reduction';

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

export function readInt32(backend: ReadableBackend, info: tf.TensorInfo): Int32Array {
  const values = backend.readSync(info.dataId);
  return isTypedArrayOf(values, 'Int32Array') ? values as Int32Array :
                                                 new Int32Array(values as ArrayLike<number>);
}

/** The 'cpu' backend's storage (MathBackendCPU.data); other backends have none. */
interface BackendStorage {
  data?: {get?(dataId: tf.DataId): {values?: unknown} | undefined};
}

/**
 * The values of a float32 labels tensor as the addon takes them: on 'cpu', the backend's own array,
 * as its kernels read it. A float32 tensor cast from int32 (tf.cast(tf.oneHot(t, C), 'float32'))
 * shares the int32 tensor's storage there, and readSync would convert that storage into a new
 * array on every call, which costs far more than the kernel; the addon reads an Int32Array itself,
 * block by block.
 */
export function readDenseLabels(backend: ReadableBackend, info: tf.TensorInfo):
    Float32Array | Int32Array {
  const storage = (backend as BackendStorage).data;
  const stored = typeof storage?.get === 'function' ? storage.get(info.dataId)?.values : undefined;
  if (isTypedArrayOf(stored, 'Float32Array')) return stored as Float32Array;
  if (isTypedArrayOf(stored, 'Int32Array')) return stored as Int32Array;
  return readFloat32(backend, info);
}

/**
 * Wraps `values` as a float32 output without copying. tfjs-node's backend has no makeTensorInfo,
 * but its write() stores the JS array lazily (TensorFlow only gets a copy if a TF op consumes it).
 */
function makeFloat32Output(backend: ReadableBackend, shape: number[], values: Float32Array):
    tf.TensorInfo {
  if (typeof backend.makeTensorInfo === 'function') {
    return backend.makeTensorInfo(shape, 'float32', values);
  }
  return {dataId: backend.write(values, shape, 'float32'), shape, dtype: 'float32'};
}

/** What a forward kernel hands to either path. */
export interface ForwardCall {
  /** The user's function, named in errors ('focalLoss'). */
  functionName: string;
  backend: ReadableBackend;
  /** Number of unreduced losses (rows for softmax, elements for sigmoid). */
  count: number;
  /** The loss output's shape (the unreduced shape, or [] when reduced in the op). */
  outShape: number[];
  /** The gradient's shape (the logits' shape). */
  gradShape: number[];
  reduction: KernelReduction;
  /** The backward factor of the in-op reduction (reductionFactor). */
  factor: number | undefined;
  /** Whether the gradient is computed and saved for the backward kernel. */
  wantGrad: boolean;
  /** The inputs' shapes, to turn a flat index in an error into the user's index. */
  shapes: {[name: string]: number[]};
}

/**
 * out = dy * values per row (`perRow`) or per element; with a reduced loss every element is
 * scaled by dy * factor, a float32 product as in the TensorFlow op.
 */
function scaleArray(functionName: string, values: Float32Array, shape: number[],
                    factor: number | undefined, dy: Float32Array, perRow: boolean,
                    out: Float32Array): void {
  if (out.length === 0) {
    return;
  }
  try {
    const classes = perRow || factor !== undefined ? Math.max(1, shape[shape.length - 1] ?? 1) : 1;
    if (factor !== undefined) {
      const rows = out.length / classes;
      addon().scaleRows(values, new Float32Array(rows).fill(dy[0] * Math.fround(factor)), rows,
                        classes, out);
    } else if (perRow) {
      addon().scaleRows(values, dy, out.length / classes, classes, out);
    } else {
      addon().scaleElements(values, dy, out);
    }
  } catch (e) {
    rethrowNative(`${functionName} gradient`, e);
  }
}

function savedArray(call: ForwardCall, values: Float32Array): SavedGradient {
  const {functionName, backend, gradShape: shape, factor} = call;
  return {
    shape, factor,
    scale: (dy, perRow) => {
      scaleArray(functionName, values, shape, factor, readFloat32(backend, dy), perRow, values);
      return makeFloat32Output(backend, shape, values);
    },
    release: () => {},
  };
}

/** The inputs' arrays as the addon takes them, read from one backend. */
export interface ArrayReader {
  float32(info: tf.TensorInfo): Float32Array;
  int32(info: tf.TensorInfo): Int32Array;
  denseLabels(info: tf.TensorInfo): Float32Array | Int32Array;
}

/**
 * Runs a forward kernel on JS arrays: `compute` reads its inputs with `arrays`, fills the unreduced
 * losses and, when a gradient is recorded, the gradient (it is not called for an empty input),
 * which is saved for the backward kernel.
 */
export function runOnArrays(
    call: ForwardCall, gradSize: number,
    compute: (arrays: ArrayReader, lossOut: Float32Array, gradOut: Float32Array | null) => void):
    tf.TensorInfo {
  const lossOut = new Float32Array(call.count);
  const gradOut = call.wantGrad ? new Float32Array(gradSize) : null;
  if (call.count > 0) {
    const backend = call.backend;
    const arrays: ArrayReader = {
      float32: (info) => readFloat32(backend, info),
      int32: (info) => readInt32(backend, info),
      denseLabels: (info) => readDenseLabels(backend, info),
    };
    try {
      compute(arrays, lossOut, gradOut);
    } catch (e) {
      rethrowNative(call.functionName, e, call.shapes);
    }
  }
  const loss = makeFloat32Output(call.backend, call.outShape, reduceLossArray(lossOut, call.reduction));
  if (gradOut !== null) {
    saveGradient(loss.dataId, savedArray(call, gradOut), false);
  }
  return loss;
}

/** A backward kernel called directly with a gradient tensor: a fresh out = dy * grad. */
export function scaleGradientCopy(functionName: string, backend: ReadableBackend, grad: tf.TensorInfo,
                                  dy: tf.TensorInfo, perRow: boolean): tf.TensorInfo {
  const values = readFloat32(backend, grad);
  const out = new Float32Array(values.length);
  scaleArray(functionName, values, grad.shape, undefined, readFloat32(backend, dy), perRow, out);
  return makeFloat32Output(backend, grad.shape.slice(), out);
}
