import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { MixinSandbox } from '../../infra/local/mixin-sandbox';
import { LocalSecretsManager } from '../../infra/local/secrets-manager';
import { makeBot, type TestBot } from '../../infra/local/keys';

export { httpEvent, lambdaContext, sqsEvent } from '../../infra/local/lambda-events';

/** A Mixin sandbox and a local Secrets Manager on 127.0.0.1 holding a throwaway bot's keystore, and the env that points the real handlers at them. */
export interface Harness {
  sandbox: MixinSandbox;
  secrets: LocalSecretsManager;
  bot: TestBot;
  secretId: string;
  /** Loads a module with a fresh module registry (fresh config, fresh keystore cache). */
  load: <T>(path: string) => T;
  stop: () => Promise<void>;
}

export const startHarness = async (env: Record<string, string> = {}): Promise<Harness> => {
  const bot = makeBot();
  const sandbox = await new MixinSandbox({ apps: [bot.app] }).start();
  const secrets = await new LocalSecretsManager().start();
  const secretId = `mixin/bot-${randomUUID()}`;
  secrets.put(secretId, JSON.stringify(bot.json));
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    MIXIN_API_URL: sandbox.url,
    MIXIN_KEYSTORE_SECRET_ID: secretId,
    MIXIN_ATTEMPT_TIMEOUT_MS: '300',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Instances start at full speed (a stated ceiling is where the rate limiter starts): tests about the rate limit
    // itself (test/rate-limiter.test.ts, scripts/drain-inprocess.ts) run without it.
    MIXIN_MAX_CALLS_PER_SECOND: '1000',
    ...env,
  });
  const load = <T>(path: string): T => {
    let mod: T | undefined;
    jest.isolateModules(() => {
      // A fresh registry per load needs a synchronous require.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(path) as T;
    });
    return mod!;
  };
  return {
    sandbox,
    secrets,
    bot,
    secretId,
    load,
    stop: async () => {
      process.env = saved;
      await Promise.all([sandbox.stop(), secrets.stop()]);
    },
  };
};

/** A handler as the Lambda runtime calls it. */
export type LambdaHandler<E = unknown, R = unknown> = (event: E, context: Context) => Promise<R>;

/** Captures everything written to the console from now on (restore with `jest.restoreAllMocks()`), one string per call. */
export const captureConsole = (): string[] => {
  const lines: string[] = [];
  const capture = (...args: unknown[]) =>
    void lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const)
    jest.spyOn(console, method).mockImplementation(capture);
  return lines;
};
