import { useEffect, useMemo, useState } from 'react';
import { TimeChart } from '../chart';
import { useConsole } from '../console-context';
import { seesFinance, useMe } from '../me';
import { FormMessage, Show, useLoad } from '../ui';

const thisMonth = () => new Date().toISOString().slice(0, 7);

/**
 * Finance (groups finance and platform-admin): a month's per-tenant usage (GET /usage/exports,
 * the open month computed now, a closed one as archived), its CSV, and the fleet's API calls.
 */
export function Finance() {
  const { api } = useConsole();
  const [me] = useMe();
  const [month, setMonth] = useState(thisMonth);
  const [csvUrl, setCsvUrl] = useState<string>();
  const [csvError, setCsvError] = useState<string>();
  const [lines] = useLoad(
    // format=json: the JSON body (the 200's CSV alternative is taken below, as text).
    () =>
      api
        .GET('/usage/exports', { params: { query: { month, format: 'json' } } })
        .then((answer) => ({ ...answer, data: typeof answer.data === 'object' ? answer.data : undefined })),
    [api, month],
  );
  // The CSV as the API writes it (formula-safe), offered as a download of this month.
  useEffect(() => {
    let url: string | undefined;
    let current = true;
    setCsvUrl(undefined);
    setCsvError(undefined);
    api
      .GET('/usage/exports', { params: { query: { month, format: 'csv' } }, parseAs: 'text' })
      .then((answer) => {
        if (!current) return;
        if (!answer.response.ok || typeof answer.data !== 'string') {
          setCsvError(`The CSV could not be made (${answer.response.status}).`);
          return;
        }
        url = URL.createObjectURL(new Blob([answer.data], { type: 'text/csv' }));
        setCsvUrl(url);
      });
    return () => {
      current = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, month]);

  const fleet = useMemo(() => {
    if (lines.state !== 'ready') return undefined;
    const calls = new Map<string, number>();
    for (const line of lines.data.lines)
      if (line.resourceType === 'api_calls')
        calls.set(line.tenantName, (calls.get(line.tenantName) ?? 0) + line.quantity);
    const top = [...calls].sort((a, b) => b[1] - a[1]).slice(0, 10);
    return { names: top.map(([name]) => name), values: top.map(([, value]) => value) };
  }, [lines]);

  const allowed = me.state === 'ready' && seesFinance(me.data);
  if (me.state === 'ready' && !allowed)
    return (
      <section aria-labelledby="forbidden">
        <h1 id="forbidden">Not allowed</h1>
        <p>Finance is for the finance and platform-admin groups.</p>
      </section>
    );
  return (
    <>
      <h1>Finance</h1>
      <div className="field">
        <label htmlFor="month">Month</label>
        <input
          id="month"
          type="month"
          value={month}
          max={thisMonth()}
          onChange={(event) => event.target.value && setMonth(event.target.value)}
        />
      </div>
      <Show loaded={lines}>
        {(data) => (
          <>
            <p>
              {data.month} is <strong>{data.status}</strong>
              {data.status === 'open'
                ? ' (computed now from the rollups; it may still change)'
                : ' (as archived)'}
              .{' '}
              {csvUrl ? (
                <a href={csvUrl} download={`usage-${data.month}.csv`}>
                  Download the CSV of {data.month}
                </a>
              ) : null}
            </p>
            <FormMessage error={csvError} />
            {fleet && fleet.names.length > 0 ? (
              <TimeChart
                title={`API calls by tenant, ${data.month} (top 10)`}
                kind="bar"
                labels={fleet.names}
                unit="calls"
                series={[{ label: 'API calls', values: fleet.values, color: '#0b57d0' }]}
              />
            ) : null}
            <table>
              <caption>Usage per tenant and resource, {data.month}</caption>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Resource</th>
                  <th scope="col">Quantity</th>
                  <th scope="col">Unit</th>
                </tr>
              </thead>
              <tbody>
                {data.lines.map((line) => (
                  <tr key={`${line.tenantId}-${line.resourceType}`}>
                    <td>{line.tenantName}</td>
                    <td>{line.plan}</td>
                    <td>{line.resourceType}</td>
                    <td>{line.quantity}</td>
                    <td>{line.unit}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Show>
    </>
  );
}
