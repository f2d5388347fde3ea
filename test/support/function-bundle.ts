import type { BuildOptions } from 'esbuild';
import { FUNCTION_BUNDLE } from '#infra/constructs/tenantry-function';

/** esbuild's options for a function bundle, as CDK's NodejsFunction builds it (minified, SDK external). */
export const FUNCTION_BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  format: FUNCTION_BUNDLE.format,
  target: FUNCTION_BUNDLE.target,
  mainFields: [...FUNCTION_BUNDLE.mainFields],
  external: [...FUNCTION_BUNDLE.externalModules],
  logLevel: 'silent',
};
