// Debug runs of a SQL draft, in the job editor: the dialog that starts one (each source
// table live or fed from one of the project's samples, limits, the session cluster)
// and the panel that shows it, its results read as the engine sends them. Nothing a
// run captures reaches the draft's real sinks: the server replaces each with a capture.
// The editor loads this module when the dialog or the panel is first shown; what it
// keeps from the start (the run it follows, the settings) is in useDebugRun.ts.
import { useId, useMemo, useState } from 'react';
import { ApiError, api, call, type Schemas } from '../api/client';
import { Badge, ErrorNote, Field, FormDialog, fieldError, formatBytes } from '../components/ui';
import { useLoad } from '../lib/hooks';
import type { DebugRefusal, DebugRunControl, DebugSettings } from './useDebugRun';

type DebugRun = Schemas['DebugRun'];
type DebugRow = Schemas['DebugRow'];
type DebugResult = Schemas['DebugResult'];
type DebugRequest = Schemas['DebugRequest'];
type Sample = Schemas['DebugSample'];
type TableRef = Schemas['TableRef'];
type ScriptError = Schemas['ScriptError'];

export type Started = { run: DebugRun } | { refused: DebugRefusal };

/**
 * Starts a run of the job's saved draft. A 422 that lists the script's errors comes back
 * as a refusal (the editor shows them as problems); any other error is thrown.
 */
export async function startDebugRun(projectId: string, jobId: string, body: DebugRequest): Promise<Started> {
  const sent = api.POST('/projects/{project_id}/jobs/{job_id}/debug', { params: { path: { project_id: projectId, job_id: jobId } }, body });
  try {
    return { run: await call(sent) };
  } catch (e) {
    if (e instanceof ApiError && e.status === 422) {
      // The error body lists the script's own mistakes, when those are the reason.
      const refusal = (await sent).error as { errors?: ScriptError[] | null } | undefined;
      if (refusal?.errors?.length) return { refused: { message: e.detail.message, errors: refusal.errors } };
    }
    throw e;
  }
}

/** A sample's format, from its file name's extension. */
export function sampleFormat(fileName: string): 'csv' | 'jsonl' | undefined {
  const ext = fileName.toLowerCase().split('.').pop();
  if (ext === 'csv') return 'csv';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  return undefined;
}

const wholeNumber = (field: string, raw: string, what: string): number | undefined => {
  const text = raw.trim();
  if (!text) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new ApiError(0, { code: 'invalid', field, message: `${what} must be a whole number, at least 1` });
  return Number(text);
};

export function DebugDialog({
  projectId,
  jobId,
  sources: listedSources,
  sourcesListed = true,
  initial,
  defaultClusterId,
  onClose,
  onStarted,
  onRefused,
}: {
  projectId: string;
  jobId: string;
  /** The draft's source tables, from its validation report. */
  sources: TableRef[];
  /** Whether the report could list them; if not, tables are added by name. */
  sourcesListed?: boolean;
  initial: DebugSettings;
  /** The project's cluster, where a run goes when none is chosen (else the platform's). */
  defaultClusterId?: string | null;
  onClose: () => void;
  onStarted: (run: DebugRun, settings: DebugSettings) => void;
  onRefused: (refusal: DebugRefusal, settings: DebugSettings) => void;
}) {
  const path = { project_id: projectId };
  const samples = useLoad(() => call(api.GET('/projects/{project_id}/debug-samples', { params: { path } })), [projectId]);
  const clusters = useLoad(() => call(api.GET('/clusters')), []);
  const [chosen, setChosen] = useState(initial.samples);
  // Tables named by hand, when the report could not list them: those given a sample
  // last time come back.
  const [named, setNamed] = useState<string[]>(() => (sourcesListed ? [] : Object.keys(initial.samples).filter((t) => !listedSources.some((s) => s.name === t))));
  const [naming, setNaming] = useState('');
  const sources: TableRef[] = useMemo(() => [...listedSources, ...named.map((name) => ({ name, connector: null }))], [listedSources, named]);
  const [recordLimit, setRecordLimit] = useState(initial.recordLimit);
  const [timeLimit, setTimeLimit] = useState(initial.timeLimit);
  const [clusterId, setClusterId] = useState(initial.clusterId);
  const [uploading, setUploading] = useState<string>();
  const [uploadError, setUploadError] = useState<{ table: string; error: unknown }>();
  // Deleting a sample: the one asked about, whether it is being deleted, why it was not.
  const [confirming, setConfirming] = useState<string>();
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<unknown>();

  const known = useMemo(() => new Map((samples.data ?? []).map((s) => [s.id, s])), [samples.data]);
  // A sample deleted since it was chosen: the table reads live again.
  const sampleOf = (table: string): Sample | undefined => {
    const id = chosen[table];
    return id ? known.get(id) : undefined;
  };

  const sessionClusters = (clusters.data ?? []).filter((c) => c.debug_sessions);
  const fallback = (clusters.data ?? []).find((c) => c.id === defaultClusterId) ?? (clusters.data ?? []).find((c) => c.platform);

  const upload = async (table: string, file: File) => {
    setUploadError(undefined);
    const format = sampleFormat(file.name);
    if (!format) {
      setUploadError({ table, error: new Error(`${file.name} is not a sample: upload a .csv file (a header row first) or a .jsonl file (a JSON object a line).`) });
      return;
    }
    setUploading(table);
    try {
      const content = await file.text();
      const created = await call(api.POST('/projects/{project_id}/debug-samples', { params: { path }, body: { name: file.name, format, content } }));
      await samples.reload();
      setChosen((c) => ({ ...c, [table]: created.id }));
    } catch (e) {
      setUploadError({ table, error: e });
    } finally {
      setUploading(undefined);
    }
  };

  /** Deletes a sample of the project; the tables that read it here read live again. */
  const remove = async (sampleId: string) => {
    setRemoveError(undefined);
    setRemoving(true);
    try {
      await call(api.DELETE('/projects/{project_id}/debug-samples/{sample_id}', { params: { path: { ...path, sample_id: sampleId } } }));
    } catch (e) {
      // Gone already (deleted from elsewhere): the list is refreshed all the same.
      if (!(e instanceof ApiError && e.status === 404)) {
        setRemoveError(e);
        setRemoving(false);
        return;
      }
    }
    setChosen((c) => Object.fromEntries(Object.entries(c).filter(([, id]) => id !== sampleId)));
    setConfirming(undefined);
    await samples.reload();
    setRemoving(false);
  };

  const addNamed = () => {
    const name = naming.trim();
    if (name && !sources.some((t) => t.name === name)) setNamed((n) => [...n, name]);
    setNaming('');
  };

  const settings = (): DebugSettings => ({ samples: chosen, recordLimit, timeLimit, clusterId });

  return (
    <FormDialog
      title="Debug the draft"
      wide
      form
      formTestId="debug-form"
      submitLabel="Start"
      busyLabel="Starting…"
      disabled={uploading !== undefined || removing}
      fields={['record_limit', 'time_limit_seconds']}
      onClose={onClose}
      onSubmit={async () => {
        const body: DebugRequest = {
          sources: Object.fromEntries(sources.flatMap((t) => (sampleOf(t.name) ? [[t.name, { sample_id: sampleOf(t.name)!.id }]] : []))),
        };
        const records = wholeNumber('record_limit', recordLimit, 'The record limit');
        const seconds = wholeNumber('time_limit_seconds', timeLimit, 'The time limit');
        if (records !== undefined) body.record_limit = records;
        if (seconds !== undefined) body.time_limit_seconds = seconds;
        if (clusterId) body.cluster_id = clusterId;
        const started = await startDebugRun(projectId, jobId, body);
        if ('run' in started) onStarted(started.run, settings());
        else onRefused(started.refused, settings());
      }}
    >
      {(error) => (
        <>
          <p className="muted" style={{ marginTop: 0 }}>
            The saved draft runs on a session cluster with its sinks replaced by a capture: nothing reaches them. Its results show under the editor as they come.
          </p>
          <h3 style={{ marginTop: 0 }}>Sources</h3>
          <ErrorNote error={samples.error} />
          {!sourcesListed && (
            <div className="alert info" data-testid="sources-unlisted">
              Sluice's reading of the script stopped at its errors before it listed the tables the script reads. Name each table to feed from a sample, as the script
              does; the others read live. Starting the run shows the errors in the script.
            </div>
          )}
          {sources.length === 0 ? (
            sourcesListed && (
              <div className="muted" style={{ marginBottom: 12 }}>
                The script reads no tables.
              </div>
            )
          ) : (
            <table className="list inner" data-testid="debug-sources">
              <thead>
                <tr>
                  <th>Table</th>
                  <th>Reads</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {sources.map((t) => {
                  const sample = sampleOf(t.name);
                  return (
                    <tr key={t.name}>
                      <td>
                        <span className="mono">{t.name}</span>
                        {t.connector && <span className="muted small"> ({t.connector})</span>}
                      </td>
                      <td>
                        <select
                          aria-label={`Input of ${t.name}`}
                          value={sample?.id ?? ''}
                          onChange={(e) => setChosen((c) => ({ ...c, [t.name]: e.target.value }))}
                          style={{ maxWidth: 360 }}
                        >
                          <option value="">Live{t.connector ? ` (${t.connector})` : ''}</option>
                          {(samples.data ?? []).map((s) => (
                            <option key={s.id} value={s.id}>
                              Sample: {s.name} ({s.row_count} {s.row_count === 1 ? 'row' : 'rows'})
                            </option>
                          ))}
                        </select>
                        {sample && <div className="muted small">Columns: {sample.columns.join(', ')}</div>}
                        {uploadError?.table === t.name && <ErrorNote error={uploadError.error} />}
                      </td>
                      <td className="num">
                        <input
                          id={`debug-sample-${t.name}`}
                          type="file"
                          hidden
                          accept=".csv,.jsonl,.ndjson"
                          aria-label={`Sample file for ${t.name}`}
                          onChange={(e) => {
                            const f = e.target.files?.[0];
                            e.target.value = '';
                            if (f) void upload(t.name, f);
                          }}
                        />
                        <button
                          type="button"
                          className="small"
                          disabled={uploading !== undefined}
                          // Its name starts with what it shows.
                          aria-label={`${uploading === t.name ? 'Uploading' : 'Upload'} sample for ${t.name}`}
                          title="A .csv file (a header row naming the columns first) or a .jsonl file (a JSON object a line); its name becomes the sample's"
                          onClick={() => document.getElementById(`debug-sample-${t.name}`)?.click()}
                        >
                          {uploading === t.name ? 'Uploading…' : 'Upload sample…'}
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {!sourcesListed && (
            <div className="row" style={{ marginTop: 8 }}>
              <input
                aria-label="Source table name"
                placeholder="table name"
                value={naming}
                onChange={(e) => setNaming(e.target.value)}
                onKeyDown={(e) => {
                  // Enter adds the table rather than starting the run.
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    addNamed();
                  }
                }}
              />
              <button type="button" onClick={addNamed} disabled={!naming.trim()}>
                Add table
              </button>
            </div>
          )}
          {(samples.data?.length ?? 0) > 0 && (
            <>
              <h3 style={{ marginTop: 16 }}>Samples of the project</h3>
              <table className="list inner" data-testid="debug-samples" aria-label="Samples of the project">
                <thead>
                  <tr>
                    <th>Sample</th>
                    <th>Columns</th>
                    <th className="num">Rows</th>
                    <th className="num">Size</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {samples.data!.map((s) => (
                    <tr key={s.id}>
                      <td className="mono">{s.name}</td>
                      <td className="small">{s.columns.join(', ')}</td>
                      <td className="num">{s.row_count}</td>
                      <td className="num">{formatBytes(s.size_bytes)}</td>
                      <td className="num">
                        {confirming === s.id ? (
                          <div className="row" role="group" aria-label={`Delete ${s.name}?`} style={{ justifyContent: 'flex-end' }}>
                            <span className="small">Delete it for every draft of the project?</span>
                            <button type="button" className="small danger solid" disabled={removing} onClick={() => void remove(s.id)}>
                              {removing ? 'Deleting…' : 'Delete'}
                            </button>
                            <button type="button" className="small" disabled={removing} onClick={() => (setConfirming(undefined), setRemoveError(undefined))}>
                              Keep
                            </button>
                          </div>
                        ) : (
                          <button
                            type="button"
                            className="small danger"
                            disabled={removing || uploading !== undefined}
                            aria-label={`Delete sample ${s.name}`}
                            title="Delete the sample from the project: no debug run reads it afterwards, and a table reading it here reads live"
                            onClick={() => (setConfirming(s.id), setRemoveError(undefined))}
                          >
                            Delete…
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <ErrorNote error={removeError} />
            </>
          )}
          <div className="fields-2" style={{ marginTop: 12 }}>
            <Field label="Record limit" error={fieldError(error, 'record_limit')} hint="Records captured before the run stops, all statements together. Empty: the server's limit.">
              {(p) => <input {...p} inputMode="numeric" value={recordLimit} onChange={(e) => setRecordLimit(e.target.value)} placeholder="server's limit" />}
            </Field>
            <Field label="Time limit (seconds)" error={fieldError(error, 'time_limit_seconds')} hint="How long the run may last. Empty: the server's limit.">
              {(p) => <input {...p} inputMode="numeric" value={timeLimit} onChange={(e) => setTimeLimit(e.target.value)} placeholder="server's limit" />}
            </Field>
          </div>
          <Field
            label="Session cluster"
            hint={
              clusters.data && sessionClusters.length === 0
                ? 'No cluster takes debug runs yet: an account admin marks one as a session cluster.'
                : 'Debug runs go only to a cluster marked for debug sessions.'
            }
          >
            {(p) => (
              <select {...p} value={clusterId} onChange={(e) => setClusterId(e.target.value)}>
                <option value="">Default{fallback ? `: ${fallback.name}` : ": the project's cluster, else the platform's"}</option>
                {sessionClusters.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name} (Flink {c.flink_version})
                  </option>
                ))}
              </select>
            )}
          </Field>
        </>
      )}
    </FormDialog>
  );
}

const STOP_REASONS: Record<string, string> = {
  record_limit: 'record limit reached',
  time_limit: 'time limit reached',
  input_exhausted: 'input exhausted',
  cancelled: 'cancelled',
  abandoned: 'abandoned (nobody read its results for 30 seconds)',
  interrupted: 'interrupted (the Sluice server running it stopped)',
};

/** Why a run stopped, in words. */
export function stopReasonText(run: Pick<DebugRun, 'stop_reason' | 'error'>): string {
  const reason = run.stop_reason ?? '';
  if (reason === 'failed') return `failed: ${run.error ?? 'the engine gave no reason'}`;
  return STOP_REASONS[reason] ?? reason;
}

/** "Statement 2 · INSERT INTO big_orders" or "Statement 4 · SELECT". */
export function resultHeading(r: DebugResult): string {
  return `Statement ${r.statement} · ${r.table ? `INSERT INTO ${r.table}` : 'SELECT'}`;
}

const KINDS: Record<string, string> = {
  '+I': 'insert',
  '-U': 'update: the row before',
  '+U': 'update: the row after',
  '-D': 'delete',
};

const kindClass = (kind: string) => (kind === '-U' || kind === '-D' ? 'retract' : kind === '+U' ? 'update-after' : undefined);

export function DebugPanel({ control, canDebug }: { control: DebugRunControl; canDebug: boolean }) {
  const { state, stop, stopping } = control;
  const byTarget = useMemo(() => {
    const m = new Map<string, DebugRow[]>();
    for (const r of state?.rows ?? []) {
      const list = m.get(r.target);
      if (list) list.push(r);
      else m.set(r.target, [r]);
    }
    return m;
  }, [state?.rows]);
  if (!state)
    return (
      <div className="panel-body muted">
        {canDebug
          ? 'Debug runs the draft on a session cluster, each source live or from a sample, and shows what each statement produces. Nothing reaches its sinks.'
          : 'Editors of this project debug its SQL drafts.'}
      </div>
    );
  const { run, error } = state;
  const ended = run.status === 'ended';
  const counts = `${run.records} ${run.records === 1 ? 'record' : 'records'} of at most ${run.record_limit} · time limit ${run.time_limit_seconds} s`;
  return (
    <div className="panel-body" data-testid="debug-run">
      <div className="row wrap" style={{ marginBottom: 8 }}>
        <Badge value={run.status} title="The run's status" />
        {ended ? (
          run.stop_reason === 'failed' ? null : (
            <span data-testid="debug-outcome">Ended: {stopReasonText(run)}</span>
          )
        ) : (
          <span data-testid="debug-outcome">{run.status === 'stopping' ? 'Stopping…' : 'Running: rows appear as the engine sends them.'}</span>
        )}
        <span className="muted small" data-testid="debug-records">
          {counts}
        </span>
        <div className="spacer" />
        {!ended && (
          <button onClick={() => void stop()} disabled={stopping || run.status === 'stopping'} title="Stop the run now: its engine job is cancelled">
            {stopping ? 'Stopping…' : 'Stop'}
          </button>
        )}
      </div>
      {ended && run.stop_reason === 'failed' && (
        <div className="alert error" role="alert" data-testid="debug-outcome" style={{ whiteSpace: 'pre-wrap' }}>
          Ended: {stopReasonText(run)}
        </div>
      )}
      <ErrorNote error={error} />
      {run.results.map((r) => (
        <ResultTable key={r.target} result={r} rows={byTarget.get(r.target) ?? []} ended={ended} />
      ))}
      {run.results.length === 0 && <div className="muted">{ended ? 'The run produced no results.' : 'Starting on the cluster…'}</div>}
    </div>
  );
}

function ResultTable({ result, rows, ended }: { result: DebugResult; rows: DebugRow[]; ended: boolean }) {
  const heading = resultHeading(result);
  const headingId = useId();
  return (
    <section className="debug-result" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {heading} <span className="muted small">· {rows.length} {rows.length === 1 ? 'row' : 'rows'}</span>
      </h3>
      <table className="list debug-rows" aria-label={heading}>
        <thead>
          <tr>
            <th title="The change each row is: +I insert, -U / +U an update's old and new row, -D delete">Change</th>
            {result.columns.map((c, i) => (
              <th key={i}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.seq} className={kindClass(r.kind)} data-kind={r.kind}>
              <td className="kind mono" title={KINDS[r.kind] ?? r.kind}>
                {r.kind}
              </td>
              {r.values.map((v, i) => (
                <td key={i} className="mono">
                  {v ?? <span className="null">null</span>}
                </td>
              ))}
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={result.columns.length + 1} className="empty muted">
                {ended ? 'No rows.' : 'Waiting for rows…'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
