// The report compareLosses returns (and report.json holds): its own file, so that the files that
// render it (report.ts, figures.ts, write.ts) need not import index.ts, which imports them.
import type {Task} from './contenders';
import type {MetricId} from './metrics';
import type {Summary} from './stats';
import type {RunRecord} from './train';
import type {MetricSummary, PairedComparison} from './verdict';

export interface ContenderSummary {
  name: string;
  description: string;
  metrics: Partial<Record<MetricId, MetricSummary>>;
  /** Per class, mean over seeds. */
  recallPerClass: number[];
  precisionPerClass: number[];
  averagePrecisionPerClass?: number[];
  /** Training seconds per epoch over all seeds and epochs except each run's first (warm-up). */
  epochSeconds: Summary;
}

export interface CompareReport {
  task: Task;
  classes: number;
  classNames: string[];
  backend: string;
  seeds: number[];
  epochs: number;
  batchSize: number;
  trainRows: number;
  testRows: number;
  /** How the held-out split was made. */
  split: string;
  /** Training rows per class (multi-label: positives per label). */
  trainCounts: number[];
  rareClasses: number[];
  /** How the comparison is kept fair. */
  fairness: string;
  metrics: MetricId[];
  /** The metric the recommendation rests on (macro-F1, or mAP for binary / multi-label). */
  primaryMetric: MetricId;
  contenders: Array<{name: string; description: string}>;
  baseline: string;
  runs: RunRecord[];
  summaries: ContenderSummary[];
  /** Every contender against the baseline, per metric. */
  comparisons: Array<PairedComparison<MetricId>>;
  recommendation: string;
  notes: string[];
  timing: {
    totalSeconds: number;
    /** The training epochs (forward, backward, optimizer steps). */
    trainingSeconds: number;
    /** The held-out evaluation after every epoch. */
    evaluationSeconds: number;
    /** Everything else: data preparation, models built, weights copied, statistics, files. */
    harnessSeconds: number;
  };
  /** Files written to `outDir` (empty without one). */
  files: string[];
}
