#!/usr/bin/env node
// lib/native_tables.ts, the codes and defaults that cross the C++/TypeScript line, rendered from the
// native headers where they are written once: the elementwise loss kinds (focal_loss.h
// ElementwiseLoss), the in-op reductions (focal_loss.h Reduction), the error codes (focal_error.h
// FOCAL_ERROR_CODES, kTensorflowErrorMarker) and the elementwise kernel's optional options with their defaults
// (focal_loss.h FOCAL_SIGMOID_OPTIONS), which the composite path needs without the addon.
// test/kernel_contract.test.ts fails when the file differs from what the headers give. Regenerate:
//   node tools/native-tables.js > lib/native_tables.ts
'use strict';

const fs = require('fs');
const path = require('path');

const INCLUDE = path.resolve(__dirname, '..', 'native', 'include');

/** The text with comments and line continuations removed. */
function code(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ').replace(/\\\n/g, ' ');
}

function fail(message) {
  throw new Error(`tools/native-tables.js: ${message}; update the parser with the header`);
}

/** `enum class NAME : int { kA = 0, kB = 1, ..., kCount }` as [['a', 0], ['b', 1], ...]. */
function enumCodes(header, name) {
  const body = new RegExp(`enum class ${name} : int \\{([^}]*)\\}`).exec(header);
  if (body === null) fail(`no enum class ${name} in native/include/focal_loss.h`);
  const entries = body[1].split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.pop() !== 'kCount') fail(`${name} must end with kCount (the bindings' upper bound)`);
  return entries.map((entry, index) => {
    const m = /^k(\w)(\w*) = (\d+)$/.exec(entry);
    if (m === null || Number(m[3]) !== index) fail(`${name}: '${entry}' is not 'kName = ${index}'`);
    return [m[1].toLowerCase() + m[2], index];
  });
}

/** The X(...) rows of macro `name`, each as its list of arguments. */
function macroRows(header, name) {
  const body = new RegExp(`#define ${name}\\(X\\)([^#]*)`).exec(header);
  if (body === null) fail(`no #define ${name}(X)`);
  return [...body[1].matchAll(/X\(([^)]*)\)/g)].map((m) => m[1].split(',').map((a) => a.trim()));
}

/** The value of `constexpr const char* NAME = "...";`. */
function stringConstant(header, name) {
  const m = new RegExp(`constexpr const char\\* ${name} = ("[^"]*");`).exec(header);
  if (m === null) fail(`no constexpr const char* ${name}`);
  return JSON.parse(m[1]);
}

/** A C++ default as a TypeScript literal, and its type. */
function literal(cppType, value) {
  if (cppType === 'bool') {
    if (value !== 'true' && value !== 'false') fail(`bool default ${value}`);
    return {text: value, type: 'boolean'};
  }
  const n = Number(value.replace(/[fF]$/, ''));
  if (!Number.isFinite(n)) fail(`numeric default ${value}`);
  return {text: String(n), type: 'number'};
}

function tables() {
  const loss = code(fs.readFileSync(path.join(INCLUDE, 'focal_loss.h'), 'utf8'));
  const error = code(fs.readFileSync(path.join(INCLUDE, 'focal_error.h'), 'utf8'));
  const optional = macroRows(loss, 'FOCAL_SIGMOID_OPTIONS').filter((row) => row[4] === 'kOptional')
      .map(([type, , value, key]) => ({key: JSON.parse(key), ...literal(type, value)}));
  return {
    elementwiseLosses: enumCodes(loss, 'ElementwiseLoss'),
    reductions: enumCodes(loss, 'Reduction'),
    errorCodes: macroRows(error, 'FOCAL_ERROR_CODES').map((row) => JSON.parse(row[1])),
    errorMarker: stringConstant(error, 'kTensorflowErrorMarker'),
    elementwiseDefaults: optional,
  };
}

function render() {
  const t = tables();
  const object = (entries) => `{${entries.map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
  return [
    '// Generated from native/include/focal_loss.h and focal_error.h by tools/native-tables.js: do not',
    '// edit by hand. The codes and defaults that cross the C++/TypeScript line, written once in C++;',
    '// test/kernel_contract.test.ts checks this file is current. Regenerate:',
    '//   node tools/native-tables.js > lib/native_tables.ts',
    '',
    '/** Each elementwise loss\'s code (ElementwiseLoss): the addon\'s `loss`, the TF op\'s `loss_kind`. */',
    `export const ELEMENTWISE_LOSS_CODES = ${object(t.elementwiseLosses)} as const;`,
    '',
    '/** Each in-op reduction\'s code (Reduction): the TF op\'s `reduction` attribute. */',
    `export const REDUCTION_CODES = ${object(t.reductions)} as const;`,
    '',
    '/** The codes of the structured native errors (FOCAL_ERROR_CODES). */',
    'export const NATIVE_ERROR_CODES = [',
    ...t.errorCodes.map((c) => `  '${c}',`),
    '] as const;',
    '',
    '/** A failed TensorFlow op\'s status message carries the error as `${NATIVE_ERROR_MARKER} {json}`. */',
    `export const NATIVE_ERROR_MARKER = '${t.errorMarker}';`,
    '',
    '/**',
    ' * The elementwise kernel\'s optional options and their native defaults (FOCAL_SIGMOID_OPTIONS\'s',
    ' * kOptional rows), for the losses that do not set them and the composite, which runs without the addon.',
    ' */',
    `export const ELEMENTWISE_OPTION_DEFAULTS: ${object(t.elementwiseDefaults.map((o) => [o.key, o.type]))} =`,
    `    ${object(t.elementwiseDefaults.map((o) => [o.key, o.text]))};`,
  ].join('\n') + '\n';
}

module.exports = {render, tables};

if (require.main === module) {
  process.stdout.write(render());
}
