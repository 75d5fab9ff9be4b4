// A forward kernel's native pass, on the path its backend allows: as a TensorFlow op inside
// tfjs-node where the ops are registered (paths/tensorflow_op.ts), else on the backend's JS arrays
// (paths/js_arrays.ts). The kernels call it; whether the kernel runs at all (or the composite) the
// losses have asked paths/select.ts before, so the forward trip goes down the layers once:
// losses → kernels → this file → the op or the arrays.
import * as tf from '@tensorflow/tfjs';

import type {KernelReduction} from '../kernel_contract';
import {reductionFactor} from './in_op_reduction';
import {ArrayReader, ForwardCall, ReadableBackend, runOnArrays} from './js_arrays';
import {AttrValue, tensorflowOps} from './tensorflow_op';

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
 * with the ops registered: tensorflowOps, which selectPath reports), else on the backend's JS arrays.
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
