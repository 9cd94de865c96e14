/**
 * One structured logger and one EMF metrics sink per process (Powertools). Nothing here ever logs a key,
 * a token or a request body: only IDs, categories, counts and Mixin codes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'mixin-conversations';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'MixinConversations' });

/** Metric names, part of the dashboards and alarms contract (README "Operations"). */
export const METRIC = {
  created: 'ConversationsCreated',
  failed: 'ConversationsFailed',
  invalid: 'InvalidRequests',
  mixinError: 'MixinErrors',
  retries: 'MixinRetries',
} as const;

export { MetricUnit };
