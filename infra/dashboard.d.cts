/** Types of dashboard.cjs (the dashboard `resources:` fragment of serverless.yml). */
export interface DashboardMetric {
  widget: string;
  metric: string;
  dimensions: string[];
  stat: string;
}
/** Our EMF metrics on the dashboard, each with the exact dimension set it is read with. */
export declare const EMF_METRICS: DashboardMetric[];
/** The source queues, their dead-letter queues and the functions they feed. */
export declare const QUEUES: { title: string; queue: string; dlq: string; fn: string }[];
/** The resources fragment: the dashboard and its URL output. */
export declare function dashboardResources(options: { namespace: string; service: string; lambdaLogicalId: (name: string) => string }): {
  Resources: Record<string, { Type: string; Properties: { DashboardName: unknown; DashboardBody: { 'Fn::Sub': [string, Record<string, unknown>] } } }>;
  Outputs: Record<string, { Description: string; Value: unknown }>;
};
