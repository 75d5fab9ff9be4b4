// Which path computes a loss on the active backend, decided in one place:
//   'tensorflow-op'  the native kernel as a TensorFlow op inside tfjs-node (zero-copy),
//   'js-arrays'      the native kernel on the backend's JS arrays ('cpu', or 'tensorflow' without
//                    the ops),
//   'composite'      ordinary tfjs ops (paths/composite.ts): any other backend (wasm, webgl, webgpu,
//                    ...), or 'cpu' / 'tensorflow' when the native binary cannot be loaded.
import * as tf from '@tensorflow/tfjs';

import {BACKENDS, KernelReduction} from '../kernel_contract';
import {addonLoadStatus, simdLevel} from '../native';
import {reductionFactor} from './in_op_reduction';
import {ArrayReader, ForwardCall, ReadableBackend, runOnArrays} from './js_arrays';
import {AttrValue, tensorflowOps, tensorflowOpsStatus} from './tensorflow_op';

export type ComputePath = 'tensorflow-op' | 'js-arrays' | 'composite';

export interface PathChoice {
  path: ComputePath;
  /** Why this path, in a sentence. */
  reason: string;
}

/** The active backend's name, initializing tfjs's best backend first if none is active yet. */
function activeBackend(): string {
  if (tf.getBackend() === undefined) {
    tf.backend();
  }
  return tf.getBackend();
}

function servedByNativeKernel(backendName: string): boolean {
  return (BACKENDS as readonly string[]).includes(backendName);
}

/** The path the losses take on `backendName` (default: the active backend), and why. */
export function selectPath(backendName: string = activeBackend()): PathChoice {
  if (!servedByNativeKernel(backendName)) {
    return {
      path: 'composite',
      reason: `backend '${backendName}' has no native kernel (it is registered for ${
          BACKENDS.map((b) => `'${b}'`).join(' and ')}): the loss is composed of tfjs ops`,
    };
  }
  const load = addonLoadStatus();
  if (!load.loaded) {
    return {path: 'composite', reason: `${load.error}; meanwhile the loss is composed of tfjs ops`};
  }
  if (backendName === 'tensorflow') {
    const ops = tensorflowOpsStatus();
    return ops.active ?
        {path: 'tensorflow-op', reason: 'the native kernel runs as a TensorFlow op in tfjs-node'} :
        {path: 'js-arrays', reason: `the native kernel runs on JS arrays (TensorFlow ops: ${ops.reason})`};
  }
  return {path: 'js-arrays', reason: `the native kernel runs on the arrays of backend '${backendName}'`};
}

/** The hot-path form of selectPath: only whether the composite runs. */
export function usesComposite(): boolean {
  return !servedByNativeKernel(activeBackend()) || !addonLoadStatus().loaded;
}

/**
 * Runs the loss's kernel `kernelName`, or `composite` (the same loss of tfjs ops, given the same
 * inputs and attrs) where the native kernel does not run (`onComposite`: usesComposite(), when the
 * caller already asked).
 */
export function runLoss<A extends object>(
    kernelName: string, inputs: {labels: tf.Tensor, logits: tf.Tensor}, attrs: A,
    composite: (labels: tf.Tensor, logits: tf.Tensor, attrs: A) => tf.Tensor,
    onComposite = usesComposite()): tf.Tensor {
  if (onComposite) {
    return composite(inputs.labels, inputs.logits, attrs);
  }
  return tf.engine().runKernel(kernelName, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** What a forward kernel asks of the native kernel, on whichever path its backend allows. */
export interface NativeForward {
  /** The user's function, named in errors ('focalLoss'). */
  functionName: string;
  backend: unknown;
  labels: tf.TensorInfo;
  logits: tf.TensorInfo;
  /** The unreduced losses: how many, and their shape. */
  count: number;
  lossShape: number[];
  reduction: KernelReduction;
  /** Whether the gradient is computed and saved for the backward kernel. */
  wantGrad: boolean;
  /** The TensorFlow op and the loss's own attributes (the reduction and gradient ones are added). */
  op: 'softmax' | 'sigmoid';
  opAttrs: () => {[name: string]: AttrValue};
  /** The addon call on the backend's arrays. */
  onArrays: (arrays: ArrayReader, lossOut: Float32Array, gradOut: Float32Array | null) => void;
}

/**
 * Runs a forward kernel's native pass as a TensorFlow op where the backend allows it (tfjs-node
 * with the ops registered), else on the backend's JS arrays: with usesComposite, the one place the
 * path is decided.
 */
export function runNativeForward(f: NativeForward): tf.TensorInfo {
  const gradShape = f.logits.shape.slice();
  const call: ForwardCall = {
    functionName: f.functionName, backend: f.backend as ReadableBackend, count: f.count,
    outShape: f.reduction === 'none' ? f.lossShape : [], gradShape, reduction: f.reduction,
    factor: reductionFactor(f.reduction, f.count), wantGrad: f.wantGrad,
    shapes: {labels: f.labels.shape, logits: f.logits.shape},
  };
  const ops = f.count > 0 ? tensorflowOps(f.backend) : null;
  if (ops !== null) {
    return ops.forward(ops.names[f.op], f.opAttrs(), [f.logits, f.labels], call);
  }
  return runOnArrays(call, gradShape.reduce((x, y) => x * y, 1), f.onArrays);
}

export interface NativeStatus extends PathChoice {
  /** The active tfjs backend. */
  backend: string;
  /** Whether the native binary loaded, which file, and if not, why. */
  loaded: boolean;
  binary: string | null;
  error: string | null;
  /** The kernels' instruction set ('avx512', 'avx2', 'generic'), null when not loaded. */
  simd: string | null;
}

/** Which path focalLoss / sigmoidFocalLoss take on the active backend and why; never throws. */
export function nativeStatus(): NativeStatus {
  const load = addonLoadStatus();
  let backend = 'none';
  try {
    backend = activeBackend();
    return {backend, ...selectPath(backend), ...load, simd: load.loaded ? simdLevel() : null};
  } catch (e) {  // a diagnosis must not throw: it reports
    return {backend, path: 'composite', reason: `the status could not be read: ${String((e as Error)?.message ?? e)}`,
            ...load, simd: null};
  }
}
