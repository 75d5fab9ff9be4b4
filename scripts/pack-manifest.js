#!/usr/bin/env node
// The package.json that ships has no `scripts`: the repository's lifecycle and dev scripts
// (prepare, prepack, postpack, test, bench) point at files the tarball does not ship, and npm lists
// a dependency with a `prepare` script as one "with install scripts" when it is installed from a
// tarball. So the last prepack step removes `scripts` from package.json (npm reads the manifest it
// packs from disk after prepack; its own postpack still runs, from the manifest it read before), and
// postpack puts the file back byte for byte.
//   node scripts/pack-manifest.js strip [dir]     (prepack, last step; dir: default the repository)
//   node scripts/pack-manifest.js restore [dir]   (postpack, first step)
// A pack that fails after `strip` runs no postpack; so `strip` also starts a small detached
// watcher that restores package.json once the npm process is gone, and a leftover backup from an
// interrupted pack is restored before anything else. devDependencies stay: npm never installs a
// dependency's devDependencies, and `tfjs-focal-loss build` reads its build tools' versions there.
'use strict';

const cp = require('child_process');
const fs = require('fs');
const path = require('path');

const [command, dirArg, pidArg] = process.argv.slice(2);
const DIR = path.resolve(dirArg || path.join(__dirname, '..'));
const MANIFEST = path.join(DIR, 'package.json');
const BACKUP = path.join(DIR, '.package.json.before-pack');
const STRIPPED = ['scripts'];

function restore() {
  if (!fs.existsSync(BACKUP)) return false;
  fs.writeFileSync(MANIFEST, fs.readFileSync(BACKUP));
  fs.rmSync(BACKUP);
  return true;
}

/** The npm process that runs this lifecycle script: the nearest ancestor that is not a shell. */
function npmPid() {
  let pid = process.ppid;
  for (let i = 0; i < 4; i++) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return process.ppid;   // no /proc (macOS, Windows): watch the parent
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (!/^(sh|bash|dash|zsh)$/.test(comm)) return pid;
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return pid;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function strip() {
  if (restore()) console.log('tfjs-focal-loss pack: restored package.json left by an interrupted pack');
  const text = fs.readFileSync(MANIFEST, 'utf8');
  const manifest = JSON.parse(text);
  for (const key of STRIPPED) delete manifest[key];
  fs.writeFileSync(BACKUP, text);
  fs.writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  const watcher = cp.spawn(process.execPath, [__filename, 'watch', DIR, String(npmPid())],
    { detached: true, stdio: 'ignore' });
  watcher.unref();
}

function watch(pid) {
  const timer = setInterval(() => {
    if (!fs.existsSync(BACKUP)) {
      clearInterval(timer);
    } else if (!alive(pid)) {
      clearInterval(timer);
      restore();
    }
  }, 100);
}

if (command === 'strip') strip();
else if (command === 'restore') restore();
else if (command === 'watch') watch(Number(pidArg));
else {
  console.error('usage: node scripts/pack-manifest.js strip|restore [dir]');
  process.exit(2);
}
