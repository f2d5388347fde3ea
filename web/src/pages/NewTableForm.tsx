import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type ApiError, apiError, fieldErrors } from '../api/client';
import { useConsole } from '../console-context';
import { COLUMN_TYPES } from '../tenant-data';
import { Field, FormMessage } from '../ui';

interface ColumnDraft {
  readonly key: number;
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly unique: boolean;
}

const FIELDS = ['name', 'type', 'nullable', 'unique'] as const;

/**
 * POST …/tables: a name and a list of columns. Every check is the API's: its issues are shown on
 * the fields they name (`name`, `columns.<i>.name`, …), and the first invalid field takes focus.
 */
export function NewTableForm({
  tenantId,
  databaseId,
  onCreated,
}: {
  tenantId: string;
  databaseId: string;
  onCreated: (name: string) => void;
}) {
  const { api } = useConsole();
  const nextKey = useRef(1);
  const blank = (): ColumnDraft => ({
    key: nextKey.current++,
    name: '',
    type: 'text',
    nullable: true,
    unique: false,
  });
  const [name, setName] = useState('');
  const [columns, setColumns] = useState<ColumnDraft[]>(() => [blank()]);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const focusName = useRef<number | undefined>(undefined);
  const addRef = useRef<HTMLButtonElement>(null);

  // After the API answers with issues, the first invalid field takes focus.
  useEffect(() => {
    if (error) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [error]);
  // A new column's name takes focus, once it is rendered.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the columns change, to find the new one.
  useEffect(() => {
    const key = focusName.current;
    if (key === undefined) return;
    focusName.current = undefined;
    formRef.current?.querySelector<HTMLElement>(`[data-column="${key}"] input[type="text"]`)?.focus();
  }, [columns]);

  const update = (key: number, change: Partial<ColumnDraft>) =>
    setColumns((all) => all.map((c) => (c.key === key ? { ...c, ...change } : c)));

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    const answer = await api.POST('/tenants/{tenantId}/databases/{databaseId}/tables', {
      params: { path: { tenantId, databaseId } },
      body: {
        name: name.trim(),
        columns: columns.map((c) => ({
          name: c.name.trim(),
          type: c.type,
          nullable: c.nullable,
          unique: c.unique,
        })),
      },
    });
    setBusy(false);
    if (!answer.response.ok) {
      setError(apiError(answer.error, answer.response.status));
      return;
    }
    setName('');
    setColumns([blank()]);
    onCreated(answer.data?.name ?? name.trim());
  };

  const errors = fieldErrors(error);
  const shown = new Set(['name', ...columns.flatMap((_, i) => FIELDS.map((f) => `columns.${i}.${f}`))]);
  const onFields = Object.keys(errors).some((path) => shown.has(path));
  const rest = Object.entries(errors).filter(([path]) => !shown.has(path));

  return (
    <form ref={formRef} onSubmit={submit} noValidate aria-labelledby="new-table" className="data-form">
      <h2 id="new-table">New table</h2>
      <FormMessage
        error={
          error && (!onFields || rest.length > 0)
            ? [error.message, ...rest.map(([path, message]) => `${path}: ${message}`)].join(' — ')
            : undefined
        }
      />
      <Field label="Table name" name="name" error={errors.name}>
        {(props) => (
          <input {...props} type="text" required value={name} onChange={(e) => setName(e.target.value)} />
        )}
      </Field>
      {columns.map((column, i) => (
        <fieldset key={column.key} data-column={column.key} className="column-draft">
          <legend>Column {i + 1}</legend>
          <Field label="Name" name={`columns.${i}.name`} error={errors[`columns.${i}.name`]}>
            {(props) => (
              <input
                {...props}
                type="text"
                required
                value={column.name}
                onChange={(e) => update(column.key, { name: e.target.value })}
              />
            )}
          </Field>
          <Field label="Type" name={`columns.${i}.type`} error={errors[`columns.${i}.type`]}>
            {(props) => (
              <select
                {...props}
                value={column.type}
                onChange={(e) => update(column.key, { type: e.target.value })}
              >
                {COLUMN_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Nullable" name={`columns.${i}.nullable`} error={errors[`columns.${i}.nullable`]}>
            {(props) => (
              <input
                {...props}
                type="checkbox"
                checked={column.nullable}
                onChange={(e) => update(column.key, { nullable: e.target.checked })}
              />
            )}
          </Field>
          <Field label="Unique" name={`columns.${i}.unique`} error={errors[`columns.${i}.unique`]}>
            {(props) => (
              <input
                {...props}
                type="checkbox"
                checked={column.unique}
                onChange={(e) => update(column.key, { unique: e.target.checked })}
              />
            )}
          </Field>
          {columns.length > 1 ? (
            <button
              type="button"
              className="danger"
              onClick={() => {
                // The API's issues name columns by index: after a removal they no longer fit.
                setError(undefined);
                setColumns((all) => all.filter((c) => c.key !== column.key));
                addRef.current?.focus();
              }}
            >
              Remove column {i + 1}
            </button>
          ) : null}
        </fieldset>
      ))}
      <p>
        <button
          ref={addRef}
          type="button"
          className="secondary"
          onClick={() => {
            const added = blank();
            focusName.current = added.key;
            setColumns((all) => [...all, added]);
          }}
        >
          Add column
        </button>{' '}
        <button type="submit" disabled={busy}>
          Create table
        </button>
      </p>
    </form>
  );
}
