#!/usr/bin/env node
// docs/OPTIONS.md, rendered from the option schemas (test/schema.test.ts checks it is current):
//   npx tsc -p tsconfig.json && node tools/options-reference.js > docs/OPTIONS.md
'use strict';

const path = require('path');

/** Every public function and Keras-style object with options: [title, module, schema export]. */
const ENTRIES = [
  ['`focalLoss(labels, logits, options?)`', 'losses/focal_loss', 'FOCAL_LOSS_SCHEMA'],
  ['`categoricalFocalCrossentropy(config?)`, `sparseCategoricalFocalCrossentropy(config?)`',
   'losses/focal_loss', 'CATEGORICAL_FOCAL_CROSSENTROPY_SCHEMA'],
  ['`sigmoidFocalLoss(labels, logits, options?)`', 'losses/sigmoid_focal_loss', 'SIGMOID_FOCAL_LOSS_SCHEMA'],
  ['`binaryFocalCrossentropy(config?)`', 'losses/sigmoid_focal_loss', 'BINARY_FOCAL_CROSSENTROPY_SCHEMA'],
  ['`varifocalLoss(targets, logits, options?)`', 'losses/varifocal_loss', 'VARIFOCAL_LOSS_SCHEMA'],
  ['`varifocalCrossentropy(config?)`', 'losses/varifocal_loss', 'VARIFOCAL_CROSSENTROPY_SCHEMA'],
  ['`qualityFocalLoss(targets, logits, options?)`', 'losses/quality_focal_loss', 'QUALITY_FOCAL_LOSS_SCHEMA'],
  ['`qualityFocalCrossentropy(config?)`', 'losses/quality_focal_loss', 'QUALITY_FOCAL_CROSSENTROPY_SCHEMA'],
  ['`asymmetricLoss(labels, logits, options?)`', 'losses/asymmetric_loss', 'ASYMMETRIC_LOSS_SCHEMA'],
  ['`asymmetricCrossentropy(config?)`', 'losses/asymmetric_loss', 'ASYMMETRIC_CROSSENTROPY_SCHEMA'],
];

/** The schemas, loaded from `libRoot` (dist/lib, or lib/ under ts-jest). */
function schemas(libRoot) {
  return ENTRIES.map(([title, file, name]) => ({title, name, schema: require(path.join(libRoot, file))[name]}));
}

function render(libRoot) {
  const {optionsTable} = require(path.join(libRoot, 'validation/options'));
  const parts = ['# Options', '',
    'Every option of every loss, rendered from its schema (`node tools/options-reference.js`).',
    'Unknown keys throw, with the closest valid key suggested.', ''];
  for (const {title, schema} of schemas(libRoot)) {
    parts.push(`## ${title}`, '', optionsTable(schema), '');
  }
  return parts.join('\n');
}

module.exports = {ENTRIES, schemas, render};

if (require.main === module) {
  process.stdout.write(render(path.resolve(__dirname, '..', 'dist', 'lib')));
}
