import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.ts';

/** The project's own configuration (global setup included), pointed at a test that must fail. */
export default defineConfig({ ...base, test: { ...base.test, include: ['test/ci/always-fails.check.ts'] } });
