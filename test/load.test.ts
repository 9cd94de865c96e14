/**
 * A short `npm run load` (the handler load of scripts/load/handlers.ts) against real local peers, so that the load
 * tool cannot rot unnoticed: every logical request ends as exactly the group its key addresses.
 */
import { runHandlerLoad } from '../scripts/load/handlers';

jest.setTimeout(60_000);

it('runs a short handler load with transient faults: nothing lost, nothing missing, nothing duplicated', async () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const table = jest.spyOn(console, 'table').mockImplementation(() => undefined);
  try {
    const { summary, violations } = await runHandlerLoad({ requests: 40, concurrency: 10, batchSize: 10, latencyMs: 1, faultRate: 0.1, maxRounds: 10 });
    expect(violations).toEqual([]);
    expect(summary).toMatchObject({ 'logical requests': 80, 'groups created': 80, 'expected groups missing': 0, duplicates: 0, lost: 0, 'non-retryable failures': 0 });
    expect(summary['Mixin POSTs']).toBeGreaterThanOrEqual(80);
  } finally {
    log.mockRestore();
    table.mockRestore();
  }
});
