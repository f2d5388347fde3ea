/**
 * cognito-local loads aws-sdk v2, which prints an end-of-support notice on a timer after loading.
 * That is cognito-local's dependency, not ours, and the notice would appear on every `npm start`.
 * Its documented switch is this environment variable, read when the timer fires. Import this
 * module before any cognito-local module: ES modules evaluate in import order, so the variable is
 * set before aws-sdk can schedule the notice.
 */
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';

export {};
