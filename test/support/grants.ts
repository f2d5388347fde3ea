import { DEFAULT_PLAN_SETTINGS, effectiveLimits } from '#shared/domain/plans';

/** The plan part of a fake grant: the default plan and its limits. */
export const DEFAULT_GRANT_PLAN = {
  plan: DEFAULT_PLAN_SETTINGS.defaultPlan,
  limits: effectiveLimits(DEFAULT_PLAN_SETTINGS, DEFAULT_PLAN_SETTINGS.defaultPlan),
} as const;
