import secretsManager from '@middy/secrets-manager';
import { clearCache, getCache, getInternal } from '@middy/util';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { KeystoreError, KeystoreUnavailableError } from '../errors';
import { type Keystore, parseKeystore } from '../mixin/keystore';
import { logger } from '../observability';

/** What this middleware adds to the Lambda context. */
export interface KeystoreContext {
  keystore: Keystore;
  /**
   * After Mixin refused `stale` (a 401): the current keystore if it has changed since, else the secret read again
   * now, so a rotated key heals without a redeploy.
   */
  reloadKeystore: (stale: Keystore) => Promise<Keystore>;
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
  /** After a failed re-read, keep using the last good keystore this long before trying Secrets Manager again. */
  retryAfterFailureMs: number;
  /** Passed to the Secrets Manager client (endpoint, region, timeouts). */
  awsClientOptions?: Record<string, unknown>;
}

const defaults = {
  secretId: '',
  cacheExpiryMs: 300_000,
  deadlineMarginMs: 500,
  retryAfterFailureMs: 10_000,
  // A hanging Secrets Manager must not eat the Lambda's deadline: bounded connect and request times.
  awsClientOptions: { maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } },
};

// Errors that another try cannot fix: the secret is missing or we may not read it.
const PERMANENT_AWS_ERRORS = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure', 'InvalidParameterException', 'InvalidRequestException']);

/** Turns whatever the secret fetch threw into one of our typed errors, without its payload. */
const toKeystoreError = (error: unknown): Error => {
  if (error instanceof KeystoreError || error instanceof KeystoreUnavailableError) return error;
  const cause = (error as { cause?: { data?: unknown[] } }).cause?.data?.[0] ?? error;
  const name = (cause as { name?: string }).name ?? 'Error';
  if (PERMANENT_AWS_ERRORS.has(name)) return new KeystoreError(`the secret cannot be read (${name})`);
  return new KeystoreUnavailableError(`Secrets Manager did not deliver the secret (${name})`);
};

type Request = middy.Request<unknown, unknown, Error, ContextWithKeystore>;

/**
 * Loads the bot keystore from AWS Secrets Manager with `@middy/secrets-manager` and puts it on the context.
 * The secret is prefetched during init. Every later read is one a request waits for: middy caches without its own
 * refresh timer (a background refresh that fails would be an unhandled rejection), and this middleware decides when
 * to read again: after `cacheExpiryMs`, or at once when asked (`reloadKeystore`, after a 401). A failed read keeps
 * serving the last good keystore (stale if error) and tries again after `retryAfterFailureMs`. Never past the deadline.
 */
export const keystoreLoader = (opts: Partial<KeystoreLoaderOptions> & { secretId: string }): middy.MiddlewareObj<unknown, unknown, Error, ContextWithKeystore> => {
  const options = { ...defaults, ...opts, awsClientOptions: { ...defaults.awsClientOptions, ...opts.awsClientOptions } };
  const cacheKey = `mixin-keystore:${options.secretId}`;
  // cacheExpiry -1: middy keeps the value until we clear it, and sets no timer.
  const secrets = options.secretId
    ? secretsManager({ fetchData: { keystore: options.secretId }, cacheKey, cacheExpiry: -1, awsClientOptions: options.awsClientOptions })
    : undefined;
  // The init prefetch is awaited by the first request; until then its rejection must not crash the init phase.
  (getCache(cacheKey).value as { keystore?: Promise<unknown> } | undefined)?.keystore?.catch(() => undefined);

  let current: { raw: unknown; keystore: Keystore } | undefined;
  let fetchedAt = Date.now();
  let retryAt = 0;
  let rereading: Promise<Keystore> | undefined;

  /** Reads the (cached or fresh) secret and parses it once per value. */
  const read = async (request: Request): Promise<Keystore> => {
    if (!secrets?.before) throw new KeystoreError('no secret is configured (set MIXIN_KEYSTORE_SECRET_ID)');
    let raw: unknown;
    try {
      await secrets.before(request as never);
      raw = (await getInternal(['keystore'], request as never)).keystore;
    } catch (error) {
      throw toKeystoreError(error);
    }
    if (current && current.raw === raw) return current.keystore;
    const keystore = parseKeystore(raw);
    current = { raw, keystore };
    return keystore;
  };

  /** `read` bounded by the Lambda deadline: the SDK's own retries (throttling backoff) can take seconds. */
  const readInTime = async (request: Request): Promise<Keystore> => {
    const remaining = request.context.getRemainingTimeInMillis?.();
    if (remaining === undefined) return read(request);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Forget the stuck fetch, or the next invocation would wait on the very same one.
        clearCache([cacheKey]);
        reject(new KeystoreUnavailableError('Secrets Manager did not answer before the deadline'));
      }, Math.max(0, remaining - options.deadlineMarginMs));
    });
    try {
      return await Promise.race([read(request), late]);
    } finally {
      clearTimeout(timer);
    }
  };

  /** A fresh read of the secret; concurrent callers (records of one batch) share it. */
  const reread = (request: Request): Promise<Keystore> => {
    rereading ??= (async () => {
      clearCache([cacheKey]);
      try {
        const keystore = await readInTime(request);
        fetchedAt = Date.now();
        retryAt = 0;
        return keystore;
      } catch (error) {
        const typed = toKeystoreError(error);
        if (!current || typed instanceof KeystoreError) throw typed;
        // Stale if error: the last good key keeps working while Secrets Manager is down.
        retryAt = Date.now() + options.retryAfterFailureMs;
        logger.warn('keystore re-read failed; using the last good keystore', { error_name: typed.name, error_message: typed.message });
        return current.keystore;
      } finally {
        rereading = undefined;
      }
    })();
    return rereading;
  };

  const keystoreFor = (request: Request): Promise<Keystore> => {
    const now = Date.now();
    if (!current) return readInTime(request).then((k) => ((fetchedAt = Date.now()), k));
    if (now - fetchedAt < options.cacheExpiryMs || now < retryAt) return Promise.resolve(current.keystore);
    return reread(request);
  };

  const keystoreLoaderBefore: middy.MiddlewareFn<unknown, unknown, Error, ContextWithKeystore> = async (request) => {
    request.context.keystore = await keystoreFor(request);
    request.context.reloadKeystore = async (stale) => {
      // Another record of this batch may have re-read it already.
      const fresh = current && current.keystore !== stale ? current.keystore : await reread(request);
      request.context.keystore = fresh;
      return fresh;
    };
  };

  return { before: keystoreLoaderBefore };
};
