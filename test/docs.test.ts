// Every `docs/DESIGN.md#section` cited in the code and the docs names a heading of docs/DESIGN.md
// (GitHub's anchor rule: lower case, punctuation dropped, spaces to hyphens).
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

function files(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

test('every docs/DESIGN.md#anchor cited in lib/, native/, scripts/, tools/, bench/, test/ and the docs exists', () => {
  const design = fs.readFileSync(path.join(ROOT, 'docs/DESIGN.md'), 'utf8');
  const anchors = new Set(design.split('\n').filter((l) => /^#+ /.test(l)).map((l) =>
    l.replace(/^#+ /, '').trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
  const sources = ['lib', 'native', 'scripts', 'tools', 'bench', 'test'].flatMap(files)
      .filter((f) => /\.(ts|js|h|cc|sh|py|md)$/.test(f) && f !== path.join('test', 'docs.test.ts'))
      .concat(['README.md', 'CHANGELOG.md', 'docs/DESIGN.md', 'docs/INSTALL.md']);
  const cited: string[] = [];
  for (const file of sources) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/DESIGN\.md#([\w-]+)/g)) cited.push(`${file} -> ${m[1]}`);
    if (file === 'docs/DESIGN.md') for (const m of text.matchAll(/\]\(#([\w-]+)\)/g)) cited.push(`${file} -> ${m[1]}`);
  }
  expect(cited.length).toBeGreaterThan(20);
  expect(cited.filter((c) => !anchors.has(c.split(' -> ')[1]))).toEqual([]);
});
