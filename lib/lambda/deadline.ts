import type { Context } from 'aws-lambda';

/**
 * When this invocation must have answered (epoch ms): the Lambda's own deadline less `marginMs`, so that we answer
 * with a typed error before Lambda kills us. Undefined when the context cannot tell (no time limit).
 * The one place the deadline is computed: the keystore and the Mixin call wait until the same instant.
 */
export const deadlineOf = (
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  marginMs: number,
): number | undefined => {
  const remaining =
    typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  return remaining === undefined ? undefined : Date.now() + remaining - marginMs;
};
