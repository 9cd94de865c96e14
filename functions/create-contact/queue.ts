import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createContact } from '../../lib/conversations';
import { type ContextWithKeystore, keystoreLoader } from '../../lib/middleware/keystore';
import { observe } from '../../lib/middleware/observe';
import { config, keystoreOptions } from '../../lib/middleware/runtime';
import { processBatch, recordBody } from '../../lib/middleware/sqs';
import { runUseCase } from '../../lib/middleware/use-case';

/** SQS: open a contact conversation per record (the same ID every time, so redelivery is harmless). */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, ContextWithKeystore>()
  .use(observe({ category: 'CONTACT', trigger: 'queue' }))
  .use(keystoreLoader(keystoreOptions))
  .handler((event, context) =>
    processBatch(event, (record) => runUseCase(createContact, recordBody(record), context, config), config.queueConcurrency),
  );
