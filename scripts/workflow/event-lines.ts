/**
 * One line of text per execution event of aws-local-stepfunctions, for a person watching a run: which state
 * entered and left (with its output), failed, was retried or caught, and how the execution ended.
 */
import type { StateMachine } from 'aws-local-stepfunctions';

/** An event of `StateMachine.run(...).eventLogs` (the package does not export the type). */
export type ExecutionEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

const MAX_JSON = 160;

/** Compact JSON, cut at {@link MAX_JSON} characters: the full output is printed once, at the end. */
const brief = (value: unknown): string => {
  const json = JSON.stringify(value) ?? 'undefined';
  return json.length > MAX_JSON ? `${json.slice(0, MAX_JSON - 1)}…` : json;
};

/** A Cause as it arrives (a string, often JSON of errorType + errorMessage): its message part when there is one. */
const causeText = (cause: unknown): string => {
  if (typeof cause !== 'string') return brief(cause);
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: print it as it is
  }
  return cause;
};

/** `CreateContact[2]` for the third item of a Map, the bare name elsewhere. */
const label = (name: string, index: number | undefined) => (index === undefined ? name : `${name}[${index}]`);

/** The line for `event`, `elapsedMs` after the start; undefined for events that add nothing to the state lines. */
export const eventLine = (event: ExecutionEvent, elapsedMs: number): string | undefined => {
  const at = `[${(elapsedMs / 1000).toFixed(2).padStart(6)}s]`;
  switch (event.type) {
    case 'ExecutionStarted':
      return `${at} execution started`;
    case 'ExecutionSucceeded':
      return `${at} execution succeeded`;
    case 'ExecutionFailed':
      return `${at} execution failed: ${event.Error}: ${causeText(event.Cause)}`;
    case 'ExecutionAborted':
      return `${at} execution aborted`;
    case 'ExecutionTimeout':
      return `${at} execution timed out`;
    case 'StateEntered':
      return `${at} ${label(event.state.name, event.index)} entered (${event.state.type})`;
    case 'StateExited':
      return `${at} ${label(event.state.name, event.index)} exited ${brief(event.state.output)}`;
    case 'StateFailed':
      return `${at} ${label(event.state.name, event.index)} failed: ${event.Error}: ${causeText(event.Cause)}`;
    case 'StateRetried':
      return `${at} ${label(event.state.name, event.index)} retried (attempt ${event.retry.attempt})`;
    case 'StateCaught':
      return `${at} ${label(event.state.name, event.index)} caught, next ${event.catch.catcher.Next}`;
    case 'MapIterationFailed':
      return `${at} ${label(event.parentState.name, event.index)} iteration failed: ${event.Error}`;
    default:
      return undefined;
  }
};
