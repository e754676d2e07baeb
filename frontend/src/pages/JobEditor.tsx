// One job's draft: edit, save (If-Match), validate, debug (SQL), save versions, compare,
// deploy. Beside a SQL draft, the references panel lists what the script can name.
import { Suspense, lazy, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useBlocker } from 'react-router';
import { ApiError, api, call, type Schemas } from '../api/client';
import { SqlEditor, type ConnectorName, type Problem, type SqlEditorHandle } from '../components/SqlEditor';
import { Dialog, ErrorNote, Field, FormDialog, Spinner } from '../components/ui';
import { toast } from '../components/toast';
import { reportPlan, reportProblems, scriptProblems, type ValidationReport } from '../lib/validation';
import { ArgsField, JarFields, PythonFields } from './FolderTree';
import { PlanView } from './PlanView';
import { ReferencesPanel, useJobReferences } from './JobEditorReferences';
import { NO_DEBUG_SETTINGS, useDebugRun, type DebugRefusal, type DebugSettings, type DebugSources } from './useDebugRun';

// Shown on demand, so fetched on first use: the editor's first paint does without them.
// Pointing at or focusing their button starts the fetch, so they open as quickly.
const loadDeploy = () => import('./DeployDialog');
const loadDebug = () => import('./DebugRun');
// An early fetch's failure is not reported here: opening the dialog reports it.
const preload = (load: () => Promise<unknown>) => () => void load().catch(() => undefined);
const preloadDeploy = preload(loadDeploy);
const preloadDebug = preload(loadDebug);
const DeployDialog = lazy(() => loadDeploy().then((m) => ({ default: m.DeployDialog })));
const DebugDialog = lazy(() => loadDebug().then((m) => ({ default: m.DebugDialog })));
const DebugPanel = lazy(() => loadDebug().then((m) => ({ default: m.DebugPanel })));
const VersionsPanel = lazy(() => import('./VersionsPanel').then((m) => ({ default: m.VersionsPanel })));
const ConflictDialog = lazy(() => import('./ConflictDialog').then((m) => ({ default: m.ConflictDialog })));

/** What a tab shows while its code is fetched, the first time it is opened. */
const loadingTab = (
  <div className="panel-body">
    <Spinner label="Loading…" />
  </div>
);

type Job = Schemas['Job'];
type JobContent = Schemas['JobContent'];

const sameContent = (a: JobContent, b: JobContent) => JSON.stringify(a) === JSON.stringify(b);

type Tab = 'problems' | 'plan' | 'versions' | 'debug';

/**
 * Whether the references panel starts open: only in a window wide enough for it to sit
 * beside the SQL editor and leave the editor most of the width. In a narrower one the
 * editor starts with the whole pane; opened, the panel goes beside it or, where the pane
 * is narrow, under it (styles.css).
 */
function referencesFitBeside(): boolean {
  return typeof window.matchMedia === 'function' ? window.matchMedia('(min-width: 1280px)').matches : true;
}

export function JobEditor({
  projectId,
  initial,
  canWrite,
  onJobChanged,
  defaultClusterId,
}: {
  projectId: string;
  initial: Job;
  canWrite: boolean;
  onJobChanged: (job: Job) => void;
  /** The project's cluster: where validation goes (else the platform's). */
  defaultClusterId?: string | null;
}) {
  // `job` is the draft as the server last gave it; `content` is what the editor holds.
  const [job, setJob] = useState(initial);
  const [content, setContent] = useState<JobContent>(initial.content);
  const dirty = !sameContent(content, job.content);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>();
  const [conflict, setConflict] = useState<Job>();
  const [report, setReport] = useState<ValidationReport>();
  const [validating, setValidating] = useState(false);
  // Debug: the last reading of the draft as a debug run reads it, and the draft it is of
  // (the dialog's source tables come from it while the draft is the same), the sources
  // while the dialog is open, what it asked for last, and the script errors a start was
  // refused for (shown as the problems until the next validation or run).
  const [debugReport, setDebugReport] = useState<{ content: JobContent; report: ValidationReport }>();
  const [preparingDebug, setPreparingDebug] = useState(false);
  const [debugSources, setDebugSources] = useState<DebugSources>();
  const [debugSettings, setDebugSettings] = useState<DebugSettings>(NO_DEBUG_SETTINGS);
  const [refusal, setRefusal] = useState<DebugRefusal>();
  const debugRun = useDebugRun(projectId);
  const [tab, setTab] = useState<Tab>('problems');
  const [versionKey, setVersionKey] = useState(0);
  const [savingVersion, setSavingVersion] = useState(false);
  const [deploying, setDeploying] = useState(false);
  const [showRefs, setShowRefs] = useState(referencesFitBeside);
  const editor = useRef<SqlEditorHandle>(null);

  // A rename or move from the tree bumps the revision without touching the content:
  // take it, so the next save is not a false conflict.
  useEffect(() => {
    if (initial.revision > job.revision && sameContent(initial.content, job.content)) setJob(initial);
  }, [initial, job]);

  const problems: Problem[] = useMemo(() => (refusal ? scriptProblems(refusal.errors) : report ? reportProblems(report) : []), [refusal, report]);

  /** PATCHes the draft; on 412 opens the merge prompt and answers false. */
  const save = useCallback(
    async (what: JobContent = content, base: Job = job): Promise<Job | null> => {
      setSaving(true);
      setError(undefined);
      const res = await api.PATCH('/projects/{project_id}/jobs/{job_id}', {
        params: { path: { project_id: projectId, job_id: base.id }, header: { 'If-Match': `"${base.revision}"` } },
        body: { content: what },
      });
      setSaving(false);
      if (res.response.status === 412) {
        const server = await call(api.GET('/projects/{project_id}/jobs/{job_id}', { params: { path: { project_id: projectId, job_id: base.id } } }));
        setConflict(server);
        return null;
      }
      if (!res.data) {
        setError(new ApiError(res.response.status, (res.error as { error: ApiError['detail'] } | undefined)?.error ?? { code: 'http', message: `Saving failed (${res.response.status}).` }));
        return null;
      }
      setJob(res.data);
      setContent(res.data.content);
      onJobChanged(res.data);
      return res.data;
    },
    [content, job, projectId, onJobChanged],
  );

  /**
   * Saves the draft if need be and validates it, `busy` while it does: the report and the
   * draft it is of, or undefined on a failure (shown). With `debug`, the draft is read as
   * a debug run reads it (a SELECT of its own is a result, not a mistake; the engine is
   * not asked), and the reading is kept for the next debug of the same draft.
   */
  const fetchReport = async (busy: (on: boolean) => void, debug = false): Promise<{ content: JobContent; report: ValidationReport } | undefined> => {
    setError(undefined);
    const saved = dirty ? await save() : job;
    if (!saved) return undefined;
    busy(true);
    try {
      const r = await call(
        api.POST('/projects/{project_id}/jobs/{job_id}/validate', {
          params: { path: { project_id: projectId, job_id: job.id } },
          body: debug ? { debug: true } : {},
        }),
      );
      const checked = { content: saved.content, report: r };
      if (debug) setDebugReport(checked);
      return checked;
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      busy(false);
    }
  };

  const validate = async () => {
    const checked = await fetchReport(setValidating);
    if (!checked) return;
    const r = checked.report;
    setReport(r);
    setRefusal(undefined);
    setTab(r.valid && r.plan ? 'plan' : 'problems');
  };

  /**
   * Opens the debug dialog for the saved draft, its source tables from a reading of this
   * very text as a debug run reads it (one is made, and not shown, when the last is of
   * other text). Its errors do not stop the dialog: the server refuses the script for its
   * own mistakes when the run starts, placed.
   */
  const debug = async () => {
    let r = !dirty && debugReport && sameContent(debugReport.content, content) ? debugReport.report : undefined;
    if (!r) {
      r = (await fetchReport(setPreparingDebug, true))?.report;
      if (!r) return;
    }
    // Sluice's reading stopped at the script's errors before it listed any table: the
    // tables to feed from samples are named by hand.
    setDebugSources({ tables: r.sources, listed: r.sources.length > 0 || r.errors.length === 0 });
  };

  // Leaving with unsaved edits: the router asks, and so does the browser.
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (!dirty) return;
    const onUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
    };
    window.addEventListener('beforeunload', onUnload);
    return () => window.removeEventListener('beforeunload', onUnload);
  }, [dirty]);

  const sql = content.kind === 'sql' ? content.sql : '';
  const errorCount = problems.length;
  // The catalogue follows the cluster the last validation ran on.
  const refs = useJobReferences(projectId, report?.engine.cluster_id ?? defaultClusterId, content.kind === 'sql');
  const connectorNames: ConnectorName[] = useMemo(() => refs.catalogue?.connectors ?? [], [refs.catalogue]);

  return (
    <div className="editor-pane">
      <div className="editor-bar">
        <span className="title" data-testid="job-title">
          {job.name}
        </span>
        <span className="badge">{{ sql: 'SQL', jar: 'JAR', python: 'Python' }[content.kind]}</span>
        {dirty ? (
          <span className="muted small row" data-testid="dirty">
            <span className="dirty-dot" /> Unsaved changes
          </span>
        ) : (
          <span className="muted small">{job.last_version ? `Draft · latest version v${job.last_version}` : 'Draft · no version saved yet'}</span>
        )}
        <div className="spacer" />
        {saving && <Spinner label="Saving…" />}
        {canWrite && (
          <>
            <button onClick={() => void save()} disabled={!dirty || saving} title="Save the draft (Ctrl+S)">
              Save
            </button>
            {content.kind !== 'jar' && (
              <button onClick={() => void validate()} disabled={validating}>
                {validating ? 'Validating…' : 'Validate'}
              </button>
            )}
            {content.kind === 'sql' && (
              <button
                onClick={() => void debug()}
                onPointerEnter={preloadDebug}
                onFocus={preloadDebug}
                disabled={preparingDebug || validating || saving}
                title="Run the draft on a session cluster with sample or live input and see what each statement produces; nothing reaches its sinks"
              >
                {preparingDebug ? 'Preparing…' : 'Debug'}
              </button>
            )}
            <button onClick={() => setSavingVersion(true)}>Save version</button>
            <button
              className="primary"
              onClick={() => setDeploying(true)}
              onPointerEnter={preloadDeploy}
              onFocus={preloadDeploy}
              disabled={job.last_version === 0 && !dirty}
              title={job.last_version === 0 ? 'Save a version first' : undefined}
            >
              Deploy
            </button>
          </>
        )}
        {!canWrite && <span className="badge role">read only</span>}
      </div>
      {error !== undefined && (
        <div style={{ padding: '0 12px' }}>
          <ErrorNote error={error} />
        </div>
      )}
      <div className="editor-split">
        {content.kind === 'sql' ? (
          <div className={'editor-main' + (showRefs ? ' with-side' : '')}>
            <SqlEditor
              ref={editor}
              value={sql}
              readOnly={!canWrite}
              onChange={(v) => setContent({ kind: 'sql', sql: v })}
              problems={problems}
              onSaveShortcut={() => canWrite && void save()}
              connectors={connectorNames}
              functions={refs.functions}
            />
            {showRefs ? (
              <ReferencesPanel
                projectId={projectId}
                refs={refs}
                canInsert={canWrite}
                onInsert={(text) => editor.current?.insert(text)}
                onHide={() => setShowRefs(false)}
              />
            ) : (
              <button type="button" className="side-show" onClick={() => setShowRefs(true)} title="Show references" aria-label="Show references">
                ‹ References
              </button>
            )}
          </div>
        ) : (
          <div className="panel-body" style={{ maxWidth: 640 }}>
            {content.kind === 'python' ? (
              <PythonFields
                projectId={projectId}
                artifactId={content.artifact_id}
                args={content.args ?? []}
                onArtifact={(artifact_id) => setContent({ ...content, artifact_id })}
                onArgs={(args) => setContent({ ...content, args })}
                disabled={!canWrite}
                error={error}
              />
            ) : (
              <>
                <JarFields
                  projectId={projectId}
                  artifactId={content.artifact_id}
                  entryClass={content.entry_class}
                  onArtifact={(artifact_id) => setContent({ ...content, artifact_id })}
                  onEntryClass={(entry_class) => setContent({ ...content, entry_class })}
                  disabled={!canWrite}
                  error={error}
                />
                <ArgsField args={content.args ?? []} onArgs={(args) => setContent({ ...content, args })} disabled={!canWrite} error={error} />
              </>
            )}
            <div className="muted small" data-testid="checked-when-deployed">
              {content.kind === 'python'
                ? 'Validate runs the script on a cluster of your own up to the job graph it would submit; an error is shown at the script line it came from.'
                : 'A JAR job is checked by the engine when it is deployed.'}
            </div>
          </div>
        )}
        <div className="results">
          <div className="tabs" role="tablist">
            <button role="tab" aria-selected={tab === 'problems'} onClick={() => setTab('problems')}>
              Problems{report || refusal ? ` (${errorCount})` : ''}
            </button>
            <button role="tab" aria-selected={tab === 'plan'} onClick={() => setTab('plan')}>
              Plan
            </button>
            <button role="tab" aria-selected={tab === 'versions'} onClick={() => setTab('versions')}>
              Versions
            </button>
            {content.kind === 'sql' && (
              <button role="tab" aria-selected={tab === 'debug'} onClick={() => setTab('debug')}>
                Debug{debugRun.state && debugRun.state.run.status !== 'ended' ? ' ●' : ''}
              </button>
            )}
          </div>
          {tab === 'problems' && (
            <ProblemsPanel
              report={report}
              refusal={refusal}
              problems={problems}
              canValidate={canWrite}
              kind={content.kind}
              onReveal={(p) => editor.current?.reveal(p)}
            />
          )}
          {tab === 'debug' && (
            <Suspense fallback={loadingTab}>
              <DebugPanel control={debugRun} canDebug={canWrite} />
            </Suspense>
          )}
          {tab === 'plan' && (
            <div className="panel-body">
              {report ? (
                <PlanView plan={reportPlan(report)} engine={report.engine} />
              ) : (
                <div className="muted">{content.kind === 'jar' ? 'A JAR job has no plan to show before it is deployed.' : canWrite ? 'Validate to see the plan the engine would run.' : 'No plan yet.'}</div>
              )}
            </div>
          )}
          {tab === 'versions' && (
            <Suspense fallback={loadingTab}>
              <VersionsPanel
                projectId={projectId}
                jobId={job.id}
                draft={content}
                revision={job.revision}
                canWrite={canWrite}
                reloadKey={versionKey}
                onRolledBack={(j) => {
                  setJob(j);
                  setContent(j.content);
                  onJobChanged(j);
                  toast('Draft rolled back');
                }}
              />
            </Suspense>
          )}
        </div>
      </div>
      {conflict && (
        <Suspense fallback={null}>
          <ConflictDialog
            mine={content}
            server={conflict}
            onClose={() => setConflict(undefined)}
            onTakeTheirs={() => {
              setJob(conflict);
              setContent(conflict.content);
              setConflict(undefined);
            }}
            onSave={async (resolved) => {
              // Saved on top of the server's revision: the user has seen it.
              const saved = await save(resolved, conflict);
              if (saved) setConflict(undefined);
            }}
          />
        </Suspense>
      )}
      {savingVersion && (
        <SaveVersionDialog
          onClose={() => setSavingVersion(false)}
          onSave={async (message) => {
            if (dirty && !(await save())) throw new Error('The draft could not be saved; the version was not created.');
            const saved = await call(
              api.POST('/projects/{project_id}/jobs/{job_id}/versions', { params: { path: { project_id: projectId, job_id: job.id } }, body: { message } }),
            );
            setJob((j) => ({ ...j, last_version: saved.version.version }));
            setVersionKey((k) => k + 1);
            toast(
              `Saved version v${saved.version.version}` +
                (saved.pruned_versions.length ? ` (oldest removed: ${saved.pruned_versions.map((v) => 'v' + v).join(', ')})` : ''),
            );
          }}
        />
      )}
      {debugSources && (
        <Suspense fallback={null}>
          <DebugDialog
            projectId={projectId}
            jobId={job.id}
            sources={debugSources.tables}
            sourcesListed={debugSources.listed}
            initial={debugSettings}
            defaultClusterId={defaultClusterId}
            onClose={() => setDebugSources(undefined)}
            onStarted={(run, settings) => {
              setDebugSettings(settings);
              setDebugSources(undefined);
              setRefusal(undefined);
              debugRun.follow(run);
              setTab('debug');
            }}
            onRefused={(refused, settings) => {
              setDebugSettings(settings);
              setDebugSources(undefined);
              setRefusal(refused);
              setTab('problems');
            }}
          />
        </Suspense>
      )}
      {deploying && (
        <Suspense fallback={null}>
          <DeployDialog projectId={projectId} job={job} unsaved={dirty} onClose={() => setDeploying(false)} />
        </Suspense>
      )}
      {blocker.state === 'blocked' && (
        <Dialog
          title="Leave without saving?"
          onClose={() => blocker.reset()}
          footer={
            <>
              <button onClick={() => blocker.reset()}>Stay</button>
              <button className="danger solid" onClick={() => blocker.proceed()}>
                Discard changes
              </button>
            </>
          }
        >
          <p>{job.name} has unsaved changes. They are lost if you leave.</p>
        </Dialog>
      )}
    </div>
  );
}

function ProblemsPanel({
  report,
  refusal,
  problems,
  canValidate,
  kind,
  onReveal,
}: {
  report?: ValidationReport;
  /** A debug run the server refused for the script's errors: they are the problems. */
  refusal?: DebugRefusal;
  problems: Problem[];
  canValidate: boolean;
  kind: JobContent['kind'];
  /** Puts the editor's cursor at a problem's place. */
  onReveal: (p: Problem) => void;
}) {
  if (!report && !refusal)
    return (
      <div className="panel-body muted">
        {kind === 'jar'
          ? 'SQL and Python jobs are validated here; the engine checks a JAR program when it is deployed.'
          : kind === 'python' && canValidate
            ? 'Validate to run the script on the engine up to the job graph it would submit.'
            : canValidate
              ? 'Validate to check the script with Sluice and the engine.'
              : 'Editors of this project validate and deploy this job; you can read it and its versions.'}
      </div>
    );
  const { sources, sinks } = report ?? { sources: [], sinks: [] };
  return (
    <div className="panel-body" data-testid="problems">
      {refusal ? (
        <div className="alert error">The debug run did not start: the script has {problems.length === 1 ? 'an error' : `${problems.length} errors`}.</div>
      ) : !report ? null : report.valid ? (
        <div className="alert ok" role="status">
          Valid: Sluice and the engine accept this job.
        </div>
      ) : problems.length === 0 ? (
        <div className="alert warn">Not validated by the engine: {report.engine.message ?? report.engine.status}</div>
      ) : null}
      {problems.length > 0 && (
        <ul className="problems" aria-label="Validation errors">
          {problems.map((p, i) => (
            <li key={i} className={p.severity ?? 'error'}>
              <span className="sev">●</span>
              {p.line != null ? (
                <button type="button" className="where link" title="Go to this place in the script" onClick={() => onReveal(p)}>
                  Ln {p.line}, Col {p.column}
                </button>
              ) : (
                <span className="where" title="The engine gave no place in the script for this error">
                  Whole script
                </span>
              )}
              <div className="what">
                <div style={{ whiteSpace: 'pre-wrap' }}>{p.message}</div>
                {p.hint && <div className="hint">{p.hint}</div>}
              </div>
            </li>
          ))}
        </ul>
      )}
      {(sources.length > 0 || sinks.length > 0) && (
        <div className="row wrap small" style={{ marginTop: 8, gap: 24 }}>
          <div>
            <span className="muted">Reads </span>
            {sources.map((t) => `${t.name}${t.connector ? ` (${t.connector})` : ''}`).join(', ') || '—'}
          </div>
          <div>
            <span className="muted">Writes </span>
            {sinks.map((t) => `${t.name}${t.connector ? ` (${t.connector})` : ''}`).join(', ') || '—'}
          </div>
          {report && <div className="muted">Engine: {report.engine.status}</div>}
        </div>
      )}
    </div>
  );
}

function SaveVersionDialog({ onClose, onSave }: { onClose: () => void; onSave: (message: string) => Promise<void> }) {
  const [message, setMessage] = useState('');
  return (
    <FormDialog
      title="Save version"
      onClose={onClose}
      submitLabel="Save version"
      form
      onSubmit={async () => {
        await onSave(message);
        onClose();
      }}
    >
      <Field label="What changed" hint="Kept in the version history.">
        {(p) => <input {...p} autoFocus value={message} onChange={(e) => setMessage(e.target.value)} style={{ width: '100%' }} />}
      </Field>
    </FormDialog>
  );
}
