/** Types of alarms.cjs (the alarms `resources:` fragment of serverless.yml). */
export interface AlarmSettings {
  email: string;
  period: number;
  evaluationPeriods: number;
  deadLetterMessages: number;
  lambdaErrors: number;
  lambdaThrottles: number;
  keystoreReadFailures: number;
}
/** The alarm deploy parameters (as serverless.yml or `--param name=value` give them), checked and converted. */
export declare function alarmSettings(params: Record<string, unknown>): AlarmSettings;
/** osls' logical ID of a function's resource: createGroupHttp -> CreateGroupHttpLambdaFunction. */
export declare function lambdaLogicalId(functionName: string): string;
