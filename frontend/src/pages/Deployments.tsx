import { useMemo } from 'react';
import { Link, useParams } from 'react-router';
import { api, call } from '../api/client';
import { DataTable, pagedRows } from '../components/DataTable';
import { Badge } from '../components/ui';
import { formatTime } from '../lib/dates';
import { fetchAll, useLoad, usePaged, useVisiblePolling } from '../lib/hooks';

/** States that are on their way somewhere: the console polls faster while any shows. */
export const SETTLING = new Set(['CREATED', 'STARTING', 'TRANSITIONING', 'STOPPING']);

export function DeploymentsPage() {
  const { projectId = '' } = useParams();
  const list = usePaged(
    (cursor) => call(api.GET('/projects/{project_id}/deployments', { params: { path: { project_id: projectId }, query: { cursor } } })),
    [projectId],
  );
  // The jobs' names: each deployment says which job it runs.
  const jobs = useLoad(
    () => fetchAll((cursor) => call(api.GET('/projects/{project_id}/jobs', { params: { path: { project_id: projectId }, query: { cursor, limit: 200 } } }))),
    [projectId],
  );
  const jobName = useMemo(() => new Map((jobs.data ?? []).map((j) => [j.id, j.name])), [jobs.data]);
  // Live state: the reconciler moves deployments on its own, so keep looking.
  useVisiblePolling(() => void list.reload(), 5000);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Deployments</h1>
        <div className="spacer" />
        <span className="muted small">Deploy a job from its editor. This list refreshes every 5 s.</span>
      </div>
      <DataTable
        {...pagedRows(list)}
        testId="deployments"
        rowKey={(d) => d.id}
        empty="Nothing deployed yet."
        columns={[
          {
            header: 'Name',
            cell: (d) => (
              <>
                <Link to={d.id}>{d.name}</Link>
                {d.last_error && <div className="field-error small">{d.last_error}</div>}
              </>
            ),
          },
          { header: 'Job', cell: (d) => <Link to={`/projects/${projectId}/jobs/${d.job_id}`}>{jobName.get(d.job_id) ?? '…'}</Link> },
          {
            header: 'Version',
            num: true,
            cell: (d) => (
              <>
                <Link to={`${d.id}?version=${d.job_version}`} title="The version it runs">
                  v{d.job_version}
                </Link>
                {d.pending_version ? ` → v${d.pending_version}` : ''}
              </>
            ),
          },
          { header: 'Status', cell: (d) => <Badge value={d.status} /> },
          { header: 'Desired', className: 'muted', cell: (d) => d.desired_state },
          {
            header: 'CU',
            num: true,
            cell: (d) => (
              <>
                {d.total_cu} <span className="muted small">({d.parallelism} × {d.cu_per_task})</span>
              </>
            ),
          },
          { header: 'Updated', className: 'muted', cell: (d) => formatTime(d.updated_at) },
        ]}
      />
    </div>
  );
}
