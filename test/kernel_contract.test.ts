// lib/kernel_contract.ts against the native code it describes. The codes and defaults that cross
// the C++/TypeScript line are written once, in native/include/, and generated into
// lib/native_tables.ts (tools/native-tables.js): a header changed without regenerating fails here,
// and the generated tables are held against the loaded addon and the TensorFlow ops.
import * as fs from 'fs';
import * as path from 'path';

import {ELEMENTWISE_LOSS_CODES, ELEMENTWISE_OPTION_DEFAULTS} from '../lib/kernel_contract';
import {addon} from '../lib/native';

const tools = require('../tools/native-tables.js') as {render(): string};

describe('kernel contract', () => {
  test('lib/native_tables.ts is what tools/native-tables.js renders from native/include', () => {
    const current = fs.readFileSync(path.join(__dirname, '..', 'lib', 'native_tables.ts'), 'utf8');
    // Regenerate: node tools/native-tables.js > lib/native_tables.ts
    expect(current).toBe(tools.render());
  });

  test('the elementwise option defaults are the native table\'s optional options', () => {
    const optional = addon().kernelOptions().sigmoidElementwiseLoss.filter((o) => !o.required);
    expect(Object.fromEntries(optional.map((o) => [o.key, o.default]))).toEqual(ELEMENTWISE_OPTION_DEFAULTS);
  });

  test('the addon takes every elementwise loss code and refuses the next one', () => {
    const codes = Object.values(ELEMENTWISE_LOSS_CODES);
    expect(codes).toEqual(codes.map((_, i) => i));
    const run = (loss: number) => addon().sigmoidElementwiseLoss({
      logits: new Float32Array([0.5]), labels: new Float32Array([1]), gamma: 2, alpha: null,
      labelSmoothing: 0, fromLogits: true, loss, lossOut: new Float32Array(1), gradOut: null,
    });
    for (const code of codes) expect(() => run(code)).not.toThrow();
    expect(() => run(codes.length)).toThrow(`args.loss must be an ElementwiseLoss code, 0 to ${codes.length - 1}`);
  });
});
