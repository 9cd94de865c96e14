/**
 * A short `npm run load` (the handler load of scripts/load/handlers.ts) against real local peers, so that the load
 * tool cannot rot unnoticed: every logical request ends as exactly the group its key addresses; and a short bulk
 * scenario (scripts/load/bulk.ts) through npm start.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBulk } from '../scripts/load/bulk';
import { runHandlerLoad } from '../scripts/load/handlers';

jest.setTimeout(60_000);

it('runs a short handler load with transient faults: nothing lost, nothing missing, nothing duplicated', async () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const table = jest.spyOn(console, 'table').mockImplementation(() => undefined);
  try {
    const { summary, violations } = await runHandlerLoad({
      requests: 40,
      concurrency: 10,
      batchSize: 10,
      latencyMs: 1,
      faultRate: 0.1,
      maxRounds: 10,
    });
    expect(violations).toEqual([]);
    expect(summary).toMatchObject({
      'logical requests': 80,
      'groups created': 80,
      'expected groups missing': 0,
      duplicates: 0,
      lost: 0,
      'non-retryable failures': 0,
    });
    expect(summary['Mixin POSTs']).toBeGreaterThanOrEqual(80);
  } finally {
    log.mockRestore();
    table.mockRestore();
  }
});

it('runs a short bulk scenario through npm start (serverless-offline, the local SQS, the queue functions) against a rate-limited sandbox: every record created once, none lost', async () => {
  const log: string[] = [];
  const result = await runBulk({
    kind: 'groups',
    n: 30,
    rate: 50,
    capSeconds: 100,
    latencyMs: 0,
    maximumConcurrency: 2,
    timeouts: 'local',
    log: (line) => log.push(line),
  });
  expect({
    created: result.created,
    lost: result.lost,
    duplicated: result.duplicated,
    stillQueued: result.stillQueued,
    log: log.join('\n').slice(0, 2000),
  }).toEqual({
    created: 30,
    lost: 0,
    duplicated: 0,
    stillQueued: 0,
    log: expect.stringContaining('createGroupQueue (2 batches at once, timeout 5 s)'),
  });
  expect(result.drainSeconds).toBeGreaterThan(0);
  expect(result.mixinCalls).toBeGreaterThanOrEqual(30);
  expect(result.callsPerRecord).toBe(result.mixinCalls / 30);
  expect(result.share429).toBe(result.mixinCalls === 0 ? 0 : result.answered429 / result.mixinCalls);
}, 240_000);

it('refuses a results folder it cannot write to before starting anything (the figures of minutes of drains would be lost): the usage error, exit 1', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'load-out-')), 'a-file');
  writeFileSync(file, '');
  const out = spawnSync('npx', ['tsx', 'scripts/load.ts', 'bulk', '--run', '30@2', '--out', join(file, 'results')], {
    cwd: `${__dirname}/..`,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(out.status).toBe(1);
  expect(out.stderr).toContain(`--out ${join(file, 'results')}: cannot write results there`);
  expect(out.stderr).not.toContain('starting npm start');
  expect(out.stderr).not.toMatch(/crashed|\n\s+at /);
});

it('refuses an option without its value (--out alone wrote over bench/results) before starting anything: exit 1', () => {
  for (const argv of [['--out'], ['--label'], ['--out', '--no-write'], ['--run']]) {
    const out = spawnSync('npx', ['tsx', 'scripts/load.ts', 'bulk', ...argv], {
      cwd: `${__dirname}/..`,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect({ argv, status: out.status }).toEqual({ argv, status: 1 });
    expect(out.stderr).toContain(`${argv[0]} takes a value`);
    expect(out.stderr).not.toContain('starting npm start');
  }
});

it('refuses a --concurrency the local event source mapping cannot take, under its own name, before starting anything', () => {
  for (const c of ['0.4', '0', '1001', '1e9']) {
    const out = spawnSync(
      'npx',
      ['tsx', 'scripts/load.ts', 'bulk', '--run', '20@50', '--no-write', '--concurrency', c],
      {
        cwd: `${__dirname}/..`,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect({ c, status: out.status }).toEqual({ c, status: 1 });
    expect(out.stderr).toContain(`--concurrency takes a whole number from 1 to 1000, got "${c}"`);
    expect(out.stderr).not.toContain('starting npm start');
  }
});

it('refuses a bulk run it cannot measure (R = 0 is no limit, N = 0 no records) before starting anything: the usage error, exit 1', () => {
  for (const run of ['30@0', '0@5']) {
    const out = spawnSync('npx', ['tsx', 'scripts/load.ts', 'bulk', '--run', run, '--no-write'], {
      cwd: `${__dirname}/..`,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect({ run, status: out.status }).toEqual({ run, status: 1 });
    expect(out.stderr).toContain('--run takes N@R');
    expect(out.stderr).not.toContain('starting npm start');
    expect(out.stderr).not.toMatch(/crashed|\n\s+at /); // a usage line, not a stack trace
  }
});
