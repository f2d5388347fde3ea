import { useRef, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { type ApiError, apiError } from '../api/client';
import { useConsole } from '../console-context';
import { canWrite, useTenantRole } from '../me';
import { filterQuery, type RowsView, rowsQueryString, rowsViewFrom, rowsViewSearch } from '../tenant-data';
import { Field, Pager, Show, useLoad } from '../ui';
import { DataTrail } from './DataTrail';
import { FilterBuilder } from './FilterBuilder';
import { RowForm } from './RowForm';
import { RowsTable } from './RowsTable';

const PAGE_SIZES = [5, 20, 50, 100] as const;
type Row = Record<string, unknown>;

/**
 * A table's rows: its columns from describe (GET …/tables/{table}), rows from GET …/rows with
 * filters, a sort (the column headers) and keyset pages; writers insert, edit and delete rows.
 */
export function Rows() {
  const { tenantId = '', databaseId = '', table = '' } = useParams();
  const { api } = useConsole();
  const writer = canWrite(useTenantRole(tenantId));
  const tablePath = { tenantId, databaseId, table };
  const [described] = useLoad(
    () =>
      api.GET('/tenants/{tenantId}/databases/{databaseId}/tables/{table}', { params: { path: tablePath } }),
    [api, tenantId, databaseId, table],
  );
  // Sort, filters, page size and page live in the URL: a view can be bookmarked, shared, and
  // Back returns to the previous one.
  const [search, setSearch] = useSearchParams();
  const view = rowsViewFrom(search, PAGE_SIZES);
  const { sort, filters, limit, cursor } = view;
  const setView = (change: Partial<RowsView>) => setSearch(rowsViewSearch({ ...view, ...change }));
  const setCursor = (next: string | undefined) => setView({ cursor: next });
  const [editing, setEditing] = useState<Row>();
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const noticeRef = useRef<HTMLParagraphElement>(null);
  const sortParam = `${sort.descending ? '-' : ''}${sort.column}`;
  const [rows, reloadRows] = useLoad(
    () =>
      api.GET('/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows', {
        params: {
          path: tablePath,
          query: { limit, sort: sortParam, filter: filterQuery(filters), ...(cursor ? { cursor } : {}) },
        },
        querySerializer: rowsQueryString,
      }),
    [api, tenantId, databaseId, table, sortParam, JSON.stringify(filters), limit, cursor],
  );

  const done = (message: string) => {
    setNotice(message);
    reloadRows();
    requestAnimationFrame(() => noticeRef.current?.focus());
  };
  // Changing what is listed starts again from the first page (one URL change, not two).
  const relist =
    <K extends 'sort' | 'filters' | 'limit'>(key: K) =>
    (value: RowsView[K]) =>
      setView({ [key]: value, cursor: undefined });
  const rowPath = (row: Row) => ({ ...tablePath, rowId: String(row.id) });

  const insert = async (body: Row) => {
    setNotice(undefined);
    const answer = await api.POST('/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows', {
      params: { path: tablePath },
      body,
    });
    if (!answer.response.ok) return apiError(answer.error, answer.response.status);
    setNotice(`Inserted row ${String(answer.data?.id ?? '')}.`);
    reloadRows();
    return undefined;
  };
  const save = async (row: Row, body: Row) => {
    if (Object.keys(body).length === 0) {
      setEditing(undefined);
      done('Nothing changed.');
      return undefined;
    }
    const answer = await api.PATCH('/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows/{rowId}', {
      params: { path: rowPath(row) },
      body,
    });
    if (!answer.response.ok) return apiError(answer.error, answer.response.status);
    setEditing(undefined);
    done(`Saved row ${String(row.id)}.`);
    return undefined;
  };
  const remove = async (row: Row) => {
    if (!window.confirm(`Delete row ${String(row.id)}? This cannot be undone.`)) return;
    setError(undefined);
    const answer = await api.DELETE(
      '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows/{rowId}',
      {
        params: { path: rowPath(row) },
      },
    );
    if (!answer.response.ok) {
      setError(apiError(answer.error, answer.response.status));
      return;
    }
    if (editing?.id === row.id) setEditing(undefined);
    done(`Deleted row ${String(row.id)}.`);
  };
  const closeEditor = (row: Row) => {
    setEditing(undefined);
    requestAnimationFrame(() => document.getElementById(`edit-${String(row.id)}`)?.focus());
  };

  return (
    <>
      <DataTrail tenantId={tenantId} databaseId={databaseId} table={table} />
      <Show loaded={described}>
        {(description) => {
          const writable = description.columns.filter((c) => !c.system);
          return (
            <>
              <h1>{description.name}</h1>
              {description.module ? <p>Part of the {description.module} module.</p> : null}
              {notice ? (
                <p role="status" tabIndex={-1} ref={noticeRef}>
                  {notice}
                </p>
              ) : null}
              {error ? (
                <p role="alert" className="error">
                  {error.message}
                </p>
              ) : null}
              <FilterBuilder
                columns={description.columns}
                filters={filters}
                onChange={relist('filters')}
                error={rows.state === 'failed' ? rows.error : undefined}
              />
              <section aria-labelledby="rows-heading">
                <h2 id="rows-heading">Rows</h2>
                <Field label="Rows a page" name="limit">
                  {(props) => (
                    <select
                      {...props}
                      value={limit}
                      onChange={(e) => relist('limit')(Number(e.target.value))}
                    >
                      {PAGE_SIZES.map((n) => (
                        <option key={n} value={n}>
                          {n}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                <Show loaded={rows}>
                  {(page) => (
                    <>
                      <RowsTable
                        columns={description.columns}
                        rows={page.items}
                        sort={sort}
                        onSort={relist('sort')}
                        {...(writer ? { onEdit: setEditing, onDelete: remove } : {})}
                      />
                      <Pager
                        label="Row pages"
                        cursor={cursor}
                        nextCursor={page.nextCursor}
                        onPage={setCursor}
                      />
                    </>
                  )}
                </Show>
              </section>
              {writer && editing ? (
                <RowForm
                  key={String(editing.id)}
                  title={`Edit row ${String(editing.id)}`}
                  columns={writable}
                  row={editing}
                  submitLabel="Save row"
                  onSubmit={(body) => save(editing, body)}
                  onCancel={() => closeEditor(editing)}
                  focusOnOpen
                />
              ) : null}
              {writer ? (
                <RowForm title="Insert a row" columns={writable} submitLabel="Insert row" onSubmit={insert} />
              ) : null}
            </>
          );
        }}
      </Show>
    </>
  );
}
