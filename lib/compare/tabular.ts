// Tabular data for the `compare` command: CSV records (parsed by csv-parse) turned into a feature
// matrix and class indices. Numeric columns are standardised with the training rows' mean and sd;
// string columns are one-hot encoded with the training rows' categories. Every problem names the
// file, the column and the row.
import {CompareError} from './errors';

/** One parsed CSV file: its column names and its records (row 1 = the first record after the header). */
export interface CsvTable {
  file: string;
  columns: string[];
  records: Array<Record<string, string>>;
}

export interface ColumnEncoding {
  name: string;
  kind: 'numeric' | 'categorical';
  /** Numeric: the training mean and sd (1 for a constant column). */
  mean?: number;
  sd?: number;
  /** Categorical: the training categories, in order of first appearance. */
  categories?: string[];
}

export interface Encoding {
  label: string;
  classNames: string[];
  columns: ColumnEncoding[];
  /** Features per row after one-hot encoding. */
  width: number;
}

export interface EncodedTable {
  features: Float32Array;
  labels: Int32Array;
  rows: number;
}

function isNumber(text: string): boolean {
  return text.trim() !== '' && Number.isFinite(Number(text));
}

/** The encoding learnt from the training table: column kinds, statistics, categories and classes. */
export function fitEncoding(table: CsvTable, label: string): Encoding {
  if (!table.columns.includes(label)) {
    throw new CompareError(`--label: ${table.file} has no column '${label}'; its columns are ${
        table.columns.map((c) => `'${c}'`).join(', ')}`);
  }
  if (table.records.length === 0) {
    throw new CompareError(`${table.file}: no data rows under the header`);
  }
  const labels = table.records.map((r) => r[label]);
  const emptyLabel = labels.findIndex((v) => v.trim() === '');
  if (emptyLabel >= 0) {
    throw new CompareError(`${table.file}: column '${label}' (the label) is empty at row ${emptyLabel + 1}; every row needs a label`);
  }
  const distinct = [...new Set(labels)];
  const classNames = distinct.every(isNumber) ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort();
  const columns = table.columns.filter((c) => c !== label).map((name): ColumnEncoding => {
    const values = table.records.map((r) => r[name]);
    const numeric = values.filter(isNumber).length;
    if (numeric === 0) {
      const empty = values.findIndex((v) => v.trim() === '');
      if (empty >= 0) {
        throw new CompareError(`${table.file}: column '${name}' is empty at row ${empty + 1}; fill or drop missing values`);
      }
      return {name, kind: 'categorical', categories: [...new Set(values)]};
    }
    const bad = values.findIndex((v) => !isNumber(v));
    if (bad >= 0) {
      throw new CompareError(`${table.file}: column '${name}' row ${bad + 1}: ${JSON.stringify(values[bad])} is not a ` +
                             'number, but the column is otherwise numeric; fix or drop that row (missing values are ' +
                             'not filled in)');
    }
    const numbers = values.map(Number);
    const mean = numbers.reduce((a, b) => a + b, 0) / numbers.length;
    const variance = numbers.reduce((a, b) => a + (b - mean) ** 2, 0) / numbers.length;
    return {name, kind: 'numeric', mean, sd: variance > 0 ? Math.sqrt(variance) : 1};
  });
  if (columns.length === 0) {
    throw new CompareError(`${table.file}: no feature column besides the label '${label}'`);
  }
  const width = columns.reduce((n, c) => n + (c.kind === 'numeric' ? 1 : c.categories!.length), 0);
  return {label, classNames, columns, width};
}

/** A table (training or held-out) encoded with the training encoding. */
export function encodeTable(table: CsvTable, encoding: Encoding): EncodedTable {
  const missing = [encoding.label, ...encoding.columns.map((c) => c.name)].find((c) => !table.columns.includes(c));
  if (missing !== undefined) {
    throw new CompareError(`${table.file}: no column '${missing}', which the training file has`);
  }
  const rows = table.records.length;
  const features = new Float32Array(rows * encoding.width);
  const labels = new Int32Array(rows);
  table.records.forEach((record, r) => {
    const label = encoding.classNames.indexOf(record[encoding.label]);
    if (label < 0) {
      throw new CompareError(`${table.file}: row ${r + 1}: label ${JSON.stringify(record[encoding.label])} does not ` +
                             `occur in the training file (classes ${encoding.classNames.join(', ')})`);
    }
    labels[r] = label;
    let offset = r * encoding.width;
    for (const column of encoding.columns) {
      const text = record[column.name];
      if (column.kind === 'numeric') {
        if (!isNumber(text)) {
          throw new CompareError(`${table.file}: column '${column.name}' row ${r + 1}: ${JSON.stringify(text)} is not a number`);
        }
        features[offset++] = (Number(text) - column.mean!) / column.sd!;
      } else {
        // A category the training rows never had gets all zeros.
        const index = column.categories!.indexOf(text);
        if (index >= 0) {
          features[offset + index] = 1;
        }
        offset += column.categories!.length;
      }
    }
  });
  return {features, labels, rows};
}

/** One sentence for the report: what was done to which column. */
export function describeEncoding(encoding: Encoding): string {
  const numeric = encoding.columns.filter((c) => c.kind === 'numeric');
  const categorical = encoding.columns.filter((c) => c.kind === 'categorical');
  const parts: string[] = [];
  if (numeric.length > 0) {
    parts.push(`${numeric.length} numeric column${numeric.length > 1 ? 's' : ''} standardised with the training ` +
               `file's mean and sd (${numeric.map((c) => c.name).join(', ')})`);
  }
  if (categorical.length > 0) {
    parts.push(`${categorical.length} string column${categorical.length > 1 ? 's' : ''} one-hot encoded with the ` +
               `training file's categories (${categorical.map((c) => `${c.name}: ${c.categories!.length}`).join(', ')}; ` +
               'a category the training file lacks encodes as all zeros)');
  }
  return `Features: ${parts.join('; ')}; ${encoding.width} inputs. Label column '${encoding.label}', classes ` +
         `${encoding.classNames.join(', ')}.`;
}
