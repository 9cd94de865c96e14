/** Types of keystore-secret.cjs (the `keystoreSecret` deploy parameter resolver used by serverless.yml). */
export interface KeystoreSecret {
  secretId: string;
  iamResource: string | { 'Fn::Sub': [string, { Name: string }] };
}
export declare function keystoreSecret(value: unknown): KeystoreSecret;
