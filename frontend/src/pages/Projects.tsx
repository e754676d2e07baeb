import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { usePaged } from '../lib/hooks';
import { useSession } from '../session';
import { DataTable, pagedRows } from '../components/DataTable';
import { ConfirmDialog, Field, FormDialog, fieldError } from '../components/ui';
import { formatTime } from '../lib/dates';

type Project = Schemas['Project'];

export function UsageMeter({ label, used, limit }: { label: string; used: number; limit: number }) {
  const pct = limit > 0 ? Math.min(100, (used / limit) * 100) : 0;
  return (
    <div className="item">
      <div className="muted small">{label}</div>
      <div className="n" data-testid={`usage-${label.toLowerCase()}`}>
        {used} / {limit} {label.toLowerCase()}
      </div>
      <div className={'meter' + (used >= limit ? ' full' : '')}>
        <div style={{ width: pct + '%' }} />
      </div>
    </div>
  );
}

function CreateProjectDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (p: Project) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  return (
    <FormDialog
      title="New project"
      onClose={onClose}
      submitLabel="Create"
      disabled={!name.trim()}
      form
      fields={['name', 'description']}
      onSubmit={async () => onCreated(await call(api.POST('/projects', { body: { name, description } })))}
    >
      {(error) => (
        <>
          <Field label="Name" error={fieldError(error, 'name')}>
            {(p) => <input {...p} autoFocus value={name} onChange={(e) => setName(e.target.value)} style={{ width: '100%' }} />}
          </Field>
          <Field label="Description" error={fieldError(error, 'description')}>
            {(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} style={{ width: '100%' }} />}
          </Field>
        </>
      )}
    </FormDialog>
  );
}

export function ProjectsPage() {
  const { account, reload: reloadSession } = useSession();
  const navigate = useNavigate();
  const list = usePaged((cursor) => call(api.GET('/projects', { params: { query: { cursor } } })), []);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Project>();
  const canManage = account.role === 'owner' || account.role === 'admin';
  return (
    <div className="page">
      <div className="page-head">
        <h1>Projects</h1>
        <div className="spacer" />
        {canManage && (
          <button className="primary" onClick={() => setCreating(true)}>
            New project
          </button>
        )}
      </div>
      <div className="usage">
        <UsageMeter label="Projects" used={account.usage.projects} limit={account.limits.projects_per_account} />
        <div className="item">
          <div className="muted small">Plan</div>
          <div className="n">{account.plan}</div>
        </div>
      </div>
      <DataTable
        {...pagedRows(list)}
        rowKey={(p) => p.id}
        empty="No projects yet."
        columns={[
          { header: 'Name', cell: (p) => <Link to={`/projects/${p.id}/jobs`}>{p.name}</Link> },
          { header: 'Description', className: 'muted', cell: (p) => p.description },
          { header: 'Created', className: 'muted', cell: (p) => formatTime(p.created_at) },
          {
            num: true,
            cell: (p) =>
              canManage && (
                <button className="danger small" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>
                  Delete
                </button>
              ),
          },
        ]}
      />
      {creating && (
        <CreateProjectDialog
          onClose={() => setCreating(false)}
          onCreated={(p) => {
            void reloadSession();
            navigate(`/projects/${p.id}/jobs`);
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          message={
            <p>
              The project <strong>{deleting.name}</strong>, its jobs, versions, connections and artifacts are deleted.
              This cannot be undone.
            </p>
          }
          confirmLabel="Delete project"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/projects/{project_id}', { params: { path: { project_id: deleting.id } } }));
            await Promise.all([list.reload(), reloadSession()]);
          }}
        />
      )}
    </div>
  );
}
