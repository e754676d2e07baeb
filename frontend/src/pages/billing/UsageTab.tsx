// What ran: CU-hours by day or hour, per deployment, charted and summed exactly.
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { api, call } from '../../api/client';
import { Chart, type Series } from '../../components/Chart';
import { DataTable } from '../../components/DataTable';
import { ErrorNote } from '../../components/ui';
import { epochSeconds, lastDays } from '../../lib/dates';
import { sumDecimals } from '../../lib/decimal';
import { useLoad, useVisiblePolling } from '../../lib/hooks';
import type { ProjectsProps } from './projects';
import { CuHours } from './words';

const COLORS = ['#1f6feb', '#1b7f3b', '#c62828', '#9a6700', '#6f42c1', '#0a7ea4', '#d9480f', '#5c677d'];

export function UsageTab({ projects, projectName }: ProjectsProps) {
  const [days, setDays] = useState(30);
  const [bucket, setBucket] = useState<'day' | 'hour'>('day');
  const [projectId, setProjectId] = useState('');
  const range = useMemo(() => lastDays(days), [days]);
  const usage = useLoad(
    () => call(api.GET('/account/billing/usage', { params: { query: { ...range, bucket, project_id: projectId || undefined } } })),
    [range, bucket, projectId],
  );
  useVisiblePolling(() => void usage.reload(), 30000);
  const points = useMemo(() => usage.data ?? [], [usage.data]);

  // Names as the usage points carry them (null once deleted: the id stands in).
  const names = useMemo(() => {
    const d = new Map<string, string>();
    const p = new Map<string, string>();
    for (const u of points) {
      if (u.deployment_name) d.set(u.deployment_id, u.deployment_name);
      if (u.project_name) p.set(u.project_id, u.project_name);
    }
    return { d, p };
  }, [points]);
  const deploymentName = (id: string) => names.d.get(id);
  const usageProjectName = (id: string) => names.p.get(id) ?? projectName(id);

  // One row per deployment, the buckets summed exactly.
  const rows = useMemo(() => {
    const by = new Map<string, { project_id: string; deployment_id: string; values: string[] }>();
    for (const u of points) {
      const r = by.get(u.deployment_id) ?? { project_id: u.project_id, deployment_id: u.deployment_id, values: [] };
      r.values.push(u.cu_hours);
      by.set(u.deployment_id, r);
    }
    return [...by.values()]
      .map((r) => ({ ...r, cu_hours: sumDecimals(r.values) }))
      .sort((a, b) => Number(b.cu_hours) - Number(a.cu_hours));
  }, [points]);
  const total = useMemo(() => sumDecimals(rows.map((r) => r.cu_hours)), [rows]);

  // The chart: one line per deployment (the biggest few; the rest summed), and the total.
  const chart = useMemo(() => {
    // Every bucket of the range, not only those with usage, so a quiet day reads as 0
    // and a single busy day still draws a line. Buckets are cut in the billing time
    // zone: step from one the API gave (an hour, or a day).
    const step = bucket === 'hour' ? 3600 : 86400;
    const given = points.map((p) => epochSeconds(p.bucket_start));
    const start = epochSeconds(range.from);
    const end = epochSeconds(range.to);
    const anchor = given[0] ?? Math.floor(start / step) * step;
    const filled: number[] = [];
    for (let t = anchor - Math.ceil((anchor - start) / step) * step; t < end; t += step) filled.push(t);
    const times = [...new Set([...filled, ...given])].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const top = rows.slice(0, COLORS.length - 1).map((r) => r.deployment_id);
    const lines = new Map<string, number[]>();
    const totalLine = times.map(() => 0);
    for (const p of points) {
      const key = top.includes(p.deployment_id) ? p.deployment_id : 'others';
      const arr = lines.get(key) ?? times.map(() => 0);
      const i = index.get(epochSeconds(p.bucket_start))!;
      const v = Number(p.cu_hours);
      arr[i] = (arr[i] ?? 0) + v;
      totalLine[i] = (totalLine[i] ?? 0) + v;
      lines.set(key, arr);
    }
    const series: Series[] = [...lines.entries()].map(([key, values], i) => ({
      label: key === 'others' ? 'other deployments' : (names.d.get(key) ?? key.slice(0, 8)),
      values,
      color: COLORS[i % COLORS.length]!,
    }));
    if (series.length > 1) series.push({ label: 'total', values: totalLine, color: '#17202b' });
    return { times, series };
  }, [points, rows, names, bucket, range]);

  return (
    <div>
      <div className="row filters">
        <label className="row">
          <span className="muted">Range</span>
          <select aria-label="Range" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            <option value={1}>Last day</option>
            <option value={7}>Last 7 days</option>
            <option value={30}>Last 30 days</option>
            <option value={61}>Last 61 days</option>
          </select>
        </label>
        <label className="row">
          <span className="muted">By</span>
          <select aria-label="Bucket" value={bucket} onChange={(e) => setBucket(e.target.value as 'day' | 'hour')}>
            <option value="day">day</option>
            <option value="hour">hour</option>
          </select>
        </label>
        <label className="row">
          <span className="muted">Project</span>
          <select aria-label="Project" value={projectId} onChange={(e) => setProjectId(e.target.value)}>
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <div className="spacer" />
        <span className="muted small">CU-hours actually held, from the recorded run intervals (what was charged: Hourly charges).</span>
      </div>
      <ErrorNote error={usage.error} />
      <div className="usage">
        <div className="item">
          <div className="muted small">CU-hours</div>
          <div className="n" data-testid="usage-total">
            <CuHours value={total} />
          </div>
        </div>
      </div>
      <Chart title={`CU-hours by ${bucket}`} times={chart.times} series={chart.series} />
      <h2>By deployment</h2>
      <DataTable
        rows={rows}
        loading={usage.loading}
        testId="usage"
        rowKey={(r) => r.deployment_id}
        empty="Nothing has run in this range."
        columns={[
          { header: 'Project', cell: (r) => usageProjectName(r.project_id) },
          {
            header: 'Deployment',
            cell: (r) => (
              <>
                <Link to={`/projects/${r.project_id}/deployments/${r.deployment_id}`}>{deploymentName(r.deployment_id) ?? 'deleted deployment'}</Link>{' '}
                <span className="mono small muted">{r.deployment_id}</span>
              </>
            ),
          },
          { header: 'CU-hours', num: true, cell: (r) => <CuHours value={r.cu_hours} /> },
        ]}
      />
    </div>
  );
}
