/**
 * CPU per call of ID + token + request building (no network), in a fresh process.
 *   node micro.mjs <micro-bundle.mjs> <result.json> <user-ids.json> <minCalls> <minMs>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, resultFile, usersFile, minCallsArg, minMsArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const users = JSON.parse(readFileSync(usersFile, 'utf8')) as string[];
const { buildRequest } = (await import(pathToFileURL(bundle).href)) as {
  buildRequest: (userId: string) => { body: string; headers: Record<string, string> };
};

let sink = 0;
const run = (n: number, offset: number) => {
  for (let i = 0; i < n; i++) sink += buildRequest(users[(offset + i) % users.length]!).headers.Authorization!.length;
};
run(300, 0); // warm-up: JIT, lazy initialisation
const minCalls = Number(minCallsArg);
const minMs = Number(minMsArg);
let calls = 0;
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
while (calls < minCalls || performance.now() - wallStart < minMs) {
  run(100, calls);
  calls += 100;
}
const wallMs = performance.now() - wallStart;
const cpu = process.cpuUsage(cpuStart);
writeFileSync(
  resultFile,
  JSON.stringify({
    calls,
    cpuPerCallUs: (cpu.user + cpu.system) / calls,
    wallPerCallUs: (wallMs * 1000) / calls,
    sink,
  }),
);
process.exit(0);
