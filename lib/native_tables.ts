// Generated from native/include/focal_loss.h and focal_error.h by tools/native-tables.js: do not
// edit by hand. The codes and defaults that cross the C++/TypeScript line, written once in C++;
// test/kernel_contract.test.ts checks this file is current. Regenerate:
//   node tools/native-tables.js > lib/native_tables.ts

/** Each elementwise loss's code (ElementwiseLoss): the addon's `loss`, the TF op's `loss_kind`. */
export const ELEMENTWISE_LOSS_CODES = {focal: 0, varifocal: 1, qualityFocal: 2, asymmetric: 3} as const;

/** Each in-op reduction's code (Reduction): the TF op's `reduction` attribute. */
export const REDUCTION_CODES = {none: 0, sum: 1, mean: 2} as const;

/** The codes of the structured native errors (FOCAL_ERROR_CODES). */
export const NATIVE_ERROR_CODES = [
  'FOCAL_LABEL_OUT_OF_RANGE',
  'FOCAL_LABEL_OUTSIDE_UNIT_INTERVAL',
  'FOCAL_PROBABILITY_INVALID',
  'FOCAL_PROBABILITY_OUTSIDE_UNIT_INTERVAL',
  'FOCAL_PROBABILITY_ROW_SUM',
  'FOCAL_OUT_OF_MEMORY',
  'FOCAL_INVALID_ARGUMENT',
] as const;

/** A failed TensorFlow op's status message carries the error as `${NATIVE_ERROR_MARKER} {json}`. */
export const NATIVE_ERROR_MARKER = 'tfjs-focal-loss-error';

/**
 * The elementwise kernel's optional options and their native defaults (FOCAL_SIGMOID_OPTIONS's
 * kOptional rows), for the losses that do not set them and the composite, which runs without the addon.
 */
export const ELEMENTWISE_OPTION_DEFAULTS: {polyEpsilon: number, beta: number, gammaPos: number, gammaNeg: number, clip: number, iouWeighted: boolean} =
    {polyEpsilon: 0, beta: 2, gammaPos: 0, gammaNeg: 4, clip: 0.05, iouWeighted: true};
