// The detection section of `npm run bench`: its default sizes, the run, and its own outputs (the
// two figures and DETECTION.md), so that `--sections detection` alone writes everything it reports.
import * as fs from 'fs';
import * as path from 'path';

import {ProgressFn} from '../speed';
import {DetectionResult, DetectionSettings, measureDetection} from './experiment';
import {detectionCurvesChart, detectionExamplesChart} from './figures';
import {CLASSIFICATION_LOSSES} from './losses';
import {detectionMarkdown} from './report';
import {writeSvg} from '../../lib/compare/svg';

/**
 * Detection sizes: the full run trains the main losses and the ablations over 3 seeds in about
 * 10 minutes on 2 busy cores; --quick the main losses once each for 40 steps (about 2 s each on 2
 * cores): enough that BCE learns (test mAP@0.5 0.11-0.13 over seeds 1-6, against 0 untrained),
 * so the section is exercised end to end, not measured.
 */
export function detectionSettings(quick: boolean, seeds?: number, steps?: number, trainImages?: number,
                                  losses?: string[]): DetectionSettings {
  const count = seeds ?? (quick ? 1 : 3);
  return {
    seeds: Array.from({length: count}, (_, i) => i + 1),
    losses: losses ?? CLASSIFICATION_LOSSES.filter((l) => !quick || !l.ablation).map((l) => l.id),
    trainImages: trainImages ?? (quick ? 400 : 2000),
    validationImages: quick ? 50 : 200,
    testImages: quick ? 100 : 500,
    dataSeed: 0,
    steps: steps ?? (quick ? 40 : 500),
    batchSize: 16,
    learningRate: 2e-3,
    evalEvery: quick ? 20 : 100,
    exampleImages: 4,
  };
}

export function runDetectionSection(settings: DetectionSettings, backend: string, outDir: string,
                                    progress: ProgressFn, log: (line: string) => void):
    {result: DetectionResult; figures: Array<{file: string; title: string}>} {
  const result = measureDetection({...settings, backend, progress, log});
  const charts = [
    {file: 'detection_curves.svg', title: 'Detection training curves', svg: detectionCurvesChart(result)},
    {file: 'detection_examples.svg', title: 'Detection examples (test canvases)', svg: detectionExamplesChart(result)},
  ];
  for (const c of charts) {
    writeSvg(outDir, c.file, c.svg);
  }
  const figures = charts.map(({file, title}) => ({file, title}));
  fs.writeFileSync(path.join(outDir, 'DETECTION.md'), detectionMarkdown(result, figures));
  return {result, figures};
}
