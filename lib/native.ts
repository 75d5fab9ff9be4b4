// Loads the native addon (prebuilds/<platform>-<arch>/focal_loss[.<libc>].node, else a local
// build) and describes its N-API interface.
//
// The addon is loaded lazily, on the first kernel call or thread/SIMD query, so that importing the
// package (which registers the tfjs kernels) never fails by itself. Where no binary loads, the
// losses run as a composite of tfjs ops (paths/select.ts) and nativeStatus() says why; the
// functions that need the addon itself (setNumThreads, ...) throw the loader's one-line error.
import * as fs from 'fs';
import * as path from 'path';

import {environmentError} from './peers';

/** The entry points that take an options object, by their addon names. */
export type KernelEntryPoint = 'softmaxFocalLoss' | 'sigmoidElementwiseLoss';

/**
 * One plain option of an entry point, as its table in native/include/focal_loss.h declares it:
 * the kernel attr and N-API key (`key`), the TensorFlow op attribute (`attr`) and its type, the
 * kernel's default and whether the key must be given (else left out means the default).
 */
export interface KernelOption {
  key: string;
  attr: string;
  type: 'float' | 'bool' | 'int';
  default: number | boolean;
  required: boolean;
}

/**
 * Arguments of `softmaxFocalLoss` (native/bindings/addon.cc): the buffers and the options that are
 * not plain, then the table's options by key (kernelOptions()). Int32Array labels = sparse class
 * indices, unless denseLabels is true: then rows * classes dense labels held as integers.
 */
export interface NativeSoftmaxFocalArgs {
  logits: Float32Array;
  labels: Int32Array | Float32Array;
  denseLabels?: boolean;
  rows: number;
  classes: number;
  alpha: number | Float32Array;
  ignoreIndex: number | null;
  /** Per-class logit offsets (null: none). */
  logitOffsets?: Float32Array | null;
  lossOut: Float32Array;
  gradOut: Float32Array | null;
  [option: string]: unknown;
}

/**
 * Arguments of `sigmoidElementwiseLoss` (native/bindings/addon.cc), as NativeSoftmaxFocalArgs; alpha null
 * or negative = no class balancing. Int32Array labels: labels held as integers (the 'cpu' backend's
 * storage of a tensor cast from int32).
 */
export interface NativeSigmoidElementwiseArgs {
  logits: Float32Array;
  labels: Float32Array | Int32Array;
  alpha: number | null;
  /** The elementwise loss's code (left out: the focal loss). */
  loss?: number;
  lossOut: Float32Array;
  gradOut: Float32Array | null;
  [option: string]: unknown;
}

/** The functions exported by focal_loss.node. */
export interface FocalLossAddon {
  softmaxFocalLoss(args: NativeSoftmaxFocalArgs): void;
  sigmoidElementwiseLoss(args: NativeSigmoidElementwiseArgs): void;
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
   * Whether a call with fromLogits true received inputs that look like probabilities since the last
   * call (native/include/focal_loss.h); cleared by reading it.
   */
  takeProbabilityHint(): boolean;
  /** Arms (the default) or disarms the check behind takeProbabilityHint. */
  setProbabilityCheck(armed: boolean): void;
  /** The attributes each TensorFlow op registers, as registered ("float", "list(float) >= 1", ...). */
  tensorflowOpSpecs(): {[op in 'softmax' | 'sigmoid' | 'scaleGradient']?: Array<{name: string, type: string}>};
  /** The argument keys each N-API entry point reads. */
  argumentKeys(): {[entry in KernelEntryPoint]: string[]};
  /** The plain options of each entry point (native/include/focal_loss.h), in table order. */
  kernelOptions(): {[entry in KernelEntryPoint]: KernelOption[]};
  /**
   * Registers the kernels as TensorFlow ops in the TensorFlow that tfjs-node loaded (once per
   * process): ok, or the reason they are unavailable, and the op names.
   */
  registerTensorflowOps(): {
    ok: boolean,
    reason: string,
    ops: {softmax: string, sigmoid: string, scaleGradient: string},
  };
}

/** Environment variable that points at an addon binary built elsewhere. */
export const ADDON_PATH_ENV = 'TFJS_FOCAL_LOSS_ADDON';

/** The one command that builds the addon from source (scripts/cli.js). */
export const BUILD_COMMAND = 'npx tfjs-focal-loss build';

/** The C libraries a Linux prebuilt is built for, as its file name says (prebuildify's tags). */
export type Libc = 'glibc' | 'musl';

/** What the loader's choice of binary depends on (the tests inject other values). */
export interface PlatformFacts {
  /** process.platform, process.arch */
  platform: string;
  arch: string;
  /** On Linux, the C library this Node runs on (null: it cannot be told); null elsewhere. */
  libc: Libc | null;
  /** The running executable's file name: on Windows the prebuilt takes N-API from it. */
  execName: string;
}

/**
 * Linux's C library, from what Node reports about itself (process.report): glibc when the header
 * names the glibc Node runs on (glibcVersionRuntime, absent on musl), musl when Node loaded musl's
 * dynamic loader (ld-musl-<arch>.so.1) or that loader is the system's. Never guesses: null
 * otherwise. A glibc system may have musl installed beside it (Debian's musl-tools), so the
 * header is asked first.
 */
export function detectLibc(header: {glibcVersionRuntime?: string} | undefined,
                           sharedObjects: readonly string[], muslLoaderExists: boolean): Libc | null {
  if (typeof header?.glibcVersionRuntime === 'string') return 'glibc';
  if (sharedObjects.some((file) => /(^|\/)(ld-musl-|libc\.musl-)[^/]*$/.test(file))) return 'musl';
  return muslLoaderExists ? 'musl' : null;
}

/** This process's facts. */
export function platformFacts(): PlatformFacts {
  let libc: Libc | null = null;
  if (process.platform === 'linux') {
    const report = process.report as unknown as {
      excludeNetwork?: boolean,
      getReport(): {header?: {glibcVersionRuntime?: string}, sharedObjects?: string[]},
    };
    // The report's network section can take seconds to collect and says nothing about libc.
    const excludeNetwork = report.excludeNetwork;
    report.excludeNetwork = true;
    let data: {header?: {glibcVersionRuntime?: string}, sharedObjects?: string[]} = {};
    try {
      data = report.getReport();
    } catch { /* no report: the loader's file below decides */ } finally {
      report.excludeNetwork = excludeNetwork;
    }
    let muslLoader = false;
    try {
      muslLoader = fs.readdirSync('/lib').some((name) => name.startsWith('ld-musl-'));
    } catch { /* no /lib */ }
    libc = detectLibc(data.header, data.sharedObjects ?? [], muslLoader);
  }
  return {platform: process.platform, arch: process.arch, libc, execName: path.basename(process.execPath)};
}

/**
 * The prebuilt binary for these facts, relative to the package root:
 * prebuilds/<platform>-<arch>/focal_loss.<libc>.node on Linux, .../focal_loss.node elsewhere
 * (scripts/prebuild.js writes these names; test/platform_choice.test.ts checks both agree).
 * null on a Linux whose C library cannot be told: no binary is tried blind.
 */
export function prebuiltPath(facts: PlatformFacts): string | null {
  const dir = path.join('prebuilds', `${facts.platform}-${facts.arch}`);
  if (facts.platform !== 'linux') return path.join(dir, 'focal_loss.node');
  return facts.libc === null ? null : path.join(dir, `focal_loss.${facts.libc}.node`);
}

/**
 * The package root: the nearest directory above this file with the package's package.json
 * (lib/native.ts runs from lib/ under ts-jest and from dist/lib/ in the package).
 */
function packageRoot(): string {
  let dir = __dirname;
  for (let depth = 0; depth < 4; depth++) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as
          {name?: string};
      if (manifest.name === 'tfjs-focal-loss') return dir;
    } catch { /* no package.json here: look further up */ }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.resolve(__dirname, '..', '..');
}

/**
 * The binaries tried, in order: $TFJS_FOCAL_LOSS_ADDON alone when set; else the prebuilt binary for
 * this platform and C library, then a local build (a contributor's checkout, or
 * `npx tfjs-focal-loss build`, built here and so for this C library).
 */
export function addonCandidates(facts: PlatformFacts = platformFacts(), root: string = packageRoot(),
                                env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = env[ADDON_PATH_ENV];
  if (fromEnv) {
    return [path.resolve(fromEnv)];
  }
  const prebuilt = prebuiltPath(facts);
  return [
    ...(prebuilt === null ? [] : [path.join(root, prebuilt)]),
    path.join(root, 'build', 'Release', 'focal_loss.node'),
    path.join(root, 'build', 'Debug', 'focal_loss.node'),
  ];
}

/** "linux-x64 (glibc), win32-x64": the prebuilt binaries the package has (scanned, not assumed). */
function shippedPrebuilts(root: string): string {
  const found: string[] = [];
  try {
    for (const dir of fs.readdirSync(path.join(root, 'prebuilds')).sort()) {
      for (const file of fs.readdirSync(path.join(root, 'prebuilds', dir)).sort()) {
        const libc = /^focal_loss\.(\w+)\.node$/.exec(file);
        if (libc !== null) found.push(`${dir} (${libc[1]})`);
        else if (file === 'focal_loss.node') found.push(dir);
      }
    }
  } catch { /* no prebuilds folder (a checkout) */ }
  return found.length === 0 ? 'none' : found.join(', ');
}

/**
 * Why no binary exists for these facts: one line naming the platform (and C library), what the
 * package ships, and the command that builds one.
 */
export function missingBinaryError(facts: PlatformFacts, candidates: readonly string[], root: string,
                                   env: NodeJS.ProcessEnv = process.env): string {
  if (env[ADDON_PATH_ENV]) {
    return `tfjs-focal-loss: ${ADDON_PATH_ENV} points at ${candidates[0]}, which does not exist; ` +
        `unset it or point it at a built focal_loss.node`;
  }
  const build = `Build it from source with \`${BUILD_COMMAND}\` (needs a C++17 compiler and cmake or ` +
      `python3 + make), or set ${ADDON_PATH_ENV} to a built focal_loss.node`;
  const ships = `the package ships prebuilt binaries for ${shippedPrebuilts(root)}`;
  const platform = `${facts.platform}-${facts.arch}`;
  if (facts.platform === 'linux' && facts.libc === null) {
    return `tfjs-focal-loss: cannot tell whether this Linux runs on glibc or musl (Node's process ` +
        `report names no glibc and no musl loader was found), so no prebuilt binary is tried ` +
        `(${ships}). ${build}`;
  }
  const which = facts.libc === null ? platform : `${platform} with ${facts.libc}`;
  const muslHint = facts.libc === 'musl' ?
      ' (the glibc binaries do not load on musl: Alpine needs `apk add build-base cmake python3` ' +
          'for the build)' :
      '';
  return `tfjs-focal-loss: no native binary for ${which}; ${ships}${muslHint}; looked for ` +
      `${candidates.join(', ')}. ${build}`;
}

// Cached on the global object, not in this module: a second instance of this module (two copies of
// the package, or a test runner that re-evaluates modules per file while tfjs's kernel registry is
// global) must talk to the same exports object as the kernels that were registered first.
const ADDON_KEY = Symbol.for('tfjs-focal-loss.addon');
interface AddonState {
  addon: FocalLossAddon | null;
  binary: string | null;
  error: string | null;
}
type GlobalWithAddon = typeof globalThis & {[ADDON_KEY]?: AddonState};

/**
 * Loads the first candidate that exists and loads (a prebuilt that fails falls back to a local
 * build); where none does, the error names each file tried and why it failed.
 */
export function loadAddon(facts: PlatformFacts = platformFacts(), root: string = packageRoot(),
                          env: NodeJS.ProcessEnv = process.env,
                          load: (file: string) => unknown = require): AddonState {
  const candidates = addonCandidates(facts, root, env);
  const existing = candidates.filter((p) => fs.existsSync(p));
  if (existing.length === 0) {
    return {addon: null, binary: null, error: missingBinaryError(facts, candidates, root, env)};
  }
  const failures: string[] = [];
  for (const file of existing) {
    try {
      return {addon: load(file) as FocalLossAddon, binary: file, error: null};
    } catch (e) {
      failures.push(`${file} (${String((e as Error).message).split('\n')[0]})`);
    }
  }
  // On Windows the prebuilt takes N-API from the running executable (its delay-load hook), which
  // must therefore be Node or a host that exports N-API like Node (Electron).
  const host = facts.platform === 'win32' && facts.execName.toLowerCase() !== 'node.exe' ?
      `; this process runs as ${facts.execName}, not node.exe: the binary needs a host that exports ` +
          `Node-API (Node, Electron)` :
      '';
  return {
    addon: null,
    binary: existing[0],
    error: `tfjs-focal-loss: could not load the native binary ${failures.join('; nor ')}${host}. ` +
        `Build one for this system with \`${BUILD_COMMAND}\``,
  };
}

function addonState(): AddonState {
  const g = globalThis as GlobalWithAddon;
  return g[ADDON_KEY] ??= loadAddon();
}

/**
 * The loaded addon. Throws one Error naming what is missing (or why it does not load) and the
 * command that builds it when no binary can be loaded.
 */
export function addon(): FocalLossAddon {
  const state = addonState();
  if (state.addon === null) {
    throw environmentError(state.error!);
  }
  return state.addon;
}

/** Whether the addon loads, which file it is, and if not, why (never throws). */
export function addonLoadStatus(): {loaded: boolean, binary: string | null, error: string | null} {
  const state = addonState();
  return {loaded: state.addon !== null, binary: state.binary, error: state.error};
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
