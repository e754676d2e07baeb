// Who has which role in the project. People are added by email: a member of the
// account is added at once; anyone else is invited to the account and the project.
import { useState } from 'react';
import { useParams } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { toast } from '../components/toast';
import { DataTable, pagedRows } from '../components/DataTable';
import { ConfirmDialog, ErrorNote, Field, fieldError, formError } from '../components/ui';
import { formatTime } from '../lib/dates';
import { fetchAll, useLoad, usePaged } from '../lib/hooks';
import { useProject } from '../project';
import { atLeast, useSession, type ProjectRole } from '../session';

const ROLES: ProjectRole[] = ['viewer', 'editor', 'admin', 'owner'];

export function MembersPage() {
  const { projectId = '' } = useParams();
  const { role } = useProject();
  const { account } = useSession();
  const canManage = atLeast(role, 'admin');
  const canInvite = account.role === 'owner' || account.role === 'admin';
  const path = { project_id: projectId };
  const list = usePaged((cursor) => call(api.GET('/projects/{project_id}/members', { params: { path, query: { cursor } } })), [projectId]);
  const [email, setEmail] = useState('');
  const [newRole, setNewRole] = useState<ProjectRole>('viewer');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [removing, setRemoving] = useState<Schemas['ProjectMember']>();
  // Invitations into this project not yet accepted: only account admins can see them.
  const invitations = useLoad(async () => {
    if (!canInvite) return [];
    const all = await fetchAll((cursor) => call(api.GET('/account/invitations', { params: { query: { cursor } } })));
    return all.filter((i) => i.project_id === projectId && i.status === 'pending');
  }, [projectId, canInvite]);

  const add = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const wanted = email.trim().toLowerCase();
      const people = await fetchAll((cursor) => call(api.GET('/account/members', { params: { query: { cursor } } })));
      const person = people.find((m) => m.email.toLowerCase() === wanted);
      if (person) {
        await call(api.POST('/projects/{project_id}/members', { params: { path }, body: { user_id: person.user_id, role: newRole } }));
        toast(`${wanted} is now ${newRole} of this project`);
      } else if (canInvite) {
        await call(api.POST('/account/invitations', { body: { email: wanted, role: 'member', project_id: projectId, project_role: newRole } }));
        toast(`Invited ${wanted}: they join as ${newRole} when they first sign in`);
      } else {
        throw new Error(`${wanted} is not a member of this account. An account admin can invite them.`);
      }
      setEmail('');
      await Promise.all([list.reload(), invitations.reload()]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>Members</h1>
      </div>
      {canManage && (
        <form className="card" onSubmit={(e) => (e.preventDefault(), void add())} style={{ marginBottom: 16 }}>
          <div className="row" style={{ alignItems: 'flex-start' }}>
            <div style={{ flex: 1 }}>
              <Field label="Email" error={fieldError(error, 'email') ?? fieldError(error, 'user_id')}>
                {(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="person@example.com" style={{ width: '100%' }} />}
              </Field>
            </div>
            <Field label="Role" error={fieldError(error, 'role') ?? fieldError(error, 'project_role')}>
              {(p) => (
                <select {...p} value={newRole} onChange={(e) => setNewRole(e.target.value as ProjectRole)}>
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              )}
            </Field>
            <div style={{ paddingTop: 22 }}>
              <button className="primary" disabled={busy || !email.trim()}>
                Add
              </button>
            </div>
          </div>
          <ErrorNote error={formError(error, ['email', 'user_id', 'role', 'project_role'])} />
        </form>
      )}
      <DataTable
        {...pagedRows(list)}
        testId="members"
        rowKey={(m) => m.user_id}
        columns={[
          {
            header: 'Person',
            cell: (m) => (
              <>
                {m.display_name} <span className="muted">{m.email}</span>
              </>
            ),
          },
          {
            header: 'Role',
            cell: (m) =>
              canManage ? (
                <select
                  aria-label={`Role of ${m.email}`}
                  value={m.role}
                  onChange={async (e) => {
                    try {
                      await call(
                        api.PATCH('/projects/{project_id}/members/{user_id}', {
                          params: { path: { project_id: projectId, user_id: m.user_id } },
                          body: { role: e.target.value as ProjectRole },
                        }),
                      );
                      await list.reload();
                    } catch (err) {
                      setError(err);
                    }
                  }}
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              ) : (
                <span className="badge role">{m.role}</span>
              ),
          },
          { header: 'Added', className: 'muted', cell: (m) => formatTime(m.added_at) },
          {
            num: true,
            cell: (m) =>
              canManage && (
                <button className="danger small" onClick={() => setRemoving(m)}>
                  Remove
                </button>
              ),
          },
        ]}
      />
      {(invitations.data?.length ?? 0) > 0 && (
        <>
          <h2>Invited, not signed in yet</h2>
          <DataTable
            rows={invitations.data!}
            testId="invitations"
            rowKey={(i) => i.id}
            columns={[
              { header: 'Email', cell: (i) => i.email },
              { header: 'Role', cell: (i) => <span className="badge role">{i.project_role}</span> },
              { header: 'Expires', className: 'muted', cell: (i) => formatTime(i.expires_at) },
              {
                num: true,
                cell: (i) => (
                  <button
                    className="small"
                    onClick={async () => {
                      try {
                        await call(api.DELETE('/account/invitations/{invitation_id}', { params: { path: { invitation_id: i.id } } }));
                        await invitations.reload();
                      } catch (e) {
                        setError(e);
                      }
                    }}
                  >
                    Revoke
                  </button>
                ),
              },
            ]}
          />
        </>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.email}?`}
          message="They lose access to this project at once."
          confirmLabel="Remove"
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await call(api.DELETE('/projects/{project_id}/members/{user_id}', { params: { path: { project_id: projectId, user_id: removing.user_id } } }));
            await list.reload();
          }}
        />
      )}
    </div>
  );
}
