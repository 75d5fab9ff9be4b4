// Checks the user's tfjs before anything else loads it: @tensorflow/tfjs is a peer dependency (the
// user's copy is the one used; tfjs-core comes with it), so a missing package, a version outside
// the supported range or a second copy of tfjs-core must be one clear error, not a "kernel not
// registered" later.
import * as path from 'path';

/** The tfjs versions this package supports (package.json peerDependencies says the same). */
export const SUPPORTED_TFJS = {range: '>=4.20.0 <5', major: 4, minMinor: 20};

/** An Error printed as its message alone: the cause is the environment, not a line of code. */
export function environmentError(message: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  return error;
}

function manifestOf(name: string, from?: string): {file: string, version: string} | null {
  try {
    const file = require.resolve(`${name}/package.json`, from === undefined ? undefined : {paths: [from]});
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return {file, version: String((require(file) as {version?: unknown}).version)};
  } catch {
    return null;
  }
}

function checkVersion(name: string, version: string): void {
  const [major, minor] = version.split('.').map(Number);
  if (major !== SUPPORTED_TFJS.major || !(minor >= SUPPORTED_TFJS.minMinor)) {
    throw environmentError(`tfjs-focal-loss: ${name} ${version} is installed; this package ` +
        `supports ${SUPPORTED_TFJS.range} (npm install ${name}@^4.22.0)`);
  }
}

export function checkTfjsPeers(): void {
  const tfjs = manifestOf('@tensorflow/tfjs');
  if (tfjs === null) {
    throw environmentError('tfjs-focal-loss: @tensorflow/tfjs is not installed; tfjs is a peer ' +
        'dependency: install it in your project (npm install @tensorflow/tfjs, or ' +
        '@tensorflow/tfjs-node for the TensorFlow backend)');
  }
  checkVersion('@tensorflow/tfjs', tfjs.version);
  const coreOfTfjs = manifestOf('@tensorflow/tfjs-core', path.dirname(tfjs.file));
  if (coreOfTfjs === null) {
    throw environmentError(`tfjs-focal-loss: @tensorflow/tfjs-core, a dependency of ` +
        `${path.dirname(tfjs.file)}, is missing: reinstall @tensorflow/tfjs`);
  }
  checkVersion('@tensorflow/tfjs-core', coreOfTfjs.version);
  // The tfjs-core that @tensorflow/tfjs uses must be the one a `require('@tensorflow/tfjs-core')`
  // next to this package gets (another tfjs package of the user's, a backend, ...).
  const core = manifestOf('@tensorflow/tfjs-core');
  if (core !== null && core.file !== coreOfTfjs.file) {
    throw environmentError(`tfjs-focal-loss: two copies of @tensorflow/tfjs-core are installed (${
        path.dirname(core.file)} ${core.version} and ${path.dirname(coreOfTfjs.file)} ${
        coreOfTfjs.version}); tensors of one are unknown to the other. Install the @tensorflow ` +
        `packages at one version (npm ls @tensorflow/tfjs-core shows who needs which), e.g. npm ` +
        `install @tensorflow/tfjs-core@${coreOfTfjs.version}`);
  }
}

checkTfjsPeers();
