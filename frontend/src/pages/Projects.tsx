import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { usePaged } from '../lib/hooks';
import { useSession } from '../session';
import { ConfirmDialog, Dialog, ErrorNote, Field, LoadMore, fieldError, formError } from '../components/ui';
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
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    try {
      const p = await call(api.POST('/projects', { body: { name, description } }));
      onCreated(p);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="New project"
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={busy || !name.trim()} onClick={() => void submit()}>
            Create
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="Name" error={fieldError(error, 'name')}>
          {(p) => <input {...p} autoFocus value={name} onChange={(e) => setName(e.target.value)} style={{ width: '100%' }} />}
        </Field>
        <Field label="Description" error={fieldError(error, 'description')}>
          {(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} style={{ width: '100%' }} />}
        </Field>
        <ErrorNote error={formError(error, ['name', 'description'])} />
      </form>
    </Dialog>
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
      <ErrorNote error={list.error} />
      <table className="list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.items.map((p) => (
            <tr key={p.id}>
              <td>
                <Link to={`/projects/${p.id}/jobs`}>{p.name}</Link>
              </td>
              <td className="muted">{p.description}</td>
              <td className="muted">{formatTime(p.created_at)}</td>
              <td className="num">
                {canManage && (
                  <button className="danger small" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
          {!list.loading && list.items.length === 0 && (
            <tr>
              <td colSpan={4} className="empty">
                No projects yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <LoadMore hasMore={list.hasMore} loading={list.loading} onMore={() => void list.loadMore()} />
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
