// Loads the native addon (build/Release/focal_loss.node) and describes its N-API interface.
//
// The addon is loaded lazily, on the first kernel call or thread/SIMD query, so that importing the
// package (which registers the tfjs kernels) never fails by itself; a missing build is reported
// with the command that produces it the first time the addon is needed.
import * as fs from 'fs';
import * as path from 'path';

/**
 * Arguments of `softmaxFocalLoss` (native/bindings/addon.cc). Int32Array labels = sparse class indices,
 * unless denseLabels is true: then rows * classes dense labels held as integers.
 */
export interface NativeSoftmaxFocalArgs {
  logits: Float32Array;
  labels: Int32Array | Float32Array;
  denseLabels?: boolean;
  rows: number;
  classes: number;
  gamma: number;
  alpha: number | Float32Array;
  labelSmoothing: number;
  ignoreIndex: number | null;
  fromLogits: boolean;
  lossOut: Float32Array;
  gradOut: Float32Array | null;
  // The softmax family: Poly-1 epsilon (left out: 0), per-class logit offsets (null: none).
  polyEpsilon?: number;
  logitOffsets?: Float32Array | null;
}

/**
 * Arguments of `sigmoidFocalLoss` (native/bindings/addon.cc); alpha null or negative = no class balancing.
 * Int32Array labels: labels held as integers (the 'cpu' backend's storage of a tensor cast from int32).
 */
export interface NativeSigmoidFocalArgs {
  logits: Float32Array;
  labels: Float32Array | Int32Array;
  gamma: number;
  alpha: number | null;
  labelSmoothing: number;
  fromLogits: boolean;
  lossOut: Float32Array;
  gradOut: Float32Array | null;
}

/** The functions exported by focal_loss.node. */
export interface FocalLossAddon {
  softmaxFocalLoss(args: NativeSoftmaxFocalArgs): void;
  sigmoidFocalLoss(args: NativeSigmoidFocalArgs): void;
  /** out[i*C+j] = dy[i] * grad[i*C+j] */
  scaleRows(grad: Float32Array, dy: Float32Array, rows: number, classes: number,
            out: Float32Array): void;
  /** out[k] = dy[k] * grad[k] */
  scaleElements(grad: Float32Array, dy: Float32Array, out: Float32Array): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  simdLevel(): string;
  /**
   * How many calls the native kernels served, from JS or as TensorFlow ops (lets tests prove the
   * work is native).
   */
  callCount(): number;
  /**
   * Registers the kernels as TensorFlow ops in the TensorFlow that tfjs-node loaded (once per
   * process): ok, or the reason they are unavailable, and the op names.
   */
  /** The attributes each TensorFlow op registers, as registered ("float", "list(float) >= 1", ...). */
  tensorflowOpSpecs(): {[op in 'softmax' | 'sigmoid' | 'scaleGradient']?: Array<{name: string, type: string}>};
  /** The argument keys each N-API entry point reads. */
  argumentKeys(): {softmaxFocalLoss: string[], sigmoidFocalLoss: string[]};
  registerTensorflowOps(): {
    ok: boolean,
    reason: string,
    ops: {softmax: string, sigmoid: string, scaleGradient: string},
  };
}

/** Environment variable that points at an addon binary built elsewhere. */
export const ADDON_PATH_ENV = 'TFJS_FOCAL_LOSS_ADDON';

// lib/native.ts runs from lib/ (ts-jest) and from dist/lib/ (compiled package): look upwards for
// the package root's build/ folder rather than hard-coding one depth.
function candidatePaths(): string[] {
  const fromEnv = process.env[ADDON_PATH_ENV];
  if (fromEnv) {
    return [path.resolve(fromEnv)];
  }
  const candidates: string[] = [];
  let dir = __dirname;
  for (let depth = 0; depth < 4; depth++) {
    candidates.push(path.join(dir, 'build', 'Release', 'focal_loss.node'));
    candidates.push(path.join(dir, 'build', 'Debug', 'focal_loss.node'));
    const parent = path.dirname(dir);
    if (parent === dir) {
      break;
    }
    dir = parent;
  }
  return candidates;
}

// Cached on the global object, not in this module: a second instance of this module (two copies of
// the package, or a test runner that re-evaluates modules per file while tfjs's kernel registry is
// global) must talk to the same exports object as the kernels that were registered first.
const ADDON_KEY = Symbol.for('tfjs-focal-loss.addon');
type GlobalWithAddon = typeof globalThis & {[ADDON_KEY]?: FocalLossAddon};

/**
 * The loaded addon. Throws an Error that names the paths searched and the build command when the
 * binary is missing or cannot be loaded (e.g. built for another Node ABI).
 */
export function addon(): FocalLossAddon {
  const cached = (globalThis as GlobalWithAddon)[ADDON_KEY];
  if (cached !== undefined) {
    return cached;
  }
  const candidates = candidatePaths();
  const found = candidates.find((p) => fs.existsSync(p));
  if (found === undefined) {
    throw new Error(
        `tfjs-focal-loss: native addon focal_loss.node not found (searched: ${
            candidates.join(', ')}). Build it with \`npx cmake-js compile\` (or ` +
        `\`node scripts/build-addon.js\`) in the package root, or set ${ADDON_PATH_ENV} to its path.`);
  }
  let loaded: FocalLossAddon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(found) as FocalLossAddon;
  } catch (e) {
    throw new Error(`tfjs-focal-loss: could not load the native addon ${found}: ${
        (e as Error).message}. Rebuild it for this Node version with \`npx cmake-js compile\`.`);
  }
  (globalThis as GlobalWithAddon)[ADDON_KEY] = loaded;
  return loaded;
}

/**
 * Sets the number of worker threads the native kernels use (default: env
 * TFJS_FOCAL_LOSS_NUM_THREADS, else the number of hardware threads). Results are bit-identical
 * whatever the count.
 */
export function setNumThreads(n: number): void {
  if (typeof n !== 'number') {
    throw new TypeError(`setNumThreads: n must be an integer >= 1; received ${
        n === null ? 'null' : typeof n === 'string' ? `the string '${n}'` : typeof n}`);
  }
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`setNumThreads: n must be an integer in [1, 1024]; received ${n}`);
  }
  addon().setNumThreads(n);
}

/** The number of worker threads the native kernels use. */
export function getNumThreads(): number {
  return addon().getNumThreads();
}

/**
 * The instruction set the native kernels run with: 'avx512', 'avx2' or 'generic' (env
 * TFJS_FOCAL_LOSS_SIMD=generic|avx2 forces a lower level).
 */
export function simdLevel(): string {
  return addon().simdLevel();
}
