#!/usr/bin/env node
// `npx tfjs-focal-loss <command>`: the package's explicit setup steps (no install script does any
// of this behind the user's back).
'use strict';

const cp = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

const USAGE = `usage: npx tfjs-focal-loss <command>

  setup-tfjs-node   install @tensorflow/tfjs-node into this project and make it load where its
                    own install cannot download libtensorflow (builds it against the tensorflow-cpu
                    Python wheel's libtensorflow; needs pip, and a C++ compiler, make and python3
                    unless an earlier build is cached)
  build             build the native addon from source into ${path.join('node_modules', 'tfjs-focal-loss', 'build', 'Release')}
                    (for a platform without a prebuilt binary; needs a C++17 compiler and cmake,
                    or python3 + make)
  status            print which path computes the losses here, and why
  compare           which loss helps on your data: compare TRAIN.csv --label COLUMN trains an MLP
                    with cross-entropy and the focal family and reports the difference (compare --help)`;

class CliError extends Error {}

function supportsTfjs(version) {
  const [major, minor] = String(version).split('.').map(Number);
  return major === 4 && minor >= 20;
}

function setupTfjsNodeCommand() {
  const setup = require('./tfjs-node-setup');
  const projectDir = setup.findProject(process.cwd());
  if (projectDir === undefined || projectDir === ROOT && process.cwd() !== ROOT) {
    throw new CliError(`not inside an npm project (no package.json in ${process.cwd()} or above): ` +
      'run it in your project folder (npm init -y creates one)');
  }
  try {
    setup.setupTfjsNode({ projectDir, save: true, defaultVersion: '4.22.0', supportsVersion: supportsTfjs });
  } catch (e) {
    if (e instanceof setup.SetupError) throw new CliError(e.message);
    throw e;
  }
}

function onPath(cmd) {
  return cp.spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

function resolvable(name, paths) {
  try {
    require.resolve(`${name}/package.json`, { paths });
    return true;
  } catch {
    return false;
  }
}

/** node-addon-api and cmake-js (dev tools, not runtime dependencies): from the project, or installed once into the cache. */
function buildToolsDir() {
  if (resolvable('node-addon-api', [ROOT]) && resolvable('cmake-js', [ROOT])) return null;
  const { cacheRoot } = require('./tfjs-node-setup');
  const dir = path.join(cacheRoot(), 'build-tools');
  const specs = ['node-addon-api', 'cmake-js'].map((n) => `${n}@${MANIFEST.devDependencies[n]}`);
  if (!resolvable('node-addon-api', [dir]) || !resolvable('cmake-js', [dir])) {
    console.log(`tfjs-focal-loss: installing the build tools ${specs.join(' ')} into ${dir}`);
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.existsSync(path.join(dir, 'package.json'))) fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
    const r = cp.spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...specs],
      { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) {
      throw new CliError(`npm could not install ${specs.join(' ')} (${(r.stderr || '').trim().split('\n').pop()})`);
    }
  }
  return dir;
}

function buildCommand() {
  if (!fs.existsSync(path.join(ROOT, 'binding.gyp')) || !fs.existsSync(path.join(ROOT, 'native'))) {
    throw new CliError(`the native sources are missing from ${ROOT}; reinstall tfjs-focal-loss`);
  }
  if (!onPath('c++') && !onPath('g++') && !onPath('clang++')) {
    throw new CliError('building the addon needs a C++17 compiler on PATH (Debian/Ubuntu: apt-get install g++ make python3)');
  }
  if (!onPath('cmake') && !(onPath('make') && (onPath('python3') || onPath('python')))) {
    throw new CliError('building the addon needs cmake, or make and python3 (node-gyp), on PATH');
  }
  const tools = buildToolsDir();
  const env = { ...process.env };
  if (tools) env.NODE_PATH = [path.join(tools, 'node_modules'), env.NODE_PATH].filter(Boolean).join(path.delimiter);
  const r = cp.spawnSync(process.execPath, [path.join(__dirname, 'build-addon.js')], { cwd: ROOT, env, stdio: 'inherit' });
  if (r.status !== 0) throw new CliError('the build failed (output above)');
  const out = path.join(ROOT, 'build', 'Release', 'focal_loss.node');
  const probe = cp.spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(out)}).simdLevel())`], { encoding: 'utf8' });
  if (probe.status !== 0) throw new CliError(`the built ${out} does not load (${(probe.stderr || '').trim().split('\n')[0]})`);
  console.log(`tfjs-focal-loss: built ${out} (kernels: ${probe.stdout.trim()}); the loader uses it ` +
    'where no prebuilt binary for this platform loads');
}

function statusCommand() {
  // The user's tfjs, as their code would load it: tfjs-node when it is installed.
  const from = process.cwd();
  let tfjsNodeProblem = null;
  let tfjsNodePath = null;
  try {
    tfjsNodePath = require.resolve('@tensorflow/tfjs-node', { paths: [from] });
  } catch { /* not installed: the pure-JS backends */ }
  if (tfjsNodePath !== null) {
    try {
      require(tfjsNodePath);
    } catch (e) {
      tfjsNodeProblem = String(e && e.message).split('\n')[0];
    }
  }
  const lib = require(ROOT);
  console.log(JSON.stringify(lib.nativeStatus(), null, 2));
  if (tfjsNodeProblem !== null) {
    throw new CliError(`@tensorflow/tfjs-node is installed but does not load (${tfjsNodeProblem}); ` +
      'run `npx tfjs-focal-loss setup-tfjs-node` in this project to rebuild it');
  }
}

const COMMANDS = { 'setup-tfjs-node': setupTfjsNodeCommand, build: buildCommand, status: statusCommand,
  compare: () => { require('../dist/lib/compare/cli').compareCommand(process.argv.slice(3)); } };

function main() {
  const command = process.argv[2];
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  const fn = COMMANDS[command];
  if (fn === undefined) {
    console.error(`tfjs-focal-loss: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  try {
    fn();
    return 0;
  } catch (e) {
    if (e instanceof CliError || (e && /^tfjs-focal-loss: /.test(e.message))) {
      console.error(`tfjs-focal-loss ${command}: ${e.message.replace(/^tfjs-focal-loss: /, '')}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main();
