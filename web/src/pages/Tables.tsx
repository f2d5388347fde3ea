import { useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useConsole } from '../console-context';
import { canWrite, useTenantRole } from '../me';
import { Pager, Show, useLoad } from '../ui';
import { DataTrail } from './DataTrail';
import { NewTableForm } from './NewTableForm';

/** A database's tables in keyset pages; writers (any role but viewer) also get "New table". */
export function Tables() {
  const { tenantId = '', databaseId = '' } = useParams();
  const { api } = useConsole();
  const writer = canWrite(useTenantRole(tenantId));
  const [cursor, setCursor] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const noticeRef = useRef<HTMLParagraphElement>(null);
  const [tables, reload] = useLoad(
    () =>
      api.GET('/tenants/{tenantId}/databases/{databaseId}/tables', {
        params: { path: { tenantId, databaseId }, query: { limit: 50, ...(cursor ? { cursor } : {}) } },
      }),
    [api, tenantId, databaseId, cursor],
  );
  const base = `/t/${tenantId}/databases/${databaseId}/tables`;

  return (
    <>
      <DataTrail tenantId={tenantId} databaseId={databaseId} />
      <h1>Tables</h1>
      {notice ? (
        <p role="status" tabIndex={-1} ref={noticeRef}>
          {notice}
        </p>
      ) : null}
      <Show loaded={tables}>
        {(page) => (
          <>
            {page.items.length === 0 ? (
              <p>No tables yet.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Table</th>
                    <th scope="col">Module</th>
                    <th scope="col">Rows (estimated)</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((t) => (
                    <tr key={t.name}>
                      <td data-label="Table">
                        <Link to={`${base}/${encodeURIComponent(t.name)}`}>{t.name}</Link>
                      </td>
                      <td data-label="Module">{t.module ?? '—'}</td>
                      <td data-label="Rows (estimated)">{Math.max(t.estimatedRows, 0)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <Pager label="Table pages" cursor={cursor} nextCursor={page.nextCursor} onPage={setCursor} />
            {writer ? (
              <NewTableForm
                tenantId={tenantId}
                databaseId={databaseId}
                onCreated={(name) => {
                  setNotice(`Created table ${name}.`);
                  reload();
                  // The form is reset; the confirmation is where the reader goes next.
                  requestAnimationFrame(() => noticeRef.current?.focus());
                }}
              />
            ) : null}
          </>
        )}
      </Show>
    </>
  );
}
