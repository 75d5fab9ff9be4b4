// The `compare` command: its arguments, the CSV encoding (standardised numeric columns, one-hot
// string columns, every problem naming the file, column and row), and a run on the fixture
// test/fixtures/compare/birds.csv (300 rows, species 240:48:12, three numeric columns and one
// string column) on this run's backend, in-process. CI also runs the real command on it
// (.ci/run).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as tf from '@tensorflow/tfjs';

import {readCsv, runCompare} from '../lib/compare/cli';
import {parseCompareArgs} from '../lib/compare/cli_args';
import {CsvTable, describeEncoding, encodeTable, fitEncoding} from '../lib/compare/tabular';

const FIXTURE = path.join(__dirname, 'fixtures', 'compare', 'birds.csv');
const backend = (process.env.FOCAL_TEST_BACKEND ?? 'tensorflow') as 'tensorflow' | 'cpu';

function table(columns: string[], rows: string[][], file = 'x.csv'): CsvTable {
  return {file, columns, records: rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])))};
}

describe('compare arguments', () => {
  it('takes the documented flags with their defaults', () => {
    expect(parseCompareArgs(['train.csv', '--label', 'y'])).toEqual({
      train: 'train.csv', label: 'y', test: undefined, split: undefined, hidden: [64, 32], epochs: 20, seeds: 3,
      batchSize: 32, out: 'compare-report', backend: undefined});
    expect(parseCompareArgs(['t.csv', '--label=y', '--split', '0.3', '--hidden', '16', '--epochs', '5', '--seeds', '2',
                             '--batch-size', '8', '--out', 'o', '--backend', 'cpu'])).toEqual({
      train: 't.csv', label: 'y', test: undefined, split: 0.3, hidden: [16], epochs: 5, seeds: 2, batchSize: 8, out: 'o',
      backend: 'cpu'});
    expect(parseCompareArgs(['--help'])).toBeNull();
  });

  it('names the bad flag', () => {
    expect(() => parseCompareArgs(['t.csv'])).toThrow(/^compareLosses: --label: required/);
    expect(() => parseCompareArgs(['--label', 'y'])).toThrow(/expected one training CSV file; received none/);
    expect(() => parseCompareArgs(['t.csv', '--label', 'y', '--split', '1.5'])).toThrow("--split: expected a fraction in (0, 1); received '1.5'");
    expect(() => parseCompareArgs(['t.csv', '--label', 'y', '--test', 'u.csv', '--split', '0.2'])).toThrow('--test and --split: give one of them, not both');
    expect(() => parseCompareArgs(['t.csv', '--label', 'y', '--hidden', '64,x'])).toThrow("--hidden: expected layer widths like 64,32; received '64,x'");
    expect(() => parseCompareArgs(['t.csv', '--label', 'y', '--epochs', '0'])).toThrow("--epochs: expected an integer >= 1; received '0'");
    expect(() => parseCompareArgs(['t.csv', '--label', 'y', '--backend', 'webgl'])).toThrow("--backend: expected tensorflow or cpu; received 'webgl'");
    expect(() => parseCompareArgs(['t.csv', '--label', 'y', '--lable', 'z'])).toThrow(/Unknown option '--lable'/);
  });
});

describe('CSV encoding', () => {
  it('standardises numeric columns and one-hot encodes string columns with the training file\'s statistics', () => {
    const train = table(['a', 'color', 'y'], [['1', 'red', 'no'], ['3', 'blue', 'yes'], ['5', 'red', 'no']]);
    const encoding = fitEncoding(train, 'y');
    expect(encoding.classNames).toEqual(['no', 'yes']);
    expect(encoding.width).toBe(3);
    // a: mean 3, sd sqrt(8/3) (population); color: red, blue.
    const sd = Math.sqrt(8 / 3);
    const encoded = encodeTable(train, encoding);
    expect(Array.from(encoded.features)).toEqual(Array.from(Float32Array.from([-2 / sd, 1, 0, 0, 0, 1, 2 / sd, 1, 0])));
    expect(Array.from(encoded.labels)).toEqual([0, 1, 0]);
    // A held-out category the training rows lack: all zeros.
    const test = encodeTable(table(['y', 'color', 'a'], [['yes', 'green', '3']]), encoding);
    expect(Array.from(test.features)).toEqual([0, 0, 0]);
    expect(describeEncoding(encoding)).toBe("Features: 1 numeric column standardised with the training file's mean " +
        "and sd (a); 1 string column one-hot encoded with the training file's categories (color: 2; a category the " +
        "training file lacks encodes as all zeros); 3 inputs. Label column 'y', classes no, yes.");
    // Numeric class names sort as numbers.
    expect(fitEncoding(table(['a', 'y'], [['1', '10'], ['2', '9'], ['3', '10']]), 'y').classNames).toEqual(['9', '10']);
  });

  it('names the file, column and row of every problem', () => {
    const columns = ['a', 'b', 'y'];
    expect(() => fitEncoding(table(columns, [['1', '2', 'p']]), 'label')).toThrow(
        "compareLosses: --label: x.csv has no column 'label'; its columns are 'a', 'b', 'y'");
    expect(() => fitEncoding(table(columns, [['1', '2', 'p'], ['abc', '3', 'q']]), 'y')).toThrow(
        "x.csv: column 'a' row 2: \"abc\" is not a number, but the column is otherwise numeric");
    expect(() => fitEncoding(table(columns, [['1', '', 'p'], ['2', '3', 'q']]), 'y')).toThrow(
        "x.csv: column 'b' row 1: \"\" is not a number");
    expect(() => fitEncoding(table(columns, [['1', 'NaN', 'p'], ['2', '3', 'q']]), 'y')).toThrow(
        "x.csv: column 'b' row 1: \"NaN\" is not a number");
    expect(() => fitEncoding(table(columns, [['1', '2', '']]), 'y')).toThrow(
        "x.csv: column 'y' (the label) is empty at row 1");
    const encoding = fitEncoding(table(columns, [['1', '2', 'p'], ['2', '3', 'q']]), 'y');
    expect(() => encodeTable(table(['a', 'y'], [['1', 'p']], 'test.csv'), encoding)).toThrow(
        "test.csv: no column 'b', which the training file has");
    expect(() => encodeTable(table(columns, [['1', '2', 'r']], 'test.csv'), encoding)).toThrow(
        'test.csv: row 1: label "r" does not occur in the training file (classes p, q)');
  });

  it('reads the fixture with csv-parse', () => {
    const csv = readCsv(FIXTURE);
    expect(csv.columns).toEqual(['wing_mm', 'beak_mm', 'weight_g', 'habitat', 'species']);
    expect(csv.records).toHaveLength(300);
    expect(() => readCsv(path.join(__dirname, 'no-such.csv'))).toThrow(/cannot read .*no-such.csv: ENOENT/);
  });
});

describe(`compare on the fixture (backend ${backend})`, () => {
  it('prints the table and the recommendation, states the encoding and writes the report', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compare-cli-')), 'report');
    const printed: string[] = [];
    const before = tf.memory().numTensors;
    const report = await runCompare({train: FIXTURE, label: 'species', hidden: [8], epochs: 2, seeds: 2, batchSize: 32,
                                     out, backend}, (text) => printed.push(text), false);
    expect(tf.getBackend()).toBe(backend);
    expect(tf.memory().numTensors).toBe(before);
    expect(report.classNames).toEqual(['common', 'rare', 'uncommon']);
    expect(report.trainCounts).toEqual([192, 10, 38]);
    expect(report.rareClasses).toEqual([1]);
    expect(report.notes[0]).toContain('1 string column one-hot encoded with the training file\'s categories (habitat: 3');
    expect(report.notes[1]).toBe(`Model: MLP 6 → 8 → 3 (ReLU), Adam (lr 0.001). Backend \`${backend}\`${
        backend === 'cpu' ? ' (--backend cpu)' : ' (@tensorflow/tfjs-node)'}.`);
    expect(printed[0]).toMatch(/^\| contender \| macro-F1 %, mean ± sd \|/);
    expect(printed[0]).toContain(report.recommendation);
    expect(fs.readdirSync(out).sort()).toEqual(['REPORT.md', 'recall_per_class.svg', 'report.json', 'validation_curves.svg']);
  });
});
