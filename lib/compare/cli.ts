// `npx tfjs-focal-loss compare train.csv --label COLUMN ...`: compareLosses on a CSV file with an MLP.
// scripts/cli.js dispatches here. The backend is the fastest the user's project has: `tensorflow`
// when its @tensorflow/tfjs-node loads, else `cpu` (the native kernel still computes the losses).
import * as fs from 'fs';
import * as path from 'path';
import {parseArgs} from 'util';

import * as tf from '@tensorflow/tfjs';

import {CompareError} from './errors';
import {compareLosses, CompareReport} from './index';
import {printProgress, ProgressEvent} from './progress';
import {differenceTable, reportTable} from './report';
import {CsvTable, describeEncoding, encodeTable, fitEncoding} from './tabular';

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

/** The command line, checked; null for --help. */
export function parseCompareArgs(argv: string[]): CliSettings | null {
  let parsed;
  try {
    parsed = parseArgs({args: argv, allowPositionals: true, strict: true, options: {
      label: {type: 'string'}, test: {type: 'string'}, split: {type: 'string'}, hidden: {type: 'string'},
      epochs: {type: 'string'}, seeds: {type: 'string'}, 'batch-size': {type: 'string'}, out: {type: 'string'},
      backend: {type: 'string'}, help: {type: 'boolean', short: 'h'},
    }});
  } catch (e) {
    throw new CompareError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n\n${COMPARE_USAGE}`);
  }
  const {values, positionals} = parsed;
  if (values.help) {
    return null;
  }
  if (positionals.length !== 1) {
    throw new CompareError(`expected one training CSV file; received ${positionals.length === 0 ? 'none' :
                           positionals.join(' ')}\n\n${COMPARE_USAGE}`);
  }
  if (values.label === undefined) {
    throw new CompareError(`--label: required: the column holding the class\n\n${COMPARE_USAGE}`);
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

/** Reads a CSV file with csv-parse (loaded only by this command). */
export function readCsv(file: string): CsvTable {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CompareError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const {parse} = require('csv-parse/sync') as typeof import('csv-parse/sync');
  let rows: string[][];
  try {
    rows = parse(text, {skip_empty_lines: true, trim: true, bom: true}) as string[][];
  } catch (e) {
    throw new CompareError(`${file}: ${(e as Error).message}`);
  }
  if (rows.length === 0) {
    throw new CompareError(`${file}: empty; expected a header line and data rows`);
  }
  const [columns, ...data] = rows;
  const duplicate = columns.find((c, i) => columns.indexOf(c) !== i);
  if (duplicate !== undefined) {
    throw new CompareError(`${file}: the header names column '${duplicate}' twice`);
  }
  return {file, columns, records: data.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])))};
}

/** Activates the fastest backend this project has; returns a sentence saying which and why. */
export async function chooseBackend(requested: CliSettings['backend'], from = process.cwd()): Promise<string> {
  let problem: string | null = null;
  if (requested !== 'cpu') {
    process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL ?? '2';
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(require.resolve('@tensorflow/tfjs-node', {paths: [from, __dirname]}));
    } catch (e) {
      problem = (e as Error).message.split('\n')[0];
    }
    if (problem === null && await tf.setBackend('tensorflow')) {
      return 'Backend `tensorflow` (@tensorflow/tfjs-node).';
    }
    if (requested === 'tensorflow') {
      throw new CompareError(`--backend tensorflow: @tensorflow/tfjs-node does not load here (${problem ?? 'not registered'}); ` +
                             'install it (npx tfjs-focal-loss setup-tfjs-node) or use --backend cpu');
    }
  }
  await tf.setBackend('cpu');
  return `Backend \`cpu\`${requested === 'cpu' ? ' (--backend cpu)' :
      ` (@tensorflow/tfjs-node does not load here: ${problem}; the losses still run in the native kernel)`}.`;
}

function mlp(inputs: number, hidden: number[], classes: number): tf.LayersModel {
  return tf.sequential({layers: [
    ...hidden.map((units, i) => tf.layers.dense({units, activation: 'relu', ...(i === 0 ? {inputShape: [inputs]} : {})})),
    tf.layers.dense({units: classes, ...(hidden.length === 0 ? {inputShape: [inputs]} : {})}),
  ]});
}

/** Runs the comparison the settings describe; prints the table and returns the report. */
export async function runCompare(settings: CliSettings, print: (text: string) => void = console.log,
                                 progress: false | ((e: ProgressEvent) => void) = printProgress(process.stderr)):
    Promise<CompareReport> {
  const trainTable = readCsv(settings.train);
  const encoding = fitEncoding(trainTable, settings.label);
  const train = encodeTable(trainTable, encoding);
  const test = settings.test === undefined ? undefined : encodeTable(readCsv(settings.test), encoding);
  const classes = encoding.classNames.length;
  if (classes < 2) {
    throw new CompareError(`${settings.train}: column '${settings.label}' holds one class only (${encoding.classNames[0]}); ` +
                           'a comparison needs two or more');
  }
  const backendNote = await chooseBackend(settings.backend);
  const tensors = [tf.tensor2d(train.features, [train.rows, encoding.width]), tf.tensor1d(train.labels, 'int32')];
  if (test !== undefined) {
    tensors.push(tf.tensor2d(test.features, [test.rows, encoding.width]), tf.tensor1d(test.labels, 'int32'));
  }
  try {
    const report = await compareLosses({
      model: () => mlp(encoding.width, settings.hidden, classes),
      data: {x: tensors[0], y: tensors[1]},
      ...(test === undefined ? {validationSplit: settings.split ?? 0.2} : {validation: {x: tensors[2], y: tensors[3]}}),
      seeds: settings.seeds, epochs: settings.epochs, batchSize: settings.batchSize, classNames: encoding.classNames,
      outDir: settings.out, progress,
      notes: [`Data: ${path.basename(settings.train)}${settings.test ? `, held out: ${path.basename(settings.test)}` : ''}. ` +
              describeEncoding(encoding), `Model: MLP ${[encoding.width, ...settings.hidden, classes].join(' → ')} ` +
              '(ReLU), Adam (lr 0.001). ' + backendNote],
    });
    print(`${reportTable(report)}\n\n${differenceTable(report)}\n\n${report.recommendation}\n\n` +
          `Wrote ${report.files.join(', ')}`);
    return report;
  } finally {
    tf.dispose(tensors);
  }
}

/** The `compare` command: sets process.exitCode (0 done, 1 failed, 2 bad arguments). */
export async function compareCommand(argv: string[]): Promise<void> {
  try {
    const settings = parseCompareArgs(argv);
    if (settings === null) {
      console.log(COMPARE_USAGE);
      return;
    }
    await runCompare(settings);
  } catch (e) {
    if (e instanceof CompareError) {
      console.error(`tfjs-focal-loss compare: ${e.message.replace(/^compareLosses: /, '')}`);
      process.exitCode = /^compareLosses: (--|expected one training|usage)/.test(e.message) ? 2 : 1;
      return;
    }
    throw e;
  }
}
