import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger per process; request keys are appended per request and reset after. */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tenantry',
  logLevel: (process.env.LOG_LEVEL as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | undefined) ?? 'INFO',
});
