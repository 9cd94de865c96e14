/**
 * One cold start, in a fresh process: load the bundle, serve one event, report.
 *   node cold.mjs <bundle.mjs> <result.json> <user_id> <http|queue>
 * `http`: one POST /contacts (success: 201); `queue`: an SQS batch of one valid record (success: no batchItemFailures).
 * Times are performance.now(), i.e. milliseconds since this process started (performance.timeOrigin).
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { contactEvent, contactQueueEvent, type Handler, lambdaContext, type QueueHandler } from './lambda';

const runnerStartMs = performance.now();
const [bundle, resultFile, userId, trigger = 'http'] = process.argv.slice(2) as [string, string, string, string?];
const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: Handler };
const loadedMs = performance.now();
const cpuAtLoad = process.cpuUsage();

/** Serves the one event; says whether the answer was a success and, if not, what it was. */
const serve = async (): Promise<{ ok: boolean; detail?: string }> => {
  if (trigger === 'queue') {
    const { batchItemFailures } = await (handler as unknown as QueueHandler)(
      contactQueueEvent(userId),
      lambdaContext(),
    );
    return batchItemFailures.length === 0
      ? { ok: true }
      : { ok: false, detail: `batchItemFailures ${JSON.stringify(batchItemFailures)}` };
  }
  const response = await handler(contactEvent(userId), lambdaContext());
  return response.statusCode === 201
    ? { ok: true }
    : { ok: false, detail: `HTTP ${response.statusCode} ${response.body}` };
};

const answer = await serve();
const firstResponseMs = performance.now();
const cpu = process.cpuUsage();
const usage = process.resourceUsage();
writeFileSync(
  resultFile,
  JSON.stringify({
    runnerStartMs,
    loadedMs,
    firstResponseMs,
    cpuToLoadedMs: (cpuAtLoad.user + cpuAtLoad.system) / 1000,
    cpuToResponseMs: (cpu.user + cpu.system) / 1000,
    maxRssMB: usage.maxRSS / 1024,
    ...answer,
  }),
);
process.exit(0);
