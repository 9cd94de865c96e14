import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics } from '../../observability';
import { reportFailure } from '../report';

export interface ObserveOptions {
  /** GROUP or CONTACT: a key on every log line and a metric dimension. */
  category: 'GROUP' | 'CONTACT';
  /** What invoked the function (`http`, `queue`, `workflow`, ...): a key on every log line and a metric dimension. */
  trigger: string;
}

/** Outermost middleware: tags logs with the Lambda request ID, category and trigger; flushes EMF metrics. */
export const observe = (options: ObserveOptions): middy.MiddlewareObj<unknown, unknown, Error, Context> => {
  const flush = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  // One handler per process: its dimensions and log keys are set once, at cold start.
  metrics.setDefaultDimensions({ category: options.category, trigger: options.trigger });
  logger.appendPersistentKeys({ category: options.category, trigger: options.trigger });
  const observeBefore: middy.MiddlewareFn<unknown, unknown, Error, Context> = (request) => {
    logger.addContext(request.context);
  };
  const observeOnError: middy.MiddlewareFn<unknown, unknown, Error, Context> = (request) => {
    // Every failure of a request or task ends here: the use case's and the middlewares' (keystore, envelope).
    reportFailure(request.error);
    flush();
  };
  return { before: observeBefore, after: flush, onError: observeOnError };
};
