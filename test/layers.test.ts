// lib/'s folders are layers (docs/DESIGN.md#layout): every relative import, type-only imports and
// re-exports included, goes to a lower layer or within its own, and no import circle exists.
import * as fs from 'fs';
import * as path from 'path';

import {importCycles, importsOf, REPO} from './import_graph';

/** The layers, bottom first; a file belongs to the first entry that names it or its folder. */
const LAYERS: Array<[string, string[]]> = [
  ['contract and leaves', ['lib/native_tables.ts', 'lib/kernel_contract.ts', 'lib/errors.ts', 'lib/peers.ts']],
  ['addon loader', ['lib/native.ts']],
  ['validation', ['lib/validation/']],
  ['paths', ['lib/paths/']],
  ['kernels', ['lib/kernels/']],
  ['losses', ['lib/losses/']],
  ['public API', ['lib/index.ts']],
  ['applications', ['lib/compare/']],
];

function layerOf(file: string): number {
  const rel = path.relative(REPO, file).split(path.sep).join('/');
  const index = LAYERS.findIndex(([, members]) => members.some((m) => m.endsWith('/') ? rel.startsWith(m) : rel === m));
  if (index < 0) throw new Error(`${rel} belongs to no layer: add it to LAYERS and docs/DESIGN.md#layout`);
  return index;
}

function libFiles(dir = path.join(REPO, 'lib')): string[] {
  return fs.readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? libFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('lib/ layers', () => {
  const files = libFiles();

  test('every file belongs to a layer', () => {
    expect(files.length).toBeGreaterThan(20);
    files.forEach(layerOf);
  });

  test('every import goes down the layers or stays within its own', () => {
    const upward = files.flatMap((file) => importsOf(file)
        .filter((target) => layerOf(target) > layerOf(file))
        .map((target) => `${path.relative(REPO, file)} (${LAYERS[layerOf(file)][0]}) imports ` +
             `${path.relative(REPO, target)} (${LAYERS[layerOf(target)][0]})`));
    expect(upward).toEqual([]);
  });

  test('no import circle', () => {
    expect(importCycles(files)).toEqual([]);
  });

  test('the contract imports nothing from lib/ but the tables generated from native/include', () => {
    const tables = path.join(REPO, 'lib', 'native_tables.ts');
    expect(importsOf(path.join(REPO, 'lib', 'kernel_contract.ts'))).toEqual([tables]);
    expect(importsOf(tables)).toEqual([]);
  });

  test('the walker finds a circle, type-only imports and re-exports included', () => {
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'layers-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.ts'), "import type {B} from './b';\nexport type A = B;\n");
      fs.writeFileSync(path.join(dir, 'b.ts'), "export {c} from './c';\nexport type B = number;\n");
      fs.writeFileSync(path.join(dir, 'c.ts'), "import './a';\nexport const c = 1;\n");
      const files = ['a.ts', 'b.ts', 'c.ts'].map((f) => path.join(dir, f));
      expect(importsOf(files[0])).toEqual([files[1]]);
      expect(importCycles(files).map((cycle) => cycle.map((f) => path.basename(f)))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  });
});
