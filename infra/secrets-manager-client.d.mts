/** Types of secrets-manager-client.mjs: the part of '@aws-sdk/client-secrets-manager' the Lambda bundles use. */
export interface GetSecretValueInput {
  SecretId: string;
  VersionId?: string;
  VersionStage?: string;
}
export interface GetSecretValueOutput {
  ARN?: string;
  Name?: string;
  SecretString?: string;
  SecretBinary?: Uint8Array;
  VersionId?: string;
  $metadata: { httpStatusCode: number; requestId?: string; attempts: number };
}
export interface SecretsManagerClientConfig {
  region?: string;
  endpoint?: string | URL;
  maxAttempts?: number;
  requestHandler?: { connectionTimeout?: number; requestTimeout?: number };
}
export declare class GetSecretValueCommand {
  constructor(input: GetSecretValueInput);
  readonly input: GetSecretValueInput;
}
export declare class SecretsManagerClient {
  constructor(config?: SecretsManagerClientConfig);
  send(command: GetSecretValueCommand, options?: { abortSignal?: AbortSignal }): Promise<GetSecretValueOutput>;
  destroy(): void;
}
export declare function regionalEndpoint(region: string, useFips?: boolean): string;
export declare function sigV4Authorization(request: {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  region: string;
  service: string;
  accessKeyId: string;
  secretAccessKey: string;
}): string;
