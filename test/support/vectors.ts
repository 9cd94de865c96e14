import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The golden vectors from the official SDKs. A copy lives in test/fixtures so a clone stands alone; vectors.test.ts keeps it equal to ../shared. */
export const FIXTURE_VECTORS = join(__dirname, '..', 'fixtures', 'vectors');
export const SHARED_VECTORS = join(__dirname, '..', '..', '..', 'shared', 'vectors');

export const loadVector = <T>(name: 'contact' | 'group' | 'token'): T =>
  JSON.parse(
    readFileSync(join(existsSync(SHARED_VECTORS) ? SHARED_VECTORS : FIXTURE_VECTORS, `${name}.json`), 'utf8'),
  ) as T;

export interface ContactVector {
  user_id: string;
  recipient_id: string;
  conversation_id: string;
}
export interface GroupVector {
  owner_id: string;
  group_name: string;
  participants: string[];
  random_id: string;
  conversation_id: string;
}
export interface TokenVector {
  seed_hex: string;
  public_key_hex: string;
  method: string;
  uri: string;
  body: string;
  payload: { uid: string; sid: string; iat: number; exp: number; jti: string; sig: string; scp: string };
  token: string;
}
