// Deploys a saved version of a job: where (cluster and its engine version), how big
// (parallelism x CU), what else goes on its classpath (JAR dependencies), how it starts,
// and what it costs, priced live by the API. A job deployed already is offered the
// upgrade of its running deployment to the version first; a second deployment is a
// choice of its own.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, api, call, type Schemas } from '../api/client';
import { Badge, Dialog, ErrorNote, Field, Spinner, fieldError, formError, formatBytes } from '../components/ui';
import { toast } from '../components/toast';
import { calendarDay } from '../lib/dates';
import { fetchAll, useLoad } from '../lib/hooks';
import { healthAdvice, healthWords } from './ClusterHealth';

type Job = Schemas['Job'];
type CostPreview = Schemas['CostPreview'];
type EngineVersion = Schemas['EngineVersionView'];
type Deployment = Schemas['Deployment'];
type Cluster = Schemas['Cluster'];

export type StartMode = 'NONE' | 'LATEST_SAVEPOINT' | 'FROM_SAVEPOINT';

/** The fields the dialog shows an error under; the API's error for any other shows under the form. */
const FIELDS = ['name', 'version', 'cluster_id', 'parallelism', 'cu_per_task', 'restore_mode', 'savepoint_id'];

/** At most this many dependencies on a deployment (the API's limit). */
const MAX_DEPENDENCIES = 20;

/** The API names `dependencies`, or one of them as `dependencies[i]`. */
const dependenciesError = (e: unknown) => (e instanceof ApiError && e.field?.startsWith('dependencies') ? e : undefined);

export function EngineStage({ ev }: { ev: EngineVersion | undefined }) {
  // No lifecycle published for it: nothing to say beside the Flink version.
  if (!ev) return null;
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
    <div className="card" data-testid="cost-preview" aria-busy={loading} style={{ padding: 12, opacity: loading ? 0.6 : 1 }}>
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

/** At most this many characters in a name (the API's limit). */
const MAX_NAME_CHARS = 128;

type FieldErrors = Partial<Record<string, string>>;

/** `errors` without the one of `field`. */
function without(errors: FieldErrors, field: string): FieldErrors {
  if (!(field in errors)) return errors;
  const rest = { ...errors };
  delete rest[field];
  return rest;
}

/**
 * Every mistake in what is typed, each for its field, checked as the API checks them, so
 * all of them show at once instead of one per try.
 */
export function checkDeployFields(f: {
  name: string;
  version: number | undefined;
  cluster: Cluster | undefined;
  parallelism: string;
  cu: string;
  /** The job runs custom code (a JAR, or dependencies): not on the platform's cluster. */
  custom: boolean;
}): FieldErrors {
  const out: FieldErrors = {};
  const name = f.name.trim();
  const chars = [...name].length;
  if (!name) out.name = 'Name the deployment.';
  else if (chars > MAX_NAME_CHARS) out.name = `At most ${MAX_NAME_CHARS} characters; this is ${chars}.`;
  else if (/[/\\]/.test(name)) out.name = 'A name cannot contain / or \\.';
  else if (/\p{Cc}/u.test(name)) out.name = 'A name cannot contain control characters.';
  if (f.version === undefined) out.version = 'Choose a saved version.';
  if (!f.cluster) out.cluster_id = 'Choose a cluster.';
  else if (f.custom && f.cluster.platform) out.cluster_id = 'The platform’s cluster runs no custom code: choose a cluster your account registered.';
  const p = Number(f.parallelism);
  if (f.parallelism.trim() === '') out.parallelism = 'Enter the parallelism: a whole number from 1 to 64.';
  else if (!Number.isInteger(p) || p < 1 || p > 64) out.parallelism = `${f.parallelism} is not a whole number from 1 to 64.`;
  const cu = Number(f.cu);
  if (f.cu.trim() === '') out.cu_per_task = 'Enter the CU per task: a multiple of 0.25 from 0.25 to 16.';
  else if (!Number.isFinite(cu) || cu < 0.25 || cu > 16 || !Number.isInteger(cu * 4)) out.cu_per_task = `${f.cu} is not a multiple of 0.25 from 0.25 to 16.`;
  return out;
}

/** Whether a deployment takes another version now: the API upgrades a running one only. */
const upgradable = (d: Deployment) => d.desired_state === 'RUNNING' && d.status === 'RUNNING' && !d.pending_version;

/** Why a deployment of the job cannot be upgraded from here, in words. */
function notUpgradable(d: Deployment): string {
  if (d.pending_version) return `upgrading to v${d.pending_version} already`;
  if (d.desired_state === 'RUNNING') return 'not running yet: it takes another version once it runs';
  return `stopped: started again it runs v${d.job_version}; it takes another version while it runs`;
}

/** The job's name, or the first of name-2, name-3… that none of its deployments has. */
function freeName(base: string, taken: Deployment[]): string {
  const names = new Set(taken.map((d) => d.name));
  if (!names.has(base)) return base;
  for (let i = 2; ; i++) if (!names.has(`${base}-${i}`)) return `${base}-${i}`;
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
    const [versions, clusters, engines, project, existing] = await Promise.all([
      call(api.GET('/projects/{project_id}/jobs/{job_id}/versions', { params: { path: { project_id: projectId, job_id: job.id } } })),
      call(api.GET('/clusters')),
      call(api.GET('/engine-versions')),
      call(api.GET('/projects/{project_id}', { params: { path: { project_id: projectId } } })),
      // The job's deployments: deploying it again offers to upgrade one of them first.
      fetchAll((cursor) =>
        call(api.GET('/projects/{project_id}/deployments', { params: { path: { project_id: projectId }, query: { job_id: job.id, cursor, limit: 200 } } })),
      ),
    ]);
    return { versions: versions.items, clusters, engines, project, existing };
  }, [projectId, job.id]);
  // Apart from the rest: without them the dialog still deploys.
  const jars = useLoad(
    async () =>
      (await fetchAll((cursor) => call(api.GET('/projects/{project_id}/artifacts', { params: { path: { project_id: projectId }, query: { cursor, limit: 200 } } })))).filter(
        (a) => a.kind === 'jar',
      ),
    [projectId],
  );

  // Untouched, the job's name, or one none of its deployments has.
  const [typedName, setName] = useState<string>();
  // Untouched, the newest version, the project's cluster (else the platform's).
  const [chosenVersion, setVersion] = useState<number>();
  const [chosenCluster, setClusterId] = useState<string>();
  const [parallelism, setParallelism] = useState('1');
  const [cu, setCu] = useState('1');
  const [mode, setMode] = useState<StartMode>('NONE');
  const [startNow, setStartNow] = useState(true);
  const [dependencies, setDependencies] = useState<string[]>([]);
  // The deployment to upgrade, or 'new' for a deployment of its own; untouched, the
  // upgrade of a running deployment of the job if it has one.
  const [chosenTarget, setTarget] = useState<string>();
  // Each field's mistake, all at once; an edit of a field drops its own.
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  // What the API refused that belongs to no field above (or to the dependencies).
  const [error, setError] = useState<unknown>();
  const [phase, setPhase] = useState<'idle' | 'creating' | 'starting' | 'upgrading'>('idle');
  // Clusters checked from this dialog, with their new health.
  const [checked, setChecked] = useState<Record<string, Cluster>>({});
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<unknown>();

  const edited = (field: string) => setFieldErrors((old) => without(old, field));
  const clusters = useMemo(() => (refs.data?.clusters ?? []).map((c) => checked[c.id] ?? c), [refs.data, checked]);
  const loaded = refs.data;
  const version = chosenVersion ?? loaded?.versions[0]?.version;
  const clusterId = chosenCluster ?? loaded?.project.default_cluster_id ?? loaded?.clusters.find((x) => x.platform)?.id ?? loaded?.clusters[0]?.id;
  const cluster = clusters.find((c) => c.id === clusterId);
  const engine = refs.data?.engines.find((e) => e.label === cluster?.engine_version);
  const existing = useMemo(() => refs.data?.existing ?? [], [refs.data]);
  const target = chosenTarget ?? existing.find(upgradable)?.id ?? 'new';
  const upgrading = existing.find((d) => d.id === target);
  const name = typedName ?? freeName(job.name, existing);

  // The price follows the size as it is typed, debounced so typing "16" asks once.
  const [preview, setPreview] = useState<CostPreview>();
  const [previewError, setPreviewError] = useState<unknown>();
  const [pricing, setPricing] = useState(false);
  const size = useMemo(() => ({ parallelism: Number(parallelism), cu_per_task: Number(cu) }), [parallelism, cu]);
  useEffect(() => {
    if (!Number.isFinite(size.parallelism) || !Number.isFinite(size.cu_per_task) || parallelism.trim() === '' || cu.trim() === '') {
      // Nothing to price: neither the old price nor the old price's refusal holds.
      setPreview(undefined);
      setPreviewError(undefined);
      setPricing(false);
      return;
    }
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

  /** An error the API tied to a field goes under it; any other under the form. */
  const refused = (e: unknown, fields: string[]) => {
    if (e instanceof ApiError && e.field && fields.includes(e.field)) setFieldErrors({ [e.field]: e.detail.message });
    else setError(e);
  };

  const versions = refs.data?.versions ?? [];
  // The platform's shared cluster runs no custom code: a JAR version needs the account's own.
  const jar = versions.find((v) => v.version === version)?.content.kind === 'jar';
  // Nor does it take dependencies: they are custom code too.
  const custom = jar || dependencies.length > 0;

  const deploy = async () => {
    setError(undefined);
    const mistakes = checkDeployFields({ name, version, cluster, parallelism, cu, custom });
    setFieldErrors(mistakes);
    if (Object.keys(mistakes).length > 0) return;
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
      refused(e, FIELDS);
      setPhase('idle');
    }
  };

  /** Moves the running deployment to the chosen version through a savepoint. */
  const upgrade = async (d: Deployment) => {
    setError(undefined);
    setFieldErrors({});
    if (version === undefined) return setFieldErrors({ version: 'Choose a saved version.' });
    setPhase('upgrading');
    try {
      await call(
        api.POST('/projects/{project_id}/deployments/{deployment_id}/upgrade', {
          params: { path: { project_id: projectId, deployment_id: d.id } },
          body: { version },
        }),
      );
      toast(`Upgrading ${d.name} to v${version}`);
      onClose();
      navigate(`/projects/${projectId}/deployments/${d.id}`);
    } catch (e) {
      refused(e, ['version']);
      setPhase('idle');
    }
  };

  const submit = () => void (upgrading ? upgrade(upgrading) : deploy());

  const checkHealth = async (id: string) => {
    setChecking(true);
    setCheckError(undefined);
    try {
      const c = await call(api.POST('/clusters/{cluster_id}/health-check', { params: { path: { cluster_id: id } } }));
      setChecked((old) => ({ ...old, [id]: c }));
    } catch (e) {
      setCheckError(e);
    } finally {
      setChecking(false);
    }
  };

  const depsError = dependenciesError(error);
  const engineLabels = [...new Set(clusters.map((c) => c.engine_version))];
  const runsAlready = upgrading !== undefined && version === upgrading.job_version;
  const canSubmit = phase === 'idle' && !!refs.data && versions.length > 0 && !runsAlready;
  const submitLabel = upgrading
    ? `Upgrade ${upgrading.name}`
    : existing.length > 0
      ? startNow
        ? 'Create a second deployment and start'
        : 'Create a second deployment'
      : startNow
        ? 'Deploy and start'
        : 'Deploy';

  const placementNote =
    jar && cluster?.platform
      ? 'JAR jobs run only on a cluster your account registered: the shared platform cluster runs no custom code (register one under Clusters).'
      : custom && cluster?.platform
        ? 'Dependencies are custom code, which runs only on a cluster your account registered: the shared platform cluster runs no custom code (register one under Clusters).'
        : null;
  const healthNote = cluster ? healthAdvice(cluster.health) : null;
  const clusterHint: ReactNode =
    placementNote || healthNote || engine ? (
      <>
        {placementNote ?? <EngineStage ev={engine} />}
        {healthNote && cluster && (
          <div className={cluster.health.status === 'unhealthy' ? 'field-error' : undefined} data-testid="cluster-health-note">
            {healthNote}{' '}
            <button type="button" className="small" disabled={checking} onClick={() => void checkHealth(cluster.id)}>
              {checking ? 'Checking…' : 'Check now'}
            </button>
          </div>
        )}
      </>
    ) : undefined;

  return (
    <Dialog
      title={`Deploy ${job.name}`}
      onClose={onClose}
      // Its fields and buttons are one form: Enter in a field does what the main button
      // does (and nothing while that button is disabled).
      onSubmit={() => {
        if (canSubmit) submit();
      }}
      footer={
        <>
          {phase !== 'idle' && (
            <Spinner label={{ creating: 'Creating the deployment…', starting: 'Asking the engine to start…', upgrading: 'Asking for the upgrade…' }[phase]} />
          )}
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!canSubmit}>
            {submitLabel}
          </button>
        </>
      }
    >
      <ErrorNote error={refs.error} />
      {unsaved && versions.length > 0 && <div className="alert warn">The editor has changes that are in no saved version; they are not deployed. Save a version to deploy them.</div>}
      {refs.data && versions.length === 0 && <div className="alert warn">This job has no saved version yet: save a version first, then deploy it.</div>}
      {!refs.data && !refs.error && <Spinner label="Loading the job's versions and clusters…" />}
      {refs.data && (
        <>
          {existing.length > 0 && (
            <fieldset className="channel-picks deploy-target" data-testid="deploy-target">
              <legend className="label">This job is deployed already</legend>
              {existing.map((d) =>
                upgradable(d) ? (
                  <label key={d.id} className="check">
                    <input type="radio" name="deploy-target" checked={target === d.id} onChange={() => setTarget(d.id)} />
                    <span>
                      Upgrade <strong>{d.name}</strong> to this version <span className="muted small">(runs v{d.job_version} now)</span>
                    </span>
                  </label>
                ) : (
                  <div key={d.id} className="small" style={{ padding: '3px 0 3px 22px' }}>
                    <Link to={`/projects/${projectId}/deployments/${d.id}`} onClick={onClose}>
                      {d.name}
                    </Link>{' '}
                    <Badge value={d.status} /> <span className="muted">v{d.job_version} · {notUpgradable(d)}</span>
                  </div>
                ),
              )}
              <label className="check">
                <input type="radio" name="deploy-target" checked={target === 'new'} onChange={() => setTarget('new')} />
                <span>Create a second deployment of this job (it runs beside the others and is billed on its own)</span>
              </label>
            </fieldset>
          )}
          {upgrading ? (
            <>
              <Field
                label="Version"
                error={fieldErrors.version ?? (runsAlready ? `${upgrading.name} runs v${upgrading.job_version} already: choose another version, or create a second deployment.` : undefined)}
                hint={`${upgrading.name} is stopped with a savepoint and the chosen version resumes from it, on the same cluster at the same size.`}
              >
                {(p) => (
                  <select
                    {...p}
                    value={version ?? ''}
                    onChange={(e) => {
                      setVersion(Number(e.target.value));
                      edited('version');
                    }}
                    style={{ width: '100%' }}
                  >
                    {versions.map((v) => (
                      <option key={v.version} value={v.version}>
                        v{v.version}
                        {v.message ? ` — ${v.message}` : ''}
                        {v.version === upgrading.job_version ? ' (runs now)' : ''}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </>
          ) : (
            <>
              <Field label="Deployment name" error={fieldErrors.name}>
                {(p) => (
                  <input
                    {...p}
                    value={name}
                    onChange={(e) => {
                      setName(e.target.value);
                      edited('name');
                    }}
                    style={{ width: '100%' }}
                  />
                )}
              </Field>
              <div className="fields-2">
                <Field label="Version" error={fieldErrors.version}>
                  {(p) => (
                    <select
                      {...p}
                      value={version ?? ''}
                      onChange={(e) => {
                        setVersion(Number(e.target.value));
                        edited('version');
                      }}
                    >
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
                        const of = clusters.filter((c) => c.engine_version === e.target.value);
                        setClusterId((of.find((c) => !(custom && c.platform)) ?? of[0])?.id);
                        edited('cluster_id');
                      }}
                    >
                      {engineLabels.map((l) => {
                        const ev = refs.data?.engines.find((e) => e.label === l);
                        const flink = ev?.flink_version ?? clusters.find((c) => c.engine_version === l)?.flink_version;
                        return (
                          <option key={l} value={l}>
                            {l}
                            {flink ? ` · Flink ${flink}` : ''}
                            {ev ? ` · ${ev.pulled ? 'pulled' : ev.stage}` : ''}
                          </option>
                        );
                      })}
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
                        onChange={(e) => {
                          setDependencies((old) => (e.target.checked ? [...old, a.id] : old.filter((x) => x !== a.id)));
                          if (depsError) setError(undefined);
                          edited('cluster_id');
                        }}
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
              <Field label="Engine cluster" error={fieldErrors.cluster_id} hint={clusterHint}>
                {(p) => (
                  <select
                    {...p}
                    value={clusterId ?? ''}
                    onChange={(e) => {
                      setClusterId(e.target.value);
                      edited('cluster_id');
                    }}
                    style={{ width: '100%' }}
                  >
                    {clusters
                      .filter((c) => !cluster || c.engine_version === cluster.engine_version)
                      .map((c) => (
                        <option key={c.id} value={c.id} disabled={custom && c.platform}>
                          {c.name} · {healthWords(c.health)}
                          {c.platform ? (jar ? ' · platform (runs no JAR jobs)' : custom ? ' · platform (runs no custom code)' : ' · platform') : ''}
                        </option>
                      ))}
                  </select>
                )}
              </Field>
              <ErrorNote error={checkError} />
              <div className="fields-2">
                <Field label="Parallelism" error={fieldErrors.parallelism ?? fieldError(previewError, 'parallelism')} hint="1 to 64 parallel tasks">
                  {(p) => (
                    <input
                      {...p}
                      type="number"
                      min={1}
                      max={64}
                      step={1}
                      value={parallelism}
                      onChange={(e) => {
                        setParallelism(e.target.value);
                        edited('parallelism');
                      }}
                    />
                  )}
                </Field>
                <Field label="CU per task" error={fieldErrors.cu_per_task ?? fieldError(previewError, 'cu_per_task')} hint="0.25 to 16, in steps of 0.25 (1 CU = 1 core + 4 GiB)">
                  {(p) => (
                    <input
                      {...p}
                      type="number"
                      min={0.25}
                      max={16}
                      step={0.25}
                      value={cu}
                      onChange={(e) => {
                        setCu(e.target.value);
                        edited('cu_per_task');
                      }}
                    />
                  )}
                </Field>
              </div>
              <Field label="Start" error={fieldErrors.restore_mode ?? fieldErrors.savepoint_id}>
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
            </>
          )}
          {!depsError && <ErrorNote error={error} />}
        </>
      )}
    </Dialog>
  );
}
