import middy from '@middy/core';
import type { Conversation } from '../../lib/mixin/conversation';
import { createContact } from '../../lib/conversations';
import { type ContextWithKeystore, keystoreLoader } from '../../lib/middleware/keystore';
import { observe } from '../../lib/middleware/observe';
import { config, keystoreOptions } from '../../lib/middleware/runtime';
import { runUseCase } from '../../lib/middleware/use-case';
import { taskInput, workflowErrors } from '../../lib/middleware/workflow';
import { validate as contactTaskSchema } from '../../lib/schemas/generated/contactTask.js';

/** Step Functions task: the input is the HTTP body as an object, plus an optional idempotency_key; the output is the conversation. Failures are thrown by stable name. */
export const handler = middy<unknown, Conversation, Error, ContextWithKeystore>()
  .use(observe({ category: 'CONTACT', trigger: 'workflow' }))
  .use(workflowErrors())
  .use(keystoreLoader(keystoreOptions))
  .handler(async (event, context) => {
    const { input, idempotencyKey } = taskInput(contactTaskSchema, event);
    return (await runUseCase(createContact, input, context, config, idempotencyKey)).conversation;
  });
