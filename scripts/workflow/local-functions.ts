/**
 * Which function of a running `npm start` a state machine's `FunctionName` stands for.
 *
 * The .asl.json files name their functions by `${CreateGroupWorkflowArn}`-style placeholders, which
 * infra/state-machines/definitions.cjs maps to CloudFormation logical IDs for the deployment. Locally the same
 * function is `<service>-<stage>-<function key>` (serverless-offline's name for it), the key being the one in
 * infra/functions.yml whose logical ID (`upperFirst(key)` + `LambdaFunction`, osls' naming) matches.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** The stage `npm start` runs serverless-offline with (infra/local/start.ts). */
export const LOCAL_STAGE = 'local';

/** Placeholder name (without `${}`) -> logical ID, as the deployment resolves it. */
const placeholders = (): Record<string, string> =>
  (
    createRequire(__filename)(join(ROOT, 'infra', 'state-machines', 'definitions.cjs')) as {
      FUNCTIONS: Record<string, string>;
    }
  ).FUNCTIONS;

/** The function keys of infra/functions.yml: its top-level mapping keys. */
const functionKeys = (): string[] =>
  [...readFileSync(join(ROOT, 'infra', 'functions.yml'), 'utf8').matchAll(/^([A-Za-z0-9_-]+):\s*$/gm)].map(
    (m) => m[1]!,
  );

const serviceName = (): string => {
  const service = /^service:\s*([\w-]+)\s*$/m.exec(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'))?.[1];
  if (!service) throw new Error('serverless.yml: no `service:` line');
  return service;
};

const logicalIdOf = (key: string): string =>
  `${key.replace(/[^0-9A-Za-z]/g, '').replace(/^./, (c) => c.toUpperCase())}LambdaFunction`;

/**
 * A resolver from a task's `FunctionName` (a `${...}` placeholder, a function name or a Lambda ARN) to the
 * name serverless-offline knows the function by.
 */
export const localFunctionNames = (stage = LOCAL_STAGE): ((functionName: string) => string) => {
  const prefix = `${serviceName()}-${stage}-`;
  const byLogicalId = new Map(functionKeys().map((key) => [logicalIdOf(key), `${prefix}${key}`]));
  const known = placeholders();
  return (functionName) => {
    const placeholder = /^\$\{(\w+)\}$/.exec(functionName)?.[1];
    if (placeholder === undefined) return /:function:([^:]+)/.exec(functionName)?.[1] ?? functionName;
    const logicalId = known[placeholder];
    const local = logicalId === undefined ? undefined : byLogicalId.get(logicalId);
    if (!local) throw new Error(`FunctionName ${functionName}: no function in infra/functions.yml stands for it`);
    return local;
  };
};
