/**
 * Documentation that cannot drift: the README's tables are checked against the code they describe, and every
 * relative link in the docs points at a file that exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as errors from '../lib/errors';
import { HTTP_ERRORS } from '../lib/lambda/http-status';

const ROOT = join(__dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = (title: string): string => {
  const start = readme.indexOf(`\n## ${title}`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
};
/** Rows of the markdown tables in `text`: cells trimmed. */
const rows = (text: string): string[][] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[-| ]+\|$/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );

describe('README', () => {
  it('lists exactly the HTTP errors of HTTP_ERRORS, in full: status, code, when and retry, in its order', () => {
    const documented = rows(section('HTTP API'))
      .filter((r) => /^\d{3}$/.test(r[0]!))
      .map(([status, code, when, retry]) => ({
        status: Number(status),
        code: code!.replaceAll('`', ''),
        when: when!.replaceAll('\\|', '|'),
        retry,
      }));
    expect(documented).toEqual(
      Object.entries(HTTP_ERRORS).map(([code, { status, when, retry }]) => ({ status, code, when, retry })),
    );
  });

  it('names every public error class of lib/errors.ts in its Errors table, with the right retryable', () => {
    const table = new Map(rows(section('Errors (all triggers)')).map((r) => [r[0]!.replaceAll('`', ''), r[2]!]));
    const samples: errors.ConversationError[] = [
      new errors.InvalidRequestError([]),
      new errors.HttpRequestError(413, 'body_too_large', 'x'),
      new errors.ConversationConflictError('GROUP', 'CONTACT', 'x'),
      new errors.IdempotencyKeyReusedError([], 'x'),
      new errors.KeystoreError('x'),
      new errors.KeystoreUnavailableError('x'),
      new errors.MixinRateLimitError(1, 1),
      new errors.MixinUnavailableError('network', 'x', 1),
      new errors.MixinRequestError(10002, '', undefined, 1),
    ];
    const exported = Object.values(errors)
      .filter((v) => typeof v === 'function' && v.prototype instanceof errors.ConversationError)
      .map((v) => v.name);
    expect(samples.map((e) => e.name).sort()).toEqual(exported.sort());
    for (const error of samples)
      expect([error.name, table.get(error.name)]).toEqual([error.name, error.retryable ? '**yes**' : 'no']);
  });

  it('documents every environment variable the functions read', () => {
    const config = readFileSync(join(ROOT, 'lib', 'config.ts'), 'utf8');
    const read = new Set([...config.matchAll(/env(?:\.|, ')([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
    expect(read.size).toBeGreaterThanOrEqual(8);
    const documented = new Set(
      rows(section('Configuration')).flatMap((r) => [...r[0]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)),
    );
    for (const name of read) expect([name, documented.has(name)]).toEqual([name, true]);
  });

  it('links only to files that exist', () => {
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) expect([link, existsSync(join(ROOT, link))]).toEqual([link, true]);
  });
});

describe('CONTRIBUTING.md', () => {
  it('names only files and folders that exist in its map and checklists', () => {
    const text = readFileSync(join(ROOT, 'CONTRIBUTING.md'), 'utf8');
    const paths = [...text.matchAll(/`((?:lib|functions|infra|test|bench|scripts)\/[\w./-]*)`/g)]
      .map((m) => m[1]!)
      .filter((p) => !p.includes('<'));
    expect(paths.length).toBeGreaterThan(15);
    for (const path of paths) expect([path, existsSync(join(ROOT, path))]).toEqual([path, true]);
  });
});

describe('README Performance', () => {
  it('is the run in bench/results/latest.json: every target line, with its measured figure and verdict', () => {
    const results = JSON.parse(readFileSync(join(ROOT, 'bench', 'results', 'latest.json'), 'utf8')) as {
      machine: { date: string; node: string };
      summary: {
        targets: {
          figure: string;
          target: string;
          measured: number;
          met: boolean;
          unit: string;
          informational?: boolean;
        }[];
        perVariant: { floor: { buildCpuPerCallUs: number } };
      };
    };
    const text = section('Performance');
    expect(text).toContain(`The run of ${results.machine.date.slice(0, 10)}`);
    expect(text).toContain(`Node ${results.machine.node}`);
    expect(results.summary.targets.length).toBeGreaterThanOrEqual(8);
    for (const t of results.summary.targets) {
      const value = t.unit === 'x' ? `${t.measured.toFixed(2)}x` : `${t.measured} ${t.unit}`;
      const verdict = t.informational ? 'retired, for information' : t.met ? 'met' : '**missed**';
      expect(text).toContain(`- ${t.figure}: **${value}** (target ${t.target.replace('<=', '≤')}), ${verdict}`);
    }
    expect(text).toContain(`took ${results.summary.perVariant.floor.buildCpuPerCallUs} us per call`);
  });
});

describe('README Bulk', () => {
  it('is the run in bench/results/bulk-latest.json: every run with its drain ratio, calls per record, 429 share and losses', () => {
    const results = JSON.parse(readFileSync(join(ROOT, 'bench', 'results', 'bulk-latest.json'), 'utf8')) as {
      date: string;
      runs: {
        kind: string;
        rate: number;
        n: number;
        drainRatio: number;
        callsPerRecord: number;
        share429: number;
        deadLettered: number;
        lost: number;
        duplicated: number;
      }[];
    };
    const text = section('Bulk');
    expect(text).toContain(`(${results.date.slice(0, 10)}, [\`bench/results/bulk-latest.md\`]`);
    expect(results.runs.length).toBeGreaterThanOrEqual(2);
    for (const r of results.runs) {
      const verdict = (met: boolean) => (met ? 'met' : '**missed**');
      expect(text).toContain(
        `- ${r.kind}, R = ${r.rate}/s, N = ${r.n.toLocaleString('en-US')}: drain **${r.drainRatio.toFixed(2)}x** N/R (target ≤ 1.2x, ${verdict(r.drainRatio <= 1.2)}), ` +
          `**${r.callsPerRecord.toFixed(2)}** Mixin calls per record (target ≤ 1.3, ${verdict(r.callsPerRecord <= 1.3)}), ${(r.share429 * 100).toFixed(1)}% answered 429, ` +
          `${r.deadLettered} in the DLQ, ${r.lost} lost, ${r.duplicated} duplicated`,
      );
    }
  });
});
