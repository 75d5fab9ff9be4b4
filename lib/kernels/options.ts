// The kernels' plain options, from the one table per native entry point
// (native/include/focal_loss.h, which the addon describes with kernelOptions()). A kernel attr of
// the table reaches the addon as the key of the same name and the TensorFlow op as the table's
// attribute, by one rule: an option added to the table needs no code here, in the kernels or in
// the paths. What the table does not cover (alpha, labels, ignoreIndex, the logit offsets, the
// loss kind, the reduction) each kernel converts itself, once.
import {addon, FocalLossAddon, KernelEntryPoint, KernelOption} from '../native';
import type {AttrValue} from '../paths/tensorflow_op';
import {describeValue} from '../validation/describe';

const tables = new WeakMap<FocalLossAddon, {[entry in KernelEntryPoint]: KernelOption[]}>();

/** The options of `entry`, in table order (read from the addon once). */
export function kernelOptionTable(entry: KernelEntryPoint): readonly KernelOption[] {
  const loaded = addon();
  let table = tables.get(loaded);
  if (table === undefined) {
    table = loaded.kernelOptions();
    tables.set(loaded, table);
  }
  return table[entry];
}

/**
 * Refuses the attrs of a direct `runKernel` call that the kernel cannot run: a required option
 * left out, or an option of the wrong type (the public functions pass them complete and
 * validated); errors name `kernelName`, the kernel the caller ran. Values are not range-checked
 * here: that is the functions' job.
 */
export function checkKernelAttrs(kernelName: string, entry: KernelEntryPoint, attrs: object): void {
  const given = attrs as {[key: string]: unknown};
  for (const option of kernelOptionTable(entry)) {
    const value = given[option.key];
    if (value == null && !option.required) continue;
    const expected = option.type === 'bool' ? 'boolean' : 'number';
    if (typeof value !== expected) {
      throw new TypeError(`${kernelName}: attrs.${option.key} must be a ${expected}` +
          `${option.required ? '' : ' (or left out: ' + String(option.default) + ')'}; received ${describeValue(value)}`);
    }
  }
}

/**
 * The table's options of `attrs`, by key: the attr's value, or for an optional option left out
 * (undefined or null) the kernel's default. A required option left out stays as it is, and the
 * addon and the TensorFlow op refuse it (a direct runKernel call without `gamma`, say).
 */
export function kernelOptionValues(entry: KernelEntryPoint, attrs: object):
    {[key: string]: number | boolean} {
  const given = attrs as {[key: string]: number | boolean | null | undefined};
  const values: {[key: string]: number | boolean} = {};
  for (const option of kernelOptionTable(entry)) {
    const value = given[option.key];
    values[option.key] = (value ?? (option.required ? value : option.default)) as number | boolean;
  }
  return values;
}

/**
 * Complete attrs' table options as the TensorFlow op's attributes (the table's names and types),
 * followed by the kernel's own attributes `rest`. Runs on every call: one object filled in place
 * (no spread of a dynamically keyed object, which V8 copies on a slow path).
 */
export function kernelOptionAttrs(entry: KernelEntryPoint, attrs: object,
                                  rest: {[name: string]: AttrValue} = {}): {[name: string]: AttrValue} {
  const values = attrs as {[key: string]: number | boolean};
  const out: {[name: string]: AttrValue} = {};
  for (const option of kernelOptionTable(entry)) {
    const value = values[option.key];
    out[option.attr] = option.type === 'bool' ? {bool: value as boolean} :
        option.type === 'int' ? {int: value as number} : {float: value as number};
  }
  for (const name in rest) out[name] = rest[name];
  return out;
}
