/**
 * The tenant provisioning state machine, defined once. CDK substitutes each step's Lambda ARN;
 * the local platform runs the same definition with `aws-local-stepfunctions`, mapping each
 * step's resource to the same handler module.
 *
 * This is the skeleton: placement and activation. The provisioning issue adds the secret,
 * role, database and schema steps and their compensation.
 */
export const provisioningSteps = {
  PlaceTenant: 'provisioning/place-tenant',
  ActivateTenant: 'provisioning/activate-tenant',
  CompensateTenant: 'provisioning/compensate-tenant',
} as const;
export type ProvisioningStep = keyof typeof provisioningSteps;

const transientRetry = [
  {
    ErrorEquals: ['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'TransientError'],
    IntervalSeconds: 1,
    MaxAttempts: 4,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
];

const compensateOnFailure = [
  { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'CompensateTenant' },
];

/** Amazon States Language for the saga. `resourceFor` names the task resource of each step. */
export function provisioningDefinition(resourceFor: (step: ProvisioningStep) => string) {
  return {
    Comment: 'Tenant provisioning saga: every step idempotent, every failure compensated',
    StartAt: 'PlaceTenant',
    States: {
      PlaceTenant: {
        Type: 'Task',
        Resource: resourceFor('PlaceTenant'),
        ResultPath: '$.placement',
        Retry: transientRetry,
        Catch: compensateOnFailure,
        Next: 'ActivateTenant',
      },
      ActivateTenant: {
        Type: 'Task',
        Resource: resourceFor('ActivateTenant'),
        ResultPath: '$.activation',
        Retry: transientRetry,
        Catch: compensateOnFailure,
        End: true,
      },
      CompensateTenant: {
        Type: 'Task',
        Resource: resourceFor('CompensateTenant'),
        ResultPath: '$.compensation',
        Retry: transientRetry,
        Next: 'ProvisioningFailed',
      },
      ProvisioningFailed: {
        Type: 'Fail',
        Error: 'ProvisioningFailed',
        Cause: 'Provisioning failed and was compensated',
      },
    },
  };
}
