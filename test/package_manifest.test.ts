// The published shape: the README's links work on the package's npm page (absolute, to files the
// tarball ships, at this version), and the prepack/postpack manifest step leaves package.json as it
// was, also when a pack fails half-way (scripts/pack-manifest.js). .ci/user-projects.sh checks the
// real tarball (its files, its package.json, the install log, the README's size figure).
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const PACK_MANIFEST = path.join(ROOT, 'scripts', 'pack-manifest.js');

describe('README links', () => {
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);

  test('are absolute https URLs or anchors (relative file links are dead on npm without a repository)', () => {
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect(link).toMatch(/^(https:\/\/|#)/);
  });

  test('to unpkg name this version and a file that the package ships', () => {
    const prefix = `https://unpkg.com/${manifest.name}@${manifest.version}/`;
    const unpkg = links.filter((l) => l.startsWith('https://unpkg.com/'));
    expect(unpkg.length).toBeGreaterThan(5);
    for (const link of unpkg) {
      expect(link.startsWith(prefix)).toBe(true);
      const file = link.slice(prefix.length).replace(/#.*$/, '');
      expect(fs.existsSync(path.join(ROOT, file))).toBe(true);
      // npm always ships LICENSE; everything else must be listed in `files`.
      if (file !== 'LICENSE') expect(manifest.files).toContain(file);
    }
  });
});

describe('scripts/pack-manifest.js', () => {
  const original = `${JSON.stringify({ name: 'x', version: '1.0.0', scripts: { prepare: 'node p.js' }, devDependencies: { a: '1' } }, null, 4)}\n`;
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'focal-pack-manifest-'));
    fs.writeFileSync(path.join(dir, 'package.json'), original);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const read = () => fs.readFileSync(path.join(dir, 'package.json'), 'utf8');
  const run = (command: string) => cp.execFileSync(process.execPath, [PACK_MANIFEST, command, dir]);

  test('strip removes scripts only; restore puts the file back byte for byte', () => {
    run('strip');
    const stripped = JSON.parse(read());
    expect(stripped.scripts).toBeUndefined();
    expect(stripped.devDependencies).toEqual({ a: '1' });
    run('restore');
    expect(read()).toBe(original);
    expect(fs.existsSync(path.join(dir, '.package.json.before-pack'))).toBe(false);
  });

  test('a pack that dies after strip (no postpack) gets package.json back once its process is gone', async () => {
    // The parent stands in for npm: it runs `strip` and exits non-zero without `restore`.
    const npm = cp.spawnSync(process.execPath, ['-e',
      `require('child_process').execFileSync(process.execPath, [${JSON.stringify(PACK_MANIFEST)}, 'strip', ${JSON.stringify(dir)}]); process.exit(1)`]);
    expect(npm.status).toBe(1);
    // The watcher polls every 100 ms; wait for it by condition (bounded), not by a fixed delay.
    for (let i = 0; i < 300 && read() !== original; i++) await new Promise((r) => setTimeout(r, 100));
    expect(read()).toBe(original);
  });

  test('a leftover backup from an interrupted pack is restored before the next strip', () => {
    fs.writeFileSync(path.join(dir, '.package.json.before-pack'), original);
    fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"x","version":"1.0.0"}\n');
    run('strip');
    run('restore');
    expect(read()).toBe(original);
  });
});
