'use strict';
/**
 * The stack's alarms, a `resources:` fragment for serverless.yml: one SNS topic (`AlarmTopic`, output as
 * `AlarmTopicArn`) that every alarm notifies when it fires and when it clears, and optionally an email subscription.
 *
 *   - each dead-letter queue holds a message (a message that will never succeed on its own);
 *   - each function's `AWS/Lambda` Errors and Throttles;
 *   - our EMF metrics (one dimension, `service`, so one alarm covers all functions): Mixin refusing the bot's key,
 *     no usable keystore, and repeated failed reads of the keystore secret.
 *
 * A file resolver rather than YAML because the function alarms follow `functions:` (a new function gets its two
 * alarms without an edit here), the subscription exists only when `alarmEmail` is set (no CloudFormation condition
 * on a constant), and a wrong threshold or period fails `serverless package` instead of the deploy.
 */

const TOPIC = 'AlarmTopic';

/** The dead-letter queues of infra/queues.yml (test/package.test.ts checks that every RedrivePolicy target is here). */
const DEAD_LETTER_QUEUES = ['CreateGroupDeadLetterQueue', 'CreateContactDeadLetterQueue'];

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** osls' logical ID of a function's resource (its naming.getLambdaLogicalId): createGroupHttp -> CreateGroupHttpLambdaFunction. */
const lambdaLogicalId = (name) =>
  `${name
    .replace(/-/g, 'Dash')
    .replace(/_/g, 'Underscore')
    .replace(/^./, (c) => c.toUpperCase())}LambdaFunction`;

const whole = (name, value, min, max) => {
  const number = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(String(value ?? '')) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < min || number > max)
    throw new Error(`${name}: "${value}" is not a whole number from ${min} to ${max}`);
  return number;
};

/**
 * The alarm deploy parameters, checked: CloudWatch takes a period of a whole number of minutes for these metrics,
 * at most one day of evaluation, and a count threshold below 1 would keep an alarm firing forever.
 */
const alarmSettings = (params) => {
  const email = String(params.alarmEmail ?? '').trim();
  if (email && !EMAIL.test(email))
    throw new Error(`alarmEmail: "${email}" is not an email address (leave it empty for none)`);
  const period = whole('alarmPeriodSeconds', params.alarmPeriodSeconds, 60, 86400);
  if (period % 60 !== 0) throw new Error(`alarmPeriodSeconds: ${period} is not a whole number of minutes`);
  const evaluationPeriods = whole(
    'alarmEvaluationPeriods',
    params.alarmEvaluationPeriods,
    1,
    Math.floor(86400 / period),
  );
  const threshold = (name) => whole(name, params[name], 1, 1e9);
  return {
    email,
    period,
    evaluationPeriods,
    deadLetterMessages: threshold('deadLetterMessagesThreshold'),
    lambdaErrors: threshold('lambdaErrorsThreshold'),
    lambdaThrottles: threshold('lambdaThrottlesThreshold'),
    keystoreReadFailures: threshold('keystoreReadFailuresThreshold'),
  };
};

/** One alarm on `metric` >= `threshold` over the configured periods; no data (nothing happened) is not breaching. */
const alarm = (settings, { name, description, namespace, metric, dimensions, statistic, threshold }) => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    AlarmName: { 'Fn::Sub': `\${AWS::StackName}-${name}` },
    AlarmDescription: description,
    Namespace: namespace,
    MetricName: metric,
    Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    Statistic: statistic,
    Period: settings.period,
    EvaluationPeriods: settings.evaluationPeriods,
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [{ Ref: TOPIC }],
    OKActions: [{ Ref: TOPIC }], // "cleared" tells whoever is looking that the fix (or the redrive) worked
  },
});

const deadLetterAlarms = (settings) =>
  DEAD_LETTER_QUEUES.map((queue) => [
    `${queue}Alarm`,
    alarm(settings, {
      name: `${queue}-messages`,
      description: `${queue} holds messages that will never succeed on their own: read the "record failed" log lines for their message_id, fix the cause, then redrive.`,
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: { 'Fn::GetAtt': [queue, 'QueueName'] } },
      statistic: 'Maximum',
      threshold: settings.deadLetterMessages,
    }),
  ]);

const functionAlarms = (settings, functionNames) =>
  functionNames.flatMap((name) => {
    const id = lambdaLogicalId(name);
    const base = id.replace(/LambdaFunction$/, '');
    const lambda = (metric, threshold, description) => [
      `${base}${metric}Alarm`,
      alarm(settings, {
        name: `${name}-${metric.toLowerCase()}`,
        description,
        namespace: 'AWS/Lambda',
        metric,
        dimensions: { FunctionName: { Ref: id } },
        statistic: 'Sum',
        threshold,
      }),
    ];
    return [
      lambda(
        'Errors',
        settings.lambdaErrors,
        `${name} threw: a bug, a timeout, or a keystore/Secrets Manager problem (our own errors are answered, not thrown, on HTTP). See its log group.`,
      ),
      lambda(
        'Throttles',
        settings.lambdaThrottles,
        `${name} was throttled: the account or reserved concurrency is exhausted. Raise the limit or lower the queue concurrency.`,
      ),
    ];
  });

/** Alarms on the EMF metrics the functions emit with the single dimension `service`. */
const serviceAlarms = (settings, namespace, service) => {
  const emf = (metric, threshold, description) => [
    `${metric}Alarm`,
    alarm(settings, {
      name: metric.replace(/[a-z](?=[A-Z])/g, '$&-').toLowerCase(),
      description,
      namespace,
      metric,
      dimensions: { service },
      statistic: 'Sum',
      threshold,
    }),
  ];
  return [
    // Any one is an outage of every request until someone acts: no threshold to tune.
    emf(
      'MixinCredentialsRejected',
      1,
      'Mixin refused the bot key (401/403) even after re-reading the keystore secret: the session was revoked and the secret not updated. Put the new keystore in the secret.',
    ),
    emf(
      'KeystoreInvalid',
      1,
      'Requests failed because no usable keystore is in hand: the secret is malformed, missing, or unreadable by the function roles.',
    ),
    // A failed re-read is hidden while a last good key keeps serving; repeated ones mean the secret or access to it
    // is gone, and new instances (cold starts) will have no key at all.
    emf(
      'KeystoreReadFailed',
      settings.keystoreReadFailures,
      'Reading the keystore secret keeps failing (a last good key may still be serving): check the secret, its KMS key and Secrets Manager health before cold starts fail.',
    ),
  ];
};

/** The resources fragment for the given settings, functions (names from `functions:`), EMF namespace and service. */
const alarmResources = (settings, { functionNames, namespace, service }) => ({
  Resources: {
    [TOPIC]: {
      Type: 'AWS::SNS::Topic',
      Properties: { DisplayName: { 'Fn::Sub': '${AWS::StackName} alarms' } },
    },
    ...(settings.email && {
      AlarmEmailSubscription: {
        Type: 'AWS::SNS::Subscription',
        Properties: { TopicArn: { Ref: TOPIC }, Protocol: 'email', Endpoint: settings.email },
      },
    }),
    ...Object.fromEntries([
      ...deadLetterAlarms(settings),
      ...functionAlarms(settings, functionNames),
      ...serviceAlarms(settings, namespace, service),
    ]),
  },
  Outputs: {
    AlarmTopicArn: {
      Description: 'SNS topic every alarm of this stack notifies (subscribe pagers, chat or email here)',
      Value: { Ref: TOPIC },
    },
  },
});

const PARAMS = [
  'alarmEmail',
  'alarmPeriodSeconds',
  'alarmEvaluationPeriods',
  'deadLetterMessagesThreshold',
  'lambdaErrorsThreshold',
  'lambdaThrottlesThreshold',
  'keystoreReadFailuresThreshold',
];

module.exports = async ({ resolveVariable }) => {
  const params = Object.fromEntries(
    await Promise.all(PARAMS.map(async (name) => [name, await resolveVariable(`param:${name}`)])),
  );
  const functions = await resolveVariable('self:functions');
  return alarmResources(alarmSettings(params), {
    functionNames: Object.keys(functions ?? {}),
    namespace: await resolveVariable('self:provider.environment.POWERTOOLS_METRICS_NAMESPACE'),
    service: await resolveVariable('self:provider.environment.POWERTOOLS_SERVICE_NAME'),
  });
};
module.exports.alarmSettings = alarmSettings;
module.exports.lambdaLogicalId = lambdaLogicalId;
