import middy from '@middy/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createGroup } from '../../lib/conversations';
import { idempotencyKey } from '../../lib/lambda/http-headers';
import { created } from '../../lib/lambda/http-status';
import { httpErrorResponses } from '../../lib/lambda/middleware/http-error-response';
import { httpJsonBody, type JsonHttpEvent } from '../../lib/lambda/middleware/http-json-body';
import { type ContextWithKeystore, keystoreLoader } from '../../lib/lambda/middleware/keystore';
import { observe } from '../../lib/lambda/middleware/observe';
import { config, handlerOptions, keystoreOptions } from '../../lib/lambda/runtime';
import { runUseCase } from '../../lib/lambda/use-case';

/** POST /groups: create a group (the same Idempotency-Key always addresses the same group). */
export const handler = middy<JsonHttpEvent, APIGatewayProxyStructuredResultV2, Error, ContextWithKeystore>(
  handlerOptions,
)
  .use(observe({ category: 'GROUP', trigger: 'http' }))
  .use(httpErrorResponses())
  .use(httpJsonBody())
  .use(keystoreLoader(keystoreOptions))
  .handler(async (event, context) =>
    created(await runUseCase(createGroup, event.body, context, config, idempotencyKey(event))),
  );
