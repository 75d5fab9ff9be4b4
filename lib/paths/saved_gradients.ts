// The gradient a forward kernel computed while a tape was recording, kept beside the loss output
// it belongs to (keyed by that output's dataId; the engine's saved clone of the output shares it)
// until the backward kernel takes it.
//
// Why not a second kernel output: for every output that receives no upstream gradient, tfjs's
// engine zero-fills a `dy` of that output's full size, so a saved-gradient output would cost an
// extra rows*classes allocation and fill on every backward step. The backward kernel scales the
// saved gradient in place instead.
import * as tf from '@tensorflow/tfjs';

/** A saved gradient; made by the path that computed it, which alone knows how to scale it. */
export interface SavedGradient {
  /** The shape of the gradient (the logits' shape). */
  readonly shape: number[];
  /** Set when the loss was reduced inside the op: dy is a scalar, applied as dy * factor. */
  readonly factor?: number;
  /** out = dy * gradient (per row or per element), in place; returns the gradient tensor. */
  scale(dy: tf.TensorInfo, perRow: boolean): tf.TensorInfo;
  /** Frees it without scaling (a gradient that is never used). */
  release(): void;
}

interface Store {
  byLoss: WeakMap<object, SavedGradient>;
  orphans: FinalizationRegistry<SavedGradient>;
}
// On globalThis so that a module registry that loads this file twice (jest) still pairs forward
// and backward kernels. A gradient that lives outside JS memory (a TensorFlow tensor) is freed
// through the FinalizationRegistry when its loss is collected without a backward pass.
const STORE_KEY = Symbol.for('tfjs-focal-loss.savedGradients.v3');
const store: Store = ((globalThis as unknown as {[k: symbol]: Store})[STORE_KEY] ??= {
  byLoss: new WeakMap<object, SavedGradient>(),
  orphans: new FinalizationRegistry<SavedGradient>((saved) => saved.release()),
});

/** Keeps `saved` for the loss output `lossDataId`; `external`: it holds memory outside JS. */
export function saveGradient(lossDataId: object, saved: SavedGradient, external: boolean): void {
  store.byLoss.set(lossDataId, saved);
  if (external) {
    store.orphans.register(lossDataId, saved, saved);
  }
}

/** Takes the gradient saved for `loss` out of the store (each forward pass has one backward pass). */
export function takeSavedGradient(functionName: string, loss: tf.TensorInfo | undefined): SavedGradient {
  const saved = loss === undefined ? undefined : store.byLoss.get(loss.dataId);
  if (saved === undefined) {
    throw new Error(`${functionName} gradient: no gradient was saved for this loss (the forward pass ` +
        `must run while a gradient is recorded, and each forward pass supports one backward pass)`);
  }
  store.byLoss.delete(loss!.dataId);
  store.orphans.unregister(saved);
  return saved;
}

/**
 * The shape dy must have for a saved gradient of `shape`: per row (softmax: without the class
 * axis), per element (sigmoid), or a scalar for a loss reduced inside the op.
 */
export function checkDyShape(
    functionName: string, saved: {shape: number[], factor?: number, release?: () => void},
    dy: tf.TensorInfo, perRow: boolean): void {
  const shape = saved.shape;
  const expected = saved.factor !== undefined ? [] : perRow ? shape.slice(0, -1) : shape;
  if ((perRow && shape.length === 0) || !tf.util.arraysEqual(dy.shape, expected)) {
    saved.release?.();
    throw new Error(`${functionName} gradient: the saved gradient has shape [${shape.join(',')}] ` +
        `and dy has shape [${dy.shape.join(',')}]; expected dy of shape [${expected.join(',')}]`);
  }
}
