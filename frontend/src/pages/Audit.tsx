// The audit log: every mutation in the account (who, which project, which operation,
// outcome, request id), newest first. Account owners and admins read it; inside a
// project it is filtered to that project. People and projects show by name wherever the
// console knows them (in the request path too), their ids on hover; an id it cannot
// name (someone who left, a deleted project) stays as recorded.
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, call } from '../api/client';
import { DataTable, pagedRows } from '../components/DataTable';
import { formatTime, localInputToIso } from '../lib/dates';
import { fetchAll, useLoad, usePaged } from '../lib/hooks';
import { useSession } from '../session';

const OUTCOMES = ['success', 'denied', 'failed'];

/**
 * A request path with the projects and people it names written by name: the segment
 * after `projects` is a project id, the one after `members` a person's.
 */
export function AuditPath({ path, project, person }: {
  path: string;
  project: (id: string) => string | undefined;
  person: (id: string) => string | undefined;
}) {
  const segments = path.split('/');
  return (
    <>
      {segments.map((seg, i) => {
        const before = segments[i - 1];
        const name = before === 'projects' ? project(seg) : before === 'members' ? person(seg) : undefined;
        const what = before === 'projects' ? 'project' : 'user';
        return (
          <span key={i}>
            {i > 0 && '/'}
            {name ? (
              <span className="explained audit-name" title={`${what} id ${seg}`}>
                {name}
              </span>
            ) : (
              seg
            )}
          </span>
        );
      })}
    </>
  );
}

/** Waits until typing pauses, so a filter field does not ask for every keystroke. */
function useSettled(value: string, ms = 400): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

export function AuditPage() {
  const { projectId } = useParams();
  const { account } = useSession();
  const allowed = account.role === 'owner' || account.role === 'admin';
  const [actor, setActor] = useState('');
  const [actionText, setActionText] = useState('');
  const action = useSettled(actionText.trim());
  const [outcome, setOutcome] = useState('');
  const [project, setProject] = useState('');
  const projectFilter = projectId ?? project;
  // datetime-local values are the browser's local time; the API takes instants.
  const [fromLocal, setFromLocal] = useState('');
  const [toLocal, setToLocal] = useState('');
  const from = localInputToIso(fromLocal);
  const to = localInputToIso(toLocal);
  const members = useLoad(
    async () => (allowed ? fetchAll((cursor) => call(api.GET('/account/members', { params: { query: { cursor, limit: 200 } } }))) : []),
    [allowed],
  );
  const projects = useLoad(() => fetchAll((cursor) => call(api.GET('/projects', { params: { query: { cursor, limit: 200 } } }))), []);
  const list = usePaged(
    async (cursor) =>
      allowed
        ? call(
            api.GET('/account/audit', {
              params: {
                query: {
                  cursor,
                  actor_user_id: actor || undefined,
                  action: action || undefined,
                  outcome: outcome || undefined,
                  project_id: projectFilter || undefined,
                  from,
                  to,
                },
              },
            }),
          )
        : { items: [] },
    [allowed, actor, action, outcome, projectFilter, from, to],
  );
  const knownPerson = (id: string) => {
    const m = members.data?.find((x) => x.user_id === id);
    return m ? m.display_name || m.email : undefined;
  };
  const knownProject = (id: string) => projects.data?.find((p) => p.id === id)?.name;
  const person = (id: string) => knownPerson(id) ?? id;
  const projectName = (id: string) => knownProject(id) ?? id;

  if (!allowed) {
    return (
      <div className="page">
        <h1>Audit log</h1>
        <div className="card muted">
          The audit log is read by the account’s owners and admins; your role in this account is <strong>{account.role}</strong>.
        </div>
      </div>
    );
  }
  return (
    <div className="page">
      <div className="page-head">
        <h1>Audit log{projectId ? ` · ${projectName(projectId)}` : ''}</h1>
      </div>
      <div className="row wrap filters" role="search">
        <label className="row">
          <span className="muted">Actor</span>
          <select aria-label="Actor" value={actor} onChange={(e) => setActor(e.target.value)}>
            <option value="">Anyone</option>
            {(members.data ?? []).map((m) => (
              <option key={m.user_id} value={m.user_id}>
                {m.display_name || m.email}
              </option>
            ))}
          </select>
        </label>
        <label className="row">
          <span className="muted">Operation</span>
          <input aria-label="Operation" className="mono" placeholder="e.g. create_job" value={actionText} onChange={(e) => setActionText(e.target.value)} style={{ width: 180 }} />
        </label>
        <label className="row">
          <span className="muted">Outcome</span>
          <select aria-label="Outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">Any</option>
            {OUTCOMES.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </label>
        <label className="row">
          <span className="muted">From</span>
          <input type="datetime-local" aria-label="From" value={fromLocal} onChange={(e) => setFromLocal(e.target.value)} />
        </label>
        <label className="row">
          <span className="muted">To</span>
          <input type="datetime-local" aria-label="To" value={toLocal} onChange={(e) => setToLocal(e.target.value)} />
        </label>
        {!projectId && (
          <label className="row">
            <span className="muted">Project</span>
            <select aria-label="Project" value={project} onChange={(e) => setProject(e.target.value)}>
              <option value="">All projects</option>
              {(projects.data ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <div className="spacer" />
        <span className="muted small">Operations match exactly; newest first.</span>
      </div>
      <DataTable
        {...pagedRows(list)}
        testId="audit"
        rowKey={(e) => e.id}
        empty="Nothing recorded for these filters."
        columns={[
          { header: 'When', className: 'muted', cell: (e) => formatTime(e.created_at) },
          {
            header: 'Who',
            cell: (e) => (
              <>
                <button className="ghost small" title={`User id ${e.actor_user_id}. Show only this person.`} onClick={() => setActor(e.actor_user_id)}>
                  {person(e.actor_user_id)}
                </button>
                <div className="muted small mono">{e.actor_credential.startsWith('token:') ? 'API token' : 'signed in'}</div>
              </>
            ),
          },
          {
            header: 'Operation',
            cell: (e) => (
              <>
                <button className="ghost small mono" title="Show only this operation" onClick={() => setActionText(e.action)}>
                  {e.action}
                </button>
                <div className="muted small mono" data-testid="audit-path">
                  {e.method} <AuditPath path={e.path} project={knownProject} person={knownPerson} />
                </div>
              </>
            ),
          },
          {
            header: 'Outcome',
            cell: (e) => (
              <>
                <span className={'badge outcome-' + e.outcome}>{e.outcome}</span> <span className="muted small">{e.status}</span>
              </>
            ),
          },
          !projectId && {
            header: 'Project',
            cell: (e) =>
              e.project_id ? (
                <Link to={`/projects/${e.project_id}`} title={`Project id ${e.project_id}`}>
                  {projectName(e.project_id)}
                </Link>
              ) : (
                <span className="muted">account</span>
              ),
          },
          { header: 'Request', className: 'mono small muted', cell: (e) => e.request_id },
        ]}
      />
    </div>
  );
}
