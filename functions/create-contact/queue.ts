import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createContact } from '../../lib/conversations';
import { type ContextWithKeystore, keystoreLoader } from '../../lib/lambda/middleware/keystore';
import { observe } from '../../lib/lambda/middleware/observe';
import { batchOptions, config, handlerOptions, keystoreOptions } from '../../lib/lambda/runtime';
import { processBatch } from '../../lib/lambda/sqs-batch';
import { recordBody } from '../../lib/lambda/sqs-record';
import { runUseCase } from '../../lib/lambda/use-case';

/** SQS: open a contact conversation per record (the same ID every time, so redelivery is harmless). */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, ContextWithKeystore>(handlerOptions)
  .use(observe({ category: 'CONTACT', trigger: 'queue' }))
  .use(keystoreLoader(keystoreOptions))
  .handler((event, context) =>
    processBatch(
      event,
      (record, budget) => runUseCase(createContact, recordBody(record), context, config, undefined, budget),
      batchOptions(context),
    ),
  );
