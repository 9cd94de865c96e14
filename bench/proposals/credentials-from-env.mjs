/**
 * PROPOSAL (not wired into serverless.yml; `npm run bench` measures it as "ours, proposed build").
 * An esbuild alias target for '@aws-sdk/credential-provider-node': in Lambda the function's role credentials are
 * always in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so the default chain's
 * other providers (ini files, SSO, process, web identity, IMDS, login) and the nested STS/SSO clients they bundle
 * never answer. Without them the Secrets Manager client bundles about 135 KB smaller (minified).
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init = {}) => fromEnv(init);
export const credentialsWillNeedRefresh = () => false;
export const credentialsTreatedAsExpired = () => false;
