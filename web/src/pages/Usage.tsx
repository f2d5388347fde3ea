import { useMemo } from 'react';
import { useParams } from 'react-router';
import { TimeChart } from '../chart';
import { useConsole } from '../console-context';
import { Show, useLoad } from '../ui';

/** Every day from `from` to `to` (YYYY-MM-DD, UTC), so a day without usage is a zero, not a gap. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= Date.parse(`${to}T00:00:00Z`); at += 86_400_000)
    days.push(new Date(at).toISOString().slice(0, 10));
  return days;
}

/** Usage per day (API calls, storage) and the last 24 hours' latency and error rate, charted. */
export function Usage() {
  const { tenantId = '' } = useParams();
  const { api } = useConsole();
  const [usage] = useLoad(
    () =>
      api.GET('/tenants/{tenantId}/usage', { params: { path: { tenantId }, query: { granularity: 'day' } } }),
    [api, tenantId],
  );
  const [metrics] = useLoad(
    () => api.GET('/tenants/{tenantId}/metrics', { params: { path: { tenantId } } }),
    [api, tenantId],
  );

  const daily = useMemo(() => {
    if (usage.state !== 'ready') return undefined;
    const days = daysBetween(usage.data.from.slice(0, 10), usage.data.to.slice(0, 10));
    const of = (type: string) => {
      const byDay = new Map(
        usage.data.items
          .filter((i) => i.resourceType === type)
          .map((i) => [i.period.slice(0, 10), i.quantity]),
      );
      return days.map((d) => byDay.get(d) ?? 0);
    };
    return { days, calls: of('api_calls'), storage: of('storage_bytes').map((b) => Math.round(b / 1024)) };
  }, [usage]);

  const hourly = useMemo(() => {
    if (metrics.state !== 'ready') return undefined;
    const items = metrics.data.items;
    return {
      hours: items.map((i) => i.hour.slice(11, 16)),
      p50: items.map((i) => i.p50),
      p95: items.map((i) => i.p95),
      errorRate: items.map((i) => Math.round(i.errorRate * 1000) / 10),
    };
  }, [metrics]);

  return (
    <>
      <h1>Usage and metrics</h1>
      <Show loaded={usage}>
        {() =>
          daily ? (
            <div className="charts">
              <TimeChart
                title="API calls per day"
                kind="bar"
                labels={daily.days}
                unit="calls"
                series={[{ label: 'API calls', values: daily.calls, color: '#0b57d0' }]}
              />
              <TimeChart
                title="Storage per day"
                kind="line"
                labels={daily.days}
                unit="KiB"
                series={[{ label: 'Storage', values: daily.storage, color: '#146c2e' }]}
              />
            </div>
          ) : null
        }
      </Show>
      <Show loaded={metrics}>
        {() =>
          hourly && hourly.hours.length > 0 ? (
            <div className="charts">
              <TimeChart
                title="Latency per hour (UTC), last 24 hours"
                kind="line"
                labels={hourly.hours}
                unit="ms"
                series={[
                  { label: 'p50', values: hourly.p50, color: '#0b57d0' },
                  { label: 'p95', values: hourly.p95, color: '#b3261e' },
                ]}
              />
              <TimeChart
                title="Error rate per hour (UTC), last 24 hours"
                kind="line"
                labels={hourly.hours}
                unit="%"
                series={[{ label: 'Errors', values: hourly.errorRate, color: '#b3261e' }]}
              />
            </div>
          ) : (
            <p>No requests in the last 24 hours.</p>
          )
        }
      </Show>
    </>
  );
}
