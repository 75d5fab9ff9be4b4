// The relative imports of lib/'s TypeScript files (type-only imports and re-exports included), for
// the layering tests (test/layers.test.ts, test/compare_metrics.test.ts).
import * as fs from 'fs';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..');

/** The files `file` imports through relative paths ('./x', '../y'), resolved to .ts files. */
export function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const match of fs.readFileSync(file, 'utf8').matchAll(/(?:from|import|require\()\s*'(\.[^']+)'/g)) {
    const target = path.resolve(path.dirname(file), match[1]);
    out.push(fs.existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts'));
  }
  return out;
}

/** Every file reachable from `entry` (relative to the repository) through relative imports. */
export function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) {
      return;
    }
    seen.add(file);
    importsOf(file).forEach(visit);
  };
  visit(path.resolve(REPO, entry));
  return seen;
}

/** The import cycles among `files` (each as the list of files around it, relative to the repository). */
export function importCycles(files: Iterable<string>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of importsOf(file)) {
      if (state.get(next) === 'open') {
        cycles.push(stack.slice(stack.indexOf(next)).map((f) => path.relative(REPO, f)));
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) {
    if (!state.has(file)) visit(file);
  }
  return cycles;
}
