import { Link } from 'react-router';
import { useConsole } from '../console-context';
import { useLoad } from '../ui';

/**
 * Where a data page is: Databases › the database's label › the table. The label comes from the
 * tenant's databases list (there is no GET of one database); until it answers, the id is shown.
 */
export function DataTrail({
  tenantId,
  databaseId,
  table,
}: {
  tenantId: string;
  databaseId: string;
  table?: string;
}) {
  const { api } = useConsole();
  const [databases] = useLoad(
    () => api.GET('/tenants/{tenantId}/databases', { params: { path: { tenantId }, query: { limit: 100 } } }),
    [api, tenantId],
  );
  const label =
    databases.state === 'ready'
      ? (databases.data.items.find((d) => d.id === databaseId)?.label ?? databaseId)
      : databaseId;
  const base = `/t/${tenantId}/databases`;
  return (
    <nav aria-label="Breadcrumb" className="trail">
      <ol>
        <li>
          <Link to={base}>Databases</Link>
        </li>
        <li>
          {table ? (
            <Link to={`${base}/${databaseId}/tables`}>{label}</Link>
          ) : (
            <span aria-current="page">{label}</span>
          )}
        </li>
        {table ? (
          <li>
            <span aria-current="page">{table}</span>
          </li>
        ) : null}
      </ol>
    </nav>
  );
}
