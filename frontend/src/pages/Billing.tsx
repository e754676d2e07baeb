// Billing, first part: CU-hours used per deployment this month so far, exactly as
// recorded (what was rated is at /account/billing/hours). Bills, balance and orders
// are left for the billing pages.
import { useMemo } from 'react';
import { api, call } from '../api/client';
import { ErrorNote } from '../components/ui';
import { useLoad, useVisiblePolling } from '../lib/hooks';
import { useSession } from '../session';

export function BillingPage() {
  const { account } = useSession();
  const range = useMemo(() => {
    const to = new Date(Date.now() + 3600_000);
    const from = new Date(to.getTime() - 30 * 86400_000);
    return { from: from.toISOString(), to: to.toISOString() };
  }, []);
  const usage = useLoad(() => call(api.GET('/account/billing/usage', { params: { query: { ...range, bucket: 'day' } } })), [range]);
  const projects = useLoad(() => call(api.GET('/projects', { params: { query: { limit: 200 } } })), []);
  useVisiblePolling(() => void usage.reload(), 30000);
  const names = new Map((projects.data?.items ?? []).map((p) => [p.id, p.name]));
  // One row per deployment, summing the buckets.
  const rows = useMemo(() => {
    const by = new Map<string, { project_id: string; deployment_id: string; cu_hours: number }>();
    for (const u of usage.data ?? []) {
      const r = by.get(u.deployment_id) ?? { project_id: u.project_id, deployment_id: u.deployment_id, cu_hours: 0 };
      r.cu_hours += Number(u.cu_hours);
      by.set(u.deployment_id, r);
    }
    return [...by.values()].sort((a, b) => b.cu_hours - a.cu_hours);
  }, [usage.data]);
  const total = rows.reduce((s, r) => s + r.cu_hours, 0);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Billing</h1>
        <span className="muted">{account.name}</span>
      </div>
      <h2>Usage, last 30 days</h2>
      <ErrorNote error={usage.error} />
      <div className="usage">
        <div className="item">
          <div className="muted small">CU-hours</div>
          <div className="n" data-testid="usage-total">
            {total.toFixed(4)}
          </div>
        </div>
      </div>
      <table className="list" data-testid="usage">
        <thead>
          <tr>
            <th>Project</th>
            <th>Deployment</th>
            <th className="num">CU-hours</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.deployment_id}>
              <td>{names.get(r.project_id) ?? r.project_id}</td>
              <td className="mono small">
                <a href={`/projects/${r.project_id}/deployments/${r.deployment_id}`}>{r.deployment_id}</a>
              </td>
              <td className="num">{r.cu_hours.toFixed(4)}</td>
            </tr>
          ))}
          {!usage.loading && rows.length === 0 && (
            <tr>
              <td colSpan={3} className="empty">
                Nothing has run in the last 30 days.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
