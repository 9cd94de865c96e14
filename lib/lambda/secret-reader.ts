import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { type ConversationError, KeystoreError, KeystoreUnavailableError } from '../errors';
import type { SecretReader } from '../mixin/keystore-cache';

/**
 * The Secrets Manager client's options. Every read runs on a request's path, so a hanging or throttling Secrets
 * Manager must not eat the request's time: bounded connect and request times, and one attempt per read (the
 * keystore cache decides when to read again, at most once per request).
 */
export const SECRETS_MANAGER_CLIENT_OPTIONS: SecretsManagerClientConfig = {
  maxAttempts: 1,
  // Without throwOnRequestTimeout the SDK's handler only logs a WARN at requestTimeout and keeps waiting.
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
};

// Errors that another try cannot fix: the secret is missing or we may not read it.
const PERMANENT_AWS_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidParameterException',
  'InvalidRequestException',
]);

/** Turns whatever a read threw into one of our typed errors, naming the AWS error, never a value. */
const toKeystoreError = (error: unknown): ConversationError => {
  if (error instanceof KeystoreError || error instanceof KeystoreUnavailableError) return error;
  const name = (error as { name?: string } | undefined)?.name ?? 'Error';
  if (PERMANENT_AWS_ERRORS.has(name)) return new KeystoreError(`the secret cannot be read (${name})`);
  return new KeystoreUnavailableError(`Secrets Manager did not deliver the secret (${name})`);
};

/**
 * Reads the keystore secret from AWS Secrets Manager (`SecretString`, or `SecretBinary` holding UTF-8 JSON) with
 * the real SDK client, which honours `AWS_ENDPOINT_URL_SECRETS_MANAGER` (the local endpoint of `npm start`).
 */
export const secretsManagerReader = (
  secretId: string,
  clientOptions: SecretsManagerClientConfig = {},
): SecretReader => {
  const client = new SecretsManagerClient({ ...SECRETS_MANAGER_CLIENT_OPTIONS, ...clientOptions });
  return async (signal) => {
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: signal });
      if (typeof out.SecretString === 'string') return out.SecretString;
      if (out.SecretBinary) return Buffer.from(out.SecretBinary).toString('utf8');
    } catch (error) {
      throw toKeystoreError(error);
    }
    throw new KeystoreError('the secret has no value');
  };
};
