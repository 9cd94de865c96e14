import type { SQSRecord } from 'aws-lambda';
import { InvalidRequestError } from '../errors';
import { checkIdempotencyKey } from '../idempotency-key';
import { parseJsonBody } from '../json';

/** A queue record body as JSON, read as the HTTP route reads its body: a body that is not JSON can never succeed, and says so. */
export const recordBody = (record: SQSRecord): unknown => parseJsonBody(record.body);

/** The message attribute a producer sets to make resends and dead-letter redrives safe. */
export const IDEMPOTENCY_KEY_ATTRIBUTE = 'IdempotencyKey';

/**
 * A record's idempotency key: its `IdempotencyKey` message attribute (type String, or a custom `String.*` type),
 * else its messageId. SQS keeps the messageId across redeliveries, but a dead-letter redrive or a resend makes a
 * new one; the attribute survives both.
 */
export const recordIdempotencyKey = (record: SQSRecord): string => {
  const attribute = record.messageAttributes?.[IDEMPOTENCY_KEY_ATTRIBUTE];
  if (attribute === undefined) return record.messageId;
  const field = `messageAttributes.${IDEMPOTENCY_KEY_ATTRIBUTE}`;
  const isString = attribute.dataType === 'String' || attribute.dataType?.startsWith('String.');
  if (!isString || typeof attribute.stringValue !== 'string')
    throw InvalidRequestError.field(field, 'must be a String attribute (or a custom String.* type)');
  return checkIdempotencyKey(attribute.stringValue, field);
};
