// Selects the tfjs backend every test file runs on. FOCAL_TEST_BACKEND=tensorflow (default) loads
// @tensorflow/tfjs-node; FOCAL_TEST_BACKEND=cpu uses the pure-JS backend. A requested backend that
// cannot be set up fails the run loudly instead of silently testing another one.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

const requested = process.env.FOCAL_TEST_BACKEND ?? 'tensorflow';
if (requested === 'tensorflow') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@tensorflow/tfjs-node');
} else if (requested !== 'cpu') {
  throw new Error(`FOCAL_TEST_BACKEND must be 'tensorflow' or 'cpu', got '${requested}'`);
}

// Each test file has its own tfjs engine (test/fresh_tfjs_globals.js), hence its own `cpu`
// backend, whose first tensor would print tfjs's "Hi, looks like you are running TensorFlow.js in
// Node.js ... install our node backend" advice (with a stack trace) once per file. The backend is
// chosen here, not only in beforeAll, because test files create tensors while jest collects their
// tests, and an engine without a chosen backend would then create a new `cpu` instance.
const selected = tf.setBackend(requested);
const cpu = tf.findBackend('cpu') as {firstUse?: boolean} | null;
if (cpu !== null && typeof cpu.firstUse === 'boolean') cpu.firstUse = false;

beforeAll(async () => {
  const ok = await selected;
  if (!ok || tf.getBackend() !== requested) {
    throw new Error(`could not activate tfjs backend '${requested}' (active: ${tf.getBackend()})`);
  }
});
