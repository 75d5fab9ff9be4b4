#!/usr/bin/env node
// postinstall: make sure @tensorflow/tfjs-node (the `tensorflow` backend) works after `npm install`.
//
// tfjs-node is an optional dependency. With internet, npm installs it and its own install script
// downloads libtensorflow: we touch nothing. Where that download host is unreachable, its install
// script fails and npm removes the package. Then, instead of giving up, we build tfjs-node's binding
// against the libtensorflow that ships inside the `tensorflow-cpu` Python wheel (pip can fetch it
// from the local index): the wheel's libtensorflow_cc.so.2 exports the whole TF/TFE C API.
// The extracted libraries (and the compiled binding) are cached in the user's cache directory, so
// a second fresh install reuses them in seconds. If neither way works, install still succeeds and
// prints one line saying why; the library then runs on the pure-JS `cpu` backend.
//
// Environment:
//   TFJS_FOCAL_LOSS_SKIP_TFJS_NODE=1   do nothing (pure-JS `cpu` backend only)
//   TFJS_FOCAL_LOSS_TF_WHEEL=/path.whl use this tensorflow(-cpu) wheel instead of asking pip
//   TFJS_FOCAL_LOSS_CACHE=/dir         cache directory (default: $XDG_CACHE_HOME or ~/.cache, /tfjs-focal-loss)
'use strict';

const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const TFJS_NODE_VERSION = require(path.join(ROOT, 'package.json')).optionalDependencies['@tensorflow/tfjs-node'];
// The TensorFlow release whose wheel provides libtensorflow. Any 2.x wheel with libtensorflow_cc.so.2
// works; this one is pinned so that the cache key and the behaviour are reproducible.
const TF_WHEEL_SPEC = process.env.TFJS_FOCAL_LOSS_TF_SPEC || 'tensorflow-cpu==2.21.0';
const PREFIX = 'tfjs-focal-loss:';

function log(msg) {
  console.log(`${PREFIX} ${msg}`);
}

/** Fails the fallback with a reason that ends up in the one-line summary. */
class Unavailable extends Error {}

function run(cmd, args, opts = {}) {
  const r = cp.spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Unavailable(`${cmd} could not be run (${r.error.code || r.error.message})`);
  return r;
}

/** Loads tfjs-node in a child process (a broken binding must not take this process down). */
function tfjsNodeWorks(cwd = ROOT) {
  const probe = "const tf=require('@tensorflow/tfjs-node');" +
    "if(tf.getBackend()!=='tensorflow')throw new Error('backend '+tf.getBackend());" +
    "tf.tidy(()=>tf.add(tf.scalar(1),tf.scalar(2)).dataSync());";
  const r = cp.spawnSync(process.execPath, ['-e', probe], { cwd, encoding: 'utf8' });
  const lastLine = (r.stderr || '').trim().split('\n').filter((l) => /Error/.test(l)).pop() || '';
  return { ok: r.status === 0, why: lastLine.trim() };
}

function cacheRoot() {
  if (process.env.TFJS_FOCAL_LOSS_CACHE) return process.env.TFJS_FOCAL_LOSS_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tfjs-focal-loss');
}

function findPython() {
  for (const py of ['python3', 'python']) {
    const r = cp.spawnSync(py, ['-c', 'import pip, zipfile'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  throw new Unavailable('no python3 with pip to fetch the tensorflow-cpu wheel');
}

/**
 * Returns a cache directory holding lib/libtensorflow_cc.so.2, lib/libtensorflow_framework.so.2 and
 * include/ (the TF C API headers), extracting them from the tensorflow-cpu wheel on first use.
 */
function libtensorflowFromWheel() {
  const tag = TF_WHEEL_SPEC.replace(/[^A-Za-z0-9._-]/g, '_');
  const dir = path.join(cacheRoot(), `libtensorflow-${tag}-${process.platform}-${process.arch}`);
  if (fs.existsSync(path.join(dir, 'COMPLETE'))) {
    log(`reusing libtensorflow cached in ${dir}`);
    return dir;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Unavailable(`the tensorflow-cpu wheel fallback supports linux-x64 only (this is ${process.platform}-${process.arch})`);
  }
  const python = findPython();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-focal-loss-wheel-'));
  try {
    let wheel = process.env.TFJS_FOCAL_LOSS_TF_WHEEL;
    if (!wheel) {
      log(`fetching ${TF_WHEEL_SPEC} with pip to obtain libtensorflow (once; cached afterwards)`);
      // The shared libraries inside do not depend on the Python version, so ask for a wheel of a
      // fixed tag rather than the running interpreter's.
      const r = run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:',
        '--python-version', '3.11', '--implementation', 'cp',
        '--platform', 'manylinux_2_27_x86_64', '--platform', 'manylinux_2_17_x86_64',
        '--platform', 'manylinux2014_x86_64', '--disable-pip-version-check',
        '-d', tmp, TF_WHEEL_SPEC]);
      if (r.status !== 0) {
        const err = (r.stderr || r.stdout || '').trim().split('\n').pop();
        throw new Unavailable(`pip could not fetch ${TF_WHEEL_SPEC} (${err})`);
      }
      wheel = fs.readdirSync(tmp).filter((f) => f.endsWith('.whl')).map((f) => path.join(tmp, f))[0];
      if (!wheel) throw new Unavailable(`pip fetched no wheel for ${TF_WHEEL_SPEC}`);
    }
    const staging = `${dir}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    // Only the two shared libraries and the C API headers are needed (not the 15k Python files).
    const extract = `
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
    log('extracting libtensorflow from the wheel');
    const r = run(python, ['-c', extract, wheel, staging]);
    if (r.status !== 0) throw new Unavailable(`could not extract libtensorflow (${(r.stderr || '').trim().split('\n').pop()})`);
    fs.writeFileSync(path.join(staging, 'COMPLETE'), `${TF_WHEEL_SPEC}\n`);
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

function tfjsNodeDir() {
  return path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
}

/** npm removed tfjs-node after its install script failed: put it back without running that script. */
function reinstallTfjsNodePackage() {
  if (fs.existsSync(path.join(tfjsNodeDir(), 'package.json')) &&
      fs.existsSync(path.join(ROOT, 'node_modules', '@mapbox', 'node-pre-gyp'))) return;
  log(`reinstalling @tensorflow/tfjs-node@${TFJS_NODE_VERSION} without its download step`);
  const npm = process.env.npm_execpath;
  const [cmd, pre] = npm && npm.endsWith('.js') ? [process.execPath, [npm]] : ['npm', []];
  const r = run(cmd, [...pre, 'install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund',
    '--no-package-lock', `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`], { cwd: ROOT });
  if (r.status !== 0 || !fs.existsSync(path.join(tfjsNodeDir(), 'package.json'))) {
    throw new Unavailable(`npm could not reinstall @tensorflow/tfjs-node (${(r.stderr || '').trim().split('\n').pop()})`);
  }
}

function npmNodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const r = cp.spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' });
  const v = (r.stdout || '').trim();
  return v && v !== 'undefined' && v !== 'null' ? v : undefined;
}

/** Stages libtensorflow into tfjs-node's deps/ and builds (or restores from cache) its binding. */
function buildTfjsNodeBinding(libDir) {
  const pkg = tfjsNodeDir();
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
    const found = dirs.map((d) => path.join(libRoot, d, 'tfjs_binding.node')).filter((f) => fs.existsSync(f));
    return found[0];
  };
  const cachedBinding = path.join(libDir, `tfjs-node-${TFJS_NODE_VERSION}`, 'lib');
  if (fs.existsSync(cachedBinding)) {
    fs.cpSync(cachedBinding, path.join(pkg, 'lib'), { recursive: true });
    if (builtBinding() && tfjsNodeWorks().ok) {
      log('reused the tfjs-node binding built on an earlier install');
      return;
    }
  }
  log('building the tfjs-node binding against it (about 20 s)');
  const env = { ...process.env };
  env.PATH = [path.join(pkg, 'node_modules', '.bin'), path.join(ROOT, 'node_modules', '.bin'), env.PATH].join(path.delimiter);
  const nodedir = npmNodedir();
  if (nodedir) env.npm_config_nodedir = nodedir;
  // tfjs-node's own install script: with deps/lib present it skips the download and, when no
  // prebuilt addon can be fetched, builds from source.
  const r = run(process.execPath, [path.join('scripts', 'install.js')], { cwd: pkg, env });
  if (r.status !== 0 || !builtBinding()) {
    const err = `${r.stdout}\n${r.stderr}`.trim().split('\n').filter((l) => /rror/.test(l)).pop() || `exit ${r.status}`;
    throw new Unavailable(`building the tfjs-node binding failed (${err.trim()})`);
  }
  try {
    fs.rmSync(cachedBinding, { recursive: true, force: true });
    fs.cpSync(path.join(pkg, 'lib'), cachedBinding, { recursive: true });
  } catch { /* a read-only cache only costs the next install 20 s */ }
}

function main() {
  if (process.env.TFJS_FOCAL_LOSS_SKIP_TFJS_NODE) {
    log("TFJS_FOCAL_LOSS_SKIP_TFJS_NODE is set: @tensorflow/tfjs-node not set up; the library will use the pure-JS 'cpu' backend");
    return;
  }
  const first = tfjsNodeWorks();
  if (first.ok) {
    log("@tensorflow/tfjs-node works (backend 'tensorflow')");
    return;
  }
  try {
    const libDir = libtensorflowFromWheel();
    reinstallTfjsNodePackage();
    buildTfjsNodeBinding(libDir);
    const after = tfjsNodeWorks();
    if (!after.ok) throw new Unavailable(`tfjs-node still does not load (${after.why})`);
    log("@tensorflow/tfjs-node built against the tensorflow-cpu wheel's libtensorflow works (backend 'tensorflow')");
  } catch (e) {
    if (!(e instanceof Unavailable)) throw e;
    log(`@tensorflow/tfjs-node is unavailable: its libtensorflow download failed and ${e.message}; the library will use the pure-JS 'cpu' backend`);
  }
}

try {
  main();
} catch (e) {
  // Never fail the install over the optional backend.
  log(`@tensorflow/tfjs-node is unavailable (unexpected error: ${e && e.message}); the library will use the pure-JS 'cpu' backend`);
}
