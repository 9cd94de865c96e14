import middy from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createGroup } from '../../lib/conversations';
import { created, httpErrors, httpJsonBody, idempotencyKey, type JsonHttpEvent } from '../../lib/middleware/http';
import { type ContextWithKeystore, keystoreLoader } from '../../lib/middleware/keystore';
import { observe } from '../../lib/middleware/observe';
import { config, keystoreOptions } from '../../lib/middleware/runtime';
import { runUseCase } from '../../lib/middleware/use-case';

/** POST /groups: create a group (the same Idempotency-Key always gives the same group). */
export const handler = middy<JsonHttpEvent, APIGatewayProxyStructuredResultV2, Error, ContextWithKeystore>()
  .use(observe({ category: 'GROUP', trigger: 'http' }))
  .use(httpErrors())
  .use(httpJsonBody())
  .use(keystoreLoader(keystoreOptions))
  .handler(async (event, context) => created(await runUseCase(createGroup, event.body, context, config, idempotencyKey(event))));
