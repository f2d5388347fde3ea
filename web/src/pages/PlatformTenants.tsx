import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { type ApiError, apiError, fieldErrors, type paths } from '../api/client';
import { useConsole } from '../console-context';
import { isPlatformAdmin, useMe } from '../me';
import { Field, FormMessage, formatDate, Pager, Show, useLoad } from '../ui';

type PlanBody = NonNullable<
  paths['/tenants/{tenantId}/plan']['put']['requestBody']
>['content']['application/json'];
type Limit = keyof NonNullable<PlanBody['overrides']>;

/** Every limit an override can set, typed by the contract (a renamed one breaks the build). */
const LIMITS = [
  'requestsPerSecond',
  'burst',
  'apiCallsPerMonth',
  'databases',
  'tablesPerDatabase',
  'members',
  'customRoles',
  'storageBytes',
  'backupRetentionDays',
] as const satisfies readonly Limit[];

/**
 * The clusters a tenant's databases are on (GET /tenants/{id}/databases: the control database
 * only; platform admins act as an admin of any tenant).
 */
function Clusters({ tenantId }: { tenantId: string }) {
  const { api } = useConsole();
  const [databases] = useLoad(
    () => api.GET('/tenants/{tenantId}/databases', { params: { path: { tenantId } } }),
    [api, tenantId],
  );
  if (databases.state !== 'ready') return <>…</>;
  const clusters = [...new Set(databases.data.items.map((d) => d.clusterId).filter(Boolean))];
  return <>{clusters.join(', ') || '—'}</>;
}

/** One tenant's plan, limits and usage, and the plan editor (PUT /tenants/{id}/plan). */
function PlanEditor({ tenantId, name, onSaved }: { tenantId: string; name: string; onSaved: () => void }) {
  const { api } = useConsole();
  const [quotas, reload] = useLoad(
    () => api.GET('/tenants/{tenantId}/quotas', { params: { path: { tenantId } } }),
    [api, tenantId],
  );
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const overrides: Partial<Record<Limit, number | null>> = {};
    for (const limit of LIMITS) {
      const value = String(form.get(limit) ?? '').trim();
      if (form.get(`${limit}:clear`) === 'on') overrides[limit] = null;
      else if (value !== '') overrides[limit] = Number(value);
    }
    const plan = String(form.get('plan') ?? '').trim();
    const body: PlanBody = { plan, ...(Object.keys(overrides).length > 0 ? { overrides } : {}) };
    const answer = await api.PUT('/tenants/{tenantId}/plan', { params: { path: { tenantId } }, body });
    if (!answer.response.ok) {
      setError(apiError(answer.error, answer.response.status));
      setNotice(undefined);
      return;
    }
    setError(undefined);
    setNotice(`Saved the plan of ${name}.`);
    reload();
    onSaved();
  };

  const errors = fieldErrors(error);
  return (
    <section aria-labelledby="plan-editor" className="role">
      <h2 id="plan-editor">Plan of {name}</h2>
      {notice ? <p role="status">{notice}</p> : null}
      <Show loaded={quotas}>
        {(q) => (
          <form onSubmit={save} noValidate>
            <Field label="Plan" name="plan" error={errors.plan}>
              {(props) => <input {...props} defaultValue={q.plan} />}
            </Field>
            <table>
              <caption>Limits (plan and overrides) and usage</caption>
              <thead>
                <tr>
                  <th scope="col">Limit</th>
                  <th scope="col">Effective</th>
                  <th scope="col">Used</th>
                  <th scope="col">Override</th>
                  <th scope="col">Drop override</th>
                </tr>
              </thead>
              <tbody>
                {LIMITS.map((limit) => {
                  const used: unknown = (q.usage as Partial<Record<Limit, number>>)[limit];
                  return (
                    <tr key={limit}>
                      <th scope="row">{limit}</th>
                      <td>{String(q.limits[limit] ?? '—')}</td>
                      <td>{typeof used === 'number' ? used : '—'}</td>
                      <td>
                        <input
                          type="number"
                          min={0}
                          step={1}
                          name={limit}
                          aria-label={`Override of ${limit}`}
                          aria-invalid={Boolean(errors[`overrides.${limit}`])}
                        />
                        {errors[`overrides.${limit}`] ? (
                          <span className="field-error">{errors[`overrides.${limit}`]}</span>
                        ) : null}
                      </td>
                      <td>
                        <input
                          type="checkbox"
                          name={`${limit}:clear`}
                          aria-label={`Drop the override of ${limit}`}
                        />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <FormMessage error={error && Object.keys(errors).length === 0 ? error.message : undefined} />
            <button type="submit">Save plan</button>
          </form>
        )}
      </Show>
    </section>
  );
}

/** Platform admins: every tenant with its status, plan, isolation and cluster; the plan editor. */
export function PlatformTenants() {
  const { api } = useConsole();
  const [me] = useMe();
  const [cursor, setCursor] = useState<string>();
  const [selected, setSelected] = useState<{ id: string; name: string }>();
  const [tenants, reload] = useLoad(
    () => api.GET('/tenants', { params: { query: { limit: 25, ...(cursor ? { cursor } : {}) } } }),
    [api, cursor],
  );
  if (me.state === 'ready' && !isPlatformAdmin(me.data))
    return (
      <section aria-labelledby="forbidden">
        <h1 id="forbidden">Not allowed</h1>
        <p>The tenants list is for platform admins.</p>
      </section>
    );
  return (
    <>
      <h1>All tenants</h1>
      <Show loaded={tenants}>
        {(page) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Status</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Isolation</th>
                  <th scope="col">Cluster</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <Link to={`/t/${t.id}`}>{t.name}</Link>
                    </td>
                    <td>
                      <span className={`status status-${t.status}`}>{t.status}</span>
                    </td>
                    <td>{t.plan}</td>
                    <td>{t.isolation}</td>
                    <td>
                      <Clusters tenantId={t.id} />
                    </td>
                    <td>{formatDate(t.createdAt)}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => setSelected({ id: t.id, name: t.name })}
                      >
                        Plan<span className="visually-hidden"> of {t.name}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager label="Tenant pages" cursor={cursor} nextCursor={page.nextCursor} onPage={setCursor} />
          </>
        )}
      </Show>
      {selected ? (
        <PlanEditor key={selected.id} tenantId={selected.id} name={selected.name} onSaved={reload} />
      ) : null}
    </>
  );
}
