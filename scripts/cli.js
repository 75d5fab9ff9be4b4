#!/usr/bin/env node
// `npx tfjs-focal-loss <command>`: the package's explicit setup steps (no install script does any
// of this behind the user's back).
//
// Each command is one entry of COMMANDS: {summary, help, options, positionals?, run}. `options`
// are util.parseArgs option definitions (every command also gets --help / -h), `positionals: true`
// lets it take operands; run(values, positionals), which may return a promise, throws CliError (from
// another file: an Error whose message starts with 'tfjs-focal-loss: ', with an optional exitCode)
// for a one-line failure, exit 1 by default. A
// command with many lines of its own lives in a file of its own that exports that shape, and is
// added here as one line: `name: require('./cli-name.js'),` (and that file goes into `files`).
'use strict';

// TensorFlow's C++ logging (the oneDNN notice of port.cc, cpu_feature_guard) would land in the
// CLI's output when a command loads @tensorflow/tfjs-node. TF_CPP_MIN_LOG_LEVEL silences
// cpu_feature_guard but not the oneDNN notice, which TensorFlow prints whenever oneDNN is on
// unless TF_ENABLE_ONEDNN_OPTS is set to 0 (its round-off is the same for every contender that
// `compare` trains, so the comparison stays fair).
// Both must be in the environment before libtensorflow loads; a user's own setting wins.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';

const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');

const ROOT = path.resolve(__dirname, '..');
const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const PROGRAM = 'tfjs-focal-loss';

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

function buildCommand(options) {
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
  if (options['cmake-js'] && options.gyp) throw new CliError('build takes one of --cmake-js, --gyp, not both');
  const route = options['cmake-js'] ? ['--cmake-js'] : options.gyp ? ['--gyp'] : [];
  const r = cp.spawnSync(process.execPath, [path.join(__dirname, 'build-addon.js'), ...route], { cwd: ROOT, env, stdio: 'inherit' });
  if (r.status !== 0) throw new CliError('the build failed (output above)');
  const out = path.join(ROOT, 'build', 'Release', 'focal_loss.node');
  const probe = cp.spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(out)}).simdLevel())`], { encoding: 'utf8' });
  if (probe.status !== 0) throw new CliError(`the built ${out} does not load (${(probe.stderr || '').trim().split('\n')[0]})`);
  console.log(`tfjs-focal-loss: built ${out} (kernels: ${probe.stdout.trim()}); the loader uses it ` +
    'where no prebuilt binary for this platform loads');
}

/** name -> version of a package as the project in `from` resolves it, or undefined. */
function versionIn(from, name) {
  try {
    return JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [from] }), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function glibcVersion() {
  const header = process.report && typeof process.report.getReport === 'function'
    ? process.report.getReport().header : {};
  return header.glibcVersionRuntime;
}

function statusCommand({ json }) {
  // The user's tfjs, as their code would load it: tfjs-node when it is installed.
  const from = process.cwd();
  let tfjsNode = 'not installed';
  let tfjsNodeProblem = null;
  let tfjsNodePath = null;
  try {
    tfjsNodePath = require.resolve('@tensorflow/tfjs-node', { paths: [from] });
  } catch { /* not installed: the pure-JS backends */ }
  if (tfjsNodePath !== null) {
    try {
      const tf = require(tfjsNodePath);
      const libtensorflow = tf.backend().binding.TF_Version;
      tfjsNode = `${versionIn(from, '@tensorflow/tfjs-node')} (libtensorflow ${libtensorflow})`;
    } catch (e) {
      tfjsNodeProblem = String(e && e.message).split('\n')[0];
      tfjsNode = `${versionIn(from, '@tensorflow/tfjs-node')}, does not load`;
    }
  }
  const lib = require(ROOT);
  const native = lib.nativeStatus();
  const glibc = glibcVersion();
  const report = {
    'tfjs-focal-loss': `${MANIFEST.version} (${ROOT})`,
    '@tensorflow/tfjs': versionIn(from, '@tensorflow/tfjs') || 'not installed',
    '@tensorflow/tfjs-core': versionIn(ROOT, '@tensorflow/tfjs-core') || 'not found',
    '@tensorflow/tfjs-node': tfjsNode,
    platform: `${process.platform}-${process.arch}${glibc ? `, glibc ${glibc}` : ''}, Node ${process.versions.node} (N-API ${process.versions.napi})`,
    backend: native.backend,
    path: `${native.path} (${native.reason})`,
    binary: native.loaded ? `${native.binary} (kernels: ${native.simd})` : `none loaded (${native.error})`,
  };
  if (json) {
    console.log(JSON.stringify({ ...report, nativeStatus: native }, null, 2));
  } else {
    const width = Math.max(...Object.keys(report).map((k) => k.length));
    for (const [key, value] of Object.entries(report)) console.log(`${key.padEnd(width)}  ${value}`);
  }
  if (tfjsNodeProblem !== null) {
    throw new CliError(`@tensorflow/tfjs-node is installed but does not load (${tfjsNodeProblem}); ` +
      'run `npx tfjs-focal-loss setup-tfjs-node` in this project to rebuild it');
  }
}

const COMMANDS = {
  'setup-tfjs-node': {
    summary: 'install @tensorflow/tfjs-node here, built against a local libtensorflow (offline)',
    help: `usage: npx ${PROGRAM} setup-tfjs-node

Installs @tensorflow/tfjs-node into this project (recorded in package.json) and makes it load
where its own install cannot download libtensorflow: builds its binding against the
tensorflow-cpu Python wheel's libtensorflow. Needs pip, and a C++ compiler, make and python3
unless an earlier build is cached (~/.cache/tfjs-focal-loss, TFJS_FOCAL_LOSS_CACHE). Where
tfjs-node already works it does nothing. A clean reinstall (CI, Docker) runs
  npm ci --ignore-scripts && npx ${PROGRAM} setup-tfjs-node
(docs/INSTALL.md). Environment: TFJS_FOCAL_LOSS_TF_WHEEL=/path/to.whl (no pip download),
TFJS_FOCAL_LOSS_TF_SPEC=tensorflow-cpu==2.21.0 (the wheel pip fetches).`,
    options: {},
    run: setupTfjsNodeCommand,
  },
  build: {
    summary: 'build the native addon from source (no prebuilt binary for this platform)',
    help: `usage: npx ${PROGRAM} build [--cmake-js | --gyp]

Builds the native addon from the shipped sources into
${path.join('node_modules', PROGRAM, 'build', 'Release')}, for a platform without a prebuilt
binary. Needs a C++17 compiler and cmake, or python3 + make. cmake-js first, node-gyp if it
fails; --cmake-js or --gyp: that route only.`,
    options: { 'cmake-js': { type: 'boolean' }, gyp: { type: 'boolean' } },
    run: buildCommand,
  },
  status: {
    summary: 'print versions, platform, binary and which path computes the losses (for bug reports)',
    help: `usage: npx ${PROGRAM} status [--json]

Prints this package's, tfjs's, tfjs-node's and libtensorflow's versions, the platform, the
native binary, the backend and which path computes the losses, and why. Run it in your project:
it loads your @tensorflow/tfjs-node when it is installed, and exits 1 with the fix when that
does not load.

  --json   the same as JSON, with nativeStatus() in full`,
    options: { json: { type: 'boolean' } },
    run: statusCommand,
  },
  compare: require('../dist/lib/compare/command').compareCommand,
};

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } };

function usage() {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: npx ${PROGRAM} <command> [options]

${lines.join('\n')}

  ${PROGRAM} <command> --help   help for one command
  ${PROGRAM} --version          this package's version`;
}

async function main(argv) {
  const at = argv.findIndex((a) => !a.startsWith('-'));
  const name = at === -1 ? undefined : argv[at];
  let global;
  try {
    global = parseArgs({ args: at === -1 ? argv : argv.slice(0, at), strict: true,
      options: { ...HELP_OPTION, version: { type: 'boolean', short: 'v' } } }).values;
  } catch (e) {
    console.error(`${PROGRAM}: ${e.message}\n\n${usage()}`);
    return 2;
  }
  if (global.version) {
    console.log(MANIFEST.version);
    return 0;
  }
  if (name === 'help') {
    const about = COMMANDS[argv[at + 1]];
    console.log(about ? about.help : usage());
    return 0;
  }
  if (name === undefined) {
    console.log(usage());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    console.error(`${PROGRAM}: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (global.help) {
    console.log(command.help);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv.slice(at + 1), options: { ...HELP_OPTION, ...command.options },
      allowPositionals: command.positionals === true, strict: true });
  } catch (e) {
    console.error(`${PROGRAM} ${name}: ${e.message} (see npx ${PROGRAM} ${name} --help)`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(command.help);
    return 0;
  }
  try {
    await command.run(parsed.values, parsed.positionals);
    return 0;
  } catch (e) {
    if (e instanceof CliError || (e && /^tfjs-focal-loss: /.test(e.message))) {
      console.error(`${PROGRAM} ${name}: ${e.message.replace(/^tfjs-focal-loss: /, '')}`);
      return e.exitCode ?? 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
