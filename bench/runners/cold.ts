/**
 * One cold start, in a fresh process: load the bundle, serve one POST /contacts, report.
 *   node cold.mjs <bundle.mjs> <result.json> <user_id>
 * Times are performance.now(), i.e. milliseconds since this process started (performance.timeOrigin).
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { contactEvent, type Handler, lambdaContext } from './lambda';

const runnerStartMs = performance.now();
const [bundle, resultFile, userId] = process.argv.slice(2) as [string, string, string];
const mod = (await import(pathToFileURL(bundle).href)) as { handler: Handler };
const loadedMs = performance.now();
const cpuAtLoad = process.cpuUsage();
const response = await mod.handler(contactEvent(userId), lambdaContext());
const firstResponseMs = performance.now();
const cpu = process.cpuUsage();
const usage = process.resourceUsage();
writeFileSync(resultFile, JSON.stringify({
  runnerStartMs,
  loadedMs,
  firstResponseMs,
  cpuToLoadedMs: (cpuAtLoad.user + cpuAtLoad.system) / 1000,
  cpuToResponseMs: (cpu.user + cpu.system) / 1000,
  maxRssMB: usage.maxRSS / 1024,
  status: response.statusCode,
  body: response.statusCode === 201 ? undefined : response.body,
}));
process.exit(0);
