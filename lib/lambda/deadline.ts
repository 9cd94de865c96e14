import type { Context } from 'aws-lambda';
import { logger } from '../observability';

/** The most time an invocation of this instance was seen to have: about the function's timeout (first call at its start). */
let longestRemaining = 0;
/** Whether this instance has said that its DEADLINE_MARGIN_MS does not fit its invocations (once per instance). */
let marginWarned = false;

/**
 * When this invocation must have answered (epoch ms): the Lambda's own deadline less `marginMs`, so that we answer
 * with a typed error before Lambda kills us. Undefined when the context cannot tell (no time limit).
 * The one place the deadline is computed: the keystore and the Mixin call wait until the same instant.
 *
 * The margin is at most half of the function's time (the longest an invocation of this instance had): a
 * DEADLINE_MARGIN_MS at or above a function's timeout (valid up to 60 s; the HTTP functions time out after 10 s)
 * would leave no time at all, and every request would fail as if Secrets Manager or Mixin were late (503
 * keystore_unavailable, the keystore alarm), pointing the operator at the wrong place. One WARN line per instance
 * names the setting instead. A correct margin is used as it is, however little time is left.
 */
export const deadlineOf = (
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  marginMs: number,
): number | undefined => {
  const remaining =
    typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  if (remaining === undefined) return undefined;
  longestRemaining = Math.max(longestRemaining, remaining);
  const margin = Math.min(marginMs, longestRemaining / 2);
  if (margin < marginMs && !marginWarned) {
    marginWarned = true;
    logger.warn('DEADLINE_MARGIN_MS is more than half of the function timeout: keeping half of it instead', {
      deadline_margin_ms: marginMs,
      function_time_ms: longestRemaining,
    });
  }
  return Date.now() + remaining - margin;
};
