import { Link, useParams } from 'react-router';
import { api, call } from '../api/client';
import { Badge, ErrorNote, LoadMore } from '../components/ui';
import { formatTime } from '../lib/dates';
import { usePaged, useVisiblePolling } from '../lib/hooks';

/** States that are on their way somewhere: the console polls faster while any shows. */
export const SETTLING = new Set(['CREATED', 'STARTING', 'TRANSITIONING', 'STOPPING']);

export function DeploymentsPage() {
  const { projectId = '' } = useParams();
  const list = usePaged(
    (cursor) => call(api.GET('/projects/{project_id}/deployments', { params: { path: { project_id: projectId }, query: { cursor } } })),
    [projectId],
  );
  // Live state: the reconciler moves deployments on its own, so keep looking.
  useVisiblePolling(() => void list.reload(), 5000);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Deployments</h1>
        <div className="spacer" />
        <span className="muted small">Deploy a job from its editor. This list refreshes every 5 s.</span>
      </div>
      <ErrorNote error={list.error} />
      <table className="list" data-testid="deployments">
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Desired</th>
            <th className="num">Version</th>
            <th className="num">CU</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {list.items.map((d) => (
            <tr key={d.id}>
              <td>
                <Link to={d.id}>{d.name}</Link>
                {d.last_error && <div className="field-error small">{d.last_error}</div>}
              </td>
              <td>
                <Badge value={d.status} />
              </td>
              <td className="muted">{d.desired_state}</td>
              <td className="num">v{d.job_version}{d.pending_version ? ` → v${d.pending_version}` : ''}</td>
              <td className="num">
                {d.total_cu} <span className="muted small">({d.parallelism} × {d.cu_per_task})</span>
              </td>
              <td className="muted">{formatTime(d.updated_at)}</td>
            </tr>
          ))}
          {!list.loading && list.items.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                Nothing deployed yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <LoadMore hasMore={list.hasMore} loading={list.loading} onMore={() => void list.loadMore()} />
    </div>
  );
}
