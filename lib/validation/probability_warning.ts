// Probabilities passed as logits: with `fromLogits: true` (the default of focalLoss and
// sigmoidFocalLoss), inputs that are evidently probabilities get one warning per process that names
// `fromLogits: false`, emitted with process.emitWarning (a code, a type, `--no-warnings` and
// process.on('warning') apply). Silenced by setProbabilityWarning(false) or env
// TFJS_FOCAL_LOSS_NO_WARNINGS=1. docs/DESIGN.md#errors
//
// The criterion (written here for the composite, and in native/core/probabilities.cc for the
// kernels, which test it on the data they already read):
//   softmax      every row in [0, 1] and summing to 1 within 1e-4 (at least 2 classes);
//   elementwise  at least 32 values, all in [0, 1], some strictly inside, not all equal.
// Real logits essentially never meet it (32 values of a trained or freshly initialised model all
// >= 0 and <= 1, not all equal).
//
// Cost: the native kernels test the first row (first 64 values) of each call, the rest only when
// it passes; after a native forward one addon call reads the hint, until the warning was emitted or
// silenced (then the native check is disarmed and nothing is read or tested again). The composite
// path (no addon, or another backend) reads the logits back once per loss function: on its first
// call in the process (no read on any later call).
import * as tf from '@tensorflow/tfjs';

import {addon, addonLoadStatus} from '../native';

export const NO_WARNINGS_ENV = 'TFJS_FOCAL_LOSS_NO_WARNINGS';
export const PROBABILITIES_AS_LOGITS = 'FOCAL_PROBABILITIES_AS_LOGITS';

/** Which criterion: softmax rows, or elementwise values. */
export type ProbabilityKind = 'softmax' | 'elementwise';

interface WarningState {
  /** null: not yet decided (from the environment, at the first loss call). */
  enabled: boolean | null;
  warned: boolean;
  /** The functions whose first composite call was checked. */
  compositeChecked: Set<string>;
}

// On the global object: one process, one warning, whichever copy of this module runs.
const STATE_KEY = Symbol.for('tfjs-focal-loss.probabilityWarning');
const state: WarningState = ((globalThis as unknown as {[k: symbol]: WarningState})[STATE_KEY] ??=
    {enabled: null, warned: false, compositeChecked: new Set<string>()});

function setNativeCheck(armed: boolean): void {
  if (addonLoadStatus().loaded) {
    addon().setProbabilityCheck(armed);
  }
}

/**
 * Turns the warning for probabilities passed as logits on (`true`, the default unless env
 * TFJS_FOCAL_LOSS_NO_WARNINGS=1) or off. Turning it on again re-arms it: the next evident case warns
 * once more.
 */
export function setProbabilityWarning(enabled: boolean): void {
  if (typeof enabled !== 'boolean') {
    throw new TypeError(`setProbabilityWarning: enabled must be a boolean; received ${typeof enabled}`);
  }
  state.enabled = enabled;
  state.warned = false;
  state.compositeChecked.clear();
  setNativeCheck(enabled);
}

/** Whether a check is still wanted in this process. */
function armed(): boolean {
  if (state.enabled === null) {
    const value = process.env[NO_WARNINGS_ENV];
    state.enabled = value === undefined || value === '' || value === '0';
    if (!state.enabled) setNativeCheck(false);
  }
  return state.enabled && !state.warned;
}

/** The composite path's criterion (the kernels': native/core/probabilities.cc). */
export function lookLikeProbabilities(kind: ProbabilityKind, values: ArrayLike<number>,
                                      classes: number): boolean {
  if (kind === 'softmax') {
    if (classes < 2 || values.length === 0) return false;
    for (let row = 0; row < values.length; row += classes) {
      let sum = 0;
      for (let k = row; k < row + classes; k++) {
        if (!(values[k] >= 0 && values[k] <= 1)) return false;
        sum += values[k];
      }
      if (!(Math.abs(sum - 1) <= 1e-4)) return false;
    }
    return true;
  }
  if (values.length < 32) return false;
  let inside = false;
  let varied = false;
  for (let k = 0; k < values.length; k++) {
    if (!(values[k] >= 0 && values[k] <= 1)) return false;
    inside ||= values[k] > 0 && values[k] < 1;
    varied ||= values[k] !== values[0];
  }
  return inside && varied;
}

/** What the warning says, for the function `fn` and its names. */
export function probabilityWarningMessage(
    fn: string, logits: string, options: string, kind: ProbabilityKind, hasFromLogits: boolean): string {
  const looks = kind === 'softmax' ? 'every row is in [0, 1] and sums to 1' :
                                     'every value is in [0, 1]';
  const fix = hasFromLogits ?
      `if they are probabilities, pass ${options === 'config' ? 'config' : 'options'} {fromLogits: false}` :
      `${fn} takes logits: pass the values before the sigmoid`;
  return `${fn}: ${logits} look like probabilities (${looks}) but are taken as logits ` +
      `(fromLogits: true${hasFromLogits ? ', the default' : ''}), which gives a wrong loss; ${fix}. ` +
      `If they are logits, silence this warning with setProbabilityWarning(false) or ` +
      `${NO_WARNINGS_ENV}=1.`;
}

function warn(message: string): void {
  state.warned = true;
  setNativeCheck(false);
  process.emitWarning(message, {type: 'TfjsFocalLossWarning', code: PROBABILITIES_AS_LOGITS});
}

/**
 * After a forward pass on logits: on the native paths the kernel's hint (one addon call), on the
 * composite path the logits' values on the first call of each loss function per process. `message` builds the text.
 */
export function noteLogits(fn: string, onComposite: boolean, kind: ProbabilityKind,
                           logits: tf.Tensor, message: () => string): void {
  if (!armed()) {
    return;
  }
  if (!onComposite) {
    if (addon().takeProbabilityHint()) warn(message());
    return;
  }
  if (state.compositeChecked.has(fn)) {
    return;
  }
  state.compositeChecked.add(fn);
  if (lookLikeProbabilities(kind, logits.dataSync(), logits.shape[logits.rank - 1] ?? 1)) {
    warn(message());
  }
}
