/**
 * Why lib/mixin/transport.ts uses node:http rather than global fetch: the cold cost of the first POST to a 127.0.0.1
 * server, in fresh Node 24 processes, the clients interleaved (order shuffled in each round).
 *
 *   npx tsx bench/http-client.ts [rounds]      # standalone; `npm run bench` runs it too
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { bundleRunner, ROOT } from './lib/esbuild';
import { runNode } from './lib/proc';
import { median, round, shuffled } from './lib/stats';

export type HttpMode = 'fetch' | 'http' | 'http-builtin';

export interface HttpFirstRun {
  mode: HttpMode;
  ok: boolean;
  firstPostMs: number;
  firstPostCpuMs: number;
  sinceProcessStartMs: number;
  secondPostMs: number;
  maxRssMB: number;
}

export interface HttpClientSummary {
  rounds: number;
  fetch: Record<string, number>;
  /** node:http loaded by an ES module import (what `import { request } from 'node:http'` in an ESM bundle costs). */
  http: Record<string, number>;
  /** node:http loaded with process.getBuiltinModule (no ESM facade, no undici). */
  httpBuiltin: Record<string, number>;
  /** Median first POST with fetch minus node:http (getBuiltinModule), in ms: what fetch would add to a cold start. */
  fetchExtraFirstPostMs: number;
  fetchOverHttpFirstPost: number;
  /** The same with node:http loaded through an ES module import. */
  fetchExtraOverHttpImportMs: number;
  runs: HttpFirstRun[];
}

const summarise = (runs: HttpFirstRun[]): Record<string, number> => ({
  firstPostMs: round(median(runs.map((r) => r.firstPostMs)), 2),
  firstPostCpuMs: round(median(runs.map((r) => r.firstPostCpuMs)), 2),
  sinceProcessStartMs: round(median(runs.map((r) => r.sinceProcessStartMs)), 2),
  secondPostMs: round(median(runs.map((r) => r.secondPostMs)), 2),
  maxRssMB: round(median(runs.map((r) => r.maxRssMB)), 1),
});

export const measureHttpClients = async (
  rounds: number,
  outDir: string,
  progress: (line: string) => void = () => undefined,
): Promise<HttpClientSummary> => {
  const runner = join(outDir, 'runners', 'http-first.mjs');
  await bundleRunner(join(ROOT, 'bench', 'runners', 'http-first.ts'), runner);
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data":{"type":"conversation","conversation_id":"00000000-0000-3000-8000-000000000000"}}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/conversations`;
  const env = { PATH: process.env.PATH ?? '', TZ: ':UTC' };
  const runs: HttpFirstRun[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      for (const mode of shuffled(['fetch', 'http', 'http-builtin'] as const)) {
        const { result } = await runNode<HttpFirstRun>([], runner, [mode, url, 'RESULT'], env);
        if (!result.ok) throw new Error(`${mode}: the server's answer did not arrive`);
        runs.push(result);
      }
      progress(`http client: round ${i + 1}/${rounds}`);
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
  const fetch = summarise(runs.filter((r) => r.mode === 'fetch'));
  const http = summarise(runs.filter((r) => r.mode === 'http'));
  const httpBuiltin = summarise(runs.filter((r) => r.mode === 'http-builtin'));
  return {
    rounds,
    fetch,
    http,
    httpBuiltin,
    fetchExtraFirstPostMs: round(fetch.firstPostMs! - httpBuiltin.firstPostMs!, 2),
    fetchOverHttpFirstPost: round(fetch.firstPostMs! / httpBuiltin.firstPostMs!, 2),
    fetchExtraOverHttpImportMs: round(fetch.firstPostMs! - http.firstPostMs!, 2),
    runs,
  };
};

if (require.main === module) {
  const rounds = Math.max(10, Number(process.argv[2] ?? 15));
  measureHttpClients(rounds, join(ROOT, '.esbuild', 'bench'), (line) => console.log(`[bench] ${line}`))
    .then(({ runs: _runs, ...summary }) => console.log(JSON.stringify(summary, null, 2)))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
