import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useConsole } from '../console-context';
import { formatDate, Pager, Show, useLoad } from '../ui';

/** The tenant's databases (GET /tenants/{tenantId}/databases), each leading to its tables. */
export function Databases() {
  const { tenantId = '' } = useParams();
  const { api } = useConsole();
  const [cursor, setCursor] = useState<string>();
  const [databases] = useLoad(
    () =>
      api.GET('/tenants/{tenantId}/databases', {
        params: { path: { tenantId }, query: { limit: 50, ...(cursor ? { cursor } : {}) } },
      }),
    [api, tenantId, cursor],
  );
  return (
    <>
      <h1>Databases</h1>
      <Show loaded={databases}>
        {(page) =>
          page.items.length === 0 ? (
            <p>This tenant has no databases yet.</p>
          ) : (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Database</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((d) => (
                    <tr key={d.id}>
                      <td data-label="Database">
                        <Link to={`/t/${tenantId}/databases/${d.id}/tables`}>
                          {d.label}
                          <span className="visually-hidden"> tables</span>
                        </Link>
                        {d.isPrimary ? ' (primary)' : ''}
                      </td>
                      <td data-label="Status">
                        <span className={`status status-${d.status}`}>{d.status}</span>
                        {d.statusReason ? ` — ${d.statusReason}` : ''}
                      </td>
                      <td data-label="Created">{formatDate(d.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager label="Database pages" cursor={cursor} nextCursor={page.nextCursor} onPage={setCursor} />
            </>
          )
        }
      </Show>
    </>
  );
}
