// The loader (lib/native.ts) and the path choice (lib/paths/select.ts) in fresh Node processes,
// since the loaded addon is cached per process: the binary order, the one-line error for a missing
// or unloadable binary with the build command, and the composite path taking over on 'cpu' with
// the fused kernel's values (nativeStatus says why). Runs the compiled package (dist/lib).
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist', 'lib', 'index.js');

function runNode(script: string, env: {[k: string]: string | undefined}):
    {status: number | null, stdout: string, stderr: string} {
  const r = cp.spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT, encoding: 'utf8', env: {...process.env, ...env},
  });
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

const PROBE = `
const tf = require('@tensorflow/tfjs');
const fl = require(${JSON.stringify(DIST)});
tf.setBackend('cpu');
const s = fl.nativeStatus();
const logits = tf.tensor2d([[2, 1, 0], [0.5, -1, 3]]);
const labels = tf.tensor1d([0, 1], 'int32');
const loss = fl.focalLoss(labels, logits, {gamma: 1.5}).dataSync()[0];
const grad = Array.from(tf.grad((x) => fl.focalLoss(labels, x, {gamma: 1.5}))(logits).dataSync());
let threadsError = null;
try { fl.setNumThreads(2); } catch (e) { threadsError = e.message; }
console.log(JSON.stringify({status: s, loss, grad, threadsError}));
`;

function probe(env: {[k: string]: string | undefined}) {
  const r = runNode(PROBE, env);
  if (r.status !== 0) throw new Error(`probe failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    status: {path: string, reason: string, loaded: boolean, binary: string | null, error: string | null},
    loss: number, grad: number[], threadsError: string | null,
  };
}

const haveDist = fs.existsSync(DIST);
const describeIfBuilt = haveDist ? describe : describe.skip;

describeIfBuilt('native loader', () => {
  test('a local build loads when there is no prebuilt; the env override wins', () => {
    const local = probe({TFJS_FOCAL_LOSS_ADDON: undefined});
    expect(local.status.loaded).toBe(true);
    expect(local.status.path).toBe('js-arrays');
    const prebuilt = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'focal_loss.glibc.node');
    expect(local.status.binary).toBe(fs.existsSync(prebuilt) ? prebuilt :
                                     path.join(ROOT, 'build', 'Release', 'focal_loss.node'));
    const viaEnv = probe({TFJS_FOCAL_LOSS_ADDON: path.join(ROOT, 'build', 'Release', 'focal_loss.node')});
    expect(viaEnv.status.binary).toBe(path.join(ROOT, 'build', 'Release', 'focal_loss.node'));
  });

  test('a missing binary: composite path with the same numbers, one clear error for the rest', () => {
    const fused = probe({TFJS_FOCAL_LOSS_ADDON: undefined});
    const missing = probe({TFJS_FOCAL_LOSS_ADDON: '/nonexistent/focal_loss.node'});
    expect(missing.status.loaded).toBe(false);
    expect(missing.status.path).toBe('composite');
    expect(missing.status.error).toMatch(/TFJS_FOCAL_LOSS_ADDON points at \/nonexistent\/focal_loss.node, which does not exist/);
    expect(missing.status.reason).toContain(missing.status.error);
    expect(missing.threadsError).toBe(missing.status.error);
    expect(Math.abs(missing.loss - fused.loss)).toBeLessThan(1e-6 * fused.loss);
    missing.grad.forEach((g, i) => expect(Math.abs(g - fused.grad[i])).toBeLessThan(1e-6));
  });

  test('a binary that does not load names the file, the reason and the build command', () => {
    const bogus = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'focal-loader-')), 'focal_loss.node');
    fs.writeFileSync(bogus, 'not an ELF file');
    const broken = probe({TFJS_FOCAL_LOSS_ADDON: bogus});
    expect(broken.status.path).toBe('composite');
    expect(broken.status.error).toContain(`could not load the native binary ${bogus}`);
    expect(broken.status.error).toContain('npx tfjs-focal-loss build');
    expect(broken.status.error!.split('\n')).toHaveLength(1);
  });
});
