// A project's artifacts: JARs, zips and Python files that JAR jobs and UDFs use.
// Uploads show real progress (XMLHttpRequest upload events) and the SHA-256 the server
// stored, checked against the one the browser computes from the same file.
// A JAR registered as a UDF artifact lists the functions the server found in it (each
// callable by name from the project's SQL jobs); it can be read again or unregistered.
// An artifact's content can be replaced by a file of the same kind: its name, id and the
// jobs using it stay, and a UDF artifact's functions are read again from the new file.
import { useMemo, useRef, useState } from 'react';
import { useParams } from 'react-router';
import { API_BASE, ApiError, api, call, errorMessage, type Schemas } from '../api/client';
import { toast } from '../components/toast';
import { DataTable, pagedRows } from '../components/DataTable';
import { ConfirmDialog, ErrorNote, fieldError, formError, formatBytes } from '../components/ui';
import { formatTime } from '../lib/dates';
import { useLoad, usePaged } from '../lib/hooks';
import { replaceArtifactContent, sha256Hex, uploadArtifact, type UploadProgress } from '../lib/upload';
import { useProject } from '../project';
import { atLeast } from '../session';

type Artifact = Schemas['Artifact'];
type Func = Schemas['Function'];

/**
 * The API's own words. Its refusals here name the artifact path parameter as their
 * field, which says nothing to someone looking at the artifact's row.
 */
const apiMessage = (e: unknown) => (e instanceof ApiError ? e.detail.message : errorMessage(e));

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

const ACCEPT = '.jar,.zip,.py';
/** What a replacement may be: a file of the artifact's own kind. */
const ACCEPT_KIND: Record<string, string> = { jar: '.jar', zip: '.zip', python: '.py' };

const percent = (p: UploadProgress) => (p.total > 0 ? Math.min(100, Math.round((p.loaded / p.total) * 100)) : 0);

interface Uploading {
  file: File;
  progress: UploadProgress;
  abort: () => void;
}

export function ArtifactsPage() {
  const { projectId = '' } = useParams();
  const { project, role, reload: reloadProject } = useProject();
  const canWrite = atLeast(role, 'editor');
  const list = usePaged(
    (cursor) => call(api.GET('/projects/{project_id}/artifacts', { params: { path: { project_id: projectId }, query: { cursor } } })),
    [projectId],
  );
  const [uploading, setUploading] = useState<Uploading>();
  const [error, setError] = useState<unknown>();
  const [last, setLast] = useState<{ artifact: Artifact; local?: string }>();
  const [deleting, setDeleting] = useState<Artifact>();
  // Registered functions of the whole project, one request, shown per artifact.
  const functions = useLoad(
    async () => (await call(api.GET('/projects/{project_id}/functions', { params: { path: { project_id: projectId } } }))).items,
    [projectId],
  );
  const byArtifact = useMemo(() => {
    const m = new Map<string, Func[]>();
    for (const f of functions.data ?? []) m.set(f.artifact_id, [...(m.get(f.artifact_id) ?? []), f]);
    return m;
  }, [functions.data]);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [reading, setReading] = useState<string>();
  const [rowErrors, setRowErrors] = useState<Record<string, unknown>>({});
  const [unregistering, setUnregistering] = useState<Artifact>();
  // One replacement at a time, shown in its artifact's row.
  const [replacing, setReplacing] = useState<Uploading & { id: string }>();
  const [replaced, setReplaced] = useState<Record<string, { artifact: Artifact; local?: string }>>({});
  const toggle = (id: string, open?: boolean) =>
    setExpanded((old) => {
      const next = new Set(old);
      if (open ?? !next.has(id)) next.add(id);
      else next.delete(id);
      return next;
    });

  /** Registers a JAR as a UDF artifact, or reads it again; shows what was found. */
  const register = async (a: Artifact) => {
    setReading(a.id);
    setRowErrors(({ [a.id]: _, ...rest }) => rest);
    try {
      const res = await call(
        api.PUT('/projects/{project_id}/artifacts/{artifact_id}/functions', { params: { path: { project_id: projectId, artifact_id: a.id } } }),
      );
      toast(`${a.name}: ${plural(res.functions.length, 'function')} registered`);
      await functions.reload();
      toggle(a.id, true);
    } catch (e) {
      setRowErrors((old) => ({ ...old, [a.id]: e }));
    } finally {
      setReading(undefined);
    }
  };
  const input = useRef<HTMLInputElement>(null);
  const maxBytes = project.limits.artifact_bytes;

  /** Sends `file` as the new content of `a`; the row shows progress, then the outcome. */
  const replace = (a: Artifact, file: File) => {
    setRowErrors(({ [a.id]: _, ...rest }) => rest);
    setReplaced(({ [a.id]: _, ...rest }) => rest);
    if (maxBytes && file.size > maxBytes) {
      setRowErrors((old) => ({ ...old, [a.id]: new Error(`${file.name} is ${formatBytes(file.size)}; an artifact may be at most ${formatBytes(maxBytes)}.`) }));
      return;
    }
    const wasUdf = byArtifact.has(a.id);
    const local = sha256Hex(file);
    const up = replaceArtifactContent(projectId, a.id, file, (progress) => setReplacing((r) => (r ? { ...r, progress } : r)));
    setReplacing({ id: a.id, file, progress: { loaded: 0, total: file.size }, abort: up.abort });
    up.done
      .then(async (artifact) => {
        const l = await local;
        setReplaced((old) => ({ ...old, [a.id]: { artifact, local: l } }));
        toast(`Replaced the content of ${artifact.name}`);
        await Promise.all([list.reload(), reloadProject(), wasUdf ? functions.reload() : undefined]);
      })
      .catch((e) => setRowErrors((old) => ({ ...old, [a.id]: e })))
      .finally(() => setReplacing(undefined));
  };

  const start = (file: File) => {
    setError(undefined);
    setLast(undefined);
    if (maxBytes && file.size > maxBytes) {
      setError(new Error(`${file.name} is ${formatBytes(file.size)}; an artifact may be at most ${formatBytes(maxBytes)}.`));
      return;
    }
    const local = sha256Hex(file);
    const up = uploadArtifact(projectId, file, (progress) => setUploading((u) => (u ? { ...u, progress } : u)));
    setUploading({ file, progress: { loaded: 0, total: file.size }, abort: up.abort });
    up.done
      .then(async (artifact) => {
        setLast({ artifact, local: await local });
        toast(`Uploaded ${artifact.name}`);
        await Promise.all([list.reload(), reloadProject()]);
      })
      .catch((e) => setError(e))
      .finally(() => {
        setUploading(undefined);
        if (input.current) input.current.value = '';
      });
  };

  const pct = uploading ? percent(uploading.progress) : 0;
  const fileError = fieldError(error, 'file') ?? fieldError(error, 'file.filename');
  return (
    <div className="page">
      <div className="page-head">
        <h1>Artifacts</h1>
        <div className="spacer" />
        <span className="muted small">
          {project.usage.artifacts} / {project.limits.artifacts_per_project} artifacts · at most {formatBytes(maxBytes)} each
        </span>
      </div>
      {canWrite && (
        <div className="card upload" style={{ marginBottom: 16 }}>
          <div className="field">
            <label className="label" htmlFor="artifact-file">
              Upload a file
            </label>
            <div className="row">
              <input
                id="artifact-file"
                ref={input}
                type="file"
                accept={ACCEPT}
                disabled={!!uploading}
                aria-invalid={!!fileError}
                aria-describedby={fileError ? 'artifact-file-error' : undefined}
                onChange={(e) => {
                  const f = e.target.files?.[0];
                  if (f) start(f);
                }}
              />
              <span className="muted small">.jar, .zip (checked to be a real archive) or .py; the file name becomes the artifact’s name.</span>
            </div>
            {fileError && (
              <div className="field-error" id="artifact-file-error" role="alert">
                {fileError}
              </div>
            )}
          </div>
          {uploading && (
            <div className="upload-progress" data-testid="upload-progress">
              <div className="row">
                <span>{uploading.file.name}</span>
                <span className="muted small">
                  {formatBytes(uploading.progress.loaded)} of {formatBytes(uploading.progress.total)} · {pct}%
                </span>
                <div className="spacer" />
                <button className="small" onClick={uploading.abort}>
                  Cancel
                </button>
              </div>
              <div className="progress-bar" role="progressbar" aria-label={`Uploading ${uploading.file.name}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
                <div style={{ width: pct + '%' }} />
              </div>
              {pct === 100 && <div className="muted small">Sent; the server is checking and storing it…</div>}
            </div>
          )}
          <ErrorNote error={formError(error, ['file', 'file.filename'])} />
          {last && (
            <div className="alert ok" data-testid="upload-done">
              Uploaded <strong>{last.artifact.name}</strong> ({formatBytes(last.artifact.size_bytes)}). SHA-256{' '}
              <code>{last.artifact.sha256}</code>
              {last.local && (last.local === last.artifact.sha256 ? ' — matches the file you chose.' : ` — differs from the file you chose (${last.local})!`)}
            </div>
          )}
        </div>
      )}
      <ErrorNote error={functions.error} />
      <DataTable
        {...pagedRows(list)}
        testId="artifacts"
        rowKey={(a) => a.id}
        empty="No artifacts yet."
        columns={[
          {
            header: 'Name',
            cell: (a) => (
              <a href={`${API_BASE}/projects/${encodeURIComponent(projectId)}/artifacts/${encodeURIComponent(a.id)}/content`} download={a.name}>
                {a.name}
              </a>
            ),
          },
          { header: 'Kind', cell: (a) => <span className="badge">{a.kind}</span> },
          {
            header: 'Functions',
            cell: (a) => {
              const fs = byArtifact.get(a.id);
              if (a.kind !== 'jar') return null;
              if (!fs) return <span className="muted small">{functions.loading || functions.error ? '…' : 'Not a UDF artifact'}</span>;
              return (
                <button
                  className="small ghost"
                  aria-expanded={expanded.has(a.id)}
                  aria-controls={`functions-${a.id}`}
                  aria-label={`Functions of ${a.name}`}
                  onClick={() => toggle(a.id)}
                >
                  {expanded.has(a.id) ? '▾' : '▸'} {plural(fs.length, 'function')}
                </button>
              );
            },
          },
          { header: 'Size', num: true, cell: (a) => formatBytes(a.size_bytes) },
          {
            header: 'SHA-256',
            cell: (a) => (
              <code className="sha" title={a.sha256}>
                {a.sha256}
              </code>
            ),
          },
          { header: 'Uploaded', className: 'muted', cell: (a) => formatTime(a.created_at) },
          {
            num: true,
            cell: (a) =>
              canWrite && (
                <div className="row" style={{ justifyContent: 'flex-end' }}>
                  {a.kind === 'jar' && (
                    <>
                      <button
                        className="small"
                        disabled={reading !== undefined}
                        onClick={() => void register(a)}
                        aria-label={`${byArtifact.has(a.id) ? 'Read again' : 'Register as UDF'}: ${a.name}`}
                        title={byArtifact.has(a.id) ? 'Read the JAR’s function classes again' : 'Read the JAR’s function classes and make them callable by name from SQL'}
                      >
                        {reading === a.id ? 'Reading…' : byArtifact.has(a.id) ? 'Read again' : 'Register as UDF'}
                      </button>
                      {byArtifact.has(a.id) && (
                        <button className="small" onClick={() => setUnregistering(a)} aria-label={`Unregister ${a.name}`}>
                          Unregister
                        </button>
                      )}
                    </>
                  )}
                  <input
                    id={`replace-${a.id}`}
                    type="file"
                    hidden
                    accept={ACCEPT_KIND[a.kind] ?? ACCEPT}
                    aria-label={`New content for ${a.name}`}
                    onChange={(e) => {
                      const f = e.target.files?.[0];
                      e.target.value = '';
                      if (f) replace(a, f);
                    }}
                  />
                  <button
                    className="small"
                    disabled={replacing !== undefined}
                    onClick={() => document.getElementById(`replace-${a.id}`)?.click()}
                    aria-label={`Replace ${a.name}`}
                    title={`Upload a new ${ACCEPT_KIND[a.kind] ?? ''} file as the content of ${a.name}; its name and the jobs using it stay`}
                  >
                    {replacing?.id === a.id ? 'Replacing…' : 'Replace…'}
                  </button>
                  <button className="danger small" onClick={() => setDeleting(a)} aria-label={`Delete ${a.name}`}>
                    Delete
                  </button>
                </div>
              ),
          },
        ]}
        detail={(a) => {
          const fs = byArtifact.get(a.id);
          const err = rowErrors[a.id];
          const up = replacing?.id === a.id ? replacing : undefined;
          const done = replaced[a.id];
          if (!err && !up && !done && !(fs && expanded.has(a.id))) return null;
          return (
            <tr className="detail-row">
              <td colSpan={7}>
                {up && (
                  <div className="upload-progress" data-testid={`replace-progress-${a.id}`}>
                    <div className="row">
                      <span>
                        {up.file.name} → {a.name}
                      </span>
                      <span className="muted small">
                        {formatBytes(up.progress.loaded)} of {formatBytes(up.progress.total)} · {percent(up.progress)}%
                      </span>
                      <div className="spacer" />
                      <button className="small" onClick={up.abort}>
                        Cancel
                      </button>
                    </div>
                    <div
                      className="progress-bar"
                      role="progressbar"
                      aria-label={`Replacing ${a.name}`}
                      aria-valuemin={0}
                      aria-valuemax={100}
                      aria-valuenow={percent(up.progress)}
                    >
                      <div style={{ width: percent(up.progress) + '%' }} />
                    </div>
                    {percent(up.progress) === 100 && (
                      <div className="muted small">Sent; the server is checking and storing it{fs ? ' and reading its functions again' : ''}…</div>
                    )}
                  </div>
                )}
                {err !== undefined && (
                  <div className="alert error" role="alert">
                    {a.name}: {apiMessage(err)}
                  </div>
                )}
                {done && (
                  <div className="alert ok" data-testid={`replaced-${a.id}`}>
                    New content of <strong>{a.name}</strong> ({formatBytes(done.artifact.size_bytes)}). SHA-256 <code>{done.artifact.sha256}</code>
                    {done.local && (done.local === done.artifact.sha256 ? ' — matches the file you chose.' : ` — differs from the file you chose (${done.local})!`)}
                  </div>
                )}
                {fs && expanded.has(a.id) && <FunctionsTable id={`functions-${a.id}`} artifact={a} functions={fs} />}
              </td>
            </tr>
          );
        }}
      />
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          message="The file is removed for good. An artifact a job draft or saved version uses cannot be deleted: the API says which."
          confirmLabel="Delete artifact"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/projects/{project_id}/artifacts/{artifact_id}', { params: { path: { project_id: projectId, artifact_id: deleting.id } } }));
            await Promise.all([list.reload(), reloadProject(), functions.reload()]);
          }}
        />
      )}
      {unregistering && (
        <ConfirmDialog
          title={`Unregister the functions of ${unregistering.name}?`}
          message={
            <>
              {plural(byArtifact.get(unregistering.id)?.length ?? 0, 'function')} ({(byArtifact.get(unregistering.id) ?? []).map((f) => f.name).join(', ')}) can
              no longer be called by name. The JAR stays; register it again at any time. Refused while a deployment calls one: the API says which.
            </>
          }
          confirmLabel="Unregister"
          onClose={() => setUnregistering(undefined)}
          onConfirm={async () => {
            const a = unregistering;
            await call(api.DELETE('/projects/{project_id}/artifacts/{artifact_id}/functions', { params: { path: { project_id: projectId, artifact_id: a.id } } }));
            toggle(a.id, false);
            toast(`${a.name} is no longer a UDF artifact`);
            await functions.reload();
          }}
        />
      )}
    </div>
  );
}

/** The functions registered from one artifact: the name SQL calls, its kind, its class. */
function FunctionsTable({ id, artifact, functions }: { id: string; artifact: Artifact; functions: Func[] }) {
  return (
    <div id={id} className="functions">
      <div className="muted small" style={{ marginBottom: 4 }}>
        Called by name from any SQL job of the project; Sluice adds {artifact.name} to the job when it calls one.
      </div>
      <DataTable
        className="list inner"
        testId={`functions-${artifact.id}`}
        rows={functions}
        rowKey={(f) => f.name}
        columns={[
          { header: 'Name', cell: (f) => <code>{f.name}</code> },
          { header: 'Kind', cell: (f) => <span className="badge">{f.kind.replace(/_/g, ' ')}</span> },
          { header: 'Class', cell: (f) => <code>{f.class_name}</code> },
          { header: 'Registered', className: 'muted', cell: (f) => formatTime(f.registered_at) },
        ]}
      />
    </div>
  );
}
