import { type FormEvent, useState } from 'react';
import type { ApiError } from '../api/client';
import { baseType, type FilterOperator, OPERATOR_LABELS, operatorsFor, type RowFilter } from '../tenant-data';
import { Field } from '../ui';

const describe = (f: RowFilter) =>
  f.operator === 'is_null'
    ? `${f.column} ${f.value === 'true' ? 'is empty' : 'is not empty'}`
    : `${f.column} ${OPERATOR_LABELS[f.operator]} ${f.value}`;

/**
 * Builds the list's filters one at a time: a column, an operator the column's type takes, a value
 * (`filter[column][operator]=value`, all of them ANDed). The API parses the value with the
 * column's type; what it refuses (`location: query`, the filter's key as `path`) is shown on the
 * filter it names.
 */
export function FilterBuilder({
  columns,
  filters,
  onChange,
  error,
}: {
  columns: readonly { name: string; type: string }[];
  filters: readonly RowFilter[];
  onChange: (filters: RowFilter[]) => void;
  error?: ApiError | undefined;
}) {
  const [column, setColumn] = useState(columns[0]?.name ?? '');
  const type = baseType(columns.find((c) => c.name === column)?.type ?? 'text');
  const operators = operatorsFor(type);
  const [chosen, setOperator] = useState<FilterOperator>('eq');
  const operator = operators.includes(chosen) ? chosen : (operators[0] ?? 'is_null');
  const [value, setValue] = useState('');
  const choice = operator === 'is_null' || type === 'boolean';

  const issues = new Map<string, string>();
  for (const issue of Array.isArray(error?.details) ? (error?.details ?? []) : [])
    if (issue.location === 'query' && issue.path && issue.message) issues.set(issue.path, issue.message);
  const keyOf = (f: RowFilter) => `filter[${f.column}][${f.operator}]`;
  const unplaced = [...issues].filter(([path]) => !filters.some((f) => keyOf(f) === path));

  const add = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const next = { column, operator, value: choice ? (value === 'false' ? 'false' : 'true') : value };
    onChange([...filters.filter((f) => keyOf(f) !== keyOf(next)), next]);
    if (!choice) setValue('');
  };

  return (
    <section aria-labelledby="filters" className="filters">
      <h2 id="filters">Filters</h2>
      {filters.length > 0 ? (
        <ul className="plain">
          {filters.map((f) => (
            <li key={keyOf(f)}>
              {describe(f)}{' '}
              <button
                type="button"
                className="secondary"
                onClick={() => onChange(filters.filter((other) => keyOf(other) !== keyOf(f)))}
              >
                Remove<span className="visually-hidden"> filter {describe(f)}</span>
              </button>
              {issues.get(keyOf(f)) ? (
                <p className="field-error" role="alert">
                  {f.column}: {issues.get(keyOf(f))}
                </p>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p>No filters: every row.</p>
      )}
      {unplaced.length > 0 ? (
        <p className="error" role="alert">
          {unplaced.map(([path, message]) => `${path}: ${message}`).join(' — ')}
        </p>
      ) : null}
      <form onSubmit={add} noValidate aria-label="Add a filter" className="inline-form">
        <Field label="Column" name="filter-column">
          {(props) => (
            <select {...props} value={column} onChange={(e) => setColumn(e.target.value)}>
              {columns.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Operator" name="filter-operator">
          {(props) => (
            <select
              {...props}
              value={operator}
              onChange={(e) => setOperator(e.target.value as FilterOperator)}
            >
              {operators.map((o) => (
                <option key={o} value={o}>
                  {OPERATOR_LABELS[o]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Value" name="filter-value">
          {(props) =>
            choice ? (
              <select
                {...props}
                value={value === 'false' ? 'false' : 'true'}
                onChange={(e) => setValue(e.target.value)}
              >
                <option value="true">{operator === 'is_null' ? 'yes' : 'true'}</option>
                <option value="false">{operator === 'is_null' ? 'no' : 'false'}</option>
              </select>
            ) : (
              <input {...props} type="text" value={value} onChange={(e) => setValue(e.target.value)} />
            )
          }
        </Field>
        <button type="submit">Add filter</button>
      </form>
    </section>
  );
}
