import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createGroup } from '../../lib/conversations';
import { type ContextWithKeystore, keystoreLoader } from '../../lib/middleware/keystore';
import { observe } from '../../lib/middleware/observe';
import { config, keystoreOptions } from '../../lib/middleware/runtime';
import { processBatch, recordBody, recordIdempotencyKey } from '../../lib/middleware/sqs';
import { runUseCase } from '../../lib/middleware/use-case';

/**
 * SQS: create a group per record. Without random_id or conversation_id in the body, random_id derives from the
 * IdempotencyKey message attribute, else the messageId: a redelivered message never makes a second group.
 */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, ContextWithKeystore>()
  .use(observe({ category: 'GROUP', trigger: 'queue' }))
  .use(keystoreLoader(keystoreOptions))
  .handler((event, context) =>
    processBatch(event, (record) => runUseCase(createGroup, recordBody(record), context, config, recordIdempotencyKey(record)), config.queueConcurrency),
  );
