// Makes @tensorflow/tfjs-node (the `tensorflow` backend) work in a project where its own install
// step cannot: tfjs-node's install script downloads libtensorflow from a host that offline and
// firewalled machines cannot reach. This builds tfjs-node's binding against the libtensorflow that
// ships inside the `tensorflow-cpu` Python wheel (pip fetches it, from a local index if pip is set
// up for one): that wheel's libtensorflow_cc.so.2 exports the whole TF/TFE C API.
// The extracted libraries and the compiled binding are cached (TFJS_FOCAL_LOSS_CACHE, default
// $XDG_CACHE_HOME or ~/.cache, /tfjs-focal-loss), so a second project is set up in seconds.
//
// Used by `npx tfjs-focal-loss setup-tfjs-node` (scripts/cli.js) in a user's project, and by this
// repository's own `npm install` (scripts/prepare.js) so that a contributor's fresh clone gets the
// tensorflow backend. Where tfjs-node already works (the official download succeeded), nothing is
// touched.
//
// Environment:
//   TFJS_FOCAL_LOSS_TF_WHEEL=/path.whl use this tensorflow(-cpu) wheel instead of asking pip
//   TFJS_FOCAL_LOSS_TF_SPEC=spec       pip requirement of the wheel (default tensorflow-cpu==2.21.0)
//   TFJS_FOCAL_LOSS_CACHE=/dir         cache directory
'use strict';

const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// The TensorFlow release whose wheel provides libtensorflow. Any 2.x wheel with libtensorflow_cc.so.2
// works; this one is pinned so that the cache key and the behaviour are reproducible.
const TF_WHEEL_SPEC = process.env.TFJS_FOCAL_LOSS_TF_SPEC || 'tensorflow-cpu==2.21.0';
const TFJS_NODE = '@tensorflow/tfjs-node';
const PREFIX = 'tfjs-focal-loss:';

/** A reason the setup cannot go on; the CLI prints its message as one line. */
class SetupError extends Error {}

function log(msg) {
  console.log(`${PREFIX} ${msg}`);
}

function lastLine(text, pattern) {
  const lines = String(text || '').trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const matching = pattern ? lines.filter((l) => pattern.test(l)) : lines;
  return (matching.pop() || lines.pop() || '').slice(0, 300);
}

function run(cmd, args, opts = {}) {
  const r = cp.spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new SetupError(`${cmd} could not be run (${r.error.code || r.error.message})`);
  return r;
}

function onPath(cmd) {
  return cp.spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Loads tfjs-node in a child process run in `cwd` (a broken binding must not take this one down). */
function tfjsNodeWorks(cwd) {
  const probe = `const tf=require('${TFJS_NODE}');` +
    "if(tf.getBackend()!=='tensorflow')throw new Error('backend '+tf.getBackend());" +
    "tf.tidy(()=>tf.add(tf.scalar(1),tf.scalar(2)).dataSync());";
  const r = cp.spawnSync(process.execPath, ['-e', probe], { cwd, encoding: 'utf8' });
  return { ok: r.status === 0, why: lastLine(r.stderr, /Error/) };
}

function cacheRoot() {
  if (process.env.TFJS_FOCAL_LOSS_CACHE) return process.env.TFJS_FOCAL_LOSS_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tfjs-focal-loss');
}

function libtensorflowCacheDir() {
  const tag = TF_WHEEL_SPEC.replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(cacheRoot(), `libtensorflow-${tag}-${process.platform}-${process.arch}`);
}

function findPython() {
  for (const py of ['python3', 'python']) {
    const r = cp.spawnSync(py, ['-c', 'import pip, zipfile'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  throw new SetupError('no python3 with pip on PATH to fetch the tensorflow-cpu wheel ' +
    '(install python3 and python3-pip, or set TFJS_FOCAL_LOSS_TF_WHEEL to a downloaded wheel)');
}

const EXTRACT_PY = `
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
inc = 'tensorflow/include/'
keep = ('tensorflow/c/', 'tensorflow/core/platform/', 'tsl/platform/', 'xla/tsl/c/')
found = set()
with zipfile.ZipFile(wheel) as z:
    for m in z.infolist():
        if m.filename in libs:
            dest = os.path.join(out, 'lib', os.path.basename(m.filename)); found.add(m.filename)
        elif m.filename.startswith(inc) and m.filename[len(inc):].startswith(keep):
            dest = os.path.join(out, 'include', m.filename[len(inc):])
        else:
            continue
        if m.is_dir():
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(m) as src, open(dest, 'wb') as dst:
            while True:
                chunk = src.read(1 << 22)
                if not chunk: break
                dst.write(chunk)
missing = libs - found
if missing: sys.exit('wheel lacks ' + ', '.join(sorted(missing)))
`;

/**
 * Returns a cache directory holding lib/libtensorflow_cc.so.2, lib/libtensorflow_framework.so.2 and
 * include/ (the TF C API headers), extracting them from the tensorflow-cpu wheel on first use.
 */
function libtensorflowFromWheel() {
  const dir = libtensorflowCacheDir();
  if (fs.existsSync(path.join(dir, 'COMPLETE'))) {
    log(`reusing libtensorflow cached in ${dir}`);
    return dir;
  }
  const python = findPython();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-focal-loss-wheel-'));
  try {
    let wheel = process.env.TFJS_FOCAL_LOSS_TF_WHEEL;
    if (!wheel) {
      log(`fetching ${TF_WHEEL_SPEC} with pip to obtain libtensorflow (once; cached in ${cacheRoot()})`);
      // The shared libraries inside do not depend on the Python version, so ask for a wheel of a
      // fixed tag rather than the running interpreter's.
      const r = run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:',
        '--python-version', '3.11', '--implementation', 'cp',
        '--platform', 'manylinux_2_27_x86_64', '--platform', 'manylinux_2_17_x86_64',
        '--platform', 'manylinux2014_x86_64', '--disable-pip-version-check',
        '-d', tmp, TF_WHEEL_SPEC]);
      if (r.status !== 0) {
        throw new SetupError(`pip could not fetch ${TF_WHEEL_SPEC} (${lastLine(r.stderr || r.stdout)})`);
      }
      wheel = fs.readdirSync(tmp).filter((f) => f.endsWith('.whl')).map((f) => path.join(tmp, f))[0];
      if (!wheel) throw new SetupError(`pip fetched no wheel for ${TF_WHEEL_SPEC}`);
    }
    const staging = `${dir}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    log('extracting libtensorflow from the wheel');
    const r = run(python, ['-c', EXTRACT_PY, wheel, staging]);
    if (r.status !== 0) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw new SetupError(`could not extract libtensorflow from ${wheel} (${lastLine(r.stderr)})`);
    }
    fs.writeFileSync(path.join(staging, 'COMPLETE'), `${TF_WHEEL_SPEC}\n`);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
    return dir;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Hard link when the cache is on the same file system (robust to clearing the cache), else symlink. */
function linkOrSymlink(target, linkPath) {
  fs.rmSync(linkPath, { force: true });
  try {
    fs.linkSync(target, linkPath);
  } catch {
    fs.symlinkSync(target, linkPath);
  }
}

function cachedBindingDir(libDir, version) {
  return path.join(libDir, `tfjs-node-${version}`, 'lib');
}

/** What building tfjs-node's binding from source needs (unless a cached build is reused). */
function checkBuildTools() {
  const missing = [];
  if (!onPath('c++') && !onPath('g++')) missing.push('a C++ compiler (c++ or g++)');
  if (!onPath('make')) missing.push('make');
  if (!onPath('python3') && !onPath('python')) missing.push('python3');
  if (missing.length > 0) {
    throw new SetupError(`building the @tensorflow/tfjs-node binding needs ${missing.join(', ')} on ` +
      `PATH (Debian/Ubuntu: apt-get install g++ make python3)`);
  }
}

function npmNodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const r = cp.spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' });
  const v = (r.stdout || '').trim();
  if (v && v !== 'undefined' && v !== 'null') return v;
  // Distribution packages of Node ship the headers in /usr/include/node: node-gyp then needs no
  // download of them.
  return fs.existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined;
}

/** The tfjs-node package directory npm put into `projectDir`. */
function tfjsNodeDir(projectDir) {
  return path.join(projectDir, 'node_modules', '@tensorflow', 'tfjs-node');
}

/** Stages libtensorflow into tfjs-node's deps/ and builds (or restores from cache) its binding. */
function buildTfjsNodeBinding(projectDir, libDir, version) {
  const pkg = tfjsNodeDir(projectDir);
  const depsLib = path.join(pkg, 'deps', 'lib');
  fs.rmSync(path.join(pkg, 'deps'), { recursive: true, force: true });
  fs.mkdirSync(depsLib, { recursive: true });
  // tfjs-node links -ltensorflow -ltensorflow_framework and its scripts look for
  // libtensorflow.so.2.9.1; at run time the SONAMEs libtensorflow_cc.so.2 and
  // libtensorflow_framework.so.2 are resolved through the binding's rpath ($ORIGIN/../../deps/lib).
  for (const lib of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    linkOrSymlink(path.join(libDir, 'lib', lib), path.join(depsLib, lib));
  }
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(depsLib, 'libtensorflow.so'));
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(depsLib, 'libtensorflow.so.2.9.1'));
  fs.symlinkSync('libtensorflow_framework.so.2', path.join(depsLib, 'libtensorflow_framework.so'));
  fs.symlinkSync(path.join(libDir, 'include'), path.join(pkg, 'deps', 'include'));

  // node-pre-gyp picks the highest N-API version that both Node and tfjs-node support
  // (lib/napi-v8 on Node 20), so the binding is found by looking, not by computing the name.
  const builtBinding = () => {
    const libRoot = path.join(pkg, 'lib');
    const dirs = fs.existsSync(libRoot) ? fs.readdirSync(libRoot).filter((d) => /^napi-v\d+$/.test(d)) : [];
    return dirs.map((d) => path.join(libRoot, d, 'tfjs_binding.node')).find((f) => fs.existsSync(f));
  };
  const cached = cachedBindingDir(libDir, version);
  if (fs.existsSync(cached)) {
    fs.cpSync(cached, path.join(pkg, 'lib'), { recursive: true });
    if (builtBinding() && tfjsNodeWorks(projectDir).ok) {
      log(`reused the tfjs-node ${version} binding built earlier (cached in ${cached})`);
      return { verified: true };
    }
  }
  checkBuildTools();
  log('building the tfjs-node binding against it (about 20 s)');
  const env = { ...process.env };
  env.PATH = [path.join(pkg, 'node_modules', '.bin'), path.join(projectDir, 'node_modules', '.bin'),
    env.PATH].join(path.delimiter);
  const nodedir = npmNodedir();
  if (nodedir) env.npm_config_nodedir = nodedir;
  // tfjs-node's own install script: with deps/lib present it skips the download and, when no
  // prebuilt addon can be fetched, builds from source.
  const r = run(process.execPath, [path.join('scripts', 'install.js')], { cwd: pkg, env });
  if (r.status !== 0 || !builtBinding()) {
    throw new SetupError(`building the tfjs-node binding failed (${lastLine(`${r.stdout}\n${r.stderr}`, /rror/)})`);
  }
  try {
    fs.rmSync(cached, { recursive: true, force: true });
    fs.cpSync(path.join(pkg, 'lib'), cached, { recursive: true });
  } catch { /* a read-only cache only costs the next setup 20 s */ }
  return { verified: false };
}

/** The nearest directory at or above `start` that has a package.json, or undefined. */
function findProject(start) {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The version of `name` installed in `projectDir`, or undefined. */
function installedVersion(projectDir, name) {
  try {
    const pj = require.resolve(`${name}/package.json`, { paths: [projectDir] });
    return JSON.parse(fs.readFileSync(pj, 'utf8')).version;
  } catch {
    return undefined;
  }
}

function npmCommand() {
  const npm = process.env.npm_execpath;
  return npm && /npm-cli\.js$/.test(npm) ? [process.execPath, [npm]] : ['npm', []];
}

/** Which package.json section already lists tfjs-node (npm keeps it there), as an npm flag. */
function saveFlag(manifest) {
  if ((manifest.optionalDependencies || {})[TFJS_NODE]) return '--save-optional';
  if ((manifest.devDependencies || {})[TFJS_NODE]) return '--save-dev';
  return '--save-prod';
}

/**
 * This repository's own install (save false): npm will not add a package the root lists as an
 * optional peer without recording it, so its dependencies are npm-installed without saving and
 * the package itself is unpacked from the registry's tarball next to them.
 */
function installUnsaved(projectDir, version, cmd, pre) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-focal-loss-tfjs-node-'));
  try {
    const r = run(cmd, [...pre, 'pack', '--silent', `${TFJS_NODE}@${version}`, '--pack-destination', tmp], { cwd: tmp });
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (r.status !== 0 || !tgz) return `npm pack ${TFJS_NODE}@${version} failed (${lastLine(r.stderr)})`;
    const unpacked = path.join(tmp, 'unpacked');
    fs.mkdirSync(unpacked);
    const t = run('tar', ['-xzf', path.join(tmp, tgz), '-C', unpacked]);
    if (t.status !== 0) return `could not unpack ${tgz} (${lastLine(t.stderr)})`;
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'package', 'package.json'), 'utf8'));
    const deps = Object.entries(manifest.dependencies || {}).map(([n, v]) => `${n}@${v}`);
    const i = run(cmd, [...pre, 'install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', ...deps], { cwd: projectDir });
    if (i.status !== 0) return `npm could not install the dependencies of ${TFJS_NODE} (${lastLine(i.stderr, /ERR/)})`;
    const dest = tfjsNodeDir(projectDir);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.renameSync(path.join(unpacked, 'package'), dest);
    return null;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * npm-installs tfjs-node@version into projectDir without running its install script. save: record
 * it in package.json (a user's project); otherwise leave package.json alone (this repository).
 * Returns a function that puts package.json, the lock file and node_modules back as they were.
 */
function installTfjsNodePackage(projectDir, version, save) {
  const manifestPath = path.join(projectDir, 'package.json');
  const lockPath = path.join(projectDir, 'package-lock.json');
  const manifestBefore = fs.readFileSync(manifestPath);
  const lockBefore = fs.existsSync(lockPath) ? fs.readFileSync(lockPath) : null;
  const wasInstalled = fs.existsSync(path.join(tfjsNodeDir(projectDir), 'package.json'));
  const [cmd, pre] = npmCommand();
  const manifest = JSON.parse(manifestBefore.toString('utf8'));
  const recorded = ['dependencies', 'optionalDependencies', 'devDependencies']
    .some((section) => (manifest[section] || {})[TFJS_NODE] !== undefined);
  if (wasInstalled && installedVersion(projectDir, TFJS_NODE) === version && (recorded || !save)) {
    // `npm ci --ignore-scripts` of a project set up before: the package is there, only its
    // binding is missing. Nothing to install, nothing to undo.
    log(`${TFJS_NODE}@${version} is installed (without its install script): building only its binding`);
    return () => {};
  }
  const rollback = () => {
    if (!wasInstalled) {
      if (save) {
        run(cmd, [...pre, 'uninstall', '--ignore-scripts', '--no-audit', '--no-fund', TFJS_NODE], { cwd: projectDir });
      } else {
        fs.rmSync(tfjsNodeDir(projectDir), { recursive: true, force: true });
      }
    }
    fs.writeFileSync(manifestPath, manifestBefore);
    if (lockBefore !== null) fs.writeFileSync(lockPath, lockBefore);
  };
  let problem = null;
  if (save) {
    const flag = saveFlag(manifest);
    log(`npm install ${flag} --ignore-scripts ${TFJS_NODE}@${version} (in ${projectDir}; its own ` +
      'install script would try to download libtensorflow)');
    const r = run(cmd, [...pre, 'install', flag, '--ignore-scripts', '--no-audit', '--no-fund',
      `${TFJS_NODE}@${version}`], { cwd: projectDir });
    if (r.status !== 0) problem = `npm could not install ${TFJS_NODE}@${version} (${lastLine(r.stderr, /ERR/)})`;
  } else {
    log(`installing ${TFJS_NODE}@${version} into ${projectDir} without saving it and without its ` +
      'install script (which would try to download libtensorflow)');
    problem = installUnsaved(projectDir, version, cmd, pre);
  }
  if (problem === null && !fs.existsSync(path.join(tfjsNodeDir(projectDir), 'package.json'))) {
    problem = `npm did not install ${TFJS_NODE}@${version} into ${projectDir}`;
  }
  if (problem !== null) {
    rollback();
    throw new SetupError(problem);
  }
  return rollback;
}

/**
 * Sets up tfjs-node in `projectDir`. Options: save (record it in package.json), version (default:
 * the installed @tensorflow/tfjs's, so that npm deduplicates tfjs), peerRange (a check of that
 * version). Throws SetupError with a one-line reason when it cannot.
 */
function setupTfjsNode({ projectDir, save, defaultVersion, supportsVersion }) {
  const before = tfjsNodeWorks(projectDir);
  if (before.ok) {
    log(`${TFJS_NODE} already works in ${projectDir} (backend 'tensorflow'); nothing to do`);
    return { changed: false };
  }
  const tfjsVersion = installedVersion(projectDir, '@tensorflow/tfjs') ||
    installedVersion(projectDir, '@tensorflow/tfjs-core');
  const version = installedVersion(projectDir, TFJS_NODE) || tfjsVersion || defaultVersion;
  if (supportsVersion && !supportsVersion(version)) {
    throw new SetupError(`this project has @tensorflow/tfjs ${version}, outside the range ` +
      'tfjs-focal-loss supports (>=4.20.0 <5): upgrade it (npm install @tensorflow/tfjs@4) first');
  }
  log(`${TFJS_NODE} does not load here${before.why ? ` (${before.why})` : ''}: building it against ` +
    `the libtensorflow of the ${TF_WHEEL_SPEC} wheel`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SetupError(`the tensorflow-cpu wheel route supports linux-x64 only (this is ` +
      `${process.platform}-${process.arch}); install ${TFJS_NODE} normally, its install script ` +
      'downloads libtensorflow');
  }
  // Everything that can fail without touching the project goes first.
  const libDir = libtensorflowFromWheel();
  if (!fs.existsSync(cachedBindingDir(libDir, version))) checkBuildTools();
  const rollback = installTfjsNodePackage(projectDir, version, save);
  try {
    if (!buildTfjsNodeBinding(projectDir, libDir, version).verified) {
      const after = tfjsNodeWorks(projectDir);
      if (!after.ok) throw new SetupError(`${TFJS_NODE} still does not load (${after.why})`);
    }
  } catch (e) {
    log(`undoing the install of ${TFJS_NODE}`);
    rollback();
    throw e;
  }
  log(`${TFJS_NODE}@${version} works in ${projectDir} (backend 'tensorflow', libtensorflow of ${TF_WHEEL_SPEC})`);
  if (save) {
    // tfjs-node's own install script runs again on every clean install and downloads libtensorflow.
    log('a clean reinstall of this project (CI, Docker, a fresh clone) without access to that ' +
      'download: `npm ci --ignore-scripts && npx tfjs-focal-loss setup-tfjs-node` (docs/INSTALL.md)');
  }
  return { changed: true, version };
}

module.exports = { SetupError, setupTfjsNode, findProject, installedVersion, tfjsNodeWorks, cacheRoot, log };
