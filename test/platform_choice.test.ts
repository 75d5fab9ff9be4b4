// The loader's choice of binary (lib/native.ts) with the platform facts injected: the C library
// detection, which file each platform / libc tries (never a glibc binary on musl), that
// scripts/prebuild.js writes exactly the files the loader looks for, the fallback from a prebuilt
// that does not load to a local build, and the one-line errors (unsupported platform, musl, an
// unknown libc, a binary that does not load, a renamed host on Windows).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import {addonCandidates, detectLibc, loadAddon, missingBinaryError, PlatformFacts, platformFacts, prebuiltPath} from '../lib/native';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const prebuild = require('../scripts/prebuild.js') as {
  TARGETS: Array<{platform: string, arch: string, libc: 'glibc' | 'musl' | null}>,
  prebuiltPath(target: {platform: string, arch: string, libc: string | null}): string,
};

const facts = (platform: string, arch: string, libc: PlatformFacts['libc'], execName = 'node'): PlatformFacts =>
  ({platform, arch, libc, execName});

const roots: string[] = [];
afterAll(() => roots.forEach((root) => fs.rmSync(root, {recursive: true, force: true})));

/** A fake package root with the given files (relative paths) present. */
function fakeRoot(files: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'focal-platform-'));
  roots.push(root);
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(root, file)), {recursive: true});
    fs.writeFileSync(path.join(root, file), 'binary');
  }
  return root;
}

const NO_ENV = {};

describe('detectLibc', () => {
  test('glibc when the report header names the glibc Node runs on, whatever else is installed', () => {
    expect(detectLibc({glibcVersionRuntime: '2.36'}, ['/lib/x86_64-linux-gnu/libc.so.6'], false)).toBe('glibc');
    // Debian with musl-tools: /lib/ld-musl-x86_64.so.1 exists, Node still runs on glibc.
    expect(detectLibc({glibcVersionRuntime: '2.17'}, [], true)).toBe('glibc');
  });

  test('musl when Node loaded the musl loader (Alpine), or the system loader is musl', () => {
    expect(detectLibc({}, ['/usr/lib/libstdc++.so.6', '/lib/ld-musl-x86_64.so.1'], false)).toBe('musl');
    expect(detectLibc({}, ['/lib/libc.musl-aarch64.so.1'], false)).toBe('musl');
    expect(detectLibc(undefined, [], true)).toBe('musl');
  });

  test('null (no guess) when neither can be told', () => {
    expect(detectLibc({}, ['/lib/x86_64-linux-gnu/libm.so.6'], false)).toBeNull();
    expect(detectLibc(undefined, [], false)).toBeNull();
    // A path that merely contains the word is not the loader.
    expect(detectLibc({}, ['/opt/ld-musl-notes/libfoo.so'], false)).toBeNull();
  });

  test('this process: Node here runs on glibc', () => {
    const here = platformFacts();
    expect(here.platform).toBe(process.platform);
    expect(here.arch).toBe(process.arch);
    if (process.platform === 'linux') {
      expect(here.libc).toBe(typeof (process.report.getReport() as {header: {glibcVersionRuntime?: string}})
        .header.glibcVersionRuntime === 'string' ? 'glibc' : 'musl');
    }
  });
});

describe('the file each platform tries', () => {
  test('prebuildify layout: the libc in the file name on Linux only', () => {
    expect(prebuiltPath(facts('linux', 'x64', 'glibc'))).toBe(path.join('prebuilds', 'linux-x64', 'focal_loss.glibc.node'));
    expect(prebuiltPath(facts('linux', 'arm64', 'glibc'))).toBe(path.join('prebuilds', 'linux-arm64', 'focal_loss.glibc.node'));
    expect(prebuiltPath(facts('linux', 'x64', 'musl'))).toBe(path.join('prebuilds', 'linux-x64', 'focal_loss.musl.node'));
    expect(prebuiltPath(facts('win32', 'x64', null))).toBe(path.join('prebuilds', 'win32-x64', 'focal_loss.node'));
    expect(prebuiltPath(facts('darwin', 'arm64', null))).toBe(path.join('prebuilds', 'darwin-arm64', 'focal_loss.node'));
    expect(prebuiltPath(facts('linux', 'x64', null))).toBeNull();
  });

  test('scripts/prebuild.js writes exactly the files the loader looks for', () => {
    expect(prebuild.TARGETS.map((t) => `${t.platform}-${t.arch}-${t.libc}`).sort())
      .toEqual(['linux-arm64-glibc', 'linux-x64-glibc', 'win32-x64-null']);
    for (const target of prebuild.TARGETS) {
      expect(prebuild.prebuiltPath(target)).toBe(prebuiltPath(facts(target.platform, target.arch, target.libc)));
    }
  });

  test('on musl no glibc binary is ever a candidate, even when the package ships one', () => {
    const root = fakeRoot(['prebuilds/linux-x64/focal_loss.glibc.node']);
    const candidates = addonCandidates(facts('linux', 'x64', 'musl'), root, NO_ENV);
    expect(candidates.some((c) => c.includes('glibc'))).toBe(false);
    expect(candidates[0]).toBe(path.join(root, 'prebuilds', 'linux-x64', 'focal_loss.musl.node'));
    const state = loadAddon(facts('linux', 'x64', 'musl'), root, NO_ENV, () => {
      throw new Error('nothing may be loaded');
    });
    expect(state.addon).toBeNull();
    expect(state.error).toContain('no native binary for linux-x64 with musl');
    expect(state.error).toContain('the package ships prebuilt binaries for linux-x64 (glibc)');
    expect(state.error).toContain('the glibc binaries do not load on musl');
    expect(state.error).toContain('npx tfjs-focal-loss build');
    expect(state.error!.split('\n')).toHaveLength(1);
  });

  test('a musl prebuild, where shipped, is loaded on musl', () => {
    const root = fakeRoot(['prebuilds/linux-x64/focal_loss.glibc.node', 'prebuilds/linux-x64/focal_loss.musl.node']);
    const loaded: string[] = [];
    const state = loadAddon(facts('linux', 'x64', 'musl'), root, NO_ENV, (file) => {
      loaded.push(file);
      return {};
    });
    expect(loaded).toEqual([path.join(root, 'prebuilds', 'linux-x64', 'focal_loss.musl.node')]);
    expect(state.binary).toBe(loaded[0]);
  });

  test('an unknown libc tries no prebuilt, only a local build, and says why', () => {
    const root = fakeRoot(['prebuilds/linux-x64/focal_loss.glibc.node']);
    expect(addonCandidates(facts('linux', 'x64', null), root, NO_ENV))
      .toEqual([path.join(root, 'build', 'Release', 'focal_loss.node'), path.join(root, 'build', 'Debug', 'focal_loss.node')]);
    const state = loadAddon(facts('linux', 'x64', null), root, NO_ENV, () => ({}));
    expect(state.error).toMatch(/^tfjs-focal-loss: cannot tell whether this Linux runs on glibc or musl.*npx tfjs-focal-loss build/);
  });

  test('an unsupported platform: what the package ships and the build command', () => {
    const root = fakeRoot(['prebuilds/linux-x64/focal_loss.glibc.node', 'prebuilds/linux-arm64/focal_loss.glibc.node',
      'prebuilds/win32-x64/focal_loss.node']);
    const darwin = facts('darwin', 'arm64', null);
    const message = missingBinaryError(darwin, addonCandidates(darwin, root, NO_ENV), root, NO_ENV);
    expect(message).toBe(`tfjs-focal-loss: no native binary for darwin-arm64; the package ships prebuilt binaries ` +
      `for linux-arm64 (glibc), linux-x64 (glibc), win32-x64; looked for ` +
      `${path.join(root, 'prebuilds', 'darwin-arm64', 'focal_loss.node')}, ${path.join(root, 'build', 'Release', 'focal_loss.node')}, ` +
      `${path.join(root, 'build', 'Debug', 'focal_loss.node')}. Build it from source with \`npx tfjs-focal-loss build\` ` +
      `(needs a C++17 compiler and cmake or python3 + make), or set TFJS_FOCAL_LOSS_ADDON to a built focal_loss.node`);
  });

  test('the env override is tried alone', () => {
    const root = fakeRoot(['prebuilds/linux-x64/focal_loss.glibc.node']);
    expect(addonCandidates(facts('linux', 'x64', 'glibc'), root, {TFJS_FOCAL_LOSS_ADDON: '/x/focal_loss.node'}))
      .toEqual([path.resolve('/x/focal_loss.node')]);
  });
});

describe('loading', () => {
  test('a prebuilt that fails to load falls back to the local build', () => {
    const root = fakeRoot(['prebuilds/linux-arm64/focal_loss.glibc.node', 'build/Release/focal_loss.node']);
    const tried: string[] = [];
    const state = loadAddon(facts('linux', 'arm64', 'glibc'), root, NO_ENV, (file) => {
      tried.push(file);
      if (file.includes('prebuilds')) throw new Error('GLIBC_2.17 not found\nsecond line');
      return {marker: 1};
    });
    expect(tried).toEqual([path.join(root, 'prebuilds', 'linux-arm64', 'focal_loss.glibc.node'),
      path.join(root, 'build', 'Release', 'focal_loss.node')]);
    expect(state.binary).toBe(path.join(root, 'build', 'Release', 'focal_loss.node'));
    expect(state.error).toBeNull();
  });

  test('when nothing loads: each file and its first line of reason, one line, the build command', () => {
    const root = fakeRoot(['prebuilds/linux-x64/focal_loss.glibc.node', 'build/Release/focal_loss.node']);
    const state = loadAddon(facts('linux', 'x64', 'glibc'), root, NO_ENV, (file) => {
      throw new Error(`${path.basename(path.dirname(file))}: bad ELF\nstack`);
    });
    expect(state.addon).toBeNull();
    expect(state.error).toBe(`tfjs-focal-loss: could not load the native binary ` +
      `${path.join(root, 'prebuilds', 'linux-x64', 'focal_loss.glibc.node')} (linux-x64: bad ELF); nor ` +
      `${path.join(root, 'build', 'Release', 'focal_loss.node')} (Release: bad ELF). ` +
      'Build one for this system with `npx tfjs-focal-loss build`');
  });

  test('Windows: a host other than node.exe is named when the binary does not load', () => {
    const root = fakeRoot(['prebuilds/win32-x64/focal_loss.node']);
    const fail = () => {
      throw new Error('The specified procedure could not be found.');
    };
    const renamed = loadAddon(facts('win32', 'x64', null, 'MyApp.exe'), root, NO_ENV, fail);
    expect(renamed.error).toContain('this process runs as MyApp.exe, not node.exe: the binary needs a host that exports Node-API');
    expect(renamed.error).toContain('npx tfjs-focal-loss build');
    const node = loadAddon(facts('win32', 'x64', null, 'node.exe'), root, NO_ENV, fail);
    expect(node.error).not.toContain('not node.exe');
    expect(node.error).toContain('The specified procedure could not be found.');
  });
});

describe('npm pack without the cross toolchains (scripts/prebuild.js)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cp = require('child_process') as typeof import('child_process');
  const prebuildScript = path.join(__dirname, '..', 'scripts', 'prebuild.js');
  const runPrebuild = (env: NodeJS.ProcessEnv) =>
    cp.spawnSync(process.execPath, [prebuildScript], {encoding: 'utf8', env: {PATH: '/nonexistent', ...env}});

  test('stops before building anything, naming the missing tools and the apt-get line', () => {
    const r = runPrebuild({});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the toolchains for linux-x64, linux-arm64, win32-x64 are missing');
    expect(r.stderr).toContain('aarch64-linux-gnu-g++');
    expect(r.stderr).toContain('x86_64-w64-mingw32-g++-posix');
    expect(r.stderr).toContain('apt-get install g++ g++-aarch64-linux-gnu g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64');
    expect(r.stderr).toContain('TFJS_FOCAL_LOSS_PARTIAL_PACK=1');
  });

  test('a partial pack is refused under CI', () => {
    const r = runPrebuild({TFJS_FOCAL_LOSS_PARTIAL_PACK: '1', CI: 'true'});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('TFJS_FOCAL_LOSS_PARTIAL_PACK is not allowed under CI');
  });
});
