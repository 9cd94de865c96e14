/**
 * The floor with the SDK secret read: what any Lambda that keeps its key in Secrets Manager must do. The floor
 * (bench/handlers/floor-core.ts) plus one `GetSecretValue` at init, with the same SDK client as ours
 * (`@aws-sdk/client-secrets-manager`, credentials from the environment as in Lambda), bundled with our build levers
 * (serverless.yml's plugins, alias and inject). The yardstick of the cold-start targets (`npm run bench`).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { contactFloor } from './floor-core';
import type { DashboardKeystore } from './shared';

const secret = await new SecretsManagerClient({}).send(
  new GetSecretValueCommand({ SecretId: process.env.MIXIN_KEYSTORE_SECRET_ID }),
);

export const { handler } = contactFloor(JSON.parse(secret.SecretString ?? '{}') as DashboardKeystore);
