import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createGroup } from '../../lib/conversations';
import { type ContextWithKeystore, keystoreLoader } from '../../lib/lambda/middleware/keystore';
import { observe } from '../../lib/lambda/middleware/observe';
import { batchOptions, config, handlerOptions, keystoreOptions } from '../../lib/lambda/runtime';
import { processBatch } from '../../lib/lambda/sqs-batch';
import { recordBody, recordIdempotencyKey } from '../../lib/lambda/sqs-record';
import { runUseCase } from '../../lib/lambda/use-case';

/**
 * SQS: create a group per record. Without random_id or conversation_id in the body, the group is the one of the
 * IdempotencyKey message attribute, else of the messageId: a redelivered message never makes a second group.
 */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, ContextWithKeystore>(handlerOptions)
  .use(observe({ category: 'GROUP', trigger: 'queue' }))
  .use(keystoreLoader(keystoreOptions))
  .handler((event, context) =>
    processBatch(
      event,
      (record, budget) =>
        runUseCase(createGroup, recordBody(record), context, config, recordIdempotencyKey(record), budget),
      batchOptions(context),
    ),
  );
