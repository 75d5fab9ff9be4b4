#!/usr/bin/env node
// `npm pack` / `npm publish` (prepack): builds the N-API addon that ships in the package as
// prebuilds/<platform>-<arch>/focal_loss.node, so that users need no compiler. postpack
// (`--clean`) removes it again: in a checkout, a stale prebuilt would shadow the contributor's own
// build/Release (the loader tries the prebuilt first).
//
// The binary is built from binding.gyp (node-gyp, in a scratch copy so build/ stays untouched) with
// libstdc++ linked statically and glibc calls bound to old symbol versions (prebuild/glibc_compat.cc),
// then checked: it must load, compute, and need no glibc newer than MAX_GLIBC and no libstdc++.
// One binary serves every x86-64 CPU: the AVX-512 / AVX2 / generic choice is made at run time.
'use strict';

const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const TARGET = `${process.platform}-${process.arch}`;
const OUT_DIR = path.join(ROOT, 'prebuilds', TARGET);
// CentOS 7 / RHEL 7 / manylinux2014 (clock_gettime is the newest symbol the addon needs).
const MAX_GLIBC = '2.17';
// glibc functions whose default version on the build machine is newer than MAX_GLIBC.
const WRAPPED = ['pthread_create', 'pthread_join', 'pthread_detach', 'pthread_once',
  'pthread_key_create', '__pthread_key_create', 'pthread_key_delete', 'pthread_getspecific',
  'pthread_setspecific', 'pthread_mutex_trylock', 'dlopen', 'dlsym', 'exp', 'log', 'pow', 'memcpy',
  'getentropy', 'arc4random'];

function fail(msg) {
  console.error(`tfjs-focal-loss prebuild: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = cp.spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error || r.status !== 0) {
    const out = `${r.stdout || ''}\n${r.stderr || ''}`.trim().split('\n').slice(-25).join('\n');
    fail(`${cmd} ${args.join(' ')} failed${r.error ? ` (${r.error.message})` : ''}\n${out}`);
  }
  return r.stdout;
}

function versionLess(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) < (pb[i] || 0);
  }
  return false;
}

/** The symbol versions the binary needs: {glibc: ['2.2.5', ...], other: ['GLIBCXX_3.4.30', ...]}. */
function requiredVersions(file) {
  const dump = run('objdump', ['-T', file]);
  const versions = new Set(dump.match(/\((GLIBC|GLIBCXX|CXXABI)_[0-9.]+\)/g) || []);
  const glibc = [];
  const other = [];
  for (const v of versions) {
    const name = v.slice(1, -1);
    if (name.startsWith('GLIBC_')) glibc.push(name.slice(6)); else other.push(name);
  }
  glibc.sort((a, b) => (versionLess(a, b) ? -1 : versionLess(b, a) ? 1 : 0));
  return { glibc, other };
}

function nodeGypBin() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [ROOT] }));
  } catch { /* not installed: npm's own copy below */ }
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm',
    'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c && fs.existsSync(c));
}

function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  return fs.existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined;
}

function build() {
  const gyp = nodeGypBin();
  if (!gyp) fail('node-gyp not found (npm install in the repository installs it)');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-focal-loss-prebuild-'));
  try {
    for (const entry of ['native', 'binding.gyp', 'package.json']) {
      fs.cpSync(path.join(ROOT, entry), path.join(work, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'));
    const env = { ...process.env };
    const linux = process.platform === 'linux';
    if (linux) {
      const compat = path.join(work, 'glibc_compat.o');
      run(process.env.CXX || 'c++', ['-O2', '-fPIC', '-std=c++17', '-c',
        path.join(__dirname, 'prebuild', 'glibc_compat.cc'), '-o', compat]);
      env.LDFLAGS = ['-static-libstdc++', '-Wl,--exclude-libs,ALL', '-s', compat,
        ...WRAPPED.map((name) => `-Wl,--wrap=${name}`)].join(' ');
    }
    const dir = nodedir();
    console.log(`tfjs-focal-loss prebuild: node-gyp rebuild for ${TARGET}`);
    run(process.execPath, [gyp, 'rebuild', '--release', ...(dir ? [`--nodedir=${dir}`] : [])],
      { cwd: work, env });
    const built = path.join(work, 'build', 'Release', 'focal_loss.node');
    if (linux) {
      const { glibc, other } = requiredVersions(built);
      const newest = glibc[glibc.length - 1];
      if (other.length > 0) fail(`the binary needs ${other.join(', ')} (libstdc++ must be linked statically)`);
      if (newest && versionLess(MAX_GLIBC, newest)) {
        fail(`the binary needs GLIBC_${newest} (at most ${MAX_GLIBC} allowed): ` +
          `a glibc function is missing from WRAPPED / prebuild/glibc_compat.cc ` +
          `(objdump -T ${built} | grep GLIBC_${newest})`);
      }
      console.log(`tfjs-focal-loss prebuild: needs glibc >= ${newest}, no libstdc++ (static)`);
    }
    // It must load and compute in a fresh Node process.
    run(process.execPath, ['-e', `
      const a = require(${JSON.stringify(built)});
      const lossOut = new Float32Array(2), gradOut = new Float32Array(6);
      a.softmaxFocalLoss({logits: Float32Array.of(1, 2, 3, 0, 0, 9), labels: Int32Array.of(2, 0),
        rows: 2, classes: 3, gamma: 2, alpha: 0.25, labelSmoothing: 0, ignoreIndex: null,
        fromLogits: true, lossOut, gradOut});
      if (!(lossOut[0] > 0 && lossOut[1] > 1)) throw new Error('wrong loss ' + lossOut);
      console.log('tfjs-focal-loss prebuild: loads, simd ' + a.simdLevel());`], { stdio: 'inherit' });
    fs.rmSync(OUT_DIR, { recursive: true, force: true });
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.copyFileSync(built, path.join(OUT_DIR, 'focal_loss.node'));
    console.log(`tfjs-focal-loss prebuild: ${path.relative(ROOT, OUT_DIR)}/focal_loss.node ` +
      `(${fs.statSync(built).size} bytes)`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv.includes('--clean')) {
  fs.rmSync(path.join(ROOT, 'prebuilds'), { recursive: true, force: true });
} else {
  build();
}
