import { useEffect } from 'react';
import { useParams } from 'react-router';
import { useConsole } from '../console-context';
import { formatDate, Show, useLoad } from '../ui';

/** The tenant and its provisioning: status, databases, and the workflow's step history. */
export function TenantOverview() {
  const { tenantId = '' } = useParams();
  const { api } = useConsole();
  const path = { params: { path: { tenantId } } };
  const [tenant, reloadTenant] = useLoad(() => api.GET('/tenants/{tenantId}', path), [api, tenantId]);
  const [provisioning, reloadProvisioning] = useLoad(
    () => api.GET('/tenants/{tenantId}/provisioning', path),
    [api, tenantId],
  );
  const provisioningNow = provisioning.state === 'ready' && provisioning.data.status === 'provisioning';
  // While the saga runs, look again every second (it finishes in seconds locally).
  useEffect(() => {
    if (!provisioningNow) return;
    const timer = setInterval(() => {
      reloadProvisioning();
      reloadTenant();
    }, 1_000);
    return () => clearInterval(timer);
  }, [provisioningNow, reloadProvisioning, reloadTenant]);

  return (
    <Show loaded={tenant}>
      {(t) => (
        <>
          <h1>{t.name}</h1>
          <p>
            Status:{' '}
            <span className={`status status-${t.status}`} data-testid="tenant-status">
              {t.status}
            </span>
            {t.statusReason ? ` — ${t.statusReason}` : ''}
          </p>
          <section aria-labelledby="provisioning">
            <h2 id="provisioning">Provisioning</h2>
            <Show loaded={provisioning}>
              {(p) => (
                <>
                  <h3>Databases</h3>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Database</th>
                        <th scope="col">Status</th>
                        <th scope="col">Cluster</th>
                        <th scope="col">Created</th>
                      </tr>
                    </thead>
                    <tbody>
                      {p.databases.map((d) => (
                        <tr key={d.id}>
                          <td>
                            {d.label}
                            {d.isPrimary ? ' (primary)' : ''}
                          </td>
                          <td>{d.status}</td>
                          <td>{d.clusterId ?? '—'}</td>
                          <td>{formatDate(d.createdAt)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  {p.workflow ? (
                    <>
                      <h3>
                        Steps (attempt {p.workflow.attempt}, {p.workflow.status.toLowerCase()})
                      </h3>
                      <ol className="steps">
                        {p.workflow.steps.map((step) => (
                          <li key={`${step.name}-${step.enteredAt}`}>
                            <strong>{step.name}</strong>: {step.status.toLowerCase()}
                            {step.retries > 0 ? `, ${step.retries} retries` : ''}
                            {step.error ? ` — ${step.error}` : ''}
                          </li>
                        ))}
                      </ol>
                    </>
                  ) : (
                    <p>No workflow has run for this tenant yet.</p>
                  )}
                </>
              )}
            </Show>
          </section>
        </>
      )}
    </Show>
  );
}
