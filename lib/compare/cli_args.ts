// The `compare` command's arguments: its help text, options and their checks. Free of tfjs, so
// that the CLI's --help and argument errors answer at once (command.ts loads the rest on run).
import {parseArgs} from 'util';

import {CompareError} from './errors';

export const COMPARE_USAGE = `usage: npx tfjs-focal-loss compare TRAIN.csv --label COLUMN [options]

Trains an MLP on TRAIN.csv with cross-entropy and the package's losses (focal, class-balanced,
logit-adjusted, Poly-1) under the same seeds, initial weights and batch order, and reports which
one helps on the held-out rows: mean ± sd over seeds, the paired difference from cross-entropy with
its verdict, and a recommendation. Prints the table; writes report.json, REPORT.md and SVG figures.

  --label COLUMN       the column holding the class (required)
  --test FILE          held-out rows from this CSV (same columns)
  --split F            else hold out this stratified fraction of TRAIN.csv (default 0.2)
  --hidden LIST        hidden layer widths of the MLP, comma separated (default 64,32)
  --epochs N           epochs per run (default 20)
  --seeds N            seeds per contender (default 3)
  --batch-size N       batch size (default 32)
  --out DIR            folder for the report (default compare-report)
  --backend NAME       tensorflow or cpu (default: tensorflow when @tensorflow/tfjs-node loads here)
  -h, --help           this text

Numeric columns are standardised; string columns are one-hot encoded; empty or non-numeric values
in a numeric column are an error naming the column and row.`;

export interface CliSettings {
  train: string;
  label: string;
  test?: string;
  split?: number;
  hidden: number[];
  epochs: number;
  seeds: number;
  batchSize: number;
  out: string;
  backend?: 'tensorflow' | 'cpu';
}

function integerFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new CompareError(`--${flag}: expected an integer >= 1; received '${value}'`);
  }
  return n;
}

/** The command's options, as util.parseArgs definitions (scripts/cli.js adds --help). */
export const COMPARE_OPTIONS = {
  label: {type: 'string'}, test: {type: 'string'}, split: {type: 'string'}, hidden: {type: 'string'},
  epochs: {type: 'string'}, seeds: {type: 'string'}, 'batch-size': {type: 'string'}, out: {type: 'string'},
  backend: {type: 'string'},
} as const;

type CompareValues = {[K in keyof typeof COMPARE_OPTIONS]?: string};

/** The parsed command line, checked and with its defaults. */
export function settingsFromArgs(values: CompareValues, positionals: string[]): CliSettings {
  if (positionals.length !== 1) {
    throw new CompareError(`expected one training CSV file; received ${positionals.length === 0 ? 'none' :
                           positionals.join(' ')} (see npx tfjs-focal-loss compare --help)`);
  }
  if (values.label === undefined) {
    throw new CompareError(`--label: required: the column holding the class (see npx tfjs-focal-loss compare --help)`);
  }
  if (values.test !== undefined && values.split !== undefined) {
    throw new CompareError('--test and --split: give one of them, not both');
  }
  const split = values.split === undefined ? undefined : Number(values.split);
  if (split !== undefined && !(split > 0 && split < 1)) {
    throw new CompareError(`--split: expected a fraction in (0, 1); received '${values.split}'`);
  }
  const hidden = (values.hidden ?? '64,32').split(',').map((w) => w.trim());
  if (hidden.some((w) => !/^[1-9]\d*$/.test(w))) {
    throw new CompareError(`--hidden: expected layer widths like 64,32; received '${values.hidden}'`);
  }
  if (values.backend !== undefined && values.backend !== 'tensorflow' && values.backend !== 'cpu') {
    throw new CompareError(`--backend: expected tensorflow or cpu; received '${values.backend}'`);
  }
  return {
    train: positionals[0], label: values.label, test: values.test, split, hidden: hidden.map(Number),
    epochs: integerFlag('epochs', values.epochs, 20), seeds: integerFlag('seeds', values.seeds, 3),
    batchSize: integerFlag('batch-size', values['batch-size'], 32), out: values.out ?? 'compare-report',
    backend: values.backend as CliSettings['backend'],
  };
}

/** The command line as scripts/cli.js parses it, checked; null for --help. */
export function parseCompareArgs(argv: string[]): CliSettings | null {
  let parsed;
  try {
    parsed = parseArgs({args: argv, allowPositionals: true, strict: true,
                        options: {...COMPARE_OPTIONS, help: {type: 'boolean', short: 'h'}}});
  } catch (e) {
    throw new CompareError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n\n${COMPARE_USAGE}`);
  }
  const {help, ...values} = parsed.values;
  return help ? null : settingsFromArgs(values, parsed.positionals);
}
