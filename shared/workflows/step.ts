import type * as z from 'zod';
import { logger } from '#shared/core/logger';

export class InvalidStepInput extends Error {
  constructor(step: string, issues: string) {
    super(`${step}: invalid input (${issues})`);
    this.name = 'InvalidStepInput';
  }
}

/**
 * A Step Functions task handler: the state input is parsed with zod (a bad one fails the step,
 * which the saga compensates), then the step runs. Error `name`s are what Retry and Catch match.
 */
export function stepHandler<S extends z.ZodType, R>(
  step: string,
  schema: S,
  impl: (input: z.infer<S>) => Promise<R>,
) {
  return async (event: unknown): Promise<R> => {
    const parsed = schema.safeParse(event);
    if (!parsed.success)
      throw new InvalidStepInput(step, parsed.error.issues.map((i) => i.path.join('.')).join(', '));
    logger.appendKeys({ step });
    try {
      return await impl(parsed.data);
    } finally {
      logger.resetKeys();
    }
  };
}
