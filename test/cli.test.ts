// scripts/cli.js as a user runs it: --version, --help of every command, argument errors, and
// `status` (every line a bug report needs, and no TensorFlow log banner in its output).
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'scripts', 'cli.js');
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

function cli(...args: string[]) {
  // The CLI must silence TensorFlow itself: the test's own environment must not do it for it.
  const env = { ...process.env };
  delete env.TF_CPP_MIN_LOG_LEVEL;
  delete env.TF_ENABLE_ONEDNN_OPTS;
  const r = cp.spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.each([['--version'], ['-v']])('%s prints the package version', (flag) => {
  expect(cli(flag)).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
});

test.each(['setup-tfjs-node', 'build', 'status', 'compare'])('%s --help, -h and help <command> print its usage', (name) => {
  const long = cli(name, '--help');
  expect(long.status).toBe(0);
  expect(long.stdout).toMatch(new RegExp(`^usage: npx tfjs-focal-loss ${name}\\b`));
  expect(cli(name, '-h').stdout).toBe(long.stdout);
  expect(cli('help', name).stdout).toBe(long.stdout);
  expect(cli('--help').stdout).toContain(`  ${name} `);
});

test('an unknown command or option exits 2 and names it', () => {
  const command = cli('statsu');
  expect(command.status).toBe(2);
  expect(command.stderr).toMatch(/^tfjs-focal-loss: unknown command 'statsu'\n/);
  const option = cli('status', '--jsn');
  expect(option.status).toBe(2);
  expect(option.stderr).toBe("tfjs-focal-loss status: Unknown option '--jsn' (see npx tfjs-focal-loss status --help)\n");
});

describe('status', () => {
  // tfjs-node is loaded by `status` when it resolves; the tensorflow runs of `npm test` have it.
  const withTfjsNode = process.env.FOCAL_TEST_BACKEND !== 'cpu';
  let out: ReturnType<typeof cli>;
  beforeAll(() => {
    out = cli('status');
  });

  test('prints versions, platform and binary, one per line', () => {
    expect(out.status).toBe(0);
    const lines = Object.fromEntries(out.stdout.trim().split('\n').map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l);
      return [m![1], m![2]];
    }));
    expect(Object.keys(lines)).toEqual(['tfjs-focal-loss', '@tensorflow/tfjs', '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-node', 'platform', 'backend', 'path', 'binary']);
    expect(lines['tfjs-focal-loss']).toBe(`${version} (${ROOT})`);
    expect(lines['@tensorflow/tfjs-core']).toMatch(/^4\.\d+\.\d+$/);
    if (withTfjsNode) expect(lines['@tensorflow/tfjs-node']).toMatch(/^4\.\d+\.\d+ \(libtensorflow 2\.\d+\.\d+\)$/);
    expect(lines.platform).toContain(`${process.platform}-${process.arch}`);
    expect(lines.platform).toContain(`Node ${process.versions.node}`);
    expect(lines.binary).toMatch(/focal_loss\.node \(kernels: (avx512|avx2|generic)\)$/);
  });

  test('no TensorFlow log banner (oneDNN, cpu_feature_guard, absl) in its output', () => {
    const all = out.stdout + out.stderr;
    expect(all).not.toMatch(/oneDNN|cpu_feature_guard|absl::InitializeLog|^[IWE]\d{4} /m);
    expect(out.stderr).toBe('');
  });

  test('--json has the same fields and nativeStatus()', () => {
    const json = JSON.parse(cli('status', '--json').stdout);
    expect(json['tfjs-focal-loss']).toBe(`${version} (${ROOT})`);
    expect(json.nativeStatus).toEqual(expect.objectContaining({ loaded: true, binary: expect.any(String) }));
  });
});
