/** Fresh Node 24 child processes that write their figures to a JSON file. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../infra/local/command';

/** Node 24: the `node` devDependency, whatever node runs this script. */
export const NODE = ((): string => {
  const local = join(ROOT, 'node_modules', '.bin', 'node');
  return existsSync(local) ? local : process.execPath;
})();

const scratch = mkdtempSync(join(tmpdir(), 'mixin-bench-'));
let serial = 0;
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

export interface ChildResult<T> {
  result: T;
  /** Wall time from spawn() to the child's exit, as the parent sees it. */
  wallMs: number;
}

/**
 * Runs `node [nodeArgs] script args... <result.json>`-style children: `args` may contain the token RESULT, replaced
 * by a fresh result file path. The environment is exactly `env` (nothing inherited): a Lambda starts clean too.
 */
export const runNode = <T>(
  nodeArgs: string[],
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<ChildResult<T>> =>
  new Promise((resolve, reject) => {
    const resultFile = join(scratch, `r${serial++}.json`);
    const started = performance.now();
    const child = spawn(NODE, [...nodeArgs, script, ...args.map((a) => (a === 'RESULT' ? resultFile : a))], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdoutBytes = 0;
    // Logs go to stdout as they would to CloudWatch: drained, counted, not kept.
    child.stdout.on('data', (c: Buffer) => (stdoutBytes += c.length));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      if (code !== 0 || !existsSync(resultFile))
        return reject(new Error(`${script} ${args.join(' ')} exited with ${code}:\n${stderr}`));
      const result = JSON.parse(readFileSync(resultFile, 'utf8')) as T;
      rmSync(resultFile, { force: true });
      resolve({ result, wallMs });
    });
  });
