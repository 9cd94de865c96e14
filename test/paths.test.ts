/**
 * Every repository path a reader is sent to exists: file paths named in code comments and strings, the README and
 * CONTRIBUTING. A file moved or renamed without its mentions fails here, not in a newcomer's search.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../infra/local/command';

const FOLDERS = ['lib', 'functions', 'infra', 'test', 'bench', 'scripts'];
const SKIP = new Set(['node_modules', 'generated', 'results', 'fixtures', '.esbuild', '.serverless']);
const TEXT = /\.(ts|mjs|cjs|js|yml|sh)$/;
// A path with a file ending, starting at one of the top folders, not inside a longer path or word.
const MENTION =
  /(?<![\w.\-/])((?:lib|functions|infra|test|bench|scripts)\/[\w./-]*\.(?:ts|mjs|cjs|js|json|yml|yaml|md|sh))\b/g;

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return TEXT.test(name) ? [path] : [];
  });

const sources = [
  ...FOLDERS.flatMap((folder) => filesUnder(join(ROOT, folder))),
  join(ROOT, 'README.md'),
  join(ROOT, 'CONTRIBUTING.md'),
  join(ROOT, 'serverless.yml'),
];

describe('paths named in the repository', () => {
  it('reads enough files and mentions to mean something', () => {
    const mentions = sources.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(MENTION)]);
    expect(sources.length).toBeGreaterThan(80);
    expect(mentions.length).toBeGreaterThan(100);
  });

  it('names only files that exist', () => {
    const missing = sources.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(MENTION)]
        .map((m) => m[1]!)
        .filter((path) => !existsSync(join(ROOT, path)))
        .map((path) => `${relative(ROOT, file)}: ${path}`),
    );
    expect(missing).toEqual([]);
  });
});
