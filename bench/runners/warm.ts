/**
 * One warm round, in a fresh process: load the bundle, `warmup` invocations, then `count` timed invocations
 * one after the other, each with its own event (same user IDs for every variant).
 *   node warm.mjs <bundle.mjs> <result.json> <user-ids.json> <warmup> <count>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { contactEvent, type Handler, lambdaContext } from './lambda';

const [bundle, resultFile, usersFile, warmupArg, countArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const users = JSON.parse(readFileSync(usersFile, 'utf8')) as string[];
const warmup = Number(warmupArg);
const count = Number(countArg);
const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: Handler };

const invoke = async (i: number) => {
  const response = await handler(contactEvent(users[i % users.length]!), lambdaContext());
  if (response.statusCode !== 201) throw new Error(`invocation ${i}: ${response.statusCode} ${response.body}`);
};
for (let i = 0; i < warmup; i++) await invoke(i);

// Events and contexts are built before the clock starts: only the handler is timed.
const events = Array.from({ length: count }, (_, i) => contactEvent(users[(warmup + i) % users.length]!));
const contexts = Array.from({ length: count }, () => lambdaContext(60_000));
const latencies = new Float64Array(count);
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
for (let i = 0; i < count; i++) {
  const t = performance.now();
  const response = await handler(events[i], contexts[i]!);
  latencies[i] = performance.now() - t;
  if (response.statusCode !== 201) throw new Error(`invocation ${i}: ${response.statusCode} ${response.body}`);
}
const wallMs = performance.now() - wallStart;
const cpu = process.cpuUsage(cpuStart);
latencies.sort();
const at = (q: number) => latencies[Math.min(count - 1, Math.floor(q * count))]!;
writeFileSync(
  resultFile,
  JSON.stringify({
    count,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    meanMs: latencies.reduce((a, b) => a + b, 0) / count,
    perSecond: count / (wallMs / 1000),
    cpuPerInvocationUs: (cpu.user + cpu.system) / count,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
process.exit(0);
