#!/usr/bin/env node
// lib/losses/option_types.ts, the exported option interfaces (FocalLossOptions, ...), rendered from
// the option schemas: each option with its meaning, valid values and default as a TSDoc comment,
// so tsc errors and editor hovers show them by name. test/schema.test.ts fails when the file
// differs from what the schemas give; test/types/options.ts proves tsc holds them equal to the
// schemas' own types (OptionsOf / ResolvedOf). Regenerate:
//   npx tsc -p tsconfig.json && node tools/option-types.js > lib/losses/option_types.ts
'use strict';

const path = require('path');

/**
 * Every schema: its options interface, and for the Keras-style configs the interface of the
 * validated config (the loss function's `.config`). Titles and modules: tools/options-reference.js.
 */
const NAMES = {
  FOCAL_LOSS_SCHEMA: ['FocalLossOptions'],
  CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA: ['CategoricalFocalCrossentropyConfig', 'ResolvedCategoricalFocalCrossentropyConfig'],
  SIGMOID_FOCAL_LOSS_SCHEMA: ['SigmoidFocalLossOptions'],
  BINARY_FOCAL_CROSSENTROPY_SCHEMA: ['BinaryFocalCrossentropyConfig', 'ResolvedBinaryFocalCrossentropyConfig'],
  VARIFOCAL_LOSS_SCHEMA: ['VarifocalLossOptions'],
  VARIFOCAL_CROSSENTROPY_SCHEMA: ['VarifocalCrossentropyConfig', 'ResolvedVarifocalCrossentropyConfig'],
  QUALITY_FOCAL_LOSS_SCHEMA: ['QualityFocalLossOptions'],
  QUALITY_FOCAL_CROSSENTROPY_SCHEMA: ['QualityFocalCrossentropyConfig', 'ResolvedQualityFocalCrossentropyConfig'],
  ASYMMETRIC_LOSS_SCHEMA: ['AsymmetricLossOptions'],
  ASYMMETRIC_CROSSENTROPY_SCHEMA: ['AsymmetricCrossentropyConfig', 'ResolvedAsymmetricCrossentropyConfig'],
};

/** The TSDoc of one option: meaning, then valid values and default. */
function optionDoc(spec) {
  return [
    '  /**',
    `   * ${spec.doc}`,
    '   *',
    `   * Valid: ${spec.expected}. Default: ${spec.defaultText}.`,
    '   */',
  ];
}

function render(libRoot) {
  const {schemas} = require(path.join(__dirname, 'options-reference.js'));
  const lines = [
    '// Generated from the option schemas by tools/option-types.js: do not edit by hand.',
    '//   npx tsc -p tsconfig.json && node tools/option-types.js > lib/losses/option_types.ts',
    '// test/schema.test.ts checks this file is current; test/types/options.ts that each interface',
    '// is the type its schema accepts (or resolves to).',
    'import type * as tf from \'@tensorflow/tfjs\';',
    '',
    'import type {LogitAdjustment, ResolvedLogitAdjustment} from \'../validation/options\';',
  ];
  for (const {title, name, schema} of schemas(libRoot)) {
    const [optionsName, resolvedName] = NAMES[name];
    const what = resolvedName ? 'config' : 'options';
    lines.push('', `/** The ${what} of ${title}: every key optional; an unknown key throws. */`,
               `export interface ${optionsName} {`);
    for (const key of Object.keys(schema)) {
      lines.push(...optionDoc(schema[key]), `  ${key}?: ${schema[key].inType};`);
    }
    lines.push('}');
    if (resolvedName) {
      lines.push('', `/** The validated config of ${title}, defaults filled in (the loss function's \`config\`). */`,
                 `export interface ${resolvedName} {`);
      for (const key of Object.keys(schema)) {
        lines.push(...optionDoc(schema[key]), `  ${key}: ${schema[key].outType};`);
      }
      lines.push('}');
    }
  }
  return lines.join('\n') + '\n';
}

module.exports = {NAMES, render};

if (require.main === module) {
  process.stdout.write(render(path.resolve(__dirname, '..', 'dist', 'lib')));
}
