// The option schema: every option of every loss is declared once, as an OptionSpec made by one of
// the kinds below (what is valid, the default, what it means). The same declaration checks a call's
// options, types them (OptionsOf), fills in defaults (ResolvedOf) and renders the README's option
// tables (optionsTable), so a rule, a default and an error message each exist in one place.
import * as tf from '@tensorflow/tfjs';

import {closestKey, describeValue, shapeString} from './describe';

/** What an option's check needs to know about the call. */
export interface ParseContext {
  /** The function named in errors ('focalLoss', 'categoricalFocalCrossentropy', ...). */
  fn: string;
  /** The argument named in errors ('options.gamma', 'config.alpha', ...). */
  argName: string;
  /** Size of the class axis, when known (per-class alpha must have this length). */
  classes?: number;
  /** Shape of the unreduced loss, when known (weights must broadcast to it). */
  lossShape?: readonly number[];
}

/** One option: `In` is what a caller may pass, `Out` what the loss works with. */
export interface OptionSpec<In, Out> {
  /** What a valid value is, as the README table says it. */
  readonly expected: string;
  /** The value used when the option is left out (or undefined). */
  readonly defaultValue: Out;
  /** The default as the README table shows it. */
  readonly defaultText: string;
  /** What the option does. */
  readonly doc: string;
  /**
   * `In` and `Out` as TypeScript source, for the generated option interfaces
   * (lib/losses/option_types.ts, tools/option-types.js; test/types checks they match In and Out).
   */
  readonly inType: string;
  readonly outType: string;
  /** Checks a given value (never undefined) and returns the form the loss works with. */
  readonly parse: (value: unknown, ctx: ParseContext) => Out;
  /** Type-level only: what callers may pass. */
  readonly accepts?: In;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Schema = {readonly [name: string]: OptionSpec<any, any>};
/** The options object a caller passes: every key optional, typed by its spec. */
export type OptionsOf<S extends Schema> = {
  [K in keyof S]?: S[K] extends OptionSpec<infer In, unknown> ? In : never;
};
/** The options after validation, with defaults filled in. */
export type ResolvedOf<S extends Schema> = {
  -readonly[K in keyof S]: S[K] extends OptionSpec<unknown, infer Out> ? Out : never;
};

/**
 * Checks that `options` is undefined/null or a plain object whose keys are all in `allowed`.
 * A typo such as `gama` must not be silently ignored: it throws and suggests `gamma`.
 */
export function checkOptionKeys<T extends object>(
    fn: string, options: unknown, allowed: readonly string[], argName = 'options'): Partial<T> {
  if (options === undefined || options === null) {
    return {};
  }
  if (typeof options !== 'object' || Array.isArray(options) || options instanceof tf.Tensor) {
    throw new TypeError(`${fn}: ${argName} must be an object with the keys {${
        allowed.join(', ')}}; received ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const suggestion = closestKey(key, allowed);
      throw new TypeError(`${fn}: unknown option '${key}' in ${argName}${
          suggestion ? ` (did you mean '${suggestion}'?)` : ''}; expected only the keys {${
          allowed.join(', ')}}`);
    }
  }
  return options as Partial<T>;
}

/** Validates `options` against `schema` and returns every option, defaults filled in. */
export function resolveOptions<S extends Schema>(
    fn: string, schema: S, options: unknown,
    context: {classes?: number, lossShape?: readonly number[]} = {},
    argName = 'options'): ResolvedOf<S> {
  const given = checkOptionKeys<Record<string, unknown>>(fn, options, Object.keys(schema), argName);
  const resolved: Record<string, unknown> = {};
  for (const key of Object.keys(schema)) {
    const spec = schema[key];
    const value = given[key];
    resolved[key] = value === undefined ?
        spec.defaultValue :
        spec.parse(value, {fn, argName: `${argName}.${key}`, ...context});
  }
  return resolved as ResolvedOf<S>;
}

/** `spec` with another default (the Keras objects default fromLogits to false). */
export function withDefault<In, Out>(spec: OptionSpec<In, Out>, defaultValue: Out):
    OptionSpec<In, Out> {
  return {...spec, defaultValue, defaultText: String(defaultValue)};
}

/** The README's option table of a schema (a test checks that the README has it verbatim). */
export function optionsTable(schema: Schema): string {
  const rows = Object.keys(schema).map((key) => {
    const spec = schema[key];
    return `| \`${key}\` | ${spec.expected} | ${spec.defaultText} | ${spec.doc} |`;
  });
  return ['| option | valid values | default | meaning |', '| --- | --- | --- | --- |', ...rows]
      .join('\n');
}

// ---- The kinds of option --------------------------------------------------------------------

/** Finite also as a float32, the precision the kernels compute in (1e39 is not). */
function isFiniteFloat32(value: number): boolean {
  return Number.isFinite(Math.fround(value));
}

/** A number, and `inRange` of it; the messages say `expected`. */
function checkNumber(ctx: ParseContext, value: unknown, expected: string,
                     inRange: (v: number) => boolean): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${ctx.fn}: ${ctx.argName} must be ${expected}; received ${
        describeValue(value)}`);
  }
  if (!inRange(value)) {
    throw new RangeError(`${ctx.fn}: ${ctx.argName} must be ${expected}; received ${value}`);
  }
  return value;
}

/** A numeric option: `expected` as the README and the errors say it, and its range. */
function numberOption(expected: string, inRange: (v: number) => boolean, defaultValue: number,
                      doc: string): OptionSpec<number, number> {
  return {expected, defaultValue, defaultText: String(defaultValue), doc, inType: 'number',
          outType: 'number', parse: (value, ctx) => checkNumber(ctx, value, expected, inRange)};
}

const isNonNegative = (v: number) => isFiniteFloat32(v) && v >= 0;

/** A finite number >= 0 (gamma). */
export function nonNegativeNumber(defaultValue: number, doc: string): OptionSpec<number, number> {
  return numberOption('a finite number >= 0', isNonNegative, defaultValue, doc);
}

/** A number in [0, 1] (label smoothing, a balancing weight). */
export function unitInterval(defaultValue: number, doc: string): OptionSpec<number, number> {
  return numberOption('a number in [0, 1]', (v) => v >= 0 && v <= 1, defaultValue, doc);
}

/** Any number finite in float32 (a Poly-1 epsilon: negative values are allowed). */
export function finiteNumber(defaultValue: number, doc: string): OptionSpec<number, number> {
  return numberOption('a finite number', isFiniteFloat32, defaultValue, doc);
}

/** A number in [0, 1) (the asymmetric loss's probability margin). */
export function halfOpenUnitInterval(defaultValue: number, doc: string):
    OptionSpec<number, number> {
  return numberOption('a number in [0, 1)', (v) => v >= 0 && v < 1, defaultValue, doc);
}

export function boolean(defaultValue: boolean, doc: string): OptionSpec<boolean, boolean> {
  return {
    expected: '`true` or `false`', defaultValue, defaultText: String(defaultValue), doc,
    inType: 'boolean', outType: 'boolean',
    parse: (value, ctx) => {
      if (typeof value !== 'boolean') {
        throw new TypeError(`${ctx.fn}: ${ctx.argName} must be a boolean (true or false); ` +
            `received ${describeValue(value)}`);
      }
      return value;
    },
  };
}

/**
 * A per-class list: an array or typed array, of length `ctx.classes` when that is known (a call;
 * a Keras config is checked again at each call).
 */
function listOf(value: unknown, ctx: ParseContext, expected: string): unknown[] {
  if (!Array.isArray(value) && !(value instanceof Float32Array) &&
      !(value instanceof Float64Array) && !(value instanceof Int32Array)) {
    throw new TypeError(`${ctx.fn}: ${ctx.argName} must be ${expected}; received ${
        describeValue(value)}${
        value instanceof tf.Tensor ?
            ` (pass await ${ctx.argName.split('.').pop()}.array() instead of a Tensor)` : ''}`);
  }
  const values = Array.from(value as ArrayLike<unknown>);
  if (ctx.classes !== undefined && values.length !== ctx.classes) {
    throw new RangeError(`${ctx.fn}: ${ctx.argName} must have one entry per class (length ${
        ctx.classes}, the size of the last axis of ${
        ctx.argName.startsWith('config') ? 'yPred' : 'logits'}); received an array of length ${
        values.length}`);
  }
  return values;
}

/**
 * Softmax class weights: a finite number >= 0, or one such number per class (no upper bound:
 * class-balanced weights average 1, so some exceed 1). The length is checked when the number of
 * classes is known (a call; a Keras config is checked again at each call).
 */
export function classWeights(defaultValue: number, doc: string):
    OptionSpec<number | number[], number | number[]> {
  return {
    expected: 'a finite number >= 0, or one per class', defaultValue,
    defaultText: String(defaultValue), doc, inType: 'number | number[]', outType: 'number | number[]',
    parse: (value, ctx) => {
      const count = ctx.classes === undefined ? '' : `${ctx.classes} `;
      const expected = `a finite number >= 0 or an array of ${count}such numbers (one per class)`;
      if (typeof value === 'number') {
        if (!isNonNegative(value)) {
          throw new RangeError(`${ctx.fn}: ${ctx.argName} must be ${expected}; received ${value}`);
        }
        return value;
      }
      return listOf(value, ctx, expected).map((v, i) => checkNumber(
          {...ctx, argName: `${ctx.argName}[${i}]`}, v, 'a finite number >= 0', isNonNegative));
    },
  };
}

/**
 * Sigmoid class balancing: alpha in [0, 1] weights positives by alpha and negatives by 1 - alpha;
 * null or a negative number (torchvision's -1) turns balancing off, resolved as -1.
 */
export function balancingAlpha(defaultValue: number, doc: string):
    OptionSpec<number | null, number> {
  const expected = 'a number in [0, 1], or null / a negative number to turn class balancing off';
  return {
    expected: 'a number in [0, 1]; `null` or < 0: off', defaultValue,
    defaultText: String(defaultValue), doc, inType: 'number | null', outType: 'number',
    parse: (value, ctx) => {
      if (value === null) {
        return -1;
      }
      if (typeof value !== 'number') {
        throw new TypeError(`${ctx.fn}: ${ctx.argName} must be ${expected}; received ${
            describeValue(value)}`);
      }
      if (!Number.isFinite(value) || value > 1) {
        throw new RangeError(`${ctx.fn}: ${ctx.argName} must be ${expected}; received ${value}`);
      }
      return value < 0 ? -1 : value;
    },
  };
}

/** An int32 class index, or null for none (ignoreIndex). */
export function classIndex(doc: string): OptionSpec<number | null, number | null> {
  return {
    expected: 'an int32 integer, or `null`', defaultValue: null, defaultText: 'none', doc,
    inType: 'number | null', outType: 'number | null',
    parse: (value, ctx) => {
      if (value === null) {
        return null;
      }
      if (typeof value !== 'number') {
        throw new TypeError(`${ctx.fn}: ${ctx.argName} must be an integer; received ${
            describeValue(value)}`);
      }
      if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
        throw new RangeError(`${ctx.fn}: ${ctx.argName} must be an integer in the int32 range; ` +
            `received ${value}`);
      }
      return value;
    },
  };
}

const REDUCTIONS = [tf.Reduction.NONE, tf.Reduction.MEAN, tf.Reduction.SUM,
  tf.Reduction.SUM_BY_NONZERO_WEIGHTS] as unknown[];

export function reduction(defaultValue: tf.Reduction, doc: string):
    OptionSpec<tf.Reduction, tf.Reduction> {
  return {
    expected: '`tf.Reduction.*`', defaultValue,
    defaultText: `\`${tf.Reduction[defaultValue]}\``, doc, inType: 'tf.Reduction', outType: 'tf.Reduction',
    parse: (value, ctx) => {
      if (!REDUCTIONS.includes(value)) {
        const hint = typeof value === 'string' && value.toUpperCase() in tf.Reduction ?
            ` (use tf.Reduction.${value.toUpperCase()})` : '';
        throw new TypeError(`${ctx.fn}: ${ctx.argName} must be one of tf.Reduction.NONE (0), ` +
            `MEAN (1), SUM (2), SUM_BY_NONZERO_WEIGHTS (3); received ${describeValue(value)}${hint}`);
      }
      return value as tf.Reduction;
    },
  };
}

/**
 * Weights of the unreduced loss: a finite number, or a live Tensor of numeric dtype whose rank is
 * 0 or the rank of the loss with every dimension 1 or equal to the loss's (tf.losses semantics: no
 * trailing-axis alignment that could silently pair a per-sample weight with the wrong axis), and
 * whose values are all finite (one tfjs reduction and one read of a boolean).
 */
export function weights(doc: string):
    OptionSpec<tf.Tensor | number, tf.Tensor | number | null> {
  return {
    expected: 'a finite number, or a Tensor broadcastable to the loss', defaultValue: null,
    defaultText: 'none', doc, inType: 'tf.Tensor | number', outType: 'tf.Tensor | number | null',
    parse: (value, ctx) => {
      const {fn, argName} = ctx;
      const lossShape = ctx.lossShape ?? [];
      if (value === null) {
        return null;
      }
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) {
          throw new RangeError(`${fn}: ${argName} must be finite; received ${value}`);
        }
        return value;
      }
      if (!(value instanceof tf.Tensor)) {
        throw new TypeError(`${fn}: ${argName} must be a tf.Tensor or a number broadcastable to ` +
            `the per-sample loss shape ${shapeString(lossShape)}; received ${describeValue(value)}`);
      }
      if (value.isDisposed) {
        throw new Error(`${fn}: ${argName} must be a live tf.Tensor; received a Tensor of shape ${
            shapeString(value.shape)} that has already been disposed`);
      }
      if (value.dtype !== 'float32' && value.dtype !== 'int32' && value.dtype !== 'bool') {
        throw new TypeError(`${fn}: ${argName} must have a numeric dtype (float32, int32 or ` +
            `bool); received dtype ${value.dtype}`);
      }
      const broadcastOk = value.rank === 0 ||
          (value.rank === lossShape.length &&
           value.shape.every((d: number, i: number) => d === 1 || d === lossShape[i]));
      if (!broadcastOk) {
        throw new RangeError(`${fn}: ${argName} must be broadcastable to the per-sample loss ` +
            `shape ${shapeString(lossShape)} (rank 0, or rank ${lossShape.length} with each ` +
            `dimension 1 or equal to the loss's); received shape ${shapeString(value.shape)}`);
      }
      if (value.dtype === 'float32' && value.size > 0) {
        const allFinite = tf.tidy(() => tf.all(tf.isFinite(value)));
        const ok = allFinite.dataSync()[0] !== 0;
        allFinite.dispose();
        if (!ok) {
          throw new RangeError(`${fn}: ${argName} must contain only finite values; received a ` +
              `Tensor of shape ${shapeString(value.shape)} containing NaN or Infinity`);
        }
      }
      return value;
    },
  };
}

// ---- The logit adjustment ---------------------------------------------------------------------

/** Logit adjustment: class counts or priors π (used as given) and the temperature τ. */
export type LogitAdjustment =
    {classCounts: ArrayLike<number>, tau?: number} | {priors: ArrayLike<number>, tau?: number};
/** A validated logit adjustment: one of the two arrays (copied), τ filled in. */
export type ResolvedLogitAdjustment =
    {classCounts: number[], tau: number} | {priors: number[], tau: number};

const LOGIT_ADJUSTMENT_KEYS = ['classCounts', 'priors', 'tau'];


/**
 * `{classCounts, tau = 1}` or `{priors, tau = 1}`, or null for none. Every count or prior must be
 * a finite number > 0 (a zero makes log π = −∞), one per class (checked when the classes are
 * known); τ a finite number; τ log π finite in float32.
 */
export function logitAdjustment(doc: string):
    OptionSpec<LogitAdjustment | null, ResolvedLogitAdjustment | null> {
  const expected = '`{classCounts, tau?}` or `{priors, tau?}` (numbers > 0, one per class; ' +
      'tau finite, default 1), or `null`';
  return {
    expected, defaultValue: null, defaultText: 'none', doc,
    inType: 'LogitAdjustment | null', outType: 'ResolvedLogitAdjustment | null',
    parse: (value, ctx) => {
      if (value === null) {
        return null;
      }
      const given = checkOptionKeys<Record<string, unknown>>(
          ctx.fn, value, LOGIT_ADJUSTMENT_KEYS, ctx.argName);
      const hasCounts = given.classCounts !== undefined, hasPriors = given.priors !== undefined;
      if (hasCounts === hasPriors) {
        throw new TypeError(`${ctx.fn}: ${ctx.argName} must have exactly one of classCounts and ` +
            `priors; received ${hasCounts ? 'both' : 'neither'}`);
      }
      const key = hasCounts ? 'classCounts' : 'priors';
      const what = hasCounts ? 'class count' : 'prior';
      const listCtx = {...ctx, argName: `${ctx.argName}.${key}`};
      const list = listOf(given[key], listCtx, `an array of numbers > 0 (one ${what} per class)`);
      const values = list.map((v, i) => {
        const name = `${listCtx.argName}[${i}]`;
        if (typeof v !== 'number') {
          throw new TypeError(`${ctx.fn}: ${name} must be a finite number > 0; received ${
              describeValue(v)}`);
        }
        if (!Number.isFinite(v) || v < 0) {
          throw new RangeError(`${ctx.fn}: ${name} must be a finite number > 0; received ${v}`);
        }
        return v;
      });
      if (values.length === 0 || values.every((v) => v === 0)) {
        throw new RangeError(`${ctx.fn}: ${listCtx.argName} must not be all zero (no prior ` +
            `can be formed); received [${values.join(', ')}]`);
      }
      const zero = values.indexOf(0);
      if (zero >= 0) {
        throw new RangeError(`${ctx.fn}: ${listCtx.argName}[${zero}] must be > 0 (class ${
            zero} would get log π = -Infinity); received 0`);
      }
      if (hasCounts && !Number.isFinite(values.reduce((a, b) => a + b, 0))) {
        throw new RangeError(`${ctx.fn}: the sum of ${listCtx.argName} must be finite (the ` +
            `counts are normalised by it); received counts whose sum overflows a double (rescale ` +
            `them, or give priors)`);
      }
      let tau = 1;
      if (given.tau !== undefined) {
        tau = finiteNumber(1, '').parse(given.tau, {...ctx, argName: `${ctx.argName}.tau`});
      }
      const resolved = (hasCounts ? {classCounts: values, tau} : {priors: values, tau}) as
          ResolvedLogitAdjustment;
      const offsets = logitOffsets(resolved);
      const bad = offsets.findIndex((o) => !Number.isFinite(o));
      if (bad >= 0) {
        throw new RangeError(`${ctx.fn}: ${ctx.argName}.tau * log(π[${bad}]) must be finite ` +
            `in float32; received tau = ${tau}`);
      }
      return resolved;
    },
  };
}

/**
 * The per-class logit offsets τ log π_j, π = counts / Σ counts (or the priors as given), in
 * double, rounded once to float32.
 */
export function logitOffsets(adjustment: ResolvedLogitAdjustment): number[] {
  const counts = 'classCounts' in adjustment ? adjustment.classCounts : adjustment.priors;
  const total = 'classCounts' in adjustment ? counts.reduce((a, b) => a + b, 0) : 1;
  return counts.map((c) => Math.fround(adjustment.tau * Math.log(c / total)));
}

