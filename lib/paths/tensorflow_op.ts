// The TensorFlow-op path of backend 'tensorflow': the native kernels registered as TensorFlow ops
// in the TensorFlow that tfjs-node loaded (native/bindings) and run through tfjs-node's own op
// executor, so logits, labels, loss and gradient stay in TensorFlow's memory. This file is the one
// owner of that plumbing (tfjs-node's binding, its tensor map, the op attributes).
//
// Used when the backend is tfjs-node's NodeJSKernelBackend and the addon could register the ops
// (Linux, a TensorFlow whose C API has the kernel and op registration functions). Otherwise, or
// with env TFJS_FOCAL_LOSS_TF_OPS=0, the kernels take the JS-array path.
import * as tf from '@tensorflow/tfjs';

import {rethrowNative} from '../errors';
import {REDUCTION_CODES} from '../kernel_contract';
import {SavedGradient, saveGradient} from './saved_gradients';
import {addon, addonLoadStatus, FocalLossAddon} from '../native';
import {ForwardCall} from './js_arrays';

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

/** An op attribute value; the kind is explicit so that 1 can be an int or a float attribute. */
export type AttrValue = {float: number} | {floats: number[]} | {int: number} | {bool: boolean} |
    {dtype: 'int32' | 'float32'};

/** A forward op's attributes: the loss's own, and what every forward op takes. */
export function forwardOpAttrs(attrs: {[name: string]: AttrValue},
                               call: Pick<ForwardCall, 'wantGrad' | 'reduction'>):
    {[name: string]: AttrValue} {
  const out: {[name: string]: AttrValue} = {};
  for (const name in attrs) out[name] = attrs[name];  // a copy without spread (a slow path in V8)
  out.compute_gradient = {bool: call.wantGrad};
  out.reduction = {int: REDUCTION_CODES[call.reduction]};
  return out;
}

/** The names under which the addon registered its ops. */
export interface OpNames {
  softmax: string;
  sigmoid: string;
  scaleGradient: string;
}

/** Runs the addon's TensorFlow ops on one tfjs-node backend. */
export class TensorflowOps {
  constructor(private readonly backend: NodeKernelBackend, readonly names: OpNames) {}

  private toOpAttr(name: string, value: AttrValue): OpAttr {
    const binding = this.backend.binding;
    if ('float' in value) return {name, type: binding.TF_ATTR_FLOAT, value: value.float};
    if ('floats' in value) return {name, type: binding.TF_ATTR_FLOAT, value: value.floats};
    if ('int' in value) return {name, type: binding.TF_ATTR_INT, value: value.int};
    if ('bool' in value) return {name, type: binding.TF_ATTR_BOOL, value: value.bool};
    return {name, type: binding.TF_ATTR_TYPE,
            value: value.dtype === 'int32' ? binding.TF_INT32 : binding.TF_FLOAT};
  }

  /**
   * Executes op `name` eagerly and registers its outputs with the backend the way tfjs-node's
   * createOutputTensor does, but as TensorInfos: the kernel returns them to the engine (or keeps
   * them), no engine Tensor is made here.
   */
  run(name: string, attrs: {[name: string]: AttrValue}, inputs: tf.TensorInfo[],
      numOutputs: number): tf.TensorInfo[] {
    const opAttrs = Object.keys(attrs).map((attrName) => this.toOpAttr(attrName, attrs[attrName]));
    const outputs = this.backend.binding.executeOp(
        name, opAttrs, this.backend.getInputTensorIds(inputs), numOutputs);
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

  /**
   * Runs a forward op (outputs: loss, gradient) and keeps the gradient for the backward kernel
   * when a gradient is recorded; otherwise the op wrote none ([0]) and it is released.
   */
  forward(tfOpName: string, attrs: {[name: string]: AttrValue}, inputs: tf.TensorInfo[],
          call: ForwardCall): tf.TensorInfo {
    let outputs: tf.TensorInfo[];
    try {
      outputs = this.run(tfOpName, forwardOpAttrs(attrs, call), inputs, 2);
    } catch (e) {
      rethrowNative(call.functionName, e, call.shapes);
    }
    const [loss, gradient] = outputs;
    if (call.wantGrad) {
      saveGradient(loss.dataId, this.savedTensor(call, gradient), true);
    } else {
      this.dispose(gradient);
    }
    return loss;
  }

  private savedTensor(call: ForwardCall, gradient: tf.TensorInfo): SavedGradient {
    const {functionName, factor} = call;
    return {
      shape: gradient.shape.slice(), factor,
      scale: (dy, perRow) => {
        try {
          return this.run(this.names.scaleGradient, {
            per_row: {bool: perRow},
            reduced: {bool: factor !== undefined},
            factor: {float: factor ?? 1},
          }, [gradient, dy], 1)[0];
        } catch (e) {
          rethrowNative(`${functionName} gradient`, e);
        } finally {
          // The op's output shares the buffer; this only drops the input's TensorFlow handle.
          this.dispose(gradient);
        }
      },
      release: () => this.dispose(gradient),
    };
  }
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
  const load = addonLoadStatus();
  if (!load.loaded) {
    return {ops: null, reason: load.error!};
  }
  let registration: ReturnType<FocalLossAddon['registerTensorflowOps']>;
  try {
    registration = addon().registerTensorflowOps();
  } catch (e) {
    return {ops: null, reason: `registering the TensorFlow ops failed: ${String((e as Error)?.message ?? e)}`};
  }
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
 * why (never throws: a missing or broken binary is a reason). Registers the ops first if needed.
 */
export function tensorflowOpsStatus(): {active: boolean, reason: string} {
  try {
    return opsStatus();
  } catch (e) {  // a diagnosis must not throw: it reports
    return {active: false, reason: String((e as Error)?.message ?? e)};
  }
}

function opsStatus(): {active: boolean, reason: string} {
  const backend = tf.findBackend('tensorflow');
  if (backend === null) {
    return {active: false, reason: 'the \'tensorflow\' backend is not registered (load @tensorflow/tfjs-node)'};
  }
  tensorflowOps(backend);
  const state = states.get(backend)!;
  return {active: state.ops !== null, reason: state.reason};
}
