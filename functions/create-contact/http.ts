import middy from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createContact } from '../../lib/conversations';
import { created, httpErrors, httpJsonBody, type JsonHttpEvent } from '../../lib/middleware/http';
import { type ContextWithKeystore, keystoreLoader } from '../../lib/middleware/keystore';
import { observe } from '../../lib/middleware/observe';
import { config, keystoreOptions } from '../../lib/middleware/runtime';
import { runUseCase } from '../../lib/middleware/use-case';

/** POST /contacts: open the one-to-one conversation between the bot and a user (idempotent by nature). */
export const handler = middy<JsonHttpEvent, APIGatewayProxyStructuredResultV2, Error, ContextWithKeystore>()
  .use(observe({ category: 'CONTACT', trigger: 'http' }))
  .use(httpErrors())
  .use(httpJsonBody())
  .use(keystoreLoader(keystoreOptions))
  .handler(async (event, context) => created(await runUseCase(createContact, event.body, context, config)));
