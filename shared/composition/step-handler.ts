import type * as z from 'zod';
import { composed } from '#shared/composition/handler';
import type { Services } from '#shared/composition/services';
import { logger } from '#shared/core/logger';

export class InvalidStepInput extends Error {
  constructor(step: string, issues: string) {
    super(`${step}: invalid input (${issues})`);
    this.name = 'InvalidStepInput';
  }
}

/**
 * A Step Functions task handler: the state input is parsed with zod (a bad one fails the step,
 * which the saga compensates), then the step runs on the function's services. Error `name`s are what Retry and Catch match.
 */
export function stepHandler<S extends z.ZodType, R>(
  step: string,
  schema: S,
  impl: (input: z.infer<S>, services: Services) => Promise<R>,
) {
  return composed((services: Services) => async (event: unknown): Promise<R> => {
    const parsed = schema.safeParse(event);
    if (!parsed.success)
      throw new InvalidStepInput(step, parsed.error.issues.map((i) => i.path.join('.')).join(', '));
    logger.appendKeys({ step });
    try {
      return await impl(parsed.data, services);
    } finally {
      logger.resetKeys();
    }
  });
}
