import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { KeystoreCache } from '../../mixin/keystore-cache';
import type { Keystore } from '../../mixin/keystore-parser';
import { deadlineOf } from '../deadline';
import { secretsManagerReader } from '../secret-reader';

/** What this middleware adds to the Lambda context. */
export interface KeystoreContext {
  keystore: Keystore;
  /** After Mixin refused `stale` (a 401): the keystore to try again with (lib/mixin/keystore-cache.ts `reload`). */
  reloadKeystore: (stale: Keystore) => Promise<Keystore>;
}

/** The Lambda context once the keystore is loaded. */
export type ContextWithKeystore = Context & KeystoreContext;

/** Where and how the keystore is read: every value comes from lib/config.ts (lib/lambda/runtime.ts). */
export interface KeystoreLoaderOptions {
  /** Name or ARN of the secret holding the keystore JSON. */
  secretId: string;
  cacheTtlMs: number;
  retryAfterFailureMs: number;
  refreshWaitMs: number;
  /** Give up on Secrets Manager this long before the Lambda's own timeout, to answer with a typed error. */
  deadlineMarginMs: number;
  /** Passed to the Secrets Manager client over its defaults (lib/lambda/secret-reader.ts). */
  awsClientOptions?: SecretsManagerClientConfig;
}

/**
 * middy adapter of the keystore cache (lib/mixin/keystore-cache.ts) over Secrets Manager: one cache per instance,
 * its first read started at init (the cold start's prefetch); each invocation gets the keystore by its deadline
 * and a way to reload it after a 401 within the same deadline.
 */
export const keystoreLoader = (
  options: KeystoreLoaderOptions,
): middy.MiddlewareObj<unknown, unknown, Error, ContextWithKeystore> => {
  const cache = new KeystoreCache({
    read: secretsManagerReader(options.secretId, options.awsClientOptions),
    ttlMs: options.cacheTtlMs,
    retryAfterFailureMs: options.retryAfterFailureMs,
    refreshWaitMs: options.refreshWaitMs,
  });
  cache.prefetch();

  const keystoreLoaderBefore: middy.MiddlewareFn<unknown, unknown, Error, ContextWithKeystore> = async (request) => {
    const { context } = request;
    const deadline = deadlineOf(context, options.deadlineMarginMs);
    context.keystore = await cache.get(deadline);
    context.reloadKeystore = async (stale) => (context.keystore = await cache.reload(stale, deadline));
  };

  return { before: keystoreLoaderBefore };
};
