import { GetSecretValueCommand, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type ConversationError, KeystoreError, KeystoreUnavailableError } from '../../errors';
import { type Keystore, parseKeystore } from '../../mixin/keystore';
import { ALARM_METRIC, countForAlarm, logger } from '../../observability';

/** What this middleware adds to the Lambda context. */
export interface KeystoreContext {
  keystore: Keystore;
  /**
   * After Mixin refused `stale` (a 401): the current keystore if it has changed since, else the secret read again
   * now (unless a read failed within the backoff), so a rotated key heals without a redeploy.
   */
  reloadKeystore: (stale: Keystore) => Promise<Keystore>;
}

/** The Lambda context once the keystore is loaded. */
export type ContextWithKeystore = Context & KeystoreContext;

export interface KeystoreLoaderOptions {
  /** Name or ARN of the secret holding the keystore JSON (SecretString, or SecretBinary holding UTF-8 JSON). */
  secretId: string;
  /** How long a good keystore is used before the secret is read again (key rotation delay). */
  cacheExpiryMs: number;
  /** Give up on Secrets Manager this long before the Lambda's own timeout, to answer with a typed error. */
  deadlineMarginMs: number;
  /** After a failed read, wait this long before reading again (serving the last good keystore, if any, meanwhile). */
  retryAfterFailureMs: number;
  /** Passed to the Secrets Manager client (endpoint, region, timeouts). */
  awsClientOptions: SecretsManagerClientConfig;
}

const defaults: KeystoreLoaderOptions = {
  secretId: '',
  cacheExpiryMs: 300_000,
  deadlineMarginMs: 500,
  retryAfterFailureMs: 10_000,
  // A hanging Secrets Manager must not eat the Lambda's deadline: bounded connect and request times.
  awsClientOptions: { maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } },
};

// Errors that another try cannot fix: the secret is missing or we may not read it.
const PERMANENT_AWS_ERRORS = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure', 'InvalidParameterException', 'InvalidRequestException']);

/** Turns whatever a read threw into one of our typed errors, naming the AWS error, never a value. */
const toKeystoreError = (error: unknown): ConversationError => {
  if (error instanceof KeystoreError || error instanceof KeystoreUnavailableError) return error;
  const name = (error as { name?: string } | undefined)?.name ?? 'Error';
  if (PERMANENT_AWS_ERRORS.has(name)) return new KeystoreError(`the secret cannot be read (${name})`);
  return new KeystoreUnavailableError(`Secrets Manager did not deliver the secret (${name})`);
};

/**
 * The keystore from AWS Secrets Manager, one cache, one owner. The secret is read at init (the cold start's
 * prefetch), then again when the keystore is older than `cacheExpiryMs` or after Mixin refused it. A read that
 * fails logs one ERROR line (the reason, never the value), counts `KeystoreReadFailed`, and starts a backoff of
 * `retryAfterFailureMs`: meanwhile the last good keystore keeps serving (a rotation to a broken secret changes
 * nothing), and an instance with none answers the failure again without a read (at most one read per window).
 * Only a transient failure with no good keystore in hand is tried again on the next request: there is nothing
 * else to serve. Every wait is bounded by the Lambda deadline; a read outliving one is aborted.
 */
export const keystoreLoader = (opts: Partial<KeystoreLoaderOptions> & { secretId: string }): middy.MiddlewareObj<unknown, unknown, Error, ContextWithKeystore> => {
  const options = { ...defaults, ...opts, awsClientOptions: { ...defaults.awsClientOptions, ...opts.awsClientOptions } };
  const client = options.secretId ? new SecretsManagerClient(options.awsClientOptions) : undefined;
  let good: { keystore: Keystore; raw: string; readAt: number } | undefined;
  let failure: { error: ConversationError; at: number } | undefined;
  let reading: { keystore: Promise<Keystore>; abort: AbortController } | undefined;

  const fetchSecret = async (signal: AbortSignal): Promise<string> => {
    if (!client) throw new KeystoreError('no secret is configured (set MIXIN_KEYSTORE_SECRET_ID)');
    const out = await client.send(new GetSecretValueCommand({ SecretId: options.secretId }), { abortSignal: signal });
    if (typeof out.SecretString === 'string') return out.SecretString;
    if (out.SecretBinary) return Buffer.from(out.SecretBinary).toString('utf8');
    throw new KeystoreError('the secret has no value');
  };

  /** The read in flight, or a new one: shared by every request (and record) that needs it. */
  const read = (): NonNullable<typeof reading> => {
    if (reading) return reading;
    const abort = new AbortController();
    const keystore = (async () => {
      try {
        const raw = await fetchSecret(abort.signal);
        const keystore = good?.raw === raw ? good.keystore : parseKeystore(raw);
        good = { keystore, raw, readAt: Date.now() };
        failure = undefined;
        return keystore;
      } catch (error) {
        const typed = toKeystoreError(error);
        failure = { error: typed, at: Date.now() };
        logger.error('keystore read failed', { reason: typed.message, retryable: typed.retryable, serving_last_good_keystore: good !== undefined });
        countForAlarm(ALARM_METRIC.keystoreReadFailed);
        throw typed;
      } finally {
        reading = undefined;
      }
    })();
    reading = { keystore, abort };
    return reading;
  };

  /** Waits for a read until `deadline`; past it, aborts the read so that the next request starts afresh. */
  const readBy = async (deadline: number | undefined): Promise<Keystore> => {
    const current = read();
    if (deadline === undefined) return current.keystore;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        current.abort.abort();
        reject(new KeystoreUnavailableError('Secrets Manager did not answer before the deadline'));
      }, Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([current.keystore, late]);
    } finally {
      clearTimeout(timer);
    }
  };

  const backingOff = (): boolean =>
    failure !== undefined && Date.now() - failure.at < options.retryAfterFailureMs && (good !== undefined || !failure.error.retryable);

  /** The keystore for a request: the cached one while fresh, else a new read, else the last good one. */
  const keystoreFor = async (deadline: number | undefined): Promise<Keystore> => {
    if (good && Date.now() - good.readAt < options.cacheExpiryMs) return good.keystore;
    if (backingOff()) {
      if (good) return good.keystore;
      throw failure!.error;
    }
    try {
      return await readBy(deadline);
    } catch (error) {
      if (good) return good.keystore;
      throw error;
    }
  };

  if (client) read().keystore.catch(() => undefined); // the cold start's prefetch; its failure is logged and remembered

  const keystoreLoaderBefore: middy.MiddlewareFn<unknown, unknown, Error, ContextWithKeystore> = async (request) => {
    const remaining = request.context.getRemainingTimeInMillis?.();
    const deadline = remaining === undefined ? undefined : Date.now() + remaining - options.deadlineMarginMs;
    request.context.keystore = await keystoreFor(deadline);
    request.context.reloadKeystore = async (stale) => {
      // Another record of this batch may have re-read it already.
      if (good && good.keystore !== stale) return (request.context.keystore = good.keystore);
      if (backingOff()) return stale;
      const fresh = await readBy(deadline).catch(() => stale);
      return (request.context.keystore = fresh);
    };
  };

  return { before: keystoreLoaderBefore };
};
