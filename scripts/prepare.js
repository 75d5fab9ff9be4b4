#!/usr/bin/env node
// `prepare`, run by npm in this repository only (npm does not run it for users who install the
// package): compiles the TypeScript, and on a contributor's `npm install` also builds the addon
// (build/Release) and sets up @tensorflow/tfjs-node (the `tensorflow` backend the tests use) with
// the same code as `npx tfjs-focal-loss setup-tfjs-node`, without recording it in package.json.
// A failing tfjs-node setup does not fail the install: the tests report the backend as not run
// (and fail under CI).
//   TFJS_FOCAL_LOSS_SKIP_TFJS_NODE=1   skip the tfjs-node setup
'use strict';

const cp = require('child_process');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const packing = ['pack', 'publish'].includes(process.env.npm_command);

function step(args) {
  const r = cp.spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
}

step([require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '-p', 'tsconfig.json']);
if (!packing) {
  step([path.join(__dirname, 'build-addon.js')]);
  if (process.env.TFJS_FOCAL_LOSS_SKIP_TFJS_NODE) {
    console.log('tfjs-focal-loss: TFJS_FOCAL_LOSS_SKIP_TFJS_NODE is set: @tensorflow/tfjs-node not set up');
  } else {
    const { setupTfjsNode, SetupError, log } = require('./tfjs-node-setup');
    const version = require(path.join(ROOT, 'package.json')).devDependencies['@tensorflow/tfjs'];
    try {
      setupTfjsNode({ projectDir: ROOT, save: false, defaultVersion: version });
    } catch (e) {
      if (!(e instanceof SetupError)) throw e;
      log(`@tensorflow/tfjs-node is not set up (${e.message}); the tests will run on 'cpu' only`);
    }
  }
}
