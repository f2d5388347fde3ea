import { baseType, cellText, sortable } from '../tenant-data';
import { formatDate } from '../ui';

export interface Sort {
  readonly column: string;
  readonly descending: boolean;
}

type Row = Record<string, unknown>;

/**
 * The rows as a table: a sortable column's header is a button (ascending first, then descending;
 * `aria-sort` on the sorted one), each cell carries its column's name for the stacked phone layout,
 * and writers get Edit and Delete on each row.
 */
export function RowsTable({
  columns,
  rows,
  sort,
  onSort,
  onEdit,
  onDelete,
}: {
  columns: readonly { name: string; type: string }[];
  rows: readonly Row[];
  sort: Sort;
  onSort: (sort: Sort) => void;
  onEdit?: (row: Row) => void;
  onDelete?: (row: Row) => void;
}) {
  const actions = onEdit !== undefined || onDelete !== undefined;
  return (
    <table className="rows">
      <caption className="visually-hidden">
        Sorted by {sort.column}, {sort.descending ? 'descending' : 'ascending'}
      </caption>
      <thead>
        <tr>
          {columns.map((c) => {
            const sorted = sort.column === c.name;
            return (
              <th
                key={c.name}
                scope="col"
                {...(sorted ? { 'aria-sort': sort.descending ? 'descending' : 'ascending' } : {})}
              >
                {sortable(baseType(c.type)) ? (
                  <button
                    type="button"
                    className="sort"
                    onClick={() => onSort({ column: c.name, descending: sorted && !sort.descending })}
                  >
                    {c.name}
                    <span aria-hidden="true">{sorted ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
                  </button>
                ) : (
                  c.name
                )}
              </th>
            );
          })}
          {actions ? <th scope="col">Actions</th> : null}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={columns.length + (actions ? 1 : 0)}>No rows.</td>
          </tr>
        ) : null}
        {rows.map((row) => {
          const id = String(row.id);
          return (
            <tr key={id}>
              {columns.map((c) => (
                <td key={c.name} data-label={c.name}>
                  <Cell type={c.type} value={row[c.name]} />
                </td>
              ))}
              {actions ? (
                <td data-label="Actions" className="actions">
                  {onEdit ? (
                    <button type="button" className="secondary" id={`edit-${id}`} onClick={() => onEdit(row)}>
                      Edit<span className="visually-hidden"> row {id}</span>
                    </button>
                  ) : null}{' '}
                  {onDelete ? (
                    <button type="button" className="danger" onClick={() => onDelete(row)}>
                      Delete<span className="visually-hidden"> row {id}</span>
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Cell({ type, value }: { type: string; value: unknown }) {
  if (value === null || value === undefined) return <span className="null">null</span>;
  if (baseType(type) === 'timestamptz' && typeof value === 'string')
    return (
      <time dateTime={value} title={value}>
        {formatDate(value)}
      </time>
    );
  return <>{cellText(value)}</>;
}
