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

beforeAll(async () => {
  const ok = await tf.setBackend(requested);
  if (!ok || tf.getBackend() !== requested) {
    throw new Error(`could not activate tfjs backend '${requested}' (active: ${tf.getBackend()})`);
  }
});
