// The `compare` entry of the package's CLI (scripts/cli.js: {summary, help, options, positionals,
// run}). tfjs, the training harness and csv-parse load only when the command runs.
import {CliSettings, COMPARE_OPTIONS, COMPARE_USAGE, settingsFromArgs} from './cli_args';
import {CompareError} from './errors';

/** A CompareError as the CLI reports it: its message under the program's name, and an exit code. */
function commandError(e: unknown, exitCode: number): unknown {
  if (!(e instanceof CompareError)) {
    return e;
  }
  return Object.assign(new Error(`tfjs-focal-loss: ${e.message.replace(/^compareLosses: /, '')}`), {exitCode});
}

export const compareCommand = {
  summary: 'which loss helps on your data: an MLP on a CSV, cross-entropy against the focal family',
  help: COMPARE_USAGE,
  options: COMPARE_OPTIONS,
  positionals: true,
  async run(values: Parameters<typeof settingsFromArgs>[0], positionals: string[]): Promise<void> {
    let settings: CliSettings;
    try {
      settings = settingsFromArgs(values, positionals);
    } catch (e) {
      throw commandError(e, 2);   // a usage error
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      await (require('./cli') as typeof import('./cli')).runCompare(settings);
    } catch (e) {
      throw commandError(e, 1);
    }
  },
};
