import type { MixinSandbox } from '../../infra/local/mixin-sandbox';
import type { MixinCallOptions } from '../../lib/mixin/request';

/** Call options for tests against the sandbox: its URL, a short backoff and attempt timeout, and `extra` on top. */
export const fastCalls =
  (sandbox: () => MixinSandbox) =>
  (extra: MixinCallOptions = {}): MixinCallOptions => ({
    baseUrl: sandbox().url,
    backoffBaseMs: 5,
    backoffCapMs: 20,
    attemptTimeoutMs: 500,
    ...extra,
  });
