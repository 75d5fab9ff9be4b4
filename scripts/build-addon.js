#!/usr/bin/env node
// Builds the native addon build/Release/focal_loss.node.
// cmake-js (CMakeLists.txt) is the primary build; node-gyp (binding.gyp) builds the same sources
// and is used when cmake-js fails (no cmake on the machine, say) or when asked with --gyp.
//   node scripts/build-addon.js          cmake-js, falling back to node-gyp
//   node scripts/build-addon.js --gyp    node-gyp only
//   node scripts/build-addon.js --cmake-js  cmake-js only (no fallback)
// cmake-js builds against node-api-headers (package.json binary.napi_versions), so neither tool
// downloads Node's headers: node-gyp uses /usr/include/node or npm_config_nodedir when present.
//   node scripts/build-addon.js --debug  Debug configuration (either tool)
'use strict';

const cp = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const debug = args.includes('--debug');
const gypOnly = args.includes('--gyp');
const cmakeJsOnly = args.includes('--cmake-js');

function run(cmd, cmdArgs) {
  console.log(`tfjs-focal-loss: ${[cmd, ...cmdArgs].join(' ')}`);
  const r = cp.spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: 'inherit' });
  return r.status === 0;
}

function nodeBin(pkg, bin) {
  try {
    const pj = require.resolve(`${pkg}/package.json`, { paths: [ROOT] });
    const rel = require(pj).bin;
    return path.join(path.dirname(pj), typeof rel === 'string' ? rel : rel[bin]);
  } catch {
    return undefined;
  }
}

function buildWithCmakeJs() {
  const cmakeJs = nodeBin('cmake-js', 'cmake-js');
  if (!cmakeJs) return false;
  return run(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn', ...(debug ? ['--debug'] : [])]);
}

function buildWithNodeGyp() {
  // npm exports the path of its bundled node-gyp to lifecycle scripts; otherwise use ours.
  const npmsOwn = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm',
    'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const gyp = process.env.npm_config_node_gyp || nodeBin('node-gyp', 'node-gyp') ||
    (fs.existsSync(npmsOwn) ? npmsOwn : undefined);
  if (!gyp) return false;
  const nodedir = process.env.npm_config_nodedir || (fs.existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
  return run(process.execPath, [gyp, 'rebuild', ...(debug ? ['--debug'] : []), ...(nodedir ? [`--nodedir=${nodedir}`] : [])]);
}

const ok = gypOnly ? buildWithNodeGyp() : cmakeJsOnly ? buildWithCmakeJs() : (buildWithCmakeJs() || (console.warn('tfjs-focal-loss: cmake-js build failed; trying node-gyp'), buildWithNodeGyp()));
const out = path.join(ROOT, 'build', debug ? 'Debug' : 'Release', 'focal_loss.node');
if (!ok || !fs.existsSync(out)) {
  console.error(`tfjs-focal-loss: could not build the native addon (${out} missing). A C++17 compiler and either cmake or node-gyp with Python are needed.`);
  process.exit(1);
}
