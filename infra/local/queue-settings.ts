/**
 * How `npm start` runs the queues and their functions: the visibility timeout, the queue functions' timeout and the
 * batches in flight per queue, from the environment, checked against the deployed ratio. With several batches in
 * flight, a batch that runs longer than the visibility timeout is received again by another poller (a second
 * invocation of the same records), so the local run keeps what AWS advises and the template keeps: a visibility
 * timeout of at least six times the function timeout.
 */
import { wholeNumber } from './env-values';
import { visibilityTimeoutFrom } from './sqs';

/** The local queue functions' timeout unless LOCAL_QUEUE_FUNCTION_TIMEOUT says otherwise (30 s deployed). */
export const DEFAULT_LOCAL_QUEUE_FUNCTION_TIMEOUT_SECONDS = 5;
/** Visibility timeout over function timeout, at least (infra/queues.yml: 190 s for 30 s). */
export const MIN_VISIBILITY_TO_TIMEOUT_RATIO = 6;

export interface LocalQueueSettings {
  visibilityTimeoutSeconds: number;
  /** Passed to serverless-offline as the `queueFunctionTimeout` parameter (it enforces it). */
  functionTimeoutSeconds: number;
  /** LOCAL_QUEUE_MAXIMUM_CONCURRENCY, or undefined: the template's `maximumConcurrency`. */
  maximumConcurrency: number | undefined;
}

/**
 * LOCAL_QUEUE_VISIBILITY_TIMEOUT (30 s), LOCAL_QUEUE_FUNCTION_TIMEOUT (5 s, 1 to 900 as Lambda takes) and
 * LOCAL_QUEUE_MAXIMUM_CONCURRENCY (1 to 1000). Refuses a visibility timeout below six times the function timeout.
 */
export const localQueueSettings = (env: NodeJS.ProcessEnv): LocalQueueSettings => {
  const visibilityTimeoutSeconds = visibilityTimeoutFrom(env);
  const functionTimeoutSeconds =
    wholeNumber(env, 'LOCAL_QUEUE_FUNCTION_TIMEOUT', 1, 900) ?? DEFAULT_LOCAL_QUEUE_FUNCTION_TIMEOUT_SECONDS;
  if (visibilityTimeoutSeconds < MIN_VISIBILITY_TO_TIMEOUT_RATIO * functionTimeoutSeconds) {
    throw new Error(
      `LOCAL_QUEUE_VISIBILITY_TIMEOUT (${visibilityTimeoutSeconds} s) must be at least ${MIN_VISIBILITY_TO_TIMEOUT_RATIO} times the queue functions' timeout ` +
        `(LOCAL_QUEUE_FUNCTION_TIMEOUT, ${functionTimeoutSeconds} s), as deployed (190 s for 30 s): a batch still running when its messages ` +
        `become visible again is handed to a second poller. Raise it to ${MIN_VISIBILITY_TO_TIMEOUT_RATIO * functionTimeoutSeconds} or lower LOCAL_QUEUE_FUNCTION_TIMEOUT.`,
    );
  }
  return {
    visibilityTimeoutSeconds,
    functionTimeoutSeconds,
    maximumConcurrency: wholeNumber(env, 'LOCAL_QUEUE_MAXIMUM_CONCURRENCY', 1, 1000),
  };
};
