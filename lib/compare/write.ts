// Writes a finished comparison to its folder: everything goes to a temporary sibling folder first and
// is renamed into place at the end, so the folder never holds the files of an unfinished run.
import * as fs from 'fs';
import * as path from 'path';

import {CompareError} from './errors';
import {curvesChart, recallChart} from './figures';
import type {CompareReport} from './report_types';
import {markdownReport} from './report';

export const REPORT_FILES = {json: 'report.json', markdown: 'REPORT.md', recall: 'recall_per_class.svg',
                             curves: 'validation_curves.svg'};

/** Writes report.json, REPORT.md and the SVG figures to `outDir`; returns their paths. */
export function writeReport(report: CompareReport, outDir: string): string[] {
  if (typeof outDir !== 'string' || outDir === '') {
    throw new CompareError(`options.outDir: expected a folder path; received ${JSON.stringify(outDir)}`);
  }
  const target = path.resolve(outDir);
  if (fs.existsSync(target) && !fs.statSync(target).isDirectory()) {
    throw new CompareError(`options.outDir: ${target} exists and is not a folder`);
  }
  fs.mkdirSync(path.dirname(target), {recursive: true});
  const staging = fs.mkdtempSync(`${target}.partial-`);
  try {
    const figures = [
      {file: REPORT_FILES.recall, title: 'Held-out recall per class', svg: recallChart(report)},
      {file: REPORT_FILES.curves, title: 'Held-out curves over epochs', svg: curvesChart(report)},
    ];
    const files = [REPORT_FILES.json, REPORT_FILES.markdown, ...figures.map((f) => f.file)];
    report.files = files.map((f) => path.join(target, f));
    for (const f of figures) {
      fs.writeFileSync(path.join(staging, f.file), f.svg);
    }
    fs.writeFileSync(path.join(staging, REPORT_FILES.markdown), markdownReport(report, figures));
    fs.writeFileSync(path.join(staging, REPORT_FILES.json), JSON.stringify(report, null, 1));
    fs.mkdirSync(target, {recursive: true});
    for (const f of files) {
      fs.renameSync(path.join(staging, f), path.join(target, f));
    }
    return report.files;
  } finally {
    fs.rmSync(staging, {recursive: true, force: true});
  }
}
