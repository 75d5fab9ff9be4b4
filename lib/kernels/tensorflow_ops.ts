// The 'tensorflow' backend's fast path: the native kernels registered as TensorFlow ops
// (native/tensorflow_ops.cc) and run through tfjs-node's own op executor, so logits, labels, loss
// and gradient stay in TensorFlow's memory. Without it every call copies the logits out of
// TensorFlow into a fresh ArrayBuffer, and TensorFlow copies the gradient back in when it uses it.
//
// Used when the backend is tfjs-node's NodeJSKernelBackend and the addon could register the ops
// (Linux, a TensorFlow whose C API has the kernel and op registration functions). Otherwise, or
// with env TFJS_FOCAL_LOSS_TF_OPS=0, the kernels keep the JS-array path of kernel_utils.ts.
import * as tf from '@tensorflow/tfjs';

import {addon} from '../native';

export const TF_OPS_ENV = 'TFJS_FOCAL_LOSS_TF_OPS';

/** tfjs-node's native binding: the members used here. */
interface TensorflowBinding {
  executeOp(name: string, attrs: OpAttr[], inputIds: number[], numOutputs: number):
      Array<{id: number, shape: number[], dtype: number}>;
  TF_FLOAT: number;
  TF_INT32: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_INT: number;
  TF_ATTR_TYPE: number;
}

interface OpAttr {
  name: string;
  type: number;
  value: number | boolean | number[];
}

/** tfjs-node's NodeJSKernelBackend: the members used here (the same ones its own kernels use). */
interface NodeKernelBackend {
  binding: TensorflowBinding;
  tensorMap: {set(dataId: object, data: object): void};
  getInputTensorIds(tensors: tf.TensorInfo[]): number[];
  disposeData(dataId: object, force?: boolean): boolean;
}

export type AttrValue = number | boolean | number[] | {dtype: 'int32' | 'float32'};

/** Runs the addon's TensorFlow ops on one tfjs-node backend. */
export class TensorflowOps {
  readonly softmax: string;
  readonly sigmoid: string;
  readonly scaleGradient: string;

  constructor(private readonly backend: NodeKernelBackend,
              names: {softmax: string, sigmoid: string, scaleGradient: string}) {
    this.softmax = names.softmax;
    this.sigmoid = names.sigmoid;
    this.scaleGradient = names.scaleGradient;
  }

  /**
   * Executes op `name` eagerly and registers its outputs with the backend the way tfjs-node's
   * createOutputTensor does, but as TensorInfos: the kernel returns them to the engine (or keeps
   * them), no engine Tensor is made here.
   */
  run(name: string, attrs: {[name: string]: AttrValue}, inputs: tf.TensorInfo[],
      numOutputs: number): tf.TensorInfo[] {
    const binding = this.backend.binding;
    const opAttrs: OpAttr[] = Object.keys(attrs).map((attrName) => {
      const value = attrs[attrName];
      if (typeof value === 'boolean') {
        return {name: attrName, type: binding.TF_ATTR_BOOL, value};
      }
      if (typeof value === 'number' || Array.isArray(value)) {
        const isInt = attrName === 'ignore_index' || attrName === 'reduction';
        return {name: attrName, type: isInt ? binding.TF_ATTR_INT : binding.TF_ATTR_FLOAT, value};
      }
      return {name: attrName, type: binding.TF_ATTR_TYPE,
              value: value.dtype === 'int32' ? binding.TF_INT32 : binding.TF_FLOAT};
    });
    let outputs: Array<{id: number, shape: number[], dtype: number}>;
    try {
      outputs = binding.executeOp(name, opAttrs, this.backend.getInputTensorIds(inputs), numOutputs);
    } catch (e) {
      throw fromTensorflowError(e);
    }
    return outputs.map((meta) => {
      const dataId = {};
      this.backend.tensorMap.set(
          dataId, {shape: meta.shape, dtype: meta.dtype, id: meta.id, values: null, refCount: 1});
      return {dataId, shape: meta.shape, dtype: 'float32' as tf.DataType};
    });
  }

  /** Releases an output of run() that was not handed to the engine. */
  dispose(info: tf.TensorInfo): void {
    this.backend.disposeData(info.dataId, true);
  }
}

/**
 * tfjs-node reports a failed op as Error("Invalid TF_Status: <code>\nMessage: <message>"). The
 * ops fail with INVALID_ARGUMENT (3) for bad inputs, their message naming the entry point as the
 * addon does ("softmaxFocalLoss: labels[2] = 7 is out of range [0, 5)"): that becomes the
 * RangeError the addon would have thrown. Anything else is passed on unchanged.
 */
function fromTensorflowError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : '';
  const match = /^Invalid TF_Status: 3\nMessage: ((?:softmaxFocalLoss|sigmoidFocalLoss|TfjsFocalLoss\w*): [^]*)$/
                    .exec(message);
  return match === null ? error : new RangeError(match[1]);
}

interface OpsState {
  ops: TensorflowOps | null;
  reason: string;
}

// One entry per backend object; on globalThis so that two copies of this module share it.
const STATE_KEY = Symbol.for('tfjs-focal-loss.tensorflowOps');
const states: WeakMap<object, OpsState> =
    ((globalThis as unknown as {[k: symbol]: WeakMap<object, OpsState>})[STATE_KEY] ??=
         new WeakMap<object, OpsState>());

function isNodeKernelBackend(backend: unknown): backend is NodeKernelBackend {
  const b = backend as Partial<NodeKernelBackend> | null;
  return b != null && typeof b.binding?.executeOp === 'function' &&
      typeof b.tensorMap?.set === 'function' && typeof b.getInputTensorIds === 'function' &&
      typeof b.disposeData === 'function';
}

function resolve(backend: unknown): OpsState {
  if (process.env[TF_OPS_ENV] === '0') {
    return {ops: null, reason: `disabled by ${TF_OPS_ENV}=0`};
  }
  if (!isNodeKernelBackend(backend)) {
    return {ops: null, reason: 'the backend is not tfjs-node\'s TensorFlow backend'};
  }
  const registration = addon().registerTensorflowOps();
  if (!registration.ok) {
    return {ops: null, reason: registration.reason};
  }
  return {ops: new TensorflowOps(backend, registration.ops), reason: ''};
}

/** The TensorFlow ops for `backend`, or null where the kernels must use the JS-array path. */
export function tensorflowOps(backend: unknown): TensorflowOps | null {
  if (backend === null || typeof backend !== 'object') {
    return null;
  }
  let state = states.get(backend);
  if (state === undefined) {
    state = resolve(backend);
    states.set(backend, state);
  }
  return state.ops;
}

/**
 * Whether the 'tensorflow' backend runs the kernels as TensorFlow ops (zero-copy), and if not,
 * why. Registers the backend's kernels first if needed; 'tensorflow' must be registered.
 */
export function tensorflowOpsStatus(): {active: boolean, reason: string} {
  const backend = tf.findBackend('tensorflow');
  if (backend === null) {
    return {active: false, reason: 'the \'tensorflow\' backend is not registered (load @tensorflow/tfjs-node)'};
  }
  tensorflowOps(backend);
  const state = states.get(backend)!;
  return {active: state.ops !== null, reason: state.reason};
}
