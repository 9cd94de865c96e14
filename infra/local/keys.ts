/** Throwaway bots for local runs, tests, the load script and the bench: never a real key. */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { SandboxApp } from './mixin-sandbox';
import { type Keystore, parseKeystore } from '../../lib/mixin/keystore-parser';

/** A throwaway bot: its dashboard-format keystore JSON, the parsed keystore and the sandbox registration. */
export interface TestBot {
  json: { app_id: string; session_id: string; server_public_key: string; session_private_key: string };
  keystore: Keystore;
  app: SandboxApp;
  seedHex: string;
}

/** Generates a fresh Ed25519 session for a (new or given) bot ID. Never a real key. */
export const makeBot = (appId: string = randomUUID()): TestBot => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seedHex = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
  const publicKeyHex = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const server = generateKeyPairSync('ed25519')
    .publicKey.export({ format: 'der', type: 'spki' })
    .subarray(-32)
    .toString('hex');
  const json = { app_id: appId, session_id: randomUUID(), server_public_key: server, session_private_key: seedHex };
  const keystore = parseKeystore(json);
  return { json, keystore, seedHex, app: { appId, sessionId: json.session_id, publicKeyHex } };
};
