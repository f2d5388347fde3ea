import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { type ApiError, apiError } from '../api/client';
import { useConsole } from '../console-context';
import { canManageMembers, useTenantRole } from '../me';
import { FormMessage, Show, useLoad } from '../ui';

/** The module catalogue for the tenant: what each needs (missing settings), enable it, disable it. */
export function Modules() {
  const { tenantId = '' } = useParams();
  const { api } = useConsole();
  const path = { params: { path: { tenantId } } };
  const [modules, reload] = useLoad(() => api.GET('/tenants/{tenantId}/modules', path), [api, tenantId]);
  const [databases] = useLoad(() => api.GET('/tenants/{tenantId}/databases', path), [api, tenantId]);
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const role = useTenantRole(tenantId);
  const manage = canManageMembers(role);
  const primary =
    databases.state === 'ready'
      ? (databases.data.items.find((d) => d.isPrimary) ?? databases.data.items[0])
      : undefined;

  const enable = async (moduleId: 'billing' | 'crm' | 'subscriptions', name: string) => {
    if (!primary) return;
    setError(undefined);
    setNotice(undefined);
    const answer = await api.POST('/tenants/{tenantId}/modules', {
      ...path,
      body: { moduleId, databaseId: primary.id },
    });
    if (!answer.response.ok) setError(apiError(answer.error, answer.response.status));
    else setNotice(`${name} is enabled on ${primary.label}.`);
    reload();
  };

  const disable = async (moduleId: string, name: string) => {
    setError(undefined);
    const answer = await api.DELETE('/tenants/{tenantId}/modules/{moduleId}', {
      params: { path: { tenantId, moduleId } },
    });
    if (!answer.response.ok) setError(apiError(answer.error, answer.response.status));
    else setNotice(`${name} is disabled.`);
    reload();
  };

  return (
    <>
      <h1>Modules</h1>
      {notice ? <p role="status">{notice}</p> : null}
      <FormMessage
        error={
          error
            ? error.missingFields?.length
              ? `${error.message} Missing: ${error.missingFields.join(', ')}.`
              : error.message
            : undefined
        }
      />
      <Show loaded={modules}>
        {(data) => (
          <ul className="plain modules">
            {data.items.map((m) => (
              <li key={m.id} aria-labelledby={`module-${m.id}`}>
                <h2 id={`module-${m.id}`}>
                  {m.name} <span className="status">{m.enabled ? 'enabled' : 'not enabled'}</span>
                </h2>
                <p>{m.description}</p>
                {m.dependencies.length > 0 ? <p>Needs the modules: {m.dependencies.join(', ')}.</p> : null}
                {m.requirements.met ? null : (
                  <p className="error">
                    Missing settings: {m.requirements.missingFields.join(', ')} —{' '}
                    <Link to={`/t/${tenantId}/settings`}>fill them in the settings</Link>.
                  </p>
                )}
                {manage && !m.enabled ? (
                  <button
                    type="button"
                    disabled={!m.requirements.met || !primary}
                    onClick={() => enable(m.id as 'billing' | 'crm' | 'subscriptions', m.name)}
                  >
                    Enable {m.name}
                  </button>
                ) : null}
                {manage && m.enabled ? (
                  <button type="button" className="danger" onClick={() => disable(m.id, m.name)}>
                    Disable {m.name}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </Show>
    </>
  );
}
