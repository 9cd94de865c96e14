/**
 * infra/esbuild-plugins.cjs, as the package uses it: Node built-ins through process.getBuiltinModule, and the ones
 * a cold start does not need (node:https, node:stream/web) loaded only at their first use, still behaving as
 * themselves: calls, `new`, `instanceof`, static members and the default export.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { run } from '../infra/local/command';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const plugins = require('../infra/esbuild-plugins.cjs') as import('esbuild').Plugin[];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'esbuild-plugins-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles `source` like the package (ESM, minified, the plugins) and runs it; resolves with the JSON it prints. */
const bundleAndRun = async (source: string): Promise<Record<string, unknown>> => {
  const entry = join(dir, `entry-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(entry, source);
  const outfile = entry.replace(/\.mjs$/, '.out.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    plugins,
    logLevel: 'error',
  });
  const out = await run(process.execPath, [outfile], { PATH: process.env.PATH ?? '' }, 20_000);
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
};

const loaded = 'const loaded = (name) => process.moduleLoadList.includes(`NativeModule ${name}`);';

it('loads node:https and node:stream/web only when first used, then behaves as them', async () => {
  const result = await bundleAndRun(`
    import { request, Agent } from 'node:https';
    import https from 'node:https';
    import { ReadableStream } from 'node:stream/web';
    ${loaded}
    const atImport = { https: loaded('https'), tls: loaded('tls'), web: loaded('stream/web') };
    const stream = new ReadableStream({ start: (c) => c.close() });
    const afterStream = { web: loaded('stream/web'), https: loaded('https') };
    const req = request('https://127.0.0.1:9/', { agent: new Agent({ keepAlive: false }) });
    const refused = await new Promise((resolve) => req.on('error', (e) => resolve(e.code)));
    console.log(JSON.stringify({
      atImport, afterStream,
      afterRequest: { https: loaded('https'), tls: loaded('tls') },
      isStream: stream instanceof ReadableStream, plainIsStream: ({}) instanceof ReadableStream,
      protocol: req.protocol, refused,
      sameRequest: https.request === process.getBuiltinModule('node:https').request,
      staticFrom: typeof ReadableStream.from,
    }));
  `);
  expect(result).toEqual({
    atImport: { https: false, tls: false, web: false },
    afterStream: { web: true, https: false },
    afterRequest: { https: true, tls: true },
    isStream: true,
    plainIsStream: false,
    protocol: 'https:',
    refused: 'ECONNREFUSED',
    sameRequest: true,
    staticFrom: 'function',
  });
});

it('loads other built-ins at import without their ES module facade (no undici for node:http)', async () => {
  const result = await bundleAndRun(`
    import { request } from 'node:http';
    ${loaded}
    console.log(JSON.stringify({ http: loaded('http'), undici: process.moduleLoadList.some((m) => m.includes('undici')), request: typeof request }));
  `);
  expect(result).toEqual({ http: true, undici: false, request: 'function' });
});
