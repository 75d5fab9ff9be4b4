// Which path computes a loss on the active backend, decided and reported in one place:
//   'tensorflow-op'  the native kernel as a TensorFlow op inside tfjs-node (zero-copy),
//   'js-arrays'      the native kernel on the backend's JS arrays ('cpu', or 'tensorflow' without
//                    the ops),
//   'composite'      ordinary tfjs ops (paths/composite.ts): any other backend (wasm, webgl, webgpu,
//                    ...), or 'cpu' / 'tensorflow' when the native binary cannot be loaded.
import * as tf from '@tensorflow/tfjs';

import {BACKENDS} from '../kernel_contract';
import {addonLoadStatus, simdLevel} from '../native';
import {tensorflowOpsStatus} from './tensorflow_op';

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

/**
 * The hot-path form of selectPath: only whether the composite runs. The losses ask it before they
 * run their kernel (which then takes the TF op where tensorflowOps() serves its backend, else the
 * JS arrays: paths/native_forward.ts) or its composite.
 */
export function usesComposite(): boolean {
  return !servedByNativeKernel(activeBackend()) || !addonLoadStatus().loaded;
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
