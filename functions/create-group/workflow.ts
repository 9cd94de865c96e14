import middy from '@middy/core';
import { type Conversation, createGroup } from '../../lib/conversations';
import { type ContextWithKeystore, keystoreLoader } from '../../lib/lambda/middleware/keystore';
import { observe } from '../../lib/lambda/middleware/observe';
import { config, handlerOptions, keystoreOptions } from '../../lib/lambda/runtime';
import { groupTaskInput } from '../../lib/lambda/task-input';
import { runUseCase } from '../../lib/lambda/use-case';

/** Step Functions task: the input is the HTTP body as an object, plus an optional idempotency_key; the output is the conversation. Failures are thrown by stable name. */
export const handler = middy<unknown, Conversation, Error, ContextWithKeystore>(handlerOptions)
  .use(observe({ category: 'GROUP', trigger: 'workflow' }))
  .use(keystoreLoader(keystoreOptions))
  .handler(async (event, context) => {
    const { input, idempotencyKey } = groupTaskInput(event);
    return (await runUseCase(createGroup, input, context, config, idempotencyKey)).conversation;
  });
