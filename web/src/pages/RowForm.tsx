import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { type ApiError, fieldErrors } from '../api/client';
import {
  baseType,
  type FormValue,
  inputKind,
  rowBody,
  toFormValue,
  type WritableColumn,
} from '../tenant-data';
import { Field, FormMessage } from '../ui';

export interface FormColumn extends WritableColumn {
  readonly nullable: boolean;
  readonly default?: unknown;
}

const INPUT_TYPES = {
  number: 'number',
  datetime: 'datetime-local',
  date: 'date',
  text: 'text',
  checkbox: 'checkbox',
  json: 'text',
} as const;

const initialValues = (columns: readonly FormColumn[], row?: Readonly<Record<string, unknown>>) =>
  Object.fromEntries(columns.map((c) => [c.name, toFormValue(baseType(c.type), row ? row[c.name] : null)]));

/**
 * A row's fields, generated from the table's column types: numbers for integer, bigint and numeric,
 * a checkbox for boolean, datetime-local for timestamptz, a date for date, a textarea for jsonb,
 * text otherwise. Insert sends the filled fields; edit (with `row`) the changed ones. The API's
 * issues (their path is the column's name) are shown on the fields, and the first takes focus.
 */
export function RowForm({
  title,
  columns,
  row,
  submitLabel,
  onSubmit,
  onCancel,
  focusOnOpen = false,
}: {
  title: string;
  columns: readonly FormColumn[];
  row?: Readonly<Record<string, unknown>>;
  submitLabel: string;
  /** Sends the body; answers the API's error, or undefined when it was written. */
  onSubmit: (body: Record<string, unknown>) => Promise<ApiError | undefined>;
  onCancel?: () => void;
  /** Moves focus to the form's heading when it opens (an edit form opened from a row's button). */
  focusOnOpen?: boolean;
}) {
  const headingId = useId();
  const [values, setValues] = useState<Record<string, FormValue>>(() => initialValues(columns, row));
  const [initial] = useState(() => (row ? initialValues(columns, row) : undefined));
  const [error, setError] = useState<ApiError>();
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const headingRef = useRef<HTMLHeadingElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when the form opens.
  useEffect(() => {
    if (focusOnOpen) headingRef.current?.focus();
  }, []);
  useEffect(() => {
    if (error || Object.keys(problems).length > 0)
      formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [error, problems]);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(undefined);
    const { body, problems: found } = rowBody(columns, values, initial);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    const failed = await onSubmit(body);
    setBusy(false);
    if (failed) setError(failed);
    else if (!row) setValues(initialValues(columns));
  };

  const errors = { ...fieldErrors(error), ...problems };
  const onFields = columns.some((c) => errors[c.name]);
  const set = (name: string, value: FormValue) => setValues((all) => ({ ...all, [name]: value }));

  return (
    <form ref={formRef} onSubmit={submit} noValidate aria-labelledby={headingId} className="data-form">
      <h2 id={headingId} tabIndex={-1} ref={headingRef}>
        {title}
      </h2>
      <FormMessage error={error && !onFields ? error.message : undefined} />
      {columns.map((column) => {
        const type = baseType(column.type);
        const kind = inputKind(type);
        const required = !column.nullable && column.default === undefined && !row && kind !== 'checkbox';
        const value = values[column.name] ?? '';
        const text = typeof value === 'string' ? value : '';
        return (
          <Field
            key={column.name}
            label={`${column.name} (${column.type}${required ? ', required' : ''})`}
            name={column.name}
            error={errors[column.name]}
          >
            {(props) => {
              switch (kind) {
                case 'checkbox':
                  return (
                    <input
                      {...props}
                      type="checkbox"
                      checked={value === true}
                      onChange={(e) => set(column.name, e.target.checked)}
                    />
                  );
                case 'json':
                  return (
                    <textarea
                      {...props}
                      rows={3}
                      required={required}
                      value={text}
                      onChange={(e) => set(column.name, e.target.value)}
                    />
                  );
                default:
                  return (
                    <input
                      {...props}
                      type={INPUT_TYPES[kind]}
                      {...(kind === 'datetime' ? { step: 1 } : {})}
                      {...(type === 'numeric' ? { step: 'any' } : {})}
                      required={required}
                      value={text}
                      onChange={(e) => set(column.name, e.target.value)}
                    />
                  );
              }
            }}
          </Field>
        );
      })}
      <p>
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>{' '}
        {onCancel ? (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </p>
    </form>
  );
}
