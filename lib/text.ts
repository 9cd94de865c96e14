/** Longest text of someone else's we pass on (a Mixin description, a dead letter's ErrorMessage), in code points. */
const MAX_MESSAGE_CODE_POINTS = 256;

/**
 * At most `max` characters, cut by code points, the one truncation of this service: half a surrogate pair is a
 * character SQS refuses (failing a dead-letter send) and JSON shows as garbage. Bounds what another system wrote
 * before it reaches an HTTP answer, a log line or a message attribute.
 */
export const shortMessage = (message: string, max = MAX_MESSAGE_CODE_POINTS): string =>
  Array.from(message.slice(0, 2 * max))
    .slice(0, max)
    .join('');
