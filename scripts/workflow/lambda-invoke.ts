/**
 * `arn:aws:states:::lambda:invoke` for aws-local-stepfunctions, against a Lambda invoke endpoint on this
 * machine (serverless-offline's, under `npm start`).
 *
 * aws-local-stepfunctions would send a Task's `Resource` as the function name and does not know the optimised
 * integration, so each such Task gets a local handler (its `taskResourceLocalHandlers`) that does what Step
 * Functions does: POST the `Payload`, answer `{ ExecutedVersion, Payload, StatusCode }`, and on a function
 * error fail the state with the function's error name as `Error` (what Retry and Catch match) and
 * `{"errorType","errorMessage"}` as `Cause`.
 */
import type { RunOptions } from 'aws-local-stepfunctions';

export type TaskHandler = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];
type Json = Awaited<ReturnType<TaskHandler>>;

/** The Lambda error payload: `errorType` and `errorMessage`, plus the stack lines as `trace`. */
interface FunctionErrorPayload {
  errorType?: unknown;
  errorMessage?: unknown;
  trace?: unknown;
}

/** An error aws-local-stepfunctions reports as the state's `Error` (its `name`) and `Cause` (its `message`). */
export const stateError = (name: string, cause: string): Error => Object.assign(new Error(cause), { name });

/** serverless-offline's message when a function overruns its timeout (its LambdaTimeoutError keeps the name "Error"). */
const OFFLINE_TIMEOUT_MESSAGE = '[504] - Lambda timeout.';

/**
 * The thrown error's name. Real Lambda sends it as `errorType`; serverless-offline always sends
 * `errorType: "Error"` but keeps the stack, whose first line V8 writes as `<name>: <message>` (the name as it
 * was when the stack was first read, i.e. after the constructor set it). Its own timeout becomes
 * `Sandbox.Timedout`, what Step Functions reports for a Lambda that timed out.
 */
export const errorNameOf = (payload: FunctionErrorPayload): string => {
  const type = typeof payload.errorType === 'string' && payload.errorType !== '' ? payload.errorType : 'Error';
  if (type !== 'Error') return type;
  if (payload.errorMessage === OFFLINE_TIMEOUT_MESSAGE) return 'Sandbox.Timedout';
  if (!Array.isArray(payload.trace) || typeof payload.trace[0] !== 'string') return type;
  return /^([A-Za-z_$][\w$.]*)(?::|$)/.exec(payload.trace[0])?.[1] ?? type;
};

const invokeUrl = (endpoint: string, functionName: string) =>
  `${endpoint.replace(/\/+$/, '')}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** POST to the invoke endpoint; a network failure becomes what Step Functions reports for one. */
const post = async (url: string, body: string, invocationType: string): Promise<Response> => {
  try {
    return await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-amz-invocation-type': invocationType },
    });
  } catch (error) {
    const reason = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw stateError('Lambda.SdkClientException', `cannot reach ${url}: ${reason}`);
  }
};

/** The state error for a non-success answer of the invoke API itself (not of the function). */
const apiError = (response: Response, payload: unknown): Error => {
  const type =
    response.headers.get('x-amzn-errortype') ?? (response.status >= 500 ? 'ServiceException' : 'AWSLambdaException');
  const message = (payload as { Message?: unknown } | null)?.Message;
  return stateError(`Lambda.${type.split(':')[0]}`, typeof message === 'string' ? message : JSON.stringify(payload));
};

/** A task handler invoking `functionNameOf(Parameters.FunctionName)` at `endpoint` with `Parameters.Payload`. */
export const lambdaInvoke =
  (endpoint: string, functionNameOf: (functionName: string) => string): TaskHandler =>
  async (input) => {
    const { FunctionName, Payload } = (input ?? {}) as { FunctionName?: unknown; Payload?: unknown };
    if (typeof FunctionName !== 'string')
      throw stateError('States.Runtime', 'lambda:invoke needs Parameters.FunctionName');
    const response = await post(
      invokeUrl(endpoint, functionNameOf(FunctionName)),
      JSON.stringify(Payload ?? {}),
      'RequestResponse',
    );
    const payload = parseJson(await response.text());
    if (response.status !== 200) throw apiError(response, payload);
    if (response.headers.has('x-amz-function-error')) {
      const failure = (payload ?? {}) as FunctionErrorPayload;
      const name = errorNameOf(failure);
      throw stateError(name, JSON.stringify({ errorType: name, errorMessage: String(failure.errorMessage ?? '') }));
    }
    return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 } as Json;
  };

/**
 * Fails with a message saying what to do unless every function exists at `endpoint`. A `DryRun` invoke runs
 * nothing: Lambda answers 204, serverless-offline 400 ("not supported"), both only for a function it has.
 */
export const checkFunctionsExist = async (endpoint: string, functionNames: readonly string[]): Promise<void> => {
  for (const name of functionNames) {
    let response: Response;
    try {
      response = await fetch(invokeUrl(endpoint, name), {
        method: 'POST',
        body: '{}',
        headers: { 'x-amz-invocation-type': 'DryRun' },
      });
    } catch {
      throw new Error(
        `nothing answers at ${endpoint}: start the functions first with \`npm start\` (or point LAMBDA_URL / LAMBDA_PORT at its Lambda invoke endpoint)`,
      );
    }
    await response.arrayBuffer();
    if (response.status === 404)
      throw new Error(`${endpoint} has no function ${name}: is that a running \`npm start\` of this project?`);
  }
};
