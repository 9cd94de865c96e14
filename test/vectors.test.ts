import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_VECTORS, SHARED_VECTORS } from './support/vectors';

// The fixtures are a copy of ../shared/vectors so a clone runs on its own; where shared/ is beside
// the clone (development, CI) the copy must not have drifted.
const sharedPresent = existsSync(SHARED_VECTORS);

describe('golden vector fixtures', () => {
  it.each(['contact', 'group', 'token'])('%s.json equals ../shared/vectors when present', (name) => {
    const fixture = readFileSync(join(FIXTURE_VECTORS, `${name}.json`), 'utf8');
    expect(JSON.parse(fixture)).toBeTruthy();
    if (sharedPresent) expect(fixture).toBe(readFileSync(join(SHARED_VECTORS, `${name}.json`), 'utf8'));
  });
});
