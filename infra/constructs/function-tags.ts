/**
 * The tag on every Tenantry Lambda function whose value is its handler entry (e.g. `me/get-me`),
 * so whatever reads the synthesized templates (the local platform's IAM stand-in) knows which
 * function is which. Its own module, free of aws-cdk-lib, so reading a cloud assembly does not
 * load the CDK.
 */
export const FUNCTION_ENTRY_TAG = 'tenantry:function';
