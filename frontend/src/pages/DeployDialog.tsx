// Deploys a saved version of a job: where (cluster and its engine version), how big
// (parallelism x CU), what else goes on its classpath (JAR dependencies), how it starts,
// and what it costs, priced live by the API.
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, api, call, type Schemas } from '../api/client';
import { Badge, Dialog, ErrorNote, Field, Spinner, fieldError, formError, formatBytes } from '../components/ui';
import { toast } from '../components/toast';
import { calendarDay } from '../lib/dates';
import { fetchAll, useLoad } from '../lib/hooks';

type Job = Schemas['Job'];
type CostPreview = Schemas['CostPreview'];
type EngineVersion = Schemas['EngineVersionView'];

export type StartMode = 'NONE' | 'LATEST_SAVEPOINT' | 'FROM_SAVEPOINT';

const FIELDS = ['name', 'version', 'cluster_id', 'parallelism', 'cu_per_task', 'restore_mode', 'savepoint_id', 'job_id'];

/** At most this many dependencies on a deployment (the API's limit). */
const MAX_DEPENDENCIES = 20;

/** The API names `dependencies`, or one of them as `dependencies[i]`. */
const dependenciesError = (e: unknown) => (e instanceof ApiError && e.field?.startsWith('dependencies') ? e : undefined);

export function EngineStage({ ev }: { ev: EngineVersion | undefined }) {
  if (!ev) return <span className="muted small">No lifecycle published for this engine version.</span>;
  const advice =
    ev.stage === 'GA'
      ? null
      : ev.upgrade_to
        ? `Upgrade to ${ev.upgrade_to}${ev.upgrade_needs_review ? ' (a major version change: review your job first)' : ''}.`
        : 'No newer version is published yet.';
  return (
    <div className="small" data-testid="engine-stage">
      <Badge value={ev.pulled ? 'PULLED' : ev.stage} title={`GA ${calendarDay(ev.ga)} · EOGS ${calendarDay(ev.eogs)} · EOFS ${calendarDay(ev.eofs)} · EOS ${calendarDay(ev.eos)}`} />{' '}
      <span className="muted">
        Flink {ev.flink_version} · end of support {calendarDay(ev.eos)}
      </span>
      {advice && <div className={ev.stage === 'EOS' || ev.stage === 'EOFS' ? 'field-error' : 'field-hint'}>{advice}</div>}
    </div>
  );
}

function CostLine({ preview, loading, error }: { preview?: CostPreview; loading: boolean; error: unknown }) {
  if (error) return <ErrorNote error={error} />;
  if (!preview) return loading ? <Spinner label="Pricing…" /> : null;
  return (
    <div className="card" data-testid="cost-preview" style={{ padding: 12, opacity: loading ? 0.6 : 1 }}>
      {preview.billing_model === 'payg' ? (
        <>
          <div>
            <strong>
              {preview.hourly_total} {preview.currency}
            </strong>{' '}
            per hour running <span className="muted">({preview.total_cu} CU)</span>
          </div>
          <div className="muted small">
            compute {preview.hourly_compute} + management fee {preview.hourly_management} {preview.currency}, billed by the minute while it runs
          </div>
        </>
      ) : (
        <div className={preview.fits ? '' : 'field-error'}>
          Subscription: {preview.total_cu} CU of {preview.purchased_cu} purchased, {preview.cu_in_use} in use —{' '}
          {preview.fits ? 'fits.' : 'does not fit: stop another deployment or buy more CU.'}
        </div>
      )}
    </div>
  );
}

export function DeployDialog({
  projectId,
  job,
  onClose,
  unsaved = false,
}: {
  projectId: string;
  job: Job;
  onClose: () => void;
  /** The editor holds edits that are in no version: say so, a deployment runs a version. */
  unsaved?: boolean;
}) {
  const navigate = useNavigate();
  const refs = useLoad(async () => {
    const [versions, clusters, engines, project] = await Promise.all([
      call(api.GET('/projects/{project_id}/jobs/{job_id}/versions', { params: { path: { project_id: projectId, job_id: job.id } } })),
      call(api.GET('/clusters')),
      call(api.GET('/engine-versions')),
      call(api.GET('/projects/{project_id}', { params: { path: { project_id: projectId } } })),
    ]);
    return { versions: versions.items, clusters, engines, project };
  }, [projectId, job.id]);
  // Apart from the rest: without them the dialog still deploys.
  const jars = useLoad(
    async () =>
      (await fetchAll((cursor) => call(api.GET('/projects/{project_id}/artifacts', { params: { path: { project_id: projectId }, query: { cursor, limit: 200 } } })))).filter(
        (a) => a.kind === 'jar',
      ),
    [projectId],
  );

  const [name, setName] = useState(job.name);
  const [version, setVersion] = useState<number>();
  const [clusterId, setClusterId] = useState<string>();
  const [parallelism, setParallelism] = useState('1');
  const [cu, setCu] = useState('1');
  const [mode, setMode] = useState<StartMode>('NONE');
  const [startNow, setStartNow] = useState(true);
  const [dependencies, setDependencies] = useState<string[]>([]);
  const [error, setError] = useState<unknown>();
  const [phase, setPhase] = useState<'idle' | 'creating' | 'starting'>('idle');

  // Defaults once the choices are known: the newest version, the project's cluster.
  useEffect(() => {
    const d = refs.data;
    if (!d) return;
    setVersion((v) => v ?? d.versions[0]?.version);
    setClusterId((c) => c ?? d.project.default_cluster_id ?? d.clusters.find((x) => x.platform)?.id ?? d.clusters[0]?.id);
  }, [refs.data]);

  const cluster = refs.data?.clusters.find((c) => c.id === clusterId);
  const engine = refs.data?.engines.find((e) => e.label === cluster?.engine_version);

  // The price follows the size as it is typed, debounced so typing "16" asks once.
  const [preview, setPreview] = useState<CostPreview>();
  const [previewError, setPreviewError] = useState<unknown>();
  const [pricing, setPricing] = useState(false);
  const size = useMemo(() => ({ parallelism: Number(parallelism), cu_per_task: Number(cu) }), [parallelism, cu]);
  useEffect(() => {
    if (!Number.isFinite(size.parallelism) || !Number.isFinite(size.cu_per_task) || parallelism === '' || cu === '') return;
    let stale = false;
    setPricing(true);
    const t = setTimeout(async () => {
      try {
        const p = await call(api.POST('/projects/{project_id}/deployments/cost-preview', { params: { path: { project_id: projectId } }, body: size }));
        if (!stale) {
          setPreview(p);
          setPreviewError(undefined);
        }
      } catch (e) {
        if (!stale) {
          setPreview(undefined);
          setPreviewError(e);
        }
      } finally {
        if (!stale) setPricing(false);
      }
    }, 250);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [projectId, size, parallelism, cu]);

  const deploy = async () => {
    setError(undefined);
    setPhase('creating');
    try {
      const d = await call(
        api.POST('/projects/{project_id}/deployments', {
          params: { path: { project_id: projectId } },
          body: {
            name: name.trim(),
            job_id: job.id,
            version,
            cluster_id: clusterId,
            parallelism: size.parallelism,
            cu_per_task: size.cu_per_task,
            dependencies: dependencies.length ? dependencies : undefined,
          },
        }),
      );
      if (startNow) {
        setPhase('starting');
        try {
          await call(
            api.POST('/projects/{project_id}/deployments/{deployment_id}/start', {
              params: { path: { project_id: projectId, deployment_id: d.id } },
              body: { restore_mode: mode },
            }),
          );
        } catch (e) {
          // Created but not started: say so and let the deployment page retry.
          toast(`Deployment ${d.name} was created but did not start: ${e instanceof Error ? e.message : ''}`, 'error');
        }
      }
      onClose();
      navigate(`/projects/${projectId}/deployments/${d.id}`);
    } catch (e) {
      setError(e);
      setPhase('idle');
    }
  };

  const versions = refs.data?.versions ?? [];
  // The platform's shared cluster runs no custom code: a JAR version needs the account's own.
  const jar = versions.find((v) => v.version === version)?.content.kind === 'jar';
  // Nor does it take dependencies: they are custom code too.
  const custom = jar || dependencies.length > 0;
  const depsError = dependenciesError(error);
  const engineLabels = [...new Set((refs.data?.clusters ?? []).map((c) => c.engine_version))];
  return (
    <Dialog
      title={`Deploy ${job.name}`}
      onClose={onClose}
      footer={
        <>
          {phase !== 'idle' && <Spinner label={phase === 'creating' ? 'Creating the deployment…' : 'Asking the engine to start…'} />}
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={phase !== 'idle' || !refs.data || versions.length === 0} onClick={() => void deploy()}>
            {startNow ? 'Deploy and start' : 'Deploy'}
          </button>
        </>
      }
    >
      <ErrorNote error={refs.error} />
      {unsaved && versions.length > 0 && <div className="alert warn">The editor has changes that are in no saved version; they are not deployed. Save a version to deploy them.</div>}
      {refs.data && versions.length === 0 && <div className="alert warn">This job has no saved version yet: save a version first, then deploy it.</div>}
      <form onSubmit={(e) => (e.preventDefault(), void deploy())}>
        <Field label="Deployment name" error={fieldError(error, 'name')}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} style={{ width: '100%' }} />}
        </Field>
        <div className="fields-2">
          <Field label="Version" error={fieldError(error, 'version')}>
            {(p) => (
              <select {...p} value={version ?? ''} onChange={(e) => setVersion(Number(e.target.value))}>
                {versions.map((v) => (
                  <option key={v.version} value={v.version}>
                    v{v.version}
                    {v.message ? ` — ${v.message}` : ''}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Engine version">
            {(p) => (
              <select
                {...p}
                value={cluster?.engine_version ?? ''}
                onChange={(e) => {
                  // A cluster of that version that takes this job, if there is one.
                  const of = (refs.data?.clusters ?? []).filter((c) => c.engine_version === e.target.value);
                  setClusterId((of.find((c) => !(custom && c.platform)) ?? of[0])?.id);
                }}
              >
                {engineLabels.map((l) => (
                  <option key={l} value={l}>
                    {l} ({refs.data?.engines.find((e) => e.label === l)?.stage ?? 'no schedule'})
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <fieldset className="channel-picks dependencies" aria-invalid={!!depsError} aria-describedby={depsError ? 'deploy-dependencies-error' : undefined}>
          <legend className="label">Dependencies (optional)</legend>
          <div className="field-hint" style={{ marginTop: 0, marginBottom: 4 }}>
            JAR artifacts put on the job’s classpath beside what its SQL references (libraries its functions or connectors need), at most {MAX_DEPENDENCIES}.
          </div>
          <ErrorNote error={jars.error} />
          {jars.data?.length === 0 && (
            <div className="field-hint">
              No JAR artifacts in this project. <Link to={`/projects/${projectId}/artifacts`}>Upload one on Artifacts</Link>.
            </div>
          )}
          <div className="dependency-list">
            {(jars.data ?? []).map((a) => (
              <label key={a.id} className="check">
                <input
                  type="checkbox"
                  checked={dependencies.includes(a.id)}
                  disabled={!dependencies.includes(a.id) && dependencies.length >= MAX_DEPENDENCIES}
                  onChange={(e) => setDependencies((old) => (e.target.checked ? [...old, a.id] : old.filter((x) => x !== a.id)))}
                />
                {a.name} <span className="muted small">{formatBytes(a.size_bytes)}</span>
              </label>
            ))}
          </div>
          {depsError && (
            <div className="field-error" id="deploy-dependencies-error" role="alert">
              {depsError.detail.message}
            </div>
          )}
        </fieldset>
        <Field
          label="Engine cluster"
          error={fieldError(error, 'cluster_id')}
          hint={
            jar && cluster?.platform ? (
              'JAR jobs run only on a cluster your account registered: the shared platform cluster runs no custom code (register one under Clusters).'
            ) : custom && cluster?.platform ? (
              'Dependencies are custom code, which runs only on a cluster your account registered: the shared platform cluster runs no custom code (register one under Clusters).'
            ) : (
              <EngineStage ev={engine} />
            )
          }
        >
          {(p) => (
            <select {...p} value={clusterId ?? ''} onChange={(e) => setClusterId(e.target.value)} style={{ width: '100%' }}>
              {(refs.data?.clusters ?? [])
                .filter((c) => !cluster || c.engine_version === cluster.engine_version)
                .map((c) => (
                  <option key={c.id} value={c.id} disabled={custom && c.platform}>
                    {c.name} · Flink {c.flink_version} · {c.health.status}
                    {c.platform ? (jar ? ' · platform (runs no JAR jobs)' : custom ? ' · platform (runs no custom code)' : ' · platform') : ''}
                  </option>
                ))}
            </select>
          )}
        </Field>
        <div className="fields-2">
          <Field label="Parallelism" error={fieldError(error, 'parallelism') ?? fieldError(previewError, 'parallelism')} hint="1 to 64 parallel tasks">
            {(p) => <input {...p} type="number" min={1} max={64} step={1} value={parallelism} onChange={(e) => setParallelism(e.target.value)} />}
          </Field>
          <Field label="CU per task" error={fieldError(error, 'cu_per_task') ?? fieldError(previewError, 'cu_per_task')} hint="0.25 to 16, in steps of 0.25 (1 CU = 1 core + 4 GiB)">
            {(p) => <input {...p} type="number" min={0.25} max={16} step={0.25} value={cu} onChange={(e) => setCu(e.target.value)} />}
          </Field>
        </div>
        <Field label="Start" error={fieldError(error, 'restore_mode') ?? fieldError(error, 'savepoint_id')}>
          {(p) => (
            <div>
              <label className="row small">
                <input type="checkbox" checked={startNow} onChange={(e) => setStartNow(e.target.checked)} /> Start as soon as it is created
              </label>
              <select {...p} value={mode} disabled={!startNow} onChange={(e) => setMode(e.target.value as StartMode)} style={{ marginTop: 6, width: '100%' }}>
                <option value="NONE">Stateless: start with empty state</option>
                <option value="LATEST_SAVEPOINT" disabled>
                  From the latest savepoint (a new deployment has none yet)
                </option>
                <option value="FROM_SAVEPOINT" disabled>
                  From a chosen savepoint (on the deployment's page)
                </option>
              </select>
            </div>
          )}
        </Field>
        <CostLine preview={preview} loading={pricing} error={formError(previewError, ['parallelism', 'cu_per_task'])} />
        <ErrorNote error={formError(error, depsError?.field ? [...FIELDS, depsError.field] : FIELDS)} />
      </form>
    </Dialog>
  );
}
