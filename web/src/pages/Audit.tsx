import { type FormEvent, useState } from 'react';
import { useParams } from 'react-router';
import { useConsole } from '../console-context';
import { Field, formatDate, Show, useLoad } from '../ui';

interface Filters {
  readonly from?: string;
  readonly to?: string;
  readonly action?: string;
  readonly userId?: string;
}

/** `datetime-local` (the browser's zone) → ISO 8601 with Z; empty → undefined. */
const isoOf = (local: FormDataEntryValue | null) => {
  const value = String(local ?? '');
  return value ? new Date(value).toISOString() : undefined;
};

/** The tenant's audit trail (GET /tenants/{id}/audit): filters, keyset pages, newest first. */
export function Audit() {
  const { tenantId = '' } = useParams();
  const { api } = useConsole();
  const [filters, setFilters] = useState<Filters>({});
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const [page] = useLoad(
    () =>
      api.GET('/tenants/{tenantId}/audit', {
        params: { path: { tenantId }, query: { limit: 50, ...filters, ...(cursor ? { cursor } : {}) } },
      }),
    [api, tenantId, filters, cursor],
  );

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? '').trim() || undefined;
    const next: Record<string, string | undefined> = {
      from: isoOf(form.get('from')),
      to: isoOf(form.get('to')),
      action: text('action'),
      userId: text('userId'),
    };
    setFilters(Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)) as Filters);
    setCursors([]);
  };

  return (
    <>
      <h1>Audit log</h1>
      <form onSubmit={apply} className="filters" aria-label="Audit filters">
        <Field label="From" name="from">
          {(props) => <input {...props} type="datetime-local" />}
        </Field>
        <Field label="To" name="to">
          {(props) => <input {...props} type="datetime-local" />}
        </Field>
        <Field label="Action (e.g. members.invite)" name="action">
          {(props) => <input {...props} />}
        </Field>
        <Field label="User id" name="userId">
          {(props) => <input {...props} />}
        </Field>
        <button type="submit">Filter</button>
      </form>
      <Show loaded={page}>
        {(data) => (
          <>
            {data.items.length === 0 ? (
              <p>No audit records match.</p>
            ) : (
              <table>
                <caption className="visually-hidden">Audit records, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Action</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">User</th>
                    <th scope="col">Resource</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((record) => (
                    <tr key={record.eventId}>
                      <td>{formatDate(record.at)}</td>
                      <td>{record.action}</td>
                      <td>
                        {record.outcome} ({record.statusCode})
                      </td>
                      <td>{record.userId}</td>
                      <td>{record.resource}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <nav aria-label="Audit pages" className="pager">
              {cursors.length > 0 ? (
                <button type="button" className="secondary" onClick={() => setCursors((c) => c.slice(0, -1))}>
                  Previous page
                </button>
              ) : null}{' '}
              {data.nextCursor ? (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => setCursors((c) => [...c, data.nextCursor ?? ''])}
                >
                  Next page
                </button>
              ) : null}
            </nav>
          </>
        )}
      </Show>
    </>
  );
}
