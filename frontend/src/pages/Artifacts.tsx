// A project's artifacts: JARs, zips and Python files that JAR jobs and UDFs use.
// Uploads show real progress (XMLHttpRequest upload events) and the SHA-256 the server
// stored, checked against the one the browser computes from the same file.
import { useRef, useState } from 'react';
import { useParams } from 'react-router';
import { API_BASE, api, call, type Schemas } from '../api/client';
import { toast } from '../components/toast';
import { DataTable, pagedRows } from '../components/DataTable';
import { ConfirmDialog, ErrorNote, fieldError, formError, formatBytes } from '../components/ui';
import { formatTime } from '../lib/dates';
import { usePaged } from '../lib/hooks';
import { sha256Hex, uploadArtifact, type UploadProgress } from '../lib/upload';
import { useProject } from '../project';
import { atLeast } from '../session';

type Artifact = Schemas['Artifact'];

const ACCEPT = '.jar,.zip,.py';

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
  const input = useRef<HTMLInputElement>(null);
  const maxBytes = project.limits.artifact_bytes;

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

  const pct = uploading && uploading.progress.total > 0 ? Math.min(100, Math.round((uploading.progress.loaded / uploading.progress.total) * 100)) : 0;
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
                <button className="danger small" onClick={() => setDeleting(a)} aria-label={`Delete ${a.name}`}>
                  Delete
                </button>
              ),
          },
        ]}
      />
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          message="The file is removed for good. An artifact a job draft or saved version uses cannot be deleted: the API says which."
          confirmLabel="Delete artifact"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/projects/{project_id}/artifacts/{artifact_id}', { params: { path: { project_id: projectId, artifact_id: deleting.id } } }));
            await Promise.all([list.reload(), reloadProject()]);
          }}
        />
      )}
    </div>
  );
}
