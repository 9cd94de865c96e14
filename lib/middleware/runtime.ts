import { loadConfig } from '../config';
import type { KeystoreLoaderOptions } from './keystore';

/** The configuration of this process, read once at cold start (README "Configuration"). */
export const config = loadConfig();

/** Where and for how long the keystore secret is read. */
export const keystoreOptions: Partial<KeystoreLoaderOptions> & { secretId: string } = {
  secretId: config.keystoreSecretId,
  cacheExpiryMs: config.keystoreCacheTtlMs,
  deadlineMarginMs: config.deadlineMarginMs,
};
