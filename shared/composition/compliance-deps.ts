import type { ComplianceDeps } from '#shared/compliance/report';
import type { Services } from '#shared/composition/services';
import { ComplianceQueries } from '#shared/control/compliance-queries';
import { ConfigError } from '#shared/errors';

/** The compliance report's dependencies; a function without the dataProtection need fails here. */
export function complianceDeps(s: Services): ComplianceDeps {
  const { dataProtection, plans, userPoolId } = s.settings;
  if (!dataProtection) {
    throw new ConfigError('Invalid configuration: CLUSTER_STORAGE: missing', ['CLUSTER_STORAGE']);
  }
  return {
    tenants: s.tenants,
    databases: s.databases,
    queries: new ComplianceQueries(s.control),
    audit: s.records.audit,
    plans,
    dataProtection,
    // The pool names a user by their sub too (AdminGetUser's Username): our user ids are subs.
    mfa: userPoolId ? (userId) => s.mfaStatus.hasSecondFactor(userPoolId, userId) : undefined,
  };
}
