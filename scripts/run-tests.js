#!/usr/bin/env node
// `npm test`: runs the whole jest suite once per configuration — `tensorflow` (@tensorflow/tfjs-node,
// the kernels as TensorFlow ops), `tensorflow-js-arrays` (the same backend with the ops disabled by
// TFJS_FOCAL_LOSS_TF_OPS=0: the JS-array fallback) and `cpu` (pure JS). test/setup_backend.ts
// activates the backend named by FOCAL_TEST_BACKEND.
// Extra arguments go to jest: `npm test -- test/keras.test.ts`.
// FOCAL_TEST_BACKENDS=cpu (comma list) restricts the configurations.
// Node runs jest with --expose-gc: a test checks that finalizers release unused saved gradients.
// When tfjs-node cannot be loaded the tensorflow run is reported as not run, and fails the
// command under CI (CI=true) or FOCAL_REQUIRE_TENSORFLOW=1, so that it is never skipped quietly.
'use strict';

const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const jestBin = require.resolve('jest/bin/jest', { paths: [ROOT] });
const CONFIGURATIONS = {
  tensorflow: { FOCAL_TEST_BACKEND: 'tensorflow' },
  'tensorflow-js-arrays': { FOCAL_TEST_BACKEND: 'tensorflow', TFJS_FOCAL_LOSS_TF_OPS: '0' },
  cpu: { FOCAL_TEST_BACKEND: 'cpu' },
};
const backends = (process.env.FOCAL_TEST_BACKENDS || Object.keys(CONFIGURATIONS).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const requireTensorflow = process.env.CI === 'true' || process.env.FOCAL_REQUIRE_TENSORFLOW === '1';

function tfjsNodeProblem() {
  const r = cp.spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { cwd: ROOT, encoding: 'utf8' });
  if (r.status === 0) return null;
  return (r.stderr || '').split('\n').find((l) => /Error/.test(l)) || `exit ${r.status}`;
}

let passed = 0;
let failed = 0;
let failure = false;
for (const backend of backends) {
  const configuration = CONFIGURATIONS[backend];
  if (configuration === undefined) {
    console.error(`[npm test] unknown configuration '${backend}' (known: ${Object.keys(CONFIGURATIONS).join(', ')})`);
    failure = true;
    continue;
  }
  if (configuration.FOCAL_TEST_BACKEND === 'tensorflow') {
    const problem = tfjsNodeProblem();
    if (problem) {
      console.error(`\n[npm test] backend 'tensorflow' NOT RUN: @tensorflow/tfjs-node does not load (${problem.trim()})`);
      if (requireTensorflow) failure = true;
      continue;
    }
  }
  console.log(`\n[npm test] ===== backend '${backend}' =====`);
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'focal-jest-')), 'report.json');
  const r = cp.spawnSync(process.execPath, ['--expose-gc', jestBin, '--json', `--outputFile=${report}`, ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    // TF_CPP_MIN_LOG_LEVEL 2: no cpu_feature_guard banner from libtensorflow (a user's setting wins).
    env: { TF_CPP_MIN_LOG_LEVEL: '2', ...process.env, TFJS_FOCAL_LOSS_TF_OPS: '', ...configuration },
  });
  if (r.status !== 0) failure = true;
  try {
    const json = JSON.parse(fs.readFileSync(report, 'utf8'));
    passed += json.numPassedTests;
    failed += json.numFailedTests + json.numRuntimeErrorTestSuites;
    console.log(`[npm test] backend '${backend}': ${json.numPassedTests} passed, ${json.numFailedTests} failed, ${json.numRuntimeErrorTestSuites} suites failed to run`);
  } catch {
    failure = true;
    failed += 1;
    console.error(`[npm test] backend '${backend}': jest wrote no report (exit ${r.status})`);
  }
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failure || failed > 0 ? 1 : 0);
