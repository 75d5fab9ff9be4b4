// Errors from native code, decoded in one place. The kernels report what only a pass over the data
// can see as a code with fields, never as prose: the addon throws a JS Error carrying them as
// properties, a TensorFlow op puts them in its status message after NATIVE_ERROR_MARKER as JSON
// (native/include/focal_error.h). This file turns either into the message the user sees, with the
// op's name in front and flat indices written in the tensor's own coordinates.
// docs/DESIGN.md#errors
import {NATIVE_ERROR_CODES, NATIVE_ERROR_MARKER} from './native_tables';

/** The codes of native/include/focal_error.h (via the generated native_tables.ts). */
export type NativeErrorCode = typeof NATIVE_ERROR_CODES[number];

/** What a native error says, from either form. */
export interface NativeError {
  code: NativeErrorCode;
  /** The input the index refers to: 'labels' or 'logits' ('' when none). */
  argument: string;
  /** Flat element index into `argument` (-1 when none). */
  index: number;
  value: number;
  /** Row length, for the codes that name a row or the class range (0 when none). */
  classes: number;
  ignoreIndex: number | null;
  /** FOCAL_INVALID_ARGUMENT and FOCAL_OUT_OF_MEMORY: what was wrong (already readable prose). */
  detail: string;
}

export {NATIVE_ERROR_MARKER};

const CODES: ReadonlySet<string> = new Set<string>(NATIVE_ERROR_CODES);

/** The addon's own entry points, named at the start of its messages. */
const ENTRY_POINT = /^(softmaxFocalLoss|sigmoidElementwiseLoss|scaleRows|scaleElements|Tfjs\w*): /;

function toNumber(v: unknown, fallback: number): number {
  return typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : fallback;
}

function fromFields(fields: {[key: string]: unknown}): NativeError | null {
  if (typeof fields.code !== 'string' || !CODES.has(fields.code)) {
    return null;
  }
  return {
    code: fields.code as NativeErrorCode,
    argument: typeof fields.argument === 'string' ? fields.argument : '',
    index: toNumber(fields.index, -1),
    // JSON has no NaN or Infinity: the ops write those values as strings.
    value: toNumber(fields.value, NaN),
    classes: toNumber(fields.classes, 0),
    ignoreIndex: typeof fields.ignoreIndex === 'number' ? fields.ignoreIndex : null,
    detail: typeof fields.detail === 'string' ? fields.detail : '',
  };
}

/**
 * The structured error in `error`, from either form: the addon's Error with a `code` property, or
 * tfjs-node's Error for a failed op, whose message contains the op's status message. null for any
 * other error.
 */
export function decodeNativeError(error: unknown): NativeError | null {
  if (error === null || typeof error !== 'object') {
    return null;
  }
  const message = (error as Error).message;
  if (typeof message === 'string') {
    const at = message.indexOf(`${NATIVE_ERROR_MARKER} {`);
    if (at >= 0) {
      const json = message.slice(at + NATIVE_ERROR_MARKER.length + 1);
      try {
        // The JSON object runs to the end of the status message (tfjs-node may add nothing after).
        return fromFields(JSON.parse(json.slice(0, json.lastIndexOf('}') + 1)));
      } catch {
        return null;
      }
    }
  }
  return fromFields(error as {[key: string]: unknown});
}

/** Multi-dimensional index of flat element `flat` in `shape`, as "[i, j, k]". */
export function formatIndex(flat: number, shape: readonly number[]): string {
  const index: number[] = new Array(shape.length);
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const size = shape[axis];
    index[axis] = size > 0 ? rest % size : 0;
    rest = size > 0 ? Math.floor(rest / size) : 0;
  }
  return `[${index.join(', ')}]`;
}

/** A float32 value as the messages show it: 9 significant digits, JS spelling (NaN, Infinity). */
function formatValue(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(9))) : String(v);
}

/** `name[i, j]` in the tensor's coordinates when its shape has several axes. */
function element(name: string, flat: number, shape: number[] | undefined): string {
  return shape !== undefined && shape.length > 1 ? `${name}${formatIndex(flat, shape)}` :
                                                   `${name}[${flat}]`;
}

/**
 * What the user called the kernel's inputs ('labels', 'logits'): the documented argument names of
 * the function they called (varifocal's `targets`, the Keras objects' `yTrue` / `yPred`).
 */
export type ArgumentNames = {[kernelInput: string]: string};

/** The user's message for a decoded error (without the op name), and its error class. */
export function formatNativeError(e: NativeError, shapes: {[name: string]: number[]} = {},
                                  names: ArgumentNames = {}):
    {message: string, type: 'RangeError' | 'TypeError' | 'Error'} {
  const labels = names.labels ?? 'labels';
  const at = element(names[e.argument] ?? e.argument, e.index, shapes[e.argument]);
  const value = formatValue(e.value);
  switch (e.code) {
    case 'FOCAL_LABEL_OUT_OF_RANGE':
      return {
        type: 'RangeError',  // an int32 label: exact
        message: `${at} = ${e.value} is out of range [0, ${e.classes})` +
            (e.ignoreIndex !== null ? ` and is not ignoreIndex (${e.ignoreIndex})` : ''),
      };
    case 'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL':
      return {type: 'RangeError', message: `${at} = ${value}: ${labels} must be in [0, 1]`};
    case 'FOCAL_PROBABILITY_INVALID': {
      const row = Math.floor(e.index / e.classes);
      return {
        type: 'RangeError',
        message: `${at} (row ${row}, class ${e.index % e.classes}) = ${value}: with ` +
            `fromLogits=false the inputs are probabilities and must be finite and >= 0`,
      };
    }
    case 'FOCAL_PROBABILITY_OUTSIDE_UNIT_INTERVAL':
      return {
        type: 'RangeError',
        message: `${at} = ${value}: with fromLogits=false the inputs are probabilities and must ` +
            `be in [0, 1]`,
      };
    case 'FOCAL_PROBABILITY_ROW_SUM':
      return {
        type: 'RangeError',
        message: `${names.logits ?? 'logits'} row ${Math.floor(e.index / e.classes)} sums to ${value}: with ` +
            `fromLogits=false each row of probabilities must have a positive, finite sum`,
      };
    case 'FOCAL_OUT_OF_MEMORY':
      return {type: 'RangeError', message: e.detail || 'out of memory'};
    case 'FOCAL_INVALID_ARGUMENT':
      return {type: 'RangeError', message: e.detail};
  }
}

/**
 * Rethrows an error from the addon or from one of its TensorFlow ops as the user's error, with the
 * function's name in front and its type kept (RangeError, TypeError). Indices are flat in native code;
 * `shapes` turns them into the index of the user's tensor ("labels[2, 5] = 12 ...") when it has
 * more than one axis.
 */
export function rethrowNative(
    functionName: string, error: unknown, shapes: {[name: string]: number[]} = {}): never {
  const err = error as Error;
  const decoded = decodeNativeError(error);
  // No fields, or one of the addon's own memory-safety checks: its message is already the prose.
  const asProse = decoded === null || (decoded.code === 'FOCAL_INVALID_ARGUMENT' && decoded.detail === '');
  const {message: text, type} = asProse ? prose(err) : formatNativeError(decoded!, shapes);
  const thrown = makeError(type, `${functionName}: ${text}`);
  if (!asProse) {
    // Kept for the loss functions, which report it under the user's own names (inputError).
    Object.defineProperty(thrown, NATIVE_FIELDS, {value: {error: decoded!, shapes}});
  }
  throw thrown;
}

// Symbol.for: the kernels registered by one copy of this module may throw to another copy.
const NATIVE_FIELDS = Symbol.for('tfjs-focal-loss.nativeError');

function makeError(type: 'RangeError' | 'TypeError' | 'Error', message: string): Error {
  return type === 'RangeError' ? new RangeError(message) :
      type === 'TypeError' ? new TypeError(message) : new Error(message);
}

/** The structured error and shapes behind an error that rethrowNative threw, or null. */
export function nativeFieldsOf(error: unknown):
    {error: NativeError, shapes: {[name: string]: number[]}} | null {
  return error !== null && typeof error === 'object' &&
          (error as {[NATIVE_FIELDS]?: unknown})[NATIVE_FIELDS] !== undefined ?
      (error as {[NATIVE_FIELDS]: {error: NativeError, shapes: {[name: string]: number[]}}})[NATIVE_FIELDS] :
      null;
}

/**
 * The error rethrowNative threw, reported again for the function the user called (`fn`), under its
 * argument names, with `hint` appended, and indices in `shapes` where the user's tensor had
 * another shape than the kernel's input (a Keras object's yTrue [N] for yPred [N, 1]); any other
 * error unchanged.
 */
export function renameNativeError(error: unknown, fn: string, names: ArgumentNames, hint = '',
                                  shapes: {[name: string]: number[]} = {}): unknown {
  const fields = nativeFieldsOf(error);
  if (fields === null) {
    return error;
  }
  const {message, type} = formatNativeError(fields.error, {...fields.shapes, ...shapes}, names);
  const renamed = makeError(type, `${fn}: ${message}${hint}`);
  Object.defineProperty(renamed, NATIVE_FIELDS, {value: fields});
  return renamed;
}

/** An error that carries no fields: its message without the entry point's name, its type kept. */
function prose(err: Error): {message: string, type: 'RangeError' | 'TypeError' | 'Error'} {
  const nativeMessage = err && err.message !== undefined ? err.message : String(err);
  return {
    message: nativeMessage.replace(ENTRY_POINT, ''),
    type: err instanceof RangeError ? 'RangeError' : err instanceof TypeError ? 'TypeError' : 'Error',
  };
}
