/**
 * `npm run workflow -- '<input JSON>'`: runs the example state machine on this machine against the functions
 * of a running `npm start`, printing each state as it runs and then the execution's output.
 *
 *   npm start                                  # in one terminal
 *   npm run workflow -- '{"name":"Team room","participants":[{"user_id":"<uuid>"}]}'
 *
 * The definition is infra/state-machines/open-team-room.asl.json as deployed, run by aws-local-stepfunctions;
 * each `arn:aws:states:::lambda:invoke` Task invokes the function over serverless-offline's Lambda invoke
 * endpoint (scripts/workflow/lambda-invoke.ts), so Retry and Catch see the same error names as in AWS.
 * State lines go to stderr, the output JSON to stdout (pipe it to jq).
 *
 * Options:
 *   --execution-name NAME    $$.Execution.Name (default: a random UUID, as Step Functions picks). The same name
 *                            again gives the same idempotency keys, hence the same group.
 *   --retry-interval-ms MS   wait MS between retries instead of the definition's IntervalSeconds/BackoffRate.
 *   --definition FILE        another .asl.json (default: infra/state-machines/open-team-room.asl.json).
 * Environment: LAMBDA_URL (default http://127.0.0.1:$LAMBDA_PORT), LAMBDA_PORT (3002, as npm start).
 *
 * Exit code: 0 when the execution succeeds, 1 when it fails (the error name is printed), 2 for a bad command line.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type ExecutionEvent, eventLine } from './workflow/event-lines';
import { checkFunctionsExist, lambdaInvoke, type TaskHandler } from './workflow/lambda-invoke';
import { localFunctionNames } from './workflow/local-functions';
import { withStateNames } from './workflow/state-names';

const DEFAULT_DEFINITION = join(__dirname, '..', 'infra', 'state-machines', 'open-team-room.asl.json');
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const EXAMPLE = `npm run workflow -- '{"name":"Team room","participants":[{"user_id":"${'0c3b5fd4-5f6a-4a4e-9d2b-8f3a1c2e4b6d'}"}]}'`;

/** A command-line mistake: printed with the usage, exit code 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface Command {
  input: Record<string, unknown>;
  executionName: string;
  retryIntervalMs: number | undefined;
  definitionFile: string;
  endpoint: string;
}

type Definition = StateMachineDefinition & {
  States: Record<
    string,
    {
      Type?: string;
      Resource?: string;
      Parameters?: { FunctionName?: unknown };
      ItemProcessor?: { States: Definition['States'] };
      Iterator?: { States: Definition['States'] };
      Branches?: { States: Definition['States'] }[];
    }
  >;
};

/** The execution input: one argument, a JSON object. */
const parseInput = (positionals: string[]): Record<string, unknown> => {
  if (positionals.length !== 1)
    throw new UsageError(`give the execution input as one argument (got ${positionals.length}), e.g.\n  ${EXAMPLE}`);
  let input: unknown;
  try {
    input = JSON.parse(positionals[0]!);
  } catch (error) {
    throw new UsageError(
      `the input is not JSON (${(error as Error).message}); quote it for the shell, e.g.\n  ${EXAMPLE}`,
    );
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new UsageError(`the input must be a JSON object, e.g.\n  ${EXAMPLE}`);
  return input as Record<string, unknown>;
};

const parseRetryInterval = (raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0)
    throw new UsageError(`--retry-interval-ms must be a whole number of milliseconds >= 0, got "${raw}"`);
  return ms;
};

const lambdaEndpoint = (env: NodeJS.ProcessEnv): string => {
  if (env.LAMBDA_URL) return env.LAMBDA_URL;
  const port = env.LAMBDA_PORT || '3002';
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    throw new UsageError(`LAMBDA_PORT must be a TCP port (1-65535), got "${port}"`);
  return `http://127.0.0.1:${port}`;
};

const parseCommand = (argv: string[], env: NodeJS.ProcessEnv): Command => {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: {
        'execution-name': { type: 'string' };
        'retry-interval-ms': { type: 'string' };
        definition: { type: 'string' };
      };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'execution-name': { type: 'string' },
        'retry-interval-ms': { type: 'string' },
        definition: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const executionName = values['execution-name'] ?? randomUUID();
  if (!/^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/.test(executionName))
    throw new UsageError(
      '--execution-name: 1-80 characters, no whitespace and none of <>{}[]?*"#%\\^|~`$&,;:/ (Step Functions\' rule)',
    );
  return {
    input: parseInput(positionals),
    executionName,
    retryIntervalMs: parseRetryInterval(values['retry-interval-ms']),
    definitionFile: resolve(values.definition ?? DEFAULT_DEFINITION),
    endpoint: lambdaEndpoint(env),
  };
};

/** Every `lambda:invoke` Task of the definition, nested ones included: state name -> its FunctionName. */
const lambdaTasks = (states: Definition['States']): Map<string, string> => {
  const tasks = new Map<string, string>();
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task' && state.Resource === LAMBDA_INVOKE && typeof state.Parameters?.FunctionName === 'string')
      tasks.set(name, state.Parameters.FunctionName);
    else if (state.Type === 'Task')
      throw new Error(
        `Task ${name}: only ${LAMBDA_INVOKE} with a fixed FunctionName runs here (Resource ${state.Resource})`,
      );
    for (const nested of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) {
      if (nested) for (const [n, f] of lambdaTasks(nested.States)) tasks.set(n, f);
    }
  }
  return tasks;
};

/** The run options: a local handler per Lambda task, the retry override, the Context Object's execution. */
const runOptions = (command: Command, tasks: Map<string, string>, functionNameOf: (f: string) => string) => {
  const invoke: TaskHandler = lambdaInvoke(command.endpoint, functionNameOf);
  const names = [...tasks.keys()];
  return {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(names.map((n) => [n, invoke])),
      ...(command.retryIntervalMs === undefined
        ? {}
        : { retryIntervalOverrides: Object.fromEntries(names.map((n) => [n, command.retryIntervalMs!])) }),
    },
    context: {
      Execution: {
        Id: `arn:aws:states:local:000000000000:execution:local:${command.executionName}`,
        Name: command.executionName,
      },
    },
  };
};

/** Prints each event as it happens; resolves once the execution's last event is out. */
const printEvents = async (events: AsyncGenerator<ExecutionEvent>, startedAt: number): Promise<void> => {
  for await (const event of events) {
    const line = eventLine(event, Date.now() - startedAt);
    if (line) process.stderr.write(`${line}\n`);
  }
};

/** Runs the execution; resolves with the exit code. */
const execute = async (command: Command): Promise<number> => {
  const definition = JSON.parse(readFileSync(command.definitionFile, 'utf8')) as Definition;
  const tasks = lambdaTasks(definition.States);
  const functionNameOf = localFunctionNames();
  await checkFunctionsExist(command.endpoint, [...new Set([...tasks.values()].map(functionNameOf))]);
  process.stderr.write(`execution ${command.executionName} of ${command.definitionFile} against ${command.endpoint}\n`);
  const machine = new StateMachine(withStateNames(definition), { validationOptions: { checkArn: false } });
  const startedAt = Date.now();
  const execution = machine.run(command.input as never, runOptions(command, tasks, functionNameOf) as never);
  const [outcome] = await Promise.allSettled([execution.result, printEvents(execution.eventLogs, startedAt)]);
  if (outcome.status === 'fulfilled') {
    process.stdout.write(`${JSON.stringify(outcome.value, null, 2)}\n`);
    return 0;
  }
  const failure = outcome.reason as Error & { cause?: Error };
  const cause = failure instanceof ExecutionError && failure.cause ? failure.cause : failure;
  process.stdout.write(`${JSON.stringify({ error: cause.name, cause: cause.message }, null, 2)}\n`);
  process.stderr.write(`workflow failed: ${cause.name}\n`);
  return 1;
};

const main = async (): Promise<number> => {
  let command: Command;
  try {
    command = parseCommand(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`workflow: ${error.message}\n`);
    return 2;
  }
  try {
    return await execute(command);
  } catch (error) {
    process.stderr.write(`workflow: ${(error as Error).message}\n`);
    return 1;
  }
};

if (require.main === module) {
  // Keep-alive sockets would hold the process open after the last state.
  void main().then((code) => process.exit(code));
}
