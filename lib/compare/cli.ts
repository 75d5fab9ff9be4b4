// `npx tfjs-focal-loss compare train.csv --label COLUMN ...`: compareLosses on a CSV file with an MLP.
// Loaded by the command's entry (command.ts) only when the command runs. The backend is the fastest the user's project has: `tensorflow`
// when its @tensorflow/tfjs-node loads, else `cpu` (the native kernel still computes the losses).
import * as fs from 'fs';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {CompareError} from './errors';
import {compareLosses, CompareReport} from './index';
import {printProgress, ProgressEvent} from './progress';
import {differenceTable, reportTable} from './report';
import type {CliSettings} from './cli_args';
import {CsvTable, describeEncoding, encodeTable, fitEncoding} from './tabular';

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
