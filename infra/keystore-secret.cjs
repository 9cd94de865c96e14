'use strict';
/**
 * Resolves the `keystoreSecret` deploy parameter (a Secrets Manager secret name or ARN) for serverless.yml:
 *   secretId     what the functions get as MIXIN_KEYSTORE_SECRET_ID (the parameter as given)
 *   iamResource  the one resource GetSecretValue is granted on: a full ARN itself, or for a name or a partial ARN the ARN
 *                pattern `...:secret:<name>-??????` (Secrets Manager appends 6 random characters to every ARN).
 * Never a `*`: a role can read exactly one secret.
 */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const FULL_ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

const keystoreSecret = (value) => {
  const id = String(value ?? '').trim();
  if (id.startsWith('arn:')) {
    if (!SECRET_ARN.test(id)) throw new Error(`keystoreSecret: "${id}" is not a Secrets Manager secret ARN`);
    // A partial ARN (without the 6-character suffix) works for GetSecretValue, but IAM matches the full one.
    return { secretId: id, iamResource: FULL_ARN_SUFFIX.test(id) ? id : `${id}-??????` };
  }
  if (!SECRET_NAME.test(id)) throw new Error(`keystoreSecret: "${id}" is not a valid secret name (or ARN)`);
  return {
    secretId: id,
    iamResource: {
      'Fn::Sub': [
        'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${Name}-??????',
        { Name: id },
      ],
    },
  };
};

module.exports = async ({ resolveVariable }) => keystoreSecret(await resolveVariable('param:keystoreSecret'));
module.exports.keystoreSecret = keystoreSecret;
