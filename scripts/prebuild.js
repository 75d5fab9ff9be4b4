#!/usr/bin/env node
// `npm pack` / `npm publish` (prepack): builds the N-API addons that ship in the package, so that
// users need no compiler:
//   prebuilds/linux-x64/focal_loss.glibc.node     node-gyp (binding.gyp), x86_64-linux-gnu-g++
//   prebuilds/linux-arm64/focal_loss.glibc.node   node-gyp (binding.gyp), aarch64-linux-gnu-g++
//   prebuilds/win32-x64/focal_loss.node           binding.gyp's sources and flags, mingw-w64 g++
// (prebuildify's layout: <platform>-<arch>/<name>[.<libc>].node; lib/native.ts loads by it).
// postpack (`--clean`) removes them again: in a checkout, a stale prebuilt would shadow the
// contributor's own build/Release (the loader tries the prebuilt first).
//
// Linux binaries link libstdc++ statically and bind glibc calls to the architecture's oldest
// symbol versions (prebuild/glibc_compat.cc); the glibc floor read off each binary (objdump -T)
// must be at most MAX_GLIBC, and no libstdc++ symbol may remain. The Windows binary is linked
// statically too and may import only ALLOWED_DLLS (objdump -p). The binary for this machine must
// also load and compute here; the others are run by .ci/platforms.sh (qemu-user, wine).
// Every x86-64 binary holds the AVX-512 / AVX2 / generic kernels and picks one at run time.
//
// All targets or none: a machine without a cross toolchain stops the pack with the apt-get line,
// unless TFJS_FOCAL_LOSS_PARTIAL_PACK=1 (never under CI) packs only the targets it can build.
'use strict';

const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const PARTIAL_ENV = 'TFJS_FOCAL_LOSS_PARTIAL_PACK';
// CentOS 7 / RHEL 7 / manylinux2014 on both architectures.
const MAX_GLIBC = '2.17';
// glibc functions whose default version on the build machine is newer than MAX_GLIBC.
const WRAPPED = ['pthread_create', 'pthread_join', 'pthread_detach', 'pthread_once',
  'pthread_key_create', '__pthread_key_create', 'pthread_key_delete', 'pthread_getspecific',
  'pthread_setspecific', 'pthread_mutex_trylock', 'dlopen', 'dlsym', 'exp', 'log', 'pow', 'memcpy',
  'getentropy', 'arc4random'];
// What the Windows binary may import: the OS, the C runtime every Windows has, and Node itself
// (the N-API functions, delay-loaded through prebuild/win_delay_load_hook.cc).
const ALLOWED_DLLS = ['kernel32.dll', 'msvcrt.dll', 'node.exe'];

/** The shipped binaries: where each goes, and the toolchain that builds it. */
const TARGETS = [
  { platform: 'linux', arch: 'x64', libc: 'glibc', triple: 'x86_64-linux-gnu', apt: 'g++' },
  { platform: 'linux', arch: 'arm64', libc: 'glibc', triple: 'aarch64-linux-gnu', apt: 'g++-aarch64-linux-gnu' },
  { platform: 'win32', arch: 'x64', libc: null, triple: 'x86_64-w64-mingw32',
    apt: 'g++-mingw-w64-x86-64-posix', cxxSuffix: '-posix' },
];

/** prebuilds/<platform>-<arch>/focal_loss[.<libc>].node, relative to the package root. */
function prebuiltPath(target) {
  const name = target.libc ? `focal_loss.${target.libc}.node` : 'focal_loss.node';
  return path.join('prebuilds', `${target.platform}-${target.arch}`, name);
}

class PrebuildError extends Error {}

function run(cmd, args, opts = {}) {
  const r = cp.spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error || r.status !== 0) {
    const out = `${r.stdout || ''}\n${r.stderr || ''}`.trim().split('\n').slice(-25).join('\n');
    throw new PrebuildError(`${cmd} ${args.join(' ')} failed${r.error ? ` (${r.error.message})` : ''}\n${out}`);
  }
  return r.stdout;
}

function onPath(cmd) {
  return cp.spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

function tool(target, name) {
  return `${target.triple}-${name}${name === 'g++' || name === 'gcc' ? target.cxxSuffix || '' : ''}`;
}

function versionLess(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) < (pb[i] || 0);
  }
  return false;
}

/** The symbol versions an ELF binary needs: {glibc: ['2.2.5', ...] sorted, other: ['GLIBCXX_3.4.30', ...]}. */
function requiredVersions(objdump, file) {
  const dump = run(objdump, ['-T', file]);
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

/** The DLLs a PE binary imports, directly or delay-loaded (objdump -p), as written in the file. */
function importedDlls(objdump, file) {
  const dump = run(objdump, ['-p', file]);
  return [...new Set([...dump.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]))];
}

/** The floor check of one built binary; returns its one-line description. */
function checkFloor(target, built) {
  const objdump = tool(target, 'objdump');
  if (target.platform === 'win32') {
    const dlls = importedDlls(objdump, built);
    const extra = dlls.filter((d) => !ALLOWED_DLLS.includes(d.toLowerCase()));
    if (extra.length > 0) {
      throw new PrebuildError(`${prebuiltPath(target)} imports ${dlls.join(', ')}; only ` +
        `${ALLOWED_DLLS.join(', ')} are allowed (link the C++ runtime statically: -static)`);
    }
    // GNU ld leaves the PE delay-import directory empty (the delay descriptors are plain data that
    // the helper reads), so objdump does not list node.exe: its name must be in the file instead.
    if (!fs.readFileSync(built).includes('node.exe\0')) {
      throw new PrebuildError(`${prebuiltPath(target)} does not delay-load node.exe (N-API)`);
    }
    return `imports ${dlls.join(', ')}, delay-loads node.exe`;
  }
  const { glibc, other } = requiredVersions(objdump, built);
  const newest = glibc[glibc.length - 1];
  if (other.length > 0) {
    throw new PrebuildError(`${prebuiltPath(target)} needs ${other.join(', ')} (libstdc++ must be linked statically)`);
  }
  if (!newest || versionLess(MAX_GLIBC, newest)) {
    throw new PrebuildError(`${prebuiltPath(target)} needs GLIBC_${newest} (at most ${MAX_GLIBC} ` +
      `allowed): a glibc function is missing from WRAPPED / prebuild/glibc_compat.cc ` +
      `(${objdump} -T ${built} | grep GLIBC_${newest})`);
  }
  return `needs glibc >= ${newest}, no libstdc++ (static)`;
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

function packageDir(name) {
  return path.dirname(require.resolve(`${name}/package.json`, { paths: [ROOT] }));
}

/** binding.gyp as data (gyp files are Python literals: '#' comments and trailing commas). */
function readGyp() {
  const text = fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8').split('\n')
    .filter((line) => !/^\s*#/.test(line)).join('\n').replace(/,(\s*[}\]])/g, '$1');
  return JSON.parse(text);
}

/** A Linux target: node-gyp on binding.gyp with the target's cross compiler. */
function buildLinux(target, work) {
  const gyp = nodeGypBin();
  if (!gyp) throw new PrebuildError('node-gyp not found (npm install in the repository installs it)');
  const cxx = tool(target, 'g++');
  const compat = path.join(work, 'glibc_compat.o');
  run(cxx, ['-O2', '-fPIC', '-std=c++17', '-c', path.join(__dirname, 'prebuild', 'glibc_compat.cc'), '-o', compat]);
  const env = {
    ...process.env, CXX: cxx, CC: tool(target, 'gcc'), LINK: cxx, AR: tool(target, 'ar'),
    LDFLAGS: ['-static-libstdc++', '-Wl,--exclude-libs,ALL', '-s', compat,
      ...WRAPPED.map((name) => `-Wl,--wrap=${name}`)].join(' '),
  };
  const dir = nodedir();
  run(process.execPath, [gyp, 'rebuild', '--release', `--arch=${target.arch}`, `-j`, String(os.cpus().length),
    ...(dir ? [`--nodedir=${dir}`] : [])], { cwd: work, env });
  return path.join(work, 'build', 'Release', 'focal_loss.node');
}

/** Runs `commands` ([cmd, args]) two at a time (the machine's cores), rejecting on the first failure. */
async function runAll(commands) {
  let next = 0;
  const worker = async () => {
    while (next < commands.length) {
      const [cmd, args] = commands[next++];
      await new Promise((resolve, reject) => {
        cp.execFile(cmd, args, { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
          if (error) reject(new PrebuildError(`${cmd} ${args.join(' ')} failed\n${stderr}`)); else resolve();
        });
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(2, os.cpus().length)) }, worker));
}

/**
 * The Windows target: binding.gyp's sources, defines and per-instruction-set flags, compiled with
 * mingw-w64 (node-gyp cannot cross-compile to Windows), linked against an import library for
 * node.exe made from node-api-headers' node_api.def, delay-loaded.
 */
async function buildWindows(target, work) {
  const gyp = readGyp();
  const defaults = gyp.target_defaults;
  const main = gyp.targets.find((t) => t.target_name === 'focal_loss');
  const isaTargets = gyp.conditions.find((c) => c[0] === "target_arch == 'x64'")[1].targets;
  const headers = packageDir('node-api-headers');
  const cxx = tool(target, 'g++');
  const common = ['-c', ...defaults.cflags_cc, ...defaults.defines.map((d) => `-D${d}`),
    `-I${packageDir('node-addon-api')}`, `-I${path.join(headers, 'include')}`, `-I${path.join(ROOT, 'native')}`];
  const units = [
    ...main.sources.map((s) => ({ source: s, flags: [] })),
    ...isaTargets.flatMap((t) => t.sources.map((s) => ({ source: s, flags: t.cflags_cc.filter((f) => f !== '-fPIC') }))),
    { source: path.join(__dirname, 'prebuild', 'win_delay_load_hook.cc'), flags: [] },
  ];
  const objects = units.map((u, i) => path.join(work, `${i}-${path.basename(u.source, '.cc')}.o`));
  await runAll(units.map((u, i) => [cxx, [...common, ...u.flags, path.resolve(ROOT, u.source), '-o', objects[i]]]));
  const importLib = path.join(work, 'libnode_delay.a');
  run(tool(target, 'dlltool'), ['-d', path.join(headers, 'def', 'node_api.def'), '-D', 'node.exe',
    '-y', importLib]);
  const built = path.join(work, 'focal_loss.node');
  run(cxx, ['-shared', '-s', '-static', '-static-libgcc', '-static-libstdc++', '-o', built, ...objects,
    importLib]);
  return built;
}

/** The built binary loads in a fresh Node process and computes (only for this machine's target). */
function smokeTest(built) {
  const out = run(process.execPath, ['-e', `
    const a = require(${JSON.stringify(built)});
    const lossOut = new Float32Array(2), gradOut = new Float32Array(6);
    a.softmaxFocalLoss({logits: Float32Array.of(1, 2, 3, 0, 0, 9), labels: Int32Array.of(2, 0),
      rows: 2, classes: 3, gamma: 2, alpha: 0.25, labelSmoothing: 0, ignoreIndex: null,
      fromLogits: true, lossOut, gradOut});
    if (!(lossOut[0] > 0 && lossOut[1] > 1)) throw new Error('wrong loss ' + lossOut);
    console.log('loads, simd ' + a.simdLevel());`]);
  return out.trim();
}

function missingTools(target) {
  const needed = target.platform === 'win32' ? ['g++', 'dlltool', 'objdump'] : ['g++', 'gcc', 'ar', 'objdump'];
  return needed.map((n) => tool(target, n)).filter((cmd) => !onPath(cmd));
}

async function buildAll() {
  const partial = process.env[PARTIAL_ENV] === '1';
  if (partial && process.env.CI) throw new PrebuildError(`${PARTIAL_ENV} is not allowed under CI: CI packs every target`);
  const missing = TARGETS.map((t) => ({ t, tools: missingTools(t) })).filter((m) => m.tools.length > 0);
  if (missing.length > 0 && !partial) {
    throw new PrebuildError(`the toolchains for ${missing.map((m) => `${m.t.platform}-${m.t.arch}`).join(', ')} ` +
      `are missing (${missing.flatMap((m) => m.tools).join(', ')}); install them with\n` +
      `  apt-get install ${[...new Set(missing.map((m) => m.t.apt))].join(' ')} binutils-mingw-w64-x86-64\n` +
      `or pack only what this machine builds with ${PARTIAL_ENV}=1 (never for a release)`);
  }
  fs.rmSync(path.join(ROOT, 'prebuilds'), { recursive: true, force: true });
  for (const target of TARGETS) {
    const name = `${target.platform}-${target.arch}`;
    if (missing.some((m) => m.t === target)) {
      console.warn(`tfjs-focal-loss prebuild: ${name} SKIPPED (${PARTIAL_ENV}=1; no ${missingTools(target).join(', ')})`);
      continue;
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-focal-loss-prebuild-'));
    try {
      for (const entry of ['native', 'binding.gyp', 'package.json']) {
        fs.cpSync(path.join(ROOT, entry), path.join(work, entry), { recursive: true });
      }
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'));
      const started = Date.now();
      const built = target.platform === 'win32' ? await buildWindows(target, work) : buildLinux(target, work);
      const floor = checkFloor(target, built);
      const native = target.platform === process.platform && target.arch === process.arch;
      const loads = native ? `; ${smokeTest(built)}` : '; run by .ci/platforms.sh';
      const dest = path.join(ROOT, prebuiltPath(target));
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(built, dest);
      console.log(`tfjs-focal-loss prebuild: ${prebuiltPath(target)} ${fs.statSync(dest).size} bytes, ` +
        `${floor}${loads} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
}

module.exports = { TARGETS, prebuiltPath, ALLOWED_DLLS, MAX_GLIBC, buildWindows, checkFloor };

if (require.main === module) {
  if (process.argv.includes('--clean')) {
    fs.rmSync(path.join(ROOT, 'prebuilds'), { recursive: true, force: true });
  } else {
    buildAll().catch((e) => {
      if (!(e instanceof PrebuildError)) throw e;
      console.error(`tfjs-focal-loss prebuild: ${e.message}`);
      process.exit(1);
    });
  }
}
