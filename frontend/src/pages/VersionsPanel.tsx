// Saved versions of a job: the list, a side-by-side diff against the draft or another
// version, and rollback (the draft becomes that version's content).
import { useState } from 'react';
import { api, call, type Schemas } from '../api/client';
import { DiffView } from '../components/DiffView';
import { DataTable } from '../components/DataTable';
import { ConfirmDialog, ErrorNote } from '../components/ui';
import { formatTime } from '../lib/dates';
import { useLoad } from '../lib/hooks';

type Version = Schemas['Version'];
type JobContent = Schemas['JobContent'];

/** What a version holds, as text both sides of a diff can show. */
export function contentText(c: JobContent): string {
  if (c.kind === 'sql') return c.sql;
  const entry = c.kind === 'jar' ? `entry_class: ${c.entry_class}\n` : '';
  return `artifact_id: ${c.artifact_id}\n${entry}args: ${JSON.stringify(c.args ?? [])}\n`;
}

export function VersionsPanel({
  projectId,
  jobId,
  draft,
  revision,
  canWrite,
  reloadKey,
  onRolledBack,
}: {
  projectId: string;
  jobId: string;
  /** The draft as the editor holds it now. */
  draft: JobContent;
  /** The draft's revision on the server: a rollback is an edit, checked by If-Match. */
  revision: number;
  canWrite: boolean;
  /** Changes when a version is saved, so the list reloads. */
  reloadKey: number;
  onRolledBack: (job: Schemas['Job']) => void;
}) {
  const versions = useLoad(
    () => call(api.GET('/projects/{project_id}/jobs/{job_id}/versions', { params: { path: { project_id: projectId, job_id: jobId } } })),
    [projectId, jobId, reloadKey],
  );
  const [selected, setSelected] = useState<number>();
  // The other side: another version, or the draft (undefined).
  const [against, setAgainst] = useState<number | undefined>();
  const [rollingBack, setRollingBack] = useState<Version>();
  const items = versions.data?.items ?? [];
  const sel = items.find((v) => v.version === selected);
  const other = against === undefined ? undefined : items.find((v) => v.version === against);

  return (
    <div className="panel-body" data-testid="versions-panel">
      <ErrorNote error={versions.error} />
      {items.length === 0 && !versions.loading && <div className="muted">No saved versions yet. “Save version” keeps the draft as version 1.</div>}
      {items.length > 0 && (
        <DataTable
          rows={items}
          rowKey={(v) => v.version}
          rowProps={(v) => ({ 'aria-selected': v.version === selected })}
          columns={[
            { header: 'Version', cell: (v) => `v${v.version}` },
            { header: 'Message', cell: (v) => v.message || <span className="muted">—</span> },
            { header: 'Saved', className: 'muted', cell: (v) => formatTime(v.created_at) },
            {
              num: true,
              cell: (v) => (
                <div className="row" style={{ justifyContent: 'flex-end' }}>
                  <button className="small" onClick={() => (setSelected(v.version), setAgainst(undefined))}>
                    Compare
                  </button>
                  {canWrite && (
                    <button className="small" onClick={() => setRollingBack(v)}>
                      Roll back
                    </button>
                  )}
                </div>
              ),
            },
          ]}
        />
      )}
      {sel && (
        <div style={{ marginTop: 12 }}>
          <div className="row" style={{ marginBottom: 8 }}>
            <strong>Compare v{sel.version} with</strong>
            <select
              aria-label="Compare with"
              value={against === undefined ? 'draft' : String(against)}
              onChange={(e) => setAgainst(e.target.value === 'draft' ? undefined : Number(e.target.value))}
            >
              <option value="draft">the current draft</option>
              {items
                .filter((v) => v.version !== sel.version)
                .map((v) => (
                  <option key={v.version} value={v.version}>
                    v{v.version}
                  </option>
                ))}
            </select>
            <div className="spacer" />
            <button className="small ghost" onClick={() => setSelected(undefined)}>
              Close
            </button>
          </div>
          <DiffView
            left={contentText(sel.content)}
            right={contentText(other ? other.content : draft)}
            leftLabel={`v${sel.version}`}
            rightLabel={other ? `v${other.version}` : 'Draft'}
          />
        </div>
      )}
      {rollingBack && (
        <ConfirmDialog
          title={`Roll back to v${rollingBack.version}?`}
          message={<p>The draft is replaced by version {rollingBack.version}'s content. Saved versions are kept; unsaved edits in the editor are lost.</p>}
          confirmLabel="Roll back"
          onClose={() => setRollingBack(undefined)}
          onConfirm={async () => {
            const job = await call(
              api.POST('/projects/{project_id}/jobs/{job_id}/rollback', {
                params: { path: { project_id: projectId, job_id: jobId }, header: { 'If-Match': `"${revision}"` } },
                body: { version: rollingBack.version },
              }),
            );
            onRolledBack(job);
          }}
        />
      )}
    </div>
  );
}
