/**
 * The cold cost of the first POST to a 127.0.0.1 server in a fresh process, with global fetch or node:http.
 *   node http-first.mjs <fetch|http|http-builtin> <url> <result.json>
 * `firstPostMs` runs from just before the client is first touched to the whole answer body read, loading included:
 *   fetch         global fetch (its first use loads undici)
 *   http          node:http through an ES module import, as an ESM bundle's `import { request } from 'node:http'`
 *                 does (on Node 22+ the ESM facade of node:http reads its lazy undici getters: undici loads too)
 *   http-builtin  node:http through process.getBuiltinModule (no ESM facade, like require('node:http'))
 */
import { writeFileSync } from 'node:fs';
import { postText } from '../handlers/shared';

const [mode, url, resultFile] = process.argv.slice(2) as ['fetch' | 'http' | 'http-builtin', string, string];
const body = JSON.stringify({
  category: 'CONTACT',
  conversation_id: '00000000-0000-3000-8000-000000000000',
  participants: [{ user_id: '00000000-0000-4000-8000-000000000000' }],
});
const headers = { 'Content-Type': 'application/json', 'X-Request-Id': '00000000-0000-4000-8000-000000000001' };

const viaFetch = async (): Promise<string> => {
  const res = await fetch(url, { method: 'POST', headers, body });
  return res.text();
};

const viaHttp = async (): Promise<string> => {
  const { request } = mode === 'http-builtin' ? process.getBuiltinModule('node:http') : await import('node:http');
  return postText(request, url, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, body);
};

const startMs = performance.now();
const cpuStart = process.cpuUsage();
const text = await (mode === 'fetch' ? viaFetch() : viaHttp());
const endMs = performance.now();
const cpu = process.cpuUsage(cpuStart);
// A second POST shows what is left once the client is loaded.
const secondStart = performance.now();
await (mode === 'fetch' ? viaFetch() : viaHttp());
const secondMs = performance.now() - secondStart;
writeFileSync(
  resultFile,
  JSON.stringify({
    mode,
    ok: text.includes('"data"'),
    firstPostMs: endMs - startMs,
    firstPostCpuMs: (cpu.user + cpu.system) / 1000,
    sinceProcessStartMs: endMs,
    secondPostMs: secondMs,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
process.exit(0);
