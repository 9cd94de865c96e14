import secretsManager from '@middy/secrets-manager';
import { clearCache, getCache, getInternal } from '@middy/util';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { KeystoreError, KeystoreUnavailableError } from '../errors';
import { type Keystore, parseKeystore } from '../mixin/keystore';

/** What this middleware adds to the Lambda context. */
export interface KeystoreContext {
  keystore: Keystore;
  /** Drops the cached secret and reads it again (a rotated key heals without a redeploy). */
  reloadKeystore: () => Promise<Keystore>;
}

/** The Lambda context once the keystore is loaded. */
export type ContextWithKeystore = Context & KeystoreContext;

export interface KeystoreLoaderOptions {
  /** Name or ARN of the secret holding the keystore JSON. */
  secretId: string;
  /** How long a fetched secret is trusted before it is read again. */
  cacheExpiryMs: number;
  /** Give up on Secrets Manager this long before the Lambda's own timeout, to answer with a typed error. */
  deadlineMarginMs: number;
  /** Passed to the Secrets Manager client (endpoint, region, timeouts). */
  awsClientOptions?: Record<string, unknown>;
}

const defaults = {
  secretId: '',
  cacheExpiryMs: 300_000,
  deadlineMarginMs: 500,
  // A hanging Secrets Manager must not eat the Lambda's deadline: bounded connect and request times.
  awsClientOptions: { maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } },
};

// Errors that another try cannot fix: the secret is missing or we may not read it.
const PERMANENT_AWS_ERRORS = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure', 'InvalidParameterException', 'InvalidRequestException']);

/** Turns whatever the secret fetch threw into one of our typed errors, without its payload. */
const toKeystoreError = (error: unknown): Error => {
  const cause = (error as { cause?: { data?: unknown[] } }).cause?.data?.[0] ?? error;
  const name = (cause as { name?: string }).name ?? 'Error';
  if (PERMANENT_AWS_ERRORS.has(name)) return new KeystoreError(`the secret cannot be read (${name})`);
  return new KeystoreUnavailableError(`Secrets Manager did not deliver the secret (${name})`);
};

/**
 * Loads the bot keystore from AWS Secrets Manager with `@middy/secrets-manager` (fetched at cold start,
 * cached for `cacheExpiryMs`), parses it once per secret version and puts it on the context.
 */
export const keystoreLoader = (opts: Partial<KeystoreLoaderOptions> & { secretId: string }): middy.MiddlewareObj<unknown, unknown, Error, ContextWithKeystore> => {
  const options = { ...defaults, ...opts, awsClientOptions: { ...defaults.awsClientOptions, ...opts.awsClientOptions } };
  const cacheKey = `mixin-keystore:${options.secretId}`;
  const secrets = options.secretId
    ? secretsManager({ fetchData: { keystore: options.secretId }, cacheKey, cacheExpiry: options.cacheExpiryMs, awsClientOptions: options.awsClientOptions })
    : undefined;
  // The secret is prefetched at cold start; if that fetch fails before the first request awaits it, the
  // rejection must not crash the init phase: the first request sees it and maps it to a typed error.
  (getCache(cacheKey).value as { keystore?: Promise<unknown> } | undefined)?.keystore?.catch(() => undefined);
  let parsed: { raw: unknown; keystore: Keystore } | undefined;

  const load = async (request: middy.Request<unknown, unknown, Error, ContextWithKeystore>): Promise<Keystore> => {
    if (!secrets?.before) throw new KeystoreError('no secret is configured (set MIXIN_KEYSTORE_SECRET_ID)');
    let raw: unknown;
    try {
      await secrets.before(request as never);
      raw = (await getInternal(['keystore'], request as never)).keystore;
    } catch (error) {
      throw toKeystoreError(error);
    }
    if (parsed && parsed.raw === raw) return parsed.keystore;
    const keystore = parseKeystore(raw);
    parsed = { raw, keystore };
    return keystore;
  };

  /** `load`, but never past the Lambda deadline: the SDK's own retries (throttling backoff) can take seconds. */
  const loadInTime = async (request: middy.Request<unknown, unknown, Error, ContextWithKeystore>): Promise<Keystore> => {
    const remaining = request.context.getRemainingTimeInMillis?.();
    if (remaining === undefined) return load(request);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Forget the stuck fetch, or the next invocation would wait on the very same one.
        clearCache([cacheKey]);
        reject(new KeystoreUnavailableError('Secrets Manager did not answer before the deadline'));
      }, Math.max(0, remaining - options.deadlineMarginMs));
    });
    try {
      return await Promise.race([load(request), late]);
    } finally {
      clearTimeout(timer);
    }
  };

  const keystoreLoaderBefore: middy.MiddlewareFn<unknown, unknown, Error, ContextWithKeystore> = async (request) => {
    request.context.keystore = await loadInTime(request);
    request.context.reloadKeystore = async () => {
      clearCache([cacheKey]);
      return loadInTime(request);
    };
  };

  return { before: keystoreLoaderBefore };
};
