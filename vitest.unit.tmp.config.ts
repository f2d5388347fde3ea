import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['test/unit/**/*.test.ts'], testTimeout: 30_000, pool: 'forks', env: { LOG_LEVEL: 'WARN', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, setupFiles: ['test/support/cdk-outdir.ts'] } });
