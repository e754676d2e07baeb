// One deployment: live state, start/stop, savepoints, events, exceptions and metrics;
// the job and the version it runs, and the health of the cluster it runs on.
import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { ApiError, api, call, type Schemas } from '../api/client';
import { Chart, type Series } from '../components/Chart';
import { DataTable, pagedRows } from '../components/DataTable';
import { Badge, ConfirmDialog, Dialog, ErrorNote, Field, FormDialog, Spinner, fieldError, formatBytes, formError } from '../components/ui';
import { HOUR, epochSeconds, formatTime, isoAgo } from '../lib/dates';
import { toast } from '../components/toast';
import { fetchAll, useLoad, usePaged, useVisiblePolling } from '../lib/hooks';
import { useProject } from '../project';
import { atLeast } from '../session';
import { SETTLING } from './Deployments';
import { HealthLine } from './ClusterHealth';
import './Deployment.css';

type Deployment = Schemas['Deployment'];
type Savepoint = Schemas['Savepoint'];
type JobContent = Schemas['JobContent'];

/** Why a savepoint was taken, in words. */
export function savepointKind(s: Savepoint): string {
  return { USER_REQUEST: 'manual', SUSPEND: 'on stop', SUSPEND_AND_UPGRADE: 'upgrade' }[s.origin] ?? s.origin.toLowerCase();
}

/**
 * A savepoint's id, short: the end of it (the start of a time-ordered id is its time,
 * alike for savepoints taken close together).
 */
export function shortId(id: string): string {
  return '#' + id.replace(/-/g, '').slice(-8);
}

/** A job's saved content as text: the SQL, or what a JAR or Python job runs. */
function contentText(c: JobContent): string {
  if (c.kind === 'sql') return c.sql;
  const entry = c.kind === 'jar' ? `entry class: ${c.entry_class}\n` : '';
  return `${c.kind === 'jar' ? 'JAR' : 'Python'} artifact: ${c.artifact_id}\n${entry}arguments: ${JSON.stringify(c.args ?? [])}\n`;
}

/** What the deployment is busy doing, if anything, in words. */
export function pendingWork(d: Deployment): string | null {
  if (d.status === 'STARTING' || d.status === 'CREATED') return d.desired_state === 'RUNNING' ? 'Starting on the engine…' : null;
  if (d.status === 'STOPPING') return d.desired_state === 'SUSPENDED' ? 'Stopping with a savepoint…' : 'Cancelling…';
  if (d.status === 'TRANSITIONING')
    return d.engine_restarts > 0 ? `Restarting on the engine (${d.engine_restarts} restarts so far)…` : 'Changing state on the engine…';
  if (d.pending_version) return `Upgrading to v${d.pending_version} through a savepoint…`;
  if (d.desired_state === 'RUNNING' && d.status !== 'RUNNING' && d.status !== 'FAILED') return 'Waiting for the engine to run it…';
  if (d.desired_state !== 'RUNNING' && d.status === 'RUNNING') return 'Stopping…';
  return null;
}

export function DeploymentPage() {
  const { projectId = '', deploymentId = '' } = useParams();
  const { role } = useProject();
  const canOperate = atLeast(role, 'editor');
  const navigate = useNavigate();
  const path = { project_id: projectId, deployment_id: deploymentId };
  const dep = useLoad(() => call(api.GET('/projects/{project_id}/deployments/{deployment_id}', { params: { path } })), [projectId, deploymentId]);
  const savepoints = usePaged((cursor) => call(api.GET('/projects/{project_id}/deployments/{deployment_id}/savepoints', { params: { path, query: { cursor } } })), [deploymentId]);
  const events = usePaged((cursor) => call(api.GET('/projects/{project_id}/deployments/{deployment_id}/events', { params: { path, query: { cursor } } })), [deploymentId]);
  const jobId = dep.data?.job_id;
  const clusterId = dep.data?.cluster_id;
  // The job's name: a deployment names what it runs.
  const job = useLoad(
    async () => (jobId ? call(api.GET('/projects/{project_id}/jobs/{job_id}', { params: { path: { project_id: projectId, job_id: jobId } } })) : undefined),
    [projectId, jobId],
  );
  // Where it runs, and whether the engine there answers and has room.
  const cluster = useLoad(async () => (clusterId ? call(api.GET('/clusters/{cluster_id}', { params: { path: { cluster_id: clusterId } } })) : undefined), [clusterId]);
  // ?version=N shows that saved version of the job: the one the deployment runs is linked.
  const [search, setSearch] = useSearchParams();
  const shownVersion = Number(search.get('version')) || undefined;
  const [tab, setTab] = useState<'metrics' | 'events' | 'savepoints' | 'exceptions'>('metrics');
  const [dialog, setDialog] = useState<'start' | 'stop' | 'delete' | 'upgrade'>();
  const [actionError, setActionError] = useState<unknown>();
  const [triggering, setTriggering] = useState(false);

  const d = dep.data;
  const busy = d ? pendingWork(d) : null;
  const savepointRunning = savepoints.items.some((s) => s.state === 'STARTED');
  // Poll faster while something is in flight.
  useVisiblePolling(
    () => {
      void dep.reload();
      void savepoints.reload();
      void events.reload();
      void cluster.reload();
    },
    busy || savepointRunning || (d && SETTLING.has(d.status)) ? 2000 : 5000,
  );

  const trigger = async () => {
    setTriggering(true);
    setActionError(undefined);
    try {
      await call(api.POST('/projects/{project_id}/deployments/{deployment_id}/savepoints', { params: { path } }));
      toast('Savepoint requested');
      await savepoints.reload();
      setTab('savepoints');
    } catch (e) {
      setActionError(e);
    } finally {
      setTriggering(false);
    }
  };

  if (dep.error && !d)
    return (
      <div className="page">
        <ErrorNote error={dep.error} />
      </div>
    );
  if (!d) return <div className="empty">Loading deployment…</div>;
  const running = d.status === 'RUNNING';
  const stoppable = d.desired_state === 'RUNNING';
  // Meant to run, not running, and the engine has been restarting it: say why.
  const stuck = stoppable && !running && d.engine_restarts > 0;
  return (
    <div className="page">
      <div className="crumbs">
        <Link to={`/projects/${projectId}/deployments`}>Deployments</Link> / {d.name}
      </div>
      <div className="page-head">
        <h1>{d.name}</h1>
        <span data-testid="deployment-status">
          <Badge value={d.status} />
        </span>
        {busy && <Spinner label={busy} />}
        <div className="spacer" />
        {canOperate && (
          <>
            {!stoppable && (
              <button className="primary" onClick={() => setDialog('start')}>
                Start
              </button>
            )}
            {stoppable && (
              <button onClick={() => setDialog('stop')} disabled={d.status === 'STOPPING'}>
                Stop
              </button>
            )}
            {running && !d.pending_version && <button onClick={() => setDialog('upgrade')}>Upgrade…</button>}
            <button onClick={() => void trigger()} disabled={!running || triggering} title={running ? undefined : 'Only a running job can take a savepoint'}>
              {triggering ? 'Requesting…' : 'Trigger savepoint'}
            </button>
            <button className="danger" onClick={() => setDialog('delete')} disabled={stoppable}>
              Delete
            </button>
          </>
        )}
      </div>
      <div className="deployment-runs muted" data-testid="deployment-runs">
        Runs{' '}
        <Link to={`?version=${d.job_version}`} data-testid="runs-version">
          v{d.job_version}
        </Link>{' '}
        of job{' '}
        <Link to={`/projects/${projectId}/jobs/${d.job_id}`} title="The job's editor, with its draft">
          {job.data?.name ?? '…'}
        </Link>
        {d.pending_version ? (
          <>
            {' '}
            · upgrading to <Link to={`?version=${d.pending_version}`}>v{d.pending_version}</Link>
          </>
        ) : null}
      </div>
      <ErrorNote error={actionError} />
      {d.last_error && <div className="alert error">Last error: {d.last_error}</div>}
      {stuck && (
        <div className="alert warn" data-testid="engine-trouble">
          The engine has restarted this job {d.engine_restarts === 1 ? 'once' : `${d.engine_restarts} times`} and it is not running.
          {d.last_engine_failure ? <> Last failure: {d.last_engine_failure}</> : ' It gave no reason; see Exceptions.'}
        </div>
      )}
      {cluster.data?.health.status === 'unhealthy' && (
        <div className="alert error" data-testid="cluster-unhealthy">
          Its cluster {cluster.data.name} is unhealthy{cluster.data.health.detail ? `: ${cluster.data.health.detail}` : ''}. Jobs there may not start or may keep
          restarting until it is healthy again.
        </div>
      )}
      <div className="card">
        <dl className="kv">
          <dt>Cluster</dt>
          <dd>
            {cluster.data ? (
              <>
                {cluster.data.name} · Flink {cluster.data.flink_version} · <HealthLine health={cluster.data.health} />
              </>
            ) : (
              <ErrorNote error={cluster.error} />
            )}
          </dd>
          <dt>Desired</dt>
          <dd>{d.desired_state}</dd>
          <dt>Size</dt>
          <dd>
            {d.parallelism} × {d.cu_per_task} CU = {d.total_cu} CU
          </dd>
          <dt>Restore mode</dt>
          <dd>{d.restore_mode}</dd>
          <dt>Engine job</dt>
          <dd className="mono">
            {d.engine_job_id ?? '—'}
            {d.submission_pending ? ' (submitted; waiting for the engine to confirm)' : ''}
          </dd>
          <dt>Restarts</dt>
          <dd>
            {d.restart_count} by Sluice · {d.engine_restarts} by the engine
          </dd>
          {d.last_engine_failure && (
            <>
              <dt>Engine's last failure</dt>
              <dd>{d.last_engine_failure}</dd>
            </>
          )}
          <dt>Updated</dt>
          <dd>{formatTime(d.updated_at)}</dd>
        </dl>
      </div>
      <div className="tabs" role="tablist" style={{ marginTop: 16 }}>
        {(['metrics', 'events', 'savepoints', 'exceptions'] as const).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
            {t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      <div style={{ paddingTop: 12 }}>
        {tab === 'metrics' && <Metrics projectId={projectId} deploymentId={deploymentId} live={running} />}
        {tab === 'events' && (
          <>
            <DataTable
              {...pagedRows(events)}
              testId="events"
              rowKey={(e) => e.id}
              columns={[
                { header: 'When', className: 'muted', style: { whiteSpace: 'nowrap' }, cell: (e) => formatTime(e.created_at) },
                { header: 'Kind', cell: (e) => e.kind },
                { header: 'What happened', cell: (e) => e.message },
              ]}
            />
          </>
        )}
        {tab === 'savepoints' && (
          <DataTable
            {...pagedRows(savepoints)}
            // Polling reloads this list every few seconds: the empty row does not wait for it.
            loading={false}
            testId="savepoints"
            rowKey={(s) => s.id}
            empty="No savepoints yet."
            columns={[
              { header: 'Requested', className: 'muted', cell: (s) => formatTime(s.created_at) },
              { header: 'Kind', cell: (s) => savepointKind(s) },
              { header: 'ID', className: 'mono small', cell: (s) => <span title={s.id}>{shortId(s.id)}</span> },
              { header: 'Size', className: 'small', cell: (s) => (s.size_bytes != null ? formatBytes(s.size_bytes) : '—') },
              {
                header: 'State',
                cell: (s) => (
                  <>
                    <Badge value={s.state} />
                    {s.failure && <div className="field-error small">{s.failure}</div>}
                  </>
                ),
              },
              { header: 'Location', className: 'mono small', cell: (s) => s.location ?? '—' },
            ]}
          />
        )}
        {tab === 'exceptions' && <Exceptions projectId={projectId} deploymentId={deploymentId} />}
      </div>
      {dialog === 'start' && (
        <StartDialog
          deployment={d}
          hasSavepoints={savepoints.items.some((s) => s.state === 'COMPLETED')}
          onClose={() => setDialog(undefined)}
          onDone={() => void dep.reload()}
        />
      )}
      {shownVersion !== undefined && (
        <VersionDialog
          projectId={projectId}
          jobId={d.job_id}
          jobName={job.data?.name}
          version={shownVersion}
          runs={d.job_version}
          onClose={() => setSearch({}, { replace: true })}
        />
      )}
      {dialog === 'upgrade' && <UpgradeDialog deployment={d} onClose={() => setDialog(undefined)} onDone={() => void dep.reload()} />}
      {dialog === 'stop' && <StopDialog deployment={d} onClose={() => setDialog(undefined)} onDone={() => void dep.reload()} />}
      {dialog === 'delete' && (
        <ConfirmDialog
          title={`Delete ${d.name}?`}
          message="The deployment, its events and savepoint records are deleted. The job and its versions stay."
          confirmLabel="Delete deployment"
          onClose={() => setDialog(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/projects/{project_id}/deployments/{deployment_id}', { params: { path } }));
            navigate(`/projects/${projectId}/deployments`);
          }}
        />
      )}
    </div>
  );
}

/** The deployment's savepoints, newest first. */
function useAllSavepoints(deployment: Deployment) {
  return useLoad(async () => {
    const all = await fetchAll((cursor) =>
      call(
        api.GET('/projects/{project_id}/deployments/{deployment_id}/savepoints', {
          params: { path: { project_id: deployment.project_id, deployment_id: deployment.id }, query: { cursor, limit: 200 } },
        }),
      ),
    );
    return all.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
  }, [deployment.id]);
}

/** A savepoint as the chooser lists it: why it was taken, when, its size, its id; never where its files lie. */
function savepointLabel(s: Savepoint): string {
  const state = s.state === 'COMPLETED' ? '' : s.state === 'FAILED' ? ' · failed' : ' · in progress';
  const size = s.size_bytes != null ? ` · ${formatBytes(s.size_bytes)}` : '';
  return `${savepointKind(s)} · ${formatTime(s.completed_at ?? s.created_at)}${size} · ${shortId(s.id)}${state}`;
}

function StartDialog({
  deployment,
  hasSavepoints,
  onClose,
  onDone,
}: {
  deployment: Deployment;
  /** It has a completed savepoint: resuming is the default. */
  hasSavepoints: boolean;
  onClose: () => void;
  onDone: () => void;
}) {
  const [mode, setMode] = useState(hasSavepoints ? 'LATEST_STATE' : 'NONE');
  const all = useAllSavepoints(deployment);
  const savepoints = all.data ?? [];
  // Untouched, the newest completed one.
  const [chosen, setSavepointId] = useState<string>();
  const savepointId = chosen ?? savepoints.find((s) => s.state === 'COMPLETED')?.id ?? '';
  const [allowEmpty, setAllowEmpty] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    try {
      await call(
        api.POST('/projects/{project_id}/deployments/{deployment_id}/start', {
          params: { path: { project_id: deployment.project_id, deployment_id: deployment.id } },
          body: { restore_mode: mode, savepoint_id: mode === 'FROM_SAVEPOINT' ? savepointId : undefined, allow_empty_state: allowEmpty },
        }),
      );
      onDone();
      onClose();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Start ${deployment.name}`}
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={busy || (mode === 'FROM_SAVEPOINT' && !savepointId)} onClick={() => void start()}>
            Start
          </button>
        </>
      }
    >
      <Field label="Start mode" error={fieldError(error, 'restore_mode')}>
        {(p) => (
          <select {...p} value={mode} onChange={(e) => setMode(e.target.value)} style={{ width: '100%' }}>
            <option value="LATEST_STATE">Resume from the newest checkpoint or savepoint</option>
            <option value="LATEST_SAVEPOINT">From the latest savepoint</option>
            <option value="FROM_SAVEPOINT">From a chosen savepoint</option>
            <option value="NONE">Stateless: empty state</option>
          </select>
        )}
      </Field>
      {mode === 'FROM_SAVEPOINT' && (
        <Field
          label="Savepoint"
          error={fieldError(error, 'savepoint_id')}
          hint={all.data && !savepoints.some((s) => s.state === 'COMPLETED') ? 'This deployment has no completed savepoint.' : 'Newest first: manual ones were requested, the others taken on a stop or an upgrade.'}
        >
          {(p) => (
            <select {...p} value={savepointId} onChange={(e) => setSavepointId(e.target.value)} style={{ width: '100%' }}>
              {savepoints.map((s) => (
                <option key={s.id} value={s.id} disabled={s.state !== 'COMPLETED'}>
                  {savepointLabel(s)}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      {(mode === 'NONE' || (error instanceof ApiError && error.detail.code === 'no_state_to_restore')) && (
        <label className="row small">
          <input type="checkbox" checked={allowEmpty} onChange={(e) => setAllowEmpty(e.target.checked)} /> I accept losing the state this deployment has
        </label>
      )}
      {mode === 'FROM_SAVEPOINT' && <ErrorNote error={all.error} />}
      <ErrorNote error={formError(error, ['restore_mode', 'savepoint_id'])} />
    </Dialog>
  );
}

function StopDialog({ deployment, onClose, onDone }: { deployment: Deployment; onClose: () => void; onDone: () => void }) {
  const [mode, setMode] = useState<'SUSPEND' | 'CANCEL'>('SUSPEND');
  return (
    <FormDialog
      title={`Stop ${deployment.name}`}
      onClose={onClose}
      submitLabel="Stop"
      submitClass={mode === 'CANCEL' ? 'danger solid' : 'primary'}
      onSubmit={async () => {
        await call(
          api.POST('/projects/{project_id}/deployments/{deployment_id}/stop', {
            params: { path: { project_id: deployment.project_id, deployment_id: deployment.id } },
            body: { mode },
          }),
        );
        onDone();
        onClose();
      }}
    >
      <label className="row" style={{ marginBottom: 8 }}>
        <input type="radio" name="stop" checked={mode === 'SUSPEND'} onChange={() => setMode('SUSPEND')} /> With a savepoint (resume later where it stopped)
      </label>
      <label className="row">
        <input type="radio" name="stop" checked={mode === 'CANCEL'} onChange={() => setMode('CANCEL')} /> Without a savepoint (state since the last checkpoint is lost)
      </label>
    </FormDialog>
  );
}

function Exceptions({ projectId, deploymentId }: { projectId: string; deploymentId: string }) {
  const ex = useLoad(
    () => call(api.GET('/projects/{project_id}/deployments/{deployment_id}/exceptions', { params: { path: { project_id: projectId, deployment_id: deploymentId } } })),
    [deploymentId],
  );
  return (
    <div>
      <ErrorNote error={ex.error} />
      {ex.data?.length === 0 && <div className="empty">No exceptions reported by the engine.</div>}
      {/* The deepest cause first, in the engine's words; what it was thrown as and the trace folded under it. */}
      {ex.data?.map((e, i) => (
        <div key={i} className="card exception" data-testid="exception">
          <div className="root-cause">
            <strong>{e.root_cause}</strong>
          </div>
          <div className="muted small">
            {formatTime(e.timestamp)}
            {e.exception_name !== e.root_cause ? ` · thrown as ${e.exception_name}` : ''}
          </div>
          <details>
            <summary className="small">Stack trace</summary>
            <pre className="mono small" style={{ whiteSpace: 'pre-wrap' }}>
              {e.stacktrace}
            </pre>
          </details>
        </div>
      ))}
    </div>
  );
}

function Metrics({ projectId, deploymentId, live }: { projectId: string; deploymentId: string; live: boolean }) {
  const m = useLoad(
    () =>
      call(
        api.GET('/projects/{project_id}/deployments/{deployment_id}/metrics', {
          params: { path: { project_id: projectId, deployment_id: deploymentId }, query: { from: isoAgo(HOUR) } },
        }),
      ),
    [deploymentId],
  );
  useVisiblePolling(() => void m.reload(), 15000, live);
  const points = useMemo(() => (Array.isArray(m.data) ? m.data : []), [m.data]);
  const charts = useMemo(() => {
    const times = points.map((p) => epochSeconds(p.at));
    const s = (label: string, color: string, f: (p: (typeof points)[number]) => number | null): Series => ({ label, color, values: points.map(f) });
    return {
      times,
      // Only where a source's connector reports it (Kafka's do, datagen's does not).
      reportsLag: points.some((p) => p.source_lag_ms != null || p.pending_records != null),
      lag: [s('event-time lag s', '#8250df', (p) => (p.source_lag_ms == null ? null : p.source_lag_ms / 1000))],
      pending: [s('pending records', '#0a7ea4', (p) => p.pending_records ?? null)],
      records: [s('in /s', '#1f6feb', (p) => p.records_in_per_sec), s('out /s', '#1b7f3b', (p) => p.records_out_per_sec)],
      ratios: [s('backpressure %', '#c62828', (p) => p.backpressure_ratio * 100), s('busy %', '#9a6700', (p) => p.busy_ratio * 100)],
      checkpoints: [s('completed', '#1b7f3b', (p) => p.checkpoints_completed), s('failed', '#c62828', (p) => p.checkpoints_failed)],
    };
  }, [points]);
  return (
    <div>
      <ErrorNote error={m.error} />
      <div className="muted small" style={{ marginBottom: 8 }}>
        Last hour, sampled from the engine every few seconds{live ? ', refreshing' : ''}.
      </div>
      {points.length > 0 && points[points.length - 1]?.throughput_reported === false ? (
        <div className="alert warn small" data-testid="throughput-unreported">
          Part of this job runs from source to sink in one task whose operators report no record counts to the engine: records per second leave
          out what it reads and writes.
        </div>
      ) : null}
      <div className="charts">
        <Chart title="Records per second" times={charts.times} series={charts.records} />
        <Chart title="Backpressure and busy" times={charts.times} series={charts.ratios} unit="%" max={100} />
        <Chart title="Checkpoints" times={charts.times} series={charts.checkpoints} />
        {charts.reportsLag ? (
          <>
            <Chart title="Source lag" times={charts.times} series={charts.lag} unit=" s" />
            <Chart title="Pending records" times={charts.times} series={charts.pending} />
          </>
        ) : (
          <div className="card chart">
            <h3>Source lag</h3>
            <div className="empty small">This job's sources do not report lag (Kafka sources do; datagen does not).</div>
          </div>
        )}
      </div>
    </div>
  );
}

/** Moves a running deployment to another saved version through a savepoint. */
function UpgradeDialog({ deployment, onClose, onDone }: { deployment: Deployment; onClose: () => void; onDone: () => void }) {
  const versions = useLoad(
    () => call(api.GET('/projects/{project_id}/jobs/{job_id}/versions', { params: { path: { project_id: deployment.project_id, job_id: deployment.job_id } } })),
    [deployment.job_id],
  );
  const others = (versions.data?.items ?? []).filter((v) => v.version !== deployment.job_version);
  const [version, setVersion] = useState<number>();
  const chosen = version ?? others[0]?.version;
  return (
    <FormDialog
      title={`Upgrade ${deployment.name}`}
      onClose={onClose}
      submitLabel="Upgrade"
      disabled={chosen === undefined}
      fields={['version']}
      onSubmit={async () => {
        await call(
          api.POST('/projects/{project_id}/deployments/{deployment_id}/upgrade', {
            params: { path: { project_id: deployment.project_id, deployment_id: deployment.id } },
            body: { version: chosen! },
          }),
        );
        onDone();
        onClose();
      }}
    >
      {(error) => (
        <>
          <p className="muted" style={{ marginTop: 0 }}>
            Runs v{deployment.job_version} now. The job is stopped with a savepoint and the chosen version resumes from it.
          </p>
          <ErrorNote error={versions.error} />
          {versions.data && others.length === 0 && <div className="alert info">No other saved version of this job yet.</div>}
          {others.length > 0 && (
            <Field label="Version" error={fieldError(error, 'version')}>
              {(p) => (
                <select {...p} value={chosen} onChange={(e) => setVersion(Number(e.target.value))} style={{ width: '100%' }}>
                  {others.map((v) => (
                    <option key={v.version} value={v.version}>
                      v{v.version}
                      {v.message ? ` — ${v.message}` : ''}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
        </>
      )}
    </FormDialog>
  );
}

/** One saved version of the job, read only: what a deployment runs, whatever the draft holds now. */
function VersionDialog({
  projectId,
  jobId,
  jobName,
  version,
  runs,
  onClose,
}: {
  projectId: string;
  jobId: string;
  jobName: string | undefined;
  version: number;
  /** The version the deployment runs. */
  runs: number;
  onClose: () => void;
}) {
  const v = useLoad(
    () => call(api.GET('/projects/{project_id}/jobs/{job_id}/versions/{version}', { params: { path: { project_id: projectId, job_id: jobId, version } } })),
    [projectId, jobId, version],
  );
  return (
    <Dialog
      title={`${jobName ?? 'Job'} v${version}`}
      onClose={onClose}
      wide
      footer={
        <>
          <Link className="button" to={`/projects/${projectId}/jobs/${jobId}`}>
            Open the job's draft
          </Link>
          <button onClick={onClose}>Close</button>
        </>
      }
    >
      <ErrorNote error={v.error} />
      {!v.data && !v.error && <Spinner label="Loading the version…" />}
      {v.data && (
        <div data-testid="version-content">
          <div className="muted small" style={{ marginBottom: 8 }}>
            {version === runs ? 'The version this deployment runs' : 'A saved version of the job'} · saved {formatTime(v.data.created_at)}
            {v.data.message ? ` · “${v.data.message}”` : ''}
          </div>
          <pre className="mono small version-text">{contentText(v.data.content)}</pre>
        </div>
      )}
    </Dialog>
  );
}
