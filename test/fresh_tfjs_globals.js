// Runs before each test file's modules (jest `setupFiles`). Every test file runs in Node's main
// realm (test/single_context_environment.js), and jest loads @tensorflow/tfjs-core afresh for each
// file, but tfjs-core keeps its engine, environment and kernel/gradient registries on the global
// object (`_tfengine`, `_tfGlobals`): the second file's fresh tfjs modules found the first file's
// registrations and printed "The kernel '...' for backend '...' is already registered" (with a
// stack trace) for every kernel and "Platform node has already been set", ~7,000 lines per run.
// Dropping those globals gives each file its own engine and registries, as separate realms would;
// the previous file's backends are disposed first so that nothing they hold outlives the file.
'use strict';

const engine = globalThis._tfengine;
if (engine != null) {
  try {
    engine.reset();
  } catch { /* a backend that cannot be disposed: its memory is reclaimed with the process */ }
}
delete globalThis._tfengine;
delete globalThis._tfGlobals;
