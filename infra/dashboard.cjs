'use strict';
/**
 * The stack's CloudWatch dashboard, a `resources:` fragment for serverless.yml: watching a bulk drain on AWS.
 * Its URL is the stack output `DashboardUrl`.
 *
 *   - per queue: messages visible, delayed (deferred copies waiting out their DelaySeconds), in flight, the age of the
 *     oldest message, and its dead-letter queue's depth (AWS/SQS);
 *   - conversations created and failed per minute, Mixin's 429 answers, deferred records, the instances' Mixin call
 *     rate, dead-lettered records by error name, Mixin latency p50/p99 (our EMF metrics, by category and trigger);
 *   - keystore read failures (EMF, `service` only), and the queue functions' AWS/Lambda errors and throttles.
 *
 * Our metrics are read with SEARCH on their exact dimension set (`{namespace,service,category,trigger}`), so a
 * series per category and trigger appears as the functions emit them, and nothing is shown that the code does not
 * emit with those dimensions (test/dashboard.test.ts holds every name and dimension set against the metrics the
 * real handlers emit).
 */

const { lambdaLogicalId } = require('./alarms.cjs');

/** Our EMF metrics on the dashboard: name, dimension set, statistic, and the widget they go to. */
const EMF_METRICS = [
  { widget: 'created', metric: 'ConversationsCreated', dimensions: ['service', 'category', 'trigger'], stat: 'Sum' },
  { widget: 'failed', metric: 'ConversationsFailed', dimensions: ['service', 'category', 'trigger'], stat: 'Sum' },
  { widget: 'rateLimited', metric: 'MixinRateLimited', dimensions: ['service', 'category', 'trigger'], stat: 'Sum' },
  { widget: 'deferred', metric: 'RecordsDeferred', dimensions: ['service', 'category', 'trigger'], stat: 'Sum' },
  { widget: 'callRate', metric: 'MixinCallRate', dimensions: ['service', 'category', 'trigger'], stat: 'Average' },
  {
    widget: 'deadLettered',
    metric: 'RecordsDeadLettered',
    dimensions: ['service', 'category', 'trigger', 'error_name'],
    stat: 'Sum',
  },
  { widget: 'latency', metric: 'MixinLatency', dimensions: ['service', 'category', 'trigger'], stat: 'p50' },
  { widget: 'latency', metric: 'MixinLatency', dimensions: ['service', 'category', 'trigger'], stat: 'p99' },
  { widget: 'keystore', metric: 'KeystoreReadFailed', dimensions: ['service'], stat: 'Sum' },
];

/** The source queues with their dead-letter queues (infra/queues.yml), and the functions they feed. */
const QUEUES = [
  {
    title: 'Contact queue',
    queue: 'CreateContactQueue',
    dlq: 'CreateContactDeadLetterQueue',
    fn: 'createContactQueue',
  },
  { title: 'Group queue', queue: 'CreateGroupQueue', dlq: 'CreateGroupDeadLetterQueue', fn: 'createGroupQueue' },
];

const PERIOD = 60;
const WIDTH = 8;
const HEIGHT = 6;

/** A SEARCH over one of our metrics with exactly its dimension set, in this service. */
const search = (namespace, service, { metric, dimensions, stat }) =>
  `SEARCH('{${namespace},${dimensions.join(',')}} MetricName="${metric}" service="${service}"', '${stat}', ${PERIOD})`;

const emfWidget = (namespace, service, widget, title, yLabel) => {
  // Percentiles are labelled by their statistic; every other series by its SEARCH's own label (category, trigger...).
  const metrics = EMF_METRICS.filter((m) => m.widget === widget).map((m, i) => [
    { expression: search(namespace, service, m), id: `${widget}${i}`, ...(/^p\d/.test(m.stat) && { label: m.stat }) },
  ]);
  return {
    type: 'metric',
    properties: {
      title,
      region: '${AWS::Region}',
      view: 'timeSeries',
      stacked: false,
      period: PERIOD,
      metrics,
      yAxis: { left: { label: yLabel, min: 0 } },
    },
  };
};

/** A queue's backlog: visible, delayed, in flight, and its DLQ. `${QueueVar}` are Fn::Sub variables. */
const queueWidget = ({ title, queue, dlq }) => ({
  type: 'metric',
  properties: {
    title: `${title}: messages`,
    region: '${AWS::Region}',
    view: 'timeSeries',
    stacked: false,
    period: PERIOD,
    stat: 'Maximum',
    metrics: [
      ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', `\${${queue}Name}`, { label: 'visible' }],
      [
        'AWS/SQS',
        'ApproximateNumberOfMessagesDelayed',
        'QueueName',
        `\${${queue}Name}`,
        { label: 'delayed (deferred)' },
      ],
      ['AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', 'QueueName', `\${${queue}Name}`, { label: 'in flight' }],
      ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', `\${${dlq}Name}`, { label: 'dead-letter queue' }],
    ],
    yAxis: { left: { min: 0 } },
  },
});

const ageWidget = () => ({
  type: 'metric',
  properties: {
    title: 'Age of the oldest message (s)',
    region: '${AWS::Region}',
    view: 'timeSeries',
    stacked: false,
    period: PERIOD,
    stat: 'Maximum',
    metrics: QUEUES.map(({ title, queue }) => [
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      'QueueName',
      `\${${queue}Name}`,
      { label: title },
    ]),
    yAxis: { left: { min: 0 } },
  },
});

const lambdaWidget = (lambdaLogicalId) => ({
  type: 'metric',
  properties: {
    title: 'Queue functions: errors and throttles',
    region: '${AWS::Region}',
    view: 'timeSeries',
    stacked: false,
    period: PERIOD,
    stat: 'Sum',
    metrics: QUEUES.flatMap(({ fn }) =>
      ['Errors', 'Throttles'].map((metric) => [
        'AWS/Lambda',
        metric,
        'FunctionName',
        `\${${lambdaLogicalId(fn)}}`,
        { label: `${fn} ${metric.toLowerCase()}` },
      ]),
    ),
    yAxis: { left: { min: 0 } },
  },
});

/** The widgets, laid out three to a row. */
const widgets = (namespace, service, lambdaLogicalId) => {
  const list = [
    ...QUEUES.map(queueWidget),
    ageWidget(),
    emfWidget(namespace, service, 'created', 'Conversations created per minute', 'per minute'),
    emfWidget(namespace, service, 'failed', 'Conversations failed per minute', 'per minute'),
    emfWidget(namespace, service, 'rateLimited', 'Mixin 429 answers per minute', 'per minute'),
    emfWidget(namespace, service, 'deferred', 'Records deferred per minute', 'per minute'),
    emfWidget(namespace, service, 'callRate', 'Mixin call rate per instance (calls/s)', 'calls/s'),
    emfWidget(namespace, service, 'deadLettered', 'Records dead-lettered per minute, by error name', 'per minute'),
    emfWidget(namespace, service, 'latency', 'Mixin latency p50 / p99 (ms)', 'ms'),
    emfWidget(namespace, service, 'keystore', 'Keystore read failures per minute', 'per minute'),
    lambdaWidget(lambdaLogicalId),
  ];
  return list.map((widget, i) => ({
    ...widget,
    x: (i % 3) * WIDTH,
    y: Math.floor(i / 3) * HEIGHT,
    width: WIDTH,
    height: HEIGHT,
  }));
};

/** The dashboard body (JSON for Fn::Sub) and the resources fragment. */
const dashboardResources = ({ namespace, service, lambdaLogicalId }) => {
  const body = JSON.stringify({
    start: '-PT3H',
    periodOverride: 'inherit',
    widgets: widgets(namespace, service, lambdaLogicalId),
  });
  const variables = Object.fromEntries(
    QUEUES.flatMap(({ queue, dlq }) => [queue, dlq]).map((id) => [`${id}Name`, { 'Fn::GetAtt': [id, 'QueueName'] }]),
  );
  return {
    Resources: {
      Dashboard: {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardName: { 'Fn::Sub': '${AWS::StackName}' },
          DashboardBody: { 'Fn::Sub': [body, variables] },
        },
      },
    },
    Outputs: {
      DashboardUrl: {
        Description:
          'CloudWatch dashboard of this stack: queues, creations, 429s, deferrals, dead letters, Mixin latency',
        Value: {
          'Fn::Sub':
            'https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${Dashboard}',
        },
      },
    },
  };
};

module.exports = async ({ resolveVariable }) =>
  dashboardResources({
    namespace: await resolveVariable('self:provider.environment.POWERTOOLS_METRICS_NAMESPACE'),
    service: await resolveVariable('self:provider.environment.POWERTOOLS_SERVICE_NAME'),
    lambdaLogicalId,
  });
module.exports.dashboardResources = dashboardResources;
module.exports.EMF_METRICS = EMF_METRICS;
module.exports.QUEUES = QUEUES;
