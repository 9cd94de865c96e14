/**
 * One structured logger and one EMF metrics sink per process (Powertools). Nothing here ever logs a key,
 * a token or a request body: only IDs, categories, counts and Mixin codes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'mixin-conversations';
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || 'MixinConversations';

export const logger = new Logger({ serviceName });
/** Per-request metrics: dimensions `service`, `category` and `trigger` (set once per handler by `observe`). */
export const metrics = new Metrics({ serviceName, namespace });
/** Service-wide alarm metrics: dimension `service` only, so one alarm covers every function (infra/alarms.cjs). */
const serviceMetrics = new Metrics({ serviceName, namespace });

/** Metric names, part of the dashboards and alarms contract (README "Operations"). */
export const METRIC = {
  created: 'ConversationsCreated',
  failed: 'ConversationsFailed',
  invalid: 'InvalidRequests',
  mixinError: 'MixinErrors',
  retries: 'MixinRetries',
  deadLettered: 'RecordsDeadLettered',
} as const;

/** Alarm metric names (dimension `service` only). */
export const ALARM_METRIC = {
  credentialsRejected: 'MixinCredentialsRejected',
  keystoreInvalid: 'KeystoreInvalid',
  keystoreReadFailed: 'KeystoreReadFailed',
} as const;

/** Counts one occurrence of an alarm metric, published at once. */
export const countForAlarm = (name: (typeof ALARM_METRIC)[keyof typeof ALARM_METRIC]): void => {
  serviceMetrics.singleMetric().addMetric(name, MetricUnit.Count, 1);
};

export { MetricUnit };
